//! Business and health metrics in CloudWatch Embedded Metric Format (EMF):
//! one JSON line on stdout per metric, which CloudWatch Logs turns into a
//! metric — no API call in the request path, no agent. Namespace `OCPizza`,
//! dimension `function` (and `pizzeria` where it matters).
//!
//! What is counted: orders placed, payments failed, queue lag (milliseconds
//! from a message's send to its handling), messages that will go to a
//! dead-letter queue, cold starts, the age of the outbox's oldest unsent row. The alarms of `infra/template.yaml` and
//! the dashboard read them.

use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};

/// The metrics this system emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    OrdersPlaced,
    PaymentsFailed,
    /// A payment that succeeded but does not pay its order (not ours, not in
    /// euros, short): refunded in full, never placed. Alarmed on.
    PaymentsRejected,
    QueueLag,
    DeadLettered,
    ColdStart,
    /// Age of the oldest unsent outbox row (the relay's view of SQS health).
    OutboxOldestSeconds,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::OrdersPlaced => "OrdersPlaced",
            Metric::PaymentsFailed => "PaymentsFailed",
            Metric::PaymentsRejected => "PaymentsRejected",
            Metric::QueueLag => "QueueLag",
            Metric::DeadLettered => "DeadLettered",
            Metric::ColdStart => "ColdStart",
            Metric::OutboxOldestSeconds => "OutboxOldestSeconds",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Metric::QueueLag => "Milliseconds",
            Metric::OutboxOldestSeconds => "Seconds",
            _ => "Count",
        }
    }
}

/// The Lambda function's name (`AWS_LAMBDA_FUNCTION_NAME`), or `local`.
pub fn function_name() -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".to_owned())
}

/// The EMF document for one value, with its dimensions.
pub fn document(metric: Metric, value: f64, dimensions: &[(&str, String)], now_ms: i64) -> Value {
    let mut root = Map::new();
    let names: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": now_ms,
            "CloudWatchMetrics": [{
                "Namespace": "OCPizza",
                "Dimensions": [names],
                "Metrics": [{ "Name": metric.name(), "Unit": metric.unit() }],
            }],
        }),
    );
    for (k, v) in dimensions {
        root.insert((*k).to_owned(), Value::String(v.clone()));
    }
    root.insert(metric.name().to_owned(), json!(value));
    Value::Object(root)
}

/// Writes one metric line to stdout (where Lambda's logs go). Only inside a
/// Lambda runtime (`AWS_LAMBDA_FUNCTION_NAME` set: AWS, or `cargo lambda
/// watch` locally): tests and benchmarks keep stdout for their own output.
pub fn emit(metric: Metric, value: f64, pizzeria: Option<i64>) {
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_none() {
        return;
    }
    let mut dimensions = vec![("function", function_name())];
    if let Some(p) = pizzeria {
        dimensions.push(("pizzeria", p.to_string()));
    }
    let doc = document(
        metric,
        value,
        &dimensions,
        chrono::Utc::now().timestamp_millis(),
    );
    println!("{doc}");
}

static WARM: AtomicBool = AtomicBool::new(false);

/// True for the first invocation of this container (and counts it once).
pub fn cold_start() -> bool {
    let cold = !WARM.swap(true, Ordering::Relaxed);
    if cold {
        emit(Metric::ColdStart, 1.0, None);
    }
    cold
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_follow_the_embedded_metric_format() {
        let doc = document(
            Metric::QueueLag,
            42.0,
            &[("function", "kitchen".into()), ("pizzeria", "3".into())],
            1_795_896_900_000,
        );
        let spec = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(doc["_aws"]["Timestamp"], 1_795_896_900_000_i64);
        assert_eq!(spec["Namespace"], "OCPizza");
        assert_eq!(spec["Dimensions"], json!([["function", "pizzeria"]]));
        assert_eq!(
            spec["Metrics"],
            json!([{"Name": "QueueLag", "Unit": "Milliseconds"}])
        );
        // Every dimension and the metric itself are top-level members.
        assert_eq!(doc["function"], "kitchen");
        assert_eq!(doc["pizzeria"], "3");
        assert_eq!(doc["QueueLag"], 42.0);
    }

    #[test]
    fn only_the_first_invocation_is_a_cold_start() {
        let first = cold_start();
        let second = cold_start();
        assert!(!second);
        // Another test may have run first in this process; never twice.
        assert!(first || !second);
    }
}
