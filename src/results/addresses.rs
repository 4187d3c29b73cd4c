//! `addresses.csv`: per second, per target, the requests each address
//! answered (`second, phase, target, address, requests, ok, failed`), one
//! row per address that had a request in that second, written and flushed
//! as each second is finished, like timeline.csv, so "when did traffic
//! move to the new address" is read to the second even from a killed run.
//!
//! `address` is the connection's peer (`IP:port`), `other` for addresses
//! past the run's named slots, `none` when no address is known (the name
//! did not resolve, or the request was abandoned). A long table, not a
//! column per address: a name's addresses are not known before traffic,
//! and a new one never rewrites what is already on disk.
//!
//! Written and read through [`AddressRow`]; the reader is strict: the
//! header must be exactly [`HEADER`], every cell must parse, seconds never
//! go back, and `ok + failed` never exceeds `requests`.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::LoadError;
use crate::record::{AddressRegistry, SecondRow};

pub const FILE: &str = "addresses.csv";
pub const HEADER: [&str; 7] = [
    "second", "phase", "target", "address", "requests", "ok", "failed",
];

/// One row: one target's requests answered by one address in one second.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressRow {
    /// Run-clock second, by intended send time.
    pub second: u32,
    /// `warmup` or `measure`.
    pub phase: String,
    pub target: String,
    /// `IP:port`, `other` or `none`.
    pub address: String,
    /// Every request (abandoned ones included, under `none`).
    pub requests: u64,
    pub ok: u64,
    /// Judged and not a success.
    pub failed: u64,
}

pub struct AddressesWriter {
    csv: csv::Writer<BufWriter<File>>,
    targets: Vec<String>,
    registry: Arc<AddressRegistry>,
}

impl AddressesWriter {
    pub fn create(
        dir: &Path,
        targets: Vec<String>,
        registry: Arc<AddressRegistry>,
    ) -> io::Result<AddressesWriter> {
        let file = File::create(dir.join(FILE))?;
        let mut csv = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(BufWriter::new(file));
        csv.write_record(HEADER)?;
        csv.flush()?;
        Ok(AddressesWriter {
            csv,
            targets,
            registry,
        })
    }

    pub fn write(&mut self, row: &SecondRow<'_>) -> io::Result<()> {
        if row
            .targets
            .iter()
            .all(|t| t.addresses.used().next().is_none())
        {
            return self.csv.flush();
        }
        // Every slot in use has its address: a slot is taken before the
        // outcome that uses it is recorded.
        let names = self.registry.names();
        for (target, stats) in self.targets.iter().zip(row.targets) {
            for (slot, requests, ok, failed) in stats.addresses.used() {
                self.csv.serialize(AddressRow {
                    second: row.second,
                    phase: row.phase.name().to_string(),
                    target: target.clone(),
                    address: names[slot].clone(),
                    requests,
                    ok,
                    failed,
                })?;
            }
        }
        self.csv.flush()
    }
}

/// A whole addresses.csv of rows already added up (`meshdrill merge`),
/// through the same header and [`AddressRow`] a run writes.
pub fn write_rows(dir: &Path, rows: &[AddressRow]) -> io::Result<()> {
    let mut csv = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    csv.write_record(HEADER)?;
    for row in rows {
        csv.serialize(row)?;
    }
    let bytes = csv.into_inner().map_err(|e| e.into_error())?;
    super::write_atomic(&dir.join(FILE), &bytes).map_err(io::Error::other)
}

/// Reads the file; `None` when the folder has none (written before runs
/// kept it). `whole_seconds`: a killed run's file, read up to that second
/// (exclusive), a cut last line left out.
pub fn read(dir: &Path, whole_seconds: Option<u32>) -> Result<Option<Vec<AddressRow>>, LoadError> {
    let path = dir.join(FILE);
    let Some(bytes) = super::load::read_if_there(&path)? else {
        return Ok(None);
    };
    let bytes = match whole_seconds {
        Some(_) => match bytes.iter().rposition(|&b| b == b'\n') {
            Some(i) => bytes[..=i].to_vec(),
            None => Vec::new(),
        },
        None => bytes,
    };
    let mut rows = parse(&path, &bytes)?;
    if let Some(seconds) = whole_seconds {
        rows.retain(|r| r.second < seconds);
    }
    Ok(Some(rows))
}

pub fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<AddressRow>, LoadError> {
    let invalid = |line: Option<u64>, message: String| LoadError::invalid(path, line, message);
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| invalid(Some(1), e.to_string()))?
        .clone();
    if headers.iter().ne(HEADER) {
        return Err(invalid(
            Some(1),
            format!("the header should be {}", HEADER.join(",")),
        ));
    }
    let mut rows: Vec<AddressRow> = Vec::new();
    for (i, record) in reader.deserialize::<AddressRow>().enumerate() {
        let line = Some(i as u64 + 2);
        let row = record.map_err(|e| invalid(line, e.to_string()))?;
        if !matches!(row.phase.as_str(), "warmup" | "measure") {
            let message = format!("phase {:?} is not warmup or measure", row.phase);
            return Err(invalid(line, message));
        }
        if row.target.is_empty() || row.address.is_empty() {
            return Err(invalid(line, "empty target or address".into()));
        }
        if row.ok + row.failed > row.requests {
            let message = format!(
                "ok {} + failed {} is more than requests {}",
                row.ok, row.failed, row.requests
            );
            return Err(invalid(line, message));
        }
        if let Some(last) = rows.last()
            && row.second < last.second
        {
            let message = format!("second {} after second {}", row.second, last.second);
            return Err(invalid(line, message));
        }
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{AddressId, Kind, Outcome, Page};
    use crate::record::{Phase, SecondStats};

    fn answered(kind: Kind, address: AddressId) -> Outcome {
        Outcome {
            target: 0,
            intended_us: 0,
            latency_us: 1000,
            service_us: 1000,
            send_lag_us: 0,
            kind,
            status: 200,
            page: Page::default(),
            address,
        }
    }

    #[test]
    fn rows_are_read_back_through_the_type_that_wrote_them() {
        let dir = tempfile::tempdir().unwrap();
        let registry = AddressRegistry::new();
        let a = registry.slot("127.0.0.2:8080".parse().unwrap());
        let b = registry.slot("127.0.0.3:8080".parse().unwrap());
        let names = vec!["p".to_string(), "s".to_string()];
        let mut w = AddressesWriter::create(dir.path(), names, registry.clone()).unwrap();
        let mut p = SecondStats::new();
        p.record(&answered(Kind::Ok, a));
        p.record(&answered(Kind::Http5xx, a));
        p.record(&answered(Kind::Ok, b));
        let mut s = SecondStats::new();
        s.record(&answered(Kind::Dns, AddressId::NONE));
        let all = SecondStats::new();
        for second in [0, 1] {
            w.write(&SecondRow {
                second,
                phase: if second == 0 {
                    Phase::Warmup
                } else {
                    Phase::Measure
                },
                targets: &[p.clone(), s.clone()],
                all: &all,
            })
            .unwrap();
        }
        let rows = read(dir.path(), None).unwrap().unwrap();
        let seen: Vec<(u32, &str, &str, &str, u64, u64, u64)> = rows
            .iter()
            .map(|r| {
                let (phase, target, address) = (&*r.phase, &*r.target, &*r.address);
                (r.second, phase, target, address, r.requests, r.ok, r.failed)
            })
            .collect();
        assert_eq!(
            seen[..3],
            [
                (0, "warmup", "p", "127.0.0.2:8080", 2, 1, 1),
                (0, "warmup", "p", "127.0.0.3:8080", 1, 1, 0),
                (0, "warmup", "s", "none", 1, 0, 1),
            ]
        );
        assert_eq!(rows.len(), 6);
        assert_eq!(read(dir.path(), Some(1)).unwrap().unwrap().len(), 3);
    }

    #[test]
    fn a_bad_row_is_named_by_its_line() {
        let path = Path::new("addresses.csv");
        let good =
            "second,phase,target,address,requests,ok,failed\n1,measure,p,127.0.0.2:80,3,2,1\n";
        assert_eq!(parse(path, good.as_bytes()).unwrap().len(), 1);
        let err = parse(path, format!("{good}0,measure,p,none,1,0,1\n").as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), "addresses.csv:3: second 0 after second 1");
        let err = parse(path, format!("{good}1,measure,p,none,1,1,1\n").as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "addresses.csv:3: ok 1 + failed 1 is more than requests 1"
        );
        let err = parse(path, format!("{good}1,later,p,none,1,0,1\n").as_bytes()).unwrap_err();
        assert!(
            err.to_string().starts_with("addresses.csv:3: phase"),
            "{err}"
        );
        let err = parse(path, b"second,phase,target,address,requests,ok\n").unwrap_err();
        assert!(
            err.to_string().starts_with("addresses.csv:1: the header"),
            "{err}"
        );
        assert!(parse(path, format!("{good}1,measure,p,none,x,0,1\n").as_bytes()).is_err());
    }
}
