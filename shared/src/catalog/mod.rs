//! Pizzerias and their menus, with live availability from stock.
//!
//! A product's `max_quantity` in a pizzeria is how many can still be made from
//! that pizzeria's stock net of reservations: the minimum, over its recipe's
//! ingredients, of `(on_hand - reserved) DIV quantity`. A product without a
//! recipe cannot be made (the kitchen has no card for it) and shows 0. It is
//! one query per menu, whatever the size of the order history: reservations
//! live in `stock.reserved`, so orders are never scanned.
//!
//! Opening hours are local times in Paris; whether a pizzeria is open at an
//! instant, and when it next opens, are pure functions of its hours and that
//! instant.

pub mod products;
pub mod recipe;

use crate::platform::ids::{PizzeriaId, ProductId};
use chrono::offset::LocalResult;
use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Europe::Paris;
use serde::Serialize;
use sqlx::MySqlPool;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Address {
    pub line1: String,
    pub postcode: String,
    pub city: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Delivery {
    pub radius_m: i32,
    pub delivery_fee_cents: i64,
    pub min_order_cents: i64,
}

/// One opening period, in local time (Europe/Paris); weekday 1 = Monday.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OpeningPeriod {
    pub weekday: u8,
    pub opens_at: String,
    pub closes_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Pizzeria {
    pub id: PizzeriaId,
    pub name: String,
    pub address: Address,
    pub phone: String,
    pub latitude: f64,
    pub longitude: f64,
    /// `active`, `opening_soon` or `closed`.
    pub status: String,
    pub opens_on: Option<chrono::NaiveDate>,
    pub delivery: Delivery,
    pub opening_hours: Vec<OpeningPeriod>,
    /// Within opening hours right now (and active).
    pub open_now: bool,
    /// Takes orders at all: active, whatever the hour.
    pub accepting_orders: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MenuProduct {
    pub id: ProductId,
    pub name: String,
    pub category: String,
    pub description: String,
    pub price_cents: i64,
    pub vat_rate_bp: i32,
    pub available: bool,
    pub max_quantity: i64,
    /// Why it cannot be ordered, when it cannot: `sold_out`, `no_recipe`,
    /// `not_on_this_menu` or `pizzeria_not_open`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable_reason: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Menu {
    pub pizzeria: Pizzeria,
    pub products: Vec<MenuProduct>,
}

impl Pizzeria {
    /// The same pizzeria, its `open_now` computed for `now` (for a pizzeria
    /// kept between requests).
    pub fn at(mut self, now: DateTime<Utc>) -> Pizzeria {
        self.open_now = self.accepting_orders && is_open(&self.opening_hours, now);
        self
    }

    /// Has opened its doors: `active`, or `closed` since. A pizzeria
    /// `opening_soon` is not a shop yet.
    pub fn has_opened(&self) -> bool {
        self.status != "opening_soon"
    }

    /// When it next takes orders, at or after `now`: `None` when it takes no
    /// orders at all (not `active`) or has no opening hours.
    pub fn next_opening(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if !self.accepting_orders {
            return None;
        }
        next_opening(&self.opening_hours, now)
    }
}

/// A `pizzerias` row, as [`pizzeria_rows!`] reads it.
struct PizzeriaRow {
    id: i64,
    name: String,
    line1: String,
    postcode: String,
    city: String,
    phone: String,
    latitude: f64,
    longitude: f64,
    status: String,
    opens_on: Option<NaiveDate>,
    delivery_radius_m: i32,
    delivery_fee_cents: i64,
    min_order_cents: i64,
}

/// The pizzerias' rows, the query's end (`WHERE`, `ORDER BY`) and its
/// arguments given: one column list for every reader.
macro_rules! pizzeria_rows {
    ($tail:literal $(, $arg:expr)*) => {
        sqlx::query_as!(
            PizzeriaRow,
            "SELECT id, name, line1, postcode, city, phone, latitude, longitude, \
                    status, opens_on, delivery_radius_m, delivery_fee_cents, min_order_cents \
             FROM pizzerias "
                + $tail
            $(, $arg)*
        )
    };
}

fn pizzeria_from_row(row: PizzeriaRow, hours: Vec<OpeningPeriod>, now: DateTime<Utc>) -> Pizzeria {
    let accepting_orders = row.status == "active";
    let open_now = accepting_orders && is_open(&hours, now);
    Pizzeria {
        id: PizzeriaId(row.id),
        name: row.name,
        address: Address {
            line1: row.line1,
            postcode: row.postcode,
            city: row.city,
        },
        phone: row.phone,
        latitude: row.latitude,
        longitude: row.longitude,
        status: row.status,
        opens_on: row.opens_on,
        delivery: Delivery {
            radius_m: row.delivery_radius_m,
            delivery_fee_cents: row.delivery_fee_cents,
            min_order_cents: row.min_order_cents,
        },
        opening_hours: hours,
        open_now,
        accepting_orders,
    }
}

/// Is `now` inside one of the periods, in Paris time?
pub fn is_open(hours: &[OpeningPeriod], now: DateTime<Utc>) -> bool {
    let local = now.with_timezone(&Paris);
    let weekday = local.weekday().number_from_monday() as u8;
    let time = local.time();
    hours
        .iter()
        .filter(|p| p.weekday == weekday)
        .filter_map(times)
        .any(|(opens, closes)| opens <= time && time < closes)
}

/// The first instant at or after `now` at which one of the periods begins
/// (Paris time), so the first at which [`is_open`] holds for a pizzeria
/// closed at `now`; `None` without any period.
pub fn next_opening(hours: &[OpeningPeriod], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let today = now.with_timezone(&Paris).date_naive();
    // Today and the 8 days after: a period that began earlier today comes
    // back in 7 days; one lost tomorrow to the clocks going forward, in 8.
    (0..=8)
        .filter_map(|days| today.checked_add_days(Days::new(days)))
        .flat_map(|date| {
            let weekday = date.weekday().number_from_monday() as u8;
            hours
                .iter()
                .filter(move |p| p.weekday == weekday)
                .flat_map(move |p| starts(date, p))
        })
        .filter(|start| *start >= now)
        .min()
}

/// The instants at which a period begins on `date`. Usually one; when the
/// clocks go back, a start inside the repeated hour happens twice; when they
/// go forward, a start inside the missing hour happens when the clocks jump,
/// unless the period is over by then.
fn starts(date: NaiveDate, period: &OpeningPeriod) -> Vec<DateTime<Utc>> {
    let Some((opens, closes)) = times(period) else {
        return vec![];
    };
    let local = date.and_time(opens);
    match Paris.from_local_datetime(&local) {
        LocalResult::Single(at) => vec![at.to_utc()],
        LocalResult::Ambiguous(first, second) => vec![first.to_utc(), second.to_utc()],
        LocalResult::None => {
            // The first local minute after the start that exists: the jump
            // (time zones change on whole minutes).
            let minute = local.with_second(0).unwrap_or(local);
            (1..=24 * 60)
                .map(|m| minute + TimeDelta::minutes(m))
                .take_while(|l| l.date() == date && l.time() < closes)
                .find_map(|l| Paris.from_local_datetime(&l).earliest())
                .map(|at| at.to_utc())
                .into_iter()
                .collect()
        }
    }
}

/// A period's opening and closing times, `None` if either does not parse.
fn times(period: &OpeningPeriod) -> Option<(NaiveTime, NaiveTime)> {
    let parse = |t: &str| NaiveTime::parse_from_str(t, "%H:%M:%S").ok();
    Some((parse(&period.opens_at)?, parse(&period.closes_at)?))
}

async fn opening_hours(
    pool: &MySqlPool,
    pizzeria: Option<PizzeriaId>,
) -> Result<Vec<(i64, OpeningPeriod)>, sqlx::Error> {
    // TIME is read as text: portable, and it is what the pages show.
    let pizzeria = pizzeria.map(|p| p.0);
    let rows = sqlx::query!(
        "SELECT pizzeria_id, weekday, \
                DATE_FORMAT(opens_at, '%H:%i:%s') AS `opens_at!`, \
                DATE_FORMAT(closes_at, '%H:%i:%s') AS `closes_at!` \
         FROM opening_hours WHERE (? IS NULL OR pizzeria_id = ?) \
         ORDER BY pizzeria_id, weekday, opens_at",
        pizzeria,
        pizzeria,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                row.pizzeria_id,
                OpeningPeriod {
                    weekday: row.weekday as u8,
                    opens_at: row.opens_at,
                    closes_at: row.closes_at,
                },
            )
        })
        .collect())
}

/// Every pizzeria of the group, open or opening soon, in id order.
pub async fn pizzerias(pool: &MySqlPool, now: DateTime<Utc>) -> Result<Vec<Pizzeria>, sqlx::Error> {
    let rows = pizzeria_rows!("ORDER BY id").fetch_all(pool).await?;
    let mut hours = opening_hours(pool, None).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.id;
            let own: Vec<OpeningPeriod> = hours
                .iter()
                .filter(|(p, _)| *p == id)
                .map(|(_, period)| period.clone())
                .collect();
            hours.retain(|(p, _)| *p != id);
            pizzeria_from_row(row, own, now)
        })
        .collect())
}

/// Is there a pizzeria with this id (whatever its status)?
pub async fn pizzeria_exists(pool: &MySqlPool, id: PizzeriaId) -> Result<bool, sqlx::Error> {
    let found = sqlx::query_scalar!("SELECT id FROM pizzerias WHERE id = ?", id.0)
        .fetch_optional(pool)
        .await?;
    Ok(found.is_some())
}

/// One pizzeria, or `None` when there is no such id.
pub async fn pizzeria(
    pool: &MySqlPool,
    id: PizzeriaId,
    now: DateTime<Utc>,
) -> Result<Option<Pizzeria>, sqlx::Error> {
    let row = pizzeria_rows!("WHERE id = ?", id.0)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let hours = opening_hours(pool, Some(id))
        .await?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    Ok(Some(pizzeria_from_row(row, hours, now)))
}

/// The menu's products in a pizzeria with their availability, in one query.
pub async fn products(
    pool: &MySqlPool,
    pizzeria: &Pizzeria,
) -> Result<Vec<MenuProduct>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT p.id, p.name, c.name AS category, p.description, p.price_cents, p.vat_rate_bp, \
                COUNT(me.product_id) AS `excluded!`, \
                COUNT(r.ingredient_id) AS `recipe_lines!`, \
                MIN(GREATEST(COALESCE(s.on_hand, 0) - COALESCE(s.reserved, 0), 0) DIV r.quantity) AS `max_quantity?` \
         FROM products p \
         JOIN categories c ON c.id = p.category_id \
         LEFT JOIN menu_exclusions me ON me.pizzeria_id = ? AND me.product_id = p.id \
         LEFT JOIN recipe_lines r ON r.product_id = p.id \
         LEFT JOIN stock s ON s.pizzeria_id = ? AND s.ingredient_id = r.ingredient_id \
         WHERE p.active \
         GROUP BY p.id, p.name, c.name, c.position, p.position, p.description, p.price_cents, p.vat_rate_bp \
         ORDER BY c.position, p.position, p.id",
        pizzeria.id.0,
        pizzeria.id.0,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (max_quantity, reason) = if !pizzeria.accepting_orders {
                (0, Some("pizzeria_not_open"))
            } else if row.excluded > 0 {
                (0, Some("not_on_this_menu"))
            } else if row.recipe_lines == 0 {
                (0, Some("no_recipe"))
            } else {
                let max = row.max_quantity.unwrap_or(0).max(0);
                (max, (max == 0).then_some("sold_out"))
            };
            MenuProduct {
                id: ProductId(row.id),
                name: row.name,
                category: row.category,
                description: row.description,
                price_cents: row.price_cents,
                vat_rate_bp: row.vat_rate_bp,
                available: max_quantity > 0,
                max_quantity,
                unavailable_reason: reason,
            }
        })
        .collect())
}

/// A pizzeria's whole menu, or `None` for an unknown pizzeria.
pub async fn menu(
    pool: &MySqlPool,
    id: PizzeriaId,
    now: DateTime<Utc>,
) -> Result<Option<Menu>, sqlx::Error> {
    let Some(pizzeria) = pizzeria(pool, id, now).await? else {
        return Ok(None);
    };
    let products = products(pool, &pizzeria).await?;
    Ok(Some(Menu { pizzeria, products }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(weekday: u8, opens_at: &str, closes_at: &str) -> OpeningPeriod {
        OpeningPeriod {
            weekday,
            opens_at: opens_at.into(),
            closes_at: closes_at.into(),
        }
    }

    #[test]
    fn opening_hours_are_paris_time() {
        // Saturday 28 Nov 2026: Paris is UTC+1.
        let hours = [period(6, "18:00:00", "23:00:00")];
        let at = |h, m| Utc.with_ymd_and_hms(2026, 11, 28, h, m, 0).unwrap();
        assert!(!is_open(&hours, at(16, 59))); // 17:59 in Paris
        assert!(is_open(&hours, at(17, 0))); // 18:00
        assert!(is_open(&hours, at(21, 59))); // 22:59
        assert!(!is_open(&hours, at(22, 0))); // 23:00: closed
                                              // The same hour on Sunday is closed: no period that day.
        assert!(!is_open(
            &hours,
            Utc.with_ymd_and_hms(2026, 11, 29, 18, 0, 0).unwrap()
        ));
    }

    /// The demo's ordinary hours: lunch and dinner, Tuesday to Sunday.
    fn lunch_and_dinner() -> Vec<OpeningPeriod> {
        (2..=7)
            .flat_map(|day| {
                [
                    period(day, "11:30:00", "14:30:00"),
                    period(day, "18:00:00", "23:00:00"),
                ]
            })
            .collect()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn paris(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Paris
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .unwrap()
            .to_utc()
    }

    #[test]
    fn the_next_opening_is_the_next_period_in_paris_time() {
        let hours = lunch_and_dinner();
        // Saturday 28 Nov 2026 (UTC+1): between the services, then during one.
        assert_eq!(
            next_opening(&hours, paris(2026, 11, 28, 15, 0)),
            Some(utc(2026, 11, 28, 17, 0))
        );
        assert_eq!(
            next_opening(&hours, paris(2026, 11, 28, 12, 0)),
            Some(paris(2026, 11, 28, 18, 0))
        );
        // At the very minute it opens: now.
        assert_eq!(
            next_opening(&hours, paris(2026, 11, 28, 18, 0)),
            Some(paris(2026, 11, 28, 18, 0))
        );
        // No hours, no opening.
        assert_eq!(next_opening(&[], paris(2026, 11, 28, 15, 0)), None);
    }

    #[test]
    fn the_next_opening_crosses_the_weeks_end() {
        let hours = lunch_and_dinner();
        // Sunday 29 Nov 2026 after dinner: closed on Monday, so Tuesday lunch.
        assert_eq!(
            next_opening(&hours, paris(2026, 11, 29, 23, 30)),
            Some(utc(2026, 12, 1, 10, 30))
        );
        // Monday all day: the same Tuesday.
        assert_eq!(
            next_opening(&hours, paris(2026, 11, 30, 12, 0)),
            Some(paris(2026, 12, 1, 11, 30))
        );
        // Open on Mondays only, asked on a Tuesday: six days later.
        let mondays = [period(1, "18:00:00", "22:00:00")];
        assert_eq!(
            next_opening(&mondays, paris(2026, 12, 1, 9, 0)),
            Some(paris(2026, 12, 7, 18, 0))
        );
        // Asked on a Monday after it closed: a week later.
        assert_eq!(
            next_opening(&mondays, paris(2026, 11, 30, 22, 0)),
            Some(paris(2026, 12, 7, 18, 0))
        );
    }

    #[test]
    fn the_next_opening_follows_the_change_of_hour() {
        let hours = lunch_and_dinner();
        // Saturday 27 March 2027 after dinner (UTC+1); Sunday lunch is after
        // the clocks go forward (UTC+2): 09:30 UTC, not 10:30.
        assert_eq!(
            next_opening(&hours, paris(2027, 3, 27, 23, 30)),
            Some(utc(2027, 3, 28, 9, 30))
        );
        // Saturday 24 October 2026 after dinner (UTC+2); Sunday lunch is
        // after they go back (UTC+1): 10:30 UTC.
        assert_eq!(
            next_opening(&hours, paris(2026, 10, 24, 23, 30)),
            Some(utc(2026, 10, 25, 10, 30))
        );

        // A night opening inside the hour that does not exist (28 March 2027,
        // 02:00 to 03:00): it opens when the clocks jump to 03:00, 01:00 UTC.
        let night = [period(7, "02:30:00", "04:00:00")];
        assert_eq!(
            next_opening(&night, paris(2027, 3, 27, 23, 0)),
            Some(utc(2027, 3, 28, 1, 0))
        );
        // A period wholly inside that hour does not happen that night.
        let lost = [period(7, "02:15:00", "02:45:00")];
        assert_eq!(
            next_opening(&lost, paris(2027, 3, 27, 23, 0)),
            Some(paris(2027, 4, 4, 2, 15))
        );
        // Inside the hour that happens twice (25 October 2026, 02:00 to
        // 03:00): 02:30 comes at 00:30 UTC, and again at 01:30 UTC.
        assert_eq!(
            next_opening(&night, utc(2026, 10, 25, 0, 0)),
            Some(utc(2026, 10, 25, 0, 30))
        );
        assert_eq!(
            next_opening(&night, utc(2026, 10, 25, 1, 0)),
            Some(utc(2026, 10, 25, 1, 30))
        );
    }

    /// Minute by minute over a fortnight around each change of hour: for
    /// every closed minute, the next opening is the first minute `is_open`
    /// holds.
    #[test]
    fn the_next_opening_is_the_first_open_minute() {
        let mut hours = lunch_and_dinner();
        hours.push(period(7, "02:30:00", "04:00:00"));
        hours.push(period(7, "02:15:00", "02:20:00"));
        hours.push(period(1, "00:00:00", "01:00:00"));
        for start in [utc(2027, 3, 21, 0, 0), utc(2026, 10, 18, 0, 0)] {
            let minutes: Vec<DateTime<Utc>> = (0..14 * 24 * 60)
                .map(|m| start + TimeDelta::minutes(m))
                .collect();
            let mut first_open = None;
            for &at in minutes.iter().rev() {
                if is_open(&hours, at) {
                    first_open = Some(at);
                    continue;
                }
                if let Some(expected) = first_open {
                    assert_eq!(next_opening(&hours, at), Some(expected), "from {at}");
                }
            }
        }
    }
}
