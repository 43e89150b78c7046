// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * Integration tests of the durable engine on SQLite in temporary directories: the API's
 * operations and errors, executions of every kind of state, callbacks, activities, the history
 * limit, Express machines and restarts. Nothing here sleeps a fixed time to wait for an outcome:
 * tests poll with generous deadlines.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import type { ExecutionStatus, HistoryEvent } from '../interpreter/types.js';
import { ServiceError, type ApiErrorCode } from '../language/errors.js';
import type { JsonObject } from '../language/json.js';
import { Engine, type EngineOptions } from './engine.js';
import type { ExecutionDescription } from './engine-api.js';
import { functionsFromMap, type LambdaHandler } from './functions.js';

const ROLE = 'arn:aws:iam::123456789012:role/stepwise-test';
const SM_PREFIX = 'arn:aws:states:us-east-1:123456789012:stateMachine:';
const fnArn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
const CALLBACK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'stepwise-engine-test-'));
  dirs.push(d);
  return d;
}

type Options = Omit<EngineOptions, 'functions' | 'dataDir'> & { dataDir?: string };

/** Opens an engine on a fresh (or the given) directory, runs `fn`, and always closes it. */
async function withEngine(
  functions: Record<string, LambdaHandler>,
  options: Options,
  fn: (engine: Engine, dataDir: string) => Promise<void>,
): Promise<void> {
  const dataDir = options.dataDir ?? tempDir();
  const engine = await Engine.open({
    waitScale: 0.001,
    ...options,
    dataDir,
    functions: functionsFromMap(functions),
  });
  try {
    await fn(engine, dataDir);
  } finally {
    await engine.close();
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value other than `undefined`, or fails after `ms`. */
async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Resolves with the description once the execution has ended. */
function finished(engine: Engine, executionArn: string, ms = 15_000): Promise<ExecutionDescription> {
  return waitFor(
    `${executionArn} to end`,
    async () => {
      const d = await engine.describeExecution(executionArn);
      return d.status === 'RUNNING' ? undefined : d;
    },
    ms,
  );
}

/** The whole history, page by page. */
async function historyOf(engine: Engine, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await engine.getExecutionHistory({ executionArn, maxResults: 1000, nextToken });
    events.push(...page.items);
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return events;
}

/** Ids 1..n without gaps, and every event links to an earlier one. */
function assertConsistent(events: readonly HistoryEvent[]): void {
  events.forEach((e, i) => {
    assert.equal(e.id, i + 1, `event #${i} has id ${e.id}`);
    assert.ok(
      e.previousEventId >= 0 && e.previousEventId < e.id,
      `event ${e.id} links to ${e.previousEventId}`,
    );
  });
}

const types = (events: readonly HistoryEvent[]) => events.map((e) => e.type);

function countOf(events: readonly HistoryEvent[], type: string): number {
  return events.filter((e) => e.type === type).length;
}

/** Asserts that `p` rejects with a ServiceError of that code. */
async function rejectsWith(p: Promise<unknown>, code: ApiErrorCode): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ServiceError, `expected a ServiceError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

async function createMachine(
  engine: Engine,
  name: string,
  definition: JsonObject,
  type: 'STANDARD' | 'EXPRESS' = 'STANDARD',
): Promise<string> {
  const r = await engine.createStateMachine({
    name,
    definition: JSON.stringify(definition),
    roleArn: ROLE,
    type,
  });
  return r.stateMachineArn;
}

/** Creates a machine, runs one execution to its end and returns its description and history. */
async function runToEnd(
  engine: Engine,
  definition: JsonObject,
  input: unknown = {},
  name = `sm-${Math.random().toString(36).slice(2)}`,
): Promise<{ d: ExecutionDescription; h: HistoryEvent[] }> {
  const stateMachineArn = await createMachine(engine, name, definition);
  const { executionArn } = await engine.startExecution({ stateMachineArn, input: JSON.stringify(input) });
  const d = await finished(engine, executionArn);
  const h = await historyOf(engine, executionArn);
  assertConsistent(h);
  return { d, h };
}

const PASS: JsonObject = { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } };

/** A callback task whose function hands the token to `tokens`. */
function callbackState(extra: JsonObject = {}): JsonObject {
  return {
    Type: 'Task',
    Resource: CALLBACK,
    Parameters: { FunctionName: 'cb', Payload: { 'token.$': '$$.Task.Token', 'input.$': '$' } },
    ...extra,
  };
}

function tokenCollector(): { tokens: string[]; cb: LambdaHandler } {
  const tokens: string[] = [];
  return {
    tokens,
    cb: (event) => {
      tokens.push((event as { token: string }).token);
      return { submitted: true };
    },
  };
}

// ---- state machines -----------------------------------------------------------------------

describe('Engine: state machines', () => {
  it('creates, describes, lists, updates and deletes', async () => {
    await withEngine({}, {}, async (engine) => {
      const text = JSON.stringify(PASS);
      const created = await engine.createStateMachine({ name: 'crud', definition: text, roleArn: ROLE });
      assert.equal(created.stateMachineArn, `${SM_PREFIX}crud`);
      const d = await engine.describeStateMachine(created.stateMachineArn);
      assert.equal(d.name, 'crud');
      assert.equal(d.definition, text);
      assert.equal(d.type, 'STANDARD');
      assert.equal(d.status, 'ACTIVE');
      assert.equal(d.roleArn, ROLE);

      // The same machine again is idempotent: same ARN, same creation date.
      const again = await engine.createStateMachine({ name: 'crud', definition: text, roleArn: ROLE });
      assert.deepEqual(again, created);
      // A different definition under the same name conflicts.
      await rejectsWith(
        engine.createStateMachine({
          name: 'crud',
          definition: JSON.stringify({ StartAt: 'X', States: { X: { Type: 'Succeed' } } }),
          roleArn: ROLE,
        }),
        'StateMachineAlreadyExists',
      );

      for (const n of ['b', 'c', 'd']) await createMachine(engine, n, PASS);
      const names: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const page = await engine.listStateMachines({ maxResults: 3, nextToken });
        assert.ok(page.items.length <= 3);
        names.push(...page.items.map((i) => i.name));
        nextToken = page.nextToken;
        pages++;
      } while (nextToken !== undefined);
      assert.deepEqual([...names].sort(), ['b', 'c', 'crud', 'd']);
      assert.equal(pages, 2);

      const v2 = JSON.stringify({ StartAt: 'Q', States: { Q: { Type: 'Pass', Result: 2, End: true } } });
      const upd = await engine.updateStateMachine({
        stateMachineArn: created.stateMachineArn,
        definition: v2,
      });
      const d2 = await engine.describeStateMachine(created.stateMachineArn);
      assert.equal(d2.definition, v2);
      assert.equal(d2.revisionId, upd.revisionId);
      assert.notEqual(d2.revisionId, d.revisionId);

      await engine.deleteStateMachine(created.stateMachineArn);
      await rejectsWith(engine.describeStateMachine(created.stateMachineArn), 'StateMachineDoesNotExist');
    });
  });

  it('reports AWS errors: InvalidDefinition, InvalidName, InvalidArn, *DoesNotExist', async () => {
    await withEngine({}, {}, async (engine) => {
      const create = (name: string, definition: string) =>
        engine.createStateMachine({ name, definition, roleArn: ROLE });
      await rejectsWith(create('bad', '{not json'), 'InvalidDefinition');
      await rejectsWith(create('bad', JSON.stringify({ States: {} })), 'InvalidDefinition');
      await rejectsWith(
        create('bad', JSON.stringify({ StartAt: 'Nope', States: PASS.States })),
        'InvalidDefinition',
      );
      for (const name of ['', 'has space', 'a/b', 'x'.repeat(81), 'star*']) {
        await rejectsWith(create(name, JSON.stringify(PASS)), 'InvalidName');
      }
      await rejectsWith(engine.describeStateMachine('not-an-arn'), 'InvalidArn');
      await rejectsWith(
        engine.describeStateMachine('arn:aws:states:us-east-1:123456789012:activity:a'),
        'InvalidArn',
      );
      await rejectsWith(engine.describeExecution(`${SM_PREFIX}nope`), 'InvalidArn');
      await rejectsWith(engine.describeStateMachine(`${SM_PREFIX}nope`), 'StateMachineDoesNotExist');
      await rejectsWith(
        engine.startExecution({ stateMachineArn: `${SM_PREFIX}nope` }),
        'StateMachineDoesNotExist',
      );
      await rejectsWith(
        engine.describeExecution('arn:aws:states:us-east-1:123456789012:execution:nope:x'),
        'ExecutionDoesNotExist',
      );
      await rejectsWith(
        engine.getExecutionHistory({
          executionArn: 'arn:aws:states:us-east-1:123456789012:execution:nope:x',
        }),
        'ExecutionDoesNotExist',
      );
      const arn = await createMachine(engine, 'ok', PASS);
      await rejectsWith(engine.startExecution({ stateMachineArn: arn, name: 'bad name' }), 'InvalidName');
      await rejectsWith(
        engine.startExecution({ stateMachineArn: arn, input: '{oops' }),
        'InvalidExecutionInput',
      );
      await rejectsWith(
        engine.updateStateMachine({ stateMachineArn: arn, definition: '{}' }),
        'InvalidDefinition',
      );
      await rejectsWith(engine.listStateMachines({ nextToken: 'garbage' }), 'ValidationException');
    });
  });
});

// ---- executions ---------------------------------------------------------------------------

describe('Engine: executions', () => {
  it('runs Wait, Task, Parallel and Map (MaxConcurrency honoured)', async () => {
    let running = 0;
    let maxRunning = 0;
    const functions: Record<string, LambdaHandler> = {
      double: async (event) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(15);
        running--;
        return (event as number) * 2;
      },
      greet: (event) => `hello ${(event as { who: string }).who}`,
    };
    const definition: JsonObject = {
      StartAt: 'W',
      States: {
        W: { Type: 'Wait', Seconds: 10, Next: 'Greet' },
        Greet: { Type: 'Task', Resource: fnArn('greet'), ResultPath: '$.greeting', Next: 'Par' },
        Par: {
          Type: 'Parallel',
          ResultPath: '$.par',
          Branches: [
            { StartAt: 'A', States: { A: { Type: 'Pass', Result: 'a', End: true } } },
            {
              StartAt: 'BW',
              States: {
                BW: { Type: 'Wait', Seconds: 5, Next: 'B' },
                B: { Type: 'Pass', Result: 'b', End: true },
              },
            },
          ],
          Next: 'M',
        },
        M: {
          Type: 'Map',
          ItemsPath: '$.items',
          MaxConcurrency: 2,
          ResultPath: '$.doubled',
          Iterator: { StartAt: 'D', States: { D: { Type: 'Task', Resource: fnArn('double'), End: true } } },
          End: true,
        },
      },
    };
    await withEngine(functions, {}, async (engine) => {
      const { d, h } = await runToEnd(engine, definition, { who: 'ann', items: [1, 2, 3, 4, 5] });
      assert.equal(d.status, 'SUCCEEDED', d.cause);
      assert.deepEqual(JSON.parse(d.output ?? 'null'), {
        who: 'ann',
        items: [1, 2, 3, 4, 5],
        greeting: 'hello ann',
        par: ['a', 'b'],
        doubled: [2, 4, 6, 8, 10],
      });
      assert.equal(maxRunning, 2, 'MaxConcurrency 2: two iterations at once, never more');
      assert.equal(countOf(h, 'MapIterationStarted'), 5);
      assert.equal(countOf(h, 'MapIterationSucceeded'), 5);
      assert.equal(countOf(h, 'ParallelStateSucceeded'), 1);
      assert.equal(countOf(h, 'WaitStateExited'), 2);
      assert.equal(h.at(-1)?.type, 'ExecutionSucceeded');
    });
  });

  it('retries with exponential back-off, then fails when the attempts are spent', async () => {
    const calls = new Map<string, number>();
    const functions: Record<string, LambdaHandler> = {
      flaky: (event) => {
        const key = (event as { key: string }).key;
        const n = (calls.get(key) ?? 0) + 1;
        calls.set(key, n);
        if (key === 'always' || n <= 3) throw Object.assign(new Error(`attempt ${n}`), { name: 'Flaky' });
        return { attempts: n };
      },
    };
    const definition: JsonObject = {
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: fnArn('flaky'),
          Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 3 }],
          End: true,
        },
      },
    };
    // waitScale 0.05: the retry delays are 50, 100 and 200 ms.
    await withEngine(functions, { waitScale: 0.05 }, async (engine) => {
      const { d, h } = await runToEnd(engine, definition, { key: 'thrice' });
      assert.equal(d.status, 'SUCCEEDED', d.cause);
      assert.deepEqual(JSON.parse(d.output ?? 'null'), { attempts: 4 });
      assert.equal(countOf(h, 'LambdaFunctionScheduled'), 4);
      assert.equal(countOf(h, 'LambdaFunctionFailed'), 3);
      const failedAt = h.filter((e) => e.type === 'LambdaFunctionFailed').map((e) => e.timestamp);
      const scheduledAt = h.filter((e) => e.type === 'LambdaFunctionScheduled').map((e) => e.timestamp);
      const gaps = failedAt.map((t, i) => (scheduledAt[i + 1] ?? 0) - t);
      // Timer resolution allows a few ms early; the upper side is not checked (a loaded machine is slow).
      [50, 100, 200].forEach((want, i) =>
        assert.ok((gaps[i] ?? 0) >= want - 5, `retry ${i + 1} after ${gaps[i]} ms`),
      );
      assert.ok((gaps[2] ?? 0) > (gaps[0] ?? 0), `back-off grows: ${gaps.join(', ')}`);

      const spent = await runToEnd(engine, definition, { key: 'always' });
      assert.equal(spent.d.status, 'FAILED');
      assert.equal(spent.d.error, 'Flaky');
      assert.equal(countOf(spent.h, 'LambdaFunctionScheduled'), 4, 'one attempt plus MaxAttempts retries');
      assert.equal(spent.h.at(-1)?.type, 'ExecutionFailed');
    });
  });

  it('catches an error into a fallback state', async () => {
    const functions: Record<string, LambdaHandler> = {
      boom: () => {
        throw Object.assign(new Error('it broke'), { name: 'CustomError' });
      },
    };
    const definition: JsonObject = {
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: fnArn('boom'),
          Catch: [{ ErrorEquals: ['CustomError'], ResultPath: '$.caught', Next: 'Handled' }],
          End: true,
        },
        Handled: { Type: 'Pass', End: true },
      },
    };
    await withEngine(functions, {}, async (engine) => {
      const { d, h } = await runToEnd(engine, definition, { a: 1 });
      assert.equal(d.status, 'SUCCEEDED', d.cause);
      const out = JSON.parse(d.output ?? 'null') as { a: number; caught: { Error: string; Cause: string } };
      assert.equal(out.a, 1);
      assert.equal(out.caught.Error, 'CustomError');
      assert.match(out.caught.Cause, /it broke/);
      assert.deepEqual(types(h).slice(-5), [
        'LambdaFunctionFailed',
        'TaskStateExited',
        'PassStateEntered',
        'PassStateExited',
        'ExecutionSucceeded',
      ]);
    });
  });

  it('keeps the definition an execution started with after UpdateStateMachine', async () => {
    const { tokens, cb } = tokenCollector();
    const version = (v: string): JsonObject => ({
      StartAt: 'Wait4Me',
      States: {
        Wait4Me: callbackState({ Next: 'Which' }),
        Which: { Type: 'Pass', Result: v, End: true },
      },
    });
    await withEngine({ cb }, {}, async (engine) => {
      const smArn = await createMachine(engine, 'pinned', version('v1'));
      const { executionArn } = await engine.startExecution({ stateMachineArn: smArn, name: 'old' });
      const token = await waitFor('the callback token', () => tokens[0]);
      await engine.updateStateMachine({ stateMachineArn: smArn, definition: JSON.stringify(version('v2')) });

      const forExec = await engine.describeStateMachineForExecution(executionArn);
      assert.equal(forExec.definition, JSON.stringify(version('v1')));
      assert.equal((await engine.describeStateMachine(smArn)).definition, JSON.stringify(version('v2')));

      await engine.sendTaskSuccess({ taskToken: token, output: '{}' });
      const d = await finished(engine, executionArn);
      assert.equal(d.output, '"v1"');

      const { executionArn: newer } = await engine.startExecution({ stateMachineArn: smArn, name: 'new' });
      await engine.sendTaskSuccess({
        taskToken: await waitFor('the second token', () => tokens[1]),
        output: '{}',
      });
      assert.equal((await finished(engine, newer)).output, '"v2"');
      assert.equal(
        (await engine.describeStateMachineForExecution(newer)).definition,
        JSON.stringify(version('v2')),
      );
    });
  });

  it('StopExecution aborts the execution with error and cause, and aborts running tasks', async () => {
    let started = false;
    let aborted = false;
    const functions: Record<string, LambdaHandler> = {
      slow: (_event, ctx) =>
        new Promise((_resolve, reject) => {
          started = true;
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        }),
    };
    const definition: JsonObject = {
      StartAt: 'T',
      States: { T: { Type: 'Task', Resource: fnArn('slow'), End: true } },
    };
    await withEngine(functions, {}, async (engine) => {
      const smArn = await createMachine(engine, 'stoppable', definition);
      const { executionArn } = await engine.startExecution({ stateMachineArn: smArn, name: 's' });
      await waitFor('the task to start', () => (started ? true : undefined));
      const { stopDate } = await engine.stopExecution({
        executionArn,
        error: 'Operator.Stop',
        cause: 'enough',
      });
      const d = await engine.describeExecution(executionArn);
      assert.equal(d.status, 'ABORTED');
      assert.equal(d.error, 'Operator.Stop');
      assert.equal(d.cause, 'enough');
      assert.equal(d.stopDate, stopDate);
      await waitFor("the task's AbortSignal", () => (aborted ? true : undefined));
      const h = await historyOf(engine, executionArn);
      assertConsistent(h);
      assert.equal(h.at(-1)?.type, 'ExecutionAborted');
      assert.equal(countOf(h, 'LambdaFunctionFailed') + countOf(h, 'LambdaFunctionSucceeded'), 0);
      // Stopping an ended execution changes nothing.
      assert.deepEqual(await engine.stopExecution({ executionArn }), { stopDate });
      assert.equal((await historyOf(engine, executionArn)).length, h.length);
    });
  });

  it('StartExecution is idempotent for the same name and input while RUNNING', async () => {
    const { tokens, cb } = tokenCollector();
    await withEngine({ cb }, {}, async (engine) => {
      const smArn = await createMachine(engine, 'idem', {
        StartAt: 'C',
        States: { C: callbackState({ End: true }) },
      });
      const first = await engine.startExecution({ stateMachineArn: smArn, name: 'once', input: '{"n":1}' });
      const again = await engine.startExecution({ stateMachineArn: smArn, name: 'once', input: '{"n":1}' });
      assert.deepEqual(again, first);
      await rejectsWith(
        engine.startExecution({ stateMachineArn: smArn, name: 'once', input: '{"n":2}' }),
        'ExecutionAlreadyExists',
      );
      await engine.sendTaskSuccess({ taskToken: await waitFor('token', () => tokens[0]), output: '1' });
      await finished(engine, first.executionArn);
      assert.equal(tokens.length, 1, 'the idempotent start did not start a second run');
      await rejectsWith(
        engine.startExecution({ stateMachineArn: smArn, name: 'once', input: '{"n":1}' }),
        'ExecutionAlreadyExists',
      );
      const list = await engine.listExecutions({ stateMachineArn: smArn });
      assert.equal(list.items.length, 1);
    });
  });
});

// ---- describe, list, history --------------------------------------------------------------

describe('Engine: DescribeExecution, ListExecutions, GetExecutionHistory', () => {
  const definition: JsonObject = {
    StartAt: 'Check',
    States: {
      Check: {
        Type: 'Choice',
        Choices: [{ Variable: '$.fail', BooleanEquals: true, Next: 'No' }],
        Default: 'Yes',
      },
      Yes: { Type: 'Pass', End: true },
      No: { Type: 'Fail', Error: 'Told.ToFail', Cause: 'input said so' },
    },
  };

  it('describes executions and lists them newest first, filtered by status, page by page', async () => {
    await withEngine({}, {}, async (engine) => {
      const smArn = await createMachine(engine, 'lister', definition);
      const arns: string[] = [];
      for (let i = 0; i < 7; i++) {
        const r = await engine.startExecution({
          stateMachineArn: smArn,
          name: `e${i}`,
          input: JSON.stringify({ fail: i % 3 === 0 }),
        });
        arns.push(r.executionArn);
        await finished(engine, r.executionArn);
      }
      const ok = await engine.describeExecution(arns[1]!);
      assert.equal(ok.status, 'SUCCEEDED');
      assert.equal(ok.name, 'e1');
      assert.equal(ok.stateMachineArn, smArn);
      assert.equal(ok.input, '{"fail":false}');
      assert.equal(ok.output, '{"fail":false}');
      assert.ok(ok.stopDate !== undefined && ok.stopDate >= ok.startDate);
      const bad = await engine.describeExecution(arns[3]!);
      assert.equal(bad.status, 'FAILED');
      assert.equal(bad.error, 'Told.ToFail');
      assert.equal(bad.cause, 'input said so');
      assert.equal(bad.output, undefined);

      const all: string[] = [];
      const tokens: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await engine.listExecutions({ stateMachineArn: smArn, maxResults: 3, nextToken });
        all.push(...page.items.map((i) => i.name));
        nextToken = page.nextToken;
        if (nextToken !== undefined) tokens.push(nextToken);
      } while (nextToken !== undefined);
      assert.deepEqual(all, ['e6', 'e5', 'e4', 'e3', 'e2', 'e1', 'e0'], 'newest first');
      assert.equal(tokens.length, 2);

      const failed = await engine.listExecutions({ stateMachineArn: smArn, statusFilter: 'FAILED' });
      assert.deepEqual(
        failed.items.map((i) => [i.name, i.status]),
        [
          ['e6', 'FAILED'],
          ['e3', 'FAILED'],
          ['e0', 'FAILED'],
        ],
      );
      const statuses: ExecutionStatus[] = ['RUNNING', 'ABORTED', 'TIMED_OUT'];
      for (const statusFilter of statuses) {
        assert.deepEqual((await engine.listExecutions({ stateMachineArn: smArn, statusFilter })).items, []);
      }
      const succeeded = await engine.listExecutions({ stateMachineArn: smArn, statusFilter: 'SUCCEEDED' });
      assert.equal(succeeded.items.length, 4);
      // A token belongs to its query.
      await rejectsWith(
        engine.listExecutions({ stateMachineArn: smArn, statusFilter: 'FAILED', nextToken: tokens[0] }),
        'ValidationException',
      );
      await rejectsWith(
        engine.listExecutions({ stateMachineArn: smArn, nextToken: 'nope' }),
        'ValidationException',
      );
      await rejectsWith(
        engine.listExecutions({ stateMachineArn: smArn, maxResults: 1001 }),
        'ValidationException',
      );
    });
  });

  it('pages the history forwards and in reverse with contiguous ids', async () => {
    const definition2: JsonObject = {
      StartAt: 'P0',
      States: Object.fromEntries(
        Array.from({ length: 8 }, (_, i) => [
          `P${i}`,
          i < 7 ? { Type: 'Pass', Next: `P${i + 1}` } : { Type: 'Pass', End: true },
        ]),
      ),
    };
    await withEngine({}, {}, async (engine) => {
      const { d, h } = await runToEnd(engine, definition2, { x: 1 });
      assert.equal(d.status, 'SUCCEEDED');
      assert.equal(h.length, 1 + 16 + 1);
      assert.equal(h[0]?.type, 'ExecutionStarted');
      assert.equal(h.at(-1)?.type, 'ExecutionSucceeded');

      const collect = async (reverseOrder: boolean) => {
        const out: HistoryEvent[] = [];
        let nextToken: string | undefined;
        let pages = 0;
        do {
          const page = await engine.getExecutionHistory({
            executionArn: d.executionArn,
            maxResults: 5,
            reverseOrder,
            nextToken,
          });
          assert.ok(page.items.length <= 5);
          out.push(...page.items);
          nextToken = page.nextToken;
          pages++;
        } while (nextToken !== undefined);
        return { out, pages };
      };
      const fwd = await collect(false);
      assert.equal(fwd.pages, 4);
      assert.deepEqual(fwd.out, h);
      const rev = await collect(true);
      assert.deepEqual(
        rev.out.map((e) => e.id),
        h.map((e) => e.id).reverse(),
      );
      assert.deepEqual(rev.out, [...h].reverse());
      await rejectsWith(
        engine.getExecutionHistory({ executionArn: d.executionArn, nextToken: 'bogus' }),
        'ValidationException',
      );
    });
  });
});

// ---- callbacks ----------------------------------------------------------------------------

describe('Engine: callbacks (waitForTaskToken)', () => {
  it('issues unguessable tokens and finishes tasks by SendTaskSuccess and SendTaskFailure', async () => {
    const { tokens, cb } = tokenCollector();
    const definition: JsonObject = {
      StartAt: 'C',
      States: {
        C: callbackState({
          Catch: [{ ErrorEquals: ['Rejected'], ResultPath: '$.why', Next: 'Rejected' }],
          End: true,
        }),
        Rejected: { Type: 'Pass', End: true },
      },
    };
    await withEngine({ cb }, {}, async (engine) => {
      const smArn = await createMachine(engine, 'cb', definition);
      const a = await engine.startExecution({ stateMachineArn: smArn, name: 'a', input: '{"k":"a"}' });
      const ta = await waitFor('token a', () => tokens[0]);
      const b = await engine.startExecution({ stateMachineArn: smArn, name: 'b', input: '{"k":"b"}' });
      const tb = await waitFor('token b', () => tokens[1]);
      for (const t of [ta, tb]) {
        // At least 128 random bits: 22+ base64url characters (the engine uses 256 bits).
        assert.match(t, /^[A-Za-z0-9_-]{22,}$/);
        assert.ok(Buffer.from(t, 'base64url').length >= 16);
      }
      assert.notEqual(ta, tb);

      await engine.sendTaskSuccess({ taskToken: ta, output: '{"approved":true}' });
      const da = await finished(engine, a.executionArn);
      assert.equal(da.status, 'SUCCEEDED');
      assert.equal(da.output, '{"approved":true}');
      const ha = await historyOf(engine, a.executionArn);
      assertConsistent(ha);
      assert.deepEqual(types(ha).slice(2, 6), [
        'TaskScheduled',
        'TaskStarted',
        'TaskSubmitted',
        'TaskSucceeded',
      ]);

      await engine.sendTaskFailure({ taskToken: tb, error: 'Rejected', cause: 'no thanks' });
      const db = await finished(engine, b.executionArn);
      assert.equal(db.status, 'SUCCEEDED');
      assert.deepEqual(JSON.parse(db.output ?? 'null'), {
        k: 'b',
        why: { Error: 'Rejected', Cause: 'no thanks' },
      });
      assert.ok(types(await historyOf(engine, b.executionArn)).includes('TaskFailed'));

      // Ended tasks no longer exist; unknown tokens never did; malformed ones are invalid.
      await rejectsWith(engine.sendTaskSuccess({ taskToken: ta, output: '{}' }), 'TaskDoesNotExist');
      await rejectsWith(engine.sendTaskFailure({ taskToken: tb }), 'TaskDoesNotExist');
      await rejectsWith(engine.sendTaskHeartbeat({ taskToken: ta }), 'TaskDoesNotExist');
      await rejectsWith(
        engine.sendTaskSuccess({ taskToken: 'A'.repeat(43), output: '{}' }),
        'TaskDoesNotExist',
      );
      await rejectsWith(engine.sendTaskSuccess({ taskToken: '', output: '{}' }), 'InvalidToken');
      await rejectsWith(engine.sendTaskHeartbeat({ taskToken: 'x'.repeat(5000) }), 'InvalidToken');
    });
  });

  it('rejects output that is not JSON without ending the task', async () => {
    const { tokens, cb } = tokenCollector();
    await withEngine({ cb }, {}, async (engine) => {
      const smArn = await createMachine(engine, 'cbjson', {
        StartAt: 'C',
        States: { C: callbackState({ End: true }) },
      });
      const { executionArn } = await engine.startExecution({ stateMachineArn: smArn });
      const token = await waitFor('token', () => tokens[0]);
      await rejectsWith(engine.sendTaskSuccess({ taskToken: token, output: '{nope' }), 'ValidationException');
      assert.equal((await engine.describeExecution(executionArn)).status, 'RUNNING');
      await engine.sendTaskSuccess({ taskToken: token, output: '[1]' });
      assert.equal((await finished(engine, executionArn)).output, '[1]');
    });
  });

  it('enforces HeartbeatSeconds: heartbeats keep the task alive, silence times it out', async () => {
    const { tokens, cb } = tokenCollector();
    const definition: JsonObject = {
      StartAt: 'C',
      States: { C: callbackState({ HeartbeatSeconds: 1, End: true }) },
    };
    await withEngine({ cb }, {}, async (engine) => {
      const smArn = await createMachine(engine, 'hb', definition);
      const alive = await engine.startExecution({ stateMachineArn: smArn, name: 'alive' });
      const token = await waitFor('token', () => tokens[0]);
      // Heartbeats every 250 ms for 1.75 s: well past the 1 s heartbeat window.
      for (let i = 0; i < 7; i++) {
        await sleep(250);
        await engine.sendTaskHeartbeat({ taskToken: token });
      }
      assert.equal((await engine.describeExecution(alive.executionArn)).status, 'RUNNING');
      await engine.sendTaskSuccess({ taskToken: token, output: '"ok"' });
      const d = await finished(engine, alive.executionArn);
      assert.equal(d.status, 'SUCCEEDED');

      const silent = await engine.startExecution({ stateMachineArn: smArn, name: 'silent' });
      const t2 = await waitFor('token 2', () => tokens[1]);
      const d2 = await finished(engine, silent.executionArn);
      assert.equal(d2.status, 'FAILED');
      assert.equal(d2.error, 'States.Timeout');
      const h2 = await historyOf(engine, silent.executionArn);
      assertConsistent(h2);
      assert.ok(types(h2).includes('TaskTimedOut'), types(h2).join(' '));
      assert.ok(d2.stopDate !== undefined && d2.stopDate - d2.startDate >= 990);
      await rejectsWith(engine.sendTaskSuccess({ taskToken: t2, output: '{}' }), 'TaskDoesNotExist');
    });
  });
});

// ---- activities ---------------------------------------------------------------------------

describe('Engine: activities', () => {
  it('hands each task to exactly one of two concurrent workers', async () => {
    await withEngine({}, {}, async (engine) => {
      const { activityArn } = await engine.createActivity({ name: 'work' });
      assert.equal((await engine.createActivity({ name: 'work' })).activityArn, activityArn, 'idempotent');
      const smArn = await createMachine(engine, 'act', {
        StartAt: 'A',
        States: { A: { Type: 'Task', Resource: activityArn, End: true } },
      });
      const N = 6;
      const claimed = new Map<string, string>(); // token -> worker
      const duplicates: string[] = [];
      const stop = new AbortController();
      const worker = async (name: string) => {
        while (!stop.signal.aborted) {
          const t = await engine.getActivityTask({ activityArn, workerName: name }, stop.signal);
          if (t.taskToken === undefined) continue;
          if (claimed.has(t.taskToken)) duplicates.push(name);
          claimed.set(t.taskToken, name);
          const input = JSON.parse(t.input ?? 'null') as { i: number };
          await engine.sendTaskSuccess({
            taskToken: t.taskToken,
            output: JSON.stringify({ i: input.i, by: name }),
          });
        }
      };
      // Both workers are already polling when the tasks arrive.
      const workers = [worker('w1'), worker('w2')];
      try {
        const arns: string[] = [];
        for (let i = 0; i < N; i++) {
          const r = await engine.startExecution({
            stateMachineArn: smArn,
            name: `x${i}`,
            input: `{"i":${i}}`,
          });
          arns.push(r.executionArn);
        }
        for (const [i, arn] of arns.entries()) {
          const d = await finished(engine, arn);
          assert.equal(d.status, 'SUCCEEDED', d.cause);
          const out = JSON.parse(d.output ?? 'null') as { i: number; by: string };
          assert.equal(out.i, i);
          const h = await historyOf(engine, arn);
          assertConsistent(h);
          assert.equal(countOf(h, 'ActivityScheduled'), 1);
          assert.equal(countOf(h, 'ActivitySucceeded'), 1);
          assert.ok(countOf(h, 'ActivityStarted') <= 1);
        }
      } finally {
        stop.abort();
        await Promise.all(workers);
      }
      assert.deepEqual(duplicates, []);
      assert.equal(claimed.size, N);
    });
  });

  it('records ActivityStarted (with the worker name) before the outcome of a worker that answers at once', async () => {
    await withEngine({}, {}, async (engine) => {
      const { activityArn } = await engine.createActivity({ name: 'quick' });
      const smArn = await createMachine(engine, 'quick', {
        StartAt: 'A',
        States: { A: { Type: 'Task', Resource: activityArn, End: true } },
      });
      const { executionArn } = await engine.startExecution({ stateMachineArn: smArn });
      const t = await engine.getActivityTask({ activityArn, workerName: 'fast' }, AbortSignal.timeout(5000));
      await engine.sendTaskSuccess({ taskToken: t.taskToken ?? '', output: '{}' });
      await finished(engine, executionArn);
      const h = await historyOf(engine, executionArn);
      assert.deepEqual(types(h).slice(2, 5), ['ActivityScheduled', 'ActivityStarted', 'ActivitySucceeded']);
      assert.deepEqual(h[3]?.activityStartedEventDetails, { workerName: 'fast' });
    });
  });

  it('fails the execution (States.Runtime) at a Task naming an activity that was deleted', async () => {
    await withEngine({}, {}, async (engine) => {
      const { activityArn } = await engine.createActivity({ name: 'gone' });
      const smArn = await createMachine(engine, 'gone', {
        StartAt: 'ActivityTask',
        States: { ActivityTask: { Type: 'Task', Resource: activityArn, End: true } },
      });
      await engine.deleteActivity(activityArn);
      const { executionArn } = await engine.startExecution({ stateMachineArn: smArn, input: '{"a":1}' });
      const d = await finished(engine, executionArn);
      const cause =
        "An error occurred while executing the state 'ActivityTask' (entered at the event id #2). " +
        `The activity ${activityArn} does not exist.`;
      assert.equal(d.status, 'FAILED');
      assert.equal(d.error, 'States.Runtime');
      assert.equal(d.cause, cause);
      // As AWS records it: nothing scheduled, the execution fails from the state's entry.
      const h = await historyOf(engine, executionArn);
      assert.deepEqual(types(h), ['ExecutionStarted', 'TaskStateEntered', 'ExecutionFailed']);
      assert.equal(h[2]?.previousEventId, 2);
    });
  });

  it('returns an empty answer when no task arrives (the poll ends with its signal)', async () => {
    await withEngine({}, {}, async (engine) => {
      const { activityArn } = await engine.createActivity({ name: 'idle' });
      const t0 = Date.now();
      const r = await engine.getActivityTask({ activityArn }, AbortSignal.timeout(200));
      assert.equal(r.taskToken, undefined);
      assert.ok(Date.now() - t0 < 10_000);
      await rejectsWith(
        engine.getActivityTask({ activityArn: 'arn:aws:states:us-east-1:123456789012:activity:none' }),
        'ActivityDoesNotExist',
      );
    });
  });

  it('records ActivityFailed and ActivityTimedOut', async () => {
    await withEngine({}, {}, async (engine) => {
      const { activityArn } = await engine.createActivity({ name: 'maybe' });
      const smArn = await createMachine(engine, 'act2', {
        StartAt: 'A',
        States: { A: { Type: 'Task', Resource: activityArn, TimeoutSeconds: 1, End: true } },
      });
      const f = await engine.startExecution({ stateMachineArn: smArn, name: 'fails' });
      const task = await waitFor('an activity task', async () => {
        const t = await engine.getActivityTask({ activityArn, workerName: 'w' }, AbortSignal.timeout(500));
        return t.taskToken === undefined ? undefined : t;
      });
      await waitFor('ActivityStarted', async () =>
        types(await historyOf(engine, f.executionArn)).includes('ActivityStarted') ? true : undefined,
      );
      await engine.sendTaskFailure({
        taskToken: task.taskToken ?? '',
        error: 'Worker.Error',
        cause: 'bad input',
      });
      const df = await finished(engine, f.executionArn);
      assert.equal(df.status, 'FAILED');
      assert.equal(df.error, 'Worker.Error');
      assert.equal(df.cause, 'bad input');
      const hf = await historyOf(engine, f.executionArn);
      assertConsistent(hf);
      assert.deepEqual(types(hf).slice(2, 5), ['ActivityScheduled', 'ActivityStarted', 'ActivityFailed']);

      // Nobody polls: TimeoutSeconds (real time) ends the attempt.
      const t = await engine.startExecution({ stateMachineArn: smArn, name: 'times-out' });
      const dt = await finished(engine, t.executionArn);
      assert.equal(dt.status, 'FAILED');
      assert.equal(dt.error, 'States.Timeout');
      const ht = await historyOf(engine, t.executionArn);
      assertConsistent(ht);
      assert.ok(types(ht).includes('ActivityTimedOut'), types(ht).join(' '));
      assert.ok(!types(ht).includes('ActivityStarted'));
      // The timed-out task is gone from the queue.
      const late = await engine.getActivityTask({ activityArn }, AbortSignal.timeout(100));
      assert.equal(late.taskToken, undefined);
    });
  });
});

// ---- limits, Express ----------------------------------------------------------------------

describe('Engine: history limit and Express machines', () => {
  it('fails an execution that passes maxHistoryEvents with States.Runtime', async () => {
    const definition: JsonObject = {
      StartAt: 'T',
      States: {
        T: { Type: 'Task', Resource: fnArn('id'), Next: 'Again' },
        Again: {
          Type: 'Choice',
          Choices: [{ Variable: '$.stop', IsPresent: true, Next: 'Done' }],
          Default: 'T',
        },
        Done: { Type: 'Succeed' },
      },
    };
    await withEngine({ id: (e) => e }, { maxHistoryEvents: 50 }, async (engine) => {
      const { d, h } = await runToEnd(engine, definition);
      assert.equal(d.status, 'FAILED');
      assert.equal(d.error, 'States.Runtime');
      assert.match(d.cause ?? '', /maximum number of history events/);
      assert.equal(h.at(-1)?.type, 'ExecutionFailed');
      assert.ok(h.length > 50 && h.length <= 60, `${h.length} events`);
    });
  });

  it('fails a loop of Pass/Choice states at maxHistoryEvents instead of blocking the engine', () => {
    // In a child process: the bug hangs the event loop, which no in-process timeout can interrupt.
    const engineUrl = new URL('./engine.js', import.meta.url).href;
    const script = `
        import { Engine } from ${JSON.stringify(engineUrl)};
        const dataDir = process.argv[1];
        const e = await Engine.open({ dataDir, maxHistoryEvents: 50 });
        const def = { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' },
          B: { Type: 'Choice', Choices: [{ Variable: '$.stop', IsPresent: true, Next: 'Z' }], Default: 'A' },
          Z: { Type: 'Succeed' } } };
        const { stateMachineArn } = await e.createStateMachine({ name: 'loop', definition: JSON.stringify(def), roleArn: 'r' });
        const { executionArn } = await e.startExecution({ stateMachineArn });
        for (let i = 0; i < 200; i++) {
          const d = await e.describeExecution(executionArn);
          if (d.status !== 'RUNNING') { console.log(d.status, d.error); break; }
          await new Promise((r) => setTimeout(r, 10));
        }
        await e.close();`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, tempDir()], {
      timeout: 4000,
      encoding: 'utf8',
    });
    assert.equal(r.signal, null, 'the engine blocked (killed after 4 s)');
    assert.equal(r.stdout.trim(), 'FAILED States.Runtime', r.stderr);
  });

  it('times out a Standard execution at the maximum duration (AWS: one year), even across a restart', async () => {
    // maxExecutionMs stands for AWS's one year, as maxHistoryEvents stands for 25,000 events.
    const dataDir = tempDir();
    const definition: JsonObject = {
      StartAt: 'W',
      TimeoutSeconds: 99999999,
      States: { W: { Type: 'Wait', Seconds: 3600, End: true } },
    };
    let executionArn = '';
    let started = 0;
    await withEngine({}, { dataDir, waitScale: 1, maxExecutionMs: 1500 }, async (engine) => {
      const smArn = await createMachine(engine, 'long', definition);
      const r = await engine.startExecution({ stateMachineArn: smArn, name: 'year' });
      executionArn = r.executionArn;
      started = r.startDate;
    });
    // The engine is closed: only the timer row remembers the deadline.
    await withEngine({}, { dataDir, waitScale: 1, maxExecutionMs: 1500 }, async (engine) => {
      const d = await finished(engine, executionArn);
      assert.equal(d.status, 'TIMED_OUT');
      assert.equal(d.error, 'States.Timeout');
      assert.equal(d.cause, undefined);
      assert.ok((d.stopDate ?? 0) - started >= 1500, `stopped after ${(d.stopDate ?? 0) - started} ms`);
      assert.equal(d.redriveStatus, 'NOT_REDRIVABLE');
      assert.equal(d.redriveStatusReason, 'Execution has exceeded the max execution time');
      const h = await historyOf(engine, executionArn);
      assertConsistent(h);
      assert.deepEqual(types(h), ['ExecutionStarted', 'WaitStateEntered', 'ExecutionTimedOut']);
    });
  });

  it('fails a state whose output exceeds 256 KiB (Standard and Express) with States.DataLimitExceeded', async () => {
    const definition: JsonObject = {
      StartAt: 'Double',
      States: {
        Double: { Type: 'Pass', Parameters: { 'a.$': '$.s', 'b.$': '$.s' }, Next: 'Never' },
        Never: { Type: 'Pass', End: true },
      },
    };
    const input = JSON.stringify({ s: 'x'.repeat(200_000) });
    await withEngine({}, {}, async (engine) => {
      const std = await createMachine(engine, 'big', definition);
      const { executionArn } = await engine.startExecution({ stateMachineArn: std, input });
      const d = await finished(engine, executionArn);
      assert.equal(d.status, 'FAILED');
      assert.equal(d.error, 'States.DataLimitExceeded');
      assert.deepEqual(types(await historyOf(engine, executionArn)), [
        'ExecutionStarted',
        'PassStateEntered',
        'ExecutionFailed',
      ]);
      const express = await createMachine(engine, 'big-express', definition, 'EXPRESS');
      const r = await engine.startSyncExecution({ stateMachineArn: express, input });
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'States.DataLimitExceeded');
    });
  });

  it('starts right after an update or a delete see it (the start-time row is dropped at once)', async () => {
    await withEngine({}, {}, async (engine) => {
      const result = (v: number) => ({ StartAt: 'P', States: { P: { Type: 'Pass', Result: v, End: true } } });
      const arn = await createMachine(engine, 'fresh', result(1), 'EXPRESS');
      assert.equal((await engine.startSyncExecution({ stateMachineArn: arn })).output, '1');
      await engine.updateStateMachine({ stateMachineArn: arn, definition: JSON.stringify(result(2)) });
      assert.equal((await engine.startSyncExecution({ stateMachineArn: arn })).output, '2');
      await engine.deleteStateMachine(arn);
      await rejectsWith(engine.startSyncExecution({ stateMachineArn: arn }), 'StateMachineDoesNotExist');
      await rejectsWith(engine.startExecution({ stateMachineArn: arn }), 'StateMachineDoesNotExist');
    });
  });

  it('runs Express machines with StartSyncExecution', async () => {
    const functions: Record<string, LambdaHandler> = {
      inc: (e) => (e as number) + 1,
      boom: () => {
        throw Object.assign(new Error('nope'), { name: 'Boom' });
      },
    };
    await withEngine(functions, {}, async (engine) => {
      const arn = await createMachine(
        engine,
        'fast',
        {
          StartAt: 'W',
          States: {
            W: { Type: 'Wait', Seconds: 1, Next: 'I' },
            I: { Type: 'Task', Resource: fnArn('inc'), InputPath: '$.n', ResultPath: '$.n', End: true },
          },
        },
        'EXPRESS',
      );
      assert.equal((await engine.describeStateMachine(arn)).type, 'EXPRESS');
      const r = await engine.startSyncExecution({ stateMachineArn: arn, name: 'one', input: '{"n":41}' });
      assert.equal(r.status, 'SUCCEEDED');
      assert.equal(r.output, '{"n":42}');
      assert.equal(r.name, 'one');
      assert.equal(r.input, '{"n":41}');
      assert.ok(r.billingDetails.billedDurationInMilliseconds >= 100);
      assert.match(r.executionArn, /^arn:aws:states:us-east-1:123456789012:express:fast:one:/);

      const failing = await createMachine(
        engine,
        'fails',
        { StartAt: 'B', States: { B: { Type: 'Task', Resource: fnArn('boom'), End: true } } },
        'EXPRESS',
      );
      const f = await engine.startSyncExecution({ stateMachineArn: failing });
      assert.equal(f.status, 'FAILED');
      assert.equal(f.error, 'Boom');
      assert.equal(f.output, undefined);

      const std = await createMachine(engine, 'std', PASS);
      await rejectsWith(engine.startSyncExecution({ stateMachineArn: std }), 'StateMachineTypeNotSupported');
    });
  });

  it('rejects .waitForTaskToken and activities in an EXPRESS definition (InvalidDefinition)', async () => {
    await withEngine({}, {}, async (engine) => {
      const { activityArn } = await engine.createActivity({ name: 'a' });
      const callback: JsonObject = { StartAt: 'C', States: { C: callbackState({ End: true }) } };
      const activity: JsonObject = {
        StartAt: 'A',
        States: { A: { Type: 'Task', Resource: activityArn, End: true } },
      };
      await rejectsWith(createMachine(engine, 'x1', callback, 'EXPRESS'), 'InvalidDefinition');
      await rejectsWith(createMachine(engine, 'x2', activity, 'EXPRESS'), 'InvalidDefinition');
      // The same definitions are fine for Standard machines.
      await createMachine(engine, 'x1', callback);
      await createMachine(engine, 'x2', activity);
      // And an update of an Express machine is checked too.
      const ex = await createMachine(engine, 'x3', PASS, 'EXPRESS');
      await rejectsWith(
        engine.updateStateMachine({ stateMachineArn: ex, definition: JSON.stringify(callback) }),
        'InvalidDefinition',
      );
    });
  });
});

// ---- restarts -----------------------------------------------------------------------------

describe('Engine: restarts', () => {
  it('continues a Wait after the engine is closed and reopened', async () => {
    const dataDir = tempDir();
    const definition: JsonObject = {
      StartAt: 'W',
      States: { W: { Type: 'Wait', Seconds: 2, Next: 'P' }, P: { Type: 'Pass', Result: 'after', End: true } },
    };
    let executionArn = '';
    await withEngine({}, { dataDir, waitScale: 1 }, async (engine) => {
      const smArn = await createMachine(engine, 'sleepy', definition);
      executionArn = (await engine.startExecution({ stateMachineArn: smArn, name: 'nap' })).executionArn;
    });
    await withEngine({}, { dataDir, waitScale: 1 }, async (engine) => {
      assert.equal((await engine.describeExecution(executionArn)).status, 'RUNNING');
      const d = await finished(engine, executionArn);
      assert.equal(d.status, 'SUCCEEDED');
      assert.equal(d.output, '"after"');
      const h = await historyOf(engine, executionArn);
      assertConsistent(h);
      assert.deepEqual(types(h), [
        'ExecutionStarted',
        'WaitStateEntered',
        'WaitStateExited',
        'PassStateEntered',
        'PassStateExited',
        'ExecutionSucceeded',
      ]);
      const waited = (h[2]?.timestamp ?? 0) - (h[1]?.timestamp ?? 0);
      assert.ok(waited >= 1990, `waited ${waited} ms`);
    });
  });

  describe('the parts of a state that never change (init, input), stored once', () => {
    const definition: JsonObject = {
      StartAt: 'S',
      States: {
        // The Wait's own input stays small: only init and the execution input are large.
        S: { Type: 'Pass', Result: 'small', Next: 'W' },
        W: { Type: 'Wait', Seconds: 1, Next: 'P' },
        P: {
          Type: 'Pass',
          Parameters: {
            'input.$': '$$.Execution.Input',
            'name.$': '$$.Execution.Name',
            'role.$': '$$.Execution.RoleArn',
            'machine.$': '$$.StateMachine.Name',
          },
          End: true,
        },
      },
    };
    const marker = 'x'.repeat(2000);
    const expected = { input: { marker, n: 1.5 }, name: 'once', role: ROLE, machine: 'fixed' };

    /** Starts an execution parked in its Wait and closes the engine; returns the state row. */
    async function parked(dataDir: string): Promise<{ arn: string; db: Database.Database }> {
      let arn = '';
      await withEngine({}, { dataDir, waitScale: 1 }, async (engine) => {
        const smArn = await createMachine(engine, 'fixed', definition);
        const input = JSON.stringify({ marker, n: 1.5 });
        arn = (await engine.startExecution({ stateMachineArn: smArn, name: 'once', input })).executionArn;
      });
      return { arn, db: new Database(join(dataDir, 'stepwise.db')) };
    }

    const stateRow = (db: Database.Database) =>
      db.prepare('SELECT state, fixed FROM states').get() as { state: string; fixed: string | null };

    it('writes neither into the state of each step, and a resumed execution sees both', async () => {
      const dataDir = tempDir();
      const { arn, db } = await parked(dataDir);
      const row = stateRow(db);
      db.close();
      assert.ok(!row.state.includes(marker), 'the input is not in the state row');
      assert.ok(!row.state.includes(arn), 'the execution ARN (init) is not in the state row');
      assert.ok(row.state.length < 1000, `state row of ${row.state.length} characters`);
      assert.equal((JSON.parse(row.fixed ?? 'null') as { executionArn?: string }).executionArn, arn);
      await withEngine({}, { dataDir, waitScale: 1 }, async (engine) => {
        const d = await finished(engine, arn);
        assert.equal(d.status, 'SUCCEEDED');
        assert.deepEqual(JSON.parse(d.output ?? 'null'), expected);
      });
    });

    it('resumes an execution stored before, with both inside its state', async () => {
      const dataDir = tempDir();
      const { arn, db } = await parked(dataDir);
      // The row as an engine before the fixed column wrote it.
      const row = stateRow(db);
      const whole = {
        ...(JSON.parse(row.state) as JsonObject),
        init: JSON.parse(row.fixed ?? 'null') as JsonObject,
        input: expected.input,
      };
      db.prepare('UPDATE states SET state = ?, fixed = NULL').run(JSON.stringify(whole));
      db.close();
      await withEngine({}, { dataDir, waitScale: 1 }, async (engine) => {
        const d = await finished(engine, arn);
        assert.equal(d.status, 'SUCCEEDED');
        assert.deepEqual(JSON.parse(d.output ?? 'null'), expected);
      });
    });
  });

  it('finishes a callback task with a token issued before the restart', async () => {
    const dataDir = tempDir();
    const { tokens, cb } = tokenCollector();
    const definition: JsonObject = {
      StartAt: 'C',
      States: { C: callbackState({ Next: 'P' }), P: { Type: 'Pass', End: true } },
    };
    let executionArn = '';
    await withEngine({ cb }, { dataDir }, async (engine) => {
      const smArn = await createMachine(engine, 'cbr', definition);
      executionArn = (await engine.startExecution({ stateMachineArn: smArn, name: 'c' })).executionArn;
      const h = await waitFor('TaskSubmitted', async () => {
        const events = await historyOf(engine, executionArn);
        return events.some((e) => e.type === 'TaskSubmitted') ? events : undefined;
      });
      assert.ok(h.length > 0);
    });
    await withEngine({}, { dataDir }, async (engine) => {
      await engine.sendTaskSuccess({ taskToken: tokens[0] ?? '', output: '{"later":true}' });
      const d = await finished(engine, executionArn);
      assert.equal(d.status, 'SUCCEEDED');
      assert.equal(d.output, '{"later":true}');
      const h = await historyOf(engine, executionArn);
      assertConsistent(h);
      assert.equal(countOf(h, 'TaskScheduled'), 1);
      assert.equal(countOf(h, 'TaskSucceeded'), 1);
    });
    assert.equal(tokens.length, 1);
  });

  it('records a local task interrupted by a restart as a failed attempt that Retry handles', async () => {
    const dataDir = tempDir();
    let started = 0;
    const hang: LambdaHandler = (_e, ctx) =>
      new Promise((_resolve, reject) => {
        started++;
        ctx.signal.addEventListener('abort', () => reject(new Error('closed')));
      });
    const definition: JsonObject = {
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: fnArn('work'),
          Retry: [{ ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 1, MaxAttempts: 2 }],
          End: true,
        },
      },
    };
    const noRetry: JsonObject = {
      StartAt: 'T',
      States: { T: { Type: 'Task', Resource: fnArn('work'), End: true } },
    };
    let retried = '';
    let failed = '';
    await withEngine({ work: hang }, { dataDir }, async (engine) => {
      const a = await createMachine(engine, 'retrying', definition);
      const b = await createMachine(engine, 'plain', noRetry);
      retried = (await engine.startExecution({ stateMachineArn: a, name: 'r' })).executionArn;
      failed = (await engine.startExecution({ stateMachineArn: b, name: 'f' })).executionArn;
      await waitFor('both tasks to start', () => (started === 2 ? true : undefined));
    });
    await withEngine({ work: () => ({ done: true }) }, { dataDir }, async (engine) => {
      const d = await finished(engine, retried);
      assert.equal(d.status, 'SUCCEEDED', d.cause);
      assert.equal(d.output, '{"done":true}');
      const h = await historyOf(engine, retried);
      assertConsistent(h);
      assert.deepEqual(types(h).slice(2), [
        'LambdaFunctionScheduled',
        'LambdaFunctionStarted',
        'LambdaFunctionFailed',
        'LambdaFunctionScheduled',
        'LambdaFunctionStarted',
        'LambdaFunctionSucceeded',
        'TaskStateExited',
        'ExecutionSucceeded',
      ]);
      const failure = h.find((e) => e.type === 'LambdaFunctionFailed')?.lambdaFunctionFailedEventDetails as
        { error?: string; cause?: string } | undefined;
      assert.equal(failure?.error, 'States.TaskFailed');
      assert.match(failure?.cause ?? '', /^Stepwise restarted while this task was running/);

      const df = await finished(engine, failed);
      assert.equal(df.status, 'FAILED');
      assert.equal(df.error, 'States.TaskFailed');
      assert.match(df.cause ?? '', /^Stepwise restarted while this task was running/);
      assertConsistent(await historyOf(engine, failed));
    });
  });
});
