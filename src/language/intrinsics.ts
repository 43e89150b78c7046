/**
 * ASL intrinsic functions (`States.Format(...)` and friends), parsed once into a tree and
 * evaluated against a PathEnv. Randomness (MathRandom without seed, UUID) comes from the env so
 * the interpreter stays deterministic under test.
 */
import { createHash } from 'node:crypto';
import { DefinitionError, StatesErrors, StatesRuntimeError } from './errors.js';
import type { JsonObject, JsonValue } from './json.js';
import { isJsonObject, jsonEquals, setOwn } from './json.js';
import type { CompiledPath, PathEnv } from './jsonpath.js';
import { compilePath, jsonPathNotFoundCause, PathSyntaxError } from './jsonpath.js';

export interface IntrinsicEnv extends PathEnv {
  /** Uniform in [0, 1). */
  random: () => number;
  /** A fresh RFC 4122 version 4 UUID. */
  uuid: () => string;
}

export interface CompiledIntrinsic {
  readonly source: string;
  /** The function called at the top level, e.g. `States.Format`. */
  readonly name: string;
  /** A plain function (no `this`): payload templates call it directly. */
  readonly evaluate: (env: IntrinsicEnv) => JsonValue;
}

type Arg =
  | { t: 'lit'; value: JsonValue; pieces?: string[] }
  | { t: 'path'; path: CompiledPath }
  | { t: 'call'; name: string; args: Arg[] };

/** Limits AWS documents for intrinsic arguments. */
const MAX_RANGE_ITEMS = 1000;
const MAX_ENCODE_CHARS = 10000;
const MAX_HASH_CHARS = 10000;
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

const ARITY: Readonly<Record<string, readonly [number, number]>> = {
  'States.Format': [1, Infinity],
  'States.StringToJson': [1, 1],
  'States.JsonToString': [1, 1],
  'States.Array': [0, Infinity],
  'States.ArrayPartition': [2, 2],
  'States.ArrayContains': [2, 2],
  'States.ArrayRange': [3, 3],
  'States.ArrayGetItem': [2, 2],
  'States.ArrayLength': [1, 1],
  'States.ArrayUnique': [1, 1],
  'States.Base64Encode': [1, 1],
  'States.Base64Decode': [1, 1],
  'States.Hash': [2, 2],
  'States.JsonMerge': [3, 3],
  'States.MathRandom': [2, 3],
  'States.MathAdd': [2, 2],
  'States.StringSplit': [2, 2],
  'States.UUID': [0, 0],
};

const INTRINSIC_START = /^\s*States\.[A-Za-z0-9]+\s*\(/;

/** True when `text` looks like an intrinsic call (`States.Name(`…); it may still be malformed. */
export function isIntrinsicCall(text: string): boolean {
  return INTRINSIC_START.test(text);
}

// ---------------------------------------------------------------------------------------------
// Parser

class IntrinsicParser {
  pos = 0;
  constructor(readonly src: string) {}

  fail(msg: string): never {
    throw new DefinitionError(
      `invalid intrinsic function call '${this.src}': ${msg} at position ${this.pos}`,
      '',
    );
  }

  skipWs(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
  }

  call(): Arg & { t: 'call' } {
    const m = /^States\.[A-Za-z0-9]+/.exec(this.src.slice(this.pos));
    if (!m) this.fail("expected 'States.<Function>('");
    const name = m[0];
    const arity = ARITY[name];
    if (arity === undefined) this.fail(`unknown function '${name}'`);
    this.pos += name.length;
    this.skipWs();
    if (this.src[this.pos] !== '(') this.fail("expected '('");
    this.pos++;
    const args: Arg[] = [];
    this.skipWs();
    if (this.src[this.pos] === ')') {
      this.pos++;
    } else {
      for (;;) {
        args.push(this.arg());
        this.skipWs();
        const c = this.src[this.pos];
        if (c === ',') {
          this.pos++;
          continue;
        }
        if (c === ')') {
          this.pos++;
          break;
        }
        this.fail("expected ',' or ')'");
      }
    }
    if (args.length < arity[0] || args.length > arity[1]) {
      this.fail(`${name} takes ${arityText(arity)} argument(s), got ${args.length}`);
    }
    return { t: 'call', name, args };
  }

  arg(): Arg {
    this.skipWs();
    const rest = this.src.slice(this.pos);
    const c = rest[0];
    if (c === "'") return this.string();
    if (c === '$') return this.path();
    if (rest.startsWith('States.')) return this.call();
    const num = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(rest);
    if (num) {
      this.pos += num[0].length;
      return { t: 'lit', value: Number(num[0]) };
    }
    const word = /^(true|false|null)\b/.exec(rest);
    if (word) {
      this.pos += word[0].length;
      return { t: 'lit', value: word[0] === 'null' ? null : word[0] === 'true' };
    }
    return this.fail('expected an argument');
  }

  /**
   * A single-quoted literal. Only `\'`, `\{`, `\}` and `\\` are escapes (AWS rejects others, e.g.
   * `\"`). Escaped braces never form a States.Format placeholder, so the literal is also split
   * into the pieces around unescaped `{}`.
   */
  string(): Arg {
    this.pos++;
    let value = '';
    let piece = '';
    const pieces: string[] = [];
    for (;;) {
      if (this.pos >= this.src.length) this.fail('unterminated string');
      const ch = this.src[this.pos]!;
      if (ch === '\\') {
        const next = this.src[this.pos + 1];
        if (next !== "'" && next !== '{' && next !== '}' && next !== '\\')
          this.fail('invalid escape sequence');
        value += next;
        piece += next;
        this.pos += 2;
        continue;
      }
      if (ch === "'") {
        this.pos++;
        break;
      }
      if (ch === '{' && this.src[this.pos + 1] === '}') {
        pieces.push(piece);
        piece = '';
        value += '{}';
        this.pos += 2;
        continue;
      }
      value += ch;
      piece += ch;
      this.pos++;
    }
    pieces.push(piece);
    return { t: 'lit', value, pieces };
  }

  /** A path runs to the next `,` or `)` outside brackets, parentheses and quotes. */
  path(): Arg {
    const start = this.pos;
    let depth = 0;
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos]!;
      if (ch === "'" || ch === '"') {
        this.pos++;
        while (this.pos < this.src.length && this.src[this.pos] !== ch) {
          if (this.src[this.pos] === '\\') this.pos++;
          this.pos++;
        }
        this.pos++;
        continue;
      }
      if (ch === '[' || ch === '(') depth++;
      else if (ch === ']' || ch === ')') {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && (ch === ',' || /\s/.test(ch))) break;
      this.pos++;
    }
    const text = this.src.slice(start, this.pos);
    try {
      return { t: 'path', path: compilePath(text) };
    } catch (e) {
      if (e instanceof PathSyntaxError) this.fail(`invalid path '${text}': ${e.message}`);
      throw e;
    }
  }
}

function arityText([min, max]: readonly [number, number]): string {
  if (min === max) return String(min);
  return max === Infinity ? `at least ${min}` : `${min} to ${max}`;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

function fail(cause: string): never {
  throw new StatesRuntimeError(StatesErrors.IntrinsicFailure, cause);
}

function typeName(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

function stringArg(v: readonly JsonValue[], name: string, i: number): string {
  const x = v[i]!;
  if (typeof x !== 'string')
    fail(`The ${ordinal(i)} argument of ${name} must be a string, got ${typeName(x)}`);
  return x;
}

function arrayArg(v: readonly JsonValue[], name: string, i: number): JsonValue[] {
  const x = v[i]!;
  if (!Array.isArray(x)) fail(`The ${ordinal(i)} argument of ${name} must be an array, got ${typeName(x)}`);
  return x;
}

function integerArg(v: readonly JsonValue[], name: string, i: number): number {
  const x = v[i]!;
  if (typeof x !== 'number' || !Number.isInteger(x)) {
    fail(`The ${ordinal(i)} argument of ${name} must be an integer, got ${JSON.stringify(x)}`);
  }
  return x;
}

function objectArg(v: readonly JsonValue[], name: string, i: number): JsonObject {
  const x = v[i]!;
  if (!isJsonObject(x))
    fail(`The ${ordinal(i)} argument of ${name} must be a JSON object, got ${typeName(x)}`);
  return x;
}

class Evaluator {
  constructor(
    readonly env: IntrinsicEnv,
    readonly field: string,
  ) {}

  arg(a: Arg): JsonValue {
    switch (a.t) {
      case 'lit':
        return a.value;
      case 'path': {
        const v = a.path.select(this.env);
        if (v === undefined) {
          throw new StatesRuntimeError(
            StatesErrors.Runtime,
            jsonPathNotFoundCause(a.path.source, this.field, this.env.input),
          );
        }
        return v;
      }
      case 'call':
        return this.call(a);
    }
  }

  call(c: Arg & { t: 'call' }): JsonValue {
    const name = c.name;
    if (name === 'States.Format') return this.format(c.args);
    // Arguments and their checks without a closure per call: a Pass state's intrinsic runs on every
    // transition, most of them before the JIT has looked at this code.
    const args = c.args;
    const v: JsonValue[] = new Array<JsonValue>(args.length);
    for (let i = 0; i < args.length; i++) v[i] = this.arg(args[i]!);
    switch (name) {
      case 'States.StringToJson': {
        const s = stringArg(v, name, 0);
        // Jackson reads blank text as no value, which AWS returns as null (recorded case).
        if (s.trim() === '') return null;
        try {
          return normalizeZero(JSON.parse(s) as JsonValue);
        } catch {
          return fail(`The argument of States.StringToJson is not valid JSON: '${s}'`);
        }
      }
      case 'States.JsonToString':
        return JSON.stringify(v[0]!);
      case 'States.Array':
        return v;
      case 'States.ArrayPartition': {
        const a = arrayArg(v, name, 0);
        const size = integerArg(v, name, 1);
        if (size <= 0) fail(`The chunk size of States.ArrayPartition must be greater than 0, got ${size}`);
        const out: JsonValue[] = [];
        for (let i = 0; i < a.length; i += size) out.push(a.slice(i, i + size));
        return out;
      }
      case 'States.ArrayContains': {
        const a = arrayArg(v, name, 0);
        const x = v[1]!;
        return a.some((e) => jsonEquals(e, x));
      }
      case 'States.ArrayRange': {
        const start = integerArg(v, name, 0);
        const end = integerArg(v, name, 1);
        const step = integerArg(v, name, 2);
        if (step === 0) fail('The step of States.ArrayRange must not be 0');
        const count = (end - start) / step < 0 ? 0 : Math.floor((end - start) / step) + 1;
        if (count > MAX_RANGE_ITEMS) {
          fail(`States.ArrayRange cannot produce more than ${MAX_RANGE_ITEMS} items, got ${count}`);
        }
        const out: number[] = [];
        for (let i = 0; i < count; i++) out.push(start + i * step);
        return out;
      }
      case 'States.ArrayGetItem': {
        const a = arrayArg(v, name, 0);
        const i = integerArg(v, name, 1);
        if (i < 0 || i >= a.length) {
          fail(`The index ${i} is out of bounds for States.ArrayGetItem on an array of length ${a.length}`);
        }
        return a[i]!;
      }
      case 'States.ArrayLength':
        return arrayArg(v, name, 0).length;
      case 'States.ArrayUnique': {
        const out: JsonValue[] = [];
        for (const e of arrayArg(v, name, 0)) if (!out.some((o) => jsonEquals(o, e))) out.push(e);
        return out;
      }
      case 'States.Base64Encode': {
        const s = stringArg(v, name, 0);
        if (s.length > MAX_ENCODE_CHARS) {
          fail(
            `The input of States.Base64Encode must be at most ${MAX_ENCODE_CHARS} characters, got ${s.length}`,
          );
        }
        return Buffer.from(s, 'utf8').toString('base64');
      }
      case 'States.Base64Decode': {
        const s = stringArg(v, name, 0);
        if (s.length > MAX_ENCODE_CHARS) {
          fail(
            `The input of States.Base64Decode must be at most ${MAX_ENCODE_CHARS} characters, got ${s.length}`,
          );
        }
        if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) {
          fail(`The input of States.Base64Decode is not valid base64: '${s}'`);
        }
        return Buffer.from(s, 'base64').toString('utf8');
      }
      case 'States.Hash': {
        const data = stringArg(v, name, 0);
        const algorithm = stringArg(v, name, 1);
        if (data.length > MAX_HASH_CHARS) {
          fail(`The input of States.Hash must be at most ${MAX_HASH_CHARS} characters, got ${data.length}`);
        }
        const algo = HASHES[algorithm];
        if (algo === undefined) {
          fail(
            `The algorithm of States.Hash must be one of ${Object.keys(HASHES).join(', ')}, got '${algorithm}'`,
          );
        }
        return createHash(algo).update(data, 'utf8').digest('hex');
      }
      case 'States.JsonMerge': {
        const a = objectArg(v, name, 0);
        const b = objectArg(v, name, 1);
        const deep = v[2]!;
        if (typeof deep !== 'boolean') fail(`The third argument of States.JsonMerge must be a boolean`);
        if (deep) fail('States.JsonMerge supports only a shallow merge: the third argument must be false');
        const out: JsonObject = {};
        for (const k of Object.keys(a)) setOwn(out, k, a[k]!);
        for (const k of Object.keys(b)) setOwn(out, k, b[k]!);
        return out;
      }
      case 'States.MathRandom':
        return this.mathRandom(v, name);
      case 'States.MathAdd': {
        // AWS rounds each operand (Java Math.round: half up) before adding (recorded cases).
        const a = roundedInt(v[0]!, 0, name);
        const b = roundedInt(v[1]!, 1, name);
        return normalizeZero(a + b);
      }
      case 'States.StringSplit': {
        // Java StringTokenizer: every character of the delimiter splits; empty tokens dropped.
        const s = stringArg(v, name, 0);
        const delims = new Set(stringArg(v, name, 1));
        const out: string[] = [];
        let cur = '';
        for (const ch of s) {
          if (delims.has(ch)) {
            if (cur !== '') out.push(cur);
            cur = '';
          } else cur += ch;
        }
        if (cur !== '') out.push(cur);
        return out;
      }
      case 'States.UUID':
        return this.env.uuid();
    }
    return fail(`Unknown intrinsic function ${name}`);
  }

  format(args: Arg[]): string {
    const first = args[0]!;
    let pieces: string[];
    if (first.t === 'lit' && first.pieces !== undefined) {
      pieces = first.pieces;
    } else {
      const t = this.arg(first);
      if (typeof t !== 'string')
        fail(`The first argument of States.Format must be a string, got ${typeName(t)}`);
      pieces = t.split('{}');
    }
    const values = args.slice(1).map((a) => this.arg(a));
    if (values.length !== pieces.length - 1) {
      fail(
        `States.Format expects ${pieces.length - 1} argument(s) after the template to match its placeholders, got ${values.length}`,
      );
    }
    let out = pieces[0]!;
    for (let i = 0; i < values.length; i++) out += formatValue(values[i]!) + pieces[i + 1]!;
    return out;
  }

  mathRandom(v: JsonValue[], name: string): number {
    const start = roundedInt(v[0]!, 0, name);
    const end = roundedInt(v[1]!, 1, name);
    if (end <= start)
      fail(`The end of States.MathRandom must be greater than its start, got ${start} and ${end}`);
    const bound = end - start;
    if (v.length === 3) {
      const seed = v[2]!;
      if (typeof seed !== 'number' || !Number.isFinite(seed)) {
        fail('The seed of States.MathRandom must be a number');
      }
      return start + javaRandomNextInt(Math.round(seed), bound);
    }
    return start + Math.floor(this.env.random() * bound);
  }
}

const HASHES: Readonly<Record<string, string>> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

function ordinal(i: number): string {
  return ['first', 'second', 'third'][i] ?? `#${i + 1}`;
}

function roundedInt(x: JsonValue, i: number, name: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) {
    fail(`The ${ordinal(i)} argument of ${name} must be a number, got ${JSON.stringify(x)}`);
  }
  const r = Math.round(x);
  if (r < INT_MIN || r > INT_MAX) {
    fail(`The ${ordinal(i)} argument of ${name} must be between ${INT_MIN} and ${INT_MAX}, got ${x}`);
  }
  return r;
}

function normalizeZero(v: JsonValue): JsonValue {
  return Object.is(v, -0) ? 0 : v;
}

/**
 * How AWS renders a value in States.Format (Java's toString of the parsed JSON): strings raw,
 * objects `{a=1, b=[x, y]}`, scalars as JSON (recorded cases).
 */
function formatValue(v: JsonValue): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (isJsonObject(v))
    return `{${Object.keys(v)
      .map((k) => `${k}=${formatValue(v[k]!)}`)
      .join(', ')}}`;
  return JSON.stringify(v);
}

/** `new java.util.Random(seed).nextInt(bound)`: a seeded, reproducible draw. */
function javaRandomNextInt(seed: number, bound: number): number {
  const MULT = 0x5deece66dn;
  const MASK = (1n << 48n) - 1n;
  let s = (BigInt.asUintN(64, BigInt(seed)) ^ MULT) & MASK;
  const next31 = (): number => {
    s = (s * MULT + 0xbn) & MASK;
    return Number(s >> 17n);
  };
  let r = next31();
  const m = bound - 1;
  if ((bound & m) === 0) return Number((BigInt(bound) * BigInt(r)) >> 31n);
  for (let u = r; ((u - (r = u % bound) + m) | 0) < 0; u = next31());
  return r;
}

// ---------------------------------------------------------------------------------------------
// Compilation

/**
 * Parses an intrinsic call. Syntax errors, unknown functions and wrong argument counts throw a
 * DefinitionError (location left empty for the caller to fill in). `field` names the template
 * key (e.g. `x.$`) for the cause text when a path argument selects nothing.
 */
export function compileIntrinsic(text: string, field = ''): CompiledIntrinsic {
  const p = new IntrinsicParser(text);
  p.skipWs();
  const root = p.call();
  p.skipWs();
  if (p.pos !== text.length) p.fail('unexpected text after the call');
  return {
    source: text,
    name: root.name,
    evaluate: (env) => new Evaluator(env, field).call(root),
  };
}
