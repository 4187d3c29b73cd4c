//! `meshdrill sim` when an ingress address is taken: the error says which
//! ingress, which address, and how to pick another.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `meshdrill sim ARGS` until it exits (at most 30 s: it must not
/// start serving) and returns its exit code and stderr.
fn sim(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meshdrill"))
        .arg("sim")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("meshdrill sim {args:?} kept running on a taken address");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn a_taken_address_names_the_ingress_and_the_address_and_suggests_port_0() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    for (cluster, args) in [
        (
            "primary",
            ["--primary", &addr, "--secondary", "127.0.0.1:0"],
        ),
        (
            "secondary",
            ["--primary", "127.0.0.1:0", "--secondary", &addr],
        ),
    ] {
        let (code, stderr) = sim(&args);
        assert_ne!(code, Some(0), "{stderr}");
        assert!(
            stderr.contains(&format!("{cluster} ingress cannot listen on {addr}: ")),
            "{stderr}"
        );
        assert!(stderr.contains("--primary 127.0.0.1:0"), "{stderr}");
        assert!(!stderr.contains("Ctrl-C to stop"), "{stderr}");
    }
}
