use super::*;
use crate::protocol::{Event, Job};
use crate::runner;
use futures::executor::block_on;
use serde_json::json;

#[test]
fn bad_jobs_give_an_error_event_and_a_failed_result() {
    let cases = [
        (json!(null), "no \"v\""),
        (
            json!({"v": 2, "kind": "sync"}),
            "unsupported protocol version",
        ),
        (json!({"v": 1, "kind": "dance"}), "malformed"),
        (
            json!({"v": 1, "kind": "sync", "budget_ms": 1000}),
            "malformed",
        ),
    ];
    for (job, want) in cases {
        let tl = timeline();
        let t = Scripted::new(tl.clone());
        let host = RecordingHost::new(tl.clone());
        let clock = FakeClock::new(0);
        let result = block_on(runner::run(job.clone(), &t, &clock, &host));
        assert_eq!(result.to_json()["ok"], false);
        let err = &host.of_type("error")[0];
        assert_eq!(err["code"], "bad_job");
        assert!(
            err["message"].as_str().unwrap().contains(want),
            "{job}: {err}"
        );
        assert!(t.sent.borrow().is_empty());
    }
    let mut j = job_json("sync", valid_tokens(), json!({}));
    j["settings"]["api_base"] = json!("ftp://x");
    assert!(Job::from_value(j).is_err());
}

#[test]
fn lenient_settings_and_cursors() {
    let mut j = job_json(
        "sync",
        valid_tokens(),
        json!({"item_shop": {"ts": "2024-01-01T00:00:00+00:00", "ids": ["12", "13"]}, "reconcile": null}),
    );
    j["settings"]["account_id"] = json!(1);
    j["settings"]["shop_ids"] = json!([1, "2"]);
    j["settings"]["safety_buffer"] = json!("3");
    let job = Job::from_value(j).unwrap();
    assert_eq!(job.settings.connection.account_id, "1");
    assert_eq!(job.settings.stock.shop_ids, vec!["1", "2"]);
    assert_eq!(job.settings.stock.safety_buffer, 3);
    assert_eq!(job.cursors.item_shop.unwrap().ids, vec!["12", "13"]);
    assert!(!format!("{:?}", job.settings).contains("s3cret"));
}

#[test]
fn events_carry_v1_and_type() {
    let e = Event::Progress {
        flow: "stock".into(),
        done: 3,
        total: None,
    }
    .to_json();
    assert_eq!(
        e,
        json!({"v": 1, "type": "progress", "flow": "stock", "done": 3, "total": null})
    );
    let e = Event::Error {
        code: "network".into(),
        message: "x".into(),
        retry_at_ms: None,
    }
    .to_json();
    assert!(e.get("retry_at_ms").is_none());
    let t = Event::Token {
        access_token: "a-secret".into(),
        refresh_token: "r".into(),
        expires_at_ms: 5,
    };
    assert!(!format!("{t:?}").contains("a-secret"));
}

const SHOP_ROW_ONE: &str = r#"{"@attributes":{"count":"1","next":"","previous":""},
  "ItemShop":{"itemShopID":"71","qoh":"4","itemID":"7","shopID":"1","timeStamp":"2024-03-01T10:00:05+00:00"}}"#;
const ITEM_7: &str = r#"{"@attributes":{"count":"1"},"Item":{"itemID":"7","customSku":"TEE-M","systemSku":"2100","archived":"false",
  "ItemShops":{"ItemShop":[
    {"itemShopID":"70","qoh":"9","itemID":"7","shopID":"0","timeStamp":"2024-03-01T10:00:05+00:00"},
    {"itemShopID":"71","qoh":"4","itemID":"7","shopID":"1","timeStamp":"2024-03-01T10:00:05+00:00"},
    {"itemShopID":"72","qoh":"5","itemID":"7","shopID":"2","timeStamp":"2024-03-01T09:00:00+00:00"}]}}}"#;

#[test]
fn sync_single_changed_row_gives_one_stock_event_and_a_new_cursor() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    t.on(
        "ItemShop.json?sort=timeStamp&timeStamp=%3E%3D%2C2024-03-01T10%3A00%3A00%2B00%3A00",
        200,
        SHOP_ROW_ONE,
    )
    .on("Item.json?itemID=IN%2C%5B7%5D", 200, ITEM_7);
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let mut job = job_json(
        "sync",
        valid_tokens(),
        json!({"item_shop": {"ts": "2024-03-01T10:00:00+00:00", "ids": ["1"]}}),
    );
    job["settings"]["shop_ids"] = json!(["1", "2"]);
    job["settings"]["safety_buffer"] = json!(1);
    let result = block_on(runner::run(job, &t, &clock, &host));
    assert_eq!(result.to_json()["ok"], true, "{}", host.all_json());
    let stock = host.of_type("stock");
    assert_eq!(stock.len(), 1);
    assert_eq!(
        stock[0]["levels"],
        json!([{"item_id": "7", "sku": "TEE-M", "shop_qoh": {"1": 4, "2": 5}, "qoh": 9, "base": 8,
            "read_from_ms": 1_000_000, "read_until_ms": 1_000_000}])
    );
    assert_eq!(
        stock[0]["cursor"],
        json!({"ts": "2024-03-01T10:00:05+00:00", "ids": ["71"], "qoh": {"71": 4}})
    );
    assert_eq!(result.to_json()["summary"]["done"], true);
}

#[test]
fn reconcile_pages_by_item_id_and_ends_with_a_null_cursor() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    t.on(
        "Item.json?sort=itemID&itemID=%3E%2C6&archived=false",
        200,
        r#"{"@attributes":{"count":"2","next":"https://api.example.test/API/V3/Account/1/Item.json?after=x"},
            "Item":[{"itemID":"7","systemSku":"7","ItemShops":{"ItemShop":{"itemShopID":"1","itemID":"7","shopID":"0","qoh":"3"}}},
                    {"itemID":"10","systemSku":"10","ItemShops":""}]}"#,
    )
    .on("Item.json?sort=itemID&itemID=%3E%2C10&archived=false", 200, r#"{"@attributes":{"count":"0","next":""}}"#);
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let job = job_json(
        "reconcile",
        valid_tokens(),
        json!({"reconcile": {"after": "6"}}),
    );
    let result = block_on(runner::run(job, &t, &clock, &host));
    assert_eq!(result.to_json()["ok"], true, "{}", host.all_json());
    let stock = host.of_type("stock");
    assert_eq!(stock[0]["cursor"], json!({"reconcile": {"after": "10"}}));
    assert_eq!(stock[0]["levels"][0]["base"], 3);
    assert_eq!(
        stock[0]["levels"][1]["qoh"], 0,
        "no ItemShop rows yet: zero"
    );
    assert_eq!(stock[1]["cursor"], json!({"reconcile": null}));
    assert_eq!(result.to_json()["summary"]["items"], 2);
}

#[test]
fn malformed_page_is_a_named_error() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    t.on(
        "ItemShop.json",
        200,
        r#"{"ItemShop":{"itemShopID":"71","itemID":"7","qoh":"four"}}"#,
    );
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let result = block_on(runner::run(
        job_json("sync", valid_tokens(), json!({})),
        &t,
        &clock,
        &host,
    ));
    assert_eq!(result.to_json()["ok"], false);
    let err = &host.of_type("error")[0];
    assert_eq!(err["code"], "malformed_answer");
    assert!(
        err["message"].as_str().unwrap().contains("ItemShop 71"),
        "{err}"
    );
}

fn shop_row(id: u32, item: u32, qoh: i64, ts: &str) -> String {
    format!(
        r#"{{"itemShopID":"{id}","itemID":"{item}","shopID":"1","qoh":"{qoh}","timeStamp":"{ts}"}}"#
    )
}

#[test]
fn sync_pages_through_a_crowded_second_then_reads_it_once_more() {
    const T: &str = "2024-03-01T10:00:00+00:00";
    const T1: &str = "2024-03-01T10:00:01+00:00";
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    let next = "https://api.example.test/API/V3/Account/1/ItemShop.json?after=k1";
    let item = |id: u32| {
        format!(
            r#"{{"itemID":"{id}","systemSku":"{id}","ItemShops":{{"ItemShop":{}}}}}"#,
            shop_row(id, id, 1, T)
        )
    };
    // Page 1: a full page, all in second T → follow `next`.
    t.on(
        "ItemShop.json?sort=timeStamp&limit=100",
        200,
        &format!(
            r#"{{"@attributes":{{"next":"{next}"}},"ItemShop":[{},{}]}}"#,
            shop_row(1, 1, 1, T),
            shop_row(2, 2, 1, T)
        ),
    )
    .on(
        "Item.json?itemID=IN%2C%5B1%2C2%5D",
        200,
        &format!(r#"{{"Item":[{},{}]}}"#, item(1), item(2)),
    )
    // Page 2 (via next): the rest of T, then T+1 → T is read once more first.
    .on(
        "ItemShop.json?after=k1",
        200,
        &format!(
            r#"{{"@attributes":{{"next":"{next}2"}},"ItemShop":[{},{}]}}"#,
            shop_row(3, 3, 1, T),
            shop_row(4, 4, 1, T1)
        ),
    )
    .on(
        "Item.json?itemID=IN%2C%5B3%5D",
        200,
        &format!(r#"{{"Item":{}}}"#, item(3)),
    )
    // The re-read of T finds a late change to row 1 (same second, new qoh).
    .on(
        "ItemShop.json?sort=timeStamp&timeStamp=%3E%3D%2C2024-03-01T10%3A00%3A00%2B00%3A00",
        200,
        &format!(
            r#"{{"@attributes":{{"next":""}},"ItemShop":[{},{},{},{}]}}"#,
            shop_row(1, 1, 0, T),
            shop_row(2, 2, 1, T),
            shop_row(3, 3, 1, T),
            shop_row(4, 4, 1, T1)
        ),
    )
    .on(
        "Item.json?itemID=IN%2C%5B1%2C4%5D",
        200,
        &format!(r#"{{"Item":[{},{}]}}"#, item(1), item(4)),
    );
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let result = block_on(runner::run(
        job_json("sync", valid_tokens(), json!({})),
        &t,
        &clock,
        &host,
    ));
    assert_eq!(result.to_json()["ok"], true, "{}", host.all_json());
    assert_eq!(t.remaining(), 0);
    let stock = host.of_type("stock");
    assert_eq!(stock.len(), 3);
    assert_eq!(
        stock[1]["cursor"]["ts"], T,
        "the cursor stays in T until T is settled"
    );
    assert_eq!(
        stock[2]["cursor"],
        json!({"ts": T1, "ids": ["4"], "qoh": {"4": 1}})
    );
    assert_eq!(
        result.to_json()["summary"]["rows"],
        5,
        "rows 1,2,3, then 1 (changed) and 4"
    );
}

#[test]
fn sync_reads_rechecked_items_first_without_moving_the_item_shop_cursor() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    t.on("Item.json?itemID=IN", 200, ITEM_7);
    t.on(
        "ItemShop.json?sort=timeStamp",
        200,
        r#"{"@attributes":{"count":"0","next":"","previous":""}}"#,
    );
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let mut job = job_json("sync", valid_tokens(), json!({}));
    job["recheck_item_ids"] = json!(["7"]);
    let result = block_on(runner::run(job, &t, &clock, &host));
    assert_eq!(result.to_json()["ok"], true, "{}", host.all_json());
    let stock = host.of_type("stock");
    assert_eq!(stock.len(), 1, "{}", host.all_json());
    assert_eq!(stock[0]["cursor"], json!({"recheck": ["7"]}));
    assert_eq!(stock[0]["levels"][0]["item_id"], "7");
    assert_eq!(t.remaining(), 0);
}
