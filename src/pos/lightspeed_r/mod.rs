//! Lightspeed Retail R-Series: everything the core knows of it.
//!
//! - [`catalogue`]: the catalogue's requests and raw list pages (publish).
//! - [`model`]: its resources, read defensively.
//! - [`requests`]: requests as values, answers read back (re-exported here).
//! - [`pacer`]: its rate limits and retry decisions.
//! - [`sales`]: the orders flow's Sale and Customer requests.
//! - [`session`]: an authorised, paced conversation with one account.

pub mod catalogue;
pub mod model;
pub mod pacer;
pub mod requests;
pub mod sales;
pub mod session;

pub use requests::*;
