//! A change of e-mail address, confirmed from the new address.
//!
//! [`check`] checks the password (throttled like a sign-in: a stolen
//! session alone cannot take the account over) and that no other account
//! has the address, then e-mails a one-time link to the *new* address,
//! valid [`CONFIRM_HOURS`] ([`send`]); the account keeps its old address until the
//! link is followed ([`confirm`]), so a typo never locks anyone out. The
//! link is stored like a password link (only its SHA-256) with the address
//! it confirms, and the newest request voids the older ones. Once
//! confirmed, the old address gets a notice, so someone who did not ask
//! learns of it. Sessions go on: the e-mail is not what a session is bound
//! to.
//!
//! Customers only: staff accounts are created and kept by their manager or
//! the admin (`POST /staff`).

use super::*;
use crate::platform::config::SITE_PLACEHOLDER;

/// How long a confirmation link works.
pub const CONFIRM_HOURS: i64 = 24;
/// The notifications' kinds: the link, to the new address; the notice, to
/// the old one.
pub const CONFIRM_KIND: &str = "email-change";
pub const NOTICE_KIND: &str = "email-changed";

/// Why an e-mail did not change.
#[derive(Debug, thiserror::Error)]
pub enum EmailChangeError {
    /// Unknown, used or expired: one answer for the three.
    #[error("the link is not valid any more")]
    LinkInvalid,
    #[error(transparent)]
    Account(#[from] AccountError),
}

impl From<sqlx::Error> for EmailChangeError {
    fn from(err: sqlx::Error) -> Self {
        EmailChangeError::Account(err.into())
    }
}

impl From<EmailChangeError> for ApiError {
    fn from(err: EmailChangeError) -> Self {
        match err {
            EmailChangeError::LinkInvalid => links::LinkError::Invalid.into(),
            EmailChangeError::Account(err) => err.into(),
        }
    }
}

fn new_email_problem(message: impl Into<String>) -> AccountError {
    AccountError::InvalidField(FieldProblem {
        field: "new_email",
        message: message.into(),
    })
}

/// A change asked and checked, not sent yet: the caller counts it against
/// its limit first ([`send`]), so refusals cost nothing.
#[derive(Debug)]
pub struct Asked {
    user: User,
    new_email: Email,
}

impl Asked {
    /// The new address, normalised.
    pub fn new_email(&self) -> &str {
        self.new_email.as_str()
    }
}

/// Checks a change of e-mail: the account's `password` (throttled like a
/// sign-in), an address that parses, is not the account's own and has no
/// account.
pub async fn check(
    pool: &MySqlPool,
    id: UserId,
    new_email: &str,
    password: &str,
) -> Result<Asked, AccountError> {
    let new_email = Email::parse(new_email).map_err(new_email_problem)?;
    let user = confirm_password(pool, id, password).await?;
    if user.email == new_email.as_str() {
        return Err(new_email_problem(
            "C'est déjà l'adresse de votre compte (the account has this e-mail already).",
        ));
    }
    // Taken now is told now (as sign-up does); taken by the time the link
    // is followed is told then.
    let taken = sqlx::query_scalar!("SELECT id FROM users WHERE email = ?", new_email.as_str())
        .fetch_optional(pool)
        .await?;
    if taken.is_some() {
        return Err(AccountError::EmailTaken);
    }
    Ok(Asked { user, new_email })
}

/// Sends the confirmation link of a checked change to the new address;
/// the address it was sent to.
pub async fn send(
    pool: &MySqlPool,
    asked: Asked,
    now: DateTime<Utc>,
) -> Result<String, AccountError> {
    let Asked { user, new_email } = asked;
    let id = user.id;
    let (token, digest) = links::new_token();
    let expires_at = now + chrono::TimeDelta::hours(CONFIRM_HOURS);
    // Sent to an address nobody has confirmed: nothing in it the requester
    // wrote (not even their name), so it cannot carry their words to a
    // stranger.
    let body = format!(
        "Bonjour,\n\n\
         Pour que {email} devienne l'adresse de votre compte OC Pizza, ouvrez ce lien \
         dans les {CONFIRM_HOURS} heures ; il ne sert qu'une fois :\n\n\
         {SITE_PLACEHOLDER}account.html#email-token={token}\n\n\
         Jusque-là, votre compte garde son adresse actuelle. Si vous n'avez rien demandé, \
         ignorez ce message.\n\n\
         L'équipe OC Pizza",
        email = new_email.as_str(),
    );
    let mut tx = pool.begin().await?;
    let still = sqlx::query_scalar!(
        "SELECT id FROM users WHERE id = ? AND active AND role = 'customer' FOR UPDATE",
        id.0
    )
    .fetch_optional(&mut *tx)
    .await?;
    if still.is_none() {
        return Err(AccountError::SessionEnded);
    }
    sqlx::query!(
        "UPDATE password_links SET used_at = ? WHERE user_id = ? AND purpose = 'email' AND used_at IS NULL",
        now.naive_utc(),
        id.0
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO password_links (token_sha256, user_id, purpose, new_email, created_at, expires_at) \
         VALUES (?, ?, 'email', ?, ?, ?)",
        digest,
        id.0,
        new_email.as_str(),
        now.naive_utc(),
        expires_at.naive_utc()
    )
    .execute(&mut *tx)
    .await?;
    links::queue_account_mail(
        &mut tx,
        id.0,
        CONFIRM_KIND,
        new_email.as_str(),
        "Confirmez votre nouvelle adresse OC Pizza",
        &body,
    )
    .await?;
    tx.commit().await?;
    Ok(new_email.as_str().to_owned())
}

/// Follows a confirmation link: the account's e-mail becomes the one the
/// link was sent to, the link is used up, and the old address is told.
/// [`AccountError::EmailTaken`] when another account took the address
/// meanwhile (the link is then still unused, and useless). The new
/// address only: whoever opens the link learns nothing else of the account.
pub async fn confirm(
    pool: &MySqlPool,
    token: &str,
    now: DateTime<Utc>,
) -> Result<String, EmailChangeError> {
    let digest = links::sha256(token);
    // The account first, then its link: the order every other writer of an
    // account's links takes (a new request, a reset, a deletion), so two
    // of them at once wait rather than deadlock.
    let owner = sqlx::query_scalar!(
        "SELECT user_id FROM password_links WHERE token_sha256 = ? AND purpose = 'email'",
        digest
    )
    .fetch_optional(pool)
    .await?
    .ok_or(EmailChangeError::LinkInvalid)?;
    let mut tx = pool.begin().await?;
    sqlx::query_scalar!("SELECT id FROM users WHERE id = ? FOR UPDATE", owner)
        .fetch_optional(&mut *tx)
        .await?;
    let found = sqlx::query!(
        "SELECT l.user_id, l.new_email AS `new_email!`, u.email, u.name FROM password_links l \
         JOIN users u ON u.id = l.user_id \
         WHERE l.token_sha256 = ? AND l.purpose = 'email' AND l.used_at IS NULL \
           AND l.expires_at > ? AND u.active AND l.new_email IS NOT NULL \
         FOR UPDATE",
        digest,
        now.naive_utc()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(EmailChangeError::LinkInvalid)?;
    let changed = sqlx::query!(
        "UPDATE users SET email = ?, updated_at = UTC_TIMESTAMP(6) WHERE id = ?",
        found.new_email,
        found.user_id
    )
    .execute(&mut *tx)
    .await;
    match changed {
        Ok(_) => {}
        Err(err)
            if crate::platform::db::duplicate_key(&err).as_deref() == Some("uq_users_email") =>
        {
            return Err(AccountError::EmailTaken.into())
        }
        Err(err) => return Err(err.into()),
    }
    // Every link of the account ends: another confirmation, and a reset
    // link e-mailed to the old address, which should open nothing now.
    sqlx::query!(
        "UPDATE password_links SET used_at = ? WHERE user_id = ? AND used_at IS NULL",
        now.naive_utc(),
        found.user_id
    )
    .execute(&mut *tx)
    .await?;
    let body = format!(
        "Bonjour {name},\n\n\
         L'adresse e-mail de votre compte OC Pizza est désormais {new}. \
         Ce message est envoyé à l'ancienne adresse, {old}, pour vous en informer.\n\n\
         Si vous n'êtes pas à l'origine de ce changement, répondez à ce message ou \
         appelez votre pizzeria : nous rétablirons votre adresse.\n\n\
         L'équipe OC Pizza",
        name = found.name,
        new = found.new_email,
        old = found.email,
    );
    links::queue_account_mail(
        &mut tx,
        found.user_id,
        NOTICE_KIND,
        &found.email,
        "L'adresse de votre compte OC Pizza a changé",
        &body,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = found.user_id, "account e-mail changed");
    Ok(found.new_email)
}
