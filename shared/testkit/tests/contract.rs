//! The API as `docs/openapi.json` documents it: one walk through a pizzeria's
//! day reaches every documented operation, with its usual answers and its
//! common refusals, and every answer (status, content type, body) and every
//! request that succeeded must match the document. A route the document does
//! not name, or a documented route no call reaches, fails the test.

use chrono::Utc;
use http::StatusCode;
use ocpizza::payment;
use ocpizza::platform::queue::QueueName;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::time::Duration;
use testkit::{self as testing, request};
use testkit::{Function, World};

/// Runs the queues as their consumers would: the kitchen's messages, then
/// the delivery queue's.
async fn run_queues(world: &World) {
    let quiet = Duration::from_millis(500);
    for envelope in testing::drain(&world.checkout.queues, QueueName::Kitchen, quiet).await {
        kitchen::apply(&world.pool, envelope)
            .await
            .unwrap_or_else(|e| panic!("kitchen: {e:?}"));
    }
    for envelope in testing::drain(&world.checkout.queues, QueueName::Delivery, quiet).await {
        delivery::apply(&world.pool, envelope)
            .await
            .unwrap_or_else(|e| panic!("delivery: {e:?}"));
    }
}

fn order_of(answer: &Value) -> (i64, String, i64) {
    let order = &answer["order"];
    (
        order["id"].as_i64().unwrap_or_default(),
        order["tracking_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        order["total_cents"].as_i64().unwrap_or_default(),
    )
}

#[sqlx::test(migrations = "../../migrations")]
async fn every_documented_route_answers_as_documented(pool: MySqlPool) {
    // The walk is one long future: on the heap, not on the test thread's
    // stack (2 MiB), which it outgrows in a debug build.
    Box::pin(walk_every_route(pool)).await;
}

async fn walk_every_route(pool: MySqlPool) {
    let world = World::demo(&pool, Utc::now()).await;
    testing::open_all_day_with_plenty_of_stock(&pool).await;
    let cashier = world.token("cashier.1@ocpizza.test").await;
    let pizzaiolo = world.token("pizzaiolo.1@ocpizza.test").await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let admin = world.token("admin@ocpizza.test").await;
    use Function::*;

    // The shop: pizzerias, a menu, an address, the pages' settings.
    for (uri, expected) in [
        ("/pizzerias", StatusCode::OK),
        ("/pizzerias/1/menu", StatusCode::OK),
        ("/pizzerias/999/menu", StatusCode::NOT_FOUND),
        ("/pizzerias/1/times", StatusCode::OK),
        ("/pizzerias/999/times", StatusCode::NOT_FOUND),
    ] {
        let (status, answer) = world.call(Menu, "GET", uri, None, None).await;
        assert_eq!(status, expected, "{uri}: {answer}");
    }
    let address = "/geocode?address=18%20rue%20Merci%C3%A8re%2C%2069002%20Lyon";
    let (status, found) = world.call(Geocode, "GET", address, None, None).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let (status, _) = world.call(Geocode, "GET", "/geocode", None, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = world
        .call(Storefront, "GET", "/config.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);

    // A customer's account.
    let account = json!({
        "email": "camille.durand@example.fr", "password": "une pizza au feu de bois",
        "name": "Camille Durand", "phone": "06 12 34 56 78"
    });
    let (status, _) = world
        .call(Accounts, "POST", "/accounts", Some(account.clone()), None)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = world
        .call(Accounts, "POST", "/accounts", Some(account), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let sign_in =
        json!({"email": "camille.durand@example.fr", "password": "une pizza au feu de bois"});
    let (status, session) = world
        .call(Accounts, "POST", "/sessions", Some(sign_in), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let customer = session["token"].as_str().unwrap_or_default().to_owned();
    let wrong =
        json!({"email": "camille.durand@example.fr", "password": "pas le bon mot de passe"});
    let (status, _) = world
        .call(Accounts, "POST", "/sessions", Some(wrong), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = world
        .call(Accounts, "GET", "/me", None, Some(&customer))
        .await;
    assert_eq!(status, StatusCode::OK);
    let profile = json!({"name": "Romane Petit", "phone": "06 12 34 56 78"});
    let (status, answer) = world
        .call(Accounts, "PATCH", "/me", Some(profile), Some(&customer))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, copy) = world
        .call(Accounts, "GET", "/me/export", None, Some(&customer))
        .await;
    assert_eq!(status, StatusCode::OK, "{copy}");
    Box::pin(walk_address_book_and_email(&world, &customer)).await;
    let wrong = json!({"password": "pas le bon mot de passe"});
    let (status, problem) = world
        .call(Accounts, "DELETE", "/me", Some(wrong), Some(&customer))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    let change = json!({"current_password": "une pizza au feu de bois", "new_password": "deux pizzas au feu de bois"});
    let (status, session) = world
        .call(
            Accounts,
            "POST",
            "/me/password",
            Some(change),
            Some(&customer),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let customer = session["token"].as_str().unwrap_or_default().to_owned();

    // Staff accounts, by the manager.
    let courier = json!({
        "email": "nouveau.livreur@ocpizza.test", "password": "un scooter rouge et rapide",
        "name": "Hugo Martin", "phone": "06 98 76 54 32", "role": "courier", "pizzeria_id": 1
    });
    let (status, created) = world
        .call(Accounts, "POST", "/staff", Some(courier), Some(&manager))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let new_courier = created["user"]["id"].as_i64().unwrap_or_default();
    let (status, _) = world
        .call(
            Accounts,
            "GET",
            "/staff?pizzeria_id=1",
            None,
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for action in ["unlock", "deactivate"] {
        let uri = format!("/staff/{new_courier}/{action}");
        let (status, answer) = world
            .call(Accounts, "POST", &uri, None, Some(&manager))
            .await;
        assert_eq!(status, StatusCode::OK, "{uri}: {answer}");
    }

    // Orders: a guest's cash pickup, a signed-in customer's card pickup, a
    // cash delivery, one to cancel, one refused.
    let cart = |fulfilment: &str, payment: &str| {
        let mut order = json!({
            "pizzeria_id": 1, "fulfilment": fulfilment, "payment_method": payment,
            "lines": [{"product_id": 1, "quantity": 1}, {"product_id": 2, "quantity": 1}],
            "contact": {"name": "Nina Petit", "phone": "06 11 22 33 44", "email": "nina.petit@example.fr"}
        });
        if fulfilment == "delivery" {
            order["address"] =
                json!({"line1": "18 Rue Mercière", "postcode": "69002", "city": "Lyon"});
        }
        order
    };
    let mut placed = Vec::new();
    for (fulfilment, payment, bearer) in [
        ("pickup", "cash", None),
        ("pickup", "card", Some(customer.as_str())),
        ("delivery", "cash", None),
        ("pickup", "cash", None),
    ] {
        let body = cart(fulfilment, payment);
        let (status, answer) = world
            .call(Checkout, "POST", "/orders", Some(body), bearer)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        placed.push(order_of(&answer));
    }
    let Ok::<[(i64, String, i64); 4], _>(
        [(pickup, pickup_token, _), (card, card_token, _), (delivered, _, delivered_total), (dropped, dropped_token, _)],
    ) = placed.try_into()
    else {
        panic!("four orders");
    };
    let (status, _) = world
        .call(
            Checkout,
            "POST",
            "/orders",
            Some(json!({"pizzeria_id": 1})),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, found) = world
        .call(
            Checkout,
            "GET",
            "/customers?phone=0612345678",
            None,
            Some(&cashier),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");

    // Following, changing, paying, cancelling.
    let tracked = format!("/orders/{pickup}?token={pickup_token}");
    let response = world
        .send(Orders, request("GET", &tracked, None, None), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response
        .headers()
        .get(http::header::ETAG)
        .cloned()
        .unwrap_or_else(|| panic!("an ETag"));
    let mut again = request("GET", &tracked, None, None);
    again
        .headers_mut()
        .insert(http::header::IF_NONE_MATCH, etag);
    let response = world.send(Orders, again, None).await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    let (status, _) = world
        .call(Orders, "GET", "/orders/999999?token=nothing", None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let bigger = json!({"lines": [{"product_id": 1, "quantity": 2}]});
    let (status, answer) = world
        .call(Orders, "PATCH", &tracked, Some(bigger), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let config = testing::config();
    let key = config.stripe_secret_key.expose_secret();
    let token = testkit::stripe::card_token(&config.stripe_api_base, key, "4242424242424242")
        .await
        .unwrap_or_else(|e| panic!("localstripe token: {e}"));
    let pay = format!("/orders/{card}/payment/card?token={card_token}");
    let (status, answer) = world
        .call(
            Orders,
            "POST",
            &pay,
            Some(json!({"card_token": token})),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let refresh = format!("/orders/{card}/payment/refresh?token={card_token}");
    let (status, answer) = world.call(Orders, "POST", &refresh, None, None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["order"]["status"], "placed", "paid, then placed");
    let (status, _) = world
        .call(
            Orders,
            "POST",
            &pay,
            Some(json!({"card_token": "tok_again"})),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "nothing left to pay");

    let cancel = format!("/orders/{dropped}/cancel?token={dropped_token}");
    let (status, answer) = world.call(Orders, "POST", &cancel, None, None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _) = world
        .call(Orders, "GET", "/orders?pizzeria_id=1", None, Some(&cashier))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = world
        .call(Orders, "GET", "/orders", None, Some(&customer))
        .await;
    assert_eq!(status, StatusCode::OK);

    // The kitchen: the display, a recipe card, each order started and ready.
    run_queues(&world).await;
    let (status, tickets) = world
        .call(
            Kitchen,
            "GET",
            "/pizzerias/1/tickets",
            None,
            Some(&pizzaiolo),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        tickets["tickets"].as_array().map(Vec::len),
        Some(3),
        "the three placed orders: {tickets}"
    );
    let (status, _) = world
        .call(Kitchen, "GET", "/recipes/1", None, Some(&pizzaiolo))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = world
        .call(Kitchen, "GET", "/recipes/21", None, Some(&pizzaiolo))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a drink has no recipe card");
    for order in [pickup, card, delivered] {
        for step in ["start", "ready"] {
            let uri = format!("/tickets/{order}/{step}");
            let (status, answer) = world
                .call(Kitchen, "POST", &uri, None, Some(&pizzaiolo))
                .await;
            assert_eq!(status, StatusCode::OK, "{uri}: {answer}");
        }
    }
    let (status, _) = world
        .call(
            Orders,
            "PATCH",
            &tracked,
            Some(json!({"lines": [{"product_id": 1, "quantity": 1}]})),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "too late once started");

    // The counter: the cash pickup paid and handed over, the card one too.
    let (status, answer) = world
        .call(
            Orders,
            "POST",
            &format!("/orders/{pickup}/payments"),
            Some(json!({"method": "cash"})),
            Some(&cashier),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    for order in [pickup, card] {
        let (status, answer) = world
            .call(
                Orders,
                "POST",
                &format!("/orders/{order}/status"),
                Some(json!({"status": "picked_up"})),
                Some(&cashier),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }

    // The delivery: assigned to a courier of the pizzeria, out, delivered.
    run_queues(&world).await;
    let (courier_email,): (String,) = sqlx::query_as(
        "SELECT u.email FROM deliveries d JOIN users u ON u.id = d.courier_id WHERE d.order_id = ?",
    )
    .bind(delivered)
    .fetch_one(&pool)
    .await
    .unwrap_or_else(|e| panic!("the delivery's courier: {e}"));
    let courier = world.token(&courier_email).await;
    let (status, mine) = world
        .call(Delivery, "GET", "/deliveries", None, Some(&courier))
        .await;
    assert_eq!(status, StatusCode::OK);
    let delivery_id = mine["deliveries"][0]["id"].as_i64().unwrap_or_default();
    // Shifts: the courier's own; the manager sees who is on shift and gives
    // the delivery to the other courier and back.
    let (status, answer) = world
        .call(Delivery, "GET", "/shift", None, Some(&courier))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = world
        .call(Delivery, "GET", "/couriers", None, Some(&manager))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let courier_ids: Vec<i64> = answer["couriers"]
        .as_array()
        .map(|all| all.iter().filter_map(|c| c["id"].as_i64()).collect())
        .unwrap_or_default();
    let (mine_id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE email = ?")
        .bind(&courier_email)
        .fetch_one(&pool)
        .await
        .unwrap_or_else(|e| panic!("the courier's id: {e}"));
    let other = courier_ids.iter().copied().find(|&id| id != mine_id);
    let give = format!("/deliveries/{delivery_id}/courier");
    for to in [other.unwrap_or_default(), mine_id] {
        let (status, answer) = world
            .call(
                Delivery,
                "POST",
                &give,
                Some(json!({"courier_id": to})),
                Some(&manager),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let (status, _) = world
        .call(
            Delivery,
            "POST",
            &give,
            Some(json!({"courier_id": 1})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, answer) = world
        .call(
            Delivery,
            "POST",
            &format!("/deliveries/{delivery_id}/pickup"),
            None,
            Some(&courier),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _) = world
        .call(Delivery, "DELETE", "/shift", None, Some(&courier))
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a shift ends with nothing on the way"
    );
    let (status, answer) = world
        .call(
            Delivery,
            "POST",
            &format!("/deliveries/{delivery_id}/delivered"),
            Some(json!({"cash_collected_cents": delivered_total})),
            Some(&courier),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _) = world
        .call(
            Delivery,
            "GET",
            "/deliveries?pizzeria_id=1",
            None,
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = world
        .call(
            Delivery,
            "POST",
            &give,
            Some(json!({"courier_id": mine_id})),
            Some(&manager),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a delivered delivery keeps its courier"
    );
    for method in ["DELETE", "POST"] {
        let (status, answer) = world
            .call(Delivery, method, "/shift", None, Some(&courier))
            .await;
        assert_eq!(status, StatusCode::OK, "{method} /shift: {answer}");
    }

    // What goes wrong: a goodwill refund on the delivered order (cash, by
    // hand); a phone pickup remade, then voided; a delivery that fails at
    // the door; a no-show asked too early.
    let (delivered_order,): (i64,) = sqlx::query_as("SELECT order_id FROM deliveries WHERE id = ?")
        .bind(delivery_id)
        .fetch_one(&pool)
        .await
        .unwrap_or_else(|e| panic!("the delivered order: {e}"));
    let (status, answer) = world
        .call(
            Orders,
            "POST",
            &format!("/orders/{delivered_order}/refund"),
            Some(json!({"amount_cents": 100, "refunded_cents": 0, "reason": "retard"})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let phone_pickup = json!({
        "pizzeria_id": 1, "channel": "phone", "fulfilment": "pickup", "payment_method": "cash",
        "lines": [{"product_id": 1, "quantity": 2}],
        "contact": {"name": "Paul Roux", "phone": "06 55 66 77 88"}
    });
    let (status, answer) = world
        .call(
            Checkout,
            "POST",
            "/orders",
            Some(phone_pickup),
            Some(&cashier),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (pickup_id, _, _) = order_of(&answer);
    run_queues(&world).await;
    for (function, uri, body, who, expected) in [
        (
            Kitchen,
            format!("/tickets/{pickup_id}/start"),
            None,
            &pizzaiolo,
            StatusCode::OK,
        ),
        (
            Kitchen,
            format!("/tickets/{pickup_id}/remake"),
            Some(json!({"line_no": 1, "quantity": 1, "reason": "tombée"})),
            &pizzaiolo,
            StatusCode::OK,
        ),
        (
            Kitchen,
            format!("/tickets/{pickup_id}/ready"),
            None,
            &pizzaiolo,
            StatusCode::OK,
        ),
        (
            Orders,
            format!("/orders/{pickup_id}/no-show"),
            None,
            &manager,
            StatusCode::CONFLICT,
        ),
        (
            Orders,
            format!("/orders/{pickup_id}/void"),
            Some(json!({"reason": "client a annulé"})),
            &cashier,
            StatusCode::OK,
        ),
        (
            Orders,
            format!("/orders/{pickup_id}/refund"),
            Some(json!({"amount_cents": 100, "refunded_cents": 0, "reason": "x"})),
            &manager,
            StatusCode::CONFLICT,
        ),
    ] {
        let (status, answer) = world.call(function, "POST", &uri, body, Some(who)).await;
        assert_eq!(status, expected, "{uri}: {answer}");
    }
    let to_deliver = json!({
        "pizzeria_id": 1, "fulfilment": "delivery", "payment_method": "cash",
        "lines": [{"product_id": 1, "quantity": 2}],
        "contact": {"name": "Nina Petit", "phone": "06 11 22 33 44"},
        "address": {"line1": "18 Rue Mercière", "postcode": "69002", "city": "Lyon"}
    });
    let (status, answer) = world
        .call(Checkout, "POST", "/orders", Some(to_deliver), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (failing, _, _) = order_of(&answer);
    run_queues(&world).await;
    for step in ["start", "ready"] {
        let (status, answer) = world
            .call(
                Kitchen,
                "POST",
                &format!("/tickets/{failing}/{step}"),
                None,
                Some(&pizzaiolo),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    run_queues(&world).await;
    let (failing_delivery,): (i64,) =
        sqlx::query_as("SELECT id FROM deliveries WHERE order_id = ?")
            .bind(failing)
            .fetch_one(&pool)
            .await
            .unwrap_or_else(|e| panic!("the delivery: {e}"));
    for (step, body, expected) in [
        ("failed", json!({"reason": "absent"}), StatusCode::CONFLICT),
        ("pickup", json!(null), StatusCode::OK),
        (
            "failed",
            json!({"reason": "lost"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("failed", json!({"reason": "absent"}), StatusCode::OK),
    ] {
        let body = (!body.is_null()).then_some(body);
        let (status, answer) = world
            .call(
                Delivery,
                "POST",
                &format!("/deliveries/{failing_delivery}/{step}"),
                body,
                Some(&manager),
            )
            .await;
        assert_eq!(status, expected, "{step}: {answer}");
    }
    let (status, _) = world
        .call(
            Orders,
            "GET",
            "/orders?q=nina&day=2026-12-06",
            None,
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // The back office: stock, the menu, revenue.
    let stock = "/pizzerias/1/stock/1";
    for (method, uri, body) in [
        ("GET", "/pizzerias/1/stock".to_owned(), None),
        (
            "PATCH",
            stock.to_owned(),
            Some(json!({"low_threshold": 500})),
        ),
        (
            "POST",
            format!("{stock}/restock"),
            Some(json!({"quantity": 1000, "reason": "livraison du matin"})),
        ),
        (
            "POST",
            format!("{stock}/adjustment"),
            Some(json!({"delta": -10, "reason": "inventaire"})),
        ),
        (
            "POST",
            format!("{stock}/waste"),
            Some(json!({"quantity": 5, "reason": "pâte tombée"})),
        ),
        ("GET", "/products".to_owned(), None),
        ("GET", "/products/1".to_owned(), None),
        (
            "PUT",
            "/pizzerias/1/products/3/unavailable".to_owned(),
            None,
        ),
        (
            "DELETE",
            "/pizzerias/1/products/3/unavailable".to_owned(),
            None,
        ),
    ] {
        let (status, answer) = world
            .call(Backoffice, method, &uri, body, Some(&manager))
            .await;
        assert_eq!(status, StatusCode::OK, "{method} {uri}: {answer}");
    }
    // When pizzeria 1 takes orders: its week, a special day, a pause.
    let next_week = (Utc::now() + chrono::Days::new(7)).date_naive();
    let day = format!("/pizzerias/1/special-days/{next_week}");
    for (method, uri, body) in [
        ("GET", "/pizzerias/1/hours".to_owned(), None),
        (
            "PUT",
            "/pizzerias/1/hours".to_owned(),
            Some(
                json!({"weekly": (1..=7).map(|d| json!({"weekday": d, "opens_at": "00:00", "closes_at": "23:59:59"})).collect::<Vec<_>>()}),
            ),
        ),
        (
            "PUT",
            day.clone(),
            Some(
                json!({"periods": [{"opens_at": "18:00", "closes_at": "02:00"}], "note": "Soirée"}),
            ),
        ),
        ("DELETE", day, None),
        (
            "PUT",
            "/pizzerias/1/pause".to_owned(),
            Some(json!({"scope": "delivery", "minutes": 20, "message": "Livreurs en retard"})),
        ),
        ("DELETE", "/pizzerias/1/pause".to_owned(), None),
    ] {
        let (status, answer) = world
            .call(Backoffice, method, &uri, body, Some(&manager))
            .await;
        assert_eq!(status, StatusCode::OK, "{method} {uri}: {answer}");
    }
    let (status, answer) = world
        .call(
            Backoffice,
            "PUT",
            "/pizzerias/1/hours",
            Some(json!({"weekly": [{"weekday": 5, "opens_at": "18:00", "closes_at": "02:00"}, {"weekday": 6, "opens_at": "01:00", "closes_at": "03:00"}]})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    // A new pizzeria from the screens: the admin opens it, adds an
    // ingredient and a category, stocks it; its manager changes its phone.
    let (status, opened) = world
        .call(
            Backoffice,
            "POST",
            "/pizzerias",
            Some(json!({
                "name": "OC Pizza Croix-Rousse", "line1": "4 Place de la Croix-Rousse",
                "postcode": "69004", "city": "Lyon", "phone": "04 78 00 00 00",
                "latitude": 45.7745, "longitude": 4.8318, "delivery_radius_m": 3000,
                "delivery_fee_cents": 250, "min_order_cents": 1500
            })),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let new_pizzeria = opened["pizzeria"]["id"].as_i64().unwrap_or_default();
    let (status, ingredient) = world
        .call(
            Backoffice,
            "POST",
            "/ingredients",
            Some(json!({"name": "Burrata", "unit": "g"})),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ingredient}");
    let (status, category) = world
        .call(
            Backoffice,
            "POST",
            "/categories",
            Some(json!({"name": "Pizzas du moment", "position": 5})),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{category}");
    for (method, uri, body, expected) in [
        ("GET", "/ingredients".to_owned(), None, StatusCode::OK),
        ("GET", "/categories".to_owned(), None, StatusCode::OK),
        (
            "POST",
            format!("/pizzerias/{new_pizzeria}/stock"),
            Some(
                json!({"ingredient_id": ingredient["ingredient"]["id"], "on_hand": 2000, "low_threshold": 500}),
            ),
            StatusCode::CREATED,
        ),
        (
            "PATCH",
            format!("/pizzerias/{new_pizzeria}"),
            Some(json!({"phone": "04 78 11 22 33", "delivery_fee_cents": 300})),
            StatusCode::OK,
        ),
    ] {
        let (status, answer) = world
            .call(Backoffice, method, &uri, body, Some(&admin))
            .await;
        assert_eq!(status, expected, "{method} {uri}: {answer}");
    }

    // A one-time link that is not (any more): 410, whatever the token.
    let (status, answer) = world
        .call(
            Accounts,
            "POST",
            "/password-links",
            Some(json!({"token": "00", "new_password": "un mot de passe assez long"})),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::GONE, "{answer}");
    // A forgotten password: the same answer whoever asks.
    let (status, answer) = world
        .call(
            Accounts,
            "POST",
            "/password-resets",
            Some(json!({"email": "personne@example.fr"})),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");

    let (status, answer) = world
        .call(
            Backoffice,
            "POST",
            "/pizzerias/1/stock/1/waste",
            Some(json!({"quantity": 5})),
            Some(&manager),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no reason: {answer}"
    );
    let product = json!({
        "category_id": 1, "name": "Calzone du chef", "description": "Chausson : jambon, mozzarella, œuf.",
        "price_cents": 1250, "vat_rate_bp": 1000, "active": true, "position": 20,
        "recipe": {"lines": [{"ingredient_id": 1, "quantity": 120}], "steps": ["Plier la pâte en chausson."]}
    });
    let (status, created) = world
        .call(Backoffice, "POST", "/products", Some(product), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, answer) = world
        .call(
            Backoffice,
            "PATCH",
            "/products/1",
            Some(json!({"description": "Tomate, mozzarella, basilic."})),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // What the menu's choices are made of: the new ingredient's allergens,
    // the new product's sizes and extras' limit, the group's extras.
    let burrata = ingredient["ingredient"]["id"].as_i64().unwrap_or_default();
    let calzone = created["product"]["id"].as_i64().unwrap_or_default();
    for (method, uri, body, token, expected) in [
        (
            "PUT",
            format!("/ingredients/{burrata}/allergens"),
            json!({"allergens": ["milk"], "vegetarian": true}),
            &admin,
            StatusCode::OK,
        ),
        (
            "PUT",
            format!("/ingredients/{burrata}/allergens"),
            json!({"allergens": ["pollen"], "vegetarian": true}),
            &admin,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "PUT",
            format!("/products/{calzone}/sizes"),
            json!({"sizes": [{"code": "medium", "label": "Moyenne", "price_cents": 1250, "recipe_percent": 100},
                             {"code": "large", "label": "Grande", "price_cents": 1650, "recipe_percent": 150}]}),
            &admin,
            StatusCode::OK,
        ),
        (
            "PUT",
            format!("/products/{calzone}/sizes"),
            json!({"sizes": [{"code": "small", "label": "Petite", "price_cents": 900, "recipe_percent": 5}]}),
            &admin,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "PATCH",
            format!("/products/{calzone}"),
            json!({"max_extras": 2, "recipe": {"lines": [{"ingredient_id": 1, "quantity": 120, "removable": false}], "steps": ["Plier la pâte en chausson."]}}),
            &admin,
            StatusCode::OK,
        ),
        (
            "PUT",
            "/extras".to_owned(),
            json!({"extras": [{"ingredient_id": burrata, "quantity": 60, "price_cents": 300}]}),
            &manager,
            StatusCode::FORBIDDEN,
        ),
        (
            "PUT",
            "/extras".to_owned(),
            json!({"extras": [{"ingredient_id": 7, "quantity": 40, "price_cents": 200},
                              {"ingredient_id": burrata, "quantity": 60, "price_cents": 300}]}),
            &admin,
            StatusCode::OK,
        ),
    ] {
        let (status, answer) = world
            .call(Backoffice, method, &uri, Some(body), Some(token))
            .await;
        assert_eq!(status, expected, "{method} {uri}: {answer}");
    }
    let (status, extras) = world
        .call(Backoffice, "GET", "/extras", None, Some(&manager))
        .await;
    assert_eq!(status, StatusCode::OK, "{extras}");
    let today = Utc::now().date_naive();
    let range = format!(
        "from={}&to={}",
        today - chrono::Days::new(2),
        today + chrono::Days::new(1)
    );
    for uri in [
        format!("/reports/revenue?pizzeria_id=1&{range}"),
        format!("/reports/revenue?pizzeria_id=1&{range}&format=csv"),
        format!("/reports/revenue?pizzeria_id=all&{range}"),
    ] {
        let token = if uri.contains("all") {
            &admin
        } else {
            &manager
        };
        let (status, _) = world.call(Backoffice, "GET", &uri, None, Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
    }

    // Stripe's webhook: a signed event acknowledged, a forged one refused.
    let event = json!({
        "id": "evt_contract", "object": "event", "type": "customer.created",
        "created": Utc::now().timestamp(),
        "data": {"object": {"id": "cus_1", "object": "customer"}}
    })
    .to_string();
    let secret = config.stripe_webhook_secret.expose_secret();
    for (signature, expected) in [
        (
            payment::sign(event.as_bytes(), secret, Utc::now().timestamp()),
            StatusCode::OK,
        ),
        ("t=1,v1=00".to_owned(), StatusCode::BAD_REQUEST),
    ] {
        let mut req = request("POST", "/", None, None);
        *req.body_mut() = lambda_http::Body::Text(event.clone());
        if let Ok(value) = signature.parse() {
            req.headers_mut().insert("stripe-signature", value);
        }
        let response = world.send(StripeWebhook, req, None).await;
        assert_eq!(response.status(), expected);
    }

    // Photos (their own future: each call adds to the walk's frame).
    Box::pin(walk_photos(&world, &admin, &manager)).await;

    testkit::assert_reconciled(&pool, ocpizza::reporting::audit::Scope::Live).await;
    let missed: Vec<String> = world
        .contract
        .operations()
        .difference(&world.contract.reached())
        .cloned()
        .collect();
    assert!(
        missed.is_empty(),
        "documented but never reached: {missed:#?}"
    );
}

/// The photos function's routes, with their usual answers and refusals.
async fn walk_photos(world: &World, admin: &str, manager: &str) {
    use Function::*;
    // The admin gives a product its photo, which the manager screen lists;
    // refused without a session, for a manager, for what is not a picture
    // (or not sent as one, or too heavy) and for an unknown product; then
    // removed.
    let picture = testing::png(640, 480);
    let (status, answer) = world
        .put_photo(1, "image/png", picture.clone(), Some(admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    for (content_type, body, bearer, expected) in [
        ("image/png", picture.clone(), None, StatusCode::UNAUTHORIZED),
        (
            "image/png",
            picture.clone(),
            Some(manager),
            StatusCode::FORBIDDEN,
        ),
        (
            "image/png",
            b"no picture".to_vec(),
            Some(admin),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "text/plain",
            picture.clone(),
            Some(admin),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "image/jpeg",
            vec![0; photos::MAX_PHOTO_BYTES + 1],
            Some(admin),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ] {
        let (status, problem) = world.put_photo(1, content_type, body, bearer).await;
        assert_eq!(status, expected, "{problem}");
    }
    let (status, _) = world
        .put_photo(999_999, "image/png", picture, Some(admin))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, listed) = world
        .call(Photos, "GET", "/photos", None, Some(manager))
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    for (uri, expected) in [
        ("/products/1/photo", StatusCode::NO_CONTENT),
        ("/products/999999/photo", StatusCode::NOT_FOUND),
    ] {
        let (status, answer) = world.call(Photos, "DELETE", uri, None, Some(admin)).await;
        assert_eq!(status, expected, "{uri}: {answer}");
    }
}

/// The check itself: an answer the document does not allow is caught.
#[test]
fn an_answer_unlike_the_document_is_caught() {
    let contract = testkit::Contract::load();
    let answer = |status: u16, content_type: &str, body: &str| {
        http::Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, content_type)
            .body(lambda_http::Body::Text(body.to_owned()))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    // A menu without its products, a success never documented, an unknown
    // route, a body of the wrong type.
    let wrong = [
        (
            "/pizzerias/1/menu",
            answer(200, "application/json", r#"{"pizzeria":{}}"#),
        ),
        (
            "/pizzerias",
            answer(202, "application/json", r#"{"pizzerias":[]}"#),
        ),
        ("/pizzas", answer(200, "application/json", "{}")),
        ("/pizzerias", answer(200, "text/html", "<p>")),
    ];
    for (uri, response) in &wrong {
        assert!(
            contract
                .check(Function::Menu, "GET", uri, None, response)
                .is_err(),
            "{uri} should differ"
        );
    }
    let right = answer(200, "application/json", r#"{"pizzerias":[]}"#);
    assert_eq!(
        contract.check(Function::Menu, "GET", "/pizzerias", None, &right),
        Ok(())
    );
}

/// The address book, and a change of e-mail (its link is e-mailed; a
/// made-up one is refused). Its own future: the walk outgrows a debug
/// build's stack otherwise.
async fn walk_address_book_and_email(world: &World, customer: &str) {
    use Function::*;
    let customer = customer.to_owned();
    let home =
        json!({"label": "Maison", "line1": "18 Rue Mercière", "postcode": "69002", "city": "Lyon"});
    let (status, saved) = world
        .call(
            Accounts,
            "POST",
            "/me/addresses",
            Some(home),
            Some(&customer),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    let (status, book) = world
        .call(Accounts, "GET", "/me/addresses", None, Some(&customer))
        .await;
    assert_eq!(status, StatusCode::OK, "{book}");
    let uri = format!("/me/addresses/{}", saved["address"]["id"]);
    let (status, book) = world
        .call(Accounts, "DELETE", &uri, None, Some(&customer))
        .await;
    assert_eq!(status, StatusCode::OK, "{book}");
    let change =
        json!({"new_email": "romane.petit@example.fr", "password": "une pizza au feu de bois"});
    let (status, asked) = world
        .call(Accounts, "POST", "/me/email", Some(change), Some(&customer))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{asked}");
    let (status, problem) = world
        .call(
            Accounts,
            "POST",
            "/email-confirmations",
            Some(json!({"token": "00"})),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::GONE, "{problem}");
}
