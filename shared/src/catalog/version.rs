//! The catalogue's version (`catalog_version`, one row): every write to what
//! a menu shows beside the stock and the pizzerias (products, categories,
//! recipe lines, sizes, extras, ingredients and their allergens, exclusions,
//! photos) bumps it in its own transaction, so the menu function, which
//! keeps that part per container ([`super::catalogue`]), reads it again at
//! its next request.

use sqlx::MySqlConnection;

/// Marks a change of the catalogue, in the writer's transaction.
pub async fn bump(db: &mut MySqlConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE catalog_version SET version = version + 1 WHERE id = 1")
        .execute(db)
        .await?;
    Ok(())
}
