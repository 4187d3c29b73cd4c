//! The byte strings the classifier looks for, each with its `memmem` finder
//! built once per process. Every marker is taken from the rendered
//! productpages in `shared/fixtures/bookinfo` (and the simulator's pages,
//! which copy them); a comment says which template carries it when only one
//! does. Markers are whole enough to mean one thing: `text-red-500` alone
//! also colours error paragraphs, so the star row is matched with its
//! `flex gap-x-1` prefix.

use std::sync::OnceLock;

use memchr::memmem::Finder;

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
/// Current: inside a star row's `<svg ...>` tag, a full star (an empty star
/// is `fill="none"`, like the sign-in dialog's close icon).
pub(super) const FILL_CURRENT: &[u8] = b"fill=\"currentColor\"";
/// Legacy: the star block, followed by `black">` or `red">`.
pub(super) const FONT_COLOR: &[u8] = b"<font color=\"";
pub(super) const FONT_END: &[u8] = b"</font>";
/// Legacy: a full star; the closing quote keeps `glyphicon-star-empty` out.
pub(super) const GLYPH_STAR: &[u8] = b"glyphicon glyphicon-star\"";
pub(super) const HTML_OPEN: &[u8] = b"<html";
pub(super) const HTML_END: &[u8] = b"</html>";
pub(super) const ON_CLUSTER: &[u8] = b"on cluster ";

/// Finders for the markers searched over long stretches of a body; short
/// fixed-position checks use `starts_with` instead.
pub(super) struct Finders {
    pub title: Finder<'static>,
    pub tailwind: Finder<'static>,
    pub bootstrap: Finder<'static>,
    pub details_ok: Finder<'static>,
    pub details_error: Finder<'static>,
    pub reviews_ok: Finder<'static>,
    pub reviews_error: Finder<'static>,
    pub reviews_sorry: Finder<'static>,
    pub ratings_error: Finder<'static>,
    pub served_by: Finder<'static>,
    pub blockquote: Finder<'static>,
    pub blockquote_end: Finder<'static>,
    pub section: Finder<'static>,
    pub section_end: Finder<'static>,
    pub div_end: Finder<'static>,
    pub star_row: Finder<'static>,
    pub svg: Finder<'static>,
    pub fill_current: Finder<'static>,
    pub font_color: Finder<'static>,
    pub font_end: Finder<'static>,
    pub glyph_star: Finder<'static>,
    pub html_open: Finder<'static>,
}

pub(super) fn finders() -> &'static Finders {
    static FINDERS: OnceLock<Finders> = OnceLock::new();
    FINDERS.get_or_init(|| Finders {
        title: Finder::new(TITLE),
        tailwind: Finder::new(TAILWIND),
        bootstrap: Finder::new(BOOTSTRAP),
        details_ok: Finder::new(DETAILS_OK),
        details_error: Finder::new(DETAILS_ERROR),
        reviews_ok: Finder::new(REVIEWS_OK),
        reviews_error: Finder::new(REVIEWS_ERROR),
        reviews_sorry: Finder::new(REVIEWS_SORRY),
        ratings_error: Finder::new(RATINGS_ERROR),
        served_by: Finder::new(SERVED_BY),
        blockquote: Finder::new(BLOCKQUOTE),
        blockquote_end: Finder::new(BLOCKQUOTE_END),
        section: Finder::new(SECTION),
        section_end: Finder::new(SECTION_END),
        div_end: Finder::new(DIV_END),
        star_row: Finder::new(STAR_ROW),
        svg: Finder::new(SVG),
        fill_current: Finder::new(FILL_CURRENT),
        font_color: Finder::new(FONT_COLOR),
        font_end: Finder::new(FONT_END),
        glyph_star: Finder::new(GLYPH_STAR),
        html_open: Finder::new(HTML_OPEN),
    })
}

/// `finder` in `hay[from..to]`, as an absolute position. Bounds past the end
/// are clamped, so callers can pass `from + WINDOW`.
pub(super) fn find_in(finder: &Finder<'_>, hay: &[u8], from: usize, to: usize) -> Option<usize> {
    let to = to.min(hay.len());
    if from >= to {
        return None;
    }
    finder.find(&hay[from..to]).map(|i| from + i)
}

/// `a` (the healthy page's marker) in `hay[from..]`, else `b` (what the page
/// shows in its place). `b` is only looked for when `a` is absent, so a
/// healthy page is scanned once; `Some((position, true))` means `a`.
pub(super) fn either(
    a: &Finder<'_>,
    b: &Finder<'_>,
    hay: &[u8],
    from: usize,
) -> Option<(usize, bool)> {
    if let Some(at) = find_in(a, hay, from, hay.len()) {
        return Some((at, true));
    }
    find_in(b, hay, from, hay.len()).map(|at| (at, false))
}
