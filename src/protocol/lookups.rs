//! What a `lookups` event carries: the settings page's pick-lists.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegisterChoice {
    pub id: String,
    pub name: String,
    /// `None` when the POS names no shop (the `"0"` foreign key).
    pub shop_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PaymentTypeChoice {
    pub id: String,
    pub name: String,
    pub code: String,
}

/// What the `lookups` event carries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Lookups {
    pub shops: Vec<Choice>,
    pub registers: Vec<RegisterChoice>,
    pub employees: Vec<Choice>,
    pub payment_types: Vec<PaymentTypeChoice>,
    /// Item tax classes (labour classes left out), for the tax class map.
    pub tax_classes: Vec<Choice>,
}
