//! Response → outcome kind. Scans bytes with `memchr::memmem` finders built
//! once; never builds a DOM and never allocates per response.
//!
//! This first cut answers the question every drill needs: was it a complete
//! productpage, a degraded one (a backend's error text shown under HTTP 200),
//! something else under 2xx, or an HTTP error. Reviews version, stars, pod and
//! cluster extraction fill [`Page`].

use std::sync::OnceLock;

use memchr::memmem::Finder;

use crate::outcome::Kind;

/// What the page body said; filled by the classifier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Page {}

struct Markers {
    title: Finder<'static>,
    reviews_error: Finder<'static>,
    details_error: Finder<'static>,
    ratings_error: Finder<'static>,
}

fn markers() -> &'static Markers {
    static MARKERS: OnceLock<Markers> = OnceLock::new();
    MARKERS.get_or_init(|| Markers {
        title: Finder::new("<title>Simple Bookstore App</title>"),
        reviews_error: Finder::new("Error fetching product reviews"),
        details_error: Finder::new("Error fetching product details"),
        ratings_error: Finder::new("Ratings service is currently unavailable"),
    })
}

/// Classifies one complete response.
pub fn classify(status: u16, body: &[u8]) -> (Kind, Page) {
    let kind = match status {
        200..=299 => page_kind(body),
        400..=499 => Kind::Http4xx,
        500..=599 => Kind::Http5xx,
        _ => Kind::HttpOther,
    };
    (kind, Page::default())
}

fn page_kind(body: &[u8]) -> Kind {
    let m = markers();
    if m.title.find(body).is_none() {
        return Kind::Unrecognized;
    }
    let degraded = m.reviews_error.find(body).is_some()
        || m.details_error.find(body).is_some()
        || m.ratings_error.find(body).is_some();
    if degraded { Kind::Degraded } else { Kind::Ok }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_bodies() {
        let page = b"<title>Simple Bookstore App</title> Book Reviews";
        assert_eq!(classify(200, page).0, Kind::Ok);
        let degraded = b"<title>Simple Bookstore App</title><p>Error fetching product reviews</p>";
        assert_eq!(classify(200, degraded).0, Kind::Degraded);
        assert_eq!(
            classify(200, b"<html>welcome to nginx</html>").0,
            Kind::Unrecognized
        );
        assert_eq!(classify(200, b"").0, Kind::Unrecognized);
        assert_eq!(classify(503, b"no healthy upstream").0, Kind::Http5xx);
        assert_eq!(classify(404, b"").0, Kind::Http4xx);
        assert_eq!(classify(301, b"").0, Kind::HttpOther);
    }
}
