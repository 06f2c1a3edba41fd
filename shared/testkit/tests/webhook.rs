//! The stripe-webhook function: Stripe's signature scheme on the raw body,
//! each event applied once, in any order, against real MariaDB and SQS.

use chrono::Utc;
use http::{header, StatusCode};
use lambda_http::Body;
use ocpizza::payment::{self, Stripe};
use ocpizza::platform::http::Response;
use ocpizza::platform::queue::QueueName;
use rand::seq::SliceRandom;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::time::Duration;
use stripe_webhook::State;
use testkit::{self as testing, scalar};

const SECRET: &str = "whsec_local";

struct World {
    webhook: State,
    checkout: checkout::State,
}

async fn world(pool: &MySqlPool) -> World {
    ocpizza::samples::load_demo(pool).await.unwrap();
    let mut config = testing::config();
    config.stripe_webhook_secret = SECRET.to_owned().into();
    let queues = testing::fresh_queues().await;
    let stripe = Stripe::from_config(&config).unwrap();
    World {
        webhook: State {
            pool: pool.clone(),
            queues: queues.clone(),
            stripe: stripe.clone(),
        },
        checkout: checkout::State::new(pool.clone(), &config, queues).unwrap(),
    }
}

fn json_of(response: &Response) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null)
}

/// A card order for pickup at pizzeria 1: (order id, PaymentIntent id, total).
async fn card_order(world: &World, quantity: i64) -> (i64, String, i64) {
    let body = json!({
        "pizzeria_id": 1, "fulfilment": "pickup", "payment_method": "card",
        "lines": [{"product_id": 1, "quantity": quantity}],
        "contact": {"name": "Léa Petit", "phone": "0612345678", "email": "lea.petit@example.fr"}
    });
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
        answer["payment"]["payment_intent_id"]
            .as_str()
            .unwrap()
            .to_owned(),
        answer["order"]["total_cents"].as_i64().unwrap(),
    )
}

/// An event as Stripe documents it (and as localstripe sends it: old api_version).
fn event(id: &str, kind: &str, intent: &str, order: i64, amount: i64, status: &str) -> String {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2017-08-15",
        "created": Utc::now().timestamp(),
        "type": kind,
        "data": { "object": {
            "id": intent, "object": "payment_intent", "amount": amount,
            "amount_received": if status == "succeeded" { amount } else { 0 },
            "currency": "eur", "status": status,
            "metadata": { "order_id": order.to_string() }
        }}
    })
    .to_string()
}

fn delivery(payload: &str, signature: Option<String>) -> http::Request<Body> {
    let mut b = http::Request::builder()
        .method("POST")
        .uri("/")
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(sig) = signature {
        b = b.header("stripe-signature", sig);
    }
    b.body(Body::Text(payload.to_owned())).unwrap()
}

fn signed(payload: &str) -> http::Request<Body> {
    delivery(
        payload,
        Some(payment::sign(
            payload.as_bytes(),
            SECRET,
            Utc::now().timestamp(),
        )),
    )
}

async fn status_of(pool: &MySqlPool, order: i64) -> String {
    sqlx::query_as::<_, (String,)>("SELECT status FROM orders WHERE id = ?")
        .bind(order)
        .fetch_one(pool)
        .await
        .unwrap()
        .0
}

#[sqlx::test(migrations = "../../migrations")]
async fn every_event_three_times_shuffled_takes_effect_once(pool: MySqlPool) {
    let world = world(&pool).await;
    let (paid, paid_pi, paid_total) = card_order(&world, 2).await;
    let (dropped, dropped_pi, dropped_total) = card_order(&world, 1).await;
    let (other, other_pi, other_total) = card_order(&world, 3).await;
    let reserved_before = scalar(
        &pool,
        "SELECT SUM(reserved) FROM stock WHERE pizzeria_id = 1",
    )
    .await;

    let events = [
        event(
            "evt_paid",
            "payment_intent.succeeded",
            &paid_pi,
            paid,
            paid_total,
            "succeeded",
        ),
        event(
            "evt_canceled",
            "payment_intent.canceled",
            &dropped_pi,
            dropped,
            dropped_total,
            "canceled",
        ),
        event(
            "evt_other",
            "payment_intent.succeeded",
            &other_pi,
            other,
            other_total,
            "succeeded",
        ),
        json!({
            "id": "evt_unrelated", "object": "event", "type": "customer.created", "created": Utc::now().timestamp(),
            "data": { "object": { "id": "cus_1", "object": "customer", "email": "someone@example.fr" } }
        })
        .to_string(),
    ];
    let mut deliveries: Vec<&String> = events.iter().flat_map(|e| [e, e, e]).collect();
    deliveries.shuffle(&mut rand::rng());
    for payload in deliveries {
        let response = stripe_webhook::handle(&world.webhook, signed(payload)).await;
        assert_eq!(response.status(), StatusCode::OK, "{}", json_of(&response));
    }

    assert_eq!(status_of(&pool, paid).await, "placed");
    assert_eq!(status_of(&pool, other).await, "placed");
    assert_eq!(status_of(&pool, dropped).await, "cancelled");
    // One history row and one kitchen message per effect.
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM order_status_history WHERE status = 'placed'"
        )
        .await,
        2
    );
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM order_status_history WHERE status = 'cancelled'"
        )
        .await,
        1
    );
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM processed_events").await,
        4
    );
    // One e-mail per effect: two confirmations, one cancellation.
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM notifications WHERE kind IN ('placed', 'cancelled')"
        )
        .await,
        3
    );
    let messages = testing::drain(
        &world.webhook.queues,
        QueueName::Kitchen,
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(messages.len(), 2);
    // The dropped order's stock is back (one Margherita), the others stay reserved.
    let reserved_after = scalar(
        &pool,
        "SELECT SUM(reserved) FROM stock WHERE pizzeria_id = 1",
    )
    .await;
    assert!(reserved_after < reserved_before);
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
    // Payments recorded at the amount received.
    assert_eq!(
        scalar(&pool, &format!("SELECT amount_cents FROM payments WHERE order_id = {paid} AND status = 'succeeded'")).await,
        paid_total
    );
    testkit::assert_reconciled(&pool, ocpizza::reporting::audit::Scope::Live).await;
}

/// A declined card or a failed 3-D Secure is one failed attempt: Stripe puts
/// the PaymentIntent back to `requires_payment_method`, and the customer pays
/// it with another card from the tracker. The order keeps waiting (its stock
/// still held for it) until it is paid or its deadline passes.
#[sqlx::test(migrations = "../../migrations")]
async fn a_failed_attempt_leaves_the_order_waiting_for_another_card(pool: MySqlPool) {
    let world = world(&pool).await;
    let (order, pi, total) = card_order(&world, 1).await;
    let reserved = "SELECT SUM(reserved) FROM stock WHERE pizzeria_id = 1";
    let held = scalar(&pool, reserved).await;
    let declined = event(
        "evt_declined",
        "payment_intent.payment_failed",
        &pi,
        order,
        total,
        "requires_payment_method",
    );
    let response = stripe_webhook::handle(&world.webhook, signed(&declined)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(status_of(&pool, order).await, "pending_payment");
    assert_eq!(scalar(&pool, reserved).await, held, "its stock stays held");
    let deadline = "SELECT COUNT(*) FROM orders WHERE reservation_expires_at IS NOT NULL";
    assert_eq!(scalar(&pool, deadline).await, 1, "its deadline stands");

    let paid = event(
        "evt_paid_second_card",
        "payment_intent.succeeded",
        &pi,
        order,
        total,
        "succeeded",
    );
    let response = stripe_webhook::handle(&world.webhook, signed(&paid)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(status_of(&pool, order).await, "placed");
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM order_status_history WHERE status = 'cancelled'"
        )
        .await,
        0
    );
    testkit::assert_reconciled(&pool, ocpizza::reporting::audit::Scope::Live).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_late_failure_after_success_changes_nothing(pool: MySqlPool) {
    let world = world(&pool).await;
    let (order, pi, total) = card_order(&world, 1).await;
    let ok = event(
        "evt_ok",
        "payment_intent.succeeded",
        &pi,
        order,
        total,
        "succeeded",
    );
    let late = event(
        "evt_late",
        "payment_intent.payment_failed",
        &pi,
        order,
        total,
        "requires_payment_method",
    );
    assert_eq!(
        stripe_webhook::handle(&world.webhook, signed(&ok))
            .await
            .status(),
        200
    );
    assert_eq!(
        stripe_webhook::handle(&world.webhook, signed(&late))
            .await
            .status(),
        200
    );
    assert_eq!(status_of(&pool, order).await, "placed");
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM order_status_history WHERE status = 'cancelled'"
        )
        .await,
        0
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn bad_signatures_are_400_and_change_nothing(pool: MySqlPool) {
    let world = world(&pool).await;
    let (order, pi, total) = card_order(&world, 1).await;
    let payload = event(
        "evt_x",
        "payment_intent.succeeded",
        &pi,
        order,
        total,
        "succeeded",
    );
    let now = Utc::now().timestamp();
    let cases = [
        ("no header", None),
        ("garbage header", Some("nonsense".to_owned())),
        (
            "wrong secret",
            Some(payment::sign(payload.as_bytes(), "whsec_other", now)),
        ),
        (
            "stale timestamp",
            Some(payment::sign(payload.as_bytes(), SECRET, now - 301)),
        ),
        (
            "tampered body",
            Some(payment::sign(
                payload.replace("succeeded", "canceled").as_bytes(),
                SECRET,
                now,
            )),
        ),
    ];
    for (name, signature) in cases {
        let response = stripe_webhook::handle(&world.webhook, delivery(&payload, signature)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }
    assert_eq!(status_of(&pool, order).await, "pending_payment");
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM processed_events").await,
        0
    );

    // Signed but of a type we do not handle: acknowledged, no effect.
    let unknown = event(
        "evt_unknown",
        "invoice.paid",
        &pi,
        order,
        total,
        "succeeded",
    );
    assert_eq!(
        stripe_webhook::handle(&world.webhook, signed(&unknown))
            .await
            .status(),
        200
    );
    assert_eq!(status_of(&pool, order).await, "pending_payment");
}

/// Found by fuzzing: a signed event whose id does not fit
/// `processed_events.event_id` (255) made the insert fail, a 500 that Stripe
/// would retry for days. Such an id is not Stripe's: 400, nothing recorded.
#[sqlx::test(migrations = "../../migrations")]
async fn a_signed_event_with_an_id_stripe_never_makes_is_a_400(pool: MySqlPool) {
    let world = world(&pool).await;
    let (order, pi, total) = card_order(&world, 1).await;
    for id in ["x".repeat(256), String::new(), "évt_1".into()] {
        let payload = event(
            &id,
            "payment_intent.succeeded",
            &pi,
            order,
            total,
            "succeeded",
        );
        let response = stripe_webhook::handle(&world.webhook, signed(&payload)).await;
        testing::assert_problem(&response);
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{id:?}");
    }
    let long_intent = event(
        "evt_long_pi",
        "payment_intent.succeeded",
        &"p".repeat(256),
        order,
        total,
        "succeeded",
    );
    let response = stripe_webhook::handle(&world.webhook, signed(&long_intent)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(status_of(&pool, order).await, "pending_payment");
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM processed_events").await,
        0
    );
}

/// Found by fuzzing: a signed PaymentIntent event with a negative amount
/// broke the payments table's check (`amount_cents >= 0`), a 500. Stripe
/// never sends one: 400, nothing recorded.
#[sqlx::test(migrations = "../../migrations")]
async fn a_signed_event_with_a_negative_amount_is_a_400(pool: MySqlPool) {
    let world = world(&pool).await;
    let (order, pi, total) = card_order(&world, 1).await;
    let payload = event(
        "evt_negative",
        "payment_intent.canceled",
        &pi,
        order,
        -total,
        "canceled",
    );
    let response = stripe_webhook::handle(&world.webhook, signed(&payload)).await;
    testing::assert_problem(&response);
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(status_of(&pool, order).await, "pending_payment");
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM processed_events").await,
        0
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_sample_events_verify_with_the_local_secret(pool: MySqlPool) {
    // events/ holds signed payloads for `cargo lambda invoke`; their signature
    // is computed when they are used (see events/README.md), so here we check
    // the payloads parse as the events they claim to be.
    let _ = world(&pool).await;
    for (file, kind) in [
        (
            "stripe-payment-intent-succeeded.json",
            "payment_intent.succeeded",
        ),
        (
            "stripe-payment-intent-payment-failed.json",
            "payment_intent.payment_failed",
        ),
    ] {
        let path = format!("{}/../../events/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let request: Value = serde_json::from_str(&text).unwrap();
        let body = request["body"].as_str().unwrap();
        let event = payment::parse_event(body.as_bytes()).unwrap();
        assert_eq!(event.event_type, kind);
        let signature = request["headers"]["stripe-signature"].as_str().unwrap();
        // Signed with the local secret at a fixed time: valid at that time only.
        let t: i64 = signature
            .split(',')
            .find_map(|p| p.strip_prefix("t="))
            .unwrap()
            .parse()
            .unwrap();
        payment::verify_signature(body.as_bytes(), signature, SECRET, t).unwrap();
        assert!(payment::verify_signature(body.as_bytes(), signature, SECRET, t + 301).is_err());
    }
}

/// A tiny HTTP endpoint standing in for the function URL: it answers 200 to
/// every POST and hands over (stripe-signature header, raw body).
async fn listener() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", socket.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = socket.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let Ok(n) = stream.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() < end + 4 + length {
                        continue;
                    }
                    let signature = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("stripe-signature")
                                .then(|| v.trim().to_owned())
                        })
                        .unwrap_or_default();
                    let _ = tx.send((signature, buf[end + 4..end + 4 + length].to_vec()));
                    let _ = stream
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        )
                        .await;
                    return;
                }
            });
        }
    });
    (url, rx)
}

#[sqlx::test(migrations = "../../migrations")]
async fn card_flow_end_to_end_with_localstripe_and_its_signed_webhook(pool: MySqlPool) {
    let world = world(&pool).await;
    let config = testing::config();
    let (url, mut received) = listener().await;
    let name = format!("test-{}", uuid::Uuid::new_v4().simple());
    testkit::stripe::register_webhook(&config.stripe_api_base, &name, &url, SECRET)
        .await
        .unwrap();

    let (order, pi, total) = card_order(&world, 2).await;
    let paid = testkit::stripe::pay_with_test_card(
        &config.stripe_api_base,
        "sk_test_local",
        &pi,
        "4242 4242 4242 4242",
    )
    .await
    .unwrap();
    assert_eq!(paid.amount_received.cents(), total);

    // localstripe posts payment_intent.succeeded for our PaymentIntent (other
    // tests' events may arrive too: every registered webhook gets them all).
    let (signature, body) = loop {
        let (signature, body) = tokio::time::timeout(Duration::from_secs(10), received.recv())
            .await
            .expect("localstripe sends the webhook within 10 s")
            .unwrap();
        let event = payment::parse_event(&body).unwrap();
        if event.event_type == "payment_intent.succeeded"
            && String::from_utf8_lossy(&body).contains(&pi)
        {
            break (signature, body);
        }
    };
    let request = http::Request::builder()
        .method("POST")
        .uri("/")
        .header("stripe-signature", signature)
        .body(Body::Binary(body))
        .unwrap();
    let response = stripe_webhook::handle(&world.webhook, request).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", json_of(&response));
    assert_eq!(status_of(&pool, order).await, "placed");
    let messages = testing::drain(
        &world.webhook.queues,
        QueueName::Kitchen,
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].order_id.0, order);
    assert_eq!(messages[0].event.type_name(), "order.placed");
}
