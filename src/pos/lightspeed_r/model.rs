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

// ---------------------------------------------------------------------------
// Resources

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemPrice {
    pub amount: Money,
    pub use_type_id: Option<String>,
    pub use_type: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemShop {
    pub item_shop_id: String,
    pub item_id: String,
    /// `None` = shopID 0, the all-shops total row.
    pub shop_id: Option<String>,
    pub qoh: i64,
    pub sellable: Option<i64>,
    pub backorder: i64,
    pub reorder_point: i64,
    pub reorder_level: i64,
    pub time_stamp: String,
}

impl Resource for ItemShop {
    const NAME: &'static str = "ItemShop";
    const ID: &'static str = "itemShopID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        Ok(ItemShop {
            item_shop_id: f.required_id("itemShopID")?,
            item_id: f.required_id("itemID")?,
            shop_id: f.foreign_key("shopID")?,
            qoh: f.int("qoh")?,
            sellable: f.opt_int("sellable")?,
            backorder: f.int("backorder")?,
            reorder_point: f.int("reorderPoint")?,
            reorder_level: f.int("reorderLevel")?,
            time_stamp: f.text("timeStamp")?,
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemEcommerce {
    pub long_description: String,
    pub short_description: String,
    pub weight: String,
    pub width: String,
    pub height: String,
    pub length: String,
    pub list_on_store: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub image_id: String,
    pub description: String,
    pub filename: String,
    pub ordering: i64,
    pub public_id: String,
    pub base_image_url: String,
    pub item_id: Option<String>,
    pub item_matrix_id: Option<String>,
}

impl Resource for Image {
    const NAME: &'static str = "Image";
    const ID: &'static str = "imageID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        Ok(Image {
            image_id: f.required_id("imageID")?,
            description: f.text("description")?,
            filename: f.text("filename")?,
            ordering: f.int("ordering")?,
            public_id: f.text("publicID")?,
            base_image_url: f.text("baseImageURL")?,
            item_id: f.foreign_key("itemID")?,
            item_matrix_id: f.foreign_key("itemMatrixID")?,
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemAttributes {
    pub attribute1: String,
    pub attribute2: String,
    pub attribute3: String,
    pub item_attribute_set_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub item_id: String,
    pub system_sku: String,
    pub custom_sku: String,
    pub manufacturer_sku: String,
    pub upc: String,
    pub ean: String,
    pub description: String,
    pub default_cost: Money,
    pub archived: bool,
    pub item_type: String,
    pub publish_to_ecom: bool,
    /// `tax`: the item is taxed at all (true when the POS leaves it out).
    pub taxable: bool,
    /// `taxClassID` (`None` for `"0"`): the rate class, mapped to a
    /// WooCommerce tax class by a setting.
    pub tax_class_id: Option<String>,
    pub category_id: Option<String>,
    pub item_matrix_id: Option<String>,
    pub time_stamp: String,
    pub prices: Vec<ItemPrice>,
    /// Present only when loaded with `load_relations=["ItemShops"]`.
    pub item_shops: Vec<ItemShop>,
    pub ecommerce: Option<ItemEcommerce>,
    pub images: Vec<Image>,
    pub attributes: Option<ItemAttributes>,
}

impl Item {
    /// The SKU shown on the web: the merchant's custom SKU, else the
    /// system SKU Lightspeed always assigns.
    pub fn sku(&self) -> &str {
        let custom = self.custom_sku.trim();
        if custom.is_empty() {
            self.system_sku.trim()
        } else {
            custom
        }
    }

    pub fn price(&self, use_type: &str) -> Option<Money> {
        self.prices
            .iter()
            .find(|p| p.use_type.eq_ignore_ascii_case(use_type))
            .map(|p| p.amount)
    }
}

impl Resource for Item {
    const NAME: &'static str = "Item";
    const ID: &'static str = "itemID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        let item_id = f.required_id("itemID")?;
        let prices = read_prices(&f, Self::NAME).map_err(|e| with_id(e, &item_id))?;
        let item_shops = f
            .nested("ItemShops", "ItemShop")?
            .into_iter()
            .map(ItemShop::from_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ParseError::new("Item", Some(item_id.clone()), e.to_string()))?;
        let ecommerce = read_ecommerce(&f, Self::NAME).map_err(|e| with_id(e, &item_id))?;
        let images = f
            .nested("Images", "Image")?
            .into_iter()
            .map(Image::from_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ParseError::new("Item", Some(item_id.clone()), e.to_string()))?;
        let attributes = match f.relation("ItemAttributes")? {
            None => None,
            Some(a) => {
                let af = Fields::new(a, "Item", "__none").map_err(|e| with_id(e, &item_id))?;
                Some(ItemAttributes {
                    attribute1: af.text("attribute1")?,
                    attribute2: af.text("attribute2")?,
                    attribute3: af.text("attribute3")?,
                    item_attribute_set_id: af.foreign_key("itemAttributeSetID")?,
                })
            }
        };
        Ok(Item {
            system_sku: f.text("systemSku")?,
            custom_sku: f.text("customSku")?,
            manufacturer_sku: f.text("manufacturerSku")?,
            upc: f.text("upc")?,
            ean: f.text("ean")?,
            description: f.text("description")?,
            default_cost: f.money("defaultCost")?,
            archived: f.bool("archived")?,
            item_type: f.text("itemType")?,
            publish_to_ecom: f.bool("publishToEcom")?,
            taxable: f.bool_or("tax", true)?,
            tax_class_id: f.foreign_key("taxClassID")?,
            category_id: f.foreign_key("categoryID")?,
            item_matrix_id: f.foreign_key("itemMatrixID")?,
            time_stamp: f.text("timeStamp")?,
            prices,
            item_shops,
            ecommerce,
            images,
            attributes,
            item_id,
        })
    }
}

/// `Prices.ItemPrice[]` of an Item or ItemMatrix.
pub fn read_prices(f: &Fields<'_>, resource: &'static str) -> Result<Vec<ItemPrice>, ParseError> {
    f.nested("Prices", "ItemPrice")?
        .into_iter()
        .map(|p| {
            let pf = Fields::new(p, resource, "__none")?;
            Ok(ItemPrice {
                amount: pf.money("amount")?,
                use_type_id: pf.foreign_key("useTypeID")?,
                use_type: pf.text("useType")?,
            })
        })
        .collect()
}

/// The `ItemECommerce` relation of an Item or ItemMatrix, when loaded.
pub fn read_ecommerce(
    f: &Fields<'_>,
    resource: &'static str,
) -> Result<Option<ItemEcommerce>, ParseError> {
    let Some(e) = f.relation("ItemECommerce")? else {
        return Ok(None);
    };
    let ef = Fields::new(e, resource, "__none")?;
    Ok(Some(ItemEcommerce {
        long_description: ef.text("longDescription")?,
        short_description: ef.text("shortDescription")?,
        weight: ef.text("weight")?,
        width: ef.text("width")?,
        height: ef.text("height")?,
        length: ef.text("length")?,
        list_on_store: ef.bool("listOnStore")?,
    }))
}

fn with_id(mut e: ParseError, id: &str) -> ParseError {
    e.id = Some(id.to_string());
    e
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemMatrix {
    pub item_matrix_id: String,
    pub description: String,
    pub item_attribute_set_id: Option<String>,
    pub archived: bool,
    pub time_stamp: String,
}

impl Resource for ItemMatrix {
    const NAME: &'static str = "ItemMatrix";
    const ID: &'static str = "itemMatrixID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        Ok(ItemMatrix {
            item_matrix_id: f.required_id("itemMatrixID")?,
            description: f.text("description")?,
            item_attribute_set_id: f.foreign_key("itemAttributeSetID")?,
            archived: f.bool("archived")?,
            time_stamp: f.text("timeStamp")?,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemAttributeSet {
    pub item_attribute_set_id: String,
    pub name: String,
    /// attributeName1..3, empty names dropped at the end.
    pub attribute_names: Vec<String>,
}

impl Resource for ItemAttributeSet {
    const NAME: &'static str = "ItemAttributeSet";
    const ID: &'static str = "itemAttributeSetID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        let mut names = vec![
            f.text("attributeName1")?,
            f.text("attributeName2")?,
            f.text("attributeName3")?,
        ];
        while names.last().is_some_and(|n| n.trim().is_empty()) {
            names.pop();
        }
        Ok(ItemAttributeSet {
            item_attribute_set_id: f.required_id("itemAttributeSetID")?,
            name: f.text("name")?,
            attribute_names: names,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    pub category_id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub node_depth: i64,
    pub full_path_name: String,
    pub left_node: i64,
    pub right_node: i64,
    pub time_stamp: String,
}

impl Resource for Category {
    const NAME: &'static str = "Category";
    const ID: &'static str = "categoryID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        Ok(Category {
            category_id: f.required_id("categoryID")?,
            name: f.text("name")?,
            parent_id: f.foreign_key("parentID")?,
            node_depth: f.int("nodeDepth")?,
            full_path_name: f.text("fullPathName")?,
            left_node: f.int("leftNode")?,
            right_node: f.int("rightNode")?,
            time_stamp: f.text("timeStamp")?,
        })
    }
}

macro_rules! simple_named {
    ($ty:ident, $name:literal, $id:literal, $idf:ident) => {
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $ty {
            pub $idf: String,
            pub name: String,
            pub archived: bool,
        }

        impl Resource for $ty {
            const NAME: &'static str = $name;
            const ID: &'static str = $id;
            fn from_value(v: &Value) -> Result<Self, ParseError> {
                let f = Fields::new(v, Self::NAME, Self::ID)?;
                Ok($ty {
                    $idf: f.required_id($id)?,
                    name: f.text("name")?,
                    archived: f.bool("archived")?,
                })
            }
        }
    };
}

simple_named!(Shop, "Shop", "shopID", shop_id);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Register {
    pub register_id: String,
    pub name: String,
    pub shop_id: Option<String>,
    pub archived: bool,
}

impl Resource for Register {
    const NAME: &'static str = "Register";
    const ID: &'static str = "registerID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        Ok(Register {
            register_id: f.required_id("registerID")?,
            name: f.text("name")?,
            shop_id: f.foreign_key("shopID")?,
            archived: f.bool("archived")?,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Employee {
    pub employee_id: String,
    pub first_name: String,
    pub last_name: String,
    pub archived: bool,
}

impl Resource for Employee {
    const NAME: &'static str = "Employee";
    const ID: &'static str = "employeeID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        Ok(Employee {
            employee_id: f.required_id("employeeID")?,
            first_name: f.text("firstName")?,
            last_name: f.text("lastName")?,
            archived: f.bool("archived")?,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentType {
    pub payment_type_id: String,
    pub name: String,
    /// `code`, else the `type` (`cash`, `credit card`, `ecom` … for
    /// Lightspeed's reserved types, `user defined` for the merchant's own).
    pub code: String,
    pub archived: bool,
}

impl Resource for PaymentType {
    const NAME: &'static str = "PaymentType";
    const ID: &'static str = "paymentTypeID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        Ok(PaymentType {
            payment_type_id: f.required_id("paymentTypeID")?,
            name: f.text("name")?,
            code: match f.text("code")? {
                c if c.trim().is_empty() => f.text("type")?,
                c => c,
            },
            archived: f.bool("archived")?,
        })
    }
}

/// `TaxClass`: the rate class an item is in ("Item", "Labor" and the
/// merchant's own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxClass {
    pub tax_class_id: String,
    pub name: String,
    /// `item` or `workorder` (*unverified*); labour classes are not offered
    /// for products.
    pub class_type: String,
}

impl Resource for TaxClass {
    const NAME: &'static str = "TaxClass";
    const ID: &'static str = "taxClassID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        Ok(TaxClass {
            tax_class_id: f.required_id("taxClassID")?,
            name: f.text("name")?,
            class_type: f.text("classType")?,
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    pub address1: String,
    pub address2: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub country: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contact {
    /// (address, useType)
    pub emails: Vec<(String, String)>,
    /// (number, useType)
    pub phones: Vec<(String, String)>,
    pub addresses: Vec<Address>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Customer {
    pub customer_id: String,
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub archived: bool,
    pub contact: Option<Contact>,
}

impl Customer {
    pub fn primary_email(&self) -> Option<&str> {
        self.contact
            .as_ref()?
            .emails
            .first()
            .map(|(a, _)| a.as_str())
    }
}

impl Resource for Customer {
    const NAME: &'static str = "Customer";
    const ID: &'static str = "customerID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        let id = f.required_id("customerID")?;
        let contact = match f.relation("Contact")? {
            None => None,
            Some(c) => {
                let cf = Fields::new(c, "Customer", "__none").map_err(|e| with_id(e, &id))?;
                let pairs = |outer: &str,
                             inner: &str,
                             key: &str|
                 -> Result<Vec<(String, String)>, ParseError> {
                    cf.nested(outer, inner)?
                        .into_iter()
                        .map(|e| {
                            let ef = Fields::new(e, "Customer", "__none")?;
                            Ok((ef.text(key)?, ef.text("useType")?))
                        })
                        .collect()
                };
                let addresses = cf
                    .nested("Addresses", "ContactAddress")?
                    .into_iter()
                    .map(|a| {
                        let af = Fields::new(a, "Customer", "__none")?;
                        Ok(Address {
                            address1: af.text("address1")?,
                            address2: af.text("address2")?,
                            city: af.text("city")?,
                            state: af.text("state")?,
                            zip: af.text("zip")?,
                            country: af.text("country")?,
                        })
                    })
                    .collect::<Result<Vec<_>, ParseError>>()
                    .map_err(|e| with_id(e, &id))?;
                Some(Contact {
                    emails: pairs("Emails", "ContactEmail", "address")
                        .map_err(|e| with_id(e, &id))?,
                    phones: pairs("Phones", "ContactPhone", "number")
                        .map_err(|e| with_id(e, &id))?,
                    addresses,
                })
            }
        };
        Ok(Customer {
            first_name: f.text("firstName")?,
            last_name: f.text("lastName")?,
            company: f.text("company")?,
            archived: f.bool("archived")?,
            contact,
            customer_id: id,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleLine {
    pub sale_line_id: Option<String>,
    pub item_id: Option<String>,
    pub unit_quantity: i64,
    pub unit_price: Money,
    pub parent_sale_line_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SalePayment {
    pub sale_payment_id: Option<String>,
    pub amount: Money,
    pub payment_type_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sale {
    pub sale_id: String,
    pub completed: bool,
    pub voided: bool,
    pub reference_number: String,
    pub reference_number_source: String,
    pub customer_id: Option<String>,
    pub employee_id: Option<String>,
    pub register_id: Option<String>,
    pub shop_id: Option<String>,
    pub total: Money,
    /// `createTime` (empty when the answer has none: older answers).
    pub create_time: String,
    pub time_stamp: String,
    pub lines: Vec<SaleLine>,
    pub payments: Vec<SalePayment>,
}

impl Resource for Sale {
    const NAME: &'static str = "Sale";
    const ID: &'static str = "saleID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        let id = f.required_id("saleID")?;
        let lines = f
            .nested("SaleLines", "SaleLine")?
            .into_iter()
            .map(|l| {
                let lf = Fields::new(l, "Sale", "__none")?;
                Ok(SaleLine {
                    sale_line_id: lf.foreign_key("saleLineID")?,
                    item_id: lf.foreign_key("itemID")?,
                    unit_quantity: lf.int("unitQuantity")?,
                    unit_price: lf.money("unitPrice")?,
                    parent_sale_line_id: lf.foreign_key("parentSaleLineID")?,
                })
            })
            .collect::<Result<Vec<_>, ParseError>>()
            .map_err(|e| with_id(e, &id))?;
        let payments = f
            .nested("SalePayments", "SalePayment")?
            .into_iter()
            .map(|p| {
                let pf = Fields::new(p, "Sale", "__none")?;
                Ok(SalePayment {
                    sale_payment_id: pf.foreign_key("salePaymentID")?,
                    amount: pf.money("amount")?,
                    payment_type_id: pf.foreign_key("paymentTypeID")?,
                })
            })
            .collect::<Result<Vec<_>, ParseError>>()
            .map_err(|e| with_id(e, &id))?;
        Ok(Sale {
            completed: f.bool("completed")?,
            voided: f.bool("voided")?,
            reference_number: f.text("referenceNumber")?,
            reference_number_source: f.text("referenceNumberSource")?,
            customer_id: f.foreign_key("customerID")?,
            employee_id: f.foreign_key("employeeID")?,
            register_id: f.foreign_key("registerID")?,
            shop_id: f.foreign_key("shopID")?,
            total: f.money("calcTotal").or_else(|_| f.money("total"))?,
            create_time: f.text("createTime")?,
            time_stamp: f.text("timeStamp")?,
            lines,
            payments,
            sale_id: id,
        })
    }
}

impl Sale {
    /// Σ payments, exact.
    pub fn paid(&self) -> Money {
        self.payments.iter().map(|p| p.amount).sum()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub account_id: String,
    pub name: String,
}

impl Resource for Account {
    const NAME: &'static str = "Account";
    const ID: &'static str = "accountID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        Ok(Account {
            account_id: f.required_id("accountID")?,
            name: f.text("name")?,
        })
    }
}

// ---------------------------------------------------------------------------
// Timestamps

/// Parses `2016-11-10T13:51:54+00:00` (also `Z`, fractional seconds) into
/// milliseconds since the epoch, so cursors compare instants, not strings.
pub fn parse_timestamp_ms(ts: &str) -> Option<i64> {
    let t = ts.trim();
    let b = t.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(r)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d, h, mi, s) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &t[19..];
    let mut millis = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let digits = &frac[..n];
        let padded: String = digits.chars().chain("000".chars()).take(3).collect();
        millis = padded.parse().ok()?;
        rest = &frac[n..];
    }
    let offset_min = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let o = &rest[1..];
            let (oh, om) = match o.len() {
                5 if o.as_bytes()[2] == b':' => {
                    (o[0..2].parse::<i64>().ok()?, o[3..5].parse::<i64>().ok()?)
                }
                4 => (o[0..2].parse::<i64>().ok()?, o[2..4].parse::<i64>().ok()?),
                2 => (o.parse::<i64>().ok()?, 0),
                _ => return None,
            };
            sign * (oh * 60 + om)
        }
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset_min * 60;
    Some(secs * 1000 + millis)
}

// Howard Hinnant's days_from_civil.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Per-shop quantities of one item, as read from its ItemShops.
pub fn shop_quantities(item: &Item) -> BTreeMap<String, i64> {
    item.item_shops
        .iter()
        .map(|s| (s.shop_id.clone().unwrap_or_else(|| "0".to_string()), s.qoh))
        .collect()
}
