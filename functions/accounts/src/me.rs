//! The signed-in customer's address book and e-mail address.
//!
//! - `GET /me/addresses` → `{"addresses":[{id,label,line1,postcode,city}]}`;
//! - `POST /me/addresses` `{label,line1,postcode,city}` → 201 `{"address"}`;
//!   422 listing every problem, 409 `address-book-full` past
//!   [`address_book::MAX_ADDRESSES`];
//! - `DELETE /me/addresses/{id}` → the addresses left; 404 for an id that is not one of
//!   the caller's (someone else's included);
//! - `POST /me/email` `{new_email,password}` → 202 `{"sent_to"}`: a link to
//!   confirm is e-mailed to the new address; the account keeps the old one
//!   until it is followed. 403 `wrong-password`, 409 `email-taken`, 429 past
//!   [`rate_limit::EMAIL_CHANGES_PER_ACCOUNT`] (every request counts) or
//!   [`rate_limit::EMAIL_CHANGES_PER_EMAIL`] (links sent to one address);
//! - `POST /email-confirmations` `{token}` → `{"email"}`, the new address
//!   and nothing else of the account (no session needed: the link may be
//!   opened on another device); 410 for a link unknown, used or expired.
//!
//! Staff get 403 on all but the confirmation: their accounts are kept by
//! their manager or the admin.

use crate::{customer, State};
use chrono::Utc;
use http::StatusCode;
use ocpizza::identity::accounts::{address_book, email_change};
use ocpizza::platform::http::{self as edge, ApiError, Request, Response};
use ocpizza::platform::rate_limit;
use serde::Deserialize;
use serde_json::json;

pub async fn list_addresses(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = customer(state, req).await?;
    let addresses = address_book::list(&state.pool, caller.user_id).await?;
    edge::json(StatusCode::OK, &json!({ "addresses": addresses }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAddress {
    label: String,
    line1: String,
    postcode: String,
    city: String,
}

#[tracing::instrument(skip_all)]
pub async fn add_address(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = customer(state, req).await?;
    let body: NewAddress = edge::parse_json(req)?;
    let address = address_book::add(
        &state.pool,
        caller.user_id,
        &body.label,
        (&body.line1, &body.postcode, &body.city),
    )
    .await?;
    tracing::info!(user_id = %caller.user_id, address_id = address.id, "address saved");
    edge::json(StatusCode::CREATED, &json!({ "address": address }))
}

pub async fn delete_address(state: &State, req: &Request, id: i64) -> Result<Response, ApiError> {
    let caller = customer(state, req).await?;
    address_book::delete(&state.pool, caller.user_id, id).await?;
    let addresses = address_book::list(&state.pool, caller.user_id).await?;
    edge::json(StatusCode::OK, &json!({ "addresses": addresses }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailChange {
    new_email: String,
    password: String,
}

/// A change of e-mail asked: the link goes to the new address.
#[tracing::instrument(skip_all)]
pub async fn change_email(state: &State, req: &Request) -> Result<Response, ApiError> {
    let caller = customer(state, req).await?;
    let body: EmailChange = edge::parse_json(req)?;
    rate_limit::check(
        &mut *state.pool.acquire().await?,
        rate_limit::EMAIL_CHANGES_PER_ACCOUNT,
        &caller.user_id.to_string(),
        "Trop de changements d'adresse demandés : réessayez dans une heure \
         (too many e-mail changes asked; try again later).",
    )
    .await?;
    let asked =
        email_change::check(&state.pool, caller.user_id, &body.new_email, &body.password).await?;
    rate_limit::check(
        &mut *state.pool.acquire().await?,
        rate_limit::EMAIL_CHANGES_PER_EMAIL,
        asked.new_email(),
        "Un lien vient déjà d'être envoyé plusieurs fois à cette adresse : réessayez dans une heure \
         (too many links sent to this address; try again later).",
    )
    .await?;
    let sent_to = email_change::send(&state.pool, asked, Utc::now()).await?;
    tracing::info!(user_id = %caller.user_id, "e-mail change asked; confirmation link queued");
    edge::json(
        StatusCode::ACCEPTED,
        &json!({
            "sent_to": sent_to,
            "message": format!(
                "Un lien de confirmation a été envoyé à {sent_to}. Votre adresse changera quand vous l'aurez ouvert."
            ),
        }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Confirmation {
    token: String,
}

/// The link from the new address followed: the e-mail changes.
#[tracing::instrument(skip_all)]
pub async fn confirm_email(state: &State, req: &Request) -> Result<Response, ApiError> {
    let body: Confirmation = edge::parse_json(req)?;
    let email = email_change::confirm(&state.pool, &body.token, Utc::now()).await?;
    edge::json(StatusCode::OK, &json!({ "email": email }))
}
