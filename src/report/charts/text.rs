//! PNG text, placed glyph by glyph with each glyph's side bearing.
//!
//! plotters 0.3.7's ab_glyph text (`style/font/ab_glyph.rs`, `draw`) puts
//! every glyph's outline at the glyph's *advance* position and drops the
//! outline's own offset (`px_bounds().min.x`, the left side bearing): a
//! narrow glyph with a wide bearing ("1", "(", "l") is drawn flush left in
//! its cell and leaves a gap after it, so "T0 10.001 s" read "T0 1 0.001 s"
//! and "run time (s)" read "run time ( s)" (plotters-rs/plotters#576 is the
//! same family of spacing bugs, open). Its `ttf` feature would need
//! fontconfig and system fonts, which the charts deliberately do without.
//! [`Glyphs`] wraps the bitmap backend and draws text itself: the same
//! bundled DejaVu font, the same layout box plotters measures with (so the
//! chart layout does not move), each outline at its true position.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    FontStyle,
};

/// A drawing backend whose text is laid out with side bearings; every other
/// call goes to the wrapped backend unchanged.
pub struct Glyphs<B>(pub B);

fn font(style: FontStyle) -> FontRef<'static> {
    let bytes = match style {
        FontStyle::Bold => dejavu::sans::bold(),
        _ => dejavu::sans::regular(),
    };
    FontRef::try_from_slice(bytes).expect("the bundled DejaVu font parses")
}

/// Where each pixel of `text` goes, relative to the text's top-left, with
/// its coverage (0..1): what [`Glyphs::draw_text`] paints.
pub fn rasterize(text: &str, style: FontStyle, size: f32, mut paint: impl FnMut(i32, i32, f32)) {
    let font = font(style);
    let scaled = font.as_scaled(PxScale::from(size));
    // plotters' convention, kept so the layout box it measured still holds
    // the text: the baseline half the font size below the box's top.
    let baseline = size / 2.0;
    let mut caret = 0f32;
    let mut previous = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = previous {
            caret += scaled.kern(p, id);
        }
        previous = Some(id);
        let glyph = id.with_scale_and_position(PxScale::from(size), point(caret, baseline));
        if let Some(outline) = font.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            outline.draw(|x, y, coverage| {
                paint(
                    bounds.min.x as i32 + x as i32,
                    bounds.min.y as i32 + y as i32,
                    coverage,
                )
            });
        }
        caret += scaled.h_advance(id);
    }
}

impl<B: DrawingBackend> DrawingBackend for Glyphs<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<B::ErrorType>> {
        self.0.estimate_text_size(text, style)
    }

    /// As plotters' default (anchor from the measured layout box, then the
    /// rotation), with [`rasterize`]'s glyph positions.
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        let (w, h) = self.get_size();
        let mut result = Ok(());
        rasterize(
            text,
            style.style(),
            style.size() as f32,
            |x, y, coverage| {
                if result.is_err() {
                    return;
                }
                let (x, y) = transform.transform(x + dx - min_x, y + dy - min_y);
                let (x, y) = (pos.0 + x, pos.1 + y);
                if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                    let pixel = BackendColor {
                        alpha: color.alpha * f64::from(coverage),
                        rgb: color.rgb,
                    };
                    result = self.0.draw_pixel((x, y), pixel);
                }
            },
        );
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns holding ink, left to right.
    fn inked_columns(text: &str) -> Vec<i32> {
        let mut columns = Vec::new();
        rasterize(text, FontStyle::Normal, 30.0, |x, _, c| {
            if c > 0.3 {
                columns.push(x);
            }
        });
        columns.sort_unstable();
        columns.dedup();
        columns
    }

    #[test]
    fn a_narrow_glyph_keeps_its_bearing_so_no_gap_opens_after_it() {
        // "10": the gap between the "1" and the "0" is what any two digits
        // have ("00"), not a hole the width of a digit.
        let gap = |text: &str| {
            let cols = inked_columns(text);
            cols.windows(2).map(|w| w[1] - w[0]).max().unwrap()
        };
        assert!(gap("10") <= gap("00") + 2, "{} vs {}", gap("10"), gap("00"));
        // The "1" starts to the right of the caret: its bearing is kept.
        assert!(inked_columns("1")[0] >= 3, "{:?}", inked_columns("1"));
    }
}
