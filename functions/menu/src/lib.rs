//! The menu function: the group's pizzerias, and one pizzeria's menu with
//! live availability from its stock.
//!
//! `GET /pizzerias` and `GET /pizzerias/{id}/menu`; both answer with an `ETag`
//! so a page polling for availability pays for a 304 when nothing changed.

use chrono::Utc;
use http::Method;
use ocpizza::catalog::{self, Pizzeria};
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
    pizzerias: Arc<RwLock<Option<Kept>>>,
}

/// The pizzerias as read at that instant, at that version.
type Kept = (Instant, (i64, i64), Arc<Vec<Pizzeria>>);

impl State {
    pub fn new(pool: MySqlPool, cors: Cors) -> State {
        State {
            pool,
            cors,
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
        (_, ["pizzerias"]) | (_, ["pizzerias", _, "menu"]) => {
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
    let pizzeria = state
        .pizzerias()
        .await?
        .iter()
        .find(|p| p.id == id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("No pizzeria with id {id}.")))?
        .at(Utc::now());
    // Availability is live: one query on the stock, never cached.
    let products = catalog::products(&state.pool, &pizzeria).await?;
    edge::json_with_etag(req, &catalog::Menu { pizzeria, products })
}
