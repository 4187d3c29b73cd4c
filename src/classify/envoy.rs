//! Envoy local replies → [`Envoy`] (the response flag an access log would
//! show). The client never sees `%RESPONSE_FLAGS%`, so the flag is read back
//! from what Envoy sends: the fixed body texts of its router, rate-limit and
//! fault filters, a few headers, and for empty bodies the status.

use std::sync::OnceLock;

use hyper::HeaderMap;
use hyper::header::SERVER;
use memchr::memmem::Finder;

use crate::outcome::page::{Envoy, EnvoyReason};

/// Local replies are one short line; a longer body is the app's own page.
pub(super) const MAX_LOCAL_REPLY: usize = 1024;

const UPSTREAM_RESET: &[u8] = b"upstream connect error or disconnect/reset before headers.";
const RETRIED: &[u8] = b"retried and the latest reset reason: ";
const RESET_REASON: &[u8] = b"reset reason: ";

/// Whole-body texts (after trimming), from Envoy's router, local rate limit,
/// fault filter and overload manager.
const BODIES: [(&[u8], EnvoyReason); 5] = [
    (b"no healthy upstream", EnvoyReason::NoHealthyUpstream),
    (b"upstream request timeout", EnvoyReason::UpstreamTimeout),
    (b"local_rate_limited", EnvoyReason::RateLimited),
    (b"fault filter abort", EnvoyReason::FaultAbort),
    (b"envoy overloaded", EnvoyReason::OverloadManager),
];

/// `Http::Utility::resetReasonToString` values (and the older "connection
/// failure"), longest first where one ends another.
const RESET_REASONS: [(&[u8], EnvoyReason); 14] = [
    (
        b"local connection failure",
        EnvoyReason::UpstreamConnectFailure,
    ),
    (
        b"remote connection failure",
        EnvoyReason::UpstreamConnectFailure,
    ),
    (b"connection failure", EnvoyReason::UpstreamConnectFailure),
    (b"connection timeout", EnvoyReason::UpstreamConnectFailure),
    (b"local connection termination", EnvoyReason::UpstreamReset),
    (b"remote connection termination", EnvoyReason::UpstreamReset),
    (b"connection termination", EnvoyReason::UpstreamReset),
    (b"overflow", EnvoyReason::Overflow),
    (b"local refused stream reset", EnvoyReason::LocalReset),
    (b"local reset", EnvoyReason::LocalReset),
    (
        b"remote refused stream reset",
        EnvoyReason::UpstreamRemoteReset,
    ),
    (b"remote reset", EnvoyReason::UpstreamRemoteReset),
    (
        b"remote error with CONNECT request",
        EnvoyReason::UpstreamRemoteReset,
    ),
    (b"protocol error", EnvoyReason::UpstreamProtocolError),
];

fn reset_reason_finder() -> &'static Finder<'static> {
    static FINDER: OnceLock<Finder<'static>> = OnceLock::new();
    FINDER.get_or_init(|| Finder::new(RESET_REASON))
}

/// The local reply's reason, or [`Envoy::NONE`] for a status below 400 or a
/// body Envoy does not send. `body` is the whole body when it is at most
/// [`MAX_LOCAL_REPLY`] bytes; `len` is its length.
pub(super) fn reason(status: u16, headers: &HeaderMap, body: &[u8], len: usize) -> Envoy {
    if status < 400 || len > MAX_LOCAL_REPLY {
        return Envoy::NONE;
    }
    let text = body.trim_ascii();
    if text.is_empty() {
        // NR and the global rate limit reply with no body at all, so only
        // the sender tells Envoy from any other server.
        let reason = match status {
            404 if from_envoy(headers) => EnvoyReason::RouteNotFound,
            429 if from_envoy(headers) => EnvoyReason::RateLimited,
            _ => EnvoyReason::None,
        };
        return Envoy {
            reason,
            retried: false,
        };
    }
    if let Some((_, reason)) = BODIES.iter().find(|(b, _)| text == *b) {
        return Envoy {
            reason: *reason,
            retried: false,
        };
    }
    if let Some(rest) = text.strip_prefix(UPSTREAM_RESET) {
        return reset(rest);
    }
    if status == 503
        && headers
            .get("x-envoy-overloaded")
            .is_some_and(|v| v == "true")
    {
        return Envoy {
            reason: EnvoyReason::Overflow,
            retried: false,
        };
    }
    Envoy::NONE
}

/// After "upstream connect error or disconnect/reset before headers.":
/// `[retried and the latest ]reset reason: REASON[, transport failure reason: ...]`.
fn reset(rest: &[u8]) -> Envoy {
    let Some(at) = reset_reason_at(rest) else {
        return Envoy::NONE;
    };
    let retried = rest[..at + RESET_REASON.len()].ends_with(RETRIED);
    let said = &rest[at + RESET_REASON.len()..];
    let said = said[..memchr::memchr(b',', said).unwrap_or(said.len())].trim_ascii();
    let reason = RESET_REASONS
        .iter()
        .find(|(text, _)| said == *text)
        .map_or(EnvoyReason::None, |(_, reason)| *reason);
    Envoy { reason, retried }
}

/// Where "reset reason: " first is in `rest`: right after the one space
/// Envoy writes (with or without "retried and the latest " before it),
/// else searched for.
fn reset_reason_at(rest: &[u8]) -> Option<usize> {
    if let Some(after_space) = rest.strip_prefix(b" ") {
        if after_space.starts_with(RESET_REASON) {
            return Some(1);
        }
        if after_space.starts_with(RETRIED) {
            // RETRIED ends with RESET_REASON, which is nowhere else in it.
            return Some(1 + RETRIED.len() - RESET_REASON.len());
        }
    }
    reset_reason_finder().find(rest)
}

/// `server: istio-envoy` (Istio) or `server: envoy` (managed meshes, plain
/// Envoy) as the first `server` value, or any `x-envoy-*` header. One walk
/// over the few headers of a local reply, cheaper than a lookup and a walk.
fn from_envoy(headers: &HeaderMap) -> bool {
    // Exact bytes first: Envoy sends them lower case, and a comparison is a
    // fraction of a case-folding one.
    let is_envoy = |s: &[u8]| {
        s == b"istio-envoy"
            || s == b"envoy"
            || s.eq_ignore_ascii_case(b"istio-envoy")
            || s.eq_ignore_ascii_case(b"envoy")
    };
    let mut server_seen = false;
    for (name, value) in headers {
        if *name == SERVER {
            if !server_seen && is_envoy(value.as_bytes()) {
                return true;
            }
            server_seen = true;
        } else if name.as_str().starts_with("x-envoy-") {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use hyper::header::HeaderValue;

    use super::*;

    fn envoy_headers(server: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(SERVER, HeaderValue::from_static(server));
        h
    }

    fn flags(status: u16, headers: &HeaderMap, body: &str) -> String {
        reason(status, headers, body.as_bytes(), body.len()).to_string()
    }

    #[test]
    fn reset_reasons_map_to_flags() {
        let h = HeaderMap::new();
        let pre = "upstream connect error or disconnect/reset before headers. ";
        for (said, flag) in [
            ("reset reason: connection failure", "UF"),
            ("reset reason: connection timeout", "UF"),
            (
                "reset reason: remote connection failure, transport failure reason: delayed connect error: 111",
                "UF",
            ),
            (
                "retried and the latest reset reason: remote connection failure, transport failure reason: delayed connect error: 111",
                "UF,URX",
            ),
            ("reset reason: connection termination", "UC"),
            (
                "retried and the latest reset reason: connection termination",
                "UC,URX",
            ),
            ("reset reason: overflow", "UO"),
            ("reset reason: local reset", "LR"),
            ("reset reason: remote reset", "UR"),
            ("reset reason: protocol error", "UPE"),
            ("reset reason: something new", ""),
        ] {
            assert_eq!(flags(503, &h, &format!("{pre}{said}")), flag, "{said}");
        }
    }

    #[test]
    fn the_reset_reason_is_where_a_search_finds_it() {
        for rest in [
            &b" reset reason: overflow"[..],
            b" retried and the latest reset reason: local reset",
            b"reset reason: overflow",
            b"  reset reason: overflow",
            b" retried and the latest reset reason:",
            b" then reset reason: a reset reason: b",
            b" retried and the latest ",
            b"",
            b" ",
        ] {
            assert_eq!(
                reset_reason_at(rest),
                reset_reason_finder().find(rest),
                "{}",
                String::from_utf8_lossy(rest)
            );
        }
    }

    #[test]
    fn empty_bodies_need_envoy_as_the_sender() {
        assert_eq!(flags(404, &envoy_headers("istio-envoy"), ""), "NR");
        assert_eq!(flags(404, &envoy_headers("envoy"), ""), "NR");
        assert_eq!(flags(429, &envoy_headers("envoy"), ""), "RL");
        assert_eq!(flags(404, &envoy_headers("nginx"), ""), "");
        assert_eq!(flags(404, &HeaderMap::new(), ""), "");
        let mut h = HeaderMap::new();
        h.insert(
            "x-envoy-upstream-service-time",
            HeaderValue::from_static("3"),
        );
        assert_eq!(flags(404, &h, ""), "NR");
        // Only the first `server` value names the sender.
        let mut h = HeaderMap::new();
        h.append(SERVER, HeaderValue::from_static("nginx"));
        h.append(SERVER, HeaderValue::from_static("envoy"));
        assert_eq!(flags(404, &h, ""), "");
        h.insert("x-envoy-decorator-operation", HeaderValue::from_static("x"));
        assert_eq!(flags(404, &h, ""), "NR");
        assert_eq!(flags(404, &envoy_headers("Istio-Envoy"), ""), "NR");
    }

    #[test]
    fn texts_only_count_as_whole_bodies_of_errors() {
        let h = HeaderMap::new();
        assert_eq!(flags(503, &h, "no healthy upstream\n"), "UH");
        assert_eq!(flags(200, &h, "no healthy upstream"), "");
        assert_eq!(flags(503, &h, "<p>no healthy upstream</p>"), "");
        let mut h = HeaderMap::new();
        h.insert("x-envoy-overloaded", HeaderValue::from_static("true"));
        assert_eq!(flags(503, &h, "Service Unavailable"), "UO");
    }
}
