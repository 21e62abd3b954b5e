//! The flows between the POS and the web shop.

pub mod ledger;
pub mod orders;
pub mod products;
pub mod stock;
