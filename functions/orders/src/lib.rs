//! The orders function: a customer follows, modifies and cancels an order;
//! staff move it along.
//!
//! - `GET /orders/{id}?token=T` (or a bearer token): the order, with `ETag`;
//! - `PATCH /orders/{id}` `{"lines": [...]}` and `POST /orders/{id}/cancel`
//!   while the kitchen has not started: checked by checkout's rules (cart
//!   limits, delivery minimum), re-priced, re-reserved or released in one
//!   transaction with the money rule applied (`settlement::settle`): a
//!   reduction or a cancellation refunds what was paid beyond the new total;
//!   a paid card order made bigger goes back to `pending_payment`, off the
//!   kitchen, until the difference is paid (`payment.client_secret`);
//! - `POST /orders/{id}/status` `{"status"}`: staff transitions, checked
//!   against the transition table (409) and the caller's role (403);
//! - `POST /orders/{id}/payment/refresh`: asks Stripe and applies what it says;
//! - `POST /orders/{id}/payment/card` `{"card_token"}`: pays the order's open
//!   PaymentIntent with the card the page tokenised with Stripe.js;
//! - what goes wrong after the kitchen starts (`ocpizza::exceptions`):
//!   `POST /orders/{id}/void` `{"reason"}` (a manager, or the cashier who
//!   took the phone order), `POST /orders/{id}/no-show` (a manager, once a
//!   pickup has waited), `POST /orders/{id}/refund` `{"amount_cents",
//!   "refunded_cents", "reason"}` (a manager, once the order ended).
//!
//! A guest proves the order is theirs with its tracking token; a wrong token
//! answers 404, as for an order that does not exist.

use chrono::Utc;
use http::{Method, StatusCode};
use ocpizza::exceptions;
use ocpizza::identity::access::{self, Action};
use ocpizza::identity::auth::{self, Caller};
use ocpizza::identity::role::Role;
use ocpizza::order::lifecycle::{self, By, OrderHead};
use ocpizza::order::{list, view};
use ocpizza::order::{Actor, Fulfilment, OrderStatus};
use ocpizza::payment::{PaymentError, Stripe};
use ocpizza::platform::clock::{utc, Clock};
use ocpizza::platform::http::{self as edge, ApiError, Cors, Request, Response};
use ocpizza::platform::ids::OrderId;
use ocpizza::platform::queue::{Envelope, Queues};
use ocpizza::{
    catalog, order::pricing, payment::settlement, platform::outbox, platform::rate_limit, stock,
    Money,
};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use sqlx::MySqlPool;

#[derive(Clone)]
pub struct State {
    pub pool: MySqlPool,
    pub cors: Cors,
    pub queues: Queues,
    pub stripe: Stripe,
    pub secret_key: SecretString,
    /// "Now" for the no-show delay: the system's, or a test's.
    pub clock: Clock,
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
        (&Method::POST, ["orders", o, "void"]) => void(state, &req, id(o)?).await,
        (&Method::POST, ["orders", o, "no-show"]) => no_show(state, &req, id(o)?).await,
        (&Method::POST, ["orders", o, "refund"]) => refund(state, &req, id(o)?).await,
        (&Method::GET, ["orders"]) => list(state, &req).await,
        (_, ["orders"]) => Err(edge::no_route(&req, &[Method::GET])),
        (_, ["orders", _]) => Err(edge::no_route(&req, &[Method::GET, Method::PATCH])),
        (_, ["orders", _, "cancel" | "status" | "payments" | "void" | "no-show" | "refund"])
        | (_, ["orders", _, "payment", "refresh"])
        | (_, ["orders", _, "payment", "card"]) => Err(edge::no_route(&req, &[Method::POST])),
        _ => Err(edge::no_route(&req, &[])),
    }
}

fn not_found(id: OrderId) -> ApiError {
    ApiError::not_found(format!("No order {id} for this token."))
}

/// Who may read (`Action::ReadPizzeriaOrder`) or change
/// (`Action::ChangePizzeriaOrder`) this order as its customer: the guest
/// holding its tracking token, the signed-in customer who placed it, or the
/// staff of its pizzeria the action allows (and the admin). Anyone else gets
/// the same 404 as for no order; staff who may read but not change get 403.
async fn authorize(
    state: &State,
    req: &Request,
    order: &OrderHead,
    action: Action,
) -> Result<By, ApiError> {
    let caller = auth::authenticate(&state.pool, req, &state.secret_key).await?;
    if let Some(caller) = caller {
        let owns = caller.role == Role::Customer && order.customer_id == Some(caller.user_id);
        if owns {
            return Ok(By::from(&caller));
        }
        if access::check(Some(&caller), Action::ReadPizzeriaOrder, order.pizzeria_id).is_err() {
            return Err(not_found(order.id));
        }
        access::check(Some(&caller), action, order.pizzeria_id)?;
        return Ok(By::from(&caller));
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

/// Who reads an order: its customer (or guest) does not read the notes
/// staff wrote in its history (a void's or a refund's reason).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reader {
    Customer,
    Staff,
}

impl From<&By> for Reader {
    fn from(by: &By) -> Reader {
        if by.actor == Actor::User(Role::Customer) {
            Reader::Customer
        } else {
            Reader::Staff
        }
    }
}

async fn view(
    state: &State,
    req: &Request,
    id: OrderId,
    reader: Reader,
) -> Result<Response, ApiError> {
    let view = load_view(state, id, reader).await?;
    edge::json_with_etag(req, &json!({ "order": view }))
}

/// The order as `reader` reads it.
async fn load_view(
    state: &State,
    id: OrderId,
    reader: Reader,
) -> Result<view::OrderView, ApiError> {
    let mut view = view::load(&state.pool, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if reader == Reader::Customer {
        for row in &mut view.history {
            row.note = None;
        }
    }
    Ok(view)
}

#[tracing::instrument(skip(state, req), fields(order_id = %id))]
async fn get(state: &State, req: &Request, id: OrderId) -> Result<Response, ApiError> {
    let head = lifecycle::head(&state.pool, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let by = authorize(state, req, &head, Action::ReadPizzeriaOrder).await?;
    view(state, req, id, Reader::from(&by)).await
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

#[tracing::instrument(skip(state, req), fields(order_id = %id))]
async fn cancel(state: &State, req: &Request, id: OrderId) -> Result<Response, ApiError> {
    let mut tx = state.pool.begin().await?;
    let mut order = lifecycle::lock(&mut tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let by = authorize(state, req, &order, Action::ChangePizzeriaOrder).await?;
    if order.status == OrderStatus::Cancelled {
        tx.rollback().await?;
        return view(state, req, id, Reader::from(&by)).await;
    }
    if !order.status.is_changeable() {
        return Err(too_late(order.status));
    }
    let events = lifecycle::change_status(
        &mut tx,
        &mut order,
        OrderStatus::Cancelled,
        &by,
        Some("cancelled by request"),
    )
    .await
    .map_err(ApiError::from)?;
    tx.commit().await?;
    after_cancel(state, &order, events).await;
    view(state, req, id, Reader::from(&by)).await
}

/// After a cancellation commits: tell the kitchen, send the refunds it
/// decided, and make sure an unpaid PaymentIntent can no longer be paid.
async fn after_cancel(state: &State, order: &OrderHead, events: Vec<Envelope>) {
    outbox::send_now(&state.pool, &state.queues, &events).await;
    if !order.pays_online() {
        return;
    }
    settlement::send_refunds_now(&state.pool, &state.stripe, order.id).await;
    if let Err(err) = settlement::cancel_open_intents(&state.pool, &state.stripe, order.id).await {
        tracing::warn!(order_id = %order.id, error = %err, "open PaymentIntents not cancelled");
    }
}

#[derive(Deserialize)]
struct ModifyRequest {
    lines: Vec<pricing::LineRequest>,
}

#[tracing::instrument(skip(state, req), fields(order_id = %id))]
async fn modify(state: &State, req: &Request, id: OrderId) -> Result<Response, ApiError> {
    let request: ModifyRequest = edge::parse_json(req)?;
    let lines = pricing::cart_lines(&request.lines).map_err(|problems| {
        let count = problems.len();
        ApiError::unprocessable(format!(
            "The change has {count} problem{}; see `errors` (to drop everything, cancel the order).",
            if count > 1 { "s" } else { "" }
        ))
        .with(
            "errors",
            problems
                .iter()
                .map(|p| json!({ "field": p.field, "message": p.message }))
                .collect::<Vec<_>>(),
        )
    })?;

    let head = lifecycle::head(&state.pool, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let by = authorize(state, req, &head, Action::ChangePizzeriaOrder).await?;
    if !head.status.is_changeable() {
        return Err(too_late(head.status));
    }
    let pizzeria = catalog::pizzeria(&state.pool, head.pizzeria_id, Utc::now())
        .await?
        .ok_or_else(|| ApiError::internal("order of an unknown pizzeria"))?;
    let delivery = head.fulfilment == Fulfilment::Delivery;
    let priced = pricing::price(&state.pool, &pizzeria, &lines, delivery).await?;
    pricing::check_minimum(&pizzeria, &priced)?;

    let mut tx = state.pool.begin().await?;
    let mut order = lifecycle::lock(&mut tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if !order.status.is_changeable() {
        return Err(too_late(order.status));
    }
    let old_total = Money::from_cents(order.total_cents);
    stock::release(&mut tx, order.pizzeria_id, id).await?;
    lifecycle::replace_lines(&mut tx, &mut order, &priced).await?;
    let note = format!("modified: {} → {}", old_total, priced.total);
    lifecycle::record_history(&mut tx, id, order.status, &by, Some(&note)).await?;
    let (needs, no_recipe) = priced.needs();
    let reserved =
        no_recipe.is_empty() && stock::reserve(&mut tx, order.pizzeria_id, id, &needs).await?;
    if !reserved {
        tx.rollback().await?;
        return Err(pricing::out_of_stock(
            &state.pool,
            &pizzeria,
            &priced,
            "Not enough stock for this change; see `products`.",
        )
        .await?);
    }
    // The money rule, in the same transaction: refunds of a reduction are
    // decided here, under the order's lock; a paid order made bigger goes
    // back to waiting for the difference.
    let events = settlement::settle(&mut tx, &mut order, &by, "change")
        .await
        .map_err(ApiError::from)?;
    tx.commit().await?;
    outbox::send_now(&state.pool, &state.queues, &events).await;

    let payment = payment_after_change(state, &order).await?;
    let view = load_view(state, id, Reader::from(&by)).await?;
    edge::json(
        StatusCode::OK,
        &json!({ "order": view, "payment": payment }),
    )
}

/// After a change commits: send the refunds it decided, and give the
/// customer what pays the difference when the order now owes some. Stripe
/// being down does not undo the change: the tracker asks again
/// (`payment/card` makes the PaymentIntent when it has none).
async fn payment_after_change(
    state: &State,
    order: &OrderHead,
) -> Result<serde_json::Value, ApiError> {
    if !order.pays_online() {
        return Ok(json!({ "method": order.payment_method, "amount_cents": order.total_cents }));
    }
    settlement::send_refunds_now(&state.pool, &state.stripe, order.id).await;
    match settlement::intent_for_balance(&state.pool, &state.stripe, order.id).await {
        Ok(Some(intent)) => Ok(json!({
            "method": "card",
            "balance_cents": intent.amount,
            "payment_intent_id": intent.id,
            "client_secret": intent.client_secret,
        })),
        Ok(None) => {
            // Nothing owed: no PaymentIntent may stay open to be paid twice.
            settlement::cancel_open_intents(&state.pool, &state.stripe, order.id).await?;
            Ok(json!({ "method": "card", "balance_cents": 0 }))
        }
        Err(err) => {
            tracing::warn!(order_id = %order.id, error = %err, "no PaymentIntent for the difference yet");
            Ok(json!({ "method": "card", "balance_cents": null, "payment_unavailable": true }))
        }
    }
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
    let caller = auth::require(
        &state.pool,
        req,
        &state.secret_key,
        "Staff sign in to record payments.",
    )
    .await?;
    let request: PaymentIn = edge::parse_json(req)?;
    let mut tx = state.pool.begin().await?;
    let order = lifecycle::lock(&mut tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    counter_staff(&caller, &order)?;
    if order.pays_online() || order.status.nothing_due() {
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
    view(state, req, id, Reader::Staff).await
}

#[tracing::instrument(skip(state, req), fields(order_id = %id))]
async fn set_status(state: &State, req: &Request, id: OrderId) -> Result<Response, ApiError> {
    let caller = auth::require(
        &state.pool,
        req,
        &state.secret_key,
        "Staff sign in to move orders along.",
    )
    .await?;
    let request: StatusRequest = edge::parse_json(req)?;
    let to: OrderStatus = request
        .status
        .parse()
        .map_err(|_| ApiError::unprocessable(format!("Unknown status {:?}.", request.status)))?;
    if matches!(
        to,
        OrderStatus::OutForDelivery | OrderStatus::Delivered | OrderStatus::FailedDelivery
    ) {
        // The delivery routes own these, with the courier's and the cash checks.
        return Err(ApiError::unprocessable(
            "A delivery leaves, arrives or fails through the courier's screen (delivery `POST /deliveries/{id}/pickup|delivered|failed`).",
        ));
    }
    if matches!(to, OrderStatus::Voided | OrderStatus::NoShow) {
        // Their own routes take the reason, the delay and who may.
        return Err(ApiError::unprocessable(
            "An order is voided with `POST /orders/{id}/void`, and marked not collected with `POST /orders/{id}/no-show`.",
        ));
    }
    let mut tx = state.pool.begin().await?;
    let mut order = lifecycle::lock(&mut tx, id)
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
    if to == OrderStatus::Placed && order.pays_online() {
        return Err(ApiError::conflict(
            "paid-by-card-only",
            "Only the payment places this order",
            "A web order paid by card is placed by its card payment, never by hand.",
        ));
    }
    let events = lifecycle::change_status(&mut tx, &mut order, to, &By::from(&caller), None)
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
        after_cancel(state, &order, events).await;
    } else {
        outbox::send_now(&state.pool, &state.queues, &events).await;
    }
    view(state, req, id, Reader::Staff).await
}

/// A signed-in staff member of the order's pizzeria (or the admin) whose
/// role may do `action`, with the order locked. Customers and staff of
/// another pizzeria get the 404 of an order they cannot see.
async fn staff_lock<'t>(
    state: &State,
    req: &Request,
    tx: &mut sqlx::Transaction<'t, sqlx::MySql>,
    id: OrderId,
    action: Action,
) -> Result<(Caller, OrderHead), ApiError> {
    let caller = auth::require(
        &state.pool,
        req,
        &state.secret_key,
        "Staff sign in to act on orders.",
    )
    .await?;
    let order = lifecycle::lock(tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if access::check(Some(&caller), Action::ReadPizzeriaOrder, order.pizzeria_id).is_err() {
        return Err(not_found(id));
    }
    access::check(Some(&caller), action, order.pizzeria_id)?;
    Ok((caller, order))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonIn {
    reason: String,
}

/// `POST /orders/{id}/void` `{"reason"}`: calls the order off. Before the
/// kitchen starts it is cancelled; after, voided: refunded in full, its
/// ingredients recorded as waste, off the display and the couriers' runs.
/// Again on a voided order: the same answer, nothing more.
#[tracing::instrument(skip(state, req), fields(order_id = %id))]
async fn void(state: &State, req: &Request, id: OrderId) -> Result<Response, ApiError> {
    let body: ReasonIn = edge::parse_json(req)?;
    let mut tx = state.pool.begin().await?;
    let (caller, mut order) = staff_lock(state, req, &mut tx, id, Action::VoidOrder).await?;
    let events = exceptions::void(&mut tx, &mut order, &caller, &body.reason).await?;
    tx.commit().await?;
    after_cancel(state, &order, events).await;
    view(state, req, id, Reader::Staff).await
}

/// `POST /orders/{id}/no-show`: a pickup nobody came for, once it has
/// waited `NO_SHOW_AFTER_MINUTES` since it was ready (409 before, with the
/// time it becomes possible).
#[tracing::instrument(skip(state, req), fields(order_id = %id))]
async fn no_show(state: &State, req: &Request, id: OrderId) -> Result<Response, ApiError> {
    let mut tx = state.pool.begin().await?;
    let (caller, mut order) = staff_lock(state, req, &mut tx, id, Action::MarkNoShow).await?;
    let now = state.clock.now();
    let events = exceptions::no_show(&mut tx, &mut order, &By::from(&caller), now).await?;
    tx.commit().await?;
    outbox::send_now(&state.pool, &state.queues, &events).await;
    view(state, req, id, Reader::Staff).await
}

/// `POST /orders/{id}/refund` `{"amount_cents", "refunded_cents",
/// "reason"}`: a goodwill refund once the order ended, at most what it
/// still holds paid. `refunded_cents` is what the manager's screen showed
/// as refunded: a refund decided since (the same click twice) is a 409.
#[tracing::instrument(skip(state, req), fields(order_id = %id))]
async fn refund(state: &State, req: &Request, id: OrderId) -> Result<Response, ApiError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        amount_cents: i64,
        refunded_cents: i64,
        reason: String,
    }
    let body: Body = edge::parse_json(req)?;
    let mut tx = state.pool.begin().await?;
    let (caller, order) = staff_lock(state, req, &mut tx, id, Action::RefundOrder).await?;
    let given = exceptions::goodwill_refund(
        &mut tx,
        &order,
        &By::from(&caller),
        body.amount_cents,
        body.refunded_cents,
        &body.reason,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(amount_cents = given, "goodwill refund");
    if order.pays_online() {
        settlement::send_refunds_now(&state.pool, &state.stripe, id).await;
    }
    let view = view::load(&state.pool, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    edge::json(
        StatusCode::OK,
        &json!({ "order": view, "refund": exceptions::refund_answer(given) }),
    )
}

#[tracing::instrument(skip(state, req), fields(order_id = %id))]
async fn refresh(state: &State, req: &Request, id: OrderId) -> Result<Response, ApiError> {
    let head = lifecycle::head(&state.pool, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let by = authorize(state, req, &head, Action::ReadPizzeriaOrder).await?;
    reconcile_now(state, &head).await?;
    view(state, req, id, Reader::from(&by)).await
}

/// Applies what Stripe says of a card order's PaymentIntent, and sends any
/// refund that decided (a payment that arrived after the order was
/// cancelled, or beyond its total).
async fn reconcile_now(state: &State, head: &OrderHead) -> Result<(), ApiError> {
    let id = head.id;
    if head.pays_online() {
        let (_, events) = settlement::reconcile(&state.pool, &state.stripe, id, &By::system("reconciliation"))
            .await
            .map_err(|e| match e {
                settlement::ReconcileError::Payment(_) => {
                    ApiError::unavailable("The payment service cannot be reached right now; the order updates by itself when it can.")
                }
                settlement::ReconcileError::Database(e) => e.into(),
                settlement::ReconcileError::Change(e) => e.into(),
            })?;
        outbox::send_now(&state.pool, &state.queues, &events).await;
        settlement::send_refunds_now(&state.pool, &state.stripe, id).await;
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
    let head = lifecycle::head(&state.pool, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let by = authorize(state, req, &head, Action::ReadPizzeriaOrder).await?;
    let nothing_to_pay = || {
        ApiError::conflict(
            "nothing-to-pay",
            "Nothing to pay by card",
            "This order has no card payment waiting.",
        )
    };
    if !head.pays_online() || head.status != OrderStatus::PendingPayment {
        return Err(nothing_to_pay());
    }
    // What the order owes now: its open PaymentIntent, or a new one for the
    // difference after a change.
    let intent = match settlement::intent_for_balance(&state.pool, &state.stripe, id).await {
        Ok(Some(intent)) => intent,
        Ok(None) => return Err(nothing_to_pay()),
        Err(settlement::EnsureError::Database(err)) => return Err(err.into()),
        Err(settlement::EnsureError::Payment(err)) => {
            tracing::warn!(order_id = %id, error = %err, "no PaymentIntent to pay");
            return Err(ApiError::unavailable(
                "Card payment is unavailable right now. Please retry in a moment.",
            ));
        }
    };
    // Card testing through our Stripe account: a few tries per order, counted
    // before Stripe is asked, so parallel tries cannot slip past together.
    let bucket = id.to_string();
    rate_limit::check(
        &mut *state.pool.acquire().await?,
        rate_limit::CARD_ATTEMPTS,
        &bucket,
        "Trop d'essais de carte pour cette commande : réessayez dans quelques minutes.",
    )
    .await?;
    let paid = match state.stripe.pay_with_card_token(&intent.id, token).await {
        Ok(paid) => {
            // A payment that went through (or asks for 3-D Secure) is no guess.
            rate_limit::give_back(&state.pool, rate_limit::CARD_ATTEMPTS, &bucket).await?;
            paid
        }
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
    let view = load_view(state, id, Reader::from(&by)).await?;
    edge::json(
        StatusCode::OK,
        &json!({ "order": view, "payment_intent": {
            "id": intent.id,
            "status": paid.status.as_str(),
            "amount_cents": intent.amount,
            // For 3-D Secure, which the page completes with Stripe.js.
            "client_secret": intent.client_secret,
        } }),
    )
}

/// A caller's phone number as checkout stored it (E.164), or a 422.
fn phone_of(typed: &str) -> Result<String, ApiError> {
    ocpizza::platform::phone::parse(typed)
        .map(|phone| phone.into_string())
        .map_err(|why| {
            ApiError::unprocessable(format!(
                "Give the caller's whole phone number, e.g. 06 12 34 56 78 ({why})."
            ))
        })
}

/// The longest search text.
const MAX_SEARCH_CHARS: usize = 100;

/// Which of a pizzeria's orders staff asked for: by `phone`; by `q` (a
/// phone number, an order number or part of a name; any age unless `day`)
/// and `day` (a Paris calendar day, `YYYY-MM-DD`); or the last 24 hours.
fn staff_scope(
    pizzeria: ocpizza::platform::ids::PizzeriaId,
    phone: Option<String>,
    q: Option<String>,
    day: Option<String>,
) -> Result<list::Scope, ApiError> {
    if let Some(typed) = phone {
        return Ok(list::Scope::PizzeriaByPhone(pizzeria, phone_of(&typed)?));
    }
    if q.as_ref()
        .is_some_and(|q| q.chars().count() > MAX_SEARCH_CHARS)
    {
        return Err(ApiError::unprocessable(format!(
            "`q` is at most {MAX_SEARCH_CHARS} characters."
        )));
    }
    let day = match day {
        Some(day) => {
            let date = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                .ok()
                .and_then(|d| ocpizza::reporting::revenue::Period::new(d, d).ok())
                .ok_or_else(|| {
                    ApiError::unprocessable(format!("`day` is a date, YYYY-MM-DD (not {day:?})."))
                })?;
            Some(date.utc_bounds())
        }
        None => None,
    };
    // A search that is all digits (and spaces, dots, a leading +) long
    // enough for a number is a phone number.
    let looks_like_phone = |q: &str| {
        q.chars().filter(char::is_ascii_digit).count() >= 9
            && q.chars()
                .all(|c| c.is_ascii_digit() || " .-+()".contains(c))
    };
    match (q, day) {
        (None, None) => Ok(list::Scope::PizzeriaToday(pizzeria)),
        (Some(q), None) if looks_like_phone(&q) => {
            Ok(list::Scope::PizzeriaByPhone(pizzeria, phone_of(&q)?))
        }
        (text, day) => {
            let (from, to) = match day {
                Some((from, to)) => (from.naive_utc(), to.naive_utc()),
                None => (chrono::DateTime::UNIX_EPOCH.naive_utc(), far_future()),
            };
            Ok(list::Scope::PizzeriaSearch {
                pizzeria,
                from,
                to,
                text,
            })
        }
    }
}

/// The last instant a `DATETIME` holds, as a search's open end.
fn far_future() -> chrono::NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .unwrap_or(chrono::NaiveDateTime::MAX)
}

/// `GET /orders`: a customer's own orders, newest first; for cashiers and
/// managers, their pizzeria's orders of the last 24 hours (`?pizzeria_id=`
/// for the admin), narrowed by `?status=`, or by `?phone=` to find a caller's
/// past orders (any age; the number however typed, a 422 if it is none), or
/// searched with `?q=` (an order number, part of a name, or a phone number)
/// and `?day=YYYY-MM-DD` (a Paris day). At most 100.
#[tracing::instrument(skip(state, req))]
async fn list(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = auth::require(
        &state.pool,
        req,
        &state.secret_key,
        "Sign in to list orders.",
    )
    .await?;
    let query = edge::query_pairs(req);
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let scope = match caller.role {
        Role::Customer if param("pizzeria_id").is_none() && param("phone").is_none() => {
            list::Scope::Customer(caller.user_id)
        }
        _ => {
            // A customer asking for a pizzeria's orders (or a caller's, by
            // phone) is refused for their role, before anything is parsed.
            access::check_role(Some(&caller), Action::ListPizzeriaOrders)?;
            let pizzeria = match param("pizzeria_id") {
                Some(p) => edge::path_param(&p, "pizzeria")?,
                None => caller.pizzeria_id.ok_or_else(|| {
                    ApiError::unprocessable("Give `pizzeria_id` to list a pizzeria's orders.")
                })?,
            };
            access::check(Some(&caller), Action::ListPizzeriaOrders, pizzeria)?;
            // Searching the whole history by name or day is the manager's:
            // a cashier finds a caller by their whole phone number.
            let searching = param("q").is_some() || param("day").is_some();
            if searching && !matches!(caller.role, Role::Manager | Role::Admin) {
                return Err(ApiError::forbidden(
                    "Searching orders by name, number or day is for managers.",
                ));
            }
            staff_scope(pizzeria, param("phone"), param("q"), param("day"))?
        }
    };
    let status = match param("status") {
        Some(status) => Some(
            status
                .parse::<OrderStatus>()
                .map_err(|_| ApiError::unprocessable(format!("Unknown status {status:?}.")))?,
        ),
        None => None,
    };
    let rows = list::list(&state.pool, &scope, status).await?;
    let orders: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id, "number": r.number, "status": r.status, "pizzeria_id": r.pizzeria_id,
                "channel": r.channel, "fulfilment": r.fulfilment, "payment_method": r.payment_method,
                "total_cents": r.total_cents, "contact": {"name": r.contact_name, "phone": r.contact_phone},
                "created_at": utc(r.created_at),
            })
        })
        .collect();
    edge::json_with_etag(req, &json!({ "orders": orders }))
}
