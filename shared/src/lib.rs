//! OC Pizza's domain crate: what every function shares, written once.
//!
//! The rules (money, order states, roles), the SQL they need, the queue
//! envelope, configuration, and the HTTP edge every function URL goes through.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod consumer;
pub mod db;
pub mod geo;
pub mod http;
pub mod idempotency;
pub mod ids;
pub mod lambda;
pub mod metrics;
pub mod money;
pub mod money_rule;
pub mod notify;
pub mod order;
pub mod orders;
pub mod outbox;
pub mod payments;
pub mod phone;
pub mod pricing;
pub mod queue;
pub mod rate_limit;
pub mod revenue;
pub mod role;
pub mod samples;
pub mod settlement;
pub mod stock;
pub mod telemetry;

pub use config::Config;
pub use http::ApiError;
pub use money::Money;
