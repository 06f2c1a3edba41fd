//! What the orders tests share: the world of functions over one database
//! (orders, with a Stripe that answers and one that does not; checkout; the
//! webhook; the sweep), calls through the real handlers, demo staff tokens,
//! a web card order, and paying it as the shop does.
#![allow(dead_code)]

use http::StatusCode;
use lambda_http::Body;
use ocpizza::payment::Stripe;
use ocpizza::platform::http::Cors;
use secrecy::SecretString;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use testkit as testing;

pub const SECRET: &str = "money-test-secret";
pub const WEBHOOK_SECRET: &str = "whsec_money";
pub const STRIPE_KEY: &str = "sk_test_local";

pub struct World {
    pub pool: MySqlPool,
    pub orders: orders::State,
    /// The same function with a Stripe that cannot be reached.
    pub orders_stripe_down: orders::State,
    pub checkout: checkout::State,
    pub webhook: stripe_webhook::State,
    pub sweep: expiry_sweep::State,
    pub stripe: Stripe,
}

pub async fn world(pool: &MySqlPool) -> World {
    ocpizza::platform::telemetry::init();
    ocpizza::samples::load_demo(pool).await.unwrap();
    testing::open_all_day_with_plenty_of_stock(pool).await;
    let mut config = testing::config();
    config.stripe_webhook_secret = WEBHOOK_SECRET.to_owned().into();
    let queues = testing::fresh_queues().await;
    let stripe = Stripe::from_config(&config).unwrap();
    // A port nobody listens on: every call fails at once, as when Stripe is down.
    let down = Stripe::new(
        "http://127.0.0.1:9",
        SecretString::from(STRIPE_KEY),
        SecretString::from(WEBHOOK_SECRET),
    )
    .unwrap();
    let orders = orders::State {
        clock: Default::default(),
        pool: pool.clone(),
        cors: Cors::default(),
        queues: queues.clone(),
        stripe: stripe.clone(),
        secret_key: SECRET.to_owned().into(),
    };
    World {
        pool: pool.clone(),
        orders_stripe_down: orders::State {
            clock: Default::default(),
            stripe: down,
            ..orders.clone()
        },
        orders,
        checkout: checkout::State::new(pool.clone(), &config, queues.clone()).unwrap(),
        webhook: stripe_webhook::State {
            pool: pool.clone(),
            queues: queues.clone(),
            stripe: stripe.clone(),
        },
        sweep: expiry_sweep::State {
            pool: pool.clone(),
            queues,
            stripe: stripe.clone(),
        },
        stripe,
    }
}

pub use testkit::{json_of, request};

pub async fn call(
    state: &orders::State,
    method: &str,
    uri: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> (StatusCode, Value) {
    let response = orders::handle(state, request(method, uri, body, bearer)).await;
    (response.status(), json_of(&response))
}

/// A bearer token for a demo account.
pub async fn token_of(pool: &MySqlPool, email: &str) -> String {
    testing::token_for(pool, SECRET, email).await
}

/// A web card order at pizzeria 1 of `quantity` of product 1:
/// (id, tracking token, checkout's answer).
pub async fn card_order(world: &World, fulfilment: &str, quantity: i64) -> (i64, String, Value) {
    let mut body = json!({
        "pizzeria_id": 1, "fulfilment": fulfilment, "payment_method": "card",
        "lines": [{"product_id": 1, "quantity": quantity}],
        "contact": {"name": "Inès Moreau", "phone": "06 12 34 56 78", "email": "ines@example.fr"}
    });
    if fulfilment == "delivery" {
        body["address"] =
            json!({"line1": "25 rue Victor Hugo", "postcode": "69002", "city": "Lyon"});
    }
    let req = http::Request::builder()
        .method("POST")
        .uri("/orders")
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .body(Body::Text(body.to_string()))
        .unwrap();
    let response = checkout::handle(&world.checkout, req).await;
    let answer = json_of(&response);
    assert_eq!(response.status(), StatusCode::CREATED, "{answer}");
    (
        answer["order"]["id"].as_i64().unwrap(),
        answer["order"]["tracking_token"]
            .as_str()
            .unwrap()
            .to_owned(),
        answer,
    )
}

/// Pays what the order owes through the shop's route, as the tracker does
/// (a card token from Stripe.js, then `payment/card`), then the refresh the
/// tracker asks for when the webhook is late.
pub async fn pay(state: &orders::State, id: i64, token: &str) -> (StatusCode, Value) {
    let config = testing::config();
    let card = testkit::stripe::card_token(&config.stripe_api_base, STRIPE_KEY, "4242424242424242")
        .await
        .expect("localstripe makes a token");
    let (status, body) = call(
        state,
        "POST",
        &format!("/orders/{id}/payment/card?token={token}"),
        Some(json!({ "card_token": card })),
        None,
    )
    .await;
    if status != StatusCode::OK {
        return (status, body);
    }
    call(
        state,
        "POST",
        &format!("/orders/{id}/payment/refresh?token={token}"),
        None,
        None,
    )
    .await
}
