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
    // A menu function's kept catalogue is read again at its next request.
    crate::catalog::version::bump(&mut *pool.acquire().await?).await?;
    Ok(())
}

/// Adds `count` historical orders (for benchmarks), spread over the last
/// year, then counts them in the revenue summaries (the script writes the
/// orders in SQL, as no checkout does).
pub async fn generate_history(pool: &MySqlPool, count: u32) -> Result<(), sqlx::Error> {
    let script = HISTORY_SQL.replace("@@COUNT@@", &count.to_string());
    sqlx::raw_sql(&script).execute(pool).await?;
    crate::reporting::revenue::rebuild::rebuild(pool).await?;
    Ok(())
}

/// Pizzerias 1 to 5 open all day, every day, with 100,000,000 of every
/// ingredient (restocks in the ledger): for benchmarks and for tests whose
/// outcome must not depend on the hour.
pub async fn open_all_day_with_plenty_of_stock(pool: &MySqlPool) -> Result<(), sqlx::Error> {
    let script = "DELETE FROM opening_hours WHERE pizzeria_id BETWEEN 1 AND 5;
         INSERT INTO opening_hours (pizzeria_id, weekday, opens_at, closes_at)
           SELECT p.id, d.n, '00:00:00', '23:59:59' FROM pizzerias p
           JOIN (SELECT 1 n UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6 UNION SELECT 7) d
           WHERE p.id BETWEEN 1 AND 5;
         INSERT INTO stock_movements (pizzeria_id, ingredient_id, kind, on_hand_delta, reason)
           SELECT pizzeria_id, ingredient_id, 'restock', 100000000 - on_hand, 'benchmark' FROM stock WHERE pizzeria_id BETWEEN 1 AND 5;
         UPDATE stock SET on_hand = 100000000 WHERE pizzeria_id BETWEEN 1 AND 5;";
    sqlx::raw_sql(script).execute(pool).await?;
    Ok(())
}
