//! `latency.hlog`: the standard HdrHistogram interval log, one interval per
//! second per target tagged with the target name, V2 *deflate* encoded
//! (the form Java's `HistogramLogReader` and Python's `hdrhistogram` read).
//! Values are microseconds from each request's intended send time. Written
//! by [`HlogWriter`], read back by [`read`].

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

use crate::record::SecondRow;

pub const FILE: &str = "latency.hlog";

pub struct HlogWriter {
    out: BufWriter<File>,
    serializer: V2DeflateSerializer,
    tags: Vec<String>,
}

impl HlogWriter {
    pub fn create(dir: &Path, targets: Vec<String>, epoch: SystemTime) -> io::Result<HlogWriter> {
        let mut out = BufWriter::new(File::create(dir.join(FILE))?);
        let mut serializer = V2DeflateSerializer::new();
        IntervalLogWriterBuilder::new()
            .add_comment("[Histogram log format version 1.3]")
            .add_comment("[meshdrill: latency from intended send time, in microseconds; one interval per second per target]")
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
        })
    }

    pub fn write(&mut self, row: &SecondRow<'_>) -> io::Result<()> {
        // A builder with no headers writes nothing but the interval lines.
        let mut log =
            IntervalLogWriterBuilder::new().begin_log_with(&mut self.out, &mut self.serializer)?;
        let start = Duration::from_secs(u64::from(row.second));
        for (tag, stats) in self.tags.iter().zip(row.targets) {
            log.write_histogram(&stats.latency, start, Duration::from_secs(1), Tag::new(tag))
                .map_err(|e| io::Error::other(format!("latency.hlog: {e}")))?;
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
    let mut intervals = Vec::new();
    for (n, entry) in IntervalLogIterator::new(&log).enumerate() {
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
