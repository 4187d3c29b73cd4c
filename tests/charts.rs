//! Charts are pure functions of data: synthetic data in, files out that
//! decode (PNG) or parse (SVG) and are not blank. PNG text comes from the
//! bundled DejaVu font (plotters is built without fontconfig), so these run
//! the same on a machine with no fonts.

use meshdrill::report::charts::data::{OutageMark, Row, Series, Window};
use meshdrill::report::charts::{CHARTS, ChartData, render_all};

fn synthetic() -> ChartData {
    let series = |scope: &str, down: bool| Series {
        scope: scope.into(),
        rows: (0..20u32)
            .map(|s| {
                let failing = down && (5..9).contains(&s);
                let mut kinds = vec![0; meshdrill::outcome::Kind::COUNT];
                kinds[meshdrill::outcome::Kind::Ok.index()] = if failing { 0 } else { 100 };
                kinds[meshdrill::outcome::Kind::Refused.index()] = if failing { 100 } else { 0 };
                Row {
                    second: s,
                    sent: 100,
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
