//! Shared by every chart: the bundled font (no system fonts needed), the
//! palette, and the fault-window shading.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

pub const FONT: &str = "sans-serif";
pub const WIDTH: u32 = 1200;
/// Seconds where the generator was limited: grey, apart from the red of faults.
pub const LIMITED: RGBAColor = RGBAColor(90, 90, 90, 0.28);

/// Registers DejaVu Sans once for the ab_glyph text backend: PNG text then
/// renders on a machine with no fonts at all.
pub fn register_font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .and_then(|()| {
                plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold())
            })
            .map_err(|_| "the bundled DejaVu font did not load".to_string())
    })
    .clone()
}

/// Distinct, colour-blind-friendly (Okabe-Ito) colours for scopes.
pub fn scope_color(i: usize) -> RGBColor {
    const P: [RGBColor; 8] = [
        RGBColor(0, 114, 178),
        RGBColor(213, 94, 0),
        RGBColor(0, 158, 115),
        RGBColor(204, 121, 167),
        RGBColor(230, 159, 0),
        RGBColor(86, 180, 233),
        RGBColor(240, 228, 66),
        RGBColor(0, 0, 0),
    ];
    P[i % P.len()]
}

pub fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Splits the area into one panel per scope, stacked vertically.
pub fn panels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    n: usize,
) -> Vec<DrawingArea<DB, Shift>> {
    root.split_evenly((n.max(1), 1))
}

/// Panel height for `n` stacked panels.
pub fn height(n: usize) -> u32 {
    (260 * n.max(1) as u32).max(400)
}

/// Width of the legend column every chart keeps at its right: the legend
/// lives beside the plot, so it can never cover data.
pub const LEGEND_WIDTH: u32 = 270;

/// Room right of the plot for the last x tick's label ("30.0" is centred
/// on the axis' end).
pub const RIGHT_MARGIN: u32 = 24;

/// How a legend entry is drawn.
#[derive(Clone, Copy, Debug)]
pub enum Mark {
    Line(RGBAColor, u32),
    Band(RGBAColor),
    Cross(RGBColor),
    Dot(RGBColor),
    /// Text alone (a note under the entries).
    Note,
}

pub struct Entry {
    pub label: String,
    pub mark: Mark,
}

pub fn entry(label: impl Into<String>, mark: Mark) -> Entry {
    Entry {
        label: label.into(),
        mark,
    }
}

/// The plot (left) and the legend column (right) of an area.
pub fn beside_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
) -> (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>) {
    let width = area.dim_in_pixel().0;
    area.split_horizontally(width.saturating_sub(LEGEND_WIDTH))
}

/// Draws `entries` down the legend column from `top` (pixels).
pub fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    top: i32,
    entries: &[Entry],
) -> Result<(), String> {
    let x = 10;
    for (i, e) in entries.iter().enumerate() {
        let y = top + 20 * i as i32;
        let text_x = match e.mark {
            Mark::Note => x,
            _ => x + 34,
        };
        match e.mark {
            Mark::Line(color, width) => area
                .draw(&PathElement::new(
                    vec![(x, y), (x + 26, y)],
                    color.stroke_width(width),
                ))
                .map_err(err)?,
            Mark::Band(color) => area
                .draw(&Rectangle::new(
                    [(x, y - 6), (x + 26, y + 6)],
                    color.filled(),
                ))
                .map_err(err)?,
            Mark::Cross(color) => area
                .draw(&Cross::new((x + 13, y), 4, color.stroke_width(2)))
                .map_err(err)?,
            Mark::Dot(color) => area
                .draw(&Circle::new((x + 13, y), 3, color.filled()))
                .map_err(err)?,
            Mark::Note => {}
        }
        area.draw(&Text::new(
            e.label.clone(),
            (text_x, y - 7),
            (FONT, 13).into_font().color(&BLACK),
        ))
        .map_err(err)?;
    }
    Ok(())
}
