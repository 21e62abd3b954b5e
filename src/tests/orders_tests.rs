use super::*;
use crate::edge::transport::TransportError;
use crate::flows::orders::*;
use crate::job;
use crate::pos::lightspeed_r::model::{Money, Sale, SaleLine, SalePayment};
use crate::pos::lightspeed_r::session::ApiError;
use futures::executor::block_on;
use serde_json::{json, Value};

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn settings(shipping: Value) -> OrderSettings {
    serde_json::from_value(json!({
        "shop_id": "1", "register_id": 1, "employee_id": "3",
        "payment_types": {"stripe": "7", "default": 8},
        "shipping": shipping,
        "reference_source": "WooCommerce",
    }))
    .unwrap()
}

fn line(item: Option<&str>, qty: i64, unit: &str, total: &str, tax: &str) -> Value {
    json!({"line_id": "1", "product_id": "57", "item_id": item, "sku": "MUG-BLU", "name": "Blue Mug",
           "qty": qty, "unit_price": unit, "total": total, "tax": tax})
}

fn order(lines: Vec<Value>, shipping: &str, shipping_tax: &str, total: &str) -> OrderPayload {
    serde_json::from_value(json!({
        "number": "1042", "currency": "USD",
        "customer": {"email": "a@b.test", "first_name": "A", "last_name": "B", "phone": "",
                     "billing": {"address1": "1 St", "city": "X", "postcode": "1", "country": "US"}},
        "lines": lines, "shipping_total": shipping, "shipping_tax": shipping_tax,
        "discount_total": "0", "total": total, "total_tax": "0", "gateway": "stripe",
        "prices_include_tax": false,
    }))
    .unwrap()
}

#[test]
fn gross_lines_put_tax_in_the_unit_price_and_the_coupon_in_the_discount() {
    // No tax, no coupon.
    assert_eq!(
        gross_line(2, m("19.00"), m("38.00"), m("0")),
        (m("19.00"), m("0"))
    );
    // 10 % tax: 19.00 ex → 20.90 gross.
    assert_eq!(
        gross_line(2, m("19.00"), m("38.00"), m("3.80")),
        (m("20.90"), m("0"))
    );
    // 10 % coupon, then 10 % tax: charged 34.20 + 3.42 = 37.62.
    let (p, d) = gross_line(2, m("19.00"), m("34.20"), m("3.42"));
    assert_eq!((p, d), (m("20.90"), m("4.18")));
    assert_eq!(2 * p.cents - d.cents, 3762);
    // Free (100 % coupon).
    assert_eq!(
        gross_line(3, m("5.00"), m("0"), m("0")),
        (m("5.00"), m("15.00"))
    );
    // Rounding never gives a negative discount: 3 × 3.33 < 10.00.
    let (p, d) = gross_line(3, m("3.33"), m("10.00"), m("0"));
    assert!(d.cents >= 0);
    assert_eq!(3 * p.cents - d.cents, 1000);
}

#[test]
fn property_every_line_balances_exactly() {
    let mut rng = crate::pos::lightspeed_r::pacer::XorShift::new(7);
    for _ in 0..5000 {
        let qty = 1 + rng.below(9) as i64;
        let unit = 1 + rng.below(20_000) as i64;
        let list = qty * unit;
        let total = list - rng.below(list as u64 + 1) as i64;
        let tax = total * rng.below(30) as i64 / 100;
        let (p, d) = gross_line(
            qty,
            Money::from_cents(unit),
            Money::from_cents(total),
            Money::from_cents(tax),
        );
        assert!(
            d.cents >= 0,
            "qty {qty} unit {unit} total {total} tax {tax}"
        );
        assert_eq!(qty * p.cents - d.cents, total + tax);
    }
}

#[test]
fn a_sale_balances_with_shipping_as_an_item_or_excluded() {
    let o = order(
        vec![
            line(Some("1"), 2, "19.00", "34.20", "3.42"),
            line(Some("7"), 1, "24.00", "24.00", "2.40"),
        ],
        "5.00",
        "0.50",
        "69.52",
    );
    let s = settings(json!({"mode": "item", "item_id": "99"}));
    let plan = plan_sale(&o, "WEB-1042", &s).unwrap();
    assert_eq!(plan.lines.len(), 3);
    assert_eq!(plan.lines[2].item_id, "99");
    assert_eq!(plan.lines[2].unit_price, m("5.50"));
    assert_eq!(plan.payment, m("69.52"));
    assert_eq!(plan.payment_type_id, "7");
    plan.check_balance().unwrap();
    let body = plan.body();
    assert_eq!(body["completed"], true);
    assert_eq!(body["referenceNumber"], "WEB-1042");
    assert_eq!(body["referenceNumberSource"], "WooCommerce");
    assert_eq!(body["registerID"], "1");
    assert_eq!(
        body["SaleLines"]["SaleLine"][0],
        json!({"itemID": "1", "unitQuantity": "2", "unitPrice": "20.90", "discountAmount": "4.18", "tax": false})
    );
    assert_eq!(
        body["SalePayments"]["SalePayment"][0],
        json!({"paymentTypeID": "7", "amount": "69.52"})
    );
    assert!(body.get("customerID").is_none());

    let plan = plan_sale(&o, "WEB-1042", &settings(json!({"mode": "exclude"}))).unwrap();
    assert_eq!(plan.lines.len(), 2);
    assert_eq!(plan.payment, m("64.02"));
    plan.check_balance().unwrap();
}

#[test]
fn tax_rounded_per_order_is_absorbed_but_fees_are_refused() {
    // Lines say 10.00 + 10.00 (tax 1.00 each rounded), the order 21.99.
    let lines = vec![
        line(Some("1"), 1, "10.00", "10.00", "1.00"),
        line(Some("2"), 1, "10.00", "10.00", "1.00"),
    ];
    let plan = plan_sale(
        &order(lines.clone(), "0", "0", "21.99"),
        "R",
        &settings(json!({"mode": "exclude"})),
    )
    .unwrap();
    assert_eq!(plan.payment, m("21.99"));
    assert_eq!(plan.total(), m("21.99"));
    let err = plan_sale(
        &order(lines, "0", "0", "25.00"),
        "R",
        &settings(json!({"mode": "exclude"})),
    )
    .unwrap_err();
    assert_eq!(err.code, "totals_mismatch");
    assert_eq!(err.class, FailureClass::Permanent);
    assert!(err.cause.contains("22.00"), "{}", err.cause);
}

#[test]
fn unlinked_lines_and_missing_payment_types_are_permanent_and_named() {
    let o = order(
        vec![
            line(Some("1"), 1, "1.00", "1.00", "0"),
            line(None, 1, "9.00", "9.00", "0"),
        ],
        "0",
        "0",
        "10.00",
    );
    let e = plan_sale(&o, "R", &settings(json!({"mode": "exclude"}))).unwrap_err();
    assert_eq!(e.code, "unlinked_item");
    assert_eq!(e.class, FailureClass::Permanent);
    assert!(e.cause.contains("'Blue Mug' (SKU MUG-BLU)"), "{}", e.cause);

    let mut s = settings(json!({"mode": "exclude"}));
    s.payment_types = PaymentTypes::default();
    let o = order(
        vec![line(Some("1"), 1, "1.00", "1.00", "0")],
        "0",
        "0",
        "1.00",
    );
    assert_eq!(plan_sale(&o, "R", &s).unwrap_err().code, "no_payment_type");
    // Unknown gateway → the default type.
    let mut o2 = o.clone();
    o2.gateway = "cod".into();
    assert_eq!(
        plan_sale(&o2, "R", &settings(json!({"mode": "exclude"})))
            .unwrap()
            .payment_type_id,
        "8"
    );
}

fn original() -> Sale {
    Sale {
        sale_id: "50".into(),
        completed: true,
        voided: false,
        reference_number: "WEB-1042".into(),
        reference_number_source: "WooCommerce".into(),
        customer_id: Some("9".into()),
        employee_id: Some("3".into()),
        register_id: Some("1".into()),
        shop_id: Some("1".into()),
        total: m("69.52"),
        create_time: String::new(),
        time_stamp: String::new(),
        lines: vec![
            SaleLine {
                sale_line_id: Some("501".into()),
                item_id: Some("1".into()),
                unit_quantity: 2,
                unit_price: m("20.90"),
                parent_sale_line_id: None,
            },
            SaleLine {
                sale_line_id: Some("502".into()),
                item_id: Some("7".into()),
                unit_quantity: 1,
                unit_price: m("26.40"),
                parent_sale_line_id: None,
            },
        ],
        payments: vec![SalePayment {
            sale_payment_id: Some("1".into()),
            amount: m("69.52"),
            payment_type_id: Some("7".into()),
        }],
    }
}

fn refund(amount: &str, lines: Value) -> RefundPayload {
    serde_json::from_value(
        json!({"number": "77", "order_reference": "WEB-1042", "order_sale_id": "50",
        "amount": amount, "reason": "", "lines": lines, "full": false}),
    )
    .unwrap()
}

#[test]
fn a_return_references_the_original_lines_and_restocks_only_what_was_restocked() {
    let mut s = settings(json!({"mode": "exclude"}));
    s.refund_item_id = Some("88".into());
    let r = refund(
        "30.00",
        json!([
            {"line_id": "1", "item_id": "1", "qty": 1, "amount": "18.81", "restock": true},
            {"line_id": "2", "item_id": "7", "qty": 1, "amount": "6.19", "restock": false},
        ]),
    );
    let plan = plan_return(&r, "WEB-1042-R77", &original(), &s).unwrap();
    assert_eq!(plan.customer_id.as_deref(), Some("9"));
    assert_eq!(plan.payment, m("-30.00"));
    assert_eq!(plan.payment_type_id, "7");
    let l = &plan.lines;
    assert_eq!(l.len(), 3);
    assert_eq!(l[0].parent_sale_line_id.as_deref(), Some("501"));
    assert_eq!(l[0].unit_quantity, -1);
    assert_eq!(l[0].unit_price, m("20.90"));
    assert_eq!(l[0].total(), m("-18.81"));
    // Not restocked: a money line on the non-inventory item, no parent.
    assert_eq!(
        (l[1].item_id.as_str(), l[1].unit_quantity, l[1].total()),
        ("88", -1, m("-6.19"))
    );
    // The rest (shipping refunded): another money line.
    assert_eq!(l[2].total(), m("-5.00"));
    plan.check_balance().unwrap();
    let body = plan.body();
    assert_eq!(body["SaleLines"]["SaleLine"][0]["parentSaleLineID"], "501");
    assert_eq!(body["customerID"], "9");
}

#[test]
fn return_errors() {
    let s = settings(json!({"mode": "exclude"}));
    // Money-only without a refund item.
    let e = plan_return(&refund("5.00", json!([])), "R", &original(), &s).unwrap_err();
    assert_eq!(e.code, "no_refund_item");
    // The shipping item stands in for it.
    let ship = settings(json!({"mode": "item", "item_id": "99"}));
    let p = plan_return(&refund("5.00", json!([])), "R", &original(), &ship).unwrap();
    assert_eq!(p.lines[0].item_id, "99");
    // More than was sold.
    let e = plan_return(
        &refund(
            "60.00",
            json!([{"item_id": "1", "qty": 3, "amount": "60.00", "restock": true}]),
        ),
        "R",
        &original(),
        &ship,
    )
    .unwrap_err();
    assert_eq!(e.code, "refund_line_unmatched");
    // Lines above the refund amount.
    let e = plan_return(
        &refund(
            "1.00",
            json!([{"item_id": "1", "qty": 1, "amount": "2.00", "restock": true}]),
        ),
        "R",
        &original(),
        &ship,
    )
    .unwrap_err();
    assert_eq!(e.code, "bad_payload");
}

#[test]
fn backoff_is_capped_exponential_and_parks_after_max_attempts() {
    let now = 1_000_000;
    let waits: Vec<Option<u64>> = (1..=9)
        .map(|f| retry_at_ms(now, f, 8).map(|t| (t - now) / 60_000))
        .collect();
    assert_eq!(
        waits,
        vec![
            Some(1),
            Some(2),
            Some(4),
            Some(8),
            Some(16),
            Some(32),
            Some(60),
            None,
            None
        ]
    );
    assert_eq!(hh_mm_utc(14 * 3_600_000 + 5 * 60_000 + 86_400_000), "14:05");
}

#[test]
fn failure_events_name_the_order_and_what_happens_next() {
    let row: OutboxRow =
        serde_json::from_value(json!({"id": 5, "kind": "order", "reference": "WEB-1042",
        "attempts": 2, "payload": {"number": 1042}}))
        .unwrap();
    let now = 14 * 3_600_000 + 1_000;
    let f = RowFailure::transient("pos_unavailable", "POS answered 503");
    let e = failure_event(&row, &row_name(&row), &f, now, 8).to_json();
    assert_eq!(
        e,
        json!({"v": 1, "type": "outbox_failed", "outbox_id": "5", "reference": "WEB-1042",
            "code": "pos_unavailable", "message": "order #1042: POS answered 503; retry 3 of 7 at 14:04 UTC",
            "retry_at_ms": now + 4 * 60_000, "attention": false, "resumable": false})
    );
    let mut last = row.clone();
    last.attempts = 7;
    let e = failure_event(&last, "order #1042", &f, now, 8).to_json();
    assert_eq!(e["attention"], true);
    assert_eq!(e["retry_at_ms"], Value::Null);
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("gave up after 8 attempts"));
    let p = RowFailure::permanent("unlinked_item", "line 'x' is not linked");
    let e = failure_event(&row, "order #1042", &p, now, 8).to_json();
    assert_eq!(e["attention"], true);
}

#[test]
fn error_classes() {
    assert_eq!(classify_maybe_applied("HTTP 500"), WriteFailure::Answered);
    assert_eq!(classify_maybe_applied("HTTP 504"), WriteFailure::InFlight);
    assert_eq!(
        classify_maybe_applied("no answer within the timeout"),
        WriteFailure::InFlight
    );
    let refused = ApiError::Refused {
        label: "POST Sale".into(),
        status: 400,
        reason: "Invalid itemID".into(),
    };
    assert_eq!(classify_api_error(&refused).class, FailureClass::Permanent);
    assert!(!is_job_wide(&refused));
    assert!(is_job_wide(&ApiError::Credentials("x".into())));
    let down = ApiError::Unavailable {
        label: "GET".into(),
        detail: "HTTP 503".into(),
        attempts: 6,
    };
    assert_eq!(classify_api_error(&down).class, FailureClass::Transient);
}

#[test]
fn order_jobs_are_checked() {
    let mut j = job_json("post_orders", valid_tokens(), json!({}));
    assert!(OrderJob::from_job(&j)
        .unwrap_err()
        .contains("settings for post_orders"));
    j["settings"]["shop_id"] = json!("1");
    j["settings"]["register_id"] = json!("1");
    j["settings"]["employee_id"] = json!("3");
    j["outbox"] = json!([{"id": "1", "kind": "order", "reference": "WEB-1", "payload": {}}]);
    let o = OrderJob::from_job(&j).unwrap();
    assert_eq!(o.settings.max_attempts, 8);
    assert_eq!(o.settings.reference_source, "WooCommerce");
    assert_eq!(o.settings.shipping, Shipping::Exclude);
    j["settings"]["shipping"] = json!({"mode": "item", "item_id": ""});
    assert!(OrderJob::from_job(&j).unwrap_err().contains("item_id"));
}

fn orders_job(outbox: Value) -> Value {
    let mut j = job_json("post_orders", valid_tokens(), json!({}));
    j["settings"]["shop_id"] = json!("1");
    j["settings"]["register_id"] = json!("1");
    j["settings"]["employee_id"] = json!("3");
    j["settings"]["payment_types"] = json!({"default": "7"});
    j["outbox"] = outbox;
    j
}

fn order_row(n: u32) -> Value {
    json!({"id": format!("o{n}"), "kind": "order", "reference": format!("WEB-{n}"), "attempts": 0,
        "payload": {"number": n.to_string(), "customer": {"email": ""},
            "lines": [{"item_id": "1", "qty": 1, "unit_price": "19.00", "total": "19.00", "tax": "0"}],
            "total": "19.00", "gateway": "x"}})
}

const NO_SALES: &str = r#"{"@attributes":{"count":"0","next":""}}"#;

#[test]
fn found_by_lookup_is_reported_never_posted_and_a_dropped_post_is_looked_up_again() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    // One batched lookup for both rows: WEB-1 exists already.
    t.on(
        "Sale.json?referenceNumber=IN%2C%5B%22WEB-1%22%2C%22WEB-2%22%5D&archived=true",
        200,
        r#"{"@attributes":{"count":"1","next":""},"Sale":{"saleID":"40","referenceNumber":"WEB-1","customerID":"0","completed":"true","calcTotal":"19"}}"#,
    )
    // WEB-2: the POST is dropped after the write …
    .reply("Sale.json", |req| {
        assert_eq!(req.method, crate::edge::transport::Method::Post);
        Err(TransportError::Network {
            message: "socket hang up".into(),
            maybe_sent: true,
        })
    })
    // … and found by the lookup that follows.
    .on(
        "Sale.json?referenceNumber=WEB-2&archived=true",
        200,
        r#"{"@attributes":{"count":"1","next":""},"Sale":{"saleID":"41","referenceNumber":"WEB-2","completed":"true","calcTotal":"19"}}"#,
    );
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let result = block_on(job::run(
        orders_job(json!([order_row(1), order_row(2)])),
        &t,
        &clock,
        &host,
    ));
    assert_eq!(result.to_json()["ok"], true, "{}", host.all_json());
    let posted = host.of_type("sale_posted");
    assert_eq!(
        posted[0],
        json!({"v": 1, "type": "sale_posted", "outbox_id": "o1", "reference": "WEB-1", "sale_id": "40", "customer_id": null, "existing": true})
    );
    assert_eq!(posted[1]["sale_id"], "41");
    assert_eq!(posted[1]["existing"], false);
    assert_eq!(t.remaining(), 0);
    let posts = t
        .sent
        .borrow()
        .iter()
        .filter(|r| r.method == crate::edge::transport::Method::Post)
        .count();
    assert_eq!(posts, 1, "never posted twice");
}

#[test]
fn a_dropped_post_not_found_is_maybe_posted_and_three_transient_failures_stop_the_batch() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    t.on("Sale.json?referenceNumber=IN", 200, NO_SALES);
    for n in 1..=3 {
        t.on("Sale.json", 503, r#"{"message":"down"}"#).on(
            &format!("Sale.json?referenceNumber=WEB-{n}"),
            200,
            NO_SALES,
        );
    }
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let rows: Vec<Value> = (1..=5).map(order_row).collect();
    let result = block_on(job::run(orders_job(json!(rows)), &t, &clock, &host));
    let r = result.to_json();
    assert_eq!(r["ok"], true, "{}", host.all_json());
    assert_eq!(r["summary"]["failed"], 3);
    assert_eq!(r["summary"]["left"], 2);
    let failed = host.of_type("outbox_failed");
    assert_eq!(failed.len(), 3);
    assert_eq!(failed[0]["code"], "pos_unavailable");
    assert_eq!(failed[0]["attention"], false);
    assert_eq!(t.remaining(), 0);
}

#[test]
fn a_timeout_after_sending_not_found_is_maybe_posted_and_never_reposted_in_the_run() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    t.on(
        "Sale.json?referenceNumber=WEB-1&archived=true",
        200,
        NO_SALES,
    )
    .reply("Sale.json", |_| {
        Err(TransportError::Timeout { maybe_sent: true })
    })
    .on(
        "Sale.json?referenceNumber=WEB-1&archived=true",
        200,
        NO_SALES,
    );
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let result = block_on(job::run(
        orders_job(json!([order_row(1)])),
        &t,
        &clock,
        &host,
    ));
    assert_eq!(
        result.to_json()["summary"]["failed"],
        1,
        "{}",
        host.all_json()
    );
    let f = &host.of_type("outbox_failed")[0];
    assert_eq!(f["code"], "maybe_posted");
    assert_eq!(f["attention"], false);
    assert!(f["message"]
        .as_str()
        .unwrap()
        .starts_with("order #1: no clear answer after sending"));
    assert_eq!(t.remaining(), 0, "looked up again, not re-posted");
}

#[test]
fn rows_are_named_in_the_merchants_words() {
    let row = |kind: &str, payload: Value| -> OutboxRow {
        serde_json::from_value(
            json!({"id": "1", "kind": kind, "reference": "WEB-9", "payload": payload}),
        )
        .unwrap()
    };
    assert_eq!(
        row_name(&row("order", json!({"number": "1042"}))),
        "order #1042"
    );
    assert_eq!(row_name(&row("order", json!({}))), "order WEB-9");
    assert_eq!(
        row_name(&row(
            "refund",
            json!({"number": 77, "order_number": "1042", "order_reference": "WEB-1042"})
        )),
        "refund #77 of order #1042"
    );
    assert_eq!(
        row_name(&row(
            "refund",
            json!({"number": 77, "order_reference": "WEB-1042"})
        )),
        "refund #77 of order WEB-1042"
    );
}
