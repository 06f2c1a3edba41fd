//! Payment outcomes applied to orders, the same way whoever reports them:
//! the Stripe webhook, the reconciliation a returning customer's page asks
//! for, or the expiry sweep; and the refunds the money rule decides, sent to
//! Stripe after the commit and retried until Stripe answers.
//!
//! Every function here is idempotent: applying the same outcome twice changes
//! nothing the second time, a late failure after a success changes nothing,
//! and a refund is decided from what is paid now (refunds decided count at
//! once), so no interleaving gives a euro back twice.
//!
//! Only the right payment counts: a PaymentIntent that this order created
//! (recorded for it), in euros, for at least what we asked. Anything else is
//! recorded with its anomaly, refunded in full, counted in the
//! `PaymentsRejected` metric (alarmed on) and never places an order.

use crate::order::lifecycle::{self, By, ChangeError, OrderHead};
use crate::order::money_rule::{self, Givers, Paid};
use crate::order::revenue;
use crate::order::{Actor, OrderStatus};
use crate::payment::{NewPaymentIntent, PaymentError, PaymentIntent, PaymentIntentStatus, Stripe};
use crate::platform::ids::OrderId;
use crate::platform::metrics::{self, Metric};
use crate::platform::money::Money;
use crate::platform::queue::Envelope;
use sqlx::{MySql, MySqlPool, Transaction};

mod refunds;

pub use refunds::*;

/// How long a paid order made bigger waits for the difference, its stock
/// still reserved; then the sweep cancels it and refunds what was paid.
pub const DIFFERENCE_WINDOW_MINUTES: i64 = 15;

/// What applying an outcome did to the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The order moved (placed or cancelled).
    Changed(OrderStatus),
    /// Nothing to do: already applied, or a late event.
    Unchanged,
    /// A payment that does not count: recorded, refunded in full.
    Rejected(Anomaly),
    /// No order for this payment.
    UnknownOrder,
}

/// Why a PaymentIntent that succeeded does not pay its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anomaly {
    /// Not created by this order (no record of it, only a metadata claim).
    UnknownIntent,
    /// Not in euros.
    Currency,
    /// Received less than we asked for.
    Short,
}

impl Anomaly {
    pub fn as_str(self) -> &'static str {
        match self {
            Anomaly::UnknownIntent => "unknown_intent",
            Anomaly::Currency => "currency",
            Anomaly::Short => "short",
        }
    }
}

/// Records a PaymentIntent's state on its payment row (inserted the first
/// time: at checkout, or by whichever report comes first). The amount we
/// asked for is kept from the first record; a charge that succeeded stays
/// succeeded whatever late report follows (refunds are rows of their own).
pub async fn record_intent(
    db: impl sqlx::Executor<'_, Database = MySql>,
    order: OrderId,
    intent: &PaymentIntent,
) -> Result<(), sqlx::Error> {
    let amount = if intent.status == PaymentIntentStatus::Succeeded {
        intent.amount_received
    } else {
        intent.amount
    };
    let currency = if intent.currency.is_empty() {
        "?"
    } else {
        intent.currency.as_str()
    };
    // The update binds the inserted values again: `VALUES(col)` is deprecated on
    // MySQL 8 and its replacement (a row alias) is unknown to MariaDB.
    sqlx::query!(
        "INSERT INTO payments (order_id, provider, kind, provider_ref, amount_cents, currency, requested_cents, status, created_at, updated_at) \
         VALUES (?, 'stripe', 'charge', ?, ?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)) \
         ON DUPLICATE KEY UPDATE \
            amount_cents = IF(status = 'succeeded', amount_cents, ?), \
            currency = IF(status = 'succeeded', currency, ?), \
            status = IF(status = 'succeeded', status, ?), \
            updated_at = UTC_TIMESTAMP(6)",
        order.0,
        intent.id,
        amount.cents(),
        currency,
        intent.amount.cents(),
        intent.status.as_str(),
        amount.cents(),
        currency,
        intent.status.as_str(),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The order a PaymentIntent pays: the one that recorded it; failing that,
/// the order its metadata names (whose payment will then not count).
pub async fn order_of(
    pool: &MySqlPool,
    intent: &PaymentIntent,
) -> Result<Option<OrderId>, sqlx::Error> {
    let row = sqlx::query_scalar!(
        "SELECT order_id AS `order_id: OrderId` FROM payments \
         WHERE provider = 'stripe' AND provider_ref = ? AND kind = 'charge'",
        intent.id
    )
    .fetch_optional(pool)
    .await?;
    if row.is_some() {
        return Ok(row);
    }
    let Some(claimed) = intent.order_id else {
        return Ok(None);
    };
    sqlx::query_scalar!(
        "SELECT id AS `id: OrderId` FROM orders WHERE id = ?",
        claimed.0
    )
    .fetch_optional(pool)
    .await
}

/// Applies a PaymentIntent's state to a locked order, in the caller's
/// transaction.
///
/// A failed attempt (`payment_intent.payment_failed`: a declined card, a
/// failed 3-D Secure) changes nothing: Stripe puts the PaymentIntent back to
/// `requires_payment_method`, and the customer may pay it with another card
/// from the tracker until the order's payment deadline, when the expiry
/// sweep cancels it and releases its stock. Only a cancelled PaymentIntent
/// ends the wait at once.
pub async fn apply_intent(
    tx: &mut Transaction<'_, MySql>,
    order: &mut OrderHead,
    intent: &PaymentIntent,
    by: &By,
) -> Result<(Outcome, Vec<Envelope>), ChangeError> {
    let recorded: Option<(i64, Option<i64>, i64)> = sqlx::query!(
        "SELECT order_id, requested_cents, amount_cents FROM payments \
         WHERE provider = 'stripe' AND provider_ref = ? AND kind = 'charge' FOR UPDATE",
        intent.id
    )
    .fetch_optional(&mut **tx)
    .await?
    .map(|row| (row.order_id, row.requested_cents, row.amount_cents));
    if intent.status == PaymentIntentStatus::Succeeded {
        let anomaly = match recorded {
            None => Some(Anomaly::UnknownIntent),
            Some((owner, ..)) if owner != order.id.0 => Some(Anomaly::UnknownIntent),
            Some(_) if intent.currency != "eur" => Some(Anomaly::Currency),
            Some((_, requested, amount))
                if intent.amount_received.cents() < requested.unwrap_or(amount) =>
            {
                Some(Anomaly::Short)
            }
            Some(_) => None,
        };
        if let Some(anomaly) = anomaly {
            reject(tx, order.id, intent, anomaly).await?;
            return Ok((Outcome::Rejected(anomaly), Vec::new()));
        }
        record_intent(&mut **tx, order.id, intent).await?;
        let before = order.status;
        let events = settle(tx, order, by, "overpaid").await?;
        let outcome = if order.status != before {
            Outcome::Changed(order.status)
        } else {
            Outcome::Unchanged
        };
        return Ok((outcome, events));
    }
    if recorded.is_none_or(|(owner, ..)| owner != order.id.0) {
        // Not ours: nothing to record against this order.
        return Ok((Outcome::Unchanged, Vec::new()));
    }
    record_intent(&mut **tx, order.id, intent).await?;
    if intent.status == PaymentIntentStatus::Canceled && order.status == OrderStatus::PendingPayment
    {
        // Only the order's newest PaymentIntent speaks for it (an older one is
        // cancelled when a change of total replaces it), and only an order
        // with nothing paid yet is given up: a paid order made bigger keeps
        // waiting for the difference until its deadline.
        let latest = latest_intent(&mut **tx, order.id).await?;
        let paid = money_rule::paid(&mut **tx, order.id).await?;
        if latest.as_deref() == Some(intent.id.as_str()) && paid.net() == 0 {
            let note = Some("payment cancelled");
            let events =
                lifecycle::change_status(tx, order, OrderStatus::Cancelled, by, note).await?;
            return Ok((Outcome::Changed(OrderStatus::Cancelled), events));
        }
    }
    Ok((Outcome::Unchanged, Vec::new()))
}

/// A payment that does not count: recorded with its anomaly and refunded in
/// full; the order does not move.
async fn reject(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
    intent: &PaymentIntent,
    anomaly: Anomaly,
) -> Result<(), sqlx::Error> {
    record_intent(&mut **tx, order, intent).await?;
    // A charge recorded for another order stays that order's; the money is
    // still given back from there.
    sqlx::query!(
        "UPDATE payments SET anomaly = ?, currency = ?, amount_cents = ?, status = 'succeeded' \
         WHERE provider = 'stripe' AND provider_ref = ? AND kind = 'charge'",
        anomaly.as_str(),
        if intent.currency.is_empty() {
            "?"
        } else {
            intent.currency.as_str()
        },
        intent.amount_received.cents(),
        intent.id,
    )
    .execute(&mut **tx)
    .await?;
    let owner = sqlx::query_scalar!(
        "SELECT order_id AS `order_id: OrderId` FROM payments \
         WHERE provider = 'stripe' AND provider_ref = ? AND kind = 'charge'",
        intent.id
    )
    .fetch_one(&mut **tx)
    .await?;
    let refunded =
        money_rule::refund_whole_charge(tx, owner, &intent.id, "rejected-payment").await?;
    // Its charge, now succeeded, counts for an order that was not handed over.
    revenue::recount(tx, owner).await?;
    tracing::error!(
        %order,
        payment_intent = %intent.id,
        anomaly = anomaly.as_str(),
        currency = %intent.currency,
        amount_received = intent.amount_received.cents(),
        refund_cents = refunded,
        "payment rejected: it does not pay this order; refunded in full"
    );
    metrics::emit(Metric::PaymentsRejected, 1.0, None);
    Ok(())
}

/// The money rule applied to a locked order after anything changed its total
/// or its payments, in the caller's transaction:
/// - a cancelled order keeps nothing: what its card charges hold is refunded;
/// - a web card order waiting for payment is placed once its net paid covers
///   its total; a placed one whose total rose above it goes back to waiting
///   for the difference (its stock still reserved, for
///   [`DIFFERENCE_WINDOW_MINUTES`]), and its ticket leaves the kitchen;
/// - whatever is paid beyond the total is refunded (`reason`).
///
/// Then the order is counted again in the revenue summaries (after the stock
/// is reserved again: the summary row is locked last). Returns the events to
/// send once the transaction has committed.
pub async fn settle(
    tx: &mut Transaction<'_, MySql>,
    order: &mut OrderHead,
    by: &By,
    reason: &str,
) -> Result<Vec<Envelope>, ChangeError> {
    let events = apply_money_rule(tx, order, by, reason).await?;
    revenue::recount(tx, order.id).await?;
    Ok(events)
}

async fn apply_money_rule(
    tx: &mut Transaction<'_, MySql>,
    order: &mut OrderHead,
    by: &By,
    reason: &str,
) -> Result<Vec<Envelope>, ChangeError> {
    let paid = money_rule::paid(&mut **tx, order.id).await?;
    if matches!(order.status, OrderStatus::Cancelled | OrderStatus::Voided) {
        money_rule::refund(tx, order.id, paid.net(), Givers::Stripe, "late-payment").await?;
        return Ok(Vec::new());
    }
    if !order.pays_online() {
        return Ok(Vec::new());
    }
    // Moves the money makes are the system's, whoever changed the order.
    let system = if by.actor == Actor::System {
        by.clone()
    } else {
        By::system("payment")
    };
    let due = paid.due(order.total_cents);
    let mut events = Vec::new();
    match order.status {
        OrderStatus::PendingPayment if due == 0 => {
            events = lifecycle::change_status(
                tx,
                order,
                OrderStatus::Placed,
                &system,
                Some("card payment received"),
            )
            .await?;
        }
        OrderStatus::Placed if due > 0 => {
            events = lifecycle::change_status(
                tx,
                order,
                OrderStatus::PendingPayment,
                &system,
                Some("total raised: waiting for the difference"),
            )
            .await?;
            sqlx::query!(
                "UPDATE orders SET reservation_expires_at = UTC_TIMESTAMP(6) + INTERVAL ? MINUTE WHERE id = ?",
                DIFFERENCE_WINDOW_MINUTES,
                order.id.0,
            )
            .execute(&mut **tx)
            .await?;
        }
        _ => {}
    }
    let excess = paid.excess(order.total_cents);
    if excess > 0 {
        money_rule::refund(tx, order.id, excess, Givers::Stripe, reason).await?;
    }
    Ok(events)
}

/// The order's most recent PaymentIntent, if it has one.
pub async fn latest_intent(
    db: impl sqlx::Executor<'_, Database = MySql>,
    order: OrderId,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT provider_ref AS `provider_ref!` FROM payments \
         WHERE order_id = ? AND provider = 'stripe' AND kind = 'charge' ORDER BY id DESC LIMIT 1",
        order.0
    )
    .fetch_optional(db)
    .await
}

/// The order's PaymentIntents not paid (nor cancelled) yet, newest first,
/// with the amount each asks for.
async fn open_intents(pool: &MySqlPool, order: OrderId) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT provider_ref AS `provider_ref!`, COALESCE(requested_cents, amount_cents) AS `asks!: i64` \
         FROM payments \
         WHERE order_id = ? AND provider = 'stripe' AND kind = 'charge' \
         AND status NOT IN ('succeeded', 'canceled') ORDER BY id DESC",
        order.0
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.provider_ref, row.asks))
        .collect())
}

/// Cancels at Stripe every PaymentIntent of the order not paid yet (after a
/// cancellation, or when a change of total replaces it), so none can be paid
/// later. A failure is logged: the expiry sweep and reconciliation still
/// catch a late payment and refund it.
pub async fn cancel_open_intents(
    pool: &MySqlPool,
    stripe: &Stripe,
    order: OrderId,
) -> Result<(), sqlx::Error> {
    for (intent, _) in open_intents(pool, order).await? {
        match stripe.cancel_payment_intent(&intent).await {
            Ok(cancelled) => record_intent(pool, order, &cancelled).await?,
            Err(err) => tracing::warn!(%order, error = %err, "PaymentIntent not cancelled"),
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum EnsureError {
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The PaymentIntent that pays what a web card order still owes: its open one
/// when it asks exactly that, else a new one (older open ones cancelled, so
/// only one can be paid). `None` when nothing is owed by card.
pub async fn intent_for_balance(
    pool: &MySqlPool,
    stripe: &Stripe,
    order: OrderId,
) -> Result<Option<PaymentIntent>, EnsureError> {
    let Some(head) = lifecycle::head(pool, order).await? else {
        return Ok(None);
    };
    if !head.pays_online() || head.status != OrderStatus::PendingPayment {
        return Ok(None);
    }
    let due = money_rule::paid(pool, order).await?.due(head.total_cents);
    if due == 0 {
        return Ok(None);
    }
    let open = open_intents(pool, order).await?;
    if let Some((intent, asks)) = open.first() {
        if *asks == due {
            return Ok(Some(stripe.retrieve_payment_intent(intent).await?));
        }
    }
    cancel_open_intents(pool, stripe, order).await?;
    let row = sqlx::query!(
        "SELECT (SELECT COUNT(*) FROM payments WHERE order_id = o.id AND kind = 'charge') AS `charges!: i64`, \
            number \
         FROM orders o WHERE id = ?",
        order.0
    )
    .fetch_one(pool)
    .await?;
    let (charges, number) = (row.charges, row.number);
    let intent = stripe
        .create_payment_intent(&NewPaymentIntent {
            amount: Money::from_cents(due),
            order_id: order,
            order_number: &number,
            idempotency_key: &format!("order-{order}-payment-{charges}-{due}"),
            receipt_email: None,
        })
        .await?;
    record_intent(pool, order, &intent).await?;
    Ok(Some(intent))
}

/// Asks Stripe for the PaymentIntent of a waiting card order and applies it:
/// what the customer's returning page triggers, so a lost webhook never
/// strands a paid order. Returns the outcome.
pub async fn reconcile(
    pool: &MySqlPool,
    stripe: &Stripe,
    order_id: OrderId,
    by: &By,
) -> Result<(Outcome, Vec<Envelope>), ReconcileError> {
    let Some(intent_id) = latest_intent(pool, order_id).await? else {
        return Ok((Outcome::Unchanged, Vec::new()));
    };
    let intent = stripe.retrieve_payment_intent(&intent_id).await?;
    let mut tx = pool.begin().await?;
    let Some(mut order) = lifecycle::lock(&mut tx, order_id).await? else {
        return Ok((Outcome::UnknownOrder, Vec::new()));
    };
    let result = apply_intent(&mut tx, &mut order, &intent, by).await?;
    tx.commit().await?;
    Ok(result)
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Change(#[from] ChangeError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The expiry sweep: card orders still waiting for payment after their
/// deadline are reconciled with Stripe first (a payment may have succeeded
/// with its webhook lost), then cancelled, their open PaymentIntents
/// cancelled too, their stock released and what they had paid refunded.
/// Returns how many were cancelled.
pub async fn expire_unpaid(
    pool: &MySqlPool,
    stripe: &Stripe,
    limit: u32,
) -> Result<(usize, Vec<Envelope>), ReconcileError> {
    let due = sqlx::query_scalar!(
        "SELECT id AS `id: OrderId` FROM orders \
         WHERE status = 'pending_payment' AND reservation_expires_at < UTC_TIMESTAMP(6) \
         ORDER BY reservation_expires_at LIMIT ?",
        limit
    )
    .fetch_all(pool)
    .await?;
    let by = By::system("sweep");
    let mut cancelled = 0;
    let mut events = Vec::new();
    for order_id in due {
        // Cancel at Stripe first, so the customer cannot pay an order we drop;
        // if one was paid meanwhile, Stripe refuses and we apply it instead.
        let mut reports = Vec::new();
        for (intent_id, _) in open_intents(pool, order_id).await? {
            reports.push(match stripe.cancel_payment_intent(&intent_id).await {
                Ok(intent) => intent,
                Err(PaymentError::Rejected { .. }) => {
                    stripe.retrieve_payment_intent(&intent_id).await?
                }
                Err(err) => return Err(err.into()),
            });
        }
        let mut tx = pool.begin().await?;
        let Some(mut order) = lifecycle::lock(&mut tx, order_id).await? else {
            continue;
        };
        if order.status != OrderStatus::PendingPayment {
            continue;
        }
        for intent in &reports {
            if intent.status == PaymentIntentStatus::Succeeded {
                events.extend(apply_intent(&mut tx, &mut order, intent, &by).await?.1);
            } else {
                record_intent(&mut *tx, order_id, intent).await?;
            }
        }
        if order.status == OrderStatus::PendingPayment {
            events.extend(
                lifecycle::change_status(
                    &mut tx,
                    &mut order,
                    OrderStatus::Cancelled,
                    &by,
                    Some("payment not completed in time"),
                )
                .await?,
            );
            cancelled += 1;
        }
        tx.commit().await?;
    }
    Ok((cancelled, events))
}

/// What the customer still owes on an order: its total less its net paid
/// (any provider). Read in the caller's transaction, after locking the order.
pub async fn balance_due(
    tx: &mut Transaction<'_, MySql>,
    order: &OrderHead,
) -> Result<i64, sqlx::Error> {
    let paid: Paid = money_rule::paid(&mut **tx, order.id).await?;
    Ok(paid.due(order.total_cents))
}

/// How a payment taken by staff at the pizzeria was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CounterPayment {
    Cash,
    /// The pizzeria's card terminal (not Stripe).
    CardTerminal,
}

impl CounterPayment {
    /// The `payments.provider` it is recorded under.
    pub fn provider(self) -> &'static str {
        match self {
            CounterPayment::Cash => "cash",
            CounterPayment::CardTerminal => "card_terminal",
        }
    }
}

/// Records what is due as taken at the counter, in the caller's transaction
/// (the order locked), and counts the order again in the revenue summaries;
/// the amount recorded, 0 when nothing was due.
pub async fn collect_at_counter(
    tx: &mut Transaction<'_, MySql>,
    order: &OrderHead,
    how: CounterPayment,
) -> Result<i64, sqlx::Error> {
    let due = balance_due(tx, order).await?;
    if due == 0 {
        return Ok(0);
    }
    sqlx::query!(
        "INSERT INTO payments (order_id, provider, kind, provider_ref, amount_cents, status, created_at, updated_at) \
         VALUES (?, ?, 'charge', ?, ?, 'succeeded', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
        order.id.0,
        how.provider(),
        format!("counter-{}", uuid::Uuid::new_v4()),
        due,
    )
    .execute(&mut **tx)
    .await?;
    revenue::recount(tx, order.id).await?;
    Ok(due)
}
