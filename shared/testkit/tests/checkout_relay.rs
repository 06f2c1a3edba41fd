//! Checkout while the queue is down, then the outbox relay once it is back:
//! real MariaDB (a fresh database per test) and the real SQS-compatible server.

use checkout::State;
use http::{header, StatusCode};
use lambda_http::Body;
use ocpizza::platform::queue::QueueName;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::time::Duration;
use testkit::{self as testing, scalar};

async fn state(pool: &MySqlPool) -> State {
    ocpizza::samples::load_demo(pool).await.expect("demo data");
    let config = testing::config();
    checkout::State::new(pool.clone(), &config, testing::fresh_queues().await).unwrap()
}

fn order(body: Value, key: Option<&str>) -> http::Request<Body> {
    let mut b = http::Request::builder()
        .method("POST")
        .uri("/orders")
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        b = b.header("idempotency-key", key);
    }
    b.body(Body::Text(body.to_string())).unwrap()
}

fn pickup_cash(lines: Value) -> Value {
    json!({
        "pizzeria_id": 1,
        "fulfilment": "pickup",
        "payment_method": "cash",
        "lines": lines,
        "contact": { "name": "Camille Martin", "phone": "+33 6 12 34 56 78", "email": "camille@example.fr" }
    })
}

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[sqlx::test(migrations = "../../migrations")]
async fn fifty_checkouts_with_sqs_down_all_succeed_and_the_relay_delivers_exactly_fifty(
    pool: MySqlPool,
) {
    let mut state = state(&pool).await;
    let live = state.queues.clone();
    state.queues = testing::unreachable_queues().await;
    for _ in 0..50 {
        let response = checkout::handle(
            &state,
            order(
                pickup_cash(json!([{"product_id": 1, "quantity": 1}])),
                Some(&key()),
            ),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").await,
        50
    );

    // SQS is back: the relay sends what is pending, once.
    let relay = outbox_relay::State {
        pool: pool.clone(),
        queues: live.clone(),
        clock: Default::default(),
    };
    let report = outbox_relay::run_once(&relay, 0).await.unwrap();
    assert_eq!(report["sent"], 50);
    assert_eq!(outbox_relay::run_once(&relay, 0).await.unwrap()["sent"], 0);
    let messages = testing::drain(&live, QueueName::Kitchen, Duration::from_secs(1)).await;
    let mut orders: Vec<i64> = messages.iter().map(|m| m.order_id.0).collect();
    orders.sort();
    orders.dedup();
    assert_eq!((messages.len(), orders.len()), (50, 50));
    testkit::assert_reconciled(&pool, ocpizza::reporting::audit::Scope::Live).await;
}
