//! `make bench`: the revenue report in-process against the history database
//! (1,000,000 orders over a year, made by `infra/local/bench.sh`).
//!
//! The report for the whole group, then for pizzeria 1, over the last full
//! year of the history (365 Paris days ending on the day of the newest
//! order), through the handler as the admin calls it: SQL, folding and JSON.
//! Each figure is the p50 of `RUNS` runs after one warm-up. Prints one
//! markdown row per figure; `infra/local/bench.sh` assembles the table.

use chrono::{Duration as Days, NaiveDateTime};
use chrono_tz::Europe::Paris;
use lambda_http::Body;
use ocpizza::platform::config::{var, Config};
use ocpizza::platform::http::Cors;
use std::time::{Duration, Instant};

const RUNS: usize = 9;
const SECRET: &str = "revenue-bench-secret";

async fn p50(state: &backoffice::State, token: &str, uri: &str) -> Duration {
    let mut times = Vec::with_capacity(RUNS);
    for run in 0..=RUNS {
        let req = http::Request::builder()
            .uri(uri)
            .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::Empty)
            .expect("static request");
        let started = Instant::now();
        let response = backoffice::handle(state, req).await;
        let elapsed = started.elapsed();
        assert_eq!(
            response.status(),
            200,
            "{uri} answered {}",
            response.status()
        );
        if run > 0 {
            times.push(elapsed);
        }
    }
    times.sort();
    times[times.len() / 2]
}

#[tokio::main]
async fn main() {
    let mut config = Config::load(&[var::DATABASE_URL]).expect("configuration");
    config.database_max_connections = 2;
    let pool = ocpizza::platform::db::connect_lazy(&config).expect("pool");
    let state = backoffice::State {
        pool: pool.clone(),
        cors: Cors::default(),
        secret_key: SECRET.to_owned().into(),
        clock: Default::default(),
    };
    let (orders, newest): (i64, Option<NaiveDateTime>) =
        sqlx::query_as("SELECT COUNT(*), MAX(created_at) FROM orders")
            .fetch_one(&pool)
            .await
            .expect("database reachable");
    let newest = newest.expect("the history database has orders");
    let to = newest.and_utc().with_timezone(&Paris).date_naive();
    let from = to - Days::days(364);
    let token = testkit::token_for(&pool, SECRET, "admin@ocpizza.test").await;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let method = format!(
        "in-process handler as the admin, {from} to {to} (365 Paris days), JSON; {orders} orders in history, {cores} cores, p50 of {RUNS} runs"
    );

    let group = p50(
        &state,
        &token,
        &format!("/reports/revenue?from={from}&to={to}"),
    )
    .await;
    println!(
        "| revenue report p50, the group, one year | {:.1} ms | {method} | < 200 ms |",
        group.as_secs_f64() * 1e3
    );
    let one = p50(
        &state,
        &token,
        &format!("/reports/revenue?pizzeria_id=1&from={from}&to={to}"),
    )
    .await;
    println!(
        "| revenue report p50, pizzeria 1, one year | {:.1} ms | {method} | < 200 ms |",
        one.as_secs_f64() * 1e3
    );
}
