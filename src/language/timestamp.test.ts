// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { TimestampParts } from './timestamp.js';
import {
  compareTimestampParts,
  isRfc3339Timestamp,
  isTimestamp,
  millisUntilTimestamp,
  parseTimestamp,
  parseTimestampInto,
} from './timestamp.js';

function parts(s: string): TimestampParts {
  const out: TimestampParts = { epochSeconds: NaN, nanos: NaN };
  assert.ok(parseTimestampInto(s, out), `expected ${s} to parse`);
  return out;
}

describe('parseTimestamp', () => {
  it('reads the canonical form as epoch milliseconds', () => {
    assert.equal(parseTimestamp('2016-03-14T01:59:00Z'), Date.UTC(2016, 2, 14, 1, 59, 0));
    assert.equal(parseTimestamp('1970-01-01T00:00:00Z'), 0);
    assert.equal(parseTimestamp('1969-12-31T23:59:59Z'), -1000);
    assert.equal(parseTimestamp('2000-02-29T12:00:00Z'), Date.UTC(2000, 1, 29, 12));
  });

  it('agrees with Date.parse across many dates and offsets', () => {
    for (let y = 1890; y <= 2110; y += 7) {
      for (let m = 1; m <= 12; m += 5) {
        for (const off of ['Z', '+05:30', '-11:00', '+00:00']) {
          const s = `${y}-${String(m).padStart(2, '0')}-28T13:47:09.5${off}`;
          assert.equal(parseTimestamp(s), Date.parse(s), s);
        }
      }
    }
  });

  it('applies offsets', () => {
    assert.equal(parseTimestamp('2016-03-14T01:59:00+01:00'), Date.UTC(2016, 2, 14, 0, 59));
    assert.equal(parseTimestamp('2016-03-14T01:59:00-02:30'), Date.UTC(2016, 2, 14, 4, 29));
  });

  it('keeps fractional seconds up to nanoseconds', () => {
    assert.equal(parseTimestamp('2016-03-05T21:29:29.243167252Z'), Date.UTC(2016, 2, 5, 21, 29, 29, 243));
    assert.deepEqual(parts('2016-03-05T21:29:29.243167252Z').nanos, 243167252);
    assert.deepEqual(parts('2016-03-05T21:29:29.5Z').nanos, 500000000);
    assert.equal(parseTimestamp('2016-03-05T21:29:29.1234567890Z'), undefined, 'ten digits');
  });

  it('rejects what AWS rejects (corpus: NO_Z, INVALID_TIME, INVALID_DATE, INVALID_ISO, NO_T)', () => {
    for (const s of [
      '2016-12-05T21:29:29',
      '2016-12-05T25:29:29Z',
      '2016-13-05T21:29:29Z',
      '05-12-2016T21:29:29Z',
      '2016-12-05 21:29:29Z',
      '2023-02-24 12:15:56.832957',
      '2023-02-24',
      '',
      ' 2016-03-14T01:59:00Z',
      '2016-03-14T01:59:00Z ',
    ]) {
      assert.equal(parseTimestamp(s), undefined, s);
      assert.equal(isTimestamp(s), false, s);
      assert.equal(isRfc3339Timestamp(s), false, s);
    }
  });

  it('checks the calendar', () => {
    assert.equal(isTimestamp('2016-02-29T00:00:00Z'), true);
    assert.equal(isTimestamp('2015-02-29T00:00:00Z'), false);
    assert.equal(isTimestamp('1900-02-29T00:00:00Z'), false);
    assert.equal(isTimestamp('2016-04-31T00:00:00Z'), false);
    assert.equal(isTimestamp('2016-04-00T00:00:00Z'), false);
    assert.equal(isTimestamp('2016-04-01T23:60:00Z'), false);
    assert.equal(isTimestamp('2016-12-31T23:59:60Z'), false, 'no leap seconds');
    assert.equal(isTimestamp('2016-12-31T24:00:00Z'), false);
  });

  it('run-time grammar follows ISO_OFFSET_DATE_TIME: case-insensitive, optional seconds, lenient offsets', () => {
    assert.equal(parseTimestamp('2016-03-14t01:59:00z'), Date.UTC(2016, 2, 14, 1, 59));
    assert.equal(parseTimestamp('2016-03-14T01:59Z'), Date.UTC(2016, 2, 14, 1, 59));
    assert.equal(parseTimestamp('2016-03-14T01:59:00+01'), Date.UTC(2016, 2, 14, 0, 59));
    assert.equal(parseTimestamp('2016-03-14T01:59:00+0130'), Date.UTC(2016, 2, 14, 0, 29));
    assert.equal(parseTimestamp('2016-03-14T01:59:00+01:00:30'), Date.UTC(2016, 2, 14, 0, 58, 30));
    assert.equal(parseTimestamp('2016-03-14T01:59:00+18:00'), Date.UTC(2016, 2, 13, 7, 59));
    assert.equal(parseTimestamp('2016-03-14T01:59:00+18:01'), undefined);
    assert.equal(parseTimestamp('2016-03-14T01:59:00+01:60'), undefined);
    assert.equal(parseTimestamp('2016-03-14T01:59:00+01:0030'), undefined, 'mixed separators');
    assert.equal(parseTimestamp('2016-03-14T01:59:00+1'), undefined);
    assert.equal(parseTimestamp('2016-03-14T01:59:00UTC'), undefined);
  });

  it('definition-time grammar is the strict RFC 3339 profile', () => {
    assert.equal(isRfc3339Timestamp('2016-03-14T01:59:00Z'), true);
    assert.equal(isRfc3339Timestamp('2016-03-14T01:59:00.123+01:00'), true);
    assert.equal(isRfc3339Timestamp('2016-03-14t01:59:00Z'), false);
    assert.equal(isRfc3339Timestamp('2016-03-14T01:59:00z'), false);
    assert.equal(isRfc3339Timestamp('2016-03-14T01:59Z'), false);
    assert.equal(isRfc3339Timestamp('2016-03-14T01:59:00.Z'), false);
    assert.equal(isRfc3339Timestamp('2016-03-14T01:59:00+01'), false);
    assert.equal(isRfc3339Timestamp('2016-03-14T01:59:00+0100'), false);
    assert.equal(isRfc3339Timestamp('2016-03-14T01:59:00+01:00:00'), false);
  });
});

describe('compareTimestampParts', () => {
  it('orders instants, not texts', () => {
    assert.equal(compareTimestampParts(parts('2016-03-14T01:59:00+01:00'), parts('2016-03-14T00:59:00Z')), 0);
    assert.ok(compareTimestampParts(parts('2016-03-14T01:59:00Z'), parts('2016-03-14T01:59:00+01:00')) > 0);
    assert.ok(compareTimestampParts(parts('1969-12-31T23:59:59.9Z'), parts('1970-01-01T00:00:00Z')) < 0);
  });

  it('distinguishes nanoseconds', () => {
    const a = parts('2016-03-05T21:29:29.243167252Z');
    const b = parts('2016-03-05T21:29:29.243167253Z');
    assert.ok(compareTimestampParts(a, b) < 0);
    assert.ok(compareTimestampParts(b, a) > 0);
    assert.equal(
      compareTimestampParts(parts('2016-03-05T21:29:29.5Z'), parts('2016-03-05T21:29:29.500000000Z')),
      0,
    );
  });
});

describe('millisUntilTimestamp', () => {
  const now = Date.UTC(2020, 0, 1);
  it('counts down to a future instant', () => {
    assert.equal(millisUntilTimestamp('2020-01-01T00:00:05Z', now), 5000);
    assert.equal(millisUntilTimestamp('2020-01-01T01:00:05+01:00', now), 5000);
  });
  it('rounds sub-millisecond instants up', () => {
    assert.equal(millisUntilTimestamp('2020-01-01T00:00:00.0000001Z', now), 1);
  });
  it('is zero for past instants', () => {
    assert.equal(millisUntilTimestamp('2016-03-14T01:59:00Z', now), 0);
  });
  it('is undefined for invalid text', () => {
    assert.equal(millisUntilTimestamp('2016-12-05T21:29:29', now), undefined);
  });
});
