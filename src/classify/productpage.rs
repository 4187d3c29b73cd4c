//! Reads a Bookinfo productpage body: which template, whether details and
//! reviews were shown or their error text was, each review's star row (or
//! ratings error), the pod and cluster named under the reviews, and whether
//! the page arrived whole. Pure bytes → [`Scan`]: no allocation, nothing
//! interned (the [`super::Classifier`] does that for the pod and cluster).
//!
//! The scan moves forward through the page in the order the templates render
//! it (head, details, reviews, tail) and bounds every search to the stretch
//! the marker can be in, so a page costs about one pass over its bytes.

use super::hay::Hay;
use super::markers::{self, Finders, finders};
use crate::outcome::page::{Backends, StarColor, Stars, Template};

/// How far after the title the stylesheet link may be.
const HEAD_WINDOW: usize = 1024;
/// How far after the reviews' error heading its "Sorry" line may be, and
/// after the last review the end of the reviews row.
const NEAR: usize = 512;
/// Longest pod name Kubernetes allows (a DNS subdomain).
pub(super) const MAX_POD: usize = 253;
/// Longest cluster name read from a page.
pub(super) const MAX_CLUSTER: usize = 63;

/// Where a name lies in the body: `from..to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Span {
    pub from: usize,
    pub to: usize,
}

/// What one body showed. `recognized` is false for anything that is not a
/// productpage of a known template; the other fields are then meaningless.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Scan {
    pub recognized: bool,
    /// Everything up to the end of the reviews section arrived, and the body
    /// ends where the template ends it (`</html>`, or `</div>` for the
    /// current template, which has no `<html>` element).
    pub complete: bool,
    pub template: Template,
    pub degraded: Backends,
    /// Review blocks shown.
    pub reviews: u8,
    /// Reviews with a star row, and their colour (`None` when rows disagree
    /// or show a colour no version uses).
    pub star_rows: u8,
    pub star_color: StarColor,
    pub stars: Stars,
    /// Reviews whose rating was replaced by the ratings error.
    pub ratings_errors: u8,
    /// The token after "Reviews served by:", when shaped like a pod name
    /// (at most [`MAX_POD`] bytes).
    pub pod: Option<Span>,
    /// A pod was shown but its name was too long or not a name.
    pub pod_malformed: bool,
    /// The name after "on cluster", when shown (at most [`MAX_CLUSTER`]).
    pub cluster: Option<Span>,
}

pub(super) fn scan(body: &Hay<'_>) -> Scan {
    let f = finders();
    let len = body.len();
    let mut s = Scan::default();
    let Some(title) = f.title.find(body, 0, len) else {
        return s;
    };
    let head_end = title + markers::TITLE.len();
    let head_to = head_end + HEAD_WINDOW;
    // The first template stylesheet after the title names the template.
    s.template = match f.stylesheet.find(body, head_end, head_to) {
        Some((_, true)) => Template::Current,
        Some((_, false)) => Template::Legacy,
        // Titled like Bookinfo, but no template we know: another build.
        None => return s,
    };

    let Some((details, shown)) = f.details.find(body, head_end, len) else {
        return s;
    };
    if !shown {
        s.degraded.insert(Backends::DETAILS);
    }
    let Some((reviews, shown)) = f.reviews.find(body, details, len) else {
        return s;
    };
    let reviews_end = if shown {
        let from = reviews + markers::REVIEWS_OK.len();
        let end = match s.template {
            Template::Current => current_reviews(f, body, from, &mut s),
            _ => legacy_reviews(f, body, from, &mut s),
        };
        if s.reviews == 0 {
            // "Book Reviews" with no reviewer under it is not a page we know.
            return s;
        }
        end
    } else {
        s.degraded.insert(Backends::REVIEWS);
        f.reviews_sorry
            .find(body, reviews, reviews + NEAR)
            .map(|at| at + markers::REVIEWS_SORRY.len())
    };
    s.recognized = true;
    s.complete = reviews_end.is_some_and(|end| ends_properly(f, body, title, end, s.template));
    s
}

/// Current template: one `<section>` per review (star row or ratings error
/// before the quote, pod and cluster after it), then the row's `</div>`.
/// Returns where the reviews end, `None` when cut short. Each stretch is
/// searched once: up to the quote, then from it to `</section>`.
fn current_reviews(f: &Finders, body: &Hay<'_>, mut at: usize, s: &mut Scan) -> Option<usize> {
    let len = body.len();
    while let Some(start) = body.find(&f.section, at, len) {
        let quote = body.find(&f.blockquote, start, len)?;
        let end = body.find(&f.section_end, quote, len)?;
        at = end + markers::SECTION_END.len();
        let rest = body
            .find(&f.star_row, start, quote)
            .map(|row| row + markers::STAR_ROW.len());
        let Some(full) = before_quote(f, body, start, quote, rest) else {
            // A section without a quote is not a review; this quote is the next one's.
            at = quote;
            continue;
        };
        s.reviews = s.reviews.saturating_add(1);
        if let Some(rest) = rest {
            let color = color_word(body, rest, quote, b"black-500", b"red-500", b"\" ");
            star_row(s, color, full);
        } else if f.ratings_error.find(body, start, quote).is_some() {
            s.ratings_errors += 1;
        }
        // Only the first review's pod is kept (legacy pages name it once).
        let pod_read = s.pod.is_some() || s.pod_malformed;
        if !pod_read && let Some(served) = body.find(&f.served_by, quote, end) {
            let after = served + markers::SERVED_BY.len();
            served_by(s, body, after, end);
        }
    }
    if s.reviews == 0 {
        return None;
    }
    body.find(&f.div_end, at, at + NEAR)
        .map(|i| i + markers::DIV_END.len())
}

/// `black`/`red` (as `black_word`/`red_word`) at `at` (before `limit`),
/// followed by one of `ends`: a whole class or attribute value.
fn color_word(
    body: &Hay<'_>,
    at: usize,
    limit: usize,
    black_word: &[u8],
    red_word: &[u8],
    ends: &[u8],
) -> StarColor {
    let is = |word: &[u8]| {
        let after = at + word.len();
        after < limit
            && body.starts_with(at, word)
            && body.byte(after).is_some_and(|b| ends.contains(&b))
    };
    if is(black_word) {
        StarColor::Black
    } else if is(red_word) {
        StarColor::Red
    } else {
        StarColor::None
    }
}

/// One pass over the tags opening with `<s` in a review section before its
/// quote (`start + 1..quote`): `None` when one is another `<section` (the
/// quote is not this section's), else the full stars of the star row that
/// starts at `rest`: its `<svg>` tags with `fill="currentColor"` (an empty
/// star is an outline, `fill="none"`).
fn before_quote(
    f: &Finders,
    body: &Hay<'_>,
    start: usize,
    quote: usize,
    rest: Option<usize>,
) -> Option<u8> {
    let mut full = 0u8;
    for lt in body.find_iter(&f.open_s, start + 1, quote) {
        if lt + markers::SECTION.len() <= quote && body.starts_with(lt, markers::SECTION) {
            return None;
        }
        let in_row = rest.is_some_and(|rest| lt >= rest);
        if !in_row || lt + markers::SVG.len() > quote || !body.starts_with(lt, markers::SVG) {
            continue;
        }
        // The tag's attributes: up to its `>` (or a stray `<`).
        let tag_end = body.find_either(b'>', b'<', lt + 1, quote).unwrap_or(quote);
        if body.find(&f.fill_current, lt, tag_end).is_some() {
            full = full.saturating_add(1);
        }
    }
    Some(full)
}

/// Legacy template: `<blockquote>` per review, one after the other (stars
/// in `<font color>` or the ratings error after the reviewer), then one
/// `<dl>` with "Reviews served by:" (absent before 2022). Returns where the
/// reviews end.
fn legacy_reviews(f: &Finders, body: &Hay<'_>, from: usize, s: &mut Scan) -> Option<usize> {
    let len = body.len();
    let mut at = body.find(&f.blockquote, from, from + NEAR)?;
    loop {
        let end = body.find(&f.blockquote_end, at, len)?;
        s.reviews = s.reviews.saturating_add(1);
        if let Some(font) = body.find(&f.font_color, at, end) {
            let rest = font + markers::FONT_COLOR.len();
            let color = color_word(body, rest, end, b"black", b"red", b"\"");
            let full = body.find_iter(&f.glyph_star, rest, end).count();
            star_row(s, color, u8::try_from(full).unwrap_or(u8::MAX));
        } else if f.ratings_error.find(body, at, end).is_some() {
            s.ratings_errors += 1;
        }
        at = end + markers::BLOCKQUOTE_END.len();
        // The next review follows at once, or the reviews are over.
        let mut next = at;
        while body.byte(next).is_some_and(|b| b.is_ascii_whitespace()) {
            next += 1;
        }
        if !body.starts_with(next, markers::BLOCKQUOTE) {
            break;
        }
        at = next;
    }
    match body.find(&f.served_by, at, at + NEAR) {
        Some(served) => {
            let after = served + markers::SERVED_BY.len();
            Some(served_by(s, body, after, len))
        }
        None => Some(at),
    }
}

fn star_row(s: &mut Scan, color: StarColor, full: u8) {
    s.star_color = if s.star_rows == 0 || s.star_color == color {
        color
    } else {
        StarColor::None
    };
    s.star_rows += 1;
    s.stars.push(full);
}

/// How far after "Reviews served by:" its pod and cluster names are read:
/// room for the longest pod name and cluster name with their tags and a
/// few hundred bytes of indentation.
const SERVED_WINDOW: usize = 1024;

/// Reads the pod (and cluster) after "Reviews served by:" (from `after`,
/// before `limit`, within [`SERVED_WINDOW`]) — current:
/// `Reviews served by: \n POD \n on cluster <div>NAME</div>`; legacy:
/// `Reviews served by:</dt> <u>POD</u> on cluster <u>NAME</u>`. Keeps the
/// first review's. Returns where it stopped reading. The names are read in
/// place when the window lies in one chunk, else from a copy on the stack.
fn served_by(s: &mut Scan, body: &Hay<'_>, after: usize, limit: usize) -> usize {
    let to = limit.min(body.len()).min(after + SERVED_WINDOW);
    match body.slice(after, to) {
        Some(text) => after + read_names(s, text, after),
        None => served_by_stitched(s, body, after, to),
    }
}

#[cold]
#[inline(never)]
fn served_by_stitched(s: &mut Scan, body: &Hay<'_>, after: usize, to: usize) -> usize {
    let mut window = [0u8; SERVED_WINDOW];
    let text = body.copy(after, to, &mut window);
    after + read_names(s, text, after)
}

/// [`served_by`] on the window's bytes `text`, which start at body offset
/// `base`; returns how far into `text` it read.
fn read_names(s: &mut Scan, text: &[u8], base: usize) -> usize {
    let mut p = Text { text, at: 0 };
    p.skip_ws();
    if p.eat(b"</dt>") {
        p.skip_ws();
    }
    let underlined = p.eat(b"<u>");
    let start = p.at;
    p.skip(NAME);
    let name = Span {
        from: base + start,
        to: base + p.at,
    };
    let closed = if underlined {
        p.eat(b"</u>")
    } else {
        p.peek()
            .is_some_and(|b| b.is_ascii_whitespace() || b == b'<')
    };
    if s.pod.is_some() || s.pod_malformed {
        return p.at;
    }
    let name_len = name.to - name.from;
    if name_len == 0 || !closed || name_len > MAX_POD {
        s.pod_malformed = name_len > 0;
        return p.at;
    }
    s.pod = Some(name);
    p.skip_ws();
    if p.eat(markers::ON_CLUSTER) {
        p.skip_ws();
        let close: &[u8] = if p.eat(b"<div>") {
            b"</div>"
        } else if p.eat(b"<u>") {
            b"</u>"
        } else {
            return p.at;
        };
        let start = p.at;
        p.skip(CLUSTER);
        let name_len = p.at - start;
        if name_len > 0 && name_len <= MAX_CLUSTER && p.eat(close) {
            s.cluster = Some(Span {
                from: base + start,
                to: base + start + name_len,
            });
        }
    }
    p.at
}

/// The body ends where the template ends a page: `</html>` when the page
/// opened `<html>` (legacy, the simulator), else the current template's
/// closing `</div>`s, with only closing tags between the reviews and it.
fn ends_properly(
    f: &Finders,
    body: &Hay<'_>,
    title: usize,
    reviews_end: usize,
    t: Template,
) -> bool {
    let (from, to) = body.trim(reviews_end.min(body.len()), body.len());
    let ends_with = |end: &[u8]| to - from >= end.len() && body.starts_with(to - end.len(), end);
    if t == Template::Legacy {
        // The legacy page's scripts follow the reviews.
        return ends_with(markers::HTML_END);
    }
    let last = if body.find(&f.html_open, 0, title).is_some() {
        markers::HTML_END
    } else {
        markers::DIV_END
    };
    to - from >= 2 && body.starts_with(from, b"</") && ends_with(last)
}

/// A read position in a short window of the body, for fixed-shape checks.
struct Text<'t> {
    text: &'t [u8],
    at: usize,
}

/// Byte classes for [`Text::skip`], one bit each in [`CLASSES`].
const WS: u8 = 1;
/// A pod name's bytes: ASCII letters and digits, `-`, `.`, `_`.
const NAME: u8 = 2;
/// A cluster name's bytes: anything but `<` and whitespace.
const CLUSTER: u8 = 4;

static CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let ws = b.is_ascii_whitespace();
        t[i] = if ws { WS } else { 0 }
            | if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_') {
                NAME
            } else {
                0
            }
            | if b != b'<' && !ws { CLUSTER } else { 0 };
        i += 1;
    }
    t
};

impl Text<'_> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    /// Moves past the bytes of `class`.
    fn skip(&mut self, class: u8) {
        let rest = &self.text[self.at..];
        let run = rest
            .iter()
            .position(|&b| CLASSES[usize::from(b)] & class == 0)
            .unwrap_or(rest.len());
        self.at += run;
    }

    fn skip_ws(&mut self) {
        self.skip(WS);
    }

    fn eat(&mut self, prefix: &[u8]) -> bool {
        let ok = self.text[self.at..].starts_with(prefix);
        if ok {
            self.at += prefix.len();
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_classes_are_the_predicates_they_stand_for() {
        for b in 0..=255u8 {
            let class = CLASSES[usize::from(b)];
            assert_eq!(class & WS != 0, b.is_ascii_whitespace(), "{b}");
            let name = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
            assert_eq!(class & NAME != 0, name, "{b}");
            let cluster = b != b'<' && !b.is_ascii_whitespace();
            assert_eq!(class & CLUSTER != 0, cluster, "{b}");
        }
    }
}
