//! The byte strings the classifier looks for, each with its `memmem` finder
//! built once per process. Every marker is taken from the rendered
//! productpages in `shared/fixtures/bookinfo` (and the simulator's pages,
//! which copy them); a comment says which template carries it when only one
//! does. Markers are whole enough to mean one thing: `text-red-500` alone
//! also colours error paragraphs, so the star row is matched with its
//! `flex gap-x-1` prefix.

use std::sync::OnceLock;

use memchr::arch::all::packedpair::HeuristicFrequencyRank;
use memchr::memmem::{Finder, FinderBuilder};

use super::hay::Hay;

pub(super) const TITLE: &[u8] = b"<title>Simple Bookstore App</title>";
/// Current: `<script src="static/tailwind/tailwind.css">` right after the title.
pub(super) const TAILWIND: &[u8] = b"static/tailwind/";
/// Legacy: `<link rel="stylesheet" href="static/bootstrap/css/bootstrap.min.css">`.
pub(super) const BOOTSTRAP: &[u8] = b"static/bootstrap/";
pub(super) const DETAILS_OK: &[u8] = b"Book Details</h4>";
pub(super) const DETAILS_ERROR: &[u8] = b"Error fetching product details";
pub(super) const REVIEWS_OK: &[u8] = b"Book Reviews</h4>";
pub(super) const REVIEWS_ERROR: &[u8] = b"Error fetching product reviews";
/// Ends the reviews section when the reviews call failed (both templates).
pub(super) const REVIEWS_SORRY: &[u8] =
    b"Sorry, product reviews are currently unavailable for this book.</p>";
pub(super) const RATINGS_ERROR: &[u8] = b"Ratings service is currently unavailable";
pub(super) const SERVED_BY: &[u8] = b"Reviews served by:";
pub(super) const BLOCKQUOTE: &[u8] = b"<blockquote";
pub(super) const BLOCKQUOTE_END: &[u8] = b"</blockquote>";
/// Current: one `<section>` per review.
pub(super) const SECTION: &[u8] = b"<section";
pub(super) const SECTION_END: &[u8] = b"</section>";
pub(super) const DIV_END: &[u8] = b"</div>";
/// Current: the star row, followed by `black-500"` or `red-500"`.
pub(super) const STAR_ROW: &[u8] = b"<div class=\"flex gap-x-1 text-";
pub(super) const SVG: &[u8] = b"<svg";
/// What `<section` and `<svg` begin with: one search finds both.
pub(super) const OPEN_S: &[u8] = b"<s";
/// Current: inside a star row's `<svg ...>` tag, a full star (an empty star
/// is `fill="none"`, like the sign-in dialog's close icon).
pub(super) const FILL_CURRENT: &[u8] = b"fill=\"currentColor\"";
/// Legacy: the star block, followed by `black">` or `red">`.
pub(super) const FONT_COLOR: &[u8] = b"<font color=\"";
/// Legacy: a full star; the closing quote keeps `glyphicon-star-empty` out.
pub(super) const GLYPH_STAR: &[u8] = b"glyphicon glyphicon-star\"";
pub(super) const HTML_OPEN: &[u8] = b"<html";
pub(super) const HTML_END: &[u8] = b"</html>";
pub(super) const ON_CLUSTER: &[u8] = b"on cluster ";

/// Finders for the markers searched over long stretches of a body; short
/// fixed-position checks use `starts_with` instead.
pub(super) struct Finders {
    pub title: Long,
    /// Tailwind's (`ok`: current) or Bootstrap's (legacy) stylesheet.
    pub stylesheet: Either,
    pub details: Either,
    pub reviews: Either,
    pub reviews_sorry: Long,
    pub ratings_error: Long,
    pub served_by: Finder<'static>,
    pub blockquote: Finder<'static>,
    pub blockquote_end: Finder<'static>,
    pub section: Finder<'static>,
    /// A tag whose name starts with `s`: `<section`, `<svg`.
    pub open_s: Finder<'static>,
    pub section_end: Finder<'static>,
    pub div_end: Finder<'static>,
    pub star_row: Finder<'static>,
    pub fill_current: Finder<'static>,
    pub font_color: Finder<'static>,
    pub glyph_star: Finder<'static>,
    pub html_open: Finder<'static>,
}

pub(super) fn finders() -> &'static Finders {
    static FINDERS: OnceLock<Finders> = OnceLock::new();
    FINDERS.get_or_init(|| Finders {
        title: Long::new(TITLE),
        stylesheet: Either::new(TAILWIND, BOOTSTRAP, b"static/"),
        details: Either::new(DETAILS_OK, DETAILS_ERROR, b"etails"),
        reviews: Either::new(REVIEWS_OK, REVIEWS_ERROR, b"eviews"),
        reviews_sorry: Long::new(REVIEWS_SORRY),
        ratings_error: Long::new(RATINGS_ERROR),
        served_by: finder(SERVED_BY),
        blockquote: finder(BLOCKQUOTE),
        blockquote_end: finder(BLOCKQUOTE_END),
        section: finder(SECTION),
        open_s: finder(OPEN_S),
        section_end: finder(SECTION_END),
        div_end: finder(DIV_END),
        star_row: finder(STAR_ROW),
        fill_current: finder(FILL_CURRENT),
        font_color: finder(FONT_COLOR),
        glyph_star: finder(GLYPH_STAR),
        html_open: finder(HTML_OPEN),
    })
}

/// Longest needle `memmem` searches with its vector loop; a longer one
/// gets Two-Way, which reads a byte at a time (several times slower).
const PACKED: usize = 32;

/// A marker longer than [`PACKED`]: its first `PACKED` bytes are searched
/// with the vector loop and each hit is checked for the rest.
pub(super) struct Long {
    head: Finder<'static>,
    whole: &'static [u8],
}

impl Long {
    fn new(whole: &'static [u8]) -> Long {
        Long {
            head: finder(&whole[..whole.len().min(PACKED)]),
            whole,
        }
    }

    /// The first `whole` lying in `from..to`, as [`Hay::find`] finds it.
    pub(super) fn find(&self, hay: &Hay<'_>, from: usize, to: usize) -> Option<usize> {
        let to = to.min(hay.len());
        let mut at = from;
        while let Some(hit) = hay.find(&self.head, at, to) {
            if hit + self.whole.len() <= to && hay.starts_with(hit, self.whole) {
                return Some(hit);
            }
            at = hit + 1;
        }
        None
    }
}

/// A marker of a healthy page (`ok`) and the error text a page shows in
/// its place (`err`), found in one pass by searching what both contain
/// (`common`) and checking which one each hit is part of.
pub(super) struct Either {
    common: Finder<'static>,
    ok: &'static [u8],
    ok_at: usize,
    err: &'static [u8],
    err_at: usize,
}

impl Either {
    fn new(ok: &'static [u8], err: &'static [u8], common: &'static [u8]) -> Either {
        let at = |text: &[u8]| {
            memchr::memmem::find(text, common).expect("the common part is in both markers")
        };
        Either {
            common: finder(common),
            ok_at: at(ok),
            ok,
            err_at: at(err),
            err,
        }
    }

    /// The first of `ok` or `err` lying in `from..to`: `Some((position,
    /// true))` for `ok`.
    pub(super) fn find(&self, hay: &Hay<'_>, from: usize, to: usize) -> Option<(usize, bool)> {
        let to = to.min(hay.len());
        let within = |start: usize, marker: &[u8]| {
            start >= from && start + marker.len() <= to && hay.starts_with(start, marker)
        };
        for at in hay.find_iter(&self.common, from, to) {
            if let Some(start) = at.checked_sub(self.ok_at)
                && within(start, self.ok)
            {
                return Some((start, true));
            }
            if let Some(start) = at.checked_sub(self.err_at)
                && within(start, self.err)
            {
                return Some((start, false));
            }
        }
        None
    }
}

/// A forward finder that picks its prefilter bytes by how rare they are in
/// productpage HTML, not in general text: memchr's default table thinks
/// `<`, `/`, `"` and `x` are rare, and in Tailwind markup they are not.
fn finder(needle: &'static [u8]) -> Finder<'static> {
    FinderBuilder::new().build_forward_with_ranker(HtmlRank, needle)
}

struct HtmlRank;

impl HeuristicFrequencyRank for HtmlRank {
    fn rank(&self, byte: u8) -> u8 {
        HTML_RANK[usize::from(byte)]
    }
}

/// Byte frequency rank (0 rarest, 255 most common) in the 26 productpage
/// fixtures of `shared/fixtures/bookinfo`: bytes sorted by count, ranks
/// spread over 1..=255; 0 for bytes that never occur.
#[rustfmt::skip]
const HTML_RANK: [u8; 256] = [
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0, 214,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    255,  90, 227,  75,  28,   0,  16,  87, 109, 112,   0,   0,  78, 245, 202, 177,
    189, 186, 158, 143, 149, 146, 152, 131, 137, 124, 134,  69, 205, 196, 208,   4,
      0,  59, 118, 115,  47,  97,  19,   0,   0,  93,  31,   0, 106,  66,  44,  35,
     62,   0,  56, 121,  84,  38,   0,  41,  25,  22,   1,   0,   0,   0,   0,  72,
      0, 239, 168, 211, 220, 248, 162, 174, 171, 236, 100, 128, 233, 193, 224, 230,
    199, 103, 217, 242, 251, 180, 183, 140, 165, 155,  81,  50,   0,  53,   0,   0,
      0,   0,   0,   0,   0,   0,   7,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,  10,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,  13,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_marker_can_be_found_across_a_chunk_boundary() {
        let markers = [
            TITLE,
            TAILWIND,
            BOOTSTRAP,
            DETAILS_OK,
            DETAILS_ERROR,
            REVIEWS_OK,
            REVIEWS_ERROR,
            REVIEWS_SORRY,
            RATINGS_ERROR,
            SERVED_BY,
            BLOCKQUOTE,
            BLOCKQUOTE_END,
            SECTION,
            SECTION_END,
            DIV_END,
            STAR_ROW,
            SVG,
            OPEN_S,
            FILL_CURRENT,
            FONT_COLOR,
            GLYPH_STAR,
            HTML_OPEN,
            HTML_END,
            ON_CLUSTER,
        ];
        for m in markers {
            assert!(
                m.len() <= super::super::hay::MAX_NEEDLE,
                "{}",
                String::from_utf8_lossy(m)
            );
        }
    }
}
