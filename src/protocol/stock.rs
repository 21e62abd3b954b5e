//! What a `stock` event carries.

use serde::Serialize;
use std::collections::BTreeMap;

/// One line of a `stock` event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StockLevel {
    pub item_id: String,
    pub sku: String,
    /// Per-shop quantities (the shop 0 total row left out).
    pub shop_qoh: BTreeMap<String, i64>,
    /// Σ qoh over the selected shops.
    pub qoh: i64,
    /// What the web may sell before the pending ledger: `qoh` − safety
    /// buffer (may be negative; PHP floors after subtracting the ledger).
    /// 0 for archived items.
    pub base: i64,
    /// When the request behind this reading was sent, and when its answer
    /// came back (host clock, ms): the applier's pending ledger needs both
    /// (see `flows::ledger`).
    pub read_from_ms: u64,
    pub read_until_ms: u64,
}
