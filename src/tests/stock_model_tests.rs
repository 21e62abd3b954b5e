//! The stock formula under interleavings (issue "Stock"): a model of the POS,
//! the web shop and its outbox, the sidecar's readings and the applier, driven
//! by seeded random schedules. The rules under test are the core's own:
//! [`stock::plan`] (Σ qoh over the chosen shops − buffer) and
//! [`ledger::ledger_for`] / [`ledger::web_stock`] (what the applier writes).
//!
//! Checked for every schedule:
//! - safety: no write by the sync ever puts web stock above what the POS
//!   could supply at the reading once the orders it had not counted are taken
//!   off (and only restocks it surely had not counted are added);
//! - convergence: after quiescence (every row posted, every dirty or
//!   rechecked product read and applied) web stock equals
//!   max(0, Σ qoh − buffer) for every product.

use crate::sync::ledger::{ledger_for, web_stock, LedgerRow};
use crate::sync::stock::{plan, ItemStock, StockSettings};
use std::collections::BTreeMap;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone, Debug)]
struct OutboxRow {
    product: usize,
    qty: i64,
    first_attempt_at_ms: Option<u64>,
    /// Sequence number of the POS commit (truth the shop cannot see).
    committed_seq: Option<u64>,
    posted_at_ms: Option<u64>,
}

#[derive(Clone, Debug)]
struct Reading {
    product: usize,
    base: i64,
    read_from_ms: u64,
    read_until_ms: u64,
    read_seq: u64,
    pos_version: u64,
    /// What the POS could supply at the reading, outbox aside.
    qoh_at_read: i64,
}

struct World {
    rng: Rng,
    now_ms: u64,
    seq: u64,
    shops: Vec<String>,
    settings: StockSettings,
    qoh: Vec<BTreeMap<String, i64>>,
    web: Vec<i64>,
    rows: Vec<OutboxRow>,
    pos_version: Vec<u64>,
    applied_version: Vec<u64>,
    /// Recheck asked for at this time (a row of the product was confirmed).
    recheck: Vec<Option<u64>>,
    in_flight: Vec<Reading>,
    writes: u64,
}

impl World {
    fn new(seed: u64) -> World {
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
            now_ms: 1_000,
            seq: 0,
            shops,
            settings,
            qoh,
            web: vec![0; products],
            rows: Vec::new(),
            pos_version: vec![1; products],
            applied_version: vec![0; products],
            recheck: vec![None; products],
            in_flight: Vec::new(),
            writes: 0,
        }
    }

    fn tick(&mut self) {
        self.seq += 1;
        // Several steps may share one millisecond: ties are part of the test.
        self.now_ms += self.rng.below(2);
    }

    fn pos_move(&mut self, p: usize, shop: &str, delta: i64) {
        *self.qoh[p].get_mut(shop).unwrap() += delta;
        *self.qoh[p].get_mut("0").unwrap() += delta;
        self.pos_version[p] += 1;
    }

    fn base_now(&self, p: usize) -> (i64, i64) {
        let item = ItemStock {
            item_id: p.to_string(),
            sku: format!("SKU-{p}"),
            archived: false,
            shop_qoh: self.qoh[p].clone(),
        };
        let level = plan(&[item], &self.settings).remove(0);
        (level.base, level.qoh)
    }

    fn dirty(&self, p: usize) -> bool {
        self.pos_version[p] > self.applied_version[p] || self.recheck[p].is_some()
    }

    fn read(&mut self, p: usize) {
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

    fn ledger_rows(&self, p: usize) -> Vec<LedgerRow> {
        self.rows
            .iter()
            .filter(|r| r.product == p)
            .map(|r| LedgerRow {
                qty: r.qty,
                first_attempt_at_ms: r.first_attempt_at_ms,
                posted_at_ms: r.posted_at_ms,
                released: false,
            })
            .collect()
    }

    /// The applier: one reading, the ledger as it stands now (inside the
    /// transaction that writes the stock).
    fn apply_next(&mut self) {
        if self.in_flight.is_empty() {
            return;
        }
        let r = self.in_flight.remove(0);
        let p = r.product;
        let ledger = ledger_for(&self.ledger_rows(p), r.read_from_ms, r.read_until_ms);
        let target = web_stock(r.base, ledger);

        // Safety: what the POS could supply at the reading, with every row it
        // had truly not counted then (orders off, restocks on).
        let uncounted: i64 = self
            .rows
            .iter()
            .filter(|row| row.product == p)
            .filter(|row| row.committed_seq.is_none_or(|c| c > r.read_seq))
            .map(|row| row.qty)
            .sum();
        let supply = (r.qoh_at_read - self.settings.safety_buffer + uncounted).max(0);
        assert!(
            target <= supply,
            "product {p}: the sync wrote {target} but the POS could supply {supply} \
             (reading {r:?}, rows {:?})",
            self.rows
        );

        self.web[p] = target;
        self.writes += 1;
        self.applied_version[p] = self.applied_version[p].max(r.pos_version);
        if matches!(self.recheck[p], Some(asked) if r.read_from_ms > asked) {
            self.recheck[p] = None;
        }
    }

    /// One attempt to post a row; the POS may commit it, the answer may be
    /// lost (a timeout or a dropped connection: "maybe posted").
    fn post_attempt(&mut self, i: usize, always_succeed: bool) {
        let now = self.now_ms;
        if self.rows[i].first_attempt_at_ms.is_none() {
            self.rows[i].first_attempt_at_ms = Some(now);
        }
        if self.rows[i].committed_seq.is_none() {
            // Exactly once: a row found by its reference number is not posted again.
            if always_succeed || self.rng.chance(70) {
                let (p, qty) = (self.rows[i].product, self.rows[i].qty);
                let shop = self.shops[self.rng.below(2) as usize].clone();
                self.pos_move(p, &shop, qty);
                self.rows[i].committed_seq = Some(self.seq);
            }
        }
        self.tick();
        let answered = always_succeed || self.rng.chance(75);
        if answered && self.rows[i].committed_seq.is_some() {
            let p = self.rows[i].product;
            self.rows[i].posted_at_ms = Some(self.now_ms);
            self.recheck[p] = Some(self.now_ms);
        }
    }

    fn step(&mut self) {
        let n = self.web.len();
        let p = self.rng.below(n as u64) as usize;
        match self.rng.below(100) {
            // In-store sale, return, purchase order, count: the POS moves.
            0..=14 => {
                let shop = self.shops[self.rng.below(2) as usize].clone();
                let delta = self.rng.below(7) as i64 - 3;
                self.pos_move(p, &shop, delta);
            }
            // Online order: WooCommerce refuses what it does not have.
            15..=34 => {
                let q = 1 + self.rng.below(3) as i64;
                if self.web[p] >= q {
                    self.web[p] -= q;
                    self.rows.push(OutboxRow {
                        product: p,
                        qty: -q,
                        first_attempt_at_ms: None,
                        committed_seq: None,
                        posted_at_ms: None,
                    });
                }
            }
            // Refund of some earlier order of this product: restocking or money only.
            35..=41 => {
                let sold: i64 = -self
                    .rows
                    .iter()
                    .filter(|r| r.product == p)
                    .map(|r| r.qty)
                    .sum::<i64>();
                if sold > 0 && self.rng.chance(60) {
                    let q = 1 + self.rng.below(sold as u64) as i64;
                    self.web[p] += q; // WooCommerce restocks itself
                    self.rows.push(OutboxRow {
                        product: p,
                        qty: q,
                        first_attempt_at_ms: None,
                        committed_seq: None,
                        posted_at_ms: None,
                    });
                } // a money-only refund moves no stock anywhere
            }
            // A figure typed into WooCommerce.
            // The plugin notices the edit (a stock hook it did not cause) and
            // asks for a fresh reading, so the next run overwrites it.
            42..=46 => {
                self.web[p] = self.rng.below(12) as i64;
                self.recheck[p] = Some(self.now_ms);
            }
            // The sidecar posts a row (or retries one).
            47..=61 => {
                let open: Vec<usize> = (0..self.rows.len())
                    .filter(|&i| self.rows[i].posted_at_ms.is_none())
                    .collect();
                if !open.is_empty() {
                    let i = open[self.rng.below(open.len() as u64) as usize];
                    self.post_attempt(i, false);
                }
            }
            // A sync run reads some dirty products (the cursor scan).
            62..=79 => {
                for q in 0..n {
                    if self.dirty(q) && self.rng.chance(70) {
                        self.read(q);
                    }
                }
            }
            // The applier commits the next reading.
            80..=95 => self.apply_next(),
            // The sidecar dies: readings not yet applied are lost (their
            // cursor was not committed, so they are read again).
            _ => self.in_flight.clear(),
        }
        self.tick();
    }

    fn quiesce(&mut self) {
        for _ in 0..100 {
            while !self.in_flight.is_empty() {
                self.apply_next();
            }
            for i in 0..self.rows.len() {
                while self.rows[i].posted_at_ms.is_none() {
                    self.post_attempt(i, true);
                }
            }
            self.tick();
            let dirty: Vec<usize> = (0..self.web.len()).filter(|&p| self.dirty(p)).collect();
            if dirty.is_empty() {
                return;
            }
            self.tick();
            for p in dirty {
                self.read(p);
            }
            self.tick();
        }
        panic!("no quiescence after 100 rounds");
    }
}

fn run_schedule(seed: u64, steps: usize) -> u64 {
    let mut w = World::new(seed);
    for p in 0..w.web.len() {
        w.read(p); // the first import
    }
    for _ in 0..steps {
        w.step();
    }
    w.quiesce();
    for p in 0..w.web.len() {
        let (base, _) = w.base_now(p);
        assert_eq!(
            w.web[p],
            base.max(0),
            "seed {seed}: product {p} shows {} after quiescence, the formula says {}",
            w.web[p],
            base.max(0)
        );
        assert_eq!(
            ledger_for(&w.ledger_rows(p), w.now_ms + 1, w.now_ms + 1),
            0,
            "seed {seed}: every row is counted by the POS after quiescence"
        );
    }
    w.writes
}

#[test]
fn web_stock_converges_to_the_formula_and_never_oversells_over_1500_schedules() {
    let mut writes = 0;
    for seed in 1..=1500u64 {
        writes += run_schedule(seed, 60 + (seed as usize % 90));
    }
    assert!(
        writes > 10_000,
        "the schedules exercised the applier ({writes} writes)"
    );
}

#[test]
fn ledger_rule_matches_the_shared_fixture() {
    // The same file is checked by the plugin's tests against its SQL.
    let text = include_str!("../../tests/fixtures/ledger-cases.json");
    let doc: serde_json::Value = serde_json::from_str(text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for c in cases {
        let rows: Vec<LedgerRow> = serde_json::from_value(c["rows"].clone()).unwrap();
        let from = c["read_from_ms"].as_u64().unwrap();
        let until = c["read_until_ms"].as_u64().unwrap();
        let ledger = ledger_for(&rows, from, until);
        assert_eq!(ledger, c["ledger"].as_i64().unwrap(), "case {}", c["name"]);
        assert_eq!(
            web_stock(c["base"].as_i64().unwrap(), ledger),
            c["web"].as_i64().unwrap(),
            "case {}",
            c["name"]
        );
    }
}

#[test]
fn a_posted_order_is_not_given_back_by_a_reading_taken_before_it() {
    // The oversell window the ledger closes: the reading predates the POS
    // commit, the confirmation arrives before the reading is applied.
    let rows = [LedgerRow {
        qty: -2,
        first_attempt_at_ms: Some(1_000),
        posted_at_ms: Some(1_050),
        released: false,
    }];
    assert_eq!(web_stock(5, ledger_for(&rows, 1_020, 1_030)), 3);
    // A reading taken after the confirmation already counts it.
    assert_eq!(web_stock(3, ledger_for(&rows, 1_060, 1_070)), 3);
}
