//! The menu function keeps the catalogue per container and reads only the
//! stock and the versions at each request. Every change the screens make
//! (a restock, a sale, a price, a recipe, sizes, extras, allergens, a
//! product off one menu, a photo, a pause, a new product) shows at the very
//! next request of a warm container, through the functions' handlers on the
//! real MariaDB (and moto's S3 for the photo); after each, the menu is the
//! one read from the database statement by statement.

use chrono::Utc;
use http::StatusCode;
use ocpizza::catalog;
use ocpizza::platform::ids::PizzeriaId;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use testkit::{self as testing, png, Function::*, World};

const MARGHERITA: i64 = 1;
const REINE: i64 = 2;
const COLA: i64 = 21;
const DOUGH: i64 = 1;
const MUSHROOMS: i64 = 5;
const GORGONZOLA: i64 = 9;
const BASIL: i64 = 16;

/// Pizzeria 1's menu from the world's (warm) menu container.
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

/// Pizzeria 1's menu now, asserting that it is the one the database gives
/// statement by statement.
async fn current(world: &World, after: &str) -> Value {
    let menu = menu(world).await;
    let pool = &world.pool;
    let pizzeria = catalog::pizzeria(pool, PizzeriaId(1), Utc::now())
        .await
        .unwrap_or_else(|e| panic!("pizzeria: {e}"))
        .unwrap_or_else(|| panic!("pizzeria 1"));
    let (mut products, extras) = catalog::listing(pool, &pizzeria)
        .await
        .unwrap_or_else(|e| panic!("listing: {e}"));
    let photos = catalog::photos::all(pool)
        .await
        .unwrap_or_else(|e| panic!("photos: {e}"));
    catalog::photos::attach(&mut products, &photos, &world.menu.photos_url);
    assert_eq!(
        json!({"products": menu["products"], "extras": menu["extras"]}),
        json!({"products": products, "extras": extras}),
        "after {after}"
    );
    assert_eq!(
        menu["pizzeria"]["pause"],
        json!(pizzeria.pause),
        "after {after}"
    );
    menu
}

#[sqlx::test(migrations = "../../migrations")]
async fn every_change_from_the_screens_shows_at_the_next_request(pool: MySqlPool) {
    let world = World::demo(&pool, Utc::now()).await;
    testing::open_all_day_with_plenty_of_stock(&pool).await;
    let admin = world.token("admin@ocpizza.test").await;
    let manager = world.token("manager.1@ocpizza.test").await;
    // 100,000,000 g of dough, 250 g a medium Margherita: the dough decides.
    let before = current(&world, "nothing").await;
    assert_eq!(product(&before, MARGHERITA)["max_quantity"], 400_000);

    let restock = format!("/pizzerias/1/stock/{DOUGH}/restock");
    world
        .ok(
            Backoffice,
            "POST",
            &restock,
            Some(json!({"quantity": 500})),
            &manager,
        )
        .await;
    let now = current(&world, "a restock").await;
    assert_eq!(product(&now, MARGHERITA)["max_quantity"], 400_002);

    // A sale reserves its stock: 250 g of dough.
    let order = json!({
        "pizzeria_id": 1, "fulfilment": "pickup", "payment_method": "cash",
        "lines": [{"product_id": MARGHERITA, "quantity": 1}],
        "contact": {"name": "Léa Martin", "phone": "06 12 34 56 78", "email": "lea@example.fr"}
    });
    let (status, placed) = world
        .call(Checkout, "POST", "/orders", Some(order), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    let now = current(&world, "a sale").await;
    assert_eq!(product(&now, MARGHERITA)["max_quantity"], 400_001);

    let reine = format!("/products/{REINE}");
    world
        .ok(
            Backoffice,
            "PATCH",
            &reine,
            Some(json!({"price_cents": 1190})),
            &admin,
        )
        .await;
    let now = current(&world, "a price").await;
    assert_eq!(product(&now, REINE)["price_cents"], 1190);

    // The Margherita without its basil.
    let lines = json!([{"ingredient_id": DOUGH, "quantity": 250}, {"ingredient_id": 2, "quantity": 80},
                       {"ingredient_id": 3, "quantity": 120}, {"ingredient_id": 18, "quantity": 10}]);
    let body = json!({"recipe": {"lines": lines, "steps": ["Étaler.", "Garnir.", "Cuire."]}});
    world
        .ok(
            Backoffice,
            "PATCH",
            &format!("/products/{MARGHERITA}"),
            Some(body),
            &admin,
        )
        .await;
    let now = current(&world, "a recipe").await;
    let ingredients = &product(&now, MARGHERITA)["ingredients"];
    assert_eq!(
        ingredients.as_array().map(Vec::len),
        Some(4),
        "{ingredients}"
    );

    let sizes = json!({"sizes": [
        {"code": "small", "label": "Petite 26 cm", "price_cents": 850, "recipe_percent": 75}
    ]});
    world
        .ok(
            Backoffice,
            "PUT",
            &format!("{reine}/sizes"),
            Some(sizes),
            &admin,
        )
        .await;
    let now = current(&world, "sizes").await;
    assert_eq!(product(&now, REINE)["sizes"][0]["code"], "small");
    assert_eq!(product(&now, REINE)["price_cents"], 850);

    let extras =
        json!({"extras": [{"ingredient_id": GORGONZOLA, "quantity": 30, "price_cents": 180}]});
    world
        .ok(Backoffice, "PUT", "/extras", Some(extras), &admin)
        .await;
    let now = current(&world, "extras").await;
    assert_eq!(now["extras"][0]["ingredient_id"], GORGONZOLA);
    assert_eq!(now["extras"].as_array().map(Vec::len), Some(1));

    let allergens = json!({"allergens": ["sesame"], "vegetarian": true});
    let uri = format!("/ingredients/{MUSHROOMS}/allergens");
    world
        .ok(Backoffice, "PUT", &uri, Some(allergens), &admin)
        .await;
    let now = current(&world, "allergens").await;
    assert!(product(&now, REINE)["allergens"]
        .as_array()
        .is_some_and(|all| all.contains(&json!("sesame"))));

    let off = format!("/pizzerias/1/products/{COLA}/unavailable");
    world.ok(Backoffice, "PUT", &off, None, &manager).await;
    let now = current(&world, "a product off the menu").await;
    assert_eq!(
        product(&now, COLA)["unavailable_reason"],
        "not_on_this_menu"
    );
    world.ok(Backoffice, "DELETE", &off, None, &manager).await;
    let now = current(&world, "the product back").await;
    assert_eq!(product(&now, COLA)["available"], true);

    let (status, answer) = world
        .put_photo(MARGHERITA, "image/png", png(1200, 900), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let now = current(&world, "a photo").await;
    assert_eq!(product(&now, MARGHERITA)["photo"], answer["photo"]);
    assert!(!answer["photo"].is_null(), "{answer}");

    let pause = json!({"scope": "all", "minutes": 30, "message": "Four en panne"});
    world
        .ok(
            Backoffice,
            "PUT",
            "/pizzerias/1/pause",
            Some(pause),
            &manager,
        )
        .await;
    let now = current(&world, "a pause").await;
    assert_eq!(now["pizzeria"]["pause"]["message"], "Four en panne");

    let new = json!({
        "category_id": 1, "name": "Basilico", "description": "Tomate, mozzarella, basilic.",
        "price_cents": 1150, "vat_rate_bp": 1000,
        "recipe": {"lines": [{"ingredient_id": DOUGH, "quantity": 250}, {"ingredient_id": BASIL, "quantity": 6}],
                   "steps": ["Cuire."]}
    });
    let (status, created) = world
        .call(Backoffice, "POST", "/products", Some(new), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let now = current(&world, "a new product").await;
    assert_eq!(
        product(&now, created["product"]["id"].as_i64().unwrap_or(0))["name"],
        "Basilico"
    );
}
