//! The AWS SDK's shared configuration, built once per container for every
//! AWS client of a function (SQS in `queue`, S3 in the photos function).
//!
//! Built by hand rather than by `aws-config`: in Lambda the function's role
//! credentials and its region are in the environment (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`), which is the
//! first place `aws-config`'s default chain looks and the only one it ever
//! finds there. Its other providers (profiles, SSO, STS web identity, IMDS)
//! and their SDKs cost every binary about a megabyte for nothing.
//!
//! HTTPS through rustls on ring, like sqlx, reqwest and lettre: the SDK's
//! default HTTPS client would bring aws-lc-rs, a second crypto stack.
//! `AWS_ENDPOINT_URL` points every client at the local server (moto serves
//! SQS and S3 on one port); locally, without AWS credentials in the
//! environment, dummy ones are used (the local server ignores them).

use crate::platform::config::Config;
use aws_sdk_sqs::config::retry::RetryConfig;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_async::time::SystemTimeSource;

/// What an AWS client is built from (for the crates that build their own).
pub use aws_types::SdkConfig;

/// The region used locally when none is configured.
pub const LOCAL_REGION: &str = "eu-west-3";

/// The SDK configuration every client of this container is built from: the
/// SDK's recommended defaults (standard retries, its timeouts, stalled
/// stream protection) for the latest behaviour version, the region and the
/// credentials from the environment.
pub async fn sdk_config(config: &Config) -> SdkConfig {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let credentials = match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => Some(Credentials::new(
            id,
            secret,
            env("AWS_SESSION_TOKEN"),
            None,
            "environment",
        )),
        _ if !config.is_production() => Some(Credentials::new(
            "local",
            "local",
            None,
            None,
            "ocpizza-local",
        )),
        // In AWS without credentials every call fails, saying so.
        _ => None,
    };
    let region = env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| (!config.is_production()).then(|| LOCAL_REGION.to_owned()));
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(https)
        .sleep_impl(TokioSleep::new())
        .time_source(SystemTimeSource::new())
        .retry_config(RetryConfig::standard())
        .region(region.map(Region::new));
    if let Some(credentials) = credentials {
        builder = builder.credentials_provider(SharedCredentialsProvider::new(credentials));
    }
    if let Some(endpoint) = &config.aws_endpoint_url {
        builder = builder.endpoint_url(endpoint);
    }
    builder.build()
}
