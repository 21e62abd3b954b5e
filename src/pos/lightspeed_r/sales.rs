//! The requests of the orders flow as values: Sales by reference number or
//! id, Customers by e-mail, and the create (`POST`) of a Sale or Customer.

use crate::edge::transport::Method;
use crate::pos::lightspeed_r::{self as ls, encode_component, ApiRequest, Endpoint, Filter, Query};
use serde_json::{json, Value};

/// `POST Account/{id}/{resource}.json` with `body`.
pub fn create_request(endpoint: &Endpoint, resource: &str, body: Value) -> ApiRequest {
    ApiRequest {
        method: Method::Post,
        url: format!(
            "{}/Account/{}/{}.json",
            endpoint.api_base,
            encode_component(&endpoint.account_id),
            resource
        ),
        cost: ls::predict_cost(Method::Post, resource, false, &[], Some(&body)),
        body: Some(body),
        label: format!("POST {resource}"),
    }
}

/// `Sale.json?referenceNumber=…` for one or up to 100 references (`IN`),
/// archived included: a sale the merchant archived still counts as posted.
/// Several references go as `IN,["WEB-1","WEB-2"]`: the docs allow "a JSON
/// encoded array", which keeps text values intact ([`Filter::In`] is for
/// numeric ids).
pub fn lookup_request(
    endpoint: &Endpoint,
    references: &[String],
) -> Result<ApiRequest, ls::RequestError> {
    let filter = if references.len() == 1 {
        Filter::Eq(references[0].clone())
    } else {
        if references.len() > ls::MAX_PAGE {
            return Err(ls::RequestError::InSize {
                field: "referenceNumber".into(),
                count: references.len(),
            });
        }
        Filter::Eq(format!("IN,{}", json!(references)))
    };
    let q = Query::new()
        .filter("referenceNumber", filter)?
        .archived(ls::Archived::Include)
        .limit(ls::MAX_PAGE)?;
    Ok(endpoint.list("Sale", &q))
}

/// References of plain characters go in a batch; anything else (and a
/// lone value that could read as an operator) is looked up alone.
pub fn can_batch(reference: &str) -> bool {
    reference
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_./#:".contains(&b))
}

/// Customers whose Contact has the e-mail (the answer is checked by the
/// caller: a POS may ignore the filter).
pub fn customers_by_email(
    endpoint: &Endpoint,
    email: &str,
) -> Result<ApiRequest, ls::RequestError> {
    let q = Query::new()
        .load_relations(&["Contact"])
        .filter("Contact.email", Filter::Eq(email.to_string()))?
        .limit(ls::MAX_PAGE)?;
    Ok(endpoint.list("Customer", &q))
}

const SALE_WITH_LINES: [&str; 2] = ["SaleLines", "SalePayments"];

/// One sale by id with its lines and payments, archived included.
pub fn sale_with_lines(endpoint: &Endpoint, sale_id: &str) -> Result<ApiRequest, ls::RequestError> {
    let q = Query::new()
        .filter("saleID", Filter::Eq(sale_id.to_string()))?
        .load_relations(&SALE_WITH_LINES)
        .archived(ls::Archived::Include);
    Ok(endpoint.list("Sale", &q))
}

/// The sales with a reference number, with their lines and payments,
/// archived included.
pub fn sales_with_lines_by_reference(
    endpoint: &Endpoint,
    reference: &str,
) -> Result<ApiRequest, ls::RequestError> {
    let q = Query::new()
        .filter("referenceNumber", Filter::Eq(reference.to_string()))?
        .load_relations(&SALE_WITH_LINES)
        .archived(ls::Archived::Include)
        .limit(ls::MAX_PAGE)?;
    Ok(endpoint.list("Sale", &q))
}
