//! Geocoding against a local HTTP server speaking Google's documented
//! Geocoding JSON (wiremock), and the delivery zones on the demo data.

use ocpizza::delivery::geo::{self, Coordinates, GeoError, GeoSource, Geocoder};
use ocpizza::platform::config::{lookup_from, var, Config};
use serde_json::json;
use sqlx::MySqlPool;
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "AIzaFAKE-key-for-tests-0123456789";

fn google(server: &MockServer) -> Geocoder {
    let url = format!("{}/maps/api/geocode/json", server.uri());
    let config = Config::from_lookup(
        &[],
        lookup_from(&[
            (var::GOOGLE_MAP_API_KEY, KEY),
            (var::GOOGLE_GEOCODING_URL, &url),
        ]),
    )
    .unwrap();
    Geocoder::from_config(&config)
}

fn offline() -> Geocoder {
    Geocoder::from_config(&Config::from_lookup(&[], lookup_from(&[])).unwrap())
}

fn answer(status: &str) -> serde_json::Value {
    json!({ "status": status, "results": [] })
}

#[sqlx::test(migrations = "../migrations")]
async fn google_answers_are_used_then_cached(pool: MySqlPool) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/maps/api/geocode/json"))
        .and(query_param("key", KEY))
        .and(query_param("address", "18 rue Mercière, 69002 Lyon"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "OK",
            "results": [{
                "formatted_address": "18 Rue Mercière, 69002 Lyon, France",
                "geometry": { "location": { "lat": 45.7633, "lng": 4.8319 }, "location_type": "ROOFTOP" },
                "place_id": "ChIJ-test", "types": ["street_address"]
            }]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let geocoder = google(&server);
    let first = geocoder
        .geocode(&pool, "18 rue Mercière, 69002 Lyon")
        .await
        .unwrap();
    assert_eq!(first.source, GeoSource::Google);
    assert_eq!(
        first.formatted_address,
        "18 Rue Mercière, 69002 Lyon, France"
    );
    assert_eq!(
        first.coordinates,
        Coordinates {
            latitude: 45.7633,
            longitude: 4.8319
        }
    );
    // The same address typed differently comes from the cache (the mock expects one call).
    let again = geocoder
        .geocode(&pool, "  18 RUE MERCIÈRE 69002 lyon ")
        .await
        .unwrap();
    assert_eq!(again.source, GeoSource::Cache);
    assert_eq!(again.coordinates, first.coordinates);
}

#[sqlx::test(migrations = "../migrations")]
async fn google_errors_are_clear_and_never_show_the_key(pool: MySqlPool) {
    let server = MockServer::start().await;
    let cases = [
        ("nowhere", ResponseTemplate::new(200).set_body_json(answer("ZERO_RESULTS")), "not found"),
        (
            "quota",
            ResponseTemplate::new(200).set_body_json(json!({"status": "OVER_QUERY_LIMIT", "results": [], "error_message": "You have exceeded your daily request quota for this API."})),
            "unavailable",
        ),
        (
            "denied",
            ResponseTemplate::new(200).set_body_json(json!({"status": "REQUEST_DENIED", "results": [], "error_message": format!("The provided API key {KEY} is invalid.")})),
            "unavailable",
        ),
        ("broken", ResponseTemplate::new(500).set_body_string("oops"), "unavailable"),
        ("garbled", ResponseTemplate::new(200).set_body_string("<html>"), "unavailable"),
    ];
    for (address, template, _) in &cases {
        Mock::given(query_param("address", *address))
            .respond_with(template.clone())
            .mount(&server)
            .await;
    }
    let geocoder = google(&server);
    for (address, _, expected) in cases {
        let err = geocoder.geocode(&pool, address).await.unwrap_err();
        let kind = match &err {
            GeoError::NotFound(_) => "not found",
            GeoError::Unavailable(_) => "unavailable",
            other => panic!("{address}: {other:?}"),
        };
        assert_eq!(kind, expected, "{address}: {err}");
        assert!(
            !err.to_string().contains(KEY),
            "{address}: the key leaked: {err}"
        );
        assert!(
            !format!("{err:?}").contains(KEY),
            "{address}: the key leaked in Debug"
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_slow_provider_is_a_quick_503_not_a_hang(pool: MySqlPool) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(answer("OK"))
                .set_delay(Duration::from_secs(10)),
        )
        .mount(&server)
        .await;
    let started = Instant::now();
    let err = google(&server)
        .geocode(&pool, "somewhere")
        .await
        .unwrap_err();
    assert!(matches!(err, GeoError::Unavailable(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(!err.to_string().contains(KEY));
}

#[sqlx::test(migrations = "../migrations")]
async fn offline_only_the_demo_addresses_are_known(pool: MySqlPool) {
    let geocoder = offline();
    assert!(geocoder.is_offline());
    let found = geocoder
        .geocode(&pool, "25 rue Victor Hugo, 69002 Lyon")
        .await
        .unwrap();
    assert_eq!(found.source, GeoSource::DemoAddresses);
    assert_eq!(
        found.formatted_address,
        "25 Rue Victor Hugo, 69002 Lyon, France"
    );
    let err = geocoder
        .geocode(&pool, "3 impasse Imaginaire, 69002 Lyon")
        .await
        .unwrap_err();
    match err {
        GeoError::NotFound(m) => assert!(m.contains("demo addresses"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        geocoder.geocode(&pool, "   ").await,
        Err(GeoError::Invalid(_))
    ));
    assert!(matches!(
        geocoder.geocode(&pool, &"x".repeat(301)).await,
        Err(GeoError::Invalid(_))
    ));
}

#[sqlx::test(migrations = "../migrations")]
async fn each_pizzeria_delivers_to_its_own_door_and_nobody_to_marseille(pool: MySqlPool) {
    ocpizza::samples::load_demo(&pool).await.unwrap();
    let pizzerias: Vec<(i64, f64, f64, String)> =
        sqlx::query_as("SELECT id, latitude, longitude, status FROM pizzerias ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    for (id, latitude, longitude, status) in pizzerias {
        let zones = geo::pizzerias_delivering_to(
            &pool,
            Coordinates {
                latitude,
                longitude,
            },
        )
        .await
        .unwrap();
        if status == "active" {
            assert_eq!(zones[0].pizzeria_id.0, id);
            assert_eq!(zones[0].distance_m, 0);
        } else {
            assert!(
                zones.iter().all(|z| z.pizzeria_id.0 != id),
                "pizzeria {id} is not open yet"
            );
        }
    }
    let marseille = offline()
        .geocode(&pool, "1 La Canebière, 13001 Marseille")
        .await
        .unwrap();
    assert!(geo::pizzerias_delivering_to(&pool, marseille.coordinates)
        .await
        .unwrap()
        .is_empty());
}
