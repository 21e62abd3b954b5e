//! Issue 11: WooCommerce fee lines on a fee item (`no_fee_item` without
//! one).

use crate::model::Money;
use crate::sync::orders::*;
use serde_json::{json, Value};

fn settings(fee_item: Value) -> OrderSettings {
    serde_json::from_value(json!({
        "shop_id": "1", "register_id": "1", "employee_id": "3",
        "payment_types": {"default": "7"},
        "shipping": {"mode": "item", "item_id": "900"},
        "fee_item_id": fee_item,
    }))
    .unwrap()
}

fn order(fees: Value, total: &str) -> OrderPayload {
    serde_json::from_value(json!({
        "number": "1042", "customer": {"email": ""},
        "lines": [{"line_id": "1", "item_id": "1", "qty": 2, "unit_price": "10.00", "total": "20.00", "tax": "2.00"}],
        "shipping_total": "5.00", "shipping_tax": "0.50", "fees": fees,
        "total": total, "gateway": "x",
    }))
    .unwrap()
}

#[test]
fn each_fee_is_a_line_on_the_fee_item_at_total_plus_tax_and_the_sale_balances() {
    let o = order(
        json!([{"name": "Gift wrap", "total": "3.00", "tax": "0.30"},
               {"name": "Loyalty", "total": "-2.00", "tax": "-0.20"}]),
        "28.60",
    );
    let plan = plan_sale(&o, "WEB-1042", &settings(json!("950"))).unwrap();
    let fees: Vec<&PlannedLine> = plan.lines.iter().filter(|l| l.item_id == "950").collect();
    assert_eq!(fees.len(), 2);
    assert_eq!(fees[0].unit_price, Money::parse("3.30").unwrap());
    assert_eq!(fees[0].unit_quantity, 1);
    assert_eq!(
        fees[1].unit_price,
        Money::parse("-2.20").unwrap(),
        "a negative fee is a negative unit price"
    );
    assert_eq!(plan.total(), Money::parse("28.60").unwrap());
    assert_eq!(plan.payment, plan.total());
    let body = plan.body();
    let lines = body["SaleLines"]["SaleLine"].as_array().unwrap();
    assert_eq!(lines.len(), 4, "item, shipping, two fees: {body}");
}

#[test]
fn fees_without_a_fee_item_are_no_fee_item_permanent_and_named() {
    let o = order(
        json!([{"name": "Card surcharge", "total": "1.50", "tax": "0"}]),
        "29.00",
    );
    let f = plan_sale(&o, "WEB-1042", &settings(Value::Null)).unwrap_err();
    assert_eq!(f.code, "no_fee_item");
    assert_eq!(f.class, FailureClass::Permanent);
    assert!(f.cause.contains("'Card surcharge' 1.50"), "{}", f.cause);
}

#[test]
fn no_fees_or_zero_fees_need_no_fee_item() {
    let plan = plan_sale(&order(json!([]), "27.50"), "W", &settings(Value::Null)).unwrap();
    assert_eq!(plan.lines.len(), 2);
    let zero = order(
        json!([{"name": "Free wrap", "total": "0", "tax": "0"}]),
        "27.50",
    );
    assert!(plan_sale(&zero, "W", &settings(Value::Null)).is_ok());
}
