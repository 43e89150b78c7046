// Workflow variables (Assign) in both query languages, and JSONata through real states, run end
// to end through the library API. AWS facts: "Passing data between states with variables"
// (docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html) and the recordings in
// ../shared/conformance/cases/variables_assign and cases/jsonata.
// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { JsonObject, JsonValue } from '../language/json.js';
import { validateDefinition } from '../language/validate.js';
import {
  DefinitionError,
  StateMachine,
  type LambdaHandler,
  type RunOptions,
  type RunResult,
} from '../surfaces/library/index.js';

const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:';

const functions: Readonly<Record<string, LambdaHandler>> = {
  echo: (e) => ({ got: e, n: 5 }),
  boom: () => {
    const err = new Error('it broke');
    err.name = 'Boom';
    throw err;
  },
};

async function run(definition: JsonObject, options: RunOptions = {}): Promise<RunResult> {
  return StateMachine.fromDefinition(definition).run({ waitScale: 0, functions, ...options });
}

function out(r: RunResult): JsonValue | undefined {
  assert.equal(r.status, 'SUCCEEDED', `${r.error ?? ''}: ${r.cause ?? ''}`);
  return r.outputValue;
}

/** `stateExitedEventDetails` of every exit of the named state, in history order. */
function exits(r: RunResult, name: string): Record<string, unknown>[] {
  return (r.events ?? [])
    .map((e) => e.stateExitedEventDetails as Record<string, unknown> | undefined)
    .filter((d): d is Record<string, unknown> => d !== undefined && d.name === name);
}

function eventTypes(r: RunResult): string[] {
  return (r.events ?? []).map((e) => e.type);
}

const ata = (states: JsonObject, startAt = Object.keys(states)[0]!): JsonObject => ({
  QueryLanguage: 'JSONata',
  StartAt: startAt,
  States: states,
});
const path = (states: JsonObject, startAt = Object.keys(states)[0]!): JsonObject => ({
  StartAt: startAt,
  States: states,
});
/** A one-state JSONata machine whose Pass state outputs `expr`. */
const expr = (e: string): JsonObject => ata({ A: { Type: 'Pass', Output: e, End: true } });

describe('Assign: evaluation order', () => {
  it('JSONPath: every expression sees the values from state entry (a swap swaps)', async () => {
    const r = await run(
      path({
        Init: { Type: 'Pass', Assign: { a: 1, b: 2 }, Next: 'Swap' },
        Swap: { Type: 'Pass', Assign: { 'a.$': '$b', 'b.$': '$a' }, Next: 'Read' },
        Read: { Type: 'Pass', Parameters: { 'a.$': '$a', 'b.$': '$b' }, End: true },
      }),
    );
    assert.deepEqual(out(r), { a: 2, b: 1 });
    assert.deepEqual(exits(r, 'Swap')[0]!.assignedVariables, { a: '2', b: '1' });
  });

  it('JSONata: every expression sees the values from state entry (a swap swaps)', async () => {
    const r = await run(
      ata({
        Init: { Type: 'Pass', Assign: { a: 1, b: 2 }, Next: 'Swap' },
        Swap: { Type: 'Pass', Assign: { a: '{% $b %}', b: '{% $a %}' }, Next: 'Read' },
        Read: { Type: 'Pass', Output: { a: '{% $a %}', b: '{% $b %}' }, End: true },
      }),
    );
    assert.deepEqual(out(r), { a: 2, b: 1 });
  });

  it('JSONata: Output of the assigning state still sees the old value', async () => {
    const r = await run(
      ata({
        A: { Type: 'Pass', Assign: { x: 1 }, Next: 'B' },
        B: { Type: 'Pass', Assign: { x: 2, prev: '{% $x %}' }, Output: '{% $x %}', Next: 'C' },
        C: { Type: 'Pass', Output: { x: '{% $x %}', prev: '{% $prev %}' }, End: true },
      }),
    );
    assert.deepEqual(out(r), { x: 2, prev: 1 });
    assert.deepEqual(exits(r, 'B')[0]!.output, '1');
  });

  it('JSONPath: Parameters of the assigning state still see the old value', async () => {
    const r = await run(
      path({
        A: { Type: 'Pass', Assign: { x: 1 }, Next: 'B' },
        B: { Type: 'Pass', Parameters: { 'old.$': '$x' }, Assign: { x: 2 }, Next: 'C' },
        C: { Type: 'Pass', Parameters: { 'x.$': '$x', 'in.$': '$' }, End: true },
      }),
    );
    assert.deepEqual(out(r), { x: 2, in: { old: 1 } });
  });

  it('a variable assigned again keeps only the last value', async () => {
    const r = await run(
      path({
        A: { Type: 'Pass', Assign: { x: 'first' }, Next: 'B' },
        B: { Type: 'Pass', Assign: { x: { now: 'second' } }, Next: 'C' },
        C: { Type: 'Pass', Parameters: { 'x.$': '$x' }, End: true },
      }),
    );
    assert.deepEqual(out(r), { x: { now: 'second' } });
  });
});

describe('Assign: what $ is, per state type', () => {
  it('Pass (JSONPath): $ is the result (Result), before ResultPath/OutputPath; $$ is the context', async () => {
    const r = await run(
      path({
        A: {
          Type: 'Pass',
          Result: { k: 'v' },
          ResultPath: '$.r',
          OutputPath: '$.r',
          Assign: { 'got.$': '$', 'name.$': '$$.State.Name' },
          Next: 'B',
        },
        B: { Type: 'Pass', Parameters: { 'got.$': '$got', 'name.$': '$name', 'in.$': '$' }, End: true },
      }),
      { input: { other: 1 } },
    );
    assert.deepEqual(out(r), { got: { k: 'v' }, name: 'A', in: { k: 'v' } });
  });

  it('Pass (JSONPath): $ is the result of InputPath + Parameters', async () => {
    const r = await run(
      path({
        A: {
          Type: 'Pass',
          InputPath: '$.in',
          Parameters: { 'doubled.$': 'States.MathAdd($.v, $.v)' },
          Assign: { 'd.$': '$.doubled' },
          Next: 'B',
        },
        B: { Type: 'Pass', Parameters: { 'd.$': '$d' }, End: true },
      }),
      { input: { in: { v: 4 } } },
    );
    assert.deepEqual(out(r), { d: 8 });
  });

  it('Task (JSONPath): $ is the result after ResultSelector, before ResultPath and OutputPath', async () => {
    const r = await run(
      path({
        T: {
          Type: 'Task',
          Resource: `${LAMBDA}echo`,
          Parameters: { a: 1 },
          ResultSelector: { 'n.$': '$.n', fixed: 'f' },
          ResultPath: '$.r',
          OutputPath: '$.r',
          Assign: { 'sel.$': '$', 'n.$': '$.n' },
          Next: 'Q',
        },
        Q: { Type: 'Pass', Parameters: { 'sel.$': '$sel', 'n.$': '$n', 'in.$': '$' }, End: true },
      }),
    );
    assert.deepEqual(out(r), { sel: { n: 5, fixed: 'f' }, n: 5, in: { n: 5, fixed: 'f' } });
    assert.deepEqual(exits(r, 'T')[0]!.assignedVariables, { sel: '{"n":5,"fixed":"f"}', n: '5' });
  });

  it('Task (JSONata): Assign sees $states.input and $states.result; Output is separate', async () => {
    const r = await run(
      ata({
        T: {
          Type: 'Task',
          Resource: `${LAMBDA}echo`,
          Arguments: { a: '{% $states.input.v %}' },
          Assign: { res: '{% $states.result.n %}', inp: '{% $states.input.v %}' },
          Output: { o: '{% $states.result.got %}' },
          Next: 'Q',
        },
        Q: {
          Type: 'Pass',
          Output: { res: '{% $res %}', inp: '{% $inp %}', in: '{% $states.input %}' },
          End: true,
        },
      }),
      { input: { v: 7 } },
    );
    assert.deepEqual(out(r), { res: 5, inp: 7, in: { o: { a: 7 } } });
  });

  it('Choice (JSONPath): a matching rule assigns with $ = the effective input (after InputPath)', async () => {
    const def = path({
      C: {
        Type: 'Choice',
        InputPath: '$.in',
        Choices: [{ Variable: '$.v', NumericEquals: 1, Assign: { branch: 'one', 'eff.$': '$' }, Next: 'D' }],
        Default: 'D',
        Assign: { branch: 'default', 'eff.$': '$.v' },
      },
      D: { Type: 'Pass', Parameters: { 'b.$': '$branch', 'e.$': '$eff' }, End: true },
    });
    assert.deepEqual(out(await run(def, { input: { in: { v: 1 } } })), { b: 'one', e: { v: 1 } });
    // No rule matches: the state-level Assign goes with Default.
    assert.deepEqual(out(await run(def, { input: { in: { v: 2 } } })), { b: 'default', e: 2 });
  });

  it('Choice (JSONata): rule Assign or, for Default, the state-level Assign', async () => {
    const def = ata({
      C: {
        Type: 'Choice',
        Choices: [{ Condition: '{% $states.input.v = 1 %}', Assign: { branch: 'one' }, Next: 'D' }],
        Default: 'D',
        Assign: { branch: '{% "default-" & $states.input.v %}' },
      },
      D: { Type: 'Pass', Output: '{% $branch %}', End: true },
    });
    assert.equal(out(await run(def, { input: { v: 1 } })), 'one');
    assert.equal(out(await run(def, { input: { v: 3 } })), 'default-3');
  });

  it('Wait (JSONPath): $ is the effective input; the variables are set when the state exits', async () => {
    const r = await run(
      path({
        W: { Type: 'Wait', Seconds: 0, InputPath: '$.in', Assign: { 'w.$': '$' }, Next: 'D' },
        D: { Type: 'Pass', Parameters: { 'w.$': '$w' }, End: true },
      }),
      { input: { in: { v: 1 } } },
    );
    assert.deepEqual(out(r), { w: { v: 1 } });
    assert.deepEqual(exits(r, 'W')[0]!.assignedVariables, { w: '{"v":1}' });
  });

  it('Wait (JSONata): Assign next to a Seconds expression', async () => {
    const r = await run(
      ata({
        W: {
          Type: 'Wait',
          Seconds: '{% $states.input.s %}',
          Assign: { w: '{% $states.input.s + 1 %}' },
          Next: 'D',
        },
        D: { Type: 'Pass', Output: '{% $w %}', End: true },
      }),
      { input: { s: 0 } },
    );
    assert.equal(out(r), 1);
  });

  it('Parallel (JSONPath): $ is the branches result after ResultSelector', async () => {
    const r = await run(
      path({
        P: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'B1', States: { B1: { Type: 'Pass', Result: 'r1', End: true } } },
            { StartAt: 'B2', States: { B2: { Type: 'Pass', Result: 'r2', End: true } } },
          ],
          ResultSelector: { 'first.$': '$[0]' },
          Assign: { 'pr.$': '$.first' },
          Next: 'D',
        },
        D: { Type: 'Pass', Parameters: { 'pr.$': '$pr' }, End: true },
      }),
    );
    assert.deepEqual(out(r), { pr: 'r1' });
  });

  it('Map (JSONata): Items, ItemSelector, and Assign over $states.result', async () => {
    const r = await run(
      ata({
        M: {
          Type: 'Map',
          Items: '{% [1, 2, 3] %}',
          ItemSelector: { v: '{% $states.context.Map.Item.Value * 10 %}' },
          ItemProcessor: {
            StartAt: 'I',
            States: { I: { Type: 'Pass', Output: '{% $states.input.v %}', End: true } },
          },
          Assign: { total: '{% $sum($states.result) %}' },
          Output: '{% $states.result %}',
          Next: 'D',
        },
        D: { Type: 'Pass', Output: { t: '{% $total %}', r: '{% $states.input %}' }, End: true },
      }),
    );
    assert.deepEqual(out(r), { t: 60, r: [10, 20, 30] });
  });

  it('Map (JSONPath): ItemsPath may read a variable', async () => {
    const r = await run(
      path({
        A: { Type: 'Pass', Assign: { xs: [1, 2, 3] }, Next: 'M' },
        M: {
          Type: 'Map',
          ItemsPath: '$xs',
          ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
          End: true,
        },
      }),
    );
    assert.deepEqual(out(r), [1, 2, 3]);
  });

  it('Fail (JSONPath): ErrorPath and CausePath read variables', async () => {
    const r = await run(
      path({
        A: { Type: 'Pass', Assign: { e: 'MyError', c: 'my cause' }, Next: 'F' },
        F: { Type: 'Fail', ErrorPath: '$e', CausePath: '$c' },
      }),
    );
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'MyError');
    assert.equal(r.cause, 'my cause');
  });
});

describe('Assign: scopes', () => {
  it('Map iterations read outer variables; their own assignments stay inside', async () => {
    const r = await run(
      path({
        A: { Type: 'Pass', Assign: { x: 'outer' }, Next: 'M' },
        M: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: {
            StartAt: 'I',
            States: {
              I: { Type: 'Pass', Assign: { 'y.$': '$', 'seenX.$': '$x' }, Next: 'J' },
              J: { Type: 'Pass', Parameters: { 'y.$': '$y', 'x.$': '$seenX' }, End: true },
            },
          },
          Next: 'After',
        },
        After: { Type: 'Pass', Parameters: { 'x.$': '$x', 'out.$': '$' }, Next: 'ReadInner' },
        ReadInner: { Type: 'Pass', Parameters: { 'y.$': '$y' }, End: true },
      }),
      { input: { items: [1, 2] } },
    );
    // The iteration's variable `y` is gone after the Map.
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'States.Runtime');
    assert.match(
      r.cause ?? '',
      /'ReadInner'.*The JSONPath '\$y' specified for the field 'y\.\$' could not be found/,
    );
    assert.deepEqual(
      exits(r, 'After')[0]!.output,
      '{"x":"outer","out":[{"y":1,"x":"outer"},{"y":2,"x":"outer"}]}',
    );
  });

  it('an iteration assigning an outer name leaves the outer value as it was', async () => {
    // AWS refuses this definition at creation (an inner scope may not reuse an outer name: see the
    // todo under "Variable names"); Stepwise runs it, and must still keep the scopes apart.
    const r = await run(
      ata({
        A: { Type: 'Pass', Assign: { x: 'outer' }, Next: 'M' },
        M: {
          Type: 'Map',
          Items: [1, 2],
          ItemProcessor: {
            StartAt: 'I',
            States: {
              I: { Type: 'Pass', Assign: { x: '{% "inner-" & $states.input %}' }, Next: 'J' },
              J: { Type: 'Pass', Output: '{% $x %}', End: true },
            },
          },
          Output: '{% $states.result %}',
          Next: 'After',
        },
        After: { Type: 'Pass', Output: { x: '{% $x %}', seen: '{% $states.input %}' }, End: true },
      }),
    );
    assert.deepEqual(out(r), { x: 'outer', seen: ['inner-1', 'inner-2'] });
  });

  it('concurrent Map iterations each keep their own value', async () => {
    const r = await run(
      ata({
        M: {
          Type: 'Map',
          Items: [1, 2, 3],
          ItemProcessor: {
            StartAt: 'I',
            States: {
              I: { Type: 'Pass', Assign: { mine: '{% $states.input %}' }, Next: 'W' },
              W: { Type: 'Wait', Seconds: 1, Next: 'R' },
              R: { Type: 'Pass', Output: '{% $mine %}', End: true },
            },
          },
          End: true,
        },
      }),
    );
    assert.deepEqual(out(r), [1, 2, 3]);
  });

  it('Parallel branches read outer variables but not each other’s', async () => {
    const r = await run(
      path({
        A: { Type: 'Pass', Assign: { x: 42 }, Next: 'P' },
        P: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'B1',
              States: { B1: { Type: 'Pass', Assign: { y: 1, 'innerX.$': '$x' }, End: true } },
            },
            {
              StartAt: 'W',
              States: {
                W: { Type: 'Wait', Seconds: 1, Next: 'B2' },
                B2: { Type: 'Pass', Parameters: { 'y.$': '$y' }, End: true },
              },
            },
          ],
          End: true,
        },
      }),
    );
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'States.Runtime');
    assert.match(r.cause ?? '', /'B2'.*The JSONPath '\$y'/);
    assert.deepEqual(exits(r, 'B1')[0]!.assignedVariables, { y: '1', innerX: '42' });
  });

  it('a Parallel branch’s variables are gone after the Parallel', async () => {
    const r = await run(
      path({
        P: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'B', States: { B: { Type: 'Pass', Assign: { y: 1 }, End: true } } }],
          Next: 'After',
        },
        After: { Type: 'Pass', Parameters: { 'y.$': '$y' }, End: true },
      }),
    );
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'States.Runtime');
    assert.match(r.cause ?? '', /'After'/);
  });

  it('a Catch on a Parallel assigns in the outer scope, with $ = the error output (JSONPath)', async () => {
    const r = await run(
      path({
        A: { Type: 'Pass', Assign: { x: 'old' }, Next: 'P' },
        P: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'B',
              States: {
                B: { Type: 'Pass', Assign: { inner: 1 }, Next: 'F' },
                F: { Type: 'Fail', Error: 'E1', Cause: 'c1' },
              },
            },
          ],
          Catch: [
            {
              ErrorEquals: ['States.ALL'],
              Assign: { 'x.$': '$.Error', 'c.$': '$.Cause' },
              ResultPath: '$.err',
              Next: 'After',
            },
          ],
          Next: 'After',
        },
        After: { Type: 'Pass', Parameters: { 'x.$': '$x', 'c.$': '$c', 'in.$': '$' }, End: true },
      }),
      { input: { k: 1 } },
    );
    assert.deepEqual(out(r), { x: 'E1', c: 'c1', in: { k: 1, err: { Error: 'E1', Cause: 'c1' } } });
    assert.deepEqual(exits(r, 'P')[0]!.assignedVariables, { x: '"E1"', c: '"c1"' });
  });

  it('a Catch on a Map assigns in the outer scope from $states.errorOutput (JSONata)', async () => {
    const r = await run(
      ata({
        A: { Type: 'Pass', Assign: { x: 'old' }, Next: 'M' },
        M: {
          Type: 'Map',
          Items: [1],
          ItemProcessor: { StartAt: 'F', States: { F: { Type: 'Fail', Error: 'E1', Cause: 'c1' } } },
          Catch: [
            {
              ErrorEquals: ['States.ALL'],
              Assign: { x: '{% $states.errorOutput.Error %}', seen: '{% $x %}' },
              Output: '{% $states.errorOutput %}',
              Next: 'After',
            },
          ],
          Next: 'After',
        },
        After: {
          Type: 'Pass',
          Output: { x: '{% $x %}', seen: '{% $seen %}', in: '{% $states.input %}' },
          End: true,
        },
      }),
    );
    assert.deepEqual(out(r), { x: 'E1', seen: 'old', in: { Error: 'E1', Cause: 'c1' } });
  });

  it('a Catch on a Task inside a Map iteration assigns in the iteration’s scope', async () => {
    const r = await run(
      ata({
        M: {
          Type: 'Map',
          Items: [1, 2],
          ItemProcessor: {
            StartAt: 'T',
            States: {
              T: {
                Type: 'Task',
                Resource: `${LAMBDA}boom`,
                Catch: [
                  {
                    ErrorEquals: ['States.ALL'],
                    Assign: { err: '{% $states.errorOutput.Error %}' },
                    Next: 'R',
                  },
                ],
                End: true,
              },
              R: { Type: 'Pass', Output: '{% $err & $states.input.Error %}', End: true },
            },
          },
          Next: 'After',
        },
        After: { Type: 'Pass', Output: '{% $exists($err) %}', End: true },
      }),
    );
    assert.equal(out(r), false);
  });

  it('distributed Map children do not see outer variables (JSONPath: States.Runtime)', async () => {
    const r = await run(
      path({
        A: { Type: 'Pass', Assign: { x: 1 }, Next: 'M' },
        M: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
            StartAt: 'I',
            States: { I: { Type: 'Pass', Parameters: { 'v.$': '$x' }, End: true } },
          },
          End: true,
        },
      }),
      { input: { items: [1, 2] } },
    );
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'States.Runtime');
    assert.match(r.cause ?? '', /The JSONPath '\$x'/);
    assert.ok(eventTypes(r).includes('MapRunFailed'));
  });

  it('distributed Map children do not see outer variables (JSONata: States.QueryEvaluationError)', async () => {
    const r = await run(
      ata({
        A: { Type: 'Pass', Assign: { x: 1 }, Next: 'M' },
        M: {
          Type: 'Map',
          Items: [1, 2],
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
            StartAt: 'I',
            States: { I: { Type: 'Pass', Output: '{% $x %}', End: true } },
          },
          End: true,
        },
      }),
    );
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'States.QueryEvaluationError');
    assert.match(r.cause ?? '', /'\$x' specified for the field 'Output' returned nothing/);
  });

  it('an inline Map child can still read the same variable (control for the distributed case)', async () => {
    const r = await run(
      ata({
        A: { Type: 'Pass', Assign: { x: 1 }, Next: 'M' },
        M: {
          Type: 'Map',
          Items: [1, 2],
          ItemProcessor: {
            StartAt: 'I',
            States: { I: { Type: 'Pass', Output: '{% $x + $states.input %}', End: true } },
          },
          End: true,
        },
      }),
    );
    assert.deepEqual(out(r), [2, 3]);
  });
});

describe('Assign: history', () => {
  it('assignedVariables holds JSON texts, with assignedVariablesDetails', async () => {
    const r = await run(
      path({
        A: { Type: 'Pass', Assign: { n: 42, s: 'str', o: { a: [1, null] }, t: true, z: null }, End: true },
      }),
    );
    const d = exits(r, 'A')[0]!;
    assert.deepEqual(d.assignedVariables, { n: '42', s: '"str"', o: '{"a":[1,null]}', t: 'true', z: 'null' });
    assert.deepEqual(d.assignedVariablesDetails, { truncated: false });
  });

  it('an empty Assign records no assignedVariables', async () => {
    for (const def of [
      path({ A: { Type: 'Pass', Assign: {}, End: true } }),
      ata({ A: { Type: 'Pass', Assign: {}, End: true } }),
    ]) {
      const d = exits(await run(def), 'A')[0]!;
      assert.equal('assignedVariables' in d, false);
      assert.equal('assignedVariablesDetails' in d, false);
    }
  });

  it('a state without Assign records none', async () => {
    const d = exits(await run(path({ A: { Type: 'Pass', End: true } })), 'A')[0]!;
    assert.equal('assignedVariables' in d, false);
  });
});

describe('Reading an undefined variable', () => {
  it('JSONata: States.QueryEvaluationError with an EvaluationFailed event', async () => {
    const r = await run(
      ata({ State0: { Type: 'Pass', Assign: { result: '{% $doesNotExist %}' }, End: true } }),
    );
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'States.QueryEvaluationError');
    assert.equal(
      r.cause,
      "An error occurred while executing the state 'State0' (entered at the event id #2). " +
        "The JSONata expression '$doesNotExist' specified for the field 'Assign/result' returned nothing (undefined).",
    );
    assert.deepEqual(eventTypes(r), [
      'ExecutionStarted',
      'PassStateEntered',
      'EvaluationFailed',
      'ExecutionFailed',
    ]);
    const failed = r.events!.find((e) => e.type === 'EvaluationFailed')!;
    assert.deepEqual(failed.evaluationFailedEventDetails, {
      error: 'States.QueryEvaluationError',
      cause: r.cause,
      location: 'Assign/result',
      state: 'State0',
    });
  });

  it('JSONPath: States.Runtime, no EvaluationFailed event', async () => {
    const r = await run(path({ A: { Type: 'Pass', Parameters: { 'x.$': '$nope' }, End: true } }), {
      input: { k: 1 },
    });
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'States.Runtime');
    assert.equal(
      r.cause,
      "An error occurred while executing the state 'A' (entered at the event id #2). " +
        "The JSONPath '$nope' specified for the field 'x.$' could not be found in the input '{\"k\":1}'",
    );
    assert.equal(eventTypes(r).includes('EvaluationFailed'), false);
  });

  it('States.ALL does not catch the States.Runtime of an undefined JSONPath variable', async () => {
    const r = await run(
      path({
        T: {
          Type: 'Task',
          Resource: `${LAMBDA}echo`,
          Parameters: { 'x.$': '$nope' },
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
          End: true,
        },
        Caught: { Type: 'Succeed' },
      }),
    );
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'States.Runtime');
  });
});

describe('Mixed query languages', () => {
  it('a JSONPath machine runs a JSONata state, sharing variables both ways', async () => {
    const r = await run(
      path({
        A: { Type: 'Pass', Assign: { 'x.$': '$.v' }, Next: 'B' },
        B: {
          Type: 'Pass',
          QueryLanguage: 'JSONata',
          Assign: { y: '{% $x * 2 %}' },
          Output: { x: '{% $x %}' },
          Next: 'C',
        },
        C: { Type: 'Pass', Parameters: { 'y.$': '$y', 'in.$': '$' }, End: true },
      }),
      { input: { v: 3 } },
    );
    assert.deepEqual(out(r), { y: 6, in: { x: 3 } });
  });

  it('a JSONata machine rejects a JSONPath state at compile time', () => {
    assert.throws(
      () => StateMachine.fromDefinition(ata({ A: { Type: 'Pass', QueryLanguage: 'JSONPath', End: true } })),
      (e: unknown) => e instanceof DefinitionError && /QueryLanguage/.test(e.message),
    );
  });

  it('JSONPath fields are refused in a JSONata state, and JSONata fields in a JSONPath one', () => {
    assert.throws(
      () => StateMachine.fromDefinition(ata({ A: { Type: 'Pass', Parameters: {}, End: true } })),
      DefinitionError,
    );
    assert.throws(
      () => StateMachine.fromDefinition(path({ A: { Type: 'Pass', Output: {}, End: true } })),
      DefinitionError,
    );
  });
});

describe('JSONata functions through a real state', () => {
  it('$partition', async () => {
    assert.deepEqual(out(await run(expr('{% $partition([1,2,3,4,5], 2) %}'))), [[1, 2], [3, 4], [5]]);
  });

  it('$range (a one-element range is a single value, as on AWS)', async () => {
    assert.deepEqual(out(await run(expr('{% $range(0, 10, 3) %}'))), [0, 3, 6, 9]);
    assert.equal(out(await run(expr('{% $range(1, 9, 9) %}'))), 1);
  });

  it('$hash', async () => {
    assert.equal(
      out(await run(expr('{% $hash("abc", "SHA-256") %}'))),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    assert.equal(out(await run(expr('{% $hash("abc", "MD5") %}'))), '900150983cd24fb0d6963f7d28e17f72');
  });

  it('$random(seed) is deterministic; $random() uses the injected source', async () => {
    const seeded = out(await run(expr('{% [$random(42), $random(42), $random(7)] %}'))) as number[];
    assert.equal(seeded[0], seeded[1]);
    assert.notEqual(seeded[0], seeded[2]);
    for (const v of seeded) assert.ok(v >= 0 && v < 1);
    const again = out(await run(expr('{% [$random(42), $random(42), $random(7)] %}')));
    assert.deepEqual(again, seeded);
    assert.equal(out(await run(expr('{% $random() %}'), { random: () => 0.25 })), 0.25);
  });

  it('$uuid gives a version 4 UUID, fresh on each call', async () => {
    const [a, b] = out(await run(expr('{% [$uuid(), $uuid()] %}'))) as string[];
    const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    assert.match(a!, v4);
    assert.match(b!, v4);
    assert.notEqual(a, b);
  });

  it('$parse, and a parse failure is States.QueryEvaluationError', async () => {
    assert.deepEqual(out(await run(expr('{% $parse("{\\"a\\":[1,2]}") %}'))), { a: [1, 2] });
    const bad = await run(expr('{% $parse("{bad") %}'));
    assert.equal(bad.status, 'FAILED');
    assert.equal(bad.error, 'States.QueryEvaluationError');
  });

  it('$eval is unavailable', async () => {
    const r = await run(expr('{% $eval("1 + 1") %}'));
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'States.QueryEvaluationError');
    assert.match(r.cause ?? '', /T1006: Attempted to invoke a non-function/);
  });

  it('variables are bound by name in every field', async () => {
    const r = await run(
      ata({
        A: { Type: 'Pass', Assign: { xs: [3, 1, 2], k: 'key' }, Next: 'B' },
        B: { Type: 'Pass', Output: { '{% $k %}': 'literal key', sorted: '{% $sort($xs) %}' }, End: true },
      }),
    );
    // Keys are literal: only values are templates.
    assert.deepEqual(out(r), { '{% $k %}': 'literal key', sorted: [1, 2, 3] });
  });
});

describe('JSONata safety through a real state', () => {
  const unpolluted = () => {
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  };

  for (const [name, e] of [
    ['$string.constructor', '{% $string.constructor %}'],
    ['Function via constructor.constructor', '{% $string.constructor.constructor("return process")() %}'],
    ['__proto__ of the input', '{% $states.input.__proto__ %}'],
    ['$lookup of __proto__', '{% $lookup({}, "__proto__") %}'],
    [
      '$merge with a __proto__ key',
      '{% ($o := {"__proto__": {"polluted": 1}}; $merge([{}, $o]).polluted) %}',
    ],
  ] as const) {
    it(`${name}: fails or yields nothing, no pollution`, async () => {
      const r = await run(expr(e), { input: { k: 1 } });
      unpolluted();
      if (r.status === 'SUCCEEDED') {
        assert.notEqual(typeof r.outputValue, 'function');
        assert.doesNotMatch(r.output ?? '', /process|polluted/);
      } else {
        assert.equal(r.error, 'States.QueryEvaluationError');
      }
    });
  }

  it('a transform writing __proto__ does not pollute Object.prototype', async () => {
    const r = await run(expr('{% $states.input ~> |$|{"__proto__": {"polluted": "yes"}}| %}'), {
      input: { k: 1 },
    });
    unpolluted();
    if (r.status === 'SUCCEEDED') assert.equal((r.outputValue as JsonObject).k, 1);
  });

  it('a variable named by a JSON "__proto__" key is plain data', async () => {
    const r = await run(
      ata({
        A: {
          Type: 'Pass',
          Assign: { obj: '{% $parse("{\\"__proto__\\": {\\"polluted\\": true}}") %}' },
          Next: 'B',
        },
        B: { Type: 'Pass', Output: '{% $obj %}', End: true },
      }),
    );
    unpolluted();
    assert.equal(r.status, 'SUCCEEDED');
    assert.equal(Object.getPrototypeOf(r.outputValue), Object.prototype);
  });

  it('a runaway (non-tail) recursion fails with States.QueryEvaluationError in bounded time', async () => {
    const t0 = Date.now();
    const r = await run(expr('{% ($f := function($n) { 1 + $f($n + 1) }; $f(0)) %}'));
    assert.ok(Date.now() - t0 < 10_000);
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'States.QueryEvaluationError');
    assert.ok(eventTypes(r).includes('EvaluationFailed'));
  });

  it('a runaway tail recursion (an endless loop) fails with States.QueryEvaluationError in bounded time', async () => {
    const t0 = Date.now();
    const r = await run(expr('{% ($f := function($n) { $n < 0 ? $n : $f($n + 1) }; $f(0)) %}'));
    assert.ok(Date.now() - t0 < 10_000);
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'States.QueryEvaluationError');
  });

  it('the evaluation time bound is per expression, not shared by concurrent ItemSelector evaluations', async () => {
    // Together the evaluations take several seconds (well past the 1 s bound), each one a small
    // fraction of it even on a loaded machine.
    const items = 40;
    const each = '$count($filter($range(1, 4000, 1), function($v) { $v % 7 = 0 }))';
    // One evaluation alone is far below the bound…
    const t0 = Date.now();
    assert.equal(out(await run(expr(`{% ${each} %}`))), 571);
    const single = Date.now() - t0;
    // …so forty of them must not time out just for running one after the other.
    const r = await run(
      ata({
        M: {
          Type: 'Map',
          Items: `{% [1..${items}] %}`,
          ItemSelector: { c: `{% ${each} %}` },
          ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
          End: true,
        },
      }),
      { history: false },
    );
    assert.equal(r.status, 'SUCCEEDED', `${r.cause ?? ''} (one evaluation alone took ${single} ms)`);
  });
});

describe('Variable names', () => {
  it('a name of 80 characters is accepted, 81 refused', async () => {
    assert.equal(
      (await run(path({ A: { Type: 'Pass', Assign: { ['a'.repeat(80)]: 1 }, End: true } }))).status,
      'SUCCEEDED',
    );
    assert.throws(
      () =>
        StateMachine.fromDefinition(
          path({ A: { Type: 'Pass', Assign: { ['a'.repeat(81)]: 1 }, End: true } }),
        ),
      DefinitionError,
    );
  });

  it('a part of a variable cannot be assigned (x.y, x[2])', () => {
    for (const key of ['x.y', 'x[2]']) {
      assert.throws(
        () => StateMachine.fromDefinition(path({ A: { Type: 'Pass', Assign: { [key]: 1 }, End: true } })),
        DefinitionError,
      );
    }
  });

  it('Unicode identifiers are valid variable names', async () => {
    const r = await run(
      ata({
        A: { Type: 'Pass', Assign: { café: 1 }, Next: 'B' },
        B: { Type: 'Pass', Output: '{% $café + 1 %}', End: true },
      }),
    );
    assert.equal(out(r), 2);
  });

  it("'states' is reserved: fromDefinition refuses Assign { states }", () => {
    assert.throws(
      () => StateMachine.fromDefinition(path({ A: { Type: 'Pass', Assign: { states: 1 }, End: true } })),
      DefinitionError,
    );
  });

  it("the validator refuses the reserved name 'states'", () => {
    const d = validateDefinition(path({ A: { Type: 'Pass', Assign: { states: 1 }, End: true } }));
    assert.ok(d.some((x) => x.severity === 'ERROR' && /reserved/.test(x.message)));
  });

  it('an inner scope may not assign a variable the outer scope assigns', () => {
    const def = path({
      A: { Type: 'Pass', Assign: { x: 1 }, Next: 'M' },
      M: {
        Type: 'Map',
        ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', Assign: { x: 2 }, End: true } } },
        End: true,
      },
    });
    const d = validateDefinition(def);
    assert.ok(
      d.some((x) => x.severity === 'ERROR'),
      JSON.stringify(d),
    );
  });
});

describe('Variable size limits (AWS: 256 KiB per variable and per Assign, 10 MiB per execution)', () => {
  // workflow-variables.html "Limits". The page names no error; States.DataLimitExceeded is the
  // error AWS documents for payloads over its size quotas.
  const KIB = 1024;

  it('a variable under 256 KiB is stored and read back whole', async () => {
    const r = await run(
      ata({
        A: { Type: 'Pass', Assign: { v: `{% $pad("", ${200 * KIB}, "x") %}` }, Next: 'B' },
        B: { Type: 'Pass', Output: '{% $length($v) %}', End: true },
      }),
      { history: false },
    );
    assert.equal(out(r), 200 * KIB);
  });

  it('a single variable over 256 KiB fails the state', async () => {
    const r = await run(
      ata({
        A: { Type: 'Pass', Assign: { v: '{% $pad("", 300000, "x") %}' }, Output: 'small', End: true },
      }),
      { history: false },
    );
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'States.DataLimitExceeded');
  });

  it('one Assign over 256 KiB in total fails the state, though each variable is under 256 KiB', async () => {
    const r = await run(
      ata({
        A: {
          Type: 'Pass',
          Assign: { a: '{% $pad("", 150000, "x") %}', b: '{% $pad("", 150000, "y") %}' },
          Output: 'small',
          End: true,
        },
      }),
      { history: false },
    );
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'States.DataLimitExceeded');
  });

  it('more than 10 MiB of variables in one execution fails', async () => {
    const states: JsonObject = {};
    const n = 44;
    for (let i = 0; i < n; i++) {
      states[`S${i}`] = {
        Type: 'Pass',
        Assign: { [`v${i}`]: '{% $pad("", 250000, "x") %}' },
        ...(i + 1 < n ? { Next: `S${i + 1}` } : { End: true }),
      };
    }
    const r = await run(ata(states, 'S0'), { history: false });
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'States.DataLimitExceeded');
  });
});
