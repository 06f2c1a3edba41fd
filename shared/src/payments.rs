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

use crate::config::Config;
use crate::ids::OrderId;
use crate::money::Money;
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

/// Our handle on Stripe: the API client and the webhook endpoint's secret.
#[derive(Clone)]
pub struct Stripe {
    client: stripe::Client,
    api_base: String,
    secret_key: SecretString,
    webhook_secret: SecretString,
    timeout: Duration,
}

/// Names where we talk to, never the keys.
impl fmt::Debug for Stripe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stripe")
            .field("api_base", &self.api_base)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Stripe {
    pub fn from_config(config: &Config) -> Result<Stripe, PaymentError> {
        Stripe::new(
            &config.stripe_api_base,
            config.stripe_secret_key.clone(),
            config.stripe_webhook_secret.clone(),
        )
    }

    /// `api_base` is `https://api.stripe.com` or localstripe's
    /// `http://127.0.0.1:8420` (no path: the client adds `/v1/...`).
    pub fn new(
        api_base: &str,
        secret_key: SecretString,
        webhook_secret: SecretString,
    ) -> Result<Stripe, PaymentError> {
        // async-stripe panics on a URL it cannot parse, and the key goes into
        // a header it would also panic on: check both first.
        let url = reqwest::Url::parse(api_base).map_err(|err| {
            PaymentError::Config(format!("STRIPE_API_BASE {api_base:?} is not a URL: {err}"))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(PaymentError::Config(format!(
                "STRIPE_API_BASE {api_base:?} is not an http(s) URL"
            )));
        }
        let key = secret_key.expose_secret();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            // Never echo the key itself.
            return Err(PaymentError::Config(
                "STRIPE_SECRET_KEY is empty or has characters an API key cannot have".into(),
            ));
        }
        Ok(Stripe {
            client: stripe::Client::from_url(url.as_str(), key),
            api_base: url.as_str().trim_end_matches('/').to_owned(),
            secret_key,
            webhook_secret,
            timeout: STRIPE_TIMEOUT,
        })
    }

    /// Another timeout than [`STRIPE_TIMEOUT`] (tests).
    pub fn with_timeout(mut self, timeout: Duration) -> Stripe {
        self.timeout = timeout;
        self
    }

    pub fn api_base(&self) -> &str {
        &self.api_base
    }

    pub fn webhook_secret(&self) -> &SecretString {
        &self.webhook_secret
    }

    /// Checks a webhook delivery with this endpoint's secret, then reads it.
    pub fn verify_webhook(
        &self,
        payload: &[u8],
        signature_header: &str,
        now_unix: i64,
    ) -> Result<WebhookEvent, WebhookError> {
        verify_signature(
            payload,
            signature_header,
            self.webhook_secret.expose_secret(),
            now_unix,
        )?;
        parse_event(payload).map_err(WebhookError::Unreadable)
    }

    /// A PaymentIntent for `new.amount` euro cents, tagged with our order in
    /// its metadata, for the browser to confirm with its client secret.
    pub async fn create_payment_intent(
        &self,
        new: &NewPaymentIntent<'_>,
    ) -> Result<PaymentIntent, PaymentError> {
        check_idempotency_key(new.idempotency_key)?;
        let mut params =
            stripe::CreatePaymentIntent::new(new.amount.cents(), stripe::Currency::EUR);
        params.metadata = Some(HashMap::from([
            ("order_id".to_owned(), new.order_id.to_string()),
            ("order_number".to_owned(), new.order_number.to_owned()),
        ]));
        params.receipt_email = new.receipt_email;
        let client = self.idempotent(new.idempotency_key);
        let wire: WirePaymentIntent = self
            .call(client.post_form("/payment_intents", &params))
            .await?;
        wire.into_payment_intent()
    }

    pub async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent, PaymentError> {
        check_id(id, "pi_")?;
        let wire: WirePaymentIntent = self
            .call(self.client.get(&format!("/payment_intents/{id}")))
            .await?;
        wire.into_payment_intent()
    }

    /// Pays a PaymentIntent with a card the browser turned into a token
    /// (Stripe.js `createToken`): the token becomes a Customer's card, which is
    /// attached to the PaymentIntent, then confirmed. The answer is
    /// `succeeded`, `requires_action` (3-D Secure: the browser finishes it
    /// with `confirmCardPayment`), or [`PaymentError::Rejected`] for a
    /// declined card. Confirming with the card in one call is what Stripe
    /// suggests, but localstripe cannot (see `testing::pay_with_test_card`);
    /// attach-then-confirm works on both. A token is single-use: the
    /// Customer is created under an idempotency key derived from it, so a
    /// retried request reuses it.
    pub async fn pay_with_card_token(
        &self,
        payment_intent_id: &str,
        card_token: &str,
    ) -> Result<PaymentIntent, PaymentError> {
        #[derive(Serialize)]
        struct NewCustomer<'a> {
            source: &'a str,
        }
        #[derive(Deserialize)]
        struct Customer {
            id: String,
            default_source: Option<String>,
        }
        #[derive(Serialize)]
        struct Attach<'a> {
            customer: &'a str,
            payment_method: &'a str,
        }
        check_id(payment_intent_id, "pi_")?;
        check_id(card_token, "tok_")?;
        let key = format!("card-{card_token}");
        let customer: Customer = self
            .call(
                self.idempotent(&key)
                    .post_form("/customers", &NewCustomer { source: card_token }),
            )
            .await?;
        let card = customer
            .default_source
            .ok_or_else(|| PaymentError::Invalid("the card token gave no card".into()))?;
        let path = format!("/payment_intents/{payment_intent_id}");
        let attach = Attach {
            customer: &customer.id,
            payment_method: &card,
        };
        let _: WirePaymentIntent = self.call(self.client.post_form(&path, &attach)).await?;
        let wire: WirePaymentIntent = self
            .call(self.client.post(&format!("{path}/confirm")))
            .await?;
        wire.into_payment_intent()
    }

    /// Cancels a PaymentIntent nobody paid (yet): an abandoned checkout.
    /// Stripe refuses once it succeeded (→ [`PaymentError::Rejected`]).
    pub async fn cancel_payment_intent(&self, id: &str) -> Result<PaymentIntent, PaymentError> {
        check_id(id, "pi_")?;
        let wire: WirePaymentIntent = self
            .call(self.client.post(&format!("/payment_intents/{id}/cancel")))
            .await?;
        wire.into_payment_intent()
    }

    /// Refunds `amount` of a paid PaymentIntent (all of it or a part; several
    /// partial refunds add up). The idempotency key makes a retried refund
    /// safe: use one per refund decision, e.g. `refund-<order>-<n>`.
    pub async fn refund(
        &self,
        payment_intent_id: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<Refund, PaymentError> {
        check_id(payment_intent_id, "pi_")?;
        check_idempotency_key(idempotency_key)?;
        if amount.cents() <= 0 {
            return Err(PaymentError::rejected(
                "amount_too_small",
                "a refund must be of a positive amount",
            ));
        }
        let payment_intent = payment_intent_id
            .parse::<stripe::PaymentIntentId>()
            .map_err(|_| PaymentError::rejected("invalid_id", "not a PaymentIntent id"))?;
        let params = stripe::CreateRefund {
            payment_intent: Some(payment_intent),
            amount: Some(amount.cents()),
            ..Default::default()
        };
        let client = self.idempotent(idempotency_key);
        let wire: WireRefund = self.call(client.post_form("/refunds", &params)).await?;
        Ok(wire.into_refund())
    }

    /// The client sends `Idempotency-Key` with every request; it is cheap
    /// to clone (the connection pool is shared).
    fn idempotent(&self, key: &str) -> stripe::Client {
        self.client
            .clone()
            .with_strategy(stripe::RequestStrategy::Idempotent(key.to_owned()))
    }

    /// One call, bounded by the timeout, its error sorted for the caller.
    async fn call<T>(
        &self,
        request: impl Future<Output = Result<T, stripe::StripeError>>,
    ) -> Result<T, PaymentError> {
        // Dropping the future on timeout drops the connection with it.
        match tokio::time::timeout(self.timeout, request).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(err)) => Err(sort_error(err, self.secret_key.expose_secret())),
            Err(_) => Err(PaymentError::Unavailable(format!(
                "Stripe did not answer within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }
}

/// Sorts async-stripe's error into ours. Stripe's own messages never quote
/// a full key, but a key we were given is masked anyway, in case.
fn sort_error(err: stripe::StripeError, secret_key: &str) -> PaymentError {
    let redact = |message: String| {
        if secret_key.len() >= 8 {
            message.replace(secret_key, "[REDACTED]")
        } else {
            message
        }
    };
    match err {
        stripe::StripeError::Stripe(err) => {
            let status = err.http_status;
            let message = redact(err.message.unwrap_or_else(|| err.error_type.to_string()));
            match status {
                // 409: a request with the same idempotency key is still in
                // flight; 401/403: our key is refused — the customer can do
                // nothing about it, and an operator must.
                401 | 403 | 409 | 429 | 500.. => {
                    PaymentError::Unavailable(format!("Stripe answered HTTP {status}: {message}"))
                }
                _ => PaymentError::Rejected {
                    code: err
                        .code
                        .and_then(|code| match serde_json::to_value(code) {
                            Ok(Value::String(code)) => Some(code),
                            _ => None,
                        })
                        .or(err.decline_code),
                    message,
                },
            }
        }
        stripe::StripeError::ClientError(message) => {
            PaymentError::Unavailable(format!("could not reach Stripe: {}", redact(message)))
        }
        stripe::StripeError::Timeout => PaymentError::Unavailable("Stripe timed out".into()),
        // async-stripe 0.41 also lands here when an *error* body names a
        // `code` newer than its list of codes; the HTTP status is lost then.
        stripe::StripeError::JSONSerialize(err) => PaymentError::Invalid(format!(
            "could not read Stripe's answer (at `{}`)",
            err.path()
        )),
        stripe::StripeError::QueryStringSerialize(err) => {
            PaymentError::Invalid(format!("could not encode the request: {err}"))
        }
        stripe::StripeError::UnsupportedVersion => {
            PaymentError::Invalid("unsupported Stripe API version".into())
        }
    }
}

/// An id that goes into a URL path must be one, not `../customers`.
pub fn check_id(id: &str, prefix: &str) -> Result<(), PaymentError> {
    let ok = id.len() > prefix.len()
        && id.len() <= 255
        && id.starts_with(prefix)
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(PaymentError::rejected(
            "invalid_id",
            format!("not a Stripe id starting with {prefix}"),
        ))
    }
}

/// async-stripe puts the key in a header without checking it (and panics on
/// one a header cannot carry); Stripe refuses keys over 255 characters.
fn check_idempotency_key(key: &str) -> Result<(), PaymentError> {
    if key.is_empty()
        || key.len() > MAX_IDEMPOTENCY_KEY_LEN
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(PaymentError::rejected(
            "invalid_idempotency_key",
            "an idempotency key is 1 to 255 visible ASCII characters",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Stripe objects as read from the wire: only the fields we use, each optional
// where localstripe (or an old API version in a webhook) may leave it out.
// ---------------------------------------------------------------------------

/// A PaymentIntent as Stripe's API answers it (its JSON), read as every
/// answer of ours is.
pub fn payment_intent_from_json(value: Value) -> Result<PaymentIntent, PaymentError> {
    serde_json::from_value::<WirePaymentIntent>(value)
        .map_err(|e| PaymentError::Invalid(e.to_string()))?
        .into_payment_intent()
}

#[derive(Deserialize)]
struct WirePaymentIntent {
    id: String,
    amount: i64,
    status: String,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    amount_received: Option<i64>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    metadata: Option<HashMap<String, Value>>,
    #[serde(default)]
    last_payment_error: Option<WireLastError>,
}

#[derive(Deserialize)]
struct WireLastError {
    #[serde(default)]
    message: Option<String>,
}

impl WirePaymentIntent {
    fn status(&self) -> Result<PaymentIntentStatus, String> {
        self.status
            .parse()
            .map_err(|()| format!("unknown PaymentIntent status {:?}", self.status))
    }

    fn into_payment_intent(self) -> Result<PaymentIntent, PaymentError> {
        self.into_parts()
            .map(|(pi, _)| pi)
            .map_err(PaymentError::Invalid)
    }

    /// The PaymentIntent, and the message of its last payment error.
    fn into_parts(self) -> Result<(PaymentIntent, Option<String>), String> {
        let status = self.status()?;
        // Stripe always sends `amount_received`; localstripe does not, and
        // there a succeeded PaymentIntent has been captured in full.
        let amount_received = self.amount_received.unwrap_or(match status {
            PaymentIntentStatus::Succeeded => self.amount,
            _ => 0,
        });
        // Stripe's amounts are never negative (nor can a payment row be).
        if self.amount < 0 || amount_received < 0 {
            return Err(format!("negative amount in PaymentIntent {:?}", self.id));
        }
        let order_id = self
            .metadata
            .as_ref()
            .and_then(|m| m.get("order_id"))
            .and_then(Value::as_str)
            .and_then(|id| id.parse().ok());
        let payment_intent = PaymentIntent {
            id: self.id,
            client_secret: self.client_secret,
            status,
            amount: Money::from_cents(self.amount),
            amount_received: Money::from_cents(amount_received),
            currency: self
                .currency
                .filter(|c| c.len() <= 3)
                .map(|c| c.to_ascii_lowercase())
                .unwrap_or_default(),
            order_id,
        };
        Ok((
            payment_intent,
            self.last_payment_error.and_then(|e| e.message),
        ))
    }
}

#[derive(Deserialize)]
struct WireRefund {
    id: String,
    amount: i64,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    payment_intent: Option<Value>,
}

impl WireRefund {
    fn into_refund(self) -> Refund {
        Refund {
            id: self.id,
            amount: Money::from_cents(self.amount),
            status: self.status.unwrap_or_else(|| "unknown".to_owned()),
        }
    }
}

#[derive(Deserialize)]
struct WireCharge {
    id: String,
    #[serde(default)]
    payment_intent: Option<Value>,
    #[serde(default)]
    amount_refunded: i64,
    #[serde(default)]
    refunded: bool,
}

/// A reference to another object: its id, or the object itself when expanded.
fn id_of(reference: Option<Value>) -> Option<String> {
    match reference? {
        Value::String(id) => Some(id),
        Value::Object(object) => object.get("id")?.as_str().map(str::to_owned),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Webhooks
// ---------------------------------------------------------------------------

/// How far a webhook's signed timestamp may be from our clock, either way
/// (Stripe's libraries use 5 minutes): an old, captured delivery cannot be
/// replayed later.
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no Stripe-Signature header")]
    MissingHeader,
    #[error("malformed Stripe-Signature header: {0}")]
    MalformedHeader(&'static str),
    #[error("Stripe-Signature header has no v1 signature")]
    NoV1Signature,
    #[error("no signature matches the payload")]
    Mismatch,
    #[error("signature timestamp is {age_secs} s away from now (tolerance {SIGNATURE_TOLERANCE_SECS} s)")]
    OutsideTolerance { age_secs: i64 },
    #[error("the webhook secret is not configured")]
    NoSecret,
}

/// A webhook delivery we refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("unreadable event: {0}")]
    Unreadable(String),
}

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `"<t>.<payload>"`: what Stripe puts in `v1`.
fn signature_mac(payload: &[u8], secret: &str, timestamp: &str) -> Option<HmacSha256> {
    // HMAC takes a key of any length, so this never fails in practice.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(payload);
    Some(mac)
}

/// Checks a `Stripe-Signature` header (`t=<unix>,v1=<hex>[,v1=…][,v0=…]`)
/// against the raw request body, as Stripe documents: one of the `v1`
/// values must be the HMAC-SHA256 of `"<t>.<body>"` with the endpoint's
/// secret (compared in constant time), and `t` within
/// [`SIGNATURE_TOLERANCE_SECS`] of `now_unix`. Other schemes are ignored.
pub fn verify_signature(
    payload: &[u8],
    header: &str,
    secret: &str,
    now_unix: i64,
) -> Result<(), SignatureError> {
    if secret.is_empty() {
        // An empty key would let anyone compute a valid signature.
        return Err(SignatureError::NoSecret);
    }
    let header = header.trim();
    if header.is_empty() {
        return Err(SignatureError::MissingHeader);
    }
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        // Stripe may add schemes or fields; items we do not know are skipped.
        let Some((key, value)) = item.split_once('=') else {
            continue;
        };
        match key.trim() {
            "t" if timestamp.is_none() => timestamp = Some(value.trim()),
            "v1" => signatures.push(value.trim()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::MalformedHeader("no timestamp"))?;
    // Digits only: the signed text is the header's `t` exactly as written.
    let signed_at: i64 = (!timestamp.is_empty()
        && timestamp.len() <= 12
        && timestamp.bytes().all(|b| b.is_ascii_digit()))
    .then(|| timestamp.parse().ok())
    .flatten()
    .ok_or(SignatureError::MalformedHeader("timestamp is not a number"))?;
    if signatures.is_empty() {
        return Err(SignatureError::NoV1Signature);
    }
    let mac = signature_mac(payload, secret, timestamp).ok_or(SignatureError::Mismatch)?;
    let matches = signatures.iter().any(|signature| {
        hex::decode(signature).is_ok_and(|bytes| mac.clone().verify_slice(&bytes).is_ok())
    });
    if !matches {
        return Err(SignatureError::Mismatch);
    }
    let age_secs = now_unix.saturating_sub(signed_at);
    if age_secs.saturating_abs() > SIGNATURE_TOLERANCE_SECS {
        return Err(SignatureError::OutsideTolerance { age_secs });
    }
    Ok(())
}

/// The `Stripe-Signature` header Stripe would send for `payload` at
/// `timestamp` (for tests and sample events).
pub fn sign(payload: &[u8], secret: &str, timestamp: i64) -> String {
    let t = timestamp.to_string();
    let signature = signature_mac(payload, secret, &t)
        .map(|mac| hex::encode(mac.finalize().into_bytes()))
        .unwrap_or_default();
    format!("t={t},v1={signature}")
}

/// A Stripe event, reduced to what the order flow acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    pub id: String,
    /// e.g. `payment_intent.succeeded`, `payment_intent.payment_failed`,
    /// `charge.refunded`.
    pub event_type: String,
    pub created: i64,
    pub object: EventObject,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventObject {
    /// The PaymentIntent (its client secret dropped), and the message of its
    /// last payment error (a declined card).
    PaymentIntent(PaymentIntent, Option<String>),
    Charge {
        id: String,
        payment_intent: Option<String>,
        amount_refunded: Money,
        refunded: bool,
    },
    Refund {
        id: String,
        payment_intent: Option<String>,
        amount: Money,
        status: String,
    },
    /// Any other object: acknowledge and ignore.
    Other,
}

#[derive(Deserialize)]
struct WireEvent {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    created: i64,
    data: WireEventData,
}

#[derive(Deserialize)]
struct WireEventData {
    object: Value,
}

/// Is this an id Stripe could have made (`evt_…`, `pi_…`, `re_…`)? Stripe's
/// ids are at most 255 visible ASCII characters, which is also what we keep
/// them in (`processed_events.event_id`, `payments.provider_ref`).
fn plausible_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_graphic())
}

/// Is this a status word as Stripe writes them (`succeeded`,
/// `requires_action`)? Recorded as is in `payments.status`.
fn plausible_status(status: &str) -> bool {
    !status.is_empty()
        && status.len() <= 30
        && status.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// Reads an event's body (verify its signature first). Tolerant: only the
/// fields we use must be there, so localstripe's old `api_version`
/// (2017-08-15) and newer Stripe versions both read. Ids and statuses that
/// Stripe could not have sent (empty, too long, not ASCII) are refused, so
/// even a signed event never makes a write fail. Never panics.
pub fn parse_event(payload: &[u8]) -> Result<WebhookEvent, String> {
    let event: WireEvent =
        serde_json::from_slice(payload).map_err(|err| format!("not a Stripe event: {err}"))?;
    if !plausible_id(&event.id) {
        return Err("not a Stripe event id".into());
    }
    let kind = event
        .data
        .object
        .get("object")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let object = event.data.object;
    let object = match kind.as_str() {
        "payment_intent" => {
            let wire: WirePaymentIntent = serde_json::from_value(object)
                .map_err(|err| format!("unreadable payment_intent: {err}"))?;
            let (mut payment_intent, last_error) = wire.into_parts()?;
            if !plausible_id(&payment_intent.id) {
                return Err("not a PaymentIntent id".into());
            }
            payment_intent.client_secret = None;
            EventObject::PaymentIntent(payment_intent, last_error)
        }
        "charge" => {
            let wire: WireCharge = serde_json::from_value(object)
                .map_err(|err| format!("unreadable charge: {err}"))?;
            EventObject::Charge {
                id: wire.id,
                payment_intent: id_of(wire.payment_intent),
                amount_refunded: Money::from_cents(wire.amount_refunded),
                refunded: wire.refunded,
            }
        }
        "refund" => {
            let wire: WireRefund = serde_json::from_value(object)
                .map_err(|err| format!("unreadable refund: {err}"))?;
            let payment_intent = id_of(wire.payment_intent.clone());
            let refund = wire.into_refund();
            if !plausible_id(&refund.id)
                || !plausible_status(&refund.status)
                || refund.amount.cents() < 0
            {
                return Err("not a refund id, status or amount".into());
            }
            EventObject::Refund {
                id: refund.id,
                payment_intent,
                amount: refund.amount,
                status: refund.status,
            }
        }
        _ => EventObject::Other,
    };
    Ok(WebhookEvent {
        id: event.id,
        event_type: event.event_type,
        created: event.created,
        object,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const NOW: i64 = 1_795_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;

    #[test]
    fn accepts_what_it_signs() {
        let header = sign(BODY, SECRET, NOW);
        assert!(header.starts_with(&format!("t={NOW},v1=")));
        assert_eq!(verify_signature(BODY, &header, SECRET, NOW), Ok(()));
        // Within the tolerance, either way.
        assert_eq!(verify_signature(BODY, &header, SECRET, NOW + 300), Ok(()));
        assert_eq!(verify_signature(BODY, &header, SECRET, NOW - 300), Ok(()));
    }

    #[test]
    fn matches_an_independently_computed_signature() {
        // Python: hmac.new(b"whsec_test_secret", b"1795000000.{}", sha256).hexdigest()
        assert_eq!(
            sign(b"{}", SECRET, NOW),
            "t=1795000000,v1=75efa4fc275c5bc35e5909773e8be54d738edd7e1aa75226c9775d66159b2548"
        );
    }

    #[test]
    fn refuses_a_tampered_body() {
        let header = sign(BODY, SECRET, NOW);
        let tampered = br#"{"id":"evt_1","type":"payment_intent.succeedeD"}"#;
        assert_eq!(
            verify_signature(tampered, &header, SECRET, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn refuses_another_secret() {
        let header = sign(BODY, "whsec_other", NOW);
        assert_eq!(
            verify_signature(BODY, &header, SECRET, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(BODY, &header, "", NOW),
            Err(SignatureError::NoSecret)
        );
    }

    #[test]
    fn refuses_stale_and_future_timestamps() {
        let stale = sign(BODY, SECRET, NOW - 301);
        assert_eq!(
            verify_signature(BODY, &stale, SECRET, NOW),
            Err(SignatureError::OutsideTolerance { age_secs: 301 })
        );
        let future = sign(BODY, SECRET, NOW + 301);
        assert_eq!(
            verify_signature(BODY, &future, SECRET, NOW),
            Err(SignatureError::OutsideTolerance { age_secs: -301 })
        );
    }

    #[test]
    fn refuses_headers_missing_parts() {
        let header = sign(BODY, SECRET, NOW);
        let (t, v1) = header.split_once(',').unwrap();
        assert_eq!(
            verify_signature(BODY, "", SECRET, NOW),
            Err(SignatureError::MissingHeader)
        );
        assert_eq!(
            verify_signature(BODY, "   ", SECRET, NOW),
            Err(SignatureError::MissingHeader)
        );
        assert_eq!(
            verify_signature(BODY, t, SECRET, NOW),
            Err(SignatureError::NoV1Signature)
        );
        assert!(matches!(
            verify_signature(BODY, v1, SECRET, NOW),
            Err(SignatureError::MalformedHeader(_))
        ));
        assert!(matches!(
            verify_signature(BODY, &format!("t=abc,{v1}"), SECRET, NOW),
            Err(SignatureError::MalformedHeader(_))
        ));
        assert!(matches!(
            verify_signature(BODY, &format!("t=,{v1}"), SECRET, NOW),
            Err(SignatureError::MalformedHeader(_))
        ));
        assert!(matches!(
            verify_signature(BODY, &format!("t=-5,{v1}"), SECRET, NOW),
            Err(SignatureError::MalformedHeader(_))
        ));
        // A v0 signature (Stripe's test scheme) is no v1.
        let v0 = v1.replacen("v1=", "v0=", 1);
        assert_eq!(
            verify_signature(BODY, &format!("{t},{v0}"), SECRET, NOW),
            Err(SignatureError::NoV1Signature)
        );
        assert_eq!(
            verify_signature(BODY, &format!("{t},v1="), SECRET, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn accepts_one_matching_v1_among_several() {
        let header = sign(BODY, SECRET, NOW);
        let (t, v1) = header.split_once(',').unwrap();
        let other = sign(BODY, "whsec_rolled", NOW);
        let other_v1 = other.split_once(',').unwrap().1;
        // Stripe sends two v1 values while a secret is being rolled, plus
        // whatever other schemes; the order does not matter.
        for h in [
            format!("{t},{other_v1},{v1}"),
            format!("{t},{v1},{other_v1}"),
            format!("{t}, v0=deadbeef, v1=zz-not-hex, {v1}"),
            format!("{v1},{t},scheme=unknown"),
        ] {
            assert_eq!(verify_signature(BODY, &h, SECRET, NOW), Ok(()), "{h}");
        }
        assert_eq!(
            verify_signature(BODY, &format!("{t},{other_v1}"), SECRET, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    /// A tiny deterministic generator: the same "random" cases on every run.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }
    }

    #[test]
    fn garbage_headers_and_bodies_never_panic() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let valid = sign(BODY, SECRET, NOW);
        let pieces = [
            "t=",
            "v1=",
            "v0=",
            ",",
            "=",
            " ",
            "1795000000",
            "-1",
            "99999999999999999999",
            "ff",
            "zz",
            "é",
            "\u{0}",
            &valid,
            "t=1795000000",
            "v1=",
            ",,",
            "==",
        ];
        for _ in 0..5_000 {
            let mut header = String::new();
            for _ in 0..(rng.next() % 8) {
                header.push_str(rng.pick(&pieces));
            }
            let len = (rng.next() % 64) as usize;
            let body: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let now = match rng.next() % 4 {
                0 => i64::MIN,
                1 => i64::MAX,
                _ => NOW,
            };
            let _ = verify_signature(&body, &header, SECRET, now);
            let _ = verify_signature(BODY, &header, SECRET, now);
            let _ = parse_event(&body);
        }
        for body in [
            &b""[..],
            b"null",
            b"[]",
            b"{}",
            b"{\"id\":1}",
            b"{\"id\":\"evt\",\"type\":\"x\",\"created\":1,\"data\":null}",
            b"{\"id\":\"evt\",\"type\":\"x\",\"created\":1,\"data\":{\"object\":null}}",
            b"{\"id\":\"evt\",\"type\":\"x\",\"created\":1,\"data\":{\"object\":{\"object\":\"payment_intent\"}}}",
            b"{\"id\":\"evt\",\"type\":\"x\",\"created\":1,\"data\":{\"object\":{\"object\":\"charge\",\"id\":5}}}",
            b"{\"id\":\"evt\",\"type\":\"x\",\"created\":1e99,\"data\":{\"object\":{}}}",
            "{\"id\":\"évt\u{0}\"}".as_bytes(),
        ] {
            let _ = parse_event(body);
        }
    }

    fn event(object: serde_json::Value, event_type: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "id": "evt_123",
            "object": "event",
            "api_version": "2017-08-15",
            "created": NOW,
            "type": event_type,
            "data": { "object": object },
        }))
        .unwrap()
    }

    #[test]
    fn reads_a_localstripe_payment_intent_event() {
        // What localstripe sends: no amount_received, a client secret.
        let body = event(
            serde_json::json!({
                "object": "payment_intent", "id": "pi_1", "amount": 2350, "currency": "eur",
                "status": "succeeded", "client_secret": "pi_1_secret_x",
                "metadata": {"order_id": "42", "order_number": "LYO-0042"},
                "capture_method": "automatic_async", "last_payment_error": null,
            }),
            "payment_intent.succeeded",
        );
        let event = parse_event(&body).unwrap();
        assert_eq!(event.id, "evt_123");
        assert_eq!(event.event_type, "payment_intent.succeeded");
        assert_eq!(event.created, NOW);
        let EventObject::PaymentIntent(pi, error) = event.object else {
            panic!("not a payment intent: {:?}", event.object);
        };
        assert_eq!(pi.id, "pi_1");
        assert_eq!(pi.status, PaymentIntentStatus::Succeeded);
        assert_eq!(pi.amount, Money::from_cents(2350));
        assert_eq!(pi.amount_received, Money::from_cents(2350));
        assert_eq!(pi.order_id, Some(OrderId(42)));
        assert_eq!(pi.client_secret, None);
        assert_eq!(error, None);
    }

    #[test]
    fn reads_a_failed_payment_charge_and_refund() {
        let failed = event(
            serde_json::json!({
                "object": "payment_intent", "id": "pi_2", "amount": 900, "amount_received": 0,
                "status": "requires_payment_method", "metadata": {},
                "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
                "some_new_field": {"nested": [1, 2, 3]},
            }),
            "payment_intent.payment_failed",
        );
        let EventObject::PaymentIntent(pi, error) = parse_event(&failed).unwrap().object else {
            panic!("not a payment intent");
        };
        assert_eq!(pi.status, PaymentIntentStatus::RequiresPaymentMethod);
        assert_eq!(pi.order_id, None);
        assert_eq!(error.as_deref(), Some("Your card was declined."));

        let charge = event(
            serde_json::json!({
                "object": "charge", "id": "ch_1", "payment_intent": "pi_1",
                "amount": 2350, "amount_refunded": 500, "refunded": false,
            }),
            "charge.refunded",
        );
        assert_eq!(
            parse_event(&charge).unwrap().object,
            EventObject::Charge {
                id: "ch_1".into(),
                payment_intent: Some("pi_1".into()),
                amount_refunded: Money::from_cents(500),
                refunded: false,
            }
        );

        let refund = event(
            serde_json::json!({
                "object": "refund", "id": "re_1", "payment_intent": {"id": "pi_1"},
                "amount": 500, "status": "succeeded",
            }),
            "refund.updated",
        );
        assert_eq!(
            parse_event(&refund).unwrap().object,
            EventObject::Refund {
                id: "re_1".into(),
                payment_intent: Some("pi_1".into()),
                amount: Money::from_cents(500),
                status: "succeeded".into(),
            }
        );

        let other = event(
            serde_json::json!({"object": "customer", "id": "cus_1"}),
            "customer.created",
        );
        assert_eq!(parse_event(&other).unwrap().object, EventObject::Other);

        let unknown_status = event(
            serde_json::json!({"object": "payment_intent", "id": "pi_3", "amount": 1, "status": "exploded"}),
            "payment_intent.created",
        );
        assert!(parse_event(&unknown_status)
            .unwrap_err()
            .contains("exploded"));
    }

    #[test]
    fn ids_and_statuses_stripe_could_not_have_sent_are_refused() {
        let intent = |id: &str| serde_json::json!({"object": "payment_intent", "id": id, "amount": 1, "status": "succeeded"});
        let with_id = |id: &str| {
            let mut body: serde_json::Value =
                serde_json::from_slice(&event(intent("pi_1"), "payment_intent.succeeded")).unwrap();
            body["id"] = id.into();
            serde_json::to_vec(&body).unwrap()
        };
        assert!(parse_event(&with_id(&"x".repeat(255))).is_ok());
        for id in ["", &"x".repeat(256), "évt_1", "evt 1", "evt_\u{0}"] {
            assert!(parse_event(&with_id(id)).is_err(), "event id {id:?}");
        }
        let long_intent = event(intent(&"p".repeat(256)), "payment_intent.succeeded");
        assert!(parse_event(&long_intent).is_err());
        let refund = |id: &str, status: &str| {
            event(
                serde_json::json!({"object": "refund", "id": id, "amount": 1, "status": status}),
                "refund.updated",
            )
        };
        assert!(parse_event(&refund("re_1", "requires_action")).is_ok());
        assert!(parse_event(&refund("re_1", &"s".repeat(31))).is_err());
        assert!(parse_event(&refund("re_1", "Succeeded!")).is_err());
        assert!(parse_event(&refund(&"r".repeat(256), "succeeded")).is_err());
    }

    #[test]
    fn negative_amounts_are_refused() {
        // Found by fuzzing: a signed event with a negative amount broke the
        // payments table's check (amount_cents >= 0), a 500.
        for (amount, received) in [(-1, 0), (900, -900), (i64::MIN, 0)] {
            let body = event(
                serde_json::json!({"object": "payment_intent", "id": "pi_1", "amount": amount,
                    "amount_received": received, "status": "succeeded"}),
                "payment_intent.succeeded",
            );
            assert!(parse_event(&body).is_err(), "{amount} {received}");
        }
        let refund = event(
            serde_json::json!({"object": "refund", "id": "re_1", "amount": -5, "status": "succeeded"}),
            "refund.updated",
        );
        assert!(parse_event(&refund).is_err());
    }

    #[test]
    fn statuses_round_trip() {
        for status in PaymentIntentStatus::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::String(status.as_str().into())
            );
        }
        assert!("paid".parse::<PaymentIntentStatus>().is_err());
    }

    #[test]
    fn ids_and_keys_are_checked_before_any_request() {
        assert!(check_id("pi_3Mtw", "pi_").is_ok());
        for bad in ["", "pi_", "ch_123", "pi_../../customers", "pi_a?b", "pi_é"] {
            assert!(check_id(bad, "pi_").is_err(), "{bad:?}");
        }
        assert!(check_idempotency_key("order-42-payment").is_ok());
        for bad in ["", "a b", "clé", &"k".repeat(256), "a\nb"] {
            assert!(check_idempotency_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let stripe = Stripe::new(
            "http://127.0.0.1:8420",
            SecretString::from("sk_test_very_secret_key"),
            SecretString::from("whsec_very_secret"),
        )
        .unwrap();
        let printed = format!("{stripe:?}");
        assert!(!printed.contains("very_secret"), "{printed}");
        let pi = PaymentIntent {
            id: "pi_1".into(),
            client_secret: Some("pi_1_secret_abc".into()),
            status: PaymentIntentStatus::RequiresPaymentMethod,
            amount: Money::from_cents(1),
            amount_received: Money::ZERO,
            currency: "eur".into(),
            order_id: None,
        };
        assert!(!format!("{pi:?}").contains("secret_abc"));
    }

    #[test]
    fn refuses_unusable_settings_without_echoing_the_key() {
        let key = || SecretString::from("sk_test_x");
        let hook = || SecretString::from("whsec_x");
        assert!(matches!(
            Stripe::new("not a url", key(), hook()),
            Err(PaymentError::Config(_))
        ));
        assert!(matches!(
            Stripe::new("ftp://stripe", key(), hook()),
            Err(PaymentError::Config(_))
        ));
        let err = Stripe::new(
            "https://api.stripe.com",
            SecretString::from("sk_live_with space"),
            hook(),
        )
        .unwrap_err();
        assert!(!err.to_string().contains("with space"));
    }
}
