//! The order queue's server goes down while orders keep coming: every order
//! is still taken, and every one reaches the kitchen once it is back.
//!
//! This test runs its own SQS-compatible server (moto, as `make test`
//! installs it) so that it can hang it (SIGSTOP: connections are accepted and
//! never answered) and kill it (SIGKILL: refused), while the kitchen's
//! pollers keep polling it, as Lambda's event source mapping would.

use event_source::{InProcess, Mapping};
use http::StatusCode;
use ocpizza::platform::queue::{self, QueueName, Queues};
use ocpizza::reporting::audit::Scope;
use serde_json::json;
use sqlx::MySqlPool;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use testkit::{self as testing, request, scalar};

const BEFORE: usize = 50;
const WHILE_HUNG: usize = 100;
const WHILE_DOWN: usize = 400;
const CLIENTS: usize = 16;

/// moto's server: `MOTO_SERVER` (set by `make test`), else the project's .venv.
fn moto_server() -> PathBuf {
    let path = std::env::var_os("MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server")
        });
    assert!(
        path.exists(),
        "{} is missing: run the tests with `make test`, which installs it",
        path.display()
    );
    path
}

struct Server {
    port: u16,
    child: Child,
}

impl Server {
    fn start(port: u16) -> Server {
        let child = Command::new(moto_server())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        Server { port, child }
    }

    async fn wait_until_listening(&self) {
        let port = self.port;
        let up = testing::eventually(Duration::from_secs(60), || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        })
        .await;
        assert!(up, "moto did not start on port {port}");
    }

    fn signal(&self, signal: &str) -> bool {
        Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success())
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A stopped process is killed all the same.
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The kitchen and delivery queues on `port` (created again after a restart:
/// moto keeps nothing; SQS keeps its queues through an outage).
async fn queues_on(port: u16) -> Queues {
    let mut config = testing::config();
    config.aws_endpoint_url = Some(format!("http://127.0.0.1:{port}"));
    let base = Queues::from_config(&config).await;
    let kitchen = queue::create_with_dead_letter_queue(base.client(), "outage-kitchen")
        .await
        .expect("kitchen queue");
    let delivery = queue::create_with_dead_letter_queue(base.client(), "outage-delivery")
        .await
        .expect("delivery queue");
    Queues::new(base.client().clone(), kitchen, delivery)
}

/// `count` cash orders from `CLIENTS` clients at once; the slowest answer.
async fn place(checkout: &checkout::State, count: usize) -> Duration {
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let checkout = checkout.clone();
            tokio::spawn(async move {
                let mut slowest = Duration::ZERO;
                for i in (c..count).step_by(CLIENTS) {
                    let body = json!({
                        "pizzeria_id": 1 + (i % 5), "fulfilment": "pickup", "payment_method": "cash",
                        "lines": [{"product_id": 1 + (i % 3), "quantity": 1}],
                        "contact": {"name": "Client Panne", "phone": "0600000000",
                                    "email": format!("panne{c}-{i}@example.fr")}
                    });
                    let mut req = request("POST", "/orders", Some(body), None);
                    req.headers_mut().insert(
                        "idempotency-key",
                        uuid::Uuid::new_v4().to_string().parse().expect("key"),
                    );
                    let started = Instant::now();
                    let response = checkout::handle(&checkout, req).await;
                    slowest = slowest.max(started.elapsed());
                    assert_eq!(
                        response.status(),
                        StatusCode::CREATED,
                        "{:?}",
                        response.body()
                    );
                }
                slowest
            })
        })
        .collect();
    let mut slowest = Duration::ZERO;
    for client in clients {
        slowest = slowest.max(client.await.expect("client"));
    }
    slowest
}

async fn tickets(pool: &MySqlPool) -> i64 {
    scalar(pool, "SELECT COUNT(*) FROM kitchen_tickets").await
}

#[sqlx::test(migrations = "../../migrations")]
async fn orders_placed_while_the_queue_is_down_all_reach_the_kitchen_once(pool: MySqlPool) {
    ocpizza::samples::load_demo(&pool).await.expect("demo data");
    testing::open_all_day_with_plenty_of_stock(&pool).await;
    let port = free_port();
    let mut server = Server::start(port);
    server.wait_until_listening().await;
    let queues = queues_on(port).await;

    // The kitchen's pollers, as the event source mapping runs them; they
    // keep polling through the outage.
    let kitchen = kitchen::State {
        pool: pool.clone(),
        cors: Default::default(),
        queues: queues.clone(),
        secret_key: "outage".to_owned().into(),
    };
    let mapping = Mapping {
        wait: Duration::from_secs(1),
        ..Mapping::new(queues.url(QueueName::Kitchen), "kitchen")
    };
    let pollers: Vec<_> = (0..mapping.pollers)
        .map(|_| {
            let (client, mapping, state) =
                (queues.client().clone(), mapping.clone(), kitchen.clone());
            tokio::spawn(async move {
                let invoke = InProcess(|batch| {
                    let state = state.clone();
                    async move { kitchen::consume(&state, batch).await }
                });
                event_source::run(&client, &mapping, &invoke).await
            })
        })
        .collect();
    let config = testing::config();
    let checkout = checkout::State::new(pool.clone(), &config, queues.clone()).expect("checkout");
    let relay = outbox_relay::State {
        pool: pool.clone(),
        queues: queues.clone(),
        clock: Default::default(),
    };

    // Up: orders reach the kitchen through the request path's send.
    place(&checkout, BEFORE).await;
    let up = testing::eventually(Duration::from_secs(30), || async {
        tickets(&pool).await == BEFORE as i64
    })
    .await;
    assert!(up, "{} tickets of {BEFORE}", tickets(&pool).await);

    // Hung: every order is still taken, each answer within the send's deadline.
    assert!(server.signal("-STOP"), "moto stopped");
    let slowest = place(&checkout, WHILE_HUNG).await;
    assert!(
        slowest < queue::SEND_TIMEOUT + Duration::from_secs(3),
        "a checkout waited {slowest:?} on a hung queue"
    );
    // Down: refused at once; the relay fails cleanly and keeps everything.
    server.kill();
    place(&checkout, WHILE_DOWN).await;
    let outage = WHILE_HUNG + WHILE_DOWN;
    let report = outbox_relay::run_once(&relay, 0).await.expect("relay");
    assert_eq!(report["sent"], 0);
    assert_eq!(report["backlog"], outage);
    assert_eq!(tickets(&pool).await, BEFORE as i64);
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM orders WHERE status = 'placed'").await,
        (BEFORE + outage) as i64
    );

    // Back: the relay sends the backlog once; the pollers pick up by themselves.
    let server = Server::start(port);
    server.wait_until_listening().await;
    queues_on(port).await;
    let report = outbox_relay::run_once(&relay, 0).await.expect("relay");
    assert_eq!(report["sent"], outage, "{report}");
    assert_eq!(report["backlog"], 0);
    let total = (BEFORE + outage) as i64;
    let all = testing::eventually(Duration::from_secs(60), || async {
        tickets(&pool).await >= total
    })
    .await;
    assert!(all, "{} tickets of {total}", tickets(&pool).await);
    // Exactly one ticket per order, and nothing left to deliver.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(tickets(&pool).await, total);
    assert_eq!(
        scalar(
            &pool,
            "SELECT COUNT(*) FROM orders o JOIN kitchen_tickets t ON t.order_id = o.id AND t.status = 'waiting'"
        )
        .await,
        total
    );
    let (waiting, in_flight) = queues.depth(QueueName::Kitchen).await.expect("depth");
    assert_eq!((waiting, in_flight), (0, 0));
    for poller in pollers {
        poller.abort();
    }
    assert_eq!(
        testing::assert_reconciled(&pool, Scope::Settled).await,
        total
    );
    eprintln!(
        "queue outage: {total} orders ({outage} while the server was hung or down, \
         slowest answer while hung {slowest:?}), {total} tickets"
    );
    drop(server);
}
