//! The sidecar protocol of docs/PROTOCOL.md as types: the job line, its
//! settings and cursors, and every event the core emits. The bottom layer:
//! it imports nothing else of the crate.

pub mod cursors;
pub mod events;
pub mod job;
pub mod lenient;
pub mod listing;
pub mod lookups;
pub mod settings;
pub mod stock;

pub use cursors::*;
pub use events::*;
pub use job::*;
pub use listing::*;
pub use lookups::*;
pub use settings::*;
pub use stock::*;

/// The protocol version every job and event carries as `"v"`.
pub const PROTOCOL_VERSION: u32 = 1;
