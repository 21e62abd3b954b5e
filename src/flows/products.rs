//! Publish: POS items → WooCommerce listings (issue 6, the POS half).
//!
//! - [`plan_listing`] (pure) turns one simple item, or one matrix with its
//!   variant items, plus the categories and attribute set they reference,
//!   into a [`Listing`]: everything PHP needs to create or update one
//!   WooCommerce product, with a content `fingerprint` and per-field
//!   `fingerprints` so PHP writes only what changed.
//! - [`run_publish`] reads the Items and ItemMatrices changed since the
//!   publish cursor (oldest first, equal timestamps handled as in
//!   `sync::stock`), loads what they reference (cached within the run) and
//!   emits one `product` event per listing, each carrying the cursor PHP
//!   stores in the same transaction.
//!
//! Nothing is ever deleted: an item that is archived or no longer selected
//! by the publish rule comes as a listing with `visibility: "hidden"`.

use crate::edge::transport::{Clock, Transport};
use crate::edge::Host;
use crate::flows::listing_price::{self, prices};
pub use crate::flows::publish::html::sanitize_html;
use crate::flows::stamp::{self, NextRead, Scan, Stamps};
use crate::flows::stock::{self, ItemStock, StockSettings};
use crate::pos::lightspeed_r::model::{
    parse_timestamp_ms, read_ecommerce, read_prices, Category, Fields, Image, Item,
    ItemAttributeSet, ItemEcommerce, ItemPrice, ParseError, Resource,
};
use crate::pos::lightspeed_r::session::{ApiError, Session};
use crate::pos::lightspeed_r::{self as ls, ApiRequest};
use crate::protocol::{Event, LogLevel, Settings};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

pub use crate::protocol::{
    DimensionUnit, Dimensions, Listing, ListingAttribute, ListingImage, PassProgress, PlanSettings,
    PriceLevel, PublishConfig, PublishCursor, PublishRule, Replan, StampCursor, Units, Variation,
    WeightUnit, WooField,
};

// ---------------------------------------------------------------------------
// What the POS says (parsed from Item / ItemMatrix answers)

/// One Item with what the Item model leaves out: its tag names and a
/// version (hash of the row without stock) for the same-second cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PosItem {
    pub item: Item,
    pub tags: Vec<String>,
    pub version: String,
}

impl PosItem {
    pub fn from_value(v: &Value) -> Result<Self, ParseError> {
        let item = Item::from_value(v)?;
        let tags = tag_names(v, "Item", "itemID")?;
        Ok(PosItem {
            item,
            tags,
            version: row_version(v),
        })
    }
}

/// One ItemMatrix: the shared part of a variable product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PosMatrix {
    pub item_matrix_id: String,
    pub description: String,
    pub item_attribute_set_id: Option<String>,
    pub category_id: Option<String>,
    pub archived: bool,
    pub time_stamp: String,
    pub prices: Vec<ItemPrice>,
    pub ecommerce: Option<ItemEcommerce>,
    pub images: Vec<Image>,
    pub taxable: bool,
    pub tax_class_id: Option<String>,
    pub version: String,
}

impl PosMatrix {
    pub fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, "ItemMatrix", "itemMatrixID")?;
        let id = f.required_id("itemMatrixID")?;
        let with_id = |mut e: ParseError| {
            e.id = Some(id.clone());
            e
        };
        let prices = read_prices(&f, "ItemMatrix").map_err(with_id)?;
        let ecommerce = read_ecommerce(&f, "ItemMatrix").map_err(with_id)?;
        let images = f
            .nested("Images", "Image")?
            .into_iter()
            .map(Image::from_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ParseError::new("ItemMatrix", Some(id.clone()), e.to_string()))?;
        Ok(PosMatrix {
            description: f.text("description")?,
            item_attribute_set_id: f.foreign_key("itemAttributeSetID")?,
            category_id: f.foreign_key("categoryID")?,
            archived: f.bool("archived")?,
            time_stamp: f.text("timeStamp")?,
            prices,
            ecommerce,
            images,
            taxable: f.bool_or("tax", true)?,
            tax_class_id: f.foreign_key("taxClassID")?,
            version: row_version(v),
            item_matrix_id: id,
        })
    }
}

/// Tag names from `TagRelations.TagRelation[].Tag.name` (loaded with
/// `load_relations=["TagRelations.Tag"]`).
fn tag_names(v: &Value, resource: &'static str, id_field: &str) -> Result<Vec<String>, ParseError> {
    let f = Fields::new(v, resource, id_field)?;
    let mut names = Vec::new();
    for rel in f.nested("TagRelations", "TagRelation")? {
        let rf = Fields::new(rel, resource, "__none")?;
        if let Some(tag) = rf.relation("Tag")? {
            let name = Fields::new(tag, resource, "__none")?.text("name")?;
            if !name.trim().is_empty() {
                names.push(name.trim().to_string());
            }
        }
    }
    Ok(names)
}

/// A hash of a row's content without its stock rows (an Item's timeStamp
/// does not move with stock, so stock must not make it look changed).
fn row_version(v: &Value) -> String {
    let mut v = v.clone();
    if let Value::Object(m) = &mut v {
        m.remove("ItemShops");
    }
    fingerprint_of(&v)
}

// ---------------------------------------------------------------------------
// Categories

/// Categories by id, with their paths from the root.
#[derive(Clone, Debug, Default)]
pub struct CategoryIndex {
    by_id: BTreeMap<String, Category>,
}

impl CategoryIndex {
    pub fn new(categories: impl IntoIterator<Item = Category>) -> Self {
        let mut idx = CategoryIndex::default();
        idx.extend(categories);
        idx
    }

    pub fn extend(&mut self, categories: impl IntoIterator<Item = Category>) {
        for c in categories {
            self.by_id.insert(c.category_id.clone(), c);
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// The category and its ancestors, nearest first, as far as known.
    pub fn chain(&self, id: &str) -> Vec<&Category> {
        let mut out: Vec<&Category> = Vec::new();
        let mut next = Some(id.to_string());
        while let Some(cur) = next {
            // A cycle or a very deep tree must not hang the run.
            if out.len() > 64 || out.iter().any(|c| c.category_id == cur) {
                break;
            }
            match self.by_id.get(&cur) {
                Some(c) => {
                    next = c.parent_id.clone();
                    out.push(c);
                }
                None => break,
            }
        }
        out
    }

    /// Parent ids referenced but not loaded yet.
    pub fn missing_parents(&self) -> Vec<String> {
        let mut missing: BTreeSet<String> = BTreeSet::new();
        for c in self.by_id.values() {
            if let Some(p) = &c.parent_id {
                if !self.by_id.contains_key(p) {
                    missing.insert(p.clone());
                }
            }
        }
        missing.into_iter().collect()
    }

    /// `["Apparel","T-Shirts"]`: names from the root. Falls back on
    /// `fullPathName` when an ancestor is not known.
    pub fn path(&self, id: &str) -> Option<Vec<String>> {
        let chain = self.chain(id);
        let first = chain.first()?;
        let complete = chain.last().is_some_and(|c| c.parent_id.is_none());
        if complete {
            Some(
                chain
                    .iter()
                    .rev()
                    .map(|c| c.name.trim().to_string())
                    .collect(),
            )
        } else if !first.full_path_name.trim().is_empty() {
            Some(
                first
                    .full_path_name
                    .split('/')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            )
        } else {
            Some(vec![first.name.trim().to_string()])
        }
    }

    /// Is `id` one of `selected` or below one of them?
    pub fn within(&self, id: &str, selected: &[String]) -> bool {
        if selected.iter().any(|s| s == id) {
            return true;
        }
        self.chain(id)
            .iter()
            .any(|c| selected.contains(&c.category_id))
    }
}

/// What one listing is made of.
#[derive(Clone, Copy, Debug)]
pub enum ListingSource<'a> {
    Simple(&'a PosItem),
    Matrix(&'a PosMatrix, &'a [PosItem]),
}

// ---------------------------------------------------------------------------
// The planner (pure)

/// One listing from POS data. Pure: no I/O, no clock.
pub fn plan_listing(
    source: ListingSource<'_>,
    categories: &CategoryIndex,
    attribute_set: Option<&ItemAttributeSet>,
    settings: &PlanSettings,
) -> Listing {
    match source {
        ListingSource::Simple(item) => plan_simple(item, categories, settings),
        ListingSource::Matrix(matrix, variants) => {
            plan_matrix(matrix, variants, categories, attribute_set, settings)
        }
    }
}

fn plan_simple(pos: &PosItem, categories: &CategoryIndex, settings: &PlanSettings) -> Listing {
    let item = &pos.item;
    let p = &settings.publish;
    let eco = item.ecommerce.clone().unwrap_or_default();
    let (regular, sale) = prices(&item.prices, p);
    let (weight, dimensions) = physical(Some(&eco), None, p);
    let selected = selected_simple(pos, categories, &p.publish_rule);
    let (visibility, reason) = listing_price::unless_priceless(
        visibility(item.archived, selected),
        listing_price::sellable(regular.as_deref(), p),
    );
    let base = base_of(item, &settings.stock);
    let mut images: Vec<&Image> = item.images.iter().collect();
    sort_images(&mut images);
    let name = item.description.trim().to_string();
    let images: Vec<ListingImage> = images.iter().map(|i| listing_image(i, &name)).collect();
    let mut listing = Listing {
        key: format!("item:{}", item.item_id),
        product_type: "simple".into(),
        item_id: Some(item.item_id.clone()),
        matrix_id: None,
        description: sanitize_html(&eco.long_description),
        short_description: sanitize_html(&eco.short_description),
        sku: item.sku().to_string(),
        regular_price: regular,
        sale_price: sale,
        weight,
        dimensions,
        tax_status: tax_status(item.taxable),
        tax_class: tax_class(item.tax_class_id.as_deref(), p),
        categories: item
            .category_id
            .as_deref()
            .and_then(|c| categories.path(c))
            .into_iter()
            .collect(),
        images,
        visibility,
        hidden_reason: reason,
        pos_timestamp: item.time_stamp.clone(),
        base: Some(base),
        attributes: Vec::new(),
        variations: Vec::new(),
        owned_by_woo: owned(p),
        fingerprint: String::new(),
        fingerprints: BTreeMap::new(),
        name,
    };
    seal(&mut listing);
    listing
}

fn plan_matrix(
    matrix: &PosMatrix,
    variants: &[PosItem],
    categories: &CategoryIndex,
    attribute_set: Option<&ItemAttributeSet>,
    settings: &PlanSettings,
) -> Listing {
    let p = &settings.publish;
    let name = matrix.description.trim().to_string();
    let mut variants: Vec<&PosItem> = variants.iter().collect();
    variants.sort_by(|a, b| cmp_ids(&a.item.item_id, &b.item.item_id));

    // Attribute names from the set (Size, Colour …); without a set, generic.
    let names: Vec<String> = (0..3)
        .map(|i| {
            attribute_set
                .and_then(|s| s.attribute_names.get(i))
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("Attribute {}", i + 1))
        })
        .collect();
    let values_of = |v: &PosItem| -> Vec<(String, String)> {
        let a = v.item.attributes.clone().unwrap_or_default();
        [a.attribute1, a.attribute2, a.attribute3]
            .into_iter()
            .enumerate()
            .filter(|(_, val)| !val.trim().is_empty())
            .map(|(i, val)| (names[i].clone(), val.trim().to_string()))
            .collect()
    };
    let mut attributes: Vec<ListingAttribute> = Vec::new();
    for v in &variants {
        for (n, val) in values_of(v) {
            match attributes.iter_mut().find(|a| a.name == n) {
                Some(a) => {
                    if !a.options.contains(&val) {
                        a.options.push(val)
                    }
                }
                None => attributes.push(ListingAttribute {
                    name: n,
                    options: vec![val],
                }),
            }
        }
    }
    // Keep the set's order (Size before Colour), not first-seen order.
    attributes.sort_by_key(|a| names.iter().position(|n| *n == a.name).unwrap_or(9));

    let ecom_rule = matches!(p.publish_rule, PublishRule::EcomFlag);
    let matrix_class = tax_class(matrix.tax_class_id.as_deref(), p);
    let variations: Vec<Variation> = variants
        .iter()
        .map(|v| {
            let item = &v.item;
            let (regular, sale) = prices(&item.prices, p);
            let (weight, dimensions) =
                physical(item.ecommerce.as_ref(), matrix.ecommerce.as_ref(), p);
            let mut imgs: Vec<&Image> = item.images.iter().collect();
            sort_images(&mut imgs);
            let image = imgs.first().map(|i| listing_image(i, &item.description));
            // A variant without a price is disabled; its siblings stay on sale.
            let enabled = !item.archived
                && !matrix.archived
                && (!ecom_rule || item.publish_to_ecom)
                && listing_price::sellable(regular.as_deref(), p);
            // A variant in another class than its matrix keeps its own.
            let own_class = tax_class(item.tax_class_id.as_deref(), p);
            let tax_class = if item.tax_class_id.is_none() || own_class == matrix_class {
                "parent".to_string()
            } else {
                own_class
            };
            let mut var = Variation {
                item_id: item.item_id.clone(),
                sku: item.sku().to_string(),
                attributes: values_of(v).into_iter().collect(),
                regular_price: regular,
                sale_price: sale,
                weight,
                dimensions,
                image,
                tax_class,
                base: base_of(item, &settings.stock),
                enabled,
                pos_timestamp: item.time_stamp.clone(),
                fingerprint: String::new(),
                fingerprints: BTreeMap::new(),
            };
            seal_variation(&mut var);
            var
        })
        .collect();

    let selected = selected_matrix(matrix, &variants, categories, &p.publish_rule);
    let all_archived = !variants.is_empty() && variants.iter().all(|v| v.item.archived);
    let (visibility, reason) = if variants.is_empty() && !matrix.archived {
        // Nothing to sell: a variable product without variations stays hidden.
        ("hidden".to_string(), Some("no_variants".to_string()))
    } else {
        // Every variant disabled, none for archiving or the rule: none has a price.
        listing_price::unless_priceless(
            visibility(matrix.archived || all_archived, selected),
            variations.iter().any(|v| v.enabled),
        )
    };

    // The matrix's own images; without any, the first variation image.
    let mut own: Vec<&Image> = matrix.images.iter().collect();
    sort_images(&mut own);
    let mut images: Vec<ListingImage> = own.iter().map(|i| listing_image(i, &name)).collect();
    if images.is_empty() {
        if let Some(img) = variations.iter().find_map(|v| v.image.clone()) {
            images.push(img);
        }
    }
    let eco = matrix.ecommerce.clone().unwrap_or_default();
    let (weight, dimensions) = physical(matrix.ecommerce.as_ref(), None, p);
    let category = matrix
        .category_id
        .clone()
        .or_else(|| variants.iter().find_map(|v| v.item.category_id.clone()));
    // Newest of the matrix and its variants.
    let pos_timestamp = std::iter::once(&matrix.time_stamp)
        .chain(variants.iter().map(|v| &v.item.time_stamp))
        .max_by_key(|t| parse_timestamp_ms(t).unwrap_or(i64::MIN))
        .cloned()
        .unwrap_or_default();
    let mut listing = Listing {
        key: format!("matrix:{}", matrix.item_matrix_id),
        product_type: "variable".into(),
        item_id: None,
        matrix_id: Some(matrix.item_matrix_id.clone()),
        description: sanitize_html(&eco.long_description),
        short_description: sanitize_html(&eco.short_description),
        // A variable product's own SKU: none in the POS; PHP leaves it empty.
        sku: String::new(),
        regular_price: None,
        sale_price: None,
        weight,
        dimensions,
        tax_status: tax_status(matrix.taxable),
        tax_class: matrix_class,
        categories: category
            .as_deref()
            .and_then(|c| categories.path(c))
            .into_iter()
            .collect(),
        images,
        visibility,
        hidden_reason: reason,
        pos_timestamp,
        base: None,
        attributes,
        variations,
        owned_by_woo: owned(p),
        fingerprint: String::new(),
        fingerprints: BTreeMap::new(),
        name,
    };
    seal(&mut listing);
    listing
}

fn tax_status(taxable: bool) -> String {
    if taxable { "taxable" } else { "none" }.to_string()
}

/// The WooCommerce class of a POS tax class: the map's, else Standard.
fn tax_class(pos_class: Option<&str>, p: &PublishConfig) -> String {
    pos_class
        .and_then(|id| p.tax_classes.get(id.trim()))
        .map(|slug| slug.trim().to_string())
        .unwrap_or_default()
}

fn owned(p: &PublishConfig) -> Vec<WooField> {
    let set: BTreeSet<WooField> = p.owned_by_woo.iter().copied().collect();
    set.into_iter().collect()
}

fn visibility(archived: bool, selected: bool) -> (String, Option<String>) {
    if archived {
        ("hidden".into(), Some("archived".into()))
    } else if !selected {
        ("hidden".into(), Some("not_selected".into()))
    } else {
        ("publish".into(), None)
    }
}

fn selected_simple(pos: &PosItem, categories: &CategoryIndex, rule: &PublishRule) -> bool {
    let item = &pos.item;
    match rule {
        PublishRule::EcomFlag => item.publish_to_ecom,
        PublishRule::Category { ids } => item
            .category_id
            .as_deref()
            .is_some_and(|c| categories.within(c, ids)),
        PublishRule::Tag { names } => has_tag(&pos.tags, names),
        PublishRule::Manual { item_ids, .. } => item_ids.contains(&item.item_id),
    }
}

fn selected_matrix(
    matrix: &PosMatrix,
    variants: &[&PosItem],
    categories: &CategoryIndex,
    rule: &PublishRule,
) -> bool {
    let live = || variants.iter().filter(|v| !v.item.archived);
    match rule {
        // ItemMatrix has no publishToEcom of its own: any live variant.
        PublishRule::EcomFlag => live().any(|v| v.item.publish_to_ecom),
        PublishRule::Category { ids } => {
            matrix
                .category_id
                .as_deref()
                .is_some_and(|c| categories.within(c, ids))
                || live().any(|v| {
                    v.item
                        .category_id
                        .as_deref()
                        .is_some_and(|c| categories.within(c, ids))
                })
        }
        PublishRule::Tag { names } => live().any(|v| has_tag(&v.tags, names)),
        PublishRule::Manual {
            item_ids,
            matrix_ids,
        } => {
            matrix_ids.contains(&matrix.item_matrix_id)
                || variants.iter().any(|v| item_ids.contains(&v.item.item_id))
        }
    }
}

fn has_tag(tags: &[String], wanted: &[String]) -> bool {
    tags.iter().any(|t| {
        wanted
            .iter()
            .any(|w| w.trim().eq_ignore_ascii_case(t.trim()))
    })
}

fn base_of(item: &Item, stock_settings: &StockSettings) -> i64 {
    stock::plan(&[ItemStock::from_item(item)], stock_settings)
        .first()
        .map(|l| l.base)
        .unwrap_or(0)
}

/// Weight and dimensions in the store's units; 0 or unreadable = not set.
/// `fallback` (the matrix's ItemECommerce) fills what a variant lacks.
fn physical(
    own: Option<&ItemEcommerce>,
    fallback: Option<&ItemEcommerce>,
    p: &PublishConfig,
) -> (Option<String>, Dimensions) {
    let pick = |get: fn(&ItemEcommerce) -> &str| -> Option<f64> {
        own.and_then(|e| positive(get(e)))
            .or_else(|| fallback.and_then(|e| positive(get(e))))
    };
    let w_factor = p.pos_units.weight.grams() / p.units.weight.grams();
    let d_factor = p.pos_units.dimension.millimetres() / p.units.dimension.millimetres();
    let weight = pick(|e| &e.weight).map(|w| format_measure(w * w_factor));
    let dim = |get: fn(&ItemEcommerce) -> &str| pick(get).map(|d| format_measure(d * d_factor));
    (
        weight,
        Dimensions {
            length: dim(|e| &e.length),
            width: dim(|e| &e.width),
            height: dim(|e| &e.height),
        },
    )
}

fn positive(text: &str) -> Option<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
}

/// Up to 4 decimals, trailing zeros dropped: `0.4409`, `25`, `9.8425`.
pub fn format_measure(v: f64) -> String {
    let s = format!("{:.4}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// Converts a weight between units (exposed for tests and docs).
pub fn convert_weight(v: f64, from: WeightUnit, to: WeightUnit) -> f64 {
    v * from.grams() / to.grams()
}

/// Converts a length between units.
pub fn convert_dimension(v: f64, from: DimensionUnit, to: DimensionUnit) -> f64 {
    v * from.millimetres() / to.millimetres()
}

fn sort_images(images: &mut [&Image]) {
    images.sort_by(|a, b| {
        a.ordering
            .cmp(&b.ordering)
            .then_with(|| cmp_ids(&a.image_id, &b.image_id))
    });
}

fn listing_image(img: &Image, fallback_alt: &str) -> ListingImage {
    let content = format!("{}|{}", img.public_id.trim(), img.filename.trim());
    let key = format!("{}-{}", img.image_id, &fingerprint_of(&json!(content))[..8]);
    // Docs: {baseImageURL}{publicID}.{extension}; the extension from the
    // original filename, jpg when it has none.
    let ext = img
        .filename
        .rsplit_once('.')
        .map(|(_, e)| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty() && e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "jpg".into());
    let base = img.base_image_url.trim();
    let sep = if base.is_empty() || base.ends_with('/') {
        ""
    } else {
        "/"
    };
    let url = format!("{base}{sep}{}.{ext}", img.public_id.trim());
    let alt = if img.description.trim().is_empty() {
        fallback_alt.trim().to_string()
    } else {
        img.description.trim().to_string()
    };
    ListingImage {
        key,
        image_id: img.image_id.clone(),
        url,
        filename: img.filename.clone(),
        alt,
    }
}

/// Numeric ids compare as numbers ("9" < "10"), others as text.
fn cmp_ids(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

// ---------------------------------------------------------------------------
// Fingerprints

/// FNV-1a 64 of the canonical JSON (serde_json objects keep keys sorted),
/// as 16 hex digits. Stable across runs, platforms and WebAssembly.
pub fn fingerprint_of(v: &Value) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in v.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn image_print(i: &ListingImage) -> Value {
    json!([i.key, i.url, i.alt])
}

fn seal_variation(v: &mut Variation) {
    let mut f = BTreeMap::new();
    f.insert("sku".to_string(), fingerprint_of(&json!(v.sku)));
    f.insert(
        "attributes".to_string(),
        fingerprint_of(&json!(v.attributes)),
    );
    f.insert(
        "price".to_string(),
        fingerprint_of(&json!([v.regular_price, v.sale_price])),
    );
    f.insert(
        "dimensions".to_string(),
        fingerprint_of(&json!([v.weight, v.dimensions])),
    );
    f.insert(
        "image".to_string(),
        fingerprint_of(&json!(v.image.as_ref().map(image_print))),
    );
    f.insert("tax".to_string(), fingerprint_of(&json!(v.tax_class)));
    f.insert("stock".to_string(), fingerprint_of(&json!(v.base)));
    f.insert("enabled".to_string(), fingerprint_of(&json!(v.enabled)));
    v.fingerprint = fingerprint_of(&json!(f));
    v.fingerprints = f;
}

fn seal(l: &mut Listing) {
    let mut f = BTreeMap::new();
    f.insert("name".to_string(), fingerprint_of(&json!(l.name)));
    f.insert(
        "description".to_string(),
        fingerprint_of(&json!(l.description)),
    );
    f.insert(
        "short_description".to_string(),
        fingerprint_of(&json!(l.short_description)),
    );
    f.insert("sku".to_string(), fingerprint_of(&json!(l.sku)));
    f.insert(
        "price".to_string(),
        fingerprint_of(&json!([l.regular_price, l.sale_price])),
    );
    f.insert(
        "dimensions".to_string(),
        fingerprint_of(&json!([l.weight, l.dimensions])),
    );
    f.insert(
        "categories".to_string(),
        fingerprint_of(&json!(l.categories)),
    );
    f.insert(
        "images".to_string(),
        fingerprint_of(&Value::Array(l.images.iter().map(image_print).collect())),
    );
    f.insert(
        "visibility".to_string(),
        fingerprint_of(&json!([l.visibility, l.hidden_reason])),
    );
    f.insert(
        "tax".to_string(),
        fingerprint_of(&json!([l.tax_status, l.tax_class])),
    );
    if let Some(b) = l.base {
        f.insert("stock".to_string(), fingerprint_of(&json!(b)));
    }
    if l.product_type == "variable" {
        f.insert(
            "attributes".to_string(),
            fingerprint_of(&json!(l.attributes)),
        );
        let per: BTreeMap<&str, &str> = l
            .variations
            .iter()
            .map(|v| (v.item_id.as_str(), v.fingerprint.as_str()))
            .collect();
        f.insert("variations".to_string(), fingerprint_of(&json!(per)));
    }
    l.fingerprint = fingerprint_of(
        &json!({"key": l.key, "type": l.product_type, "fields": f, "owned": l.owned_by_woo}),
    );
    l.fingerprints = f;
}

// ---------------------------------------------------------------------------
// The incremental cursor (pure)

/// A publish cursor, read: the shared timestamp cursor with the row's
/// content hash as the version (`sync::stamp`).
pub type StampState = Stamps<String>;

impl Stamps<String> {
    pub fn from_cursor(c: Option<&StampCursor>, what: &str) -> Result<Self, String> {
        match c {
            None => Ok(Self::start()),
            Some(c) => Stamps::from_parts(
                &c.ts,
                &c.ids,
                |id| c.v.get(id).cloned(),
                &format!("cursors.publish.{what}"),
            ),
        }
    }

    pub fn to_cursor(&self) -> Option<StampCursor> {
        let (ts, ids, v) = self.parts()?;
        Some(StampCursor { ts, ids, v })
    }
}

/// One Item or ItemMatrix row of the read.
pub type StampRow<'a> = stamp::StampRow<'a, &'a str>;

/// The scan of `sync::stamp` for Items and ItemMatrices: a page older than
/// `settled_before_ms` is followed with `next`.
pub type StampScan = Scan<String>;

impl Scan<String> {
    pub fn on_page(
        &mut self,
        rows: &[StampRow<'_>],
        has_next: bool,
        settled_before_ms: i64,
        resource: &'static str,
    ) -> Result<(Vec<usize>, NextRead), ParseError> {
        self.on_rows(rows, has_next, settled_before_ms, resource)
    }
}

// ---------------------------------------------------------------------------
// Requests (built in the R-Series catalogue module)

pub use crate::pos::lightspeed_r::catalogue::{
    attribute_sets_by_id, categories_by_id, items_by_id, items_count_since, items_since,
    matrices_by_id, matrices_since, read_raw_page, variants_of, RawPage,
};

/// Rows older than this (host clock) are settled: see [`StampScan`].
pub const SETTLE_MS: i64 = 120_000;

// ---------------------------------------------------------------------------
// The run

type RunResult = Result<Value, (ApiError, Value)>;

/// What one run has loaded so far (cached within the run).
#[derive(Default)]
struct RunCache {
    categories: CategoryIndex,
    /// Category ids asked for and not found (not asked again).
    absent_categories: BTreeSet<String>,
    sets: BTreeMap<String, ItemAttributeSet>,
    absent_sets: BTreeSet<String>,
    /// Matrix id → version of the matrix row emitted in this run.
    emitted_matrices: BTreeMap<String, String>,
}

#[derive(Default)]
struct Counters {
    pages: u64,
    rows: u64,
    listings: u64,
    hidden: u64,
    replanned: u64,
}

impl Counters {
    fn summary(&self, done: bool) -> Value {
        json!({"pages": self.pages, "items": self.rows, "listings": self.listings, "hidden": self.hidden, "replanned": self.replanned, "done": done})
    }
}

/// Reads every page of a list request.
async fn fetch_all<T: Transport, C: Clock, H: Host>(
    session: &mut Session<'_, T, C, H>,
    first: ApiRequest,
    entity: &'static str,
) -> Result<Vec<Value>, ApiError> {
    let mut rows = Vec::new();
    let mut req = first;
    // More than 50 pages for one IN list means the answer is not what we
    // asked for; stop rather than loop.
    for _ in 0..50 {
        let resp = session.call(&req).await?;
        let page = read_raw_page(&resp.body, entity)?;
        let empty = page.rows.is_empty();
        rows.extend(page.rows);
        match page.next {
            Some(next) if !empty => req = session.endpoint.follow_next(&req, &next)?,
            _ => break,
        }
    }
    Ok(rows)
}

async fn ensure_categories<T: Transport, C: Clock, H: Host>(
    session: &mut Session<'_, T, C, H>,
    cache: &mut RunCache,
    wanted: impl IntoIterator<Item = String>,
) -> Result<(), ApiError> {
    let mut todo: Vec<String> = wanted
        .into_iter()
        .filter(|id| !cache.categories.contains(id) && !cache.absent_categories.contains(id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Parents up to the root, one level per round.
    for _ in 0..16 {
        if todo.is_empty() {
            return Ok(());
        }
        for chunk in todo.chunks(ls::MAX_PAGE) {
            let req = categories_by_id(&session.endpoint, chunk)?;
            let rows = fetch_all(session, req, "Category").await?;
            let found = rows
                .iter()
                .map(Category::from_value)
                .collect::<Result<Vec<_>, _>>()?;
            cache.categories.extend(found);
        }
        for id in &todo {
            if !cache.categories.contains(id) {
                cache.absent_categories.insert(id.clone());
            }
        }
        todo = cache
            .categories
            .missing_parents()
            .into_iter()
            .filter(|id| !cache.absent_categories.contains(id))
            .collect();
    }
    Ok(())
}

async fn ensure_sets<T: Transport, C: Clock, H: Host>(
    session: &mut Session<'_, T, C, H>,
    cache: &mut RunCache,
    wanted: impl IntoIterator<Item = String>,
) -> Result<(), ApiError> {
    let todo: Vec<String> = wanted
        .into_iter()
        .filter(|id| !cache.sets.contains_key(id) && !cache.absent_sets.contains(id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for chunk in todo.chunks(ls::MAX_PAGE) {
        let req = attribute_sets_by_id(&session.endpoint, chunk)?;
        for row in fetch_all(session, req, "ItemAttributeSet").await? {
            let set = ItemAttributeSet::from_value(&row)?;
            cache.sets.insert(set.item_attribute_set_id.clone(), set);
        }
    }
    for id in todo {
        if !cache.sets.contains_key(&id) {
            cache.absent_sets.insert(id);
        }
    }
    Ok(())
}

/// Loads the variants of `matrices` and plans one listing per matrix.
async fn plan_matrices<T: Transport, C: Clock, H: Host>(
    session: &mut Session<'_, T, C, H>,
    cache: &mut RunCache,
    matrices: Vec<PosMatrix>,
    settings: &PlanSettings,
) -> Result<Vec<Listing>, ApiError> {
    if matrices.is_empty() {
        return Ok(Vec::new());
    }
    let with_tags = matches!(settings.publish.publish_rule, PublishRule::Tag { .. });
    let ids: Vec<String> = matrices.iter().map(|m| m.item_matrix_id.clone()).collect();
    let mut variants: BTreeMap<String, Vec<PosItem>> = BTreeMap::new();
    for chunk in ids.chunks(ls::MAX_PAGE) {
        let req = variants_of(&session.endpoint, chunk, with_tags)?;
        for row in fetch_all(session, req, "Item").await? {
            let v = PosItem::from_value(&row)?;
            if let Some(m) = v.item.item_matrix_id.clone() {
                variants.entry(m).or_default().push(v);
            }
        }
    }
    let mut cat_ids: Vec<String> = matrices
        .iter()
        .filter_map(|m| m.category_id.clone())
        .collect();
    cat_ids.extend(
        variants
            .values()
            .flatten()
            .filter_map(|v| v.item.category_id.clone()),
    );
    ensure_categories(session, cache, cat_ids).await?;
    let set_ids: Vec<String> = matrices
        .iter()
        .filter_map(|m| {
            m.item_attribute_set_id.clone().or_else(|| {
                variants
                    .get(&m.item_matrix_id)?
                    .iter()
                    .find_map(|v| v.item.attributes.as_ref()?.item_attribute_set_id.clone())
            })
        })
        .collect();
    ensure_sets(session, cache, set_ids.clone()).await?;
    let mut out = Vec::new();
    for m in &matrices {
        let vs = variants.remove(&m.item_matrix_id).unwrap_or_default();
        let set_id = m.item_attribute_set_id.clone().or_else(|| {
            vs.iter()
                .find_map(|v| v.item.attributes.as_ref()?.item_attribute_set_id.clone())
        });
        let set = set_id.as_deref().and_then(|s| cache.sets.get(s));
        out.push(plan_listing(
            ListingSource::Matrix(m, &vs),
            &cache.categories,
            set,
            settings,
        ));
        cache
            .emitted_matrices
            .insert(m.item_matrix_id.clone(), m.version.clone());
    }
    Ok(out)
}

/// Emits the listings of one page: every one but the last carries the
/// cursor from before the page (a replay re-sends unchanged listings,
/// which PHP skips by fingerprint), the last the cursor after it.
fn emit_page<H: Host>(
    out: &crate::edge::RedactingEmitter<'_, H>,
    listings: Vec<Listing>,
    before: &PublishCursor,
    after: &PublishCursor,
    counters: &mut Counters,
) {
    let n = listings.len();
    if n == 0 {
        if before != after {
            out.emit(Event::Cursor {
                flow: "publish".into(),
                cursor: json!(after),
            });
        }
        return;
    }
    for (i, l) in listings.into_iter().enumerate() {
        counters.listings += 1;
        if l.visibility == "hidden" {
            counters.hidden += 1;
        }
        let cursor = if i + 1 == n { after } else { before };
        out.emit(Event::Product {
            product: Box::new(l),
            cursor: Some(json!(cursor)),
        });
    }
}
/// Plans the listings of `replan` (simple items, and the matrices of the
/// variants and matrices named) and emits them without a cursor, then a
/// `publish_replan` cursor event saying they are all done.
async fn run_replan<T: Transport, C: Clock, H: Host>(
    session: &mut Session<'_, T, C, H>,
    cache: &mut RunCache,
    replan: &Replan,
    plan_settings: &PlanSettings,
    counters: &mut Counters,
) -> Result<(), ApiError> {
    let with_tags = matches!(plan_settings.publish.publish_rule, PublishRule::Tag { .. });
    let mut matrix_ids: Vec<String> = Vec::new();
    let mut listings: Vec<Listing> = Vec::new();
    let mut found: BTreeSet<String> = BTreeSet::new();
    for chunk in replan.item_ids.chunks(ls::MAX_PAGE) {
        let req = items_by_id(&session.endpoint, chunk, with_tags)?;
        let items = fetch_all(session, req, "Item")
            .await?
            .iter()
            .map(PosItem::from_value)
            .collect::<Result<Vec<_>, _>>()?;
        ensure_categories(
            session,
            cache,
            items.iter().filter_map(|p| p.item.category_id.clone()),
        )
        .await?;
        for p in &items {
            found.insert(p.item.item_id.clone());
            match &p.item.item_matrix_id {
                Some(m) => {
                    if !matrix_ids.contains(m) {
                        matrix_ids.push(m.clone());
                    }
                }
                None => listings.push(plan_listing(
                    ListingSource::Simple(p),
                    &cache.categories,
                    None,
                    plan_settings,
                )),
            }
        }
    }
    for id in &replan.matrix_ids {
        if !matrix_ids.contains(id) {
            matrix_ids.push(id.clone());
        }
    }
    let mut matrices: Vec<PosMatrix> = Vec::new();
    for chunk in matrix_ids.chunks(ls::MAX_PAGE) {
        let req = matrices_by_id(&session.endpoint, chunk)?;
        for row in fetch_all(session, req, "ItemMatrix").await? {
            let m = PosMatrix::from_value(&row)?;
            found.insert(format!("matrix:{}", m.item_matrix_id));
            matrices.push(m);
        }
    }
    listings.extend(plan_matrices(session, cache, matrices, plan_settings).await?);
    let missing: Vec<String> = replan
        .item_ids
        .iter()
        .filter(|id| !found.contains(*id))
        .cloned()
        .chain(
            replan
                .matrix_ids
                .iter()
                .filter(|id| !found.contains(&format!("matrix:{id}")))
                .map(|id| format!("matrix:{id}")),
        )
        .collect();
    if !missing.is_empty() {
        session.out().log(
            LogLevel::Warning,
            format!(
                "POS items chosen by hand that the POS does not have: {}; nothing to publish for them",
                missing.join(", ")
            ),
        );
    }
    for l in listings {
        counters.listings += 1;
        counters.replanned += 1;
        if l.visibility == "hidden" {
            counters.hidden += 1;
        }
        session.out().emit(Event::Product {
            product: Box::new(l),
            cursor: None,
        });
    }
    session.out().emit(Event::Cursor {
        flow: "publish_replan".into(),
        cursor: json!({"item_ids": replan.item_ids, "matrix_ids": replan.matrix_ids}),
    });
    Ok(())
}

pub async fn run_publish<T: Transport, C: Clock, H: Host>(
    session: &mut Session<'_, T, C, H>,
    settings: &Settings,
    cursor: Option<PublishCursor>,
    replan: &Replan,
) -> RunResult {
    let plan_settings = PlanSettings::from(settings);
    let with_tags = matches!(plan_settings.publish.publish_rule, PublishRule::Tag { .. });
    let mut cur = cursor.unwrap_or_default();
    let mut counters = Counters::default();
    let mut cache = RunCache::default();
    let bad_cursor = |m: String| {
        (
            ApiError::Malformed(ParseError::new("cursor", None, m)),
            json!({}),
        )
    };
    let item_state = StampState::from_cursor(cur.item.as_ref(), "item").map_err(bad_cursor)?;
    let matrix_state =
        StampState::from_cursor(cur.matrix.as_ref(), "matrix").map_err(bad_cursor)?;

    macro_rules! tri {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(e) => {
                    let e: ApiError = e.into();
                    return match e {
                        ApiError::BudgetSpent => Ok(counters.summary(false)),
                        e => Err((e, counters.summary(false))),
                    };
                }
            }
        };
    }

    // Phase 0: listings the merchant asked to plan again.
    if !replan.is_empty() {
        tri!(run_replan(session, &mut cache, replan, &plan_settings, &mut counters).await);
    }

    // Phase 1: Items (simple items, and the matrices of changed variants).
    let mut scan = StampScan::new(item_state);
    let mut req = items_since(&session.endpoint, scan.state.since(), with_tags);
    loop {
        let resp = tri!(session.call(&req).await);
        let page = tri!(read_raw_page(&resp.body, "Item"));
        let items: Vec<PosItem> = tri!(page
            .rows
            .iter()
            .map(PosItem::from_value)
            .collect::<Result<Vec<_>, _>>());
        if cur.pass.is_none() {
            let total = if page.next.is_some() {
                let count = tri!(
                    session
                        .call(&items_count_since(&session.endpoint, scan.state.since()))
                        .await
                );
                tri!(read_raw_page(&count.body, "Item")).count
            } else {
                Some(items.len() as u64)
            };
            cur.pass = Some(PassProgress { done: 0, total });
        }
        let settled_before = session.now_ms() as i64 - SETTLE_MS;
        let rows: Vec<StampRow<'_>> = items
            .iter()
            .map(|p| StampRow {
                id: &p.item.item_id,
                ts: &p.item.time_stamp,
                version: &p.version,
            })
            .collect();
        let before = cur.clone();
        let (admitted, next_read) =
            tri!(scan.on_page(&rows, page.next.is_some(), settled_before, "Item"));
        let admitted: Vec<&PosItem> = admitted.iter().map(|&i| &items[i]).collect();

        let simple: Vec<&PosItem> = admitted
            .iter()
            .copied()
            .filter(|p| p.item.item_matrix_id.is_none())
            .collect();
        let mut matrix_ids: Vec<String> = Vec::new();
        for p in &admitted {
            if let Some(m) = &p.item.item_matrix_id {
                if !matrix_ids.contains(m) {
                    matrix_ids.push(m.clone());
                }
            }
        }
        tri!(
            ensure_categories(
                session,
                &mut cache,
                simple.iter().filter_map(|p| p.item.category_id.clone())
            )
            .await
        );
        let mut listings: Vec<Listing> = simple
            .iter()
            .map(|p| {
                plan_listing(
                    ListingSource::Simple(p),
                    &cache.categories,
                    None,
                    &plan_settings,
                )
            })
            .collect();
        let mut matrices: Vec<PosMatrix> = Vec::new();
        for chunk in matrix_ids.chunks(ls::MAX_PAGE) {
            let req = tri!(matrices_by_id(&session.endpoint, chunk));
            for row in tri!(fetch_all(session, req, "ItemMatrix").await) {
                matrices.push(tri!(PosMatrix::from_value(&row)));
            }
        }
        let missing: Vec<&String> = matrix_ids
            .iter()
            .filter(|id| !matrices.iter().any(|m| &m.item_matrix_id == *id))
            .collect();
        if !missing.is_empty() {
            session.out().log(
                LogLevel::Warning,
                format!(
                    "variant items refer to matrix {} which the POS did not return; skipped",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        listings.extend(tri!(
            plan_matrices(session, &mut cache, matrices, &plan_settings).await
        ));

        counters.pages += 1;
        counters.rows += admitted.len() as u64;
        cur.item = scan.state.to_cursor();
        if let Some(p) = cur.pass.as_mut() {
            p.done += admitted.len() as u64;
        }
        emit_page(session.out(), listings, &before, &cur, &mut counters);
        let (done, total) = cur
            .pass
            .as_ref()
            .map(|p| (p.done, p.total))
            .unwrap_or((0, None));
        session.out().emit(Event::Progress {
            flow: "publish".into(),
            done,
            total: total.map(|t| t.max(done)),
        });
        req = match (next_read, page.next) {
            (NextRead::Done, _) => break,
            (NextRead::Follow, Some(next)) => {
                tri!(session.endpoint.follow_next(&req, &next))
            }
            _ => items_since(&session.endpoint, scan.state.since(), with_tags),
        };
    }

    // Phase 2: ItemMatrices changed themselves (name, descriptions, images).
    let mut scan = StampScan::new(matrix_state);
    let mut req = matrices_since(&session.endpoint, scan.state.since());
    loop {
        let resp = tri!(session.call(&req).await);
        let page = tri!(read_raw_page(&resp.body, "ItemMatrix"));
        let matrices: Vec<PosMatrix> = tri!(page
            .rows
            .iter()
            .map(PosMatrix::from_value)
            .collect::<Result<Vec<_>, _>>());
        let settled_before = session.now_ms() as i64 - SETTLE_MS;
        let rows: Vec<StampRow<'_>> = matrices
            .iter()
            .map(|m| StampRow {
                id: &m.item_matrix_id,
                ts: &m.time_stamp,
                version: &m.version,
            })
            .collect();
        let before = cur.clone();
        let (admitted, next_read) =
            tri!(scan.on_page(&rows, page.next.is_some(), settled_before, "ItemMatrix"));
        // Already planned in this run from the same matrix row: skip.
        let todo: Vec<PosMatrix> = admitted
            .iter()
            .map(|&i| matrices[i].clone())
            .filter(|m| cache.emitted_matrices.get(&m.item_matrix_id) != Some(&m.version))
            .collect();
        let listings = tri!(plan_matrices(session, &mut cache, todo, &plan_settings).await);
        counters.pages += 1;
        cur.matrix = scan.state.to_cursor();
        emit_page(session.out(), listings, &before, &cur, &mut counters);
        req = match (next_read, page.next) {
            (NextRead::Done, _) => break,
            (NextRead::Follow, Some(next)) => {
                tri!(session.endpoint.follow_next(&req, &next))
            }
            _ => matrices_since(&session.endpoint, scan.state.since()),
        };
    }

    // Caught up: the pass is over.
    if let Some(p) = cur.pass.take() {
        session.out().emit(Event::Progress {
            flow: "publish".into(),
            done: p.done,
            total: Some(p.done),
        });
    }
    session.out().emit(Event::Cursor {
        flow: "publish".into(),
        cursor: json!(cur),
    });
    Ok(counters.summary(true))
}
