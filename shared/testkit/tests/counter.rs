//! Orders taken by staff (phone and counter) and by signed-in customers, with
//! payment at the counter: checkout, orders and the kitchen together, on real
//! MariaDB and the real SQS-compatible server.

use http::StatusCode;
use ocpizza::platform::queue::{QueueName, Queues};
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::time::Duration;
use testkit::{self as testing, json_of, request, scalar, token_for};

const SECRET: &str = "counter-test-secret";
/// client.1@ocpizza.test's phone number in the demo data.
const CLIENT_1_PHONE: &str = "+33639980001";

struct World {
    queues: Queues,
    checkout: checkout::State,
    orders: orders::State,
    kitchen: kitchen::State,
}

async fn world(pool: &MySqlPool) -> World {
    ocpizza::platform::telemetry::init();
    ocpizza::samples::load_demo(pool).await.unwrap();
    let mut config = testing::config();
    config.secret_key = SECRET.to_owned().into();
    let queues = testing::fresh_queues().await;
    World {
        checkout: checkout::State::new(pool.clone(), &config, queues.clone()).unwrap(),
        orders: orders::State {
            clock: Default::default(),
            pool: pool.clone(),
            cors: Default::default(),
            queues: queues.clone(),
            stripe: ocpizza::payment::Stripe::from_config(&config).unwrap(),
            secret_key: SECRET.to_owned().into(),
        },
        kitchen: kitchen::State {
            pool: pool.clone(),
            cors: Default::default(),
            queues: queues.clone(),
            secret_key: SECRET.to_owned().into(),
        },
        queues,
    }
}

async fn order(world: &World, body: Value, bearer: Option<&str>) -> (StatusCode, Value) {
    let mut req = request("POST", "/orders", Some(body), bearer);
    req.headers_mut().insert(
        "idempotency-key",
        uuid::Uuid::new_v4().to_string().parse().unwrap(),
    );
    let response = checkout::handle(&world.checkout, req).await;
    (response.status(), json_of(&response))
}

async fn orders_call(
    world: &World,
    method: &str,
    uri: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> (StatusCode, Value) {
    let response = orders::handle(&world.orders, request(method, uri, body, bearer)).await;
    (response.status(), json_of(&response))
}

fn phone_order(channel: &str, method: &str, fulfilment: &str) -> Value {
    let mut body = json!({
        "pizzeria_id": 1, "channel": channel, "fulfilment": fulfilment, "payment_method": method,
        "lines": [{"product_id": 1, "quantity": 2}],
        "contact": {"name": "Camille Martin", "phone": CLIENT_1_PHONE}
    });
    if fulfilment == "delivery" {
        body["address"] =
            json!({"line1": "25 rue Victor Hugo", "postcode": "69002", "city": "Lyon"});
    }
    body
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_phone_order_goes_from_the_cashier_to_the_counter_paid(pool: MySqlPool) {
    let world = world(&pool).await;
    let cashier = token_for(&pool, SECRET, "cashier.1@ocpizza.test").await;
    let chef = token_for(&pool, SECRET, "pizzaiolo.1@ocpizza.test").await;
    let client = token_for(&pool, SECRET, "client.1@ocpizza.test").await;

    // A number alone links nothing: someone who signed up with Camille's
    // number would otherwise read her orders.
    let (status, anonymous) = order(
        &world,
        phone_order("phone", "cash", "pickup"),
        Some(&cashier),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{anonymous}");
    let (_, mine) = orders_call(&world, "GET", "/orders", None, Some(&client)).await;
    assert_eq!(mine["orders"].as_array().map(Vec::len), Some(0), "{mine}");

    // The cashier looks the caller up, however the number is typed, checks
    // the name and e-mail, and picks the account.
    let mut found = Value::Null;
    for typed in ["06%2039%2098%2000%2001", "0639980001", "%2B33639980001"] {
        let req = request(
            "GET",
            &format!("/customers?phone={typed}"),
            None,
            Some(&cashier),
        );
        let response = checkout::handle(&world.checkout, req).await;
        assert_eq!(response.status(), StatusCode::OK, "{typed}");
        found = json_of(&response);
        assert_eq!(
            found["customers"].as_array().map(Vec::len),
            Some(1),
            "{typed}: {found}"
        );
        assert_eq!(found["customers"][0]["name"], "Camille Martin");
        assert_eq!(found["customers"][0]["email"], "client.1@ocpizza.test");
    }
    // Neither a pizzaiolo nor a customer may search.
    for who in [&chef, &client] {
        let req = request("GET", "/customers?phone=0639980001", None, Some(who));
        assert_eq!(
            checkout::handle(&world.checkout, req).await.status(),
            StatusCode::FORBIDDEN
        );
    }
    let mut picked = phone_order("phone", "cash", "pickup");
    picked["customer_id"] = found["customers"][0]["id"].clone();
    let (status, placed) = order(&world, picked, Some(&cashier)).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    assert_eq!(placed["order"]["status"], "placed");
    assert_eq!(placed["order"]["channel"], "phone");
    assert_eq!(placed["payment"]["status"], "due_at_counter");
    let id = placed["order"]["id"].as_i64().unwrap();
    let total = placed["order"]["total_cents"].as_i64().unwrap();
    // Linked to the account the cashier picked: in their orders.
    let (_, mine) = orders_call(&world, "GET", "/orders", None, Some(&client)).await;
    assert_eq!(mine["orders"][0]["id"], id);
    // The cashier finds the caller's orders by phone.
    let (status, found) = orders_call(
        &world,
        "GET",
        &format!("/orders?phone={}", CLIENT_1_PHONE.replace('+', "%2B")),
        None,
        Some(&cashier),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["orders"][0]["id"], id);

    // The kitchen cooks it like any other.
    for envelope in testing::drain(
        &world.queues,
        QueueName::Kitchen,
        Duration::from_millis(300),
    )
    .await
    {
        kitchen::apply(&pool, envelope).await.unwrap();
    }
    for action in ["start", "ready"] {
        let response = kitchen::handle(
            &world.kitchen,
            request(
                "POST",
                &format!("/tickets/{id}/{action}"),
                None,
                Some(&chef),
            ),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{action}");
    }
    // Paid at the counter, then handed over; a second payment finds nothing due.
    let (status, paid) = orders_call(
        &world,
        "POST",
        &format!("/orders/{id}/payments"),
        Some(json!({"method": "cash"})),
        Some(&cashier),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["order"]["payment"]["status"], "collected");
    assert_eq!(paid["order"]["payment"]["paid_cents"], total);
    let (status, _) = orders_call(
        &world,
        "POST",
        &format!("/orders/{id}/payments"),
        Some(json!({"method": "cash"})),
        Some(&cashier),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, done) = orders_call(
        &world,
        "POST",
        &format!("/orders/{id}/status"),
        Some(json!({"status": "picked_up"})),
        Some(&cashier),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["order"]["status"], "picked_up");
    assert_eq!(
        scalar(&pool, &format!("SELECT COUNT(*) FROM payments WHERE order_id = {id} AND provider = 'cash' AND amount_cents = {total}")).await,
        1
    );
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_counter_card_order_is_paid_on_the_terminal_not_online(pool: MySqlPool) {
    let world = world(&pool).await;
    let cashier = token_for(&pool, SECRET, "cashier.1@ocpizza.test").await;
    let (status, placed) = order(
        &world,
        phone_order("counter", "card", "pickup"),
        Some(&cashier),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    assert_eq!(
        placed["order"]["status"], "placed",
        "no Stripe payment to wait for"
    );
    assert!(placed["payment"]["client_secret"].is_null());
    assert_eq!(placed["payment"]["status"], "due_at_counter");
    let id = placed["order"]["id"].as_i64().unwrap();
    let (status, paid) = orders_call(
        &world,
        "POST",
        &format!("/orders/{id}/payments"),
        Some(json!({"method": "card_terminal"})),
        Some(&cashier),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["order"]["payment"]["status"], "collected");
    assert_eq!(
        scalar(&pool, &format!("SELECT COUNT(*) FROM payments WHERE order_id = {id} AND provider = 'card_terminal'")).await,
        1
    );
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM payments WHERE provider = 'stripe'"
        )
        .await,
        0
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn only_counter_staff_of_the_pizzeria_take_phone_and_counter_orders(pool: MySqlPool) {
    let world = world(&pool).await;
    let cashier_1 = token_for(&pool, SECRET, "cashier.1@ocpizza.test").await;
    let cashier_2 = token_for(&pool, SECRET, "cashier.2@ocpizza.test").await;
    let manager_1 = token_for(&pool, SECRET, "manager.1@ocpizza.test").await;
    let admin = token_for(&pool, SECRET, "admin@ocpizza.test").await;
    let chef = token_for(&pool, SECRET, "pizzaiolo.1@ocpizza.test").await;
    let courier = token_for(&pool, SECRET, "courier.1@ocpizza.test").await;
    let client = token_for(&pool, SECRET, "client.1@ocpizza.test").await;

    let phone = phone_order("phone", "cash", "pickup");
    let cases: Vec<(Option<&str>, Value, StatusCode)> = vec![
        (None, phone.clone(), StatusCode::FORBIDDEN),
        (Some(&client), phone.clone(), StatusCode::FORBIDDEN),
        (Some(&chef), phone.clone(), StatusCode::FORBIDDEN),
        (Some(&courier), phone.clone(), StatusCode::FORBIDDEN),
        (Some(&cashier_2), phone.clone(), StatusCode::FORBIDDEN),
        (
            Some("forged.token.value"),
            phone.clone(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            Some(&cashier_1),
            phone_order("web", "cash", "pickup"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some(&cashier_1),
            phone_order("phone", "card", "delivery"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (Some(&cashier_1), phone.clone(), StatusCode::CREATED),
        (Some(&manager_1), phone.clone(), StatusCode::CREATED),
        (
            Some(&admin),
            phone_order("counter", "cash", "pickup"),
            StatusCode::CREATED,
        ),
    ];
    for (bearer, body, expected) in cases {
        let (status, answer) = order(&world, body, bearer).await;
        assert_eq!(status, expected, "{bearer:?}: {answer}");
    }
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM orders").await,
        3,
        "only the allowed ones were written"
    );
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);

    // Counter payments: counter staff of that pizzeria only.
    let (id,): (i64,) = sqlx::query_as("SELECT MIN(id) FROM orders")
        .fetch_one(&pool)
        .await
        .unwrap();
    let refused: [(Option<&str>, StatusCode); 4] = [
        (None, StatusCode::UNAUTHORIZED),
        (Some(&chef), StatusCode::FORBIDDEN),
        (Some(&client), StatusCode::FORBIDDEN),
        (Some(&cashier_2), StatusCode::FORBIDDEN),
    ];
    for (bearer, expected) in refused {
        let (status, answer) = orders_call(
            &world,
            "POST",
            &format!("/orders/{id}/payments"),
            Some(json!({"method": "cash"})),
            bearer,
        )
        .await;
        assert_eq!(status, expected, "{bearer:?}: {answer}");
    }
    let (status, _) = orders_call(
        &world,
        "POST",
        &format!("/orders/{id}/payments"),
        Some(json!({"method": "cheque"})),
        Some(&cashier_1),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM payments").await, 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_signed_in_customer_orders_without_retyping_and_sees_only_their_orders(pool: MySqlPool) {
    let world = world(&pool).await;
    let client_1 = token_for(&pool, SECRET, "client.1@ocpizza.test").await;
    let client_2 = token_for(&pool, SECRET, "client.2@ocpizza.test").await;
    let body = json!({
        "pizzeria_id": 1, "fulfilment": "pickup", "payment_method": "cash",
        "lines": [{"product_id": 1, "quantity": 1}]
    });
    let (status, placed) = order(&world, body.clone(), Some(&client_1)).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    assert_eq!(placed["order"]["contact"]["name"], "Camille Martin");
    assert_eq!(placed["order"]["contact"]["phone"], CLIENT_1_PHONE);
    assert_eq!(placed["order"]["contact"]["email"], "client.1@ocpizza.test");
    let id = placed["order"]["id"].as_i64().unwrap();
    // A guest must say who they are.
    let (status, _) = order(&world, body, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (_, mine) = orders_call(&world, "GET", "/orders", None, Some(&client_1)).await;
    assert_eq!(mine["orders"].as_array().map(Vec::len), Some(1));
    let (_, theirs) = orders_call(&world, "GET", "/orders", None, Some(&client_2)).await;
    assert_eq!(theirs["orders"].as_array().map(Vec::len), Some(0));
    // The order itself, by token: its owner yes, another customer no (404).
    let (status, _) = orders_call(
        &world,
        "GET",
        &format!("/orders/{id}"),
        None,
        Some(&client_1),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = orders_call(
        &world,
        "GET",
        &format!("/orders/{id}"),
        None,
        Some(&client_2),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = orders_call(&world, "GET", "/orders", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
