//! What the admin opens for the whole group: a pizzeria, an ingredient, a
//! category. (A pizzeria's hours are [`super::schedule`]'s; its first stock
//! counts, `stock::levels::open_line`; products, [`super::products`].)
//!
//! [`check_pizzeria`] returns every broken rule at once as
//! [`FieldProblem`]s. The pizzeria's coordinates come from the geocoder (the
//! screen asks the geocode function for the address first); they must fall
//! in metropolitan France, against a slip that would put the shop at sea.

use super::choices::Allergen;
use super::products::FieldProblem;
use super::version;
use crate::platform::db;
use crate::platform::ids::{IngredientId, PizzeriaId};
use crate::platform::phone;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::MySqlPool;

/// At most 20 km around a shop: beyond, a pizza arrives cold.
pub const MAX_RADIUS_M: i32 = 20_000;
/// Against typos: a fee or minimum order above 100 €.
pub const MAX_FEE_CENTS: i64 = 10_000;
/// Metropolitan France and Corsica, generously: (south, north, west, east).
pub const FRANCE: (f64, f64, f64, f64) = (41.0, 51.5, -5.5, 10.0);
/// The units an ingredient is counted in.
pub const UNITS: [&str; 3] = ["g", "ml", "piece"];

/// A pizzeria as the admin opens it, or the fields to change (all optional
/// then).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PizzeriaChange {
    pub name: Option<String>,
    pub line1: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub phone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub delivery_radius_m: Option<i32>,
    pub delivery_fee_cents: Option<i64>,
    pub min_order_cents: Option<i64>,
    /// `active` (takes orders within its hours) or `opening_soon`.
    pub status: Option<String>,
    pub opens_on: Option<NaiveDate>,
    /// Minutes an order takes in the kitchen when nothing waits (5–120).
    pub prep_minutes: Option<i32>,
    /// Pre-orders per quarter hour (0–100; 0 takes none).
    pub slot_capacity: Option<i32>,
}

impl PizzeriaChange {
    /// The fields only the admin may change: who the pizzeria is and where.
    /// (Its phone and delivery terms are its manager's too.)
    pub fn touches_identity(&self) -> bool {
        self.name.is_some()
            || self.line1.is_some()
            || self.postcode.is_some()
            || self.city.is_some()
            || self.latitude.is_some()
            || self.longitude.is_some()
            || self.status.is_some()
            || self.opens_on.is_some()
    }
}

fn problem(field: &str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn tidy(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Tidies the fields and checks each; `creating` makes all but `opens_on`
/// required. The phone is stored in E.164.
pub fn check_pizzeria(change: &mut PizzeriaChange, creating: bool) -> Vec<FieldProblem> {
    let mut errors = Vec::new();
    if creating {
        for (missing, field) in [
            (change.name.is_none(), "name"),
            (change.line1.is_none(), "line1"),
            (change.postcode.is_none(), "postcode"),
            (change.city.is_none(), "city"),
            (change.phone.is_none(), "phone"),
            (change.latitude.is_none(), "latitude"),
            (change.longitude.is_none(), "longitude"),
            (change.delivery_radius_m.is_none(), "delivery_radius_m"),
            (change.delivery_fee_cents.is_none(), "delivery_fee_cents"),
            (change.min_order_cents.is_none(), "min_order_cents"),
        ] {
            if missing {
                errors.push(problem(field, "Required for a new pizzeria."));
            }
        }
    }
    for (field, value, max) in [
        ("name", change.name.as_mut(), 100),
        ("line1", change.line1.as_mut(), 200),
        ("city", change.city.as_mut(), 100),
    ] {
        if let Some(value) = value {
            *value = tidy(value);
            if value.is_empty() || value.chars().count() > max {
                errors.push(problem(field, format!("From 1 to {max} characters.")));
            }
        }
    }
    if let Some(postcode) = change.postcode.as_mut() {
        *postcode = postcode.trim().to_owned();
        if postcode.len() != 5 || !postcode.bytes().all(|b| b.is_ascii_digit()) {
            errors.push(problem("postcode", "A French postcode: 5 digits."));
        }
    }
    if let Some(raw) = change.phone.as_mut() {
        match phone::parse(raw) {
            Ok(e164) => *raw = e164.as_str().to_owned(),
            Err(_) => errors.push(problem(
                "phone",
                "A phone number, e.g. 04 78 00 00 00 or +33 4 78 00 00 00.",
            )),
        }
    }
    let (south, north, west, east) = FRANCE;
    if change
        .latitude
        .is_some_and(|l| !l.is_finite() || !(south..=north).contains(&l))
    {
        errors.push(problem("latitude", "In metropolitan France."));
    }
    if change
        .longitude
        .is_some_and(|l| !l.is_finite() || !(west..=east).contains(&l))
    {
        errors.push(problem("longitude", "In metropolitan France."));
    }
    if change
        .delivery_radius_m
        .is_some_and(|r| !(0..=MAX_RADIUS_M).contains(&r))
    {
        errors.push(problem(
            "delivery_radius_m",
            format!("From 0 (no delivery) to {MAX_RADIUS_M} metres."),
        ));
    }
    for (field, value) in [
        ("delivery_fee_cents", change.delivery_fee_cents),
        ("min_order_cents", change.min_order_cents),
    ] {
        if value.is_some_and(|v| !(0..=MAX_FEE_CENTS).contains(&v)) {
            errors.push(problem(field, format!("From 0 to {MAX_FEE_CENTS} cents.")));
        }
    }
    if change.prep_minutes.is_some_and(|m| !(5..=120).contains(&m)) {
        errors.push(problem("prep_minutes", "From 5 to 120 minutes."));
    }
    if change
        .slot_capacity
        .is_some_and(|c| !(0..=100).contains(&c))
    {
        errors.push(problem(
            "slot_capacity",
            "From 0 (no pre-orders) to 100 orders a quarter hour.",
        ));
    }
    if let Some(status) = change.status.as_deref() {
        if !["active", "opening_soon"].contains(&status) {
            errors.push(problem(
                "status",
                "`active` (takes orders within its hours) or `opening_soon`.",
            ));
        }
    }
    errors
}

/// Why a write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    /// Another row has the name (the field).
    #[error("{0} taken")]
    NameTaken(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn taken(err: sqlx::Error, key: &str, field: &'static str) -> ShopError {
    if db::duplicate_key(&err).as_deref() == Some(key) {
        ShopError::NameTaken(field)
    } else {
        ShopError::Database(err)
    }
}

/// Opens the pizzeria (checked by [`check_pizzeria`], every field given).
pub async fn create_pizzeria(
    pool: &MySqlPool,
    new: &PizzeriaChange,
) -> Result<PizzeriaId, ShopError> {
    let done = sqlx::query!(
        "INSERT INTO pizzerias (name, line1, postcode, city, phone, latitude, longitude, \
                                delivery_radius_m, delivery_fee_cents, min_order_cents, status, opens_on, \
                                prep_minutes, slot_capacity) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, 15), COALESCE(?, 6))",
        new.name,
        new.line1,
        new.postcode,
        new.city,
        new.phone,
        new.latitude,
        new.longitude,
        new.delivery_radius_m,
        new.delivery_fee_cents,
        new.min_order_cents,
        new.status.as_deref().unwrap_or("active"),
        new.opens_on,
        new.prep_minutes,
        new.slot_capacity,
    )
    .execute(pool)
    .await
    .map_err(|e| taken(e, "uq_pizzerias_name", "name"))?;
    let id = i64::try_from(done.last_insert_id()).map_err(|e| sqlx::Error::Decode(e.into()))?;
    Ok(PizzeriaId(id))
}

/// Changes the fields given; `false` for an unknown pizzeria.
pub async fn update_pizzeria(
    pool: &MySqlPool,
    id: PizzeriaId,
    change: &PizzeriaChange,
) -> Result<bool, ShopError> {
    let done = sqlx::query!(
        "UPDATE pizzerias SET name = COALESCE(?, name), line1 = COALESCE(?, line1), \
                postcode = COALESCE(?, postcode), city = COALESCE(?, city), phone = COALESCE(?, phone), \
                latitude = COALESCE(?, latitude), longitude = COALESCE(?, longitude), \
                delivery_radius_m = COALESCE(?, delivery_radius_m), \
                delivery_fee_cents = COALESCE(?, delivery_fee_cents), \
                min_order_cents = COALESCE(?, min_order_cents), status = COALESCE(?, status), \
                opens_on = COALESCE(?, opens_on), prep_minutes = COALESCE(?, prep_minutes), \
                slot_capacity = COALESCE(?, slot_capacity), version = version + 1 \
         WHERE id = ?",
        change.name,
        change.line1,
        change.postcode,
        change.city,
        change.phone,
        change.latitude,
        change.longitude,
        change.delivery_radius_m,
        change.delivery_fee_cents,
        change.min_order_cents,
        change.status,
        change.opens_on,
        change.prep_minutes,
        change.slot_capacity,
        id.0,
    )
    .execute(pool)
    .await
    .map_err(|e| taken(e, "uq_pizzerias_name", "name"))?;
    // The version always moves: one row changed, or none for an unknown id.
    Ok(done.rows_affected() == 1)
}

/// An ingredient of the group, with what a customer must know of it (set
/// through [`super::options`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Ingredient {
    pub id: IngredientId,
    pub name: String,
    /// `g`, `ml` or `piece`.
    pub unit: String,
    /// In the regulation's order.
    pub allergens: Vec<Allergen>,
    /// No meat nor fish (false until someone has said so).
    pub vegetarian: bool,
}

/// Every ingredient (or one), by name, with its allergens.
async fn read_ingredients(
    pool: &MySqlPool,
    only: Option<IngredientId>,
) -> Result<Vec<Ingredient>, sqlx::Error> {
    let only = only.map(|i| i.0);
    let rows = sqlx::query!(
        "SELECT i.id, i.name, i.unit, i.vegetarian AS `vegetarian: bool`, \
                COALESCE(GROUP_CONCAT(a.allergen SEPARATOR ','), '') AS `allergens!: String` \
         FROM ingredients i LEFT JOIN ingredient_allergens a ON a.ingredient_id = i.id \
         WHERE (? IS NULL OR i.id = ?) \
         GROUP BY i.id, i.name, i.unit, i.vegetarian ORDER BY i.name",
        only,
        only,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut allergens = Allergen::split(&r.allergens);
            allergens.sort_unstable();
            Ingredient {
                id: IngredientId(r.id),
                name: r.name,
                unit: r.unit,
                allergens,
                vegetarian: r.vegetarian,
            }
        })
        .collect())
}

pub async fn ingredients(pool: &MySqlPool) -> Result<Vec<Ingredient>, sqlx::Error> {
    read_ingredients(pool, None).await
}

/// One ingredient, or `None` when there is no such id.
pub async fn ingredient(
    pool: &MySqlPool,
    id: IngredientId,
) -> Result<Option<Ingredient>, sqlx::Error> {
    Ok(read_ingredients(pool, Some(id)).await?.into_iter().next())
}

/// The problems of a new ingredient (its name tidied).
pub fn check_ingredient(name: &mut String, unit: &str) -> Vec<FieldProblem> {
    let mut errors = Vec::new();
    *name = tidy(name);
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(problem("name", "From 1 to 100 characters."));
    }
    if !UNITS.contains(&unit) {
        errors.push(problem("unit", "`g`, `ml` or `piece`."));
    }
    errors
}

pub async fn create_ingredient(
    pool: &MySqlPool,
    name: &str,
    unit: &str,
) -> Result<Ingredient, ShopError> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query!(
        "INSERT INTO ingredients (name, unit) VALUES (?, ?)",
        name,
        unit
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| taken(e, "uq_ingredients_name", "name"))?;
    version::bump(&mut tx).await?;
    tx.commit().await?;
    let id = i64::try_from(done.last_insert_id()).map_err(|e| sqlx::Error::Decode(e.into()))?;
    Ok(Ingredient {
        id: IngredientId(id),
        name: name.to_owned(),
        unit: unit.to_owned(),
        allergens: Vec::new(),
        vegetarian: false,
    })
}

/// A category of the menu.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Category {
    pub id: i64,
    pub name: String,
    pub position: i32,
}

pub async fn categories(pool: &MySqlPool) -> Result<Vec<Category>, sqlx::Error> {
    let rows = sqlx::query!("SELECT id, name, position FROM categories ORDER BY position, id")
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Category {
            id: r.id,
            name: r.name,
            position: r.position,
        })
        .collect())
}

/// The problems of a new category (its name tidied).
pub fn check_category(name: &mut String, position: i32) -> Vec<FieldProblem> {
    let mut errors = Vec::new();
    *name = tidy(name);
    if name.is_empty() || name.chars().count() > 50 {
        errors.push(problem("name", "From 1 to 50 characters."));
    }
    if !(0..=super::products::MAX_POSITION).contains(&position) {
        errors.push(problem(
            "position",
            format!("From 0 to {}.", super::products::MAX_POSITION),
        ));
    }
    errors
}

pub async fn create_category(
    pool: &MySqlPool,
    name: &str,
    position: i32,
) -> Result<Category, ShopError> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query!(
        "INSERT INTO categories (name, position) VALUES (?, ?)",
        name,
        position
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| taken(e, "uq_categories_name", "name"))?;
    version::bump(&mut tx).await?;
    tx.commit().await?;
    let id = i64::try_from(done.last_insert_id()).map_err(|e| sqlx::Error::Decode(e.into()))?;
    Ok(Category {
        id,
        name: name.to_owned(),
        position,
    })
}
