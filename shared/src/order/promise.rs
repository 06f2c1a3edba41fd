//! When an order will be ready (pickup) or at the door (delivery), as the
//! customer is told before ordering, on the tracker and in the e-mails; and
//! the quarter hours a customer can pre-order for.
//!
//! - **As soon as possible:** the pizzeria's preparation time (its manager
//!   sets it) plus [`MINUTES_PER_TICKET_AHEAD`] for each order already in its
//!   kitchen; a delivery adds the ride ([`eta_minutes`]: distance, handover
//!   and the deliveries each courier already carries; the delivery's ETA
//!   too, `delivery::assign`).
//! - **Kept up to date:** the promise is computed again when the kitchen
//!   starts the order, when it is ready, and when a courier takes it (the
//!   delivery's ETA); a pre-order is never promised before its slot.
//! - **Pre-orders:** a slot is a quarter hour on the Paris clock (Paris is a
//!   whole number of hours from UTC, so a UTC quarter hour) inside the
//!   pizzeria's opening hours ([`Rule::is_open`], the rule the menu and the
//!   checkout read), from the earliest the kitchen can make it to
//!   [`PREORDER_DAYS`] ahead; at most the pizzeria's `slot_capacity` orders
//!   each. Its ticket goes to the kitchen at the slot minus the preparation
//!   (and the ride), through the outbox (`not_before`).
//!
//! The arithmetic is pure, so tests choose the instant; the few reads it
//! needs (the kitchen's queue, the couriers' load, a slot's orders) are below.

use crate::catalog::hours::Rule;
use crate::order::Fulfilment;
use crate::platform::ids::{OrderId, PizzeriaId};
use chrono::{DateTime, Duration, DurationRound, NaiveDateTime, Timelike, Utc};
use chrono_tz::Europe::Paris;
use sqlx::{MySql, Transaction};

/// Each order already waiting or being made in the kitchen delays a new one
/// by this much (several pizzas share the oven; one more order is a few
/// minutes of a pizzaiolo's time).
pub const MINUTES_PER_TICKET_AHEAD: i64 = 3;
/// A slot is a quarter hour.
pub const SLOT_MINUTES: i64 = 15;
/// Pre-orders are for today and up to this many days ahead.
pub const PREORDER_DAYS: i64 = 6;

/// Town riding speed for the ETA, and the time to hand an order over.
pub const RIDE_METRES_PER_MINUTE: i64 = 250; // 15 km/h
pub const HANDOVER_MINUTES: i64 = 3;
/// Each delivery already in the courier's box delays this one.
pub const MINUTES_PER_EARLIER_DELIVERY: i64 = 10;
/// The ride assumed when the distance is unknown: a typical 3 km.
const UNKNOWN_DISTANCE_M: i32 = 3_000;

/// Minutes from a courier's assignment to the door: the ride, the handover,
/// and the deliveries already in the courier's box (the delivery's ETA).
pub fn eta_minutes(distance_m: Option<i32>, deliveries_before: i64) -> i64 {
    let metres = i64::from(distance_m.unwrap_or(UNKNOWN_DISTANCE_M)).max(0);
    let ride = (metres + RIDE_METRES_PER_MINUTE - 1) / RIDE_METRES_PER_MINUTE;
    ride + HANDOVER_MINUTES + deliveries_before * MINUTES_PER_EARLIER_DELIVERY
}

/// What a promise depends on at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// The pizzeria's preparation time when nothing waits.
    pub prep_minutes: i64,
    /// Orders already in its kitchen (placed or preparing, released).
    pub tickets_ahead: i64,
    /// Deliveries each courier on shift already has to do before a new one.
    pub deliveries_before: i64,
}

impl Default for Load {
    /// A pizzeria's usual preparation time (the schema's default), nothing
    /// waiting.
    fn default() -> Load {
        Load {
            prep_minutes: 15,
            tickets_ahead: 0,
            deliveries_before: 0,
        }
    }
}

/// Minutes from the kitchen's start to ready: the preparation time and the
/// queue ahead.
pub fn kitchen_minutes(load: Load) -> i64 {
    load.prep_minutes.max(0) + load.tickets_ahead.max(0) * MINUTES_PER_TICKET_AHEAD
}

/// Minutes from ready to the door (0 for pickup).
pub fn ride_minutes(fulfilment: Fulfilment, distance_m: Option<i32>, load: Load) -> i64 {
    match fulfilment {
        Fulfilment::Pickup => 0,
        Fulfilment::Delivery => eta_minutes(distance_m, load.deliveries_before),
    }
}

/// An order placed at `now` as soon as possible: ready, or at the door.
pub fn as_soon_as_possible(
    now: DateTime<Utc>,
    fulfilment: Fulfilment,
    distance_m: Option<i32>,
    load: Load,
) -> DateTime<Utc> {
    now + Duration::minutes(kitchen_minutes(load) + ride_minutes(fulfilment, distance_m, load))
}

/// When a pre-order's ticket goes to the kitchen: the slot minus the
/// preparation time and, for a delivery, the ride with an empty box (the
/// queue of the day is not known days ahead).
pub fn release_at(
    slot: DateTime<Utc>,
    fulfilment: Fulfilment,
    distance_m: Option<i32>,
    prep_minutes: i64,
) -> DateTime<Utc> {
    let empty = Load {
        prep_minutes,
        tickets_ahead: 0,
        deliveries_before: 0,
    };
    slot - Duration::minutes(kitchen_minutes(empty) + ride_minutes(fulfilment, distance_m, empty))
}

/// Why a slot cannot be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    #[error("a slot starts on a quarter hour (12:00, 12:15, 12:30, 12:45)")]
    NotAQuarterHour,
    #[error("too soon: the earliest is {earliest}")]
    TooSoon { earliest: DateTime<Utc> },
    #[error("pre-orders are taken up to {PREORDER_DAYS} days ahead")]
    TooFar,
    #[error("the pizzeria is closed then")]
    Closed,
}

/// The first quarter hour at or after `at`.
pub fn next_quarter_hour(at: DateTime<Utc>) -> DateTime<Utc> {
    let step = Duration::minutes(SLOT_MINUTES);
    match at.duration_trunc(step) {
        Ok(floor) if floor == at => floor,
        Ok(floor) => floor + step,
        Err(_) => at,
    }
}

/// The last instant a slot may be: the end of the Paris day
/// [`PREORDER_DAYS`] after `now`'s.
fn horizon(now: DateTime<Utc>) -> DateTime<Utc> {
    let last_day = now.with_timezone(&Paris).date_naive() + Duration::days(PREORDER_DAYS + 1);
    last_day
        .and_hms_opt(0, 0, 0)
        .and_then(|midnight| midnight.and_local_timezone(Paris).earliest())
        .map_or(now + Duration::days(PREORDER_DAYS + 1), |at| at.to_utc())
}

/// Can `slot` be chosen at `now`, the kitchen needing until `earliest`?
pub fn check_slot(
    rule: &Rule<'_>,
    now: DateTime<Utc>,
    earliest: DateTime<Utc>,
    slot: DateTime<Utc>,
) -> Result<(), SlotError> {
    if slot.second() != 0 || slot.nanosecond() != 0 || i64::from(slot.minute()) % SLOT_MINUTES != 0
    {
        return Err(SlotError::NotAQuarterHour);
    }
    let earliest = next_quarter_hour(earliest);
    if slot < earliest {
        return Err(SlotError::TooSoon { earliest });
    }
    if slot >= horizon(now) {
        return Err(SlotError::TooFar);
    }
    if !rule.is_open(slot) {
        return Err(SlotError::Closed);
    }
    Ok(())
}

/// Every slot open for a pre-order at `now`, in order: quarter hours inside
/// the opening hours from `earliest` to the horizon.
pub fn slots(rule: &Rule<'_>, now: DateTime<Utc>, earliest: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let end = horizon(now);
    let mut at = next_quarter_hour(earliest);
    let mut open = Vec::new();
    while at < end {
        if rule.is_open(at) {
            open.push(at);
        }
        at += Duration::minutes(SLOT_MINUTES);
    }
    open
}

/// A pizzeria's pre-orders per slot, its row locked until the transaction
/// ends: checkouts for one pizzeria's slots queue up there.
pub async fn lock_capacity(
    tx: &mut Transaction<'_, MySql>,
    pizzeria: PizzeriaId,
) -> Result<i64, sqlx::Error> {
    let capacity = sqlx::query_scalar!(
        "SELECT slot_capacity FROM pizzerias WHERE id = ? FOR UPDATE",
        pizzeria.0
    )
    .fetch_optional(&mut **tx)
    .await?;
    Ok(capacity.map_or(0, i64::from))
}

/// The kitchen's queue and the couriers' load at a pizzeria, read now (the
/// usual preparation time and no queue when there is no such pizzeria).
pub async fn load<'e, E>(executor: E, pizzeria: PizzeriaId) -> Result<Load, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = MySql>,
{
    Ok(load_and_versions(executor, pizzeria)
        .await?
        .map_or(Load::default(), |(load, _)| load))
}

/// The versions the kept copies of a container are checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    /// `catalog_version` (-1 when its row is missing: the TTL still holds).
    pub catalog: i64,
    /// [`crate::catalog::pizzerias_version`]'s count and sum.
    pub pizzerias: (i64, i64),
}

/// The most tickets ahead a promise counts: 100, five hours of queue at
/// [`MINUTES_PER_TICKET_AHEAD`]. A kitchen with more is promised as if it
/// had 100, already a wait no customer takes; counting every ticket made
/// each checkout read the whole queue (the statement grew with it: with
/// 1,000 orders waiting it was the heaviest of an order in the checkout
/// benchmark).
pub const TICKETS_COUNTED: i64 = 100;

/// [`load`], and in the same statement the versions of the catalogue and
/// of the pizzerias: checkout takes the pizzeria and prices the cart from
/// its kept copies when they are those versions, at no other statement.
/// `None` when there is no such pizzeria.
pub async fn load_and_versions<'e, E>(
    executor: E,
    pizzeria: PizzeriaId,
) -> Result<Option<(Load, Versions)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = MySql>,
{
    // One round trip: the preparation time, the orders in the kitchen (a
    // pre-order counts once its ticket is released), the couriers on shift
    // and the deliveries they have yet to do; the versions.
    let row = sqlx::query!(
        "SELECT p.prep_minutes, \
            (SELECT COUNT(*) FROM (SELECT 1 FROM orders o WHERE o.pizzeria_id = ? \
               AND o.status IN ('placed', 'preparing') \
               AND (o.release_at IS NULL OR o.release_at <= UTC_TIMESTAMP(6)) \
               LIMIT ?) ahead) AS `tickets!: i64`, \
            (SELECT COUNT(*) FROM users u WHERE u.pizzeria_id = p.id AND u.role = 'courier' \
               AND u.active AND u.on_shift_since IS NOT NULL) AS `couriers!: i64`, \
            (SELECT COUNT(*) FROM deliveries d WHERE d.pizzeria_id = p.id \
               AND d.status IN ('waiting', 'assigned', 'out_for_delivery')) AS `deliveries!: i64`, \
            (SELECT version FROM catalog_version WHERE id = 1) AS `catalog_version: i64`, \
            (SELECT COUNT(*) FROM pizzerias) AS `pizzerias!: i64`, \
            (SELECT CAST(COALESCE(SUM(version), 0) AS SIGNED) FROM pizzerias) AS `pizzerias_versions!: i64` \
         FROM pizzerias p WHERE p.id = ?",
        pizzeria.0,
        TICKETS_COUNTED,
        pizzeria.0
    )
    .fetch_optional(executor)
    .await?;
    Ok(row.map(|r| {
        let load = Load {
            prep_minutes: i64::from(r.prep_minutes),
            tickets_ahead: r.tickets,
            deliveries_before: r.deliveries / r.couriers.max(1),
        };
        let versions = Versions {
            catalog: r.catalog_version.unwrap_or(-1),
            pizzerias: (r.pizzerias, r.pizzerias_versions),
        };
        (load, versions)
    }))
}

/// Pre-orders already taken for a slot (cancelled ones free their place).
/// The caller holds the pizzeria's row lock, so two checkouts for the last
/// place of a slot queue up and the second sees the first.
pub async fn taken(
    tx: &mut Transaction<'_, MySql>,
    pizzeria: PizzeriaId,
    slot: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT COUNT(*) FROM orders WHERE pizzeria_id = ? AND slot_at = ? AND status <> 'cancelled'",
        pizzeria.0,
        slot.naive_utc()
    )
    .fetch_one(&mut **tx)
    .await
}

/// Pre-orders taken per slot from `from` on, for the slots a page lists.
pub async fn taken_from(
    pool: &sqlx::MySqlPool,
    pizzeria: PizzeriaId,
    from: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT slot_at AS `slot_at!: NaiveDateTime`, COUNT(*) AS `n!: i64` FROM orders \
         WHERE pizzeria_id = ? AND slot_at >= ? AND status <> 'cancelled' GROUP BY slot_at",
        pizzeria.0,
        from.naive_utc()
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.slot_at.and_utc(), r.n))
        .collect())
}

/// Where an order is when its promise is computed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Placed after checkout (paid, or paid again): the kitchen's queue,
    /// the preparation and the ride still to come.
    Queued,
    /// The kitchen started it: the preparation and the ride.
    Kitchen,
    /// Ready: only the ride.
    Ready,
}

/// Computes the promise again as the order enters `stage`, from now. Never
/// before a pre-order's slot.
pub async fn refresh(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
    stage: Stage,
) -> Result<(), sqlx::Error> {
    let row = sqlx::query!(
        "SELECT pizzeria_id, fulfilment AS `fulfilment: Fulfilment`, distance_m FROM orders WHERE id = ?",
        order.0
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let mut load = load(&mut **tx, PizzeriaId(row.pizzeria_id)).await?;
    // The queue counts this order itself once it is placed: only the
    // others are ahead, and none once the kitchen has it.
    load.tickets_ahead = match stage {
        Stage::Queued => (load.tickets_ahead - 1).max(0),
        Stage::Kitchen | Stage::Ready => 0,
    };
    let minutes = ride_minutes(row.fulfilment, row.distance_m, load)
        + match stage {
            Stage::Queued | Stage::Kitchen => kitchen_minutes(load),
            Stage::Ready => 0,
        };
    sqlx::query!(
        "UPDATE orders SET promised_at = GREATEST(COALESCE(slot_at, UTC_TIMESTAMP(6)), \
            UTC_TIMESTAMP(6) + INTERVAL ? MINUTE) WHERE id = ?",
        minutes,
        order.0
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A time as the customer reads it: `19:40` on the Paris clock.
pub fn hour_minute(at: DateTime<Utc>) -> String {
    at.with_timezone(&Paris).format("%H:%M").to_string()
}

#[cfg(test)]
mod tests;
