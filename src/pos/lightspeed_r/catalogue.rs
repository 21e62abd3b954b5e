//! The catalogue's requests (Item, ItemMatrix, Category, ItemAttributeSet)
//! as values, and the reader of their list answers as raw rows: what the
//! publish flow asks the POS and how it reads the pages back.

use crate::pos::lightspeed_r::model::ParseError;
use crate::pos::lightspeed_r::{self as ls, ApiRequest, Archived, Endpoint, Filter, Query};
use serde_json::Value;

fn item_relations(with_tags: bool, with_attributes: bool) -> Vec<&'static str> {
    let mut r = vec!["ItemShops", "ItemECommerce", "Images"];
    if with_attributes {
        r.push("ItemAttributes");
    }
    if with_tags {
        r.push("TagRelations.Tag");
    }
    r
}

fn labelled(mut req: ApiRequest, label: &str) -> ApiRequest {
    req.label = label.to_string();
    req
}

/// Items changed since the cursor, oldest first, archived included (an
/// archived item must hide its listing).
pub fn items_since(ep: &Endpoint, since: Option<&str>, with_tags: bool) -> ApiRequest {
    let mut q = Query::new().sort("timeStamp");
    if let Some(ts) = since {
        q = q
            .filter("timeStamp", Filter::Ge(ts.to_string()))
            .expect("Ge never fails");
    }
    let q = q
        .archived(Archived::Include)
        .load_relations(&item_relations(with_tags, false))
        .limit(ls::MAX_PAGE)
        .expect("100 is a valid limit");
    labelled(ep.list("Item", &q), "GET Item list (publish)")
}

/// How many Items a pass will read (`count=1`; Lightspeed charges it like
/// a write, so once per pass and only when more than a page is waiting).
pub fn items_count_since(ep: &Endpoint, since: Option<&str>) -> ApiRequest {
    let mut q = Query::new()
        .filter("count", Filter::Eq("1".into()))
        .expect("Eq never fails");
    if let Some(ts) = since {
        q = q
            .filter("timeStamp", Filter::Ge(ts.to_string()))
            .expect("Ge never fails");
    }
    let q = q.archived(Archived::Include);
    let mut req = labelled(ep.list("Item", &q), "GET Item count");
    req.cost = 10.0;
    req
}

/// The variant Items of some matrices, archived included.
pub fn variants_of(
    ep: &Endpoint,
    matrix_ids: &[String],
    with_tags: bool,
) -> Result<ApiRequest, ls::RequestError> {
    let q = Query::new()
        .filter("itemMatrixID", Filter::In(matrix_ids.to_vec()))?
        .sort("itemID")
        .archived(Archived::Include)
        .load_relations(&item_relations(with_tags, true))
        .limit(ls::MAX_PAGE)?;
    Ok(labelled(ep.list("Item", &q), "GET Item list (variants)"))
}

const MATRIX_RELATIONS: [&str; 2] = ["ItemECommerce", "Images"];

/// Items by id, archived ones too (a replan).
pub fn items_by_id(
    ep: &Endpoint,
    ids: &[String],
    with_tags: bool,
) -> Result<ApiRequest, ls::RequestError> {
    let q = Query::new()
        .filter("itemID", Filter::In(ids.to_vec()))?
        .sort("itemID")
        .archived(Archived::Include)
        .load_relations(&item_relations(with_tags, false))
        .limit(ls::MAX_PAGE)?;
    Ok(labelled(ep.list("Item", &q), "GET Item list (replan)"))
}

pub fn matrices_by_id(ep: &Endpoint, ids: &[String]) -> Result<ApiRequest, ls::RequestError> {
    let q = Query::new()
        .filter("itemMatrixID", Filter::In(ids.to_vec()))?
        .archived(Archived::Include)
        .load_relations(&MATRIX_RELATIONS)
        .limit(ls::MAX_PAGE)?;
    Ok(labelled(ep.list("ItemMatrix", &q), "GET ItemMatrix list"))
}

pub fn matrices_since(ep: &Endpoint, since: Option<&str>) -> ApiRequest {
    let mut q = Query::new().sort("timeStamp");
    if let Some(ts) = since {
        q = q
            .filter("timeStamp", Filter::Ge(ts.to_string()))
            .expect("Ge never fails");
    }
    let q = q
        .archived(Archived::Include)
        .load_relations(&MATRIX_RELATIONS)
        .limit(ls::MAX_PAGE)
        .expect("100 is a valid limit");
    labelled(ep.list("ItemMatrix", &q), "GET ItemMatrix list (publish)")
}

pub fn categories_by_id(ep: &Endpoint, ids: &[String]) -> Result<ApiRequest, ls::RequestError> {
    let q = Query::new()
        .filter("categoryID", Filter::In(ids.to_vec()))?
        .limit(ls::MAX_PAGE)?;
    Ok(labelled(ep.list("Category", &q), "GET Category list"))
}

pub fn attribute_sets_by_id(ep: &Endpoint, ids: &[String]) -> Result<ApiRequest, ls::RequestError> {
    let q = Query::new()
        .filter("itemAttributeSetID", Filter::In(ids.to_vec()))?
        .archived(Archived::Include)
        .limit(ls::MAX_PAGE)?;
    Ok(labelled(
        ep.list("ItemAttributeSet", &q),
        "GET ItemAttributeSet list",
    ))
}

/// A list answer as raw entity values (one object or many; none when only
/// `@attributes` came back) and its `next` link.
pub struct RawPage {
    pub rows: Vec<Value>,
    pub next: Option<String>,
    pub count: Option<u64>,
}

pub fn read_raw_page(body: &str, entity: &'static str) -> Result<RawPage, ParseError> {
    let root: Value = serde_json::from_str(body)
        .map_err(|e| ParseError::new(entity, None, format!("not JSON ({e})")))?;
    let map = root
        .as_object()
        .ok_or_else(|| ParseError::new(entity, None, "expected an object"))?;
    let attrs = map.get("@attributes").and_then(Value::as_object);
    let next = attrs
        .and_then(|a| a.get("next"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let count = attrs.and_then(|a| a.get("count")).and_then(|c| match c {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    });
    let rows = match map.get(entity) {
        None | Some(Value::Null) => {
            if attrs.is_none() {
                return Err(ParseError::new(
                    entity,
                    None,
                    "neither entities nor @attributes in the answer",
                ));
            }
            Vec::new()
        }
        // Quirk: one entity comes as an object, not a one-element array.
        Some(o @ Value::Object(_)) => vec![o.clone()],
        Some(Value::Array(a)) if a.iter().all(Value::is_object) => a.clone(),
        Some(Value::String(s)) if s.is_empty() => Vec::new(),
        Some(_) => {
            return Err(ParseError::new(
                entity,
                None,
                "expected objects under the entity key",
            ))
        }
    };
    Ok(RawPage { rows, next, count })
}
