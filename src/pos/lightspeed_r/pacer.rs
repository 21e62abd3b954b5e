//! Rate pacing and retry decisions: pure logic, time passed in.
//!
//! Lightspeed meters each account + client with a leaky bucket (size 90,
//! draining about 1 unit/s) and a burst limiter (about 20 requests a
//! second). Every answer reports the bucket (`X-LS-API-Bucket-Level:
//! 12.5/90`), its drip rate and the request's cost. The pacer keeps a model
//! of the bucket from those headers and delays each request just enough that
//! it fits, so a steady run spends the whole budget and is never throttled.

use crate::edge::transport::{HttpResponse, Method, TransportError};
use std::collections::{BTreeMap, VecDeque};

/// Hold after a 429 that carries no Retry-After.
pub const DEFAULT_THROTTLE_WAIT_MS: u64 = 2_000;

/// Rate-limit headers of one answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RateHeaders {
    pub level: Option<f64>,
    pub size: Option<f64>,
    pub drip_per_s: Option<f64>,
    pub cost: Option<f64>,
    pub retry_after_ms: Option<u64>,
    /// `api-leaky-bucket` or `api-burst-limiter` on a 429.
    pub limit_type: Option<String>,
}

impl RateHeaders {
    pub fn read(resp: &HttpResponse) -> Self {
        let num = |name: &str| {
            resp.header(name)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|f| f.is_finite() && *f >= 0.0)
        };
        let (level, size) = match resp
            .header("X-LS-API-Bucket-Level")
            .and_then(|v| v.split_once('/'))
        {
            Some((l, s)) => (
                l.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && *f > 0.0),
            ),
            None => (None, None),
        };
        RateHeaders {
            level,
            size,
            drip_per_s: num("X-LS-API-Drip-Rate").filter(|d| *d > 0.0),
            cost: num("X-LS-API-Request-Cost"),
            // Retry-After in seconds (Lightspeed R). An HTTP-date form is not
            // used by R-Series; it falls back to the bucket model.
            retry_after_ms: num("Retry-After").map(|s| (s * 1000.0).ceil() as u64),
            limit_type: resp.header("X-LS-API-RateLimit-Type").map(str::to_string),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PacerConfig {
    /// Units kept free below the bucket's size, for our own estimate error.
    pub headroom: f64,
    /// Requests allowed per `burst_window_ms`; Lightspeed allows about 20 a
    /// second, we stay well below.
    pub burst_max: usize,
    pub burst_window_ms: u64,
    /// Assumed until the first answer tells better.
    pub default_size: f64,
    pub default_drip_per_s: f64,
}

impl Default for PacerConfig {
    fn default() -> Self {
        PacerConfig {
            headroom: 2.0,
            burst_max: 14,
            // A little over a second: arrival times jitter with latency.
            burst_window_ms: 1100,
            default_size: 90.0,
            default_drip_per_s: 1.0,
        }
    }
}

/// The bucket model.
#[derive(Clone, Debug)]
pub struct Pacer {
    cfg: PacerConfig,
    level: f64,
    size: f64,
    drip_per_s: f64,
    /// When `level` was true (ms); `None` before the first answer.
    observed_at_ms: Option<u64>,
    sends: VecDeque<u64>,
    /// Last cost the server reported per request label.
    learned_cost: BTreeMap<String, f64>,
    /// No request before this instant (after a 429).
    hold_until_ms: u64,
}

impl Pacer {
    pub fn new(cfg: PacerConfig) -> Self {
        Pacer {
            level: 0.0,
            size: cfg.default_size,
            drip_per_s: cfg.default_drip_per_s,
            observed_at_ms: None,
            sends: VecDeque::new(),
            learned_cost: BTreeMap::new(),
            hold_until_ms: 0,
            cfg,
        }
    }

    pub fn drip_per_s(&self) -> f64 {
        self.drip_per_s
    }

    pub fn size(&self) -> f64 {
        self.size
    }

    /// The bucket level we expect at `now_ms`.
    pub fn level_at(&self, now_ms: u64) -> f64 {
        match self.observed_at_ms {
            None => self.level,
            Some(t) => {
                let drained = self.drip_per_s * now_ms.saturating_sub(t) as f64 / 1000.0;
                (self.level - drained).max(0.0)
            }
        }
    }

    /// The cost to plan with: what the server charged last time for the same
    /// kind of request, else the documented model.
    pub fn cost_of(&self, label: &str, model_cost: f64) -> f64 {
        self.learned_cost.get(label).copied().unwrap_or(model_cost)
    }

    /// How long to wait before sending a request of `cost` at `now_ms`.
    pub fn delay_ms(&self, now_ms: u64, cost: f64) -> u64 {
        let mut wait = self.hold_until_ms.saturating_sub(now_ms);
        // Bucket: after this request the level must stay below the cap.
        let cap = (self.size - self.cfg.headroom).max(cost);
        let excess = self.level_at(now_ms) + cost - cap;
        if excess > 0.0 {
            wait = wait.max((excess / self.drip_per_s * 1000.0).ceil() as u64);
        }
        // Burst: at most burst_max sends in any window.
        if self.cfg.burst_max > 0 && self.sends.len() >= self.cfg.burst_max {
            let oldest = self.sends[self.sends.len() - self.cfg.burst_max];
            let free_at = oldest + self.cfg.burst_window_ms;
            wait = wait.max(free_at.saturating_sub(now_ms));
        }
        wait
    }

    /// A request is leaving now.
    pub fn on_send(&mut self, now_ms: u64, cost: f64) {
        self.level = self.level_at(now_ms) + cost;
        self.observed_at_ms = Some(now_ms);
        self.sends.push_back(now_ms);
        while self.sends.len() > self.cfg.burst_max.max(1) {
            self.sends.pop_front();
        }
    }

    /// An answer came back (any status): learn the bucket from it.
    pub fn on_answer(&mut self, now_ms: u64, label: &str, h: &RateHeaders) {
        if let Some(size) = h.size {
            self.size = size;
        }
        if let Some(drip) = h.drip_per_s {
            self.drip_per_s = drip;
        }
        if let Some(level) = h.level {
            self.level = level;
            self.observed_at_ms = Some(now_ms);
        }
        if let Some(cost) = h.cost.filter(|c| *c > 0.0) {
            self.learned_cost.insert(label.to_string(), cost);
        }
    }

    /// A 429: hold every request for Retry-After (or until the bucket has
    /// room, when the header is missing). Returns the wait.
    pub fn on_throttled(&mut self, now_ms: u64, h: &RateHeaders) -> u64 {
        // Lightspeed always sends Retry-After with a 429; without it (a
        // proxy?) hold for a short fixed while and let the bucket model,
        // refreshed from this answer's headers, do the rest.
        let wait = h
            .retry_after_ms
            .unwrap_or(DEFAULT_THROTTLE_WAIT_MS)
            .max(100);
        self.hold_until_ms = self.hold_until_ms.max(now_ms + wait);
        wait
    }
}

// ---------------------------------------------------------------------------
// Retries

/// A small seeded generator (xorshift64*) for jitter: the host supplies the
/// seed, so there is no global RNG and tests are repeatable.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        XorShift(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
}

/// Capped exponential backoff with jitter.
#[derive(Clone, Debug, PartialEq)]
pub struct Backoff {
    pub base_ms: u64,
    pub cap_ms: u64,
    /// Failed attempts (5xx / network) before giving up.
    pub max_attempts: u32,
    /// 429s in a row before giving up.
    pub max_throttles: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base_ms: 500,
            cap_ms: 30_000,
            max_attempts: 6,
            max_throttles: 12,
        }
    }
}

impl Backoff {
    /// Delay before retry number `attempt` (1-based): half the exponential
    /// step plus a random half ("equal jitter"), so retries never collapse
    /// to zero and never synchronise.
    pub fn delay_ms(&self, attempt: u32, rng: &mut XorShift) -> u64 {
        let exp = self
            .base_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(20))
            .min(self.cap_ms);
        exp / 2 + rng.below(exp / 2 + 1)
    }
}

/// What happened to one attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Status(u16),
    Failed(TransportError),
}

/// Where a write stands after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteState {
    /// The server answered success.
    Applied,
    /// Refused or never sent: retrying cannot duplicate it.
    NotApplied,
    /// A timeout or dropped connection after sending, or a server error:
    /// it may have been applied. Look it up (e.g. `Sale.json?referenceNumber=`)
    /// before any new attempt.
    MaybeApplied,
}

pub fn classify_write(outcome: &Outcome) -> WriteState {
    match outcome {
        Outcome::Status(s) if (200..300).contains(s) => WriteState::Applied,
        // 429 and other 4xx: the request was refused before doing anything.
        Outcome::Status(s) if (400..500).contains(s) => WriteState::NotApplied,
        Outcome::Status(_) => WriteState::MaybeApplied,
        Outcome::Failed(e) if e.maybe_sent() => WriteState::MaybeApplied,
        Outcome::Failed(_) => WriteState::NotApplied,
    }
}

/// Counters of one request's attempts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RetryState {
    pub failures: u32,
    pub throttles: u32,
    pub refreshed: bool,
}

/// What to do after an attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    Accept,
    /// 401: refresh the token once, then try again.
    RefreshAndRetry,
    /// 429: wait (the pacer already holds all requests).
    WaitThrottled(u64),
    /// 5xx / network on a request that is safe to repeat.
    Backoff(u64),
    GiveUp(GiveUp),
}

#[derive(Clone, Debug, PartialEq)]
pub enum GiveUp {
    /// A second 401, right after a refresh.
    Unauthorized,
    /// Any other 4xx: our request is wrong; retrying will not help.
    Refused(u16),
    /// Too many 5xx / network failures.
    Unavailable(Outcome),
    TooManyThrottles,
    /// A write failed in a way that may have applied it.
    MaybeApplied(Outcome),
}

/// Decides the next step after an attempt. Updates `st`; `throttle_wait_ms`
/// is what the pacer said to wait on a 429.
pub fn decide(
    outcome: &Outcome,
    method: Method,
    st: &mut RetryState,
    backoff: &Backoff,
    rng: &mut XorShift,
    throttle_wait_ms: u64,
) -> Decision {
    match outcome {
        Outcome::Status(s) if (200..300).contains(s) => Decision::Accept,
        Outcome::Status(401) => {
            if st.refreshed {
                Decision::GiveUp(GiveUp::Unauthorized)
            } else {
                st.refreshed = true;
                Decision::RefreshAndRetry
            }
        }
        Outcome::Status(429) => {
            st.throttles += 1;
            if st.throttles > backoff.max_throttles {
                Decision::GiveUp(GiveUp::TooManyThrottles)
            } else {
                Decision::WaitThrottled(throttle_wait_ms)
            }
        }
        Outcome::Status(s) if (400..500).contains(s) => Decision::GiveUp(GiveUp::Refused(*s)),
        other => {
            if !method.is_idempotent() && classify_write(other) == WriteState::MaybeApplied {
                return Decision::GiveUp(GiveUp::MaybeApplied(other.clone()));
            }
            st.failures += 1;
            if st.failures >= backoff.max_attempts {
                Decision::GiveUp(GiveUp::Unavailable(other.clone()))
            } else {
                Decision::Backoff(backoff.delay_ms(st.failures, rng))
            }
        }
    }
}
