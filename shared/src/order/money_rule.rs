//! The money rule, written once, read by every path that moves an order or
//! its money (checkout, the webhook, the customer's page, staff, the kitchen,
//! the sweep, the reconciliation check):
//!
//! - an order's **net paid** is its charges that succeeded, in euros, less
//!   its refunds that are decided, on their way or made (`requested`,
//!   `pending`, `requires_action`, `succeeded`): a refund counts from the
//!   moment it is decided, so a second decision can never give the same euro
//!   back twice;
//! - a web card order reaches (and stays at) the kitchen only while its net
//!   paid covers its total (`lifecycle::change_status` refuses `placed` and
//!   `preparing` otherwise);
//! - refunds are decided inside the order's locked transaction, never above
//!   what a charge can still give back, and written `requested` with a key
//!   unique per order and sequence (and the order counted again in the
//!   revenue summaries: a refund may take money off it); Stripe is called
//!   after the commit with that key (`settlement::send_refunds`), and
//!   retried until it answers.
//!
//! Cash and the pizzeria's card terminal keep their balance, collected at the
//! door or the counter (`settlement::collect_at_counter`).

use crate::order::revenue;
use crate::platform::ids::OrderId;
use sqlx::{MySql, Transaction};

/// Refund statuses that count against what was paid: decided by us and not
/// (yet) refused by Stripe.
pub const COUNTED_REFUND_STATUSES: &str =
    "('requested', 'pending', 'requires_action', 'succeeded')";

/// Hands the SQL of net paid per order, as one string literal, to the macro
/// `$then`: the constant below takes it with `concat!`, and `paid` with
/// sqlx's compile-time checked `query_as!` (which takes only literals).
macro_rules! net_paid_by_order {
    ($then:ident) => {
        $then!(
            "SELECT order_id, \
            CAST(SUM(CASE WHEN kind = 'charge' THEN amount_cents ELSE 0 END) AS SIGNED) AS charged, \
            CAST(SUM(CASE WHEN kind = 'refund' THEN amount_cents ELSE 0 END) AS SIGNED) AS refunded, \
            CAST(SUM(CASE WHEN kind = 'charge' THEN amount_cents ELSE -amount_cents END) AS SIGNED) AS net \
            FROM payments \
            WHERE currency = 'eur' AND ((kind = 'charge' AND status = 'succeeded') \
               OR (kind = 'refund' AND status IN ('requested', 'pending', 'requires_action', 'succeeded'))) \
            GROUP BY order_id"
        )
    };
}

/// Net paid in euros per order, as a derived table `(order_id, charged,
/// refunded, net)`: the one definition the order view, the balance due and
/// the reconciliation check all read.
pub const NET_PAID_BY_ORDER: &str = net_paid_by_order!(concat);

/// What an order has been paid, in euro cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Paid {
    /// Charges that succeeded (every provider).
    pub charged: i64,
    /// Refunds decided, on their way or made.
    pub refunded: i64,
}

impl Paid {
    pub fn net(self) -> i64 {
        self.charged - self.refunded
    }

    /// Still owed on a total (never negative).
    pub fn due(self, total_cents: i64) -> i64 {
        (total_cents - self.net()).max(0)
    }

    /// Paid beyond a total (never negative).
    pub fn excess(self, total_cents: i64) -> i64 {
        (self.net() - total_cents).max(0)
    }
}

/// What an order has been paid, read in the caller's transaction (lock the
/// order first, so nobody decides a refund meanwhile).
pub async fn paid(
    db: impl sqlx::Executor<'_, Database = MySql>,
    order: OrderId,
) -> Result<Paid, sqlx::Error> {
    macro_rules! paid_of {
        ($net_paid:literal) => {
            sqlx::query_as!(
                Paid,
                "SELECT charged AS `charged!`, refunded AS `refunded!` FROM ("
                    + $net_paid
                    + ") p WHERE order_id = ?",
                order.0
            )
        };
    }
    let row = net_paid_by_order!(paid_of).fetch_optional(db).await?;
    Ok(row.unwrap_or_default())
}

/// A charge of the order that can still give money back.
struct Refundable {
    /// `stripe`, or `cash` / `card_terminal` for what staff took at the counter.
    provider: String,
    /// The PaymentIntent, or the counter payment's reference.
    provider_ref: String,
    left_cents: i64,
}

/// Who gives money back: Stripe only, or also staff by hand at the
/// pizzeria (cash, the card terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Givers {
    /// A refund nobody at the pizzeria decided (a cancellation by the
    /// customer, a reduction, a late payment): Stripe's charges only; money
    /// taken at the counter stays there, for the reconciliation check to show.
    Stripe,
    /// A manager's own decision (a void, a goodwill refund), made with the
    /// money in hand: the counter's charges too, recorded as given back.
    StripeAndStaff,
}

/// Each charge of the order that succeeded in euros, with what it can still
/// give back: Stripe's first (a refund goes back to the card it came from),
/// then, for `Givers::StripeAndStaff`, what was taken at the pizzeria; newest
/// first.
async fn refundable_charges(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
    givers: Givers,
) -> Result<Vec<Refundable>, sqlx::Error> {
    let by_hand = givers == Givers::StripeAndStaff;
    // The statuses are COUNTED_REFUND_STATUSES, spelt out for the compile-time check.
    sqlx::query_as!(
        Refundable,
        "SELECT c.provider, c.provider_ref AS `provider_ref!`, c.amount_cents - COALESCE(CAST(( \
            SELECT SUM(r.amount_cents) FROM payments r \
            WHERE r.order_id = c.order_id AND r.kind = 'refund' AND r.refund_of = c.provider_ref \
              AND r.status IN ('requested', 'pending', 'requires_action', 'succeeded')) AS SIGNED), 0) \
              AS `left_cents!: i64` \
         FROM payments c \
         WHERE c.order_id = ? AND c.kind = 'charge' AND c.status = 'succeeded' \
           AND c.currency = 'eur' AND c.anomaly IS NULL AND c.provider_ref IS NOT NULL \
           AND (c.provider = 'stripe' OR ?) \
         ORDER BY c.provider = 'stripe' DESC, c.id DESC",
        order.0,
        by_hand
    )
    .fetch_all(&mut **tx)
    .await
}

/// Decides to give back up to `amount` cents of the order's charges, spread
/// over them (Stripe's first, newest first), never more than each can still
/// give back. A Stripe refund is written `requested` in the caller's
/// transaction and sent after the commit; one of a counter payment is made
/// there and then (cash handed back, or on the card terminal) and written
/// `succeeded`. Returns the amount decided (less than asked when the charges
/// cannot cover it).
pub async fn refund(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
    amount: i64,
    givers: Givers,
    reason: &str,
) -> Result<i64, sqlx::Error> {
    let mut left = amount;
    if left <= 0 {
        return Ok(0);
    }
    for charge in refundable_charges(tx, order, givers).await? {
        let part = left.min(charge.left_cents);
        if part <= 0 {
            continue;
        }
        let via = if charge.provider == "stripe" {
            Via::Stripe { currency: "eur" }
        } else {
            Via::Hand {
                provider: &charge.provider,
            }
        };
        insert_refund(tx, order, &charge.provider_ref, part, via, reason).await?;
        left -= part;
        if left == 0 {
            break;
        }
    }
    if left > 0 {
        tracing::warn!(%order, asked = amount, missing = left, "refund larger than the charges");
    }
    if left < amount {
        revenue::recount(tx, order).await?;
    }
    Ok(amount - left)
}

/// Decides to give back all of one charge that does not count (a payment
/// in another currency, short, or not made for this order), less what was
/// already decided for it. In the caller's transaction.
pub async fn refund_whole_charge(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
    intent: &str,
    reason: &str,
) -> Result<i64, sqlx::Error> {
    // The statuses are COUNTED_REFUND_STATUSES, spelt out for the compile-time check.
    let row = sqlx::query!(
        "SELECT c.amount_cents, c.currency, COALESCE(CAST(( \
            SELECT SUM(r.amount_cents) FROM payments r \
            WHERE r.kind = 'refund' AND r.refund_of = c.provider_ref \
              AND r.status IN ('requested', 'pending', 'requires_action', 'succeeded')) AS SIGNED), 0) \
              AS `refunded!: i64` \
         FROM payments c WHERE c.provider = 'stripe' AND c.provider_ref = ? AND c.kind = 'charge' \
           AND c.status = 'succeeded'",
        intent
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(0);
    };
    let currency = row.currency;
    let left = row.amount_cents - row.refunded;
    if left > 0 {
        let via = Via::Stripe {
            currency: &currency,
        };
        insert_refund(tx, order, intent, left, via, reason).await?;
        revenue::recount(tx, order).await?;
    }
    Ok(left.max(0))
}

/// Gives back everything the order's charges still hold (a cancellation, a
/// void). In the caller's transaction.
pub async fn refund_all(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
    givers: Givers,
    reason: &str,
) -> Result<i64, sqlx::Error> {
    let total: i64 = refundable_charges(tx, order, givers)
        .await?
        .iter()
        .map(|charge| charge.left_cents.max(0))
        .sum();
    refund(tx, order, total, givers, reason).await
}

/// The sequence of the order's next refund, in its idempotency key.
async fn refund_key(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
) -> Result<String, sqlx::Error> {
    // The order is locked: the count cannot move under us, and the unique
    // key would refuse a second row with the same sequence anyway.
    let count = sqlx::query_scalar!(
        "SELECT COUNT(*) AS `count!: i64` FROM payments WHERE order_id = ? AND kind = 'refund'",
        order.0
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(format!("order-{order}-refund-{}", count + 1))
}

/// How a refund goes back.
enum Via<'a> {
    /// Through Stripe, in the charge's currency: written `requested`, sent
    /// after the commit.
    Stripe { currency: &'a str },
    /// By hand at the pizzeria (cash, or the card terminal): made as it is
    /// recorded, so written `succeeded`, in euros.
    Hand { provider: &'a str },
}

/// Writes a refund of `refund_of` (the charge's reference) with the order's
/// next sequence in its idempotency key.
async fn insert_refund(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
    refund_of: &str,
    amount: i64,
    via: Via<'_>,
    reason: &str,
) -> Result<(), sqlx::Error> {
    let (provider, provider_ref, currency, status) = match via {
        Via::Stripe { currency } => ("stripe", None, currency, "requested"),
        Via::Hand { provider } => (
            provider,
            Some(format!("counter-refund-{}", uuid::Uuid::new_v4())),
            "eur",
            "succeeded",
        ),
    };
    let key = refund_key(tx, order).await?;
    sqlx::query!(
        "INSERT INTO payments (order_id, provider, kind, provider_ref, amount_cents, currency, status, \
            refund_of, reason, idempotency_key, created_at, updated_at) \
         VALUES (?, ?, 'refund', ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
        order.0,
        provider,
        provider_ref,
        amount,
        currency,
        status,
        refund_of,
        reason,
        key,
    )
    .execute(&mut **tx)
    .await?;
    tracing::info!(%order, amount_cents = amount, provider, currency, status, reason, key, "refund decided");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Paid, COUNTED_REFUND_STATUSES};

    /// The compile-time checked queries need literal SQL, so net paid's and
    /// the two refund queries spell the counted refund statuses out: they
    /// must stay the text of the constant the other readers use.
    #[test]
    fn the_checked_queries_spell_the_rule_as_its_constants() {
        let squeeze = |s: &str| -> String {
            s.chars()
                .filter(|c| !c.is_whitespace() && *c != '\\')
                .collect()
        };
        let source = squeeze(include_str!("money_rule.rs"));
        // The constant, net paid's SQL, and the two refund queries.
        assert_eq!(source.matches(&squeeze(COUNTED_REFUND_STATUSES)).count(), 4);
    }

    #[test]
    fn net_due_and_excess() {
        let paid = Paid {
            charged: 8700,
            refunded: 5800,
        };
        assert_eq!(paid.net(), 2900);
        assert_eq!(paid.due(2900), 0);
        assert_eq!(paid.due(3150), 250);
        assert_eq!(paid.excess(1450), 1450);
        assert_eq!(paid.excess(3000), 0);
    }
}
