//! Accounts: e-mail addresses, the password policy, argon2id hashes, creating,
//! deactivating and re-keying users, and signing in with throttling.
//!
//! - **E-mail** ([`normalise_email`]): trimmed, Unicode NFC, lower case — the
//!   one form stored and looked up, compared byte for byte. `lea@…` and
//!   `léa@…` are different addresses, and the decomposed `le\u{301}a@…` is
//!   `léa@…`. The unique key (`utf8mb4_unicode_ci`) stays case- and
//!   accent-insensitive, stricter than the lookups: look-alike addresses
//!   cannot both have an account.
//! - **Phone** (optional): stored in E.164 ([`crate::phone`]), an invalid
//!   number refused on the field `phone`.
//! - **Password policy** ([`check_password`]): at least [`MIN_PASSWORD_CHARS`]
//!   characters, at most [`MAX_PASSWORD_CHARS`], not one character repeated,
//!   not the e-mail address itself. Length beats composition rules (NIST SP
//!   800-63B); the message is given in French and English.
//! - **Hashes**: argon2id with [`ARGON2_PARAMS`] (OWASP's m=19456 KiB, t=2,
//!   p=1). The demo's hashes (m=65536, t=3, p=4) verify too — a PHC string
//!   carries its parameters — and are re-hashed with ours at the next
//!   successful sign-in. Why not keep the demo's: 64 MiB per hash would break
//!   the functions' 32 MB memory budget and a few concurrent sign-ins would
//!   need a large Lambda; the `argon2` crate does not run lanes in parallel,
//!   so p=4 only costs time.
//! - **Sign-in** ([`login`]): one answer for an unknown e-mail, a wrong
//!   password and a deactivated account ([`invalid_credentials`]); an unknown
//!   e-mail is checked against a dummy hash with our parameters so it takes
//!   as long. Attempts are counted per account once the e-mail is found, per
//!   normalised address otherwise (so a lock says nothing about whether an
//!   account exists), and each attempt is counted *before* its password is
//!   checked, in a transaction over the counter's row: however many guesses
//!   arrive at once, at most [`MAX_FAILURES`] are checked within
//!   [`LOCKOUT_MINUTES`]; then the account (or address) is locked for
//!   [`LOCKOUT_MINUTES`] (429, even with the right password). A successful
//!   sign-in resets the count; a manager or the admin can lift a lock
//!   ([`unlock`]); the sweep forgets stale counters
//!   ([`purge_login_attempts`]).
//!
//! Passwords and hashes never leave this module in an answer or a log line:
//! [`User`] has no hash, and nothing here derives `Debug` over a password.

use crate::http::ApiError;
use crate::ids::{PizzeriaId, UserId};
use crate::phone::E164;
use crate::role::Role;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, NaiveDateTime, Utc};
use http::StatusCode;
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::MySqlPool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;

/// argon2id memory in KiB, iterations and lanes: OWASP's first choice.
pub const ARGON2_PARAMS: (u32, u32, u32) = (19_456, 2, 1);
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Long passphrases are welcome; beyond this it is not a password.
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Sign-in attempts (password checks) for one account or address before it
/// is locked; a successful one starts the count again.
pub const MAX_FAILURES: i32 = 5;
/// How long a lock lasts, and the window in which failures add up.
pub const LOCKOUT_MINUTES: i64 = 15;

/// The parameters as `docs/architecture.md` and the benchmark state them.
pub fn argon2_description() -> String {
    let (m, t, p) = ARGON2_PARAMS;
    format!("argon2id m={m} KiB, t={t}, p={p}")
}

fn hasher() -> Result<Argon2<'static>, ApiError> {
    let (m, t, p) = ARGON2_PARAMS;
    let params = Params::new(m, t, p, None).map_err(ApiError::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

// ---------------------------------------------------------------- e-mail

/// The one form of an address that is stored and looked up, compared byte
/// for byte: trimmed, Unicode NFC (a decomposed `e` + U+0301 is `é`), lower
/// case. NFC again after lowering, so that the result is NFC whatever the
/// input (lowering can leave a letter and a combining mark that compose).
pub fn normalise_email(raw: &str) -> String {
    let composed: String = raw.trim().nfc().collect();
    composed.to_lowercase().nfc().collect()
}

/// A normalised e-mail address of a plausible shape (the mailbox itself is
/// not checked: there is no confirmation e-mail yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, &'static str> {
        let email = normalise_email(raw);
        let Some((local, domain)) = email.split_once('@') else {
            return Err("Adresse e-mail invalide (an e-mail address needs an @).");
        };
        let plausible = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !plausible || email.len() > 254 {
            return Err("Adresse e-mail invalide (not a valid e-mail address).");
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// ---------------------------------------------------------------- passwords

/// The password policy; the error is the message shown to the person.
pub fn check_password(password: &str, email: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "Le mot de passe doit contenir au moins {MIN_PASSWORD_CHARS} caractères \
             (the password needs at least {MIN_PASSWORD_CHARS} characters)."
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!(
            "Le mot de passe doit contenir au plus {MAX_PASSWORD_CHARS} caractères \
             (the password may have at most {MAX_PASSWORD_CHARS} characters)."
        ));
    }
    let mut it = password.chars();
    let first = it.next();
    if it.all(|c| Some(c) == first) {
        return Err("Le mot de passe ne peut pas être un seul caractère répété \
                    (the password cannot be one character repeated)."
            .into());
    }
    if normalise_email(password) == normalise_email(email) {
        return Err("Le mot de passe ne peut pas être l'adresse e-mail \
                    (the password cannot be the e-mail address)."
            .into());
    }
    Ok(())
}

/// An argon2id PHC string for this password, with a fresh 16-byte salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(ApiError::internal)?;
    Ok(hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(ApiError::internal)?
        .to_string())
}

static PASSWORD_CHECKS: AtomicU64 = AtomicU64::new(0);

/// How many passwords this process has checked against a hash (sign-ins,
/// password changes): what the throttling tests count.
pub fn password_checks() -> u64 {
    PASSWORD_CHECKS.load(Ordering::Relaxed)
}

/// Does the password match this PHC string? The parameters come from the
/// string (the demo's as well as ours); the digests are compared in constant
/// time by `password-hash`. A malformed string matches nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PASSWORD_CHECKS.fetch_add(1, Ordering::Relaxed);
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Was this hash made with other parameters than ours (e.g. the demo's)?
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let (m, t, p) = ARGON2_PARAMS;
    let get = |name: &str| parsed.params.get_decimal(name);
    parsed.algorithm.as_str() != "argon2id"
        || get("m") != Some(m)
        || get("t") != Some(t)
        || get("p") != Some(p)
}

/// What an unknown e-mail is checked against, so that it costs as much as a
/// real account. Made once per container, from a random password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 24];
        rand::rng().fill_bytes(&mut secret);
        hash_password(&hex::encode(secret)).unwrap_or_default()
    })
}

/// Hashing is CPU work of tens of milliseconds: off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)
}

pub async fn hash_password_async(password: String) -> Result<String, ApiError> {
    blocking(move || hash_password(&password)).await?
}

pub async fn verify_password_async(password: String, phc: String) -> Result<bool, ApiError> {
    blocking(move || verify_password(&password, &phc)).await
}

// ---------------------------------------------------------------- users

/// A user as answers show it: never the hash.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub pizzeria_id: Option<PizzeriaId>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// Goes into the token's `ver`; not shown.
    #[serde(skip)]
    pub token_version: i32,
}

const USER_COLUMNS: &str =
    "id, email, name, phone, role, pizzeria_id, active, created_at, token_version";

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    name: String,
    phone: Option<String>,
    role: String,
    pizzeria_id: Option<i64>,
    active: bool,
    created_at: NaiveDateTime,
    token_version: i32,
}

impl TryFrom<UserRow> for User {
    type Error = ApiError;
    fn try_from(r: UserRow) -> Result<User, ApiError> {
        Ok(User {
            id: UserId(r.id),
            role: r.role.parse().map_err(ApiError::internal)?,
            email: r.email,
            name: r.name,
            phone: r.phone,
            pizzeria_id: r.pizzeria_id.map(PizzeriaId),
            active: r.active,
            created_at: r.created_at.and_utc(),
            token_version: r.token_version,
        })
    }
}

pub async fn find(pool: &MySqlPool, id: UserId) -> Result<Option<User>, ApiError> {
    let row: Option<UserRow> =
        sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"))
            .bind(id.0)
            .fetch_optional(pool)
            .await?;
    row.map(User::try_from).transpose()
}

/// Staff (every role but customer) of one pizzeria, or of all with `None`,
/// by pizzeria, role and name.
pub async fn list_staff(
    pool: &MySqlPool,
    pizzeria: Option<PizzeriaId>,
) -> Result<Vec<User>, ApiError> {
    let rows: Vec<UserRow> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users \
         WHERE role <> 'customer' AND (? IS NULL OR pizzeria_id = ?) \
         ORDER BY pizzeria_id, FIELD(role, 'admin', 'manager', 'cashier', 'pizzaiolo', 'courier'), name, id"
    ))
    .bind(pizzeria.map(|p| p.0))
    .bind(pizzeria.map(|p| p.0))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(User::try_from).collect()
}

/// A new account, already checked. The password is held only until hashed.
pub struct NewUser {
    pub email: Email,
    password: String,
    pub name: String,
    pub phone: Option<E164>,
    pub role: Role,
    pub pizzeria_id: Option<PizzeriaId>,
}

impl NewUser {
    /// Checks every field and lists every problem at once (422, `errors`).
    pub fn parse(
        email: &str,
        password: &str,
        name: &str,
        phone: Option<&str>,
        role: Role,
        pizzeria_id: Option<PizzeriaId>,
    ) -> Result<NewUser, ApiError> {
        let mut errors = Vec::new();
        let mut add = |field: &str, message: &str| {
            errors.push(json!({ "field": field, "message": message }));
        };
        let parsed_email = Email::parse(email);
        if let Err(message) = &parsed_email {
            add("email", message);
        }
        if let Err(message) = check_password(password, email) {
            add("password", &message);
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            add(
                "name",
                "Le nom est requis, 100 caractères au plus (a name of 1 to 100 characters).",
            );
        }
        // Optional; stored in E.164 like every phone number (`phone::parse`).
        let phone = match phone.map(str::trim).filter(|p| !p.is_empty()) {
            None => None,
            Some(typed) => match crate::phone::parse(typed) {
                Ok(phone) => Some(phone),
                Err(why) => {
                    add(
                        "phone",
                        &format!(
                            "Numéro de téléphone invalide, par exemple 06 12 34 56 78 \
                             (not a valid phone number: {why})."
                        ),
                    );
                    None
                }
            },
        };
        if role.is_pizzeria_staff() != pizzeria_id.is_some() {
            add(
                "pizzeria_id",
                if role.is_pizzeria_staff() {
                    "Staff of a pizzeria need its `pizzeria_id`."
                } else {
                    "Only the staff of a pizzeria have a `pizzeria_id`."
                },
            );
        }
        match parsed_email {
            Ok(email) if errors.is_empty() => Ok(NewUser {
                email,
                password: password.to_owned(),
                name: name.to_owned(),
                phone,
                role,
                pizzeria_id,
            }),
            _ => {
                let count = errors.len();
                Err(ApiError::unprocessable(format!(
                    "The account has {count} problem{}; see `errors`.",
                    if count > 1 { "s" } else { "" }
                ))
                .with("errors", errors))
            }
        }
    }
}

/// Creates the account: 409 when the e-mail is taken (whatever its case),
/// 422 for a pizzeria that does not exist.
pub async fn create(pool: &MySqlPool, new: NewUser) -> Result<User, ApiError> {
    let hash = hash_password_async(new.password).await?;
    let inserted = sqlx::query(
        "INSERT INTO users (email, password_hash, name, phone, role, pizzeria_id, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
    )
    .bind(new.email.as_str())
    .bind(&hash)
    .bind(&new.name)
    .bind(new.phone.as_ref().map(E164::as_str))
    .bind(new.role.as_str())
    .bind(new.pizzeria_id.map(|p| p.0))
    .execute(pool)
    .await;
    let id = match inserted {
        Ok(done) => done.last_insert_id(),
        Err(err) if crate::db::duplicate_key(&err).as_deref() == Some("uq_users_email") => {
            return Err(ApiError::conflict(
                "email-taken",
                "E-mail already registered",
                "Un compte existe déjà avec cette adresse (an account already uses this e-mail); sign in instead.",
            ))
        }
        Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            return Err(ApiError::unprocessable("No such pizzeria.").with(
                "errors",
                [json!({"field": "pizzeria_id", "message": "No such pizzeria."})],
            ))
        }
        Err(err) => return Err(err.into()),
    };
    let id = i64::try_from(id).map_err(ApiError::internal)?;
    find(pool, UserId(id))
        .await?
        .ok_or_else(|| ApiError::internal("the new user vanished"))
}

/// Ends the account's access at once: inactive, and every token it holds
/// refused (`token_version` + 1). False when it was already inactive.
pub async fn deactivate(pool: &MySqlPool, id: UserId) -> Result<bool, ApiError> {
    let done = sqlx::query(
        "UPDATE users SET active = FALSE, token_version = token_version + 1, \
         updated_at = UTC_TIMESTAMP(6) WHERE id = ? AND active = TRUE",
    )
    .bind(id.0)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Checks the current password (throttled like a sign-in, on the same
/// account's count) and sets the new one; every session of the account ends
/// (`token_version` + 1). Answers the user with its new token version.
pub async fn change_password(
    pool: &MySqlPool,
    id: UserId,
    current: &str,
    new: &str,
) -> Result<User, ApiError> {
    let user = find(pool, id)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| ApiError::unauthorized("The session has ended; sign in again."))?;
    // The policy first: a weak new password costs no attempt.
    if let Err(message) = check_password(new, &user.email) {
        return Err(ApiError::unprocessable(message.clone()).with(
            "errors",
            [json!({"field": "new_password", "message": message})],
        ));
    }
    let key = account_key(id);
    reserve_attempt(pool, &key).await?;
    let (stored,): (String,) = sqlx::query_as("SELECT password_hash FROM users WHERE id = ?")
        .bind(id.0)
        .fetch_one(pool)
        .await?;
    if !verify_password_async(current.to_owned(), stored.clone()).await? {
        return Err(ApiError::forbidden(
            "Le mot de passe actuel est incorrect (the current password is not right).",
        ));
    }
    let hash = hash_password_async(new.to_owned()).await?;
    // Only over the hash that was checked: a concurrent change wins once.
    let done = sqlx::query(
        "UPDATE users SET password_hash = ?, token_version = token_version + 1, \
         updated_at = UTC_TIMESTAMP(6) WHERE id = ? AND password_hash = ? AND active = TRUE",
    )
    .bind(&hash)
    .bind(id.0)
    .bind(&stored)
    .execute(pool)
    .await?;
    if done.rows_affected() != 1 {
        return Err(ApiError::conflict(
            "password-changed",
            "Password already changed",
            "The password was changed meanwhile; sign in again.",
        ));
    }
    clear_attempts(pool, &key).await?;
    find(pool, id)
        .await?
        .ok_or_else(|| ApiError::internal("the user vanished"))
}

// ---------------------------------------------------------------- sign-in

/// The one answer to a failed sign-in, whatever failed.
pub fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid-credentials",
        "Sign-in failed",
        "E-mail ou mot de passe incorrect (the e-mail or the password is not right).",
    )
}

/// The answer while an account or address is locked, whether or not it has
/// an account.
pub fn locked(retry_after_seconds: i64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too-many-attempts",
        "Too many attempts",
        format!(
            "Trop d'essais : réessayez dans {LOCKOUT_MINUTES} minutes au plus \
             (too many failed sign-ins for this e-mail; try again within {LOCKOUT_MINUTES} minutes)."
        ),
    )
    .with("retry_after_seconds", retry_after_seconds.max(1))
}

/// The throttling key of an account: SHA-256 of `account:<id>`. Counted
/// per account, whatever form of its address was typed.
fn account_key(id: UserId) -> Vec<u8> {
    Sha256::digest(format!("account:{}", id.0).as_bytes()).to_vec()
}

/// The throttling key of an address without an account: SHA-256 of
/// `address:<normalised address>` (an address someone typed is not kept in
/// clear). The two prefixes differ, so no text typed as an e-mail can
/// reach an account's count.
fn address_key(email: &str) -> Vec<u8> {
    Sha256::digest(format!("address:{}", normalise_email(email)).as_bytes()).to_vec()
}

/// Counts one attempt against `key` *before* its password is checked, or
/// refuses it ([`locked`]) once the budget is spent: the count's row is
/// locked for the decision, so concurrent attempts are counted one after the
/// other and at most [`MAX_FAILURES`] get a password check per window. The
/// attempt that spends the budget locks the key for [`LOCKOUT_MINUTES`]; it
/// is still checked, and lifts the lock if it succeeds ([`clear_attempts`]).
/// A window older than [`LOCKOUT_MINUTES`], or an ended lock, starts again.
/// Decided in Rust over the locked row (portable: no reliance on the order
/// in which `ON DUPLICATE KEY UPDATE` assigns).
async fn reserve_attempt(pool: &MySqlPool, key: &[u8]) -> Result<(), ApiError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO login_attempts (email_hash) VALUES (?) \
         ON DUPLICATE KEY UPDATE email_hash = email_hash",
    )
    .bind(key)
    .execute(&mut *tx)
    .await?;
    let (attempts, restart, locked_seconds): (i32, i64, i64) = sqlx::query_as(&format!(
        "SELECT failures, CAST(last_failed_at IS NULL \
            OR last_failed_at < UTC_TIMESTAMP(6) - INTERVAL {LOCKOUT_MINUTES} MINUTE \
            OR (locked_until IS NOT NULL AND locked_until <= UTC_TIMESTAMP(6)) AS SIGNED), \
            CAST(IF(locked_until > UTC_TIMESTAMP(6), \
                CEIL(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), locked_until) / 1000000), 0) AS SIGNED) \
         FROM login_attempts WHERE email_hash = ? FOR UPDATE"
    ))
    .bind(key)
    .fetch_one(&mut *tx)
    .await?;
    if locked_seconds > 0 {
        tx.rollback().await?;
        return Err(locked(locked_seconds));
    }
    let attempts = if restart != 0 { 1 } else { attempts + 1 };
    let lock = if attempts >= MAX_FAILURES {
        format!("UTC_TIMESTAMP(6) + INTERVAL {LOCKOUT_MINUTES} MINUTE")
    } else {
        "NULL".to_owned()
    };
    sqlx::query(&format!(
        "UPDATE login_attempts SET failures = ?, last_failed_at = UTC_TIMESTAMP(6), \
         locked_until = {lock} WHERE email_hash = ?"
    ))
    .bind(attempts.min(MAX_FAILURES))
    .bind(key)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if attempts > MAX_FAILURES {
        // Only a count left without its lock (edited by hand): lock now.
        return Err(locked(LOCKOUT_MINUTES * 60));
    }
    if attempts == MAX_FAILURES {
        tracing::warn!(key = %hex::encode(&key[..6]), "sign-in locked after repeated attempts");
    }
    Ok(())
}

/// Forgets the count: a successful sign-in or password change, an unlock.
async fn clear_attempts(pool: &MySqlPool, key: &[u8]) -> Result<bool, ApiError> {
    let done = sqlx::query("DELETE FROM login_attempts WHERE email_hash = ?")
        .bind(key)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Lifts an account's sign-in lock and forgets its failures (a manager for
/// their staff, the admin for anyone: checked by the caller). True when
/// there was something to forget.
pub async fn unlock(pool: &MySqlPool, id: UserId) -> Result<bool, ApiError> {
    clear_attempts(pool, &account_key(id)).await
}

/// Deletes the counts that no longer decide anything: the last attempt is
/// older than the window and no lock is running (such a count would start
/// again at the next attempt anyway). For the sweep; answers how many.
pub async fn purge_login_attempts(pool: &MySqlPool) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(&format!(
        "DELETE FROM login_attempts \
         WHERE (last_failed_at IS NULL \
                OR last_failed_at < UTC_TIMESTAMP(6) - INTERVAL {LOCKOUT_MINUTES} MINUTE) \
           AND (locked_until IS NULL OR locked_until <= UTC_TIMESTAMP(6))"
    ))
    .execute(pool)
    .await?
    .rows_affected())
}

/// The exact match of a normalised address: the unique key (case- and
/// accent-insensitive, so at most one row) finds the row, and the binary
/// comparison keeps it only if it is byte for byte the same address.
const EXACT_EMAIL: &str = "email = ? AND CAST(email AS BINARY) = CAST(? AS BINARY)";

/// Signs in: the active user with this e-mail and password, or
/// [`invalid_credentials`] (unknown e-mail, wrong password, deactivated
/// account alike), or [`locked`]. The attempt is counted before the
/// password is checked ([`reserve_attempt`]); an unknown e-mail costs the
/// same lookups, count and hash as a known one.
pub async fn login(pool: &MySqlPool, email: &str, password: &str) -> Result<User, ApiError> {
    let email = normalise_email(email);

    #[derive(sqlx::FromRow)]
    struct WithHash {
        #[sqlx(flatten)]
        user: UserRow,
        password_hash: String,
    }
    let row: Option<WithHash> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS}, password_hash FROM users WHERE {EXACT_EMAIL}"
    ))
    .bind(&email)
    .bind(&email)
    .fetch_optional(pool)
    .await?;
    let key = match &row {
        Some(r) => account_key(UserId(r.user.id)),
        None => address_key(&email),
    };
    reserve_attempt(pool, &key).await?;
    let stored = match &row {
        Some(r) => r.password_hash.clone(),
        None => dummy_hash().to_owned(),
    };
    let matches = verify_password_async(password.to_owned(), stored.clone()).await?;
    let user = match row {
        Some(r) if matches && r.user.active => User::try_from(r.user)?,
        // Already counted.
        _ => return Err(invalid_credentials()),
    };
    clear_attempts(pool, &key).await?;
    if needs_rehash(&stored) {
        // The demo's (or an older) cost: re-hash with ours while we hold the
        // password. Only over the hash just checked, so a concurrent change wins.
        let hash = hash_password_async(password.to_owned()).await?;
        sqlx::query("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?")
            .bind(&hash)
            .bind(user.id.0)
            .bind(&stored)
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
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, email FROM users")
        .fetch_all(pool)
        .await?;
    let mut changed = 0;
    for (id, email) in rows {
        let normalised = normalise_email(&email);
        if normalised == email {
            continue;
        }
        // Only over the address just read: a concurrent change wins.
        let done = sqlx::query(&format!(
            "UPDATE users SET email = ?, updated_at = UTC_TIMESTAMP(6) \
             WHERE id = ? AND {EXACT_EMAIL}"
        ))
        .bind(&normalised)
        .bind(id)
        .bind(&email)
        .bind(&email)
        .execute(pool)
        .await;
        match done {
            Ok(done) => changed += done.rows_affected(),
            Err(err) if crate::db::duplicate_key(&err).as_deref() == Some("uq_users_email") => {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo's hash of `ocpizza-demo` (samples/demo.sql).
    const DEMO_HASH: &str = "$argon2id$v=19$m=65536,t=3,p=4$K7p28xs/3TOmVkPp8Ml3Zw$wamf0/irO77ilpXrATBARdhdOwBMx1U90lzF5kHr0r4";

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Lea.Martin@Example.FR ").unwrap().as_str(),
            "lea.martin@example.fr"
        );
        for bad in [
            "",
            "lea",
            "lea@",
            "@example.fr",
            "lea@example",
            "l a@example.fr",
            "a@b@c.fr",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails_are_one_exact_form_in_nfc() {
        let nfc = "l\u{e9}a@example.org";
        for typed in [
            nfc,
            "le\u{301}a@example.org",
            " L\u{c9}A@Example.ORG\t",
            "LE\u{301}A@EXAMPLE.ORG",
        ] {
            assert_eq!(normalise_email(typed), nfc, "{typed:?}");
        }
        // Other letters are other addresses.
        assert_ne!(normalise_email("lea@example.org"), nfc);
        // Once is enough: the form is stable.
        for typed in [
            "\u{130}stanbul@example.org",
            "\u{1c4}@example.org",
            "A\u{30a}ngstr\u{f6}m@example.org",
            "\u{3a3}\u{391}\u{3a3}@example.org",
        ] {
            let once = normalise_email(typed);
            assert_eq!(normalise_email(&once), once, "{typed:?}");
            assert!(unicode_normalization::is_nfc(&once), "{typed:?}");
        }
        assert_eq!(
            Email::parse("A\u{30a}sa@Example.org").unwrap().as_str(),
            "\u{e5}sa@example.org"
        );
    }

    #[test]
    fn no_typed_address_shares_an_accounts_count() {
        assert_ne!(address_key("account:5"), account_key(UserId(5)));
        assert_ne!(address_key(""), account_key(UserId(0)));
        assert_eq!(
            address_key(" Lea@Example.org"),
            address_key("lea@example.org")
        );
        assert_eq!(account_key(UserId(5)).len(), 32);
    }

    #[test]
    fn the_password_policy_says_why() {
        assert!(check_password("pizza-margherita", "lea@example.fr").is_ok());
        assert!(check_password("court", "lea@example.fr")
            .unwrap_err()
            .contains("au moins 10"));
        assert!(check_password("aaaaaaaaaaaa", "lea@example.fr")
            .unwrap_err()
            .contains("repeated"));
        assert!(check_password("Lea@Example.fr", "lea@example.fr")
            .unwrap_err()
            .contains("e-mail"));
        assert!(check_password(&"ab".repeat(65), "lea@example.fr").is_err());
        // Characters, not bytes.
        assert!(check_password("éééééééééè", "lea@example.fr").is_ok());
    }

    #[test]
    fn hashes_use_our_parameters_and_verify() {
        let hash = hash_password("pizza-margherita").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("pizza-margherita", &hash));
        assert!(!verify_password("pizza-regina", &hash));
        assert!(!needs_rehash(&hash));
        assert_ne!(hash, hash_password("pizza-margherita").unwrap(), "salted");
    }

    #[test]
    fn the_demo_hashes_verify_and_are_marked_for_rehash() {
        assert!(verify_password("ocpizza-demo", DEMO_HASH));
        assert!(!verify_password("ocpizza-demo!", DEMO_HASH));
        assert!(needs_rehash(DEMO_HASH));
        assert!(!verify_password("ocpizza-demo", "not a hash"));
    }

    #[test]
    fn a_new_user_lists_every_problem() {
        let err = NewUser::parse("lea", "court", " ", Some("abc"), Role::Pizzaiolo, None)
            .err()
            .unwrap();
        let response = err.to_response("r");
        assert_eq!(response.status(), 422);
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            ["email", "password", "name", "phone", "pizzeria_id"]
        );
        let ok = NewUser::parse(
            "Lea@Example.fr",
            "pizza-margherita",
            "Léa",
            Some("+33 6 12 34 56 78"),
            Role::Customer,
            None,
        )
        .ok()
        .unwrap();
        assert_eq!(ok.email.as_str(), "lea@example.fr");
        assert_eq!(ok.phone.as_ref().map(E164::as_str), Some("+33612345678"));
        // A number that does not exist is refused like any other field.
        for typed in ["06 12 34 56", "07 12 34 56 78", "06 12 34 56 78 90"] {
            let err = NewUser::parse(
                "lea@example.fr",
                "pizza-margherita",
                "Léa",
                Some(typed),
                Role::Customer,
                None,
            )
            .err()
            .unwrap();
            let body: serde_json::Value =
                serde_json::from_slice(err.to_response("r").body().as_ref()).unwrap();
            assert_eq!(body["errors"][0]["field"], "phone", "{typed}");
        }
    }
}
