//! The one way events leave the core: the host's emit, secrets scrubbed.

use super::host::Host;
use crate::protocol::{Event, LogLevel};
use serde_json::Value;
use std::cell::RefCell;

/// The host's emit, with every known secret scrubbed from log and error
/// messages (defence in depth: no message is built from a secret, but an
/// echoing server could put one there).
pub struct RedactingEmitter<'a, H: Host> {
    pub host: &'a H,
    secrets: RefCell<Vec<String>>,
}

impl<'a, H: Host> RedactingEmitter<'a, H> {
    pub fn new(host: &'a H) -> Self {
        RedactingEmitter {
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
