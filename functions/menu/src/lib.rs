//! The menu function: the group's pizzerias, and one pizzeria's menu with
//! live availability from its stock.
//!
//! `GET /pizzerias` and `GET /pizzerias/{id}/menu`; both answer with an `ETag`
//! so a page polling for availability pays for a 304 when nothing changed.
//! Each product of a menu carries its `photo` (or `null`), its addresses
//! built from `PHOTOS_URL` and the recorded version: the menu never asks S3.

use chrono::{DateTime, Utc};
use http::Method;
use ocpizza::catalog::{self, Pizzeria};
use ocpizza::order::promise;
use ocpizza::order::Fulfilment;
use ocpizza::platform::clock::Clock;
use ocpizza::platform::http::{self as edge, ApiError, Cors, Request, Response};
use ocpizza::platform::ids::PizzeriaId;
use serde_json::json;
use sqlx::MySqlPool;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// How long a container keeps the pizzerias at most: within it, a request
/// checks only their version ([`catalog::pizzerias_version`], one small
/// query) and reloads them when it moved, so a new pizzeria, new hours, a
/// special day or a pause shows at the next request. Past it they are read
/// again anyway: a change made by hand in SQL, without a version, shows
/// within this time.
pub const PIZZERIAS_TTL: Duration = Duration::from_secs(30);

/// What every invocation of this container shares.
#[derive(Clone)]
pub struct State {
    pub pool: MySqlPool,
    pub cors: Cors,
    /// "Now" for the promised times and the slots.
    pub clock: Clock,
    /// `PHOTOS_URL`: where the product photos are served (empty: no photos).
    pub photos_url: String,
    pizzerias: Arc<RwLock<Option<Kept>>>,
}

/// The pizzerias as read at that instant, at that version.
type Kept = (Instant, (i64, i64), Arc<Vec<Pizzeria>>);

impl State {
    pub fn new(pool: MySqlPool, cors: Cors) -> State {
        State {
            pool,
            cors,
            clock: Clock::System,
            photos_url: String::new(),
            pizzerias: Arc::default(),
        }
    }

    /// The pizzerias, from this container's copy when it is current.
    async fn pizzerias(&self) -> Result<Arc<Vec<Pizzeria>>, sqlx::Error> {
        let version = catalog::pizzerias_version(&self.pool).await?;
        if let Some((at, kept, list)) = self.pizzerias.read().await.as_ref() {
            if *kept == version && at.elapsed() < PIZZERIAS_TTL {
                return Ok(list.clone());
            }
        }
        let list = Arc::new(catalog::pizzerias(&self.pool, Utc::now()).await?);
        *self.pizzerias.write().await = Some((Instant::now(), version, list.clone()));
        Ok(list)
    }

    /// One pizzeria as it stands at `now`; 404 for an unknown id.
    async fn pizzeria(&self, id: PizzeriaId, now: DateTime<Utc>) -> Result<Pizzeria, ApiError> {
        self.pizzerias()
            .await?
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.clone().at(now))
            .ok_or_else(|| ApiError::not_found(format!("No pizzeria with id {id}.")))
    }
}

pub async fn handle(state: &State, req: Request) -> Response {
    edge::serve(&state.cors, req, |req| route(state, req)).await
}

async fn route(state: &State, req: Request) -> Result<Response, ApiError> {
    match (req.method(), edge::segments(&req).as_slice()) {
        (&Method::GET, ["pizzerias"]) => list_pizzerias(state, &req).await,
        (&Method::GET, ["pizzerias", id, "menu"]) => {
            menu(state, &req, edge::path_param(id, "pizzeria")?).await
        }
        (&Method::GET, ["pizzerias", id, "times"]) => {
            times(state, edge::path_param(id, "pizzeria")?).await
        }
        (_, ["pizzerias"]) | (_, ["pizzerias", _, "menu" | "times"]) => {
            Err(edge::no_route(&req, &[Method::GET]))
        }
        _ => Err(edge::no_route(&req, &[])),
    }
}

#[tracing::instrument(skip_all)]
async fn list_pizzerias(state: &State, req: &Request) -> Result<Response, ApiError> {
    let now = Utc::now();
    let pizzerias: Vec<Pizzeria> = state
        .pizzerias()
        .await?
        .iter()
        .map(|p| p.clone().at(now))
        .collect();
    edge::json_with_etag(req, &json!({ "pizzerias": pizzerias }))
}

#[tracing::instrument(skip(state, req), fields(pizzeria_id = %id))]
async fn menu(state: &State, req: &Request, id: PizzeriaId) -> Result<Response, ApiError> {
    let pizzeria = state.pizzeria(id, Utc::now()).await?;
    // Availability is live: read from the stock at each request, never cached.
    let (mut products, extras) = catalog::listing(&state.pool, &pizzeria).await?;
    let photos = catalog::photos::all(&state.pool).await?;
    catalog::photos::attach(&mut products, &photos, &state.photos_url);
    edge::json_with_etag(
        req,
        &catalog::Menu {
            pizzeria,
            products,
            extras,
        },
    )
}

/// `GET /pizzerias/{id}/times`: what the shop tells before ordering. When an
/// order placed now would be ready (pickup) and at the door (a typical
/// delivery; checkout computes it from the real distance), from the kitchen's
/// queue and the couriers' load; and the quarter hours open for a
/// pre-order, each `full` once it has its `slot_capacity` orders. Never
/// cached: the queue moves with every order.
#[tracing::instrument(skip(state), fields(pizzeria_id = %id))]
async fn times(state: &State, id: PizzeriaId) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let pizzeria = state.pizzeria(id, now).await?;
    let load = promise::load(&state.pool, id).await?;
    let ready_at = promise::as_soon_as_possible(now, Fulfilment::Pickup, None, load);
    let delivered_at = promise::as_soon_as_possible(now, Fulfilment::Delivery, None, load);
    let slots = if pizzeria.accepting_orders && pizzeria.slot_capacity > 0 {
        promise::slots(&pizzeria.rule(), now, ready_at)
    } else {
        Vec::new()
    };
    let taken = match slots.first() {
        Some(first) => promise::taken_from(&state.pool, id, *first).await?,
        None => Vec::new(),
    };
    let capacity = i64::from(pizzeria.slot_capacity);
    let delivery_from = promise::next_quarter_hour(delivered_at);
    let slots: Vec<_> = slots
        .into_iter()
        .map(|at| {
            let n = taken.iter().find(|(s, _)| *s == at).map_or(0, |(_, n)| *n);
            json!({ "at": at, "full": n >= capacity, "delivery": at >= delivery_from })
        })
        .collect();
    edge::json(
        http::StatusCode::OK,
        &json!({
            "pizzeria_id": id,
            "now": now,
            "open_now": pizzeria.open_now,
            "prep_minutes": pizzeria.prep_minutes,
            "ready_at": ready_at,
            "delivered_at": delivered_at,
            "slot_capacity": capacity,
            "slots": slots,
        }),
    )
}
