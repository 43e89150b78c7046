// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { JsonObject, JsonValue } from '../../language/json.js';
import type { LambdaHandler } from './index.js';
import { DefinitionError, InvalidExecutionInputError, runStateMachine, StateMachine } from './index.js';

const passThrough: JsonObject = { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } };

function nested(depth: number): JsonValue {
  let v: JsonValue = { leaf: true };
  for (let i = 0; i < depth; i++) v = { a: v, i };
  return v;
}

describe('StateMachine.run', () => {
  it('returns the output as JSON text, with ARNs and dates', async () => {
    const sm = StateMachine.fromDefinition(
      { StartAt: 'P', States: { P: { Type: 'Pass', Result: { a: 1, b: [true, null] }, End: true } } },
      { name: 'Calc', region: 'eu-west-1', account: '111122223333' },
    );
    const r = await sm.run({ executionName: 'run-1' });
    assert.equal(r.status, 'SUCCEEDED');
    assert.equal(typeof r.output, 'string');
    assert.equal(r.output, '{"a":1,"b":[true,null]}');
    assert.deepEqual(r.outputValue, { a: 1, b: [true, null] });
    assert.equal(r.stateMachineArn, 'arn:aws:states:eu-west-1:111122223333:stateMachine:Calc');
    assert.equal(r.executionArn, 'arn:aws:states:eu-west-1:111122223333:execution:Calc:run-1');
    assert.ok(r.startDate instanceof Date && r.stopDate instanceof Date);
    assert.ok(r.stopDate.getTime() >= r.startDate.getTime());
    assert.equal(r.error, undefined);
  });

  it('is enumerable and JSON-serialisable like a plain result', async () => {
    const r = await StateMachine.fromDefinition(passThrough).run({ input: { k: 'v' } });
    const plain = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
    assert.equal(plain.output, '{"k":"v"}');
    assert.ok(Object.keys(r).includes('output'));
  });

  it('a scalar output is JSON text too', async () => {
    const sm = StateMachine.fromDefinition({
      StartAt: 'P',
      States: { P: { Type: 'Pass', Result: 'text', End: true } },
    });
    assert.equal((await sm.run()).output, '"text"');
    const nul = StateMachine.fromDefinition({
      StartAt: 'P',
      States: { P: { Type: 'Pass', Result: null, End: true } },
    });
    assert.equal((await nul.run()).output, 'null');
  });

  it('defaults the input to {}', async () => {
    assert.equal((await StateMachine.fromDefinition(passThrough).run()).output, '{}');
  });

  it('keeps the text of an input passed through unchanged (inputIsText)', async () => {
    const r = await StateMachine.fromDefinition(passThrough).run({
      input: '[1,  2, {"a" : 3}]',
      inputIsText: true,
    });
    assert.equal(r.output, '[1,  2, {"a" : 3}]');
    assert.deepEqual(r.outputValue, [1, 2, { a: 3 }]);
  });

  it('runs Lambda functions from a map, by name or ARN', async () => {
    const double: LambdaHandler = (e) => ((e as JsonObject).n as number) * 2;
    const r = await runStateMachine(
      {
        StartAt: 'A',
        States: {
          A: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:123456789012:function:double',
            ResultPath: '$.n',
            Next: 'B',
          },
          B: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: 'double', 'Payload.$': '$' },
            OutputPath: '$.Payload',
            End: true,
          },
        },
      },
      { input: { n: 5 }, functions: { double } },
    );
    assert.equal(r.status, 'SUCCEEDED');
    assert.equal(r.output, '20');
  });

  it('reports failures with error and cause, and no output', async () => {
    const r = await StateMachine.fromDefinition({
      StartAt: 'F',
      States: { F: { Type: 'Fail', Error: 'Oops', Cause: 'because' } },
    }).run();
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'Oops');
    assert.equal(r.cause, 'because');
    assert.equal(r.output, undefined);
    assert.equal(r.outputValue, undefined);
  });

  it('returns history events in wire form (payloads as text, Date timestamps)', async () => {
    const r = await StateMachine.fromDefinition(passThrough).run({ input: { a: 1 } });
    assert.ok(r.events);
    assert.deepEqual(
      r.events.map((e) => e.type),
      ['ExecutionStarted', 'PassStateEntered', 'PassStateExited', 'ExecutionSucceeded'],
    );
    const started = r.events[0]!;
    assert.ok(started.timestamp instanceof Date);
    assert.equal((started.executionStartedEventDetails as Record<string, unknown>).input, '{"a":1}');
    r.events.forEach((e, i) => assert.equal(e.id, i + 1));
  });

  it('history: false leaves out the events', async () => {
    const r = await StateMachine.fromDefinition(passThrough).run({ history: false });
    assert.equal(r.events, undefined);
    assert.equal(r.status, 'SUCCEEDED');
  });

  it('waitScale 0 skips waits', async () => {
    const started = Date.now();
    const r = await StateMachine.fromDefinition({
      StartAt: 'W',
      States: { W: { Type: 'Wait', Seconds: 3600, End: true } },
    }).run({ waitScale: 0 });
    assert.equal(r.status, 'SUCCEEDED');
    assert.ok(Date.now() - started < 3000);
    assert.ok(r.stopDate.getTime() - r.startDate.getTime() >= 3_600_000);
  });

  it('a compiled machine can run many times, independently', async () => {
    const sm = StateMachine.fromDefinition(passThrough);
    const [a, b] = await Promise.all([sm.run({ input: { x: 1 } }), sm.run({ input: { x: 2 } })]);
    assert.equal(a.output, '{"x":1}');
    assert.equal(b.output, '{"x":2}');
    assert.notEqual(a.executionArn, b.executionArn);
  });
});

describe('invalid input', () => {
  it('input text that is not JSON rejects with InvalidExecutionInputError', async () => {
    const sm = StateMachine.fromDefinition(passThrough);
    for (const text of ['{', '{"a": }', '', 'undefined', "{'a': 1}"]) {
      await assert.rejects(sm.run({ input: text, inputIsText: true }), (e: unknown) => {
        assert.ok(e instanceof InvalidExecutionInputError, `for ${JSON.stringify(text)}: ${String(e)}`);
        assert.equal(e.name, 'InvalidExecutionInputError');
        assert.match(e.message, /Invalid State Machine Execution Input/);
        return true;
      });
    }
  });

  it('inputIsText with a non-string input rejects with InvalidExecutionInputError', async () => {
    await assert.rejects(
      StateMachine.fromDefinition(passThrough).run({ input: { a: 1 }, inputIsText: true }),
      InvalidExecutionInputError,
    );
  });

  it('a JSON string that is text without inputIsText is just a string input', async () => {
    const r = await StateMachine.fromDefinition(passThrough).run({ input: '{' });
    assert.equal(r.output, '"{"');
  });
});

describe('definition errors', () => {
  const cases: [string, JsonValue, string][] = [
    [
      'a missing Next target',
      { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' } } },
      '/States/A/Next',
    ],
    ['a missing StartAt target', { StartAt: 'Nope', States: { A: { Type: 'Pass', End: true } } }, '/StartAt'],
    [
      'an unknown state type',
      { StartAt: 'A', States: { A: { Type: 'Dance', End: true } } },
      '/States/A/Type',
    ],
    [
      'an unknown field',
      { StartAt: 'A', States: { A: { Type: 'Pass', End: true, Bogus: 1 } } },
      '/States/A/Bogus',
    ],
    [
      'a bad retrier inside a Map',
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            ItemProcessor: {
              StartAt: 'T',
              States: { T: { Type: 'Task', Resource: 'arn:x', Retry: [{ ErrorEquals: [] }], End: true } },
            },
            End: true,
          },
        },
      },
      '/States/M/ItemProcessor/States/T/Retry/0',
    ],
    [
      'a state name with a slash (escaped in the pointer)',
      { StartAt: 'a/b', States: { 'a/b': { Type: 'Pass', Next: 'x~y' } } },
      '/States/a~1b/Next',
    ],
  ];
  for (const [what, def, location] of cases) {
    it(`${what} → DefinitionError at ${location}`, () => {
      assert.throws(
        () => StateMachine.fromDefinition(def),
        (e: unknown) => {
          assert.ok(e instanceof DefinitionError, String(e));
          assert.equal(e.location, location);
          assert.ok(e.message.includes(location));
          return true;
        },
      );
    });
  }

  it('definition text that is not JSON is a DefinitionError', () => {
    assert.throws(
      () => StateMachine.fromDefinition('{"StartAt": '),
      (e: unknown) => e instanceof DefinitionError && e.code === 'INVALID_JSON_DESCRIPTION',
    );
  });

  it('accepts YAML text with substitutions', async () => {
    const sm = StateMachine.fromDefinition(
      'StartAt: P\nStates:\n  P:\n    Type: Pass\n    Result: ${Value}\n    End: true\n',
      { substitutions: { Value: 'substituted' } },
    );
    assert.equal((await sm.run()).output, '"substituted"');
  });
});

describe('hostile and large input', () => {
  it('"__proto__" keys survive as own properties and do not pollute Object.prototype', async () => {
    const def: JsonObject = {
      StartAt: 'P',
      States: {
        P: {
          Type: 'Pass',
          Parameters: { 'copied.$': '$.__proto__', 'whole.$': '$' },
          ResultPath: '$.out',
          Next: 'Q',
        },
        Q: { Type: 'Pass', Result: { polluted: 'yes' }, ResultPath: '$.__proto__', End: true },
      },
    };
    const r = await StateMachine.fromDefinition(def).run({
      input: '{"__proto__": {"polluted": "no"}, "a": 1}',
      inputIsText: true,
    });
    assert.equal(r.status, 'SUCCEEDED', `${r.error}: ${r.cause}`);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is untouched');
    const out = r.outputValue as JsonObject;
    assert.ok(Object.prototype.hasOwnProperty.call(out, '__proto__'));
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { polluted: 'yes' });
    const copied = (out.out as JsonObject).copied as JsonObject;
    assert.deepEqual({ ...copied }, { polluted: 'no' });
    const whole = (out.out as JsonObject).whole as JsonObject;
    assert.ok(Object.prototype.hasOwnProperty.call(whole, '__proto__'));
    // The text form keeps the key too.
    const reparsed = JSON.parse(r.output ?? '') as Record<string, unknown>;
    assert.ok(Object.prototype.hasOwnProperty.call(reparsed, '__proto__'));
    assert.match(r.output ?? '', /"__proto__":\{"polluted":"yes"\}/);
  });

  it('"__proto__" keys reach a Lambda handler and come back as own properties', async () => {
    let seen: unknown;
    const r = await runStateMachine(
      {
        StartAt: 'T',
        States: {
          T: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:f', End: true },
        },
      },
      {
        input: '{"__proto__": {"x": 1}}',
        inputIsText: true,
        functions: {
          f: (e) => {
            seen = e;
            return JSON.parse('{"__proto__": {"y": 2}}') as JsonValue;
          },
        },
      },
    );
    assert.equal(r.status, 'SUCCEEDED', `${r.error}: ${r.cause}`);
    assert.ok(Object.prototype.hasOwnProperty.call(seen, '__proto__'));
    assert.equal(r.output, '{"__proto__":{"y":2}}');
    assert.equal(({} as Record<string, unknown>).x, undefined);
    assert.equal(({} as Record<string, unknown>).y, undefined);
  });

  it('a 100-level nested input works through Pass, Task and Map', async () => {
    const input = nested(100);
    const text = JSON.stringify(input);
    const r = await runStateMachine(
      {
        StartAt: 'P',
        States: {
          P: { Type: 'Pass', Parameters: { 'v.$': '$' }, Next: 'T' },
          T: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:123456789012:function:echo',
            InputPath: '$.v',
            Next: 'M',
          },
          M: {
            Type: 'Map',
            ItemsPath: '$.list',
            ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
            ResultPath: '$.mapped',
            Next: 'Out',
          },
          Out: { Type: 'Pass', OutputPath: '$.mapped[0]', End: true },
        },
      },
      {
        input: text,
        inputIsText: true,
        functions: { echo: (e) => ({ list: [e as JsonValue] }) },
      },
    );
    assert.equal(r.status, 'SUCCEEDED', `${r.error}: ${r.cause}`);
    assert.deepEqual(r.outputValue, input);
    assert.equal(r.output, text);
  });

  it('a deeply nested path into a 100-level input selects the leaf', async () => {
    const path = '$' + '.a'.repeat(100) + '.leaf';
    const r = await StateMachine.fromDefinition({
      StartAt: 'P',
      States: { P: { Type: 'Pass', InputPath: path, End: true } },
    }).run({ input: nested(100) });
    assert.equal(r.output, 'true');
  });

  it('a definition object holding deeply nested data compiles (compiling walks it without recursion)', () => {
    const sm = StateMachine.fromDefinition({
      StartAt: 'P',
      States: { P: { Type: 'Pass', Result: nested(50_000), End: true } },
    });
    assert.equal(sm.compiled.assigns, false);
  });
});

describe('abort', () => {
  it('an AbortSignal stops a running execution: ABORTED', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 10);
    const r = await StateMachine.fromDefinition({
      StartAt: 'W',
      States: { W: { Type: 'Wait', Seconds: 3600, End: true } },
    }).run({ signal: ac.signal });
    assert.equal(r.status, 'ABORTED');
    assert.equal(r.output, undefined);
  });
});
