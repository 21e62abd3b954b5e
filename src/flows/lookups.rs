//! The pick-lists of the settings page: shops, registers, employees,
//! payment types and tax classes read from the POS, so the merchant chooses them by name
//! instead of typing IDs (`"kind":"lookups"`, docs/PROTOCOL.md).

use crate::edge::transport::{Clock, Transport};
use crate::edge::Host;
use crate::pos::lightspeed_r as ls;
use crate::pos::lightspeed_r::model::{Employee, PaymentType, Register, Resource, Shop, TaxClass};
use crate::pos::lightspeed_r::session::{ApiError, Session};
use crate::protocol::Event;
use serde_json::{json, Value};

/// More pages than any shop has of these: a `next` link that never ends is
/// an answer we cannot trust, not a reason to loop until the budget runs out.
const MAX_PAGES: usize = 50;

pub use crate::protocol::{Choice, Lookups, PaymentTypeChoice, RegisterChoice};

/// Builds the lists from the rows read, archived rows left out (the query
/// already asks for live rows only; this holds whatever the POS answers).
/// A row without a name is shown by its kind and id.
pub fn lookups_from(
    shops: &[Shop],
    registers: &[Register],
    employees: &[Employee],
    payment_types: &[PaymentType],
    tax_classes: &[TaxClass],
) -> Lookups {
    let named = |name: &str, kind: &str, id: &str| {
        let name = name.trim();
        if name.is_empty() {
            format!("{kind} {id}")
        } else {
            name.to_string()
        }
    };
    Lookups {
        shops: shops
            .iter()
            .filter(|s| !s.archived)
            .map(|s| Choice {
                id: s.shop_id.clone(),
                name: named(&s.name, "Shop", &s.shop_id),
            })
            .collect(),
        registers: registers
            .iter()
            .filter(|r| !r.archived)
            .map(|r| RegisterChoice {
                id: r.register_id.clone(),
                name: named(&r.name, "Register", &r.register_id),
                shop_id: r.shop_id.clone(),
            })
            .collect(),
        employees: employees
            .iter()
            .filter(|e| !e.archived)
            .map(|e| Choice {
                id: e.employee_id.clone(),
                name: named(
                    &format!("{} {}", e.first_name.trim(), e.last_name.trim()),
                    "Employee",
                    &e.employee_id,
                ),
            })
            .collect(),
        payment_types: payment_types
            .iter()
            .filter(|p| !p.archived)
            .map(|p| PaymentTypeChoice {
                id: p.payment_type_id.clone(),
                name: named(&p.name, "Payment type", &p.payment_type_id),
                code: p.code.trim().to_string(),
            })
            .collect(),
        tax_classes: tax_classes
            .iter()
            .filter(|t| !t.class_type.trim().eq_ignore_ascii_case("workorder"))
            .map(|t| Choice {
                id: t.tax_class_id.clone(),
                name: named(&t.name, "Tax class", &t.tax_class_id),
            })
            .collect(),
    }
}

/// Reads every page of the live rows of one resource.
async fn read_all<R: Resource, T: Transport, C: Clock, H: Host>(
    session: &mut Session<'_, T, C, H>,
) -> Result<Vec<R>, ApiError> {
    let mut req = session.endpoint.live_rows(R::NAME, R::ID);
    let mut rows = Vec::new();
    for _ in 0..MAX_PAGES {
        let resp = session.call(&req).await?;
        let page = ls::read_page::<R>(&resp.body)?;
        let empty = page.items.is_empty();
        rows.extend(page.items);
        match page.next {
            Some(next) if !empty => req = session.endpoint.follow_next(&req, &next)?,
            _ => return Ok(rows),
        }
    }
    Err(ApiError::Malformed(
        crate::pos::lightspeed_r::model::ParseError::new(
            R::NAME,
            None,
            format!("still a next page after {MAX_PAGES} pages; the list was not read"),
        ),
    ))
}

/// Reads the four lists and emits one `lookups` event. Returns the summary
/// (counts per list).
pub async fn run_lookups<T: Transport, C: Clock, H: Host>(
    session: &mut Session<'_, T, C, H>,
) -> Result<Value, ApiError> {
    let shops = read_all::<Shop, _, _, _>(session).await?;
    let registers = read_all::<Register, _, _, _>(session).await?;
    let employees = read_all::<Employee, _, _, _>(session).await?;
    let payment_types = read_all::<PaymentType, _, _, _>(session).await?;
    let tax_classes = read_all::<TaxClass, _, _, _>(session).await?;
    let lookups = lookups_from(&shops, &registers, &employees, &payment_types, &tax_classes);
    let summary = json!({
        "shops": lookups.shops.len(),
        "registers": lookups.registers.len(),
        "employees": lookups.employees.len(),
        "payment_types": lookups.payment_types.len(),
        "tax_classes": lookups.tax_classes.len(),
    });
    session.out().emit(Event::Lookups { lookups });
    Ok(summary)
}
