//! meshdrill: paced synthetic traffic for failover drills on multi-cluster
//! service meshes. One run is one straight pipeline, one module per stage:
//!
//! 1. [`scenario`]: scenario file (+ CLI overrides) → validated [`scenario::Plan`].
//! 2. [`engine`]: paces requests per target (open or closed model, flat or
//!    ramped by stages), sends them with hyper (HTTP/1.1 or HTTP/2, over TLS
//!    with rustls, through its own connector), and turns each response into
//!    a `Copy` [`outcome::Outcome`].
//! 3. [`classify`]: status + headers + body bytes → [`classify::Page`] and the outcome kind.
//! 4. [`record`]: per-lane shards of per-second counts and HDR histograms,
//!    merged into one timeline off the request path.
//! 5. [`results`]: the files a run writes (plan.json, timeline.csv,
//!    latency.hlog, faults.jsonl, summary.json), written and read back
//!    through the same types; `results::Results::load` reads a folder.
//! 6. [`assess`]: RTO, fault windows, failover evidence, generator health and
//!    the SLO verdict, as pure functions of those results.
//! 7. [`report`]: presentation: console lines and tables, charts, report.html, .hgrm.
//!
//! [`merge`] adds up the results folders of one run's shards
//! (`meshdrill merge`) into one folder judged like a single run's.
//!
//! [`compare`] judges a run against a baseline run or the percentiles of
//! earlier runs (`meshdrill compare`), from the typed results alone.
//!
//! [`drill`] runs the scenario's faults and markers on the run clock.
//! [`live`] is the console while a run is on: every stderr line in run-clock
//! order, under a progress bar on a terminal.
//! [`annotate`] marks the run and its faults on the users' Grafana
//! (`--grafana`), off the hot path.
//! [`evidence`] asks the users' Prometheus for the mesh's own view of the
//! run (`[evidence]`), once traffic has stopped; both send through
//! [`side_http`] (one HTTP/1.1 request to a service beside the run).
//! [`sim`] is the embedded two-cluster Bookinfo the demo and the tests drive.

pub mod annotate;
pub mod assess;
pub mod classify;
pub mod cli;
pub mod compare;
pub mod drill;
pub mod engine;
pub mod evidence;
pub mod live;
pub mod merge;
pub mod metrics;
pub mod outcome;
pub mod record;
pub mod report;
pub mod results;
pub mod run;
pub mod scenario;
pub mod side_http;
pub mod sim;
