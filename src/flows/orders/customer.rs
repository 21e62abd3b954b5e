//! Which POS customer is the buyer (pure).
//!
//! The customer search asks for `Contact.email=…`, but the answer is not
//! taken on trust: a POS (or a proxy) that ignores the filter answers with
//! any customers, and the first one would collect every web sale. A
//! customer is the buyer only when one of its Contact e-mails
//! (`Contact.Emails.ContactEmail`, one object or a list, `address`) is the
//! buyer's, trimmed, case-insensitive.

use crate::pos::lightspeed_r::model::Customer;

/// Pages of a customer search read at most (a POS that ignores the filter
/// could otherwise have the run page through every customer).
pub const CUSTOMER_PAGES: usize = 3;

/// Whether `customer` has the e-mail `email`.
pub fn has_email(customer: &Customer, email: &str) -> bool {
    let want = email.trim().to_lowercase();
    !want.is_empty()
        && customer.contact.as_ref().is_some_and(|c| {
            c.emails
                .iter()
                .any(|(address, _)| address.trim().to_lowercase() == want)
        })
}

/// The buyer among the customers of a search answer: the oldest
/// non-archived one with the e-mail, always the same one.
pub fn matching_customer(customers: &[Customer], email: &str) -> Option<String> {
    customers
        .iter()
        .filter(|c| !c.archived && has_email(c, email))
        .min_by_key(|c| c.customer_id.parse::<u64>().unwrap_or(u64::MAX))
        .map(|c| c.customer_id.clone())
}
