//! The timestamp cursor and incremental scan shared by the stock pull
//! (ItemShop rows, version = qoh) and the publish read (Items and
//! ItemMatrices, version = a hash of the row). Pure.
//!
//! A cursor is a second (`ts`) and the rows read in it with the version
//! seen: rows with a later `timeStamp` are unread; a row at exactly `ts` is
//! read again only when its version moved (it changed twice within one
//! second and kept its timeStamp).

use crate::pos::lightspeed_r::model::{parse_timestamp_ms, ParseError};
use std::collections::BTreeMap;

/// Where one timestamp-ordered read stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamps<V> {
    ts_ms: Option<i64>,
    ts: String,
    /// Rows read at `ts`, with the version seen (`None`: listed by an older
    /// cursor that kept no versions).
    seen: BTreeMap<String, Option<V>>,
}

impl<V: Clone> Stamps<V> {
    /// Nothing read yet.
    pub fn start() -> Self {
        Stamps {
            ts_ms: None,
            ts: String::new(),
            seen: BTreeMap::new(),
        }
    }

    /// From a stored cursor's parts; `field` names it in the error.
    pub fn from_parts(
        ts: &str,
        ids: &[String],
        version_of: impl Fn(&str) -> Option<V>,
        field: &str,
    ) -> Result<Self, String> {
        let ts_ms = parse_timestamp_ms(ts)
            .ok_or_else(|| format!("{field}.ts is not a timestamp: {ts:?}"))?;
        Ok(Stamps {
            ts_ms: Some(ts_ms),
            ts: ts.to_string(),
            seen: ids.iter().map(|id| (id.clone(), version_of(id))).collect(),
        })
    }

    /// The timestamp to query from (`timeStamp=>=,ts`), `None` = from the start.
    pub fn since(&self) -> Option<&str> {
        self.ts_ms.map(|_| self.ts.as_str())
    }

    /// `(ts, ids, versions)` to store, `None` before any row was read.
    pub fn parts(&self) -> Option<(String, Vec<String>, BTreeMap<String, V>)> {
        self.ts_ms?;
        Some((
            self.ts.clone(),
            self.seen.keys().cloned().collect(),
            self.seen
                .iter()
                .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
                .collect(),
        ))
    }

    /// Must this row be processed?
    pub fn admits<R>(&self, ts_ms: i64, id: &str, version: &R) -> bool
    where
        V: PartialEq<R>,
    {
        match self.ts_ms {
            None => true,
            Some(cur) if ts_ms > cur => true,
            Some(cur) if ts_ms < cur => false,
            // Same second: read unless we saw it with this very version.
            _ => match self.seen.get(id) {
                None => true,
                Some(None) => false,
                Some(Some(v)) => v != version,
            },
        }
    }

    /// Records a row as read (rows arrive oldest first).
    pub fn advance<R: Into<V>>(&mut self, ts: &str, ts_ms: i64, id: &str, version: R) {
        match self.ts_ms {
            Some(cur) if ts_ms < cur => {}
            Some(cur) if ts_ms == cur => {
                self.seen.insert(id.to_string(), Some(version.into()));
            }
            _ => {
                self.ts_ms = Some(ts_ms);
                self.ts = ts.to_string();
                self.seen.clear();
                self.seen.insert(id.to_string(), Some(version.into()));
            }
        }
    }
}

/// One row of a timestamp-ordered read.
#[derive(Clone, Copy, Debug)]
pub struct StampRow<'a, R> {
    pub id: &'a str,
    pub ts: &'a str,
    pub version: R,
}

/// What to read after a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextRead {
    /// A fresh query from the cursor: `timeStamp=>=,<cursor.ts>`.
    Fresh,
    /// The page's `next` link (keyset pagination inside one query).
    Follow,
    /// Caught up.
    Done,
}

/// The incremental scan: decides, page by page, what to process and what
/// to read next.
///
/// Why not simply follow `next`: a row changed while we page through its
/// second gets that same second as timeStamp, and if its id sorts before our
/// position it lands behind the keyset — and once the cursor moves to a
/// later second it would be lost. So after each page the scan re-queries
/// from the cursor (`>= ts`, which re-includes that second), and follows
/// `next` only through a second holding more rows than a page. A second
/// scanned that way is read once more after the first row of a later second
/// is seen: from then on no change can land in it, so the second pass is
/// complete. One shortcut: a page whose rows are all older than
/// `settled_before_ms` is followed with `next` (no change can land in a
/// second that long past: a change moves a row to "now"), so a first import
/// reads each row once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scan<V> {
    pub state: Stamps<V>,
    /// A second paged through with `next` and not yet re-read.
    group_scan: Option<i64>,
    /// A second already re-read (no second re-read).
    settled: Option<i64>,
}

impl<V: Clone> Scan<V> {
    pub fn new(state: Stamps<V>) -> Self {
        Scan {
            state,
            group_scan: None,
            settled: None,
        }
    }

    /// Takes one page (oldest first); returns the indexes of the rows to
    /// process and what to read next.
    pub fn on_rows<R: Copy + Into<V>>(
        &mut self,
        rows: &[StampRow<'_, R>],
        has_next: bool,
        settled_before_ms: i64,
        resource: &'static str,
    ) -> Result<(Vec<usize>, NextRead), ParseError>
    where
        V: PartialEq<R>,
    {
        let mut admitted = Vec::new();
        let mut page_ts: Option<i64> = None;
        let mut last_ts: Option<i64> = None;
        let mut one_second = true;
        for (i, row) in rows.iter().enumerate() {
            let ts_ms = parse_timestamp_ms(row.ts).ok_or_else(|| {
                ParseError::new(
                    resource,
                    Some(row.id.to_string()),
                    format!("field timeStamp: not a timestamp: {:?}", row.ts),
                )
            })?;
            if let Some(g) = self.group_scan {
                if ts_ms > g {
                    // Left a second we paged through: read it once more.
                    self.group_scan = None;
                    self.settled = Some(g);
                    return Ok((admitted, NextRead::Fresh));
                }
            }
            match page_ts {
                None => page_ts = Some(ts_ms),
                Some(t) if t != ts_ms => one_second = false,
                _ => {}
            }
            last_ts = Some(ts_ms);
            if self.state.admits(ts_ms, row.id, &row.version) {
                admitted.push(i);
            }
            self.state.advance(row.ts, ts_ms, row.id, row.version);
        }
        // A POS that omits `next` on a full page (seen on older answers
        // and proxies) has more: the time cursor reads on. Only a page
        // shorter than a page's limit without `next` is the end.
        let full = rows.len() >= crate::pos::lightspeed_r::MAX_PAGE;
        if rows.is_empty() || !(has_next || full) {
            return Ok((admitted, NextRead::Done));
        }
        if !has_next && one_second {
            // A full page of one second and no link to page through it:
            // a fresh query would answer the same rows.
            return Ok((admitted, NextRead::Done));
        }
        if !has_next {
            return Ok((admitted, NextRead::Fresh));
        }
        if last_ts.is_some_and(|t| t < settled_before_ms) {
            return Ok((admitted, NextRead::Follow));
        }
        if one_second {
            // The whole page is one second (now the cursor's): a fresh
            // query would return the same rows. Page through it.
            if let Some(t) = page_ts {
                if self.settled != Some(t) {
                    self.group_scan = Some(t);
                }
            }
            return Ok((admitted, NextRead::Follow));
        }
        Ok((admitted, NextRead::Fresh))
    }
}
