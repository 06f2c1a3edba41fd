//! The order as customers and staff read it: lines, history, address,
//! contact, payment and the notifications sent, in one document.

use crate::catalog::choices::{Allergen, Choice};
use crate::order::money_rule;
use crate::order::notify::{self, NotificationView};
use crate::order::{Channel, Fulfilment, OrderStatus, PaymentMethod};
use crate::platform::ids::{IngredientId, OrderId, PizzeriaId, ProductId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::MySqlPool;

#[derive(Debug, Clone, Serialize)]
pub struct LineView {
    pub product_id: ProductId,
    pub name: String,
    pub unit_price_cents: i64,
    pub vat_rate_bp: i32,
    pub quantity: i64,
    pub line_total_cents: i64,
    /// The size's label, and its code to send again in a change.
    pub size: Option<String>,
    pub size_code: Option<String>,
    /// Ingredient ids left off and added, to send again in a change.
    pub remove: Vec<IngredientId>,
    pub extras: Vec<IngredientId>,
    /// What was asked, in words ("Grande 40 cm · + Chèvre").
    pub choices: String,
    pub note: Option<String>,
    pub allergens: Vec<Allergen>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryView {
    pub status: String,
    pub at: DateTime<Utc>,
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AddressView {
    pub line1: String,
    pub postcode: String,
    pub city: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContactView {
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
}

/// Who to ask for, as the kitchen and the couriers see an order: the
/// contact's name and phone (E.164), not their e-mail.
#[derive(Debug, Clone, Serialize)]
pub struct StaffContact {
    pub name: String,
    pub phone: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentView {
    pub method: PaymentMethod,
    /// `awaiting_payment`, `paid`, `partially_refunded`, `refunded`,
    /// `due_on_delivery`, `due_at_counter`, `collected`, `not_due`.
    pub status: String,
    pub paid_cents: i64,
    pub refunded_cents: i64,
    /// Still to pay (a card order modified upwards, or cash not yet taken).
    pub balance_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub id: OrderId,
    pub number: String,
    pub status: OrderStatus,
    pub pizzeria_id: PizzeriaId,
    pub channel: Channel,
    pub fulfilment: Fulfilment,
    pub payment_method: PaymentMethod,
    pub subtotal_cents: i64,
    pub vat_cents: i64,
    pub delivery_fee_cents: i64,
    pub total_cents: i64,
    pub lines: Vec<LineView>,
    pub address: Option<AddressView>,
    pub distance_m: Option<i32>,
    /// For the courier: door code, floor, intercom.
    pub delivery_instructions: Option<String>,
    pub contact: ContactView,
    pub tracking_token: String,
    pub payment: PaymentView,
    pub history: Vec<HistoryView>,
    /// The messages sent (or to be sent) to the customer about this order.
    pub notifications: Vec<NotificationView>,
    pub eta: Option<DateTime<Utc>>,
    /// When it will be ready (pickup) or at the door (delivery), kept up to
    /// date as it moves (`promise`); `None` once it is no longer to come.
    pub promised_at: Option<DateTime<Utc>>,
    /// A pre-order's quarter hour.
    pub slot_at: Option<DateTime<Utc>>,
    /// The customer may still modify or cancel.
    pub changeable: bool,
    pub reservation_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

struct OrderRow {
    id: i64,
    number: String,
    status: OrderStatus,
    pizzeria_id: i64,
    channel: Channel,
    fulfilment: Fulfilment,
    payment_method: PaymentMethod,
    subtotal_cents: i64,
    vat_cents: i64,
    delivery_fee_cents: i64,
    total_cents: i64,
    address_line1: Option<String>,
    address_postcode: Option<String>,
    address_city: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    distance_m: Option<i32>,
    contact_name: String,
    contact_phone: String,
    contact_email: Option<String>,
    tracking_token: String,
    reservation_expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    promised_at: Option<DateTime<Utc>>,
    slot_at: Option<DateTime<Utc>>,
    delivery_instructions: Option<String>,
}

/// The whole order as its customer sees it. Five small indexed queries.
pub async fn load(pool: &MySqlPool, id: OrderId) -> Result<Option<OrderView>, sqlx::Error> {
    let row = sqlx::query_as!(
        OrderRow,
        "SELECT id, number, status AS `status: OrderStatus`, pizzeria_id, channel AS `channel: Channel`, \
                fulfilment AS `fulfilment: Fulfilment`, payment_method AS `payment_method: PaymentMethod`, \
                subtotal_cents, vat_cents, delivery_fee_cents, total_cents, \
                address_line1, address_postcode, address_city, latitude, longitude, distance_m, \
                contact_name, contact_phone, contact_email, tracking_token, \
                reservation_expires_at AS `reservation_expires_at: DateTime<Utc>`, \
                created_at AS `created_at: DateTime<Utc>`, \
                promised_at AS `promised_at: DateTime<Utc>`, slot_at AS `slot_at: DateTime<Utc>`, \
                delivery_instructions \
         FROM orders WHERE id = ?",
        id.0
    )
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let id = r.id;
    let lines = sqlx::query!(
        "SELECT product_id, product_name, unit_price_cents, vat_rate_bp, quantity, line_total_cents, \
                size_code, size_label, removed, extras, choices, allergens, note \
         FROM order_lines WHERE order_id = ? ORDER BY line_no",
        id
    )
    .fetch_all(pool)
    .await?;
    let history = sqlx::query_as!(
        HistoryView,
        "SELECT status, at AS `at: DateTime<Utc>`, by_label AS `by`, note \
         FROM order_status_history WHERE order_id = ? ORDER BY id",
        id
    )
    .fetch_all(pool)
    .await?;
    let paid = money_rule::paid(pool, OrderId(id)).await?;
    let (paid, refunded) = (paid.charged, paid.refunded);
    let eta = sqlx::query_scalar!(
        "SELECT (SELECT eta FROM deliveries WHERE order_id = ?) AS `eta?: DateTime<Utc>`",
        id
    )
    .fetch_one(pool)
    .await?;
    let notifications = notify::for_order(pool, OrderId(id)).await?;

    let total = r.total_cents;
    let payment_status = payment_status(
        // Staff orders by card are paid on the terminal, like cash.
        super::pays_online(r.channel, r.payment_method),
        r.status,
        r.fulfilment,
        paid,
        refunded,
        total,
    );
    Ok(Some(OrderView {
        id: OrderId(id),
        number: r.number,
        changeable: r.status.is_changeable(),
        status: r.status,
        pizzeria_id: PizzeriaId(r.pizzeria_id),
        channel: r.channel,
        fulfilment: r.fulfilment,
        payment: PaymentView {
            method: r.payment_method,
            status: payment_status,
            paid_cents: paid,
            refunded_cents: refunded,
            balance_cents: if r.status.is_final() {
                0
            } else {
                (total - (paid - refunded)).max(0)
            },
        },
        payment_method: r.payment_method,
        subtotal_cents: r.subtotal_cents,
        vat_cents: r.vat_cents,
        delivery_fee_cents: r.delivery_fee_cents,
        total_cents: total,
        lines: lines
            .into_iter()
            .map(|line| LineView {
                product_id: ProductId(line.product_id),
                name: line.product_name,
                unit_price_cents: line.unit_price_cents,
                vat_rate_bp: line.vat_rate_bp,
                quantity: i64::from(line.quantity),
                line_total_cents: line.line_total_cents,
                size: line.size_label,
                size_code: line.size_code,
                remove: Choice::parse_ids(&line.removed).into_iter().collect(),
                extras: Choice::parse_ids(&line.extras).into_iter().collect(),
                choices: line.choices,
                note: line.note,
                allergens: Allergen::split(&line.allergens),
            })
            .collect(),
        address: match (r.address_line1, r.address_postcode, r.address_city) {
            (Some(line1), Some(postcode), Some(city)) => Some(AddressView {
                line1,
                postcode,
                city,
                latitude: r.latitude,
                longitude: r.longitude,
            }),
            _ => None,
        },
        distance_m: r.distance_m,
        delivery_instructions: r.delivery_instructions,
        contact: ContactView {
            name: r.contact_name,
            phone: r.contact_phone,
            email: r.contact_email,
        },
        tracking_token: r.tracking_token,
        history,
        notifications,
        eta,
        // Still to come: ready at the counter or on its way to the door.
        promised_at: r.promised_at.filter(|_| {
            !r.status.is_final()
                && (r.status != OrderStatus::Ready || r.fulfilment != Fulfilment::Pickup)
        }),
        slot_at: r.slot_at,
        reservation_expires_at: r.reservation_expires_at,
        created_at: r.created_at,
    }))
}

fn payment_status(
    pays_online: bool,
    status: OrderStatus,
    fulfilment: Fulfilment,
    paid: i64,
    refunded: i64,
    total: i64,
) -> String {
    let s = if pays_online {
        if paid == 0 {
            if status.nothing_due() {
                "not_due"
            } else {
                "awaiting_payment"
            }
        } else if !status.is_final() && paid - refunded < total {
            "balance_due"
        } else if refunded >= paid {
            "refunded"
        } else if refunded > 0 {
            "partially_refunded"
        } else {
            "paid"
        }
    } else if status.nothing_due() {
        if refunded > 0 {
            "refunded"
        } else {
            "not_due"
        }
    } else if paid >= total {
        "collected"
    } else if fulfilment == Fulfilment::Delivery {
        "due_on_delivery"
    } else {
        "due_at_counter"
    };
    s.to_owned()
}
