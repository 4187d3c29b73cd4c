//! Bodies built to probe how the scan reads a page in one pass (issue 14):
//! the tags it visits before a review's quote, markers longer than
//! memmem's vector loop, the first stylesheet naming the template, review
//! text that carries marker words, and large bodies with no page in them;
//! each also read in chunks, which must agree with the whole body.

mod classify_support;

use hyper::HeaderMap;
use meshdrill::classify::{Classifier, ClassifyConfig, Hay, Reading, StarColor, Template};
use meshdrill::outcome::Kind;

use classify_support::fixtures;

fn page(file: &str) -> String {
    let f = fixtures()
        .into_iter()
        .find(|f| f.file.ends_with(file))
        .unwrap();
    String::from_utf8(f.body).unwrap()
}

/// The reading of `body`, checked to be the same when it comes in two
/// chunks, cut at every 7th byte.
fn read(body: &[u8]) -> Reading {
    let mut c = Classifier::new(&ClassifyConfig::default());
    let (kind, p) = c.classify(200, &HeaderMap::new(), body);
    let whole = Reading::new("body", kind, &p, &c);
    for a in (0..=body.len()).step_by(7) {
        let parts = [&body[..a], &body[a..]];
        let (kind, p) = c.classify_parts(200, &HeaderMap::new(), &Hay::parts(&parts).unwrap());
        assert_eq!(Reading::new("body", kind, &p, &c), whole, "cut at {a}");
    }
    whole
}

fn stars(r: &Reading) -> &[u8] {
    assert_eq!(r.class, "ok", "{r:?}");
    &r.stars
}

#[test]
fn a_full_star_is_an_svg_tag_with_the_fill_attribute() {
    let v2 = page("current__v2_ok.html");
    assert_eq!(stars(&read(v2.as_bytes())), [5, 4]);
    // A `<s...` tag that is not an svg (a span) changes nothing, before or
    // inside the star row.
    let spans = v2.replacen(
        "<div class=\"flex gap-x-1 text-",
        "<span>x</span><div class=\"flex gap-x-1 text-",
        1,
    );
    assert_eq!(stars(&read(spans.as_bytes())), [5, 4]);
    let inside = v2.replacen(
        "<svg id=\"glyphicon glyphicon-star\"",
        "<span></span><svg id=\"glyphicon glyphicon-star\"",
        1,
    );
    assert_eq!(stars(&read(inside.as_bytes())), [5, 4]);
    // The attribute counts only inside the tag: after its `>`, or after a
    // stray `<` in it, it is text.
    let outside = v2.replacen(
        "viewBox=\"0 0 20 20\" fill=\"currentColor\"",
        "viewBox=\"0 0 20 20\">fill=\"currentColor\"",
        1,
    );
    assert_eq!(stars(&read(outside.as_bytes())), [4, 4]);
    let stray = v2.replacen(
        "viewBox=\"0 0 20 20\" fill=\"currentColor\"",
        "viewBox=\"0 0 20 20\" < fill=\"currentColor\"",
        1,
    );
    assert_eq!(stars(&read(stray.as_bytes())), [4, 4]);
    // The same attribute twice in one tag is one star.
    let twice = v2.replacen(
        "fill=\"currentColor\"",
        "fill=\"currentColor\" fill=\"currentColor\"",
        1,
    );
    assert_eq!(stars(&read(twice.as_bytes())), [5, 4]);
}

#[test]
fn a_section_without_a_quote_is_not_a_review() {
    let v2 = page("current__v2_ok.html");
    // A section opened inside the first review's star markup: that quote
    // belongs to the inner one, which is skipped with it.
    let nested = v2.replacen(
        "<div class=\"flex gap-x-1 text-",
        "<section></section><div class=\"flex gap-x-1 text-",
        1,
    );
    let r = read(nested.as_bytes());
    assert_eq!(r.class, "ok");
    assert_eq!(r.stars, [4]);
}

#[test]
fn markers_longer_than_the_vector_loop_are_matched_whole() {
    let v2 = page("current__v2_ok.html");
    // The title's first 32 bytes with another ending are not the title.
    let other = v2.replacen(
        "<title>Simple Bookstore App</title>",
        "<title>Simple Bookstore App</tit_e>",
        1,
    );
    assert_eq!(read(other.as_bytes()).class, "unrecognized");
    // A near miss first, the real title after it.
    let near = v2.replacen(
        "<title>Simple Bookstore App</title>",
        "<title>Simple Bookstore App</tit_e><title>Simple Bookstore App</title>",
        1,
    );
    assert_eq!(read(near.as_bytes()), read(v2.as_bytes()));
    // The ratings error's first 32 bytes alone are not the error.
    let ratings = page("current__v2_ratings_unavailable.html");
    let r = read(ratings.as_bytes());
    assert!(r.degraded.contains(&"ratings"), "{r:?}");
    let cut = ratings.replace(
        "Ratings service is currently unavailable",
        "Ratings service is currently unavailabl_",
    );
    let r = read(cut.as_bytes());
    assert!(!r.degraded.contains(&"ratings"), "{r:?}");
    // A body that ends inside the title.
    let title = b"<title>Simple Bookstore App</tit";
    assert_eq!(read(title).class, "unrecognized");
}

#[test]
fn the_first_template_stylesheet_names_the_template() {
    let legacy = page("legacy__v2_ok.html");
    let r = read(legacy.as_bytes());
    assert_eq!(r.template, Template::Legacy.as_str());
    // A Tailwind link after Bootstrap's does not make it a current page.
    let both = legacy.replacen(
        "static/bootstrap/css/bootstrap.min.css\">",
        "static/bootstrap/css/bootstrap.min.css\"><script src=\"static/tailwind/tailwind.css\"></script>",
        1,
    );
    assert_eq!(read(both.as_bytes()), r);
    // Another `static/` link first is skipped over.
    let other = legacy.replacen(
        "static/bootstrap/css/bootstrap.min.css\">",
        "static/favicon.ico\"><link href=\"static/bootstrap/css/bootstrap.min.css\">",
        1,
    );
    assert_eq!(read(other.as_bytes()), r);
}

/// Reviewers write the quote: words the scan looks for, in it, do not
/// change the stars, their colour, the ratings reading or the template
/// (Bookinfo escapes the quote's `"` and `<`, so tags cannot be forged).
#[test]
fn marker_words_in_review_text_change_nothing() {
    let words = " Ratings service is currently unavailable glyphicon glyphicon-star&#34; \
                 fill=&#34;currentColor&#34; Book Reviews</h4> Book Details</h4> \
                 static/tailwind/ static/bootstrap/ &lt;section&gt; ";
    for file in ["current__v3_ok.html", "legacy__v3_ok.html"] {
        let text = page(file);
        let whole = read(text.as_bytes());
        let hostile = text.replace("</blockquote>", &format!("{words}</blockquote>"));
        assert_ne!(hostile, text);
        let r = read(hostile.as_bytes());
        assert_eq!(r, whole, "{file}");
        assert_eq!(r.star_color, StarColor::Red.as_str(), "{file}");
    }
}

#[test]
fn large_bodies_without_a_page_are_unrecognized() {
    let mut c = Classifier::new(&ClassifyConfig::default());
    let filler = vec![b'a'; 4 << 20];
    let tags = "<s<svg fill=\"currentColor\"<section".repeat(100_000);
    let titled = "<title>Simple Bookstore App</title><script src=\"static/tailwind/tailwind.css\"></script>Book Details</h4>".to_string()
        + &"<section><svg fill=\"currentColor\">".repeat(50_000);
    for body in [&filler[..], tags.as_bytes(), titled.as_bytes()] {
        let (kind, _) = c.classify(200, &HeaderMap::new(), body);
        assert_eq!(kind, Kind::Unrecognized);
    }
}
