//! The migration step on an empty database, then again on a migrated one.

use sqlx::MySqlPool;

#[sqlx::test(migrations = false)]
async fn an_empty_database_gets_every_migration_once(pool: MySqlPool) {
    let first = migrate::run(&pool).await.unwrap();
    let expected: Vec<i64> = ocpizza::db::MIGRATOR.iter().map(|m| m.version).collect();
    assert!(!expected.is_empty());
    assert_eq!(first["applied"], serde_json::json!(expected));
    assert_eq!(first["latest"], serde_json::json!(expected.last()));
    // The schema is there: the demo data loads.
    ocpizza::samples::load_demo(&pool).await.unwrap();

    let second = migrate::run(&pool).await.unwrap();
    assert_eq!(second["applied"], serde_json::json!([]), "nothing twice");
    assert_eq!(second["latest"], first["latest"]);
}
