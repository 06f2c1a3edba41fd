//! The outbox-relay function, run on a schedule: sends every outbox row the
//! request path could not (SQS down, a crash between commit and send), and
//! reports the backlog an alarm watches.

use ocpizza::platform::clock::Clock;
use ocpizza::platform::metrics::{self, Metric};
use ocpizza::platform::outbox::{self, RelayReport};
use ocpizza::platform::queue::Queues;
use serde_json::{json, Value};
use sqlx::MySqlPool;

#[derive(Clone)]
pub struct State {
    pub pool: MySqlPool,
    pub queues: Queues,
    /// Decides which pre-orders' tickets are due.
    pub clock: Clock,
}

/// Rows younger than this are left to the request path that wrote them.
pub const MIN_AGE_MS: u32 = 2_000;
/// Rows per pass; a pass repeats while it finds a full batch, within the budget.
pub const BATCH: u32 = 200;

/// One scheduled run: relay until the backlog is empty or a pass sends nothing.
pub async fn run_once(state: &State, min_age_ms: u32) -> Result<Value, sqlx::Error> {
    let mut total = RelayReport::default();
    for _ in 0..20 {
        let pass = outbox::relay(
            &state.pool,
            &state.queues,
            BATCH,
            min_age_ms,
            state.clock.now(),
        )
        .await?;
        total.sent += pass.sent;
        total.failed += pass.failed;
        total.pending_before += pass.pending_before;
        if pass.pending_before < BATCH as usize || pass.sent == 0 {
            break;
        }
    }
    let (backlog, oldest_s) = outbox::backlog(&state.pool).await?;
    metrics::emit(Metric::OutboxOldestSeconds, oldest_s as f64, None);
    tracing::info!(
        sent = total.sent,
        failed = total.failed,
        backlog,
        oldest_s,
        "outbox relayed"
    );
    Ok(
        json!({ "sent": total.sent, "failed": total.failed, "backlog": backlog, "oldest_pending_s": oldest_s }),
    )
}
