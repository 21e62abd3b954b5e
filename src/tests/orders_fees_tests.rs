//! Issue 11: WooCommerce fee lines on a fee item (`no_fee_item` without
//! one).

use crate::flows::orders::*;
use crate::pos::lightspeed_r::model::Money;
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

// ---------------------------------------------------------------------------
// The customer e-mail match

use super::orders_checks_tests::{orders_job, recorded, run_job, NO_SALES};

fn buyer_row(email: &str) -> Value {
    json!({"id": "o1", "kind": "order", "reference": "WEB-21", "attempts": 0,
        "payload": {"number": "21", "customer": {"email": email, "first_name": "Ann", "last_name": "Lee"},
            "lines": [{"item_id": "1", "qty": 1, "unit_price": "19.00", "total": "19.00", "tax": "0"}],
            "total": "19.00", "gateway": "x"}})
}

fn posted_sale() -> String {
    json!({"Sale": {"saleID": "200", "referenceNumber": "WEB-21", "completed": "true", "calcTotal": "19",
        "customerID": "0", "SalePayments": {"SalePayment": {"amount": "19", "paymentTypeID": "7"}}}})
    .to_string()
}

#[test]
fn a_pos_that_ignores_the_email_filter_does_not_attach_the_sale_to_its_customer() {
    // The real recorded Customer page (a customer without any e-mail), as a
    // POS that ignored `Contact.email=` would answer: not the buyer.
    let page = recorded("account__customers__index.json")["interactions"][0]["body"].to_string();
    let r = run_job(orders_job(json!([buyer_row("Ann@Example.test")])), |t| {
        t.on("Sale.json?referenceNumber=WEB-21", 200, NO_SALES)
            .on("Customer.json?", 200, &page)
            .reply("Customer.json", |req| {
                assert_eq!(req.method, crate::edge::transport::Method::Post, "created");
                Ok(crate::edge::transport::HttpResponse::new(
                    200,
                    r#"{"Customer":{"customerID":"44","firstName":"Ann"}}"#,
                ))
            })
            .reply("Sale.json", |req| {
                let body: Value = serde_json::from_str(req.body.as_deref().unwrap()).unwrap();
                assert_eq!(body["customerID"], "44", "the new customer, not customer 1");
                Ok(crate::edge::transport::HttpResponse::new(
                    200,
                    posted_sale(),
                ))
            });
    });
    assert_eq!(r.host.of_type("sale_posted")[0]["customer_id"], "44");
}

#[test]
fn a_customer_is_the_buyer_when_one_of_its_emails_matches_trimmed_and_in_any_case() {
    let page = json!({"@attributes": {"count": "3", "next": ""}, "Customer": [
        {"customerID": "3", "firstName": "Other", "Contact": {"Emails": {"ContactEmail": {"address": "someone@else.test", "useType": "Primary"}}}},
        {"customerID": "8", "firstName": "Ann", "Contact": {"Emails": {"ContactEmail": [
            {"address": "old@home.test", "useType": "Primary"},
            {"address": "  ANN@example.TEST ", "useType": "Secondary"}]}}},
        {"customerID": "2", "firstName": "Gone", "archived": "true", "Contact": {"Emails": {"ContactEmail": {"address": "ann@example.test", "useType": "Primary"}}}}
    ]});
    let r = run_job(orders_job(json!([buyer_row("ann@example.test")])), |t| {
        t.on("Sale.json?referenceNumber=WEB-21", 200, NO_SALES)
            .on("Customer.json?", 200, &page.to_string())
            .reply("Sale.json", |req| {
                let body: Value = serde_json::from_str(req.body.as_deref().unwrap()).unwrap();
                assert_eq!(body["customerID"], "8");
                Ok(crate::edge::transport::HttpResponse::new(
                    200,
                    posted_sale(),
                ))
            });
    });
    assert_eq!(
        r.host.of_type("sale_posted")[0]["customer_id"],
        "8",
        "{}",
        r.host.all_json()
    );
}
