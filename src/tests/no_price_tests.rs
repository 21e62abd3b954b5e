//! Issue 11: a listing without a price above 0 is not purchasable. A simple
//! item is hidden `no_price`, a variant disabled while its siblings stay on
//! sale, a matrix with no priced variant hidden; the fallback level is read
//! before hiding; a price back in the POS publishes the listing again.

use super::orders_checks_tests::recorded;
use crate::flows::products::*;
use crate::pos::lightspeed_r::model::{ItemAttributeSet, Resource};
use serde_json::{json, Value};

fn categories() -> CategoryIndex {
    CategoryIndex::new([])
}

fn prices(default: &str, msrp: &str) -> Value {
    json!({"ItemPrice": [
        {"amount": default, "useTypeID": "1", "useType": "Default"},
        {"amount": msrp, "useTypeID": "2", "useType": "MSRP"}
    ]})
}

fn mug(prices: Value) -> Value {
    json!({
        "itemID": "4", "systemSku": "210000000004", "customSku": "MUG-1", "description": "Harbour Mug",
        "archived": "false", "publishToEcom": "true", "itemMatrixID": "0",
        "timeStamp": "2026-12-01T10:00:00+00:00", "Prices": prices,
        "ItemShops": {"ItemShop": {"itemShopID": "9", "itemID": "4", "shopID": "0", "qoh": "7", "timeStamp": "2026-12-01T10:00:00+00:00"}}
    })
}

fn with(publish: Value) -> PlanSettings {
    PlanSettings {
        publish: serde_json::from_value(publish).unwrap(),
        ..PlanSettings::default()
    }
}

fn simple(v: Value, s: &PlanSettings) -> Listing {
    let it = PosItem::from_value(&v).unwrap();
    plan_listing(ListingSource::Simple(&it), &categories(), None, s)
}

fn hidden_no_price(l: &Listing) {
    assert_eq!(l.visibility, "hidden", "{}", l.key);
    assert_eq!(l.hidden_reason.as_deref(), Some("no_price"), "{}", l.key);
    assert_eq!(l.regular_price, None, "no 0.00 reaches WooCommerce");
    assert_eq!(l.sale_price, None);
}

#[test]
fn a_simple_item_at_zero_is_hidden_no_price() {
    for zero in ["0", "0.00", "", "-5.00"] {
        let l = simple(mug(prices(zero, "0")), &PlanSettings::default());
        hidden_no_price(&l);
        assert_eq!(l.base, Some(7), "its stock is still kept");
    }
    // The wire says why, as PHP reads it.
    let wire =
        serde_json::to_value(simple(mug(prices("0", "0")), &PlanSettings::default())).unwrap();
    assert_eq!(wire["hidden_reason"], "no_price");
    assert_eq!(wire["regular_price"], Value::Null);
}

#[test]
fn missing_or_empty_prices_are_no_price() {
    let mut none = mug(json!(null));
    none.as_object_mut().unwrap().remove("Prices");
    hidden_no_price(&simple(none, &PlanSettings::default()));
    // Lightspeed's empty collection is "".
    hidden_no_price(&simple(mug(json!("")), &PlanSettings::default()));
    // Only an MSRP: the Default level has none.
    let msrp_only = json!({"ItemPrice": {"amount": "12.00", "useTypeID": "2", "useType": "MSRP"}});
    hidden_no_price(&simple(mug(msrp_only), &PlanSettings::default()));
    // Online chosen, Online and Default both 0.
    let online = with(json!({"price_level": "online"}));
    let mut zeros = prices("0", "12.00");
    zeros["ItemPrice"]
        .as_array_mut()
        .unwrap()
        .push(json!({"amount": "0", "useTypeID": "3", "useType": "Online"}));
    hidden_no_price(&simple(mug(zeros), &online));
}

#[test]
fn the_recorded_lightspeed_item_at_zero_is_not_purchasable() {
    // A real POST Item.json answer: "Onesie", Default "0", MSRP "0".
    let rec = recorded("account__items__create.json");
    let item = &rec["interactions"][0]["body"]["Item"];
    assert_eq!(item["Prices"]["ItemPrice"][0]["amount"], "0");
    let picked = with(json!({"publish_rule": {"by": "manual", "item_ids": ["429"]}}));
    let l = simple(item.clone(), &picked);
    hidden_no_price(&l);
    // MSRP as the fallback changes nothing: it is "0" too.
    let fallback = with(
        json!({"publish_rule": {"by": "manual", "item_ids": ["429"]},
                                "fallback_price_level": "MSRP"}),
    );
    hidden_no_price(&simple(item.clone(), &fallback));
}

#[test]
fn the_fallback_level_is_read_before_hiding() {
    let fallback = with(json!({"fallback_price_level": "MSRP"}));
    let l = simple(mug(prices("0", "14.00")), &fallback);
    assert_eq!(l.visibility, "publish");
    assert_eq!(l.hidden_reason, None);
    assert_eq!(l.regular_price.as_deref(), Some("14.00"));
    // A Default above 0 wins over the fallback.
    let l = simple(mug(prices("12.50", "14.00")), &fallback);
    assert_eq!(l.regular_price.as_deref(), Some("12.50"));
    // Any level name, case and spaces as the merchant types them.
    let mut custom = prices("0", "0");
    custom["ItemPrice"]
        .as_array_mut()
        .unwrap()
        .push(json!({"amount": "9.00", "useTypeID": "5", "useType": "James price"}));
    let l = simple(
        mug(custom),
        &with(json!({"fallback_price_level": " james PRICE "})),
    );
    assert_eq!(l.regular_price.as_deref(), Some("9.00"));
    // Empty (or null) = hide.
    for off in [json!(""), json!(null), json!("  ")] {
        hidden_no_price(&simple(
            mug(prices("0", "14.00")),
            &with(json!({"fallback_price_level": off})),
        ));
    }
    // The sale price compares with the fallback's regular.
    let mut sale = prices("0", "14.00");
    sale["ItemPrice"]
        .as_array_mut()
        .unwrap()
        .push(json!({"amount": "11.00", "useTypeID": "4", "useType": "Sale"}));
    let l = simple(mug(sale), &fallback);
    assert_eq!(l.sale_price.as_deref(), Some("11.00"));
}

#[test]
fn a_price_back_in_the_pos_publishes_the_listing_again() {
    let s = PlanSettings::default();
    let before = simple(mug(prices("0", "0")), &s);
    hidden_no_price(&before);
    let mut priced = mug(prices("15.00", "0"));
    priced["timeStamp"] = json!("2026-12-02T10:00:00+00:00");
    let after = simple(priced, &s);
    assert_eq!(after.visibility, "publish");
    assert_eq!(after.hidden_reason, None);
    assert_eq!(after.regular_price.as_deref(), Some("15.00"));
    // PHP writes the visibility and price groups: they moved, nothing else.
    let changed: Vec<&str> = before
        .fingerprints
        .iter()
        .filter(|(k, v)| after.fingerprints.get(*k) != Some(*v))
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(changed, ["price", "visibility"]);
}

#[test]
fn archived_and_not_selected_keep_their_own_reason() {
    let mut archived = mug(prices("0", "0"));
    archived["archived"] = json!("true");
    let l = simple(archived, &PlanSettings::default());
    assert_eq!(l.hidden_reason.as_deref(), Some("archived"));
    let mut unpublished = mug(prices("0", "0"));
    unpublished["publishToEcom"] = json!("false");
    let l = simple(unpublished, &PlanSettings::default());
    assert_eq!(l.hidden_reason.as_deref(), Some("not_selected"));
}

#[test]
fn prices_kept_in_woocommerce_hide_nothing() {
    // The merchant types web prices in WooCommerce: the POS having none is no reason to hide.
    let owned = with(json!({"owned_by_woo": ["price"]}));
    let l = simple(mug(prices("0", "0")), &owned);
    assert_eq!(l.visibility, "publish");
    assert_eq!(l.regular_price, None, "a new product gets no 0.00 either");
}

// --- matrices -----------------------------------------------------------

fn matrix() -> PosMatrix {
    PosMatrix::from_value(&json!({
        "itemMatrixID": "1", "description": "Crew Tee", "itemAttributeSetID": "1",
        "archived": "false", "timeStamp": "2026-12-01T10:00:00+00:00",
        "Prices": prices("24.00", "28.00")
    }))
    .unwrap()
}

fn variant(id: &str, size: &str, default: &str) -> PosItem {
    PosItem::from_value(&json!({
        "itemID": id, "systemSku": format!("21{id:0>10}"), "customSku": format!("CREW-{size}"),
        "description": format!("Crew Tee {size}"), "archived": "false", "publishToEcom": "true",
        "itemMatrixID": "1", "timeStamp": "2026-12-01T10:00:00+00:00",
        "Prices": prices(default, "28.00"),
        "ItemShops": {"ItemShop": {"itemShopID": format!("{id}0"), "itemID": id, "shopID": "0", "qoh": "3", "timeStamp": "2026-12-01T10:00:00+00:00"}},
        "ItemAttributes": {"attribute1": size, "attribute2": "", "attribute3": "", "itemAttributeSetID": "1"}
    }))
    .unwrap()
}

fn sizes() -> ItemAttributeSet {
    ItemAttributeSet::from_value(&json!({"itemAttributeSetID": "1", "name": "Size",
        "attributeName1": "Size", "attributeName2": "", "attributeName3": ""}))
    .unwrap()
}

fn variable(vs: &[PosItem], s: &PlanSettings) -> Listing {
    plan_listing(
        ListingSource::Matrix(&matrix(), vs),
        &categories(),
        Some(&sizes()),
        s,
    )
}

#[test]
fn a_matrix_with_one_priceless_variant_sells_the_others() {
    let vs = [
        variant("7", "S", "24.00"),
        variant("8", "M", "0"),
        variant("9", "L", "24.00"),
    ];
    let l = variable(&vs, &PlanSettings::default());
    assert_eq!(l.visibility, "publish");
    assert_eq!(l.hidden_reason, None);
    let of = |id: &str| l.variations.iter().find(|v| v.item_id == id).unwrap();
    assert!(!of("8").enabled, "the variant without a price is disabled");
    assert_eq!(of("8").regular_price, None);
    assert_eq!(of("8").base, 3, "its stock is still kept");
    for id in ["7", "9"] {
        assert!(of(id).enabled, "{id} stays on sale");
        assert_eq!(of(id).regular_price.as_deref(), Some("24.00"));
    }
    // The fallback level sells it too.
    let l = variable(&vs, &with(json!({"fallback_price_level": "MSRP"})));
    let m = l.variations.iter().find(|v| v.item_id == "8").unwrap();
    assert!(m.enabled);
    assert_eq!(m.regular_price.as_deref(), Some("28.00"));
}

#[test]
fn a_matrix_without_any_priced_variant_is_hidden_no_price() {
    let vs = [variant("7", "S", "0"), variant("8", "M", "")];
    let l = variable(&vs, &PlanSettings::default());
    assert_eq!(l.visibility, "hidden");
    assert_eq!(l.hidden_reason.as_deref(), Some("no_price"));
    assert!(l.variations.iter().all(|v| !v.enabled));
    // A price back on one variant: the matrix is on sale again, with that variant.
    let vs = [variant("7", "S", "0"), variant("8", "M", "26.00")];
    let l = variable(&vs, &PlanSettings::default());
    assert_eq!(l.visibility, "publish");
    assert_eq!(l.hidden_reason, None);
    let enabled: Vec<&str> = l
        .variations
        .iter()
        .filter(|v| v.enabled)
        .map(|v| v.item_id.as_str())
        .collect();
    assert_eq!(enabled, ["8"]);
}

#[test]
fn the_setting_reads_as_the_plugin_sends_it() {
    let c: PublishConfig = serde_json::from_value(json!({"fallback_price_level": "MSRP"})).unwrap();
    assert_eq!(c.fallback_price_level.as_deref(), Some("MSRP"));
    let c: PublishConfig = serde_json::from_value(json!({"fallback_price_level": null})).unwrap();
    assert_eq!(c.fallback_price_level, None);
    assert!(serde_json::from_value::<PublishConfig>(json!({"fallback_price_level": 3})).is_err());
}
