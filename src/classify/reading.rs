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
}
