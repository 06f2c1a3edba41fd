//! One-time links to set a password, and the first admin of a new
//! deployment.
//!
//! After a first deploy the database has no account, and `POST /staff`
//! needs an admin: [`bootstrap_admin`] creates the first one, without a
//! password (`!`, which no password verifies), and a link to set it. It
//! refuses once any admin exists, so it cannot be used to take over a
//! running system. The link's token is 32 random bytes; only its SHA-256 is
//! stored, and it works once, within [`LINK_HOURS`]. It travels in the URL's
//! fragment (`#token=`), which browsers never send to a server, so no access
//! log holds it.

use super::*;

/// How long a link works.
pub const LINK_HOURS: i64 = 24;

/// The stored hash of an account that has no password yet: not a PHC
/// string, so [`verify_password`] never accepts anything against it.
pub const NO_PASSWORD: &str = "!";

/// The first admin and the link that sets their password.
#[derive(Debug)]
pub struct Bootstrap {
    pub user: User,
    /// The page with the token: `{site}/set-password.html#token=…`.
    pub link: String,
    pub expires_at: DateTime<Utc>,
}

/// Why there is no first admin.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("an admin account already exists ({0}); sign in as them and create staff from the manager screen")]
    AdminExists(String),
    #[error("{0}")]
    InvalidEmail(&'static str),
    #[error(transparent)]
    Account(#[from] AccountError),
}

impl From<sqlx::Error> for BootstrapError {
    fn from(err: sqlx::Error) -> Self {
        BootstrapError::Account(err.into())
    }
}

pub(super) fn sha256(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new link's token (32 random bytes, in hex) and the SHA-256 to store.
pub(super) fn new_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let digest = sha256(&token);
    (token, digest)
}

/// Queues an e-mail about an account rather than an order (a link, a
/// notice) for the notifier, in the caller's transaction; the notifier
/// takes its text out once sent (`notify::LINK_REMOVED`).
pub(super) async fn queue_account_mail(
    tx: &mut sqlx::MySqlConnection,
    user_id: i64,
    kind: &str,
    recipient: &str,
    subject: &str,
    body: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO notifications (order_id, user_id, kind, channel, recipient, subject, body, status, created_at) \
         VALUES (NULL, ?, ?, 'email', ?, ?, ?, 'pending', UTC_TIMESTAMP(6))",
        user_id,
        kind,
        recipient,
        subject,
        body
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Creates the first admin (`name`, `email`) and a one-time link to set
/// their password, on the site `site_url`. Refused when an admin exists,
/// unless it is this same admin who has not set a password yet (their link
/// was lost): a new link then, the older ones void. Two at once make one.
pub async fn bootstrap_admin(
    pool: &MySqlPool,
    email: &str,
    name: &str,
    site_url: &str,
    now: DateTime<Utc>,
) -> Result<Bootstrap, BootstrapError> {
    let email = Email::parse(email).map_err(BootstrapError::InvalidEmail)?;
    // Bootstraps one at a time: a named lock on one connection, around the
    // transaction that checks for an admin and inserts one.
    let mut conn = pool.acquire().await?;
    let locked: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK('ocpizza_bootstrap', 10)")
        .fetch_one(&mut *conn)
        .await?;
    if locked != Some(1) {
        return Err(AccountError::internal("another bootstrap is running").into());
    }
    let made = create_admin(&mut conn, &email, name, now).await;
    sqlx::query("DO RELEASE_LOCK('ocpizza_bootstrap')")
        .execute(&mut *conn)
        .await?;
    let (id, token, expires_at) = made?;
    let user = find(pool, id)
        .await?
        .ok_or_else(|| AccountError::internal("the new admin vanished"))?;
    Ok(Bootstrap {
        user,
        link: format!(
            "{}/set-password.html#token={token}",
            site_url.trim_end_matches('/')
        ),
        expires_at,
    })
}

/// The admin (or the same one, still without a password) and their link,
/// in one transaction; refused when another admin exists.
async fn create_admin(
    conn: &mut sqlx::MySqlConnection,
    email: &Email,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(UserId, String, DateTime<Utc>), BootstrapError> {
    use sqlx::Connection;
    let mut tx = conn.begin().await?;
    let existing = sqlx::query!(
        "SELECT id, email, password_hash FROM users WHERE role = 'admin' ORDER BY id LIMIT 1"
    )
    .fetch_optional(&mut *tx)
    .await?;
    let id = match existing {
        // The same first admin, whose link was lost before use: a new link,
        // the older ones void.
        Some(admin) if admin.password_hash == NO_PASSWORD && admin.email == email.as_str() => {
            sqlx::query!(
                "UPDATE password_links SET used_at = ? WHERE user_id = ? AND used_at IS NULL",
                now.naive_utc(),
                admin.id
            )
            .execute(&mut *tx)
            .await?;
            admin.id
        }
        Some(admin) => return Err(BootstrapError::AdminExists(admin.email)),
        None => {
            let inserted = sqlx::query!(
                "INSERT INTO users (email, password_hash, name, role, created_at, updated_at) \
                 VALUES (?, ?, ?, 'admin', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
                email.as_str(),
                NO_PASSWORD,
                name
            )
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(done) => i64::try_from(done.last_insert_id()).map_err(AccountError::internal)?,
                Err(err)
                    if crate::platform::db::duplicate_key(&err).as_deref()
                        == Some("uq_users_email") =>
                {
                    return Err(AccountError::EmailTaken.into())
                }
                Err(err) => return Err(err.into()),
            }
        }
    };
    let (token, digest) = new_token();
    let expires_at = now + chrono::TimeDelta::hours(LINK_HOURS);
    sqlx::query!(
        "INSERT INTO password_links (token_sha256, user_id, purpose, expires_at) \
         VALUES (?, ?, 'bootstrap', ?)",
        digest,
        id,
        expires_at.naive_utc()
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((UserId(id), token, expires_at))
}

/// Why a link did not set a password.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Unknown, used or expired: one answer for the three.
    #[error("the link is not valid any more")]
    Invalid,
    #[error(transparent)]
    Account(#[from] AccountError),
}

impl From<sqlx::Error> for LinkError {
    fn from(err: sqlx::Error) -> Self {
        LinkError::Account(err.into())
    }
}

/// Sets the password of the link's account, and uses the link up: once,
/// before it expires. Only a password link (`bootstrap`, `reset`): an
/// e-mail confirmation link sets no password. Every session of the account ends (`token_version`
/// + 1). A password against the policy costs nothing: the link still works.
pub async fn set_password_with_link(
    pool: &MySqlPool,
    token: &str,
    new_password: &str,
    now: DateTime<Utc>,
) -> Result<User, LinkError> {
    let digest = sha256(token);
    let found = sqlx::query!(
        "SELECT l.user_id, u.email FROM password_links l JOIN users u ON u.id = l.user_id \
         WHERE l.token_sha256 = ? AND l.purpose IN ('bootstrap', 'reset') \
           AND l.used_at IS NULL AND l.expires_at > ? AND u.active",
        digest,
        now.naive_utc()
    )
    .fetch_optional(pool)
    .await?
    .ok_or(LinkError::Invalid)?;
    if let Err(message) = check_password(new_password, &found.email) {
        return Err(AccountError::InvalidField(FieldProblem {
            field: "new_password",
            message,
        })
        .into());
    }
    let hash = hash_password_async(new_password.to_owned()).await?;
    let mut tx = pool.begin().await?;
    // Used once: of two uses at once, one finds it unused.
    let used = sqlx::query!(
        "UPDATE password_links SET used_at = ? \
         WHERE token_sha256 = ? AND purpose IN ('bootstrap', 'reset') \
           AND used_at IS NULL AND expires_at > ?",
        now.naive_utc(),
        digest,
        now.naive_utc()
    )
    .execute(&mut *tx)
    .await?;
    if used.rows_affected() != 1 {
        tx.rollback().await?;
        return Err(LinkError::Invalid);
    }
    // The password is chosen: the account's other links stop working.
    sqlx::query!(
        "UPDATE password_links SET used_at = ? WHERE user_id = ? AND used_at IS NULL",
        now.naive_utc(),
        found.user_id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE users SET password_hash = ?, token_version = token_version + 1, \
         updated_at = UTC_TIMESTAMP(6) WHERE id = ?",
        hash,
        found.user_id
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    find(pool, UserId(found.user_id))
        .await?
        .ok_or_else(|| AccountError::internal("the account vanished").into())
}

impl From<LinkError> for ApiError {
    fn from(err: LinkError) -> Self {
        match err {
            LinkError::Invalid => ApiError::new(
                StatusCode::GONE,
                "link-invalid",
                "Link not valid",
                "Ce lien n'est plus valable : il a déjà servi ou a expiré (the link was used or has expired).",
            ),
            LinkError::Account(err) => err.into(),
        }
    }
}
