//! Notifications end to end: orders placed through checkout and moved through
//! their statuses on real MariaDB, e-mails sent with lettre to the real local
//! SMTP server (aiosmtpd, started by `make test`) and read back from its
//! maildir; the tracker's link in each e-mail followed to the orders function.

use http::StatusCode;
use lambda_http::Body;
use ocpizza::order::lifecycle::{self, By, ChangeError};
use ocpizza::order::notify::{self, Mailer, SendReport, MAX_ATTEMPTS};
use ocpizza::order::OrderStatus::{self, *};
use ocpizza::payment::Stripe;
use ocpizza::platform::http::Cors;
use ocpizza::platform::ids::OrderId;
use secrecy::SecretString;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::sync::{Arc, Mutex};
use testkit::mail::{emails_to, Email};
use testkit::{self as testing, scalar};

struct World {
    checkout: checkout::State,
    orders: ::orders::State,
    mailer: Mailer,
}

/// Checkout and orders on this test's database. Queue messages are left in
/// the outbox (nothing here reads them), so no SQS server is needed.
async fn world(pool: &MySqlPool) -> World {
    ocpizza::platform::telemetry::init();
    ocpizza::samples::load_demo(pool).await.unwrap();
    let config = testing::config();
    let queues = testing::unreachable_queues().await;
    let mut checkout = checkout::State::new(pool.clone(), &config, queues.clone()).unwrap();
    checkout.send_after_commit = false;
    World {
        checkout,
        orders: ::orders::State {
            clock: Default::default(),
            pool: pool.clone(),
            cors: Cors::default(),
            queues,
            stripe: Stripe::from_config(&config).unwrap(),
            secret_key: "notifier-test-secret".to_owned().into(),
        },
        mailer: Mailer::from_config(&config).unwrap(),
    }
}

/// An address no other test (or earlier run) uses, to find this test's e-mails.
fn unique_address(name: &str) -> String {
    format!("{name}.{}@example.fr", uuid::Uuid::new_v4().simple())
}

/// A cash order of two Margheritas at pizzeria 1 (above the delivery minimum): (id, number, tracking token).
async fn place(world: &World, fulfilment: &str, email: Option<&str>) -> (OrderId, String, String) {
    let mut body = json!({
        "pizzeria_id": 1, "fulfilment": fulfilment, "payment_method": "cash",
        "lines": [{"product_id": 1, "quantity": 2}],
        "contact": {"name": "Hugo Bernard", "phone": "06 11 22 33 44", "email": email}
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
    let answer: Value = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
    assert_eq!(response.status(), StatusCode::CREATED, "{answer}");
    let order = &answer["order"];
    assert_eq!(order["status"], "placed");
    (
        OrderId(order["id"].as_i64().unwrap()),
        order["number"].as_str().unwrap().to_owned(),
        order["tracking_token"].as_str().unwrap().to_owned(),
    )
}

/// Moves the order to `to` as the system does, in its own transaction.
async fn advance(pool: &MySqlPool, id: OrderId, to: OrderStatus) -> Result<(), ChangeError> {
    let mut tx = pool.begin().await?;
    let mut head = lifecycle::lock(&mut tx, id).await?.expect("order exists");
    lifecycle::change_status(&mut tx, &mut head, to, &By::system("test"), None).await?;
    tx.commit().await?;
    Ok(())
}

/// Notification rows of an order: (kind, status, attempts, last_error), by id.
async fn rows(pool: &MySqlPool, id: OrderId) -> Vec<(String, String, i32, Option<String>)> {
    sqlx::query_as(
        "SELECT kind, status, attempts, last_error FROM notifications WHERE order_id = ? ORDER BY id",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn order_json(world: &World, id: OrderId, token: &str) -> Value {
    let req = http::Request::builder()
        .uri(format!("/orders/{}?token={token}", id.0))
        .body(Body::Empty)
        .unwrap();
    let response = ::orders::handle(&world.orders, req).await;
    assert_eq!(response.status(), StatusCode::OK);
    serde_json::from_slice(response.body().as_ref()).unwrap()
}

/// The tracker's link of an e-mail: what follows its French sentence.
fn tracker_link(email: &Email) -> String {
    let (_, rest) = email
        .body
        .split_once("Suivez votre commande : ")
        .unwrap_or_else(|| panic!("no link to the tracker in {email:?}"));
    rest.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[sqlx::test(migrator = "ocpizza::platform::db::MIGRATOR")]
async fn each_status_change_sends_one_french_email_even_when_applied_twice(pool: MySqlPool) {
    let world = world(&pool).await;
    let delivered_to = unique_address("livraison");
    let picked_up_to = unique_address("comptoir");
    let (delivery, number, token) = place(&world, "delivery", Some(&delivered_to)).await;
    let (pickup, pickup_number, _) = place(&world, "pickup", Some(&picked_up_to)).await;
    let delivery_path = [Preparing, Ready, OutForDelivery, Delivered];
    let pickup_path = [Preparing, Ready, PickedUp];
    for to in delivery_path {
        advance(&pool, delivery, to).await.unwrap();
    }
    for to in pickup_path {
        advance(&pool, pickup, to).await.unwrap();
    }

    // The same path replayed (a redelivered message, a retried request): the
    // transitions are refused, and recording again adds nothing.
    for to in delivery_path {
        assert!(matches!(
            advance(&pool, delivery, to).await,
            Err(ChangeError::Transition(_))
        ));
    }
    for to in [Placed, Preparing, Ready, OutForDelivery, Delivered] {
        let mut tx = pool.begin().await.unwrap();
        notify::record(&mut tx, delivery, to).await.unwrap();
        tx.commit().await.unwrap();
    }

    let kinds = |rows: Vec<(String, String, i32, Option<String>)>| -> Vec<String> {
        rows.into_iter().map(|(kind, ..)| kind).collect()
    };
    assert_eq!(
        kinds(rows(&pool, delivery).await),
        [
            "placed",
            "preparing",
            "ready",
            "out_for_delivery",
            "delivered"
        ]
    );
    assert_eq!(
        kinds(rows(&pool, pickup).await),
        ["placed", "preparing", "ready", "picked_up"]
    );

    // Shown on the order, pending until the notifier runs.
    let order = order_json(&world, delivery, &token).await;
    let shown = order["order"]["notifications"].as_array().unwrap();
    assert_eq!(shown.len(), 5, "{order}");
    assert_eq!(shown[1]["kind"], "preparing");
    assert_eq!(shown[1]["channel"], "email");
    assert_eq!(shown[1]["status"], "pending");
    assert_eq!(
        shown[1]["subject"],
        format!("Votre commande n° {number} est en préparation")
    );
    assert!(shown[1]["sent_at"].is_null());

    // Two senders at once: the lease lets each row go out once.
    let (a, b) = tokio::join!(
        notify::send_pending(&pool, &world.mailer, 50),
        notify::send_pending(&pool, &world.mailer, 50)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        (a.sent + b.sent, a.retried + b.retried, a.failed + b.failed),
        (9, 0, 0)
    );

    let received = emails_to(&delivered_to);
    assert_eq!(
        sorted(received.iter().map(|e| e.subject.clone()).collect()),
        sorted(vec![
            format!("Votre commande n° {number} est confirmée"),
            format!("Votre commande n° {number} est en préparation"),
            format!("Votre commande n° {number} est prête"),
            format!("Votre commande n° {number} est en cours de livraison"),
            format!("Votre commande n° {number} a été livrée"),
        ])
    );
    for email in &received {
        assert_eq!(email.to, delivered_to);
        // lettre quotes the display name: `"OC Pizza" <commandes@ocpizza.test>`.
        assert_eq!(
            email.from.replace('"', ""),
            "OC Pizza <commandes@ocpizza.test>"
        );
        assert!(email.message_id.starts_with("<notification."), "{email:?}");
        let link = tracker_link(email);
        assert_eq!(
            link,
            notify::tracking_link(&testing::config().site_url, delivery, &token)
        );
    }
    let received = emails_to(&picked_up_to);
    assert_eq!(received.len(), 4, "{received:?}");
    assert!(received
        .iter()
        .any(|e| e.subject == format!("Votre commande n° {pickup_number} a été retirée")));
    assert!(received
        .iter()
        .all(|e| tracker_link(e).contains(&format!("track.html?order={}&", pickup.0))));

    // Nothing is sent twice.
    assert_eq!(
        notify::send_pending(&pool, &world.mailer, 50)
            .await
            .unwrap(),
        SendReport::default()
    );
    assert_eq!(emails_to(&delivered_to).len(), 5);
    let order = order_json(&world, delivery, &token).await;
    for n in order["order"]["notifications"].as_array().unwrap() {
        assert_eq!(n["status"], "sent", "{n}");
        assert!(n["sent_at"].is_string(), "{n}");
    }
}

/// A mailer whose server never answers (nothing listens on port 1).
fn unreachable_mailer() -> Mailer {
    Mailer::new(
        &SecretString::from("smtp://127.0.0.1:1"),
        "OC Pizza <commandes@ocpizza.test>",
        &testing::config().site_url,
    )
    .unwrap()
}

/// What the backoff waits for, as if that time had passed.
async fn make_due(pool: &MySqlPool) {
    sqlx::query(
        "UPDATE notifications SET next_attempt_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND \
         WHERE status = 'pending'",
    )
    .execute(pool)
    .await
    .unwrap();
}

#[sqlx::test(migrator = "ocpizza::platform::db::MIGRATOR")]
async fn smtp_down_retries_later_and_never_blocks_the_order(pool: MySqlPool) {
    let world = world(&pool).await;
    let address = unique_address("panne");
    let (id, number, _) = place(&world, "pickup", Some(&address)).await;

    let report = notify::send_pending(&pool, &unreachable_mailer(), 50)
        .await
        .unwrap();
    assert_eq!(
        report,
        SendReport {
            sent: 0,
            failed: 0,
            retried: 1
        }
    );
    let [(kind, status, attempts, last_error)] = &rows(&pool, id).await[..] else {
        panic!("one notification expected");
    };
    assert_eq!(
        (kind.as_str(), status.as_str(), *attempts),
        ("placed", "pending", 1)
    );
    assert!(last_error.as_deref().is_some_and(|e| !e.is_empty()));
    // Backing off: not due again yet, even with the server back.
    let waiting = scalar(
        &pool,
        "SELECT COUNT(*) FROM notifications WHERE next_attempt_at > UTC_TIMESTAMP(6)",
    )
    .await;
    assert_eq!(waiting, 1);

    // The kitchen goes on meanwhile.
    advance(&pool, id, Preparing).await.unwrap();
    let report = notify::send_pending(&pool, &world.mailer, 50)
        .await
        .unwrap();
    assert_eq!(report.sent, 1, "only the new, due notification");

    make_due(&pool).await;
    let report = notify::send_pending(&pool, &world.mailer, 50)
        .await
        .unwrap();
    assert_eq!(report.sent, 1, "the retried one");
    let all = rows(&pool, id).await;
    assert_eq!(
        all,
        [
            ("placed".to_owned(), "sent".to_owned(), 2, None),
            ("preparing".to_owned(), "sent".to_owned(), 1, None),
        ]
    );
    let received = emails_to(&address);
    assert!(received
        .iter()
        .all(|e| e.body.contains("Suivez votre commande : ")));
    let subjects = sorted(received.into_iter().map(|e| e.subject).collect());
    assert_eq!(
        subjects,
        [
            format!("Votre commande n° {number} est confirmée"),
            format!("Votre commande n° {number} est en préparation"),
        ]
    );
}

#[sqlx::test(migrator = "ocpizza::platform::db::MIGRATOR")]
async fn a_notification_is_given_up_after_the_last_attempt(pool: MySqlPool) {
    let world = world(&pool).await;
    let (id, _, _) = place(&world, "pickup", Some(&unique_address("abandon"))).await;
    let down = unreachable_mailer();
    for attempt in 1..MAX_ATTEMPTS {
        let report = notify::send_pending(&pool, &down, 50).await.unwrap();
        assert_eq!(report.retried, 1, "attempt {attempt}");
        make_due(&pool).await;
    }
    let report = notify::send_pending(&pool, &down, 50).await.unwrap();
    assert_eq!(
        report,
        SendReport {
            sent: 0,
            failed: 1,
            retried: 0
        }
    );
    let [(_, status, attempts, _)] = &rows(&pool, id).await[..] else {
        panic!("one notification expected");
    };
    assert_eq!((status.as_str(), *attempts), ("failed", MAX_ATTEMPTS));
    make_due(&pool).await;
    assert_eq!(
        notify::send_pending(&pool, &down, 50).await.unwrap(),
        SendReport::default()
    );
}

#[sqlx::test(migrator = "ocpizza::platform::db::MIGRATOR")]
async fn an_order_without_an_email_address_records_nothing(pool: MySqlPool) {
    let world = world(&pool).await;
    let (id, _, token) = place(&world, "pickup", None).await;
    advance(&pool, id, Preparing).await.unwrap();
    advance(&pool, id, Ready).await.unwrap();
    assert!(rows(&pool, id).await.is_empty());
    let order = order_json(&world, id, &token).await;
    assert_eq!(order["order"]["notifications"], json!([]));
    assert_eq!(
        notify::send_pending(&pool, &unreachable_mailer(), 50)
            .await
            .unwrap(),
        SendReport::default()
    );
}

/// Every log line this test's thread writes, at every level, kept in memory.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Catches this thread's logs until the guard is dropped (`#[sqlx::test]`
    /// runs each test on a current-thread runtime, so the sender's and the
    /// handlers' lines are this thread's).
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || logs.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The link of each e-mail leads to the order's tracker: `<SITE_URL>track.html`
/// with the order's id and token, which the orders function answers with this
/// order (and a wrong token with a 404). The token is in the e-mails only:
/// neither in the stored notifications nor in any log line.
#[sqlx::test(migrator = "ocpizza::platform::db::MIGRATOR")]
async fn every_email_links_to_the_orders_tracker(pool: MySqlPool) {
    let logs = Logs::default();
    let _capture = logs.capture();
    let world = world(&pool).await;
    let address = unique_address("suivi");
    let (id, number, token) = place(&world, "pickup", Some(&address)).await;
    advance(&pool, id, Preparing).await.unwrap();
    // A first pass that fails (its error is logged), then the sends.
    let report = notify::send_pending(&pool, &unreachable_mailer(), 50)
        .await
        .unwrap();
    assert_eq!(report.retried, 2);
    make_due(&pool).await;
    let report = notify::send_pending(&pool, &world.mailer, 50)
        .await
        .unwrap();
    assert_eq!(report.sent, 2);

    let site = testing::config().site_url;
    let received = emails_to(&address);
    assert_eq!(received.len(), 2, "{received:?}");
    for email in &received {
        let link = tracker_link(email);
        let rest = link
            .strip_prefix(site.as_str())
            .unwrap_or_else(|| panic!("{link} is not under SITE_URL {site}"));
        let (page, query) = rest.split_once('?').expect("a query string");
        assert_eq!(page, "track.html", "{link}");
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {name} in {link}"))
        };
        assert_eq!(param("order"), id.0.to_string());
        assert_eq!(param("token"), token);

        // What the tracker asks the orders function, from the link alone.
        let from_link = |token: &str| {
            let token: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
            http::Request::builder()
                .uri(format!("/orders/{}?token={token}", param("order")))
                .body(Body::Empty)
                .unwrap()
        };
        let response = ::orders::handle(&world.orders, from_link(&param("token"))).await;
        assert_eq!(response.status(), StatusCode::OK);
        let order: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(order["order"]["number"], number.as_str());
        assert_eq!(order["order"]["id"], id.0);

        let mut wrong = param("token");
        wrong.replace_range(..1, if wrong.starts_with('A') { "B" } else { "A" });
        for bad in [wrong.as_str(), "", "not-the-token"] {
            let response = ::orders::handle(&world.orders, from_link(bad)).await;
            assert!(
                matches!(
                    response.status(),
                    StatusCode::NOT_FOUND | StatusCode::FORBIDDEN
                ),
                "{bad}: {}",
                response.status()
            );
        }
    }

    // Stored without it: the token lives in the order only.
    let stored = scalar(
        &pool,
        &format!(
            "SELECT COUNT(*) FROM notifications WHERE order_id = {} AND body LIKE '%track.html%'",
            id.0
        ),
    )
    .await;
    assert_eq!(stored, 0);
    let logged = logs.text();
    assert!(
        logged.contains("e-mail not sent"),
        "the capture sees the sender's lines: {logged}"
    );
    assert!(!logged.contains(&token), "the token reached a log line");
}
