//! The geocode function: an address typed by a customer becomes coordinates,
//! the nearest active pizzeria that delivers there, its fee and minimum order.
//!
//! `GET /geocode?address=...`. Geocoding itself (Google, the database cache,
//! the demo addresses without a key) and the delivery zones live in
//! `ocpizza::geo`; this crate holds the route and the answer's shape.

use chrono::Utc;
use http::header::{HeaderValue, CACHE_CONTROL};
use http::{Method, StatusCode};
use ocpizza::catalog::{self, Pizzeria};
use ocpizza::geo::{self, GeoError, Geocoder, Zone};
use ocpizza::http::{self as edge, ApiError, Cors, Request, Response};
use serde_json::{json, Value};
use sqlx::MySqlPool;

/// What every invocation of this container shares.
#[derive(Clone)]
pub struct State {
    pub pool: MySqlPool,
    pub cors: Cors,
    pub geocoder: Geocoder,
}

/// How long a browser may reuse an answer. `private`: the query string is a
/// customer's address, which has no business in a shared cache; five
/// minutes: a pizzeria's zone, fee or status changes rarely, and checkout
/// checks the address again on the server anyway.
const CACHE_CONTROL_VALUE: &str = "private, max-age=300";

pub async fn handle(state: &State, req: Request) -> Response {
    edge::serve(&state.cors, req, |req| route(state, req)).await
}

async fn route(state: &State, req: Request) -> Result<Response, ApiError> {
    match (req.method(), edge::segments(&req).as_slice()) {
        (&Method::GET, ["geocode"]) => geocode(state, &req).await,
        (_, ["geocode"]) => Err(edge::no_route(&req, &[Method::GET])),
        _ => Err(edge::no_route(&req, &[])),
    }
}

/// The one `address` of the query string; the geocoder judges its content.
fn address(req: &Request) -> Result<String, ApiError> {
    let mut addresses = edge::query_pairs(req)
        .into_iter()
        .filter(|(name, _)| name == "address")
        .map(|(_, value)| value);
    match (addresses.next(), addresses.next()) {
        (Some(address), None) => Ok(address),
        (None, _) => Err(ApiError::unprocessable(
            "Give an address: /geocode?address=18 rue Mercière, 69002 Lyon",
        )),
        (Some(_), Some(_)) => Err(ApiError::unprocessable("Give one address, not several.")),
    }
}

#[tracing::instrument(skip_all, fields(source, pizzeria_id))]
async fn geocode(state: &State, req: &Request) -> Result<Response, ApiError> {
    let query = address(req)?;
    let found = state
        .geocoder
        .geocode_for(
            &state.pool,
            &query,
            ocpizza::http::client_address(req).as_deref(),
        )
        .await
        .map_err(geo_error)?;
    let ranked = geo::pizzerias_by_distance(&state.pool, found.coordinates).await?;
    let delivering: Vec<&Zone> = ranked.iter().filter(|z| z.delivers()).collect();
    let chosen = delivering.first().copied();
    // Always the nearest active pizzeria, for pickup: when nobody delivers
    // there, it is what the customer can still do.
    let nearest = ranked.first();

    let now = Utc::now();
    let pizzeria = match chosen {
        Some(zone) => Some(load_pizzeria(state, zone, now).await?),
        None => None,
    };
    let pickup = match (nearest, chosen, &pizzeria) {
        (Some(n), Some(c), Some(p)) if n.pizzeria_id == c.pizzeria_id => Some(p.clone()),
        (Some(n), _, _) => Some(load_pizzeria(state, n, now).await?),
        (None, _, _) => None,
    };

    let span = tracing::Span::current();
    span.record("source", tracing::field::debug(found.source));
    if let Some(zone) = chosen {
        span.record("pizzeria_id", zone.pizzeria_id.0);
    }

    // Outside every zone is an answer, not an error: the address exists and
    // the question was well put. A 200 with `delivers: false` lets the page
    // say so and offer the nearest pizzeria for pickup, where a 422 would
    // read as "your address is wrong". Checkout, which cannot place such an
    // order, is where it becomes a 422.
    let answer = json!({
        "query": found.query,
        "formatted_address": found.formatted_address,
        "latitude": found.coordinates.latitude,
        "longitude": found.coordinates.longitude,
        "source": found.source,
        "delivers": chosen.is_some(),
        "pizzeria": pizzeria,
        "distance_m": chosen.map(|z| z.distance_m),
        "delivery_fee_cents": chosen.map(|z| z.delivery_fee),
        "min_order_cents": chosen.map(|z| z.min_order),
        "others": delivering.iter().skip(1).map(|z| summary(z)).collect::<Vec<_>>(),
        "pickup": nearest.zip(pickup).map(|(zone, pizzeria)| json!({
            "pizzeria": pizzeria,
            "distance_m": zone.distance_m,
        })),
    });
    let mut response = edge::json(StatusCode::OK, &answer)?;
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL_VALUE));
    Ok(response)
}

/// The pizzeria as `menu` shows it (address, phone, hours, open now).
async fn load_pizzeria(
    state: &State,
    zone: &Zone,
    now: chrono::DateTime<Utc>,
) -> Result<Pizzeria, ApiError> {
    catalog::pizzeria(&state.pool, zone.pizzeria_id, now)
        .await?
        .ok_or_else(|| ApiError::internal(format!("pizzeria {} vanished", zone.pizzeria_id)))
}

/// Another pizzeria delivering there, farther away.
fn summary(zone: &Zone) -> Value {
    json!({
        "id": zone.pizzeria_id,
        "name": zone.name,
        "distance_m": zone.distance_m,
        "delivery_fee_cents": zone.delivery_fee,
        "min_order_cents": zone.min_order,
    })
}

fn geo_error(err: GeoError) -> ApiError {
    match err {
        GeoError::Invalid(detail) => ApiError::unprocessable(detail),
        GeoError::NotFound(detail) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "address-not-found",
            "Address not found",
            detail,
        ),
        // The provider's own words (quota, refused key, timeout) are for the
        // logs; the caller learns what to do. The key never reaches either.
        GeoError::Unavailable(detail) => {
            tracing::warn!(error = %detail, "geocoding unavailable");
            ApiError::unavailable(
                "Addresses cannot be looked up right now: the geocoding service is not answering. \
                 Please try again in a moment, or choose pickup.",
            )
        }
        GeoError::Limited {
            retry_after_seconds,
        } => ocpizza::rate_limit::too_many(
            "Trop d'adresses différentes en peu de temps : réessayez dans quelques minutes.",
            retry_after_seconds,
        ),
        GeoError::Database(err) => err.into(),
    }
}
