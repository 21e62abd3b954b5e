use crate::edge::transport::{HttpResponse, Method};
use crate::pos::lightspeed_r::*;
use serde_json::json;

fn ep() -> Endpoint {
    Endpoint::new("https://api.example.test/API/V3/", "1")
}

#[test]
fn filters_are_encoded_from_typed_values() {
    let q = Query::new()
        .filter("timeStamp", Filter::Ge("2024-01-01T00:00:00+00:00".into()))
        .unwrap()
        .sort("timeStamp")
        .limit(100)
        .unwrap();
    assert_eq!(
        q.encode(),
        "timeStamp=%3E%3D%2C2024-01-01T00%3A00%3A00%2B00%3A00&sort=timeStamp&limit=100"
    );
    let cases = [
        (Filter::Gt("5".into()), "%3E%2C5"),
        (Filter::Lt("5".into()), "%3C%2C5"),
        (Filter::Le("5".into()), "%3C%3D%2C5"),
        (Filter::Ne("5".into()), "%21%3D%2C5"),
        (
            Filter::Like("%shirt & tie%".into()),
            "~%2C%25shirt%20%26%20tie%25",
        ),
        (Filter::Eq("a=b&c".into()), "a%3Db%26c"),
        (
            Filter::In(vec!["1".into(), "2".into(), "3".into()]),
            "IN%2C%5B1%2C2%2C3%5D",
        ),
    ];
    for (f, want) in cases {
        let got = Query::new().filter("x", f).unwrap().encode();
        assert_eq!(got, format!("x={want}"));
    }
}

#[test]
fn in_filter_limits() {
    let hundred: Vec<String> = (1..=100).map(|i| i.to_string()).collect();
    assert!(Query::new()
        .filter("itemID", Filter::In(hundred.clone()))
        .is_ok());
    let mut too_many = hundred;
    too_many.push("101".into());
    assert_eq!(
        Query::new()
            .filter("itemID", Filter::In(too_many))
            .unwrap_err(),
        RequestError::InSize {
            field: "itemID".into(),
            count: 101
        }
    );
    assert!(Query::new().filter("itemID", Filter::In(vec![])).is_err());
    assert!(Query::new()
        .filter("itemID", Filter::In(vec!["1,2".into()]))
        .is_err());
    assert!(Query::new().limit(0).is_err());
    assert!(Query::new().limit(101).is_err());
}

#[test]
fn load_relations_is_an_encoded_json_array() {
    let q = Query::new().load_relations(&["ItemShops", "Images"]);
    assert_eq!(
        q.encode(),
        "load_relations=%5B%22ItemShops%22%2C%22Images%22%5D"
    );
}

#[test]
fn stock_requests() {
    let r = ep().item_shops_since(Some("2024-01-01T00:00:00+00:00"));
    assert_eq!(r.method, Method::Get);
    assert_eq!(
        r.url,
        "https://api.example.test/API/V3/Account/1/ItemShop.json?sort=timeStamp&timeStamp=%3E%3D%2C2024-01-01T00%3A00%3A00%2B00%3A00&limit=100"
    );
    assert_eq!(r.cost, 1.0);
    let r = ep().item_shops_since(None);
    assert!(!r.url.contains("timeStamp="));

    let r = ep().items_with_stock(&["7".into(), "9".into()]).unwrap();
    assert!(r.url.contains("itemID=IN%2C%5B7%2C9%5D"));
    assert!(r.url.contains("archived=true"));
    assert!(r.url.contains("load_relations=%5B%22ItemShops%22%5D"));
    assert_eq!(r.cost, 1.4, "to-many relation on a list: 0.2 doubled");

    let r = ep().items_after(Some("250"));
    assert!(
        r.url
            .contains("sort=itemID&itemID=%3E%2C250&archived=false"),
        "{}",
        r.url
    );
    assert_eq!(
        ep().account().url,
        "https://api.example.test/API/V3/Account.json"
    );
}

#[test]
fn cost_model() {
    let sale = json!({"completed": true, "SaleLines": {"SaleLine": [{"itemID": "1"}, {"itemID": "2"}]},
                      "SalePayments": {"SalePayment": {"amount": "3.00"}}});
    // 2 + 3 (completed) + 0.5 × 3 nested entities
    assert_eq!(
        predict_cost(Method::Post, "Sale", false, &[], Some(&sale)),
        6.5
    );
    assert_eq!(
        predict_cost(Method::Post, "Sale/5/refund", false, &[], None),
        10.0
    );
    assert_eq!(
        predict_cost(Method::Get, "Item", false, &["Category".into()], None),
        1.1
    );
    assert_eq!(
        predict_cost(
            Method::Get,
            "Item",
            true,
            &["Category".into(), "Images".into()],
            None
        ),
        1.6
    );
}

#[test]
fn next_links_must_stay_on_our_api() {
    let prev = ep().item_shops_since(None);
    let ok = ep()
        .follow_next(
            &prev,
            "https://API.example.test/API/V3/Account/1/ItemShop.json?after=xyz",
        )
        .unwrap();
    assert!(ok.url.ends_with("after=xyz"));
    assert_eq!(ok.cost, prev.cost);
    assert!(ep()
        .follow_next(&prev, "https://evil.test/steal?after=xyz")
        .is_err());
    assert!(ep().follow_next(&prev, "/relative").is_err());
}

#[test]
fn http_requests_carry_auth_but_debug_hides_it() {
    let h = ep().account().to_http("tok-secret", 5000);
    assert_eq!(h.header("authorization"), Some("Bearer tok-secret"));
    assert!(!format!("{h:?}").contains("tok-secret"));
    let r = refresh_request("https://t.test/token", "cid", "sec ret", "rt+1", 5000);
    assert_eq!(r.method, Method::Post);
    assert_eq!(
        r.body.as_deref(),
        Some("grant_type=refresh_token&refresh_token=rt%2B1&client_id=cid&client_secret=sec%20ret")
    );
    assert!(!format!("{r:?}").contains("sec"));
}

#[test]
fn token_and_error_answers() {
    let t = read_token_answer(&HttpResponse::new(
        200,
        r#"{"access_token":"a","refresh_token":"r","expires_in":"3600"}"#,
    ))
    .unwrap();
    assert_eq!(t.expires_in_s, 3600);
    assert!(!format!("{t:?}").contains("\"a\""));
    assert!(read_token_answer(&HttpResponse::new(200, r#"{"access_token":"a"}"#)).is_err());
    assert!(read_token_answer(&HttpResponse::new(200, "nope")).is_err());
    let e = error_reason(&HttpResponse::new(
        401,
        r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
    ));
    assert_eq!(e, "Client authentication failed");
    assert_eq!(
        error_reason(&HttpResponse::new(
            400,
            r#"{"httpCode":"400","message":"Invalid IN list"}"#
        )),
        "Invalid IN list"
    );
    assert_eq!(error_reason(&HttpResponse::new(502, "<html>")), "HTTP 502");
}
