/** JSON values as they flow through a state machine. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own-property lookup that never reaches the prototype chain (`__proto__`, `constructor`…). */
export function getOwn(obj: JsonObject, key: string): JsonValue | undefined {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

/**
 * Sets a key as an own data property. Plain assignment of `__proto__` would change the prototype
 * instead of creating a key, so such keys go through defineProperty.
 */
export function setOwn(obj: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/** Parses JSON text; keys such as `__proto__` become own properties (JSON.parse already does this). */
export function parseJson(text: string): JsonValue {
  return JSON.parse(text) as JsonValue;
}

/** Deep structural equality of JSON values (key order ignored). */
export function jsonEquals(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEquals(a[i]!, b[i]!)) return false;
    return true;
  }
  if (typeof a === 'object' && typeof b === 'object' && !Array.isArray(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) {
      if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
      if (!jsonEquals(a[k]!, b[k]!)) return false;
    }
    return true;
  }
  return false;
}

/**
 * AWS keeps the execution input's original text while the value travels unchanged from state to
 * state (`[1, 2]` keeps its spaces in history and output), and builds Map/Parallel results from
 * their children's texts. Values parsed by `parseJsonKeepingText` remember their text; arrays
 * marked with `markAggregate` let their elements keep theirs; `stringifyJson` writes both.
 * Anything else, e.g. an object built by a payload template, is serialised afresh.
 */
const originalText = new WeakMap<object, string>();
const aggregates = new WeakSet<JsonValue[]>();

export function parseJsonKeepingText(text: string): JsonValue {
  const v = JSON.parse(text) as JsonValue;
  if (v !== null && typeof v === 'object') originalText.set(v, text.trim());
  return v;
}

/** Marks a Map/Parallel result array: its elements are written with their own original texts. */
export function markAggregate(results: JsonValue[]): JsonValue[] {
  aggregates.add(results);
  return results;
}

/** JSON.stringify, except for values that keep their original text (see above). */
export function stringifyJson(v: JsonValue, keepText = true): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (keepText) {
    const text = originalText.get(v);
    if (text !== undefined) return text;
  }
  if (Array.isArray(v)) {
    if (!aggregates.has(v)) return JSON.stringify(v);
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + stringifyJson(v[i]!, true);
    return out + ']';
  }
  return JSON.stringify(v);
}

/** Size bounds of objects and arrays already measured: JSON values are never changed once built. */
const sizeBounds = new WeakMap<object, number>();
/** A digit then an exponent: a number JSON.stringify may write longer (or a string holding one). */
const EXPONENT = /[0-9][eE]/;
/** Characters JSON.stringify escapes (and lone surrogates, written as `\uXXXX`). */
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * An upper bound of the UTF-8 size of the value's JSON text, close to exact: exact for numbers,
 * for long strings and for short strings of plain characters. Objects and arrays remember their
 * bound, so a value that travels unchanged from state to state is measured once. Where it
 * matters (a limit), measure exactly when the bound is above it.
 *
 * It bounds every way the value and its parts are written: with their original texts or afresh,
 * whole or a part on its own. So the bound of a value bounds that of any part of it.
 */
export function jsonSizeBound(v: JsonValue): number {
  if (typeof v === 'string') return stringSizeBound(v);
  if (typeof v === 'number') return numberSize(v);
  if (typeof v === 'boolean') return v ? 4 : 5;
  if (v === null) return 4;
  let n = sizeBounds.get(v);
  if (n !== undefined) return n;
  const text = originalText.get(v);
  if (text !== undefined && !EXPONENT.test(text)) {
    // Parsed text that travels unchanged: its own size (no walk, however deep it nests). Written
    // afresh, a part takes no more than its share of the text (shorter numbers, no spaces),
    // unless a number has an exponent: `1e20` is written as 21 digits.
    n = Buffer.byteLength(text);
    sizeBounds.set(v, n);
    return n;
  }
  n = 2;
  // Remembering a bound costs a WeakMap entry (and the GC's work on it): worth it only for a value
  // whose measure walked many entries. A few fields are cheaper to measure again.
  const before = walked;
  if (Array.isArray(v)) {
    walked += v.length;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      n += (i > 0 ? 1 : 0) + (x === undefined ? 4 : jsonSizeBound(x));
    }
  } else {
    let entries = 0;
    // for-in with an own check visits Object.keys' keys without building the key array; string
    // and number values are measured here, without a call (most of a small object's measure).
    for (const k in v) {
      if (!Object.hasOwn(v, k)) continue;
      const x = v[k];
      if (x === undefined) continue;
      const size =
        typeof x === 'string' ? stringSizeBound(x) : typeof x === 'number' ? numberSize(x) : jsonSizeBound(x);
      n += (entries > 0 ? 1 : 0) + stringSizeBound(k) + 1 + size;
      entries++;
    }
    walked += entries;
  }
  // Text with an exponent: the larger of the text and the walk (written afresh).
  if (text !== undefined) n = Math.max(n, Buffer.byteLength(text));
  if (walked - before > SMALL || text !== undefined) sizeBounds.set(v, n);
  return n;
}

/** 10^1 … 10^20, exact as doubles. */
const POWERS_OF_TEN = Array.from({ length: 20 }, (_, i) => 10 ** (i + 1));

/** The length of the number's JSON text; integers are counted without writing them. */
function numberSize(v: number): number {
  if (!Number.isFinite(v)) return 4; // null
  if (!Number.isInteger(v) || v >= 1e21 || v <= -1e21) return String(v).length;
  // Below 10^21 an integer is written in full; -0 as 0.
  const a = Math.abs(v);
  let n = 1;
  while (n <= 20 && a >= POWERS_OF_TEN[n - 1]!) n++;
  return v < 0 ? n + 1 : n;
}

/** `jsonSizeBound`, or undefined for a value nested too deep to walk. */
export function trySizeBound(v: JsonValue): number | undefined {
  try {
    return jsonSizeBound(v);
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
}

/**
 * Entries walked by `jsonSizeBound` (for its decision to remember a bound: only differences are
 * read, so it may grow for ever; past 2^53 it would merely stop bounds being remembered).
 */
let walked = 0;

/** Entries a measure may walk before its bound is worth remembering. */
const SMALL = 16;

function stringSizeBound(s: string): number {
  if (s.length > 64) {
    return ESCAPED.test(s) ? Buffer.byteLength(JSON.stringify(s)) : Buffer.byteLength(s) + 2;
  }
  let n = 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += c === 34 || c === 92 ? 2 : c < 0x20 ? 6 : 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdfff) n += 6;
    else n += 3;
  }
  return n;
}

/**
 * Copies a value as a JSON round trip would (undefined and functions dropped from objects,
 * `null` in arrays, `toJSON` honoured), and estimates its UTF-8 size from above. Plain data is
 * copied directly, which is several times faster than stringify + parse.
 */
export function cloneJson(v: unknown): { value: JsonValue; maxBytes: number } | undefined {
  // A getter read while copying may run code that copies too: the outer count is put back.
  const outer = cloneBytes;
  cloneBytes = 0;
  try {
    const value = cloneInto(v, 0);
    return value === undefined ? undefined : { value, maxBytes: cloneBytes };
  } catch (e) {
    if (e instanceof NotPlain) {
      const text: string | undefined = JSON.stringify(v);
      if (text === undefined) return undefined;
      return { value: JSON.parse(text) as JsonValue, maxBytes: text.length * 3 };
    }
    throw e;
  } finally {
    cloneBytes = outer;
  }
}

/** The size bound `cloneInto` accumulates (an object per copy showed in a task's cost). */
let cloneBytes = 0;

class NotPlain extends Error {}

function cloneInto(v: unknown, depth: number): JsonValue | undefined {
  switch (typeof v) {
    case 'string':
      // Worst case per UTF-16 unit is a 6-byte `\u00XX` escape.
      cloneBytes += v.length * 6 + 2;
      return v;
    case 'number':
      if (!Number.isFinite(v)) {
        cloneBytes += 4;
        return null;
      }
      cloneBytes += 24;
      return v;
    case 'boolean':
      cloneBytes += 5;
      return v;
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'object': {
      if (v === null) {
        cloneBytes += 4;
        return null;
      }
      if (depth > 1000) throw new NotPlain();
      if (Array.isArray(v)) {
        const out: JsonValue[] = new Array<JsonValue>(v.length);
        cloneBytes += 2;
        for (let i = 0; i < v.length; i++) {
          const y: unknown = v[i];
          // Strings and finite numbers are copied here: no call per leaf (most of a copy's work).
          if (typeof y === 'string') {
            cloneBytes += y.length * 6 + 3;
            out[i] = y;
          } else if (typeof y === 'number' && Number.isFinite(y)) {
            cloneBytes += 25;
            out[i] = y;
          } else {
            out[i] = cloneInto(y, depth + 1) ?? null;
            cloneBytes += 1;
          }
        }
        return out;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if ((proto !== Object.prototype && proto !== null) || 'toJSON' in v) throw new NotPlain();
      const out: JsonObject = {};
      cloneBytes += 2;
      // for-in with an own check visits Object.keys' keys in the same order, without building
      // the key array (a third faster on the small objects task handlers return).
      for (const k in v) {
        if (!Object.hasOwn(v, k)) continue;
        const y = (v as Record<string, unknown>)[k];
        let x: JsonValue | undefined;
        // As in arrays: strings and finite numbers without a call.
        if (typeof y === 'string') {
          cloneBytes += y.length * 6 + 2;
          x = y;
        } else if (typeof y === 'number' && Number.isFinite(y)) {
          cloneBytes += 24;
          x = y;
        } else {
          x = cloneInto(y, depth + 1);
          if (x === undefined) continue;
        }
        cloneBytes += k.length * 6 + 4;
        if (k === '__proto__') setOwn(out, k, x);
        else out[k] = x;
      }
      return out;
    }
  }
}
