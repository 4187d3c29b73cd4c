//! `annotations.json`: every Grafana annotation a run (`--grafana URL`)
//! meant to post, with what became of each post. The token is never written.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::LoadError;
use super::load::read_if_there;

pub const FILE: &str = "annotations.json";

/// The file: where the annotations went, and each post in the order made.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AnnotationLog {
    /// The Grafana base URL as given to `--grafana`.
    pub url: String,
    pub posts: Vec<AnnotationPost>,
}

/// One annotation and its post.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnnotationPost {
    /// `run start`, `inject primary-down`, `fault primary-down`, `run end`.
    pub what: String,
    /// Grafana's `time` (Unix ms).
    pub time_ms: u64,
    /// Grafana's `timeEnd` (Unix ms) for a region; `None` for a point.
    #[serde(deserialize_with = "super::required")]
    pub time_end_ms: Option<u64>,
    pub tags: Vec<String>,
    pub text: String,
    /// The HTTP status Grafana answered; `None` when it did not answer.
    #[serde(deserialize_with = "super::required")]
    pub status: Option<u16>,
    /// A 2xx answer.
    pub ok: bool,
    /// Why it was not posted (refused, timed out, a non-2xx answer's body).
    #[serde(deserialize_with = "super::required")]
    pub error: Option<String>,
}

/// annotations.json; `None` for a run without `--grafana`.
pub fn read(dir: &Path) -> Result<Option<AnnotationLog>, LoadError> {
    let path = dir.join(FILE);
    let Some(bytes) = read_if_there(&path)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| LoadError::invalid(&path, None, e.to_string()))
}
