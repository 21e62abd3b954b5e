//! The flows between the POS and the web shop.

pub mod ledger;
pub mod listing_price;
pub mod lookups;
pub mod orders;
pub mod products;
pub mod publish;
pub mod stamp;
pub mod stock;
