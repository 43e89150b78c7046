// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { cloneJson, jsonSizeBound, parseJsonKeepingText, type JsonObject, type JsonValue } from './json.js';
import { compileReferencePath } from './jsonpath.js';

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

describe('jsonSizeBound of ResultPath copies (derived bounds)', () => {
  /** The bound measured afresh, on a structurally equal value that has no remembered bounds. */
  const fresh = (v: JsonValue): number => jsonSizeBound(JSON.parse(JSON.stringify(v)) as JsonValue);
  const wide = (): JsonObject => {
    const o: JsonObject = { list: Array.from({ length: 40 }, (_, i) => ({ i, s: `é${i}` })) };
    for (let i = 0; i < 30; i++) o[`k${i}`] = { n: i, t: 'x'.repeat(i) };
    return o;
  };

  const cases: [string, string, JsonValue][] = [
    ['adds a field', '$.added', { a: 1, b: 'two' }],
    ['replaces a field with a larger value', '$.k3', { big: 'y'.repeat(500) }],
    ['replaces a field with a smaller value', '$.k29', 0],
    ['adds a nested field', '$.k5.inner', [1, 2, 3]],
    ['replaces an array element', '$.list[7]', 'ünïcode \u2028 "quoted"'],
    ['replaces the last element by a negative index', '$.list[-1]', null],
    ['adds a field with a non-ASCII name', '$.naïve', true],
  ];
  for (const [what, path, value] of cases) {
    it(`${what}: the bound equals a fresh measure`, () => {
      const input = wide();
      // Measured first, as the engine measures each state's output: the input's bound is known.
      const before = jsonSizeBound(input);
      assert.equal(before, fresh(input));
      const output = compileReferencePath(path).assign(input, value);
      assert.equal(jsonSizeBound(output), fresh(output));
      // The input is unchanged, and so is its bound.
      assert.equal(jsonSizeBound(input), before);
    });
  }

  it('chains of copies stay exact', () => {
    let v: JsonValue = wide();
    jsonSizeBound(v);
    for (let i = 0; i < 50; i++) {
      const o = v as JsonObject;
      v = compileReferencePath(`$.steps.s${i % 7}`).assign(o.steps === undefined ? { ...o, steps: {} } : o, {
        i,
      });
      assert.equal(jsonSizeBound(v), fresh(v));
    }
  });

  it('does not derive from a bound taken from original text', () => {
    // Original text with whitespace: its size is the text's, not the sum of the fields' bounds.
    const parsed = parseJsonKeepingText(`{ "a" : "x\\n" ,  "pad": [${'1, '.repeat(40)}1] }`) as JsonObject;
    jsonSizeBound(parsed);
    const output = compileReferencePath('$.a').assign(parsed, 'y');
    assert.equal(jsonSizeBound(output), fresh(output));
  });
});
