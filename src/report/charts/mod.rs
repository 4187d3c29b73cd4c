//! Charts of a run, as SVG and PNG beside the other results: availability,
//! outcomes, latency and clusters. Pure functions of [`ChartData`] (read
//! back from the folder), so `meshdrill report DIR` re-renders them; every
//! failure is an error, never a panic.

mod availability;
pub mod data;
mod latency;
mod mesh;
mod stacked;
mod style;
mod text;

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

pub use data::ChartData;
use data::Row;
pub use stacked::Layer;

use crate::outcome::Kind;
use crate::results::files::chart_file;
use crate::results::write_atomic;

pub use crate::results::files::{CHARTS, MESH_CHART};

/// Writes `<name>.svg` and `<name>.png` for every chart into `dir`, each
/// drawn in memory and then written whole (see [`write_atomic`]). A chart
/// that cannot be drawn or written does not stop the others: every failure
/// is reported, naming its file, once all were tried.
pub fn render_all(dir: &Path, data: &ChartData) -> Result<Vec<PathBuf>, String> {
    style::register_font()?;
    let mut written = Vec::new();
    let mut failed = Vec::new();
    // The mesh's view only for a run that has one.
    let mesh = (!data.mesh.is_empty()).then_some(MESH_CHART);
    for name in CHARTS.into_iter().chain(mesh) {
        let height = match name {
            "availability" => 640,
            MESH_CHART => mesh::height(data.mesh.len()),
            _ => style::height(data.scopes.len()),
        };
        let size = (style::WIDTH, height);
        let svg = dir.join(chart_file(name, "svg"));
        let png = dir.join(chart_file(name, "png"));
        for (path, bytes) in [
            (svg, svg_bytes(name, size, data)),
            (png, png_bytes(name, size, data)),
        ] {
            let result = bytes
                .map_err(|e| format!("drawing {}: {e}", path.display()))
                .and_then(|b| write_atomic(&path, &b).map_err(|e| e.to_string()));
            match result {
                Ok(()) => written.push(path),
                Err(e) => failed.push(e),
            }
        }
    }
    if failed.is_empty() {
        Ok(written)
    } else {
        Err(failed.join("; "))
    }
}

fn svg_bytes(name: &str, size: (u32, u32), data: &ChartData) -> Result<Vec<u8>, String> {
    let mut svg = String::new();
    draw(
        name,
        &SVGBackend::with_string(&mut svg, size).into_drawing_area(),
        data,
    )?;
    Ok(svg.into_bytes())
}

fn png_bytes(name: &str, size: (u32, u32), data: &ChartData) -> Result<Vec<u8>, String> {
    let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
    draw(
        name,
        &text::Glyphs(BitMapBackend::with_buffer(&mut rgb, size)).into_drawing_area(),
        data,
    )?;
    let mut encoded = Vec::new();
    let mut encoder = png::Encoder::new(&mut encoded, size.0, size.1);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut w| w.write_image_data(&rgb))
        .map_err(|e| format!("encoding png: {e}"))?;
    Ok(encoded)
}

fn draw<DB: DrawingBackend>(
    name: &str,
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
) -> Result<(), String> {
    match name {
        "availability" => availability::draw(root, data),
        "latency" => latency::draw(root, data),
        MESH_CHART => mesh::draw(root, data),
        "outcomes" => stacked::draw(
            root,
            data,
            "responses by outcome",
            "requests per second",
            &outcome_layers(),
            false,
        ),
        "clusters" => stacked::draw(
            root,
            data,
            "who answered",
            "requests per second",
            &cluster_layers(&data.clusters),
            false,
        ),
        other => Err(format!("no chart named {other}")),
    }
}

fn outcome_layers() -> Vec<Layer> {
    let kind = |ks: &'static [Kind]| {
        move |r: &Row| {
            ks.iter()
                .map(|k| r.kinds.get(k.index()).copied().unwrap_or(0))
                .sum::<u64>() as f64
        }
    };
    let ok_version = |i: usize| move |r: &Row| r.ok_versions[i] as f64;
    let layer = |name: &str, color: RGBColor, value: Box<dyn Fn(&Row) -> f64>| Layer {
        name: name.into(),
        color,
        value,
    };
    vec![
        layer("ok v1", RGBColor(0, 158, 115), Box::new(ok_version(0))),
        layer("ok v2", RGBColor(86, 180, 233), Box::new(ok_version(1))),
        layer("ok v3", RGBColor(0, 114, 178), Box::new(ok_version(2))),
        layer(
            "ok (version not shown)",
            RGBColor(150, 200, 150),
            Box::new(|r: &Row| {
                let ok = r.kinds.get(Kind::Ok.index()).copied().unwrap_or(0);
                ok.saturating_sub(r.ok_versions.iter().sum()) as f64
            }),
        ),
        layer(
            "degraded",
            RGBColor(240, 228, 66),
            Box::new(kind(&[Kind::Degraded, Kind::Unrecognized])),
        ),
        layer(
            "http 3xx / 4xx / other",
            RGBColor(204, 121, 167),
            Box::new(kind(&[Kind::Http3xx, Kind::Http4xx, Kind::HttpOther])),
        ),
        layer(
            "http 5xx",
            RGBColor(213, 94, 0),
            Box::new(kind(&[Kind::Http5xx])),
        ),
        layer(
            "timeout",
            RGBColor(120, 60, 160),
            Box::new(kind(&[Kind::Timeout, Kind::ConnectTimeout])),
        ),
        layer(
            "refused",
            RGBColor(200, 30, 30),
            Box::new(kind(&[Kind::Refused])),
        ),
        layer(
            "reset",
            RGBColor(230, 159, 0),
            Box::new(kind(&[Kind::Reset])),
        ),
        layer(
            "dns / tls",
            RGBColor(0, 70, 110),
            Box::new(kind(&[Kind::Dns, Kind::TlsHandshake, Kind::TlsCert])),
        ),
        layer(
            "other",
            RGBColor(90, 90, 90),
            Box::new(kind(&[
                Kind::Unreachable,
                Kind::BodyTooLarge,
                Kind::LocalError,
                Kind::OtherError,
            ])),
        ),
        layer(
            "abandoned (interrupted)",
            RGBColor(200, 200, 200),
            Box::new(kind(&[Kind::Abandoned])),
        ),
    ]
}

/// The clusters chart's bands, bottom up: productpages per cluster (ok or
/// degraded: the page names who served it), then the failed requests no
/// cluster's page came back for. The stack is every request of the
/// second, so "100 % secondary" cannot hide that half of them failed. A
/// degraded page is a failure drawn in its cluster's band (the outcomes
/// chart has it as `degraded`), so the failed band is `failed` minus
/// `degraded`: nothing counted twice.
pub fn cluster_layers(clusters: &[String]) -> Vec<Layer> {
    let mut layers: Vec<Layer> = clusters
        .iter()
        .enumerate()
        .map(|(i, name)| Layer {
            name: format!("page from {name}"),
            color: match name.as_str() {
                "unknown" => RGBColor(180, 180, 180),
                "other" => RGBColor(90, 90, 90),
                _ => style::scope_color(i),
            },
            value: Box::new(move |r: &Row| r.clusters.get(i).copied().unwrap_or(0) as f64),
        })
        .collect();
    layers.push(Layer {
        name: FAILED_BAND.into(),
        color: RGBColor(200, 30, 30),
        value: Box::new(|r: &Row| {
            let degraded = r.kinds.get(Kind::Degraded.index()).copied().unwrap_or(0);
            r.failed.saturating_sub(degraded) as f64
        }),
    });
    layers
}

/// The clusters chart's band of failed requests.
pub const FAILED_BAND: &str = "failed, no page";
