//! `run --start-at WHEN`: second 0 at a wall-clock instant, so shards
//! started on several machines (or by several schedulers) count their
//! schedules from the same moment. Owns reading WHEN, the wait for it, the
//! run clock anchored at it, the lag actually achieved and the kernel's
//! word on the system clock (`adjtimex`), which is all a shard can say of
//! how well its second 0 lines up with another machine's.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::engine::clock::RunClock;
use crate::results::summary::{ClockStatus, StartInfo};
use crate::scenario::StartAtPlan;

/// `WHEN`: RFC 3339 (`2026-12-02T13:00:00Z`, `2026-12-02T14:00:00.250+01:00`)
/// or Unix milliseconds (all digits), as scripts that start shards
/// compute it either way.
pub fn parse_start_at(text: &str) -> Result<SystemTime, String> {
    let text = text.trim();
    let bad = |why: &str| {
        format!(
            "--start-at {text:?} is not {why} (give RFC 3339, e.g. 2026-12-02T13:00:00Z or 2026-12-02T14:00:00+01:00, or Unix milliseconds, e.g. 1796216400000)"
        )
    };
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let ms: u64 = text.parse().map_err(|_| bad("a Unix time in ms"))?;
        return UNIX_EPOCH
            .checked_add(Duration::from_millis(ms))
            .ok_or_else(|| bad("a representable time"));
    }
    let (utc, east) = split_offset(text).ok_or_else(|| bad("an RFC 3339 time"))?;
    let local = humantime::parse_rfc3339(&utc).map_err(|_| bad("an RFC 3339 time"))?;
    // `14:00+01:00` is 13:00 UTC.
    let at = if east >= 0 {
        local.checked_sub(Duration::from_secs(east as u64))
    } else {
        local.checked_add(Duration::from_secs(east.unsigned_abs()))
    };
    at.ok_or_else(|| bad("a representable time"))
}

/// The text with its offset replaced by `Z` (humantime reads UTC only) and
/// the offset in seconds east of UTC; `None` without an offset.
fn split_offset(text: &str) -> Option<(String, i64)> {
    if let Some(utc) = text.strip_suffix(['Z', 'z']) {
        return Some((format!("{utc}Z"), 0));
    }
    let at = text.len().checked_sub(6)?;
    let (time, offset) = (text.get(..at)?, text.get(at..)?);
    let b = offset.as_bytes();
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    if b[3] != b':' || !time.contains('T') && !time.contains('t') && !time.contains(' ') {
        return None;
    }
    let hours: i64 = offset.get(1..3)?.parse().ok()?;
    let minutes: i64 = offset.get(4..6)?.parse().ok()?;
    if !offset[1..3].bytes().all(|c| c.is_ascii_digit())
        || !offset[4..6].bytes().all(|c| c.is_ascii_digit())
        || hours > 23
        || minutes > 59
    {
        return None;
    }
    Some((format!("{time}Z"), sign * (hours * 3600 + minutes * 60)))
}

/// `--max-skew`: a humantime duration (`50ms`, `1s`).
pub fn parse_max_skew(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("--max-skew {text:?} is not a duration such as 50ms or 1s: {e}"))
}

/// How far ahead of WHEN the wait ends: the rest is slept on the run clock
/// itself by the lanes (each parked on its first slot), so a late wake-up
/// of this sleep does not become lag.
const WAKE_EARLY: Duration = Duration::from_millis(150);
/// Least time between taking second 0 and reaching it, so the lanes are
/// spawned and parked first.
const MIN_LEAD: Duration = Duration::from_millis(10);

/// Waits for `plan.at` (less [`WAKE_EARLY`]) and anchors the run clock at
/// it, or `lead` from now when it has passed; `None` when `stop` fired
/// during the wait (nothing has been sent).
pub(super) async fn clock_at(
    plan: &StartAtPlan,
    lead: Duration,
    stop: &CancellationToken,
) -> Option<(RunClock, StartInfo)> {
    let ahead = plan
        .at
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    let waited = ahead > lead;
    if waited {
        eprintln!(
            "meshdrill: waiting for second 0 at {} (in {:.1} s)",
            humantime::format_rfc3339_millis(plan.at),
            ahead.as_secs_f64()
        );
        let wake = Instant::now() + ahead.saturating_sub(WAKE_EARLY);
        tokio::select! {
            () = tokio::time::sleep_until(wake) => {}
            () = stop.cancelled() => return None,
        }
    }
    // Second 0 is taken here: the wall clock and the monotonic clock read
    // together, the lag measured against that reading.
    let (now_wall, now) = (SystemTime::now(), Instant::now());
    let least = if waited { MIN_LEAD } else { lead };
    let until = plan
        .at
        .duration_since(now_wall)
        .unwrap_or_default()
        .max(least);
    let clock = RunClock {
        start: now + until,
        epoch: now_wall + until,
    };
    let lag = clock.epoch.duration_since(plan.at).unwrap_or_default();
    let info = StartInfo {
        at_unix_ms: unix_ms(plan.at),
        lag_ms: lag.as_secs_f64() * 1000.0,
        max_skew_ms: plan.max_skew.as_secs_f64() * 1000.0,
        clock: clock_status(),
        notes: Vec::new(),
    };
    Some((clock, info))
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

const STA_UNSYNC: i32 = 0x0040;
const STA_NANO: i32 = 0x2000;
const TIME_ERROR: i32 = 5;

/// The kernel's NTP state, read (modes 0 changes nothing and needs no
/// privilege). Unsynchronized when the kernel says so, or cannot be asked.
pub fn clock_status() -> ClockStatus {
    // SAFETY: adjtimex with modes = 0 only fills the struct it is given.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    let state = unsafe { libc::adjtimex(&mut tx) };
    clock_status_of(state, tx.status, tx.offset as i64, tx.maxerror as i64)
}

/// [`clock_status`] from adjtimex's return value and fields: `offset` in
/// µs (ns with `STA_NANO`), `maxerror` in µs.
fn clock_status_of(state: i32, status: i32, offset: i64, maxerror: i64) -> ClockStatus {
    if state < 0 || state == TIME_ERROR || status & STA_UNSYNC != 0 {
        return ClockStatus {
            synchronized: false,
            offset_ms: None,
            max_error_ms: None,
        };
    }
    let per_ms = if status & STA_NANO != 0 { 1e6 } else { 1e3 };
    ClockStatus {
        synchronized: true,
        offset_ms: Some(offset as f64 / per_ms),
        max_error_ms: Some(maxerror as f64 / 1e3),
    }
}

/// What the run says of its start (stderr at start, `start.notes`): the
/// INVALID reasons of [`crate::assess::generator::start_invalid`] and an
/// unsynchronized clock, which alone does not invalidate (see README).
pub fn start_notes(info: &StartInfo) -> Vec<String> {
    let mut notes = crate::assess::generator::start_invalid(info);
    if !info.clock.synchronized {
        notes.push("clock not synchronized: offset unknown".to_string());
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t: SystemTime) -> u64 {
        unix_ms(t)
    }

    #[test]
    fn rfc3339_with_z_and_with_offsets_and_unix_ms_name_the_same_instant() {
        // 2026-12-02T13:00:00Z
        let want = 1_796_216_400_000;
        assert_eq!(ms(parse_start_at("2026-12-02T13:00:00Z").unwrap()), want);
        assert_eq!(
            ms(parse_start_at("2026-12-02T14:00:00+01:00").unwrap()),
            want
        );
        assert_eq!(
            ms(parse_start_at("2026-12-02T08:30:00-04:30").unwrap()),
            want
        );
        assert_eq!(
            ms(parse_start_at("2026-12-02T13:00:00.250Z").unwrap()),
            want + 250
        );
        assert_eq!(
            ms(parse_start_at("2026-12-02T13:00:00+00:00").unwrap()),
            want
        );
        assert_eq!(ms(parse_start_at("1796216400000").unwrap()), want);
        assert_eq!(ms(parse_start_at("0").unwrap()), 0);
    }

    #[test]
    fn anything_else_is_refused_naming_the_value() {
        for bad in [
            "yesterday",
            "",
            "2026-12-02",
            "2026-12-02T13:00:00",
            "2026-12-02T13:00:00+1:00",
            "2026-12-02T13:00:00+24:00",
            "2026-13-02T13:00:00Z",
            "-5",
            "1.5",
            "99999999999999999999999",
        ] {
            let e = parse_start_at(bad).unwrap_err();
            assert!(e.contains(&format!("{bad:?}")), "{bad}: {e}");
            assert!(e.contains("RFC 3339"), "{e}");
        }
    }

    #[test]
    fn max_skew_is_a_duration() {
        assert_eq!(parse_max_skew("50ms").unwrap(), Duration::from_millis(50));
        assert_eq!(parse_max_skew("1s").unwrap(), Duration::from_secs(1));
        assert!(parse_max_skew("abc").unwrap_err().contains("\"abc\""));
    }

    #[test]
    fn the_kernel_state_is_read_in_its_units() {
        let unsync = clock_status_of(0, STA_UNSYNC, 5, 16_000_000);
        assert!(!unsync.synchronized);
        assert_eq!(unsync.offset_ms, None);
        assert!(!clock_status_of(TIME_ERROR, 0, 5, 1).synchronized);
        assert!(!clock_status_of(-1, 0, 5, 1).synchronized);
        let us = clock_status_of(0, 0x0001, -1500, 2500);
        assert!(us.synchronized);
        assert_eq!(us.offset_ms, Some(-1.5));
        assert_eq!(us.max_error_ms, Some(2.5));
        let ns = clock_status_of(4, STA_NANO, 1_500_000, 2500);
        assert_eq!(ns.offset_ms, Some(1.5));
        assert_eq!(ns.max_error_ms, Some(2.5));
    }
}
