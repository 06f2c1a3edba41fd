//! Couriers' shifts, and a delivery given to another courier.
//!
//! A courier starts and ends their shift from their screen; only couriers on
//! shift are given deliveries ([`super::assign`]), and what waits goes to a
//! courier the moment their shift starts. Ending a shift gives back the
//! deliveries not yet picked up (they go to the couriers still on shift);
//! what is in the courier's box is delivered first. A manager may give a
//! delivery not yet picked up to another courier on shift of the pizzeria
//! (one went home sick, one is closer).
//!
//! Every change here locks the pizzeria's courier rows in id order first,
//! as [`super::assign::assign_waiting`] does, so two of them never wait on
//! each other.

use super::assign::{self, eta_minutes};
use super::DeliveryStatus;
use crate::platform::ids::{DeliveryId, PizzeriaId, UserId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{MySql, MySqlPool, Transaction};

/// Why a shift or a courier change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ShiftError {
    /// Ending a shift with deliveries still in the box.
    #[error("{0} deliveries are still on the way")]
    StillCarrying(i64),
    /// The delivery was picked up or delivered: its courier has it.
    #[error("the delivery is {0}")]
    NotReassignable(DeliveryStatus),
    /// The courier asked for is no active courier of the pizzeria.
    #[error("no active courier {0} in this pizzeria")]
    NoSuchCourier(UserId),
    /// The courier asked for is not working now.
    #[error("courier {0} is not on shift")]
    OffShift(UserId),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A courier of the pizzeria, as the manager picks one.
#[derive(Debug, Clone, Serialize)]
pub struct Courier {
    pub id: UserId,
    pub name: String,
    /// When their shift started; `None` off shift.
    pub on_shift_since: Option<DateTime<Utc>>,
    /// Deliveries assigned to them or on the way.
    pub active_deliveries: i64,
}

/// What starting or ending a shift did.
#[derive(Debug, Clone, Serialize)]
pub struct ShiftChange {
    pub on_shift_since: Option<DateTime<Utc>>,
    /// Deliveries given to couriers as a result (to this one, at the start;
    /// to the others, of those this one gave back, at the end).
    pub assigned: usize,
    /// Deliveries this courier gave back (at the end of the shift).
    pub given_back: u64,
}

/// Locks the pizzeria's courier rows, in id order.
async fn lock_couriers(
    tx: &mut Transaction<'_, MySql>,
    pizzeria: PizzeriaId,
) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM users WHERE pizzeria_id = ? AND role = 'courier' ORDER BY id FOR UPDATE",
        pizzeria.0,
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(())
}

/// When the courier's shift started, `None` off shift.
pub async fn since(
    pool: &MySqlPool,
    courier: UserId,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let since = sqlx::query_scalar!(
        "SELECT on_shift_since AS `since: DateTime<Utc>` FROM users WHERE id = ?",
        courier.0
    )
    .fetch_optional(pool)
    .await?;
    Ok(since.flatten())
}

/// Starts the courier's shift (or keeps the one under way) and gives them
/// what waits.
pub async fn start(
    tx: &mut Transaction<'_, MySql>,
    courier: UserId,
    pizzeria: PizzeriaId,
) -> Result<ShiftChange, ShiftError> {
    lock_couriers(tx, pizzeria).await?;
    sqlx::query!(
        "UPDATE users SET on_shift_since = COALESCE(on_shift_since, UTC_TIMESTAMP(6)) \
         WHERE id = ? AND pizzeria_id = ? AND role = 'courier' AND active",
        courier.0,
        pizzeria.0,
    )
    .execute(&mut **tx)
    .await?;
    let assigned = assign::assign_waiting(tx, pizzeria).await?;
    let on_shift_since = sqlx::query_scalar!(
        "SELECT on_shift_since AS `since: DateTime<Utc>` FROM users WHERE id = ?",
        courier.0
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(ShiftChange {
        on_shift_since,
        assigned,
        given_back: 0,
    })
}

/// Ends the courier's shift: refused while deliveries are on the way; those
/// assigned but not picked up go back to waiting, and to the couriers still
/// on shift.
pub async fn end(
    tx: &mut Transaction<'_, MySql>,
    courier: UserId,
    pizzeria: PizzeriaId,
) -> Result<ShiftChange, ShiftError> {
    lock_couriers(tx, pizzeria).await?;
    let carrying = sqlx::query_scalar!(
        "SELECT COUNT(*) AS `n!: i64` FROM deliveries WHERE courier_id = ? AND status = 'out_for_delivery'",
        courier.0
    )
    .fetch_one(&mut **tx)
    .await?;
    if carrying > 0 {
        return Err(ShiftError::StillCarrying(carrying));
    }
    sqlx::query!(
        "UPDATE users SET on_shift_since = NULL WHERE id = ?",
        courier.0
    )
    .execute(&mut **tx)
    .await?;
    let given_back = sqlx::query!(
        "UPDATE deliveries SET status = ?, courier_id = NULL, assigned_at = NULL, eta = NULL \
         WHERE courier_id = ? AND status = 'assigned'",
        DeliveryStatus::Waiting,
        courier.0,
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    let assigned = assign::assign_waiting(tx, pizzeria).await?;
    Ok(ShiftChange {
        on_shift_since: None,
        assigned,
        given_back,
    })
}

/// The pizzeria's active couriers, those on shift first.
pub async fn couriers(pool: &MySqlPool, pizzeria: PizzeriaId) -> Result<Vec<Courier>, sqlx::Error> {
    sqlx::query_as!(
        Courier,
        "SELECT u.id AS `id: UserId`, u.name, u.on_shift_since AS `on_shift_since: DateTime<Utc>`, \
                CAST(COUNT(d.id) AS SIGNED) AS `active_deliveries!: i64` \
         FROM users u LEFT JOIN deliveries d \
           ON d.courier_id = u.id AND d.status IN ('assigned', 'out_for_delivery') \
         WHERE u.pizzeria_id = ? AND u.role = 'courier' AND u.active \
         GROUP BY u.id, u.name, u.on_shift_since \
         ORDER BY u.on_shift_since IS NULL, u.name, u.id",
        pizzeria.0
    )
    .fetch_all(pool)
    .await
}

/// Gives a delivery not yet picked up (locked by the caller, with its order,
/// through [`super::deliveries::lock`]) to another courier on shift of its
/// pizzeria, with a new arrival estimate from that courier's load.
pub async fn reassign(
    tx: &mut Transaction<'_, MySql>,
    delivery: DeliveryId,
    status: DeliveryStatus,
    pizzeria: PizzeriaId,
    to: UserId,
) -> Result<(), ShiftError> {
    if !matches!(status, DeliveryStatus::Waiting | DeliveryStatus::Assigned) {
        return Err(ShiftError::NotReassignable(status));
    }
    lock_couriers(tx, pizzeria).await?;
    let courier = sqlx::query!(
        "SELECT on_shift_since AS `since: DateTime<Utc>` FROM users \
         WHERE id = ? AND pizzeria_id = ? AND role = 'courier' AND active",
        to.0,
        pizzeria.0,
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(ShiftError::NoSuchCourier(to))?;
    if courier.since.is_none() {
        return Err(ShiftError::OffShift(to));
    }
    let load = sqlx::query_scalar!(
        "SELECT COUNT(*) AS `n!: i64` FROM deliveries \
         WHERE courier_id = ? AND status IN ('assigned', 'out_for_delivery') AND id <> ?",
        to.0,
        delivery.0,
    )
    .fetch_one(&mut **tx)
    .await?;
    let distance =
        sqlx::query_scalar!("SELECT distance_m FROM deliveries WHERE id = ?", delivery.0)
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query!(
        "UPDATE deliveries SET courier_id = ?, status = ?, assigned_at = UTC_TIMESTAMP(6), \
         eta = UTC_TIMESTAMP(6) + INTERVAL ? MINUTE WHERE id = ?",
        to.0,
        DeliveryStatus::Assigned,
        eta_minutes(distance, load),
        delivery.0,
    )
    .execute(&mut **tx)
    .await?;
    assign::promise_eta(tx, delivery.0).await?;
    Ok(())
}
