//! The orders function end to end with checkout, the menu, the expiry sweep,
//! real MariaDB, the real SQS-compatible server and localstripe.

use chrono::Utc;
use http::{header, StatusCode};
use lambda_http::Body;
use ocpizza::identity::auth;
use ocpizza::identity::role::Role;
use ocpizza::payment::Stripe;
use ocpizza::platform::http::{Cors, Response};
use ocpizza::platform::ids::{PizzeriaId, UserId};
use ocpizza::platform::queue::QueueName;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::time::Duration;
use testkit::{self as testing, scalar};

const SECRET: &str = "orders-test-secret";

struct World {
    pool: MySqlPool,
    orders: orders::State,
    checkout: checkout::State,
    stripe: Stripe,
}

async fn world(pool: &MySqlPool) -> World {
    ocpizza::platform::telemetry::init();
    ocpizza::samples::load_demo(pool).await.unwrap();
    let config = testing::config();
    let queues = testing::fresh_queues().await;
    let stripe = Stripe::from_config(&config).unwrap();
    World {
        pool: pool.clone(),
        orders: orders::State {
            clock: Default::default(),
            pool: pool.clone(),
            cors: Cors::default(),
            queues: queues.clone(),
            stripe: stripe.clone(),
            secret_key: SECRET.to_owned().into(),
        },
        checkout: checkout::State::new(pool.clone(), &config, queues).unwrap(),
        stripe,
    }
}

fn json_of(response: &Response) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null)
}

/// Places an order of `quantity` Margheritas at pizzeria 1: (id, token, answer).
async fn place(
    world: &World,
    method: &str,
    fulfilment: &str,
    quantity: i64,
) -> (i64, String, Value) {
    let mut body = json!({
        "pizzeria_id": 1, "fulfilment": fulfilment, "payment_method": method,
        "lines": [{"product_id": 1, "quantity": quantity}],
        "contact": {"name": "Hugo Bernard", "phone": "06 11 22 33 44", "email": "hugo@example.fr"}
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
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        json_of(&response)
    );
    let answer = json_of(&response);
    (
        answer["order"]["id"].as_i64().unwrap(),
        answer["order"]["tracking_token"]
            .as_str()
            .unwrap()
            .to_owned(),
        answer,
    )
}

fn request(
    method: &str,
    uri: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> http::Request<Body> {
    let mut b = http::Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = bearer {
        b = b.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    b.body(
        body.map(|v| Body::Text(v.to_string()))
            .unwrap_or(Body::Empty),
    )
    .unwrap()
}

async fn call(
    world: &World,
    method: &str,
    uri: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> (StatusCode, Value) {
    let response = orders::handle(&world.orders, request(method, uri, body, bearer)).await;
    (response.status(), json_of(&response))
}

/// A bearer token for a demo account.
async fn token_of(world: &World, email: &str) -> String {
    let (id, role, pizzeria): (i64, String, Option<i64>) =
        sqlx::query_as("SELECT id, role, pizzeria_id FROM users WHERE email = ?")
            .bind(email)
            .fetch_one(&world.pool)
            .await
            .unwrap();
    let role: Role = role.parse().unwrap();
    auth::issue(
        SECRET.as_bytes(),
        UserId(id),
        role,
        pizzeria.map(PizzeriaId),
        0,
        Utc::now(),
    )
    .unwrap()
    .0
}

async fn margherita_max(world: &World) -> i64 {
    let state = menu::State::new(world.pool.clone(), Cors::default());
    let req = http::Request::builder()
        .uri("/pizzerias/1/menu")
        .body(Body::Empty)
        .unwrap();
    let menu = json_of(&menu::handle(&state, req).await);
    menu["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == 1)
        .unwrap()["max_quantity"]
        .as_i64()
        .unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_guest_follows_an_order_with_its_token_and_nobody_else_can(pool: MySqlPool) {
    let world = world(&pool).await;
    let (id, token, _) = place(&world, "cash", "delivery", 2).await;
    let (status, body) = call(
        &world,
        "GET",
        &format!("/orders/{id}?token={token}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let o = &body["order"];
    assert_eq!(o["status"], "placed");
    assert_eq!(o["lines"][0]["quantity"], 2);
    assert_eq!(o["total_cents"], 1800 + 250);
    assert_eq!(o["payment"]["status"], "due_on_delivery");
    assert_eq!(o["history"][0]["status"], "placed");
    assert_eq!(o["history"][0]["by"], "web");
    assert!(o["history"][0]["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(o["changeable"], true);

    let someone = token_of(&world, "client.2@ocpizza.test").await;
    let other_pizzeria = token_of(&world, "cashier.2@ocpizza.test").await;
    for (uri, bearer) in [
        (format!("/orders/{id}"), None),
        (format!("/orders/{id}?token=wrong"), None),
        (format!("/orders/{id}?token={}", &token[..20]), None),
        (format!("/orders/{id}"), Some(someone.as_str())),
        (format!("/orders/{id}"), Some(other_pizzeria.as_str())),
        (format!("/orders/{}?token={token}", id + 1), None),
    ] {
        let (status, problem) = call(&world, "GET", &uri, None, bearer).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(problem["status"], 404);
    }
    // Staff of the order's pizzeria see it.
    let cashier = token_of(&world, "cashier.1@ocpizza.test").await;
    assert_eq!(
        call(
            &world,
            "GET",
            &format!("/orders/{id}"),
            None,
            Some(&cashier)
        )
        .await
        .0,
        StatusCode::OK
    );
    // A tampered bearer token is a 401.
    assert_eq!(
        call(
            &world,
            "GET",
            &format!("/orders/{id}"),
            None,
            Some("abc.def.ghi")
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn cancelling_twenty_orders_gives_the_twenty_portions_back(pool: MySqlPool) {
    let world = world(&pool).await;
    let before = margherita_max(&world).await;
    let mut placed = Vec::new();
    for _ in 0..20 {
        placed.push(place(&world, "cash", "pickup", 1).await);
    }
    assert_eq!(margherita_max(&world).await, before - 20);
    for (id, token, _) in &placed {
        let (status, body) = call(
            &world,
            "POST",
            &format!("/orders/{id}/cancel?token={token}"),
            None,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["order"]["status"], "cancelled");
        assert_eq!(body["order"]["payment"]["status"], "not_due");
    }
    assert_eq!(margherita_max(&world).await, before);
    // Cancelling again changes nothing and still answers the order.
    let (id, token, _) = &placed[0];
    let (status, body) = call(
        &world,
        "POST",
        &format!("/orders/{id}/cancel?token={token}"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (status, body["order"]["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM order_status_history WHERE status = 'cancelled'"
        )
        .await,
        20
    );
    // The kitchen is told of each cancellation of a placed order.
    let messages = testing::drain(
        &world.orders.queues,
        QueueName::Kitchen,
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.event.type_name() == "order.cancelled")
            .count(),
        20
    );
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
    testkit::assert_reconciled(&pool, ocpizza::reporting::audit::Scope::Live).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn staff_move_an_order_through_the_kitchen_and_changes_stop_at_preparing(pool: MySqlPool) {
    let world = world(&pool).await;
    let (id, token, _) = place(&world, "cash", "delivery", 2).await;
    let pizzaiolo = token_of(&world, "pizzaiolo.1@ocpizza.test").await;
    let courier = token_of(&world, "courier.1@ocpizza.test").await;
    let other = token_of(&world, "pizzaiolo.2@ocpizza.test").await;
    let customer = token_of(&world, "client.1@ocpizza.test").await;
    let on_hand_before = scalar(
        &pool,
        "SELECT SUM(on_hand) FROM stock WHERE pizzeria_id = 1",
    )
    .await;
    let status_uri = format!("/orders/{id}/status");

    assert_eq!(
        call(
            &world,
            "POST",
            &status_uri,
            Some(json!({"status": "preparing"})),
            None
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(
            &world,
            "POST",
            &status_uri,
            Some(json!({"status": "preparing"})),
            Some(&courier)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(
            &world,
            "POST",
            &status_uri,
            Some(json!({"status": "preparing"})),
            Some(&other)
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(
            &world,
            "POST",
            &status_uri,
            Some(json!({"status": "preparing"})),
            Some(&customer)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(
            &world,
            "POST",
            &status_uri,
            Some(json!({"status": "delivered"})),
            Some(&pizzaiolo)
        )
        .await
        .0,
        // The delivery routes own `delivered`, with the courier's checks.
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        call(
            &world,
            "POST",
            &status_uri,
            Some(json!({"status": "baked"})),
            Some(&pizzaiolo)
        )
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let (status, body) = call(
        &world,
        "POST",
        &status_uri,
        Some(json!({"status": "preparing"})),
        Some(&pizzaiolo),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["order"]["status"], "preparing");
    assert_eq!(body["order"]["changeable"], false);
    // The reservation became consumption: on_hand went down, nothing stays reserved for it.
    assert!(
        scalar(
            &pool,
            "SELECT SUM(on_hand) FROM stock WHERE pizzeria_id = 1"
        )
        .await
            < on_hand_before
    );
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);

    // Too late for the customer now.
    let (status, problem) = call(
        &world,
        "POST",
        &format!("/orders/{id}/cancel?token={token}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["status"], 409);
    let modify = json!({"lines": [{"product_id": 1, "quantity": 1}]});
    assert_eq!(
        call(
            &world,
            "PATCH",
            &format!("/orders/{id}?token={token}"),
            Some(modify),
            None
        )
        .await
        .0,
        StatusCode::CONFLICT
    );

    let (status, body) = call(
        &world,
        "POST",
        &status_uri,
        Some(json!({"status": "ready"})),
        Some(&pizzaiolo),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let history: Vec<&str> = body["order"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["placed", "preparing", "ready"]);
    assert_eq!(body["order"]["history"][1]["by"], "pizzaiolo");
    // order.ready goes to the delivery queue.
    let ready = testing::drain(
        &world.orders.queues,
        QueueName::Delivery,
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(ready.len(), 1);
    assert_eq!(ready[0].event.type_name(), "order.ready");
    // A pickup-only step is refused for a delivery.
    assert_eq!(
        call(
            &world,
            "POST",
            &status_uri,
            Some(json!({"status": "picked_up"})),
            Some(&pizzaiolo)
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn modifying_an_order_reprices_and_rereserves(pool: MySqlPool) {
    let world = world(&pool).await;
    let before = margherita_max(&world).await;
    let (id, token, _) = place(&world, "cash", "pickup", 2).await;
    let uri = format!("/orders/{id}?token={token}");
    let (status, body) = call(
        &world,
        "PATCH",
        &uri,
        Some(
            json!({"lines": [{"product_id": 1, "quantity": 4}, {"product_id": 31, "quantity": 1}]}),
        ),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["order"]["total_cents"], 4 * 900 + 550);
    assert_eq!(margherita_max(&world).await, before - 4);
    let (status, body) = call(
        &world,
        "PATCH",
        &uri,
        Some(json!({"lines": [{"product_id": 1, "quantity": 1}]})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["order"]["total_cents"], 900);
    assert_eq!(body["order"]["lines"].as_array().unwrap().len(), 1);
    assert_eq!(margherita_max(&world).await, before - 1);
    // More than the stock: 409, and the order is as it was.
    let (status, problem) = call(
        &world,
        "PATCH",
        &uri,
        Some(json!({"lines": [{"product_id": 7, "quantity": 30}]})),
        None,
    )
    .await;
    assert!(
        status == StatusCode::CONFLICT || status == StatusCode::OK,
        "{problem}"
    );
    for bad in [
        json!({"lines": []}),
        json!({"lines": [{"product_id": 1, "quantity": -1}]}),
        json!({"lines": "x"}),
        json!({}),
    ] {
        assert_eq!(
            call(&world, "PATCH", &uri, Some(bad.clone()), None).await.0,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}"
        );
    }
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
}

/// Pays an order's PaymentIntent on localstripe as Stripe.js would, then asks
/// the orders function to reconcile (no webhook involved).
async fn pay(world: &World, id: i64, token: &str, answer: &Value) {
    let intent = answer["payment"]["payment_intent_id"].as_str().unwrap();
    let config = testing::config();
    testkit::stripe::pay_with_test_card(
        &config.stripe_api_base,
        "sk_test_local",
        intent,
        "4242424242424242",
    )
    .await
    .expect("localstripe accepts the test card");
    let (status, body) = call(
        world,
        "POST",
        &format!("/orders/{id}/payment/refresh?token={token}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["order"]["status"], "placed", "{body}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_paid_order_stays_paid_to_the_cent_and_cancelling_refunds_it(pool: MySqlPool) {
    let world = world(&pool).await;
    let (id, token, answer) = place(&world, "card", "pickup", 3).await;
    assert_eq!(answer["order"]["status"], "pending_payment");
    pay(&world, id, &token, &answer).await;
    let intent = answer["payment"]["payment_intent_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let paid = world.stripe.retrieve_payment_intent(&intent).await.unwrap();
    assert_eq!(paid.amount_received.cents(), 2700);

    // Down from 3 to 2 pizzas: 9,00 € refunded on Stripe.
    let uri = format!("/orders/{id}?token={token}");
    let (status, body) = call(
        &world,
        "PATCH",
        &uri,
        Some(json!({"lines": [{"product_id": 1, "quantity": 2}]})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["order"]["payment"]["refunded_cents"], 900);
    assert_eq!(
        body["order"]["payment"]["paid_cents"].as_i64().unwrap()
            - body["order"]["payment"]["refunded_cents"].as_i64().unwrap(),
        1800
    );

    // Up to 4: a PaymentIntent for the 18,00 € difference.
    let (status, body) = call(
        &world,
        "PATCH",
        &uri,
        Some(json!({"lines": [{"product_id": 1, "quantity": 4}]})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["payment"]["balance_cents"], 1800);
    let extra = world
        .stripe
        .retrieve_payment_intent(body["payment"]["payment_intent_id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(extra.amount.cents(), 1800);

    // Cancelling refunds everything that was taken (27,00 − 9,00 = 18,00 €).
    let (status, body) = call(
        &world,
        "POST",
        &format!("/orders/{id}/cancel?token={token}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["order"]["payment"]["status"], "refunded");
    assert_eq!(
        scalar(
            &pool,
            &format!(
                "SELECT SUM(amount_cents) FROM payments WHERE order_id = {id} AND kind = 'refund'"
            )
        )
        .await,
        2700
    );
    testkit::assert_reconciled(&pool, ocpizza::reporting::audit::Scope::Live).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_sweep_cancels_unpaid_orders_and_releases_their_stock(pool: MySqlPool) {
    let world = world(&pool).await;
    let before = margherita_max(&world).await;
    let (unpaid, _, unpaid_answer) = place(&world, "card", "pickup", 2).await;
    let (paid_late, _, paid_answer) = place(&world, "card", "pickup", 1).await;
    // The second was paid on Stripe but its webhook was lost.
    let config = testing::config();
    testkit::stripe::pay_with_test_card(
        &config.stripe_api_base,
        "sk_test_local",
        paid_answer["payment"]["payment_intent_id"]
            .as_str()
            .unwrap(),
        "4242424242424242",
    )
    .await
    .unwrap();
    sqlx::query("UPDATE orders SET reservation_expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 MINUTE")
        .execute(&pool)
        .await
        .unwrap();

    let sweep = expiry_sweep::State {
        pool: pool.clone(),
        queues: world.orders.queues.clone(),
        stripe: world.stripe.clone(),
    };
    let report = expiry_sweep::run_once(&sweep).await.unwrap();
    assert_eq!(report["cancelled"], 1);
    let status = |id: i64| {
        let pool = pool.clone();
        async move {
            sqlx::query_as::<_, (String,)>("SELECT status FROM orders WHERE id = ?")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
                .0
        }
    };
    assert_eq!(status(unpaid).await, "cancelled");
    assert_eq!(status(paid_late).await, "placed");
    assert_eq!(margherita_max(&world).await, before - 1);
    // The unpaid PaymentIntent can no longer be paid.
    let intent = world
        .stripe
        .retrieve_payment_intent(
            unpaid_answer["payment"]["payment_intent_id"]
                .as_str()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(intent.status.as_str(), "canceled");
    // A second sweep finds nothing.
    assert_eq!(
        expiry_sweep::run_once(&sweep).await.unwrap()["cancelled"],
        0
    );
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
    testkit::assert_reconciled(&pool, ocpizza::reporting::audit::Scope::Live).await;
}

/// What Stripe.js `createToken` does in the shop: localstripe (like Stripe)
/// turns the card into a token, authorised by the publishable key alone.
async fn card_token(number: &str) -> String {
    let config = testing::config();
    let form = [
        ("card[number]", number),
        ("card[exp_month]", "12"),
        ("card[exp_year]", "2030"),
        ("card[cvc]", "123"),
        ("key", "pk_test_local"),
    ];
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/v1/tokens", config.stripe_api_base))
        .form(&form)
        .send()
        .await
        .expect("localstripe answers")
        .json()
        .await
        .expect("a token");
    answer["id"].as_str().expect("a token id").to_owned()
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_shop_pays_with_a_card_token_and_a_declined_card_leaves_the_order_waiting(
    pool: MySqlPool,
) {
    let world = world(&pool).await;
    let (id, token, answer) = place(&world, "card", "pickup", 2).await;
    let total = answer["order"]["total_cents"].as_i64().unwrap();
    let pay = format!("/orders/{id}/payment/card?token={token}");
    let status_of = |body: &Value| body["order"]["status"].as_str().unwrap_or("").to_owned();

    // Not a token, or someone else's order: refused before Stripe is asked.
    for bad in [
        json!({"card_token": "tok_../x"}),
        json!({"card_token": "4242424242424242"}),
        json!({}),
    ] {
        let (status, body) = call(&world, "POST", &pay, Some(bad.clone()), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    let good = card_token("4242424242424242").await;
    let (status, _) = call(
        &world,
        "POST",
        &format!("/orders/{id}/payment/card?token=wrong"),
        Some(json!({"card_token": good})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A declined card: 402, and the order keeps waiting for another card.
    let declined = card_token("4000000000000002").await;
    let (status, body) = call(
        &world,
        "POST",
        &pay,
        Some(json!({"card_token": declined})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
    assert_eq!(body["type"], "/problems/card-declined");
    let (_, order) = call(
        &world,
        "GET",
        &format!("/orders/{id}?token={token}"),
        None,
        None,
    )
    .await;
    assert_eq!(status_of(&order), "pending_payment");

    // The good card: Stripe takes the payment; the webhook (here, the
    // tracker's refresh, as when the webhook is late) places the order.
    let (status, body) = call(
        &world,
        "POST",
        &pay,
        Some(json!({"card_token": good})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["payment_intent"]["status"], "succeeded");
    assert_eq!(status_of(&body), "pending_payment");
    let (status, body) = call(
        &world,
        "POST",
        &format!("/orders/{id}/payment/refresh?token={token}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(status_of(&body), "placed");
    assert_eq!(body["order"]["payment"]["paid_cents"], total);

    // Paying again: nothing to pay, and Stripe holds one payment.
    let again = card_token("4242424242424242").await;
    let (status, body) = call(
        &world,
        "POST",
        &pay,
        Some(json!({"card_token": again})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["type"], "/problems/nothing-to-pay");

    // A cash order has nothing to pay by card.
    let (cash, cash_token, _) = place(&world, "cash", "pickup", 1).await;
    let (status, _) = call(
        &world,
        "POST",
        &format!("/orders/{cash}/payment/card?token={cash_token}"),
        Some(json!({"card_token": card_token("4242424242424242").await})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

/// The reconciliation check finds each kind of disagreement an operator must
/// hear about, on the order concerned, and nothing on the orders left alone.
#[sqlx::test(migrations = "../../migrations")]
async fn the_reconciliation_check_names_each_disagreement(pool: MySqlPool) {
    use ocpizza::reporting::audit::{audit, Scope};
    let world = world(&pool).await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(place(&world, "cash", "pickup", 1).await.0);
    }
    assert!(audit(&pool, Scope::Live).await.unwrap().is_empty());
    // The outbox was sent by checkout, but no kitchen consumed it.
    let settled = audit(&pool, Scope::Settled).await.unwrap();
    assert_eq!(settled.len(), 6, "{settled:?}");
    assert!(settled.iter().all(|f| f.check == "kitchen"));

    let corruptions = [
        ("status-history", "UPDATE orders SET status = 'preparing' WHERE id = ?"),
        ("totals", "UPDATE orders SET subtotal_cents = subtotal_cents + 1, total_cents = total_cents + 1 WHERE id = ?"),
        ("reservation", "DELETE FROM stock_movements WHERE order_id = ?"),
        ("payments", "INSERT INTO payments (order_id, provider, kind, provider_ref, amount_cents, status) VALUES (?, 'cash', 'charge', 'x', 999999, 'succeeded')"),
        ("notifications", "DELETE FROM notifications WHERE order_id = ?"),
    ];
    for ((check, sql), id) in corruptions.iter().zip(&ids) {
        sqlx::query(sql).bind(id).execute(&pool).await.unwrap();
        let findings = audit(&pool, Scope::Live).await.unwrap();
        assert!(
            findings
                .iter()
                .any(|f| f.check == *check && f.order_id == Some(*id)),
            "{check} on order {id}: {findings:?}"
        );
    }
    // Deleting an order's movements broke the stock ledger too.
    let findings = audit(&pool, Scope::Live).await.unwrap();
    assert!(
        findings.iter().any(|f| f.check == "stock-ledger"),
        "{findings:?}"
    );
    let untouched = ids[5];
    assert!(
        findings.iter().all(|f| f.order_id != Some(untouched)),
        "{findings:?}"
    );
}
