//! Jobs in, events out: the sidecar protocol of docs/PROTOCOL.md as types,
//! and [`run`], which carries one job out.

use crate::edge::transport::{Clock, Transport};
use crate::flows::stock::{self, ItemShopCursor, StockLevel};
use crate::pos::lightspeed_r::session::{ApiError, Session};
use crate::pos::lightspeed_r::Endpoint;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use std::cell::RefCell;

pub const PROTOCOL_VERSION: u32 = 1;

// ---------------------------------------------------------------------------
// Job

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Sync,
    Reconcile,
    TestConnection,
    Publish,
    PostOrders,
    Lookups,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Sync => "sync",
            JobKind::Reconcile => "reconcile",
            JobKind::TestConnection => "test_connection",
            JobKind::Publish => "publish",
            JobKind::PostOrders => "post_orders",
            JobKind::Lookups => "lookups",
        }
    }
}

#[derive(Clone, Deserialize)]
pub struct Settings {
    pub api_base: String,
    pub token_url: String,
    #[serde(deserialize_with = "de_text")]
    pub account_id: String,
    pub client_id: String,
    pub client_secret: String,
    /// Empty: every shop (the shopID 0 total row).
    #[serde(default, deserialize_with = "de_text_list")]
    pub shop_ids: Vec<String>,
    #[serde(default, deserialize_with = "de_int")]
    pub safety_buffer: i64,
    /// Publish flow settings (`publish_rule`, `price_level`, `units` …).
    #[serde(flatten)]
    pub publish: crate::flows::products::PublishConfig,
}

// Never print the secret.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("api_base", &self.api_base)
            .field("token_url", &self.token_url)
            .field("account_id", &self.account_id)
            .field("client_id", &self.client_id)
            .field("shop_ids", &self.shop_ids)
            .field("safety_buffer", &self.safety_buffer)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Tokens {
    #[serde(default)]
    pub access_token: Option<String>,
    pub refresh_token: String,
    /// 0 = unknown (the token is used until a 401 says otherwise).
    #[serde(default)]
    pub expires_at_ms: u64,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens {{ expires_at_ms: {} }}", self.expires_at_ms)
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct ReconcileCursor {
    /// Last itemID done (the run resumes with `itemID=>,after`).
    #[serde(deserialize_with = "de_text")]
    pub after: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Cursors {
    #[serde(default)]
    pub item_shop: Option<ItemShopCursor>,
    #[serde(default)]
    pub reconcile: Option<ReconcileCursor>,
    #[serde(default)]
    pub publish: Option<crate::flows::products::PublishCursor>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Job {
    pub v: u32,
    pub kind: JobKind,
    #[serde(default)]
    pub now_ms: u64,
    pub budget_ms: u64,
    pub settings: Settings,
    pub tokens: Tokens,
    #[serde(default)]
    pub cursors: Cursors,
    /// Items to read afresh before the incremental pull (sync jobs).
    #[serde(default)]
    pub recheck_item_ids: Vec<String>,
    /// Listings to plan again before the incremental read (publish jobs).
    #[serde(default)]
    pub replan: crate::flows::products::Replan,
    /// The only hosts requests may go to (`"host"` or `"host:port"`); empty:
    /// the hosts of `settings.api_base` and `settings.token_url`.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
}

impl Job {
    /// Reads and checks a job; the message names what is wrong.
    pub fn from_value(v: Value) -> Result<Job, String> {
        match v.get("v") {
            Some(x) if x == &json!(PROTOCOL_VERSION) => {}
            Some(x) => {
                return Err(format!(
                    "unsupported protocol version {x} (this core speaks v{PROTOCOL_VERSION})"
                ))
            }
            None => return Err("job has no \"v\" field".into()),
        }
        let job: Job = serde_json::from_value(v).map_err(|e| format!("job is malformed: {e}"))?;
        let s = &job.settings;
        for (name, value) in [
            ("settings.api_base", &s.api_base),
            ("settings.token_url", &s.token_url),
            ("settings.account_id", &s.account_id),
            ("settings.client_id", &s.client_id),
        ] {
            if value.trim().is_empty() {
                return Err(format!("{name} is empty"));
            }
        }
        if !(s.api_base.starts_with("http://") || s.api_base.starts_with("https://")) {
            return Err("settings.api_base must be an http(s) URL".into());
        }
        if job.budget_ms == 0 {
            return Err("budget_ms must be positive".into());
        }
        Ok(job)
    }
}

fn de_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected a string or number, got {other}"
        ))),
    }
}

fn de_text_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Array(a) => a
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(serde::de::Error::custom(format!(
                    "expected shop ids, got {other}"
                ))),
            })
            .collect(),
        other => Err(serde::de::Error::custom(format!(
            "expected a list, got {other}"
        ))),
    }
}

fn de_int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(0),
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| serde::de::Error::custom("expected a whole number")),
        Value::String(s) if s.trim().is_empty() => Ok(0),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("expected a whole number, got {s:?}"))),
        other => Err(serde::de::Error::custom(format!(
            "expected a whole number, got {other}"
        ))),
    }
}

// ---------------------------------------------------------------------------
// Events

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    Debug,
    Info,
    Warning,
    Error,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccountInfo {
    pub id: String,
    pub name: String,
}

#[derive(Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Hello {
        core: String,
        kind: String,
    },
    Token {
        access_token: String,
        refresh_token: String,
        expires_at_ms: u64,
    },
    Stock {
        levels: Vec<StockLevel>,
        cursor: Value,
    },
    Progress {
        flow: String,
        done: u64,
        total: Option<u64>,
    },
    Log {
        level: LogLevel,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        context: Option<Value>,
    },
    Error {
        code: String,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_at_ms: Option<u64>,
    },
    /// One WooCommerce listing (`sync::products`), with the publish
    /// cursor PHP stores in the same transaction.
    Product {
        product: Box<crate::flows::products::Listing>,
        /// Absent for a listing planned again on request (`replan`): the
        /// cursor does not move.
        #[serde(skip_serializing_if = "Option::is_none")]
        cursor: Option<Value>,
    },
    /// The settings page's pick-lists (`sync::lookups`).
    Lookups {
        lookups: crate::flows::lookups::Lookups,
    },
    /// Only a cursor moved (nothing to write).
    Cursor {
        flow: String,
        cursor: Value,
    },
    Result {
        ok: bool,
        kind: String,
        summary: Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        account: Option<AccountInfo>,
    },
    /// An outbox row is in the POS (`existing`: found by lookup, not posted
    /// by this run). See `sync::orders`.
    SalePosted {
        outbox_id: String,
        reference: String,
        sale_id: String,
        customer_id: Option<String>,
        existing: bool,
    },
    /// A `lookup_only` row (its order was cancelled while it was possibly
    /// in flight) is not in the POS: PHP may release its hold. Never posted.
    OutboxAbsent {
        outbox_id: String,
        reference: String,
    },
    /// An outbox row was not posted this run; `retry_at_ms` null with
    /// `attention` true: parked until someone acts.
    OutboxFailed {
        outbox_id: String,
        reference: String,
        code: String,
        message: String,
        retry_at_ms: Option<u64>,
        attention: bool,
        /// Parked only because transient failures reached `max_attempts`:
        /// PHP puts it back to retry once the POS answers again.
        resumable: bool,
    },
}

// Token events carry secrets: keep them out of Debug output.
impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::Token { expires_at_ms, .. } => {
                write!(f, "Token {{ expires_at_ms: {expires_at_ms} }}")
            }
            other => write!(f, "{}", other.to_json()),
        }
    }
}

impl Event {
    /// The wire form: the event with `"v":1`.
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or_else(|_| json!({"type": "error"}));
        if let Value::Object(m) = &mut v {
            m.insert("v".into(), json!(PROTOCOL_VERSION));
        }
        v
    }

    pub fn log(level: LogLevel, message: impl Into<String>) -> Event {
        Event::Log {
            level,
            message: message.into(),
            context: None,
        }
    }
}

/// What the core needs from its host besides HTTP and time.
#[allow(async_fn_in_trait)]
pub trait Host {
    /// Hands one event to the host (written as one line by the sidecar).
    fn emit(&self, event: &Event);
    /// Resolves once the host has persisted the token pair whose refresh
    /// token is `refresh_token` (PHP writes `token_saved`).
    async fn await_token_saved(&self, refresh_token: &str) -> Result<(), String>;
    /// Seed for retry jitter.
    fn seed(&self) -> u64;
}

/// The host's emit, with every known secret scrubbed from log and error
/// messages (defence in depth: no message is built from a secret, but an
/// echoing server could put one there).
pub struct Output<'a, H: Host> {
    pub host: &'a H,
    secrets: RefCell<Vec<String>>,
}

impl<'a, H: Host> Output<'a, H> {
    pub fn new(host: &'a H) -> Self {
        Output {
            host,
            secrets: RefCell::new(Vec::new()),
        }
    }

    pub fn add_secret(&self, s: &str) {
        if s.len() >= 4 {
            self.secrets.borrow_mut().push(s.to_string());
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in self.secrets.borrow().iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "[redacted]");
            }
        }
        out
    }

    pub fn emit(&self, event: Event) {
        let event = match event {
            Event::Log {
                level,
                message,
                context,
            } => Event::Log {
                level,
                message: self.redact(&message),
                context: context.map(|c| {
                    serde_json::from_str(&self.redact(&c.to_string())).unwrap_or(Value::Null)
                }),
            },
            Event::Error {
                code,
                message,
                retry_at_ms,
            } => Event::Error {
                code,
                message: self.redact(&message),
                retry_at_ms,
            },
            Event::OutboxFailed {
                outbox_id,
                reference,
                code,
                message,
                retry_at_ms,
                attention,
                resumable,
            } => Event::OutboxFailed {
                outbox_id,
                reference,
                code,
                message: self.redact(&message),
                retry_at_ms,
                attention,
                resumable,
            },
            other => other,
        };
        self.host.emit(&event);
    }

    pub fn log(&self, level: LogLevel, message: impl Into<String>) {
        self.emit(Event::log(level, message));
    }
}

// ---------------------------------------------------------------------------
// Running a job

/// Runs one job to its end: emits events through `host` and returns the
/// final `result` event (also emitted). Never panics on bad input.
pub async fn run<T: Transport, C: Clock, H: Host>(
    job: Value,
    transport: &T,
    clock: &C,
    host: &H,
) -> Event {
    let out = Output::new(host);
    let kind_hint = job
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string();
    // Scrub secrets even from a job we cannot parse.
    for ptr in [
        "/settings/client_secret",
        "/tokens/access_token",
        "/tokens/refresh_token",
    ] {
        if let Some(s) = job.pointer(ptr).and_then(Value::as_str) {
            out.add_secret(s);
        }
    }
    // post_orders reads its own settings and outbox (sync::orders).
    let order_job = match job.get("kind").and_then(Value::as_str) {
        Some("post_orders") => Some(crate::flows::orders::OrderJob::from_job(&job)),
        _ => None,
    };
    let job = match Job::from_value(job) {
        Ok(j) => j,
        Err(message) => {
            out.emit(Event::Error {
                code: "bad_job".into(),
                message,
                retry_at_ms: None,
            });
            return finish(&out, false, &kind_hint, json!({}), None);
        }
    };
    let order_job = match order_job.transpose() {
        Ok(o) => o,
        Err(message) => {
            out.emit(Event::Error {
                code: "bad_job".into(),
                message,
                retry_at_ms: None,
            });
            return finish(&out, false, &kind_hint, json!({}), None);
        }
    };
    let now = clock.now_ms();
    let start = if job.now_ms == 0 { now } else { job.now_ms };
    let deadline_ms = start.saturating_add(job.budget_ms);
    let endpoint = Endpoint::new(&job.settings.api_base, &job.settings.account_id);
    let mut session = Session::new(
        transport,
        clock,
        &out,
        endpoint,
        &job.settings,
        job.tokens.clone(),
        deadline_ms,
    )
    .with_allowed_hosts(&job.allowed_hosts);
    let kind = job.kind.as_str();

    let outcome = match job.kind {
        JobKind::TestConnection => test_connection(&mut session, &job).await,
        JobKind::Publish => crate::flows::products::run_publish(
            &mut session,
            &job.settings,
            job.cursors.publish.clone(),
            &job.replan,
        )
        .await
        .map(|s| (s, None)),
        JobKind::Sync => {
            match stock::run_recheck(&mut session, &job.settings, &job.recheck_item_ids).await {
                Ok(_) | Err(ApiError::BudgetSpent) => {
                    stock::run_sync(&mut session, &job.settings, job.cursors.item_shop.clone())
                        .await
                        .map(|s| (s, None))
                }
                Err(e) => Err((e, json!({}))),
            }
        }
        JobKind::Reconcile => {
            stock::run_reconcile(&mut session, &job.settings, job.cursors.reconcile.clone())
                .await
                .map(|s| (s, None))
        }
        JobKind::PostOrders => match &order_job {
            Some(o) => crate::flows::orders::run(&mut session, o)
                .await
                .map(|s| (s, None)),
            // Read above whenever the kind is post_orders.
            None => Ok((json!({"rows": 0, "done": true}), None)),
        },
        JobKind::Lookups => crate::flows::lookups::run_lookups(&mut session)
            .await
            .map(|s| (s, None))
            .map_err(|e| (e, json!({}))),
    };
    let stats = session.stats_json();
    match outcome {
        Ok((mut summary, account)) => {
            merge(&mut summary, stats);
            finish(&out, true, kind, summary, account)
        }
        Err((err, mut summary)) => {
            let retry_at_ms = err.retry_at_ms(clock.now_ms());
            out.emit(Event::Error {
                code: err.code().into(),
                message: err.to_string(),
                retry_at_ms,
            });
            merge(&mut summary, stats);
            finish(&out, false, kind, summary, None)
        }
    }
}

fn merge(summary: &mut Value, extra: Value) {
    if let (Value::Object(s), Value::Object(e)) = (summary, extra) {
        for (k, v) in e {
            s.entry(k).or_insert(v);
        }
    }
}

fn finish<H: Host>(
    out: &Output<'_, H>,
    ok: bool,
    kind: &str,
    summary: Value,
    account: Option<AccountInfo>,
) -> Event {
    let event = Event::Result {
        ok,
        kind: kind.to_string(),
        summary,
        account,
    };
    out.emit(event.clone());
    event
}

type JobOutcome = Result<(Value, Option<AccountInfo>), (ApiError, Value)>;

/// Refreshes the token (this proves the client id, secret and refresh
/// token all work, which later unattended runs depend on), then reads
/// `Account.json` and checks the configured account is there.
async fn test_connection<T: Transport, C: Clock, H: Host>(
    session: &mut Session<'_, T, C, H>,
    job: &Job,
) -> JobOutcome {
    let fail = |e| (e, json!({}));
    session.refresh().await.map_err(fail)?;
    let accounts = session.accounts().await.map_err(fail)?;
    let wanted = job.settings.account_id.trim();
    match accounts.iter().find(|a| a.account_id == wanted) {
        Some(a) => Ok((
            json!({"accounts": accounts.len()}),
            Some(AccountInfo {
                id: a.account_id.clone(),
                name: a.name.clone(),
            }),
        )),
        None => {
            let ids: Vec<&str> = accounts.iter().map(|a| a.account_id.as_str()).collect();
            Err(fail(ApiError::Account(format!(
                "the credentials work but do not give access to account {wanted} (they give: {})",
                if ids.is_empty() {
                    "none".to_string()
                } else {
                    ids.join(", ")
                }
            ))))
        }
    }
}
