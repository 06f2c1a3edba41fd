//! The transactional outbox: nothing is lost between the database and the queue.
//!
//! A change to an order writes its event here in the same transaction; after
//! the commit the request path sends it and marks it sent. When SQS is down the
//! row simply stays pending and `outbox-relay` sends it later. A message may
//! therefore go out twice (sent, then the mark lost); consumers drop
//! duplicates by `event_id`.

use crate::platform::ids::OrderId;
use crate::platform::queue::{Envelope, QueueName, Queues};
use chrono::{DateTime, Utc};
use sqlx::{MySql, MySqlPool, Transaction};
use uuid::Uuid;

/// Writes the event in the caller's transaction.
pub async fn enqueue(
    tx: &mut Transaction<'_, MySql>,
    envelope: &Envelope,
) -> Result<(), sqlx::Error> {
    enqueue_at(tx, envelope, None).await
}

/// Writes an event the relay sends only from `not_before` on (a pre-order's
/// ticket, released at its slot minus the preparation time); `None` is now.
pub async fn enqueue_at(
    tx: &mut Transaction<'_, MySql>,
    envelope: &Envelope,
    not_before: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO outbox (event_id, event_type, order_id, queue, payload, created_at, not_before) \
         VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6), ?)",
        envelope.event_id.to_string(),
        envelope.event.type_name(),
        envelope.order_id.0,
        envelope.event.queue().as_str(),
        envelope.to_json(),
        not_before.map(|t| t.naive_utc()),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes an order's events still waiting for their time (a pre-order's
/// ticket, when the order is cancelled or waits for a payment again).
pub async fn forget_deferred(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM outbox WHERE order_id = ? AND sent_at IS NULL AND not_before IS NOT NULL",
        order.0
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// After the commit: sends these events now and marks them sent. Failures are
/// logged and left to the relay; the caller's answer does not depend on SQS.
pub async fn send_now(pool: &MySqlPool, queues: &Queues, envelopes: &[Envelope]) {
    let mut sent = Vec::new();
    for envelope in envelopes {
        match queues.send(envelope).await {
            Ok(()) => sent.push(envelope.event_id),
            Err(err) => {
                tracing::warn!(event_id = %envelope.event_id, error = %err, "queue send failed; outbox-relay will retry")
            }
        }
    }
    if let Err(err) = mark_sent(pool, &sent).await {
        tracing::warn!(error = %err, "could not mark outbox rows sent; they may be sent again");
    }
}

async fn mark_sent(pool: &MySqlPool, event_ids: &[Uuid]) -> Result<(), sqlx::Error> {
    if event_ids.is_empty() {
        return Ok(());
    }
    // Runtime SQL: an `IN` list as long as the events sent, known only at run time.
    let mut builder = sqlx::QueryBuilder::<MySql>::new(
        "UPDATE outbox SET sent_at = UTC_TIMESTAMP(6), attempts = attempts + 1 WHERE event_id IN (",
    );
    let mut list = builder.separated(", ");
    for id in event_ids {
        list.push_bind(id.to_string());
    }
    builder.push(")");
    builder.build().execute(pool).await?;
    Ok(())
}

/// What one relay pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RelayReport {
    pub sent: usize,
    pub failed: usize,
    pub pending_before: usize,
}

/// Sends pending rows older than `min_age_ms` (so the request path, which
/// sends right after its commit, is not raced) and due at `now` (`not_before`),
/// in batches of 10 per queue. Rows are claimed with `FOR UPDATE SKIP
/// LOCKED`, so two relays never send the same rows at the same time.
pub async fn relay(
    pool: &MySqlPool,
    queues: &Queues,
    limit: u32,
    min_age_ms: u32,
    now: DateTime<Utc>,
) -> Result<RelayReport, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let rows = sqlx::query!(
        "SELECT id, event_id, queue, payload FROM outbox \
         WHERE sent_at IS NULL AND created_at <= UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND \
           AND (not_before IS NULL OR not_before <= ?) \
         ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED",
        u64::from(min_age_ms) * 1000,
        now.naive_utc(),
        limit
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut report = RelayReport {
        pending_before: rows.len(),
        ..RelayReport::default()
    };
    let mut sent_ids: Vec<i64> = Vec::new();
    let mut failed_ids: Vec<i64> = Vec::new();
    for queue in [QueueName::Kitchen, QueueName::Delivery] {
        let for_queue: Vec<_> = rows
            .iter()
            .filter(|row| row.queue == queue.as_str())
            .collect();
        for chunk in for_queue.chunks(10) {
            let bodies: Vec<String> = chunk.iter().map(|row| row.payload.clone()).collect();
            match queues.send_batch(queue, &bodies).await {
                Ok(accepted) => {
                    for (i, row) in chunk.iter().enumerate() {
                        if accepted.contains(&i) {
                            sent_ids.push(row.id);
                        } else {
                            failed_ids.push(row.id);
                        }
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, queue = queue.as_str(), "relay batch failed");
                    failed_ids.extend(chunk.iter().map(|row| row.id));
                }
            }
        }
    }
    for (ids, sent) in [(&sent_ids, true), (&failed_ids, false)] {
        if ids.is_empty() {
            continue;
        }
        // Runtime SQL: an `IN` list as long as the rows of this pass, known only at run time.
        let mut builder = sqlx::QueryBuilder::<MySql>::new(if sent {
            "UPDATE outbox SET sent_at = UTC_TIMESTAMP(6), attempts = attempts + 1, last_error = NULL WHERE id IN ("
        } else {
            "UPDATE outbox SET attempts = attempts + 1, last_error = 'send failed' WHERE id IN ("
        });
        let mut list = builder.separated(", ");
        for id in ids.iter() {
            list.push_bind(*id);
        }
        builder.push(")");
        builder.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    report.sent = sent_ids.len();
    report.failed = failed_ids.len();
    Ok(report)
}

/// How many events are due and not sent, and how long the oldest has been
/// due (seconds): the figure an alarm watches. A pre-order's ticket waiting
/// for its time is not late.
pub async fn backlog(pool: &MySqlPool) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query!(
        "SELECT COUNT(*) AS `pending!: i64`, \
            COALESCE(CAST(TIMESTAMPDIFF(SECOND, MIN(COALESCE(not_before, created_at)), UTC_TIMESTAMP(6)) AS SIGNED), 0) \
            AS `oldest_seconds!: i64` \
         FROM outbox WHERE sent_at IS NULL AND (not_before IS NULL OR not_before <= UTC_TIMESTAMP(6))",
    )
    .fetch_one(pool)
    .await?;
    Ok((row.pending, row.oldest_seconds))
}
