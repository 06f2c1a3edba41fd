//! The database's rate limits, as a crowd hits them: counted one after the
//! other however many arrive at once, each hit told its own verdict, and a
//! window over starts again. Real MariaDB.

use ocpizza::platform::rate_limit::{self, Limit, Verdict};
use sqlx::MySqlPool;

const TEN_A_MINUTE: Limit = Limit {
    name: "test-ten-a-minute",
    max: 10,
    window_seconds: 60,
};

async fn hits_of(pool: &MySqlPool) -> Vec<i64> {
    sqlx::query_scalar("SELECT hits FROM rate_limits")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Forty hits of one key at once: exactly ten get through, the thirty
/// others are told to come back within the minute, and all forty are
/// counted.
#[sqlx::test(migrations = "../migrations")]
async fn hits_at_once_are_counted_one_after_the_other(pool: MySqlPool) {
    let mut crowd = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let pool = pool.clone();
        crowd.spawn(async move {
            let mut conn = pool.acquire().await.unwrap();
            rate_limit::hit(&mut conn, TEN_A_MINUTE, "198.51.100.7").await
        });
    }
    let mut allowed = 0;
    let mut waits = Vec::new();
    while let Some(verdict) = crowd.join_next().await {
        match verdict.unwrap().unwrap() {
            Verdict::Allowed => allowed += 1,
            Verdict::Limited {
                retry_after_seconds,
            } => waits.push(retry_after_seconds),
        }
    }
    assert_eq!(allowed, 10);
    assert_eq!(waits.len(), 30);
    assert!(waits.iter().all(|w| (1..=60).contains(w)), "{waits:?}");
    assert_eq!(hits_of(&pool).await, [40]);

    // Another key has its own count.
    let mut conn = pool.acquire().await.unwrap();
    let other = rate_limit::hit(&mut conn, TEN_A_MINUTE, "203.0.113.9").await;
    assert_eq!(other.unwrap(), Verdict::Allowed);
}

/// One hit of the same phone number.
async fn hit(conn: &mut sqlx::MySqlConnection) -> Verdict {
    let verdict = rate_limit::hit(conn, TEN_A_MINUTE, "06 77 88 99 00").await;
    verdict.expect("the database counts")
}

/// Once its window is over, a key starts counting again from one.
#[sqlx::test(migrations = "../migrations")]
async fn a_window_over_starts_again(pool: MySqlPool) {
    let mut conn = pool.acquire().await.unwrap();
    for _ in 0..10 {
        assert_eq!(hit(&mut conn).await, Verdict::Allowed);
    }
    assert!(matches!(hit(&mut conn).await, Verdict::Limited { .. }));
    // The window began 61 seconds ago.
    sqlx::query("UPDATE rate_limits SET window_start = window_start - INTERVAL 61 SECOND")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(hit(&mut conn).await, Verdict::Allowed);
    assert_eq!(hits_of(&pool).await, [1]);
}
