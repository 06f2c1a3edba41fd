//! `make bench`: sign-in (`POST /sessions`) in-process against the real
//! database, where the cost is argon2id by design.
//!
//! Latency: one client, sequential sign-ins (p50, p99). Throughput: 1, 2 and
//! 8 concurrent clients for a fixed time (sign-ins/s). Each figure is the
//! median of `ROUNDS` rounds. The demo accounts' hashes (m=65536, t=3, p=4)
//! are upgraded by a first sign-in of each before measuring, so every figure
//! is at our own parameters. Prints one markdown row.

use accounts::State;
use lambda_http::Body;
use ocpizza::identity::accounts::argon2_description;
use ocpizza::platform::config::{var, Config};
use ocpizza::platform::http::Cors;
use std::time::{Duration, Instant};

const ROUNDS: usize = 3;
const SEQUENTIAL: usize = 100;
const CLIENTS: [usize; 3] = [1, 2, 8];
const LOAD_TIME: Duration = Duration::from_secs(3);
/// The demo's customers and pizzeria staff: enough distinct accounts.
const ACCOUNTS: [&str; 10] = [
    "client.1@ocpizza.test",
    "client.2@ocpizza.test",
    "client.3@ocpizza.test",
    "client.4@ocpizza.test",
    "client.5@ocpizza.test",
    "cashier.1@ocpizza.test",
    "cashier.2@ocpizza.test",
    "pizzaiolo.1@ocpizza.test",
    "pizzaiolo.2@ocpizza.test",
    "courier.1@ocpizza.test",
];

fn request(email: &str) -> http::Request<Body> {
    let body = serde_json::json!({"email": email, "password": "ocpizza-demo"}).to_string();
    http::Request::builder()
        .method("POST")
        .uri("/sessions")
        .header("content-type", "application/json")
        .body(Body::Text(body))
        .expect("static request")
}

async fn one(state: &State, i: usize) -> Duration {
    let started = Instant::now();
    let response = accounts::handle(state, request(ACCOUNTS[i % ACCOUNTS.len()])).await;
    let elapsed = started.elapsed();
    assert_eq!(
        response.status(),
        200,
        "sign-in answered {}",
        response.status()
    );
    elapsed
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let mut config = Config::load(&[var::DATABASE_URL]).expect("configuration");
    config.database_max_connections = 8;
    let state = State {
        pool: ocpizza::platform::db::connect_lazy(&config).expect("pool"),
        cors: Cors::default(),
        secret_key: "bench-secret".to_owned().into(),
    };
    // Upgrade the demo hashes, then warm up.
    for i in 0..2 * ACCOUNTS.len() {
        one(&state, i).await;
    }

    let (mut p50s, mut p99s) = (vec![], vec![]);
    let mut rates: Vec<Vec<f64>> = vec![vec![]; CLIENTS.len()];
    for _ in 0..ROUNDS {
        let mut times: Vec<Duration> = Vec::with_capacity(SEQUENTIAL);
        for i in 0..SEQUENTIAL {
            times.push(one(&state, i).await);
        }
        times.sort();
        p50s.push(percentile(&times, 0.50).as_secs_f64() * 1e3);
        p99s.push(percentile(&times, 0.99).as_secs_f64() * 1e3);

        for (k, clients) in CLIENTS.into_iter().enumerate() {
            let started = Instant::now();
            let tasks: Vec<_> = (0..clients)
                .map(|c| {
                    let state = state.clone();
                    tokio::spawn(async move {
                        let mut done = 0usize;
                        let mut i = c;
                        while started.elapsed() < LOAD_TIME {
                            one(&state, i).await;
                            done += 1;
                            i += clients;
                        }
                        done
                    })
                })
                .collect();
            let mut done = 0;
            for task in tasks {
                done += task.await.expect("client task");
            }
            rates[k].push(done as f64 / started.elapsed().as_secs_f64());
        }
    }

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let clients: Vec<String> = CLIENTS.iter().map(usize::to_string).collect();
    let rates: Vec<String> = rates
        .into_iter()
        .map(|r| format!("{:.0}", median(r)))
        .collect();
    println!(
        "| login p50 / p99; throughput with {} clients ({}) | {:.1} ms / {:.1} ms; {} logins/s | `POST /sessions` in-process, 1 client × {SEQUENTIAL} sequential, then {LOAD_TIME:?} per client count; {cores} cores, median of {ROUNDS} | — |",
        clients.join(" / "),
        argon2_description(),
        median(p50s),
        median(p99s),
        rates.join(" / "),
    );
}
