//! Getting an order to the customer's door: where an address is, which
//! pizzerias deliver there and how far (`geo`), the deliveries themselves
//! (`deliveries`: created when a delivery order is ready, picked up,
//! delivered, the lists couriers and managers read), and the choice of a
//! courier with its estimated arrival (`assign`).
//!
//! A delivery's states and their table live here:
//! `waiting → assigned → out_for_delivery → delivered`. A delivery waits until
//! a courier has room; it never goes back nor skips a step. The table is pure
//! so it is tested exhaustively; the handlers check every change against it.

pub mod assign;
pub mod deliveries;
pub mod geo;

use crate::platform::text_enum;

text_enum!(
    /// Where a delivery is in its life (the `deliveries.status` column).
    DeliveryStatus {
        /// Ready at the pizzeria, no courier with room yet.
        Waiting = "waiting",
        /// In a courier's run, not yet taken from the counter.
        Assigned = "assigned",
        /// In the courier's box, on the way.
        OutForDelivery = "out_for_delivery",
        Delivered = "delivered",
    }
);

impl DeliveryStatus {
    /// The transition table: may a delivery go from `self` to `to`?
    pub fn can_become(self, to: DeliveryStatus) -> bool {
        use DeliveryStatus::*;
        matches!(
            (self, to),
            (Waiting, Assigned) | (Assigned, OutForDelivery) | (OutForDelivery, Delivered)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::DeliveryStatus::{self, *};

    #[test]
    fn a_delivery_moves_one_step_forward_at_a_time() {
        let allowed = [
            (Waiting, Assigned),
            (Assigned, OutForDelivery),
            (OutForDelivery, Delivered),
        ];
        for &from in DeliveryStatus::ALL {
            for &to in DeliveryStatus::ALL {
                assert_eq!(
                    DeliveryStatus::can_become(from, to),
                    allowed.contains(&(from, to)),
                    "{from} → {to}"
                );
            }
        }
    }

    #[test]
    fn nothing_leaves_delivered_and_nothing_stays_put() {
        for &to in DeliveryStatus::ALL {
            assert!(!Delivered.can_become(to), "delivered → {to}");
        }
        for &s in DeliveryStatus::ALL {
            assert!(!s.can_become(s), "{s} → {s}");
        }
    }

    #[test]
    fn every_state_is_reachable_from_waiting() {
        let mut seen = vec![Waiting];
        let mut current = Waiting;
        while let Some(&next) = DeliveryStatus::ALL
            .iter()
            .find(|&&to| current.can_become(to))
        {
            seen.push(next);
            current = next;
        }
        assert_eq!(seen, DeliveryStatus::ALL);
    }

    #[test]
    fn the_names_are_those_of_the_table_and_the_json() {
        // ck_deliveries_status in migrations/…_kitchen_delivery.sql.
        let names: Vec<&str> = DeliveryStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            ["waiting", "assigned", "out_for_delivery", "delivered"]
        );
        for &s in DeliveryStatus::ALL {
            assert_eq!(s.as_str().parse::<DeliveryStatus>(), Ok(s));
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::Value::from(s.as_str()))
            );
        }
        assert!("cancelled".parse::<DeliveryStatus>().is_err());
    }
}
