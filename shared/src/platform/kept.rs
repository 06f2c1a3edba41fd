//! A copy kept per container (shared by its invocations) with the version it
//! was read at: the catalogue, the pizzerias. Each request reads the current
//! version with something it reads anyway and gets the copy when it is that
//! version and younger than a TTL, or reads it again (the last one read is
//! kept). The TTL bounds how long a change made without a new version (by
//! hand in SQL) can go unseen.

use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// A kept `T` and the version `V` it was read at.
pub struct Kept<V, T> {
    /// Never held across an `await`: a plain lock.
    copy: Arc<RwLock<Option<Copy<V, T>>>>,
}

/// When it was read, at which version, and what.
type Copy<V, T> = (Instant, V, Arc<T>);

impl<V, T> Default for Kept<V, T> {
    fn default() -> Self {
        Kept {
            copy: Arc::new(RwLock::new(None)),
        }
    }
}

impl<V, T> Clone for Kept<V, T> {
    fn clone(&self) -> Self {
        Kept {
            copy: self.copy.clone(),
        }
    }
}

impl<V: PartialEq + Clone, T> Kept<V, T> {
    /// The copy at `version` when it is younger than `ttl`; else what `read`
    /// reads, kept at `version`.
    pub async fn at<F, E>(&self, version: V, ttl: Duration, read: F) -> Result<Arc<T>, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        let kept = self
            .copy
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|(at, kept, _)| *kept == version && at.elapsed() < ttl)
            .map(|(_, _, value)| value.clone());
        if let Some(value) = kept {
            return Ok(value);
        }
        let value = Arc::new(read.await?);
        *self.copy.write().unwrap_or_else(PoisonError::into_inner) =
            Some((Instant::now(), version, value.clone()));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_copy_is_read_again_when_its_version_moves_or_it_is_too_old() {
        let kept: Kept<i64, String> = Kept::default();
        let ttl = Duration::from_secs(60);
        let read = |s: &str| {
            let s = s.to_owned();
            async move { Ok::<_, ()>(s) }
        };
        assert_eq!(*kept.at(1, ttl, read("first")).await.unwrap(), "first");
        // The same version: the copy, not what a read would give.
        assert_eq!(*kept.at(1, ttl, read("second")).await.unwrap(), "first");
        // Shared by clones, as a container's invocations share it.
        let other = kept.clone();
        assert_eq!(*other.at(1, ttl, read("third")).await.unwrap(), "first");
        // A new version is read and kept.
        assert_eq!(*kept.at(2, ttl, read("fourth")).await.unwrap(), "fourth");
        assert_eq!(*other.at(2, ttl, read("fifth")).await.unwrap(), "fourth");
        // Past the TTL, read again at the same version.
        let stale = kept.at(2, Duration::ZERO, read("sixth")).await.unwrap();
        assert_eq!(*stale, "sixth");
        // A failed read keeps nothing.
        let failed = kept.at(3, ttl, async { Err::<String, _>("down") }).await;
        assert_eq!(failed.unwrap_err(), "down");
        assert_eq!(*kept.at(2, ttl, read("seventh")).await.unwrap(), "sixth");
    }
}
