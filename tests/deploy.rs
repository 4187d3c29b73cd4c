//! deploy/k8s (issue 17): the manifests validate against the Kubernetes
//! schemas (kubernetes-validate, strict: no unknown field), what
//! `deploy/k8s/create-job` renders validates too, and the command the Job
//! runs in each pod is one meshdrill accepts, with the scenario carried in
//! the ConfigMap exactly as written.
//!
//! kubernetes-validate and PyYAML come from PyPI (installed by `.ci/run`);
//! without them these tests say so and pass, except in CI, where they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MESHDRILL: &str = env!("CARGO_BIN_EXE_meshdrill");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether `program` can be used; outside CI a missing one skips the test.
fn have(program: &str, probe: &[&str]) -> bool {
    let found = Command::new(program)
        .args(probe)
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} is required in CI (.ci/run installs it)"
        );
        eprintln!("skipped: {program} is not installed (pip install kubernetes-validate)");
    }
    found
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn validate(files: &[PathBuf]) {
    let out = Command::new("kubernetes-validate")
        .arg("--strict")
        .args(files)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!said.contains("ERROR"), "{said}");
}

fn render(dir: &Path, extra: &[&str]) -> PathBuf {
    let out = Command::new(repo().join("deploy/k8s/create-job"))
        .arg(repo().join("scenarios/demo.toml"))
        .args(["--meshdrill", MESHDRILL, "--print", "--name", "drill-1"])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let file = dir.join("rendered.yaml");
    std::fs::write(&file, &out.stdout).unwrap();
    file
}

#[test]
fn committed_manifests_validate_against_the_kubernetes_schemas() {
    if !have("kubernetes-validate", &["--version"]) {
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("deploy/k8s"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["job.yaml", "results-pvc.yaml", "results-reader.yaml"]
    );
    validate(&files);
}

#[test]
fn a_rendered_job_validates_and_runs_the_command_meshdrill_accepts() {
    if !have("kubernetes-validate", &["--version"]) || !have("python3", &["-c", "import yaml"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let rendered = render(
        dir.path(),
        &[
            "--shards",
            "5",
            "--hooks-on",
            "2",
            "--env",
            "PRIMARY_INGRESS_IP=203.0.113.10",
        ],
    );
    validate(std::slice::from_ref(&rendered));

    // The pod's command and environment, as Kubernetes would read them.
    let read = Command::new("python3")
        .arg("-c")
        .arg(
            "import json, sys, yaml\n\
             docs = list(yaml.safe_load_all(open(sys.argv[1])))\n\
             cm, job = docs\n\
             c = job['spec']['template']['spec']['containers'][0]\n\
             print(json.dumps({'cm': cm['data']['scenario.toml'], 'spec': job['spec'],\n\
                'args': c['args'], 'env': {e['name']: e.get('value') for e in c['env']}}))",
        )
        .arg(&rendered)
        .output()
        .unwrap();
    assert!(read.status.success(), "{}", text(&read));
    let pod: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    let scenario = std::fs::read_to_string(repo().join("scenarios/demo.toml")).unwrap();
    assert_eq!(pod["cm"], scenario.as_str());
    assert_eq!(pod["spec"]["completionMode"], "Indexed");
    assert_eq!(pod["spec"]["completions"], 5);
    assert_eq!(pod["spec"]["parallelism"], 5);
    assert_eq!(pod["spec"]["backoffLimit"], 0);
    let env = &pod["env"];
    assert_eq!(env["MESHDRILL_SHARDS"], "5");
    assert_eq!(env["MESHDRILL_JOB"], "drill-1");
    assert_eq!(env["PRIMARY_INGRESS_IP"], "203.0.113.10");
    let start_at = env["MESHDRILL_START_AT"].as_str().unwrap();
    assert!(
        start_at.len() == 20 && start_at.ends_with('Z'),
        "{start_at}"
    );

    // Kubernetes' $(VAR) expansion for pod 3, the scenario at its mount
    // point's stand-in; then meshdrill's own check of that command.
    let results = dir.path().join("results");
    let args: Vec<String> = pod["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a.as_str()
                .unwrap()
                .replace("$(JOB_COMPLETION_INDEX)", "3")
                .replace("$(MESHDRILL_SHARDS)", "5")
                .replace("$(MESHDRILL_START_AT)", start_at)
                .replace("$(MESHDRILL_JOB)", "drill-1")
                .replace(
                    "/scenario/scenario.toml",
                    &repo().join("scenarios/demo.toml").to_string_lossy(),
                )
                .replace("/results", &results.to_string_lossy())
        })
        .collect();
    assert!(!args.iter().any(|a| a.contains("$(")), "{args:?}");
    assert_eq!(
        args[..3],
        [
            "run".to_string(),
            repo()
                .join("scenarios/demo.toml")
                .to_string_lossy()
                .into_owned(),
            "--shard".into()
        ]
    );
    assert_eq!(args[3], "3/5");
    assert!(
        args.windows(2).any(|w| w[0] == "--hooks-on" && w[1] == "2"),
        "{args:?}"
    );
    let out = Command::new(MESHDRILL)
        .args(&args)
        .arg("--check")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "meshdrill {args:?} --check: {}",
        text(&out)
    );
}

#[test]
fn create_job_refuses_a_scenario_meshdrill_rejects_before_creating_anything() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\n[load]\nrate = 0\n").unwrap();
    let out = Command::new(repo().join("deploy/k8s/create-job"))
        .arg(&bad)
        .args(["--meshdrill", MESHDRILL, "--print"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(out.stdout.is_empty(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("meshdrill's check failed (exit 2); nothing created"),
        "{}",
        text(&out)
    );
}
