//! What a `product` event carries: one WooCommerce listing as the POS
//! describes it.

use super::settings::WooField;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Dimensions {
    pub length: Option<String>,
    pub width: Option<String>,
    pub height: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListingImage {
    /// `<imageID>-<hash of publicID and filename>`: the same key means the
    /// same picture, so PHP downloads an image only when its key is new.
    pub key: String,
    pub image_id: String,
    pub url: String,
    pub filename: String,
    pub alt: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListingAttribute {
    pub name: String,
    pub options: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Variation {
    pub item_id: String,
    pub sku: String,
    /// Attribute name → option, e.g. `{"Size":"M","Colour":"Black"}`.
    pub attributes: BTreeMap<String, String>,
    pub regular_price: Option<String>,
    pub sale_price: Option<String>,
    pub weight: Option<String>,
    pub dimensions: Dimensions,
    pub image: Option<ListingImage>,
    /// WooCommerce tax class slug, or `parent` when the variant is in the
    /// matrix's class.
    pub tax_class: String,
    /// Σ qoh over the selected shops − safety buffer (0 when archived),
    /// as in `stock` events: PHP subtracts the pending ledger.
    pub base: i64,
    /// false: archived in the POS, not published (`publishToEcom` off
    /// under the `ecom_flag` rule) or without a price above 0. PHP keeps the
    /// variation, disabled.
    pub enabled: bool,
    pub pos_timestamp: String,
    pub fingerprint: String,
    pub fingerprints: BTreeMap<String, String>,
}

/// One WooCommerce product as the POS describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Listing {
    /// `item:<itemID>` (simple) or `matrix:<itemMatrixID>` (variable).
    pub key: String,
    /// `simple` or `variable`.
    #[serde(rename = "type")]
    pub product_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matrix_id: Option<String>,
    pub name: String,
    /// HTML as the POS has it, with `<script>`/`<style>` content, `on*`
    /// attributes and `javascript:` URLs removed; PHP still runs
    /// `wp_kses_post`.
    pub description: String,
    pub short_description: String,
    pub sku: String,
    pub regular_price: Option<String>,
    pub sale_price: Option<String>,
    pub weight: Option<String>,
    pub dimensions: Dimensions,
    /// `taxable` or `none` (the POS item's `tax` flag).
    pub tax_status: String,
    /// WooCommerce tax class slug from the tax class map (`""`: Standard).
    pub tax_class: String,
    /// Full paths from the root, e.g. `[["Apparel","T-Shirts"]]`.
    pub categories: Vec<Vec<String>>,
    /// In POS order; the first is the product image.
    pub images: Vec<ListingImage>,
    /// `publish` or `hidden` (never deleted).
    pub visibility: String,
    /// Why hidden: `archived`, `not_selected`, `no_variants`, `no_price`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_reason: Option<String>,
    pub pos_timestamp: String,
    /// Simple products: as in `stock` events. Variable: on each variation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<ListingAttribute>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variations: Vec<Variation>,
    /// Fields PHP writes only when it creates the product.
    pub owned_by_woo: Vec<WooField>,
    /// Hash of the whole content (not of timestamps): unchanged → no write.
    pub fingerprint: String,
    /// Hash per field group: only the groups whose hash changed are written.
    pub fingerprints: BTreeMap<String, String>,
}
