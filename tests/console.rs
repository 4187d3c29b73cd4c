//! What a person reads on the console of a run against the simulator: the
//! per-second lines and fault events in run-clock order, every line within
//! the console's width, and columns aligned whatever the target names.

mod common;

use meshdrill::report::width::WIDTH;

const LONG: &str = "secondary-us-central1-failover"; // 30 characters
const EU: &str = "primary-eu-west1"; // 16 characters

fn run() -> (String, String) {
    assert_eq!((LONG.len(), EU.len()), (30, 16));
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("console.toml");
    std::fs::write(
        &scenario,
        format!(
            r#"
name = "console"

[[target]]
name = "{EU}"
url = "sim:primary"

[[target]]
name = "{LONG}"
url = "sim:secondary"

[load]
model = "rate"
rate = 20
duration = "3s"
warmup = "0s"

[[fault]]
name = "eu-down"
target = "{EU}"
sim = "down"
at = "1s"
restore_at = "2s"
"#
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let child = common::spawn_run(&scenario, &out, std::process::Stdio::null());
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 4)),
        "{stdout}\n{stderr}"
    );
    (stdout, stderr)
}

fn position(lines: &[&str], starts: &str) -> usize {
    lines
        .iter()
        .position(|l| l.starts_with(starts))
        .unwrap_or_else(|| panic!("no line starting {starts:?}: {lines:#?}"))
}

/// The character column `needle` ends at in `line`.
fn end_of(line: &str, needle: &str) -> usize {
    let at = line
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {line:?}"));
    line[..at].chars().count() + needle.chars().count()
}

/// Each whitespace-separated cell of `line` with the column it ends at.
fn cell_ends(line: &str) -> Vec<(String, usize)> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    for (i, c) in line.chars().chain([' ']).enumerate() {
        if c == ' ' {
            if !cell.is_empty() {
                cells.push((std::mem::take(&mut cell), i));
            }
        } else {
            cell.push(c);
        }
    }
    cells
}

#[test]
fn the_console_follows_the_run_clock_fits_the_width_and_keeps_columns_aligned() {
    let (stdout, stderr) = run();
    let lines: Vec<&str> = stderr.lines().collect();

    // The fault injected just after 1 s is between second 0's line and
    // second 1's; its restore between second 1's and second 2's.
    let second = |n: u32| position(&lines, &format!("[{n:>4}s] {EU}"));
    let inject = position(&lines, "[   1.");
    let restore = position(&lines, "[   2.");
    assert!(lines[inject].contains("fault eu-down: inject"), "{stderr}");
    assert!(
        lines[restore].contains("fault eu-down: restore"),
        "{stderr}"
    );
    assert!(second(0) < inject && inject < second(1), "{stderr}");
    assert!(second(1) < restore && restore < second(2), "{stderr}");

    for line in stdout.lines().chain(stderr.lines()) {
        assert!(
            line.chars().count() <= WIDTH,
            "{line:?} is wider than {WIDTH}"
        );
    }

    // Per-second lines: one per target, the numbers in the same columns.
    let per_second: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.contains("/s ok "))
        .collect();
    assert_eq!(per_second.len(), 6, "{stderr}");
    for line in &per_second {
        assert_eq!(
            end_of(line, "/s ok"),
            end_of(per_second[0], "/s ok"),
            "{stderr}"
        );
    }
    assert!(per_second[1].trim_start().starts_with(LONG), "{stderr}");

    // The totals table: every value ends under its header.
    let out: Vec<&str> = stdout.lines().collect();
    let header = position(&out, "target ");
    for row in [EU, LONG, "all"] {
        let line = out[position(&out, &format!("{row} "))];
        let cells = cell_ends(line);
        assert_eq!(cells[0].0, row, "{stdout}");
        for (column, (_, end)) in ["requests", "ok", "failed", "avail%"]
            .iter()
            .zip(&cells[1..])
        {
            assert_eq!(
                *end,
                end_of(out[header], column),
                "{column} of {row}: {stdout}"
            );
        }
    }
    // The criteria table too.
    let criteria = position(&out, "criterion ");
    let scope_column = out[criteria].find("scope").unwrap();
    let answered = out
        .iter()
        .find(|l| l.starts_with("answered ") && l.contains(LONG))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(answered.find(LONG), Some(scope_column), "{stdout}");
}
