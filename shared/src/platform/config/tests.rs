//! The tests of `config`.

use super::*;

const ALL_SECRETS: [&str; 6] = [
    var::DATABASE_URL,
    var::SECRET_KEY,
    var::GOOGLE_MAP_API_KEY,
    var::STRIPE_SECRET_KEY,
    var::STRIPE_WEBHOOK_SECRET,
    var::SMTP_URL,
];

const PRODUCTION_DATABASE_URL: &str = "mysql://app:hunter2@db.internal:3306/ocpizza\
    ?ssl-mode=VERIFY_IDENTITY&ssl-ca=/etc/pki/tls/certs/ca-bundle.crt";
const PRODUCTION_SECRET_KEY: &str = "k9Vq2xT7pLm4Wz8RbN3cYh6JfD1sGa5E0uQiOeKtXw";

fn production_with_all() -> Vec<(&'static str, &'static str)> {
    vec![
        (var::ENV, "PRODUCTION"),
        (var::DATABASE_URL, PRODUCTION_DATABASE_URL),
        (var::SECRET_KEY, PRODUCTION_SECRET_KEY),
        (var::GOOGLE_MAP_API_KEY, "AIza-test"),
        (var::STRIPE_SECRET_KEY, "sk_live_x"),
        (var::STRIPE_WEBHOOK_SECRET, "whsec_x"),
        (
            var::SMTP_URL,
            "smtps://AKIAEXAMPLE:ses-smtp-pass@email-smtp.eu-west-3.amazonaws.com",
        ),
    ]
}

#[test]
fn local_runs_on_defaults() {
    let config = Config::from_lookup(&ALL_SECRETS, lookup_from(&[])).unwrap();
    assert_eq!(config.env, Environment::Local);
    assert_eq!(
        config.database_url.expose_secret(),
        "mysql://root@127.0.0.1:3306/ocpizza"
    );
    assert_eq!(config.stripe_api_base, "http://127.0.0.1:8420");
    assert!(config.google_map_api_key.is_none());
    assert_eq!(config.smtp_url.expose_secret(), "smtp://127.0.0.1:2525");
    assert_eq!(config.smtp_from, "OC Pizza <commandes@ocpizza.test>");
}

#[test]
fn production_starts_with_every_secret() {
    let pairs = production_with_all();
    let config = Config::from_lookup(&ALL_SECRETS, lookup_from(&pairs)).unwrap();
    assert!(config.is_production());
    assert_eq!(config.stripe_api_base, "https://api.stripe.com");
}

#[test]
fn production_refuses_to_start_without_each_secret_and_names_it() {
    for missing in ALL_SECRETS {
        let pairs: Vec<_> = production_with_all()
            .into_iter()
            .filter(|(k, _)| *k != missing)
            .collect();
        let err = Config::from_lookup(&ALL_SECRETS, lookup_from(&pairs)).unwrap_err();
        assert_eq!(err, ConfigError::Missing(vec![missing]));
        assert!(err.to_string().contains(missing));
        // An empty value counts as missing.
        let mut blank = pairs.clone();
        blank.push((missing, "  "));
        assert!(Config::from_lookup(&ALL_SECRETS, lookup_from(&blank)).is_err());
    }
}

#[test]
fn production_lists_all_missing_at_once() {
    let err =
        Config::from_lookup(&ALL_SECRETS, lookup_from(&[(var::ENV, "PRODUCTION")])).unwrap_err();
    assert_eq!(err, ConfigError::Missing(ALL_SECRETS.to_vec()));
}

#[test]
fn secrets_never_print() {
    let pairs = production_with_all();
    let config = Config::from_lookup(&ALL_SECRETS, lookup_from(&pairs)).unwrap();
    let printed = format!("{config:?}");
    for (_, value) in &pairs[1..] {
        assert!(!printed.contains(value), "{value} leaked in Debug");
    }
    assert!(!printed.contains("hunter2"));
    assert!(!printed.contains("ses-smtp-pass"));
    assert_eq!(
        config.database_url_redacted(),
        "mysql://***@db.internal:3306/ocpizza\
         ?ssl-mode=VERIFY_IDENTITY&ssl-ca=/etc/pki/tls/certs/ca-bundle.crt"
    );
}

#[test]
fn bad_pool_size_is_refused() {
    let err = Config::from_lookup(&[], lookup_from(&[(var::DATABASE_MAX_CONNECTIONS, "lots")]))
        .unwrap_err();
    assert!(matches!(
        err,
        ConfigError::Invalid {
            name: var::DATABASE_MAX_CONNECTIONS,
            ..
        }
    ));
}

/// Production with every secret, `name` replaced by `value`.
fn production_with(name: &'static str, value: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut pairs: Vec<_> = production_with_all()
        .into_iter()
        .filter(|(k, _)| *k != name)
        .collect();
    pairs.push((name, value));
    pairs
}

#[test]
fn env_is_a_closed_list() {
    for (value, expected) in [
        (None, Environment::Local),
        (Some(""), Environment::Local),
        (Some("LOCAL"), Environment::Local),
        (Some("TEST"), Environment::Local),
        (Some("PRODUCTION"), Environment::Production),
    ] {
        assert_eq!(Environment::parse(value), Ok(expected), "{value:?}");
    }
    for typo in [
        "production",
        "Production",
        "PROD",
        "prod",
        "DEV",
        "staging",
        "/home/me/.shrc",
    ] {
        let err = Environment::parse(Some(typo)).unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { name: var::ENV, .. }),
            "{typo}: {err}"
        );
        assert!(err.to_string().contains("LOCAL, TEST, PRODUCTION"), "{err}");
        // Through the loader too: a typo never falls back to the local defaults.
        let err = Config::from_lookup(&[], lookup_from(&[(var::ENV, typo)])).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { name: var::ENV, .. }));
    }
    for known in ["LOCAL", "TEST"] {
        let config = Config::from_lookup(&ALL_SECRETS, lookup_from(&[(var::ENV, known)])).unwrap();
        assert_eq!(config.env, Environment::Local);
    }
}

#[test]
fn production_refuses_a_short_or_the_local_secret_key() {
    for weak in [
        "s3cr3t-production-key",           // 21 bytes
        "0123456789abcdef0123456789abcde", // 31 bytes
        "local-development-secret-key-not-for-production",
    ] {
        let pairs = production_with(var::SECRET_KEY, weak);
        let err = Config::from_lookup(&ALL_SECRETS, lookup_from(&pairs)).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    name: var::SECRET_KEY,
                    ..
                }
            ),
            "{err}"
        );
        assert!(!err.to_string().contains(weak), "the key leaked: {err}");
    }
    let pairs = production_with(var::SECRET_KEY, "0123456789abcdef0123456789abcdef"); // 32 bytes
    assert!(Config::from_lookup(&ALL_SECRETS, lookup_from(&pairs)).is_ok());
    // Checked where it is set even if this function does not require it.
    let pairs = [(var::ENV, "PRODUCTION"), (var::SECRET_KEY, "short")];
    assert!(Config::from_lookup(&[], lookup_from(&pairs)).is_err());
    // Locally the published key is the default.
    let config = Config::from_lookup(&ALL_SECRETS, lookup_from(&[])).unwrap();
    assert_eq!(config.secret_key.expose_secret(), LOCAL_SECRET_KEY);
}

#[test]
fn production_refuses_a_database_url_without_verified_tls() {
    for url in [
        "mysql://app:hunter2@db.internal:3306/ocpizza",
        "mysql://app:hunter2@db.internal:3306/ocpizza?ssl-mode=REQUIRED&ssl-ca=/ca.pem",
        "mysql://app:hunter2@db.internal:3306/ocpizza?ssl-mode=VERIFY_CA&ssl-ca=/ca.pem",
        "mysql://app:hunter2@db.internal:3306/ocpizza?ssl-mode=VERIFY_IDENTITY",
        "mysql://app:hunter2@db.internal:3306/ocpizza?ssl-mode=VERIFY_IDENTITY&ssl-ca=",
        "mysql://app:hunter2@db.internal:3306/ocpizza?ssl-ca=/ca.pem",
        // sqlx keeps the last value: the later `sslmode` disables TLS.
        "mysql://app:hunter2@db.internal:3306/ocpizza?ssl-mode=VERIFY_IDENTITY&ssl-ca=/ca.pem&sslmode=DISABLED",
        // Not a query parameter.
        "mysql://app:hunter2@db.internal:3306/ocpizza#ssl-mode=VERIFY_IDENTITY&ssl-ca=/ca.pem",
    ] {
        let pairs = production_with(var::DATABASE_URL, url);
        let err = Config::from_lookup(&ALL_SECRETS, lookup_from(&pairs)).unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { name: var::DATABASE_URL, .. }),
            "{url}: {err}"
        );
        let printed = err.to_string();
        assert!(!printed.contains("hunter2") && !printed.contains("db.internal"), "{printed}");
    }
    for url in [
        "mysql://app:hunter2@db.internal:3306/ocpizza?ssl-mode=verify_identity&ssl-ca=/ca.pem",
        "mysql://app:hunter2@db.internal:3306/ocpizza?sslmode=Verify_Identity&sslca=%2Fopt%2Frds.pem",
        "mysql://app:hunter2@db.internal:3306/ocpizza?charset=utf8mb4&ssl-ca=/ca.pem&ssl-mode=VERIFY_IDENTITY",
    ] {
        let pairs = production_with(var::DATABASE_URL, url);
        assert!(
            Config::from_lookup(&ALL_SECRETS, lookup_from(&pairs)).is_ok(),
            "{url}"
        );
    }
    // Locally a plain connection to the local server is the default.
    let local = [(
        var::DATABASE_URL,
        "mysql://root@127.0.0.1:3306/ocpizza_test",
    )];
    assert!(Config::from_lookup(&ALL_SECRETS, lookup_from(&local)).is_ok());
}

#[test]
fn production_needs_an_https_site_url() {
    let required = [var::SITE_URL];
    let err = Config::from_lookup(&required, lookup_from(&[(var::ENV, "PRODUCTION")])).unwrap_err();
    assert_eq!(err, ConfigError::Missing(vec![var::SITE_URL]));
    for bad in [
        "http://www.ocpizza.fr/",
        "www.ocpizza.fr",
        "https://",
        "https:///track",
        "https://user:pass@www.ocpizza.fr/",
        "https://www.ocpizza.fr/?utm=mail",
        "https://www.ocpizza.fr/#top",
        "https://www ocpizza.fr/",
    ] {
        let pairs = [(var::ENV, "PRODUCTION"), (var::SITE_URL, bad)];
        let err = Config::from_lookup(&required, lookup_from(&pairs)).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    name: var::SITE_URL,
                    ..
                }
            ),
            "{bad}: {err}"
        );
    }
    for (given, kept) in [
        ("https://www.ocpizza.fr/", "https://www.ocpizza.fr/"),
        (
            "https://d111111abcdef8.cloudfront.net",
            "https://d111111abcdef8.cloudfront.net/",
        ),
        (
            "https://www.ocpizza.fr/boutique",
            "https://www.ocpizza.fr/boutique/",
        ),
    ] {
        let pairs = [(var::ENV, "PRODUCTION"), (var::SITE_URL, given)];
        let config = Config::from_lookup(&required, lookup_from(&pairs)).unwrap();
        assert_eq!(config.site_url, kept);
    }
    // Locally: the storefront as `make run` serves it.
    let config = Config::from_lookup(&required, lookup_from(&[])).unwrap();
    assert_eq!(
        config.site_url,
        "http://localhost:9000/lambda-url/storefront/"
    );
}

#[test]
fn photos_are_local_by_default_and_https_in_production() {
    let config = Config::from_lookup(&[], lookup_from(&[])).unwrap();
    assert_eq!(config.photos_bucket, "ocpizza-photos");
    assert_eq!(config.photos_url, "http://127.0.0.1:9324/ocpizza-photos");
    let required = [var::PHOTOS_BUCKET, var::PHOTOS_URL];
    let err = Config::from_lookup(&required, lookup_from(&[(var::ENV, "PRODUCTION")])).unwrap_err();
    assert_eq!(
        err,
        ConfigError::Missing(vec![var::PHOTOS_BUCKET, var::PHOTOS_URL])
    );
    for bad in [
        "http://d111111abcdef8.cloudfront.net",
        "https://",
        "https://user@d111111abcdef8.cloudfront.net",
        "https://d111111abcdef8.cloudfront.net/?x=1",
        "https://d111111abcdef8.cloudfront.net/\"x",
    ] {
        let pairs = [
            (var::ENV, "PRODUCTION"),
            (var::PHOTOS_BUCKET, "ocpizza-prod-photos"),
            (var::PHOTOS_URL, bad),
        ];
        let err = Config::from_lookup(&required, lookup_from(&pairs)).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    name: var::PHOTOS_URL,
                    ..
                }
            ),
            "{bad}: {err}"
        );
    }
    let pairs = [
        (var::ENV, "PRODUCTION"),
        (var::PHOTOS_BUCKET, "ocpizza-prod-photos"),
        (var::PHOTOS_URL, "https://d111111abcdef8.cloudfront.net/"),
    ];
    let config = Config::from_lookup(&required, lookup_from(&pairs)).unwrap();
    assert_eq!(config.photos_url, "https://d111111abcdef8.cloudfront.net");
    assert_eq!(config.photos_bucket, "ocpizza-prod-photos");
}

#[test]
fn local_only_tools_are_refused_in_production() {
    assert_eq!(refuse_in_production("seed", lookup_from(&[])), Ok(()));
    assert_eq!(
        refuse_in_production("seed", lookup_from(&[(var::ENV, "TEST")])),
        Ok(())
    );
    let err = refuse_in_production("token", lookup_from(&[(var::ENV, "PRODUCTION")])).unwrap_err();
    assert_eq!(err, ConfigError::NotInProduction("token"));
    assert!(err.to_string().contains("ENV=PRODUCTION"), "{err}");
    // An unknown ENV is not taken for a local machine either.
    assert!(refuse_in_production("seed", lookup_from(&[(var::ENV, "prod")])).is_err());
}
