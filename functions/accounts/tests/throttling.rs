//! Guesses sent all at once: the throttle counts each attempt before its
//! password is checked, so thirty parallel guesses get at most
//! `MAX_FAILURES` password checks, whether the e-mail has an account or not.
//!
//! Alone in its test binary: it counts the process's password checks
//! (`accounts::password_checks`), which another test running alongside
//! would add to.

use http::StatusCode;
use ocpizza::identity::accounts::{password_checks, MAX_FAILURES};
use serde_json::json;
use sqlx::MySqlPool;
use testkit::{json_of, request};

const GUESSES: usize = 30;

/// `GUESSES` wrong passwords for `email` at once; the statuses.
async fn guess_at_once(state: &accounts::State, email: &str) -> Vec<StatusCode> {
    let mut guesses = tokio::task::JoinSet::new();
    for n in 0..GUESSES {
        let state = state.clone();
        let body = json!({"email": email, "password": format!("guess-number-{n}")});
        guesses.spawn(async move {
            let response =
                accounts::handle(&state, request("POST", "/sessions", Some(body), None)).await;
            let status = response.status();
            assert!(
                matches!(
                    status,
                    StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS
                ),
                "{status}: {}",
                json_of(&response)
            );
            status
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = guesses.join_next().await {
        statuses.push(status.unwrap());
    }
    statuses
}

#[sqlx::test(migrations = "../../migrations")]
async fn thirty_parallel_guesses_get_at_most_five_password_checks(pool: MySqlPool) {
    ocpizza::platform::telemetry::init();
    ocpizza::samples::load_demo(&pool).await.unwrap();
    let state = accounts::State {
        pool: pool.clone(),
        cors: Default::default(),
        secret_key: "throttling-test-secret".to_owned().into(),
    };
    let budget = usize::try_from(MAX_FAILURES).unwrap();
    for email in ["client.1@ocpizza.test", "nobody@ocpizza.test"] {
        let before = password_checks();
        let statuses = guess_at_once(&state, email).await;
        let checks = usize::try_from(password_checks() - before).unwrap();
        let refused = statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count();
        let checked = statuses.len() - refused;
        println!("{email}: {GUESSES} parallel guesses, {checked} answered 401, {refused} answered 429, {checks} password checks");
        assert!(checked <= budget, "{email}: {checked} guesses were checked");
        assert!(checks <= budget, "{email}: {checks} password checks");
        // Nothing lost either: the budget is spent, exactly.
        assert_eq!(checked, budget, "{email}");
        assert_eq!(checks, budget, "{email}");
    }
    // The account is locked: the right password waits too, unchecked.
    let before = password_checks();
    let right = json!({"email": "client.1@ocpizza.test", "password": "ocpizza-demo"});
    let response = accounts::handle(&state, request("POST", "/sessions", Some(right), None)).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(password_checks(), before);
}
