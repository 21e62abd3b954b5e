//! Typed Lightspeed R-Series resources, read defensively.
//!
//! Lightspeed quirks handled here, once, so nothing downstream sees them:
//! - every scalar may be a string (`"12"`, `"true"`, `"0.00"`); real JSON
//!   numbers and booleans are accepted too;
//! - a collection with one element is an object, not a one-element array;
//! - an empty result carries only `"@attributes"` and no entity key;
//! - a foreign key of `"0"` means "none".
//!
//! Nothing here panics on bad input: a malformed answer becomes a
//! [`ParseError`] naming the resource, the id when known, and the field.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

mod items;
mod lists;
mod sales;
mod timestamps;

pub use items::*;
pub use lists::*;
pub use sales::*;
pub use timestamps::*;

/// A malformed Lightspeed answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    pub resource: &'static str,
    pub id: Option<String>,
    pub problem: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "malformed {} {}: {}", self.resource, id, self.problem),
            None => write!(f, "malformed {} answer: {}", self.resource, self.problem),
        }
    }
}

impl ParseError {
    pub fn new(resource: &'static str, id: Option<String>, problem: impl Into<String>) -> Self {
        ParseError {
            resource,
            id,
            problem: problem.into(),
        }
    }
}

// ---------------------------------------------------------------------------
// Money

/// An amount of money in cents. Lightspeed sends `"12.50"`; summing f64s
/// drifts, summing cents does not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money {
    pub cents: i64,
}

impl Money {
    pub const ZERO: Money = Money { cents: 0 };

    pub fn from_cents(cents: i64) -> Self {
        Money { cents }
    }

    /// Parses a decimal string exactly. More than two decimals are rounded
    /// half away from zero on the digits themselves (never through f64).
    pub fn parse(text: &str) -> Option<Money> {
        let t = text.trim();
        let (negative, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (whole, frac) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        if (whole.is_empty() && frac.is_empty())
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        let fb = frac.as_bytes();
        let digit = |i: usize| fb.get(i).map(|b| i64::from(b - b'0')).unwrap_or(0);
        let mut cents = whole
            .checked_mul(100)?
            .checked_add(digit(0) * 10 + digit(1))?;
        if digit(2) >= 5 {
            cents = cents.checked_add(1)?;
        }
        Some(Money {
            cents: if negative { -cents } else { cents },
        })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.cents < 0 { "-" } else { "" };
        let abs = self.cents.unsigned_abs();
        write!(f, "{}{}.{:02}", sign, abs / 100, abs % 100)
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money::from_cents(self.cents + rhs.cents)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

// ---------------------------------------------------------------------------
// Lenient field access

/// One JSON object of a named resource, with lenient typed getters.
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    resource: &'static str,
    id: Option<String>,
}

impl<'a> Fields<'a> {
    /// `id_field` names the resource's own id, used in error messages.
    pub fn new(
        value: &'a Value,
        resource: &'static str,
        id_field: &str,
    ) -> Result<Self, ParseError> {
        let map = value.as_object().ok_or_else(|| {
            ParseError::new(
                resource,
                None,
                format!("expected an object, got {}", kind(value)),
            )
        })?;
        let id = map.get(id_field).and_then(scalar_text);
        Ok(Fields { map, resource, id })
    }

    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    fn err(&self, field: &str, problem: impl fmt::Display) -> ParseError {
        ParseError::new(
            self.resource,
            self.id.clone(),
            format!("field {field}: {problem}"),
        )
    }

    pub fn raw(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    /// A scalar as text; missing or null is `None`.
    pub fn opt_text(&self, field: &str) -> Result<Option<String>, ParseError> {
        match self.raw(field) {
            None => Ok(None),
            Some(v) => scalar_text(v)
                .map(Some)
                .ok_or_else(|| self.err(field, format!("expected a scalar, got {}", kind(v)))),
        }
    }

    /// A scalar as text, empty string when missing.
    pub fn text(&self, field: &str) -> Result<String, ParseError> {
        Ok(self.opt_text(field)?.unwrap_or_default())
    }

    /// A required id: must be present and non-empty.
    pub fn required_id(&self, field: &str) -> Result<String, ParseError> {
        match self.opt_text(field)? {
            Some(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            _ => Err(self.err(field, "missing")),
        }
    }

    /// A foreign key: `"0"`, empty or missing means none (Lightspeed quirk).
    pub fn foreign_key(&self, field: &str) -> Result<Option<String>, ParseError> {
        Ok(self
            .opt_text(field)?
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty() && s != "0"))
    }

    pub fn bool(&self, field: &str) -> Result<bool, ParseError> {
        self.bool_or(field, false)
    }

    /// A flag, `default` when missing or null.
    pub fn bool_or(&self, field: &str, default: bool) -> Result<bool, ParseError> {
        match self.raw(field) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => match scalar_text(v).as_deref().map(str::trim) {
                Some("true") | Some("1") => Ok(true),
                Some("false") | Some("0") | Some("") => Ok(false),
                _ => Err(self.err(field, format!("expected true/false, got {}", short(v)))),
            },
        }
    }

    /// A whole number; `"5"`, `5`, `"5.0"` and `"5.000"` are accepted.
    pub fn opt_int(&self, field: &str) -> Result<Option<i64>, ParseError> {
        match self.raw(field) {
            None => Ok(None),
            Some(v) => parse_int(v).map(Some).ok_or_else(|| {
                self.err(field, format!("expected a whole number, got {}", short(v)))
            }),
        }
    }

    pub fn int(&self, field: &str) -> Result<i64, ParseError> {
        Ok(self.opt_int(field)?.unwrap_or(0))
    }

    pub fn money(&self, field: &str) -> Result<Money, ParseError> {
        match self.raw(field) {
            None => Ok(Money::ZERO),
            Some(v) => scalar_text(v)
                .and_then(|s| {
                    if s.trim().is_empty() {
                        Some(Money::ZERO)
                    } else {
                        Money::parse(&s)
                    }
                })
                .ok_or_else(|| self.err(field, format!("expected an amount, got {}", short(v)))),
        }
    }

    /// A nested collection such as `Prices.ItemPrice` or `ItemShops.ItemShop`,
    /// one element as an object or many as an array.
    pub fn nested(&self, outer: &str, inner: &str) -> Result<Vec<&'a Value>, ParseError> {
        match self.raw(outer) {
            None => Ok(Vec::new()),
            Some(Value::Object(m)) => one_or_many(m.get(inner)).map_err(|k| {
                self.err(
                    &format!("{outer}.{inner}"),
                    format!("expected objects, got {k}"),
                )
            }),
            // An empty relation is sometimes served as "" or [].
            Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
            Some(Value::Array(a)) if a.is_empty() => Ok(Vec::new()),
            Some(v) => Err(self.err(outer, format!("expected an object, got {}", kind(v)))),
        }
    }

    /// A to-one relation such as `ItemECommerce`.
    pub fn relation(&self, field: &str) -> Result<Option<&'a Value>, ParseError> {
        match self.raw(field) {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(v)),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::Array(a)) if a.is_empty() => Ok(None),
            Some(v) => Err(self.err(field, format!("expected an object, got {}", kind(v)))),
        }
    }
}

fn one_or_many(v: Option<&Value>) -> Result<Vec<&Value>, &'static str> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(o @ Value::Object(_)) => Ok(vec![o]),
        Some(Value::Array(a)) => {
            if a.iter().all(Value::is_object) {
                Ok(a.iter().collect())
            } else {
                Err("an array holding non-objects")
            }
        }
        Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
        Some(other) => Err(kind(other)),
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            // 5.0 as a JSON number: accept only when whole.
            let f = n.as_f64()?;
            (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
        }),
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                return Some(0);
            }
            if let Ok(i) = t.parse::<i64>() {
                return Some(i);
            }
            let (w, f) = t.split_once('.')?;
            if f.bytes().all(|b| b == b'0') {
                w.parse::<i64>().ok()
            } else {
                None
            }
        }
        _ => None,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A short, safe rendering of a bad value for an error message.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

// ---------------------------------------------------------------------------
// Lists (the envelope of every list answer)

/// A decoded list answer: the entities and the pagination links.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Full URL of the next page, `None` at the end.
    pub next: Option<String>,
    /// `@attributes.count` when present (total matching, not page size).
    pub count: Option<u64>,
}

/// A resource that can be read from a Lightspeed answer.
pub trait Resource: Sized {
    /// The entity key in list answers, e.g. `"Item"`.
    const NAME: &'static str;
    /// The id field, e.g. `"itemID"`.
    const ID: &'static str;
    fn from_value(v: &Value) -> Result<Self, ParseError>;
}

/// Reads a list answer `{"@attributes":{…}, "Item": [..] | {..}}`.
pub fn parse_page<T: Resource>(body: &str) -> Result<Page<T>, ParseError> {
    let root: Value = serde_json::from_str(body)
        .map_err(|e| ParseError::new(T::NAME, None, format!("not JSON ({e})")))?;
    page_from_value(&root)
}

pub fn page_from_value<T: Resource>(root: &Value) -> Result<Page<T>, ParseError> {
    let map = root.as_object().ok_or_else(|| {
        ParseError::new(
            T::NAME,
            None,
            format!("expected an object, got {}", kind(root)),
        )
    })?;
    let attrs = map.get("@attributes").and_then(Value::as_object);
    let next = attrs
        .and_then(|a| a.get("next"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let count = attrs
        .and_then(|a| a.get("count"))
        .and_then(parse_int)
        .and_then(|c| u64::try_from(c).ok());
    let raw = match map.get(T::NAME) {
        None => {
            // Quirk: an empty result has only "@attributes".
            if attrs.is_none() {
                return Err(ParseError::new(
                    T::NAME,
                    None,
                    "neither entities nor @attributes in the answer",
                ));
            }
            Vec::new()
        }
        Some(v) => one_or_many(Some(v))
            .map_err(|k| ParseError::new(T::NAME, None, format!("expected objects, got {k}")))?,
    };
    let items = raw
        .into_iter()
        .map(T::from_value)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page { items, next, count })
}

/// Reads a single-entity answer `{"Account": {…}}` (one object or a list
/// of one).
pub fn parse_single<T: Resource>(body: &str) -> Result<Vec<T>, ParseError> {
    Ok(parse_page::<T>(body)?.items)
}

fn with_id(mut e: ParseError, id: &str) -> ParseError {
    e.id = Some(id.to_string());
    e
}
