//! Pizzerias and their menus, with live availability from stock.
//!
//! A product's `max_quantity` in a pizzeria is how many can still be made from
//! that pizzeria's stock net of reservations: the minimum, over its recipe's
//! ingredients, of `(on_hand - reserved) DIV quantity`. A product without a
//! recipe cannot be made (the kitchen has no card for it) and shows 0. It is
//! one query per menu, whatever the size of the order history: reservations
//! live in `stock.reserved`, so orders are never scanned.
//!
//! Whether a pizzeria is open at an instant, and when it next opens, is
//! [`hours`]' rule; a manager's pause of online orders is [`Pause`].

pub mod catalogue;
pub mod choices;
pub mod hours;
pub mod listing;
pub mod options;
pub mod photos;
pub mod products;
pub mod recipe;
pub mod schedule;
pub mod shops;
pub mod version;

pub use choices::Allergen;
pub use hours::{OpeningPeriod, Period, Rule, SpecialDay};
pub use listing::{MenuExtra, MenuIngredient, MenuSize};

use crate::platform::clock;
use crate::platform::ids::{PizzeriaId, ProductId};
use crate::platform::kept::Kept;
use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Europe::Paris;
use serde::Serialize;
use sqlx::MySqlPool;
use std::sync::Arc;

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

/// What a pause stops: every online order, or online deliveries only
/// (pickup still open: couriers are short, the kitchen is not).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PauseScope {
    All,
    Delivery,
}

impl PauseScope {
    pub fn as_str(self) -> &'static str {
        match self {
            PauseScope::All => "all",
            PauseScope::Delivery => "delivery",
        }
    }

    pub fn parse(text: &str) -> Option<PauseScope> {
        match text {
            "all" => Some(PauseScope::All),
            "delivery" => Some(PauseScope::Delivery),
            _ => None,
        }
    }
}

/// Online orders paused by a manager until `until`, when the pause ends by
/// itself. Phone and counter orders are not paused: staff decide those.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Pause {
    pub scope: PauseScope,
    /// What customers read ("Trop de commandes, revenez dans 20 minutes").
    pub message: String,
    pub until: DateTime<Utc>,
}

impl Pause {
    /// Does it stop an online order for delivery (`true`) or pickup?
    pub fn stops(&self, delivery: bool) -> bool {
        delivery || self.scope == PauseScope::All
    }
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
    /// The special days from yesterday on (closings, other hours).
    pub special_days: Vec<SpecialDay>,
    /// Within opening hours right now (and active).
    pub open_now: bool,
    /// Takes orders at all: active, whatever the hour.
    pub accepting_orders: bool,
    /// Online orders paused right now, and until when.
    pub pause: Option<Pause>,
    /// Minutes an order takes in its kitchen when nothing waits.
    pub prep_minutes: i32,
    /// Pre-orders it takes per quarter hour (0: none).
    pub slot_capacity: i32,
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
    /// Of the recipe as listed (the first size, nothing left off).
    pub allergens: Vec<Allergen>,
    pub vegetarian: bool,
    /// Extras one unit may take (0: none).
    pub max_extras: i64,
    /// Empty when it is sold as its recipe says; else the first is listed.
    pub sizes: Vec<MenuSize>,
    pub ingredients: Vec<MenuIngredient>,
    /// Its photo at the shop's widths, `null` without one (the menu
    /// function fills it in: [`photos::attach`]).
    pub photo: Option<photos::PhotoView>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Menu {
    pub pizzeria: Pizzeria,
    pub products: Vec<MenuProduct>,
    /// The extras a product with `max_extras` may take.
    pub extras: Vec<MenuExtra>,
}

impl Pizzeria {
    /// Its opening rule.
    pub fn rule(&self) -> Rule<'_> {
        Rule::new(&self.opening_hours, &self.special_days)
    }

    /// The same pizzeria as it stands at `now` (for a pizzeria kept between
    /// requests): `open_now`, and a pause over once its time has passed.
    pub fn at(mut self, now: DateTime<Utc>) -> Pizzeria {
        self.open_now = self.accepting_orders && self.rule().is_open(now);
        self.pause = self.pause.filter(|p| p.until > now);
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
        self.rule().next_opening(now)
    }

    /// The pause that stops an online order for delivery (`true`) or
    /// pickup, if any.
    pub fn paused_online(&self, delivery: bool) -> Option<&Pause> {
        self.pause.as_ref().filter(|p| p.stops(delivery))
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
    paused_until: Option<NaiveDateTime>,
    pause_scope: Option<String>,
    pause_message: Option<String>,
    prep_minutes: i16,
    slot_capacity: i16,
}

/// The pizzerias' rows, the query's end (`WHERE`, `ORDER BY`) and its
/// arguments given: one column list for every reader.
macro_rules! pizzeria_rows {
    ($tail:literal $(, $arg:expr)*) => {
        sqlx::query_as!(
            PizzeriaRow,
            "SELECT id, name, line1, postcode, city, phone, latitude, longitude, \
                    status, opens_on, delivery_radius_m, delivery_fee_cents, min_order_cents, \
                    paused_until, pause_scope, pause_message, prep_minutes, slot_capacity \
             FROM pizzerias "
                + $tail
            $(, $arg)*
        )
    };
}

fn pizzeria_from_row(row: PizzeriaRow, hours: Hours, now: DateTime<Utc>) -> Pizzeria {
    let accepting_orders = row.status == "active";
    let pause = match (row.paused_until, row.pause_scope.as_deref()) {
        (Some(until), Some(scope)) => PauseScope::parse(scope).map(|scope| Pause {
            scope,
            message: row.pause_message.unwrap_or_default(),
            until: clock::utc(until),
        }),
        _ => None,
    };
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
        opening_hours: hours.weekly,
        special_days: hours.special,
        open_now: false,
        accepting_orders,
        pause,
        prep_minutes: i32::from(row.prep_minutes),
        slot_capacity: i32::from(row.slot_capacity),
    }
    .at(now)
}

/// A pizzeria's week and special days, as read.
#[derive(Default)]
struct Hours {
    weekly: Vec<OpeningPeriod>,
    special: Vec<SpecialDay>,
}

/// The opening hours of one pizzeria or all, by pizzeria id, with the
/// special days from the day before `now`'s (its late period may still run)
/// on: every one of them, so a manager's screen shows what is planned.
async fn hours(
    pool: &MySqlPool,
    pizzeria: Option<PizzeriaId>,
    now: DateTime<Utc>,
) -> Result<std::collections::HashMap<i64, Hours>, sqlx::Error> {
    // TIME is read as text: portable, and it is what the pages show.
    let pizzeria = pizzeria.map(|p| p.0);
    let weekly = sqlx::query!(
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
    let yesterday = now
        .with_timezone(&Paris)
        .date_naive()
        .checked_sub_days(Days::new(1));
    let special = sqlx::query!(
        "SELECT d.pizzeria_id, d.day, d.note, \
                DATE_FORMAT(h.opens_at, '%H:%i:%s') AS opens_at, \
                DATE_FORMAT(h.closes_at, '%H:%i:%s') AS closes_at \
         FROM special_days d \
         LEFT JOIN special_hours h ON h.pizzeria_id = d.pizzeria_id AND h.day = d.day \
         WHERE (? IS NULL OR d.pizzeria_id = ?) AND d.day >= ? \
         ORDER BY d.pizzeria_id, d.day, h.opens_at",
        pizzeria,
        pizzeria,
        yesterday,
    )
    .fetch_all(pool)
    .await?;
    let mut by_pizzeria: std::collections::HashMap<i64, Hours> = Default::default();
    for row in weekly {
        by_pizzeria
            .entry(row.pizzeria_id)
            .or_default()
            .weekly
            .push(OpeningPeriod {
                weekday: row.weekday as u8,
                opens_at: row.opens_at,
                closes_at: row.closes_at,
            });
    }
    for row in special {
        let days = &mut by_pizzeria.entry(row.pizzeria_id).or_default().special;
        if days.last().is_none_or(|d| d.date != row.day) {
            days.push(SpecialDay {
                date: row.day,
                periods: vec![],
                note: row.note,
            });
        }
        if let (Some(day), Some(opens_at), Some(closes_at)) =
            (days.last_mut(), row.opens_at, row.closes_at)
        {
            day.periods.push(Period {
                opens_at,
                closes_at,
            });
        }
    }
    Ok(by_pizzeria)
}

/// Every pizzeria of the group, open or opening soon, in id order.
pub async fn pizzerias(pool: &MySqlPool, now: DateTime<Utc>) -> Result<Vec<Pizzeria>, sqlx::Error> {
    let rows = pizzeria_rows!("ORDER BY id").fetch_all(pool).await?;
    let mut hours = hours(pool, None, now).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let own = hours.remove(&row.id).unwrap_or_default();
            pizzeria_from_row(row, own, now)
        })
        .collect())
}

/// What the menu's copy of the pizzerias is checked against: how many there
/// are and the sum of their versions (each change bumps one), so a new
/// pizzeria, new hours or a pause is seen at the next request.
pub async fn pizzerias_version(pool: &MySqlPool) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query!(
        "SELECT COUNT(*) AS `count!: i64`, CAST(COALESCE(SUM(version), 0) AS SIGNED) AS `sum!: i64` \
         FROM pizzerias"
    )
    .fetch_one(pool)
    .await?;
    Ok((row.count, row.sum))
}

/// How long a container keeps the pizzerias at most ([`KeptPizzerias`]):
/// within it, each request checks their version ([`pizzerias_version`], or
/// the same count and sum read with something else) and reloads them when
/// it moved, so a new pizzeria, new hours, a special day or a pause shows
/// at the next request. Past it they are read again anyway: a change made
/// by hand in SQL, without a version, shows within this time.
pub const PIZZERIAS_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// A container's copy of the pizzerias with their hours, special days and
/// pauses (shared by its invocations: the menu's and checkout's), read
/// again when their version moved or the copy is older than
/// [`PIZZERIAS_TTL`]. What depends on the hour (open now, a pause that
/// ended) is worked out at each request ([`Pizzeria::at`]).
#[derive(Clone, Default)]
pub struct KeptPizzerias(Kept<(i64, i64), Vec<Pizzeria>>);

impl KeptPizzerias {
    /// Every pizzeria at `version`: the kept copy when it is that version
    /// and younger than the TTL; else read again (3 statements) and kept.
    pub async fn at(
        &self,
        pool: &MySqlPool,
        version: (i64, i64),
    ) -> Result<Arc<Vec<Pizzeria>>, sqlx::Error> {
        self.0
            .at(version, PIZZERIAS_TTL, pizzerias(pool, Utc::now()))
            .await
    }

    /// One pizzeria at `version`, as it stands at `now`; `None` for an
    /// unknown id.
    pub async fn one(
        &self,
        pool: &MySqlPool,
        id: PizzeriaId,
        version: (i64, i64),
        now: DateTime<Utc>,
    ) -> Result<Option<Pizzeria>, sqlx::Error> {
        Ok(self
            .at(pool, version)
            .await?
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.clone().at(now)))
    }
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
    let own = hours(pool, Some(id), now)
        .await?
        .remove(&id.0)
        .unwrap_or_default();
    Ok(Some(pizzeria_from_row(row, own, now)))
}

/// The menu's products in a pizzeria with their availability and what may
/// be chosen, and the extras.
pub async fn listing(
    pool: &MySqlPool,
    pizzeria: &Pizzeria,
) -> Result<(Vec<MenuProduct>, Vec<MenuExtra>), sqlx::Error> {
    let mut products = products(pool, pizzeria).await?;
    let mut conn = pool.acquire().await?;
    let offer = choices::load(&mut conn, choices::Of::All).await?;
    let available = listing::available(&mut conn, pizzeria.id).await?;
    let extras = listing::describe(&mut products, &offer, &available);
    Ok((products, extras))
}

/// The menu's products in a pizzeria with their availability (as listed:
/// the first size), in one query.
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
            let (max_quantity, reason) = listing::as_listed(
                pizzeria.accepting_orders,
                row.excluded > 0,
                row.recipe_lines > 0,
                row.max_quantity,
            );
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
                allergens: Vec::new(),
                vegetarian: false,
                max_extras: 0,
                sizes: Vec::new(),
                ingredients: Vec::new(),
                photo: None,
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
    let (products, extras) = listing(pool, &pizzeria).await?;
    Ok(Some(Menu {
        pizzeria,
        products,
        extras,
    }))
}
