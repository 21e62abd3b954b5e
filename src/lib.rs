//! POS Sync core: every business rule of the connector, with no I/O of its own.
//!
//! Layers, arrows pointing down only:
//! - [`job`]: the sidecar protocol and the job runner.
//! - [`flows`]: stock, publish, orders and refunds, lookups, the ledger rule.
//! - [`pos`]: the point-of-sale APIs; [`pos::lightspeed_r`] is R-Series
//!   (its model, requests, pacer and session).
//! - [`edge`]: the HTTP and clock traits the host implements, and the only
//!   hosts a job may send requests to.
//! - `wasm`: the WebAssembly boundary (wasm32 only).

pub mod edge;
pub mod flows;
pub mod job;
pub mod pos;
pub mod protocol;

#[cfg(target_arch = "wasm32")]
mod wasm;

/// Version reported in the sidecar's `hello` event.
pub const CORE_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod tests;
