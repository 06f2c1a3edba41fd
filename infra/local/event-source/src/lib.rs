//! What Lambda's SQS event source mapping does, for the local stack and the
//! tests: long-poll a queue, hand the consumer function a batch of up to ten
//! messages as an `SqsEvent`, delete the ones that succeeded, and leave the
//! ones its `SqsBatchResponse` names (or the whole batch, when the invocation
//! itself fails) to come back after the visibility timeout — so the queue's
//! redrive policy moves a poison message to its dead-letter queue after
//! `maxReceiveCount` receives.
//!
//! How it maps to the real mapping (`infra/template.yaml`):
//! - `FunctionResponseTypes: [ReportBatchItemFailures]`: [`poll_once`] deletes
//!   all but the reported items; a reported id that is not in the batch fails
//!   the whole batch, as Lambda does;
//! - `BatchSize` ([`Mapping::batch_size`], 10) and
//!   `MaximumBatchingWindowInSeconds` ([`Mapping::window`], 0: a ticket must
//!   reach the kitchen at once, not when a batch fills up);
//! - the mapping's pollers: [`Mapping::pollers`] loops per queue;
//! - an invocation error (crash, timeout) deletes nothing: every message of
//!   the batch comes back, as on AWS.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::{Duration, Instant};

/// One queue feeding one function.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub queue_url: String,
    pub function: String,
    /// Messages per invocation, 1 to 10.
    pub batch_size: i32,
    /// How long to gather a batch once the first message is in.
    pub window: Duration,
    /// Long-poll wait of each receive (at most 20 s).
    pub wait: Duration,
    /// Concurrent poll loops on this queue.
    pub pollers: usize,
}

impl Mapping {
    /// The settings of `infra/template.yaml`.
    pub fn new(queue_url: impl Into<String>, function: impl Into<String>) -> Mapping {
        Mapping {
            queue_url: queue_url.into(),
            function: function.into(),
            batch_size: 10,
            window: Duration::ZERO,
            wait: Duration::from_secs(20),
            pollers: 2,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("SQS: {0}")]
    Sqs(String),
}

/// Invokes the consumer function with a batch.
pub trait Invoke: Sync {
    /// The function's answer, or why the invocation failed as a whole.
    fn invoke(
        &self,
        function: &str,
        event: SqsEvent,
    ) -> impl Future<Output = Result<SqsBatchResponse, String>> + Send;
}

/// The function in the same process: what the tests and the benchmark use.
pub struct InProcess<F>(pub F);

impl<F, Fut> Invoke for InProcess<F>
where
    F: Fn(SqsEvent) -> Fut + Sync,
    Fut: Future<Output = SqsBatchResponse> + Send,
{
    fn invoke(
        &self,
        _function: &str,
        event: SqsEvent,
    ) -> impl Future<Output = Result<SqsBatchResponse, String>> + Send {
        let answer = (self.0)(event);
        async move { Ok(answer.await) }
    }
}

/// The function behind a Lambda invoke endpoint (`cargo lambda watch`
/// locally: `POST {base}/2015-03-31/functions/{name}/invocations`).
#[derive(Debug, Clone)]
pub struct OverHttp {
    pub http: reqwest::Client,
    pub base_url: String,
}

impl Invoke for OverHttp {
    fn invoke(
        &self,
        function: &str,
        event: SqsEvent,
    ) -> impl Future<Output = Result<SqsBatchResponse, String>> + Send {
        let url = format!(
            "{}/2015-03-31/functions/{function}/invocations",
            self.base_url.trim_end_matches('/')
        );
        let request = self.http.post(url).json(&event);
        async move {
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            let function_error = response.headers().contains_key("x-amz-function-error");
            let body: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
            if !status.is_success() || function_error || body.get("errorType").is_some() {
                return Err(format!("invocation failed ({status}): {body}"));
            }
            // A function that answers nothing succeeded with every message.
            if body.is_null() {
                return Ok(SqsBatchResponse::default());
            }
            serde_json::from_value(body).map_err(|e| format!("unreadable answer: {e}"))
        }
    }
}

/// What one poll did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PollReport {
    pub received: usize,
    pub deleted: usize,
    /// Left to come back: reported by the function, or its whole batch when
    /// the invocation failed.
    pub retried: usize,
    pub invocation_failed: bool,
}

fn sqs_error<E: std::error::Error + 'static>(err: aws_sdk_sqs::error::SdkError<E>) -> PollError {
    PollError::Sqs(aws_sdk_sqs::error::DisplayErrorContext(err).to_string())
}

/// `https://sqs.eu-west-3.amazonaws.com/123456789012/ocpizza-kitchen` →
/// `arn:aws:sqs:eu-west-3:123456789012:ocpizza-kitchen` (local URLs get the
/// local region).
pub fn queue_arn(queue_url: &str) -> String {
    let mut parts = queue_url.rsplit('/');
    let name = parts.next().unwrap_or_default();
    let account = parts.next().unwrap_or("000000000000");
    let region = queue_url
        .split("sqs.")
        .nth(1)
        .and_then(|rest| rest.split('.').next())
        .unwrap_or("eu-west-3");
    format!("arn:aws:sqs:{region}:{account}:{name}")
}

/// One receive → invoke → delete cycle. Returns an empty report when the
/// queue stayed empty for the long-poll wait.
pub async fn poll_once(
    client: &aws_sdk_sqs::Client,
    mapping: &Mapping,
    invoker: &impl Invoke,
) -> Result<PollReport, PollError> {
    let batch_size = mapping.batch_size.clamp(1, 10);
    let mut messages = Vec::new();
    let mut wait = mapping.wait;
    let started = Instant::now();
    loop {
        let want = batch_size - messages.len() as i32;
        let output = client
            .receive_message()
            .queue_url(&mapping.queue_url)
            .max_number_of_messages(want)
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(sqs_error)?;
        for message in output.messages.unwrap_or_default() {
            // Received again within the window (its visibility ran out): one
            // record, with the newest receipt handle.
            messages.retain(|m: &aws_sdk_sqs::types::Message| m.message_id != message.message_id);
            messages.push(message);
        }
        let window_left = mapping.window.saturating_sub(started.elapsed());
        if messages.is_empty() || messages.len() as i32 >= batch_size || window_left.is_zero() {
            break;
        }
        wait = window_left;
    }
    if messages.is_empty() {
        return Ok(PollReport::default());
    }

    let arn = queue_arn(&mapping.queue_url);
    let region = arn.split(':').nth(3).unwrap_or_default().to_owned();
    let mut handles: HashMap<String, String> = HashMap::new();
    let mut event = SqsEvent::default();
    for m in messages {
        let id = m.message_id.clone().unwrap_or_default();
        handles.insert(id.clone(), m.receipt_handle.clone().unwrap_or_default());
        let mut record = SqsMessage::default();
        record.message_id = Some(id);
        record.receipt_handle = m.receipt_handle;
        record.md5_of_body = m.md5_of_body;
        record.body = m.body;
        record.attributes = m
            .attributes
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.as_str().to_owned(), v))
            .collect();
        record.event_source = Some("aws:sqs".into());
        record.event_source_arn = Some(arn.clone());
        record.aws_region = Some(region.clone());
        event.records.push(record);
    }
    let mut report = PollReport {
        received: handles.len(),
        ..PollReport::default()
    };

    let failed: HashSet<String> = match invoker.invoke(&mapping.function, event).await {
        Ok(answer) => {
            let named: HashSet<String> = answer
                .batch_item_failures
                .into_iter()
                .map(|f| f.item_identifier)
                .collect();
            if named.iter().any(|id| !handles.contains_key(id)) {
                // Lambda's rule: an identifier not in the batch fails it all.
                tracing::error!(function = %mapping.function, "answer names a message not in the batch; the whole batch fails");
                handles.keys().cloned().collect()
            } else {
                named
            }
        }
        Err(err) => {
            tracing::error!(function = %mapping.function, error = %err, "invocation failed; the batch will come back");
            report.invocation_failed = true;
            handles.keys().cloned().collect()
        }
    };
    report.retried = failed.len();
    let entries: Vec<DeleteMessageBatchRequestEntry> = handles
        .iter()
        .filter(|(id, _)| !failed.contains(*id))
        .enumerate()
        .filter_map(|(i, (_, handle))| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(handle)
                .build()
                .ok()
        })
        .collect();
    if !entries.is_empty() {
        let n = entries.len();
        let output = client
            .delete_message_batch()
            .queue_url(&mapping.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(sqs_error)?;
        report.deleted = n - output.failed().len();
    }
    Ok(report)
}

/// Polls forever (until the task is dropped), pausing a second after an SQS
/// error so a stopped server is retried without spinning.
pub async fn run(client: &aws_sdk_sqs::Client, mapping: &Mapping, invoker: &impl Invoke) {
    loop {
        match poll_once(client, mapping, invoker).await {
            Ok(report) if report.received > 0 => {
                tracing::debug!(function = %mapping.function, ?report, "batch handled")
            }
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(queue = %mapping.queue_url, error = %err, "poll failed; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_follow_the_queue_url() {
        assert_eq!(
            queue_arn("https://sqs.eu-west-3.amazonaws.com/123456789012/ocpizza-kitchen"),
            "arn:aws:sqs:eu-west-3:123456789012:ocpizza-kitchen"
        );
        assert_eq!(
            queue_arn("http://127.0.0.1:9324/123456789012/ocpizza-delivery"),
            "arn:aws:sqs:eu-west-3:123456789012:ocpizza-delivery"
        );
    }
}
