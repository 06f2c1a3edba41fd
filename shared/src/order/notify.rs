//! Customer notifications: one message per order and status the customer
//! cares about, recorded in the transaction that changes the order, shown on
//! the order, and e-mailed later over SMTP by the `notifier` function.
//!
//! Recording is idempotent (one row per order, kind and channel), so a status
//! change applied twice still gives one e-mail. Sending never blocks an order:
//! a sender claims due rows under a lease (`FOR UPDATE SKIP LOCKED`, then
//! `next_attempt_at` pushed forward and committed), sends, then marks each row
//! sent, or retries it later with exponential backoff until it gives up. It is
//! at least once: a crash between a send and its mark sends that e-mail again
//! once the lease has run out.
//!
//! Every e-mail links to the order's tracker (`<SITE_URL>track.html?order=…&token=…`).
//! The link is added when the e-mail is sent, from the order's tracking token:
//! the stored body has none, so the token is kept in one place (the order),
//! never in `notifications`, and never in a log line.

use crate::order::{Fulfilment, OrderStatus};
use crate::platform::config::{Config, SITE_PLACEHOLDER};
use crate::platform::ids::OrderId;
use crate::platform::money::Money;
use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sqlx::{MySql, MySqlPool, Transaction};
use std::fmt;
use std::time::Duration;

/// The only channel today; the table's key leaves room for others (SMS).
pub const EMAIL: &str = "email";
/// After this many failed sends a notification is `failed` and left alone.
pub const MAX_ATTEMPTS: i32 = 8;
/// An SMTP exchange that takes longer is a failure, retried later.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Backoff after the first failure; doubles with each further one.
const FIRST_RETRY_SECONDS: i64 = 30;

/// What the customer needs to read about their order, from the order row.
#[derive(Debug, Clone)]
pub struct OrderFacts {
    pub number: String,
    pub contact_name: String,
    pub pizzeria: String,
    pub fulfilment: Fulfilment,
    pub total: Money,
    /// When it will be ready (pickup) or at the door (delivery).
    pub promised_at: Option<DateTime<Utc>>,
    /// A pre-order's slot.
    pub slot_at: Option<DateTime<Utc>>,
}

impl OrderFacts {
    /// The promise in a sentence: "Prête vers 19:40.", "Livrée vers 20:05.",
    /// or for a pre-order its day and time ("À retirer le 05/12 à 20:30.").
    pub fn promise(&self) -> Option<String> {
        let paris = |at: DateTime<Utc>| at.with_timezone(&chrono_tz::Europe::Paris);
        if let Some(slot) = self.slot_at.map(paris) {
            let (day, time) = (slot.format("%d/%m"), slot.format("%H:%M"));
            let promised = self.promised_at.map(paris).filter(|p| *p > slot);
            return Some(match (self.fulfilment, promised) {
                (Fulfilment::Pickup, None) => format!("À retirer le {day} à {time}."),
                (Fulfilment::Delivery, None) => format!("Livrée le {day} vers {time}."),
                (Fulfilment::Pickup, Some(p)) => format!("Prête vers {}.", p.format("%H:%M")),
                (Fulfilment::Delivery, Some(p)) => format!("Livrée vers {}.", p.format("%H:%M")),
            });
        }
        let at = crate::order::promise::hour_minute(self.promised_at?);
        Some(match self.fulfilment {
            Fulfilment::Pickup => format!("Prête vers {at}."),
            Fulfilment::Delivery => format!("Livrée vers {at}."),
        })
    }
}

/// The e-mail for an order entering `status`, in French: `(subject, body)`.
/// `None` for a status the customer is not told about (`pending_payment`:
/// the payment page already says it).
pub fn message(status: OrderStatus, order: &OrderFacts) -> Option<(String, String)> {
    let n = &order.number;
    let pizzeria = &order.pizzeria;
    let (subject, news) = match status {
        OrderStatus::PendingPayment => return None,
        OrderStatus::Placed => (
            format!("Votre commande n° {n} est confirmée"),
            if order.slot_at.is_some() {
                format!("{pizzeria} a bien reçu votre commande : elle partira en cuisine à temps pour l'horaire choisi.")
            } else {
                format!("{pizzeria} a bien reçu votre commande : elle part en cuisine.")
            },
        ),
        OrderStatus::Preparing => (
            format!("Votre commande n° {n} est en préparation"),
            "Notre pizzaiolo prépare votre commande.".to_owned(),
        ),
        OrderStatus::Ready => match order.fulfilment {
            Fulfilment::Pickup => (
                format!("Votre commande n° {n} est prête"),
                format!("Votre commande vous attend au comptoir de {pizzeria}."),
            ),
            Fulfilment::Delivery => (
                format!("Votre commande n° {n} est prête"),
                "Votre commande est prête et attend son livreur.".to_owned(),
            ),
        },
        OrderStatus::OutForDelivery => (
            format!("Votre commande n° {n} est en cours de livraison"),
            "Votre livreur est en route.".to_owned(),
        ),
        OrderStatus::Delivered => (
            format!("Votre commande n° {n} a été livrée"),
            "Votre commande a été livrée. Bon appétit !".to_owned(),
        ),
        OrderStatus::PickedUp => (
            format!("Votre commande n° {n} a été retirée"),
            "Vous avez retiré votre commande. Bon appétit !".to_owned(),
        ),
        OrderStatus::Cancelled => (
            format!("Votre commande n° {n} est annulée"),
            "Votre commande a été annulée. Tout paiement en ligne vous est remboursé.".to_owned(),
        ),
        OrderStatus::FailedDelivery => (
            format!("Votre commande n° {n} n'a pas pu être livrée"),
            format!("Notre livreur n'a pas pu vous remettre votre commande. {pizzeria} vous contactera ; tout remboursement vous sera confirmé par e-mail."),
        ),
        OrderStatus::NoShow => (
            format!("Votre commande n° {n} n'a pas été retirée"),
            format!("Votre commande vous a attendu au comptoir de {pizzeria} sans être retirée. Appelez la pizzeria pour toute question."),
        ),
        OrderStatus::Voided => (
            format!("Votre commande n° {n} est annulée"),
            format!("{pizzeria} a dû annuler votre commande. Tout ce que vous avez payé vous est remboursé."),
        ),
    };
    // The time it will be ready or at the door, while it is still to come.
    let promised = matches!(
        (status, order.fulfilment),
        (OrderStatus::Placed | OrderStatus::Preparing, _)
            | (
                OrderStatus::Ready | OrderStatus::OutForDelivery,
                Fulfilment::Delivery
            )
    );
    let news = match order.promise().filter(|_| promised) {
        Some(promise) => format!("{news} {promise}"),
        None => news,
    };
    let body = format!(
        "Bonjour {name},\n\n{news}\n\nCommande n° {n} — {pizzeria}\nTotal : {total}\n\n{SIGN_OFF}",
        name = order.contact_name,
        total = order.total,
    );
    Some((subject, body))
}

/// The last lines of every e-mail; the tracker's link goes just above.
const SIGN_OFF: &str = "Merci de votre confiance,\nOC Pizza\n";

/// The tracker of an order: `site_url` (ending with `/`) then
/// `track.html?order=<id>&token=<token, URL-encoded>`. It holds the token:
/// for the customer's e-mail only, never for a log line.
pub fn tracking_link(site_url: &str, order: OrderId, token: &str) -> String {
    let token: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
    format!("{site_url}track.html?order={}&token={token}", order.0)
}

/// A stored body with the tracker's link, in a sentence of its own above the
/// sign-off (at the end for a body without it).
fn with_link(body: &str, link: &str) -> String {
    let follow = format!("Suivez votre commande : {link}\n\n");
    match body.strip_suffix(SIGN_OFF) {
        Some(message) => format!("{message}{follow}{SIGN_OFF}"),
        None => format!("{}\n\n{follow}", body.trim_end()),
    }
}

/// Records the notification for `order` entering `status`, in the caller's
/// transaction. Nothing for a status the customer is not told about, nor for
/// an order without an e-mail address. A second call for the same order and
/// status changes nothing.
pub async fn record(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
    status: OrderStatus,
) -> Result<(), sqlx::Error> {
    if status == OrderStatus::PendingPayment {
        return Ok(());
    }
    insert(tx, order, status.as_str(), |facts| message(status, facts)).await
}

/// The e-mail of a refund a manager gave after the order ended.
pub fn refund_message(amount: Money, order: &OrderFacts) -> (String, String) {
    let n = &order.number;
    let subject = format!("Remboursement de {amount} sur votre commande n° {n}");
    let body = format!(
        "Bonjour {name},\n\n{pizzeria} vous rembourse {amount} sur votre commande. \
         Un paiement par carte est recrédité sous quelques jours.\n\n\
         Commande n° {n} — {pizzeria}\nTotal : {total}\n\n{SIGN_OFF}",
        name = order.contact_name,
        pizzeria = order.pizzeria,
        total = order.total,
    );
    (subject, body)
}

/// Records the e-mail of the order's `sequence`-th refund given by a
/// manager (kind `refund-<sequence>`), in the caller's transaction.
pub async fn record_refund(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
    sequence: i64,
    amount: Money,
) -> Result<(), sqlx::Error> {
    let kind = format!("{REFUND_KIND_PREFIX}{sequence}");
    insert(tx, order, &kind, |facts| {
        Some(refund_message(amount, facts))
    })
    .await
}

/// The kind of a refund's e-mail starts with this (not a status).
pub const REFUND_KIND_PREFIX: &str = "refund-";

/// Writes the order's e-mail of `kind`, if it has an address and `message`
/// gives one; a second one of the same kind is a no-op.
async fn insert(
    tx: &mut Transaction<'_, MySql>,
    order: OrderId,
    kind: &str,
    message: impl FnOnce(&OrderFacts) -> Option<(String, String)>,
) -> Result<(), sqlx::Error> {
    let row = sqlx::query!(
        "SELECT o.number, o.contact_email, o.contact_name, o.fulfilment AS `fulfilment: Fulfilment`, \
            o.total_cents, p.name, o.promised_at, o.slot_at \
         FROM orders o JOIN pizzerias p ON p.id = o.pizzeria_id WHERE o.id = ?",
        order.0
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let Some(email) = row.contact_email.filter(|e| !e.trim().is_empty()) else {
        return Ok(());
    };
    let facts = OrderFacts {
        number: row.number,
        contact_name: row.contact_name,
        pizzeria: row.name,
        fulfilment: row.fulfilment,
        total: Money::from_cents(row.total_cents),
        promised_at: row.promised_at.map(|t| t.and_utc()),
        slot_at: row.slot_at.map(|t| t.and_utc()),
    };
    let Some((subject, body)) = message(&facts) else {
        return Ok(());
    };
    // Portable INSERT IGNORE: a duplicate of (order, kind, channel) is a no-op,
    // while any other error still fails the transaction.
    sqlx::query!(
        "INSERT INTO notifications (order_id, kind, channel, recipient, subject, body, status, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, 'pending', UTC_TIMESTAMP(6)) \
         ON DUPLICATE KEY UPDATE id = id",
        order.0,
        kind,
        EMAIL,
        email.trim(),
        subject,
        body,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What an account's e-mail keeps once sent: its one-time link removed.
pub const LINK_REMOVED: &str = "(Envoyé ; le lien à usage unique n'est pas conservé.)";

/// A notification as the order's page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct NotificationView {
    /// The order status it announces.
    pub kind: String,
    pub channel: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub subject: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// An order's notifications, oldest first.
pub async fn for_order(
    pool: &MySqlPool,
    order: OrderId,
) -> Result<Vec<NotificationView>, sqlx::Error> {
    sqlx::query_as!(
        NotificationView,
        "SELECT kind, channel, status, subject, created_at AS `created_at: DateTime<Utc>`, \
            sent_at AS `sent_at: DateTime<Utc>` \
         FROM notifications WHERE order_id = ? ORDER BY id",
        order.0
    )
    .fetch_all(pool)
    .await
}

#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    /// Never carries the URL: it holds the SMTP password.
    #[error("SMTP_URL is not a valid SMTP URL (smtp://host:port or smtps://user:password@host)")]
    Url,
    #[error("SMTP_FROM is not a valid mailbox: {0}")]
    From(String),
    #[error("SITE_URL is missing: e-mails link to the order's tracker under it")]
    SiteUrl,
}

/// An SMTP client: where to send (`SMTP_URL`), as whom (`SMTP_FROM`), and
/// where the e-mails' links lead (`SITE_URL`).
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    site_url: String,
    /// The URL's user and password, scrubbed from stored error messages.
    secrets: Vec<String>,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("site_url", &self.site_url)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Mailer, MailerError> {
        Mailer::new(&config.smtp_url, &config.smtp_from, &config.site_url)
    }

    /// `url` as lettre reads it: `smtp://127.0.0.1:2525` (plain, local),
    /// `smtps://USER:PASS@email-smtp.eu-west-3.amazonaws.com` (TLS on 465), or
    /// `smtp://USER:PASS@host:587?tls=required` (STARTTLS). `site_url` is
    /// the shop's address, ending with `/` (as `Config` gives it).
    pub fn new(url: &SecretString, from: &str, site_url: &str) -> Result<Mailer, MailerError> {
        if site_url.trim().is_empty() {
            return Err(MailerError::SiteUrl);
        }
        let url = url.expose_secret();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| MailerError::Url)?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| MailerError::From(e.to_string()))?;
        Ok(Mailer {
            transport,
            from,
            site_url: site_url.to_owned(),
            secrets: url_credentials(url),
        })
    }

    async fn send(&self, n: &Claimed) -> Result<(), SendError> {
        let to = n
            .recipient
            .parse::<Mailbox>()
            .map_err(|e| SendError::Permanent(format!("invalid recipient: {e}")))?;
        // A stable Message-ID per notification lets mail clients fold a resent
        // duplicate into the first copy.
        let message_id = format!(
            "<notification.{}.{}@{}>",
            n.id,
            n.kind,
            self.from.email.domain()
        );
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(n.subject.clone())
            .message_id(Some(message_id))
            .header(ContentType::TEXT_PLAIN)
            .body(match n.order_id {
                Some(order) => with_link(
                    &n.body,
                    &tracking_link(&self.site_url, order, &n.tracking_token),
                ),
                None => n.body.replace(SITE_PLACEHOLDER, &self.site_url),
            })
            .map_err(|e| SendError::Permanent(format!("invalid message: {e}")))?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| SendError::Retry(self.scrub(&e.to_string())))
    }

    /// An error text fit to store: no credential, at most 500 characters.
    fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            text = text.replace(secret.as_str(), "***");
        }
        text.chars().take(500).collect()
    }
}

/// The user and password of `scheme://user:password@host...`, if any.
fn url_credentials(url: &str) -> Vec<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return Vec::new();
    };
    userinfo
        .split(':')
        .filter(|part| part.len() >= 3)
        .map(str::to_owned)
        .collect()
}

enum SendError {
    /// Worth trying again later (server down, timeout, refused for now).
    Retry(String),
    /// Will never succeed (a malformed address): given up at once.
    Permanent(String),
}

/// What one sending pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SendReport {
    pub sent: usize,
    /// Given up: `MAX_ATTEMPTS` reached, or a message that can never be sent.
    pub failed: usize,
    /// Failed this time, to be tried again later.
    pub retried: usize,
}

struct Claimed {
    id: i64,
    /// `None` for an e-mail about an account (a forgotten password).
    order_id: Option<OrderId>,
    /// The order's, for the link; read after the claim, not stored with the
    /// notification.
    tracking_token: String,
    kind: String,
    recipient: String,
    subject: String,
    body: String,
    attempts: i32,
}

/// Sends up to `limit` due notifications. The rows are claimed in a short
/// transaction that leases them (longer than sending them all can take, at
/// `SEND_TIMEOUT` each), so concurrent senders never send the same row; each
/// is then marked sent, or scheduled again with backoff, or given up.
pub async fn send_pending(
    pool: &MySqlPool,
    mailer: &Mailer,
    limit: u32,
) -> Result<SendReport, sqlx::Error> {
    let lease_seconds = u64::from(limit) * SEND_TIMEOUT.as_secs() + 60;
    let mut tx = pool.begin().await?;
    let mut claimed: Vec<Claimed> = sqlx::query!(
        "SELECT id, order_id AS `order_id?: OrderId`, kind, recipient, subject, body, attempts FROM notifications \
         WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= UTC_TIMESTAMP(6)) \
         ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED",
        limit
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|row| Claimed {
        id: row.id,
        order_id: row.order_id,
        tracking_token: String::new(),
        kind: row.kind,
        recipient: row.recipient,
        subject: row.subject,
        body: row.body,
        attempts: row.attempts,
    })
    .collect();
    if claimed.is_empty() {
        tx.commit().await?;
        return Ok(SendReport::default());
    }
    // `IN` over the rows just claimed, as many as were due: built at run time.
    let mut lease = sqlx::QueryBuilder::<MySql>::new(
        "UPDATE notifications SET next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL ",
    );
    lease.push_bind(lease_seconds);
    lease.push(" SECOND WHERE id IN (");
    let mut ids = lease.separated(", ");
    for n in &claimed {
        ids.push_bind(n.id);
    }
    lease.push(")");
    lease.build().execute(&mut *tx).await?;
    tx.commit().await?;

    // The orders' tracking tokens, read apart from the claim: a locking read
    // joined to `orders` would lock (or, with SKIP LOCKED, skip) orders that
    // are changing meanwhile. `IN` over the claimed rows' orders: built at run time.
    let mut tokens =
        sqlx::QueryBuilder::<MySql>::new("SELECT id, tracking_token FROM orders WHERE id IN (");
    let mut ids = tokens.separated(", ");
    ids.push_bind(0);
    for id in claimed.iter().filter_map(|n| n.order_id) {
        ids.push_bind(id.0);
    }
    tokens.push(")");
    let tokens: std::collections::HashMap<i64, String> = tokens
        .build_query_as()
        .fetch_all(pool)
        .await?
        .into_iter()
        .collect();
    for n in &mut claimed {
        n.tracking_token = n
            .order_id
            .and_then(|id| tokens.get(&id.0).cloned())
            .unwrap_or_default();
    }

    let mut report = SendReport::default();
    for n in &claimed {
        let attempts = n.attempts + 1;
        match mailer.send(n).await {
            Ok(()) => {
                sqlx::query!(
                    "UPDATE notifications SET status = 'sent', sent_at = UTC_TIMESTAMP(6), attempts = ?, \
                     next_attempt_at = NULL, last_error = NULL, \
                     body = IF(order_id IS NULL, ?, body) WHERE id = ?",
                    attempts,
                    // An account's one-time link is not kept once sent.
                    LINK_REMOVED,
                    n.id,
                )
                .execute(pool)
                .await?;
                report.sent += 1;
            }
            Err(err) => {
                let (error, give_up) = match err {
                    SendError::Retry(e) => (e, attempts >= MAX_ATTEMPTS),
                    SendError::Permanent(e) => (e, true),
                };
                tracing::warn!(notification_id = n.id, attempts, give_up, error = %error, "e-mail not sent");
                sqlx::query!(
                    "UPDATE notifications SET status = ?, attempts = ?, last_error = ?, \
                     next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND, \
                     body = IF(order_id IS NULL AND ?, ?, body) WHERE id = ?",
                    if give_up { "failed" } else { "pending" },
                    attempts,
                    error,
                    retry_delay_seconds(attempts),
                    // Given up: an account's link is not kept either.
                    give_up,
                    LINK_REMOVED,
                    n.id,
                )
                .execute(pool)
                .await?;
                if give_up {
                    report.failed += 1;
                } else {
                    report.retried += 1;
                }
            }
        }
    }
    Ok(report)
}

/// 30 s after the first failure, then doubling: the eighth and last try comes
/// about an hour after the first.
fn retry_delay_seconds(attempts: i32) -> i64 {
    FIRST_RETRY_SECONDS << (attempts - 1).clamp(0, 10)
}

#[cfg(test)]
mod tests;
