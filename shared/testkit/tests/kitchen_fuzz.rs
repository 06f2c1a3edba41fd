//! Fuzzing the kitchen (see `testkit::fuzz`): SQS batches of any
//! messages through `kitchen::consume` — the unreadable ones are reported as
//! batch item failures, the valid one beside them still applies, nothing
//! crashes the batch — and the display, start, ready and recipe routes with
//! any ids, tokens and `If-None-Match`.

use ocpizza::platform::ids::{OrderId, PizzeriaId};
use ocpizza::platform::queue::{Envelope, Event};
use proptest::prelude::*;
use serde_json::json;
use sqlx::MySqlPool;
use testkit::fuzz::{self, Body, HttpCase};
use testkit::{self as testing, scalar, token_for};

const SECRET: &str = "kitchen-fuzz-secret";

/// The kitchen, and a few cash pickup orders placed at pizzeria 1.
async fn world(pool: &MySqlPool) -> (kitchen::State, Vec<i64>) {
    ocpizza::samples::load_demo(pool).await.unwrap();
    let mut config = testing::config();
    config.secret_key = SECRET.to_owned().into();
    let queues = testing::fresh_queues().await;
    let checkout = checkout::State::new(pool.clone(), &config, queues.clone()).unwrap();
    let mut orders = Vec::new();
    for quantity in 1..=4 {
        let body = json!({
            "pizzeria_id": 1, "fulfilment": "pickup", "payment_method": "cash",
            "lines": [{"product_id": 1, "quantity": quantity}, {"product_id": 21, "quantity": 1}],
            "contact": {"name": "Léa Martin", "phone": "06 12 34 56 78"}
        });
        let req = HttpCase::new("POST", "/orders")
            .header(
                "idempotency-key",
                Some(uuid::Uuid::new_v4().to_string().into_bytes()),
            )
            .body(Body::json(&body))
            .request();
        let answer = testing::json_of(&checkout::handle(&checkout, req).await);
        orders.push(answer["order"]["id"].as_i64().unwrap());
    }
    let state = kitchen::State {
        pool: pool.clone(),
        cors: Default::default(),
        queues,
        secret_key: SECRET.to_owned().into(),
    };
    (state, orders)
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_batch_of_any_messages_fails_only_the_unreadable_ones(pool: MySqlPool) {
    let (state, orders) = world(&pool).await;
    let good = orders[0];
    // `order.placed` of a placed order, a new event each time.
    let valid = move || {
        Envelope::new(
            OrderId(good),
            Event::OrderPlaced {
                pizzeria_id: PizzeriaId(1),
            },
        )
    };
    fuzz::run_consumer("kitchen queue", &orders, valid, |batch| {
        let state = state.clone();
        async move { kitchen::consume(&state, batch).await }
    })
    .await;
    assert_eq!(
        scalar(
            &pool,
            &format!("SELECT COUNT(*) FROM kitchen_tickets WHERE order_id = {good}")
        )
        .await,
        1
    );
    assert_eq!(testing::incomplete_orders(&pool).await, 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_kitchen_routes_answer_any_id_and_token(pool: MySqlPool) {
    let (state, orders) = world(&pool).await;
    let mut tokens = Vec::new();
    for email in [
        "pizzaiolo.1@ocpizza.test",
        "manager.1@ocpizza.test",
        "admin@ocpizza.test",
        "pizzaiolo.2@ocpizza.test",
        "courier.1@ocpizza.test",
        "client.1@ocpizza.test",
    ] {
        tokens.push(token_for(&pool, SECRET, email).await);
    }
    let order = fuzz::path_segment(orders.iter().map(i64::to_string).collect());
    let routes = prop_oneof![
        2 => fuzz::path_segment(vec!["1".into(), "2".into(), "99".into()])
            .prop_map(|p| ("GET", format!("/pizzerias/{p}/tickets"))),
        2 => order.clone().prop_map(|o| ("POST", format!("/tickets/{o}/start"))),
        2 => order.prop_map(|o| ("POST", format!("/tickets/{o}/ready"))),
        1 => fuzz::path_segment(vec!["1".into(), "16".into(), "21".into(), "99".into()])
            .prop_map(|p| ("GET", format!("/recipes/{p}"))),
    ];
    let auth = prop_oneof![
        3 => proptest::sample::select(tokens.clone())
            .prop_map(|t| Some(format!("Bearer {t}").into_bytes())),
        1 => fuzz::authorization(SECRET, tokens),
    ];
    let etag = prop_oneof![
        4 => Just(None),
        1 => fuzz::header_bytes().prop_map(Some),
    ];
    let cases = (routes, auth, etag).prop_flat_map(|((method, path), auth, etag)| {
        (fuzz::method(method), Just(path), Just(auth), Just(etag)).prop_map(
            |(method, path, auth, etag)| {
                HttpCase::new(&method, path)
                    .header("authorization", auth)
                    .header("if-none-match", etag)
            },
        )
    });
    let inputs = fuzz::generate("kitchen routes", cases);
    fuzz::run_http("kitchen routes", inputs, |req| {
        let state = state.clone();
        async move { kitchen::handle(&state, req).await }
    })
    .await;
    assert_eq!(testing::incomplete_orders(&pool).await, 0);
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
}
