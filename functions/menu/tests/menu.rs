//! The menu function against a real, freshly migrated MariaDB database.

use http::{header, StatusCode};
use lambda_http::Body;
use menu::State;
use ocpizza::platform::http::{Cors, Response};
use serde_json::Value;
use sqlx::MySqlPool;

/// A small world the tests control exactly: one open pizzeria and one opening
/// soon; Margherita (dough 1, sauce 80 g, mozzarella 100 g), Chèvre (dough,
/// chèvre 60 g), a pizza without recipe, a drink.
const WORLD: &str = r#"
INSERT INTO pizzerias (id, name, line1, postcode, city, phone, latitude, longitude,
    delivery_radius_m, delivery_fee_cents, min_order_cents, status, opens_on) VALUES
 (1, 'Test Lyon', '1 rue A', '69002', 'Lyon', '0400000000', 45.76, 4.83, 4000, 300, 1500, 'active', NULL),
 (2, 'Test Lille', '2 rue B', '59000', 'Lille', '0300000000', 50.63, 3.06, 4000, 300, 1500, 'opening_soon', '2027-03-01');
INSERT INTO opening_hours (pizzeria_id, weekday, opens_at, closes_at) VALUES
 (1, 1, '00:00:00', '23:59:59'), (1, 2, '00:00:00', '23:59:59'), (1, 3, '00:00:00', '23:59:59'),
 (1, 4, '00:00:00', '23:59:59'), (1, 5, '00:00:00', '23:59:59'), (1, 6, '00:00:00', '23:59:59'),
 (1, 7, '00:00:00', '23:59:59');
INSERT INTO categories (id, name, position) VALUES (1, 'Pizzas', 1), (2, 'Boissons', 2);
INSERT INTO products (id, category_id, name, price_cents, vat_rate_bp, position) VALUES
 (1, 1, 'Margherita', 950, 1000, 1), (2, 1, 'Chèvre', 1250, 1000, 2),
 (3, 1, 'Pizza du moment', 1300, 1000, 3), (4, 2, 'Eau', 250, 1000, 1);
INSERT INTO products (id, category_id, name, price_cents, vat_rate_bp, position, active) VALUES
 (5, 1, 'Retirée', 900, 1000, 9, FALSE);
INSERT INTO ingredients (id, name, unit) VALUES
 (1, 'Pâte', 'piece'), (2, 'Sauce tomate', 'g'), (3, 'Mozzarella', 'g'), (4, 'Chèvre', 'g'), (5, 'Eau 50 cl', 'piece');
INSERT INTO recipe_lines (product_id, ingredient_id, quantity) VALUES
 (1, 1, 1), (1, 2, 80), (1, 3, 100), (2, 1, 1), (2, 4, 60), (4, 5, 1), (5, 1, 1);
INSERT INTO stock (pizzeria_id, ingredient_id, on_hand, reserved) VALUES
 (1, 1, 50, 0), (1, 2, 1000, 0), (1, 3, 730, 0), (1, 4, 0, 0), (1, 5, 12, 0),
 (2, 1, 50, 0), (2, 2, 1000, 0), (2, 3, 1000, 0), (2, 4, 1000, 0), (2, 5, 10, 0);
"#;

async fn world(pool: &MySqlPool) -> State {
    sqlx::raw_sql(WORLD)
        .execute(pool)
        .await
        .expect("test world loads");
    State::new(pool.clone(), Cors::default())
}

fn get(path: &str) -> http::Request<Body> {
    http::Request::builder()
        .uri(path)
        .body(Body::Empty)
        .expect("valid request")
}

fn json(response: &Response) -> Value {
    serde_json::from_slice(response.body().as_ref()).expect("JSON body")
}

fn product<'a>(menu: &'a Value, name: &str) -> &'a Value {
    menu["products"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("{name} not on the menu: {menu}"))
}

#[sqlx::test(migrations = "../../migrations")]
async fn menu_shows_how_many_can_still_be_made(pool: MySqlPool) {
    let state = world(&pool).await;
    let response = menu::handle(&state, get("/pizzerias/1/menu")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let menu = json(&response);
    assert_eq!(menu["pizzeria"]["name"], "Test Lyon");
    assert_eq!(menu["pizzeria"]["accepting_orders"], true);

    // Mozzarella is the limit: 730 g / 100 g = 7 (dough: 50, sauce: 12).
    let margherita = product(&menu, "Margherita");
    assert_eq!(margherita["max_quantity"], 7);
    assert_eq!(margherita["available"], true);
    assert_eq!(margherita["price_cents"], 950);
    assert_eq!(margherita["category"], "Pizzas");

    // An ingredient at zero: sold out.
    let chevre = product(&menu, "Chèvre");
    assert_eq!(chevre["max_quantity"], 0);
    assert_eq!(chevre["available"], false);
    assert_eq!(chevre["unavailable_reason"], "sold_out");

    // No recipe: cannot be made.
    let du_moment = product(&menu, "Pizza du moment");
    assert_eq!(du_moment["available"], false);
    assert_eq!(du_moment["unavailable_reason"], "no_recipe");

    assert_eq!(product(&menu, "Eau")["max_quantity"], 12);
    // Inactive products are not on the menu; categories come in their order.
    let names: Vec<&str> = menu["products"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["Margherita", "Chèvre", "Pizza du moment", "Eau"]);
}

#[sqlx::test(migrations = "../../migrations")]
async fn reservations_reduce_availability(pool: MySqlPool) {
    let state = world(&pool).await;
    // Three Margheritas reserved by unpaid orders: 300 g of the 730 g mozzarella.
    sqlx::query("UPDATE stock SET reserved = 300 WHERE pizzeria_id = 1 AND ingredient_id = 3")
        .execute(&pool)
        .await
        .unwrap();
    let menu = json(&menu::handle(&state, get("/pizzerias/1/menu")).await);
    assert_eq!(product(&menu, "Margherita")["max_quantity"], 4);

    // Everything reserved: sold out, never negative.
    sqlx::query("UPDATE stock SET reserved = on_hand WHERE pizzeria_id = 1 AND ingredient_id = 3")
        .execute(&pool)
        .await
        .unwrap();
    let menu = json(&menu::handle(&state, get("/pizzerias/1/menu")).await);
    assert_eq!(product(&menu, "Margherita")["max_quantity"], 0);
    assert_eq!(
        product(&menu, "Margherita")["unavailable_reason"],
        "sold_out"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_product_taken_off_one_pizzerias_menu(pool: MySqlPool) {
    let state = world(&pool).await;
    sqlx::query("INSERT INTO menu_exclusions (pizzeria_id, product_id) VALUES (1, 4)")
        .execute(&pool)
        .await
        .unwrap();
    let menu = json(&menu::handle(&state, get("/pizzerias/1/menu")).await);
    assert_eq!(product(&menu, "Eau")["available"], false);
    assert_eq!(
        product(&menu, "Eau")["unavailable_reason"],
        "not_on_this_menu"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_pizzeria_not_yet_open_is_flagged(pool: MySqlPool) {
    let state = world(&pool).await;
    let menu = json(&menu::handle(&state, get("/pizzerias/2/menu")).await);
    assert_eq!(menu["pizzeria"]["status"], "opening_soon");
    assert_eq!(menu["pizzeria"]["opens_on"], "2027-03-01");
    assert_eq!(menu["pizzeria"]["accepting_orders"], false);
    assert_eq!(menu["pizzeria"]["open_now"], false);
    // Stock is there, but nothing can be ordered yet.
    assert_eq!(product(&menu, "Margherita")["available"], false);
    assert_eq!(
        product(&menu, "Margherita")["unavailable_reason"],
        "pizzeria_not_open"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn lists_pizzerias_with_their_flags(pool: MySqlPool) {
    let state = world(&pool).await;
    let response = menu::handle(&state, get("/pizzerias")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json(&response);
    let pizzerias = body["pizzerias"].as_array().unwrap();
    assert_eq!(pizzerias.len(), 2);
    assert_eq!(pizzerias[0]["id"], 1);
    assert_eq!(pizzerias[0]["address"]["city"], "Lyon");
    assert_eq!(
        pizzerias[0]["open_now"], true,
        "pizzeria 1 is open around the clock"
    );
    assert_eq!(pizzerias[0]["opening_hours"].as_array().unwrap().len(), 7);
    assert_eq!(pizzerias[0]["delivery"]["delivery_fee_cents"], 300);
    assert_eq!(pizzerias[1]["accepting_orders"], false);
}

#[sqlx::test(migrations = "../../migrations")]
async fn etag_makes_an_unchanged_menu_a_304_and_a_stock_change_a_200(pool: MySqlPool) {
    let state = world(&pool).await;
    let first = menu::handle(&state, get("/pizzerias/1/menu")).await;
    let etag = first.headers()[header::ETAG].clone();

    let mut again = get("/pizzerias/1/menu");
    again
        .headers_mut()
        .insert(header::IF_NONE_MATCH, etag.clone());
    let second = menu::handle(&state, again).await;
    assert_eq!(second.status(), StatusCode::NOT_MODIFIED);
    assert!(second.body().is_empty());

    sqlx::query(
        "UPDATE stock SET on_hand = on_hand - 100 WHERE pizzeria_id = 1 AND ingredient_id = 3",
    )
    .execute(&pool)
    .await
    .unwrap();
    let mut after_change = get("/pizzerias/1/menu");
    after_change
        .headers_mut()
        .insert(header::IF_NONE_MATCH, etag);
    let third = menu::handle(&state, after_change).await;
    assert_eq!(third.status(), StatusCode::OK);
    assert_eq!(product(&json(&third), "Margherita")["max_quantity"], 6);
}

#[sqlx::test(migrations = "../../migrations")]
async fn unknown_pizzerias_and_routes_are_problems(pool: MySqlPool) {
    let state = world(&pool).await;
    for (method, path, status) in [
        ("GET", "/pizzerias/99/menu", 404),
        ("GET", "/pizzerias/abc/menu", 404),
        ("GET", "/pizzerias/-1/menu", 404),
        ("GET", "/pizzerias/99999999999999999999999/menu", 404),
        ("GET", "/nothing", 404),
        ("POST", "/pizzerias/1/menu", 405),
        ("DELETE", "/pizzerias", 405),
    ] {
        let req = http::Request::builder()
            .method(method)
            .uri(path)
            .body(Body::Empty)
            .unwrap();
        let response = menu::handle(&state, req).await;
        assert_eq!(response.status(), status, "{method} {path}");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let problem = json(&response);
        assert_eq!(problem["status"], status);
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_demo_data_loads_twice_and_serves_a_menu(pool: MySqlPool) {
    ocpizza::samples::load_demo(&pool)
        .await
        .expect("demo data loads");
    ocpizza::samples::load_demo(&pool)
        .await
        .expect("and loads again");
    let state = State::new(pool.clone(), Cors::default());
    let body = json(&menu::handle(&state, get("/pizzerias")).await);
    let pizzerias = body["pizzerias"].as_array().unwrap();
    assert_eq!(pizzerias.len(), 8);
    assert_eq!(
        pizzerias.iter().filter(|p| p["status"] == "active").count(),
        5
    );

    let menu = json(&menu::handle(&state, get("/pizzerias/1/menu")).await);
    let products = menu["products"].as_array().unwrap();
    assert!(
        products
            .iter()
            .filter(|p| p["category"] == "Pizzas")
            .count()
            >= 12
    );
    assert!(products.iter().any(|p| p["available"] == true));

    // Somewhere in the group a pizza is short of an ingredient.
    let mut sold_out_somewhere = false;
    for id in 1..=5 {
        let menu = json(&menu::handle(&state, get(&format!("/pizzerias/{id}/menu"))).await);
        sold_out_somewhere |= menu["products"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["unavailable_reason"] == "sold_out");
    }
    assert!(sold_out_somewhere);

    // The ledger explains the stock: sums of deltas equal the levels.
    let (mismatches,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM stock s LEFT JOIN ( \
            SELECT pizzeria_id, ingredient_id, SUM(on_hand_delta) AS on_hand, SUM(reserved_delta) AS reserved \
            FROM stock_movements GROUP BY pizzeria_id, ingredient_id) m \
         ON m.pizzeria_id = s.pizzeria_id AND m.ingredient_id = s.ingredient_id \
         WHERE COALESCE(m.on_hand, 0) <> s.on_hand OR COALESCE(m.reserved, 0) <> s.reserved",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(mismatches, 0);
}

/// The sample events of `events/` are real function-URL payloads that this
/// function answers as documented.
#[sqlx::test(migrations = "../../migrations")]
async fn sample_events_are_answered(pool: MySqlPool) {
    ocpizza::samples::load_demo(&pool).await.unwrap();
    let state = State::new(pool.clone(), Cors::default());
    for (file, status) in [
        ("menu-list-pizzerias.json", 200),
        ("menu-pizzeria-menu.json", 200),
        ("menu-unknown-pizzeria.json", 404),
    ] {
        let path = format!("{}/../../events/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("event file");
        let req = lambda_http::request::from_str(&text).expect("a function URL event");
        let response = menu::handle(&state, req).await;
        assert_eq!(response.status(), status, "{file}");
    }
}
