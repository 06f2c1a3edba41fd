//! The MySQL pool, built once per container, and the schema's migrations.

use crate::platform::config::Config;
use secrecy::ExposeSecret;
use sqlx::migrate::Migrator;
use sqlx::mysql::{MySqlConnectOptions, MySqlDatabaseError, MySqlPool, MySqlPoolOptions};
use std::str::FromStr;
use std::time::Duration;

/// Every migration under `migrations/`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Connection options without the session `SET` statements sqlx sends by
/// default (sql_mode, time_zone, NAMES): behind RDS Proxy any `SET` pins the
/// connection to one client, which defeats the proxy. We rely on the server's
/// defaults instead: utf8mb4 (negotiated in the handshake), and all times
/// written explicitly as `UTC_TIMESTAMP(6)` into `DATETIME` columns, which do
/// not depend on the session time zone.
pub fn connect_options(url: &str) -> Result<MySqlConnectOptions, sqlx::Error> {
    Ok(MySqlConnectOptions::from_str(url)?
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        .timezone(None)
        .set_names(false)
        .charset("utf8mb4"))
}

/// A small pool: one Lambda container serves one request at a time, so a few
/// connections cover the background work too, and many containers × few
/// connections stay under the database's limit. A dead database makes
/// `acquire` fail fast (→ 503) instead of hanging the invocation.
pub fn pool_options(max_connections: u32) -> MySqlPoolOptions {
    MySqlPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(3))
        .idle_timeout(Duration::from_secs(300))
        // A broken connection errors and is dropped; pinging before every
        // query would add a round trip to each request.
        .test_before_acquire(false)
}

/// Builds the pool without connecting: the first query connects, so a cold
/// start does not pay for a connection it may not need, and a database that
/// is down at start does not stop the function (it recovers by itself).
pub fn connect_lazy(config: &Config) -> Result<MySqlPool, sqlx::Error> {
    let options = connect_options(config.database_url.expose_secret())?;
    Ok(pool_options(config.database_max_connections).connect_lazy_with(options))
}

/// Is this error the database being unreachable or overloaded (a 503 the
/// caller may retry), rather than a fault in our SQL (a 500)?
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<MySqlDatabaseError>()
            // Too many connections, server shutting down, lock wait timeout, deadlock.
            .is_some_and(|e| matches!(e.number(), 1040 | 1053 | 1205 | 1213)),
        _ => false,
    }
}

/// The name of the unique key a duplicate-entry error hit, if it is one.
pub fn duplicate_key(err: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(db) = err else {
        return None;
    };
    // MySQL and MariaDB: error 1062, "Duplicate entry 'x' for key 'table.uq_name'".
    if db.code().as_deref() != Some("23000") || !db.message().starts_with("Duplicate entry") {
        return None;
    }
    let key = db.message().rsplit("for key ").next()?.trim_matches('\'');
    Some(key.rsplit('.').next().unwrap_or(key).to_owned())
}

/// The versions of the migrations applied successfully to this database, in
/// order; none before the first migration run made sqlx's ledger table.
pub async fn applied_migrations(pool: &MySqlPool) -> Result<Vec<i64>, sqlx::Error> {
    let exists = sqlx::query_scalar!(
        "SELECT table_name FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name = '_sqlx_migrations'",
    )
    .fetch_optional(pool)
    .await?;
    if exists.is_none() {
        return Ok(Vec::new());
    }
    // Runtime SQL: sqlx's own ledger is no table of `migrations/`, so the
    // schema the macros check against does not have it.
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
}
