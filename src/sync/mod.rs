//! The flows between the POS and the web shop.

pub mod ledger;
pub mod stock;
