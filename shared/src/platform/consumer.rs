//! Queue consumers: an SQS batch in, a partial batch response out.
//!
//! Lambda's SQS event source mapping (with `ReportBatchItemFailures`) hands a
//! function up to ten messages and deletes every one the answer does not name
//! as failed; the failed ones come back after the visibility timeout and, after
//! [`crate::platform::queue::MAX_RECEIVES`] receives, move to the dead-letter queue.
//! [`process_batch`] gives each consumer that contract: messages are handled
//! one by one, in order, and a failure (including an unreadable body) fails
//! that message only.
//!
//! Effects are exactly-once on at-least-once delivery: a consumer applies a
//! message inside a transaction that also records its `event_id` in
//! `processed_events` ([`claim`]); a second delivery finds the row and does
//! nothing.

use crate::platform::queue::Envelope;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use sqlx::{MySql, Transaction};
use std::future::Future;
use tracing::Instrument;

/// Why one message could not be applied. Either way it is reported as a batch
/// item failure, so SQS delivers it again (and eventually dead-letters it).
#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    /// Not a message this consumer can ever read: it will end in the DLQ.
    #[error("unreadable message: {0}")]
    Unreadable(String),
    /// A transient failure (database down, lock timeout): a retry may succeed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Other(String),
}

/// Applies `handle` to each message of the batch, in order, and names the
/// messages that failed.
pub async fn process_batch<F, Fut>(consumer: &str, event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(Envelope) -> Fut,
    Fut: Future<Output = Result<(), ConsumeError>>,
{
    let mut response = SqsBatchResponse::default();
    let cold_start = crate::platform::metrics::cold_start();
    tracing::info!(consumer, records = event.records.len(), cold_start, function = %crate::platform::metrics::function_name(), "batch");
    for record in event.records {
        let message_id = record.message_id.clone().unwrap_or_default();
        let receive_count = record
            .attributes
            .get("ApproximateReceiveCount")
            .cloned()
            .unwrap_or_default();
        // From the send to now: the queue's lag, which an alarm watches.
        if let Some(sent) = record
            .attributes
            .get("SentTimestamp")
            .and_then(|t| t.parse::<i64>().ok())
        {
            let lag = (chrono::Utc::now().timestamp_millis() - sent).max(0);
            crate::platform::metrics::emit(
                crate::platform::metrics::Metric::QueueLag,
                lag as f64,
                None,
            );
        }
        let result = match record.body.as_deref().map(Envelope::parse) {
            None => Err(ConsumeError::Unreadable("empty body".into())),
            Some(Err(err)) => Err(ConsumeError::Unreadable(err.to_string())),
            Some(Ok(envelope)) => {
                let span = tracing::info_span!(
                    "message",
                    consumer,
                    message_id = %message_id,
                    event_id = %envelope.event_id,
                    event_type = envelope.event.type_name(),
                    order_id = %envelope.order_id,
                );
                handle(envelope).instrument(span).await
            }
        };
        if let Err(err) = result {
            if receive_count.parse::<u32>().unwrap_or(0) >= crate::platform::queue::MAX_RECEIVES {
                // The redrive policy moves it to the dead-letter queue now.
                crate::platform::metrics::emit(
                    crate::platform::metrics::Metric::DeadLettered,
                    1.0,
                    None,
                );
                tracing::error!(consumer, message_id = %message_id, "last attempt failed: the message goes to the dead-letter queue");
            }
            tracing::error!(consumer, message_id = %message_id, receive_count = %receive_count, error = %err, "message failed; SQS will deliver it again");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// Records that `consumer` applied `event_id`, in the caller's transaction.
/// `false`: it was applied before (or is being applied by a concurrent
/// delivery, which this call waited for) — do nothing.
pub async fn claim(
    tx: &mut Transaction<'_, MySql>,
    consumer: &str,
    event_id: &uuid::Uuid,
) -> Result<bool, sqlx::Error> {
    claim_id(tx, consumer, &event_id.to_string()).await
}

/// [`claim`] for an event id that is not ours (a Stripe event's `evt_…`):
/// the same row, the same answer.
pub async fn claim_id(
    tx: &mut Transaction<'_, MySql>,
    consumer: &str,
    event_id: &str,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query!(
        "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES (?, ?, UTC_TIMESTAMP(6))",
        consumer,
        event_id
    )
    .execute(&mut **tx)
    .await;
    match result {
        Ok(_) => Ok(true),
        Err(err) if crate::platform::db::duplicate_key(&err).is_some() => Ok(false),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::ids::{OrderId, PizzeriaId};
    use crate::platform::queue::Event;
    use aws_lambda_events::event::sqs::SqsMessage;

    fn message(id: &str, body: Option<String>) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = body;
        m
    }

    #[tokio::test]
    async fn only_the_failed_and_unreadable_messages_are_reported() {
        let good = Envelope::new(
            OrderId(1),
            Event::OrderPlaced {
                pizzeria_id: PizzeriaId(1),
            },
        );
        let refused = Envelope::new(
            OrderId(2),
            Event::OrderPlaced {
                pizzeria_id: PizzeriaId(1),
            },
        );
        let mut event = SqsEvent::default();
        event.records = vec![
            message("m1", Some(good.to_json())),
            message("m2", Some("{not json".into())),
            message("m3", Some(refused.to_json())),
            message("m4", None),
        ];
        let seen = std::sync::Mutex::new(Vec::new());
        let response = process_batch("test", event, |e: Envelope| {
            let seen = &seen;
            async move {
                if let Ok(mut s) = seen.lock() {
                    s.push(e.order_id.0);
                }
                if e.order_id == OrderId(2) {
                    Err(ConsumeError::Other("refused".into()))
                } else {
                    Ok(())
                }
            }
        })
        .await;
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["m2", "m3", "m4"]);
        assert_eq!(*seen.lock().unwrap(), [1, 2], "readable messages, in order");
    }
}
