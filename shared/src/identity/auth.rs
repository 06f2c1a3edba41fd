//! Who is calling: bearer tokens (JWT, HS256 pinned, signed with `SECRET_KEY`)
//! carrying the user, role and pizzeria, and the guest's tracking token.
//!
//! Tokens are issued by the accounts function; every function verifies them
//! here. Deny by default: a request without a valid token is a guest.

use crate::identity::role::Role;
use crate::platform::http::{ApiError, Request};
use crate::platform::ids::{PizzeriaId, UserId};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sqlx::MySqlPool;
use subtle::ConstantTimeEq;

/// How long a session lasts: a shift, not a week.
pub const TOKEN_LIFETIME: Duration = Duration::hours(12);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as text (JWT's `sub` is a string).
    pub sub: String,
    pub role: Role,
    pub pizzeria_id: Option<i64>,
    /// The user's token version when issued: bumping it ends older sessions.
    pub ver: i32,
    pub iat: i64,
    pub exp: i64,
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub user_id: UserId,
    pub role: Role,
    pub pizzeria_id: Option<PizzeriaId>,
    pub token_version: i32,
}

impl Caller {
    /// May this caller act on something of that pizzeria as staff?
    pub fn is_staff_of(&self, pizzeria: PizzeriaId) -> bool {
        self.role == Role::Admin
            || (self.role.is_pizzeria_staff() && self.pizzeria_id == Some(pizzeria))
    }
}

/// A session token for the account `email`, signed with `secret`, as
/// `POST /sessions` would issue it: what `ocpizza-admin token` prints and
/// what tests and benchmarks sign in with. No function calls it: deployed,
/// only sign-in issues tokens.
pub async fn token_for_email(
    pool: &MySqlPool,
    secret: &[u8],
    email: &str,
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>), String> {
    let row = sqlx::query!(
        "SELECT id, role, pizzeria_id, token_version FROM users WHERE email = ?",
        email
    )
    .fetch_optional(pool)
    .await
    .map_err(|e| e.to_string())?
    .ok_or_else(|| format!("no account {email}"))?;
    let role = row.role.parse::<Role>().map_err(|e| e.to_string())?;
    issue(
        secret,
        UserId(row.id),
        role,
        row.pizzeria_id.map(PizzeriaId),
        row.token_version,
        now,
    )
    .map_err(|e| e.to_string())
}

pub fn issue(
    secret: &[u8],
    user: UserId,
    role: Role,
    pizzeria: Option<PizzeriaId>,
    version: i32,
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>), ApiError> {
    let expires = now + TOKEN_LIFETIME;
    let claims = Claims {
        sub: user.0.to_string(),
        role,
        pizzeria_id: pizzeria.map(|p| p.0),
        ver: version,
        iat: now.timestamp(),
        exp: expires.timestamp(),
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .map_err(ApiError::internal)?;
    Ok((token, expires))
}

/// Verifies a token: HS256 only (a token claiming another algorithm, `none`
/// included, is refused), signature, expiry.
pub fn verify(secret: &[u8], token: &str) -> Result<Caller, ApiError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 5;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let data =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret), &validation)
            .map_err(|_| {
                ApiError::unauthorized("The session is invalid or has expired; sign in again.")
            })?;
    let c = data.claims;
    let user_id = c
        .sub
        .parse()
        .map_err(|_| ApiError::unauthorized("The session is invalid; sign in again."))?;
    Ok(Caller {
        user_id: UserId(user_id),
        role: c.role,
        pizzeria_id: c.pizzeria_id.map(PizzeriaId),
        token_version: c.ver,
    })
}

/// The header the pages send the session token in. Behind CloudFront's
/// Origin Access Control, `Authorization` carries CloudFront's own SigV4
/// signature to the function URL, so a viewer's bearer token cannot travel
/// there; this header can (the origin request policy forwards it).
pub const TOKEN_HEADER: &str = "x-ocpizza-token";

/// The caller from `X-OCPizza-Token: …` or `Authorization: Bearer …`: `None`
/// without either, 401 with a bad one. An `Authorization` holding an AWS
/// signature (CloudFront's, through Origin Access Control) is not a token.
pub fn caller(req: &Request, secret: &[u8]) -> Result<Option<Caller>, ApiError> {
    if let Some(value) = req.headers().get(TOKEN_HEADER) {
        let token = value.to_str().unwrap_or_default().trim();
        let token = token.strip_prefix("Bearer ").unwrap_or(token);
        return verify(secret, token.trim()).map(Some);
    }
    let Some(value) = req.headers().get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default();
    if text.starts_with("AWS4-HMAC-SHA256 ") {
        return Ok(None);
    }
    let token = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
        .ok_or_else(|| ApiError::unauthorized("Use `Authorization: Bearer <token>`."))?;
    verify(secret, token.trim()).map(Some)
}

/// The caller as [`caller`] verifies the token, and still allowed in: the
/// account is active and its `token_version` is the token's `ver` (one
/// primary-key lookup). A deactivated account, a changed password or any
/// other bump ends every older session at once: 401 "session ended".
/// `None` without an `Authorization` header.
pub async fn authenticate(
    pool: &MySqlPool,
    req: &Request,
    secret: &SecretString,
) -> Result<Option<Caller>, ApiError> {
    let Some(caller) = caller(req, secret.expose_secret().as_bytes())? else {
        return Ok(None);
    };
    let current = sqlx::query_scalar!(
        "SELECT token_version FROM users WHERE id = ? AND active = TRUE",
        caller.user_id.0
    )
    .fetch_optional(pool)
    .await?;
    match current {
        Some(version) if version == caller.token_version => Ok(Some(caller)),
        _ => Err(ApiError::new(
            http::StatusCode::UNAUTHORIZED,
            "session-ended",
            "Session ended",
            "The session has ended (account deactivated or password changed); sign in again.",
        )),
    }
}

/// The caller as [`authenticate`] finds it, who must be signed in: without
/// an `Authorization` header, 401 saying `why` (who should sign in, for what).
pub async fn require(
    pool: &MySqlPool,
    req: &Request,
    secret: &SecretString,
    why: &str,
) -> Result<Caller, ApiError> {
    authenticate(pool, req, secret)
        .await?
        .ok_or_else(|| ApiError::unauthorized(why))
}

/// Compares a presented tracking token with the order's, in constant time.
pub fn tracking_token_matches(presented: &str, expected: &str) -> bool {
    presented.len() == expected.len() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret";

    #[test]
    fn a_token_round_trips() {
        let (token, _) = issue(
            SECRET,
            UserId(7),
            Role::Pizzaiolo,
            Some(PizzeriaId(1)),
            0,
            Utc::now(),
        )
        .unwrap();
        let caller = verify(SECRET, &token).unwrap();
        assert_eq!(caller.role, Role::Pizzaiolo);
        assert!(caller.is_staff_of(PizzeriaId(1)));
        assert!(!caller.is_staff_of(PizzeriaId(2)));
    }

    /// Behind CloudFront's Origin Access Control the token travels in
    /// `X-OCPizza-Token`, and `Authorization` holds CloudFront's signature.
    #[test]
    fn the_token_header_works_and_an_aws_signature_is_no_token() {
        let (token, _) = issue(
            SECRET,
            UserId(7),
            Role::Cashier,
            Some(PizzeriaId(1)),
            0,
            Utc::now(),
        )
        .unwrap();
        let request = |headers: &[(&str, &str)]| {
            let mut builder = http::Request::builder().uri("/orders");
            for (name, value) in headers {
                builder = builder.header(*name, *value);
            }
            builder.body(lambda_http::Body::Empty).unwrap()
        };
        let signed = "AWS4-HMAC-SHA256 Credential=AKIA/20261204/eu-west-3/lambda/aws4_request, SignedHeaders=host, Signature=abc";
        let through_cloudfront = request(&[("authorization", signed), (TOKEN_HEADER, &token)]);
        assert_eq!(
            caller(&through_cloudfront, SECRET).unwrap().unwrap().role,
            Role::Cashier
        );
        let guest_through_cloudfront = request(&[("authorization", signed)]);
        assert!(caller(&guest_through_cloudfront, SECRET).unwrap().is_none());
        let bearer = format!("Bearer {token}");
        let direct = request(&[("authorization", &bearer)]);
        assert_eq!(caller(&direct, SECRET).unwrap().unwrap().user_id, UserId(7));
        let forged = request(&[(TOKEN_HEADER, "not-a-token")]);
        assert_eq!(caller(&forged, SECRET).unwrap_err().status(), 401);
    }

    #[test]
    fn expired_tampered_and_foreign_tokens_are_refused() {
        let old = Utc::now() - Duration::hours(13);
        let (expired, _) = issue(SECRET, UserId(7), Role::Customer, None, 0, old).unwrap();
        assert_eq!(verify(SECRET, &expired).unwrap_err().status(), 401);
        let (token, _) = issue(SECRET, UserId(7), Role::Customer, None, 0, Utc::now()).unwrap();
        assert_eq!(verify(b"another-secret", &token).unwrap_err().status(), 401);
        // Change the payload's role without re-signing.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = String::from_utf8(engine.decode(&parts[1]).unwrap())
            .unwrap()
            .replace("customer", "admin");
        parts[1] = engine.encode(payload);
        assert_eq!(verify(SECRET, &parts.join(".")).unwrap_err().status(), 401);
        // Another algorithm (HS512) with the right secret is refused too.
        let claims = Claims {
            sub: "1".into(),
            role: Role::Admin,
            pizzeria_id: None,
            ver: 0,
            iat: 0,
            exp: Utc::now().timestamp() + 60,
        };
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert_eq!(verify(SECRET, &hs512).unwrap_err().status(), 401);
    }

    #[test]
    fn tracking_tokens_compare_exactly() {
        assert!(tracking_token_matches("abc", "abc"));
        assert!(!tracking_token_matches("abd", "abc"));
        assert!(!tracking_token_matches("ab", "abc"));
    }
}
