//! Response body buffers and the run-wide budget they are drawn from
//! (`load.max_buffered`). Whatever a target does (stall mid-body at a high
//! rate, send huge bodies), the bytes meshdrill holds for bodies never pass
//! the budget: a buffer grows only by taking its growth from the budget and
//! gives it back when it shrinks or is dropped. A lane keeps a pool of small
//! buffers, never more than it has requests in flight.
//!
//! The budget is one atomic counter for the whole run, touched only when a
//! buffer grows (a few times per body, not per chunk) or is released, never
//! locked. It is shared rather than split per lane so that one body may use
//! all of it: a per-lane share would refuse a `max_body` body on a machine
//! with many lanes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;

use crate::classify::{Hay, MAX_PARTS};

/// Smallest growth step: a Bookinfo page (4–16 KiB) takes one or two.
const MIN_CAPACITY: usize = 16 * 1024;
/// A returned buffer larger than this is shrunk to it before it is pooled:
/// one huge body must not keep its memory for the rest of the run.
pub const POOLED_CAPACITY: usize = 64 * 1024;

/// Bytes of body buffer capacity the whole run may hold.
#[derive(Debug)]
pub struct BodyBudget {
    limit: usize,
    used: AtomicUsize,
}

impl BodyBudget {
    pub fn new(limit: usize) -> Arc<BodyBudget> {
        large_buffers_go_back_to_the_system();
        Arc::new(BodyBudget {
            limit,
            used: AtomicUsize::new(0),
        })
    }

    /// Takes `bytes`, or nothing and `false` when that would pass the limit.
    /// One atomic add when it fits; two racing takers near the limit may
    /// both be refused, never both granted past it.
    fn take(&self, bytes: usize) -> bool {
        let before = self.used.fetch_add(bytes, Ordering::Relaxed);
        if before.saturating_add(bytes) <= self.limit {
            true
        } else {
            self.used.fetch_sub(bytes, Ordering::Relaxed);
            false
        }
    }

    fn give_back(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// Bytes currently held by buffers (for tests and diagnostics).
    pub fn in_use(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    pub fn limit(&self) -> usize {
        self.limit
    }
}

/// Bytes from which glibc maps a buffer on its own (and unmaps it on free).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MAP_ABOVE: usize = 256 * 1024;

/// A budget on buffers only bounds memory if freed buffers leave the
/// process. glibc raises its mmap threshold to the size of each large
/// buffer freed (up to 32 MiB), after which big bodies come from the heap
/// arenas and their memory stays resident after release: measured, 20 MB
/// bodies under a 64 MiB budget peaked at 179 MiB. A fixed threshold keeps
/// every large body in its own mapping: unmapped when dropped or shrunk,
/// grown by mremap without a copy, and resident only as far as written.
fn large_buffers_go_back_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: mallopt only sets an allocator parameter; called once.
        ONCE.call_once(|| unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MAP_ABOVE as libc::c_int);
        });
    }
}

/// Why a chunk could not be appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The body would pass `max_body`: the target's doing.
    TooLarge,
    /// The run's buffer budget is spent by other bodies in flight: this
    /// machine's limit, not the target's.
    Budget,
}

/// Most body bytes kept in place in hyper's chunks; a longer body is
/// copied into the buffer's own `Vec` (and grows it, paid for, as before).
pub const IN_PLACE_MAX: usize = POOLED_CAPACITY;

/// A response body, paid for in the budget: the chunks hyper delivered,
/// kept in place (no copy) while the body is in at most [`MAX_PARTS`]
/// chunks and [`IN_PLACE_MAX`] bytes — every Bookinfo page — and the
/// classifier reads them where they are ([`Hay`]); past either bound the
/// body is copied into one contiguous `Vec`, whose capacity is charged.
///
/// A chunk is a slice of the connection's read buffer (at most
/// `http1_max_buf_size`, 64 KiB, per connection): the bytes it holds are
/// charged, and what else of that buffer it keeps alive is the buffer the
/// connection reads into anyway, held until the lane has classified the
/// body (right after its last chunk) and dropped the chunks.
#[derive(Debug)]
pub struct BodyBuf {
    /// In order; empty once the body is contiguous in `bytes`.
    parts: Vec<Bytes>,
    /// Bytes in `parts`.
    held: usize,
    bytes: Vec<u8>,
    /// Taken from the budget, covering `bytes`' capacity and `held`:
    /// exactly what is given back on drop.
    charged: usize,
    budget: Arc<BodyBudget>,
}

impl BodyBuf {
    /// An empty buffer: it costs nothing until the first byte arrives.
    pub fn new(budget: Arc<BodyBudget>) -> BodyBuf {
        BodyBuf {
            parts: Vec::new(),
            held: 0,
            bytes: Vec::new(),
            charged: 0,
            budget,
        }
    }

    /// The body as the classifier reads it: in place, or contiguous.
    pub fn hay(&self) -> Hay<'_> {
        if self.parts.is_empty() {
            Hay::whole(&self.bytes)
        } else {
            Hay::parts(&self.parts).expect("at most MAX_PARTS parts are kept in place")
        }
    }

    /// Whether the body is held in hyper's chunks, not copied.
    pub fn in_place(&self) -> bool {
        !self.parts.is_empty()
    }

    pub fn len(&self) -> usize {
        self.held + self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.charged
    }

    pub fn clear(&mut self) {
        self.parts.clear();
        self.held = 0;
        self.bytes.clear();
    }

    /// Appends `data` unless the body would pass `max_body` or the budget.
    /// `expected` is the body's declared length when known: growth stops at
    /// it, so a 20 MB body holds 20 MB, not the next power of two.
    pub fn append(
        &mut self,
        data: Bytes,
        max_body: usize,
        expected: Option<usize>,
    ) -> Result<(), Refused> {
        let needed = self.len() + data.len();
        if needed > max_body {
            return Err(Refused::TooLarge);
        }
        if data.is_empty() {
            return Ok(());
        }
        let ceiling = expected.filter(|&e| e >= needed).unwrap_or(max_body);
        if self.bytes.is_empty() && self.parts.len() < MAX_PARTS && needed <= IN_PLACE_MAX {
            let total = self.bytes.capacity() + needed;
            if total > self.charged {
                let grown = total
                    .max(self.charged.saturating_mul(2))
                    .max(MIN_CAPACITY)
                    .min(ceiling.max(total));
                self.charge(grown)?;
            }
            self.held = needed;
            self.parts.push(data);
            return Ok(());
        }
        // Contiguous from here: what was in place is copied first.
        if needed > self.bytes.capacity() {
            let grown = needed
                .max(self.bytes.capacity().saturating_mul(2))
                .max(MIN_CAPACITY)
                .min(ceiling)
                .max(needed);
            self.charge(self.held + grown)?;
            self.bytes.reserve_exact(grown - self.bytes.len());
        }
        for part in self.parts.drain(..) {
            self.bytes.extend_from_slice(&part);
        }
        self.held = 0;
        self.bytes.extend_from_slice(&data);
        Ok(())
    }

    /// Raises the charge to `total` bytes, or refuses when the budget
    /// cannot give them.
    fn charge(&mut self, total: usize) -> Result<(), Refused> {
        if total > self.charged {
            if !self.budget.take(total - self.charged) {
                return Err(Refused::Budget);
            }
            self.charged = total;
        }
        Ok(())
    }

    /// Empties the buffer and gives back all capacity above `keep`.
    fn shrink_to(&mut self, keep: usize) {
        self.clear();
        if self.charged > keep {
            self.bytes.shrink_to(keep);
            self.budget.give_back(self.charged - keep);
            self.charged = keep;
        }
    }
}

impl Drop for BodyBuf {
    fn drop(&mut self) {
        self.budget.give_back(self.charged);
    }
}

/// One lane's spare buffers, so a steady run allocates none per request.
pub struct BodyPool {
    free: Vec<BodyBuf>,
    budget: Arc<BodyBudget>,
}

impl BodyPool {
    pub fn new(budget: Arc<BodyBudget>) -> BodyPool {
        BodyPool {
            free: Vec::new(),
            budget,
        }
    }

    pub fn take(&mut self) -> BodyBuf {
        self.free
            .pop()
            .unwrap_or_else(|| BodyBuf::new(self.budget.clone()))
    }

    /// Takes back a finished request's buffer. The pool never holds more
    /// buffers than the lane still has in flight (the most it can need
    /// before the next reply returns one), so a burst's buffers are
    /// released as the burst drains; a large buffer is shrunk first.
    pub fn give(&mut self, mut buf: BodyBuf, in_flight: usize) {
        let keep = in_flight.max(1);
        if self.free.len() >= keep {
            self.free.truncate(keep);
            return;
        }
        buf.shrink_to(POOLED_CAPACITY);
        self.free.push(buf);
    }

    pub fn len(&self) -> usize {
        self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.free.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_stays_in_place_up_to_its_bounds_and_is_copied_past_them() {
        let budget = BodyBudget::new(1 << 20);
        let mut buf = BodyBuf::new(budget.clone());
        let chunk = Bytes::from((0..=255u8).collect::<Vec<u8>>());
        for _ in 0..MAX_PARTS {
            buf.append(chunk.clone(), 1 << 20, None).unwrap();
        }
        assert!(buf.in_place());
        let hay = buf.hay();
        assert_eq!(hay.len(), 256 * MAX_PARTS);
        assert_eq!(hay.byte(256 * 3 + 7), Some(7));
        // One chunk more than it reads in place: all of it is copied, in order.
        buf.append(chunk.clone(), 1 << 20, None).unwrap();
        assert!(!buf.in_place());
        let mut all = [0u8; 256 * (MAX_PARTS + 1)];
        let hay = buf.hay();
        let copied = hay.copy(0, all.len(), &mut all);
        assert_eq!(copied.len(), 256 * (MAX_PARTS + 1));
        assert!(copied.chunks(256).all(|c| c == &chunk[..]));
        assert!(budget.in_use() >= buf.len());
        // Emptied, it starts in place again.
        buf.clear();
        buf.append(Bytes::from_static(b"abc"), 1 << 20, None)
            .unwrap();
        assert!(buf.in_place());
        // Longer than IN_PLACE_MAX in one chunk: copied at once.
        let mut big = BodyBuf::new(budget.clone());
        big.append(Bytes::from(vec![1; IN_PLACE_MAX + 1]), 1 << 20, None)
            .unwrap();
        assert!(!big.in_place());
        assert_eq!(big.capacity(), IN_PLACE_MAX + 1);
    }

    #[test]
    fn growth_is_paid_for_and_given_back() {
        let budget = BodyBudget::new(1 << 20);
        let mut buf = BodyBuf::new(budget.clone());
        assert_eq!(budget.in_use(), 0);
        buf.append(Bytes::from(vec![1; 100]), 1 << 20, None)
            .unwrap();
        assert_eq!(buf.capacity(), MIN_CAPACITY);
        assert_eq!(budget.in_use(), MIN_CAPACITY);
        buf.append(Bytes::from(vec![2; 20_000]), 1 << 20, None)
            .unwrap();
        assert_eq!(buf.capacity(), 2 * MIN_CAPACITY);
        assert_eq!(budget.in_use(), 2 * MIN_CAPACITY);
        assert_eq!(buf.len(), 20_100);
        assert!(buf.in_place());
        drop(buf);
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn declared_length_caps_growth() {
        let budget = BodyBudget::new(64 << 20);
        let mut buf = BodyBuf::new(budget.clone());
        let chunk = Bytes::from(vec![0; 400_000]);
        let total = 20_000_000;
        while buf.len() < total {
            let n = chunk.len().min(total - buf.len());
            buf.append(chunk.slice(..n), 64 << 20, Some(total)).unwrap();
        }
        assert_eq!(buf.capacity(), total);
        assert_eq!(budget.in_use(), total);
    }

    #[test]
    fn max_body_is_the_target_and_the_budget_is_this_machine() {
        let budget = BodyBudget::new(90_000);
        let mut a = BodyBuf::new(budget.clone());
        assert_eq!(
            a.append(Bytes::from(vec![0; 5000]), 4096, None),
            Err(Refused::TooLarge)
        );
        assert_eq!(budget.in_use(), 0);
        a.append(Bytes::from(vec![0; 60_000]), 80_000, None)
            .unwrap();
        assert_eq!(budget.in_use(), 60_000);
        let mut b = BodyBuf::new(budget.clone());
        // a holds 60 000 of 90 000 bytes; b's 40 000 would pass it.
        assert_eq!(
            b.append(Bytes::from(vec![0; 40_000]), 80_000, None),
            Err(Refused::Budget)
        );
        assert_eq!(b.len(), 0);
        assert_eq!(budget.in_use(), 60_000);
        drop(a);
        b.append(Bytes::from(vec![0; 40_000]), 80_000, None)
            .unwrap();
        assert_eq!(budget.in_use(), 40_000);
    }

    #[test]
    fn pool_shrinks_big_buffers_and_holds_no_more_than_in_flight() {
        let budget = BodyBudget::new(1 << 30);
        let mut pool = BodyPool::new(budget.clone());
        let mut bufs: Vec<BodyBuf> = (0..10).map(|_| pool.take()).collect();
        for b in &mut bufs {
            b.append(Bytes::from(vec![7; 1_000_000]), 1 << 20, None)
                .unwrap();
        }
        assert!(budget.in_use() >= 10_000_000);
        // The burst drains: each reply leaves one fewer in flight.
        for (i, b) in bufs.drain(..).enumerate() {
            pool.give(b, 9 - i);
        }
        assert_eq!(pool.len(), 1);
        assert_eq!(budget.in_use(), POOLED_CAPACITY);
        let reused = pool.take();
        assert!(reused.is_empty());
        assert_eq!(reused.capacity(), POOLED_CAPACITY);
        drop(reused);
        assert_eq!(budget.in_use(), 0);
    }
}
