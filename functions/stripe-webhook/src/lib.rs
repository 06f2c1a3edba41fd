//! The stripe-webhook function: `POST /` with Stripe's events.
//!
//! The `Stripe-Signature` is checked on the raw body bytes (HMAC-SHA256 with
//! the endpoint secret, 300 s tolerance) before anything is read; a bad or
//! missing signature is a 400 and changes nothing. Each event id is recorded
//! once, in the transaction that applies it, so Stripe's retries (and
//! duplicates, in any order) take effect once and still get their 200.

use chrono::Utc;
use http::{Method, StatusCode};
use ocpizza::order::lifecycle::{self, By};
use ocpizza::payment::settlement;
use ocpizza::payment::{self, EventObject, PaymentIntentStatus};
use ocpizza::platform::consumer;
use ocpizza::platform::http::{self as edge, ApiError, Cors, Request, Response};
use ocpizza::platform::metrics::{self, Metric};
use ocpizza::platform::outbox;
use secrecy::ExposeSecret;
use serde_json::json;

const CONSUMER: &str = "stripe-webhook";

/// The database, the queues and Stripe.
pub type State = ocpizza::payment::Settling;

pub async fn handle(state: &State, req: Request) -> Response {
    // Stripe is not a browser: no CORS.
    edge::serve(&Cors::default(), req, |req| route(state, req)).await
}

async fn route(state: &State, req: Request) -> Result<Response, ApiError> {
    match (req.method(), edge::segments(&req).as_slice()) {
        (&Method::POST, []) => webhook(state, &req).await,
        (_, []) => Err(edge::no_route(&req, &[Method::POST])),
        _ => Err(edge::no_route(&req, &[])),
    }
}

fn bad_signature(detail: String) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad-signature",
        "Bad signature",
        detail,
    )
}

#[tracing::instrument(skip_all, fields(event_id, event_type))]
async fn webhook(state: &State, req: &Request) -> Result<Response, ApiError> {
    let payload: &[u8] = req.body().as_ref();
    let header = req
        .headers()
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| bad_signature("The Stripe-Signature header is missing.".into()))?;
    payment::verify_signature(
        payload,
        header,
        state.stripe.webhook_secret().expose_secret(),
        Utc::now().timestamp(),
    )
    .map_err(|e| bad_signature(e.to_string()))?;
    let event = payment::parse_event(payload)
        .map_err(|e| ApiError::bad_request(format!("The event could not be read: {e}")))?;
    let span = tracing::Span::current();
    span.record("event_id", event.id.as_str());
    span.record("event_type", event.event_type.as_str());

    // The order a PaymentIntent pays, read before the transaction: a second
    // connection taken while the first is held could wait on a full pool.
    let order_of = match &event.object {
        EventObject::PaymentIntent(intent, _) => settlement::order_of(&state.pool, intent).await?,
        _ => None,
    };
    let mut tx = state.pool.begin().await?;
    if !consumer::claim_id(&mut tx, CONSUMER, &event.id).await? {
        tracing::info!("duplicate event ignored");
        return edge::json(
            StatusCode::OK,
            &json!({ "received": true, "duplicate": true }),
        );
    }

    let by = By::system("stripe");
    let mut events = Vec::new();
    let mut refunds_of = None;
    match (&event.event_type[..], &event.object) {
        (
            "payment_intent.succeeded"
            | "payment_intent.payment_failed"
            | "payment_intent.canceled",
            EventObject::PaymentIntent(intent, _),
        ) => {
            match order_of {
                None if intent.status == PaymentIntentStatus::Succeeded => {
                    // Money we cannot tie to any order: nothing to refund it
                    // from here; staff refund it from Stripe's dashboard.
                    tracing::error!(payment_intent = %intent.id, amount_received = intent.amount_received.cents(), currency = %intent.currency, "payment for no known order: left to staff");
                    metrics::emit(Metric::PaymentsRejected, 1.0, None);
                }
                None => {
                    tracing::warn!(payment_intent = %intent.id, "payment event for no known order")
                }
                Some(order_id) => {
                    if let Some(mut order) = lifecycle::lock(&mut tx, order_id).await? {
                        let (outcome, emitted) =
                            settlement::apply_intent(&mut tx, &mut order, intent, &by)
                                .await
                                .map_err(|e| ApiError::internal(e.to_string()))?;
                        tracing::info!(%order_id, ?outcome, "payment event applied");
                        events = emitted;
                        refunds_of = Some(order_id);
                    }
                }
            }
        }
        (_, EventObject::Refund { id, status, .. }) => {
            settlement::record_refund_status(&mut tx, id, status).await?;
        }
        // Refunds we make are recorded when we make them; other events are
        // acknowledged so Stripe stops sending them.
        _ => tracing::debug!("event acknowledged without effect"),
    }
    tx.commit().await?;

    if event.event_type == "payment_intent.payment_failed" {
        metrics::emit(Metric::PaymentsFailed, 1.0, None);
    }
    for placed in events
        .iter()
        .filter(|e| e.event.type_name() == "order.placed")
    {
        let ocpizza::platform::queue::Event::OrderPlaced { pizzeria_id } = placed.event else {
            continue;
        };
        metrics::emit(Metric::OrdersPlaced, 1.0, Some(pizzeria_id.0));
    }
    outbox::send_now(&state.pool, &state.queues, &events).await;
    if let Some(order_id) = refunds_of {
        settlement::send_refunds_now(&state.pool, &state.stripe, order_id).await;
    }
    edge::json(StatusCode::OK, &json!({ "received": true }))
}
