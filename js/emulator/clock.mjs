// The emulator clock: real time plus an offset that tests move forward with
// POST /_emulator/clock. Token expiry, bucket draining, the burst window and
// every timeStamp read from here, so tests never sleep.
export class EmulatorClock {
  constructor() {
    this.offsetMs = 0;
    this.frozenAt = null; // ms; when set, time stands still (deterministic tests)
  }
  nowMs() {
    return (this.frozenAt ?? Date.now()) + this.offsetMs;
  }
  advance(seconds) {
    this.offsetMs += Math.round(Number(seconds) * 1000);
  }
  freeze(on) {
    if (on && this.frozenAt === null) this.frozenAt = Date.now();
    if (!on && this.frozenAt !== null) {
      // keep the emulator time continuous when thawing
      this.offsetMs += this.frozenAt - Date.now();
      this.frozenAt = null;
    }
  }
  reset() {
    this.offsetMs = 0;
    this.frozenAt = null;
  }
}

// Quirk: Lightspeed timestamps are second-resolution with an explicit offset,
// always UTC in answers: 2016-11-10T13:51:54+00:00.
export function formatTimestamp(ms) {
  if (ms === null || ms === undefined) return '';
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', '+00:00');
}

const STRICT_TS = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

// Parses a timestamp from a filter value. Returns ms or NaN. A '+' that was
// sent unencoded arrives as a space (form decoding) and makes the value invalid;
// we refuse it rather than guess, so clients learn to send %2B.
export function parseTimestamp(text) {
  const m = STRICT_TS.exec(String(text).trim());
  if (!m) return NaN;
  let iso = `${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}`;
  let zone = m[7] ?? '+00:00';
  if (zone !== 'Z' && !zone.includes(':')) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  return Date.parse(iso + zone);
}
