//! What a customer may ask and must know, through the functions' HTTP
//! handlers (answers checked against `docs/openapi.json`), the real queue and
//! MariaDB: a large Reine without mushrooms with goat's cheese, a note and a
//! door code is priced from the database, reserved as it will be made, and
//! shown as asked to the kitchen and the courier; its allergens are told
//! before paying. Then what a hostile customer might send instead.

use chrono::Utc;
use http::StatusCode;
use ocpizza::reporting::audit::Scope;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use testkit::{self as testing, scalar, Function::*, World};

const REINE: i64 = 2;
const MUSHROOMS: i64 = 5;
const GOAT: i64 = 7;
const DOUGH: i64 = 1;
const COLA: i64 = 21;

/// The demo data, open all day with plenty of stock.
async fn world(pool: &MySqlPool) -> World {
    let world = World::demo(pool, Utc::now()).await;
    testing::open_all_day_with_plenty_of_stock(pool).await;
    world
}

/// A cash delivery from pizzeria 1 with these lines.
fn cart(lines: Value) -> Value {
    json!({
        "pizzeria_id": 1, "fulfilment": "delivery", "payment_method": "cash",
        "address": {"line1": "18 Rue Mercière", "postcode": "69002", "city": "Lyon"},
        "lines": lines,
        "delivery_instructions": "Code 4521B, 3e étage",
        "contact": {"name": "Léa Martin", "phone": "06 12 34 56 78", "email": "lea@example.fr"}
    })
}

/// The large Reine of the issue, once.
fn large_reine() -> Value {
    json!({"product_id": REINE, "quantity": 1, "size": "large",
           "remove": [MUSHROOMS], "extras": [GOAT], "note": "bien cuite"})
}

/// A guest's checkout of `body`.
async fn place(world: &World, body: Value) -> (StatusCode, Value) {
    world
        .call(Checkout, "POST", "/orders", Some(body), None)
        .await
}

/// What pizzeria 1's menu says.
async fn menu(world: &World) -> Value {
    let (status, menu) = world
        .call(Menu, "GET", "/pizzerias/1/menu", None, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{menu}");
    menu
}

fn product(menu: &Value, id: i64) -> Value {
    menu["products"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("product {id} not on the menu"))
}

fn size(product: &Value, code: &str) -> Value {
    product["sizes"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["code"] == code))
        .cloned()
        .unwrap_or_else(|| panic!("no size {code}: {product}"))
}

fn extra(menu: &Value, ingredient: i64) -> Value {
    menu["extras"]
        .as_array()
        .and_then(|all| all.iter().find(|e| e["ingredient_id"] == ingredient))
        .cloned()
        .unwrap_or_else(|| panic!("no extra {ingredient}"))
}

/// What the order holds reserved, by ingredient, from the ledger.
async fn reserved(pool: &MySqlPool, order: i64) -> Vec<(i64, i64)> {
    sqlx::query_as(
        "SELECT ingredient_id, CAST(SUM(reserved_delta) AS SIGNED) FROM stock_movements \
         WHERE order_id = ? GROUP BY ingredient_id HAVING SUM(reserved_delta) <> 0 ORDER BY ingredient_id",
    )
    .bind(order)
    .fetch_all(pool)
    .await
    .expect("the ledger")
}

/// The Reine's recipe at 150 %, rounded up, without the mushrooms, with
/// the goat's cheese extra's portion at 150 %: computed from the database.
async fn large_reine_needs(pool: &MySqlPool) -> Vec<(i64, i64)> {
    sqlx::query_as(
        "SELECT ingredient_id, CAST(CEILING(quantity * 150 / 100) AS SIGNED) FROM ( \
            SELECT ingredient_id, quantity FROM recipe_lines WHERE product_id = ? AND ingredient_id <> ? \
            UNION ALL SELECT ingredient_id, quantity FROM extras WHERE ingredient_id = ?) made \
         ORDER BY ingredient_id",
    )
    .bind(REINE)
    .bind(MUSHROOMS)
    .bind(GOAT)
    .fetch_all(pool)
    .await
    .expect("the recipe")
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_large_reine_without_mushrooms_with_goats_cheese_is_priced_reserved_and_shown_as_asked(
    pool: MySqlPool,
) {
    let world = world(&pool).await;
    // Before paying: the menu tells the price of each choice and the
    // allergens, and the checkout's answer the line's own.
    let menu = menu(&world).await;
    let reine = product(&menu, REINE);
    assert_eq!(reine["allergens"], json!(["gluten", "milk"]));
    assert_eq!(reine["vegetarian"], false);
    assert_eq!(product(&menu, 1)["vegetarian"], true, "a Margherita");
    assert_eq!(product(&menu, COLA)["allergens"], json!([]));
    assert_eq!(product(&menu, 26)["allergens"], json!(["gluten"]), "a beer");
    let mushrooms = reine["ingredients"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["id"] == MUSHROOMS))
        .cloned()
        .unwrap_or_default();
    assert_eq!(mushrooms["removable"], true);
    let unit = size(&reine, "large")["price_cents"].as_i64().unwrap_or(0)
        + extra(&menu, GOAT)["price_cents"].as_i64().unwrap_or(0);
    let in_db = scalar(
        &pool,
        &format!(
            "SELECT (SELECT price_cents FROM product_sizes WHERE product_id = {REINE} AND code = 'large') \
                  + (SELECT price_cents FROM extras WHERE ingredient_id = {GOAT})"
        ),
    )
    .await;
    assert_eq!(unit, in_db);

    // A client's own idea of the price is ignored.
    let mut line = large_reine();
    line["unit_price_cents"] = json!(1);
    let (status, placed) = place(&world, cart(json!([line]))).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    let order = &placed["order"];
    let id = order["id"].as_i64().unwrap_or_default();
    let sold = &order["lines"][0];
    assert_eq!(sold["unit_price_cents"], unit);
    assert_eq!(
        sold["choices"],
        "Grande 40 cm · sans Champignons de Paris · + Chèvre"
    );
    assert_eq!(sold["size"], "Grande 40 cm");
    assert_eq!(sold["note"], "bien cuite");
    assert_eq!(sold["allergens"], json!(["gluten", "milk"]));
    assert_eq!(order["delivery_instructions"], "Code 4521B, 3e étage");
    let fee = order["delivery_fee_cents"].as_i64().unwrap_or(0);
    assert_eq!(order["total_cents"], unit + fee);

    // The stock ledger holds what will be made: no mushrooms, one and a
    // half times the rest, and the goat's cheese.
    let held = reserved(&pool, id).await;
    assert_eq!(held, large_reine_needs(&pool).await);
    assert!(!held.iter().any(|(i, _)| *i == MUSHROOMS));

    // The admin then changes the large size (twice the recipe now) and the
    // goat's cheese portion: the order in flight is still made as sold.
    let admin = world.token("admin@ocpizza.test").await;
    let sizes: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT code, label, price_cents, recipe_percent FROM product_sizes WHERE product_id = ? ORDER BY position",
    )
    .bind(REINE)
    .fetch_all(&pool)
    .await
    .expect("the sizes");
    let sizes: Vec<Value> = sizes
        .into_iter()
        .map(|(code, label, price_cents, percent)| {
            let percent = if code == "large" { 200 } else { percent };
            json!({"code": code, "label": label, "price_cents": price_cents, "recipe_percent": percent})
        })
        .collect();
    let uri = format!("/products/{REINE}/sizes");
    let (status, answer) = world
        .call(
            Backoffice,
            "PUT",
            &uri,
            Some(json!({ "sizes": sizes })),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, extras) = world
        .call(Backoffice, "GET", "/extras", None, Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{extras}");
    let doubled: Vec<Value> = extras["extras"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| {
            let quantity = x["quantity"].as_i64().unwrap_or(1);
            let quantity = if x["ingredient_id"] == GOAT { quantity * 2 } else { quantity };
            json!({"ingredient_id": x["ingredient_id"], "quantity": quantity, "price_cents": x["price_cents"]})
        })
        .collect();
    let (status, answer) = world
        .call(
            Backoffice,
            "PUT",
            "/extras",
            Some(json!({ "extras": doubled })),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_ne!(
        large_reine_needs(&pool).await,
        held,
        "the catalogue did change"
    );

    // The kitchen's ticket and card say exactly what was sold.
    world.run_consumers().await;
    let chef = world.token("pizzaiolo.1@ocpizza.test").await;
    let (status, board) = world
        .call(Kitchen, "GET", "/pizzerias/1/tickets", None, Some(&chef))
        .await;
    assert_eq!(status, StatusCode::OK, "{board}");
    let ticket = board["tickets"]
        .as_array()
        .and_then(|all| all.iter().find(|t| t["order_id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("no ticket for {id}: {board}"));
    let line = &ticket["lines"][0];
    assert_eq!(line["size"], "Grande 40 cm");
    assert_eq!(line["removed"], json!(["Champignons de Paris"]));
    assert_eq!(line["extras"], json!(["Chèvre"]));
    assert_eq!(line["note"], "bien cuite");
    assert_eq!(line["allergens"], json!(["gluten", "milk"]));
    let card: Vec<(i64, i64)> = line["recipe"]["ingredients"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            (
                i["ingredient_id"].as_i64().unwrap_or(0),
                i["quantity"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    let mut card_sorted = card.clone();
    card_sorted.sort_unstable();
    assert_eq!(card_sorted, held, "the card is what was reserved");
    let goat = line["recipe"]["ingredients"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["ingredient_id"] == GOAT))
        .cloned()
        .unwrap_or_default();
    assert_eq!(goat["extra"], true);

    // Burnt: made again as it was asked, its ingredients recorded as waste.
    world.cook(id, &["start"]).await;
    let body = json!({"line_no": 1, "quantity": 1, "reason": "brûlée"});
    let uri = format!("/tickets/{id}/remake");
    let (status, answer) = world
        .call(Kitchen, "POST", &uri, Some(body), Some(&chef))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let wasted: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT ingredient_id, CAST(-SUM(on_hand_delta) AS SIGNED) FROM stock_movements \
         WHERE order_id = ? AND kind = 'waste' GROUP BY ingredient_id ORDER BY ingredient_id",
    )
    .bind(id)
    .fetch_all(&pool)
    .await
    .expect("the ledger");
    assert_eq!(wasted, held, "the same large Reine again");

    // The courier reads the door code.
    world.cook(id, &["ready"]).await;
    let courier = world.token("courier.1@ocpizza.test").await;
    let (status, list) = world
        .call(Delivery, "GET", "/deliveries", None, Some(&courier))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let mine = list["deliveries"]
        .as_array()
        .and_then(|all| all.iter().find(|d| d["order_id"] == id))
        .cloned()
        .unwrap_or_default();
    assert_eq!(mine["delivery_instructions"], "Code 4521B, 3e étage");
    // Starting consumed exactly what was reserved.
    let consumed = scalar(
        &pool,
        &format!(
            "SELECT CAST(-SUM(on_hand_delta) AS SIGNED) FROM stock_movements \
             WHERE order_id = {id} AND kind = 'consumption'"
        ),
    )
    .await;
    assert_eq!(consumed, held.iter().map(|(_, q)| q).sum::<i64>());
    assert_eq!(
        reserved(&pool, id).await,
        vec![],
        "nothing held once started"
    );
    testkit::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn equal_choices_merge_other_choices_stay_apart_and_the_tracker_can_send_them_again(
    pool: MySqlPool,
) {
    let world = world(&pool).await;
    let plain = json!({"product_id": REINE, "quantity": 1});
    let lines = json!([large_reine(), plain, large_reine(), {"product_id": COLA, "quantity": 2}]);
    let (status, placed) = place(&world, cart(lines)).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    let order = &placed["order"];
    let id = order["id"].as_i64().unwrap_or_default();
    let token = order["tracking_token"].as_str().unwrap_or_default();
    let quantities: Vec<(i64, i64, String)> = order["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            (
                l["product_id"].as_i64().unwrap_or(0),
                l["quantity"].as_i64().unwrap_or(0),
                l["choices"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(quantities.len(), 3, "{quantities:?}");
    assert!(quantities.contains(&(
        REINE,
        2,
        "Grande 40 cm · sans Champignons de Paris · + Chèvre".into()
    )));
    assert!(quantities.contains(&(REINE, 1, "Moyenne 29 cm".into())));
    assert!(quantities.contains(&(COLA, 2, String::new())));

    // The tracker's view carries what to send again; a change keeps the
    // choices, drops the extra, and the reservation follows.
    let (status, view) = world
        .call(
            Orders,
            "GET",
            &format!("/orders/{id}?token={token}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let again: Vec<Value> = view["order"]["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            let extras = if l["product_id"] == REINE {
                json!([])
            } else {
                l["extras"].clone()
            };
            json!({"product_id": l["product_id"], "quantity": l["quantity"], "size": l["size_code"],
                   "remove": l["remove"], "extras": extras, "note": l["note"]})
        })
        .collect();
    let (status, changed) = world
        .call(
            Orders,
            "PATCH",
            &format!("/orders/{id}?token={token}"),
            Some(json!({ "lines": again })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let goat_held = scalar(
        &pool,
        &format!(
            "SELECT COALESCE(SUM(reserved_delta), 0) FROM stock_movements \
             WHERE order_id = {id} AND ingredient_id = {GOAT}"
        ),
    )
    .await;
    assert_eq!(goat_held, 0, "no goat's cheese once the extra is dropped");
    let large = changed["order"]["lines"]
        .as_array()
        .and_then(|all| all.iter().find(|l| l["quantity"] == 2))
        .cloned()
        .unwrap_or_default();
    assert_eq!(large["choices"], "Grande 40 cm · sans Champignons de Paris");
    assert_eq!(large["note"], "bien cuite");
    world.run_consumers().await;
    testkit::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_menu_counts_each_size_and_extra_from_the_stock_and_follows_an_order(pool: MySqlPool) {
    let world = World::demo(&pool, Utc::now()).await;
    testing::open_all_day_with_plenty_of_stock(&pool).await;
    // Pizzeria 1's manager counts what is left of mozzarella and goat's cheese.
    let manager = world.token("manager.1@ocpizza.test").await;
    for (ingredient, counted) in [(3, 600), (GOAT, 90)] {
        let uri = format!("/pizzerias/1/stock/{ingredient}/adjustment");
        let body = json!({"on_hand": counted, "reason": "inventaire du soir"});
        let (status, answer) = world
            .call(Backoffice, "POST", &uri, Some(body), Some(&manager))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let menu_before = menu(&world).await;
    let reine = product(&menu_before, REINE);
    // 120 g of mozzarella a medium, 180 g a large; 40 g of goat's cheese an extra.
    assert_eq!(size(&reine, "medium")["max_quantity"], 5);
    assert_eq!(size(&reine, "large")["max_quantity"], 3);
    assert_eq!(reine["max_quantity"], 5, "as listed: the first size");
    assert_eq!(extra(&menu_before, GOAT)["max_quantity"], 2);

    let (status, placed) = place(&world, cart(json!([large_reine()]))).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    let menu_after = menu(&world).await;
    let reine = product(&menu_after, REINE);
    assert_eq!(
        size(&reine, "medium")["max_quantity"],
        3,
        "(600 - 180) / 120"
    );
    assert_eq!(size(&reine, "large")["max_quantity"], 2);
    assert_eq!(extra(&menu_after, GOAT)["max_quantity"], 0, "90 - 60 < 40");
    // A second goat's cheese is more than the stock: refused, nothing held.
    let (status, short) = place(&world, cart(json!([large_reine()]))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{short}");
    assert_eq!(short["type"], "/problems/out-of-stock");
    // It names the line the extra ran short for, with what is left of its size.
    assert_eq!(short["products"][0]["product_id"], REINE, "{short}");
    assert_eq!(short["products"][0]["size"], "Grande 40 cm");
    assert_eq!(short["products"][0]["max_quantity"], 2);
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM orders").await, 1);
    world.run_consumers().await;
    testkit::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn what_a_hostile_customer_asks_is_refused_in_plain_words_with_nothing_written(
    pool: MySqlPool,
) {
    let world = world(&pool).await;
    let with = |changes: Value| {
        let mut line = large_reine();
        for (k, v) in changes.as_object().into_iter().flatten() {
            line[k] = v.clone();
        }
        cart(json!([line]))
    };
    // (what is sent, the problem, the field it names)
    let cases = [
        (with(json!({"size": "xxl"})), "invalid-choice", "size"),
        (
            with(json!({"size": ""})),
            "invalid-request",
            "lines[0].size",
        ),
        (with(json!({"remove": [DOUGH]})), "invalid-choice", "remove"),
        (with(json!({"remove": [-5]})), "invalid-choice", "remove"),
        (
            with(json!({"extras": [MUSHROOMS, GOAT, 3, 27]})),
            "invalid-choice",
            "extras",
        ),
        (
            with(json!({"extras": [GOAT, GOAT]})),
            "invalid-request",
            "lines[0].extras",
        ),
        (
            with(json!({"extras": [999_999]})),
            "invalid-choice",
            "extras",
        ),
        (
            with(json!({"remove": [MUSHROOMS], "extras": [MUSHROOMS]})),
            "invalid-choice",
            "extras",
        ),
        (
            cart(json!([{"product_id": COLA, "quantity": 1, "extras": [GOAT]}])),
            "invalid-choice",
            "extras",
        ),
        (
            with(json!({"note": "x".repeat(141)})),
            "invalid-request",
            "lines[0].note",
        ),
        (
            with(json!({"note": "bien\ncuite"})),
            "invalid-request",
            "lines[0].note",
        ),
        (
            {
                let mut body = cart(json!([large_reine()]));
                body["delivery_instructions"] = json!("é".repeat(201));
                body
            },
            "invalid-request",
            "delivery_instructions",
        ),
    ];
    for (body, kind, field) in cases {
        let (status, problem) = place(&world, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert_eq!(problem["type"], format!("/problems/{kind}"), "{body}");
        let named: Vec<String> = if kind == "invalid-choice" {
            problem["choices"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["field"].as_str().map(str::to_owned))
                .collect()
        } else {
            testing::field_errors(&problem)
        };
        assert!(named.iter().any(|f| f == field), "{field} in {problem}");
    }
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM orders").await, 0);
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM stock_movements WHERE order_id IS NOT NULL"
        )
        .await,
        0
    );
    assert_eq!(
        scalar(&pool, "SELECT CAST(SUM(reserved) AS SIGNED) FROM stock").await,
        0
    );
}
