//! Geocoding and delivery zones: an address typed by a customer becomes
//! coordinates, and the coordinates tell which pizzerias deliver there.
//!
//! With `GOOGLE_MAP_API_KEY` set, addresses go to Google's Geocoding API (3 s
//! timeout, answers cached in `geocode_cache`). Without it — a developer's
//! machine, the demo — only the demo addresses of `samples/addresses.json`
//! are known, and the answer says so. The key is never logged nor shown:
//! transport errors are stripped of the URL that carries it.

use crate::catalog::Pizzeria;
use crate::platform::config::Config;
use crate::platform::ids::PizzeriaId;
use crate::platform::money::Money;
use crate::samples::ADDRESSES_JSON;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::MySqlPool;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Coordinates {
    pub latitude: f64,
    pub longitude: f64,
}

/// Great-circle distance in metres (haversine; plenty for a few kilometres).
pub fn distance_m(a: Coordinates, b: Coordinates) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_371_000.0;
    let (la1, la2) = (a.latitude.to_radians(), b.latitude.to_radians());
    let dla = la2 - la1;
    let dlo = (b.longitude - a.longitude).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GeoSource {
    Google,
    Cache,
    DemoAddresses,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Geocoded {
    pub query: String,
    pub formatted_address: String,
    pub coordinates: Coordinates,
    pub source: GeoSource,
}

#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    /// Empty or absurd query: the caller's mistake (422).
    #[error("{0}")]
    Invalid(String),
    /// No such address (422).
    #[error("{0}")]
    NotFound(String),
    /// The provider refused or did not answer (503).
    #[error("{0}")]
    Unavailable(String),
    /// This client asked for too many new addresses (429).
    #[error("too many new addresses; retry in {retry_after_seconds} s")]
    Limited { retry_after_seconds: i64 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// One demo address of `samples/addresses.json`.
#[derive(Debug, Clone, Deserialize)]
struct DemoAddress {
    query: String,
    formatted_address: String,
    latitude: f64,
    longitude: f64,
}

#[derive(Debug, Clone)]
pub struct Geocoder {
    http: reqwest::Client,
    key: Option<SecretString>,
    url: String,
    demo: std::sync::Arc<Vec<DemoAddress>>,
}

/// Lower case, single spaces, no punctuation but digits and letters: what a
/// person means, not how they typed it.
fn normalise(query: &str) -> String {
    query
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Deserialize)]
struct GoogleAnswer {
    status: String,
    #[serde(default)]
    results: Vec<GoogleResult>,
    #[serde(default)]
    error_message: Option<String>,
}

#[derive(Deserialize)]
struct GoogleResult {
    formatted_address: String,
    geometry: GoogleGeometry,
}

#[derive(Deserialize)]
struct GoogleGeometry {
    location: GoogleLocation,
}

#[derive(Deserialize)]
struct GoogleLocation {
    lat: f64,
    lng: f64,
}

/// What a Google `status` other than `OK` means for the caller, per the
/// Geocoding API's documented statuses; `None` for `OK`. An unknown status is
/// treated as the provider being unavailable rather than as a bad address.
fn status_error(status: &str, error_message: Option<String>, query: &str) -> Option<GeoError> {
    match status {
        "OK" => None,
        "ZERO_RESULTS" => Some(GeoError::NotFound(format!(
            "No address matches \"{query}\"."
        ))),
        // We always send a non-empty address, so Google refusing the request
        // means this address cannot be looked up: the caller's to change.
        "INVALID_REQUEST" => Some(GeoError::Invalid(format!(
            "\"{query}\" cannot be looked up as an address."
        ))),
        // OVER_QUERY_LIMIT, OVER_DAILY_LIMIT, REQUEST_DENIED, UNKNOWN_ERROR...
        other => {
            let detail = error_message.unwrap_or_default();
            Some(GeoError::Unavailable(
                format!("geocoding service refused ({other}) {detail}")
                    .trim()
                    .to_owned(),
            ))
        }
    }
}

impl Geocoder {
    pub fn from_config(config: &Config) -> Geocoder {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .connect_timeout(Duration::from_secs(2))
            .build()
            .unwrap_or_default();
        // The fixtures are compiled in; a broken file is caught by the tests.
        let demo: Vec<DemoAddress> = serde_json::from_str(ADDRESSES_JSON).unwrap_or_default();
        Geocoder {
            http,
            key: config.google_map_api_key.clone(),
            url: config.google_geocoding_url.clone(),
            demo: std::sync::Arc::new(demo),
        }
    }

    /// No Google key: only the demo addresses are known.
    pub fn is_offline(&self) -> bool {
        self.key.is_none()
    }

    pub async fn geocode(&self, pool: &MySqlPool, query: &str) -> Result<Geocoded, GeoError> {
        self.geocode_for(pool, query, None).await
    }

    /// [`Geocoder::geocode`] for a client: each address Google is asked
    /// about (not in the cache: a paid call) counts against
    /// `rate_limit::GEOCODING_MISSES_PER_ADDRESS` for the client's address.
    pub async fn geocode_for(
        &self,
        pool: &MySqlPool,
        query: &str,
        client: Option<&str>,
    ) -> Result<Geocoded, GeoError> {
        let query = query.split_whitespace().collect::<Vec<_>>().join(" ");
        if query.is_empty() {
            return Err(GeoError::Invalid("Give an address.".into()));
        }
        if query.chars().count() > 300 {
            return Err(GeoError::Invalid(
                "An address is at most 300 characters.".into(),
            ));
        }
        let normalised = normalise(&query);
        let Some(key) = &self.key else {
            return self.demo_lookup(&query, &normalised);
        };

        let hash = hex::encode(Sha256::digest(normalised.as_bytes()));
        let cached = sqlx::query!(
            "SELECT latitude, longitude, formatted_address FROM geocode_cache WHERE query_hash = ?",
            hash,
        )
        .fetch_optional(pool)
        .await?;
        if let Some(cached) = cached {
            return Ok(Geocoded {
                query,
                formatted_address: cached.formatted_address,
                coordinates: Coordinates {
                    latitude: cached.latitude,
                    longitude: cached.longitude,
                },
                source: GeoSource::Cache,
            });
        }

        if let Some(client) = client {
            let limit = crate::platform::rate_limit::GEOCODING_MISSES_PER_ADDRESS;
            let mut conn = pool.acquire().await?;
            if let crate::platform::rate_limit::Verdict::Limited {
                retry_after_seconds,
            } = crate::platform::rate_limit::hit(&mut conn, limit, client).await?
            {
                return Err(GeoError::Limited {
                    retry_after_seconds,
                });
            }
        }
        let response = self
            .http
            .get(&self.url)
            .query(&[
                ("address", query.as_str()),
                ("key", key.expose_secret()),
                ("region", "fr"),
                ("language", "fr"),
            ])
            .send()
            .await
            .map_err(|e| {
                GeoError::Unavailable(format!(
                    "geocoding service unreachable: {}",
                    e.without_url()
                ))
            })?;
        if !response.status().is_success() {
            return Err(GeoError::Unavailable(format!(
                "geocoding service answered HTTP {}",
                response.status().as_u16()
            )));
        }
        let answer: GoogleAnswer = response.json().await.map_err(|e| {
            GeoError::Unavailable(format!(
                "geocoding service answered unreadably: {}",
                e.without_url()
            ))
        })?;
        if let Some(err) = status_error(&answer.status, answer.error_message, &query) {
            return Err(match err {
                GeoError::Unavailable(detail) => {
                    GeoError::Unavailable(detail.replace(key.expose_secret(), "***"))
                }
                other => other,
            });
        }
        let Some(first) = answer.results.into_iter().next() else {
            return Err(GeoError::NotFound(format!(
                "No address matches \"{query}\"."
            )));
        };
        let coordinates = Coordinates {
            latitude: first.geometry.location.lat,
            longitude: first.geometry.location.lng,
        };
        sqlx::query!(
            "INSERT INTO geocode_cache (query_hash, query, latitude, longitude, formatted_address, created_at) \
             VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE query_hash = query_hash",
            hash,
            query,
            coordinates.latitude,
            coordinates.longitude,
            first.formatted_address,
        )
        .execute(pool)
        .await?;
        Ok(Geocoded {
            query,
            formatted_address: first.formatted_address,
            coordinates,
            source: GeoSource::Google,
        })
    }

    fn demo_lookup(&self, query: &str, normalised: &str) -> Result<Geocoded, GeoError> {
        let found = self.demo.iter().find(|a| {
            normalise(&a.query) == normalised
                || normalise(&a.formatted_address) == normalised
                || normalise(&a.formatted_address).trim_end_matches(" france") == normalised
        });
        match found {
            Some(a) => Ok(Geocoded {
                query: query.to_owned(),
                formatted_address: a.formatted_address.clone(),
                coordinates: Coordinates { latitude: a.latitude, longitude: a.longitude },
                source: GeoSource::DemoAddresses,
            }),
            None => Err(GeoError::NotFound(format!(
                "\"{query}\" is not one of the demo addresses: without a Google Maps key, only the addresses of samples/addresses.json are known."
            ))),
        }
    }
}

/// An active pizzeria seen from a point: how far it is and its delivery terms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Zone {
    pub pizzeria_id: PizzeriaId,
    pub name: String,
    pub distance_m: i64,
    pub delivery_radius_m: i32,
    pub delivery_fee: Money,
    pub min_order: Money,
}

impl Zone {
    /// A pizzeria (whatever its status) seen from `at`.
    pub fn of(pizzeria: &Pizzeria, at: Coordinates) -> Zone {
        let site = Coordinates {
            latitude: pizzeria.latitude,
            longitude: pizzeria.longitude,
        };
        Zone {
            pizzeria_id: pizzeria.id,
            name: pizzeria.name.clone(),
            distance_m: metres(site, at),
            delivery_radius_m: pizzeria.delivery.radius_m,
            delivery_fee: Money::from_cents(pizzeria.delivery.delivery_fee_cents),
            min_order: Money::from_cents(pizzeria.delivery.min_order_cents),
        }
    }

    /// The point is within this pizzeria's delivery radius.
    pub fn delivers(&self) -> bool {
        self.distance_m <= i64::from(self.delivery_radius_m)
    }
}

/// Distance rounded to the metre, as zones show it.
fn metres(a: Coordinates, b: Coordinates) -> i64 {
    distance_m(a, b).round() as i64
}

/// Pizzerias already loaded (with their hours, whether open now...), each
/// with its zone seen from `at`, nearest first (ties by id), as
/// [`pizzerias_by_distance`] ranks them.
pub fn rank_pizzerias(pizzerias: Vec<Pizzeria>, at: Coordinates) -> Vec<(Zone, Pizzeria)> {
    let mut ranked: Vec<(Zone, Pizzeria)> = pizzerias
        .into_iter()
        .map(|p| (Zone::of(&p, at), p))
        .collect();
    ranked.sort_by_key(|(z, _)| (z.distance_m, z.pizzeria_id.0));
    ranked
}

/// One active pizzeria's site: id, name, position, radius, fee, minimum order.
type SiteRow = (i64, String, f64, f64, i32, i64, i64);

/// Every active pizzeria, nearest first (ties by id), whether or not it
/// delivers to the point: the nearest one is where a customer outside every
/// zone can still pick up. The group has a handful of pizzerias: computed
/// here rather than in SQL.
pub async fn pizzerias_by_distance(
    pool: &MySqlPool,
    at: Coordinates,
) -> Result<Vec<Zone>, sqlx::Error> {
    let rows: Vec<SiteRow> = sqlx::query!(
        "SELECT id, name, latitude, longitude, delivery_radius_m, delivery_fee_cents, min_order_cents \
         FROM pizzerias WHERE status = 'active'"
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| {
        (
            r.id,
            r.name,
            r.latitude,
            r.longitude,
            r.delivery_radius_m,
            r.delivery_fee_cents,
            r.min_order_cents,
        )
    })
    .collect();
    Ok(rank(rows, at))
}

/// Active pizzerias whose delivery radius covers the point, nearest first.
pub async fn pizzerias_delivering_to(
    pool: &MySqlPool,
    at: Coordinates,
) -> Result<Vec<Zone>, sqlx::Error> {
    let mut zones = pizzerias_by_distance(pool, at).await?;
    zones.retain(Zone::delivers);
    Ok(zones)
}

fn rank(rows: Vec<SiteRow>, at: Coordinates) -> Vec<Zone> {
    let mut zones: Vec<Zone> = rows
        .into_iter()
        .map(|(id, name, latitude, longitude, radius, fee, min)| Zone {
            pizzeria_id: PizzeriaId(id),
            name,
            distance_m: metres(
                Coordinates {
                    latitude,
                    longitude,
                },
                at,
            ),
            delivery_radius_m: radius,
            delivery_fee: Money::from_cents(fee),
            min_order: Money::from_cents(min),
        })
        .collect();
    zones.sort_by_key(|z| (z.distance_m, z.pizzeria_id.0));
    zones
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paris_to_lyon_is_about_392_km() {
        let paris = Coordinates {
            latitude: 48.8566,
            longitude: 2.3522,
        };
        let lyon = Coordinates {
            latitude: 45.7640,
            longitude: 4.8357,
        };
        let d = distance_m(paris, lyon);
        assert!((390_000.0..395_000.0).contains(&d), "{d}");
        assert_eq!(distance_m(paris, paris), 0.0);
    }

    #[test]
    fn the_demo_addresses_parse() {
        let demo: Vec<DemoAddress> = serde_json::from_str(ADDRESSES_JSON).unwrap();
        assert!(demo.len() >= 25);
    }

    #[test]
    fn normalising_ignores_case_and_punctuation() {
        assert_eq!(
            normalise("  18, Rue   MERCIÈRE - 69002 Lyon "),
            "18 rue mercière 69002 lyon"
        );
    }

    #[test]
    fn pizzerias_rank_nearest_first_and_know_whether_they_deliver() {
        let at = Coordinates {
            latitude: 45.7615,
            longitude: 4.8359,
        };
        let zones = rank(
            vec![
                // About 3.6 km away with a 3.5 km radius: near, but no delivery.
                (2, "Villeurbanne".into(), 45.7689, 4.8803, 3500, 250, 1500),
                // About 400 m away.
                (1, "Presqu'île".into(), 45.7633, 4.8319, 4000, 250, 1500),
                // Hundreds of kilometres away.
                (3, "Paris".into(), 48.8654, 2.3756, 3000, 350, 1500),
            ],
            at,
        );
        let ids: Vec<i64> = zones.iter().map(|z| z.pizzeria_id.0).collect();
        assert_eq!(ids, [1, 2, 3]);
        let delivers: Vec<bool> = zones.iter().map(Zone::delivers).collect();
        assert_eq!(delivers, [true, false, false]);
        assert!((300..500).contains(&zones[0].distance_m), "{zones:?}");
    }

    #[test]
    fn each_google_status_has_a_meaning() {
        assert!(status_error("OK", None, "x").is_none());
        assert!(matches!(
            status_error("ZERO_RESULTS", None, "x"),
            Some(GeoError::NotFound(_))
        ));
        assert!(matches!(
            status_error("INVALID_REQUEST", None, "x"),
            Some(GeoError::Invalid(_))
        ));
        for status in [
            "OVER_QUERY_LIMIT",
            "OVER_DAILY_LIMIT",
            "REQUEST_DENIED",
            "UNKNOWN_ERROR",
            "SOMETHING_NEW",
        ] {
            match status_error(status, Some("because".into()), "x") {
                Some(GeoError::Unavailable(m)) => {
                    assert_eq!(m, format!("geocoding service refused ({status}) because"))
                }
                other => panic!("{status}: {other:?}"),
            }
        }
    }
}
