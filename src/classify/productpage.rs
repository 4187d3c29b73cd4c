//! Reads a Bookinfo productpage body: which template, whether details and
//! reviews were shown or their error text was, each review's star row (or
//! ratings error), the pod and cluster named under the reviews, and whether
//! the page arrived whole. Pure bytes → [`Scan`]: no allocation, nothing
//! interned (the [`super::Classifier`] does that for the pod and cluster).
//!
//! The scan moves forward through the page in the order the templates render
//! it (head, details, reviews, tail) and bounds every search to the stretch
//! the marker can be in, so a page costs about one pass over its bytes.

use super::markers::{self, Finders, find_in, finders};
use crate::outcome::page::{Backends, StarColor, Stars, Template};

/// How far after the title the stylesheet link may be.
const HEAD_WINDOW: usize = 1024;
/// How far after the reviews' error heading its "Sorry" line may be, and
/// after the last review the end of the reviews row.
const NEAR: usize = 512;
/// Longest pod name Kubernetes allows (a DNS subdomain).
const MAX_POD: usize = 253;
/// Longest cluster name read from a page.
const MAX_CLUSTER: usize = 63;

/// What one body showed. `recognized` is false for anything that is not a
/// productpage of a known template; the other fields are then meaningless.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Scan<'a> {
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
    /// The token after "Reviews served by:", when shaped like a pod name.
    pub pod: Option<&'a [u8]>,
    /// A pod was shown but its name was too long or not a name.
    pub pod_malformed: bool,
    /// The name after "on cluster", when shown.
    pub cluster: Option<&'a [u8]>,
}

pub(super) fn scan(body: &[u8]) -> Scan<'_> {
    let f = finders();
    let mut s = Scan::default();
    let Some(title) = f.title.find(body) else {
        return s;
    };
    let head_end = title + markers::TITLE.len();
    let head = &body[head_end..body.len().min(head_end + HEAD_WINDOW)];
    s.template = if f.tailwind.find(head).is_some() {
        Template::Current
    } else if f.bootstrap.find(head).is_some() {
        Template::Legacy
    } else {
        // Titled like Bookinfo, but no template we know: another build.
        return s;
    };

    let Some((details, shown)) = f.details.find(body, head_end) else {
        return s;
    };
    if !shown {
        s.degraded.insert(Backends::DETAILS);
    }
    let Some((reviews, shown)) = f.reviews.find(body, details) else {
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
        find_in(&f.reviews_sorry, body, reviews, reviews + NEAR)
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
fn current_reviews<'a>(
    f: &Finders,
    body: &'a [u8],
    mut at: usize,
    s: &mut Scan<'a>,
) -> Option<usize> {
    while let Some(start) = find_in(&f.section, body, at, body.len()) {
        let quote = find_in(&f.blockquote, body, start, body.len())?;
        let end = find_in(&f.section_end, body, quote, body.len())?;
        at = end + markers::SECTION_END.len();
        if find_in(&f.section, body, start + 1, quote).is_some() {
            // A section without a quote is not a review; this quote is the next one's.
            at = quote;
            continue;
        }
        s.reviews = s.reviews.saturating_add(1);
        let before = &body[start..quote];
        if let Some(row) = f.star_row.find(before) {
            let rest = &before[row + markers::STAR_ROW.len()..];
            let color = color_word(rest, b"black-500", b"red-500", b"\" ");
            star_row(s, color, count_svg_stars(f, rest));
        } else if f.ratings_error.find(before).is_some() {
            s.ratings_errors += 1;
        }
        if let Some(served) = find_in(&f.served_by, body, quote, end) {
            let after = served + markers::SERVED_BY.len();
            served_by(s, &body[after..end]);
        }
    }
    if s.reviews == 0 {
        return None;
    }
    find_in(&f.div_end, body, at, at + NEAR).map(|i| i + markers::DIV_END.len())
}

/// `black`/`red` (as `black_word`/`red_word`) at the start of `rest`,
/// followed by one of `ends`: a whole class or attribute value.
fn color_word(rest: &[u8], black_word: &[u8], red_word: &[u8], ends: &[u8]) -> StarColor {
    let is = |word: &[u8]| {
        rest.starts_with(word) && rest.get(word.len()).is_some_and(|b| ends.contains(b))
    };
    if is(black_word) {
        StarColor::Black
    } else if is(red_word) {
        StarColor::Red
    } else {
        StarColor::None
    }
}

/// Full stars in a current star row (up to the review's quote): `<svg`
/// tags with `fill="currentColor"`; empty stars are outlines, `fill="none"`.
fn count_svg_stars(f: &Finders, row: &[u8]) -> u8 {
    let mut full = 0u8;
    for fill in f.fill_current.find_iter(row) {
        // Counted only as an attribute of the `<svg>` tag itself.
        let tag = memchr::memrchr(b'<', &row[..fill]).map(|lt| &row[lt..fill]);
        if tag.is_some_and(|t| t.starts_with(markers::SVG) && !t.contains(&b'>')) {
            full = full.saturating_add(1);
        }
    }
    full
}

/// Legacy template: `<blockquote>` per review, one after the other (stars
/// in `<font color>` or the ratings error after the reviewer), then one
/// `<dl>` with "Reviews served by:" (absent before 2022). Returns where the
/// reviews end.
fn legacy_reviews<'a>(f: &Finders, body: &'a [u8], from: usize, s: &mut Scan<'a>) -> Option<usize> {
    let mut at = find_in(&f.blockquote, body, from, from + NEAR)?;
    loop {
        let end = find_in(&f.blockquote_end, body, at, body.len())?;
        let quote = &body[at..end];
        s.reviews = s.reviews.saturating_add(1);
        if let Some(font) = f.font_color.find(quote) {
            let rest = &quote[font + markers::FONT_COLOR.len()..];
            let color = color_word(rest, b"black", b"red", b"\"");
            let full = f.glyph_star.find_iter(rest).count();
            star_row(s, color, u8::try_from(full).unwrap_or(u8::MAX));
        } else if f.ratings_error.find(quote).is_some() {
            s.ratings_errors += 1;
        }
        at = end + markers::BLOCKQUOTE_END.len();
        // The next review follows at once, or the reviews are over.
        let next = at
            + body[at..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
        if !body[next..].starts_with(markers::BLOCKQUOTE) {
            break;
        }
        at = next;
    }
    match find_in(&f.served_by, body, at, at + NEAR) {
        Some(served) => {
            let after = served + markers::SERVED_BY.len();
            Some(after + served_by(s, &body[after..]))
        }
        None => Some(at),
    }
}

fn star_row(s: &mut Scan<'_>, color: StarColor, full: u8) {
    s.star_color = if s.star_rows == 0 || s.star_color == color {
        color
    } else {
        StarColor::None
    };
    s.star_rows += 1;
    s.stars.push(full);
}

/// Reads the pod (and cluster) after "Reviews served by:" — current:
/// `Reviews served by: \n POD \n on cluster <div>NAME</div>`; legacy:
/// `Reviews served by:</dt> <u>POD</u> on cluster <u>NAME</u>`. Keeps the
/// first review's. Returns how far into `after` it read (relative to the
/// marker's end, plus the marker's absolute position, for the legacy caller).
fn served_by<'a>(s: &mut Scan<'a>, after: &'a [u8]) -> usize {
    let mut p = Cursor { hay: after, at: 0 };
    p.skip_ws();
    if p.eat(b"</dt>") {
        p.skip_ws();
    }
    let underlined = p.eat(b"<u>");
    let start = p.at;
    p.skip(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    let name = &after[start..p.at];
    let closed = if underlined {
        p.eat(b"</u>")
    } else {
        p.peek()
            .is_some_and(|b| b.is_ascii_whitespace() || b == b'<')
    };
    if s.pod.is_some() || s.pod_malformed {
        return p.at;
    }
    if name.is_empty() || !closed || name.len() > MAX_POD {
        s.pod_malformed = !name.is_empty();
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
        p.skip(|b| b != b'<' && !b.is_ascii_whitespace());
        let name = &after[start..p.at];
        if !name.is_empty() && name.len() <= MAX_CLUSTER && p.eat(close) {
            s.cluster = Some(name);
        }
    }
    p.at
}

/// The body ends where the template ends a page: `</html>` when the page
/// opened `<html>` (legacy, the simulator), else the current template's
/// closing `</div>`s, with only closing tags between the reviews and it.
fn ends_properly(f: &Finders, body: &[u8], title: usize, reviews_end: usize, t: Template) -> bool {
    let tail = body[reviews_end.min(body.len())..].trim_ascii();
    if t == Template::Legacy {
        // The legacy page's scripts follow the reviews.
        return tail.ends_with(markers::HTML_END);
    }
    let last = if f.html_open.find(&body[..title]).is_some() {
        markers::HTML_END
    } else {
        markers::DIV_END
    };
    tail.starts_with(b"</") && tail.ends_with(last)
}

/// A read position in a short slice, for fixed-shape checks.
struct Cursor<'a> {
    hay: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.hay.get(self.at).copied()
    }

    fn skip(&mut self, keep: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&keep) {
            self.at += 1;
        }
    }

    fn skip_ws(&mut self) {
        self.skip(|b| b.is_ascii_whitespace());
    }

    fn eat(&mut self, prefix: &[u8]) -> bool {
        let ok = self.hay[self.at..].starts_with(prefix);
        if ok {
            self.at += prefix.len();
        }
        ok
    }
}
