//! Carries one job out: reads it, opens the POS session, hands it to its
//! flow and reports the `result`. The only importer of the flows.

use crate::edge::transport::{Clock, Transport};
use crate::edge::{Host, RedactingEmitter};
use crate::flows::stock;
use crate::pos::lightspeed_r::session::{ApiError, Session};
use crate::pos::lightspeed_r::Endpoint;
use crate::protocol::{AccountInfo, Event, Job, JobKind};
use serde_json::{json, Value};

/// Runs one job to its end: emits events through `host` and returns the
/// final `result` event (also emitted). Never panics on bad input.
pub async fn run<T: Transport, C: Clock, H: Host>(
    job: Value,
    transport: &T,
    clock: &C,
    host: &H,
) -> Event {
    let out = RedactingEmitter::new(host);
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
    let mut job = match Job::from_value(job) {
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
    let order_job = crate::flows::orders::OrderJob::of(&mut job);
    let now = clock.now_ms();
    let start = if job.now_ms == 0 { now } else { job.now_ms };
    let deadline_ms = start.saturating_add(job.budget_ms);
    let connection = &job.settings.connection;
    let endpoint = Endpoint::new(&connection.api_base, &connection.account_id);
    let mut session = Session::new(
        transport,
        clock,
        &out,
        endpoint,
        connection,
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
    out: &RedactingEmitter<'_, H>,
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
    let wanted = job.settings.connection.account_id.trim();
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
