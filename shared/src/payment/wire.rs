//! Stripe objects as read from the wire: only the fields we use, each
//! optional where localstripe (or an old API version in a webhook) may leave
//! it out.

use super::*;

/// A PaymentIntent as Stripe's API answers it (its JSON), read as every
/// answer of ours is.
pub fn payment_intent_from_json(value: Value) -> Result<PaymentIntent, PaymentError> {
    serde_json::from_value::<WirePaymentIntent>(value)
        .map_err(|e| PaymentError::Invalid(e.to_string()))?
        .into_payment_intent()
}

#[derive(Deserialize)]
pub(super) struct WirePaymentIntent {
    pub(super) id: String,
    pub(super) amount: i64,
    pub(super) status: String,
    #[serde(default)]
    pub(super) client_secret: Option<String>,
    #[serde(default)]
    pub(super) amount_received: Option<i64>,
    #[serde(default)]
    pub(super) currency: Option<String>,
    #[serde(default)]
    pub(super) metadata: Option<HashMap<String, Value>>,
    #[serde(default)]
    pub(super) last_payment_error: Option<WireLastError>,
}

#[derive(Deserialize)]
pub(super) struct WireLastError {
    #[serde(default)]
    pub(super) message: Option<String>,
}

impl WirePaymentIntent {
    pub(super) fn status(&self) -> Result<PaymentIntentStatus, String> {
        self.status
            .parse()
            .map_err(|()| format!("unknown PaymentIntent status {:?}", self.status))
    }

    pub(super) fn into_payment_intent(self) -> Result<PaymentIntent, PaymentError> {
        self.into_parts()
            .map(|(pi, _)| pi)
            .map_err(PaymentError::Invalid)
    }

    /// The PaymentIntent, and the message of its last payment error.
    pub(super) fn into_parts(self) -> Result<(PaymentIntent, Option<String>), String> {
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
pub(super) struct WireRefund {
    pub(super) id: String,
    pub(super) amount: i64,
    #[serde(default)]
    pub(super) status: Option<String>,
    #[serde(default)]
    pub(super) payment_intent: Option<Value>,
}

impl WireRefund {
    pub(super) fn into_refund(self) -> Refund {
        Refund {
            id: self.id,
            amount: Money::from_cents(self.amount),
            status: self.status.unwrap_or_else(|| "unknown".to_owned()),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct WireCharge {
    pub(super) id: String,
    #[serde(default)]
    pub(super) payment_intent: Option<Value>,
    #[serde(default)]
    pub(super) amount_refunded: i64,
    #[serde(default)]
    pub(super) refunded: bool,
}

/// A reference to another object: its id, or the object itself when expanded.
pub(super) fn id_of(reference: Option<Value>) -> Option<String> {
    match reference? {
        Value::String(id) => Some(id),
        Value::Object(object) => object.get("id")?.as_str().map(str::to_owned),
        _ => None,
    }
}
