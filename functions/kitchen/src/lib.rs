//! The kitchen function: the order queue puts tickets on each pizzeria's
//! kitchen display; pizzaiolos start them and mark them ready.
//!
//! From the kitchen queue (SQS, partial batch failures):
//! - `order.placed` → a `waiting` ticket (or a withdrawn one back), unless
//!   the order left `placed` first;
//! - `order.cancelled`, `order.payment_due` (a paid order made bigger, waiting
//!   for the difference) → the waiting ticket is withdrawn from the display,
//!   unless the order is `placed` again by then.
//!
//! Over HTTP, for the pizzaiolos (and managers) of the pizzeria, and the admin:
//! - `GET /pizzerias/{id}/tickets`: waiting and preparing tickets in arrival
//!   order, with their age, lines, and each pizza's recipe card. The `ETag`
//!   covers what changes the display (tickets, their status, the order's
//!   lines), not the ages, so a display polling every few seconds gets an
//!   empty 304 from one indexed query while nothing happens;
//! - `POST /tickets/{order_id}/start` → `preparing`: the reservation becomes
//!   consumption, and the customer can no longer change the order;
//! - `POST /tickets/{order_id}/ready` → `ready`, and `order.ready` through the
//!   outbox for the delivery function;
//! - `POST /tickets/{order_id}/remake` `{"line_no", "quantity", "reason"}`:
//!   a pizza burnt or dropped is made again; its ingredients come out of the
//!   stock once more, recorded as the order's waste (409 `out-of-stock` when
//!   the stock cannot);
//! - `GET /recipes/{product_id}`: the recipe card on its own.
//!
//! A transition the order's state forbids answers 409.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::Utc;
use http::{Method, StatusCode};
use ocpizza::catalog::recipe;
use ocpizza::exceptions;
use ocpizza::identity::access::{self, Action};
use ocpizza::identity::auth;
use ocpizza::kitchen::{self, TicketError, TicketStatus};
use ocpizza::order::lifecycle::{self, By};
use ocpizza::order::OrderStatus;
use ocpizza::platform::consumer::{self, ConsumeError};
use ocpizza::platform::http::{self as edge, ApiError, Request, Response};
use ocpizza::platform::ids::{OrderId, PizzeriaId, ProductId};
use ocpizza::platform::outbox;
use ocpizza::platform::queue::{Envelope, Event};
use serde_json::json;
use sqlx::MySqlPool;

/// The name under which this consumer records the messages it applied.
pub const CONSUMER: &str = "kitchen";

/// The database, CORS, the queues and the session key, as both triggers share them.
pub type State = ocpizza::platform::lambda::ScreensAndQueue;

// ---------------------------------------------------------------- the queue

/// Applies a batch from the kitchen queue; failed messages are named in the
/// answer and come back later.
pub async fn consume(state: &State, batch: SqsEvent) -> SqsBatchResponse {
    consumer::process_batch(CONSUMER, batch, |envelope| apply(&state.pool, envelope)).await
}

/// One message, exactly once: its event id is claimed in the transaction that
/// makes its effect.
pub async fn apply(pool: &MySqlPool, envelope: Envelope) -> Result<(), ConsumeError> {
    let mut tx = pool.begin().await?;
    if !consumer::claim(&mut tx, CONSUMER, &envelope.event_id).await? {
        tracing::info!(event_id = %envelope.event_id, "duplicate message ignored");
        tx.rollback().await?;
        return Ok(());
    }
    let order = envelope.order_id;
    match envelope.event {
        Event::OrderPlaced { pizzeria_id } => {
            let created = kitchen::receive(&mut tx, order, pizzeria_id).await?;
            tracing::info!(order_id = %order, pizzeria_id = %pizzeria_id, created, "ticket on the display");
        }
        Event::OrderCancelled { .. } | Event::OrderPaymentDue { .. } => {
            kitchen::withdraw(&mut tx, order).await?;
            tracing::info!(order_id = %order, "ticket withdrawn");
        }
        Event::OrderReady { .. } => {
            // Belongs on the delivery queue; acknowledged so it does not loop.
            tracing::warn!(order_id = %order, "order.ready on the kitchen queue ignored");
        }
    }
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- HTTP

pub async fn handle(state: &State, req: Request) -> Response {
    edge::serve(&state.cors, req, |req| route(state, req)).await
}

async fn route(state: &State, req: Request) -> Result<Response, ApiError> {
    let segments = edge::segments(&req);
    match (req.method(), segments.as_slice()) {
        (&Method::GET, ["pizzerias", p, "tickets"]) => {
            display(state, &req, edge::path_param(p, "pizzeria")?).await
        }
        (&Method::POST, ["tickets", o, "start"]) => {
            advance(
                state,
                &req,
                edge::path_param(o, "order")?,
                OrderStatus::Preparing,
            )
            .await
        }
        (&Method::POST, ["tickets", o, "ready"]) => {
            advance(
                state,
                &req,
                edge::path_param(o, "order")?,
                OrderStatus::Ready,
            )
            .await
        }
        (&Method::POST, ["tickets", o, "remake"]) => {
            remake(state, &req, edge::path_param(o, "order")?).await
        }
        (&Method::GET, ["recipes", p]) => {
            recipe(state, &req, edge::path_param(p, "product")?).await
        }
        (_, ["pizzerias", _, "tickets"]) | (_, ["recipes", _]) => {
            Err(edge::no_route(&req, &[Method::GET]))
        }
        (_, ["tickets", _, "start" | "ready" | "remake"]) => {
            Err(edge::no_route(&req, &[Method::POST]))
        }
        _ => Err(edge::no_route(&req, &[])),
    }
}

#[tracing::instrument(skip(state, req), fields(pizzeria_id = %pizzeria))]
async fn display(state: &State, req: &Request, pizzeria: PizzeriaId) -> Result<Response, ApiError> {
    let caller = auth::authenticate(&state.pool, req, &state.secret_key).await?;
    access::check(caller.as_ref(), Action::KitchenDisplay, pizzeria)?;
    let board = kitchen::board(&state.pool, pizzeria)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No pizzeria {pizzeria}.")))?;
    let etag = edge::etag_for(board.version().as_bytes());
    if edge::holds_etag(req, &etag) {
        return Ok(edge::not_modified(&etag));
    }
    let tickets = board.tickets(&state.pool, Utc::now()).await?;
    edge::json_tagged(req, &etag, &json!({ "tickets": tickets }))
}

/// Start (`preparing`) or finish (`ready`) a ticket, with the order's
/// transition and its side effects in one transaction.
#[tracing::instrument(skip(state, req), fields(order_id = %id))]
async fn advance(
    state: &State,
    req: &Request,
    id: OrderId,
    to: OrderStatus,
) -> Result<Response, ApiError> {
    // A bad session is refused before anything is read.
    let signed_in = Some(
        auth::require(
            &state.pool,
            req,
            &state.secret_key,
            "Sign in with a staff account.",
        )
        .await?,
    );
    let mut tx = state.pool.begin().await?;
    let mut order = lifecycle::lock(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No ticket for order {id}.")))?;
    let caller = access::check(signed_in.as_ref(), Action::WorkTicket, order.pizzeria_id)?;
    let events = lifecycle::change_status(&mut tx, &mut order, to, &By::from(caller), None).await?;
    let ticket_status = match to {
        OrderStatus::Preparing => TicketStatus::Preparing,
        _ => TicketStatus::Ready,
    };
    kitchen::mark(&mut tx, id, order.pizzeria_id, ticket_status)
        .await
        .map_err(|e| match e {
            TicketError::Database(e) => ApiError::from(e),
            refused => ApiError::internal(refused),
        })?;
    tx.commit().await?;
    outbox::send_now(&state.pool, &state.queues, &events).await;
    let ticket = kitchen::ticket(&state.pool, id, Utc::now())
        .await?
        .ok_or_else(|| ApiError::internal("ticket vanished after its change"))?;
    edge::json(StatusCode::OK, &json!({ "ticket": ticket }))
}

/// Makes a line of the order again (see the module's head).
#[tracing::instrument(skip(state, req), fields(order_id = %id))]
async fn remake(state: &State, req: &Request, id: OrderId) -> Result<Response, ApiError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        line_no: i32,
        quantity: i64,
        reason: String,
    }
    let signed_in = auth::require(
        &state.pool,
        req,
        &state.secret_key,
        "Sign in with a staff account.",
    )
    .await?;
    let body: Body = edge::parse_json(req)?;
    let mut tx = state.pool.begin().await?;
    let order = lifecycle::lock(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No ticket for order {id}.")))?;
    let caller = access::check(Some(&signed_in), Action::RemakeLine, order.pizzeria_id)?;
    exceptions::remake(
        &mut tx,
        &order,
        &By::from(caller),
        body.line_no,
        body.quantity,
        &body.reason,
    )
    .await?;
    tx.commit().await?;
    let ticket = kitchen::ticket(&state.pool, id, Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No ticket for order {id}.")))?;
    edge::json(StatusCode::OK, &json!({ "ticket": ticket }))
}

#[tracing::instrument(skip(state, req), fields(product_id = %product))]
async fn recipe(state: &State, req: &Request, product: ProductId) -> Result<Response, ApiError> {
    let caller = auth::authenticate(&state.pool, req, &state.secret_key).await?;
    access::check_role(caller.as_ref(), Action::ReadRecipe)?;
    let card = recipe::cards(&state.pool, &[product])
        .await?
        .remove(&product)
        .ok_or_else(|| ApiError::not_found(format!("No recipe card for product {product}.")))?;
    edge::json_with_etag(req, &json!({ "recipe": card }))
}
