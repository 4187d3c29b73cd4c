//! `meshdrill run --check` refuses what would fail mid-drill (issue 11 item
//! 8): hook programs this machine cannot start, a hook `timeout` the run
//! never reaches, a file that is not UTF-8; and warns of a warmup longer than
//! the measured phase. No traffic: `--check` sends none.

use std::path::Path;
use std::process::{Command, Output};

fn check(scenario: &Path, path_var: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .arg("run")
        .arg(scenario)
        .arg("--check")
        .env("PATH", path_var)
        .output()
        .expect("run meshdrill")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const HEAD: &str = r#"[[target]]
name = "primary"
url = "sim:primary"
[load]
rate = 5
duration = "20s"
"#;

/// A folder holding one executable, `tool`, to be the whole PATH.
fn path_with_tool() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let tool = dir.path().join("tool");
    std::fs::write(&tool, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[test]
fn hook_programs_are_looked_up_on_path() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = path_with_tool();
    let path_var = bin.path().to_str().unwrap();
    let file = tmp.path().join("s.toml");
    let write = |faults: &str| std::fs::write(&file, format!("{HEAD}{faults}")).unwrap();
    let shown = file.display();

    write("[[fault]]\nname = \"a\"\nat = \"1s\"\ninject = [\"tool\", \"x\"]\n");
    let ok = check(&file, path_var);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));

    write(&format!(
        "[[fault]]\nname = \"a\"\nat = \"1s\"\ninject = [\"kubectl\", \"delete\"]\nrestore = [\"{0}/tool\"]\nrestore_at = \"2s\"\n[[fault]]\nname = \"b\"\nat = \"1s\"\ninject = [\"{0}/missing\"]\n",
        bin.path().display()
    ));
    let missing = check(&file, path_var);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        stderr(&missing),
        format!(
            "{shown}:10: fault[0].inject program \"kubectl\" is not on PATH (install it, or give its full path)\n\
             {shown}:16: fault[1].inject program \"{}/missing\" is not an executable file\n",
            bin.path().display()
        )
    );

    // A shell hook needs sh itself; its command line is sh's to read.
    write(
        "[[fault]]\nname = \"a\"\nat = \"1s\"\nshell = true\ninject = \"nothing-like-this | tool\"\n",
    );
    let no_sh = check(&file, path_var);
    assert_eq!(no_sh.status.code(), Some(2));
    assert_eq!(
        stderr(&no_sh),
        format!(
            "{shown}:11: fault[0].inject runs with sh -c (shell = true), and no executable \"sh\" is on PATH\n"
        )
    );
    let with_sh = check(&file, &format!("{path_var}:/bin:/usr/bin"));
    assert_eq!(with_sh.status.code(), Some(0), "{}", stderr(&with_sh));
}

#[test]
fn a_hook_timeout_the_run_never_reaches_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("s.toml");
    let fault = |timeout: &str| {
        format!(
            "{HEAD}warmup = \"5s\"\n[[fault]]\nname = \"a\"\nat = \"1s\"\ninject = [\"true\"]\ntimeout = \"{timeout}\"\n"
        )
    };
    std::fs::write(&file, fault("25s")).unwrap();
    let out = check(&file, "/bin:/usr/bin");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "{}:12: fault[0].timeout \"25s\" is not shorter than the whole run (25s, warmup + duration): the run ends first, so it could never stop the hook (expected less than 25s)\n",
            file.display()
        )
    );
    std::fs::write(&file, fault("24s")).unwrap();
    let out = check(&file, "/bin:/usr/bin");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_warmup_not_shorter_than_the_duration_is_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("s.toml");
    std::fs::write(&file, format!("{HEAD}warmup = \"100s\"\n")).unwrap();
    let out = check(&file, "/bin:/usr/bin");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr(&out),
        format!(
            "{}:7: warning: load.warmup \"100s\" is not shorter than load.duration (20s): most of the traffic is warmup, kept out of every total and the verdict\n",
            file.display()
        )
    );
    std::fs::write(&file, format!("{HEAD}warmup = \"19s\"\n")).unwrap();
    assert_eq!(stderr(&check(&file, "/bin:/usr/bin")), "");
}

#[test]
fn invalid_utf8_is_located_by_line_and_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("s.toml");
    let mut bytes = HEAD.as_bytes().to_vec();
    bytes.extend_from_slice(b"# caf\xe9 latin-1\n");
    std::fs::write(&file, bytes).unwrap();
    let out = check(&file, "/bin:/usr/bin");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "{}:7: invalid UTF-8: byte 0xE9 at byte {} of the file (column 6 of line 7); save the scenario as UTF-8\n",
            file.display(),
            HEAD.len() + 5
        )
    );
}

#[test]
fn capture_programs_are_looked_up_on_path_too() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = path_with_tool();
    let path_var = bin.path().to_str().unwrap();
    let file = tmp.path().join("s.toml");
    std::fs::write(
        &file,
        format!(
            "{HEAD}[[capture]]\nname = \"ok\"\nargv = [\"tool\"]\n[[capture]]\nname = \"dr\"\nargv = [\"kubectl\", \"get\", \"dr\"]\n"
        ),
    )
    .unwrap();
    let out = check(&file, path_var);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "{}:12: capture[1].argv program \"kubectl\" is not on PATH (install it, or give its full path)\n",
            file.display()
        )
    );
}
