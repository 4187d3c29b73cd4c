//! The run's files on disk. For now only how a whole file is written
//! ([`atomic`]); the typed readers and writers of issue 12 move here later.

pub mod atomic;

pub use atomic::{WriteError, write_atomic};
