//! Configuration from the environment, with the operations dossier's names.
//!
//! Locally every setting has a default that points at the services `make run`
//! starts. With `ENV=PRODUCTION` there are no defaults for secrets: a function
//! refuses to start and names what is missing. Secrets are `SecretString`s, so
//! neither `Debug` nor a log line can print them.
//!
//! Production also refuses what would start but be unsafe: a token signing key
//! shorter than 32 bytes or equal to the local one, a database URL that does
//! not verify the server's certificate, a site URL that is not https (e-mails
//! carry the tracker's link with its token), and an `ENV` it does not know (a typo
//! such as `ENV=production` must not fall back to the local defaults). Refusals
//! name the setting, never its value.

use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;

/// The variables every function may read. Each function passes the ones it
/// cannot run without to [`Config::load`].
pub mod var {
    pub const ENV: &str = "ENV";
    pub const DATABASE_URL: &str = "DATABASE_URL";
    pub const DATABASE_MAX_CONNECTIONS: &str = "DATABASE_MAX_CONNECTIONS";
    pub const SECRET_KEY: &str = "SECRET_KEY";
    pub const GOOGLE_MAP_API_KEY: &str = "GOOGLE_MAP_API_KEY";
    pub const GOOGLE_GEOCODING_URL: &str = "GOOGLE_GEOCODING_URL";
    pub const STRIPE_SECRET_KEY: &str = "STRIPE_SECRET_KEY";
    pub const STRIPE_PUBLISHABLE_KEY: &str = "STRIPE_PUBLISHABLE_KEY";
    pub const STRIPE_WEBHOOK_SECRET: &str = "STRIPE_WEBHOOK_SECRET";
    pub const STRIPE_API_BASE: &str = "STRIPE_API_BASE";
    pub const KITCHEN_QUEUE_URL: &str = "KITCHEN_QUEUE_URL";
    pub const DELIVERY_QUEUE_URL: &str = "DELIVERY_QUEUE_URL";
    pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
    pub const ALLOWED_ORIGINS: &str = "ALLOWED_ORIGINS";
    pub const SMTP_URL: &str = "SMTP_URL";
    pub const SMTP_FROM: &str = "SMTP_FROM";
    pub const SITE_URL: &str = "SITE_URL";
    pub const PHOTOS_BUCKET: &str = "PHOTOS_BUCKET";
    pub const PHOTOS_URL: &str = "PHOTOS_URL";
}

/// `ENV`, a closed list: unset, `LOCAL` or `TEST` is a developer's machine or
/// a test run (the local defaults apply); `PRODUCTION` is AWS. Any other value
/// is refused, so a typo cannot start production on the local defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Local,
    Production,
}

/// The values `ENV` may take (unset means `LOCAL`).
pub const ENV_VALUES: [&str; 3] = ["LOCAL", "TEST", "PRODUCTION"];

impl Environment {
    /// `ENV`'s value (`None`: unset or blank).
    pub fn parse(value: Option<&str>) -> Result<Environment, ConfigError> {
        match value.map(str::trim) {
            None | Some("") | Some("LOCAL") | Some("TEST") => Ok(Environment::Local),
            Some("PRODUCTION") => Ok(Environment::Production),
            Some(other) => Err(ConfigError::Invalid {
                name: var::ENV,
                reason: format!(
                    "{:?} is not one of {} (unset means LOCAL)",
                    other.chars().take(40).collect::<String>(),
                    ENV_VALUES.join(", ")
                ),
            }),
        }
    }
}

/// The shortest token signing key production accepts: HS256 wants a key at
/// least as long as its 256-bit hash (RFC 7518, 3.2).
pub const MIN_SECRET_KEY_BYTES: usize = 32;

/// The local `SECRET_KEY`: published in this repository, so anyone could sign
/// tokens with it. Production refuses it.
const LOCAL_SECRET_KEY: &str = "local-development-secret-key-not-for-production";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("ENV=PRODUCTION but required setting(s) missing: {}", .0.join(", "))]
    Missing(Vec<&'static str>),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("`{0}` is refused with ENV=PRODUCTION: it is for local and test databases only")]
    NotInProduction(&'static str),
}

/// For tools that must never run against production (the demo data, tokens
/// made by hand, generated history): an error when `ENV` is `PRODUCTION`, or
/// when it is not a value [`Environment::parse`] knows.
pub fn refuse_in_production(
    what: &'static str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    match Environment::parse(lookup(var::ENV).as_deref())? {
        Environment::Local => Ok(()),
        Environment::Production => Err(ConfigError::NotInProduction(what)),
    }
}

/// Production's `SECRET_KEY`: long enough, and not the published local key.
/// The reason never quotes the key.
fn check_secret_key(key: &str) -> Result<(), ConfigError> {
    let reason = if key == LOCAL_SECRET_KEY {
        "is the local development key, which is public".to_owned()
    } else if key.len() < MIN_SECRET_KEY_BYTES {
        format!("is shorter than {MIN_SECRET_KEY_BYTES} bytes (e.g. `openssl rand -base64 48`)")
    } else {
        return Ok(());
    };
    Err(ConfigError::Invalid {
        name: var::SECRET_KEY,
        reason,
    })
}

/// Production's `DATABASE_URL` must verify the server: sqlx's
/// `ssl-mode=VERIFY_IDENTITY` (any case; the certificate's chain and its host
/// name) with a CA file (`ssl-ca=`). As sqlx reads the URL, `sslmode` and
/// `sslca` are the same keys and the last occurrence wins. The reason never
/// quotes the URL (it holds the password).
fn check_database_tls(url: &str) -> Result<(), ConfigError> {
    let query = url
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or_default())
        .unwrap_or_default();
    let (mut mode, mut ca) = (None, None);
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match &*key {
            "ssl-mode" | "sslmode" => mode = Some(value.into_owned()),
            "ssl-ca" | "sslca" => ca = Some(value.into_owned()),
            _ => {}
        }
    }
    let verified = mode.is_some_and(|m| m.eq_ignore_ascii_case("VERIFY_IDENTITY"));
    let has_ca = ca.is_some_and(|c| !c.trim().is_empty());
    if verified && has_ca {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        name: var::DATABASE_URL,
        reason: "production connects with verified TLS only: the URL needs \
                 ssl-mode=VERIFY_IDENTITY and ssl-ca=<CA bundle path> (infra/README.md)"
            .to_owned(),
    })
}

/// In an e-mail written where the site's address is not known (the
/// accounts function's): replaced by `site_url` when the notifier sends it.
pub const SITE_PLACEHOLDER: &str = "{site}";

/// Production's `SITE_URL`: `https://host/…`, nothing else (no query, no
/// fragment, no credentials, no space). Customers' e-mails link to the
/// tracker under it with the order's token, which must not travel in clear.
fn check_site_url(url: &str) -> Result<(), ConfigError> {
    let host = url
        .strip_prefix("https://")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    if host.is_empty()
        || host.contains('@')
        || url.contains(['?', '#'])
        || url.contains(char::is_whitespace)
    {
        return Err(ConfigError::Invalid {
            name: var::SITE_URL,
            reason: "expected the shop's https:// address, e.g. https://www.ocpizza.fr/".into(),
        });
    }
    Ok(())
}

/// Production's `PHOTOS_URL`: `https://host[/path]`, nothing else (no query,
/// no fragment, no credentials, no quote or space): the menu builds each
/// photo's address under it, and the storefront's Content-Security-Policy
/// allows images from its origin.
fn check_photos_url(url: &str) -> Result<(), ConfigError> {
    let host = url
        .strip_prefix("https://")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    if host.is_empty()
        || host.contains('@')
        || url.contains(['?', '#', '"', '\'', ';', '<', '>'])
        || url.contains(char::is_whitespace)
    {
        return Err(ConfigError::Invalid {
            name: var::PHOTOS_URL,
            reason: "expected the photos' https:// address (the CloudFront domain in front of the bucket)"
                .into(),
        });
    }
    Ok(())
}

/// Everything a function needs to know about its surroundings.
#[derive(Debug, Clone)]
pub struct Config {
    pub env: Environment,
    pub database_url: SecretString,
    pub database_max_connections: u32,
    pub secret_key: SecretString,
    pub google_map_api_key: Option<SecretString>,
    pub google_geocoding_url: String,
    pub stripe_secret_key: SecretString,
    pub stripe_publishable_key: String,
    pub stripe_webhook_secret: SecretString,
    pub stripe_api_base: String,
    pub kitchen_queue_url: String,
    pub delivery_queue_url: String,
    pub aws_endpoint_url: Option<String>,
    pub allowed_origins: Vec<String>,
    /// lettre's connection URL; in production it carries the SMTP credentials.
    pub smtp_url: SecretString,
    /// The `From` of customer e-mails (in production an identity SES verified).
    pub smtp_from: String,
    /// Where the shop's pages are, ending with `/` (e-mails link to
    /// `track.html` under it); empty in production where not set.
    pub site_url: String,
    /// The S3 bucket of the product photos (the photos function writes it).
    pub photos_bucket: String,
    /// The photos' public address, without a trailing `/`: a photo is
    /// `{photos_url}/products/{id}/{version}/{width}.jpg`. CloudFront's
    /// domain in production; locally the S3 server's path-style bucket URL.
    /// Empty where not set in production: the menu then shows no photo.
    pub photos_url: String,
}

/// Local defaults: the services `make run` starts on loopback. None of them
/// applies in production, where each must be set.
fn local_default(name: &str) -> Option<&'static str> {
    Some(match name {
        var::DATABASE_URL => "mysql://root@127.0.0.1:3306/ocpizza",
        var::SECRET_KEY => LOCAL_SECRET_KEY,
        var::STRIPE_SECRET_KEY => "sk_test_local",
        var::STRIPE_PUBLISHABLE_KEY => "pk_test_local",
        var::STRIPE_WEBHOOK_SECRET => "whsec_local",
        var::STRIPE_API_BASE => "http://127.0.0.1:8420",
        var::KITCHEN_QUEUE_URL => "http://127.0.0.1:9324/123456789012/ocpizza-kitchen",
        var::DELIVERY_QUEUE_URL => "http://127.0.0.1:9324/123456789012/ocpizza-delivery",
        var::ALLOWED_ORIGINS => "http://localhost:9000,http://127.0.0.1:9000",
        var::SMTP_URL => "smtp://127.0.0.1:2525",
        var::SMTP_FROM => "OC Pizza <commandes@ocpizza.test>",
        var::SITE_URL => "http://localhost:9000/lambda-url/storefront/",
        var::PHOTOS_BUCKET => "ocpizza-photos",
        var::PHOTOS_URL => "http://127.0.0.1:9324/ocpizza-photos",
        _ => return None,
    })
}

impl Config {
    /// Reads the process environment. `required` lists what this function cannot
    /// run without in production (e.g. the menu needs only `DATABASE_URL`).
    pub fn load(required: &[&'static str]) -> Result<Config, ConfigError> {
        Config::from_lookup(required, |name| std::env::var(name).ok())
    }

    /// Same as [`Config::load`] over any source of variables (tests pass a map).
    pub fn from_lookup(
        required: &[&'static str],
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let env = Environment::parse(get(var::ENV).as_deref())?;
        if env == Environment::Production {
            let missing: Vec<&'static str> = required
                .iter()
                .copied()
                .filter(|name| get(name).is_none())
                .collect();
            if !missing.is_empty() {
                return Err(ConfigError::Missing(missing));
            }
            // What is set is checked even where not required: a function
            // given a weak key or a plain-text database URL should not start.
            if let Some(key) = get(var::SECRET_KEY) {
                check_secret_key(&key)?;
            }
            if let Some(url) = get(var::DATABASE_URL) {
                check_database_tls(&url)?;
            }
            if let Some(url) = get(var::SITE_URL) {
                check_site_url(url.trim())?;
            }
            if let Some(url) = get(var::PHOTOS_URL) {
                check_photos_url(url.trim())?;
            }
        }
        // In production an unset, non-required setting stays empty: whatever
        // uses it fails loudly rather than reaching a local service.
        let value = |name: &'static str| -> String {
            get(name).unwrap_or_else(|| match env {
                Environment::Local => local_default(name).unwrap_or_default().to_owned(),
                Environment::Production => String::new(),
            })
        };
        let secret = |name: &'static str| SecretString::from(value(name));

        let database_max_connections = match get(var::DATABASE_MAX_CONNECTIONS) {
            None => 4,
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| (1..=200).contains(n))
                .ok_or_else(|| ConfigError::Invalid {
                    name: var::DATABASE_MAX_CONNECTIONS,
                    reason: "expected a number from 1 to 200".into(),
                })?,
        };

        Ok(Config {
            env,
            database_url: secret(var::DATABASE_URL),
            database_max_connections,
            secret_key: secret(var::SECRET_KEY),
            google_map_api_key: get(var::GOOGLE_MAP_API_KEY).map(SecretString::from),
            google_geocoding_url: get(var::GOOGLE_GEOCODING_URL)
                .unwrap_or_else(|| "https://maps.googleapis.com/maps/api/geocode/json".to_owned()),
            stripe_secret_key: secret(var::STRIPE_SECRET_KEY),
            stripe_publishable_key: value(var::STRIPE_PUBLISHABLE_KEY),
            stripe_webhook_secret: secret(var::STRIPE_WEBHOOK_SECRET),
            stripe_api_base: get(var::STRIPE_API_BASE).unwrap_or_else(|| match env {
                Environment::Local => local_default(var::STRIPE_API_BASE)
                    .unwrap_or_default()
                    .to_owned(),
                Environment::Production => "https://api.stripe.com".to_owned(),
            }),
            kitchen_queue_url: value(var::KITCHEN_QUEUE_URL),
            delivery_queue_url: value(var::DELIVERY_QUEUE_URL),
            aws_endpoint_url: get(var::AWS_ENDPOINT_URL),
            allowed_origins: value(var::ALLOWED_ORIGINS)
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            smtp_url: secret(var::SMTP_URL),
            smtp_from: value(var::SMTP_FROM),
            site_url: match value(var::SITE_URL).trim() {
                "" => String::new(),
                url => format!("{}/", url.trim_end_matches('/')),
            },
            photos_bucket: value(var::PHOTOS_BUCKET).trim().to_owned(),
            photos_url: value(var::PHOTOS_URL)
                .trim()
                .trim_end_matches('/')
                .to_owned(),
        })
    }

    /// Same as [`Config::load`], but a refusal ends the process with the reason
    /// on stderr — what a Lambda init should do (the error names no secret).
    pub fn load_or_exit(required: &[&'static str]) -> Config {
        match Config::load(required) {
            Ok(config) => config,
            Err(err) => {
                eprintln!("configuration error: {err}");
                std::process::exit(78); // EX_CONFIG
            }
        }
    }

    pub fn is_production(&self) -> bool {
        self.env == Environment::Production
    }

    /// The database URL without its password, for log lines.
    pub fn database_url_redacted(&self) -> String {
        let url = self.database_url.expose_secret();
        match (url.find("://"), url.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                format!("{}://***@{}", &url[..scheme], &url[at + 1..])
            }
            _ => url.to_owned(),
        }
    }
}

/// For tests: a lookup over fixed pairs.
pub fn lookup_from(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

#[cfg(test)]
mod tests;
