//! The back office function: a pizzeria's stock, the group's menu, revenue.
//!
//! Managers work on their own pizzeria, the admin on every one (and alone on
//! what the whole group shares: the products, their prices and recipes, and
//! the group's revenue). Every route asks the access module (`shared/src/identity/access.rs`) first, so a
//! request without a session is a 401 and anyone else a 403 before any data
//! is read.
//!
//! - `GET /pizzerias/{id}/stock`: each ingredient's level, low ones first;
//! - `POST /pizzerias/{id}/stock/{ingredient_id}/restock|adjustment|waste`:
//!   one conditional update and one ledger row, never below what orders hold
//!   reserved (409); the menu's availability follows at once, being computed
//!   from the stock;
//! - `PATCH /pizzerias/{id}/stock/{ingredient_id}`: the low-stock threshold;
//! - `GET/POST /products`, `GET/PATCH /products/{id}`: the menu (see [`products`]);
//! - `PUT /ingredients/{id}/allergens`, `PUT /products/{id}/sizes`,
//!   `GET/PUT /extras`: what the menu's choices are made of (see [`choices`]);
//! - `POST /pizzerias`, `PATCH /pizzerias/{id}`, `GET/POST /ingredients`,
//!   `GET/POST /categories`, `POST /pizzerias/{id}/stock`: opening a
//!   pizzeria from the screens (see [`shops`]);
//! - `GET/PUT /pizzerias/{id}/hours`, `PUT/DELETE /pizzerias/{id}/special-days/{date}`,
//!   `PUT/DELETE /pizzerias/{id}/pause`: when it takes orders (see [`hours`]);
//! - `PUT/DELETE /pizzerias/{id}/products/{product_id}/unavailable`: a
//!   product off one pizzeria's menu;
//! - `GET /reports/revenue?pizzeria_id=&from=&to=[&format=csv]`: one
//!   pizzeria, or all of them (`pizzeria_id=all`, or none: the admin's
//!   only); see `ocpizza::reporting::revenue` for what counts and the CSV's shape.

pub mod choices;
pub mod hours;
pub mod products;
pub mod shops;

pub use ocpizza::stock::levels::StockLine;

use chrono::NaiveDate;
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use lambda_http::Body;
use ocpizza::catalog;
use ocpizza::identity::access::{self, Action};
use ocpizza::identity::auth::{self, Caller};
use ocpizza::identity::role::Role;
use ocpizza::platform::clock::Clock;
use ocpizza::platform::http::{self as edge, ApiError, Cors, Request, Response};
use ocpizza::platform::ids::{IngredientId, PizzeriaId, ProductId};
use ocpizza::reporting::revenue::{self, Period};
use ocpizza::stock::levels;
use ocpizza::stock::{self, ManualChange, ManualChangeError, MAX_QUANTITY};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use sqlx::MySqlPool;

/// A CSV cell a spreadsheet could take for a formula ("CSV injection",
/// OWASP): text starting with `=`, `+`, `-`, `@`, a tab or a carriage return
/// gets a leading `'`, so Excel, LibreOffice and Google Sheets show it as text
/// and run nothing. (Quoting, for commas and quotes, is the CSV writer's.)
pub fn spreadsheet_text(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// `pizzeria_id=all`: the revenue of every pizzeria, the admin's (as is no
/// `pizzeria_id` at all).
pub const ALL_PIZZERIAS: &str = "all";

/// What every invocation of this container shares.
#[derive(Clone)]
pub struct State {
    pub pool: MySqlPool,
    pub cors: Cors,
    pub secret_key: SecretString,
    /// "Now": today's date for special days, a pause's end.
    pub clock: Clock,
}

pub async fn handle(state: &State, req: Request) -> Response {
    edge::serve(&state.cors, req, |req| route(state, req)).await
}

async fn route(state: &State, req: Request) -> Result<Response, ApiError> {
    let segments = edge::segments(&req);
    let method = req.method().clone();
    match (&method, segments.as_slice()) {
        (&Method::POST, ["pizzerias"]) => shops::open_pizzeria(state, &req).await,
        (&Method::PATCH, ["pizzerias", p]) => {
            shops::change_pizzeria(state, &req, edge::path_param(p, "pizzeria")?).await
        }
        (&Method::POST, ["pizzerias", p, "stock"]) => {
            shops::open_stock_line(state, &req, edge::path_param(p, "pizzeria")?).await
        }
        (&Method::GET, ["ingredients"]) => shops::list_ingredients(state, &req).await,
        (&Method::POST, ["ingredients"]) => shops::create_ingredient(state, &req).await,
        (&Method::PUT, ["ingredients", i, "allergens"]) => {
            choices::set_allergens(state, &req, edge::path_param(i, "ingredient")?).await
        }
        (&Method::PUT, ["products", id, "sizes"]) => {
            choices::set_sizes(state, &req, edge::path_param(id, "product")?).await
        }
        (&Method::GET, ["extras"]) => choices::list_extras(state, &req).await,
        (&Method::PUT, ["extras"]) => choices::set_extras(state, &req).await,
        (&Method::GET, ["categories"]) => shops::list_categories(state, &req).await,
        (&Method::POST, ["categories"]) => shops::create_category(state, &req).await,
        (&Method::GET, ["pizzerias", p, "stock"]) => {
            stock_levels(state, &req, edge::path_param(p, "pizzeria")?).await
        }
        (&Method::PATCH, ["pizzerias", p, "stock", i]) => {
            set_threshold(
                state,
                &req,
                edge::path_param(p, "pizzeria")?,
                edge::path_param(i, "ingredient")?,
            )
            .await
        }
        (
            &Method::POST,
            ["pizzerias", p, "stock", i, kind @ ("restock" | "adjustment" | "waste")],
        ) => {
            manual_change(
                state,
                &req,
                edge::path_param(p, "pizzeria")?,
                edge::path_param(i, "ingredient")?,
                kind,
            )
            .await
        }
        (&Method::PUT | &Method::DELETE, ["pizzerias", p, "products", product, "unavailable"]) => {
            exclusion(
                state,
                &req,
                edge::path_param(p, "pizzeria")?,
                edge::path_param(product, "product")?,
                method == Method::PUT,
            )
            .await
        }
        (&Method::GET, ["pizzerias", p, "hours"]) => {
            hours::show(state, &req, edge::path_param(p, "pizzeria")?).await
        }
        (&Method::PUT, ["pizzerias", p, "hours"]) => {
            hours::set_week(state, &req, edge::path_param(p, "pizzeria")?).await
        }
        (&Method::PUT, ["pizzerias", p, "special-days", day]) => {
            hours::set_day(state, &req, edge::path_param(p, "pizzeria")?, day).await
        }
        (&Method::DELETE, ["pizzerias", p, "special-days", day]) => {
            hours::remove_day(state, &req, edge::path_param(p, "pizzeria")?, day).await
        }
        (&Method::PUT, ["pizzerias", p, "pause"]) => {
            hours::pause(state, &req, edge::path_param(p, "pizzeria")?).await
        }
        (&Method::DELETE, ["pizzerias", p, "pause"]) => {
            hours::resume(state, &req, edge::path_param(p, "pizzeria")?).await
        }
        (&Method::GET, ["products"]) => products::list(state, &req).await,
        (&Method::POST, ["products"]) => products::create(state, &req).await,
        (&Method::GET, ["products", id]) => {
            products::one(state, &req, edge::path_param(id, "product")?).await
        }
        (&Method::PATCH, ["products", id]) => {
            products::update(state, &req, edge::path_param(id, "product")?).await
        }
        (&Method::GET, ["reports", "revenue"]) => revenue_report(state, &req).await,
        (_, ["pizzerias"]) => Err(edge::no_route(&req, &[Method::POST])),
        (_, ["pizzerias", _]) => Err(edge::no_route(&req, &[Method::PATCH])),
        (_, ["pizzerias", _, "stock"]) | (_, ["ingredients" | "categories"]) => {
            Err(edge::no_route(&req, &[Method::GET, Method::POST]))
        }
        (_, ["reports", "revenue"]) => Err(edge::no_route(&req, &[Method::GET])),
        (_, ["pizzerias", _, "stock", _]) => Err(edge::no_route(&req, &[Method::PATCH])),
        (_, ["pizzerias", _, "stock", _, "restock" | "adjustment" | "waste"]) => {
            Err(edge::no_route(&req, &[Method::POST]))
        }
        (_, ["pizzerias", _, "products", _, "unavailable"]) => {
            Err(edge::no_route(&req, &[Method::PUT, Method::DELETE]))
        }
        (_, ["pizzerias", _, "hours"]) => Err(edge::no_route(&req, &[Method::GET, Method::PUT])),
        (_, ["pizzerias", _, "special-days", _] | ["pizzerias", _, "pause"]) => {
            Err(edge::no_route(&req, &[Method::PUT, Method::DELETE]))
        }
        (_, ["products"]) => Err(edge::no_route(&req, &[Method::GET, Method::POST])),
        (_, ["products", _]) => Err(edge::no_route(&req, &[Method::GET, Method::PATCH])),
        (_, ["ingredients", _, "allergens"] | ["products", _, "sizes"]) => {
            Err(edge::no_route(&req, &[Method::PUT]))
        }
        (_, ["extras"]) => Err(edge::no_route(&req, &[Method::GET, Method::PUT])),
        _ => Err(edge::no_route(&req, &[])),
    }
}

/// The signed-in caller, the session checked against the account.
async fn caller(state: &State, req: &Request) -> Result<Option<Caller>, ApiError> {
    auth::authenticate(&state.pool, req, &state.secret_key).await
}

/// May the caller do `action` in `pizzeria` (the access module decides)?
pub(crate) async fn allowed(
    state: &State,
    req: &Request,
    action: Action,
    pizzeria: PizzeriaId,
) -> Result<Caller, ApiError> {
    let caller = caller(state, req).await?;
    access::check(caller.as_ref(), action, pizzeria).cloned()
}

/// May the caller do `action`, which concerns the whole group?
pub(crate) async fn allowed_in_group(
    state: &State,
    req: &Request,
    action: Action,
) -> Result<Caller, ApiError> {
    let caller = caller(state, req).await?;
    access::check_role(caller.as_ref(), action).cloned()
}

/// 404 unless the pizzeria exists (asked after the access check, so an
/// outsider cannot probe ids).
async fn known_pizzeria(pool: &MySqlPool, pizzeria: PizzeriaId) -> Result<(), ApiError> {
    if catalog::pizzeria_exists(pool, pizzeria).await? {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "No pizzeria with id {pizzeria}."
        )))
    }
}

/// The problem for a list of invalid fields.
pub(crate) fn invalid(errors: Vec<serde_json::Value>) -> ApiError {
    let count = errors.len();
    ApiError::unprocessable(format!(
        "The request has {count} problem{}; see `errors`.",
        if count > 1 { "s" } else { "" }
    ))
    .with("errors", errors)
}

pub(crate) fn field_error(field: &str, message: &str) -> serde_json::Value {
    json!({ "field": field, "message": message })
}

// ---------------------------------------------------------------- stock

/// 404 unless the pizzeria stocks the ingredient; its line when it does.
async fn stock_line(
    pool: &MySqlPool,
    pizzeria: PizzeriaId,
    ingredient: IngredientId,
) -> Result<StockLine, ApiError> {
    levels::line(pool, pizzeria, ingredient)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Pizzeria {pizzeria} holds no stock of ingredient {ingredient}."
            ))
        })
}

#[tracing::instrument(skip_all, fields(pizzeria_id = %pizzeria))]
async fn stock_levels(
    state: &State,
    req: &Request,
    pizzeria: PizzeriaId,
) -> Result<Response, ApiError> {
    allowed(state, req, Action::ManageStock, pizzeria).await?;
    known_pizzeria(&state.pool, pizzeria).await?;
    let lines = levels::levels(&state.pool, pizzeria).await?;
    let low = lines.iter().filter(|l| l.low).count();
    edge::json(
        StatusCode::OK,
        &json!({ "pizzeria_id": pizzeria, "low_count": low, "stock": lines }),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeIn {
    quantity: Option<i64>,
    /// Adjustment: the level counted on the shelf.
    on_hand: Option<i64>,
    /// Adjustment: a correction up or down.
    delta: Option<i64>,
    reason: Option<String>,
}

#[tracing::instrument(skip_all, fields(pizzeria_id = %pizzeria, ingredient_id = %ingredient))]
async fn manual_change(
    state: &State,
    req: &Request,
    pizzeria: PizzeriaId,
    ingredient: IngredientId,
    kind: &str,
) -> Result<Response, ApiError> {
    let caller = allowed(state, req, Action::ManageStock, pizzeria).await?;
    known_pizzeria(&state.pool, pizzeria).await?;
    let body: ChangeIn = edge::parse_json(req)?;
    let mut errors = Vec::new();
    let reason = body
        .reason
        .as_deref()
        .map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 200) {
        errors.push(field_error("reason", "At most 200 characters."));
    }
    if kind != "restock" && reason.is_none() {
        errors.push(field_error(
            "reason",
            "Say why (a count, spoilt, dropped...): an adjustment or waste needs a reason.",
        ));
    }
    let in_range = |q: i64| (1..=MAX_QUANTITY).contains(&q);
    let change = match kind {
        "restock" | "waste" => match body.quantity {
            Some(q) if in_range(q) && body.on_hand.is_none() && body.delta.is_none() => {
                Some(if kind == "restock" {
                    ManualChange::Restock(q)
                } else {
                    ManualChange::Waste(q)
                })
            }
            _ => {
                errors.push(field_error(
                    "quantity",
                    &format!("Give `quantity`, a whole number from 1 to {MAX_QUANTITY}, in the ingredient's unit."),
                ));
                None
            }
        },
        _ => match (body.on_hand, body.delta, body.quantity) {
            (Some(level), None, None) if (0..=MAX_QUANTITY).contains(&level) => {
                Some(ManualChange::CountedAt(level))
            }
            (None, Some(delta), None) if delta != 0 && delta.abs() <= MAX_QUANTITY => {
                Some(ManualChange::AdjustBy(delta))
            }
            _ => {
                errors.push(field_error(
                    "on_hand",
                    &format!("Give either `on_hand`, the level counted (0 to {MAX_QUANTITY}), or `delta`, a non-zero correction."),
                ));
                None
            }
        },
    };
    let Some(change) = change.filter(|_| errors.is_empty()) else {
        return Err(invalid(errors));
    };

    let mut tx = state.pool.begin().await?;
    let applied = stock::apply_manual(
        &mut tx,
        pizzeria,
        ingredient,
        change,
        Some(caller.user_id),
        reason.as_deref(),
    )
    .await;
    let level = match applied {
        Ok(level) => level,
        Err(err) => {
            tx.rollback().await?;
            return Err(match err {
                ManualChangeError::NotStocked(..) => ApiError::not_found(format!(
                    "Pizzeria {pizzeria} holds no stock of ingredient {ingredient}."
                )),
                ManualChangeError::BelowReserved {
                    on_hand,
                    reserved,
                    would_be,
                } => ApiError::conflict(
                    "below-reserved",
                    "Stock would fall below what orders hold",
                    format!(
                        "On hand would become {would_be}, but orders in progress hold {reserved} reserved \
                         (on hand now {on_hand}); at most {} can be taken off now.",
                        (on_hand - reserved).max(0)
                    ),
                )
                .with("on_hand", on_hand)
                .with("reserved", reserved),
                ManualChangeError::TooMuch(would_be) => invalid(vec![field_error(
                    "quantity",
                    &format!("On hand would become {would_be}: too much for one stock level."),
                )]),
                ManualChangeError::Database(e) => e.into(),
            });
        }
    };
    tx.commit().await?;
    tracing::info!(
        kind = change.kind(),
        delta = level.delta,
        on_hand = level.on_hand,
        user_id = %caller.user_id,
        "stock changed by hand"
    );
    let line = stock_line(&state.pool, pizzeria, ingredient).await?;
    edge::json(
        StatusCode::OK,
        &json!({ "kind": change.kind(), "on_hand_delta": level.delta, "stock": line }),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdIn {
    low_threshold: i64,
}

#[tracing::instrument(skip_all, fields(pizzeria_id = %pizzeria, ingredient_id = %ingredient))]
async fn set_threshold(
    state: &State,
    req: &Request,
    pizzeria: PizzeriaId,
    ingredient: IngredientId,
) -> Result<Response, ApiError> {
    allowed(state, req, Action::ManageStock, pizzeria).await?;
    known_pizzeria(&state.pool, pizzeria).await?;
    let body: ThresholdIn = edge::parse_json(req)?;
    if !(0..=MAX_QUANTITY).contains(&body.low_threshold) {
        return Err(invalid(vec![field_error(
            "low_threshold",
            &format!("A whole number from 0 to {MAX_QUANTITY}, in the ingredient's unit."),
        )]));
    }
    // Existence first: a write that changes nothing affects no row, so its
    // count cannot tell an unstocked ingredient from an unchanged threshold.
    stock_line(&state.pool, pizzeria, ingredient).await?;
    levels::set_low_threshold(&state.pool, pizzeria, ingredient, body.low_threshold).await?;
    let line = stock_line(&state.pool, pizzeria, ingredient).await?;
    edge::json(StatusCode::OK, &json!({ "stock": line }))
}

// ---------------------------------------------------------------- one pizzeria's menu

/// Takes a product off one pizzeria's menu (`PUT`) or puts it back
/// (`DELETE`); both idempotent.
#[tracing::instrument(skip_all, fields(pizzeria_id = %pizzeria, product_id = %product))]
async fn exclusion(
    state: &State,
    req: &Request,
    pizzeria: PizzeriaId,
    product: ProductId,
    unavailable: bool,
) -> Result<Response, ApiError> {
    allowed(state, req, Action::MenuExclusion, pizzeria).await?;
    known_pizzeria(&state.pool, pizzeria).await?;
    products::known_product(state, product).await?;
    catalog::products::set_unavailable(&state.pool, pizzeria, product, unavailable).await?;
    edge::json(
        StatusCode::OK,
        &json!({ "pizzeria_id": pizzeria, "product_id": product, "unavailable": unavailable }),
    )
}

// ---------------------------------------------------------------- revenue

fn parse_day(
    value: Option<&str>,
    name: &str,
    errors: &mut Vec<serde_json::Value>,
) -> Option<NaiveDate> {
    match value.map(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d")) {
        Some(Ok(day)) => Some(day),
        _ => {
            errors.push(field_error(
                name,
                "A date as YYYY-MM-DD (a Paris calendar day).",
            ));
            None
        }
    }
}

#[tracing::instrument(skip_all)]
async fn revenue_report(state: &State, req: &Request) -> Result<Response, ApiError> {
    let pairs = edge::query_pairs(req);
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    // Who may see what comes first: all pizzerias (`all`, or no id) are the
    // admin's; a manager names their own pizzeria.
    let pizzeria = match get("pizzeria_id").filter(|v| !v.is_empty() && *v != ALL_PIZZERIAS) {
        Some(id) => {
            let id: PizzeriaId = id
                .parse()
                .map_err(|_| invalid(vec![field_error("pizzeria_id", "A pizzeria id.")]))?;
            allowed(state, req, Action::PizzeriaRevenue, id).await?;
            known_pizzeria(&state.pool, id).await?;
            Some(id)
        }
        None => {
            if let Err(err) = allowed_in_group(state, req, Action::GroupRevenue).await {
                let manager = caller(state, req)
                    .await
                    .ok()
                    .flatten()
                    .filter(|c| c.role == Role::Manager);
                return Err(match manager.and_then(|c| c.pizzeria_id) {
                    Some(own) => ApiError::forbidden(format!(
                        "All pizzerias' revenue is the admin's; ask for your pizzeria's with pizzeria_id={own}."
                    )),
                    None => err,
                });
            }
            None
        }
    };
    let mut errors = Vec::new();
    let from = parse_day(get("from"), "from", &mut errors);
    let to = parse_day(get("to"), "to", &mut errors);
    let csv = match get("format") {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            errors.push(field_error("format", "`json` (the default) or `csv`."));
            false
        }
    };
    let period = match (from, to) {
        (Some(from), Some(to)) if errors.is_empty() => {
            Period::new(from, to).map_err(|e| invalid(vec![field_error("to", &e)]))?
        }
        _ => return Err(invalid(errors)),
    };
    let mut report = revenue::report(&state.pool, pizzeria, period).await?;
    if !csv {
        return edge::json(StatusCode::OK, &report);
    }
    let filename = revenue::csv_filename(&report);
    // The pizzerias' names are the export's only text from the database (the
    // other cells are dates, ids, counts and amounts we format, and the
    // labels `Total` and `Toutes les pizzerias`): a name a spreadsheet would
    // run as a formula is written as text.
    for p in &mut report.pizzerias {
        p.name = spreadsheet_text(&p.name);
    }
    let mut response = Response::new(Body::Text(revenue::to_csv(&report)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
