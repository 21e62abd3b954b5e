//! Shops, registers, employees, payment types and tax classes: the set-up lists.

use super::*;

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
