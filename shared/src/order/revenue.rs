//! What each order counts in the revenue report, kept in `revenue_days` (one
//! row per pizzeria, Paris day, payment method and channel) by the very
//! transaction that changes the order, so the report reads a few thousand
//! summary rows instead of every order of its period.
//!
//! The rule, written once here (the report, its rebuild and the
//! reconciliation check read it): an order sold (its status one of
//! [`SOLD_STATUSES`]) counts one order, its `total_cents` and its `vat_cents`;
//! an order that ended without reaching its customer
//! ([`UNDELIVERED_STATUSES`]) counts what its succeeded euro charges took,
//! with its VAT in proportion, and is not an order sold; any other status
//! counts nothing. Refunds are taken off, each with its VAT in proportion: a
//! sold order's goodwill refunds (its total already left out what a reduction
//! gave back), and every counted refund (decided, on its way or made) of an
//! undelivered one. An order and its refunds belong to the Europe/Paris day on
//! which it was created.
//!
//! Each order keeps on its own row what it adds to its summary row (the
//! `revenue_*` columns: its share). [`recount`] computes the share from the
//! order as it is now, compares it with what the order added before and adds
//! the difference to the summary row: counting an order again changes nothing,
//! and whatever it added before, the summary ends up holding its share now.
//! Every writer of an order's status, totals, charges or refunds calls it in
//! its own transaction: `lifecycle::change_status` (every status after the
//! first), `lifecycle::replace_lines`, `money_rule::refund` and
//! `refund_whole_charge`, `settlement` (a payment applied or rejected, a
//! counter payment, a refund's status from Stripe) and `cash::record_at_door`.
//! A new order has nothing to compare with: checkout writes its share with
//! its row ([`share_of_new`]) and adds it with [`add`], without reading it.
//!
//! The order's row is the caller's, locked already; the summary row is shared
//! by every order of its pizzeria, day, method and channel, so it is written
//! once, last, by one `INSERT … ON DUPLICATE KEY UPDATE` adding the
//! difference (atomic: concurrent orders never lose each other's update), and
//! not at all when the share did not move (`placed → preparing → ready …`).

use crate::platform::ids::OrderId;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Paris;
use sqlx::{MySql, Transaction};

/// The statuses of an order that was sold: it counts its total.
pub const SOLD_STATUSES: [&str; 6] = [
    "placed",
    "preparing",
    "ready",
    "out_for_delivery",
    "delivered",
    "picked_up",
];

/// The statuses of an order that ended without reaching its customer: it
/// counts what it was paid, and is not an order sold.
pub const UNDELIVERED_STATUSES: [&str; 2] = ["failed_delivery", "no_show"];

/// Every status that counts.
pub const COUNTED_STATUSES: [&str; 8] = [
    SOLD_STATUSES[0],
    SOLD_STATUSES[1],
    SOLD_STATUSES[2],
    SOLD_STATUSES[3],
    SOLD_STATUSES[4],
    SOLD_STATUSES[5],
    UNDELIVERED_STATUSES[0],
    UNDELIVERED_STATUSES[1],
];

/// Hands the SQL of an order's share, as five expressions over `orders o`
/// (orders, total, VAT, refunds, refunds' VAT), to the macro `$then`: the
/// compile-time checked queries take only literals, and the share must read
/// the same in [`recount`] and in the rebuild. The statuses are
/// [`SOLD_STATUSES`], [`UNDELIVERED_STATUSES`] and the money rule's
/// `COUNTED_REFUND_STATUSES`, spelt out (a test holds them to the constants).
/// Each expression is the one the report summed over the orders before the
/// summaries (`reporting::revenue::scan`), so the rounding is the same: the
/// VAT of a payment or a refund is rounded per order, and per refund.
macro_rules! share_of_o {
    ($then:ident) => {
        $then!(
            "CAST(CASE WHEN o.status IN ('placed', 'preparing', 'ready', 'out_for_delivery', 'delivered', 'picked_up') \
                THEN 1 ELSE 0 END AS SIGNED)",
            "CAST(CASE WHEN o.status IN ('placed', 'preparing', 'ready', 'out_for_delivery', 'delivered', 'picked_up') \
                THEN o.total_cents \
                WHEN o.status IN ('failed_delivery', 'no_show') THEN ( \
                SELECT COALESCE(SUM(c.amount_cents), 0) FROM payments c WHERE c.order_id = o.id \
                    AND c.kind = 'charge' AND c.status = 'succeeded' AND c.currency = 'eur') \
                ELSE 0 END AS SIGNED)",
            "CAST(CASE WHEN o.status IN ('placed', 'preparing', 'ready', 'out_for_delivery', 'delivered', 'picked_up') \
                THEN o.vat_cents \
                WHEN o.status IN ('failed_delivery', 'no_show') THEN ROUND(o.vat_cents * ( \
                SELECT COALESCE(SUM(c.amount_cents), 0) FROM payments c WHERE c.order_id = o.id \
                    AND c.kind = 'charge' AND c.status = 'succeeded' AND c.currency = 'eur') \
                / GREATEST(o.total_cents, 1)) \
                ELSE 0 END AS SIGNED)",
            "CAST(CASE WHEN o.status IN ('placed', 'preparing', 'ready', 'out_for_delivery', 'delivered', 'picked_up', \
                'failed_delivery', 'no_show') THEN ( \
                SELECT COALESCE(SUM(r.amount_cents), 0) FROM payments r WHERE r.order_id = o.id \
                    AND r.kind = 'refund' AND r.status IN ('requested', 'pending', 'requires_action', 'succeeded') \
                    AND r.currency = 'eur' AND (r.reason = 'goodwill' OR o.status IN ('failed_delivery', 'no_show'))) \
                ELSE 0 END AS SIGNED)",
            "CAST(CASE WHEN o.status IN ('placed', 'preparing', 'ready', 'out_for_delivery', 'delivered', 'picked_up', \
                'failed_delivery', 'no_show') THEN ( \
                SELECT COALESCE(SUM(ROUND(o.vat_cents * r.amount_cents / GREATEST(o.total_cents, 1))), 0) \
                FROM payments r WHERE r.order_id = o.id \
                    AND r.kind = 'refund' AND r.status IN ('requested', 'pending', 'requires_action', 'succeeded') \
                    AND r.currency = 'eur' AND (r.reason = 'goodwill' OR o.status IN ('failed_delivery', 'no_show'))) \
                ELSE 0 END AS SIGNED)"
        )
    };
}
pub(crate) use share_of_o;

/// What one order adds to its summary row, or a summary row's figures (the
/// columns of `revenue_days`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Share {
    /// 1 for an order sold, else 0.
    pub orders: i64,
    pub total_cents: i64,
    pub vat_cents: i64,
    pub refunds_cents: i64,
    pub refunds_vat_cents: i64,
}

impl Share {
    pub fn plus(self, other: Share) -> Share {
        Share {
            orders: self.orders + other.orders,
            total_cents: self.total_cents + other.total_cents,
            vat_cents: self.vat_cents + other.vat_cents,
            refunds_cents: self.refunds_cents + other.refunds_cents,
            refunds_vat_cents: self.refunds_vat_cents + other.refunds_vat_cents,
        }
    }

    pub fn minus(self, other: Share) -> Share {
        Share {
            orders: self.orders - other.orders,
            total_cents: self.total_cents - other.total_cents,
            vat_cents: self.vat_cents - other.vat_cents,
            refunds_cents: self.refunds_cents - other.refunds_cents,
            refunds_vat_cents: self.refunds_vat_cents - other.refunds_vat_cents,
        }
    }
}

impl std::fmt::Display for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} orders, {} cents (VAT {}), refunds {} cents (VAT {})",
            self.orders,
            self.total_cents,
            self.vat_cents,
            self.refunds_cents,
            self.refunds_vat_cents
        )
    }
}

/// The Paris calendar day of a UTC instant: the day an order counts on.
pub fn paris_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Paris).date_naive()
}

/// Counts the order as it is now, in the caller's transaction (after the
/// change that may move its share): its share is computed again, and the
/// difference with what it added before goes to its summary row. Nothing is
/// written when the share did not move. Returns whether it moved.
///
/// The order's row is read `FOR UPDATE` (the callers hold its lock already):
/// what it added before is the last committed, so two changes of one order
/// never apply the same difference twice. Its payments are read as the
/// money rule reads them, without locks.
pub async fn recount(tx: &mut Transaction<'_, MySql>, order: OrderId) -> Result<bool, sqlx::Error> {
    macro_rules! read {
        ($orders:literal, $total:literal, $vat:literal, $refunds:literal, $refunds_vat:literal) => {
            sqlx::query!(
                "SELECT o.pizzeria_id, o.created_at, o.payment_method, o.channel, \
                    o.revenue_orders, o.revenue_total_cents, o.revenue_vat_cents, \
                    o.revenue_refunds_cents, o.revenue_refunds_vat_cents, "
                    + $orders
                    + " AS `orders!: i64`, "
                    + $total
                    + " AS `total_cents!: i64`, "
                    + $vat
                    + " AS `vat_cents!: i64`, "
                    + $refunds
                    + " AS `refunds_cents!: i64`, "
                    + $refunds_vat
                    + " AS `refunds_vat_cents!: i64` \
                 FROM orders o WHERE o.id = ? FOR UPDATE",
                order.0
            )
        };
    }
    let Some(row) = share_of_o!(read).fetch_optional(&mut **tx).await? else {
        return Ok(false);
    };
    let before = Share {
        orders: row.revenue_orders,
        total_cents: row.revenue_total_cents,
        vat_cents: row.revenue_vat_cents,
        refunds_cents: row.revenue_refunds_cents,
        refunds_vat_cents: row.revenue_refunds_vat_cents,
    };
    let now = Share {
        orders: row.orders,
        total_cents: row.total_cents,
        vat_cents: row.vat_cents,
        refunds_cents: row.refunds_cents,
        refunds_vat_cents: row.refunds_vat_cents,
    };
    if now == before {
        return Ok(false);
    }
    sqlx::query!(
        "UPDATE orders SET revenue_orders = ?, revenue_total_cents = ?, revenue_vat_cents = ?, \
            revenue_refunds_cents = ?, revenue_refunds_vat_cents = ? WHERE id = ?",
        now.orders,
        now.total_cents,
        now.vat_cents,
        now.refunds_cents,
        now.refunds_vat_cents,
        order.0
    )
    .execute(&mut **tx)
    .await?;
    let delta = now.minus(before);
    add(
        tx,
        row.pizzeria_id,
        row.created_at.and_utc(),
        (&row.payment_method, &row.channel),
        delta,
    )
    .await?;
    Ok(true)
}

/// What a new order adds when it is created: an order sold counts one
/// order, its total and its VAT; any other status (a card order waiting for
/// its payment) counts nothing yet. A new order has no charge and no refund,
/// so this is what [`recount`] would compute from its row: checkout writes
/// it with the order's row (its `revenue_*` columns) and adds it to the
/// summary with [`add`], without reading the order back.
pub fn share_of_new(status: &str, total_cents: i64, vat_cents: i64) -> Share {
    if SOLD_STATUSES.contains(&status) {
        Share {
            orders: 1,
            total_cents,
            vat_cents,
            ..Share::default()
        }
    } else {
        Share::default()
    }
}

/// Adds `delta` to the summary row of the pizzeria's Paris day of
/// `created_at`, its payment method and channel (created with it when
/// missing). Nothing is written for a zero `delta`. The row is shared by
/// every order of that day, method and channel: callers write it last,
/// just before their commit.
pub async fn add(
    tx: &mut Transaction<'_, MySql>,
    pizzeria_id: i64,
    created_at: DateTime<Utc>,
    (payment_method, channel): (&str, &str),
    delta: Share,
) -> Result<(), sqlx::Error> {
    if delta == Share::default() {
        return Ok(());
    }
    let day = paris_day(created_at);
    // Adds to the row's own values (`VALUES()` is deprecated on MySQL 8 and
    // its replacement unknown to MariaDB: the difference is bound twice).
    sqlx::query!(
        "INSERT INTO revenue_days (pizzeria_id, day, payment_method, channel, \
            orders, total_cents, vat_cents, refunds_cents, refunds_vat_cents) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON DUPLICATE KEY UPDATE orders = orders + ?, total_cents = total_cents + ?, \
            vat_cents = vat_cents + ?, refunds_cents = refunds_cents + ?, \
            refunds_vat_cents = refunds_vat_cents + ?",
        pizzeria_id,
        day,
        payment_method,
        channel,
        delta.orders,
        delta.total_cents,
        delta.vat_cents,
        delta.refunds_cents,
        delta.refunds_vat_cents,
        delta.orders,
        delta.total_cents,
        delta.vat_cents,
        delta.refunds_cents,
        delta.refunds_vat_cents,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compile-time checked queries need literal SQL, so the share's
    /// expressions spell the statuses out: they must stay the constants'.
    #[test]
    fn the_share_spells_the_rule_as_its_constants() {
        macro_rules! all {
            ($($part:literal),+) => {
                [$($part),+].join(" ")
            };
        }
        let sql = share_of_o!(all);
        let list = |statuses: &[&str]| {
            let quoted: Vec<String> = statuses.iter().map(|s| format!("'{s}'")).collect();
            format!("IN ({})", quoted.join(", "))
        };
        let squeeze = |s: &str| -> String { s.split_whitespace().collect() };
        let sql = squeeze(&sql);
        // Sold: the order count, its total, its VAT.
        assert_eq!(sql.matches(&squeeze(&list(&SOLD_STATUSES))).count(), 3);
        // Counted: the refunds and their VAT.
        assert_eq!(sql.matches(&squeeze(&list(&COUNTED_STATUSES))).count(), 2);
        // Undelivered: the total and VAT paid, and which refunds count (twice).
        assert_eq!(
            sql.matches(&squeeze(&list(&UNDELIVERED_STATUSES))).count(),
            4
        );
        let refunds = squeeze(&format!(
            "r.status IN {}",
            crate::order::money_rule::COUNTED_REFUND_STATUSES
        ));
        assert_eq!(sql.matches(&refunds).count(), 2);
    }

    #[test]
    fn an_order_counts_on_its_paris_day() {
        let at = |s: &str| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
                .unwrap()
                .and_utc()
        };
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // Winter (UTC+1), summer (UTC+2), and the night of the change.
        assert_eq!(paris_day(at("2026-03-28 22:59:59")), day("2026-03-28"));
        assert_eq!(paris_day(at("2026-03-28 23:00:00")), day("2026-03-29"));
        assert_eq!(paris_day(at("2026-03-29 21:59:59")), day("2026-03-29"));
        assert_eq!(paris_day(at("2026-03-29 22:00:00")), day("2026-03-30"));
        assert_eq!(paris_day(at("2026-10-24 21:59:59")), day("2026-10-24"));
        assert_eq!(paris_day(at("2026-10-25 22:59:59")), day("2026-10-25"));
    }

    #[test]
    fn shares_add_and_subtract() {
        let a = Share {
            orders: 1,
            total_cents: 2500,
            vat_cents: 227,
            refunds_cents: 500,
            refunds_vat_cents: 45,
        };
        assert_eq!(a.minus(a), Share::default());
        assert_eq!(Share::default().plus(a).minus(Share::default()), a);
    }
}
