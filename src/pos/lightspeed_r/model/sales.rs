//! Customers, sales and the account.

use super::*;

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
