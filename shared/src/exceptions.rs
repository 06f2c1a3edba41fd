//! What goes wrong once the kitchen has started (above `order`, `kitchen`,
//! `delivery` and `stock`, which it sets right together), each decided by the person
//! who sees it, with a reason, a history row, the customer told, and the
//! stock and money set right in the order's locked transaction:
//!
//! - **failed delivery** (the courier, or a manager): nobody home, address
//!   not found, refused at the door. The order ends `failed_delivery`, cash
//!   is not collected, and the money already paid stays until a manager
//!   decides a refund (the delivery function records it with the delivery,
//!   its reason a `delivery::FailureReason`);
//! - **no-show** (a manager): a pickup still at the counter
//!   [`NO_SHOW_AFTER_MINUTES`] after it was ready ends `no_show`;
//! - **void** (a manager, or the cashier who took the phone order): at any
//!   stage before the customer has it. Before the kitchen starts it is the
//!   cancellation; after, the order ends `voided`: everything paid is
//!   refunded and what was consumed is recorded as waste (`lifecycle`), the
//!   ticket leaves the display and the delivery is called off (here);
//! - **remake a line** (the kitchen): a pizza burnt or dropped is made again;
//!   its ingredients are taken again from the stock and recorded as the
//!   order's waste, refused when the stock cannot;
//! - **goodwill refund** (a manager): after the order ended (delivered,
//!   picked up, failed or not collected), at most what it still holds paid.
//!   The request says how much the manager saw refunded already, so the same
//!   click sent twice gives back once.

use crate::catalog::choices::{self, Choice};
use crate::delivery::{assign, deliveries};
use crate::identity::auth::Caller;
use crate::identity::role::Role;
use crate::order::lifecycle::{self, By, ChangeError, OrderHead};
use crate::order::money_rule::{self, Givers};
use crate::order::{notify, Channel, OrderStatus};
use crate::platform::http::ApiError;
use crate::platform::ids::ProductId;
use crate::platform::queue::Envelope;
use crate::{kitchen, stock, Money};
use chrono::{DateTime, Duration, Utc};
use http::StatusCode;
use serde_json::json;
use sqlx::{MySql, Transaction};

/// A pickup ready this long ago may be marked not collected.
pub const NO_SHOW_AFTER_MINUTES: i64 = 30;

/// The longest reason kept (the history's note holds 200 characters).
pub const MAX_REASON_CHARS: usize = 150;

/// Why an exception was refused; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ExceptionError {
    #[error(transparent)]
    Change(#[from] ChangeError),
    #[error("a reason is required (at most {MAX_REASON_CHARS} characters)")]
    Reason,
    #[error("only a manager, or the cashier who took this phone order, may void it")]
    NotYourOrder,
    #[error("paid at the counter: only a manager may void it")]
    PaidAtCounter,
    #[error("ready for less than {NO_SHOW_AFTER_MINUTES} minutes")]
    TooEarly { allowed_at: DateTime<Utc> },
    #[error("nothing to refund in this state")]
    NotRefundable { status: OrderStatus },
    #[error("the refunds changed meanwhile")]
    RefundsChanged { refunded_cents: i64 },
    #[error("at most {refundable_cents} cents can be refunded")]
    TooMuch { refundable_cents: i64 },
    #[error("the amount must be at least one cent")]
    Amount,
    #[error("no line {0}")]
    NoSuchLine(i32),
    #[error("the line has {0} pizzas")]
    Quantity(i64),
    #[error("only an order in the kitchen can be remade")]
    NotInKitchen { status: OrderStatus },
    #[error("not enough stock to make it again")]
    OutOfStock,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A reason as typed: trimmed, required, not too long.
pub fn reason(text: &str) -> Result<&str, ExceptionError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_REASON_CHARS {
        return Err(ExceptionError::Reason);
    }
    Ok(text)
}

/// A manager or the admin; a cashier only for the phone order they took.
/// (Their pizzeria is checked by the caller, as for every order.)
pub fn may_void(caller: &Caller, order: &OrderHead) -> bool {
    match caller.role {
        Role::Manager | Role::Admin => true,
        Role::Cashier => {
            order.channel == Channel::Phone && order.created_by == Some(caller.user_id)
        }
        _ => false,
    }
}

/// Calls a locked order off: cancelled while the kitchen has not started,
/// voided after (refund, waste, ticket and delivery off). Returns the events
/// to send after the commit; an order already called off changes nothing.
pub async fn void(
    tx: &mut Transaction<'_, MySql>,
    order: &mut OrderHead,
    caller: &Caller,
    why: &str,
) -> Result<Vec<Envelope>, ExceptionError> {
    if !may_void(caller, order) {
        return Err(ExceptionError::NotYourOrder);
    }
    let why = reason(why)?;
    if matches!(order.status, OrderStatus::Cancelled | OrderStatus::Voided) {
        return Ok(Vec::new());
    }
    if caller.role == Role::Cashier && money_rule::paid(&mut **tx, order.id).await?.charged > 0 {
        // Money taken at the counter goes back by a manager's hand only.
        return Err(ExceptionError::PaidAtCounter);
    }
    let to = if order.status.is_changeable() {
        OrderStatus::Cancelled
    } else {
        OrderStatus::Voided
    };
    let note = format!("annulée : {why}");
    let events = lifecycle::change_status(tx, order, to, &By::from(caller), Some(&note)).await?;
    if to == OrderStatus::Voided {
        // Off the kitchen's display and the couriers' runs, whatever their stage.
        kitchen::call_off(tx, order.id).await?;
        deliveries::call_off(tx, order.id).await?;
        // Its courier has room again: give them what waits.
        assign::assign_waiting(tx, order.pizzeria_id).await?;
    }
    Ok(events)
}

/// Marks a locked pickup not collected, once it has waited
/// [`NO_SHOW_AFTER_MINUTES`] since it was ready (`now` is the clock's).
pub async fn no_show(
    tx: &mut Transaction<'_, MySql>,
    order: &mut OrderHead,
    by: &By,
    now: DateTime<Utc>,
) -> Result<Vec<Envelope>, ExceptionError> {
    // The table and the role first: a delivery or a collected order is a 409.
    order
        .status
        .transition(OrderStatus::NoShow, order.fulfilment, by.actor)
        .map_err(ChangeError::from)?;
    let ready_at = sqlx::query_scalar!(
        "SELECT MAX(at) AS `at: chrono::NaiveDateTime` FROM order_status_history \
         WHERE order_id = ? AND status = 'ready'",
        order.id.0
    )
    .fetch_one(&mut **tx)
    .await?;
    let allowed_at =
        ready_at.map(|at| at.and_utc()).unwrap_or(now) + Duration::minutes(NO_SHOW_AFTER_MINUTES);
    if now < allowed_at {
        return Err(ExceptionError::TooEarly { allowed_at });
    }
    let note = "non retirée";
    Ok(lifecycle::change_status(tx, order, OrderStatus::NoShow, by, Some(note)).await?)
}

/// Gives back `amount` cents of a locked, finished order as a goodwill
/// gesture. `seen_refunded` is what the manager saw refunded so far: if
/// another refund was decided meanwhile (or the same click arrives twice),
/// nothing is given and the caller is told. Returns the refund's amount.
pub async fn goodwill_refund(
    tx: &mut Transaction<'_, MySql>,
    order: &OrderHead,
    by: &By,
    amount: i64,
    seen_refunded: i64,
    why: &str,
) -> Result<i64, ExceptionError> {
    let why = reason(why)?;
    if !order.status.is_refundable() {
        return Err(ExceptionError::NotRefundable {
            status: order.status,
        });
    }
    if amount <= 0 {
        return Err(ExceptionError::Amount);
    }
    let paid = money_rule::paid(&mut **tx, order.id).await?;
    if paid.refunded != seen_refunded {
        return Err(ExceptionError::RefundsChanged {
            refunded_cents: paid.refunded,
        });
    }
    if amount > paid.net() {
        return Err(ExceptionError::TooMuch {
            refundable_cents: paid.net().max(0),
        });
    }
    let given =
        money_rule::refund(tx, order.id, amount, Givers::StripeAndStaff, "goodwill").await?;
    if given != amount {
        // The charges could not cover it (an anomaly): write nothing.
        return Err(ExceptionError::TooMuch {
            refundable_cents: given,
        });
    }
    let refunds = sqlx::query_scalar!(
        "SELECT COUNT(*) AS `count!: i64` FROM payments \
         WHERE order_id = ? AND kind = 'refund' AND reason = 'goodwill'",
        order.id.0
    )
    .fetch_one(&mut **tx)
    .await?;
    let money = Money::from_cents(amount);
    let note = format!("remboursement de {money} : {why}");
    lifecycle::record_history(tx, order.id, order.status, by, Some(&note)).await?;
    notify::record_refund(tx, order.id, refunds, money).await?;
    Ok(amount)
}

/// Makes `quantity` of line `line_no` of a locked order again: its
/// ingredients come out of the stock once more, recorded as the order's
/// waste. Only while the order is in the kitchen (`preparing`, `ready`).
pub async fn remake(
    tx: &mut Transaction<'_, MySql>,
    order: &OrderHead,
    by: &By,
    line_no: i32,
    quantity: i64,
    why: &str,
) -> Result<(), ExceptionError> {
    let why = reason(why)?;
    if !matches!(order.status, OrderStatus::Preparing | OrderStatus::Ready) {
        return Err(ExceptionError::NotInKitchen {
            status: order.status,
        });
    }
    let line = sqlx::query!(
        "SELECT product_id AS `product_id: ProductId`, product_name, quantity, size_code, removed, extras, made_of \
         FROM order_lines WHERE order_id = ? AND line_no = ?",
        order.id.0,
        line_no
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(ExceptionError::NoSuchLine(line_no))?;
    let ordered = i64::from(line.quantity);
    if quantity < 1 || quantity > ordered {
        return Err(ExceptionError::Quantity(ordered));
    }
    // Made again as it was asked: the same size, removals and extras.
    let asked = Choice::stored(line.size_code, &line.removed, &line.extras);
    let offer = choices::load(tx, choices::Of::These(&[line.product_id])).await?;
    let needs: stock::Needs = offer
        .made_as_sold(line.product_id, &asked, line.made_of.as_deref())
        .needs()
        .into_iter()
        .map(|(ingredient, per_unit)| (ingredient, per_unit * quantity))
        .collect();
    if !stock::remake(tx, order.pizzeria_id, order.id, &needs).await? {
        return Err(ExceptionError::OutOfStock);
    }
    let note = format!("refaite : {quantity} × {} ({why})", line.product_name);
    lifecycle::record_history(tx, order.id, order.status, by, Some(&note)).await?;
    Ok(())
}

/// Each refusal as the problem the screens translate.
impl From<ExceptionError> for ApiError {
    fn from(err: ExceptionError) -> Self {
        let text = err.to_string();
        match err {
            ExceptionError::Change(e) => e.into(),
            ExceptionError::Database(e) => e.into(),
            ExceptionError::Reason => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reason-required",
                "Reason required",
                format!("Give a `reason` of 1 to {MAX_REASON_CHARS} characters."),
            ),
            ExceptionError::NotYourOrder | ExceptionError::PaidAtCounter => {
                ApiError::forbidden(text)
            }
            ExceptionError::TooEarly { allowed_at } => ApiError::new(
                StatusCode::CONFLICT,
                "too-early-for-no-show",
                "Still within the pickup delay",
                format!("A pickup is marked not collected {NO_SHOW_AFTER_MINUTES} minutes after it is ready, from {allowed_at}."),
            )
            .with("allowed_at", allowed_at),
            ExceptionError::NotRefundable { status } => ApiError::new(
                StatusCode::CONFLICT,
                "not-refundable",
                "Not refundable now",
                format!("The order is {status}: a refund is given once it has ended (delivered, picked up, failed or not collected); before, void it."),
            )
            .with("order_status", status),
            ExceptionError::RefundsChanged { refunded_cents } => ApiError::new(
                StatusCode::CONFLICT,
                "refunds-changed",
                "Refunds changed meanwhile",
                format!("{} has been refunded since you looked: check the order again.", Money::from_cents(refunded_cents)),
            )
            .with("refunded_cents", refunded_cents),
            ExceptionError::TooMuch { refundable_cents } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "refund-too-large",
                "More than was paid",
                format!("At most {} can be refunded on this order.", Money::from_cents(refundable_cents)),
            )
            .with("refundable_cents", refundable_cents),
            ExceptionError::Amount => ApiError::unprocessable("`amount_cents` must be a positive number of cents."),
            ExceptionError::NoSuchLine(line) => {
                ApiError::unprocessable(format!("The order has no line {line}."))
            }
            ExceptionError::Quantity(ordered) => ApiError::unprocessable(format!(
                "`quantity` must be from 1 to the line's {ordered}."
            ))
            .with("ordered", ordered),
            ExceptionError::NotInKitchen { status } => ApiError::new(
                StatusCode::CONFLICT,
                "not-in-kitchen",
                "Not in the kitchen",
                format!("The order is {status}: only an order being prepared or ready can be remade."),
            )
            .with("order_status", status),
            ExceptionError::OutOfStock => ApiError::conflict(
                "remake-out-of-stock",
                "Not enough stock",
                "Not enough stock to make this line again.",
            ),
        }
    }
}

/// The JSON of a refund given, for the answer.
pub fn refund_answer(amount: i64) -> serde_json::Value {
    json!({ "amount_cents": amount, "amount": Money::from_cents(amount).to_string() })
}
