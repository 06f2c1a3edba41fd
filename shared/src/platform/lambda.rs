//! One function, two triggers: a function URL (HTTP) and an SQS queue.
//!
//! The kitchen and delivery functions answer their staff's screens and consume
//! their queue, as the design cuts them (one function per use case). Lambda
//! hands both kinds of event to the same handler; [`run_http_and_sqs`] tells
//! them apart by shape — an SQS event is `{"Records":[{"eventSource":"aws:sqs",…}]}`
//! — and answers each in its own format: the function URL's response, or the
//! `SqsBatchResponse` that reports partial failures.

use crate::platform::config::Config;
use crate::platform::http::{Cors, Request, Response};
use crate::platform::queue::Queues;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::{service_fn, Adapter, Error, Service};
use secrecy::SecretString;
use serde_json::Value;
use sqlx::MySqlPool;
use std::convert::Infallible;
use std::future::Future;

/// Is this Lambda payload a batch of SQS messages?
pub fn is_sqs_event(payload: &Value) -> bool {
    payload
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|records| records.first())
        .and_then(|record| record.get("eventSource"))
        .and_then(Value::as_str)
        == Some("aws:sqs")
}

/// What a function with both triggers holds (the kitchen's, the delivery's):
/// the database, its screens' CORS, the queues it sends to, the key that
/// verifies staff sessions.
#[derive(Clone)]
pub struct ScreensAndQueue {
    pub pool: MySqlPool,
    pub cors: Cors,
    pub queues: Queues,
    pub secret_key: SecretString,
}

impl ScreensAndQueue {
    /// Made from the configuration; the database connects on first use.
    pub async fn from_config(config: &Config) -> Result<Self, Error> {
        Ok(Self {
            pool: crate::platform::db::connect_lazy(config)?,
            cors: Cors::new(&config.allowed_origins),
            queues: Queues::from_config(config).await,
            secret_key: config.secret_key.clone(),
        })
    }
}

/// Runs the Lambda runtime loop, sending HTTP events to `http` and SQS batches
/// to `sqs`.
pub async fn run_http_and_sqs<H, HF, Q, QF>(http: H, sqs: Q) -> Result<(), Error>
where
    H: Fn(Request) -> HF + Clone + Send + 'static,
    HF: Future<Output = Response> + Send,
    Q: Fn(SqsEvent) -> QF,
    QF: Future<Output = SqsBatchResponse>,
{
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let http = http.clone();
        let sqs = &sqs;
        async move {
            let LambdaEvent { payload, context } = event;
            if is_sqs_event(&payload) {
                let batch: SqsEvent = serde_json::from_value(payload)?;
                return Ok::<Value, Error>(serde_json::to_value(sqs(batch).await)?);
            }
            let request: LambdaRequest = serde_json::from_value(payload)?;
            let mut adapter = Adapter::from(service_fn(move |req: Request| {
                let http = http.clone();
                async move { Ok::<Response, Infallible>(http(req).await) }
            }));
            let response = adapter.call(LambdaEvent::new(request, context)).await?;
            Ok(serde_json::to_value(response)?)
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqs_batches_are_told_from_function_url_requests() {
        let sqs = serde_json::json!({"Records": [{"messageId": "1", "eventSource": "aws:sqs", "body": "{}"}]});
        assert!(is_sqs_event(&sqs));
        let url = serde_json::json!({"version": "2.0", "rawPath": "/tickets", "requestContext": {"http": {"method": "GET"}}});
        assert!(!is_sqs_event(&url));
        let s3 = serde_json::json!({"Records": [{"eventSource": "aws:s3"}]});
        assert!(!is_sqs_event(&s3));
    }
}
