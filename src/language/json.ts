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
 * AWS keeps the execution input's original text while the value travels unchanged through
 * states (e.g. `[1, 2]` keeps its spaces in history and output). Values parsed by
 * `parseJsonKeepingText` remember their text; `stringifyJson` reuses it.
 */
const originalText = new WeakMap<object, string>();

export function parseJsonKeepingText(text: string): JsonValue {
  const v = JSON.parse(text) as JsonValue;
  if (v !== null && typeof v === 'object') originalText.set(v, text.trim());
  return v;
}

/** JSON.stringify, except that values with a remembered original text are written with it. */
export function stringifyJson(v: JsonValue): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const text = originalText.get(v);
  if (text !== undefined) return text;
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + stringifyJson(v[i]!);
    return out + ']';
  }
  let out = '{';
  let first = true;
  for (const k of Object.keys(v)) {
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + stringifyJson(v[k]!);
    first = false;
  }
  return out + '}';
}
