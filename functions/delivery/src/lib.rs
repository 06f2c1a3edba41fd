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
//!   cash order → `delivered`, and the cash recorded as the order's payment.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, NaiveDateTime, Utc};
use http::{Method, StatusCode};
use ocpizza::identity::access::{self, Action};
use ocpizza::identity::auth::{self, Caller};
use ocpizza::identity::role::Role;
use ocpizza::order::lifecycle::{self, By};
use ocpizza::order::{Fulfilment, OrderStatus, PaymentMethod};
use ocpizza::platform::clock::utc;
use ocpizza::platform::consumer::{self, ConsumeError};
use ocpizza::platform::http::{self as edge, ApiError, Cors, Request, Response};
use ocpizza::platform::ids::{OrderId, PizzeriaId, UserId};
use ocpizza::platform::queue::{Envelope, Event, Queues};
use ocpizza::{platform::outbox, Money};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{MySql, MySqlPool, Transaction};

/// The name under which this consumer records the messages it applied.
pub const CONSUMER: &str = "delivery";

/// Deliveries a courier carries at once: a scooter's top box holds about
/// three orders. Beyond that a new delivery waits for a courier to come back.
pub const COURIER_CAPACITY: i64 = 3;

/// Town riding speed for the ETA, and the time to hand an order over.
const RIDE_METRES_PER_MINUTE: i64 = 250; // 15 km/h
const HANDOVER_MINUTES: i64 = 3;
/// Each delivery already in the courier's box delays this one.
const MINUTES_PER_EARLIER_DELIVERY: i64 = 10;

#[derive(Clone)]
pub struct State {
    pub pool: MySqlPool,
    pub cors: Cors,
    pub queues: Queues,
    pub secret_key: SecretString,
}

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
    let cash_due = if order.payment_method == PaymentMethod::Cash {
        order.total_cents
    } else {
        0
    };
    sqlx::query(
        "INSERT INTO deliveries (order_id, pizzeria_id, status, distance_m, cash_to_collect_cents, created_at) \
         SELECT o.id, o.pizzeria_id, 'waiting', \
                COALESCE(o.distance_m, CASE WHEN o.latitude IS NULL THEN NULL ELSE \
                  ROUND(6371000 * 2 * ASIN(LEAST(1, SQRT( \
                    POWER(SIN(RADIANS(o.latitude - p.latitude) / 2), 2) + \
                    COS(RADIANS(p.latitude)) * COS(RADIANS(o.latitude)) * \
                    POWER(SIN(RADIANS(o.longitude - p.longitude) / 2), 2))))) END), \
                ?, UTC_TIMESTAMP(6) \
         FROM orders o JOIN pizzerias p ON p.id = o.pizzeria_id WHERE o.id = ? \
         ON DUPLICATE KEY UPDATE deliveries.id = deliveries.id",
    )
    .bind(cash_due)
    .bind(order.id.0)
    .execute(&mut *tx)
    .await?;
    let assigned = assign_waiting(&mut tx, pizzeria_id).await?;
    tx.commit().await?;
    tracing::info!(order_id = %order.id, assigned, "delivery created");
    Ok(())
}

/// Gives the pizzeria's waiting deliveries, oldest first, to the couriers with
/// the fewest active deliveries. The pizzeria's courier rows are locked, so
/// two assignments at once never overfill a courier. Returns how many were
/// assigned.
pub async fn assign_waiting(
    tx: &mut Transaction<'_, MySql>,
    pizzeria: PizzeriaId,
) -> Result<usize, sqlx::Error> {
    let couriers: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM users WHERE pizzeria_id = ? AND role = 'courier' AND active ORDER BY id FOR UPDATE",
    )
    .bind(pizzeria.0)
    .fetch_all(&mut **tx)
    .await?;
    let waiting: Vec<(i64, Option<i32>)> = sqlx::query_as(
        "SELECT id, distance_m FROM deliveries WHERE pizzeria_id = ? AND status = 'waiting' \
         ORDER BY created_at, id FOR UPDATE",
    )
    .bind(pizzeria.0)
    .fetch_all(&mut **tx)
    .await?;
    if couriers.is_empty() || waiting.is_empty() {
        return Ok(0);
    }
    let active: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT courier_id, COUNT(*) FROM deliveries \
         WHERE pizzeria_id = ? AND status IN ('assigned', 'out_for_delivery') AND courier_id IS NOT NULL \
         GROUP BY courier_id",
    )
    .bind(pizzeria.0)
    .fetch_all(&mut **tx)
    .await?;
    let mut load: Vec<(i64, i64)> = couriers
        .iter()
        .map(|(id,)| {
            let n = active.iter().find(|(c, _)| c == id).map_or(0, |(_, n)| *n);
            (*id, n)
        })
        .collect();
    let mut assigned = 0;
    for (delivery, distance) in waiting {
        let Some(slot) = load
            .iter_mut()
            .filter(|(_, n)| *n < COURIER_CAPACITY)
            .min_by_key(|(id, n)| (*n, *id))
        else {
            break;
        };
        let minutes = eta_minutes(distance, slot.1);
        sqlx::query(
            "UPDATE deliveries SET courier_id = ?, status = 'assigned', assigned_at = UTC_TIMESTAMP(6), \
             eta = UTC_TIMESTAMP(6) + INTERVAL ? MINUTE WHERE id = ?",
        )
        .bind(slot.0)
        .bind(minutes)
        .bind(delivery)
        .execute(&mut **tx)
        .await?;
        slot.1 += 1;
        assigned += 1;
    }
    Ok(assigned)
}

/// Minutes from assignment to the door: the ride, the handover, and the
/// deliveries already in the courier's box.
pub fn eta_minutes(distance_m: Option<i32>, deliveries_before: i64) -> i64 {
    let metres = i64::from(distance_m.unwrap_or(3_000)).max(0);
    let ride = (metres + RIDE_METRES_PER_MINUTE - 1) / RIDE_METRES_PER_MINUTE;
    ride + HANDOVER_MINUTES + deliveries_before * MINUTES_PER_EARLIER_DELIVERY
}

// ---------------------------------------------------------------- HTTP

pub async fn handle(state: &State, req: Request) -> Response {
    edge::serve(&state.cors, req, |req| route(state, req)).await
}

async fn route(state: &State, req: Request) -> Result<Response, ApiError> {
    let segments = edge::segments(&req);
    let id = |s: &str| edge::path_param::<i64>(s, "delivery");
    match (req.method(), segments.as_slice()) {
        (&Method::GET, ["deliveries"]) => list(state, &req).await,
        (&Method::POST, ["deliveries", d, "pickup"]) => pickup(state, &req, id(d)?).await,
        (&Method::POST, ["deliveries", d, "delivered"]) => delivered(state, &req, id(d)?).await,
        (_, ["deliveries"]) => Err(edge::no_route(&req, &[Method::GET])),
        (_, ["deliveries", _, "pickup" | "delivered"]) => {
            Err(edge::no_route(&req, &[Method::POST]))
        }
        _ => Err(edge::no_route(&req, &[])),
    }
}

async fn signed_in(state: &State, req: &Request) -> Result<Caller, ApiError> {
    auth::authenticate(
        &state.pool,
        req,
        state.secret_key.expose_secret().as_bytes(),
    )
    .await?
    .ok_or_else(|| ApiError::unauthorized("Sign in with a courier or manager account."))
}

#[derive(Debug, Clone, Serialize)]
pub struct DeliveryAddress {
    pub line1: String,
    pub postcode: String,
    pub city: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Opens the courier's map app on the address.
    pub map_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    pub id: i64,
    pub order_id: OrderId,
    pub number: String,
    pub pizzeria_id: PizzeriaId,
    /// `waiting`, `assigned`, `out_for_delivery`, `delivered`.
    pub status: String,
    pub courier_id: Option<UserId>,
    pub address: Option<DeliveryAddress>,
    pub customer_name: String,
    pub customer_phone: String,
    pub payment_method: String,
    pub total_cents: i64,
    pub distance_m: Option<i32>,
    pub eta: Option<DateTime<Utc>>,
    /// Cash the courier takes at the door (0 for card orders).
    pub cash_to_collect_cents: i64,
    pub cash_to_collect: String,
    pub cash_collected_cents: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub picked_up_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    order_id: i64,
    number: String,
    pizzeria_id: i64,
    status: String,
    courier_id: Option<i64>,
    address_line1: Option<String>,
    address_postcode: Option<String>,
    address_city: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    contact_name: String,
    contact_phone: String,
    payment_method: String,
    total_cents: i64,
    distance_m: Option<i32>,
    eta: Option<NaiveDateTime>,
    cash_to_collect_cents: i64,
    cash_collected_cents: Option<i64>,
    created_at: NaiveDateTime,
    assigned_at: Option<NaiveDateTime>,
    picked_up_at: Option<NaiveDateTime>,
    delivered_at: Option<NaiveDateTime>,
}

const DELIVERY_SELECT: &str = "SELECT d.id, d.order_id, o.number, d.pizzeria_id, d.status, d.courier_id, \
     o.address_line1, o.address_postcode, o.address_city, o.latitude, o.longitude, \
     o.contact_name, o.contact_phone, o.payment_method, o.total_cents, d.distance_m, d.eta, \
     d.cash_to_collect_cents, d.cash_collected_cents, d.created_at, d.assigned_at, d.picked_up_at, d.delivered_at \
     FROM deliveries d JOIN orders o ON o.id = d.order_id";

impl From<DeliveryRow> for DeliveryView {
    fn from(r: DeliveryRow) -> Self {
        let address = match (r.address_line1, r.address_postcode, r.address_city) {
            (Some(line1), Some(postcode), Some(city)) => {
                let query = match (r.latitude, r.longitude) {
                    (Some(lat), Some(lng)) => format!("{lat:.6},{lng:.6}"),
                    _ => form_query(&format!("{line1}, {postcode} {city}")),
                };
                Some(DeliveryAddress {
                    map_url: format!("https://www.google.com/maps/search/?api=1&query={query}"),
                    line1,
                    postcode,
                    city,
                    latitude: r.latitude,
                    longitude: r.longitude,
                })
            }
            _ => None,
        };
        DeliveryView {
            id: r.id,
            order_id: OrderId(r.order_id),
            number: r.number,
            pizzeria_id: PizzeriaId(r.pizzeria_id),
            status: r.status,
            courier_id: r.courier_id.map(UserId),
            address,
            customer_name: r.contact_name,
            customer_phone: r.contact_phone,
            payment_method: r.payment_method,
            total_cents: r.total_cents,
            distance_m: r.distance_m,
            eta: r.eta.map(utc),
            cash_to_collect: Money::from_cents(r.cash_to_collect_cents).to_string(),
            cash_to_collect_cents: r.cash_to_collect_cents,
            cash_collected_cents: r.cash_collected_cents,
            created_at: utc(r.created_at),
            assigned_at: r.assigned_at.map(utc),
            picked_up_at: r.picked_up_at.map(utc),
            delivered_at: r.delivered_at.map(utc),
        }
    }
}

fn form_query(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join("+")
}

pub async fn delivery(pool: &MySqlPool, id: i64) -> Result<Option<DeliveryView>, sqlx::Error> {
    let row: Option<DeliveryRow> = sqlx::query_as(&format!("{DELIVERY_SELECT} WHERE d.id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(DeliveryView::from))
}

/// The delivery of an order, if it has one.
pub async fn delivery_of(
    pool: &MySqlPool,
    order: OrderId,
) -> Result<Option<DeliveryView>, sqlx::Error> {
    let row: Option<DeliveryRow> =
        sqlx::query_as(&format!("{DELIVERY_SELECT} WHERE d.order_id = ?"))
            .bind(order.0)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(DeliveryView::from))
}

/// A courier's own run (active ones, then what they delivered in the last 12
/// hours); for a manager or the admin, a pizzeria's deliveries.
#[tracing::instrument(skip(state, req))]
async fn list(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = auth::authenticate(
        &state.pool,
        req,
        state.secret_key.expose_secret().as_bytes(),
    )
    .await?;
    let recent =
        "(d.status <> 'delivered' OR d.delivered_at > UTC_TIMESTAMP(6) - INTERVAL 12 HOUR)";
    let order_by = "ORDER BY FIELD(d.status, 'out_for_delivery', 'assigned', 'waiting', 'delivered'), d.created_at, d.id";
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
    let rows: Vec<DeliveryRow> = if pizzeria_view {
        let pizzeria = wanted
            .or_else(|| caller.as_ref().and_then(|c| c.pizzeria_id))
            .ok_or_else(|| {
                ApiError::unprocessable("Give `pizzeria_id` to list a pizzeria's deliveries.")
            })?;
        access::check(caller.as_ref(), Action::PizzeriaDeliveries, pizzeria)?;
        sqlx::query_as(&format!(
            "{DELIVERY_SELECT} WHERE d.pizzeria_id = ? AND {recent} {order_by}"
        ))
        .bind(pizzeria.0)
        .fetch_all(&state.pool)
        .await?
    } else {
        let caller = access::check_role(caller.as_ref(), Action::OwnDeliveries)?;
        sqlx::query_as(&format!(
            "{DELIVERY_SELECT} WHERE d.courier_id = ? AND {recent} {order_by}"
        ))
        .bind(caller.user_id.0)
        .fetch_all(&state.pool)
        .await?
    };
    let deliveries: Vec<DeliveryView> = rows.into_iter().map(DeliveryView::from).collect();
    edge::json_with_etag(req, &json!({ "deliveries": deliveries }))
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("No delivery {id}."))
}

/// Locks the delivery's order then the delivery (the consumer's order too),
/// and checks the caller may act on it: its courier, a manager of its
/// pizzeria, or the admin.
async fn lock_for(
    tx: &mut Transaction<'_, MySql>,
    caller: &Caller,
    id: i64,
) -> Result<(lifecycle::OrderHead, String, Option<i64>, i64), ApiError> {
    let order_id: Option<(i64,)> = sqlx::query_as("SELECT order_id FROM deliveries WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    let (order_id,) = order_id.ok_or_else(|| not_found(id))?;
    let order = lifecycle::lock(tx, OrderId(order_id))
        .await?
        .ok_or_else(|| not_found(id))?;
    let (status, courier, cash_due): (String, Option<i64>, i64) = sqlx::query_as(
        "SELECT status, courier_id, cash_to_collect_cents FROM deliveries WHERE id = ? FOR UPDATE",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    access::check(Some(caller), Action::WorkDelivery, order.pizzeria_id)?;
    if caller.role == Role::Courier && courier != Some(caller.user_id.0) {
        return Err(ApiError::forbidden("This delivery is another courier's."));
    }
    Ok((order, status, courier, cash_due))
}

fn wrong_state(id: i64, status: &str, wanted: &str) -> ApiError {
    ApiError::conflict(
        "delivery-state",
        "Not possible now",
        format!("Delivery {id} is {status}; this needs it {wanted}."),
    )
    .with("delivery_status", status)
}

#[tracing::instrument(skip(state, req))]
async fn pickup(state: &State, req: &Request, id: i64) -> Result<Response, ApiError> {
    let caller = signed_in(state, req).await?;
    let mut tx = state.pool.begin().await?;
    let (mut order, status, _, _) = lock_for(&mut tx, &caller, id).await?;
    if status != "assigned" {
        return Err(wrong_state(id, &status, "assigned to a courier"));
    }
    let events = lifecycle::change_status(
        &mut tx,
        &mut order,
        OrderStatus::OutForDelivery,
        &By::from(&caller),
        None,
    )
    .await?;
    sqlx::query(
        "UPDATE deliveries SET status = 'out_for_delivery', picked_up_at = UTC_TIMESTAMP(6) WHERE id = ?",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
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
async fn delivered(state: &State, req: &Request, id: i64) -> Result<Response, ApiError> {
    let caller = signed_in(state, req).await?;
    let body: Delivered = if req.body().is_empty() {
        Delivered::default()
    } else {
        edge::parse_json(req)?
    };
    let mut tx = state.pool.begin().await?;
    let (mut order, status, _, cash_due) = lock_for(&mut tx, &caller, id).await?;
    if status != "out_for_delivery" {
        return Err(wrong_state(id, &status, "out for delivery"));
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
    sqlx::query(
        "UPDATE deliveries SET status = 'delivered', delivered_at = UTC_TIMESTAMP(6), \
         cash_collected_cents = ? WHERE id = ?",
    )
    .bind(body.cash_collected_cents.map(|_| collected))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if cash_due > 0 {
        // What was due is the order's payment; anything above it is the tip.
        sqlx::query(
            "INSERT INTO payments (order_id, provider, kind, provider_ref, amount_cents, status, created_at, updated_at) \
             VALUES (?, 'cash', 'charge', ?, ?, 'succeeded', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
        )
        .bind(order.id.0)
        .bind(format!("delivery-{id}"))
        .bind(cash_due)
        .execute(&mut *tx)
        .await?;
    }
    // The courier is one delivery lighter: give them what waits.
    assign_waiting(&mut tx, order.pizzeria_id).await?;
    tx.commit().await?;
    outbox::send_now(&state.pool, &state.queues, &events).await;
    answer(state, id).await
}

async fn answer(state: &State, id: i64) -> Result<Response, ApiError> {
    let view = delivery(&state.pool, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    edge::json(StatusCode::OK, &json!({ "delivery": view }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_grows_with_distance_and_the_courier_s_load() {
        assert_eq!(eta_minutes(Some(0), 0), HANDOVER_MINUTES);
        assert_eq!(eta_minutes(Some(2_500), 0), 10 + HANDOVER_MINUTES);
        assert_eq!(eta_minutes(Some(2_501), 0), 11 + HANDOVER_MINUTES);
        assert_eq!(
            eta_minutes(Some(2_500), 2),
            10 + HANDOVER_MINUTES + 2 * MINUTES_PER_EARLIER_DELIVERY
        );
        // No distance known: a typical 3 km.
        assert_eq!(eta_minutes(None, 0), 12 + HANDOVER_MINUTES);
    }

    #[test]
    fn map_links_use_coordinates_or_the_address() {
        assert_eq!(
            form_query("12 rue de la Paix, 75002 Paris"),
            "12+rue+de+la+Paix,+75002+Paris"
        );
    }
}
