//! Opening a pizzeria without SQL, through the back office (HTTP, answers
//! checked against `docs/openapi.json`): the admin opens it, adds an
//! ingredient and a category, stocks it and writes a product's recipe; its
//! manager sets its phone and delivery terms; a customer orders there and
//! the kitchen cooks it. Attacked as a curious manager would (another
//! pizzeria, the admin's fields) and with what a hurried admin types.

use chrono::Utc;
use http::StatusCode;
use ocpizza::platform::queue::QueueName;
use ocpizza::reporting::audit::Scope;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::time::Duration;
use testkit::{self as testing, field_errors, scalar, Function::*, World};

fn croix_rousse() -> Value {
    json!({
        "name": "OC Pizza Croix-Rousse", "line1": "4 Place de la Croix-Rousse",
        "postcode": "69004", "city": "Lyon", "phone": "04 78 00 00 00",
        "latitude": 45.7745, "longitude": 4.8318, "delivery_radius_m": 3000,
        "delivery_fee_cents": 250, "min_order_cents": 1500
    })
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_new_pizzeria_from_an_empty_catalogue_to_its_first_cooked_order(pool: MySqlPool) {
    let world = World::demo(&pool, Utc::now()).await;
    let admin = world.token("admin@ocpizza.test").await;
    let (status, opened) = world
        .call(
            Backoffice,
            "POST",
            "/pizzerias",
            Some(croix_rousse()),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let id = opened["pizzeria"]["id"].as_i64().unwrap_or_default();
    assert_eq!(opened["pizzeria"]["phone"], "+33478000000");
    // No hours yet: it takes no order, and says so.
    assert_eq!(opened["pizzeria"]["open_now"], false);
    assert_eq!(opened["pizzeria"]["opening_hours"], json!([]));

    // Its hours: every day, all day.
    let week: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "opens_at": "00:00", "closes_at": "23:59:59"}))
        .collect();
    let uri = format!("/pizzerias/{id}/hours");
    let (status, hours) = world
        .call(
            Backoffice,
            "PUT",
            &uri,
            Some(json!({ "weekly": week })),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{hours}");

    // A category, two ingredients, their first counts, and a product.
    let (status, category) = world
        .call(
            Backoffice,
            "POST",
            "/categories",
            Some(json!({"name": "  Pizzas   du moment ", "position": 5})),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{category}");
    assert_eq!(category["category"]["name"], "Pizzas du moment");
    let mut ingredients = Vec::new();
    for (name, unit, count) in [("Burrata", "g", 1000), ("Pâte fine", "piece", 10)] {
        let (status, made) = world
            .call(
                Backoffice,
                "POST",
                "/ingredients",
                Some(json!({"name": name, "unit": unit})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        let ingredient = made["ingredient"]["id"].clone();
        let (status, line) = world
            .call(
                Backoffice,
                "POST",
                &format!("/pizzerias/{id}/stock"),
                Some(json!({"ingredient_id": ingredient, "on_hand": count, "low_threshold": count / 10})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{line}");
        assert_eq!(line["stock"]["on_hand"], count);
        ingredients.push(ingredient);
    }
    // Stocked once: a second first count is a 409, and the level stays.
    let (status, again) = world
        .call(
            Backoffice,
            "POST",
            &format!("/pizzerias/{id}/stock"),
            Some(json!({"ingredient_id": ingredients[0], "on_hand": 5})),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let (status, product) = world
        .call(
            Backoffice,
            "POST",
            "/products",
            Some(json!({
                "category_id": category["category"]["id"], "name": "Burrata fine",
                "description": "Pâte fine, burrata.", "price_cents": 1450, "vat_rate_bp": 1000,
                "active": true, "position": 1,
                "recipe": {"lines": [
                    {"ingredient_id": ingredients[0], "quantity": 125},
                    {"ingredient_id": ingredients[1], "quantity": 1}
                ], "steps": ["Étaler la pâte.", "Cuire, puis poser la burrata."]}
            })),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{product}");
    let product_id = product["product"]["id"].as_i64().unwrap_or_default();

    // The shop: open, the new pizza orderable 8 times (1000 g / 125 g), the
    // demo's pizzas not (nothing of theirs is stocked here).
    let (status, menu) = world
        .call(Menu, "GET", &format!("/pizzerias/{id}/menu"), None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(menu["pizzeria"]["open_now"], true, "{menu}");
    let find = |pid: i64| {
        menu["products"]
            .as_array()
            .and_then(|all| all.iter().find(|p| p["id"] == pid).cloned())
            .unwrap_or(Value::Null)
    };
    assert_eq!(find(product_id)["max_quantity"], 8, "{menu}");
    assert_eq!(find(1)["available"], false);

    // A customer orders two; the kitchen cooks them; the ledger adds up.
    let (status, placed) = world
        .call(
            Checkout,
            "POST",
            "/orders",
            Some(json!({
                "pizzeria_id": id, "fulfilment": "pickup", "payment_method": "cash",
                "lines": [{"product_id": product_id, "quantity": 2}],
                "contact": {"name": "Léo Moreau", "phone": "06 22 33 44 55"}
            })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    let order = placed["order"]["id"].as_i64().unwrap_or_default();
    for envelope in testing::drain(
        &world.checkout.queues,
        QueueName::Kitchen,
        Duration::from_millis(300),
    )
    .await
    {
        kitchen::apply(&pool, envelope)
            .await
            .unwrap_or_else(|e| panic!("kitchen: {e:?}"));
    }
    let manager_of_1 = world.token("manager.1@ocpizza.test").await;
    for step in ["start", "ready"] {
        // Another pizzeria's manager cannot cook it; the admin can.
        let uri = format!("/tickets/{order}/{step}");
        let (status, _) = world
            .call(Kitchen, "POST", &uri, None, Some(&manager_of_1))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, answer) = world.call(Kitchen, "POST", &uri, None, Some(&admin)).await;
        assert_eq!(status, StatusCode::OK, "{step}: {answer}");
    }
    assert_eq!(
        scalar(
            &pool,
            &format!(
                "SELECT on_hand FROM stock WHERE pizzeria_id = {id} AND ingredient_id = {}",
                ingredients[0]
            )
        )
        .await,
        750
    );
    assert_eq!(
        scalar(
            &pool,
            &format!("SELECT COUNT(*) FROM stock_movements WHERE pizzeria_id = {id} AND kind = 'initial'")
        )
        .await,
        2
    );
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
    testkit::assert_reconciled(&pool, Scope::Live).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn managers_keep_to_their_pizzerias_terms_and_the_admin_types_carefully(pool: MySqlPool) {
    let world = World::demo(&pool, Utc::now()).await;
    let admin = world.token("admin@ocpizza.test").await;
    let manager = world.token("manager.1@ocpizza.test").await;
    // Only the admin opens a pizzeria, adds ingredients or categories.
    for (uri, body) in [
        ("/pizzerias", croix_rousse()),
        ("/ingredients", json!({"name": "Truffe", "unit": "g"})),
        ("/categories", json!({"name": "Truffes"})),
    ] {
        for who in [
            "manager.1@ocpizza.test",
            "cashier.1@ocpizza.test",
            "client.1@ocpizza.test",
        ] {
            let token = world.token(who).await;
            let (status, answer) = world
                .call(Backoffice, "POST", uri, Some(body.clone()), Some(&token))
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who} {uri}: {answer}");
        }
        let (status, _) = world.call(Backoffice, "POST", uri, Some(body), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM ingredients WHERE name = 'Truffe'"
        )
        .await,
        0
    );

    // Its manager changes the phone and the terms; not the name, the
    // address or the status, and nothing of another pizzeria.
    let (status, changed) = world
        .call(
            Backoffice,
            "PATCH",
            "/pizzerias/1",
            Some(json!({"phone": "+33 4 78 11 22 33", "delivery_radius_m": 2500, "min_order_cents": 1800})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["pizzeria"]["phone"], "+33478112233");
    assert_eq!(changed["pizzeria"]["delivery"]["radius_m"], 2500);
    for body in [
        json!({"name": "Ma pizzeria"}),
        json!({"status": "opening_soon"}),
        json!({"line1": "1 rue ailleurs"}),
        json!({"latitude": 45.0}),
    ] {
        let (status, answer) = world
            .call(
                Backoffice,
                "PATCH",
                "/pizzerias/1",
                Some(body),
                Some(&manager),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    }
    let (status, _) = world
        .call(
            Backoffice,
            "PATCH",
            "/pizzerias/2",
            Some(json!({"phone": "04 78 00 00 01"})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = world
        .call(
            Backoffice,
            "POST",
            "/pizzerias/2/stock",
            Some(json!({"ingredient_id": 1, "on_hand": 5})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // What a hurried admin may type, every problem named at once.
    let mut bad = croix_rousse();
    bad["postcode"] = json!("6904");
    bad["phone"] = json!("appelez-nous");
    bad["latitude"] = json!(0.0);
    bad["longitude"] = json!(-74.0);
    bad["delivery_radius_m"] = json!(-1);
    bad["delivery_fee_cents"] = json!(1_000_000);
    bad["status"] = json!("closed");
    bad["name"] = json!("   ");
    let (status, answer) = world
        .call(Backoffice, "POST", "/pizzerias", Some(bad), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(
        field_errors(&answer),
        [
            "name",
            "postcode",
            "phone",
            "latitude",
            "longitude",
            "delivery_radius_m",
            "delivery_fee_cents",
            "status"
        ],
        "{answer}"
    );
    let mut partial = croix_rousse();
    partial.as_object_mut().map(|o| o.remove("latitude"));
    let (status, answer) = world
        .call(
            Backoffice,
            "POST",
            "/pizzerias",
            Some(partial),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(field_errors(&answer), ["latitude"]);
    // A name another pizzeria, ingredient or category has: 409.
    let mut twin = croix_rousse();
    let existing: String = sqlx::query_scalar("SELECT name FROM pizzerias WHERE id = 1")
        .fetch_one(&pool)
        .await
        .unwrap_or_default();
    twin["name"] = json!(existing);
    let (status, answer) = world
        .call(Backoffice, "POST", "/pizzerias", Some(twin), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    let (status, _) = world
        .call(
            Backoffice,
            "POST",
            "/ingredients",
            Some(json!({"name": "Burrata", "unit": "kg"})),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Two admins adding the same ingredient at once: one is made, one 409.
    let body = json!({"name": "Burrata", "unit": "g"});
    let (a, b) = tokio::join!(
        world.call(
            Backoffice,
            "POST",
            "/ingredients",
            Some(body.clone()),
            Some(&admin)
        ),
        world.call(Backoffice, "POST", "/ingredients", Some(body), Some(&admin)),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    // A first count of an unknown ingredient, or a negative one.
    for (body, expected) in [
        (
            json!({"ingredient_id": 99999, "on_hand": 5}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"ingredient_id": 1, "on_hand": -5}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"ingredient_id": 1, "on_hand": 5}),
            StatusCode::CONFLICT,
        ),
    ] {
        let (status, answer) = world
            .call(
                Backoffice,
                "POST",
                "/pizzerias/1/stock",
                Some(body),
                Some(&manager),
            )
            .await;
        assert_eq!(status, expected, "{answer}");
    }
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
}
