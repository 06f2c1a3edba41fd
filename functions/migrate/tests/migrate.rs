//! The migration step on an empty database, then again on a migrated one.

use sqlx::MySqlPool;

#[sqlx::test(migrations = false)]
async fn an_empty_database_gets_every_migration_once(pool: MySqlPool) {
    let first = migrate::run(&pool).await.unwrap();
    let expected: Vec<i64> = ocpizza::platform::db::MIGRATOR
        .iter()
        .map(|m| m.version)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(first["applied"], serde_json::json!(expected));
    assert_eq!(first["latest"], serde_json::json!(expected.last()));
    // The schema is there: the demo data loads.
    ocpizza::samples::load_demo(&pool).await.unwrap();

    let second = migrate::run(&pool).await.unwrap();
    assert_eq!(second["applied"], serde_json::json!([]), "nothing twice");
    assert_eq!(second["latest"], first["latest"]);
}

/// `20261205001500_phones_e164`: French numbers stored as typed become
/// E.164, anything else stays as it is; run again, it changes nothing.
#[sqlx::test(migrations = "../../migrations")]
async fn french_phone_numbers_stored_as_typed_become_e164(pool: MySqlPool) {
    ocpizza::samples::load_demo(&pool).await.unwrap();
    let migration = ocpizza::platform::db::MIGRATOR
        .iter()
        .find(|m| m.description == "phones e164")
        .expect("the migration phones_e164");
    // (as typed, as it must read after the migration)
    let cases = [
        ("06 45 67 89 01", "+33645678901"),
        ("0645678902", "+33645678902"),
        ("06.45.67.89.03", "+33645678903"),
        ("+33 6 45 67 89 04", "+33645678904"),
        ("33645678905", "+33645678905"),
        ("0033 6 45 67 89 06", "+33645678906"),
        ("(0)4-65-71-01-01", "+33465710101"),
        ("+33645678907", "+33645678907"),
        // Left as they are: another country, a `(0)` after +33, a zero
        // where a French number has none, too few or too many digits.
        ("+44 20 7946 0958", "+44 20 7946 0958"),
        ("+33 (0)6 45 67 89 08", "+33 (0)6 45 67 89 08"),
        ("0045678909", "0045678909"),
        ("06 45 67 89", "06 45 67 89"),
        ("06 45 67 89 01 23", "06 45 67 89 01 23"),
        ("appelez-moi", "appelez-moi"),
    ];
    for (n, (typed, _)) in cases.iter().enumerate() {
        sqlx::query(
            "INSERT INTO users (email, password_hash, name, phone, role) \
             VALUES (?, 'x', 'Test', ?, 'customer')",
        )
        .bind(format!("phone{n}@example.fr"))
        .bind(typed)
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO orders (number, pizzeria_id, channel, fulfilment, payment_method, status, \
                 subtotal_cents, vat_cents, total_cents, contact_name, contact_phone, tracking_token) \
             VALUES (?, 1, 'web', 'pickup', 'cash', 'picked_up', 1000, 91, 1000, 'Test', ?, ?)",
        )
        .bind(format!("PHONE{n}"))
        .bind(typed)
        .bind(format!("token-{n}"))
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO users (email, password_hash, name, phone, role) \
         VALUES ('nophone@example.fr', 'x', 'Test', NULL, 'customer')",
    )
    .execute(&pool)
    .await
    .unwrap();

    for run in 0..2 {
        sqlx::raw_sql(&migration.sql).execute(&pool).await.unwrap();
        for (n, (typed, expected)) in cases.iter().enumerate() {
            let (user,): (String,) = sqlx::query_as("SELECT phone FROM users WHERE email = ?")
                .bind(format!("phone{n}@example.fr"))
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(user, *expected, "run {run}, users: {typed}");
            let (order,): (String,) =
                sqlx::query_as("SELECT contact_phone FROM orders WHERE number = ?")
                    .bind(format!("PHONE{n}"))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            assert_eq!(order, *expected, "run {run}, orders: {typed}");
            // What the migration wrote is what the application writes.
            if typed != expected || typed.starts_with("+33645") {
                assert_eq!(
                    ocpizza::platform::phone::parse(typed)
                        .map(|p| p.into_string())
                        .as_deref(),
                    Ok(*expected),
                    "{typed}"
                );
            }
        }
        let (none,): (Option<String>,) =
            sqlx::query_as("SELECT phone FROM users WHERE email = 'nophone@example.fr'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(none, None);
    }
}

/// After a first deploy: the migrations, then the first admin through this
/// function (`{"bootstrap": {...}}`); anyone else refused.
#[sqlx::test(migrations = false)]
async fn a_fresh_deployment_bootstraps_its_first_admin_once(pool: MySqlPool) {
    migrate::run(&pool).await.unwrap();
    let event = serde_json::json!({"bootstrap": {
        "admin_email": "direction@ocpizza.fr", "name": "Direction",
        "site_url": "https://d111111abcdef8.cloudfront.net"
    }});
    let request = migrate::BootstrapRequest::from_event(&event)
        .expect("a bootstrap event")
        .expect("that reads");
    let answer = migrate::bootstrap(&pool, &request, "").await.unwrap();
    assert_eq!(answer["admin"], "direction@ocpizza.fr");
    assert!(answer["link"].as_str().is_some_and(
        |l| l.starts_with("https://d111111abcdef8.cloudfront.net/set-password.html#token=")
    ));
    // The link lost before use: the same request gives a new one.
    let again = migrate::bootstrap(&pool, &request, "").await.unwrap();
    assert_ne!(again["link"], answer["link"]);
    // Someone else: refused, an admin exists.
    let other = serde_json::json!({"bootstrap": {"admin_email": "intrus@example.fr"}});
    let other = migrate::BootstrapRequest::from_event(&other)
        .expect("a bootstrap event")
        .expect("that reads");
    let refused = migrate::bootstrap(&pool, &other, "https://x").await;
    assert!(refused
        .as_ref()
        .is_err_and(|e| e.to_string().contains("already exists")));
    // A migration event is not a bootstrap, and a wrong one says so.
    assert!(migrate::BootstrapRequest::from_event(&serde_json::json!({})).is_none());
    assert!(matches!(
        migrate::BootstrapRequest::from_event(&serde_json::json!({"bootstrap": {"email": "x"}})),
        Some(Err(_))
    ));
}
