//! The group's menu: products with their category, price, VAT rate and
//! recipe (ingredient lines and the pizzaiolo's steps).
//!
//! Managers read it; only the admin changes it, since every pizzeria sells
//! the same menu (a manager takes a product off their own pizzeria's menu
//! with a menu exclusion instead). A product is never deleted — past orders
//! point at it — but deactivated (`active: false`), which takes it off every
//! menu. Prices and VAT changes apply to new orders only: order lines keep
//! the price and rate they were sold at.

use crate::{allowed_in_group, field_error, invalid, State};
use http::StatusCode;
use ocpizza::identity::access::Action;
use ocpizza::platform::db;
use ocpizza::platform::http::{self as edge, ApiError, Request, Response};
use ocpizza::platform::ids::{IngredientId, PizzeriaId, ProductId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{MySql, MySqlPool, QueryBuilder, Transaction};
use std::collections::{BTreeMap, BTreeSet};

/// The French VAT rates a product may carry, in basis points: 5.5 % (drinks
/// sold for later, some desserts), 10 % (food to eat at once: restaurants,
/// take-away, delivery), 20 % (alcohol).
pub const VAT_RATES_BP: [i32; 3] = [550, 1000, 2000];
/// The highest price accepted, against typos (1,000.00 €).
const MAX_PRICE_CENTS: i64 = 100_000;
const MAX_RECIPE_LINES: usize = 30;
const MAX_STEPS: usize = 30;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RecipeLine {
    pub ingredient_id: IngredientId,
    pub name: String,
    pub quantity: i64,
    pub unit: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Recipe {
    pub lines: Vec<RecipeLine>,
    pub steps: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Product {
    pub id: ProductId,
    pub category_id: i64,
    pub category: String,
    pub name: String,
    pub description: String,
    pub price_cents: i64,
    pub vat_rate_bp: i32,
    pub active: bool,
    pub position: i32,
    pub recipe: Recipe,
    /// The pizzerias whose menu does not show it.
    pub unavailable_in: Vec<PizzeriaId>,
}

/// Every product (or one), in menu order.
async fn load(pool: &MySqlPool, only: Option<ProductId>) -> Result<Vec<Product>, sqlx::Error> {
    let only = only.map(|p| p.0);
    type Row = (i64, i64, String, String, String, i64, i32, bool, i32);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT p.id, p.category_id, c.name, p.name, p.description, p.price_cents, p.vat_rate_bp, \
                p.active, p.position \
         FROM products p JOIN categories c ON c.id = p.category_id \
         WHERE (? IS NULL OR p.id = ?) ORDER BY c.position, p.position, p.id",
    )
    .bind(only)
    .bind(only)
    .fetch_all(pool)
    .await?;
    let lines: Vec<(i64, i64, String, i32, String)> = sqlx::query_as(
        "SELECT r.product_id, r.ingredient_id, i.name, r.quantity, i.unit \
         FROM recipe_lines r JOIN ingredients i ON i.id = r.ingredient_id \
         WHERE (? IS NULL OR r.product_id = ?) ORDER BY r.product_id, r.quantity DESC, i.name",
    )
    .bind(only)
    .bind(only)
    .fetch_all(pool)
    .await?;
    let steps: Vec<(i64, String)> = sqlx::query_as(
        "SELECT product_id, text FROM recipe_steps WHERE (? IS NULL OR product_id = ?) \
         ORDER BY product_id, position",
    )
    .bind(only)
    .bind(only)
    .fetch_all(pool)
    .await?;
    let excluded: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT product_id, pizzeria_id FROM menu_exclusions WHERE (? IS NULL OR product_id = ?) \
         ORDER BY product_id, pizzeria_id",
    )
    .bind(only)
    .bind(only)
    .fetch_all(pool)
    .await?;

    let mut recipes: BTreeMap<i64, Recipe> = BTreeMap::new();
    for (product, ingredient, name, quantity, unit) in lines {
        recipes.entry(product).or_default().lines.push(RecipeLine {
            ingredient_id: IngredientId(ingredient),
            name,
            quantity: i64::from(quantity),
            unit,
        });
    }
    for (product, text) in steps {
        recipes.entry(product).or_default().steps.push(text);
    }
    let mut exclusions: BTreeMap<i64, Vec<PizzeriaId>> = BTreeMap::new();
    for (product, pizzeria) in excluded {
        exclusions
            .entry(product)
            .or_default()
            .push(PizzeriaId(pizzeria));
    }
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                category_id,
                category,
                name,
                description,
                price_cents,
                vat_rate_bp,
                active,
                position,
            )| {
                Product {
                    id: ProductId(id),
                    category_id,
                    category,
                    name,
                    description,
                    price_cents,
                    vat_rate_bp,
                    active,
                    position,
                    recipe: recipes.remove(&id).unwrap_or_default(),
                    unavailable_in: exclusions.remove(&id).unwrap_or_default(),
                }
            },
        )
        .collect())
}

/// 404 unless the product exists.
pub(crate) async fn known_product(pool: &MySqlPool, product: ProductId) -> Result<(), ApiError> {
    let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM products WHERE id = ?")
        .bind(product.0)
        .fetch_optional(pool)
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| ApiError::not_found(format!("No product with id {product}.")))
}

async fn one_product(pool: &MySqlPool, product: ProductId) -> Result<Product, ApiError> {
    load(pool, Some(product))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found(format!("No product with id {product}.")))
}

#[tracing::instrument(skip_all)]
pub(crate) async fn list(state: &State, req: &Request) -> Result<Response, ApiError> {
    allowed_in_group(state, req, Action::ReadProducts).await?;
    let products = load(&state.pool, None).await?;
    edge::json(StatusCode::OK, &json!({ "products": products }))
}

#[tracing::instrument(skip_all, fields(product_id = %product))]
pub(crate) async fn one(
    state: &State,
    req: &Request,
    product: ProductId,
) -> Result<Response, ApiError> {
    allowed_in_group(state, req, Action::ReadProducts).await?;
    let product = one_product(&state.pool, product).await?;
    edge::json(StatusCode::OK, &json!({ "product": product }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeLineIn {
    pub ingredient_id: i64,
    pub quantity: i64,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RecipeIn {
    #[serde(default)]
    pub lines: Vec<RecipeLineIn>,
    #[serde(default)]
    pub steps: Vec<String>,
}

/// A new product, or the fields to change (all optional then).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ProductIn {
    pub category_id: Option<i64>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub price_cents: Option<i64>,
    pub vat_rate_bp: Option<i32>,
    pub active: Option<bool>,
    pub position: Option<i32>,
    pub recipe: Option<RecipeIn>,
}

fn tidy(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks every given field against the rules and the database; `creating`
/// makes category, name, price and VAT rate required. All problems at once.
async fn validate(
    pool: &MySqlPool,
    body: &mut ProductIn,
    creating: bool,
    this: Option<ProductId>,
) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if creating {
        for (missing, field) in [
            (body.category_id.is_none(), "category_id"),
            (body.name.is_none(), "name"),
            (body.price_cents.is_none(), "price_cents"),
            (body.vat_rate_bp.is_none(), "vat_rate_bp"),
        ] {
            if missing {
                errors.push(field_error(field, "Required for a new product."));
            }
        }
    }
    if let Some(name) = body.name.as_mut() {
        *name = tidy(name);
        if name.is_empty() || name.chars().count() > 100 {
            errors.push(field_error("name", "A name of 1 to 100 characters."));
        } else {
            let taken: Option<(i64,)> =
                sqlx::query_as("SELECT id FROM products WHERE name = ? AND (? IS NULL OR id <> ?)")
                    .bind(name.as_str())
                    .bind(this.map(|p| p.0))
                    .bind(this.map(|p| p.0))
                    .fetch_optional(pool)
                    .await?;
            if taken.is_some() {
                errors.push(field_error(
                    "name",
                    "Another product already has this name.",
                ));
            }
        }
    }
    if let Some(description) = body.description.as_mut() {
        *description = description.trim().to_owned();
        if description.chars().count() > 500 {
            errors.push(field_error("description", "At most 500 characters."));
        }
    }
    if let Some(price) = body.price_cents {
        if !(1..=MAX_PRICE_CENTS).contains(&price) {
            errors.push(field_error(
                "price_cents",
                &format!("A price in cents, from 1 to {MAX_PRICE_CENTS}, VAT included."),
            ));
        }
    }
    if let Some(rate) = body.vat_rate_bp {
        if !VAT_RATES_BP.contains(&rate) {
            errors.push(field_error(
                "vat_rate_bp",
                "A French VAT rate in basis points: 550 (5.5 %), 1000 (10 %) or 2000 (20 %).",
            ));
        }
    }
    if let Some(position) = body.position {
        if !(0..=10_000).contains(&position) {
            errors.push(field_error("position", "From 0 to 10000."));
        }
    }
    if let Some(category) = body.category_id {
        let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM categories WHERE id = ?")
            .bind(category)
            .fetch_optional(pool)
            .await?;
        if found.is_none() {
            errors.push(field_error("category_id", "No such category."));
        }
    }
    if let Some(recipe) = body.recipe.as_mut() {
        if recipe.lines.len() > MAX_RECIPE_LINES {
            errors.push(field_error(
                "recipe.lines",
                &format!("At most {MAX_RECIPE_LINES} lines."),
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, line) in recipe.lines.iter().enumerate() {
            if !(1..=100_000).contains(&line.quantity) {
                errors.push(field_error(
                    &format!("recipe.lines[{i}].quantity"),
                    "A whole quantity from 1 to 100000, in the ingredient's unit, for one product.",
                ));
            }
            if !seen.insert(line.ingredient_id) {
                errors.push(field_error(
                    &format!("recipe.lines[{i}].ingredient_id"),
                    "This ingredient is already on another line.",
                ));
            }
        }
        if !seen.is_empty() {
            let mut q = QueryBuilder::<MySql>::new("SELECT id FROM ingredients WHERE id IN (");
            let mut ids = q.separated(", ");
            for id in &seen {
                ids.push_bind(*id);
            }
            q.push(")");
            let known: BTreeSet<i64> = q
                .build_query_as::<(i64,)>()
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|(id,)| id)
                .collect();
            for (i, line) in recipe.lines.iter().enumerate() {
                if !known.contains(&line.ingredient_id) {
                    errors.push(field_error(
                        &format!("recipe.lines[{i}].ingredient_id"),
                        "No such ingredient.",
                    ));
                }
            }
        }
        if recipe.steps.len() > MAX_STEPS {
            errors.push(field_error(
                "recipe.steps",
                &format!("At most {MAX_STEPS} steps."),
            ));
        }
        for (i, step) in recipe.steps.iter_mut().enumerate() {
            *step = tidy(step);
            if step.is_empty() || step.chars().count() > 500 {
                errors.push(field_error(
                    &format!("recipe.steps[{i}]"),
                    "A step of 1 to 500 characters.",
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(invalid(errors))
    }
}

/// Replaces a product's recipe.
async fn write_recipe(
    tx: &mut Transaction<'_, MySql>,
    product: ProductId,
    recipe: &RecipeIn,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recipe_lines WHERE product_id = ?")
        .bind(product.0)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM recipe_steps WHERE product_id = ?")
        .bind(product.0)
        .execute(&mut **tx)
        .await?;
    if !recipe.lines.is_empty() {
        let mut q = QueryBuilder::<MySql>::new(
            "INSERT INTO recipe_lines (product_id, ingredient_id, quantity) ",
        );
        q.push_values(&recipe.lines, |mut row, line| {
            row.push_bind(product.0)
                .push_bind(line.ingredient_id)
                .push_bind(line.quantity);
        });
        q.build().execute(&mut **tx).await?;
    }
    if !recipe.steps.is_empty() {
        let mut q =
            QueryBuilder::<MySql>::new("INSERT INTO recipe_steps (product_id, position, text) ");
        q.push_values(recipe.steps.iter().enumerate(), |mut row, (i, text)| {
            row.push_bind(product.0)
                .push_bind(i as i64 + 1)
                .push_bind(text.as_str());
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// A name taken between the check and the write: the same 422 as the check.
fn name_taken(err: sqlx::Error) -> ApiError {
    if db::duplicate_key(&err).as_deref() == Some("uq_products_name") {
        invalid(vec![field_error(
            "name",
            "Another product already has this name.",
        )])
    } else {
        err.into()
    }
}

#[tracing::instrument(skip_all)]
pub(crate) async fn create(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = allowed_in_group(state, req, Action::EditMenu).await?;
    let mut body: ProductIn = edge::parse_json(req)?;
    validate(&state.pool, &mut body, true, None).await?;
    let (Some(category), Some(name), Some(price), Some(rate)) = (
        body.category_id,
        body.name.as_deref(),
        body.price_cents,
        body.vat_rate_bp,
    ) else {
        return Err(ApiError::unprocessable(
            "A new product needs a category, a name, a price and a VAT rate.",
        ));
    };
    let mut tx = state.pool.begin().await?;
    let id = sqlx::query(
        "INSERT INTO products (category_id, name, description, price_cents, vat_rate_bp, active, position, created_at, updated_at) \
         SELECT ?, ?, ?, ?, ?, ?, COALESCE(?, (SELECT COALESCE(MAX(position), 0) + 1 FROM products WHERE category_id = ?)), \
                UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)",
    )
    .bind(category)
    .bind(name)
    .bind(body.description.as_deref().unwrap_or(""))
    .bind(price)
    .bind(rate)
    .bind(body.active.unwrap_or(true))
    .bind(body.position)
    .bind(category)
    .execute(&mut *tx)
    .await
    .map_err(name_taken)?
    .last_insert_id();
    let product = ProductId(id as i64);
    if let Some(recipe) = &body.recipe {
        write_recipe(&mut tx, product, recipe).await?;
    }
    tx.commit().await?;
    tracing::info!(product_id = %product, user_id = %caller.user_id, "product created");
    let product = one_product(&state.pool, product).await?;
    let mut response = edge::json(StatusCode::CREATED, &json!({ "product": product }))?;
    if let Ok(location) = format!("/products/{}", product.id).parse() {
        response
            .headers_mut()
            .insert(http::header::LOCATION, location);
    }
    Ok(response)
}

#[tracing::instrument(skip_all, fields(product_id = %product))]
pub(crate) async fn update(
    state: &State,
    req: &Request,
    product: ProductId,
) -> Result<Response, ApiError> {
    let caller = allowed_in_group(state, req, Action::EditMenu).await?;
    known_product(&state.pool, product).await?;
    let mut body: ProductIn = edge::parse_json(req)?;
    validate(&state.pool, &mut body, false, Some(product)).await?;
    let mut tx = state.pool.begin().await?;
    sqlx::query(
        "UPDATE products SET category_id = COALESCE(?, category_id), name = COALESCE(?, name), \
             description = COALESCE(?, description), price_cents = COALESCE(?, price_cents), \
             vat_rate_bp = COALESCE(?, vat_rate_bp), active = COALESCE(?, active), \
             position = COALESCE(?, position), updated_at = UTC_TIMESTAMP(6) \
         WHERE id = ?",
    )
    .bind(body.category_id)
    .bind(body.name.as_deref())
    .bind(body.description.as_deref())
    .bind(body.price_cents)
    .bind(body.vat_rate_bp)
    .bind(body.active)
    .bind(body.position)
    .bind(product.0)
    .execute(&mut *tx)
    .await
    .map_err(name_taken)?;
    if let Some(recipe) = &body.recipe {
        write_recipe(&mut tx, product, recipe).await?;
    }
    tx.commit().await?;
    tracing::info!(product_id = %product, user_id = %caller.user_id, "product changed");
    let product = one_product(&state.pool, product).await?;
    edge::json(StatusCode::OK, &json!({ "product": product }))
}
