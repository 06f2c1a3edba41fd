//! Ingredient stock: reservations, releases and consumption, each written to
//! the movement ledger in the caller's transaction.
//!
//! No overselling: a reservation is a conditional update
//! (`on_hand - reserved >= needed`) on each ingredient row, so two concurrent
//! checkouts for the last portions cannot both succeed. Rows are always
//! touched in ascending ingredient order, so concurrent orders never deadlock.
//!
//! The back office's manual changes (restock, adjustment after a count,
//! waste) go through the same ledger, one row each, and never take `on_hand`
//! below what orders hold reserved.

pub mod levels;

use crate::platform::ids::{IngredientId, OrderId, PizzeriaId, UserId};
use sqlx::{MySql, Transaction};
use std::collections::BTreeMap;

/// Ingredient quantities in their unit, ordered by ingredient id.
pub type Needs = BTreeMap<IngredientId, i64>;

/// Reserves every need, or reports `false` when any ingredient is short: the
/// caller must then roll back (the rows already reserved and the ledger go
/// with it) and may ask [`shortages`] which.
pub async fn reserve(
    tx: &mut Transaction<'_, MySql>,
    pizzeria: PizzeriaId,
    order: OrderId,
    needs: &Needs,
) -> Result<bool, sqlx::Error> {
    // The ledger rows first: they lock nothing shared, so the hot stock rows
    // below stay locked for as short a time as possible before the commit.
    ledger(tx, pizzeria, order, "reservation", needs, 0, 1).await?;
    take(tx, pizzeria, needs, "reserved = reserved +").await
}

/// Takes every need out of what is available (`on_hand - reserved`), with
/// `set` (`reserved = reserved +`, or `on_hand = on_hand -`), or reports
/// `false` when any ingredient is short: the caller must then roll back.
async fn take(
    tx: &mut Transaction<'_, MySql>,
    pizzeria: PizzeriaId,
    needs: &Needs,
    set: &'static str,
) -> Result<bool, sqlx::Error> {
    if needs.is_empty() {
        return Ok(true);
    }
    // One statement for every ingredient: one round trip while holding the
    // locks. InnoDB locks the rows in primary-key order, the same for every
    // order, so concurrent reservations queue up instead of deadlocking.
    // Runtime SQL: one `WHEN` and one condition per ingredient needed.
    let mut update = sqlx::QueryBuilder::<MySql>::new("UPDATE stock SET ");
    update.push(set).push(" CASE ingredient_id");
    for (ingredient, quantity) in needs {
        update
            .push(" WHEN ")
            .push_bind(ingredient.0)
            .push(" THEN ")
            .push_bind(*quantity);
    }
    update
        .push(" END, updated_at = UTC_TIMESTAMP(6) WHERE pizzeria_id = ")
        .push_bind(pizzeria.0);
    update.push(" AND (");
    for (i, (ingredient, quantity)) in needs.iter().enumerate() {
        if i > 0 {
            update.push(" OR ");
        }
        update
            .push("(ingredient_id = ")
            .push_bind(ingredient.0)
            .push(" AND on_hand - reserved >= ")
            .push_bind(*quantity)
            .push(")");
    }
    update.push(")");
    let taken = update.build().execute(&mut **tx).await?.rows_affected();
    Ok(taken == needs.len() as u64)
}

/// A line made again (burnt, dropped): its ingredients are used a second
/// time, out of what is available, and the ledger records them as the
/// order's waste. `false` when an ingredient is short: the caller rolls back.
pub async fn remake(
    tx: &mut Transaction<'_, MySql>,
    pizzeria: PizzeriaId,
    order: OrderId,
    needs: &Needs,
) -> Result<bool, sqlx::Error> {
    ledger(tx, pizzeria, order, "waste", needs, -1, 0).await?;
    take(tx, pizzeria, needs, "on_hand = on_hand -").await
}

/// A voided order: what it consumed went in the bin. Its consumption is
/// reversed and recorded as waste, so `on_hand` does not move and the ledger
/// says the order used nothing and the kitchen threw that much away.
pub async fn waste_consumed(
    tx: &mut Transaction<'_, MySql>,
    pizzeria: PizzeriaId,
    order: OrderId,
) -> Result<Needs, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT ingredient_id, CAST(-SUM(on_hand_delta) AS SIGNED) AS `used!` FROM stock_movements \
         WHERE order_id = ? AND kind = 'consumption' GROUP BY ingredient_id \
         HAVING SUM(on_hand_delta) <> 0 ORDER BY ingredient_id",
        order.0,
    )
    .fetch_all(&mut **tx)
    .await?;
    let used: Needs = rows
        .into_iter()
        .map(|row| (IngredientId(row.ingredient_id), row.used))
        .collect();
    ledger(tx, pizzeria, order, "consumption", &used, 1, 0).await?;
    ledger(tx, pizzeria, order, "waste", &used, -1, 0).await?;
    Ok(used)
}

/// After a failed reservation has been rolled back: which ingredients are
/// short of these needs right now (for the answer to the customer).
pub async fn shortages(
    pool: &sqlx::MySqlPool,
    pizzeria: PizzeriaId,
    needs: &Needs,
) -> Result<Vec<IngredientId>, sqlx::Error> {
    let mut short = Vec::new();
    for (&ingredient, &quantity) in needs {
        let available = sqlx::query_scalar!(
            "SELECT on_hand - reserved AS `available!` FROM stock WHERE pizzeria_id = ? AND ingredient_id = ?",
            pizzeria.0,
            ingredient.0,
        )
        .fetch_optional(pool)
        .await?;
        if available.is_none_or(|a| a < quantity) {
            short.push(ingredient);
        }
    }
    Ok(short)
}

/// What an order holds reserved right now, from the ledger.
pub async fn reserved_by(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
) -> Result<Needs, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT ingredient_id, CAST(SUM(reserved_delta) AS SIGNED) AS `reserved!` FROM stock_movements \
         WHERE order_id = ? GROUP BY ingredient_id HAVING SUM(reserved_delta) <> 0 ORDER BY ingredient_id",
        order.0,
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (IngredientId(row.ingredient_id), row.reserved))
        .collect())
}

/// Gives back everything the order holds reserved (cancellation, expiry,
/// modification). Returns what was released.
pub async fn release(
    tx: &mut Transaction<'_, MySql>,
    pizzeria: PizzeriaId,
    order: OrderId,
) -> Result<Needs, sqlx::Error> {
    settle(tx, pizzeria, order, "release", 0).await
}

/// The kitchen starts the order: what was reserved is now used up —
/// `on_hand` and `reserved` both go down.
pub async fn consume(
    tx: &mut Transaction<'_, MySql>,
    pizzeria: PizzeriaId,
    order: OrderId,
) -> Result<Needs, sqlx::Error> {
    settle(tx, pizzeria, order, "consumption", -1).await
}

/// Ends the order's reservation: `reserved` goes down by what it holds, and
/// `on_hand` too when it is consumed (`on_hand_sign` = -1).
async fn settle(
    tx: &mut Transaction<'_, MySql>,
    pizzeria: PizzeriaId,
    order: OrderId,
    kind: &str,
    on_hand_sign: i64,
) -> Result<Needs, sqlx::Error> {
    let held = reserved_by(tx, order).await?;
    for (&ingredient, &quantity) in &held {
        sqlx::query!(
            "UPDATE stock SET on_hand = on_hand + ?, reserved = reserved - ?, updated_at = UTC_TIMESTAMP(6) \
             WHERE pizzeria_id = ? AND ingredient_id = ?",
            on_hand_sign * quantity,
            quantity,
            pizzeria.0,
            ingredient.0,
        )
        .execute(&mut **tx)
        .await?;
    }
    ledger(tx, pizzeria, order, kind, &held, on_hand_sign, -1).await?;
    Ok(held)
}

/// The largest quantity one restock, waste or adjustment may move, and the
/// highest level or threshold a manager may set.
pub const MAX_QUANTITY: i64 = 100_000_000;

/// A change a manager makes to one ingredient's stock by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManualChange {
    /// A delivery from the supplier: `on_hand` goes up by this (> 0).
    Restock(i64),
    /// After a count: `on_hand` becomes this level.
    CountedAt(i64),
    /// A correction by this amount, up or down.
    AdjustBy(i64),
    /// Thrown away (spoilt, dropped): `on_hand` goes down by this (> 0).
    Waste(i64),
}

impl ManualChange {
    /// The ledger's `kind` for this change.
    pub fn kind(self) -> &'static str {
        match self {
            ManualChange::Restock(_) => "restock",
            ManualChange::CountedAt(_) | ManualChange::AdjustBy(_) => "adjustment",
            ManualChange::Waste(_) => "waste",
        }
    }

    /// The change to `on_hand`, given the level before it.
    fn delta(self, on_hand: i64) -> i64 {
        match self {
            ManualChange::Restock(q) | ManualChange::AdjustBy(q) => q,
            ManualChange::CountedAt(level) => level - on_hand,
            ManualChange::Waste(q) => -q,
        }
    }
}

/// One ingredient's level, after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub on_hand: i64,
    pub reserved: i64,
    /// What the change moved `on_hand` by (the ledger row's `on_hand_delta`).
    pub delta: i64,
}

/// Why a manual change was refused; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ManualChangeError {
    #[error("pizzeria {0} holds no stock of ingredient {1}")]
    NotStocked(PizzeriaId, IngredientId),
    /// `on_hand` would fall below what orders hold reserved (or below 0).
    #[error("on hand would become {would_be}, below the {reserved} reserved by orders")]
    BelowReserved {
        on_hand: i64,
        reserved: i64,
        would_be: i64,
    },
    /// More than a stock column holds.
    #[error("on hand would become {0}, more than a stock level can hold")]
    TooMuch(i64),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Applies a manual change in the caller's transaction: the stock row is
/// locked, the change checked against `reserved`, then one conditional update
/// and one ledger row (with who and why). Orders' reservations are never
/// touched: waste or a count cannot take what a placed order is owed.
pub async fn apply_manual(
    tx: &mut Transaction<'_, MySql>,
    pizzeria: PizzeriaId,
    ingredient: IngredientId,
    change: ManualChange,
    user: Option<UserId>,
    reason: Option<&str>,
) -> Result<Level, ManualChangeError> {
    let row = sqlx::query!(
        "SELECT on_hand, reserved FROM stock WHERE pizzeria_id = ? AND ingredient_id = ? FOR UPDATE",
        pizzeria.0,
        ingredient.0,
    )
    .fetch_optional(&mut **tx)
    .await?;
    let (on_hand, reserved) = row
        .map(|row| (i64::from(row.on_hand), i64::from(row.reserved)))
        .ok_or(ManualChangeError::NotStocked(pizzeria, ingredient))?;
    let delta = change.delta(on_hand);
    let would_be = on_hand.saturating_add(delta);
    if would_be < reserved || would_be < 0 {
        return Err(ManualChangeError::BelowReserved {
            on_hand,
            reserved,
            would_be,
        });
    }
    if would_be > i64::from(i32::MAX) {
        return Err(ManualChangeError::TooMuch(would_be));
    }
    // Conditional although the row is locked: the rule stays in the statement
    // that writes, whatever a future caller does before it.
    let updated = sqlx::query!(
        "UPDATE stock SET on_hand = on_hand + ?, updated_at = UTC_TIMESTAMP(6) \
         WHERE pizzeria_id = ? AND ingredient_id = ? AND on_hand + ? >= reserved AND on_hand + ? >= 0",
        delta,
        pizzeria.0,
        ingredient.0,
        delta,
        delta,
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if updated != 1 {
        return Err(ManualChangeError::BelowReserved {
            on_hand,
            reserved,
            would_be,
        });
    }
    sqlx::query!(
        "INSERT INTO stock_movements (pizzeria_id, ingredient_id, kind, on_hand_delta, reserved_delta, user_id, reason, created_at) \
         VALUES (?, ?, ?, ?, 0, ?, ?, UTC_TIMESTAMP(6))",
        pizzeria.0,
        ingredient.0,
        change.kind(),
        delta,
        user.map(|u| u.0),
        reason,
    )
    .execute(&mut **tx)
    .await?;
    Ok(Level {
        on_hand: would_be,
        reserved,
        delta,
    })
}

/// One ledger row per ingredient, in one statement.
async fn ledger(
    tx: &mut Transaction<'_, MySql>,
    pizzeria: PizzeriaId,
    order: OrderId,
    kind: &str,
    quantities: &Needs,
    on_hand_sign: i64,
    reserved_sign: i64,
) -> Result<(), sqlx::Error> {
    if quantities.is_empty() {
        return Ok(());
    }
    // Runtime SQL: a multi-row INSERT, as many rows as ingredients.
    let mut builder = sqlx::QueryBuilder::<MySql>::new(
        "INSERT INTO stock_movements (pizzeria_id, ingredient_id, kind, on_hand_delta, reserved_delta, order_id, created_at) ",
    );
    builder.push_values(quantities, |mut row, (ingredient, quantity)| {
        row.push_bind(pizzeria.0)
            .push_bind(ingredient.0)
            .push_bind(kind)
            .push_bind(on_hand_sign * quantity)
            .push_bind(reserved_sign * quantity)
            .push_bind(order.0)
            .push("UTC_TIMESTAMP(6)");
    });
    builder.build().execute(&mut **tx).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_changes_move_on_hand_and_name_their_kind() {
        assert_eq!(ManualChange::Restock(500).delta(100), 500);
        assert_eq!(ManualChange::Waste(30).delta(100), -30);
        assert_eq!(ManualChange::CountedAt(80).delta(100), -20);
        assert_eq!(ManualChange::CountedAt(120).delta(100), 20);
        assert_eq!(ManualChange::AdjustBy(-5).delta(100), -5);
        assert_eq!(ManualChange::Restock(1).kind(), "restock");
        assert_eq!(ManualChange::CountedAt(1).kind(), "adjustment");
        assert_eq!(ManualChange::Waste(1).kind(), "waste");
    }
}
