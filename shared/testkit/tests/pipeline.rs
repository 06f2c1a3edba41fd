//! The life of an order through the real queue: checkout → outbox → SQS →
//! the event source poller → kitchen → ready → SQS → poller → delivery →
//! courier. Real MariaDB, the real SQS-compatible server, the real poller of
//! `infra/local/event-source`, with the consumers invoked in this process.

use event_source::{InProcess, Mapping};
use http::StatusCode;
use ocpizza::platform::queue::{QueueName, Queues};
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::time::Duration;
use testkit::{self as testing, eventually, json_of, request, scalar, token_for};

const SECRET: &str = "pipeline-test-secret";
const PATIENCE: Duration = Duration::from_secs(20);

struct World {
    queues: Queues,
    kitchen: kitchen::State,
    delivery: delivery::State,
    checkout: checkout::State,
    orders: orders::State,
    pollers: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for World {
    fn drop(&mut self) {
        for poller in &self.pollers {
            poller.abort();
        }
    }
}

/// The functions, on fresh queues whose failed messages come back after 1 s,
/// and one event source poller per queue, as `make run` has.
async fn world(pool: &MySqlPool) -> World {
    world_with(pool, true).await
}

/// The world, with or without its running pollers (a test may drive one itself).
async fn world_with(pool: &MySqlPool, start_pollers: bool) -> World {
    ocpizza::platform::telemetry::init();
    ocpizza::samples::load_demo(pool).await.unwrap();
    let mut config = testing::config();
    config.secret_key = SECRET.to_owned().into();
    let queues = testing::fresh_queues_with_visibility(1).await;
    let kitchen = kitchen::State {
        pool: pool.clone(),
        cors: Default::default(),
        queues: queues.clone(),
        secret_key: SECRET.to_owned().into(),
    };
    let delivery = delivery::State {
        pool: pool.clone(),
        cors: Default::default(),
        queues: queues.clone(),
        secret_key: SECRET.to_owned().into(),
    };
    let mut pollers = Vec::new();
    let mapping = |queue: QueueName, function: &str| Mapping {
        wait: Duration::from_secs(1),
        ..Mapping::new(queues.url(queue), function)
    };
    if start_pollers {
        let (client, mapping, state) = (
            queues.client().clone(),
            mapping(QueueName::Kitchen, "kitchen"),
            kitchen.clone(),
        );
        pollers.push(tokio::spawn(async move {
            let invoke = InProcess(|batch| {
                let state = state.clone();
                async move { kitchen::consume(&state, batch).await }
            });
            event_source::run(&client, &mapping, &invoke).await
        }));
    }
    if start_pollers {
        let (client, mapping, state) = (
            queues.client().clone(),
            mapping(QueueName::Delivery, "delivery"),
            delivery.clone(),
        );
        pollers.push(tokio::spawn(async move {
            let invoke = InProcess(|batch| {
                let state = state.clone();
                async move { delivery::consume(&state, batch).await }
            });
            event_source::run(&client, &mapping, &invoke).await
        }));
    }
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
        queues,
        kitchen,
        delivery,
        pollers,
    }
}

/// A cash order of two Margheritas at pizzeria 1: (id, tracking token, total).
async fn place(world: &World, fulfilment: &str) -> (i64, String, i64) {
    let mut body = json!({
        "pizzeria_id": 1, "fulfilment": fulfilment, "payment_method": "cash",
        "lines": [{"product_id": 1, "quantity": 2}],
        "contact": {"name": "Hugo Bernard", "phone": "06 11 22 33 44", "email": "hugo@example.fr"}
    });
    if fulfilment == "delivery" {
        body["address"] =
            json!({"line1": "25 rue Victor Hugo", "postcode": "69002", "city": "Lyon"});
    }
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
        answer["order"]["total_cents"].as_i64().unwrap(),
    )
}

async fn kitchen_post(world: &World, id: i64, action: &str, bearer: &str) -> Value {
    let response = kitchen::handle(
        &world.kitchen,
        request(
            "POST",
            &format!("/tickets/{id}/{action}"),
            None,
            Some(bearer),
        ),
    )
    .await;
    let body = json_of(&response);
    assert_eq!(response.status(), StatusCode::OK, "{action}: {body}");
    body
}

async fn delivery_call(
    world: &World,
    method: &str,
    uri: &str,
    body: Option<Value>,
    bearer: &str,
) -> (StatusCode, Value) {
    let response =
        delivery::handle(&world.delivery, request(method, uri, body, Some(bearer))).await;
    (response.status(), json_of(&response))
}

async fn order_status(pool: &MySqlPool, id: i64) -> String {
    sqlx::query_as::<_, (String,)>("SELECT status FROM orders WHERE id = ?")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
        .0
}

async fn ticket_shown(world: &World, bearer: &str, id: i64) -> bool {
    let response = kitchen::handle(
        &world.kitchen,
        request("GET", "/pizzerias/1/tickets", None, Some(bearer)),
    )
    .await;
    json_of(&response)["tickets"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t["order_id"] == id))
}

/// The courier a delivery went to, once it has one.
async fn courier_of(pool: &MySqlPool, order: i64) -> Option<(i64, String)> {
    sqlx::query_as(
        "SELECT d.id, u.email FROM deliveries d JOIN users u ON u.id = d.courier_id \
         WHERE d.order_id = ? AND d.status = 'assigned'",
    )
    .bind(order)
    .fetch_optional(pool)
    .await
    .unwrap()
}

async fn history(pool: &MySqlPool, id: i64) -> Vec<String> {
    sqlx::query_as::<_, (String,)>(
        "SELECT status FROM order_status_history WHERE order_id = ? ORDER BY id",
    )
    .bind(id)
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|(s,)| s)
    .collect()
}

async fn notifications(pool: &MySqlPool, id: i64) -> Vec<String> {
    sqlx::query_as::<_, (String,)>("SELECT kind FROM notifications WHERE order_id = ? ORDER BY id")
        .bind(id)
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(s,)| s)
        .collect()
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_cash_delivery_order_goes_from_checkout_to_the_door(pool: MySqlPool) {
    let world = world(&pool).await;
    let chef = token_for(&pool, SECRET, "pizzaiolo.1@ocpizza.test").await;
    let (id, token, total) = place(&world, "delivery").await;
    let reserved = scalar(
        &pool,
        "SELECT SUM(reserved) FROM stock WHERE pizzeria_id = 1",
    )
    .await;
    assert!(reserved > 0);

    // The ticket reaches the display through the queue and the poller.
    assert!(
        eventually(PATIENCE, || ticket_shown(&world, &chef, id)).await,
        "the ticket never reached the kitchen display"
    );
    let on_hand = scalar(
        &pool,
        "SELECT SUM(on_hand) FROM stock WHERE pizzeria_id = 1",
    )
    .await;
    kitchen_post(&world, id, "start", &chef).await;
    let consumed = on_hand
        - scalar(
            &pool,
            "SELECT SUM(on_hand) FROM stock WHERE pizzeria_id = 1",
        )
        .await;
    assert_eq!(consumed, reserved, "what was reserved is what was used");
    assert_eq!(
        scalar(
            &pool,
            "SELECT SUM(reserved) FROM stock WHERE pizzeria_id = 1"
        )
        .await,
        0
    );
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
    kitchen_post(&world, id, "ready", &chef).await;

    // order.ready → the delivery function assigns a courier of pizzeria 1.
    assert!(
        eventually(PATIENCE, || async { courier_of(&pool, id).await.is_some() }).await,
        "no courier was assigned"
    );
    let (delivery_id, courier_email) = courier_of(&pool, id).await.unwrap();
    assert!(
        courier_email.ends_with(".1@ocpizza.test"),
        "{courier_email}"
    );
    let courier = token_for(&pool, SECRET, &courier_email).await;
    let (status, run) = delivery_call(&world, "GET", "/deliveries", None, &courier).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let mine = &run["deliveries"][0];
    assert_eq!(mine["order_id"], id);
    assert_eq!(mine["status"], "assigned");
    assert!(mine["distance_m"].as_i64().is_some_and(|d| d > 0), "{mine}");
    assert!(mine["eta"].is_string());
    assert_eq!(mine["cash_to_collect_cents"], total);
    assert!(mine["address"]["map_url"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    // The customer sees the ETA on the order.
    let tracked = orders::handle(
        &world.orders,
        request("GET", &format!("/orders/{id}?token={token}"), None, None),
    )
    .await;
    assert_eq!(json_of(&tracked)["order"]["eta"], mine["eta"]);

    // The other courier of the pizzeria may not take it.
    let other = if courier_email.starts_with("courier2") {
        "courier.1@ocpizza.test"
    } else {
        "courier2.1@ocpizza.test"
    };
    let other = token_for(&pool, SECRET, other).await;
    let (status, _) = delivery_call(
        &world,
        "POST",
        &format!("/deliveries/{delivery_id}/pickup"),
        None,
        &other,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, picked) = delivery_call(
        &world,
        "POST",
        &format!("/deliveries/{delivery_id}/pickup"),
        None,
        &courier,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{picked}");
    assert_eq!(order_status(&pool, id).await, "out_for_delivery");
    // Delivered without the cash: refused, nothing written.
    let (status, problem) = delivery_call(
        &world,
        "POST",
        &format!("/deliveries/{delivery_id}/delivered"),
        Some(json!({})),
        &courier,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["cash_to_collect_cents"], total);
    assert_eq!(order_status(&pool, id).await, "out_for_delivery");
    let (status, done) = delivery_call(
        &world,
        "POST",
        &format!("/deliveries/{delivery_id}/delivered"),
        Some(json!({"cash_collected_cents": total})),
        &courier,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["delivery"]["status"], "delivered");
    assert_eq!(done["delivery"]["cash_collected_cents"], total);

    // The order's whole story, its cash, its stock, and one notification per
    // step for the customer (the notifier e-mails them: functions/notifier).
    let story = [
        "placed",
        "preparing",
        "ready",
        "out_for_delivery",
        "delivered",
    ];
    assert_eq!(history(&pool, id).await, story);
    assert_eq!(notifications(&pool, id).await, story);
    let tracked = orders::handle(
        &world.orders,
        request("GET", &format!("/orders/{id}?token={token}"), None, None),
    )
    .await;
    let order = json_of(&tracked)["order"].clone();
    assert_eq!(order["status"], "delivered");
    assert_eq!(order["payment"]["status"], "collected");
    assert_eq!(order["payment"]["paid_cents"], total);
    assert_eq!(
        scalar(
            &pool,
            &format!("SELECT COUNT(*) FROM payments WHERE order_id = {id} AND provider = 'cash'")
        )
        .await,
        1
    );
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
    let kinds: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT kind FROM stock_movements WHERE order_id = ? ORDER BY kind",
    )
    .bind(id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(kinds, [("consumption".into(),), ("reservation".into(),)]);
    testkit::assert_reconciled(&pool, ocpizza::reporting::audit::Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_pickup_order_ends_at_the_counter_without_a_courier(pool: MySqlPool) {
    let world = world(&pool).await;
    let chef = token_for(&pool, SECRET, "pizzaiolo.1@ocpizza.test").await;
    let cashier = token_for(&pool, SECRET, "cashier.1@ocpizza.test").await;
    let (id, _, total) = place(&world, "pickup").await;
    assert!(eventually(PATIENCE, || ticket_shown(&world, &chef, id)).await);
    kitchen_post(&world, id, "start", &chef).await;
    kitchen_post(&world, id, "ready", &chef).await;
    // The delivery function receives order.ready and leaves the order alone.
    let ready_event: (String,) = sqlx::query_as(
        "SELECT event_id FROM outbox WHERE order_id = ? AND event_type = 'order.ready'",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    let consumed = format!(
        "SELECT COUNT(*) FROM processed_events WHERE consumer = 'delivery' AND event_id = '{}'",
        ready_event.0
    );
    assert!(eventually(PATIENCE, || async { scalar(&pool, &consumed).await == 1 }).await);
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM deliveries").await, 0);

    // Not handed over unpaid; handed over with the cash taken.
    let hand_over = |body: Value| {
        orders::handle(
            &world.orders,
            request(
                "POST",
                &format!("/orders/{id}/status"),
                Some(body),
                Some(&cashier),
            ),
        )
    };
    let refused = hand_over(json!({"status": "picked_up"})).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert_eq!(json_of(&refused)["balance_cents"], total);
    assert_eq!(order_status(&pool, id).await, "ready");
    let response = hand_over(json!({"status": "picked_up", "payment": {"method": "cash"}})).await;
    let order = json_of(&response);
    assert_eq!(response.status(), StatusCode::OK, "{order}");
    assert_eq!(order["order"]["payment"]["status"], "collected");
    assert_eq!(order["order"]["payment"]["paid_cents"], total);
    let story = ["placed", "preparing", "ready", "picked_up"];
    assert_eq!(history(&pool, id).await, story);
    assert_eq!(notifications(&pool, id).await, story);
    testkit::assert_reconciled(&pool, ocpizza::reporting::audit::Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn every_message_delivered_twice_has_one_effect(pool: MySqlPool) {
    let world = world(&pool).await;
    let chef = token_for(&pool, SECRET, "pizzaiolo.1@ocpizza.test").await;
    let (id, _, _) = place(&world, "delivery").await;
    // The same order.placed once more, as SQS may deliver it.
    let (payload,): (String,) = sqlx::query_as(
        "SELECT payload FROM outbox WHERE order_id = ? AND event_type = 'order.placed'",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    world
        .queues
        .send_batch(QueueName::Kitchen, &[payload])
        .await
        .unwrap();
    let kitchen_done = "SELECT COUNT(*) FROM processed_events WHERE consumer = 'kitchen'";
    assert!(eventually(PATIENCE, || ticket_shown(&world, &chef, id)).await);
    kitchen_post(&world, id, "start", &chef).await;
    kitchen_post(&world, id, "ready", &chef).await;
    let (payload,): (String,) = sqlx::query_as(
        "SELECT payload FROM outbox WHERE order_id = ? AND event_type = 'order.ready'",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    world
        .queues
        .send_batch(QueueName::Delivery, &[payload])
        .await
        .unwrap();
    assert!(eventually(PATIENCE, || async { courier_of(&pool, id).await.is_some() }).await);

    // Both copies of each message have been received and deleted.
    let queues_empty = || async {
        let mut empty = true;
        for q in [QueueName::Kitchen, QueueName::Delivery] {
            empty &= world.queues.depth(q).await.unwrap() == (0, 0);
        }
        empty
    };
    assert!(
        eventually(PATIENCE, queues_empty).await,
        "messages left on the queues"
    );
    assert_eq!(
        scalar(&pool, kitchen_done).await,
        1,
        "one order.placed applied"
    );
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM kitchen_tickets").await,
        1
    );
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM deliveries").await, 1);
    assert_eq!(
        notifications(&pool, id).await,
        ["placed", "preparing", "ready"],
        "one notification (one e-mail) per step"
    );
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM processed_events WHERE consumer = 'delivery'"
        )
        .await,
        1
    );
    testkit::assert_reconciled(&pool, ocpizza::reporting::audit::Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_poison_message_ends_in_the_dead_letter_queue_and_spares_its_batch(pool: MySqlPool) {
    // This test drives the kitchen's poller itself, one poll at a time.
    let world = world_with(&pool, false).await;
    let chef = token_for(&pool, SECRET, "pizzaiolo.1@ocpizza.test").await;
    let (id, _, _) = place(&world, "pickup").await;
    world
        .queues
        .send_batch(
            QueueName::Kitchen,
            &[r#"{"version":1,"type":"order.exploded"}"#.to_owned()],
        )
        .await
        .unwrap();
    // A batching window gathers both into one batch, as the real mapping's would.
    let mapping = Mapping {
        wait: Duration::from_secs(1),
        window: Duration::from_secs(2),
        ..Mapping::new(world.queues.url(QueueName::Kitchen), "kitchen")
    };
    let state = world.kitchen.clone();
    let invoke = InProcess(|batch| {
        let state = state.clone();
        async move { kitchen::consume(&state, batch).await }
    });
    let first = event_source::poll_once(world.queues.client(), &mapping, &invoke)
        .await
        .unwrap();
    assert_eq!(first.received, 2, "{first:?}");
    assert_eq!((first.deleted, first.retried), (1, 1), "{first:?}");
    assert!(
        ticket_shown(&world, &chef, id).await,
        "the good message was applied"
    );

    // Retried after each visibility timeout, then moved by the redrive policy.
    let mapping = Mapping {
        window: Duration::ZERO,
        ..mapping
    };
    let dlq_url = format!("{}-dlq", world.queues.url(QueueName::Kitchen));
    let mut retries = 1;
    let mut dead = Vec::new();
    for _ in 0..40 {
        let report = event_source::poll_once(world.queues.client(), &mapping, &invoke)
            .await
            .unwrap();
        retries += report.retried;
        let got = world
            .queues
            .client()
            .receive_message()
            .queue_url(&dlq_url)
            .wait_time_seconds(0)
            .send()
            .await
            .unwrap();
        dead.extend(got.messages.unwrap_or_default());
        if !dead.is_empty() {
            break;
        }
    }
    assert_eq!(dead.len(), 1, "the poison message is in the DLQ");
    assert!(dead[0].body().unwrap().contains("order.exploded"));
    // Handed to the function again after each failure, never more than the
    // redrive limit (the 2 s window of the first poll outlives the 1 s
    // visibility, so SQS may count one extra receive there).
    assert!(
        (2..=ocpizza::platform::queue::MAX_RECEIVES as usize).contains(&retries),
        "retried {retries} times"
    );
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM kitchen_tickets").await,
        1
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_delivery_waits_when_every_courier_is_full(pool: MySqlPool) {
    let world = world(&pool).await;
    let chef = token_for(&pool, SECRET, "pizzaiolo.1@ocpizza.test").await;
    sqlx::query("UPDATE users SET active = FALSE WHERE email = 'courier2.1@ocpizza.test'")
        .execute(&pool)
        .await
        .unwrap();
    let capacity = delivery::COURIER_CAPACITY as usize;
    let mut ids = Vec::new();
    for _ in 0..=capacity {
        let (id, _, _) = place(&world, "delivery").await;
        assert!(eventually(PATIENCE, || ticket_shown(&world, &chef, id)).await);
        kitchen_post(&world, id, "start", &chef).await;
        kitchen_post(&world, id, "ready", &chef).await;
        ids.push(id);
    }
    let settled =
        || async { scalar(&pool, "SELECT COUNT(*) FROM deliveries").await == ids.len() as i64 };
    assert!(eventually(PATIENCE, settled).await);
    let states: Vec<(i64, String, Option<String>)> = sqlx::query_as(
        "SELECT d.order_id, d.status, u.email FROM deliveries d LEFT JOIN users u ON u.id = d.courier_id ORDER BY d.order_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for (order, status, courier) in &states[..capacity] {
        assert_eq!(
            (status.as_str(), courier.as_deref()),
            ("assigned", Some("courier.1@ocpizza.test")),
            "{order}"
        );
    }
    let (last, status, courier) = &states[capacity];
    assert_eq!(
        (status.as_str(), courier.as_deref()),
        ("waiting", None),
        "{last}"
    );

    // The courier delivers one: the waiting delivery is theirs at once.
    let courier = token_for(&pool, SECRET, "courier.1@ocpizza.test").await;
    let first: (i64,) = sqlx::query_as("SELECT id FROM deliveries WHERE order_id = ?")
        .bind(ids[0])
        .fetch_one(&pool)
        .await
        .unwrap();
    for action in ["pickup", "delivered"] {
        let body = (action == "delivered").then(|| json!({"cash_collected_cents": 10_000}));
        let (status, answer) = delivery_call(
            &world,
            "POST",
            &format!("/deliveries/{}/{action}", first.0),
            body,
            &courier,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{action}: {answer}");
    }
    let (status, courier_of_last): (String, Option<i64>) =
        sqlx::query_as("SELECT status, courier_id FROM deliveries WHERE order_id = ?")
            .bind(last)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(status, "assigned");
    assert!(courier_of_last.is_some());
}
