//! `latency.hlog`: the standard HdrHistogram interval log, one interval per
//! second per target tagged with the target name, V2 *deflate* encoded
//! (the form Java's `HistogramLogReader` and Python's `hdrhistogram` read).
//! Values are microseconds from each request's intended send time.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};

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
