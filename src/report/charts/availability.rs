//! Success % per second per target and for all, fault windows shaded, T0
//! and recovered-at marked, the RTO written on the chart.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::ChartData;
use super::style::{FONT, LIMITED, err, scope_color};

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("{}: availability per second", data.title),
            (FONT, 24),
        )
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..data.end_s.max(1.0), 0f64..105f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("run time (s)")
        .y_desc("successful requests (%)")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(err)?;
    for w in &data.windows {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(w.from_s, 0.0), (w.to_s, 105.0)],
                RED.mix(0.12).filled(),
            )))
            .map_err(err)?
            .label(format!("fault {}", w.name))
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], RED.mix(0.25).filled()));
    }
    for (i, [from, to]) in data.limited.iter().enumerate() {
        let band = chart
            .draw_series(std::iter::once(Rectangle::new(
                [(f64::from(*from), 0.0), (f64::from(*to) + 1.0, 105.0)],
                LIMITED.filled(),
            )))
            .map_err(err)?;
        if i == 0 {
            band.label("generator-limited")
                .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], LIMITED.filled()));
        }
    }
    for (i, s) in data.scopes.iter().enumerate() {
        let color = scope_color(i);
        let width = if s.scope == "all" { 3 } else { 2 };
        // Steps, not slopes: a second's value holds for the whole second, so
        // the edges of an outage are drawn where they are.
        let points: Vec<(f64, f64)> = s
            .rows
            .iter()
            .filter_map(|r| r.availability_pct.map(|a| (r.second as f64, a)))
            .flat_map(|(x, a)| [(x, a), (x + 1.0, a)])
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(width)))
            .map_err(err)?
            .label(s.scope.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(3))
            });
    }
    for (n, o) in data.outages.iter().enumerate() {
        let y = 95.0 - 7.0 * n as f64;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(o.t0_s, 0.0), (o.t0_s, 105.0)],
                BLACK.stroke_width(1),
            )))
            .map_err(err)?;
        if let Some(r) = o.recovered_s {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(r, 0.0), (r, 105.0)],
                    GREEN.stroke_width(2),
                )))
                .map_err(err)?;
        }
        let text = format!(
            "{} on {}: {} (T0 {:.3} s)",
            o.fault, o.scope, o.label, o.t0_s
        );
        chart
            .draw_series(std::iter::once(Text::new(
                text,
                (o.t0_s, y),
                (FONT, 15).into_font().color(&BLACK),
            )))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}
