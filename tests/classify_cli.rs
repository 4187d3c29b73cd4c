//! `meshdrill classify --json` over every fixture, with the manifest's status
//! and headers, prints exactly what the manifest expects (a contract test of
//! the machine-readable output); and its exit codes.

mod classify_support;

use std::process::Command;

use classify_support::{fixtures, fixtures_dir, mismatches};

fn meshdrill() -> Command {
    Command::new(env!("CARGO_BIN_EXE_meshdrill"))
}

#[test]
fn json_lines_match_the_manifest() {
    let mut problems = Vec::new();
    let fixtures = fixtures();
    for f in &fixtures {
        let mut cmd = meshdrill();
        cmd.current_dir(fixtures_dir())
            .args(["classify", "--json", "--status"])
            .arg(f.status.to_string());
        for (name, value) in &f.headers {
            cmd.arg("--header").arg(format!("{name}: {value}"));
        }
        let out = cmd.arg(&f.file).output().expect("run meshdrill");
        assert_eq!(out.status.code(), Some(0), "{}: {out:?}", f.file);
        let stdout = String::from_utf8(out.stdout).expect("utf-8");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 1, "{}: {stdout}", f.file);
        let actual: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON line");
        problems.extend(mismatches(&f.file, &f.expected, &actual));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn stdin_and_plain_output() {
    let mut child = meshdrill()
        .args(["classify", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run meshdrill");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"<html><title>Welcome to nginx!</title></html>")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("-: unrecognized "), "{stdout}");
}

#[test]
fn unreadable_files_and_bad_flags_exit_2() {
    let dir = fixtures_dir();
    let ok = dir.join("productpage/current__v2_ok.html");
    let out = meshdrill()
        .args(["classify", "--json"])
        .arg(&ok)
        .arg("/nonexistent/page.html")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // The readable file is still classified.
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("/nonexistent/page.html")
    );
    for bad in [
        vec!["classify", "--status", "abc", "x"],
        vec!["classify", "--status", "42", "x"],
        vec!["classify", "--header", "no-colon", "x"],
        vec!["classify"],
    ] {
        let out = meshdrill().args(&bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}
