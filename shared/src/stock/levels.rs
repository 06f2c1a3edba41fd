//! The stock screen: each ingredient's level in one pizzeria (on hand,
//! reserved by orders, what is left for new ones) against the manager's
//! low-stock threshold, and the threshold's changes.
//!
//! This module reads the `stock` rows joined to their ingredients and writes
//! only `low_threshold`; the levels themselves move through the ledger
//! ([`super::apply_manual`], reservations and consumption).

use crate::platform::ids::{IngredientId, PizzeriaId};
use chrono::NaiveDateTime;
use serde::Serialize;
use sqlx::MySqlPool;

/// One ingredient's stock in one pizzeria.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StockLine {
    pub ingredient_id: IngredientId,
    pub name: String,
    pub unit: String,
    pub on_hand: i64,
    pub reserved: i64,
    /// `on_hand - reserved`: what new orders can still take.
    pub available: i64,
    pub low_threshold: i64,
    /// `available <= low_threshold`: time to restock.
    pub low: bool,
    #[serde(with = "utc")]
    pub updated_at: NaiveDateTime,
}

/// RFC 3339 UTC, to the millisecond, for the database's UTC `DATETIME`s.
mod utc {
    use chrono::NaiveDateTime;
    use serde::Serializer;
    pub fn serialize<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(
            &t.and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        )
    }
}

/// A `stock` row with its ingredient, as [`stock_rows!`] reads it.
struct StockRow {
    ingredient_id: i64,
    name: String,
    unit: String,
    on_hand: i32,
    reserved: i32,
    low_threshold: i32,
    updated_at: NaiveDateTime,
}

impl From<StockRow> for StockLine {
    fn from(row: StockRow) -> Self {
        let (on_hand, reserved, low_threshold) = (
            i64::from(row.on_hand),
            i64::from(row.reserved),
            i64::from(row.low_threshold),
        );
        let available = on_hand - reserved;
        StockLine {
            ingredient_id: IngredientId(row.ingredient_id),
            name: row.name,
            unit: row.unit,
            on_hand,
            reserved,
            available,
            low_threshold,
            low: available <= low_threshold,
            updated_at: row.updated_at,
        }
    }
}

/// A pizzeria's stock rows (the pizzeria is the first argument), the rest
/// of the query (`AND ...`, `ORDER BY`) and its arguments given.
macro_rules! stock_rows {
    ($tail:literal $(, $arg:expr)*) => {
        sqlx::query_as!(
            StockRow,
            "SELECT s.ingredient_id, i.name, i.unit, s.on_hand, s.reserved, \
                    s.low_threshold, s.updated_at \
             FROM stock s JOIN ingredients i ON i.id = s.ingredient_id WHERE s.pizzeria_id = ? "
                + $tail
            $(, $arg)*
        )
    };
}

/// One ingredient's line, or `None` when the pizzeria does not stock it.
pub async fn line(
    pool: &MySqlPool,
    pizzeria: PizzeriaId,
    ingredient: IngredientId,
) -> Result<Option<StockLine>, sqlx::Error> {
    Ok(
        stock_rows!("AND s.ingredient_id = ?", pizzeria.0, ingredient.0)
            .fetch_optional(pool)
            .await?
            .map(StockLine::from),
    )
}

/// Every ingredient the pizzeria stocks: the low ones first, then the others,
/// each group by name (then id).
pub async fn levels(pool: &MySqlPool, pizzeria: PizzeriaId) -> Result<Vec<StockLine>, sqlx::Error> {
    let rows = stock_rows!("ORDER BY i.name, s.ingredient_id", pizzeria.0)
        .fetch_all(pool)
        .await?;
    let mut lines: Vec<StockLine> = rows.into_iter().map(StockLine::from).collect();
    // Low first; the sort is stable, so by name within each group.
    lines.sort_by_key(|l| !l.low);
    Ok(lines)
}

/// Sets the level at or below which the ingredient shows as low. A row the
/// pizzeria does not have is left alone without an error: ask [`line()`] first
/// (an update that changes nothing affects no row, so its count cannot tell
/// "unchanged" from "not stocked").
pub async fn set_low_threshold(
    pool: &MySqlPool,
    pizzeria: PizzeriaId,
    ingredient: IngredientId,
    low_threshold: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE stock SET low_threshold = ?, updated_at = UTC_TIMESTAMP(6) \
         WHERE pizzeria_id = ? AND ingredient_id = ?",
        low_threshold,
        pizzeria.0,
        ingredient.0,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Why a stock line was not opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenLineError {
    /// The pizzeria already stocks it: its level moves by restock or count.
    #[error("already stocked")]
    AlreadyStocked,
    /// No such ingredient or pizzeria.
    #[error("unknown ingredient or pizzeria")]
    Unknown,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A pizzeria starts stocking an ingredient with its first count: the row
/// and its `initial` movement in the ledger, in one transaction, so the
/// ledger still adds up to the level.
pub async fn open_line(
    pool: &MySqlPool,
    pizzeria: PizzeriaId,
    ingredient: IngredientId,
    (on_hand, low_threshold): (i64, i64),
    user: Option<crate::platform::ids::UserId>,
) -> Result<(), OpenLineError> {
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query!(
        "INSERT INTO stock (pizzeria_id, ingredient_id, on_hand, reserved, low_threshold, updated_at) \
         VALUES (?, ?, ?, 0, ?, UTC_TIMESTAMP(6))",
        pizzeria.0,
        ingredient.0,
        on_hand,
        low_threshold,
    )
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(err) if crate::platform::db::duplicate_key(&err).as_deref() == Some("PRIMARY") => {
            return Err(OpenLineError::AlreadyStocked)
        }
        Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            return Err(OpenLineError::Unknown)
        }
        Err(err) => return Err(err.into()),
    }
    sqlx::query!(
        "INSERT INTO stock_movements (pizzeria_id, ingredient_id, kind, on_hand_delta, user_id, reason, created_at) \
         VALUES (?, ?, 'initial', ?, ?, 'premier comptage', UTC_TIMESTAMP(6))",
        pizzeria.0,
        ingredient.0,
        on_hand,
        user.map(|u| u.0),
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
