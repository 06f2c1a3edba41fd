//! The AWS SDK's shared configuration, built once per container for every
//! AWS client of a function (SQS in `queue`, S3 in the photos function).
//!
//! HTTPS through rustls on ring, like sqlx, reqwest and lettre: the SDK's
//! default HTTPS client would bring aws-lc-rs, a second crypto stack.
//! `AWS_ENDPOINT_URL` points every client at the local server (moto serves
//! SQS and S3 on one port); locally, without AWS credentials in the
//! environment, dummy ones are used (the local server ignores them).

use crate::platform::config::Config;

/// What an AWS client is built from (for the crates that build their own).
pub use aws_config::SdkConfig;

/// The region used locally when none is configured.
pub const LOCAL_REGION: &str = "eu-west-3";

/// The SDK configuration every client of this container is built from.
pub async fn sdk_config(config: &Config) -> SdkConfig {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https);
    if let Some(endpoint) = &config.aws_endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    if !config.is_production() && std::env::var("AWS_ACCESS_KEY_ID").is_err() {
        loader = loader
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "local",
                "local",
                None,
                None,
                "ocpizza-local",
            ))
            .region(aws_config::Region::new(LOCAL_REGION));
    }
    loader.load().await
}
