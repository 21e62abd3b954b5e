//! The pending ledger: online orders and restocking refunds the POS may not
//! have counted yet in a stock reading.
//!
//! A stock level is a reading of the POS made by a request sent at
//! `read_from_ms` and answered at `read_until_ms`. A web order moves POS
//! stock only when its sale is committed in the POS, some time between the
//! first attempt to post it and the moment the answer came back
//! (`posted_at_ms`). So for one reading:
//!
//! - an **order** (negative quantity) is subtracted unless the POS surely
//!   counted it: confirmed before the reading's request was sent. When in
//!   doubt it is subtracted — web stock errs low, never oversells.
//! - a **restocking refund** (positive quantity) is added only when the POS
//!   surely had not counted it: never sent, or first sent after the reading's
//!   answer came back. When in doubt it is left out — again web stock errs low.
//!
//! - a **released** row (cancelled before it was sent, entered in the POS
//!   by hand, or reported absent after a possible send) counts nothing:
//!   WooCommerce gave its units back and the POS never took them. A row
//!   with `posted_at_ms` is never released: the POS has it, the rules
//!   above apply (its cancellation is a separate return row).
//!
//! Erring low while a write is in flight would stick, because nothing moves
//! the ItemShop timestamp again. So every row that becomes posted asks for a
//! fresh reading of its items (`recheck_item_ids` in the next job), taken
//! after the answer: for that reading the row is no longer in doubt.
//!
//! PHP evaluates the same rule in SQL inside the transaction that writes the
//! stock (`php-plugin/includes/Store/Ledger.php`); both are checked against
//! `tests/fixtures/ledger-cases.json`.

use serde::{Deserialize, Serialize};

/// One outbox row as far as stock is concerned, for one product.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerRow {
    /// Signed: an order's quantity is negative, a restocking refund's
    /// positive (a refund that did not restock is not in the ledger).
    pub qty: i64,
    /// When the first attempt to post it started; `None` = never sent.
    #[serde(default)]
    pub first_attempt_at_ms: Option<u64>,
    /// When the POS's answer confirmed it (or a lookup found it); `None` =
    /// not confirmed yet.
    #[serde(default)]
    pub posted_at_ms: Option<u64>,
    /// WooCommerce gave the stock back and the POS surely does not have the
    /// sale (never sent, or a lookup reported it absent): the row counts 0.
    /// A row with `posted_at_ms` is never released (the POS has it).
    #[serde(default)]
    pub released: bool,
}

/// The ledger term for a reading sent at `read_from_ms` and answered at
/// `read_until_ms`.
pub fn ledger_for(rows: &[LedgerRow], read_from_ms: u64, read_until_ms: u64) -> i64 {
    rows.iter()
        .map(|r| {
            if r.released && r.posted_at_ms.is_none() {
                0
            } else if r.qty < 0 {
                let surely_counted = matches!(r.posted_at_ms, Some(p) if p < read_from_ms);
                if surely_counted {
                    0
                } else {
                    r.qty
                }
            } else {
                let surely_not_counted = match r.first_attempt_at_ms {
                    None => r.posted_at_ms.is_none(),
                    Some(a) => a > read_until_ms,
                };
                if surely_not_counted {
                    r.qty
                } else {
                    0
                }
            }
        })
        .sum()
}

/// Web stock = max(0, base + ledger), where `base` = Σ qoh over the chosen
/// shops − safety buffer (see [`super::stock::StockLevel`]).
pub fn web_stock(base: i64, ledger: i64) -> i64 {
    (base + ledger).max(0)
}
