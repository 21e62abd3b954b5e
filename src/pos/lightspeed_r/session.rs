//! One authorised, paced conversation with Lightspeed.
//!
//! Moves [`ApiRequest`] values over a [`Transport`]: refreshes the token
//! when it is missing, near expiry or refused once (handing the new pair to
//! the host and waiting for its acknowledgement before using it), paces
//! every request from the rate headers, waits out 429s and retries 5xx and
//! network failures with jittered backoff, all within the job's time budget.

use crate::edge::allowed_hosts::AllowedHosts;
use crate::edge::transport::{Clock, HttpResponse, Transport};
use crate::edge::{Host, RedactingEmitter};
use crate::pos::lightspeed_r::model::{Account, ParseError};
use crate::pos::lightspeed_r::pacer::{
    decide, Backoff, Decision, GiveUp, Outcome, Pacer, PacerConfig, RateHeaders, RetryState,
    XorShift,
};
use crate::pos::lightspeed_r::{self as ls, ApiRequest, Endpoint, RequestError};
use crate::protocol::{Connection, Event, LogLevel, Tokens};
use serde_json::{json, Value};

/// Refresh this long before the token's stated expiry.
pub const REFRESH_MARGIN_MS: u64 = 30_000;
/// Longest wait for one answer.
pub const REQUEST_TIMEOUT_MS: u64 = 30_000;
/// After a transient failure, suggest the next run this much later.
pub const RETRY_LATER_MS: u64 = 60_000;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("could not reach {what}: {detail}")]
    Network { what: &'static str, detail: String },
    #[error("Lightspeed refused the client id/secret or the refresh token ({0}); check the credentials or reconnect the POS")]
    Credentials(String),
    #[error(
        "Lightspeed refused the access token again right after a refresh ({0}); reconnect the POS"
    )]
    Unauthorized(String),
    #[error("{0}")]
    Account(String),
    #[error("{label}: Lightspeed kept answering 429 (throttled) after {count} waits; the next run continues from the saved cursor")]
    RateLimited { label: String, count: u32 },
    #[error("{label}: Lightspeed unavailable ({detail}) after {attempts} attempts; the next run continues from the saved cursor")]
    Unavailable {
        label: String,
        detail: String,
        attempts: u32,
    },
    #[error("{label}: Lightspeed answered HTTP {status}: {reason}")]
    Refused {
        label: String,
        status: u16,
        reason: String,
    },
    #[error("{0}")]
    Malformed(#[from] ParseError),
    #[error("the new token pair was not confirmed as saved ({0}); it was not used, the old pair stays valid")]
    TokenNotSaved(String),
    #[error("time budget spent")]
    BudgetSpent,
    #[error("{label}: no clear answer after sending ({detail}); it may have been applied and must be looked up before another attempt")]
    MaybeApplied { label: String, detail: String },
    #[error("internal: {0}")]
    Request(#[from] RequestError),
    #[error("refused to send a request to {host}: the job allows only the POS hosts ({allowed}); check the API base and token URLs")]
    HostNotAllowed { host: String, allowed: String },
}

impl ApiError {
    /// The `code` of the error event.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Network { .. } => "network",
            ApiError::Credentials(_) | ApiError::Unauthorized(_) => "credentials",
            ApiError::Account(_) => "account",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable { .. } => "pos_unavailable",
            ApiError::Refused { .. } => "pos_refused",
            ApiError::Malformed(_) => "malformed_answer",
            ApiError::TokenNotSaved(_) => "token_not_saved",
            ApiError::BudgetSpent => "budget_spent",
            ApiError::MaybeApplied { .. } => "maybe_applied",
            ApiError::Request(_) => "internal",
            ApiError::HostNotAllowed { .. } => "host_not_allowed",
        }
    }

    /// When a later run may succeed, suggest when.
    pub fn retry_at_ms(&self, now_ms: u64) -> Option<u64> {
        match self {
            ApiError::Network { .. }
            | ApiError::RateLimited { .. }
            | ApiError::Unavailable { .. }
            | ApiError::TokenNotSaved(_)
            | ApiError::MaybeApplied { .. } => Some(now_ms + RETRY_LATER_MS),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub requests: u64,
    pub throttled: u64,
    pub retries: u64,
    pub token_refreshes: u64,
}

pub struct Session<'a, T: Transport, C: Clock, H: Host> {
    transport: &'a T,
    clock: &'a C,
    out: &'a RedactingEmitter<'a, H>,
    pub endpoint: Endpoint,
    connection: &'a Connection,
    tokens: Tokens,
    pacer: Pacer,
    backoff: Backoff,
    rng: XorShift,
    /// Where requests may go: the configured POS only (next links included).
    allowed: AllowedHosts,
    deadline_ms: u64,
    /// Refresh this long before expiry; shrinks for short-lived tokens so a
    /// 20 s token is not refreshed before every request.
    refresh_margin_ms: u64,
    pub stats: Stats,
}

impl<'a, T: Transport, C: Clock, H: Host> Session<'a, T, C, H> {
    pub fn new(
        transport: &'a T,
        clock: &'a C,
        out: &'a RedactingEmitter<'a, H>,
        endpoint: Endpoint,
        connection: &'a Connection,
        tokens: Tokens,
        deadline_ms: u64,
    ) -> Self {
        out.add_secret(&connection.client_secret);
        out.add_secret(&tokens.refresh_token);
        if let Some(a) = &tokens.access_token {
            out.add_secret(a);
        }
        Session {
            transport,
            clock,
            rng: XorShift::new(out.host.seed()),
            out,
            endpoint,
            connection,
            tokens,
            pacer: Pacer::new(PacerConfig::default()),
            backoff: Backoff::default(),
            allowed: AllowedHosts::new(&[], &connection.api_base, &connection.token_url),
            deadline_ms,
            refresh_margin_ms: REFRESH_MARGIN_MS,
            stats: Stats::default(),
        }
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The job's `allowed_hosts` (empty: the settings' API base and token URL hosts).
    pub fn with_allowed_hosts(mut self, list: &[String]) -> Self {
        self.allowed =
            AllowedHosts::new(list, &self.connection.api_base, &self.connection.token_url);
        self
    }

    fn check_host(&self, url: &str) -> Result<(), ApiError> {
        self.allowed
            .check(url)
            .map_err(|r| ApiError::HostNotAllowed {
                host: r.host,
                allowed: r.allowed,
            })
    }

    pub fn out(&self) -> &RedactingEmitter<'a, H> {
        self.out
    }

    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    pub fn deadline_ms(&self) -> u64 {
        self.deadline_ms
    }

    pub fn stats_json(&self) -> Value {
        json!({
            "requests": self.stats.requests,
            "throttled": self.stats.throttled,
            "retries": self.stats.retries,
            "token_refreshes": self.stats.token_refreshes,
        })
    }

    fn timeout_for(&self, now: u64) -> u64 {
        // Never wait for an answer much past the budget.
        let remaining = self.deadline_ms.saturating_sub(now);
        REQUEST_TIMEOUT_MS.min(remaining + 2_000).max(1_000)
    }

    /// Refreshes first when there is no access token or it is about to expire.
    pub async fn ensure_token(&mut self) -> Result<(), ApiError> {
        let missing = self
            .tokens
            .access_token
            .as_deref()
            .is_none_or(str::is_empty);
        let expiring = self.tokens.expires_at_ms != 0
            && self.tokens.expires_at_ms <= self.clock.now_ms() + self.refresh_margin_ms;
        if missing || expiring {
            self.refresh().await?;
        }
        Ok(())
    }

    /// Refresh-token grant. The new pair goes to the host as a `token`
    /// event; it is used only after the host confirms it is saved, because
    /// Lightspeed revokes the old refresh token once the new access token is
    /// first used.
    pub async fn refresh(&mut self) -> Result<(), ApiError> {
        let mut failures = 0u32;
        let answer = loop {
            let now = self.clock.now_ms();
            if now >= self.deadline_ms {
                return Err(ApiError::BudgetSpent);
            }
            let req = ls::refresh_request(
                &self.connection.token_url,
                &self.connection.client_id,
                &self.connection.client_secret,
                &self.tokens.refresh_token,
                self.timeout_for(now),
            );
            self.check_host(&req.url)?;
            let detail = match self.transport.send(req).await {
                Ok(r) if (200..300).contains(&r.status) => break ls::read_token_answer(&r)?,
                Ok(r) if matches!(r.status, 400 | 401 | 403) => {
                    return Err(ApiError::Credentials(ls::error_reason(&r)));
                }
                Ok(r) if r.status == 429 || r.status >= 500 => format!("HTTP {}", r.status),
                Ok(r) => {
                    return Err(ApiError::Refused {
                        label: "token refresh".into(),
                        status: r.status,
                        reason: ls::error_reason(&r),
                    })
                }
                Err(e) => e.to_string(),
            };
            failures += 1;
            if failures >= 3 {
                return Err(ApiError::Network {
                    what: "the Lightspeed token endpoint",
                    detail,
                });
            }
            let wait = self.backoff.delay_ms(failures, &mut self.rng);
            self.out.log(
                LogLevel::Warning,
                format!(
                    "token refresh failed ({detail}); retry {failures} of 2 in {} ms",
                    wait
                ),
            );
            self.clock.sleep(wait).await;
        };
        self.out.add_secret(&answer.access_token);
        self.out.add_secret(&answer.refresh_token);
        let expires_at_ms = self.clock.now_ms() + answer.expires_in_s * 1000;
        self.out.emit(Event::Token {
            access_token: answer.access_token.clone(),
            refresh_token: answer.refresh_token.clone(),
            expires_at_ms,
        });
        // Wait for the host, but not past the budget (+ a little: saving a
        // token must not be cut short by a nearly spent budget).
        let limit = self
            .deadline_ms
            .saturating_sub(self.clock.now_ms())
            .max(10_000);
        let saved = {
            let ack = Box::pin(self.out.host.await_token_saved(&answer.refresh_token));
            let timer = Box::pin(self.clock.sleep(limit));
            match futures::future::select(ack, timer).await {
                futures::future::Either::Left((r, _)) => r,
                futures::future::Either::Right(_) => {
                    Err(format!("no token_saved within {} s", limit / 1000))
                }
            }
        };
        saved.map_err(ApiError::TokenNotSaved)?;
        self.refresh_margin_ms = REFRESH_MARGIN_MS.min(answer.expires_in_s * 1000 / 4);
        self.tokens = Tokens {
            access_token: Some(answer.access_token),
            refresh_token: answer.refresh_token,
            expires_at_ms,
        };
        self.stats.token_refreshes += 1;
        Ok(())
    }

    /// Sends one API request until it succeeds (2xx) or fails for good.
    pub async fn call(&mut self, req: &ApiRequest) -> Result<HttpResponse, ApiError> {
        let mut st = RetryState::default();
        loop {
            self.ensure_token().await?;
            let cost = self.pacer.cost_of(&req.label, req.cost);
            let now = self.clock.now_ms();
            let wait = self.pacer.delay_ms(now, cost);
            if now + wait >= self.deadline_ms {
                return Err(ApiError::BudgetSpent);
            }
            if wait > 0 {
                self.clock.sleep(wait).await;
            }
            let now = self.clock.now_ms();
            self.pacer.on_send(now, cost);
            let access = self.tokens.access_token.clone().unwrap_or_default();
            let http = req.to_http(&access, self.timeout_for(now));
            self.check_host(&http.url)?;
            self.stats.requests += 1;
            let result = self.transport.send(http).await;
            let now = self.clock.now_ms();
            let mut throttle_wait = 0;
            let outcome = match &result {
                Ok(r) => {
                    let h = RateHeaders::read(r);
                    self.pacer.on_answer(now, &req.label, &h);
                    if r.status == 429 {
                        self.stats.throttled += 1;
                        throttle_wait = self.pacer.on_throttled(now, &h);
                    }
                    Outcome::Status(r.status)
                }
                Err(e) => Outcome::Failed(e.clone()),
            };
            match decide(
                &outcome,
                req.method,
                &mut st,
                &self.backoff,
                &mut self.rng,
                throttle_wait,
            ) {
                Decision::Accept => {
                    return result.map_err(|e| ApiError::Network {
                        what: "Lightspeed",
                        detail: e.to_string(),
                    })
                }
                Decision::RefreshAndRetry => {
                    self.out.log(
                        LogLevel::Info,
                        format!(
                            "{}: access token refused (401); refreshing it once",
                            req.label
                        ),
                    );
                    self.refresh().await?;
                }
                Decision::WaitThrottled(ms) => {
                    self.out.log(
                        LogLevel::Warning,
                        format!(
                            "{}: throttled (429); waiting {} ms as Lightspeed asks",
                            req.label, ms
                        ),
                    );
                    if now + ms >= self.deadline_ms {
                        return Err(ApiError::RateLimited {
                            label: req.label.clone(),
                            count: st.throttles,
                        });
                    }
                    // The pacer now holds every request until then.
                }
                Decision::Backoff(ms) => {
                    self.stats.retries += 1;
                    let what = describe(&outcome);
                    self.out.log(
                        LogLevel::Warning,
                        format!(
                            "{}: {what}; retry {} of {} in {} ms",
                            req.label,
                            st.failures,
                            self.backoff.max_attempts - 1,
                            ms
                        ),
                    );
                    if now + ms >= self.deadline_ms {
                        return Err(ApiError::Unavailable {
                            label: req.label.clone(),
                            detail: what,
                            attempts: st.failures,
                        });
                    }
                    self.clock.sleep(ms).await;
                }
                Decision::GiveUp(g) => {
                    return Err(match g {
                        GiveUp::Unauthorized => ApiError::Unauthorized(
                            result
                                .as_ref()
                                .map(ls::error_reason)
                                .unwrap_or_else(|e| e.to_string()),
                        ),
                        GiveUp::Refused(status) => ApiError::Refused {
                            label: req.label.clone(),
                            status,
                            reason: result.as_ref().map(ls::error_reason).unwrap_or_default(),
                        },
                        GiveUp::TooManyThrottles => ApiError::RateLimited {
                            label: req.label.clone(),
                            count: st.throttles,
                        },
                        GiveUp::Unavailable(o) => match &o {
                            Outcome::Failed(e) => ApiError::Network {
                                what: "Lightspeed",
                                detail: format!("{e} ({} attempts)", st.failures),
                            },
                            _ => ApiError::Unavailable {
                                label: req.label.clone(),
                                detail: describe(&o),
                                attempts: st.failures,
                            },
                        },
                        GiveUp::MaybeApplied(o) => ApiError::MaybeApplied {
                            label: req.label.clone(),
                            detail: describe(&o),
                        },
                    });
                }
            }
        }
    }

    /// `GET Account.json`.
    pub async fn accounts(&mut self) -> Result<Vec<Account>, ApiError> {
        let req = self.endpoint.account();
        let resp = self.call(&req).await?;
        Ok(ls::read_accounts(&resp.body)?)
    }
}

fn describe(o: &Outcome) -> String {
    match o {
        Outcome::Status(s) => format!("HTTP {s}"),
        Outcome::Failed(e) => e.to_string(),
    }
}
