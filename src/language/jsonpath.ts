/**
 * JSONPath as AWS Step Functions uses it (a Jayway-compatible dialect), compiled once into a
 * form that is cheap to evaluate. Plain `$.a.b[0]` chains compile to an array of keys/indices.
 */
import type { JsonObject, JsonValue } from './json.js';
import { getOwn, isJsonObject, jsonEquals, jsonSizeBound, setOwn } from './json.js';

/** Where a path starts: `$` the state input, `$$` the context object, `$name` a workflow variable. */
export type PathRoot = { kind: 'input' } | { kind: 'context' } | { kind: 'variable'; name: string };

/** Values a path can be read against. */
export interface PathEnv {
  input: JsonValue;
  context: JsonValue;
  /** Workflow variables (issue 3); absent in plain JSONPath runs. */
  variables?: ReadonlyMap<string, JsonValue>;
}

export class PathSyntaxError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'PathSyntaxError';
  }
}

export interface CompiledPath {
  readonly source: string;
  readonly root: PathRoot;
  /** False when the path has a wildcard, filter, slice, union or `..`: it then selects a list. */
  readonly definite: boolean;
  /** Jayway's normalised form (`$['a'][0]`), as AWS quotes it in error causes. */
  readonly normalized: string;
  /** Selects from the value the root names; `undefined` when nothing is selected. */
  selectFrom(rootValue: JsonValue): JsonValue | undefined;
  /** Selects against an environment, picking the root value by `root`. */
  select(env: PathEnv): JsonValue | undefined;
}

// ---------------------------------------------------------------------------------------------
// Syntax tree

type Step = string | number; // key or array index (negative counts from the end)

type Segment =
  | { t: 'key'; key: string }
  | { t: 'index'; index: number }
  | { t: 'wild' }
  | { t: 'keys'; keys: string[] }
  | { t: 'indices'; indices: number[] }
  | { t: 'slice'; start: number | undefined; end: number | undefined; step: number | undefined }
  | { t: 'filter'; expr: FilterExpr; text: string }
  | { t: 'descent'; inner: Segment };

type Operand =
  | { t: 'lit'; value: JsonValue }
  | { t: 'path'; current: boolean; segments: Segment[]; definite: boolean }
  | { t: 'regex'; re: RegExp };

type FilterExpr =
  | { t: 'or'; a: FilterExpr; b: FilterExpr }
  | { t: 'and'; a: FilterExpr; b: FilterExpr }
  | { t: 'not'; a: FilterExpr }
  | { t: 'exists'; a: Operand }
  | { t: 'cmp'; op: CmpOp; a: Operand; b: Operand };

type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '=~' | 'in' | 'nin';

const IDENT_START = /[A-Za-z_]/;
const IDENT_CHAR = /[A-Za-z0-9_]/;

// ---------------------------------------------------------------------------------------------
// Parser

class Parser {
  pos = 0;
  constructor(
    readonly src: string,
    readonly end: number = src.length,
  ) {}

  fail(msg: string): never {
    throw new PathSyntaxError(`${msg} at position ${this.pos}`, this.src);
  }

  peek(offset = 0): string {
    const i = this.pos + offset;
    return i < this.end ? this.src[i]! : '';
  }

  skipWs(): void {
    while (this.pos < this.end && /\s/.test(this.src[this.pos]!)) this.pos++;
  }

  /** Segments up to `this.end` (or, in a filter, up to the first character that ends an operand). */
  segments(inFilter: boolean): Segment[] {
    const out: Segment[] = [];
    while (this.pos < this.end) {
      const c = this.peek();
      if (inFilter && c !== '.' && c !== '[') break;
      if (c === '.') {
        if (this.peek(1) === '.') {
          this.pos += 2;
          out.push({ t: 'descent', inner: this.afterDot(inFilter, true) });
        } else {
          this.pos++;
          out.push(this.afterDot(inFilter, false));
        }
      } else if (c === '[') {
        out.push(this.bracket());
      } else {
        this.fail(`unexpected character '${c}'`);
      }
    }
    return out;
  }

  /** What follows `.` or `..`: a name, `*`, or (lenient, as AWS accepts `$.[0]`) a bracket. */
  afterDot(inFilter: boolean, descent: boolean): Segment {
    const c = this.peek();
    if (c === '') this.fail(descent ? "path must not end with '..'" : "path must not end with '.'");
    if (c === '[') return this.bracket();
    if (c === '*') {
      this.pos++;
      return { t: 'wild' };
    }
    const start = this.pos;
    while (this.pos < this.end) {
      const ch = this.src[this.pos]!;
      if (ch === '.' || ch === '[') break;
      if (inFilter && /[\s=!<>&|)(,\]]/.test(ch)) break;
      if (/\s/.test(ch)) this.fail("use bracket notation ['my prop'] for names with blanks");
      if (ch === '(' || ch === ')') this.fail(`unexpected '${ch}'`);
      this.pos++;
    }
    if (this.pos === start) this.fail('empty property name');
    return { t: 'key', key: this.src.slice(start, this.pos) };
  }

  bracket(): Segment {
    this.pos++; // [
    this.skipWs();
    const c = this.peek();
    let seg: Segment;
    if (c === '*') {
      this.pos++;
      seg = { t: 'wild' };
    } else if (c === '?') {
      seg = this.filterSegment();
    } else if (c === "'" || c === '"') {
      const keys: string[] = [];
      for (;;) {
        this.skipWs();
        const q = this.peek();
        if (q !== "'" && q !== '"') this.fail('expected a quoted name');
        keys.push(this.quoted());
        this.skipWs();
        if (this.peek() === ',') {
          this.pos++;
          continue;
        }
        break;
      }
      seg = keys.length === 1 ? { t: 'key', key: keys[0]! } : { t: 'keys', keys };
    } else {
      const close = this.src.indexOf(']', this.pos);
      if (close < 0 || close >= this.end) this.fail("missing ']'");
      const body = this.src.slice(this.pos, close).trim();
      this.pos = close;
      seg = this.numeric(body);
    }
    this.skipWs();
    if (this.peek() !== ']') this.fail("expected ']'");
    this.pos++;
    return seg;
  }

  /**
   * A quoted name. A backslash keeps the next character from closing the string, and both are
   * kept: AWS resolves `$['a\"b']` to the key `a\"b` (recorded in the conformance corpus).
   */
  quoted(): string {
    const q = this.peek();
    this.pos++;
    const start = this.pos;
    while (this.pos < this.end) {
      const ch = this.src[this.pos]!;
      if (ch === '\\') {
        this.pos += 2;
        continue;
      }
      if (ch === q) {
        const s = this.src.slice(start, this.pos);
        this.pos++;
        return s;
      }
      this.pos++;
    }
    return this.fail('unterminated quoted name');
  }

  numeric(body: string): Segment {
    const int = (s: string): number => {
      if (!/^-?\d+$/.test(s)) this.fail(`invalid array index '${s}'`);
      return Number(s);
    };
    if (body.includes(':')) {
      const parts = body.split(':').map((s) => s.trim());
      if (parts.length > 3) this.fail(`invalid slice '${body}'`);
      const opt = (s: string | undefined) => (s === undefined || s === '' ? undefined : int(s));
      const step = opt(parts[2]);
      if (step === 0) this.fail('slice step must not be 0');
      return { t: 'slice', start: opt(parts[0]), end: opt(parts[1]), step };
    }
    if (body.includes(',')) return { t: 'indices', indices: body.split(',').map((s) => int(s.trim())) };
    return { t: 'index', index: int(body) };
  }

  filterSegment(): Segment {
    this.pos++; // ?
    this.skipWs();
    if (this.peek() !== '(') this.fail("expected '(' after '?'");
    const start = this.pos;
    this.pos++;
    const expr = this.orExpr();
    this.skipWs();
    if (this.peek() !== ')') this.fail("expected ')' closing the filter");
    this.pos++;
    return { t: 'filter', expr, text: this.src.slice(start, this.pos) };
  }

  orExpr(): FilterExpr {
    let a = this.andExpr();
    for (;;) {
      this.skipWs();
      if (this.peek() === '|' && this.peek(1) === '|') {
        this.pos += 2;
        a = { t: 'or', a, b: this.andExpr() };
      } else return a;
    }
  }

  andExpr(): FilterExpr {
    let a = this.unary();
    for (;;) {
      this.skipWs();
      if (this.peek() === '&' && this.peek(1) === '&') {
        this.pos += 2;
        a = { t: 'and', a, b: this.unary() };
      } else return a;
    }
  }

  unary(): FilterExpr {
    this.skipWs();
    if (this.peek() === '!' && this.peek(1) !== '=') {
      this.pos++;
      return { t: 'not', a: this.unary() };
    }
    if (this.peek() === '(') {
      this.pos++;
      const e = this.orExpr();
      this.skipWs();
      if (this.peek() !== ')') this.fail("expected ')'");
      this.pos++;
      return e;
    }
    const a = this.operand();
    this.skipWs();
    const op = this.operator();
    if (op === undefined) {
      if (a.t !== 'path') this.fail('a filter term without an operator must be a path');
      return { t: 'exists', a };
    }
    this.skipWs();
    return { t: 'cmp', op, a, b: this.operand() };
  }

  operator(): CmpOp | undefined {
    const two = this.src.slice(this.pos, this.pos + 2);
    for (const op of ['==', '!=', '<=', '>=', '=~'] as const) {
      if (two === op) {
        this.pos += 2;
        return op;
      }
    }
    const c = this.peek();
    if (c === '<' || c === '>') {
      this.pos++;
      return c;
    }
    if (c === '=') {
      // A lone '=' is taken as equality (lenient).
      this.pos++;
      return '==';
    }
    const word = /^(nin|in)\b/.exec(this.src.slice(this.pos, this.end));
    if (word) {
      this.pos += word[1]!.length;
      return word[1] as CmpOp;
    }
    return undefined;
  }

  operand(): Operand {
    this.skipWs();
    const c = this.peek();
    if (c === '@' || c === '$') {
      this.pos++;
      if (c === '$' && this.peek() === '$') this.fail("'$$' is not allowed in a filter");
      const segments = this.segments(true);
      return { t: 'path', current: c === '@', segments, definite: segments.every(isDefiniteSeg) };
    }
    if (c === "'" || c === '"') {
      const start = this.pos + 1;
      this.quoted();
      return { t: 'lit', value: unescapeLiteral(this.src.slice(start, this.pos - 1)) };
    }
    if (c === '/') {
      const m = /^\/((?:\\.|[^/\\])*)\/([a-z]*)/.exec(this.src.slice(this.pos, this.end));
      if (!m) this.fail('invalid regular expression');
      this.pos += m[0].length;
      try {
        return { t: 'regex', re: new RegExp(m[1]!, m[2]!.replace(/[^imsu]/g, '')) };
      } catch {
        return this.fail('invalid regular expression');
      }
    }
    if (c === '[' || c === '{') {
      const text = this.balanced();
      try {
        return { t: 'lit', value: JSON.parse(text.replace(/'/g, '"')) as JsonValue };
      } catch {
        return this.fail('invalid literal');
      }
    }
    const m = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(this.src.slice(this.pos, this.end));
    if (m) {
      this.pos += m[1]!.length;
      return { t: 'lit', value: Number(m[1]) };
    }
    // Bare words: true/false/null, else (lenient) an unquoted string.
    const w = /^[^\s=!<>&|()]+/.exec(this.src.slice(this.pos, this.end));
    if (!w) this.fail('expected a value');
    this.pos += w[0].length;
    const word = w[0];
    return {
      t: 'lit',
      value: word === 'true' ? true : word === 'false' ? false : word === 'null' ? null : word,
    };
  }

  balanced(): string {
    const start = this.pos;
    let depth = 0;
    while (this.pos < this.end) {
      const ch = this.src[this.pos]!;
      if (ch === "'" || ch === '"') {
        this.quoted();
        continue;
      }
      if (ch === '[' || ch === '{') depth++;
      if (ch === ']' || ch === '}') {
        depth--;
        if (depth === 0) {
          this.pos++;
          return this.src.slice(start, this.pos);
        }
      }
      this.pos++;
    }
    return this.fail('unbalanced literal');
  }
}

function unescapeLiteral(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

function isDefiniteSeg(s: Segment): boolean {
  return s.t === 'key' || s.t === 'index';
}

function parseRoot(src: string): { root: PathRoot; pos: number } {
  if (!src.startsWith('$')) throw new PathSyntaxError("path must start with '$'", src);
  if (src.startsWith('$$')) return { root: { kind: 'context' }, pos: 2 };
  if (IDENT_START.test(src[1] ?? '')) {
    let i = 2;
    while (i < src.length && IDENT_CHAR.test(src[i]!)) i++;
    return { root: { kind: 'variable', name: src.slice(1, i) }, pos: i };
  }
  return { root: { kind: 'input' }, pos: 1 };
}

function parse(src: string): { root: PathRoot; segments: Segment[] } {
  const { root, pos } = parseRoot(src);
  const p = new Parser(src);
  p.pos = pos;
  const segments = p.segments(false);
  return { root, segments };
}

// ---------------------------------------------------------------------------------------------
// Evaluation

function rootValueOf(root: PathRoot, env: PathEnv): JsonValue | undefined {
  switch (root.kind) {
    case 'input':
      return env.input;
    case 'context':
      return env.context;
    case 'variable':
      return env.variables?.get(root.name);
  }
}

/** The fast path: a chain of own keys and array indices. */
function walkSteps(value: JsonValue, steps: readonly Step[]): JsonValue | undefined {
  let cur: JsonValue | undefined = value;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    if (typeof s === 'string') {
      if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
      cur = getOwn(cur, s);
    } else {
      if (!Array.isArray(cur)) return undefined;
      const idx = s < 0 ? cur.length + s : s;
      if (idx < 0 || idx >= cur.length) return undefined;
      cur = cur[idx];
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

function evalSegments(value: JsonValue, segments: readonly Segment[], doc: JsonValue): JsonValue[] {
  let nodes: JsonValue[] = [value];
  for (const seg of segments) {
    const next: JsonValue[] = [];
    for (const n of nodes) applySegment(seg, n, next, doc);
    nodes = next;
    if (nodes.length === 0) break;
  }
  return nodes;
}

function applySegment(seg: Segment, node: JsonValue, out: JsonValue[], doc: JsonValue): void {
  switch (seg.t) {
    case 'key':
      if (isJsonObject(node)) {
        const v = getOwn(node, seg.key);
        if (v !== undefined) out.push(v);
      }
      return;
    case 'index':
      if (Array.isArray(node)) {
        const i = seg.index < 0 ? node.length + seg.index : seg.index;
        if (i >= 0 && i < node.length) out.push(node[i]!);
      }
      return;
    case 'wild':
      if (Array.isArray(node)) out.push(...node);
      else if (isJsonObject(node)) for (const k of Object.keys(node)) out.push(node[k]!);
      return;
    case 'keys':
      if (isJsonObject(node)) {
        for (const k of seg.keys) {
          const v = getOwn(node, k);
          if (v !== undefined) out.push(v);
        }
      }
      return;
    case 'indices':
      if (Array.isArray(node)) {
        for (const idx of seg.indices) {
          const i = idx < 0 ? node.length + idx : idx;
          if (i >= 0 && i < node.length) out.push(node[i]!);
        }
      }
      return;
    case 'slice':
      if (Array.isArray(node)) sliceInto(node, seg.start, seg.end, seg.step, out);
      return;
    case 'filter':
      // Jayway: on an array each element is tested; on an object the object itself is.
      if (Array.isArray(node)) {
        for (const el of node) if (testFilter(seg.expr, el, doc)) out.push(el);
      } else if (isJsonObject(node)) {
        if (testFilter(seg.expr, node, doc)) out.push(node);
      }
      return;
    case 'descent':
      descend(seg.inner, node, out, doc);
      return;
  }
}

/** `..inner`: applies `inner` to the node and every descendant, in document (pre-)order. */
function descend(inner: Segment, node: JsonValue, out: JsonValue[], doc: JsonValue): void {
  // A filter after `..` tests each object once (elements are visited as nodes themselves).
  if (inner.t === 'filter') {
    if (isJsonObject(node) && testFilter(inner.expr, node, doc)) out.push(node);
  } else {
    applySegment(inner, node, out, doc);
  }
  if (Array.isArray(node)) for (const el of node) descend(inner, el, out, doc);
  else if (isJsonObject(node)) for (const k of Object.keys(node)) descend(inner, node[k]!, out, doc);
}

function sliceInto(
  arr: JsonValue[],
  start: number | undefined,
  end: number | undefined,
  step: number | undefined,
  out: JsonValue[],
): void {
  const len = arr.length;
  const st = step ?? 1;
  const norm = (v: number, lo: number, hi: number) => {
    const x = v < 0 ? v + len : v;
    return x < lo ? lo : x > hi ? hi : x;
  };
  if (st > 0) {
    const s = start === undefined ? 0 : norm(start, 0, len);
    const e = end === undefined ? len : norm(end, 0, len);
    for (let i = s; i < e; i += st) out.push(arr[i]!);
  } else {
    const s = start === undefined ? len - 1 : norm(start, -1, len - 1);
    const e = end === undefined ? -1 : norm(end, -1, len - 1);
    for (let i = s; i > e; i += st) out.push(arr[i]!);
  }
}

function operandValue(o: Operand, current: JsonValue, doc: JsonValue): JsonValue | undefined {
  switch (o.t) {
    case 'lit':
      return o.value;
    case 'regex':
      return undefined;
    case 'path': {
      const base = o.current ? current : doc;
      if (o.definite) {
        const r = evalSegments(base, o.segments, doc);
        return r[0];
      }
      return evalSegments(base, o.segments, doc);
    }
  }
}

function testFilter(e: FilterExpr, current: JsonValue, doc: JsonValue): boolean {
  switch (e.t) {
    case 'or':
      return testFilter(e.a, current, doc) || testFilter(e.b, current, doc);
    case 'and':
      return testFilter(e.a, current, doc) && testFilter(e.b, current, doc);
    case 'not':
      return !testFilter(e.a, current, doc);
    case 'exists': {
      const v = operandValue(e.a, current, doc);
      return v !== undefined && !(Array.isArray(v) && e.a.t === 'path' && !e.a.definite && v.length === 0);
    }
    case 'cmp': {
      const a = operandValue(e.a, current, doc);
      if (e.op === '=~') {
        return e.b.t === 'regex' && typeof a === 'string' && e.b.re.test(a);
      }
      const b = operandValue(e.b, current, doc);
      return compare(e.op, a, b);
    }
  }
}

function compare(op: CmpOp, a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  switch (op) {
    case '==':
      return a !== undefined && b !== undefined && jsonEquals(a, b);
    case '!=':
      return !(a !== undefined && b !== undefined && jsonEquals(a, b));
    case 'in':
      return a !== undefined && Array.isArray(b) && b.some((x) => jsonEquals(a, x));
    case 'nin':
      return a !== undefined && Array.isArray(b) && !b.some((x) => jsonEquals(a, x));
    case '=~':
      return false; // handled with the regex operand in testFilter
    case '<':
      return order(a, b, (x) => x < 0);
    case '<=':
      return order(a, b, (x) => x <= 0);
    case '>':
      return order(a, b, (x) => x > 0);
    case '>=':
      return order(a, b, (x) => x >= 0);
  }
}

/** Ordering is defined between two numbers or two strings only (Jayway); anything else is false. */
function order(a: JsonValue | undefined, b: JsonValue | undefined, test: (cmp: number) => boolean): boolean {
  if (typeof a === 'number' && typeof b === 'number') return test(a < b ? -1 : a > b ? 1 : 0);
  if (typeof a === 'string' && typeof b === 'string') return test(a < b ? -1 : a > b ? 1 : 0);
  return false;
}

// ---------------------------------------------------------------------------------------------
// Normalised form and AWS cause texts

function segText(s: Segment): string {
  switch (s.t) {
    case 'key':
      return `['${s.key}']`;
    case 'index':
      return `[${s.index}]`;
    case 'wild':
      return '[*]';
    case 'keys':
      return `[${s.keys.map((k) => `'${k}'`).join(',')}]`;
    case 'indices':
      return `[${s.indices.join(',')}]`;
    case 'slice':
      return `[${s.start ?? ''}:${s.end ?? ''}${s.step === undefined ? '' : `:${s.step}`}]`;
    case 'filter':
      return '[?]';
    case 'descent':
      return `..${segText(s.inner)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Compilation

class PathImpl implements CompiledPath {
  readonly definite: boolean;
  readonly normalized: string;
  /** Set for definite paths: the fast-path chain. */
  readonly steps: readonly Step[] | undefined;

  constructor(
    readonly source: string,
    readonly root: PathRoot,
    readonly segments: readonly Segment[],
  ) {
    this.definite = segments.every(isDefiniteSeg);
    this.steps = this.definite
      ? segments.map((s) => (s.t === 'key' ? s.key : (s as { index: number }).index))
      : undefined;
    this.normalized = '$' + segments.map(segText).join('');
  }

  selectFrom(rootValue: JsonValue): JsonValue | undefined {
    const steps = this.steps;
    if (steps !== undefined) return steps.length === 0 ? rootValue : walkSteps(rootValue, steps);
    return evalSegments(rootValue, this.segments, rootValue);
  }

  select(env: PathEnv): JsonValue | undefined {
    const v = rootValueOf(this.root, env);
    return v === undefined ? undefined : this.selectFrom(v);
  }
}

export function compilePath(source: string): CompiledPath {
  const { root, segments } = parse(source);
  return new PathImpl(source, root, segments);
}

/**
 * Cause text AWS gives when a definite InputPath/OutputPath/…Path selects nothing (Jayway's
 * PathNotFoundException): `Invalid path '$.a' : No results for path: $['a']`. When a key is
 * missing before the last step Jayway says `Missing property in path $['a']` instead.
 */
export function pathNotFoundCause(path: CompiledPath, rootValue: JsonValue | undefined): string {
  return `Invalid path '${path.source}' : ${pathNotFoundDetail(path, rootValue)}`;
}

function pathNotFoundDetail(path: CompiledPath, rootValue: JsonValue | undefined): string {
  const noResults = `No results for path: ${path.normalized}`;
  if (!(path instanceof PathImpl) || path.steps === undefined || rootValue === undefined) return noResults;
  let cur: JsonValue | undefined = rootValue;
  let prefix = '$';
  const steps = path.steps;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    const last = i === steps.length - 1;
    if (typeof s === 'string') {
      prefix += `['${s}']`;
      if (!isJsonObject(cur)) return noResults;
      cur = getOwn(cur, s);
      if (cur === undefined) return last ? noResults : `Missing property in path ${prefix}`;
    } else {
      prefix += `[${s}]`;
      if (!Array.isArray(cur)) return noResults;
      cur = cur[s < 0 ? cur.length + s : s];
      if (cur === undefined) return noResults;
    }
  }
  return noResults;
}

/**
 * Cause text of a payload-template path that selects nothing (recorded AWS text):
 * `The JSONPath '$.x' specified for the field 'x.$' could not be found in the input '{"a":1}'`.
 */
export function jsonPathNotFoundCause(source: string, field: string, input: JsonValue): string {
  return `The JSONPath '${source}' specified for the field '${field}' could not be found in the input '${JSON.stringify(input)}'`;
}

// ---------------------------------------------------------------------------------------------
// Reference paths

/** A Reference Path (ResultPath): definite, input-rooted, names where a value is written. */
export interface CompiledReferencePath {
  readonly source: string;
  /**
   * Returns `root` with `value` placed at the path (the input is not mutated; objects on the way
   * are copied). Throws ReferencePathError when the path cannot be written (e.g. through a scalar).
   */
  assign(root: JsonValue, value: JsonValue): JsonValue;
  /**
   * An upper bound of the JSON size of `assign(root, value)` from bounds of the sizes of `root`
   * and `value`: the value replaces or adds one entry, and each object on the way may be new
   * (`{}`), with a key, a colon and a comma.
   */
  placedBytes(rootBytes: number, valueBytes: number): number;
}

export class ReferencePathError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'ReferencePathError';
  }
}

/**
 * Cause of States.ResultPathMatchFailure. Not recorded in the conformance corpus: the wording
 * follows the form AWS uses for its other JSONPath causes and may differ from AWS's.
 */
export function resultPathMatchFailureCause(path: string, input: JsonValue): string {
  return `Unable to apply ReplacePath '${path}' to input '${JSON.stringify(input)}'`;
}

/**
 * Shallow copy. Object.assign is much faster than spread once optimised (measured on V8 11:
 * a Map of 10,000 items 1.5x, a Parallel of 10 branches 2x slower with spread) but assigns
 * through [[Set]], which would turn an own `__proto__` key into a prototype change: spread
 * covers that case.
 */
function copyObject(o: JsonObject): JsonObject {
  return Object.prototype.hasOwnProperty.call(o, '__proto__') ? { ...o } : Object.assign({}, o);
}

export function compileReferencePath(source: string): CompiledReferencePath {
  const { root, segments } = parse(source);
  if (root.kind !== 'input') {
    throw new PathSyntaxError('a reference path must start with $ followed by . or [', source);
  }
  const steps: Step[] = [];
  for (const s of segments) {
    if (s.t === 'key') steps.push(s.key);
    else if (s.t === 'index') steps.push(s.index);
    else
      throw new PathSyntaxError(
        'a reference path must select a single node (no wildcard, filter, slice, union or ..)',
        source,
      );
  }
  const fail = (): never => {
    throw new ReferencePathError(`cannot write to '${source}' in the input`, source);
  };
  const last = steps.length - 1;
  let keyBytes = 0;
  for (const s of steps) if (typeof s === 'string') keyBytes += jsonSizeBound(s) + 4;
  // Only a `__proto__` key needs setOwn (a plain store would change the prototype).
  const protoKey = steps.includes('__proto__');
  const put = (node: JsonValue | undefined, i: number, value: JsonValue): JsonValue => {
    const s = steps[i]!;
    if (typeof s === 'string') {
      if (node === undefined) node = {};
      if (!isJsonObject(node)) return fail();
      const copy = copyObject(node);
      // The last step's old value is not read: it is replaced.
      const v = i === last ? value : put(getOwn(node, s), i + 1, value);
      if (protoKey) setOwn(copy, s, v);
      else copy[s] = v;
      return copy;
    }
    if (!Array.isArray(node)) return fail();
    const idx = s < 0 ? node.length + s : s;
    if (idx < 0 || idx >= node.length) return fail();
    const copy = node.slice();
    copy[idx] = i === last ? value : put(node[idx], i + 1, value);
    return copy;
  };
  return {
    source,
    assign(rootValue, value) {
      if (steps.length === 0) return value;
      // The root itself must be an object or array: ResultPath never replaces a scalar input.
      if (typeof rootValue !== 'object' || rootValue === null) return fail();
      return put(rootValue, 0, value);
    },
    placedBytes(rootBytes, valueBytes) {
      return steps.length === 0 ? valueBytes : rootBytes + valueBytes + keyBytes;
    },
  };
}
