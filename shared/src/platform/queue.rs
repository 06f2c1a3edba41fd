//! The order queue: a typed, versioned envelope and the SQS client around it.
//!
//! Every message is an [`Envelope`]: a unique `event_id` (consumers drop a
//! duplicate by it), the event `type`, the order it concerns and when it
//! happened. Producers write the envelope to the outbox inside their
//! transaction; the outbox is sent here after commit (or later by the relay).

use crate::platform::config::Config;
use crate::platform::ids::{OrderId, PizzeriaId};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// A send (with the SDK's retries) that takes longer has failed: the event
/// stays in the outbox for the relay. The SDK has no overall deadline of its
/// own, so without this a queue that accepts connections but never answers
/// would hold a checkout until the Lambda timeout.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(2);

/// The envelope's version; a consumer refuses versions it does not know.
pub const ENVELOPE_VERSION: u32 = 1;

/// What happened to an order. Serialized as `"type"` plus `"data"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// Paid or cash: the kitchen puts a ticket on the pizzeria's display.
    #[serde(rename = "order.placed")]
    OrderPlaced { pizzeria_id: PizzeriaId },
    /// Out of the oven: delivery assigns a courier (delivery orders).
    #[serde(rename = "order.ready")]
    OrderReady { pizzeria_id: PizzeriaId },
    /// Cancelled before preparation: the kitchen withdraws the ticket.
    #[serde(rename = "order.cancelled")]
    OrderCancelled { pizzeria_id: PizzeriaId },
    /// A paid order made bigger waits for the difference: the kitchen takes
    /// the ticket off until it is paid (`order.placed` puts it back).
    #[serde(rename = "order.payment_due")]
    OrderPaymentDue { pizzeria_id: PizzeriaId },
}

impl Event {
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::OrderPlaced { .. } => "order.placed",
            Event::OrderReady { .. } => "order.ready",
            Event::OrderCancelled { .. } => "order.cancelled",
            Event::OrderPaymentDue { .. } => "order.payment_due",
        }
    }

    /// Which queue carries it: the kitchen's or the delivery's.
    pub fn queue(&self) -> QueueName {
        match self {
            Event::OrderPlaced { .. }
            | Event::OrderCancelled { .. }
            | Event::OrderPaymentDue { .. } => QueueName::Kitchen,
            Event::OrderReady { .. } => QueueName::Delivery,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueName {
    Kitchen,
    Delivery,
}

impl QueueName {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::Kitchen => "kitchen",
            QueueName::Delivery => "delivery",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub version: u32,
    pub event_id: Uuid,
    pub order_id: OrderId,
    pub occurred_at: DateTime<Utc>,
    #[serde(flatten)]
    pub event: Event,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("message is not a valid envelope: {0}")]
    Malformed(String),
    #[error("envelope version {0} is not supported")]
    UnsupportedVersion(u32),
    #[error("SQS: {0}")]
    Sqs(String),
    #[error("SQS did not answer within {0:?}")]
    Timeout(Duration),
}

impl Envelope {
    pub fn new(order_id: OrderId, event: Event) -> Self {
        Envelope {
            version: ENVELOPE_VERSION,
            // v7: time-ordered, so ids also sort by creation in indexes and logs.
            event_id: Uuid::now_v7(),
            order_id,
            occurred_at: Utc::now(),
            event,
        }
    }

    pub fn to_json(&self) -> String {
        // Serializing this struct cannot fail: no maps with non-string keys.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses a message body; anything unexpected is a `Malformed` error, never a panic.
    pub fn parse(body: &str) -> Result<Envelope, QueueError> {
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let Version { version } =
            serde_json::from_str(body).map_err(|e| QueueError::Malformed(e.to_string()))?;
        if version != ENVELOPE_VERSION {
            return Err(QueueError::UnsupportedVersion(version));
        }
        serde_json::from_str(body).map_err(|e| QueueError::Malformed(e.to_string()))
    }
}

/// A message as received: its envelope (or why it is unreadable) and the
/// handle needed to delete it.
#[derive(Debug)]
pub struct Received {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub receive_count: u32,
}

/// The SQS client and the queues' URLs.
#[derive(Debug, Clone)]
pub struct Queues {
    client: aws_sdk_sqs::Client,
    kitchen_url: String,
    delivery_url: String,
}

impl Queues {
    /// Builds the client once per container, on the SDK configuration of
    /// [`crate::platform::aws`] (`AWS_ENDPOINT_URL`, local credentials).
    pub async fn from_config(config: &Config) -> Queues {
        let client = aws_sdk_sqs::Client::new(&crate::platform::aws::sdk_config(config).await);
        Queues {
            client,
            kitchen_url: config.kitchen_queue_url.clone(),
            delivery_url: config.delivery_queue_url.clone(),
        }
    }

    /// For tools and tests that already hold a client.
    pub fn new(client: aws_sdk_sqs::Client, kitchen_url: String, delivery_url: String) -> Queues {
        Queues {
            client,
            kitchen_url,
            delivery_url,
        }
    }

    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    pub fn url(&self, queue: QueueName) -> &str {
        match queue {
            QueueName::Kitchen => &self.kitchen_url,
            QueueName::Delivery => &self.delivery_url,
        }
    }

    /// Sends one envelope to the queue its event belongs on, within
    /// [`SEND_TIMEOUT`].
    pub async fn send(&self, envelope: &Envelope) -> Result<(), QueueError> {
        let send = self
            .client
            .send_message()
            .queue_url(self.url(envelope.event.queue()))
            .message_body(envelope.to_json())
            .send();
        tokio::time::timeout(SEND_TIMEOUT, send)
            .await
            .map_err(|_| QueueError::Timeout(SEND_TIMEOUT))?
            .map_err(|e| QueueError::Sqs(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
        Ok(())
    }

    /// Sends up to 10 bodies to one queue in one call; returns the indexes
    /// that were accepted (the others are to be retried).
    pub async fn send_batch(
        &self,
        queue: QueueName,
        bodies: &[String],
    ) -> Result<Vec<usize>, QueueError> {
        let entries: Vec<_> = bodies
            .iter()
            .enumerate()
            .map(|(i, body)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .build()
                    .map_err(|e| QueueError::Sqs(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let send = self
            .client
            .send_message_batch()
            .queue_url(self.url(queue))
            .set_entries(Some(entries))
            .send();
        let output = tokio::time::timeout(SEND_TIMEOUT, send)
            .await
            .map_err(|_| QueueError::Timeout(SEND_TIMEOUT))?
            .map_err(|e| QueueError::Sqs(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
        Ok(output
            .successful()
            .iter()
            .filter_map(|s| s.id().parse().ok())
            .collect())
    }

    /// Long-polls for up to `max` messages (1..=10).
    pub async fn receive(
        &self,
        queue: QueueName,
        max: i32,
        wait: Duration,
    ) -> Result<Vec<Received>, QueueError> {
        let output = self
            .client
            .receive_message()
            .queue_url(self.url(queue))
            .max_number_of_messages(max.clamp(1, 10))
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .message_system_attribute_names(
                aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
            )
            .send()
            .await
            .map_err(|e| QueueError::Sqs(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
        Ok(output
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| Received {
                receive_count: m
                    .attributes()
                    .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1),
                message_id: m.message_id.unwrap_or_default(),
                receipt_handle: m.receipt_handle.unwrap_or_default(),
                body: m.body.unwrap_or_default(),
            })
            .collect())
    }

    /// Messages waiting on a queue and messages received but not yet deleted
    /// (in flight): what an operator watches, and what tests wait on.
    pub async fn depth(&self, queue: QueueName) -> Result<(u64, u64), QueueError> {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(self.url(queue))
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| QueueError::Sqs(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
        let count = |name: A| {
            output
                .attributes()
                .and_then(|a| a.get(&name))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Ok((
            count(A::ApproximateNumberOfMessages),
            count(A::ApproximateNumberOfMessagesNotVisible),
        ))
    }

    /// Deletes handled messages (up to 10).
    pub async fn delete(
        &self,
        queue: QueueName,
        receipt_handles: &[&str],
    ) -> Result<(), QueueError> {
        if receipt_handles.is_empty() {
            return Ok(());
        }
        let entries: Vec<_> = receipt_handles
            .iter()
            .enumerate()
            .map(|(i, handle)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(*handle)
                    .build()
                    .map_err(|e| QueueError::Sqs(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        self.client
            .delete_message_batch()
            .queue_url(self.url(queue))
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| QueueError::Sqs(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}

/// How many receives before SQS moves a message to the dead-letter queue.
pub const MAX_RECEIVES: u32 = 5;

/// Creates `name` and `name-dlq` with a redrive policy (idempotent, as
/// CreateQueue is). The same settings as `infra/template.yaml`. Returns the URL.
pub async fn create_with_dead_letter_queue(
    client: &aws_sdk_sqs::Client,
    name: &str,
) -> Result<String, QueueError> {
    create_with_visibility_timeout(client, name, VISIBILITY_TIMEOUT_SECONDS).await
}

/// How long a received message stays hidden before SQS delivers it again: six
/// times the consumers' 5 s timeout, as AWS advises for event source mappings.
pub const VISIBILITY_TIMEOUT_SECONDS: u32 = 30;

/// [`create_with_dead_letter_queue`] with another visibility timeout (tests
/// use 1 s to watch a poison message reach the DLQ quickly).
pub async fn create_with_visibility_timeout(
    client: &aws_sdk_sqs::Client,
    name: &str,
    visibility_timeout_seconds: u32,
) -> Result<String, QueueError> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let sqs = |e: aws_sdk_sqs::error::SdkError<_, _>| {
        QueueError::Sqs(aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
    };
    let dlq_url = client
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .attributes(QueueAttributeName::MessageRetentionPeriod, "1209600")
        .send()
        .await
        .map_err(sqs)?
        .queue_url
        .unwrap_or_default();
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| QueueError::Sqs(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .unwrap_or_default();
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": MAX_RECEIVES.to_string(),
    });
    let url = client
        .create_queue()
        .queue_name(name)
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            visibility_timeout_seconds.to_string(),
        )
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .map_err(|e| QueueError::Sqs(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?
        .queue_url
        .unwrap_or_default();
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trips_with_its_documented_shape() {
        let envelope = Envelope::new(
            OrderId(42),
            Event::OrderPlaced {
                pizzeria_id: PizzeriaId(1),
            },
        );
        let value: serde_json::Value = serde_json::from_str(&envelope.to_json()).unwrap();
        assert_eq!(value["version"], 1);
        assert_eq!(value["type"], "order.placed");
        assert_eq!(value["order_id"], 42);
        assert_eq!(value["data"]["pizzeria_id"], 1);
        assert!(value["event_id"].as_str().unwrap().len() == 36);
        assert_eq!(Envelope::parse(&envelope.to_json()).unwrap(), envelope);
    }

    #[test]
    fn unreadable_messages_are_errors_not_panics() {
        for body in [
            "",
            "not json",
            "{}",
            r#"{"version": 1}"#,
            r#"{"version": 1, "event_id": "x", "order_id": 1, "occurred_at": "2026-01-01T00:00:00Z", "type": "order.placed", "data": {"pizzeria_id": 1}}"#,
            r#"{"version": 1, "event_id": "0192e4a0-0000-7000-8000-000000000000", "order_id": 1, "occurred_at": "2026-01-01T00:00:00Z", "type": "order.eaten", "data": {}}"#,
        ] {
            assert!(
                matches!(Envelope::parse(body), Err(QueueError::Malformed(_))),
                "{body:?}"
            );
        }
        assert!(matches!(
            Envelope::parse(r#"{"version": 2}"#),
            Err(QueueError::UnsupportedVersion(2))
        ));
    }

    #[test]
    fn events_go_to_their_queue() {
        let p = PizzeriaId(1);
        assert_eq!(
            Event::OrderPlaced { pizzeria_id: p }.queue(),
            QueueName::Kitchen
        );
        assert_eq!(
            Event::OrderCancelled { pizzeria_id: p }.queue(),
            QueueName::Kitchen
        );
        assert_eq!(
            Event::OrderReady { pizzeria_id: p }.queue(),
            QueueName::Delivery
        );
    }
}
