use crate::pos::lightspeed_r::model::*;
use crate::pos::lightspeed_r::{read_accounts, read_item_shops, read_items, read_page};

const ITEM_ONE: &str = r#"{"@attributes":{"count":"1","offset":"0","limit":"100","next":"","previous":""},
 "Item":{"itemID":"7","systemSku":"210000000007","customSku":"","defaultCost":"4.5","archived":"false",
  "publishToEcom":"true","categoryID":"0","itemMatrixID":"3","timeStamp":"2024-03-01T10:00:00+00:00",
  "description":"T-shirt","itemType":"default",
  "Prices":{"ItemPrice":[{"amount":"19.99","useTypeID":"1","useType":"Default"},{"amount":"24.00","useTypeID":"2","useType":"MSRP"}]},
  "ItemShops":{"ItemShop":{"itemShopID":"70","qoh":"5","itemID":"7","shopID":"1","timeStamp":"2024-03-01T10:00:00+00:00"}},
  "ItemECommerce":{"longDescription":"<b>soft</b>","shortDescription":"","weight":"0.2","width":"0","height":"0","length":"0","listOnStore":"true"},
  "ItemAttributes":{"attribute1":"M","attribute2":"Blue","attribute3":"","itemAttributeSetID":"2"},
  "Images":""}}"#;

#[test]
fn single_item_as_object_with_strings() {
    let page = read_items(ITEM_ONE).unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.next, None);
    assert_eq!(page.count, Some(1));
    let it = &page.items[0];
    assert_eq!(it.item_id, "7");
    assert_eq!(it.sku(), "210000000007", "falls back to systemSku");
    assert_eq!(it.category_id, None, "\"0\" foreign key is none");
    assert_eq!(it.item_matrix_id.as_deref(), Some("3"));
    assert!(it.publish_to_ecom && !it.archived);
    assert_eq!(it.price("Default"), Some(Money::from_cents(1999)));
    assert_eq!(it.default_cost, Money::from_cents(450));
    assert_eq!(it.item_shops.len(), 1, "one ItemShop as an object");
    assert_eq!(it.item_shops[0].qoh, 5);
    assert!(it.ecommerce.as_ref().unwrap().list_on_store);
    assert_eq!(it.attributes.as_ref().unwrap().attribute2, "Blue");
    assert!(it.images.is_empty(), "empty relation served as \"\"");
}

#[test]
fn list_as_array_with_real_numbers_and_bools() {
    let body = r#"{"@attributes":{"count":2,"next":"https://api.example.test/API/V3/Account/1/Item.json?after=abc"},
      "Item":[{"itemID":1,"customSku":"TS-1","systemSku":"1","archived":false,"publishToEcom":true,"defaultCost":3.1},
              {"itemID":"2","customSku":" ","systemSku":"222","archived":"true"}]}"#;
    let page = read_items(body).unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[0].item_id, "1");
    assert_eq!(page.items[0].sku(), "TS-1");
    assert_eq!(page.items[0].default_cost, Money::from_cents(310));
    assert!(page.items[1].archived);
    assert_eq!(page.items[1].sku(), "222", "blank customSku falls back");
    assert!(page.next.unwrap().contains("after=abc"));
}

#[test]
fn empty_result_has_only_attributes() {
    let page =
        read_item_shops(r#"{"@attributes":{"count":"0","offset":"0","limit":"100"}}"#).unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.count, Some(0));
    assert_eq!(page.next, None);
}

#[test]
fn malformed_answers_are_typed_errors_naming_resource_and_id() {
    let e = read_item_shops(r#"{"ItemShop":{"itemShopID":"9","itemID":"4","qoh":"lots"}}"#)
        .unwrap_err();
    assert_eq!(e.resource, "ItemShop");
    assert_eq!(e.id.as_deref(), Some("9"));
    assert!(e.to_string().contains("qoh"), "{e}");

    let e = read_item_shops("<html>Bad Gateway</html>").unwrap_err();
    assert!(e.to_string().contains("not JSON"));

    let e = read_item_shops(r#"{"foo":1}"#).unwrap_err();
    assert_eq!(e.resource, "ItemShop");

    let e = read_item_shops(r#"{"@attributes":{},"ItemShop":"x"}"#).unwrap_err();
    assert!(e.to_string().contains("expected objects"), "{e}");

    let e = read_items(r#"{"Item":{"itemID":"5","Prices":{"ItemPrice":{"amount":"abc"}}}}"#)
        .unwrap_err();
    assert_eq!((e.resource, e.id.as_deref()), ("Item", Some("5")));

    let e = read_items(r#"{"Item":{"systemSku":"1"}}"#).unwrap_err();
    assert!(e.to_string().contains("itemID"), "{e}");

    let e = read_items(r#"[1,2]"#).unwrap_err();
    assert!(e.to_string().contains("expected an object"));
}

#[test]
fn shop_zero_is_the_total_row_and_qoh_accepts_decimals() {
    let body = r#"{"@attributes":{"count":"2"},"ItemShop":[
        {"itemShopID":"1","itemID":"4","shopID":"0","qoh":"-3","timeStamp":"2024-01-01T00:00:00+00:00"},
        {"itemShopID":"2","itemID":"4","shopID":"2","qoh":"7.000","timeStamp":"2024-01-01T00:00:00+00:00"}]}"#;
    let rows = read_item_shops(body).unwrap().items;
    assert_eq!(rows[0].shop_id, None);
    assert_eq!(rows[0].qoh, -3);
    assert_eq!(rows[1].qoh, 7);
    assert!(
        read_item_shops(r#"{"ItemShop":{"itemShopID":"1","itemID":"4","qoh":"7.5"}}"#).is_err()
    );
}

#[test]
fn money_is_exact() {
    assert_eq!(Money::parse("0.00"), Some(Money::ZERO));
    assert_eq!(Money::parse("12"), Some(Money::from_cents(1200)));
    assert_eq!(Money::parse("-0.5"), Some(Money::from_cents(-50)));
    assert_eq!(Money::parse("1.005"), Some(Money::from_cents(101)));
    assert_eq!(Money::parse(".99"), Some(Money::from_cents(99)));
    assert_eq!(Money::parse("abc"), None);
    assert_eq!(Money::parse("1.2.3"), None);
    assert_eq!(Money::parse(""), None);
    // 0.1 + 0.2 in f64 is 0.30000000000000004; in cents it is 30.
    let sum: Money = ["0.10", "0.20"]
        .iter()
        .map(|s| Money::parse(s).unwrap())
        .sum();
    assert_eq!(sum, Money::from_cents(30));
    let many: Money = (0..1000).map(|_| Money::parse("0.01").unwrap()).sum();
    assert_eq!(many.to_string(), "10.00");
    assert_eq!(Money::from_cents(-5).to_string(), "-0.05");
}

#[test]
fn timestamps_compare_as_instants() {
    let a = parse_timestamp_ms("2016-11-10T13:51:54+00:00").unwrap();
    assert_eq!(a, 1_478_785_914_000);
    assert_eq!(parse_timestamp_ms("2016-11-10T14:51:54+01:00"), Some(a));
    assert_eq!(parse_timestamp_ms("2016-11-10T13:51:54Z"), Some(a));
    assert_eq!(
        parse_timestamp_ms("2016-11-10T13:51:54.250Z"),
        Some(a + 250)
    );
    assert_eq!(parse_timestamp_ms("yesterday"), None);
    assert_eq!(parse_timestamp_ms("2016-13-10T13:51:54+00:00"), None);
    assert_eq!(parse_timestamp_ms(""), None);
}

#[test]
fn accounts_sales_customers_and_catalogue() {
    let acc = read_accounts(
        r#"{"@attributes":{"count":"1"},"Account":{"accountID":"1","name":"Demo Bikes"}}"#,
    )
    .unwrap();
    assert_eq!(acc[0].name, "Demo Bikes");

    let sale = read_page::<Sale>(
        r#"{"Sale":{"saleID":"31","completed":"true","referenceNumber":"WEB-1042","customerID":"0","calcTotal":"30.00",
        "SaleLines":{"SaleLine":[{"saleLineID":"1","itemID":"7","unitQuantity":"2","unitPrice":"10.00"},{"itemID":"8","unitQuantity":"1","unitPrice":"10"}]},
        "SalePayments":{"SalePayment":{"amount":"30.00","paymentTypeID":"7"}}}}"#,
    )
    .unwrap()
    .items;
    assert_eq!(sale[0].customer_id, None);
    assert_eq!(sale[0].lines.len(), 2);
    assert_eq!(sale[0].paid(), Money::from_cents(3000));
    assert_eq!(sale[0].total, Money::from_cents(3000));

    let c = read_page::<Customer>(
        r#"{"Customer":[{"customerID":"5","firstName":"Ann","lastName":"Lee",
        "Contact":{"Emails":{"ContactEmail":{"address":"ann@example.com","useType":"Primary"}},"Phones":"","Addresses":""}}]}"#,
    )
    .unwrap()
    .items;
    assert_eq!(c[0].primary_email(), Some("ann@example.com"));

    let cat = read_page::<Category>(r#"{"Category":{"categoryID":"3","name":"Shirts","parentID":"0","nodeDepth":"1","fullPathName":"Apparel/Shirts"}}"#).unwrap();
    assert_eq!(cat.items[0].parent_id, None);
    let set = read_page::<ItemAttributeSet>(r#"{"ItemAttributeSet":{"itemAttributeSetID":"2","name":"Size/Colour","attributeName1":"Size","attributeName2":"Colour","attributeName3":""}}"#).unwrap();
    assert_eq!(set.items[0].attribute_names, vec!["Size", "Colour"]);
    let m = read_page::<ItemMatrix>(
        r#"{"ItemMatrix":{"itemMatrixID":"3","description":"Tee","itemAttributeSetID":"2"}}"#,
    )
    .unwrap();
    assert_eq!(m.items[0].item_attribute_set_id.as_deref(), Some("2"));
    assert_eq!(
        read_page::<Shop>(r#"{"Shop":{"shopID":"1","name":"Main"}}"#)
            .unwrap()
            .items[0]
            .name,
        "Main"
    );
    assert_eq!(
        read_page::<Register>(r#"{"Register":{"registerID":"1","name":"R1","shopID":"1"}}"#)
            .unwrap()
            .items[0]
            .shop_id
            .as_deref(),
        Some("1")
    );
    assert_eq!(
        read_page::<Employee>(r#"{"Employee":{"employeeID":"1","firstName":"Web"}}"#)
            .unwrap()
            .items[0]
            .first_name,
        "Web"
    );
    assert_eq!(
        read_page::<PaymentType>(
            r#"{"PaymentType":{"paymentTypeID":"7","name":"Web","code":"ecom"}}"#
        )
        .unwrap()
        .items[0]
            .code,
        "ecom"
    );
    assert_eq!(read_page::<Image>(r#"{"Image":{"imageID":"1","filename":"a.jpg","itemID":"7","itemMatrixID":"0","ordering":"1"}}"#).unwrap().items[0].item_matrix_id, None);
}
