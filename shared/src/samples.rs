//! The demo data of `samples/`, embedded so the admin tool and the tests load
//! exactly the same thing.

use sqlx::MySqlPool;

/// Pizzerias, menu, recipes, stock, staff and demo customers. Idempotent.
pub const DEMO_SQL: &str = include_str!("../../samples/demo.sql");

/// The historical-order generator; `@@COUNT@@` is replaced by the count.
pub const HISTORY_SQL: &str = include_str!("../../samples/history.sql");

/// The offline geocoder's fixtures.
pub const ADDRESSES_JSON: &str = include_str!("../../samples/addresses.json");

/// Loads the demo data (safe to run again: it changes nothing the second time).
pub async fn load_demo(pool: &MySqlPool) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(DEMO_SQL).execute(pool).await?;
    Ok(())
}

/// Adds `count` historical orders (for benchmarks), spread over the last year.
pub async fn generate_history(pool: &MySqlPool, count: u32) -> Result<(), sqlx::Error> {
    let script = HISTORY_SQL.replace("@@COUNT@@", &count.to_string());
    sqlx::raw_sql(&script).execute(pool).await?;
    Ok(())
}
