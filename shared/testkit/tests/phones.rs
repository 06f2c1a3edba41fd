//! One phone number however it is typed: checkout stores it in E.164 and
//! answers it so, and the cashier finds the caller's account
//! (`GET /customers?phone=`) and orders (`GET /orders?phone=`) typed any
//! usual way. Real MariaDB, through the handlers.

mod common;

use common::{call, json_of, request, token_of, world, World};
use http::StatusCode;
use ocpizza::identity::accounts::{self, NewUser};
use ocpizza::identity::role::Role;
use serde_json::{json, Value};
use testkit::{self as testing, scalar};

const TYPED: &str = "06 45 67 89 01";
const E164: &str = "+33645678901";
/// The same number, as a caller gives it to the cashier.
const LOOKUPS: [&str; 4] = [
    "0645678901",
    "+33645678901",
    "06.45.67.89.01",
    "0033 6 45 67 89 01",
];

/// As a page puts it in a query (`encodeURIComponent`).
fn encoded(phone: &str) -> String {
    phone.replace('+', "%2B").replace(' ', "%20")
}

async fn order(world: &World, body: Value, bearer: Option<&str>) -> (StatusCode, Value) {
    let mut req = request("POST", "/orders", Some(body), bearer);
    req.headers_mut().insert(
        "idempotency-key",
        uuid::Uuid::new_v4().to_string().parse().unwrap(),
    );
    let response = checkout::handle(&world.checkout, req).await;
    (response.status(), json_of(&response))
}

async fn customers(world: &World, phone: &str, bearer: &str) -> (StatusCode, Value) {
    let uri = format!("/customers?phone={}", encoded(phone));
    let response =
        checkout::handle(&world.checkout, request("GET", &uri, None, Some(bearer))).await;
    (response.status(), json_of(&response))
}

fn pickup(phone: &str) -> Value {
    json!({
        "pizzeria_id": 1, "fulfilment": "pickup", "payment_method": "cash",
        "lines": [{"product_id": 1, "quantity": 1}],
        "contact": {"name": "Nora Petit", "phone": phone}
    })
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_number_typed_any_usual_way_is_one_number(pool: sqlx::MySqlPool) {
    let mut world = world(&pool).await;
    // One secret for both functions' tokens.
    world.checkout.secret_key = common::SECRET.to_owned().into();
    let cashier = token_of(&pool, "cashier.1@ocpizza.test").await;

    // Nora signed up with her number as she writes it.
    let nora = accounts::create(
        &pool,
        NewUser::parse(
            "nora.petit@example.fr",
            "pizza-quattro-formaggi",
            "Nora Petit",
            Some(TYPED),
            Role::Customer,
            None,
        )
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(nora.phone.as_deref(), Some(E164));

    // A web order as a guest: stored and answered in E.164.
    let (status, guest) = order(&world, pickup(TYPED), None).await;
    assert_eq!(status, StatusCode::CREATED, "{guest}");
    assert_eq!(guest["order"]["contact"]["phone"], E164);
    let guest_id = guest["order"]["id"].as_i64().unwrap();
    let stored: (String,) = sqlx::query_as("SELECT contact_phone FROM orders WHERE id = ?")
        .bind(guest_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored.0, E164);
    let (status, tracked) = call(
        &world.orders,
        "GET",
        &format!(
            "/orders/{guest_id}?token={}",
            guest["order"]["tracking_token"].as_str().unwrap()
        ),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tracked}");
    assert_eq!(tracked["order"]["contact"]["phone"], E164);

    // The cashier finds her account however the number is given…
    for typed in LOOKUPS {
        let (status, found) = customers(&world, typed, &cashier).await;
        assert_eq!(status, StatusCode::OK, "{typed}: {found}");
        let ids: Vec<i64> = found["customers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [nora.id.0], "{typed}");
        assert_eq!(found["customers"][0]["phone"], E164, "{typed}");
    }
    // …picks it, and the order carries the account's number, whatever was
    // typed in the form.
    let mut picked = pickup("07 81 23 45 67");
    picked["channel"] = json!("phone");
    picked["customer_id"] = json!(nora.id.0);
    let (status, phoned) = order(&world, picked, Some(&cashier)).await;
    assert_eq!(status, StatusCode::CREATED, "{phoned}");
    assert_eq!(phoned["order"]["contact"]["phone"], E164);
    let phoned_id = phoned["order"]["id"].as_i64().unwrap();
    // A picked account without a contact: its name and number.
    let mut bare = pickup(TYPED);
    bare.as_object_mut().unwrap().remove("contact");
    bare["channel"] = json!("counter");
    bare["customer_id"] = json!(nora.id.0);
    let (status, counter) = order(&world, bare, Some(&cashier)).await;
    assert_eq!(status, StatusCode::CREATED, "{counter}");
    assert_eq!(
        counter["order"]["contact"],
        json!({"name": "Nora Petit", "phone": E164, "email": "nora.petit@example.fr"})
    );
    let counter_id = counter["order"]["id"].as_i64().unwrap();

    // …and her orders, newest first, however the number is given.
    for typed in LOOKUPS {
        let (status, found) = call(
            &world.orders,
            "GET",
            &format!("/orders?phone={}", encoded(typed)),
            None,
            Some(&cashier),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{typed}: {found}");
        let ids: Vec<i64> = found["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [counter_id, phoned_id, guest_id], "{typed}");
        assert!(found["orders"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["contact"]["phone"] == E164));
    }

    // What is not a phone number: checkout names the field, the lookups
    // say so, nothing is written.
    let before = scalar(&pool, "SELECT COUNT(*) FROM orders").await;
    for wrong in [
        "06 45 67 89",
        "07 12 34 56 78",
        "06 45 67 89 01 23",
        "call me",
    ] {
        let (status, problem) = order(&world, pickup(wrong), None).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{wrong}: {problem}"
        );
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["contact.phone"], "{wrong}: {problem}");
        assert!(problem["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));

        let (status, _) = customers(&world, wrong, &cashier).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{wrong}");
        let response = orders::handle(
            &world.orders,
            request(
                "GET",
                &format!("/orders?phone={}", encoded(wrong)),
                None,
                Some(&cashier),
            ),
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{wrong}"
        );
        testing::assert_problem(&response);
    }
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM orders").await, before);

    // Neither a customer nor a pizzaiolo may look a caller up.
    let client = token_of(&pool, "client.1@ocpizza.test").await;
    let chef = token_of(&pool, "pizzaiolo.1@ocpizza.test").await;
    for who in [&client, &chef] {
        let (status, _) = customers(&world, "0645678901", who).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        for uri in [
            "/orders?phone=0645678901",
            "/orders?phone=0645678901&pizzeria_id=1",
        ] {
            let (status, _) = call(&world.orders, "GET", uri, None, Some(who)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{uri}");
        }
    }
}
