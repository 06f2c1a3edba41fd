//! Orders as stored: locking one for a change, moving it through the
//! transition table with every side effect in the same transaction, and the
//! view customers and staff read.
//!
//! Side effects of entering a status, written once here so every path (cash
//! checkout, Stripe webhook, reconciliation, expiry sweep, staff, kitchen)
//! behaves the same:
//! - `placed`: `order.placed` in the outbox; a web card order enters it
//!   (and `preparing`) only while its net paid covers its total (`money_rule`);
//! - `pending_payment` again, from `placed` (a paid order made bigger):
//!   `order.payment_due` in the outbox, so the kitchen takes the ticket off;
//! - `preparing`: the reservation becomes consumption;
//! - `ready`: `order.ready` in the outbox;
//! - `cancelled`: the reservation is released; what the card charges still
//!   hold is refunded (decided here, sent to Stripe after the commit);
//!   `order.cancelled` in the outbox when the kitchen may already hold a ticket;
//! - every status the customer is told about: its notification (`notify`).

use crate::ids::{OrderId, PizzeriaId, UserId};
use crate::notify::{self, NotificationView};
use crate::order::{Actor, Channel, Fulfilment, OrderStatus, PaymentMethod, TransitionError};
use crate::queue::{Envelope, Event};
use crate::{money_rule, outbox, stock};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use sqlx::{MySql, MySqlPool, Transaction};

/// The fields a change needs, read under a row lock.
#[derive(Debug, Clone)]
pub struct OrderHead {
    pub id: OrderId,
    pub pizzeria_id: PizzeriaId,
    pub customer_id: Option<UserId>,
    pub status: OrderStatus,
    pub fulfilment: Fulfilment,
    pub payment_method: PaymentMethod,
    pub channel: Channel,
    pub total_cents: i64,
    pub tracking_token: String,
}

impl OrderHead {
    /// Paid online through Stripe: a web order by card. Staff orders by card
    /// are paid on the pizzeria's terminal.
    pub fn pays_online(&self) -> bool {
        self.payment_method == PaymentMethod::Card && self.channel == Channel::Web
    }
}

/// Who made a change, as the history records it.
#[derive(Debug, Clone)]
pub struct By {
    pub actor: Actor,
    pub user_id: Option<UserId>,
    /// `customer`, `stripe`, `sweep`, a role name…
    pub label: String,
}

impl By {
    pub fn system(label: &str) -> By {
        By {
            actor: Actor::System,
            user_id: None,
            label: label.to_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A web card order whose net paid does not cover its total cannot go to
    /// the kitchen: only a payment places it.
    #[error("{due_cents} cents still to pay by card")]
    Unpaid { due_cents: i64 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

type HeadRow = (
    i64,
    i64,
    Option<i64>,
    String,
    String,
    String,
    String,
    i64,
    String,
);

fn head_from_row(row: HeadRow) -> Result<OrderHead, sqlx::Error> {
    let (id, pizzeria, customer, status, fulfilment, method, channel, total, token) = row;
    let bad = |e: String| sqlx::Error::Decode(e.into());
    Ok(OrderHead {
        id: OrderId(id),
        pizzeria_id: PizzeriaId(pizzeria),
        customer_id: customer.map(UserId),
        status: status.parse().map_err(bad)?,
        fulfilment: fulfilment.parse().map_err(bad)?,
        payment_method: method.parse().map_err(bad)?,
        channel: channel.parse().map_err(bad)?,
        total_cents: total,
        tracking_token: token,
    })
}

const HEAD_COLUMNS: &str = "id, pizzeria_id, customer_id, status, fulfilment, payment_method, \
     channel, total_cents, tracking_token";

/// Reads an order and locks its row until the transaction ends: concurrent
/// changes to one order (webhook and sweep, cancel and kitchen start) queue up.
pub async fn lock(
    tx: &mut Transaction<'_, MySql>,
    id: OrderId,
) -> Result<Option<OrderHead>, sqlx::Error> {
    let row: Option<HeadRow> = sqlx::query_as(&format!(
        "SELECT {HEAD_COLUMNS} FROM orders WHERE id = ? FOR UPDATE"
    ))
    .bind(id.0)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(head_from_row).transpose()
}

/// Reads an order without locking.
pub async fn head(pool: &MySqlPool, id: OrderId) -> Result<Option<OrderHead>, sqlx::Error> {
    let row: Option<HeadRow> =
        sqlx::query_as(&format!("SELECT {HEAD_COLUMNS} FROM orders WHERE id = ?"))
            .bind(id.0)
            .fetch_optional(pool)
            .await?;
    row.map(head_from_row).transpose()
}

/// Writes an order's lines with their price snapshots, numbered from 1.
pub async fn insert_lines(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
    lines: &[crate::pricing::PricedLine],
) -> Result<(), sqlx::Error> {
    let mut insert = sqlx::QueryBuilder::<MySql>::new(
        "INSERT INTO order_lines (order_id, line_no, product_id, product_name, unit_price_cents, vat_rate_bp, quantity, line_total_cents) ",
    );
    insert.push_values(lines.iter().enumerate(), |mut row, (i, line)| {
        row.push_bind(order.0)
            .push_bind(i as i32 + 1)
            .push_bind(line.product_id.0)
            .push_bind(&line.name)
            .push_bind(line.unit_price.cents())
            .push_bind(line.vat_rate_bp as i32)
            .push_bind(line.quantity as i32)
            .push_bind(line.total.cents());
    });
    insert.build().execute(&mut **tx).await?;
    Ok(())
}

/// Appends a row to the status history.
pub async fn record_history(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
    status: OrderStatus,
    by: &By,
    note: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO order_status_history (order_id, status, at, by_user_id, by_label, note) \
         VALUES (?, ?, UTC_TIMESTAMP(6), ?, ?, ?)",
    )
    .bind(order.0)
    .bind(status.as_str())
    .bind(by.user_id.map(|u| u.0))
    .bind(&by.label)
    .bind(note)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Moves a locked order to `to` with the side effects of that status. Returns
/// the events to send once the transaction has committed.
pub async fn change_status(
    tx: &mut Transaction<'_, MySql>,
    order: &mut OrderHead,
    to: OrderStatus,
    by: &By,
    note: Option<&str>,
) -> Result<Vec<Envelope>, ChangeError> {
    let from = order.status;
    from.transition(to, order.fulfilment, by.actor)?;
    if matches!(to, OrderStatus::Placed | OrderStatus::Preparing) && order.pays_online() {
        let due = money_rule::paid(&mut **tx, order.id)
            .await?
            .due(order.total_cents);
        if due > 0 {
            return Err(ChangeError::Unpaid { due_cents: due });
        }
    }
    sqlx::query(
        "UPDATE orders SET status = ?, reservation_expires_at = CASE WHEN ? = 'pending_payment' THEN reservation_expires_at END, \
         updated_at = UTC_TIMESTAMP(6) WHERE id = ?",
    )
    .bind(to.as_str())
    .bind(to.as_str())
    .bind(order.id.0)
    .execute(&mut **tx)
    .await?;
    record_history(tx, order.id, to, by, note).await?;
    notify::record(tx, order.id, to).await?;

    let pizzeria_id = order.pizzeria_id;
    let mut events = Vec::new();
    match to {
        OrderStatus::Placed => {
            events.push(Envelope::new(order.id, Event::OrderPlaced { pizzeria_id }))
        }
        OrderStatus::Preparing => {
            stock::consume(tx, pizzeria_id, order.id).await?;
        }
        OrderStatus::Ready => {
            events.push(Envelope::new(order.id, Event::OrderReady { pizzeria_id }))
        }
        OrderStatus::PendingPayment => events.push(Envelope::new(
            order.id,
            Event::OrderPaymentDue { pizzeria_id },
        )),
        OrderStatus::Cancelled => {
            stock::release(tx, pizzeria_id, order.id).await?;
            money_rule::refund_all(tx, order.id, "cancel").await?;
            if from == OrderStatus::Placed {
                events.push(Envelope::new(
                    order.id,
                    Event::OrderCancelled { pizzeria_id },
                ));
            }
        }
        _ => {}
    }
    for event in &events {
        outbox::enqueue(tx, event).await?;
    }
    order.status = to;
    Ok(events)
}

/// Formats a stored UTC `DATETIME` as RFC 3339.
pub fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

#[derive(Debug, Clone, Serialize)]
pub struct LineView {
    pub product_id: i64,
    pub name: String,
    pub unit_price_cents: i64,
    pub vat_rate_bp: i32,
    pub quantity: i64,
    pub line_total_cents: i64,
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

#[derive(Debug, Clone, Serialize)]
pub struct PaymentView {
    pub method: String,
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
    pub status: String,
    pub pizzeria_id: PizzeriaId,
    pub channel: String,
    pub fulfilment: String,
    pub payment_method: String,
    pub subtotal_cents: i64,
    pub vat_cents: i64,
    pub delivery_fee_cents: i64,
    pub total_cents: i64,
    pub lines: Vec<LineView>,
    pub address: Option<AddressView>,
    pub distance_m: Option<i32>,
    pub contact: ContactView,
    pub tracking_token: String,
    pub payment: PaymentView,
    pub history: Vec<HistoryView>,
    /// The messages sent (or to be sent) to the customer about this order.
    pub notifications: Vec<NotificationView>,
    pub eta: Option<DateTime<Utc>>,
    /// The customer may still modify or cancel.
    pub changeable: bool,
    pub reservation_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    number: String,
    status: String,
    pizzeria_id: i64,
    channel: String,
    fulfilment: String,
    payment_method: String,
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
    reservation_expires_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

/// The whole order as its customer sees it. Five small indexed queries.
pub async fn view(pool: &MySqlPool, id: OrderId) -> Result<Option<OrderView>, sqlx::Error> {
    let row: Option<OrderRow> = sqlx::query_as(
        "SELECT id, number, status, pizzeria_id, channel, fulfilment, payment_method, \
                subtotal_cents, vat_cents, delivery_fee_cents, total_cents, \
                address_line1, address_postcode, address_city, latitude, longitude, distance_m, \
                contact_name, contact_phone, contact_email, tracking_token, reservation_expires_at, created_at \
         FROM orders WHERE id = ?",
    )
    .bind(id.0)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let id = r.id;
    let lines: Vec<(i64, String, i64, i32, i32, i64)> = sqlx::query_as(
        "SELECT product_id, product_name, unit_price_cents, vat_rate_bp, quantity, line_total_cents \
         FROM order_lines WHERE order_id = ? ORDER BY line_no",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let history: Vec<(String, NaiveDateTime, String, Option<String>)> = sqlx::query_as(
        "SELECT status, at, by_label, note FROM order_status_history WHERE order_id = ? ORDER BY id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let paid = money_rule::paid(pool, OrderId(id)).await?;
    let (paid, refunded) = (paid.charged, paid.refunded);
    let (eta,): (Option<NaiveDateTime>,) =
        sqlx::query_as("SELECT (SELECT eta FROM deliveries WHERE order_id = ?)")
            .bind(id)
            .fetch_one(pool)
            .await?;
    let notifications = notify::for_order(pool, OrderId(id)).await?;

    let total = r.total_cents;
    let status_parsed: Option<OrderStatus> = r.status.parse().ok();
    let payment_status = payment_status(
        // Staff orders by card are paid on the terminal, like cash.
        if r.channel == "web" {
            &r.payment_method
        } else {
            "terminal"
        },
        status_parsed,
        &r.fulfilment,
        paid,
        refunded,
        total,
    );
    Ok(Some(OrderView {
        id: OrderId(id),
        number: r.number,
        changeable: status_parsed.is_some_and(OrderStatus::is_changeable),
        status: r.status,
        pizzeria_id: PizzeriaId(r.pizzeria_id),
        channel: r.channel,
        fulfilment: r.fulfilment,
        payment: PaymentView {
            method: r.payment_method.clone(),
            status: payment_status,
            paid_cents: paid,
            refunded_cents: refunded,
            balance_cents: if status_parsed == Some(OrderStatus::Cancelled) {
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
            .map(
                |(product_id, name, unit_price_cents, vat_rate_bp, quantity, line_total_cents)| {
                    LineView {
                        product_id,
                        name,
                        unit_price_cents,
                        vat_rate_bp,
                        quantity: i64::from(quantity),
                        line_total_cents,
                    }
                },
            )
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
        contact: ContactView {
            name: r.contact_name,
            phone: r.contact_phone,
            email: r.contact_email,
        },
        tracking_token: r.tracking_token,
        history: history
            .into_iter()
            .map(|(status, at, by, note)| HistoryView {
                status,
                at: utc(at),
                by,
                note,
            })
            .collect(),
        notifications,
        eta: eta.map(utc),
        reservation_expires_at: r.reservation_expires_at.map(utc),
        created_at: utc(r.created_at),
    }))
}

fn payment_status(
    method: &str,
    status: Option<OrderStatus>,
    fulfilment: &str,
    paid: i64,
    refunded: i64,
    total: i64,
) -> String {
    let s = if method == "card" {
        if paid == 0 {
            if status == Some(OrderStatus::Cancelled) {
                "not_due"
            } else {
                "awaiting_payment"
            }
        } else if status != Some(OrderStatus::Cancelled) && paid - refunded < total {
            "balance_due"
        } else if refunded >= paid {
            "refunded"
        } else if refunded > 0 {
            "partially_refunded"
        } else {
            "paid"
        }
    } else if status == Some(OrderStatus::Cancelled) {
        "not_due"
    } else if paid >= total {
        "collected"
    } else if fulfilment == "delivery" {
        "due_on_delivery"
    } else {
        "due_at_counter"
    };
    s.to_owned()
}
