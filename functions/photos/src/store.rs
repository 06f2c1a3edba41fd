//! The photos bucket: S3 in production, the local S3 server (moto, at
//! `AWS_ENDPOINT_URL`) on a developer's machine and in the tests, through
//! the same client.
//!
//! Files are written once under a fresh version and never overwritten, so
//! they carry a year's `immutable` cache: CloudFront and browsers keep them
//! as long as they like, and a new photo is a new address.

use aws_sdk_s3::primitives::ByteStream;
use futures_util::future::join_all;
use ocpizza::platform::aws::SdkConfig;
use ocpizza::platform::config::Config;
use std::time::Duration;

/// What every photo file is served with.
pub const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// The longest one S3 call may take, the SDK's retries included: past it
/// the upload has failed and the product keeps its photo.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
#[error("S3: {0}")]
pub struct StoreError(String);

/// The bucket and the client that writes it.
#[derive(Debug, Clone)]
pub struct Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl Store {
    /// The client, built once per container on the shared AWS settings
    /// (`ocpizza::platform::aws`). Towards a local server (an endpoint is
    /// set) buckets are addressed by path, `http://host:port/bucket/key`,
    /// as `PHOTOS_URL` names them there.
    pub async fn from_config(config: &Config) -> Store {
        let shared = ocpizza::platform::aws::sdk_config(config).await;
        Store::new(
            client(&shared, config.aws_endpoint_url.is_some()),
            &config.photos_bucket,
        )
    }

    pub fn new(client: aws_sdk_s3::Client, bucket: &str) -> Store {
        Store {
            client,
            bucket: bucket.to_owned(),
        }
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Stores one JPEG at `key`.
    pub async fn put(&self, key: &str, jpeg: Vec<u8>) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("image/jpeg")
            .cache_control(CACHE_CONTROL)
            .body(ByteStream::from(jpeg))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| StoreError(aws_sdk_s3::error::DisplayErrorContext(e).to_string()))
    }

    /// Removes the files at `keys`, each on its own (one failing does not
    /// keep the others); the keys that could not be removed.
    pub async fn delete(&self, keys: &[String]) -> Vec<String> {
        let results = join_all(keys.iter().map(|key| async move {
            let done = self
                .client
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await;
            match done {
                Ok(_) => None,
                Err(e) => {
                    tracing::warn!(key = %key, error = %aws_sdk_s3::error::DisplayErrorContext(e), "photo file not removed");
                    Some(key.clone())
                }
            }
        }))
        .await;
        results.into_iter().flatten().collect()
    }
}

/// An S3 client on `shared` with this function's deadline; `path_style`
/// towards a local server.
pub fn client(shared: &SdkConfig, path_style: bool) -> aws_sdk_s3::Client {
    let timeouts = aws_sdk_s3::config::timeout::TimeoutConfig::builder()
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    let config = aws_sdk_s3::config::Builder::from(shared)
        .force_path_style(path_style)
        .timeout_config(timeouts)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}
