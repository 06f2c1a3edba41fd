//! The catalogue kept per container (`menu::State`) against a real, freshly
//! migrated MariaDB: a warm container answers exactly what the database says
//! at that moment (the same menu [`catalog::listing`] reads statement by
//! statement), a change made through our code shows at the next request of
//! every container, one made by hand in SQL once the copy is older than its
//! TTL, and a menu read while the admin changes the catalogue is one
//! committed state of it, never half of a change.

use chrono::Utc;
use http::StatusCode;
use lambda_http::Body;
use menu::State;
use ocpizza::catalog::{self, catalogue, options, products, version};
use ocpizza::platform::http::Cors;
use ocpizza::platform::ids::{PizzeriaId, ProductId};
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::time::Duration;

const MARGHERITA: i64 = 1;
const REINE: i64 = 2;

/// The demo data, pizzerias 1 to 5 open all day; a container with photos.
async fn demo(pool: &MySqlPool) -> State {
    ocpizza::samples::load_demo(pool).await.expect("demo data");
    ocpizza::samples::open_all_day_with_plenty_of_stock(pool)
        .await
        .expect("open all day");
    container(pool)
}

/// A new container on the same database, with a TTL no test outlives.
fn container(pool: &MySqlPool) -> State {
    let mut state = State::new(pool.clone(), Cors::default());
    state.photos_url = "https://photos.example".into();
    state.catalog_ttl = Duration::from_secs(3600);
    state
}

async fn menu_of(state: &State, pizzeria: i64) -> Value {
    let req = http::Request::builder()
        .uri(format!("/pizzerias/{pizzeria}/menu"))
        .body(Body::Empty)
        .expect("valid request");
    let response = menu::handle(state, req).await;
    assert_eq!(response.status(), StatusCode::OK);
    serde_json::from_slice(response.body().as_ref()).expect("JSON body")
}

/// The products and extras of a menu, as the function answers them.
fn listed(menu: &Value) -> Value {
    json!({"products": menu["products"], "extras": menu["extras"]})
}

/// The same, read from the database statement by statement, as the menu
/// was made before it kept anything.
async fn from_the_database(state: &State, pizzeria: i64) -> Value {
    let found = catalog::pizzeria(&state.pool, PizzeriaId(pizzeria), Utc::now())
        .await
        .expect("pizzeria read")
        .expect("a pizzeria");
    let (mut products, extras) = catalog::listing(&state.pool, &found)
        .await
        .expect("listing read");
    let photos = catalog::photos::all(&state.pool)
        .await
        .expect("photos read");
    catalog::photos::attach(&mut products, &photos, &state.photos_url);
    json!({"products": products, "extras": extras})
}

fn product(menu: &Value, id: i64) -> Value {
    menu["products"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("product {id} not on the menu"))
}

async fn run(pool: &MySqlPool, sql: &str) {
    sqlx::raw_sql(sql)
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_warm_container_answers_what_the_database_says(pool: MySqlPool) {
    let state = demo(&pool).await;
    // Every pizzeria: open, opening soon, closed; then scarce stock,
    // reservations, a product off one menu, a photo, a pizza without a
    // size, each read by the warm container.
    let mut changes = vec![
        "UPDATE stock SET on_hand = 700, reserved = 130 WHERE pizzeria_id = 1 AND ingredient_id = 3",
        "UPDATE stock SET on_hand = 0 WHERE pizzeria_id = 2 AND ingredient_id = 7",
        "UPDATE stock SET reserved = on_hand WHERE pizzeria_id = 1 AND ingredient_id = 54",
        "DELETE FROM stock WHERE pizzeria_id = 3 AND ingredient_id = 16",
    ];
    for pizzeria in 1..=8 {
        assert_eq!(
            listed(&menu_of(&state, pizzeria).await),
            from_the_database(&state, pizzeria).await,
            "pizzeria {pizzeria}"
        );
    }
    for change in changes.drain(..) {
        run(&pool, change).await;
        for pizzeria in 1..=3 {
            assert_eq!(
                listed(&menu_of(&state, pizzeria).await),
                from_the_database(&state, pizzeria).await,
                "pizzeria {pizzeria} after {change}"
            );
        }
    }
    // A pizzeria without any stock row reads the versions by themselves.
    run(&pool, "DELETE FROM stock WHERE pizzeria_id = 2").await;
    let (none, some) = (
        catalogue::live(&pool, PizzeriaId(2)).await.expect("live"),
        catalogue::live(&pool, PizzeriaId(1)).await.expect("live"),
    );
    assert!(none.available.is_empty() && !some.available.is_empty());
    assert_eq!(
        (none.catalog_version, none.pizzerias_version),
        (some.catalog_version, some.pizzerias_version)
    );
    assert!(some.catalog_version >= 1, "bumped by the demo data");
    assert_eq!(
        listed(&menu_of(&state, 2).await),
        from_the_database(&state, 2).await
    );
    // Mozzarella: (700 - 130) / 120 g for a medium Margherita; a large one
    // takes 180 g.
    let margherita = product(&menu_of(&state, 1).await, MARGHERITA);
    assert_eq!(margherita["max_quantity"], 4);
    assert_eq!(margherita["sizes"][1]["max_quantity"], 3);
    assert_eq!(
        product(&menu_of(&state, 1).await, 24)["unavailable_reason"],
        "sold_out"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_change_through_our_code_shows_at_the_next_request_of_every_container(pool: MySqlPool) {
    let (one, two) = (demo(&pool).await, container(&pool));
    for state in [&one, &two] {
        assert_eq!(
            product(&menu_of(state, 1).await, REINE)["price_cents"],
            1100
        );
    }
    let change = products::ProductChange {
        price_cents: Some(1190),
        ..Default::default()
    };
    products::update(&pool, ProductId(REINE), &change)
        .await
        .expect("price changed");
    for state in [&one, &two] {
        let reine = product(&menu_of(state, 1).await, REINE);
        assert_eq!(reine["price_cents"], 1190);
        assert_eq!(reine["sizes"][0]["price_cents"], 1190);
    }
    // Off pizzeria 2's menu only.
    products::set_unavailable(&pool, PizzeriaId(2), ProductId(REINE), true)
        .await
        .expect("excluded");
    for state in [&one, &two] {
        let here = product(&menu_of(state, 2).await, REINE);
        assert_eq!(here["unavailable_reason"], "not_on_this_menu");
        assert_eq!(here["available"], false);
        assert_eq!(product(&menu_of(state, 1).await, REINE)["available"], true);
    }
    products::set_unavailable(&pool, PizzeriaId(2), ProductId(REINE), false)
        .await
        .expect("back");
    assert_eq!(product(&menu_of(&one, 2).await, REINE)["available"], true);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_change_by_hand_in_sql_shows_once_the_copy_is_older_than_its_ttl(pool: MySqlPool) {
    let state = demo(&pool).await;
    assert_eq!(
        product(&menu_of(&state, 1).await, MARGHERITA)["name"],
        "Margherita"
    );
    run(
        &pool,
        "UPDATE products SET name = 'Margherita DOP' WHERE id = 1",
    )
    .await;
    // Within the TTL, without a bump, the container keeps what it read.
    assert_eq!(
        product(&menu_of(&state, 1).await, MARGHERITA)["name"],
        "Margherita"
    );
    // The same container once its copy is older than the TTL.
    let mut later = state.clone();
    later.catalog_ttl = Duration::ZERO;
    assert_eq!(
        product(&menu_of(&later, 1).await, MARGHERITA)["name"],
        "Margherita DOP"
    );
    // A bump by hand is a change, whatever the TTL.
    run(
        &pool,
        "UPDATE products SET name = 'Margherita' WHERE id = 1",
    )
    .await;
    let mut conn = pool.acquire().await.expect("a connection");
    version::bump(&mut conn).await.expect("bumped");
    assert_eq!(
        product(&menu_of(&state, 1).await, MARGHERITA)["name"],
        "Margherita"
    );
    // The stock is never kept: read at each request.
    run(
        &pool,
        "UPDATE stock SET on_hand = 250, reserved = 0 WHERE pizzeria_id = 1 AND ingredient_id = 3",
    )
    .await;
    assert_eq!(
        product(&menu_of(&state, 1).await, MARGHERITA)["max_quantity"],
        2
    );
}

/// Two complete states of Reine's sizes, recipe and extras; the admin
/// switches between them while menus are read.
fn sizes(prices: [i64; 2]) -> Vec<options::SizeChange> {
    [
        ("medium", "Moyenne", prices[0], 100),
        ("large", "Grande", prices[1], 150),
    ]
    .into_iter()
    .map(
        |(code, label, price_cents, recipe_percent)| options::SizeChange {
            code: code.into(),
            label: label.into(),
            price_cents,
            recipe_percent,
        },
    )
    .collect()
}

#[sqlx::test(migrations = "../../migrations")]
async fn menus_read_during_an_admin_change_are_never_half_of_it(pool: MySqlPool) {
    let state = demo(&pool).await;
    menu_of(&state, 1).await;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (state, done) = (state.clone(), done.clone());
            tokio::spawn(async move {
                let mut seen = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) || seen == 0 {
                    let menu = menu_of(&state, 1).await;
                    let reine = product(&menu, REINE);
                    let prices: Vec<i64> = reine["sizes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|s| s["price_cents"].as_i64())
                        .collect();
                    // Sizes, price and extras of one state: A (1100, 1500,
                    // ten extras) or B (1200, 1700, none); never a mix.
                    let extras = menu["extras"].as_array().map_or(0, Vec::len);
                    let whole = match prices.as_slice() {
                        [1100, 1500] => reine["price_cents"] == 1100 && extras == 10,
                        [1200, 1700] => reine["price_cents"] == 1200 && extras == 0,
                        _ => false,
                    };
                    assert!(whole, "half a change: {reine} with {extras} extras");
                    seen += 1;
                }
                seen
            })
        })
        .collect();
    let extras_a: Vec<options::ExtraChange> = serde_json::from_value(json!([
        {"ingredient_id": 3, "quantity": 60, "price_cents": 150},
        {"ingredient_id": 7, "quantity": 40, "price_cents": 200},
        {"ingredient_id": 4, "quantity": 50, "price_cents": 200},
        {"ingredient_id": 6, "quantity": 40, "price_cents": 200},
        {"ingredient_id": 5, "quantity": 40, "price_cents": 100},
        {"ingredient_id": 27, "quantity": 1, "price_cents": 100},
        {"ingredient_id": 12, "quantity": 20, "price_cents": 100},
        {"ingredient_id": 15, "quantity": 30, "price_cents": 80},
        {"ingredient_id": 11, "quantity": 20, "price_cents": 150},
        {"ingredient_id": 24, "quantity": 20, "price_cents": 100}
    ]))
    .expect("extras");
    for round in 0..20 {
        let b = round % 2 == 0;
        // One transaction per state: sizes and extras together.
        let mut tx = pool.begin().await.expect("a transaction");
        let (prices, extras) = if b {
            ([1200, 1700], &[][..])
        } else {
            ([1100, 1500], &extras_a[..])
        };
        sqlx::query("DELETE FROM product_sizes WHERE product_id = ?")
            .bind(REINE)
            .execute(&mut *tx)
            .await
            .expect("sizes deleted");
        for (i, size) in sizes(prices).iter().enumerate() {
            sqlx::query(
                "INSERT INTO product_sizes (product_id, code, label, price_cents, recipe_percent, position) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(REINE)
            .bind(&size.code)
            .bind(&size.label)
            .bind(size.price_cents)
            .bind(size.recipe_percent)
            .bind(i as i64 + 1)
            .execute(&mut *tx)
            .await
            .expect("size written");
        }
        sqlx::query("DELETE FROM extras")
            .execute(&mut *tx)
            .await
            .expect("extras deleted");
        for (i, extra) in extras.iter().enumerate() {
            sqlx::query(
                "INSERT INTO extras (ingredient_id, quantity, price_cents, position) VALUES (?, ?, ?, ?)",
            )
            .bind(extra.ingredient_id)
            .bind(extra.quantity)
            .bind(extra.price_cents)
            .bind(i as i64 + 1)
            .execute(&mut *tx)
            .await
            .expect("extra written");
        }
        sqlx::query("UPDATE products SET price_cents = ? WHERE id = ?")
            .bind(prices[0])
            .bind(REINE)
            .execute(&mut *tx)
            .await
            .expect("price written");
        version::bump(&mut tx).await.expect("bumped");
        tx.commit().await.expect("committed");
        // The same through the back office's own functions, one change
        // each (each one a whole state of what it changes).
        options::replace_sizes(&pool, ProductId(REINE), &sizes(prices))
            .await
            .expect("sizes replaced");
        options::replace_extras(&pool, extras)
            .await
            .expect("extras replaced");
        tokio::task::yield_now().await;
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        let seen = reader.await.expect("a reader saw only whole states");
        assert!(seen > 0);
    }
}
