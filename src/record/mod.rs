//! Recording: lanes record outcomes into their own [`Shard`] (no locks) and
//! hand finished seconds to the [`Recorder`], which merges them once per
//! second, off the request path, and feeds the writers in order.

mod addresses;
mod health;
mod locations;
mod marks;
mod pages;
mod recorder;
mod registry;
mod second;
mod shard;

pub use addresses::{AddressCounts, AddressRegistry, LaneAddresses, NO_ADDRESS, OTHER_ADDRESS};
pub use health::{GeneratorHealth, Limits};
pub use locations::{LocationRegistry, LocationSlots, MAX_LOCATIONS};
pub use marks::Marks;
pub use pages::{
    DEGRADED, NAMED_CLUSTERS, NO_PAGE, OTHER_CLUSTER, PageCounts, UNKNOWN_CLUSTER, VERSION_NAMES,
    cluster_slot, version_slot,
};
pub use recorder::{LaneReport, LaneTallies, Phase, Recorder, RowSink, SecondRow, Totals};
pub use registry::ClusterRegistry;
pub use second::{LATE_SEND_US, MAX_TRACKED_US, SecondStats, StatusCounts, new_histogram};
pub use shard::{Shard, second_of};
