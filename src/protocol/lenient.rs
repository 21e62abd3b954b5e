//! Lenient readers for the job's fields: PHP sends numbers as strings and
//! strings as numbers, and leaves optional fields empty or null.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Text from a string (trimmed) or a number; null is empty. The one text
/// reader of the job (the job's and the order fields' used to differ: the
/// order fields' trimming and null-as-empty is kept, so `" 12 "` is `12`).
pub fn de_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected text or a number, got {other}"
        ))),
    }
}

/// An id, `None` when empty or `"0"` (Lightspeed's "no such row").
pub fn de_opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = de_text(d)?;
    Ok(Some(s).filter(|s| !s.is_empty() && s != "0"))
}

/// A count ≥ 0 from a number or a string; null is 0.
pub fn de_attempts<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(0),
        Value::Number(n) => n
            .as_u64()
            .map(|n| n.min(u32::MAX as u64) as u32)
            .ok_or_else(|| serde::de::Error::custom("attempts must be a whole number ≥ 0")),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom("attempts must be a whole number ≥ 0")),
        other => Err(serde::de::Error::custom(format!(
            "attempts must be a number, got {other}"
        ))),
    }
}

/// A time in ms ≥ 0 from a number or a string; null or empty is `None`.
pub fn de_opt_ms<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("placed_at_ms must be a time in ms ≥ 0")),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom("placed_at_ms must be a time in ms ≥ 0")),
        other => Err(serde::de::Error::custom(format!(
            "placed_at_ms must be a number, got {other}"
        ))),
    }
}

/// A list of ids as strings (trimmed) or numbers; null is empty.
pub fn de_text_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Array(a) => a
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.trim().to_string()),
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

/// A whole number from a number or a string; null or empty is 0.
pub fn de_int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
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

/// The field's own reader, null read as its default.
pub fn de_or_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Ids or names (strings trimmed, numbers as text); null is empty.
pub fn de_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Array(a) => a
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.trim().to_string()),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(serde::de::Error::custom(format!(
                    "expected ids or names, got {other}"
                ))),
            })
            .collect(),
        other => Err(serde::de::Error::custom(format!(
            "expected a list, got {other}"
        ))),
    }
}
