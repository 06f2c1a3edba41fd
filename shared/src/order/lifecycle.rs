//! Orders as stored: locking one for a change, moving it through the
//! transition table with every side effect in the same transaction, and the
//! view customers and staff read.
//!
//! Side effects of entering a status, written once here so every path (cash
//! checkout, Stripe webhook, reconciliation, expiry sweep, staff, kitchen)
//! behaves the same:
//! - `placed`: `order.placed` in the outbox (a pre-order's not before its
//!   release time); a web card order enters it (and `preparing`) only while
//!   its net paid covers its total (`money_rule`);
//! - `preparing`, `ready`: the promised time computed again (`promise`);
//! - `pending_payment` again, from `placed` (a paid order made bigger):
//!   `order.payment_due` in the outbox, so the kitchen takes the ticket off;
//! - `preparing`: the reservation becomes consumption;
//! - `ready`: `order.ready` in the outbox;
//! - `cancelled`: the reservation is released; what the card charges still
//!   hold is refunded (decided here, sent to Stripe after the commit);
//!   `order.cancelled` in the outbox when the kitchen may already hold a ticket;
//! - `voided`: what was consumed is recorded as waste, everything paid is
//!   refunded (the ticket and the delivery are called off by
//!   `exceptions::void`, the only way in);
//! - `failed_delivery`, `no_show`: nothing more (the money stays until a
//!   manager decides a refund; cash was never collected);
//! - every status the customer is told about: its notification (`notify`);
//! - every change of status: the order's share of the revenue summaries
//!   counted again, last (`revenue::recount`; nothing is written when it did
//!   not move). A new order is counted by checkout once its stock is
//!   reserved, and a change of lines by `settlement::settle`, which follows
//!   it: the summary row is always locked after the stock rows, so two
//!   transactions never wait for each other's.

use crate::catalog::choices::{Allergen, Choice};
use crate::identity::auth::Caller;
use crate::order::money_rule::Givers;
use crate::order::notify;
use crate::order::promise::{self, Stage};
use crate::order::revenue;
use crate::order::{Actor, Channel, Fulfilment, OrderStatus, PaymentMethod, TransitionError};
use crate::platform::http::ApiError;
use crate::platform::ids::{OrderId, PizzeriaId, UserId};
use crate::platform::queue::{Envelope, Event};
use crate::{order::money_rule, platform::outbox, stock};
use chrono::{DateTime, Utc};
use http::StatusCode;
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
    /// The staff member who took it (a phone or counter order).
    pub created_by: Option<UserId>,
}

impl OrderHead {
    /// Paid online through Stripe: a web order by card. Staff orders by card
    /// are paid on the pizzeria's terminal.
    pub fn pays_online(&self) -> bool {
        crate::order::pays_online(self.channel, self.payment_method)
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

/// An order's head read by id; `$tail` ends the statement (a lock or not).
macro_rules! order_head {
    ($tail:literal, $id:expr) => {
        sqlx::query_as!(
            OrderHead,
            "SELECT id AS `id: OrderId`, pizzeria_id AS `pizzeria_id: PizzeriaId`, \
                customer_id AS `customer_id: UserId`, status AS `status: OrderStatus`, \
                fulfilment AS `fulfilment: Fulfilment`, payment_method AS `payment_method: PaymentMethod`, \
                channel AS `channel: Channel`, total_cents, tracking_token, created_by AS `created_by: UserId` \
             FROM orders WHERE id = ?"
                + $tail,
            $id
        )
    };
}

/// Reads an order and locks its row until the transaction ends: concurrent
/// changes to one order (webhook and sweep, cancel and kitchen start) queue up.
pub async fn lock(
    tx: &mut Transaction<'_, MySql>,
    id: OrderId,
) -> Result<Option<OrderHead>, sqlx::Error> {
    order_head!(" FOR UPDATE", id.0)
        .fetch_optional(&mut **tx)
        .await
}

/// Reads an order without locking.
pub async fn head(pool: &MySqlPool, id: OrderId) -> Result<Option<OrderHead>, sqlx::Error> {
    order_head!("", id.0).fetch_optional(pool).await
}

/// Writes an order's lines with their price snapshots and what was asked
/// (size, removals, extras, note, the allergens declared) and what one unit
/// is made of, numbered from 1.
pub async fn insert_lines(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
    lines: &[crate::order::pricing::PricedLine],
) -> Result<(), sqlx::Error> {
    // One multi-row INSERT whose number of rows is the cart's: built at run time.
    let mut insert = sqlx::QueryBuilder::<MySql>::new(
        "INSERT INTO order_lines (order_id, line_no, product_id, product_name, unit_price_cents, vat_rate_bp, \
         quantity, line_total_cents, size_code, size_label, removed, extras, choices, allergens, note, made_of) ",
    );
    insert.push_values(lines.iter().enumerate(), |mut row, (i, line)| {
        let size = line.made.size.as_ref();
        row.push_bind(order.0)
            .push_bind(i as i32 + 1)
            .push_bind(line.product_id.0)
            .push_bind(&line.name)
            .push_bind(line.unit_price.cents())
            .push_bind(line.vat_rate_bp as i32)
            .push_bind(line.quantity as i32)
            .push_bind(line.total.cents())
            .push_bind(size.map(|(code, _)| code.clone()))
            .push_bind(size.map(|(_, label)| label.clone()))
            .push_bind(Choice::ids(&line.choice.remove))
            .push_bind(Choice::ids(&line.choice.extras))
            .push_bind(&line.made.words)
            .push_bind(Allergen::join(line.allergens()))
            .push_bind(&line.note)
            .push_bind(line.made.made_of());
    });
    insert.build().execute(&mut **tx).await?;
    Ok(())
}

/// Replaces a changeable order's lines and totals with a new pricing (the
/// customer changed their cart before the kitchen started). Its stock is
/// released and reserved again by the caller, in the same transaction, which
/// then applies the money rule (`settlement::settle`, which also counts the
/// new total in the revenue summaries).
pub async fn replace_lines(
    tx: &mut Transaction<'_, MySql>,
    order: &mut OrderHead,
    priced: &crate::order::pricing::Priced,
) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM order_lines WHERE order_id = ?", order.id.0)
        .execute(&mut **tx)
        .await?;
    insert_lines(tx, order.id, &priced.lines).await?;
    sqlx::query!(
        "UPDATE orders SET subtotal_cents = ?, vat_cents = ?, delivery_fee_cents = ?, total_cents = ?, \
         updated_at = UTC_TIMESTAMP(6) WHERE id = ?",
        priced.subtotal.cents(),
        priced.vat.cents(),
        priced.delivery_fee.cents(),
        priced.total.cents(),
        order.id.0,
    )
    .execute(&mut **tx)
    .await?;
    order.total_cents = priced.total.cents();
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
    // The column holds 200 characters: a long product name and reason are cut.
    let note = note.map(|n| n.chars().take(200).collect::<String>());
    sqlx::query!(
        "INSERT INTO order_status_history (order_id, status, at, by_user_id, by_label, note) \
         VALUES (?, ?, UTC_TIMESTAMP(6), ?, ?, ?)",
        order.0,
        status.as_str(),
        by.user_id.map(|u| u.0),
        by.label,
        note,
    )
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
    sqlx::query!(
        "UPDATE orders SET status = ?, reservation_expires_at = CASE WHEN ? = 'pending_payment' THEN reservation_expires_at END, \
         updated_at = UTC_TIMESTAMP(6) WHERE id = ?",
        to.as_str(),
        to.as_str(),
        order.id.0,
    )
    .execute(&mut **tx)
    .await?;
    let events = enter(tx, order, Some(from), to, by, note).await?;
    // After the side effects (a refund, the stock): the summary row, shared
    // by the pizzeria's orders of the day, is locked last.
    revenue::recount(tx, order.id).await?;
    order.status = to;
    Ok(events)
}

/// The side effects of entering `to` (from `from`, or as a new order), the
/// same for a new order and for every change: the history row, the
/// customer's notification, stock, refunds and the queue's events (written
/// to the outbox; returned to be sent after the commit).
pub(crate) async fn enter(
    tx: &mut Transaction<'_, MySql>,
    order: &OrderHead,
    from: Option<OrderStatus>,
    to: OrderStatus,
    by: &By,
    note: Option<&str>,
) -> Result<Vec<Envelope>, sqlx::Error> {
    record_history(tx, order.id, to, by, note).await?;
    // The promise first: the e-mail tells it. A new order has it from
    // checkout; one placed later (paid, or paid again) is promised from now.
    match (from, to) {
        (Some(_), OrderStatus::Placed) => promise::refresh(tx, order.id, Stage::Queued).await?,
        (_, OrderStatus::Preparing) => promise::refresh(tx, order.id, Stage::Kitchen).await?,
        (_, OrderStatus::Ready) => promise::refresh(tx, order.id, Stage::Ready).await?,
        _ => {}
    }
    notify::record(tx, order.id, to).await?;

    let pizzeria_id = order.pizzeria_id;
    let mut events = Vec::new();
    match to {
        OrderStatus::Placed => {
            let placed = Envelope::new(order.id, Event::OrderPlaced { pizzeria_id });
            match release_later(tx, order.id).await? {
                // A pre-order's ticket waits in the outbox for its time.
                Some(at) => outbox::enqueue_at(tx, &placed, Some(at)).await?,
                None => events.push(placed),
            }
        }
        OrderStatus::Preparing => {
            stock::consume(tx, pizzeria_id, order.id).await?;
        }
        OrderStatus::Ready => {
            events.push(Envelope::new(order.id, Event::OrderReady { pizzeria_id }))
        }
        // A placed order made bigger waits for the difference; a new card
        // order has no ticket to take off.
        // (A pre-order's ticket not released yet never goes: placed again,
        // it waits for its time anew.)
        OrderStatus::PendingPayment if from.is_some() => {
            outbox::forget_deferred(tx, order.id).await?;
            events.push(Envelope::new(
                order.id,
                Event::OrderPaymentDue { pizzeria_id },
            ))
        }
        OrderStatus::Cancelled => {
            stock::release(tx, pizzeria_id, order.id).await?;
            outbox::forget_deferred(tx, order.id).await?;
            money_rule::refund_all(tx, order.id, Givers::Stripe, "cancel").await?;
            if from == Some(OrderStatus::Placed) {
                events.push(Envelope::new(
                    order.id,
                    Event::OrderCancelled { pizzeria_id },
                ));
            }
        }
        OrderStatus::Voided => {
            stock::waste_consumed(tx, pizzeria_id, order.id).await?;
            // Only a manager or the cashier who took it voids an order
            // (`exceptions::void`), with the counter's money in hand.
            money_rule::refund_all(tx, order.id, Givers::StripeAndStaff, "void").await?;
        }
        _ => {}
    }
    for event in &events {
        outbox::enqueue(tx, event).await?;
    }
    Ok(events)
}

/// A new order's side effects, as [`enter`] does them with no `from`,
/// without reading back what checkout has just written: the history row,
/// the e-mail only when the order gave an address (`has_email`), and for
/// an order placed at once its `order.placed` (returned, to be sent after
/// the commit). A pre-order (`is_pre_order`) goes through [`enter`]: whether its
/// ticket waits is decided on the database's clock.
pub(crate) async fn enter_new(
    tx: &mut Transaction<'_, MySql>,
    order: &OrderHead,
    by: &By,
    has_email: bool,
    is_pre_order: bool,
) -> Result<Vec<Envelope>, sqlx::Error> {
    if is_pre_order {
        return enter(tx, order, None, order.status, by, None).await;
    }
    record_history(tx, order.id, order.status, by, None).await?;
    if has_email {
        notify::record(tx, order.id, order.status).await?;
    }
    let mut events = Vec::new();
    if order.status == OrderStatus::Placed {
        let pizzeria_id = order.pizzeria_id;
        events.push(Envelope::new(order.id, Event::OrderPlaced { pizzeria_id }));
    }
    for event in &events {
        outbox::enqueue(tx, event).await?;
    }
    Ok(events)
}

/// When a pre-order's ticket is due at the kitchen, if that is still to
/// come (on the database's clock; the relay then sends it once its own
/// clock reaches that time).
async fn release_later(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let at = sqlx::query_scalar!(
        "SELECT release_at FROM orders WHERE id = ? AND release_at > UTC_TIMESTAMP(6)",
        order.0
    )
    .fetch_optional(&mut **tx)
    .await?
    .flatten();
    Ok(at.map(|at| at.and_utc()))
}

/// A signed-in caller, as the status history records who made a change.
impl From<&Caller> for By {
    fn from(caller: &Caller) -> Self {
        By {
            actor: Actor::User(caller.role),
            user_id: Some(caller.user_id),
            label: caller.role.as_str().to_owned(),
        }
    }
}

/// A refused transition: 409 when the order's state forbids it, 403 when the
/// caller's role does.
impl From<ChangeError> for ApiError {
    fn from(err: ChangeError) -> Self {
        match err {
            ChangeError::Transition(TransitionError::NotAllowed { from, to }) => ApiError::new(
                StatusCode::CONFLICT,
                "transition-not-allowed",
                "Not possible now",
                format!("The order is {from}; it cannot become {to}."),
            )
            .with("order_status", from),
            ChangeError::Transition(TransitionError::Forbidden { to }) => {
                ApiError::forbidden(format!("Your role may not move an order to {to}."))
            }
            ChangeError::Unpaid { due_cents } => ApiError::new(
                StatusCode::CONFLICT,
                "payment-due",
                "Payment due",
                format!(
                    "{} is still to be paid by card: only the customer's payment sends this order to the kitchen.",
                    crate::Money::from_cents(due_cents)
                ),
            )
            .with("balance_cents", due_cents),
            ChangeError::Database(e) => e.into(),
        }
    }
}
