//! The mesh's own view (`[evidence]`): one panel per Prometheus query that
//! answered, each series a line over the same run seconds as the
//! availability chart, with the same fault windows shaded and the same T0
//! and recovered-at marks, so "users saw 503s" and "the primary's Envoys
//! answered 503 UH" can be read against each other. The legend names each
//! series by the labels that differ (`dst=primary`), and what all share
//! once (`flags=UH`).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::{ChartData, MeshPanel};
use super::style::{FONT, Mark, RIGHT_MARGIN, beside_legend, draw_legend, entry, err, scope_color};

/// Series drawn per panel (most queries give a handful; the rest are named
/// as left out in the legend, never silently dropped).
pub const MAX_SERIES: usize = 12;
/// Longest legend label before it is cut (the legend column is 270 px).
const LABEL_CHARS: usize = 36;

/// Height of the chart for `panels` panels.
pub fn height(panels: usize) -> u32 {
    (300 * panels.max(1) as u32).max(400)
}

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let areas = root.split_evenly((data.mesh.len().max(1), 1));
    for (area, panel) in areas.iter().zip(&data.mesh) {
        draw_panel(area, data, panel)?;
    }
    root.present().map_err(err)
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ChartData,
    panel: &MeshPanel,
) -> Result<(), String> {
    let top = panel
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    let (plot, legend) = beside_legend(area);
    let mut chart = ChartBuilder::on(&plot)
        .caption(
            format!("mesh view (Prometheus): {}", panel.name),
            (FONT, 20),
        )
        .margin(10)
        .margin_right(RIGHT_MARGIN)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..data.end_s.max(1.0), 0f64..top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("run time (s)")
        .y_desc("value")
        .y_label_formatter(&|v| {
            let decimals = if top >= 10.0 {
                0
            } else if top >= 1.0 {
                1
            } else {
                3
            };
            format!("{v:.decimals$}")
        })
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .draw()
        .map_err(err)?;
    for w in &data.windows {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(w.from_s, 0.0), (w.to_s, top)],
                RED.mix(0.12).filled(),
            )))
            .map_err(err)?;
    }
    let mut entries = Vec::new();
    for (i, s) in panel.series.iter().take(MAX_SERIES).enumerate() {
        let color = scope_color(i);
        // Steps, as the availability chart: a sample holds for its second.
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|(_, v)| v.is_finite())
            .flat_map(|&(x, v)| [(x, v), (x + 1.0, v)])
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(err)?;
        entries.push(entry(cut(&s.label), Mark::Line(color.mix(1.0), 2)));
    }
    if panel.series.len() > MAX_SERIES {
        entries.push(entry(
            format!("(+{} series not drawn)", panel.series.len() - MAX_SERIES),
            Mark::Note,
        ));
    }
    if panel.series.is_empty() {
        entries.push(entry("no series in the answer", Mark::Note));
    }
    if !panel.common.is_empty() {
        entries.push(entry("every series:", Mark::Note));
        for label in &panel.common {
            entries.push(entry(format!("  {}", cut(label)), Mark::Note));
        }
    }
    for o in &data.outages {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(o.t0_s, 0.0), (o.t0_s, top)],
                BLACK.stroke_width(1),
            )))
            .map_err(err)?;
        if let Some(r) = o.recovered_s {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(r, 0.0), (r, top)],
                    GREEN.stroke_width(2),
                )))
                .map_err(err)?;
        }
    }
    for w in &data.windows {
        entries.push(entry(
            format!("fault {}", w.name),
            Mark::Band(RED.mix(0.25)),
        ));
    }
    if !data.outages.is_empty() {
        entries.push(entry("T0 (fault start)", Mark::Line(BLACK.mix(1.0), 1)));
    }
    if data.outages.iter().any(|o| o.recovered_s.is_some()) {
        entries.push(entry("recovered", Mark::Line(GREEN.mix(1.0), 2)));
    }
    draw_legend(&legend, 40, &entries)
}

/// At most [`LABEL_CHARS`] characters, the cut marked.
fn cut(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        return label.to_string();
    }
    let mut s: String = label.chars().take(LABEL_CHARS - 1).collect();
    s.push('…');
    s
}
