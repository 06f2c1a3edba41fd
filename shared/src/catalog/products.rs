//! The group's products as the back office edits them: category, name,
//! price, VAT rate, position, recipe (with the toppings a customer may leave
//! off) and how many extras a unit takes, and the pizzerias whose menu
//! leaves each one out (`menu_exclusions`). A product's sizes are read here
//! and replaced through [`super::options`].
//!
//! This module owns the `products` rows and the rules of what a product may
//! be (a French VAT rate, a price within bounds, a name no other product
//! has, known ingredients on at most so many recipe lines...). [`check`]
//! returns every broken rule at once, as [`FieldProblem`]s a caller shapes
//! into its answer. Recipes are read and replaced through [`recipe`]. A
//! product is never deleted — past orders point at it — but deactivated.

use super::choices::Size;
use super::recipe::{self, NewLine, Recipe};
use super::version;
use crate::platform::db;
use crate::platform::ids::{IngredientId, PizzeriaId, ProductId};
use serde::{Deserialize, Serialize};
use sqlx::{MySql, MySqlPool, QueryBuilder};
use std::collections::{BTreeMap, BTreeSet};

/// The French VAT rates a product may carry, in basis points: 5.5 % (drinks
/// sold for later, some desserts), 10 % (food to eat at once: restaurants,
/// take-away, delivery), 20 % (alcohol).
pub const VAT_RATES_BP: [i32; 3] = [550, 1000, 2000];
/// The highest price accepted, against typos (1,000.00 €).
pub const MAX_PRICE_CENTS: i64 = 100_000;
pub const MAX_RECIPE_LINES: usize = 30;
pub const MAX_STEPS: usize = 30;
/// The largest quantity of one ingredient on one product, in its unit.
pub const MAX_LINE_QUANTITY: i64 = 100_000;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
pub const MAX_STEP_CHARS: usize = 500;
pub const MAX_POSITION: i32 = 10_000;
/// The most extras one unit may take (the schema's `ck_products_max_extras`).
pub const MAX_EXTRAS: i64 = 10;

/// The unique key on `products.name`.
const NAME_KEY: &str = "uq_products_name";

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
    /// How many extras one unit may take (0: none).
    pub max_extras: i64,
    /// In position order; empty when sold as its recipe says, at
    /// `price_cents` (which follows the first size's price otherwise).
    pub sizes: Vec<Size>,
    /// The pizzerias whose menu does not show it.
    pub unavailable_in: Vec<PizzeriaId>,
}

/// Every product (or one), in menu order.
pub async fn load(pool: &MySqlPool, only: Option<ProductId>) -> Result<Vec<Product>, sqlx::Error> {
    let only_id = only.map(|p| p.0);
    let rows = sqlx::query!(
        "SELECT p.id, p.category_id, c.name AS category, p.name, p.description, p.price_cents, \
                p.vat_rate_bp, p.active AS `active: bool`, p.position, p.max_extras \
         FROM products p JOIN categories c ON c.id = p.category_id \
         WHERE (? IS NULL OR p.id = ?) ORDER BY c.position, p.position, p.id",
        only_id,
        only_id,
    )
    .fetch_all(pool)
    .await?;
    let these: Vec<ProductId> = only.into_iter().collect();
    let mut recipes = recipe::read(
        pool,
        match only {
            Some(_) => recipe::Products::These(&these),
            None => recipe::Products::All,
        },
    )
    .await?;
    let excluded = sqlx::query!(
        "SELECT product_id, pizzeria_id FROM menu_exclusions WHERE (? IS NULL OR product_id = ?) \
         ORDER BY product_id, pizzeria_id",
        only_id,
        only_id,
    )
    .fetch_all(pool)
    .await?;
    let size_rows = sqlx::query!(
        "SELECT product_id, code, label, price_cents, recipe_percent FROM product_sizes \
         WHERE (? IS NULL OR product_id = ?) ORDER BY product_id, position, code",
        only_id,
        only_id,
    )
    .fetch_all(pool)
    .await?;

    let mut sizes: BTreeMap<i64, Vec<Size>> = BTreeMap::new();
    for row in size_rows {
        sizes.entry(row.product_id).or_default().push(Size {
            code: row.code,
            label: row.label,
            price_cents: row.price_cents,
            recipe_percent: i64::from(row.recipe_percent),
        });
    }
    let mut exclusions: BTreeMap<i64, Vec<PizzeriaId>> = BTreeMap::new();
    for row in excluded {
        exclusions
            .entry(row.product_id)
            .or_default()
            .push(PizzeriaId(row.pizzeria_id));
    }
    Ok(rows
        .into_iter()
        .map(|row| Product {
            id: ProductId(row.id),
            category_id: row.category_id,
            category: row.category,
            name: row.name,
            description: row.description,
            price_cents: row.price_cents,
            vat_rate_bp: row.vat_rate_bp,
            active: row.active,
            position: row.position,
            recipe: recipes.remove(&ProductId(row.id)).unwrap_or_default(),
            max_extras: i64::from(row.max_extras),
            sizes: sizes.remove(&row.id).unwrap_or_default(),
            unavailable_in: exclusions.remove(&row.id).unwrap_or_default(),
        })
        .collect())
}

/// One product, or `None` when there is no such id.
pub async fn one(pool: &MySqlPool, product: ProductId) -> Result<Option<Product>, sqlx::Error> {
    Ok(load(pool, Some(product)).await?.into_iter().next())
}

/// Is there a product with this id?
pub async fn exists(pool: &MySqlPool, product: ProductId) -> Result<bool, sqlx::Error> {
    let found = sqlx::query_scalar!("SELECT id FROM products WHERE id = ?", product.0)
        .fetch_optional(pool)
        .await?;
    Ok(found.is_some())
}

/// Does a product other than `except` already have this name?
pub async fn name_taken(
    pool: &MySqlPool,
    name: &str,
    except: Option<ProductId>,
) -> Result<bool, sqlx::Error> {
    let except = except.map(|p| p.0);
    let taken = sqlx::query_scalar!(
        "SELECT id FROM products WHERE name = ? AND (? IS NULL OR id <> ?)",
        name,
        except,
        except,
    )
    .fetch_optional(pool)
    .await?;
    Ok(taken.is_some())
}

/// Is there a category with this id?
pub async fn category_exists(pool: &MySqlPool, category: i64) -> Result<bool, sqlx::Error> {
    let found = sqlx::query_scalar!("SELECT id FROM categories WHERE id = ?", category)
        .fetch_optional(pool)
        .await?;
    Ok(found.is_some())
}

/// Which of these ingredient ids exist.
pub async fn known_ingredients(
    pool: &MySqlPool,
    ids: &BTreeSet<i64>,
) -> Result<BTreeSet<i64>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(BTreeSet::new());
    }
    // Runtime SQL: an `IN` list as long as the recipe given.
    let mut q = QueryBuilder::<MySql>::new("SELECT id FROM ingredients WHERE id IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
    Ok(q.build_query_as::<(i64,)>()
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|(id,)| id)
        .collect())
}

/// One line of a recipe as given: an ingredient id not checked yet.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeLineChange {
    pub ingredient_id: i64,
    pub quantity: i64,
    /// May the customer leave it off? Not given: as it was on this
    /// product's recipe (a new line: no).
    #[serde(default)]
    pub removable: Option<bool>,
}

/// A whole recipe as given, to replace the product's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeChange {
    #[serde(default)]
    pub lines: Vec<RecipeLineChange>,
    #[serde(default)]
    pub steps: Vec<String>,
}

/// A new product, or the fields to change (all optional then), as the
/// request's JSON gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductChange {
    pub category_id: Option<i64>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub price_cents: Option<i64>,
    pub vat_rate_bp: Option<i32>,
    pub active: Option<bool>,
    pub position: Option<i32>,
    pub recipe: Option<RecipeChange>,
    /// Extras one unit may take, 0 to [`MAX_EXTRAS`].
    pub max_extras: Option<i64>,
}

/// A rule a given field breaks: the field's path (`name`,
/// `recipe.lines[2].quantity`...) and what it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldProblem {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Another product has the name.
    pub fn name_taken() -> Self {
        FieldProblem::new("name", "Another product already has this name.")
    }
}

fn tidy(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Tidies the given fields (whitespace) and checks each against the rules
/// and the database; `creating` makes category, name, price and VAT rate
/// required. Every problem at once, in field order; none: the change may be
/// written. `this` is the product changed, whose own name is not "taken".
pub async fn check(
    pool: &MySqlPool,
    change: &mut ProductChange,
    creating: bool,
    this: Option<ProductId>,
) -> Result<Vec<FieldProblem>, sqlx::Error> {
    let mut errors = Vec::new();
    if creating {
        for (missing, field) in [
            (change.category_id.is_none(), "category_id"),
            (change.name.is_none(), "name"),
            (change.price_cents.is_none(), "price_cents"),
            (change.vat_rate_bp.is_none(), "vat_rate_bp"),
        ] {
            if missing {
                errors.push(FieldProblem::new(field, "Required for a new product."));
            }
        }
    }
    if let Some(name) = change.name.as_mut() {
        *name = tidy(name);
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            errors.push(FieldProblem::new(
                "name",
                format!("A name of 1 to {MAX_NAME_CHARS} characters."),
            ));
        } else if name_taken(pool, name, this).await? {
            errors.push(FieldProblem::name_taken());
        }
    }
    if let Some(description) = change.description.as_mut() {
        *description = description.trim().to_owned();
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            errors.push(FieldProblem::new(
                "description",
                format!("At most {MAX_DESCRIPTION_CHARS} characters."),
            ));
        }
    }
    if let Some(price) = change.price_cents {
        if !(1..=MAX_PRICE_CENTS).contains(&price) {
            errors.push(FieldProblem::new(
                "price_cents",
                format!("A price in cents, from 1 to {MAX_PRICE_CENTS}, VAT included."),
            ));
        }
    }
    if let Some(rate) = change.vat_rate_bp {
        if !VAT_RATES_BP.contains(&rate) {
            errors.push(FieldProblem::new(
                "vat_rate_bp",
                "A French VAT rate in basis points: 550 (5.5 %), 1000 (10 %) or 2000 (20 %).",
            ));
        }
    }
    if let Some(position) = change.position {
        if !(0..=MAX_POSITION).contains(&position) {
            errors.push(FieldProblem::new(
                "position",
                format!("From 0 to {MAX_POSITION}."),
            ));
        }
    }
    if let Some(max) = change.max_extras {
        if !(0..=MAX_EXTRAS).contains(&max) {
            errors.push(FieldProblem::new(
                "max_extras",
                format!("From 0 (no extras) to {MAX_EXTRAS} extras a unit."),
            ));
        }
    }
    if let Some(category) = change.category_id {
        if !category_exists(pool, category).await? {
            errors.push(FieldProblem::new("category_id", "No such category."));
        }
    }
    if let Some(recipe) = change.recipe.as_mut() {
        check_recipe(pool, recipe, &mut errors).await?;
    }
    Ok(errors)
}

/// The recipe's part of [`check`].
async fn check_recipe(
    pool: &MySqlPool,
    recipe: &mut RecipeChange,
    errors: &mut Vec<FieldProblem>,
) -> Result<(), sqlx::Error> {
    if recipe.lines.len() > MAX_RECIPE_LINES {
        errors.push(FieldProblem::new(
            "recipe.lines",
            format!("At most {MAX_RECIPE_LINES} lines."),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, line) in recipe.lines.iter().enumerate() {
        if !(1..=MAX_LINE_QUANTITY).contains(&line.quantity) {
            errors.push(FieldProblem::new(
                format!("recipe.lines[{i}].quantity"),
                format!(
                    "A whole quantity from 1 to {MAX_LINE_QUANTITY}, in the ingredient's unit, for one product."
                ),
            ));
        }
        if !seen.insert(line.ingredient_id) {
            errors.push(FieldProblem::new(
                format!("recipe.lines[{i}].ingredient_id"),
                "This ingredient is already on another line.",
            ));
        }
    }
    if !seen.is_empty() {
        let known = known_ingredients(pool, &seen).await?;
        for (i, line) in recipe.lines.iter().enumerate() {
            if !known.contains(&line.ingredient_id) {
                errors.push(FieldProblem::new(
                    format!("recipe.lines[{i}].ingredient_id"),
                    "No such ingredient.",
                ));
            }
        }
    }
    if recipe.steps.len() > MAX_STEPS {
        errors.push(FieldProblem::new(
            "recipe.steps",
            format!("At most {MAX_STEPS} steps."),
        ));
    }
    for (i, step) in recipe.steps.iter_mut().enumerate() {
        *step = tidy(step);
        if step.is_empty() || step.chars().count() > MAX_STEP_CHARS {
            errors.push(FieldProblem::new(
                format!("recipe.steps[{i}]"),
                format!("A step of 1 to {MAX_STEP_CHARS} characters."),
            ));
        }
    }
    Ok(())
}

/// Why a product was not written; nothing was.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A new product without a category, a name, a price or a VAT rate.
    #[error("a new product needs a category, a name, a price and a VAT rate")]
    Incomplete,
    /// Another product took the name (between [`check`] and the write).
    #[error("another product already has this name")]
    NameTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A duplicate name from the unique key is [`WriteError::NameTaken`].
fn write_error(err: sqlx::Error) -> WriteError {
    if db::duplicate_key(&err).as_deref() == Some(NAME_KEY) {
        WriteError::NameTaken
    } else {
        WriteError::Database(err)
    }
}

/// Replaces the recipe of the product, in the caller's transaction.
async fn replace_recipe(
    tx: &mut sqlx::Transaction<'_, MySql>,
    product: ProductId,
    recipe: &RecipeChange,
) -> Result<(), sqlx::Error> {
    let lines: Vec<NewLine> = recipe
        .lines
        .iter()
        .map(|l| NewLine {
            ingredient: IngredientId(l.ingredient_id),
            quantity: l.quantity,
            removable: l.removable,
        })
        .collect();
    recipe::replace(tx, product, &lines, &recipe.steps).await
}

/// Writes a new product (checked with [`check`]) and its recipe, in one
/// transaction; without a position, it goes last in its category.
pub async fn create(pool: &MySqlPool, new: &ProductChange) -> Result<ProductId, WriteError> {
    let (Some(category), Some(name), Some(price), Some(rate)) = (
        new.category_id,
        new.name.as_deref(),
        new.price_cents,
        new.vat_rate_bp,
    ) else {
        return Err(WriteError::Incomplete);
    };
    let mut tx = pool.begin().await?;
    let id = sqlx::query!(
        "INSERT INTO products (category_id, name, description, price_cents, vat_rate_bp, active, position, max_extras, created_at, updated_at) \
         SELECT ?, ?, ?, ?, ?, ?, COALESCE(?, (SELECT COALESCE(MAX(position), 0) + 1 FROM products WHERE category_id = ?)), \
                ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)",
        category,
        name,
        new.description.as_deref().unwrap_or(""),
        price,
        rate,
        new.active.unwrap_or(true),
        new.position,
        category,
        new.max_extras.unwrap_or(0),
    )
    .execute(&mut *tx)
    .await
    .map_err(write_error)?
    .last_insert_id();
    let product = ProductId(id as i64);
    if let Some(recipe) = &new.recipe {
        replace_recipe(&mut tx, product, recipe).await?;
    }
    version::bump(&mut tx).await?;
    tx.commit().await?;
    Ok(product)
}

/// Changes the given fields of a product (checked with [`check`]) and
/// replaces its recipe when one is given, in one transaction.
pub async fn update(
    pool: &MySqlPool,
    product: ProductId,
    change: &ProductChange,
) -> Result<(), WriteError> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "UPDATE products SET category_id = COALESCE(?, category_id), name = COALESCE(?, name), \
             description = COALESCE(?, description), price_cents = COALESCE(?, price_cents), \
             vat_rate_bp = COALESCE(?, vat_rate_bp), active = COALESCE(?, active), \
             position = COALESCE(?, position), max_extras = COALESCE(?, max_extras), \
             updated_at = UTC_TIMESTAMP(6) \
         WHERE id = ?",
        change.category_id,
        change.name.as_deref(),
        change.description.as_deref(),
        change.price_cents,
        change.vat_rate_bp,
        change.active,
        change.position,
        change.max_extras,
        product.0,
    )
    .execute(&mut *tx)
    .await
    .map_err(write_error)?;
    if let Some(price) = change.price_cents {
        // A product sold in sizes is listed as its first: that size's price
        // is the product's (the others keep theirs).
        let first = sqlx::query_scalar!(
            "SELECT code FROM product_sizes WHERE product_id = ? ORDER BY position, code LIMIT 1",
            product.0
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(code) = first {
            sqlx::query!(
                "UPDATE product_sizes SET price_cents = ? WHERE product_id = ? AND code = ?",
                price,
                product.0,
                code
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    if let Some(recipe) = &change.recipe {
        replace_recipe(&mut tx, product, recipe).await?;
    }
    version::bump(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Takes a product off one pizzeria's menu (`unavailable`) or puts it back;
/// both idempotent. One transaction with the catalogue's version.
pub async fn set_unavailable(
    pool: &MySqlPool,
    pizzeria: PizzeriaId,
    product: ProductId,
    unavailable: bool,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    if unavailable {
        sqlx::query!(
            "INSERT IGNORE INTO menu_exclusions (pizzeria_id, product_id, created_at) VALUES (?, ?, UTC_TIMESTAMP(6))",
            pizzeria.0,
            product.0,
        )
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query!(
            "DELETE FROM menu_exclusions WHERE pizzeria_id = ? AND product_id = ?",
            pizzeria.0,
            product.0,
        )
        .execute(&mut *tx)
        .await?;
    }
    version::bump(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}
