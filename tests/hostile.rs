//! Hostile targets: each test starts a server on 127.0.0.1:0 that misbehaves
//! in one way (raw bytes on a plain `TcpListener`), runs a short
//! `meshdrill run` against it as a child process, and asserts
//!
//! - the outcome kinds (exact where the behaviour leaves no choice),
//! - that the run ended on time: the last request had its outcome by
//!   warmup + duration + timeout + 2 s,
//! - and the child's peak resident memory (VmHWM), with bounds far above
//!   what a loaded machine could add and far below what a leak would.
//!
//! A child process keeps each run's memory apart from the other tests'.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BIN: &str = env!("CARGO_BIN_EXE_meshdrill");
/// Peak memory bound for a run whose bodies are small or refused: a
/// meshdrill run holds ~10-30 MB; 150 MB leaves room for any allocator
/// and is well below what buffering every body in flight would take.
const SMALL_RUN_MB: u64 = 150;

/// What the run produced.
struct Run {
    kinds: BTreeMap<String, u64>,
    requests_ended_ms: f64,
    /// Warmup + duration + timeout + 2 s, in ms.
    on_time_ms: f64,
    peak_rss_mb: u64,
    exit: Option<i32>,
}

impl Run {
    fn kinds(&self) -> Vec<&str> {
        self.kinds.keys().map(String::as_str).collect()
    }

    fn count(&self, kind: &str) -> u64 {
        self.kinds.get(kind).copied().unwrap_or(0)
    }

    #[track_caller]
    fn assert_on_time_within(&self, peak_mb: u64) {
        // Shown with --nocapture: the figures behind the bounds.
        eprintln!(
            "{}: {:?}, requests ended at {:.0} ms, peak RSS {} MB, exit {:?}",
            std::panic::Location::caller(),
            self.kinds,
            self.requests_ended_ms,
            self.peak_rss_mb,
            self.exit
        );
        assert!(
            self.requests_ended_ms <= self.on_time_ms,
            "requests ended at {} ms, after {} ms",
            self.requests_ended_ms,
            self.on_time_ms
        );
        assert!(
            self.peak_rss_mb < peak_mb,
            "peak RSS {} MB ≥ {peak_mb} MB",
            self.peak_rss_mb
        );
        // 0 pass, 1 SLO failed, 4 invalid: a verdict, never a usage or run error.
        assert!(matches!(self.exit, Some(0 | 1 | 4)), "exit {:?}", self.exit);
    }
}

/// Serves every connection with `behave` on a fresh loopback port.
async fn serve<F, Fut>(behave: F) -> std::net::SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let behave = Arc::new(behave);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(behave(stream));
        }
    });
    addr
}

/// Reads one request head (or gives up on EOF), so replies follow a request.
async fn read_head(stream: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    true
}

/// Holds the connection open until the client closes it.
async fn hold(mut stream: TcpStream) {
    let mut buf = [0u8; 1024];
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

/// Peak resident memory of a process, in MB, from /proc.
fn vm_hwm_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// Runs a drill at `rate`/s for 1 s (timeout 1 s) against `addr`, with
/// `extra` lines in `[load]`.
async fn drill(addr: std::net::SocketAddr, rate: u32, extra: &str) -> Run {
    drill_with_timeout(addr, rate, 1, extra).await
}

async fn drill_with_timeout(
    addr: std::net::SocketAddr,
    rate: u32,
    timeout_s: u32,
    extra: &str,
) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("hostile.toml");
    let duration_s = 1;
    std::fs::write(
        &scenario,
        format!(
            "[[target]]\nname = \"hostile\"\nurl = \"http://{addr}/productpage\"\n\n\
             [load]\nrate = {rate}\nduration = \"{duration_s}s\"\ntimeout = \"{timeout_s}s\"\n{extra}\n"
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let mut child = tokio::process::Command::new(BIN)
        .arg("run")
        .arg(&scenario)
        .arg("--quiet")
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let errors = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let mut peak = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        peak = peak.max(vm_hwm_mb(pid).unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let errors = errors.await.unwrap();
    let summary = read_summary(&out).unwrap_or_else(|| panic!("no summary.json: {errors}"));
    let target = &summary["targets"][0];
    let kinds = target["outcomes"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .filter(|(_, n)| *n > 0)
        .collect();
    Run {
        kinds,
        requests_ended_ms: summary["requests_ended_ms"].as_f64().unwrap(),
        on_time_ms: f64::from(duration_s + timeout_s + 2) * 1000.0,
        peak_rss_mb: peak,
        exit: status.code(),
    }
}

fn read_summary(out: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(out.join("summary.json")).ok()?;
    serde_json::from_str(&text).ok()
}

#[tokio::test]
async fn endless_chunked_body_is_body_too_large() {
    let addr = serve(|mut s| async move {
        if read_head(&mut s).await {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                .await;
            let chunk = format!("4000\r\n{}\r\n", "x".repeat(0x4000));
            while s.write_all(chunk.as_bytes()).await.is_ok() {}
        }
    })
    .await;
    let run = drill(addr, 20, "").await;
    assert_eq!(run.kinds(), ["body_too_large"], "{:?}", run.kinds);
    assert_eq!(run.count("body_too_large"), 20);
    run.assert_on_time_within(SMALL_RUN_MB);
}

#[tokio::test]
async fn huge_content_length_then_trickle_is_body_too_large_at_once() {
    let addr = serve(|mut s| async move {
        if read_head(&mut s).await {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n")
                .await;
            while s.write_all(b"x").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    })
    .await;
    let run = drill(addr, 20, "").await;
    // The declared length alone passes max_body: nothing waits for the trickle.
    assert_eq!(run.kinds(), ["body_too_large"], "{:?}", run.kinds);
    run.assert_on_time_within(SMALL_RUN_MB);
}

#[tokio::test]
async fn endless_headers_are_other_error() {
    let addr = serve(|mut s| async move {
        if read_head(&mut s).await {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\n").await;
            let header = format!("X-Filler: {}\r\n", "h".repeat(1000));
            while s.write_all(header.as_bytes()).await.is_ok() {}
        }
    })
    .await;
    let run = drill(addr, 20, "").await;
    // hyper refuses a response head above its read buffer (64 KiB).
    assert_eq!(run.kinds(), ["other_error"], "{:?}", run.kinds);
    run.assert_on_time_within(SMALL_RUN_MB);
}

#[tokio::test]
async fn slowloris_status_line_is_timeout() {
    let addr = serve(|mut s| async move {
        if read_head(&mut s).await {
            for byte in b"HTTP/1.1 200 OK\r\n".iter().cycle() {
                if s.write_all(&[*byte]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    })
    .await;
    let run = drill(addr, 20, "").await;
    assert_eq!(run.kinds(), ["timeout"], "{:?}", run.kinds);
    run.assert_on_time_within(SMALL_RUN_MB);
}

#[tokio::test]
async fn garbage_reply_is_other_error() {
    let addr = serve(|mut s| async move {
        if read_head(&mut s).await {
            let _ = s
                .write_all(b"\x00\xff\x13garbage \x7f\r\n\r\n\x01\x02")
                .await;
            hold(s).await;
        }
    })
    .await;
    let run = drill(addr, 20, "").await;
    assert_eq!(run.kinds(), ["other_error"], "{:?}", run.kinds);
    run.assert_on_time_within(SMALL_RUN_MB);
}

#[tokio::test]
async fn http09_reply_is_other_error() {
    let addr = serve(|mut s| async move {
        if read_head(&mut s).await {
            // HTTP/0.9: the body alone, no status line, end by close.
            let _ = s
                .write_all(b"<html><body>productpage</body></html>\n")
                .await;
        }
    })
    .await;
    let run = drill(addr, 20, "").await;
    assert_eq!(run.kinds(), ["other_error"], "{:?}", run.kinds);
    run.assert_on_time_within(SMALL_RUN_MB);
}

#[tokio::test]
async fn close_after_headers_is_reset() {
    let addr = serve(|mut s| async move {
        if read_head(&mut s).await {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n")
                .await;
        }
    })
    .await;
    let run = drill(addr, 20, "").await;
    assert_eq!(run.kinds(), ["reset"], "{:?}", run.kinds);
    run.assert_on_time_within(SMALL_RUN_MB);
}

#[tokio::test]
async fn accept_and_never_read_is_timeout() {
    let addr = serve(|s| async move {
        // Never read, never write, never close first.
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(s);
    })
    .await;
    let run = drill(addr, 20, "").await;
    assert_eq!(run.kinds(), ["timeout"], "{:?}", run.kinds);
    run.assert_on_time_within(SMALL_RUN_MB);
}

#[tokio::test]
async fn foreign_page_is_unrecognized() {
    let addr = serve(|mut s| async move {
        let page = b"<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head>\
                     <body><h1>Welcome to nginx!</h1></body></html>";
        while read_head(&mut s).await {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
                page.len()
            );
            if s.write_all(head.as_bytes()).await.is_err() || s.write_all(page).await.is_err() {
                break;
            }
        }
    })
    .await;
    let run = drill(addr, 20, "").await;
    assert_eq!(run.kinds(), ["unrecognized"], "{:?}", run.kinds);
    assert_eq!(run.count("unrecognized"), 20);
    run.assert_on_time_within(SMALL_RUN_MB);
}

#[tokio::test]
async fn rst_on_accept_is_reset() {
    let addr = serve(|s| async move {
        // SO_LINGER 0: close sends a RST instead of a FIN.
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        let fd = std::os::fd::AsRawFd::as_raw_fd(&s);
        // SAFETY: setsockopt reads the struct we pass, on a socket we own.
        let set = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            )
        };
        assert_eq!(set, 0);
        drop(s);
    })
    .await;
    let run = drill(addr, 20, "").await;
    assert_eq!(run.kinds(), ["reset"], "{:?}", run.kinds);
    run.assert_on_time_within(SMALL_RUN_MB);
}

/// A 20 MB body, sent in 1 MB writes 50 ms apart (~1 s each), so ~10 are in
/// flight at 10/s: 200 MB if every body were held.
async fn slow_20_mb_bodies() -> std::net::SocketAddr {
    const BODY: usize = 20_000_000;
    static PAYLOAD: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    serve(|mut s| async move {
        let payload = PAYLOAD.get_or_init(|| vec![b'y'; BODY]);
        while read_head(&mut s).await {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {BODY}\r\n\r\n");
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for part in payload.chunks(1_000_000) {
                if s.write_all(part).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    })
    .await
}

#[tokio::test]
async fn twenty_mb_bodies_within_max_body_are_read() {
    let addr = slow_20_mb_bodies().await;
    // A 1 s timeout is too short for ~1 s bodies on a busy machine: 5 s.
    let run = drill_with_timeout(addr, 2, 5, "max_body = \"32MiB\"").await;
    assert_eq!(run.kinds(), ["unrecognized"], "{:?}", run.kinds);
    assert_eq!(run.count("unrecognized"), 2);
    run.assert_on_time_within(300);
}

#[tokio::test]
async fn twenty_mb_bodies_past_the_budget_are_local_errors_and_memory_stays_bounded() {
    let addr = slow_20_mb_bodies().await;
    // Three bodies fit in 64 MiB; ~10 are in flight.
    let run = drill(addr, 10, "max_body = \"32MiB\"\nmax_buffered = \"64MiB\"").await;
    for kind in run.kinds() {
        assert!(
            ["unrecognized", "local_error", "timeout"].contains(&kind),
            "{:?}",
            run.kinds
        );
    }
    assert!(run.count("local_error") > 0, "{:?}", run.kinds);
    run.assert_on_time_within(300);
}

#[tokio::test]
async fn bodies_stalled_mid_way_at_a_high_rate_stay_within_the_budget() {
    let addr = serve(|mut s| async move {
        if read_head(&mut s).await {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                .await;
            let chunk = format!("4000\r\n{}\r\n", "x".repeat(0x4000));
            for _ in 0..56 {
                // ~900 KiB, then nothing.
                if s.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
            }
            hold(s).await;
        }
    })
    .await;
    // ~200 in flight × 900 KiB: ~180 MB held before the budget existed.
    let run = drill(addr, 200, "max_buffered = \"32MiB\"").await;
    for kind in run.kinds() {
        assert!(
            ["timeout", "local_error"].contains(&kind),
            "{:?}",
            run.kinds
        );
    }
    assert!(run.count("local_error") > 0, "{:?}", run.kinds);
    run.assert_on_time_within(120);
}
