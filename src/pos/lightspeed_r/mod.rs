//! Lightspeed Retail R-Series: everything the core knows of it.
//!
//! - [`model`]: its resources, read defensively.
//! - [`requests`]: requests as values, answers read back (re-exported here).
//! - [`pacer`]: its rate limits and retry decisions.
//! - [`session`]: an authorised, paced conversation with one account.

pub mod model;
pub mod pacer;
pub mod requests;
pub mod session;

pub use requests::*;
