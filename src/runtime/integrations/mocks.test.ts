// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { functionsFromMap } from '../functions.js';
import { Engine } from '../engine.js';
import { examplesDir, removeTempDirs, run, tempDir, withEngine } from './harness.js';
import { loadMockConfig, MockConfigError, MockResponder } from './mocks.js';

after(removeTempDirs);

const SM = 'arn:aws:states:us-east-1:123456789012:stateMachine:Orders';

const config = {
  StateMachines: { Orders: { TestCases: { Flaky: { Charge: 'ChargeFlaky' }, Empty: {} } } },
  MockedResponses: {
    ChargeFlaky: {
      '0': { Throw: { Error: 'Payments.Busy', Cause: 'try again' } },
      '1-2': { Return: { charged: false } },
      '3': { Return: { charged: true } },
    },
  },
};

const call = (executionArn: string, stateName = 'Charge', testCase: string | null = 'Flaky', index = 0) => ({
  executionArn,
  stateMachineArn: SM,
  testCase: testCase ?? undefined,
  stateName,
  index,
});

describe('MockResponder', () => {
  it('answers calls by index and range', () => {
    const m = new MockResponder(config);
    const busy = { ok: false, error: 'Payments.Busy', cause: 'try again' };
    assert.deepEqual(m.respond(call('e1', 'Charge', 'Flaky', 0)), busy);
    assert.deepEqual(m.respond(call('e1', 'Charge', 'Flaky', 1)), { ok: true, output: { charged: false } });
    assert.deepEqual(m.respond(call('e1', 'Charge', 'Flaky', 2)), { ok: true, output: { charged: false } });
    assert.deepEqual(m.respond(call('e1', 'Charge', 'Flaky', 3)), { ok: true, output: { charged: true } });
    // The responder keeps no count of its own: the same index gives the same answer.
    assert.deepEqual(m.respond(call('e1', 'Charge', 'Flaky', 0)), busy);
  });

  it('fails with States.Runtime when a call has no mocked response', () => {
    const m = new MockResponder(config);
    const r = m.respond(call('e', 'Charge', 'Flaky', 4));
    assert.equal(r?.ok, false);
    assert.equal(r.ok === false && r.error, 'States.Runtime');
    assert.match(r.ok === false ? (r.cause ?? '') : '', /no entry for call 4 of state 'Charge'/);
  });

  it('leaves unmocked states and executions without a test case alone', () => {
    const m = new MockResponder(config);
    assert.equal(m.respond(call('e', 'Ship')), undefined);
    assert.equal(m.respond(call('e', 'Charge', null)), undefined);
    assert.equal(m.respond(call('e', 'Charge', 'Empty')), undefined);
  });

  it('names an unknown test case', () => {
    const r = new MockResponder(config).respond(call('e', 'Charge', 'Nope'));
    assert.deepEqual(r, {
      ok: false,
      error: 'States.Runtime',
      cause: "The mock configuration has no test case 'Nope' for state machine 'Orders'.",
    });
  });

  it('returns a copy: a run cannot change the configured response', () => {
    const m = new MockResponder({
      StateMachines: { Orders: { TestCases: { T: { S: 'R' } } } },
      MockedResponses: { R: { '0-1': { Return: { list: [1] } } } },
    });
    const first = m.respond(call('e', 'S', 'T'));
    assert.ok(first?.ok);
    (first.output as { list: number[] }).list.push(2);
    assert.deepEqual(m.respond(call('e', 'S', 'T')), { ok: true, output: { list: [1] } });
  });

  it('rejects malformed configurations up front', () => {
    const bad = (c: unknown, re: RegExp) =>
      assert.throws(
        () => new MockResponder(c),
        (e: unknown) => {
          assert.ok(e instanceof MockConfigError);
          assert.match(e.message, re);
          return true;
        },
      );
    bad([], /top level/);
    bad({ MockedResponses: { R: { first: { Return: 1 } } } }, /key 'first'/);
    bad({ MockedResponses: { R: { '3-1': { Return: 1 } } } }, /empty range/);
    bad({ MockedResponses: { R: { '0': { Return: 1, Throw: { Error: 'x' } } } } }, /exactly one field/);
    bad({ MockedResponses: { R: { '0': { Throw: { Cause: 'x' } } } } }, /string Error/);
    bad({ StateMachines: { M: { TestCases: { T: { S: 'Missing' } } } } }, /not in MockedResponses/);
    bad({ StateMachines: { M: {} } }, /TestCases/);
  });
});

describe('MockConfigFile through the engine (examples/mocks)', () => {
  const dir = join(examplesDir(), 'mocks');
  const definition = readFileSync(join(dir, 'LambdaSQSIntegration.asl.json'), 'utf8');
  const input = JSON.parse(readFileSync(join(dir, 'input.json'), 'utf8')) as unknown;
  const mockFile = JSON.parse(readFileSync(join(dir, 'MockConfigFile.json'), 'utf8')) as object;
  const name = 'LambdaSQSIntegration';

  it('numbers calls in the execution state: a restart does not start the count again', async () => {
    const mocks = {
      StateMachines: { Pay: { TestCases: { T: { Charge: 'R' } } } },
      MockedResponses: {
        R: { '0': { Throw: { Error: 'Busy', Cause: 'first call' } }, '1': { Return: { paid: true } } },
      },
    };
    const definition = {
      StartAt: 'Charge',
      States: {
        Charge: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'charge' },
          Retry: [{ ErrorEquals: ['Busy'], IntervalSeconds: 2, MaxAttempts: 1 }],
          End: true,
        },
      },
    };
    const dataDir = tempDir();
    const first = await Engine.open({ dataDir, mocks });
    let executionArn = '';
    try {
      const { stateMachineArn } = await first.createStateMachine({
        name: 'Pay',
        definition: JSON.stringify(definition),
        roleArn: 'arn:aws:iam::123456789012:role/r',
      });
      ({ executionArn } = await first.startExecution({ stateMachineArn: `${stateMachineArn}#T`, name: 'x' }));
      // Call 0 threw; the retry waits 2 s: stop the engine before it comes.
      for (let i = 0; i < 200; i++) {
        const h = await first.getExecutionHistory({ executionArn, maxResults: 100 });
        if (h.items.some((e) => e.type === 'TaskFailed')) break;
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      await first.close();
    }
    const second = await Engine.open({ dataDir, mocks });
    try {
      let d = await second.describeExecution(executionArn);
      for (let i = 0; i < 1000 && d.status === 'RUNNING'; i++) {
        await new Promise((r) => setTimeout(r, 10));
        d = await second.describeExecution(executionArn);
      }
      // The retry is call 1 (a fresh count would answer call 0's Throw again and fail).
      assert.equal(d.status, 'SUCCEEDED', d.cause);
      assert.deepEqual(JSON.parse(d.output!), { paid: true });
    } finally {
      await second.close();
    }
  });

  it('HappyPathTest: both states mocked, nothing is called', async () => {
    let called = 0;
    const functions = functionsFromMap({ GreetCustomer: () => ++called });
    await withEngine({ mocks: mockFile, functions }, async (engine) => {
      const { d, h } = await run(engine, definition, input, { name, testCase: 'HappyPathTest' });
      assert.equal(d.status, 'SUCCEEDED', d.cause);
      assert.deepEqual(JSON.parse(d.output!), {
        MD5OfMessageBody: '5b7cf3b8a4b6ed2b3e8d2e1f0c9a7d61',
        MessageId: '0f5e3a52-6c1d-4a7e-9b1e-2d3c4b5a6f70',
      });
      assert.equal(called, 0);
      // The mocked lambda:invoke Return is the whole SDK-shaped result.
      const lambdaDone = h.find((e) => e.type === 'TaskSucceeded')!;
      const details = lambdaDone.taskSucceededEventDetails as { output: string; resourceType: string };
      assert.equal(details.resourceType, 'lambda');
      assert.deepEqual(JSON.parse(details.output), { StatusCode: 200, Payload: { greeting: 'Hello, Ada!' } });
    });
  });

  it('RetryPathTest: calls 0, 1-2 throw and call 3 returns, through the Retry policy', async () => {
    const mocks = await loadMockConfig(join(dir, 'MockConfigFile.json'));
    await withEngine({ mocks }, async (engine) => {
      const { d, h } = await run(engine, definition, input, { name, testCase: 'RetryPathTest' });
      assert.equal(d.status, 'SUCCEEDED', d.cause);
      const failures = h
        .filter((e) => e.type === 'TaskFailed')
        .map((e) => (e.taskFailedEventDetails as { error: string; cause: string }).error);
      assert.deepEqual(failures, [
        'Lambda.ResourceNotReadyException',
        'Lambda.TimeoutException',
        'Lambda.TimeoutException',
      ]);
      assert.equal(h.filter((e) => e.type === 'TaskSucceeded').length, 2);
    });
  });

  it('HybridPathTest: the unmocked SQSState runs for real (and Stepwise cannot serve SQS)', async () => {
    await withEngine({ mocks: mockFile }, async (engine) => {
      const { d } = await run(engine, definition, input, { name, testCase: 'HybridPathTest' });
      assert.equal(d.status, 'FAILED');
      assert.equal(d.error, 'States.TaskFailed');
      assert.match(d.cause ?? '', /sqs:sendMessage/);
    });
  });

  it('a mocked Throw is caught by Retry until its range runs out', async () => {
    await withEngine({ mocks: mockFile }, async (engine) => {
      const { d, h } = await run(engine, definition, input, { name, testCase: 'NotReadyTest' });
      assert.equal(d.status, 'FAILED');
      assert.equal(d.error, 'Lambda.ResourceNotReadyException');
      assert.equal(d.cause, 'The function is still being created.');
      assert.equal(h.filter((e) => e.type === 'TaskFailed').length, 4);
    });
  });

  it('without a test case the local function runs', async () => {
    const functions = functionsFromMap({
      GreetCustomer: (e) => ({ greeting: `Hi ${(e as { customer: string }).customer}` }),
    });
    await withEngine({ mocks: mockFile, functions }, async (engine) => {
      const { h } = await run(engine, definition, input, { name });
      const lambdaDone = h.find((e) => e.type === 'TaskSucceeded')!;
      const out = JSON.parse((lambdaDone.taskSucceededEventDetails as { output: string }).output) as {
        Payload: unknown;
      };
      assert.deepEqual(out.Payload, { greeting: 'Hi Ada' });
    });
  });

  it('a broken mock configuration fails Engine.open', async () => {
    await assert.rejects(
      withEngine({ mocks: JSON.parse('{"MockedResponses":{"R":{"x":{}}}}') as object }, () =>
        Promise.resolve(),
      ),
      MockConfigError,
    );
  });
});

describe('mocked callback, .sync, activity and nested-execution states', () => {
  const machine = 'Callbacks';
  const mocks = {
    StateMachines: {
      [machine]: {
        TestCases: {
          AllMocked: {
            Approve: 'Approved',
            RunJob: 'JobDone',
            Child: 'ChildDone',
            Worker: 'WorkerDone',
            Describe: 'Described',
            StartChild: 'ChildStarted',
          },
          Rejected: { Approve: 'Rejected' },
        },
      },
    },
    MockedResponses: {
      Approved: { '0': { Return: { approved: true } } },
      Rejected: { '0': { Throw: { Error: 'Approval.Rejected', Cause: 'no budget' } } },
      JobDone: { '0': { Return: { JobRunState: 'SUCCEEDED', Id: 'jr_1' } } },
      ChildDone: { '0': { Return: { Status: 'SUCCEEDED', Output: { child: 1 } } } },
      WorkerDone: { '0': { Return: { worked: true } } },
      Described: { '0': { Return: { Status: 'RUNNING' } } },
      ChildStarted: { '0': { Return: { ExecutionArn: 'arn:child' } } },
    },
  };

  function definition(activityArn: string) {
    const t = (resource: string, next: string, extra: object = {}) => ({
      Type: 'Task',
      Resource: resource,
      ResultPath: `$.${next === 'Done' ? 'last' : next}`,
      Next: next,
      ...extra,
    });
    return {
      StartAt: 'Approve',
      States: {
        Approve: {
          ...t('arn:aws:states:::lambda:invoke.waitForTaskToken', 'RunJob'),
          Parameters: { FunctionName: 'approver', Payload: { 'token.$': '$$.Task.Token' } },
          Catch: [{ ErrorEquals: ['Approval.Rejected'], ResultPath: '$.rejected', Next: 'Done' }],
          ResultPath: '$.approval',
        },
        RunJob: {
          ...t('arn:aws:states:::glue:startJobRun.sync', 'Child'),
          Parameters: { JobName: 'etl' },
          ResultPath: '$.job',
        },
        Child: {
          ...t('arn:aws:states:::states:startExecution.sync:2', 'Worker'),
          Parameters: { StateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Nowhere' },
          ResultPath: '$.child',
        },
        Worker: { ...t(activityArn, 'Describe'), ResultPath: '$.worker' },
        Describe: {
          ...t('arn:aws:states:::aws-sdk:sfn:describeExecution', 'StartChild'),
          Parameters: { ExecutionArn: 'arn:nowhere' },
          ResultPath: '$.described',
        },
        StartChild: {
          ...t('arn:aws:states:::states:startExecution', 'Done'),
          Parameters: { StateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Nowhere' },
          ResultPath: '$.started',
        },
        Done: { Type: 'Succeed' },
      },
    };
  }

  it('use the mocked response as the result: no token, job, child or worker is waited for', async () => {
    await withEngine({ mocks }, async (engine) => {
      const { activityArn } = await engine.createActivity({ name: 'worker' });
      const { d, h } = await run(
        engine,
        definition(activityArn),
        {},
        { name: machine, testCase: 'AllMocked' },
      );
      assert.equal(d.status, 'SUCCEEDED', d.cause);
      assert.deepEqual(JSON.parse(d.output!), {
        approval: { approved: true },
        job: { JobRunState: 'SUCCEEDED', Id: 'jr_1' },
        child: { Status: 'SUCCEEDED', Output: { child: 1 } },
        worker: { worked: true },
        described: { Status: 'RUNNING' },
        started: { ExecutionArn: 'arn:child' },
      });
      assert.ok(!h.some((e) => e.type === 'TaskSubmitted'));
      // Nothing was started: the nested state machine does not even exist.
      const page = await engine.listExecutions({ stateMachineArn: `${d.stateMachineArn}` });
      assert.equal(page.items.length, 1);
    });
  });

  it('a mocked Throw of a callback state is caught like the real failure', async () => {
    await withEngine({ mocks }, async (engine) => {
      const { activityArn } = await engine.createActivity({ name: 'worker' });
      const { d } = await run(engine, definition(activityArn), {}, { name: machine, testCase: 'Rejected' });
      assert.equal(d.status, 'SUCCEEDED', d.cause);
      assert.deepEqual(JSON.parse(d.output!), {
        rejected: { Error: 'Approval.Rejected', Cause: 'no budget' },
      });
    });
  });
});
