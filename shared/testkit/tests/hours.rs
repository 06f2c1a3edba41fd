//! When a pizzeria takes orders, set from its manager's screen (HTTP,
//! answers checked against `docs/openapi.json`) and attacked as a curious
//! employee or a hurried customer would: the week's hours past midnight,
//! special days, a pause of online orders that phone orders get through and
//! that ends by itself; the menu, the geocoder and the checkout all reading
//! the same rule.

use chrono::{Days, Utc};
use chrono_tz::Europe::Paris;
use http::StatusCode;
use ocpizza::reporting::audit::Scope;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use testkit::{self as testing, field_errors, scalar, Function::*, World};

/// The demo data, open all day with plenty of stock.
async fn world(pool: &MySqlPool) -> World {
    let world = World::demo(pool, Utc::now()).await;
    testing::open_all_day_with_plenty_of_stock(pool).await;
    world
}

/// Two Margheritas from pizzeria 1: on the web by card, or by phone in cash
/// (taken by `staff`), delivered or picked up.
fn cart(fulfilment: &str, staff: bool) -> Value {
    let mut body = json!({
        "pizzeria_id": 1, "fulfilment": fulfilment,
        "payment_method": if staff { "cash" } else { "card" },
        "lines": [{"product_id": 1, "quantity": 2}],
        "contact": {"name": "Nina Petit", "phone": "06 11 22 33 44", "email": "nina@example.fr"}
    });
    if fulfilment == "delivery" {
        body["address"] = json!({"line1": "18 Rue Mercière", "postcode": "69002", "city": "Lyon"});
    }
    if staff {
        body["channel"] = json!("phone");
    }
    body
}

async fn checkout(world: &World, body: Value, staff: Option<&str>) -> (StatusCode, Value) {
    world
        .call(Checkout, "POST", "/orders", Some(body), staff)
        .await
}

/// Pizzeria 1 as the shop reads it, through the world's one menu function:
/// its copy of the pizzerias is kept between calls, so each change must show
/// at the next request (the pizzerias' version), not 30 s later.
async fn shop_view(world: &World) -> Value {
    let (status, menu) = world
        .call(Menu, "GET", "/pizzerias/1/menu", None, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{menu}");
    menu["pizzeria"].clone()
}

/// What the address search answers a customer at 18 rue Mercière, in
/// pizzeria 1's zone (and pizzeria 2's).
async fn rue_merciere(world: &World) -> Value {
    let (status, found) = world
        .call(
            Geocode,
            "GET",
            "/geocode?address=18%20Rue%20Merci%C3%A8re%2C%2069002%20Lyon",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    found
}

#[sqlx::test(migrations = "../../migrations")]
async fn only_the_pizzerias_manager_sets_its_hours(pool: MySqlPool) {
    let world = world(&pool).await;
    let week = json!({"weekly": [{"weekday": 5, "opens_at": "18:00", "closes_at": "01:00"}]});
    let pause = json!({"scope": "all", "minutes": 30, "message": "Rush"});
    for (who, expected) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some("client.1@ocpizza.test"), StatusCode::FORBIDDEN),
        (Some("cashier.1@ocpizza.test"), StatusCode::FORBIDDEN),
        (Some("pizzaiolo.1@ocpizza.test"), StatusCode::FORBIDDEN),
        (Some("courier.1@ocpizza.test"), StatusCode::FORBIDDEN),
        (Some("manager.2@ocpizza.test"), StatusCode::FORBIDDEN),
    ] {
        let token = match who {
            Some(email) => Some(world.token(email).await),
            None => None,
        };
        for (method, uri, body) in [
            ("GET", "/pizzerias/1/hours", None),
            ("PUT", "/pizzerias/1/hours", Some(week.clone())),
            ("PUT", "/pizzerias/1/pause", Some(pause.clone())),
            ("DELETE", "/pizzerias/1/pause", None),
            ("DELETE", "/pizzerias/1/special-days/2030-01-01", None),
        ] {
            let (status, answer) = world
                .call(Backoffice, method, uri, body, token.as_deref())
                .await;
            assert_eq!(status, expected, "{who:?} {method} {uri}: {answer}");
        }
    }
    // Nothing changed: the week is still open all day, nothing paused.
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM opening_hours WHERE pizzeria_id = 1"
        )
        .await,
        7
    );
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM pizzerias WHERE paused_until IS NOT NULL"
        )
        .await,
        0
    );
    // The admin may, anywhere; a pizzeria that does not exist is a 404.
    let admin = world.token("admin@ocpizza.test").await;
    let (status, _) = world
        .call(Backoffice, "GET", "/pizzerias/2/hours", None, Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = world
        .call(
            Backoffice,
            "PUT",
            "/pizzerias/999/hours",
            Some(week),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_week_runs_past_midnight_and_wrong_hours_are_named(pool: MySqlPool) {
    let world = world(&pool).await;
    let manager = world.token("manager.1@ocpizza.test").await;
    // Tuesday to Sunday, lunch and a dinner until 01:00 on Friday and
    // Saturday, until midnight otherwise.
    let mut weekly = Vec::new();
    for day in 2..=7 {
        weekly.push(json!({"weekday": day, "opens_at": "11:30", "closes_at": "14:30"}));
        let closes = if day == 5 || day == 6 {
            "01:00"
        } else {
            "00:00"
        };
        weekly.push(json!({"weekday": day, "opens_at": "18:00", "closes_at": closes}));
    }
    let (status, answer) = world
        .call(
            Backoffice,
            "PUT",
            "/pizzerias/1/hours",
            Some(json!({ "weekly": weekly })),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["weekly"].as_array().map(Vec::len), Some(12));
    let friday = answer["weekly"]
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|p| p["weekday"] == 5 && p["opens_at"] == "18:00:00")
        })
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(friday["closes_at"], "01:00:00", "{answer}");
    // The shop reads the same week at once.
    assert_eq!(shop_view(&world).await["opening_hours"], answer["weekly"]);

    // What a hurried manager may type, each problem named on its period.
    for (periods, fields) in [
        (
            // Friday's late period runs into Saturday's first one.
            json!([{"weekday": 5, "opens_at": "18:00", "closes_at": "02:00"},
                   {"weekday": 6, "opens_at": "01:00", "closes_at": "03:00"}]),
            vec!["weekly[1]"],
        ),
        (
            // Sunday night into Monday morning.
            json!([{"weekday": 1, "opens_at": "00:30", "closes_at": "03:00"},
                   {"weekday": 7, "opens_at": "20:00", "closes_at": "01:00"}]),
            vec!["weekly[1]"],
        ),
        (
            json!([{"weekday": 8, "opens_at": "18:00", "closes_at": "22:00"},
                   {"weekday": 1, "opens_at": "25:00", "closes_at": "22:00"},
                   {"weekday": 2, "opens_at": "18:00", "closes_at": "18:00"},
                   {"weekday": 3, "opens_at": "18h", "closes_at": "22:00"}]),
            vec!["weekly[0]", "weekly[1]", "weekly[2]", "weekly[3]"],
        ),
        (
            json!((0..5).map(|h| json!({"weekday": 3, "opens_at": format!("0{h}:00"), "closes_at": format!("0{h}:30")})).collect::<Vec<_>>()),
            vec!["weekly[0]"],
        ),
    ] {
        let (status, answer) = world
            .call(
                Backoffice,
                "PUT",
                "/pizzerias/1/hours",
                Some(json!({ "weekly": periods })),
                Some(&manager),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(field_errors(&answer), fields, "{answer}");
    }
    // A body that is not hours at all.
    for body in [
        json!({"weekly": [{"weekday": 1, "opens_at": "18:00"}]}),
        json!({"weekly": [], "extra": true}),
        json!({"weekly": [{"weekday": -1, "opens_at": "18:00", "closes_at": "19:00"}]}),
    ] {
        let (status, answer) = world
            .call(
                Backoffice,
                "PUT",
                "/pizzerias/1/hours",
                Some(body),
                Some(&manager),
            )
            .await;
        assert!(status.is_client_error(), "{status} {answer}");
    }
    // None of it was written.
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM opening_hours WHERE pizzeria_id = 1"
        )
        .await,
        12
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn two_managers_saving_at_once_leave_one_whole_week(pool: MySqlPool) {
    let world = world(&pool).await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let admin = world.token("admin@ocpizza.test").await;
    let lunch: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "opens_at": "11:00", "closes_at": "15:00"}))
        .collect();
    let night: Vec<Value> = (1..=7)
        .flat_map(|d| {
            [
                json!({"weekday": d, "opens_at": "18:00", "closes_at": "02:00"}),
                json!({"weekday": d, "opens_at": "12:00", "closes_at": "14:00"}),
            ]
        })
        .collect();
    for _ in 0..5 {
        let (a, b) = tokio::join!(
            world.call(
                Backoffice,
                "PUT",
                "/pizzerias/1/hours",
                Some(json!({ "weekly": lunch })),
                Some(&manager)
            ),
            world.call(
                Backoffice,
                "PUT",
                "/pizzerias/1/hours",
                Some(json!({ "weekly": night })),
                Some(&admin)
            ),
        );
        assert_eq!(
            (a.0, b.0),
            (StatusCode::OK, StatusCode::OK),
            "{} {}",
            a.1,
            b.1
        );
        let rows = scalar(
            &pool,
            "SELECT COUNT(*) FROM opening_hours WHERE pizzeria_id = 1",
        )
        .await;
        let late = scalar(
            &pool,
            "SELECT COUNT(*) FROM opening_hours WHERE pizzeria_id = 1 AND opens_at = '18:00:00'",
        )
        .await;
        assert!(
            (rows, late) == (7, 0) || (rows, late) == (14, 7),
            "a mix of the two weeks: {rows} rows, {late} late"
        );
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_special_day_closes_the_shop_for_every_channel(pool: MySqlPool) {
    let world = world(&pool).await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let cashier = world.token("cashier.1@ocpizza.test").await;
    assert_eq!(shop_view(&world).await["open_now"], true);
    // Checkout has read the pizzeria open, and keeps it: the closing below
    // must show at its next order all the same.
    let (status, answer) = checkout(&world, cart("pickup", false), None).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let today = Utc::now().with_timezone(&Paris).date_naive();
    let uri = format!("/pizzerias/1/special-days/{today}");
    let (status, answer) = world
        .call(
            Backoffice,
            "PUT",
            &uri,
            Some(json!({"periods": [], "note": "  Inventaire   annuel "})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["open_now"], false, "{answer}");
    assert_eq!(answer["special_days"][0]["note"], "Inventaire annuel");
    assert_eq!(answer["special_days"][0]["periods"], json!([]));
    // Tomorrow, open all day again: the next opening is at midnight.
    let tomorrow = today + Days::new(1);
    let midnight = tomorrow
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(Paris).single())
        .map(|t| t.to_utc());
    assert_eq!(
        answer["next_opening"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.to_utc()),
        midnight,
        "{answer}"
    );
    let shop = shop_view(&world).await;
    assert_eq!(shop["open_now"], false);
    assert_eq!(shop["special_days"][0]["note"], "Inventaire annuel");
    // Closed is closed: the web and the phone alike.
    for (body, staff) in [
        (cart("pickup", false), None),
        (cart("pickup", true), Some(cashier.as_str())),
    ] {
        let (status, answer) = checkout(&world, body, staff).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["type"], "/problems/pizzeria-closed", "{answer}");
    }
    // The geocoder sends the customer elsewhere: pizzeria 1 is closed.
    let found = rue_merciere(&world).await;
    assert_ne!(found["pizzeria"]["id"], 1, "{found}");

    // Special hours instead of the closing: they replace it, whole.
    let (status, answer) = world
        .call(
            Backoffice,
            "PUT",
            &uri,
            Some(json!({"periods": [{"opens_at": "00:00", "closes_at": "23:59:59"}], "note": "Ouvert"})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["special_days"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        answer["special_days"][0]["periods"][0]["closes_at"],
        "23:59:59"
    );
    // Back to the week: the order goes through.
    let (status, answer) = world
        .call(Backoffice, "DELETE", &uri, None, Some(&manager))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["special_days"], json!([]));
    let (status, answer) = checkout(&world, cart("pickup", true), Some(&cashier)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");

    // Dates a special day cannot have.
    let yesterday = today - Days::new(1);
    let far = today + Days::new(400);
    for date in [
        yesterday.to_string(),
        far.to_string(),
        "2026-13-01".into(),
        "demain".into(),
    ] {
        let (status, answer) = world
            .call(
                Backoffice,
                "PUT",
                &format!("/pizzerias/1/special-days/{date}"),
                Some(json!({"periods": []})),
                Some(&manager),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{date}: {answer}");
        assert_eq!(field_errors(&answer), ["date"], "{answer}");
    }
    let long_note = "x".repeat(201);
    let (status, answer) = world
        .call(
            Backoffice,
            "PUT",
            &uri,
            Some(json!({"periods": [{"opens_at": "18:00", "closes_at": "23:00"}, {"opens_at": "20:00", "closes_at": "21:00"}], "note": long_note})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(field_errors(&answer), ["periods[1]", "note"], "{answer}");
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM special_days").await, 0);
    testkit::assert_reconciled(&pool, Scope::Live).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_pause_stops_web_orders_only_and_ends_by_itself(pool: MySqlPool) {
    let world = world(&pool).await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let cashier = world.token("cashier.1@ocpizza.test").await;

    // The shop has read the pizzeria (and keeps it), and so has checkout,
    // with a first order.
    assert_eq!(shop_view(&world).await["pause"], Value::Null);
    let (status, answer) = checkout(&world, cart("delivery", false), None).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    // Couriers are short: online deliveries paused for 30 minutes.
    let before = Utc::now();
    let (status, answer) = world
        .call(
            Backoffice,
            "PUT",
            "/pizzerias/1/pause",
            Some(json!({"scope": "delivery", "minutes": 30, "message": "Livreurs débordés, retrait possible"})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["pause"]["scope"], "delivery");
    let until = answer["pause"]["until"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.to_utc());
    assert!(
        until.is_some_and(|u| u >= before + chrono::TimeDelta::minutes(30)
            && u <= Utc::now() + chrono::TimeDelta::minutes(30)),
        "{answer}"
    );
    // The shop shows it, with the message.
    let shop = shop_view(&world).await;
    assert_eq!(
        shop["pause"]["message"],
        "Livreurs débordés, retrait possible"
    );
    assert_eq!(shop["open_now"], true);

    let (status, answer) = checkout(&world, cart("delivery", false), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["type"], "/problems/pizzeria-paused", "{answer}");
    assert_eq!(answer["scope"], "delivery");
    assert_eq!(answer["message"], "Livreurs débordés, retrait possible");
    // The geocoder does not send a delivery there, and says why.
    let found = rue_merciere(&world).await;
    assert_ne!(found["pizzeria"]["id"], 1, "{found}");
    let paused_here = found["closed"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["id"] == 1).cloned())
        .unwrap_or(Value::Null);
    assert_eq!(paused_here["pause"]["scope"], "delivery", "{found}");
    // Pickup on the web still works, and the phone takes a delivery.
    let (status, answer) = checkout(&world, cart("pickup", false), None).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, answer) = checkout(&world, cart("delivery", true), Some(&cashier)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");

    // A web order taken just before the pause, retried after it: the same
    // answer again, not a refusal.
    world
        .call(
            Backoffice,
            "DELETE",
            "/pizzerias/1/pause",
            None,
            Some(&manager),
        )
        .await;
    let mut first = testing::request("POST", "/orders", Some(cart("delivery", false)), None);
    first.headers_mut().insert(
        "idempotency-key",
        http::HeaderValue::from_static("pause-retry-1"),
    );
    let placed = world
        .send(Checkout, first, Some(&cart("delivery", false)))
        .await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    let placed = testing::json_of(&placed);

    // The kitchen is swamped: every online order paused.
    let (status, answer) = world
        .call(
            Backoffice,
            "PUT",
            "/pizzerias/1/pause",
            Some(json!({"scope": "all", "minutes": 15})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["pause"]["message"], "");
    let mut again = testing::request("POST", "/orders", Some(cart("delivery", false)), None);
    again.headers_mut().insert(
        "idempotency-key",
        http::HeaderValue::from_static("pause-retry-1"),
    );
    let retried = world
        .send(Checkout, again, Some(&cart("delivery", false)))
        .await;
    assert_eq!(retried.status(), StatusCode::CREATED);
    assert_eq!(
        testing::json_of(&retried)["order"]["id"],
        placed["order"]["id"]
    );
    let (status, answer) = checkout(&world, cart("pickup", false), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["scope"], "all");
    // At the counter, the cashier still sells.
    let mut counter = cart("pickup", true);
    counter["channel"] = json!("counter");
    let (status, answer) = checkout(&world, counter, Some(&cashier)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");

    // What a pause cannot be.
    for (body, field) in [
        (json!({"scope": "all", "minutes": 0}), "minutes"),
        (json!({"scope": "all", "minutes": -5}), "minutes"),
        (json!({"scope": "all", "minutes": 721}), "minutes"),
        (json!({"scope": "tout", "minutes": 10}), "scope"),
        (
            json!({"scope": "all", "minutes": 10, "message": "x".repeat(201)}),
            "message",
        ),
    ] {
        let (status, answer) = world
            .call(
                Backoffice,
                "PUT",
                "/pizzerias/1/pause",
                Some(body),
                Some(&manager),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(field_errors(&answer), [field], "{answer}");
    }
    // The refused ones left the pause as it was.
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM pizzerias WHERE pause_scope = 'all'"
        )
        .await,
        1
    );

    // Its time passes: the pause is over by itself, nobody resumed it. (The
    // end is moved by hand, so its version too: the menu and checkout keep
    // the pizzerias and check their version.)
    sqlx::query(
        "UPDATE pizzerias SET paused_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND, \
         version = version + 1 WHERE id = 1",
    )
    .execute(&pool)
    .await
    .unwrap_or_else(|e| panic!("the pause's end: {e}"));
    assert_eq!(shop_view(&world).await["pause"], Value::Null);
    let (status, answer) = checkout(&world, cart("pickup", false), None).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    testkit::assert_reconciled(&pool, Scope::Live).await;
}
