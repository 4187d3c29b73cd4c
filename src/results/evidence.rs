//! `evidence.json` and `evidence/<name>.csv`: the mesh's own view of the
//! run (`[evidence]`), as the users' Prometheus answered each named range
//! query over the run's seconds. The index says how each query went; the
//! samples are one tidy CSV per query that answered.
//!
//! CSV columns: `second` (on the run's clock, second 0 = timeline.csv's
//! second 0), `unix_s` (the sample's Unix time, as Prometheus stamped
//! it), `series` (its labels in PromQL notation, `{}` for none) and
//! `value` (as Prometheus gave it; `NaN` and `inf` kept). One row per
//! series per step, series in Prometheus's order, each series' samples in
//! time order.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::LoadError;
use super::load::read_if_there;

/// The index, beside summary.json.
pub const FILE: &str = "evidence.json";
/// The folder the samples are in.
pub const DIR: &str = "evidence";

/// `evidence/<name>.csv`.
pub fn csv_file(name: &str) -> String {
    format!("{DIR}/{name}.csv")
}

/// evidence.json: where the queries went, and each query's fate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvidenceLog {
    /// The Prometheus base URL as the scenario gives it.
    pub prometheus: String,
    pub queries: Vec<EvidenceRecord>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueryStatus {
    Ok,
    Error,
}

/// One range query and what came of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRecord {
    pub name: String,
    pub promql: String,
    /// The request as sent (`.../api/v1/query_range?query=...`).
    pub url: String,
    /// The range asked for (Unix ms): the run's second 0 to its end.
    pub start_unix_ms: u64,
    pub end_unix_ms: u64,
    pub step_s: u32,
    pub status: QueryStatus,
    /// Why not: unreachable, timed out, Prometheus's own error text.
    #[serde(deserialize_with = "super::required")]
    pub error: Option<String>,
    /// Series in the answer (0 on error).
    pub series: u32,
    /// Samples over all series (rows of the CSV).
    pub samples: u64,
    /// The CSV, relative to the results folder; `None` on error.
    #[serde(deserialize_with = "super::required")]
    pub file: Option<String>,
    pub duration_ms: f64,
}

/// One sample: one CSV row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRow {
    pub second: i64,
    pub unix_s: f64,
    pub series: String,
    pub value: f64,
}

/// A query read back with its samples (none unless it answered).
#[derive(Clone, Debug, PartialEq)]
pub struct QueryEvidence {
    pub record: EvidenceRecord,
    pub rows: Vec<EvidenceRow>,
}

/// The index and every answered query's samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    pub prometheus: String,
    pub queries: Vec<QueryEvidence>,
}

/// The CSV text of `rows`.
pub fn csv_bytes(rows: &[EvidenceRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row).expect("a row serializes into memory");
    }
    w.into_inner().expect("an in-memory writer flushes")
}

/// Rows of an evidence CSV; `path` only names it in errors.
pub fn parse_csv(path: &Path, bytes: &[u8]) -> Result<Vec<EvidenceRow>, LoadError> {
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| LoadError::invalid(path, Some(1), e.to_string()))?;
    if header.iter().collect::<Vec<_>>() != ["second", "unix_s", "series", "value"] {
        return Err(LoadError::invalid(
            path,
            Some(1),
            "expected the header second,unix_s,series,value",
        ));
    }
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| {
            row.map_err(|e| LoadError::invalid(path, Some(i as u64 + 2), e.to_string()))
        })
        .collect()
}

/// evidence.json with each answered query's CSV; `None` for a run
/// without `[evidence]` (or written before runs kept it).
pub fn read(dir: &Path) -> Result<Option<Evidence>, LoadError> {
    let path = dir.join(FILE);
    let Some(bytes) = read_if_there(&path)? else {
        return Ok(None);
    };
    let log: EvidenceLog = serde_json::from_slice(&bytes)
        .map_err(|e| LoadError::invalid(&path, None, e.to_string()))?;
    let queries = log
        .queries
        .into_iter()
        .map(|record| {
            let rows = match &record.file {
                None => Vec::new(),
                Some(file) => {
                    if file.contains("..") || Path::new(file).is_absolute() {
                        return Err(LoadError::invalid(
                            &path,
                            None,
                            format!("{file:?} is not a file in the results folder"),
                        ));
                    }
                    let csv = dir.join(file);
                    let bytes = read_if_there(&csv)?.ok_or_else(|| {
                        LoadError::invalid(&path, None, format!("{file} is missing"))
                    })?;
                    parse_csv(&csv, &bytes)?
                }
            };
            Ok(QueryEvidence { record, rows })
        })
        .collect::<Result<_, LoadError>>()?;
    Ok(Some(Evidence {
        prometheus: log.prometheus,
        queries,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_round_trip_with_quotes_commas_and_special_values() {
        let rows = vec![
            EvidenceRow {
                second: 0,
                unix_s: 1_764_684_000.5,
                series: r#"{destination_cluster="primary",response_flags="UH"}"#.into(),
                value: 12.25,
            },
            EvidenceRow {
                second: 1,
                unix_s: 1_764_684_001.5,
                series: "{}".into(),
                value: f64::INFINITY,
            },
        ];
        let bytes = csv_bytes(&rows);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(
            text,
            "second,unix_s,series,value\n\
             0,1764684000.5,\"{destination_cluster=\"\"primary\"\",response_flags=\"\"UH\"\"}\",12.25\n\
             1,1764684001.5,{},inf\n"
        );
        assert_eq!(parse_csv(Path::new("x.csv"), &bytes).unwrap(), rows);
        let nan = csv_bytes(&[EvidenceRow {
            value: f64::NAN,
            ..rows[1].clone()
        }]);
        let back = parse_csv(Path::new("x.csv"), &nan).unwrap();
        assert!(back[0].value.is_nan());
    }

    #[test]
    fn a_wrong_header_or_row_is_named() {
        let e = parse_csv(Path::new("x.csv"), b"a,b\n1,2\n").unwrap_err();
        assert!(e.to_string().contains("second,unix_s,series,value"), "{e}");
        let e = parse_csv(
            Path::new("x.csv"),
            b"second,unix_s,series,value\n0,1.0,{},1\nx,1.0,{},1\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains('3'), "{e}");
    }
}
