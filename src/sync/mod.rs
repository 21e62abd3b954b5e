//! The flows between the POS and the web shop.

pub mod stock;
