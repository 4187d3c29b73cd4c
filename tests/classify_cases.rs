//! What the fixtures do not show: cut-short and foreign bodies, gateway
//! replies without a body, the simulator's own pages in both templates, and
//! the cluster table (configured names, pod patterns, lane-local names).

mod classify_support;

use hyper::HeaderMap;
use hyper::header::{HeaderValue, SERVER};
use meshdrill::classify::{
    Backends, Classifier, ClassifyConfig, ClusterId, EnvoyReason, MAX_PODS, PodId, ReviewsVersion,
    StarColor, Template,
};
use meshdrill::outcome::Kind;
use meshdrill::scenario::{ClusterRule, Overrides, parse};
use meshdrill::sim::pages::{PageState, render};
use meshdrill::sim::{self, Cluster};

use classify_support::fixtures;

fn classifier() -> Classifier {
    Classifier::new(&ClassifyConfig::default())
}

fn sim_config() -> ClassifyConfig {
    ClassifyConfig::new(Cluster::ALL.map(Cluster::name), &[])
}

/// Where the reviews of a whole fixture page end: any cut before this must
/// not read as a complete page.
fn reviews_end(body: &[u8], template: Template) -> usize {
    let find = |needle: &[u8], from: usize| {
        body[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|i| from + i)
    };
    let rfind = |needle: &[u8]| body.windows(needle.len()).rposition(|w| w == needle);
    match template {
        Template::Legacy => body.trim_ascii_end().len() - 1,
        _ => match rfind(b"</section>") {
            Some(s) => find(b"</div>", s).unwrap() + "</div>".len(),
            None => rfind(b"for this book.</p>").unwrap() + "for this book.</p>".len(),
        },
    }
}

#[test]
fn a_page_cut_short_is_never_ok() {
    let mut c = classifier();
    let mut checked = 0;
    for f in fixtures().iter().filter(|f| f.status == 200) {
        let (kind, page) = c.classify(200, &f.header_map(), &f.body);
        assert!(matches!(kind, Kind::Ok | Kind::Degraded), "{}", f.file);
        let half = f.body.len() / 2;
        assert_eq!(
            c.classify(200, &f.header_map(), &f.body[..half]).0,
            Kind::Unrecognized,
            "{} cut in half",
            f.file
        );
        let end = reviews_end(&f.body, page.template);
        // Every 11th byte, and every byte of the last stretch before the end.
        let cuts = (0..end).step_by(11).chain(end.saturating_sub(400)..=end);
        for cut in cuts {
            let (kind, _) = c.classify(200, &f.header_map(), &f.body[..cut]);
            assert_eq!(
                kind,
                Kind::Unrecognized,
                "{} cut at {cut} of {}",
                f.file,
                f.body.len()
            );
            checked += 1;
        }
    }
    assert!(checked > 10_000, "{checked}");
}

#[test]
fn foreign_and_empty_bodies_are_unrecognized() {
    let nginx = b"<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n</body>\n</html>\n";
    let other_app = b"<html><head><title>Simple Bookstore App</title></head><body><h1>Maintenance</h1><p>Book Reviews coming soon</p></body></html>";
    let text = b"ok\n";
    let mut c = classifier();
    for body in [&nginx[..], &other_app[..], &text[..], b""] {
        let (kind, page) = c.classify(200, &HeaderMap::new(), body);
        assert_eq!(
            kind,
            Kind::Unrecognized,
            "{}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(page.version, ReviewsVersion::Unknown);
    }
}

/// The reviews section without its reviewer blocks (another Bookinfo build
/// or a half-rendered page) is not a v1 page.
#[test]
fn reviews_heading_without_reviewers_is_not_v1() {
    let mut c = classifier();
    for f in fixtures().iter().filter(|f| f.file.ends_with("v1_ok.html")) {
        let text = String::from_utf8(f.body.clone()).unwrap();
        let gutted = text
            .replace("<section", "<article")
            .replace("<blockquote", "<div");
        let (kind, page) = c.classify(200, &HeaderMap::new(), gutted.as_bytes());
        assert_eq!(kind, Kind::Unrecognized, "{}", f.file);
        assert_eq!(page.version, ReviewsVersion::Unknown, "{}", f.file);
    }
}

/// A complete page answered with 203 or 206 is still not a success.
#[test]
fn only_200_can_be_ok() {
    let f = &fixtures()[0];
    let mut c = classifier();
    assert_eq!(c.classify(200, &f.header_map(), &f.body).0, Kind::Ok);
    assert_eq!(
        c.classify(206, &f.header_map(), &f.body).0,
        Kind::Unrecognized
    );
}

#[test]
fn gateway_404_with_an_empty_body_is_no_route() {
    let mut c = classifier();
    for server in ["istio-envoy", "envoy"] {
        let mut h = HeaderMap::new();
        h.insert(SERVER, HeaderValue::from_static(server));
        h.insert("content-length", HeaderValue::from_static("0"));
        let (kind, page) = c.classify(404, &h, b"");
        assert_eq!(kind, Kind::Http4xx);
        assert_eq!(page.envoy.reason, EnvoyReason::RouteNotFound);
        assert_eq!(page.envoy.to_string(), "NR");
        assert!(page.degraded.is_empty());
    }
    // The same status and body from an app is just a 404.
    let mut h = HeaderMap::new();
    h.insert(
        SERVER,
        HeaderValue::from_static("Werkzeug/3.0.2 Python/3.12"),
    );
    assert_eq!(c.classify(404, &h, b"").1.envoy.reason, EnvoyReason::None);
}

#[test]
fn simulator_pages_read_as_rendered() {
    for template in [sim::Template::Current, sim::Template::Legacy] {
        let mut c = Classifier::new(&sim_config());
        for cluster in Cluster::ALL {
            for version in sim::pages::VERSIONS {
                let body = render(template, PageState::Reviews { cluster, version });
                let (kind, page) = c.classify(200, &HeaderMap::new(), body.as_bytes());
                let what = format!("{template:?} {cluster:?} v{version}");
                assert_eq!(kind, Kind::Ok, "{what}");
                let (want_version, colour) = match version {
                    1 => (ReviewsVersion::V1, StarColor::None),
                    2 => (ReviewsVersion::V2, StarColor::Black),
                    _ => (ReviewsVersion::V3, StarColor::Red),
                };
                assert_eq!(page.version, want_version, "{what}");
                assert_eq!(page.star_color, colour, "{what}");
                let stars: &[u8] = if version == 1 {
                    &[]
                } else {
                    &sim::pages::STARS
                };
                assert_eq!(page.stars.as_slice(), stars, "{what}");
                assert_eq!(
                    c.pod_name(page.pod),
                    Some(sim::pod_name(cluster, version)),
                    "{what}"
                );
                assert_eq!(page.cluster, ClusterId(cluster.index() as u8), "{what}");
                assert_eq!(c.cluster_name(page.cluster), Some(cluster.name()), "{what}");
                assert_eq!(page.degraded, Backends::NONE, "{what}");
                let want_template = match template {
                    sim::Template::Current => Template::Current,
                    sim::Template::Legacy => Template::Legacy,
                };
                assert_eq!(page.template, want_template, "{what}");
            }
        }
        let body = render(template, PageState::ReviewsUnavailable);
        let (kind, page) = c.classify(200, &HeaderMap::new(), body.as_bytes());
        assert_eq!(kind, Kind::Degraded, "{template:?}");
        assert_eq!(page.degraded, Backends::REVIEWS);
        assert_eq!(page.version, ReviewsVersion::Unknown);
        assert_eq!(page.pod, PodId::NONE);
        assert_eq!(page.cluster, ClusterId::UNKNOWN);
    }
}

/// Under the `cross-cluster` fault the primary's ingress serves the
/// secondary's pods, and the page says so: the cluster is the page's.
#[test]
fn cross_cluster_pages_name_the_serving_cluster() {
    let mut c = Classifier::new(&sim_config());
    let body = render(
        sim::Template::Current,
        PageState::Reviews {
            cluster: Cluster::Secondary,
            version: 3,
        },
    );
    let (_, page) = c.classify(200, &HeaderMap::new(), body.as_bytes());
    assert_eq!(c.cluster_name(page.cluster), Some("secondary"));
    assert_eq!(
        c.pod_name(page.pod),
        Some(sim::pod_name(Cluster::Secondary, 3))
    );
}

#[test]
fn pod_patterns_name_the_cluster_when_the_page_does_not() {
    let rules = [
        ClusterRule {
            name: "east".into(),
            patterns: vec!["reviews-v1-6f8b5c9d47-*".into()],
        },
        ClusterRule {
            name: "west".into(),
            patterns: vec!["reviews-*-lz2b6".into()],
        },
    ];
    let mut c = Classifier::new(&ClassifyConfig::new([], &rules));
    let fx = fixtures();
    let read = |c: &mut Classifier, name: &str| {
        let f = fx.iter().find(|f| f.file.ends_with(name)).unwrap();
        let (_, page) = c.classify(f.status, &f.header_map(), &f.body);
        c.cluster_name(page.cluster).map(str::to_string)
    };
    assert_eq!(read(&mut c, "/legacy__v1_ok.html").as_deref(), Some("east"));
    assert_eq!(
        read(&mut c, "/current__v3_ok.html").as_deref(),
        Some("west")
    );
    assert_eq!(read(&mut c, "/current__v2_ok.html"), None);
    // The page's own "on cluster" wins over the patterns, and an
    // unconfigured name gets a lane-local id after the configured ones.
    let (_, page) = {
        let f = fx
            .iter()
            .find(|f| f.file.ends_with("/current__v3_ok_cluster.html"))
            .unwrap();
        c.classify(200, &f.header_map(), &f.body)
    };
    assert_eq!(page.cluster, ClusterId(2));
    assert_eq!(c.cluster_name(page.cluster), Some("primary-cluster"));
    assert_eq!(c.other_cluster_names(), [Box::from("primary-cluster")]);
}

#[test]
fn from_plan_puts_sim_names_first_then_the_table() {
    let text = r#"
[[target]]
name = "p"
url = "sim:primary"

[load]
rate = 1
duration = "1s"

[clusters]
east = ["reviews-v1-*"]
primary = ["reviews-v2-*"]
"#;
    let plan = parse(text, "t.toml".as_ref(), &Overrides::default(), &|_| None).unwrap();
    let config = ClassifyConfig::from_plan(&plan);
    assert_eq!(config.cluster_names(), ["primary", "secondary", "east"]);
    let http = text.replace("sim:primary", "http://127.0.0.1:9/productpage");
    let plan = parse(&http, "t.toml".as_ref(), &Overrides::default(), &|_| None).unwrap();
    assert_eq!(
        ClassifyConfig::from_plan(&plan).cluster_names(),
        ["east", "primary"]
    );
}

/// A lane remembers at most `MAX_PODS` pods; the rest read as `OTHER`, and
/// their cluster still comes from the patterns.
#[test]
fn the_pod_table_is_bounded() {
    let rules = [ClusterRule {
        name: "east".into(),
        patterns: vec!["reviews-v2-*".into()],
    }];
    let mut c = Classifier::new(&ClassifyConfig::new([], &rules));
    let base = render(
        sim::Template::Legacy,
        PageState::Reviews {
            cluster: Cluster::Primary,
            version: 2,
        },
    )
    .replace("on cluster <u>primary</u>", "");
    let pod = sim::pod_name(Cluster::Primary, 2);
    for i in 0..=MAX_PODS {
        let body = base.replace(pod, &format!("reviews-v2-{i:010x}-abcde"));
        let (kind, page) = c.classify(200, &HeaderMap::new(), body.as_bytes());
        assert_eq!(kind, Kind::Ok);
        assert_eq!(c.cluster_name(page.cluster), Some("east"));
        if i < MAX_PODS {
            assert_eq!(page.pod, PodId(i as u16));
        } else {
            assert_eq!(page.pod, PodId::OTHER);
            assert_eq!(c.pod_name(page.pod), None);
        }
    }
    assert_eq!(c.pod_names().len(), MAX_PODS);
}

/// `text-red-500` on error paragraphs and the dialog's outline icon are not
/// stars: a v2 page with ratings down shows no colour and no stars.
#[test]
fn error_paragraphs_and_icons_are_not_stars() {
    let f = fixtures();
    let f = f
        .iter()
        .find(|f| f.file.ends_with("/current__v2_ratings_unavailable.html"))
        .unwrap();
    let (kind, page) = classifier().classify(200, &f.header_map(), &f.body);
    assert_eq!(kind, Kind::Degraded);
    assert_eq!(page.star_color, StarColor::None);
    assert!(page.stars.is_empty());
    assert_eq!(page.version, ReviewsVersion::V2);
}
