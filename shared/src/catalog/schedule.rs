//! A manager's changes to when their pizzeria takes orders: the week's
//! hours, special days, and pausing online orders. Each change is one
//! transaction that locks the pizzeria's row first (bumping its `version`,
//! which the menu's copies watch), so two managers saving at once end with
//! one of the two whole, never a mix.
//!
//! Inputs are checked by the caller ([`super::hours::problems`]); the
//! database's CHECKs stand behind it.

use super::hours::{parse_time, OpeningPeriod, Period};
use super::PauseScope;
use crate::platform::ids::PizzeriaId;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{MySql, MySqlPool, Transaction};

/// Locks the pizzeria's row and bumps its version (the menu's copies
/// reload at their next request); `false` when there is none.
async fn lock(tx: &mut Transaction<'_, MySql>, pizzeria: PizzeriaId) -> Result<bool, sqlx::Error> {
    let bumped = sqlx::query!(
        "UPDATE pizzerias SET version = version + 1 WHERE id = ?",
        pizzeria.0
    )
    .execute(&mut **tx)
    .await?;
    Ok(bumped.rows_affected() == 1)
}

/// `HH:MM:SS` for the database (the time was checked by the caller).
fn stored(time: &str) -> String {
    parse_time(time)
        .map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_else(|| time.to_owned())
}

/// One multi-row insert of periods into `into` (a table and its first two
/// columns, the pizzeria and the period's day or weekday): nothing for none.
/// Runtime SQL: as many rows as periods, the table one of this module's two.
async fn insert_periods<K>(
    tx: &mut Transaction<'_, MySql>,
    into: &str,
    pizzeria: PizzeriaId,
    rows: &[(K, &str, &str)],
) -> Result<(), sqlx::Error>
where
    K: 'static + Copy + Send + for<'q> sqlx::Encode<'q, MySql> + sqlx::Type<MySql>,
{
    if rows.is_empty() {
        return Ok(());
    }
    let mut insert = sqlx::QueryBuilder::new(format!("INSERT INTO {into}, opens_at, closes_at) "));
    insert.push_values(rows, |mut row, (key, opens, closes)| {
        row.push_bind(pizzeria.0)
            .push_bind(*key)
            .push_bind(stored(opens))
            .push_bind(stored(closes));
    });
    insert.build().execute(&mut **tx).await?;
    Ok(())
}

/// Replaces the week's hours. `false` for an unknown pizzeria.
pub async fn set_weekly(
    pool: &MySqlPool,
    pizzeria: PizzeriaId,
    periods: &[OpeningPeriod],
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    if !lock(&mut tx, pizzeria).await? {
        return Ok(false);
    }
    sqlx::query!(
        "DELETE FROM opening_hours WHERE pizzeria_id = ?",
        pizzeria.0
    )
    .execute(&mut *tx)
    .await?;
    let rows: Vec<_> = periods
        .iter()
        .map(|p| (p.weekday, p.opens_at.as_str(), p.closes_at.as_str()))
        .collect();
    insert_periods(
        &mut tx,
        "opening_hours (pizzeria_id, weekday",
        pizzeria,
        &rows,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Sets a date's special hours (`periods` empty: closed that day),
/// replacing what it had. `false` for an unknown pizzeria.
pub async fn set_special_day(
    pool: &MySqlPool,
    pizzeria: PizzeriaId,
    day: NaiveDate,
    periods: &[Period],
    note: &str,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    if !lock(&mut tx, pizzeria).await? {
        return Ok(false);
    }
    sqlx::query!(
        "DELETE FROM special_days WHERE pizzeria_id = ? AND day = ?",
        pizzeria.0,
        day
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO special_days (pizzeria_id, day, note) VALUES (?, ?, ?)",
        pizzeria.0,
        day,
        note
    )
    .execute(&mut *tx)
    .await?;
    let rows: Vec<_> = periods
        .iter()
        .map(|p| (day, p.opens_at.as_str(), p.closes_at.as_str()))
        .collect();
    insert_periods(&mut tx, "special_hours (pizzeria_id, day", pizzeria, &rows).await?;
    tx.commit().await?;
    Ok(true)
}

/// Back to the week's hours on that date (nothing when it had none).
pub async fn remove_special_day(
    pool: &MySqlPool,
    pizzeria: PizzeriaId,
    day: NaiveDate,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, pizzeria).await?;
    sqlx::query!(
        "DELETE FROM special_days WHERE pizzeria_id = ? AND day = ?",
        pizzeria.0,
        day
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Pauses online orders until `until` (a new pause replaces the last).
pub async fn pause(
    pool: &MySqlPool,
    pizzeria: PizzeriaId,
    scope: PauseScope,
    message: &str,
    until: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE pizzerias SET paused_until = ?, pause_scope = ?, pause_message = ?, \
         version = version + 1 WHERE id = ?",
        until.naive_utc(),
        scope.as_str(),
        message,
        pizzeria.0
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Ends the pause now.
pub async fn resume(pool: &MySqlPool, pizzeria: PizzeriaId) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE pizzerias SET paused_until = NULL, pause_scope = NULL, pause_message = NULL, \
         version = version + 1 WHERE id = ?",
        pizzeria.0
    )
    .execute(pool)
    .await?;
    Ok(())
}
