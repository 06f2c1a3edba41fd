//! `event-source`: the local stack's SQS → function link. Polls the kitchen and
//! delivery queues and invokes the `kitchen` and `delivery` functions through
//! `cargo lambda watch`, as Lambda's event source mappings do in production.
//!
//! Settings: `KITCHEN_QUEUE_URL`, `DELIVERY_QUEUE_URL`, `AWS_ENDPOINT_URL`
//! (as every function), and `LAMBDA_INVOKE_URL` (default
//! `http://127.0.0.1:9000`, where `make run` serves the functions).

use event_source::{Mapping, OverHttp};
use ocpizza::platform::config::Config;
use std::time::Duration;

#[tokio::main]
async fn main() {
    ocpizza::platform::telemetry::init();
    let config = Config::load_or_exit(&[]);
    let queues = ocpizza::platform::queue::Queues::from_config(&config).await;
    let invoker = OverHttp {
        // A first invocation may compile the function (debug) under `cargo lambda watch`.
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(600))
            .build()
            .unwrap_or_default(),
        base_url: std::env::var("LAMBDA_INVOKE_URL")
            .unwrap_or_else(|_| "http://127.0.0.1:9000".to_owned()),
    };
    let mappings = [
        Mapping::new(&config.kitchen_queue_url, "kitchen"),
        Mapping::new(&config.delivery_queue_url, "delivery"),
    ];
    tracing::info!(kitchen = %mappings[0].queue_url, delivery = %mappings[1].queue_url, invoke = %invoker.base_url, "polling");
    let mut tasks = tokio::task::JoinSet::new();
    for mapping in mappings {
        for _ in 0..mapping.pollers {
            let client = queues.client().clone();
            let mapping = mapping.clone();
            let invoker = invoker.clone();
            tasks.spawn(async move { event_source::run(&client, &mapping, &invoker).await });
        }
    }
    while tasks.join_next().await.is_some() {}
}
