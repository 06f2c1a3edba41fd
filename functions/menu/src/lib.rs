//! The menu function: the group's pizzerias, and one pizzeria's menu with
//! live availability from its stock.
//!
//! `GET /pizzerias` and `GET /pizzerias/{id}/menu`; both answer with an `ETag`
//! so a page polling for availability pays for a 304 when nothing changed.
//! Each product of a menu carries its `photo` (or `null`), its addresses
//! built from `PHOTOS_URL` and the recorded version: the menu never asks S3.
//!
//! A menu is one statement ([`catalogue::live`]): the pizzeria's stock net
//! of reservations with the catalogue's and the pizzerias' versions. The
//! rest (pizzerias, products, recipes, sizes, extras, allergens,
//! exclusions, photos) is kept per container and read again only when its
//! version moved or its copy is older than its TTL; availability is always
//! that request's. The last menu answered for each pizzeria is kept too,
//! with what it was made of: when the same copy, the same pizzeria and the
//! same stock come again, its bytes and `ETag` are served again rather
//! than made, serialized and hashed again.

use chrono::{DateTime, Utc};
use http::Method;
use ocpizza::catalog::catalogue::{self, Catalogue};
use ocpizza::catalog::{self, Pizzeria};
use ocpizza::order::promise;
use ocpizza::order::Fulfilment;
use ocpizza::platform::clock::Clock;
use ocpizza::platform::http::{self as edge, ApiError, Cors, Request, Response};
use ocpizza::platform::ids::{IngredientId, PizzeriaId};
use serde_json::json;
use sqlx::MySqlPool;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How long a container keeps the pizzerias at most: within it, a request
/// checks only their version and reloads them when it moved
/// ([`catalog::KeptPizzerias`], shared with checkout).
pub const PIZZERIAS_TTL: Duration = catalog::PIZZERIAS_TTL;

/// How long a container keeps the catalogue at most (products, recipes,
/// sizes, extras, allergens, exclusions, photos: [`Catalogue`]). Within it,
/// the version read with the stock ([`catalogue::live`]) says whether it
/// is current: every change made through our code bumps it. Past it the
/// catalogue is read again anyway: a change made by hand in SQL, without a
/// bump, shows within this time.
pub const CATALOG_TTL: Duration = catalogue::TTL;

/// What every invocation of this container shares.
#[derive(Clone)]
pub struct State {
    pub pool: MySqlPool,
    pub cors: Cors,
    /// "Now" for the promised times and the slots.
    pub clock: Clock,
    /// `PHOTOS_URL`: where the product photos are served (empty: no photos).
    pub photos_url: String,
    /// How long the kept catalogue is trusted: [`CATALOG_TTL`] (a test
    /// makes it shorter or longer rather than waiting).
    pub catalog_ttl: Duration,
    pizzerias: catalog::KeptPizzerias,
    catalogue: catalogue::Kept,
    /// The last menu answered, by pizzeria (as many as there are
    /// pizzerias: an unknown id is a 404 before). Never held across an
    /// `await`: a plain lock.
    answered: Arc<Mutex<HashMap<PizzeriaId, Arc<Answered>>>>,
}

/// A menu as answered, and all it was made of: [`Catalogue::menu`] is a
/// function of the copy, the pizzeria as it stood and the stock alone.
struct Answered {
    catalogue: Arc<Catalogue>,
    pizzeria: Pizzeria,
    available: BTreeMap<IngredientId, i64>,
    body: Vec<u8>,
    etag: String,
}

impl State {
    pub fn new(pool: MySqlPool, cors: Cors) -> State {
        State {
            pool,
            cors,
            clock: Clock::System,
            photos_url: String::new(),
            catalog_ttl: CATALOG_TTL,
            pizzerias: catalog::KeptPizzerias::default(),
            catalogue: catalogue::Kept::default(),
            answered: Arc::default(),
        }
    }

    /// The pizzerias, from this container's copy when it is current.
    async fn pizzerias(&self) -> Result<Arc<Vec<Pizzeria>>, sqlx::Error> {
        let version = catalog::pizzerias_version(&self.pool).await?;
        self.pizzerias.at(&self.pool, version).await
    }

    /// One pizzeria as it stands at `now`, the pizzerias' version already
    /// read; 404 for an unknown id.
    async fn pizzeria_at(
        &self,
        id: PizzeriaId,
        version: (i64, i64),
        now: DateTime<Utc>,
    ) -> Result<Pizzeria, ApiError> {
        self.pizzerias
            .one(&self.pool, id, version, now)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("No pizzeria with id {id}.")))
    }

    /// The catalogue, from this container's copy when it is at `version`.
    async fn catalogue_at(&self, version: i64) -> Result<Arc<Catalogue>, sqlx::Error> {
        self.catalogue
            .at(&self.pool, version, self.catalog_ttl, &self.photos_url)
            .await
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
    // Availability is live: read from the stock at each request, never
    // kept; with it, the versions of what is kept.
    let live = catalogue::live(&state.pool, id).await?;
    let pizzeria = state
        .pizzeria_at(id, live.pizzerias_version, Utc::now())
        .await?;
    let catalogue = state.catalogue_at(live.catalog_version).await?;
    let answered = |map: &HashMap<PizzeriaId, Arc<Answered>>| map.get(&id).cloned();
    let last = answered(
        &state
            .answered
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    if let Some(last) = last.filter(|last| {
        Arc::ptr_eq(&last.catalogue, &catalogue)
            && last.pizzeria == pizzeria
            && last.available == live.available
    }) {
        return Ok(edge::json_bytes_with_etag(
            req,
            Cow::Borrowed(&last.body),
            &last.etag,
        ));
    }
    let (products, extras) = catalogue.menu(&pizzeria, &live.available);
    let menu = catalog::Menu {
        pizzeria,
        products,
        extras,
    };
    let body = serde_json::to_vec(&menu).map_err(ApiError::internal)?;
    let etag = edge::etag_for(&body);
    let response = edge::json_bytes_with_etag(req, Cow::Borrowed(&body), &etag);
    let made = Answered {
        catalogue,
        pizzeria: menu.pizzeria,
        available: live.available,
        body,
        etag,
    };
    state
        .answered
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(id, Arc::new(made));
    Ok(response)
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
    // The kitchen's load and the pizzerias' version in one statement (as
    // checkout reads them); the pizzeria from the kept copy at that version.
    let (load, versions) = promise::load_and_versions(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No pizzeria with id {id}.")))?;
    let pizzeria = state.pizzeria_at(id, versions.pizzerias, now).await?;
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
