//! A forgotten password: a link by e-mail to choose a new one.
//!
//! [`request`] answers the same whatever the address: the caller says
//! "if an account exists, a link was sent", so nobody learns who has an
//! account. For an active account it makes a one-time link (the same as the
//! first admin's: 32 random bytes, only their SHA-256 kept), valid
//! [`RESET_MINUTES`], voids the account's older reset links, and queues the
//! e-mail in `notifications` in the same transaction; the notifier sends it.
//! The e-mail's body holds the link until it is sent, then the notifier
//! takes it out (`notify::scrub_secret_links`), and the link still works
//! once only. The link is used with `POST /accounts/password-links`, like the
//! first admin's: every session of the account ends.

use super::*;
use crate::platform::config::SITE_PLACEHOLDER;
use crate::platform::ids::UserId;

/// How long a reset link works.
pub const RESET_MINUTES: i64 = 60;
/// The notification's kind.
pub const RESET_KIND: &str = "password-reset";

/// Makes a reset link for the active account of `email`, if there is one,
/// and queues its e-mail. `Ok` either way; the account when there was one
/// (for the log, never for the answer).
pub async fn request(
    pool: &MySqlPool,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Option<UserId>, AccountError> {
    let Ok(email) = Email::parse(email) else {
        return Ok(None);
    };
    let user = sqlx::query!(
        "SELECT id, name, email FROM users WHERE email = ? AND CAST(email AS BINARY) = CAST(? AS BINARY) AND active",
        email.as_str(),
        email.as_str()
    )
    .fetch_optional(pool)
    .await?;
    let Some(user) = user else { return Ok(None) };

    let (token, digest) = super::links::new_token();
    let expires_at = now + chrono::TimeDelta::minutes(RESET_MINUTES);
    let subject = "Choisir un nouveau mot de passe OC Pizza";
    let body = format!(
        "Bonjour {name},\n\n\
         Quelqu'un (vous, sans doute) a demandé à changer le mot de passe de votre compte OC Pizza.\n\
         Pour en choisir un nouveau, ouvrez ce lien dans l'heure ; il ne sert qu'une fois :\n\n\
         {SITE_PLACEHOLDER}set-password.html#token={token}\n\n\
         Si vous n'avez rien demandé, ignorez ce message : votre mot de passe ne change pas.\n\n\
         L'équipe OC Pizza",
        name = user.name,
    );
    let mut tx = pool.begin().await?;
    // One request at a time per account (two at once would deadlock on the
    // links' index), and none after the account was deleted meanwhile.
    let still = sqlx::query_scalar!(
        "SELECT id FROM users WHERE id = ? AND active FOR UPDATE",
        user.id
    )
    .fetch_optional(&mut *tx)
    .await?;
    if still.is_none() {
        return Ok(None);
    }
    // One link at a time: the newest.
    sqlx::query!(
        "UPDATE password_links SET used_at = ? WHERE user_id = ? AND purpose = 'reset' AND used_at IS NULL",
        now.naive_utc(),
        user.id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO password_links (token_sha256, user_id, purpose, created_at, expires_at) \
         VALUES (?, ?, 'reset', ?, ?)",
        digest,
        user.id,
        now.naive_utc(),
        expires_at.naive_utc()
    )
    .execute(&mut *tx)
    .await?;
    super::links::queue_account_mail(&mut tx, user.id, RESET_KIND, &user.email, subject, &body)
        .await?;
    tx.commit().await?;
    Ok(Some(UserId(user.id)))
}
