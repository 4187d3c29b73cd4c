//! Response → outcome [`Kind`] and [`Page`], the way an operator reads a
//! productpage: complete, degraded (a backend's error text under HTTP 200),
//! something else under 2xx, or an HTTP error with Envoy's reason; and on a
//! page, which reviews version answered (star rows and their colour, or the
//! pod name when ratings are down), the stars of each review, the pod and
//! the cluster.
//!
//! Fed by the engine's lane with each complete response (status, headers,
//! body). Bytes are scanned with `memchr::memmem` finders built once; no
//! DOM, no regex, and no allocation except the first time a lane sees a pod
//! or an unconfigured cluster name.
//!
//! The `Copy` value types ([`Page`] and its fields) are [`crate::outcome::page`]'s:
//! they travel with the outcome.
//! - `markers.rs`: the byte strings looked for, with their finders.
//! - `productpage.rs`: body → what the page showed.
//! - `envoy.rs`: gateway local replies → Envoy's response flag.
//! - `pods.rs`, `clusters.rs`: the lane's pod table; configured and seen
//!   cluster names ([`ClassifyConfig`]).
//! - `reading.rs`: a classification with names, for people and tools.

mod clusters;
mod envoy;
mod hay;
mod markers;

mod pods;
mod productpage;
mod reading;
mod saved;

use hyper::HeaderMap;

use crate::outcome::Kind;

pub use crate::outcome::page::{
    Backends, ClusterId, Envoy, EnvoyReason, Page, PodId, ReviewsVersion, StarColor, Stars,
    Template,
};
pub use clusters::{ClassifyConfig, MAX_CLUSTERS, MAX_OTHER_CLUSTERS};
pub use hay::{Hay, MAX_PARTS};
pub use pods::MAX_PODS;
pub use reading::Reading;
pub use saved::{SavedResponse, saved_response};

use clusters::OtherClusters;
use pods::PodTable;
use productpage::{MAX_CLUSTER, MAX_POD, Scan, Span};

/// One lane's classifier: the configured clusters plus the lane's own
/// tables of pod names and unconfigured cluster names, so ids in a [`Page`]
/// are only meaningful with the classifier that made them.
#[derive(Debug)]
pub struct Classifier {
    config: ClassifyConfig,
    pods: PodTable,
    other_clusters: OtherClusters,
}

impl Classifier {
    pub fn new(config: &ClassifyConfig) -> Classifier {
        Classifier {
            config: config.clone(),
            pods: PodTable::default(),
            other_clusters: OtherClusters::default(),
        }
    }

    /// Classifies one complete response.
    ///
    /// Only HTTP 200 with a whole productpage is `Ok` (or `Degraded` when it
    /// shows a backend's error); any other 2xx is `Unrecognized`, and so is a
    /// 200 that is not a productpage of a known template, or is cut short.
    /// `Page` fields are filled only for a recognised productpage, and the
    /// Envoy reason only for 4xx/5xx.
    pub fn classify(&mut self, status: u16, headers: &HeaderMap, body: &[u8]) -> (Kind, Page) {
        match status_kind(status) {
            Kind::Unrecognized => self.classify_parts(status, headers, &Hay::whole(body)),
            kind => (
                kind,
                error_page(envoy::reason(status, headers, body, body.len())),
            ),
        }
    }

    /// [`Self::classify`] of a body read in place in the chunks it came in:
    /// the same answer as for the chunks joined, without joining them.
    pub fn classify_parts(
        &mut self,
        status: u16,
        headers: &HeaderMap,
        body: &Hay<'_>,
    ) -> (Kind, Page) {
        let kind = status_kind(status);
        if kind != Kind::Unrecognized {
            return (kind, error_page(local_reply(status, headers, body)));
        }
        if status != 200 {
            return (Kind::Unrecognized, Page::default());
        }
        let scan = productpage::scan(body);
        if !scan.recognized || !scan.complete {
            return (Kind::Unrecognized, Page::default());
        }
        let page = self.page(&scan, body);
        let kind = if page.degraded.is_empty() {
            Kind::Ok
        } else {
            Kind::Degraded
        };
        (kind, page)
    }

    /// A recognised page's `Page`: interns the pod and the cluster.
    fn page(&mut self, scan: &Scan, body: &Hay<'_>) -> Page {
        let mut pod_buf = [0u8; MAX_POD];
        let pod_name = scan
            .pod
            .map(|Span { from, to }| body.copy(from, to, &mut pod_buf));
        let (pod, pod_cluster) = match pod_name {
            Some(name) => {
                let config = &self.config;
                self.pods.intern(name, |pod| config.cluster_of_pod(pod))
            }
            None if scan.pod_malformed => (PodId::OTHER, ClusterId::UNKNOWN),
            None => (PodId::NONE, ClusterId::UNKNOWN),
        };
        let mut cluster_buf = [0u8; MAX_CLUSTER];
        let cluster_name = scan
            .cluster
            .map(|Span { from, to }| body.copy(from, to, &mut cluster_buf));
        let cluster = match cluster_name {
            Some(name) => self.config.configured(name).unwrap_or_else(|| {
                let configured = self.config.cluster_names().len();
                self.other_clusters.intern(name, configured)
            }),
            None => pod_cluster,
        };
        Page {
            version: version(scan, pod_name),
            stars: scan.stars,
            star_color: scan.star_color,
            pod,
            cluster,
            degraded: if scan.ratings_errors > 0 {
                scan.degraded.union(Backends::RATINGS)
            } else {
                scan.degraded
            },
            template: scan.template,
            envoy: Envoy::NONE,
        }
    }

    /// The name of a pod this classifier interned.
    pub fn pod_name(&self, id: PodId) -> Option<&str> {
        self.pods.name(id)
    }

    /// Every pod this lane has seen; index = [`PodId`]. Append-only, so a
    /// reporter can send `pod_names()[already_sent..]`.
    pub fn pod_names(&self) -> &[Box<str>] {
        self.pods.names()
    }

    /// The name of a cluster: configured, or one a page showed.
    pub fn cluster_name(&self, id: ClusterId) -> Option<&str> {
        let i = id.index()?;
        let configured = self.config.cluster_names();
        match configured.get(i) {
            Some(name) => Some(name),
            None => self
                .other_clusters
                .names()
                .get(i - configured.len())
                .map(|n| &**n),
        }
    }

    /// Unconfigured cluster names pages showed to this lane; the first has
    /// id `config().cluster_names().len()`. Append-only, like [`Self::pod_names`].
    pub fn other_cluster_names(&self) -> &[Box<str>] {
        self.other_clusters.names()
    }

    pub fn config(&self) -> &ClassifyConfig {
        &self.config
    }
}

/// The kind a status stands for; 2xx is `Unrecognized` until the body is read.
fn status_kind(status: u16) -> Kind {
    match status {
        200..=299 => Kind::Unrecognized,
        300..=399 => Kind::Http3xx,
        400..=499 => Kind::Http4xx,
        500..=599 => Kind::Http5xx,
        _ => Kind::HttpOther,
    }
}

/// The page of a response that is not a 2xx: only Envoy's reason, and
/// productpage marked degraded when the reason says its upstream failed.
fn error_page(envoy: Envoy) -> Page {
    let degraded = if envoy.reason.upstream_failed() {
        Backends::PRODUCTPAGE
    } else {
        Backends::NONE
    };
    Page {
        envoy,
        degraded,
        ..Page::default()
    }
}

/// Envoy's reason for a local reply. A local reply is short and looked at
/// whole: in place when it came in one chunk, else stitched on the stack.
fn local_reply(status: u16, headers: &HeaderMap, body: &Hay<'_>) -> Envoy {
    if let Some(text) = body.contiguous() {
        return envoy::reason(status, headers, text, text.len());
    }
    stitched_local_reply(status, headers, body)
}

#[cold]
fn stitched_local_reply(status: u16, headers: &HeaderMap, body: &Hay<'_>) -> Envoy {
    let mut reply = [0u8; envoy::MAX_LOCAL_REPLY];
    let text = if body.len() <= envoy::MAX_LOCAL_REPLY {
        body.copy(0, body.len(), &mut reply)
    } else {
        &[]
    };
    envoy::reason(status, headers, text, body.len())
}

/// Star rows decide (black v2, red v3); no rows and no ratings error is v1;
/// with ratings down, only the pod's name (`reviews-v2-...`) can tell.
fn version(scan: &Scan, pod: Option<&[u8]>) -> ReviewsVersion {
    if scan.reviews == 0 {
        return ReviewsVersion::Unknown;
    }
    if scan.star_rows > 0 {
        return match scan.star_color {
            StarColor::Black => ReviewsVersion::V2,
            StarColor::Red => ReviewsVersion::V3,
            StarColor::None => ReviewsVersion::Unknown,
        };
    }
    if scan.ratings_errors == 0 {
        return ReviewsVersion::V1;
    }
    match pod.and_then(|pod| pod.strip_prefix(b"reviews-v")) {
        Some([b'2', b'-', ..]) => ReviewsVersion::V2,
        Some([b'3', b'-', ..]) => ReviewsVersion::V3,
        _ => ReviewsVersion::Unknown,
    }
}

#[cfg(test)]
mod tests;
