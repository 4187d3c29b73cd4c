//! Stacked areas per second, one panel per scope: the outcomes chart
//! (responses by outcome) and the clusters chart (share by cluster) are the
//! same drawing over different layers.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::{ChartData, Row};
use super::style::{FONT, err, panels};

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
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{what}: {}", s.scope), (FONT, 20))
            .margin(10)
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
                .map_err(err)?
                .label(layer.name.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 16, y + 5)], color.filled())
                });
        }
        for w in &data.windows {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(w.from_s, 0.0), (w.from_s, top)],
                    BLACK.stroke_width(2),
                )))
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, 12))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)
}
