//! Byte sizes (`max_body`, `max_buffered`): an integer number of bytes, or a string with a
//! binary unit ("800B", "512KiB", "1MiB", "1GiB"). Decimal units ("1MB") are
//! refused rather than guessed: 10^6 or 2^20?

/// Ends every "is not a size" message.
pub(super) const EXPECTED: &str = r#"(expected bytes as an integer, or "512KiB", "1MiB")"#;

pub(super) fn parse(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let (number, unit) = text.split_at(digits);
    let scale: u64 = match unit.trim_start() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    number.parse::<u64>().ok()?.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_units_parse() {
        assert_eq!(parse("1MiB"), Some(1 << 20));
        assert_eq!(parse("512KiB"), Some(512 * 1024));
        assert_eq!(parse("2 GiB"), Some(2 << 30));
        assert_eq!(parse("800B"), Some(800));
        assert_eq!(parse("4096"), Some(4096));
    }

    #[test]
    fn decimal_units_and_garbage_do_not() {
        for text in [
            "1MB",
            "1kb",
            "MiB",
            "",
            "-1KiB",
            "1.5MiB",
            "99999999999999999999",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }
}
