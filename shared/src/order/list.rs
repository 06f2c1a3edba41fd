//! Lists of orders: a customer's own, and a pizzeria's for its staff (the
//! last 24 hours, or a caller's whole history by phone), narrowed by status,
//! newest first, at most 100.

use crate::order::{Channel, Fulfilment, OrderStatus, PaymentMethod};
use crate::platform::ids::{OrderId, PizzeriaId, UserId};
use chrono::NaiveDateTime;
use sqlx::{MySql, MySqlPool, QueryBuilder};

/// Whose orders.
#[derive(Debug, Clone)]
pub enum Scope {
    /// A customer's own orders, of any age.
    Customer(UserId),
    /// A pizzeria's orders of the last 24 hours.
    PizzeriaToday(PizzeriaId),
    /// A pizzeria's orders from this phone number (E.164), of any age.
    PizzeriaByPhone(PizzeriaId, String),
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
    let mut sql = QueryBuilder::<MySql>::new(
        "SELECT id, number, status, pizzeria_id, channel, fulfilment, payment_method, total_cents, \
         contact_name, contact_phone, created_at FROM orders WHERE ",
    );
    match scope {
        Scope::Customer(user) => {
            sql.push("customer_id = ").push_bind(user.0);
        }
        Scope::PizzeriaToday(pizzeria) => {
            sql.push("pizzeria_id = ")
                .push_bind(pizzeria.0)
                .push(" AND created_at >= UTC_TIMESTAMP(6) - INTERVAL 1 DAY");
        }
        // Through ix_orders_phone: checkout stores the number in E.164.
        Scope::PizzeriaByPhone(pizzeria, e164) => {
            sql.push("pizzeria_id = ")
                .push_bind(pizzeria.0)
                .push(" AND contact_phone = ")
                .push_bind(e164.clone());
        }
    }
    if let Some(status) = status {
        sql.push(" AND status = ").push_bind(status);
    }
    sql.push(" ORDER BY id DESC LIMIT ").push_bind(LIMIT);
    sql.build_query_as().fetch_all(pool).await
}
