//! A new deployment's first admin: created on an empty database without any
//! password, who sets one with the one-time link and signs in; attacked as
//! someone who finds the link later, guesses it, or bootstraps again to take
//! over a running system.

use chrono::{TimeDelta, Utc};
use http::StatusCode;
use ocpizza::identity::accounts::links::{self, BootstrapError, NO_PASSWORD};
use serde_json::{json, Value};
use sqlx::MySqlPool;
use testkit::{json_of, request, scalar};

const SITE: &str = "https://pizza.example.fr/";

fn state(pool: &MySqlPool) -> accounts::State {
    ocpizza::platform::telemetry::init();
    accounts::State {
        pool: pool.clone(),
        cors: Default::default(),
        secret_key: "bootstrap-test-secret-of-32-bytes!!".to_owned().into(),
    }
}

async fn call(state: &accounts::State, uri: &str, body: Value) -> (StatusCode, Value) {
    let response = accounts::handle(state, request("POST", uri, Some(body), None)).await;
    (response.status(), json_of(&response))
}

/// The token of a link, as the page reads it from `#token=`.
fn token_of(link: &str) -> String {
    link.split_once("#token=")
        .map(|(_, t)| t.to_owned())
        .unwrap_or_default()
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_first_admin_sets_a_password_once_then_signs_in(pool: MySqlPool) {
    let state = state(&pool);
    let made = links::bootstrap_admin(
        &pool,
        " Chef@Example.FR ",
        "Claire Martin",
        SITE,
        Utc::now(),
    )
    .await
    .unwrap_or_else(|e| panic!("bootstrap: {e}"));
    assert_eq!(made.user.email, "chef@example.fr");
    assert_eq!(made.user.role.as_str(), "admin");
    assert!(
        made.link
            .starts_with("https://pizza.example.fr/set-password.html#token="),
        "{}",
        made.link
    );
    // The link is lost before use: the same command, the same e-mail, gives
    // a new one and voids the first.
    let lost = token_of(&made.link);
    let made = links::bootstrap_admin(&pool, "chef@example.fr", "Claire Martin", SITE, Utc::now())
        .await
        .unwrap_or_else(|e| panic!("bootstrap again: {e}"));
    let token = token_of(&made.link);
    assert_ne!(token, lost);
    assert_eq!(token.len(), 64, "256 random bits, in hex");
    let (status, _) = call(
        &state,
        "/password-links",
        json!({"token": lost, "new_password": "une phrase de passe solide"}),
    )
    .await;
    assert_eq!(status, StatusCode::GONE, "the lost link is void");
    // Only the token's hash is stored: its SHA-256 is there, the token is not.
    assert_eq!(
        scalar(
            &pool,
            &format!("SELECT COUNT(*) FROM password_links WHERE token_sha256 = UNHEX('{token}')")
        )
        .await,
        0
    );
    assert_eq!(
        scalar(
            &pool,
            &format!(
                "SELECT COUNT(*) FROM password_links WHERE token_sha256 = UNHEX(SHA2('{token}', 256)) \
                 AND used_at IS NULL"
            )
        )
        .await,
        1
    );

    // Before the link: no password signs in, not even the marker itself.
    for password in [NO_PASSWORD, "", "un mot de passe assez long"] {
        let (status, _) = call(
            &state,
            "/sessions",
            json!({"email": "chef@example.fr", "password": password}),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{password:?}");
    }
    // A guessed token, or one a character off.
    let mut off = token.clone();
    off.replace_range(0..1, if off.starts_with('0') { "1" } else { "0" });
    for guess in ["", "0", off.as_str()] {
        let (status, answer) = call(
            &state,
            "/password-links",
            json!({"token": guess, "new_password": "une phrase de passe solide"}),
        )
        .await;
        assert_eq!(status, StatusCode::GONE, "{answer}");
        assert_eq!(answer["type"], "/problems/link-invalid");
    }
    // A password the policy refuses costs nothing: the link still works.
    let (status, answer) = call(
        &state,
        "/password-links",
        json!({"token": token, "new_password": "court"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["errors"][0]["field"], "new_password");
    let (status, session) = call(
        &state,
        "/password-links",
        json!({"token": token, "new_password": "une phrase de passe solide"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["user"]["role"], "admin");
    assert!(session["token"].as_str().is_some_and(|t| !t.is_empty()));
    // Used up: the same link again (someone reading it later) is refused,
    // and the password it set stays.
    let (status, _) = call(
        &state,
        "/password-links",
        json!({"token": token, "new_password": "le mot de passe du voleur"}),
    )
    .await;
    assert_eq!(status, StatusCode::GONE);
    let (status, signed_in) = call(
        &state,
        "/sessions",
        json!({"email": "chef@example.fr", "password": "une phrase de passe solide"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");

    // A second bootstrap cannot make another admin on a running system.
    let again =
        links::bootstrap_admin(&pool, "intrus@example.fr", "Intrus", SITE, Utc::now()).await;
    assert!(
        matches!(again, Err(BootstrapError::AdminExists(ref who)) if who == "chef@example.fr"),
        "{again:?}"
    );
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM users").await, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_link_expires_and_two_bootstraps_at_once_make_one_admin(pool: MySqlPool) {
    let state = state(&pool);
    // Made 25 hours ago: a day has passed.
    let old = links::bootstrap_admin(
        &pool,
        "admin@example.fr",
        "Admin",
        SITE,
        Utc::now() - TimeDelta::hours(25),
    )
    .await
    .unwrap_or_else(|e| panic!("bootstrap: {e}"));
    let (status, answer) = call(
        &state,
        "/password-links",
        json!({"token": token_of(&old.link), "new_password": "une phrase de passe solide"}),
    )
    .await;
    assert_eq!(status, StatusCode::GONE, "{answer}");

    // On another empty system, two people bootstrap at the same moment.
    sqlx::query("DELETE FROM password_links")
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sqlx::query("DELETE FROM users")
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (a, b) = tokio::join!(
        links::bootstrap_admin(&pool, "a@example.fr", "A", SITE, Utc::now()),
        links::bootstrap_admin(&pool, "b@example.fr", "B", SITE, Utc::now()),
    );
    assert!(a.is_ok() != b.is_ok(), "one of the two: {a:?} {b:?}");
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM users WHERE role = 'admin'").await,
        1
    );
    // A malformed address is refused before anything is written.
    let bad = links::bootstrap_admin(&pool, "pas-une-adresse", "X", SITE, Utc::now()).await;
    assert!(bad.is_err());
}
