//! This machine's limits that bound how much the generator may keep in
//! flight. Running into them would show up as failures of the *target*
//! (EMFILE while connecting), so the engine stays below them instead and
//! any request it cannot start on time is counted as late.

/// File descriptors kept back for the process itself (results files,
/// runtime, stdio, listeners).
const RESERVED_FDS: u64 = 256;

/// Raises the soft open-files limit to the hard limit (as load generators
/// commonly do) and returns the soft limit now in force.
pub fn raise_open_files_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read/write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
    }
    limit.rlim_cur
}

/// Requests each target may have in flight when every in-flight request
/// holds `fds_per_request[target]` descriptors (1 for a remote target, 2 when
/// the simulator runs in this process and holds the other end too), and the
/// pool may keep as many idle connections again.
pub fn in_flight_caps(open_files: u64, fds_per_request: &[u64], ceiling: usize) -> Vec<usize> {
    let total: u64 = 2 * fds_per_request.iter().sum::<u64>().max(1);
    let per_unit = open_files.saturating_sub(RESERVED_FDS) / total;
    fds_per_request
        .iter()
        .map(|_| (per_unit as usize).clamp(1, ceiling))
        .collect()
}

/// Open files a closed model of `users` per target needs, so that every
/// user can hold a socket: the budget [`in_flight_caps`] shares out.
pub fn files_for_users(users: u64, fds_per_request: &[u64]) -> u64 {
    RESERVED_FDS + 2 * users * fds_per_request.iter().sum::<u64>().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_share_the_descriptor_budget() {
        // 20000 fds, two in-process sim targets: 2 fds per request each.
        assert_eq!(in_flight_caps(20_000, &[2, 2], 20_000), vec![2468, 2468]);
        assert_eq!(in_flight_caps(1_000_000, &[1], 20_000), vec![20_000]);
        assert_eq!(in_flight_caps(100, &[1, 1], 20_000), vec![1, 1]);
    }

    #[test]
    fn users_fit_exactly_when_the_caps_hold_them() {
        let fds = [2, 2];
        let needed = files_for_users(2000, &fds);
        assert_eq!(needed, 16_256);
        assert_eq!(in_flight_caps(needed, &fds, 20_000), vec![2000, 2000]);
        assert_eq!(in_flight_caps(needed - 1, &fds, 20_000), vec![1999, 1999]);
    }

    #[test]
    fn raising_never_lowers_the_limit() {
        let before = {
            let mut l = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) };
            l.rlim_cur
        };
        assert!(raise_open_files_limit() >= before);
    }
}
