//! The geocode function: an address typed by a customer becomes coordinates,
//! the nearest pizzeria that delivers there and takes orders now, its fee and
//! minimum order; the pizzerias that would deliver there but are closed (or
//! have paused online deliveries), with when they open (or the pause); and
//! the nearest open pizzeria, for pickup.
//!
//! `GET /geocode?address=...`. Geocoding itself (Google, the database cache,
//! the demo addresses without a key) and the delivery zones live in
//! `ocpizza::delivery::geo`, opening hours in `ocpizza::catalog`; this crate holds the
//! route and the answer's shape.

use http::header::{HeaderValue, CACHE_CONTROL};
use http::{Method, StatusCode};
use ocpizza::catalog::{self, Pizzeria};
use ocpizza::delivery::geo::{self, GeoError, Geocoder, Zone};
use ocpizza::platform::clock::Clock;
use ocpizza::platform::http::{self as edge, ApiError, Cors, Request, Response};
use serde_json::{json, Value};
use sqlx::MySqlPool;

/// What every invocation of this container shares.
#[derive(Clone)]
pub struct State {
    pub pool: MySqlPool,
    pub cors: Cors,
    pub geocoder: Geocoder,
    /// Whether a pizzeria is open, and when it opens, is read at this clock's
    /// `now` (the system's; a fixed instant in tests).
    pub clock: Clock,
}

/// How long a browser may reuse an answer. `private`: the query string is a
/// customer's address, which has no business in a shared cache; five
/// minutes: a pizzeria's zone and fee change rarely, an answer a few minutes
/// late on an opening or closing hour costs little, and checkout checks the
/// address and the hour again on the server anyway.
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
            ocpizza::platform::http::client_address(req).as_deref(),
        )
        .await
        .map_err(geo_error)?;
    let now = state.clock.now();
    // A pizzeria not opened yet has no zone to offer (the list of pizzerias
    // shows it as opening soon); one that has opened is named even when it
    // takes no orders now, so the customer learns why it is not chosen.
    let opened: Vec<Pizzeria> = catalog::pizzerias(&state.pool, now)
        .await?
        .into_iter()
        .filter(Pizzeria::has_opened)
        .collect();
    let ranked = geo::rank_pizzerias(opened, found.coordinates);
    type Ranked<'a> = Vec<&'a (Zone, Pizzeria)>;
    let (open, closed): (Ranked, Ranked) = ranked
        .iter()
        .filter(|(zone, _)| zone.delivers())
        .partition(|(_, pizzeria)| takes_online(pizzeria, true));
    let chosen = open.first().copied();
    // The nearest pizzeria open now, for pickup: when nobody open delivers
    // there, it is what the customer can still do.
    let pickup = ranked
        .iter()
        .find(|(_, pizzeria)| takes_online(pizzeria, false));

    let span = tracing::Span::current();
    span.record("source", tracing::field::debug(found.source));
    if let Some((zone, _)) = chosen {
        span.record("pizzeria_id", zone.pizzeria_id.0);
    }

    // Outside every zone is an answer, not an error: the address exists and
    // the question was well put. A 200 with `delivers: false` lets the page
    // say so and offer the nearest pizzeria for pickup, where a 422 would
    // read as "your address is wrong". Checkout, which cannot place such an
    // order, is where it becomes a 422. So is a zone whose pizzerias are all
    // closed: `closed` says which would deliver, and when each opens.
    let answer = json!({
        "query": found.query,
        "formatted_address": found.formatted_address,
        "latitude": found.coordinates.latitude,
        "longitude": found.coordinates.longitude,
        "source": found.source,
        "delivers": chosen.is_some(),
        "pizzeria": chosen.map(|(_, pizzeria)| pizzeria),
        "distance_m": chosen.map(|(zone, _)| zone.distance_m),
        "delivery_fee_cents": chosen.map(|(zone, _)| zone.delivery_fee),
        "min_order_cents": chosen.map(|(zone, _)| zone.min_order),
        "others": open.iter().skip(1).map(|(zone, _)| summary(zone)).collect::<Vec<_>>(),
        "closed": closed.iter().map(|(zone, pizzeria)| json!({
            "id": zone.pizzeria_id,
            "name": zone.name,
            "distance_m": zone.distance_m,
            "opens_at": pizzeria.next_opening(now),
            "pause": pizzeria.paused_online(true),
        })).collect::<Vec<_>>(),
        "pickup": pickup.map(|(zone, pizzeria)| json!({
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

/// Another open pizzeria delivering there, farther away.
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
        } => ocpizza::platform::rate_limit::too_many(
            "Trop d'adresses différentes en peu de temps : réessayez dans quelques minutes.",
            retry_after_seconds,
        ),
        GeoError::Database(err) => err.into(),
    }
}

/// Open now, and online orders for delivery (`true`) or pickup not paused:
/// what the shop may offer (phone orders are the cashier's, never paused).
fn takes_online(pizzeria: &Pizzeria, delivery: bool) -> bool {
    pizzeria.open_now && pizzeria.paused_online(delivery).is_none()
}
