//! Host tests (`cargo test`) and the doubles they share.

mod allowed_hosts_tests;
mod job_tests;
mod layering_tests;
mod lightspeed_tests;
mod lookups_tests;
mod model_tests;
mod next_missing_tests;
mod no_price_tests;
mod orders_checks_tests;
mod orders_fees_tests;
mod orders_tests;
mod pacer_tests;
mod products_tests;
mod reader_fuzz_tests;
mod session_tests;
mod stock_model;
mod stock_tests;

use crate::edge::transport::{Clock, HttpRequest, HttpResponse, Transport, TransportError};
use crate::job::{Event, Host};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

/// What happened, in order, across the doubles.
pub type Timeline = Rc<RefCell<Vec<String>>>;

pub struct FakeClock {
    pub now: Cell<u64>,
    pub sleeps: RefCell<Vec<u64>>,
}

impl FakeClock {
    pub fn new(now: u64) -> Self {
        FakeClock {
            now: Cell::new(now),
            sleeps: RefCell::new(Vec::new()),
        }
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> u64 {
        self.now.get()
    }
    async fn sleep(&self, ms: u64) {
        self.sleeps.borrow_mut().push(ms);
        self.now.set(self.now.get() + ms);
    }
}

type Reply = Box<dyn Fn(&HttpRequest) -> Result<HttpResponse, TransportError>>;

/// Answers requests from a script, in order; records what was sent.
pub struct Scripted {
    script: RefCell<VecDeque<(String, Reply)>>,
    pub sent: RefCell<Vec<HttpRequest>>,
    pub timeline: Timeline,
}

impl Scripted {
    pub fn new(timeline: Timeline) -> Self {
        Scripted {
            script: RefCell::new(VecDeque::new()),
            sent: RefCell::new(Vec::new()),
            timeline,
        }
    }

    /// Expects a request whose URL contains `url_part`; answers `status`/`body`.
    pub fn on(&self, url_part: &str, status: u16, body: &str) -> &Self {
        let body = body.to_string();
        self.reply(url_part, move |_| {
            Ok(HttpResponse::new(status, body.clone()))
        })
    }

    pub fn reply(
        &self,
        url_part: &str,
        f: impl Fn(&HttpRequest) -> Result<HttpResponse, TransportError> + 'static,
    ) -> &Self {
        self.script
            .borrow_mut()
            .push_back((url_part.to_string(), Box::new(f)));
        self
    }

    pub fn remaining(&self) -> usize {
        self.script.borrow().len()
    }
}

impl Transport for Scripted {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        let auth = req.header("Authorization").unwrap_or("-").to_string();
        self.timeline.borrow_mut().push(format!(
            "send {} {} auth={}",
            req.method.as_str(),
            req.url,
            auth
        ));
        self.sent.borrow_mut().push(req.clone());
        let (part, reply) = self
            .script
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| panic!("unexpected request {}", req.url));
        assert!(
            req.url.contains(&part),
            "expected a request to {part}, got {}",
            req.url
        );
        reply(&req)
    }
}

pub struct RecordingHost {
    pub events: RefCell<Vec<Event>>,
    pub timeline: Timeline,
    pub ack: bool,
}

impl RecordingHost {
    pub fn new(timeline: Timeline) -> Self {
        RecordingHost {
            events: RefCell::new(Vec::new()),
            timeline,
            ack: true,
        }
    }

    pub fn of_type(&self, t: &str) -> Vec<serde_json::Value> {
        self.events
            .borrow()
            .iter()
            .map(Event::to_json)
            .filter(|e| e["type"] == t)
            .collect()
    }

    pub fn all_json(&self) -> String {
        self.events
            .borrow()
            .iter()
            .map(|e| e.to_json().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Host for RecordingHost {
    fn emit(&self, event: &Event) {
        let j = event.to_json();
        self.timeline
            .borrow_mut()
            .push(format!("event {}", j["type"].as_str().unwrap_or("?")));
        self.events.borrow_mut().push(event.clone());
    }
    async fn await_token_saved(&self, refresh_token: &str) -> Result<(), String> {
        self.timeline
            .borrow_mut()
            .push(format!("ack {refresh_token}"));
        if self.ack {
            Ok(())
        } else {
            Err("stdin closed".into())
        }
    }
    fn seed(&self) -> u64 {
        42
    }
}

pub fn timeline() -> Timeline {
    Rc::new(RefCell::new(Vec::new()))
}

/// A bucket header set as Lightspeed sends it.
pub fn bucket(resp: HttpResponse, level: f64, cost: f64) -> HttpResponse {
    resp.with_header("X-LS-API-Bucket-Level", &format!("{level}/90"))
        .with_header("X-LS-API-Drip-Rate", "1")
        .with_header("X-LS-API-Request-Cost", &cost.to_string())
}

pub const API: &str = "https://api.example.test/API/V3";
pub const TOKEN_URL: &str = "https://cloud.example.test/auth/oauth/token";

pub fn job_json(
    kind: &str,
    tokens: serde_json::Value,
    cursors: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "v": 1, "kind": kind, "now_ms": 1_000_000, "budget_ms": 60_000,
        "settings": {
            "api_base": API, "token_url": TOKEN_URL, "account_id": "1",
            "client_id": "pos-sync-demo", "client_secret": "s3cret-value",
            "shop_ids": [], "safety_buffer": 0
        },
        "tokens": tokens,
        "cursors": cursors,
    })
}

pub fn valid_tokens() -> serde_json::Value {
    serde_json::json!({"access_token": "access-old-1234", "refresh_token": "refresh-old-1234", "expires_at_ms": 9_000_000})
}

pub fn token_answer(n: u32) -> String {
    format!(
        r#"{{"token_type":"Bearer","expires_in":1800,"access_token":"access-new-{n}","refresh_token":"refresh-new-{n}"}}"#
    )
}
