//! `coldstart`: each function's release binary run as Lambda runs it, under a
//! local Runtime API (`runtime_api`), for `make bench`
//! (`infra/local/coldstart.sh`).
//!
//! Per function: `--runs` processes (5) each started and asked one event, the
//! cold start being process spawn → first answer read (the runtime's init,
//! the first connection to the database, the handler); then the last process
//! answers `--warm` more events (1,000), one at a time as a Lambda container
//! does, each timed from the event handed over to its answer (what Lambda
//! bills); then its resident memory (`VmRSS`, and the peak `VmHWM`, from
//! `/proc/<pid>/status`). Plus the binary's size. One markdown row per
//! function on stdout (`| figure | result | method | goal |`), the detail on
//! stderr, each function's own output in `--log-dir/<function>.log`.
//!
//! Usage: `coldstart [--runs N] [--warm N] [--bin-dir DIR] [--log-dir DIR] [FUNCTION…]`
//! (all functions by default), with the functions' settings in the
//! environment (`DATABASE_URL` …), as `infra/local/common.sh` exports them.

mod runtime_api;
mod scenarios;

use runtime_api::{Answer, Outcome, RuntimeApi, DEADLINE};
use scenarios::{Expect, Fixtures, Plan};
use secrecy::ExposeSecret;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Variables `infra/template.yaml` sets for one function beyond the
/// globals, which change how it uses memory: measured as deployed.
const TEMPLATE_ENV: &[(&str, &str, &str)] = &[("accounts", "MALLOC_MMAP_THRESHOLD_", "4194304")];

/// The performance targets (`docs/architecture.md`, "Performance targets").
const GOAL_COLD: Duration = Duration::from_millis(50);
const GOAL_RSS_MB: f64 = 32.0;
const GOAL_BINARY_MB: f64 = 10.0;

struct Args {
    runs: usize,
    warm: usize,
    bin_dir: PathBuf,
    log_dir: PathBuf,
    functions: Vec<String>,
}

impl Args {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        let mut parsed = Args {
            runs: 5,
            warm: 1000,
            bin_dir: Path::new(&target).join("release"),
            log_dir: std::env::temp_dir(),
            functions: Vec::new(),
        };
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().ok_or(format!("{name} takes a value"));
            match arg.as_str() {
                "--runs" => parsed.runs = number(&value("--runs")?)?,
                "--warm" => parsed.warm = number(&value("--warm")?)?,
                "--bin-dir" => parsed.bin_dir = value("--bin-dir")?.into(),
                "--log-dir" => parsed.log_dir = value("--log-dir")?.into(),
                flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
                function => parsed.functions.push(function.to_owned()),
            }
        }
        if parsed.runs == 0 {
            return Err("--runs must be at least 1".into());
        }
        if parsed.functions.is_empty() {
            parsed.functions = scenarios::FUNCTIONS.map(String::from).to_vec();
        }
        // In the order the scenarios need (the orders checkout places are
        // asked about after it); functions unknown there come last.
        parsed.functions.sort_by_key(|f| {
            scenarios::FUNCTIONS
                .iter()
                .position(|known| known == f)
                .unwrap_or(usize::MAX)
        });
        Ok(parsed)
    }
}

fn number(text: &str) -> Result<usize, String> {
    text.parse().map_err(|_| format!("{text} is not a count"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(err) => {
            eprintln!("coldstart: {err}\nusage: coldstart [--runs N] [--warm N] [--bin-dir DIR] [--log-dir DIR] [FUNCTION…]");
            return ExitCode::from(2);
        }
    };
    // The functions' own settings (the same environment is passed on to them).
    let config = ocpizza::platform::config::Config::load_or_exit(&[]);
    let pool =
        ocpizza::platform::db::connect_lazy(&config).expect("DATABASE_URL is not a MySQL URL");
    // Checkout must find the pizzeria open and stocked at any hour.
    ocpizza::samples::open_all_day_with_plenty_of_stock(&pool)
        .await
        .expect("pizzerias open all day with plenty of stock");
    let fixtures = Fixtures {
        pool,
        secret_key: config.secret_key.expose_secret().to_owned(),
        webhook_secret: config.stripe_webhook_secret.expose_secret().to_owned(),
        stamp: chrono::Utc::now().format("%Y%m%d%H%M%S").to_string(),
    };
    let mut failed = false;
    for function in &args.functions {
        eprintln!("coldstart: {function}");
        match measure(function, &args, &fixtures).await {
            Ok(figures) => println!("{}", figures.row(function, &args)),
            Err(err) => {
                failed = true;
                eprintln!("coldstart: {function}: {err}");
                println!("| `{function}`: cold start / RSS / binary | failed: {err} | — | — |");
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

struct Figures {
    plan: Plan,
    cold: Vec<Duration>,
    init: Vec<Duration>,
    warm: Vec<Duration>,
    rss_kib: u64,
    peak_kib: u64,
    binary_bytes: u64,
}

async fn measure(function: &str, args: &Args, fixtures: &Fixtures) -> Result<Figures, String> {
    let binary = args.bin_dir.join(function);
    let binary_bytes = std::fs::metadata(&binary)
        .map_err(|e| format!("{}: {e} (build it in release first)", binary.display()))?
        .len();
    let plan = scenarios::plan(function, fixtures, args.runs).await?;
    let log_path = args.log_dir.join(format!("{function}.log"));
    let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut figures = Figures {
        plan,
        cold: Vec::new(),
        init: Vec::new(),
        warm: Vec::new(),
        rss_kib: 0,
        peak_kib: 0,
        binary_bytes,
    };
    for run in 0..args.runs {
        let mut api = RuntimeApi::start(function)
            .await
            .map_err(|e| format!("runtime API: {e}"))?;
        // The event waits for the runtime's first `next`, as Lambda's does.
        let event = (figures.plan.cold)(run);
        let id = api.queue(event.to_string().into_bytes()).await;
        let mut process = Process::spawn(&binary, function, &api, &log, &log_path)?;
        let answer = process.wait(&mut api, &id).await?;
        check(&answer, figures.plan.cold_expect)?;
        let cold = answer.answered.duration_since(process.started);
        let init = answer.asked.duration_since(process.started);
        eprintln!(
            "  run {}: cold {:.1} ms (init {:.1} ms, first event {:.1} ms)",
            run + 1,
            ms(cold),
            ms(init),
            ms(answer.duration())
        );
        figures.cold.push(cold);
        figures.init.push(init);
        if run + 1 < args.runs {
            continue;
        }
        for n in 0..args.warm {
            let event = (figures.plan.warm)(args.runs + n);
            let id = api.queue(event.to_string().into_bytes()).await;
            let answer = process.wait(&mut api, &id).await?;
            check(&answer, figures.plan.warm_expect)
                .map_err(|e| format!("warm invocation {}: {e}", n + 1))?;
            figures.warm.push(answer.duration());
        }
        (figures.rss_kib, figures.peak_kib) = memory(process.child.id())?;
    }
    Ok(figures)
}

/// The function's process; killed when dropped (Lambda freezes and later
/// discards a container; nothing here waits for a clean exit).
struct Process {
    child: Child,
    started: Instant,
    log_path: PathBuf,
}

impl Process {
    fn spawn(
        binary: &Path,
        function: &str,
        api: &RuntimeApi,
        log: &File,
        log_path: &Path,
    ) -> Result<Process, String> {
        let output = |log: &File| log.try_clone().map(Stdio::from).map_err(|e| e.to_string());
        let mut command = Command::new(binary);
        command
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            // Read into the invocation context only: no memory limit (nor
            // the CPU share that goes with it on Lambda) applies here.
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function}"),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "coldstart")
            // Production's logs (JSON lines at `info`; ENV=PRODUCTION is not
            // set since the local settings are not production's).
            .env("LOG_FORMAT", "json")
            .env_remove("RUST_LOG")
            .envs(
                TEMPLATE_ENV
                    .iter()
                    .filter(|(f, _, _)| *f == function)
                    .map(|(_, name, value)| (name, value)),
            )
            .stdin(Stdio::null())
            .stdout(output(log)?)
            .stderr(output(log)?);
        let started = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        Ok(Process {
            child,
            started,
            log_path: log_path.to_owned(),
        })
    }

    /// The answer to event `id`; an error when the process ends first or
    /// does not answer by the deadline.
    async fn wait(&mut self, api: &mut RuntimeApi, id: &str) -> Result<Answer, String> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            tokio::select! {
                answer = api.answer(id) => return Ok(answer),
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
            let log = self.log_path.display();
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "the process ended ({status}) before answering; see {log}"
                ));
            }
            if Instant::now() > deadline {
                return Err(format!("no answer within {DEADLINE:?}; see {log}"));
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn check(answer: &Answer, expect: Expect) -> Result<(), String> {
    match &answer.outcome {
        Outcome::Response(body) => {
            let value: serde_json::Value = serde_json::from_slice(body)
                .map_err(|e| format!("the answer is not JSON ({e})"))?;
            expect.check(&value)
        }
        Outcome::Error(body) => Err(format!(
            "the invocation failed: {}",
            String::from_utf8_lossy(body)
        )),
        Outcome::InitError(body) => Err(format!(
            "the runtime failed to start: {}",
            String::from_utf8_lossy(body)
        )),
    }
}

/// `VmRSS` and `VmHWM` (peak) of a process, in KiB.
fn memory(pid: u32) -> Result<(u64, u64), String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<u64>().ok())
            .ok_or_else(|| format!("no {name} in {path}"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

/// The nearest-rank percentile of unsorted samples.
fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    }
}

/// `1000` → `1,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Figures {
    fn row(&self, function: &str, args: &Args) -> String {
        let cold = median(&self.cold);
        let over = |over: bool| if over { " (over)" } else { "" };
        let rss_mb = self.rss_kib as f64 / 1024.0;
        let binary_mb = mib(self.binary_bytes);
        let warm = if self.warm.is_empty() {
            String::new()
        } else {
            format!(
                "; warm p50 {:.2} ms, p99 {:.2} ms",
                ms(percentile(&self.warm, 0.50)),
                ms(percentile(&self.warm, 0.99))
            )
        };
        let warm_label = match (&self.plan.warm_label[..], args.warm) {
            (_, 0) => String::new(),
            ("", n) => format!(", then {} more", thousands(n)),
            (label, n) => format!(", then {} × {label}", thousands(n)),
        };
        format!(
            "| `{function}`: cold start / RSS after {} warm / binary | {:.1} ms{} (init {:.1}) / {rss_mb:.1} MB{} (peak {:.1}) / {binary_mb:.1} MB{}{warm} | {}{warm_label}; median of {} process starts | < {} ms / < {GOAL_RSS_MB} MB / < {GOAL_BINARY_MB} MB |",
            thousands(args.warm),
            ms(cold),
            over(cold >= GOAL_COLD),
            ms(median(&self.init)),
            over(rss_mb >= GOAL_RSS_MB),
            self.peak_kib as f64 / 1024.0,
            over(binary_mb >= GOAL_BINARY_MB),
            self.plan.cold_label,
            self.cold.len(),
            GOAL_COLD.as_millis(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms_list(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn medians_and_percentiles() {
        assert_eq!(median(&ms_list(&[30, 10, 20])), Duration::from_millis(20));
        assert_eq!(
            median(&ms_list(&[40, 10, 20, 30])),
            Duration::from_millis(25)
        );
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(
            percentile(&ms_list(&hundred), 0.99),
            Duration::from_millis(99)
        );
        assert_eq!(
            percentile(&ms_list(&hundred), 0.50),
            Duration::from_millis(50)
        );
    }

    #[test]
    fn counts_read_as_in_the_report() {
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn arguments() {
        let args = |list: &[&str]| Args::parse(list.iter().map(|s| s.to_string()));
        let parsed = args(&["--runs", "3", "menu", "--warm", "10"]).unwrap();
        assert_eq!((parsed.runs, parsed.warm), (3, 10));
        assert_eq!(parsed.functions, ["menu"]);
        let ordered = args(&["orders", "zz", "checkout"]).unwrap().functions;
        assert_eq!(ordered, ["checkout", "orders", "zz"]);
        assert_eq!(
            args(&[]).unwrap().functions.len(),
            scenarios::FUNCTIONS.len()
        );
        assert!(args(&["--runs", "0"]).is_err());
        assert!(args(&["--fast"]).is_err());
    }
}
