//! The Stripe API client: PaymentIntents, refunds, and how its errors are
//! sorted into ours.

use super::*;

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
    pub(super) fn idempotent(&self, key: &str) -> stripe::Client {
        self.client
            .clone()
            .with_strategy(stripe::RequestStrategy::Idempotent(key.to_owned()))
    }

    /// One call, bounded by the timeout, its error sorted for the caller.
    pub(super) async fn call<T>(
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
pub(super) fn sort_error(err: stripe::StripeError, secret_key: &str) -> PaymentError {
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
pub(super) fn check_idempotency_key(key: &str) -> Result<(), PaymentError> {
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
