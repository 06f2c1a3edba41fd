//! A forgotten password, end to end: asked through the accounts function,
//! the e-mail sent by the notifier to the real local SMTP server and read
//! back from its maildir, its link used once to choose a new password. And
//! as a hostile visitor would try it: an address that has no account (the
//! same answer), the link used twice, an old link after a new one, a link
//! past its hour, a flood of requests, the link left in the database.

use chrono::{TimeDelta, Utc};
use http::StatusCode;
use ocpizza::identity::accounts::reset;
use ocpizza::order::notify::LINK_REMOVED;
use ocpizza::reporting::audit::Scope;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::collections::BTreeSet;
use testkit::mail::emails_to;
use testkit::{self as testing, json_of, request, scalar};

fn state(pool: &MySqlPool) -> accounts::State {
    ocpizza::platform::telemetry::init();
    accounts::State {
        pool: pool.clone(),
        cors: Default::default(),
        secret_key: "reset-test-secret-of-32-bytes-long!".to_owned().into(),
    }
}

async fn call(state: &accounts::State, uri: &str, body: Value) -> (StatusCode, Value) {
    let response = accounts::handle(state, request("POST", uri, Some(body), None)).await;
    if let Some(wrong) = testing::problem_violation(&response) {
        panic!("{uri}: {wrong}");
    }
    (response.status(), json_of(&response))
}

/// A customer account of its own, with this password.
async fn customer(state: &accounts::State, password: &str) -> String {
    let email = format!("oubli.{}@example.fr", uuid::Uuid::new_v4().simple());
    let body = json!({"email": email, "password": password, "name": "Camille Roux"});
    let (status, answer) = call(state, "/accounts", body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    email
}

async fn sign_in(state: &accounts::State, email: &str, password: &str) -> StatusCode {
    call(
        state,
        "/sessions",
        json!({"email": email, "password": password}),
    )
    .await
    .0
}

/// The token of the one reset link e-mailed to `email` that is not in
/// `known` yet (the maildir lists e-mails in no order), added to it.
fn new_token(email: &str, known: &mut BTreeSet<String>) -> String {
    let config = testing::config();
    let link = format!("{}set-password.html#token=", config.site_url);
    let mut fresh: Vec<String> = emails_to(email)
        .iter()
        .map(|mail| {
            assert_eq!(mail.subject, "Choisir un nouveau mot de passe OC Pizza");
            let (_, rest) = mail
                .body
                .split_once(&link)
                .unwrap_or_else(|| panic!("no link {link} in {}", mail.body));
            rest.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .filter(|token| !known.contains(token))
        .collect();
    assert_eq!(fresh.len(), 1, "one new link for {email}: {fresh:?}");
    let token = fresh.pop().unwrap_or_default();
    known.insert(token.clone());
    token
}

#[sqlx::test(migrator = "ocpizza::platform::db::MIGRATOR")]
async fn a_forgotten_password_is_chosen_again_from_a_link_that_works_once(pool: MySqlPool) {
    let state = state(&pool);
    let email = customer(&state, "ancien mot de passe").await;

    // The same answer for an account and for an address that has none.
    let (status, asked) = call(
        &state,
        "/password-resets",
        json!({"email": email.to_uppercase()}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{asked}");
    let nobody = format!("personne.{}@example.fr", uuid::Uuid::new_v4().simple());
    let (status, same) = call(&state, "/password-resets", json!({"email": nobody})).await;
    assert_eq!((status, &same), (StatusCode::ACCEPTED, &asked));
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM notifications").await, 1);

    // The notifier sends it; the database keeps neither the link nor its token.
    testkit::mail::send_pending(&pool).await;
    assert!(emails_to(&nobody).is_empty());
    let token = new_token(&email, &mut BTreeSet::new());
    assert_eq!(token.len(), 64, "{token}");
    let kept: String = sqlx::query_scalar("SELECT body FROM notifications")
        .fetch_one(&pool)
        .await
        .expect("the notification");
    assert_eq!(kept, LINK_REMOVED);
    assert_eq!(
        scalar(&pool, &format!("SELECT COUNT(*) FROM password_links WHERE token_sha256 = UNHEX(SHA2('{token}', 256))")).await,
        1
    );
    assert_eq!(
        scalar(
            &pool,
            &format!("SELECT COUNT(*) FROM password_links WHERE HEX(token_sha256) = '{token}'")
        )
        .await,
        0
    );

    // Used once: a session with the new password; the old one is gone.
    let new = json!({"token": token, "new_password": "un nouveau mot de passe"});
    let (status, session) = call(&state, "/password-links", new.clone()).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert!(session["token"].is_string());
    assert_eq!(
        sign_in(&state, &email, "un nouveau mot de passe").await,
        StatusCode::OK
    );
    assert_eq!(
        sign_in(&state, &email, "ancien mot de passe").await,
        StatusCode::UNAUTHORIZED
    );
    let (status, again) = call(&state, "/password-links", new).await;
    assert_eq!(status, StatusCode::GONE, "{again}");
    testing::assert_reconciled(&pool, Scope::Settled).await;
}

#[sqlx::test(migrator = "ocpizza::platform::db::MIGRATOR")]
async fn an_older_link_or_one_past_its_hour_sets_nothing(pool: MySqlPool) {
    let state = state(&pool);
    let email = customer(&state, "ancien mot de passe").await;
    // Asked 61 minutes ago: expired.
    let earlier = Utc::now() - TimeDelta::minutes(reset::RESET_MINUTES + 1);
    reset::request(&pool, &email, earlier).await.expect("asked");
    testkit::mail::send_pending(&pool).await;
    let mut known = BTreeSet::new();
    let expired = new_token(&email, &mut known);
    let body = json!({"token": expired, "new_password": "un nouveau mot de passe"});
    assert_eq!(
        call(&state, "/password-links", body).await.0,
        StatusCode::GONE
    );

    // Two asked now: only the newest works.
    let mut sent = Vec::new();
    for _ in 0..2 {
        let (status, _) = call(&state, "/password-resets", json!({"email": email})).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        testkit::mail::send_pending(&pool).await;
        sent.push(new_token(&email, &mut known));
    }
    let (older, newest) = (sent[0].clone(), sent[1].clone());
    assert_ne!(older, newest);
    let body = json!({"token": older, "new_password": "un nouveau mot de passe"});
    assert_eq!(
        call(&state, "/password-links", body).await.0,
        StatusCode::GONE
    );
    assert_eq!(
        sign_in(&state, &email, "ancien mot de passe").await,
        StatusCode::OK
    );
    let body = json!({"token": newest, "new_password": "un nouveau mot de passe"});
    assert_eq!(
        call(&state, "/password-links", body).await.0,
        StatusCode::OK
    );

    // Three an hour for one address; a fourth floods nobody's inbox: 429,
    // nothing queued.
    let third = call(&state, "/password-resets", json!({"email": email})).await;
    assert_eq!(third.0, StatusCode::ACCEPTED);
    let (status, problem) = call(&state, "/password-resets", json!({"email": email})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{problem}");
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM notifications").await, 4);
    // Nonsense is a 4xx, never a 500.
    for bad in [
        json!({}),
        json!({"email": ""}),
        json!({"email": 5}),
        json!({"email": "a@b.fr", "extra": 1}),
    ] {
        let (status, _) = call(&state, "/password-resets", bad.clone()).await;
        assert!(status.is_client_error(), "{bad}: {status}");
    }
}
