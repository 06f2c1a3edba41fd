//! Geocoding: addresses to coordinates, delivery zones. (Being written.)
