/**
 * JSONata templates of JSONata states (Arguments, Output, Assign, ItemSelector, Items, Condition…):
 * a string that is exactly `{% expr %}` is an expression, any other value is a literal. Every
 * expression is compiled once; evaluation binds `$states`, the workflow variables and the Step
 * Functions functions ($partition, $range, $hash, $random, $uuid, $parse).
 *
 * The `jsonata` package (2.x) evaluates only asynchronously: its evaluator is a tree of `async`
 * functions, so even an expression that touches nothing asynchronous yields a Promise. Expressions
 * in the subset of jsonata-fast.ts (paths, operators, constructors, a few pure built-ins) are
 * evaluated synchronously by it, with identical results; the others by jsonata. A template
 * evaluates synchronously when all its expressions do, and returns a Promise otherwise.
 */
import { createHash } from 'node:crypto';
import jsonata from 'jsonata';
import { DefinitionError, StatesErrors, StatesRuntimeError } from './errors.js';
import { compileFastJsonata, yieldsPlainJson } from './jsonata-fast.js';
import type { JsonataBindings, JsonataLimits } from './jsonata-bindings.js';
import type { JsonObject, JsonValue } from './json.js';
import { isJsonObject, setOwn } from './json.js';

/** What an expression can read, plus the sources of randomness and time it may use. */
export type { JsonataBindings, JsonataLimits } from './jsonata-bindings.js';

/**
 * AWS fails `[1..873783]` ("memory limit exceeded") and accepts `[1..873782]`; it refuses nesting
 * near 100 of its own frames, which jsonata-js counts several times over, so the depth bound is
 * set well above it: whatever AWS evaluates evaluates here. The time bound only stops runaways.
 */
export const DEFAULT_JSONATA_LIMITS: Readonly<JsonataLimits> = {
  timeoutMs: 1000,
  maxDepth: 500,
  maxSequence: 873_782,
  maxRange: 873_782,
};

export interface CompiledJsonataTemplate {
  /** The field the template came from (e.g. `Output`), as named in cause texts. */
  readonly field: string;
  /** False when the template contains no expression: `evaluate` then returns a constant. */
  readonly dynamic: boolean;
  /** The expression text when the whole template is one expression (for type-check causes). */
  readonly expression: string | undefined;
  /**
   * Synchronous when `dynamic` is false (a shared, frozen constant) or when every expression is
   * in the fast subset; a Promise otherwise. Fails with States.QueryEvaluationError (thrown, or
   * as the rejection). Callers must not mutate the result.
   */
  evaluate(b: JsonataBindings): JsonValue | Promise<JsonValue>;
  /** Always a Promise. */
  evaluateAsync(b: JsonataBindings): Promise<JsonValue>;
}

const OPEN = '{%';
const CLOSE = '%}';

/** True for a string that is exactly `{% … %}` (no surrounding whitespace: ` {% x %} ` is a literal). */
export function isJsonataExpression(v: JsonValue): v is string {
  return typeof v === 'string' && v.length >= 4 && v.startsWith(OPEN) && v.endsWith(CLOSE);
}

/** The expression inside the delimiters, trimmed as AWS quotes it in causes. */
export function jsonataExpressionText(v: string): string {
  return v.slice(OPEN.length, v.length - CLOSE.length).trim();
}

// ---------------------------------------------------------------------------------------------
// Cause texts

export function jsonataUndefinedCause(expression: string, field: string): string {
  return `The JSONata expression '${expression}' specified for the field '${field}' returned nothing (undefined).`;
}

/** A JSONata error carries a code (`T1006: …`); AWS's own limit errors do not (`: …`). */
export function jsonataThrewCause(
  expression: string,
  field: string,
  detail: { code?: string; message: string },
): string {
  const head = `The JSONata expression '${expression}' specified for the field '${field}' threw an error during evaluation`;
  return detail.code ? `${head}. ${detail.code}: ${detail.message}` : `${head}: ${detail.message}`;
}

export function jsonataUnsupportedCause(expression: string, field: string): string {
  return `The JSONata expression '${expression}' specified for the field '${field}' returned an unsupported result type.`;
}

/** AWS's type names in "Expected 'array', but was 'object'". */
export function jsonataTypeName(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** For fields that need one type (Items: array, Condition: boolean, Seconds: number…). */
export function jsonataUnexpectedTypeCause(
  expression: string,
  field: string,
  expected: string,
  value: JsonValue,
): string {
  return (
    `The JSONata expression '${expression}' specified for the field '${field}' returned an unexpected result type. ` +
    `Expected '${expected}', but was '${jsonataTypeName(value)}' for value: ${JSON.stringify(value)}`
  );
}

// ---------------------------------------------------------------------------------------------
// Step Functions functions

/** Per-evaluation state the registered functions read through the jsonata environment. */
interface Runtime {
  b: JsonataBindings;
  limits: JsonataLimits;
  nowMs: number | undefined;
}

/** Not a valid JSONata identifier, so no expression can read or shadow it. */
const RUNTIME_KEY = 'sfn runtime';

interface Focus {
  environment: { lookup(name: string): unknown };
}

function runtimeOf(focus: Focus): Runtime {
  return focus.environment.lookup(RUNTIME_KEY) as Runtime;
}

function nowOf(rt: Runtime): number {
  rt.nowMs ??= rt.b.now();
  return rt.nowMs;
}

/** An error of our own functions: no JSONata code, so the cause reads `…evaluation: message`. */
class FunctionError extends Error {}

const HASHES: Readonly<Record<string, string>> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

/** `new java.util.Random(seed).nextDouble()`: AWS's seeded draws are Java's (as in States.MathRandom). */
function javaRandomNextDouble(seed: number): number {
  const MULT = 0x5deece66dn;
  const MASK = (1n << 48n) - 1n;
  let s = (BigInt.asUintN(64, BigInt(Math.trunc(seed))) ^ MULT) & MASK;
  const next = (bits: number): bigint => {
    s = (s * MULT + 0xbn) & MASK;
    return s >> BigInt(48 - bits);
  };
  const hi = next(26);
  const lo = next(27);
  return Number((hi << 27n) + lo) / 2 ** 53;
}

/** A jsonata sequence: a singleton collapses to its item, as AWS's `$range(1, 9, 9)` gives `1`. */
function sequence(items: JsonValue[]): JsonValue[] {
  Object.defineProperty(items, 'sequence', { value: true });
  return items;
}

type Impl = (this: Focus, ...args: never[]) => unknown;

const FUNCTIONS: readonly { name: string; signature: string; impl: Impl }[] = [
  {
    name: 'partition',
    signature: '<an:a>',
    impl(array: JsonValue[], size: number) {
      if (!Number.isInteger(size) || size <= 0) {
        throw new FunctionError(`The size of $partition must be a positive integer, got ${size}`);
      }
      const out: JsonValue[] = [];
      for (let i = 0; i < array.length; i += size) out.push(array.slice(i, i + size));
      return out;
    },
  },
  {
    name: 'range',
    signature: '<nnn:a<n>>',
    impl(this: Focus, start: number, end: number, step: number) {
      if (step === 0) throw new FunctionError('The step of $range must not be zero');
      const count = Math.floor((end - start) / step) + 1;
      if (count <= 0) return undefined;
      const { maxRange } = runtimeOf(this).limits;
      if (count > maxRange) {
        throw new FunctionError(
          'Expression evaluation memory limit exceeded: Check for excessive memory usage',
        );
      }
      const out: JsonValue[] = new Array<JsonValue>(count);
      for (let i = 0; i < count; i++) out[i] = start + i * step;
      return sequence(out);
    },
  },
  {
    name: 'hash',
    signature: '<ss:s>',
    impl(data: string, algorithm: string) {
      const algo = HASHES[algorithm];
      if (algo === undefined) {
        throw new FunctionError(
          `The algorithm of $hash must be one of ${Object.keys(HASHES).join(', ')}, got '${algorithm}'`,
        );
      }
      return createHash(algo).update(data, 'utf8').digest('hex');
    },
  },
  {
    name: 'random',
    signature: '<n?:n>',
    impl(this: Focus, seed?: number) {
      return seed === undefined ? runtimeOf(this).b.random() : javaRandomNextDouble(seed);
    },
  },
  {
    name: 'uuid',
    signature: '<:s>',
    impl(this: Focus) {
      return runtimeOf(this).b.uuid();
    },
  },
  {
    name: 'parse',
    signature: '<s:j>',
    impl(text: string) {
      try {
        return JSON.parse(text) as JsonValue;
      } catch {
        throw new FunctionError(`The input of $parse is not valid JSON: ${text}`);
      }
    },
  },
  {
    // jsonata's own $shuffle reads Math.random; this one uses the injected source.
    name: 'shuffle',
    signature: '<a:a>',
    impl(this: Focus, array: JsonValue[]) {
      const rt = runtimeOf(this);
      const out = array.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(rt.b.random() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
  },
  {
    name: 'millis',
    signature: '<:n>',
    impl(this: Focus) {
      return nowOf(runtimeOf(this));
    },
  },
];

/**
 * `$now(picture?, timezone?)` reads the injected clock; with a picture it defers to jsonata's
 * `$fromMillis` (its formatter is not exported), whose default format equals toISOString.
 */
const fromMillis = jsonata('$fromMillis($m, $p, $t)');
function nowFunction(this: Focus, picture?: string, timezone?: string): unknown {
  const ms = nowOf(runtimeOf(this));
  if (picture === undefined && timezone === undefined) return new Date(ms).toISOString();
  return fromMillis.evaluate(undefined, { m: ms, p: picture, t: timezone });
}

// ---------------------------------------------------------------------------------------------
// Compilation

interface AstNode {
  type?: string;
  value?: unknown;
  steps?: AstNode[];
  stages?: AstNode[];
  predicate?: AstNode[];
  group?: { lhs: [AstNode, AstNode][] };
  arguments?: AstNode[];
  procedure?: AstNode;
  lhs?: AstNode | [AstNode, AstNode][];
  rhs?: AstNode;
  expressions?: AstNode[];
  condition?: AstNode;
  then?: AstNode;
  else?: AstNode;
  expression?: AstNode;
  body?: AstNode;
  pattern?: AstNode;
  update?: AstNode;
  delete?: AstNode;
}

/**
 * AWS evaluates with no context item, and refuses at definition time a path that starts from a
 * bare name there (`phone` instead of `$states.input.phone`). Returns the first such name. Names
 * inside predicates, later steps, lambdas and transforms are relative to something and allowed.
 */
function topLevelReference(node: AstNode | undefined): string | undefined {
  if (node === undefined || typeof node !== 'object') return undefined;
  const first = (nodes: (AstNode | undefined)[]): string | undefined => {
    for (const n of nodes) {
      const r = topLevelReference(n);
      if (r !== undefined) return r;
    }
    return undefined;
  };
  switch (node.type ?? '') {
    case 'path': {
      const head = node.steps?.[0];
      if (head?.type === 'name') return String(head.value);
      return topLevelReference(head);
    }
    case 'name':
      return String(node.value);
    case 'function':
    case 'partial':
      return first([node.procedure, ...(node.arguments ?? [])]);
    case 'binary':
    case 'apply':
      return first([node.lhs as AstNode, node.rhs]);
    case 'bind':
      return topLevelReference(node.rhs);
    case 'unary':
      if (node.value === '-') return topLevelReference(node.expression);
      if (node.value === '[') return first(node.expressions ?? []);
      if (node.value === '{') return first(((node.lhs ?? []) as [AstNode, AstNode][]).flat());
      return undefined;
    case 'condition':
      return first([node.condition, node.then, node.else]);
    case 'block':
      return first(node.expressions ?? []);
    default:
      return undefined;
  }
}

interface JsonataError {
  code?: unknown;
  message?: unknown;
}

function errorDetail(e: unknown): { code?: string; message: string } {
  if (e instanceof FunctionError) return { message: e.message };
  const err = (typeof e === 'object' && e !== null ? e : {}) as JsonataError;
  const code = typeof err.code === 'string' ? err.code : undefined;
  // jsonata's guardrail errors read as AWS's (uncoded) limit errors.
  if (code === 'D1011') {
    return {
      message:
        'Stack overflow error: Check for non-terminating recursive function. Consider rewriting as tail-recursive.',
    };
  }
  if (code === 'D1012') return { message: 'Expression evaluation timeout: Check for infinite loop' };
  if (code === 'D2014' || code === 'D2015') {
    return { message: 'Expression evaluation memory limit exceeded: Check for excessive memory usage' };
  }
  if (e instanceof RangeError) {
    // A native stack overflow (deep data or recursion the depth bound did not catch).
    return { message: `Stack overflow error: ${e.message}` };
  }
  const message = typeof err.message === 'string' ? err.message : String(e);
  return code !== undefined ? { code, message } : { message };
}

const UNSUPPORTED = Symbol('unsupported');

/** The markers jsonata leaves on the arrays it builds (sequences, tuple streams…). */
const SEQUENCE_FLAGS = ['sequence', 'keepSingleton', 'tupleStream', 'outerWrapper', 'cons'] as const;

/**
 * Whether a jsonata result is already what `toJson` would copy it into, so it can be kept as it
 * is: most results are execution data passed through (`$states.input…`) plus a few new objects,
 * and copying the data on every state made outputs cost their whole size. `exclude` is the
 * bindings' `$states` object (its `context` is a getter): a result holding it is copied.
 */
function isPlainJson(v: unknown, exclude: object, depth: number): v is JsonValue {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'object': {
      if (v === null) return true;
      if (depth > 100 || v === exclude) return false;
      if (Array.isArray(v)) {
        if (Object.getPrototypeOf(v) !== Array.prototype) return false;
        const flags = v as unknown as Record<string, unknown>;
        for (const f of SEQUENCE_FLAGS) if (flags[f] !== undefined) return false;
        for (let i = 0; i < v.length; i++) if (!isPlainJson(v[i], exclude, depth + 1)) return false;
        return true;
      }
      if (Object.getPrototypeOf(v) !== Object.prototype) return false;
      const o = v as Record<string, unknown>;
      if (o._jsonata_lambda === true || o._jsonata_function === true) return false;
      for (const k in o) {
        // A key that is not own is inherited from a changed prototype: not plain.
        if (!Object.hasOwn(o, k) || !isPlainJson(o[k], exclude, depth + 1)) return false;
      }
      return true;
    }
    case 'undefined':
    case 'function':
    case 'bigint':
    case 'symbol':
      return false;
  }
}

/**
 * Copies a jsonata result into plain JSON: sequence flags dropped, `-0` → 0, non-finite numbers
 * as the strings AWS returns (`[1/0]` gives `["Infinity"]`), undefined members dropped, and
 * functions reported as unsupported.
 */
function toJson(v: unknown): JsonValue | undefined | typeof UNSUPPORTED {
  switch (typeof v) {
    case 'undefined':
      return undefined;
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (Number.isFinite(v)) return v === 0 ? 0 : v;
      return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    case 'object': {
      if (v === null) return null;
      if (Array.isArray(v)) {
        const out: JsonValue[] = [];
        for (const x of v as unknown[]) {
          const j = toJson(x);
          if (j === UNSUPPORTED) return UNSUPPORTED;
          if (j !== undefined) out.push(j);
        }
        return out;
      }
      const o = v as Record<string, unknown>;
      // jsonata's function values are objects with these markers.
      if (o._jsonata_lambda === true || o._jsonata_function === true) return UNSUPPORTED;
      const out: JsonObject = {};
      for (const k of Object.keys(o)) {
        const j = toJson(o[k]);
        if (j === UNSUPPORTED) return UNSUPPORTED;
        if (j !== undefined) setOwn(out, k, j);
      }
      return out;
    }
    case 'function':
    case 'bigint':
    case 'symbol':
      return UNSUPPORTED;
  }
}

type Node = (b: JsonataBindings) => JsonValue | Promise<JsonValue>;

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isDynamic(v: JsonValue): boolean {
  if (isJsonataExpression(v)) return true;
  if (Array.isArray(v)) return v.some(isDynamic);
  if (isJsonObject(v)) return Object.keys(v).some((k) => isDynamic(v[k]!));
  return false;
}

function deepFreeze(v: JsonValue): JsonValue {
  if (typeof v === 'object' && v !== null) {
    for (const x of Array.isArray(v) ? v : Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

function bindingsFor(b: JsonataBindings, limits: JsonataLimits): Record<string, unknown> {
  // Null prototype: a variable named `__proto__` is an ordinary key here.
  const out = Object.create(null) as Record<string, unknown>;
  if (b.variables) for (const [k, v] of b.variables) out[k] = v;
  out.states = b.states;
  const rt: Runtime = { b, limits, nowMs: undefined };
  out[RUNTIME_KEY] = rt;
  return out;
}

/** Compiles one `{% … %}` string; `field` is its path in cause texts, `pointer` its JSON pointer. */
function compileExpression(source: string, field: string, pointer: string, limits: JsonataLimits): Node {
  const text = jsonataExpressionText(source);
  let expr: jsonata.Expression;
  try {
    expr = jsonata(text, { timeout: limits.timeoutMs, stack: limits.maxDepth, sequence: limits.maxSequence });
  } catch (e) {
    const message =
      typeof (e as JsonataError).message === 'string' ? String((e as JsonataError).message) : String(e);
    throw new DefinitionError(message, pointer, 'INVALID_JSONATA_EXPRESSION');
  }
  const ref = topLevelReference(expr.ast() as AstNode);
  if (ref !== undefined) {
    throw new DefinitionError(
      `Reference to '${ref}' at the top level is not supported.`,
      pointer,
      'UNSUPPORTED_JSONATA_EXPRESSION',
    );
  }
  for (const f of FUNCTIONS) expr.registerFunction(f.name, f.impl as never, f.signature);
  expr.registerFunction('now', nowFunction as never, '<s?s?:s>');
  // AWS removes $eval: calling it fails like any non-function (T1006).
  expr.assign('eval', undefined);

  const ast = expr.ast() as AstNode;
  if (readsContext(ast)) {
    const evaluate = compileEvaluation(expr, ast, text, field, limits);
    return (b) => {
      withContext(b);
      return evaluate(b);
    };
  }
  return compileEvaluation(expr, ast, text, field, limits);
}

/** Adds `$states.context` where the bindings left it to be built on demand (see `readsContext`). */
function withContext(b: JsonataBindings): void {
  const states = b.states;
  if (b.context === undefined || Object.hasOwn(states, 'context')) return;
  const { result, errorOutput } = states;
  states.context = b.context();
  // `$states` keeps AWS's key order: input, context, then result or errorOutput.
  if (result !== undefined) {
    delete states.result;
    states.result = result;
  }
  if (errorOutput !== undefined) {
    delete states.errorOutput;
    states.errorOutput = errorOutput;
  }
}

const DATA_MEMBERS = new Set(['input', 'result', 'errorOutput']);

/**
 * Whether an expression may read `$states.context`: anywhere `$states` appears other than as
 * `$states.input`, `$states.result` or `$states.errorOutput` (a bare `$states` can reach it with
 * `$keys`, `$lookup`, `$string`…). Building the context object costs more than most Pass states.
 */
function readsContext(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(readsContext);
  if (typeof node !== 'object' || node === null) return false;
  const n = node as AstNode & Record<string, unknown>;
  if (n.type === 'variable' && n.value === 'states') return true;
  if (n.type === 'path' && Array.isArray(n.steps)) {
    const [head, first, ...rest] = n.steps;
    const data =
      head?.type === 'variable' &&
      head.value === 'states' &&
      Object.keys(head).every((k) => k === 'type' || k === 'value' || k === 'position') &&
      first?.type === 'name' &&
      DATA_MEMBERS.has(String(first.value));
    if (data) return readsContext(first) || readsContext(rest) || readsOthers(n, ['steps']);
  }
  return readsOthers(n, []);
}

function readsOthers(n: Record<string, unknown>, skip: readonly string[]): boolean {
  for (const k of Object.keys(n)) if (!skip.includes(k) && readsContext(n[k])) return true;
  return false;
}

function compileEvaluation(
  expr: jsonata.Expression,
  ast: AstNode,
  text: string,
  field: string,
  limits: JsonataLimits,
): Node {
  const fail = (cause: string): StatesRuntimeError =>
    new StatesRuntimeError(StatesErrors.QueryEvaluationError, cause, field);
  /** jsonata's raw result → the template's value, or the failure the cause texts describe. */
  const finish = (raw: unknown, states: object): JsonValue => {
    if (isPlainJson(raw, states, 0)) return raw;
    let value;
    try {
      value = toJson(raw);
    } catch (e) {
      throw fail(jsonataThrewCause(text, field, errorDetail(e)));
    }
    if (value === undefined) throw fail(jsonataUndefinedCause(text, field));
    if (value === UNSUPPORTED) throw fail(jsonataUnsupportedCause(text, field));
    return value;
  };
  const slow = async (b: JsonataBindings): Promise<JsonValue> => {
    let raw: unknown;
    try {
      raw = await expr.evaluate(undefined, bindingsFor(b, limits));
    } catch (e) {
      throw fail(jsonataThrewCause(text, field, errorDetail(e)));
    }
    return finish(raw, b.states);
  };
  const fast = compileFastJsonata(ast, limits);
  if (fast === undefined) return slow;
  if (yieldsPlainJson(ast)) {
    // Execution data is plain JSON, and so is what this expression builds from it: no walk.
    return (b) => {
      let raw: unknown;
      try {
        raw = fast(b);
      } catch {
        return slow(b);
      }
      if (raw === undefined) throw fail(jsonataUndefinedCause(text, field));
      return raw as JsonValue;
    };
  }
  return (b) => {
    let raw: unknown;
    try {
      raw = fast(b);
    } catch {
      // Whatever jsonata must decide (its errors included): evaluate again with it.
      return slow(b);
    }
    return finish(raw, b.states);
  };
}

function compileNode(v: JsonValue, field: string, pointer: string, limits: JsonataLimits): Node {
  if (!isDynamic(v)) {
    const constant = deepFreeze(structuredClone(v));
    return () => constant;
  }
  if (typeof v === 'string') return compileExpression(v, field, pointer, limits);
  if (Array.isArray(v)) {
    const items = v.map((x, i) => compileNode(x, `${field}[${i}]`, `${pointer}/${i}`, limits));
    // In order, so the first failing element (in document order) names the cause; synchronous
    // until an element returns a Promise.
    const rest = async (out: JsonValue[], pending: Promise<JsonValue>, i: number, b: JsonataBindings) => {
      out.push(await pending);
      for (let j = i + 1; j < items.length; j++) out.push(await items[j]!(b));
      return out;
    };
    return (b) => {
      const out: JsonValue[] = [];
      for (let i = 0; i < items.length; i++) {
        const x = items[i]!(b);
        if (isPromise(x)) return rest(out, x, i, b);
        out.push(x);
      }
      return out;
    };
  }
  const obj = v as JsonObject;
  const entries = Object.keys(obj).map((k) => ({
    key: k,
    node: compileNode(obj[k]!, `${field}/${k}`, `${pointer}/${escapePointer(k)}`, limits),
  }));
  const rest = async (out: JsonObject, pending: Promise<JsonValue>, i: number, b: JsonataBindings) => {
    setOwn(out, entries[i]!.key, await pending);
    for (let j = i + 1; j < entries.length; j++) setOwn(out, entries[j]!.key, await entries[j]!.node(b));
    return out;
  };
  return (b) => {
    const out: JsonObject = {};
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const x = e.node(b);
      if (isPromise(x)) return rest(out, x, i, b);
      setOwn(out, e.key, x);
    }
    return out;
  };
}

/**
 * Compiles a JSONata template. `field` names it in cause texts (`Output`, `Arguments`,
 * `Choices[0]/Condition`…); nested keys extend it with `/key`, array elements with `[i]`.
 * `pointer` is the template's JSON pointer in the definition, for DefinitionErrors
 * (INVALID_JSONATA_EXPRESSION for syntax errors, UNSUPPORTED_JSONATA_EXPRESSION for a bare
 * top-level name).
 */
export function compileJsonataTemplate(
  template: JsonValue,
  field: string,
  pointer = '',
  limits: Readonly<JsonataLimits> = DEFAULT_JSONATA_LIMITS,
): CompiledJsonataTemplate {
  const expression = isJsonataExpression(template) ? jsonataExpressionText(template) : undefined;
  if (!isDynamic(template)) {
    const constant = deepFreeze(structuredClone(template));
    return {
      field,
      dynamic: false,
      expression,
      evaluate: () => constant,
      evaluateAsync: () => Promise.resolve(constant),
    };
  }
  const root = compileNode(template, field, pointer, limits);
  return {
    field,
    dynamic: true,
    expression,
    evaluate: root,
    evaluateAsync: async (b) => root(b),
  };
}
