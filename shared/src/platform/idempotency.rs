//! Idempotency keys: a retried request gets the answer the first one got, and
//! its effect happens once.
//!
//! The key is inserted first in the request's transaction. A concurrent
//! request with the same key blocks on that row until the first commits, then
//! finds it and replays the saved answer; if the first rolled back, the second
//! proceeds as if it were first. The answer is saved in the same transaction
//! as the effect, so there is never an effect without its answer.
//!
//! Checkout saves its key once, answer included ([`record`]): the order it
//! writes first holds the key in its own unique column, which a concurrent
//! request with the same key waits on in the same way; one statement less
//! on the busiest path. The one that waited reads the answer ([`answer_of`]).
//!
//! A replay answers only whoever made the request: the same signed-in
//! account, or, for a guest, the same request (its contact included). The
//! saved answer holds the order's tracking token and payment secret, so
//! anyone else presenting the key gets a 409 without it.

use crate::platform::http::ApiError;
use sha2::{Digest, Sha256};
use sqlx::{MySql, Transaction};

pub const HEADER: &str = "idempotency-key";

/// What to do with a request carrying a key.
#[derive(Debug, PartialEq, Eq)]
pub enum Begin {
    /// First time: go ahead, then `save` the answer.
    Fresh,
    /// Seen with the same request: answer this again.
    Replay { status: u16, body: String },
    /// The same key with a different request: refuse (422).
    Mismatch,
    /// The same request from someone else: refuse (409), without the answer.
    Stranger,
}

/// The header's value: 1 to 100 visible ASCII characters (a UUID, typically).
pub fn key_from(req: &crate::platform::http::Request) -> Result<String, ApiError> {
    let value = req.headers().get(HEADER).ok_or_else(|| {
        ApiError::new(
            http::StatusCode::BAD_REQUEST,
            "idempotency-key-missing",
            "Idempotency-Key required",
            "Send an Idempotency-Key header (a new UUID per order) so a retry never orders twice.",
        )
    })?;
    let key = value.to_str().unwrap_or_default().trim();
    if key.is_empty() || key.len() > 100 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::new(
            http::StatusCode::BAD_REQUEST,
            "idempotency-key-invalid",
            "Invalid Idempotency-Key",
            "The Idempotency-Key must be 1 to 100 visible ASCII characters.",
        ));
    }
    Ok(key.to_owned())
}

/// A fingerprint of the request, to tell a retry from a different request.
pub fn fingerprint(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

/// Starts a request under `key`. `caller` names who asks (`user:<id>`, or
/// `guest`): a replay goes to the same caller only.
pub async fn begin(
    tx: &mut Transaction<'_, MySql>,
    scope: &str,
    key: &str,
    request_hash: &str,
    caller: &str,
) -> Result<Begin, sqlx::Error> {
    let inserted = sqlx::query!(
        "INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, caller, created_at) \
         VALUES (?, ?, ?, ?, UTC_TIMESTAMP(6))",
        scope,
        key,
        request_hash,
        caller
    )
    .execute(&mut **tx)
    .await;
    match inserted {
        Ok(_) => Ok(Begin::Fresh),
        Err(err) if crate::platform::db::duplicate_key(&err).is_some() => {
            // A locking read sees the committed row whatever our snapshot.
            let saved = sqlx::query_as!(
                Saved,
                "SELECT request_hash, caller, status_code, response_body FROM idempotency_keys \
                     WHERE scope = ? AND idempotency_key = ? LOCK IN SHARE MODE",
                scope,
                key
            )
            .fetch_optional(&mut **tx)
            .await?;
            Ok(judge(saved, request_hash, caller))
        }
        Err(err) => Err(err),
    }
}

/// A key as it was saved with its answer.
struct Saved {
    request_hash: String,
    caller: Option<String>,
    status_code: Option<i16>,
    response_body: Option<String>,
}

/// What a request gets for a key already saved: its answer again if it is
/// the same request from the same caller.
fn judge(saved: Option<Saved>, request_hash: &str, caller: &str) -> Begin {
    let Some(saved) = saved else {
        // Gone since (a key forgotten as its request failed after all):
        // the caller's own retry starts afresh, nothing to replay here.
        return Begin::Mismatch;
    };
    if saved.request_hash != request_hash {
        return Begin::Mismatch;
    }
    if saved.caller.as_deref().is_some_and(|c| c != caller) {
        return Begin::Stranger;
    }
    match (saved.status_code, saved.response_body) {
        (Some(status), Some(body)) => Begin::Replay {
            status: status as u16,
            body,
        },
        // Committed without an answer cannot happen (`save` is in the
        // same transaction); treat it as a mismatch rather than guess.
        _ => Begin::Mismatch,
    }
}

/// Saves a key and its answer at once, with the effect, in the same
/// transaction: for a request whose effect holds a unique key of its own
/// (checkout: the order's `idempotency_key`), which a concurrent request
/// with the same key waits on, as it would on the key's row after [`begin`].
/// The one that waited then reads the answer with [`answer_of`].
pub async fn record(
    tx: &mut Transaction<'_, MySql>,
    scope: &str,
    (key, request_hash, caller): (&str, &str, &str),
    status: u16,
    body: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, caller, status_code, \
            response_body, created_at) VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))",
        scope,
        key,
        request_hash,
        caller,
        status as i16,
        body
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The answer saved for a key by a request that committed first (see
/// [`record`]), for the same request from the same caller; `Mismatch` or
/// `Stranger` otherwise (never `Fresh`).
pub async fn answer_of<'e, E>(
    db: E,
    scope: &str,
    (key, request_hash, caller): (&str, &str, &str),
) -> Result<Begin, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = MySql>,
{
    let saved = sqlx::query_as!(
        Saved,
        "SELECT request_hash, caller, status_code, response_body FROM idempotency_keys \
             WHERE scope = ? AND idempotency_key = ?",
        scope,
        key
    )
    .fetch_optional(db)
    .await?;
    Ok(judge(saved, request_hash, caller))
}

/// Whether a key was used already (a retry: limits that count new requests
/// leave it alone).
pub async fn seen<'e, E>(db: E, scope: &str, key: &str) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = MySql>,
{
    let row = sqlx::query_scalar!(
        "SELECT 1 FROM idempotency_keys WHERE scope = ? AND idempotency_key = ?",
        scope,
        key
    )
    .fetch_optional(db)
    .await?;
    Ok(row.is_some())
}

/// Saves the answer with the effect, in the same transaction.
pub async fn save(
    tx: &mut Transaction<'_, MySql>,
    scope: &str,
    key: &str,
    status: u16,
    body: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE idempotency_keys SET status_code = ?, response_body = ? WHERE scope = ? AND idempotency_key = ?",
        status as i16,
        body,
        scope,
        key
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The problem for a key reused with another request.
pub fn mismatch() -> ApiError {
    ApiError::new(
        http::StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
        "Idempotency-Key reused",
        "This Idempotency-Key was already used for a different request. Use a new key for a new order.",
    )
}

/// The problem for a key presented by someone other than who used it.
pub fn stranger() -> ApiError {
    ApiError::conflict(
        "idempotency-key-taken",
        "Idempotency-Key taken",
        "This Idempotency-Key belongs to another request. Use a new key for a new order.",
    )
}

/// Forgets a key, in the caller's transaction: the request it answered
/// failed after all (a card payment that could not even start), so the
/// client's retry starts afresh.
pub async fn forget(
    tx: &mut Transaction<'_, MySql>,
    scope: &str,
    key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM idempotency_keys WHERE scope = ? AND idempotency_key = ?",
        scope,
        key
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}
