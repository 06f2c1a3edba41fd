//! What the menu's choices are made of, the admin's alone (like the
//! products: every pizzeria sells the same menu):
//!
//! - `PUT /ingredients/{id}/allergens` `{allergens, vegetarian}`: the
//!   ingredient's allergens (codes, each once) and vegetarian flag → the
//!   ingredient;
//! - `PUT /products/{id}/sizes` `{sizes: [{code, label, price_cents,
//!   recipe_percent}]}`: the product's sizes, in order, replaced whole (`[]`:
//!   sold as its recipe says, at its price) → the product;
//! - `GET /extras` (managers too), `PUT /extras` `{extras: [{ingredient_id,
//!   quantity, price_cents}]}`: the group's extras, replaced whole, in order.
//!
//! A product's `max_extras` and which recipe lines may be left off
//! (`removable`) go through `PATCH /products/{id}` ([`crate::products`]).
//! The menu and checkout read all of it from the database at each request,
//! so a change shows at the next one. The rules and the rows are the
//! catalog's (`ocpizza::catalog::options`); a broken rule is a 422 naming
//! its field, with nothing written.

use crate::products::{self, no_product, problems};
use crate::{allowed_in_group, State};
use http::StatusCode;
use ocpizza::catalog::options::{self, AllergensChange, ExtrasChange, SizesChange};
use ocpizza::catalog::{self, shops};
use ocpizza::identity::access::Action;
use ocpizza::platform::http::{self as edge, ApiError, Request, Response};
use ocpizza::platform::ids::{IngredientId, ProductId};
use serde_json::json;

fn no_ingredient(id: IngredientId) -> ApiError {
    ApiError::not_found(format!("No ingredient with id {id}."))
}

#[tracing::instrument(skip_all, fields(ingredient_id = %id))]
pub(crate) async fn set_allergens(
    state: &State,
    req: &Request,
    id: IngredientId,
) -> Result<Response, ApiError> {
    let caller = allowed_in_group(state, req, Action::EditMenu).await?;
    if shops::ingredient(&state.pool, id).await?.is_none() {
        return Err(no_ingredient(id));
    }
    let body: AllergensChange = edge::parse_json(req)?;
    let allergens = options::check_allergens(&body.allergens).map_err(problems)?;
    if !options::set_allergens(&state.pool, id, &allergens, body.vegetarian).await? {
        return Err(no_ingredient(id));
    }
    tracing::info!(user_id = %caller.user_id, "allergens set");
    let ingredient = shops::ingredient(&state.pool, id)
        .await?
        .ok_or_else(|| no_ingredient(id))?;
    edge::json(StatusCode::OK, &json!({ "ingredient": ingredient }))
}

#[tracing::instrument(skip_all, fields(product_id = %product))]
pub(crate) async fn set_sizes(
    state: &State,
    req: &Request,
    product: ProductId,
) -> Result<Response, ApiError> {
    let caller = allowed_in_group(state, req, Action::EditMenu).await?;
    products::known_product(state, product).await?;
    let mut body: SizesChange = edge::parse_json(req)?;
    let found = options::check_sizes(&mut body.sizes);
    if !found.is_empty() {
        return Err(problems(found));
    }
    if !options::replace_sizes(&state.pool, product, &body.sizes).await? {
        return Err(no_product(product));
    }
    tracing::info!(user_id = %caller.user_id, sizes = body.sizes.len(), "sizes replaced");
    let product = catalog::products::one(&state.pool, product)
        .await?
        .ok_or_else(|| no_product(product))?;
    edge::json(StatusCode::OK, &json!({ "product": product }))
}

async fn answer_extras(state: &State) -> Result<Response, ApiError> {
    let extras = options::extras(&state.pool).await?;
    edge::json(StatusCode::OK, &json!({ "extras": extras }))
}

pub(crate) async fn list_extras(state: &State, req: &Request) -> Result<Response, ApiError> {
    allowed_in_group(state, req, Action::ReadProducts).await?;
    answer_extras(state).await
}

#[tracing::instrument(skip_all)]
pub(crate) async fn set_extras(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = allowed_in_group(state, req, Action::EditMenu).await?;
    let body: ExtrasChange = edge::parse_json(req)?;
    let found = options::check_extras(&state.pool, &body.extras).await?;
    if !found.is_empty() {
        return Err(problems(found));
    }
    options::replace_extras(&state.pool, &body.extras).await?;
    tracing::info!(user_id = %caller.user_id, extras = body.extras.len(), "extras replaced");
    answer_extras(state).await
}
