//! Publish: POS items → WooCommerce listings. The flow itself is still in
//! [`crate::flows::products`] while it is cut into parts here.

pub mod html;
