//! What goes wrong after the kitchen starts, done as the person who sees it
//! does it from their screen (HTTP, answers checked against
//! `docs/openapi.json`), and attacked as a hostile customer or a curious
//! employee would: a failed delivery, a pickup never collected, a void, a
//! pizza made again, a goodwill refund; the revenue that counts only what was
//! kept; the manager's order search. Every test ends with a clean
//! reconciliation check.

use chrono::Utc;
use http::StatusCode;
use ocpizza::platform::queue::QueueName;
use ocpizza::reporting::audit::Scope;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::time::Duration;
use testkit::{self as testing, scalar, Function::*, World};

/// The demo data, open all day with plenty of stock.
async fn world(pool: &MySqlPool) -> World {
    let world = World::demo(pool, Utc::now()).await;
    testing::open_all_day_with_plenty_of_stock(pool).await;
    world
}

const QUIET: Duration = Duration::from_millis(300);

/// Applies what waits on the kitchen queue, then on the delivery queue, as
/// the consumers do.
async fn run_consumers(world: &World) {
    for envelope in testing::drain(&world.checkout.queues, QueueName::Kitchen, QUIET).await {
        kitchen::apply(&world.pool, envelope)
            .await
            .unwrap_or_else(|e| panic!("kitchen: {e:?}"));
    }
    for envelope in testing::drain(&world.checkout.queues, QueueName::Delivery, QUIET).await {
        delivery::apply(&world.pool, envelope)
            .await
            .unwrap_or_else(|e| panic!("delivery: {e:?}"));
    }
}

/// An order of pizzeria 1: two Margheritas (`quantity`), delivered to a
/// demo address or picked up, by cash (a phone order taken by
/// `staff`) or by card on the web (paid through localstripe as the tracker
/// does). Returns (order id, tracking token).
async fn order(
    world: &World,
    fulfilment: &str,
    method: &str,
    staff: Option<&str>,
) -> (i64, String) {
    let mut body = json!({
        "pizzeria_id": 1, "fulfilment": fulfilment, "payment_method": method,
        "lines": [{"product_id": 1, "quantity": 2}],
        "contact": {"name": "Nina Petit", "phone": "06 11 22 33 44", "email": "nina@example.fr"}
    });
    if fulfilment == "delivery" {
        body["address"] = json!({"line1": "18 Rue Mercière", "postcode": "69002", "city": "Lyon"});
    }
    if staff.is_some() {
        body["channel"] = json!("phone");
    }
    let (status, answer) = world
        .call(Checkout, "POST", "/orders", Some(body), staff)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let id = answer["order"]["id"].as_i64().unwrap_or_default();
    let token = answer["order"]["tracking_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if method == "card" {
        let paid = world.pay_with_test_card(id, &token).await;
        assert_eq!(paid["order"]["status"], "placed", "{paid}");
    }
    run_consumers(world).await;
    (id, token)
}

/// The pizzaiolo moves the ticket along: `start`, then `ready` if asked.
async fn cook(world: &World, order: i64, steps: &[&str]) {
    let chef = world.token("pizzaiolo.1@ocpizza.test").await;
    for step in steps {
        let uri = format!("/tickets/{order}/{step}");
        let (status, answer) = world.call(Kitchen, "POST", &uri, None, Some(&chef)).await;
        assert_eq!(status, StatusCode::OK, "{step}: {answer}");
    }
    run_consumers(world).await;
}

async fn delivery_of(world: &World, order: i64) -> i64 {
    scalar(
        &world.pool,
        &format!("SELECT id FROM deliveries WHERE order_id = {order}"),
    )
    .await
}

/// A delivery order cooked, ready and taken by the courier on shift.
async fn out_for_delivery(world: &World, method: &str) -> (i64, i64, String) {
    let (id, token) = order(world, "delivery", method, None).await;
    cook(world, id, &["start", "ready"]).await;
    let delivery = delivery_of(world, id).await;
    let courier = world.token("courier.1@ocpizza.test").await;
    let uri = format!("/deliveries/{delivery}/pickup");
    let (status, answer) = world
        .call(Delivery, "POST", &uri, None, Some(&courier))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    (id, delivery, token)
}

/// One text value from the database.
async fn text(pool: &MySqlPool, sql: &str) -> String {
    let (value,): (String,) = sqlx::query_as(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    value
}

/// The order as staff read it.
async fn order_view(world: &World, id: i64) -> Value {
    let manager = world.token("manager.1@ocpizza.test").await;
    let (status, answer) = world
        .call(
            Orders,
            "GET",
            &format!("/orders/{id}"),
            None,
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["order"].clone()
}

/// A call that must succeed; its answer.
async fn ok(world: &World, f: testkit::Function, uri: &str, body: Value, who: &str) -> Value {
    let (status, answer) = post(world, f, uri, body, who).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {answer}");
    answer
}

async fn post(
    world: &World,
    f: testkit::Function,
    uri: &str,
    body: Value,
    who: &str,
) -> (StatusCode, Value) {
    world.call(f, "POST", uri, Some(body), Some(who)).await
}

/// What localstripe says was refunded of an order's PaymentIntents.
async fn refunded_at_stripe(pool: &MySqlPool, order: i64) -> i64 {
    let (intent,): (String,) = sqlx::query_as(
        "SELECT provider_ref FROM payments WHERE order_id = ? AND kind = 'charge' AND provider = 'stripe'",
    )
    .bind(order)
    .fetch_one(pool)
    .await
    .expect("a Stripe charge");
    let config = testing::config();
    let answer: Value = reqwest::Client::new()
        .get(format!(
            "{}/v1/refunds?payment_intent={intent}&limit=100",
            config.stripe_api_base
        ))
        .bearer_auth("sk_test_local")
        .send()
        .await
        .expect("localstripe answers")
        .json()
        .await
        .expect("JSON");
    answer["data"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|r| {
                    r["payment_intent"].as_str() == Some(&intent) && r["status"] != "failed"
                })
                .map(|r| r["amount"].as_i64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_failed_delivery_collects_nothing_and_the_manager_decides_the_refund(pool: MySqlPool) {
    let world = world(&pool).await;
    let courier = world.token("courier.1@ocpizza.test").await;
    let other_courier = world.token("courier2.1@ocpizza.test").await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let cashier = world.token("cashier.1@ocpizza.test").await;

    // Cash: nobody home. Nothing is collected, the customer is told.
    let (id, delivery, _) = out_for_delivery(&world, "cash").await;
    let uri = format!("/deliveries/{delivery}/failed");
    for (who, body, expected) in [
        (
            &other_courier,
            json!({"reason": "absent"}),
            StatusCode::FORBIDDEN,
        ),
        (&cashier, json!({"reason": "absent"}), StatusCode::FORBIDDEN),
        (
            &courier,
            json!({"reason": "gone fishing"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &courier,
            json!({"reason": "absent", "cash": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (&courier, json!({}), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, answer) = post(&world, Delivery, &uri, body, who).await;
        assert_eq!(status, expected, "{answer}");
    }
    let (status, failed) = post(
        &world,
        Delivery,
        &uri,
        json!({"reason": "absent"}),
        &courier,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{failed}");
    assert_eq!(failed["delivery"]["status"], "failed");
    assert_eq!(failed["delivery"]["failure"], "absent");
    assert_eq!(failed["delivery"]["cash_collected_cents"], Value::Null);
    let seen = order_view(&world, id).await;
    assert_eq!(seen["status"], "failed_delivery");
    assert_eq!(
        seen["payment"]["paid_cents"], 0,
        "no cash collected: {seen}"
    );
    let last = seen["history"]
        .as_array()
        .and_then(|h| h.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["note"], "échec de livraison : client absent");
    let told: i64 = scalar(
        &pool,
        &format!(
            "SELECT COUNT(*) FROM notifications WHERE order_id = {id} AND kind = 'failed_delivery'"
        ),
    )
    .await;
    assert_eq!(told, 1);
    // Once failed, neither failed again nor delivered.
    let (status, again) = post(
        &world,
        Delivery,
        &uri,
        json!({"reason": "absent"}),
        &courier,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let delivered = format!("/deliveries/{delivery}/delivered");
    let (status, answer) = post(
        &world,
        Delivery,
        &delivered,
        json!({"cash_collected_cents": 2000}),
        &courier,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    // Nothing was paid: nothing to give back.
    let refund = format!("/orders/{id}/refund");
    let (status, answer) = post(
        &world,
        Orders,
        &refund,
        json!({"amount_cents": 100, "refunded_cents": 0, "reason": "désolé"}),
        &manager,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["refundable_cents"], 0);

    // Card: refused at the door. The money stays until the manager decides;
    // the manager gives it all back, once.
    let (id, delivery, _) = out_for_delivery(&world, "card").await;
    let uri = format!("/deliveries/{delivery}/failed");
    let (status, failed) = post(
        &world,
        Delivery,
        &uri,
        json!({"reason": "refused"}),
        &courier,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{failed}");
    let seen = order_view(&world, id).await;
    let total = seen["total_cents"].as_i64().unwrap_or_default();
    assert_eq!(seen["payment"]["paid_cents"], total);
    let refund = format!("/orders/{id}/refund");
    let body = json!({"amount_cents": total, "refunded_cents": 0, "reason": "commande refusée"});
    for who in [&courier, &cashier] {
        let (status, answer) = post(&world, Orders, &refund, body.clone(), who).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    }
    let other_manager = world.token("manager.2@ocpizza.test").await;
    let (status, answer) = post(&world, Orders, &refund, body.clone(), &other_manager).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    for bad in [
        json!({"amount_cents": total + 1, "refunded_cents": 0, "reason": "trop"}),
        json!({"amount_cents": -500, "refunded_cents": 0, "reason": "négatif"}),
        json!({"amount_cents": 0, "refunded_cents": 0, "reason": "rien"}),
        json!({"amount_cents": total, "refunded_cents": 0, "reason": "   "}),
        json!({"amount_cents": total, "refunded_cents": 0}),
    ] {
        let (status, answer) = post(&world, Orders, &refund, bad.clone(), &manager).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {answer}");
    }
    let (status, given) = post(&world, Orders, &refund, body.clone(), &manager).await;
    assert_eq!(status, StatusCode::OK, "{given}");
    assert_eq!(given["refund"]["amount_cents"], total);
    assert_eq!(given["order"]["payment"]["refunded_cents"], total);
    // The same click again: refused, nothing more given.
    let (status, again) = post(&world, Orders, &refund, body, &manager).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(again["type"], "/problems/refunds-changed");
    assert_eq!(refunded_at_stripe(&pool, id).await, total);
    let mails: i64 = scalar(
        &pool,
        &format!(
            "SELECT COUNT(*) FROM notifications WHERE order_id = {id} AND kind LIKE 'refund-%'"
        ),
    )
    .await;
    assert_eq!(mails, 1);
    testing::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_pickup_not_collected_is_marked_by_the_manager_after_the_delay(pool: MySqlPool) {
    let world = world(&pool).await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let cashier = world.token("cashier.1@ocpizza.test").await;
    let (id, token) = order(&world, "pickup", "card", None).await;
    cook(&world, id, &["start", "ready"]).await;
    let uri = format!("/orders/{id}/no-show");

    // Ready a minute ago: too early, and the answer says from when.
    let (status, early) = post(&world, Orders, &uri, json!(null), &manager).await;
    assert_eq!(status, StatusCode::CONFLICT, "{early}");
    assert_eq!(early["type"], "/problems/too-early-for-no-show");
    assert!(early["allowed_at"].is_string(), "{early}");
    // Half an hour later. The cashier and the customer may not.
    sqlx::query("UPDATE order_status_history SET at = at - INTERVAL 31 MINUTE WHERE order_id = ? AND status = 'ready'")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, answer) = post(&world, Orders, &uri, json!(null), &cashier).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    let (status, answer) = world
        .call(Orders, "POST", &format!("{uri}?token={token}"), None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    let (status, marked) = post(&world, Orders, &uri, json!(null), &manager).await;
    assert_eq!(status, StatusCode::OK, "{marked}");
    assert_eq!(marked["order"]["status"], "no_show");
    // Final: not again, not picked up, not voided.
    let (status, _) = post(&world, Orders, &uri, json!(null), &manager).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = post(
        &world,
        Orders,
        &format!("/orders/{id}/status"),
        json!({"status": "picked_up"}),
        &cashier,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = post(
        &world,
        Orders,
        &format!("/orders/{id}/void"),
        json!({"reason": "x"}),
        &manager,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // A delivery order is never a no-show.
    let (delivery_order, _, _) = out_for_delivery(&world, "cash").await;
    let (status, _) = post(
        &world,
        Orders,
        &format!("/orders/{delivery_order}/no-show"),
        json!(null),
        &manager,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    testing::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_void_refunds_everything_and_records_the_waste_at_any_stage(pool: MySqlPool) {
    let world = world(&pool).await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let cashier = world.token("cashier.1@ocpizza.test").await;
    let pizzaiolo = world.token("pizzaiolo.1@ocpizza.test").await;
    let courier = world.token("courier.1@ocpizza.test").await;

    // A paid web order in the oven: the cashier did not take it, the
    // pizzaiolo may not; a manager voids it with a reason.
    let (id, token) = order(&world, "delivery", "card", None).await;
    cook(&world, id, &["start"]).await;
    let on_hand = || async {
        scalar(
            &pool,
            "SELECT CAST(SUM(on_hand) AS SIGNED) FROM stock WHERE pizzeria_id = 1",
        )
        .await
    };
    let before: i64 = on_hand().await;
    let uri = format!("/orders/{id}/void");
    for (who, expected) in [
        (&cashier, StatusCode::FORBIDDEN),
        (&pizzaiolo, StatusCode::FORBIDDEN),
    ] {
        let (status, answer) = post(&world, Orders, &uri, json!({"reason": "erreur"}), who).await;
        assert_eq!(status, expected, "{answer}");
    }
    let (status, answer) = post(&world, Orders, &uri, json!({"reason": ""}), &manager).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["type"], "/problems/reason-required");
    // Nor around the routes: the staff's status route takes none of the
    // exceptions (no reason, no delay, no call-off that way).
    for to in ["voided", "no_show", "failed_delivery"] {
        for who in [&cashier, &manager] {
            let (status, answer) = post(
                &world,
                Orders,
                &format!("/orders/{id}/status"),
                json!({ "status": to }),
                who,
            )
            .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{to}: {answer}");
        }
    }
    let (status, voided) = post(
        &world,
        Orders,
        &uri,
        json!({"reason": "client fâché"}),
        &manager,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{voided}");
    let total = voided["order"]["total_cents"].as_i64().unwrap_or_default();
    assert_eq!(voided["order"]["status"], "voided");
    // The customer reads that it was called off, not the staff's reason.
    let (status, seen) = world
        .call(
            Orders,
            "GET",
            &format!("/orders/{id}?token={token}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["order"]["status"], "voided");
    assert!(
        seen["order"]["history"]
            .as_array()
            .is_some_and(|h| h.iter().all(|row| row.get("note").is_none())),
        "{seen}"
    );
    assert!(voided["order"]["history"]
        .to_string()
        .contains("client fâché"));
    assert_eq!(voided["order"]["payment"]["refunded_cents"], total);
    assert_eq!(refunded_at_stripe(&pool, id).await, total);
    // The pizzas went in the bin: the stock does not move back, the ledger
    // says waste.
    assert_eq!(on_hand().await, before);
    let wasted: i64 = scalar(
        &pool,
        &format!("SELECT CAST(-SUM(on_hand_delta) AS SIGNED) FROM stock_movements WHERE order_id = {id} AND kind = 'waste'"),
    )
    .await;
    assert!(wasted > 0, "waste recorded");
    let ticket = text(
        &pool,
        &format!("SELECT status FROM kitchen_tickets WHERE order_id = {id}"),
    )
    .await;
    assert_eq!(ticket, "withdrawn");
    // Voiding again changes nothing and gives nothing more.
    let (status, again) = post(&world, Orders, &uri, json!({"reason": "encore"}), &manager).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(refunded_at_stripe(&pool, id).await, total);

    // On its way: the courier's delivery is called off.
    let (id, delivery, _) = out_for_delivery(&world, "cash").await;
    let (status, _) = post(
        &world,
        Orders,
        &format!("/orders/{id}/void"),
        json!({"reason": "doublon"}),
        &manager,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, list) = world
        .call(Delivery, "GET", "/deliveries", None, Some(&courier))
        .await;
    assert_eq!(status, StatusCode::OK);
    let called_off = list["deliveries"]
        .as_array()
        .and_then(|all| all.iter().find(|d| d["id"] == json!(delivery)))
        .cloned()
        .unwrap_or_default();
    assert_eq!(called_off["status"], "cancelled", "{list}");
    let (status, _) = post(
        &world,
        Delivery,
        &format!("/deliveries/{delivery}/delivered"),
        json!({"cash_collected_cents": 2000}),
        &courier,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // The cashier's own phone order: theirs to void; one the manager took is not.
    // Paid at the counter: the cashier may not void it (the money goes back
    // by a manager's hand, recorded as given back).
    let (paid_mine, _) = order(&world, "pickup", "cash", Some(&cashier)).await;
    ok(
        &world,
        Orders,
        &format!("/orders/{paid_mine}/payments"),
        json!({"method": "cash"}),
        &cashier,
    )
    .await;
    cook(&world, paid_mine, &["start"]).await;
    let (status, answer) = post(
        &world,
        Orders,
        &format!("/orders/{paid_mine}/void"),
        json!({"reason": "rappel"}),
        &cashier,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    let given = ok(
        &world,
        Orders,
        &format!("/orders/{paid_mine}/void"),
        json!({"reason": "rappel"}),
        &manager,
    )
    .await;
    assert_eq!(given["order"]["status"], "voided");
    assert_eq!(
        given["order"]["payment"]["refunded_cents"],
        given["order"]["payment"]["paid_cents"]
    );
    let by_hand: i64 = scalar(
        &pool,
        &format!("SELECT COUNT(*) FROM payments WHERE order_id = {paid_mine} AND kind = 'refund' AND provider = 'cash' AND status = 'succeeded'"),
    )
    .await;
    assert_eq!(by_hand, 1);

    let (mine, _) = order(&world, "pickup", "cash", Some(&cashier)).await;
    cook(&world, mine, &["start"]).await;
    let (status, answer) = post(
        &world,
        Orders,
        &format!("/orders/{mine}/void"),
        json!({"reason": "client a rappelé"}),
        &cashier,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["order"]["status"], "voided");
    let (theirs, _) = order(&world, "pickup", "cash", Some(&manager)).await;
    let (status, answer) = post(
        &world,
        Orders,
        &format!("/orders/{theirs}/void"),
        json!({"reason": "x"}),
        &cashier,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    // Before the kitchen starts, a void is the cancellation.
    let (status, answer) = post(
        &world,
        Orders,
        &format!("/orders/{theirs}/void"),
        json!({"reason": "erreur de saisie"}),
        &manager,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["order"]["status"], "cancelled");
    // Once handed over, too late: that is a refund.
    let (done, _) = order(&world, "pickup", "card", None).await;
    cook(&world, done, &["start", "ready"]).await;
    let (status, _) = post(
        &world,
        Orders,
        &format!("/orders/{done}/status"),
        json!({"status": "picked_up"}),
        &cashier,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = post(
        &world,
        Orders,
        &format!("/orders/{done}/void"),
        json!({"reason": "x"}),
        &manager,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    testing::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn two_voids_or_two_refunds_at_once_give_back_once(pool: MySqlPool) {
    let world = world(&pool).await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let (id, _) = order(&world, "pickup", "card", None).await;
    cook(&world, id, &["start"]).await;
    let uri = format!("/orders/{id}/void");
    let body = json!({"reason": "doublon"});
    let (a, b) = tokio::join!(
        post(&world, Orders, &uri, body.clone(), &manager),
        post(&world, Orders, &uri, body.clone(), &manager)
    );
    assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK), "{a:?} {b:?}");
    let total = a.1["order"]["total_cents"].as_i64().unwrap_or_default();
    assert_eq!(refunded_at_stripe(&pool, id).await, total);

    let (id, _) = order(&world, "pickup", "card", None).await;
    cook(&world, id, &["start", "ready"]).await;
    let cashier = world.token("cashier.1@ocpizza.test").await;
    let (status, _) = post(
        &world,
        Orders,
        &format!("/orders/{id}/status"),
        json!({"status": "picked_up"}),
        &cashier,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let uri = format!("/orders/{id}/refund");
    let body = json!({"amount_cents": 500, "refunded_cents": 0, "reason": "pizza tiède"});
    let (a, b) = tokio::join!(
        post(&world, Orders, &uri, body.clone(), &manager),
        post(&world, Orders, &uri, body.clone(), &manager)
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{a:?} {b:?}"
    );
    assert_eq!(refunded_at_stripe(&pool, id).await, 500);
    // A second gesture, knowingly: what is left can still be given.
    let (status, answer) = post(
        &world,
        Orders,
        &uri,
        json!({"amount_cents": 200, "refunded_cents": 500, "reason": "boisson offerte"}),
        &manager,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(refunded_at_stripe(&pool, id).await, 700);
    testing::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_pizza_made_again_takes_its_ingredients_again_as_waste(pool: MySqlPool) {
    let world = world(&pool).await;
    let pizzaiolo = world.token("pizzaiolo.1@ocpizza.test").await;
    let courier = world.token("courier.1@ocpizza.test").await;
    let other_pizzaiolo = world.token("pizzaiolo.2@ocpizza.test").await;
    let (id, _) = order(
        &world,
        "pickup",
        "cash",
        Some(&world.token("cashier.1@ocpizza.test").await),
    )
    .await;
    cook(&world, id, &["start"]).await;
    let on_hand = || async {
        scalar(
            &pool,
            "SELECT CAST(SUM(on_hand) AS SIGNED) FROM stock WHERE pizzeria_id = 1",
        )
        .await
    };
    let before: i64 = on_hand().await;
    let uri = format!("/tickets/{id}/remake");
    for (who, body, expected) in [
        (
            &courier,
            json!({"line_no": 1, "quantity": 1, "reason": "brûlée"}),
            StatusCode::FORBIDDEN,
        ),
        (
            &other_pizzaiolo,
            json!({"line_no": 1, "quantity": 1, "reason": "brûlée"}),
            StatusCode::FORBIDDEN,
        ),
        (
            &pizzaiolo,
            json!({"line_no": 2, "quantity": 1, "reason": "brûlée"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &pizzaiolo,
            json!({"line_no": 1, "quantity": 3, "reason": "brûlée"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &pizzaiolo,
            json!({"line_no": 1, "quantity": -1, "reason": "brûlée"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &pizzaiolo,
            json!({"line_no": 1, "quantity": 1, "reason": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (status, answer) = post(&world, Kitchen, &uri, body.clone(), who).await;
        assert_eq!(status, expected, "{body}: {answer}");
    }
    assert_eq!(on_hand().await, before, "nothing taken by a refused remake");
    let (status, answer) = post(
        &world,
        Kitchen,
        &uri,
        json!({"line_no": 1, "quantity": 1, "reason": "tombée"}),
        &pizzaiolo,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let wasted: i64 = scalar(
        &pool,
        &format!("SELECT CAST(-SUM(on_hand_delta) AS SIGNED) FROM stock_movements WHERE order_id = {id} AND kind = 'waste'"),
    )
    .await;
    let per_pizza: i64 = scalar(
        &pool,
        "SELECT CAST(SUM(quantity) AS SIGNED) FROM recipe_lines WHERE product_id = 1",
    )
    .await;
    assert_eq!(wasted, per_pizza, "one pizza's ingredients as waste");
    assert_eq!(on_hand().await, before - per_pizza);
    let note = text(
        &pool,
        &format!(
            "SELECT note FROM order_status_history WHERE order_id = {id} ORDER BY id DESC LIMIT 1"
        ),
    )
    .await;
    assert_eq!(note, "refaite : 1 × Margherita (tombée)");

    // Out of stock: refused, nothing written.
    sqlx::query("UPDATE stock SET on_hand = reserved WHERE pizzeria_id = 1")
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sqlx::query("DELETE FROM stock_movements WHERE pizzeria_id = 1")
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, answer) = post(
        &world,
        Kitchen,
        &uri,
        json!({"line_no": 1, "quantity": 1, "reason": "brûlée"}),
        &pizzaiolo,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["type"], "/problems/remake-out-of-stock");
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_revenue_counts_what_was_kept(pool: MySqlPool) {
    let world = world(&pool).await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let cashier = world.token("cashier.1@ocpizza.test").await;
    let courier = world.token("courier.1@ocpizza.test").await;

    // Paid for two, changed to one before the kitchen (the difference
    // refunded): it counts its new total, the reduction is not taken twice;
    // picked up, then 5 € given back.
    let (kept, token) = order(&world, "pickup", "card", None).await;
    let (status, changed) = world
        .call(
            Orders,
            "PATCH",
            &format!("/orders/{kept}?token={token}"),
            Some(json!({"lines": [{"product_id": 1, "quantity": 1}]})),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert!(
        changed["order"]["payment"]["refunded_cents"].as_i64() > Some(0),
        "{changed}"
    );
    run_consumers(&world).await;
    cook(&world, kept, &["start", "ready"]).await;
    ok(
        &world,
        Orders,
        &format!("/orders/{kept}/status"),
        json!({"status": "picked_up"}),
        &cashier,
    )
    .await;
    let (status, _) = post(
        &world,
        Orders,
        &format!("/orders/{kept}/refund"),
        // What the manager's screen shows refunded already: the reduction.
        json!({"amount_cents": 500, "refunded_cents": changed["order"]["payment"]["refunded_cents"], "reason": "attente"}),
        &manager,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Voided: nothing.
    let (voided, _) = order(&world, "pickup", "card", None).await;
    cook(&world, voided, &["start"]).await;
    ok(
        &world,
        Orders,
        &format!("/orders/{voided}/void"),
        json!({"reason": "erreur"}),
        &manager,
    )
    .await;
    // A cash delivery that failed: nothing collected, nothing counted.
    let (failed_cash, delivery, _) = out_for_delivery(&world, "cash").await;
    ok(
        &world,
        Delivery,
        &format!("/deliveries/{delivery}/failed"),
        json!({"reason": "absent"}),
        &courier,
    )
    .await;
    // A card delivery that failed: what it was paid, less 3 € given back.
    let (failed_card, delivery, _) = out_for_delivery(&world, "card").await;
    ok(
        &world,
        Delivery,
        &format!("/deliveries/{delivery}/failed"),
        json!({"reason": "address_not_found"}),
        &courier,
    )
    .await;
    let (status, _) = post(
        &world,
        Orders,
        &format!("/orders/{failed_card}/refund"),
        json!({"amount_cents": 300, "refunded_cents": 0, "reason": "geste"}),
        &manager,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let total = |id: i64| {
        let pool = pool.clone();
        async move {
            scalar(
                &pool,
                &format!("SELECT total_cents FROM orders WHERE id = {id}"),
            )
            .await
        }
    };
    let expected: i64 = total(kept).await - 500 + total(failed_card).await - 300;
    let _ = (voided, failed_cash);
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let uri = format!("/reports/revenue?pizzeria_id=1&from={today}&to={today}");
    let (status, report) = world
        .call(Backoffice, "GET", &uri, None, Some(&manager))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let totals = &report["totals"];
    assert_eq!(totals["revenue_incl_vat_cents"], expected, "{totals}");
    assert_eq!(totals["refunds_cents"], 800, "{totals}");
    // Orders sold: the one picked up; failed and voided ones are not.
    assert_eq!(totals["orders"], 1, "{totals}");
    assert_eq!(totals["by_payment_method"]["cash"]["revenue_cents"], 0);
    // The CSV says the refunds.
    let req = testing::request("GET", &format!("{uri}&format=csv"), None, Some(&manager));
    let response = world.send(Backoffice, req, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let csv = String::from_utf8_lossy(response.body().as_ref()).into_owned();
    assert!(csv.contains("Remboursements TTC (€)"), "{csv}");
    assert!(csv.contains(";8,00;"), "{csv}");
    testing::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_manager_finds_an_order_by_number_name_phone_and_day(pool: MySqlPool) {
    let world = world(&pool).await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let (id, _) = order(&world, "pickup", "card", None).await;
    let number = text(&pool, &format!("SELECT number FROM orders WHERE id = {id}")).await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let found = |query: String| {
        let world = &world;
        let manager = manager.clone();
        async move {
            let (status, list) = world
                .call(
                    Orders,
                    "GET",
                    &format!("/orders?{query}"),
                    None,
                    Some(&manager),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{query}: {list}");
            list["orders"]
                .as_array()
                .map(|all| {
                    all.iter()
                        .filter_map(|o| o["id"].as_i64())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        }
    };
    assert!(found(format!("q={}", number.to_lowercase()))
        .await
        .contains(&id));
    assert!(found("q=nina".into()).await.contains(&id));
    assert!(found("q=06%2011%2022%2033%2044".into()).await.contains(&id));
    assert!(found(format!("day={today}&status=placed"))
        .await
        .contains(&id));
    assert!(!found(format!("day={today}&status=delivered"))
        .await
        .contains(&id));
    assert!(
        found("q=2000-01-01%25".into()).await.is_empty(),
        "a % typed is a %"
    );
    assert!(found("day=2001-01-01".into()).await.is_empty());
    for bad in [
        "day=hier",
        "day=2026-02-30",
        &format!("q={}", "x".repeat(101)),
    ] {
        let (status, answer) = world
            .call(
                Orders,
                "GET",
                &format!("/orders?{bad}"),
                None,
                Some(&manager),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {answer}");
    }
    let courier = world.token("courier.1@ocpizza.test").await;
    let (status, _) = world
        .call(Orders, "GET", "/orders?q=nina", None, Some(&courier))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A cashier finds a caller by their whole number, not by browsing names.
    let cashier = world.token("cashier.1@ocpizza.test").await;
    for query in ["q=nina", "day=2026-12-06", "q=a"] {
        let (status, _) = world
            .call(
                Orders,
                "GET",
                &format!("/orders?{query}"),
                None,
                Some(&cashier),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{query}");
    }
    let (status, _) = world
        .call(
            Orders,
            "GET",
            "/orders?phone=06%2011%2022%2033%2044",
            None,
            Some(&cashier),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let other = world.token("manager.2@ocpizza.test").await;
    let (status, list) = world
        .call(Orders, "GET", "/orders?q=nina", None, Some(&other))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(list["orders"]
        .as_array()
        .is_some_and(|l| l.iter().all(|o| o["id"] != json!(id))));
}
