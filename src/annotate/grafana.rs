//! One `POST {url}/api/annotations` (Grafana's HTTP API), sent through
//! [`crate::side_http`], bounded by one timeout from connect to the
//! answer's body.

use std::time::Duration;

use bytes::Bytes;
use hyper::Method;
use serde::Serialize;

use crate::scenario::GrafanaPlan;
use crate::side_http::{self, SideRequest};

/// The body of the API's `POST /api/annotations`.
#[derive(Serialize)]
pub(super) struct Body<'a> {
    pub time: u64,
    #[serde(rename = "timeEnd", skip_serializing_if = "Option::is_none")]
    pub time_end: Option<u64>,
    pub tags: &'a [String],
    pub text: &'a str,
    #[serde(rename = "dashboardUID", skip_serializing_if = "Option::is_none")]
    pub dashboard_uid: Option<&'a str>,
}

/// What Grafana answered: its status and (for a refusal) the start of its body.
pub(super) struct Answer {
    pub status: u16,
    pub body: String,
}

/// Most of an answer's body kept, for the error message.
const ANSWER_CAP: usize = 4096;

pub(super) async fn post(
    grafana: &GrafanaPlan,
    body: &Body<'_>,
    timeout: Duration,
) -> Result<Answer, String> {
    let json = serde_json::to_vec(body).map_err(|e| e.to_string())?;
    match tokio::time::timeout(timeout, exchange(grafana, json)).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "no answer within {}",
            humantime::format_duration(timeout)
        )),
    }
}

async fn exchange(grafana: &GrafanaPlan, json: Vec<u8>) -> Result<Answer, String> {
    let url = &grafana.url;
    let base = url.path().trim_end_matches('/');
    let mut headers = vec![(hyper::header::CONTENT_TYPE, "application/json".to_string())];
    if let Some(token) = &grafana.token {
        headers.push((hyper::header::AUTHORIZATION, format!("Bearer {token}")));
    }
    let answer = side_http::exchange(
        SideRequest {
            method: Method::POST,
            base: url,
            path: &format!("{base}/api/annotations"),
            headers,
            body: Bytes::from(json),
        },
        ANSWER_CAP,
    )
    .await?;
    Ok(Answer {
        status: answer.status,
        // Only for the error message: an unreadable body says nothing more.
        body: answer
            .body
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default(),
    })
}
