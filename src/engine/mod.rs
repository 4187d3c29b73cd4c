//! The engine: paces requests per target (open or closed model, flat or
//! ramped by stages: `profile`) over lanes,
//! sends them with hyper (`client`) over meshdrill's connector (`connect`:
//! where a host is dialed, name resolution, TCP, TLS from `tls`), and turns
//! each into an outcome.

pub mod alarm;
pub mod buffers;
pub mod client;
pub mod clock;
pub mod conn_info;
pub mod connect;
pub mod lane;
pub mod limits;
pub mod owned;
pub mod profile;
pub mod redirect;
pub mod resolve;
pub mod route;
pub mod schedule;
pub mod tls;
