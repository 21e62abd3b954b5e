//! Stock: POS quantities → the figure each web product should show.
//!
//! Two reads feed the same `stock` events:
//! - **sync** (incremental): the ItemShop rows changed since the cursor, page
//!   by page; the items behind each page are loaded with all their ItemShops
//!   so every level is complete.
//! - **reconcile**: every live item in itemID order, resumable.
//!
//! Archived items: sync reports them with `base` 0 (the POS no longer sells
//! them; DELETE in Lightspeed archives and zeroes stock, which moves the
//! ItemShop timestamps, so sync sees it). Reconcile reads live items only.

use crate::edge::transport::{Clock, Transport};
use crate::edge::Host;
pub use crate::flows::stamp::NextRead;
use crate::flows::stamp::{Scan, StampRow, Stamps};
use crate::pos::lightspeed_r as ls;
use crate::pos::lightspeed_r::model::{shop_quantities, Item, ItemShop, ParseError};
use crate::pos::lightspeed_r::session::{ApiError, Session};
use crate::protocol::{Event, LogLevel, ReconcileCursor, Settings};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------
// The plan (pure)

/// What the POS says about one item's stock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemStock {
    pub item_id: String,
    pub sku: String,
    pub archived: bool,
    /// shopID → qoh; `"0"` is Lightspeed's all-shops total row.
    pub shop_qoh: BTreeMap<String, i64>,
}

impl ItemStock {
    pub fn from_item(item: &Item) -> Self {
        ItemStock {
            item_id: item.item_id.clone(),
            sku: item.sku().to_string(),
            archived: item.archived,
            shop_qoh: shop_quantities(item),
        }
    }
}

pub use crate::protocol::{ItemShopCursor, StockLevel, StockSettings};

/// Stamps levels with the window of the reading they come from.
fn stamped(mut levels: Vec<StockLevel>, from: u64, until: u64) -> Vec<StockLevel> {
    for l in &mut levels {
        l.read_from_ms = from;
        l.read_until_ms = until;
    }
    levels
}

/// POS quantities → stock levels. Pure.
pub fn plan(items: &[ItemStock], settings: &StockSettings) -> Vec<StockLevel> {
    items
        .iter()
        .map(|it| {
            let qoh = if settings.shop_ids.is_empty() {
                // Every shop: the total row, or the sum when Lightspeed has
                // not created the total row yet (rows appear lazily).
                it.shop_qoh.get("0").copied().unwrap_or_else(|| {
                    it.shop_qoh
                        .iter()
                        .filter(|(s, _)| s.as_str() != "0")
                        .map(|(_, q)| q)
                        .sum()
                })
            } else {
                // A selected shop with no row yet holds nothing.
                let selected: BTreeSet<&str> =
                    settings.shop_ids.iter().map(String::as_str).collect();
                selected
                    .iter()
                    .map(|s| it.shop_qoh.get(*s).copied().unwrap_or(0))
                    .sum()
            };
            StockLevel {
                item_id: it.item_id.clone(),
                sku: it.sku.clone(),
                shop_qoh: it
                    .shop_qoh
                    .iter()
                    .filter(|(s, _)| s.as_str() != "0")
                    .map(|(s, q)| (s.clone(), *q))
                    .collect(),
                qoh,
                base: if it.archived {
                    0
                } else {
                    qoh - settings.safety_buffer
                },
                read_from_ms: 0,
                read_until_ms: 0,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The incremental cursor (pure)

/// The item_shop cursor, read: the shared timestamp cursor with qoh as
/// the version (`sync::stamp`).
pub type CursorState = Stamps<i64>;

impl Stamps<i64> {
    pub fn from_cursor(c: &ItemShopCursor) -> Result<Self, String> {
        Stamps::from_parts(
            &c.ts,
            &c.ids,
            |id| c.qoh.get(id).copied(),
            "cursors.item_shop",
        )
    }

    pub fn to_cursor(&self) -> Option<ItemShopCursor> {
        let (ts, ids, qoh) = self.parts()?;
        Some(ItemShopCursor { ts, ids, qoh })
    }
}

/// The incremental ItemShop scan (`sync::stamp::Scan`): qoh is the
/// version, and no second is ever taken as settled (a stock row moves
/// whenever a sale does).
pub type StockScan = Scan<i64>;

impl Scan<i64> {
    pub fn on_page<'r>(
        &mut self,
        rows: &'r [ItemShop],
        has_next: bool,
    ) -> Result<(Vec<&'r ItemShop>, NextRead), ParseError> {
        let stamped: Vec<StampRow<'_, i64>> = rows
            .iter()
            .map(|r| StampRow {
                id: &r.item_shop_id,
                ts: &r.time_stamp,
                version: r.qoh,
            })
            .collect();
        let (admitted, next) = self.on_rows(&stamped, has_next, i64::MIN, "ItemShop")?;
        Ok((admitted.into_iter().map(|i| &rows[i]).collect(), next))
    }
}

// ---------------------------------------------------------------------------
// The runs

type RunResult = Result<Value, (ApiError, Value)>;

/// Incremental stock read.
pub async fn run_sync<T: Transport, C: Clock, H: Host>(
    session: &mut Session<'_, T, C, H>,
    settings: &Settings,
    cursor: Option<ItemShopCursor>,
) -> RunResult {
    let stock_settings = StockSettings::from(settings);
    let state = match &cursor {
        None => CursorState::start(),
        Some(c) => CursorState::from_cursor(c).map_err(|m| {
            (
                ApiError::Malformed(ParseError::new("cursor", None, m)),
                json!({}),
            )
        })?,
    };
    let mut pages = 0u64;
    let mut rows_read = 0u64;
    let mut levels_sent = 0u64;
    let summary = |pages: u64, rows: u64, levels: u64, done: bool| json!({"pages": pages, "rows": rows, "levels": levels, "done": done});

    let mut scan = StockScan::new(state);
    let mut req = session.endpoint.item_shops_since(scan.state.since());
    loop {
        let resp = match session.call(&req).await {
            Ok(r) => r,
            Err(ApiError::BudgetSpent) => return Ok(summary(pages, rows_read, levels_sent, false)),
            Err(e) => return Err((e, summary(pages, rows_read, levels_sent, false))),
        };
        let page = ls::read_item_shops(&resp.body)
            .map_err(|e| (e.into(), summary(pages, rows_read, levels_sent, false)))?;
        let before = scan.clone();
        let (admitted, next_read) = scan
            .on_page(&page.items, page.next.is_some())
            .map_err(|e| (e.into(), summary(pages, rows_read, levels_sent, false)))?;

        let mut item_ids: Vec<String> = Vec::new();
        for row in &admitted {
            if !item_ids.contains(&row.item_id) {
                item_ids.push(row.item_id.clone());
            }
        }
        let levels = if item_ids.is_empty() {
            Vec::new()
        } else {
            let from = session.now_ms();
            match load_items(session, &item_ids).await {
                Ok(items) => stamped(plan(&items, &stock_settings), from, session.now_ms()),
                Err(ApiError::BudgetSpent) => {
                    return Ok(summary(pages, rows_read, levels_sent, false))
                }
                Err(e) => return Err((e, summary(pages, rows_read, levels_sent, false))),
            }
        };
        pages += 1;
        rows_read += admitted.len() as u64;
        levels_sent += levels.len() as u64;
        if before.state != scan.state || !levels.is_empty() {
            let cursor = scan
                .state
                .to_cursor()
                .map(|c| json!(c))
                .unwrap_or(Value::Null);
            session.out().emit(Event::Stock { levels, cursor });
        }
        session.out().emit(Event::Progress {
            flow: "stock".into(),
            done: rows_read,
            total: None,
        });
        req = match (next_read, page.next) {
            (NextRead::Done, _) => return Ok(summary(pages, rows_read, levels_sent, true)),
            (NextRead::Follow, Some(next)) => session
                .endpoint
                .follow_next(&req, &next)
                .map_err(|e| (e.into(), summary(pages, rows_read, levels_sent, false)))?,
            _ => session.endpoint.item_shops_since(scan.state.since()),
        };
    }
}

/// Fresh readings of items the plugin asks about: those whose outbox rows
/// were just confirmed (the ledger's doubt window, see [`super::ledger`]) or
/// whose stock was typed into WooCommerce. One `stock` event per 100 items,
/// with the cursor `{"recheck": [ids]}`; the item_shop cursor is untouched.
pub async fn run_recheck<T: Transport, C: Clock, H: Host>(
    session: &mut Session<'_, T, C, H>,
    settings: &Settings,
    item_ids: &[String],
) -> Result<u64, ApiError> {
    let stock_settings = StockSettings::from(settings);
    let mut sent = 0u64;
    for chunk in item_ids.chunks(ls::MAX_PAGE) {
        let from = session.now_ms();
        let items = load_items(session, chunk).await?;
        let levels = stamped(plan(&items, &stock_settings), from, session.now_ms());
        sent += levels.len() as u64;
        session.out().emit(Event::Stock {
            levels,
            cursor: json!({ "recheck": chunk }),
        });
    }
    Ok(sent)
}

/// Loads items (≤ 100) with all their ItemShops; ids the POS no longer
/// knows are logged and skipped.
async fn load_items<T: Transport, C: Clock, H: Host>(
    session: &mut Session<'_, T, C, H>,
    item_ids: &[String],
) -> Result<Vec<ItemStock>, ApiError> {
    let mut found: Vec<ItemStock> = Vec::new();
    // A page holds at most 100 rows, but never trust that with IN's limit.
    for chunk in item_ids.chunks(ls::MAX_PAGE) {
        let mut req = session.endpoint.items_with_stock(chunk)?;
        let before = found.len();
        loop {
            let resp = session.call(&req).await?;
            let page = ls::read_items(&resp.body)?;
            found.extend(page.items.iter().map(ItemStock::from_item));
            match page.next {
                Some(next) if !page.items.is_empty() && found.len() - before < chunk.len() => {
                    req = session.endpoint.follow_next(&req, &next)?;
                }
                _ => break,
            }
        }
    }
    let missing: Vec<&String> = item_ids
        .iter()
        .filter(|id| !found.iter().any(|f| &f.item_id == *id))
        .collect();
    if !missing.is_empty() {
        session.out().log(
            LogLevel::Warning,
            format!(
                "stock changed for item(s) {} but the POS did not return them; skipped",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    Ok(found)
}

/// Full stock read of every live item, in itemID order, resumable.
pub async fn run_reconcile<T: Transport, C: Clock, H: Host>(
    session: &mut Session<'_, T, C, H>,
    settings: &Settings,
    cursor: Option<ReconcileCursor>,
) -> RunResult {
    let stock_settings = StockSettings::from(settings);
    let mut after: Option<String> = cursor
        .map(|c| c.after.trim().to_string())
        .filter(|s| !s.is_empty());
    let mut pages = 0u64;
    let mut items_read = 0u64;
    let mut total: Option<u64> = None;
    let summary = |pages: u64, items: u64, done: bool| json!({"pages": pages, "items": items, "levels": items, "done": done});
    loop {
        let req = session.endpoint.items_after(after.as_deref());
        let from = session.now_ms();
        let resp = match session.call(&req).await {
            Ok(r) => r,
            Err(ApiError::BudgetSpent) => return Ok(summary(pages, items_read, false)),
            Err(e) => return Err((e, summary(pages, items_read, false))),
        };
        let page = ls::read_items(&resp.body)
            .map_err(|e| (e.into(), summary(pages, items_read, false)))?;
        if total.is_none() {
            total = page.count;
        }
        let items: Vec<ItemStock> = page
            .items
            .iter()
            .filter(|i| !i.archived)
            .map(ItemStock::from_item)
            .collect();
        let levels = stamped(plan(&items, &stock_settings), from, session.now_ms());
        pages += 1;
        items_read += levels.len() as u64;
        // Item ids are numeric strings; keep the largest as the resume point.
        if let Some(last) = page
            .items
            .iter()
            .map(|i| i.item_id.clone())
            .max_by(|a, b| cmp_ids(a, b))
        {
            after = Some(last);
        }
        // The id cursor reads on after a full page even when the POS left
        // out `next`; a short page without `next` is the end.
        let done =
            page.items.is_empty() || (page.next.is_none() && page.items.len() < ls::MAX_PAGE);
        let cursor = if done {
            json!({"reconcile": null})
        } else {
            json!({"reconcile": {"after": after}})
        };
        session.out().emit(Event::Stock { levels, cursor });
        session.out().emit(Event::Progress {
            flow: "reconcile".into(),
            done: items_read,
            total,
        });
        if done {
            return Ok(summary(pages, items_read, true));
        }
    }
}

/// Numeric ids compare as numbers ("9" < "10"), others as text.
fn cmp_ids(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}
