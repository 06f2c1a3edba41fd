//! Fuzzing delivery (see `testkit::fuzz`): SQS batches of any
//! messages through `delivery::consume` — the unreadable ones (and those
//! about orders that do not exist) are reported as batch item failures, the
//! valid one beside them still applies, nothing crashes the batch — and the
//! couriers' routes with any ids, tokens, query strings and cash amounts.

use ocpizza::platform::ids::{OrderId, PizzeriaId};
use ocpizza::platform::queue::{Envelope, Event};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::json;
use sqlx::MySqlPool;
use testkit::fuzz::{self, Body, HttpCase};
use testkit::{self as testing, scalar, token_for};

const SECRET: &str = "delivery-fuzz-secret";

/// Delivery, and cash delivery orders of pizzeria 1 that the kitchen has
/// made ready (and the delivery queue has given a courier).
async fn world(pool: &MySqlPool) -> (delivery::State, Vec<i64>) {
    ocpizza::samples::load_demo(pool).await.unwrap();
    let mut config = testing::config();
    config.secret_key = SECRET.to_owned().into();
    let queues = testing::fresh_queues().await;
    let checkout = checkout::State::new(pool.clone(), &config, queues.clone()).unwrap();
    let kitchen = kitchen::State {
        pool: pool.clone(),
        cors: Default::default(),
        queues: queues.clone(),
        secret_key: SECRET.to_owned().into(),
    };
    let chef = token_for(pool, SECRET, "pizzaiolo.1@ocpizza.test").await;
    let mut orders = Vec::new();
    for quantity in 1..=4 {
        let body = json!({
            "pizzeria_id": 1, "fulfilment": "delivery", "payment_method": "cash",
            "address": {"line1": "25 rue Victor Hugo", "postcode": "69002", "city": "Lyon"},
            "lines": [{"product_id": 1, "quantity": quantity + 1}],
            "contact": {"name": "Hugo Bernard", "phone": "06 11 22 33 44"}
        });
        let req = HttpCase::new("POST", "/orders")
            .header(
                "idempotency-key",
                Some(uuid::Uuid::new_v4().to_string().into_bytes()),
            )
            .body(Body::json(&body))
            .request();
        let answer = testing::json_of(&checkout::handle(&checkout, req).await);
        let id = answer["order"]["id"].as_i64().unwrap();
        for action in ["start", "ready"] {
            let req = HttpCase::new("POST", format!("/tickets/{id}/{action}"))
                .header("authorization", Some(format!("Bearer {chef}").into_bytes()))
                .request();
            assert_eq!(kitchen::handle(&kitchen, req).await.status(), 200);
        }
        orders.push(id);
    }
    let state = delivery::State {
        pool: pool.clone(),
        cors: Default::default(),
        queues,
        secret_key: SECRET.to_owned().into(),
    };
    for &id in &orders {
        let ready = Envelope::new(
            OrderId(id),
            Event::OrderReady {
                pizzeria_id: PizzeriaId(1),
            },
        );
        delivery::apply(pool, ready).await.unwrap();
    }
    (state, orders)
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_batch_of_any_messages_fails_only_the_bad_ones(pool: MySqlPool) {
    let (state, orders) = world(&pool).await;
    let good = orders[0];
    // `order.ready` of a ready delivery order, a new event each time.
    let valid = move || {
        Envelope::new(
            OrderId(good),
            Event::OrderReady {
                pizzeria_id: PizzeriaId(1),
            },
        )
    };
    fuzz::run_consumer("delivery queue", &orders, valid, |batch| {
        let state = state.clone();
        async move { delivery::consume(&state, batch).await }
    })
    .await;
    assert_eq!(
        scalar(
            &pool,
            &format!("SELECT COUNT(*) FROM deliveries WHERE order_id = {good}")
        )
        .await,
        1
    );
    // No courier carries more than the top box holds.
    assert_eq!(
        scalar(
            &pool,
            &format!(
                "SELECT COUNT(*) FROM (SELECT courier_id FROM deliveries \
                 WHERE status IN ('assigned', 'out_for_delivery') GROUP BY courier_id \
                 HAVING COUNT(*) > {}) c",
                delivery::COURIER_CAPACITY
            )
        )
        .await,
        0
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_courier_routes_answer_any_id_token_and_amount(pool: MySqlPool) {
    let (state, _) = world(&pool).await;
    let deliveries: Vec<String> = sqlx::query_as::<_, (i64,)>("SELECT id FROM deliveries")
        .fetch_all(&pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(id,)| id.to_string())
        .collect();
    let mut tokens = Vec::new();
    for email in [
        "courier.1@ocpizza.test",
        "manager.1@ocpizza.test",
        "admin@ocpizza.test",
        "courier.2@ocpizza.test",
        "pizzaiolo.1@ocpizza.test",
    ] {
        tokens.push(token_for(&pool, SECRET, email).await);
    }
    // The couriers of pizzeria 1 too, whoever got the deliveries.
    let couriers: Vec<(String,)> =
        sqlx::query_as("SELECT email FROM users WHERE role = 'courier' AND pizzeria_id = 1")
            .fetch_all(&pool)
            .await
            .unwrap();
    for (email,) in couriers {
        tokens.push(token_for(&pool, SECRET, &email).await);
    }
    let delivery = || fuzz::path_segment(deliveries.clone());
    let cash = fuzz::mixed_object(vec![(
        "cash_collected_cents",
        prop_oneof![
            3 => fuzz::int(1_000..=5_000),
            1 => fuzz::nasty_number(),
        ]
        .boxed(),
    )]);
    let routes = prop_oneof![
        1 => fuzz::query(vec![("pizzeria_id", select(vec!["1".to_owned(), "2".into(), "99".into()]).boxed())])
            .prop_map(|q| ("GET", format!("/deliveries?{q}"), Body::Empty)),
        2 => delivery().prop_map(|d| ("POST", format!("/deliveries/{d}/pickup"), Body::Empty)),
        3 => (delivery(), prop_oneof![4 => fuzz::json_body(cash), 1 => Just(Body::Empty)])
            .prop_map(|(d, body)| ("POST", format!("/deliveries/{d}/delivered"), body)),
    ];
    let auth = prop_oneof![
        3 => select(tokens.clone()).prop_map(|t| Some(format!("Bearer {t}").into_bytes())),
        1 => fuzz::authorization(SECRET, tokens),
    ];
    let cases = (routes, auth).prop_flat_map(|((method, path, body), auth)| {
        (fuzz::method(method), Just(path), Just(body), Just(auth)).prop_map(
            |(method, path, body, auth)| {
                HttpCase::new(&method, path)
                    .header("authorization", auth)
                    .header("content-type", Some(b"application/json".to_vec()))
                    .body(body)
            },
        )
    });
    let inputs = fuzz::generate("delivery routes", cases);
    fuzz::run_http("delivery routes", inputs, |req| {
        let state = state.clone();
        async move { delivery::handle(&state, req).await }
    })
    .await;
    assert_eq!(testing::incomplete_orders(&pool).await, 0);
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
    // A delivered cash order has its payment, of what was due.
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM deliveries d WHERE d.status = 'delivered' AND d.cash_to_collect_cents > 0 \
             AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = d.order_id \
                 AND p.provider = 'cash' AND p.amount_cents = d.cash_to_collect_cents)"
        )
        .await,
        0
    );
}
