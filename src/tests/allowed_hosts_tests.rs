//! The core sends requests only to the job's allowed hosts (issue 12).
use super::*;
use crate::edge::allowed_hosts::AllowedHosts;
use crate::runner;
use futures::executor::block_on;
use serde_json::json;

fn list(hosts: &[&str]) -> Vec<String> {
    hosts.iter().map(|h| h.to_string()).collect()
}

#[test]
fn without_a_list_only_the_settings_hosts_are_allowed() {
    let a = AllowedHosts::new(&[], API, TOKEN_URL);
    assert!(a
        .check("https://api.example.test/API/V3/Account/1/Item.json")
        .is_ok());
    assert!(a
        .check("https://CLOUD.example.test/auth/oauth/token")
        .is_ok());
    assert!(
        a.check("https://api.example.test:443/x").is_ok(),
        "default port spelled out"
    );
    let r = a.check("https://evil.example.test/API/V3/Account/1/Item.json?after=x");
    assert_eq!(r.unwrap_err().host, "evil.example.test");
    assert!(
        a.check("https://api.example.test:8443/x").is_err(),
        "another port"
    );
    assert!(
        a.check("http://api.example.test/x").is_err(),
        "http is port 80, not 443"
    );
}

#[test]
fn disguised_hosts_and_other_schemes_are_refused() {
    let a = AllowedHosts::new(
        &list(&["api.example.test", "127.0.0.1:8787"]),
        API,
        TOKEN_URL,
    );
    for url in [
        "https://api.example.test@evil.example.test/x",
        "https://evil.example.test\\@api.example.test/x",
        "https://evil.example.test/https://api.example.test/",
        "https://api.example.test.evil.example.test/x",
        "ftp://api.example.test/x",
        "file:///etc/passwd",
        "//api.example.test/x",
        "https://127.0.0.1:8788/x",
        "http://127.0.0.1/x",
        "",
    ] {
        assert!(a.check(url).is_err(), "{url} must be refused");
    }
    assert!(a.check("http://127.0.0.1:8787/API/V3/Account.json").is_ok());
    assert!(
        a.check("https://api.example.test./x").is_ok(),
        "a trailing dot is the same host"
    );
    let cloud = a.check(TOKEN_URL).unwrap_err();
    assert_eq!(
        cloud.allowed, "api.example.test, 127.0.0.1:8787",
        "a list replaces the settings' hosts"
    );
}

#[test]
fn a_job_whose_pos_host_is_not_allowed_sends_nothing() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let mut job = job_json("sync", valid_tokens(), json!({}));
    job["allowed_hosts"] = json!(["api.lightspeedapp.com", "cloud.lightspeedapp.com"]);
    let result = block_on(runner::run(job, &t, &clock, &host)).to_json();
    assert_eq!(result["ok"], false);
    assert!(t.sent.borrow().is_empty(), "no request left the core");
    let err = &host.of_type("error")[0];
    assert_eq!(err["code"], "host_not_allowed", "{}", host.all_json());
    let msg = err["message"].as_str().unwrap();
    assert!(msg.contains("api.example.test"), "{msg}");
    assert!(
        !msg.contains("access-old-1234") && !msg.contains("s3cret"),
        "{msg}"
    );
}

#[test]
fn the_secret_never_goes_to_a_token_url_outside_the_list() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    // No access token: the first thing the core would do is the refresh grant.
    let mut job = job_json(
        "test_connection",
        json!({"refresh_token": "refresh-old-1234"}),
        json!({}),
    );
    job["allowed_hosts"] = json!(["api.example.test"]);
    let result = block_on(runner::run(job, &t, &clock, &host)).to_json();
    assert_eq!(result["ok"], false);
    assert!(t.sent.borrow().is_empty(), "the client secret was not sent");
    assert_eq!(host.of_type("error")[0]["code"], "host_not_allowed");
}

#[test]
fn listed_hosts_work_as_before() {
    let tl = timeline();
    let t = Scripted::new(tl.clone());
    t.on("/auth/oauth/token", 200, &token_answer(1)).on(
        "/Account.json",
        200,
        r#"{"@attributes":{"count":"1"},"Account":{"accountID":"1","name":"Demo Bikes"}}"#,
    );
    let host = RecordingHost::new(tl.clone());
    let clock = FakeClock::new(1_000_000);
    let mut job = job_json("test_connection", valid_tokens(), json!({}));
    job["allowed_hosts"] = json!(["API.example.test", "cloud.example.test"]);
    let result = block_on(runner::run(job, &t, &clock, &host)).to_json();
    assert_eq!(result["ok"], true, "{}", host.all_json());
}
