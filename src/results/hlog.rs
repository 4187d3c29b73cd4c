//! `latency.hlog` and `latency-ok.hlog`: the standard HdrHistogram interval
//! log, one interval per second per target tagged with the target name, V2
//! *deflate* encoded (the form Java's `HistogramLogReader` and Python's
//! `hdrhistogram` read). Values are microseconds from each request's
//! intended send time: every request in `latency.hlog`, the successes alone
//! in `latency-ok.hlog` (same seconds, same tags, same order), so failures'
//! latency is one minus the other. Read back with [`intervals`].

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

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
        // A builder with no headers writes nothing but the interval lines.
        let mut log =
            IntervalLogWriterBuilder::new().begin_log_with(&mut self.out, &mut self.serializer)?;
        let start = Duration::from_secs(u64::from(row.second));
        for (tag, stats) in self.tags.iter().zip(row.targets) {
            let histogram = self.which.histogram(stats);
            log.write_histogram(histogram, start, Duration::from_secs(1), Tag::new(tag))
                .map_err(|e| io::Error::other(format!("{}: {e}", self.which.file())))?;
        }
        self.out.flush()
    }
}

/// One interval of a log: the target's tag, the second and its histogram.
pub struct Interval {
    pub tag: String,
    pub second: u32,
    pub histogram: Histogram<u64>,
}

/// The intervals of an interval log's bytes, in file order, decoded one at
/// a time (a long run's log is never held decoded). Lines that are not
/// intervals (comments, headers) are skipped; an interval that does not
/// decode is an error naming its tag and second.
pub fn intervals(log: &[u8]) -> impl Iterator<Item = Result<Interval, String>> + '_ {
    use base64::Engine;
    let mut deserializer = Deserializer::new();
    IntervalLogIterator::new(log).filter_map(move |entry| {
        let Ok(LogEntry::Interval(interval)) = entry else {
            return None;
        };
        let tag = interval.tag()?.as_str().to_string();
        let second = interval.start_timestamp().as_secs() as u32;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(interval.encoded_histogram())
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                deserializer
                    .deserialize(&mut io::Cursor::new(bytes))
                    .map_err(|e| format!("{e:?}"))
            });
        Some(
            decoded
                .map(|histogram| Interval {
                    tag: tag.clone(),
                    second,
                    histogram,
                })
                .map_err(|e| format!("interval of {tag} at {second}s: {e}")),
        )
    })
}
