//! scripts/ingress-ips.sh against a stub kubectl (no cluster needed).

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

fn stub_kubectl(dir: &std::path::Path, eastwest_ip: &str) {
    let script = format!(
        "#!/bin/sh\ncase \"$*\" in\n  *primary-cluster-context*istio-ingressgateway*) printf 198.51.100.10 ;;\n  *secondary-cluster*istio-ingressgateway*) printf 203.0.113.20 ;;\n  *istio-eastwestgateway*) printf '{eastwest_ip}' ;;\n  *) exit 1 ;;\nesac\n"
    );
    let path = dir.join("kubectl");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn run(dir: &std::path::Path) -> std::process::Output {
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap());
    Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/ingress-ips.sh"
        ))
        .env("PATH", path)
        .output()
        .unwrap()
}

#[test]
fn prints_export_lines_for_every_gateway() {
    let dir = tempfile::tempdir().unwrap();
    stub_kubectl(dir.path(), "198.51.100.30");
    let out = run(dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "export PRIMARY_INGRESS_IP=198.51.100.10\nexport SECONDARY_INGRESS_IP=203.0.113.20\n\
         export PRIMARY_EASTWEST_IP=198.51.100.30\nexport SECONDARY_EASTWEST_IP=198.51.100.30\n"
    );
}

#[test]
fn an_empty_ip_fails_and_names_the_service() {
    let dir = tempfile::tempdir().unwrap();
    stub_kubectl(dir.path(), "");
    let out = run(dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(
            "no load-balancer IP for svc/istio-eastwestgateway in context primary-cluster-context"
        ),
        "{stderr}"
    );
    assert!(!String::from_utf8(out.stdout).unwrap().contains("EASTWEST"));
}
