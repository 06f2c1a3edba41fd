//! When a pizzeria is open: one rule for the menu's `open_now`, the
//! checkout's refusal and the next opening, in Paris wall-clock time.
//!
//! - A week of periods, several a day. A period whose closing time is not
//!   after its opening time runs past midnight (`18:00`–`01:00`, `19:00`–`00:00`):
//!   it belongs to the day it starts.
//! - Special days replace a date's weekly periods: closed (no period), or
//!   other hours. A period that started the evening before still runs into
//!   a special day (it belongs to the day before).
//! - Times are compared on the wall clock: on the night the clocks go
//!   forward, an `18:00`–`03:00` period ends at 03:00 like any other night (it
//!   lasts an hour less); the night they go back, an hour longer.
//!
//! Everything here is pure: the instant is given, so tests choose it.

use chrono::offset::LocalResult;
use chrono::{
    DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Timelike,
    Utc,
};
use chrono_tz::Europe::Paris;
use serde::{Deserialize, Serialize};

/// One weekly opening period, in local time (Europe/Paris); weekday 1 =
/// Monday. Times read `HH:MM:SS`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OpeningPeriod {
    pub weekday: u8,
    pub opens_at: String,
    pub closes_at: String,
}

/// A period of a special day.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Period {
    pub opens_at: String,
    pub closes_at: String,
}

/// A date whose hours are not the week's: `periods` empty means closed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SpecialDay {
    pub date: NaiveDate,
    pub periods: Vec<Period>,
    /// What customers read ("Fermeture annuelle", "Réveillon").
    pub note: String,
}

impl SpecialDay {
    pub fn closed(&self) -> bool {
        self.periods.is_empty()
    }
}

/// A pizzeria's hours: its week and its special days.
#[derive(Debug, Clone, Copy)]
pub struct Rule<'a> {
    pub weekly: &'a [OpeningPeriod],
    pub special: &'a [SpecialDay],
}

/// How many periods a day may have: lunch, dinner, and a late one, with room.
pub const MAX_PERIODS_PER_DAY: usize = 4;

impl<'a> Rule<'a> {
    pub fn new(weekly: &'a [OpeningPeriod], special: &'a [SpecialDay]) -> Rule<'a> {
        Rule { weekly, special }
    }

    /// The periods that start on `date`, as (opening, closing) times.
    pub fn periods_on(&self, date: NaiveDate) -> Vec<(NaiveTime, NaiveTime)> {
        match self.special.iter().find(|d| d.date == date) {
            Some(day) => day
                .periods
                .iter()
                .filter_map(|p| times(&p.opens_at, &p.closes_at))
                .collect(),
            None => {
                let weekday = date.weekday().number_from_monday() as u8;
                self.weekly
                    .iter()
                    .filter(|p| p.weekday == weekday)
                    .filter_map(|p| times(&p.opens_at, &p.closes_at))
                    .collect()
            }
        }
    }

    /// The wall-clock spans of the periods starting on `date`: a period
    /// past midnight ends the next day.
    fn spans_on(&self, date: NaiveDate) -> Vec<(NaiveDateTime, NaiveDateTime)> {
        self.periods_on(date)
            .into_iter()
            .filter_map(|(opens, closes)| {
                let end_date = if closes > opens {
                    date
                } else {
                    date.succ_opt()?
                };
                Some((date.and_time(opens), end_date.and_time(closes)))
            })
            .collect()
    }

    /// Is `now` inside one of the periods, on the Paris wall clock?
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        let local = now.with_timezone(&Paris).naive_local();
        let today = local.date();
        [today.pred_opt(), Some(today)]
            .into_iter()
            .flatten()
            .flat_map(|date| self.spans_on(date))
            .any(|(start, end)| start <= local && local < end)
    }

    /// The first instant at or after `now` at which a period begins, so the
    /// first at which [`Rule::is_open`] holds for a pizzeria closed at
    /// `now`; `None` when nothing opens in the next weeks.
    pub fn next_opening(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let today = now.with_timezone(&Paris).date_naive();
        // Today and the weeks after: a period that began earlier today comes
        // back in 7 days, one lost to the clocks going forward in 8, and a
        // fortnight's holiday pushes it further.
        (0..=SEARCH_DAYS)
            .filter_map(|days| today.checked_add_days(Days::new(days)))
            .find_map(|date| {
                self.periods_on(date)
                    .into_iter()
                    .flat_map(|(opens, closes)| starts(date, opens, closes))
                    .filter(|start| *start >= now)
                    .min()
            })
    }
}

/// How far ahead [`Rule::next_opening`] looks: six weeks covers a summer
/// closing.
const SEARCH_DAYS: u64 = 42;

/// The instants at which a period begins on `date`. Usually one; when the
/// clocks go back, a start inside the repeated hour happens twice; when they
/// go forward, a start inside the missing hour happens when the clocks jump,
/// unless the period is over by then.
fn starts(date: NaiveDate, opens: NaiveTime, closes: NaiveTime) -> Vec<DateTime<Utc>> {
    let local = date.and_time(opens);
    match Paris.from_local_datetime(&local) {
        LocalResult::Single(at) => vec![at.to_utc()],
        LocalResult::Ambiguous(first, second) => vec![first.to_utc(), second.to_utc()],
        LocalResult::None => {
            // The first local minute after the start that exists: the jump
            // (time zones change on whole minutes).
            let minute = local.with_second(0).unwrap_or(local);
            let end = if closes > opens {
                date.and_time(closes)
            } else {
                date.and_time(NaiveTime::MIN) + TimeDelta::days(1)
            };
            (1..=24 * 60)
                .map(|m| minute + TimeDelta::minutes(m))
                .take_while(|l| *l < end)
                .find_map(|l| Paris.from_local_datetime(&l).earliest())
                .map(|at| at.to_utc())
                .into_iter()
                .collect()
        }
    }
}

/// A period's opening and closing times, `None` if either does not parse
/// (`HH:MM:SS` as stored, or `HH:MM` as typed).
fn times(opens_at: &str, closes_at: &str) -> Option<(NaiveTime, NaiveTime)> {
    Some((parse_time(opens_at)?, parse_time(closes_at)?))
}

/// `HH:MM:SS` or `HH:MM`.
pub fn parse_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M"))
        .ok()
        // chrono reads `:60` as a leap second, which no database TIME holds.
        .filter(|t| t.nanosecond() < 1_000_000_000)
}

/// What is wrong with a set of periods, as (index, message) pairs: times
/// that do not parse, an empty period, too many a day, or two that
/// overlap (a period past midnight included, Sunday night into Monday too).
/// Periods are (weekday 1..=7, opens, closes); a special day's are all on
/// one day (weekday 1), and `wrap` is false for them (no week to wrap).
pub fn problems(periods: &[(u8, &str, &str)], wrap: bool) -> Vec<(usize, String)> {
    const WEEK: i64 = 7 * 24 * 60;
    // More than a week can hold is refused before the pairwise check, which
    // grows with the square of what was sent.
    let most = if wrap { 7 } else { 1 } * MAX_PERIODS_PER_DAY;
    if periods.len() > most {
        return vec![(
            most,
            format!("At most {MAX_PERIODS_PER_DAY} periods a day."),
        )];
    }
    let mut errors = Vec::new();
    let mut spans: Vec<(usize, i64, i64)> = Vec::new();
    for (i, (weekday, opens, closes)) in periods.iter().enumerate() {
        if !(1..=7).contains(weekday) {
            errors.push((i, "weekday runs from 1 (Monday) to 7 (Sunday).".to_owned()));
            continue;
        }
        let (Some(o), Some(c)) = (parse_time(opens), parse_time(closes)) else {
            errors.push((i, "Times read HH:MM, e.g. 18:00.".to_owned()));
            continue;
        };
        if o == c {
            errors.push((
                i,
                "A period opens and closes at different times.".to_owned(),
            ));
            continue;
        }
        let minute = |t: NaiveTime| i64::from(t.num_seconds_from_midnight() / 60);
        let start = i64::from(*weekday - 1) * 24 * 60 + minute(o);
        let length = (minute(c) - minute(o)).rem_euclid(24 * 60);
        if length == 0 {
            errors.push((i, "A period lasts at least a minute.".to_owned()));
            continue;
        }
        spans.push((i, start, start + length));
    }
    for day in 1..=7u8 {
        if periods.iter().filter(|(w, _, _)| *w == day).count() > MAX_PERIODS_PER_DAY {
            let first = periods.iter().position(|(w, _, _)| *w == day).unwrap_or(0);
            errors.push((
                first,
                format!("At most {MAX_PERIODS_PER_DAY} periods a day."),
            ));
        }
    }
    let shifts: &[i64] = if wrap { &[-WEEK, 0, WEEK] } else { &[0] };
    for (a, &(i, a_start, a_end)) in spans.iter().enumerate() {
        for &(j, b_start, b_end) in &spans[a + 1..] {
            if shifts
                .iter()
                .any(|s| a_start < b_end + s && b_start + s < a_end)
            {
                errors.push((j, format!("Overlaps period {}.", i + 1)));
            }
        }
    }
    errors
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

    fn is_open(hours: &[OpeningPeriod], at: DateTime<Utc>) -> bool {
        Rule::new(hours, &[]).is_open(at)
    }

    fn next_opening(hours: &[OpeningPeriod], at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        Rule::new(hours, &[]).next_opening(at)
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

    fn date(y: i32, mo: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, mo, d).unwrap()
    }

    #[test]
    fn opening_hours_are_paris_time() {
        // Saturday 28 Nov 2026: Paris is UTC+1.
        let hours = [period(6, "18:00:00", "23:00:00")];
        let at = |h, m| utc(2026, 11, 28, h, m);
        assert!(!is_open(&hours, at(16, 59))); // 17:59 in Paris
        assert!(is_open(&hours, at(17, 0))); // 18:00
        assert!(is_open(&hours, at(21, 59))); // 22:59
        assert!(!is_open(&hours, at(22, 0))); // 23:00: closed
                                              // The same hour on Sunday is closed: no period that day.
        assert!(!is_open(&hours, utc(2026, 11, 29, 18, 0)));
    }

    #[test]
    fn a_period_past_midnight_belongs_to_the_day_it_starts() {
        // Fridays 18:00 to 01:00.
        let hours = [period(5, "18:00", "01:00")];
        assert!(is_open(&hours, paris(2026, 12, 4, 23, 59))); // Friday
        assert!(is_open(&hours, paris(2026, 12, 5, 0, 30))); // Saturday, after midnight
        assert!(!is_open(&hours, paris(2026, 12, 5, 1, 0))); // closed at 01:00
        assert!(!is_open(&hours, paris(2026, 12, 5, 20, 0))); // Saturday evening
        assert!(!is_open(&hours, paris(2026, 12, 4, 0, 30))); // Friday's own early hours
                                                              // Closing at midnight.
        let till_midnight = [period(5, "19:00", "00:00")];
        assert!(is_open(&till_midnight, paris(2026, 12, 4, 23, 59)));
        assert!(!is_open(&till_midnight, paris(2026, 12, 5, 0, 0)));
        // Sunday night into Monday morning: the week wraps.
        let sunday = [period(7, "20:00", "02:00")];
        assert!(is_open(&sunday, paris(2026, 12, 7, 1, 0)));
    }

    #[test]
    fn past_midnight_on_both_changes_of_hour() {
        // Saturday 27 March 2027, 18:00 to 03:00: the clocks jump from 02:00
        // to 03:00, so it closes at the jump (01:00 UTC), an hour early.
        let saturdays = [period(6, "18:00", "03:00")];
        assert!(is_open(&saturdays, paris(2027, 3, 28, 1, 59))); // 00:59 UTC
        assert!(is_open(&saturdays, utc(2027, 3, 28, 0, 59)));
        assert!(!is_open(&saturdays, utc(2027, 3, 28, 1, 0))); // 03:00 CEST
                                                               // Saturday 24 October 2026: 02:00 to 03:00 happens twice, so it
                                                               // closes at 03:00 CET, 02:00 UTC, an hour later than on the wall
                                                               // clock of an ordinary night.
        assert!(is_open(&saturdays, utc(2026, 10, 25, 0, 30))); // 02:30 CEST
        assert!(is_open(&saturdays, utc(2026, 10, 25, 1, 30))); // 02:30 CET
        assert!(!is_open(&saturdays, utc(2026, 10, 25, 2, 0))); // 03:00 CET
                                                                // And each night's opening is at 18:00 local: 17:00 UTC in winter,
                                                                // 16:00 UTC in summer.
        assert_eq!(
            next_opening(&saturdays, paris(2027, 3, 28, 12, 0)),
            Some(utc(2027, 4, 3, 16, 0))
        );
        assert_eq!(
            next_opening(&saturdays, paris(2026, 10, 25, 12, 0)),
            Some(utc(2026, 10, 31, 17, 0))
        );
    }

    #[test]
    fn special_days_replace_the_week() {
        let hours = [
            period(4, "11:30", "14:30"),
            period(4, "18:00", "23:00"),
            period(5, "18:00", "01:00"),
        ];
        // Thursday 24 December 2026: closed at lunch, open late for the
        // réveillon; Friday 25: closed.
        let special = [
            SpecialDay {
                date: date(2026, 12, 24),
                periods: vec![Period {
                    opens_at: "17:00".into(),
                    closes_at: "02:00".into(),
                }],
                note: "Réveillon".into(),
            },
            SpecialDay {
                date: date(2026, 12, 25),
                periods: vec![],
                note: "Noël".into(),
            },
        ];
        let rule = Rule::new(&hours, &special);
        assert!(!rule.is_open(paris(2026, 12, 24, 12, 0)));
        assert!(rule.is_open(paris(2026, 12, 24, 17, 0)));
        // The réveillon runs into Christmas morning, though the 25th is closed.
        assert!(rule.is_open(paris(2026, 12, 25, 1, 30)));
        assert!(!rule.is_open(paris(2026, 12, 25, 2, 0)));
        assert!(!rule.is_open(paris(2026, 12, 25, 20, 0)));
        // Closed on the 25th: the next opening is Thursday 31 at lunch.
        assert_eq!(
            rule.next_opening(paris(2026, 12, 25, 2, 0)),
            Some(paris(2026, 12, 31, 11, 30))
        );
        // The same week without them.
        let ordinary = Rule::new(&hours, &[]);
        assert!(ordinary.is_open(paris(2026, 12, 24, 12, 0)));
        assert!(ordinary.is_open(paris(2026, 12, 25, 20, 0)));
        // A three-week closing: the next opening is after it.
        let holiday: Vec<SpecialDay> = (0..21)
            .map(|d| SpecialDay {
                date: date(2027, 8, 1) + Days::new(d),
                periods: vec![],
                note: "Congés".into(),
            })
            .collect();
        assert_eq!(
            Rule::new(&hours, &holiday).next_opening(paris(2027, 7, 31, 12, 0)),
            Some(paris(2027, 8, 26, 11, 30))
        );
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
    /// holds — with periods past midnight, and a special day.
    #[test]
    fn the_next_opening_is_the_first_open_minute() {
        let mut hours = lunch_and_dinner();
        hours.retain(|p| p.weekday != 6 || p.opens_at != "18:00:00");
        hours.push(period(6, "18:00:00", "01:30:00"));
        hours.push(period(7, "02:30:00", "04:00:00"));
        hours.push(period(7, "02:15:00", "02:20:00"));
        hours.push(period(1, "19:00:00", "00:00:00"));
        let special = [
            SpecialDay {
                date: date(2027, 3, 23),
                periods: vec![],
                note: String::new(),
            },
            SpecialDay {
                date: date(2026, 10, 21),
                periods: vec![Period {
                    opens_at: "22:00:00".into(),
                    closes_at: "00:30:00".into(),
                }],
                note: String::new(),
            },
        ];
        let rule = Rule::new(&hours, &special);
        for start in [utc(2027, 3, 21, 0, 0), utc(2026, 10, 18, 0, 0)] {
            let minutes: Vec<DateTime<Utc>> = (0..14 * 24 * 60)
                .map(|m| start + TimeDelta::minutes(m))
                .collect();
            let mut first_open = None;
            for &at in minutes.iter().rev() {
                if rule.is_open(at) {
                    first_open = Some(at);
                    continue;
                }
                if let Some(expected) = first_open {
                    assert_eq!(rule.next_opening(at), Some(expected), "from {at}");
                }
            }
        }
    }

    #[test]
    fn overlapping_or_empty_periods_are_refused() {
        let ok = [
            (5, "11:30", "14:30"),
            (5, "18:00", "01:00"),
            (6, "11:30", "14:30"),
        ];
        assert!(problems(&ok, true).is_empty());
        // Friday's late period runs into Saturday's first one.
        let late = [(5, "18:00", "02:00"), (6, "01:00", "03:00")];
        assert_eq!(
            problems(&late, true),
            vec![(1, "Overlaps period 1.".into())]
        );
        // Sunday night into Monday morning.
        let wrap = [(1, "00:30", "03:00"), (7, "20:00", "01:00")];
        assert_eq!(problems(&wrap, true).len(), 1);
        assert!(problems(&wrap, false).is_empty());
        let bad = [
            (0, "18:00", "22:00"),
            (1, "18h", "22:00"),
            (2, "18:00", "18:00"),
            (3, "18:00:60", "22:00"),
        ];
        assert_eq!(
            problems(&bad, true)
                .iter()
                .map(|(i, _)| *i)
                .collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
        // A whole week and more at once: refused before comparing them.
        let flood: Vec<(u8, &str, &str)> = vec![(1, "10:00", "11:00"); 10_000];
        assert_eq!(problems(&flood, true).len(), 1);
        let crowded: Vec<(u8, &str, &str)> = vec![
            (3, "08:00", "09:00"),
            (3, "10:00", "11:00"),
            (3, "12:00", "13:00"),
            (3, "14:00", "15:00"),
            (3, "16:00", "17:00"),
        ];
        assert_eq!(problems(&crowded, true).len(), 1);
    }
}
