//! The checkout function: `POST /orders` turns a cart into a priced order.
//!
//! The server prices everything from the catalogue (kept per container, checked
//! against its version at each order), checks the pizzeria is open (its hours
//! and pause kept the same way) and delivers to the address, then in one
//! transaction writes the order,
//! its lines with price snapshots, the stock reservations, the status history,
//! the outbox row (cash orders are placed at once) and the answer saved under
//! the `Idempotency-Key`. Card orders then get a Stripe PaymentIntent and wait
//! in `pending_payment` until the webhook (or the reconciliation) places them;
//! their reservation expires after `payment_timeout`.
//!
//! Staff taking a phone or counter order find the caller's account with
//! `GET /customers?phone=` (name and e-mail shown, so the cashier can check)
//! and send its `customer_id`; an order belongs to an account only then. A
//! guest's orders are limited per phone number and per client address.

pub mod cart;

use cart::{Cart, CheckoutRequest};
use chrono::{DateTime, Utc};
use http::{header, HeaderValue, Method, StatusCode};
use ocpizza::catalog::catalogue;
use ocpizza::catalog::{self, PauseScope, Pizzeria};
use ocpizza::delivery::geo::{self, Geocoder};
use ocpizza::identity::access::{self, Action};
use ocpizza::identity::accounts::address_book;
use ocpizza::identity::auth::{self, Caller};
use ocpizza::identity::customers;
use ocpizza::identity::role::Role;
use ocpizza::order::create::{self, NewAddress, NewContact, NewOrder, Slot};
use ocpizza::order::pricing::{self, Priced};
use ocpizza::order::promise;
use ocpizza::order::revenue;
use ocpizza::order::{Channel, Fulfilment, PaymentMethod};
use ocpizza::payment::{NewPaymentIntent, PaymentError, Stripe};
use ocpizza::platform::clock::Clock;
use ocpizza::platform::config::Config;
use ocpizza::platform::db;
use ocpizza::platform::http::{self as edge, ApiError, Cors, Request, Response};
use ocpizza::platform::idempotency::{self, Begin};
use ocpizza::platform::ids::{OrderId, UserId};
use ocpizza::platform::metrics::{self, Metric};
use ocpizza::platform::queue::{Envelope, Queues};
use ocpizza::{payment::settlement, platform::outbox, platform::rate_limit, stock, Money};
use secrecy::SecretString;
use serde_json::{json, Value};
use sqlx::pool::PoolConnection;
use sqlx::{Connection, MySql, MySqlConnection, MySqlPool};
use std::time::Duration;

const SCOPE: &str = "checkout";

/// What every invocation of this container shares.
#[derive(Clone)]
pub struct State {
    pub pool: MySqlPool,
    pub cors: Cors,
    pub queues: Queues,
    pub stripe: Stripe,
    pub geocoder: Geocoder,
    pub publishable_key: String,
    /// How long an unpaid card order holds its stock.
    pub payment_timeout: chrono::Duration,
    /// Send `order.placed` right after the commit (the default). Off, the
    /// outbox relay sends it: for load tests against a slow local SQS server,
    /// or to take SQS latency out of the request path.
    pub send_after_commit: bool,
    /// Verifies the bearer tokens of signed-in customers and staff.
    pub secret_key: SecretString,
    /// "Now" for opening hours, slots and promises.
    pub clock: Clock,
    /// The catalogue kept by this container: a cart is priced from it when
    /// the version read with the kitchen's load is its own.
    pub catalogue: catalogue::Kept,
    /// How long the kept catalogue is trusted at most ([`catalogue::TTL`]).
    pub catalog_ttl: Duration,
    /// The pizzerias kept by this container (hours, pauses): an order's
    /// pizzeria is taken from them when their version read with the
    /// kitchen's load is their own.
    pub pizzerias: catalog::KeptPizzerias,
}

impl State {
    /// The state for this configuration, with the default payment timeout
    /// (15 minutes) and sending after commit on.
    pub fn new(pool: MySqlPool, config: &Config, queues: Queues) -> Result<State, PaymentError> {
        Ok(State {
            pool,
            cors: Cors::new(&config.allowed_origins),
            queues,
            stripe: Stripe::from_config(config)?,
            geocoder: Geocoder::from_config(config),
            publishable_key: config.stripe_publishable_key.clone(),
            payment_timeout: chrono::Duration::minutes(15),
            send_after_commit: true,
            secret_key: config.secret_key.clone(),
            clock: Clock::System,
            catalogue: catalogue::Kept::default(),
            catalog_ttl: catalogue::TTL,
            pizzerias: catalog::KeptPizzerias::default(),
        })
    }
}

pub async fn handle(state: &State, req: Request) -> Response {
    edge::serve(&state.cors, req, |req| route(state, req)).await
}

async fn route(state: &State, req: Request) -> Result<Response, ApiError> {
    match (req.method(), edge::segments(&req).as_slice()) {
        (&Method::POST, ["orders"]) => checkout(state, &req).await,
        (_, ["orders"]) => Err(edge::no_route(&req, &[Method::POST])),
        (&Method::GET, ["customers"]) => customers(state, &req).await,
        (_, ["customers"]) => Err(edge::no_route(&req, &[Method::GET])),
        _ => Err(edge::no_route(&req, &[])),
    }
}

/// Where a delivery goes, once geocoded and checked against the zone.
#[derive(Debug)]
struct Destination {
    address: cart::AddressIn,
    latitude: f64,
    longitude: f64,
    distance_m: i64,
}

#[tracing::instrument(skip_all, fields(order_id, pizzeria_id))]
async fn checkout(state: &State, req: &Request) -> Result<Response, ApiError> {
    let key = idempotency::key_from(req)?;
    let caller = auth::authenticate(&state.pool, req, &state.secret_key).await?;
    let mut request: CheckoutRequest = edge::parse_json(req)?;
    // The fingerprint is over the parsed request, so formatting does not matter.
    let hash =
        idempotency::fingerprint(&[&serde_json::to_vec(&request).map_err(ApiError::internal)?]);
    let customer_id = who_orders(state, caller.as_ref(), &mut request).await?;
    use_saved_address(state, caller.as_ref(), &mut request).await?;
    let who = caller
        .as_ref()
        .map_or_else(|| "guest".to_owned(), |c| format!("user:{}", c.user_id));
    let cart = cart::parse(request)?;
    if cart.channel != Channel::Web
        && cart.payment_method == PaymentMethod::Card
        && cart.fulfilment == Fulfilment::Delivery
    {
        return Err(ApiError::unprocessable(
            "Card numbers are not taken over the phone: a phone delivery is paid in cash to \
             the courier, or the customer orders on the web and pays online.",
        ));
    }

    let now = state.clock.now();
    // The kitchen's load and the versions of the kept copies in one
    // statement: the pizzeria (its hours and pause) and the catalogue the
    // cart is priced from are this container's copies when they are those
    // versions (the database is read when they are not).
    let no_such = || ApiError::unprocessable(format!("No pizzeria with id {}.", cart.pizzeria_id));
    let (load, versions) = promise::load_and_versions(&state.pool, cart.pizzeria_id)
        .await?
        .ok_or_else(no_such)?;
    let pizzeria = state
        .pizzerias
        .one(&state.pool, cart.pizzeria_id, versions.pizzerias, now)
        .await?
        .ok_or_else(no_such)?;
    // A retry of an order taken before the shop closed or paused gets its
    // answer again: the refusal stands only for a new order (and costs the
    // look-up only when there is one).
    if let Some(refusal) = refusal(&pizzeria, &cart, now) {
        if !idempotency::seen(&state.pool, SCOPE, &key).await? {
            return Err(refusal);
        }
    }

    let destination = match cart.fulfilment {
        Fulfilment::Pickup => None,
        Fulfilment::Delivery => Some(destination(state, &cart, &pizzeria).await?),
    };
    // A product the kept catalogue does not hold is priced from the database.
    let kept = state
        .catalogue
        .at(&state.pool, versions.catalog, state.catalog_ttl, "")
        .await?;
    let delivery = destination.is_some();
    let priced = match pricing::price_kept(&kept, &pizzeria, &cart.lines, delivery) {
        Some(priced) => priced?,
        None => pricing::price(&state.pool, &pizzeria, &cart.lines, delivery).await?,
    };
    pricing::check_minimum(&pizzeria, &priced)?;
    let timing = match timing(&cart, &pizzeria, destination.as_ref(), load, now) {
        Ok(timing) => timing,
        // A retry of a pre-order taken before its slot became too soon (or
        // full, or closed) gets its answer again, like the refusals above.
        Err((refused, _)) if !idempotency::seen(&state.pool, SCOPE, &key).await? => {
            return Err(refused)
        }
        Err((_, taken)) => taken,
    };

    // From here on every statement runs on one connection: each one given
    // back to the pool costs a round trip (sqlx pings it on release). The
    // reads above may read the kept copies again through the pool, so the
    // connection is taken after them (two taken at once could wait on each
    // other when the pool is full).
    let mut conn = state.pool.acquire().await?;
    if caller.is_none() && !idempotency::seen(&mut *conn, SCOPE, &key).await? {
        guest_limits(&mut conn, req, &cart).await?;
    }
    // Who took a phone or counter order (a cashier may void their own).
    let taken_by = caller
        .as_ref()
        .filter(|_| cart.channel != Channel::Web)
        .map(|c| c.user_id);
    let placed = place(
        state,
        conn,
        (&key, &hash, &who),
        &cart,
        (customer_id, taken_by),
        &pizzeria,
        destination,
        &priced,
        (now, timing),
    )
    .await?;
    match placed {
        Placement::Replay { status, body } => replay(state, &key, status, body).await,
        Placement::New {
            order_id,
            body,
            events,
        } => {
            tracing::Span::current().record("order_id", order_id.0);
            tracing::Span::current().record("pizzeria_id", pizzeria.id.0);
            if pays_online(&cart) {
                let body = attach_payment_intent(state, &key, order_id, body).await?;
                return created(order_id, &body);
            }
            metrics::emit(Metric::OrdersPlaced, 1.0, Some(pizzeria.id.0));
            if state.send_after_commit {
                outbox::send_now(&state.pool, &state.queues, &events).await;
            }
            created(order_id, &body)
        }
    }
}

/// When the order will be ready or delivered, and its pre-order slot.
type Timing = (DateTime<Utc>, Option<Slot>);

/// When the order will be ready or delivered, and for a pre-order its slot
/// (checked against the hours and the kitchen's lead) and its release. A
/// refused slot comes with what it would have been (for a retry's replay).
fn timing(
    cart: &Cart,
    pizzeria: &Pizzeria,
    destination: Option<&Destination>,
    load: promise::Load,
    now: DateTime<Utc>,
) -> Result<Timing, (ApiError, Timing)> {
    let distance = destination.map(|d| i32::try_from(d.distance_m).unwrap_or(i32::MAX));
    let soonest = promise::as_soon_as_possible(now, cart.fulfilment, distance, load);
    let Some(at) = cart.slot_at else {
        return Ok((soonest, None));
    };
    let release_at = promise::release_at(at, cart.fulfilment, distance, load.prep_minutes);
    let timing = (at, Some(Slot { at, release_at }));
    let refused = |reason: &str, why: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "slot-unavailable",
            "Slot unavailable",
            format!("{} cannot take an order for {at}: {why}.", pizzeria.name),
        )
        .with("reason", reason)
    };
    if pizzeria.slot_capacity == 0 {
        let why = "it takes no pre-orders".to_owned();
        return Err((refused("no_pre_orders", why), timing));
    }
    if let Err(why) = promise::check_slot(&pizzeria.rule(), now, soonest, at) {
        let problem = refused(slot_reason(&why), why.to_string());
        let problem = match why {
            promise::SlotError::TooSoon { earliest } => problem.with("earliest", earliest),
            _ => problem,
        };
        return Err((problem, timing));
    }
    Ok(timing)
}

/// The machine-readable reason of a refused slot, for the pages' French.
fn slot_reason(why: &promise::SlotError) -> &'static str {
    match why {
        promise::SlotError::NotAQuarterHour => "not_a_quarter_hour",
        promise::SlotError::TooSoon { .. } => "too_soon",
        promise::SlotError::TooFar => "too_far",
        promise::SlotError::Closed => "closed",
    }
}

/// Why the pizzeria takes no new order like this one now: not open yet,
/// outside its hours (a pre-order needs only its slot inside them), or
/// online orders paused for its time (phone and counter orders are staff's
/// decision, never paused).
fn refusal(pizzeria: &Pizzeria, cart: &Cart, now: DateTime<Utc>) -> Option<ApiError> {
    if !pizzeria.accepting_orders {
        return Some(
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "pizzeria-not-open",
                "Pizzeria not open",
                format!("{} does not take orders yet.", pizzeria.name),
            )
            .with("opens_on", pizzeria.opens_on),
        );
    }
    if !pizzeria.open_now && cart.slot_at.is_none() {
        return Some(
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "pizzeria-closed",
                "Pizzeria closed",
                format!("{} is closed at this hour.", pizzeria.name),
            )
            .with("opening_hours", &pizzeria.opening_hours)
            .with("opens_at", pizzeria.next_opening(now)),
        );
    }
    let pause = pizzeria
        .paused_online(cart.fulfilment == Fulfilment::Delivery)
        .filter(|_| cart.channel == Channel::Web)
        .filter(|p| cart.slot_at.is_none_or(|slot| slot < p.until))?;
    Some(
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "pizzeria-paused",
            "Online orders paused",
            format!(
                "{} takes no {} for now. {}",
                pizzeria.name,
                match pause.scope {
                    PauseScope::All => "online orders",
                    PauseScope::Delivery => "online delivery orders",
                },
                pause.message
            )
            .trim_end()
            .to_owned(),
        )
        .with("scope", pause.scope)
        .with("message", &pause.message)
        .with("until", pause.until),
    )
}

fn created(order_id: OrderId, body: &Value) -> Result<Response, ApiError> {
    let mut response = edge::json(StatusCode::CREATED, body)?;
    if let Ok(location) = HeaderValue::from_str(&format!("/orders/{order_id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// A retry: the saved answer, with the PaymentIntent attached if the first
/// attempt stopped before getting one.
async fn replay(state: &State, key: &str, status: u16, body: String) -> Result<Response, ApiError> {
    let mut saved: Value = serde_json::from_str(&body).map_err(ApiError::internal)?;
    let needs_intent = saved["payment"]["method"] == "card"
        && saved["order"]["channel"] == "web"
        && saved["payment"]["client_secret"].is_null();
    if needs_intent {
        let order_id = saved["order"]["id"]
            .as_i64()
            .map(OrderId)
            .ok_or_else(|| ApiError::internal("saved answer without order id"))?;
        saved = attach_payment_intent(state, key, order_id, saved).await?;
    }
    let mut response = edge::json(
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        &saved,
    )?;
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(response)
}

/// Geocodes the address and checks the pizzeria delivers there.
async fn destination(
    state: &State,
    cart: &Cart,
    pizzeria: &Pizzeria,
) -> Result<Destination, ApiError> {
    let Some(address) = cart.address.clone() else {
        return Err(ApiError::unprocessable("A delivery needs an address."));
    };
    let query = format!("{}, {} {}", address.line1, address.postcode, address.city);
    let found = state
        .geocoder
        .geocode(&state.pool, &query)
        .await
        .map_err(geo_error)?;
    let at = found.coordinates;
    let shop = geo::Coordinates {
        latitude: pizzeria.latitude,
        longitude: pizzeria.longitude,
    };
    let distance_m = geo::distance_m(shop, at).round() as i64;
    if distance_m > i64::from(pizzeria.delivery.radius_m) {
        let alternatives = geo::pizzerias_delivering_to(&state.pool, at).await?;
        let names: Vec<Value> = alternatives
            .iter()
            .map(|z| json!({ "pizzeria_id": z.pizzeria_id, "name": z.name, "distance_m": z.distance_m }))
            .collect();
        let detail = if names.is_empty() {
            format!("{} does not deliver to {}, and no OC Pizza delivers there yet; pickup is possible.", pizzeria.name, found.formatted_address)
        } else {
            format!(
                "{} does not deliver to {}; {} does.",
                pizzeria.name,
                found.formatted_address,
                alternatives
                    .iter()
                    .map(|z| z.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "outside-delivery-zone",
            "Outside the delivery zone",
            detail,
        )
        .with("pizzerias", names));
    }
    Ok(Destination {
        address,
        latitude: at.latitude,
        longitude: at.longitude,
        distance_m,
    })
}

fn geo_error(err: geo::GeoError) -> ApiError {
    match err {
        geo::GeoError::Invalid(m) | geo::GeoError::NotFound(m) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "address-not-found",
            "Address not found",
            m,
        ),
        geo::GeoError::Unavailable(m) => {
            tracing::warn!(error = %m, "geocoding unavailable");
            ApiError::unavailable(
                "Addresses cannot be checked right now; please retry in a moment or choose pickup.",
            )
        }
        geo::GeoError::Limited {
            retry_after_seconds,
        } => ocpizza::platform::rate_limit::too_many(
            "Trop d'adresses différentes en peu de temps : réessayez dans quelques minutes.",
            retry_after_seconds,
        ),
        geo::GeoError::Database(e) => e.into(),
    }
}

enum Placement {
    New {
        order_id: OrderId,
        body: Value,
        events: Vec<Envelope>,
    },
    Replay {
        status: u16,
        body: String,
    },
}

/// Web card orders are paid online through Stripe; staff orders by card are
/// paid on the pizzeria's terminal, at the counter.
fn pays_online(cart: &Cart) -> bool {
    ocpizza::order::pays_online(cart.channel, cart.payment_method)
}

/// Who places this order, and for which customer account (if any):
/// - nobody signed in: a guest on the web, with a contact;
/// - a customer: on the web, for themselves; the contact defaults to the
///   account's name, phone and e-mail;
/// - a cashier, manager (of that pizzeria) or the admin: a phone or counter
///   order, linked to a customer account only when the cashier picked one
///   (`customer_id`), whose phone number the order then carries;
/// - anyone else: 403.
async fn who_orders(
    state: &State,
    caller: Option<&Caller>,
    request: &mut CheckoutRequest,
) -> Result<Option<UserId>, ApiError> {
    let channel = request.channel.unwrap_or(Channel::Web);
    if request.customer_id.is_some() && channel == Channel::Web {
        return Err(ApiError::unprocessable(
            "`customer_id` is for staff taking a phone or counter order.",
        ));
    }
    let Some(caller) = caller else {
        if channel != Channel::Web {
            return Err(ApiError::forbidden(
                "Phone and counter orders are entered by staff signed in at the pizzeria.",
            ));
        }
        return Ok(None);
    };
    match caller.role {
        Role::Customer => {
            if channel != Channel::Web {
                return Err(ApiError::forbidden(
                    "Phone and counter orders are entered by staff signed in at the pizzeria.",
                ));
            }
            if request.contact.is_none() {
                let account = customers::contact_of_account(&state.pool, caller.user_id)
                    .await?
                    .ok_or_else(|| ApiError::unauthorized("This account is no longer active."))?;
                request.contact = Some(cart::ContactIn {
                    name: account.name,
                    phone: account.phone.unwrap_or_default(),
                    email: Some(account.email),
                });
            }
            Ok(Some(caller.user_id))
        }
        _ => {
            access::check(
                Some(caller),
                Action::TakePhoneOrCounterOrder,
                request.pizzeria_id,
            )?;
            if channel == Channel::Web {
                return Err(ApiError::unprocessable(
                    "An order taken by staff is a `phone` or `counter` order: set `channel`.",
                ));
            }
            // The order belongs to an account only when the cashier picked
            // it (`GET /customers?phone=`): a phone number proves nothing.
            let Some(customer) = request.customer_id else {
                return Ok(None);
            };
            let customers::Contact { name, phone, email } =
                customers::contact_of_customer(&state.pool, customer)
                    .await?
                    .ok_or_else(|| {
                        ApiError::unprocessable(format!("No customer account {customer}."))
                    })?;
            // The account's number, the one the cashier found it by, rather
            // than the caller's as typed; the typed one when the account has
            // none that parses (an old row the migration left as it was).
            let phone = phone.filter(|p| ocpizza::platform::phone::parse(p).is_ok());
            match (&mut request.contact, phone) {
                (Some(contact), Some(phone)) => contact.phone = phone,
                (Some(_), None) => {}
                (None, phone) => {
                    request.contact = Some(cart::ContactIn {
                        name,
                        phone: phone.unwrap_or_default(),
                        email: Some(email),
                    })
                }
            }
            Ok(Some(customer))
        }
    }
}

/// A delivery to one of the signed-in customer's saved addresses
/// (`address_id`): the address is read from their own address book, as if
/// typed. Someone else's id is answered as an unknown one; staff name no
/// saved address (they would learn a customer's street by guessing ids: a
/// phone order's address is typed as the customer says it).
async fn use_saved_address(
    state: &State,
    caller: Option<&Caller>,
    request: &mut CheckoutRequest,
) -> Result<(), ApiError> {
    let Some(id) = request.address_id else {
        return Ok(());
    };
    let unknown = |message: &str| {
        ApiError::unprocessable(message.to_owned()).with(
            "errors",
            json!([{"field": "address_id", "message": message}]),
        )
    };
    if request.fulfilment != Fulfilment::Delivery {
        return Err(unknown("A saved address is for a delivery."));
    }
    if request.address.is_some() {
        return Err(unknown("Give either `address` or `address_id`, not both."));
    }
    let Some(owner) = caller.filter(|c| c.role == Role::Customer) else {
        return Err(unknown(
            "A saved address is the signed-in customer's: sign in, or type the address.",
        ));
    };
    let saved = address_book::saved(&state.pool, owner.user_id, id)
        .await?
        .ok_or_else(|| unknown("No such address in your address book."))?;
    request.address = Some(cart::AddressIn {
        line1: saved.line1,
        postcode: saved.postcode,
        city: saved.city,
    });
    Ok(())
}

/// A guest's order holds stock until it is paid or cancelled: at most so
/// many per phone number and per client address (`rate_limit`). Every
/// request through a function URL has a client address; one without (a test
/// or a benchmark calling the handler in-process) is not limited.
async fn guest_limits(
    conn: &mut MySqlConnection,
    req: &Request,
    cart: &Cart,
) -> Result<(), ApiError> {
    let Some(address) = edge::client_address(req) else {
        return Ok(());
    };
    let message = "Trop de commandes en peu de temps : réessayez plus tard ou appelez la pizzeria.";
    // Keyed by the number in E.164: `06 45…` and `+33 6 45…` count together.
    rate_limit::check(
        conn,
        rate_limit::GUEST_ORDERS_PER_PHONE,
        cart.contact.phone.as_str(),
        message,
    )
    .await?;
    rate_limit::check(
        conn,
        rate_limit::GUEST_ORDERS_PER_ADDRESS,
        &address,
        message,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn place(
    state: &State,
    mut conn: PoolConnection<MySql>,
    (key, hash, who): (&str, &str, &str),
    cart: &Cart,
    (customer_id, taken_by): (Option<UserId>, Option<UserId>),
    pizzeria: &Pizzeria,
    destination: Option<Destination>,
    priced: &Priced,
    (now, (promised_at, slot)): (DateTime<Utc>, (DateTime<Utc>, Option<Slot>)),
) -> Result<Placement, ApiError> {
    // The key is claimed by the order's own unique `idempotency_key`: a
    // request with the same key waits on it until this one commits (then
    // replays its answer, saved below) or rolls back (then goes on).
    let mut tx = conn.begin().await?;
    if let Some(customer) = customer_id {
        // Still an account, under a shared lock until the commit: an
        // account being deleted either waits for this order (and refuses,
        // as an order is under way) or is gone, and this order is refused.
        if !customers::lock_active(&mut tx, customer).await? {
            tx.rollback().await?;
            return Err(ApiError::unauthorized("This account is no longer active."));
        }
    }
    if let Some(slot) = slot {
        // The pizzeria's row is locked until the commit: two checkouts for
        // the last place of a slot queue up, and the second sees it taken.
        // (A retry of the order that took it goes on, to its answer.)
        let capacity = promise::lock_capacity(&mut tx, pizzeria.id).await?;
        if promise::taken(&mut tx, pizzeria.id, slot.at).await? >= capacity
            && !idempotency::seen(&mut *tx, SCOPE, key).await?
        {
            tx.rollback().await?;
            return Err(ApiError::conflict(
                "slot-full",
                "Slot full",
                format!(
                    "{} takes no more orders for {}; choose another time.",
                    pizzeria.name, slot.at
                ),
            )
            .with("slot_at", slot.at));
        }
    }

    let created = create::create(
        &mut tx,
        &NewOrder {
            pizzeria_id: pizzeria.id,
            customer_id,
            created_by: taken_by,
            channel: cart.channel,
            fulfilment: cart.fulfilment,
            payment_method: cart.payment_method,
            priced,
            address: destination.as_ref().map(|d| NewAddress {
                line1: &d.address.line1,
                postcode: &d.address.postcode,
                city: &d.address.city,
                latitude: d.latitude,
                longitude: d.longitude,
                distance_m: d.distance_m,
                instructions: cart.delivery_instructions.as_deref(),
            }),
            contact: NewContact {
                name: &cart.contact.name,
                phone: cart.contact.phone.as_str(),
                email: cart.contact.email.as_deref(),
            },
            idempotency_key: key,
            payment_timeout: state.payment_timeout,
            now,
            promised_at,
            slot,
        },
    )
    .await;
    let created = match created {
        Ok(created) => created,
        // A request with the same key committed first, while this one
        // waited on the key: its answer, if this is the same request.
        Err(err) if db::duplicate_key(&err).as_deref() == Some("uq_orders_idempotency_key") => {
            tx.rollback().await?;
            return match idempotency::answer_of(&mut *conn, SCOPE, (key, hash, who)).await? {
                Begin::Replay { status, body } => Ok(Placement::Replay { status, body }),
                Begin::Stranger => Err(idempotency::stranger()),
                Begin::Mismatch | Begin::Fresh => Err(idempotency::mismatch()),
            };
        }
        Err(err) => return Err(err.into()),
    };
    let order_id = created.head.id;
    let (status, number, token, expires_at) = (
        created.head.status,
        &created.number,
        &created.head.tracking_token,
        created.reservation_expires_at,
    );

    let body = json!({
        "order": {
            "id": order_id,
            "number": number,
            "status": status,
            "pizzeria_id": pizzeria.id,
            "channel": cart.channel,
            "fulfilment": cart.fulfilment,
            "payment_method": cart.payment_method,
            "subtotal_cents": priced.subtotal,
            "vat_cents": priced.vat,
            "delivery_fee_cents": priced.delivery_fee,
            "total_cents": priced.total,
            "lines": priced.lines.iter().map(|l| json!({
                "product_id": l.product_id,
                "name": l.name,
                "unit_price_cents": l.unit_price,
                "vat_rate_bp": l.vat_rate_bp,
                "quantity": l.quantity,
                "line_total_cents": l.total,
                "size": l.made.size.as_ref().map(|(_, label)| label),
                "choices": l.made.words,
                "note": l.note,
                "allergens": l.allergens(),
            })).collect::<Vec<_>>(),
            "delivery_instructions": cart.delivery_instructions,
            "address": destination.as_ref().map(|d| json!({
                "line1": d.address.line1, "postcode": d.address.postcode, "city": d.address.city,
                "latitude": d.latitude, "longitude": d.longitude,
            })),
            "distance_m": destination.as_ref().map(|d| d.distance_m),
            "contact": { "name": cart.contact.name, "phone": cart.contact.phone, "email": cart.contact.email },
            "tracking_token": token,
            "reservation_expires_at": expires_at,
            "created_at": now,
            "slot_at": slot.map(|s| s.at),
            "promised_at": promised_at,
        },
        "payment": if !pays_online(cart) {
            json!({
                "method": cart.payment_method,
                "status": if cart.fulfilment == Fulfilment::Delivery { "due_on_delivery" } else { "due_at_counter" },
                "amount_cents": priced.total,
            })
        } else {
            json!({
                "method": "card",
                "status": "awaiting_payment",
                "amount_cents": priced.total,
                "payment_intent_id": null,
                "client_secret": null,
                "publishable_key": state.publishable_key,
            })
        },
    });
    // The key and the answer kept for its retries, before the stock: what
    // follows holds the hot rows (stock, then the day's revenue summary)
    // only until the commit just below.
    let status = StatusCode::CREATED.as_u16();
    idempotency::record(&mut tx, SCOPE, (key, hash, who), status, &body.to_string()).await?;
    let (needs, no_recipe) = priced.needs();
    let reserved =
        no_recipe.is_empty() && stock::reserve(&mut tx, pizzeria.id, order_id, &needs).await?;
    if !reserved {
        tx.rollback().await?;
        // What ran out is read through the pool, the connection given back.
        drop(conn);
        return Err(pricing::out_of_stock(
            &state.pool,
            pizzeria,
            priced,
            "Some products ran out while you were choosing; see `products` for what can still be made.",
        )
        .await?);
    }
    // Counted in the revenue summaries after the stock: the summary row of
    // the pizzeria's day is locked last, as every change of an order does.
    revenue::add(
        &mut tx,
        pizzeria.id.0,
        now,
        (cart.payment_method.as_str(), cart.channel.as_str()),
        created.share,
    )
    .await?;
    tx.commit().await?;
    Ok(Placement::New {
        order_id,
        body,
        events: created.events,
    })
}

/// Creates (or finds again: Stripe's idempotency key is per order) the
/// PaymentIntent of a card order and records it. If Stripe is unreachable the
/// order is cancelled at once, so it holds no stock, and the key is freed for a
/// retry.
async fn attach_payment_intent(
    state: &State,
    key: &str,
    order_id: OrderId,
    mut body: Value,
) -> Result<Value, ApiError> {
    let amount = Money::from_cents(body["order"]["total_cents"].as_i64().unwrap_or_default());
    let number = body["order"]["number"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let stripe_key = format!("order-{order_id}-payment");
    let intent = state
        .stripe
        .create_payment_intent(&NewPaymentIntent {
            amount,
            order_id,
            order_number: &number,
            idempotency_key: &stripe_key,
            // Receipts are our own notifications' job (and localstripe refuses the field).
            receipt_email: None,
        })
        .await;
    let intent = match intent {
        Ok(intent) => intent,
        Err(err) => {
            tracing::warn!(error = %err, %order_id, "PaymentIntent creation failed; cancelling the order");
            abandon(state, key, order_id).await?;
            return Err(match err {
                PaymentError::Rejected { message, .. } => ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "payment-refused",
                    "Payment refused",
                    message,
                ),
                _ => ApiError::unavailable(
                    "Card payment is unavailable right now. Please retry in a moment, or choose to pay in cash.",
                ),
            });
        }
    };
    body["payment"]["payment_intent_id"] = json!(intent.id);
    body["payment"]["client_secret"] = json!(intent.client_secret);

    let mut tx = state.pool.begin().await?;
    settlement::record_intent(&mut *tx, order_id, &intent).await?;
    keep_answer(&mut tx, key, &body).await?;
    tx.commit().await?;
    Ok(body)
}

/// Keeps `body` as the answer to the key's retries (201 Created), in the
/// transaction that made it.
async fn keep_answer(
    tx: &mut sqlx::Transaction<'_, sqlx::MySql>,
    key: &str,
    body: &serde_json::Value,
) -> Result<(), ApiError> {
    let status = StatusCode::CREATED.as_u16();
    idempotency::save(tx, SCOPE, key, status, &body.to_string()).await?;
    Ok(())
}

/// Cancels a card order whose payment could not even start, and forgets its
/// idempotency key so the customer's retry starts afresh.
async fn abandon(state: &State, key: &str, order_id: OrderId) -> Result<(), ApiError> {
    let mut tx = state.pool.begin().await?;
    create::abandon(&mut tx, order_id)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    idempotency::forget(&mut tx, SCOPE, key).await?;
    tx.commit().await?;
    Ok(())
}

/// `GET /customers?phone=`: the customer accounts with this phone number,
/// for a cashier (or manager, or the admin) taking a phone or counter order.
/// The number is parsed as checkout parses it ([`ocpizza::platform::phone`]) and found
/// in E.164 through `ix_users_phone`, so `06 45 67 89 01`, `0645678901` and
/// `+33 6 45 67 89 01` find the same caller; a text that is no phone number
/// is a 422.
#[tracing::instrument(skip_all)]
async fn customers(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = auth::require(
        &state.pool,
        req,
        &state.secret_key,
        "Staff sign in to look up a customer.",
    )
    .await?;
    let pizzeria = caller
        .pizzeria_id
        .unwrap_or(ocpizza::platform::ids::PizzeriaId(0));
    if caller.role != Role::Admin {
        access::check(Some(&caller), Action::TakePhoneOrCounterOrder, pizzeria)?;
    }
    let typed = edge::query_pairs(req)
        .into_iter()
        .find(|(k, _)| k == "phone")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let phone = ocpizza::platform::phone::parse(&typed).map_err(|why| {
        ApiError::unprocessable(format!(
            "Give the caller's whole phone number, e.g. 06 12 34 56 78 ({why})."
        ))
    })?;
    let customers = customers::by_phone(&state.pool, phone.as_str()).await?;
    edge::json(StatusCode::OK, &json!({ "customers": customers }))
}
