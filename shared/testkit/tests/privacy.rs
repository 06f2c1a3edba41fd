//! A customer's data: a copy of everything kept about them, and the
//! deletion of their account, through the accounts function (answers
//! checked against `docs/openapi.json`). Their orders stay for accounting,
//! without their name, phone, e-mail, street, notes or e-mails; what they
//! paid and where (postcode, city) stays. Tried as a curious employee and a
//! careless customer would: a staff account, a wrong password, an order
//! still under way, the old session afterwards.

use chrono::Utc;
use http::StatusCode;
use ocpizza::reporting::audit::Scope;
use serde_json::json;
use sqlx::MySqlPool;
use testkit::{self as testing, scalar, Function::*, World};

/// A sign-in through the accounts function: its status and answer.
async fn sign_in(world: &World, email: &str, password: &str) -> (StatusCode, serde_json::Value) {
    let body = json!({"email": email, "password": password});
    world
        .call(Accounts, "POST", "/sessions", Some(body), None)
        .await
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_customer_downloads_their_data_then_deletes_their_account_and_the_orders_stay_anonymous(
    pool: MySqlPool,
) {
    let world = World::demo(&pool, Utc::now()).await;
    testing::open_all_day_with_plenty_of_stock(&pool).await;
    let email = "sidonie.vasseur@example.fr";
    let account = json!({"email": email, "password": "pizza-du-samedi", "name": "Sidonie Vasseur", "phone": "06 55 44 33 22"});
    let (status, _) = world
        .call(Accounts, "POST", "/accounts", Some(account), None)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, session) = sign_in(&world, email, "pizza-du-samedi").await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let token = session["token"].as_str().unwrap_or_default().to_owned();

    let cart = json!({
        "pizzeria_id": 1, "fulfilment": "delivery", "payment_method": "cash",
        "address": {"line1": "18 Rue Mercière", "postcode": "69002", "city": "Lyon"},
        "delivery_instructions": "Code 1234, 2e étage",
        "lines": [{"product_id": 2, "quantity": 2, "note": "bien cuite"}],
    });
    let (status, placed) = world
        .call(Checkout, "POST", "/orders", Some(cart), Some(&token))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    let id = placed["order"]["id"].as_i64().unwrap_or_default();
    let number = placed["order"]["number"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let total = placed["order"]["total_cents"].clone();

    // The copy holds the account and the order as the customer gave them.
    let response = world
        .send(
            Accounts,
            testing::request("GET", "/me/export", None, Some(&token)),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers().get(http::header::CONTENT_DISPOSITION);
    assert!(disposition.is_some_and(|d| d.to_str().unwrap_or("").starts_with("attachment")));
    let copy = testing::json_of(&response);
    assert_eq!(copy["account"]["email"], email);
    assert_eq!(copy["account"]["phone"], "+33655443322");
    let order = &copy["orders"][0];
    assert_eq!(order["number"], number.as_str());
    assert_eq!(order["address"]["line1"], "18 Rue Mercière");
    assert_eq!(order["delivery_instructions"], "Code 1234, 2e étage");
    assert_eq!(order["lines"][0]["note"], "bien cuite");

    // Not while the order is under way; not with a wrong password; never a
    // staff account through this door.
    let delete = |password: &str| Some(json!({ "password": password }));
    let (status, problem) = world
        .call(
            Accounts,
            "DELETE",
            "/me",
            delete("pizza-du-samedi"),
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["type"], "/problems/orders-underway");
    let (status, _) = world
        .call(
            Orders,
            "POST",
            &format!("/orders/{id}/cancel"),
            Some(json!({"reason": "je me suis trompée"})),
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = world
        .call(
            Accounts,
            "DELETE",
            "/me",
            delete("pas le bon"),
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let chef = world.token("pizzaiolo.1@ocpizza.test").await;
    let (status, _) = world
        .call(
            Accounts,
            "DELETE",
            "/me",
            delete("ocpizza-demo"),
            Some(&chef),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM users WHERE email = 'sidonie.vasseur@example.fr'"
        )
        .await,
        1
    );

    let (status, done) = world
        .call(
            Accounts,
            "DELETE",
            "/me",
            delete("pizza-du-samedi"),
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    // Gone: the session, the sign-in, the personal data.
    let (status, _) = world.call(Accounts, "GET", "/me", None, Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = sign_in(&world, email, "pizza-du-samedi").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let personal = format!(
        "SELECT COUNT(*) FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE o.id = {id} AND \
         (o.contact_name LIKE '%Sidonie%' OR o.contact_phone LIKE '%655443322%' OR o.contact_email IS NOT NULL \
          OR o.address_line1 IS NOT NULL OR o.latitude IS NOT NULL OR o.delivery_instructions IS NOT NULL OR l.note IS NOT NULL)"
    );
    assert_eq!(scalar(&pool, &personal).await, 0);
    for table in ["users", "notifications", "order_status_history"] {
        let found = scalar(&pool, &format!(
            "SELECT COUNT(*) FROM {table} t WHERE CAST(t.{} AS CHAR) LIKE '%Sidonie%' OR CAST(t.{} AS CHAR) LIKE '%sidonie.vasseur%'",
            if table == "users" { "name" } else if table == "notifications" { "body" } else { "by_label" },
            if table == "users" { "email" } else if table == "notifications" { "recipient" } else { "note" },
        )).await;
        assert_eq!(found, 0, "{table} still names her");
    }
    // Nor the answers kept for a retry of her checkout.
    let kept_answers = scalar(
        &pool,
        "SELECT COUNT(*) FROM idempotency_keys WHERE response_body LIKE '%Sidonie%'",
    )
    .await;
    assert_eq!(kept_answers, 0);
    // Kept for the books: the order, its total, where it went.
    let kept = scalar(&pool, &format!(
        "SELECT COUNT(*) FROM orders WHERE id = {id} AND number = '{number}' AND total_cents = {total} \
         AND address_postcode = '69002' AND address_city = 'Lyon' AND status = 'cancelled'"
    )).await;
    assert_eq!(kept, 1);
    assert_eq!(
        scalar(
            &pool,
            &format!("SELECT COUNT(*) FROM order_lines WHERE order_id = {id}")
        )
        .await,
        1
    );
    world.run_consumers().await;
    testing::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_signed_in_person_changes_their_name_and_phone_and_nothing_else(pool: MySqlPool) {
    let world = World::demo(&pool, Utc::now()).await;
    let token = world.token("client.1@ocpizza.test").await;
    let profile = json!({"name": "  Camille Martin-Leroy ", "phone": "06 39 98 00 02"});
    let (status, changed) = world
        .call(Accounts, "PATCH", "/me", Some(profile), Some(&token))
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["user"]["name"], "Camille Martin-Leroy");
    assert_eq!(changed["user"]["phone"], "+33639980002");
    let (_, me) = world.call(Accounts, "GET", "/me", None, Some(&token)).await;
    assert_eq!(me["user"]["name"], "Camille Martin-Leroy");
    // Every problem at once, nothing written; no session, no change; no
    // role or e-mail slipped in.
    let bad = json!({"name": "", "phone": "12"});
    let (status, problem) = world
        .call(Accounts, "PATCH", "/me", Some(bad), Some(&token))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields = testing::field_errors(&problem);
    fields.sort();
    assert_eq!(fields, ["name", "phone"]);
    let sneaky = json!({"name": "Camille", "role": "admin"});
    let (status, _) = world
        .call(Accounts, "PATCH", "/me", Some(sneaky), Some(&token))
        .await;
    assert!(status.is_client_error());
    let (status, _) = world
        .call(Accounts, "PATCH", "/me", Some(json!({"name": "X"})), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let role = scalar(&pool, "SELECT COUNT(*) FROM users WHERE email = 'client.1@ocpizza.test' AND role = 'customer' AND name = 'Camille Martin-Leroy'").await;
    assert_eq!(role, 1);
}
