// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compileDefinition } from './compile.js';
import { DefinitionError } from './errors.js';
import type { JsonObject, JsonValue } from './json.js';
import { isJsonObject, setOwn } from './json.js';
import type { Diagnostic } from './validate.js';
import {
  formatDiagnostic,
  validateDefinition,
  validateDefinitionText,
  validationResult,
} from './validate.js';

// Compiled to dist/language/: the repo root is two directories up from this file's folder.
const compiledRoot = fileURLToPath(new URL('../../', import.meta.url));
const repoRoot = existsSync(join(compiledRoot, 'test/fixtures/invalid')) ? compiledRoot : process.cwd();
const fixturesDir = join(repoRoot, 'test/fixtures/invalid');
const sharedDir = join(repoRoot, '../shared');
const conformanceDir = join(sharedDir, 'conformance/cases/validation');
const realworldDir = join(sharedDir, 'realworld/defs');

const errors = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'ERROR');

interface Fixture {
  description: string;
  type?: 'STANDARD' | 'EXPRESS';
  definition: JsonValue;
  expected: { code: string; message: string; location: string };
}

describe('validateDefinition: one invalid fixture per rule', () => {
  const files = existsSync(fixturesDir) ? readdirSync(fixturesDir).filter((f) => f.endsWith('.json')) : [];
  it('has fixtures', () => assert.ok(files.length >= 40, `expected fixtures in ${fixturesDir}`));
  for (const file of files.sort()) {
    const fx = JSON.parse(readFileSync(join(fixturesDir, file), 'utf8')) as Fixture;
    it(`${file}: ${fx.description}`, () => {
      const found = errors(validateDefinition(fx.definition, fx.type ? { type: fx.type } : {}));
      assert.deepEqual(
        found.map((d) => ({ code: d.code, location: d.location, message: d.message })),
        [fx.expected],
      );
    });
  }
});

describe('validateDefinition: valid definitions', () => {
  it('accepts a small machine of every state type in both query languages', () => {
    const def: JsonValue = {
      StartAt: 'P',
      States: {
        P: { Type: 'Pass', Result: { a: 1 }, ResultPath: '$.r', Assign: { x: 1, 'y.$': '$.a' }, Next: 'W' },
        W: { Type: 'Wait', SecondsPath: '$.s', Next: 'C' },
        C: {
          Type: 'Choice',
          Choices: [{ Variable: '$x', NumericEquals: 1, Next: 'T' }],
          Default: 'F',
        },
        T: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { 'FunctionName.$': "States.Format('f-{}', $.n)" },
          Retry: [{ ErrorEquals: ['States.Timeout'] }, { ErrorEquals: ['States.ALL'], MaxAttempts: 0 }],
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.err', Next: 'F' }],
          Next: 'M',
        },
        M: {
          Type: 'Map',
          QueryLanguage: 'JSONata',
          Items: '{% $states.input.items %}',
          ItemProcessor: {
            StartAt: 'J',
            States: { J: { Type: 'Pass', Output: '{% $states.input * 2 %}', End: true } },
          },
          Next: 'Par',
        },
        Par: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'B', States: { B: { Type: 'Succeed' } } }],
          End: true,
        },
        F: { Type: 'Fail', ErrorPath: '$.e', CausePath: "States.Format('{}', $.c)" },
      },
    };
    assert.deepEqual(validateDefinition(def), []);
  });

  it('accepts a JSONata machine', () => {
    const def: JsonValue = {
      QueryLanguage: 'JSONata',
      StartAt: 'C',
      States: {
        C: {
          Type: 'Choice',
          Choices: [{ Condition: '{% $states.input.n > 1 %}', Next: 'T', Assign: { big: true } }],
          Default: 'T',
        },
        T: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Arguments: { FunctionName: 'f', Payload: '{% $states.input %}' },
          TimeoutSeconds: '{% $timeout %}',
          Output: '{% $states.result.Payload %}',
          Catch: [{ ErrorEquals: ['States.ALL'], Output: '{% $states.errorOutput %}', Next: 'Done' }],
          Next: 'Done',
        },
        Done: { Type: 'Succeed', Output: { ok: true } },
      },
    };
    assert.deepEqual(validateDefinition(def), []);
  });

  it('collects every finding rather than stopping at the first', () => {
    const found = validateDefinition({
      StartAt: 'A',
      States: {
        A: { Type: 'Pass', Foo: 1, InputPath: 'nope', Next: 'B' },
        B: { Type: 'Wait', End: true },
      },
    });
    assert.deepEqual(
      found.map((d) => d.location),
      ['/States/A', '/States/A/InputPath', '/States/B'],
    );
  });

  it('warns about paths in fields without .$ and about reserved error names', () => {
    const found = validateDefinition({
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:123456789012:function:f',
          Parameters: { bucket: '$.bucket' },
          Catch: [{ ErrorEquals: ['States.MyOwn'], Next: 'E' }],
          End: true,
        },
        E: { Type: 'Succeed' },
      },
    });
    assert.equal(validationResult(found), 'OK');
    assert.deepEqual(
      found.map((d) => [d.severity, d.code, d.location]),
      [
        ['WARNING', 'RESERVED_ERROR_NAME', '/States/T/Catch/0/ErrorEquals/0'],
        ['WARNING', 'NO_DOLLAR', '/States/T/Parameters/bucket'],
      ],
    );
  });

  it('rejects a definition over 1 MiB', () => {
    const def = { StartAt: 'S', States: { S: { Type: 'Pass', Result: 'x'.repeat(1024 * 1024), End: true } } };
    const found = errors(validateDefinition(def));
    assert.equal(found.length, 1);
    assert.equal(found[0]!.location, '/');
    assert.match(found[0]!.message, /1048576/);
  });

  it('formats diagnostics as CreateStateMachine reports them', () => {
    const d: Diagnostic = {
      severity: 'ERROR',
      code: 'SCHEMA_VALIDATION_FAILED',
      message: "Express state machine does not support '.sync' service integration ",
      location: '/States/S/Resource',
    };
    assert.equal(
      formatDiagnostic(d),
      "SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration at /States/S/Resource",
    );
  });
});

describe('validateDefinition never throws', () => {
  it('on arbitrary JSON and on definition-shaped values (fast-check)', () => {
    // Definition-shaped: the known fields with arbitrary values, so the checks go deep.
    const anyJson = fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<JsonValue>;
    const stateType = fc.constantFrom(
      'Pass',
      'Task',
      'Choice',
      'Wait',
      'Succeed',
      'Fail',
      'Parallel',
      'Map',
      'Nope',
    );
    const field = fc.constantFrom(
      'Next',
      'End',
      'Resource',
      'Parameters',
      'ResultPath',
      'InputPath',
      'OutputPath',
      'Choices',
      'Default',
      'Seconds',
      'Timestamp',
      'Branches',
      'ItemProcessor',
      'Iterator',
      'Retry',
      'Catch',
      'Assign',
      'Output',
      'Arguments',
      'Items',
      'QueryLanguage',
      'Error',
      'CausePath',
      '__proto__',
    );
    const state = fc
      .tuple(stateType, fc.dictionary(field, anyJson, { maxKeys: 6 }))
      .map(([Type, rest]) => ({ ...rest, Type }));
    const definition = fc.record({
      StartAt: fc.oneof(fc.constant('A'), anyJson),
      States: fc.dictionary(fc.constantFrom('A', 'B', 'C', ''), state, { maxKeys: 4 }),
      QueryLanguage: fc.constantFrom('JSONPath', 'JSONata', 'x'),
    }) as fc.Arbitrary<JsonValue>;
    fc.assert(
      fc.property(fc.oneof(anyJson, definition), (def) => {
        const found = validateDefinition(def);
        return Array.isArray(found) && found.every((d) => d.severity === 'ERROR' || d.severity === 'WARNING');
      }),
      { numRuns: 3000, seed: 20261126 },
    );
  });

  it('on values that are not definitions', () => {
    const weird: unknown[] = [null, 1, 'x', [], true, { States: [] }, { StartAt: 1, States: { a: null } }];
    const cyclic: JsonObject = { StartAt: 'S', States: {} };
    (cyclic.States as JsonObject).S = cyclic;
    weird.push(cyclic);
    let deep: JsonValue = 1;
    for (let i = 0; i < 20000; i++) deep = { a: deep };
    weird.push({ StartAt: 'S', States: { S: { Type: 'Pass', Parameters: deep, End: true } } });
    weird.push({
      StartAt: 'S',
      States: { S: { Type: 'Pass', QueryLanguage: 'JSONata', Output: deep, End: true } },
    });
    for (const w of weird) {
      const found = validateDefinition(w as JsonValue);
      assert.ok(Array.isArray(found));
      if (w !== null && typeof w === 'object' && !Array.isArray(w)) continue;
      assert.equal(validationResult(found), 'FAIL');
    }
  });

  it('on 2,000 random mutations of real-world definitions', (t) => {
    if (!existsSync(realworldDir)) {
      t.skip(`SKIPPED: ${realworldDir} is missing (the shared real-world corpus)`);
      return;
    }
    const defs = readdirSync(realworldDir)
      .sort()
      .map(
        (f) =>
          (JSON.parse(readFileSync(join(realworldDir, f), 'utf8')) as { definition: JsonValue }).definition,
      );
    const rnd = prng(20260314);
    let disagreements = 0;
    for (let i = 0; i < 2000; i++) {
      const def = structuredClone(defs[Math.floor(rnd() * defs.length)]!);
      const mutated = mutate(def, rnd, 1 + Math.floor(rnd() * 3));
      let found: Diagnostic[] = [];
      assert.doesNotThrow(() => {
        found = validateDefinition(mutated);
      }, `mutation ${i}`);
      for (const d of found) {
        assert.ok(d.severity === 'ERROR' || d.severity === 'WARNING');
        assert.equal(typeof d.code, 'string');
        assert.equal(typeof d.message, 'string');
        assert.equal(typeof d.location, 'string');
      }
      // What the compiler refuses (JSONPath only: it does not run JSONata yet), the validator refuses.
      let text = '';
      try {
        text = JSON.stringify(mutated);
      } catch {
        continue; // nested beyond JSON.stringify's stack: nothing to compare
      }
      if (!text.includes('JSONata') && validationResult(found) === 'OK') {
        try {
          compileDefinition(mutated);
        } catch (e) {
          if (e instanceof DefinitionError) disagreements++;
        }
      }
    }
    t.diagnostic(`definitions the compiler refused but the validator accepted: ${disagreements}`);
  });
});

describe('conformance: recorded validation cases', () => {
  const files = existsSync(conformanceDir) ? readdirSync(conformanceDir).sort() : [];
  if (files.length === 0) {
    it('conformance corpus', (t) => t.skip(`SKIPPED: ${conformanceDir} is missing`));
  }
  for (const file of files) {
    const c = JSON.parse(readFileSync(join(conformanceDir, file), 'utf8')) as {
      name: string;
      kind: string;
      stateMachineType?: 'STANDARD' | 'EXPRESS';
      createStateMachineParams?: { type?: 'STANDARD' | 'EXPRESS' };
      definition: JsonValue;
      definitionString?: string;
      expected: {
        validateStateMachineDefinitionResponse?: { diagnostics: Record<string, string>[]; result: string };
        exceptionMessage?: string;
        errorResponse?: { Error?: { Message?: string } };
      };
    };
    const type = c.createStateMachineParams?.type ?? c.stateMachineType ?? 'STANDARD';
    const run = () =>
      c.definitionString !== undefined
        ? validateDefinitionText(c.definitionString, { type })
        : validateDefinition(c.definition, { type });
    if (c.kind === 'validate-definition') {
      it(`${c.name}`, () => {
        const want = c.expected.validateStateMachineDefinitionResponse!;
        const got = run();
        assert.equal(validationResult(got), want.result);
        assert.deepEqual(
          got.map((d) => (d.location === '' ? { ...d, location: undefined } : d)),
          want.diagnostics.map((d) => ({
            severity: d.severity,
            code: d.code,
            message: d.message,
            location: d.location,
          })),
        );
      });
    } else if (c.kind === 'create-error') {
      const message = c.expected.exceptionMessage ?? c.expected.errorResponse?.Error?.Message ?? '';
      const m = /Invalid State Machine Definition: '(.*)'$/s.exec(message);
      if (!m) continue; // logging configuration, duplicate names: not about the definition
      it(`${c.name}`, () => {
        const want = m[1]!.replace('arn:<partition>:', 'arn:aws:');
        assert.deepEqual(errors(run()).map(formatDiagnostic), [want]);
      });
    }
  }
});

describe('a large definition', () => {
  // Its speed is measured by `npm run bench:language`, not here.
  it('validates a 1 MiB definition with 2,000 states without findings', () => {
    const states: JsonObject = {};
    const n = 2000;
    for (let i = 0; i < n; i++) {
      const next = i + 1 < n ? { Next: `S${i + 1}` } : { End: true };
      states[`S${i}`] =
        i % 2 === 0
          ? {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke',
              Parameters: {
                'Payload.$': '$.payload',
                'Id.$': "States.Format('{}-{}', $.a, $$.Execution.Id)",
              },
              ResultSelector: { 'body.$': '$.Payload.body' },
              ResultPath: `$.results.s${i}`,
              Retry: [
                { ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 },
              ],
              Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'S1999' }],
              Comment: 'c'.repeat(150),
              ...next,
            }
          : { Type: 'Pass', Result: { text: 'p'.repeat(300), n: i }, ResultPath: `$.p${i}`, ...next };
    }
    const def: JsonValue = { StartAt: 'S0', States: states };
    const size = JSON.stringify(def).length;
    assert.ok(size > 900_000 && size <= 1024 * 1024, `generated ${size} bytes`);
    assert.deepEqual(errors(validateDefinition(def)), []);
  });
});

describe('validateDefinitionText', () => {
  it('reports JSON syntax errors as Jackson does', () => {
    const [d] = validateDefinitionText('{"StartAt": tru}');
    assert.equal(d!.code, 'INVALID_JSON_DESCRIPTION');
    assert.match(d!.message, /^Unrecognized token 'tru'/);
    assert.match(d!.location, /line: 1, column: 16\]$/);
  });
});

/** mulberry32: a small seeded PRNG, so failures reproduce. */
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

const ODD_VALUES: JsonValue[] = [
  null,
  0,
  -1,
  1.5,
  1e300,
  '',
  '$',
  '$..[',
  '{% %}',
  '{% $x. %}',
  "States.Format('",
  'States.ALL',
  true,
  [],
  {},
  [null],
  { Type: 'Pass' },
  'x'.repeat(100),
];
const ODD_KEYS = [
  '__proto__',
  'constructor',
  'Type',
  'Next',
  'End',
  'States',
  'StartAt',
  'x.$',
  'QueryLanguage',
];

/** Applies `count` random mutations to a JSON value: drop keys, swap types, add odd keys, nest. */
function mutate(root: JsonValue, rnd: () => number, count: number): JsonValue {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  let value = root;
  for (let m = 0; m < count; m++) {
    // Collect containers, then change one of them.
    const containers: (JsonObject | JsonValue[])[] = [];
    const visit = (v: JsonValue, depth: number) => {
      if (depth > 30 || v === null || typeof v !== 'object') return;
      containers.push(v);
      for (const x of Array.isArray(v) ? v : Object.values(v)) visit(x, depth + 1);
    };
    visit(value, 0);
    if (containers.length === 0) return pick(ODD_VALUES);
    const c = pick(containers);
    const op = Math.floor(rnd() * 6);
    // Read and write one slot of the container, whichever kind it is.
    const slots = Array.isArray(c) ? c.map((_, i) => String(i)) : Object.keys(c);
    const key = slots.length > 0 ? pick(slots) : undefined;
    const get = (k: string): JsonValue => (Array.isArray(c) ? c[Number(k)]! : c[k]!);
    const put = (k: string, v: JsonValue) => {
      if (Array.isArray(c)) c[Number(k)] = v;
      else setOwn(c, k, v);
    };
    if (op === 0 && key !== undefined) {
      if (Array.isArray(c)) c.splice(Number(key), 1);
      else delete c[key];
    } else if (op === 1 && key !== undefined) {
      put(key, pick(ODD_VALUES));
    } else if (op === 2 && !Array.isArray(c)) {
      setOwn(c, pick(ODD_KEYS), pick(ODD_VALUES));
    } else if (op === 3 && key !== undefined) {
      // Deep nesting: wrap a value in many levels.
      let deep = get(key);
      const levels = 1 + Math.floor(rnd() * 2000);
      for (let i = 0; i < levels; i++) deep = rnd() < 0.5 ? [deep] : { a: deep };
      put(key, deep);
    } else if (op === 4 && key !== undefined && !Array.isArray(c)) {
      // Rename a key (e.g. a state) so that transitions dangle.
      const v = c[key]!;
      delete c[key];
      setOwn(c, `${key}_renamed`, v);
    } else if (isJsonObject(value) && rnd() < 0.5) {
      value = pick([value, [value], { Definition: value }, JSON.stringify(value)]);
    }
  }
  return value;
}
