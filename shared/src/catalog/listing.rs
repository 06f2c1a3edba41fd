//! What the menu tells of each product beyond its name and price: its
//! allergens and whether it is vegetarian, the sizes with how many of each
//! can still be made, the toppings that may be left off, and the group's
//! extras with how many portions are left. All from [`choices::Offer`] and
//! the pizzeria's stock net of reservations, so the shop can compute a
//! line's price and allergens exactly as checkout will.

use crate::catalog::choices::{Allergen, Choice, Extra, Offer};
use crate::catalog::MenuProduct;
use crate::platform::ids::{IngredientId, PizzeriaId, ProductId};
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

/// What one unit of each of a product's sizes needs, in its sizes' order
/// (empty without sizes): what [`count`] divides the stock by.
pub fn size_needs(offer: &Offer, product: ProductId) -> Vec<BTreeMap<IngredientId, i64>> {
    offer.products.get(&product).map_or_else(Vec::new, |own| {
        own.sizes
            .iter()
            .map(|size| {
                let asked = Choice {
                    size: Some(size.code.clone()),
                    ..Choice::default()
                };
                offer.make_sold(product, &asked).needs()
            })
            .collect()
    })
}

/// Fills in what the menu tells of a product whatever the stock: its
/// allergens, whether it is vegetarian, its price as listed, its extras'
/// limit, its ingredients and its sizes (each `max_quantity` 0 until
/// [`count`]). `false` when the offer does not know it (left as it is).
pub fn dress(product: &mut MenuProduct, offer: &Offer) -> bool {
    let Some(own) = offer.products.get(&product.id) else {
        return false;
    };
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
        .map(|size| MenuSize {
            code: size.code.clone(),
            label: size.label.clone(),
            price_cents: size.price_cents,
            max_quantity: 0,
        })
        .collect();
    true
}

/// How many of a product a pizzeria can still take, as listed, and why
/// none when none: not `accepting_orders`, `excluded` from its menu, no
/// recipe, or the stock (`max`: the least, over the recipe's lines, of the
/// line's ingredient available divided by its quantity).
pub fn as_listed(
    accepting_orders: bool,
    excluded: bool,
    has_recipe: bool,
    max: Option<i64>,
) -> (i64, Option<&'static str>) {
    if !accepting_orders {
        (0, Some("pizzeria_not_open"))
    } else if excluded {
        (0, Some("not_on_this_menu"))
    } else if !has_recipe {
        (0, Some("no_recipe"))
    } else {
        let max = max.unwrap_or(0).max(0);
        (max, (max == 0).then_some("sold_out"))
    }
}

/// Sets how many of each size (`needs`: [`size_needs`]) the stock can
/// still make, and the product as listed from its first size. A product
/// that cannot be ordered (`max_quantity` 0 for another reason than its
/// stock) keeps 0 for each size.
pub fn count(
    product: &mut MenuProduct,
    needs: &[BTreeMap<IngredientId, i64>],
    available: &BTreeMap<IngredientId, i64>,
) {
    let orderable =
        product.unavailable_reason.is_none() || product.unavailable_reason == Some("sold_out");
    for (size, needs) in product.sizes.iter_mut().zip(needs) {
        size.max_quantity = if orderable {
            how_many(needs, available)
        } else {
            0
        };
    }
    // The product as listed is its first size.
    if let Some(first) = product.sizes.first() {
        product.max_quantity = first.max_quantity;
        product.available = first.max_quantity > 0;
        if orderable {
            product.unavailable_reason = (first.max_quantity == 0).then_some("sold_out");
        }
    }
}

/// The group's extras with the portions left (for the recipe's own size).
pub fn extras(offer: &Offer, available: &BTreeMap<IngredientId, i64>) -> Vec<MenuExtra> {
    offer
        .extras
        .iter()
        .map(|extra| MenuExtra {
            ingredient_id: extra.ingredient_id,
            name: extra.name.clone(),
            price_cents: extra.price_cents,
            allergens: extra.allergens.clone(),
            vegetarian: extra.vegetarian,
            max_quantity: portions(extra, available),
        })
        .collect()
}

/// How many portions of this extra are left.
pub fn portions(extra: &Extra, available: &BTreeMap<IngredientId, i64>) -> i64 {
    available.get(&extra.ingredient_id).copied().unwrap_or(0) / extra.quantity.max(1)
}

/// Fills in what the menu tells of each product, and lists the extras:
/// [`dress`] and [`count`] each product, then [`extras`].
pub fn describe(
    products: &mut [MenuProduct],
    offer: &Offer,
    available: &BTreeMap<IngredientId, i64>,
) -> Vec<MenuExtra> {
    for product in products.iter_mut() {
        if dress(product, offer) {
            count(product, &size_needs(offer, product.id), available);
        }
    }
    extras(offer, available)
}
