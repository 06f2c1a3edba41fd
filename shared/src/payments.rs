//! TEMPORARY STUB (not committed): replaced by the real module.
#![allow(dead_code, unused_variables)]
use crate::config::Config;
use crate::ids::OrderId;
use crate::money::Money;
use secrecy::SecretString;
#[derive(Clone, Debug)]
pub struct Stripe {
    secret: SecretString,
}
pub struct NewPaymentIntent<'a> {
    pub amount: Money,
    pub order_id: OrderId,
    pub order_number: &'a str,
    pub idempotency_key: &'a str,
    pub receipt_email: Option<&'a str>,
}
#[derive(Clone, Debug)]
pub struct PaymentIntent {
    pub id: String,
    pub client_secret: Option<String>,
    pub status: PaymentIntentStatus,
    pub amount: Money,
    pub amount_received: Money,
    pub order_id: Option<OrderId>,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    pub fn as_str(&self) -> &'static str {
        "x"
    }
}
pub struct Refund {
    pub id: String,
    pub amount: Money,
    pub status: String,
}
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("u")]
    Unavailable(String),
    #[error("r")]
    Rejected {
        code: Option<String>,
        message: String,
    },
    #[error("i")]
    Invalid(String),
}
impl Stripe {
    pub fn from_config(config: &Config) -> Result<Stripe, PaymentError> {
        Ok(Stripe {
            secret: config.stripe_webhook_secret.clone(),
        })
    }
    pub async fn create_payment_intent(
        &self,
        new: &NewPaymentIntent<'_>,
    ) -> Result<PaymentIntent, PaymentError> {
        todo!()
    }
    pub async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent, PaymentError> {
        todo!()
    }
    pub async fn cancel_payment_intent(&self, id: &str) -> Result<PaymentIntent, PaymentError> {
        todo!()
    }
    pub async fn refund(
        &self,
        payment_intent_id: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<Refund, PaymentError> {
        todo!()
    }
    pub fn webhook_secret(&self) -> &SecretString {
        &self.secret
    }
}
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("x")]
    X,
}
pub fn verify_signature(
    payload: &[u8],
    header: &str,
    secret: &str,
    now_unix: i64,
) -> Result<(), SignatureError> {
    todo!()
}
pub fn sign(payload: &[u8], secret: &str, timestamp: i64) -> String {
    todo!()
}
pub fn parse_event(payload: &[u8]) -> Result<WebhookEvent, String> {
    todo!()
}
pub struct WebhookEvent {
    pub id: String,
    pub event_type: String,
    pub created: i64,
    pub object: EventObject,
}
pub enum EventObject {
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
    Other,
}

pub mod testing {
    pub async fn pay_with_test_card(_: &str, _: &str, _: &str, _: &str) -> Result<(), String> {
        todo!()
    }
}
