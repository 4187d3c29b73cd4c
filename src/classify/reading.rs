//! A classification spelled out for people and tools (`meshdrill classify`,
//! the fixture tests): names instead of ids, with the field names of the
//! fixtures' `manifest.json`. Off the hot path: it allocates freely.

use serde::Serialize;

use crate::outcome::Kind;

use super::{Classifier, Page};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reading {
    pub file: String,
    /// [`Kind::name`]: `ok`, `degraded`, `unrecognized`, `http_5xx`...
    pub class: &'static str,
    pub reviews_version: Option<&'static str>,
    pub stars: Vec<u8>,
    pub star_color: Option<&'static str>,
    /// `"(other)"` when the lane's pod table was full or the name malformed.
    pub reviews_pod: Option<String>,
    /// `"(other)"` when the lane's table of unconfigured names was full.
    pub cluster: Option<String>,
    pub degraded: Vec<&'static str>,
    pub template: Option<&'static str>,
    /// Envoy's response flags (`UH`, `UF,URX`), for gateway local replies.
    pub envoy_reason: Option<String>,
}

/// Shown for an id whose name the lane did not keep.
const OTHER: &str = "(other)";

impl Reading {
    /// `page` must come from `classifier` (ids are per classifier).
    pub fn new(file: impl Into<String>, kind: Kind, page: &Page, classifier: &Classifier) -> Self {
        let pod = (page.pod != super::PodId::NONE)
            .then(|| classifier.pod_name(page.pod).unwrap_or(OTHER).to_string());
        let cluster = (page.cluster != super::ClusterId::UNKNOWN).then(|| {
            classifier
                .cluster_name(page.cluster)
                .unwrap_or(OTHER)
                .to_string()
        });
        Reading {
            file: file.into(),
            class: kind.name(),
            reviews_version: page.version.as_str(),
            stars: page.stars.as_slice().to_vec(),
            star_color: page.star_color.as_str(),
            reviews_pod: pod,
            cluster,
            degraded: page.degraded.names().collect(),
            template: page.template.as_str(),
            envoy_reason: (!page.envoy.is_none()).then(|| page.envoy.to_string()),
        }
    }

    /// One line for people: `FILE: class  version=v2 stars=5,4
    /// color=black pod=... cluster=- ...`, `-` for what the page does not show.
    pub fn line(&self) -> String {
        let or_dash = |s: Option<&str>| s.unwrap_or("-").to_string();
        let list = |items: Vec<String>| {
            if items.is_empty() {
                "-".to_string()
            } else {
                items.join(",")
            }
        };
        format!(
            "{}: {}  version={} stars={} color={} pod={} cluster={} degraded={} template={} envoy={}",
            self.file,
            self.class,
            or_dash(self.reviews_version),
            list(self.stars.iter().map(u8::to_string).collect()),
            or_dash(self.star_color),
            or_dash(self.reviews_pod.as_deref()),
            or_dash(self.cluster.as_deref()),
            list(self.degraded.iter().map(|d| d.to_string()).collect()),
            or_dash(self.template),
            or_dash(self.envoy_reason.as_deref()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_every_field_and_dashes_what_the_page_does_not_show() {
        let mut reading = Reading {
            file: "page.html".into(),
            class: "ok",
            reviews_version: Some("v2"),
            stars: vec![5, 4],
            star_color: Some("black"),
            reviews_pod: Some("reviews-v2-abc".into()),
            cluster: None,
            degraded: Vec::new(),
            template: Some("current"),
            envoy_reason: None,
        };
        assert_eq!(
            reading.line(),
            "page.html: ok  version=v2 stars=5,4 color=black pod=reviews-v2-abc cluster=- degraded=- template=current envoy=-"
        );
        reading.degraded = vec!["reviews", "ratings"];
        reading.stars.clear();
        assert!(reading.line().contains(" stars=- "), "{}", reading.line());
        assert!(reading.line().contains(" degraded=reviews,ratings "));
    }
}
