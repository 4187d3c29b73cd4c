//! `latency-<target>.hgrm`: HdrHistogram's standard percentile distribution
//! text (as Java's `outputPercentileDistribution` prints it), values in
//! milliseconds, for the whole measured phase.

use std::fmt::Write as _;

use hdrhistogram::Histogram;

/// Renders `h` (microseconds) with values scaled to milliseconds.
pub fn render(h: &Histogram<u64>) -> String {
    const SCALE: f64 = 1000.0;
    let digits = usize::from(h.sigfig());
    let mut out = String::new();
    let _ = write!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    if !h.is_empty() {
        let mut total = 0u64;
        for v in h.iter_quantiles(5) {
            total += v.count_since_last_iteration();
            let value = v.value_iterated_to() as f64 / SCALE;
            let q = v.quantile_iterated_to();
            if q < 1.0 {
                let _ = writeln!(
                    out,
                    "{value:12.digits$} {q:2.12} {total:10} {:14.2}",
                    1.0 / (1.0 - q)
                );
            } else {
                let _ = writeln!(out, "{value:12.digits$} {q:2.12} {total:10}");
            }
        }
    }
    let mean = if h.is_empty() { 0.0 } else { h.mean() / SCALE };
    let stdev = if h.is_empty() { 0.0 } else { h.stdev() / SCALE };
    let max = h.max() as f64 / SCALE;
    let _ = writeln!(
        out,
        "#[Mean    = {mean:12.digits$}, StdDeviation   = {stdev:12.digits$}]"
    );
    let _ = writeln!(
        out,
        "#[Max     = {max:12.digits$}, Total count    = {:12}]",
        h.len()
    );
    let _ = writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        h.buckets(),
        // HdrHistogram's sub-bucket count: 2·10^sigfig rounded up to a power of two.
        (2 * 10u64.pow(u32::from(h.sigfig()))).next_power_of_two()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::new_histogram;

    #[test]
    fn distribution_ends_at_the_max_with_the_total_count() {
        let mut h = new_histogram();
        for v in 1..=1000u64 {
            h.record(v * 1000).unwrap();
        }
        let text = render(&h);
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect();
        assert!(rows[0].contains("Percentile"));
        let last: Vec<&str> = rows.last().unwrap().split_whitespace().collect();
        assert_eq!(last[1], "1.000000000000");
        assert_eq!(last[2], "1000");
        assert!(
            last[0].starts_with("1000.") || last[0].starts_with("1000"),
            "{}",
            last[0]
        );
        assert!(text.contains("Total count    =         1000]"), "{text}");
    }
}
