//! What a browser and Stripe.js do on localstripe, for tests (of this crate
//! and of the functions): pay a PaymentIntent with a test card, and register
//! a webhook endpoint. This speaks localstripe's API and its `/_config`
//! extension directly, with reqwest.

use chrono::Datelike;
use ocpizza::payment::{self, PaymentError, PaymentIntent};
use serde::Deserialize;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);

/// The events the order flow listens to.
pub const WEBHOOK_EVENTS: [&str; 4] = [
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.refunded",
];

#[derive(Deserialize)]
struct HasId {
    id: String,
}

#[derive(Deserialize)]
struct Customer {
    id: String,
    default_source: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

fn client() -> Result<reqwest::Client, PaymentError> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|err| PaymentError::Config(err.to_string()))
}

async fn post<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    base: &str,
    secret_key: &str,
    path: &str,
    form: &[(&str, &str)],
) -> Result<T, PaymentError> {
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let response = client
        .post(url)
        .bearer_auth(secret_key)
        .form(form)
        .send()
        .await
        .map_err(|err| PaymentError::Unavailable(err.without_url().to_string()))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|err| PaymentError::Unavailable(err.without_url().to_string()))?;
    if !status.is_success() {
        let (code, message) = match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) => (e.error.code, e.error.message.unwrap_or_default()),
            Err(_) => (None, String::from_utf8_lossy(&body).into_owned()),
        };
        let message = format!("{path}: HTTP {status}: {message}");
        return Err(if status.is_server_error() {
            PaymentError::Unavailable(message)
        } else {
            PaymentError::Rejected { code, message }
        });
    }
    serde_json::from_slice(&body).map_err(|err| PaymentError::Invalid(format!("{path}: {err}")))
}

/// Pays `payment_intent_id` with a test card (`4242 4242 4242 4242`
/// succeeds, `4000 0027 6000 3184` asks for 3-D Secure, `4000 0000 0000
/// 0002` is declined → `Rejected`), the way our checkout page does:
///
/// 1. `POST /v1/tokens` with `card[...]` → `tok_…` (Stripe.js `createToken`);
/// 2. `POST /v1/customers` with `source=tok_…` → the customer's `default_source`, a `card_…`;
/// 3. `POST /v1/payment_intents/{id}` with `customer` and `payment_method=card_…`;
/// 4. `POST /v1/payment_intents/{id}/confirm` with no parameters.
///
/// Why not confirm with `payment_method` in one call: localstripe answers
/// that with HTTP 500 "Not implemented", refuses `payment_method_data`,
/// and cannot make a PaymentMethod from a token. Attaching first and then
/// confirming without parameters works there and on Stripe.
pub async fn pay_with_test_card(
    base: &str,
    secret_key: &str,
    payment_intent_id: &str,
    card_number: &str,
) -> Result<PaymentIntent, PaymentError> {
    payment::check_id(payment_intent_id, "pi_")?;
    let client = client()?;
    let token = card_token(base, secret_key, card_number).await?;
    let customer: Customer = post(
        &client,
        base,
        secret_key,
        "/v1/customers",
        &[("source", token.as_str())],
    )
    .await?;
    let card = customer
        .default_source
        .ok_or_else(|| PaymentError::Invalid("the new customer has no default card".into()))?;
    let path = format!("/v1/payment_intents/{payment_intent_id}");
    let _: HasId = post(
        &client,
        base,
        secret_key,
        &path,
        &[
            ("customer", customer.id.as_str()),
            ("payment_method", card.as_str()),
        ],
    )
    .await?;
    let confirmed: serde_json::Value =
        post(&client, base, secret_key, &format!("{path}/confirm"), &[]).await?;
    payment::payment_intent_from_json(confirmed)
}

/// What Stripe.js `createToken` makes of a test card in the browser: a
/// `tok_…` for `POST /orders/{id}/payment/card`.
pub async fn card_token(
    base: &str,
    secret_key: &str,
    card_number: &str,
) -> Result<String, PaymentError> {
    let number: String = card_number.chars().filter(|c| !c.is_whitespace()).collect();
    let exp_year = (chrono::Utc::now().year() + 3).to_string();
    let token: HasId = post(
        &client()?,
        base,
        secret_key,
        "/v1/tokens",
        &[
            ("card[number]", number.as_str()),
            ("card[exp_month]", "12"),
            ("card[exp_year]", exp_year.as_str()),
            ("card[cvc]", "123"),
        ],
    )
    .await?;
    Ok(token.id)
}

/// Registers (or replaces) localstripe's webhook `name`: it will POST
/// [`WEBHOOK_EVENTS`] to `url`, signed with `secret`. localstripe keeps
/// webhooks until it restarts and has no way to remove one.
pub async fn register_webhook(
    base: &str,
    name: &str,
    url: &str,
    secret: &str,
) -> Result<(), PaymentError> {
    let mut form = vec![("url", url), ("secret", secret)];
    form.extend(WEBHOOK_EVENTS.iter().map(|event| ("events[]", *event)));
    let endpoint = format!("{}/_config/webhooks/{name}", base.trim_end_matches('/'));
    let response = client()?
        .post(endpoint)
        .form(&form)
        .send()
        .await
        .map_err(|err| PaymentError::Unavailable(err.without_url().to_string()))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(PaymentError::Rejected {
            code: None,
            message: format!(
                "localstripe refused the webhook: HTTP {}",
                response.status()
            ),
        })
    }
}
