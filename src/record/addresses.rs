//! Who answered, by address: the run's address slots ([`AddressRegistry`],
//! shared by every lane and the writers) and each second's counts per slot
//! ([`AddressCounts`], fixed arrays inside [`super::SecondStats`], so
//! recording never allocates).
//!
//! A lane asks the registry only the first time it meets an address and
//! keeps the answer in its own [`LaneAddresses`] (bounded), so the lock is
//! never taken per request.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::outcome::{AddressId, Kind};

/// The name of [`AddressId::OTHER`] in addresses.csv and summary.json.
pub const OTHER_ADDRESS: &str = "other";
/// The name of [`AddressId::NONE`].
pub const NO_ADDRESS: &str = "none";

#[derive(Debug, Default)]
pub struct AddressRegistry {
    /// Index = slot. Append-only: a slot never changes its address.
    addresses: Mutex<Vec<SocketAddr>>,
}

impl AddressRegistry {
    pub fn new() -> Arc<AddressRegistry> {
        Arc::new(AddressRegistry::default())
    }

    /// The slot of `addr`, added when new and there is room; `OTHER` past
    /// the named slots.
    pub fn slot(&self, addr: SocketAddr) -> AddressId {
        let mut addresses = self.lock();
        if let Some(i) = addresses.iter().position(|a| *a == addr) {
            return AddressId(i as u8);
        }
        if addresses.len() >= AddressId::NAMED {
            return AddressId::OTHER;
        }
        addresses.push(addr);
        AddressId((addresses.len() - 1) as u8)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The addresses by slot, as they are now.
    pub fn addresses(&self) -> Vec<SocketAddr> {
        self.lock().clone()
    }

    /// The name of every slot (named, then `other`, then `none`), as
    /// addresses.csv and summary.json write them.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.lock().iter().map(ToString::to_string).collect();
        names.resize(AddressId::NAMED, String::new());
        names.push(OTHER_ADDRESS.to_string());
        names.push(NO_ADDRESS.to_string());
        names
    }

    fn lock(&self) -> MutexGuard<'_, Vec<SocketAddr>> {
        // A panicking holder cannot leave the list half-changed (one push).
        self.addresses.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A lane's own table of the addresses it has met and their slots.
#[derive(Debug, Default)]
pub struct LaneAddresses {
    known: Vec<(SocketAddr, AddressId)>,
}

impl LaneAddresses {
    /// Entries a lane keeps: every named slot and as many `other`
    /// addresses. Past it (a name with more than 128 addresses), an address
    /// the lane has not met is `other` without asking, even when it has a
    /// named slot another lane gave it: bounded memory and no lock per
    /// request over an exact slot in that corner.
    const CAPACITY: usize = 2 * AddressId::NAMED;

    /// The slot of `addr` (`NONE` for no address).
    pub fn slot(&mut self, addr: Option<SocketAddr>, registry: &AddressRegistry) -> AddressId {
        let Some(addr) = addr else {
            return AddressId::NONE;
        };
        if let Some((_, id)) = self.known.iter().find(|(a, _)| *a == addr) {
            return *id;
        }
        if self.known.len() >= Self::CAPACITY {
            return AddressId::OTHER;
        }
        let id = registry.slot(addr);
        self.known.push((addr, id));
        id
    }
}

/// One second's requests by the address that answered them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressCounts {
    /// Every request (abandoned included, under `none`).
    pub requests: [u64; AddressId::SLOTS],
    pub ok: [u64; AddressId::SLOTS],
    /// Judged and not a success.
    pub failed: [u64; AddressId::SLOTS],
}

impl Default for AddressCounts {
    fn default() -> Self {
        AddressCounts {
            requests: [0; AddressId::SLOTS],
            ok: [0; AddressId::SLOTS],
            failed: [0; AddressId::SLOTS],
        }
    }
}

impl AddressCounts {
    pub fn record(&mut self, kind: Kind, address: AddressId) {
        let i = address.index().min(AddressId::SLOTS - 1);
        self.requests[i] += 1;
        if kind.is_success() {
            self.ok[i] += 1;
        } else if kind.is_failure() {
            self.failed[i] += 1;
        }
    }

    pub fn merge(&mut self, other: &AddressCounts) {
        for i in 0..AddressId::SLOTS {
            self.requests[i] += other.requests[i];
            self.ok[i] += other.ok[i];
            self.failed[i] += other.failed[i];
        }
    }

    /// `(slot, requests, ok, failed)` of every slot that had a request.
    pub fn used(&self) -> impl Iterator<Item = (usize, u64, u64, u64)> + '_ {
        (0..AddressId::SLOTS)
            .filter(|&i| self.requests[i] > 0)
            .map(|i| (i, self.requests[i], self.ok[i], self.failed[i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(i: usize) -> SocketAddr {
        SocketAddr::from(([127, 0, (i / 256) as u8, (i % 256) as u8], 80))
    }

    #[test]
    fn addresses_get_slots_in_the_order_met_then_other() {
        let r = AddressRegistry::new();
        let mut lane = LaneAddresses::default();
        assert_eq!(lane.slot(Some(addr(2)), &r), AddressId(0));
        assert_eq!(lane.slot(Some(addr(3)), &r), AddressId(1));
        assert_eq!(lane.slot(Some(addr(2)), &r), AddressId(0));
        assert_eq!(lane.slot(None, &r), AddressId::NONE);
        let mut other_lane = LaneAddresses::default();
        assert_eq!(other_lane.slot(Some(addr(3)), &r), AddressId(1));
        for i in 4..(AddressId::NAMED + 2) {
            r.slot(addr(i));
        }
        assert_eq!(r.len(), AddressId::NAMED);
        assert_eq!(lane.slot(Some(addr(9_999)), &r), AddressId::OTHER);
        assert_eq!(
            lane.slot(Some(addr(10)), &r),
            AddressId(8),
            "named, met late"
        );
        for i in 0..1000 {
            lane.slot(Some(addr(20_000 + i)), &r);
        }
        assert_eq!(lane.known.len(), LaneAddresses::CAPACITY, "bounded");
        let names = r.names();
        assert_eq!(names.len(), AddressId::SLOTS);
        assert_eq!(names[0], "127.0.0.2:80");
        assert_eq!(names[AddressId::OTHER.index()], "other");
        assert_eq!(names[AddressId::NONE.index()], "none");
    }

    #[test]
    fn counts_requests_ok_and_failed_per_slot() {
        let mut c = AddressCounts::default();
        c.record(Kind::Ok, AddressId(0));
        c.record(Kind::Http5xx, AddressId(0));
        c.record(Kind::Dns, AddressId::NONE);
        c.record(Kind::Abandoned, AddressId::NONE);
        let mut d = AddressCounts::default();
        d.merge(&c);
        d.merge(&c);
        let used: Vec<_> = d.used().collect();
        assert_eq!(used, vec![(0, 4, 2, 2), (AddressId::NONE.index(), 4, 0, 2)]);
    }
}
