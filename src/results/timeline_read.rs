//! Reading `timeline.csv` back: the one reader of the file, strict. The
//! header must be exactly the one [`header`] writes for the cluster columns
//! it holds, and every cell must parse; an empty cell is `None` only where
//! the writer leaves one empty (no request, no mark), never a default.

use std::path::Path;

use super::LoadError;
use super::timeline::{CLUSTER_PREFIX, header};
use crate::outcome::Kind;
use crate::record::{DEGRADED, VERSION_NAMES};

/// One row of one scope (a target, or `all`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimelineRow {
    /// Second of the run clock (by intended send time).
    pub second: u32,
    /// `warmup` or `measured`.
    pub phase: String,
    pub sent: u64,
    /// Outcomes by kind, indexed by [`Kind::index`].
    pub by_kind: [u64; Kind::COUNT],
    pub failed: u64,
    pub late: u64,
    /// Open model: the requests the schedule planned in this second (under
    /// stages, the ramp's); `None` in the closed model.
    pub planned: Option<u64>,
    /// Closed model: the users planned at some instant of this second;
    /// `None` in the open model.
    pub planned_users: Option<u64>,
    /// Closed model: the users that started a request due in this second;
    /// `None` in the open model.
    pub active_users: Option<u64>,
    pub not_sent: u64,
    pub cap_waits: u64,
    /// `None` without requests.
    pub max_send_lag_us: Option<u64>,
    pub generator_limited: bool,
    /// `None` without requests (so are the latencies).
    pub availability_pct: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// Run-clock ms of this second's marks (see `record::Marks`).
    pub first_failure_ms: Option<u64>,
    pub last_failure_ms: Option<u64>,
    pub first_success_ms: Option<u64>,
    pub first_success_after_last_failure_ms: Option<u64>,
    pub first_success_done_ms: Option<u64>,
    pub first_success_after_last_failure_done_ms: Option<u64>,
    /// Productpages by reviews version, in [`VERSION_NAMES`] order
    /// (`unknown`, `v1`, `v2`, `v3`).
    pub reviews: [u64; 4],
    /// Successes by version: `v1`, `v2`, `v3`.
    pub ok_versions: [u64; 3],
    /// Productpages per cluster column, in [`Timeline::clusters`] order.
    pub clusters: Vec<u64>,
    /// Run-clock ms of each cluster's first page in this second.
    pub cluster_first_ms: Vec<Option<u64>>,
    /// Degraded pages by backend, in `record::DEGRADED` order.
    pub degraded: [u64; 3],
}

/// One scope's rows, in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScopeRows {
    pub scope: String,
    pub rows: Vec<TimelineRow>,
}

/// The whole file: scopes in the order they first appear (targets in plan
/// order, then `all`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// The cluster columns' names, in header order (`other`, `unknown` last).
    pub clusters: Vec<String>,
    pub scopes: Vec<ScopeRows>,
}

pub fn read(path: &Path) -> Result<Timeline, LoadError> {
    let text = std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

/// Parses the bytes of `path` (named in every error).
pub fn parse(path: &Path, text: &[u8]) -> Result<Timeline, LoadError> {
    let invalid = |line: Option<u64>, message: String| LoadError::invalid(path, line, message);
    let mut reader = csv::Reader::from_reader(text);
    let headers = reader
        .headers()
        .map_err(|e| invalid(Some(1), e.to_string()))?
        .clone();
    if headers.is_empty() {
        return Err(invalid(None, "empty file: no header".into()));
    }
    let clusters: Vec<String> = headers
        .iter()
        .filter_map(|h| h.strip_prefix(CLUSTER_PREFIX).map(String::from))
        .collect();
    let named = match clusters.as_slice() {
        [named @ .., other, unknown] if other == "other" && unknown == "unknown" => named,
        _ => {
            return Err(invalid(
                Some(1),
                "the cluster columns do not end with cluster_other, cluster_unknown".into(),
            ));
        }
    };
    let expected = header(named);
    if let Some((i, want)) = expected
        .iter()
        .enumerate()
        .find(|(i, want)| headers.get(*i) != Some(want.as_str()))
    {
        let found = headers
            .get(i)
            .map_or("the end of the header".to_string(), |h| format!("{h:?}"));
        return Err(invalid(
            Some(1),
            format!("column {} should be {want:?}, found {found}", i + 1),
        ));
    }
    if headers.len() > expected.len() {
        return Err(invalid(
            Some(1),
            format!(
                "unexpected column {:?} after the last one this meshdrill writes",
                &headers[expected.len()]
            ),
        ));
    }
    let at = |name: &str| expected.iter().position(|h| h == name).expect("in header");
    let kinds: Vec<usize> = Kind::ALL.iter().map(|k| at(k.name())).collect();
    let reviews: Vec<usize> = VERSION_NAMES
        .iter()
        .map(|v| at(&format!("reviews_{v}")))
        .collect();
    let ok_versions: Vec<usize> = VERSION_NAMES[1..]
        .iter()
        .map(|v| at(&format!("ok_{v}")))
        .collect();
    let degraded: Vec<usize> = DEGRADED
        .iter()
        .map(|(_, b)| at(&format!("degraded_{b}")))
        .collect();
    let cluster_columns: Vec<(usize, usize)> = clusters
        .iter()
        .map(|c| {
            (
                at(&format!("{CLUSTER_PREFIX}{c}")),
                at(&format!("{}{c}", super::timeline::FIRST_MS_PREFIX)),
            )
        })
        .collect();

    let mut timeline = Timeline {
        clusters: clusters.clone(),
        scopes: Vec::new(),
    };
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line());
            invalid(line, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let cell = |i: usize| &record[i];
        let bad = |i: usize, what: &str| {
            invalid(
                Some(line),
                format!("{} {:?} is not {what}", expected[i], cell(i)),
            )
        };
        let count =
            |i: usize| -> Result<u64, LoadError> { cell(i).parse().map_err(|_| bad(i, "a count")) };
        let optional = |i: usize| -> Result<Option<u64>, LoadError> {
            if cell(i).is_empty() {
                Ok(None)
            } else {
                count(i).map(Some)
            }
        };
        let float = |i: usize| -> Result<Option<f64>, LoadError> {
            if cell(i).is_empty() {
                return Ok(None);
            }
            match cell(i).parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(bad(i, "a number")),
            }
        };
        let counts = |columns: &[usize]| -> Result<Vec<u64>, LoadError> {
            columns.iter().map(|&i| count(i)).collect()
        };
        let second = at("second");
        let lag = at("max_send_lag_ms");
        let mut by_kind = [0; Kind::COUNT];
        by_kind.copy_from_slice(&counts(&kinds)?);
        let mut row = TimelineRow {
            second: u32::try_from(count(second)?).map_err(|_| bad(second, "a second"))?,
            phase: cell(at("phase")).to_string(),
            sent: count(at("sent"))?,
            by_kind,
            failed: count(at("failed"))?,
            late: count(at("late"))?,
            planned: optional(at("planned"))?,
            planned_users: optional(at("planned_users"))?,
            active_users: optional(at("active_users"))?,
            not_sent: count(at("not_sent"))?,
            cap_waits: count(at("cap_waits"))?,
            max_send_lag_us: match cell(lag) {
                "" => None,
                text => Some(millis_to_us(text).ok_or_else(|| bad(lag, "a time in ms"))?),
            },
            generator_limited: match cell(at("generator_limited")) {
                "0" => false,
                "1" => true,
                _ => return Err(bad(at("generator_limited"), "0 or 1")),
            },
            availability_pct: float(at("availability_pct"))?,
            p50_ms: float(at("p50_ms"))?,
            p90_ms: float(at("p90_ms"))?,
            p99_ms: float(at("p99_ms"))?,
            max_ms: float(at("max_ms"))?,
            first_failure_ms: optional(at("first_failure_ms"))?,
            last_failure_ms: optional(at("last_failure_ms"))?,
            first_success_ms: optional(at("first_success_ms"))?,
            first_success_after_last_failure_ms: optional(at(
                "first_success_after_last_failure_ms",
            ))?,
            first_success_done_ms: optional(at("first_success_done_ms"))?,
            first_success_after_last_failure_done_ms: optional(at(
                "first_success_after_last_failure_done_ms",
            ))?,
            clusters: Vec::with_capacity(cluster_columns.len()),
            cluster_first_ms: Vec::with_capacity(cluster_columns.len()),
            ..TimelineRow::default()
        };
        row.reviews.copy_from_slice(&counts(&reviews)?);
        row.ok_versions.copy_from_slice(&counts(&ok_versions)?);
        row.degraded.copy_from_slice(&counts(&degraded)?);
        for &(pages, first) in &cluster_columns {
            row.clusters.push(count(pages)?);
            row.cluster_first_ms.push(optional(first)?);
        }
        let sum: u64 = row.by_kind.iter().sum();
        if sum != row.sent {
            return Err(invalid(
                Some(line),
                format!("sent {} but its outcomes add up to {sum}", row.sent),
            ));
        }
        let target = cell(at("target"));
        match timeline.scopes.iter_mut().find(|s| s.scope == target) {
            Some(scope) => scope.rows.push(row),
            None => timeline.scopes.push(ScopeRows {
                scope: target.to_string(),
                rows: vec![row],
            }),
        }
    }
    Ok(timeline)
}

/// `12.345` (the timeline's ms with three decimals) as µs.
fn millis_to_us(text: &str) -> Option<u64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac: u64 = format!("{frac:0<3}").parse().ok()?;
    whole
        .parse::<u64>()
        .ok()?
        .checked_mul(1000)?
        .checked_add(frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "out/timeline.csv";

    /// A row of `header(&[])` with every cell as the writer leaves an empty
    /// second, but for `cells`.
    fn row(cells: &[(&str, &str)]) -> String {
        header(&[])
            .iter()
            .map(|column| {
                if let Some((_, v)) = cells.iter().find(|(c, _)| c == column) {
                    return v.to_string();
                }
                match column.as_str() {
                    "wall_clock" => "2026-12-02T00:00:00.000Z",
                    "phase" => "measured",
                    "target" => "primary",
                    "planned" | "planned_users" | "active_users" | "max_send_lag_ms"
                    | "availability_pct" => "",
                    c if c.ends_with("_ms") || c.starts_with("first_ms_") => "",
                    _ => "0",
                }
                .to_string()
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    fn file(rows: &[String]) -> String {
        let mut text = header(&[]).join(",");
        for r in rows {
            text.push('\n');
            text.push_str(r);
        }
        text.push('\n');
        text
    }

    fn read_text(text: &str) -> Result<Timeline, LoadError> {
        parse(Path::new(PATH), text.as_bytes())
    }

    #[track_caller]
    fn invalid(text: &str) -> (Option<u64>, String) {
        match read_text(text).unwrap_err() {
            LoadError::Invalid {
                path,
                line,
                message,
            } => {
                assert_eq!(path, Path::new(PATH));
                (line, message)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_every_column_of_a_row_by_scope() {
        let ok = Kind::Ok.name();
        let refused = Kind::Refused.name();
        let text = file(&[
            row(&[
                ("second", "3"),
                ("sent", "10"),
                (ok, "9"),
                (refused, "1"),
                ("failed", "1"),
                ("planned", "10"),
                ("planned_users", "4"),
                ("active_users", "3"),
                ("max_send_lag_ms", "12.5"),
                ("generator_limited", "1"),
                ("availability_pct", "90.00"),
                ("p99_ms", "4.250"),
                ("first_failure_ms", "3017"),
                ("reviews_v2", "9"),
                ("ok_v2", "9"),
                ("cluster_unknown", "9"),
                ("first_ms_cluster_unknown", "3001"),
            ]),
            row(&[("target", "all"), ("second", "3")]),
        ]);
        let t = read_text(&text).unwrap();
        assert_eq!(t.clusters, ["other", "unknown"]);
        let scopes: Vec<&str> = t.scopes.iter().map(|s| s.scope.as_str()).collect();
        assert_eq!(scopes, ["primary", "all"]);
        let r = &t.scopes[0].rows[0];
        assert_eq!((r.second, r.sent, r.failed), (3, 10, 1));
        assert_eq!(r.by_kind[Kind::Ok.index()], 9);
        assert_eq!(r.by_kind[Kind::Refused.index()], 1);
        assert_eq!(r.planned, Some(10));
        assert_eq!((r.planned_users, r.active_users), (Some(4), Some(3)));
        assert_eq!(r.max_send_lag_us, Some(12_500));
        assert!(r.generator_limited);
        assert_eq!(r.availability_pct, Some(90.0));
        assert_eq!((r.p50_ms, r.p99_ms), (None, Some(4.25)));
        assert_eq!((r.first_failure_ms, r.last_failure_ms), (Some(3017), None));
        assert_eq!(r.reviews, [0, 0, 9, 0]);
        assert_eq!(r.ok_versions, [0, 9, 0]);
        assert_eq!(r.clusters, [0, 9]);
        assert_eq!(r.cluster_first_ms, [None, Some(3001)]);
        assert_eq!(t.scopes[1].rows[0].max_send_lag_us, None);
    }

    #[test]
    fn a_missing_or_extra_column_names_it_and_line_1() {
        let text = file(&[row(&[])]).replacen(",late,", ",", 1);
        let (line, message) = invalid(&text);
        assert_eq!(line, Some(1));
        let late = header(&[]).iter().position(|h| h == "late").unwrap();
        assert_eq!(
            message,
            format!("column {} should be \"late\", found \"planned\"", late + 1)
        );

        let text = file(&[]).replacen('\n', ",extra\n", 1);
        assert_eq!(
            invalid(&text),
            (
                Some(1),
                "unexpected column \"extra\" after the last one this meshdrill writes".into()
            )
        );
        let error = read_text(&text).unwrap_err().to_string();
        assert!(error.starts_with("out/timeline.csv:1: "), "{error}");
    }

    #[test]
    fn a_cell_that_does_not_parse_names_its_row_and_column() {
        let text = file(&[row(&[]), row(&[("sent", "ten")])]);
        assert_eq!(
            invalid(&text),
            (Some(3), "sent \"ten\" is not a count".into())
        );
        let text = file(&[row(&[("max_send_lag_ms", "1.2345")])]);
        assert_eq!(
            invalid(&text),
            (
                Some(2),
                "max_send_lag_ms \"1.2345\" is not a time in ms".into()
            )
        );
        let text = file(&[row(&[("generator_limited", "yes")])]);
        assert_eq!(
            invalid(&text),
            (Some(2), "generator_limited \"yes\" is not 0 or 1".into())
        );
        let text = file(&[row(&[("p99_ms", "NaN")])]);
        assert_eq!(
            invalid(&text),
            (Some(2), "p99_ms \"NaN\" is not a number".into())
        );
    }

    #[test]
    fn a_count_that_is_empty_is_an_error_not_a_zero() {
        let text = file(&[row(&[("late", "")])]);
        assert_eq!(invalid(&text), (Some(2), "late \"\" is not a count".into()));
    }

    #[test]
    fn outcomes_must_add_up_to_sent() {
        let text = file(&[row(&[("sent", "5"), (Kind::Ok.name(), "4")])]);
        assert_eq!(
            invalid(&text),
            (Some(2), "sent 5 but its outcomes add up to 4".into())
        );
    }

    #[test]
    fn a_cut_row_or_an_empty_file_is_an_error() {
        let mut text = file(&[row(&[])]);
        text.push_str("1,2026-12-02T00:00:01.000Z,measured\n");
        let (line, message) = invalid(&text);
        assert_eq!(line, Some(3));
        assert!(message.contains("fields"), "{message}");
        assert_eq!(invalid(""), (None, "empty file: no header".into()));
    }

    #[test]
    fn a_missing_file_is_a_read_error_naming_it() {
        let err = read(Path::new("/nonexistent/timeline.csv")).unwrap_err();
        assert!(matches!(err, LoadError::Read { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("cannot read /nonexistent/timeline.csv: "),
            "{err}"
        );
    }
}
