//! Pricing from the database, never from the client: current prices and VAT
//! rates of products on this pizzeria's menu, the delivery fee, the total.
//! Used by checkout and by order modification alike, with the cart's limits
//! and the delivery minimum, so a change can never make an order checkout
//! would have refused.

use crate::catalog::Pizzeria;
use crate::platform::http::ApiError;
use crate::platform::ids::ProductId;
use crate::platform::money::Money;
use http::StatusCode;
use serde::Serialize;
use sqlx::MySqlPool;
use std::collections::BTreeMap;

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

/// Checks a cart's lines against the limits and merges repeated products,
/// in product order. Every problem is listed.
pub fn cart_lines(lines: &[(ProductId, i64)]) -> Result<Vec<(ProductId, i64)>, Vec<LineProblem>> {
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
    let mut merged: BTreeMap<ProductId, i64> = BTreeMap::new();
    for (i, &(product, quantity)) in lines.iter().enumerate() {
        if !(1..=MAX_QUANTITY_PER_LINE).contains(&quantity) {
            problem(
                format!("lines[{i}].quantity"),
                format!("A quantity is from 1 to {MAX_QUANTITY_PER_LINE}."),
            );
        } else if product.0 <= 0 {
            problem(format!("lines[{i}].product_id"), "Unknown product.".into());
        } else {
            *merged.entry(product).or_default() += quantity;
        }
    }
    let items: i64 = merged.values().sum();
    if items > MAX_ITEMS || merged.values().any(|&q| q > MAX_QUANTITY_PER_LINE) {
        problem(
            "lines".into(),
            format!("At most {MAX_QUANTITY_PER_LINE} of a product and {MAX_ITEMS} items per order; call the pizzeria for more."),
        );
    }
    if problems.is_empty() {
        Ok(merged.into_iter().collect())
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

/// Why a cart cannot be priced as asked.
#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    #[error("delivery starts from {minimum} of products; this cart is {subtotal}")]
    BelowMinimum { minimum: Money, subtotal: Money },
    #[error("{} products cannot be ordered here", .0.len())]
    Unavailable(Vec<Unavailable>),
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

/// A product line priced from the database.
#[derive(Debug, Clone)]
pub struct PricedLine {
    pub product_id: ProductId,
    pub name: String,
    pub unit_price: Money,
    pub vat_rate_bp: u32,
    pub quantity: i64,
    pub total: Money,
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

/// Prices the cart from the database: current prices and VAT rates, products
/// on this pizzeria's menu only.
pub async fn price(
    pool: &MySqlPool,
    pizzeria: &Pizzeria,
    cart_lines: &[(ProductId, i64)],
    delivery: bool,
) -> Result<Priced, PricingError> {
    // `IN` over the cart's products, as many as it has: built at run time.
    let placeholders = vec!["?"; cart_lines.len()].join(",");
    let sql = format!(
        "SELECT p.id, p.name, p.price_cents, p.vat_rate_bp, p.active, COUNT(me.product_id) \
         FROM products p LEFT JOIN menu_exclusions me ON me.pizzeria_id = ? AND me.product_id = p.id \
         WHERE p.id IN ({placeholders}) GROUP BY p.id, p.name, p.price_cents, p.vat_rate_bp, p.active"
    );
    let mut query =
        sqlx::query_as::<_, (i64, String, i64, i32, bool, i64)>(&sql).bind(pizzeria.id.0);
    for (product, _) in cart_lines {
        query = query.bind(product.0);
    }
    let found: BTreeMap<i64, (String, i64, i32, bool, i64)> = query
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|(id, name, price, vat, active, excluded)| (id, (name, price, vat, active, excluded)))
        .collect();

    let mut problems = Vec::new();
    let mut lines = Vec::new();
    for &(product_id, quantity) in cart_lines {
        match found.get(&product_id.0) {
            None => problems.push(Unavailable {
                product_id,
                message: "No such product.".to_owned(),
            }),
            Some((name, _, _, false, _)) => problems.push(Unavailable {
                product_id,
                message: format!("{name} is no longer on the menu."),
            }),
            Some((name, _, _, _, excluded)) if *excluded > 0 => problems.push(Unavailable {
                product_id,
                message: format!("{name} is not on the menu of {}.", pizzeria.name),
            }),
            Some((name, price, vat, _, _)) => {
                let unit_price = Money::from_cents(*price);
                lines.push(PricedLine {
                    product_id,
                    name: name.clone(),
                    unit_price,
                    vat_rate_bp: u32::try_from(*vat).unwrap_or(0),
                    quantity,
                    total: unit_price * quantity,
                })
            }
        }
    }
    if !problems.is_empty() {
        return Err(PricingError::Unavailable(problems));
    }

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
