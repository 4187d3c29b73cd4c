//! Stacked areas per second, one panel per scope: the outcomes chart
//! (responses by outcome) and the clusters chart (requests per second by
//! the cluster that answered, failures their own band) are the same
//! drawing over different layers.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::{ChartData, Row};
use super::style::{FONT, Mark, RIGHT_MARGIN, beside_legend, draw_legend, entry, err, panels};

/// One layer: its name, colour and value in a row.
pub struct Layer {
    pub name: String,
    pub color: RGBColor,
    pub value: Box<dyn Fn(&Row) -> f64>,
}

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
    what: &str,
    y_desc: &str,
    layers: &[Layer],
    percent: bool,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    for (area, s) in panels(root, data.scopes.len()).iter().zip(&data.scopes) {
        let total = |r: &Row| layers.iter().map(|l| (l.value)(r)).sum::<f64>();
        let top = if percent {
            100.0
        } else {
            s.rows.iter().map(total).fold(1.0, f64::max) * 1.1
        };
        let (plot, legend) = beside_legend(area);
        let mut chart = ChartBuilder::on(&plot)
            .caption(format!("{what}: {}", s.scope), (FONT, 20))
            .margin(10)
            .margin_right(RIGHT_MARGIN)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..data.end_s.max(1.0), 0f64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("run time (s)")
            .y_desc(y_desc)
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(err)?;
        // Cumulative tops per layer, drawn from the top layer down so each
        // area covers only its own band.
        let scale = |r: &Row| {
            if percent {
                100.0 / total(r).max(1.0)
            } else {
                1.0
            }
        };
        let mut entries = Vec::new();
        for k in (0..layers.len()).rev() {
            let layer = &layers[k];
            if s.rows.iter().all(|r| (layer.value)(r) == 0.0) {
                continue;
            }
            let points: Vec<(f64, f64)> = s
                .rows
                .iter()
                .flat_map(|r| {
                    let y = layers[..=k].iter().map(|l| (l.value)(r)).sum::<f64>() * scale(r);
                    [(r.second as f64, y), (r.second as f64 + 1.0, y)]
                })
                .collect();
            let color = layer.color;
            chart
                .draw_series(AreaSeries::new(points, 0.0, color.mix(0.9)).border_style(color))
                .map_err(err)?;
            entries.push(entry(layer.name.clone(), Mark::Band(color.mix(0.9))));
        }
        for w in &data.windows {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(w.from_s, 0.0), (w.from_s, top)],
                    BLACK.stroke_width(2),
                )))
                .map_err(err)?;
        }
        if !data.windows.is_empty() {
            entries.push(entry("fault start", Mark::Line(BLACK.mix(1.0), 2)));
        }
        draw_legend(&legend, 40, &entries)?;
    }
    root.present().map_err(err)
}
