//! Issue 11: a POS that leaves `next` out of a full page. The reconcile
//! reads on with its id cursor and the timestamp scans with their time
//! cursor; only a page shorter than the limit without `next` ends a pass.

use super::*;
use crate::flows::stamp::{NextRead, Scan, StampRow, Stamps};
use crate::job;
use crate::pos::lightspeed_r::MAX_PAGE;
use futures::executor::block_on;
use serde_json::json;

fn item(id: u64) -> serde_json::Value {
    json!({"itemID": id.to_string(), "systemSku": id.to_string(),
        "ItemShops": {"ItemShop": {"itemShopID": id.to_string(), "itemID": id.to_string(), "shopID": "0", "qoh": "1"}}})
}

#[test]
fn reconcile_follows_a_full_page_without_next_by_its_id_cursor() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    let page = |ids: std::ops::RangeInclusive<u64>| {
        let items: Vec<_> = ids.map(item).collect();
        // No `next` at all: the POS (or a proxy) dropped it.
        json!({"@attributes": {"count": "103", "offset": "0", "limit": "100"}, "Item": items})
            .to_string()
    };
    t.on("Item.json?sort=itemID&archived=false", 200, &page(1..=100))
        .on(
            "Item.json?sort=itemID&itemID=%3E%2C100&archived=false",
            200,
            &page(101..=103),
        );
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let job = job_json("reconcile", valid_tokens(), json!({"reconcile": null}));
    let result = block_on(job::run(job, &t, &clock, &host)).to_json();
    assert_eq!(result["ok"], true, "{}", host.all_json());
    let stock = host.of_type("stock");
    assert_eq!(stock.len(), 2, "{}", host.all_json());
    assert_eq!(stock[0]["cursor"], json!({"reconcile": {"after": "100"}}));
    assert_eq!(stock[1]["cursor"], json!({"reconcile": null}));
    assert_eq!(result["summary"]["items"], 103);
    assert_eq!(t.remaining(), 0);
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn ts_text(s: u64) -> String {
    format!(
        "2024-01-01T{:02}:{:02}:{:02}+00:00",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

#[test]
fn property_a_timestamp_scan_reads_every_row_when_the_pos_never_sends_next() {
    for seed in 1..=300u64 {
        let mut rng = Rng(seed * 0x9E37_79B9 + 7);
        let n = 50 + rng.below(600) as usize;
        // (ts second, id); fewer than a page per second, many shared.
        let mut rows: Vec<(u64, u64)> = (0..n)
            .map(|i| (rng.below(1 + n as u64 / 20), i as u64 + 1))
            .collect();
        rows.sort();
        let texts: Vec<(String, String)> = rows
            .iter()
            .map(|(s, id)| (ts_text(*s), id.to_string()))
            .collect();
        let mut scan: Scan<i64> = Scan::new(Stamps::start());
        let mut seen = std::collections::BTreeSet::new();
        let mut since: Option<u64> = None;
        let mut queries = 0;
        loop {
            queries += 1;
            assert!(queries < 10 * n, "seed {seed}: the scan does not end");
            let page: Vec<StampRow<i64>> = rows
                .iter()
                .zip(&texts)
                .filter(|((s, _), _)| since.is_none_or(|x| *s >= x))
                .take(MAX_PAGE)
                .map(|(_, (ts, id))| StampRow { id, ts, version: 1 })
                .collect();
            let (admitted, next) = scan.on_rows(&page, false, i64::MIN, "ItemShop").unwrap();
            for i in admitted {
                seen.insert(page[i].id.to_string());
            }
            match next {
                NextRead::Done => break,
                // No link to follow: only a fresh query from the cursor.
                NextRead::Fresh | NextRead::Follow => {
                    since = Some(page.last().map_or(0, |r| {
                        rows.iter()
                            .find(|(_, id)| id.to_string() == r.id)
                            .unwrap()
                            .0
                    }))
                }
            }
        }
        assert_eq!(seen.len(), n, "seed {seed}: every row was read");
    }
}
