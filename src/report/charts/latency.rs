//! p50 / p90 / p99 / max per second on a log scale, one panel per scope,
//! fault windows shaded.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::{ChartData, Row};
use super::style::{FONT, LIMITED, err, panels};

/// Reads one percentile of a row.
type Percentile = fn(&Row) -> Option<f64>;

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let top = data
        .scopes
        .iter()
        .flat_map(|s| s.rows.iter().filter_map(|r| r.max_ms))
        .fold(1.0f64, f64::max)
        * 1.5;
    let lines: [(&str, Percentile, RGBColor); 4] = [
        ("p50", |r| r.p50_ms, RGBColor(0, 114, 178)),
        ("p90", |r| r.p90_ms, RGBColor(0, 158, 115)),
        ("p99", |r| r.p99_ms, RGBColor(213, 94, 0)),
        ("max", |r| r.max_ms, RGBColor(120, 120, 120)),
    ];
    for (area, s) in panels(root, data.scopes.len()).iter().zip(&data.scopes) {
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("latency from intended send: {}", s.scope),
                (FONT, 20),
            )
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..data.end_s.max(1.0), (0.05f64..top).log_scale())
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
                    [(w.from_s, 0.05), (w.to_s, top)],
                    RED.mix(0.12).filled(),
                )))
                .map_err(err)?;
        }
        for [from, to] in &data.limited {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(f64::from(*from), 0.05), (f64::from(*to) + 1.0, top)],
                    LIMITED.filled(),
                )))
                .map_err(err)?;
        }
        for (name, value, color) in lines {
            let points = s
                .rows
                .iter()
                .filter_map(|r| value(r).map(|v| (r.second as f64 + 0.5, v.max(0.05))));
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, 13))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)
}
