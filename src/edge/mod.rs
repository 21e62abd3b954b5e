//! The edge of the core: what the host gives it (HTTP, a clock) and the only
//! hosts a job may reach.

pub mod allowed_hosts;
pub mod transport;
