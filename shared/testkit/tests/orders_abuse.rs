//! The doors a curious employee or a card tester would try on the orders
//! function, through the real handlers on MariaDB and localstripe.

mod common;

use common::*;
use http::StatusCode;
use serde_json::json;
use sqlx::MySqlPool;
use testkit::{self as testing, scalar};

/// Pizzaiolos and couriers read their pizzeria's orders but never change
/// them; cashiers and managers may (a customer calling in).
#[sqlx::test(migrations = "../../migrations")]
async fn only_the_customer_and_counter_staff_change_an_order(pool: MySqlPool) {
    let world = world(&pool).await;
    let (id, _, answer) = card_order(&world, "pickup", 2).await;
    let total = answer["order"]["total_cents"].as_i64().unwrap();
    let uri = format!("/orders/{id}");
    let lines = json!({"lines": [{"product_id": 1, "quantity": 5}]});
    for who in ["pizzaiolo.1@ocpizza.test", "courier.1@ocpizza.test"] {
        let token = token_of(&pool, who).await;
        let (status, body) = call(&world.orders, "GET", &uri, None, Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{who} reads: {body}");
        let (status, body) = call(
            &world.orders,
            "PATCH",
            &uri,
            Some(lines.clone()),
            Some(&token),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who} changes: {body}");
        let (status, body) = call(
            &world.orders,
            "POST",
            &format!("{uri}/cancel"),
            None,
            Some(&token),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who} cancels: {body}");
    }
    assert_eq!(
        scalar(
            &pool,
            &format!("SELECT total_cents FROM orders WHERE id = {id}")
        )
        .await,
        total
    );
    let cashier = token_of(&pool, "cashier.1@ocpizza.test").await;
    let (status, body) = call(&world.orders, "PATCH", &uri, Some(lines), Some(&cashier)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Another pizzeria's cashier does not even see it.
    let elsewhere = token_of(&pool, "cashier.2@ocpizza.test").await;
    let (status, _) = call(&world.orders, "GET", &uri, None, Some(&elsewhere)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A courier cannot deliver (another courier's) order through `/status`,
/// past the delivery routes' checks.
#[sqlx::test(migrations = "../../migrations")]
async fn status_takes_no_delivery_steps(pool: MySqlPool) {
    let world = world(&pool).await;
    let (id, token, _) = card_order(&world, "delivery", 2).await;
    pay(&world.orders, id, &token).await;
    sqlx::query("UPDATE orders SET status = 'out_for_delivery' WHERE id = ?")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    for who in [
        "courier.1@ocpizza.test",
        "manager.1@ocpizza.test",
        "admin@ocpizza.test",
    ] {
        let staff = token_of(&pool, who).await;
        for to in ["delivered", "out_for_delivery"] {
            let response = orders::handle(
                &world.orders,
                request(
                    "POST",
                    &format!("/orders/{id}/status"),
                    Some(json!({ "status": to })),
                    Some(&staff),
                ),
            )
            .await;
            assert_eq!(
                response.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{who} → {to}"
            );
            testing::assert_problem(&response);
        }
    }
    let (status,): (String,) = sqlx::query_as("SELECT status FROM orders WHERE id = ?")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "out_for_delivery");
}

/// Card testing: 30 declined cards sent at once on one order reach Stripe
/// three times; the rest are told when to come back.
#[sqlx::test(migrations = "../../migrations")]
async fn card_attempts_per_order_are_limited(pool: MySqlPool) {
    let world = world(&pool).await;
    let (id, token, _) = card_order(&world, "pickup", 1).await;
    let config = testing::config();
    let mut cards = Vec::new();
    for _ in 0..30 {
        cards.push(
            testkit::stripe::card_token(&config.stripe_api_base, STRIPE_KEY, "4000000000000002")
                .await
                .unwrap(),
        );
    }
    let attempts = cards.iter().map(|card| {
        orders::handle(
            &world.orders,
            request(
                "POST",
                &format!("/orders/{id}/payment/card?token={token}"),
                Some(json!({ "card_token": card })),
                None,
            ),
        )
    });
    let answers = futures_util::future::join_all(attempts).await;
    let declined = answers
        .iter()
        .filter(|r| r.status() == StatusCode::PAYMENT_REQUIRED)
        .count();
    let limited: Vec<_> = answers
        .iter()
        .filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(
        declined,
        3,
        "{:?}",
        answers.iter().map(|r| r.status()).collect::<Vec<_>>()
    );
    assert_eq!(limited.len(), 27);
    for answer in &limited {
        testing::assert_problem(answer);
        let retry: i64 = answer.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&retry), "{retry}");
    }
    // The order still waits for a good card (once the window has passed).
    sqlx::query("UPDATE rate_limits SET window_start = UTC_TIMESTAMP(6) - INTERVAL 1 HOUR")
        .execute(&pool)
        .await
        .unwrap();
    let (status, body) = pay(&world.orders, id, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["order"]["status"], "placed");
}
