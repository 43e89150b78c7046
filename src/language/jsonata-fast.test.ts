// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * Differential tests of the synchronous JSONata subset (jsonata-fast.ts) against the `jsonata`
 * package: every expression the fast path accepts must give jsonata's result exactly, or hand the
 * evaluation back (it throws, and jsonata.ts re-evaluates with jsonata). Expressions come from the
 * conformance corpus and real-world definitions (../shared, skipped when missing) and from a
 * seeded generator over the subset's grammar.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import jsonata from 'jsonata';

import { StatesErrors, StatesRuntimeError } from './errors.js';
import type { JsonObject, JsonValue } from './json.js';
import type { JsonataBindings } from './jsonata.js';
import { compileJsonataTemplate, DEFAULT_JSONATA_LIMITS, jsonataUndefinedCause } from './jsonata.js';
import { compileFastJsonata, yieldsPlainJson } from './jsonata-fast.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const casesDir = join(repoRoot, '../shared/conformance/cases');
const defsDir = join(repoRoot, '../shared/realworld/defs');

function bindings(input: JsonValue, variables?: Record<string, JsonValue>): JsonataBindings {
  return {
    states: { input, context: { Execution: { Name: 'exec' }, Map: { Item: { Index: 0, Value: input } } } },
    variables: variables ? new Map(Object.entries(variables)) : undefined,
    random: () => 0.25,
    uuid: () => '00000000-0000-4000-8000-000000000000',
    now: () => 0,
  };
}

/** A strict rendering of a raw result: -0, NaN, ±Infinity, undefined and key order all count. */
function canon(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v !== 'object' || v === null) return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .map((k) => `${JSON.stringify(k)}:${canon(o[k])}`)
    .join(',')}}`;
}

/** Plain JSON as JSON.parse builds it: finite numbers (not -0), ordinary arrays and objects. */
function isPlain(v: unknown): boolean {
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return true;
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0);
  if (typeof v !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(v);
  if (Array.isArray(v)) {
    const flags = v as unknown as Record<string, unknown>;
    if (proto !== Array.prototype || flags.sequence !== undefined || flags.keepSingleton !== undefined)
      return false;
    return v.every(isPlain);
  }
  if (proto !== Object.prototype) return false;
  const d = Object.getOwnPropertyDescriptors(v);
  return Object.values(d).every((x) => 'value' in x && isPlain(x.value));
}

type Outcome = { ok: true; value: string } | { ok: false; error: string };

async function reference(expr: jsonata.Expression, b: JsonataBindings): Promise<Outcome> {
  const env = Object.create(null) as Record<string, unknown>;
  if (b.variables) for (const [k, v] of b.variables) env[k] = v;
  env.states = b.states;
  try {
    return { ok: true, value: canon(await expr.evaluate(undefined, env)) };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return { ok: false, error: `${err.code}: ${err.message}` };
  }
}

interface Tally {
  expressions: number;
  fast: number;
  evaluations: number;
  sameValue: number;
  handedBackOnError: number;
  handedBackOnValue: number;
  /** Results of expressions `yieldsPlainJson` vouches for, checked to be plain JSON. */
  plainChecked: number;
}

function newTally(): Tally {
  return {
    expressions: 0,
    fast: 0,
    evaluations: 0,
    sameValue: 0,
    handedBackOnError: 0,
    handedBackOnValue: 0,
    plainChecked: 0,
  };
}

/** Runs `text` both ways over every binding set; fails on any difference. */
async function differential(text: string, sets: JsonataBindings[], tally: Tally): Promise<void> {
  let expr: jsonata.Expression;
  try {
    expr = jsonata(text);
  } catch {
    return; // a syntax error: definition-time, not the evaluator's business
  }
  tally.expressions++;
  const fast = compileFastJsonata(expr.ast(), DEFAULT_JSONATA_LIMITS);
  if (fast === undefined) return;
  tally.fast++;
  const plain = yieldsPlainJson(expr.ast());
  for (const b of sets) {
    tally.evaluations++;
    const ref = await reference(expr, b);
    let mine: Outcome | undefined;
    try {
      const raw = fast(b);
      // jsonata.ts keeps such a result uncopied: it must be plain JSON whenever the data is.
      const dataPlain = isPlain(b.states.input) && [...(b.variables?.values() ?? [])].every(isPlain);
      if (plain && dataPlain && raw !== undefined) {
        assert.ok(isPlain(raw), `${text} vouched plain, gave ${canon(raw)}`);
        tally.plainChecked++;
      }
      mine = { ok: true, value: canon(raw) };
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      mine = undefined; // handed back to jsonata
    }
    if (mine === undefined) {
      if (ref.ok) tally.handedBackOnValue++;
      else tally.handedBackOnError++;
      continue;
    }
    assert.deepEqual(
      mine,
      ref,
      `${text} with ${canon(b.states.input)} / ${canon(b.variables ? [...b.variables] : [])}`,
    );
    tally.sameValue++;
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs

const PALETTE: JsonValue[] = [
  1,
  -2.5,
  0,
  0.1,
  1e21,
  'text',
  '',
  '12',
  '0x1F',
  true,
  false,
  null,
  [],
  [1, 2, 3],
  [7],
  ['a', 'b'],
  [{ a: 1, b: [1, 2] }, { a: 2, b: [3] }, { b: [] }],
  [[{ a: 1 }], [{ a: 2 }, { a: [3, 4] }]],
  [1, 'a', null, [2, [3]], { a: 5 }],
  {},
  { a: 1, b: { c: 'deep' } },
  { k: 'v', n: 2 },
];

const KEYS = ['a', 'b', 'c', 'x', 'k', 'n', 'arr', 'items', 'value', 'missing'];

/** An input object whose keys (including `names`) take palette values, rotated by `shift`. */
function synthesize(names: readonly string[], shift: number, depth = 0): JsonObject {
  const out: JsonObject = {};
  names.forEach((name, i) => {
    const v = PALETTE[(i * 7 + shift) % PALETTE.length]!;
    if (depth < 2 && (i + shift) % 5 === 0) out[name] = synthesize(names, shift + 3, depth + 1);
    else if (depth < 2 && (i + shift) % 11 === 0) out[name] = [synthesize(names, shift + 1, depth + 1), v];
    else out[name] = v;
  });
  return out;
}

function variablesFor(names: readonly string[], shift: number): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  names.forEach((name, i) => {
    out[name] = PALETTE[(i * 5 + shift) % PALETTE.length]!;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Generator

/** A small seeded PRNG (mulberry32): the generated set is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LITERALS = ['1', '0', '-2.5', '3', '0.1', '1e300', '"a"', "''", '"12"', 'true', 'false', 'null'];
const BINARY = ['+', '-', '*', '/', '%', '=', '!=', '<', '<=', '>', '>=', 'and', 'or', '&', 'in'];
const FUNCS = [
  'string',
  'number',
  'boolean',
  'not',
  'exists',
  'count',
  'sum',
  'length',
  'uppercase',
  'lowercase',
  'abs',
  'floor',
  'ceil',
  'merge',
];
const PATH_KEYS = [...KEYS, 'toString', 'length', 'constructor'];

function generator(rand: () => number): (depth: number) => string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const path = (): string => {
    const head = pick(['$states.input', '$states.input', '$v', '$o', '$arr', '$states.context.Map.Item']);
    const n = 1 + Math.floor(rand() * 3);
    let s = head;
    for (let i = 0; i < n; i++) s += `.${pick(PATH_KEYS)}`;
    return s;
  };
  const gen = (depth: number): string => {
    const r = rand();
    if (depth <= 0 || r < 0.25) {
      const leaf = rand();
      if (leaf < 0.45) return path();
      if (leaf < 0.6) return pick(['$v', '$o', '$arr', '$nul', '$states.input', '$string', '$unbound']);
      return pick(LITERALS);
    }
    const d = depth - 1;
    if (r < 0.55) return `(${gen(d)} ${pick(BINARY)} ${gen(d)})`;
    if (r < 0.62) return `-${gen(d)}`;
    if (r < 0.68) return `(${gen(d)} ? ${gen(d)}${rand() < 0.5 ? ` : ${gen(d)}` : ''})`;
    if (r < 0.72) return `(${gen(d)}; ${gen(d)})`;
    if (r < 0.8) {
      const n = Math.floor(rand() * 4);
      return `[${Array.from({ length: n }, () => gen(d)).join(', ')}]`;
    }
    if (r < 0.86) {
      const n = Math.floor(rand() * 4);
      const key = (): string => (rand() < 0.8 ? pick(['"a"', '"b"', '"1"', '"__proto__"', '"x"']) : gen(d));
      return `{${Array.from({ length: n }, () => `${key()}: ${gen(d)}`).join(', ')}}`;
    }
    return `$${pick(FUNCS)}(${gen(d)})`;
  };
  return gen;
}

// ---------------------------------------------------------------------------------------------
// Corpus

function jsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...jsonFiles(p));
    else if (p.endsWith('.json')) out.push(p);
  }
  return out;
}

/** Every `{% … %}` string of a file (definitions, definitionString), with the file's inputs. */
function corpus(): Map<string, JsonValue[]> {
  const exprs = new Map<string, JsonValue[]>();
  for (const file of [...jsonFiles(casesDir), ...jsonFiles(defsDir)]) {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      continue;
    }
    const found: string[] = [];
    const inputs: JsonValue[] = [];
    const walk = (v: unknown, key?: string): void => {
      if (typeof v === 'string') {
        if (v.length >= 4 && v.startsWith('{%') && v.endsWith('%}')) found.push(v.slice(2, -2).trim());
        else if (key === 'definitionString' || key === 'input') {
          try {
            const parsed = JSON.parse(v) as JsonValue;
            if (key === 'input') inputs.push(parsed);
            else walk(parsed);
          } catch {
            /* not JSON */
          }
        }
      } else if (Array.isArray(v)) for (const x of v) walk(x);
      else if (typeof v === 'object' && v !== null) {
        for (const [k, x] of Object.entries(v)) walk(x, k);
      }
    };
    walk(doc);
    for (const e of found) exprs.set(e, [...(exprs.get(e) ?? []), ...inputs.slice(0, 3)]);
  }
  return exprs;
}

function namesIn(text: string): { keys: string[]; variables: string[] } {
  const keys = new Set(KEYS);
  const variables = new Set<string>(['v']);
  for (const m of text.matchAll(/\.\s*([A-Za-z_][A-Za-z0-9_]*)/g)) keys.add(m[1]!);
  for (const m of text.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)) if (m[1] !== 'states') variables.add(m[1]!);
  return { keys: [...keys], variables: [...variables] };
}

const haveCorpus = existsSync(casesDir) && existsSync(defsDir);

describe('jsonata fast path: differential against jsonata', () => {
  it('corpus expressions', { skip: haveCorpus ? false : `${casesDir} is missing` }, async () => {
    const tally = newTally();
    for (const [text, caseInputs] of corpus()) {
      const { keys, variables } = namesIn(text);
      const sets: JsonataBindings[] = [];
      for (const input of caseInputs) sets.push(bindings(input, variablesFor(variables, 0)));
      for (let shift = 0; shift < 12; shift++) {
        sets.push(bindings(synthesize(keys, shift), variablesFor(variables, shift)));
      }
      sets.push(bindings({}, undefined), bindings([1, { a: 2 }], variablesFor(variables, 4)));
      await differential(text, sets, tally);
    }
    // Recorded for the report; the floor guards against the subset shrinking by accident.
    console.log(`corpus: ${JSON.stringify(tally)}`);
    assert.ok(tally.expressions >= 150, `corpus too small: ${tally.expressions}`);
    assert.ok(tally.fast / tally.expressions > 0.8, `fast coverage ${tally.fast}/${tally.expressions}`);
  });

  it('generated expressions', async () => {
    const tally = newTally();
    const rand = prng(20240611);
    const gen = generator(rand);
    const variableSets: (Record<string, JsonValue> | undefined)[] = [
      undefined,
      { v: 3, o: { a: 1, b: { c: [1, { a: 2 }] } }, arr: [{ a: 1 }, { a: [2, 3] }], nul: null },
      { v: 'str', o: [{ a: 'x' }], arr: [], nul: null, string: 'shadows $string' },
      { v: [1, 2], o: { toString: 1, length: 2 }, arr: [[1, [2]], 3], nul: null },
    ];
    const inputs: JsonValue[] = [
      synthesize(KEYS, 0),
      synthesize(KEYS, 5),
      synthesize(KEYS, 9),
      [{ a: 1, b: 2 }, { a: [1, 2] }, 3],
      'text',
      7,
      null,
    ];
    const sets = inputs.flatMap((input, i) => [
      bindings(input, variableSets[i % variableSets.length]),
      bindings(input, variableSets[(i + 1) % variableSets.length]),
    ]);
    for (let i = 0; i < 4000; i++) await differential(gen(1 + (i % 4)), sets, tally);
    console.log(`generated: ${JSON.stringify(tally)}`);
    assert.ok(tally.sameValue > 10_000, JSON.stringify(tally));
    assert.ok(tally.plainChecked > 1_000, JSON.stringify(tally));
  });

  it('hand-picked edge cases', async () => {
    const tally = newTally();
    const texts = [
      '$states.input.a',
      '$states.input.arr',
      '$states.input.one',
      '$states.input.objs.a',
      '$states.input.objs.b',
      '$states.input.deep.a',
      '$states.input.e',
      '$states.input.e.a',
      '$states.input.toString',
      '$states.input.constructor.name',
      '$string(0.1 + 0.2)',
      '$string(1e21)',
      '$string(-0)',
      '$string([1/3, {"a": 2/3}])',
      '$string(1/0)',
      '1/0',
      '0/0',
      '"a" + 1',
      '1 + "a"',
      '$states.input.missing + 1',
      '"a" < 1',
      '[1] < 2',
      '-"a"',
      '{"a": 1, "a": 2}',
      '{"1": 1, "b": 2, "0": 3}',
      '{"b": $states.input.missing, "a": 1, "10": 2, "9": 3}',
      '{"a": 1, "10": $states.input.missing, "b": 2, "9": 3, "c": $states.input.missing}',
      '{"a": 1, "b": [2], "c": $states.input.missing}',
      '{"__proto__": {"x": 1}, "a": 2}',
      '{"_jsonata_lambda": true}',
      '{$states.input.s: 1}',
      '{$states.input.a: 1}',
      '$count($states.input.objs.b)',
      '$sum($states.input.objs.b)',
      '$sum(["a"])',
      '$merge([{"a": 1}, {"b": 2}, {"a": 3}])',
      '$merge("a")',
      '$number("1e3")',
      '$number("0x1zz")',
      '$number("abc")',
      '$length("😀a")',
      '$states.input.objs.a = [1, 2]',
      '[$states.input.arr, [$states.input.arr], $states.input.one]',
      '$exists($states.input.missing)',
      '$not($states.input.e)',
      '$boolean([0, ""])',
      '$boolean([0, 1])',
      // Not plain (no copy skipped): computed numbers, the bare $states.
      '$ceil(-0.5)',
      '{"a": 1/0, "b": -0}',
      '[$states]',
      '$merge([$states, {"a": 1}])',
      // Plain: data and what is built from it.
      '$merge([$states.input, {"steps": $merge([$states.input.objs, {"k": [$states.input.a, "x"]}])}])',
    ];
    const input = {
      a: 1,
      s: 'key',
      arr: [1, 2, 3],
      one: [7],
      e: [],
      objs: [{ a: 1, b: [1, 2] }, { a: 2, b: [3] }, { b: [] }],
      deep: [[{ a: 1 }], [{ a: 2 }, { a: [3, 4] }]],
    };
    for (const t of texts) await differential(t, [bindings(input, { v: 1 })], tally);
    assert.equal(tally.fast, texts.length);
  });
});

describe('jsonata fast path through compileJsonataTemplate', () => {
  const b = bindings({ a: 1, x: 41, s: 'str', arr: [1, 2] }, { name: 'v' });

  it('evaluates synchronously', () => {
    const t = compileJsonataTemplate(
      { a: '{% $states.input.a %}', b: '{% $states.input.x + 1 %}', c: ['{% $name %}', 'lit'] },
      'Output',
    );
    assert.deepEqual(t.evaluate(b), { a: 1, b: 42, c: ['v', 'lit'] });
  });

  it('mixes synchronous and asynchronous expressions in document order', async () => {
    const t = compileJsonataTemplate(
      { a: '{% $states.input.a %}', b: '{% $uuid() %}', c: '{% $states.input.s %}' },
      'Output',
    );
    const v = t.evaluate(b);
    assert.ok(v instanceof Promise);
    assert.deepEqual(await v, { a: 1, b: '00000000-0000-4000-8000-000000000000', c: 'str' });
  });

  it('reports an undefined result with the field path, synchronously', () => {
    const t = compileJsonataTemplate({ result: '{% $states.input.missing %}' }, 'Output');
    assert.throws(
      () => t.evaluate(b),
      (e: unknown) =>
        e instanceof StatesRuntimeError &&
        e.error === StatesErrors.QueryEvaluationError &&
        e.causeText === jsonataUndefinedCause('$states.input.missing', 'Output/result'),
    );
  });

  it('hands type errors to jsonata: same code and message', async () => {
    const t = compileJsonataTemplate({ r: ['{% $states.input.s + 1 %}'] }, 'Output');
    await assert.rejects(
      async () => t.evaluate(b),
      (e: unknown) =>
        e instanceof StatesRuntimeError &&
        e.causeText ===
          "The JSONata expression '$states.input.s + 1' specified for the field 'Output/r[0]' threw an error during evaluation. T2001: The left side of the \"+\" operator must evaluate to a number",
    );
  });

  it('keeps the evaluateAsync contract', async () => {
    const t = compileJsonataTemplate('{% $states.input.arr %}', 'Output');
    const p = t.evaluateAsync(b);
    assert.ok(p instanceof Promise);
    assert.deepEqual(await p, [1, 2]);
  });
});
