//! Fuzzing geocode's query string (see `testkit::fuzz`), offline:
//! without a Google key only the demo addresses are known, so every other
//! address is a 422. Every answer is a 200 or a 4xx problem.

use chrono::TimeZone;
use geocode::State;
use ocpizza::delivery::geo::Geocoder;
use ocpizza::platform::clock::Clock;
use ocpizza::platform::config::{lookup_from, Config};
use proptest::prelude::*;
use serde_json::Value;
use sqlx::MySqlPool;
use testkit::fuzz::{self, HttpCase};

/// The demo addresses as people type them: as listed, in capitals, with
/// extra spaces and punctuation.
fn addresses() -> BoxedStrategy<String> {
    let all: Vec<Value> = serde_json::from_str(ocpizza::samples::ADDRESSES_JSON).unwrap();
    let known: Vec<String> = all
        .iter()
        .filter_map(|a| a["query"].as_str().map(str::to_owned))
        .collect();
    (proptest::sample::select(known), 0u8..4)
        .prop_map(|(address, how)| match how {
            0 => address.to_uppercase(),
            1 => format!("  {}  ", address.replace(' ', "   ")),
            2 => address.replace(',', " ;"),
            _ => address,
        })
        .boxed()
}

#[sqlx::test(migrations = "../../migrations")]
async fn any_address_query_is_answered_or_refused(pool: MySqlPool) {
    ocpizza::samples::load_demo(&pool).await.unwrap();
    let config = Config::from_lookup(&[], lookup_from(&[])).unwrap();
    let state = State {
        pool: pool.clone(),
        cors: Default::default(),
        geocoder: Geocoder::from_config(&config),
        // Saturday 28 November 2026, 19:00 in Paris: the same answers at any hour.
        clock: Clock::Fixed(
            chrono::Utc
                .with_ymd_and_hms(2026, 11, 28, 18, 0, 0)
                .unwrap(),
        ),
    };
    let cases = (
        fuzz::method("GET"),
        prop_oneof![
            6 => Just("geocode".to_owned()),
            1 => fuzz::path_segment(vec!["geocode".into()]),
        ],
        fuzz::query(vec![("address", addresses())]),
    )
        .prop_map(|(method, path, query)| HttpCase::new(&method, format!("/{path}?{query}")));
    let inputs = fuzz::generate("geocode address", cases);
    fuzz::run_http("geocode address", inputs, |req| {
        let state = state.clone();
        async move { geocode::handle(&state, req).await }
    })
    .await;
}
