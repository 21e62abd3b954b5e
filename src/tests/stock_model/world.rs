//! The world of the stock model: the POS, the web shop's stock, the outbox
//! rows, the sidecar's readings and the applier. The order life that makes
//! and settles rows (holds, payments, cancels, edits, refunds) is in
//! [`super::life`]; the truth the checks compare against is kept here.

use crate::flows::ledger::{web_stock, LedgerRow};
use crate::flows::stock::{plan, ItemStock, StockSettings};
use std::collections::BTreeMap;

/// The ledger rule under test: the core's, or a deliberate mutant of it.
pub type Rule = fn(&[LedgerRow], u64, u64) -> i64;

pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The PHP states of a row (docs/PROTOCOL.md, "WordPress side").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowState {
    /// Stock reduced, order not paid (on-hold): in the ledger, never sent.
    Held,
    /// Due: pending, retry, or claimed by a run.
    Pending,
    /// Its order was cancelled while the row may be in the POS: only
    /// looked up (`lookup_only`), never posted again.
    LookupOnly,
    /// Cancelled and released: never (again) sent, counts nothing.
    Cancelled,
    Posted,
}

#[derive(Clone, Debug)]
pub struct OutboxRow {
    pub order: usize,
    pub product: usize,
    /// Negative: a sale (the order, or units added by an edit); positive: a
    /// return (a restocking refund, removed units, a cancel after posting).
    pub qty: i64,
    pub state: RowState,
    pub first_attempt_at_ms: Option<u64>,
    /// The last attempt got no answer (`maybe_posted`): it may be in the POS.
    pub maybe_in_pos: bool,
    /// Sequence number of the POS commit (truth the shop cannot see).
    pub committed_seq: Option<u64>,
    pub posted_at_ms: Option<u64>,
    pub released: bool,
}

impl OutboxRow {
    pub fn new(order: usize, product: usize, qty: i64, state: RowState) -> OutboxRow {
        OutboxRow {
            order,
            product,
            qty,
            state,
            first_attempt_at_ms: None,
            maybe_in_pos: false,
            committed_seq: None,
            posted_at_ms: None,
            released: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    OnHold,
    Paid,
    Cancelled,
}

#[derive(Clone, Debug)]
pub struct Order {
    pub status: Status,
    /// Units WooCommerce has reduced for this order, by product (its
    /// `_reduced_stock`): what it gives back on a cancel.
    pub wc_units: Vec<i64>,
    /// It has a WooCommerce refund (edits are then left out of the model).
    pub refunded: bool,
    /// It was edited after posting (refunds are then left out of the model).
    pub edited: bool,
}

#[derive(Clone, Debug)]
pub struct Reading {
    pub product: usize,
    pub base: i64,
    pub read_from_ms: u64,
    pub read_until_ms: u64,
    pub read_seq: u64,
    pub pos_version: u64,
    /// Σ qoh over the chosen shops at the reading.
    pub qoh_at_read: i64,
}

/// How often each part of an order's life happened (over all schedules).
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub orders: u64,
    pub held: u64,
    pub paid_later: u64,
    pub cancelled_unsent: u64,
    pub cancelled_in_flight: u64,
    pub found_after_cancel: u64,
    pub absent: u64,
    pub cancelled_posted: u64,
    pub edits_after_posting: u64,
    pub edits_unsent: u64,
    pub refunds: u64,
    pub returns: u64,
    pub writes: u64,
}

pub struct World {
    pub rng: Rng,
    pub rule: Rule,
    pub now_ms: u64,
    pub seq: u64,
    pub shops: Vec<String>,
    pub settings: StockSettings,
    pub qoh: Vec<BTreeMap<String, i64>>,
    pub web: Vec<i64>,
    pub orders: Vec<Order>,
    pub rows: Vec<OutboxRow>,
    pub pos_version: Vec<u64>,
    pub applied_version: Vec<u64>,
    /// Recheck asked for at this time (a row of the product was settled).
    pub recheck: Vec<Option<u64>>,
    pub in_flight: Vec<Reading>,
    pub stats: Stats,
}

impl World {
    pub fn new(seed: u64, rule: Rule) -> World {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let products = 1 + rng.below(3) as usize;
        let shops = vec!["1".to_string(), "2".to_string()];
        let shop_ids = match rng.below(3) {
            0 => vec![],
            1 => vec!["1".to_string()],
            _ => vec!["1".to_string(), "2".to_string()],
        };
        let settings = StockSettings {
            shop_ids,
            safety_buffer: rng.below(3) as i64,
        };
        let mut qoh = Vec::new();
        for _ in 0..products {
            let mut m = BTreeMap::new();
            let a = rng.below(8) as i64;
            let b = rng.below(8) as i64;
            m.insert("1".to_string(), a);
            m.insert("2".to_string(), b);
            m.insert("0".to_string(), a + b);
            qoh.push(m);
        }
        World {
            rng,
            rule,
            now_ms: 1_000,
            seq: 0,
            shops,
            settings,
            qoh,
            web: vec![0; products],
            orders: Vec::new(),
            rows: Vec::new(),
            pos_version: vec![1; products],
            applied_version: vec![0; products],
            recheck: vec![None; products],
            in_flight: Vec::new(),
            stats: Stats::default(),
        }
    }

    pub fn products(&self) -> usize {
        self.web.len()
    }

    pub fn tick(&mut self) {
        self.seq += 1;
        // Several steps may share one millisecond: ties are part of the test.
        self.now_ms += self.rng.below(2);
    }

    pub fn pos_move(&mut self, p: usize, shop: &str, delta: i64) {
        *self.qoh[p].get_mut(shop).unwrap() += delta;
        *self.qoh[p].get_mut("0").unwrap() += delta;
        self.pos_version[p] += 1;
    }

    pub fn random_shop(&mut self) -> String {
        self.shops[self.rng.below(2) as usize].clone()
    }

    pub fn base_now(&self, p: usize) -> (i64, i64) {
        let item = ItemStock {
            item_id: p.to_string(),
            sku: format!("SKU-{p}"),
            archived: false,
            shop_qoh: self.qoh[p].clone(),
        };
        let level = plan(&[item], &self.settings).remove(0);
        (level.base, level.qoh)
    }

    pub fn dirty(&self, p: usize) -> bool {
        self.pos_version[p] > self.applied_version[p] || self.recheck[p].is_some()
    }

    pub fn ask_recheck(&mut self, p: usize) {
        self.recheck[p] = Some(self.now_ms);
    }

    pub fn read(&mut self, p: usize) {
        // The POS answers from its state at this step; the request was sent
        // a little before and the answer arrives a little after.
        let (base, qoh) = self.base_now(p);
        let sent = self.now_ms.saturating_sub(self.rng.below(2));
        self.in_flight.push(Reading {
            product: p,
            base,
            read_from_ms: sent,
            read_until_ms: self.now_ms + self.rng.below(2),
            read_seq: self.seq,
            pos_version: self.pos_version[p],
            qoh_at_read: qoh,
        });
    }

    pub fn ledger_rows(&self, p: usize) -> Vec<LedgerRow> {
        self.rows
            .iter()
            .filter(|r| r.product == p)
            .map(|r| LedgerRow {
                qty: r.qty,
                first_attempt_at_ms: r.first_attempt_at_ms,
                posted_at_ms: r.posted_at_ms,
                released: r.released,
            })
            .collect()
    }

    /// Truth: units of product `p` the POS has taken for order `o` (its
    /// sales minus its returns) in commits up to `seq`.
    pub fn pos_units(&self, o: usize, p: usize, seq: u64) -> i64 {
        -self
            .rows
            .iter()
            .filter(|r| r.order == o && r.product == p)
            .filter(|r| r.committed_seq.is_some_and(|c| c <= seq))
            .map(|r| r.qty)
            .sum::<i64>()
    }

    /// Truth: what the POS could supply to the web at a reading, given what
    /// every order holds in WooCommerce now. An order holds units the POS
    /// had not taken at the reading (they are spoken for), or the POS took
    /// units WooCommerce has since given back (its return is owed).
    pub fn supply(&self, r: &Reading) -> i64 {
        let p = r.product;
        let owed: i64 = (0..self.orders.len())
            .map(|o| self.pos_units(o, p, r.read_seq) - self.orders[o].wc_units[p])
            .sum();
        (r.qoh_at_read - self.settings.safety_buffer + owed).max(0)
    }

    /// The applier: one reading, the ledger as it stands now (inside the
    /// transaction that writes the stock).
    pub fn apply_next(&mut self) -> Result<(), String> {
        if self.in_flight.is_empty() {
            return Ok(());
        }
        let r = self.in_flight.remove(0);
        let p = r.product;
        let ledger = (self.rule)(&self.ledger_rows(p), r.read_from_ms, r.read_until_ms);
        let target = web_stock(r.base, ledger);
        // Safety: never above what the POS could supply.
        let supply = self.supply(&r);
        if target > supply {
            return Err(format!(
                "product {p}: the sync wrote {target} but the POS could supply {supply} \
                 (reading {r:?}, orders {:?}, rows {:?})",
                self.orders, self.rows
            ));
        }
        self.web[p] = target;
        self.stats.writes += 1;
        self.applied_version[p] = self.applied_version[p].max(r.pos_version);
        if matches!(self.recheck[p], Some(asked) if r.read_from_ms > asked) {
            self.recheck[p] = None;
        }
        Ok(())
    }

    /// Units of product `p` the POS holds for order `o` right now.
    pub fn pos_holds(&self, o: usize, p: usize) -> i64 {
        self.pos_units(o, p, u64::MAX)
    }

    /// One attempt to post a due row; the POS may commit it, the answer may
    /// be lost (a timeout or a dropped connection: "maybe posted"). A return
    /// is refused while the POS does not hold the units it returns
    /// (`order_not_posted`: its order's sale is not in the POS yet).
    pub fn post_attempt(&mut self, i: usize, always_succeed: bool) {
        let now = self.now_ms;
        if self.rows[i].first_attempt_at_ms.is_none() {
            self.rows[i].first_attempt_at_ms = Some(now);
        }
        let (o, p, qty) = (self.rows[i].order, self.rows[i].product, self.rows[i].qty);
        if self.rows[i].committed_seq.is_none() {
            if qty > 0 && self.pos_holds(o, p) < qty {
                self.rows[i].maybe_in_pos = false;
                self.tick();
                return;
            }
            // Exactly once: a row found by its reference number is not posted again.
            if always_succeed || self.rng.chance(70) {
                let shop = self.random_shop();
                self.pos_move(p, &shop, qty);
                self.rows[i].committed_seq = Some(self.seq);
            }
        }
        self.tick();
        let answered = always_succeed || self.rng.chance(75);
        if !answered {
            self.rows[i].maybe_in_pos = true;
        } else if self.rows[i].committed_seq.is_some() {
            self.confirm(i);
        } else {
            // pos_unavailable: the POS answered, it surely does not have it.
            self.rows[i].maybe_in_pos = false;
        }
    }

    /// `sale_posted`: the row is confirmed; its items are read again.
    pub fn confirm(&mut self, i: usize) {
        self.rows[i].posted_at_ms = Some(self.now_ms);
        self.rows[i].state = RowState::Posted;
        self.rows[i].maybe_in_pos = false;
        let p = self.rows[i].product;
        self.ask_recheck(p);
    }

    /// Cancelled and released (never sent, or reported absent); its items
    /// are read again.
    pub fn release(&mut self, i: usize) {
        self.rows[i].released = true;
        self.rows[i].state = RowState::Cancelled;
        let p = self.rows[i].product;
        self.ask_recheck(p);
    }
}
