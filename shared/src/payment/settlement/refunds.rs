//! Refunds decided by the money rule, sent to Stripe after the commit that
//! decided them, and sent again by the sweep until Stripe has them; and
//! the status Stripe later reports for them.

use super::*;

/// What a run of [`send_refunds`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefundRun {
    /// Accepted by Stripe.
    pub sent: usize,
    /// Still `requested`, to be retried.
    pub failed: usize,
}

pub(super) struct DueRefund {
    pub(super) id: i64,
    pub(super) order_id: i64,
    pub(super) refund_of: Option<String>,
    pub(super) amount_cents: i64,
    pub(super) idempotency_key: Option<String>,
}

/// Sends the refunds decided and not yet accepted by Stripe (of one order,
/// or of every order), each with its own idempotency key, so a retry after a
/// lost answer is made once. A refund being sent is leased for a minute, so
/// two senders never send the same one at once. A failure leaves the refund
/// `requested` with its error, for the next run (the sweep runs every minute).
pub async fn send_refunds(
    pool: &MySqlPool,
    stripe: &Stripe,
    order: Option<OrderId>,
    limit: u32,
) -> Result<RefundRun, sqlx::Error> {
    // One static statement for one order, one for every order.
    macro_rules! due {
        ($filter:tt $(, $arg:expr)*) => {
            sqlx::query_as!(
                DueRefund,
                "SELECT id, order_id, refund_of, amount_cents, idempotency_key FROM payments \
                 WHERE kind = 'refund' AND status = 'requested' \
                   AND (next_attempt_at IS NULL OR next_attempt_at <= UTC_TIMESTAMP(6))"
                    + $filter
                    + " ORDER BY id LIMIT ?",
                $($arg,)*
                limit
            )
            .fetch_all(pool)
            .await?
        };
    }
    let due = match order {
        Some(order) => due!(" AND order_id = ?", order.0),
        None => due!(""),
    };
    let mut run = RefundRun::default();
    for DueRefund {
        id,
        order_id,
        refund_of: intent,
        amount_cents: amount,
        idempotency_key: key,
    } in due
    {
        let claimed = sqlx::query!(
            "UPDATE payments SET attempts = attempts + 1, \
                next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL 60 SECOND, updated_at = UTC_TIMESTAMP(6) \
             WHERE id = ? AND status = 'requested' \
               AND (next_attempt_at IS NULL OR next_attempt_at <= UTC_TIMESTAMP(6))",
            id
        )
        .execute(pool)
        .await?
        .rows_affected();
        if claimed == 0 {
            continue;
        }
        let (Some(intent), Some(key)) = (intent, key) else {
            continue;
        };
        match stripe
            .refund(&intent, Money::from_cents(amount), &key)
            .await
        {
            Ok(refund) => {
                // Stripe's answer may be a refund that failed (`failed`,
                // `canceled`), which gives nothing back: the order is
                // counted again with it, in the same transaction.
                let mut tx = pool.begin().await?;
                sqlx::query!(
                    "UPDATE payments SET provider_ref = ?, status = ?, last_error = NULL, \
                        next_attempt_at = NULL, updated_at = UTC_TIMESTAMP(6) WHERE id = ?",
                    refund.id,
                    refund.status,
                    id,
                )
                .execute(&mut *tx)
                .await?;
                revenue::recount(&mut tx, OrderId(order_id)).await?;
                tx.commit().await?;
                tracing::info!(order_id, refund = %refund.id, amount_cents = amount, "refund sent");
                run.sent += 1;
            }
            Err(err) => {
                let message: String = err.to_string().chars().take(200).collect();
                tracing::warn!(order_id, amount_cents = amount, error = %message, "refund not sent yet; will retry");
                sqlx::query!(
                    "UPDATE payments SET last_error = ? WHERE id = ?",
                    message,
                    id
                )
                .execute(pool)
                .await?;
                run.failed += 1;
            }
        }
    }
    Ok(run)
}

/// Sends an order's refunds now, logging what could not be sent (the sweep
/// retries it): what a request does after the commit that decided them.
pub async fn send_refunds_now(pool: &MySqlPool, stripe: &Stripe, order: OrderId) {
    match send_refunds(pool, stripe, Some(order), 20).await {
        Ok(run) if run.failed > 0 => {
            tracing::warn!(%order, failed = run.failed, "refunds left for the sweep")
        }
        Ok(_) => {}
        Err(err) => tracing::error!(%order, error = %err, "refunds not sent; the sweep retries"),
    }
}

/// Records what Stripe now says of a refund it holds (its `status`), in the
/// caller's transaction, and counts its order again in the revenue summaries
/// (a refund that failed gives nothing back); a refund we never recorded
/// changes nothing.
pub async fn record_refund_status(
    tx: &mut Transaction<'_, MySql>,
    refund: &str,
    status: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE payments SET status = ?, updated_at = UTC_TIMESTAMP(6) \
         WHERE provider = 'stripe' AND provider_ref = ?",
        status,
        refund,
    )
    .execute(&mut **tx)
    .await?;
    let order = sqlx::query_scalar!(
        "SELECT order_id AS `order_id: OrderId` FROM payments \
         WHERE provider = 'stripe' AND provider_ref = ? AND kind = 'refund'",
        refund
    )
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(order) = order {
        revenue::recount(tx, order).await?;
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}
