//! The job's `settings`: one flat object on the wire, one [`Settings`]
//! value here with a part per concern (connection, stock, publish, orders).

use super::lenient::{
    de_attempts, de_ids, de_int, de_opt_id, de_or_default, de_text, de_text_list,
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The job's `settings`: one flat object on the wire, read once into its
/// parts. The order part is read only for `post_orders` jobs (by
/// [`Job::from_value`](super::Job::from_value)), so a missing register does
/// not fail a stock job.
#[derive(Clone, Debug, Deserialize)]
pub struct Settings {
    /// `api_base`, `token_url`, `account_id`, `client_id`, `client_secret`.
    #[serde(flatten)]
    pub connection: Connection,
    /// `shop_ids`, `safety_buffer`.
    #[serde(flatten)]
    pub stock: StockSettings,
    /// `publish_rule`, `price_level`, `units` …
    #[serde(flatten)]
    pub publish: PublishSettings,
    /// `shop_id`, `register_id`, `employee_id`, `payment_types` … (only
    /// in `post_orders` jobs).
    #[serde(skip)]
    pub orders: Option<OrderSettings>,
}

/// Where the POS is and who we are to it.
#[derive(Clone, Deserialize)]
pub struct Connection {
    pub api_base: String,
    pub token_url: String,
    #[serde(deserialize_with = "de_text")]
    pub account_id: String,
    pub client_id: String,
    pub client_secret: String,
}

// Never print the secret.
impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("api_base", &self.api_base)
            .field("token_url", &self.token_url)
            .field("account_id", &self.account_id)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Which shops count and what the web keeps back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct StockSettings {
    /// Empty: every shop (the shopID 0 total row).
    #[serde(default, deserialize_with = "de_text_list")]
    pub shop_ids: Vec<String>,
    #[serde(default, deserialize_with = "de_int")]
    pub safety_buffer: i64,
}

impl From<&Settings> for StockSettings {
    fn from(s: &Settings) -> Self {
        s.stock.clone()
    }
}

// ---------------------------------------------------------------------------
// Publish

/// Which POS items become web listings (`settings.publish_rule`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum PublishRule {
    /// Lightspeed's own "publish to e-commerce" flag (`Item.publishToEcom`).
    #[default]
    EcomFlag,
    /// Items in these categories or any of their subcategories.
    Category {
        #[serde(default, deserialize_with = "de_ids")]
        ids: Vec<String>,
    },
    /// Items carrying any of these tags (case-insensitive).
    Tag {
        #[serde(default, deserialize_with = "de_ids")]
        names: Vec<String>,
    },
    /// Hand-picked item ids (a matrix is picked by any of its variant item
    /// ids or by its own id in `matrix_ids`).
    Manual {
        #[serde(default, deserialize_with = "de_ids")]
        item_ids: Vec<String>,
        #[serde(default, deserialize_with = "de_ids")]
        matrix_ids: Vec<String>,
    },
}

/// Which POS price level is the web's regular price.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceLevel {
    #[default]
    Default,
    /// The Online price level, falling back to Default when it is missing
    /// or 0 (as Lightspeed's own eCom does).
    Online,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightUnit {
    #[default]
    Kg,
    G,
    #[serde(alias = "lb")]
    Lbs,
    Oz,
}

impl WeightUnit {
    pub fn grams(self) -> f64 {
        match self {
            WeightUnit::Kg => 1000.0,
            WeightUnit::G => 1.0,
            WeightUnit::Lbs => 453.592_37,
            WeightUnit::Oz => 28.349_523_125,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DimensionUnit {
    #[default]
    Cm,
    M,
    Mm,
    In,
    Yd,
}

impl DimensionUnit {
    pub fn millimetres(self) -> f64 {
        match self {
            DimensionUnit::Cm => 10.0,
            DimensionUnit::M => 1000.0,
            DimensionUnit::Mm => 1.0,
            DimensionUnit::In => 25.4,
            DimensionUnit::Yd => 914.4,
        }
    }
}

/// Units of weight and dimensions (WooCommerce's `woocommerce_weight_unit`
/// and `woocommerce_dimension_unit` use the same names).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Units {
    #[serde(default, deserialize_with = "de_or_default")]
    pub weight: WeightUnit,
    #[serde(default, deserialize_with = "de_or_default")]
    pub dimension: DimensionUnit,
}

/// Fields the merchant may choose to own in WooCommerce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WooField {
    Name,
    Description,
    ShortDescription,
    Sku,
    Price,
    Dimensions,
    Categories,
    Images,
    Tax,
}

/// The publish part of the job's `settings`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct PublishSettings {
    #[serde(default, deserialize_with = "de_or_default")]
    pub publish_rule: PublishRule,
    #[serde(default, deserialize_with = "de_or_default")]
    pub price_level: PriceLevel,
    /// Name of the POS price level whose amount is the web sale price
    /// (default `Sale`, a price level the merchant adds in Lightspeed).
    #[serde(default, deserialize_with = "de_or_default")]
    pub sale_price_level: Option<String>,
    /// Name of the POS price level read when the chosen one has no price
    /// above 0 (e.g. `MSRP`); none: such a listing is hidden `no_price`.
    #[serde(default, deserialize_with = "de_or_default")]
    pub fallback_price_level: Option<String>,
    /// The store's units (WooCommerce settings).
    #[serde(default, deserialize_with = "de_or_default")]
    pub units: Units,
    /// The units the POS figures are typed in. Lightspeed does not document
    /// them (ItemECommerce weight/width/height/length are bare floats), so
    /// this is a setting; default kg and cm (*unverified*).
    #[serde(default, deserialize_with = "de_or_default")]
    pub pos_units: Units,
    /// Fields WooCommerce owns after the product exists: still sent (they
    /// fill a new product) and listed in the listing's `owned_by_woo`.
    #[serde(default, deserialize_with = "de_or_default")]
    pub owned_by_woo: Vec<WooField>,
    /// POS `taxClassID` → WooCommerce tax class slug (`""` is the Standard
    /// rate). A class not in the map is the Standard rate.
    #[serde(default, deserialize_with = "de_or_default")]
    pub tax_classes: BTreeMap<String, String>,
}

/// The old name of [`PublishSettings`] (kept until the flows say the new one).
pub type PublishConfig = PublishSettings;

/// The parts of [`Settings`] the listing planner depends on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlanSettings {
    pub publish: PublishSettings,
    pub stock: StockSettings,
}

impl From<&Settings> for PlanSettings {
    fn from(s: &Settings) -> Self {
        PlanSettings {
            publish: s.publish.clone(),
            stock: s.stock.clone(),
        }
    }
}

// ---------------------------------------------------------------------------
// Orders (post_orders jobs)

/// WooCommerce gateway id → POS paymentTypeID, with a `default`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaymentTypes {
    pub by_gateway: BTreeMap<String, String>,
    pub default: Option<String>,
}

impl<'de> Deserialize<'de> for PaymentTypes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut out = PaymentTypes::default();
        match Value::deserialize(d)? {
            Value::Null => {}
            Value::Object(m) => {
                for (k, v) in m {
                    let id = match v {
                        Value::String(s) => s.trim().to_string(),
                        Value::Number(n) => n.to_string(),
                        Value::Null => continue,
                        other => {
                            return Err(serde::de::Error::custom(format!(
                                "payment_types.{k}: expected a paymentTypeID, got {other}"
                            )))
                        }
                    };
                    if id.is_empty() || id == "0" {
                        continue;
                    }
                    if k == "default" {
                        out.default = Some(id);
                    } else {
                        out.by_gateway.insert(k, id);
                    }
                }
            }
            other => {
                return Err(serde::de::Error::custom(format!(
                    "payment_types: expected an object, got {other}"
                )))
            }
        }
        Ok(out)
    }
}

impl PaymentTypes {
    pub fn for_gateway(&self, gateway: &str) -> Option<&str> {
        self.by_gateway
            .get(gateway)
            .or(self.default.as_ref())
            .map(String::as_str)
    }
}

/// How WooCommerce shipping reaches the sale.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Shipping {
    /// A line on this (non-inventory) POS item.
    Item {
        #[serde(deserialize_with = "de_text")]
        item_id: String,
    },
    /// Left out of the sale; the payment is the order total minus shipping.
    #[default]
    Exclude,
}

/// The order part of the job's `settings` (`post_orders` jobs).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct OrderSettings {
    #[serde(deserialize_with = "de_text")]
    pub shop_id: String,
    #[serde(deserialize_with = "de_text")]
    pub register_id: String,
    #[serde(deserialize_with = "de_text")]
    pub employee_id: String,
    #[serde(default)]
    pub payment_types: PaymentTypes,
    #[serde(default)]
    pub shipping: Shipping,
    /// A non-inventory POS item for money refunded without restocking;
    /// falls back to the shipping item.
    #[serde(default, deserialize_with = "de_opt_id")]
    pub refund_item_id: Option<String>,
    /// A non-inventory POS item for WooCommerce fee lines (`fees`).
    #[serde(default, deserialize_with = "de_opt_id")]
    pub fee_item_id: Option<String>,
    #[serde(default = "default_source", deserialize_with = "de_text")]
    pub reference_source: String,
    #[serde(default = "default_max_attempts", deserialize_with = "de_attempts")]
    pub max_attempts: u32,
}

fn default_source() -> String {
    "WooCommerce".into()
}

/// Default for `settings.max_attempts`.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

fn default_max_attempts() -> u32 {
    DEFAULT_MAX_ATTEMPTS
}

impl OrderSettings {
    /// The item that carries money-only refund lines.
    pub fn refund_item(&self) -> Option<&str> {
        self.refund_item_id.as_deref().or(match &self.shipping {
            Shipping::Item { item_id } if !item_id.is_empty() => Some(item_id.as_str()),
            _ => None,
        })
    }
}
