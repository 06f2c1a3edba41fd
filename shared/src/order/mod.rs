//! The order: its states and the table of allowed transitions (here), how it
//! is priced and what a cart may hold (`pricing`), its creation and every
//! status change with their side effects (`lifecycle`), the money rule that
//! gates the kitchen (`money_rule`), the e-mails its life sends (`notify`),
//! what it counts in the revenue summaries (`revenue`), and the document
//! customers and staff read (`view`).
//!
//! `pending_payment → placed → preparing → ready → out_for_delivery → delivered`,
//! or `ready → picked_up` for pickup; `cancelled` from `pending_payment` or
//! `placed` only. After the kitchen starts, what goes wrong has its own final
//! statuses (`crate::exceptions`): `out_for_delivery → failed_delivery`,
//! `ready → no_show` (pickup), and `preparing | ready | out_for_delivery →
//! voided`. The table is pure so it is tested exhaustively; the handlers
//! check every change against it and against the caller's role.

pub mod create;
pub mod lifecycle;
pub mod list;
pub mod money_rule;
pub mod notify;
pub mod pricing;
pub mod promise;
pub mod revenue;
pub mod view;

use crate::identity::role::Role;
use crate::platform::text_enum;

text_enum!(
    /// Where an order is in its life.
    OrderStatus {
        /// Card order waiting for Stripe; its stock is reserved until it expires.
        PendingPayment = "pending_payment",
        /// Paid or to be paid in cash: on its way to the kitchen.
        Placed = "placed",
        /// The pizzaiolo started it: no more changes by the customer.
        Preparing = "preparing",
        Ready = "ready",
        OutForDelivery = "out_for_delivery",
        Delivered = "delivered",
        PickedUp = "picked_up",
        Cancelled = "cancelled",
        /// The courier could not hand it over (nobody home, address not
        /// found, refused): nothing collected, the manager decides a refund.
        FailedDelivery = "failed_delivery",
        /// A pickup nobody came for, marked by a manager after a delay.
        NoShow = "no_show",
        /// Called off by a manager after the kitchen started: refunded, its
        /// ingredients recorded as waste.
        Voided = "voided",
    }
);

text_enum!(
    /// Delivered by a courier, or collected at the counter.
    Fulfilment {
        Delivery = "delivery",
        Pickup = "pickup",
    }
);

text_enum!(
    /// Where the order came from.
    Channel {
        Web = "web",
        Phone = "phone",
        Counter = "counter",
    }
);

text_enum!(
    /// How the customer pays.
    PaymentMethod {
        /// Online through Stripe.
        Card = "card",
        /// On delivery or at the counter.
        Cash = "cash",
    }
);

/// Paid online through Stripe: a web order by card. Staff orders by card
/// are paid on the pizzeria's terminal, at the counter. The one place this is
/// decided: checkout, the lifecycle's money rule and settlement all ask here.
pub fn pays_online(channel: Channel, payment_method: PaymentMethod) -> bool {
    payment_method == PaymentMethod::Card && channel == Channel::Web
}

/// Who asks for a transition: a signed-in role, or the system itself
/// (payment events, the expiry sweep, queue consumers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    User(Role),
    System,
}

/// Why a transition was refused. The first is a 409 at the edge, the second a 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("an order cannot go from {from} to {to}")]
    NotAllowed { from: OrderStatus, to: OrderStatus },
    #[error("this role may not move an order to {to}")]
    Forbidden { to: OrderStatus },
}

impl OrderStatus {
    /// Finished orders change no more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::Delivered
                | OrderStatus::PickedUp
                | OrderStatus::Cancelled
                | OrderStatus::FailedDelivery
                | OrderStatus::NoShow
                | OrderStatus::Voided
        )
    }

    /// Finished with the food handed over or lost, and money possibly kept:
    /// a manager may give some back (a goodwill refund).
    pub fn is_refundable(self) -> bool {
        matches!(
            self,
            OrderStatus::Delivered
                | OrderStatus::PickedUp
                | OrderStatus::FailedDelivery
                | OrderStatus::NoShow
        )
    }

    /// Ended without reaching its customer (cancelled, voided, a failed
    /// delivery, not collected): nothing more is due on it.
    pub fn nothing_due(self) -> bool {
        matches!(
            self,
            OrderStatus::Cancelled
                | OrderStatus::Voided
                | OrderStatus::FailedDelivery
                | OrderStatus::NoShow
        )
    }

    /// The customer may still modify or cancel.
    pub fn is_changeable(self) -> bool {
        matches!(self, OrderStatus::PendingPayment | OrderStatus::Placed)
    }

    /// The transition table: may an order of this fulfilment go from `self` to `to`?
    pub fn can_become(self, to: OrderStatus, fulfilment: Fulfilment) -> bool {
        use OrderStatus::*;
        match (self, to) {
            (PendingPayment, Placed) | (PendingPayment, Cancelled) => true,
            (Placed, Preparing) | (Placed, Cancelled) => true,
            // A paid card order made bigger waits for the difference.
            (Placed, PendingPayment) => true,
            (Preparing, Ready) => true,
            (Ready, OutForDelivery) => fulfilment == Fulfilment::Delivery,
            (OutForDelivery, Delivered) => fulfilment == Fulfilment::Delivery,
            (Ready, PickedUp) => fulfilment == Fulfilment::Pickup,
            // What goes wrong once the kitchen has started.
            (OutForDelivery, FailedDelivery) => fulfilment == Fulfilment::Delivery,
            (Ready, NoShow) => fulfilment == Fulfilment::Pickup,
            (Preparing | Ready, Voided) => true,
            (OutForDelivery, Voided) => fulfilment == Fulfilment::Delivery,
            _ => false,
        }
    }

    /// May `actor` make an order enter `to` (given the table allows it)?
    fn may_enter(to: OrderStatus, actor: Actor) -> bool {
        use OrderStatus::*;
        use Role::*;
        let role = match actor {
            // Payment events, the sweep and consumers drive the machine.
            Actor::System => return true,
            Actor::User(role) => role,
        };
        match to {
            PendingPayment => false,
            // A counter payment taken by staff places the order.
            Placed => matches!(role, Cashier | Manager | Admin),
            Preparing | Ready => matches!(role, Pizzaiolo | Manager | Admin),
            OutForDelivery | Delivered => matches!(role, Courier | Manager | Admin),
            PickedUp => matches!(role, Cashier | Manager | Admin),
            Cancelled => matches!(role, Customer | Cashier | Manager | Admin),
            FailedDelivery => matches!(role, Courier | Manager | Admin),
            NoShow => matches!(role, Manager | Admin),
            // A cashier only for their own phone order: checked where the
            // order's author is known (`exceptions::may_void`).
            Voided => matches!(role, Cashier | Manager | Admin),
        }
    }

    /// Checks a requested change: the table first (409), then the actor (403).
    pub fn transition(
        self,
        to: OrderStatus,
        fulfilment: Fulfilment,
        actor: Actor,
    ) -> Result<OrderStatus, TransitionError> {
        if !self.can_become(to, fulfilment) {
            return Err(TransitionError::NotAllowed { from: self, to });
        }
        if !OrderStatus::may_enter(to, actor) {
            return Err(TransitionError::Forbidden { to });
        }
        Ok(to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    /// Every allowed (from, to, fulfilment); everything else is forbidden.
    const ALLOWED: &[(OrderStatus, OrderStatus, Fulfilment)] = &[
        (PendingPayment, Placed, Fulfilment::Delivery),
        (PendingPayment, Placed, Fulfilment::Pickup),
        (PendingPayment, Cancelled, Fulfilment::Delivery),
        (PendingPayment, Cancelled, Fulfilment::Pickup),
        (Placed, Preparing, Fulfilment::Delivery),
        (Placed, Preparing, Fulfilment::Pickup),
        (Placed, Cancelled, Fulfilment::Delivery),
        (Placed, Cancelled, Fulfilment::Pickup),
        (Placed, PendingPayment, Fulfilment::Delivery),
        (Placed, PendingPayment, Fulfilment::Pickup),
        (Preparing, Ready, Fulfilment::Delivery),
        (Preparing, Ready, Fulfilment::Pickup),
        (Ready, OutForDelivery, Fulfilment::Delivery),
        (OutForDelivery, Delivered, Fulfilment::Delivery),
        (Ready, PickedUp, Fulfilment::Pickup),
        (OutForDelivery, FailedDelivery, Fulfilment::Delivery),
        (Ready, NoShow, Fulfilment::Pickup),
        (Preparing, Voided, Fulfilment::Delivery),
        (Preparing, Voided, Fulfilment::Pickup),
        (Ready, Voided, Fulfilment::Delivery),
        (Ready, Voided, Fulfilment::Pickup),
        (OutForDelivery, Voided, Fulfilment::Delivery),
    ];

    #[test]
    fn transition_table_is_exactly_the_design() {
        let mut checked = 0;
        for &from in OrderStatus::ALL {
            for &to in OrderStatus::ALL {
                for &f in Fulfilment::ALL {
                    let expected = ALLOWED.contains(&(from, to, f));
                    assert_eq!(from.can_become(to, f), expected, "{from} → {to} ({f})");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 11 * 11 * 2);
    }

    #[test]
    fn final_states_go_nowhere() {
        for &from in OrderStatus::ALL.iter().filter(|s| s.is_final()) {
            for &to in OrderStatus::ALL {
                for &f in Fulfilment::ALL {
                    assert!(!from.can_become(to, f), "{from} → {to}");
                }
            }
        }
    }

    #[test]
    fn only_pending_and_placed_orders_can_be_cancelled_or_changed() {
        for &s in OrderStatus::ALL {
            let cancellable = s.can_become(Cancelled, Fulfilment::Delivery);
            assert_eq!(cancellable, s.is_changeable(), "{s}");
        }
    }

    #[test]
    fn forbidden_transition_is_refused_before_the_role_is_considered() {
        let err = Preparing
            .transition(Cancelled, Fulfilment::Pickup, Actor::User(Role::Admin))
            .unwrap_err();
        assert_eq!(
            err,
            TransitionError::NotAllowed {
                from: Preparing,
                to: Cancelled
            }
        );
    }

    #[test]
    fn roles_per_target_state() {
        use Role::*;
        let cases: &[(OrderStatus, OrderStatus, Fulfilment, &[Role])] = &[
            (
                PendingPayment,
                Placed,
                Fulfilment::Pickup,
                &[Cashier, Manager, Admin],
            ),
            (
                Placed,
                Preparing,
                Fulfilment::Pickup,
                &[Pizzaiolo, Manager, Admin],
            ),
            (
                Preparing,
                Ready,
                Fulfilment::Delivery,
                &[Pizzaiolo, Manager, Admin],
            ),
            (
                Ready,
                OutForDelivery,
                Fulfilment::Delivery,
                &[Courier, Manager, Admin],
            ),
            (
                OutForDelivery,
                Delivered,
                Fulfilment::Delivery,
                &[Courier, Manager, Admin],
            ),
            (
                Ready,
                PickedUp,
                Fulfilment::Pickup,
                &[Cashier, Manager, Admin],
            ),
            (
                Placed,
                Cancelled,
                Fulfilment::Delivery,
                &[Customer, Cashier, Manager, Admin],
            ),
            (
                OutForDelivery,
                FailedDelivery,
                Fulfilment::Delivery,
                &[Courier, Manager, Admin],
            ),
            (Ready, NoShow, Fulfilment::Pickup, &[Manager, Admin]),
            (
                Preparing,
                Voided,
                Fulfilment::Pickup,
                &[Cashier, Manager, Admin],
            ),
        ];
        for &(from, to, f, allowed) in cases {
            for role in Role::ALL {
                let result = from.transition(to, f, Actor::User(role));
                if allowed.contains(&role) {
                    assert_eq!(result, Ok(to), "{role} {from} → {to}");
                } else {
                    assert_eq!(
                        result,
                        Err(TransitionError::Forbidden { to }),
                        "{role} {from} → {to}"
                    );
                }
            }
            assert_eq!(from.transition(to, f, Actor::System), Ok(to));
        }
    }

    #[test]
    fn text_round_trip() {
        for &s in OrderStatus::ALL {
            assert_eq!(s.as_str().parse::<OrderStatus>(), Ok(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        assert!("shipped".parse::<OrderStatus>().is_err());
    }
}
