//! Ingredient stock: reservations, releases and consumption, each written to
//! the movement ledger in the caller's transaction.
//!
//! No overselling: a reservation is a conditional update
//! (`on_hand - reserved >= needed`) on each ingredient row, so two concurrent
//! checkouts for the last portions cannot both succeed. Rows are always
//! touched in ascending ingredient order, so concurrent orders never deadlock.

use crate::ids::{IngredientId, OrderId, PizzeriaId, ProductId};
use sqlx::{MySql, Transaction};
use std::collections::BTreeMap;

/// Ingredient quantities in their unit, ordered by ingredient id.
pub type Needs = BTreeMap<IngredientId, i64>;

/// What an order needs of each ingredient for its lines, and the products
/// that have no recipe (they cannot be made, so they cannot be sold).
pub async fn needs_for(
    db: impl sqlx::Executor<'_, Database = MySql>,
    lines: &[(ProductId, i64)],
) -> Result<(Needs, Vec<ProductId>), sqlx::Error> {
    let mut needs = Needs::new();
    if lines.is_empty() {
        return Ok((needs, Vec::new()));
    }
    let placeholders = vec!["?"; lines.len()].join(",");
    let sql = format!(
        "SELECT product_id, ingredient_id, quantity FROM recipe_lines WHERE product_id IN ({placeholders})"
    );
    let mut query = sqlx::query_as::<_, (i64, i64, i32)>(&sql);
    for (product, _) in lines {
        query = query.bind(product.0);
    }
    let mut with_recipe = Vec::new();
    for (product, ingredient, per_unit) in query.fetch_all(db).await? {
        let ordered: i64 = lines
            .iter()
            .filter(|(p, _)| p.0 == product)
            .map(|(_, q)| q)
            .sum();
        *needs.entry(IngredientId(ingredient)).or_default() += i64::from(per_unit) * ordered;
        with_recipe.push(product);
    }
    let without = lines
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| !with_recipe.contains(&p.0))
        .collect();
    Ok((needs, without))
}

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
    if needs.is_empty() {
        return Ok(true);
    }
    // One statement for every ingredient: one round trip while holding the
    // locks. InnoDB locks the rows in primary-key order, the same for every
    // order, so concurrent reservations queue up instead of deadlocking.
    let mut update = sqlx::QueryBuilder::<MySql>::new(
        "UPDATE stock SET reserved = reserved + CASE ingredient_id",
    );
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
    let reserved = update.build().execute(&mut **tx).await?.rows_affected();
    Ok(reserved == needs.len() as u64)
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
        let available: Option<(i64,)> = sqlx::query_as(
            "SELECT on_hand - reserved FROM stock WHERE pizzeria_id = ? AND ingredient_id = ?",
        )
        .bind(pizzeria.0)
        .bind(ingredient.0)
        .fetch_optional(pool)
        .await?;
        if available.is_none_or(|(a,)| a < quantity) {
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
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT ingredient_id, CAST(SUM(reserved_delta) AS SIGNED) FROM stock_movements \
         WHERE order_id = ? GROUP BY ingredient_id HAVING SUM(reserved_delta) <> 0 ORDER BY ingredient_id",
    )
    .bind(order.0)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(i, q)| (IngredientId(i), q))
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
        sqlx::query(
            "UPDATE stock SET on_hand = on_hand + ?, reserved = reserved - ?, updated_at = UTC_TIMESTAMP(6) \
             WHERE pizzeria_id = ? AND ingredient_id = ?",
        )
        .bind(on_hand_sign * quantity)
        .bind(quantity)
        .bind(pizzeria.0)
        .bind(ingredient.0)
        .execute(&mut **tx)
        .await?;
    }
    ledger(tx, pizzeria, order, kind, &held, on_hand_sign, -1).await?;
    Ok(held)
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
