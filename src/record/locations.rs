//! The `Location`s of the redirects that ended requests (`http_3xx`), one
//! slot each, shared by every lane: [`MAX_LOCATIONS`] slots in the order
//! lanes first met them, then one `other` slot for every Location past
//! them, so a target redirecting to a fresh URL per request cannot grow
//! the run's memory. A lane keeps the slots it was given in its own
//! [`LocationSlots`] and asks the registry (a lock) only the first time it
//! meets a Location; once the registry is full the lane copies it whole and
//! never asks again, so no lock and no allocation is taken per request.

use std::sync::{Arc, Mutex, MutexGuard};

/// Distinct Locations counted by name per run; the rest count as [`OTHER`].
pub const MAX_LOCATIONS: usize = 32;
/// The slot of every Location past [`MAX_LOCATIONS`].
pub const OTHER_SLOT: usize = MAX_LOCATIONS;
/// How the results name the slot of Locations past the cap. Not a URI
/// reference (it has a space), so no Location can be named so.
pub const OTHER: &str = "(other)";
/// How the results name a redirect that had no `Location` header.
pub const NONE: &str = "(none)";

#[derive(Debug, Default)]
pub struct LocationRegistry {
    /// Index = slot; append-only. Raw header bytes, as compared.
    names: Mutex<Vec<Box<[u8]>>>,
}

impl LocationRegistry {
    pub fn new() -> Arc<LocationRegistry> {
        Arc::new(LocationRegistry::default())
    }

    /// The slot of `location`, added when new and there is room.
    fn slot(&self, location: &[u8]) -> Option<usize> {
        let mut names = self.lock();
        if let Some(i) = names.iter().position(|n| &**n == location) {
            return Some(i);
        }
        if names.len() >= MAX_LOCATIONS {
            return None;
        }
        names.push(location.into());
        Some(names.len() - 1)
    }

    /// The names by slot (invalid UTF-8 replaced), then [`OTHER`]'s: the
    /// names of a count vector indexed by slot.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .lock()
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        names.resize(MAX_LOCATIONS, String::new());
        names.push(OTHER.to_string());
        names
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Box<[u8]>>> {
        // A panicking holder cannot leave the list half-changed (one push).
        self.names.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One lane's copy of the slots it has met, and its counts by slot.
#[derive(Debug, Default)]
pub struct LocationSlots {
    known: Vec<(Box<[u8]>, usize)>,
    /// The registry was full when last asked: `known` holds all of it.
    complete: bool,
    /// By slot, [`OTHER_SLOT`] last; empty until the first redirect.
    counts: Vec<u64>,
}

impl LocationSlots {
    /// Counts one redirect to `location` (`None`: no Location header, which
    /// is counted as the Location [`NONE`]).
    pub fn count(&mut self, location: Option<&[u8]>, registry: &LocationRegistry) {
        let location = location.unwrap_or(NONE.as_bytes());
        let slot = match self.known.iter().find(|(name, _)| &**name == location) {
            Some((_, slot)) => *slot,
            None if self.complete => OTHER_SLOT,
            None => match registry.slot(location) {
                Some(slot) => {
                    self.known.push((location.into(), slot));
                    slot
                }
                None => {
                    // Full for good: take every name it holds, once.
                    let names = registry.lock();
                    self.known = names.iter().cloned().zip(0..).collect();
                    self.complete = true;
                    OTHER_SLOT
                }
            },
        };
        if self.counts.is_empty() {
            self.counts = vec![0; MAX_LOCATIONS + 1];
        }
        self.counts[slot] += 1;
    }

    /// Counts by slot (empty when this lane met no redirect).
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_share_slots_and_locations_past_the_cap_are_other() {
        let registry = LocationRegistry::new();
        let (mut a, mut b) = (LocationSlots::default(), LocationSlots::default());
        a.count(Some(b"https://h/"), &registry);
        b.count(Some(b"/elsewhere"), &registry);
        b.count(Some(b"https://h/"), &registry);
        a.count(None, &registry);
        assert_eq!(&a.counts()[..3], [1, 0, 1]);
        assert_eq!(&b.counts()[..3], [1, 1, 0]);
        for i in 3..MAX_LOCATIONS {
            a.count(Some(format!("/p{i}").as_bytes()), &registry);
        }
        // Full: b learns every name at once, then asks no more.
        b.count(Some(b"/one-more"), &registry);
        b.count(Some(b"/p7"), &registry);
        b.count(Some(b"/two-more"), &registry);
        assert_eq!(b.counts()[OTHER_SLOT], 2);
        assert_eq!(b.counts()[7], 1);
        let names = registry.names();
        assert_eq!(names.len(), MAX_LOCATIONS + 1);
        assert_eq!(names[..3], ["https://h/", "/elsewhere", NONE]);
        assert_eq!(names[OTHER_SLOT], OTHER);
    }
}
