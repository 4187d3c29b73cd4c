//! Every example in README.md, in `meshdrill --help` and each subcommand's
//! `--help`, and in the scenario files' comments runs as written and exits
//! as documented (issue 11 item 10). The examples are extracted from the
//! text, so a new one is tested without touching this file.
//!
//! What counts as an example: a line (README: in a code block or an inline
//! code span with an operand, not `meshdrill report` alone; help: under `Example:`/`Examples:`; scenarios: a comment line)
//! that starts with `meshdrill `, `cargo run ... -- ` (run as `meshdrill`),
//! `curl ` or `scripts/testbed exec ...meshdrill`, and holds no placeholder
//! (`<...>`, `[...]`, `...`, an upper-case word such as `SCENARIO.toml`).
//! Its exit code is 0 unless its own comment says `exit N` (or `exit N, or M`).
//!
//! How each runs, decided from the example itself:
//! - everything runs in a network namespace of its own (`unshare -rn`, only
//!   loopback up) when the machine allows it, so nothing can leave it and
//!   127.0.0.1:9080 is private; otherwise on this machine's loopback, one
//!   test process at a time (a lock file);
//! - `meshdrill sim ...` serves in the background for the rest of its block
//!   (a README code block, a help text, a scenario file) and must exit 0 on
//!   Ctrl-C; a block that uses 127.0.0.1:9080 or `$INGRESS` without one gets
//!   `meshdrill sim` started first;
//! - `meshdrill run` of a scenario with a real target (not `sim:` and not
//!   loopback) or a hook (kubectl on a real cluster), and the root-only
//!   `scripts/testbed exec` examples, run with `--check` (which never dials
//!   and runs no hook), `${PRIMARY_INGRESS_IP}`-style variables set to
//!   documentation addresses (198.51.100.7, 203.0.113.7);
//! - a `meshdrill run` of more than 40 s of traffic runs with `--check` here
//!   and whole in `long_examples_run_as_written` (ignored by default:
//!   `cargo test --test examples -- --ignored`).
//!
//! A `meshdrill run` (and a `meshdrill report` or `meshdrill compare` of its
//! folder) may also exit 4 (INVALID: this machine could not pace it), as
//! every run is documented to when the generator falls behind: a loaded
//! machine must not fail this.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use meshdrill::cli::{Cli, Command as Sub};
use meshdrill::scenario::{Endpoint, FaultAction, Overrides, parse};

/// Longest traffic an example may send in the default suite.
const SHORT_RUN_S: f64 = 40.0;
const INGRESS: &str = "127.0.0.1:9080";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn meshdrill_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_meshdrill"))
}

fn doc_env(name: &str) -> Option<String> {
    match name {
        "PRIMARY_INGRESS_IP" => Some("198.51.100.7".into()),
        "SECONDARY_INGRESS_IP" => Some("203.0.113.7".into()),
        _ => None,
    }
}

#[derive(Clone, Debug)]
struct Example {
    /// `README.md:21`, `meshdrill run --help`, `scenarios/demo.toml:21`.
    source: String,
    /// As written (after `cargo run ... --` became `meshdrill`).
    command: String,
    /// Exit codes its text documents.
    exits: Vec<i32>,
    /// Examples of one block share a background simulator.
    block: String,
    /// Needs root (the testbed): checked only.
    root: bool,
}

/// `# exit 0, or 4 (...)` → [0, 4]; no such comment → [0].
fn documented_exits(comment: &str) -> Vec<i32> {
    let Some(at) = comment.find("exit ") else {
        return vec![0];
    };
    let codes: Vec<i32> = comment[at + 5..]
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .take(2)
        .collect();
    if codes.is_empty() { vec![0] } else { codes }
}

fn is_placeholder(command: &str) -> bool {
    if command.contains('<') && !command.contains(" < ") || command.contains('[') {
        return true;
    }
    if command.contains("...") {
        return true;
    }
    command
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '$')
        .any(|w| {
            !w.starts_with('$')
                && w.len() >= 3
                && w.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        })
}

/// An example from one line of text, if it is one.
fn example(line: &str, source: String, block: &str) -> Option<Example> {
    let line = line.trim();
    let (command, comment) = match line.find(" #") {
        Some(i) => (line[..i].trim(), &line[i..]),
        None => (line, ""),
    };
    let mut root = false;
    let command = if let Some(rest) = command.strip_prefix("cargo run") {
        format!("meshdrill {}", rest.split_once("-- ")?.1)
    } else if let Some(rest) = command.strip_prefix("scripts/testbed exec ") {
        root = true;
        let (_, args) = rest.split_once("meshdrill ")?;
        format!("meshdrill {args}")
    } else if command.starts_with("meshdrill ") || command.starts_with("curl ") {
        command.to_string()
    } else {
        return None;
    };
    if is_placeholder(&command) {
        return None;
    }
    Some(Example {
        source,
        command,
        exits: documented_exits(comment),
        block: block.to_string(),
        root,
    })
}

fn readme_examples() -> Vec<Example> {
    let text = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let mut found = Vec::new();
    let mut fence: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim_start().starts_with("```") {
            fence = if fence.is_some() { None } else { Some(n) };
            continue;
        }
        match fence {
            Some(start) => {
                let block = format!("README.md:{start}");
                found.extend(example(line, format!("README.md:{n}"), &block));
            }
            None => {
                for (k, span) in line.split('`').enumerate() {
                    // In prose, `meshdrill report` or `meshdrill sim --control`
                    // names a command or a flag; an example has an operand.
                    let words: Vec<&str> = span.split_whitespace().collect();
                    let operand = words.len() >= 3 && !words[2].starts_with('-');
                    if k % 2 == 1 && operand {
                        let block = format!("README.md:{n}:{k}");
                        found.extend(example(span, format!("README.md:{n}"), &block));
                    }
                }
            }
        }
    }
    found
}

fn help(args: &[&str]) -> String {
    let out = Command::new(meshdrill_bin())
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?} --help: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn help_examples() -> Vec<Example> {
    let top = help(&[]);
    let subcommands: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .filter(|c| c != "help")
        .collect();
    assert!(subcommands.len() >= 4, "{subcommands:?}");
    let mut texts = vec![("meshdrill --help".to_string(), top)];
    for sub in &subcommands {
        texts.push((format!("meshdrill {sub} --help"), help(&[sub])));
    }
    let mut found = Vec::new();
    for (name, text) in texts {
        let mut in_examples = false;
        for line in text.lines() {
            if line.starts_with("Example") {
                in_examples = true;
                continue;
            }
            if line.trim().is_empty() {
                in_examples = false;
            }
            if in_examples && line.starts_with("  ") {
                found.extend(example(line, name.clone(), &name));
            }
        }
    }
    found
}

fn scenario_examples() -> Vec<Example> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let name = format!("scenarios/{}", file.file_name().unwrap().to_string_lossy());
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            if let Some(comment) = line.trim_start().strip_prefix('#') {
                found.extend(example(comment, format!("{name}:{}", i + 1), &name));
            }
        }
    }
    found
}

/// Every example once, in the order README, help, scenario comments (the
/// report example reads the folder a help example writes).
fn all_examples() -> Vec<Example> {
    let mut seen = HashSet::new();
    let mut all = Vec::new();
    for group in [readme_examples(), help_examples(), scenario_examples()] {
        assert!(!group.is_empty());
        for e in group {
            if seen.insert(e.command.clone()) {
                all.push(e);
            }
        }
    }
    all
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// As written.
    Whole,
    /// With `--check`: a real cluster, a hook or root.
    Check,
    /// Too long for the default suite: `--check` there, whole when ignored tests run.
    Long,
}

fn is_loopback(uri: &hyper::Uri, connect: Option<std::net::SocketAddr>) -> bool {
    if let Some(addr) = connect {
        return addr.ip().is_loopback();
    }
    match uri.host() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

fn mode(e: &Example) -> Mode {
    if e.root {
        return Mode::Check;
    }
    let words: Vec<&str> = e.command.split_whitespace().collect();
    if words.first() != Some(&"meshdrill") || words.get(1) != Some(&"run") {
        return Mode::Whole;
    }
    let cli = Cli::try_parse_from(&words).unwrap_or_else(|err| panic!("{}: {err}", e.source));
    let Sub::Run(args) = cli.command else {
        unreachable!()
    };
    if args.check {
        return Mode::Whole;
    }
    let overrides = Overrides {
        duration: args.duration,
        rate: args.rate,
        concurrency: args.concurrency,
        targets: args.targets,
    };
    let text = std::fs::read_to_string(repo().join(&args.scenario)).unwrap();
    let plan = parse(&text, &args.scenario, &overrides, &doc_env)
        .unwrap_or_else(|err| panic!("{}: {} does not compile:\n{err}", e.source, e.command));
    let real = plan.targets.iter().any(|t| match &t.endpoint {
        // A failover target's members are targets of their own.
        Endpoint::Sim { .. } | Endpoint::Failover(_) => false,
        Endpoint::Http(h) => !is_loopback(&h.url, h.connect),
    });
    let hooks = plan
        .faults
        .iter()
        .any(|f| matches!(f.action, FaultAction::Hook { .. }));
    if real || hooks {
        Mode::Check
    } else if (plan.load.warmup + plan.load.duration).as_secs_f64() > SHORT_RUN_S {
        Mode::Long
    } else {
        Mode::Whole
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// One block as a shell script: background simulators first as they come,
/// every command's exit code into `codes`, simulators stopped with SIGINT.
fn script(commands: &[(usize, String)], needs_sim: bool, netns: bool) -> String {
    let mut s = String::from("set -u\n");
    if netns {
        s.push_str("ip link set lo up || exit 99\n");
    }
    let mut servers = Vec::new();
    let mut start_sim = |s: &mut String, id: String, command: &str| {
        s.push_str(&format!(
            "{command} > {id}.out 2> {id}.err &\necho $! > {id}.pid\nn=0\nuntil grep -q 'Ctrl-C to stop' {id}.err; do n=$((n+1)); [ $n -gt 600 ] && break; kill -0 $(cat {id}.pid) 2>/dev/null || break; sleep 0.1; done\n"
        ));
        servers.push(id);
    };
    if needs_sim && !commands.iter().any(|(_, c)| c.starts_with("meshdrill sim")) {
        start_sim(&mut s, "implicit-sim".into(), "meshdrill sim");
    }
    for (i, command) in commands {
        if command.starts_with("meshdrill sim") {
            start_sim(&mut s, format!("ex{i}"), command);
        } else {
            s.push_str(&format!(
                "timeout -s KILL 600 sh -c {} > ex{i}.out 2> ex{i}.err\necho \"ex{i} $?\" >> codes\n",
                quote(command)
            ));
        }
    }
    for id in servers {
        s.push_str(&format!(
            "kill -INT $(cat {id}.pid); wait $(cat {id}.pid); echo \"{id} $?\" >> codes\n"
        ));
    }
    s
}

fn netns_available() -> bool {
    Command::new("unshare")
        .args(["-rn", "sh", "-c", "ip link set lo up"])
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs the examples (each in `modes`, as decided) and returns what went wrong.
fn run_examples(examples: &[Example], long_whole: bool) -> Vec<String> {
    let cwd = tempfile::tempdir().unwrap();
    // The repository root, as the examples say to run from (hooks name
    // scripts/...), without its results/.
    for dir in ["scenarios", "scripts"] {
        std::os::unix::fs::symlink(repo().join(dir), cwd.path().join(dir)).unwrap();
    }
    // The saved Envoy reply `meshdrill classify --help` classifies.
    std::fs::write(cwd.path().join("reply.txt"), "no healthy upstream").unwrap();
    let netns = netns_available();
    let bin_dir = meshdrill_bin().parent().unwrap();
    // `--check` looks hook programs up on PATH: a machine without kubectl
    // (CI) finds this stub last. It is never started: hook examples only
    // run with --check, which runs no hook.
    let stubs = cwd.path().join(".stub-bin");
    std::fs::create_dir(&stubs).unwrap();
    let kubectl = stubs.join("kubectl");
    std::fs::write(
        &kubectl,
        "#!/bin/sh\necho 'examples test: kubectl is a stub' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path_var = format!(
        "{}:{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default(),
        stubs.display()
    );
    let mut planned: Vec<(usize, Example, String)> = Vec::new();
    for (i, e) in examples.iter().enumerate() {
        let command = match mode(e) {
            Mode::Whole => e.command.clone(),
            Mode::Long if long_whole => e.command.clone(),
            Mode::Check | Mode::Long => format!("{} --check", e.command),
        };
        planned.push((i, e.clone(), command));
    }
    let mut blocks: Vec<String> = Vec::new();
    for (_, e, _) in &planned {
        if !blocks.contains(&e.block) {
            blocks.push(e.block.clone());
        }
    }
    let mut failures = Vec::new();
    for block in blocks {
        let members: Vec<&(usize, Example, String)> = planned
            .iter()
            .filter(|(_, e, _)| e.block == block)
            .collect();
        let commands: Vec<(usize, String)> =
            members.iter().map(|(i, _, c)| (*i, c.clone())).collect();
        let needs_sim = commands
            .iter()
            .any(|(_, c)| c.contains(INGRESS) || c.contains("$INGRESS"));
        let _ = std::fs::remove_file(cwd.path().join("codes"));
        let body = script(&commands, needs_sim, netns);
        let mut cmd = if netns {
            let mut c = Command::new("unshare");
            c.args(["-rn", "sh", "-c", &body]);
            c
        } else {
            let mut c = Command::new("flock");
            c.args(["/tmp/meshdrill-examples-9080.lock", "sh", "-c", &body]);
            c
        };
        let status = cmd
            .current_dir(cwd.path())
            .env("PATH", &path_var)
            .env("INGRESS", INGRESS)
            .env("PRIMARY_INGRESS_IP", "198.51.100.7")
            .env("SECONDARY_INGRESS_IP", "203.0.113.7")
            .status()
            .unwrap();
        assert!(
            status.success(),
            "block {block}: the runner failed: {status}"
        );
        let codes = std::fs::read_to_string(cwd.path().join("codes")).unwrap_or_default();
        let code_of = |id: &str| {
            codes
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{id} ")))
                .and_then(|c| c.trim().parse::<i32>().ok())
        };
        if let Some(code) = code_of("implicit-sim").filter(|&c| c != 0) {
            failures.push(format!(
                "{block}: the simulator started for it exited {code}"
            ));
        }
        for (i, e, command) in members {
            let id = format!("ex{i}");
            let code = code_of(&id);
            let mut allowed = e.exits.clone();
            // `compare` exits 4 when either run it reads was INVALID.
            let judged = command.starts_with("meshdrill run")
                || command.starts_with("meshdrill report")
                || command.starts_with("meshdrill compare");
            if judged && !command.ends_with("--check") {
                allowed.push(4);
            }
            if !code.is_some_and(|c| allowed.contains(&c)) {
                let read = |ext: &str| {
                    std::fs::read_to_string(cwd.path().join(format!("{id}.{ext}")))
                        .unwrap_or_default()
                };
                failures.push(format!(
                    "{}: `{command}` exited {code:?}, documented {:?}\n--- stdout\n{}\n--- stderr\n{}",
                    e.source,
                    e.exits,
                    read("out"),
                    read("err")
                ));
            } else if code == Some(4) && !e.exits.contains(&4) {
                eprintln!(
                    "note: {}: `{command}` was INVALID (exit 4) on this machine",
                    e.source
                );
            }
        }
    }
    failures
}

#[test]
fn every_example_runs_and_exits_as_documented() {
    let examples = all_examples();
    for e in &examples {
        eprintln!("{:<40} {:?} {}", e.source, mode(e), e.command);
    }
    // The examples this was written against, so a broken extractor cannot
    // pass by finding nothing.
    for expected in [
        "meshdrill run scenarios/demo.toml",
        "meshdrill run scenarios/demo.toml --duration 25s --rate 50 --out results/demo-25s",
        "meshdrill sim --primary 127.0.0.1:9080 --secondary 127.0.0.1:9081",
        "meshdrill report results/demo-25s --window 2s --threshold 99.5",
        "meshdrill classify --status 503 --header 'server: envoy' reply.txt",
        "curl http://127.0.0.1:9080/productpage",
        "meshdrill run scenarios/istiod-outage.toml --check",
        "meshdrill run scenarios/testbed-blackhole.toml",
    ] {
        assert!(
            examples.iter().any(|e| e.command == expected),
            "{expected:?} not found"
        );
    }
    let failures = run_examples(&examples, false);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
#[ignore = "runs every long drill example whole (minutes): cargo test --test examples -- --ignored"]
fn long_examples_run_as_written() {
    let long: Vec<Example> = all_examples()
        .into_iter()
        .filter(|e| mode(e) == Mode::Long)
        .collect();
    assert!(!long.is_empty());
    let failures = run_examples(&long, true);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn example_lines_are_recognised() {
    let e = |line: &str| example(line, "x".into(), "b").map(|e| (e.command, e.exits, e.root));
    assert_eq!(
        e("cargo run --release -- run scenarios/demo.toml   # 30 s drill"),
        Some(("meshdrill run scenarios/demo.toml".into(), vec![0], false))
    );
    assert_eq!(
        e("   scripts/testbed exec target/release/meshdrill run scenarios/testbed-kill.toml"),
        Some((
            "meshdrill run scenarios/testbed-kill.toml".into(),
            vec![0],
            true
        ))
    );
    assert_eq!(
        e("meshdrill run x.toml --rate 5000   # exit 0, or 4 (INVALID) once it cannot"),
        Some(("meshdrill run x.toml --rate 5000".into(), vec![0, 4], false))
    );
    assert_eq!(e("meshdrill run SCENARIO.toml --check"), None);
    assert_eq!(e("meshdrill report RESULTS_DIR [--window 10s]"), None);
    assert_eq!(e("meshdrill run scenarios/<drill>-sim.toml"), None);
    assert_eq!(e("cargo test"), None);
    assert_eq!(
        e("curl -s http://$INGRESS/productpage | meshdrill classify --json -").map(|x| x.0),
        Some("curl -s http://$INGRESS/productpage | meshdrill classify --json -".into())
    );
}
