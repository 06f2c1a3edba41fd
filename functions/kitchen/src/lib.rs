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
//! - `GET /recipes/{product_id}`: the recipe card on its own.
//!
//! A transition the order's state forbids answers 409.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, NaiveDateTime, Utc};
use http::{Method, StatusCode};
use ocpizza::identity::access::{self, Action};
use ocpizza::identity::auth;
use ocpizza::order::lifecycle::{self, By};
use ocpizza::order::OrderStatus;
use ocpizza::platform::clock::utc;
use ocpizza::platform::consumer::{self, ConsumeError};
use ocpizza::platform::http::{self as edge, ApiError, Cors, Request, Response};
use ocpizza::platform::ids::{OrderId, PizzeriaId, ProductId};
use ocpizza::platform::outbox;
use ocpizza::platform::queue::{Envelope, Event, Queues};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;
use sqlx::{MySql, MySqlPool, QueryBuilder};
use std::collections::BTreeMap;

/// The name under which this consumer records the messages it applied.
pub const CONSUMER: &str = "kitchen";

#[derive(Clone)]
pub struct State {
    pub pool: MySqlPool,
    pub cors: Cors,
    pub queues: Queues,
    pub secret_key: SecretString,
}

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
            // Only while the order is still placed: a cancellation that
            // overtook this message leaves nothing to cook.
            let created = sqlx::query(
                "INSERT INTO kitchen_tickets (order_id, pizzeria_id, status, received_at) \
                 SELECT id, pizzeria_id, 'waiting', UTC_TIMESTAMP(6) FROM orders \
                 WHERE id = ? AND pizzeria_id = ? AND status = 'placed' \
                 ON DUPLICATE KEY UPDATE \
                    status = IF(kitchen_tickets.status = 'withdrawn', 'waiting', kitchen_tickets.status), \
                    withdrawn_at = IF(kitchen_tickets.status = 'waiting', NULL, kitchen_tickets.withdrawn_at)",
            )
            .bind(order.0)
            .bind(pizzeria_id.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tracing::info!(order_id = %order, pizzeria_id = %pizzeria_id, created = created > 0, "ticket on the display");
        }
        Event::OrderCancelled { .. } | Event::OrderPaymentDue { .. } => {
            // Only while the order is still off the kitchen's path: a payment
            // that placed it again meanwhile keeps (or put back) its ticket.
            sqlx::query(
                "UPDATE kitchen_tickets t JOIN orders o ON o.id = t.order_id \
                 SET t.status = 'withdrawn', t.withdrawn_at = UTC_TIMESTAMP(6) \
                 WHERE t.order_id = ? AND t.status = 'waiting' AND o.status IN ('cancelled', 'pending_payment')",
            )
            .bind(order.0)
            .execute(&mut *tx)
            .await?;
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
        (&Method::GET, ["recipes", p]) => {
            recipe(state, &req, edge::path_param(p, "product")?).await
        }
        (_, ["pizzerias", _, "tickets"]) | (_, ["recipes", _]) => {
            Err(edge::no_route(&req, &[Method::GET]))
        }
        (_, ["tickets", _, "start" | "ready"]) => Err(edge::no_route(&req, &[Method::POST])),
        _ => Err(edge::no_route(&req, &[])),
    }
}

fn secret(state: &State) -> &[u8] {
    state.secret_key.expose_secret().as_bytes()
}

#[derive(Debug, Clone, Serialize)]
pub struct RecipeIngredient {
    pub ingredient_id: i64,
    pub name: String,
    pub quantity: i64,
    pub unit: String,
}

/// The memo a pizzaiolo follows: what goes on, how much, in which order.
#[derive(Debug, Clone, Serialize)]
pub struct RecipeCard {
    pub product_id: ProductId,
    pub name: String,
    pub ingredients: Vec<RecipeIngredient>,
    pub steps: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TicketLine {
    pub product_id: ProductId,
    pub name: String,
    pub quantity: i64,
    /// `null` for what is not cooked (drinks, desserts).
    pub recipe: Option<RecipeCard>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ticket {
    pub order_id: OrderId,
    pub number: String,
    pub pizzeria_id: PizzeriaId,
    /// `waiting`, `preparing`, `ready` or `withdrawn`.
    pub status: String,
    pub fulfilment: String,
    pub customer_name: String,
    pub received_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ready_at: Option<DateTime<Utc>>,
    /// Seconds since the ticket arrived, when this answer was made.
    pub age_seconds: i64,
    pub lines: Vec<TicketLine>,
}

#[derive(sqlx::FromRow)]
struct TicketRow {
    order_id: i64,
    number: String,
    pizzeria_id: i64,
    status: String,
    fulfilment: String,
    contact_name: String,
    received_at: NaiveDateTime,
    started_at: Option<NaiveDateTime>,
    ready_at: Option<NaiveDateTime>,
    /// Changes when the customer modifies the order's lines.
    updated_at: NaiveDateTime,
}

const TICKET_COLUMNS: &str = "t.order_id, o.number, t.pizzeria_id, t.status, o.fulfilment, \
     o.contact_name, t.received_at, t.started_at, t.ready_at, o.updated_at";

/// Recipe cards of these products, by product; what is not prepared in the
/// kitchen (no steps: drinks) has none.
pub async fn recipe_cards(
    pool: &MySqlPool,
    products: &[i64],
) -> Result<BTreeMap<i64, RecipeCard>, sqlx::Error> {
    let mut cards = BTreeMap::new();
    if products.is_empty() {
        return Ok(cards);
    }
    let in_list = |sql: &str| {
        let mut builder = QueryBuilder::<MySql>::new(sql);
        let mut list = builder.separated(", ");
        for id in products {
            list.push_bind(*id);
        }
        builder
    };
    let mut q = in_list(
        "SELECT p.id, p.name, i.id, i.name, r.quantity, i.unit FROM recipe_lines r \
         JOIN products p ON p.id = r.product_id JOIN ingredients i ON i.id = r.ingredient_id \
         WHERE r.product_id IN (",
    );
    q.push(") ORDER BY p.id, r.quantity DESC, i.name");
    let ingredients: Vec<(i64, String, i64, String, i32, String)> =
        q.build_query_as().fetch_all(pool).await?;
    let mut q = in_list("SELECT product_id, text FROM recipe_steps WHERE product_id IN (");
    q.push(") ORDER BY product_id, position");
    let steps: Vec<(i64, String)> = q.build_query_as().fetch_all(pool).await?;

    for (product, name, ingredient_id, ingredient, quantity, unit) in ingredients {
        cards
            .entry(product)
            .or_insert_with(|| RecipeCard {
                product_id: ProductId(product),
                name,
                ingredients: Vec::new(),
                steps: Vec::new(),
            })
            .ingredients
            .push(RecipeIngredient {
                ingredient_id,
                name: ingredient,
                quantity: i64::from(quantity),
                unit,
            });
    }
    for (product, text) in steps {
        if let Some(card) = cards.get_mut(&product) {
            card.steps.push(text);
        }
    }
    // A can taken from the fridge has stock lines but nothing to prepare.
    cards.retain(|_, card| !card.steps.is_empty());
    Ok(cards)
}

/// The lines and recipe cards of these ticket rows.
async fn tickets_of(pool: &MySqlPool, rows: Vec<TicketRow>) -> Result<Vec<Ticket>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<MySql>::new(
        "SELECT order_id, product_id, product_name, quantity FROM order_lines WHERE order_id IN (",
    );
    let mut list = q.separated(", ");
    for row in &rows {
        list.push_bind(row.order_id);
    }
    q.push(") ORDER BY order_id, line_no");
    let lines: Vec<(i64, i64, String, i32)> = q.build_query_as().fetch_all(pool).await?;
    let mut products: Vec<i64> = lines.iter().map(|l| l.1).collect();
    products.sort_unstable();
    products.dedup();
    let cards = recipe_cards(pool, &products).await?;

    let now = Utc::now();
    let mut by_order: BTreeMap<i64, Vec<TicketLine>> = BTreeMap::new();
    for (order, product, name, quantity) in lines {
        by_order.entry(order).or_default().push(TicketLine {
            product_id: ProductId(product),
            name,
            quantity: i64::from(quantity),
            recipe: cards.get(&product).cloned(),
        });
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let received_at = utc(r.received_at);
            Ticket {
                order_id: OrderId(r.order_id),
                number: r.number,
                pizzeria_id: PizzeriaId(r.pizzeria_id),
                status: r.status,
                fulfilment: r.fulfilment,
                customer_name: r.contact_name,
                age_seconds: (now - received_at).num_seconds().max(0),
                received_at,
                started_at: r.started_at.map(utc),
                ready_at: r.ready_at.map(utc),
                lines: by_order.remove(&r.order_id).unwrap_or_default(),
            }
        })
        .collect())
}

/// One ticket, in whatever state.
pub async fn ticket(pool: &MySqlPool, order: OrderId) -> Result<Option<Ticket>, sqlx::Error> {
    let rows: Vec<TicketRow> = sqlx::query_as(&format!(
        "SELECT {TICKET_COLUMNS} FROM kitchen_tickets t JOIN orders o ON o.id = t.order_id \
         WHERE t.order_id = ?"
    ))
    .bind(order.0)
    .fetch_all(pool)
    .await?;
    Ok(tickets_of(pool, rows).await?.pop())
}

#[tracing::instrument(skip(state, req), fields(pizzeria_id = %pizzeria))]
async fn display(state: &State, req: &Request, pizzeria: PizzeriaId) -> Result<Response, ApiError> {
    let caller = auth::authenticate(&state.pool, req, secret(state)).await?;
    access::check(caller.as_ref(), Action::KitchenDisplay, pizzeria)?;
    let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM pizzerias WHERE id = ?")
        .bind(pizzeria.0)
        .fetch_optional(&state.pool)
        .await?;
    if exists.is_none() {
        return Err(ApiError::not_found(format!("No pizzeria {pizzeria}.")));
    }
    let rows: Vec<TicketRow> = sqlx::query_as(&format!(
        "SELECT {TICKET_COLUMNS} FROM kitchen_tickets t JOIN orders o ON o.id = t.order_id \
         WHERE t.pizzeria_id = ? AND t.status IN ('waiting', 'preparing') \
         ORDER BY t.received_at, t.order_id"
    ))
    .bind(pizzeria.0)
    .fetch_all(&state.pool)
    .await?;
    // What changes the display; ages move on their own and are left out.
    let basis: String = rows
        .iter()
        .map(|r| format!("{}:{}:{};", r.order_id, r.status, r.updated_at))
        .collect();
    let etag = edge::etag_for(basis.as_bytes());
    if edge::holds_etag(req, &etag) {
        return Ok(edge::not_modified(&etag));
    }
    let tickets = tickets_of(&state.pool, rows).await?;
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
    let signed_in = auth::authenticate(&state.pool, req, secret(state)).await?;
    if signed_in.is_none() {
        return Err(ApiError::unauthorized("Sign in with a staff account."));
    }
    let mut tx = state.pool.begin().await?;
    let mut order = lifecycle::lock(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No ticket for order {id}.")))?;
    let caller = access::check(signed_in.as_ref(), Action::WorkTicket, order.pizzeria_id)?;
    let events = lifecycle::change_status(&mut tx, &mut order, to, &By::from(caller), None).await?;
    let ticket_sql = match to {
        // The message may not have arrived yet: the ticket is made here then.
        OrderStatus::Preparing => {
            "INSERT INTO kitchen_tickets (order_id, pizzeria_id, status, received_at, started_at) \
             VALUES (?, ?, 'preparing', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)) \
             ON DUPLICATE KEY UPDATE status = 'preparing', started_at = UTC_TIMESTAMP(6)"
        }
        _ => {
            "INSERT INTO kitchen_tickets (order_id, pizzeria_id, status, received_at, ready_at) \
             VALUES (?, ?, 'ready', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)) \
             ON DUPLICATE KEY UPDATE status = 'ready', ready_at = UTC_TIMESTAMP(6)"
        }
    };
    sqlx::query(ticket_sql)
        .bind(id.0)
        .bind(order.pizzeria_id.0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    outbox::send_now(&state.pool, &state.queues, &events).await;
    let ticket = ticket(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::internal("ticket vanished after its change"))?;
    edge::json(StatusCode::OK, &json!({ "ticket": ticket }))
}

#[tracing::instrument(skip(state, req), fields(product_id = %product))]
async fn recipe(state: &State, req: &Request, product: ProductId) -> Result<Response, ApiError> {
    let caller = auth::authenticate(&state.pool, req, secret(state)).await?;
    access::check_role(caller.as_ref(), Action::ReadRecipe)?;
    let card = recipe_cards(&state.pool, &[product.0])
        .await?
        .remove(&product.0)
        .ok_or_else(|| ApiError::not_found(format!("No recipe card for product {product}.")))?;
    edge::json_with_etag(req, &json!({ "recipe": card }))
}
