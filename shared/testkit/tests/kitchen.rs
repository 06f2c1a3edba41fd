//! The kitchen function with checkout and orders, real MariaDB and the real
//! SQS-compatible server: what a pizzaiolo sees and may do.

use http::StatusCode;
use ocpizza::platform::queue::{Envelope, QueueName, Queues};
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::time::Duration;
use testkit::{self as testing, json_of, request, scalar, token_for};

const SECRET: &str = "kitchen-test-secret";

struct World {
    pool: MySqlPool,
    queues: Queues,
    kitchen: kitchen::State,
    checkout: checkout::State,
    orders: orders::State,
}

async fn world(pool: &MySqlPool) -> World {
    ocpizza::platform::telemetry::init();
    ocpizza::samples::load_demo(pool).await.unwrap();
    let mut config = testing::config();
    config.secret_key = SECRET.to_owned().into();
    let queues = testing::fresh_queues().await;
    World {
        pool: pool.clone(),
        kitchen: kitchen::State {
            pool: pool.clone(),
            cors: Default::default(),
            queues: queues.clone(),
            secret_key: SECRET.to_owned().into(),
        },
        checkout: checkout::State::new(pool.clone(), &config, queues.clone()).unwrap(),
        orders: orders::State {
            clock: Default::default(),
            pool: pool.clone(),
            cors: Default::default(),
            queues: queues.clone(),
            stripe: ocpizza::payment::Stripe::from_config(&config).unwrap(),
            secret_key: SECRET.to_owned().into(),
        },
        queues,
    }
}

/// A cash pickup order at `pizzeria`: (id, tracking token).
async fn place(world: &World, pizzeria: i64, lines: Value) -> (i64, String) {
    let body = json!({
        "pizzeria_id": pizzeria, "fulfilment": "pickup", "payment_method": "cash",
        "lines": lines,
        "contact": {"name": "Léa Martin", "phone": "06 12 34 56 78", "email": "lea@example.fr"}
    });
    let mut req = request("POST", "/orders", Some(body), None);
    req.headers_mut().insert(
        "idempotency-key",
        uuid::Uuid::new_v4().to_string().parse().unwrap(),
    );
    let response = checkout::handle(&world.checkout, req).await;
    let answer = json_of(&response);
    assert_eq!(response.status(), StatusCode::CREATED, "{answer}");
    (
        answer["order"]["id"].as_i64().unwrap(),
        answer["order"]["tracking_token"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

/// Takes what checkout sent to the kitchen queue and applies it, as the
/// event source would.
async fn deliver_kitchen_messages(world: &World) -> Vec<Envelope> {
    let envelopes = testing::drain(
        &world.queues,
        QueueName::Kitchen,
        Duration::from_millis(300),
    )
    .await;
    for envelope in &envelopes {
        kitchen::apply(&world.pool, envelope.clone()).await.unwrap();
    }
    envelopes
}

async fn kitchen_call(
    world: &World,
    method: &str,
    uri: &str,
    bearer: Option<&str>,
    etag: Option<&str>,
) -> (StatusCode, Value, Option<String>) {
    let mut req = request(method, uri, None, bearer);
    if let Some(etag) = etag {
        req.headers_mut()
            .insert(http::header::IF_NONE_MATCH, etag.parse().unwrap());
    }
    let response = kitchen::handle(&world.kitchen, req).await;
    let etag = response
        .headers()
        .get(http::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (response.status(), json_of(&response), etag)
}

fn ticket_ids(display: &Value) -> Vec<i64> {
    display["tickets"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["order_id"].as_i64()).collect())
        .unwrap_or_default()
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_display_shows_tickets_in_arrival_order_with_recipe_cards(pool: MySqlPool) {
    let world = world(&pool).await;
    let chef = token_for(&pool, SECRET, "pizzaiolo.1@ocpizza.test").await;
    // Pizzeria 2 keeps real hours; open it now so it takes an order too.
    sqlx::query(
        "INSERT IGNORE INTO opening_hours (pizzeria_id, weekday, opens_at, closes_at) \
         SELECT 2, weekday, opens_at, closes_at FROM opening_hours WHERE pizzeria_id = 1",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (first, _) = place(
        &world,
        1,
        json!([{"product_id": 1, "quantity": 2}, {"product_id": 21, "quantity": 1}]),
    )
    .await;
    let (second, _) = place(&world, 1, json!([{"product_id": 2, "quantity": 1}])).await;
    let (elsewhere, _) = place(&world, 2, json!([{"product_id": 1, "quantity": 1}])).await;
    assert_eq!(deliver_kitchen_messages(&world).await.len(), 3);

    let (status, display, etag) =
        kitchen_call(&world, "GET", "/pizzerias/1/tickets", Some(&chef), None).await;
    assert_eq!(status, StatusCode::OK, "{display}");
    assert_eq!(
        ticket_ids(&display),
        [first, second],
        "pizzeria 2's ticket is not here"
    );
    assert!(!ticket_ids(&display).contains(&elsewhere));
    let ticket = &display["tickets"][0];
    assert_eq!(ticket["status"], "waiting");
    assert!(ticket["age_seconds"].as_i64().unwrap() >= 0);
    assert!(ticket["number"].as_str().is_some_and(|n| !n.is_empty()));
    let pizza = &ticket["lines"][0];
    assert_eq!(pizza["quantity"], 2);
    let recipe = &pizza["recipe"];
    assert!(
        recipe["ingredients"]
            .as_array()
            .is_some_and(|i| !i.is_empty()),
        "{recipe}"
    );
    assert!(recipe["ingredients"][0]["quantity"].as_i64().unwrap() > 0);
    assert!(recipe["ingredients"][0]["unit"].as_str().is_some());
    assert!(recipe["steps"].as_array().is_some_and(|s| !s.is_empty()));
    assert!(
        ticket["lines"][1]["recipe"].is_null(),
        "a drink has no recipe card"
    );

    // Polling again costs a 304 while nothing changes…
    let etag = etag.expect("an ETag");
    let (status, body, _) = kitchen_call(
        &world,
        "GET",
        "/pizzerias/1/tickets",
        Some(&chef),
        Some(&etag),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_null());
    // …and a new ticket changes the answer.
    let (third, _) = place(&world, 1, json!([{"product_id": 3, "quantity": 1}])).await;
    deliver_kitchen_messages(&world).await;
    let (status, display, new_etag) = kitchen_call(
        &world,
        "GET",
        "/pizzerias/1/tickets",
        Some(&chef),
        Some(&etag),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(new_etag.as_deref(), Some(etag.as_str()));
    assert_eq!(ticket_ids(&display), [first, second, third]);

    // The recipe card on its own.
    let (status, card, _) = kitchen_call(&world, "GET", "/recipes/1", Some(&chef), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(card["recipe"]["product_id"], 1);
    assert_eq!(card["recipe"], display["tickets"][0]["lines"][0]["recipe"]);
    let (status, _, _) = kitchen_call(&world, "GET", "/recipes/21", Some(&chef), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "drinks have no recipe card");
}

#[sqlx::test(migrations = "../../migrations")]
async fn start_consumes_the_reservation_and_ready_tells_the_delivery_queue(pool: MySqlPool) {
    let world = world(&pool).await;
    let chef = token_for(&pool, SECRET, "pizzaiolo.1@ocpizza.test").await;
    let (id, token) = place(&world, 1, json!([{"product_id": 1, "quantity": 3}])).await;
    deliver_kitchen_messages(&world).await;
    let stock = |sql: &'static str| {
        let pool = pool.clone();
        async move { scalar(&pool, sql).await }
    };
    let on_hand_before = stock("SELECT SUM(on_hand) FROM stock WHERE pizzeria_id = 1").await;
    let reserved_before = stock("SELECT SUM(reserved) FROM stock WHERE pizzeria_id = 1").await;
    let needed = scalar(
        &pool,
        &format!("SELECT SUM(reserved_delta) FROM stock_movements WHERE order_id = {id} AND kind = 'reservation'"),
    )
    .await;
    assert!(needed > 0 && reserved_before >= needed);

    // Ready before start is a transition the table forbids.
    let (status, problem, _) = kitchen_call(
        &world,
        "POST",
        &format!("/tickets/{id}/ready"),
        Some(&chef),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");

    let (status, started, _) = kitchen_call(
        &world,
        "POST",
        &format!("/tickets/{id}/start"),
        Some(&chef),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert_eq!(started["ticket"]["status"], "preparing");
    assert!(started["ticket"]["started_at"].is_string());
    // The reservation became consumption: both went down by what the recipe needs.
    assert_eq!(
        stock("SELECT SUM(on_hand) FROM stock WHERE pizzeria_id = 1").await,
        on_hand_before - needed
    );
    assert_eq!(
        stock("SELECT SUM(reserved) FROM stock WHERE pizzeria_id = 1").await,
        reserved_before - needed
    );
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);

    // Starting twice, or the customer cancelling now: too late.
    let (status, _, _) = kitchen_call(
        &world,
        "POST",
        &format!("/tickets/{id}/start"),
        Some(&chef),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let cancel = orders::handle(
        &world.orders,
        request(
            "POST",
            &format!("/orders/{id}/cancel?token={token}"),
            None,
            None,
        ),
    )
    .await;
    assert_eq!(cancel.status(), StatusCode::CONFLICT);

    let (status, ready, _) = kitchen_call(
        &world,
        "POST",
        &format!("/tickets/{id}/ready"),
        Some(&chef),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(ready["ticket"]["status"], "ready");
    let sent = testing::drain(
        &world.queues,
        QueueName::Delivery,
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].event.type_name(), "order.ready");
    assert_eq!(sent[0].order_id.0, id);

    // A ready ticket leaves the display; the history says who did what.
    let (_, display, _) =
        kitchen_call(&world, "GET", "/pizzerias/1/tickets", Some(&chef), None).await;
    assert!(!ticket_ids(&display).contains(&id));
    let by: Vec<(String, String)> = sqlx::query_as(
        "SELECT status, by_label FROM order_status_history WHERE order_id = ? ORDER BY id",
    )
    .bind(id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        by,
        [
            ("placed".into(), "web".into()),
            ("preparing".into(), "pizzaiolo".into()),
            ("ready".into(), "pizzaiolo".into())
        ]
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn only_the_kitchen_of_that_pizzeria_may_work_its_tickets(pool: MySqlPool) {
    let world = world(&pool).await;
    let (id, _) = place(&world, 1, json!([{"product_id": 1, "quantity": 1}])).await;
    deliver_kitchen_messages(&world).await;
    let other_kitchen = token_for(&pool, SECRET, "pizzaiolo.2@ocpizza.test").await;
    let courier = token_for(&pool, SECRET, "courier.1@ocpizza.test").await;
    let customer = token_for(&pool, SECRET, "client.1@ocpizza.test").await;
    let manager = token_for(&pool, SECRET, "manager.1@ocpizza.test").await;
    let admin = token_for(&pool, SECRET, "admin@ocpizza.test").await;

    let cases: &[(Option<&str>, StatusCode)] = &[
        (None, StatusCode::UNAUTHORIZED),
        (Some("not-a-token"), StatusCode::UNAUTHORIZED),
        (Some(&other_kitchen), StatusCode::FORBIDDEN),
        (Some(&courier), StatusCode::FORBIDDEN),
        (Some(&customer), StatusCode::FORBIDDEN),
    ];
    for (bearer, expected) in cases {
        let (status, problem, _) =
            kitchen_call(&world, "GET", "/pizzerias/1/tickets", *bearer, None).await;
        assert_eq!(status, *expected, "display {problem}");
        let (status, problem, _) = kitchen_call(
            &world,
            "POST",
            &format!("/tickets/{id}/start"),
            *bearer,
            None,
        )
        .await;
        assert_eq!(status, *expected, "start {problem}");
    }
    assert_eq!(
        scalar(
            &pool,
            &format!("SELECT COUNT(*) FROM orders WHERE id = {id} AND status = 'placed'")
        )
        .await,
        1,
        "nothing moved"
    );
    for bearer in [&manager, &admin] {
        let (status, _, _) =
            kitchen_call(&world, "GET", "/pizzerias/1/tickets", Some(bearer), None).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _, _) = kitchen_call(
        &world,
        "POST",
        &format!("/tickets/{id}/start"),
        Some(&manager),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a manager may stand in for the pizzaiolo"
    );

    // A deactivated account loses access at once, token or not.
    let chef = token_for(&pool, SECRET, "pizzaiolo.1@ocpizza.test").await;
    let (status, _, _) =
        kitchen_call(&world, "GET", "/pizzerias/1/tickets", Some(&chef), None).await;
    assert_eq!(status, StatusCode::OK);
    sqlx::query("UPDATE users SET active = FALSE, token_version = token_version + 1 WHERE email = 'pizzaiolo.1@ocpizza.test'")
        .execute(&pool)
        .await
        .unwrap();
    let (status, problem, _) =
        kitchen_call(&world, "GET", "/pizzerias/1/tickets", Some(&chef), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");

    // Unknown things and bad paths are problems, not crashes.
    for (method, uri, expected) in [
        ("GET", "/pizzerias/99/tickets", StatusCode::NOT_FOUND),
        ("POST", "/tickets/999999/start", StatusCode::NOT_FOUND),
        ("GET", "/pizzerias/abc/tickets", StatusCode::NOT_FOUND),
        (
            "DELETE",
            "/pizzerias/1/tickets",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        ("GET", "/tickets/1/start", StatusCode::METHOD_NOT_ALLOWED),
        ("GET", "/nothing", StatusCode::NOT_FOUND),
    ] {
        let req = request(method, uri, None, Some(&admin));
        let response = kitchen::handle(&world.kitchen, req).await;
        assert_eq!(response.status(), expected, "{method} {uri}");
        assert_eq!(
            response.headers()[http::header::CONTENT_TYPE],
            "application/problem+json"
        );
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn cancellations_withdraw_tickets_and_duplicates_change_nothing(pool: MySqlPool) {
    let world = world(&pool).await;
    let chef = token_for(&pool, SECRET, "pizzaiolo.1@ocpizza.test").await;
    let (kept, _) = place(&world, 1, json!([{"product_id": 1, "quantity": 1}])).await;
    let (withdrawn, withdrawn_token) =
        place(&world, 1, json!([{"product_id": 2, "quantity": 1}])).await;
    let (overtaken, overtaken_token) =
        place(&world, 1, json!([{"product_id": 3, "quantity": 1}])).await;
    let placed = testing::drain(
        &world.queues,
        QueueName::Kitchen,
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(placed.len(), 3);
    // Every message twice: one ticket each.
    for envelope in placed.iter().filter(|e| e.order_id.0 != overtaken) {
        kitchen::apply(&pool, envelope.clone()).await.unwrap();
        kitchen::apply(&pool, envelope.clone()).await.unwrap();
    }
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM kitchen_tickets").await,
        2
    );

    // Cancelled with its ticket on the display: withdrawn.
    let cancel = |id: i64, token: String| {
        let world = &world;
        async move {
            let response = orders::handle(
                &world.orders,
                request(
                    "POST",
                    &format!("/orders/{id}/cancel?token={token}"),
                    None,
                    None,
                ),
            )
            .await;
            assert_eq!(response.status(), StatusCode::OK);
        }
    };
    cancel(withdrawn, withdrawn_token).await;
    // Cancelled before its order.placed was consumed: no ticket at all.
    cancel(overtaken, overtaken_token).await;
    let cancelled = testing::drain(
        &world.queues,
        QueueName::Kitchen,
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(cancelled.len(), 2);
    for envelope in cancelled.iter().chain(cancelled.iter()) {
        kitchen::apply(&pool, envelope.clone()).await.unwrap();
    }
    let late = placed.iter().find(|e| e.order_id.0 == overtaken).unwrap();
    kitchen::apply(&pool, late.clone()).await.unwrap();

    let (_, display, _) =
        kitchen_call(&world, "GET", "/pizzerias/1/tickets", Some(&chef), None).await;
    assert_eq!(ticket_ids(&display), [kept]);
    let states: Vec<(i64, String)> =
        sqlx::query_as("SELECT order_id, status FROM kitchen_tickets ORDER BY order_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        states,
        [(kept, "waiting".into()), (withdrawn, "withdrawn".into())]
    );
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM processed_events WHERE consumer = 'kitchen'"
        )
        .await,
        5,
        "each event applied once"
    );
    testkit::assert_reconciled(&pool, ocpizza::reporting::audit::Scope::Settled).await;
}

fn fixture(text: &str) -> aws_lambda_events::event::sqs::SqsEvent {
    serde_json::from_str(text).expect("a sample SQS event")
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_sample_sqs_events_do_what_the_events_readme_says(pool: MySqlPool) {
    let world = world(&pool).await;
    let (id, _) = place(&world, 1, json!([{"product_id": 1, "quantity": 1}])).await;
    assert_eq!(id, 1, "the samples name order 1");
    // What checkout sent is left aside: the sample stands in for it.
    testing::drain(
        &world.queues,
        QueueName::Kitchen,
        Duration::from_millis(300),
    )
    .await;

    let placed = fixture(include_str!(
        "../../../events/kitchen-sqs-order-placed.json"
    ));
    let answer = kitchen::consume(&world.kitchen, placed).await;
    assert!(answer.batch_item_failures.is_empty());
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM kitchen_tickets WHERE order_id = 1 AND status = 'waiting'"
        )
        .await,
        1
    );

    let poison = fixture(include_str!("../../../events/kitchen-sqs-poison.json"));
    let expected = poison.records[0].message_id.clone().unwrap();
    let answer = kitchen::consume(&world.kitchen, poison).await;
    let failed: Vec<&str> = answer
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, [expected.as_str()]);
}
