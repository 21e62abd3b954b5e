// The 2026 rate-limit model: one leaky bucket per account + client (size 90,
// +10 per extra register; drains 1/s, +0.5 per extra register) plus a burst
// limiter on 1-second fixed windows. Time comes from the emulator clock.

export function defaultRateConfig() {
  return { enabled: true, registers: 1, bucket_size: null, drip_per_s: null, burst_per_s: null };
}

export function effectiveLimits(cfg) {
  const extra = Math.max(0, (cfg.registers ?? 1) - 1);
  const size = cfg.bucket_size ?? 90 + 10 * extra;
  const drip = cfg.drip_per_s ?? 1 + 0.5 * extra;
  // The burst limit is "a fraction of the bucket size": 20 for 90.
  const burst = cfg.burst_per_s ?? Math.max(1, Math.round((size * 20) / 90));
  return { size, drip, burst };
}

const fmt = (n) => String(Math.round(n * 1000) / 1000);

export class RateLimiter {
  constructor(clock, getConfig) {
    this.clock = clock;
    this.getConfig = getConfig;
    this.buckets = new Map(); // `${account}:${client}` -> {level, at, window, inWindow}
  }
  reset() {
    this.buckets.clear();
  }
  bucket(key) {
    let b = this.buckets.get(key);
    if (!b) {
      b = { level: 0, at: this.clock.nowMs(), window: -1, inWindow: 0 };
      this.buckets.set(key, b);
    }
    return b;
  }
  drain(b, limits) {
    const now = this.clock.nowMs();
    const dt = Math.max(0, now - b.at) / 1000;
    b.level = Math.max(0, b.level - dt * limits.drip);
    b.at = now;
    return now;
  }
  // Returns {allowed, headers, type}. Blocked requests add nothing to the
  // bucket (they do count in the burst window: "all requests add 1").
  take(key, cost) {
    const cfg = this.getConfig();
    const limits = effectiveLimits(cfg);
    const b = this.bucket(key);
    const now = this.drain(b, limits);
    const window = Math.floor(now / 1000);
    if (window !== b.window) {
      b.window = window;
      b.inWindow = 0;
    }
    b.inWindow += 1;
    const headers = () => ({
      'X-LS-API-Bucket-Level': `${fmt(b.level)}/${fmt(limits.size)}`,
      'X-LS-API-Burst-Level': `${b.inWindow}/${limits.burst}`,
      'X-LS-API-Drip-Rate': fmt(limits.drip),
      'X-LS-API-Request-Cost': fmt(cost),
    });
    if (cfg.enabled !== false) {
      if (b.inWindow > limits.burst) {
        return { allowed: false, type: 'api-burst-limiter', retryAfter: 1, headers: headers() };
      }
      // Quirk: the first request that overflows is still served; while the
      // level stays above the size, requests get 429.
      if (b.level > limits.size) {
        const retryAfter = Math.max(1, Math.ceil((b.level - limits.size) / limits.drip));
        return { allowed: false, type: 'api-leaky-bucket', retryAfter, headers: headers() };
      }
    }
    b.level += cost;
    return { allowed: true, headers: headers() };
  }
  snapshot(key) {
    const b = this.buckets.get(key);
    if (!b) return null;
    this.drain(b, effectiveLimits(this.getConfig()));
    return Math.round(b.level * 1000) / 1000;
  }
}
