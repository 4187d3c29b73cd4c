//! What a results folder holds: the files one run writes, so a folder that
//! already holds a run is recognised (and refused, or replaced whole with
//! `--force`) instead of mixing two runs' files.

use std::io;
use std::path::{Path, PathBuf};

use super::files::{
    ADDRESSES, ANNOTATIONS, CAPTURES, CAPTURES_DIR, CHART_FORMATS, CHARTS, EVIDENCE, EVIDENCE_DIR,
    FAULTS, HLOG, HLOG_OK, MESH_CHART, PLAN, REPORT_HTML, SUMMARY, SUMMARY_MD, TIMELINE,
    chart_file,
};

/// True for a file name `meshdrill run` writes into its results folder.
pub fn is_run_file(name: &str) -> bool {
    const FILES: [&str; 12] = [
        SUMMARY,
        EVIDENCE,
        SUMMARY_MD,
        ANNOTATIONS,
        CAPTURES,
        TIMELINE,
        ADDRESSES,
        HLOG,
        HLOG_OK,
        REPORT_HTML,
        FAULTS,
        PLAN,
    ];
    let hgrm = name.starts_with("latency-") && name.ends_with(".hgrm");
    let chart = CHARTS.iter().chain([&MESH_CHART]).any(|chart| {
        CHART_FORMATS
            .iter()
            .any(|format| name == chart_file(chart, format))
    });
    FILES.contains(&name) || hgrm || chart
}

/// The run files in `dir`, sorted; empty when `dir` does not exist.
pub fn earlier_run(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry?;
        if entry.file_name().to_str().is_some_and(is_run_file) {
            found.push(entry.path());
        }
    }
    // `[[capture]]` output and `[evidence]` samples: a new run's must not
    // sit beside an earlier run's that its index no longer names.
    for (sub, ext) in [(CAPTURES_DIR, ".txt"), (EVIDENCE_DIR, ".csv")] {
        if let Ok(files) = std::fs::read_dir(dir.join(sub)) {
            for entry in files {
                let entry = entry?;
                let is_output = entry.file_name().to_str().is_some_and(|n| n.ends_with(ext));
                if is_output && entry.file_type()?.is_file() {
                    found.push(entry.path());
                }
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_earlier_runs_capture_output_is_part_of_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("captures")).unwrap();
        for file in [
            "captures.json",
            "notes.txt",
            "captures/dr-start.txt",
            "captures/keep.md",
        ] {
            std::fs::write(dir.path().join(file), "").unwrap();
        }
        let found = earlier_run(dir.path()).unwrap();
        assert_eq!(
            found,
            [
                dir.path().join("captures/dr-start.txt"),
                dir.path().join("captures.json"),
            ]
        );
    }

    #[test]
    fn every_file_a_run_writes_is_known_and_nothing_else() {
        for name in [
            "summary.json",
            "timeline.csv",
            "addresses.csv",
            "latency.hlog",
            "latency-ok.hlog",
            "faults.jsonl",
            "plan.json",
            "captures.json",
            "annotations.json",
            "report.html",
            "summary.md",
            "latency-primary.hgrm",
            "latency-all.hgrm",
            "availability.svg",
            "clusters.png",
        ] {
            assert!(is_run_file(name), "{name}");
        }
        for name in [
            "notes.txt",
            "summary.json.bak",
            "latency.svg.old",
            "availability",
            "latency-ok.hlog.tmp",
        ] {
            assert!(!is_run_file(name), "{name}");
        }
    }
}
