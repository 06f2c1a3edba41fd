//! Checkout prices a cart from the catalogue its container keeps, read
//! again when the catalogue's version (read with the kitchen's load, in
//! the same statement) moved. A price is never the kept one once a screen
//! changed it: every change (a price, sizes, extras, a product off one
//! menu, a product withdrawn) prices the very next order of a warm
//! container as the database does, and every cart of the demo menu prices
//! the same from the copy and from the database.

use chrono::Utc;
use http::StatusCode;
use ocpizza::catalog::catalogue::Catalogue;
use ocpizza::catalog::{self, choices::Choice};
use ocpizza::order::pricing::{self, CartLine};
use ocpizza::platform::ids::{IngredientId, PizzeriaId, ProductId};
use ocpizza::reporting::audit::Scope;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use testkit::{self as testing, Function::*, World};

const REINE: i64 = 2;
const COLA: i64 = 21;
const GORGONZOLA: i64 = 9;
const MUSHROOMS: i64 = 5;

/// An order of `lines` at pizzeria 1 from the world's (warm) checkout.
async fn order(world: &World, lines: Value) -> (StatusCode, Value) {
    let body = json!({
        "pizzeria_id": 1, "fulfilment": "pickup", "payment_method": "cash",
        "lines": lines,
        "contact": {"name": "Léa Martin", "phone": "06 12 34 56 78"}
    });
    world
        .call(Checkout, "POST", "/orders", Some(body), None)
        .await
}

/// The order's first line's unit price and its total, asserting they are
/// what the database prices statement by statement.
async fn placed(world: &World, lines: Value, after: &str) -> (i64, i64) {
    let (status, answer) = order(world, lines.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "after {after}: {answer}");
    let pizzeria = catalog::pizzeria(&world.pool, PizzeriaId(1), Utc::now())
        .await
        .unwrap_or_else(|e| panic!("pizzeria: {e}"))
        .unwrap_or_else(|| panic!("pizzeria 1"));
    let requests: Vec<pricing::LineRequest> =
        serde_json::from_value(lines).unwrap_or_else(|e| panic!("lines: {e}"));
    let cart = pricing::cart_lines(&requests).unwrap_or_else(|e| panic!("cart: {e:?}"));
    let priced = pricing::price(&world.pool, &pizzeria, &cart, false)
        .await
        .unwrap_or_else(|e| panic!("priced from the database after {after}: {e:?}"));
    let order = &answer["order"];
    assert_eq!(
        order["total_cents"],
        priced.total.cents(),
        "after {after}: {answer}"
    );
    assert_eq!(order["vat_cents"], priced.vat.cents(), "after {after}");
    let unit = order["lines"][0]["unit_price_cents"].as_i64().unwrap_or(-1);
    (unit, order["total_cents"].as_i64().unwrap_or(-1))
}

#[sqlx::test(migrations = "../../migrations")]
async fn every_change_of_the_catalogue_prices_the_next_order(pool: MySqlPool) {
    let world = World::demo(&pool, Utc::now()).await;
    testing::open_all_day_with_plenty_of_stock(&pool).await;
    let admin = world.token("admin@ocpizza.test").await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let cola = json!([{"product_id": COLA, "quantity": 2}]);
    let (unit, _) = placed(&world, cola.clone(), "nothing").await;

    // A price raised: the next order pays it, not the kept one.
    let raised = unit + 40;
    let uri = format!("/products/{COLA}");
    world
        .ok(
            Backoffice,
            "PATCH",
            &uri,
            Some(json!({"price_cents": raised})),
            &admin,
        )
        .await;
    let (unit, total) = placed(&world, cola.clone(), "a price").await;
    assert_eq!((unit, total), (raised, 2 * raised));

    // Sizes: a small Reine at the new size's price.
    let sizes = json!({"sizes": [
        {"code": "small", "label": "Petite 26 cm", "price_cents": 850, "recipe_percent": 75},
        {"code": "large", "label": "Grande 33 cm", "price_cents": 1390, "recipe_percent": 140}
    ]});
    let reine = format!("/products/{REINE}");
    world
        .ok(
            Backoffice,
            "PUT",
            &format!("{reine}/sizes"),
            Some(sizes),
            &admin,
        )
        .await;
    let small = json!([{"product_id": REINE, "quantity": 1, "size": "small"}]);
    assert_eq!(placed(&world, small, "sizes").await.0, 850);

    // Extras: the gorgonzola at its new price, on a large Reine.
    let extras =
        json!({"extras": [{"ingredient_id": GORGONZOLA, "quantity": 30, "price_cents": 180}]});
    world
        .ok(Backoffice, "PUT", "/extras", Some(extras), &admin)
        .await;
    let with_extra =
        json!([{"product_id": REINE, "quantity": 1, "size": "large", "extras": [GORGONZOLA]}]);
    assert_eq!(placed(&world, with_extra, "extras").await.0, 1390 + 180);
    // An extra no longer offered is refused, not priced at its old price.
    let mushrooms = json!([{"product_id": REINE, "quantity": 1, "extras": [MUSHROOMS]}]);
    let (status, answer) = order(&world, mushrooms).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");

    // Off this pizzeria's menu, then back.
    let off = format!("/pizzerias/1/products/{COLA}/unavailable");
    world.ok(Backoffice, "PUT", &off, None, &manager).await;
    let (status, answer) = order(&world, cola.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer.to_string().contains("is not on the menu of"),
        "{answer}"
    );
    world.ok(Backoffice, "DELETE", &off, None, &manager).await;
    placed(&world, cola.clone(), "the product back").await;

    // Withdrawn from every menu: refused with its name.
    world
        .ok(
            Backoffice,
            "PATCH",
            &uri,
            Some(json!({"active": false})),
            &admin,
        )
        .await;
    let (status, answer) = order(&world, cola).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer.to_string().contains("no longer on the menu"),
        "{answer}"
    );
    testing::assert_reconciled(&pool, Scope::Live).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn every_cart_of_the_demo_menu_prices_the_same_from_the_copy(pool: MySqlPool) {
    ocpizza::samples::load_demo(&pool)
        .await
        .unwrap_or_else(|e| panic!("demo data: {e}"));
    let copy = Catalogue::load(&pool, "")
        .await
        .unwrap_or_else(|e| panic!("catalogue: {e}"));
    let products: Vec<(i64,)> = sqlx::query_as("SELECT id FROM products ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap_or_else(|e| panic!("products: {e}"));
    let sizes: Vec<(i64, String)> =
        sqlx::query_as("SELECT product_id, code FROM product_sizes ORDER BY product_id, position")
            .fetch_all(&pool)
            .await
            .unwrap_or_else(|e| panic!("sizes: {e}"));
    let ingredients: Vec<(i64,)> = sqlx::query_as("SELECT id FROM ingredients ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap_or_else(|e| panic!("ingredients: {e}"));
    let mut compared = 0;
    for pizzeria in 1..=5 {
        let pizzeria = catalog::pizzeria(&pool, PizzeriaId(pizzeria), Utc::now())
            .await
            .unwrap_or_else(|e| panic!("pizzeria: {e}"))
            .unwrap_or_else(|| panic!("pizzeria {pizzeria}"));
        for (product,) in &products {
            let mut choices = vec![Choice::default()];
            for (of, code) in &sizes {
                if of == product {
                    choices.push(Choice {
                        size: Some(code.clone()),
                        ..Choice::default()
                    });
                }
            }
            // Every ingredient removed, then added as an extra, alone:
            // what the offer allows and what it refuses.
            for (ingredient,) in &ingredients {
                let one = [IngredientId(*ingredient)].into_iter().collect();
                choices.push(Choice {
                    remove: one,
                    ..Choice::default()
                });
                let one = [IngredientId(*ingredient)].into_iter().collect();
                choices.push(Choice {
                    extras: one,
                    ..Choice::default()
                });
            }
            for choice in choices {
                let cart = [CartLine {
                    product_id: ProductId(*product),
                    choice,
                    note: None,
                    quantity: 2,
                }];
                let from_db = pricing::price(&pool, &pizzeria, &cart, true).await;
                let Some(from_copy) = pricing::price_kept(&copy, &pizzeria, &cart, true) else {
                    // Only a product the copy does not hold goes to the database.
                    assert!(from_db.is_err(), "{cart:?}: {from_db:?}");
                    continue;
                };
                assert_eq!(
                    format!("{from_copy:?}"),
                    format!("{from_db:?}"),
                    "{cart:?} at pizzeria {}",
                    pizzeria.id
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 1000, "{compared} carts compared");
}
