//! Why a row was not posted, and when it is tried again (pure).

use super::*;
use crate::pos::lightspeed_r::session::ApiError;
use crate::protocol::Event;

// ---------------------------------------------------------------------------
// Failures (pure classification)

/// How a failed row is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureClass {
    /// Try again later (backoff by attempts; attention after `max_attempts`).
    Transient,
    /// Retrying the same payload cannot help: attention at once.
    Permanent,
}

/// Why a row was not posted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowFailure {
    pub code: &'static str,
    /// What went wrong, without the row's name (added by [`failure_event`]).
    pub cause: String,
    pub class: FailureClass,
}

impl RowFailure {
    pub fn permanent(code: &'static str, cause: impl Into<String>) -> Self {
        RowFailure {
            code,
            cause: cause.into(),
            class: FailureClass::Permanent,
        }
    }

    pub fn transient(code: &'static str, cause: impl Into<String>) -> Self {
        RowFailure {
            code,
            cause: cause.into(),
            class: FailureClass::Transient,
        }
    }
}

/// What a failed write means for the row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteFailure {
    /// No clear answer (timeout, dropped connection, 502/504 from a
    /// gateway): the write may still land; never re-post in this run.
    InFlight,
    /// The POS answered with a server error: look up once, then it is safe
    /// to leave the row for a later attempt.
    Answered,
}

/// Reads an [`ApiError::MaybeApplied`] detail (`"HTTP 500"` or a transport
/// error text).
pub fn classify_maybe_applied(detail: &str) -> WriteFailure {
    match detail
        .strip_prefix("HTTP ")
        .and_then(|s| s.trim().parse::<u16>().ok())
    {
        Some(502) | Some(504) | None => WriteFailure::InFlight,
        Some(_) => WriteFailure::Answered,
    }
}

/// Job-wide errors stop the run (and become the job's `error` event);
/// everything else is the row's own failure.
pub fn is_job_wide(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::Credentials(_)
            | ApiError::Unauthorized(_)
            | ApiError::Account(_)
            | ApiError::TokenNotSaved(_)
            | ApiError::BudgetSpent
            | ApiError::Request(_)
            | ApiError::HostNotAllowed { .. }
    )
}

/// A failed API call of a row → the row's failure.
pub fn classify_api_error(e: &ApiError) -> RowFailure {
    match e {
        ApiError::Refused { status, reason, .. } => RowFailure::permanent(
            "pos_refused",
            format!("the POS refused it (HTTP {status}: {reason})"),
        ),
        ApiError::Malformed(p) => RowFailure::transient(
            "malformed_answer",
            format!("the POS answer was unreadable ({p})"),
        ),
        ApiError::RateLimited { .. } => {
            RowFailure::transient("rate_limited", "the POS kept answering 429 (throttled)")
        }
        ApiError::Unavailable { detail, .. } => RowFailure::transient(
            "pos_unavailable",
            format!("POS answered {}", short_detail(detail)),
        ),
        ApiError::Network { detail, .. } => RowFailure::transient(
            "network",
            format!("the POS could not be reached ({detail})"),
        ),
        ApiError::MaybeApplied { detail, .. } => RowFailure::transient(
            "maybe_posted",
            format!(
                "no clear answer after sending ({}); it is looked up again before any new attempt",
                short_detail(detail)
            ),
        ),
        other => RowFailure::transient(other.code(), other.to_string()),
    }
}

pub(crate) fn short_detail(d: &str) -> String {
    d.strip_prefix("HTTP ").unwrap_or(d).to_string()
}

/// When to try a row again after its `failures`-th failed attempt, or
/// `None` when it is parked for attention. Capped exponential:
/// 1, 2, 4, 8, 16, 32, 60, 60… minutes.
pub fn retry_at_ms(now_ms: u64, failures: u32, max_attempts: u32) -> Option<u64> {
    if failures >= max_attempts {
        return None;
    }
    let step = RETRY_BASE_MS
        .saturating_mul(1u64 << failures.saturating_sub(1).min(20))
        .min(RETRY_CAP_MS);
    Some(now_ms + step)
}

/// `HH:MM` (UTC) of an instant, for messages.
pub fn hh_mm_utc(ms: u64) -> String {
    let minutes = (ms / 60_000) % 1440;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The `outbox_failed` event of a row: message names the order, says what
/// happens next; attention when permanent or out of attempts.
pub fn failure_event(
    row: &OutboxRow,
    what: &str,
    failure: &RowFailure,
    now_ms: u64,
    max_attempts: u32,
) -> Event {
    let failures = row.attempts.saturating_add(1);
    let (retry, message) = match failure.class {
        FailureClass::Permanent => (
            None,
            format!(
                "{what}: {}; needs attention (fix the cause, then retry)",
                failure.cause
            ),
        ),
        FailureClass::Transient => match retry_at_ms(now_ms, failures, max_attempts) {
            Some(at) => (
                Some(at),
                format!(
                    "{what}: {}; retry {} of {} at {} UTC",
                    failure.cause,
                    failures,
                    max_attempts.saturating_sub(1),
                    hh_mm_utc(at)
                ),
            ),
            None => (
                None,
                format!(
                    "{what}: {}; gave up after {failures} attempts, needs attention (retried by itself once the POS answers again)",
                    failure.cause
                ),
            ),
        },
    };
    Event::OutboxFailed {
        outbox_id: row.id.clone(),
        reference: row.reference.clone(),
        code: failure.code.to_string(),
        message,
        attention: retry.is_none(),
        resumable: retry.is_none() && failure.class == FailureClass::Transient,
        retry_at_ms: retry,
    }
}

/// "order #1042" / "refund #77 of order #1042", from whatever the payload
/// gives (the reference when the payload is unreadable).
pub fn row_name(row: &OutboxRow) -> String {
    let text = |k: &str| {
        row.payload.get(k).and_then(|v| match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    match row.kind {
        RowKind::Order => match text("number") {
            Some(n) => format!("order #{n}"),
            None => format!("order {}", row.reference),
        },
        RowKind::Refund => {
            let n = text("number").map_or_else(|| row.reference.clone(), |n| format!("#{n}"));
            match (text("order_number"), text("order_reference")) {
                (Some(o), _) => format!("refund {n} of order #{o}"),
                (None, Some(o)) => format!("refund {n} of order {o}"),
                (None, None) => format!("refund {n}"),
            }
        }
    }
}
