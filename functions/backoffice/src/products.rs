//! The group's menu: products with their category, price, VAT rate and
//! recipe (ingredient lines and the pizzaiolo's steps).
//!
//! Managers read it; only the admin changes it, since every pizzeria sells
//! the same menu (a manager takes a product off their own pizzeria's menu
//! with a menu exclusion instead). A product is never deleted — past orders
//! point at it — but deactivated (`active: false`), which takes it off every
//! menu. Prices and VAT changes apply to new orders only: order lines keep
//! the price and rate they were sold at.
//!
//! The rules of what a product may be, and its rows, are the catalog's
//! (`ocpizza::catalog::products`); this module parses, authorises and shapes
//! the answers (a broken rule is a 422 naming its field).

use crate::{allowed_in_group, field_error, invalid, State};
use http::StatusCode;
use ocpizza::catalog::products::{self as catalog, FieldProblem, ProductChange, WriteError};
use ocpizza::identity::access::Action;
use ocpizza::platform::http::{self as edge, ApiError, Request, Response};
use ocpizza::platform::ids::ProductId;
use serde_json::json;

pub use ocpizza::catalog::products::{Product, VAT_RATES_BP};
pub use ocpizza::catalog::recipe::{Recipe, RecipeLine};

/// 404 unless the product exists.
pub(crate) async fn known_product(state: &State, product: ProductId) -> Result<(), ApiError> {
    if catalog::exists(&state.pool, product).await? {
        Ok(())
    } else {
        Err(no_product(product))
    }
}

pub(crate) fn no_product(product: ProductId) -> ApiError {
    ApiError::not_found(format!("No product with id {product}."))
}

async fn one_product(state: &State, product: ProductId) -> Result<Product, ApiError> {
    catalog::one(&state.pool, product)
        .await?
        .ok_or_else(|| no_product(product))
}

#[tracing::instrument(skip_all)]
pub(crate) async fn list(state: &State, req: &Request) -> Result<Response, ApiError> {
    allowed_in_group(state, req, Action::ReadProducts).await?;
    let products = catalog::load(&state.pool, None).await?;
    edge::json(StatusCode::OK, &json!({ "products": products }))
}

#[tracing::instrument(skip_all, fields(product_id = %product))]
pub(crate) async fn one(
    state: &State,
    req: &Request,
    product: ProductId,
) -> Result<Response, ApiError> {
    allowed_in_group(state, req, Action::ReadProducts).await?;
    let product = one_product(state, product).await?;
    edge::json(StatusCode::OK, &json!({ "product": product }))
}

/// The 422 for the rules a request breaks.
pub(crate) fn problems(found: Vec<FieldProblem>) -> ApiError {
    invalid(
        found
            .iter()
            .map(|p| field_error(&p.field, &p.message))
            .collect(),
    )
}

/// The request's body, tidied and checked against the catalog's rules (all
/// problems at once); `creating` makes category, name, price and VAT rate
/// required.
async fn checked_body(
    state: &State,
    req: &Request,
    creating: bool,
    this: Option<ProductId>,
) -> Result<ProductChange, ApiError> {
    let mut change: ProductChange = edge::parse_json(req)?;
    let found = catalog::check(&state.pool, &mut change, creating, this).await?;
    if found.is_empty() {
        Ok(change)
    } else {
        Err(problems(found))
    }
}

/// A name taken between the check and the write: the same 422 as the check.
fn write_failed(err: WriteError) -> ApiError {
    match err {
        WriteError::NameTaken => problems(vec![FieldProblem::name_taken()]),
        WriteError::Incomplete => ApiError::unprocessable(
            "A new product needs a category, a name, a price and a VAT rate.",
        ),
        WriteError::Database(e) => e.into(),
    }
}

#[tracing::instrument(skip_all)]
pub(crate) async fn create(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = allowed_in_group(state, req, Action::EditMenu).await?;
    let change = checked_body(state, req, true, None).await?;
    let product = catalog::create(&state.pool, &change)
        .await
        .map_err(write_failed)?;
    tracing::info!(product_id = %product, user_id = %caller.user_id, "product created");
    let product = one_product(state, product).await?;
    let mut response = edge::json(StatusCode::CREATED, &json!({ "product": product }))?;
    if let Ok(location) = format!("/products/{}", product.id).parse() {
        response
            .headers_mut()
            .insert(http::header::LOCATION, location);
    }
    Ok(response)
}

#[tracing::instrument(skip_all, fields(product_id = %product))]
pub(crate) async fn update(
    state: &State,
    req: &Request,
    product: ProductId,
) -> Result<Response, ApiError> {
    let caller = allowed_in_group(state, req, Action::EditMenu).await?;
    known_product(state, product).await?;
    let change = checked_body(state, req, false, Some(product)).await?;
    catalog::update(&state.pool, product, &change)
        .await
        .map_err(write_failed)?;
    tracing::info!(product_id = %product, user_id = %caller.user_id, "product changed");
    let product = one_product(state, product).await?;
    edge::json(StatusCode::OK, &json!({ "product": product }))
}
