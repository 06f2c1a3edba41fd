//! The geocode function through `geocode::handle`, against a real, freshly
//! migrated MariaDB database with the demo pizzerias, and a local HTTP server
//! (wiremock) answering in the Geocoding API's documented JSON. The clock is
//! fixed: which pizzerias are open does not depend on when the tests run.

use chrono::{DateTime, TimeZone, Utc};
use geocode::State;
use http::{header, HeaderMap, StatusCode};
use lambda_http::Body;
use ocpizza::delivery::geo::Geocoder;
use ocpizza::platform::clock::Clock;
use ocpizza::platform::config::{lookup_from, var, Config};
use ocpizza::platform::http::{Cors, PROBLEM_JSON};
use serde_json::{json, Value};
use sqlx::MySqlPool;
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "AIzaFAKE-key-for-tests-0123456789";
const GOOGLE_PATH: &str = "/maps/api/geocode/json";

fn google(server: &MockServer) -> Geocoder {
    let url = format!("{}{GOOGLE_PATH}", server.uri());
    let config = Config::from_lookup(
        &[],
        lookup_from(&[
            (var::GOOGLE_MAP_API_KEY, KEY),
            (var::GOOGLE_GEOCODING_URL, &url),
        ]),
    )
    .expect("test config");
    Geocoder::from_config(&config)
}

fn offline() -> Geocoder {
    Geocoder::from_config(&Config::from_lookup(&[], lookup_from(&[])).expect("test config"))
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// Saturday 28 November 2026, 19:00 in Paris (UTC+1): dinner time, every
/// demo pizzeria with opening hours is open.
fn saturday_evening() -> DateTime<Utc> {
    utc(2026, 11, 28, 18, 0)
}

/// Saturday 28 November 2026, 16:00 in Paris: between lunch and dinner.
fn saturday_afternoon() -> DateTime<Utc> {
    utc(2026, 11, 28, 15, 0)
}

/// The demo data, the clock at [`saturday_evening`].
async fn demo_world(pool: &MySqlPool, geocoder: Geocoder) -> State {
    ocpizza::samples::load_demo(pool)
        .await
        .expect("demo data loads");
    State {
        pool: pool.clone(),
        cors: Cors::default(),
        geocoder,
        clock: Clock::Fixed(saturday_evening()),
    }
}

/// The same state, its clock at `now`.
fn at(state: &State, now: DateTime<Utc>) -> State {
    State {
        clock: Clock::Fixed(now),
        ..state.clone()
    }
}

/// Villeurbanne Gratte-Ciel (2), shut in the demo, back to the chain's
/// ordinary hours (Lille's: lunch 11:30–14:30 and dinner 18:00–23:00,
/// Tuesday to Sunday).
async fn reopen_gratte_ciel(pool: &MySqlPool) {
    sqlx::query(
        "INSERT INTO opening_hours (pizzeria_id, weekday, opens_at, closes_at) \
         SELECT 2, weekday, opens_at, closes_at FROM opening_hours WHERE pizzeria_id = 4",
    )
    .execute(pool)
    .await
    .unwrap();
}

/// `/geocode?address=...`, the address encoded as a browser would.
fn geocode_path(address: &str) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("address", address)
        .finish();
    format!("/geocode?{query}")
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

/// One request through the handler. Whatever the answer, the key is not in it.
async fn call(state: &State, method: &str, uri: &str) -> Answer {
    let req = http::Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::Empty)
        .expect("valid request");
    let response = geocode::handle(state, req).await;
    let text = String::from_utf8_lossy(response.body().as_ref()).into_owned();
    assert!(!text.contains(KEY), "the key leaked into {uri}: {text}");
    for value in response.headers().values() {
        assert!(!value.to_str().unwrap_or_default().contains(KEY));
    }
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
    }
}

async fn get(state: &State, address: &str) -> Answer {
    call(state, "GET", &geocode_path(address)).await
}

/// Google's answer for one street address, as documented.
fn google_ok(formatted_address: &str, lat: f64, lng: f64) -> Value {
    json!({
        "results": [{
            "address_components": [
                { "long_name": "Lyon", "short_name": "Lyon", "types": ["locality", "political"] },
                { "long_name": "France", "short_name": "FR", "types": ["country", "political"] }
            ],
            "formatted_address": formatted_address,
            "geometry": {
                "location": { "lat": lat, "lng": lng },
                "location_type": "ROOFTOP",
                "viewport": {
                    "northeast": { "lat": lat + 0.0013, "lng": lng + 0.0013 },
                    "southwest": { "lat": lat - 0.0013, "lng": lng - 0.0013 }
                }
            },
            "place_id": "ChIJtest-place-id",
            "types": ["street_address"]
        }],
        "status": "OK"
    })
}

fn assert_problem(answer: &Answer, status: StatusCode, kind: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.headers[header::CONTENT_TYPE], PROBLEM_JSON);
    assert_eq!(answer.body["type"], format!("/problems/{kind}"));
    assert_eq!(answer.body["status"], status.as_u16());
    assert!(answer.headers.get(header::CACHE_CONTROL).is_none());
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_address_in_pizzeria_1s_zone_then_the_same_from_the_cache(pool: MySqlPool) {
    let server = MockServer::start().await;
    let address = "60 rue de la République, 69002 Lyon";
    Mock::given(method("GET"))
        .and(path(GOOGLE_PATH))
        .and(query_param("key", KEY))
        .and(query_param("address", address))
        .respond_with(ResponseTemplate::new(200).set_body_json(google_ok(
            "60 Rue de la République, 69002 Lyon, France",
            45.7615,
            4.8359,
        )))
        .expect(1)
        .mount(&server)
        .await;
    let state = demo_world(&pool, google(&server)).await;

    let first = get(&state, address).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(first.headers[header::CACHE_CONTROL], "private, max-age=300");
    let body = &first.body;
    assert_eq!(body["query"], address);
    assert_eq!(
        body["formatted_address"],
        "60 Rue de la République, 69002 Lyon, France"
    );
    assert_eq!(body["latitude"], 45.7615);
    assert_eq!(body["longitude"], 4.8359);
    assert_eq!(body["source"], "google");
    assert_eq!(body["delivers"], true);
    assert_eq!(body["pizzeria"]["id"], 1);
    assert_eq!(body["pizzeria"]["name"], "OC Pizza Lyon Presqu'île");
    assert_eq!(body["pizzeria"]["address"]["line1"], "18 Rue Mercière");
    let distance = body["distance_m"].as_i64().expect("distance_m");
    assert!((300..500).contains(&distance), "{distance}");
    assert_eq!(body["delivery_fee_cents"], 250);
    assert_eq!(body["min_order_cents"], 1500);
    // Villeurbanne is 3.6 km away with a 3.5 km radius; Croix-Rousse, 1.5 km
    // away, has not opened yet: nobody else delivers here.
    assert_eq!(body["others"], json!([]));
    assert_eq!(body["closed"], json!([]));
    assert_eq!(body["pickup"]["pizzeria"]["id"], 1);
    assert_eq!(body["pickup"]["distance_m"], distance);

    // The identical request again: from the database cache, Google not asked
    // (the mock expects exactly one call).
    let second = get(&state, address).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(second.body["source"], "cache");
    let mut same = second.body.clone();
    same["source"] = json!("google");
    assert_eq!(&same, body);
    server.verify().await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn each_google_status_has_its_answer(pool: MySqlPool) {
    let server = MockServer::start().await;
    // (address sent, Google's answer, our status, our problem type)
    let cases = [
        (
            "3 impasse Nulle Part",
            ResponseTemplate::new(200)
                .set_body_json(json!({"results": [], "status": "ZERO_RESULTS"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "address-not-found",
        ),
        (
            "quota",
            ResponseTemplate::new(200).set_body_json(json!({
                "error_message": "You have exceeded your rate-limit for this API.",
                "results": [], "status": "OVER_QUERY_LIMIT"
            })),
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
        ),
        (
            "daily quota",
            ResponseTemplate::new(200).set_body_json(json!({
                "error_message": "You have exceeded your daily request quota for this API.",
                "results": [], "status": "OVER_DAILY_LIMIT"
            })),
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
        ),
        (
            "denied",
            ResponseTemplate::new(200).set_body_json(json!({
                "error_message": format!("The provided API key {KEY} is invalid."),
                "results": [], "status": "REQUEST_DENIED"
            })),
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
        ),
        (
            "unknown",
            ResponseTemplate::new(200)
                .set_body_json(json!({"results": [], "status": "UNKNOWN_ERROR"})),
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
        ),
        (
            "invalid",
            ResponseTemplate::new(200).set_body_json(json!({
                "error_message": "Invalid request. Missing the 'address' parameter.",
                "results": [], "status": "INVALID_REQUEST"
            })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
        ),
        (
            "broken",
            ResponseTemplate::new(500).set_body_string(format!("internal error for key={KEY}")),
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
        ),
    ];
    for (address, template, _, _) in &cases {
        // "quota" is asked twice below: refusals are not cached.
        let calls = if *address == "quota" { 2 } else { 1 };
        Mock::given(method("GET"))
            .and(path(GOOGLE_PATH))
            .and(query_param("address", *address))
            .respond_with(template.clone())
            .expect(calls)
            .mount(&server)
            .await;
    }
    let state = demo_world(&pool, google(&server)).await;
    for (address, _, status, kind) in cases {
        let answer = get(&state, address).await;
        assert_problem(&answer, status, kind);
        let detail = answer.body["detail"].as_str().unwrap_or_default();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(answer.headers[header::RETRY_AFTER], "2");
            assert!(detail.contains("try again"), "{address}: {detail}");
        } else {
            assert!(detail.contains(address), "{address}: {detail}");
        }
    }
    // Refusals are not cached: asking again asks Google again.
    let again = get(&state, "quota").await;
    assert_eq!(again.status, StatusCode::SERVICE_UNAVAILABLE);
    server.verify().await;
    let cached: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM geocode_cache")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(cached, 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_provider_slower_than_the_timeout_is_a_503_not_a_hang(pool: MySqlPool) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(google_ok("Somewhere, France", 45.7615, 4.8359))
                .set_delay(Duration::from_secs(30)),
        )
        .mount(&server)
        .await;
    let state = demo_world(&pool, google(&server)).await;
    let started = Instant::now();
    let answer = get(&state, "60 rue de la République, 69002 Lyon").await;
    let elapsed = started.elapsed();
    assert_problem(&answer, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    // A bound on "never hangs", not a performance figure.
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn without_a_key_the_demo_addresses_answer(pool: MySqlPool) {
    let state = demo_world(&pool, offline()).await;
    reopen_gratte_ciel(&pool).await;

    // Between the Presqu'île and Villeurbanne: both deliver, Villeurbanne is nearer.
    let both = get(&state, "5 place Charles Béraudier, 69003 Lyon").await;
    assert_eq!(both.status, StatusCode::OK, "{}", both.body);
    assert_eq!(both.body["source"], "demo_addresses");
    assert_eq!(
        both.body["formatted_address"],
        "5 Place Charles Béraudier, 69003 Lyon, France"
    );
    assert_eq!(both.body["delivers"], true);
    assert_eq!(both.body["pizzeria"]["id"], 2);
    assert_eq!(both.body["delivery_fee_cents"], 250);
    assert_eq!(both.body["min_order_cents"], 1500);
    let others = both.body["others"].as_array().expect("others");
    assert_eq!(others.len(), 1, "{others:?}");
    assert_eq!(others[0]["id"], 1);
    assert!(others[0]["distance_m"].as_i64() > both.body["distance_m"].as_i64());
    assert_eq!(both.body["closed"], json!([]));

    // Outside every zone: an answer, not an error, with where to pick up.
    let marseille = get(&state, "1 La Canebière, 13001 Marseille").await;
    assert_eq!(marseille.status, StatusCode::OK, "{}", marseille.body);
    assert_eq!(marseille.body["source"], "demo_addresses");
    assert_eq!(marseille.body["delivers"], false);
    assert_eq!(marseille.body["pizzeria"], Value::Null);
    assert_eq!(marseille.body["delivery_fee_cents"], Value::Null);
    assert_eq!(marseille.body["min_order_cents"], Value::Null);
    assert_eq!(marseille.body["others"], json!([]));
    assert_eq!(marseille.body["pickup"]["pizzeria"]["id"], 1);
    assert!(marseille.body["pickup"]["distance_m"].as_i64() > Some(250_000));

    // Toulouse's pizzeria has not opened yet: no delivery; Bordeaux is nearest.
    let toulouse = get(&state, "25 rue du Taur, 31000 Toulouse").await;
    assert_eq!(toulouse.body["delivers"], false);
    assert_eq!(toulouse.body["pickup"]["pizzeria"]["id"], 5);

    // Any other address: a 422 that says why.
    let unknown = get(&state, "3 impasse Imaginaire, 69002 Lyon").await;
    assert_problem(
        &unknown,
        StatusCode::UNPROCESSABLE_ENTITY,
        "address-not-found",
    );
    let detail = unknown.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("demo addresses"), "{detail}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn bad_requests_are_problems(pool: MySqlPool) {
    let state = demo_world(&pool, offline()).await;
    for uri in [
        "/geocode".to_owned(),
        "/geocode?address=".to_owned(),
        "/geocode?address=%20%20%20".to_owned(),
        "/geocode?city=Lyon".to_owned(),
        geocode_path(&"x".repeat(301)),
        "/geocode?address=a&address=b".to_owned(),
    ] {
        let answer = call(&state, "GET", &uri).await;
        assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid-request");
    }
    let post = call(&state, "POST", &geocode_path("18 rue Mercière, 69002 Lyon")).await;
    assert_problem(&post, StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
    assert_eq!(post.body["allow"], json!(["GET"]));
    for uri in ["/", "/geocode/1", "/pizzerias"] {
        let answer = call(&state, "GET", uri).await;
        assert_problem(&answer, StatusCode::NOT_FOUND, "not-found");
    }
}

/// Each new address is a paid call to Google: a client gets so many a
/// window; addresses already in the cache cost nothing and stay open.
#[sqlx::test(migrations = "../../migrations")]
async fn new_addresses_per_client_are_limited_and_the_cache_stays_open(pool: MySqlPool) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(GOOGLE_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(google_ok("Lyon", 45.7640, 4.8357)))
        .mount(&server)
        .await;
    let state = demo_world(&pool, google(&server)).await;
    let limit = ocpizza::platform::rate_limit::GEOCODING_MISSES_PER_ADDRESS.max;
    let from = |uri: String| {
        let req = http::Request::builder()
            .method("GET")
            .uri(uri)
            .body(Body::Empty)
            .expect("valid request");
        testkit::from_client(req, "192.0.2.44")
    };
    for i in 0..limit {
        let response = geocode::handle(
            &state,
            from(geocode_path(&format!(
                "{i} rue de la République, 69002 Lyon"
            ))),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "address {i}");
    }
    let response = geocode::handle(
        &state,
        from(geocode_path("999 rue de la République, 69002 Lyon")),
    )
    .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(
        server.received_requests().await.map(|r| r.len()),
        Some(limit as usize)
    );
    // A cached address is still answered, and other clients are not affected.
    let cached = geocode::handle(
        &state,
        from(geocode_path("0 rue de la République, 69002 Lyon")),
    )
    .await;
    assert_eq!(cached.status(), StatusCode::OK);
    let other = geocode::handle(
        &state,
        testkit::from_client(
            http::Request::builder()
                .uri(geocode_path("1000 rue de la République, 69002 Lyon"))
                .body(Body::Empty)
                .expect("valid request"),
            "192.0.2.45",
        ),
    )
    .await;
    assert_eq!(other.status(), StatusCode::OK);
}

/// The walk-through's address: Gratte-Ciel's own door, also in the
/// Presqu'île's zone. Closed Gratte-Ciel is named with its next opening; the
/// Presqu'île, open, delivers.
#[sqlx::test(migrations = "../../migrations")]
async fn the_open_pizzeria_delivers_and_the_closed_one_says_when_it_opens(pool: MySqlPool) {
    let state = demo_world(&pool, offline()).await;
    reopen_gratte_ciel(&pool).await;
    let address = "5 avenue Henri Barbusse, 69100 Villeurbanne";

    // At dinner time both are open: the nearer one, Gratte-Ciel, delivers.
    let dinner = get(&state, address).await;
    assert_eq!(dinner.status, StatusCode::OK, "{}", dinner.body);
    assert_eq!(dinner.body["pizzeria"]["id"], 2);
    assert_eq!(dinner.body["distance_m"], 0);
    assert_eq!(dinner.body["others"][0]["id"], 1);
    assert_eq!(dinner.body["closed"], json!([]));

    // Between lunch and dinner: Gratte-Ciel is closed until 18:00 in Paris.
    let afternoon = get(&at(&state, saturday_afternoon()), address).await;
    assert_eq!(afternoon.status, StatusCode::OK, "{}", afternoon.body);
    let body = &afternoon.body;
    assert_eq!(body["delivers"], true);
    assert_eq!(body["pizzeria"]["id"], 1);
    assert_eq!(body["pizzeria"]["name"], "OC Pizza Lyon Presqu'île");
    assert_eq!(body["pizzeria"]["open_now"], true);
    let distance = body["distance_m"].as_i64().expect("distance_m");
    assert!((3700..4000).contains(&distance), "{distance}");
    assert_eq!(body["delivery_fee_cents"], 250);
    assert_eq!(body["min_order_cents"], 1500);
    assert_eq!(body["others"], json!([]));
    assert_eq!(
        body["closed"],
        json!([{
            "id": 2,
            "name": "OC Pizza Villeurbanne Gratte-Ciel",
            "distance_m": 0,
            "opens_at": "2026-11-28T17:00:00Z",
            "pause": null,
        }])
    );
    // Pickup: the nearest pizzeria open now, not Gratte-Ciel next door.
    assert_eq!(body["pickup"]["pizzeria"]["id"], 1);
    assert_eq!(body["pickup"]["distance_m"], distance);

    // On Monday, its day off, it opens on Tuesday at 11:30 in Paris.
    let monday = get(&at(&state, utc(2026, 11, 30, 11, 0)), address).await;
    assert_eq!(monday.body["pizzeria"]["id"], 1);
    assert_eq!(monday.body["closed"][0]["id"], 2);
    assert_eq!(monday.body["closed"][0]["opens_at"], "2026-12-01T10:30:00Z");
}

/// An address only Gratte-Ciel delivers, while it is closed: no delivery,
/// when it opens, and the nearest open pizzeria for pickup.
#[sqlx::test(migrations = "../../migrations")]
async fn an_address_only_a_closed_pizzeria_delivers_is_answered_with_when_and_pickup(
    pool: MySqlPool,
) {
    let state = at(&demo_world(&pool, offline()).await, saturday_afternoon());
    reopen_gratte_ciel(&pool).await;
    let answer = get(&state, "1 place Grandclément, 69100 Villeurbanne").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let body = &answer.body;
    assert_eq!(body["delivers"], false);
    for member in [
        "pizzeria",
        "distance_m",
        "delivery_fee_cents",
        "min_order_cents",
    ] {
        assert_eq!(body[member], Value::Null, "{member}");
    }
    assert_eq!(body["others"], json!([]));
    assert_eq!(
        body["closed"],
        json!([{
            "id": 2,
            "name": "OC Pizza Villeurbanne Gratte-Ciel",
            "distance_m": 1628,
            "opens_at": "2026-11-28T17:00:00Z",
            "pause": null,
        }])
    );
    assert_eq!(body["pickup"]["pizzeria"]["id"], 1);
    assert_eq!(body["pickup"]["pizzeria"]["open_now"], true);
    assert!(body["pickup"]["distance_m"].as_i64() > Some(1628));

    // Monday 03:00 in Paris, the Presqu'île's hours withdrawn too: nothing
    // open anywhere, so no pickup either, and the Presqu'île has no next
    // opening.
    sqlx::query("DELETE FROM opening_hours WHERE pizzeria_id = 1")
        .execute(&pool)
        .await
        .unwrap();
    let night = get(
        &at(&state, utc(2026, 11, 30, 2, 0)),
        "5 avenue Henri Barbusse, 69100 Villeurbanne",
    )
    .await;
    assert_eq!(night.status, StatusCode::OK, "{}", night.body);
    assert_eq!(night.body["delivers"], false);
    assert_eq!(night.body["pickup"], Value::Null);
    assert_eq!(night.body["closed"][0]["id"], 2);
    assert_eq!(night.body["closed"][0]["opens_at"], "2026-12-01T10:30:00Z");
    assert_eq!(night.body["closed"][1]["id"], 1);
    assert_eq!(night.body["closed"][1]["opens_at"], Value::Null);
}

/// A pizzeria that takes no orders has no next opening, whatever its hours:
/// Gratte-Ciel as the demo has it (shut, no hours), then paused by its
/// status. A pizzeria not opened yet is not named at all.
#[sqlx::test(migrations = "../../migrations")]
async fn a_pizzeria_taking_no_orders_has_no_next_opening(pool: MySqlPool) {
    let state = demo_world(&pool, offline()).await;
    let address = "5 avenue Henri Barbusse, 69100 Villeurbanne";
    let closed_gratte_ciel = json!([{
        "id": 2,
        "name": "OC Pizza Villeurbanne Gratte-Ciel",
        "distance_m": 0,
        "opens_at": null,
        "pause": null,
    }]);

    // The demo data, at any hour.
    for now in [
        saturday_evening(),
        saturday_afternoon(),
        utc(2026, 11, 30, 2, 0),
    ] {
        let demo = get(&at(&state, now), address).await;
        assert_eq!(demo.status, StatusCode::OK, "{}", demo.body);
        assert_eq!(demo.body["delivers"], true, "{now}");
        assert_eq!(demo.body["pizzeria"]["id"], 1, "{now}");
        assert_eq!(demo.body["closed"], closed_gratte_ciel, "{now}");
    }

    // Its hours back but its status `closed`: in its dinner hours, still no
    // next opening.
    reopen_gratte_ciel(&pool).await;
    sqlx::query("UPDATE pizzerias SET status = 'closed' WHERE id = 2")
        .execute(&pool)
        .await
        .unwrap();
    let paused = get(&state, address).await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    assert_eq!(paused.body["pizzeria"]["id"], 1);
    assert_eq!(paused.body["closed"], closed_gratte_ciel);

    // Croix-Rousse (6) opens in 2027 and its zone covers the Presqu'île's
    // door: it is neither a choice nor a closed shop.
    let presquile = get(&state, "18 rue Mercière, 69002 Lyon").await;
    assert_eq!(presquile.body["pizzeria"]["id"], 1);
    assert_eq!(presquile.body["others"], json!([]));
    assert_eq!(presquile.body["closed"], json!([]));
}
