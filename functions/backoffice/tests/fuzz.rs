//! Fuzzing the back office (see `testkit::fuzz`): stock changes,
//! thresholds and menu exclusions, products and their recipes, revenue
//! query strings; each with managers' and the admin's tokens as well as
//! forged ones. Every answer is a 2xx or a 4xx problem, and the stock ledger
//! still adds up after.

use proptest::prelude::*;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use testkit::fuzz::{self, HttpCase};
use testkit::{self as testing, token_for};

const SECRET: &str = "backoffice-fuzz-secret";

async fn setup(pool: &MySqlPool) -> (backoffice::State, Vec<String>) {
    ocpizza::samples::load_demo(pool).await.unwrap();
    let state = backoffice::State {
        pool: pool.clone(),
        cors: Default::default(),
        secret_key: SECRET.to_owned().into(),
        clock: Default::default(),
    };
    let mut tokens = Vec::new();
    for email in [
        "admin@ocpizza.test",
        "manager.1@ocpizza.test",
        "manager.2@ocpizza.test",
        "cashier.1@ocpizza.test",
    ] {
        tokens.push(token_for(pool, SECRET, email).await);
    }
    (state, tokens)
}

/// The caller: mostly the admin or pizzeria 1's manager, now and then anyone.
fn bearer(tokens: &[String]) -> BoxedStrategy<Option<Vec<u8>>> {
    let staff = vec![tokens[0].clone(), tokens[1].clone()];
    prop_oneof![
        6 => proptest::sample::select(staff).prop_map(|t| Some(format!("Bearer {t}").into_bytes())),
        1 => fuzz::authorization(SECRET, tokens.to_vec()),
    ]
    .boxed()
}

fn ids(values: &[i64]) -> Vec<String> {
    values.iter().map(i64::to_string).collect()
}

fn stock_cases(tokens: &[String]) -> BoxedStrategy<HttpCase> {
    let pizzeria = fuzz::path_segment(ids(&[1, 1, 1, 2, 6, 99]));
    let ingredient = fuzz::path_segment(ids(&[1, 2, 3, 16, 17, 40, 999]));
    let kind = proptest::sample::select(vec![
        "restock",
        "restock",
        "adjustment",
        "adjustment",
        "waste",
        "waste",
        "thaw",
    ]);
    let quantity = || prop_oneof![3 => fuzz::int(1..=500), 1 => fuzz::nasty_number()].boxed();
    let change = fuzz::mixed_object(vec![
        ("quantity", quantity()),
        ("on_hand", quantity()),
        (
            "delta",
            prop_oneof![fuzz::int(-500..=500), fuzz::nasty_number()].boxed(),
        ),
        (
            "reason",
            prop_oneof![
                3 => fuzz::edge_text(200).prop_map(Value::String),
                1 => fuzz::nasty_string().prop_map(Value::String),
            ]
            .boxed(),
        ),
    ]);
    let threshold = fuzz::mixed_object(vec![("low_threshold", quantity())]);
    let manual = (
        fuzz::method("POST"),
        pizzeria.clone(),
        ingredient.clone(),
        kind,
        fuzz::json_body(change),
        bearer(tokens),
    )
        .prop_map(|(method, p, i, kind, body, auth)| {
            HttpCase::new(&method, format!("/pizzerias/{p}/stock/{i}/{kind}"))
                .header("authorization", auth)
                .header("content-type", Some(b"application/json".to_vec()))
                .body(body)
        });
    let threshold = (
        fuzz::method("PATCH"),
        pizzeria.clone(),
        ingredient,
        fuzz::json_body(threshold),
        bearer(tokens),
    )
        .prop_map(|(method, p, i, body, auth)| {
            HttpCase::new(&method, format!("/pizzerias/{p}/stock/{i}"))
                .header("authorization", auth)
                .body(body)
        });
    let levels = (pizzeria, bearer(tokens)).prop_map(|(p, auth)| {
        HttpCase::new("GET", format!("/pizzerias/{p}/stock")).header("authorization", auth)
    });
    prop_oneof![6 => manual, 2 => threshold, 1 => levels].boxed()
}

#[sqlx::test(migrations = "../../migrations")]
async fn stock_changes_of_any_shape_keep_the_ledger(pool: MySqlPool) {
    let (state, tokens) = setup(&pool).await;
    let inputs = fuzz::generate("backoffice stock", stock_cases(&tokens));
    fuzz::run_http("backoffice stock", inputs, |req| {
        let state = state.clone();
        async move { backoffice::handle(&state, req).await }
    })
    .await;
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
}

fn product_body() -> BoxedStrategy<Value> {
    let line = fuzz::mixed_object(vec![
        ("ingredient_id", fuzz::int(1..=25)),
        ("quantity", fuzz::int(1..=300)),
    ]);
    let recipe = fuzz::mixed_object(vec![
        (
            "lines",
            prop::collection::vec(line, 0..5)
                .prop_map(Value::Array)
                .boxed(),
        ),
        (
            "steps",
            prop::collection::vec(
                prop_oneof![
                    3 => fuzz::edge_text(500).prop_map(Value::String),
                    1 => fuzz::nasty_string().prop_map(Value::String),
                ],
                0..4,
            )
            .prop_map(Value::Array)
            .boxed(),
        ),
    ]);
    fuzz::mixed_object(vec![
        ("category_id", fuzz::int(1..=4)),
        (
            "name",
            prop_oneof![
                3 => fuzz::uuid_text().prop_map(|u| json!(format!("Pizza {}", &u[..8]))),
                1 => (fuzz::edge_text(92), fuzz::uuid_text())
                    .prop_map(|(t, u)| json!(format!("{} {}", &u[..7], t))),
                1 => fuzz::one_of(vec![json!("Margherita"), json!("margherita ")]),
                1 => fuzz::nasty_string().prop_map(Value::String),
            ]
            .boxed(),
        ),
        (
            "description",
            prop_oneof![
                fuzz::edge_text(500).prop_map(Value::String),
                fuzz::nasty_string().prop_map(Value::String),
            ]
            .boxed(),
        ),
        ("price_cents", fuzz::int(1..=5_000)),
        (
            "vat_rate_bp",
            fuzz::one_of(vec![json!(550), json!(1000), json!(2000)]),
        ),
        ("active", fuzz::one_of(vec![json!(true), json!(false)])),
        ("position", fuzz::int(0..=50)),
        ("recipe", recipe),
    ])
}

fn product_cases(tokens: &[String]) -> BoxedStrategy<HttpCase> {
    let product = || fuzz::path_segment(ids(&[1, 2, 16, 21, 99]));
    let create = (
        fuzz::method("POST"),
        fuzz::json_body(product_body()),
        bearer(tokens),
    )
        .prop_map(|(method, body, auth)| {
            HttpCase::new(&method, "/products")
                .header("authorization", auth)
                .body(body)
        });
    let update = (
        fuzz::method("PATCH"),
        product(),
        fuzz::json_body(product_body()),
        bearer(tokens),
    )
        .prop_map(|(method, id, body, auth)| {
            HttpCase::new(&method, format!("/products/{id}"))
                .header("authorization", auth)
                .body(body)
        });
    let exclusion = (
        proptest::sample::select(vec!["PUT", "DELETE", "GET"]),
        fuzz::path_segment(ids(&[1, 2, 99])),
        product(),
        bearer(tokens),
    )
        .prop_map(|(method, p, id, auth)| {
            HttpCase::new(method, format!("/pizzerias/{p}/products/{id}/unavailable"))
                .header("authorization", auth)
        });
    let read = (product(), bearer(tokens)).prop_map(|(id, auth)| {
        HttpCase::new("GET", format!("/products/{id}")).header("authorization", auth)
    });
    prop_oneof![4 => create, 4 => update, 1 => exclusion, 1 => read].boxed()
}

#[sqlx::test(migrations = "../../migrations")]
async fn products_of_any_shape_are_saved_or_refused(pool: MySqlPool) {
    let (state, tokens) = setup(&pool).await;
    let inputs = fuzz::generate("backoffice products", product_cases(&tokens));
    fuzz::run_http("backoffice products", inputs, |req| {
        let state = state.clone();
        async move { backoffice::handle(&state, req).await }
    })
    .await;
    // Every recipe line still names a product and an ingredient that exist.
    assert_eq!(
        testing::scalar(
            &pool,
            "SELECT COUNT(*) FROM recipe_lines r LEFT JOIN products p ON p.id = r.product_id \
             LEFT JOIN ingredients i ON i.id = r.ingredient_id WHERE p.id IS NULL OR i.id IS NULL"
        )
        .await,
        0
    );
}

/// A day as a person (or a script) writes one: this year's, or at the ends
/// of what a date parser accepts.
fn day() -> BoxedStrategy<String> {
    prop_oneof![
        4 => (1u32..=12, 1u32..=28).prop_map(|(m, d)| format!("2026-{m:02}-{d:02}")),
        2 => proptest::sample::select(vec![
            "2026-02-29", "2024-02-29", "2026-13-01", "2026-1-1", "0000-01-01", "0001-01-01",
            "1000-01-01", "9999-12-31", "+10000-01-01", "+262143-12-31", "-262144-01-01",
            "+262142-12-31", "-0001-12-31", "2026-11-29T00:00:00Z",
        ])
        .prop_map(str::to_owned),
    ]
    .boxed()
}

fn revenue_cases(tokens: &[String]) -> BoxedStrategy<HttpCase> {
    let query = fuzz::query(vec![
        (
            "pizzeria_id",
            proptest::sample::select(ids(&[1, 2, 99])).boxed(),
        ),
        ("from", day()),
        ("to", day()),
        (
            "format",
            proptest::sample::select(vec!["json".to_owned(), "csv".to_owned()]).boxed(),
        ),
    ]);
    (fuzz::method("GET"), query, bearer(tokens))
        .prop_map(|(method, query, auth)| {
            HttpCase::new(&method, format!("/reports/revenue?{query}"))
                .header("authorization", auth)
        })
        .boxed()
}

#[sqlx::test(migrations = "../../migrations")]
async fn revenue_answers_any_query_string(pool: MySqlPool) {
    let (state, tokens) = setup(&pool).await;
    let inputs = fuzz::generate("backoffice revenue", revenue_cases(&tokens));
    fuzz::run_http("backoffice revenue", inputs, |req| {
        let state = state.clone();
        async move { backoffice::handle(&state, req).await }
    })
    .await;
}
