//! The per-request outcome: the one value that flows from the engine through
//! classification into recording. It is `Copy` and small so that the hot path
//! never allocates; every failure the drill exists to measure is a variant
//! here, never an error that aborts the run.

pub mod address;
pub mod page;

pub use address::AddressId;
pub use page::Page;

/// Index of a target in the plan (`Plan::targets`). Runs have at most a few
/// dozen targets; `u16` keeps `Outcome` small.
pub type TargetId = u16;

/// What happened to one request. Columns of `timeline.csv` are these, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// HTTP 200 and a complete productpage (the default definition of success).
    Ok,
    /// HTTP 200, but the page shows a backend (reviews, ratings, details) as unavailable.
    Degraded,
    /// HTTP 2xx whose body is not a recognisable productpage (wrong app, truncated, empty).
    Unrecognized,
    /// 3xx: a redirect (e.g. plain HTTP to HTTPS), not a productpage. Its
    /// `Location` is counted per target; with `follow_redirects` only a
    /// redirect that is not followed ends as this.
    Http3xx,
    /// 4xx (404 route not found, 429 rate limited...).
    Http4xx,
    /// A final status outside 2xx-5xx (1xx, or a code no HTTP class names).
    HttpOther,
    /// 5xx: Envoy's "no healthy upstream", upstream reset, upstream timeout...
    Http5xx,
    /// Connected (or dialing) but no full response within `load.timeout`.
    Timeout,
    /// TCP connect did not complete within `load.connect_timeout`.
    ConnectTimeout,
    /// Connection refused: nothing listening (gateway pod gone).
    Refused,
    /// Connection reset or closed by the peer before a complete response.
    Reset,
    /// Network or host unreachable (a link or route is gone).
    Unreachable,
    /// The target's host name did not resolve (no such name, no answer, or
    /// no nameserver reachable): nothing was dialed.
    Dns,
    /// TCP connected, but the TLS handshake failed for a reason other than
    /// the certificate (protocol or version mismatch, no common cipher or
    /// ALPN, the peer closed or alerted during the handshake).
    TlsHandshake,
    /// The server's certificate was refused: unknown CA, expired, or not
    /// valid for the server name (SNI) meshdrill sent.
    TlsCert,
    /// The body exceeded the configured cap; not read further.
    BodyTooLarge,
    /// This machine ran out of something (file descriptors, ephemeral ports,
    /// buffers): the generator failed, not the target. Reported loudly.
    LocalError,
    /// Any other transport failure (protocol error, I/O error of another kind).
    OtherError,
    /// Sent, then the run was interrupted (Ctrl-C, SIGTERM) before its
    /// outcome arrived. Counted in its second's `sent`, but neither a success
    /// nor a failure: the interrupt, not the target, cut it short (see
    /// [`Kind::is_judged`]).
    Abandoned,
}

impl Kind {
    pub const ALL: [Kind; 19] = [
        Kind::Ok,
        Kind::Degraded,
        Kind::Unrecognized,
        Kind::Http3xx,
        Kind::Http4xx,
        Kind::HttpOther,
        Kind::Http5xx,
        Kind::Timeout,
        Kind::ConnectTimeout,
        Kind::Refused,
        Kind::Reset,
        Kind::Unreachable,
        Kind::Dns,
        Kind::TlsHandshake,
        Kind::TlsCert,
        Kind::BodyTooLarge,
        Kind::LocalError,
        Kind::OtherError,
        Kind::Abandoned,
    ];
    pub const COUNT: usize = Self::ALL.len();

    /// Stable snake_case name used in CSV headers and JSON keys.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Ok => "ok",
            Kind::Degraded => "degraded",
            Kind::Unrecognized => "unrecognized",
            Kind::Http3xx => "http_3xx",
            Kind::Http4xx => "http_4xx",
            Kind::HttpOther => "http_other",
            Kind::Http5xx => "http_5xx",
            Kind::Timeout => "timeout",
            Kind::ConnectTimeout => "connect_timeout",
            Kind::Refused => "refused",
            Kind::Reset => "reset",
            Kind::Unreachable => "unreachable",
            Kind::Dns => "dns",
            Kind::TlsHandshake => "tls_handshake",
            Kind::TlsCert => "tls_cert",
            Kind::BodyTooLarge => "body_too_large",
            Kind::LocalError => "local_error",
            Kind::OtherError => "other_error",
            Kind::Abandoned => "abandoned",
        }
    }

    pub const fn index(self) -> usize {
        self as usize
    }

    /// Success by the default definition (DESIGN.md): only a complete page.
    pub const fn is_success(self) -> bool {
        matches!(self, Kind::Ok)
    }

    /// Whether the target is judged by this outcome: every kind but
    /// `abandoned`, whose request never got an answer because the run
    /// stopped. Availability is successes over judged requests, and failed
    /// is judged minus successes, everywhere (timeline, summary, RTO, SLO,
    /// fault windows); `sent`/`requests` still count every kind.
    pub const fn is_judged(self) -> bool {
        !matches!(self, Kind::Abandoned)
    }

    /// Judged and not a success: what `failed` and the failure tables count.
    pub const fn is_failure(self) -> bool {
        self.is_judged() && !self.is_success()
    }
}

/// One request, as recorded. Times are microseconds on the run clock
/// (anchored at run start), so an outcome never holds an `Instant`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub target: TargetId,
    /// When its slot was intended (open model) or the user started it (closed model).
    pub intended_us: u64,
    /// Completion minus intended time: what a user would have waited, including
    /// any delay the generator itself added (coordinated-omission correct).
    pub latency_us: u64,
    /// Completion minus the actual send: the server's share.
    pub service_us: u64,
    /// Actual send minus intended time; large values mean the generator fell behind.
    pub send_lag_us: u64,
    pub kind: Kind,
    /// HTTP status, 0 when no response arrived.
    pub status: u16,
    /// What the body said (reviews version, stars, pod, cluster...).
    pub page: Page,
    /// The address that answered (the connection's peer), or the one being
    /// dialed when the request failed; [`AddressId::NONE`] when none is
    /// known (a name that did not resolve).
    pub address: AddressId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_indices_match_all_order() {
        for (i, k) in Kind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i, "{k:?}");
        }
    }

    #[test]
    fn abandoned_is_neither_success_nor_failure() {
        assert!(!Kind::Abandoned.is_judged());
        assert!(!Kind::Abandoned.is_success());
        assert!(!Kind::Abandoned.is_failure());
        assert_eq!(Kind::Abandoned.name(), "abandoned");
        let unjudged: Vec<Kind> = Kind::ALL.into_iter().filter(|k| !k.is_judged()).collect();
        assert_eq!(unjudged, vec![Kind::Abandoned], "the only kind not judged");
        assert!(Kind::Ok.is_judged() && !Kind::Ok.is_failure());
        assert!(Kind::Timeout.is_failure() && Kind::LocalError.is_failure());
    }

    #[test]
    fn outcome_stays_small() {
        assert!(
            std::mem::size_of::<Outcome>() <= 64,
            "{}",
            std::mem::size_of::<Outcome>()
        );
    }
}
