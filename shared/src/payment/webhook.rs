//! Webhooks: the `Stripe-Signature` scheme and the events Stripe sends.

use super::*;

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

pub(super) type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `"<t>.<payload>"`: what Stripe puts in `v1`.
pub(super) fn signature_mac(payload: &[u8], secret: &str, timestamp: &str) -> Option<HmacSha256> {
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
pub(super) struct WireEvent {
    pub(super) id: String,
    #[serde(rename = "type")]
    pub(super) event_type: String,
    pub(super) created: i64,
    pub(super) data: WireEventData,
}

#[derive(Deserialize)]
pub(super) struct WireEventData {
    pub(super) object: Value,
}

/// Is this an id Stripe could have made (`evt_…`, `pi_…`, `re_…`)? Stripe's
/// ids are at most 255 visible ASCII characters, which is also what we keep
/// them in (`processed_events.event_id`, `payments.provider_ref`).
pub(super) fn plausible_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_graphic())
}

/// Is this a status word as Stripe writes them (`succeeded`,
/// `requires_action`)? Recorded as is in `payments.status`.
pub(super) fn plausible_status(status: &str) -> bool {
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
