//! The `deliveries` table: a delivery is created when a delivery order is
//! ready (with the distance from the pizzeria and the cash to collect), is
//! locked with its order for the courier's changes (picked up, delivered with
//! the cash taken at the door), and is read as [`DeliveryView`]: one, an
//! order's, a courier's run, a pizzeria's list. The courier's choice and the
//! arrival estimate are in [`super::assign`].

use super::assign::delivery_distance_m;
use super::geo::Coordinates;
use super::{DeliveryStatus, FailureReason};
use crate::order::lifecycle::{self, OrderHead};
use crate::order::view::StaffContact;
use crate::order::PaymentMethod;
use crate::platform::clock::utc;
use crate::platform::ids::{DeliveryId, OrderId, PizzeriaId, UserId};
use crate::platform::money::Money;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use sqlx::{MySql, MySqlPool, Transaction};

#[derive(Debug, Clone, Serialize)]
pub struct DeliveryAddress {
    pub line1: String,
    pub postcode: String,
    pub city: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Opens the courier's map app on the address.
    pub map_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    pub id: DeliveryId,
    pub order_id: OrderId,
    pub number: String,
    pub pizzeria_id: PizzeriaId,
    /// `waiting`, `assigned`, `out_for_delivery`, `delivered`.
    pub status: DeliveryStatus,
    pub courier_id: Option<UserId>,
    /// Who has it, as the manager's list shows it.
    pub courier_name: Option<String>,
    pub address: Option<DeliveryAddress>,
    /// The customer's door code, floor, intercom.
    pub delivery_instructions: Option<String>,
    pub contact: StaffContact,
    pub payment_method: PaymentMethod,
    pub total_cents: i64,
    pub distance_m: Option<i32>,
    pub eta: Option<DateTime<Utc>>,
    /// Cash the courier takes at the door (0 for card orders).
    pub cash_to_collect_cents: i64,
    pub cash_to_collect: String,
    pub cash_collected_cents: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub picked_up_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// Why the courier could not hand it over (`failed`).
    pub failure: Option<FailureReason>,
    pub failed_at: Option<DateTime<Utc>>,
}

/// A delivery with its order's head, as [`delivery_rows!`] reads it.
struct DeliveryRow {
    id: DeliveryId,
    order_id: OrderId,
    number: String,
    pizzeria_id: PizzeriaId,
    status: DeliveryStatus,
    courier_id: Option<UserId>,
    courier_name: Option<String>,
    address_line1: Option<String>,
    address_postcode: Option<String>,
    address_city: Option<String>,
    delivery_instructions: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    contact_name: String,
    contact_phone: String,
    payment_method: PaymentMethod,
    total_cents: i64,
    distance_m: Option<i32>,
    eta: Option<NaiveDateTime>,
    cash_to_collect_cents: i64,
    cash_collected_cents: Option<i64>,
    created_at: NaiveDateTime,
    assigned_at: Option<NaiveDateTime>,
    picked_up_at: Option<NaiveDateTime>,
    delivered_at: Option<NaiveDateTime>,
    failure: Option<FailureReason>,
    failed_at: Option<NaiveDateTime>,
}

/// The deliveries with their orders, the query's end (`WHERE`, `ORDER BY`)
/// and its arguments given.
///
/// The lists (a pizzeria's, a courier's) show everything still under way and
/// what was delivered in the last 12 hours
/// (`d.status <> 'delivered' OR d.delivered_at > UTC_TIMESTAMP(6) - INTERVAL 12 HOUR`),
/// on the way first, then assigned, waiting, delivered; oldest first within
/// (`ORDER BY FIELD(d.status, ...), d.created_at, d.id`).
macro_rules! delivery_rows {
    ($($tail:literal)+ $(, $arg:expr)*) => {
        sqlx::query_as!(
            DeliveryRow,
            "SELECT d.id AS `id: DeliveryId`, d.order_id AS `order_id: OrderId`, o.number, \
                    d.pizzeria_id AS `pizzeria_id: PizzeriaId`, d.status AS `status: DeliveryStatus`, \
                    d.courier_id AS `courier_id: UserId`, c.name AS `courier_name?`, \
                    o.address_line1, o.address_postcode, \
                    o.address_city, o.delivery_instructions, o.latitude, o.longitude, o.contact_name, o.contact_phone, \
                    o.payment_method AS `payment_method: PaymentMethod`, o.total_cents, \
                    d.distance_m, d.eta, d.cash_to_collect_cents, d.cash_collected_cents, d.created_at, \
                    d.assigned_at, d.picked_up_at, d.delivered_at, \
                    d.failure AS `failure: FailureReason`, d.failed_at \
             FROM deliveries d JOIN orders o ON o.id = d.order_id \
             LEFT JOIN users c ON c.id = d.courier_id "
                $(+ $tail)+
            $(, $arg)*
        )
    };
}

impl From<DeliveryRow> for DeliveryView {
    fn from(r: DeliveryRow) -> Self {
        let address = match (r.address_line1, r.address_postcode, r.address_city) {
            (Some(line1), Some(postcode), Some(city)) => {
                let query = match (r.latitude, r.longitude) {
                    (Some(lat), Some(lng)) => format!("{lat:.6},{lng:.6}"),
                    _ => form_query(&format!("{line1}, {postcode} {city}")),
                };
                Some(DeliveryAddress {
                    map_url: format!("https://www.google.com/maps/search/?api=1&query={query}"),
                    line1,
                    postcode,
                    city,
                    latitude: r.latitude,
                    longitude: r.longitude,
                })
            }
            _ => None,
        };
        DeliveryView {
            id: r.id,
            order_id: r.order_id,
            number: r.number,
            pizzeria_id: r.pizzeria_id,
            status: r.status,
            courier_id: r.courier_id,
            courier_name: r.courier_name,
            address,
            delivery_instructions: r.delivery_instructions,
            contact: StaffContact {
                name: r.contact_name,
                phone: r.contact_phone,
            },
            payment_method: r.payment_method,
            total_cents: r.total_cents,
            distance_m: r.distance_m,
            eta: r.eta.map(utc),
            cash_to_collect: Money::from_cents(r.cash_to_collect_cents).to_string(),
            cash_to_collect_cents: r.cash_to_collect_cents,
            cash_collected_cents: r.cash_collected_cents,
            created_at: utc(r.created_at),
            assigned_at: r.assigned_at.map(utc),
            picked_up_at: r.picked_up_at.map(utc),
            delivered_at: r.delivered_at.map(utc),
            failure: r.failure,
            failed_at: r.failed_at.map(utc),
        }
    }
}

/// An address as a map search query: words joined by `+`.
fn form_query(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join("+")
}

/// The cash a courier collects for an order: all of it for a cash order,
/// nothing for a card order.
pub fn cash_to_collect_cents(order: &OrderHead) -> i64 {
    if order.payment_method == PaymentMethod::Cash {
        order.total_cents
    } else {
        0
    }
}

/// Creates the delivery of a ready delivery order (locked by the caller),
/// waiting for a courier; nothing when it already has one (a message
/// delivered twice).
pub async fn create(tx: &mut Transaction<'_, MySql>, order: &OrderHead) -> Result<(), sqlx::Error> {
    // The order's stored distance, its coordinates and its pizzeria's.
    let row = sqlx::query!(
        "SELECT o.distance_m, o.latitude, o.longitude, p.latitude AS p_latitude, p.longitude AS p_longitude \
         FROM orders o JOIN pizzerias p ON p.id = o.pizzeria_id WHERE o.id = ?",
        order.id.0,
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let pizzeria = Coordinates {
        latitude: row.p_latitude,
        longitude: row.p_longitude,
    };
    let destination = match (row.latitude, row.longitude) {
        (Some(latitude), Some(longitude)) => Some(Coordinates {
            latitude,
            longitude,
        }),
        _ => None,
    };
    sqlx::query!(
        "INSERT INTO deliveries (order_id, pizzeria_id, status, distance_m, cash_to_collect_cents, created_at) \
         VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6)) \
         ON DUPLICATE KEY UPDATE deliveries.id = deliveries.id",
        order.id.0,
        order.pizzeria_id.0,
        DeliveryStatus::Waiting,
        delivery_distance_m(row.distance_m, pizzeria, destination),
        cash_to_collect_cents(order),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn get(pool: &MySqlPool, id: DeliveryId) -> Result<Option<DeliveryView>, sqlx::Error> {
    let row = delivery_rows!("WHERE d.id = ?", id.0)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(DeliveryView::from))
}

/// The delivery of an order, if it has one.
pub async fn of_order(
    pool: &MySqlPool,
    order: OrderId,
) -> Result<Option<DeliveryView>, sqlx::Error> {
    let row = delivery_rows!("WHERE d.order_id = ?", order.0)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(DeliveryView::from))
}

/// The deliveries of one pizzeria or courier (`$who` is the column) under
/// way, and those ended (delivered, failed, called off) since `$since`, those
/// on the way first.
macro_rules! under_way_and_recent {
    ($who:literal, $since:literal, $id:expr) => {
        delivery_rows!(
            "WHERE " $who " = ? \
             AND (d.status IN ('waiting', 'assigned', 'out_for_delivery') \
                OR COALESCE(d.delivered_at, d.failed_at, d.created_at) >= " $since ") \
             ORDER BY FIELD(d.status, 'out_for_delivery', 'assigned', 'waiting', 'delivered', 'failed', 'cancelled'), \
                d.created_at, d.id",
            $id
        )
    };
}

/// A pizzeria's deliveries under way and ended in the last 12 hours, those
/// on the way first.
pub async fn of_pizzeria(
    pool: &MySqlPool,
    pizzeria: PizzeriaId,
) -> Result<Vec<DeliveryView>, sqlx::Error> {
    let rows = under_way_and_recent!(
        "d.pizzeria_id",
        "UTC_TIMESTAMP(6) - INTERVAL 12 HOUR",
        pizzeria.0
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(DeliveryView::from).collect())
}

/// A courier's run: their active deliveries, then what they ended during
/// their shift (the last 12 hours when off shift).
pub async fn of_courier(
    pool: &MySqlPool,
    courier: UserId,
) -> Result<Vec<DeliveryView>, sqlx::Error> {
    let rows = under_way_and_recent!(
        "d.courier_id",
        "COALESCE(c.on_shift_since, UTC_TIMESTAMP(6) - INTERVAL 12 HOUR)",
        courier.0
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(DeliveryView::from).collect())
}

/// A delivery locked for a change, with its order.
#[derive(Debug)]
pub struct Locked {
    pub order: OrderHead,
    pub status: DeliveryStatus,
    pub courier_id: Option<UserId>,
    pub cash_to_collect_cents: i64,
}

/// Locks the delivery's order then the delivery (the order first, as the
/// queue consumer does, so the two never wait on each other). `None` when
/// there is no such delivery.
pub async fn lock(
    tx: &mut Transaction<'_, MySql>,
    id: DeliveryId,
) -> Result<Option<Locked>, sqlx::Error> {
    let order_id = sqlx::query_scalar!("SELECT order_id FROM deliveries WHERE id = ?", id.0)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(order_id) = order_id else {
        return Ok(None);
    };
    let Some(order) = lifecycle::lock(tx, OrderId(order_id)).await? else {
        return Ok(None);
    };
    let row = sqlx::query!(
        "SELECT status AS `status: DeliveryStatus`, courier_id, cash_to_collect_cents \
         FROM deliveries WHERE id = ? FOR UPDATE",
        id.0,
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(Some(Locked {
        order,
        status: row.status,
        courier_id: row.courier_id.map(UserId),
        cash_to_collect_cents: row.cash_to_collect_cents,
    }))
}

/// The courier took the delivery from the counter (locked, `assigned`).
pub async fn mark_picked_up(
    tx: &mut Transaction<'_, MySql>,
    id: DeliveryId,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE deliveries SET status = ?, picked_up_at = UTC_TIMESTAMP(6) WHERE id = ?",
        DeliveryStatus::OutForDelivery,
        id.0,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The order reached its customer (locked, `out_for_delivery`), with the cash
/// the courier entered, if any.
pub async fn mark_delivered(
    tx: &mut Transaction<'_, MySql>,
    id: DeliveryId,
    cash_collected_cents: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE deliveries SET status = ?, delivered_at = UTC_TIMESTAMP(6), \
         cash_collected_cents = ? WHERE id = ?",
        DeliveryStatus::Delivered,
        cash_collected_cents,
        id.0,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The courier could not hand the order over (locked, `out_for_delivery`):
/// nothing was collected.
pub async fn mark_failed(
    tx: &mut Transaction<'_, MySql>,
    id: DeliveryId,
    failure: FailureReason,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE deliveries SET status = ?, failure = ?, failed_at = UTC_TIMESTAMP(6) WHERE id = ?",
        DeliveryStatus::Failed,
        failure,
        id.0,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A voided order: its delivery, wherever it is, is called off (the order
/// is locked).
pub async fn call_off(tx: &mut Transaction<'_, MySql>, order: OrderId) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE deliveries SET status = ? WHERE order_id = ? AND status IN (?, ?, ?)",
        DeliveryStatus::Cancelled,
        order.0,
        DeliveryStatus::Waiting,
        DeliveryStatus::Assigned,
        DeliveryStatus::OutForDelivery,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_links_use_coordinates_or_the_address() {
        assert_eq!(
            form_query("12 rue de la Paix, 75002 Paris"),
            "12+rue+de+la+Paix,+75002+Paris"
        );
    }
}
