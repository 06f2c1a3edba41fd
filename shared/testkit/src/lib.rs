//! Tests only: the support every test and benchmark shares (fresh queues,
//! the local configuration, small queries, the checks every answer must
//! pass), the fuzzers' generators ([`fuzz`]), localstripe's test cards and
//! webhooks ([`stripe`]), and every HTTP function in one [`World`] on one
//! database, each answer checked against the API's contract,
//! `docs/openapi.json` ([`Contract`]). The production crates never depend on
//! it.
//!
//! [`World::call`] sends a request to a function's handler as its function
//! URL would, then checks the answer against the operation the document
//! gives for that function, method and path: the status must be documented
//! (a success explicitly; an error at least by the `default` problem), the
//! content type must be one the document lists for it, and the JSON body
//! must match its schema. A request body that succeeds must match the
//! documented request schema too. Every operation checked is remembered, so a
//! test can prove it reached each one.

mod contract;
pub mod fuzz;
pub mod mail;
pub mod stripe;
mod support;

pub use contract::Contract;
pub use support::*;

use http::StatusCode;
use ocpizza::platform::http::Request;
use serde_json::Value;
use sqlx::MySqlPool;

/// The secret the world's session tokens are signed with.
pub const SECRET: &str = "testkit-secret";

/// The HTTP functions, named as in the document's paths (`/<function>/…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Menu,
    Geocode,
    Checkout,
    Orders,
    Kitchen,
    Delivery,
    Accounts,
    Backoffice,
    StripeWebhook,
    Storefront,
    Photos,
}

impl Function {
    pub fn name(self) -> &'static str {
        match self {
            Function::Menu => "menu",
            Function::Geocode => "geocode",
            Function::Checkout => "checkout",
            Function::Orders => "orders",
            Function::Kitchen => "kitchen",
            Function::Delivery => "delivery",
            Function::Accounts => "accounts",
            Function::Backoffice => "backoffice",
            Function::StripeWebhook => "stripe-webhook",
            Function::Storefront => "storefront",
            Function::Photos => "photos",
        }
    }
}

/// Every HTTP function on one database (the demo data loaded), their
/// session tokens signed with [`SECRET`], and the contract they answer by.
pub struct World {
    pub pool: MySqlPool,
    pub menu: menu::State,
    pub geocode: geocode::State,
    pub checkout: checkout::State,
    pub orders: orders::State,
    pub kitchen: kitchen::State,
    pub delivery: delivery::State,
    pub accounts: accounts::State,
    pub backoffice: backoffice::State,
    pub webhook: stripe_webhook::State,
    pub storefront: storefront::State,
    /// On a bucket of the world's own (the menu's `PHOTOS_URL` is its URL).
    pub photos: photos::State,
    pub contract: Contract,
}

impl World {
    /// The demo data on `pool`, and every function on it. Geocoding knows the
    /// demo addresses only; the geocode function's clock is `now`.
    pub async fn demo(pool: &MySqlPool, now: chrono::DateTime<chrono::Utc>) -> World {
        ocpizza::platform::telemetry::init();
        ocpizza::samples::load_demo(pool)
            .await
            .unwrap_or_else(|e| panic!("demo data: {e}"));
        let mut config = config();
        config.secret_key = SECRET.to_owned().into();
        let queues = fresh_queues().await;
        let secret = || -> secrecy::SecretString { SECRET.to_owned().into() };
        let stripe = || {
            ocpizza::payment::Stripe::from_config(&config)
                .unwrap_or_else(|e| panic!("Stripe client: {e}"))
        };
        let lookup = |_: &str| None::<String>;
        let (store, photos_url) = fresh_photos_bucket().await;
        let mut menu = menu::State::new(pool.clone(), Default::default());
        menu.photos_url = photos_url.clone();
        let site = storefront::Site::from_env(&config, lookup)
            .unwrap_or_else(|e| panic!("storefront: {e}"));
        World {
            pool: pool.clone(),
            menu,
            geocode: geocode::State {
                pool: pool.clone(),
                cors: Default::default(),
                geocoder: ocpizza::delivery::geo::Geocoder::from_config(&config),
                clock: ocpizza::platform::clock::Clock::Fixed(now),
            },
            checkout: checkout::State::new(pool.clone(), &config, queues.clone())
                .unwrap_or_else(|e| panic!("checkout: {e}")),
            orders: orders::State {
                clock: Default::default(),
                pool: pool.clone(),
                cors: Default::default(),
                queues: queues.clone(),
                stripe: stripe(),
                secret_key: secret(),
            },
            kitchen: kitchen::State {
                pool: pool.clone(),
                cors: Default::default(),
                queues: queues.clone(),
                secret_key: secret(),
            },
            delivery: delivery::State {
                pool: pool.clone(),
                cors: Default::default(),
                queues: queues.clone(),
                secret_key: secret(),
            },
            accounts: accounts::State {
                pool: pool.clone(),
                cors: Default::default(),
                secret_key: secret(),
            },
            backoffice: backoffice::State {
                pool: pool.clone(),
                cors: Default::default(),
                secret_key: secret(),
                clock: Default::default(),
            },
            webhook: stripe_webhook::State {
                pool: pool.clone(),
                queues: queues.clone(),
                stripe: stripe(),
            },
            storefront: storefront::State::new(site, Default::default()),
            photos: photos::State {
                pool: pool.clone(),
                cors: Default::default(),
                secret_key: secret(),
                store,
                photos_url,
            },
            contract: Contract::load(),
        }
    }

    /// A session token of a demo account.
    pub async fn token(&self, email: &str) -> String {
        token_for(&self.pool, SECRET, email).await
    }

    /// Pays a web card order as its customer does in the page: a test card
    /// tokenised by localstripe, `payment/card`, then `payment/refresh` (the
    /// payment's answer, as a late webhook would bring it). The order as
    /// `payment/refresh` answers it, after checking both calls succeeded.
    pub async fn pay_with_test_card(&self, order: i64, token: &str) -> Value {
        let config = config();
        let card = stripe::card_token(&config.stripe_api_base, "sk_test_local", "4242424242424242")
            .await
            .unwrap_or_else(|e| panic!("localstripe makes a token: {e}"));
        let uri = format!("/orders/{order}/payment/card?token={token}");
        let body = serde_json::json!({ "card_token": card });
        let (status, paid) = self
            .call(Function::Orders, "POST", &uri, Some(body), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{paid}");
        let uri = format!("/orders/{order}/payment/refresh?token={token}");
        let (status, paid) = self.call(Function::Orders, "POST", &uri, None, None).await;
        assert_eq!(status, StatusCode::OK, "{paid}");
        paid
    }

    /// Applies what waits on the kitchen queue, then on the delivery queue,
    /// as the consumers do.
    pub async fn run_consumers(&self) {
        let quiet = std::time::Duration::from_millis(300);
        let queues = &self.checkout.queues;
        for envelope in drain(queues, ocpizza::platform::queue::QueueName::Kitchen, quiet).await {
            kitchen::apply(&self.pool, envelope)
                .await
                .unwrap_or_else(|e| panic!("kitchen: {e:?}"));
        }
        for envelope in drain(queues, ocpizza::platform::queue::QueueName::Delivery, quiet).await {
            delivery::apply(&self.pool, envelope)
                .await
                .unwrap_or_else(|e| panic!("delivery: {e:?}"));
        }
    }

    /// Pizzeria 1's pizzaiolo moves the ticket along from the display
    /// (`start`, then `ready`), and the consumers run.
    pub async fn cook(&self, order: i64, steps: &[&str]) {
        let chef = self.token("pizzaiolo.1@ocpizza.test").await;
        for step in steps {
            let uri = format!("/tickets/{order}/{step}");
            let (status, answer) = self
                .call(Function::Kitchen, "POST", &uri, None, Some(&chef))
                .await;
            assert_eq!(status, StatusCode::OK, "{step}: {answer}");
        }
        self.run_consumers().await;
    }

    /// A photo sent to `PUT /products/{product}/photo` as the manager screen
    /// sends it (the bytes as the body, as `content_type`), its answer
    /// checked against the contract; the status and the JSON body.
    pub async fn put_photo(
        &self,
        product: i64,
        content_type: &str,
        bytes: Vec<u8>,
        bearer: Option<&str>,
    ) -> (StatusCode, Value) {
        let uri = format!("/products/{product}/photo");
        let req = binary_request("PUT", &uri, content_type, bytes, bearer);
        let response = self.send(Function::Photos, req, None).await;
        (response.status(), json_of(&response))
    }

    /// A JSON request (with an `Idempotency-Key`), its answer checked against
    /// the contract; the status and the JSON body (`null` when none).
    pub async fn call(
        &self,
        function: Function,
        method: &str,
        uri: &str,
        body: Option<Value>,
        bearer: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = request(method, uri, body.clone(), bearer);
        let key = uuid::Uuid::new_v4().to_string();
        if let Ok(key) = key.parse() {
            req.headers_mut().insert("idempotency-key", key);
        }
        let response = self.send(function, req, body.as_ref()).await;
        (response.status(), json_of(&response))
    }

    /// [`World::call`] that must succeed (2xx); its JSON body.
    pub async fn ok(
        &self,
        function: Function,
        method: &str,
        uri: &str,
        body: Option<Value>,
        bearer: &str,
    ) -> Value {
        let (status, answer) = self.call(function, method, uri, body, Some(bearer)).await;
        assert!(status.is_success(), "{method} {uri}: {status} {answer}");
        answer
    }

    /// Any request (headers of the caller's choosing), its answer checked
    /// against the contract. `sent` is its JSON body, if any.
    pub async fn send(
        &self,
        function: Function,
        req: Request,
        sent: Option<&Value>,
    ) -> ocpizza::platform::http::Response {
        let method = req.method().as_str().to_owned();
        let uri = req.uri().to_string();
        let response = match function {
            Function::Menu => menu::handle(&self.menu, req).await,
            Function::Geocode => geocode::handle(&self.geocode, req).await,
            Function::Checkout => checkout::handle(&self.checkout, req).await,
            Function::Orders => orders::handle(&self.orders, req).await,
            Function::Kitchen => kitchen::handle(&self.kitchen, req).await,
            Function::Delivery => delivery::handle(&self.delivery, req).await,
            Function::Accounts => accounts::handle(&self.accounts, req).await,
            Function::Backoffice => backoffice::handle(&self.backoffice, req).await,
            Function::StripeWebhook => stripe_webhook::handle(&self.webhook, req).await,
            Function::Storefront => storefront::handle(&self.storefront, req).await,
            // On the heap: the upload's future is large, and a debug build
            // copies every arm's future through the test thread's stack.
            Function::Photos => Box::pin(photos::handle(&self.photos, req)).await,
        };
        if let Err(difference) = self
            .contract
            .check(function, &method, &uri, sent, &response)
        {
            panic!("{difference}");
        }
        response
    }
}
