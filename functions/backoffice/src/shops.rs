//! Opening a pizzeria without SQL: the pizzeria itself, the group's
//! ingredients and categories, a pizzeria's first stock counts.
//!
//! - `POST /pizzerias` (the admin): name, address, phone, coordinates (the
//!   screen geocodes the address through the geocode function first),
//!   delivery radius, fee, minimum order, `active` or `opening_soon` → 201;
//! - `PATCH /pizzerias/{id}`: its manager changes its phone, delivery terms,
//!   preparation time and pre-orders per quarter hour; who and where it is (name, address, coordinates, status) is the
//!   admin's (403 for a manager);
//! - `GET/POST /ingredients`, `GET/POST /categories`: read by managers,
//!   created by the admin → 201;
//! - `POST /pizzerias/{id}/stock` `{ingredient_id, on_hand, low_threshold}`:
//!   the pizzeria starts stocking an ingredient with its first count (an
//!   `initial` movement in the ledger) → 201; 409 when it already does.
//!
//! Each rule a field breaks is a 422 naming it; a name another row has, 409.

use crate::{allowed, allowed_in_group, field_error, invalid, State};
use http::StatusCode;
use ocpizza::catalog::products::FieldProblem;
use ocpizza::catalog::shops::{self, PizzeriaChange, ShopError};
use ocpizza::catalog::{self};
use ocpizza::identity::access::Action;
use ocpizza::identity::role::Role;
use ocpizza::platform::http::{self as edge, ApiError, Request, Response};
use ocpizza::platform::ids::{IngredientId, PizzeriaId};
use ocpizza::stock::levels::{self, OpenLineError};
use ocpizza::stock::MAX_QUANTITY;
use serde::Deserialize;
use serde_json::json;

fn problems(errors: Vec<FieldProblem>) -> ApiError {
    invalid(
        errors
            .iter()
            .map(|p| field_error(&p.field, &p.message))
            .collect(),
    )
}

fn shop_error(err: ShopError, what: &str) -> ApiError {
    match err {
        ShopError::NameTaken(field) => ApiError::conflict(
            "name-taken",
            "Name already used",
            format!("Another {what} already has this {field}."),
        ),
        ShopError::Database(e) => e.into(),
    }
}

async fn answer_pizzeria(
    state: &State,
    id: PizzeriaId,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let pizzeria = catalog::pizzeria(&state.pool, id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No pizzeria with id {id}.")))?;
    edge::json(status, &json!({ "pizzeria": pizzeria }))
}

#[tracing::instrument(skip_all)]
pub async fn open_pizzeria(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = allowed_in_group(state, req, Action::OpenPizzeria).await?;
    let mut new: PizzeriaChange = edge::parse_json(req)?;
    let errors = shops::check_pizzeria(&mut new, true);
    if !errors.is_empty() {
        return Err(problems(errors));
    }
    let id = shops::create_pizzeria(&state.pool, &new)
        .await
        .map_err(|e| shop_error(e, "pizzeria"))?;
    tracing::info!(pizzeria_id = %id, user_id = %caller.user_id, "pizzeria opened");
    answer_pizzeria(state, id, StatusCode::CREATED).await
}

#[tracing::instrument(skip_all, fields(pizzeria_id = %id))]
pub async fn change_pizzeria(
    state: &State,
    req: &Request,
    id: PizzeriaId,
) -> Result<Response, ApiError> {
    let caller = allowed(state, req, Action::ManagePizzeria, id).await?;
    let mut change: PizzeriaChange = edge::parse_json(req)?;
    if change.touches_identity() && caller.role != Role::Admin {
        return Err(ApiError::forbidden(
            "Only the admin changes a pizzeria's name, address or status; \
             its manager changes its phone, delivery terms, preparation time and slots.",
        ));
    }
    let errors = shops::check_pizzeria(&mut change, false);
    if !errors.is_empty() {
        return Err(problems(errors));
    }
    if !shops::update_pizzeria(&state.pool, id, &change)
        .await
        .map_err(|e| shop_error(e, "pizzeria"))?
    {
        return Err(ApiError::not_found(format!("No pizzeria with id {id}.")));
    }
    answer_pizzeria(state, id, StatusCode::OK).await
}

pub async fn list_ingredients(state: &State, req: &Request) -> Result<Response, ApiError> {
    allowed_in_group(state, req, Action::ReadProducts).await?;
    let all = shops::ingredients(&state.pool).await?;
    edge::json(StatusCode::OK, &json!({ "ingredients": all }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IngredientIn {
    name: String,
    unit: String,
}

#[tracing::instrument(skip_all)]
pub async fn create_ingredient(state: &State, req: &Request) -> Result<Response, ApiError> {
    allowed_in_group(state, req, Action::EditMenu).await?;
    let mut body: IngredientIn = edge::parse_json(req)?;
    let errors = shops::check_ingredient(&mut body.name, &body.unit);
    if !errors.is_empty() {
        return Err(problems(errors));
    }
    let made = shops::create_ingredient(&state.pool, &body.name, &body.unit)
        .await
        .map_err(|e| shop_error(e, "ingredient"))?;
    edge::json(StatusCode::CREATED, &json!({ "ingredient": made }))
}

pub async fn list_categories(state: &State, req: &Request) -> Result<Response, ApiError> {
    allowed_in_group(state, req, Action::ReadProducts).await?;
    let all = shops::categories(&state.pool).await?;
    edge::json(StatusCode::OK, &json!({ "categories": all }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryIn {
    name: String,
    #[serde(default)]
    position: i32,
}

#[tracing::instrument(skip_all)]
pub async fn create_category(state: &State, req: &Request) -> Result<Response, ApiError> {
    allowed_in_group(state, req, Action::EditMenu).await?;
    let mut body: CategoryIn = edge::parse_json(req)?;
    let errors = shops::check_category(&mut body.name, body.position);
    if !errors.is_empty() {
        return Err(problems(errors));
    }
    let made = shops::create_category(&state.pool, &body.name, body.position)
        .await
        .map_err(|e| shop_error(e, "category"))?;
    edge::json(StatusCode::CREATED, &json!({ "category": made }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StockLineIn {
    ingredient_id: IngredientId,
    on_hand: i64,
    #[serde(default)]
    low_threshold: i64,
}

#[tracing::instrument(skip_all, fields(pizzeria_id = %pizzeria))]
pub async fn open_stock_line(
    state: &State,
    req: &Request,
    pizzeria: PizzeriaId,
) -> Result<Response, ApiError> {
    let caller = allowed(state, req, Action::ManageStock, pizzeria).await?;
    let body: StockLineIn = edge::parse_json(req)?;
    let mut errors = Vec::new();
    for (field, value) in [
        ("on_hand", body.on_hand),
        ("low_threshold", body.low_threshold),
    ] {
        if !(0..=MAX_QUANTITY).contains(&value) {
            errors.push(field_error(
                field,
                &format!("A whole number from 0 to {MAX_QUANTITY}, in the ingredient's unit."),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    match levels::open_line(
        &state.pool,
        pizzeria,
        body.ingredient_id,
        (body.on_hand, body.low_threshold),
        Some(caller.user_id),
    )
    .await
    {
        Ok(()) => {}
        Err(OpenLineError::AlreadyStocked) => {
            return Err(ApiError::conflict(
                "already-stocked",
                "Already stocked",
                "The pizzeria already stocks this ingredient: restock it or record a count.",
            ))
        }
        Err(OpenLineError::Unknown) => {
            return Err(ApiError::not_found(format!(
                "No ingredient {} or no pizzeria {pizzeria}.",
                body.ingredient_id
            )))
        }
        Err(OpenLineError::Database(e)) => return Err(e.into()),
    }
    let line = levels::line(&state.pool, pizzeria, body.ingredient_id)
        .await?
        .ok_or_else(|| ApiError::internal("the new stock line vanished"))?;
    edge::json(StatusCode::CREATED, &json!({ "stock": line }))
}
