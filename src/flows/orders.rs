//! Orders and refunds: WooCommerce outbox rows → POS sales and returns,
//! exactly once (ARCHITECTURE.md, "Orders exactly once").
//!
//! PHP sends raw WooCommerce facts (`outbox[].payload`); every rule lives
//! here:
//! - **lookup first**: the row's reference number is looked up in the POS
//!   (`Sale.json?referenceNumber=…`, batched with `IN,[…]`); found → reported
//!   as `sale_posted` with `existing: true`, never posted again;
//! - **customer**: found by e-mail or created (guests too);
//! - **sale**: one completed sale, one line per order line, gross
//!   (tax-inclusive) unit prices with `tax:false` so the sale balances
//!   whatever the POS tax settings, the coupon discount as the line's
//!   `discountAmount`, shipping as a configured non-inventory item or left
//!   out, one payment of the mapped payment type equal to the sale total;
//! - **maybe posted**: a write without a clear answer is looked up again at
//!   once; not found → the row fails with `maybe_posted` and the next run
//!   looks it up again before any new attempt;
//! - **returns**: a new sale with negative `unitQuantity` and
//!   `parentSaleLineID` for what WooCommerce restocked, and a line on a
//!   non-inventory item for money refunded without restocking.
//!
//! Planning (payload building, balance, backoff, error classes) is pure
//! and unit-tested; [`run`] moves it over a [`Session`].

mod checks;
mod customer;
mod failures;
mod fees;
mod plan;
mod run;

pub use checks::*;
pub use customer::*;
pub use failures::*;
pub use fees::*;
pub use plan::*;
pub use run::*;

use crate::pos::lightspeed_r as ls;
use crate::pos::lightspeed_r::model::Money;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

/// First retry after this long; doubles per failed attempt.
pub const RETRY_BASE_MS: u64 = 60_000;
/// Longest wait between two attempts of one row.
pub const RETRY_CAP_MS: u64 = 3_600_000;
/// This many transient failures in a row stop the batch (the POS is down;
/// the rest is left for the next run instead of hammering it).
pub const STOP_AFTER_TRANSIENT_FAILURES: u32 = 3;
/// Reference numbers looked up per request (Lightspeed's `IN` limit).
pub const LOOKUP_CHUNK: usize = ls::MAX_PAGE;

// ---------------------------------------------------------------------------
// The job's order fields

use crate::protocol::lenient::{de_opt_id, de_opt_ms, de_text};
use crate::protocol::{order_parts, Job};
pub use crate::protocol::{
    OrderSettings, OutboxRow, PaymentTypes, RowKind, Shipping, DEFAULT_MAX_ATTEMPTS,
};

fn de_money<'de, D: Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Money::ZERO),
        Value::String(s) if s.trim().is_empty() => Ok(Money::ZERO),
        Value::String(s) => Money::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("expected an amount, got {s:?}"))),
        Value::Number(n) => Money::parse(&n.to_string())
            .ok_or_else(|| serde::de::Error::custom(format!("expected an amount, got {n}"))),
        other => Err(serde::de::Error::custom(format!(
            "expected an amount, got {other}"
        ))),
    }
}

fn de_qty<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = Value::deserialize(d)?;
    let n = match &v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok().or_else(|| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.fract() == 0.0)
                .map(|f| f as i64)
        }),
        _ => None,
    };
    n.ok_or_else(|| serde::de::Error::custom(format!("expected a whole quantity, got {v}")))
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct BillingAddress {
    #[serde(default, deserialize_with = "de_text")]
    pub address1: String,
    #[serde(default, deserialize_with = "de_text")]
    pub address2: String,
    #[serde(default, deserialize_with = "de_text")]
    pub city: String,
    #[serde(default, deserialize_with = "de_text")]
    pub state: String,
    #[serde(default, deserialize_with = "de_text")]
    pub postcode: String,
    #[serde(default, deserialize_with = "de_text")]
    pub country: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct OrderCustomer {
    #[serde(default, deserialize_with = "de_text")]
    pub email: String,
    #[serde(default, deserialize_with = "de_text")]
    pub first_name: String,
    #[serde(default, deserialize_with = "de_text")]
    pub last_name: String,
    #[serde(default, deserialize_with = "de_text")]
    pub phone: String,
    #[serde(default)]
    pub billing: BillingAddress,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct OrderLine {
    #[serde(default, deserialize_with = "de_text")]
    pub line_id: String,
    #[serde(default, deserialize_with = "de_text")]
    pub product_id: String,
    #[serde(default, deserialize_with = "de_opt_id")]
    pub item_id: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub sku: String,
    #[serde(default, deserialize_with = "de_text")]
    pub name: String,
    #[serde(deserialize_with = "de_qty")]
    pub qty: i64,
    /// Per unit, before coupons, excluding tax.
    #[serde(deserialize_with = "de_money")]
    pub unit_price: Money,
    /// The line after coupons, excluding tax.
    #[serde(deserialize_with = "de_money")]
    pub total: Money,
    /// Tax on `total`.
    #[serde(default, deserialize_with = "de_money")]
    pub tax: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct OrderPayload {
    #[serde(deserialize_with = "de_text")]
    pub number: String,
    #[serde(default, deserialize_with = "de_text")]
    pub currency: String,
    #[serde(default)]
    pub customer: OrderCustomer,
    pub lines: Vec<OrderLine>,
    #[serde(default, deserialize_with = "de_money")]
    pub shipping_total: Money,
    #[serde(default, deserialize_with = "de_money")]
    pub shipping_tax: Money,
    /// WooCommerce fee lines (on `settings.fee_item_id`).
    #[serde(default)]
    pub fees: Vec<Fee>,
    #[serde(default, deserialize_with = "de_money")]
    pub discount_total: Money,
    #[serde(deserialize_with = "de_money")]
    pub total: Money,
    #[serde(default, deserialize_with = "de_money")]
    pub total_tax: Money,
    #[serde(default, deserialize_with = "de_text")]
    pub gateway: String,
    #[serde(default)]
    pub prices_include_tax: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RefundLine {
    #[serde(default, deserialize_with = "de_text")]
    pub line_id: String,
    #[serde(default, deserialize_with = "de_opt_id")]
    pub item_id: Option<String>,
    #[serde(default, deserialize_with = "de_qty")]
    pub qty: i64,
    /// Money refunded for this line, tax included, positive.
    #[serde(deserialize_with = "de_money")]
    pub amount: Money,
    #[serde(default)]
    pub restock: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RefundPayload {
    #[serde(deserialize_with = "de_text")]
    pub number: String,
    #[serde(deserialize_with = "de_text")]
    pub order_reference: String,
    #[serde(default, deserialize_with = "de_opt_id")]
    pub order_sale_id: Option<String>,
    /// The whole refund, tax included, positive.
    #[serde(deserialize_with = "de_money")]
    pub amount: Money,
    #[serde(default, deserialize_with = "de_text")]
    pub reason: String,
    #[serde(default)]
    pub lines: Vec<RefundLine>,
    #[serde(default)]
    pub full: bool,
    /// When the order was created (optional): the date window of the
    /// collision check on the original sale found by `order_reference`.
    #[serde(default, deserialize_with = "de_opt_ms")]
    pub order_placed_at_ms: Option<u64>,
}

/// The order half of a `post_orders` job.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderJob {
    pub settings: OrderSettings,
    pub outbox: Vec<OutboxRow>,
}

impl OrderJob {
    /// The order part of a job read by [`Job::from_value`]; `None` when the
    /// job is not a `post_orders` job.
    pub fn of(job: &mut Job) -> Option<OrderJob> {
        Some(OrderJob {
            settings: job.settings.orders.take()?,
            outbox: std::mem::take(&mut job.outbox),
        })
    }

    /// Reads `settings` (the order fields) and `outbox` from a job line
    /// alone; the message names what is wrong (→ `bad_job`).
    pub fn from_job(job: &Value) -> Result<OrderJob, String> {
        let (settings, outbox) = order_parts(job)?;
        Ok(OrderJob { settings, outbox })
    }
}
