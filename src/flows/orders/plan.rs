//! Sales and returns as they will be posted (pure).

use super::*;
use crate::pos::lightspeed_r::model::{Money, Sale};
use serde_json::Map;
use std::collections::HashMap;

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
    lines.extend(fee_lines(&order.fees, settings)?);
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
