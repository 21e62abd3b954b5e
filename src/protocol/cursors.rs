//! The job's `cursors`: where each read stands. PHP stores them as the
//! core hands them back and sends them with the next job.

use super::lenient::de_text;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Cursors {
    #[serde(default)]
    pub item_shop: Option<ItemShopCursor>,
    #[serde(default)]
    pub reconcile: Option<ReconcileCursor>,
    #[serde(default)]
    pub publish: Option<PublishCursor>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct ReconcileCursor {
    /// Last itemID done (the run resumes with `itemID=>,after`).
    #[serde(deserialize_with = "de_text")]
    pub after: String,
}

/// Where the incremental stock read stands: every ItemShop row with a later
/// `timeStamp` is unread; rows at exactly `ts` listed in `ids` were read.
///
/// Lightspeed timestamps have one-second resolution, so many rows share
/// one. Re-reading from `>= ts` and skipping the listed rows means equal
/// timestamps are neither lost nor read twice. A row listed in `ids` that
/// changed again within the same second still carries the same `ts`, so the
/// qoh we saw is kept in `qoh` and a row whose qoh differs is read again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemShopCursor {
    pub ts: String,
    #[serde(default)]
    pub ids: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub qoh: BTreeMap<String, i64>,
}

/// Where one timestamp-ordered read stands: rows with a later `timeStamp`
/// are unread; rows at exactly `ts` listed in `ids` were read, with the
/// version seen in `v` (a row changed again within the same second keeps
/// its timeStamp, so a different version means read it again).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StampCursor {
    pub ts: String,
    #[serde(default)]
    pub ids: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub v: BTreeMap<String, String>,
}

/// Progress of one pass (from a caught-up cursor to caught up again).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassProgress {
    pub done: u64,
    pub total: Option<u64>,
}

/// `cursors.publish`: opaque to PHP.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishCursor {
    #[serde(default)]
    pub item: Option<StampCursor>,
    #[serde(default)]
    pub matrix: Option<StampCursor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<PassProgress>,
}
