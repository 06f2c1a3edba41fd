use super::*;
use crate::catalog::hours::{OpeningPeriod, SpecialDay};
use chrono::TimeZone;

fn paris(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Paris
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("a Paris time that exists")
        .to_utc()
}

/// Every evening 18:00–22:00, and Friday until 01:00.
fn evenings() -> Vec<OpeningPeriod> {
    (1..=7)
        .map(|weekday| OpeningPeriod {
            weekday,
            opens_at: "18:00:00".into(),
            closes_at: if weekday == 5 { "01:00:00" } else { "22:00:00" }.into(),
        })
        .collect()
}

const QUIET: Load = Load {
    prep_minutes: 15,
    tickets_ahead: 0,
    deliveries_before: 0,
};

#[test]
fn the_promise_grows_with_the_queue_the_distance_and_the_couriers_load() {
    let now = paris(2026, 12, 4, 19, 0);
    assert_eq!(
        as_soon_as_possible(now, Fulfilment::Pickup, None, QUIET),
        paris(2026, 12, 4, 19, 15)
    );
    let busy = Load {
        tickets_ahead: 5,
        ..QUIET
    };
    // 15 minutes, and 3 for each of the 5 orders ahead.
    assert_eq!(
        as_soon_as_possible(now, Fulfilment::Pickup, None, busy),
        paris(2026, 12, 4, 19, 30)
    );
    // 2.5 km: 10 minutes' ride and 3 to hand it over.
    assert_eq!(
        as_soon_as_possible(now, Fulfilment::Delivery, Some(2_500), QUIET),
        paris(2026, 12, 4, 19, 28)
    );
    // Each courier has two deliveries to make first: 20 minutes more.
    let couriers_out = Load {
        deliveries_before: 2,
        ..QUIET
    };
    assert_eq!(
        as_soon_as_possible(now, Fulfilment::Delivery, Some(2_500), couriers_out),
        paris(2026, 12, 4, 19, 48)
    );
}

#[test]
fn a_pre_order_goes_to_the_kitchen_its_preparation_and_ride_before_the_slot() {
    let slot = paris(2026, 12, 4, 20, 30);
    assert_eq!(
        release_at(slot, Fulfilment::Pickup, None, 15),
        paris(2026, 12, 4, 20, 15)
    );
    assert_eq!(
        release_at(slot, Fulfilment::Delivery, Some(2_500), 20),
        paris(2026, 12, 4, 19, 57)
    );
}

#[test]
fn a_slot_is_a_quarter_hour_inside_the_hours_within_the_week() {
    let week = evenings();
    let rule = Rule::new(&week, &[]);
    // Friday 4 December 2026, 10:00: closed now, pre-orders open.
    let now = paris(2026, 12, 4, 10, 0);
    let earliest = now + Duration::minutes(15);
    assert_eq!(
        check_slot(&rule, now, earliest, paris(2026, 12, 4, 20, 30)),
        Ok(())
    );
    // Past midnight on a Friday is Friday's late period.
    assert_eq!(
        check_slot(&rule, now, earliest, paris(2026, 12, 5, 0, 45)),
        Ok(())
    );
    assert_eq!(
        check_slot(&rule, now, earliest, paris(2026, 12, 4, 20, 31)),
        Err(SlotError::NotAQuarterHour)
    );
    assert_eq!(
        check_slot(
            &rule,
            now,
            earliest,
            paris(2026, 12, 4, 20, 30) + Duration::seconds(1)
        ),
        Err(SlotError::NotAQuarterHour)
    );
    assert_eq!(
        check_slot(&rule, now, earliest, paris(2026, 12, 4, 12, 0)),
        Err(SlotError::Closed)
    );
    // A slot in the past.
    assert_eq!(
        check_slot(&rule, now, earliest, paris(2026, 12, 3, 21, 0)),
        Err(SlotError::TooSoon {
            earliest: paris(2026, 12, 4, 10, 15)
        })
    );
    // The closing time itself is not a slot.
    assert_eq!(
        check_slot(&rule, now, earliest, paris(2026, 12, 6, 22, 0)),
        Err(SlotError::Closed)
    );
    // Thursday the 10th is the last day; Friday the 11th is too far.
    assert_eq!(
        check_slot(&rule, now, earliest, paris(2026, 12, 10, 21, 45)),
        Ok(())
    );
    assert_eq!(
        check_slot(&rule, now, earliest, paris(2026, 12, 11, 18, 0)),
        Err(SlotError::TooFar)
    );
    // In the evening, the kitchen's lead decides the first slot.
    let evening = paris(2026, 12, 4, 19, 2);
    let lead = evening + Duration::minutes(28);
    assert_eq!(
        check_slot(&rule, evening, lead, paris(2026, 12, 4, 19, 15)),
        Err(SlotError::TooSoon {
            earliest: paris(2026, 12, 4, 19, 30)
        })
    );
    assert_eq!(
        check_slot(&rule, evening, lead, paris(2026, 12, 4, 19, 30)),
        Ok(())
    );
}

#[test]
fn the_slots_are_every_open_quarter_hour_of_the_week_and_none_on_a_closed_day() {
    let week = evenings();
    let closed_saturday = [SpecialDay {
        date: chrono::NaiveDate::from_ymd_opt(2026, 12, 5).expect("a date"),
        periods: vec![],
        note: "Inventaire".into(),
    }];
    let rule = Rule::new(&week, &closed_saturday);
    let now = paris(2026, 12, 4, 10, 0);
    let slots = slots(&rule, now, now + Duration::minutes(15));
    assert_eq!(slots.first(), Some(&paris(2026, 12, 4, 18, 0)));
    assert_eq!(slots.last(), Some(&paris(2026, 12, 10, 21, 45)));
    // Six evenings of 16 quarter hours, and Friday's 12 more after 22:00;
    // Saturday is closed, but Friday's late period runs into it.
    assert_eq!(slots.len(), 6 * 16 + 12);
    assert!(slots.contains(&paris(2026, 12, 5, 0, 45)));
    assert!(!slots
        .iter()
        .any(|s| *s >= paris(2026, 12, 5, 1, 0) && *s < paris(2026, 12, 6, 0, 0)));
    assert!(slots
        .iter()
        .all(|s| check_slot(&rule, now, now + Duration::minutes(15), *s).is_ok()));
}

#[test]
fn slots_follow_the_paris_clock_across_the_change_of_time() {
    // Sunday 28 March 2027 the clocks go forward: 18:00 is 16:00 UTC, not 17:00.
    let week = evenings();
    let rule = Rule::new(&week, &[]);
    let now = paris(2027, 3, 28, 10, 0);
    let slots = slots(&rule, now, now);
    assert_eq!(slots.first(), Some(&paris(2027, 3, 28, 18, 0)));
    assert_eq!(
        slots.first().map(|s| s.format("%H:%M").to_string()),
        Some("16:00".into())
    );
    assert_eq!(slots.first().map(|s| hour_minute(*s)), Some("18:00".into()));
}

#[test]
fn the_next_quarter_hour_rounds_up_only_when_needed() {
    let at = paris(2026, 12, 4, 19, 30);
    assert_eq!(next_quarter_hour(at), at);
    assert_eq!(
        next_quarter_hour(at + Duration::seconds(1)),
        paris(2026, 12, 4, 19, 45)
    );
}
