//! What each function is asked, cold and warm: the events AWS would send it
//! (function URL requests in payload format 2.0, SQS batches, schedules, a
//! manual invoke), each one that reaches the database where the function has
//! one, so the first answer includes connecting to it.
//!
//! The fixtures come from the benchmark database (demo data): staff tokens
//! signed with the functions' `SECRET_KEY`, and orders that `checkout` placed
//! when it was measured first.

use chrono::Utc;
use ocpizza::platform::ids::{OrderId, PizzeriaId};
use ocpizza::platform::queue::{Envelope, Event};
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::sync::atomic::{AtomicU32, Ordering};

/// Every function, in the order they are measured: `checkout` first, since
/// `orders`, `kitchen` and `delivery` are asked about the orders it placed.
pub const FUNCTIONS: [&str; 15] = [
    "storefront",
    "menu",
    "geocode",
    "checkout",
    "orders",
    "stripe-webhook",
    "kitchen",
    "delivery",
    "accounts",
    "backoffice",
    "photos",
    "outbox-relay",
    "expiry-sweep",
    "notifier",
    "migrate",
];

/// What a good answer looks like.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// A function URL response with this status.
    Status(u16),
    /// An `SqsBatchResponse` with no failed message.
    NoBatchFailure,
    /// Any response (a schedule's or a manual invoke's report), not an error.
    Response,
}

impl Expect {
    pub fn check(self, answer: &Value) -> Result<(), String> {
        match self {
            Expect::Status(status) => match answer.get("statusCode").and_then(Value::as_u64) {
                Some(got) if got == u64::from(status) => Ok(()),
                _ => Err(format!("expected status {status}, got {}", brief(answer))),
            },
            Expect::NoBatchFailure => {
                match answer.get("batchItemFailures").and_then(Value::as_array) {
                    Some(failures) if failures.is_empty() => Ok(()),
                    _ => Err(format!(
                        "expected no batch item failure, got {}",
                        brief(answer)
                    )),
                }
            }
            Expect::Response => Ok(()),
        }
    }
}

fn brief(answer: &Value) -> String {
    let text = answer.to_string();
    match text.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// An event for the `seq`-th invocation of a function in this run (the cold
/// starts are `0..runs`, the warm invocations follow), so keys and event ids
/// never repeat.
pub type MakeEvent = Box<dyn Fn(usize) -> Value>;

/// One function's events: `cold` for the first invocation of each process,
/// `warm` for the invocations that follow the last one.
pub struct Plan {
    /// The first invocation, for the report.
    pub cold_label: String,
    /// The warm invocations, for the report (empty: the same as cold).
    pub warm_label: String,
    pub cold: MakeEvent,
    pub warm: MakeEvent,
    pub cold_expect: Expect,
    pub warm_expect: Expect,
}

impl Plan {
    fn same(label: &str, event: impl Fn(usize) -> Value + Clone + 'static, expect: Expect) -> Plan {
        Plan {
            cold_label: label.to_owned(),
            warm_label: String::new(),
            cold: Box::new(event.clone()),
            warm: Box::new(event),
            cold_expect: expect,
            warm_expect: expect,
        }
    }
}

/// What the plans are made from: the benchmark database and the secrets the
/// functions share.
pub struct Fixtures {
    pub pool: MySqlPool,
    pub secret_key: String,
    pub webhook_secret: String,
    /// Distinguishes this run's idempotency keys and event ids from earlier runs'.
    pub stamp: String,
}

const PIZZAIOLO: &str = "pizzaiolo.1@ocpizza.test";
const COURIER: &str = "courier.1@ocpizza.test";
const MANAGER: &str = "manager.1@ocpizza.test";
const DEMO_PASSWORD: &str = "ocpizza-demo";

/// Each request comes from a client address of its own (in 198.18.0.0/15, the
/// range set aside for benchmarks): a thousand warm invocations are a thousand
/// visitors, not one, so the limits per client address
/// (`ocpizza::platform::rate_limit`) stay at their production values and are
/// not what is measured.
fn next_client_address() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(
        "198.{}.{}.{}",
        18 + (n >> 16) % 2,
        (n >> 8) & 0xff,
        n & 0xff
    )
}

/// A function URL request (payload format 2.0), as Lambda hands it over.
pub fn http_event(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Value {
    let mut all = serde_json::Map::new();
    all.insert("accept".into(), "application/json".into());
    all.insert(
        "host".into(),
        "abcdefghij.lambda-url.eu-west-3.on.aws".into(),
    );
    all.insert("x-forwarded-proto".into(), "https".into());
    for (name, value) in headers {
        all.insert((*name).into(), (*value).into());
    }
    let now = Utc::now();
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefghij",
            "domainName": "abcdefghij.lambda-url.eu-west-3.on.aws",
            "domainPrefix": "abcdefghij",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": next_client_address(),
                "userAgent": "coldstart"
            },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
            "timeEpoch": now.timestamp_millis()
        },
        "isBase64Encoded": false
    });
    if let Some(body) = body {
        event["body"] = body.into();
    }
    event
}

/// An SQS batch of one message, as the event source mapping hands it over.
pub fn sqs_event(queue: &str, envelope: &Envelope) -> Value {
    let now = Utc::now().timestamp_millis().to_string();
    json!({
        "Records": [{
            "messageId": uuid::Uuid::new_v4().to_string(),
            "receiptHandle": "AQEBcoldstart==",
            "body": envelope.to_json(),
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": now,
                "SenderId": "AROACOLDSTART",
                "ApproximateFirstReceiveTimestamp": now
            },
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": format!("arn:aws:sqs:eu-west-3:123456789012:{queue}"),
            "awsRegion": "eu-west-3"
        }]
    })
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Placed orders of pizzeria 1 without a kitchen ticket, newest first.
async fn placed_orders(pool: &MySqlPool, count: usize) -> Result<Vec<(i64, String)>, String> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT o.id, o.tracking_token FROM orders o \
         LEFT JOIN kitchen_tickets t ON t.order_id = o.id \
         WHERE o.pizzeria_id = 1 AND o.status = 'placed' AND o.fulfilment = 'delivery' \
           AND t.order_id IS NULL \
         ORDER BY o.id DESC LIMIT ?",
    )
    .bind(count as i64)
    .fetch_all(pool)
    .await
    .map_err(|e| format!("reading placed orders: {e}"))?;
    if rows.len() < count {
        return Err(format!(
            "{count} placed delivery orders of pizzeria 1 are needed (checkout places them when measured first); found {}",
            rows.len()
        ));
    }
    Ok(rows)
}

/// The events of `function`, measured with `runs` cold starts.
pub async fn plan(function: &str, fx: &Fixtures, runs: usize) -> Result<Plan, String> {
    let stamp = fx.stamp.clone();
    let token = |email: &'static str| {
        let pool = fx.pool.clone();
        let secret = fx.secret_key.clone();
        async move {
            let now = chrono::Utc::now();
            match ocpizza::identity::auth::token_for_email(&pool, secret.as_bytes(), email, now)
                .await
            {
                Ok((token, _)) => token,
                Err(e) => panic!("token for {email}: {e}"),
            }
        }
    };
    Ok(match function {
        // The web pages: no database.
        "storefront" => Plan::same(
            "`GET /` (the home page; no database)",
            |_| http_event("GET", "/", "", &[("accept", "text/html")], None),
            Expect::Status(200),
        ),
        "menu" => Plan::same(
            "`GET /pizzerias/1/menu`",
            |_| http_event("GET", "/pizzerias/1/menu", "", &[], None),
            Expect::Status(200),
        ),
        "geocode" => Plan::same(
            "`GET /geocode?address=` a demo address (no Google key: the demo addresses)",
            |_| {
                let query: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("address", "60 rue de la République, 69002 Lyon")
                    .finish();
                http_event("GET", "/geocode", &query, &[], None)
            },
            Expect::Status(200),
        ),
        // A web order of two pizzas and a drink delivered to a demo address,
        // paid in cash (a card order adds Stripe's answer time, not ours),
        // a new Idempotency-Key and a new customer (phone) each time, as the
        // limit per phone allows a guest a few orders an hour;
        // `order.placed` is sent to the queue after the commit, as in production.
        "checkout" => Plan::same(
            "`POST /orders`: cash delivery of 3 items to a demo address, new `Idempotency-Key`",
            move |n| {
                let key = format!("coldstart-{stamp}-{n}");
                let phone = format!("+33 6 {:08}", 10_000_000 + n);
                let body = json!({
                    "pizzeria_id": 1, "fulfilment": "delivery",
                    "address": {"line1": "25 rue Victor Hugo", "postcode": "69002", "city": "Lyon"},
                    "payment_method": "cash",
                    "lines": [{"product_id": 1, "quantity": 2}, {"product_id": 21, "quantity": 1}],
                    "contact": {"name": "Camille Martin", "phone": phone}
                })
                .to_string();
                http_event(
                    "POST",
                    "/orders",
                    "",
                    &[("content-type", "application/json"), ("idempotency-key", &key)],
                    Some(&body),
                )
            },
            Expect::Status(201),
        ),
        // The tracking page's poll, by a guest holding the tracking token.
        "orders" => {
            let (id, tracking) = placed_orders(&fx.pool, 1).await?.remove(0);
            Plan::same(
                "`GET /orders/{id}?token=` (the tracking page's poll)",
                move |_| {
                    let query = format!("token={tracking}");
                    http_event("GET", &format!("/orders/{id}"), &query, &[], None)
                },
                Expect::Status(200),
            )
        }
        // Signed with the endpoint secret, a new event id each time, for a
        // PaymentIntent no order knows: signature, event recorded once,
        // PaymentIntent looked up, commit → 200.
        "stripe-webhook" => {
            let secret = fx.webhook_secret.clone();
            Plan::same(
                "`POST /` signed `payment_intent.succeeded`, new event id, unknown PaymentIntent",
                move |n| {
                    let payload = json!({
                        "id": format!("evt_coldstart_{stamp}_{n}"), "object": "event",
                        "api_version": "2024-06-20", "created": Utc::now().timestamp(),
                        "type": "payment_intent.succeeded", "livemode": false,
                        "data": {"object": {
                            "id": format!("pi_coldstart_{stamp}_{n}"), "object": "payment_intent",
                            "amount": 2050, "amount_received": 2050, "currency": "eur",
                            "status": "succeeded", "metadata": {}, "last_payment_error": null
                        }}
                    })
                    .to_string();
                    let signature = ocpizza::payment::sign(
                        payload.as_bytes(),
                        &secret,
                        Utc::now().timestamp(),
                    );
                    http_event(
                        "POST",
                        "/",
                        "",
                        &[("content-type", "application/json"), ("stripe-signature", &signature)],
                        Some(&payload),
                    )
                },
                Expect::Status(200),
            )
        }
        // Cold: what starts a kitchen container in production, `order.placed`
        // from the queue (a new ticket for another placed order each run).
        // Warm: the kitchen display's poll.
        "kitchen" => {
            let orders = placed_orders(&fx.pool, runs).await?;
            let pizzaiolo = token(PIZZAIOLO).await;
            Plan {
                cold_label: "SQS `order.placed` (a new ticket)".into(),
                warm_label: "`GET /pizzerias/1/tickets` as the pizzaiolo (the display's poll)"
                    .into(),
                cold: Box::new(move |seq| {
                    let (id, _) = orders[seq % orders.len()];
                    let event = Event::OrderPlaced {
                        pizzeria_id: PizzeriaId(1),
                    };
                    sqs_event("ocpizza-kitchen", &Envelope::new(OrderId(id), event))
                }),
                warm: Box::new(move |_| {
                    let auth = bearer(&pizzaiolo);
                    http_event(
                        "GET",
                        "/pizzerias/1/tickets",
                        "",
                        &[("authorization", &auth)],
                        None,
                    )
                }),
                cold_expect: Expect::NoBatchFailure,
                warm_expect: Expect::Status(200),
            }
        }
        // Cold: `order.ready` from the queue for a ready delivery order (a
        // delivery created and given to a courier). The orders are set ready
        // in SQL here: the kitchen's path to `ready` is not what is measured.
        // Warm: the courier's list.
        "delivery" => {
            let orders = placed_orders(&fx.pool, runs).await?;
            for (id, _) in &orders {
                sqlx::query("UPDATE orders SET status = 'ready' WHERE id = ?")
                    .bind(id)
                    .execute(&fx.pool)
                    .await
                    .map_err(|e| format!("setting order {id} ready: {e}"))?;
            }
            let courier = token(COURIER).await;
            Plan {
                cold_label: "SQS `order.ready` (a delivery, a courier assigned)".into(),
                warm_label: "`GET /deliveries` as the courier".into(),
                cold: Box::new(move |seq| {
                    let (id, _) = orders[seq % orders.len()];
                    let event = Event::OrderReady {
                        pizzeria_id: PizzeriaId(1),
                    };
                    sqs_event("ocpizza-delivery", &Envelope::new(OrderId(id), event))
                }),
                warm: Box::new(move |_| {
                    let auth = bearer(&courier);
                    http_event("GET", "/deliveries", "", &[("authorization", &auth)], None)
                }),
                cold_expect: Expect::NoBatchFailure,
                warm_expect: Expect::Status(200),
            }
        }
        // Sign-in hashes the password (argon2id): CPU-bound by design.
        "accounts" => Plan::same(
            "`POST /sessions` as the pizzaiolo (argon2id)",
            |_| {
                let body = json!({"email": PIZZAIOLO, "password": DEMO_PASSWORD}).to_string();
                http_event(
                    "POST",
                    "/sessions",
                    "",
                    &[("content-type", "application/json")],
                    Some(&body),
                )
            },
            Expect::Status(200),
        ),
        "backoffice" => {
            let manager = token(MANAGER).await;
            Plan::same(
                "`GET /pizzerias/1/stock` as the manager",
                move |_| {
                    let auth = bearer(&manager);
                    http_event(
                        "GET",
                        "/pizzerias/1/stock",
                        "",
                        &[("authorization", &auth)],
                        None,
                    )
                },
                Expect::Status(200),
            )
        }
        // What every manager screen asks; an upload's resizing is measured
        // by the photos tests, not here (it would need the bucket).
        "photos" => {
            let manager = token(MANAGER).await;
            Plan::same(
                "`GET /photos` as the manager",
                move |_| {
                    let auth = bearer(&manager);
                    http_event("GET", "/photos", "", &[("authorization", &auth)], None)
                },
                Expect::Status(200),
            )
        }
        // EventBridge Scheduler's default input; each run reads the database
        // (and finds little to do on a quiet benchmark database).
        "outbox-relay" | "expiry-sweep" | "notifier" => {
            Plan::same("the schedule's `{}`", |_| json!({}), Expect::Response)
        }
        // `aws lambda invoke` by hand: checks the applied migrations, applies none.
        "migrate" => Plan::same(
            "a manual invoke `{}` (nothing left to apply)",
            |_| json!({}),
            Expect::Response,
        ),
        other => {
            return Err(format!(
                "no events for a function named {other}: add them to infra/local/coldstart/src/scenarios.rs"
            ))
        }
    })
}
