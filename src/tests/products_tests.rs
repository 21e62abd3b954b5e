//! The publish planner, sanitiser, units, fingerprints and cursor scan, on
//! the shapes of the demo catalogue (js/emulator/seed.mjs).

use crate::flows::products::*;
use crate::flows::stock::{NextRead, StockSettings};
use crate::pos::lightspeed_r::model::{Category, ItemAttributeSet, Resource};
use serde_json::{json, Value};

fn categories() -> CategoryIndex {
    let cat = |id: &str, name: &str, parent: &str, path: &str| {
        Category::from_value(&json!({
            "categoryID": id, "name": name, "parentID": parent, "nodeDepth": "0",
            "fullPathName": path, "leftNode": "0", "rightNode": "0",
            "timeStamp": "2026-01-01T00:00:00+00:00"
        }))
        .unwrap()
    };
    CategoryIndex::new([
        cat("1", "Apparel", "0", "Apparel"),
        cat("2", "T-Shirts", "1", "Apparel/T-Shirts"),
        cat("3", "Hoodies", "1", "Apparel/Hoodies"),
        cat("4", "Home", "0", "Home"),
        cat("5", "Mugs", "4", "Home/Mugs"),
    ])
}

fn prices(default: &str, msrp: &str, online: &str) -> Value {
    json!({"ItemPrice": [
        {"amount": default, "useTypeID": "1", "useType": "Default"},
        {"amount": msrp, "useTypeID": "2", "useType": "MSRP"},
        {"amount": online, "useTypeID": "3", "useType": "Online"}
    ]})
}

fn image(id: &str, public_id: &str, filename: &str, ordering: &str, descr: &str) -> Value {
    json!({"imageID": id, "description": descr, "filename": filename, "ordering": ordering,
           "publicID": public_id, "baseImageURL": "http://pos.test/images/", "itemID": "1", "itemMatrixID": "0"})
}

/// The demo's Classic Tee: two images (as an array), stock in two shops.
fn tee() -> Value {
    json!({
        "itemID": "1", "systemSku": "210000000001", "customSku": "TEE-WHT", "description": "Classic Tee - White",
        "archived": "false", "publishToEcom": "true", "categoryID": "2", "itemMatrixID": "0",
        "timeStamp": "2026-10-27T10:00:00+00:00",
        "Prices": prices("19.00", "22.00", "17.00"),
        "ItemShops": {"ItemShop": [
            {"itemShopID": "1", "itemID": "1", "shopID": "1", "qoh": "12", "timeStamp": "2026-10-27T10:00:00+00:00"},
            {"itemShopID": "2", "itemID": "1", "shopID": "2", "qoh": "5", "timeStamp": "2026-10-27T10:00:00+00:00"},
            {"itemShopID": "3", "itemID": "1", "shopID": "0", "qoh": "17", "timeStamp": "2026-10-27T10:00:00+00:00"}
        ]},
        "ItemECommerce": {"longDescription": "<p>Our <strong>classic</strong> tee.</p>", "shortDescription": "<p>Organic cotton tee.</p>",
                          "weight": "0.2", "width": "25", "height": "2", "length": "30", "listOnStore": "true"},
        "Images": {"Image": [
            image("2", "demo/classic-tee-back", "classic-tee-back.png", "1", "Classic Tee back"),
            image("1", "demo/classic-tee-front", "classic-tee.png", "0", "Classic Tee front")
        ]}
    })
}

fn item(v: Value) -> PosItem {
    PosItem::from_value(&v).unwrap()
}

fn settings() -> PlanSettings {
    PlanSettings::default()
}

fn simple(v: Value, s: &PlanSettings) -> Listing {
    let it = item(v);
    plan_listing(ListingSource::Simple(&it), &categories(), None, s)
}

#[test]
fn a_simple_item_becomes_a_complete_listing() {
    let l = simple(tee(), &settings());
    assert_eq!(l.key, "item:1");
    assert_eq!(l.product_type, "simple");
    assert_eq!(l.name, "Classic Tee - White");
    assert_eq!(l.sku, "TEE-WHT");
    assert_eq!(l.regular_price.as_deref(), Some("19.00"));
    assert_eq!(l.sale_price, None, "no Sale price level");
    assert_eq!(l.weight.as_deref(), Some("0.2"));
    assert_eq!(l.dimensions.length.as_deref(), Some("30"));
    assert_eq!(l.dimensions.width.as_deref(), Some("25"));
    assert_eq!(l.dimensions.height.as_deref(), Some("2"));
    assert_eq!(
        l.categories,
        vec![vec!["Apparel".to_string(), "T-Shirts".to_string()]]
    );
    assert_eq!(l.visibility, "publish");
    assert_eq!(l.hidden_reason, None);
    assert_eq!(l.base, Some(17), "all shops: the shop 0 total");
    assert_eq!(l.pos_timestamp, "2026-10-27T10:00:00+00:00");
    // Images in POS order (ordering, then id), stable keys, CDN urls.
    let ids: Vec<&str> = l.images.iter().map(|i| i.image_id.as_str()).collect();
    assert_eq!(ids, ["1", "2"]);
    assert_eq!(
        l.images[0].url,
        "http://pos.test/images/demo/classic-tee-front.png"
    );
    assert_eq!(l.images[0].alt, "Classic Tee front");
    assert!(l.images[0].key.starts_with("1-"));
    assert_eq!(l.description, "<p>Our <strong>classic</strong> tee.</p>");
    let wire = serde_json::to_value(&l).unwrap();
    assert_eq!(wire["type"], "simple");
    assert!(wire.get("variations").is_none());
}

#[test]
fn single_object_relations_and_missing_ecommerce() {
    // One image and one price: objects, not arrays (Lightspeed quirk); no
    // ItemECommerce at all; no custom SKU.
    let v = json!({
        "itemID": "4", "systemSku": "210000000004", "customSku": "", "description": "Enamel Camp Mug",
        "archived": "false", "publishToEcom": "true", "categoryID": "5", "itemMatrixID": "0",
        "timeStamp": "2026-10-27T10:00:00+00:00",
        "Prices": {"ItemPrice": {"amount": "15", "useTypeID": "1", "useType": "Default"}},
        "ItemShops": {"ItemShop": {"itemShopID": "9", "itemID": "4", "shopID": "2", "qoh": "7", "timeStamp": "2026-10-27T10:00:00+00:00"}},
        "Images": {"Image": image("7", "demo/camp-mug", "camp-mug", "0", "")}
    });
    let l = simple(v, &settings());
    assert_eq!(l.sku, "210000000004", "system SKU when no custom SKU");
    assert_eq!(l.regular_price.as_deref(), Some("15.00"));
    assert_eq!(l.description, "");
    assert_eq!(l.short_description, "");
    assert_eq!(l.weight, None);
    assert_eq!(l.dimensions, Dimensions::default());
    assert_eq!(l.images.len(), 1);
    assert_eq!(
        l.images[0].alt, "Enamel Camp Mug",
        "alt falls back on the name"
    );
    assert_eq!(l.images[0].url, "http://pos.test/images/demo/camp-mug.jpg");
    assert_eq!(
        l.categories,
        vec![vec!["Home".to_string(), "Mugs".to_string()]]
    );
    assert_eq!(l.base, Some(7), "no total row yet: sum of shops");
    // An empty relation served as "" is no relation.
    let mut v2 = tee();
    v2["Images"] = json!("");
    v2["ItemECommerce"] = json!("");
    let l2 = simple(v2, &settings());
    assert!(l2.images.is_empty());
    assert_eq!(l2.weight, None);
}

#[test]
fn archived_and_unselected_items_are_hidden_never_dropped() {
    let mut v = tee();
    v["archived"] = json!("true");
    let l = simple(v, &settings());
    assert_eq!(l.visibility, "hidden");
    assert_eq!(l.hidden_reason.as_deref(), Some("archived"));
    assert_eq!(l.base, Some(0), "archived: nothing to sell");

    let mut v = tee();
    v["publishToEcom"] = json!("false");
    let l = simple(v, &settings());
    assert_eq!(l.visibility, "hidden");
    assert_eq!(l.hidden_reason.as_deref(), Some("not_selected"));
}

#[test]
fn publish_rules_category_with_subcategories_tag_manual() {
    let rule = |r: Value| PlanSettings {
        publish: serde_json::from_value(json!({ "publish_rule": r })).unwrap(),
        ..PlanSettings::default()
    };
    let mut v = tee();
    v["publishToEcom"] = json!("false");
    v["TagRelations"] = json!({"TagRelation": [
        {"tagRelationID": "1", "tagID": "1", "itemID": "1", "Tag": {"tagID": "1", "name": "summer"}},
        {"tagRelationID": "2", "tagID": "2", "itemID": "1", "Tag": {"tagID": "2", "name": "web-featured"}}
    ]});
    let vis = |r: Value| simple(v.clone(), &rule(r)).visibility;
    assert_eq!(
        vis(json!({"by": "category", "ids": ["1"]})),
        "publish",
        "parent category includes T-Shirts"
    );
    assert_eq!(vis(json!({"by": "category", "ids": [2]})), "publish");
    assert_eq!(vis(json!({"by": "category", "ids": ["4"]})), "hidden");
    assert_eq!(
        vis(json!({"by": "tag", "names": ["Web-Featured"]})),
        "publish"
    );
    assert_eq!(vis(json!({"by": "tag", "names": ["gift"]})), "hidden");
    assert_eq!(vis(json!({"by": "manual", "item_ids": ["1"]})), "publish");
    assert_eq!(vis(json!({"by": "manual", "item_ids": ["2"]})), "hidden");
    assert_eq!(vis(json!({"by": "ecom_flag"})), "hidden");
}

#[test]
fn price_level_online_falls_back_to_default_and_sale_level() {
    let online = PlanSettings {
        publish: serde_json::from_value(json!({"price_level": "online"})).unwrap(),
        ..PlanSettings::default()
    };
    assert_eq!(
        simple(tee(), &online).regular_price.as_deref(),
        Some("17.00")
    );
    let mut zero = tee();
    zero["Prices"] = prices("19.00", "22.00", "0.00");
    assert_eq!(
        simple(zero, &online).regular_price.as_deref(),
        Some("19.00"),
        "Online 0 means not set (as Lightspeed eCom reads it)"
    );
    let mut missing = tee();
    missing["Prices"] =
        json!({"ItemPrice": {"amount": "19.00", "useTypeID": "1", "useType": "Default"}});
    assert_eq!(
        simple(missing, &online).regular_price.as_deref(),
        Some("19.00")
    );

    let mut sale = tee();
    sale["Prices"]["ItemPrice"]
        .as_array_mut()
        .unwrap()
        .push(json!({"amount": "14.50", "useTypeID": "4", "useType": "Sale"}));
    let l = simple(sale.clone(), &settings());
    assert_eq!(l.sale_price.as_deref(), Some("14.50"));
    let mut not_lower = sale;
    not_lower["Prices"]["ItemPrice"][3]["amount"] = json!("25.00");
    assert_eq!(
        simple(not_lower, &settings()).sale_price,
        None,
        "a sale above regular is no sale"
    );
    let custom = PlanSettings {
        publish: serde_json::from_value(json!({"sale_price_level": "MSRP"})).unwrap(),
        ..PlanSettings::default()
    };
    assert_eq!(
        simple(tee(), &custom).sale_price,
        None,
        "MSRP 22 > 19: no sale"
    );
}

#[test]
fn weights_and_dimensions_convert_to_the_store_units() {
    let s = PlanSettings {
        publish: serde_json::from_value(json!({"units": {"weight": "lbs", "dimension": "in"}}))
            .unwrap(),
        ..PlanSettings::default()
    };
    let l = simple(tee(), &s);
    assert_eq!(l.weight.as_deref(), Some("0.4409"), "0.2 kg");
    assert_eq!(l.dimensions.length.as_deref(), Some("11.811"), "30 cm");
    let g = PlanSettings {
        publish: serde_json::from_value(
            json!({"units": {"weight": "g", "dimension": "mm"}, "pos_units": {"weight": "oz", "dimension": "yd"}}),
        )
        .unwrap(),
        ..PlanSettings::default()
    };
    let l = simple(tee(), &g);
    assert_eq!(l.weight.as_deref(), Some("5.6699"), "0.2 oz in g");
    assert_eq!(l.dimensions.height.as_deref(), Some("1828.8"), "2 yd in mm");
    assert!((convert_weight(1.0, WeightUnit::Lbs, WeightUnit::Kg) - 0.453_592_37).abs() < 1e-12);
    assert!((convert_dimension(1.0, DimensionUnit::M, DimensionUnit::Cm) - 100.0).abs() < 1e-12);
    assert_eq!(format_measure(0.0), "0");
    assert_eq!(format_measure(2.50), "2.5");
}

#[test]
fn bad_settings_are_refused() {
    for bad in [
        json!({"publish_rule": {"by": "colour"}}),
        json!({"price_level": "wholesale"}),
        json!({"units": {"weight": "stone"}}),
        json!({"owned_by_woo": ["stock"]}),
    ] {
        assert!(
            serde_json::from_value::<PublishConfig>(bad.clone()).is_err(),
            "{bad}"
        );
    }
    let nulls: PublishConfig =
        serde_json::from_value(json!({"publish_rule": null, "units": null, "owned_by_woo": null}))
            .unwrap();
    assert_eq!(nulls, PublishConfig::default());
}

// --- matrices -----------------------------------------------------------

fn crew_matrix(archived: bool) -> PosMatrix {
    PosMatrix::from_value(&json!({
        "itemMatrixID": "1", "description": "Crew Tee", "itemAttributeSetID": "1", "categoryID": "2",
        "archived": archived.to_string(), "timeStamp": "2026-11-16T10:00:00+00:00",
        "Prices": prices("24.00", "28.00", "22.00"),
        "ItemECommerce": {"longDescription": "<p>The <em>Crew Tee</em>.</p>", "shortDescription": "<p>Everyday crew tee.</p>",
                          "weight": "0.18", "width": "25", "height": "2", "length": "30", "listOnStore": "true"},
        "Images": {"Image": image("6", "demo/crew-tee", "crew-tee.png", "0", "Crew Tee")}
    }))
    .unwrap()
}

fn variant(id: &str, size: &str, colour: &str, archived: bool) -> PosItem {
    item(json!({
        "itemID": id, "systemSku": format!("21{id:0>10}"), "customSku": format!("CREW-{size}-{colour}"),
        "description": format!("Crew Tee {size} {colour}"), "archived": archived.to_string(), "publishToEcom": "true",
        "categoryID": "2", "itemMatrixID": "1", "timeStamp": "2026-11-16T10:00:00+00:00",
        "Prices": prices("24.00", "28.00", "22.00"),
        "ItemShops": {"ItemShop": {"itemShopID": format!("{id}0"), "itemID": id, "shopID": "0", "qoh": "3", "timeStamp": "2026-11-16T10:00:00+00:00"}},
        "ItemECommerce": {"longDescription": "", "shortDescription": "", "weight": "0", "width": "0", "height": "0", "length": "0", "listOnStore": "false"},
        "ItemAttributes": {"attribute1": size, "attribute2": colour, "attribute3": "", "itemAttributeSetID": "1"},
        "Images": {"Image": image(&format!("1{id}"), &format!("demo/crew-{colour}-{size}"), &format!("crew-tee-{colour}.png"), "0", &format!("Crew Tee {colour}"))}
    }))
}

fn size_colour() -> ItemAttributeSet {
    ItemAttributeSet::from_value(&json!({"itemAttributeSetID": "1", "name": "Size/Colour",
        "attributeName1": "Size", "attributeName2": "Colour", "attributeName3": ""}))
    .unwrap()
}

#[test]
fn a_matrix_becomes_a_variable_product() {
    let vs = vec![
        variant("12", "L", "Navy", false),
        variant("7", "S", "Black", false),
        variant("8", "M", "Black", false),
        variant("11", "M", "Navy", false),
    ];
    let set = size_colour();
    let m = crew_matrix(false);
    let l = plan_listing(
        ListingSource::Matrix(&m, &vs),
        &categories(),
        Some(&set),
        &settings(),
    );
    assert_eq!(l.key, "matrix:1");
    assert_eq!(l.product_type, "variable");
    assert_eq!(l.name, "Crew Tee");
    assert_eq!(l.visibility, "publish");
    assert_eq!(
        l.categories,
        vec![vec!["Apparel".to_string(), "T-Shirts".to_string()]]
    );
    assert_eq!(l.description, "<p>The <em>Crew Tee</em>.</p>");
    assert_eq!(l.images.len(), 1);
    assert_eq!(l.base, None);
    let names: Vec<&str> = l.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Size", "Colour"]);
    assert_eq!(
        l.attributes[0].options,
        ["S", "M", "L"],
        "variants in itemID order"
    );
    assert_eq!(l.attributes[1].options, ["Black", "Navy"]);
    let v0 = &l.variations[0];
    assert_eq!(v0.item_id, "7");
    assert_eq!(v0.sku, "CREW-S-Black");
    assert_eq!(v0.attributes.get("Size").map(String::as_str), Some("S"));
    assert_eq!(
        v0.attributes.get("Colour").map(String::as_str),
        Some("Black")
    );
    assert_eq!(v0.regular_price.as_deref(), Some("24.00"));
    assert_eq!(
        v0.weight.as_deref(),
        Some("0.18"),
        "the matrix's weight when the variant has none"
    );
    assert_eq!(v0.base, 3);
    assert!(v0.enabled);
    assert_eq!(
        v0.image.as_ref().unwrap().url,
        "http://pos.test/images/demo/crew-Black-S.png"
    );
    assert_eq!(l.fingerprints.len(), 12);
}

#[test]
fn tax_status_and_classes_follow_the_pos_and_the_class_map() {
    let mut s = settings();
    s.publish.tax_classes = [
        ("3".to_string(), "reduced-rate".to_string()),
        ("4".to_string(), " zero-rate ".to_string()),
    ]
    .into_iter()
    .collect();
    // No tax flag and no class: taxable at the Standard rate.
    let l = simple(tee(), &s);
    assert_eq!(
        (l.tax_status.as_str(), l.tax_class.as_str()),
        ("taxable", "")
    );
    let mut v = tee();
    v["tax"] = json!("false");
    v["taxClassID"] = json!("3");
    let l = simple(v, &s);
    assert_eq!(
        (l.tax_status.as_str(), l.tax_class.as_str()),
        ("none", "reduced-rate")
    );
    // A class the map does not name is the Standard rate.
    let mut v = tee();
    v["taxClassID"] = json!("9");
    assert_eq!(simple(v, &s).tax_class, "");
    // A changed mapping changes only the tax group.
    let mut v = tee();
    v["taxClassID"] = json!("3");
    let before = simple(v.clone(), &s);
    let mut s2 = s.clone();
    s2.publish.tax_classes.insert("3".into(), "".into());
    let after = simple(v, &s2);
    let changed: Vec<&String> = before
        .fingerprints
        .iter()
        .filter(|(k, h)| after.fingerprints.get(*k) != Some(h))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(changed, ["tax"]);
    assert_ne!(before.fingerprint, after.fingerprint);

    // A matrix: its own class; variants in it say `parent`, another class its slug.
    let mut m = crew_matrix(false);
    m.tax_class_id = Some("3".into());
    let mut odd = variant("8", "M", "Black", false);
    odd.item.tax_class_id = Some("4".into());
    let mut same = variant("7", "S", "Black", false);
    same.item.tax_class_id = Some("3".into());
    let vs = vec![same, odd, variant("9", "L", "Black", false)];
    let l = plan_listing(
        ListingSource::Matrix(&m, &vs),
        &categories(),
        Some(&size_colour()),
        &s,
    );
    assert_eq!(l.tax_class, "reduced-rate");
    assert_eq!(l.tax_status, "taxable");
    let classes: Vec<(&str, &str)> = l
        .variations
        .iter()
        .map(|v| (v.item_id.as_str(), v.tax_class.as_str()))
        .collect();
    assert_eq!(
        classes,
        [("7", "parent"), ("8", "zero-rate"), ("9", "parent")]
    );
    let wire = serde_json::to_value(&l).unwrap();
    assert_eq!(wire["tax_class"], "reduced-rate");
    assert_eq!(wire["variations"][1]["tax_class"], "zero-rate");
    // The settings carry the map as the plugin sends it.
    let c: PublishConfig = serde_json::from_value(
        json!({"tax_classes": {"3": "reduced-rate"}, "owned_by_woo": ["tax"]}),
    )
    .unwrap();
    assert_eq!(
        c.tax_classes.get("3").map(String::as_str),
        Some("reduced-rate")
    );
    assert_eq!(c.owned_by_woo, [WooField::Tax]);
}

#[test]
fn a_matrix_with_one_variant_and_an_archived_variant() {
    // The variants answer holds one Item: an object (quirk).
    let body = json!({"@attributes": {"next": "", "previous": ""},
        "Item": serde_json::to_value(json!({
            "itemID": "7", "systemSku": "21", "customSku": "ONLY", "description": "Crew Tee S Black",
            "archived": "false", "publishToEcom": "true", "itemMatrixID": "1", "timeStamp": "2026-11-16T10:00:00+00:00",
            "Prices": prices("24.00", "28.00", "22.00"),
            "ItemAttributes": {"attribute1": "S", "attribute2": "Black", "attribute3": "", "itemAttributeSetID": "1"}
        })).unwrap()});
    let page = read_raw_page(&body.to_string(), "Item").unwrap();
    assert_eq!(page.rows.len(), 1);
    let vs: Vec<PosItem> = page
        .rows
        .iter()
        .map(|r| PosItem::from_value(r).unwrap())
        .collect();
    let m = crew_matrix(false);
    let l = plan_listing(
        ListingSource::Matrix(&m, &vs),
        &categories(),
        Some(&size_colour()),
        &settings(),
    );
    assert_eq!(l.variations.len(), 1);
    assert_eq!(l.attributes[0].options, ["S"]);

    let vs = vec![
        variant("7", "S", "Black", false),
        variant("8", "M", "Black", true),
    ];
    let l = plan_listing(
        ListingSource::Matrix(&m, &vs),
        &categories(),
        Some(&size_colour()),
        &settings(),
    );
    assert_eq!(l.visibility, "publish");
    let archived = l.variations.iter().find(|v| v.item_id == "8").unwrap();
    assert!(
        !archived.enabled,
        "an archived variant is disabled, not dropped"
    );
    assert_eq!(archived.base, 0);

    let all_archived = vec![variant("8", "M", "Black", true)];
    let l = plan_listing(
        ListingSource::Matrix(&m, &all_archived),
        &categories(),
        None,
        &settings(),
    );
    assert_eq!(l.visibility, "hidden");
    let l = plan_listing(
        ListingSource::Matrix(&crew_matrix(true), &vs),
        &categories(),
        None,
        &settings(),
    );
    assert_eq!(l.hidden_reason.as_deref(), Some("archived"));
    assert!(l.variations.iter().all(|v| !v.enabled));
    // Without an attribute set the names are generic.
    assert_eq!(l.attributes[0].name, "Attribute 1");
    let l = plan_listing(
        ListingSource::Matrix(&m, &[]),
        &categories(),
        None,
        &settings(),
    );
    assert_eq!(l.hidden_reason.as_deref(), Some("no_variants"));
}

// --- sanitising ---------------------------------------------------------

#[test]
fn descriptions_lose_scripts_styles_and_handlers() {
    let hoodie = r#"<p>Warm fleece hoodie with our logo.</p><script>alert("pos-sync xss test")</script><p onclick="steal()">Machine washable.</p>"#;
    assert_eq!(
        sanitize_html(hoodie),
        "<p>Warm fleece hoodie with our logo.</p><p>Machine washable.</p>"
    );
    let cases = [
        ("<SCRIPT type='text/javascript'>x()</SCRIPT >ok", "ok"),
        ("a<style>p{color:red}</style>b", "ab"),
        ("<script>never closed", ""),
        (
            r#"<a href="javascript:alert(1)" title="t">x</a>"#,
            r#"<a title="t">x</a>"#,
        ),
        (r#"<a href=" JaVaScRiPt:alert(1)">x</a>"#, "<a>x</a>"),
        (
            r#"<img src="x.png" onerror=alert(1) alt='a > b'>"#,
            r#"<img src="x.png" alt='a > b'>"#,
        ),
        (
            "<p ONMOUSEOVER='x' class=\"c\">t</p>",
            "<p class=\"c\">t</p>",
        ),
        ("<br/>", "<br />"),
        ("1 < 2 and <3", "1 &lt; 2 and &lt;3"),
        ("<!-- <script>x</script> -->kept", "kept"),
        ("<iframe src=\"https://evil\"></iframe>t", "t"),
        (
            "<p>Stoneware mug. 350&nbsp;ml.</p>",
            "<p>Stoneware mug. 350&nbsp;ml.</p>",
        ),
        (
            "<ul><li>Regular fit</li></ul>",
            "<ul><li>Regular fit</li></ul>",
        ),
        ("<scripty>x</scripty>", "<scripty>x</scripty>"),
    ];
    for (input, want) in cases {
        assert_eq!(sanitize_html(input), want, "{input}");
    }
    let mut v = tee();
    v["ItemECommerce"]["longDescription"] = json!(hoodie);
    let l = simple(v, &settings());
    assert!(!l.description.contains("script") && !l.description.contains("onclick"));
}

// --- fingerprints ---------------------------------------------------------

#[test]
fn fingerprints_follow_content_not_timestamps() {
    let a = simple(tee(), &settings());
    let mut later = tee();
    later["timeStamp"] = json!("2026-11-26T10:00:00+00:00");
    let b = simple(later, &settings());
    assert_eq!(
        a.fingerprint, b.fingerprint,
        "a timestamp alone is no change"
    );

    let mut repriced = tee();
    repriced["Prices"] = prices("21.00", "22.00", "17.00");
    let c = simple(repriced, &settings());
    assert_ne!(a.fingerprint, c.fingerprint);
    let changed: Vec<&String> = a
        .fingerprints
        .iter()
        .filter(|(k, v)| c.fingerprints.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(changed, ["price"], "a price change changes only the price");

    let mut renamed_image = tee();
    renamed_image["Images"]["Image"][1]["publicID"] = json!("demo/classic-tee-front-v2");
    let d = simple(renamed_image, &settings());
    assert_ne!(a.images[0].key, d.images[0].key, "new picture, new key");
    assert_eq!(a.images[1].key, d.images[1].key);

    // A variation price change shows in the variation's own map.
    let m = crew_matrix(false);
    let set = size_colour();
    let vs = vec![
        variant("7", "S", "Black", false),
        variant("8", "M", "Black", false),
    ];
    let mut vs2 = vs.clone();
    vs2[1] = item(json!({
        "itemID": "8", "systemSku": "210000000008", "customSku": "CREW-M-Black",
        "description": "Crew Tee M Black", "archived": "false", "publishToEcom": "true",
        "categoryID": "2", "itemMatrixID": "1", "timeStamp": "2026-11-16T10:00:00+00:00",
        "Prices": prices("26.00", "28.00", "22.00"),
        "ItemShops": {"ItemShop": {"itemShopID": "80", "itemID": "8", "shopID": "0", "qoh": "3", "timeStamp": "2026-11-16T10:00:00+00:00"}},
        "ItemECommerce": {"longDescription": "", "shortDescription": "", "weight": "0", "width": "0", "height": "0", "length": "0", "listOnStore": "false"},
        "ItemAttributes": {"attribute1": "M", "attribute2": "Black", "attribute3": "", "itemAttributeSetID": "1"},
        "Images": {"Image": image("18", "demo/crew-Black-M", "crew-tee-Black.png", "0", "Crew Tee Black")}
    }));
    let x = plan_listing(
        ListingSource::Matrix(&m, &vs),
        &categories(),
        Some(&set),
        &settings(),
    );
    let y = plan_listing(
        ListingSource::Matrix(&m, &vs2),
        &categories(),
        Some(&set),
        &settings(),
    );
    let changed: Vec<&String> = x
        .fingerprints
        .iter()
        .filter(|(k, v)| y.fingerprints.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(changed, ["variations"]);
    let vchanged: Vec<&String> = x.variations[1]
        .fingerprints
        .iter()
        .filter(|(k, v)| y.variations[1].fingerprints.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(vchanged, ["price"]);
    assert_eq!(x.variations[0].fingerprint, y.variations[0].fingerprint);
}

#[test]
fn owned_fields_are_sent_and_marked() {
    let s = PlanSettings {
        publish: serde_json::from_value(
            json!({"owned_by_woo": ["images", "description", "images"]}),
        )
        .unwrap(),
        stock: StockSettings::default(),
    };
    let l = simple(tee(), &s);
    assert_eq!(l.owned_by_woo, [WooField::Description, WooField::Images]);
    assert!(!l.description.is_empty() && !l.images.is_empty());
    let wire = serde_json::to_value(&l).unwrap();
    assert_eq!(wire["owned_by_woo"], json!(["description", "images"]));
}

// --- the cursor scan --------------------------------------------------------

fn rows<'a>(spec: &'a [(&'a str, &'a str, &'a str)]) -> Vec<StampRow<'a>> {
    spec.iter()
        .map(|(id, ts, v)| StampRow { id, ts, version: v })
        .collect()
}

const T1: &str = "2026-11-26T10:00:01+00:00";
const T2: &str = "2026-11-26T10:00:02+00:00";
const FAR_PAST: i64 = 0;

#[test]
fn scan_handles_equal_timestamps_and_same_second_changes() {
    let mut scan = StampScan::new(StampState::start());
    let page = [("1", T1, "a"), ("2", T1, "b"), ("3", T2, "c")];
    let (adm, next) = scan.on_page(&rows(&page), false, FAR_PAST, "Item").unwrap();
    assert_eq!(adm, [0, 1, 2]);
    assert_eq!(next, NextRead::Done);
    let c = scan.state.to_cursor().unwrap();
    assert_eq!((c.ts.as_str(), c.ids.clone()), (T2, vec!["3".to_string()]));

    // Next run: the cursor second is read again; only what changed passes.
    let mut scan = StampScan::new(StampState::from_cursor(Some(&c), "item").unwrap());
    let again = [("3", T2, "c")];
    let (adm, _) = scan
        .on_page(&rows(&again), false, FAR_PAST, "Item")
        .unwrap();
    assert!(adm.is_empty(), "seen with the same version");
    let changed = [("3", T2, "c2"), ("4", T2, "d")];
    let (adm, _) = scan
        .on_page(&rows(&changed), false, FAR_PAST, "Item")
        .unwrap();
    assert_eq!(adm, [0, 1], "changed within the second, and a new row");
    let c2 = scan.state.to_cursor().unwrap();
    assert_eq!(c2.ids, ["3", "4"]);
    assert_eq!(c2.v.get("3").map(String::as_str), Some("c2"));
}

#[test]
fn scan_follows_next_through_settled_pages_and_requeries_recent_ones() {
    let page = [("1", T1, "a"), ("2", T2, "b")];
    let settled = crate::pos::lightspeed_r::model::parse_timestamp_ms(T2).unwrap() + 1;
    let mut scan = StampScan::new(StampState::start());
    let (_, next) = scan.on_page(&rows(&page), true, settled, "Item").unwrap();
    assert_eq!(
        next,
        NextRead::Follow,
        "old rows: keyset pagination is safe"
    );
    let mut scan = StampScan::new(StampState::start());
    let (_, next) = scan.on_page(&rows(&page), true, FAR_PAST, "Item").unwrap();
    assert_eq!(
        next,
        NextRead::Fresh,
        "recent rows: re-query from the cursor"
    );
    let bad = [("1", "yesterday", "a")];
    assert!(scan.on_page(&rows(&bad), false, FAR_PAST, "Item").is_err());
}

#[test]
fn publish_cursor_round_trips_and_rejects_garbage() {
    let c: PublishCursor = serde_json::from_value(json!({
        "item": {"ts": T1, "ids": ["1"], "v": {"1": "a"}}, "matrix": null,
        "pass": {"done": 100, "total": 250}
    }))
    .unwrap();
    assert_eq!(
        serde_json::from_value::<PublishCursor>(json!(c)).unwrap(),
        c
    );
    let bad = StampCursor {
        ts: "not a time".into(),
        ..StampCursor::default()
    };
    assert!(StampState::from_cursor(Some(&bad), "item").is_err());
}

#[test]
fn requests_ask_for_what_the_planner_needs() {
    let ep = crate::pos::lightspeed_r::Endpoint::new("https://api.test/API/V3", "1");
    let r = items_since(&ep, Some(T1), false);
    assert!(r.url.contains("/Account/1/Item.json?sort=timeStamp&timeStamp=%3E%3D%2C2026-11-26T10%3A00%3A01%2B00%3A00&archived=true"), "{}", r.url);
    assert!(
        r.url
            .contains("load_relations=%5B%22ItemShops%22%2C%22ItemECommerce%22%2C%22Images%22%5D"),
        "{}",
        r.url
    );
    assert!(items_since(&ep, None, true)
        .url
        .contains("TagRelations.Tag"));
    let c = items_count_since(&ep, None);
    assert!(c.url.contains("count=1"));
    assert_eq!(c.cost, 10.0);
    let v = variants_of(&ep, &["1".into(), "2".into()], false).unwrap();
    assert!(v.url.contains("itemMatrixID=IN%2C%5B1%2C2%5D"), "{}", v.url);
    assert!(v.url.contains("ItemAttributes"));
}

// --- the run, over a scripted Lightspeed -------------------------------------

/// The tee's category (T-Shirts) and its parent (Apparel), as the run asks for them.
fn script_tee_categories(t: &super::Scripted) {
    let cat = |id: &str, name: &str, parent: &str| {
        json!({"@attributes": {"count": "1"}, "Category": {"categoryID": id, "name": name, "parentID": parent,
            "nodeDepth": "0", "fullPathName": "", "leftNode": "0", "rightNode": "0", "timeStamp": T1}})
        .to_string()
    };
    t.on(
        "/Category.json?categoryID=IN%2C%5B2%5D",
        200,
        &cat("2", "T-Shirts", "1"),
    );
    t.on(
        "/Category.json?categoryID=IN%2C%5B1%5D",
        200,
        &cat("1", "Apparel", "0"),
    );
}

#[test]
fn a_publish_job_emits_listings_cursors_and_a_result() {
    use super::*;
    use crate::job;
    use futures::executor::block_on;

    let tl = timeline();
    let t = Scripted::new(tl.clone());
    let page = json!({"@attributes": {"next": "", "previous": ""}, "Item": tee()});
    t.on("/Item.json?sort=timeStamp", 200, &page.to_string());
    script_tee_categories(&t);
    t.on(
        "/ItemMatrix.json?sort=timeStamp",
        200,
        r#"{"@attributes":{"count":"0","next":"","previous":""}}"#,
    );
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let mut j = job_json("publish", valid_tokens(), json!({"publish": null}));
    j["settings"]["publish_rule"] = json!({"by": "ecom_flag"});
    let result = block_on(job::run(j, &t, &clock, &host));
    assert_eq!(result.to_json()["ok"], true, "{}", host.all_json());
    assert_eq!(t.remaining(), 0);
    let products = host.of_type("product");
    assert_eq!(products.len(), 1);
    let p = &products[0];
    assert_eq!(p["product"]["key"], "item:1");
    assert_eq!(p["product"]["categories"], json!([["Apparel", "T-Shirts"]]));
    assert_eq!(p["cursor"]["item"]["ts"], "2026-10-27T10:00:00+00:00");
    assert_eq!(p["cursor"]["item"]["ids"], json!(["1"]));
    let cursors = host.of_type("cursor");
    let last = cursors.last().unwrap();
    assert_eq!(last["flow"], "publish");
    assert!(last["cursor"].get("pass").is_none(), "the pass is over");
    let summary = &result.to_json()["summary"];
    assert_eq!(summary["listings"], 1);
    assert_eq!(summary["done"], true);

    // A malformed cursor is a clear error, not a silent restart.
    let t = Scripted::new(tl.clone());
    let host = RecordingHost::new(tl);
    let j = job_json(
        "publish",
        valid_tokens(),
        json!({"publish": {"item": {"ts": "soon", "ids": []}}}),
    );
    let result = block_on(job::run(j, &t, &clock, &host));
    assert_eq!(result.to_json()["ok"], false);
    assert_eq!(host.of_type("error")[0]["code"], "malformed_answer");
    assert!(t.sent.borrow().is_empty());
}

#[test]
fn a_replan_plans_the_listings_named_first_without_moving_the_cursor() {
    use super::*;
    use crate::job;
    use futures::executor::block_on;

    let tl = timeline();
    let t = Scripted::new(tl.clone());
    let page = json!({"@attributes": {"next": "", "previous": ""}, "Item": tee()});
    t.on(
        "/Item.json?itemID=IN%2C%5B1%2C99%5D",
        200,
        &page.to_string(),
    );
    script_tee_categories(&t);
    // Then the incremental read from the cursor, which finds nothing new.
    t.on(
        "/Item.json?sort=timeStamp&timeStamp=%3E%3D%2C2026-11-20",
        200,
        r#"{"@attributes":{"count":"0","next":"","previous":""}}"#,
    );
    t.on(
        "/ItemMatrix.json?sort=timeStamp",
        200,
        r#"{"@attributes":{"count":"0","next":"","previous":""}}"#,
    );
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let cursor = json!({"item": {"ts": "2026-11-20T10:00:00+00:00", "ids": ["40"]}});
    let mut j = job_json("publish", valid_tokens(), json!({ "publish": cursor }));
    j["settings"]["publish_rule"] = json!({"by": "manual", "item_ids": ["1"], "matrix_ids": []});
    j["replan"] = json!({"item_ids": ["1", "99"], "matrix_ids": []});
    let result = block_on(job::run(j, &t, &clock, &host));
    assert_eq!(result.to_json()["ok"], true, "{}", host.all_json());
    assert_eq!(
        t.remaining(),
        0,
        "the named items, then the incremental read"
    );
    let products = host.of_type("product");
    assert_eq!(products.len(), 1);
    assert_eq!(products[0]["product"]["key"], "item:1");
    assert_eq!(products[0]["product"]["visibility"], "publish", "chosen");
    assert!(
        products[0].get("cursor").is_none(),
        "a replanned listing does not move the cursor: {}",
        products[0]
    );
    let done: Vec<_> = host
        .of_type("cursor")
        .into_iter()
        .filter(|c| c["flow"] == "publish_replan")
        .collect();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["cursor"]["item_ids"], json!(["1", "99"]));
    assert!(
        host.all_json()
            .contains("POS items chosen by hand that the POS does not have: 99"),
        "{}",
        host.all_json()
    );
    assert_eq!(result.to_json()["summary"]["replanned"], 1);
}
