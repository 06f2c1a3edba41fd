//! A new order: its row (a number a person can read out, a tracking token),
//! its lines with their price snapshots and its revenue share, then the side
//! effects every status has (`lifecycle::enter_new`, without reading back
//! what was just written): the history row, the customer's e-mail when it
//! gave an address and, for an order placed at once, `order.placed` in the
//! outbox. Stock is reserved by the caller in the same transaction, last,
//! then the share added to its summary row, so the hot rows stay locked
//! only until the commit.

use crate::order::lifecycle::{self, By, OrderHead};
use crate::order::pricing::Priced;
use crate::order::revenue::{self, Share};
use crate::order::{pays_online, Channel, Fulfilment, OrderStatus, PaymentMethod};
use crate::platform::db;
use crate::platform::ids::{OrderId, PizzeriaId, UserId};
use crate::platform::queue::Envelope;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sqlx::{MySql, Transaction};

/// Where a delivery goes, as geocoded.
#[derive(Debug, Clone)]
pub struct NewAddress<'a> {
    pub line1: &'a str,
    pub postcode: &'a str,
    pub city: &'a str,
    pub latitude: f64,
    pub longitude: f64,
    pub distance_m: i64,
    /// For the courier: door code, floor, intercom.
    pub instructions: Option<&'a str>,
}

/// Who to call about the order and where to send its e-mails.
#[derive(Debug, Clone)]
pub struct NewContact<'a> {
    pub name: &'a str,
    /// E.164.
    pub phone: &'a str,
    pub email: Option<&'a str>,
}

/// An order as checkout makes it, already priced from the database.
#[derive(Debug, Clone)]
pub struct NewOrder<'a> {
    pub pizzeria_id: PizzeriaId,
    pub customer_id: Option<UserId>,
    /// The staff member taking a phone or counter order.
    pub created_by: Option<UserId>,
    pub channel: Channel,
    pub fulfilment: Fulfilment,
    pub payment_method: PaymentMethod,
    pub priced: &'a Priced,
    pub address: Option<NewAddress<'a>>,
    pub contact: NewContact<'a>,
    /// The checkout's `Idempotency-Key`, kept on the row.
    pub idempotency_key: &'a str,
    /// How long an order paid online holds its stock before it expires.
    pub payment_timeout: Duration,
    pub now: DateTime<Utc>,
    /// When it will be ready or delivered, as the customer is told.
    pub promised_at: DateTime<Utc>,
    /// A pre-order: its slot, and when its ticket goes to the kitchen.
    pub slot: Option<Slot>,
}

/// A pre-order's quarter hour and its ticket's release (`promise`).
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    pub at: DateTime<Utc>,
    pub release_at: DateTime<Utc>,
}

/// The order just written, and the events to send after the commit.
#[derive(Debug, Clone)]
pub struct Created {
    pub head: OrderHead,
    pub number: String,
    /// Until when an order waiting for its card payment holds its stock.
    pub reservation_expires_at: Option<DateTime<Utc>>,
    pub events: Vec<Envelope>,
    /// What it counts in the revenue summaries (on its row already): the
    /// caller adds it to its summary row with `revenue::add`, after the stock.
    pub share: Share,
}

/// Writes a new order in the caller's transaction: `pending_payment` when it
/// is paid online (until Stripe says so), `placed` otherwise. The caller
/// counts it in the revenue summaries (`revenue::add` of [`Created::share`])
/// after reserving its stock: the summary row is locked after the stock rows.
pub async fn create(
    tx: &mut Transaction<'_, MySql>,
    new: &NewOrder<'_>,
) -> Result<Created, sqlx::Error> {
    let status = if pays_online(new.channel, new.payment_method) {
        OrderStatus::PendingPayment
    } else {
        OrderStatus::Placed
    };
    let expires_at = (status == OrderStatus::PendingPayment).then(|| new.now + new.payment_timeout);
    let token = tracking_token();
    let address = new.address.as_ref();
    let priced = new.priced;
    // What it counts in the revenue summaries, kept on its row; the caller
    // adds it to the summary row last (`revenue::add`).
    let share = revenue::share_of_new(status.as_str(), priced.total.cents(), priced.vat.cents());

    // A random number can collide with an existing one: try another.
    let mut attempt = 0;
    let (id, number) = loop {
        let number = order_number();
        let inserted = sqlx::query!(
            "INSERT INTO orders (number, pizzeria_id, customer_id, channel, fulfilment, payment_method, status, \
                subtotal_cents, vat_cents, delivery_fee_cents, total_cents, \
                address_line1, address_postcode, address_city, latitude, longitude, distance_m, \
                contact_name, contact_phone, contact_email, tracking_token, idempotency_key, \
                reservation_expires_at, created_by, created_at, updated_at, \
                slot_at, release_at, promised_at, delivery_instructions, \
                revenue_orders, revenue_total_cents, revenue_vat_cents) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            number,
            new.pizzeria_id.0,
            new.customer_id.map(|c| c.0),
            new.channel,
            new.fulfilment,
            new.payment_method,
            status,
            priced.subtotal.cents(),
            priced.vat.cents(),
            priced.delivery_fee.cents(),
            priced.total.cents(),
            address.map(|a| a.line1),
            address.map(|a| a.postcode),
            address.map(|a| a.city),
            address.map(|a| a.latitude),
            address.map(|a| a.longitude),
            address.map(|a| a.distance_m),
            new.contact.name,
            new.contact.phone,
            new.contact.email,
            token,
            new.idempotency_key,
            expires_at.map(|t| t.naive_utc()),
            new.created_by.map(|u| u.0),
            new.now.naive_utc(),
            new.now.naive_utc(),
            new.slot.map(|s| s.at.naive_utc()),
            new.slot.map(|s| s.release_at.naive_utc()),
            new.promised_at.naive_utc(),
            address.and_then(|a| a.instructions),
            share.orders,
            share.total_cents,
            share.vat_cents,
        )
        .execute(&mut **tx)
        .await;
        match inserted {
            Ok(done) => break (OrderId(done.last_insert_id() as i64), number),
            Err(err)
                if db::duplicate_key(&err).as_deref() == Some("uq_orders_number")
                    && attempt < 5 =>
            {
                attempt += 1;
            }
            Err(err) => return Err(err),
        }
    };
    lifecycle::insert_lines(tx, id, &priced.lines).await?;

    let head = OrderHead {
        id,
        pizzeria_id: new.pizzeria_id,
        customer_id: new.customer_id,
        status,
        fulfilment: new.fulfilment,
        payment_method: new.payment_method,
        channel: new.channel,
        total_cents: priced.total.cents(),
        tracking_token: token,
        created_by: new.created_by,
    };
    let by = By::system(new.channel.as_str());
    let has_email = new.contact.email.is_some_and(|e| !e.trim().is_empty());
    let events = lifecycle::enter_new(tx, &head, &by, has_email, new.slot.is_some()).await?;
    Ok(Created {
        head,
        number,
        reservation_expires_at: expires_at,
        events,
        share,
    })
}

/// Cancels a card order whose payment could not even start (Stripe
/// unreachable or refusing), so it holds no stock, and frees the checkout's
/// key on its row for the customer's retry, which makes a new order.
pub async fn abandon(
    tx: &mut Transaction<'_, MySql>,
    id: OrderId,
) -> Result<(), lifecycle::ChangeError> {
    if let Some(mut order) = lifecycle::lock(tx, id).await? {
        if order.status == OrderStatus::PendingPayment {
            lifecycle::change_status(
                tx,
                &mut order,
                OrderStatus::Cancelled,
                &By::system("checkout"),
                Some("payment could not start"),
            )
            .await?;
        }
    }
    sqlx::query!(
        "UPDATE orders SET idempotency_key = NULL WHERE id = ?",
        id.0
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Six characters a person can read out on the phone (no 0/O, 1/I).
fn order_number() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..6)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// 256 random bits, URL-safe: what the tracker's link carries.
fn tracking_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_number_is_six_characters_nobody_misreads() {
        for _ in 0..200 {
            let number = order_number();
            assert_eq!(number.len(), 6);
            assert!(!number.contains(['0', 'O', '1', 'I']), "{number}");
        }
    }

    #[test]
    fn a_tracking_token_carries_256_bits_in_a_url() {
        let token = tracking_token();
        assert_eq!(token.len(), 43);
        assert!(token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(token, tracking_token());
    }
}
