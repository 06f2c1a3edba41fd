//! The notifier function, run on a schedule: e-mails the notifications that
//! status changes recorded (`ocpizza::order::notify`), retrying failed sends with
//! backoff, and reports what it did.

use ocpizza::order::notify::{self, Mailer, SendReport};
use sqlx::MySqlPool;

#[derive(Clone)]
pub struct State {
    pub pool: MySqlPool,
    pub mailer: Mailer,
}

/// Notifications per pass: each is leased for as long as sending a whole pass
/// can take, so a small batch keeps a crashed sender's rows waiting briefly.
pub const BATCH: u32 = 20;

/// One scheduled run: passes until none finds a full batch (at most 10).
pub async fn run_once(state: &State) -> Result<SendReport, sqlx::Error> {
    let mut total = SendReport::default();
    for _ in 0..10 {
        let pass = notify::send_pending(&state.pool, &state.mailer, BATCH).await?;
        total.sent += pass.sent;
        total.failed += pass.failed;
        total.retried += pass.retried;
        if pass.sent + pass.failed + pass.retried < BATCH as usize {
            break;
        }
    }
    tracing::info!(
        sent = total.sent,
        failed = total.failed,
        retried = total.retried,
        "notifications sent"
    );
    Ok(total)
}
