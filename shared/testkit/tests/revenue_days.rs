//! The revenue summaries (`revenue_days`), kept by every change of an order:
//! after a day of real operations (checkouts in cash and by card, a payment
//! by webhook, the kitchen and the couriers, a failed delivery, a pickup
//! never collected, cancellations, a void, refunds partial, goodwill and
//! failed at Stripe, a change of lines) they are what the orders give and
//! the report says the sums computed by hand; the rebuild fills and repairs
//! them and runs twice to the same result; the reconciliation check names a
//! summary row that was tampered with; orders of one pizzeria and day taken
//! and cancelled at once are all counted.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Paris;
use http::StatusCode;
use lambda_http::Body;
use ocpizza::platform::clock::Clock;
use ocpizza::reporting::audit::{audit, Scope};
use ocpizza::reporting::revenue::rebuild::rebuild;
use ocpizza::reporting::revenue::scan::differences;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use testkit::{self as testing, scalar, Function::*, World};

/// When checkout takes the orders: 00:30 in Paris on 29 March 2026, the
/// night Paris goes to summer time, still the 28th in UTC.
fn taken_at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-28T23:30:00Z")
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The Paris day every order of these tests counts on.
fn day() -> NaiveDate {
    taken_at().with_timezone(&Paris).date_naive()
}

/// The demo data, open all day with plenty of stock; checkout's clock stops
/// at [`taken_at`].
async fn world(pool: &MySqlPool) -> World {
    let mut world = World::demo(pool, taken_at()).await;
    world.checkout.clock = Clock::Fixed(taken_at());
    testing::open_all_day_with_plenty_of_stock(pool).await;
    world
}

/// The summaries agree with the orders, row by row.
async fn assert_summaries_agree(pool: &MySqlPool, step: &str) {
    let found = differences(pool, 50)
        .await
        .unwrap_or_else(|e| panic!("{step}: {e}"));
    assert!(found.is_empty(), "{step}: {found:#?}");
}

/// A checkout at pizzeria 1 of `quantity` Margheritas (9 € each), for pickup
/// or delivered (2.50 € more), by card on the web or in cash (on the web, or
/// by phone through `staff`). Returns the answer.
async fn checkout(
    world: &World,
    fulfilment: &str,
    method: &str,
    quantity: i64,
    staff: Option<&str>,
) -> Value {
    let mut body = json!({
        "pizzeria_id": 1, "fulfilment": fulfilment, "payment_method": method,
        "lines": [{"product_id": 1, "quantity": quantity}],
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
    answer
}

/// An order of two Margheritas, paid by card as the tracker does when it is
/// a card order; its id and tracking token, and its ticket in the kitchen.
async fn order(
    world: &World,
    fulfilment: &str,
    method: &str,
    staff: Option<&str>,
) -> (i64, String) {
    let answer = checkout(world, fulfilment, method, 2, staff).await;
    let id = answer["order"]["id"].as_i64().unwrap_or_default();
    let token = answer["order"]["tracking_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if method == "card" {
        let paid = world.pay_with_test_card(id, &token).await;
        assert_eq!(paid["order"]["status"], "placed", "{paid}");
    }
    world.run_consumers().await;
    (id, token)
}

/// A call that must answer 200.
async fn ok(world: &World, f: testkit::Function, uri: &str, body: Value, who: &str) -> Value {
    let body = (!body.is_null()).then_some(body);
    let (status, answer) = world.call(f, "POST", uri, body, Some(who)).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {answer}");
    answer
}

/// A delivery order taken by the courier.
async fn out_for_delivery(world: &World, id: i64, courier: &str) -> i64 {
    world.cook(id, &["start", "ready"]).await;
    let delivery = scalar(
        &world.pool,
        &format!("SELECT id FROM deliveries WHERE order_id = {id}"),
    )
    .await;
    ok(
        world,
        Delivery,
        &format!("/deliveries/{delivery}/pickup"),
        json!(null),
        courier,
    )
    .await;
    delivery
}

/// A Stripe event signed with the webhook's secret, sent to the webhook.
async fn webhook(world: &World, event: Value) {
    let payload = event.to_string();
    let secret = testing::config().stripe_webhook_secret;
    let signature = ocpizza::payment::sign(
        payload.as_bytes(),
        secret.expose_secret(),
        Utc::now().timestamp(),
    );
    let req = http::Request::builder()
        .method("POST")
        .uri("/")
        .header("content-type", "application/json")
        .header("stripe-signature", signature)
        .body(Body::Text(payload))
        .unwrap_or_else(|e| panic!("{e}"));
    let response = world.send(StripeWebhook, req, None).await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// The report of pizzeria 1 for [`day`], as its manager reads it.
async fn report(world: &World) -> Value {
    let manager = world.token("manager.1@ocpizza.test").await;
    let day = day();
    let uri = format!("/reports/revenue?pizzeria_id=1&from={day}&to={day}");
    let (status, report) = world
        .call(Backoffice, "GET", &uri, None, Some(&manager))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

fn slice(orders: i64, revenue_cents: i64) -> Value {
    json!({ "orders": orders, "revenue_cents": revenue_cents })
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_day_of_operations_keeps_the_summaries_equal_to_the_orders(pool: MySqlPool) {
    let world = world(&pool).await;
    let cashier = world.token("cashier.1@ocpizza.test").await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let courier = world.token("courier.1@ocpizza.test").await;
    let config = testing::config();

    // 1. By phone, cash, collected at the counter: 18.00 €.
    let (phone, _) = order(&world, "pickup", "cash", Some(&cashier)).await;
    assert_summaries_agree(&pool, "phone order placed").await;
    world.cook(phone, &["start", "ready"]).await;
    ok(
        &world,
        Orders,
        &format!("/orders/{phone}/status"),
        json!({"status": "picked_up", "payment": {"method": "cash"}}),
        &cashier,
    )
    .await;
    assert_summaries_agree(&pool, "phone order picked up and paid").await;

    // 2. On the web by card (paid from the tracker), picked up; a goodwill
    // refund of 5 € that Stripe then reports failed: 18.00 € kept.
    let (card, _) = order(&world, "pickup", "card", None).await;
    world.cook(card, &["start", "ready"]).await;
    ok(
        &world,
        Orders,
        &format!("/orders/{card}/status"),
        json!({"status": "picked_up"}),
        &cashier,
    )
    .await;
    ok(
        &world,
        Orders,
        &format!("/orders/{card}/refund"),
        json!({"amount_cents": 500, "refunded_cents": 0, "reason": "attente"}),
        &manager,
    )
    .await;
    assert_summaries_agree(&pool, "goodwill refund").await;
    assert_eq!(report(&world).await["totals"]["refunds_cents"], 500);
    let refund: (String, String) = sqlx::query_as(
        "SELECT provider_ref, refund_of FROM payments WHERE order_id = ? AND kind = 'refund'",
    )
    .bind(card)
    .fetch_one(&pool)
    .await
    .unwrap_or_else(|e| panic!("the refund went to Stripe: {e}"));
    webhook(
        &world,
        json!({
            "id": format!("evt_{}", uuid::Uuid::new_v4().simple()), "object": "event",
            "api_version": "2017-08-15", "created": Utc::now().timestamp(),
            "type": "charge.refund.updated",
            "data": {"object": {"id": refund.0, "object": "refund", "amount": 500,
                "payment_intent": refund.1, "status": "failed"}}
        }),
    )
    .await;
    assert_summaries_agree(&pool, "refund failed at Stripe").await;

    // 3. By card for delivery, paid at Stripe and told by its webhook;
    // delivered: 20.50 €.
    let answer = checkout(&world, "delivery", "card", 2, None).await;
    let webhooked = answer["order"]["id"].as_i64().unwrap_or_default();
    let intent = answer["payment"]["payment_intent_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let paid = testkit::stripe::pay_with_test_card(
        &config.stripe_api_base,
        "sk_test_local",
        &intent,
        "4242 4242 4242 4242",
    )
    .await
    .unwrap_or_else(|e| panic!("localstripe: {e}"));
    assert_summaries_agree(&pool, "card order waiting for its payment").await;
    webhook(
        &world,
        json!({
            "id": format!("evt_{}", uuid::Uuid::new_v4().simple()), "object": "event",
            "api_version": "2017-08-15", "created": Utc::now().timestamp(),
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": intent, "object": "payment_intent",
                "amount": paid.amount.cents(), "amount_received": paid.amount_received.cents(),
                "currency": "eur", "status": "succeeded",
                "metadata": {"order_id": webhooked.to_string()}}}
        }),
    )
    .await;
    world.run_consumers().await;
    assert_summaries_agree(&pool, "paid by webhook").await;
    let delivery = out_for_delivery(&world, webhooked, &courier).await;
    ok(
        &world,
        Delivery,
        &format!("/deliveries/{delivery}/delivered"),
        json!({}),
        &courier,
    )
    .await;

    // 4. In cash on the web, delivered, the cash taken at the door: 20.50 €.
    let (cash, _) = order(&world, "delivery", "cash", None).await;
    let delivery = out_for_delivery(&world, cash, &courier).await;
    ok(
        &world,
        Delivery,
        &format!("/deliveries/{delivery}/delivered"),
        json!({"cash_collected_cents": 2050}),
        &courier,
    )
    .await;
    assert_summaries_agree(&pool, "cash taken at the door").await;

    // 5. By card, the delivery failed, 3 € given back: 17.50 €, no order sold.
    let (failed, _) = order(&world, "delivery", "card", None).await;
    let delivery = out_for_delivery(&world, failed, &courier).await;
    ok(
        &world,
        Delivery,
        &format!("/deliveries/{delivery}/failed"),
        json!({"reason": "absent"}),
        &courier,
    )
    .await;
    assert_summaries_agree(&pool, "failed delivery").await;
    ok(
        &world,
        Orders,
        &format!("/orders/{failed}/refund"),
        json!({"amount_cents": 300, "refunded_cents": 0, "reason": "geste"}),
        &manager,
    )
    .await;
    assert_summaries_agree(&pool, "refund of a failed delivery").await;

    // 6. By card, never collected: 18.00 €, no order sold.
    let (no_show, _) = order(&world, "pickup", "card", None).await;
    world.cook(no_show, &["start", "ready"]).await;
    sqlx::query("UPDATE order_status_history SET at = at - INTERVAL 31 MINUTE WHERE order_id = ? AND status = 'ready'")
        .bind(no_show)
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    ok(
        &world,
        Orders,
        &format!("/orders/{no_show}/no-show"),
        json!(null),
        &manager,
    )
    .await;
    assert_summaries_agree(&pool, "no-show").await;

    // 7. Cancelled: by phone in cash, and by card (refunded): nothing.
    let (cancelled_cash, _) = order(&world, "pickup", "cash", Some(&cashier)).await;
    ok(
        &world,
        Orders,
        &format!("/orders/{cancelled_cash}/status"),
        json!({"status": "cancelled"}),
        &cashier,
    )
    .await;
    let (cancelled_card, token) = order(&world, "pickup", "card", None).await;
    let (status, answer) = world
        .call(
            Orders,
            "POST",
            &format!("/orders/{cancelled_card}/cancel?token={token}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_summaries_agree(&pool, "cancelled").await;

    // 8. Voided once the kitchen started: nothing.
    let (voided, _) = order(&world, "pickup", "card", None).await;
    world.cook(voided, &["start"]).await;
    ok(
        &world,
        Orders,
        &format!("/orders/{voided}/void"),
        json!({"reason": "erreur"}),
        &manager,
    )
    .await;
    assert_summaries_agree(&pool, "voided").await;

    // 9. In cash on the web, made one pizza instead of two: 9.00 €.
    let (changed, token) = order(&world, "pickup", "cash", None).await;
    let (status, answer) = world
        .call(
            Orders,
            "PATCH",
            &format!("/orders/{changed}?token={token}"),
            Some(json!({"lines": [{"product_id": 1, "quantity": 1}]})),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_summaries_agree(&pool, "lines changed").await;

    // 10. By card, never paid: nothing.
    checkout(&world, "pickup", "card", 2, None).await;
    assert_summaries_agree(&pool, "unpaid").await;

    // Kept: 1800 + 1800 + 2050 + 2050 + (2050 - 300) + 1800 + 900.
    let r = report(&world).await;
    let t = &r["totals"];
    assert_eq!(t["revenue_incl_vat_cents"], 12150, "{t}");
    assert_eq!(t["refunds_cents"], 300, "{t}");
    // Sold: by phone, by card picked up and delivered, in cash delivered, changed.
    assert_eq!(t["orders"], 5, "{t}");
    assert_eq!(t["by_payment_method"]["cash"], slice(3, 1800 + 2050 + 900));
    assert_eq!(
        t["by_payment_method"]["card"],
        slice(2, 1800 + 2050 + 1750 + 1800)
    );
    assert_eq!(t["by_channel"]["phone"], slice(1, 1800));
    assert_eq!(t["by_channel"]["web"], slice(4, 12150 - 1800));
    assert_eq!(t["by_channel"]["counter"], slice(0, 0));
    let vat: i64 = scalar(
        &pool,
        &format!(
            "SELECT CAST(SUM(vat_cents) AS SIGNED) FROM orders WHERE id IN ({phone}, {card}, {webhooked}, {cash}, {changed})"
        ),
    )
    .await;
    // The failed delivery and the no-show paid in full: all their VAT; the
    // failed delivery's refund takes its share of VAT off.
    let undelivered_vat: i64 = scalar(
        &pool,
        &format!(
            "SELECT CAST(SUM(vat_cents) AS SIGNED) FROM orders WHERE id IN ({failed}, {no_show})"
        ),
    )
    .await;
    let failed_vat: i64 = scalar(
        &pool,
        &format!("SELECT vat_cents FROM orders WHERE id = {failed}"),
    )
    .await;
    let refund_vat = (failed_vat * 300 + 1025) / 2050;
    assert_eq!(t["vat_cents"], vat + undelivered_vat - refund_vat, "{t}");

    // The same report counted from the orders, as before the summaries.
    sqlx::query("DELETE FROM revenue_rebuilds")
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report(&world).await, r);
    // And the rebuild, counting every order again, finds nothing to correct.
    let rebuilt = rebuild(&pool).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (
            rebuilt.orders,
            rebuilt.orders_corrected,
            rebuilt.days_corrected
        ),
        (11, 0, 0)
    );
    assert_eq!(report(&world).await, r);
    world.run_consumers().await;
    testing::assert_reconciled(&pool, Scope::Settled).await;
}

/// What the history generator, or the deploy, leaves: orders the summaries
/// do not hold yet. The rebuild counts them, and a second run finds nothing.
#[sqlx::test(migrations = "../../migrations")]
async fn the_rebuild_fills_the_summaries_and_runs_twice_to_the_same(pool: MySqlPool) {
    let world = world(&pool).await;
    let cashier = world.token("cashier.1@ocpizza.test").await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let (sold, _) = order(&world, "pickup", "card", None).await;
    world.cook(sold, &["start", "ready"]).await;
    ok(
        &world,
        Orders,
        &format!("/orders/{sold}/status"),
        json!({"status": "picked_up"}),
        &cashier,
    )
    .await;
    ok(
        &world,
        Orders,
        &format!("/orders/{sold}/refund"),
        json!({"amount_cents": 250, "refunded_cents": 0, "reason": "attente"}),
        &manager,
    )
    .await;
    order(&world, "delivery", "cash", Some(&cashier)).await;
    order(&world, "pickup", "cash", None).await;
    let expected = report(&world).await;
    assert_eq!(
        expected["totals"]["revenue_incl_vat_cents"],
        1800 - 250 + 2050 + 1800
    );

    // As before the summaries: no share counted, no summary row.
    sqlx::raw_sql(
        "UPDATE orders SET revenue_orders = 0, revenue_total_cents = 0, revenue_vat_cents = 0, \
            revenue_refunds_cents = 0, revenue_refunds_vat_cents = 0; \
         DELETE FROM revenue_days; DELETE FROM revenue_rebuilds;",
    )
    .execute(&pool)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    // Until a rebuild, the report counts from the orders.
    assert_eq!(report(&world).await, expected);
    let findings = audit(&pool, Scope::Live)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        findings
            .iter()
            .any(|f| f.check == "revenue-days" && f.detail.contains("revenue-rebuild")),
        "{findings:?}"
    );

    let first = rebuild(&pool).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.orders, 3);
    assert_eq!(first.orders_corrected, 3);
    // Card web, cash phone, cash web.
    assert_eq!(first.days_corrected, 3);
    assert_summaries_agree(&pool, "rebuilt").await;
    assert_eq!(report(&world).await, expected);
    let second = rebuild(&pool).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (
            second.orders,
            second.orders_corrected,
            second.days_corrected
        ),
        (3, 0, 0)
    );
    let runs: i64 = scalar(
        &pool,
        "SELECT COUNT(*) FROM revenue_rebuilds WHERE finished_at IS NOT NULL",
    )
    .await;
    assert_eq!(runs, 2);
    assert_eq!(report(&world).await, expected);
    testing::assert_reconciled(&pool, Scope::Live).await;
}

/// A summary row changed by hand is named by the reconciliation check
/// (pizzeria, day, method, channel, both figures), and the rebuild repairs it.
#[sqlx::test(migrations = "../../migrations")]
async fn the_reconciliation_check_names_a_tampered_summary_row(pool: MySqlPool) {
    let world = world(&pool).await;
    let cashier = world.token("cashier.1@ocpizza.test").await;
    order(&world, "pickup", "cash", Some(&cashier)).await;
    order(&world, "pickup", "cash", None).await;
    testing::assert_reconciled(&pool, Scope::Live).await;

    sqlx::query(
        "UPDATE revenue_days SET total_cents = total_cents + 1 \
         WHERE pizzeria_id = 1 AND payment_method = 'cash' AND channel = 'phone'",
    )
    .execute(&pool)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let findings = audit(&pool, Scope::Live)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let named: Vec<_> = findings
        .iter()
        .filter(|f| f.check == "revenue-days")
        .collect();
    assert_eq!(named.len(), 1, "{findings:?}");
    let detail = &named[0].detail;
    let day = day().to_string();
    assert!(detail.contains("pizzeria 1"), "{detail}");
    assert!(detail.contains(&day), "{detail}");
    assert!(detail.contains("cash phone"), "{detail}");
    assert!(detail.contains("1801 cents"), "{detail}");
    assert!(detail.contains("1800 cents"), "{detail}");

    // A row for a day without orders is named too.
    sqlx::query(
        "INSERT INTO revenue_days (pizzeria_id, day, payment_method, channel, orders, total_cents) \
         VALUES (2, '2026-01-15', 'card', 'web', 1, 999)",
    )
    .execute(&pool)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let findings = audit(&pool, Scope::Live)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        findings
            .iter()
            .any(|f| f.check == "revenue-days" && f.detail.contains("pizzeria 2, 2026-01-15")),
        "{findings:?}"
    );

    let repaired = rebuild(&pool).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((repaired.orders_corrected, repaired.days_corrected), (0, 2));
    testing::assert_reconciled(&pool, Scope::Live).await;
    assert_eq!(
        report(&world).await["totals"]["revenue_incl_vat_cents"],
        3600
    );
}

/// Many orders of one pizzeria and one day at once, some cancelled while
/// others are taken: every one is counted once (no update lost), and no
/// checkout or cancellation fails (the summary row is always locked after
/// the stock rows, so none waits for another in a circle).
#[sqlx::test(migrations = "../../migrations")]
async fn orders_taken_and_cancelled_at_once_are_all_counted(pool: MySqlPool) {
    let world = world(&pool).await;
    let cashier = world.token("cashier.1@ocpizza.test").await;
    const CANCELLED: usize = 30;
    const TAKEN: i64 = 40;
    let mut early = Vec::new();
    for _ in 0..CANCELLED {
        let answer = checkout(&world, "pickup", "cash", 1, Some(&cashier)).await;
        early.push(answer["order"]["id"].as_i64().unwrap_or_default());
    }
    let cancels = early.iter().map(|id| {
        let (world, cashier) = (&world, &cashier);
        async move {
            world
                .call(
                    Orders,
                    "POST",
                    &format!("/orders/{id}/status"),
                    Some(json!({"status": "cancelled"})),
                    Some(cashier),
                )
                .await
        }
    });
    let checkouts = (0..TAKEN).map(|n| {
        let (world, cashier) = (&world, &cashier);
        async move {
            let mut body = json!({
                "pizzeria_id": 1, "fulfilment": "pickup", "payment_method": "cash",
                "channel": "phone", "lines": [{"product_id": 1, "quantity": 1 + n % 3}],
                "contact": {"name": "Nina Petit", "phone": "06 11 22 33 44"}
            });
            if n % 2 == 1 {
                body["channel"] = json!("counter");
            }
            world
                .call(Checkout, "POST", "/orders", Some(body), Some(cashier))
                .await
        }
    });
    let (cancelled, taken) = tokio::join!(
        futures_util::future::join_all(cancels),
        futures_util::future::join_all(checkouts)
    );
    for (status, answer) in &cancelled {
        assert_eq!(*status, StatusCode::OK, "{answer}");
    }
    for (status, answer) in &taken {
        assert_eq!(*status, StatusCode::CREATED, "{answer}");
    }
    let expected: i64 = taken
        .iter()
        .map(|(_, answer)| answer["order"]["total_cents"].as_i64().unwrap_or_default())
        .sum();
    assert_summaries_agree(&pool, "at once").await;
    let (orders, total): (i64, i64) = sqlx::query_as(
        "SELECT CAST(SUM(orders) AS SIGNED), CAST(SUM(total_cents) AS SIGNED) FROM revenue_days \
         WHERE pizzeria_id = 1 AND day = ?",
    )
    .bind(day())
    .fetch_one(&pool)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((orders, total), (TAKEN, expected));
    let t = &report(&world).await["totals"];
    assert_eq!(t["orders"], TAKEN);
    assert_eq!(t["revenue_incl_vat_cents"], expected);
    testing::assert_reconciled(&pool, Scope::Live).await;
}
