//! What a customer may ask of a product beyond its quantity, and what they
//! must know before paying.
//!
//! - **Sizes**: a product may be sold in sizes, each with its price and its
//!   recipe's quantities as a percentage (rounded up per ingredient). Asked
//!   for by code; none asked, the first size.
//! - **Removals**: a recipe line marked removable may be left off ("sans
//!   oignons"); the price does not change.
//! - **Extras**: the group's list of extra toppings, each a portion of an
//!   ingredient at a price; a product takes at most its `max_extras`, each
//!   once. The portion follows the size like the recipe.
//! - **Allergens** (EU regulation 1169/2011, annex II): declared per
//!   ingredient; a line's allergens are those of what goes on it, after its
//!   removals and extras. So are its vegetarian flag and its stock needs.
//!
//! [`Offer`] reads what the choices are checked against, for some products
//! or all, and [`Offer::make`] turns a product and a [`Choice`] into what
//! the kitchen makes: the unit price, the ingredients, the allergens and the
//! words for the ticket. Checkout, a change of order, the kitchen's cards, a
//! remake and the menu all go through it, so they never disagree.

use crate::platform::ids::{IngredientId, ProductId};
use serde::{Deserialize, Serialize};
use sqlx::{MySql, MySqlConnection, QueryBuilder};
use std::collections::{BTreeMap, BTreeSet};

/// The 14 allergens a food business must declare, by their codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Allergen {
    Gluten,
    Crustaceans,
    Eggs,
    Fish,
    Peanuts,
    Soybeans,
    Milk,
    Nuts,
    Celery,
    Mustard,
    Sesame,
    Sulphites,
    Lupin,
    Molluscs,
}

impl Allergen {
    pub const ALL: [Allergen; 14] = [
        Allergen::Gluten,
        Allergen::Crustaceans,
        Allergen::Eggs,
        Allergen::Fish,
        Allergen::Peanuts,
        Allergen::Soybeans,
        Allergen::Milk,
        Allergen::Nuts,
        Allergen::Celery,
        Allergen::Mustard,
        Allergen::Sesame,
        Allergen::Sulphites,
        Allergen::Lupin,
        Allergen::Molluscs,
    ];

    /// The code stored and sent (`milk`).
    pub fn code(self) -> &'static str {
        match self {
            Allergen::Gluten => "gluten",
            Allergen::Crustaceans => "crustaceans",
            Allergen::Eggs => "eggs",
            Allergen::Fish => "fish",
            Allergen::Peanuts => "peanuts",
            Allergen::Soybeans => "soybeans",
            Allergen::Milk => "milk",
            Allergen::Nuts => "nuts",
            Allergen::Celery => "celery",
            Allergen::Mustard => "mustard",
            Allergen::Sesame => "sesame",
            Allergen::Sulphites => "sulphites",
            Allergen::Lupin => "lupin",
            Allergen::Molluscs => "molluscs",
        }
    }

    pub fn parse(code: &str) -> Option<Allergen> {
        Allergen::ALL.into_iter().find(|a| a.code() == code)
    }

    /// Codes as stored on an order line: `gluten,milk`.
    pub fn join(set: &BTreeSet<Allergen>) -> String {
        set.iter().map(|a| a.code()).collect::<Vec<_>>().join(",")
    }

    /// The codes of [`Allergen::join`]; unknown ones are skipped.
    pub fn split(text: &str) -> Vec<Allergen> {
        text.split(',').filter_map(Allergen::parse).collect()
    }
}

/// What one line asks beyond its product: ordered, so equal choices merge.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Choice {
    /// A size code; `None`, the product's first size (if it has sizes).
    pub size: Option<String>,
    pub remove: BTreeSet<IngredientId>,
    pub extras: BTreeSet<IngredientId>,
}

impl Choice {
    /// Stored on the order line: ingredient ids, comma-separated.
    pub fn ids(set: &BTreeSet<IngredientId>) -> String {
        set.iter()
            .map(|i| i.0.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The choice kept on an order line (`size_code`, `removed`, `extras`).
    pub fn stored(size: Option<String>, removed: &str, extras: &str) -> Choice {
        Choice {
            size,
            remove: Choice::parse_ids(removed),
            extras: Choice::parse_ids(extras),
        }
    }

    /// The ids of [`Choice::ids`].
    pub fn parse_ids(text: &str) -> BTreeSet<IngredientId> {
        text.split(',')
            .filter_map(|id| id.parse().ok())
            .map(IngredientId)
            .collect()
    }
}

/// An ingredient as the customer and the kitchen must know it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Ingredient {
    pub id: IngredientId,
    pub name: String,
    pub unit: String,
    pub allergens: Vec<Allergen>,
    pub vegetarian: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Size {
    pub code: String,
    pub label: String,
    pub price_cents: i64,
    pub recipe_percent: i64,
}

/// One ingredient of a recipe, for one unit of the product.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub ingredient: IngredientId,
    pub quantity: i64,
    pub removable: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Extra {
    pub ingredient_id: IngredientId,
    pub name: String,
    /// The portion for the recipe's own size, in the ingredient's unit.
    #[serde(skip)]
    pub quantity: i64,
    pub price_cents: i64,
    pub allergens: Vec<Allergen>,
    pub vegetarian: bool,
}

/// What a product may be asked with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductOffer {
    pub max_extras: i64,
    /// In position order; empty when sold as its recipe says.
    pub sizes: Vec<Size>,
    /// By decreasing quantity, as the kitchen's card lists them.
    pub recipe: Vec<Part>,
}

/// Everything choices are checked against, for the products read.
#[derive(Debug, Clone, Default)]
pub struct Offer {
    pub products: BTreeMap<ProductId, ProductOffer>,
    /// The group's extras, in position order.
    pub extras: Vec<Extra>,
    pub ingredients: BTreeMap<IngredientId, Ingredient>,
}

/// One ingredient of a line as it is made, for one unit.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MadeOf {
    pub ingredient_id: IngredientId,
    pub name: String,
    pub quantity: i64,
    pub unit: String,
    /// Added at the customer's request.
    pub extra: bool,
    /// A topping of the recipe the customer could have left off.
    pub removable: bool,
}

impl From<&MadeOf> for crate::catalog::recipe::RecipeLine {
    fn from(part: &MadeOf) -> Self {
        crate::catalog::recipe::RecipeLine {
            ingredient_id: part.ingredient_id,
            name: part.name.clone(),
            quantity: part.quantity,
            unit: part.unit.clone(),
            extra: part.extra,
            removable: part.removable,
        }
    }
}

/// A product as it will be made for a choice.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Made {
    /// The size's price (or `base_price_cents`) and the extras'.
    pub unit_price_cents: i64,
    /// Code and label of the size; `None` when the product has no sizes.
    pub size: Option<(String, String)>,
    /// What to make, as the kitchen reads it: "Grande 40 cm · sans Oignons
    /// rouges · + Chèvre"; empty when nothing was asked.
    pub words: String,
    pub removed: Vec<String>,
    pub extras: Vec<String>,
    pub allergens: BTreeSet<Allergen>,
    pub vegetarian: bool,
    /// For one unit; empty when the product has no recipe.
    pub ingredients: Vec<MadeOf>,
}

impl Made {
    /// Stock needed for one unit, by ingredient.
    pub fn needs(&self) -> BTreeMap<IngredientId, i64> {
        let mut needs = BTreeMap::new();
        for part in &self.ingredients {
            *needs.entry(part.ingredient_id).or_default() += part.quantity;
        }
        needs
    }
}

/// Why a choice cannot be made: the field it is about and what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceProblem {
    pub field: &'static str,
    pub message: String,
}

/// A recipe quantity for a size: `percent` of it, rounded up.
pub fn scaled(quantity: i64, percent: i64) -> i64 {
    (quantity * percent + 99) / 100
}

impl Offer {
    /// The product as it will be made for `choice`, priced from
    /// `base_price_cents` when it has no sizes; or the first problem.
    pub fn make(
        &self,
        product: ProductId,
        base_price_cents: i64,
        choice: &Choice,
    ) -> Result<Made, ChoiceProblem> {
        self.build(product, base_price_cents, choice, true)
    }

    /// A line already sold, made as it was asked even when the catalogue
    /// changed since (a size, an extra or a removable topping withdrawn):
    /// what was asked is never checked again. A size gone is made as the
    /// recipe says; an extra gone keeps its name, without a quantity.
    pub fn make_sold(&self, product: ProductId, choice: &Choice) -> Made {
        // Never refused when not strict.
        self.build(product, 0, choice, false).unwrap_or_default()
    }

    fn build(
        &self,
        product: ProductId,
        base_price_cents: i64,
        choice: &Choice,
        strict: bool,
    ) -> Result<Made, ChoiceProblem> {
        let empty = ProductOffer::default();
        let offer = self.products.get(&product).unwrap_or(&empty);
        let problem = |field, message: &str| ChoiceProblem {
            field,
            message: message.to_owned(),
        };
        let size = match (&choice.size, offer.sizes.first()) {
            // Sold without a size: the product had none then.
            (None, _) if !strict => None,
            (None, first) => first,
            (Some(code), _) => match offer.sizes.iter().find(|s| &s.code == code) {
                Some(size) => Some(size),
                None if strict => {
                    return Err(problem("size", "This product has no such size."));
                }
                None => None,
            },
        };
        let percent = size.map_or(100, |s| s.recipe_percent);
        let mut unit_price_cents = size.map_or(base_price_cents, |s| s.price_cents);
        if strict {
            check(offer, choice)?;
        }

        let mut made = Made {
            unit_price_cents: 0,
            size: size.map(|s| (s.code.clone(), s.label.clone())),
            words: String::new(),
            removed: Vec::new(),
            extras: Vec::new(),
            allergens: BTreeSet::new(),
            vegetarian: true,
            ingredients: Vec::new(),
        };
        let add = |made: &mut Made, id: IngredientId, quantity: i64, extra: bool, removable| {
            let Some(ingredient) = self.ingredients.get(&id) else {
                return;
            };
            made.allergens.extend(ingredient.allergens.iter().copied());
            made.vegetarian &= ingredient.vegetarian;
            made.ingredients.push(MadeOf {
                ingredient_id: id,
                name: ingredient.name.clone(),
                // A piece is a piece (an egg, a can) whatever the size.
                quantity: if ingredient.unit == "piece" {
                    quantity
                } else {
                    scaled(quantity, percent)
                },
                unit: ingredient.unit.clone(),
                extra,
                removable,
            });
        };
        for part in &offer.recipe {
            if choice.remove.contains(&part.ingredient) {
                let name = self.name(part.ingredient);
                made.removed.push(name);
            } else {
                add(
                    &mut made,
                    part.ingredient,
                    part.quantity,
                    false,
                    part.removable,
                );
            }
        }
        for id in &choice.extras {
            match self.extras.iter().find(|e| e.ingredient_id == *id) {
                Some(extra) => {
                    unit_price_cents += extra.price_cents;
                    made.extras.push(extra.name.clone());
                    add(&mut made, *id, extra.quantity, true, false);
                }
                None if strict => return Err(problem("extras", "No such extra.")),
                None => made.extras.push(self.name(*id)),
            }
        }
        made.unit_price_cents = unit_price_cents;
        made.words = words(&made, offer.sizes.len() > 1);
        Ok(made)
    }

    fn name(&self, id: IngredientId) -> String {
        self.ingredients
            .get(&id)
            .map_or_else(|| format!("#{id}"), |i| i.name.clone())
    }
}

/// What a customer may ask of this product: its own removable toppings, at
/// most its `max_extras`, nothing both left off and added.
fn check(offer: &ProductOffer, choice: &Choice) -> Result<(), ChoiceProblem> {
    let problem = |field, message: &str| ChoiceProblem {
        field,
        message: message.to_owned(),
    };
    for removed in &choice.remove {
        if !offer
            .recipe
            .iter()
            .any(|p| p.ingredient == *removed && p.removable)
        {
            return Err(problem(
                "remove",
                "Only this product's own toppings can be left off.",
            ));
        }
    }
    if choice.extras.len() as i64 > offer.max_extras {
        return Err(ChoiceProblem {
            field: "extras",
            message: format!("This product takes at most {} extras.", offer.max_extras),
        });
    }
    if !choice.remove.is_disjoint(&choice.extras) {
        return Err(problem(
            "extras",
            "An ingredient cannot be both left off and added.",
        ));
    }
    Ok(())
}

/// "Grande 40 cm · sans Oignons rouges · + Chèvre": the size when there is
/// a choice of sizes, then what was left off, then what was added.
fn words(made: &Made, sizes_to_choose_from: bool) -> String {
    let size = made
        .size
        .as_ref()
        .filter(|_| sizes_to_choose_from)
        .map(|(_, label)| label.clone());
    size.into_iter()
        .chain(made.removed.iter().map(|name| format!("sans {name}")))
        .chain(made.extras.iter().map(|name| format!("+ {name}")))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Which products to read the offer of.
#[derive(Debug, Clone, Copy)]
pub enum Of<'a> {
    All,
    These(&'a [ProductId]),
}

/// Appends ` WHERE column IN (?, ..)` for `These`, nothing for `All`.
fn push_filter(q: &mut QueryBuilder<'_, MySql>, column: &str, of: Of<'_>) {
    if let Of::These(ids) = of {
        q.push(format_args!(" WHERE {column} IN ("));
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(id.0);
        }
        list.push_unseparated(")");
    }
}

/// Reads the offer of these products (or of all): their recipes, sizes and
/// extras' limit, the group's extras, and the ingredients they name with
/// their allergens. Four statements, whatever the number of products.
pub async fn load(db: &mut MySqlConnection, of: Of<'_>) -> Result<Offer, sqlx::Error> {
    let mut offer = Offer::default();
    if matches!(of, Of::These([])) {
        return Ok(offer);
    }
    // Runtime SQL: the `IN` lists are as long as the products asked for.
    let mut q = QueryBuilder::<MySql>::new(
        "SELECT p.id, p.max_extras, r.ingredient_id, r.quantity, r.removable \
         FROM products p LEFT JOIN recipe_lines r ON r.product_id = p.id",
    );
    push_filter(&mut q, "p.id", of);
    q.push(" ORDER BY p.id, r.quantity DESC, r.ingredient_id");
    // Product, its extras' limit, and a recipe line (none without a recipe).
    type Row = (i64, i32, Option<i64>, Option<i32>, Option<bool>);
    let rows: Vec<Row> = q.build_query_as().fetch_all(&mut *db).await?;
    for (product, max_extras, ingredient, quantity, removable) in rows {
        let entry = offer.products.entry(ProductId(product)).or_default();
        entry.max_extras = i64::from(max_extras);
        if let (Some(ingredient), Some(quantity)) = (ingredient, quantity) {
            entry.recipe.push(Part {
                ingredient: IngredientId(ingredient),
                quantity: i64::from(quantity),
                removable: removable.unwrap_or(false),
            });
        }
    }

    let mut q = QueryBuilder::<MySql>::new(
        "SELECT product_id, code, label, price_cents, recipe_percent FROM product_sizes",
    );
    push_filter(&mut q, "product_id", of);
    q.push(" ORDER BY product_id, position, code");
    let sizes: Vec<(i64, String, String, i64, i32)> =
        q.build_query_as().fetch_all(&mut *db).await?;
    for (product, code, label, price_cents, percent) in sizes {
        offer
            .products
            .entry(ProductId(product))
            .or_default()
            .sizes
            .push(Size {
                code,
                label,
                price_cents,
                recipe_percent: i64::from(percent),
            });
    }

    let extras: Vec<(i64, i32, i64)> = sqlx::query_as(
        "SELECT ingredient_id, quantity, price_cents FROM extras ORDER BY position, ingredient_id",
    )
    .fetch_all(&mut *db)
    .await?;

    // The ingredients named by these recipes and by the extras.
    let mut wanted: BTreeSet<i64> = offer
        .products
        .values()
        .flat_map(|p| p.recipe.iter().map(|part| part.ingredient.0))
        .collect();
    wanted.extend(extras.iter().map(|e| e.0));
    if !wanted.is_empty() {
        let mut q = QueryBuilder::<MySql>::new(
            "SELECT i.id, i.name, i.unit, i.vegetarian, \
                    COALESCE(GROUP_CONCAT(a.allergen ORDER BY a.allergen SEPARATOR ','), '') \
             FROM ingredients i LEFT JOIN ingredient_allergens a ON a.ingredient_id = i.id WHERE i.id IN (",
        );
        let mut list = q.separated(", ");
        for id in &wanted {
            list.push_bind(*id);
        }
        q.push(") GROUP BY i.id, i.name, i.unit, i.vegetarian");
        let rows: Vec<(i64, String, String, bool, String)> =
            q.build_query_as().fetch_all(&mut *db).await?;
        for (id, name, unit, vegetarian, allergens) in rows {
            let id = IngredientId(id);
            offer.ingredients.insert(
                id,
                Ingredient {
                    id,
                    name,
                    unit,
                    allergens: Allergen::split(&allergens),
                    vegetarian,
                },
            );
        }
    }
    for (ingredient, quantity, price_cents) in extras {
        let id = IngredientId(ingredient);
        if let Some(i) = offer.ingredients.get(&id) {
            offer.extras.push(Extra {
                ingredient_id: id,
                name: i.name.clone(),
                quantity: i64::from(quantity),
                price_cents,
                allergens: i.allergens.clone(),
                vegetarian: i.vegetarian,
            });
        }
    }
    Ok(offer)
}

mod sold;

#[cfg(test)]
mod tests;
