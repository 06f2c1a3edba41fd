//! TEMPORARY STUB (not committed): replaced by the real module.
#![allow(dead_code, unused_variables)]
use crate::config::Config;
use crate::ids::PizzeriaId;
use crate::money::Money;
use sqlx::MySqlPool;
#[derive(Clone, Copy, Debug)]
pub struct Coordinates {
    pub latitude: f64,
    pub longitude: f64,
}
pub fn distance_m(a: Coordinates, b: Coordinates) -> f64 {
    todo!()
}
pub struct Geocoded {
    pub query: String,
    pub formatted_address: String,
    pub coordinates: Coordinates,
}
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    #[error("a")]
    Invalid(String),
    #[error("b")]
    NotFound(String),
    #[error("c")]
    Unavailable(String),
    #[error("d")]
    Database(sqlx::Error),
}
#[derive(Clone, Debug)]
pub struct Geocoder;
impl Geocoder {
    pub fn from_config(config: &Config) -> Geocoder {
        Geocoder
    }
    pub async fn geocode(&self, pool: &MySqlPool, query: &str) -> Result<Geocoded, GeoError> {
        todo!()
    }
}
pub struct Zone {
    pub pizzeria_id: PizzeriaId,
    pub name: String,
    pub distance_m: i64,
    pub delivery_fee: Money,
    pub min_order: Money,
}
pub async fn pizzerias_delivering_to(
    pool: &MySqlPool,
    at: Coordinates,
) -> Result<Vec<Zone>, sqlx::Error> {
    todo!()
}
