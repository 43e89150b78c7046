/**
 * Timestamps as Step Functions reads them (Wait `Timestamp`/`TimestampPath`, Choice `Timestamp*`
 * operators, `IsTimestamp`).
 *
 * Two grammars, because AWS checks in two places:
 * - definition time (`Timestamp` literals): "String does not match RFC3339 timestamp". This is the
 *   ASL profile of RFC 3339: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, uppercase `T` and `Z`.
 * - run time (values read from data): AWS's messages name "ISO-8601 extended offset date-time",
 *   i.e. java.time's ISO_OFFSET_DATE_TIME. That grammar is case-insensitive, makes seconds optional
 *   and reads offsets leniently (`+HH`, `+HHMM`, `+HH:MM`, `+HH:MM:SS`). It is a superset of the
 *   RFC 3339 profile above.
 * Both demand a real calendar date and time (no month 13, no hour 24, no leap second) and an
 * explicit offset. Up to 9 fraction digits are kept: instants compare at nanosecond precision.
 */

/** An instant: whole seconds since the epoch and nanoseconds within that second (0..999999999). */
export interface TimestampParts {
  epochSeconds: number;
  nanos: number;
}

/** ISO_OFFSET_DATE_TIME caps offsets at ±18:00 (java.time.ZoneOffset). */
const MAX_OFFSET_SECONDS = 18 * 3600;

const DIGIT_0 = 48;
const COLON = 58;
const DASH = 45;
const PLUS = 43;
const DOT = 46;

function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - DIGIT_0;
  return c >= 0 && c <= 9 ? c : -1;
}

/** Two decimal digits at `i`, or -1. */
function two(s: string, i: number): number {
  const a = digit(s, i);
  const b = digit(s, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return isLeapYear(y) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to the proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = m > 2 ? m - 3 : m + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * Parses `s` into `out`; returns false (leaving `out` unspecified) when `s` is not a timestamp.
 * `strict` selects the definition-time RFC 3339 profile, otherwise the run-time grammar.
 * Writing into a caller-owned object lets hot paths parse without allocating.
 */
export function parseTimestampInto(s: string, out: TimestampParts, strict = false): boolean {
  const len = s.length;
  // Date: YYYY-MM-DD (4-digit years only).
  if (len < 16) return false;
  const y1 = two(s, 0);
  const y2 = two(s, 2);
  if (y1 < 0 || y2 < 0) return false;
  const year = y1 * 100 + y2;
  if (s.charCodeAt(4) !== DASH || s.charCodeAt(7) !== DASH) return false;
  const month = two(s, 5);
  const day = two(s, 8);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  const t = s.charCodeAt(10);
  if (t !== 84 /* T */ && (strict || t !== 116) /* t */) return false;
  // Time: HH:MM[:SS[.f{0,9}]] (seconds and fraction mandatory in the strict profile).
  const hour = two(s, 11);
  if (hour < 0 || hour > 23 || s.charCodeAt(13) !== COLON) return false;
  const minute = two(s, 14);
  if (minute < 0 || minute > 59) return false;
  let i = 16;
  let second = 0;
  let nanos = 0;
  if (s.charCodeAt(i) === COLON) {
    second = two(s, i + 1);
    if (second < 0 || second > 59) return false;
    i += 3;
    if (s.charCodeAt(i) === DOT) {
      i++;
      let n = 0;
      let scale = 100_000_000;
      const start = i;
      for (let d = digit(s, i); d >= 0; d = digit(s, ++i)) {
        if (i - start >= 9) return false;
        n += d * scale;
        scale /= 10;
      }
      // java.time accepts a bare '.', RFC 3339 needs a digit.
      if (strict && i === start) return false;
      nanos = n;
    }
  } else if (strict) {
    return false;
  }
  // Offset: Z, or ±HH[[:]MM[[:]SS]] (strict: ±HH:MM).
  if (i >= len) return false;
  const o = s.charCodeAt(i);
  let offset = 0;
  if (o === 90 /* Z */ || (!strict && o === 122) /* z */) {
    i++;
  } else if (o === PLUS || o === DASH) {
    const oh = two(s, i + 1);
    if (oh < 0) return false;
    i += 3;
    let om = 0;
    let os = 0;
    const colon = s.charCodeAt(i) === COLON;
    if (i < len) {
      const mStart = colon ? i + 1 : i;
      om = two(s, mStart);
      if (om < 0) return false;
      i = mStart + 2;
      if (i < len) {
        // Seconds use the same separator style as minutes.
        if (strict || (colon && s.charCodeAt(i) !== COLON)) return false;
        const sStart = colon ? i + 1 : i;
        os = two(s, sStart);
        if (os < 0) return false;
        i = sStart + 2;
      }
    } else if (strict) {
      return false;
    }
    if (strict && !colon) return false;
    if (om > 59 || os > 59) return false;
    offset = oh * 3600 + om * 60 + os;
    if (offset > MAX_OFFSET_SECONDS) return false;
    if (o === DASH) offset = -offset;
  } else {
    return false;
  }
  if (i !== len) return false;
  out.epochSeconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  out.nanos = nanos;
  return true;
}

const scratch: TimestampParts = { epochSeconds: 0, nanos: 0 };

/** Epoch milliseconds of a run-time timestamp (sub-millisecond digits truncated), or undefined. */
export function parseTimestamp(s: string): number | undefined {
  if (!parseTimestampInto(s, scratch)) return undefined;
  return scratch.epochSeconds * 1000 + Math.floor(scratch.nanos / 1_000_000);
}

/** The run-time test (`IsTimestamp`, Choice comparisons, `TimestampPath`). */
export function isTimestamp(s: string): boolean {
  return parseTimestampInto(s, scratch);
}

/** The definition-time test for `Timestamp` literals (Wait, Choice `Timestamp*` operators). */
export function isRfc3339Timestamp(s: string): boolean {
  return parseTimestampInto(s, scratch, true);
}

/** Orders two parsed instants: negative, zero or positive. */
export function compareTimestampParts(a: TimestampParts, b: TimestampParts): number {
  return a.epochSeconds !== b.epochSeconds ? a.epochSeconds - b.epochSeconds : a.nanos - b.nanos;
}

/**
 * Milliseconds a Wait state sleeps until `timestamp`, given the current time (epoch ms): 0 when it
 * is already past, rounded up so the wait never ends before the instant. Undefined if invalid.
 */
export function millisUntilTimestamp(timestamp: string, nowMs: number): number | undefined {
  if (!parseTimestampInto(timestamp, scratch)) return undefined;
  const targetMs = scratch.epochSeconds * 1000 + Math.ceil(scratch.nanos / 1_000_000);
  return targetMs > nowMs ? targetMs - nowMs : 0;
}
