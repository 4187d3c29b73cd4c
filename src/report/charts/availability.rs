//! Success % per second per target and for all, fault windows shaded, T0
//! and recovered-at marked, the RTO written beside the chart.
//!
//! Two panels over the same seconds: the whole 0–100 % (how deep the
//! outage went) and the top 2 % (98–100 %, values below drawn at its
//! floor), because that is where the SLOs and the recovery threshold
//! (99 %, 99.5 %) live: a 99.5 % second is one pixel on a 0–100 axis and
//! plain on this one. A zoom in the same unit, rather than a log of the
//! unavailability, reads at a glance against the threshold an SRE set.
//!
//! Where lines coincide (every target at 100 %), each stays visible: `all`
//! is drawn first and widest, the targets no fault hit over it, and the
//! faulted targets last and thinnest, on top. The y-axis starts below 0 so
//! a target at 0 % is drawn above the x-axis, not on it.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::ChartData;
use super::style::{
    FONT, LIMITED, Mark, RIGHT_MARGIN, beside_legend, draw_legend, entry, err, scope_color,
};

/// The zoomed panel's floor and top, %.
const ZOOM: (f64, f64) = (98.0, 100.2);
/// The full panel's bottom and top, %: below 0 so 0 % clears the axis.
const FULL: (f64, f64) = (-4.0, 105.0);

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let root = root
        .titled(
            &format!("{}: availability per second", data.title),
            (FONT, 24),
        )
        .map_err(err)?;
    let (plot, legend) = beside_legend(&root);
    let height = plot.dim_in_pixel().1;
    let (full, zoom) = plot.split_vertically(height * 62 / 100);
    panel(&full, data, FULL, "successful requests (%)", |a| a)?;
    panel(&zoom, data, ZOOM, "top 2 % (%)", |a| a.max(ZOOM.0))?;
    let mut notes = entries(data);
    notes.push(entry("lower panel: 98-100 %,", Mark::Note));
    notes.push(entry("  lower values at its floor", Mark::Note));
    draw_legend(&legend, 30, &notes)
}

/// Draw order: `all`, then targets no fault hit, then the faulted ones.
fn draw_order(data: &ChartData) -> Vec<usize> {
    let faulted = |scope: &str| scope != "all" && data.outages.iter().any(|o| o.scope == scope);
    let rank = |i: usize| {
        let scope = data.scopes[i].scope.as_str();
        if scope == "all" {
            0
        } else if faulted(scope) {
            2
        } else {
            1
        }
    };
    let mut order: Vec<usize> = (0..data.scopes.len()).collect();
    order.sort_by_key(|&i| rank(i));
    order
}

/// Stroke width by draw position: the first drawn is the widest.
fn width_of(position: usize, n: usize) -> u32 {
    2 + 3 * (n - 1 - position) as u32
}

fn line_color(scope: &str, i: usize) -> RGBAColor {
    let c = scope_color(i);
    if scope == "all" {
        c.mix(0.45)
    } else {
        c.mix(1.0)
    }
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ChartData,
    (bottom, top): (f64, f64),
    y_desc: &str,
    clamp: impl Fn(f64) -> f64,
) -> Result<(), String> {
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .margin_right(RIGHT_MARGIN)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..data.end_s.max(1.0), bottom..top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("run time (s)")
        .y_desc(y_desc)
        .y_label_formatter(&|v| format!("{v:.1}"))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(err)?;
    for w in &data.windows {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(w.from_s, bottom), (w.to_s, top)],
                RED.mix(0.12).filled(),
            )))
            .map_err(err)?;
    }
    for [from, to] in &data.limited {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(f64::from(*from), bottom), (f64::from(*to) + 1.0, top)],
                LIMITED.filled(),
            )))
            .map_err(err)?;
    }
    let order = draw_order(data);
    for (position, &i) in order.iter().enumerate() {
        let s = &data.scopes[i];
        // Steps, not slopes: a second's value holds for the whole second, so
        // the edges of an outage are drawn where they are.
        let points: Vec<(f64, f64)> = s
            .rows
            .iter()
            .filter_map(|r| r.availability_pct.map(|a| (r.second as f64, clamp(a))))
            .flat_map(|(x, a)| [(x, a), (x + 1.0, a)])
            .collect();
        let style = line_color(&s.scope, i).stroke_width(width_of(position, order.len()));
        chart
            .draw_series(LineSeries::new(points, style))
            .map_err(err)?;
    }
    for o in &data.outages {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(o.t0_s, bottom), (o.t0_s, top)],
                BLACK.stroke_width(1),
            )))
            .map_err(err)?;
        if let Some(r) = o.recovered_s {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(r, bottom), (r, top)],
                    GREEN.stroke_width(2),
                )))
                .map_err(err)?;
        }
    }
    Ok(())
}

fn entries(data: &ChartData) -> Vec<super::style::Entry> {
    let order = draw_order(data);
    let mut entries: Vec<_> = order
        .iter()
        .enumerate()
        .map(|(position, &i)| {
            let s = &data.scopes[i];
            let width = width_of(position, order.len());
            entry(s.scope.clone(), Mark::Line(line_color(&s.scope, i), width))
        })
        .collect();
    for w in &data.windows {
        entries.push(entry(
            format!("fault {}", w.name),
            Mark::Band(RED.mix(0.25)),
        ));
    }
    if !data.limited.is_empty() {
        entries.push(entry("generator-limited", Mark::Band(LIMITED)));
    }
    if !data.outages.is_empty() {
        entries.push(entry("T0 (fault start)", Mark::Line(BLACK.mix(1.0), 1)));
    }
    if data.outages.iter().any(|o| o.recovered_s.is_some()) {
        entries.push(entry("recovered", Mark::Line(GREEN.mix(1.0), 2)));
    }
    for o in &data.outages {
        entries.push(entry(format!("{} on {}:", o.fault, o.scope), Mark::Note));
        entries.push(entry(
            format!("  {} (T0 {:.3} s)", o.label, o.t0_s),
            Mark::Note,
        ));
    }
    entries
}
