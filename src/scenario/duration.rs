//! Durations as the file writes them: humantime strings ("30s", "2m",
//! "500ms", "1m30s"). A bare number is refused: is `30` seconds or
//! milliseconds? The file must say.

use std::time::Duration;

/// Ends every "is not a duration" message.
pub(super) const EXPECTED: &str = r#"(expected "30s", "2m", "500ms")"#;

pub(super) fn parse(text: &str) -> Option<Duration> {
    let text = text.trim();
    // humantime takes a lone "0" as zero; keep the unit mandatory everywhere.
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    humantime::parse_duration(text).ok()
}

/// For messages: "1m 30s" style, as humantime prints it.
pub(super) fn show(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humantime_forms_parse() {
        assert_eq!(parse("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse("0s"), Some(Duration::ZERO));
    }

    #[test]
    fn numbers_without_unit_and_garbage_do_not() {
        for text in ["0", "30", "", "5x", "-1s", "s"] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn shows_compactly() {
        assert_eq!(show(Duration::from_secs(90)), "1m 30s");
        assert_eq!(show(Duration::ZERO), "0s");
    }
}
