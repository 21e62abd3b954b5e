//! WooCommerce fee lines on the sale (pure).
//!
//! A fee (a payment surcharge, a gift-wrap charge, a negative "discount"
//! fee) has no POS item of its own: like shipping it goes on a
//! **non-inventory** POS item (`settings.fee_item_id`), one line per fee at
//! its total + tax, so the sale balances to what the customer paid and no
//! stock moves. Without that item an order with fees cannot be posted as
//! it is: `no_fee_item`, attention (never posted short).

use super::*;
use crate::pos::lightspeed_r::model::Money;

/// One WooCommerce fee line: total excluding tax, and its tax; may be
/// negative.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Fee {
    #[serde(default, deserialize_with = "de_text")]
    pub name: String,
    #[serde(default, deserialize_with = "de_money")]
    pub total: Money,
    #[serde(default, deserialize_with = "de_money")]
    pub tax: Money,
}

/// The sale lines of an order's fees (none for no fees).
pub fn fee_lines(fees: &[Fee], settings: &OrderSettings) -> Result<Vec<PlannedLine>, RowFailure> {
    let charged: Vec<&Fee> = fees
        .iter()
        .filter(|f| f.total.cents + f.tax.cents != 0)
        .collect();
    if charged.is_empty() {
        return Ok(Vec::new());
    }
    let item = settings.fee_item_id.as_deref().ok_or_else(|| {
        let names: Vec<String> = charged
            .iter()
            .map(|f| format!("'{}' {}", f.name, Money::from_cents(f.total.cents + f.tax.cents)))
            .collect();
        RowFailure::permanent(
            "no_fee_item",
            format!(
                "it has fee line(s) {} and no POS fee item is set; set a non-inventory POS item as the fee item in the settings, then retry",
                names.join(", ")
            ),
        )
    })?;
    Ok(charged
        .into_iter()
        .map(|f| PlannedLine {
            item_id: item.to_string(),
            unit_quantity: 1,
            unit_price: f.total + f.tax,
            discount: Money::ZERO,
            parent_sale_line_id: None,
        })
        .collect())
}
