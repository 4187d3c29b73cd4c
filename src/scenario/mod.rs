//! Scenario files: TOML on disk → validated [`Plan`].

pub mod plan;

pub use plan::*;
