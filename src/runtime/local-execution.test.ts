// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ExecutionInit, TaskRequest } from '../interpreter/types.js';
import { compileDefinition } from '../language/compile.js';
import { StatesErrors } from '../language/errors.js';
import type { JsonObject, JsonValue } from '../language/json.js';
import type { TaskDispatcher } from './dispatcher.js';
import { LocalTaskDispatcher } from './dispatcher.js';
import type { SignalSource, TaskOutcome } from './functions.js';
import { functionsFromMap } from './functions.js';
import type { LocalExecutionOptions, LocalExecutionResult } from './local-execution.js';
import { runLocalExecution } from './local-execution.js';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:work';

function init(input: JsonValue = {}): ExecutionInit {
  return {
    executionArn: 'arn:aws:states:us-east-1:123456789012:execution:sm:e',
    stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:sm',
    name: 'e',
    stateMachineName: 'sm',
    roleArn: 'arn:aws:iam::123456789012:role/r',
    input,
    recordHistory: true,
  };
}

function run(
  definition: JsonObject,
  input: JsonValue,
  options: Partial<LocalExecutionOptions> & Pick<LocalExecutionOptions, 'dispatcher'>,
): Promise<LocalExecutionResult> {
  return runLocalExecution(compileDefinition(definition), init(input), options);
}

/** A dispatcher from a plain async function; the task's signal is made when the function asks for it. */
function dispatcher(
  fn: (task: TaskRequest, signal: () => AbortSignal) => Promise<TaskOutcome>,
): TaskDispatcher {
  return {
    dispatch: (task, source: SignalSource) => fn(task, typeof source === 'function' ? source : () => source),
  };
}

const noTasks = dispatcher(() => Promise.reject(new Error('no task expected')));

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves when the signal aborts, or after `ms` as a safety net (never reached in a passing test). */
function untilAborted(signal: AbortSignal, ms = 5000): Promise<'aborted' | 'expired'> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve('aborted');
    const t = setTimeout(() => resolve('expired'), ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve('aborted');
      },
      { once: true },
    );
  });
}

describe('waitScale', () => {
  it('0 makes a Wait of an hour finish at once, with virtual time moved ahead', async () => {
    const started = Date.now();
    const { state, events } = await run(
      {
        StartAt: 'W',
        States: { W: { Type: 'Wait', Seconds: 3600, Next: 'P' }, P: { Type: 'Pass', End: true } },
      },
      { a: 1 },
      { dispatcher: noTasks, waitScale: 0 },
    );
    assert.ok(Date.now() - started < 3000, 'finished in (much) less than real time');
    assert.equal(state.status, 'SUCCEEDED');
    assert.deepEqual(state.output, { a: 1 });
    assert.ok((state.stopTime ?? 0) - state.startTime >= 3_600_000, 'virtual time includes the wait');
    const entered = events.find((e) => e.type === 'WaitStateEntered')!;
    const exited = events.find((e) => e.type === 'WaitStateExited')!;
    assert.ok(exited.timestamp - entered.timestamp >= 3_600_000);
  });

  it('0 skips retry back-off and several waits in a row', async () => {
    let calls = 0;
    const started = Date.now();
    const { state } = await run(
      {
        StartAt: 'W1',
        States: {
          W1: { Type: 'Wait', Seconds: 86_400, Next: 'W2' },
          W2: { Type: 'Wait', Timestamp: '2999-01-01T00:00:00Z', Next: 'T' },
          T: {
            Type: 'Task',
            Resource: FN,
            Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1000, MaxAttempts: 3 }],
            End: true,
          },
        },
      },
      {},
      {
        dispatcher: dispatcher(() =>
          Promise.resolve<TaskOutcome>(
            ++calls < 3 ? { ok: false, error: 'Flaky', cause: undefined } : { ok: true, output: calls },
          ),
        ),
        waitScale: 0,
      },
    );
    assert.ok(Date.now() - started < 3000);
    assert.equal(state.status, 'SUCCEEDED');
    assert.equal(state.output, 3);
  });

  it('0.001 makes Wait 2 take about 2 ms of real time, 2 s of virtual time', async () => {
    const started = Date.now();
    const { state, events } = await run(
      { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 2, End: true } } },
      {},
      { dispatcher: noTasks, waitScale: 0.001 },
    );
    const real = Date.now() - started;
    assert.equal(state.status, 'SUCCEEDED');
    assert.ok(real < 1500, `took ${real} ms`);
    const entered = events.find((e) => e.type === 'WaitStateEntered')!;
    const exited = events.find((e) => e.type === 'WaitStateExited')!;
    assert.ok(exited.timestamp - entered.timestamp >= 1999, 'the wait lasted its 2 s of virtual time');
  });

  it('rejects a negative or non-finite scale', () => {
    const def = compileDefinition({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
    for (const waitScale of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => runLocalExecution(def, init(), { dispatcher: noTasks, waitScale }), RangeError);
    }
  });
});

describe('tasks', () => {
  it('runs tasks through the dispatcher and carries on with their results', async () => {
    const seen: JsonValue[] = [];
    const { state, events } = await run(
      {
        StartAt: 'A',
        States: {
          A: { Type: 'Task', Resource: FN, Parameters: { 'n.$': '$.n' }, ResultPath: '$.a', Next: 'B' },
          B: { Type: 'Task', Resource: FN, Parameters: { 'n.$': '$.a' }, End: true },
        },
      },
      { n: 1 },
      {
        dispatcher: dispatcher((task) => {
          seen.push(task.input);
          const n = (task.input as JsonObject).n as number;
          return Promise.resolve({ ok: true, output: n + 1 });
        }),
        waitScale: 0,
      },
    );
    assert.deepEqual(seen, [{ n: 1 }, { n: 2 }]);
    assert.equal(state.output, 3);
    assert.equal(events[events.length - 1]?.type, 'ExecutionSucceeded');
    events.forEach((e, i) => assert.equal(e.id, i + 1));
  });

  it('a dispatcher that throws fails the task with States.TaskFailed and the message', async () => {
    const { state } = await run(
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: FN, End: true } } },
      {},
      { dispatcher: dispatcher(() => Promise.reject(new Error('dispatcher broke'))), waitScale: 0 },
    );
    assert.equal(state.status, 'FAILED');
    assert.equal(state.error, StatesErrors.TaskFailed);
    assert.equal(state.cause, 'dispatcher broke');
  });

  it('a task timeout fires while a slow handler is in flight and aborts its signal', async () => {
    let outcome: 'aborted' | 'expired' | undefined;
    const started = Date.now();
    const { state, events } = await run(
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: FN, TimeoutSeconds: 1, End: true } } },
      {},
      {
        // 1 s of virtual time is 10 ms of real time.
        waitScale: 0.01,
        dispatcher: new LocalTaskDispatcher({
          region: 'us-east-1',
          account: '123456789012',
          functions: functionsFromMap({
            work: async (_event, ctx) => {
              outcome = await untilAborted(ctx.signal);
              return 'too late';
            },
          }),
        }),
      },
    );
    assert.equal(state.status, 'FAILED');
    assert.equal(state.error, StatesErrors.Timeout);
    assert.ok(events.some((e) => e.type === 'LambdaFunctionTimedOut'));
    assert.ok(Date.now() - started < 4000);
    // The handler learns of it through its signal.
    for (let i = 0; i < 100 && outcome === undefined; i++) await sleep(5);
    assert.equal(outcome, 'aborted');
  });

  it('with waitScale 0 a task timeout still fires (in real time) while the task runs', async () => {
    let aborted = false;
    const { state } = await run(
      {
        StartAt: 'T',
        States: {
          T: {
            Type: 'Task',
            Resource: FN,
            TimeoutSeconds: 1,
            Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.e', Next: 'P' }],
            Next: 'P',
          },
          P: { Type: 'Pass', End: true },
        },
      },
      {},
      {
        waitScale: 0,
        dispatcher: dispatcher(async (_task, signal) => {
          aborted = (await untilAborted(signal())) === 'aborted';
          return { ok: true, output: 'late' };
        }),
      },
    );
    assert.equal(state.status, 'SUCCEEDED');
    assert.deepEqual(state.output, { e: { Error: 'States.Timeout', Cause: '' } });
    for (let i = 0; i < 100 && !aborted; i++) await sleep(5);
    assert.ok(aborted);
  });
});

describe('time limit', () => {
  it('stops an execution that runs past timeLimitMs (ABORTED) and aborts its running task', async () => {
    let aborted = false;
    const started = Date.now();
    const { state } = await run(
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: FN, End: true } } },
      {},
      {
        timeLimitMs: 50,
        dispatcher: dispatcher(async (_task, signal) => {
          aborted = (await untilAborted(signal())) === 'aborted';
          return { ok: true, output: 'late' };
        }),
      },
    );
    assert.equal(state.status, 'ABORTED');
    assert.ok(Date.now() - started >= 45, 'not before the limit');
    for (let i = 0; i < 100 && !aborted; i++) await sleep(5);
    assert.ok(aborted);
  });

  it('does not stop an execution that ends within timeLimitMs', async () => {
    const { state } = await run(
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: FN, End: true } } },
      {},
      {
        timeLimitMs: 2000,
        dispatcher: dispatcher(async () => {
          await sleep(10);
          return { ok: true, output: 'done' };
        }),
      },
    );
    assert.equal(state.status, 'SUCCEEDED');
    assert.equal(state.output, 'done');
  });
});

describe('task signals', () => {
  it('a signal asked for after the task was cancelled is already aborted', async () => {
    let late: AbortSignal | undefined;
    let finished!: () => void;
    const handlerDone = new Promise<void>((resolve) => (finished = resolve));
    const { state } = await run(
      {
        StartAt: 'P',
        States: {
          P: {
            Type: 'Parallel',
            Branches: [
              { StartAt: 'Slow', States: { Slow: { Type: 'Task', Resource: FN, End: true } } },
              { StartAt: 'F', States: { F: { Type: 'Fail', Error: 'Quick' } } },
            ],
            End: true,
          },
        },
      },
      {},
      {
        waitScale: 0,
        dispatcher: dispatcher(async (_task, signal) => {
          await sleep(20);
          late = signal();
          finished();
          return { ok: true, output: null };
        }),
      },
    );
    assert.equal(state.status, 'FAILED');
    assert.equal(state.error, 'Quick');
    await handlerDone;
    assert.equal(late?.aborted, true);
  });
});

describe('abort', () => {
  it('an AbortSignal stops the execution (ABORTED) and aborts the handler’s signal', async () => {
    const ac = new AbortController();
    let handlerSignal: AbortSignal | undefined;
    let outcome: 'aborted' | 'expired' | undefined;
    const { state, events } = await run(
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: FN, End: true } } },
      {},
      {
        signal: ac.signal,
        dispatcher: dispatcher(async (_task, signal) => {
          handlerSignal = signal();
          setImmediate(() => ac.abort());
          outcome = await untilAborted(handlerSignal);
          return { ok: true, output: 'ignored' };
        }),
      },
    );
    assert.equal(state.status, 'ABORTED');
    assert.equal(events[events.length - 1]?.type, 'ExecutionAborted');
    assert.ok(handlerSignal?.aborted);
    for (let i = 0; i < 100 && outcome === undefined; i++) await sleep(5);
    assert.equal(outcome, 'aborted');
  });

  it('a signal aborted before the start aborts at once', async () => {
    const ac = new AbortController();
    ac.abort();
    let dispatched = 0;
    const { state } = await run(
      {
        StartAt: 'W',
        States: {
          W: { Type: 'Wait', Seconds: 3600, Next: 'T' },
          T: { Type: 'Task', Resource: FN, End: true },
        },
      },
      {},
      {
        signal: ac.signal,
        dispatcher: dispatcher(() => {
          dispatched++;
          return Promise.resolve({ ok: true, output: null });
        }),
      },
    );
    assert.equal(state.status, 'ABORTED');
    assert.equal(dispatched, 0);
  });

  it('aborts a real-time Wait without waiting for it', async () => {
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 20);
    const { state } = await run(
      { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 3600, End: true } } },
      {},
      { signal: ac.signal, dispatcher: noTasks, waitScale: 1 },
    );
    assert.equal(state.status, 'ABORTED');
    assert.ok(Date.now() - started < 3000);
  });
});

describe('execution timeout', () => {
  it('times the execution out with waitScale 0', async () => {
    const { state, events } = await run(
      {
        StartAt: 'W',
        TimeoutSeconds: 60,
        States: { W: { Type: 'Wait', Seconds: 3600, End: true } },
      },
      {},
      { dispatcher: noTasks, waitScale: 0 },
    );
    assert.equal(state.status, 'TIMED_OUT');
    assert.equal(state.error, StatesErrors.Timeout);
    assert.equal(events[events.length - 1]?.type, 'ExecutionTimedOut');
  });
});

describe('concurrency', () => {
  it('50 Map iterations with MaxConcurrency 10 never run more than 10 handlers at once', async () => {
    let running = 0;
    let peak = 0;
    let calls = 0;
    const started = Date.now();
    const items = Array.from({ length: 50 }, (_, i) => i);
    const { state } = await run(
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            MaxConcurrency: 10,
            ItemProcessor: { StartAt: 'T', States: { T: { Type: 'Task', Resource: FN, End: true } } },
            End: true,
          },
        },
      },
      items,
      {
        waitScale: 0,
        dispatcher: new LocalTaskDispatcher({
          region: 'us-east-1',
          account: '123456789012',
          functions: functionsFromMap({
            work: async (event) => {
              calls++;
              running++;
              peak = Math.max(peak, running);
              await sleep(10);
              running--;
              return (event as number) * 2;
            },
          }),
        }),
      },
    );
    assert.equal(state.status, 'SUCCEEDED');
    assert.equal(calls, 50);
    assert.ok(peak <= 10, `peak ${peak}`);
    assert.equal(peak, 10, 'the Map does use its concurrency');
    assert.deepEqual(
      state.output,
      items.map((i) => i * 2),
    );
    assert.ok(Date.now() - started < 5000);
  });
});
