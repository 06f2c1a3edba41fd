//! The database crashes under load and comes back: checkout answers a clean
//! 503 problem while it is gone, leaves nothing half-written, recovers by
//! itself, and a retry with the same Idempotency-Key makes each order once.
//!
//! The test runs a MariaDB server of its own (the machine's `mariadbd`, a
//! fresh data directory) so that it can kill it (SIGKILL: a crash, recovered
//! by InnoDB at restart) without disturbing the other tests.

use http::{header, StatusCode};
use ocpizza::reporting::audit::Scope;
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::{self as testing, request, scalar};

const CLIENTS: usize = 8;

fn program(names: &[&str]) -> PathBuf {
    for name in names {
        for dir in [
            "/usr/sbin",
            "/usr/bin",
            "/usr/local/bin",
            "/usr/local/mysql/bin",
        ] {
            let path = Path::new(dir).join(name);
            if path.exists() {
                return path;
            }
        }
    }
    panic!("{names:?} not found: this test runs a MariaDB server of its own (apt-get install mariadb-server)")
}

/// A MariaDB server on its own port and data directory.
struct Database {
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Database {
    fn install() -> Database {
        let dir = std::env::temp_dir().join(format!("ocpizza-outage-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("data directory");
        let status = Command::new(program(&["mariadb-install-db", "mysql_install_db"]))
            .arg("--no-defaults")
            .arg(format!("--datadir={}", dir.join("data").display()))
            .args([
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("mariadb-install-db");
        assert!(status.success(), "mariadb-install-db failed");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        Database {
            dir,
            port,
            child: None,
        }
    }

    async fn start(&mut self) {
        let child = Command::new(program(&["mariadbd", "mysqld"]))
            .arg("--no-defaults")
            .arg(format!("--datadir={}", self.dir.join("data").display()))
            .arg(format!("--socket={}", self.dir.join("sock").display()))
            .arg(format!("--pid-file={}", self.dir.join("pid").display()))
            .arg(format!(
                "--log-error={}",
                self.dir.join("error.log").display()
            ))
            .arg(format!("--port={}", self.port))
            .args([
                "--bind-address=127.0.0.1",
                "--user=root",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=64M",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mariadbd starts");
        self.child = Some(child);
        let url = self.url("mysql");
        let up = testing::eventually(Duration::from_secs(60), || {
            let url = url.clone();
            async move {
                use sqlx::Connection;
                sqlx::MySqlConnection::connect(&url).await.is_ok()
            }
        })
        .await;
        assert!(up, "mariadbd did not start (see {})", self.dir.display());
    }

    /// A crash: no shutdown, InnoDB recovers at the next start.
    fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self, database: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        self.crash();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What each request got: its key, its body, its status and problem type.
#[derive(Debug, Clone)]
struct Attempt {
    key: String,
    body: Value,
    status: StatusCode,
    problem: Option<String>,
    took: Duration,
}

async fn order(
    checkout: &checkout::State,
    key: &str,
    body: &Value,
) -> (StatusCode, Option<String>) {
    let mut req = request("POST", "/orders", Some(body.clone()), None);
    req.headers_mut()
        .insert("idempotency-key", key.parse().expect("key"));
    let response = checkout::handle(checkout, req).await;
    let status = response.status();
    if status.is_success() {
        return (status, None);
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        content_type,
        "application/problem+json",
        "{status} without a problem: {:?}",
        response.body()
    );
    let problem: Value = serde_json::from_slice(response.body().as_ref()).expect("problem JSON");
    (status, problem["type"].as_str().map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_crash_under_load_gives_clean_503s_and_every_order_once_after_retries() {
    let mut database = Database::install();
    database.start().await;
    {
        let admin = MySqlPool::connect(&database.url("mysql"))
            .await
            .expect("server");
        sqlx::query("CREATE DATABASE ocpizza")
            .execute(&admin)
            .await
            .expect("database");
    }
    let mut config = testing::config();
    config.database_url = database.url("ocpizza").into();
    config.database_max_connections = 4;
    // The pool exactly as the function builds it (lazy, 3 s acquire timeout).
    let pool = ocpizza::platform::db::connect_lazy(&config).expect("pool");
    ocpizza::platform::db::MIGRATOR
        .run(&pool)
        .await
        .expect("migrations");
    ocpizza::samples::load_demo(&pool).await.expect("demo data");
    testing::open_all_day_with_plenty_of_stock(&pool).await;
    let checkout =
        checkout::State::new(pool.clone(), &config, testing::fresh_queues().await).expect("state");

    // Clients order without pause; each request has its own key.
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (checkout, stop) = (checkout.clone(), stop.clone());
            tokio::spawn(async move {
                let mut attempts = Vec::new();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let key = uuid::Uuid::new_v4().to_string();
                    let body = json!({
                        "pizzeria_id": 1 + (c % 5), "fulfilment": "pickup", "payment_method": "cash",
                        "lines": [{"product_id": 1 + (i % 3), "quantity": 1 + (i % 2)}],
                        "contact": {"name": "Client Panne", "phone": "0600000000",
                                    "email": format!("base{c}-{i}@example.fr")}
                    });
                    let started = Instant::now();
                    let (status, problem) = order(&checkout, &key, &body).await;
                    attempts.push(Attempt {
                        key,
                        body,
                        status,
                        problem,
                        took: started.elapsed(),
                    });
                    if status != StatusCode::CREATED {
                        // A client backs off a little before its next order.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
                attempts
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(2)).await;
    database.crash();
    tokio::time::sleep(Duration::from_secs(5)).await;
    database.start().await;
    // The same state, the same pool: it must find the database again by itself.
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    let mut attempts = Vec::new();
    let mut last_of_each = Vec::new();
    for client in clients {
        let mine = client.await.expect("client");
        last_of_each.push(mine.last().map(|a| a.status));
        attempts.extend(mine);
    }

    let failed: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.status != StatusCode::CREATED)
        .collect();
    let created = attempts.len() - failed.len();
    assert!(created > 0, "no order went through");
    assert!(
        !failed.is_empty(),
        "the crash was never seen: {} orders",
        attempts.len()
    );
    for a in &failed {
        assert_eq!(
            (a.status, a.problem.as_deref()),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some("/problems/unavailable")
            ),
            "{a:?}"
        );
        // The pool's acquire timeout bounds every answer: nothing hangs.
        assert!(a.took < Duration::from_secs(10), "{a:?}");
    }
    assert!(
        last_of_each.iter().all(|s| *s == Some(StatusCode::CREATED)),
        "every client orders again after the restart: {last_of_each:?}"
    );

    // Each refused order, retried with its key: made once, whatever the
    // crash left (rolled back, or committed with its answer lost).
    for a in &failed {
        let (status, _) = order(&checkout, &a.key, &a.body).await;
        assert_eq!(status, StatusCode::CREATED, "retry of {}", a.key);
        let (again, _) = order(&checkout, &a.key, &a.body).await;
        assert_eq!(again, StatusCode::CREATED, "replay of {}", a.key);
    }
    let total = attempts.len() as i64;
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM orders").await, total);
    assert_eq!(
        scalar(&pool, "SELECT COUNT(DISTINCT idempotency_key) FROM orders").await,
        total
    );
    assert_eq!(testing::incomplete_orders(&pool).await, 0);
    assert_eq!(testing::assert_reconciled(&pool, Scope::Live).await, total);
    eprintln!(
        "database outage: {} orders, {} answered 503 while it was down, all made once after retries",
        total,
        failed.len()
    );
}
