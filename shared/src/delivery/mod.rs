//! Getting an order to the customer's door: where an address is, which
//! pizzerias deliver there and how far (`geo`), the deliveries themselves
//! (`deliveries`: created when a delivery order is ready, picked up,
//! delivered, the lists couriers and managers read), and the choice of a
//! courier with its estimated arrival (`assign`).
//!
//! A delivery's states and their table live here:
//! `waiting → assigned → out_for_delivery → delivered`, or `failed` at the
//! door; `cancelled` from any step before the door when its order is voided.
//! A delivery waits until
//! a courier on shift has room; it goes back to waiting only when its courier
//! ends their shift before picking it up (`shifts`), and never skips a step. The table is pure
//! so it is tested exhaustively; the handlers check every change against it.

pub mod assign;
pub mod deliveries;
pub mod geo;
pub mod shifts;

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
        /// The courier could not hand it over (`deliveries.failure` says why).
        Failed = "failed",
        /// Its order was voided.
        Cancelled = "cancelled",
    }
);

text_enum!(
    /// Why a courier could not hand an order over.
    FailureReason {
        /// Nobody answered.
        Absent = "absent",
        AddressNotFound = "address_not_found",
        /// The customer refused the order at the door.
        Refused = "refused",
    }
);

impl FailureReason {
    /// As the history and the screens say it.
    pub fn french(self) -> &'static str {
        match self {
            FailureReason::Absent => "client absent",
            FailureReason::AddressNotFound => "adresse introuvable",
            FailureReason::Refused => "commande refusée",
        }
    }
}

impl DeliveryStatus {
    /// The transition table: may a delivery go from `self` to `to`?
    pub fn can_become(self, to: DeliveryStatus) -> bool {
        use DeliveryStatus::*;
        matches!(
            (self, to),
            (Waiting, Assigned)
                | (Assigned, OutForDelivery)
                | (OutForDelivery, Delivered)
                // Given back when its courier's shift ends.
                | (Assigned, Waiting)
                | (OutForDelivery, Failed)
                | (Waiting | Assigned | OutForDelivery, Cancelled)
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
            (Assigned, Waiting),
            (OutForDelivery, Failed),
            (Waiting, Cancelled),
            (Assigned, Cancelled),
            (OutForDelivery, Cancelled),
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
            for end in [Delivered, Failed, Cancelled] {
                assert!(!end.can_become(to), "{end} → {to}");
            }
        }
        for &s in DeliveryStatus::ALL {
            assert!(!s.can_become(s), "{s} → {s}");
        }
    }

    #[test]
    fn every_state_is_reachable_from_waiting_and_delivered_ends_it() {
        let mut seen = vec![Waiting];
        let mut i = 0;
        while let Some(&from) = seen.get(i) {
            for &to in DeliveryStatus::ALL {
                if from.can_become(to) && !seen.contains(&to) {
                    seen.push(to);
                }
            }
            i += 1;
        }
        seen.sort_by_key(|s| DeliveryStatus::ALL.iter().position(|a| a == s));
        assert_eq!(seen, DeliveryStatus::ALL);
        // The only way back is a shift ending before the pickup.
        for &from in DeliveryStatus::ALL {
            for &to in DeliveryStatus::ALL {
                let back = DeliveryStatus::ALL.iter().position(|&s| s == to)
                    < DeliveryStatus::ALL.iter().position(|&s| s == from);
                if back && from.can_become(to) {
                    assert_eq!((from, to), (Assigned, Waiting));
                }
            }
        }
    }

    #[test]
    fn the_names_are_those_of_the_table_and_the_json() {
        // ck_deliveries_status in migrations/…_order_exceptions.sql.
        let names: Vec<&str> = DeliveryStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "waiting",
                "assigned",
                "out_for_delivery",
                "delivered",
                "failed",
                "cancelled"
            ]
        );
        for &s in DeliveryStatus::ALL {
            assert_eq!(s.as_str().parse::<DeliveryStatus>(), Ok(s));
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::Value::from(s.as_str()))
            );
        }
        assert!("shipped".parse::<DeliveryStatus>().is_err());
    }
}
