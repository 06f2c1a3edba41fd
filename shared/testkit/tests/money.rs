//! The money rule, attacked from outside as a hostile customer or a curious
//! cashier would, against real MariaDB, the SQS server and localstripe:
//! nothing cooked unpaid, nothing refunded twice, only the right payment
//! places an order. Then a property test: random interleavings of pay,
//! raise, lower and cancel, webhooks duplicated and reordered, Stripe failing
//! on some calls; once everything settles the reconciliation check is clean
//! and every order is paid exactly what it should be.

mod common;

use chrono::Utc;
use common::*;
use http::StatusCode;
use lambda_http::Body;
use ocpizza::payment;
use ocpizza::reporting::audit::{audit, Scope};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use sqlx::MySqlPool;
use testkit::{self as testing, scalar};

async fn order_status(pool: &MySqlPool, id: i64) -> String {
    sqlx::query_as::<_, (String,)>("SELECT status FROM orders WHERE id = ?")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
        .0
}

/// (charged, refunded) in euros, as the money rule counts them.
async fn paid(pool: &MySqlPool, id: i64) -> ocpizza::order::money_rule::Paid {
    ocpizza::order::money_rule::paid(pool, ocpizza::platform::ids::OrderId(id))
        .await
        .unwrap()
}

async fn total(pool: &MySqlPool, id: i64) -> i64 {
    scalar(
        pool,
        &format!("SELECT total_cents FROM orders WHERE id = {id}"),
    )
    .await
}

/// What localstripe itself says was refunded of a PaymentIntent.
async fn refunded_at_stripe(intent: &str) -> i64 {
    let config = testing::config();
    let answer: Value = reqwest::Client::new()
        .get(format!(
            "{}/v1/refunds?payment_intent={intent}&limit=100",
            config.stripe_api_base
        ))
        .bearer_auth(STRIPE_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["data"]
        .as_array()
        .map(|refunds| {
            refunds
                .iter()
                .filter(|r| r["payment_intent"].as_str() == Some(intent) && r["status"] != "failed")
                .map(|r| r["amount"].as_i64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

fn signed_event(kind: &str, object: Value) -> http::Request<Body> {
    let payload = json!({
        "id": format!("evt_{}", uuid::Uuid::new_v4().simple()),
        "object": "event",
        "api_version": "2024-06-20",
        "created": Utc::now().timestamp(),
        "type": kind,
        "data": { "object": object },
    })
    .to_string();
    let signature = payment::sign(payload.as_bytes(), WEBHOOK_SECRET, Utc::now().timestamp());
    http::Request::builder()
        .method("POST")
        .uri("/")
        .header("stripe-signature", signature)
        .body(Body::Text(payload))
        .unwrap()
}

/// A PaymentIntent as a current Stripe event carries it.
fn intent_object(id: &str, order: i64, amount: i64, received: i64, currency: &str) -> Value {
    json!({
        "id": id, "object": "payment_intent", "amount": amount, "amount_received": received,
        "amount_details": {"tip": {}}, "currency": currency, "status": "succeeded",
        "latest_charge": "ch_forged", "metadata": {"order_id": order.to_string()},
    })
}

// ------------------------------------------------------------------ attacks

/// Attack 1: pay for 2 pizzas, raise to 20, and hope the kitchen cooks them.
#[sqlx::test(migrations = "../../migrations")]
async fn a_paid_order_made_bigger_waits_off_the_kitchen_until_the_difference_is_paid(
    pool: MySqlPool,
) {
    let world = world(&pool).await;
    let (id, token, _) = card_order(&world, "delivery", 2).await;
    let (status, body) = pay(&world.orders, id, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["order"]["status"], "placed");
    let paid_first = paid(&pool, id).await.net();

    let (status, body) = call(
        &world.orders,
        "PATCH",
        &format!("/orders/{id}?token={token}"),
        Some(json!({"lines": [{"product_id": 1, "quantity": 20}]})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new_total = body["order"]["total_cents"].as_i64().unwrap();
    assert_eq!(body["order"]["status"], "pending_payment", "{body}");
    assert_eq!(body["order"]["payment"]["status"], "balance_due");
    assert_eq!(
        body["order"]["payment"]["balance_cents"],
        new_total - paid_first
    );
    assert_eq!(body["payment"]["balance_cents"], new_total - paid_first);
    assert!(body["payment"]["client_secret"].is_string(), "{body}");
    assert!(
        body["order"]["reservation_expires_at"].is_string(),
        "a deadline: {body}"
    );
    // Its stock stays reserved meanwhile.
    assert!(
        scalar(&pool, &format!("SELECT COALESCE(SUM(reserved_delta), 0) FROM stock_movements WHERE order_id = {id}")).await > 0
    );

    // The pizzaiolo cannot start it, nor a cashier place it by hand.
    let pizzaiolo = token_of(&pool, "pizzaiolo.1@ocpizza.test").await;
    let cashier = token_of(&pool, "cashier.1@ocpizza.test").await;
    for (who, to) in [(&pizzaiolo, "preparing"), (&cashier, "placed")] {
        let (status, body) = call(
            &world.orders,
            "POST",
            &format!("/orders/{id}/status"),
            Some(json!({ "status": to })),
            Some(who),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{to}: {body}");
        testing::assert_problem(
            &orders::handle(
                &world.orders,
                request(
                    "POST",
                    &format!("/orders/{id}/status"),
                    Some(json!({"status": to})),
                    Some(who),
                ),
            )
            .await,
        );
    }
    assert_eq!(order_status(&pool, id).await, "pending_payment");
    assert!(audit(&pool, Scope::Live).await.unwrap().is_empty());

    // Paying the difference sends it back to the kitchen, paid to the cent.
    let (status, body) = pay(&world.orders, id, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["order"]["status"], "placed", "{body}");
    assert_eq!(body["order"]["payment"]["balance_cents"], 0);
    assert_eq!(paid(&pool, id).await.net(), new_total);
    let (status, body) = call(
        &world.orders,
        "POST",
        &format!("/orders/{id}/status"),
        Some(json!({ "status": "preparing" })),
        Some(&pizzaiolo),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    testing::assert_reconciled(&pool, Scope::Live).await;
}

/// A raised order can also be lowered back (placed again, nothing to pay),
/// and one left unpaid past its deadline is cancelled and refunded in full.
#[sqlx::test(migrations = "../../migrations")]
async fn a_raised_order_lowered_back_is_placed_again_and_one_left_unpaid_is_refunded(
    pool: MySqlPool,
) {
    let world = world(&pool).await;
    let (id, token, _) = card_order(&world, "pickup", 2).await;
    pay(&world.orders, id, &token).await;
    let uri = format!("/orders/{id}?token={token}");
    let lines = |q: i64| Some(json!({"lines": [{"product_id": 1, "quantity": q}]}));
    let (_, body) = call(&world.orders, "PATCH", &uri, lines(5), None).await;
    assert_eq!(body["order"]["status"], "pending_payment");
    let (status, body) = call(&world.orders, "PATCH", &uri, lines(2), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["order"]["status"], "placed", "{body}");
    assert_eq!(body["order"]["payment"]["status"], "paid");

    // Raised again and abandoned: the sweep cancels it and gives all back.
    let (_, body) = call(&world.orders, "PATCH", &uri, lines(4), None).await;
    assert_eq!(body["order"]["status"], "pending_payment");
    let first_intent: String = sqlx::query_as::<_, (String,)>(
        "SELECT provider_ref FROM payments WHERE order_id = ? AND kind = 'charge' AND status = 'succeeded'",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap()
    .0;
    sqlx::query("UPDATE orders SET reservation_expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 MINUTE WHERE id = ?")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    let report = expiry_sweep::run_once(&world.sweep).await.unwrap();
    assert_eq!(report["cancelled"], 1, "{report}");
    assert_eq!(order_status(&pool, id).await, "cancelled");
    let p = paid(&pool, id).await;
    assert_eq!(p.net(), 0);
    assert_eq!(refunded_at_stripe(&first_intent).await, p.charged);
    testing::assert_reconciled(&pool, Scope::Live).await;
}

/// Attack 2: two reductions sent at the same moment refund once.
#[sqlx::test(migrations = "../../migrations")]
async fn two_reductions_at_once_never_refund_the_same_euro_twice(pool: MySqlPool) {
    let world = world(&pool).await;
    let price: i64 = scalar(&pool, "SELECT price_cents FROM products WHERE id = 1").await;
    for round in 0..5 {
        let (id, token, _) = card_order(&world, "pickup", 6).await;
        pay(&world.orders, id, &token).await;
        let paid_before = paid(&pool, id).await.net();
        let uri = format!("/orders/{id}?token={token}");
        let to = |q: i64| Some(json!({"lines": [{"product_id": 1, "quantity": q}]}));
        let (a, b) = tokio::join!(
            call(&world.orders, "PATCH", &uri, to(1), None),
            call(&world.orders, "PATCH", &uri, to(2), None),
        );
        assert_eq!(a.0, StatusCode::OK, "{}", a.1);
        assert_eq!(b.0, StatusCode::OK, "{}", b.1);
        // Whichever commits last wins. Lowered to 2 last: one refund of
        // 4 pizzas. Lowered to 1 last: 5 refunded in all. Never 1 + 4 = 5
        // refunded and the order left at 2 pizzas paid for 1 as placed.
        let final_total = total(&pool, id).await;
        let p = paid(&pool, id).await;
        let status = order_status(&pool, id).await;
        assert!(p.net() <= final_total, "round {round}: {p:?}");
        if status == "placed" {
            assert_eq!(p.net(), final_total, "round {round}: {p:?}");
            assert_eq!(p.refunded, paid_before - final_total, "round {round}");
        } else {
            // Lowered to 1, then raised back to 2: the difference is asked for.
            assert_eq!(status, "pending_payment", "round {round}");
            assert_eq!(p.refunded, paid_before - price, "round {round}: {p:?}");
        }
        let intent: String = sqlx::query_as::<_, (String,)>(
            "SELECT provider_ref FROM payments WHERE order_id = ? AND kind = 'charge'",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap()
        .0;
        assert_eq!(
            refunded_at_stripe(&intent).await,
            p.refunded,
            "round {round}"
        );
    }
    testing::assert_reconciled(&pool, Scope::Live).await;
}

/// A reduction larger than the last PaymentIntent is spread over the
/// order's charges, each refunded at most what it took.
#[sqlx::test(migrations = "../../migrations")]
async fn a_large_reduction_is_spread_over_the_charges(pool: MySqlPool) {
    let world = world(&pool).await;
    let (id, token, _) = card_order(&world, "pickup", 4).await;
    pay(&world.orders, id, &token).await;
    let uri = format!("/orders/{id}?token={token}");
    call(
        &world.orders,
        "PATCH",
        &uri,
        Some(json!({"lines": [{"product_id": 1, "quantity": 6}]})),
        None,
    )
    .await;
    pay(&world.orders, id, &token).await;
    let charges: Vec<(String, i64)> = sqlx::query_as(
        "SELECT provider_ref, amount_cents FROM payments WHERE order_id = ? AND kind = 'charge' AND status = 'succeeded' ORDER BY id",
    )
    .bind(id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(charges.len(), 2);
    let (status, body) = call(
        &world.orders,
        "PATCH",
        &uri,
        Some(json!({"lines": [{"product_id": 1, "quantity": 1}]})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let p = paid(&pool, id).await;
    assert_eq!(p.net(), total(&pool, id).await);
    // The newest charge (2 pizzas) is refunded whole, the rest from the first.
    assert_eq!(refunded_at_stripe(&charges[1].0).await, charges[1].1);
    assert_eq!(
        refunded_at_stripe(&charges[0].0).await,
        p.refunded - charges[1].1
    );
    testing::assert_reconciled(&pool, Scope::Live).await;
}

/// Stripe down when a reduction is refunded: the refund waits, decided and
/// counted, and the sweep sends it once Stripe answers.
#[sqlx::test(migrations = "../../migrations")]
async fn a_refund_stripe_could_not_take_is_retried_by_the_sweep(pool: MySqlPool) {
    let world = world(&pool).await;
    let (id, token, _) = card_order(&world, "pickup", 3).await;
    pay(&world.orders, id, &token).await;
    let uri = format!("/orders/{id}?token={token}");
    let (status, body) = call(
        &world.orders_stripe_down,
        "PATCH",
        &uri,
        Some(json!({"lines": [{"product_id": 1, "quantity": 1}]})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let waiting = "SELECT COUNT(*) FROM payments WHERE kind = 'refund' AND status = 'requested'";
    assert_eq!(scalar(&pool, waiting).await, 1);
    assert!(
        scalar(
            &pool,
            &format!(
                "SELECT COUNT(*) FROM payments WHERE order_id = {id} AND last_error IS NOT NULL"
            )
        )
        .await
            == 1
    );
    // Counted at once: a second reduction refunds only the rest.
    assert_eq!(paid(&pool, id).await.net(), total(&pool, id).await);
    // The retry waits for its lease (a minute); the sweep then sends it.
    sqlx::query("UPDATE payments SET next_attempt_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND")
        .execute(&pool)
        .await
        .unwrap();
    let report = expiry_sweep::run_once(&world.sweep).await.unwrap();
    assert_eq!(report["refunds_sent"], 1, "{report}");
    assert_eq!(scalar(&pool, waiting).await, 0);
    // And an operator would have heard of it after 15 minutes.
    sqlx::query("UPDATE payments SET status = 'requested', created_at = UTC_TIMESTAMP(6) - INTERVAL 20 MINUTE WHERE kind = 'refund'")
        .execute(&pool)
        .await
        .unwrap();
    let findings = audit(&pool, Scope::Live).await.unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f.check == "refunds-pending" && f.order_id == Some(id)),
        "{findings:?}"
    );
}

/// Attack 3: a correctly signed event for the order's PaymentIntent, but in
/// dollars, for one cent, or for a PaymentIntent this order never made.
#[sqlx::test(migrations = "../../migrations")]
async fn only_the_right_payment_places_an_order(pool: MySqlPool) {
    let world = world(&pool).await;
    let config = testing::config();

    // In dollars, and for 1 cent: paid for real on localstripe first, so the
    // refund is real too.
    for (currency, received) in [("usd", None), ("eur", Some(1))] {
        let (id, _, answer) = card_order(&world, "pickup", 2).await;
        let intent = answer["payment"]["payment_intent_id"].as_str().unwrap();
        let amount = answer["order"]["total_cents"].as_i64().unwrap();
        testkit::stripe::pay_with_test_card(
            &config.stripe_api_base,
            STRIPE_KEY,
            intent,
            "4242424242424242",
        )
        .await
        .unwrap();
        let response = stripe_webhook::handle(
            &world.webhook,
            signed_event(
                "payment_intent.succeeded",
                intent_object(intent, id, amount, received.unwrap_or(amount), currency),
            ),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{}", json_of(&response));
        assert_eq!(
            order_status(&pool, id).await,
            "pending_payment",
            "{currency}"
        );
        let (anomaly,): (Option<String>,) =
            sqlx::query_as("SELECT anomaly FROM payments WHERE provider_ref = ?")
                .bind(intent)
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(
            anomaly.as_deref(),
            Some(if currency == "usd" {
                "currency"
            } else {
                "short"
            })
        );
        // Refunded in full, in its own currency; euros paid stay 0.
        assert_eq!(refunded_at_stripe(intent).await, received.unwrap_or(amount));
        assert_eq!(paid(&pool, id).await.net(), 0);
    }

    // A PaymentIntent made outside the order (its metadata naming the order).
    let (id, _, answer) = card_order(&world, "pickup", 2).await;
    let amount = answer["order"]["total_cents"].as_i64().unwrap();
    let stranger = world
        .stripe
        .create_payment_intent(&payment::NewPaymentIntent {
            amount: ocpizza::Money::from_cents(amount),
            order_id: ocpizza::platform::ids::OrderId(id),
            order_number: "FORGED",
            idempotency_key: &uuid::Uuid::new_v4().to_string(),
            receipt_email: None,
        })
        .await
        .unwrap();
    paid_and_announced(&world, &stranger.id, id, amount).await;
    assert_eq!(order_status(&pool, id).await, "pending_payment");
    assert_eq!(refunded_at_stripe(&stranger.id).await, amount);
    assert_eq!(paid(&pool, id).await.net(), 0);

    // The order's own payment, right, still places it.
    let intent = answer["payment"]["payment_intent_id"].as_str().unwrap();
    paid_and_announced(&world, intent, id, amount).await;
    assert_eq!(order_status(&pool, id).await, "placed");
    testing::assert_reconciled(&pool, Scope::Live).await;
}

/// Pays a PaymentIntent on localstripe with 4242…, then delivers its signed
/// `payment_intent.succeeded` (in euros, received in full) to the webhook.
async fn paid_and_announced(world: &World, intent: &str, order: i64, amount: i64) {
    let config = testing::config();
    let paid = testkit::stripe::pay_with_test_card(
        &config.stripe_api_base,
        STRIPE_KEY,
        intent,
        "4242424242424242",
    )
    .await
    .unwrap();
    let response = stripe_webhook::handle(
        &world.webhook,
        signed_event(
            "payment_intent.succeeded",
            intent_object(&paid.id, order, amount, amount, "eur"),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK, "{}", json_of(&response));
}

/// Attack 4: `PATCH` goes through checkout's rules.
#[sqlx::test(migrations = "../../migrations")]
async fn a_change_obeys_checkout_rules(pool: MySqlPool) {
    let world = world(&pool).await;
    let (id, token, answer) = card_order(&world, "delivery", 2).await;
    let total_before = answer["order"]["total_cents"].as_i64().unwrap();
    let uri = format!("/orders/{id}?token={token}");
    let min: i64 = scalar(&pool, "SELECT min_order_cents FROM pizzerias WHERE id = 1").await;
    let price: i64 = scalar(&pool, "SELECT price_cents FROM products WHERE id = 1").await;
    assert!(price < min, "the demo's minimum is above one pizza");
    for (lines, kind) in [
        (
            json!([{"product_id": 1, "quantity": 1}]),
            "below-minimum-order",
        ),
        (
            json!([{"product_id": 1, "quantity": 31}]),
            "invalid-request",
        ),
        (
            json!([{"product_id": 1, "quantity": 30}, {"product_id": 2, "quantity": 30}, {"product_id": 3, "quantity": 1}]),
            "invalid-request",
        ),
        (json!([]), "invalid-request"),
        (
            json!([{"product_id": 1, "quantity": -3}]),
            "invalid-request",
        ),
    ] {
        let response = orders::handle(
            &world.orders,
            request("PATCH", &uri, Some(json!({ "lines": lines })), None),
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{lines}"
        );
        testing::assert_problem(&response);
        let body = json_of(&response);
        assert!(
            body["type"].as_str().unwrap_or("").ends_with(kind),
            "{body}"
        );
        assert_eq!(total(&pool, id).await, total_before);
    }
}

/// The reconciliation check knows the money rules.
#[sqlx::test(migrations = "../../migrations")]
async fn the_reconciliation_check_sees_money_out_of_line(pool: MySqlPool) {
    let world = world(&pool).await;
    let (unpaid, _, _) = card_order(&world, "pickup", 1).await;
    let (over, token, _) = card_order(&world, "pickup", 2).await;
    pay(&world.orders, over, &token).await;
    assert!(audit(&pool, Scope::Live).await.unwrap().is_empty());

    // A card order in the kitchen with nothing paid.
    sqlx::query("UPDATE orders SET status = 'preparing' WHERE id = ?")
        .bind(unpaid)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO order_status_history (order_id, status, by_label) VALUES (?, 'preparing', 'test')")
        .bind(unpaid)
        .execute(&pool)
        .await
        .unwrap();
    // A charge refunded beyond what it took.
    sqlx::query(
        "INSERT INTO payments (order_id, provider, kind, provider_ref, amount_cents, status, refund_of) \
         SELECT order_id, 'stripe', 'refund', 're_x', amount_cents + 100, 'succeeded', provider_ref \
         FROM payments WHERE order_id = ? AND kind = 'charge'",
    )
    .bind(over)
    .execute(&pool)
    .await
    .unwrap();
    let findings = audit(&pool, Scope::Live).await.unwrap();
    for (check, id) in [
        ("card-unpaid", unpaid),
        ("refunds", over),
        ("payments", over),
    ] {
        assert!(
            findings
                .iter()
                .any(|f| f.check == check && f.order_id == Some(id)),
            "{check}: {findings:?}"
        );
    }
}

// ------------------------------------------------------------------ property

/// One step a case may take on its order.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Pay what is owed (through `payment/card`).
    Pay,
    /// Change to this many pizzas.
    Change(i64),
    Cancel,
    /// Deliver again, signed, every `payment_intent.succeeded` Stripe would
    /// have sent so far, shuffled and duplicated.
    Webhooks,
    /// Two steps at the same time.
    Together(Change2, Change2),
}

#[derive(Debug, Clone, Copy)]
enum Change2 {
    Change(i64),
    Cancel,
    Pay,
}

fn draw_steps(rng: &mut StdRng) -> Vec<(Step, bool)> {
    let n = rng.random_range(1..=6);
    (0..n)
        .map(|_| {
            let step = match rng.random_range(0..10) {
                0..=2 => Step::Pay,
                3..=5 => Step::Change(rng.random_range(1..=6)),
                6 => Step::Cancel,
                7 => Step::Webhooks,
                _ => {
                    let mut one = || match rng.random_range(0..4) {
                        0 => Change2::Pay,
                        1 => Change2::Cancel,
                        _ => Change2::Change(rng.random_range(1..=6)),
                    };
                    Step::Together(one(), one())
                }
            };
            // Stripe unreachable for this step, one time in five.
            (step, rng.random_range(0..5) == 0)
        })
        .collect()
}

async fn run_step(world: &World, id: i64, token: &str, step: Change2, stripe_down: bool) {
    let state = if stripe_down {
        &world.orders_stripe_down
    } else {
        &world.orders
    };
    let (status, body) = match step {
        Change2::Pay => pay(state, id, token).await,
        Change2::Cancel => {
            call(
                state,
                "POST",
                &format!("/orders/{id}/cancel?token={token}"),
                None,
                None,
            )
            .await
        }
        Change2::Change(q) => {
            call(
                state,
                "PATCH",
                &format!("/orders/{id}?token={token}"),
                Some(json!({"lines": [{"product_id": 1, "quantity": q}]})),
                None,
            )
            .await
        }
    };
    // Whatever happens, an answer a client can read: never a 500.
    assert!(
        !status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE,
        "{step:?}: {status} {body}"
    );
}

/// Stripe's own view of every succeeded PaymentIntent of the order, sent as
/// signed webhooks, shuffled, some twice.
async fn replay_webhooks(world: &World, id: i64, rng: &mut StdRng) {
    let intents: Vec<(String,)> =
        sqlx::query_as("SELECT provider_ref FROM payments WHERE order_id = ? AND kind = 'charge'")
            .bind(id)
            .fetch_all(&world.pool)
            .await
            .unwrap();
    let mut deliveries = Vec::new();
    for (intent,) in intents {
        let Ok(pi) = world.stripe.retrieve_payment_intent(&intent).await else {
            continue;
        };
        let kind = match pi.status.as_str() {
            "succeeded" => "payment_intent.succeeded",
            "canceled" => "payment_intent.canceled",
            _ => continue,
        };
        let object = json!({
            "id": pi.id, "object": "payment_intent", "amount": pi.amount.cents(),
            "amount_received": pi.amount_received.cents(), "currency": "eur", "status": pi.status.as_str(),
            "metadata": {"order_id": id.to_string()},
        });
        for _ in 0..rng.random_range(1..=2) {
            deliveries.push((kind, object.clone()));
        }
    }
    use rand::seq::SliceRandom;
    deliveries.shuffle(rng);
    for (kind, object) in deliveries {
        let response = stripe_webhook::handle(&world.webhook, signed_event(kind, object)).await;
        assert_eq!(response.status(), StatusCode::OK, "{}", json_of(&response));
    }
}

/// After the steps: refunds sent, an order still waiting either paid or
/// expired, a placed one cooked and handed over.
async fn settle(world: &World, id: i64, token: &str, rng: &mut StdRng, manager: &str) {
    if order_status(&world.pool, id).await == "pending_payment" {
        if rng.random_bool(0.5) {
            pay(&world.orders, id, token).await;
        } else {
            sqlx::query("UPDATE orders SET reservation_expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE id = ?")
                .bind(id)
                .execute(&world.pool)
                .await
                .unwrap();
            ocpizza::payment::settlement::expire_unpaid(&world.pool, &world.stripe, 50)
                .await
                .unwrap();
        }
    }
    if order_status(&world.pool, id).await == "placed" {
        for to in ["preparing", "ready", "picked_up"] {
            let (status, body) = call(
                &world.orders,
                "POST",
                &format!("/orders/{id}/status"),
                Some(json!({ "status": to })),
                Some(manager),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{to}: {body}");
        }
    }
    // Every refund decided reaches Stripe (leases expired, as a minute later).
    sqlx::query(
        "UPDATE payments SET next_attempt_at = NULL WHERE order_id = ? AND status = 'requested'",
    )
    .bind(id)
    .execute(&world.pool)
    .await
    .unwrap();
    let run = ocpizza::payment::settlement::send_refunds(
        &world.pool,
        &world.stripe,
        Some(ocpizza::platform::ids::OrderId(id)),
        50,
    )
    .await
    .unwrap();
    assert_eq!(run.failed, 0, "order {id}: refunds refused by Stripe");
}

/// How many cases: a few hundred in `make test`, thousands in `make fuzz`
/// (`FUZZ_CASES` / 2).
fn cases() -> usize {
    match std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        Some(n) => (n / 2).max(300),
        None => 300,
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_money_rule_holds_under_any_interleaving(pool: MySqlPool) {
    let world = world(&pool).await;
    let manager = token_of(&pool, "manager.1@ocpizza.test").await;
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_204);
    let cases = cases();
    let started = std::time::Instant::now();
    let mut violations = Vec::new();
    let mut steps_run = 0;
    // Four cases at a time, each on its own order.
    for batch in (0..cases).collect::<Vec<_>>().chunks(4) {
        let runs = batch.iter().map(|&case| {
            let world = &world;
            let manager = manager.as_str();
            async move {
                let mut rng = StdRng::seed_from_u64(seed.wrapping_add(case as u64));
                let steps = draw_steps(&mut rng);
                let (id, token, _) = card_order(world, "pickup", rng.random_range(1..=6)).await;
                for &(step, down) in &steps {
                    match step {
                        Step::Pay => run_step(world, id, &token, Change2::Pay, down).await,
                        Step::Change(q) => {
                            run_step(world, id, &token, Change2::Change(q), down).await
                        }
                        Step::Cancel => run_step(world, id, &token, Change2::Cancel, down).await,
                        Step::Webhooks => replay_webhooks(world, id, &mut rng).await,
                        Step::Together(a, b) => {
                            tokio::join!(
                                run_step(world, id, &token, a, down),
                                run_step(world, id, &token, b, false)
                            );
                        }
                    }
                }
                replay_webhooks(world, id, &mut rng).await;
                settle(world, id, &token, &mut rng, manager).await;
                replay_webhooks(world, id, &mut rng).await;
                (case, id, steps)
            }
        });
        for (case, id, steps) in futures_util::future::join_all(runs).await {
            steps_run += steps.len();
            let status = order_status(&pool, id).await;
            let p = paid(&pool, id).await;
            let total = total(&pool, id).await;
            let intents: Vec<(String, i64)> = sqlx::query_as(
                "SELECT provider_ref, amount_cents FROM payments WHERE order_id = ? AND kind = 'charge' AND status = 'succeeded'",
            )
            .bind(id)
            .fetch_all(&pool)
            .await
            .unwrap();
            let mut over_refunded = false;
            for (intent, charged) in &intents {
                if refunded_at_stripe(intent).await > *charged {
                    over_refunded = true;
                }
            }
            let wrong = match status.as_str() {
                "picked_up" => p.net() != total,
                "cancelled" => p.net() != 0,
                _ => true,
            } || over_refunded
                || p.refunded > p.charged;
            if wrong {
                violations.push(format!(
                    "case {case} (order {id}, {steps:?}): {status}, total {total}, {p:?}, over-refunded at Stripe: {over_refunded}"
                ));
            }
        }
    }
    let findings = audit(&pool, Scope::Live).await.unwrap();
    println!(
        "money rule: {cases} cases, {steps_run} steps, {} invariant violations, {} reconciliation findings, {:.1} s",
        violations.len(),
        findings.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    assert!(findings.is_empty(), "{findings:?}");
}
