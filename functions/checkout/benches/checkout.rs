//! `make bench`: checkout throughput in-process against the real database
//! and the real SQS-compatible server.
//!
//! Clients place cash pickup orders of one pizza as fast as they can for a
//! fixed time. "spread": each order goes to one of the 5 open pizzerias;
//! "one pizzeria": all to pizzeria 1, whose Margherita stock is limited so it
//! sells out during the run (contention on the same stock rows, then 409s).
//! "guests counted by their limits": spread, each order from a client
//! address and a phone number of its own, as a guest through a function URL,
//! so it also pays for its key check and its two limits.
//! After each run: oversold portions (must be 0) and the ledger's consistency.

use checkout::State;
use http::StatusCode;
use lambda_http::Body;
use ocpizza::delivery::geo::Geocoder;
use ocpizza::payment::Stripe;
use ocpizza::platform::http::Cors;
use serde_json::json;
use std::time::{Duration, Instant};

const RUN_TIME: Duration = Duration::from_secs(8);
const LIMITED_PORTIONS: i64 = 2_000;

/// The `i`th order. A guest's (`guest`) comes from a client address of its
/// own with a phone number of its own, as through a function URL, so the
/// guest limits count it; the others carry no address (not limited).
fn request(pizzeria: i64, product: i64, i: usize, guest: bool) -> http::Request<Body> {
    // ARCEP's range for fiction: never anyone's number.
    let phone = if guest {
        format!("06 39 98 {:02} {:02}", (i / 100) % 100, i % 100)
    } else {
        "0600000000".to_owned()
    };
    let body = json!({
        "pizzeria_id": pizzeria, "fulfilment": "pickup", "payment_method": "cash",
        "lines": [{"product_id": product, "quantity": 1}],
        "contact": {"name": "Bench Client", "phone": phone}
    });
    let request = http::Request::builder()
        .method("POST")
        .uri("/orders")
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .body(Body::Text(body.to_string()))
        .expect("static request");
    if !guest {
        return request;
    }
    let address = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    testkit::from_client(request, &address)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

async fn scalar(pool: &sqlx::MySqlPool, sql: &str) -> i64 {
    sqlx::query_as::<_, (i64,)>(sql)
        .fetch_one(pool)
        .await
        .expect("query")
        .0
}

/// Pizzeria 1 can make exactly `LIMITED_PORTIONS` more Marinaras (on top of
/// what is already reserved), through the ledger.
async fn limit_stock(pool: &sqlx::MySqlPool) {
    let script = format!(
        "INSERT INTO stock_movements (pizzeria_id, ingredient_id, kind, on_hand_delta, reason)
           SELECT s.pizzeria_id, s.ingredient_id, 'adjustment', s.reserved + {LIMITED_PORTIONS} * r.quantity - s.on_hand, 'benchmark'
           FROM stock s JOIN recipe_lines r ON r.ingredient_id = s.ingredient_id AND r.product_id = 13 WHERE s.pizzeria_id = 1;
         UPDATE stock s JOIN recipe_lines r ON r.ingredient_id = s.ingredient_id AND r.product_id = 13
           SET s.on_hand = s.reserved + {LIMITED_PORTIONS} * r.quantity WHERE s.pizzeria_id = 1;"
    );
    sqlx::raw_sql(&script)
        .execute(pool)
        .await
        .expect("limited stock");
}

/// Three of the server's counters so far (`SHOW GLOBAL STATUS`), read
/// before and after a run: `Questions`, the statements it executed for its
/// clients (divided by the requests, what one checkout costs the database
/// in round trips, the bench's own few reads included);
/// `Innodb_row_lock_waits` and `Innodb_row_lock_time` (ms), how often and
/// how long statements waited for a row another transaction held (the hot
/// stock and summary rows).
async fn server_counters(pool: &sqlx::MySqlPool) -> [i64; 3] {
    let names = ["Questions", "Innodb_row_lock_waits", "Innodb_row_lock_time"];
    let rows = sqlx::query_as::<_, (String, String)>(
        "SHOW GLOBAL STATUS WHERE Variable_name IN \
         ('Questions', 'Innodb_row_lock_waits', 'Innodb_row_lock_time')",
    )
    .fetch_all(pool)
    .await
    .expect("the server's counters");
    names.map(|name| {
        rows.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| value.parse().ok())
            .expect("a count")
    })
}

/// The CPU one request cost the database server and this process (client
/// and handler), from their times before and after a run, and what that is
/// in sysbench transactions of the same run when bench.sh measured one.
fn cpu_per_request(
    (client_before, server_before): (f64, Option<f64>),
    (client_after, server_after): (f64, Option<f64>),
    requests: usize,
    sysbench_cpu_ms: f64,
) -> String {
    let per = |seconds: f64| seconds * 1e3 / requests.max(1) as f64;
    let client = per(client_after - client_before);
    let Some(server) = server_before.zip(server_after).map(|(b, a)| per(a - b)) else {
        return format!("CPU per request: client {client:.2} ms, server not measured");
    };
    let sysbench = if sysbench_cpu_ms > 0.0 {
        format!(
            " = {:.1} sysbench transactions",
            (server + client) / sysbench_cpu_ms
        )
    } else {
        String::new()
    };
    format!("CPU per request: server {server:.2} ms, client {client:.2} ms{sysbench}")
}

struct Outcome {
    /// Seconds from the start to the last order created: with limited stock
    /// the run goes on with 409s after the last portion is sold.
    selling: f64,
    created: usize,
    conflicts: usize,
    other: usize,
    elapsed: f64,
    latencies: Vec<Duration>,
}

async fn run(state: &State, clients: usize, spread: bool, guests: bool) -> Outcome {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let state = state.clone();
            tokio::spawn(async move {
                let (mut created, mut conflicts, mut other) = (0, 0, 0);
                let mut last_sale = 0.0_f64;
                let mut latencies = Vec::new();
                let mut i = c;
                while started.elapsed() < RUN_TIME {
                    // Spread: pizzerias 1..5, Reine (plentiful). One pizzeria:
                    // Marinara at pizzeria 1, limited, so it sells out.
                    let (pizzeria, product) = if spread {
                        (1 + (i % 5) as i64, 2)
                    } else {
                        (1, 13)
                    };
                    let t = Instant::now();
                    let response =
                        checkout::handle(&state, request(pizzeria, product, i, guests)).await;
                    latencies.push(t.elapsed());
                    match response.status() {
                        StatusCode::CREATED => {
                            created += 1;
                            last_sale = started.elapsed().as_secs_f64();
                        }
                        StatusCode::CONFLICT => conflicts += 1,
                        _ => other += 1,
                    }
                    i += clients;
                }
                (created, conflicts, other, latencies, last_sale)
            })
        })
        .collect();
    let mut outcome = Outcome {
        selling: 0.0,
        created: 0,
        conflicts: 0,
        other: 0,
        elapsed: 0.0,
        latencies: Vec::new(),
    };
    for task in tasks {
        let (created, conflicts, other, latencies, last_sale) = task.await.expect("client");
        outcome.selling = outcome.selling.max(last_sale);
        outcome.created += created;
        outcome.conflicts += conflicts;
        outcome.other += other;
        outcome.latencies.extend(latencies);
    }
    outcome.elapsed = started.elapsed().as_secs_f64();
    outcome.latencies.sort();
    outcome
}

#[tokio::main]
async fn main() {
    let ceiling: f64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0.0);
    // What one sysbench transaction of the same run cost in CPU (server and
    // client, ms), when bench.sh could measure it: an order's CPU is also
    // given in sysbench transactions, a ratio the machine's speed of the
    // minute does not move (0.5 × the ceiling is at most 2 of them).
    let sysbench_cpu_ms: f64 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0.0);
    let mut config = testkit::config();
    config.database_max_connections = 64;
    let pool = ocpizza::platform::db::connect_lazy(&config).expect("pool");
    let state = State {
        pool: pool.clone(),
        cors: Cors::default(),
        queues: ocpizza::platform::queue::Queues::from_config(&config).await,
        stripe: Stripe::from_config(&config).expect("stripe"),
        geocoder: Geocoder::from_config(&config),
        publishable_key: String::new(),
        payment_timeout: chrono::Duration::minutes(15),
        send_after_commit: true,
        secret_key: config.secret_key.clone(),
        clock: Default::default(),
        catalogue: Default::default(),
        catalog_ttl: ocpizza::catalog::catalogue::TTL,
        pizzerias: Default::default(),
    };
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    // With the SQS send in the request path, the local SQS server (moto, one
    // Python process) is the bottleneck; the same runs with sending left to
    // the outbox relay show what the database path sustains.
    // Guests run into their limits per phone and per address after a few
    // orders: here each guest's order counts against both, as in production,
    // under limits no run reaches.
    for limit in ["RATE_GUEST_ORDERS_PHONE", "RATE_GUEST_ORDERS_ADDRESS"] {
        std::env::set_var(limit, "1000000000/3600");
    }
    let mut state = state;
    for (send, spread, guests, label) in [
        (false, true, false, "spread over 5 pizzerias"),
        (false, true, true, "spread, guests counted by their limits"),
        (false, false, false, "one pizzeria, limited stock"),
        (true, true, false, "spread, SQS send in the request path"),
    ] {
        state.send_after_commit = send;
        for clients in [16, 64] {
            if (send || guests) && clients == 16 {
                continue;
            }
            if spread {
                testkit::open_all_day_with_plenty_of_stock(&pool).await;
            } else {
                limit_stock(&pool).await;
            }
            let before = server_counters(&pool).await;
            let cpu_before = testkit::cpu_seconds(&pool).await;
            let outcome = run(&state, clients, spread, guests).await;
            let requests = outcome.created + outcome.conflicts + outcome.other;
            let cpu_after = testkit::cpu_seconds(&pool).await;
            let after = server_counters(&pool).await;
            let cpu = cpu_per_request(cpu_before, cpu_after, requests, sysbench_cpu_ms);
            let statements = (after[0] - before[0]) as f64 / requests.max(1) as f64;
            let (waits, waited_ms) = (after[1] - before[1], after[2] - before[2]);
            let lock_waits = format!(
                "{:.2} row-lock waits per request, {:.1} ms each",
                waits as f64 / requests.max(1) as f64,
                waited_ms as f64 / waits.max(1) as f64
            );
            let rate = outcome.created as f64 / outcome.selling.max(0.001);
            let p99 = percentile(&outcome.latencies, 0.99).as_secs_f64() * 1e3;
            let p50 = percentile(&outcome.latencies, 0.50).as_secs_f64() * 1e3;
            let oversold = scalar(
                &pool,
                "SELECT CAST(COALESCE(SUM(GREATEST(reserved - on_hand, 0) + GREATEST(-on_hand, 0) + GREATEST(-reserved, 0)), 0) AS SIGNED) FROM stock",
            )
            .await;
            let ledger = testkit::ledger_mismatches(&pool).await;
            let ratio = if ceiling > 0.0 {
                format!(" = {:.2} × the sysbench ceiling", rate / ceiling)
            } else {
                String::new()
            };
            let goal = if spread {
                "≥ 0.5 × ceiling"
            } else {
                "≥ 200/s, 0 oversold"
            };
            println!(
                "| checkout, {label}, {clients} clients | {rate:.0} orders/s{ratio}; p50 {p50:.1} ms, p99 {p99:.1} ms | in-process handler, cash pickup{}, real MariaDB{}; {:.1} s run, last sale at {:.1} s; {} created, {} sold out (409), {} other{}; {statements:.1} statements per request; {cpu}; {lock_waits}; oversold {oversold}, ledger mismatches {ledger}; {cores} cores | {goal} |",
                if guests { " by guests, each from its own client address and phone" } else { "" },
                if send { " + send to SQS (moto) after commit" } else { ", outbox left to the relay" },
                outcome.elapsed, outcome.selling, outcome.created, outcome.conflicts, outcome.other,
                if spread { String::new() } else { format!(", {} of {LIMITED_PORTIONS} portions sold", outcome.created) },
            );
        }
    }
}
