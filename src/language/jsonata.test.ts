// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { DefinitionError, StatesErrors, StatesRuntimeError } from './errors.js';
import type { JsonObject, JsonValue } from './json.js';
import { isJsonObject, jsonEquals } from './json.js';
import type { JsonataBindings } from './jsonata.js';
import {
  compileJsonataTemplate,
  DEFAULT_JSONATA_LIMITS,
  isJsonataExpression,
  jsonataUnexpectedTypeCause,
} from './jsonata.js';

function bindings(
  input: JsonValue,
  variables?: Record<string, JsonValue>,
  extra: JsonObject = {},
): JsonataBindings {
  return {
    states: { input, context: { Execution: { Name: 'exec' } }, ...extra },
    variables: variables ? new Map(Object.entries(variables)) : undefined,
    random: () => 0.25,
    uuid: () => '00000000-0000-4000-8000-000000000000',
    now: () => Date.UTC(2024, 0, 2, 3, 4, 5, 6),
  };
}

async function run(
  template: JsonValue,
  input: JsonValue = {},
  variables?: Record<string, JsonValue>,
): Promise<JsonValue> {
  return compileJsonataTemplate(template, 'Output', '/States/S/Output').evaluate(bindings(input, variables));
}

async function cause(template: JsonValue, input: JsonValue = {}, field = 'Output'): Promise<string> {
  try {
    await compileJsonataTemplate(template, field, '/States/S/Output').evaluate(bindings(input));
  } catch (e) {
    assert.ok(e instanceof StatesRuntimeError);
    assert.equal(e.error, StatesErrors.QueryEvaluationError);
    return e.causeText;
  }
  assert.fail('expected a States.QueryEvaluationError');
}

function definitionError(template: JsonValue): DefinitionError {
  try {
    compileJsonataTemplate(template, 'Output', '/States/S/Output');
  } catch (e) {
    assert.ok(e instanceof DefinitionError);
    return e;
  }
  assert.fail('expected a DefinitionError');
}

describe('isJsonataExpression', () => {
  it('accepts exactly {% … %}', () => {
    assert.equal(isJsonataExpression('{% $states.input %}'), true);
    assert.equal(isJsonataExpression('{%$x%}'), true);
    assert.equal(isJsonataExpression(' {% states.input %} '), false);
    assert.equal(isJsonataExpression('$states.input'), false);
    assert.equal(isJsonataExpression('{%'), false);
    assert.equal(isJsonataExpression(1), false);
  });
});

describe('compileJsonataTemplate', () => {
  it('evaluates templates without expressions synchronously, as a frozen constant', () => {
    const t = compileJsonataTemplate({ a: [1, ' {% x %} '], b: '$states.input' }, 'Output');
    assert.equal(t.dynamic, false);
    const v = t.evaluate(bindings({}));
    assert.deepEqual(v, { a: [1, ' {% x %} '], b: '$states.input' });
    assert.ok(Object.isFrozen(v));
  });

  it('evaluates expressions nested in objects and arrays', async () => {
    const t = compileJsonataTemplate(
      { a: '{% $states.input.a + 1 %}', l: [1, "{% $number('2') %}", { v: '{% $v %}' }] },
      'Output',
    );
    assert.equal(t.dynamic, true);
    const v = await t.evaluate(bindings({ a: 1 }, { v: 'x' }));
    assert.deepEqual(v, { a: 2, l: [1, 2, { v: 'x' }] });
  });

  it('binds $states and the workflow variables', async () => {
    assert.deepEqual(await run('{% $states.context.Execution.Name %}'), 'exec');
    assert.deepEqual(await run('{% $sum($states.input.xs) + $k %}', { xs: [1, 2, 3] }, { k: 1 }), 7);
    assert.equal(await run("{% $states.input = '\"' %}", '"'), true);
    assert.equal(await run('{% $contains("hello$world", /^hello\\$/) %}'), true);
  });

  it('exposes the expression text of a whole-field expression', () => {
    assert.equal(
      compileJsonataTemplate('{%  $states.input.items  %}', 'Items').expression,
      '$states.input.items',
    );
    assert.equal(compileJsonataTemplate({ a: '{% 1 %}' }, 'Output').expression, undefined);
  });

  it('fails with AWS causes for undefined results and thrown errors', async () => {
    assert.equal(
      await cause({ result: '{% $doesNotExist %}' }),
      "The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned nothing (undefined).",
    );
    assert.equal(
      await cause('{% $doesNotExist %}', {}, 'Arguments'),
      "The JSONata expression '$doesNotExist' specified for the field 'Arguments' returned nothing (undefined).",
    );
    assert.equal(
      await cause(
        { FunctionResult: '{% $randomSeeded($states.input.FunctionInput.fst) %}' },
        { FunctionInput: 'fst' },
      ),
      "The JSONata expression '$randomSeeded($states.input.FunctionInput.fst)' specified for the field " +
        "'Output/FunctionResult' threw an error during evaluation. T1006: Attempted to invoke a non-function",
    );
    assert.match(await cause({ l: [1, '{% $nope %}'] }), /for the field 'Output\/l\[1\]' returned nothing/);
  });

  it('builds the unexpected-type cause of typed fields', () => {
    assert.equal(
      jsonataUnexpectedTypeCause("{'foo': 'bar'}", 'Items', 'array', { foo: 'bar' }),
      "The JSONata expression '{'foo': 'bar'}' specified for the field 'Items' returned an unexpected result type. " +
        'Expected \'array\', but was \'object\' for value: {"foo":"bar"}',
    );
  });

  it('reports syntax errors and bare top-level names as DefinitionErrors', () => {
    const e = definitionError({ a: '{% 1 + %}' });
    assert.equal(e.code, 'INVALID_JSONATA_EXPRESSION');
    assert.equal(e.location, '/States/S/Output/a');
    assert.match(e.message, /Unexpected end of expression/);
    const u = definitionError({ v: '{% phone %}' });
    assert.equal(u.code, 'UNSUPPORTED_JSONATA_EXPRESSION');
    assert.match(u.message, /Reference to 'phone' at the top level is not supported\./);
    assert.equal(definitionError('{% $sum(a) %}').code, 'UNSUPPORTED_JSONATA_EXPRESSION');
    // Relative names inside predicates, later steps and lambdas are fine.
    compileJsonataTemplate(
      '{% $states.input.items[price > 5].name ~> $map(function($v){ $v.a }) %}',
      'Output',
    );
  });

  it('normalises results to plain JSON', async () => {
    const v = await run('{% $states.input.xs[$ > 1] %}', { xs: [1, 2, 3] });
    assert.deepEqual(v, [2, 3]);
    assert.equal(Object.prototype.hasOwnProperty.call(v, 'sequence'), false);
    assert.deepEqual(await run('{% [1/0] %}'), ['Infinity']);
    assert.match(await cause('{% $sum %}'), /returned an unsupported result type\.$/);
    assert.match(await cause('{% function($x){$x} %}'), /returned an unsupported result type\.$/);
  });

  it('keeps plain results as they are, and copies what is not plain', async () => {
    // Data passed through unchanged is kept (no copy): the same objects come back.
    const input = JSON.parse('{"a": {"b": [1, {"c": "d"}]}}') as JsonObject;
    assert.equal(await run('{% $states.input.a %}', input), input.a);
    const merged = (await run('{% $merge([$states.input, {"e": 1}]) %}', input)) as JsonObject;
    assert.equal(merged.a, input.a);
    // A -0 the expression computes is not plain (AWS writes 0): the result is a copy, with 0.
    // (A -0 in the data itself passes through like any data; JSON text has no -0 either way.)
    const computed = (await run('{% {"a": $states.input.a, "z": $ceil(-0.5)} %}', input)) as JsonObject;
    assert.ok(Object.is(computed.z, 0));
    assert.notEqual(computed.a, input.a);
    assert.deepEqual(computed.a, input.a);
    const negative = JSON.parse('{"a": {"b": 1}, "z": -0}') as JsonObject;
    const passed = (await run('{% $merge([$states.input, {"e": 1}]) %}', negative)) as JsonObject;
    assert.equal(JSON.stringify(passed), '{"a":{"b":1},"z":0,"e":1}');
    // $states itself (whose context is read lazily) comes out as plain data with its context.
    const states = (await run('{% $states %}', { x: 1 })) as JsonObject;
    assert.deepEqual(states, { input: { x: 1 }, context: { Execution: { Name: 'exec' } } });
    const descriptor = Object.getOwnPropertyDescriptor(states, 'context');
    assert.ok(descriptor !== undefined && 'value' in descriptor, 'a data property, not a getter');
  });

  it('builds $states.context only for expressions that can read it, in AWS key order', async () => {
    let built = 0;
    const lazy = (extra: JsonObject): JsonataBindings => ({
      ...bindings({ a: 1 }),
      states: { input: { a: 1 }, ...extra },
      context: () => {
        built++;
        return { State: { Name: 'S' } };
      },
    });
    const evaluate = (text: string, b: JsonataBindings) =>
      compileJsonataTemplate(text, 'Output', '/States/S/Output').evaluate(b);
    for (const text of [
      '{% $states.input.a %}',
      '{% $states.result.x + $states.input.a %}',
      '{% $states.errorOutput %}',
    ]) {
      await evaluate(text, lazy({ result: { x: 1 }, errorOutput: { Error: 'E' } }));
    }
    assert.equal(built, 0, 'input, result and errorOutput do not build the context');
    assert.deepEqual(await evaluate('{% $states.context.State.Name %}', lazy({})), 'S');
    assert.equal(built, 1);
    // Slow path (a function outside the fast subset) and bare `$states`: built, in order.
    assert.deepEqual(await evaluate('{% $keys($states) %}', lazy({ result: 1 })), [
      'input',
      'context',
      'result',
    ]);
    assert.equal(
      JSON.stringify(await evaluate('{% $states %}', lazy({ errorOutput: 2 }))),
      '{"input":{"a":1},"context":{"State":{"Name":"S"}},"errorOutput":2}',
    );
    const v = '{% ($s := $states; $s.context.State.Name) %}';
    assert.equal(await evaluate(v, lazy({})), 'S');
    assert.equal(built, 4);
    // A context already set (a Map's ItemSelector) is kept.
    const own = lazy({ context: { Map: { Item: { Index: 3 } } } });
    assert.equal(await evaluate('{% $states.context.Map.Item.Index %}', own), 3);
    assert.equal(built, 4);
  });

  it("a __proto__ key in $merge gives jsonata's result and pollutes nothing", async () => {
    const input = JSON.parse('{"o": {"__proto__": {"polluted": true}, "k": 1}}') as JsonObject;
    const v = (await run('{% $merge([$states.input.o, {"j": 2}]) %}', input)) as JsonObject;
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.equal((v as { polluted?: unknown }).polluted, undefined);
    assert.deepEqual(Object.keys(v).sort(), ['__proto__', 'j', 'k']);
    assert.equal(({} as { polluted?: unknown }).polluted, undefined);
  });
});

describe('Step Functions JSONata functions', () => {
  it('$partition', async () => {
    assert.deepEqual(await run('{% $partition([0], 1) %}'), [[0]]);
    assert.deepEqual(await run('{% $partition([0,1,2,3], 3) %}'), [[0, 1, 2], [3]]);
    assert.match(await cause('{% $partition([1], 0) %}'), /threw an error during evaluation: /);
  });

  it('$range returns a sequence (a singleton collapses)', async () => {
    assert.deepEqual(await run('{% $range(0, 10, 3) %}'), [0, 3, 6, 9]);
    assert.deepEqual(await run('{% $range(1, 9, 9) %}'), 1);
    assert.deepEqual(await run('{% $range(5, 1, -2) %}'), [5, 3, 1]);
    assert.match(await cause('{% $range(0, 1e7, 1) %}'), /memory limit exceeded/);
  });

  it('$hash', async () => {
    assert.equal(
      await run("{% $hash('abc', 'SHA-256') %}"),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    assert.equal(await run("{% $hash('abc', 'MD5') %}"), '900150983cd24fb0d6963f7d28e17f72');
    assert.match(
      await cause("{% $hash('abc', 'SHA-3') %}"),
      /must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512/,
    );
  });

  it('$random, $uuid, $now, $millis and $shuffle use the injected sources', async () => {
    assert.equal(await run('{% $random() %}'), 0.25);
    const a = await run('{% $random(42) %}');
    assert.equal(await run('{% $random(42) %}'), a);
    assert.ok(typeof a === 'number' && a >= 0 && a < 1);
    assert.equal(await run('{% $uuid() %}'), '00000000-0000-4000-8000-000000000000');
    assert.equal(await run('{% $now() %}'), '2024-01-02T03:04:05.006Z');
    assert.equal(await run("{% $now('[Y0001]-[M01]') %}"), '2024-01');
    assert.equal(await run('{% $millis() %}'), Date.UTC(2024, 0, 2, 3, 4, 5, 6));
    assert.deepEqual(await run('{% $shuffle([1,2,3]) %}'), [2, 3, 1]);
  });

  it('$parse', async () => {
    assert.deepEqual(await run('{% $parse($states.input) %}', '{"Arg1": 1, "Arg2": []}'), {
      Arg1: 1,
      Arg2: [],
    });
    assert.equal(await run("{% $parse('-0') %}"), 0);
    assert.match(await cause("{% $parse('{') %}"), /threw an error during evaluation: /);
  });

  it('$eval is not available', async () => {
    assert.equal(
      await cause({ r: '{% $eval("1+1") %}' }),
      "The JSONata expression '$eval(\"1+1\")' specified for the field 'Output/r' threw an error during evaluation. " +
        'T1006: Attempted to invoke a non-function',
    );
  });
});

describe('safety', () => {
  it('never reaches the prototype chain or Node', async () => {
    assert.match(await cause('{% $string.constructor("return process")() %}'), /T1006/);
    assert.match(await cause('{% $states.input.constructor %}', {}), /returned nothing/);
    assert.match(await cause("{% $lookup({}, '__proto__') %}"), /returned nothing/);
    await run("{% $merge([{'__proto__': {'polluted': 1}}]) %}").catch(() => undefined);
    await run("{% $states.input ~> |$|{'__proto__': {'polluted': 1}}| %}", {}).catch(() => undefined);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('bounds runaway expressions by time, depth and size', async () => {
    const limits = { ...DEFAULT_JSONATA_LIMITS, timeoutMs: 100 };
    const loop = compileJsonataTemplate(
      '{% ($f := function($n){ $f($n + 1) }; $f(0)) %}',
      'Output',
      '',
      limits,
    );
    await assert.rejects(loop.evaluate(bindings({})) as Promise<JsonValue>, (e: unknown) => {
      assert.ok(e instanceof StatesRuntimeError);
      assert.match(
        e.causeText,
        /threw an error during evaluation: Expression evaluation timeout: Check for infinite loop$/,
      );
      return true;
    });
    assert.match(
      await cause('{% ($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000)) %}'),
      /threw an error during evaluation: Stack overflow error: Check for non-terminating recursive function\./,
    );
    assert.match(
      await cause('{% [1..873783] ~> $count() %}'),
      /threw an error during evaluation: Expression evaluation memory limit exceeded: Check for excessive memory usage$/,
    );
    assert.equal(await run('{% [1..873782] ~> $count() %}'), 873782);
  });
});

// ---- Data-driven check against the AWS recordings of the conformance corpus ----
//
// Machines made only of JSONata Pass and Fail states whose expressions read `$states.input` and
// variables (not the context object, whose recorded values are masked) are run with a minimal
// runner: Assign, Output, Fail's Error/Cause.

const here = dirname(fileURLToPath(import.meta.url));
const corpus = [
  resolve(process.cwd(), '../shared/conformance/cases'),
  resolve(here, '../../../shared/conformance/cases'),
  '/work/shared/conformance/cases',
].find((d) => existsSync(d));

interface Case {
  name: string;
  kind: string;
  definition?: JsonValue;
  input: string | null;
  expected: { status?: string; output?: JsonValue; error?: string; cause?: JsonValue };
}

type Outcome =
  { status: 'SUCCEEDED'; output: JsonValue } | { status: 'FAILED'; error?: string; cause?: string };

async function runJsonataMachine(def: JsonValue, input: JsonValue): Promise<Outcome | undefined> {
  if (!isJsonObject(def) || !isJsonObject(def.States)) return undefined;
  if (JSON.stringify(def).includes('$states.context')) return undefined;
  const states = def.States;
  for (const s of Object.values(states)) {
    if (!isJsonObject(s) || (s.Type !== 'Pass' && s.Type !== 'Fail')) return undefined;
    if ((s.QueryLanguage ?? def.QueryLanguage) !== 'JSONata') return undefined;
  }
  const variables = new Map<string, JsonValue>();
  let name = def.StartAt as string;
  let value = input;
  for (let i = 0; i < 50; i++) {
    const s = states[name] as JsonObject;
    const prefix = `An error occurred while executing the state '${name}' (entered at the event id #${2 + 2 * i}). `;
    const b: JsonataBindings = { ...bindings(value), variables: new Map(variables) };
    const evalField = async (field: string): Promise<JsonValue | undefined> =>
      s[field] === undefined ? undefined : compileJsonataTemplate(s[field], field).evaluateAsync(b);
    try {
      if (s.Type === 'Fail') {
        const out: Outcome = { status: 'FAILED' };
        const error = await evalField('Error');
        const cause = await evalField('Cause');
        if (typeof error === 'string') out.error = error;
        if (typeof cause === 'string') out.cause = cause;
        return out;
      }
      const assign = await evalField('Assign');
      const output = await evalField('Output');
      if (isJsonObject(assign)) for (const k of Object.keys(assign)) variables.set(k, assign[k]!);
      if (output !== undefined) value = output;
    } catch (e) {
      if (e instanceof StatesRuntimeError)
        return { status: 'FAILED', error: e.error, cause: prefix + e.causeText };
      throw e;
    }
    if (s.End === true) return { status: 'SUCCEEDED', output: value };
    name = s.Next as string;
  }
  return undefined;
}

function listCases(dir: string): Case[] {
  const out: Case[] = [];
  for (const cat of readdirSync(dir)) {
    const d = join(dir, cat);
    if (!statSync(d).isDirectory()) continue;
    for (const f of readdirSync(d)) {
      if (f.endsWith('.json')) out.push(JSON.parse(readFileSync(join(d, f), 'utf8')) as Case);
    }
  }
  return out;
}

describe('conformance corpus (AWS recordings): JSONata Pass and Fail machines', () => {
  it('reproduces recorded outputs and failure causes', async (t) => {
    if (corpus === undefined) {
      t.skip('conformance corpus not found');
      return;
    }
    let checked = 0;
    const failures: string[] = [];
    for (const c of listCases(corpus)) {
      if (c.kind !== 'execution' || c.definition === undefined) continue;
      const input = c.input === null ? {} : (JSON.parse(c.input) as JsonValue);
      const got = await runJsonataMachine(c.definition, input);
      if (got === undefined) continue;
      checked++;
      const exp = c.expected;
      if (got.status !== exp.status) {
        failures.push(`${c.name}: status ${got.status} (${JSON.stringify(got)}), expected ${exp.status}`);
      } else if (got.status === 'SUCCEEDED') {
        const want = typeof exp.output === 'string' ? (JSON.parse(exp.output) as JsonValue) : exp.output;
        if (want === undefined || !jsonEquals(got.output, want)) {
          failures.push(`${c.name}: output ${JSON.stringify(got.output)}, expected ${JSON.stringify(want)}`);
        }
      } else if (got.error !== exp.error || got.cause !== exp.cause) {
        failures.push(
          `${c.name}: ${got.error} '${got.cause}', expected ${exp.error} '${JSON.stringify(exp.cause)}'`,
        );
      }
    }
    assert.deepEqual(failures, []);
    assert.ok(checked >= 20, `only ${checked} cases were checkable`);
    t.diagnostic(`${checked} JSONata Pass/Fail machines checked against AWS recordings`);
  });
});
