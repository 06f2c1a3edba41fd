//! What every domain stands on and none of them owns: the database pool,
//! configuration, the HTTP edge (problems, CORS, request ids), the Lambda
//! runtime, the AWS SDK's configuration, the queue and its outbox,
//! exactly-once consumers, idempotency keys, metrics and logs, typed ids,
//! money, the clock, rate limits, phone numbers and the copies a container
//! keeps with their version. Nothing here imports a domain.

pub mod aws;
pub mod clock;
pub mod config;
pub mod consumer;
pub mod db;
pub mod http;
pub mod idempotency;
pub mod ids;
pub mod kept;
pub mod lambda;
pub mod metrics;
pub mod money;
pub mod outbox;
pub mod phone;
pub mod queue;
pub mod rate_limit;
pub mod telemetry;
mod text_enum;
pub(crate) use text_enum::text_enum;
