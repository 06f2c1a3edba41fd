//! What the menu tells of each product beyond its name and price: its
//! allergens and whether it is vegetarian, the sizes with how many of each
//! can still be made, the toppings that may be left off, and the group's
//! extras with how many portions are left. All from [`choices::Offer`] and
//! the pizzeria's stock net of reservations, so the shop can compute a
//! line's price and allergens exactly as checkout will.

use crate::catalog::choices::{Allergen, Choice, Offer};
use crate::catalog::MenuProduct;
use crate::platform::ids::{IngredientId, PizzeriaId};
use serde::Serialize;
use sqlx::MySqlConnection;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MenuSize {
    pub code: String,
    pub label: String,
    pub price_cents: i64,
    /// How many of this size the stock can still make.
    pub max_quantity: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MenuIngredient {
    pub id: IngredientId,
    pub name: String,
    /// May be left off ("sans oignons").
    pub removable: bool,
    pub allergens: Vec<Allergen>,
    pub vegetarian: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MenuExtra {
    pub ingredient_id: IngredientId,
    pub name: String,
    pub price_cents: i64,
    pub allergens: Vec<Allergen>,
    pub vegetarian: bool,
    /// Portions left (for the recipe's own size).
    pub max_quantity: i64,
}

/// Each ingredient's stock net of reservations in a pizzeria.
pub async fn available(
    db: &mut MySqlConnection,
    pizzeria: PizzeriaId,
) -> Result<BTreeMap<IngredientId, i64>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT ingredient_id, CAST(GREATEST(on_hand - reserved, 0) AS SIGNED) AS `available!: i64` \
         FROM stock WHERE pizzeria_id = ?",
        pizzeria.0
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (IngredientId(r.ingredient_id), r.available))
        .collect())
}

/// How many times `needs` (for one unit) can be taken out of `available`.
fn how_many(needs: &BTreeMap<IngredientId, i64>, available: &BTreeMap<IngredientId, i64>) -> i64 {
    needs
        .iter()
        .map(|(i, q)| available.get(i).copied().unwrap_or(0) / (*q).max(1))
        .min()
        .unwrap_or(0)
}

/// Fills in what the menu tells of each product, and lists the extras.
/// A product that cannot be ordered (`max_quantity` 0 for another reason
/// than its stock) keeps 0 for each size.
pub fn describe(
    products: &mut [MenuProduct],
    offer: &Offer,
    available: &BTreeMap<IngredientId, i64>,
) -> Vec<MenuExtra> {
    for product in products.iter_mut() {
        let Some(own) = offer.products.get(&product.id) else {
            continue;
        };
        let orderable =
            product.unavailable_reason.is_none() || product.unavailable_reason == Some("sold_out");
        if let Ok(made) = offer.make(product.id, product.price_cents, &Choice::default()) {
            product.allergens = made.allergens.iter().copied().collect();
            product.vegetarian = made.vegetarian && !made.ingredients.is_empty();
            product.price_cents = made.unit_price_cents;
        }
        product.max_extras = own.max_extras;
        product.ingredients = own
            .recipe
            .iter()
            .filter_map(|part| {
                let i = offer.ingredients.get(&part.ingredient)?;
                Some(MenuIngredient {
                    id: i.id,
                    name: i.name.clone(),
                    removable: part.removable,
                    allergens: i.allergens.clone(),
                    vegetarian: i.vegetarian,
                })
            })
            .collect();
        product.sizes = own
            .sizes
            .iter()
            .map(|size| {
                let asked = Choice {
                    size: Some(size.code.clone()),
                    ..Choice::default()
                };
                let needs = offer.make_sold(product.id, &asked).needs();
                MenuSize {
                    code: size.code.clone(),
                    label: size.label.clone(),
                    price_cents: size.price_cents,
                    max_quantity: if orderable {
                        how_many(&needs, available)
                    } else {
                        0
                    },
                }
            })
            .collect();
        // The product as listed is its first size.
        if let Some(first) = product.sizes.first() {
            product.max_quantity = first.max_quantity;
            product.available = first.max_quantity > 0;
            if orderable {
                product.unavailable_reason = (first.max_quantity == 0).then_some("sold_out");
            }
        }
    }
    offer
        .extras
        .iter()
        .map(|extra| MenuExtra {
            ingredient_id: extra.ingredient_id,
            name: extra.name.clone(),
            price_cents: extra.price_cents,
            allergens: extra.allergens.clone(),
            vegetarian: extra.vegetarian,
            max_quantity: available.get(&extra.ingredient_id).copied().unwrap_or(0)
                / extra.quantity.max(1),
        })
        .collect()
}
