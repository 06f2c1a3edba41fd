//! Which courier takes a delivery, and when it should arrive: a pizzeria's
//! waiting deliveries go, oldest first, to its couriers on shift with the
//! fewest active deliveries ([`COURIER_CAPACITY`] at most each), with an
//! estimated arrival from the distance and the courier's load. Also the
//! distance of a new delivery, when the order did not keep one.

use super::geo::{self, Coordinates};
use super::DeliveryStatus;
use crate::platform::ids::PizzeriaId;
use sqlx::{MySql, Transaction};

/// Deliveries a courier carries at once: a scooter's top box holds about
/// three orders. Beyond that a new delivery waits for a courier to come back.
pub const COURIER_CAPACITY: i64 = 3;

// The ride's arithmetic is the promise's too (`order::promise`), which the
// order's life computes again at each stage; it lives there, as the order
// domain may not import this one.
pub use crate::order::promise::{
    eta_minutes, HANDOVER_MINUTES, MINUTES_PER_EARLIER_DELIVERY, RIDE_METRES_PER_MINUTE,
};

/// The distance of a delivery, in whole metres: the one the order kept at
/// checkout, else the great circle ([`geo::distance_m`], rounded as checkout
/// rounds it) from the pizzeria to the order's coordinates, else unknown.
pub fn delivery_distance_m(
    kept: Option<i32>,
    pizzeria: Coordinates,
    destination: Option<Coordinates>,
) -> Option<i32> {
    kept.or_else(|| destination.map(|at| geo::distance_m(pizzeria, at).round() as i32))
}

/// Gives the pizzeria's waiting deliveries, oldest first, to the couriers with
/// the fewest active deliveries. The pizzeria's courier rows are locked, so
/// two assignments at once never overfill a courier. Returns how many were
/// assigned.
pub async fn assign_waiting(
    tx: &mut Transaction<'_, MySql>,
    pizzeria: PizzeriaId,
) -> Result<usize, sqlx::Error> {
    let couriers = sqlx::query!(
        "SELECT id, on_shift_since IS NOT NULL AS `on_shift!: bool` FROM users \
         WHERE pizzeria_id = ? AND role = 'courier' AND active ORDER BY id FOR UPDATE",
        pizzeria.0,
    )
    .fetch_all(&mut **tx)
    .await?;
    // Every courier row is locked (in id order, as everywhere), and only those
    // on shift are given deliveries.
    let couriers: Vec<i64> = couriers
        .into_iter()
        .filter(|c| c.on_shift)
        .map(|c| c.id)
        .collect();
    let waiting = sqlx::query!(
        "SELECT id, distance_m FROM deliveries WHERE pizzeria_id = ? AND status = 'waiting' \
         ORDER BY created_at, id FOR UPDATE",
        pizzeria.0,
    )
    .fetch_all(&mut **tx)
    .await?;
    if couriers.is_empty() || waiting.is_empty() {
        return Ok(0);
    }
    let active = sqlx::query!(
        "SELECT courier_id AS `courier_id!`, COUNT(*) AS `deliveries!` FROM deliveries \
         WHERE pizzeria_id = ? AND status IN ('assigned', 'out_for_delivery') AND courier_id IS NOT NULL \
         GROUP BY courier_id",
        pizzeria.0,
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut load: Vec<(i64, i64)> = couriers
        .iter()
        .map(|&id| {
            let n = active
                .iter()
                .find(|a| a.courier_id == id)
                .map_or(0, |a| a.deliveries);
            (id, n)
        })
        .collect();
    let mut assigned = 0;
    for row in waiting {
        let (delivery, distance) = (row.id, row.distance_m);
        let Some(slot) = load
            .iter_mut()
            .filter(|(_, n)| *n < COURIER_CAPACITY)
            .min_by_key(|(id, n)| (*n, *id))
        else {
            break;
        };
        let minutes = eta_minutes(distance, slot.1);
        sqlx::query!(
            "UPDATE deliveries SET courier_id = ?, status = ?, assigned_at = UTC_TIMESTAMP(6), \
             eta = UTC_TIMESTAMP(6) + INTERVAL ? MINUTE WHERE id = ?",
            slot.0,
            DeliveryStatus::Assigned,
            minutes,
            delivery,
        )
        .execute(&mut **tx)
        .await?;
        promise_eta(tx, delivery).await?;
        slot.1 += 1;
        assigned += 1;
    }
    Ok(assigned)
}

/// The customer's promise becomes the courier's ETA (never before a
/// pre-order's slot).
pub async fn promise_eta(
    tx: &mut Transaction<'_, MySql>,
    delivery: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE orders o JOIN deliveries d ON d.order_id = o.id \
         SET o.promised_at = GREATEST(COALESCE(o.slot_at, d.eta), d.eta) \
         WHERE d.id = ? AND d.eta IS NOT NULL",
        delivery,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_grows_with_distance_and_the_courier_s_load() {
        assert_eq!(eta_minutes(Some(0), 0), HANDOVER_MINUTES);
        assert_eq!(eta_minutes(Some(2_500), 0), 10 + HANDOVER_MINUTES);
        assert_eq!(eta_minutes(Some(2_501), 0), 11 + HANDOVER_MINUTES);
        assert_eq!(
            eta_minutes(Some(2_500), 2),
            10 + HANDOVER_MINUTES + 2 * MINUTES_PER_EARLIER_DELIVERY
        );
        // No distance known: a typical 3 km.
        assert_eq!(eta_minutes(None, 0), 12 + HANDOVER_MINUTES);
    }

    #[test]
    fn a_delivery_keeps_the_order_s_distance_or_measures_it() {
        let shop = Coordinates {
            latitude: 48.8566,
            longitude: 2.3522,
        };
        let door = Coordinates {
            latitude: 48.8666,
            longitude: 2.3522,
        };
        assert_eq!(
            delivery_distance_m(Some(1_234), shop, Some(door)),
            Some(1_234)
        );
        // 0.01° of latitude is about 1 112 m.
        let measured = delivery_distance_m(None, shop, Some(door));
        assert!(
            measured.is_some_and(|m| (1_100..1_125).contains(&m)),
            "{measured:?}"
        );
        assert_eq!(delivery_distance_m(None, shop, None), None);
    }
}
