//! The edge of the core: what the host gives it (HTTP, a clock, a place for
//! events), the emitter that keeps secrets out of those events, and the only
//! hosts a job may reach.

pub mod allowed_hosts;
pub mod emitter;
pub mod host;
pub mod transport;

pub use emitter::RedactingEmitter;
pub use host::Host;
pub use transport::{Clock, Transport};
