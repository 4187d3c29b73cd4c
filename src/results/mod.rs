//! The run's files on disk, written and read back through the same types:
//! `summary.json` ([`summary`]), `timeline.csv` ([`timeline`]),
//! `latency.hlog` and `latency-ok.hlog` ([`hlog`]), the results folder itself ([`folder`]), and
//! how a whole file is replaced ([`atomic`]).

pub mod atomic;
pub mod folder;
pub mod hlog;
pub mod summary;
pub mod timeline;

pub use atomic::{WriteError, write_atomic};
