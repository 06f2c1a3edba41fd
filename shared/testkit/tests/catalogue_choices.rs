//! What the menu's choices are made of, edited by the admin through the back
//! office's handlers (answers checked against `docs/openapi.json`) on the
//! real MariaDB: an ingredient's allergens, a product's sizes, the group's
//! extras, a product's `max_extras` and the toppings it may go without. The
//! menu shows each change at its next request and checkout prices and checks
//! against it, while what was already sold keeps its own snapshot. Then who
//! may not, and what may not be sent, with nothing written.

use chrono::Utc;
use http::StatusCode;
use ocpizza::reporting::audit::Scope;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use testkit::{self as testing, scalar, Function::*, World};

const MARGHERITA: i64 = 1;
const REINE: i64 = 2;
const COLA: i64 = 21;
const DOUGH: i64 = 1;
const MOZZARELLA: i64 = 3;
const HAM: i64 = 4;
const MUSHROOMS: i64 = 5;
const GOAT: i64 = 7;
const GORGONZOLA: i64 = 9;

/// The demo data, open all day with plenty of stock.
async fn world(pool: &MySqlPool) -> World {
    let world = World::demo(pool, Utc::now()).await;
    testing::open_all_day_with_plenty_of_stock(pool).await;
    world
}

/// A guest's cash pickup at pizzeria 1 with these lines.
async fn checkout(world: &World, lines: Value) -> (StatusCode, Value) {
    let body = json!({
        "pizzeria_id": 1, "fulfilment": "pickup", "payment_method": "cash", "lines": lines,
        "contact": {"name": "Léa Martin", "phone": "06 12 34 56 78", "email": "lea@example.fr"}
    });
    world
        .call(Checkout, "POST", "/orders", Some(body), None)
        .await
}

/// Checkout of one line, which must succeed: the line as sold.
async fn sold(world: &World, line: Value) -> Value {
    let (status, placed) = checkout(world, json!([line])).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    placed["order"]["lines"][0].clone()
}

/// Checkout of one line, which must be refused as a choice that cannot be
/// made: the fields the problem names.
async fn refused_choice(world: &World, line: Value) -> Vec<String> {
    let (status, problem) = checkout(world, json!([line])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["type"], "/problems/invalid-choice", "{problem}");
    problem["choices"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["field"].as_str().map(str::to_owned))
        .collect()
}

/// What pizzeria 1's menu says now.
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

/// The `key` of each element of the array `list`.
fn each(list: &Value, key: &str) -> Vec<Value> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|x| x[key].clone())
        .collect()
}

/// The admin's call to the back office.
async fn admin(world: &World, method: &str, uri: &str, body: Value) -> (StatusCode, Value) {
    let token = world.token("admin@ocpizza.test").await;
    world
        .call(Backoffice, method, uri, Some(body), Some(&token))
        .await
}

/// Every row the choices are made of, to compare before and after.
async fn choices_in_db(pool: &MySqlPool) -> Vec<String> {
    let mut rows = Vec::new();
    for (columns, table) in [
        ("ingredient_id, allergen", "ingredient_allergens"),
        ("id, vegetarian", "ingredients"),
        (
            "product_id, code, label, price_cents, recipe_percent, position",
            "product_sizes",
        ),
        ("id, price_cents, max_extras", "products"),
        ("ingredient_id, quantity, price_cents, position", "extras"),
        (
            "product_id, ingredient_id, quantity, removable",
            "recipe_lines",
        ),
    ] {
        let sql = format!(
            "SELECT CAST(CONCAT_WS(':', {columns}) AS CHAR) FROM {table} ORDER BY {columns}"
        );
        let found: Vec<(String,)> = sqlx::query_as(&sql)
            .fetch_all(pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.push(format!("-- {sql}"));
        rows.extend(found.into_iter().map(|(r,)| r));
    }
    rows
}

#[sqlx::test(migrations = "../../migrations")]
async fn allergens_set_by_the_admin_show_on_the_next_menu_and_on_a_checkout_line(pool: MySqlPool) {
    let world = world(&pool).await;
    // A Reine sold before the change keeps what it was sold with.
    let before = sold(&world, json!({"product_id": REINE, "quantity": 1})).await;
    assert_eq!(before["allergens"], json!(["gluten", "milk"]));
    assert_eq!(
        product(&menu(&world).await, REINE)["allergens"],
        json!(["gluten", "milk"])
    );

    // Sesame and mustard on the mushrooms, vegetarian either way; the answer
    // lists them in the regulation's order.
    let uri = format!("/ingredients/{MUSHROOMS}/allergens");
    let body = json!({"allergens": ["sesame", "mustard"], "vegetarian": true});
    let (status, answer) = admin(&world, "PUT", &uri, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["ingredient"]["id"], MUSHROOMS);
    assert_eq!(answer["ingredient"]["name"], "Champignons de Paris");
    assert_eq!(
        answer["ingredient"]["allergens"],
        json!(["mustard", "sesame"])
    );
    assert_eq!(answer["ingredient"]["vegetarian"], true);
    // The back office's list of ingredients says so too, to a manager.
    let manager = world.token("manager.1@ocpizza.test").await;
    let (status, list) = world
        .call(Backoffice, "GET", "/ingredients", None, Some(&manager))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let mushrooms = list["ingredients"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["id"] == MUSHROOMS))
        .cloned()
        .unwrap_or_default();
    assert_eq!(mushrooms["allergens"], json!(["mustard", "sesame"]));
    let mozzarella = list["ingredients"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["id"] == MOZZARELLA))
        .cloned()
        .unwrap_or_default();
    assert_eq!(mozzarella["allergens"], json!(["milk"]));
    assert_eq!(mozzarella["vegetarian"], true);

    // The next menu request: the Reine and its mushrooms carry them; the
    // Margherita (no mushrooms) does not.
    let listed = menu(&world).await;
    let reine = product(&listed, REINE);
    assert_eq!(
        reine["allergens"],
        json!(["gluten", "milk", "mustard", "sesame"])
    );
    let on_reine = reine["ingredients"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["id"] == MUSHROOMS))
        .cloned()
        .unwrap_or_default();
    assert_eq!(on_reine["allergens"], json!(["mustard", "sesame"]));
    assert_eq!(
        product(&listed, MARGHERITA)["allergens"],
        json!(["gluten", "milk"])
    );

    // A checkout line carries them; without the mushrooms, not.
    let line = sold(&world, json!({"product_id": REINE, "quantity": 1})).await;
    assert_eq!(
        line["allergens"],
        json!(["gluten", "milk", "mustard", "sesame"])
    );
    let without = sold(
        &world,
        json!({"product_id": REINE, "quantity": 1, "remove": [MUSHROOMS]}),
    )
    .await;
    assert_eq!(without["allergens"], json!(["gluten", "milk"]));

    // Ham made vegetarian by mistake, then put right: the Reine follows.
    for (vegetarian, expected) in [(true, true), (false, false)] {
        let uri = format!("/ingredients/{HAM}/allergens");
        let body = json!({"allergens": [], "vegetarian": vegetarian});
        let (status, answer) = admin(&world, "PUT", &uri, body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(product(&menu(&world).await, REINE)["vegetarian"], expected);
    }

    // None at all: the mushrooms declare nothing again.
    let uri = format!("/ingredients/{MUSHROOMS}/allergens");
    let (status, answer) = admin(
        &world,
        "PUT",
        &uri,
        json!({"allergens": [], "vegetarian": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["ingredient"]["allergens"], json!([]));
    assert_eq!(
        scalar(
            &pool,
            &format!("SELECT COUNT(*) FROM ingredient_allergens WHERE ingredient_id = {MUSHROOMS}")
        )
        .await,
        0
    );
    // What was sold keeps its own allergens.
    let kept: Vec<(String,)> =
        sqlx::query_as("SELECT allergens FROM order_lines ORDER BY order_id")
            .fetch_all(&pool)
            .await
            .expect("the order lines");
    assert_eq!(
        kept,
        vec![
            ("gluten,milk".to_owned(),),
            ("gluten,milk,mustard,sesame".to_owned(),),
            ("gluten,milk".to_owned(),)
        ]
    );
    world.run_consumers().await;
    testkit::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn sizes_replaced_by_the_admin_move_the_menu_and_checkouts_price(pool: MySqlPool) {
    let world = world(&pool).await;
    // A medium Reine sold before: its line keeps its size.
    let medium = sold(
        &world,
        json!({"product_id": REINE, "quantity": 1, "size": "medium"}),
    )
    .await;
    assert_eq!(medium["size"], "Moyenne 29 cm");

    // Small and large now, no more medium.
    let sizes = json!({"sizes": [
        {"code": "small", "label": "Petite  26 cm", "price_cents": 850, "recipe_percent": 75},
        {"code": "large", "label": "Grande 40 cm", "price_cents": 1650, "recipe_percent": 150}
    ]});
    let (status, answer) = admin(&world, "PUT", &format!("/products/{REINE}/sizes"), sizes).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let reine = &answer["product"];
    assert_eq!(
        each(&reine["sizes"], "code"),
        [json!("small"), json!("large")]
    );
    assert_eq!(reine["sizes"][0]["label"], "Petite 26 cm", "spaces tidied");
    assert_eq!(
        reine["price_cents"], 850,
        "the product is listed as its first size"
    );
    assert_eq!(
        scalar(
            &pool,
            &format!("SELECT price_cents FROM products WHERE id = {REINE}")
        )
        .await,
        850
    );
    assert_eq!(
        scalar(
            &pool,
            &format!(
                "SELECT position FROM product_sizes WHERE product_id = {REINE} AND code = 'large'"
            )
        )
        .await,
        2
    );

    // The next menu: its sizes and price.
    let on_menu = product(&menu(&world).await, REINE);
    assert_eq!(
        each(&on_menu["sizes"], "code"),
        [json!("small"), json!("large")]
    );
    assert_eq!(
        each(&on_menu["sizes"], "price_cents"),
        [json!(850), json!(1650)]
    );
    assert_eq!(on_menu["price_cents"], 850);

    // Checkout prices from them; no size is the first; medium is gone.
    let large = sold(
        &world,
        json!({"product_id": REINE, "quantity": 2, "size": "large"}),
    )
    .await;
    assert_eq!(large["unit_price_cents"], 1650);
    assert_eq!(large["line_total_cents"], 3300);
    let first = sold(&world, json!({"product_id": REINE, "quantity": 1})).await;
    assert_eq!(first["unit_price_cents"], 850);
    assert_eq!(first["size"], "Petite 26 cm");
    // 75 % of the recipe, rounded up: 250 g of dough, 188 g held.
    let dough = scalar(
        &pool,
        &format!(
            "SELECT SUM(reserved_delta) FROM stock_movements WHERE ingredient_id = {DOUGH} \
             AND order_id = (SELECT order_id FROM order_lines WHERE size_code = 'small')"
        ),
    )
    .await;
    assert_eq!(dough, 188);
    let orders = scalar(&pool, "SELECT COUNT(*) FROM orders").await;
    let fields = refused_choice(
        &world,
        json!({"product_id": REINE, "quantity": 1, "size": "medium"}),
    )
    .await;
    assert_eq!(fields, ["size"]);
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM orders").await,
        orders,
        "nothing written"
    );

    // The medium sold before is untouched.
    let kept: (String, String, i64) = sqlx::query_as(
        "SELECT size_code, size_label, unit_price_cents FROM order_lines ORDER BY order_id LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("the first line");
    assert_eq!(
        kept,
        ("medium".to_owned(), "Moyenne 29 cm".to_owned(), 1100)
    );

    // No sizes at all: sold as its recipe says, at its last listed price.
    let (status, answer) = admin(
        &world,
        "PUT",
        &format!("/products/{REINE}/sizes"),
        json!({"sizes": []}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["product"]["sizes"], json!([]));
    assert_eq!(answer["product"]["price_cents"], 850);
    let on_menu = product(&menu(&world).await, REINE);
    assert_eq!(on_menu["sizes"], json!([]));
    assert_eq!(on_menu["price_cents"], 850);
    let plain = sold(&world, json!({"product_id": REINE, "quantity": 1})).await;
    assert_eq!(plain["unit_price_cents"], 850);
    assert_eq!(plain["size"], Value::Null);
    let fields = refused_choice(
        &world,
        json!({"product_id": REINE, "quantity": 1, "size": "large"}),
    )
    .await;
    assert_eq!(fields, ["size"]);

    // A can of cola takes sizes too; a price edit then moves its first.
    let (status, answer) = admin(
        &world,
        "PUT",
        &format!("/products/{COLA}/sizes"),
        json!({"sizes": [{"code": "33cl", "label": "33 cl", "price_cents": 300, "recipe_percent": 100},
                         {"code": "50cl", "label": "50 cl", "price_cents": 420, "recipe_percent": 100}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = admin(
        &world,
        "PATCH",
        &format!("/products/{COLA}"),
        json!({"price_cents": 320}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        each(&answer["product"]["sizes"], "price_cents"),
        [json!(320), json!(420)]
    );
    world.run_consumers().await;
    testkit::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn extras_max_extras_and_removable_toppings_follow_on_the_next_request(pool: MySqlPool) {
    let world = world(&pool).await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let (status, list) = world
        .call(Backoffice, "GET", "/extras", None, Some(&manager))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["extras"].as_array().map(Vec::len), Some(10));
    assert_eq!(
        list["extras"][0]["ingredient_id"], MOZZARELLA,
        "in the menu's order"
    );
    assert_eq!(list["extras"][0]["quantity"], 60);

    // Two extras now: gorgonzola first, then goat's cheese at a new price.
    let extras = json!({"extras": [
        {"ingredient_id": GORGONZOLA, "quantity": 30, "price_cents": 180},
        {"ingredient_id": GOAT, "quantity": 50, "price_cents": 250}
    ]});
    let (status, answer) = admin(&world, "PUT", "/extras", extras).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        each(&answer["extras"], "ingredient_id"),
        [json!(GORGONZOLA), json!(GOAT)]
    );
    assert_eq!(answer["extras"][0]["name"], "Gorgonzola");
    let menu_now = menu(&world).await;
    assert_eq!(
        each(&menu_now["extras"], "ingredient_id"),
        [json!(GORGONZOLA), json!(GOAT)]
    );
    assert_eq!(
        each(&menu_now["extras"], "price_cents"),
        [json!(180), json!(250)]
    );
    // Checkout: the new one at its price, one taken off refused.
    let line = sold(
        &world,
        json!({"product_id": REINE, "quantity": 1, "extras": [GORGONZOLA]}),
    )
    .await;
    assert_eq!(line["unit_price_cents"], 1100 + 180);
    assert_eq!(
        refused_choice(
            &world,
            json!({"product_id": REINE, "quantity": 1, "extras": [MOZZARELLA]})
        )
        .await,
        ["extras"]
    );

    // One extra a Reine, through the product's own edit; the menu follows.
    let (status, answer) = admin(
        &world,
        "PATCH",
        &format!("/products/{REINE}"),
        json!({"max_extras": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["product"]["max_extras"], 1);
    assert_eq!(product(&menu(&world).await, REINE)["max_extras"], 1);
    let two = json!({"product_id": REINE, "quantity": 1, "extras": [GORGONZOLA, GOAT]});
    assert_eq!(refused_choice(&world, two).await, ["extras"]);

    // The recipe sent again with what may be left off: no more mushrooms
    // "sans", the ham yes; the dough stays as the data says (not removable).
    let (status, current) = world
        .call(
            Backoffice,
            "GET",
            &format!("/products/{REINE}"),
            None,
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{current}");
    let recipe = &current["product"]["recipe"];
    let dough = recipe["lines"]
        .as_array()
        .and_then(|all| all.iter().find(|l| l["ingredient_id"] == DOUGH))
        .cloned()
        .unwrap_or_default();
    assert_eq!(dough["removable"], false);
    let lines: Vec<Value> = recipe["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            let id = l["ingredient_id"].as_i64().unwrap_or(0);
            let mut line = json!({"ingredient_id": id, "quantity": l["quantity"]});
            if id == MUSHROOMS || id == HAM {
                line["removable"] = json!(id == HAM);
            }
            line
        })
        .collect();
    let body = json!({"recipe": {"lines": lines, "steps": recipe["steps"]}});
    let (status, answer) = admin(&world, "PATCH", &format!("/products/{REINE}"), body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let removable = |product: &Value, id: i64, list: &str| {
        product[list]
            .as_array()
            .and_then(|all| {
                all.iter()
                    .find(|i| i["ingredient_id"] == id || i["id"] == id)
            })
            .map(|i| i["removable"].clone())
    };
    assert_eq!(
        removable(&answer["product"]["recipe"], MUSHROOMS, "lines"),
        Some(json!(false))
    );
    assert_eq!(
        removable(&answer["product"]["recipe"], HAM, "lines"),
        Some(json!(true))
    );
    assert_eq!(
        removable(&answer["product"]["recipe"], MOZZARELLA, "lines"),
        Some(json!(true)),
        "not given: kept"
    );
    let on_menu = product(&menu(&world).await, REINE);
    assert_eq!(
        removable(&on_menu, MUSHROOMS, "ingredients"),
        Some(json!(false))
    );
    assert_eq!(removable(&on_menu, HAM, "ingredients"), Some(json!(true)));
    let refused = json!({"product_id": REINE, "quantity": 1, "remove": [MUSHROOMS]});
    assert_eq!(refused_choice(&world, refused).await, ["remove"]);
    let line = sold(
        &world,
        json!({"product_id": REINE, "quantity": 1, "remove": [HAM]}),
    )
    .await;
    assert_eq!(line["choices"], "Moyenne 29 cm · sans Jambon blanc");
    // The kitchen's card tells the pizzaiolo what could have been left off.
    let chef = world.token("pizzaiolo.1@ocpizza.test").await;
    let (status, card) = world
        .call(
            Kitchen,
            "GET",
            &format!("/recipes/{REINE}"),
            None,
            Some(&chef),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{card}");
    assert_eq!(
        removable(&card["recipe"], HAM, "ingredients"),
        Some(json!(true))
    );
    world.run_consumers().await;
    testkit::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn only_the_admin_edits_the_choices_and_nothing_wrong_is_written(pool: MySqlPool) {
    let world = world(&pool).await;
    let before = choices_in_db(&pool).await;
    let manager = world.token("manager.1@ocpizza.test").await;
    let customer = world.token("client.1@ocpizza.test").await;
    let cashier = world.token("cashier.1@ocpizza.test").await;
    let writes = [
        (
            format!("/ingredients/{MUSHROOMS}/allergens"),
            json!({"allergens": ["sesame"], "vegetarian": false}),
        ),
        (
            format!("/products/{REINE}/sizes"),
            json!({"sizes": [{"code": "xl", "label": "XL", "price_cents": 1, "recipe_percent": 100}]}),
        ),
        (
            "/extras".to_owned(),
            json!({"extras": [{"ingredient_id": GOAT, "quantity": 1, "price_cents": 1}]}),
        ),
    ];
    for (uri, body) in &writes {
        for (token, expected) in [
            (Some(manager.as_str()), StatusCode::FORBIDDEN),
            (Some(customer.as_str()), StatusCode::FORBIDDEN),
            (Some(cashier.as_str()), StatusCode::FORBIDDEN),
            (None, StatusCode::UNAUTHORIZED),
        ] {
            let (status, answer) = world
                .call(Backoffice, "PUT", uri, Some(body.clone()), token)
                .await;
            assert_eq!(status, expected, "PUT {uri}: {answer}");
        }
    }
    // A manager's own edit of a product cannot reach them either.
    let (status, answer) = world
        .call(
            Backoffice,
            "PATCH",
            &format!("/products/{REINE}"),
            Some(json!({"max_extras": 10})),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    // Reading the extras is a manager's too, not a customer's.
    for (token, expected) in [
        (Some(customer.as_str()), StatusCode::FORBIDDEN),
        (None, StatusCode::UNAUTHORIZED),
    ] {
        let (status, answer) = world.call(Backoffice, "GET", "/extras", None, token).await;
        assert_eq!(status, expected, "{answer}");
    }

    // The admin's mistakes: a 422 naming the field, nothing written.
    let size = |code: &str, price: i64, percent: i64| json!({"code": code, "label": "Taille", "price_cents": price, "recipe_percent": percent});
    let extra = |ingredient: i64, quantity: i64, price: i64| json!({"ingredient_id": ingredient, "quantity": quantity, "price_cents": price});
    let allergens = format!("/ingredients/{MUSHROOMS}/allergens");
    let sizes = format!("/products/{REINE}/sizes");
    let cases = [
        (
            "PUT",
            allergens.clone(),
            json!({"allergens": ["milk", "pollen"], "vegetarian": true}),
            "allergens[1]",
        ),
        (
            "PUT",
            allergens.clone(),
            json!({"allergens": ["milk", "Milk"], "vegetarian": true}),
            "allergens[1]",
        ),
        (
            "PUT",
            allergens.clone(),
            json!({"allergens": ["sesame", "sesame"], "vegetarian": true}),
            "allergens[1]",
        ),
        (
            "PUT",
            sizes.clone(),
            json!({"sizes": [size("small", -100, 100)]}),
            "sizes[0].price_cents",
        ),
        (
            "PUT",
            sizes.clone(),
            json!({"sizes": [size("small", 100_001, 100)]}),
            "sizes[0].price_cents",
        ),
        (
            "PUT",
            sizes.clone(),
            json!({"sizes": [size("free", 0, 100)]}),
            "sizes[0].price_cents",
        ),
        (
            "PUT",
            sizes.clone(),
            json!({"sizes": [size("small", 900, 5)]}),
            "sizes[0].recipe_percent",
        ),
        (
            "PUT",
            sizes.clone(),
            json!({"sizes": [size("small", 900, 401)]}),
            "sizes[0].recipe_percent",
        ),
        (
            "PUT",
            sizes.clone(),
            json!({"sizes": (1..=7).map(|i| size(&format!("s{i}"), 900, 100)).collect::<Vec<_>>()}),
            "sizes",
        ),
        (
            "PUT",
            sizes.clone(),
            json!({"sizes": [size("large", 900, 100), size("large", 1300, 150)]}),
            "sizes[1].code",
        ),
        (
            "PUT",
            sizes.clone(),
            json!({"sizes": [size("Grande", 900, 100)]}),
            "sizes[0].code",
        ),
        (
            "PUT",
            sizes.clone(),
            json!({"sizes": [size("", 900, 100)]}),
            "sizes[0].code",
        ),
        (
            "PUT",
            sizes.clone(),
            json!({"sizes": [{"code": "small", "label": " ", "price_cents": 900, "recipe_percent": 100}]}),
            "sizes[0].label",
        ),
        (
            "PUT",
            "/extras".to_owned(),
            json!({"extras": [extra(999_999, 40, 200)]}),
            "extras[0].ingredient_id",
        ),
        (
            "PUT",
            "/extras".to_owned(),
            json!({"extras": [extra(GOAT, 40, 200), extra(GOAT, 20, 100)]}),
            "extras[1].ingredient_id",
        ),
        (
            "PUT",
            "/extras".to_owned(),
            json!({"extras": [extra(GOAT, 0, 200)]}),
            "extras[0].quantity",
        ),
        (
            "PUT",
            "/extras".to_owned(),
            json!({"extras": [extra(GOAT, 10_001, 200)]}),
            "extras[0].quantity",
        ),
        (
            "PUT",
            "/extras".to_owned(),
            json!({"extras": [extra(GOAT, 40, -1)]}),
            "extras[0].price_cents",
        ),
        (
            "PUT",
            "/extras".to_owned(),
            json!({"extras": [extra(GOAT, 40, 0)]}),
            "extras[0].price_cents",
        ),
        (
            "PUT",
            "/extras".to_owned(),
            json!({"extras": (1..=31).map(|i| extra(i, 10, 100)).collect::<Vec<_>>()}),
            "extras",
        ),
        (
            "PATCH",
            format!("/products/{REINE}"),
            json!({"max_extras": 11}),
            "max_extras",
        ),
        (
            "PATCH",
            format!("/products/{REINE}"),
            json!({"max_extras": -1}),
            "max_extras",
        ),
    ];
    for (method, uri, body, field) in cases {
        let (status, problem) = admin(&world, method, &uri, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {uri} {body}: {problem}"
        );
        assert_eq!(problem["type"], "/problems/invalid-request", "{problem}");
        let named = testing::field_errors(&problem);
        assert!(named.iter().any(|f| f == field), "{field} in {problem}");
    }
    // Another product's id in the body is no field of these routes; an id
    // that is no product or ingredient is a 404.
    let (status, problem) = admin(
        &world,
        "PUT",
        &sizes,
        json!({"product_id": MARGHERITA, "sizes": [size("small", 900, 100)]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or("")
            .contains("product_id"),
        "{problem}"
    );
    for (uri, body) in [
        ("/products/999999/sizes", json!({"sizes": []})),
        ("/products/soup/sizes", json!({"sizes": []})),
        (
            "/ingredients/999999/allergens",
            json!({"allergens": [], "vegetarian": true}),
        ),
    ] {
        let (status, problem) = admin(&world, "PUT", uri, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {problem}");
    }

    assert_eq!(choices_in_db(&pool).await, before, "nothing written");
}

#[sqlx::test(migrations = "../../migrations")]
async fn two_admins_saving_at_once_leave_one_whole_list_never_a_mix(pool: MySqlPool) {
    let world = world(&pool).await;
    let token = world.token("admin@ocpizza.test").await;
    let sizes_a = json!({"sizes": [
        {"code": "small", "label": "Petite", "price_cents": 800, "recipe_percent": 75},
        {"code": "large", "label": "Grande", "price_cents": 1600, "recipe_percent": 150}]});
    let sizes_b = json!({"sizes": [
        {"code": "medium", "label": "Moyenne", "price_cents": 1000, "recipe_percent": 100},
        {"code": "xl", "label": "Très grande", "price_cents": 2000, "recipe_percent": 200},
        {"code": "family", "label": "Familiale", "price_cents": 2600, "recipe_percent": 260}]});
    let extras_a = json!({"extras": [{"ingredient_id": GOAT, "quantity": 40, "price_cents": 200}]});
    let extras_b = json!({"extras": [
        {"ingredient_id": GORGONZOLA, "quantity": 30, "price_cents": 150},
        {"ingredient_id": HAM, "quantity": 50, "price_cents": 200}]});
    let uri = format!("/products/{REINE}/sizes");
    let (a, b, c, d, e) = tokio::join!(
        world.call(Backoffice, "PUT", &uri, Some(sizes_a), Some(&token)),
        world.call(Backoffice, "PUT", &uri, Some(sizes_b), Some(&token)),
        world.call(
            Backoffice,
            "PUT",
            "/extras",
            Some(extras_a.clone()),
            Some(&token)
        ),
        world.call(Backoffice, "PUT", "/extras", Some(extras_b), Some(&token)),
        world.call(Backoffice, "PUT", "/extras", Some(extras_a), Some(&token)),
    );
    for (status, answer) in [&a, &b, &c, &d, &e] {
        // A deadlock is retried by the client (503); nothing half-written either way.
        assert!(
            *status == StatusCode::OK || *status == StatusCode::SERVICE_UNAVAILABLE,
            "{status}: {answer}"
        );
    }
    let codes: Vec<(String,)> = sqlx::query_as(&format!(
        "SELECT code FROM product_sizes WHERE product_id = {REINE} ORDER BY position"
    ))
    .fetch_all(&pool)
    .await
    .expect("the sizes");
    let codes: Vec<String> = codes.into_iter().map(|(c,)| c).collect();
    assert!(
        codes == ["small", "large"] || codes == ["medium", "xl", "family"],
        "one whole list: {codes:?}"
    );
    let price = scalar(
        &pool,
        &format!("SELECT price_cents FROM products WHERE id = {REINE}"),
    )
    .await;
    assert_eq!(
        price,
        if codes[0] == "small" { 800 } else { 1000 },
        "the first size's price"
    );
    let extras: Vec<(i64,)> = sqlx::query_as("SELECT ingredient_id FROM extras ORDER BY position")
        .fetch_all(&pool)
        .await
        .expect("the extras");
    let extras: Vec<i64> = extras.into_iter().map(|(i,)| i).collect();
    assert!(
        extras == [GOAT] || extras == [GORGONZOLA, HAM],
        "one whole list: {extras:?}"
    );
}
