//! Lightspeed timestamps and per-shop quantities.

use super::*;

// ---------------------------------------------------------------------------
// Timestamps

/// Parses `2016-11-10T13:51:54+00:00` (also `Z`, fractional seconds) into
/// milliseconds since the epoch, so cursors compare instants, not strings.
pub fn parse_timestamp_ms(ts: &str) -> Option<i64> {
    let t = ts.trim();
    let b = t.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(r)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d, h, mi, s) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &t[19..];
    let mut millis = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let digits = &frac[..n];
        let padded: String = digits.chars().chain("000".chars()).take(3).collect();
        millis = padded.parse().ok()?;
        rest = &frac[n..];
    }
    let offset_min = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let o = &rest[1..];
            let (oh, om) = match o.len() {
                5 if o.as_bytes()[2] == b':' => {
                    (o[0..2].parse::<i64>().ok()?, o[3..5].parse::<i64>().ok()?)
                }
                4 => (o[0..2].parse::<i64>().ok()?, o[2..4].parse::<i64>().ok()?),
                2 => (o.parse::<i64>().ok()?, 0),
                _ => return None,
            };
            sign * (oh * 60 + om)
        }
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset_min * 60;
    Some(secs * 1000 + millis)
}

// Howard Hinnant's days_from_civil.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Per-shop quantities of one item, as read from its ItemShops.
pub fn shop_quantities(item: &Item) -> BTreeMap<String, i64> {
    item.item_shops
        .iter()
        .map(|s| (s.shop_id.clone().unwrap_or_else(|| "0".to_string()), s.qoh))
        .collect()
}
