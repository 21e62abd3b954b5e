//! The web price of one POS item, and whether it can be sold at all (issue 11).
//!
//! Lightspeed answers `"0"` (or `""`, or no `ItemPrice` at all) for an item
//! nobody priced yet; read as it is, that is a listing anyone can buy for
//! nothing. So a listing's regular price is the chosen level when it is
//! above 0, else the merchant's fallback level when that is above 0, else
//! none, and a listing without one is not for sale: a simple item is hidden
//! `no_price`, a variant disabled, a matrix with no priced variant hidden.

use crate::flows::products::{PriceLevel, PublishConfig, WooField};
use crate::pos::lightspeed_r::model::{ItemPrice, Money};

/// Why a listing without a price is hidden (`hidden_reason`).
pub const NO_PRICE: &str = "no_price";

/// (regular, sale). Regular: the chosen level above 0 (Online falling back
/// to Default when missing or 0), else `fallback_price_level` above 0, else
/// none. Sale: the sale price level when it is set, above 0 and below the
/// regular price.
pub fn prices(list: &[ItemPrice], p: &PublishConfig) -> (Option<String>, Option<String>) {
    let find = |name: &str| -> Option<Money> {
        list.iter()
            .find(|x| x.use_type.trim().eq_ignore_ascii_case(name.trim()))
            .map(|x| x.amount)
            .filter(|m| m.cents > 0)
    };
    let chosen = match p.price_level {
        PriceLevel::Default => find("Default"),
        PriceLevel::Online => find("Online").or_else(|| find("Default")),
    };
    let fallback = p
        .fallback_price_level
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let regular = chosen.or_else(|| fallback.and_then(find));
    let sale_level = p
        .sale_price_level
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("Sale");
    let sale = find(sale_level).filter(|s| regular.is_some_and(|r| s.cents < r.cents));
    (regular.map(|m| m.to_string()), sale.map(|m| m.to_string()))
}

/// Whether a listing with this regular price may be on sale. A merchant who
/// keeps prices in WooCommerce (`owned_by_woo` has `price`) types the web
/// price there, so the POS having none hides nothing.
pub fn sellable(regular: Option<&str>, p: &PublishConfig) -> bool {
    regular.is_some() || p.owned_by_woo.contains(&WooField::Price)
}

/// A listing that would be published but has nothing to sell at a price is
/// hidden `no_price`; any other visibility (archived, not selected) stands.
pub fn unless_priceless(
    (visibility, reason): (String, Option<String>),
    sellable: bool,
) -> (String, Option<String>) {
    if visibility == "publish" && !sellable {
        ("hidden".into(), Some(NO_PRICE.into()))
    } else {
        (visibility, reason)
    }
}
