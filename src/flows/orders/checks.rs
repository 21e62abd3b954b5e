//! Checks of what the POS says a sale is (pure).
//!
//! A reference number is only a hint: two shops (or a staging copy) on one
//! POS account may use the same prefix, and a person may type any
//! reference into the POS. So a sale found by reference is taken as "this
//! row" only when it looks like what this row posts (**collision check**).

use super::*;
use crate::pos::lightspeed_r::model::{parse_timestamp_ms, Money, Sale};

/// How far before the WooCommerce order a sale found by its reference may
/// have been created and still be taken as that order's sale (clock skew,
/// a POS in another time zone that stamps local time as UTC).
pub const COLLISION_WINDOW_MS: u64 = 24 * 3_600_000;
/// Totals compare within a cent.
pub const TOTAL_TOLERANCE_CENTS: i64 = 1;

/// What a POS sale must look like to be this row's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected<'a> {
    /// `settings.reference_source`; a sale with another (non-empty)
    /// `referenceNumberSource` was written by something else.
    pub source: &'a str,
    /// The total this row posts (orders positive, refunds negative);
    /// `None` when it cannot be known (no total test).
    pub total: Option<Money>,
    /// The sale may not be older than this minus [`COLLISION_WINDOW_MS`].
    pub placed_at_ms: Option<u64>,
}

/// The instant a sale was made: `createTime`, else `timeStamp` (older
/// answers have no `createTime`).
pub fn sale_time_ms(sale: &Sale) -> Option<i64> {
    parse_timestamp_ms(&sale.create_time).or_else(|| parse_timestamp_ms(&sale.time_stamp))
}

/// What differs between a found sale and the row, in words; `None` = it
/// is this row's sale.
pub fn collision(sale: &Sale, expected: &Expected) -> Option<String> {
    let mut differs = Vec::new();
    let source = sale.reference_number_source.trim();
    if !source.is_empty() && source != expected.source {
        differs.push(format!(
            "its source is \"{source}\", not \"{}\"",
            expected.source
        ));
    }
    if let Some(total) = expected.total {
        if (sale.total.cents - total.cents).abs() > TOTAL_TOLERANCE_CENTS {
            differs.push(format!("its total is {}, not {total}", sale.total));
        }
    }
    if let (Some(placed), Some(at)) = (expected.placed_at_ms, sale_time_ms(sale)) {
        if at < placed as i64 - COLLISION_WINDOW_MS as i64 {
            let when = if sale.create_time.trim().is_empty() {
                &sale.time_stamp
            } else {
                &sale.create_time
            };
            differs.push(format!(
                "it was made {}, more than 24 h before the web order",
                when.trim()
            ));
        }
    }
    if differs.is_empty() {
        None
    } else {
        Some(differs.join("; "))
    }
}

/// The sale among those found by reference that is this row's (the oldest
/// that passes), or the `reference_collision` failure naming each one and
/// what differed.
pub fn pick_found<'s>(
    found: &'s [Sale],
    reference: &str,
    expected: &Expected,
) -> Result<Option<&'s Sale>, RowFailure> {
    let mut sorted: Vec<&Sale> = found.iter().collect();
    sorted.sort_by_key(|s| {
        (
            s.sale_id.parse::<u64>().unwrap_or(u64::MAX),
            s.sale_id.clone(),
        )
    });
    let mut why = Vec::new();
    for s in &sorted {
        match collision(s, expected) {
            None => return Ok(Some(s)),
            Some(w) => why.push(format!("POS sale {} ({w})", s.sale_id)),
        }
    }
    if why.is_empty() {
        return Ok(None);
    }
    Err(RowFailure::permanent(
        "reference_collision",
        format!(
            "the POS already has reference {reference} but not for this row: {}; it was not posted (another shop or a copy of this site may use the same prefix: check the sale in the POS, then change the reference prefix or mark the row entered by hand)",
            why.join(", ")
        ),
    ))
}

/// The total a row posts as the POS shows it (orders positive, refunds
/// negative), from the payload alone; `None` when the payload is
/// unreadable.
pub fn expected_total(row: &OutboxRow, settings: &OrderSettings) -> Option<Money> {
    match row.kind {
        RowKind::Order => {
            let order: OrderPayload = serde_json::from_value(row.payload.clone()).ok()?;
            Some(match settings.shipping {
                Shipping::Exclude => Money::from_cents(
                    order.total.cents - order.shipping_total.cents - order.shipping_tax.cents,
                ),
                Shipping::Item { .. } => order.total,
            })
        }
        RowKind::Refund => {
            let refund: RefundPayload = serde_json::from_value(row.payload.clone()).ok()?;
            Some(Money::from_cents(-refund.amount.cents))
        }
    }
}

/// The check of a row's sale found by reference.
pub fn expected_for<'a>(row: &OutboxRow, settings: &'a OrderSettings) -> Expected<'a> {
    Expected {
        source: &settings.reference_source,
        total: expected_total(row, settings),
        placed_at_ms: row.placed_at_ms,
    }
}

/// The original sale of a refund found by `order_reference`: its source,
/// a sale (not a return), and the order's date when the payload has it.
/// Its total is not compared: edits and excluded shipping make it differ
/// from what a refund gives back.
pub fn original_collision(sale: &Sale, refund: &RefundPayload, source: &str) -> Option<String> {
    let mut why = collision(
        sale,
        &Expected {
            source,
            total: None,
            placed_at_ms: refund.order_placed_at_ms,
        },
    )
    .into_iter()
    .collect::<Vec<_>>();
    if sale.total.cents < 0 {
        why.push(format!("it is a return (total {})", sale.total));
    }
    if why.is_empty() {
        None
    } else {
        Some(why.join("; "))
    }
}

/// The answer to `POST Sale` is the sale we sent only when it carries our
/// reference, is completed, has our total (within a cent) and a payment.
/// Otherwise: what the POS answered, in its own values (never a secret:
/// the answer holds none of ours).
pub fn answer_mismatch(sale: &Sale, reference: &str, total: Money) -> Option<String> {
    let mut differs = Vec::new();
    if sale.reference_number != reference {
        differs.push(format!("referenceNumber \"{}\"", sale.reference_number));
    }
    if !sale.completed {
        differs.push("completed \"false\"".to_string());
    }
    if (sale.total.cents - total.cents).abs() > TOTAL_TOLERANCE_CENTS {
        differs.push(format!("total {}", sale.total));
    }
    if sale.payments.is_empty() {
        differs.push("no SalePayment".to_string());
    }
    if differs.is_empty() {
        None
    } else {
        Some(format!(
            "the POS answered sale {} with {} (sent: referenceNumber \"{reference}\", completed, total {total}, one payment)",
            sale.sale_id,
            differs.join(", ")
        ))
    }
}
