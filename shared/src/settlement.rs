//! Payment outcomes applied to orders, the same way whoever reports them:
//! the Stripe webhook, the reconciliation a returning customer's page asks
//! for, or the expiry sweep. Every function here is idempotent: applying the
//! same outcome twice changes nothing the second time, and a late failure
//! after a success changes nothing at all.

use crate::ids::OrderId;
use crate::money::Money;
use crate::order::OrderStatus;
use crate::orders::{self, By, ChangeError, OrderHead};
use crate::payments::{PaymentError, PaymentIntent, PaymentIntentStatus, Stripe};
use crate::queue::Envelope;
use sqlx::{MySql, MySqlPool, Transaction};

/// What applying an outcome did to the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The order moved (placed or cancelled).
    Changed(OrderStatus),
    /// Nothing to do: already applied, or a late event.
    Unchanged,
    /// Money arrived for an order that was cancelled meanwhile: refund it.
    RefundNeeded(Money),
    /// No order for this payment.
    UnknownOrder,
}

/// Records a PaymentIntent's state on its payment row (inserted the first
/// time: at checkout, or by whichever report comes first).
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
    sqlx::query(
        "INSERT INTO payments (order_id, provider, kind, provider_ref, amount_cents, status, created_at, updated_at) \
         VALUES (?, 'stripe', 'charge', ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)) \
         ON DUPLICATE KEY UPDATE amount_cents = VALUES(amount_cents), status = VALUES(status), updated_at = UTC_TIMESTAMP(6)",
    )
    .bind(order.0)
    .bind(&intent.id)
    .bind(amount.cents())
    .bind(intent.status.as_str())
    .execute(db)
    .await?;
    Ok(())
}

/// The order a PaymentIntent pays: its metadata, else our payment row.
pub async fn order_of(
    pool: &MySqlPool,
    intent: &PaymentIntent,
) -> Result<Option<OrderId>, sqlx::Error> {
    if let Some(order) = intent.order_id {
        return Ok(Some(order));
    }
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT order_id FROM payments WHERE provider = 'stripe' AND provider_ref = ?",
    )
    .bind(&intent.id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id,)| OrderId(id)))
}

/// Applies a PaymentIntent's state to a locked order, in the caller's
/// transaction. `failed` says the report is a payment failure (the webhook's
/// `payment_intent.payment_failed`), which cancels an order still waiting.
pub async fn apply_intent(
    tx: &mut Transaction<'_, MySql>,
    order: &mut OrderHead,
    intent: &PaymentIntent,
    failed: bool,
    by: &By,
) -> Result<(Outcome, Vec<Envelope>), ChangeError> {
    record_intent(&mut **tx, order.id, intent).await?;
    let outcome = match (intent.status, order.status) {
        (PaymentIntentStatus::Succeeded, OrderStatus::PendingPayment) => {
            let events = orders::change_status(
                tx,
                order,
                OrderStatus::Placed,
                by,
                Some("card payment received"),
            )
            .await?;
            return Ok((Outcome::Changed(OrderStatus::Placed), events));
        }
        (PaymentIntentStatus::Succeeded, OrderStatus::Cancelled) => {
            // Paid after the order expired or was cancelled: give the money back.
            let refunded: (i64,) = sqlx::query_as(
                "SELECT COALESCE(CAST(SUM(amount_cents) AS SIGNED), 0) FROM payments WHERE order_id = ? AND kind = 'refund'",
            )
            .bind(order.id.0)
            .fetch_one(&mut **tx)
            .await?;
            let due = intent.amount_received.cents() - refunded.0;
            if due > 0 {
                Outcome::RefundNeeded(Money::from_cents(due))
            } else {
                Outcome::Unchanged
            }
        }
        (PaymentIntentStatus::Canceled, OrderStatus::PendingPayment) => {
            let events = orders::change_status(
                tx,
                order,
                OrderStatus::Cancelled,
                by,
                Some("payment cancelled"),
            )
            .await?;
            return Ok((Outcome::Changed(OrderStatus::Cancelled), events));
        }
        (_, OrderStatus::PendingPayment) if failed => {
            let events = orders::change_status(
                tx,
                order,
                OrderStatus::Cancelled,
                by,
                Some("card payment failed"),
            )
            .await?;
            return Ok((Outcome::Changed(OrderStatus::Cancelled), events));
        }
        _ => Outcome::Unchanged,
    };
    Ok((outcome, Vec::new()))
}

/// Refunds `amount` of an order's card payment through Stripe and records the
/// refund. `reason` makes the Stripe idempotency key, so a retried refund for
/// the same reason is made once.
pub async fn refund(
    pool: &MySqlPool,
    stripe: &Stripe,
    order: OrderId,
    amount: Money,
    reason: &str,
) -> Result<Option<String>, RefundError> {
    if amount.cents() <= 0 {
        return Ok(None);
    }
    let intent: Option<(String,)> = sqlx::query_as(
        "SELECT provider_ref FROM payments WHERE order_id = ? AND provider = 'stripe' AND kind = 'charge' \
         AND status = 'succeeded' ORDER BY id DESC LIMIT 1",
    )
    .bind(order.0)
    .fetch_optional(pool)
    .await?;
    let Some((intent,)) = intent else {
        return Ok(None);
    };
    let refund = stripe
        .refund(&intent, amount, &format!("order-{order}-refund-{reason}"))
        .await?;
    sqlx::query(
        "INSERT INTO payments (order_id, provider, kind, provider_ref, amount_cents, status, created_at, updated_at) \
         VALUES (?, 'stripe', 'refund', ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)) \
         ON DUPLICATE KEY UPDATE status = VALUES(status), updated_at = UTC_TIMESTAMP(6)",
    )
    .bind(order.0)
    .bind(&refund.id)
    .bind(refund.amount.cents())
    .bind(&refund.status)
    .execute(pool)
    .await?;
    Ok(Some(refund.id))
}

#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The order's most recent PaymentIntent, if it has one.
pub async fn latest_intent(
    pool: &MySqlPool,
    order: OrderId,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT provider_ref FROM payments WHERE order_id = ? AND provider = 'stripe' AND kind = 'charge' ORDER BY id DESC LIMIT 1",
    )
    .bind(order.0)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id,)| id))
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
    let open: Vec<(String,)> = sqlx::query_as(
        "SELECT provider_ref FROM payments WHERE order_id = ? AND provider = 'stripe' AND kind = 'charge' \
         AND status NOT IN ('succeeded', 'canceled')",
    )
    .bind(order.0)
    .fetch_all(pool)
    .await?;
    for (intent,) in open {
        match stripe.cancel_payment_intent(&intent).await {
            Ok(cancelled) => record_intent(pool, order, &cancelled).await?,
            Err(err) => tracing::warn!(%order, error = %err, "PaymentIntent not cancelled"),
        }
    }
    Ok(())
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
    let Some(mut order) = orders::lock(&mut tx, order_id).await? else {
        return Ok((Outcome::UnknownOrder, Vec::new()));
    };
    let result = apply_intent(&mut tx, &mut order, &intent, false, by).await?;
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

/// The expiry sweep: card orders still unpaid after their reservation ran out
/// are reconciled with Stripe first (a payment may have succeeded with its
/// webhook lost), then cancelled, their PaymentIntent cancelled too, and their
/// stock released. Returns how many were cancelled.
pub async fn expire_unpaid(
    pool: &MySqlPool,
    stripe: &Stripe,
    limit: u32,
) -> Result<(usize, Vec<Envelope>), ReconcileError> {
    let due: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM orders WHERE status = 'pending_payment' AND reservation_expires_at < UTC_TIMESTAMP(6) \
         ORDER BY reservation_expires_at LIMIT ?",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let by = By::system("sweep");
    let mut cancelled = 0;
    let mut events = Vec::new();
    for (id,) in due {
        let order_id = OrderId(id);
        let intent = latest_intent(pool, order_id).await?;
        // Cancel at Stripe first, so the customer cannot pay an order we drop;
        // if it was paid meanwhile, Stripe refuses and we place it instead.
        let stripe_state = match &intent {
            Some(intent_id) => match stripe.cancel_payment_intent(intent_id).await {
                Ok(intent) => Some(intent),
                Err(PaymentError::Rejected { .. }) => {
                    Some(stripe.retrieve_payment_intent(intent_id).await?)
                }
                Err(err) => return Err(err.into()),
            },
            None => None,
        };
        let mut tx = pool.begin().await?;
        let Some(mut order) = orders::lock(&mut tx, order_id).await? else {
            continue;
        };
        if order.status != OrderStatus::PendingPayment {
            continue;
        }
        match &stripe_state {
            Some(intent) if intent.status == PaymentIntentStatus::Succeeded => {
                events.extend(
                    apply_intent(&mut tx, &mut order, intent, false, &by)
                        .await?
                        .1,
                );
            }
            _ => {
                if let Some(intent) = &stripe_state {
                    record_intent(&mut *tx, order_id, intent).await?;
                }
                events.extend(
                    orders::change_status(
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
        }
        tx.commit().await?;
    }
    Ok((cancelled, events))
}

/// What the customer still owes on an order: its total less what was charged
/// (any provider) and not refunded. Read in the caller's transaction, after
/// locking the order.
pub async fn balance_due(
    tx: &mut Transaction<'_, MySql>,
    order: &OrderHead,
) -> Result<i64, sqlx::Error> {
    let (net,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(CAST(SUM(CASE WHEN kind = 'charge' THEN amount_cents ELSE -amount_cents END) AS SIGNED), 0) \
         FROM payments WHERE order_id = ? \
         AND ((kind = 'charge' AND status = 'succeeded') OR (kind = 'refund' AND status IN ('succeeded', 'pending')))",
    )
    .bind(order.id.0)
    .fetch_one(&mut **tx)
    .await?;
    Ok((order.total_cents - net).max(0))
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
/// (the order locked). Returns the amount recorded; 0 when nothing was due.
pub async fn collect_at_counter(
    tx: &mut Transaction<'_, MySql>,
    order: &OrderHead,
    how: CounterPayment,
) -> Result<i64, sqlx::Error> {
    let due = balance_due(tx, order).await?;
    if due == 0 {
        return Ok(0);
    }
    sqlx::query(
        "INSERT INTO payments (order_id, provider, kind, provider_ref, amount_cents, status, created_at, updated_at) \
         VALUES (?, ?, 'charge', ?, ?, 'succeeded', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
    )
    .bind(order.id.0)
    .bind(how.provider())
    .bind(format!("counter-{}", uuid::Uuid::new_v4()))
    .bind(due)
    .execute(&mut **tx)
    .await?;
    Ok(due)
}
