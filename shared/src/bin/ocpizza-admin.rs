//! Operations on the database and queues: the same commands locally
//! (`make run`, `make test`, `make bench`) and in a deploy's migration step.
//!
//! ```text
//! ocpizza-admin migrate            create the database if missing, run migrations
//! ocpizza-admin seed               load the demo data of samples/ (idempotent; not in production)
//! ocpizza-admin history N          add N historical orders (benchmarks; not in production)
//! ocpizza-admin queues             create the queues and their dead-letter queues
//! ocpizza-admin token EMAIL        a bearer token for an account (not in production)
//! ocpizza-admin audit [--settled]  the reconciliation check (exit 1 on any finding)
//! ocpizza-admin revenue-rebuild    the revenue summaries counted again from the orders
//!                                  (idempotent; once after the deploy that brought them)
//! ocpizza-admin bootstrap --admin-email EMAIL [--name NAME]
//!                                  the first admin of a new deployment, and a
//!                                  one-time link to set their password
//! ```
//!
//! `seed`, `history` and `token` refuse to run with `ENV=PRODUCTION` (or an
//! `ENV` that is not LOCAL, TEST or PRODUCTION) before touching anything: the
//! demo accounts have published passwords, the history is made-up orders, and
//! in production only the accounts function issues tokens.

use ocpizza::platform::config::{self, var, Config};
use ocpizza::platform::db;
use secrecy::ExposeSecret;
use sqlx::mysql::MySqlPoolOptions;
use sqlx::ConnectOptions;
use std::process::ExitCode;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if let Err(err) = local_only(&args, |name| std::env::var(name).ok()) {
        eprintln!("ocpizza-admin: {err}");
        return ExitCode::FAILURE;
    }
    let result = match args.as_slice() {
        ["migrate"] => migrate().await,
        ["seed"] => seed().await,
        ["history", n] => match n.parse() {
            Ok(n) => history(n).await,
            Err(_) => Err("history takes a count, e.g. `history 1000000`".into()),
        },
        ["queues"] => queues().await,
        ["token", email] => token(email).await,
        ["audit"] => audit(ocpizza::reporting::audit::Scope::Live).await,
        ["audit", "--settled"] => audit(ocpizza::reporting::audit::Scope::Settled).await,
        ["revenue-rebuild"] => revenue_rebuild().await,
        ["bootstrap", "--admin-email", email] => bootstrap(email, "Administrateur").await,
        ["bootstrap", "--admin-email", email, "--name", name] => bootstrap(email, name).await,
        _ => Err(USAGE.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("ocpizza-admin: {err}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: ocpizza-admin migrate | seed | history N | queues | token EMAIL | \
     audit [--settled] | revenue-rebuild | bootstrap --admin-email EMAIL [--name NAME]";

/// The commands that write demo or made-up data, or mint tokens by hand.
const LOCAL_ONLY: [&str; 3] = ["seed", "history", "token"];

/// Refuses [`LOCAL_ONLY`] commands with `ENV=PRODUCTION`, before any
/// connection is made.
fn local_only(
    args: &[&str],
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(), config::ConfigError> {
    match args.first() {
        Some(command) => match LOCAL_ONLY.iter().find(|c| *c == command) {
            Some(command) => config::refuse_in_production(command, lookup),
            None => Ok(()),
        },
        None => Ok(()),
    }
}

fn config() -> Result<Config, Error> {
    Ok(Config::load(&[var::DATABASE_URL])?)
}

async fn pool(config: &Config) -> Result<sqlx::MySqlPool, Error> {
    let options = db::connect_options(config.database_url.expose_secret())?;
    Ok(MySqlPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await?)
}

async fn migrate() -> Result<(), Error> {
    let config = config()?;
    let options = db::connect_options(config.database_url.expose_secret())?;
    let database = options
        .get_database()
        .ok_or("DATABASE_URL names no database")?
        .to_owned();
    if !database
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(format!("unexpected database name {database:?}").into());
    }
    // Connect to the server without the database to create it when missing.
    let mut server = options.database("").connect().await?;
    // Runtime SQL: DDL naming the configured database, checked above.
    sqlx::raw_sql(&format!(
        "CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    ))
    .execute(&mut server)
    .await?;
    let pool = pool(&config).await?;
    db::MIGRATOR.run(&pool).await?;
    ocpizza::identity::accounts::normalise_stored_emails(&pool).await?;
    println!(
        "database {database} on {} is migrated",
        config.database_url_redacted()
    );
    Ok(())
}

async fn seed() -> Result<(), Error> {
    let pool = pool(&config()?).await?;
    ocpizza::samples::load_demo(&pool).await?;
    let counts = sqlx::query!(
        "SELECT (SELECT COUNT(*) FROM pizzerias) AS `pizzerias!: i64`, \
            (SELECT COUNT(*) FROM products) AS `products!: i64`, \
            (SELECT COUNT(*) FROM users) AS `users!: i64`",
    )
    .fetch_one(&pool)
    .await?;
    println!(
        "demo data loaded: {} pizzerias, {} products, {} accounts",
        counts.pizzerias, counts.products, counts.users
    );
    Ok(())
}

async fn history(count: u32) -> Result<(), Error> {
    if count > 5_000_000 {
        return Err("at most 5,000,000 orders per run".into());
    }
    let pool = pool(&config()?).await?;
    let started = std::time::Instant::now();
    // The generator inserts at most 1,000,000 rows per pass.
    let mut left = count;
    while left > 0 {
        let pass = left.min(1_000_000);
        ocpizza::samples::generate_history(&pool, pass).await?;
        left -= pass;
    }
    let orders = sqlx::query_scalar!("SELECT COUNT(*) AS `n!: i64` FROM orders")
        .fetch_one(&pool)
        .await?;
    println!(
        "{count} historical orders added in {:.1} s; {orders} orders in all",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn queues() -> Result<(), Error> {
    let config = config()?;
    let queues = ocpizza::platform::queue::Queues::from_config(&config).await;
    for url in [&config.kitchen_queue_url, &config.delivery_queue_url] {
        let name = url
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty())
            .ok_or("queue URL without a name")?;
        let created =
            ocpizza::platform::queue::create_with_dead_letter_queue(queues.client(), name).await?;
        println!("queue {name}: {created}");
    }
    Ok(())
}

/// For scripts against the local stack (the pages sign in through the
/// accounts function): a token signed with the local `SECRET_KEY`.
/// Refused in production, where only the accounts function issues tokens
/// (by [`local_only`], and here again should this ever be called otherwise).
async fn token(email: &str) -> Result<(), Error> {
    let config = config()?;
    if config.is_production() {
        return Err("tokens are issued by the accounts function in production".into());
    }
    let pool = pool(&config).await?;
    let secret = config.secret_key.expose_secret().as_bytes();
    let (token, expires) =
        ocpizza::identity::auth::token_for_email(&pool, secret, email, chrono::Utc::now()).await?;
    eprintln!("{email}: valid until {expires}");
    println!("{token}");
    Ok(())
}

/// The first admin of a new deployment (refused once there is one), and the
/// link that sets their password, printed for the person deploying.
async fn bootstrap(email: &str, name: &str) -> Result<(), Error> {
    let config = config()?;
    let pool = pool(&config).await?;
    let made = ocpizza::identity::accounts::links::bootstrap_admin(
        &pool,
        email,
        name,
        &config.site_url,
        chrono::Utc::now(),
    )
    .await?;
    eprintln!(
        "admin {} created; the link below sets their password, once, until {}",
        made.user.email, made.expires_at
    );
    println!("{}", made.link);
    Ok(())
}

/// The reconciliation check (`ocpizza::reporting::audit`): prints each finding and
/// fails when there is one. `--settled` once the outbox and the queues are
/// drained, to check the tickets and deliveries too.
async fn audit(scope: ocpizza::reporting::audit::Scope) -> Result<(), Error> {
    let config = config()?;
    let pool = pool(&config).await?;
    let findings = ocpizza::reporting::audit::audit(&pool, scope).await?;
    let orders = sqlx::query_scalar!("SELECT COUNT(*) AS `n!: i64` FROM orders")
        .fetch_one(&pool)
        .await?;
    for finding in &findings {
        println!("{finding}");
    }
    if findings.is_empty() {
        println!("audit: {orders} orders, everything agrees ({scope:?})");
        Ok(())
    } else {
        Err(format!("{} findings over {orders} orders", findings.len()).into())
    }
}

/// The revenue summaries made again from the orders
/// (`ocpizza::reporting::revenue::rebuild`): safe while orders are taken,
/// and to run again.
async fn revenue_rebuild() -> Result<(), Error> {
    let pool = pool(&config()?).await?;
    let started = std::time::Instant::now();
    let done = ocpizza::reporting::revenue::rebuild::rebuild(&pool).await?;
    println!(
        "revenue summaries rebuilt in {:.1} s: {} orders read in {} slices, {} orders and {} summary rows corrected",
        started.elapsed().as_secs_f64(),
        done.orders,
        done.slices,
        done.orders_corrected,
        done.days_corrected
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocpizza::platform::config::{lookup_from, ConfigError};

    #[test]
    fn seed_history_and_token_are_refused_in_production() {
        let production = [(var::ENV, "PRODUCTION")];
        for args in [
            &["seed"][..],
            &["history", "1000"],
            &["token", "admin@ocpizza.test"],
        ] {
            let err = local_only(args, lookup_from(&production)).unwrap_err();
            assert_eq!(err, ConfigError::NotInProduction(args[0]));
            assert!(err.to_string().contains(args[0]), "{err}");
            assert!(local_only(args, lookup_from(&[])).is_ok());
            assert!(local_only(args, lookup_from(&[(var::ENV, "TEST")])).is_ok());
            assert!(local_only(args, lookup_from(&[(var::ENV, "production")])).is_err());
        }
        // What an operator runs against production stays allowed.
        for args in [
            &["migrate"][..],
            &["queues"],
            &["audit"],
            &["audit", "--settled"],
            &["revenue-rebuild"],
            &[],
        ] {
            assert!(
                local_only(args, lookup_from(&production)).is_ok(),
                "{args:?}"
            );
        }
    }
}
