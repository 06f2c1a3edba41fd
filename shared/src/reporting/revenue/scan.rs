//! The report as it was counted before the summaries: every order of the
//! period read, its share summed in SQL (one `GROUP BY` per pizzeria over
//! the covering index `ix_orders_revenue`), its refunds from their own index.
//! It stays the reference the summaries are checked against (the
//! reconciliation check's `revenue-days`), and what the report reads while
//! no rebuild has finished (`revenue_rebuilds`): right after the deploy that
//! brought the summaries, before `ocpizza-admin revenue-rebuild`.
//!
//! Days are Europe/Paris calendar days while `created_at` is UTC. The server
//! may have no time-zone tables (`CONVERT_TZ` then answers NULL), and one
//! fixed offset for the whole period is wrong across a DST change. So the
//! offsets come from chrono-tz, in Rust: the period is cut at each change of
//! Paris's UTC offset, and the SQL adds to `created_at` the offset of its own
//! piece (a `CASE` over at most a few boundaries) before taking the `DATE`.
//! Plain SQL, portable to MySQL 8 and MariaDB 10.6+, exact on both sides of
//! a change, and it still groups by day in the database.

use super::{first_day, last_day, Period, Row, MAX_DAYS, MAX_PIECES};
use super::{COUNTED_STATUSES, SOLD_STATUSES, UNDELIVERED_STATUSES};
use crate::order::revenue::{paris_day, Share};
use chrono::{Duration, NaiveDate};
use sqlx::{MySqlConnection, MySqlPool};
use std::collections::{BTreeMap, BTreeSet};

/// One pizzeria's figures over `period`, per Paris day, payment method and
/// channel, counted from its orders (sales and refunds in rows of their own),
/// on one connection (the reconciliation check reads them and the summaries
/// in one snapshot).
pub(crate) async fn scan(
    db: &mut MySqlConnection,
    pizzeria: i64,
    period: &Period,
) -> Result<Vec<Row>, sqlx::Error> {
    let mut rows = sold(&mut *db, pizzeria, period).await?;
    rows.extend(refunds(db, pizzeria, period).await?);
    Ok(rows)
}

/// One pizzeria's sales over `period`, per Paris day, payment method and
/// channel.
async fn sold(
    db: &mut MySqlConnection,
    pizzeria: i64,
    period: &Period,
) -> Result<Vec<Row>, sqlx::Error> {
    let (start, end) = period.utc_bounds();
    let pieces = period.offsets();
    if pieces.len() > MAX_PIECES {
        return Err(sqlx::Error::Protocol(format!(
            "a period of {} offsets (at most {MAX_PIECES})",
            pieces.len()
        )));
    }
    let Some(&(_, first_offset)) = pieces.first() else {
        return Ok(Vec::new());
    };
    // Each row takes the offset of its piece: the `CASE` tries the pieces
    // from the latest. Fewer than four pieces fill the remaining `WHEN`s
    // with the first piece, whose start every row of the period is at or
    // after, so a row's search ends there as it would at the `ELSE`.
    let mut later = pieces[1..]
        .iter()
        .rev()
        .map(|(since, offset)| (since.naive_utc(), *offset));
    let mut next = || later.next().unwrap_or((start.naive_utc(), first_offset));
    let ((since3, offset3), (since2, offset2), (since1, offset1)) = (next(), next(), next());
    let [s0, s1, s2, s3, s4, s5] = SOLD_STATUSES;
    let [u0, u1] = UNDELIVERED_STATUSES;
    // What an order that never reached its customer kept is its charges,
    // read for those few rows only (`CASE` stops at its first match); the
    // others stay on the covering index.
    sqlx::query_as!(
        Row,
        "SELECT o.pizzeria_id, \
            DATE(DATE_ADD(o.created_at, INTERVAL CASE \
                WHEN o.created_at >= ? THEN ? WHEN o.created_at >= ? THEN ? \
                WHEN o.created_at >= ? THEN ? ELSE ? END SECOND)) AS `day!: NaiveDate`, \
            o.payment_method, o.channel, \
            CAST(SUM(CASE WHEN o.status IN (?, ?) THEN 0 ELSE 1 END) AS SIGNED) AS `orders!: i64`, \
            CAST(SUM(CASE WHEN o.status IN (?, ?) THEN ( \
                SELECT COALESCE(SUM(c.amount_cents), 0) FROM payments c WHERE c.order_id = o.id \
                    AND c.kind = 'charge' AND c.status = 'succeeded' AND c.currency = 'eur') \
                ELSE o.total_cents END) AS SIGNED) AS `total_cents!: i64`, \
            CAST(SUM(CASE WHEN o.status IN (?, ?) THEN ROUND(o.vat_cents * ( \
                SELECT COALESCE(SUM(c.amount_cents), 0) FROM payments c WHERE c.order_id = o.id \
                    AND c.kind = 'charge' AND c.status = 'succeeded' AND c.currency = 'eur') \
                / GREATEST(o.total_cents, 1)) ELSE o.vat_cents END) AS SIGNED) AS `vat_cents!: i64`, \
            CAST(0 AS SIGNED) AS `refunds_cents!: i64`, CAST(0 AS SIGNED) AS `refunds_vat_cents!: i64` \
         FROM orders o \
         WHERE o.pizzeria_id = ? AND o.created_at >= ? AND o.created_at < ? \
            AND o.status IN (?, ?, ?, ?, ?, ?, ?, ?) \
         GROUP BY o.pizzeria_id, `day!: NaiveDate`, o.payment_method, o.channel",
        since3,
        offset3,
        since2,
        offset2,
        since1,
        offset1,
        first_offset,
        u0,
        u1,
        u0,
        u1,
        u0,
        u1,
        pizzeria,
        start.naive_utc(),
        end.naive_utc(),
        s0,
        s1,
        s2,
        s3,
        s4,
        s5,
        u0,
        u1
    )
    .fetch_all(db)
    .await
}

/// The refunds that take money off one pizzeria's orders of `period`, each
/// on its order's Paris day, with their VAT in proportion: a manager's
/// goodwill refunds of a sold order (its total already left out what a
/// reduction or a double payment gave back), and every refund of an order
/// that never reached its customer (counted at what it was paid). Refunds
/// are few: they are read from their own index (`ix_payments_kind`) and
/// given their day here.
async fn refunds(
    db: &mut MySqlConnection,
    pizzeria: i64,
    period: &Period,
) -> Result<Vec<Row>, sqlx::Error> {
    let (start, end) = period.utc_bounds();
    let [s0, s1, s2, s3, s4, s5, s6, s7] = COUNTED_STATUSES;
    let [u0, u1] = UNDELIVERED_STATUSES;
    // The refund statuses are the money rule's COUNTED_REFUND_STATUSES.
    let refunds = sqlx::query!(
        "SELECT o.created_at, o.payment_method, o.channel, \
            CAST(SUM(r.amount_cents) AS SIGNED) AS `refunded!: i64`, \
            CAST(SUM(ROUND(o.vat_cents * r.amount_cents / GREATEST(o.total_cents, 1))) AS SIGNED) AS `vat!: i64` \
         FROM payments r JOIN orders o ON o.id = r.order_id \
         WHERE r.kind = 'refund' AND r.status IN ('requested', 'pending', 'requires_action', 'succeeded') \
            AND r.currency = 'eur' AND o.pizzeria_id = ? AND o.created_at >= ? AND o.created_at < ? \
            AND o.status IN (?, ?, ?, ?, ?, ?, ?, ?) AND (r.reason = 'goodwill' OR o.status IN (?, ?)) \
         GROUP BY o.id, o.created_at, o.payment_method, o.channel",
        pizzeria,
        start.naive_utc(),
        end.naive_utc(),
        s0,
        s1,
        s2,
        s3,
        s4,
        s5,
        s6,
        s7,
        u0,
        u1
    )
    .fetch_all(db)
    .await?;
    Ok(refunds
        .into_iter()
        .map(|r| Row {
            pizzeria_id: pizzeria,
            day: paris_day(r.created_at.and_utc()),
            payment_method: r.payment_method,
            channel: r.channel,
            orders: 0,
            total_cents: 0,
            vat_cents: 0,
            refunds_cents: r.refunded,
            refunds_vat_cents: r.vat,
        })
        .collect())
}

/// A summary row that is not what the orders give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub pizzeria_id: i64,
    pub day: NaiveDate,
    pub payment_method: String,
    pub channel: String,
    /// What `revenue_days` holds (zeros when it has no row).
    pub summary: Share,
    /// What the orders give.
    pub orders: Share,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pizzeria {}, {}, {} {}: the summary holds {}; the orders give {}",
            self.pizzeria_id,
            self.day,
            self.payment_method,
            self.channel,
            self.summary,
            self.orders
        )
    }
}

/// Every summary row (of every pizzeria, every day) that differs from the
/// figures counted from the orders, at most `limit`. Both sides are read in
/// one transaction, so in one snapshot: orders changing meanwhile, with their
/// summaries in the same transactions, never show as a difference.
pub async fn differences(pool: &MySqlPool, limit: usize) -> Result<Vec<Difference>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let pizzerias = sqlx::query_scalar!(
        "SELECT id AS `id!: i64` FROM pizzerias UNION SELECT DISTINCT pizzeria_id FROM revenue_days ORDER BY 1"
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut found = Vec::new();
    for pizzeria in pizzerias {
        let span = sqlx::query!(
            "SELECT (SELECT MIN(created_at) FROM orders WHERE pizzeria_id = ?) AS first_order, \
                (SELECT MAX(created_at) FROM orders WHERE pizzeria_id = ?) AS last_order, \
                (SELECT MIN(day) FROM revenue_days WHERE pizzeria_id = ?) AS first_day, \
                (SELECT MAX(day) FROM revenue_days WHERE pizzeria_id = ?) AS last_day",
            pizzeria,
            pizzeria,
            pizzeria,
            pizzeria
        )
        .fetch_one(&mut *tx)
        .await?;
        let days = [span.first_order, span.last_order]
            .into_iter()
            .flatten()
            .map(|at| paris_day(at.and_utc()))
            .chain([span.first_day, span.last_day].into_iter().flatten());
        let (Some(first), Some(last)) = (days.clone().min(), days.max()) else {
            continue;
        };
        // Periods of at most a year, as the report reads them; days no
        // period can hold (before 1970, after 9998) hold no order.
        let mut from = first.max(first_day());
        let last = last.min(last_day());
        while from <= last {
            let to = (from + Duration::days(MAX_DAYS - 1)).min(last);
            let Ok(period) = Period::new(from, to) else {
                break;
            };
            let mut orders: BTreeMap<(NaiveDate, String, String), Share> = BTreeMap::new();
            for row in scan(&mut tx, pizzeria, &period).await? {
                let share = orders
                    .entry((row.day, row.payment_method, row.channel))
                    .or_default();
                *share = share.plus(Share {
                    orders: row.orders,
                    total_cents: row.total_cents,
                    vat_cents: row.vat_cents,
                    refunds_cents: row.refunds_cents,
                    refunds_vat_cents: row.refunds_vat_cents,
                });
            }
            let summaries = sqlx::query!(
                "SELECT day, payment_method, channel, orders, total_cents, vat_cents, refunds_cents, \
                    refunds_vat_cents \
                 FROM revenue_days WHERE pizzeria_id = ? AND day >= ? AND day <= ?",
                pizzeria,
                from,
                to
            )
            .fetch_all(&mut *tx)
            .await?;
            let mut held = BTreeMap::new();
            for row in summaries {
                let share = Share {
                    orders: row.orders,
                    total_cents: row.total_cents,
                    vat_cents: row.vat_cents,
                    refunds_cents: row.refunds_cents,
                    refunds_vat_cents: row.refunds_vat_cents,
                };
                held.insert((row.day, row.payment_method, row.channel), share);
            }
            let keys: BTreeSet<_> = held.keys().chain(orders.keys()).cloned().collect();
            for (day, payment_method, channel) in keys {
                let key = (day, payment_method, channel);
                let summary = held.get(&key).copied().unwrap_or_default();
                let counted = orders.get(&key).copied().unwrap_or_default();
                if summary != counted {
                    let (day, payment_method, channel) = key;
                    found.push(Difference {
                        pizzeria_id: pizzeria,
                        day,
                        payment_method,
                        channel,
                        summary,
                        orders: counted,
                    });
                    if found.len() >= limit {
                        return Ok(found);
                    }
                }
            }
            from = to + Duration::days(1);
        }
    }
    Ok(found)
}
