//! Fuzzing the Stripe webhook (see `testkit::fuzz`): any body with
//! any `Stripe-Signature` is a 400 problem that changes nothing; correctly
//! signed arbitrary events (Stripe's word, but any shape) are a 200 or a 4xx
//! problem, never a 5xx, and leave every order whole.

use chrono::Utc;
use ocpizza::payment;
use proptest::prelude::*;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use stripe_webhook::State;
use testkit::fuzz::{self, Body, HttpCase};
use testkit::{self as testing, scalar};

const SECRET: &str = "whsec_fuzz";

/// A webhook, a checkout, and a few card orders waiting for their payment:
/// (order id, PaymentIntent id, total).
async fn world(pool: &MySqlPool) -> (State, Vec<(i64, String, i64)>) {
    ocpizza::samples::load_demo(pool).await.unwrap();
    let mut config = testing::config();
    config.stripe_webhook_secret = SECRET.to_owned().into();
    let queues = testing::fresh_queues().await;
    let stripe = payment::Stripe::from_config(&config).unwrap();
    let checkout = checkout::State::new(pool.clone(), &config, queues.clone()).unwrap();
    let mut orders = Vec::new();
    for quantity in 1..=3 {
        let body = json!({
            "pizzeria_id": 1, "fulfilment": "pickup", "payment_method": "card",
            "lines": [{"product_id": 1, "quantity": quantity}],
            "contact": {"name": "Léa Petit", "phone": "0612345678"}
        });
        let req = HttpCase::new("POST", "/orders")
            .header(
                "idempotency-key",
                Some(uuid::Uuid::new_v4().to_string().into_bytes()),
            )
            .body(Body::json(&body))
            .request();
        let answer = testing::json_of(&checkout::handle(&checkout, req).await);
        orders.push((
            answer["order"]["id"].as_i64().unwrap(),
            answer["payment"]["payment_intent_id"]
                .as_str()
                .unwrap()
                .to_owned(),
            answer["order"]["total_cents"].as_i64().unwrap(),
        ));
    }
    let state = State {
        pool: pool.clone(),
        queues,
        stripe,
    };
    (state, orders)
}

/// An event as Stripe sends one (`mixed`: each field valid, missing or
/// junk): a PaymentIntent of one of our orders, a refund, a charge, any
/// other object.
fn event(orders: &[(i64, String, i64)], mixed: bool) -> BoxedStrategy<Value> {
    let order_ids: Vec<Value> = orders.iter().map(|o| json!(o.0.to_string())).collect();
    let intents: Vec<Value> = orders.iter().map(|o| json!(o.1)).collect();
    let amounts: Vec<Value> = orders.iter().map(|o| json!(o.2)).collect();
    let intent = fuzz::object(
        mixed,
        vec![
            ("id", fuzz::one_of(intents)),
            ("object", fuzz::one_of(vec![json!("payment_intent")])),
            ("amount", amount(&amounts)),
            ("amount_received", amount(&amounts)),
            ("currency", fuzz::one_of(vec![json!("eur")])),
            (
                "status",
                fuzz::one_of(
                    [
                        "succeeded",
                        "requires_payment_method",
                        "canceled",
                        "processing",
                    ]
                    .map(Value::from)
                    .to_vec(),
                ),
            ),
            (
                "metadata",
                fuzz::object(mixed, vec![("order_id", fuzz::one_of(order_ids))]),
            ),
        ],
    );
    let refund = fuzz::object(
        mixed,
        vec![
            ("id", fuzz::one_of(vec![json!("re_1")])),
            ("object", fuzz::one_of(vec![json!("refund")])),
            ("amount", amount(&[json!(500)])),
            (
                "status",
                fuzz::one_of(vec![json!("succeeded"), json!("failed")]),
            ),
            ("payment_intent", fuzz::one_of(vec![json!("pi_1")])),
        ],
    );
    let charge = fuzz::object(
        mixed,
        vec![
            ("id", fuzz::one_of(vec![json!("ch_1")])),
            ("object", fuzz::one_of(vec![json!("charge")])),
            ("amount_refunded", fuzz::int(0..=5_000)),
            ("refunded", fuzz::one_of(vec![json!(true), json!(false)])),
        ],
    );
    let object = if mixed {
        prop_oneof![6 => intent, 1 => refund, 1 => charge, 1 => fuzz::junk_json()].boxed()
    } else {
        prop_oneof![6 => intent, 1 => refund, 1 => charge].boxed()
    };
    fuzz::object(
        mixed,
        vec![
        (
            "id",
            prop_oneof![
                4 => fuzz::uuid_text().prop_map(|u| json!(format!("evt_{}", u.replace('-', "")))),
                1 => fuzz::one_of(vec![json!("evt_again")]),
                1 => fuzz::nasty_string().prop_map(Value::String),
            ]
            .boxed(),
        ),
        ("object", fuzz::one_of(vec![json!("event")])),
        (
            "type",
            fuzz::one_of(
                [
                    "payment_intent.succeeded",
                    "payment_intent.payment_failed",
                    "payment_intent.canceled",
                    "charge.refunded",
                    "refund.updated",
                    "customer.created",
                ]
                .map(Value::from)
                .to_vec(),
            ),
        ),
        ("created", Just(json!(Utc::now().timestamp())).boxed()),
        (
            "data",
            fuzz::object(mixed, vec![("object", object)]),
        ),
    ],
    )
}

/// An amount: an order's total, or any number.
fn amount(totals: &[Value]) -> BoxedStrategy<Value> {
    prop_oneof![3 => fuzz::one_of(totals.to_vec()), 1 => fuzz::nasty_number()].boxed()
}

fn post(payload: String, signature: Option<Vec<u8>>) -> HttpCase {
    HttpCase::new("POST", "/")
        .header("content-type", Some(b"application/json".to_vec()))
        .header("stripe-signature", signature)
        .body(Body::Text(payload))
}

/// Any `Stripe-Signature` but a valid one: none, junk, another secret's, a
/// stale or future timestamp, the signature of another body, or malformed.
fn forged(orders: &[(i64, String, i64)]) -> BoxedStrategy<HttpCase> {
    let body = prop_oneof![
        4 => event(orders, true).prop_map(|v| v.to_string()),
        1 => fuzz::nasty_string(),
    ];
    let kinds = proptest::sample::select(vec![
        "none",
        "junk",
        "other-secret",
        "stale",
        "future",
        "other-body",
        "no-v1",
        "no-t",
        "bad-t",
        "v0-only",
    ]);
    (body, kinds, fuzz::header_bytes())
        .prop_map(|(payload, kind, junk)| {
            let now = Utc::now().timestamp();
            let sign = |secret: &str, at: i64| payment::sign(payload.as_bytes(), secret, at);
            let header = match kind {
                "none" => None,
                "junk" => Some(String::from_utf8_lossy(&junk).into_owned()),
                "other-secret" => Some(sign("whsec_another", now)),
                "stale" => Some(sign(SECRET, now - 301)),
                "future" => Some(sign(SECRET, now + 3_600)),
                "other-body" => Some(payment::sign(b"{}", SECRET, now)),
                "no-v1" => Some(format!("t={now}")),
                "no-t" => Some(sign(SECRET, now).replace("t=", "x=")),
                "bad-t" => Some(sign(SECRET, now).replace("t=", "t=+")),
                _ => Some(sign(SECRET, now).replace("v1=", "v0=")),
            };
            post(payload, header.map(String::into_bytes))
        })
        .boxed()
}

/// Orders, payments and processed events: what a webhook may change.
async fn snapshot(pool: &MySqlPool) -> Vec<(String, i64)> {
    let mut rows = Vec::new();
    for table in [
        "orders",
        "payments",
        "processed_events",
        "order_status_history",
    ] {
        rows.push((
            table.to_owned(),
            scalar(pool, &format!("SELECT COUNT(*) FROM {table}")).await,
        ));
    }
    let statuses: Vec<(i64, String)> = sqlx::query_as("SELECT id, status FROM orders ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap();
    rows.extend(statuses.into_iter().map(|(id, s)| (s, id)));
    rows
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_bad_signature_is_a_400_that_changes_nothing(pool: MySqlPool) {
    let (state, orders) = world(&pool).await;
    let before = snapshot(&pool).await;
    let inputs = fuzz::generate("webhook bad signatures", forged(&orders));
    fuzz::run(
        "webhook bad signatures",
        inputs,
        |case: HttpCase| {
            let state = state.clone();
            async move { stripe_webhook::handle(&state, case.request()).await }
        },
        |response| {
            fuzz::check_http(response).and_then(|status| match status.as_str() {
                "400" => Ok(status),
                _ => Err(format!("a bad signature answered {status}")),
            })
        },
    )
    .await;
    assert_eq!(
        snapshot(&pool).await,
        before,
        "a bad signature changed data"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn signed_events_of_any_shape_are_handled_or_refused(pool: MySqlPool) {
    let (state, orders) = world(&pool).await;
    let payloads = prop_oneof![
        4 => event(&orders, false).prop_map(|v| v.to_string()),
        4 => event(&orders, true).prop_map(|v| v.to_string()),
        1 => fuzz::nasty_string(),
        1 => fuzz::raw_body().prop_map(|b| match b {
            Body::Text(t) => t,
            Body::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
            Body::Empty => String::new(),
        }),
    ];
    let inputs = fuzz::generate("webhook signed events", payloads);
    fuzz::run_http(
        "webhook signed events",
        inputs
            .into_iter()
            .map(|payload| {
                let signature = payment::sign(payload.as_bytes(), SECRET, Utc::now().timestamp());
                post(payload, Some(signature.into_bytes()))
            })
            .collect(),
        |req| {
            let state = state.clone();
            async move { stripe_webhook::handle(&state, req).await }
        },
    )
    .await;
    assert_eq!(testing::incomplete_orders(&pool).await, 0);
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
}
