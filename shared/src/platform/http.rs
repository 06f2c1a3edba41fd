//! The HTTP edge every function URL goes through.
//!
//! One error type, [`ApiError`], becomes an RFC 9457 `application/problem+json`
//! answer: 4xx for the caller's mistakes with a detail they can act on, 500 only
//! for ours — logged with the request id and never shown. [`serve`] wraps a
//! function's router with request ids, CORS and that conversion.

use crate::platform::db;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use lambda_http::{Body, RequestExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::future::Future;
use std::time::Instant;
use tracing::Instrument;

pub type Request = lambda_http::Request;
pub type Response = http::Response<Body>;

pub const PROBLEM_JSON: &str = "application/problem+json";
pub const REQUEST_ID: &str = "x-request-id";
/// Request bodies are small JSON documents; anything bigger is a mistake or an attack.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A problem the caller can act on, per RFC 9457.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    /// Short stable slug, published as the problem `type` (`/problems/<kind>`).
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: String,
    /// Extension members, e.g. the short products of a 409.
    pub extra: Map<String, Value>,
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The caller's mistake or a state that forbids the request: 4xx, or a 503.
    #[error("{} {}: {}", .0.status, .0.title, .0.detail)]
    Problem(Box<Problem>),
    /// Our fault: logged in full, answered as a bare 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        ApiError::Problem(Box::new(Problem {
            status,
            kind,
            title,
            detail: detail.into(),
            extra: Map::new(),
        }))
    }

    /// Adds an extension member to a problem (no effect on an internal error).
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        if let ApiError::Problem(p) = &mut self {
            p.extra.insert(
                key.to_owned(),
                serde_json::to_value(value).unwrap_or(Value::Null),
            );
        }
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad request",
            detail,
        )
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
            detail,
        )
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }
    pub fn conflict(kind: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, kind, title, detail)
    }
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
            "Invalid request",
            detail,
        )
    }
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        )
    }
    pub fn internal(err: impl std::fmt::Display) -> Self {
        ApiError::Internal(err.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Problem(p) => p.status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem+json answer. An internal error shows only the request id.
    pub fn to_response(&self, request_id: &str) -> Response {
        let (status, body) = match self {
            ApiError::Problem(p) => {
                let mut body = Map::new();
                body.insert("type".into(), json!(format!("/problems/{}", p.kind)));
                body.insert("title".into(), json!(p.title));
                body.insert("status".into(), json!(p.status.as_u16()));
                body.insert("detail".into(), json!(p.detail));
                body.extend(p.extra.clone());
                body.insert("request_id".into(), json!(request_id));
                (p.status, Value::Object(body))
            }
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({
                    "type": "/problems/internal",
                    "title": "Internal error",
                    "status": 500,
                    "detail": "Something went wrong on our side. Please try again; if it persists, quote the request id.",
                    "request_id": request_id,
                }),
            ),
        };
        let mut response = Response::new(Body::Text(body.to_string()));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
        if let ApiError::Problem(p) = self {
            // A limit says when to come back, in the header clients read.
            if let Some(seconds) = p.extra.get("retry_after_seconds").and_then(Value::as_i64) {
                if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
            }
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        if db::is_unavailable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            ApiError::unavailable(
                "The service is briefly unavailable. Please try again in a moment.",
            )
        } else {
            ApiError::Internal(format!("database: {err}"))
        }
    }
}

/// Cross-origin access for the pages: exactly the configured origins.
#[derive(Debug, Clone, Default)]
pub struct Cors {
    allowed_origins: Vec<String>,
}

impl Cors {
    pub fn new(allowed_origins: &[String]) -> Self {
        Cors {
            allowed_origins: allowed_origins.to_vec(),
        }
    }

    fn allowed<'a>(&self, headers: &'a HeaderMap) -> Option<&'a HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        let text = origin.to_str().ok()?;
        self.allowed_origins
            .iter()
            .any(|o| o == text)
            .then_some(origin)
    }

    fn decorate(&self, request_headers: &HeaderMap, response: &mut Response) {
        let headers = response.headers_mut();
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        if let Some(origin) = self.allowed(request_headers) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("etag, location, x-request-id, retry-after"),
            );
        }
    }

    fn preflight(&self, request_headers: &HeaderMap) -> Response {
        let mut response = Response::new(Body::Empty);
        *response.status_mut() = StatusCode::NO_CONTENT;
        if self.allowed(request_headers).is_some() {
            let h = response.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, PATCH, DELETE, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(
                    "authorization, content-type, idempotency-key, if-none-match, x-ocpizza-token, x-amz-content-sha256",
                ),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
        response
    }
}

/// The request id: the caller's `X-Request-Id` when it is sane, else Lambda's.
pub fn request_id(req: &Request) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map(str::to_owned)
        .or_else(|| {
            req.lambda_context_ref()
                .map(|c| c.request_id.clone())
                .filter(|id| !id.is_empty())
        })
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Runs a function's router for one request: answers CORS preflights, turns
/// errors into problems, logs the outcome and tags the answer with its id.
pub async fn serve<F, Fut>(cors: &Cors, req: Request, router: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response, ApiError>>,
{
    let started = Instant::now();
    let request_id = request_id(&req);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let request_headers = req.headers().clone();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        function = %crate::platform::metrics::function_name(),
        cold_start = crate::platform::metrics::cold_start(),
        %method,
        %path
    );

    let mut response = if method == Method::OPTIONS {
        cors.preflight(&request_headers)
    } else {
        match router(req).instrument(span.clone()).await {
            Ok(response) => response,
            Err(err) => {
                let _enter = span.enter();
                if err.status().is_server_error() {
                    tracing::error!(error = %err, "request failed");
                } else {
                    tracing::info!(error = %err, "request refused");
                }
                err.to_response(&request_id)
            }
        }
    };
    cors.decorate(&request_headers, &mut response);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let _enter = span.enter();
    tracing::debug!(
        status = response.status().as_u16(),
        elapsed_us = started.elapsed().as_micros() as u64,
        "answered"
    );
    response
}

/// The path's segments, without empty ones: `/pizzerias/1/menu` → `["pizzerias", "1", "menu"]`.
pub fn segments(req: &Request) -> Vec<&str> {
    req.uri()
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect()
}

/// A parsed path parameter, or a 404 naming what was not found.
pub fn path_param<T: std::str::FromStr>(segment: &str, what: &str) -> Result<T, ApiError> {
    segment
        .parse()
        .map_err(|_| ApiError::not_found(format!("No {what} with id {segment:?}.")))
}

/// The query string's pairs, decoded.
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    req.uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// 404 for a path this function does not serve, 405 for a wrong method on one it does.
pub fn no_route(req: &Request, allowed: &[Method]) -> ApiError {
    if allowed.is_empty() {
        ApiError::not_found(format!(
            "Nothing here: {} {}.",
            req.method(),
            req.uri().path()
        ))
    } else {
        let list: Vec<&str> = allowed.iter().map(Method::as_str).collect();
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            format!(
                "{} is not allowed here; use {}.",
                req.method(),
                list.join(" or ")
            ),
        )
        .with("allow", list)
    }
}

/// A JSON answer.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Response, ApiError> {
    let body = serde_json::to_string(value).map_err(ApiError::internal)?;
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// A strong `ETag` for these bytes.
pub fn etag_for(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("\"{}\"", hex::encode(&digest[..12]))
}

/// Does the caller already hold this version (`If-None-Match`)?
pub fn holds_etag(req: &Request, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().trim_start_matches("W/"))
        .any(|v| v == etag || v == "*")
}

/// The empty 304 a poller gets when nothing changed.
pub fn not_modified(etag: &str) -> Response {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    tag(&mut response, etag);
    response
}

fn tag(response: &mut Response, etag: &str) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
}

/// A 200 JSON answer carrying `etag`, computed by the caller from what makes
/// the answer change (so a field that moves on its own, like an age in
/// seconds, does not defeat the cache), or a 304 when the caller holds it.
pub fn json_tagged<T: Serialize>(
    req: &Request,
    etag: &str,
    value: &T,
) -> Result<Response, ApiError> {
    if holds_etag(req, etag) {
        return Ok(not_modified(etag));
    }
    let body = serde_json::to_vec(value).map_err(ApiError::internal)?;
    let mut response = Response::new(Body::Binary(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    tag(&mut response, etag);
    Ok(response)
}

/// A 200 JSON answer with a strong `ETag` over its bytes, or an empty 304 when
/// the caller already has it (`If-None-Match`). Pollers pay for a few bytes.
pub fn json_with_etag<T: Serialize>(req: &Request, value: &T) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(value).map_err(ApiError::internal)?;
    let etag = etag_for(&body);
    Ok(json_bytes_with_etag(req, Cow::Owned(body), &etag))
}

/// The same for JSON already serialized, with its [`etag_for`] (a caller
/// that keeps an answer serves it again without making it again).
pub fn json_bytes_with_etag(req: &Request, body: Cow<'_, [u8]>, etag: &str) -> Response {
    if holds_etag(req, etag) {
        return not_modified(etag);
    }
    let mut response = Response::new(Body::Binary(body.into_owned()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    tag(&mut response, etag);
    response
}

/// The request body as `T`: 415 when it is not JSON, 413 when too big, 422
/// with serde's explanation (field and position) when it does not fit.
pub fn parse_json<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        if !ct.starts_with("application/json") && !ct.ends_with("+json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "Send the body as application/json.",
            ));
        }
    }
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload too large",
            format!("The body is limited to {MAX_BODY_BYTES} bytes."),
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::unprocessable("The request needs a JSON body."));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::unprocessable(format!("The JSON body is invalid: {e}.")))
}

/// Whether `CloudFront-Viewer-Address` can be believed: only on functions
/// reachable through our CloudFront distribution alone (function URL with
/// `AWS_IAM` behind Origin Access Control), where the template sets
/// `TRUST_VIEWER_ADDRESS=true`. Anywhere else a client could write it.
fn trust_viewer_address() -> bool {
    static TRUST: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRUST.get_or_init(|| std::env::var("TRUST_VIEWER_ADDRESS").as_deref() == Ok("true"))
}

/// The client's address, for rate limits: the viewer's address CloudFront
/// gives (`ip:port`, or `[ipv6]:port`) when it can be trusted, else the
/// connection's source address from the function URL's request context.
/// `None` when neither is known (a test calling a handler directly).
pub fn client_address(req: &Request) -> Option<String> {
    if trust_viewer_address() {
        let viewer = req
            .headers()
            .get("cloudfront-viewer-address")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit_once(':'))
            .map(|(ip, _port)| ip.trim_matches(['[', ']']).to_owned())
            .filter(|ip| !ip.is_empty() && ip.len() <= 45);
        if viewer.is_some() {
            return viewer;
        }
    }
    match req.request_context_ref() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => ctx
            .http
            .source_ip
            .clone()
            .filter(|ip| !ip.is_empty() && ip.len() <= 45),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
