//! `make bench`: the menu handler in-process against the real database.
//!
//! Latency: one client, sequential requests (p50, p99). Throughput: several
//! concurrent clients for a fixed time (requests/s, and p99 under that load).
//! Each figure is the median of `ROUNDS` rounds. Prints one markdown row per
//! figure; `infra/local/bench.sh` assembles the table.

use lambda_http::Body;
use menu::State;
use ocpizza::platform::config::{var, Config};
use ocpizza::platform::http::Cors;
use std::time::{Duration, Instant};

const ROUNDS: usize = 3;
const SEQUENTIAL: usize = 5_000;
const CLIENTS: usize = 8;
const LOAD_TIME: Duration = Duration::from_secs(4);

fn request(pizzeria: u32) -> http::Request<Body> {
    http::Request::builder()
        .uri(format!("/pizzerias/{pizzeria}/menu"))
        .body(Body::Empty)
        .expect("static request")
}

async fn one(state: &State, pizzeria: u32) -> Duration {
    let started = Instant::now();
    let response = menu::handle(state, request(pizzeria)).await;
    let elapsed = started.elapsed();
    assert_eq!(
        response.status(),
        200,
        "menu answered {}",
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
    let label = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "demo data".into());
    let mut config = Config::load(&[var::DATABASE_URL]).expect("configuration");
    config.database_max_connections = CLIENTS as u32;
    let state = State::new(
        ocpizza::platform::db::connect_lazy(&config).expect("pool"),
        Cors::default(),
    );
    let (orders,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders")
        .fetch_one(&state.pool)
        .await
        .expect("database reachable");
    for i in 0..1_000 {
        one(&state, 1 + i % 5).await;
    }

    let (mut p50s, mut p99s, mut rates, mut load_p99s) = (vec![], vec![], vec![], vec![]);
    for _ in 0..ROUNDS {
        let mut times: Vec<Duration> = Vec::with_capacity(SEQUENTIAL);
        for i in 0..SEQUENTIAL {
            times.push(one(&state, 1 + (i % 5) as u32).await);
        }
        times.sort();
        p50s.push(percentile(&times, 0.50).as_secs_f64() * 1e3);
        p99s.push(percentile(&times, 0.99).as_secs_f64() * 1e3);

        let started = Instant::now();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let state = state.clone();
                tokio::spawn(async move {
                    let mut times = Vec::new();
                    let mut i = c;
                    while started.elapsed() < LOAD_TIME {
                        times.push(one(&state, 1 + (i % 5) as u32).await);
                        i += 1;
                    }
                    times
                })
            })
            .collect();
        let mut all = Vec::new();
        for client in clients {
            all.extend(client.await.expect("client task"));
        }
        let elapsed = started.elapsed().as_secs_f64();
        rates.push(all.len() as f64 / elapsed);
        all.sort();
        load_p99s.push(percentile(&all, 0.99).as_secs_f64() * 1e3);
    }

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let method = format!(
        "in-process handler, {orders} orders in history, {cores} cores, median of {ROUNDS}"
    );
    println!("| menu p50, {label} | {:.3} ms | 1 client, {SEQUENTIAL} sequential requests; {method} | p99 < 2 ms |", median(p50s));
    println!("| menu p99, {label} | {:.3} ms | 1 client, {SEQUENTIAL} sequential requests; {method} | < 2 ms |", median(p99s));
    println!("| menu throughput, {label} | {:.0} req/s | {CLIENTS} concurrent clients for {}s; {method} | ≥ 5,000 req/s |", median(rates), LOAD_TIME.as_secs());
    println!(
        "| menu p99 under load, {label} | {:.3} ms | {CLIENTS} concurrent clients; {method} | — |",
        median(load_p99s)
    );
}
