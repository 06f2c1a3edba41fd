//! `ocpizza-admin revenue-rebuild`: every order's share counted again from
//! the order, and the summaries (`revenue_days`) made again as the sum of the
//! shares. Run once after the deploy that brought the summaries (the orders
//! of before count nothing until then), after loading orders by SQL (the
//! benchmark's history), or to repair the summaries should the
//! reconciliation check find them wrong. Idempotent: a second run finds
//! nothing to correct. Safe while the pizzerias take orders.
//!
//! It goes pizzeria by pizzeria, [`SLICE_DAYS`] Paris days at a time (the
//! first slice open to the past, the last to the future, so every order and
//! every summary row is in one), each slice in one short transaction:
//! 1. the slice's orders are locked: a locking read over the range of
//!    `(pizzeria_id, created_at)`, gaps included, so none of them changes
//!    and none is added until the commit, and what is read next is the
//!    latest;
//! 2. each order's share is computed (the expressions of `order::revenue`)
//!    and written where it differs from what the order holds;
//! 3. the slice's summary rows are locked and set to the sum of the shares.
//!
//! Locks are taken in the order every change of an order takes them (the
//! orders, then the summary rows), so a change at most waits for a slice; a
//! change that changed its order before the slice read it has committed its
//! summary too, and one that comes after adds its difference to the sum.

use super::{first_day, last_day, paris_midnight};
use crate::order::revenue::{paris_day, share_of_o, Share};
use crate::platform::db;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use sqlx::{MySql, MySqlPool, Transaction};
use std::collections::{BTreeMap, BTreeSet};

/// Paris days per transaction: a week of a pizzeria is a few thousand orders
/// of the 1,000,000-order history, locked for a fraction of a second.
pub const SLICE_DAYS: i64 = 7;

/// How many times a slice is tried when the database gives up on it (a
/// deadlock, a lock wait timeout).
const ATTEMPTS: usize = 3;

/// What a rebuild did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rebuilt {
    /// Orders read.
    pub orders: u64,
    /// Orders whose share was not what they held.
    pub orders_corrected: u64,
    /// Summary rows rewritten.
    pub days_corrected: u64,
    /// Transactions.
    pub slices: u64,
}

/// Summary rows by day, payment method and channel.
type Sums = BTreeMap<(NaiveDate, String, String), Share>;

/// Rebuilds every pizzeria's summaries from its orders, and records the
/// run (`revenue_rebuilds`): once one has finished, the report reads the
/// summaries.
pub async fn rebuild(pool: &MySqlPool) -> Result<Rebuilt, sqlx::Error> {
    let run = sqlx::query!("INSERT INTO revenue_rebuilds (started_at) VALUES (UTC_TIMESTAMP(6))")
        .execute(pool)
        .await?
        .last_insert_id();
    // The pizzerias, and any pizzeria a summary row names (one that should
    // not be there is cleared).
    let pizzerias = sqlx::query_scalar!(
        "SELECT id AS `id!: i64` FROM pizzerias UNION SELECT DISTINCT pizzeria_id FROM revenue_days ORDER BY 1"
    )
    .fetch_all(pool)
    .await?;
    let mut done = Rebuilt::default();
    for pizzeria in pizzerias {
        for (from, to) in slices(pool, pizzeria).await? {
            let mut attempt = 1;
            let slice = loop {
                match rebuild_slice(pool, pizzeria, from, to).await {
                    Err(err) if db::is_unavailable(&err) && attempt < ATTEMPTS => {
                        tracing::warn!(pizzeria, ?from, error = %err, "revenue slice retried");
                        attempt += 1;
                    }
                    result => break result?,
                }
            };
            done.orders += slice.orders;
            done.orders_corrected += slice.orders_corrected;
            done.days_corrected += slice.days_corrected;
            done.slices += 1;
        }
    }
    sqlx::query!(
        "UPDATE revenue_rebuilds SET finished_at = UTC_TIMESTAMP(6), orders_corrected = ?, \
            days_corrected = ? WHERE id = ?",
        done.orders_corrected,
        done.days_corrected,
        run
    )
    .execute(pool)
    .await?;
    tracing::info!(
        orders = done.orders,
        orders_corrected = done.orders_corrected,
        days_corrected = done.days_corrected,
        "revenue summaries rebuilt"
    );
    Ok(done)
}

/// A pizzeria's slices: `(from, to)` Paris days, `to` excluded, `None` for
/// an open end; together they cover every day.
async fn slices(
    pool: &MySqlPool,
    pizzeria: i64,
) -> Result<Vec<(Option<NaiveDate>, Option<NaiveDate>)>, sqlx::Error> {
    let span = sqlx::query!(
        "SELECT MIN(created_at) AS first, MAX(created_at) AS last FROM orders WHERE pizzeria_id = ?",
        pizzeria
    )
    .fetch_one(pool)
    .await?;
    let mut bounds = Vec::new();
    if let (Some(first), Some(last)) = (span.first, span.last) {
        let (first, last) = (paris_day(first.and_utc()), paris_day(last.and_utc()));
        let mut at = first + Duration::days(SLICE_DAYS);
        while at <= last {
            bounds.push(at);
            at += Duration::days(SLICE_DAYS);
        }
    }
    let starts = std::iter::once(None).chain(bounds.iter().copied().map(Some));
    let ends = bounds
        .iter()
        .copied()
        .map(Some)
        .chain(std::iter::once(None));
    Ok(starts.zip(ends).collect())
}

/// The bounds of a slice for SQL: the UTC instants of its orders, `end`
/// excluded, and its first and last Paris days.
fn bounds(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> (NaiveDateTime, NaiveDateTime, NaiveDate, NaiveDate) {
    // A `DATETIME` holds years 1000 to 9999: what is beyond holds no order.
    let earliest = NaiveDate::from_ymd_opt(1000, 1, 1)
        .unwrap_or(NaiveDate::MIN)
        .and_time(chrono::NaiveTime::MIN);
    let latest = NaiveDate::from_ymd_opt(9999, 12, 31)
        .unwrap_or(NaiveDate::MAX)
        .and_hms_micro_opt(23, 59, 59, 999_999)
        .unwrap_or(NaiveDateTime::MAX);
    let start = match from {
        Some(day) if day >= first_day() => paris_midnight(day).naive_utc(),
        _ => earliest,
    };
    let end = match to {
        Some(day) if day <= last_day() => paris_midnight(day).naive_utc(),
        _ => latest,
    };
    let first = from.unwrap_or(earliest.date());
    let last = to
        .map(|day| day - Duration::days(1))
        .unwrap_or(latest.date());
    (start, end, first, last)
}

/// What one slice did.
#[derive(Debug, Default)]
struct Slice {
    orders: u64,
    orders_corrected: u64,
    days_corrected: u64,
}

async fn rebuild_slice(
    pool: &MySqlPool,
    pizzeria: i64,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Slice, sqlx::Error> {
    let (start, end, first, last) = bounds(from, to);
    let mut tx = pool.begin().await?;
    // 1. Locked before anything is read: the snapshot the next reads take
    // is then after every change of these orders.
    sqlx::query_scalar!(
        "SELECT id FROM orders WHERE pizzeria_id = ? AND created_at >= ? AND created_at < ? FOR UPDATE",
        pizzeria,
        start,
        end
    )
    .fetch_all(&mut *tx)
    .await?;
    // 2. Each order's share, as it holds it and as it is now.
    macro_rules! shares {
        ($orders:literal, $total:literal, $vat:literal, $refunds:literal, $refunds_vat:literal) => {
            sqlx::query!(
                "SELECT o.created_at, o.payment_method, o.channel, \
                    o.revenue_orders, o.revenue_total_cents, o.revenue_vat_cents, \
                    o.revenue_refunds_cents, o.revenue_refunds_vat_cents, "
                    + $orders
                    + " AS `orders!: i64`, "
                    + $total
                    + " AS `total_cents!: i64`, "
                    + $vat
                    + " AS `vat_cents!: i64`, "
                    + $refunds
                    + " AS `refunds_cents!: i64`, "
                    + $refunds_vat
                    + " AS `refunds_vat_cents!: i64` \
                 FROM orders o WHERE o.pizzeria_id = ? AND o.created_at >= ? AND o.created_at < ?",
                pizzeria,
                start,
                end
            )
        };
    }
    let rows = share_of_o!(shares).fetch_all(&mut *tx).await?;
    let mut done = Slice {
        orders: rows.len() as u64,
        ..Slice::default()
    };
    let mut sums = Sums::new();
    for row in rows {
        let held = Share {
            orders: row.revenue_orders,
            total_cents: row.revenue_total_cents,
            vat_cents: row.revenue_vat_cents,
            refunds_cents: row.revenue_refunds_cents,
            refunds_vat_cents: row.revenue_refunds_vat_cents,
        };
        let now = Share {
            orders: row.orders,
            total_cents: row.total_cents,
            vat_cents: row.vat_cents,
            refunds_cents: row.refunds_cents,
            refunds_vat_cents: row.refunds_vat_cents,
        };
        if held != now {
            done.orders_corrected += 1;
        }
        let key = (
            paris_day(row.created_at.and_utc()),
            row.payment_method,
            row.channel,
        );
        let sum = sums.entry(key).or_default();
        *sum = sum.plus(now);
    }
    if done.orders_corrected > 0 {
        write_shares(&mut tx, pizzeria, start, end).await?;
    }
    // 3. The summary rows, locked, set to the sums.
    let held: Sums = sqlx::query!(
        "SELECT day, payment_method, channel, orders, total_cents, vat_cents, refunds_cents, refunds_vat_cents \
         FROM revenue_days WHERE pizzeria_id = ? AND day >= ? AND day <= ? FOR UPDATE",
        pizzeria,
        first,
        last
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|row| {
        let share = Share {
            orders: row.orders,
            total_cents: row.total_cents,
            vat_cents: row.vat_cents,
            refunds_cents: row.refunds_cents,
            refunds_vat_cents: row.refunds_vat_cents,
        };
        ((row.day, row.payment_method, row.channel), share)
    })
    .collect();
    let keys: BTreeSet<_> = held.keys().chain(sums.keys()).cloned().collect();
    for key in keys {
        let want = sums.get(&key).copied().unwrap_or_default();
        if held.get(&key).copied().unwrap_or_default() == want {
            continue;
        }
        let (day, payment_method, channel) = &key;
        sqlx::query!(
            "INSERT INTO revenue_days (pizzeria_id, day, payment_method, channel, \
                orders, total_cents, vat_cents, refunds_cents, refunds_vat_cents) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON DUPLICATE KEY UPDATE orders = ?, total_cents = ?, vat_cents = ?, \
                refunds_cents = ?, refunds_vat_cents = ?",
            pizzeria,
            day,
            payment_method,
            channel,
            want.orders,
            want.total_cents,
            want.vat_cents,
            want.refunds_cents,
            want.refunds_vat_cents,
            want.orders,
            want.total_cents,
            want.vat_cents,
            want.refunds_cents,
            want.refunds_vat_cents,
        )
        .execute(&mut *tx)
        .await?;
        done.days_corrected += 1;
    }
    tx.commit().await?;
    Ok(done)
}

/// Writes each order's share on the slice's orders (the server leaves a row
/// whose values do not change untouched).
async fn write_shares(
    tx: &mut Transaction<'_, MySql>,
    pizzeria: i64,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> Result<(), sqlx::Error> {
    macro_rules! write {
        ($orders:literal, $total:literal, $vat:literal, $refunds:literal, $refunds_vat:literal) => {
            sqlx::query!(
                "UPDATE orders o SET o.revenue_orders = "
                    + $orders
                    + ", o.revenue_total_cents = "
                    + $total
                    + ", o.revenue_vat_cents = "
                    + $vat
                    + ", o.revenue_refunds_cents = "
                    + $refunds
                    + ", o.revenue_refunds_vat_cents = "
                    + $refunds_vat
                    + " WHERE o.pizzeria_id = ? AND o.created_at >= ? AND o.created_at < ?",
                pizzeria,
                start,
                end
            )
        };
    }
    share_of_o!(write).execute(&mut **tx).await?;
    Ok(())
}
