//! Pricing from the database, never from the client: current prices and VAT
//! rates of products on this pizzeria's menu, the delivery fee, the total.
//! Used by checkout and by order modification alike, with the cart's limits
//! and the delivery minimum, so a change can never make an order checkout
//! would have refused.

use crate::catalog::catalogue::Catalogue;
use crate::catalog::choices::{self, Allergen, Choice, Made};
use crate::catalog::Pizzeria;
use crate::platform::http::ApiError;
use crate::platform::ids::IngredientId;
use crate::platform::ids::ProductId;
use crate::platform::money::Money;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use sqlx::MySqlPool;
use std::collections::{BTreeMap, BTreeSet};

/// VAT rate of the delivery fee: an accessory follows the main supply (food, 10 %).
pub const DELIVERY_FEE_VAT_BP: u32 = 1000;

/// At most this many of one product in an order: more is a typo or an abuse
/// (a real party order goes through the shop by phone).
pub const MAX_QUANTITY_PER_LINE: i64 = 30;
pub const MAX_LINES: usize = 30;
pub const MAX_ITEMS: i64 = 60;

/// One problem with a cart's lines: the field it is about and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    pub field: String,
    pub message: String,
}

/// A line of a cart as a client sends it (checkout, a change of order).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LineRequest {
    pub product_id: ProductId,
    pub quantity: i64,
    /// A size code; absent, the product's first size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Toppings to leave off (ingredient ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<IngredientId>,
    /// Extras to add (ingredient ids), each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<IngredientId>,
    /// For the kitchen ("bien cuite").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A line checked in shape: equal lines (same product, choice and note)
/// are merged, and ordered, so a cart has one way to be written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CartLine {
    pub product_id: ProductId,
    pub choice: Choice,
    pub note: Option<String>,
    pub quantity: i64,
}

/// A note is kept short and on one line: what a kitchen can read at a glance.
pub const MAX_NOTE_CHARS: usize = 140;
/// Choices per line, of each kind: more is not a pizza.
pub const MAX_CHOICES: usize = 10;

/// A free text from a customer, trimmed: `None` when empty, `Err` when too
/// long or holding control characters (a line break, a NUL...).
pub fn short_text(text: Option<&str>, max_chars: usize) -> Result<Option<String>, String> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max_chars {
        return Err(format!("At most {max_chars} characters."));
    }
    if text.chars().any(char::is_control) {
        return Err("One line of text, without control characters.".to_owned());
    }
    Ok(Some(text.to_owned()))
}

/// Checks a cart's lines against the limits and merges equal lines. Every
/// problem is listed.
pub fn cart_lines(lines: &[LineRequest]) -> Result<Vec<CartLine>, Vec<LineProblem>> {
    let mut problems = Vec::new();
    let mut problem =
        |field: String, message: String| problems.push(LineProblem { field, message });
    if lines.is_empty() {
        problem("lines".into(), "The cart is empty.".into());
    }
    if lines.len() > MAX_LINES {
        problem(
            "lines".into(),
            format!("At most {MAX_LINES} lines per order."),
        );
    }
    let mut merged: BTreeMap<(ProductId, Choice, Option<String>), i64> = BTreeMap::new();
    let mut per_product: BTreeMap<ProductId, i64> = BTreeMap::new();
    for (i, line) in lines.iter().enumerate() {
        let mut ok = true;
        if !(1..=MAX_QUANTITY_PER_LINE).contains(&line.quantity) {
            problem(
                format!("lines[{i}].quantity"),
                format!("A quantity is from 1 to {MAX_QUANTITY_PER_LINE}."),
            );
            ok = false;
        } else if line.product_id.0 <= 0 {
            problem(format!("lines[{i}].product_id"), "Unknown product.".into());
            ok = false;
        }
        let remove: BTreeSet<IngredientId> = line.remove.iter().copied().collect();
        let extras: BTreeSet<IngredientId> = line.extras.iter().copied().collect();
        for (field, asked, set) in [
            ("remove", &line.remove, &remove),
            ("extras", &line.extras, &extras),
        ] {
            if asked.len() > MAX_CHOICES || set.len() != asked.len() {
                problem(
                    format!("lines[{i}].{field}"),
                    format!("Each ingredient once, at most {MAX_CHOICES}."),
                );
                ok = false;
            }
        }
        if line
            .size
            .as_ref()
            .is_some_and(|s| s.is_empty() || s.len() > 20)
        {
            problem(format!("lines[{i}].size"), "Unknown size.".into());
            ok = false;
        }
        let note = match short_text(line.note.as_deref(), MAX_NOTE_CHARS) {
            Ok(note) => note,
            Err(message) => {
                problem(format!("lines[{i}].note"), message);
                ok = false;
                None
            }
        };
        if ok {
            let choice = Choice {
                size: line.size.clone(),
                remove,
                extras,
            };
            *merged.entry((line.product_id, choice, note)).or_default() += line.quantity;
            *per_product.entry(line.product_id).or_default() += line.quantity;
        }
    }
    let items: i64 = per_product.values().sum();
    if items > MAX_ITEMS || per_product.values().any(|&q| q > MAX_QUANTITY_PER_LINE) {
        problem(
            "lines".into(),
            format!("At most {MAX_QUANTITY_PER_LINE} of a product and {MAX_ITEMS} items per order; call the pizzeria for more."),
        );
    }
    if problems.is_empty() {
        Ok(merged
            .into_iter()
            .map(|((product_id, choice, note), quantity)| CartLine {
                product_id,
                choice,
                note,
                quantity,
            })
            .collect())
    } else {
        Err(problems)
    }
}

/// A product of the cart that cannot be ordered here, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Unavailable {
    pub product_id: ProductId,
    pub message: String,
}

/// A size, removal, extra or note that cannot be made on a product.
#[derive(Debug, Clone, Serialize)]
pub struct ChoiceRefused {
    pub product_id: ProductId,
    pub field: &'static str,
    pub message: String,
}

/// Why a cart cannot be priced as asked.
#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    #[error("delivery starts from {minimum} of products; this cart is {subtotal}")]
    BelowMinimum { minimum: Money, subtotal: Money },
    #[error("{} products cannot be ordered here", .0.len())]
    Unavailable(Vec<Unavailable>),
    #[error("{} choices cannot be made", .0.len())]
    Choices(Vec<ChoiceRefused>),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Both are the caller's to fix: 422, with what to change.
impl From<PricingError> for ApiError {
    fn from(err: PricingError) -> Self {
        match err {
            PricingError::BelowMinimum { minimum, subtotal } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "below-minimum-order",
                "Below the minimum order",
                format!("Delivery starts from {minimum} of products; this cart is {subtotal}."),
            )
            .with("min_order_cents", minimum.cents()),
            PricingError::Unavailable(products) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown-product",
                "Product not available for order",
                "Some products cannot be ordered here; see `products`.",
            )
            .with("products", products),
            PricingError::Choices(choices) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-choice",
                "Choice not available",
                "Some choices cannot be made; see `choices`.",
            )
            .with("choices", choices),
            PricingError::Database(e) => e.into(),
        }
    }
}

/// Delivery starts from the pizzeria's minimum of products (the fee apart).
pub fn check_minimum(pizzeria: &Pizzeria, priced: &Priced) -> Result<(), PricingError> {
    let minimum = Money::from_cents(pizzeria.delivery.min_order_cents);
    if priced.delivery && priced.subtotal < minimum {
        return Err(PricingError::BelowMinimum {
            minimum,
            subtotal: priced.subtotal,
        });
    }
    Ok(())
}

/// A product line priced from the database, as it will be made.
#[derive(Debug, Clone)]
pub struct PricedLine {
    pub product_id: ProductId,
    pub name: String,
    pub choice: Choice,
    pub note: Option<String>,
    /// The size's or the product's price, and the extras'.
    pub unit_price: Money,
    pub vat_rate_bp: u32,
    pub quantity: i64,
    pub total: Money,
    pub made: Made,
}

impl PricedLine {
    pub fn allergens(&self) -> &BTreeSet<Allergen> {
        &self.made.allergens
    }
}

#[derive(Debug)]
pub struct Priced {
    pub lines: Vec<PricedLine>,
    /// Priced for delivery (with the fee, and the minimum order applying).
    pub delivery: bool,
    pub subtotal: Money,
    pub delivery_fee: Money,
    pub vat: Money,
    pub total: Money,
}

impl Priced {
    /// The stock the order needs, as its lines will be made, and the
    /// products without a recipe (they cannot be made, so not sold).
    pub fn needs(&self) -> (BTreeMap<IngredientId, i64>, Vec<ProductId>) {
        let mut needs = BTreeMap::new();
        let mut without = Vec::new();
        for line in &self.lines {
            if line.made.ingredients.is_empty() {
                without.push(line.product_id);
            }
            for (ingredient, per_unit) in line.made.needs() {
                *needs.entry(ingredient).or_default() += per_unit * line.quantity;
            }
        }
        (needs, without)
    }

    /// How many of each product the cart asks, whatever the choices.
    pub fn per_product(&self) -> BTreeMap<ProductId, i64> {
        let mut count = BTreeMap::new();
        for line in &self.lines {
            *count.entry(line.product_id).or_default() += line.quantity;
        }
        count
    }
}

/// The 409 when the stock cannot make the cart (checked after a failed
/// reservation was rolled back): each line that needs a short ingredient,
/// or whose product has no recipe, with how many of its size can still be
/// made. `detail` is what the person is told.
pub async fn out_of_stock(
    pool: &MySqlPool,
    pizzeria: &Pizzeria,
    priced: &Priced,
    detail: &str,
) -> Result<ApiError, sqlx::Error> {
    let (needs, no_recipe) = priced.needs();
    let short = crate::stock::shortages(pool, pizzeria.id, &needs).await?;
    let (menu, _) = crate::catalog::listing(pool, pizzeria).await?;
    let products: Vec<serde_json::Value> = priced
        .lines
        .iter()
        .filter(|line| {
            no_recipe.contains(&line.product_id)
                || line.made.needs().keys().any(|i| short.contains(i))
        })
        .map(|line| {
            let listed = menu.iter().find(|m| m.id == line.product_id);
            let size = line.made.size.as_ref();
            let max_quantity = listed.map_or(0, |m| {
                size.and_then(|(code, _)| m.sizes.iter().find(|s| &s.code == code))
                    .map_or(m.max_quantity, |s| s.max_quantity)
            });
            serde_json::json!({
                "product_id": line.product_id,
                "name": line.name,
                "size": size.map(|(_, label)| label),
                "requested": line.quantity,
                "max_quantity": max_quantity,
            })
        })
        .collect();
    Ok(ApiError::conflict("out-of-stock", "Not enough stock", detail).with("products", products))
}

/// A product as pricing reads it: its name, base price and VAT rate,
/// whether it is still on the menu, whether this pizzeria leaves it off.
struct Facts<'a> {
    name: &'a str,
    price: i64,
    vat: i32,
    active: bool,
    excluded: bool,
}

/// Prices the cart from the database: current prices, sizes, extras and VAT
/// rates of products on this pizzeria's menu only, each line made as asked.
pub async fn price(
    pool: &MySqlPool,
    pizzeria: &Pizzeria,
    cart_lines: &[CartLine],
    delivery: bool,
) -> Result<Priced, PricingError> {
    let mut ids: Vec<ProductId> = cart_lines.iter().map(|l| l.product_id).collect();
    ids.sort_unstable();
    ids.dedup();
    // `IN` over the cart's products, as many as it has: built at run time.
    let placeholders = vec!["?"; ids.len()].join(",");
    let sql = format!(
        "SELECT p.id, p.name, p.price_cents, p.vat_rate_bp, p.active, COUNT(me.product_id) \
         FROM products p LEFT JOIN menu_exclusions me ON me.pizzeria_id = ? AND me.product_id = p.id \
         WHERE p.id IN ({placeholders}) GROUP BY p.id, p.name, p.price_cents, p.vat_rate_bp, p.active"
    );
    let mut query =
        sqlx::query_as::<_, (i64, String, i64, i32, bool, i64)>(&sql).bind(pizzeria.id.0);
    for product in &ids {
        query = query.bind(product.0);
    }
    let mut conn = pool.acquire().await?;
    let found: BTreeMap<i64, (String, i64, i32, bool, i64)> = query
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|(id, name, price, vat, active, excluded)| (id, (name, price, vat, active, excluded)))
        .collect();
    let offer = choices::load(&mut conn, choices::Of::These(&ids)).await?;
    drop(conn);
    let facts = |id: ProductId| {
        found
            .get(&id.0)
            .map(|(name, price, vat, active, excluded)| Facts {
                name,
                price: *price,
                vat: *vat,
                active: *active,
                excluded: *excluded > 0,
            })
    };
    make(pizzeria, cart_lines, delivery, &offer, facts)
}

/// Prices the cart as [`price`] does, from a container's copy of the
/// catalogue read at the version current now (no statement). `None` when a
/// product of the cart is not in it (unknown, or withdrawn from the menu):
/// [`price`] then reads the database and says which.
pub fn price_kept(
    catalogue: &Catalogue,
    pizzeria: &Pizzeria,
    cart_lines: &[CartLine],
    delivery: bool,
) -> Option<Result<Priced, PricingError>> {
    if cart_lines
        .iter()
        .any(|line| catalogue.price_of(line.product_id).is_none())
    {
        return None;
    }
    let facts = |id: ProductId| {
        catalogue.price_of(id).map(|(name, price, vat)| Facts {
            name,
            price: *price,
            vat: *vat,
            active: true,
            excluded: catalogue.excluded(pizzeria.id, id),
        })
    };
    Some(make(
        pizzeria,
        cart_lines,
        delivery,
        catalogue.offer(),
        facts,
    ))
}

/// The cart priced from what was read of its products and their choices.
fn make<'a>(
    pizzeria: &Pizzeria,
    cart_lines: &[CartLine],
    delivery: bool,
    offer: &choices::Offer,
    facts: impl Fn(ProductId) -> Option<Facts<'a>>,
) -> Result<Priced, PricingError> {
    let mut problems = Vec::new();
    let mut refused = Vec::new();
    let mut lines = Vec::new();
    for line in cart_lines {
        let product_id = line.product_id;
        match facts(product_id) {
            None => problems.push(Unavailable {
                product_id,
                message: "No such product.".to_owned(),
            }),
            Some(Facts {
                name,
                active: false,
                ..
            }) => problems.push(Unavailable {
                product_id,
                message: format!("{name} is no longer on the menu."),
            }),
            Some(Facts {
                name,
                excluded: true,
                ..
            }) => problems.push(Unavailable {
                product_id,
                message: format!("{name} is not on the menu of {}.", pizzeria.name),
            }),
            Some(Facts {
                name, price, vat, ..
            }) => match offer.make(product_id, price, &line.choice) {
                Err(problem) => refused.push(ChoiceRefused {
                    product_id,
                    field: problem.field,
                    message: problem.message,
                }),
                Ok(made) => {
                    let unit_price = Money::from_cents(made.unit_price_cents);
                    lines.push(PricedLine {
                        product_id,
                        name: name.to_owned(),
                        choice: line.choice.clone(),
                        note: line.note.clone(),
                        unit_price,
                        vat_rate_bp: u32::try_from(vat).unwrap_or(0),
                        quantity: line.quantity,
                        total: unit_price * line.quantity,
                        made,
                    })
                }
            },
        }
    }
    if !problems.is_empty() {
        return Err(PricingError::Unavailable(problems));
    }
    if !refused.is_empty() {
        return Err(PricingError::Choices(refused));
    }
    // No size asked is the first size: a line written either way is one line.
    let mut merged: Vec<PricedLine> = Vec::with_capacity(lines.len());
    for mut line in lines {
        line.choice.size = line.made.size.as_ref().map(|(code, _)| code.clone());
        let same = merged.iter_mut().find(|m| {
            m.product_id == line.product_id && m.choice == line.choice && m.note == line.note
        });
        match same {
            Some(m) => {
                m.quantity += line.quantity;
                m.total = m.unit_price * m.quantity;
            }
            None => merged.push(line),
        }
    }
    let lines = merged;

    let subtotal: Money = lines.iter().map(|l| l.total).sum();
    let delivery_fee = if delivery {
        Money::from_cents(pizzeria.delivery.delivery_fee_cents)
    } else {
        Money::ZERO
    };
    let mut gross_by_rate: BTreeMap<u32, Money> = BTreeMap::new();
    for (rate, amount) in lines
        .iter()
        .map(|l| (l.vat_rate_bp, l.total))
        .chain([(DELIVERY_FEE_VAT_BP, delivery_fee)])
    {
        let gross = gross_by_rate.entry(rate).or_default();
        *gross = *gross + amount;
    }
    let vat = gross_by_rate
        .iter()
        .map(|(rate, gross)| gross.vat_included(*rate))
        .sum();
    Ok(Priced {
        lines,
        delivery,
        subtotal,
        delivery_fee,
        vat,
        total: subtotal + delivery_fee,
    })
}
