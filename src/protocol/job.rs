//! The job line: what to do, with which settings, tokens and cursors.

use super::cursors::Cursors;
use super::lenient::{de_attempts, de_ids, de_opt_ms, de_text};
use super::settings::{OrderSettings, Settings, Shipping};
use super::PROTOCOL_VERSION;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

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
    pub replan: Replan,
    /// The only hosts requests may go to (`"host"` or `"host:port"`); empty:
    /// the hosts of `settings.api_base` and `settings.token_url`.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// The outbox rows to post (`post_orders` jobs; read with the order
    /// part of the settings).
    #[serde(skip)]
    pub outbox: Vec<OutboxRow>,
}

impl Job {
    /// Reads and checks a job, the order part and outbox of a
    /// `post_orders` job included; the message names what is wrong.
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
        let orders =
            (v.get("kind").and_then(Value::as_str) == Some("post_orders")).then(|| order_parts(&v));
        let mut job: Job =
            serde_json::from_value(v).map_err(|e| format!("job is malformed: {e}"))?;
        let s = &job.settings.connection;
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
        if let Some(orders) = orders {
            let (settings, outbox) = orders?;
            job.settings.orders = Some(settings);
            job.outbox = outbox;
        }
        Ok(job)
    }
}

/// Reads the order part of `settings` and the `outbox` of a `post_orders`
/// job line; the message names what is wrong (→ `bad_job`).
pub fn order_parts(job: &Value) -> Result<(OrderSettings, Vec<OutboxRow>), String> {
    let settings: OrderSettings =
        serde_json::from_value(job.get("settings").cloned().unwrap_or(Value::Null))
            .map_err(|e| format!("settings for post_orders are malformed: {e}"))?;
    for (name, v) in [
        ("settings.shop_id", &settings.shop_id),
        ("settings.register_id", &settings.register_id),
        ("settings.employee_id", &settings.employee_id),
    ] {
        if v.is_empty() || v == "0" {
            return Err(format!("{name} is empty"));
        }
    }
    if let Shipping::Item { item_id } = &settings.shipping {
        if item_id.is_empty() || item_id == "0" {
            return Err("settings.shipping.item_id is empty (mode \"item\")".into());
        }
    }
    if settings.max_attempts == 0 {
        return Err("settings.max_attempts must be at least 1".into());
    }
    let outbox: Vec<OutboxRow> =
        serde_json::from_value(job.get("outbox").cloned().unwrap_or(json!([])))
            .map_err(|e| format!("outbox is malformed: {e}"))?;
    for row in &outbox {
        if row.id.is_empty() || row.reference.is_empty() {
            return Err("every outbox row needs an id and a reference".into());
        }
    }
    Ok((settings, outbox))
}

/// `replan` of a publish job: listings to plan again whatever their
/// timestamps say, because what decides them changed in WooCommerce (the
/// merchant picked or dropped them by hand under the `manual` rule).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Replan {
    #[serde(default, deserialize_with = "de_ids")]
    pub item_ids: Vec<String>,
    #[serde(default, deserialize_with = "de_ids")]
    pub matrix_ids: Vec<String>,
}

impl Replan {
    pub fn is_empty(&self) -> bool {
        self.item_ids.is_empty() && self.matrix_ids.is_empty()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    Order,
    Refund,
}

/// One outbox row as PHP sends it; the payload is read per row so one bad
/// payload fails that row, not the job.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct OutboxRow {
    #[serde(deserialize_with = "de_text")]
    pub id: String,
    pub kind: RowKind,
    #[serde(deserialize_with = "de_text")]
    pub reference: String,
    #[serde(default, deserialize_with = "de_attempts")]
    pub attempts: u32,
    #[serde(default)]
    pub payload: Value,
    /// When the WooCommerce order (a refund: the refund) was created; the
    /// collision check's date window. `None`: no date test.
    #[serde(default, deserialize_with = "de_opt_ms")]
    pub placed_at_ms: Option<u64>,
    /// The order was cancelled while this row was possibly in flight: only
    /// look it up (found → `sale_posted`, not found → `outbox_absent`),
    /// never post it.
    #[serde(default)]
    pub lookup_only: bool,
}
