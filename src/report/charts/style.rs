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
