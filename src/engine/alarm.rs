//! A lane's own high-resolution alarm for the open model's send instants:
//! a Linux timerfd registered with the runtime's reactor. The worker thread
//! that runs the lane sleeps in `epoll_wait` and the kernel's hrtimer wakes
//! it at the slot's instant (tens of µs late, as `std::thread::sleep`),
//! where tokio's timer wheel would fire on its next 1 ms tick. Waking the
//! lane's own thread directly, instead of a pacer thread that then wakes
//! the lane's worker, takes one thread hand-off per slot out of the send
//! path: the cost per request that did not fall as the rate rose.
//!
//! The alarm is armed once per deadline (re-arming for the deadline it
//! already holds makes no system call), so a lane whose loop wakes for
//! responses between two slots does not pay a `timerfd_settime` each time.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::time::Instant;

/// Shortest time from one wake to the next. Above 1 / MIN_NAP slots per
/// second per lane, a wake finds every slot that fell due meanwhile, so
/// wake-ups stop growing with the rate; the price is up to this much send
/// lag (on top of the kernel's), recorded as such and inside every
/// latency. At 250 µs the p99 at 5000/s rose from 0.09 to 0.33 ms (every
/// request waited up to a quarter millisecond); at 100 µs the send lag's
/// p99 stays well under a millisecond up to 10000/s.
pub const MIN_NAP: Duration = Duration::from_micros(100);

pub struct Alarm {
    timer: AsyncFd<OwnedFd>,
    /// The deadline the timer is armed for, if any.
    armed: Option<Instant>,
    /// When the alarm last woke the lane: the next wake is at least
    /// [`MIN_NAP`] after it.
    woke: Option<Instant>,
}

impl Alarm {
    /// Needs a Tokio runtime with I/O enabled (the reactor it registers
    /// with).
    pub fn new() -> io::Result<Alarm> {
        // SAFETY: plain system call; the descriptor is owned from here on.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just created and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: the AsyncFd owns the OwnedFd, so the descriptor stays open
        // and is the same one for as long as it is registered.
        let timer = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE)? };
        Ok(Alarm {
            timer,
            armed: None,
            woke: None,
        })
    }

    /// Returns at `at` (at once when it has passed), but, for a deadline
    /// that was not yet due at the alarm's previous wake, not sooner than
    /// [`MIN_NAP`] after it (slots already due then are that wake's batch
    /// and go at once). Cancel-safe: dropped before it fires, the timer
    /// stays armed for the same deadline, and a later call for it waits on
    /// that.
    pub async fn until(&mut self, at: Instant) {
        let at = match self.woke {
            Some(woke) if at > woke => at.max(woke + MIN_NAP),
            _ => at,
        };
        loop {
            let now = Instant::now();
            if now >= at {
                return;
            }
            if self.armed != Some(at) {
                if self.arm(at - now).is_err() {
                    // Cannot happen for a valid descriptor and interval;
                    // should it, the runtime's coarser timer still wakes.
                    tokio::time::sleep_until(at).await;
                    return;
                }
                self.armed = Some(at);
            }
            let Ok(mut ready) = self.timer.readable().await else {
                tokio::time::sleep_until(at).await;
                return;
            };
            let mut expirations = [0u8; 8];
            // SAFETY: reads at most 8 bytes into a buffer of 8.
            let n = unsafe {
                libc::read(
                    self.timer.get_ref().as_raw_fd(),
                    expirations.as_mut_ptr().cast(),
                    expirations.len(),
                )
            };
            ready.clear_ready();
            if n == 8 {
                self.armed = None;
                self.woke = Some(Instant::now());
            }
            // A spurious readiness or an expiry of an earlier deadline:
            // the time is checked again above.
        }
    }

    /// One-shot, relative to now.
    fn arm(&self, after: Duration) -> io::Result<()> {
        // A zero value disarms a timerfd: the shortest real wait is 1 ns.
        let after = after.max(Duration::from_nanos(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: after.as_secs() as libc::time_t,
                tv_nsec: after.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: a valid timerfd and a fully initialised itimerspec.
        let rc = unsafe {
            libc::timerfd_settime(
                self.timer.get_ref().as_raw_fd(),
                0,
                &spec,
                std::ptr::null_mut(),
            )
        };
        match rc {
            0 => Ok(()),
            _ => Err(io::Error::last_os_error()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_at_once_for_a_deadline_that_has_passed() {
        let mut alarm = Alarm::new().unwrap();
        let before = Instant::now();
        alarm.until(before - Duration::from_millis(5)).await;
        assert!(alarm.armed.is_none(), "no timer armed for the past");
    }

    #[tokio::test]
    async fn never_returns_before_its_deadline() {
        let mut alarm = Alarm::new().unwrap();
        for gap_us in [1u64, 50, 300, 2_000] {
            let at = Instant::now() + Duration::from_micros(gap_us);
            alarm.until(at).await;
            assert!(Instant::now() >= at, "returned before {gap_us} µs");
        }
    }

    #[tokio::test]
    async fn a_slot_already_due_at_the_previous_wake_goes_at_once() {
        let mut alarm = Alarm::new().unwrap();
        let first = Instant::now() + Duration::from_micros(20);
        alarm.until(first).await;
        let woke = alarm.woke.expect("the timer fired");
        // Due at the wake (the same batch): no nap, no timer armed.
        alarm.until(woke).await;
        assert!(alarm.armed.is_none());
        assert_eq!(alarm.woke, Some(woke));
    }

    #[tokio::test]
    async fn a_wake_is_at_least_min_nap_after_the_previous_one() {
        let mut alarm = Alarm::new().unwrap();
        alarm
            .until(Instant::now() + Duration::from_micros(20))
            .await;
        let woke = alarm.woke.expect("the timer fired");
        // Asked for a deadline 1 µs after the wake: held to MIN_NAP.
        alarm.until(woke + Duration::from_micros(1)).await;
        assert!(Instant::now() >= woke + MIN_NAP);
    }

    #[tokio::test]
    async fn dropped_before_it_fires_the_same_deadline_is_waited_on_again() {
        let mut alarm = Alarm::new().unwrap();
        // Far enough ahead that a descheduled test thread cannot reach it
        // before the 1 ms timeout is seen.
        let at = Instant::now() + Duration::from_secs(2);
        let early = tokio::time::timeout(Duration::from_millis(1), alarm.until(at)).await;
        assert!(early.is_err(), "the alarm fired almost 2 s early");
        assert_eq!(alarm.armed, Some(at), "still armed for it");
        alarm.until(at).await;
        assert!(Instant::now() >= at);
    }
}
