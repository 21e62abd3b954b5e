//! Events out: one JSON line each, as docs/PROTOCOL.md lists them.

use super::listing::Listing;
use super::lookups::Lookups;
use super::stock::StockLevel;
use super::PROTOCOL_VERSION;
use serde::Serialize;
use serde_json::{json, Value};

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
        product: Box<Listing>,
        /// Absent for a listing planned again on request (`replan`): the
        /// cursor does not move.
        #[serde(skip_serializing_if = "Option::is_none")]
        cursor: Option<Value>,
    },
    /// The settings page's pick-lists (`sync::lookups`).
    Lookups {
        lookups: Lookups,
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
