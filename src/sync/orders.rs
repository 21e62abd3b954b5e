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

use crate::job::{Event, Host, LogLevel};
use crate::model::{self, Customer, Money, Sale};
use crate::pos::lightspeed_r::{self as ls, encode_component, ApiRequest, Filter, Query};
use crate::session::{ApiError, Session};
use crate::transport::{Clock, Method, Transport};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Default for `settings.max_attempts`.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
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

fn de_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected text or a number, got {other}"
        ))),
    }
}

fn de_opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = de_text(d)?;
    Ok(Some(s).filter(|s| !s.is_empty() && s != "0"))
}

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

fn de_attempts<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(0),
        Value::Number(n) => n
            .as_u64()
            .map(|n| n.min(u32::MAX as u64) as u32)
            .ok_or_else(|| serde::de::Error::custom("attempts must be a whole number ≥ 0")),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom("attempts must be a whole number ≥ 0")),
        other => Err(serde::de::Error::custom(format!(
            "attempts must be a number, got {other}"
        ))),
    }
}

/// WooCommerce gateway id → POS paymentTypeID, with a `default`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaymentTypes {
    pub by_gateway: BTreeMap<String, String>,
    pub default: Option<String>,
}

impl<'de> Deserialize<'de> for PaymentTypes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut out = PaymentTypes::default();
        match Value::deserialize(d)? {
            Value::Null => {}
            Value::Object(m) => {
                for (k, v) in m {
                    let id = match v {
                        Value::String(s) => s.trim().to_string(),
                        Value::Number(n) => n.to_string(),
                        Value::Null => continue,
                        other => {
                            return Err(serde::de::Error::custom(format!(
                                "payment_types.{k}: expected a paymentTypeID, got {other}"
                            )))
                        }
                    };
                    if id.is_empty() || id == "0" {
                        continue;
                    }
                    if k == "default" {
                        out.default = Some(id);
                    } else {
                        out.by_gateway.insert(k, id);
                    }
                }
            }
            other => {
                return Err(serde::de::Error::custom(format!(
                    "payment_types: expected an object, got {other}"
                )))
            }
        }
        Ok(out)
    }
}

impl PaymentTypes {
    pub fn for_gateway(&self, gateway: &str) -> Option<&str> {
        self.by_gateway
            .get(gateway)
            .or(self.default.as_ref())
            .map(String::as_str)
    }
}

/// How WooCommerce shipping reaches the sale.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Shipping {
    /// A line on this (non-inventory) POS item.
    Item {
        #[serde(deserialize_with = "de_text")]
        item_id: String,
    },
    /// Left out of the sale; the payment is the order total minus shipping.
    #[default]
    Exclude,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct OrderSettings {
    #[serde(deserialize_with = "de_text")]
    pub shop_id: String,
    #[serde(deserialize_with = "de_text")]
    pub register_id: String,
    #[serde(deserialize_with = "de_text")]
    pub employee_id: String,
    #[serde(default)]
    pub payment_types: PaymentTypes,
    #[serde(default)]
    pub shipping: Shipping,
    /// A non-inventory POS item for money refunded without restocking;
    /// falls back to the shipping item.
    #[serde(default, deserialize_with = "de_opt_id")]
    pub refund_item_id: Option<String>,
    #[serde(default = "default_source", deserialize_with = "de_text")]
    pub reference_source: String,
    #[serde(default = "default_max_attempts", deserialize_with = "de_attempts")]
    pub max_attempts: u32,
}

fn default_source() -> String {
    "WooCommerce".into()
}

fn default_max_attempts() -> u32 {
    DEFAULT_MAX_ATTEMPTS
}

impl OrderSettings {
    /// The item that carries money-only refund lines.
    pub fn refund_item(&self) -> Option<&str> {
        self.refund_item_id.as_deref().or(match &self.shipping {
            Shipping::Item { item_id } if !item_id.is_empty() => Some(item_id.as_str()),
            _ => None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    Order,
    Refund,
}

/// One outbox row as PHP sends it; the payload is read per row so one bad
/// payload fails that row, not the job.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct OutboxRow {
    #[serde(deserialize_with = "de_text")]
    pub id: String,
    pub kind: RowKind,
    #[serde(deserialize_with = "de_text")]
    pub reference: String,
    #[serde(default, deserialize_with = "de_attempts")]
    pub attempts: u32,
    #[serde(default)]
    pub payload: Value,
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
}

/// The order half of a `post_orders` job.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderJob {
    pub settings: OrderSettings,
    pub outbox: Vec<OutboxRow>,
}

impl OrderJob {
    /// Reads `settings` (the order fields) and `outbox` from the job line;
    /// the message names what is wrong (→ `bad_job`).
    pub fn from_job(job: &Value) -> Result<OrderJob, String> {
        let settings: OrderSettings =
            serde_json::from_value(job.get("settings").cloned().unwrap_or(Value::Null))
                .map_err(|e| format!("settings for post_orders are malformed: {e}"))?;
        for (name, v) in [
            ("settings.shop_id", &settings.shop_id),
            ("settings.register_id", &settings.register_id),
            ("settings.employee_id", &settings.employee_id),
        ] {
            if v.is_empty() || v == "0" {
                return Err(format!("{name} is empty"));
            }
        }
        if let Shipping::Item { item_id } = &settings.shipping {
            if item_id.is_empty() || item_id == "0" {
                return Err("settings.shipping.item_id is empty (mode \"item\")".into());
            }
        }
        if settings.max_attempts == 0 {
            return Err("settings.max_attempts must be at least 1".into());
        }
        let outbox: Vec<OutboxRow> =
            serde_json::from_value(job.get("outbox").cloned().unwrap_or(json!([])))
                .map_err(|e| format!("outbox is malformed: {e}"))?;
        for row in &outbox {
            if row.id.is_empty() || row.reference.is_empty() {
                return Err("every outbox row needs an id and a reference".into());
            }
        }
        Ok(OrderJob { settings, outbox })
    }
}

// ---------------------------------------------------------------------------
// Failures (pure classification)

/// How a failed row is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureClass {
    /// Try again later (backoff by attempts; attention after `max_attempts`).
    Transient,
    /// Retrying the same payload cannot help: attention at once.
    Permanent,
}

/// Why a row was not posted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowFailure {
    pub code: &'static str,
    /// What went wrong, without the row's name (added by [`failure_event`]).
    pub cause: String,
    pub class: FailureClass,
}

impl RowFailure {
    pub fn permanent(code: &'static str, cause: impl Into<String>) -> Self {
        RowFailure {
            code,
            cause: cause.into(),
            class: FailureClass::Permanent,
        }
    }

    pub fn transient(code: &'static str, cause: impl Into<String>) -> Self {
        RowFailure {
            code,
            cause: cause.into(),
            class: FailureClass::Transient,
        }
    }
}

/// What a failed write means for the row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteFailure {
    /// No clear answer (timeout, dropped connection, 502/504 from a
    /// gateway): the write may still land; never re-post in this run.
    InFlight,
    /// The POS answered with a server error: look up once, then it is safe
    /// to leave the row for a later attempt.
    Answered,
}

/// Reads an [`ApiError::MaybeApplied`] detail (`"HTTP 500"` or a transport
/// error text).
pub fn classify_maybe_applied(detail: &str) -> WriteFailure {
    match detail
        .strip_prefix("HTTP ")
        .and_then(|s| s.trim().parse::<u16>().ok())
    {
        Some(502) | Some(504) | None => WriteFailure::InFlight,
        Some(_) => WriteFailure::Answered,
    }
}

/// Job-wide errors stop the run (and become the job's `error` event);
/// everything else is the row's own failure.
pub fn is_job_wide(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::Credentials(_)
            | ApiError::Unauthorized(_)
            | ApiError::Account(_)
            | ApiError::TokenNotSaved(_)
            | ApiError::BudgetSpent
            | ApiError::Request(_)
            | ApiError::HostNotAllowed { .. }
    )
}

/// A failed API call of a row → the row's failure.
pub fn classify_api_error(e: &ApiError) -> RowFailure {
    match e {
        ApiError::Refused { status, reason, .. } => RowFailure::permanent(
            "pos_refused",
            format!("the POS refused it (HTTP {status}: {reason})"),
        ),
        ApiError::Malformed(p) => RowFailure::transient(
            "malformed_answer",
            format!("the POS answer was unreadable ({p})"),
        ),
        ApiError::RateLimited { .. } => {
            RowFailure::transient("rate_limited", "the POS kept answering 429 (throttled)")
        }
        ApiError::Unavailable { detail, .. } => RowFailure::transient(
            "pos_unavailable",
            format!("POS answered {}", short_detail(detail)),
        ),
        ApiError::Network { detail, .. } => RowFailure::transient(
            "network",
            format!("the POS could not be reached ({detail})"),
        ),
        ApiError::MaybeApplied { detail, .. } => RowFailure::transient(
            "maybe_posted",
            format!(
                "no clear answer after sending ({}); it is looked up again before any new attempt",
                short_detail(detail)
            ),
        ),
        other => RowFailure::transient(other.code(), other.to_string()),
    }
}

fn short_detail(d: &str) -> String {
    d.strip_prefix("HTTP ").unwrap_or(d).to_string()
}

/// When to try a row again after its `failures`-th failed attempt, or
/// `None` when it is parked for attention. Capped exponential:
/// 1, 2, 4, 8, 16, 32, 60, 60… minutes.
pub fn retry_at_ms(now_ms: u64, failures: u32, max_attempts: u32) -> Option<u64> {
    if failures >= max_attempts {
        return None;
    }
    let step = RETRY_BASE_MS
        .saturating_mul(1u64 << failures.saturating_sub(1).min(20))
        .min(RETRY_CAP_MS);
    Some(now_ms + step)
}

/// `HH:MM` (UTC) of an instant, for messages.
pub fn hh_mm_utc(ms: u64) -> String {
    let minutes = (ms / 60_000) % 1440;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The `outbox_failed` event of a row: message names the order, says what
/// happens next; attention when permanent or out of attempts.
pub fn failure_event(
    row: &OutboxRow,
    what: &str,
    failure: &RowFailure,
    now_ms: u64,
    max_attempts: u32,
) -> Event {
    let failures = row.attempts.saturating_add(1);
    let (retry, message) = match failure.class {
        FailureClass::Permanent => (
            None,
            format!(
                "{what}: {}; needs attention (fix the cause, then retry)",
                failure.cause
            ),
        ),
        FailureClass::Transient => match retry_at_ms(now_ms, failures, max_attempts) {
            Some(at) => (
                Some(at),
                format!(
                    "{what}: {}; retry {} of {} at {} UTC",
                    failure.cause,
                    failures,
                    max_attempts.saturating_sub(1),
                    hh_mm_utc(at)
                ),
            ),
            None => (
                None,
                format!(
                    "{what}: {}; gave up after {failures} attempts, needs attention",
                    failure.cause
                ),
            ),
        },
    };
    Event::OutboxFailed {
        outbox_id: row.id.clone(),
        reference: row.reference.clone(),
        code: failure.code.to_string(),
        message,
        attention: retry.is_none(),
        retry_at_ms: retry,
    }
}

/// "order #1042" / "refund #77 of order #1042", from whatever the payload
/// gives (the reference when the payload is unreadable).
pub fn row_name(row: &OutboxRow) -> String {
    let text = |k: &str| {
        row.payload.get(k).and_then(|v| match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    match row.kind {
        RowKind::Order => match text("number") {
            Some(n) => format!("order #{n}"),
            None => format!("order {}", row.reference),
        },
        RowKind::Refund => {
            let n = text("number").map_or_else(|| row.reference.clone(), |n| format!("#{n}"));
            match (text("order_number"), text("order_reference")) {
                (Some(o), _) => format!("refund {n} of order #{o}"),
                (None, Some(o)) => format!("refund {n} of order {o}"),
                (None, None) => format!("refund {n}"),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Sale planning (pure)

/// One line of a sale or return as it will be posted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedLine {
    pub item_id: String,
    pub unit_quantity: i64,
    /// Tax included (lines are posted with `tax:false`).
    pub unit_price: Money,
    /// Whole-line discount; negative on a return line that refunds less
    /// than the unit price (the mirror of the sale's discount).
    pub discount: Money,
    pub parent_sale_line_id: Option<String>,
}

impl PlannedLine {
    /// `unitQuantity × unitPrice − discountAmount`, what the POS computes.
    pub fn total(&self) -> Money {
        Money::from_cents(self.unit_quantity * self.unit_price.cents - self.discount.cents)
    }
}

/// A sale or return ready to post.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SalePlan {
    pub reference: String,
    pub reference_source: String,
    pub shop_id: String,
    pub register_id: String,
    pub employee_id: String,
    pub customer_id: Option<String>,
    pub lines: Vec<PlannedLine>,
    pub payment_type_id: String,
    pub payment: Money,
}

impl SalePlan {
    pub fn total(&self) -> Money {
        self.lines.iter().map(PlannedLine::total).sum()
    }

    /// A completed sale must balance: Σ lines = Σ payments, to the cent.
    pub fn check_balance(&self) -> Result<(), RowFailure> {
        if self.total() == self.payment {
            Ok(())
        } else {
            Err(RowFailure::permanent(
                "unbalanced",
                format!(
                    "the sale would not balance (lines {}, payment {})",
                    self.total(),
                    self.payment
                ),
            ))
        }
    }

    /// The `POST Sale.json` body.
    pub fn body(&self) -> Value {
        let lines: Vec<Value> = self
            .lines
            .iter()
            .map(|l| {
                let mut m = Map::new();
                if let Some(p) = &l.parent_sale_line_id {
                    m.insert("parentSaleLineID".into(), json!(p));
                }
                m.insert("itemID".into(), json!(l.item_id));
                m.insert("unitQuantity".into(), json!(l.unit_quantity.to_string()));
                m.insert("unitPrice".into(), json!(l.unit_price.to_string()));
                m.insert("discountAmount".into(), json!(l.discount.to_string()));
                // Prices are tax-inclusive: the POS must not add tax on top.
                m.insert("tax".into(), json!(false));
                Value::Object(m)
            })
            .collect();
        let mut body = json!({
            "employeeID": self.employee_id,
            "registerID": self.register_id,
            "shopID": self.shop_id,
            "completed": true,
            "referenceNumber": self.reference,
            "referenceNumberSource": self.reference_source,
            "SaleLines": {"SaleLine": lines},
            "SalePayments": {"SalePayment": [{
                "paymentTypeID": self.payment_type_id,
                "amount": self.payment.to_string(),
            }]},
        });
        if let Some(c) = &self.customer_id {
            body["customerID"] = json!(c);
        }
        body
    }
}

fn div_round(n: i128, d: i128) -> i128 {
    // Half away from zero, d > 0.
    if n >= 0 {
        (n + d / 2) / d
    } else {
        -((-n + d / 2) / d)
    }
}

fn div_ceil(n: i128, d: i128) -> i128 {
    // d > 0
    if n >= 0 {
        (n + d - 1) / d
    } else {
        -((-n) / d)
    }
}

/// One order line → (gross unit price, whole-line discount) such that
/// `qty × price − discount = charged` exactly, with `price` the unit price
/// before coupons, tax included, and `discount ≥ 0`.
pub fn gross_line(qty: i64, unit_price_ex: Money, total_ex: Money, tax: Money) -> (Money, Money) {
    let q = i128::from(qty.max(1));
    let charged = i128::from(total_ex.cents) + i128::from(tax.cents);
    let unit = i128::from(unit_price_ex.cents);
    let total = i128::from(total_ex.cents);
    // Tax rate of the line = tax / total; the unit price gets the same rate.
    let mut price = if total > 0 {
        div_round(unit * charged, total)
    } else {
        unit
    };
    if q * price < charged {
        price = div_ceil(charged, q);
    }
    let discount = q * price - charged;
    (
        Money::from_cents(price as i64),
        Money::from_cents(discount as i64),
    )
}

/// The sale of an order, before the customer is known. Permanent failures
/// (unlinked items, no payment type, totals that do not add up) come out
/// here, before anything is written to the POS.
pub fn plan_sale(
    order: &OrderPayload,
    reference: &str,
    settings: &OrderSettings,
) -> Result<SalePlan, RowFailure> {
    if order.lines.is_empty() {
        return Err(RowFailure::permanent(
            "bad_payload",
            "the order has no lines",
        ));
    }
    let unlinked: Vec<String> = order
        .lines
        .iter()
        .filter(|l| l.item_id.is_none())
        .map(|l| {
            let mut s = format!("'{}'", l.name);
            if !l.sku.is_empty() {
                s.push_str(&format!(" (SKU {})", l.sku));
            } else if !l.product_id.is_empty() {
                s.push_str(&format!(" (product {})", l.product_id));
            }
            s
        })
        .collect();
    if !unlinked.is_empty() {
        return Err(RowFailure::permanent(
            "unlinked_item",
            format!(
                "{} not linked to a POS item; link the product to a POS item (same SKU), then retry",
                if unlinked.len() == 1 {
                    format!("line {} is", unlinked[0])
                } else {
                    format!("lines {} are", unlinked.join(", "))
                }
            ),
        ));
    }
    if let Some(l) = order.lines.iter().find(|l| l.qty <= 0) {
        return Err(RowFailure::permanent(
            "bad_payload",
            format!("line '{}' has quantity {}", l.name, l.qty),
        ));
    }
    let payment_type_id = settings
        .payment_types
        .for_gateway(&order.gateway)
        .ok_or_else(|| {
            RowFailure::permanent(
                "no_payment_type",
                format!(
                    "no POS payment type is mapped for the gateway '{}' and there is no default; set one in the settings",
                    order.gateway
                ),
            )
        })?
        .to_string();

    let mut lines: Vec<PlannedLine> = order
        .lines
        .iter()
        .map(|l| {
            let (unit_price, discount) = gross_line(l.qty, l.unit_price, l.total, l.tax);
            PlannedLine {
                item_id: l.item_id.clone().unwrap_or_default(),
                unit_quantity: l.qty,
                unit_price,
                discount,
                parent_sale_line_id: None,
            }
        })
        .collect();
    let shipping = order.shipping_total + order.shipping_tax;
    let expected = match &settings.shipping {
        Shipping::Item { item_id } => {
            if shipping.cents != 0 {
                lines.push(PlannedLine {
                    item_id: item_id.clone(),
                    unit_quantity: 1,
                    unit_price: shipping,
                    discount: Money::ZERO,
                    parent_sale_line_id: None,
                });
            }
            order.total
        }
        Shipping::Exclude => Money::from_cents(order.total.cents - shipping.cents),
    };
    // WooCommerce rounds tax per order or per line: up to a cent a line may
    // differ. Absorb that in the last item line; anything more is a charge
    // we cannot represent (fees) and is refused rather than hidden.
    let item_lines = order.lines.len();
    let diff = expected.cents - lines.iter().map(PlannedLine::total).sum::<Money>().cents;
    if diff != 0 {
        if diff.unsigned_abs() > item_lines as u64 {
            return Err(RowFailure::permanent(
                "totals_mismatch",
                format!(
                    "its lines{} add up to {} but the order total is {}{}; fees and other charges are not sent to the POS",
                    if matches!(settings.shipping, Shipping::Item { .. }) { " and shipping" } else { "" },
                    Money::from_cents(expected.cents - diff),
                    order.total,
                    if matches!(settings.shipping, Shipping::Exclude) {
                        format!(" (minus shipping {shipping})")
                    } else {
                        String::new()
                    }
                ),
            ));
        }
        let i = item_lines - 1;
        let target = lines[i].total().cents + diff;
        let (price, discount) = gross_line(
            lines[i].unit_quantity,
            lines[i].unit_price,
            Money::from_cents(target),
            Money::ZERO,
        );
        lines[i].unit_price = price;
        lines[i].discount = discount;
    }
    let plan = SalePlan {
        reference: reference.to_string(),
        reference_source: settings.reference_source.clone(),
        shop_id: settings.shop_id.clone(),
        register_id: settings.register_id.clone(),
        employee_id: settings.employee_id.clone(),
        customer_id: None,
        payment: lines.iter().map(PlannedLine::total).sum(),
        lines,
        payment_type_id,
    };
    if plan.payment.cents < 0 {
        return Err(RowFailure::permanent(
            "bad_payload",
            format!("the sale total would be negative ({})", plan.payment),
        ));
    }
    plan.check_balance()?;
    Ok(plan)
}

/// The return of a refund against its original sale (read with its
/// SaleLines and SalePayments).
///
/// - a line WooCommerce restocked → `parentSaleLineID` of the original line
///   for that item, `unitQuantity` −qty, the original unit price, and the
///   line discount that makes it refund exactly `amount`;
/// - money refunded without restocking (a line with `restock:false`, or
///   what is left of `amount` after the lines: shipping, fees, goodwill)
///   → a line of −1 on the non-inventory refund item: no stock moves;
/// - one negative payment of the original sale's payment type.
pub fn plan_return(
    refund: &RefundPayload,
    reference: &str,
    original: &Sale,
    settings: &OrderSettings,
) -> Result<SalePlan, RowFailure> {
    if refund.amount.cents <= 0 {
        return Err(RowFailure::permanent(
            "bad_payload",
            format!("the refund amount is {}", refund.amount),
        ));
    }
    let mut lines = Vec::new();
    let mut money_only: Vec<Money> = Vec::new();
    let mut used: HashMap<String, i64> = HashMap::new();
    for l in &refund.lines {
        if l.amount.cents < 0 || l.qty < 0 {
            return Err(RowFailure::permanent(
                "bad_payload",
                format!(
                    "refund line {} has a negative amount or quantity",
                    l.line_id
                ),
            ));
        }
        if !(l.restock && l.qty > 0) {
            if l.amount.cents > 0 {
                money_only.push(l.amount);
            }
            continue;
        }
        let item = l.item_id.as_deref().ok_or_else(|| {
            RowFailure::permanent(
                "unlinked_item",
                format!("refund line {} is not linked to a POS item", l.line_id),
            )
        })?;
        // The original line of this item with quantity left to return in
        // this refund (an order may list the same item twice).
        let parent = original
            .lines
            .iter()
            .filter(|s| {
                s.item_id.as_deref() == Some(item)
                    && s.unit_quantity > 0
                    && s.parent_sale_line_id.is_none()
                    && s.sale_line_id.is_some()
            })
            .find(|s| {
                let taken = used
                    .get(s.sale_line_id.as_deref().unwrap_or_default())
                    .copied()
                    .unwrap_or(0);
                s.unit_quantity - taken >= l.qty
            })
            .ok_or_else(|| {
                RowFailure::permanent(
                    "refund_line_unmatched",
                    format!(
                        "POS sale {} has no line for item {item} with {} unit(s) to return",
                        original.sale_id, l.qty
                    ),
                )
            })?;
        let parent_id = parent.sale_line_id.clone().unwrap_or_default();
        *used.entry(parent_id.clone()).or_insert(0) += l.qty;
        let price = parent.unit_price;
        // −qty × price − discount = −amount
        let discount = Money::from_cents(l.amount.cents - l.qty * price.cents);
        lines.push(PlannedLine {
            item_id: item.to_string(),
            unit_quantity: -l.qty,
            unit_price: price,
            discount,
            parent_sale_line_id: Some(parent_id),
        });
    }
    let in_lines: i64 = refund.lines.iter().map(|l| l.amount.cents).sum();
    let rest = refund.amount.cents - in_lines;
    if rest < 0 {
        return Err(RowFailure::permanent(
            "bad_payload",
            format!(
                "its lines refund {} but the refund amount is {}",
                Money::from_cents(in_lines),
                refund.amount
            ),
        ));
    }
    if rest > 0 {
        money_only.push(Money::from_cents(rest));
    }
    if !money_only.is_empty() {
        let item = settings.refund_item().ok_or_else(|| {
            RowFailure::permanent(
                "no_refund_item",
                "money refunded without restocking needs a non-inventory POS item (setting refund_item_id, or shipping as an item)",
            )
        })?;
        for amount in money_only {
            lines.push(PlannedLine {
                item_id: item.to_string(),
                unit_quantity: -1,
                unit_price: amount,
                discount: Money::ZERO,
                parent_sale_line_id: None,
            });
        }
    }
    let payment_type_id = original
        .payments
        .iter()
        .find_map(|p| p.payment_type_id.clone())
        .or_else(|| settings.payment_types.default.clone())
        .ok_or_else(|| {
            RowFailure::permanent(
                "no_payment_type",
                "the original sale has no payment and there is no default payment type",
            )
        })?;
    let plan = SalePlan {
        reference: reference.to_string(),
        reference_source: settings.reference_source.clone(),
        shop_id: original
            .shop_id
            .clone()
            .unwrap_or_else(|| settings.shop_id.clone()),
        register_id: original
            .register_id
            .clone()
            .unwrap_or_else(|| settings.register_id.clone()),
        employee_id: settings.employee_id.clone(),
        customer_id: original.customer_id.clone(),
        payment: Money::from_cents(-refund.amount.cents),
        lines,
        payment_type_id,
    };
    plan.check_balance()?;
    Ok(plan)
}

/// The `POST Customer.json` body for an order's buyer (guests too).
pub fn customer_body(c: &OrderCustomer) -> Value {
    let (mut first, last) = (c.first_name.clone(), c.last_name.clone());
    if first.is_empty() && last.is_empty() {
        // Lightspeed wants a name or a company.
        first = c.email.split('@').next().unwrap_or("Web").to_string();
    }
    let mut contact = json!({
        "Emails": {"ContactEmail": [{"address": c.email, "useType": "Primary"}]},
    });
    if !c.phone.is_empty() {
        contact["Phones"] = json!({"ContactPhone": [{"number": c.phone, "useType": "Mobile"}]});
    }
    let b = &c.billing;
    if !(b.address1.is_empty() && b.city.is_empty() && b.postcode.is_empty()) {
        // WooCommerce keeps ISO codes ("US", "OR"): they go in the code
        // fields and, lacking names, in the name fields too.
        contact["Addresses"] = json!({"ContactAddress": [{
            "address1": b.address1, "address2": b.address2, "city": b.city,
            "state": b.state, "stateCode": b.state, "zip": b.postcode,
            "country": b.country, "countryCode": b.country,
        }]});
    }
    json!({"firstName": first, "lastName": last, "Contact": contact})
}

// ---------------------------------------------------------------------------
// Requests

fn create_request(session_endpoint: &ls::Endpoint, resource: &str, body: Value) -> ApiRequest {
    ApiRequest {
        method: Method::Post,
        url: format!(
            "{}/Account/{}/{}.json",
            session_endpoint.api_base,
            encode_component(&session_endpoint.account_id),
            resource
        ),
        cost: ls::predict_cost(Method::Post, resource, false, &[], Some(&body)),
        body: Some(body),
        label: format!("POST {resource}"),
    }
}

/// `Sale.json?referenceNumber=…` for one or up to 100 references (`IN`),
/// archived included: a sale the merchant archived still counts as posted.
/// Several references go as `IN,["WEB-1","WEB-2"]`: the docs allow "a JSON
/// encoded array", which keeps text values intact ([`Filter::In`] is for
/// numeric ids).
pub fn lookup_request(
    endpoint: &ls::Endpoint,
    references: &[String],
) -> Result<ApiRequest, ls::RequestError> {
    let filter = if references.len() == 1 {
        Filter::Eq(references[0].clone())
    } else {
        if references.len() > ls::MAX_PAGE {
            return Err(ls::RequestError::InSize {
                field: "referenceNumber".into(),
                count: references.len(),
            });
        }
        Filter::Eq(format!("IN,{}", json!(references)))
    };
    let q = Query::new()
        .filter("referenceNumber", filter)?
        .archived(ls::Archived::Include)
        .limit(ls::MAX_PAGE)?;
    Ok(endpoint.list("Sale", &q))
}

/// References of plain characters go in a batch; anything else (and a
/// lone value that could read as an operator) is looked up alone.
fn can_batch(reference: &str) -> bool {
    reference
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_./#:".contains(&b))
}

// ---------------------------------------------------------------------------
// The run

#[derive(Default)]
struct Tally {
    posted: u64,
    existing: u64,
    failed: u64,
    attention: u64,
    left: u64,
}

impl Tally {
    fn summary(&self, rows: usize) -> Value {
        json!({
            "rows": rows, "posted": self.posted, "existing": self.existing,
            "failed": self.failed, "attention": self.attention, "left": self.left,
            "done": self.left == 0,
        })
    }
}

enum RowOutcome {
    Posted {
        sale_id: String,
        customer_id: Option<String>,
        existing: bool,
    },
    Failed(RowFailure),
}

struct Run<'s, 'a, T: Transport, C: Clock, H: Host> {
    session: &'s mut Session<'a, T, C, H>,
    settings: &'s OrderSettings,
    /// Reference → sales found with it (looked up this run).
    found: HashMap<String, Vec<Sale>>,
    /// E-mail (lower case) → customerID, this run.
    customers: HashMap<String, String>,
}

type RunResult = Result<Value, (ApiError, Value)>;

/// Carries out a `post_orders` job: rows in order, within the budget.
pub async fn run<T: Transport, C: Clock, H: Host>(
    session: &mut Session<'_, T, C, H>,
    job: &OrderJob,
) -> RunResult {
    let mut tally = Tally::default();
    let rows = &job.outbox;
    let mut run = Run {
        session,
        settings: &job.settings,
        found: HashMap::new(),
        customers: HashMap::new(),
    };
    let mut transient_in_a_row = 0u32;
    for (i, row) in rows.iter().enumerate() {
        if !run.found.contains_key(&row.reference) {
            match run.lookup_from(rows, i).await {
                Ok(()) => {}
                Err(ApiError::BudgetSpent) => {
                    tally.left = (rows.len() - i) as u64;
                    break;
                }
                Err(e) if is_job_wide(&e) => {
                    tally.left = (rows.len() - i) as u64;
                    return Err((e, tally.summary(rows.len())));
                }
                Err(e) => {
                    // The lookup failed: nothing may be posted without it.
                    let f = classify_api_error(&e);
                    let now = run.session.now_ms();
                    let ev = failure_event(row, &row_name(row), &f, now, run.settings.max_attempts);
                    count_failure(&mut tally, &ev);
                    run.session.out().emit(ev);
                    tally.left = (rows.len() - i - 1) as u64;
                    break;
                }
            }
        }
        let outcome = match run.row(row).await {
            Ok(o) => o,
            Err(ApiError::BudgetSpent) => {
                tally.left = (rows.len() - i) as u64;
                break;
            }
            Err(e) => {
                tally.left = (rows.len() - i) as u64;
                return Err((e, tally.summary(rows.len())));
            }
        };
        match outcome {
            RowOutcome::Posted {
                sale_id,
                customer_id,
                existing,
            } => {
                transient_in_a_row = 0;
                if existing {
                    tally.existing += 1;
                } else {
                    tally.posted += 1;
                }
                // Later rows in this run (a refund of this order) see it.
                run.session.out().emit(Event::SalePosted {
                    outbox_id: row.id.clone(),
                    reference: row.reference.clone(),
                    sale_id,
                    customer_id,
                    existing,
                });
            }
            RowOutcome::Failed(f) => {
                let now = run.session.now_ms();
                let ev = failure_event(row, &row_name(row), &f, now, run.settings.max_attempts);
                count_failure(&mut tally, &ev);
                run.session.out().emit(ev);
                if f.class == FailureClass::Transient {
                    transient_in_a_row += 1;
                    if transient_in_a_row >= STOP_AFTER_TRANSIENT_FAILURES {
                        tally.left = (rows.len() - i - 1) as u64;
                        run.session.out().log(
                            LogLevel::Warning,
                            format!(
                                "orders: {transient_in_a_row} rows in a row failed ({}); the POS looks unavailable, {} row(s) left for the next run",
                                f.code,
                                rows.len() - i - 1
                            ),
                        );
                        break;
                    }
                } else {
                    transient_in_a_row = 0;
                }
            }
        }
    }
    let done = (rows.len() as u64).saturating_sub(tally.left);
    run.session.out().emit(Event::Progress {
        flow: "orders".into(),
        done,
        total: Some(rows.len() as u64),
    });
    Ok(tally.summary(rows.len()))
}

fn count_failure(tally: &mut Tally, ev: &Event) {
    tally.failed += 1;
    if let Event::OutboxFailed {
        attention: true, ..
    } = ev
    {
        tally.attention += 1;
    }
}

impl<T: Transport, C: Clock, H: Host> Run<'_, '_, T, C, H> {
    /// Looks up the references of rows `from..` not yet known, up to 100 in
    /// one request; a reference that cannot go in an `IN` list alone.
    async fn lookup_from(&mut self, rows: &[OutboxRow], from: usize) -> Result<(), ApiError> {
        let first = &rows[from].reference;
        let refs: Vec<String> = if can_batch(first) {
            let mut v: Vec<String> = Vec::new();
            for r in &rows[from..] {
                if v.len() >= LOOKUP_CHUNK {
                    break;
                }
                if can_batch(&r.reference)
                    && !self.found.contains_key(&r.reference)
                    && !v.contains(&r.reference)
                {
                    v.push(r.reference.clone());
                }
            }
            v
        } else {
            vec![first.clone()]
        };
        match self.lookup(&refs).await {
            // A POS that refuses IN on referenceNumber: one at a time.
            Err(ApiError::Refused { .. }) if refs.len() > 1 => {
                self.session.out().log(
                    LogLevel::Warning,
                    "orders: the POS refused a batched reference lookup; looking references up one by one",
                );
                for r in &refs {
                    self.found.remove(r);
                }
                self.lookup(std::slice::from_ref(first)).await
            }
            other => other,
        }
    }

    async fn lookup(&mut self, refs: &[String]) -> Result<(), ApiError> {
        let mut req = lookup_request(&self.session.endpoint, refs)?;
        for r in refs {
            self.found.insert(r.clone(), Vec::new());
        }
        loop {
            let resp = self.session.call(&req).await?;
            let page = ls::read_page::<Sale>(&resp.body)?;
            for sale in page.items {
                if let Some(list) = self.found.get_mut(&sale.reference_number) {
                    list.push(sale);
                }
            }
            match page.next {
                Some(next) => req = self.session.endpoint.follow_next(&req, &next)?,
                None => break,
            }
        }
        Ok(())
    }

    /// The sale already in the POS for a reference, if any (the oldest when
    /// an earlier bug or a human posted it twice).
    fn existing(&self, reference: &str) -> Option<&Sale> {
        self.found.get(reference).and_then(|sales| {
            sales.iter().min_by_key(|s| {
                (
                    s.sale_id.parse::<u64>().unwrap_or(u64::MAX),
                    s.sale_id.clone(),
                )
            })
        })
    }

    async fn row(&mut self, row: &OutboxRow) -> Result<RowOutcome, ApiError> {
        if let Some(sale) = self.existing(&row.reference) {
            let n = self.found.get(&row.reference).map_or(0, Vec::len);
            if n > 1 {
                self.session.out().log(
                    LogLevel::Warning,
                    format!(
                        "{}: the POS holds {n} sales with reference {}; reporting the first ({})",
                        row_name(row),
                        row.reference,
                        sale.sale_id
                    ),
                );
            }
            return Ok(RowOutcome::Posted {
                sale_id: sale.sale_id.clone(),
                customer_id: sale.customer_id.clone(),
                existing: true,
            });
        }
        let plan = match row.kind {
            RowKind::Order => {
                let order: OrderPayload = match serde_json::from_value(row.payload.clone()) {
                    Ok(o) => o,
                    Err(e) => {
                        return Ok(RowOutcome::Failed(RowFailure::permanent(
                            "bad_payload",
                            format!("the order payload is malformed: {e}"),
                        )))
                    }
                };
                let mut plan = match plan_sale(&order, &row.reference, self.settings) {
                    Ok(p) => p,
                    Err(f) => return Ok(RowOutcome::Failed(f)),
                };
                match self.customer(&order.customer).await {
                    Ok(c) => plan.customer_id = c,
                    Err(e) if is_job_wide(&e) => return Err(e),
                    Err(e) => return Ok(RowOutcome::Failed(customer_failure(&e))),
                }
                plan
            }
            RowKind::Refund => {
                let refund: RefundPayload = match serde_json::from_value(row.payload.clone()) {
                    Ok(r) => r,
                    Err(e) => {
                        return Ok(RowOutcome::Failed(RowFailure::permanent(
                            "bad_payload",
                            format!("the refund payload is malformed: {e}"),
                        )))
                    }
                };
                let original = match self.original_sale(&refund).await {
                    Ok(Some(s)) => s,
                    Ok(None) => {
                        return Ok(RowOutcome::Failed(RowFailure::transient(
                            "order_not_posted",
                            format!(
                                "its order ({}) is not in the POS yet; the refund waits for it",
                                refund.order_reference
                            ),
                        )))
                    }
                    Err(e) if is_job_wide(&e) => return Err(e),
                    Err(e) => return Ok(RowOutcome::Failed(classify_api_error(&e))),
                };
                match plan_return(&refund, &row.reference, &original, self.settings) {
                    Ok(p) => p,
                    Err(f) => return Ok(RowOutcome::Failed(f)),
                }
            }
        };
        self.post(row, &plan).await
    }

    /// Posts a planned sale; a write without a clear answer is looked up at
    /// once and, when not found, left for a later run to look up again.
    async fn post(&mut self, row: &OutboxRow, plan: &SalePlan) -> Result<RowOutcome, ApiError> {
        let req = create_request(&self.session.endpoint, "Sale", plan.body());
        match self.session.call(&req).await {
            Ok(resp) => {
                let sale = model::parse_single::<Sale>(&resp.body)?
                    .into_iter()
                    .next()
                    .ok_or_else(|| {
                        model::ParseError::new("Sale", None, "the answer to POST Sale has no Sale")
                    });
                match sale {
                    Ok(s) => {
                        let entry = self.found.entry(row.reference.clone()).or_default();
                        entry.push(s.clone());
                        Ok(RowOutcome::Posted {
                            sale_id: s.sale_id,
                            customer_id: s.customer_id.or_else(|| plan.customer_id.clone()),
                            existing: false,
                        })
                    }
                    // Applied but unreadable: find it by reference next time.
                    Err(p) => Ok(RowOutcome::Failed(RowFailure::transient(
                        "maybe_posted",
                        format!("the POS answer was unreadable ({p}); it is looked up again before any new attempt"),
                    ))),
                }
            }
            Err(ApiError::MaybeApplied { detail, label }) => {
                let kind = classify_maybe_applied(&detail);
                self.session.out().log(
                    LogLevel::Warning,
                    format!(
                        "{}: {label} got no clear answer ({detail}); looking reference {} up",
                        row_name(row),
                        row.reference
                    ),
                );
                match self.lookup(std::slice::from_ref(&row.reference)).await {
                    Ok(()) => {}
                    Err(e) if matches!(e, ApiError::BudgetSpent) || !is_job_wide(&e) => {
                        return Ok(RowOutcome::Failed(RowFailure::transient(
                            "maybe_posted",
                            format!("no clear answer after sending ({detail}) and the lookup failed; it is looked up again before any new attempt"),
                        )))
                    }
                    Err(e) => return Err(e),
                }
                if let Some(s) = self.existing(&row.reference) {
                    return Ok(RowOutcome::Posted {
                        sale_id: s.sale_id.clone(),
                        customer_id: s.customer_id.clone().or_else(|| plan.customer_id.clone()),
                        existing: false,
                    });
                }
                Ok(RowOutcome::Failed(match kind {
                    WriteFailure::Answered => RowFailure::transient(
                        "pos_unavailable",
                        format!("POS answered {} (the sale is not in the POS)", short_detail(&detail)),
                    ),
                    WriteFailure::InFlight => RowFailure::transient(
                        "maybe_posted",
                        format!("no clear answer after sending ({detail}); it is looked up again before any new attempt"),
                    ),
                }))
            }
            Err(e) if is_job_wide(&e) => Err(e),
            Err(e) => Ok(RowOutcome::Failed(classify_api_error(&e))),
        }
    }

    /// The POS customer for an order: by e-mail, else created. No e-mail:
    /// no customer (nothing to find it by later, so none is created).
    async fn customer(&mut self, c: &OrderCustomer) -> Result<Option<String>, ApiError> {
        let address = c.email.trim();
        // The run's cache ignores case; the POS is asked with the address
        // as typed.
        let email = address.to_lowercase();
        if email.is_empty() {
            return Ok(None);
        }
        if let Some(id) = self.customers.get(&email) {
            return Ok(Some(id.clone()));
        }
        if let Some(id) = self.find_customer(address).await? {
            self.customers.insert(email, id.clone());
            return Ok(Some(id));
        }
        let req = create_request(&self.session.endpoint, "Customer", customer_body(c));
        match self.session.call(&req).await {
            Ok(resp) => {
                let created = model::parse_single::<Customer>(&resp.body)?;
                let id = created
                    .into_iter()
                    .next()
                    .map(|c| c.customer_id)
                    .ok_or_else(|| {
                        model::ParseError::new(
                            "Customer",
                            None,
                            "the answer to POST Customer has no Customer",
                        )
                    })?;
                self.customers.insert(email, id.clone());
                Ok(Some(id))
            }
            Err(ApiError::MaybeApplied { .. }) => {
                // Created or not: the e-mail says.
                match self.find_customer(address).await? {
                    Some(id) => {
                        self.customers.insert(email, id.clone());
                        Ok(Some(id))
                    }
                    None => Err(ApiError::MaybeApplied {
                        label: "POST Customer".into(),
                        detail: "no clear answer and not found by e-mail".into(),
                    }),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn find_customer(&mut self, email: &str) -> Result<Option<String>, ApiError> {
        let q = Query::new()
            .load_relations(&["Contact"])
            .filter("Contact.email", Filter::Eq(email.to_string()))?
            .limit(ls::MAX_PAGE)?;
        let req = self.session.endpoint.list("Customer", &q);
        let resp = self.session.call(&req).await?;
        let page = ls::read_page::<Customer>(&resp.body)?;
        // Several customers may share an e-mail: the oldest wins, always
        // the same one.
        Ok(page
            .items
            .into_iter()
            .filter(|c| !c.archived)
            .min_by_key(|c| c.customer_id.parse::<u64>().unwrap_or(u64::MAX))
            .map(|c| c.customer_id))
    }

    /// The order's sale with its lines and payments: by id when PHP knows
    /// it, else by the order's reference.
    async fn original_sale(&mut self, refund: &RefundPayload) -> Result<Option<Sale>, ApiError> {
        let rel = ["SaleLines", "SalePayments"];
        if let Some(id) = &refund.order_sale_id {
            let q = Query::new()
                .filter("saleID", Filter::Eq(id.clone()))?
                .load_relations(&rel)
                .archived(ls::Archived::Include);
            let req = self.session.endpoint.list("Sale", &q);
            let resp = self.session.call(&req).await?;
            let page = ls::read_page::<Sale>(&resp.body)?;
            if let Some(s) = page.items.into_iter().next() {
                return Ok(Some(s));
            }
        }
        if refund.order_reference.is_empty() {
            return Ok(None);
        }
        let q = Query::new()
            .filter(
                "referenceNumber",
                Filter::Eq(refund.order_reference.clone()),
            )?
            .load_relations(&rel)
            .archived(ls::Archived::Include)
            .limit(ls::MAX_PAGE)?;
        let req = self.session.endpoint.list("Sale", &q);
        let resp = self.session.call(&req).await?;
        let page = ls::read_page::<Sale>(&resp.body)?;
        Ok(page
            .items
            .into_iter()
            .min_by_key(|s| s.sale_id.parse::<u64>().unwrap_or(u64::MAX)))
    }
}

fn customer_failure(e: &ApiError) -> RowFailure {
    let mut f = classify_api_error(e);
    f.cause = format!("customer: {}", f.cause);
    if let ApiError::MaybeApplied { .. } = e {
        // Only the customer may exist; the sale was never sent.
        f.code = "pos_unavailable";
    }
    f
}
