//! The flows between the POS and the web shop.

pub mod ledger;
pub mod lookups;
pub mod orders;
pub mod products;
pub mod stamp;
pub mod stock;
