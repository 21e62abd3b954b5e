//! POS Sync core: every business rule of the connector, with no I/O of its own.
//!
//! - [`model`]: Lightspeed resources, read defensively.
//! - [`pos::lightspeed_r`]: requests as values, answers read back.
//! - [`transport`]: the HTTP and clock traits the host implements.
//! - [`allowed_hosts`]: the only hosts a job may send requests to.
//! - [`pacer`]: rate pacing and retry decisions.
//! - [`session`]: an authorised, paced conversation.
//! - [`sync::stock`]: the stock flow.
//! - [`job`]: the sidecar protocol and the job runner.
//! - `wasm`: the WebAssembly boundary (wasm32 only).

pub mod allowed_hosts;
pub mod job;
pub mod model;
pub mod pacer;
pub mod pos;
pub mod session;
pub mod sync;
pub mod transport;

#[cfg(target_arch = "wasm32")]
mod wasm;

/// Version reported in the sidecar's `hello` event.
pub const CORE_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod tests;
