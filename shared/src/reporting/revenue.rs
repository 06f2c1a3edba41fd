//! Revenue over a period, per Paris calendar day and per pizzeria, with the
//! totals: incl. and excl. VAT, VAT, order counts, average basket, by payment
//! method and by channel. Read from the daily summaries (`revenue_days`: one
//! row per pizzeria, day, payment method and channel), which every change of
//! an order keeps in its own transaction (`order::revenue`): a year of the
//! group is a few thousand rows, whatever the size of the history.
//!
//! What counts is what was kept (the rule is `order::revenue`'s). An order
//! sold (its status one of [`SOLD_STATUSES`]) counts its `total_cents`
//! (products and delivery fee), less its goodwill refunds (a reduction is
//! already out of its total); an order that ended without reaching its
//! customer (`failed_delivery`, `no_show`) counts what it was paid less its
//! refunds, and is not counted among the orders. Not `pending_payment` (not
//! paid yet, may never be), `cancelled` or `voided` (refunded). An order and
//! its refunds belong to the Paris day on which it was created. VAT is the
//! order's `vat_cents`, in proportion for a refund or a partial payment;
//! revenue excl. VAT is the difference.
//!
//! The same figures counted from the orders ([`scan`], the report before the
//! summaries) are the reference: the reconciliation check compares them with
//! the summaries, `ocpizza-admin revenue-rebuild` ([`rebuild`]) makes the
//! summaries again from the orders, and until a rebuild has finished once
//! (right after the deploy that brought the summaries) the report counts
//! from the orders, slower and exact.

use crate::platform::ids::PizzeriaId;
use chrono::{DateTime, Duration, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use serde::Serialize;
use sqlx::MySqlPool;
use std::collections::BTreeMap;

pub use crate::order::revenue::{COUNTED_STATUSES, SOLD_STATUSES, UNDELIVERED_STATUSES};

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

/// The figures of one pizzeria, day, payment method and channel: a summary
/// row, or a group counted from the orders.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) pizzeria_id: i64,
    pub(crate) day: NaiveDate,
    pub(crate) payment_method: String,
    pub(crate) channel: String,
    pub(crate) orders: i64,
    pub(crate) total_cents: i64,
    pub(crate) vat_cents: i64,
    pub(crate) refunds_cents: i64,
    pub(crate) refunds_vat_cents: i64,
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
pub(crate) const MAX_PIECES: usize = 4;

/// One pizzeria's summary rows over `period`: one range of the primary key
/// `(pizzeria_id, day, payment_method, channel)`.
async fn summed(pool: &MySqlPool, pizzeria: i64, period: &Period) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as!(
        Row,
        "SELECT pizzeria_id, day, payment_method, channel, orders, total_cents, vat_cents, \
            refunds_cents, refunds_vat_cents \
         FROM revenue_days WHERE pizzeria_id = ? AND day >= ? AND day <= ?",
        pizzeria,
        period.from,
        period.to
    )
    .fetch_all(pool)
    .await
}

/// One pizzeria's figures counted from its orders, for a report asked
/// before the summaries were first built.
async fn scanned(
    pool: &MySqlPool,
    pizzeria: i64,
    period: &Period,
) -> Result<Vec<Row>, sqlx::Error> {
    scan::scan(&mut *pool.acquire().await?, pizzeria, period).await
}

/// Whether a rebuild has finished once: the summaries then hold every order
/// (the migration marks an empty database rebuilt).
pub async fn summaries_built(pool: &MySqlPool) -> Result<bool, sqlx::Error> {
    let done = sqlx::query_scalar!(
        "SELECT id FROM revenue_rebuilds WHERE finished_at IS NOT NULL LIMIT 1"
    )
    .fetch_optional(pool)
    .await?;
    Ok(done.is_some())
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
    // One query per pizzeria, run concurrently (the pool's connections bound
    // how many): each reads one range of the summaries' primary key (a year
    // of one pizzeria is at most 366 days × 2 methods × 3 channels rows).
    let rows: Vec<Row> = if summaries_built(pool).await? {
        let queries = names.iter().map(|(id, _)| summed(pool, *id, &period));
        futures_util::future::try_join_all(queries).await?
    } else {
        let queries = names.iter().map(|(id, _)| scanned(pool, *id, &period));
        futures_util::future::try_join_all(queries).await?
    }
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
pub mod rebuild;
pub mod scan;
#[cfg(test)]
use csv::csv_cell;
pub use csv::{csv_filename, euros, to_csv};

#[cfg(test)]
mod tests;
