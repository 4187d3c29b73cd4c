//! Unit tests of the classifier's decisions on small hand-written bodies;
//! the fixtures and the simulator's pages are exercised in `tests/classify_*.rs`.

use hyper::HeaderMap;

use super::*;

fn kind(status: u16, body: &[u8]) -> Kind {
    Classifier::new(&ClassifyConfig::default())
        .classify(status, &HeaderMap::new(), body)
        .0
}

#[test]
fn statuses_map_to_kinds() {
    assert_eq!(kind(503, b"no healthy upstream"), Kind::Http5xx);
    assert_eq!(kind(404, b""), Kind::Http4xx);
    assert_eq!(kind(301, b""), Kind::Http3xx);
    assert_eq!(kind(308, b""), Kind::Http3xx);
    assert_eq!(kind(101, b""), Kind::HttpOther);
    assert_eq!(kind(204, b""), Kind::Unrecognized);
    assert_eq!(kind(200, b""), Kind::Unrecognized);
}

#[test]
fn a_title_alone_is_not_a_page() {
    let body = b"<html><title>Simple Bookstore App</title> Book Reviews</html>";
    assert_eq!(kind(200, body), Kind::Unrecognized);
    let with_details = b"<title>Simple Bookstore App</title><script src=\"static/tailwind/tailwind.css\"></script><h4>Book Details</h4>";
    assert_eq!(kind(200, with_details), Kind::Unrecognized);
}

#[test]
fn gateway_failures_of_the_upstream_mark_productpage_degraded() {
    let mut c = Classifier::new(&ClassifyConfig::default());
    let (k, page) = c.classify(503, &HeaderMap::new(), b"no healthy upstream");
    assert_eq!(k, Kind::Http5xx);
    assert_eq!(page.envoy.reason, EnvoyReason::NoHealthyUpstream);
    assert!(page.degraded.contains(Backends::PRODUCTPAGE));
    let (_, page) = c.classify(503, &HeaderMap::new(), b"fault filter abort");
    assert_eq!(page.envoy.reason, EnvoyReason::FaultAbort);
    assert!(page.degraded.is_empty());
}
