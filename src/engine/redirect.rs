//! Which redirect a client follows with `follow_redirects = "same-host"`,
//! and where to: the `Location` resolved against the request it answered,
//! when it names the same host (any scheme of http and https, any port) or
//! is relative. A redirect to another host is never followed: it is the
//! request's outcome (`http_3xx`), and traffic goes only where the user
//! pointed it.

use hyper::header::HeaderValue;
use hyper::http::uri::{Authority, PathAndQuery, Scheme};
use hyper::{StatusCode, Uri};

/// Most redirects followed for one request; the next one is its outcome.
pub const MAX_HOPS: u8 = 5;

/// The statuses whose `Location` a client re-requests with GET.
pub fn is_followable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The next request's URI and Host header when `location` (as received)
/// stays on `base`'s host; `None` for another host, another scheme, or a
/// Location that is not a URI reference.
pub fn same_host(base: &Uri, location: &[u8]) -> Option<(Uri, HeaderValue)> {
    let location = std::str::from_utf8(location).ok()?.trim();
    // The fragment is the client's, never sent.
    let location = location.split('#').next().unwrap_or_default();
    let base_scheme = base.scheme()?;
    let base_authority = base.authority()?;
    let (scheme, authority, path) = if let Some(rest) = location.strip_prefix("//") {
        let (authority, path) = split_authority(rest);
        (
            base_scheme.clone(),
            authority.parse::<Authority>().ok()?,
            path,
        )
    } else if let Some((scheme, rest)) = absolute(location) {
        let (authority, path) = split_authority(rest);
        (scheme, authority.parse::<Authority>().ok()?, path)
    } else {
        let path = relative_path(base, location)?;
        let uri = Uri::builder()
            .scheme(base_scheme.clone())
            .authority(base_authority.clone())
            .path_and_query(path)
            .build()
            .ok()?;
        let host = HeaderValue::from_str(base_authority.as_str()).ok()?;
        return Some((uri, host));
    };
    if authority.as_str().contains('@')
        || !authority.host().eq_ignore_ascii_case(base_authority.host())
    {
        return None;
    }
    let path = if path.is_empty() { "/" } else { path };
    let uri = Uri::builder()
        .scheme(scheme)
        .authority(authority.clone())
        .path_and_query(PathAndQuery::try_from(path).ok()?)
        .build()
        .ok()?;
    let host = HeaderValue::from_str(authority.as_str()).ok()?;
    Some((uri, host))
}

/// `http://...` or `https://...` (the scheme in any case): the scheme and
/// what follows `//`.
fn absolute(location: &str) -> Option<(Scheme, &str)> {
    let (scheme, rest) = location.split_once("://")?;
    let scheme = if scheme.eq_ignore_ascii_case("http") {
        Scheme::HTTP
    } else if scheme.eq_ignore_ascii_case("https") {
        Scheme::HTTPS
    } else {
        return None;
    };
    Some((scheme, rest))
}

fn split_authority(rest: &str) -> (&str, &str) {
    match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    }
}

/// A relative reference against the base's path: `/x` as is, `?q` on the
/// base's path, `x` beside the base's last segment. Dot segments are kept
/// as written (the server resolves them).
fn relative_path(base: &Uri, location: &str) -> Option<PathAndQuery> {
    // `mailto:x`, `ftp://...`: a scheme meshdrill does not follow (a
    // relative path whose first segment has a colon is written `./a:b`).
    if location
        .split(['/', '?'])
        .next()
        .is_some_and(|s| s.contains(':'))
    {
        return None;
    }
    let path = if location.starts_with('/') {
        location.to_string()
    } else if location.starts_with('?') || location.is_empty() {
        format!("{}{location}", base.path())
    } else {
        let dir = &base.path()[..=base.path().rfind('/').unwrap_or(0)];
        format!("{dir}{location}")
    };
    PathAndQuery::try_from(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(base: &str, location: &str) -> Option<(String, String)> {
        let base: Uri = base.parse().unwrap();
        same_host(&base, location.as_bytes())
            .map(|(uri, host)| (uri.to_string(), host.to_str().unwrap().to_string()))
    }

    fn to(uri: &str, host: &str) -> Option<(String, String)> {
        Some((uri.to_string(), host.to_string()))
    }

    #[test]
    fn the_same_host_on_any_scheme_or_port_is_followed() {
        let base = "http://bookinfo.example.com/productpage";
        assert_eq!(
            next(base, "https://bookinfo.example.com/productpage"),
            to(
                "https://bookinfo.example.com/productpage",
                "bookinfo.example.com"
            )
        );
        assert_eq!(
            next(base, "HTTPS://Bookinfo.Example.com:8443"),
            to(
                "https://Bookinfo.Example.com:8443/",
                "Bookinfo.Example.com:8443"
            )
        );
        assert_eq!(
            next("http://127.0.0.1:8080/a", "http://127.0.0.1:9090/b?x=1#top"),
            to("http://127.0.0.1:9090/b?x=1", "127.0.0.1:9090")
        );
        assert_eq!(
            next(base, "//bookinfo.example.com:81/p"),
            to(
                "http://bookinfo.example.com:81/p",
                "bookinfo.example.com:81"
            )
        );
    }

    #[test]
    fn a_relative_location_stays_where_the_request_went() {
        let base = "http://127.0.0.1:8080/a/productpage?u=1";
        assert_eq!(
            next(base, "/login"),
            to("http://127.0.0.1:8080/login", "127.0.0.1:8080")
        );
        assert_eq!(
            next(base, "other?x"),
            to("http://127.0.0.1:8080/a/other?x", "127.0.0.1:8080")
        );
        assert_eq!(
            next(base, "?u=2"),
            to("http://127.0.0.1:8080/a/productpage?u=2", "127.0.0.1:8080")
        );
    }

    #[test]
    fn another_host_or_scheme_is_not_followed() {
        let base = "http://127.0.0.1:8080/productpage";
        assert_eq!(next(base, "http://localhost:8080/productpage"), None);
        assert_eq!(next(base, "https://evil.example/"), None);
        assert_eq!(next(base, "http://127.0.0.1.evil.example/"), None);
        assert_eq!(next(base, "http://u@127.0.0.1:8080/"), None);
        assert_eq!(next(base, "//localhost/"), None);
        assert_eq!(next(base, "ftp://127.0.0.1/"), None);
        assert_eq!(next(base, "mailto:a@127.0.0.1"), None);
        assert_eq!(next(base, "http://"), None);
        assert_eq!(next(base, "/a b"), None);
    }

    #[test]
    fn only_redirect_statuses_are_followed() {
        for code in [301, 302, 303, 307, 308] {
            assert!(is_followable(StatusCode::from_u16(code).unwrap()));
        }
        for code in [300, 304, 305, 200, 404] {
            assert!(!is_followable(StatusCode::from_u16(code).unwrap()));
        }
    }
}
