//! The instant a function reads as "now": the system's clock when deployed, a
//! fixed instant in tests, so that answers depending on opening hours (is a
//! pizzeria open, when does it open) are the same whatever the hour a test
//! runs.

use chrono::{DateTime, NaiveDateTime, Utc};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    /// The system's clock.
    #[default]
    System,
    /// Always this instant.
    Fixed(DateTime<Utc>),
}

impl Clock {
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(at) => at,
        }
    }
}

/// Formats a stored UTC `DATETIME` as RFC 3339.
pub fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}
