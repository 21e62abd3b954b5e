use super::*;
use crate::flows::lookups::{lookups_from, Choice};
use crate::job;
use crate::pos::lightspeed_r::model::{Employee, PaymentType, Register, Shop, TaxClass};
use futures::executor::block_on;
use serde_json::json;

#[test]
fn lookups_pages_through_every_list_and_leaves_archived_rows_out() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    let next = "https://api.example.test/API/V3/Account/1/Register.json?sort=registerID&archived=false&limit=100&after=WzJd";
    t.on(
        "Account/1/Shop.json?sort=shopID&archived=false&limit=100",
        200,
        r#"{"@attributes":{"count":"2","next":""},"Shop":[
            {"shopID":"1","name":"Main Street","archived":"false"},
            {"shopID":"2","name":"Harbour","archived":"false"}]}"#,
    )
    // Registers: two pages, followed by the `next` link.
    .on(
        "Account/1/Register.json?sort=registerID&archived=false&limit=100",
        200,
        &format!(
            r#"{{"@attributes":{{"next":"{next}"}},"Register":[
            {{"registerID":"1","name":"Register 1","shopID":"1","archived":"false"}},
            {{"registerID":"2","name":"Register 1","shopID":"2","archived":"false"}}]}}"#
        ),
    )
    .on(
        "Register.json?sort=registerID&archived=false&limit=100&after=WzJd",
        200,
        r#"{"@attributes":{"next":""},"Register":{"registerID":"3","name":"","shopID":"0","archived":"false"}}"#,
    )
    // An archived row in the answer (a POS that ignores archived=false) is left out.
    .on(
        "Account/1/Employee.json?sort=employeeID&archived=false&limit=100",
        200,
        r#"{"@attributes":{"next":""},"Employee":[
            {"employeeID":"1","firstName":"Alex","lastName":"Owner","archived":"false"},
            {"employeeID":"2","firstName":"Gone","lastName":"Away","archived":"true"},
            {"employeeID":"3","firstName":"Web","lastName":"Store","archived":"false"}]}"#,
    )
    .on(
        "Account/1/PaymentType.json?sort=paymentTypeID&archived=false&limit=100",
        200,
        r#"{"@attributes":{"next":""},"PaymentType":[
            {"paymentTypeID":"1","name":"Cash","type":"cash","archived":"false"},
            {"paymentTypeID":"7","name":"ECom","code":"ecom","type":"ecom","archived":"false"}]}"#,
    )
    // Labour classes are not offered for products.
    .on(
        "Account/1/TaxClass.json?sort=taxClassID&archived=false&limit=100",
        200,
        r#"{"@attributes":{"next":""},"TaxClass":[
            {"taxClassID":"1","name":"Item","classType":"item"},
            {"taxClassID":"2","name":"Labor","classType":"workorder"},
            {"taxClassID":"3","name":"Reduced rate","classType":"item"}]}"#,
    );
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let result = block_on(job::run(
        job_json("lookups", valid_tokens(), json!({})),
        &t,
        &clock,
        &host,
    ));
    let result = result.to_json();
    assert_eq!(result["ok"], true, "{}", host.all_json());
    assert_eq!(result["kind"], "lookups");
    assert_eq!(t.remaining(), 0, "every page read");
    let events = host.of_type("lookups");
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["lookups"],
        json!({
            "shops": [{"id": "1", "name": "Main Street"}, {"id": "2", "name": "Harbour"}],
            "registers": [
                {"id": "1", "name": "Register 1", "shop_id": "1"},
                {"id": "2", "name": "Register 1", "shop_id": "2"},
                {"id": "3", "name": "Register 3", "shop_id": null}
            ],
            "employees": [{"id": "1", "name": "Alex Owner"}, {"id": "3", "name": "Web Store"}],
            "payment_types": [
                {"id": "1", "name": "Cash", "code": "cash"},
                {"id": "7", "name": "ECom", "code": "ecom"}
            ],
            "tax_classes": [{"id": "1", "name": "Item"}, {"id": "3", "name": "Reduced rate"}]
        })
    );
    assert_eq!(result["summary"]["shops"], 2);
    assert_eq!(result["summary"]["registers"], 3);
    assert_eq!(result["summary"]["employees"], 2);
    assert_eq!(result["summary"]["payment_types"], 2);
    assert_eq!(result["summary"]["tax_classes"], 2);
    assert!(!host.all_json().contains("s3cret-value"));
}

#[test]
fn lookups_failure_is_an_error_event_and_no_lists() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    t.on(
        "Shop.json",
        200,
        r#"{"@attributes":{"next":""},"Shop":[{"shopID":"1","name":"Main"}]}"#,
    )
    .on(
        "Register.json",
        403,
        r#"{"message":"Not authorized for Register"}"#,
    );
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let result = block_on(job::run(
        job_json("lookups", valid_tokens(), json!({})),
        &t,
        &clock,
        &host,
    ));
    assert_eq!(result.to_json()["ok"], false);
    assert!(host.of_type("lookups").is_empty(), "no half lists");
    let err = &host.of_type("error")[0];
    assert_eq!(err["code"], "pos_refused");
    assert!(
        err["message"].as_str().unwrap().contains("Register"),
        "{err}"
    );
}

#[test]
fn lookups_from_names_rows_without_a_name_by_kind_and_id() {
    let shops = [Shop {
        shop_id: "4".into(),
        name: "  ".into(),
        archived: false,
    }];
    let employees = [Employee {
        employee_id: "9".into(),
        first_name: "".into(),
        last_name: " ".into(),
        archived: false,
    }];
    let types = [PaymentType {
        payment_type_id: "5".into(),
        name: "Old".into(),
        code: "user defined".into(),
        archived: true,
    }];
    let classes = [TaxClass {
        tax_class_id: "6".into(),
        name: "".into(),
        class_type: "".into(),
    }];
    let l = lookups_from(&shops, &[] as &[Register], &employees, &types, &classes);
    assert_eq!(
        l.shops,
        vec![Choice {
            id: "4".into(),
            name: "Shop 4".into()
        }]
    );
    assert_eq!(l.employees[0].name, "Employee 9");
    assert!(l.payment_types.is_empty(), "archived left out");
    assert_eq!(l.tax_classes[0].name, "Tax class 6");
}
