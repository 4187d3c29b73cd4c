//! The engine: paces requests per target (open or closed model) over lanes,
//! sends them with hyper, and turns each into an outcome.

pub mod buffers;
pub mod client;
pub mod clock;
pub mod conn_info;
pub mod connect;
pub mod lane;
pub mod limits;
pub mod pacer;
pub mod redirect;
pub mod resolve;
pub mod route;
pub mod schedule;
pub mod tls;
