//! Fuzzing the orders function (see `testkit::fuzz`): every route
//! with real and junk order ids, tracking tokens, bearer tokens and bodies
//! (changed lines, statuses, counter payments, card tokens), and the list's
//! query strings; against real MariaDB, the SQS-compatible server and
//! localstripe. Every answer is a 2xx or a 4xx problem, and every order
//! stays whole: lines, history, a stock ledger that adds up.

use ocpizza::payment::Stripe;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use testkit::fuzz::{self, Body, HttpCase};
use testkit::{self as testing, token_for};

const SECRET: &str = "orders-fuzz-secret";

struct World {
    orders: orders::State,
    /// Real orders: id and tracking token.
    placed: Vec<(i64, String)>,
    /// Bearer tokens: customer, cashier, manager, pizzaiolo, courier, admin.
    staff: Vec<String>,
}

async fn world(pool: &MySqlPool) -> World {
    ocpizza::samples::load_demo(pool).await.unwrap();
    let mut config = testing::config();
    config.secret_key = SECRET.to_owned().into();
    let queues = testing::fresh_queues().await;
    let checkout = checkout::State::new(pool.clone(), &config, queues.clone()).unwrap();
    let mut placed = Vec::new();
    for (method, fulfilment) in [
        ("cash", "pickup"),
        ("cash", "pickup"),
        ("cash", "delivery"),
        ("card", "pickup"),
        ("card", "pickup"),
    ] {
        let mut body = json!({
            "pizzeria_id": 1, "fulfilment": fulfilment, "payment_method": method,
            "lines": [{"product_id": 1, "quantity": 2}, {"product_id": 21, "quantity": 1}],
            "contact": {"name": "Hugo Bernard", "phone": "06 11 22 33 44", "email": "hugo@example.fr"}
        });
        if fulfilment == "delivery" {
            body["address"] =
                json!({"line1": "25 rue Victor Hugo", "postcode": "69002", "city": "Lyon"});
        }
        let req = HttpCase::new("POST", "/orders")
            .header(
                "idempotency-key",
                Some(uuid::Uuid::new_v4().to_string().into_bytes()),
            )
            .body(Body::json(&body))
            .request();
        let answer = testing::json_of(&checkout::handle(&checkout, req).await);
        placed.push((
            answer["order"]["id"].as_i64().unwrap(),
            answer["order"]["tracking_token"]
                .as_str()
                .unwrap()
                .to_owned(),
        ));
    }
    let mut staff = Vec::new();
    for email in [
        "client.1@ocpizza.test",
        "cashier.1@ocpizza.test",
        "manager.1@ocpizza.test",
        "pizzaiolo.1@ocpizza.test",
        "courier.1@ocpizza.test",
        "admin@ocpizza.test",
    ] {
        staff.push(token_for(pool, SECRET, email).await);
    }
    World {
        orders: orders::State {
            clock: Default::default(),
            pool: pool.clone(),
            cors: Default::default(),
            queues,
            stripe: Stripe::from_config(&config).unwrap(),
            secret_key: SECRET.to_owned().into(),
        },
        placed,
        staff,
    }
}

fn lines() -> BoxedStrategy<Value> {
    let line = fuzz::mixed_object(vec![
        (
            "product_id",
            fuzz::one_of([1, 2, 16, 21, 99].map(Value::from).to_vec()),
        ),
        ("quantity", fuzz::int(1..=3)),
    ]);
    prop_oneof![
        4 => prop::collection::vec(line.clone(), 1..4),
        1 => prop::collection::vec(line, 0..40),
    ]
    .prop_map(Value::Array)
    .boxed()
}

/// The body each route takes, valid or broken.
fn body_for(route: &str) -> BoxedStrategy<Body> {
    let value = match route {
        "" => fuzz::mixed_object(vec![("lines", lines())]),
        "/status" => fuzz::mixed_object(vec![
            (
                "status",
                fuzz::one_of(
                    [
                        "placed",
                        "preparing",
                        "ready",
                        "out_for_delivery",
                        "delivered",
                        "picked_up",
                        "cancelled",
                        "pending_payment",
                        "eaten",
                    ]
                    .map(Value::from)
                    .to_vec(),
                ),
            ),
            (
                "payment",
                fuzz::mixed_object(vec![(
                    "method",
                    fuzz::one_of(vec![json!("cash"), json!("card_terminal")]),
                )]),
            ),
        ]),
        "/payments" => fuzz::mixed_object(vec![(
            "method",
            fuzz::one_of(vec![json!("cash"), json!("card_terminal"), json!("cheque")]),
        )]),
        "/payment/card" => fuzz::mixed_object(vec![(
            "card_token",
            prop_oneof![
                2 => fuzz::one_of(vec![json!("tok_visa"), json!("tok_chargeDeclined"), json!("tok_")]),
                1 => fuzz::uuid_text().prop_map(|u| json!(format!("tok_{}", u.replace('-', "")))),
                1 => fuzz::nasty_string().prop_map(|s| json!(format!("tok_{s}"))),
            ]
            .boxed(),
        )]),
        _ => fuzz::junk_json(),
    };
    prop_oneof![6 => fuzz::json_body(value), 1 => Just(Body::Empty)].boxed()
}

fn cases(world: &World) -> BoxedStrategy<HttpCase> {
    let ids: Vec<String> = world.placed.iter().map(|(id, _)| id.to_string()).collect();
    let tracking: Vec<String> = world.placed.iter().map(|(_, t)| t.clone()).collect();
    let routes = select(vec![
        ("GET", ""),
        ("PATCH", ""),
        ("POST", "/cancel"),
        ("POST", "/status"),
        ("POST", "/payments"),
        ("POST", "/payment/card"),
        ("POST", "/payment/refresh"),
        ("POST", "/receipt"),
    ]);
    let bearer = |tokens: Vec<String>| {
        prop_oneof![
            3 => Just(None),
            3 => select(tokens.clone()).prop_map(|t| Some(format!("Bearer {t}").into_bytes())),
            1 => fuzz::authorization(SECRET, tokens),
        ]
    };
    let staff = world.staff.clone();
    // Mostly an order with its own tracking token, so changes go through.
    let placed = world.placed.clone();
    let one = (routes, select(placed))
        .prop_flat_map(move |((method, route), (id, token))| {
            let id = prop_oneof![
                3 => Just(id.to_string()),
                1 => fuzz::path_segment(ids.clone()),
            ];
            let token = prop_oneof![3 => Just(token), 1 => select(tracking.clone())];
            (
                fuzz::method(method),
                Just(route),
                id,
                fuzz::query(vec![("token", token.boxed())]),
                body_for(route),
                bearer(staff.clone()),
            )
        })
        .prop_map(|(method, route, id, query, body, auth)| {
            HttpCase::new(&method, format!("/orders/{id}{route}?{query}"))
                .header("content-type", Some(b"application/json".to_vec()))
                .header("authorization", auth)
                .body(body)
        });
    let list = (
        fuzz::method("GET"),
        fuzz::query(vec![
            (
                "pizzeria_id",
                select(vec!["1".to_owned(), "2".into(), "99".into()]).boxed(),
            ),
            (
                "status",
                select(vec!["placed".to_owned(), "pending_payment".into()]).boxed(),
            ),
            (
                "phone",
                select(vec!["06 11 22 33 44".to_owned(), "0".repeat(21)]).boxed(),
            ),
        ]),
        bearer(world.staff.clone()),
    )
        .prop_map(|(method, query, auth)| {
            HttpCase::new(&method, format!("/orders?{query}")).header("authorization", auth)
        });
    prop_oneof![6 => one, 1 => list].boxed()
}

#[sqlx::test(migrations = "../../migrations")]
async fn every_route_answers_any_input_and_orders_stay_whole(pool: MySqlPool) {
    let world = world(&pool).await;
    let inputs = fuzz::generate("orders routes", cases(&world));
    let state = world.orders.clone();
    fuzz::run_http("orders routes", inputs, |req| {
        let state = state.clone();
        async move { orders::handle(&state, req).await }
    })
    .await;
    assert_eq!(testing::incomplete_orders(&pool).await, 0);
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
}
