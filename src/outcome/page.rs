//! The value types of a classified response: [`Page`] and its fields. All
//! `Copy` and a few bytes each, so an [`crate::outcome::Outcome`] carrying a
//! `Page` stays within one cache line. Names (`as_str`) are the ones the
//! fixtures' manifest and `meshdrill classify --json` use.

use std::fmt;

/// What one response said, as far as it could be read. `Page::default()` is
/// "nothing known" (a transport failure, or a body that is not a productpage).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Page {
    pub version: ReviewsVersion,
    /// Full stars of each review shown, in page order (empty when no
    /// ratings were shown).
    pub stars: Stars,
    pub star_color: StarColor,
    /// Lane-local index into the classifier's pod table; see
    /// the classifier's `pod_name`.
    pub pod: PodId,
    /// Index into the configured cluster names, or a lane-local extra name;
    /// see the classifier's `cluster_name`. The lane replaces it with the
    /// run-wide slot (`record::ClusterRegistry`) before recording.
    pub cluster: ClusterId,
    /// Backends the page (or the gateway) reported as unavailable.
    pub degraded: Backends,
    pub template: Template,
    /// Why Envoy answered instead of the app, for gateway local replies.
    pub envoy: Envoy,
}

/// Which reviews deployment answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReviewsVersion {
    /// Not shown (reviews unavailable, ratings down with no pod name, not a
    /// productpage).
    #[default]
    Unknown,
    /// Reviews without ratings.
    V1,
    /// Black stars.
    V2,
    /// Red stars.
    V3,
}

impl ReviewsVersion {
    pub const fn as_str(self) -> Option<&'static str> {
        match self {
            ReviewsVersion::Unknown => None,
            ReviewsVersion::V1 => Some("v1"),
            ReviewsVersion::V2 => Some("v2"),
            ReviewsVersion::V3 => Some("v3"),
        }
    }
}

/// Colour of the star rows: the one thing that tells v2 from v3 when both
/// show the same number of stars.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StarColor {
    #[default]
    None,
    Black,
    Red,
}

impl StarColor {
    pub const fn as_str(self) -> Option<&'static str> {
        match self {
            StarColor::None => None,
            StarColor::Black => Some("black"),
            StarColor::Red => Some("red"),
        }
    }
}

/// Full stars per review, for up to [`Stars::MAX`] reviews (Bookinfo shows 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Stars {
    each: [u8; Stars::MAX],
    len: u8,
}

impl Stars {
    /// Reviews beyond this are still read (and make the page count) but
    /// their stars are not kept.
    pub const MAX: usize = 4;

    /// Appends one review's star count; ignored once full.
    pub fn push(&mut self, full: u8) {
        if let Some(slot) = self.each.get_mut(usize::from(self.len)) {
            *slot = full;
            self.len += 1;
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.each[..usize::from(self.len)]
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A reviews pod, interned per lane (so a page carries 2 bytes, not a name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PodId(pub u16);

impl PodId {
    /// The page showed no pod.
    pub const NONE: PodId = PodId(u16::MAX);
    /// The page showed a pod, but the lane's table was full (or the name was
    /// not a pod name).
    pub const OTHER: PodId = PodId(u16::MAX - 1);

    /// An index into the lane's pod table (not a sentinel).
    pub const fn index(self) -> Option<usize> {
        if self.0 < PodId::OTHER.0 {
            Some(self.0 as usize)
        } else {
            None
        }
    }
}

impl Default for PodId {
    fn default() -> Self {
        PodId::NONE
    }
}

/// A cluster: `0..n` are the configured names
/// (`ClassifyConfig::cluster_names` in `classify`); `n..` are names a page showed
/// that are not configured, interned per lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClusterId(pub u8);

impl ClusterId {
    /// Neither shown on the page nor derivable from the pod name.
    pub const UNKNOWN: ClusterId = ClusterId(u8::MAX);
    /// Shown on the page, but the lane's table of unconfigured names is full.
    pub const OTHER: ClusterId = ClusterId(u8::MAX - 1);

    /// An index (configured, then lane-local), or `None` for a sentinel.
    pub const fn index(self) -> Option<usize> {
        if self.0 < ClusterId::OTHER.0 {
            Some(self.0 as usize)
        } else {
            None
        }
    }
}

impl Default for ClusterId {
    fn default() -> Self {
        ClusterId::UNKNOWN
    }
}

/// A set of backends shown (or known) to be unavailable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Backends(u8);

impl Backends {
    pub const NONE: Backends = Backends(0);
    /// Envoy answered for the productpage upstream itself (UH, UF, UC...).
    pub const PRODUCTPAGE: Backends = Backends(1);
    /// "Error fetching product details".
    pub const DETAILS: Backends = Backends(1 << 1);
    /// "Error fetching product reviews".
    pub const REVIEWS: Backends = Backends(1 << 2);
    /// "Ratings service is currently unavailable" under a review.
    pub const RATINGS: Backends = Backends(1 << 3);

    /// Every backend with its name, in the order they are listed.
    pub const ALL: [(Backends, &'static str); 4] = [
        (Backends::PRODUCTPAGE, "productpage"),
        (Backends::DETAILS, "details"),
        (Backends::REVIEWS, "reviews"),
        (Backends::RATINGS, "ratings"),
    ];

    pub const fn contains(self, other: Backends) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: Backends) -> Backends {
        Backends(self.0 | other.0)
    }

    pub fn insert(&mut self, other: Backends) {
        self.0 |= other.0;
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Names of the backends in the set, in [`Backends::ALL`] order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Backends::ALL
            .into_iter()
            .filter(move |(b, _)| self.contains(*b))
            .map(|(_, name)| name)
    }
}

/// Which productpage generation rendered the page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Template {
    #[default]
    Unknown,
    /// Tailwind, inline SVG stars (bookinfo 1.20.x images).
    Current,
    /// Bootstrap 3, glyphicon stars (2018–2023).
    Legacy,
}

impl Template {
    pub const fn as_str(self) -> Option<&'static str> {
        match self {
            Template::Unknown => None,
            Template::Current => Some("current"),
            Template::Legacy => Some("legacy"),
        }
    }
}

/// Why Envoy answered with a local reply: its response flag, read from the
/// reply (body text, status, headers) because access-log flags are not sent
/// to the client.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EnvoyReason {
    /// Not an Envoy local reply (or one meshdrill does not know).
    #[default]
    None,
    /// UH: "no healthy upstream".
    NoHealthyUpstream,
    /// UF: "upstream connect error or disconnect/reset before headers" with
    /// a connection failure / timeout reset reason.
    UpstreamConnectFailure,
    /// UC: the reset reason is "connection termination".
    UpstreamReset,
    /// UR: "remote reset" / "remote refused stream reset".
    UpstreamRemoteReset,
    /// UPE: "protocol error".
    UpstreamProtocolError,
    /// LR: "local reset".
    LocalReset,
    /// UT: "upstream request timeout".
    UpstreamTimeout,
    /// UO: circuit-breaker overflow ("reset reason: overflow", `x-envoy-overloaded`).
    Overflow,
    /// OM: Envoy's overload manager ("envoy overloaded").
    OverloadManager,
    /// RL: local ("local_rate_limited") or global (429, empty body) rate limit.
    RateLimited,
    /// FI: a VirtualService fault abort ("fault filter abort").
    FaultAbort,
    /// NR: no route (404 with an empty body from Envoy).
    RouteNotFound,
}

impl EnvoyReason {
    /// Envoy's response flag.
    pub const fn flag(self) -> Option<&'static str> {
        Some(match self {
            EnvoyReason::None => return None,
            EnvoyReason::NoHealthyUpstream => "UH",
            EnvoyReason::UpstreamConnectFailure => "UF",
            EnvoyReason::UpstreamReset => "UC",
            EnvoyReason::UpstreamRemoteReset => "UR",
            EnvoyReason::UpstreamProtocolError => "UPE",
            EnvoyReason::LocalReset => "LR",
            EnvoyReason::UpstreamTimeout => "UT",
            EnvoyReason::Overflow => "UO",
            EnvoyReason::OverloadManager => "OM",
            EnvoyReason::RateLimited => "RL",
            EnvoyReason::FaultAbort => "FI",
            EnvoyReason::RouteNotFound => "NR",
        })
    }

    /// The productpage upstream failed (as opposed to a policy of the mesh:
    /// a route, a rate limit, an injected fault, Envoy's own overload).
    pub const fn upstream_failed(self) -> bool {
        matches!(
            self,
            EnvoyReason::NoHealthyUpstream
                | EnvoyReason::UpstreamConnectFailure
                | EnvoyReason::UpstreamReset
                | EnvoyReason::UpstreamRemoteReset
                | EnvoyReason::UpstreamProtocolError
                | EnvoyReason::UpstreamTimeout
                | EnvoyReason::Overflow
        )
    }
}

/// A local reply's reason, and whether Envoy retried before giving up
/// ("retried and the latest reset reason: ...", flag URX).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Envoy {
    pub reason: EnvoyReason,
    pub retried: bool,
}

impl Envoy {
    pub const NONE: Envoy = Envoy {
        reason: EnvoyReason::None,
        retried: false,
    };

    pub const fn is_none(self) -> bool {
        matches!(self.reason, EnvoyReason::None)
    }
}

/// Envoy's `%RESPONSE_FLAGS%` form: `UF`, `UF,URX`; empty for none.
impl fmt::Display for Envoy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(flag) = self.reason.flag() {
            f.write_str(flag)?;
            if self.retried {
                f.write_str(",URX")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_is_small() {
        assert!(
            std::mem::size_of::<Page>() <= 16,
            "{}",
            std::mem::size_of::<Page>()
        );
    }

    #[test]
    fn stars_keep_at_most_max() {
        let mut s = Stars::default();
        for n in 1..=6 {
            s.push(n);
        }
        assert_eq!(s.as_slice(), [1, 2, 3, 4]);
    }

    #[test]
    fn backends_list_in_a_fixed_order() {
        let b = Backends::REVIEWS.union(Backends::DETAILS);
        assert_eq!(b.names().collect::<Vec<_>>(), ["details", "reviews"]);
        assert!(Backends::NONE.is_empty());
    }

    #[test]
    fn envoy_flags_read_like_access_logs() {
        let uf = Envoy {
            reason: EnvoyReason::UpstreamConnectFailure,
            retried: true,
        };
        assert_eq!(uf.to_string(), "UF,URX");
        assert_eq!(Envoy::NONE.to_string(), "");
    }

    #[test]
    fn sentinels_have_no_index() {
        assert_eq!(PodId::NONE.index(), None);
        assert_eq!(PodId::OTHER.index(), None);
        assert_eq!(PodId(3).index(), Some(3));
        assert_eq!(ClusterId::UNKNOWN.index(), None);
        assert_eq!(ClusterId::OTHER.index(), None);
        assert_eq!(ClusterId(0).index(), Some(0));
    }
}
