//! Lightspeed Retail R-Series: requests as values, answers read back.
//!
//! Nothing here sends anything. Builders return [`ApiRequest`] values (method,
//! URL, body, predicted cost); readers turn an [`HttpResponse`] into typed
//! values or typed errors. `crate::pos::lightspeed_r::session` moves them over a transport.

use crate::edge::transport::{HttpRequest, HttpResponse, Method};
use crate::pos::lightspeed_r::model::{self, Account, Item, ItemShop, Page, ParseError, Resource};
use serde_json::Value;

/// Lightspeed caps `limit` (and `IN,[…]` lists) at 100.
pub const MAX_PAGE: usize = 100;

// ---------------------------------------------------------------------------
// URL encoding

/// Percent-encodes everything but RFC 3986 unreserved characters, so a `+`
/// in a timestamp offset or a `,` after an operator reaches Lightspeed as
/// data.
pub fn encode_component(s: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(s, COMPONENT).to_string()
}

// ---------------------------------------------------------------------------
// Filters and queries

/// A filter on one field. Lightspeed carries the operator inside the value
/// (`timeStamp=>,2024-…`); building it from this type keeps the encoding in
/// one place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    Eq(String),
    Gt(String),
    Ge(String),
    Lt(String),
    Le(String),
    Ne(String),
    /// `~,` with `%` wildcards, e.g. `Like("%shirt%")`.
    Like(String),
    /// `IN,[1,2,3]`, at most [`MAX_PAGE`] values.
    In(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("filter on {field}: IN takes 1 to {MAX_PAGE} values, got {count}")]
    InSize { field: String, count: usize },
    #[error("filter on {field}: IN value {value:?} may not contain ',', '[' or ']'")]
    InValue { field: String, value: String },
    #[error("limit must be 1 to {MAX_PAGE}, got {0}")]
    Limit(usize),
}

impl Filter {
    /// The raw (not yet URL-encoded) value Lightspeed expects.
    fn raw_value(&self, field: &str) -> Result<String, RequestError> {
        Ok(match self {
            Filter::Eq(v) => v.clone(),
            Filter::Gt(v) => format!(">,{v}"),
            Filter::Ge(v) => format!(">=,{v}"),
            Filter::Lt(v) => format!("<,{v}"),
            Filter::Le(v) => format!("<=,{v}"),
            Filter::Ne(v) => format!("!=,{v}"),
            Filter::Like(v) => format!("~,{v}"),
            Filter::In(values) => {
                if values.is_empty() || values.len() > MAX_PAGE {
                    return Err(RequestError::InSize {
                        field: field.to_string(),
                        count: values.len(),
                    });
                }
                if let Some(bad) = values.iter().find(|v| v.contains([',', '[', ']'])) {
                    return Err(RequestError::InValue {
                        field: field.to_string(),
                        value: bad.clone(),
                    });
                }
                format!("IN,[{}]", values.join(","))
            }
        })
    }
}

/// Include archived rows or not (`archived=true|false|only`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Archived {
    Exclude,
    Include,
    Only,
}

/// A query string under construction; every value is encoded on output.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    params: Vec<(String, String)>,
    relations: Vec<String>,
    limit: Option<usize>,
}

impl Query {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn filter(mut self, field: &str, filter: Filter) -> Result<Self, RequestError> {
        let value = filter.raw_value(field)?;
        self.params.push((field.to_string(), value));
        Ok(self)
    }

    pub fn sort(mut self, field: &str) -> Self {
        self.params.push(("sort".into(), field.into()));
        self
    }

    pub fn limit(mut self, n: usize) -> Result<Self, RequestError> {
        if n == 0 || n > MAX_PAGE {
            return Err(RequestError::Limit(n));
        }
        self.limit = Some(n);
        Ok(self)
    }

    pub fn archived(mut self, a: Archived) -> Self {
        let v = match a {
            Archived::Exclude => "false",
            Archived::Include => "true",
            Archived::Only => "only",
        };
        self.params.push(("archived".into(), v.into()));
        self
    }

    /// `load_relations=["ItemShops","Images"]`: a JSON array, URL-encoded.
    pub fn load_relations(mut self, relations: &[&str]) -> Self {
        self.relations = relations.iter().map(|r| r.to_string()).collect();
        self
    }

    pub fn relations(&self) -> &[String] {
        &self.relations
    }

    pub fn encode(&self) -> String {
        let mut parts: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect();
        if !self.relations.is_empty() {
            let json = Value::from(self.relations.clone()).to_string();
            parts.push(format!("load_relations={}", encode_component(&json)));
        }
        if let Some(n) = self.limit {
            parts.push(format!("limit={n}"));
        }
        parts.join("&")
    }
}

// ---------------------------------------------------------------------------
// Cost model (LIGHTSPEED.md, "Rate limit")

/// Relations Lightspeed counts as to-many for `load_relations` pricing.
fn is_to_many(relation: &str) -> bool {
    matches!(
        relation,
        "ItemShops"
            | "Images"
            | "TagRelations"
            | "TagRelations.Tag"
            | "SaleLines"
            | "SalePayments"
            | "ItemComponents"
            | "Prices"
            | "Items"
    )
}

/// Predicted bucket cost of a request.
/// Base 1; `load_relations` +0.1 per to-one and +0.2 per to-many relation,
/// doubled on list queries; Sale POST/PUT 2, +3 when completed; refund 10;
/// +0.5 per nested entity in a payload.
pub fn predict_cost(
    method: Method,
    resource: &str,
    is_list: bool,
    relations: &[String],
    payload: Option<&Value>,
) -> f64 {
    let mut cost = match (method, resource) {
        (Method::Post, r) if r.ends_with("/refund") => 10.0,
        (Method::Post | Method::Put, "Sale") => {
            let completed = payload
                .and_then(|p| p.get("completed"))
                .map(|c| c == &Value::Bool(true) || c == "true")
                .unwrap_or(false);
            2.0 + if completed { 3.0 } else { 0.0 }
        }
        _ => 1.0,
    };
    let rel: f64 = relations
        .iter()
        .map(|r| if is_to_many(r) { 0.2 } else { 0.1 })
        .sum();
    cost += if is_list { rel * 2.0 } else { rel };
    if let Some(p) = payload {
        cost += 0.5 * nested_entities(p) as f64;
    }
    // Round to a tenth: these are exact tenths, f64 sums are not.
    (cost * 10.0).round() / 10.0
}

/// Counts nested entities (objects below the top level) in a payload.
fn nested_entities(v: &Value) -> usize {
    fn walk(v: &Value, depth: usize) -> usize {
        match v {
            Value::Object(m) => {
                let own =
                    usize::from(depth > 0 && !m.values().all(|c| c.is_object() || c.is_array()));
                own + m.values().map(|c| walk(c, depth + 1)).sum::<usize>()
            }
            Value::Array(a) => a.iter().map(|c| walk(c, depth)).sum(),
            _ => 0,
        }
    }
    walk(v, 0)
}

// ---------------------------------------------------------------------------
// Requests

/// A Lightspeed API call, not yet authorised or sent.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiRequest {
    pub method: Method,
    pub url: String,
    pub body: Option<Value>,
    /// Predicted bucket cost.
    pub cost: f64,
    /// What is being asked, for logs and cost learning: `"GET ItemShop list"`.
    pub label: String,
}

impl ApiRequest {
    /// The HTTP request with the bearer token attached.
    pub fn to_http(&self, access_token: &str, timeout_ms: u64) -> HttpRequest {
        let mut headers = vec![
            ("Accept".to_string(), "application/json".to_string()),
            (
                "Authorization".to_string(),
                format!("Bearer {access_token}"),
            ),
        ];
        if self.body.is_some() {
            headers.push(("Content-Type".to_string(), "application/json".to_string()));
        }
        HttpRequest {
            method: self.method,
            url: self.url.clone(),
            headers,
            body: self.body.as_ref().map(Value::to_string),
            timeout_ms,
        }
    }
}

/// Where an account's API lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// e.g. `https://api.lightspeedapp.com/API/V3` (a setting: the emulator
    /// serves the same paths).
    pub api_base: String,
    pub account_id: String,
}

impl Endpoint {
    pub fn new(api_base: &str, account_id: &str) -> Self {
        Endpoint {
            api_base: api_base.trim().trim_end_matches('/').to_string(),
            account_id: account_id.trim().to_string(),
        }
    }

    fn resource_url(&self, resource: &str) -> String {
        format!(
            "{}/Account/{}/{}.json",
            self.api_base,
            encode_component(&self.account_id),
            resource
        )
    }

    /// `GET Account.json`: the accounts this token may use.
    pub fn account(&self) -> ApiRequest {
        ApiRequest {
            method: Method::Get,
            url: format!("{}/Account.json", self.api_base),
            body: None,
            cost: 1.0,
            label: "GET Account".into(),
        }
    }

    /// `GET <Resource>.json?<query>`.
    pub fn list(&self, resource: &str, query: &Query) -> ApiRequest {
        let q = query.encode();
        let url = if q.is_empty() {
            self.resource_url(resource)
        } else {
            format!("{}?{}", self.resource_url(resource), q)
        };
        ApiRequest {
            method: Method::Get,
            url,
            body: None,
            cost: predict_cost(Method::Get, resource, true, query.relations(), None),
            label: format!("GET {resource} list"),
        }
    }

    /// The page after `prev`, from its `@attributes.next` link. The link must
    /// point at our own API (the bearer token goes with it).
    pub fn follow_next(&self, prev: &ApiRequest, next_url: &str) -> Result<ApiRequest, ParseError> {
        if origin(next_url) != origin(&self.api_base) || origin(next_url).is_none() {
            return Err(ParseError::new(
                "pagination",
                None,
                "next link points outside the configured API base",
            ));
        }
        Ok(ApiRequest {
            url: next_url.to_string(),
            ..prev.clone()
        })
    }

    /// Stock rows changed since a cursor, oldest first.
    /// `ItemShop.json?sort=timeStamp&timeStamp=>=,<ts>&limit=100`.
    pub fn item_shops_since(&self, since_ts: Option<&str>) -> ApiRequest {
        let mut q = Query::new().sort("timeStamp");
        if let Some(ts) = since_ts {
            q = q
                .filter("timeStamp", Filter::Ge(ts.to_string()))
                .expect("Ge never fails");
        }
        self.list(
            "ItemShop",
            &q.limit(MAX_PAGE).expect("100 is a valid limit"),
        )
    }

    /// Items by id with all their ItemShops (archived included: an archived
    /// item must still reach the web as "not in stock").
    pub fn items_with_stock(&self, item_ids: &[String]) -> Result<ApiRequest, RequestError> {
        let q = Query::new()
            .filter("itemID", Filter::In(item_ids.to_vec()))?
            .archived(Archived::Include)
            .load_relations(&["ItemShops"])
            .limit(MAX_PAGE)?;
        Ok(self.list("Item", &q))
    }

    /// Every live (not archived) row of a small account resource such as
    /// `Shop` or `Employee`, in id order: `<Resource>.json?sort=<id>&archived=false&limit=100`.
    pub fn live_rows(&self, resource: &str, id_field: &str) -> ApiRequest {
        let q = Query::new()
            .sort(id_field)
            .archived(Archived::Exclude)
            .limit(MAX_PAGE)
            .expect("100 is a valid limit");
        self.list(resource, &q)
    }

    /// Reconcile: live items in itemID order after `after_item_id`.
    pub fn items_after(&self, after_item_id: Option<&str>) -> ApiRequest {
        let mut q = Query::new().sort("itemID");
        if let Some(id) = after_item_id {
            q = q
                .filter("itemID", Filter::Gt(id.to_string()))
                .expect("Gt never fails");
        }
        let q = q
            .archived(Archived::Exclude)
            .load_relations(&["ItemShops"])
            .limit(MAX_PAGE)
            .expect("100 is a valid limit");
        self.list("Item", &q)
    }
}

/// `scheme://host[:port]` of a URL, lower-cased.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    if host.is_empty() {
        return None;
    }
    Some(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase()
    ))
}

// ---------------------------------------------------------------------------
// OAuth

/// `POST token_url` with the refresh-token grant (form encoded).
pub fn refresh_request(
    token_url: &str,
    client_id: &str,
    client_secret: &str,
    refresh_token: &str,
    timeout_ms: u64,
) -> HttpRequest {
    let body = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", client_id),
        ("client_secret", client_secret),
    ]
    .iter()
    .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
    .collect::<Vec<_>>()
    .join("&");
    HttpRequest {
        method: Method::Post,
        url: token_url.trim().to_string(),
        headers: vec![
            ("Accept".into(), "application/json".into()),
            (
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
        ],
        body: Some(body),
        timeout_ms,
    }
}

/// A fresh token pair from the token endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenAnswer {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in_s: u64,
}

impl std::fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenAnswer {{ expires_in_s: {} }}", self.expires_in_s)
    }
}

/// Reads a 200 answer of the token endpoint.
pub fn read_token_answer(resp: &HttpResponse) -> Result<TokenAnswer, ParseError> {
    let v: Value = serde_json::from_str(&resp.body)
        .map_err(|_| ParseError::new("token", None, "token endpoint answer is not JSON"))?;
    let get = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let access_token =
        get("access_token").ok_or_else(|| ParseError::new("token", None, "no access_token"))?;
    // Some servers do not rotate; Lightspeed does. Keep whatever we get.
    let refresh_token =
        get("refresh_token").ok_or_else(|| ParseError::new("token", None, "no refresh_token"))?;
    let expires_in_s = match v.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(1800),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(1800),
        _ => 1800,
    };
    Ok(TokenAnswer {
        access_token,
        refresh_token,
        expires_in_s,
    })
}

/// A one-line reason from an error answer, without echoing anything long.
/// Handles `{"message":…}` (API), `{"error","error_description"}` (OAuth)
/// and non-JSON bodies (older answers were text/html).
pub fn error_reason(resp: &HttpResponse) -> String {
    let parsed: Option<Value> = serde_json::from_str(&resp.body).ok();
    let text = parsed.as_ref().and_then(|v| {
        let s = |k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
        s("message")
            .or_else(|| s("error_description"))
            .or_else(|| s("error"))
            .or_else(|| s("httpMessage"))
            .map(str::to_string)
    });
    let mut text = text.unwrap_or_else(|| format!("HTTP {}", resp.status));
    if text.chars().count() > 160 {
        text = format!("{}…", text.chars().take(160).collect::<String>());
    }
    text.replace(['\n', '\r'], " ")
}

// ---------------------------------------------------------------------------
// Answer readers

pub fn read_item_shops(body: &str) -> Result<Page<ItemShop>, ParseError> {
    model::parse_page(body)
}

pub fn read_items(body: &str) -> Result<Page<Item>, ParseError> {
    model::parse_page(body)
}

pub fn read_accounts(body: &str) -> Result<Vec<Account>, ParseError> {
    model::parse_single(body)
}

/// Reads any list answer of a resource type.
pub fn read_page<T: Resource>(body: &str) -> Result<Page<T>, ParseError> {
    model::parse_page(body)
}
