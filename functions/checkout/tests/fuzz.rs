//! Fuzzing checkout's `POST /orders` (see `testkit::fuzz`): carts
//! mixing valid and invalid fields, raw bodies, any `Idempotency-Key`,
//! `Authorization` and `Content-Type`, other methods and paths; against real
//! MariaDB, the SQS-compatible server and localstripe. Every answer is a 2xx
//! or a 4xx problem, and nothing is left half-written.

use proptest::prelude::*;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use testkit::fuzz::{self, Body, HttpCase};
use testkit::{self as testing, scalar};

const SECRET: &str = "checkout-fuzz-secret";

/// Addresses the offline geocoder knows: in pizzeria 1's zone, or anywhere.
fn addresses(in_zone: bool) -> Vec<Value> {
    let all: Vec<Value> = serde_json::from_str(ocpizza::samples::ADDRESSES_JSON).unwrap();
    all.iter()
        .filter(|a| !in_zone || a["postcode"] == "69002")
        .map(|a| json!({"line1": a["line1"], "postcode": a["postcode"], "city": a["city"]}))
        .collect()
}

fn product() -> BoxedStrategy<Value> {
    // Pizzas, one without a recipe (16), drinks, desserts, and no product (17, 99).
    fuzz::one_of(
        [1, 2, 3, 5, 11, 16, 17, 21, 26, 31, 99]
            .map(Value::from)
            .to_vec(),
    )
}

fn line(mixed: bool) -> BoxedStrategy<Value> {
    fuzz::object(
        mixed,
        vec![("product_id", product()), ("quantity", fuzz::int(1..=4))],
    )
}

fn address(mixed: bool) -> BoxedStrategy<Value> {
    if !mixed {
        return fuzz::one_of(addresses(true));
    }
    prop_oneof![
        2 => fuzz::one_of(addresses(false)),
        3 => fuzz::mixed_object(vec![
            ("line1", fuzz::one_of(vec![json!("25 Rue Victor Hugo")])),
            ("postcode", fuzz::one_of(vec![json!("69002")])),
            ("city", fuzz::one_of(vec![json!("Lyon")])),
        ]),
    ]
    .boxed()
}

fn contact(mixed: bool) -> BoxedStrategy<Value> {
    fuzz::object(
        mixed,
        vec![
            (
                "name",
                prop_oneof![
                    Just(json!("Camille Martin")),
                    fuzz::edge_text(100).prop_map(Value::String),
                ]
                .boxed(),
            ),
            ("phone", fuzz::edge_phone().prop_map(Value::String).boxed()),
            (
                "email",
                prop_oneof![
                    Just(Value::Null),
                    fuzz::edge_email().prop_map(Value::String),
                ]
                .boxed(),
            ),
        ],
    )
}

/// A checkout body: all valid (a real order, of any kind), or each field
/// valid, missing or junk, nested ones too.
fn cart(mixed: bool) -> BoxedStrategy<Value> {
    let lines = if mixed {
        prop_oneof![
            4 => prop::collection::vec(line(true), 0..4).prop_map(Value::Array),
            1 => prop::collection::vec(line(false), 29..33).prop_map(Value::Array),
        ]
        .boxed()
    } else {
        prop::collection::vec(line(false), 1..4)
            .prop_map(Value::Array)
            .boxed()
    };
    let fields = vec![
        (
            "pizzeria_id",
            fuzz::one_of([1, 1, 1, 1, 1, 2, 6, 9].map(Value::from).to_vec()),
        ),
        (
            "fulfilment",
            fuzz::one_of(vec![json!("pickup"), json!("delivery")]),
        ),
        ("address", address(mixed)),
        (
            "payment_method",
            fuzz::one_of(vec![json!("cash"), json!("card")]),
        ),
        ("lines", lines),
        ("contact", contact(mixed)),
        (
            "channel",
            fuzz::one_of(vec![json!("web"), json!("phone"), json!("counter")]),
        ),
    ];
    if mixed {
        fuzz::mixed_object(fields)
    } else {
        // A correct client leaves `channel` out on the web.
        fuzz::good_object(fields[..6].to_vec())
    }
}

/// One aspect of the request fuzzed at a time, the others as a correct
/// client sends them: the body, the key, the token, the content type, or the
/// method and path.
fn cases(tokens: Vec<String>) -> BoxedStrategy<HttpCase> {
    let order = |method: String, body, key: Option<Vec<u8>>, auth, content_type| {
        HttpCase::new(&method, "/orders")
            .header("idempotency-key", key)
            .header("authorization", auth)
            .header("content-type", content_type)
            .body(body)
    };
    let post = || Just("POST".to_owned());
    let good_body = || cart(false).prop_map(|v| Body::json(&v));
    let good_key = || fuzz::uuid_text().prop_map(|k| Some(k.into_bytes()));
    let customer = Some(format!("Bearer {}", tokens[0]).into_bytes());
    let guest = || prop_oneof![3 => Just(None), 1 => Just(customer.clone())];
    let json = || Just(Some(b"application/json".to_vec()));
    let mixed = prop_oneof![1 => cart(false), 3 => cart(true)].boxed();
    let elsewhere = (
        fuzz::method("POST"),
        fuzz::path_segment(vec!["orders".into()]),
        fuzz::path_segment(vec![]),
    )
        .prop_map(|(method, first, second)| HttpCase::new(&method, format!("/{first}/{second}")));
    prop_oneof![
        8 => (post(), fuzz::json_body(mixed), good_key(), guest(), json()).prop_map(move |(m, b, k, a, c)| order(m, b, k, a, c)),
        2 => (post(), good_body(), fuzz::idempotency_key(), guest(), json()).prop_map(move |(m, b, k, a, c)| order(m, b, k, a, c)),
        2 => (post(), good_body(), good_key(), fuzz::authorization(SECRET, tokens), json()).prop_map(move |(m, b, k, a, c)| order(m, b, k, a, c)),
        1 => (post(), good_body(), good_key(), guest(), fuzz::content_type()).prop_map(move |(m, b, k, a, c)| order(m, b, k, a, c)),
        1 => (fuzz::method("POST"), good_body(), good_key(), guest(), json()).prop_map(move |(m, b, k, a, c)| order(m, b, k, a, c)),
        1 => elsewhere,
    ]
    .boxed()
}

#[sqlx::test(migrations = "../../migrations")]
async fn checkout_answers_every_input_with_an_order_or_a_problem(pool: MySqlPool) {
    ocpizza::samples::load_demo(&pool).await.unwrap();
    // So that valid carts keep being placed over thousands of cases (product
    // 16, with no recipe, still answers 409).
    testing::open_all_day_with_plenty_of_stock(&pool).await;
    let mut config = testing::config();
    config.secret_key = SECRET.to_owned().into();
    let state = checkout::State::new(pool.clone(), &config, testing::fresh_queues().await).unwrap();
    let mut tokens = Vec::new();
    for email in [
        "client.1@ocpizza.test",
        "cashier.1@ocpizza.test",
        "manager.2@ocpizza.test",
        "pizzaiolo.1@ocpizza.test",
    ] {
        tokens.push(testing::token_for(&pool, SECRET, email).await);
    }

    let inputs = fuzz::generate("checkout POST /orders", cases(tokens));
    fuzz::run_http("checkout POST /orders", inputs, |req| {
        let state = state.clone();
        async move { checkout::handle(&state, req).await }
    })
    .await;

    assert_eq!(testing::incomplete_orders(&pool).await, 0);
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
    // A web card order either has its PaymentIntent or was cancelled at once.
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM orders o WHERE o.status = 'pending_payment' \
             AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id)"
        )
        .await,
        0
    );
    // Every key kept has its answer (saved in the transaction of its order).
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM idempotency_keys WHERE response_body IS NULL"
        )
        .await,
        0
    );
}
