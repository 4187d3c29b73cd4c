//! `latency.hlog` and `latency-ok.hlog`: the standard HdrHistogram interval
//! log, one interval per second per target tagged with the target name, V2
//! *deflate* encoded (the form Java's `HistogramLogReader` and Python's
//! `hdrhistogram` read). Values are microseconds from each request's
//! intended send time: every request in `latency.hlog`, the successes alone
//! in `latency-ok.hlog` (same seconds, same tags, same order), so failures'
//! latency is one minus the other. Written by [`HlogWriter`], read back by [`read`].

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, Tag,
};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};

use super::LoadError;

use crate::record::{SecondRow, SecondStats};

/// Every request's latency.
pub const FILE: &str = "latency.hlog";
/// Successes' latency alone.
pub const OK_FILE: &str = "latency-ok.hlog";

/// Which of a second's histograms a log holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// [`SecondStats::latency`], into [`FILE`].
    All,
    /// [`SecondStats::latency_ok`], into [`OK_FILE`].
    Ok,
}

impl Which {
    pub fn file(self) -> &'static str {
        match self {
            Which::All => FILE,
            Which::Ok => OK_FILE,
        }
    }

    fn histogram(self, stats: &SecondStats) -> &Histogram<u64> {
        match self {
            Which::All => &stats.latency,
            Which::Ok => &stats.latency_ok,
        }
    }

    fn comment(self) -> &'static str {
        match self {
            Which::All => {
                "[meshdrill: latency from intended send time, in microseconds; one interval per second per target]"
            }
            Which::Ok => {
                "[meshdrill: latency from intended send time of successful requests only, in microseconds; one interval per second per target]"
            }
        }
    }
}

pub struct HlogWriter {
    out: BufWriter<File>,
    serializer: V2DeflateSerializer,
    tags: Vec<String>,
    which: Which,
}

impl HlogWriter {
    pub fn create(
        dir: &Path,
        which: Which,
        targets: Vec<String>,
        epoch: SystemTime,
    ) -> io::Result<HlogWriter> {
        let mut out = BufWriter::new(File::create(dir.join(which.file()))?);
        let mut serializer = V2DeflateSerializer::new();
        IntervalLogWriterBuilder::new()
            .add_comment("[Histogram log format version 1.3]")
            .add_comment(which.comment())
            .with_start_time(epoch)
            .with_base_time(epoch)
            .begin_log_with(&mut out, &mut serializer)?;
        out.write_all(
            b"\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n",
        )?;
        out.flush()?;
        // Tags may not hold ',', ' ', '\r' or '\n'; target names never do
        // (the scenario allows [A-Za-z0-9_.-]), but keep the file valid regardless.
        let tags = targets
            .into_iter()
            .map(|t| t.replace([',', ' ', '\r', '\n'], "_"))
            .collect();
        Ok(HlogWriter {
            out,
            serializer,
            tags,
            which,
        })
    }

    pub fn write(&mut self, row: &SecondRow<'_>) -> io::Result<()> {
        let which = self.which;
        let histograms: Vec<&Histogram<u64>> =
            row.targets.iter().map(|s| which.histogram(s)).collect();
        self.write_second(row.second, &histograms)
    }

    /// One second's intervals, one histogram per target in order: a run's
    /// (from [`Self::write`]) or `meshdrill merge`'s, added up.
    pub fn write_second(&mut self, second: u32, histograms: &[&Histogram<u64>]) -> io::Result<()> {
        // A builder with no headers writes nothing but the interval lines.
        let mut log =
            IntervalLogWriterBuilder::new().begin_log_with(&mut self.out, &mut self.serializer)?;
        let start = Duration::from_secs(u64::from(second));
        for (tag, histogram) in self.tags.iter().zip(histograms) {
            log.write_histogram(histogram, start, Duration::from_secs(1), Tag::new(tag))
                .map_err(|e| io::Error::other(format!("{}: {e}", self.which.file())))?;
        }
        self.out.flush()
    }
}

/// One interval of latency.hlog: one target's histogram of one second.
#[derive(Clone, Debug, PartialEq)]
pub struct Interval {
    /// The target's name (the interval's tag).
    pub tag: String,
    /// Run-clock second the interval starts at.
    pub second: u32,
    /// The V2-deflate bytes (base64-decoded): a decoded histogram is ~140 kB,
    /// so a long run's intervals are kept compressed and decoded one at a
    /// time by [`Interval::histogram`].
    compressed: Vec<u8>,
}

impl Interval {
    /// The interval's histogram (µs from intended send time). Every
    /// interval decoded once when the file was read, so this cannot fail.
    pub fn histogram(&self) -> Histogram<u64> {
        decode(&self.compressed).expect("decoded once when latency.hlog was read")
    }
}

/// Every interval of latency.hlog, in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hlog {
    pub intervals: Vec<Interval>,
}

fn decode(bytes: &[u8]) -> Result<Histogram<u64>, String> {
    Deserializer::new()
        .deserialize(&mut io::Cursor::new(bytes))
        .map_err(|e| format!("{e:?}"))
}

/// Reads latency.hlog: the one reader of the file. Every interval must be
/// tagged and decode; anything else is an error naming the interval.
pub fn read(path: &Path) -> Result<Hlog, LoadError> {
    let log = std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &log)
}

/// The log's `#[StartTime: ...]`: the run clock's zero as wall-clock time
/// since the Unix epoch; `None` when the log has none.
pub fn start_time(log: &[u8]) -> Option<Duration> {
    IntervalLogIterator::new(log)
        .map_while(Result::ok)
        .find_map(|entry| match entry {
            LogEntry::StartTime(t) => Some(t),
            _ => None,
        })
}

/// Parses the bytes of `path` (named in every error), as [`read`] does.
pub fn parse(path: &Path, log: &[u8]) -> Result<Hlog, LoadError> {
    let mut intervals = Vec::new();
    for (n, entry) in IntervalLogIterator::new(log).enumerate() {
        let invalid =
            |message: String| LoadError::invalid(path, None, format!("entry {}: {message}", n + 1));
        let entry = entry.map_err(|e| invalid(format!("{e:?}")))?;
        let LogEntry::Interval(interval) = entry else {
            continue;
        };
        let tag = interval
            .tag()
            .ok_or_else(|| invalid("an interval without a target tag".into()))?
            .as_str()
            .to_string();
        let second = u32::try_from(interval.start_timestamp().as_secs())
            .map_err(|_| invalid("start out of range".into()))?;
        let compressed = base64::engine::general_purpose::STANDARD
            .decode(interval.encoded_histogram())
            .map_err(|e| invalid(format!("interval of {tag} at {second}s: {e}")))?;
        decode(&compressed).map_err(|e| invalid(format!("interval of {tag} at {second}s: {e}")))?;
        intervals.push(Interval {
            tag,
            second,
            compressed,
        });
    }
    Ok(Hlog { intervals })
}

/// Reads latency-ok.hlog beside `every` (latency.hlog, already read):
/// `None` for a folder written before runs kept it. Its intervals must be
/// `every`'s, tag and second, in the same order (a run killed between the
/// two writes may leave it shorter, never longer), each holding no more
/// than `every`'s of the same second: the successes are a subset.
pub fn read_ok(dir: &Path, every: &Hlog) -> Result<Option<Hlog>, LoadError> {
    let path = dir.join(OK_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let ok = read(&path)?;
    if ok.intervals.len() > every.intervals.len() {
        return Err(LoadError::invalid(
            &path,
            None,
            format!(
                "{} intervals, {FILE} has only {}",
                ok.intervals.len(),
                every.intervals.len()
            ),
        ));
    }
    for (n, (o, e)) in ok.intervals.iter().zip(&every.intervals).enumerate() {
        let disagree =
            |what: String| LoadError::invalid(&path, None, format!("interval {}: {what}", n + 1));
        if (o.tag.as_str(), o.second) != (e.tag.as_str(), e.second) {
            return Err(disagree(format!(
                "{} at {}s where {FILE} has {} at {}s",
                o.tag, o.second, e.tag, e.second
            )));
        }
        let mut failed = e.histogram();
        failed.subtract(o.histogram()).map_err(|err| {
            disagree(format!(
                "holds more of {} at {}s than {FILE}: {err:?}",
                o.tag, o.second
            ))
        })?;
    }
    Ok(Some(ok))
}
