//! Rate limits kept in the database, so they hold across every Lambda
//! instance: a fixed window per bucket (`card:<order>`, `signin:<address>`…),
//! counted atomically before the work it guards, so parallel requests cannot
//! slip past the limit together.
//!
//! Each limit has a default and can be changed by an environment variable
//! (`RATE_<NAME>`, as `max/seconds`, e.g. `RATE_CARD_ATTEMPTS=3/900`); see
//! `docs/architecture.md`, "Limits", for the list.

use crate::platform::http::ApiError;
use http::StatusCode;
use sha2::{Digest, Sha256};
use sqlx::{MySqlConnection, MySqlPool};

/// A limit: at most `max` hits per `window_seconds` for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Names the bucket and the variable that overrides it (`RATE_<NAME>`).
    pub name: &'static str,
    pub max: u32,
    pub window_seconds: u32,
}

impl Limit {
    /// At most `max` in any `window_seconds`, under `name`.
    const fn new(name: &'static str, max: u32, window_seconds: u32) -> Limit {
        Limit {
            name,
            max,
            window_seconds,
        }
    }

    /// The limit as configured: `RATE_<NAME>=max/seconds` if set and
    /// well-formed (both positive), else the default.
    pub fn configured(self) -> Limit {
        let var = format!("RATE_{}", self.name.to_ascii_uppercase().replace('-', "_"));
        std::env::var(var)
            .ok()
            .and_then(|v| {
                let (max, window) = v.trim().split_once('/')?;
                Some(Limit {
                    max: max.trim().parse().ok().filter(|m| *m > 0)?,
                    window_seconds: window.trim().parse().ok().filter(|w| *w > 0)?,
                    ..self
                })
            })
            .unwrap_or(self)
    }
}

/// Card payments tried on one order (card testing through our account).
pub const CARD_ATTEMPTS: Limit = Limit::new("card-attempts", 3, 900);
/// Guest orders (each holds stock) per phone number.
pub const GUEST_ORDERS_PER_PHONE: Limit = Limit::new("guest-orders-phone", 10, 3600);
/// Guest orders per client address.
pub const GUEST_ORDERS_PER_ADDRESS: Limit = Limit::new("guest-orders-address", 30, 3600);
/// Sign-ups (an argon2 hash each) per client address.
pub const SIGN_UPS_PER_ADDRESS: Limit = Limit::new("sign-ups-address", 10, 3600);
/// Sign-in attempts per client address (whatever the e-mail).
pub const SIGN_INS_PER_ADDRESS: Limit = Limit::new("sign-ins-address", 60, 900);
/// Addresses geocoded by Google (a paid call each) per client address.
pub const GEOCODING_MISSES_PER_ADDRESS: Limit = Limit::new("geocoding-address", 30, 3600);

/// Forgotten-password e-mails asked per client address (whatever the e-mail).
pub const RESETS_PER_ADDRESS: Limit = Limit::new("resets-address", 10, 3600);
/// Forgotten-password e-mails per e-mail address typed: nobody floods an inbox.
pub const RESETS_PER_EMAIL: Limit = Limit::new("resets-email", 3, 3600);
/// Changes of e-mail asked per account, whatever their outcome: each checks
/// a password, says whether the address has an account, and may send a link
/// to it.
pub const EMAIL_CHANGES_PER_ACCOUNT: Limit = Limit::new("email-changes-account", 10, 3600);
/// Confirmation links sent to one address (normalised), whichever accounts
/// ask: nobody floods a stranger's inbox from several accounts.
pub const EMAIL_CHANGES_PER_EMAIL: Limit = Limit::new("email-changes-email", 3, 3600);

/// Every limit, for `docs/architecture.md` ("Limits") and the tests.
pub const ALL: [Limit; 10] = [
    CARD_ATTEMPTS,
    GUEST_ORDERS_PER_PHONE,
    GUEST_ORDERS_PER_ADDRESS,
    SIGN_UPS_PER_ADDRESS,
    SIGN_INS_PER_ADDRESS,
    GEOCODING_MISSES_PER_ADDRESS,
    RESETS_PER_ADDRESS,
    RESETS_PER_EMAIL,
    EMAIL_CHANGES_PER_ACCOUNT,
    EMAIL_CHANGES_PER_EMAIL,
];

/// What counting a hit found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Over the limit: come back in this many seconds.
    Limited {
        retry_after_seconds: i64,
    },
}

fn bucket(limit: &Limit, key: &str) -> Vec<u8> {
    Sha256::digest(format!("{}\u{0}{key}", limit.name).as_bytes()).to_vec()
}

/// Counts one hit of `key` against `limit` (as configured) and says whether
/// it is within the limit. One statement: the upsert counts the hit under
/// the bucket's row lock and hands back the new count as its insert id
/// (`LAST_INSERT_ID(expr)`), so parallel hits are counted one after the
/// other and each sees its own count, with no transaction around it. Only a
/// hit over the limit reads how long its window has left.
pub async fn hit(
    conn: &mut MySqlConnection,
    limit: Limit,
    key: &str,
) -> Result<Verdict, sqlx::Error> {
    let limit = limit.configured();
    let bucket = bucket(&limit, key);
    // `hits` is assigned first, so it still sees the old window. A new row
    // sets the insert id with its 1, an existing one with its new count.
    let hits = sqlx::query!(
        "INSERT INTO rate_limits (bucket, window_start, hits) \
         VALUES (?, UTC_TIMESTAMP(6), LAST_INSERT_ID(1)) \
         ON DUPLICATE KEY UPDATE \
            hits = LAST_INSERT_ID(IF(window_start <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND, 1, hits + 1)), \
            window_start = IF(window_start <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND, UTC_TIMESTAMP(6), window_start)",
        bucket,
        limit.window_seconds,
        limit.window_seconds
    )
    .execute(&mut *conn)
    .await?
    .last_insert_id();
    if hits <= u64::from(limit.max) {
        return Ok(Verdict::Allowed);
    }
    // `window_start` is NOT NULL, so the seconds left are never NULL.
    let left = sqlx::query_scalar!(
        "SELECT CAST(CEIL(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), \
            window_start + INTERVAL ? SECOND) / 1000000) AS SIGNED) AS `left!: i64` \
         FROM rate_limits WHERE bucket = ?",
        limit.window_seconds,
        bucket
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(Verdict::Limited {
        // Gone already (the sweep): the window is over.
        retry_after_seconds: left.unwrap_or(1).max(1),
    })
}

/// Gives a hit back (a card payment that went through does not count
/// against the customer's next one).
pub async fn give_back(pool: &MySqlPool, limit: Limit, key: &str) -> Result<(), sqlx::Error> {
    let limit = limit.configured();
    sqlx::query!(
        "UPDATE rate_limits SET hits = GREATEST(hits - 1, 0) WHERE bucket = ?",
        bucket(&limit, key)
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// [`hit`] as the edge answers it: 429 `/problems/rate-limited` with
/// `Retry-After` when over the limit. `message` is what the person reads.
pub async fn check(
    conn: &mut MySqlConnection,
    limit: Limit,
    key: &str,
    message: &str,
) -> Result<(), ApiError> {
    match hit(conn, limit, key).await? {
        Verdict::Allowed => Ok(()),
        Verdict::Limited {
            retry_after_seconds,
        } => {
            tracing::warn!(
                limit = limit.name,
                retry_after_seconds,
                "rate limit reached"
            );
            Err(too_many(message, retry_after_seconds))
        }
    }
}

/// The answer over a limit: 429 `/problems/rate-limited`, `Retry-After`,
/// and what the person reads.
pub fn too_many(message: &str, retry_after_seconds: i64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        "Too many attempts",
        message.to_owned(),
    )
    .with("retry_after_seconds", retry_after_seconds)
}

/// Forgets windows that ended long ago (run by the sweep).
pub async fn purge(pool: &MySqlPool) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "DELETE FROM rate_limits WHERE window_start < UTC_TIMESTAMP(6) - INTERVAL 1 DAY"
    )
    .execute(pool)
    .await?
    .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_reads_its_variable_or_keeps_its_default() {
        std::env::set_var("RATE_SIGN_UPS_ADDRESS", "2/60");
        assert_eq!(SIGN_UPS_PER_ADDRESS.configured().max, 2);
        assert_eq!(SIGN_UPS_PER_ADDRESS.configured().window_seconds, 60);
        std::env::set_var("RATE_SIGN_UPS_ADDRESS", "0/60");
        assert_eq!(SIGN_UPS_PER_ADDRESS.configured(), SIGN_UPS_PER_ADDRESS);
        std::env::set_var("RATE_SIGN_UPS_ADDRESS", "lots");
        assert_eq!(SIGN_UPS_PER_ADDRESS.configured(), SIGN_UPS_PER_ADDRESS);
        std::env::remove_var("RATE_SIGN_UPS_ADDRESS");
        assert_eq!(CARD_ATTEMPTS.configured().max, 3);
    }
}
