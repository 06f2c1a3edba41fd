//! The expiry-sweep function, run on a schedule: a card order not paid within
//! its reservation time is reconciled with Stripe (placed if it was paid after
//! all), otherwise cancelled with its PaymentIntent, its stock released and
//! what it had paid refunded; then every refund not yet accepted by Stripe
//! is sent again (each with its own idempotency key); old rate-limit windows
//! and sign-in counts are deleted.

use ocpizza::payment::settlement;
use ocpizza::platform::outbox;
use serde_json::{json, Value};

/// The database, the queues and Stripe.
pub type State = ocpizza::payment::Settling;

pub async fn run_once(state: &State) -> Result<Value, settlement::ReconcileError> {
    let (cancelled, events) = settlement::expire_unpaid(&state.pool, &state.stripe, 200).await?;
    outbox::send_now(&state.pool, &state.queues, &events).await;
    let refunds = settlement::send_refunds(&state.pool, &state.stripe, None, 200).await?;
    // Housekeeping: counts that no longer decide anything.
    let purged = ocpizza::platform::rate_limit::purge(&state.pool).await?
        + ocpizza::identity::accounts::purge_login_attempts(&state.pool).await?;
    tracing::info!(
        cancelled,
        events = events.len(),
        refunds_sent = refunds.sent,
        refunds_failed = refunds.failed,
        "expired orders swept"
    );
    Ok(json!({
        "cancelled": cancelled,
        "events": events.len(),
        "refunds_sent": refunds.sent,
        "refunds_failed": refunds.failed,
        "purged": purged,
    }))
}
