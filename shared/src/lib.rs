//! OC Pizza's domain crate: the rules every function shares, written once.
//!
//! Organised by domain over a `platform` layer that imports none of them:
//! `identity` (accounts, sessions, roles, access) ← `catalog` and `stock` ←
//! `order` (states, pricing, lifecycle, money rule, e-mails) ← `payment`
//! (Stripe, settlement, refunds), `kitchen` and `delivery` ← `exceptions`
//! (what goes wrong after the kitchen starts) and `reporting` (revenue,
//! reconciliation). Each domain owns its tables and their SQL and
//! returns its own errors; the HTTP edge (`platform::http`) maps them to
//! problems.

pub mod catalog;
pub mod delivery;
pub mod exceptions;
pub mod identity;
pub mod kitchen;
pub mod order;
pub mod payment;
pub mod platform;
pub mod reporting;
pub mod samples;
pub mod stock;

pub use platform::config::Config;
pub use platform::http::ApiError;
pub use platform::money::Money;
