//! Successes' p50 / p90 / p99 / max per second on a log scale, one panel
//! per scope, fault windows shaded; failures' latency beside them as marks
//! (p50 a cross, max a dot), never mixed in: fast refusals in the
//! percentiles made p50 "improve" during an outage. A folder written
//! before latency-ok.hlog existed draws every request's percentiles, and
//! says so.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::{ChartData, LatencyMs, Row};
use super::style::{
    FONT, LIMITED, Mark, RIGHT_MARGIN, beside_legend, draw_legend, entry, err, panels,
};

const FLOOR: f64 = 0.05;
const FAILED: RGBColor = RGBColor(200, 30, 30);

/// Reads one percentile of a row.
type Percentile = fn(&Row) -> Option<f64>;

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let rows = || data.scopes.iter().flat_map(|s| s.rows.iter());
    let split = rows().any(|r| r.ok_latency.is_some() || r.failed_latency.is_some());
    let top = rows()
        .flat_map(|r| {
            let (ok, failed) = (r.ok_latency.map(|l| l.max), r.failed_latency.map(|l| l.max));
            [ok, failed, if split { None } else { r.max_ms }]
        })
        .flatten()
        .fold(1.0f64, f64::max)
        * 1.5;
    let lines: [(&str, Percentile, RGBColor); 4] = if split {
        [
            (
                "ok p50",
                |r| r.ok_latency.map(|l| l.p50),
                RGBColor(0, 114, 178),
            ),
            (
                "ok p90",
                |r| r.ok_latency.map(|l| l.p90),
                RGBColor(0, 158, 115),
            ),
            (
                "ok p99",
                |r| r.ok_latency.map(|l| l.p99),
                RGBColor(213, 94, 0),
            ),
            (
                "ok max",
                |r| r.ok_latency.map(|l| l.max),
                RGBColor(120, 120, 120),
            ),
        ]
    } else {
        [
            ("p50", |r| r.p50_ms, RGBColor(0, 114, 178)),
            ("p90", |r| r.p90_ms, RGBColor(0, 158, 115)),
            ("p99", |r| r.p99_ms, RGBColor(213, 94, 0)),
            ("max", |r| r.max_ms, RGBColor(120, 120, 120)),
        ]
    };
    let what = if split {
        "successes' latency from intended send"
    } else {
        "latency from intended send, every request (no latency-ok.hlog)"
    };
    for (area, s) in panels(root, data.scopes.len()).iter().zip(&data.scopes) {
        let (plot, legend) = beside_legend(area);
        let mut chart = ChartBuilder::on(&plot)
            .caption(format!("{what}: {}", s.scope), (FONT, 20))
            .margin(10)
            .margin_right(RIGHT_MARGIN)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..data.end_s.max(1.0), (FLOOR..top).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("run time (s)")
            .y_desc("ms (log)")
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(err)?;
        for w in &data.windows {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(w.from_s, FLOOR), (w.to_s, top)],
                    RED.mix(0.12).filled(),
                )))
                .map_err(err)?;
        }
        for [from, to] in &data.limited {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(f64::from(*from), FLOOR), (f64::from(*to) + 1.0, top)],
                    LIMITED.filled(),
                )))
                .map_err(err)?;
        }
        let mut entries = Vec::new();
        for (name, value, color) in lines {
            // A second without a success breaks the line instead of
            // bridging the outage with a slope.
            let mut run: Vec<(f64, f64)> = Vec::new();
            let mut runs = Vec::new();
            for r in &s.rows {
                match value(r) {
                    Some(v) => run.push((r.second as f64 + 0.5, v.max(FLOOR))),
                    None => runs.push(std::mem::take(&mut run)),
                }
            }
            runs.push(run);
            for run in runs.into_iter().filter(|r| !r.is_empty()) {
                chart
                    .draw_series(LineSeries::new(run, color.stroke_width(2)))
                    .map_err(err)?;
            }
            entries.push(entry(name, Mark::Line(color.mix(1.0), 2)));
        }
        if split {
            let failed = |f: fn(&LatencyMs) -> f64| {
                s.rows.iter().filter_map(move |r| {
                    r.failed_latency
                        .as_ref()
                        .map(|l| (r.second as f64 + 0.5, f(l).max(FLOOR)))
                })
            };
            chart
                .draw_series(failed(|l| l.p50).map(|p| Cross::new(p, 5, FAILED.stroke_width(2))))
                .map_err(err)?;
            chart
                .draw_series(failed(|l| l.max).map(|p| Circle::new(p, 3, FAILED.filled())))
                .map_err(err)?;
            entries.push(entry("failed p50", Mark::Cross(FAILED)));
            entries.push(entry("failed max", Mark::Dot(FAILED)));
            entries.push(entry("failures are not in the", Mark::Note));
            entries.push(entry("ok lines (latency-ok.hlog)", Mark::Note));
        }
        draw_legend(&legend, 40, &entries)?;
    }
    root.present().map_err(err)
}
