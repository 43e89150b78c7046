// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { cloneJson } from './json.js';

/** What a JSON round trip gives, the reference cloneJson must equal. */
const roundTrip = (v: unknown): unknown => {
  const text = JSON.stringify(v);
  return text === undefined ? undefined : JSON.parse(text);
};

describe('cloneJson', () => {
  it('copies as a JSON round trip would, keys in the same order', () => {
    const values: unknown[] = [
      { b: 1, a: [1, 'x', null, true], 2: 'two', 1: 'one', nested: { deep: [{ k: -1.5 }] } },
      { dropped: undefined, fn: () => 1, kept: 0, nan: Number.NaN, inf: Infinity },
      [undefined, () => 1, Symbol('s'), 3],
      { date: new Date(0), custom: { toJSON: () => 'custom' } },
      'text',
      42,
      null,
    ];
    for (const v of values) {
      const copy = cloneJson(v);
      assert.ok(copy !== undefined);
      assert.deepEqual(copy.value, roundTrip(v));
      assert.equal(JSON.stringify(copy.value), JSON.stringify(v));
      assert.ok(copy.maxBytes >= Buffer.byteLength(JSON.stringify(v)), 'the size is an upper bound');
    }
    assert.equal(cloneJson(undefined), undefined);
    assert.equal(
      cloneJson(() => 1),
      undefined,
    );
  });

  it('makes a private copy', () => {
    const v = { a: { b: [1] } };
    const copy = cloneJson(v)!.value as { a: { b: number[] } };
    v.a.b.push(2);
    assert.deepEqual(copy, { a: { b: [1] } });
  });

  it('keeps an own __proto__ key as data and ignores inherited members', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as object;
    const copy = cloneJson(parsed)!.value as Record<string, unknown>;
    assert.deepEqual(Object.keys(copy), ['__proto__', 'x']);
    assert.equal(Object.getPrototypeOf(copy), Object.prototype);
    assert.equal((copy as { polluted?: unknown }).polluted, undefined);
    const inherited = Object.assign(Object.create({ inheritedKey: 1 }) as object, { own: 2 });
    // Not a plain object: copied through JSON, which also sees own members only.
    assert.deepEqual(cloneJson(inherited)!.value, { own: 2 });
    const nullProto = Object.assign(Object.create(null) as object, { a: 1 });
    assert.deepEqual(cloneJson(nullProto)!.value, { a: 1 });
  });
});
