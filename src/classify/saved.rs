//! A response saved with `curl -i` (or `curl -iL`): status line and headers
//! before the body. `meshdrill classify` reads the status and headers from
//! the file, so a saved Envoy reply is judged as the live one was; a file
//! that does not start with a status line is a body, as before.

use hyper::HeaderMap;
use hyper::header::{HeaderName, HeaderValue};

use super::{Classifier, Page};
use crate::outcome::Kind;

impl Classifier {
    /// A file as `meshdrill classify` reads it: a whole response saved with
    /// `curl -i` is judged with its own status and headers, then `headers`
    /// added; a bare body with `status` and `headers`. A saved response
    /// that cannot be parsed is an error saying why.
    pub fn classify_file(
        &mut self,
        bytes: &[u8],
        status: u16,
        headers: &HeaderMap,
    ) -> Result<(Kind, Page), String> {
        match saved_response(bytes) {
            Some(Ok(saved)) => {
                let mut all = saved.headers;
                for (name, value) in headers {
                    all.append(name, value.clone());
                }
                Ok(self.classify(saved.status, &all, saved.body))
            }
            Some(Err(e)) => Err(e),
            None => Ok(self.classify(status, headers, bytes)),
        }
    }
}

/// The last response of a saved file: after a `100 Continue` or a redirect
/// curl followed, the final answer is the one a request got.
#[derive(Debug)]
pub struct SavedResponse<'a> {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: &'a [u8],
}

/// Splits `bytes` when they start with `HTTP/x[.y] NNN`: each header block
/// up to its blank line (CRLF or LF), the next block if another status line
/// follows, the body after the last. `None` when there is no status line.
/// A header line that is not `name: value` is an error naming it.
pub fn saved_response(bytes: &[u8]) -> Option<Result<SavedResponse<'_>, String>> {
    let (mut status, mut rest) = status_line(bytes)?;
    loop {
        let mut headers = HeaderMap::new();
        loop {
            let (line, after) = next_line(rest);
            rest = after;
            if line.is_empty() {
                break;
            }
            match header(line) {
                Some((name, value)) => {
                    headers.append(name, value);
                }
                None => {
                    return Some(Err(format!(
                        "after the status line {status}: {:?} is not a `name: value` header",
                        String::from_utf8_lossy(line)
                    )));
                }
            }
        }
        match status_line(rest) {
            Some((next, after)) => (status, rest) = (next, after),
            None => {
                return Some(Ok(SavedResponse {
                    status,
                    headers,
                    body: rest,
                }));
            }
        }
    }
}

/// `HTTP/1.1 503 Service Unavailable` or `HTTP/2 200`: the status and what
/// follows the line.
fn status_line(bytes: &[u8]) -> Option<(u16, &[u8])> {
    let (line, rest) = next_line(bytes.strip_prefix(b"HTTP/")?);
    let (version, after) = split_at_space(line);
    let version_ok = match version.iter().position(|b| *b == b'.') {
        Some(dot) => digits(&version[..dot]) && digits(&version[dot + 1..]),
        None => digits(version),
    };
    let (code, _reason) = split_at_space(after);
    if !version_ok || code.len() != 3 || !digits(code) {
        return None;
    }
    let status = std::str::from_utf8(code).ok()?.parse().ok()?;
    Some((status, rest))
}

fn digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

fn split_at_space(s: &[u8]) -> (&[u8], &[u8]) {
    match s.iter().position(|b| *b == b' ') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &[]),
    }
}

/// The line up to `\n` (without `\r\n` or `\n`) and the bytes after it; the
/// whole input when it has no newline.
fn next_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    let (line, rest) = match memchr::memchr(b'\n', bytes) {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[][..]),
    };
    (line.strip_suffix(b"\r").unwrap_or(line), rest)
}

fn header(line: &[u8]) -> Option<(HeaderName, HeaderValue)> {
    let colon = memchr::memchr(b':', line)?;
    let name = HeaderName::from_bytes(line[..colon].trim_ascii()).ok()?;
    let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).ok()?;
    Some((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::ClassifyConfig;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn a_saved_file_is_judged_by_its_own_status_and_headers_then_the_given_ones() {
        let mut classifier = Classifier::new(&ClassifyConfig::default());
        let extra = headers(&[("x-extra", "1")]);
        let saved = b"HTTP/1.1 503 Service Unavailable\r\nserver: envoy\r\n\r\nno healthy upstream";
        let expected = classifier.classify(
            503,
            &headers(&[("server", "envoy"), ("x-extra", "1")]),
            b"no healthy upstream",
        );
        assert_eq!(classifier.classify_file(saved, 200, &extra), Ok(expected));
        assert_ne!(expected.0, classifier.classify(200, &extra, saved).0);
        // A bare body: the given status and headers.
        let body = b"no healthy upstream";
        let envoy = headers(&[("server", "envoy")]);
        assert_eq!(
            classifier.classify_file(body, 503, &envoy),
            Ok(classifier.classify(503, &envoy, body))
        );
        let broken =
            classifier.classify_file(b"HTTP/1.1 200 OK\r\nnot a header\r\n\r\n", 200, &extra);
        assert!(
            broken
                .unwrap_err()
                .contains("is not a `name: value` header")
        );
    }

    #[test]
    fn a_body_without_a_status_line_is_left_alone() {
        assert!(saved_response(b"<html>HTTP/1.1 200 OK</html>").is_none());
        assert!(saved_response(b"no healthy upstream").is_none());
        assert!(saved_response(b"HTTP/1.1 20 short\r\n\r\n").is_none());
        assert!(saved_response(b"HTTP/x 200 OK\r\n\r\n").is_none());
        assert!(saved_response(b"").is_none());
    }

    #[test]
    fn status_headers_and_body_with_crlf_or_lf() {
        for eol in ["\r\n", "\n"] {
            let text = format!(
                "HTTP/1.1 503 Service Unavailable{eol}server: istio-envoy{eol}content-length: 19{eol}{eol}no healthy upstream"
            );
            let saved = saved_response(text.as_bytes()).unwrap().unwrap();
            assert_eq!(saved.status, 503);
            assert_eq!(saved.headers["server"], "istio-envoy");
            assert_eq!(saved.headers["content-length"], "19");
            assert_eq!(saved.body, b"no healthy upstream");
        }
        let saved = saved_response(b"HTTP/2 204\r\nx-a: 1\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((saved.status, saved.body), (204, &b""[..]));
    }

    #[test]
    fn the_last_response_block_wins() {
        let text = b"HTTP/1.1 100 Continue\r\n\r\n\
            HTTP/1.1 301 Moved Permanently\r\nlocation: /productpage\r\nserver: nginx\r\n\r\n\
            HTTP/1.1 200 OK\r\nserver: istio-envoy\r\n\r\n<html>page</html>\r\n";
        let saved = saved_response(text).unwrap().unwrap();
        assert_eq!(saved.status, 200);
        assert_eq!(saved.headers.len(), 1);
        assert_eq!(saved.headers["server"], "istio-envoy");
        assert_eq!(saved.body, b"<html>page</html>\r\n");
    }

    #[test]
    fn a_line_that_is_not_a_header_is_named() {
        let err = saved_response(b"HTTP/1.1 200 OK\nnot a header\n\nbody")
            .unwrap()
            .unwrap_err();
        assert!(err.contains("\"not a header\""), "{err}");
    }
}
