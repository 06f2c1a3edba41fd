//! Who may do what: the one place that decides, deny by default.
//!
//! Every staff endpoint names an [`Action`]; [`check`] says whether a caller
//! may do it in a pizzeria. The admin may do everything everywhere; other
//! staff only what their role allows, only in their own pizzeria; customers
//! act only on their own orders (checked where the order is read: the
//! `orders` function), guests only with an order's tracking token. Which role
//! may move an order to which status is the transition table's business
//! (`order.rs`), checked in the same transaction as the change.
//!
//! The role × endpoint matrix of `docs/architecture.md` ("Who may do what")
//! is generated from [`Action::ALL`] and a test keeps the two equal.

use crate::identity::auth::Caller;
use crate::identity::role::Role;
use crate::platform::http::ApiError;
use crate::platform::ids::PizzeriaId;

/// What staff do through the functions' endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// checkout `POST /orders` with `channel: phone|counter`.
    TakePhoneOrCounterOrder,
    /// orders `POST /orders/{id}/payments`, `payment` with `picked_up`.
    CollectAtCounter,
    /// orders `GET /orders` for a pizzeria (`?phone=`, `?status=`).
    ListPizzeriaOrders,
    /// orders `GET /orders/{id}` of the pizzeria (without its token).
    ReadPizzeriaOrder,
    /// orders `PATCH /orders/{id}`, `POST /orders/{id}/cancel` of the
    /// pizzeria (without its token): the customer's changes, taken by phone.
    ChangePizzeriaOrder,
    /// orders `POST /orders/{id}/void`: calls an order off at any stage
    /// before the customer has it (a cashier: only the phone orders they took).
    VoidOrder,
    /// orders `POST /orders/{id}/no-show`: a pickup never collected.
    MarkNoShow,
    /// orders `POST /orders/{id}/refund`: a goodwill refund once it ended.
    RefundOrder,
    /// kitchen `GET /pizzerias/{id}/tickets`.
    KitchenDisplay,
    /// kitchen `POST /tickets/{id}/start|ready`.
    WorkTicket,
    /// kitchen `POST /tickets/{id}/remake`: a line made again, its
    /// ingredients recorded as waste.
    RemakeLine,
    /// kitchen `GET /recipes/{id}`.
    ReadRecipe,
    /// delivery `GET /deliveries`: a courier's own run.
    OwnDeliveries,
    /// delivery `GET /deliveries?pizzeria_id=`: all of a pizzeria's.
    PizzeriaDeliveries,
    /// delivery `POST /deliveries/{id}/pickup|delivered|failed` (a courier:
    /// their own).
    WorkDelivery,
    /// delivery `GET/POST/DELETE /shift`: a courier's own shift.
    CourierShift,
    /// delivery `GET /couriers`, `POST /deliveries/{id}/courier`: who is on
    /// shift, and a delivery not yet picked up given to another courier.
    AssignCourier,
    /// accounts `POST /staff`, `GET /staff`, `POST /staff/{id}/deactivate`
    /// (a manager: cashiers, pizzaiolos and couriers only).
    ManageStaff,
    /// accounts `POST /staff/{id}/unlock`: lifts a sign-in lock (a manager:
    /// their pizzeria's cashiers, pizzaiolos and couriers; the admin: anyone).
    UnlockStaff,
    /// backoffice `GET/POST/PATCH /pizzerias/{id}/stock…`.
    ManageStock,
    /// backoffice `/pizzerias/{id}/hours`, `/special-days/{date}`, `/pause`:
    /// when the pizzeria takes orders.
    ManagePizzeria,
    /// backoffice `POST /pizzerias`, `PATCH /pizzerias/{id}` (name, address,
    /// status): a new pizzeria of the group.
    OpenPizzeria,
    /// backoffice `GET /products`, `GET /ingredients`, `GET /categories`,
    /// `GET /extras`; photos `GET /photos`.
    ReadProducts,
    /// backoffice `POST /products`, `PATCH /products/{id}`, `POST
    /// /ingredients`, `POST /categories`, and what the choices are made of:
    /// `PUT /ingredients/{id}/allergens`, `PUT /products/{id}/sizes`, `PUT
    /// /extras`. The group's menu; and its photos: photos `PUT/DELETE
    /// /products/{id}/photo`.
    EditMenu,
    /// backoffice `PUT/DELETE /pizzerias/{id}/products/{id}/unavailable`.
    MenuExclusion,
    /// backoffice `GET /reports/revenue?pizzeria_id=`.
    PizzeriaRevenue,
    /// backoffice `GET /reports/revenue?pizzeria_id=all` (or no
    /// `pizzeria_id`): every pizzeria of the group.
    GroupRevenue,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::TakePhoneOrCounterOrder,
        Action::CollectAtCounter,
        Action::ListPizzeriaOrders,
        Action::ReadPizzeriaOrder,
        Action::ChangePizzeriaOrder,
        Action::VoidOrder,
        Action::MarkNoShow,
        Action::RefundOrder,
        Action::KitchenDisplay,
        Action::WorkTicket,
        Action::RemakeLine,
        Action::ReadRecipe,
        Action::OwnDeliveries,
        Action::PizzeriaDeliveries,
        Action::WorkDelivery,
        Action::CourierShift,
        Action::AssignCourier,
        Action::ManageStaff,
        Action::UnlockStaff,
        Action::ManageStock,
        Action::ManagePizzeria,
        Action::OpenPizzeria,
        Action::ReadProducts,
        Action::EditMenu,
        Action::MenuExclusion,
        Action::PizzeriaRevenue,
        Action::GroupRevenue,
    ];

    /// The roles allowed besides the admin — the matrix.
    pub fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Action::TakePhoneOrCounterOrder => &[Cashier, Manager],
            Action::CollectAtCounter => &[Cashier, Manager],
            Action::ListPizzeriaOrders => &[Cashier, Manager],
            Action::ReadPizzeriaOrder => &[Cashier, Pizzaiolo, Courier, Manager],
            Action::ChangePizzeriaOrder => &[Cashier, Manager],
            Action::VoidOrder => &[Cashier, Manager],
            Action::MarkNoShow | Action::RefundOrder => &[Manager],
            Action::KitchenDisplay => &[Pizzaiolo, Manager],
            Action::WorkTicket | Action::RemakeLine => &[Pizzaiolo, Manager],
            Action::ReadRecipe => &[Cashier, Pizzaiolo, Courier, Manager],
            Action::OwnDeliveries => &[Courier],
            Action::PizzeriaDeliveries => &[Manager],
            Action::WorkDelivery => &[Courier, Manager],
            Action::CourierShift => &[Courier],
            Action::AssignCourier => &[Manager],
            Action::ManageStaff => &[Manager],
            Action::UnlockStaff => &[Manager],
            Action::ManageStock => &[Manager],
            Action::ManagePizzeria => &[Manager],
            Action::ReadProducts => &[Manager],
            Action::EditMenu | Action::GroupRevenue | Action::OpenPizzeria => &[],
            Action::MenuExclusion => &[Manager],
            Action::PizzeriaRevenue => &[Manager],
        }
    }

    /// The endpoint, as the matrix in `docs/architecture.md` shows it.
    pub fn endpoint(self) -> &'static str {
        match self {
            Action::TakePhoneOrCounterOrder => {
                "checkout `POST /orders` (phone, counter), `GET /customers?phone=`"
            }
            Action::CollectAtCounter => "orders `POST /orders/{id}/payments`",
            Action::ListPizzeriaOrders => "orders `GET /orders?pizzeria_id=`",
            Action::ReadPizzeriaOrder => "orders `GET /orders/{id}` (no token)",
            Action::ChangePizzeriaOrder => {
                "orders `PATCH /orders/{id}`, `POST /orders/{id}/cancel` (no token)"
            }
            Action::VoidOrder => "orders `POST /orders/{id}/void` (a cashier: own phone orders)",
            Action::MarkNoShow => "orders `POST /orders/{id}/no-show`",
            Action::RefundOrder => "orders `POST /orders/{id}/refund`",
            Action::KitchenDisplay => "kitchen `GET /pizzerias/{id}/tickets`",
            Action::WorkTicket => "kitchen `POST /tickets/{id}/start\\|ready`",
            Action::RemakeLine => "kitchen `POST /tickets/{id}/remake`",
            Action::ReadRecipe => "kitchen `GET /recipes/{id}`",
            Action::OwnDeliveries => "delivery `GET /deliveries` (a courier's own run)",
            Action::PizzeriaDeliveries => {
                "delivery `GET /deliveries` (a pizzeria's, `?pizzeria_id=` for the admin)"
            }
            Action::WorkDelivery => "delivery `POST /deliveries/{id}/pickup\\|delivered\\|failed`",
            Action::CourierShift => "delivery `GET/POST/DELETE /shift`",
            Action::AssignCourier => "delivery `GET /couriers`, `POST /deliveries/{id}/courier`",
            Action::ManageStaff => {
                "accounts `POST /staff`, `GET /staff`, `POST /staff/{id}/deactivate`"
            }
            Action::UnlockStaff => "accounts `POST /staff/{id}/unlock`",
            Action::ManageStock => "backoffice `/pizzerias/{id}/stock…`",
            Action::ManagePizzeria => {
                "backoffice `/pizzerias/{id}/hours`, `/special-days/{date}`, `/pause`, `PATCH /pizzerias/{id}`"
            }
            Action::OpenPizzeria => "backoffice `POST /pizzerias`, `PATCH /pizzerias/{id}` (who, where)",
            Action::ReadProducts => {
                "backoffice `GET /products`, `GET /ingredients`, `GET /categories`, `GET /extras`; photos `GET /photos`"
            }
            Action::EditMenu => {
                "backoffice `POST /products\\|/ingredients\\|/categories`, `PATCH /products/{id}`, `PUT /ingredients/{id}/allergens`, `PUT /products/{id}/sizes`, `PUT /extras`; photos `PUT\\|DELETE /products/{id}/photo`"
            }
            Action::MenuExclusion => {
                "backoffice `PUT\\|DELETE /pizzerias/{id}/products/{id}/unavailable`"
            }
            Action::PizzeriaRevenue => "backoffice `GET /reports/revenue?pizzeria_id=`",
            Action::GroupRevenue => {
                "backoffice `GET /reports/revenue?pizzeria_id=all` (all pizzerias)"
            }
        }
    }

    fn what(self) -> &'static str {
        match self {
            Action::TakePhoneOrCounterOrder => "take phone or counter orders",
            Action::CollectAtCounter => "record payments at the counter",
            Action::ListPizzeriaOrders => "list the pizzeria's orders",
            Action::ReadPizzeriaOrder => "read the pizzeria's orders",
            Action::ChangePizzeriaOrder => "change or cancel the pizzeria's orders",
            Action::VoidOrder => "void orders",
            Action::MarkNoShow => "mark pickups not collected",
            Action::RefundOrder => "refund orders",
            Action::KitchenDisplay => "see the kitchen display",
            Action::WorkTicket => "start or finish kitchen tickets",
            Action::RemakeLine => "remake pizzas",
            Action::ReadRecipe => "read recipe cards",
            Action::OwnDeliveries => "have deliveries",
            Action::PizzeriaDeliveries => "see the pizzeria's deliveries",
            Action::WorkDelivery => "pick up or deliver orders, or record a failed delivery",
            Action::CourierShift => "start or end a courier's shift",
            Action::AssignCourier => "give deliveries to couriers",
            Action::ManageStaff => "manage staff accounts",
            Action::UnlockStaff => "unlock staff sign-ins",
            Action::ManageStock => "manage stock",
            Action::ManagePizzeria => "set the pizzeria's hours or pause its online orders",
            Action::OpenPizzeria => "open a pizzeria or change who and where it is",
            Action::ReadProducts => "read the products",
            Action::EditMenu => "change the group's menu",
            Action::MenuExclusion => "take products off a pizzeria's menu",
            Action::PizzeriaRevenue => "read a pizzeria's revenue",
            Action::GroupRevenue => "read all pizzerias' revenue",
        }
    }

    /// May this role do it at all (anywhere)?
    pub fn allows(self, role: Role) -> bool {
        // The admin does everything, but has no shift to start.
        (role == Role::Admin && self != Action::CourierShift) || self.roles().contains(&role)
    }
}

/// May `caller` do `action` in `pizzeria`? 401 without a session, 403 for a
/// role that may not or for staff of another pizzeria.
pub fn check(
    caller: Option<&Caller>,
    action: Action,
    pizzeria: PizzeriaId,
) -> Result<&Caller, ApiError> {
    let caller = check_role(caller, action)?;
    if !caller.is_staff_of(pizzeria) {
        return Err(ApiError::forbidden(format!(
            "Your account works in another pizzeria than {pizzeria}."
        )));
    }
    Ok(caller)
}

/// May `caller` do `action` at all — for what belongs to the whole group
/// (recipe cards) or to the caller themself (a courier's own run)?
pub fn check_role(caller: Option<&Caller>, action: Action) -> Result<&Caller, ApiError> {
    let caller = caller.ok_or_else(|| ApiError::unauthorized("Sign in with a staff account."))?;
    if !action.allows(caller.role) {
        return Err(ApiError::forbidden(format!(
            "A {} account may not {}.",
            caller.role,
            action.what()
        )));
    }
    Ok(caller)
}

/// The matrix of `docs/architecture.md`: one row per action, one column per role.
pub fn matrix_markdown() -> String {
    let mut out = String::from("| endpoint |");
    for role in Role::ALL {
        out.push_str(&format!(" {role} |"));
    }
    out.push_str("\n|---|");
    for _ in Role::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    for &action in Action::ALL {
        out.push_str(&format!("| {} |", action.endpoint()));
        for role in Role::ALL {
            let cell = match (action.allows(role), role, action) {
                (false, _, _) => "—",
                (true, Role::Admin, _) => "all",
                // Recipe cards and products are the group's, the same everywhere.
                (true, _, Action::ReadRecipe | Action::ReadProducts) => "yes",
                (true, _, Action::OwnDeliveries | Action::CourierShift)
                | (true, Role::Courier, Action::WorkDelivery) => "own",
                (true, _, _) => "own pizzeria",
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::ids::UserId;

    fn caller(role: Role, pizzeria: Option<i64>) -> Caller {
        Caller {
            user_id: UserId(1),
            role,
            pizzeria_id: pizzeria.map(PizzeriaId),
            token_version: 0,
        }
    }

    #[test]
    fn every_cell_of_the_matrix_in_its_own_and_another_pizzeria() {
        let here = PizzeriaId(1);
        for &action in Action::ALL {
            assert_eq!(
                check(None, action, here).unwrap_err().status(),
                http::StatusCode::UNAUTHORIZED
            );
            for role in Role::ALL {
                let home = match role {
                    Role::Customer | Role::Admin => None,
                    _ => Some(1),
                };
                let mine = caller(role, home);
                let allowed = action.allows(role);
                assert_eq!(
                    check(Some(&mine), action, here).is_ok(),
                    allowed,
                    "{action:?} {role}"
                );
                // Staff of pizzeria 2 never act in pizzeria 1; the admin does.
                let elsewhere = caller(role, home.map(|_| 2));
                assert_eq!(
                    check(Some(&elsewhere), action, here).is_ok(),
                    allowed && role == Role::Admin,
                    "{action:?} {role} from pizzeria 2"
                );
            }
            assert!(!action.allows(Role::Customer), "customers are never staff");
        }
    }

    #[test]
    fn the_architecture_document_shows_this_matrix() {
        let readme = include_str!("../../../docs/architecture.md");
        let expected = matrix_markdown();
        assert!(
            readme.contains(&expected),
            "docs/architecture.md's access matrix is out of date; it should read:\n{expected}"
        );
    }
}
