//! Signing in, with its throttling: attempts counted per account (or
//! address) before each password is checked, locks, unlocks, and the purge
//! of stale counters; e-mails stored before they were normalised.

use super::*;

/// The throttling key of an account: SHA-256 of `account:<id>`. Counted
/// per account, whatever form of its address was typed.
pub(super) fn account_key(id: UserId) -> Vec<u8> {
    Sha256::digest(format!("account:{}", id.0).as_bytes()).to_vec()
}

/// The throttling key of an address without an account: SHA-256 of
/// `address:<normalised address>` (an address someone typed is not kept in
/// clear). The two prefixes differ, so no text typed as an e-mail can
/// reach an account's count.
pub(super) fn address_key(email: &str) -> Vec<u8> {
    Sha256::digest(format!("address:{}", normalise_email(email)).as_bytes()).to_vec()
}

/// Counts one attempt against `key` *before* its password is checked, or
/// refuses it ([`AccountError::Locked`]) once the budget is spent: the
/// count's row is locked for the decision, so concurrent attempts are counted
/// one after the other and at most [`MAX_FAILURES`] get a password check per
/// window. The
/// attempt that spends the budget locks the key for [`LOCKOUT_MINUTES`]; it
/// is still checked, and lifts the lock if it succeeds ([`clear_attempts`]).
/// A window older than [`LOCKOUT_MINUTES`], or an ended lock, starts again.
/// Decided in Rust over the locked row (portable: no reliance on the order
/// in which `ON DUPLICATE KEY UPDATE` assigns).
pub(super) async fn reserve_attempt(pool: &MySqlPool, key: &[u8]) -> Result<(), AccountError> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "INSERT INTO login_attempts (email_hash) VALUES (?) \
         ON DUPLICATE KEY UPDATE email_hash = email_hash",
        key
    )
    .execute(&mut *tx)
    .await?;
    // Neither expression is ever NULL (a NULL `locked_until` makes the first
    // `FALSE` and the second `0`).
    let row = sqlx::query!(
        "SELECT failures, CAST(last_failed_at IS NULL \
            OR last_failed_at < UTC_TIMESTAMP(6) - INTERVAL ? MINUTE \
            OR (locked_until IS NOT NULL AND locked_until <= UTC_TIMESTAMP(6)) AS SIGNED) AS `restart!: i64`, \
            CAST(IF(locked_until > UTC_TIMESTAMP(6), \
                CEIL(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), locked_until) / 1000000), 0) AS SIGNED) \
                AS `locked_seconds!: i64` \
         FROM login_attempts WHERE email_hash = ? FOR UPDATE",
        LOCKOUT_MINUTES,
        key
    )
    .fetch_one(&mut *tx)
    .await?;
    if row.locked_seconds > 0 {
        tx.rollback().await?;
        return Err(AccountError::Locked {
            retry_after_seconds: row.locked_seconds,
        });
    }
    let attempts = if row.restart != 0 {
        1
    } else {
        row.failures + 1
    };
    // The attempt that spends the budget sets the lock; any other clears it.
    sqlx::query!(
        "UPDATE login_attempts SET failures = ?, last_failed_at = UTC_TIMESTAMP(6), \
         locked_until = IF(?, UTC_TIMESTAMP(6) + INTERVAL ? MINUTE, NULL) WHERE email_hash = ?",
        attempts.min(MAX_FAILURES),
        attempts >= MAX_FAILURES,
        LOCKOUT_MINUTES,
        key
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if attempts > MAX_FAILURES {
        // Only a count left without its lock (edited by hand): lock now.
        return Err(AccountError::Locked {
            retry_after_seconds: LOCKOUT_MINUTES * 60,
        });
    }
    if attempts == MAX_FAILURES {
        tracing::warn!(key = %hex::encode(&key[..6]), "sign-in locked after repeated attempts");
    }
    Ok(())
}

/// Forgets the count: a successful sign-in or password change, an unlock.
pub(super) async fn clear_attempts(pool: &MySqlPool, key: &[u8]) -> Result<bool, AccountError> {
    let done = sqlx::query!("DELETE FROM login_attempts WHERE email_hash = ?", key)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The signed-in person proves it is them before something that cannot be
/// undone from a stolen session (deleting the account, changing its
/// e-mail): their password, throttled like a sign-in. The active account.
pub(super) async fn confirm_password(
    pool: &MySqlPool,
    id: UserId,
    password: &str,
) -> Result<User, AccountError> {
    let user = find(pool, id)
        .await?
        .filter(|u| u.active)
        .ok_or(AccountError::SessionEnded)?;
    let key = account_key(id);
    reserve_attempt(pool, &key).await?;
    let stored = sqlx::query_scalar!("SELECT password_hash FROM users WHERE id = ?", id.0)
        .fetch_one(pool)
        .await?;
    if !verify_password_async(password.to_owned(), stored).await? {
        return Err(AccountError::WrongCurrentPassword);
    }
    clear_attempts(pool, &key).await?;
    Ok(user)
}

/// Lifts an account's sign-in lock and forgets its failures (a manager for
/// their staff, the admin for anyone: checked by the caller). True when
/// there was something to forget.
pub async fn unlock(pool: &MySqlPool, id: UserId) -> Result<bool, AccountError> {
    clear_attempts(pool, &account_key(id)).await
}

/// Deletes the counts that no longer decide anything: the last attempt is
/// older than the window and no lock is running (such a count would start
/// again at the next attempt anyway). For the sweep; answers how many.
pub async fn purge_login_attempts(pool: &MySqlPool) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "DELETE FROM login_attempts \
         WHERE (last_failed_at IS NULL \
                OR last_failed_at < UTC_TIMESTAMP(6) - INTERVAL ? MINUTE) \
           AND (locked_until IS NULL OR locked_until <= UTC_TIMESTAMP(6))",
        LOCKOUT_MINUTES
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// Signs in: the active user with this e-mail and password, or
/// [`AccountError::InvalidCredentials`] (unknown e-mail, wrong password,
/// deactivated account alike), or [`AccountError::Locked`]. The attempt is
/// counted before the password is checked ([`reserve_attempt`]); an unknown
/// e-mail costs the same lookups, count and hash as a known one.
pub async fn login(pool: &MySqlPool, email: &str, password: &str) -> Result<User, AccountError> {
    let email = normalise_email(email);

    // The exact match of a normalised address: the unique key (case- and
    // accent-insensitive, so at most one row) finds the row, and the binary
    // comparison keeps it only if it is byte for byte the same address.
    let row = sqlx::query!(
        "SELECT id, email, name, phone, role, pizzeria_id, active AS `active: bool`, \
            created_at, token_version, password_hash \
         FROM users WHERE email = ? AND CAST(email AS BINARY) = CAST(? AS BINARY)",
        email,
        email
    )
    .fetch_optional(pool)
    .await?
    .map(|r| {
        let user = UserRow {
            id: r.id,
            email: r.email,
            name: r.name,
            phone: r.phone,
            role: r.role,
            pizzeria_id: r.pizzeria_id,
            active: r.active,
            created_at: r.created_at,
            token_version: r.token_version,
        };
        (user, r.password_hash)
    });
    let key = match &row {
        Some((user, _)) => account_key(UserId(user.id)),
        None => address_key(&email),
    };
    reserve_attempt(pool, &key).await?;
    let stored = match &row {
        Some((_, password_hash)) => password_hash.clone(),
        None => dummy_hash().to_owned(),
    };
    let matches = verify_password_async(password.to_owned(), stored.clone()).await?;
    let user = match row {
        Some((user, _)) if matches && user.active => User::try_from(user)?,
        // Already counted.
        _ => return Err(AccountError::InvalidCredentials),
    };
    clear_attempts(pool, &key).await?;
    if needs_rehash(&stored) {
        // The demo's (or an older) cost: re-hash with ours while we hold the
        // password. Only over the hash just checked, so a concurrent change wins.
        let hash = hash_password_async(password.to_owned()).await?;
        sqlx::query!(
            "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?",
            hash,
            user.id.0,
            stored
        )
        .execute(pool)
        .await?;
    }
    Ok(user)
}

/// Brings the stored addresses to [`normalise_email`]'s form where SQL could
/// not (the migration `20261204001200_exact_identifiers` trims and lowers
/// them, but MySQL and MariaDB have no Unicode normalisation: an address
/// stored decomposed would otherwise never match an NFC lookup). Run once
/// after that migration; answers how many addresses changed. Two rows should
/// never normalise to the same address (the unique key, case- and
/// accent-insensitive, kept them apart); if they do, the second is logged and
/// left as it is.
pub async fn normalise_stored_emails(pool: &MySqlPool) -> Result<u64, sqlx::Error> {
    let rows = sqlx::query!("SELECT id, email FROM users")
        .fetch_all(pool)
        .await?;
    let mut changed = 0;
    for row in rows {
        let (id, email) = (row.id, row.email);
        let normalised = normalise_email(&email);
        if normalised == email {
            continue;
        }
        // Only over the address just read: a concurrent change wins.
        // The exact match of the address, as `login` finds it.
        let done = sqlx::query!(
            "UPDATE users SET email = ?, updated_at = UTC_TIMESTAMP(6) \
             WHERE id = ? AND email = ? AND CAST(email AS BINARY) = CAST(? AS BINARY)",
            normalised,
            id,
            email,
            email
        )
        .execute(pool)
        .await;
        match done {
            Ok(done) => changed += done.rows_affected(),
            Err(err)
                if crate::platform::db::duplicate_key(&err).as_deref()
                    == Some("uq_users_email") =>
            {
                tracing::warn!(
                    user_id = id,
                    "a stored e-mail normalises to another account's; left as is"
                );
            }
            Err(err) => return Err(err),
        }
    }
    Ok(changed)
}
