//! The checkout function against real MariaDB (a fresh database per test),
//! the real SQS-compatible server and localstripe.

use checkout::State;
use http::{header, StatusCode};
use lambda_http::Body;
use ocpizza::payment::Stripe;
use ocpizza::platform::http::Response;
use ocpizza::platform::queue::QueueName;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::time::Duration;
use testkit::{self as testing, scalar};

const MARGHERITA: i64 = 1;
const REINE: i64 = 2;

async fn state(pool: &MySqlPool) -> State {
    ocpizza::samples::load_demo(pool).await.expect("demo data");
    let config = testing::config();
    checkout::State::new(pool.clone(), &config, testing::fresh_queues().await).unwrap()
}

/// Sets the stock of pizzeria 1 so that exactly `portions` of `product` can be
/// made (its ingredients only), through the ledger like a manager's adjustment.
async fn stock_for(pool: &MySqlPool, product: i64, portions: i64) {
    sqlx::query(
        "INSERT INTO stock_movements (pizzeria_id, ingredient_id, kind, on_hand_delta, reason) \
         SELECT s.pizzeria_id, s.ingredient_id, 'adjustment', ? * r.quantity - s.on_hand, 'test' \
         FROM stock s JOIN recipe_lines r ON r.ingredient_id = s.ingredient_id AND r.product_id = ? WHERE s.pizzeria_id = 1",
    )
    .bind(portions)
    .bind(product)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE stock s JOIN recipe_lines r ON r.ingredient_id = s.ingredient_id AND r.product_id = ? \
         SET s.on_hand = ? * r.quantity WHERE s.pizzeria_id = 1",
    )
    .bind(product)
    .bind(portions)
    .execute(pool)
    .await
    .unwrap();
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

fn json_of(response: &Response) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null)
}

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn menu_max(pool: &MySqlPool, product: i64) -> i64 {
    let pizzeria = ocpizza::catalog::pizzeria(
        pool,
        ocpizza::platform::ids::PizzeriaId(1),
        chrono::Utc::now(),
    )
    .await
    .unwrap()
    .unwrap();
    let products = ocpizza::catalog::products(pool, &pizzeria).await.unwrap();
    products
        .iter()
        .find(|p| p.id.0 == product)
        .unwrap()
        .max_quantity
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_cash_pickup_order_is_placed_priced_from_the_database_and_sent_to_the_kitchen(
    pool: MySqlPool,
) {
    let state = state(&pool).await;
    let before = menu_max(&pool, MARGHERITA).await;
    // The client's prices, if any, are ignored: only ids and quantities count.
    let body = pickup_cash(json!([
        {"product_id": MARGHERITA, "quantity": 2, "price_cents": 1},
        {"product_id": 21, "quantity": 1}
    ]));
    let response = checkout::handle(&state, order(body, Some(&key()))).await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        json_of(&response)
    );
    let answer = json_of(&response);
    let o = &answer["order"];
    assert_eq!(o["status"], "placed");
    assert_eq!(o["subtotal_cents"], 2 * 900 + 300);
    assert_eq!(o["delivery_fee_cents"], 0);
    assert_eq!(o["total_cents"], 2100);
    // 10 % VAT included: 2100 × 10 / 110 = 190,9… → 191.
    assert_eq!(o["vat_cents"], 191);
    assert_eq!(o["number"].as_str().unwrap().len(), 6);
    assert!(o["tracking_token"].as_str().unwrap().len() >= 43);
    assert_eq!(answer["payment"]["status"], "due_at_counter");
    assert!(response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/orders/"));

    // Stock is reserved: the menu shows two fewer Margheritas.
    assert_eq!(menu_max(&pool, MARGHERITA).await, before - 2);
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
    // History, outbox sent, and the kitchen's queue has the event.
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM order_status_history WHERE status = 'placed'"
        )
        .await,
        1
    );
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL"
        )
        .await,
        1
    );
    let messages = testing::drain(&state.queues, QueueName::Kitchen, Duration::from_secs(1)).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].order_id.0, o["id"].as_i64().unwrap());
    assert_eq!(messages[0].event.type_name(), "order.placed");
}

#[sqlx::test(migrations = "../../migrations")]
async fn two_thousand_concurrent_checkouts_for_a_hundred_portions_sell_exactly_a_hundred(
    pool: MySqlPool,
) {
    let state = state(&pool).await;
    stock_for(&pool, MARGHERITA, 100).await;
    assert_eq!(menu_max(&pool, MARGHERITA).await, 100);

    let tasks: Vec<_> = (0..2000)
        .map(|_| {
            let state = state.clone();
            tokio::spawn(async move {
                let body = pickup_cash(json!([{"product_id": MARGHERITA, "quantity": 1}]));
                checkout::handle(&state, order(body, Some(&key()))).await
            })
        })
        .collect();
    let mut created = 0;
    let mut conflicts = 0;
    for task in tasks {
        let response = task.await.unwrap();
        match response.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                conflicts += 1;
                let problem = json_of(&response);
                assert_eq!(problem["type"], "/problems/out-of-stock");
                assert_eq!(problem["products"][0]["product_id"], MARGHERITA);
                assert_eq!(problem["products"][0]["max_quantity"], 0);
            }
            other => panic!("unexpected {other}: {}", json_of(&response)),
        }
    }
    assert_eq!((created, conflicts), (100, 1900));
    assert_eq!(menu_max(&pool, MARGHERITA).await, 0);
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM stock WHERE on_hand < reserved OR reserved < 0"
        )
        .await,
        0
    );
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM orders").await, 100);
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
    testkit::assert_reconciled(&pool, ocpizza::reporting::audit::Scope::Live).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_same_idempotency_key_five_times_at_once_makes_one_order(pool: MySqlPool) {
    let state = state(&pool).await;
    let key = key();
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let state = state.clone();
            let key = key.clone();
            tokio::spawn(async move {
                let body = pickup_cash(json!([{"product_id": REINE, "quantity": 3}]));
                checkout::handle(&state, order(body, Some(&key))).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        let response = task.await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        answers.push(json_of(&response));
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "every retry gets the same answer"
    );
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM orders").await, 1);
    // Stock was reserved once, for that one order.
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(DISTINCT order_id) FROM stock_movements WHERE kind = 'reservation'"
        )
        .await,
        1
    );
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);

    // The same key with another cart is refused, and changes nothing.
    let other = pickup_cash(json!([{"product_id": REINE, "quantity": 1}]));
    let response = checkout::handle(&state, order(other, Some(&key))).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json_of(&response)["type"],
        "/problems/idempotency-key-reused"
    );
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM orders").await, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn one_key_for_two_carts_at_once_makes_one_order_and_refuses_the_other(pool: MySqlPool) {
    let state = state(&pool).await;
    let key = key();
    let tasks: Vec<_> = [3, 1]
        .map(|quantity| pickup_cash(json!([{"product_id": REINE, "quantity": quantity}])))
        .into_iter()
        .map(|body| {
            let state = state.clone();
            let key = key.clone();
            tokio::spawn(async move { checkout::handle(&state, order(body, Some(&key))).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        let response = task.await.unwrap();
        answers.push((response.status(), json_of(&response)));
    }
    answers.sort_by_key(|(status, _)| status.as_u16());
    assert_eq!(answers[0].0, StatusCode::CREATED, "{answers:?}");
    assert_eq!(
        answers[1].0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{answers:?}"
    );
    assert_eq!(answers[1].1["type"], "/problems/idempotency-key-reused");
    // The refused cart learnt nothing of the other's order.
    assert!(answers[1].1.get("order").is_none());
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM idempotency_keys").await,
        1
    );
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
    testkit::assert_reconciled(&pool, ocpizza::reporting::audit::Scope::Live).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn malformed_requests_are_4xx_problems_and_write_nothing(pool: MySqlPool) {
    let state = state(&pool).await;
    let good = pickup_cash(json!([{"product_id": MARGHERITA, "quantity": 1}]));
    let with = |path: &str, value: Value| {
        let mut body = good.clone();
        let mut target = &mut body;
        let parts: Vec<&str> = path.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            target = &mut target[*part];
        }
        if value.is_null() {
            target
                .as_object_mut()
                .unwrap()
                .remove(parts[parts.len() - 1]);
        } else {
            target[parts[parts.len() - 1]] = value;
        }
        body.to_string()
    };
    let huge_lines: Vec<Value> = (0..5000)
        .map(|_| json!({"product_id": 1, "quantity": 1}))
        .collect();
    let cases: Vec<(&str, String, Option<&str>, u16)> = vec![
        ("no key", good.to_string(), None, 400),
        ("blank key", good.to_string(), Some(" "), 400),
        (
            "invalid JSON",
            "{\"pizzeria_id\": 1,".into(),
            Some("k1"),
            422,
        ),
        ("not an object", "[1, 2]".into(), Some("k2"), 422),
        ("empty body", "".into(), Some("k3"), 422),
        ("missing lines", with("lines", Value::Null), Some("k4"), 422),
        (
            "missing pizzeria",
            with("pizzeria_id", Value::Null),
            Some("k5"),
            422,
        ),
        (
            "pizzeria as text",
            with("pizzeria_id", json!("one")),
            Some("k6"),
            422,
        ),
        (
            "unknown fulfilment",
            with("fulfilment", json!("drone")),
            Some("k7"),
            422,
        ),
        (
            "unknown payment",
            with("payment_method", json!("bitcoin")),
            Some("k8"),
            422,
        ),
        (
            "negative quantity",
            with("lines", json!([{"product_id": 1, "quantity": -2}])),
            Some("k9"),
            422,
        ),
        (
            "zero quantity",
            with("lines", json!([{"product_id": 1, "quantity": 0}])),
            Some("k10"),
            422,
        ),
        (
            "absurd quantity",
            with("lines", json!([{"product_id": 1, "quantity": 100000}])),
            Some("k11"),
            422,
        ),
        (
            "quantity overflow",
            with("lines", json!([{"product_id": 1, "quantity": 1e30}])),
            Some("k12"),
            422,
        ),
        ("empty cart", with("lines", json!([])), Some("k13"), 422),
        (
            "huge array",
            with("lines", json!(huge_lines)),
            Some("k14"),
            413,
        ),
        (
            "unknown product",
            with("lines", json!([{"product_id": 9999, "quantity": 1}])),
            Some("k15"),
            422,
        ),
        (
            "unknown pizzeria",
            with("pizzeria_id", json!(99)),
            Some("k16"),
            422,
        ),
        (
            "pizzeria not open yet",
            with("pizzeria_id", json!(6)),
            Some("k17"),
            422,
        ),
        ("no contact", with("contact", Value::Null), Some("k18"), 422),
        (
            "bad phone",
            with("contact.phone", json!("call me")),
            Some("k19"),
            422,
        ),
        (
            "bad e-mail",
            with("contact.email", json!("not-an-email")),
            Some("k20"),
            422,
        ),
        (
            "delivery without address",
            with("fulfilment", json!("delivery")),
            Some("k21"),
            422,
        ),
        (
            "staff channel without staff",
            with("channel", json!("phone")),
            Some("k22"),
            403,
        ),
        (
            "pizza without recipe",
            with("lines", json!([{"product_id": 16, "quantity": 1}])),
            Some("k23"),
            409,
        ),
    ];
    for (name, body, key, status) in cases {
        let mut b = http::Request::builder()
            .method("POST")
            .uri("/orders")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(key) = key {
            b = b.header("idempotency-key", key);
        }
        let response = checkout::handle(&state, b.body(Body::Text(body)).unwrap()).await;
        assert_eq!(
            response.status().as_u16(),
            status,
            "{name}: {}",
            json_of(&response)
        );
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json",
            "{name}"
        );
        assert!(
            json_of(&response)["detail"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{name}"
        );
    }
    for table in [
        "orders",
        "order_lines",
        "order_status_history",
        "outbox",
        "idempotency_keys",
        "payments",
    ] {
        assert_eq!(
            scalar(&pool, &format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{table} written"
        );
    }
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM stock_movements WHERE kind <> 'initial'"
        )
        .await,
        0
    );
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM stock WHERE reserved <> 0").await,
        0
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_closed_pizzeria_refuses_orders_with_its_hours(pool: MySqlPool) {
    let state = state(&pool).await;
    sqlx::query("DELETE FROM opening_hours WHERE pizzeria_id = 1")
        .execute(&pool)
        .await
        .unwrap();
    let response = checkout::handle(
        &state,
        order(
            pickup_cash(json!([{"product_id": 1, "quantity": 1}])),
            Some(&key()),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem = json_of(&response);
    assert_eq!(problem["type"], "/problems/pizzeria-closed");
    assert_eq!(problem["opening_hours"], json!([]));
    // No hours at all: it does not know when it opens, and says so.
    assert_eq!(problem["opens_at"], Value::Null);
    assert!(problem.as_object().unwrap().contains_key("opens_at"));

    // One lunch a week, three days from today's UTC date: never today nor
    // tomorrow in Paris, whatever the hour this runs, and days ahead, so the
    // next opening is the same instant for this test and for checkout.
    // Written by hand, so the version is moved by hand too, as the manager's
    // screen does: checkout keeps the pizzerias and checks their version.
    let day = chrono::Utc::now().date_naive() + chrono::Days::new(3);
    sqlx::query(
        "INSERT INTO opening_hours (pizzeria_id, weekday, opens_at, closes_at) \
         VALUES (1, ?, '12:00:00', '14:00:00')",
    )
    .bind(chrono::Datelike::weekday(&day).number_from_monday())
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("UPDATE pizzerias SET version = version + 1 WHERE id = 1")
        .execute(&pool)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let expected = ocpizza::catalog::pizzeria(&pool, ocpizza::platform::ids::PizzeriaId(1), now)
        .await
        .unwrap()
        .unwrap()
        .next_opening(now)
        .unwrap();
    let response = checkout::handle(
        &state,
        order(
            pickup_cash(json!([{"product_id": 1, "quantity": 1}])),
            Some(&key()),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem = json_of(&response);
    assert_eq!(problem["type"], "/problems/pizzeria-closed");
    let opens_at = problem["opens_at"].as_str().expect("opens_at");
    assert_eq!(
        opens_at,
        expected.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    // 12:00 in Paris that day: 11:00 UTC in winter, 10:00 in summer.
    assert!(
        [format!("{day}T11:00:00Z"), format!("{day}T10:00:00Z")].contains(&opens_at.to_owned()),
        "{opens_at}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn deliveries_are_checked_against_the_zone_and_pay_the_fee(pool: MySqlPool) {
    let state = state(&pool).await;
    let delivery = |line1: &str, postcode: &str, city: &str, lines: Value| {
        let mut body = pickup_cash(lines);
        body["fulfilment"] = json!("delivery");
        body["address"] = json!({"line1": line1, "postcode": postcode, "city": city});
        body
    };
    // Inside pizzeria 1's zone (a demo address of the offline geocoder).
    let response = checkout::handle(
        &state,
        order(
            delivery(
                "25 rue Victor Hugo",
                "69002",
                "Lyon",
                json!([{"product_id": 1, "quantity": 2}]),
            ),
            Some(&key()),
        ),
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        json_of(&response)
    );
    let o = json_of(&response)["order"].clone();
    assert_eq!(o["delivery_fee_cents"], 250);
    assert_eq!(o["total_cents"], 1800 + 250);
    assert!(o["distance_m"].as_i64().unwrap() < 4000);
    assert_eq!(json_of(&response)["payment"]["status"], "due_on_delivery");

    // Below the minimum order.
    let response = checkout::handle(
        &state,
        order(
            delivery(
                "25 rue Victor Hugo",
                "69002",
                "Lyon",
                json!([{"product_id": 21, "quantity": 1}]),
            ),
            Some(&key()),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(&response)["type"], "/problems/below-minimum-order");

    // Villeurbanne is served by pizzeria 2, not by 1 (too far): the answer says who does.
    let response = checkout::handle(
        &state,
        order(
            delivery(
                "1 place Grandclément",
                "69100",
                "Villeurbanne",
                json!([{"product_id": 1, "quantity": 2}]),
            ),
            Some(&key()),
        ),
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        json_of(&response)
    );
    let problem = json_of(&response);
    assert_eq!(problem["type"], "/problems/outside-delivery-zone");
    assert_eq!(problem["pizzerias"][0]["pizzeria_id"], 2);

    // An address the offline geocoder does not know.
    let response = checkout::handle(
        &state,
        order(
            delivery(
                "1 rue Inconnue",
                "69002",
                "Lyon",
                json!([{"product_id": 1, "quantity": 2}]),
            ),
            Some(&key()),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(&response)["type"], "/problems/address-not-found");
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM orders").await, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_card_order_waits_for_payment_with_a_payment_intent(pool: MySqlPool) {
    let state = state(&pool).await;
    let mut body = pickup_cash(json!([{"product_id": 1, "quantity": 1}]));
    body["payment_method"] = json!("card");
    let key = key();
    let response = checkout::handle(&state, order(body.clone(), Some(&key))).await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        json_of(&response)
    );
    let answer = json_of(&response);
    assert_eq!(answer["order"]["status"], "pending_payment");
    assert!(answer["order"]["reservation_expires_at"].is_string());
    let intent_id = answer["payment"]["payment_intent_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(intent_id.starts_with("pi_"));
    assert!(answer["payment"]["client_secret"]
        .as_str()
        .unwrap()
        .contains("_secret_"));

    // On localstripe: the amount in cents, EUR, and the order in the metadata.
    let intent = state
        .stripe
        .retrieve_payment_intent(&intent_id)
        .await
        .unwrap();
    assert_eq!(intent.amount.cents(), 900);
    assert_eq!(intent.order_id.map(|o| o.0), answer["order"]["id"].as_i64());
    // Nothing goes to the kitchen before payment.
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM outbox").await, 0);
    // A retry gets the same PaymentIntent.
    let again = checkout::handle(&state, order(body, Some(&key))).await;
    assert_eq!(
        json_of(&again)["payment"]["payment_intent_id"],
        intent_id.as_str()
    );
}

/// With Stripe failing in some way: a card checkout is refused with a 503
/// and holds no stock, then a cash order still goes through and everything
/// reconciles. Returns the card answer and how long it took.
async fn card_fails_cleanly_and_cash_works(
    pool: &MySqlPool,
    state: &State,
    quantity: i64,
) -> (Response, Duration) {
    let mut body = pickup_cash(json!([{"product_id": 1, "quantity": quantity}]));
    body["payment_method"] = json!("card");
    let started = std::time::Instant::now();
    let response = checkout::handle(state, order(body, Some(&key()))).await;
    let took = started.elapsed();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    // Nothing keeps stock reserved.
    assert_eq!(
        scalar(pool, "SELECT COUNT(*) FROM stock WHERE reserved <> 0").await,
        0
    );
    let cash = checkout::handle(
        state,
        order(
            pickup_cash(json!([{"product_id": 1, "quantity": 1}])),
            Some(&key()),
        ),
    )
    .await;
    assert_eq!(cash.status(), StatusCode::CREATED);
    testing::assert_reconciled(pool, ocpizza::reporting::audit::Scope::Live).await;
    (response, took)
}

#[sqlx::test(migrations = "../../migrations")]
async fn stripe_unreachable_fails_a_card_checkout_cleanly_and_cash_still_works(pool: MySqlPool) {
    let mut state = state(&pool).await;
    let mut config = testing::config();
    config.stripe_api_base = "http://127.0.0.1:9".into();
    state.stripe = Stripe::from_config(&config).unwrap();
    card_fails_cleanly_and_cash_works(&pool, &state, 1).await;
    // No card order is left standing.
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM orders WHERE status <> 'cancelled' AND payment_method = 'card'"
        )
        .await,
        0
    );
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
}

/// Stripe accepts the connection and never answers: the card checkout gives
/// up at the client's deadline with a 503, holds no stock, and cash still works.
#[sqlx::test(migrations = "../../migrations")]
async fn a_stripe_that_never_answers_fails_a_card_checkout_cleanly(pool: MySqlPool) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let black_hole = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let mut state = state(&pool).await;
    let mut config = testing::config();
    config.stripe_api_base = format!("http://{address}");
    state.stripe = Stripe::from_config(&config)
        .unwrap()
        .with_timeout(Duration::from_millis(500));
    let (response, took) = card_fails_cleanly_and_cash_works(&pool, &state, 2).await;
    assert_eq!(json_of(&response)["type"], "/problems/unavailable");
    assert!(took < Duration::from_secs(5), "{took:?}");
    black_hole.abort();
}
