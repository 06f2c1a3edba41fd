//! When a pizzeria takes orders, from its manager's screen: the week's
//! hours, special days (closings, other hours), and pausing online orders.
//!
//! - `GET /pizzerias/{id}/hours` → the week, the special days from
//!   yesterday on, the pause, `open_now` and `next_opening`;
//! - `PUT /pizzerias/{id}/hours` `{"weekly": [{weekday, opens_at, closes_at}]}`:
//!   the whole week at once (a period closing at or before it opens runs
//!   past midnight);
//! - `PUT /pizzerias/{id}/special-days/{YYYY-MM-DD}` `{"periods": [...], "note"}`
//!   (no period: closed that day), `DELETE` to go back to the week's hours;
//! - `PUT /pizzerias/{id}/pause` `{"scope": "all"|"delivery", "minutes", "message"}`:
//!   online orders stop until the pause ends by itself, `DELETE` ends it now.
//!
//! Every answer is the `GET`'s, as it stands after the change. The rule all
//! of it feeds is `ocpizza::catalog::hours`; the checkout, the menu and the
//! geocoder read the same.

use crate::{allowed, field_error, invalid, State};
use chrono::{Days, NaiveDate, TimeDelta};
use chrono_tz::Europe::Paris;
use http::StatusCode;
use ocpizza::catalog::hours::{self, OpeningPeriod, Period};
use ocpizza::catalog::{self, schedule, PauseScope};
use ocpizza::identity::access::Action;
use ocpizza::platform::http::{self as edge, ApiError, Request, Response};
use ocpizza::platform::ids::PizzeriaId;
use serde::Deserialize;
use serde_json::json;

/// How long a pause may last: a service. Longer is a special day.
pub const MAX_PAUSE_MINUTES: i64 = 12 * 60;
/// How far ahead a special day may be set.
pub const MAX_DAYS_AHEAD: u64 = 366;
/// What customers read of a note or a pause's message, at most.
const MAX_MESSAGE_CHARS: usize = 200;

/// The hours as they stand, `404` for an unknown pizzeria.
pub async fn show(
    state: &State,
    req: &Request,
    pizzeria: PizzeriaId,
) -> Result<Response, ApiError> {
    allowed(state, req, Action::ManagePizzeria, pizzeria).await?;
    answer(state, pizzeria).await
}

async fn answer(state: &State, id: PizzeriaId) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let pizzeria = catalog::pizzeria(&state.pool, id, now)
        .await?
        .ok_or_else(|| no_pizzeria(id))?;
    edge::json(
        StatusCode::OK,
        &json!({
            "pizzeria_id": id,
            "weekly": pizzeria.opening_hours,
            "special_days": pizzeria.special_days,
            "pause": pizzeria.pause,
            "open_now": pizzeria.open_now,
            "next_opening": pizzeria.next_opening(now),
        }),
    )
}

fn no_pizzeria(id: PizzeriaId) -> ApiError {
    ApiError::not_found(format!("No pizzeria with id {id}."))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WeekIn {
    weekly: Vec<OpeningPeriod>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DayIn {
    periods: Vec<Period>,
    #[serde(default)]
    note: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PauseIn {
    scope: String,
    minutes: i64,
    #[serde(default)]
    message: String,
}

/// The problems of periods, as the `errors` of a 422 naming each one.
fn period_errors(periods: &[(u8, &str, &str)], wrap: bool, field: &str) -> Vec<serde_json::Value> {
    hours::problems(periods, wrap)
        .into_iter()
        .map(|(i, message)| field_error(&format!("{field}[{i}]"), &message))
        .collect()
}

/// Text a customer reads: one line, its spaces tidied, at most 200
/// characters (an error otherwise).
fn customer_text(raw: &str, field: &str, errors: &mut Vec<serde_json::Value>) -> String {
    let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > MAX_MESSAGE_CHARS {
        errors.push(field_error(
            field,
            &format!("At most {MAX_MESSAGE_CHARS} characters."),
        ));
    }
    text
}

#[tracing::instrument(skip_all, fields(pizzeria_id = %pizzeria))]
pub async fn set_week(
    state: &State,
    req: &Request,
    pizzeria: PizzeriaId,
) -> Result<Response, ApiError> {
    let caller = allowed(state, req, Action::ManagePizzeria, pizzeria).await?;
    let body: WeekIn = edge::parse_json(req)?;
    let periods: Vec<(u8, &str, &str)> = body
        .weekly
        .iter()
        .map(|p| (p.weekday, p.opens_at.as_str(), p.closes_at.as_str()))
        .collect();
    let errors = period_errors(&periods, true, "weekly");
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    if !schedule::set_weekly(&state.pool, pizzeria, &body.weekly).await? {
        return Err(no_pizzeria(pizzeria));
    }
    tracing::info!(periods = body.weekly.len(), user_id = %caller.user_id, "opening hours set");
    answer(state, pizzeria).await
}

/// The date of a special day: a calendar day from today (Paris) to a year
/// ahead.
fn special_date(state: &State, raw: &str) -> Result<NaiveDate, ApiError> {
    let today = state.clock.now().with_timezone(&Paris).date_naive();
    let last = today.checked_add_days(Days::new(MAX_DAYS_AHEAD));
    match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        Ok(day) if day >= today && last.is_some_and(|last| day <= last) => Ok(day),
        Ok(_) => Err(invalid(vec![field_error(
            "date",
            &format!("A day from today to {MAX_DAYS_AHEAD} days ahead (past days are history)."),
        )])),
        Err(_) => Err(invalid(vec![field_error(
            "date",
            "A date as YYYY-MM-DD (a Paris calendar day).",
        )])),
    }
}

#[tracing::instrument(skip_all, fields(pizzeria_id = %pizzeria, day = raw_day))]
pub async fn set_day(
    state: &State,
    req: &Request,
    pizzeria: PizzeriaId,
    raw_day: &str,
) -> Result<Response, ApiError> {
    let caller = allowed(state, req, Action::ManagePizzeria, pizzeria).await?;
    let day = special_date(state, raw_day)?;
    let body: DayIn = edge::parse_json(req)?;
    let periods: Vec<(u8, &str, &str)> = body
        .periods
        .iter()
        .map(|p| (1, p.opens_at.as_str(), p.closes_at.as_str()))
        .collect();
    let mut errors = period_errors(&periods, false, "periods");
    let note = customer_text(&body.note, "note", &mut errors);
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    if !schedule::set_special_day(&state.pool, pizzeria, day, &body.periods, &note).await? {
        return Err(no_pizzeria(pizzeria));
    }
    tracing::info!(%day, closed = body.periods.is_empty(), user_id = %caller.user_id, "special day set");
    answer(state, pizzeria).await
}

pub async fn remove_day(
    state: &State,
    req: &Request,
    pizzeria: PizzeriaId,
    raw_day: &str,
) -> Result<Response, ApiError> {
    allowed(state, req, Action::ManagePizzeria, pizzeria).await?;
    let day = NaiveDate::parse_from_str(raw_day, "%Y-%m-%d").map_err(|_| {
        invalid(vec![field_error(
            "date",
            "A date as YYYY-MM-DD (a Paris calendar day).",
        )])
    })?;
    schedule::remove_special_day(&state.pool, pizzeria, day).await?;
    answer(state, pizzeria).await
}

#[tracing::instrument(skip_all, fields(pizzeria_id = %pizzeria))]
pub async fn pause(
    state: &State,
    req: &Request,
    pizzeria: PizzeriaId,
) -> Result<Response, ApiError> {
    let caller = allowed(state, req, Action::ManagePizzeria, pizzeria).await?;
    let body: PauseIn = edge::parse_json(req)?;
    let mut errors = Vec::new();
    let scope = PauseScope::parse(&body.scope);
    if scope.is_none() {
        errors.push(field_error(
            "scope",
            "`all` (every online order) or `delivery` (online deliveries; pickup stays open).",
        ));
    }
    if !(1..=MAX_PAUSE_MINUTES).contains(&body.minutes) {
        errors.push(field_error(
            "minutes",
            &format!("From 1 to {MAX_PAUSE_MINUTES}: a pause ends by itself within a service."),
        ));
    }
    let message = customer_text(&body.message, "message", &mut errors);
    let Some(scope) = scope.filter(|_| errors.is_empty()) else {
        return Err(invalid(errors));
    };
    if !catalog::pizzeria_exists(&state.pool, pizzeria).await? {
        return Err(no_pizzeria(pizzeria));
    }
    let until = state.clock.now() + TimeDelta::minutes(body.minutes);
    schedule::pause(&state.pool, pizzeria, scope, &message, until).await?;
    tracing::info!(scope = scope.as_str(), %until, user_id = %caller.user_id, "online orders paused");
    answer(state, pizzeria).await
}

pub async fn resume(
    state: &State,
    req: &Request,
    pizzeria: PizzeriaId,
) -> Result<Response, ApiError> {
    let caller = allowed(state, req, Action::ManagePizzeria, pizzeria).await?;
    schedule::resume(&state.pool, pizzeria).await?;
    tracing::info!(user_id = %caller.user_id, "online orders resumed");
    answer(state, pizzeria).await
}
