//! Promised times and pre-orders, through the functions' HTTP handlers
//! (answers checked against `docs/openapi.json`), the real outbox relay and
//! the real SQS-compatible server: a pre-order's ticket reaches the kitchen
//! at its slot minus the preparation time, not before; a slot fills up; the
//! slots a hostile or hurried customer might send are refused in plain
//! words with nothing written; the promise follows the order to the door.

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use http::StatusCode;
use ocpizza::platform::clock::Clock;
use ocpizza::platform::queue::QueueName;
use ocpizza::reporting::audit::Scope;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::time::Duration as StdDuration;
use testkit::{self as testing, scalar, Function::*, World};

/// Pizzeria 1 of the demo, open all day with plenty of stock.
async fn world(pool: &MySqlPool) -> World {
    let world = World::demo(pool, Utc::now()).await;
    testing::open_all_day_with_plenty_of_stock(pool).await;
    world
}

/// Two Margheritas from pizzeria 1 (above its delivery minimum), in cash,
/// for `slot` (or as soon as possible).
fn cart(fulfilment: &str, slot: Option<&str>) -> Value {
    let mut body = json!({
        "pizzeria_id": 1, "fulfilment": fulfilment, "payment_method": "cash",
        "lines": [{"product_id": 1, "quantity": 2}],
        "contact": {"name": "Inès Garnier", "phone": "06 71 72 73 74", "email": "ines@example.fr"}
    });
    if fulfilment == "delivery" {
        body["address"] = json!({"line1": "18 Rue Mercière", "postcode": "69002", "city": "Lyon"});
    }
    if let Some(slot) = slot {
        body["slot_at"] = json!(slot);
    }
    body
}

/// A guest's checkout.
async fn place(world: &World, body: Value) -> (StatusCode, Value) {
    world
        .call(Checkout, "POST", "/orders", Some(body), None)
        .await
}

/// A guest's checkout under the `Idempotency-Key` of their choosing (a retry).
async fn send_keyed(world: &World, key: &str, body: &Value) -> ocpizza::platform::http::Response {
    let mut req = testing::request("POST", "/orders", Some(body.clone()), None);
    req.headers_mut()
        .insert("idempotency-key", key.parse().expect("a header value"));
    world.send(Checkout, req, Some(body)).await
}

fn at(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.to_utc())
        .unwrap_or_else(|| panic!("not a time: {value}"))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The relay's pass at `now`, as its schedule would run it.
async fn relay_at(world: &World, now: DateTime<Utc>) -> i64 {
    let relay = outbox_relay::State {
        pool: world.pool.clone(),
        queues: world.checkout.queues.clone(),
        clock: Clock::Fixed(now),
    };
    let report = outbox_relay::run_once(&relay, 0).await.expect("relay");
    report["sent"].as_i64().unwrap_or(-1)
}

/// Gives the kitchen every message waiting; the orders they were for.
async fn kitchen_receives(world: &World) -> Vec<i64> {
    let mut orders = Vec::new();
    for envelope in testing::drain(
        &world.checkout.queues,
        QueueName::Kitchen,
        StdDuration::from_millis(300),
    )
    .await
    {
        orders.push(envelope.order_id.0);
        kitchen::apply(&world.pool, envelope)
            .await
            .unwrap_or_else(|e| panic!("kitchen: {e:?}"));
    }
    orders
}

/// The tickets on pizzeria 1's kitchen display.
async fn display(world: &World, chef: &str) -> Vec<Value> {
    let (status, board) = world
        .call(Kitchen, "GET", "/pizzerias/1/tickets", None, Some(chef))
        .await;
    assert_eq!(status, StatusCode::OK, "{board}");
    board["tickets"].as_array().cloned().unwrap_or_default()
}

/// The numbers on pizzeria 1's kitchen display.
async fn on_the_display(world: &World, chef: &str) -> Vec<String> {
    display(world, chef)
        .await
        .iter()
        .filter_map(|t| t["number"].as_str().map(str::to_owned))
        .collect()
}

/// The first slot the shop lists at least `ahead` from now.
async fn slot_after(world: &World, ahead: Duration) -> DateTime<Utc> {
    let (status, times) = world
        .call(Menu, "GET", "/pizzerias/1/times", None, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{times}");
    let soon = Utc::now() + ahead;
    times["slots"]
        .as_array()
        .and_then(|all| all.iter().map(|s| at(&s["at"])).find(|t| *t >= soon))
        .unwrap_or_else(|| panic!("no slot {ahead} ahead: {times}"))
}

/// The retry of the order that took a slot's last place is that order
/// again, not a refusal; a new order for the slot is refused.
#[sqlx::test(migrations = "../../migrations")]
async fn the_retry_of_the_order_that_filled_a_slot_gets_its_answer_again(pool: MySqlPool) {
    let world = world(&pool).await;
    sqlx::query("UPDATE pizzerias SET slot_capacity = 1, version = version + 1 WHERE id = 1")
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("one place a slot: {e}"));
    let body = cart(
        "pickup",
        Some(&rfc3339(slot_after(&world, Duration::hours(3)).await)),
    );
    let key = uuid::Uuid::new_v4().to_string();
    let first = send_keyed(&world, &key, &body).await;
    let placed = testing::json_of(&first);
    assert_eq!(first.status(), StatusCode::CREATED, "{placed}");
    let retry = send_keyed(&world, &key, &body).await;
    let again = testing::json_of(&retry);
    assert_eq!(retry.status(), StatusCode::CREATED, "{again}");
    assert_eq!(again["order"]["id"], placed["order"]["id"]);
    assert_eq!(again["order"]["number"], placed["order"]["number"]);
    let (status, problem) = place(&world, body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["type"], "/problems/slot-full");
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM orders").await, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_pre_order_reaches_the_kitchen_at_its_slot_minus_the_preparation_not_before(
    pool: MySqlPool,
) {
    let mut world = world(&pool).await;
    let chef = world.token("pizzaiolo.1@ocpizza.test").await;
    let slot = slot_after(&world, Duration::hours(2)).await;

    let body = cart("pickup", Some(&rfc3339(slot)));
    let key = uuid::Uuid::new_v4().to_string();
    let first = send_keyed(&world, &key, &body).await;
    let (status, placed) = (first.status(), testing::json_of(&first));
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    // The customer's retry, once the slot is too soon to take: the same
    // order, not a refusal.
    world.checkout.clock = Clock::Fixed(slot - Duration::minutes(5));
    let retry = send_keyed(&world, &key, &body).await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(
        testing::json_of(&retry)["order"]["id"],
        placed["order"]["id"]
    );
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM orders").await, 1);
    let (status, late) = place(&world, body.clone()).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a new order: {late}"
    );
    assert_eq!(late["reason"], "too_soon");
    world.checkout.clock = Clock::System;
    let order = &placed["order"];
    assert_eq!(order["status"], "placed");
    assert_eq!(at(&order["slot_at"]), slot);
    assert_eq!(at(&order["promised_at"]), slot);
    let number = order["number"].as_str().unwrap_or_default().to_owned();
    let id = order["id"].as_i64().unwrap_or_default();

    // Nothing reaches the kitchen now: the ticket waits in the outbox for
    // the slot minus pizzeria 1's 15 minutes.
    let release = slot - Duration::minutes(15);
    assert_eq!(
        scalar(
            &pool,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE order_id = {id} AND sent_at IS NULL \
                 AND not_before = '{}'",
                release.naive_utc()
            )
        )
        .await,
        1
    );
    assert!(kitchen_receives(&world).await.is_empty());
    assert!(!on_the_display(&world, &chef).await.contains(&number));
    // Waiting for its time is not a backlog, and the books agree.
    assert_eq!(
        ocpizza::platform::outbox::backlog(&pool)
            .await
            .expect("backlog"),
        (0, 0)
    );
    testkit::assert_reconciled(&pool, Scope::Settled).await;

    // A second before its time, the relay leaves it; at its time, it goes.
    assert_eq!(relay_at(&world, release - Duration::seconds(1)).await, 0);
    assert!(kitchen_receives(&world).await.is_empty());
    assert_eq!(relay_at(&world, release).await, 1);
    assert_eq!(kitchen_receives(&world).await, vec![id]);
    // The pizzaiolo reads when it is for.
    let ticket = display(&world, &chef)
        .await
        .into_iter()
        .find(|t| t["number"] == number.as_str())
        .unwrap_or_else(|| panic!("ticket {number} on the display"));
    assert_eq!(at(&ticket["slot_at"]), slot);
    // Sent once: a later pass finds nothing.
    assert_eq!(relay_at(&world, slot).await, 0);

    // The customer reads the slot in their e-mail.
    let body: String =
        sqlx::query_scalar("SELECT body FROM notifications WHERE order_id = ? AND kind = 'placed'")
            .bind(id)
            .fetch_one(&pool)
            .await
            .expect("the e-mail");
    let local = slot.with_timezone(&Paris);
    assert!(
        body.contains(&format!(
            "À retirer le {} à {}.",
            local.format("%d/%m"),
            local.format("%H:%M")
        )),
        "{body}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_cancelled_pre_order_never_reaches_the_kitchen_and_frees_its_place(pool: MySqlPool) {
    let world = world(&pool).await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let chef = world.token("pizzaiolo.1@ocpizza.test").await;
    // Pizzeria 1's manager takes one pre-order a quarter hour; its
    // pizzaiolo may not, nor another pizzeria's manager; 101 is refused.
    let capacity = |n: i64| json!({"slot_capacity": n});
    for (who, body, expected) in [
        (&chef, capacity(1), StatusCode::FORBIDDEN),
        (
            &world.token("manager.2@ocpizza.test").await,
            capacity(1),
            StatusCode::FORBIDDEN,
        ),
        (&manager, capacity(101), StatusCode::UNPROCESSABLE_ENTITY),
        (
            &manager,
            json!({"prep_minutes": 4}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (status, answer) = world
            .call(Backoffice, "PATCH", "/pizzerias/1", Some(body), Some(who))
            .await;
        assert_eq!(status, expected, "{answer}");
    }
    assert_eq!(
        scalar(
            &pool,
            "SELECT slot_capacity * 1000 + prep_minutes FROM pizzerias WHERE id = 1"
        )
        .await,
        6_015
    );
    let (status, answer) = world
        .call(
            Backoffice,
            "PATCH",
            "/pizzerias/1",
            Some(json!({"slot_capacity": 1, "prep_minutes": 20})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["pizzeria"]["slot_capacity"], 1);
    assert_eq!(answer["pizzeria"]["prep_minutes"], 20);

    // Three customers want the same slot at once: one gets it.
    let slot = rfc3339(slot_after(&world, Duration::hours(3)).await);
    let attempts = (0..3).map(|_| place(&world, cart("pickup", Some(&slot))));
    let answers = futures_util::future::join_all(attempts).await;
    let won: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    for (status, problem) in answers.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_eq!(*status, StatusCode::CONFLICT, "{problem}");
        assert_eq!(problem["type"], "/problems/slot-full");
    }
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM orders").await,
        1,
        "the refused ones wrote nothing (the demo has no orders)"
    );
    let (_, times) = world
        .call(Menu, "GET", "/pizzerias/1/times", None, None)
        .await;
    let listed = |times: &Value| {
        times["slots"]
            .as_array()
            .and_then(|all| all.iter().find(|s| s["at"].as_str() == Some(slot.as_str())))
            .map(|s| s["full"].clone())
    };
    assert_eq!(listed(&times), Some(json!(true)), "{times}");

    // The customer cancels: the ticket waiting for its time goes too, and
    // the place is free again.
    let order = &won[0]["order"];
    let (id, token) = (
        order["id"].as_i64().unwrap_or_default(),
        order["tracking_token"].as_str().unwrap_or_default(),
    );
    let (status, cancelled) = world
        .call(
            Orders,
            "POST",
            &format!("/orders/{id}/cancel?token={token}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(
        scalar(
            &pool,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE order_id = {id} AND event_type = 'order.placed'"
            )
        )
        .await,
        0
    );
    assert_eq!(relay_at(&world, at(&json!(slot))).await, 0);
    // The kitchen hears of the cancellation only, and never shows a ticket.
    kitchen_receives(&world).await;
    assert_eq!(
        scalar(
            &pool,
            &format!("SELECT COUNT(*) FROM kitchen_tickets WHERE order_id = {id}")
        )
        .await,
        0
    );
    let (_, times) = world
        .call(Menu, "GET", "/pizzerias/1/times", None, None)
        .await;
    assert_eq!(listed(&times), Some(json!(false)));
    let (status, again) = place(&world, cart("pickup", Some(&slot))).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");

    // No pre-orders at all: no slot listed, and a plain refusal.
    let (status, _) = world
        .call(
            Backoffice,
            "PATCH",
            "/pizzerias/1",
            Some(capacity(0)),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, times) = world
        .call(Menu, "GET", "/pizzerias/1/times", None, None)
        .await;
    assert_eq!(times["slots"], json!([]), "{times}");
    let (status, refused) = place(&world, cart("pickup", Some(&slot))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["reason"], "no_pre_orders");
    testkit::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn slots_outside_the_rules_are_refused_in_plain_words_and_a_closed_shop_takes_pre_orders(
    pool: MySqlPool,
) {
    let mut world = world(&pool).await;
    let manager = world.token("manager.1@ocpizza.test").await;
    // Evenings only, 18:00 to 22:00 every day.
    let week: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "opens_at": "18:00", "closes_at": "22:00"}))
        .collect();
    let (status, answer) = world
        .call(
            Backoffice,
            "PUT",
            "/pizzerias/1/hours",
            Some(json!({"weekly": week})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // The checkout's clock: 10:00 tomorrow in Paris, closed.
    let tomorrow = Utc::now().with_timezone(&Paris).date_naive() + Duration::days(1);
    let paris = |day: chrono::NaiveDate, h: u32, m: u32| {
        Paris
            .from_local_datetime(&day.and_hms_opt(h, m, 0).expect("a time"))
            .earliest()
            .expect("a Paris time")
            .to_utc()
    };
    let now = paris(tomorrow, 10, 0);
    world.checkout.clock = Clock::Fixed(now);
    world.menu.clock = Clock::Fixed(now);

    // As soon as possible: closed. For 19:30: taken, while closed.
    let (status, closed) = place(&world, cart("pickup", None)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{closed}");
    assert_eq!(closed["type"], "/problems/pizzeria-closed");

    let refused = [
        (rfc3339(paris(tomorrow, 19, 37)), "not_a_quarter_hour"),
        (rfc3339(paris(tomorrow, 9, 0)), "too_soon"),
        (rfc3339(paris(tomorrow, 12, 0)), "closed"),
        (rfc3339(paris(tomorrow, 22, 0)), "closed"),
        (
            rfc3339(paris(tomorrow + Duration::days(7), 19, 0)),
            "too_far",
        ),
    ];
    for (slot, reason) in &refused {
        let (status, problem) = place(&world, cart("delivery", Some(slot))).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{slot}: {problem}"
        );
        assert_eq!(problem["type"], "/problems/slot-unavailable", "{problem}");
        assert_eq!(problem["reason"], *reason, "{slot}: {problem}");
    }
    // A slot that is no time at all is a 4xx problem too.
    for garbage in [
        json!("ce soir"),
        json!(1_900),
        json!("2026-13-40T19:00:00Z"),
    ] {
        let mut body = cart("pickup", None);
        body["slot_at"] = garbage.clone();
        let (status, problem) = place(&world, body).await;
        assert!(status.is_client_error(), "{garbage}: {status} {problem}");
    }
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM orders").await, 0);

    // Eight hours ahead, the evening's first quarter hour takes a delivery.
    let (status, soon) = place(
        &world,
        cart("delivery", Some(&rfc3339(paris(tomorrow, 18, 0)))),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "18:00 is 8 hours ahead: {soon}"
    );
    let (status, evening) = place(
        &world,
        cart("delivery", Some(&rfc3339(paris(tomorrow, 19, 30)))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{evening}");
    let order = &evening["order"];
    assert_eq!(at(&order["promised_at"]), paris(tomorrow, 19, 30));
    // Its ticket is due at 19:30 less 15 minutes' preparation and the ride.
    let ride = ocpizza::delivery::assign::eta_minutes(
        order["distance_m"]
            .as_i64()
            .and_then(|d| i32::try_from(d).ok()),
        0,
    );
    let due = paris(tomorrow, 19, 30) - Duration::minutes(15 + ride);
    assert_eq!(
        scalar(
            &pool,
            &format!(
                "SELECT COUNT(*) FROM orders WHERE id = {} AND release_at = '{}'",
                order["id"],
                due.naive_utc()
            )
        )
        .await,
        1
    );

    // The shop lists tomorrow's evening from 18:00, and nothing at 22:00.
    let (status, times) = world
        .call(Menu, "GET", "/pizzerias/1/times", None, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{times}");
    let slots: Vec<DateTime<Utc>> = times["slots"]
        .as_array()
        .map(|all| all.iter().map(|s| at(&s["at"])).collect())
        .unwrap_or_default();
    assert_eq!(slots.first(), Some(&paris(tomorrow, 18, 0)));
    assert_eq!(slots.len(), 7 * 16, "seven evenings of 16 quarter hours");
    assert!(!slots.contains(&paris(tomorrow, 22, 0)));
    assert_eq!(times["open_now"], false);
    testkit::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_pause_stops_orders_for_its_time_not_pre_orders_after_it(pool: MySqlPool) {
    let world = world(&pool).await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let (status, answer) = world
        .call(
            Backoffice,
            "PUT",
            "/pizzerias/1/pause",
            Some(json!({"scope": "all", "minutes": 60, "message": "Four en panne"})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let until = at(&answer["pause"]["until"]);
    let (_, paused) = place(&world, cart("pickup", None)).await;
    assert_eq!(paused["type"], "/problems/pizzeria-paused", "{paused}");
    let during = rfc3339(slot_after(&world, Duration::minutes(30)).await);
    let (_, paused) = place(&world, cart("pickup", Some(&during))).await;
    assert_eq!(
        paused["type"], "/problems/pizzeria-paused",
        "{during}: {paused}"
    );
    let after = slot_after(&world, until - Utc::now() + Duration::minutes(1)).await;
    let (status, placed) = place(&world, cart("pickup", Some(&rfc3339(after)))).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
}

/// A kitchen with more orders waiting than a promise counts
/// (`TICKETS_COUNTED`, 100) is promised as if it had that many: the shop's
/// "prête vers" and the next order both say 15 + 3 × 100 minutes.
#[sqlx::test(migrations = "../../migrations")]
async fn a_saturated_kitchen_is_promised_as_if_it_had_a_hundred_orders_ahead(pool: MySqlPool) {
    let world = world(&pool).await;
    let counted = ocpizza::order::promise::TICKETS_COUNTED;
    for _ in 0..counted + 5 {
        let (status, placed) = place(&world, cart("pickup", None)).await;
        assert_eq!(status, StatusCode::CREATED, "{placed}");
    }
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM orders WHERE pizzeria_id = 1 AND status = 'placed'"
        )
        .await,
        counted + 5
    );
    let capped = Duration::minutes(15 + 3 * counted);
    let within = |wait: Duration| (capped..capped + Duration::seconds(5)).contains(&wait);

    let before = Utc::now();
    let (_, times) = world
        .call(Menu, "GET", "/pizzerias/1/times", None, None)
        .await;
    assert!(within(at(&times["ready_at"]) - before), "{times}");
    let before = Utc::now();
    let (status, placed) = place(&world, cart("pickup", None)).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    assert!(
        within(at(&placed["order"]["promised_at"]) - before),
        "{placed}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_promise_counts_the_queue_and_follows_the_order_to_the_door(pool: MySqlPool) {
    let world = world(&pool).await;
    let chef = world.token("pizzaiolo.1@ocpizza.test").await;
    let courier = world.token("courier.1@ocpizza.test").await;

    // Before ordering, the shop reads "prête vers" 15 minutes from now.
    let before = Utc::now();
    let (_, times) = world
        .call(Menu, "GET", "/pizzerias/1/times", None, None)
        .await;
    let quiet = at(&times["ready_at"]) - before;
    assert!(
        (Duration::minutes(15)..Duration::minutes(15) + Duration::seconds(5)).contains(&quiet),
        "{times}"
    );

    // Each order in the kitchen pushes the next one 3 minutes later.
    let mut promised = Vec::new();
    let mut pickups = Vec::new();
    for _ in 0..3 {
        let (status, placed) = place(&world, cart("pickup", None)).await;
        assert_eq!(status, StatusCode::CREATED, "{placed}");
        promised.push(at(&placed["order"]["promised_at"]));
        pickups.push(placed["order"].clone());
    }
    for pair in promised.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            (Duration::minutes(3)..Duration::minutes(3) + Duration::seconds(5)).contains(&gap),
            "{promised:?}"
        );
    }
    let (_, times) = world
        .call(Menu, "GET", "/pizzerias/1/times", None, None)
        .await;
    assert!(at(&times["ready_at"]) >= promised[2] + Duration::minutes(3));

    // A delivery: promised with the ride, then the courier's ETA.
    let (status, placed) = place(&world, cart("delivery", None)).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    let order = &placed["order"];
    let (id, token) = (
        order["id"].as_i64().unwrap_or_default(),
        order["tracking_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    );
    kitchen_receives(&world).await;
    let (status, _) = world
        .call(Delivery, "POST", "/shift", None, Some(&courier))
        .await;
    assert_eq!(status, StatusCode::OK);
    for step in ["start", "ready"] {
        let (status, answer) = world
            .call(
                Kitchen,
                "POST",
                &format!("/tickets/{id}/{step}"),
                None,
                Some(&chef),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{step}: {answer}");
    }
    for envelope in testing::drain(
        &world.checkout.queues,
        QueueName::Delivery,
        StdDuration::from_millis(300),
    )
    .await
    {
        delivery::apply(&pool, envelope)
            .await
            .unwrap_or_else(|e| panic!("delivery: {e:?}"));
    }
    let (status, view) = world
        .call(
            Orders,
            "GET",
            &format!("/orders/{id}?token={token}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let view = &view["order"];
    assert!(view["eta"].is_string(), "assigned: {view}");
    assert_eq!(view["promised_at"], view["eta"], "{view}");

    // Each e-mail tells the promise as it stood, on the Paris clock.
    let mails: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, body FROM notifications WHERE order_id = ? ORDER BY id")
            .bind(id)
            .fetch_all(&pool)
            .await
            .expect("e-mails");
    let placed_mail = &mails[0].1;
    let first = at(&order["promised_at"]).with_timezone(&Paris);
    assert!(
        placed_mail.contains(&format!("Livrée vers {}.", first.format("%H:%M"))),
        "{placed_mail}"
    );
    assert!(
        mails.iter().all(|(kind, body)| kind == "picked_up"
            || kind == "delivered"
            || body.contains("Livrée vers")),
        "{mails:?}"
    );

    // A pickup: the kitchen's start promises the preparation from then;
    // ready at the counter, it promises nothing more.
    let (pickup, pickup_token) = (
        pickups[0]["id"].as_i64().unwrap_or_default(),
        pickups[0]["tracking_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    );
    let tracked = format!("/orders/{pickup}?token={pickup_token}");
    let started_at = Utc::now();
    let (status, _) = world
        .call(
            Kitchen,
            "POST",
            &format!("/tickets/{pickup}/start"),
            None,
            Some(&chef),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, view) = world.call(Orders, "GET", &tracked, None, None).await;
    let left = at(&view["order"]["promised_at"]) - started_at;
    assert!(
        (Duration::minutes(15)..Duration::minutes(15) + Duration::seconds(5)).contains(&left),
        "{view}"
    );
    let (status, _) = world
        .call(
            Kitchen,
            "POST",
            &format!("/tickets/{pickup}/ready"),
            None,
            Some(&chef),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, view) = world.call(Orders, "GET", &tracked, None, None).await;
    assert_eq!(view["order"]["promised_at"], Value::Null, "{view}");
    assert_eq!(view["order"]["status"], "ready");
    testkit::assert_reconciled(&pool, Scope::Live).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_card_pre_order_paid_online_waits_for_its_time_too(pool: MySqlPool) {
    let world = world(&pool).await;
    let slot = slot_after(&world, Duration::hours(3)).await;
    let mut body = cart("pickup", Some(&rfc3339(slot)));
    body["payment_method"] = json!("card");
    let (status, answer) = place(&world, body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["order"]["status"], "pending_payment");
    let id = answer["order"]["id"].as_i64().unwrap_or_default();
    let token = answer["order"]["tracking_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // Paid by card (localstripe), then placed by the payment's answer.
    let paid = world.pay_with_test_card(id, &token).await;
    assert_eq!(paid["order"]["status"], "placed", "{paid}");
    // Placed by the payment, its ticket still waits for the slot.
    assert_eq!(at(&paid["order"]["promised_at"]), slot);
    assert!(kitchen_receives(&world).await.is_empty());
    let release = slot - Duration::minutes(15);
    assert_eq!(
        scalar(
            &pool,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE order_id = {id} AND sent_at IS NULL \
                 AND event_type = 'order.placed' AND not_before = '{}'",
                release.naive_utc()
            )
        )
        .await,
        1
    );
    testkit::assert_reconciled(&pool, Scope::Settled).await;
    assert_eq!(relay_at(&world, release).await, 1);
    assert_eq!(kitchen_receives(&world).await, vec![id]);
    // The relay's clock was moved on, not the database's: the ticket came
    // hours before its release time, which the reconciliation check names.
    let findings = ocpizza::reporting::audit::audit(&pool, Scope::Settled)
        .await
        .expect("the check runs");
    assert!(
        findings.iter().any(|f| f.check == "kitchen"
            && f.order_id == Some(id)
            && f.detail.contains("before its release time")),
        "{findings:?}"
    );
}
