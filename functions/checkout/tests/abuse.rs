//! What a hostile guest tries at checkout: a saved answer replayed by
//! someone else, orders by the dozen to hold stock, an account slipped into
//! a web order. Real MariaDB, through the handler, with a client address as
//! a function URL gives it.

use http::StatusCode;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use testkit::{self as testing, from_client, json_of, request, scalar, token_for};

async fn state(pool: &MySqlPool) -> checkout::State {
    ocpizza::samples::load_demo(pool).await.expect("demo data");
    testing::open_all_day_with_plenty_of_stock(pool).await;
    let config = testing::config();
    checkout::State::new(pool.clone(), &config, testing::fresh_queues().await).unwrap()
}

fn cash_order(phone: &str) -> Value {
    json!({
        "pizzeria_id": 1, "fulfilment": "pickup", "payment_method": "cash",
        "lines": [{"product_id": 1, "quantity": 1}],
        "contact": {"name": "Noé Garnier", "phone": phone}
    })
}

async fn post(
    state: &checkout::State,
    body: &Value,
    key: &str,
    bearer: Option<&str>,
    from: Option<&str>,
) -> ocpizza::platform::http::Response {
    let mut req = request("POST", "/orders", Some(body.clone()), bearer);
    req.headers_mut()
        .insert("idempotency-key", key.parse().unwrap());
    if let Some(ip) = from {
        req = from_client(req, ip);
    }
    checkout::handle(state, req).await
}

/// The saved answer (tracking token, payment secret) goes back to whoever
/// made the order only.
#[sqlx::test(migrations = "../../migrations")]
async fn a_replay_answers_only_the_caller_who_ordered(pool: MySqlPool) {
    let state = state(&pool).await;
    let secret = testing::config().secret_key.expose_secret().to_owned();
    let client = token_for(&pool, &secret, "client.1@ocpizza.test").await;
    let other = token_for(&pool, &secret, "client.2@ocpizza.test").await;
    let body = cash_order("06 11 22 33 44");
    let key = uuid::Uuid::new_v4().to_string();

    let first = post(&state, &body, &key, Some(&client), None).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let token = json_of(&first)["order"]["tracking_token"].clone();
    let again = post(&state, &body, &key, Some(&client), None).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(json_of(&again)["order"]["tracking_token"], token);

    for stranger in [Some(other.as_str()), None] {
        let stolen = post(&state, &body, &key, stranger, None).await;
        assert_eq!(stolen.status(), StatusCode::CONFLICT);
        testing::assert_problem(&stolen);
        let text = String::from_utf8_lossy(stolen.body().as_ref()).into_owned();
        assert!(!text.contains(token.as_str().unwrap()), "{text}");
    }
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM orders").await, 1);
}

/// A guest's orders hold stock: ten per phone number an hour, thirty per
/// client address; the next is told when to come back. A retry of the same
/// order (same key) does not count.
#[sqlx::test(migrations = "../../migrations")]
async fn guest_orders_are_limited_per_phone_and_per_address(pool: MySqlPool) {
    let state = state(&pool).await;
    let limit = ocpizza::platform::rate_limit::GUEST_ORDERS_PER_PHONE.max as usize;
    let mut answers = Vec::new();
    for i in 0..limit + 1 {
        // The same number, written differently each time.
        let phone = if i % 2 == 0 {
            "06 77 88 99 00"
        } else {
            "+33677889900"
        };
        let key = uuid::Uuid::new_v4().to_string();
        answers.push(post(&state, &cash_order(phone), &key, None, Some("198.51.100.7")).await);
        if i == 0 {
            // Retried twice with its key: still one order, still one count.
            for _ in 0..2 {
                let again =
                    post(&state, &cash_order(phone), &key, None, Some("198.51.100.7")).await;
                assert_eq!(again.status(), StatusCode::CREATED);
            }
        }
    }
    let last = answers.pop().unwrap();
    assert!(answers.iter().all(|a| a.status() == StatusCode::CREATED));
    assert_eq!(last.status(), StatusCode::TOO_MANY_REQUESTS);
    testing::assert_problem(&last);
    assert!(last.headers().contains_key("retry-after"));
    assert!(json_of(&last)["detail"]
        .as_str()
        .unwrap()
        .starts_with("Trop de commandes"));
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM orders").await,
        limit as i64
    );

    // Many numbers from one address: the address's limit.
    let per_address = ocpizza::platform::rate_limit::GUEST_ORDERS_PER_ADDRESS.max as usize;
    let mut refused = 0;
    for i in 0..per_address + 5 {
        let phone = format!("06 00 00 {:02} {:02}", i / 100, i % 100);
        let key = uuid::Uuid::new_v4().to_string();
        let answer = post(&state, &cash_order(&phone), &key, None, Some("203.0.113.9")).await;
        if answer.status() == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    assert_eq!(refused, 5);
    // Signed-in customers and staff are known: not limited here.
    let secret = testing::config().secret_key.expose_secret().to_owned();
    let client = token_for(&pool, &secret, "client.1@ocpizza.test").await;
    let key = uuid::Uuid::new_v4().to_string();
    let mine = post(
        &state,
        &cash_order("06 77 88 99 00"),
        &key,
        Some(&client),
        Some("198.51.100.7"),
    )
    .await;
    assert_eq!(mine.status(), StatusCode::CREATED);
}

/// The limit per phone number counts the number, not the text: written in
/// five ways it is one number (one bucket, keyed by its E.164 form), and
/// the next order is refused; another number from the same address is not.
#[sqlx::test(migrations = "../../migrations")]
async fn the_limit_per_phone_counts_one_number_however_typed(pool: MySqlPool) {
    let state = state(&pool).await;
    let limit = ocpizza::platform::rate_limit::GUEST_ORDERS_PER_PHONE;
    let typings = [
        "06 12 34 56 78",
        "+33 6 12 34 56 78",
        "0612345678",
        "0033 6 12 34 56 78",
        "06.12.34.56.78",
    ];
    let mut from = 0;
    let mut order = |phone: &str| {
        from += 1;
        // A new client address each time: only the limit per phone applies.
        let address = format!("198.51.100.{from}");
        let body = cash_order(phone);
        let state = &state;
        async move {
            let key = uuid::Uuid::new_v4().to_string();
            post(state, &body, &key, None, Some(&address)).await
        }
    };
    for i in 0..limit.max as usize {
        let answer = order(typings[i % typings.len()]).await;
        assert_eq!(answer.status(), StatusCode::CREATED, "{}", json_of(&answer));
        assert_eq!(
            json_of(&answer)["order"]["contact"]["phone"],
            "+33612345678"
        );
    }
    for typed in typings {
        let refused = order(typed).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "{typed}");
        testing::assert_problem(&refused);
    }
    let other = order("06 12 34 56 79").await;
    assert_eq!(other.status(), StatusCode::CREATED, "{}", json_of(&other));

    // One bucket for the number, under its E.164 form (the bucket is the
    // SHA-256 of the limit's name, a NUL and the key).
    let bucket = |key: &str| {
        use sha2::Digest;
        sha2::Sha256::digest(format!("{}\u{0}{key}", limit.name).as_bytes()).to_vec()
    };
    let hits: Option<(i64,)> = sqlx::query_as("SELECT hits FROM rate_limits WHERE bucket = ?")
        .bind(bucket("+33612345678"))
        .fetch_optional(&pool)
        .await
        .unwrap();
    assert_eq!(hits, Some((limit.max as i64 + typings.len() as i64,)));
    for typed in typings {
        let by_text: Option<(i64,)> =
            sqlx::query_as("SELECT hits FROM rate_limits WHERE bucket = ?")
                .bind(bucket(typed))
                .fetch_optional(&pool)
                .await
                .unwrap();
        assert_eq!(by_text, None, "{typed}");
    }
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM orders").await,
        limit.max as i64 + 1
    );
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM orders WHERE contact_phone = '+33612345678'"
        )
        .await,
        limit.max as i64
    );
}

/// Fifteen orders from one phone number sent at once, each from its own
/// address and with its own key: ten are taken, five are refused with the
/// French message, and only the ten hold stock.
#[sqlx::test(migrations = "../../migrations")]
async fn a_guest_cannot_slip_past_the_limit_by_ordering_all_at_once(pool: MySqlPool) {
    let state = state(&pool).await;
    let limit = ocpizza::platform::rate_limit::GUEST_ORDERS_PER_PHONE.max as usize;
    let mut crowd = tokio::task::JoinSet::new();
    for i in 0..limit + 5 {
        let state = state.clone();
        crowd.spawn(async move {
            let key = uuid::Uuid::new_v4().to_string();
            let address = format!("198.51.100.{}", i + 1);
            post(
                &state,
                &cash_order("06 55 44 33 22"),
                &key,
                None,
                Some(&address),
            )
            .await
        });
    }
    let mut created = 0;
    let mut refused = 0;
    while let Some(answer) = crowd.join_next().await {
        let answer = answer.unwrap();
        match answer.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                testing::assert_problem(&answer);
                assert!(json_of(&answer)["detail"]
                    .as_str()
                    .unwrap()
                    .starts_with("Trop de commandes"));
                refused += 1;
            }
            other => panic!("{other}: {}", json_of(&answer)),
        }
    }
    assert_eq!((created, refused), (limit, 5));
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM orders").await,
        limit as i64
    );
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(DISTINCT order_id) FROM stock_movements WHERE kind = 'reservation'"
        )
        .await,
        limit as i64
    );
}

/// A web order cannot claim an account; staff pick one that exists.
#[sqlx::test(migrations = "../../migrations")]
async fn only_staff_attach_an_order_to_an_account(pool: MySqlPool) {
    let state = state(&pool).await;
    let secret = testing::config().secret_key.expose_secret().to_owned();
    let cashier = token_for(&pool, &secret, "cashier.1@ocpizza.test").await;
    let mut body = cash_order("06 11 22 33 44");
    body["customer_id"] = json!(1);
    let web = post(&state, &body, &uuid::Uuid::new_v4().to_string(), None, None).await;
    assert_eq!(web.status(), StatusCode::UNPROCESSABLE_ENTITY);
    testing::assert_problem(&web);
    // Staff naming an account that is not a customer's.
    body["channel"] = json!("phone");
    body["customer_id"] = json!(999_999);
    let unknown = post(
        &state,
        &body,
        &uuid::Uuid::new_v4().to_string(),
        Some(&cashier),
        None,
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (admin,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE role = 'admin' LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    body["customer_id"] = json!(admin);
    let staff_account = post(
        &state,
        &body,
        &uuid::Uuid::new_v4().to_string(),
        Some(&cashier),
        None,
    )
    .await;
    assert_eq!(staff_account.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM orders").await, 0);
}
