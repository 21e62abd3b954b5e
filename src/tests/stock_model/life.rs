//! The life of an order in the model, as the plugin handles it
//! (`OrderLife.php`, `OrderEdits.php`, docs/PROTOCOL.md "WordPress side"):
//! WooCommerce reduces stock when it takes an order (paid or on-hold), the
//! row holds those units in the ledger until the POS counts the sale or
//! WooCommerce gives them back. A cancel before sending releases the row, a
//! cancel while it may be in flight sends it `lookup_only`, a cancel after
//! posting is one return of what the POS holds; an edit rewrites an unsent
//! row, or after posting sends the difference (an extra sale, a return).

use super::world::{Order, OutboxRow, RowState, Status, World};

impl World {
    fn pick(&mut self, candidates: &[usize]) -> Option<usize> {
        if candidates.is_empty() {
            None
        } else {
            Some(candidates[self.rng.below(candidates.len() as u64) as usize])
        }
    }

    fn rows_of(&self, o: usize) -> Vec<usize> {
        (0..self.rows.len())
            .filter(|&i| self.rows[i].order == o)
            .collect()
    }

    fn push_row(&mut self, o: usize, p: usize, qty: i64, state: RowState) {
        self.rows.push(OutboxRow::new(o, p, qty, state));
    }

    /// A checkout: WooCommerce refuses what it does not have and reduces
    /// stock at once, paid (processing) or not (on-hold: the row is held).
    pub fn place_order(&mut self, p: usize) {
        let q = 1 + self.rng.below(3) as i64;
        if self.web[p] < q {
            return;
        }
        let paid = self.rng.chance(65);
        self.web[p] -= q;
        let mut wc_units = vec![0; self.products()];
        wc_units[p] = q;
        self.orders.push(Order {
            status: if paid { Status::Paid } else { Status::OnHold },
            wc_units,
            refunded: false,
            edited: false,
        });
        let o = self.orders.len() - 1;
        let state = if paid {
            RowState::Pending
        } else {
            RowState::Held
        };
        self.push_row(o, p, -q, state);
        self.stats.orders += 1;
        if !paid {
            self.stats.held += 1;
        }
    }

    /// The customer pays an on-hold order: its held rows become due.
    pub fn pay(&mut self, o: usize) {
        self.orders[o].status = Status::Paid;
        for i in self.rows_of(o) {
            if self.rows[i].state == RowState::Held {
                self.rows[i].state = RowState::Pending;
            }
        }
        self.stats.paid_later += 1;
    }

    pub fn pay_some_order(&mut self) {
        let held: Vec<usize> = (0..self.orders.len())
            .filter(|&o| self.orders[o].status == Status::OnHold)
            .collect();
        if let Some(o) = self.pick(&held) {
            self.pay(o);
        }
    }

    /// Cancelled (or failed): WooCommerce gives every unit of the order
    /// back; `release_order` in OrderLife.php.
    pub fn cancel(&mut self, o: usize) {
        self.orders[o].status = Status::Cancelled;
        for p in 0..self.products() {
            self.web[p] += self.orders[o].wc_units[p];
            self.orders[o].wc_units[p] = 0;
        }
        let mut posted = false;
        let mut in_flight = false;
        for i in self.rows_of(o) {
            let r = &self.rows[i];
            if r.qty > 0 || r.released {
                continue;
            }
            match r.state {
                RowState::Posted => posted = true,
                RowState::LookupOnly => in_flight = true,
                RowState::Held | RowState::Pending if r.maybe_in_pos => {
                    self.rows[i].state = RowState::LookupOnly;
                    in_flight = true;
                    self.stats.cancelled_in_flight += 1;
                }
                RowState::Held | RowState::Pending => {
                    self.release(i);
                    self.stats.cancelled_unsent += 1;
                }
                RowState::Cancelled => {}
            }
        }
        if !posted && !in_flight {
            self.release_unsent_returns(o);
        }
        if posted {
            self.stats.cancelled_posted += 1;
            self.return_remaining(o);
        }
    }

    pub fn cancel_some_order(&mut self) {
        let live: Vec<usize> = (0..self.orders.len())
            .filter(|&o| self.orders[o].status != Status::Cancelled)
            .collect();
        if let Some(o) = self.pick(&live) {
            self.cancel(o);
        }
    }

    /// The POS never had the order: its refunds have nothing to return.
    fn release_unsent_returns(&mut self, o: usize) {
        for i in self.rows_of(o) {
            let r = &self.rows[i];
            if r.qty > 0 && r.state == RowState::Pending && !r.maybe_in_pos {
                self.release(i);
            }
        }
    }

    /// A cancel after posting: one return of every unit the POS holds or
    /// will hold once the returns already made are posted
    /// (`return_remaining`: posted sales minus every unreleased return).
    fn return_remaining(&mut self, o: usize) {
        for p in 0..self.products() {
            let mut held = 0;
            for r in self.rows.iter().filter(|r| r.order == o && r.product == p) {
                if r.qty < 0 && r.state == RowState::Posted {
                    held -= r.qty;
                }
                if r.qty > 0 && !r.released {
                    held -= r.qty;
                }
            }
            if held > 0 {
                self.push_row(o, p, held, RowState::Pending);
                self.stats.returns += 1;
            }
        }
    }

    /// After `sale_posted`: an order cancelled while the row was in flight
    /// gets its return now.
    fn after_posted(&mut self, i: usize) {
        let o = self.rows[i].order;
        if self.rows[i].qty < 0 && self.orders[o].status == Status::Cancelled {
            self.return_remaining(o);
        }
    }

    /// The sidecar works on one due row: posts it, or only looks it up.
    pub fn work_on(&mut self, i: usize, always_succeed: bool) {
        match self.rows[i].state {
            RowState::Pending => {
                self.post_attempt(i, always_succeed);
                if self.rows[i].state == RowState::Posted {
                    self.after_posted(i);
                }
            }
            RowState::LookupOnly => self.look_up(i, always_succeed),
            _ => {}
        }
    }

    /// A `lookup_only` row: found → `sale_posted` (existing) and its return;
    /// not found → `outbox_absent`, released. Never posted.
    fn look_up(&mut self, i: usize, always_succeed: bool) {
        self.tick();
        if !(always_succeed || self.rng.chance(75)) {
            return;
        }
        let o = self.rows[i].order;
        if self.rows[i].committed_seq.is_some() {
            self.confirm(i);
            self.stats.found_after_cancel += 1;
            self.after_posted(i);
        } else {
            self.release(i);
            self.stats.absent += 1;
            // Nothing of the order reached the POS after all: its refund
            // rows have nothing to return either (see the report: PHP's
            // apply_absent does not do this yet).
            let settled = self.rows_of(o).into_iter().all(|j| {
                let r = &self.rows[j];
                r.qty > 0 || r.released
            });
            if settled {
                self.release_unsent_returns(o);
            }
        }
    }

    pub fn work_on_some_row(&mut self) {
        let due: Vec<usize> = (0..self.rows.len())
            .filter(|&i| matches!(self.rows[i].state, RowState::Pending | RowState::LookupOnly))
            .collect();
        if let Some(i) = self.pick(&due) {
            self.work_on(i, false);
        }
    }

    /// A refund: restocking (WooCommerce puts units back, a return row) or
    /// money only (no stock moves anywhere). Orders edited after posting are
    /// left out: a refund of units whose extra sale was cancelled unsent has
    /// no POS line to return (PHP's business: `refund_line_unmatched`).
    pub fn refund_some_order(&mut self, p: usize) {
        let live: Vec<usize> = (0..self.orders.len())
            .filter(|&o| {
                let order = &self.orders[o];
                order.status != Status::Cancelled && !order.edited && order.wc_units[p] > 0
            })
            .collect();
        let Some(o) = self.pick(&live) else { return };
        if !self.rng.chance(60) {
            return;
        }
        let q = 1 + self.rng.below(self.orders[o].wc_units[p] as u64) as i64;
        self.web[p] += q;
        self.orders[o].wc_units[p] -= q;
        self.orders[o].refunded = true;
        self.push_row(o, p, q, RowState::Pending);
        self.stats.refunds += 1;
    }

    /// The merchant edits an order's items. Unsent: the row is rewritten
    /// (same reference). Posted (and nothing of it in flight): the POS gets
    /// the difference, an extra sale for added units and a return for
    /// removed ones. Orders with refunds are left out (their line
    /// arithmetic is PHP's business, tested there).
    pub fn edit_some_order(&mut self) {
        let editable: Vec<usize> = (0..self.orders.len())
            .filter(|&o| self.orders[o].status != Status::Cancelled && !self.orders[o].refunded)
            .collect();
        let Some(o) = self.pick(&editable) else {
            return;
        };
        let sales: Vec<usize> = self
            .rows_of(o)
            .into_iter()
            .filter(|&i| self.rows[i].qty < 0)
            .collect();
        let unsent = sales.len() == 1 && {
            let r = &self.rows[sales[0]];
            r.first_attempt_at_ms.is_none() && matches!(r.state, RowState::Held | RowState::Pending)
        };
        if unsent {
            let i = sales[0];
            let p = self.rows[i].product;
            if self.rng.chance(50) {
                if self.web[p] >= 1 {
                    self.web[p] -= 1;
                    self.orders[o].wc_units[p] += 1;
                    self.rows[i].qty -= 1;
                    self.stats.edits_unsent += 1;
                }
            } else if self.rows[i].qty < -1 {
                self.web[p] += 1;
                self.orders[o].wc_units[p] -= 1;
                self.rows[i].qty += 1;
                self.stats.edits_unsent += 1;
            }
            return;
        }
        // Sent but not settled: PHP waits for its sale_posted (the edit
        // is sent then); the model edits only settled orders.
        let settled = sales.iter().all(|&i| {
            let r = &self.rows[i];
            r.state == RowState::Posted || r.released
        });
        if !settled
            || !sales
                .iter()
                .any(|&i| self.rows[i].state == RowState::Posted)
        {
            return;
        }
        let mut edited = false;
        let add_to = self.rng.below(self.products() as u64) as usize;
        let add = self.rng.below(3) as i64;
        if add > 0 && self.web[add_to] >= add {
            self.web[add_to] -= add;
            self.orders[o].wc_units[add_to] += add;
            self.push_row(o, add_to, -add, RowState::Pending);
            edited = true;
        }
        let remove_from = self.rng.below(self.products() as u64) as usize;
        let have = self.orders[o].wc_units[remove_from].min(self.pos_holds_settled(o, remove_from));
        if have > 0 && self.rng.chance(60) {
            let r = 1 + self.rng.below(have as u64) as i64;
            self.web[remove_from] += r;
            self.orders[o].wc_units[remove_from] -= r;
            self.push_row(o, remove_from, r, RowState::Pending);
            self.stats.returns += 1;
            edited = true;
        }
        if edited {
            self.orders[o].edited = true;
            self.stats.edits_after_posting += 1;
        }
    }

    /// Units the POS holds for the order by its posted sales, minus its
    /// unreleased returns (PHP's `held_by_pos`).
    fn pos_holds_settled(&self, o: usize, p: usize) -> i64 {
        self.rows
            .iter()
            .filter(|r| r.order == o && r.product == p && !r.released)
            .filter(|r| r.qty > 0 || r.state == RowState::Posted)
            .map(|r| -r.qty)
            .sum()
    }

    pub fn step(&mut self) -> Result<(), String> {
        let n = self.products();
        let p = self.rng.below(n as u64) as usize;
        match self.rng.below(100) {
            // In-store sale, return, purchase order, count: the POS moves.
            0..=11 => {
                let shop = self.random_shop();
                let delta = self.rng.below(7) as i64 - 3;
                self.pos_move(p, &shop, delta);
            }
            12..=27 => self.place_order(p),
            28..=31 => self.pay_some_order(),
            32..=36 => self.cancel_some_order(),
            37..=40 => self.edit_some_order(),
            41..=45 => self.refund_some_order(p),
            // A figure typed into WooCommerce: the plugin notices the edit
            // (a stock hook it did not cause) and asks for a fresh reading.
            46..=48 => {
                self.web[p] = self.rng.below(12) as i64;
                self.ask_recheck(p);
            }
            49..=63 => self.work_on_some_row(),
            // A sync run reads some dirty products (the cursor scan).
            64..=79 => {
                for q in 0..n {
                    if self.dirty(q) && self.rng.chance(70) {
                        self.read(q);
                    }
                }
            }
            80..=95 => self.apply_next()?,
            // The sidecar dies: readings not yet applied are lost (their
            // cursor was not committed, so they are read again).
            _ => self.in_flight.clear(),
        }
        self.tick();
        Ok(())
    }

    /// Everything settles: each on-hold order is paid, cancelled or left
    /// on hold (still holding its units); every due row is worked on until
    /// posted or released; every dirty product is read and applied.
    pub fn quiesce(&mut self) -> Result<(), String> {
        for o in 0..self.orders.len() {
            if self.orders[o].status == Status::OnHold {
                let has_refund = self.rows_of(o).iter().any(|&i| self.rows[i].qty > 0);
                match self.rng.below(3) {
                    0 => self.pay(o),
                    1 => self.cancel(o),
                    _ if has_refund => self.pay(o),
                    _ => {}
                }
            }
        }
        for _ in 0..100 {
            while !self.in_flight.is_empty() {
                self.apply_next()?;
            }
            // Sales first: a return waits for the sale it returns.
            for sales_first in [true, false] {
                for i in 0..self.rows.len() {
                    if (self.rows[i].qty < 0) == sales_first {
                        self.work_on(i, true);
                    }
                }
            }
            self.tick();
            let due = self
                .rows
                .iter()
                .any(|r| matches!(r.state, RowState::Pending | RowState::LookupOnly));
            let dirty: Vec<usize> = (0..self.products()).filter(|&p| self.dirty(p)).collect();
            if dirty.is_empty() && !due {
                return Ok(());
            }
            self.tick();
            for p in dirty {
                self.read(p);
            }
            self.tick();
        }
        Err(format!(
            "no quiescence after 100 rounds: rows {:?}",
            self.rows
        ))
    }
}
