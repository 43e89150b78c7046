// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { DefinitionError, StatesErrors, StatesRuntimeError } from './errors.js';
import type { IntrinsicEnv } from './intrinsics.js';
import { compileIntrinsic, isIntrinsicCall } from './intrinsics.js';
import type { JsonObject, JsonValue } from './json.js';
import { getOwn, isJsonObject, jsonEquals } from './json.js';
import { compilePath, compileReferencePath, jsonPathNotFoundCause, pathNotFoundCause } from './jsonpath.js';
import { compilePayloadTemplate } from './payload.js';

function env(input: JsonValue, context: JsonValue = {}, variables?: Map<string, JsonValue>): IntrinsicEnv {
  const e: IntrinsicEnv = { input, context, random: () => 0, uuid: () => 'uuid-1' };
  if (variables) e.variables = variables;
  return e;
}

function run(template: JsonValue, input: JsonValue, context: JsonValue = {}): JsonValue {
  return compilePayloadTemplate(template, 'Parameters', '/States/S/Parameters').evaluate(env(input, context));
}

describe('compilePayloadTemplate', () => {
  it('resolves .$ keys from paths and drops the suffix', () => {
    const out = run(
      { 'a.$': '$.x', 'ctx.$': '$$.Execution.Name', 'all.$': '$', lit: 'keep', n: 1 },
      { x: [1, 2] },
      { Execution: { Name: 'e' } },
    );
    assert.deepEqual(out, { a: [1, 2], ctx: 'e', all: { x: [1, 2] }, lit: 'keep', n: 1 });
  });

  it('reads workflow variables', () => {
    const p = compilePayloadTemplate({ 'v.$': '$var.f', 'w.$': "States.Format('{}', $var.f)" }, 'Parameters');
    const vars = new Map<string, JsonValue>([['var', { f: 7 }]]);
    assert.deepEqual(p.evaluate(env({}, {}, vars)), { v: 7, w: '7' });
  });

  it('evaluates intrinsic calls', () => {
    assert.deepEqual(run({ 'r.$': 'States.Array($.a, 1)' }, { a: 'x' }), { r: ['x', 1] });
  });

  it('walks nested objects and arrays', () => {
    const out = run(
      {
        outer: { 'inner.$': '$.a', deeper: [{ 'x.$': '$.b' }, 'lit', ['$.a']] },
        list: [1, { 'y.$': '$.b' }],
      },
      { a: 1, b: 2 },
    );
    assert.deepEqual(out, { outer: { inner: 1, deeper: [{ x: 2 }, 'lit', ['$.a']] }, list: [1, { y: 2 }] });
  });

  it('keeps literal strings that look like paths or calls', () => {
    const t = { a: '$.x', b: "States.Format('x')", c: '$$', d: { e: '$' } };
    assert.deepEqual(run(t, { x: 1 }), t);
  });

  it('recorded ESCAPE_SEQUENCES_STRING_LITERALS: literals come out verbatim', () => {
    const t = {
      literal_single_quote: "'",
      literal_double_quote: '"',
      escaped_double_in_string: 'An escaped quote: \\"hello\\"',
      escaped_backslash: 'Backslash \\\\ in string',
      whitespace_escapes: 'Line1\nLine2\tTabbed',
      emoji: '🆗',
    };
    assert.deepEqual(run(t, {}), t);
  });

  it('a template without .$ keys is a shared frozen constant', () => {
    const t = { a: { b: [1] } };
    const p = compilePayloadTemplate(t, 'ResultSelector');
    assert.equal(p.dynamic, false);
    const x = p.evaluate(env({}));
    assert.equal(p.evaluate(env({ other: 1 })), x);
    assert.deepEqual(x, t);
    assert.ok(Object.isFrozen(x));
    assert.throws(() => {
      (x as { a: unknown }).a = 1;
    }, TypeError);
    t.a.b.push(2);
    assert.deepEqual(p.evaluate(env({})), { a: { b: [1] } }, 'later edits of the definition do not leak in');
  });

  it('a dynamic template builds a fresh object each time', () => {
    const p = compilePayloadTemplate({ 'a.$': '$.v', k: { c: 1 } }, 'Parameters');
    assert.equal(p.dynamic, true);
    const one = p.evaluate(env({ v: 1 }));
    const two = p.evaluate(env({ v: 2 }));
    assert.notEqual(one, two);
    assert.deepEqual(one, { a: 1, k: { c: 1 } });
    assert.deepEqual(two, { a: 2, k: { c: 1 } });
  });

  it('non-object templates pass through', () => {
    assert.equal(run('text', {}), 'text');
    assert.deepEqual(run([1, '$.a'], { a: 1 }), [1, '$.a']);
    assert.equal(run(null, {}), null);
  });

  it('keys such as __proto__ stay own data keys', () => {
    const t = JSON.parse('{"__proto__.$": "$.a", "constructor": 1}') as JsonValue;
    const out = run(t, { a: { polluted: true } }) as JsonObject;
    assert.ok(Object.prototype.hasOwnProperty.call(out, '__proto__'));
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(getOwn(out, '__proto__'), { polluted: true });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('does not share selected values with a later mutation of the output', () => {
    const input = { a: { b: 1 } };
    const out = run({ 'x.$': '$.a' }, input) as JsonObject;
    assert.equal(out.x, input.a, 'values are shared, not copied (callers never mutate)');
  });

  it('a path that selects nothing fails with AWS cause text (recorded)', () => {
    assert.throws(
      () => run({ 'value.$': '$.no_such_jsonpath' }, { 'int-literal': 0 }),
      (e: unknown) =>
        e instanceof StatesRuntimeError &&
        e.error === StatesErrors.Runtime &&
        e.causeText ===
          "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{\"int-literal\":0}'",
    );
    assert.throws(
      () =>
        run(
          { deep: { 'value.$': '$$.Execution.Input.no_such_jsonpath' } },
          { a: 1 },
          { Execution: { Input: {} } },
        ),
      (e: unknown) =>
        e instanceof StatesRuntimeError &&
        e.causeText ===
          "The JSONPath '$$.Execution.Input.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{\"a\":1}'",
    );
  });

  it('an indefinite path that selects nothing yields [] (recorded)', () => {
    assert.deepEqual(run({ 'item.$': '$.items[*]' }, {}), { item: [] });
  });

  it('invalid .$ values are DefinitionErrors with the AWS message and location', () => {
    const bad: [JsonValue, string][] = [
      [
        { 'parsed.$': 'States.StringToJson(\'{"text":"An \\"escaped double quote\\" here"}\')' },
        '/States/S/Parameters',
      ],
      [
        { 'parsed.$': 'States.Format(\'He said, \\"Hello, {}!\\"\', \'Test \\"Name\\" Here\')' },
        '/States/S/Parameters',
      ],
      [{ 'parsed.$': 'not a path' }, '/States/S/Parameters'],
      [{ 'parsed.$': 5 }, '/States/S/Parameters'],
      [{ 'parsed.$': '$.a[' }, '/States/S/Parameters'],
      [{ n: { 'parsed.$': 'States.Nope()' } }, '/States/S/Parameters/n'],
      [{ 'a/b': [{ 'parsed.$': 'States.ArrayRange(1)' }] }, '/States/S/Parameters/a~1b/0'],
    ];
    for (const [t, location] of bad) {
      assert.throws(
        () => compilePayloadTemplate(t, 'Parameters', '/States/S/Parameters'),
        (e: unknown) =>
          e instanceof DefinitionError &&
          e.code === 'SCHEMA_VALIDATION_FAILED' &&
          e.message ===
            `SCHEMA_VALIDATION_FAILED: The value for the field 'parsed.$' must be a valid JSONPath or a valid intrinsic function call at ${location}`,
        JSON.stringify(t),
      );
    }
  });
});

// ---- Data-driven check against the AWS recordings of the conformance corpus ----
//
// Machines made only of JSONPath Pass and Fail states are run here with a minimal runner
// (InputPath, Parameters, Result, ResultPath, OutputPath, ErrorPath, CausePath), which exercises paths, reference paths,
// intrinsics and payload templates against the recorded outputs and failure causes.

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
  definitionString?: string;
  input: string | null;
  expected: { status?: string; output?: JsonValue; error?: string; cause?: JsonValue };
  snapshot?: { testTransformers?: unknown[] };
}

type Outcome =
  | { status: 'SUCCEEDED'; output: JsonValue }
  | { status: 'FAILED'; error: string | undefined; cause: string | undefined };

const CONTEXT_NAMES = {
  executionName: '<ExecArnPart_0idx>',
  stateMachineName: '<ArnPart_0idx>',
  stateMachineArn: 'arn:<partition>:states:<region>:111111111111:stateMachine:<ArnPart_0idx>',
};

/** Runs a machine of Pass and Fail states; returns undefined when the machine uses anything else. */
function runPassMachine(def: JsonValue, input: JsonValue): Outcome | undefined {
  if (!isJsonObject(def) || getOwn(def, 'QueryLanguage') === 'JSONata') return undefined;
  const states = getOwn(def, 'States');
  if (!isJsonObject(states)) return undefined;
  for (const s of Object.values(states)) {
    if (
      !isJsonObject(s) ||
      (s.Type !== 'Pass' && s.Type !== 'Fail') ||
      s.QueryLanguage !== undefined ||
      s.Assign
    ) {
      return undefined;
    }
  }
  let name = getOwn(def, 'StartAt');
  let current = input;
  let eventId = 2;
  while (typeof name === 'string') {
    const st = states[name] as JsonObject;
    const context: JsonValue = {
      Execution: {
        Id: `arn:<partition>:states:<region>:111111111111:execution:<ArnPart_0idx>:${CONTEXT_NAMES.executionName}`,
        Input: input,
        Name: CONTEXT_NAMES.executionName,
        RoleArn: 'snf_role_arn',
        StartTime: 'date',
        RedriveCount: 0,
      },
      StateMachine: { Id: CONTEXT_NAMES.stateMachineArn, Name: CONTEXT_NAMES.stateMachineName },
      State: { Name: name, EnteredTime: 'date' },
    };
    const failed = (error: string, cause: string): Outcome => ({
      status: 'FAILED',
      error,
      cause: `An error occurred while executing the state '${name as string}' (entered at the event id #${eventId}). ${cause}`,
    });
    if (st.Type === 'Fail') return failState(st, current, context, failed);
    try {
      const raw = current;
      let effective: JsonValue = raw;
      const inputPath = getOwn(st, 'InputPath');
      if (inputPath === null) effective = {};
      else if (typeof inputPath === 'string') {
        const p = compilePath(inputPath);
        const v = p.select({ input: raw, context });
        if (v === undefined) return failed(StatesErrors.Runtime, pathNotFoundCause(p, raw));
        effective = v;
      }
      const params = getOwn(st, 'Parameters');
      if (params !== undefined) {
        effective = compilePayloadTemplate(params, 'Parameters').evaluate({
          input: effective,
          context,
          random: () => 0,
          uuid: () => 'uuid',
        });
      }
      const result = getOwn(st, 'Result') ?? effective;
      const resultPath = getOwn(st, 'ResultPath');
      let output: JsonValue =
        resultPath === null
          ? raw
          : typeof resultPath === 'string'
            ? compileReferencePath(resultPath).assign(raw, result)
            : result;
      const outputPath = getOwn(st, 'OutputPath');
      if (outputPath === null) output = {};
      else if (typeof outputPath === 'string') {
        const p = compilePath(outputPath);
        const v = p.select({ input: output, context });
        if (v === undefined) return failed(StatesErrors.Runtime, pathNotFoundCause(p, output));
        output = v;
      }
      current = output;
    } catch (e) {
      if (e instanceof StatesRuntimeError) return failed(e.error, e.causeText);
      throw e;
    }
    if (getOwn(st, 'End') === true) return { status: 'SUCCEEDED', output: current };
    name = getOwn(st, 'Next');
    eventId += 2;
  }
  return undefined;
}

/** A Fail state: Error/Cause, or ErrorPath/CausePath read as a path or an intrinsic call. */
function failState(
  st: JsonObject,
  input: JsonValue,
  context: JsonValue,
  failed: (error: string, cause: string) => Outcome,
): Outcome {
  const e: IntrinsicEnv = { input, context, random: () => 0, uuid: () => 'uuid' };
  const dynamic = (field: string): JsonValue | undefined => {
    const text = getOwn(st, field);
    if (typeof text !== 'string') return undefined;
    if (isIntrinsicCall(text)) return compileIntrinsic(text, field).evaluate(e);
    const v = compilePath(text).select(e);
    if (v === undefined) {
      throw new StatesRuntimeError(StatesErrors.Runtime, jsonPathNotFoundCause(text, field, input));
    }
    return v;
  };
  try {
    const error = getOwn(st, 'Error') ?? dynamic('ErrorPath');
    const cause = getOwn(st, 'Cause') ?? dynamic('CausePath');
    return { status: 'FAILED', error: error as string, cause: cause as string };
  } catch (err) {
    if (err instanceof StatesRuntimeError) return failed(err.error, err.causeText);
    throw err;
  }
}

/** The snapshot's masking of JSON inputs quoted in causes (`'{...}'` -> `'<json-input:1>'`). */
function maskJsonInput(cause: string): string {
  const m = /'(\{[^\n]*\})'/.exec(cause);
  return m ? cause.replace(m[1]!, '<json-input:1>') : cause;
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

describe('conformance corpus (AWS recordings): Pass and Fail machines', () => {
  it('reproduces recorded outputs and failure causes', (t) => {
    if (corpus === undefined) {
      t.skip('conformance corpus not found');
      return;
    }
    let checked = 0;
    const failures: string[] = [];
    for (const c of listCases(corpus)) {
      if (c.kind !== 'execution' || (c.snapshot?.testTransformers?.length ?? 0) > 0) continue;
      let def: JsonValue | undefined = c.definition;
      if (c.definitionString !== undefined) {
        try {
          def = JSON.parse(c.definitionString) as JsonValue;
        } catch {
          continue;
        }
      }
      if (def === undefined) continue;
      const input = c.input === null ? {} : (JSON.parse(c.input) as JsonValue);
      const got = runPassMachine(def, input);
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
      } else if (got.error !== exp.error || (got.cause && maskJsonInput(got.cause)) !== exp.cause) {
        failures.push(
          `${c.name}: ${got.error} '${got.cause}', expected ${exp.error} '${JSON.stringify(exp.cause)}'`,
        );
      }
    }
    assert.deepEqual(failures, []);
    assert.ok(checked >= 100, `only ${checked} cases were checkable`);
    t.diagnostic(`${checked} Pass/Fail machines checked against AWS recordings`);
  });
});
