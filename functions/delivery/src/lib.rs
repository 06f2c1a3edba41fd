//! The delivery function: ready delivery orders get a courier; couriers pick
//! them up and deliver them, taking the cash of cash orders.
//!
//! From the delivery queue (SQS, partial batch failures): `order.ready` for a
//! delivery order creates its delivery, with the distance from the pizzeria,
//! and assigns it to the pizzeria's courier with the fewest active deliveries
//! ([`COURIER_CAPACITY`] at most). When every courier is full the delivery
//! waits, and is assigned as soon as one comes back (a delivery completed, a
//! new courier on shift at the next message).
//!
//! Over HTTP, for couriers (their own deliveries), managers (their pizzeria's)
//! and the admin:
//! - `GET /deliveries` (`?pizzeria_id=` for managers and the admin);
//! - `POST /deliveries/{id}/pickup` → the order is `out_for_delivery`;
//! - `POST /deliveries/{id}/delivered` with `{"cash_collected_cents"}` for a
//!   cash order → `delivered`, and the cash recorded as the order's payment;
//! - `POST /deliveries/{id}/failed` with `{"reason": "absent" |
//!   "address_not_found" | "refused"}` → the order is `failed_delivery`, no
//!   cash collected; the manager decides any refund (orders function);
//! - `GET /shift`, `POST /shift`, `DELETE /shift`: a courier's shift. Only
//!   couriers on shift are given deliveries; what waits goes to a courier the
//!   moment their shift starts, and a shift ends only with nothing on the way
//!   (what was not picked up goes to the others);
//! - `GET /couriers` (`?pizzeria_id=` for the admin) and
//!   `POST /deliveries/{id}/courier` with `{"courier_id"}`: a manager sees
//!   who is on shift and gives a delivery not yet picked up to one of them.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use http::{Method, StatusCode};
use ocpizza::delivery::deliveries::{self, DeliveryView};
use ocpizza::delivery::shifts::{self, ShiftError};
use ocpizza::delivery::FailureReason;
use ocpizza::delivery::{assign, DeliveryStatus};
use ocpizza::identity::access::{self, Action};
use ocpizza::identity::auth::{self, Caller};
use ocpizza::identity::role::Role;
use ocpizza::order::lifecycle::{self, By};
use ocpizza::order::{Fulfilment, OrderStatus};
use ocpizza::payment::cash;
use ocpizza::platform::consumer::{self, ConsumeError};
use ocpizza::platform::http::{self as edge, ApiError, Request, Response};
use ocpizza::platform::ids::{DeliveryId, PizzeriaId, UserId};
use ocpizza::platform::queue::{Envelope, Event};
use ocpizza::{platform::outbox, Money};
use serde::Deserialize;
use serde_json::json;
use sqlx::{MySql, MySqlPool, Transaction};

pub use ocpizza::delivery::assign::COURIER_CAPACITY;

/// The name under which this consumer records the messages it applied.
pub const CONSUMER: &str = "delivery";

/// The database, CORS, the queues and the session key, as both triggers share them.
pub type State = ocpizza::platform::lambda::ScreensAndQueue;

// ---------------------------------------------------------------- the queue

/// Applies a batch from the delivery queue; failed messages are named in the
/// answer and come back later.
pub async fn consume(state: &State, batch: SqsEvent) -> SqsBatchResponse {
    consumer::process_batch(CONSUMER, batch, |envelope| apply(&state.pool, envelope)).await
}

/// One message, exactly once.
pub async fn apply(pool: &MySqlPool, envelope: Envelope) -> Result<(), ConsumeError> {
    let Event::OrderReady { pizzeria_id } = envelope.event else {
        tracing::warn!(
            event_type = envelope.event.type_name(),
            "not for the delivery queue; ignored"
        );
        return Ok(());
    };
    let mut tx = pool.begin().await?;
    if !consumer::claim(&mut tx, CONSUMER, &envelope.event_id).await? {
        tracing::info!(event_id = %envelope.event_id, "duplicate message ignored");
        tx.rollback().await?;
        return Ok(());
    }
    let Some(order) = lifecycle::lock(&mut tx, envelope.order_id).await? else {
        return Err(ConsumeError::Other(format!(
            "order {} does not exist",
            envelope.order_id
        )));
    };
    if order.fulfilment != Fulfilment::Delivery || order.status != OrderStatus::Ready {
        // A pickup order waits at the counter; a stale message changes nothing.
        tx.commit().await?;
        return Ok(());
    }
    deliveries::create(&mut tx, &order).await?;
    let assigned = assign::assign_waiting(&mut tx, pizzeria_id).await?;
    tx.commit().await?;
    tracing::info!(order_id = %order.id, assigned, "delivery created");
    Ok(())
}

// ---------------------------------------------------------------- HTTP

pub async fn handle(state: &State, req: Request) -> Response {
    edge::serve(&state.cors, req, |req| route(state, req)).await
}

async fn route(state: &State, req: Request) -> Result<Response, ApiError> {
    let segments = edge::segments(&req);
    let id = |s: &str| edge::path_param::<DeliveryId>(s, "delivery");
    match (req.method(), segments.as_slice()) {
        (&Method::GET, ["deliveries"]) => list(state, &req).await,
        (&Method::POST, ["deliveries", d, "pickup"]) => pickup(state, &req, id(d)?).await,
        (&Method::POST, ["deliveries", d, "delivered"]) => delivered(state, &req, id(d)?).await,
        (&Method::POST, ["deliveries", d, "failed"]) => failed(state, &req, id(d)?).await,
        (&Method::POST, ["deliveries", d, "courier"]) => reassign(state, &req, id(d)?).await,
        (&Method::GET, ["shift"]) => shift(state, &req).await,
        (&Method::POST, ["shift"]) => change_shift(state, &req, true).await,
        (&Method::DELETE, ["shift"]) => change_shift(state, &req, false).await,
        (&Method::GET, ["couriers"]) => couriers(state, &req).await,
        (_, ["deliveries"] | ["couriers"]) => Err(edge::no_route(&req, &[Method::GET])),
        (_, ["deliveries", _, "pickup" | "delivered" | "failed" | "courier"]) => {
            Err(edge::no_route(&req, &[Method::POST]))
        }
        (_, ["shift"]) => Err(edge::no_route(
            &req,
            &[Method::GET, Method::POST, Method::DELETE],
        )),
        _ => Err(edge::no_route(&req, &[])),
    }
}

async fn signed_in(state: &State, req: &Request) -> Result<Caller, ApiError> {
    auth::require(
        &state.pool,
        req,
        &state.secret_key,
        "Sign in with a courier or manager account.",
    )
    .await
}

/// A courier's own run (active ones, then what they delivered in the last 12
/// hours); for a manager or the admin, a pizzeria's deliveries.
#[tracing::instrument(skip(state, req))]
async fn list(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = auth::authenticate(&state.pool, req, &state.secret_key).await?;
    let wanted = edge::query_pairs(req)
        .into_iter()
        .find(|(k, _)| k == "pizzeria_id")
        .map(|(_, v)| edge::path_param::<PizzeriaId>(&v, "pizzeria"))
        .transpose()?;
    // Managers and the admin look at a pizzeria; everyone else at their own run.
    let pizzeria_view = wanted.is_some()
        || caller
            .as_ref()
            .is_some_and(|c| matches!(c.role, Role::Manager | Role::Admin));
    let deliveries: Vec<DeliveryView> = if pizzeria_view {
        let pizzeria = wanted
            .or_else(|| caller.as_ref().and_then(|c| c.pizzeria_id))
            .ok_or_else(|| {
                ApiError::unprocessable("Give `pizzeria_id` to list a pizzeria's deliveries.")
            })?;
        access::check(caller.as_ref(), Action::PizzeriaDeliveries, pizzeria)?;
        deliveries::of_pizzeria(&state.pool, pizzeria).await?
    } else {
        let caller = access::check_role(caller.as_ref(), Action::OwnDeliveries)?;
        deliveries::of_courier(&state.pool, caller.user_id).await?
    };
    edge::json_with_etag(req, &json!({ "deliveries": deliveries }))
}

fn not_found(id: DeliveryId) -> ApiError {
    ApiError::not_found(format!("No delivery {id}."))
}

/// Locks the delivery's order then the delivery (the consumer's order too),
/// and checks the caller may act on it: its courier, a manager of its
/// pizzeria, or the admin.
async fn lock_for(
    tx: &mut Transaction<'_, MySql>,
    caller: &Caller,
    id: DeliveryId,
) -> Result<deliveries::Locked, ApiError> {
    let locked = deliveries::lock(tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    access::check(Some(caller), Action::WorkDelivery, locked.order.pizzeria_id)?;
    if caller.role == Role::Courier && locked.courier_id != Some(caller.user_id) {
        return Err(ApiError::forbidden("This delivery is another courier's."));
    }
    Ok(locked)
}

fn wrong_state(id: DeliveryId, status: DeliveryStatus, wanted: &str) -> ApiError {
    ApiError::conflict(
        "delivery-state",
        "Not possible now",
        format!("Delivery {id} is {status}; this needs it {wanted}."),
    )
    .with("delivery_status", status.as_str())
}

#[tracing::instrument(skip(state, req))]
async fn pickup(state: &State, req: &Request, id: DeliveryId) -> Result<Response, ApiError> {
    let caller = signed_in(state, req).await?;
    let mut tx = state.pool.begin().await?;
    let deliveries::Locked {
        mut order, status, ..
    } = lock_for(&mut tx, &caller, id).await?;
    if !status.can_become(DeliveryStatus::OutForDelivery) {
        return Err(wrong_state(id, status, "assigned to a courier"));
    }
    let events = lifecycle::change_status(
        &mut tx,
        &mut order,
        OrderStatus::OutForDelivery,
        &By::from(&caller),
        None,
    )
    .await?;
    deliveries::mark_picked_up(&mut tx, id).await?;
    tx.commit().await?;
    outbox::send_now(&state.pool, &state.queues, &events).await;
    answer(state, id).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Delivered {
    #[serde(default)]
    cash_collected_cents: Option<i64>,
}

#[tracing::instrument(skip(state, req))]
async fn delivered(state: &State, req: &Request, id: DeliveryId) -> Result<Response, ApiError> {
    let caller = signed_in(state, req).await?;
    let body: Delivered = if req.body().is_empty() {
        Delivered::default()
    } else {
        edge::parse_json(req)?
    };
    let mut tx = state.pool.begin().await?;
    let deliveries::Locked {
        mut order,
        status,
        cash_to_collect_cents: cash_due,
        ..
    } = lock_for(&mut tx, &caller, id).await?;
    if !status.can_become(DeliveryStatus::Delivered) {
        return Err(wrong_state(id, status, "out for delivery"));
    }
    let collected = body.cash_collected_cents.unwrap_or(0);
    if cash_due > 0 && collected < cash_due {
        return Err(ApiError::unprocessable(format!(
            "This order is paid in cash: collect {} and enter it as `cash_collected_cents` ({cash_due}).",
            Money::from_cents(cash_due)
        ))
        .with("cash_to_collect_cents", cash_due));
    }
    if cash_due == 0 && collected != 0 {
        return Err(ApiError::unprocessable(
            "This order was paid by card: there is no cash to collect.",
        ));
    }
    if collected > cash_due + 100_000 {
        return Err(ApiError::unprocessable(
            "`cash_collected_cents` is far above what is due; check the amount.",
        ));
    }
    let events = lifecycle::change_status(
        &mut tx,
        &mut order,
        OrderStatus::Delivered,
        &By::from(&caller),
        None,
    )
    .await?;
    deliveries::mark_delivered(&mut tx, id, body.cash_collected_cents).await?;
    if cash_due > 0 {
        // What was due is the order's payment; anything above it is the tip.
        cash::record_at_door(&mut tx, order.id, id, cash_due).await?;
    }
    // The courier is one delivery lighter: give them what waits.
    assign::assign_waiting(&mut tx, order.pizzeria_id).await?;
    tx.commit().await?;
    outbox::send_now(&state.pool, &state.queues, &events).await;
    answer(state, id).await
}

/// The courier could not hand the order over: it ends `failed_delivery`,
/// nothing is collected, and the courier has room for what waits.
#[tracing::instrument(skip(state, req))]
async fn failed(state: &State, req: &Request, id: DeliveryId) -> Result<Response, ApiError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        reason: String,
    }
    let caller = signed_in(state, req).await?;
    let body: Body = edge::parse_json(req)?;
    let reason: FailureReason = body.reason.parse().map_err(|_| {
        ApiError::unprocessable(format!(
            "`reason` is one of {}.",
            FailureReason::ALL
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let mut tx = state.pool.begin().await?;
    let deliveries::Locked {
        mut order, status, ..
    } = lock_for(&mut tx, &caller, id).await?;
    if !status.can_become(DeliveryStatus::Failed) {
        return Err(wrong_state(id, status, "out for delivery"));
    }
    let events = lifecycle::change_status(
        &mut tx,
        &mut order,
        OrderStatus::FailedDelivery,
        &By::from(&caller),
        Some(&format!("échec de livraison : {}", reason.french())),
    )
    .await?;
    deliveries::mark_failed(&mut tx, id, reason).await?;
    assign::assign_waiting(&mut tx, order.pizzeria_id).await?;
    tx.commit().await?;
    tracing::info!(delivery = %id, reason = reason.as_str(), "delivery failed");
    outbox::send_now(&state.pool, &state.queues, &events).await;
    answer(state, id).await
}

// ---------------------------------------------------------------- shifts

/// A courier's shift refused or a courier change refused, as the screens
/// read it.
fn shift_problem(err: ShiftError) -> ApiError {
    match err {
        ShiftError::StillCarrying(n) => ApiError::conflict(
            "deliveries-on-the-way",
            "Deliveries on the way",
            format!("{n} deliveries are still on the way: deliver them before ending the shift."),
        )
        .with("out_for_delivery", n),
        ShiftError::NotReassignable(status) => ApiError::conflict(
            "delivery-state",
            "Not possible now",
            format!("The delivery is {status}: only one not yet picked up changes courier."),
        )
        .with("delivery_status", status.as_str()),
        ShiftError::NoSuchCourier(id) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no-such-courier",
            "No such courier",
            format!("User {id} is no active courier of this pizzeria."),
        ),
        ShiftError::OffShift(id) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "courier-off-shift",
            "Courier off shift",
            format!("Courier {id} is not on shift: they start it from their screen."),
        ),
        ShiftError::Database(e) => e.into(),
    }
}

/// The courier's own pizzeria (every staff account has one).
fn courier_pizzeria(caller: &Caller) -> Result<PizzeriaId, ApiError> {
    caller
        .pizzeria_id
        .ok_or_else(|| ApiError::forbidden("This account works in no pizzeria."))
}

/// `GET /shift`: is the courier on shift, since when.
#[tracing::instrument(skip(state, req))]
async fn shift(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = signed_in(state, req).await?;
    access::check_role(Some(&caller), Action::CourierShift)?;
    let since = shifts::since(&state.pool, caller.user_id).await?;
    edge::json(StatusCode::OK, &json!({ "on_shift_since": since }))
}

/// `POST /shift` (`start`): the courier starts their shift (again: nothing
/// changes) and is given what waits. `DELETE /shift`: they end it; what
/// they had not picked up goes to the couriers still on shift; 409 with
/// deliveries on the way.
#[tracing::instrument(skip(state, req))]
async fn change_shift(state: &State, req: &Request, start: bool) -> Result<Response, ApiError> {
    let caller = signed_in(state, req).await?;
    access::check_role(Some(&caller), Action::CourierShift)?;
    let pizzeria = courier_pizzeria(&caller)?;
    let mut tx = state.pool.begin().await?;
    let change = if start {
        shifts::start(&mut tx, caller.user_id, pizzeria).await
    } else {
        shifts::end(&mut tx, caller.user_id, pizzeria).await
    }
    .map_err(shift_problem)?;
    tx.commit().await?;
    tracing::info!(
        courier = %caller.user_id,
        start,
        assigned = change.assigned,
        given_back = change.given_back,
        "shift changed"
    );
    edge::json(StatusCode::OK, &change)
}

/// The pizzeria a manager (theirs) or the admin (`?pizzeria_id=`) means.
fn managed_pizzeria(req: &Request, caller: &Caller) -> Result<PizzeriaId, ApiError> {
    edge::query_pairs(req)
        .into_iter()
        .find(|(k, _)| k == "pizzeria_id")
        .map(|(_, v)| edge::path_param::<PizzeriaId>(&v, "pizzeria"))
        .transpose()?
        .or(caller.pizzeria_id)
        .ok_or_else(|| ApiError::unprocessable("Give `pizzeria_id`."))
}

/// `GET /couriers`: the pizzeria's active couriers, on shift first, with
/// their load.
#[tracing::instrument(skip(state, req))]
async fn couriers(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = signed_in(state, req).await?;
    let pizzeria = managed_pizzeria(req, &caller)?;
    access::check(Some(&caller), Action::AssignCourier, pizzeria)?;
    let couriers = shifts::couriers(&state.pool, pizzeria).await?;
    edge::json(StatusCode::OK, &json!({ "couriers": couriers }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CourierChoice {
    courier_id: UserId,
}

/// `POST /deliveries/{id}/courier` `{"courier_id"}`: a manager gives a
/// delivery not yet picked up to a courier on shift of its pizzeria.
#[tracing::instrument(skip(state, req))]
async fn reassign(state: &State, req: &Request, id: DeliveryId) -> Result<Response, ApiError> {
    let caller = signed_in(state, req).await?;
    access::check_role(Some(&caller), Action::AssignCourier)?;
    let choice: CourierChoice = edge::parse_json(req)?;
    let mut tx = state.pool.begin().await?;
    let locked = deliveries::lock(&mut tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let pizzeria = locked.order.pizzeria_id;
    access::check(Some(&caller), Action::AssignCourier, pizzeria)?;
    shifts::reassign(&mut tx, id, locked.status, pizzeria, choice.courier_id)
        .await
        .map_err(shift_problem)?;
    tx.commit().await?;
    tracing::info!(delivery = %id, courier = %choice.courier_id, "delivery given to another courier");
    answer(state, id).await
}

async fn answer(state: &State, id: DeliveryId) -> Result<Response, ApiError> {
    let view = deliveries::get(&state.pool, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    edge::json(StatusCode::OK, &json!({ "delivery": view }))
}
