//! Productpage bodies the simulated gateways serve, rendered once at start in
//! the configured [`Template`] and then only cloned (`Bytes` is a refcount),
//! so a request costs no formatting. Also owns the reviews pod names.
//!
//! The pages are our own small documents. They carry the same markers as the
//! real Bookinfo productpage (star markup and colour, "Reviews served by" pod
//! and cluster, the error text of a failed reviews call) because the
//! classifier reads exactly those; everything else is trimmed.

use std::fmt::Write as _;
use std::sync::LazyLock;

use bytes::Bytes;
use hyper::header::HeaderValue;

use super::{Cluster, Template};

/// Reviews versions, in the order of `SimConfig::reviews_mix`.
pub const VERSIONS: [u8; 3] = [1, 2, 3];

/// Full stars per review, as the ratings service's defaults: Reviewer1 gives
/// 5, Reviewer2 gives 4 (so one empty star shows).
pub const STARS: [u8; 2] = [5, 4];

/// Reviewers in page order, paired with [`STARS`].
const REVIEWS: [(&str, &str); 2] = [
    (
        "Reviewer1",
        "Twins, mix-ups and a farce that still lands after four centuries.",
    ),
    (
        "Reviewer2",
        "Great fun on stage, if lighter than the later comedies.",
    ),
];

/// Name of the reviews pod of `version` (1, 2 or 3) in `cluster`, shaped like a
/// Deployment's pod (`reviews-v2-<10 hex>-<5 chars>`). Stable across runs and
/// different per cluster, so a test or a drill can tell which cluster answered.
///
/// # Panics
/// If `version` is not 1, 2 or 3.
pub fn pod_name(cluster: Cluster, version: u8) -> &'static str {
    assert!(
        (1..=3).contains(&version),
        "reviews version {version} (expected 1, 2 or 3)"
    );
    &POD_NAMES[cluster.index()][usize::from(version) - 1]
}

static POD_NAMES: LazyLock<[[String; 3]; 2]> =
    LazyLock::new(|| Cluster::ALL.map(|c| VERSIONS.map(|v| derive_pod_name(c.name(), v))));

/// Kubernetes' alphabet for generated name suffixes (no vowels, no 0/1/3).
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `reviews-v<version>-<pod-template-hash>-<suffix>`, both parts derived from
/// an FNV-1a hash of the cluster name and version instead of randomness.
fn derive_pod_name(cluster: &str, version: u8) -> String {
    // FNV alone barely changes its high bits for a different last byte, so
    // finish with an avalanche mix: v1, v2 and v3 get unrelated hashes, like
    // three Deployments do.
    let h = avalanche(fnv1a_continue(
        fnv1a(cluster.as_bytes()),
        &[b'/', b'v', b'0' + version],
    ));
    let mut name = format!("reviews-v{version}-{:010x}-", h >> 24);
    let mut s = h.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15;
    for _ in 0..5 {
        s = s
            .wrapping_mul(0x5851_f42d_4c95_7f2d)
            .wrapping_add(1442695040888963407);
        name.push(char::from(
            SUFFIX_ALPHABET[((s >> 33) % SUFFIX_ALPHABET.len() as u64) as usize],
        ));
    }
    name
}

/// SplitMix64's finaliser.
fn avalanche(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_continue(0xcbf2_9ce4_8422_2325, bytes)
}

fn fnv1a_continue(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// What a page shows in place of the reviews.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageState {
    /// Reviews served by `version`'s pod in `cluster` (the cluster the page
    /// names, which is the other one under `SimFault::CrossCluster`).
    Reviews { cluster: Cluster, version: u8 },
    /// The reviews call failed: the page says so and still answers 200.
    ReviewsUnavailable,
}

/// A pre-rendered body with its `content-length` value, both cheap to clone.
#[derive(Clone, Debug)]
pub struct Body {
    pub bytes: Bytes,
    pub content_length: HeaderValue,
}

impl Body {
    pub fn new(bytes: Bytes) -> Body {
        let content_length = HeaderValue::from(bytes.len());
        Body {
            bytes,
            content_length,
        }
    }
}

/// Every productpage variant of one template.
#[derive(Debug)]
pub struct Pages {
    /// `[cluster named in the page][version - 1]`.
    reviews: [[Body; 3]; 2],
    unavailable: Body,
}

impl Pages {
    pub fn render(template: Template) -> Pages {
        let body = |state| Body::new(Bytes::from(render(template, state)));
        Pages {
            reviews: Cluster::ALL.map(|cluster| {
                VERSIONS.map(|version| body(PageState::Reviews { cluster, version }))
            }),
            unavailable: body(PageState::ReviewsUnavailable),
        }
    }

    pub fn reviews(&self, cluster: Cluster, version: u8) -> &Body {
        &self.reviews[cluster.index()][usize::from(version.clamp(1, 3)) - 1]
    }

    pub fn unavailable(&self) -> &Body {
        &self.unavailable
    }
}

/// The full page for one state. Start-up only: it formats freely.
pub fn render(template: Template, state: PageState) -> String {
    let mut page = String::with_capacity(4096);
    match template {
        Template::Current => current::page(&mut page, state),
        Template::Legacy => legacy::page(&mut page, state),
    }
    page
}

/// Star colour of a version's ratings (v1 shows no ratings).
fn colour(version: u8) -> Option<&'static str> {
    match version {
        2 => Some("black"),
        3 => Some("red"),
        _ => None,
    }
}

/// The Tailwind page of the bookinfo 1.20.x images: SVG stars, colour as a
/// `text-<colour>-500` class on the star row, pod and cluster under each review.
mod current {
    use super::*;

    const HEAD: &str = r##"<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Simple Bookstore App</title>
<script src="static/tailwind/tailwind.css"></script>
</head>
<body>
<nav class="bg-gray-800"><a href="#" class="text-white px-3 py-2 text-lg font-medium">BookInfo Sample</a></nav>

<!-- Book description section -->
<div class="container mt-8 mx-auto px-4">
  <h1 class="text-5xl font-bold tracking-tight text-blue-900">The Comedy of Errors</h1>
  <p class="mt-6 text-xl leading-8 text-gray-600">Summary: Shakespeare's shortest play, a comedy of two pairs of twins.</p>
</div>

<!-- Book details table -->
<div class="container mt-8 mx-auto px-4">
  <h4 class="text-3xl font-semibold">Book Details</h4>
  <table class="min-w-full divide-y divide-gray-300">
    <tr><th>ISBN-10</th><th>Publisher</th><th>Pages</th><th>Type</th><th>Language</th></tr>
    <tr><td>1234567890</td><td>PublisherA</td><td>200</td><td>paperback</td><td>English</td></tr>
  </table>
</div>

<!-- Book reviews section -->
<div class="bg-blue-600/5 py-12 mx-auto">
  <div class="container mx-auto px-4">
"##;

    const TAIL: &str = "  </div>\n</div>\n</body>\n</html>\n";

    /// Opening tag of a full star; the classifier counts these.
    pub const FULL_STAR: &str = r#"<svg id="glyphicon glyphicon-star" class="h-5 w-5 flex-none" viewBox="0 0 20 20" fill="currentColor" aria-hidden="true">"#;
    const FULL_STAR_PATH: &str = r#"<path d="M10 1.5l2.6 5.6 6.1.6-4.6 4.1 1.3 6-5.4-3.1-5.4 3.1 1.3-6-4.6-4.1 6.1-.6z"/></svg>"#;
    /// Opening tag of an empty star: outline only, 24×24.
    pub const EMPTY_STAR: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" fill="none" viewBox="0 0 24 24" stroke-width="1.5" stroke="currentColor" class="h-5 w-5 flex-none">"#;
    const EMPTY_STAR_PATH: &str = r#"<path stroke-linejoin="round" d="M12 2.5l2.9 6.2 6.8.7-5.1 4.6 1.4 6.7L12 17.3l-6 3.4 1.4-6.7-5.1-4.6 6.8-.7z"/></svg>"#;

    pub const REVIEWS_ERROR: &str =
        r#"<p class="text-2xl text-red-500">Error fetching product reviews</p>"#;
    pub const REVIEWS_SORRY: &str = r#"<p class="text-lg text-gray-600">Sorry, product reviews are currently unavailable for this book.</p>"#;

    pub fn page(out: &mut String, state: PageState) {
        out.push_str(HEAD);
        match state {
            PageState::Reviews { cluster, version } => {
                out.push_str("    <h4 class=\"text-3xl font-semibold\">Book Reviews</h4>\n");
                out.push_str("    <div class=\"flex flex-col md:flex-row\">\n");
                for ((reviewer, text), stars) in REVIEWS.into_iter().zip(STARS) {
                    review(out, reviewer, text, stars, cluster, version);
                }
                out.push_str("    </div>\n");
            }
            PageState::ReviewsUnavailable => {
                let _ = write!(out, "    {REVIEWS_ERROR}\n    {REVIEWS_SORRY}\n");
            }
        }
        out.push_str(TAIL);
    }

    fn review(
        out: &mut String,
        reviewer: &str,
        text: &str,
        stars: u8,
        cluster: Cluster,
        version: u8,
    ) {
        out.push_str("      <section class=\"px-6 py-12\">\n");
        if let Some(colour) = colour(version) {
            let _ = writeln!(
                out,
                "        <div class=\"flex gap-x-1 text-{colour}-500\">"
            );
            for _ in 0..stars {
                let _ = writeln!(out, "          {FULL_STAR}{FULL_STAR_PATH}");
            }
            for _ in stars..5 {
                let _ = writeln!(out, "          {EMPTY_STAR}{EMPTY_STAR_PATH}");
            }
            out.push_str("        </div>\n");
        }
        let _ = write!(
            out,
            "        <blockquote class=\"mt-10 text-xl font-semibold\"><p>\"{text}\"</p></blockquote>
        <div class=\"font-semibold text-gray-900\">{reviewer}</div>
        <div class=\"mt-0.5 text-gray-600 font-mono\">Reviews served by: 
          {pod}
          on cluster <div>{cluster}</div>
        </div>
      </section>
",
            pod = pod_name(cluster, version),
            cluster = cluster.name(),
        );
    }
}

/// The Bootstrap 3 page (istio/istio 2022–2023): glyphicon spans inside
/// `<font color>`, one "Reviews served by" line after the reviews.
mod legacy {
    use super::*;

    const HEAD: &str = r##"<!DOCTYPE html>
<html>
<head>
<title>Simple Bookstore App</title>
<meta charset="utf-8">
<link rel="stylesheet" href="static/bootstrap/css/bootstrap.min.css">
</head>
<body>
<nav class="navbar navbar-inverse navbar-static-top"><div class="container"><a class="navbar-brand" href="#">BookInfo Sample</a></div></nav>
<div class="container-fluid">
  <div class="row">
    <div class="col-md-12">
      <h3 class="text-center text-primary">The Comedy of Errors</h3>
      <p>Summary: Shakespeare's shortest play, a comedy of two pairs of twins.</p>
    </div>
  </div>
  <div class="row">
    <div class="col-md-6">
      <h4 class="text-center text-primary">Book Details</h4>
      <dl>
        <dt>Type:</dt>paperback
        <dt>Pages:</dt>200
        <dt>Publisher:</dt>PublisherA
        <dt>Language:</dt>English
        <dt>ISBN-10:</dt>1234567890
      </dl>
    </div>
    <div class="col-md-6">
"##;

    const TAIL: &str = "    </div>\n  </div>\n</div>\n</body>\n</html>\n";

    pub const FULL_STAR: &str = r#"<span class="glyphicon glyphicon-star"></span>"#;
    pub const EMPTY_STAR: &str = r#"<span class="glyphicon glyphicon-star-empty"></span>"#;
    pub const REVIEWS_ERROR: &str =
        r#"<h4 class="text-center text-primary">Error fetching product reviews!</h4>"#;
    pub const REVIEWS_SORRY: &str =
        "<p>Sorry, product reviews are currently unavailable for this book.</p>";

    pub fn page(out: &mut String, state: PageState) {
        out.push_str(HEAD);
        match state {
            PageState::Reviews { cluster, version } => {
                out.push_str("      <h4 class=\"text-center text-primary\">Book Reviews</h4>\n");
                for ((reviewer, text), stars) in REVIEWS.into_iter().zip(STARS) {
                    let _ = write!(
                        out,
                        "      <blockquote>\n        <p>{text}</p>\n        <small>{reviewer}</small>\n"
                    );
                    if let Some(colour) = colour(version) {
                        let _ = writeln!(out, "        <font color=\"{colour}\">");
                        for _ in 0..stars {
                            let _ = writeln!(out, "          {FULL_STAR}");
                        }
                        for _ in stars..5 {
                            let _ = writeln!(out, "          {EMPTY_STAR}");
                        }
                        out.push_str("        </font>\n");
                    }
                    out.push_str("      </blockquote>\n");
                }
                let _ = write!(
                    out,
                    "      <dl>
        <dt>Reviews served by:</dt>
        <u>{pod}</u>
        on cluster <u>{cluster}</u>
      </dl>
",
                    pod = pod_name(cluster, version),
                    cluster = cluster.name(),
                );
            }
            PageState::ReviewsUnavailable => {
                let _ = write!(out, "      {REVIEWS_ERROR}\n      {REVIEWS_SORRY}\n");
            }
        }
        out.push_str(TAIL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    /// The star rows of a Current page, one per review, as (colour, full, empty).
    fn current_star_rows(page: &str) -> Vec<(String, usize, usize)> {
        page.split("<div class=\"flex gap-x-1 text-")
            .skip(1)
            .map(|rest| {
                let colour = rest.split('-').next().unwrap().to_string();
                let row = rest.split("</div>").next().unwrap();
                (
                    colour,
                    count(row, current::FULL_STAR),
                    count(row, current::EMPTY_STAR),
                )
            })
            .collect()
    }

    #[test]
    fn pod_names_are_shaped_like_deployment_pods() {
        for cluster in Cluster::ALL {
            for v in VERSIONS {
                let pod = pod_name(cluster, v);
                let prefix = format!("reviews-v{v}-");
                let rest = pod.strip_prefix(&prefix).unwrap_or_else(|| panic!("{pod}"));
                let (hash, suffix) = rest.split_once('-').unwrap();
                assert_eq!(hash.len(), 10, "{pod}");
                assert!(
                    hash.bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
                    "{pod}"
                );
                assert_eq!(suffix.len(), 5, "{pod}");
                assert!(
                    suffix.bytes().all(|b| SUFFIX_ALPHABET.contains(&b)),
                    "{pod}"
                );
            }
        }
    }

    #[test]
    fn pod_names_are_stable_and_distinct() {
        let mut all: Vec<&str> = Cluster::ALL
            .iter()
            .flat_map(|&c| VERSIONS.map(|v| pod_name(c, v)))
            .collect();
        assert_eq!(pod_name(Cluster::Primary, 2), derive_pod_name("primary", 2));
        // Pinned: tests and drill baselines elsewhere may quote these names.
        assert_eq!(pod_name(Cluster::Primary, 2), "reviews-v2-068671e116-87nzd");
        assert_eq!(
            pod_name(Cluster::Secondary, 3),
            "reviews-v3-e37d109128-fhfwm"
        );
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 6);
    }

    #[test]
    fn current_reviews_pages_carry_the_markers() {
        for cluster in Cluster::ALL {
            for version in VERSIONS {
                let page = render(Template::Current, PageState::Reviews { cluster, version });
                assert!(page.contains("The Comedy of Errors"));
                assert!(page.contains(">Book Details</h4>"));
                assert!(page.contains(">Book Reviews</h4>"));
                assert_eq!(count(&page, "Reviewer1"), 1);
                assert_eq!(count(&page, "Reviewer2"), 1);
                let served = format!(
                    "Reviews served by: \n          {}\n",
                    pod_name(cluster, version)
                );
                assert_eq!(count(&page, &served), 2, "{page}");
                let on = format!("on cluster <div>{}</div>", cluster.name());
                assert_eq!(count(&page, &on), 2);
                assert_eq!(
                    count(&page, cluster.other().name()),
                    0,
                    "other cluster named"
                );
                let rows = current_star_rows(&page);
                match colour(version) {
                    None => assert!(rows.is_empty() && !page.contains("glyphicon")),
                    Some(c) => assert_eq!(rows, [(c.to_string(), 5, 0), (c.to_string(), 4, 1)]),
                }
            }
        }
    }

    #[test]
    fn legacy_reviews_pages_carry_the_markers() {
        for cluster in Cluster::ALL {
            for version in VERSIONS {
                let page = render(Template::Legacy, PageState::Reviews { cluster, version });
                assert!(
                    page.contains(
                        "<h3 class=\"text-center text-primary\">The Comedy of Errors</h3>"
                    )
                );
                assert!(page.contains(">Book Details</h4>"));
                assert!(page.contains(">Book Reviews</h4>"));
                assert!(page.contains("<dt>Reviews served by:</dt>"));
                assert_eq!(
                    count(&page, &format!("<u>{}</u>", pod_name(cluster, version))),
                    1
                );
                assert_eq!(
                    count(&page, &format!("on cluster <u>{}</u>", cluster.name())),
                    1
                );
                let blocks: Vec<&str> = page.split("<font color=\"").skip(1).collect();
                match colour(version) {
                    None => assert!(blocks.is_empty() && !page.contains("glyphicon")),
                    Some(c) => {
                        let stars: Vec<(bool, usize, usize)> = blocks
                            .iter()
                            .map(|b| {
                                let b = b.split("</font>").next().unwrap();
                                (
                                    b.starts_with(&format!("{c}\"")),
                                    count(b, legacy::FULL_STAR),
                                    count(b, legacy::EMPTY_STAR),
                                )
                            })
                            .collect();
                        assert_eq!(stars, [(true, 5, 0), (true, 4, 1)]);
                    }
                }
            }
        }
    }

    #[test]
    fn unavailable_pages_show_the_error_and_no_reviews() {
        for (template, error, sorry) in [
            (
                Template::Current,
                current::REVIEWS_ERROR,
                current::REVIEWS_SORRY,
            ),
            (
                Template::Legacy,
                legacy::REVIEWS_ERROR,
                legacy::REVIEWS_SORRY,
            ),
        ] {
            let page = render(template, PageState::ReviewsUnavailable);
            assert!(page.contains(error) && page.contains("Error fetching product reviews"));
            assert!(
                page.contains(sorry)
                    && page.contains(
                        "Sorry, product reviews are currently unavailable for this book."
                    )
            );
            assert!(page.contains("The Comedy of Errors") && page.contains(">Book Details</h4>"));
            for absent in [
                "Book Reviews",
                "Reviews served by",
                "glyphicon",
                "Reviewer1",
                "on cluster",
            ] {
                assert!(!page.contains(absent), "{template:?} shows {absent}");
            }
        }
    }

    #[test]
    fn pages_table_holds_every_variant_with_its_length() {
        let pages = Pages::render(Template::Current);
        for cluster in Cluster::ALL {
            for version in VERSIONS {
                let body = pages.reviews(cluster, version);
                let want = render(Template::Current, PageState::Reviews { cluster, version });
                assert_eq!(body.bytes, want.as_bytes());
                assert_eq!(body.content_length, want.len().to_string().as_str());
            }
        }
        assert_eq!(
            pages.unavailable().bytes,
            render(Template::Current, PageState::ReviewsUnavailable).as_bytes()
        );
    }
}
