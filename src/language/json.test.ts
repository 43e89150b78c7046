// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  cloneJson,
  jsonSizeBound,
  parseJsonKeepingText,
  stringifyJson,
  type JsonObject,
  type JsonValue,
} from './json.js';
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

describe('jsonSizeBound and ResultPath size bounds', () => {
  const exact = (v: JsonValue): number => Buffer.byteLength(stringifyJson(v));
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
    ['adds fields through new objects', '$.new.deeper["quoted \\"key"]', 'v'],
    ['replaces an array element', '$.list[7]', 'ünïcode \u2028 "quoted"'],
    ['replaces the last element by a negative index', '$.list[-1]', null],
    ['adds a field with a non-ASCII name', '$.naïve', true],
    ['replaces the whole input', '$', { only: 1 }],
  ];
  for (const [what, path, value] of cases) {
    it(`${what}: placedBytes bounds the output`, () => {
      const input = wide();
      const compiled = compileReferencePath(path);
      const output = compiled.assign(input, value);
      const bound = compiled.placedBytes(jsonSizeBound(input), jsonSizeBound(value));
      assert.ok(exact(output) <= bound, `${exact(output)} <= ${bound}`);
      // Not loose by more than the keys and braces the path may add.
      assert.ok(bound - exact(output) <= exact(input) + Buffer.byteLength(path) * 2 + 8);
    });
  }

  it('a bound carried along 50 copies, never measured again, stays a bound', () => {
    let v: JsonValue = { steps: {} };
    let bound = jsonSizeBound(v);
    for (let i = 0; i < 50; i++) {
      const path = compileReferencePath(`$.steps.s${i % 7}`);
      const value = { i, text: 'é'.repeat(i) };
      v = path.assign(v, value);
      bound = path.placedBytes(bound, jsonSizeBound(value));
      assert.ok(exact(v) <= bound);
    }
  });

  it('measures numbers exactly: integers around every power of ten, fractions, non-finite', () => {
    const values: number[] = [0, -0, 0.5, -1.25, 1e-7, 123.456, NaN, Infinity, -Infinity, 2 ** 53 + 2];
    for (let k = 0; k <= 22; k++) {
      for (const m of [1, 2, 9, 9.5]) {
        const p = m * 10 ** k;
        values.push(p, p - 1, p + 1, -p, -(p - 1));
      }
    }
    for (const v of values) assert.equal(jsonSizeBound(v), JSON.stringify(v).length, String(v));
  });

  it('bounds a value kept as original text, its parts and what embeds them', () => {
    const texts = [
      `{ "a" : "x\\n" ,  "pad": [${'1, '.repeat(40)}1], "n": { "deep": [ 1.50, -0, 0.0000001 ] } }`,
      // Exponents: written afresh, 1e20 takes 21 digits.
      `{"big":[1e20,1e20,1e20,1e20,1e20,1e20],"small":1E5,"s":"1e9"}`,
    ];
    for (const text of texts) {
      const parsed = parseJsonKeepingText(text) as JsonObject;
      const bound = jsonSizeBound(parsed);
      assert.ok(exact(parsed) <= bound, 'the value as written (its text)');
      assert.ok(Buffer.byteLength(JSON.stringify(parsed)) <= bound, 'the value written afresh');
      for (const part of Object.values(parsed)) assert.ok(exact(part) <= bound, 'a part on its own');
      const embedded: JsonObject = { x: parsed, y: 1 };
      assert.ok(exact(embedded) <= jsonSizeBound(embedded), 'a value holding it');
    }
  });
});
