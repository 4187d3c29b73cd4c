//! report.html of a real run, rendered in headless Chromium: the page loads
//! offline and every chart has a size. Needs Debian's chromium (.ci/run
//! installs it); without it the test says so and passes, except in CI.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use meshdrill::sim::{Cluster, SimFault};

fn chromium() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_html_renders_its_charts_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = plan(
        "html",
        vec![
            sim_target("primary", Cluster::Primary),
            sim_target("secondary", Cluster::Secondary),
        ],
        rate(50.0),
        Duration::from_secs(4),
    );
    p.faults = vec![sim_fault(
        "down",
        Cluster::Primary,
        SimFault::Down,
        1000,
        Some(2000),
    )];
    p.description = Some("Primary <down> for 1 s & back".into());
    run_in(p, dir.path()).await;
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(
        html.contains("<p class=\"description\">Primary &lt;down&gt; for 1 s &amp; back</p>"),
        "the scenario's description, escaped"
    );
    assert!(
        !html.contains("<script"),
        "the report itself runs no script"
    );
    assert!(
        !html.contains("http://") || !html.contains("src=\"http"),
        "nothing loaded from the network"
    );
    assert_eq!(html.matches("<figure id=\"chart-").count(), 4);

    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have chromium (.ci/run installs it)"
        );
        eprintln!("skipped: no chromium on this machine (apt-get install chromium)");
        return;
    };
    // A copy with a probe that writes every chart's rendered size into the
    // DOM; --dump-dom prints the DOM after load.
    let probe = "<script>document.body.setAttribute('data-sizes', Array.from(document.querySelectorAll('figure svg')).map(s => { const r = s.getBoundingClientRect(); return Math.round(r.width) + 'x' + Math.round(r.height); }).join(' '));</script></body>";
    // The page's own policy, plus the probe's inline script: the charts must
    // render under everything else the policy forbids.
    let policy = meshdrill::report::html::CONTENT_SECURITY_POLICY;
    assert!(html.contains(&format!("content=\"{policy}\"")));
    let probed = html
        .replace(policy, &format!("{policy}; script-src 'unsafe-inline'"))
        .replace("</body>", probe);
    let page = dir.path().join("probe.html");
    std::fs::write(&page, probed).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1300,1000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom.find("data-sizes=\"").unwrap_or_else(|| {
        panic!(
            "page did not load: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let sizes: Vec<(u32, u32)> = dom[start + 12..]
        .split('"')
        .next()
        .unwrap()
        .split_whitespace()
        .map(|wh| {
            let (w, h) = wh.split_once('x').unwrap();
            (w.parse().unwrap(), h.parse().unwrap())
        })
        .collect();
    assert_eq!(sizes.len(), 4, "{sizes:?}");
    assert!(
        sizes.iter().all(|&(w, h)| w > 300 && h > 200),
        "every chart has a real size: {sizes:?}"
    );
}
