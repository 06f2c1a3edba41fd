//! Recipes: what goes on a product (each ingredient's quantity for one
//! product, in the ingredient's unit) and the pizzaiolo's steps. Read in one
//! place for the menu editor and the kitchen's recipe cards; replaced whole
//! by the admin. Stock reads the same lines to reserve what an order needs.

use crate::platform::ids::{IngredientId, ProductId};
use serde::Serialize;
use sqlx::{MySql, MySqlPool, QueryBuilder, Transaction};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RecipeLine {
    pub ingredient_id: IngredientId,
    pub name: String,
    pub quantity: i64,
    pub unit: String,
    /// Added at the customer's request (an extra), on a ticket's card.
    pub extra: bool,
    /// A topping the customer may leave off ("sans oignons").
    pub removable: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Recipe {
    pub lines: Vec<RecipeLine>,
    pub steps: Vec<String>,
}

/// The memo a pizzaiolo follows: what goes on, how much, in which order.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RecipeCard {
    pub product_id: ProductId,
    pub name: String,
    pub ingredients: Vec<RecipeLine>,
    pub steps: Vec<String>,
}

/// Which products to read.
#[derive(Debug, Clone, Copy)]
pub enum Products<'a> {
    All,
    These(&'a [ProductId]),
}

/// Appends ` WHERE column IN (?, ?, ..)` with these ids.
fn push_in(builder: &mut QueryBuilder<'_, MySql>, column: &str, ids: &[ProductId]) {
    builder.push(format_args!(" WHERE {column} IN ("));
    let mut list = builder.separated(", ");
    for id in ids {
        list.push_bind(id.0);
    }
    list.push_unseparated(")");
}

/// The recipes of these products (or of all), by product; lines by
/// decreasing quantity, steps in order. A product without lines nor steps is
/// absent.
pub async fn read(
    pool: &MySqlPool,
    products: Products<'_>,
) -> Result<BTreeMap<ProductId, Recipe>, sqlx::Error> {
    let mut recipes: BTreeMap<ProductId, Recipe> = BTreeMap::new();
    // A line: product, ingredient, its name, quantity, unit, removable; a
    // step: product, text.
    type Lines = Vec<(i64, i64, String, i32, String, bool)>;
    type Steps = Vec<(i64, String)>;
    let (lines, steps): (Lines, Steps) = match products {
        Products::These([]) => return Ok(recipes),
        Products::All => {
            let lines = sqlx::query!(
                "SELECT r.product_id, r.ingredient_id, i.name, r.quantity, i.unit, \
                        r.removable AS `removable: bool` \
                 FROM recipe_lines r JOIN ingredients i ON i.id = r.ingredient_id \
                 ORDER BY r.product_id, r.quantity DESC, i.name"
            )
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| {
                (
                    r.product_id,
                    r.ingredient_id,
                    r.name,
                    r.quantity,
                    r.unit,
                    r.removable,
                )
            })
            .collect();
            let steps = sqlx::query!(
                "SELECT product_id, text FROM recipe_steps ORDER BY product_id, position"
            )
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| (r.product_id, r.text))
            .collect();
            (lines, steps)
        }
        // Runtime SQL: the same statements as above with an `IN` list as
        // long as the products asked for.
        Products::These(ids) => {
            let mut q = QueryBuilder::<MySql>::new(
                "SELECT r.product_id, r.ingredient_id, i.name, r.quantity, i.unit, r.removable \
                 FROM recipe_lines r JOIN ingredients i ON i.id = r.ingredient_id",
            );
            push_in(&mut q, "r.product_id", ids);
            q.push(" ORDER BY r.product_id, r.quantity DESC, i.name");
            let lines = q.build_query_as().fetch_all(pool).await?;
            let mut q = QueryBuilder::<MySql>::new("SELECT product_id, text FROM recipe_steps");
            push_in(&mut q, "product_id", ids);
            q.push(" ORDER BY product_id, position");
            let steps = q.build_query_as().fetch_all(pool).await?;
            (lines, steps)
        }
    };

    for (product, ingredient, name, quantity, unit, removable) in lines {
        recipes
            .entry(ProductId(product))
            .or_default()
            .lines
            .push(RecipeLine {
                ingredient_id: IngredientId(ingredient),
                name,
                quantity: i64::from(quantity),
                unit,
                extra: false,
                removable,
            });
    }
    for (product, text) in steps {
        recipes
            .entry(ProductId(product))
            .or_default()
            .steps
            .push(text);
    }
    Ok(recipes)
}

/// The recipe cards of these products, by product. What is not prepared in
/// the kitchen (no steps: a can taken from the fridge has stock lines but
/// nothing to prepare) has none.
pub async fn cards(
    pool: &MySqlPool,
    products: &[ProductId],
) -> Result<BTreeMap<ProductId, RecipeCard>, sqlx::Error> {
    let recipes = read(pool, Products::These(products)).await?;
    let cooked: Vec<ProductId> = recipes
        .iter()
        .filter(|(_, recipe)| !recipe.steps.is_empty())
        .map(|(id, _)| *id)
        .collect();
    if cooked.is_empty() {
        return Ok(BTreeMap::new());
    }
    // Runtime SQL: an `IN` list as long as the products cooked.
    let mut q = QueryBuilder::<MySql>::new("SELECT id, name FROM products");
    push_in(&mut q, "id", &cooked);
    let names: BTreeMap<i64, String> = q
        .build_query_as::<(i64, String)>()
        .fetch_all(pool)
        .await?
        .into_iter()
        .collect();
    Ok(recipes
        .into_iter()
        .filter(|(_, recipe)| !recipe.steps.is_empty())
        .filter_map(|(id, recipe)| {
            let name = names.get(&id.0)?.clone();
            Some((
                id,
                RecipeCard {
                    product_id: id,
                    name,
                    ingredients: recipe.lines,
                    steps: recipe.steps,
                },
            ))
        })
        .collect())
}

/// A line of a recipe to write: `removable` says whether the customer may
/// leave it off; `None` keeps what the product's recipe said (a new line:
/// not removable), so an editor that does not know of it changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewLine {
    pub ingredient: IngredientId,
    pub quantity: i64,
    pub removable: Option<bool>,
}

/// Replaces a product's recipe (lines; steps in order), in the caller's
/// transaction.
pub async fn replace(
    tx: &mut Transaction<'_, MySql>,
    product: ProductId,
    lines: &[NewLine],
    steps: &[String],
) -> Result<(), sqlx::Error> {
    let removable = sqlx::query_scalar!(
        "SELECT ingredient_id FROM recipe_lines WHERE product_id = ? AND removable",
        product.0
    )
    .fetch_all(&mut **tx)
    .await?;
    sqlx::query!("DELETE FROM recipe_lines WHERE product_id = ?", product.0)
        .execute(&mut **tx)
        .await?;
    sqlx::query!("DELETE FROM recipe_steps WHERE product_id = ?", product.0)
        .execute(&mut **tx)
        .await?;
    // Runtime SQL below: one multi-row INSERT each, as many rows as given.
    if !lines.is_empty() {
        let mut q = QueryBuilder::<MySql>::new(
            "INSERT INTO recipe_lines (product_id, ingredient_id, quantity, removable) ",
        );
        q.push_values(lines, |mut row, line| {
            let ingredient = line.ingredient.0;
            row.push_bind(product.0)
                .push_bind(ingredient)
                .push_bind(line.quantity)
                .push_bind(
                    line.removable
                        .unwrap_or_else(|| removable.contains(&ingredient)),
                );
        });
        q.build().execute(&mut **tx).await?;
    }
    if !steps.is_empty() {
        let mut q =
            QueryBuilder::<MySql>::new("INSERT INTO recipe_steps (product_id, position, text) ");
        q.push_values(steps.iter().enumerate(), |mut row, (i, text)| {
            row.push_bind(product.0)
                .push_bind(i as i64 + 1)
                .push_bind(text.as_str());
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}
