//! Fuzzing the accounts function (see `testkit::fuzz`): sign-up
//! and sign-in bodies mixing valid and invalid fields, and every signed-in
//! route under any `Authorization` (real sessions, arbitrary bearer strings,
//! forged JWTs) with its bodies and query strings. Every answer is a 2xx or a
//! 4xx problem.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use testkit::fuzz::{self, HttpCase};
use testkit::{self as testing, token_for};

const SECRET: &str = "accounts-fuzz-secret";

async fn state(pool: &MySqlPool) -> accounts::State {
    ocpizza::samples::load_demo(pool).await.unwrap();
    accounts::State {
        pool: pool.clone(),
        cors: Default::default(),
        secret_key: SECRET.to_owned().into(),
    }
}

fn email() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => fuzz::edge_email().prop_map(Value::String),
        1 => fuzz::one_of(vec![
            json!("client.1@ocpizza.test"),
            json!("  CLIENT.2@OCPIZZA.TEST "),
            json!("nobody@ocpizza.test"),
        ]),
    ]
    .boxed()
}

fn password() -> BoxedStrategy<Value> {
    fuzz::one_of(vec![
        json!("ocpizza-demo"),
        json!("une longue phrase de passe"),
        json!("wrong-password"),
    ])
}

fn post(path: &'static str, body: BoxedStrategy<Value>) -> BoxedStrategy<HttpCase> {
    (
        fuzz::method("POST"),
        fuzz::json_body(body),
        fuzz::content_type(),
    )
        .prop_map(move |(method, body, content_type)| {
            HttpCase::new(&method, path)
                .header("content-type", content_type)
                .body(body)
        })
        .boxed()
}

#[sqlx::test(migrations = "../../migrations")]
async fn sign_up_and_sign_in_answer_any_body(pool: MySqlPool) {
    let state = state(&pool).await;
    let sign_up = fuzz::mixed_object(vec![
        ("email", email()),
        ("password", password()),
        (
            "name",
            prop_oneof![
                3 => fuzz::edge_text(100).prop_map(Value::String),
                1 => fuzz::nasty_string().prop_map(Value::String),
            ]
            .boxed(),
        ),
        (
            "phone",
            prop_oneof![
                3 => fuzz::edge_phone().prop_map(Value::String),
                1 => Just(Value::Null),
            ]
            .boxed(),
        ),
    ]);
    let sign_in = fuzz::mixed_object(vec![("email", email()), ("password", password())]);
    let cases = prop_oneof![post("/accounts", sign_up), post("/sessions", sign_in)];
    let inputs = fuzz::generate("accounts sign-up and sign-in", cases);
    fuzz::run_http("accounts sign-up and sign-in", inputs, |req| {
        let state = state.clone();
        async move { accounts::handle(&state, req).await }
    })
    .await;
}

fn signed_in_cases(tokens: Vec<String>) -> BoxedStrategy<HttpCase> {
    let staff = fuzz::mixed_object(vec![
        ("email", email()),
        ("password", password()),
        ("name", fuzz::one_of(vec![json!("Nina Rossi")])),
        ("phone", fuzz::one_of(vec![json!("06 98 76 54 32")])),
        (
            "role",
            fuzz::one_of(
                [
                    "cashier",
                    "pizzaiolo",
                    "courier",
                    "manager",
                    "admin",
                    "customer",
                    "chef",
                ]
                .map(Value::from)
                .to_vec(),
            ),
        ),
        (
            "pizzeria_id",
            fuzz::one_of([1, 2, 99].map(Value::from).to_vec()),
        ),
    ]);
    let change = fuzz::mixed_object(vec![
        ("current_password", password()),
        ("new_password", password()),
    ]);
    let routes = prop_oneof![
        2 => Just(("GET".to_owned(), "/me".to_owned(), fuzz::Body::Empty)),
        1 => fuzz::json_body(change).prop_map(|b| ("POST".to_owned(), "/me/password".to_owned(), b)),
        2 => fuzz::json_body(staff).prop_map(|b| ("POST".to_owned(), "/staff".to_owned(), b)),
        1 => fuzz::query(vec![("pizzeria_id", select(vec!["1".to_owned(), "2".into(), "99".into()]).boxed())])
            .prop_map(|q| ("GET".to_owned(), format!("/staff?{q}"), fuzz::Body::Empty)),
        1 => fuzz::path_segment((1..=40).map(|n: i32| n.to_string()).collect())
            .prop_map(|id| ("POST".to_owned(), format!("/staff/{id}/deactivate"), fuzz::Body::Empty)),
    ];
    let real = select(tokens.clone()).prop_map(|t| Some(format!("Bearer {t}").into_bytes()));
    let auth = prop_oneof![2 => real, 1 => fuzz::authorization(SECRET, tokens)];
    (routes, auth)
        .prop_map(|((method, uri, body), auth)| {
            HttpCase::new(&method, uri)
                .header("authorization", auth)
                .header("content-type", Some(b"application/json".to_vec()))
                .body(body)
        })
        .boxed()
}

#[sqlx::test(migrations = "../../migrations")]
async fn signed_in_routes_answer_any_token_and_body(pool: MySqlPool) {
    let state = state(&pool).await;
    let users = [
        "client.1@ocpizza.test",
        "manager.1@ocpizza.test",
        "admin@ocpizza.test",
        "courier.2@ocpizza.test",
    ];
    let mut tokens = Vec::new();
    for email in users {
        tokens.push(token_for(&pool, SECRET, email).await);
    }
    let inputs = fuzz::generate("accounts signed-in routes", signed_in_cases(tokens));
    fuzz::run_http("accounts signed-in routes", inputs, |req| {
        let state = state.clone();
        async move {
            let response = accounts::handle(&state, req).await;
            // Each case starts with the four sessions valid: a password
            // changed or an account deactivated by the case before ends them.
            sqlx::query(
                "UPDATE users SET active = TRUE, token_version = 0 WHERE email IN (?, ?, ?, ?)",
            )
            .bind(users[0])
            .bind(users[1])
            .bind(users[2])
            .bind(users[3])
            .execute(&state.pool)
            .await
            .unwrap();
            response
        }
    })
    .await;
    // Nobody became staff or admin without a manager's or the admin's token.
    assert_eq!(
        testing::scalar(&pool, "SELECT COUNT(*) FROM users WHERE role = 'admin'").await,
        1
    );
}
