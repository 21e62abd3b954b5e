use crate::edge::transport::{HttpResponse, Method, TransportError};
use crate::pos::lightspeed_r::pacer::*;

fn headers(level: f64, size: f64, drip: f64, cost: f64) -> RateHeaders {
    RateHeaders::read(
        &HttpResponse::new(200, "")
            .with_header("X-LS-API-Bucket-Level", &format!("{level}/{size}"))
            .with_header("x-ls-api-drip-rate", &drip.to_string())
            .with_header("X-LS-API-Request-Cost", &cost.to_string()),
    )
}

#[test]
fn reads_rate_headers() {
    let h = headers(12.5, 90.0, 1.0, 1.4);
    assert_eq!(
        (h.level, h.size, h.drip_per_s, h.cost),
        (Some(12.5), Some(90.0), Some(1.0), Some(1.4))
    );
    let t = RateHeaders::read(
        &HttpResponse::new(429, "")
            .with_header("Retry-After", "3")
            .with_header("X-LS-API-RateLimit-Type", "api-leaky-bucket"),
    );
    assert_eq!(t.retry_after_ms, Some(3000));
    assert_eq!(t.limit_type.as_deref(), Some("api-leaky-bucket"));
    let junk =
        RateHeaders::read(&HttpResponse::new(200, "").with_header("X-LS-API-Bucket-Level", "lots"));
    assert_eq!(junk, RateHeaders::default());
}

#[test]
fn no_wait_while_the_bucket_has_room() {
    let mut p = Pacer::new(PacerConfig::default());
    assert_eq!(p.delay_ms(0, 1.0), 0);
    p.on_send(0, 1.0);
    p.on_answer(50, "GET", &headers(40.0, 90.0, 1.0, 1.0));
    assert_eq!(p.delay_ms(100, 1.0), 0);
}

#[test]
fn waits_for_the_drip_when_nearly_full() {
    let mut p = Pacer::new(PacerConfig {
        burst_max: 0,
        ..PacerConfig::default()
    });
    p.on_answer(1000, "GET", &headers(88.0, 90.0, 2.0, 1.0));
    // cap = 88; level 88 + cost 1.4 → 1.4 over; at 2 units/s: 700 ms.
    let d = p.delay_ms(1000, 1.4);
    assert!((700..=701).contains(&d), "{d}");
    // Half a second later the bucket drained 1 unit.
    let d = p.delay_ms(1500, 1.4);
    assert!((200..=201).contains(&d), "{d}");
    assert_eq!(p.delay_ms(1700, 1.4), 0);
}

#[test]
fn steady_state_spends_the_budget_and_never_overflows() {
    // Simulate a server bucket (size 90, drip 1/s), requests of cost 1.4, 80 ms latency.
    let mut p = Pacer::new(PacerConfig::default());
    let (mut now, mut server_level, mut server_at) = (0u64, 0.0f64, 0u64);
    let mut sent = 0;
    let mut overflow = false;
    while now < 600_000 {
        now += p.delay_ms(now, 1.4);
        p.on_send(now, 1.4);
        let arrive = now + 40;
        server_level = (server_level - (arrive - server_at) as f64 / 1000.0).max(0.0);
        server_at = arrive;
        if server_level > 90.0 {
            overflow = true;
        }
        server_level += 1.4;
        sent += 1;
        now += 80;
        p.on_answer(now, "GET Item list", &headers(server_level, 90.0, 1.0, 1.4));
    }
    assert!(!overflow, "never throttled");
    // Bound: 90 units up front + 600 s × 1 unit/s, at 1.4 each ≈ 492 requests.
    let bound = (90.0 + 600.0) / 1.4;
    assert!(
        sent as f64 >= 0.95 * bound,
        "sent {sent} of a possible {bound}"
    );
}

#[test]
fn burst_window_caps_requests_per_second() {
    let cfg = PacerConfig::default();
    let mut p = Pacer::new(cfg.clone());
    for _ in 0..cfg.burst_max {
        assert_eq!(p.delay_ms(0, 1.0), 0);
        p.on_send(0, 1.0);
    }
    assert_eq!(p.delay_ms(0, 1.0), cfg.burst_window_ms);
    assert!(cfg.burst_max < 20, "stays below Lightspeed's ~20/s");
}

#[test]
fn a_429_holds_everything_for_retry_after() {
    let mut p = Pacer::new(PacerConfig::default());
    let h = RateHeaders {
        retry_after_ms: Some(2000),
        ..RateHeaders::default()
    };
    assert_eq!(p.on_throttled(10_000, &h), 2000);
    assert_eq!(p.delay_ms(10_500, 1.0), 1500);
    // Without Retry-After: a short fixed hold.
    let mut p = Pacer::new(PacerConfig::default());
    let w = p.on_throttled(0, &RateHeaders::default());
    assert!(w >= 1000, "{w}");
    assert!(p.delay_ms(0, 1.0) >= 1000);
}

#[test]
fn learned_cost_wins_over_the_model() {
    let mut p = Pacer::new(PacerConfig::default());
    assert_eq!(p.cost_of("GET Item list", 1.4), 1.4);
    p.on_answer(0, "GET Item list", &headers(1.0, 90.0, 1.0, 2.0));
    assert_eq!(p.cost_of("GET Item list", 1.4), 2.0);
}

#[test]
fn backoff_is_capped_exponential_with_seeded_jitter() {
    let b = Backoff::default();
    let mut rng = XorShift::new(7);
    for attempt in 1..12 {
        let exp = (b.base_ms << (attempt - 1).min(20)).min(b.cap_ms);
        let d = b.delay_ms(attempt, &mut rng);
        assert!(d >= exp / 2 && d <= exp, "attempt {attempt}: {d} vs {exp}");
    }
    let seq = |seed| {
        let mut r = XorShift::new(seed);
        (1..6).map(|a| b.delay_ms(a, &mut r)).collect::<Vec<_>>()
    };
    assert_eq!(seq(3), seq(3), "same seed, same jitter");
    assert_ne!(seq(3), seq(4));
    let mut r = XorShift::new(0);
    let f = r.next_f64();
    assert!((0.0..1.0).contains(&f));
}

#[test]
fn writes_are_classified() {
    use WriteState::*;
    assert_eq!(classify_write(&Outcome::Status(200)), Applied);
    assert_eq!(classify_write(&Outcome::Status(429)), NotApplied);
    assert_eq!(classify_write(&Outcome::Status(400)), NotApplied);
    assert_eq!(classify_write(&Outcome::Status(502)), MaybeApplied);
    assert_eq!(
        classify_write(&Outcome::Failed(TransportError::Timeout {
            maybe_sent: true
        })),
        MaybeApplied
    );
    assert_eq!(
        classify_write(&Outcome::Failed(TransportError::Network {
            message: "refused".into(),
            maybe_sent: false
        })),
        NotApplied
    );
}

#[test]
fn decisions() {
    let b = Backoff::default();
    let mut rng = XorShift::new(1);
    let mut st = RetryState::default();
    assert_eq!(
        decide(&Outcome::Status(200), Method::Get, &mut st, &b, &mut rng, 0),
        Decision::Accept
    );
    assert_eq!(
        decide(&Outcome::Status(401), Method::Get, &mut st, &b, &mut rng, 0),
        Decision::RefreshAndRetry
    );
    assert_eq!(
        decide(&Outcome::Status(401), Method::Get, &mut st, &b, &mut rng, 0),
        Decision::GiveUp(GiveUp::Unauthorized)
    );
    assert_eq!(
        decide(
            &Outcome::Status(429),
            Method::Post,
            &mut st,
            &b,
            &mut rng,
            1500
        ),
        Decision::WaitThrottled(1500)
    );
    assert_eq!(
        decide(&Outcome::Status(404), Method::Get, &mut st, &b, &mut rng, 0),
        Decision::GiveUp(GiveUp::Refused(404))
    );
    // A GET survives 5xx until max_attempts.
    let mut st = RetryState::default();
    for _ in 1..b.max_attempts {
        assert!(matches!(
            decide(&Outcome::Status(503), Method::Get, &mut st, &b, &mut rng, 0),
            Decision::Backoff(_)
        ));
    }
    assert!(matches!(
        decide(&Outcome::Status(503), Method::Get, &mut st, &b, &mut rng, 0),
        Decision::GiveUp(GiveUp::Unavailable(_))
    ));
    // A POST that timed out after sending is never blindly repeated.
    let mut st = RetryState::default();
    let t = Outcome::Failed(TransportError::Timeout { maybe_sent: true });
    assert_eq!(
        decide(&t, Method::Post, &mut st, &b, &mut rng, 0),
        Decision::GiveUp(GiveUp::MaybeApplied(t.clone()))
    );
    // …but one that never left can be.
    let n = Outcome::Failed(TransportError::Network {
        message: "refused".into(),
        maybe_sent: false,
    });
    assert!(matches!(
        decide(&n, Method::Post, &mut st, &b, &mut rng, 0),
        Decision::Backoff(_)
    ));
    // Too many 429s in a row.
    let mut st = RetryState::default();
    for _ in 0..b.max_throttles {
        decide(
            &Outcome::Status(429),
            Method::Get,
            &mut st,
            &b,
            &mut rng,
            10,
        );
    }
    assert_eq!(
        decide(
            &Outcome::Status(429),
            Method::Get,
            &mut st,
            &b,
            &mut rng,
            10
        ),
        Decision::GiveUp(GiveUp::TooManyThrottles)
    );
}
