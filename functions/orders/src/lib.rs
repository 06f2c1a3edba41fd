//! The orders function: a customer follows, modifies and cancels an order;
//! staff move it along.
//!
//! - `GET /orders/{id}?token=T` (or a bearer token): the order, with `ETag`;
//! - `PATCH /orders/{id}` `{"lines": [...]}` and `POST /orders/{id}/cancel`
//!   while the kitchen has not started: re-priced, re-reserved or released in
//!   one transaction; a paid order stays paid to the cent (refund of the
//!   difference, or a PaymentIntent for the extra);
//! - `POST /orders/{id}/status` `{"status"}`: staff transitions, checked
//!   against the transition table (409) and the caller's role (403);
//! - `POST /orders/{id}/payment/refresh`: asks Stripe and applies what it says;
//! - `POST /orders/{id}/payment/card` `{"card_token"}`: pays the order's open
//!   PaymentIntent with the card the page tokenised with Stripe.js.
//!
//! A guest proves the order is theirs with its tracking token; a wrong token
//! answers 404, as for an order that does not exist.

use chrono::Utc;
use http::{Method, StatusCode};
use ocpizza::access::{self, Action};
use ocpizza::auth::{self, Caller};
use ocpizza::http::{self as edge, ApiError, Cors, Request, Response};
use ocpizza::ids::{OrderId, ProductId};
use ocpizza::order::{Actor, OrderStatus, PaymentMethod};
use ocpizza::orders::{self, By, OrderHead};
use ocpizza::payments::{NewPaymentIntent, PaymentError, Stripe};
use ocpizza::queue::{Envelope, Queues};
use ocpizza::role::Role;
use ocpizza::{catalog, outbox, pricing, settlement, stock, Money};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use sqlx::MySqlPool;
use std::collections::BTreeMap;

#[derive(Clone)]
pub struct State {
    pub pool: MySqlPool,
    pub cors: Cors,
    pub queues: Queues,
    pub stripe: Stripe,
    pub secret_key: SecretString,
}

pub async fn handle(state: &State, req: Request) -> Response {
    edge::serve(&state.cors, req, |req| route(state, req)).await
}

async fn route(state: &State, req: Request) -> Result<Response, ApiError> {
    let segments = edge::segments(&req);
    let id = |s: &str| edge::path_param::<OrderId>(s, "order");
    match (req.method(), segments.as_slice()) {
        (&Method::GET, ["orders", o]) => get(state, &req, id(o)?).await,
        (&Method::PATCH, ["orders", o]) => modify(state, &req, id(o)?).await,
        (&Method::POST, ["orders", o, "cancel"]) => cancel(state, &req, id(o)?).await,
        (&Method::POST, ["orders", o, "status"]) => set_status(state, &req, id(o)?).await,
        (&Method::POST, ["orders", o, "payment", "refresh"]) => refresh(state, &req, id(o)?).await,
        (&Method::POST, ["orders", o, "payment", "card"]) => pay_card(state, &req, id(o)?).await,
        (&Method::POST, ["orders", o, "payments"]) => collect(state, &req, id(o)?).await,
        (&Method::GET, ["orders"]) => list(state, &req).await,
        (_, ["orders"]) => Err(edge::no_route(&req, &[Method::GET])),
        (_, ["orders", _]) => Err(edge::no_route(&req, &[Method::GET, Method::PATCH])),
        (_, ["orders", _, "cancel" | "status" | "payments"])
        | (_, ["orders", _, "payment", "refresh"])
        | (_, ["orders", _, "payment", "card"]) => Err(edge::no_route(&req, &[Method::POST])),
        _ => Err(edge::no_route(&req, &[])),
    }
}

fn not_found(id: OrderId) -> ApiError {
    ApiError::not_found(format!("No order {id} for this token."))
}

/// Who may read or change this order as its customer: the guest holding its
/// tracking token, the signed-in customer who placed it, or staff of its
/// pizzeria (and the admin). Anyone else gets the same 404 as for no order.
async fn authorize(state: &State, req: &Request, order: &OrderHead) -> Result<By, ApiError> {
    let caller = auth::authenticate(
        &state.pool,
        req,
        state.secret_key.expose_secret().as_bytes(),
    )
    .await?;
    if let Some(caller) = caller {
        let owns = caller.role == Role::Customer && order.customer_id == Some(caller.user_id);
        let staff =
            access::check(Some(&caller), Action::ReadPizzeriaOrder, order.pizzeria_id).is_ok();
        if owns || staff {
            return Ok(By::from(&caller));
        }
        return Err(not_found(order.id));
    }
    let token = edge::query_pairs(req)
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v);
    match token {
        Some(t) if auth::tracking_token_matches(&t, &order.tracking_token) => Ok(By {
            actor: Actor::User(Role::Customer),
            user_id: None,
            label: "customer".into(),
        }),
        _ => Err(not_found(order.id)),
    }
}

async fn view(state: &State, req: &Request, id: OrderId) -> Result<Response, ApiError> {
    let view = orders::view(&state.pool, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    edge::json_with_etag(req, &json!({ "order": view }))
}

#[tracing::instrument(skip(state, req), fields(order_id = %id))]
async fn get(state: &State, req: &Request, id: OrderId) -> Result<Response, ApiError> {
    let head = orders::head(&state.pool, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    authorize(state, req, &head).await?;
    view(state, req, id).await
}

fn too_late(status: OrderStatus) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "order-in-preparation",
        "Too late to change",
        format!("The order is {status}: the kitchen has started it, so it can no longer be changed or cancelled."),
    )
    .with("order_status", status)
}

/// Money already taken by card for this order, net of refunds.
async fn card_balance(pool: &MySqlPool, id: OrderId) -> Result<Money, sqlx::Error> {
    let (net,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(CAST(SUM(CASE WHEN kind = 'charge' THEN amount_cents ELSE -amount_cents END) AS SIGNED), 0) \
         FROM payments WHERE order_id = ? AND provider = 'stripe' \
         AND ((kind = 'charge' AND status = 'succeeded') OR (kind = 'refund' AND status IN ('succeeded', 'pending')))",
    )
    .bind(id.0)
    .fetch_one(pool)
    .await?;
    Ok(Money::from_cents(net))
}

#[tracing::instrument(skip(state, req), fields(order_id = %id))]
async fn cancel(state: &State, req: &Request, id: OrderId) -> Result<Response, ApiError> {
    let mut tx = state.pool.begin().await?;
    let mut order = orders::lock(&mut tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let by = authorize(state, req, &order).await?;
    if order.status == OrderStatus::Cancelled {
        tx.rollback().await?;
        return view(state, req, id).await;
    }
    if !order.status.is_changeable() {
        return Err(too_late(order.status));
    }
    let was_pending = order.status == OrderStatus::PendingPayment;
    let events = orders::change_status(
        &mut tx,
        &mut order,
        OrderStatus::Cancelled,
        &by,
        Some("cancelled by request"),
    )
    .await
    .map_err(ApiError::from)?;
    tx.commit().await?;
    after_cancel(state, &order, was_pending, events).await;
    view(state, req, id).await
}

/// After a cancellation commits: tell the kitchen, give card money back, and
/// make sure an unpaid PaymentIntent can no longer be paid.
async fn after_cancel(state: &State, order: &OrderHead, was_pending: bool, events: Vec<Envelope>) {
    outbox::send_now(&state.pool, &state.queues, &events).await;
    if order.payment_method != PaymentMethod::Card {
        return;
    }
    match card_balance(&state.pool, order.id).await {
        Ok(paid) if paid.cents() > 0 => {
            if let Err(err) =
                settlement::refund(&state.pool, &state.stripe, order.id, paid, "cancel").await
            {
                tracing::error!(order_id = %order.id, error = %err, "refund after cancellation failed");
            }
        }
        Ok(_) if was_pending => {
            if let Err(err) =
                settlement::cancel_open_intents(&state.pool, &state.stripe, order.id).await
            {
                tracing::warn!(order_id = %order.id, error = %err, "open PaymentIntents not cancelled");
            }
        }
        Ok(_) => {}
        Err(err) => {
            tracing::error!(order_id = %order.id, error = %err, "could not read payments after cancellation")
        }
    }
}

#[derive(Deserialize)]
struct ModifyRequest {
    lines: Vec<LineIn>,
}

#[derive(Deserialize)]
struct LineIn {
    product_id: ProductId,
    quantity: i64,
}

const MAX_QUANTITY_PER_LINE: i64 = 30;

#[tracing::instrument(skip(state, req), fields(order_id = %id))]
async fn modify(state: &State, req: &Request, id: OrderId) -> Result<Response, ApiError> {
    let request: ModifyRequest = edge::parse_json(req)?;
    if request.lines.is_empty() || request.lines.len() > 30 {
        return Err(ApiError::unprocessable(
            "Give 1 to 30 lines; to drop everything, cancel the order.",
        ));
    }
    let mut merged: BTreeMap<ProductId, i64> = BTreeMap::new();
    for line in &request.lines {
        if !(1..=MAX_QUANTITY_PER_LINE).contains(&line.quantity) {
            return Err(ApiError::unprocessable(format!(
                "A quantity is from 1 to {MAX_QUANTITY_PER_LINE}."
            )));
        }
        *merged.entry(line.product_id).or_default() += line.quantity;
    }
    if merged.values().any(|&q| q > MAX_QUANTITY_PER_LINE) || merged.values().sum::<i64>() > 60 {
        return Err(ApiError::unprocessable(
            "At most 30 of a product and 60 items per order.",
        ));
    }
    let lines: Vec<(ProductId, i64)> = merged.into_iter().collect();

    let head = orders::head(&state.pool, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let by = authorize(state, req, &head).await?;
    let pizzeria = catalog::pizzeria(&state.pool, head.pizzeria_id, Utc::now())
        .await?
        .ok_or_else(|| ApiError::internal("order of an unknown pizzeria"))?;
    let (delivery_fee,): (i64,) =
        sqlx::query_as("SELECT delivery_fee_cents FROM orders WHERE id = ?")
            .bind(id.0)
            .fetch_one(&state.pool)
            .await?;
    let priced = pricing::price(&state.pool, &pizzeria, &lines, delivery_fee > 0).await?;

    let mut tx = state.pool.begin().await?;
    let order = orders::lock(&mut tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if !order.status.is_changeable() {
        return Err(too_late(order.status));
    }
    let old_total = Money::from_cents(order.total_cents);
    stock::release(&mut tx, order.pizzeria_id, id).await?;
    sqlx::query("DELETE FROM order_lines WHERE order_id = ?")
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    orders::insert_lines(&mut tx, id, &priced.lines).await?;
    sqlx::query(
        "UPDATE orders SET subtotal_cents = ?, vat_cents = ?, delivery_fee_cents = ?, total_cents = ?, updated_at = UTC_TIMESTAMP(6) WHERE id = ?",
    )
    .bind(priced.subtotal.cents())
    .bind(priced.vat.cents())
    .bind(priced.delivery_fee.cents())
    .bind(priced.total.cents())
    .bind(id.0)
    .execute(&mut *tx)
    .await?;
    let note = format!("modified: {} → {}", old_total, priced.total);
    orders::record_history(&mut tx, id, order.status, &by, Some(&note)).await?;
    let (needs, no_recipe) = stock::needs_for(&mut *tx, &lines).await?;
    let reserved =
        no_recipe.is_empty() && stock::reserve(&mut tx, order.pizzeria_id, id, &needs).await?;
    if !reserved {
        tx.rollback().await?;
        let menu = catalog::products(&state.pool, &pizzeria).await?;
        let products: Vec<_> = lines
            .iter()
            .filter_map(|(p, requested)| menu.iter().find(|m| m.id == *p).map(|m| (m, requested)))
            .filter(|(m, requested)| m.max_quantity < **requested)
            .map(|(m, requested)| json!({"product_id": m.id, "name": m.name, "requested": requested, "max_quantity": m.max_quantity}))
            .collect();
        return Err(ApiError::conflict(
            "out-of-stock",
            "Not enough stock",
            "Not enough stock for this change; see `products`.",
        )
        .with("products", products));
    }
    tx.commit().await?;

    let payment = settle_difference(state, &order, priced.total).await?;
    let view = orders::view(&state.pool, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    edge::json(
        StatusCode::OK,
        &json!({ "order": view, "payment": payment }),
    )
}

/// Keeps a card order paid to the cent after a change: refund what was paid
/// beyond the new total, or ask for the extra with a new PaymentIntent. An
/// unpaid order gets a PaymentIntent for its new total.
async fn settle_difference(
    state: &State,
    order: &OrderHead,
    new_total: Money,
) -> Result<serde_json::Value, ApiError> {
    if !order.pays_online() {
        return Ok(json!({ "method": order.payment_method, "amount_cents": new_total }));
    }
    let paid = card_balance(&state.pool, order.id).await?;
    let (charges,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM payments WHERE order_id = ? AND kind = 'charge'")
            .bind(order.id.0)
            .fetch_one(&state.pool)
            .await?;
    if paid > new_total {
        let refund = paid - new_total;
        settlement::refund(
            &state.pool,
            &state.stripe,
            order.id,
            refund,
            &format!("change-{charges}-{}", new_total.cents()),
        )
        .await
        .map_err(|e| {
            tracing::error!(order_id = %order.id, error = %e, "refund of a reduced order failed");
            ApiError::unavailable(
                "The change is saved but the refund could not be made yet; it will be retried.",
            )
        })?;
        return Ok(json!({ "method": "card", "refunded_cents": refund, "balance_cents": 0 }));
    }
    let due = new_total - paid;
    if due.cents() == 0 {
        return Ok(json!({ "method": "card", "balance_cents": 0 }));
    }
    // An unpaid order's old PaymentIntent is for the old amount: drop it.
    if paid.cents() == 0 {
        settlement::cancel_open_intents(&state.pool, &state.stripe, order.id).await?;
    }
    let (number,): (String,) = sqlx::query_as("SELECT number FROM orders WHERE id = ?")
        .bind(order.id.0)
        .fetch_one(&state.pool)
        .await?;
    let intent = state
        .stripe
        .create_payment_intent(&NewPaymentIntent {
            amount: due,
            order_id: order.id,
            order_number: &number,
            idempotency_key: &format!("order-{}-payment-{}-{}", order.id, charges, due.cents()),
            receipt_email: None,
        })
        .await
        .map_err(|_| ApiError::unavailable("The change is saved; card payment is unavailable right now, retry to pay the difference."))?;
    settlement::record_intent(&state.pool, order.id, &intent).await?;
    Ok(json!({
        "method": "card",
        "balance_cents": due,
        "payment_intent_id": intent.id,
        "client_secret": intent.client_secret,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusRequest {
    status: String,
    /// With `picked_up`: the payment taken as the order is handed over.
    #[serde(default)]
    payment: Option<PaymentIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentIn {
    method: settlement::CounterPayment,
}

fn nothing_due(id: OrderId) -> ApiError {
    ApiError::conflict(
        "nothing-due",
        "Nothing to collect",
        format!("Order {id} owes nothing: it is paid, or paid online."),
    )
}

/// Staff of the order's pizzeria (cashiers, managers) and the admin.
fn counter_staff(caller: &Caller, order: &OrderHead) -> Result<(), ApiError> {
    access::check(Some(caller), Action::CollectAtCounter, order.pizzeria_id).map(|_| ())
}

/// `POST /orders/{id}/payments` `{"method": "cash"|"card_terminal"}`: what
/// the order still owes, taken at the counter. A second click finds nothing
/// due (409).
#[tracing::instrument(skip(state, req), fields(order_id = %id))]
async fn collect(state: &State, req: &Request, id: OrderId) -> Result<Response, ApiError> {
    let caller = auth::authenticate(
        &state.pool,
        req,
        state.secret_key.expose_secret().as_bytes(),
    )
    .await?
    .ok_or_else(|| ApiError::unauthorized("Staff sign in to record payments."))?;
    let request: PaymentIn = edge::parse_json(req)?;
    let mut tx = state.pool.begin().await?;
    let order = orders::lock(&mut tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    counter_staff(&caller, &order)?;
    if order.pays_online() || order.status == OrderStatus::Cancelled {
        return Err(nothing_due(id));
    }
    let taken = settlement::collect_at_counter(&mut tx, &order, request.method).await?;
    if taken == 0 {
        return Err(nothing_due(id));
    }
    tx.commit().await?;
    tracing::info!(
        amount_cents = taken,
        method = request.method.provider(),
        "payment taken at the counter"
    );
    view(state, req, id).await
}

#[tracing::instrument(skip(state, req), fields(order_id = %id))]
async fn set_status(state: &State, req: &Request, id: OrderId) -> Result<Response, ApiError> {
    let caller = auth::authenticate(
        &state.pool,
        req,
        state.secret_key.expose_secret().as_bytes(),
    )
    .await?
    .ok_or_else(|| ApiError::unauthorized("Staff sign in to move orders along."))?;
    let request: StatusRequest = edge::parse_json(req)?;
    let to: OrderStatus = request
        .status
        .parse()
        .map_err(|_| ApiError::unprocessable(format!("Unknown status {:?}.", request.status)))?;
    let mut tx = state.pool.begin().await?;
    let mut order = orders::lock(&mut tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if caller.role == Role::Customer || !caller.is_staff_of(order.pizzeria_id) {
        // Customers cancel through /cancel; staff of another pizzeria see nothing.
        return Err(if caller.role == Role::Customer {
            ApiError::forbidden("Customers cannot set an order's status.")
        } else {
            not_found(id)
        });
    }
    let was_pending = order.status == OrderStatus::PendingPayment;
    let events = orders::change_status(&mut tx, &mut order, to, &By::from(&caller), None)
        .await
        .map_err(ApiError::from)?;
    if to == OrderStatus::PickedUp {
        // Pizzas leave the counter paid: take the payment now, or refuse.
        if let Some(payment) = &request.payment {
            counter_staff(&caller, &order)?;
            settlement::collect_at_counter(&mut tx, &order, payment.method).await?;
        }
        let due = settlement::balance_due(&mut tx, &order).await?;
        if due > 0 {
            return Err(ApiError::conflict(
                "payment-due",
                "Payment due",
                format!(
                    "Collect {} before handing the order over (send `payment` with the status, or POST /orders/{id}/payments).",
                    Money::from_cents(due)
                ),
            )
            .with("balance_cents", due));
        }
    } else if request.payment.is_some() {
        return Err(ApiError::unprocessable(
            "`payment` goes with `picked_up` only.",
        ));
    }
    tx.commit().await?;
    if to == OrderStatus::Cancelled {
        after_cancel(state, &order, was_pending, events).await;
    } else {
        outbox::send_now(&state.pool, &state.queues, &events).await;
    }
    view(state, req, id).await
}

#[tracing::instrument(skip(state, req), fields(order_id = %id))]
async fn refresh(state: &State, req: &Request, id: OrderId) -> Result<Response, ApiError> {
    let head = orders::head(&state.pool, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    authorize(state, req, &head).await?;
    reconcile_now(state, &head).await?;
    view(state, req, id).await
}

/// Applies what Stripe says of a card order's PaymentIntent, refunding a
/// payment that arrived after the order was cancelled.
async fn reconcile_now(state: &State, head: &OrderHead) -> Result<(), ApiError> {
    let id = head.id;
    if head.payment_method == PaymentMethod::Card {
        let (outcome, events) = settlement::reconcile(&state.pool, &state.stripe, id, &By::system("reconciliation"))
            .await
            .map_err(|e| match e {
                settlement::ReconcileError::Payment(_) => {
                    ApiError::unavailable("The payment service cannot be reached right now; the order updates by itself when it can.")
                }
                settlement::ReconcileError::Database(e) => e.into(),
                settlement::ReconcileError::Change(e) => e.into(),
            })?;
        outbox::send_now(&state.pool, &state.queues, &events).await;
        if let settlement::Outcome::RefundNeeded(amount) = outcome {
            if let Err(err) =
                settlement::refund(&state.pool, &state.stripe, id, amount, "late-payment").await
            {
                tracing::error!(order_id = %id, error = %err, "late payment not refunded");
            }
        }
    }
    Ok(())
}

/// `POST /orders/{id}/payment/card` `{"card_token": "tok_…"}`: the checkout
/// page's card payment. Stripe.js turns the card into a token in the
/// browser (the card number never reaches us); this pays the order's open
/// PaymentIntent with it, and Stripe's webhook then places the order (the
/// tracker falls back on `payment/refresh`). 402 for a declined card (the order
/// keeps waiting: another card may be tried); `requires_action` in
/// `payment_intent.status` means 3-D Secure, which the page completes.
#[tracing::instrument(skip(state, req), fields(order_id = %id))]
async fn pay_card(state: &State, req: &Request, id: OrderId) -> Result<Response, ApiError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        card_token: String,
    }
    let body: Body = edge::parse_json(req)?;
    let token = body.card_token.as_str();
    let well_formed = token.len() > 4
        && token.len() <= 255
        && token.starts_with("tok_")
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !well_formed {
        return Err(ApiError::unprocessable(
            "`card_token` must be the token Stripe.js made from the card (tok_…).",
        ));
    }
    let head = orders::head(&state.pool, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    authorize(state, req, &head).await?;
    let nothing_to_pay = || {
        ApiError::conflict(
            "nothing-to-pay",
            "Nothing to pay by card",
            "This order has no card payment waiting.",
        )
    };
    if !head.pays_online() || head.status == OrderStatus::Cancelled {
        return Err(nothing_to_pay());
    }
    let intent = settlement::latest_intent(&state.pool, id)
        .await?
        .ok_or_else(nothing_to_pay)?;
    let (recorded,): (String,) = sqlx::query_as(
        "SELECT status FROM payments WHERE provider = 'stripe' AND provider_ref = ?",
    )
    .bind(&intent)
    .fetch_one(&state.pool)
    .await?;
    if recorded == "succeeded" || recorded == "canceled" {
        return Err(nothing_to_pay());
    }
    let paid = match state.stripe.pay_with_card_token(&intent, token).await {
        Ok(paid) => paid,
        Err(PaymentError::Rejected { message, .. }) => {
            return Err(ApiError::new(
                StatusCode::PAYMENT_REQUIRED,
                "card-declined",
                "Card declined",
                message,
            ))
        }
        Err(err) => {
            tracing::warn!(order_id = %id, error = %err, "card payment not made");
            return Err(ApiError::unavailable(
                "Card payment is unavailable right now. Please retry in a moment.",
            ));
        }
    };
    // The order moves when Stripe's webhook says the payment succeeded, as
    // for any card payment; the tracker asks `payment/refresh` if it is late.
    let view = orders::view(&state.pool, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    edge::json(
        StatusCode::OK,
        &json!({ "order": view, "payment_intent": { "status": paid.status.as_str() } }),
    )
}

/// One line of an order list.
#[derive(Debug, sqlx::FromRow, serde::Serialize)]
struct OrderSummary {
    id: i64,
    number: String,
    status: String,
    pizzeria_id: i64,
    channel: String,
    fulfilment: String,
    payment_method: String,
    total_cents: i64,
    contact_name: String,
    contact_phone: String,
    created_at: chrono::NaiveDateTime,
}

/// `GET /orders`: a customer's own orders, newest first; for cashiers and
/// managers, their pizzeria's orders of the last 24 hours (`?pizzeria_id=`
/// for the admin), narrowed by `?status=`, or by `?phone=` to find a caller's
/// past orders (any age). At most 100.
#[tracing::instrument(skip(state, req))]
async fn list(state: &State, req: &Request) -> Result<Response, ApiError> {
    let secret = state.secret_key.expose_secret().as_bytes();
    let caller = auth::authenticate(&state.pool, req, secret)
        .await?
        .ok_or_else(|| ApiError::unauthorized("Sign in to list orders."))?;
    let query = edge::query_pairs(req);
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let mut sql = sqlx::QueryBuilder::<sqlx::MySql>::new(
        "SELECT id, number, status, pizzeria_id, channel, fulfilment, payment_method, total_cents, \
         contact_name, contact_phone, created_at FROM orders WHERE ",
    );
    match caller.role {
        Role::Customer if param("pizzeria_id").is_none() && param("phone").is_none() => {
            sql.push("customer_id = ").push_bind(caller.user_id.0);
        }
        _ => {
            let pizzeria = match param("pizzeria_id") {
                Some(p) => edge::path_param(&p, "pizzeria")?,
                None => caller.pizzeria_id.ok_or_else(|| {
                    ApiError::unprocessable("Give `pizzeria_id` to list a pizzeria's orders.")
                })?,
            };
            access::check(Some(&caller), Action::ListPizzeriaOrders, pizzeria)?;
            sql.push("pizzeria_id = ").push_bind(pizzeria.0);
            match param("phone") {
                Some(phone) if phone.len() <= 20 => {
                    sql.push(" AND contact_phone = ").push_bind(phone);
                }
                Some(_) => {
                    return Err(ApiError::unprocessable("`phone` is at most 20 characters."))
                }
                None => {
                    sql.push(" AND created_at >= UTC_TIMESTAMP(6) - INTERVAL 1 DAY");
                }
            }
        }
    }
    if let Some(status) = param("status") {
        let status: OrderStatus = status
            .parse()
            .map_err(|_| ApiError::unprocessable(format!("Unknown status {status:?}.")))?;
        sql.push(" AND status = ").push_bind(status.as_str());
    }
    sql.push(" ORDER BY id DESC LIMIT 100");
    let rows: Vec<OrderSummary> = sql.build_query_as().fetch_all(&state.pool).await?;
    let orders: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id, "number": r.number, "status": r.status, "pizzeria_id": r.pizzeria_id,
                "channel": r.channel, "fulfilment": r.fulfilment, "payment_method": r.payment_method,
                "total_cents": r.total_cents, "contact": {"name": r.contact_name, "phone": r.contact_phone},
                "created_at": orders::utc(r.created_at),
            })
        })
        .collect();
    edge::json_with_etag(req, &json!({ "orders": orders }))
}
