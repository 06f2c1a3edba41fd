//! What the menu's choices are made of, as the admin edits them (the rules
//! that use them are [`super::choices`]'):
//!
//! - an ingredient's allergens, among the 14 codes of [`Allergen`], and
//!   whether it is vegetarian;
//! - a product's sizes, replaced whole, in the order given: the first is the
//!   one listed, so the product's own `price_cents` follows its price (as a
//!   price edit moves the first size's, `products::update`). Without sizes a
//!   product is sold as its recipe says, at that price;
//! - the group's extras, replaced whole, in the order given.
//!
//! Each `check_*` returns every broken rule at once, as [`FieldProblem`]s
//! naming the field (`sizes[2].code`). A write comes after, in one
//! transaction; the row it concerns (the ingredient, the product) is locked
//! first, so two admins saving at once follow each other. Order lines keep
//! their own copy of what was sold (`size_code`, `size_label`, `allergens`),
//! so nothing here changes a past order.

use super::choices::Allergen;
use super::products::{known_ingredients, FieldProblem, MAX_PRICE_CENTS};
use super::version;
use crate::platform::ids::{IngredientId, ProductId};
use serde::{Deserialize, Serialize};
use sqlx::{MySql, MySqlPool, QueryBuilder};
use std::collections::BTreeSet;

/// At most so many sizes a product (the shop shows them side by side).
pub const MAX_SIZES: usize = 6;
pub const MAX_SIZE_CODE_CHARS: usize = 20;
pub const MAX_SIZE_LABEL_CHARS: usize = 50;
/// A size's recipe, as a percentage of the product's (the schema's check).
pub const MIN_RECIPE_PERCENT: i64 = 10;
pub const MAX_RECIPE_PERCENT: i64 = 400;
/// At most so many extras in the group's list.
pub const MAX_EXTRAS_LISTED: usize = 30;
/// The largest portion of an extra, in its ingredient's unit.
pub const MAX_EXTRA_QUANTITY: i64 = 10_000;

fn problem(field: impl Into<String>, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------- allergens

/// An ingredient's allergens and vegetarian flag as given, replacing what
/// it had.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllergensChange {
    /// Codes (`gluten`, `milk`...), each once; `[]`: none.
    pub allergens: Vec<String>,
    pub vegetarian: bool,
}

/// The codes as allergens; an unknown code, or one given twice, is a
/// problem naming its place (`allergens[3]`). Refused rather than merged: a
/// list sent with a code twice was not built as meant.
pub fn check_allergens(codes: &[String]) -> Result<BTreeSet<Allergen>, Vec<FieldProblem>> {
    let mut found = BTreeSet::new();
    let mut errors = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        match Allergen::parse(code) {
            Some(allergen) if found.insert(allergen) => {}
            Some(_) => errors.push(problem(
                format!("allergens[{i}]"),
                "This allergen is already in the list.",
            )),
            None => errors.push(problem(
                format!("allergens[{i}]"),
                format!(
                    "One of the 14 allergen codes: {}.",
                    Allergen::ALL.map(Allergen::code).join(", ")
                ),
            )),
        }
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

/// Replaces the ingredient's allergens and vegetarian flag, in one
/// transaction; `false` for an unknown ingredient (nothing written).
pub async fn set_allergens(
    pool: &MySqlPool,
    ingredient: IngredientId,
    allergens: &BTreeSet<Allergen>,
    vegetarian: bool,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let found = sqlx::query_scalar!(
        "SELECT id FROM ingredients WHERE id = ? FOR UPDATE",
        ingredient.0
    )
    .fetch_optional(&mut *tx)
    .await?;
    if found.is_none() {
        return Ok(false);
    }
    sqlx::query!(
        "UPDATE ingredients SET vegetarian = ? WHERE id = ?",
        vegetarian,
        ingredient.0
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM ingredient_allergens WHERE ingredient_id = ?",
        ingredient.0
    )
    .execute(&mut *tx)
    .await?;
    if !allergens.is_empty() {
        // Runtime SQL: one multi-row INSERT, as many rows as allergens.
        let mut q = QueryBuilder::<MySql>::new(
            "INSERT INTO ingredient_allergens (ingredient_id, allergen) ",
        );
        q.push_values(allergens, |mut row, allergen| {
            row.push_bind(ingredient.0).push_bind(allergen.code());
        });
        q.build().execute(&mut *tx).await?;
    }
    version::bump(&mut tx).await?;
    tx.commit().await?;
    Ok(true)
}

// ---------------------------------------------------------------- sizes

/// One size as given.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeChange {
    /// `medium`, `large`, `33cl`: what a cart line asks for.
    pub code: String,
    /// What the customer and the kitchen read ("Grande 40 cm").
    pub label: String,
    pub price_cents: i64,
    /// The recipe's quantities for this size, in percent (150: one and a
    /// half times each ingredient, rounded up).
    pub recipe_percent: i64,
}

/// A product's whole list of sizes as given.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizesChange {
    pub sizes: Vec<SizeChange>,
}

fn is_size_code(code: &str) -> bool {
    (1..=MAX_SIZE_CODE_CHARS).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Tidies the labels (whitespace) and checks every size; every problem at
/// once, in order.
pub fn check_sizes(sizes: &mut [SizeChange]) -> Vec<FieldProblem> {
    let mut errors = Vec::new();
    if sizes.len() > MAX_SIZES {
        errors.push(problem("sizes", format!("At most {MAX_SIZES} sizes.")));
    }
    let mut codes = BTreeSet::new();
    for (i, size) in sizes.iter_mut().enumerate() {
        if !is_size_code(&size.code) {
            errors.push(problem(
                format!("sizes[{i}].code"),
                format!(
                    "1 to {MAX_SIZE_CODE_CHARS} lower-case letters, digits or dashes (`large`, `33cl`)."
                ),
            ));
        } else if !codes.insert(size.code.clone()) {
            errors.push(problem(
                format!("sizes[{i}].code"),
                "Another size of this product already has this code.",
            ));
        }
        size.label = size.label.split_whitespace().collect::<Vec<_>>().join(" ");
        if size.label.is_empty() || size.label.chars().count() > MAX_SIZE_LABEL_CHARS {
            errors.push(problem(
                format!("sizes[{i}].label"),
                format!("A label of 1 to {MAX_SIZE_LABEL_CHARS} characters."),
            ));
        }
        // Like a product's: nothing is given away (the first size's price
        // becomes the product's listed one).
        if !(1..=MAX_PRICE_CENTS).contains(&size.price_cents) {
            errors.push(problem(
                format!("sizes[{i}].price_cents"),
                format!("A price in cents, from 1 to {MAX_PRICE_CENTS}, VAT included."),
            ));
        }
        if !(MIN_RECIPE_PERCENT..=MAX_RECIPE_PERCENT).contains(&size.recipe_percent) {
            errors.push(problem(
                format!("sizes[{i}].recipe_percent"),
                format!(
                    "The recipe's quantities in percent, from {MIN_RECIPE_PERCENT} to {MAX_RECIPE_PERCENT}."
                ),
            ));
        }
    }
    errors
}

/// Replaces the product's sizes (checked with [`check_sizes`]) in one
/// transaction, and sets its price to the first's; `false` for an unknown
/// product (nothing written).
pub async fn replace_sizes(
    pool: &MySqlPool,
    product: ProductId,
    sizes: &[SizeChange],
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let found = sqlx::query_scalar!("SELECT id FROM products WHERE id = ? FOR UPDATE", product.0)
        .fetch_optional(&mut *tx)
        .await?;
    if found.is_none() {
        return Ok(false);
    }
    sqlx::query!("DELETE FROM product_sizes WHERE product_id = ?", product.0)
        .execute(&mut *tx)
        .await?;
    if let Some(first) = sizes.first() {
        // Runtime SQL: one multi-row INSERT, as many rows as sizes.
        let mut q = QueryBuilder::<MySql>::new(
            "INSERT INTO product_sizes (product_id, code, label, price_cents, recipe_percent, position) ",
        );
        q.push_values(sizes.iter().enumerate(), |mut row, (i, size)| {
            row.push_bind(product.0)
                .push_bind(size.code.as_str())
                .push_bind(size.label.as_str())
                .push_bind(size.price_cents)
                .push_bind(size.recipe_percent)
                .push_bind(i as i64 + 1);
        });
        q.build().execute(&mut *tx).await?;
        sqlx::query!(
            "UPDATE products SET price_cents = ?, updated_at = UTC_TIMESTAMP(6) WHERE id = ?",
            first.price_cents,
            product.0
        )
        .execute(&mut *tx)
        .await?;
    }
    version::bump(&mut tx).await?;
    tx.commit().await?;
    Ok(true)
}

// ---------------------------------------------------------------- extras

/// An extra of the group's list, as the admin edits it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Extra {
    pub ingredient_id: IngredientId,
    pub name: String,
    pub unit: String,
    /// The portion added to the recipe's own size, in the ingredient's unit
    /// (scaled with the size like the recipe).
    pub quantity: i64,
    pub price_cents: i64,
}

/// One extra as given.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraChange {
    pub ingredient_id: i64,
    pub quantity: i64,
    pub price_cents: i64,
}

/// The group's whole list of extras as given.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtrasChange {
    pub extras: Vec<ExtraChange>,
}

/// The group's extras, in the order the menu lists them.
pub async fn extras(pool: &MySqlPool) -> Result<Vec<Extra>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT e.ingredient_id, i.name, i.unit, e.quantity, e.price_cents \
         FROM extras e JOIN ingredients i ON i.id = e.ingredient_id \
         ORDER BY e.position, e.ingredient_id"
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Extra {
            ingredient_id: IngredientId(r.ingredient_id),
            name: r.name,
            unit: r.unit,
            quantity: i64::from(r.quantity),
            price_cents: r.price_cents,
        })
        .collect())
}

/// Checks every extra against the rules and the ingredients; every problem
/// at once, in order.
pub async fn check_extras(
    pool: &MySqlPool,
    extras: &[ExtraChange],
) -> Result<Vec<FieldProblem>, sqlx::Error> {
    let mut errors = Vec::new();
    if extras.len() > MAX_EXTRAS_LISTED {
        errors.push(problem(
            "extras",
            format!("At most {MAX_EXTRAS_LISTED} extras."),
        ));
    }
    let ids: BTreeSet<i64> = extras.iter().map(|e| e.ingredient_id).collect();
    let known = known_ingredients(pool, &ids).await?;
    let mut seen = BTreeSet::new();
    for (i, extra) in extras.iter().enumerate() {
        if !known.contains(&extra.ingredient_id) {
            errors.push(problem(
                format!("extras[{i}].ingredient_id"),
                "No such ingredient.",
            ));
        } else if !seen.insert(extra.ingredient_id) {
            errors.push(problem(
                format!("extras[{i}].ingredient_id"),
                "This ingredient is already an extra in the list.",
            ));
        }
        if !(1..=MAX_EXTRA_QUANTITY).contains(&extra.quantity) {
            errors.push(problem(
                format!("extras[{i}].quantity"),
                format!(
                    "A whole portion from 1 to {MAX_EXTRA_QUANTITY}, in the ingredient's unit."
                ),
            ));
        }
        if !(1..=MAX_PRICE_CENTS).contains(&extra.price_cents) {
            errors.push(problem(
                format!("extras[{i}].price_cents"),
                format!("A price in cents, from 1 to {MAX_PRICE_CENTS}, VAT included."),
            ));
        }
    }
    Ok(errors)
}

/// Replaces the group's extras (checked with [`check_extras`]) in one
/// transaction, in the order given. A line already sold keeps the extra's
/// name and price even once it is off the list.
pub async fn replace_extras(pool: &MySqlPool, extras: &[ExtraChange]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query!("DELETE FROM extras").execute(&mut *tx).await?;
    if !extras.is_empty() {
        // Runtime SQL: one multi-row INSERT, as many rows as extras.
        let mut q = QueryBuilder::<MySql>::new(
            "INSERT INTO extras (ingredient_id, quantity, price_cents, position) ",
        );
        q.push_values(extras.iter().enumerate(), |mut row, (i, extra)| {
            row.push_bind(extra.ingredient_id)
                .push_bind(extra.quantity)
                .push_bind(extra.price_cents)
                .push_bind(i as i64 + 1);
        });
        q.build().execute(&mut *tx).await?;
    }
    version::bump(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(code: &str, label: &str, price_cents: i64, recipe_percent: i64) -> SizeChange {
        SizeChange {
            code: code.into(),
            label: label.into(),
            price_cents,
            recipe_percent,
        }
    }

    fn fields(errors: &[FieldProblem]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn allergen_codes_are_the_regulations_each_once() {
        let codes = |list: &[&str]| list.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(
            check_allergens(&codes(&["sesame", "gluten"])),
            Ok([Allergen::Gluten, Allergen::Sesame].into_iter().collect())
        );
        assert_eq!(check_allergens(&[]), Ok(BTreeSet::new()));
        let refused =
            check_allergens(&codes(&["milk", "Milk", "milk", "pollen"])).expect_err("refused");
        assert_eq!(
            fields(&refused),
            ["allergens[1]", "allergens[2]", "allergens[3]"]
        );
    }

    #[test]
    fn sizes_name_each_broken_rule() {
        let mut fine = vec![
            size("medium", "  Moyenne   29 cm ", 1150, 100),
            size("large", "Grande 40 cm", 1, 400),
            size("33cl", "33 cl", 100_000, 10),
        ];
        assert_eq!(check_sizes(&mut fine), vec![]);
        assert_eq!(fine[0].label, "Moyenne 29 cm");

        let mut wrong = vec![
            size("Large", "Grande", 1, 100),
            size("x", "", -1, 5),
            size("x", &"é".repeat(51), 100_001, 401),
            size(&"a".repeat(21), "L", 1, 100),
        ];
        assert_eq!(
            fields(&check_sizes(&mut wrong)),
            [
                "sizes[0].code",
                "sizes[1].label",
                "sizes[1].price_cents",
                "sizes[1].recipe_percent",
                "sizes[2].code",
                "sizes[2].label",
                "sizes[2].price_cents",
                "sizes[2].recipe_percent",
                "sizes[3].code",
            ]
        );
        let mut seven: Vec<SizeChange> = (0..7)
            .map(|i| size(&format!("s{i}"), "Taille", 100, 100))
            .collect();
        assert_eq!(fields(&check_sizes(&mut seven)), ["sizes"]);
        assert_eq!(
            check_sizes(&mut []),
            vec![],
            "no sizes: sold as the recipe says"
        );
    }
}
