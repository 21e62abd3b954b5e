//! Auth sequencing, retries and budgets through `runner::run` with doubles.
use super::*;
use crate::edge::transport::TransportError;
use crate::runner;
use futures::executor::block_on;
use serde_json::json;

const ACCOUNT: &str =
    r#"{"@attributes":{"count":"1"},"Account":{"accountID":"1","name":"Demo Bikes"}}"#;

#[test]
fn new_token_is_announced_and_acknowledged_before_use() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    t.on("/auth/oauth/token", 200, &token_answer(1))
        .on("/Account.json", 200, ACCOUNT);
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let tokens =
        json!({"access_token": null, "refresh_token": "refresh-old-1234", "expires_at_ms": 0});
    let result = block_on(runner::run(
        job_json("test_connection", tokens, json!({})),
        &t,
        &clock,
        &host,
    ));
    assert_eq!(result.to_json()["ok"], true, "{}", host.all_json());
    let tl = tl.borrow();
    let pos = |needle: &str| {
        tl.iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in {tl:?}"))
    };
    assert!(pos("send POST https://cloud.example.test") < pos("event token"));
    assert!(pos("event token") < pos("ack refresh-new-1"));
    assert!(pos("ack refresh-new-1") < pos("auth=Bearer access-new-1"));
    let tok = &host.of_type("token")[0];
    assert_eq!(tok["access_token"], "access-new-1");
    assert_eq!(tok["expires_at_ms"], 1_000_000 + 1_800_000);
    let res = &host.of_type("result")[0];
    assert_eq!(res["account"], json!({"id": "1", "name": "Demo Bikes"}));
}

#[test]
fn no_ack_means_the_new_token_is_never_used() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    t.on("/auth/oauth/token", 200, &token_answer(1));
    let mut host = RecordingHost::new(tl.clone());
    host.ack = false;
    let clock = FakeClock::new(1_000_000);
    let result = block_on(runner::run(
        job_json(
            "sync",
            json!({"refresh_token": "refresh-old-1234"}),
            json!({}),
        ),
        &t,
        &clock,
        &host,
    ));
    assert_eq!(result.to_json()["ok"], false);
    assert_eq!(host.of_type("error")[0]["code"], "token_not_saved");
    assert_eq!(t.sent.borrow().len(), 1, "only the token request went out");
}

#[test]
fn a_401_refreshes_once_and_a_second_401_is_a_credentials_error() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    let denied = r#"{"error":"access_denied","error_description":"The resource owner or authorization server denied the request.","hint":"Access token could not be verified"}"#;
    t.on("/auth/oauth/token", 200, &token_answer(1))
        .on("/Account.json", 401, denied)
        .on("/auth/oauth/token", 200, &token_answer(2))
        .on("/Account.json", 401, denied);
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let result = block_on(runner::run(
        job_json("test_connection", valid_tokens(), json!({})),
        &t,
        &clock,
        &host,
    ));
    assert_eq!(result.to_json()["ok"], false);
    let err = &host.of_type("error")[0];
    assert_eq!(err["code"], "credentials");
    assert_eq!(host.of_type("token").len(), 2);
    assert_eq!(t.remaining(), 0);
}

#[test]
fn expired_token_is_refreshed_before_the_first_call() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    t.on("/auth/oauth/token", 200, &token_answer(1)).on(
        "ItemShop.json",
        200,
        r#"{"@attributes":{"count":"0"}}"#,
    );
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    // Expires in 10 s: inside the refresh margin.
    let tokens = json!({"access_token": "access-old-1234", "refresh_token": "refresh-old-1234", "expires_at_ms": 1_010_000});
    let result = block_on(runner::run(
        job_json("sync", tokens, json!({})),
        &t,
        &clock,
        &host,
    ));
    assert_eq!(result.to_json()["ok"], true, "{}", host.all_json());
    assert_eq!(
        t.sent.borrow()[1].header("Authorization"),
        Some("Bearer access-new-1")
    );
}

#[test]
fn wrong_secret_is_a_clear_credentials_failure_without_secrets() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    // An echoing server: the secret must still not reach our messages.
    t.on(
        "/auth/oauth/token",
        401,
        r#"{"error":"invalid_client","error_description":"Client authentication failed for s3cret-value"}"#,
    );
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let result = block_on(runner::run(
        job_json("test_connection", valid_tokens(), json!({})),
        &t,
        &clock,
        &host,
    ));
    assert_eq!(result.to_json()["ok"], false);
    let err = &host.of_type("error")[0];
    assert_eq!(err["code"], "credentials");
    let all = host.all_json();
    for secret in ["s3cret-value", "refresh-old-1234", "access-old-1234"] {
        assert!(!all.contains(secret), "{secret} leaked: {all}");
    }
    assert!(all.contains("Client authentication failed"));
}

#[test]
fn network_failure_and_unknown_account_are_named() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    for _ in 0..3 {
        t.reply("/auth/oauth/token", |_| {
            Err(TransportError::Network {
                message: "connection refused".into(),
                maybe_sent: false,
            })
        });
    }
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    block_on(runner::run(
        job_json("test_connection", valid_tokens(), json!({})),
        &t,
        &clock,
        &host,
    ));
    let err = &host.of_type("error")[0];
    assert_eq!(err["code"], "network");
    assert!(err["message"].as_str().unwrap().contains("token endpoint"));

    let tl = timeline();
    let t = Scripted::new(tl.clone());
    t.on("/auth/oauth/token", 200, &token_answer(1)).on(
        "/Account.json",
        200,
        r#"{"Account":{"accountID":"2","name":"Other"}}"#,
    );
    let host = RecordingHost::new(tl.clone());
    block_on(runner::run(
        job_json("test_connection", valid_tokens(), json!({})),
        &t,
        &clock,
        &host,
    ));
    let err = &host.of_type("error")[0];
    assert_eq!(err["code"], "account");
    assert!(err["message"].as_str().unwrap().contains("account 1"));
}

#[test]
fn throttle_and_server_errors_are_waited_out() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    let empty = r#"{"@attributes":{"count":"0"}}"#;
    t.reply("ItemShop.json", |_| {
        Ok(HttpResponse::new(429, "").with_header("Retry-After", "4"))
    })
    .on("ItemShop.json", 503, "<html>busy</html>")
    .reply("ItemShop.json", |_| {
        Err(TransportError::Timeout { maybe_sent: true })
    })
    .on("ItemShop.json", 200, empty);
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let result = block_on(runner::run(
        job_json("sync", valid_tokens(), json!({})),
        &t,
        &clock,
        &host,
    ));
    let r = result.to_json();
    assert_eq!(r["ok"], true, "{}", host.all_json());
    assert_eq!(r["summary"]["throttled"], 1);
    assert_eq!(r["summary"]["retries"], 2);
    let sleeps = clock.sleeps.borrow();
    assert!(sleeps.contains(&4000), "waited Retry-After: {sleeps:?}");
}

#[test]
fn persistent_5xx_gives_up_with_retry_at() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    for _ in 0..6 {
        t.on("ItemShop.json", 502, "bad gateway");
    }
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let result = block_on(runner::run(
        job_json("sync", valid_tokens(), json!({})),
        &t,
        &clock,
        &host,
    ));
    assert_eq!(result.to_json()["ok"], false);
    let err = &host.of_type("error")[0];
    assert_eq!(err["code"], "pos_unavailable");
    assert!(err["retry_at_ms"].as_u64().is_some());
    assert!(err["message"].as_str().unwrap().contains("HTTP 502"));
}

#[test]
fn budget_spent_ends_the_run_cleanly() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    // The bucket is full and drains slowly: the next request would wait past the budget.
    t.reply("ItemShop.json", |_| {
        Ok(bucket(
            HttpResponse::new(
                200,
                r#"{"@attributes":{"next":"https://api.example.test/API/V3/Account/1/ItemShop.json?after=x"},
                   "ItemShop":{"itemShopID":"1","itemID":"5","shopID":"1","qoh":"2","timeStamp":"2024-01-01T00:00:00+00:00"}}"#,
            ),
            50.0,
            1.0,
        ))
    })
    .reply("Item.json", |_| Ok(bucket(HttpResponse::new(200, r#"{"Item":{"itemID":"5","systemSku":"5"}}"#), 89.5, 1.4)));
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let mut job = job_json("sync", valid_tokens(), json!({}));
    job["budget_ms"] = json!(2_000);
    let result = block_on(runner::run(job, &t, &clock, &host));
    let r = result.to_json();
    assert_eq!(r["ok"], true, "{}", host.all_json());
    assert_eq!(r["summary"]["done"], false);
    assert_eq!(host.of_type("stock").len(), 1);
}

#[test]
fn a_short_lived_token_is_not_refreshed_before_every_request() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    t.on(
        "/auth/oauth/token",
        200,
        r#"{"access_token":"access-new-1","refresh_token":"refresh-new-1","expires_in":20}"#,
    )
    .on("/Account.json", 200, ACCOUNT);
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let result = block_on(runner::run(
        job_json("test_connection", valid_tokens(), json!({})),
        &t,
        &clock,
        &host,
    ));
    assert_eq!(result.to_json()["ok"], true, "{}", host.all_json());
    assert_eq!(host.of_type("token").len(), 1);
}
