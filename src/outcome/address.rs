//! Which address answered a request, as a one-byte slot of the run's
//! address registry (`record::AddressRegistry`), so an [`super::Outcome`]
//! stays `Copy` and small while every request still says where it went.

/// A slot of the run's address registry: `0..NAMED` are the addresses in
/// the order the run first met them, then [`AddressId::OTHER`] (an address
/// past the named slots) and [`AddressId::NONE`] (no address is known: the
/// name did not resolve, or the request was abandoned).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddressId(pub u8);

impl AddressId {
    /// Addresses that get their own slot, per run.
    pub const NAMED: usize = 64;
    pub const OTHER: AddressId = AddressId(Self::NAMED as u8);
    pub const NONE: AddressId = AddressId(Self::NAMED as u8 + 1);
    /// Named slots, then `other`, then `none`.
    pub const SLOTS: usize = Self::NAMED + 2;

    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl Default for AddressId {
    fn default() -> Self {
        AddressId::NONE
    }
}
