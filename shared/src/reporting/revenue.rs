//! Revenue over a period, per Paris calendar day and per pizzeria, with the
//! totals: incl. and excl. VAT, VAT, order counts, average basket, by payment
//! method and by channel. Summed in SQL (one `GROUP BY`), whatever the size of
//! the history.
//!
//! What counts is what was kept. An order sold (its status one of
//! [`SOLD_STATUSES`]) counts its `total_cents` (products and delivery fee),
//! less its refunds (a reduction, a goodwill gesture); an order that ended
//! without reaching its customer (`failed_delivery`, `no_show`) counts what
//! it was paid less its refunds, and is not counted among the orders. Not
//! `pending_payment` (not paid yet, may never be), `cancelled` or `voided`
//! (refunded). An order and its refunds belong to the Paris day on which it
//! was created. VAT is the order's `vat_cents`, in proportion for a refund or
//! a partial payment; revenue excl. VAT is the difference.
//!
//! Days are Europe/Paris calendar days while `created_at` is UTC. The server
//! may have no time-zone tables (`CONVERT_TZ` then answers NULL), and one
//! fixed offset for the whole period is wrong across a DST change. So the
//! offsets come from chrono-tz, in Rust: the period is cut at each change of
//! Paris's UTC offset, and the SQL adds to `created_at` the offset of its own
//! piece (a `CASE` over at most a few boundaries) before taking the `DATE`.
//! Plain SQL, portable to MySQL 8 and MariaDB 10.6+, exact on both sides of
//! a change, and it still groups by day in the database.

use crate::platform::ids::PizzeriaId;
use chrono::{DateTime, Duration, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use serde::Serialize;
use sqlx::MySqlPool;
use std::collections::BTreeMap;

/// The statuses of an order that was sold: it counts its total.
pub const SOLD_STATUSES: [&str; 6] = [
    "placed",
    "preparing",
    "ready",
    "out_for_delivery",
    "delivered",
    "picked_up",
];

/// The statuses of an order that ended without reaching its customer: it
/// counts what it was paid, and is not an order sold.
pub const UNDELIVERED_STATUSES: [&str; 2] = ["failed_delivery", "no_show"];

/// Every status the report reads.
pub const COUNTED_STATUSES: [&str; 8] = [
    SOLD_STATUSES[0],
    SOLD_STATUSES[1],
    SOLD_STATUSES[2],
    SOLD_STATUSES[3],
    SOLD_STATUSES[4],
    SOLD_STATUSES[5],
    UNDELIVERED_STATUSES[0],
    UNDELIVERED_STATUSES[1],
];

/// The longest period one report covers, in days (a leap year).
pub const MAX_DAYS: i64 = 366;

pub const PAYMENT_METHODS: [&str; 2] = ["card", "cash"];
pub const CHANNELS: [&str; 3] = ["web", "phone", "counter"];

/// A period of Paris calendar days, both ends included, at most [`MAX_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    from: NaiveDate,
    to: NaiveDate,
}

/// The first and last days a report may cover: the Unix epoch, and the
/// last day whose end (and its UTC instant) still fits the database's
/// `DATETIME`, which stops at 9999-12-31. A date parser accepts years from
/// -262144 to +262143, which neither the database nor date arithmetic can
/// take.
fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN)
}
fn last_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(9998, 12, 31).unwrap_or(NaiveDate::MAX)
}

impl Period {
    /// Checks the bounds: `from <= to`, at most [`MAX_DAYS`] days, both from
    /// 1970-01-01 to 9998-12-31.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, String> {
        let (first, last) = (first_day(), last_day());
        if from < first || to > last || to < first || from > last {
            return Err(format!("A report covers days from {first} to {last}."));
        }
        if from > to {
            return Err(format!("`from` ({from}) is after `to` ({to})."));
        }
        let days = (to - from).num_days() + 1;
        if days > MAX_DAYS {
            return Err(format!(
                "The period covers {days} days; at most {MAX_DAYS} per report."
            ));
        }
        Ok(Period { from, to })
    }

    pub fn from(&self) -> NaiveDate {
        self.from
    }
    pub fn to(&self) -> NaiveDate {
        self.to
    }

    /// Every day of the period, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> {
        let to = self.to;
        self.from.iter_days().take_while(move |d| *d <= to)
    }

    /// The UTC instants of Paris midnight opening the period and closing it
    /// (exclusive).
    pub fn utc_bounds(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            paris_midnight(self.from),
            paris_midnight(self.to + Duration::days(1)),
        )
    }

    /// The pieces of the period with one Paris UTC offset each: the instant
    /// each piece starts (UTC) and its offset in seconds. The first piece
    /// starts at the period's start.
    pub fn offsets(&self) -> Vec<(DateTime<Utc>, i32)> {
        let (start, end) = self.utc_bounds();
        let offset_at = |t: DateTime<Utc>| {
            Paris
                .offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc()
        };
        let mut pieces = vec![(start, offset_at(start))];
        // Paris changes its offset on the hour (01:00 UTC), so hourly steps
        // find every change exactly; at most 8,784 steps.
        let mut t = start;
        while t < end {
            let offset = offset_at(t);
            if pieces.last().is_some_and(|(_, o)| *o != offset) {
                pieces.push((t, offset));
            }
            t += Duration::hours(1);
        }
        pieces
    }
}

/// Paris midnight of `day`, in UTC. Midnight always exists in Paris (its
/// changes are at 02:00 and 03:00), `earliest` only guards the type.
fn paris_midnight(day: NaiveDate) -> DateTime<Utc> {
    let local = day.and_time(chrono::NaiveTime::MIN);
    Paris
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

/// Orders and money of one slice (a payment method, a channel).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Slice {
    pub orders: i64,
    pub revenue_cents: i64,
}

/// The figures of a day, a pizzeria or a whole period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub orders: i64,
    /// What was kept: `total_cents`, delivery fees included, less refunds.
    pub revenue_incl_vat_cents: i64,
    pub revenue_excl_vat_cents: i64,
    pub vat_cents: i64,
    /// Refunded on these orders (already taken off the revenue).
    pub refunds_cents: i64,
    /// Revenue incl. VAT per order, rounded to the nearest cent (0 without orders).
    pub average_basket_cents: i64,
    pub by_payment_method: BTreeMap<&'static str, Slice>,
    pub by_channel: BTreeMap<&'static str, Slice>,
}

impl Figures {
    fn empty() -> Figures {
        Figures {
            by_payment_method: PAYMENT_METHODS
                .iter()
                .map(|m| (*m, Slice::default()))
                .collect(),
            by_channel: CHANNELS.iter().map(|c| (*c, Slice::default())).collect(),
            ..Figures::default()
        }
    }

    fn add(&mut self, row: &Row) {
        self.orders += row.orders;
        self.revenue_incl_vat_cents += row.total_cents - row.refunds_cents;
        self.vat_cents += row.vat_cents - row.refunds_vat_cents;
        self.refunds_cents += row.refunds_cents;
        self.revenue_excl_vat_cents = self.revenue_incl_vat_cents - self.vat_cents;
        self.average_basket_cents = if self.orders > 0 {
            (self.revenue_incl_vat_cents + self.orders / 2) / self.orders
        } else {
            0
        };
        for (slices, key) in [
            (&mut self.by_payment_method, row.payment_method.as_str()),
            (&mut self.by_channel, row.channel.as_str()),
        ] {
            // The schema's CHECKs keep methods and channels to the known ones.
            if let Some(slice) = slices.get_mut(key) {
                slice.orders += row.orders;
                slice.revenue_cents += row.total_cents - row.refunds_cents;
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Day {
    pub date: NaiveDate,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PizzeriaRevenue {
    pub pizzeria_id: PizzeriaId,
    pub name: String,
    #[serde(flatten)]
    pub figures: Figures,
    pub days: Vec<Day>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `null` for the group.
    pub pizzeria_id: Option<PizzeriaId>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub time_zone: &'static str,
    pub counted_statuses: [&'static str; 8],
    pub totals: Figures,
    /// Every day of the period, all pizzerias of the scope together.
    pub days: Vec<Day>,
    pub pizzerias: Vec<PizzeriaRevenue>,
}

/// One group of the SQL answer.
#[derive(Debug)]
struct Row {
    pizzeria_id: i64,
    day: NaiveDate,
    payment_method: String,
    channel: String,
    orders: i64,
    total_cents: i64,
    vat_cents: i64,
    refunds_cents: i64,
    refunds_vat_cents: i64,
}

fn days_of(period: &Period) -> Vec<Day> {
    period
        .days()
        .map(|date| Day {
            date,
            figures: Figures::empty(),
        })
        .collect()
}

/// The most pieces of one Paris offset a period has: Paris changes its
/// offset twice a year, and [`MAX_DAYS`] days can hold three changes (the
/// last Sundays of March, or of October, of two years can be 364 days apart).
const MAX_PIECES: usize = 4;

/// One pizzeria's sales over `period`, per Paris day, payment method and
/// channel.
async fn sold(pool: &MySqlPool, pizzeria: i64, period: &Period) -> Result<Vec<Row>, sqlx::Error> {
    let (start, end) = period.utc_bounds();
    let pieces = period.offsets();
    if pieces.len() > MAX_PIECES {
        return Err(sqlx::Error::Protocol(format!(
            "a period of {} offsets (at most {MAX_PIECES})",
            pieces.len()
        )));
    }
    let Some(&(_, first_offset)) = pieces.first() else {
        return Ok(Vec::new());
    };
    // Each row takes the offset of its piece: the `CASE` tries the pieces
    // from the latest. Fewer than four pieces fill the remaining `WHEN`s
    // with the first piece, whose start every row of the period is at or
    // after, so a row's search ends there as it would at the `ELSE`.
    let mut later = pieces[1..]
        .iter()
        .rev()
        .map(|(since, offset)| (since.naive_utc(), *offset));
    let mut next = || later.next().unwrap_or((start.naive_utc(), first_offset));
    let ((since3, offset3), (since2, offset2), (since1, offset1)) = (next(), next(), next());
    let [s0, s1, s2, s3, s4, s5] = SOLD_STATUSES;
    let [u0, u1] = UNDELIVERED_STATUSES;
    // What an order that never reached its customer kept is its charges,
    // read for those few rows only (`CASE` stops at its first match); the
    // others stay on the covering index.
    let mut rows = sqlx::query_as!(
        Row,
        "SELECT o.pizzeria_id, \
            DATE(DATE_ADD(o.created_at, INTERVAL CASE \
                WHEN o.created_at >= ? THEN ? WHEN o.created_at >= ? THEN ? \
                WHEN o.created_at >= ? THEN ? ELSE ? END SECOND)) AS `day!: NaiveDate`, \
            o.payment_method, o.channel, \
            CAST(SUM(CASE WHEN o.status IN (?, ?) THEN 0 ELSE 1 END) AS SIGNED) AS `orders!: i64`, \
            CAST(SUM(CASE WHEN o.status IN (?, ?) THEN ( \
                SELECT COALESCE(SUM(c.amount_cents), 0) FROM payments c WHERE c.order_id = o.id \
                    AND c.kind = 'charge' AND c.status = 'succeeded' AND c.currency = 'eur') \
                ELSE o.total_cents END) AS SIGNED) AS `total_cents!: i64`, \
            CAST(SUM(CASE WHEN o.status IN (?, ?) THEN ROUND(o.vat_cents * ( \
                SELECT COALESCE(SUM(c.amount_cents), 0) FROM payments c WHERE c.order_id = o.id \
                    AND c.kind = 'charge' AND c.status = 'succeeded' AND c.currency = 'eur') \
                / GREATEST(o.total_cents, 1)) ELSE o.vat_cents END) AS SIGNED) AS `vat_cents!: i64`, \
            CAST(0 AS SIGNED) AS `refunds_cents!: i64`, CAST(0 AS SIGNED) AS `refunds_vat_cents!: i64` \
         FROM orders o \
         WHERE o.pizzeria_id = ? AND o.created_at >= ? AND o.created_at < ? \
            AND o.status IN (?, ?, ?, ?, ?, ?, ?, ?) \
         GROUP BY o.pizzeria_id, `day!: NaiveDate`, o.payment_method, o.channel",
        since3,
        offset3,
        since2,
        offset2,
        since1,
        offset1,
        first_offset,
        u0,
        u1,
        u0,
        u1,
        u0,
        u1,
        pizzeria,
        start.naive_utc(),
        end.naive_utc(),
        s0,
        s1,
        s2,
        s3,
        s4,
        s5,
        u0,
        u1
    )
    .fetch_all(pool)
    .await?;
    rows.extend(refunds(pool, pizzeria, period).await?);
    Ok(rows)
}

/// The refunds that take money off one pizzeria's orders of `period`, each
/// on its order's Paris day, with their VAT in proportion: a manager's
/// goodwill refunds of a sold order (its total already left out what a
/// reduction or a double payment gave back), and every refund of an order
/// that never reached its customer (counted at what it was paid). Refunds
/// are few: they are read from their own index (`ix_payments_kind`) and
/// given their day here.
async fn refunds(
    pool: &MySqlPool,
    pizzeria: i64,
    period: &Period,
) -> Result<Vec<Row>, sqlx::Error> {
    let (start, end) = period.utc_bounds();
    let [s0, s1, s2, s3, s4, s5, s6, s7] = COUNTED_STATUSES;
    let [u0, u1] = UNDELIVERED_STATUSES;
    // The refund statuses are the money rule's COUNTED_REFUND_STATUSES.
    let refunds = sqlx::query!(
        "SELECT o.created_at, o.payment_method, o.channel, \
            CAST(SUM(r.amount_cents) AS SIGNED) AS `refunded!: i64`, \
            CAST(SUM(ROUND(o.vat_cents * r.amount_cents / GREATEST(o.total_cents, 1))) AS SIGNED) AS `vat!: i64` \
         FROM payments r JOIN orders o ON o.id = r.order_id \
         WHERE r.kind = 'refund' AND r.status IN ('requested', 'pending', 'requires_action', 'succeeded') \
            AND r.currency = 'eur' AND o.pizzeria_id = ? AND o.created_at >= ? AND o.created_at < ? \
            AND o.status IN (?, ?, ?, ?, ?, ?, ?, ?) AND (r.reason = 'goodwill' OR o.status IN (?, ?)) \
         GROUP BY o.id, o.created_at, o.payment_method, o.channel",
        pizzeria,
        start.naive_utc(),
        end.naive_utc(),
        s0,
        s1,
        s2,
        s3,
        s4,
        s5,
        s6,
        s7,
        u0,
        u1
    )
    .fetch_all(pool)
    .await?;
    Ok(refunds
        .into_iter()
        .map(|r| Row {
            pizzeria_id: pizzeria,
            day: paris_day(r.created_at.and_utc()),
            payment_method: r.payment_method,
            channel: r.channel,
            orders: 0,
            total_cents: 0,
            vat_cents: 0,
            refunds_cents: r.refunded,
            refunds_vat_cents: r.vat,
        })
        .collect())
}

/// The Paris calendar day of a UTC instant.
fn paris_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Paris).date_naive()
}

/// The report for one pizzeria, or the group (`None`), over `period`.
/// Pizzerias of the scope without a sale show with zeros.
pub async fn report(
    pool: &MySqlPool,
    pizzeria: Option<PizzeriaId>,
    period: Period,
) -> Result<Report, sqlx::Error> {
    let scope = pizzeria.map(|p| p.0);
    let names: Vec<(i64, String)> = sqlx::query!(
        "SELECT id, name FROM pizzerias WHERE (? IS NULL OR id = ?) ORDER BY id",
        scope,
        scope
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| (row.id, row.name))
    .collect();
    if names.is_empty() {
        return Ok(Report {
            pizzeria_id: pizzeria,
            from: period.from,
            to: period.to,
            time_zone: "Europe/Paris",
            counted_statuses: COUNTED_STATUSES,
            totals: Figures::empty(),
            days: days_of(&period),
            pizzerias: Vec::new(),
        });
    }
    // One query per pizzeria, run concurrently: each reads one range of the
    // covering index `ix_orders_revenue (pizzeria_id, created_at, status,
    // payment_method, channel, total_cents, vat_cents)` without touching the
    // table (MariaDB has no skip scan: a group query on `created_at` alone
    // would scan the whole index), and the database works on several at once
    // (the pool's connections bound how many).
    let queries = names.iter().map(|(id, _)| sold(pool, *id, &period));
    let rows: Vec<Row> = futures_util::future::try_join_all(queries)
        .await?
        .into_iter()
        .flatten()
        .collect();

    let mut pizzerias: BTreeMap<i64, PizzeriaRevenue> = names
        .into_iter()
        .map(|(id, name)| {
            (
                id,
                PizzeriaRevenue {
                    pizzeria_id: PizzeriaId(id),
                    name,
                    figures: Figures::empty(),
                    days: days_of(&period),
                },
            )
        })
        .collect();
    let mut totals = Figures::empty();
    let mut days = days_of(&period);
    for row in &rows {
        let index = (row.day - period.from).num_days();
        let Ok(index) = usize::try_from(index) else {
            continue;
        };
        totals.add(row);
        if let Some(day) = days.get_mut(index) {
            day.figures.add(row);
        }
        if let Some(p) = pizzerias.get_mut(&row.pizzeria_id) {
            p.figures.add(row);
            if let Some(day) = p.days.get_mut(index) {
                day.figures.add(row);
            }
        }
    }
    Ok(Report {
        pizzeria_id: pizzeria,
        from: period.from,
        to: period.to,
        time_zone: "Europe/Paris",
        counted_statuses: COUNTED_STATUSES,
        totals,
        days,
        pizzerias: pizzerias.into_values().collect(),
    })
}

mod csv;
#[cfg(test)]
use csv::csv_cell;
pub use csv::{csv_filename, euros, to_csv};

#[cfg(test)]
mod tests;
