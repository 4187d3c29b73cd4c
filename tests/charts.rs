//! Charts are pure functions of data: synthetic data in, files out that
//! decode (PNG) or parse (SVG) and are not blank. PNG text comes from the
//! bundled DejaVu font (plotters is built without fontconfig), so these run
//! the same on a machine with no fonts.

use meshdrill::outcome::Kind;
use meshdrill::report::charts::data::{
    LatencyMs, MeshPanel, MeshSeries, OutageMark, Row, Series, Window,
};
use meshdrill::report::charts::{CHARTS, ChartData, FAILED_BAND, cluster_layers, render_all};

fn synthetic() -> ChartData {
    let series = |scope: &str, down: bool| Series {
        scope: scope.into(),
        rows: (0..20u32)
            .map(|s| {
                let failing = down && (5..9).contains(&s);
                let mut kinds = vec![0; meshdrill::outcome::Kind::COUNT];
                kinds[meshdrill::outcome::Kind::Ok.index()] = if failing { 0 } else { 100 };
                kinds[meshdrill::outcome::Kind::Refused.index()] = if failing { 100 } else { 0 };
                let ok = LatencyMs {
                    p50: 3.0,
                    p90: 4.0,
                    p99: 6.0,
                    max: 9.0,
                };
                let refused = LatencyMs {
                    p50: 0.3,
                    p90: 0.4,
                    p99: 0.5,
                    max: 0.6,
                };
                Row {
                    second: s,
                    sent: 100,
                    failed: if failing { 100 } else { 0 },
                    ok_latency: (!failing).then_some(ok),
                    failed_latency: failing.then_some(refused),
                    availability_pct: Some(if failing { 0.0 } else { 100.0 }),
                    kinds,
                    p50_ms: Some(3.0),
                    p90_ms: Some(4.0),
                    p99_ms: Some(if failing { 0.3 } else { 6.0 }),
                    max_ms: Some(9.0),
                    versions: [0, 50, 30, 20],
                    ok_versions: if failing { [0, 0, 0] } else { [50, 30, 20] },
                    clusters: vec![if failing { 0 } else { 100 }, 0, 0, 0],
                }
            })
            .collect(),
    };
    ChartData {
        title: "synthetic".into(),
        scopes: vec![series("primary", true), series("secondary", false)],
        clusters: vec![
            "primary".into(),
            "secondary".into(),
            "other".into(),
            "unknown".into(),
        ],
        windows: vec![Window {
            name: "down".into(),
            from_s: 5.0,
            to_s: 9.0,
        }],
        outages: vec![OutageMark {
            fault: "down".into(),
            scope: "primary".into(),
            t0_s: 5.0,
            recovered_s: Some(9.01),
            label: "RTO 4.010 s".into(),
        }],
        limited: vec![[2, 2], [14, 15]],
        end_s: 20.0,
        mesh: Vec::new(),
    }
}

#[test]
fn every_chart_writes_a_decodable_png_and_a_parseable_svg() {
    let dir = tempfile::tempdir().unwrap();
    let written = render_all(dir.path(), &synthetic()).unwrap();
    assert_eq!(written.len(), CHARTS.len() * 2);
    for name in CHARTS {
        let png = std::fs::File::open(dir.path().join(format!("{name}.png"))).unwrap();
        let mut reader = png::Decoder::new(std::io::BufReader::new(png))
            .read_info()
            .unwrap();
        let mut pixels = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(info.width, 1200, "{name}");
        let bytes = &pixels[..info.buffer_size()];
        let channels = info.color_type.samples();
        let not_white = bytes
            .chunks(channels)
            .filter(|p| p.iter().take(3).any(|&c| c < 240))
            .count();
        let total = bytes.len() / channels;
        // Axes, text and data: a real chart inks a few percent of its pixels.
        assert!(
            not_white * 100 > total * 2,
            "{name}: {not_white} of {total} pixels inked"
        );

        let svg = std::fs::read_to_string(dir.path().join(format!("{name}.svg"))).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{name}.svg: {e}"));
        let texts: Vec<String> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text().map(String::from))
            .collect();
        assert!(
            texts.iter().any(|t| t.contains("run time (s)")),
            "{name}: axis label missing: {texts:?}"
        );
    }
    let svg = std::fs::read_to_string(dir.path().join("availability.svg")).unwrap();
    assert!(
        svg.contains("RTO 4.010 s"),
        "the RTO is written on the availability chart"
    );
}

#[test]
fn an_unwritable_folder_is_an_error_not_a_panic() {
    let err = render_all(std::path::Path::new("/nonexistent/meshdrill"), &synthetic()).unwrap_err();
    assert!(err.contains("/nonexistent/meshdrill"), "{err}");
}

#[test]
fn a_chart_that_cannot_be_written_is_named_and_the_others_are_still_written() {
    let dir = tempfile::tempdir().unwrap();
    // A folder where availability.png goes: the rename over it fails.
    std::fs::create_dir(dir.path().join("availability.png")).unwrap();
    let err = render_all(dir.path(), &synthetic()).unwrap_err();
    let blocked = dir.path().join("availability.png");
    assert!(
        err.starts_with(&format!("writing {}: ", blocked.display())),
        "{err}"
    );
    assert!(!err.contains(';'), "only that file failed: {err}");
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = CHARTS
        .iter()
        .flat_map(|c| [format!("{c}.png"), format!("{c}.svg")])
        .collect();
    expected.sort();
    assert_eq!(
        names, expected,
        "every other chart written, no temporary left"
    );
    assert!(blocked.is_dir());
}

fn svg_texts(svg: &str) -> Vec<(f64, f64, String, String)> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            let attr = |a: &str| n.attribute(a).and_then(|v| v.parse::<f64>().ok());
            (
                attr("x").unwrap_or(0.0),
                attr("font-size").unwrap_or(0.0),
                n.attribute("text-anchor").unwrap_or("start").to_string(),
                n.text().unwrap_or("").trim().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_availability_legend_names_t0_and_recovery() {
    let dir = tempfile::tempdir().unwrap();
    render_all(dir.path(), &synthetic()).unwrap();
    let svg = std::fs::read_to_string(dir.path().join("availability.svg")).unwrap();
    let texts: Vec<String> = svg_texts(&svg).into_iter().map(|t| t.3).collect();
    for label in [
        "T0 (fault start)",
        "recovered",
        "fault down",
        "generator-limited",
        "primary",
        "secondary",
    ] {
        assert!(texts.iter().any(|t| t == label), "{label}: {texts:?}");
    }
}

#[test]
fn every_tick_label_including_the_last_lies_inside_the_svg() {
    let dir = tempfile::tempdir().unwrap();
    render_all(dir.path(), &synthetic()).unwrap();
    for name in CHARTS {
        let svg = std::fs::read_to_string(dir.path().join(format!("{name}.svg"))).unwrap();
        let width: f64 = roxmltree::Document::parse(&svg)
            .unwrap()
            .root_element()
            .attribute("width")
            .unwrap()
            .parse()
            .unwrap();
        let ticks: Vec<_> = svg_texts(&svg)
            .into_iter()
            .filter(|t| t.3.parse::<f64>().is_ok())
            .collect();
        assert!(
            ticks.iter().any(|t| t.3 == "20.0"),
            "{name}: the last x tick is drawn: {ticks:?}"
        );
        for (x, size, anchor, text) in ticks {
            // DejaVu Sans digits advance 0.64 em; '.' less: an upper bound.
            let extent = text.chars().count() as f64 * 0.64 * size;
            let (left, right) = match anchor.as_str() {
                "middle" => (x - extent / 2.0, x + extent / 2.0),
                "end" => (x - extent, x),
                _ => (x, x + extent),
            };
            assert!(
                left >= 0.0 && right <= width,
                "{name}: tick {text:?} spans {left:.1}..{right:.1} of {width}"
            );
        }
    }
}

#[test]
fn the_clusters_failed_band_is_every_failure_without_a_page() {
    let clusters: Vec<String> = ["primary", "secondary", "other", "unknown"]
        .map(String::from)
        .to_vec();
    let layers = cluster_layers(&clusters);
    let failed = layers.iter().find(|l| l.name == FAILED_BAND).unwrap();
    let mut kinds = vec![0; Kind::COUNT];
    kinds[Kind::Ok.index()] = 60;
    kinds[Kind::Degraded.index()] = 5;
    kinds[Kind::Refused.index()] = 35;
    let row = Row {
        second: 3,
        sent: 100,
        failed: 40,
        kinds,
        // 65 pages: 60 ok and the 5 degraded, by the cluster they name.
        clusters: vec![0, 65, 0, 0],
        ..Row::default()
    };
    // The degraded pages are drawn in their cluster's band, so the failed
    // band holds the 35 refusals, and the stack is every request.
    assert_eq!((failed.value)(&row), 35.0);
    assert_eq!(layers.iter().map(|l| (l.value)(&row)).sum::<f64>(), 100.0);
    let secondary = layers
        .iter()
        .find(|l| l.name == "page from secondary")
        .unwrap();
    assert_eq!((secondary.value)(&row), 65.0);
}

/// `[evidence]`: the mesh chart is drawn only for a run that has one, one
/// panel per query, every series named in its legend beside the fault band.
#[test]
fn the_mesh_chart_is_drawn_only_with_evidence() {
    let dir = tempfile::tempdir().unwrap();
    render_all(dir.path(), &synthetic()).unwrap();
    assert!(!dir.path().join("mesh.svg").exists());

    let mut data = synthetic();
    let uh = r#"{destination_cluster="primary",response_flags="UH"}"#;
    data.mesh = vec![
        MeshPanel {
            name: "mesh-5xx".into(),
            common: vec!["flags=UH".into()],
            series: vec![MeshSeries {
                label: uh.into(),
                points: (0..20)
                    .map(|s| (f64::from(s), if (5..9).contains(&s) { 40.0 } else { 0.0 }))
                    .collect(),
            }],
        },
        MeshPanel {
            name: "mesh-requests".into(),
            series: Vec::new(),
            common: Vec::new(),
        },
    ];
    let written = render_all(dir.path(), &data).unwrap();
    assert_eq!(written.len(), (CHARTS.len() + 1) * 2);
    let svg = std::fs::read_to_string(dir.path().join("mesh.svg")).unwrap();
    let texts: Vec<String> = svg_texts(&svg).into_iter().map(|t| t.3).collect();
    for label in [
        "mesh view (Prometheus): mesh-5xx",
        "mesh view (Prometheus): mesh-requests",
        "{destination_cluster=\"primary\",resp…",
        "every series:",
        "flags=UH",
        "no series in the answer",
        "fault down",
        "T0 (fault start)",
        "run time (s)",
    ] {
        assert!(texts.iter().any(|t| t == label), "{label}: {texts:?}");
    }
}
