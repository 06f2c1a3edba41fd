//! The menu function: the group's pizzerias, and one pizzeria's menu with
//! live availability from its stock.
//!
//! `GET /pizzerias` and `GET /pizzerias/{id}/menu`; both answer with an `ETag`
//! so a page polling for availability pays for a 304 when nothing changed.

use chrono::Utc;
use http::Method;
use ocpizza::catalog;
use ocpizza::http::{self as edge, ApiError, Cors, Request, Response};
use ocpizza::ids::PizzeriaId;
use serde_json::json;
use sqlx::MySqlPool;

/// What every invocation of this container shares.
#[derive(Clone)]
pub struct State {
    pub pool: MySqlPool,
    pub cors: Cors,
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
    let pizzerias = catalog::pizzerias(&state.pool, Utc::now()).await?;
    edge::json_with_etag(req, &json!({ "pizzerias": pizzerias }))
}

#[tracing::instrument(skip(state, req), fields(pizzeria_id = %id))]
async fn menu(state: &State, req: &Request, id: PizzeriaId) -> Result<Response, ApiError> {
    let menu = catalog::menu(&state.pool, id, Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No pizzeria with id {id}.")))?;
    edge::json_with_etag(req, &menu)
}
