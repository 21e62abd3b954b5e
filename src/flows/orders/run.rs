//! The run: rows in order over a [`Session`], lookup first.

use super::*;
use crate::edge::transport::{Clock, Transport};
use crate::edge::Host;
use crate::pos::lightspeed_r::model::{self, Customer, Sale};
pub use crate::pos::lightspeed_r::sales::lookup_request;
use crate::pos::lightspeed_r::sales::{
    can_batch, create_request, customers_by_email, sale_with_lines, sales_with_lines_by_reference,
};
use crate::pos::lightspeed_r::session::{ApiError, Session};
use crate::protocol::{Event, LogLevel};
use std::collections::HashMap;

// ---------------------------------------------------------------------------
// The run

#[derive(Default)]
struct Tally {
    posted: u64,
    existing: u64,
    absent: u64,
    failed: u64,
    attention: u64,
    left: u64,
}

impl Tally {
    fn summary(&self, rows: usize) -> Value {
        json!({
            "rows": rows, "posted": self.posted, "existing": self.existing, "absent": self.absent,
            "failed": self.failed, "attention": self.attention, "left": self.left,
            "done": self.left == 0,
        })
    }
}

enum RowOutcome {
    Posted {
        sale_id: String,
        customer_id: Option<String>,
        existing: bool,
    },
    Failed(RowFailure),
    /// A `lookup_only` row the POS does not have.
    Absent,
}

struct Run<'s, 'a, T: Transport, C: Clock, H: Host> {
    session: &'s mut Session<'a, T, C, H>,
    settings: &'s OrderSettings,
    /// Reference → sales found with it (looked up this run).
    found: HashMap<String, Vec<Sale>>,
    /// E-mail (lower case) → customerID, this run.
    customers: HashMap<String, String>,
}

type RunResult = Result<Value, (ApiError, Value)>;

/// Carries out a `post_orders` job: rows in order, within the budget.
pub async fn run<T: Transport, C: Clock, H: Host>(
    session: &mut Session<'_, T, C, H>,
    job: &OrderJob,
) -> RunResult {
    let mut tally = Tally::default();
    let rows = &job.outbox;
    let mut run = Run {
        session,
        settings: &job.settings,
        found: HashMap::new(),
        customers: HashMap::new(),
    };
    let mut transient_in_a_row = 0u32;
    for (i, row) in rows.iter().enumerate() {
        if !run.found.contains_key(&row.reference) {
            match run.lookup_from(rows, i).await {
                Ok(()) => {}
                Err(ApiError::BudgetSpent) => {
                    tally.left = (rows.len() - i) as u64;
                    break;
                }
                Err(e) if is_job_wide(&e) => {
                    tally.left = (rows.len() - i) as u64;
                    return Err((e, tally.summary(rows.len())));
                }
                Err(e) => {
                    // The lookup failed: nothing may be posted without it.
                    let f = classify_api_error(&e);
                    let now = run.session.now_ms();
                    let ev = failure_event(row, &row_name(row), &f, now, run.settings.max_attempts);
                    count_failure(&mut tally, &ev);
                    run.session.out().emit(ev);
                    tally.left = (rows.len() - i - 1) as u64;
                    break;
                }
            }
        }
        let outcome = match run.row(row).await {
            Ok(o) => o,
            Err(ApiError::BudgetSpent) => {
                tally.left = (rows.len() - i) as u64;
                break;
            }
            Err(e) => {
                tally.left = (rows.len() - i) as u64;
                return Err((e, tally.summary(rows.len())));
            }
        };
        match outcome {
            RowOutcome::Posted {
                sale_id,
                customer_id,
                existing,
            } => {
                transient_in_a_row = 0;
                if existing {
                    tally.existing += 1;
                } else {
                    tally.posted += 1;
                }
                // Later rows in this run (a refund of this order) see it.
                run.session.out().emit(Event::SalePosted {
                    outbox_id: row.id.clone(),
                    reference: row.reference.clone(),
                    sale_id,
                    customer_id,
                    existing,
                });
            }
            RowOutcome::Absent => {
                transient_in_a_row = 0;
                tally.absent += 1;
                run.session.out().emit(Event::OutboxAbsent {
                    outbox_id: row.id.clone(),
                    reference: row.reference.clone(),
                });
            }
            RowOutcome::Failed(f) => {
                let now = run.session.now_ms();
                let ev = failure_event(row, &row_name(row), &f, now, run.settings.max_attempts);
                count_failure(&mut tally, &ev);
                run.session.out().emit(ev);
                if f.class == FailureClass::Transient {
                    transient_in_a_row += 1;
                    if transient_in_a_row >= STOP_AFTER_TRANSIENT_FAILURES {
                        tally.left = (rows.len() - i - 1) as u64;
                        run.session.out().log(
                            LogLevel::Warning,
                            format!(
                                "orders: {transient_in_a_row} rows in a row failed ({}); the POS looks unavailable, {} row(s) left for the next run",
                                f.code,
                                rows.len() - i - 1
                            ),
                        );
                        break;
                    }
                } else {
                    transient_in_a_row = 0;
                }
            }
        }
    }
    let done = (rows.len() as u64).saturating_sub(tally.left);
    run.session.out().emit(Event::Progress {
        flow: "orders".into(),
        done,
        total: Some(rows.len() as u64),
    });
    Ok(tally.summary(rows.len()))
}

fn count_failure(tally: &mut Tally, ev: &Event) {
    tally.failed += 1;
    if let Event::OutboxFailed {
        attention: true, ..
    } = ev
    {
        tally.attention += 1;
    }
}

impl<T: Transport, C: Clock, H: Host> Run<'_, '_, T, C, H> {
    /// Looks up the references of rows `from..` not yet known, up to 100 in
    /// one request; a reference that cannot go in an `IN` list alone.
    async fn lookup_from(&mut self, rows: &[OutboxRow], from: usize) -> Result<(), ApiError> {
        let first = &rows[from].reference;
        let refs: Vec<String> = if can_batch(first) {
            let mut v: Vec<String> = Vec::new();
            for r in &rows[from..] {
                if v.len() >= LOOKUP_CHUNK {
                    break;
                }
                if can_batch(&r.reference)
                    && !self.found.contains_key(&r.reference)
                    && !v.contains(&r.reference)
                {
                    v.push(r.reference.clone());
                }
            }
            v
        } else {
            vec![first.clone()]
        };
        match self.lookup(&refs).await {
            // A POS that refuses IN on referenceNumber: one at a time.
            Err(ApiError::Refused { .. }) if refs.len() > 1 => {
                self.session.out().log(
                    LogLevel::Warning,
                    "orders: the POS refused a batched reference lookup; looking references up one by one",
                );
                for r in &refs {
                    self.found.remove(r);
                }
                self.lookup(std::slice::from_ref(first)).await
            }
            other => other,
        }
    }

    async fn lookup(&mut self, refs: &[String]) -> Result<(), ApiError> {
        let mut req = lookup_request(&self.session.endpoint, refs)?;
        for r in refs {
            self.found.insert(r.clone(), Vec::new());
        }
        loop {
            let resp = self.session.call(&req).await?;
            let page = ls::read_page::<Sale>(&resp.body)?;
            for sale in page.items {
                if let Some(list) = self.found.get_mut(&sale.reference_number) {
                    list.push(sale);
                }
            }
            match page.next {
                Some(next) => req = self.session.endpoint.follow_next(&req, &next)?,
                None => break,
            }
        }
        Ok(())
    }

    /// The sale already in the POS for this row, if any: the oldest found
    /// by its reference that passes the collision check; found but none
    /// passes → `reference_collision` (never "posted").
    fn existing(&self, row: &OutboxRow) -> Result<Option<Sale>, RowFailure> {
        let found = self
            .found
            .get(&row.reference)
            .map_or(&[][..], Vec::as_slice);
        pick_found(found, &row.reference, &expected_for(row, self.settings)).map(|s| s.cloned())
    }

    async fn row(&mut self, row: &OutboxRow) -> Result<RowOutcome, ApiError> {
        match self.existing(row) {
            Ok(Some(sale)) => {
                let n = self.found.get(&row.reference).map_or(0, Vec::len);
                if n > 1 {
                    self.session.out().log(
                        LogLevel::Warning,
                        format!(
                            "{}: the POS holds {n} sales with reference {}; reporting {}",
                            row_name(row),
                            row.reference,
                            sale.sale_id
                        ),
                    );
                }
                return Ok(RowOutcome::Posted {
                    sale_id: sale.sale_id,
                    customer_id: sale.customer_id,
                    existing: true,
                });
            }
            Ok(None) => {}
            Err(f) => return Ok(RowOutcome::Failed(f)),
        }
        if row.lookup_only {
            return Ok(RowOutcome::Absent);
        }
        let plan = match row.kind {
            RowKind::Order => {
                let order: OrderPayload = match serde_json::from_value(row.payload.clone()) {
                    Ok(o) => o,
                    Err(e) => {
                        return Ok(RowOutcome::Failed(RowFailure::permanent(
                            "bad_payload",
                            format!("the order payload is malformed: {e}"),
                        )))
                    }
                };
                let mut plan = match plan_sale(&order, &row.reference, self.settings) {
                    Ok(p) => p,
                    Err(f) => return Ok(RowOutcome::Failed(f)),
                };
                match self.customer(&order.customer).await {
                    Ok(c) => plan.customer_id = c,
                    Err(e) if is_job_wide(&e) => return Err(e),
                    Err(e) => return Ok(RowOutcome::Failed(customer_failure(&e))),
                }
                plan
            }
            RowKind::Refund => {
                let refund: RefundPayload = match serde_json::from_value(row.payload.clone()) {
                    Ok(r) => r,
                    Err(e) => {
                        return Ok(RowOutcome::Failed(RowFailure::permanent(
                            "bad_payload",
                            format!("the refund payload is malformed: {e}"),
                        )))
                    }
                };
                let original = match self.original_sale(&refund).await {
                    Ok(Ok(Some(s))) => s,
                    Ok(Err(f)) => return Ok(RowOutcome::Failed(f)),
                    Ok(Ok(None)) => {
                        return Ok(RowOutcome::Failed(RowFailure::transient(
                            "order_not_posted",
                            format!(
                                "its order ({}) is not in the POS yet; the refund waits for it",
                                refund.order_reference
                            ),
                        )))
                    }
                    Err(e) if is_job_wide(&e) => return Err(e),
                    Err(e) => return Ok(RowOutcome::Failed(classify_api_error(&e))),
                };
                match plan_return(&refund, &row.reference, &original, self.settings) {
                    Ok(p) => p,
                    Err(f) => return Ok(RowOutcome::Failed(f)),
                }
            }
        };
        self.post(row, &plan).await
    }

    /// Posts a planned sale; a write without a clear answer is looked up at
    /// once and, when not found, left for a later run to look up again.
    async fn post(&mut self, row: &OutboxRow, plan: &SalePlan) -> Result<RowOutcome, ApiError> {
        let req = create_request(&self.session.endpoint, "Sale", plan.body());
        match self.session.call(&req).await {
            Ok(resp) => {
                let sale = model::parse_single::<Sale>(&resp.body)?
                    .into_iter()
                    .next()
                    .ok_or_else(|| {
                        model::ParseError::new("Sale", None, "the answer to POST Sale has no Sale")
                    });
                match sale {
                    Ok(s) if answer_mismatch(&s, &row.reference, plan.total()).is_some() => {
                        let said = answer_mismatch(&s, &row.reference, plan.total())
                            .unwrap_or_default();
                        self.answer_not_ours(row, plan, said).await
                    }
                    Ok(s) => {
                        let entry = self.found.entry(row.reference.clone()).or_default();
                        entry.push(s.clone());
                        Ok(RowOutcome::Posted {
                            sale_id: s.sale_id,
                            customer_id: s.customer_id.or_else(|| plan.customer_id.clone()),
                            existing: false,
                        })
                    }
                    // Applied but unreadable: find it by reference next time.
                    Err(p) => Ok(RowOutcome::Failed(RowFailure::transient(
                        "maybe_posted",
                        format!("the POS answer was unreadable ({p}); it is looked up again before any new attempt"),
                    ))),
                }
            }
            Err(ApiError::MaybeApplied { detail, label }) => {
                let kind = classify_maybe_applied(&detail);
                self.session.out().log(
                    LogLevel::Warning,
                    format!(
                        "{}: {label} got no clear answer ({detail}); looking reference {} up",
                        row_name(row),
                        row.reference
                    ),
                );
                match self.lookup(std::slice::from_ref(&row.reference)).await {
                    Ok(()) => {}
                    Err(e) if matches!(e, ApiError::BudgetSpent) || !is_job_wide(&e) => {
                        return Ok(RowOutcome::Failed(RowFailure::transient(
                            "maybe_posted",
                            format!("no clear answer after sending ({detail}) and the lookup failed; it is looked up again before any new attempt"),
                        )))
                    }
                    Err(e) => return Err(e),
                }
                match self.existing(row) {
                    Ok(Some(s)) => {
                        return Ok(RowOutcome::Posted {
                            sale_id: s.sale_id,
                            customer_id: s.customer_id.or_else(|| plan.customer_id.clone()),
                            existing: false,
                        })
                    }
                    Ok(None) => {}
                    Err(f) => return Ok(RowOutcome::Failed(f)),
                }
                Ok(RowOutcome::Failed(match kind {
                    WriteFailure::Answered => RowFailure::transient(
                        "pos_unavailable",
                        format!("POS answered {} (the sale is not in the POS)", short_detail(&detail)),
                    ),
                    WriteFailure::InFlight => RowFailure::transient(
                        "maybe_posted",
                        format!("no clear answer after sending ({detail}); it is looked up again before any new attempt"),
                    ),
                }))
            }
            Err(e) if is_job_wide(&e) => Err(e),
            Err(e) => Ok(RowOutcome::Failed(classify_api_error(&e))),
        }
    }

    /// The POST answer was not the sale we sent: look the reference up;
    /// found and it passes the collision check → posted, else
    /// `pos_answer_mismatch` (attention) with what the POS said.
    async fn answer_not_ours(
        &mut self,
        row: &OutboxRow,
        plan: &SalePlan,
        said: String,
    ) -> Result<RowOutcome, ApiError> {
        self.session.out().log(
            LogLevel::Warning,
            format!(
                "{}: {said}; looking reference {} up",
                row_name(row),
                row.reference
            ),
        );
        match self.lookup(std::slice::from_ref(&row.reference)).await {
            Ok(()) => {}
            Err(e) if is_job_wide(&e) && !matches!(e, ApiError::BudgetSpent) => return Err(e),
            Err(e) => {
                return Ok(RowOutcome::Failed(RowFailure::permanent(
                    "pos_answer_mismatch",
                    format!("{said}; the lookup by reference failed ({e})"),
                )))
            }
        }
        match self.existing(row) {
            Ok(Some(s)) => Ok(RowOutcome::Posted {
                sale_id: s.sale_id,
                customer_id: s.customer_id.or_else(|| plan.customer_id.clone()),
                existing: false,
            }),
            Ok(None) => Ok(RowOutcome::Failed(RowFailure::permanent(
                "pos_answer_mismatch",
                format!(
                    "{said}; no sale with reference {} is in the POS (check the POS's sales before retrying)",
                    row.reference
                ),
            ))),
            Err(f) => Ok(RowOutcome::Failed(RowFailure::permanent(
                "pos_answer_mismatch",
                format!("{said}; {}", f.cause),
            ))),
        }
    }

    /// The POS customer for an order: by e-mail, else created. No e-mail:
    /// no customer (nothing to find it by later, so none is created).
    async fn customer(&mut self, c: &OrderCustomer) -> Result<Option<String>, ApiError> {
        let address = c.email.trim();
        // The run's cache ignores case; the POS is asked with the address
        // as typed.
        let email = address.to_lowercase();
        if email.is_empty() {
            return Ok(None);
        }
        if let Some(id) = self.customers.get(&email) {
            return Ok(Some(id.clone()));
        }
        if let Some(id) = self.find_customer(address).await? {
            self.customers.insert(email, id.clone());
            return Ok(Some(id));
        }
        let req = create_request(&self.session.endpoint, "Customer", customer_body(c));
        match self.session.call(&req).await {
            Ok(resp) => {
                let created = model::parse_single::<Customer>(&resp.body)?;
                let id = created
                    .into_iter()
                    .next()
                    .map(|c| c.customer_id)
                    .ok_or_else(|| {
                        model::ParseError::new(
                            "Customer",
                            None,
                            "the answer to POST Customer has no Customer",
                        )
                    })?;
                self.customers.insert(email, id.clone());
                Ok(Some(id))
            }
            Err(ApiError::MaybeApplied { .. }) => {
                // Created or not: the e-mail says.
                match self.find_customer(address).await? {
                    Some(id) => {
                        self.customers.insert(email, id.clone());
                        Ok(Some(id))
                    }
                    None => Err(ApiError::MaybeApplied {
                        label: "POST Customer".into(),
                        detail: "no clear answer and not found by e-mail".into(),
                    }),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn find_customer(&mut self, email: &str) -> Result<Option<String>, ApiError> {
        let mut req = customers_by_email(&self.session.endpoint, email)?;
        // Only a customer that has the e-mail is the buyer (see
        // `customer`); look through the answer's pages, then create.
        let mut matches: Vec<Customer> = Vec::new();
        for _ in 0..CUSTOMER_PAGES {
            let resp = self.session.call(&req).await?;
            let page = ls::read_page::<Customer>(&resp.body)?;
            matches.extend(page.items.into_iter().filter(|c| has_email(c, email)));
            match page.next {
                Some(next) => req = self.session.endpoint.follow_next(&req, &next)?,
                None => break,
            }
        }
        Ok(matching_customer(&matches, email))
    }

    /// The order's sale with its lines and payments: by id when PHP knows
    /// it, else by the order's reference.
    async fn original_sale(
        &mut self,
        refund: &RefundPayload,
    ) -> Result<Result<Option<Sale>, RowFailure>, ApiError> {
        if let Some(id) = &refund.order_sale_id {
            let req = sale_with_lines(&self.session.endpoint, id)?;
            let resp = self.session.call(&req).await?;
            let page = ls::read_page::<Sale>(&resp.body)?;
            if let Some(s) = page.items.into_iter().next() {
                return Ok(Ok(Some(s)));
            }
        }
        if refund.order_reference.is_empty() {
            return Ok(Ok(None));
        }
        let req = sales_with_lines_by_reference(&self.session.endpoint, &refund.order_reference)?;
        let resp = self.session.call(&req).await?;
        let page = ls::read_page::<Sale>(&resp.body)?;
        // Found by reference only: it must be this order's sale (the
        // collision check), the oldest that is.
        let mut sales = page.items;
        sales.sort_by_key(|s| s.sale_id.parse::<u64>().unwrap_or(u64::MAX));
        let source = &self.settings.reference_source;
        let mut why = Vec::new();
        for s in sales {
            match original_collision(&s, refund, source) {
                None => return Ok(Ok(Some(s))),
                Some(w) => why.push(format!("POS sale {} ({w})", s.sale_id)),
            }
        }
        if why.is_empty() {
            return Ok(Ok(None));
        }
        Ok(Err(RowFailure::permanent(
            "reference_collision",
            format!(
                "the POS sale found by the order's reference {} is not this order: {}; the return was not posted (check the sale in the POS)",
                refund.order_reference,
                why.join(", ")
            ),
        )))
    }
}

fn customer_failure(e: &ApiError) -> RowFailure {
    let mut f = classify_api_error(e);
    f.cause = format!("customer: {}", f.cause);
    if let ApiError::MaybeApplied { .. } = e {
        // Only the customer may exist; the sale was never sent.
        f.code = "pos_unavailable";
    }
    f
}
