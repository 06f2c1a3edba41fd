//! The photos function: a product's photo, sent by the admin from the
//! manager screen, made into the shop's files and stored in S3.
//!
//! A function of its own, apart from the back office: the image decoders
//! and the S3 client live in one binary given the memory (so the CPU) that
//! decoding and resizing a phone's photo needs, and the back office stays
//! small. Only the admin changes photos, as they change the menu
//! ([`Action::EditMenu`]); a request without a session is a 401, anyone
//! else a 403, before the body is looked at.
//!
//! - `PUT /products/{id}/photo`: the body is the picture itself
//!   (`Content-Type: image/jpeg`, `image/png` or `image/webp`; at most
//!   [`MAX_PHOTO_BYTES`]). It is decoded, cropped to 4:3, resized to the
//!   shop's widths and encoded as JPEG ([`picture`]), each file stored under
//!   a fresh version ([`store`]); only then is the photo recorded, in one
//!   statement, and the previous version's files removed. An upload that
//!   fails leaves the previous photo in place. Answers the photo as the
//!   menu will show it.
//! - `DELETE /products/{id}/photo`: the product has no photo any more
//!   (204, also when it had none).
//! - `GET /photos`: every product's photo, for the manager screen (managers
//!   read the products too).
//!
//! The menu never calls this function nor S3: it reads the recorded
//! version and builds the addresses under `PHOTOS_URL`.

pub mod picture;
pub mod store;

use http::{Method, StatusCode};
use ocpizza::catalog::photos::{self, Photo};
use ocpizza::catalog::products;
use ocpizza::identity::access::{self, Action};
use ocpizza::identity::auth::{self, Caller};
use ocpizza::platform::http::{self as edge, ApiError, Cors, Request, Response};
use ocpizza::platform::ids::ProductId;
use picture::Refusal;
use secrecy::SecretString;
use serde_json::json;
use sqlx::MySqlPool;
use std::time::Instant;
pub use store::Store;

/// The largest body accepted, decoded. Function URLs carry a binary body
/// base64-encoded in an invocation of at most 6 MB: 4 MiB is what fits
/// with room for the headers (the manager screen shrinks a larger photo
/// before sending it).
pub const MAX_PHOTO_BYTES: usize = 4 * 1024 * 1024;

/// The content types a photo may be sent as.
pub const CONTENT_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

/// What every invocation of this container shares.
#[derive(Clone)]
pub struct State {
    pub pool: MySqlPool,
    pub cors: Cors,
    pub secret_key: SecretString,
    pub store: Store,
    /// `PHOTOS_URL`: where the files are served (the answers' addresses).
    pub photos_url: String,
}

pub async fn handle(state: &State, req: Request) -> Response {
    edge::serve(&state.cors, req, |req| route(state, req)).await
}

async fn route(state: &State, req: Request) -> Result<Response, ApiError> {
    let segments = edge::segments(&req);
    match (req.method(), segments.as_slice()) {
        (&Method::PUT, ["products", id, "photo"]) => {
            upload(state, &req, edge::path_param(id, "product")?).await
        }
        (&Method::DELETE, ["products", id, "photo"]) => {
            remove(state, &req, edge::path_param(id, "product")?).await
        }
        (&Method::GET, ["photos"]) => list(state, &req).await,
        (_, ["products", _, "photo"]) => Err(edge::no_route(&req, &[Method::PUT, Method::DELETE])),
        (_, ["photos"]) => Err(edge::no_route(&req, &[Method::GET])),
        _ => Err(edge::no_route(&req, &[])),
    }
}

/// May the caller do `action` (the access module decides)?
async fn allowed(state: &State, req: &Request, action: Action) -> Result<Caller, ApiError> {
    let caller = auth::authenticate(&state.pool, req, &state.secret_key).await?;
    access::check_role(caller.as_ref(), action).cloned()
}

/// 404 unless the product exists (asked after the access check).
async fn known_product(state: &State, product: ProductId) -> Result<(), ApiError> {
    if products::exists(&state.pool, product).await? {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "No product with id {product}."
        )))
    }
}

/// The problem of a photo refused; `reason` tells the page which.
fn invalid(status: StatusCode, reason: &str, detail: String) -> ApiError {
    ApiError::new(status, "invalid-photo", "Invalid photo", detail).with("reason", reason)
}

fn refused(refusal: Refusal) -> ApiError {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    match refusal {
        Refusal::NotAnImage => invalid(
            status,
            "not_an_image",
            "The body is not a whole JPEG, PNG or WebP picture.".into(),
        ),
        Refusal::TooSmall { width, height } => invalid(
            status,
            "too_small",
            format!(
                "The picture is {width} × {height} pixels; cropped to 4:3 it must be at least {} × {}.",
                photos::MIN_WIDTH,
                photos::height_for(photos::MIN_WIDTH)
            ),
        )
        .with("min_width", photos::MIN_WIDTH)
        .with("min_height", photos::height_for(photos::MIN_WIDTH)),
        Refusal::TooLarge { width, height } => invalid(
            status,
            "too_large",
            format!(
                "The picture is {width} × {height} pixels; at most {0} × {0} is accepted.",
                picture::MAX_SIDE
            ),
        )
        .with("max_side", picture::MAX_SIDE),
    }
}

/// The body, if the request carries a photo the way it should.
fn photo_body(req: &Request) -> Result<&[u8], ApiError> {
    let content_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !CONTENT_TYPES.contains(&content_type.as_str()) {
        return Err(invalid(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "format",
            format!(
                "Send the picture itself as the body, with Content-Type {}.",
                CONTENT_TYPES.join(", ")
            ),
        ));
    }
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(invalid(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_heavy",
            format!("The picture is limited to {MAX_PHOTO_BYTES} bytes."),
        )
        .with("max_bytes", MAX_PHOTO_BYTES));
    }
    if bytes.is_empty() {
        return Err(invalid(
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty",
            "The body is empty: send the picture.".into(),
        ));
    }
    Ok(bytes)
}

/// The photo as the menu shows it.
fn shown(state: &State, product: ProductId, photo: &Photo) -> serde_json::Value {
    json!(photo.view(product, &state.photos_url))
}

#[tracing::instrument(skip_all, fields(product_id = %product))]
async fn upload(state: &State, req: &Request, product: ProductId) -> Result<Response, ApiError> {
    let caller = allowed(state, req, Action::EditMenu).await?;
    known_product(state, product).await?;
    let bytes = photo_body(req)?.to_vec();
    let started = Instant::now();
    let size = bytes.len();
    let prepared = tokio::task::spawn_blocking(move || picture::prepare(&bytes))
        .await
        .map_err(ApiError::internal)?
        .map_err(refused)?;
    let resized_ms = started.elapsed().as_millis() as u64;
    let photo = Photo {
        version: photos::new_version(),
        widths: prepared.widths(),
    };
    let keys = photo.keys(product);
    let puts = keys
        .iter()
        .zip(prepared.files)
        .map(|(key, file)| state.store.put(key, file.jpeg));
    let stored = futures_util::future::join_all(puts).await;
    if let Some(Err(err)) = stored.iter().find(|r| r.is_err()) {
        tracing::error!(error = %err, "photo not stored; the product keeps its photo");
        state.store.delete(&keys).await;
        return Err(ApiError::unavailable(
            "The photo could not be stored; the product keeps its photo. Please try again.",
        ));
    }
    let previous = photos::record(&state.pool, product, &photo).await?;
    if let Some(previous) = previous {
        // The new version is recorded: the old files are no longer named.
        state.store.delete(&previous.keys(product)).await;
    }
    tracing::info!(
        user_id = %caller.user_id,
        version = %photo.version,
        bytes = size,
        source_width = prepared.source.0,
        source_height = prepared.source.1,
        resized_ms,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "product photo stored"
    );
    edge::json(
        StatusCode::OK,
        &json!({ "product_id": product, "photo": shown(state, product, &photo) }),
    )
}

#[tracing::instrument(skip_all, fields(product_id = %product))]
async fn remove(state: &State, req: &Request, product: ProductId) -> Result<Response, ApiError> {
    let caller = allowed(state, req, Action::EditMenu).await?;
    known_product(state, product).await?;
    if let Some(previous) = photos::remove(&state.pool, product).await? {
        state.store.delete(&previous.keys(product)).await;
        tracing::info!(user_id = %caller.user_id, version = %previous.version, "product photo removed");
    }
    let mut response = Response::new(lambda_http::Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

#[tracing::instrument(skip_all)]
async fn list(state: &State, req: &Request) -> Result<Response, ApiError> {
    allowed(state, req, Action::ReadProducts).await?;
    let all = photos::all(&state.pool).await?;
    let list: Vec<_> = all
        .iter()
        .map(|(product, photo)| json!({ "product_id": product, "photo": shown(state, *product, photo) }))
        .collect();
    edge::json(StatusCode::OK, &json!({ "photos": list }))
}
