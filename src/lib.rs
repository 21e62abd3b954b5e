//! POS Sync core: every business rule of the connector, with no I/O of its own.
//!
//! Layers, arrows pointing down only:
//! - `wasm`: the WebAssembly boundary (wasm32 only); calls the runner.
//! - [`runner`]: reads a job, opens the POS session, hands it to its flow
//!   and reports the `result`; the only importer of the flows.
//! - [`flows`]: stock, publish, orders and refunds, lookups, the ledger rule.
//! - [`pos`]: the point-of-sale APIs; [`pos::lightspeed_r`] is R-Series
//!   (its model, requests, pacer and session).
//! - [`edge`]: what the host gives the core (HTTP, a clock, the [`edge::Host`]
//!   events go to), the emitter that redacts secrets, and the only hosts a
//!   job may send requests to.
//! - [`protocol`]: the sidecar protocol as types (job, settings, cursors,
//!   events); imports nothing else of the crate.
//!
//! [`job`] only re-exports the old paths of these.

pub mod edge;
pub mod flows;
pub mod job;
pub mod pos;
pub mod protocol;
pub mod runner;

#[cfg(target_arch = "wasm32")]
mod wasm;

/// Version reported in the sidecar's `hello` event.
pub const CORE_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod tests;
