//! Card payments through Stripe: PaymentIntents, refunds, and the webhooks
//! Stripe sends about them.
//!
//! This module owns every conversation with Stripe's API (through the
//! `async-stripe` client), the verification of the `Stripe-Signature` header
//! on incoming webhooks, and the tolerant reading of the few fields of a
//! Stripe object the order flow needs. Amounts are [`Money`] (euro cents);
//! the currency is always EUR. The same code runs against Stripe in
//! production and against localstripe on a developer's machine
//! (`Config::stripe_api_base`); `testkit::stripe` (tests only) holds what a browser would do
//! there to pay, which tests of other crates use too.
//!
//! Why our own response types rather than async-stripe's: its generated types
//! require fields localstripe never sends (`amount_capturable`,
//! `amount_received`, `confirmation_method`, `payment_method_types`), and a
//! newer Stripe API may add enum values an old generated enum refuses. We ask
//! async-stripe's `Client` to decode answers into small structs that read only
//! what we use, and it still does the rest: authentication, the form encoding
//! of its typed parameters, the `Idempotency-Key` header, and Stripe's error
//! body.

use crate::platform::config::Config;
use crate::platform::ids::OrderId;
use crate::platform::money::Money;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

pub mod cash;
mod client;
pub mod settlement;
#[cfg(test)]
mod tests;
mod webhook;
mod wire;

pub use client::*;
pub use webhook::*;
pub use wire::payment_intent_from_json;
use wire::*;

/// What a function settling payments holds (the webhook's, the sweep's):
/// the database, the queues a paid order is placed on, and Stripe.
#[derive(Clone)]
pub struct Settling {
    pub pool: sqlx::MySqlPool,
    pub queues: crate::platform::queue::Queues,
    pub stripe: Stripe,
}

impl Settling {
    /// Made from the configuration; the database connects on first use.
    pub async fn from_config(
        config: &Config,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self {
            pool: crate::platform::db::connect_lazy(config)?,
            queues: crate::platform::queue::Queues::from_config(config).await,
            stripe: Stripe::from_config(config)?,
        })
    }
}

/// How long any single call to Stripe may take. A Lambda function waiting on
/// a slow Stripe would otherwise run (and bill) until its own timeout, with
/// the customer staring at a spinner; after this we answer 503 and the
/// client may retry with the same idempotency key.
pub const STRIPE_TIMEOUT: Duration = Duration::from_secs(10);

/// Stripe's limit on an `Idempotency-Key`.
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// Stripe could not be reached or could not serve us now (network error,
    /// timeout, 5xx, 429, 409 idempotency conflict, refused API key): a 503,
    /// retry later with the same idempotency key.
    #[error("payment service unavailable: {0}")]
    Unavailable(String),
    /// Stripe refused the request (card declined, invalid amount, unknown
    /// PaymentIntent, wrong state…): the caller's problem, a 4xx.
    #[error("payment refused: {message}")]
    Rejected {
        code: Option<String>,
        message: String,
    },
    /// Stripe answered something we cannot read.
    #[error("unexpected answer from the payment service: {0}")]
    Invalid(String),
    /// Our own settings are unusable (bad API base URL, unusable key).
    #[error("payment configuration error: {0}")]
    Config(String),
}

impl PaymentError {
    fn rejected(code: &str, message: impl Into<String>) -> PaymentError {
        PaymentError::Rejected {
            code: Some(code.to_owned()),
            message: message.into(),
        }
    }
}

/// What Stripe says about a PaymentIntent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentIntentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    RequiresAction,
    Processing,
    RequiresCapture,
    Succeeded,
    Canceled,
}

impl PaymentIntentStatus {
    pub const ALL: [PaymentIntentStatus; 7] = [
        PaymentIntentStatus::RequiresPaymentMethod,
        PaymentIntentStatus::RequiresConfirmation,
        PaymentIntentStatus::RequiresAction,
        PaymentIntentStatus::Processing,
        PaymentIntentStatus::RequiresCapture,
        PaymentIntentStatus::Succeeded,
        PaymentIntentStatus::Canceled,
    ];

    /// Stripe's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentIntentStatus::RequiresPaymentMethod => "requires_payment_method",
            PaymentIntentStatus::RequiresConfirmation => "requires_confirmation",
            PaymentIntentStatus::RequiresAction => "requires_action",
            PaymentIntentStatus::Processing => "processing",
            PaymentIntentStatus::RequiresCapture => "requires_capture",
            PaymentIntentStatus::Succeeded => "succeeded",
            PaymentIntentStatus::Canceled => "canceled",
        }
    }
}

impl FromStr for PaymentIntentStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        PaymentIntentStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or(())
    }
}

impl fmt::Display for PaymentIntentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The parts of a PaymentIntent the order flow uses.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentIntent {
    pub id: String,
    /// Handed to the browser, which confirms the payment with it; `None` when
    /// read from a webhook (we never pass it further from there).
    pub client_secret: Option<String>,
    pub status: PaymentIntentStatus,
    pub amount: Money,
    pub amount_received: Money,
    /// ISO code in lower case, as Stripe writes it (`eur`); empty when the
    /// answer had none. Only `eur` pays an order.
    pub currency: String,
    /// Our order, from the PaymentIntent's metadata.
    pub order_id: Option<OrderId>,
}

/// The client secret lets whoever holds it pay (or see) this payment: it
/// stays out of logs.
impl fmt::Debug for PaymentIntent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentIntent")
            .field("id", &self.id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("status", &self.status)
            .field("amount", &self.amount)
            .field("amount_received", &self.amount_received)
            .field("currency", &self.currency)
            .field("order_id", &self.order_id)
            .finish()
    }
}

/// What [`Stripe::create_payment_intent`] needs.
#[derive(Debug, Clone)]
pub struct NewPaymentIntent<'a> {
    pub amount: Money,
    pub order_id: OrderId,
    pub order_number: &'a str,
    /// Sent as Stripe's `Idempotency-Key`: the same key within 24 h gives back
    /// the same PaymentIntent, so a retried checkout never charges twice.
    /// Visible ASCII, at most 255 characters (e.g. `order-<id>-payment`).
    pub idempotency_key: &'a str,
    /// Stripe e-mails its receipt there. Leave `None` against localstripe,
    /// which refuses the parameter.
    pub receipt_email: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: String,
    pub amount: Money,
    /// `pending`, `succeeded`, `failed`, `canceled`, `requires_action`.
    pub status: String,
}
