//! Lists of orders: a customer's own, and a pizzeria's for its staff (the
//! last 24 hours, a caller's whole history by phone, or the manager's search
//! by day, number and name), narrowed by status, newest first, at most 100.

use crate::order::{Channel, Fulfilment, OrderStatus, PaymentMethod};
use crate::platform::ids::{OrderId, PizzeriaId, UserId};
use chrono::NaiveDateTime;
use sqlx::MySqlPool;

/// Whose orders.
#[derive(Debug, Clone)]
pub enum Scope {
    /// A customer's own orders, of any age.
    Customer(UserId),
    /// A pizzeria's orders of the last 24 hours.
    PizzeriaToday(PizzeriaId),
    /// A pizzeria's orders from this phone number (E.164), of any age.
    PizzeriaByPhone(PizzeriaId, String),
    /// The manager's search: a pizzeria's orders created in `[from, to)`
    /// (UTC), whose number is `text` or whose customer's name contains it.
    PizzeriaSearch {
        pizzeria: PizzeriaId,
        from: NaiveDateTime,
        to: NaiveDateTime,
        text: Option<String>,
    },
}

/// One line of an order list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderSummary {
    pub id: OrderId,
    pub number: String,
    pub status: OrderStatus,
    pub pizzeria_id: PizzeriaId,
    pub channel: Channel,
    pub fulfilment: Fulfilment,
    pub payment_method: PaymentMethod,
    pub total_cents: i64,
    pub contact_name: String,
    pub contact_phone: String,
    pub created_at: NaiveDateTime,
}

/// The most a list holds.
pub const LIMIT: i64 = 100;

/// The orders of this scope, with this status if given, newest first.
pub async fn list(
    pool: &MySqlPool,
    scope: &Scope,
    status: Option<OrderStatus>,
) -> Result<Vec<OrderSummary>, sqlx::Error> {
    // One static statement per scope, with or without the status: each is
    // checked at compile time and keeps its own index.
    macro_rules! select {
        ($filter:tt $(, $arg:expr)*) => {
            sqlx::query_as!(
                OrderSummary,
                "SELECT id AS `id: OrderId`, number, status AS `status: OrderStatus`, \
                    pizzeria_id AS `pizzeria_id: PizzeriaId`, channel AS `channel: Channel`, \
                    fulfilment AS `fulfilment: Fulfilment`, payment_method AS `payment_method: PaymentMethod`, \
                    total_cents, contact_name, contact_phone, created_at FROM orders WHERE "
                    + $filter
                    + " ORDER BY id DESC LIMIT ?",
                $($arg,)*
                LIMIT
            )
            .fetch_all(pool)
            .await
        };
    }
    match (scope, status) {
        (Scope::Customer(user), None) => select!("customer_id = ?", user.0),
        (Scope::Customer(user), Some(status)) => {
            select!("customer_id = ? AND status = ?", user.0, status)
        }
        (Scope::PizzeriaToday(pizzeria), None) => select!(
            "pizzeria_id = ? AND created_at >= UTC_TIMESTAMP(6) - INTERVAL 1 DAY",
            pizzeria.0
        ),
        (Scope::PizzeriaToday(pizzeria), Some(status)) => select!(
            "pizzeria_id = ? AND created_at >= UTC_TIMESTAMP(6) - INTERVAL 1 DAY AND status = ?",
            pizzeria.0,
            status
        ),
        // Through ix_orders_phone: checkout stores the number in E.164.
        (Scope::PizzeriaByPhone(pizzeria, e164), None) => {
            select!("pizzeria_id = ? AND contact_phone = ?", pizzeria.0, e164)
        }
        (Scope::PizzeriaByPhone(pizzeria, e164), Some(status)) => select!(
            "pizzeria_id = ? AND contact_phone = ? AND status = ?",
            pizzeria.0,
            e164,
            status
        ),
        // Through ix_orders_pizzeria_created; the text is a number (exact)
        // or part of a name (`%`, `_` and `\` typed are matched as such).
        (
            Scope::PizzeriaSearch {
                pizzeria,
                from,
                to,
                text,
            },
            status,
        ) => {
            let number = text.as_deref().map(|t| t.to_uppercase());
            let name = text.as_deref().map(|t| {
                let escaped = t
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                format!("%{escaped}%")
            });
            select!(
                "pizzeria_id = ? AND created_at >= ? AND created_at < ? AND (? IS NULL OR status = ?) \
                 AND (? IS NULL OR number = ? OR contact_name LIKE ?)",
                pizzeria.0,
                from,
                to,
                status,
                status,
                number,
                number,
                name
            )
        }
    }
}
