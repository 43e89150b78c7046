// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { compileDefinition } from '../language/compile.js';
import { StatesErrors } from '../language/errors.js';
import { parseJsonKeepingText, type JsonObject, type JsonValue } from '../language/json.js';
import type { CompiledDefinition } from '../language/model.js';
import { startExecution, step } from './interpreter.js';
import { payloadOverLimit } from './payload-limit.js';
import type {
  Command,
  ExecutionInit,
  ExecutionState,
  HistoryEvent,
  InputEvent,
  InterpreterEnv,
  StepResult,
  TaskRequest,
} from './types.js';

// ---- harness -------------------------------------------------------------------------------

const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);
const FN = 'arn:aws:lambda:us-east-1:123456789012:function:work';
const INVOKE = 'arn:aws:states:::lambda:invoke';

/**
 * Drives the pure interpreter by hand: a fake clock that only moves when told to, scripted
 * randomness, counted UUIDs. It keeps the outstanding tasks and timers as the commands say and
 * checks that every cancel names something outstanding.
 */
class Harness {
  time = T0;
  readonly randoms: number[] = [];
  randomCalls = 0;
  private uuidSeq = 0;
  readonly env: InterpreterEnv = {
    now: () => this.time,
    random: () => {
      this.randomCalls++;
      const r = this.randoms.shift();
      if (r === undefined) throw new Error('unexpected call to env.random()');
      return r;
    },
    uuid: () => `00000000-0000-4000-8000-${String(++this.uuidSeq).padStart(12, '0')}`,
  };
  readonly def: CompiledDefinition;
  state: ExecutionState | undefined;
  readonly events: HistoryEvent[] = [];
  readonly tasks = new Map<string, TaskRequest>();
  readonly timers = new Map<string, number>();
  /** Most outstanding tasks seen at once. */
  maxTasks = 0;

  constructor(
    definition: JsonValue,
    /** Replace the state by a JSON round-tripped copy after every call. */
    readonly roundTrip = false,
  ) {
    this.def = compileDefinition(definition);
  }

  get st(): ExecutionState {
    assert.ok(this.state, 'execution not started');
    return this.state;
  }

  start(input: JsonValue = {}, recordHistory = true, limits: Partial<ExecutionInit> = {}): StepResult {
    const init: ExecutionInit = {
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:sm:exec-1',
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:sm',
      name: 'exec-1',
      stateMachineName: 'sm',
      roleArn: 'arn:aws:iam::123456789012:role/r',
      input,
      recordHistory,
      ...limits,
    };
    const { state, result } = startExecution(this.def, init, this.env);
    this.state = state;
    return this.record(result);
  }

  send(event: InputEvent): StepResult {
    return this.record(step(this.def, this.st, event, this.env));
  }

  succeed(taskId: string, output: JsonValue): StepResult {
    return this.send({ type: 'taskSucceeded', taskId, output });
  }

  fail(taskId: string, error: string, cause?: string): StepResult {
    return this.send({ type: 'taskFailed', taskId, error, cause });
  }

  /** Moves the clock to the timer's due time (if later) and fires it. */
  fire(timerId: string): StepResult {
    const due = this.timers.get(timerId);
    assert.ok(due !== undefined, `timer ${timerId} is not outstanding`);
    this.timers.delete(timerId);
    this.time = Math.max(this.time, due);
    return this.send({ type: 'timerFired', timerId });
  }

  stop(error?: string, cause?: string): StepResult {
    return this.send({ type: 'stop', error, cause });
  }

  /** The single outstanding task. */
  task(): TaskRequest {
    assert.equal(
      this.tasks.size,
      1,
      `expected one outstanding task, got ${[...this.tasks.keys()].join(', ')}`,
    );
    return [...this.tasks.values()][0]!;
  }

  /** The single outstanding timer whose id starts with `prefix`. */
  timer(prefix: string): [id: string, due: number] {
    const found = [...this.timers].filter(([id]) => id.startsWith(prefix));
    assert.equal(
      found.length,
      1,
      `expected one '${prefix}' timer, got ${[...this.timers.keys()].join(', ')}`,
    );
    return found[0]!;
  }

  types(): string[] {
    return this.events.map((e) => e.type);
  }

  lastEvent(): HistoryEvent {
    const e = this.events[this.events.length - 1];
    assert.ok(e);
    return e;
  }

  private record(result: StepResult): StepResult {
    this.events.push(...result.events);
    for (const c of result.commands) {
      switch (c.kind) {
        case 'invokeTask':
          assert.ok(!this.tasks.has(c.task.taskId), `task id ${c.task.taskId} reused`);
          this.tasks.set(c.task.taskId, c.task);
          this.maxTasks = Math.max(this.maxTasks, this.tasks.size);
          break;
        case 'cancelTask':
          assert.ok(this.tasks.delete(c.taskId), `cancelTask for ${c.taskId}, which is not outstanding`);
          break;
        case 'startTimer':
          assert.ok(!this.timers.has(c.timerId), `timer id ${c.timerId} reused`);
          this.timers.set(c.timerId, c.dueTime);
          break;
        case 'cancelTimer':
          assert.ok(this.timers.delete(c.timerId), `cancelTimer for ${c.timerId}, which is not outstanding`);
          break;
        case 'await':
          // These tests drive JSONPath machines only: evaluation is synchronous.
          assert.fail('unexpected asynchronous evaluation');
      }
    }
    if (this.roundTrip && this.state) this.state = JSON.parse(JSON.stringify(this.state)) as ExecutionState;
    return result;
  }
}

/** A task completing removes it from the harness's outstanding set (the interpreter does not cancel it). */
function complete(h: Harness, taskId: string, output: JsonValue): StepResult {
  h.tasks.delete(taskId);
  return h.succeed(taskId, output);
}

function failTask(h: Harness, taskId: string, error: string, cause?: string): StepResult {
  h.tasks.delete(taskId);
  return h.fail(taskId, error, cause);
}

function details(e: HistoryEvent | undefined, key: string): Record<string, unknown> {
  assert.ok(e, 'no such event');
  const d = e[key];
  assert.ok(d !== null && typeof d === 'object', `event ${e.type} has no ${key}`);
  return d as Record<string, unknown>;
}

function eventOf(h: Harness, type: string, nth = 0): HistoryEvent {
  const e = h.events.filter((x) => x.type === type)[nth];
  assert.ok(e, `no ${type} event #${nth} in ${h.types().join(', ')}`);
  return e;
}

function commandKinds(r: StepResult): string[] {
  return r.commands.map((c) => c.kind);
}

function cancelled(r: StepResult): string[] {
  return r.commands.flatMap((c: Command) => (c.kind === 'cancelTask' ? [c.taskId] : []));
}

/** Every event id follows the previous one, and every link points backwards. */
function assertWellFormed(events: HistoryEvent[]): void {
  events.forEach((e, i) => {
    assert.equal(e.id, i + 1, `event #${i} has id ${e.id}`);
    assert.ok(
      e.previousEventId >= 0 && e.previousEventId < e.id,
      `${e.type} #${e.id} links to ${e.previousEventId}`,
    );
  });
}

/** A Task on a Lambda function ARN; it ends its machine unless `next` is given. */
function lambdaTask(extra: JsonObject = {}, next?: string): JsonObject {
  return { Type: 'Task', Resource: FN, ...extra, ...(next === undefined ? { End: true } : { Next: next }) };
}

function machine(states: JsonObject, extra: JsonObject = {}): JsonObject {
  return { StartAt: Object.keys(states)[0]!, States: states, ...extra };
}

// ---- tests ---------------------------------------------------------------------------------

describe('history of a Pass chain', () => {
  it('has contiguous ids, a previousEventId chain, and the first state entered links to 0', () => {
    const h = new Harness(
      machine({
        A: { Type: 'Pass', Next: 'B' },
        B: { Type: 'Pass', Result: { x: 1 }, ResultPath: '$.r', Next: 'C' },
        C: { Type: 'Pass', End: true },
      }),
    );
    const r = h.start({ a: 1 });
    assert.deepEqual(r.commands, []);
    assert.deepEqual(
      h.events.map((e) => [e.id, e.previousEventId, e.type, e.timestamp]),
      [
        [1, 0, 'ExecutionStarted', T0],
        [2, 0, 'PassStateEntered', T0],
        [3, 2, 'PassStateExited', T0],
        [4, 3, 'PassStateEntered', T0],
        [5, 4, 'PassStateExited', T0],
        [6, 5, 'PassStateEntered', T0],
        [7, 6, 'PassStateExited', T0],
        [8, 7, 'ExecutionSucceeded', T0],
      ],
    );
    assert.deepEqual(details(h.events[0], 'executionStartedEventDetails').input, { a: 1 });
    assert.equal(details(h.events[3], 'stateEnteredEventDetails').name, 'B');
    assert.deepEqual(details(h.events[4], 'stateExitedEventDetails').output, { a: 1, r: { x: 1 } });
    assert.deepEqual(details(h.events[7], 'executionSucceededEventDetails').output, { a: 1, r: { x: 1 } });
    assert.equal(h.st.status, 'SUCCEEDED');
    assert.deepEqual(h.st.output, { a: 1, r: { x: 1 } });
    assert.equal(h.st.stopTime, T0);
  });

  it('records nothing when recordHistory is off, but still finishes', () => {
    const h = new Harness(machine({ A: { Type: 'Pass', Result: 7, End: true } }));
    const r = h.start({}, false);
    assert.deepEqual(r.events, []);
    assert.equal(h.st.status, 'SUCCEEDED');
    assert.equal(h.st.output, 7);
  });

  it('history off still numbers events: causes quote the same event ids', () => {
    const def = machine({
      A: { Type: 'Pass', Next: 'T' },
      T: lambdaTask({ Retry: [{ ErrorEquals: ['E'], MaxAttempts: 1 }] }, 'W'),
      W: { Type: 'Wait', Seconds: 1, Next: 'B' },
      B: { Type: 'Pass', OutputPath: '$.missing', End: true },
    });
    const causes: (string | undefined)[] = [];
    const lastIds: number[] = [];
    for (const record of [true, false]) {
      const h = new Harness(def);
      h.start({}, record);
      failTask(h, h.task().taskId, 'E');
      h.fire(h.timer('retry-')[0]);
      complete(h, h.task().taskId, { x: 1 });
      h.fire(h.timer('wait-')[0]);
      assert.equal(h.st.error, StatesErrors.Runtime);
      causes.push(h.st.cause);
      lastIds.push(h.st.lastEventId);
      if (!record) assert.equal(h.events.length, 0);
    }
    assert.match(causes[0] ?? '', /'B' \(entered at the event id #\d+\)/);
    assert.equal(causes[1], causes[0]);
    assert.equal(lastIds[1], lastIds[0]);
  });

  it('does not read the clock of its own: timestamps follow env.now()', () => {
    const h = new Harness(
      machine({ W: { Type: 'Wait', Seconds: 5, Next: 'P' }, P: { Type: 'Pass', End: true } }),
    );
    h.start();
    h.fire(h.timer('')[0]);
    assert.equal(h.lastEvent().timestamp, T0 + 5000);
    assert.equal(eventOf(h, 'WaitStateEntered').timestamp, T0);
  });
});

describe('context object and end states', () => {
  it('shows the execution, state machine and state in $$, with times from env.now()', () => {
    const h = new Harness(
      machine({
        W: { Type: 'Wait', Seconds: 2, Next: 'T' },
        T: lambdaTask({ Parameters: { 'ctx.$': '$$' } }),
      }),
    );
    h.start({ in: 1 });
    h.fire(h.timer('wait-')[0]);
    assert.deepEqual((h.task().input as JsonObject).ctx, {
      Execution: {
        Id: 'arn:aws:states:us-east-1:123456789012:execution:sm:exec-1',
        Input: { in: 1 },
        StartTime: '2024-01-01T00:00:00.000Z',
        Name: 'exec-1',
        RoleArn: 'arn:aws:iam::123456789012:role/r',
      },
      StateMachine: { Id: 'arn:aws:states:us-east-1:123456789012:stateMachine:sm', Name: 'sm' },
      State: { Name: 'T', EnteredTime: '2024-01-01T00:00:02.000Z', RetryCount: 0 },
    });
  });

  it('a Fail state fails the execution without an exit event', () => {
    const h = new Harness(machine({ F: { Type: 'Fail', Error: 'E', Cause: 'C' } }));
    h.start();
    assert.deepEqual(h.types(), ['ExecutionStarted', 'FailStateEntered', 'ExecutionFailed']);
    assert.deepEqual(details(h.lastEvent(), 'executionFailedEventDetails'), { error: 'E', cause: 'C' });
    assert.equal(h.lastEvent().previousEventId, 2);
  });

  it('a Succeed state inside a Parallel branch ends only its branch', () => {
    const h = new Harness(
      machine({
        P: {
          Type: 'Parallel',
          Branches: [
            machine({ S: { Type: 'Succeed', OutputPath: '$.a' } }),
            machine({ Q: { Type: 'Pass', Result: 'q', End: true } }),
          ],
          Next: 'After',
        },
        After: { Type: 'Pass', End: true },
      }),
    );
    h.start({ a: 1 });
    assert.equal(h.st.status, 'SUCCEEDED');
    assert.deepEqual(h.st.output, [1, 'q']);
    assert.ok(h.types().includes('SucceedStateExited'));
    assert.ok(h.types().includes('PassStateExited'));
  });
});

describe('Task', () => {
  const def = machine({
    T: {
      Type: 'Task',
      Resource: INVOKE,
      InputPath: '$.in',
      Parameters: { FunctionName: 'f', 'Payload.$': '$' },
      ResultSelector: { 'v.$': '$.Payload.value' },
      ResultPath: '$.res',
      OutputPath: '$.res',
      End: true,
    },
  });

  it('produces an invokeTask command and waits', () => {
    const h = new Harness(def);
    const r = h.start({ in: { n: 1 }, keep: true });
    assert.deepEqual(commandKinds(r), ['invokeTask']);
    const t = h.task();
    assert.equal(t.resource, INVOKE);
    assert.equal(t.stateName, 'T');
    assert.deepEqual(t.input, { FunctionName: 'f', Payload: { n: 1 } });
    assert.equal(t.timeoutSeconds, undefined);
    assert.equal(t.heartbeatSeconds, undefined);
    assert.equal(h.st.status, 'RUNNING');
    assert.deepEqual(h.types(), ['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted']);
    const sched = details(eventOf(h, 'TaskScheduled'), 'taskScheduledEventDetails');
    assert.equal(sched.resourceType, 'lambda');
    assert.equal(sched.resource, 'invoke');
    assert.equal(sched.region, 'us-east-1');
    assert.deepEqual(sched.parameters, { FunctionName: 'f', Payload: { n: 1 } });
    assertWellFormed(h.events);
  });

  it('continues on taskSucceeded with ResultSelector, ResultPath and OutputPath applied', () => {
    const h = new Harness(def);
    h.start({ in: { n: 1 }, keep: true });
    const t = h.task();
    h.time += 250;
    const r = complete(h, t.taskId, { Payload: { value: 42, other: 'x' }, StatusCode: 200 });
    assert.deepEqual(r.commands, []);
    assert.deepEqual(
      r.events.map((e) => e.type),
      ['TaskSucceeded', 'TaskStateExited', 'ExecutionSucceeded'],
    );
    assert.deepEqual(details(r.events[0], 'taskSucceededEventDetails').output, {
      Payload: { value: 42, other: 'x' },
      StatusCode: 200,
    });
    assert.deepEqual(h.st.output, { v: 42 });
    assert.equal(h.st.status, 'SUCCEEDED');
    assert.equal(h.st.stopTime, T0 + 250);
    assertWellFormed(h.events);
  });

  it('records a Lambda function ARN as LambdaFunction* events', () => {
    const h = new Harness(machine({ T: lambdaTask() }));
    h.start({ a: 1 });
    assert.deepEqual(h.types().slice(1), [
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
    ]);
    assert.equal(
      details(eventOf(h, 'LambdaFunctionScheduled'), 'lambdaFunctionScheduledEventDetails').resource,
      FN,
    );
    complete(h, h.task().taskId, 'done');
    assert.deepEqual(h.types().slice(4), [
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    assert.equal(h.st.output, 'done');
  });

  it('ignores events for unknown tasks and timers', () => {
    const h = new Harness(machine({ T: lambdaTask() }));
    h.start();
    const before = JSON.stringify(h.st);
    assert.deepEqual(h.succeed('nope', 1), { events: [], commands: [] });
    assert.deepEqual(h.fail('nope', 'E'), { events: [], commands: [] });
    assert.deepEqual(h.send({ type: 'timerFired', timerId: 'nope' }), { events: [], commands: [] });
    assert.equal(JSON.stringify(h.st), before);
  });

  it('passes TimeoutSecondsPath / HeartbeatSecondsPath values to the task and its events', () => {
    const h = new Harness(
      machine({
        T: lambdaTask({ Resource: INVOKE, TimeoutSecondsPath: '$.t', HeartbeatSecondsPath: '$.hb' }),
      }),
    );
    h.start({ t: 30, hb: 10 });
    const t = [...h.tasks.values()][0]!;
    assert.equal(t.timeoutSeconds, 30);
    assert.equal(t.heartbeatSeconds, 10);
    const sched = details(eventOf(h, 'TaskScheduled'), 'taskScheduledEventDetails');
    assert.equal(sched.timeoutInSeconds, 30);
    assert.equal(sched.heartbeatInSeconds, 10);
    assert.equal(h.timer('timeout-')[1], T0 + 30_000);
  });

  it('fails with States.Runtime when TimeoutSecondsPath does not select an integer', () => {
    const h = new Harness(machine({ T: lambdaTask({ TimeoutSecondsPath: '$.t' }) }));
    h.start({ t: 'soon' });
    assert.equal(h.st.status, 'FAILED');
    assert.equal(h.st.error, StatesErrors.Runtime);
    assert.equal(h.tasks.size, 0);
  });
});

describe('Retry', () => {
  const retrying = (retrier: JsonObject, extra: JsonObject = {}) =>
    machine({
      T: lambdaTask(
        {
          Parameters: { 'rc.$': '$$.State.RetryCount' },
          Retry: [{ ErrorEquals: ['Boom'], ...retrier }],
          Catch: [{ ErrorEquals: ['Boom'], ResultPath: '$.err', Next: 'Handled' }],
          ...extra,
        },
        'Done',
      ),
      Done: { Type: 'Pass', End: true },
      Handled: { Type: 'Pass', End: true },
    });

  it('waits IntervalSeconds × BackoffRate^n, capped by MaxDelaySeconds, then catches', () => {
    const h = new Harness(
      retrying({ IntervalSeconds: 2, BackoffRate: 3, MaxAttempts: 4, MaxDelaySeconds: 10 }),
    );
    h.start({ orig: true });
    const delays: number[] = [];
    const retryCounts: JsonValue[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const t = h.task();
      retryCounts.push((t.input as JsonObject).rc!);
      h.time += 100; // the attempt takes a little while
      const r = failTask(h, t.taskId, 'Boom', `bad ${attempt}`);
      assert.deepEqual(commandKinds(r), ['startTimer']);
      const [id, due] = h.timer('retry-');
      delays.push(due - h.time);
      assert.equal(h.tasks.size, 0, 'no task runs while a retry waits');
      h.fire(id);
    }
    assert.deepEqual(delays, [2000, 6000, 10_000, 10_000]);
    const last = h.task();
    retryCounts.push((last.input as JsonObject).rc!);
    assert.deepEqual(retryCounts, [0, 1, 2, 3, 4]);
    failTask(h, last.taskId, 'Boom', 'final');
    assert.equal(h.timers.size, 0);
    assert.equal(h.st.status, 'SUCCEEDED');
    assert.deepEqual(h.st.output, { orig: true, err: { Error: 'Boom', Cause: 'final' } });
    // Retries do not re-enter the state: one TaskStateEntered, five scheduled attempts.
    assert.equal(h.types().filter((t) => t === 'TaskStateEntered').length, 1);
    assert.equal(h.types().filter((t) => t === 'LambdaFunctionScheduled').length, 5);
    assert.equal(h.types().filter((t) => t === 'LambdaFunctionFailed').length, 5);
    assert.ok(!h.types().includes('ExecutionFailed'));
    assertWellFormed(h.events);
  });

  it('uses the defaults (1 s, rate 2, 3 attempts) when the retrier gives none', () => {
    const h = new Harness(machine({ T: lambdaTask({ Retry: [{ ErrorEquals: ['States.ALL'] }] }) }));
    h.start();
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      failTask(h, h.task().taskId, 'E');
      const [id, due] = h.timer('retry-');
      delays.push(due - h.time);
      h.fire(id);
    }
    assert.deepEqual(delays, [1000, 2000, 4000]);
    failTask(h, h.task().taskId, 'E', 'c');
    assert.equal(h.st.status, 'FAILED');
    assert.equal(h.st.error, 'E');
    assert.equal(h.st.cause, 'c');
  });

  it('JitterStrategy FULL scales each delay by env.random()', () => {
    const h = new Harness(
      retrying({ IntervalSeconds: 4, BackoffRate: 2, MaxAttempts: 3, JitterStrategy: 'FULL' }),
    );
    h.start();
    h.randoms.push(0.5, 0.25, 0);
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      failTask(h, h.task().taskId, 'Boom');
      const [id, due] = h.timer('retry-');
      delays.push(due - h.time);
      h.fire(id);
    }
    assert.deepEqual(delays, [2000, 2000, 0]);
    assert.equal(h.randomCalls, 3);
  });

  it('does not call env.random() without jitter', () => {
    const h = new Harness(retrying({ IntervalSeconds: 1, MaxAttempts: 1 }));
    h.start();
    failTask(h, h.task().taskId, 'Boom');
    assert.equal(h.randomCalls, 0);
  });

  it('MaxAttempts 0 never retries: the catcher takes the first failure', () => {
    const h = new Harness(retrying({ MaxAttempts: 0 }));
    h.start({});
    failTask(h, h.task().taskId, 'Boom', 'c');
    assert.equal(h.timers.size, 0);
    assert.deepEqual(h.st.output, { err: { Error: 'Boom', Cause: 'c' } });
  });

  it('only the first matching retrier counts, even when it is exhausted', () => {
    const h = new Harness(
      machine({
        T: lambdaTask({
          Retry: [
            { ErrorEquals: ['Boom'], MaxAttempts: 1, IntervalSeconds: 1 },
            { ErrorEquals: ['States.ALL'], MaxAttempts: 5, IntervalSeconds: 7 },
          ],
        }),
      }),
    );
    h.start();
    failTask(h, h.task().taskId, 'Boom');
    h.fire(h.timer('retry-')[0]);
    failTask(h, h.task().taskId, 'Boom');
    assert.equal(h.timers.size, 0);
    assert.equal(h.st.status, 'FAILED');
  });

  it('counts attempts per retrier', () => {
    const h = new Harness(
      machine({
        T: lambdaTask({
          Retry: [
            { ErrorEquals: ['A'], MaxAttempts: 1, IntervalSeconds: 1 },
            { ErrorEquals: ['B'], MaxAttempts: 1, IntervalSeconds: 3 },
          ],
        }),
      }),
    );
    h.start();
    failTask(h, h.task().taskId, 'A');
    assert.equal(h.timer('retry-')[1] - h.time, 1000);
    h.fire(h.timer('retry-')[0]);
    failTask(h, h.task().taskId, 'B');
    assert.equal(h.timer('retry-')[1] - h.time, 3000);
    h.fire(h.timer('retry-')[0]);
    failTask(h, h.task().taskId, 'A');
    assert.equal(h.st.status, 'FAILED');
    assert.equal(h.st.error, 'A');
  });

  it('a non-matching error goes straight to the catcher', () => {
    const h = new Harness(
      machine({
        T: lambdaTask(
          {
            Retry: [{ ErrorEquals: ['Other'] }],
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'H' }],
          },
          'H',
        ),
        H: { Type: 'Pass', End: true },
      }),
    );
    h.start({ x: 1 });
    failTask(h, h.task().taskId, 'Boom');
    assert.equal(h.timers.size, 0);
    // No ResultPath on the catcher: the error output replaces the input; no cause gives ''.
    assert.deepEqual(h.st.output, { Error: 'Boom', Cause: '' });
  });
});

describe('failure without a catcher', () => {
  it('ends in ExecutionFailed with the error and cause', () => {
    const h = new Harness(machine({ T: lambdaTask() }));
    h.start();
    const r = failTask(h, h.task().taskId, 'Boom', 'the cause');
    assert.deepEqual(
      r.events.map((e) => e.type),
      ['LambdaFunctionFailed', 'ExecutionFailed'],
    );
    assert.deepEqual(details(r.events[0], 'lambdaFunctionFailedEventDetails'), {
      error: 'Boom',
      cause: 'the cause',
    });
    assert.deepEqual(details(r.events[1], 'executionFailedEventDetails'), {
      error: 'Boom',
      cause: 'the cause',
    });
    assert.equal(r.events[1]!.previousEventId, r.events[0]!.id);
    assert.equal(h.st.status, 'FAILED');
    assert.equal(h.st.error, 'Boom');
    assert.equal(h.st.cause, 'the cause');
    assert.equal(h.st.output, undefined);
    assertWellFormed(h.events);
  });

  it('a failed execution ignores later events', () => {
    const h = new Harness(machine({ T: lambdaTask() }));
    h.start();
    const id = h.task().taskId;
    failTask(h, id, 'Boom');
    assert.deepEqual(h.succeed(id, 1), { events: [], commands: [] });
    assert.deepEqual(h.stop(), { events: [], commands: [] });
    assert.equal(h.st.status, 'FAILED');
  });
});

describe('task timeouts', () => {
  it('TimeoutSeconds starts a timer; firing it cancels the task and fails with States.Timeout', () => {
    const h = new Harness(machine({ T: lambdaTask({ TimeoutSeconds: 5 }) }));
    h.start();
    const t = h.task();
    assert.equal(t.timeoutSeconds, 5);
    const [id, due] = h.timer('timeout-');
    assert.equal(due, T0 + 5000);
    const r = h.fire(id);
    assert.deepEqual(cancelled(r), [t.taskId]);
    assert.deepEqual(
      r.events.map((e) => e.type),
      ['LambdaFunctionTimedOut', 'ExecutionFailed'],
    );
    assert.equal(details(r.events[0], 'lambdaFunctionTimedOutEventDetails').error, StatesErrors.Timeout);
    assert.equal(h.st.status, 'FAILED');
    assert.equal(h.st.error, StatesErrors.Timeout);
    assert.equal(h.tasks.size, 0);
  });

  it('records TaskTimedOut for a service integration and ignores a late result of the old task', () => {
    const h = new Harness(
      machine({
        T: {
          Type: 'Task',
          Resource: INVOKE,
          Parameters: { FunctionName: 'f' },
          TimeoutSeconds: 5,
          Retry: [{ ErrorEquals: ['States.Timeout'], IntervalSeconds: 1, MaxAttempts: 1 }],
          End: true,
        },
      }),
    );
    h.start();
    const first = h.task();
    const r = h.fire(h.timer('timeout-')[0]);
    assert.deepEqual(cancelled(r), [first.taskId]);
    assert.equal(r.events[0]!.type, 'TaskTimedOut');
    const timedOut = details(r.events[0], 'taskTimedOutEventDetails');
    assert.equal(timedOut.error, StatesErrors.Timeout);
    assert.equal(timedOut.resourceType, 'lambda');
    // The old task answers after all: nothing happens.
    const late = h.succeed(first.taskId, 'late');
    assert.deepEqual(late, { events: [], commands: [] });
    const lateFail = h.fail(first.taskId, 'Late');
    assert.deepEqual(lateFail, { events: [], commands: [] });
    h.fire(h.timer('retry-')[0]);
    const second = h.task();
    assert.notEqual(second.taskId, first.taskId);
    // Once more the old one: still ignored while the new one runs.
    assert.deepEqual(h.succeed(first.taskId, 'late again'), { events: [], commands: [] });
    assert.equal(h.st.status, 'RUNNING');
    const done = complete(h, second.taskId, 'fresh');
    assert.deepEqual(commandKinds(done), ['cancelTimer'], 'the new attempt’s timeout timer is cancelled');
    assert.equal(h.timers.size, 0);
    assert.equal(h.st.output, 'fresh');
  });

  it('a result in time cancels the timeout timer', () => {
    const h = new Harness(machine({ T: lambdaTask({ TimeoutSeconds: 5 }) }));
    h.start();
    const [id] = h.timer('timeout-');
    h.time += 4999;
    const r = complete(h, h.task().taskId, 1);
    assert.ok(r.commands.some((c) => c.kind === 'cancelTimer' && c.timerId === id));
    assert.equal(h.st.status, 'SUCCEEDED');
    // A timer that fires anyway (a race in the runtime) changes nothing.
    assert.deepEqual(h.send({ type: 'timerFired', timerId: id }), { events: [], commands: [] });
  });

  it('States.Timeout is caught with an empty Cause', () => {
    const h = new Harness(
      machine({
        T: lambdaTask(
          {
            TimeoutSeconds: 1,
            Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.e', Next: 'H' }],
          },
          'H',
        ),
        H: { Type: 'Pass', End: true },
      }),
    );
    h.start({ a: 1 });
    h.fire(h.timer('timeout-')[0]);
    assert.deepEqual(h.st.output, { a: 1, e: { Error: 'States.Timeout', Cause: '' } });
  });

  it('HeartbeatSeconds reaches the task request and the scheduled event', () => {
    const h = new Harness(
      machine({
        T: {
          Type: 'Task',
          Resource: 'arn:aws:states:us-east-1:123456789012:activity:act',
          TimeoutSeconds: 60,
          HeartbeatSeconds: 5,
          End: true,
        },
      }),
    );
    h.start();
    const t = h.task();
    assert.equal(t.heartbeatSeconds, 5);
    assert.equal(t.timeoutSeconds, 60);
    const d = details(eventOf(h, 'ActivityScheduled'), 'activityScheduledEventDetails');
    assert.equal(d.heartbeatInSeconds, 5);
    assert.equal(d.timeoutInSeconds, 60);
  });

  it('HeartbeatSeconds without a heartbeat fails the task with States.HeartbeatTimeout', () => {
    const h = new Harness(
      machine({
        T: {
          Type: 'Task',
          Resource: 'arn:aws:states:us-east-1:123456789012:activity:act',
          TimeoutSeconds: 60,
          HeartbeatSeconds: 5,
          End: true,
        },
      }),
    );
    h.start();
    const hb = [...h.timers].filter(([, due]) => due === T0 + 5000);
    assert.equal(hb.length, 1, 'a timer due at HeartbeatSeconds');
    const r = h.fire(hb[0]![0]);
    assert.equal(r.events[0]!.type, 'ActivityTimedOut');
    assert.equal(h.st.error, StatesErrors.HeartbeatTimeout);
  });
});

describe('execution timeout', () => {
  it('TimeoutSeconds at the top level times the execution out and cancels its work', () => {
    const h = new Harness(machine({ T: lambdaTask({ TimeoutSeconds: 100 }) }, { TimeoutSeconds: 10 }));
    const start = h.start();
    assert.ok(start.commands.some((c) => c.kind === 'startTimer' && c.dueTime === T0 + 10_000));
    const t = h.task();
    const [id] = [...h.timers].find(([, due]) => due === T0 + 10_000)!;
    const r = h.fire(id);
    assert.deepEqual(cancelled(r), [t.taskId]);
    assert.equal(h.timers.size, 0, 'the task timeout timer is cancelled too');
    assert.equal(h.lastEvent().type, 'ExecutionTimedOut');
    assert.deepEqual(details(h.lastEvent(), 'executionTimedOutEventDetails'), {
      error: StatesErrors.Timeout,
    });
    assert.equal(h.st.status, 'TIMED_OUT');
    assert.equal(h.st.error, StatesErrors.Timeout);
    assert.equal(h.st.stopTime, T0 + 10_000);
    assertWellFormed(h.events);
  });

  it("AWS's one-year maximum duration times a Standard execution out like TimeoutSeconds", () => {
    const YEAR = 365 * 24 * 3600 * 1000;
    const h = new Harness(machine({ W: { Type: 'Wait', Seconds: 99999999, End: true } }), true);
    h.start({}, true, { maxDurationMs: YEAR });
    const [id, due] = h.timer('execution');
    assert.equal(due, T0 + YEAR, 'one timer (a durable row in the engine), due a year after the start');
    h.fire(id);
    assert.equal(h.st.status, 'TIMED_OUT');
    assert.equal(h.st.error, StatesErrors.Timeout);
    assert.equal(h.st.cause, undefined);
    assert.equal(h.st.stopTime, T0 + YEAR);
    assert.equal(h.lastEvent().type, 'ExecutionTimedOut');
    assert.deepEqual(details(h.lastEvent(), 'executionTimedOutEventDetails'), {
      error: StatesErrors.Timeout,
    });
    assert.equal(h.timers.size, 0, 'the Wait timer is cancelled');
    assertWellFormed(h.events);
  });

  it('TimeoutSeconds beyond a year is cut to the one-year maximum; a shorter one is kept', () => {
    const YEAR = 365 * 24 * 3600 * 1000;
    const long = new Harness(machine({ T: lambdaTask() }, { TimeoutSeconds: 99999999 }));
    long.start({}, true, { maxDurationMs: YEAR });
    assert.equal(long.timer('execution')[1], T0 + YEAR);
    const short = new Harness(machine({ T: lambdaTask() }, { TimeoutSeconds: 60 }));
    short.start({}, true, { maxDurationMs: YEAR });
    assert.equal(short.timer('execution')[1], T0 + 60_000);
  });

  it('finishing in time cancels the execution timer', () => {
    const h = new Harness(machine({ P: { Type: 'Pass', End: true } }, { TimeoutSeconds: 10 }));
    const r = h.start();
    assert.deepEqual(commandKinds(r), ['startTimer', 'cancelTimer']);
    assert.equal(h.timers.size, 0);
  });

  it('times out inside a Map, cancelling every iteration', () => {
    const h = new Harness(
      machine(
        { M: { Type: 'Map', ItemProcessor: machine({ T: lambdaTask() }), End: true } },
        { TimeoutSeconds: 3 },
      ),
    );
    h.start([1, 2, 3]);
    assert.equal(h.tasks.size, 3);
    const [id] = h.timer('execution');
    h.fire(id);
    assert.equal(h.tasks.size, 0);
    assert.equal(h.st.status, 'TIMED_OUT');
    assertWellFormed(h.events);
  });
});

describe('stop', () => {
  it('aborts the execution and cancels every timer and task', () => {
    const h = new Harness(
      machine(
        {
          P: {
            Type: 'Parallel',
            Branches: [
              machine({ T: lambdaTask({ TimeoutSeconds: 30 }) }),
              machine({ W: { Type: 'Wait', Seconds: 100, End: true } }),
              machine({ M: { Type: 'Map', ItemProcessor: machine({ T: lambdaTask() }), End: true } }),
            ],
            End: true,
          },
        },
        { TimeoutSeconds: 1000 },
      ),
    );
    h.start([1, 2]);
    assert.equal(h.tasks.size, 3);
    assert.equal(h.timers.size, 3); // execution, task timeout, wait
    h.time += 1234;
    const r = h.stop('User.Stop', 'because');
    assert.equal(h.tasks.size, 0, 'every task cancelled');
    assert.equal(h.timers.size, 0, 'every timer cancelled');
    assert.equal(cancelled(r).length, 3);
    assert.equal(h.lastEvent().type, 'ExecutionAborted');
    assert.deepEqual(details(h.lastEvent(), 'executionAbortedEventDetails'), {
      error: 'User.Stop',
      cause: 'because',
    });
    assert.equal(h.st.status, 'ABORTED');
    assert.equal(h.st.stopTime, T0 + 1234);
    assertWellFormed(h.events);
    // Nothing more happens.
    assert.deepEqual(h.succeed('1-1', 1), { events: [], commands: [] });
    assert.deepEqual(h.stop(), { events: [], commands: [] });
  });

  it('a stop without error or cause records empty details', () => {
    const h = new Harness(machine({ W: { Type: 'Wait', Seconds: 10, End: true } }));
    h.start();
    h.stop();
    assert.deepEqual(details(h.lastEvent(), 'executionAbortedEventDetails'), {});
    assert.equal(h.timers.size, 0);
    assert.equal(h.st.error, undefined);
  });

  it('aborts during a retry wait', () => {
    const h = new Harness(machine({ T: lambdaTask({ Retry: [{ ErrorEquals: ['States.ALL'] }] }) }));
    h.start();
    failTask(h, h.task().taskId, 'E');
    assert.equal(h.timers.size, 1);
    h.stop();
    assert.equal(h.timers.size, 0);
    assert.equal(h.st.status, 'ABORTED');
  });
});

describe('Wait', () => {
  const waitThen = (spec: JsonObject) =>
    machine({ W: { Type: 'Wait', ...spec, Next: 'P' }, P: { Type: 'Pass', End: true } });

  it('Seconds starts a timer due that many seconds later; firing it moves on', () => {
    const h = new Harness(waitThen({ Seconds: 30 }));
    const r = h.start({ a: 1 });
    assert.deepEqual(commandKinds(r), ['startTimer']);
    const [id, due] = h.timer('wait-');
    assert.equal(due, T0 + 30_000);
    assert.equal(h.lastEvent().type, 'WaitStateEntered');
    assert.equal(h.st.status, 'RUNNING');
    const fired = h.fire(id);
    assert.deepEqual(
      fired.events.map((e) => e.type),
      ['WaitStateExited', 'PassStateEntered', 'PassStateExited', 'ExecutionSucceeded'],
    );
    assert.equal(fired.events[0]!.timestamp, T0 + 30_000);
    assert.deepEqual(h.st.output, { a: 1 });
  });

  it('Seconds 0 still waits for the timer, due now', () => {
    const h = new Harness(waitThen({ Seconds: 0 }));
    h.start();
    assert.equal(h.timer('wait-')[1], T0);
    assert.equal(h.st.status, 'RUNNING');
  });

  it('SecondsPath reads the input', () => {
    const h = new Harness(waitThen({ SecondsPath: '$.s' }));
    h.start({ s: 7 });
    assert.equal(h.timer('wait-')[1], T0 + 7000);
  });

  it('a negative SecondsPath value fails with States.Runtime', () => {
    const h = new Harness(waitThen({ SecondsPath: '$.s' }));
    h.start({ s: -1 });
    assert.equal(h.st.error, StatesErrors.Runtime);
    assert.match(h.st.cause ?? '', /negative/);
  });

  it('a Timestamp in the past fires immediately (due now)', () => {
    const h = new Harness(waitThen({ Timestamp: '2000-01-01T00:00:00Z' }));
    h.start();
    const [id, due] = h.timer('wait-');
    assert.equal(due, T0);
    h.fire(id);
    assert.equal(h.time, T0, 'the clock did not have to move');
    assert.equal(h.st.status, 'SUCCEEDED');
  });

  it('a future Timestamp is the due time', () => {
    const h = new Harness(waitThen({ Timestamp: '2024-01-01T01:00:00.500Z' }));
    h.start();
    assert.equal(h.timer('wait-')[1], T0 + 3_600_500);
  });

  it('TimestampPath reads the input; an unparsable value fails with States.Runtime', () => {
    const ok = new Harness(waitThen({ TimestampPath: '$.t' }));
    ok.start({ t: '2024-01-01T00:00:10Z' });
    assert.equal(ok.timer('wait-')[1], T0 + 10_000);
    const bad = new Harness(waitThen({ TimestampPath: '$.t' }));
    bad.start({ t: 'tomorrow' });
    assert.equal(bad.st.error, StatesErrors.Runtime);
  });

  it('applies OutputPath to what the Wait hands on', () => {
    const h = new Harness(waitThen({ Seconds: 1, OutputPath: '$.a' }));
    h.start({ a: { b: 1 }, c: 2 });
    h.fire(h.timer('wait-')[0]);
    assert.deepEqual(h.st.output, { b: 1 });
  });

  it('hands on a null output (OutputPath selecting null), also across a JSON round trip', () => {
    for (const roundTrip of [false, true]) {
      const h = new Harness(waitThen({ Seconds: 1, OutputPath: '$.a' }), roundTrip);
      h.start({ a: null, c: 2 });
      h.fire(h.timer('wait-')[0]);
      assert.equal(h.st.output, null);
    }
  });
});

describe('Map', () => {
  const mapDef = (maxConcurrency: number) =>
    machine({
      M: {
        Type: 'Map',
        ItemsPath: '$.items',
        MaxConcurrency: maxConcurrency,
        ItemProcessor: machine({ Work: lambdaTask() }),
        End: true,
      },
    });

  function runOutOfOrder(h: Harness, outstanding: number[]): void {
    while (h.tasks.size > 0) {
      outstanding.push(h.tasks.size);
      // Complete the most recently started task first.
      const t = [...h.tasks.values()].pop()!;
      h.time += 10;
      complete(h, t.taskId, (t.input as number) * 2);
    }
  }

  it('MaxConcurrency 2 over 5 task items: at most 2 tasks at once, results in item order', () => {
    const h = new Harness(mapDef(2));
    const r = h.start({ items: [10, 20, 30, 40, 50] });
    assert.equal(r.commands.filter((c) => c.kind === 'invokeTask').length, 2);
    assert.deepEqual(
      [...h.tasks.values()].map((t) => t.input),
      [10, 20],
    );
    const outstanding: number[] = [];
    runOutOfOrder(h, outstanding);
    assert.equal(h.maxTasks, 2);
    assert.deepEqual(outstanding, [2, 2, 2, 2, 1]);
    assert.equal(h.st.status, 'SUCCEEDED');
    assert.deepEqual(h.st.output, [20, 40, 60, 80, 100]);
    const types = h.types();
    assert.equal(types.filter((t) => t === 'MapIterationStarted').length, 5);
    assert.equal(types.filter((t) => t === 'MapIterationSucceeded').length, 5);
    assert.deepEqual(details(eventOf(h, 'MapStateStarted'), 'mapStateStartedEventDetails'), { length: 5 });
    assert.deepEqual(
      h.events
        .filter((e) => e.type === 'MapIterationStarted')
        .map((e) => details(e, 'mapIterationStartedEventDetails').index),
      [0, 1, 2, 3, 4],
    );
    assert.deepEqual(types.slice(-4), [
      'MapIterationSucceeded',
      'MapStateSucceeded',
      'MapStateExited',
      'ExecutionSucceeded',
    ]);
    assertWellFormed(h.events);
  });

  it('MaxConcurrency 0 starts every iteration at once', () => {
    const h = new Harness(mapDef(0));
    const r = h.start({ items: [1, 2, 3, 4, 5] });
    assert.equal(r.commands.filter((c) => c.kind === 'invokeTask').length, 5);
    runOutOfOrder(h, []);
    assert.deepEqual(h.st.output, [2, 4, 6, 8, 10]);
  });

  it('MaxConcurrency 1 runs the items one by one', () => {
    const h = new Harness(mapDef(1));
    h.start({ items: [1, 2, 3] });
    runOutOfOrder(h, []);
    assert.equal(h.maxTasks, 1);
    assert.deepEqual(h.st.output, [2, 4, 6]);
  });

  it('an empty item list gives []', () => {
    const h = new Harness(mapDef(2));
    h.start({ items: [] });
    assert.equal(h.st.status, 'SUCCEEDED');
    assert.deepEqual(h.st.output, []);
  });

  it('gives iterations $$.Map.Item through ItemSelector', () => {
    const h = new Harness(
      machine({
        M: {
          Type: 'Map',
          ItemSelector: { 'i.$': '$$.Map.Item.Index', 'v.$': '$$.Map.Item.Value', 'k.$': '$.k' },
          ItemsPath: '$.items',
          ItemProcessor: machine({ P: { Type: 'Pass', End: true } }),
          End: true,
        },
      }),
    );
    h.start({ items: ['a', 'b'], k: 1 });
    assert.deepEqual(h.st.output, [
      { i: 0, v: 'a', k: 1 },
      { i: 1, v: 'b', k: 1 },
    ]);
  });

  it('a Map input that is not an array fails with States.Runtime', () => {
    const h = new Harness(mapDef(0));
    h.start({ items: 'nope' });
    assert.equal(h.st.error, StatesErrors.Runtime);
  });

  it('a Fail state inside an iteration fails the Map', () => {
    const h = new Harness(
      machine({
        M: {
          Type: 'Map',
          ItemProcessor: machine({
            C: {
              Type: 'Choice',
              Choices: [{ Variable: '$', NumericEquals: 2, Next: 'Bad' }],
              Default: 'Good',
            },
            Bad: { Type: 'Fail', Error: 'ItemBad', Cause: 'two' },
            Good: { Type: 'Pass', End: true },
          }),
          End: true,
        },
      }),
    );
    h.start([1, 2, 3]);
    assert.equal(h.st.status, 'FAILED');
    assert.equal(h.st.error, 'ItemBad');
    assert.equal(h.st.cause, 'two');
    const types = h.types();
    assert.ok(types.includes('FailStateEntered'));
    assert.ok(types.includes('MapIterationFailed'));
    assert.ok(types.includes('MapStateFailed'));
    assert.ok(!types.includes('MapStateSucceeded'));
    assert.equal(h.lastEvent().type, 'ExecutionFailed');
    assertWellFormed(h.events);
  });

  it('a failing iteration cancels the iterations still running, and Catch takes its error', () => {
    const h = new Harness(
      machine({
        M: {
          Type: 'Map',
          ItemProcessor: machine({ T: lambdaTask({ TimeoutSeconds: 50 }) }),
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.err', Next: 'H' }],
          ItemsPath: '$.items',
          Next: 'H',
        },
        H: { Type: 'Pass', End: true },
      }),
    );
    h.start({ items: [1, 2, 3] });
    const [a, b, c] = [...h.tasks.values()];
    assert.ok(a && b && c);
    const r = failTask(h, b.taskId, 'ItemErr', 'cause 2');
    assert.deepEqual(cancelled(r).sort(), [a.taskId, c.taskId].sort());
    assert.equal(h.timers.size, 0, 'their timeout timers are cancelled');
    assert.equal(h.types().filter((t) => t === 'MapIterationAborted').length, 2);
    assert.deepEqual(h.st.output, { items: [1, 2, 3], err: { Error: 'ItemErr', Cause: 'cause 2' } });
    // The cancelled iterations answer anyway: ignored.
    assert.deepEqual(h.succeed(a.taskId, 'late'), { events: [], commands: [] });
    assert.deepEqual(h.fail(c.taskId, 'Late'), { events: [], commands: [] });
    assertWellFormed(h.events);
  });
});

describe('Parallel', () => {
  const parallelDef = (extra: JsonObject = {}) =>
    machine({
      P: {
        Type: 'Parallel',
        Branches: [
          machine({ A: lambdaTask({ Resource: `${FN}A` }) }),
          machine({ B: lambdaTask({ Resource: `${FN}B` }) }),
        ],
        Catch: [{ ErrorEquals: ['Boom'], ResultPath: '$.error', Next: 'Recover' }],
        Next: 'Done',
        ...extra,
      },
      Done: { Type: 'Pass', End: true },
      Recover: { Type: 'Pass', End: true },
    });

  it('branches share the root variable scope when the definition has no Assign, and get their own when it has one', () => {
    const plain = new Harness(parallelDef());
    plain.start({ x: 1 });
    assert.equal(plain.tasks.size, 2);
    assert.deepEqual(Object.keys(plain.st.scopes), ['1']);
    const withAssign = new Harness(parallelDef({ Assign: { v: 1 } }));
    withAssign.start({ x: 1 });
    assert.equal(withAssign.tasks.size, 2);
    assert.equal(Object.keys(withAssign.st.scopes).length, 3);
    const [a, b] = [...withAssign.tasks.values()];
    complete(withAssign, a!.taskId, 'a');
    complete(withAssign, b!.taskId, 'b');
    assert.deepEqual(withAssign.st.output, ['a', 'b']);
    assert.deepEqual(Object.keys(withAssign.st.scopes), ['1'], 'branch scopes are dropped with the branches');
  });

  it('collects the branch results in branch order', () => {
    const h = new Harness(parallelDef());
    h.start({ x: 1 });
    const [a, b] = [...h.tasks.values()];
    assert.ok(a && b);
    assert.deepEqual(a.input, { x: 1 });
    complete(h, b.taskId, 'b');
    assert.equal(h.st.status, 'RUNNING');
    complete(h, a.taskId, 'a');
    assert.deepEqual(h.st.output, ['a', 'b']);
    assert.ok(h.types().includes('ParallelStateSucceeded'));
    assertWellFormed(h.events);
  });

  it('a branch failure aborts the other branch and the Catch takes the branch error', () => {
    const h = new Harness(parallelDef());
    h.start({ x: 1 });
    const a = [...h.tasks.values()].find((t) => t.resource === `${FN}A`)!;
    const b = [...h.tasks.values()].find((t) => t.resource === `${FN}B`)!;
    const r = failTask(h, b.taskId, 'Boom', 'cause b');
    assert.deepEqual(cancelled(r), [a.taskId]);
    assert.equal(h.tasks.size, 0);
    const types = h.types();
    assert.ok(types.includes('TaskStateAborted'), 'the other branch’s state is recorded as aborted');
    assert.ok(types.includes('ParallelStateFailed'));
    assert.deepEqual(h.st.output, { x: 1, error: { Error: 'Boom', Cause: 'cause b' } });
    assert.equal(
      h.events
        .filter((e) => e.type === 'PassStateEntered')
        .map((e) => details(e, 'stateEnteredEventDetails').name)[0],
      'Recover',
    );
    // The aborted branch answers late: ignored.
    assert.deepEqual(h.succeed(a.taskId, 'late'), { events: [], commands: [] });
    assertWellFormed(h.events);
  });

  it('without a matching catcher the branch error fails the execution', () => {
    const h = new Harness(parallelDef());
    h.start();
    const b = [...h.tasks.values()].find((t) => t.resource === `${FN}B`)!;
    failTask(h, b.taskId, 'Other', 'c');
    assert.equal(h.st.status, 'FAILED');
    assert.equal(h.st.error, 'Other');
    assert.equal(h.tasks.size, 0);
  });

  it('a Parallel retry restarts every branch', () => {
    const h = new Harness(
      parallelDef({ Retry: [{ ErrorEquals: ['Boom'], MaxAttempts: 1, IntervalSeconds: 2 }] }),
    );
    h.start();
    const b = [...h.tasks.values()].find((t) => t.resource === `${FN}B`)!;
    failTask(h, b.taskId, 'Boom');
    assert.equal(h.tasks.size, 0);
    const [id, due] = h.timer('retry-');
    assert.equal(due - h.time, 2000);
    h.fire(id);
    assert.equal(h.tasks.size, 2);
  });
});

describe('error matching in the interpreter', () => {
  it('States.ALL neither retries nor catches States.Runtime', () => {
    const h = new Harness(
      machine({
        T: lambdaTask(
          {
            OutputPath: '$.missing',
            Retry: [{ ErrorEquals: ['States.ALL'] }],
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'H' }],
          },
          'H',
        ),
        H: { Type: 'Pass', End: true },
      }),
    );
    h.start();
    complete(h, h.task().taskId, { present: 1 });
    assert.equal(h.timers.size, 0, 'no retry');
    assert.equal(h.st.status, 'FAILED');
    assert.equal(h.st.error, StatesErrors.Runtime);
    assert.match(h.st.cause ?? '', /'T'/);
  });

  it('a Pass with only Result and ResultPath places the result, and fails the execution when it cannot', () => {
    const def = machine({
      P: { Type: 'Pass', Result: { r: 1 }, ResultPath: '$.a.b', Next: 'Q' },
      Q: { Type: 'Pass', ResultPath: '$.copy', End: true },
    });
    const ok = new Harness(def);
    ok.start({ a: { k: 0 } });
    assert.deepEqual(ok.st.output, { a: { k: 0, b: { r: 1 } }, copy: { a: { k: 0, b: { r: 1 } } } });
    const bad = new Harness(def);
    bad.start({ a: 'scalar' });
    assert.equal(bad.st.status, 'FAILED');
    assert.equal(bad.st.error, StatesErrors.ResultPathMatchFailure);
  });

  it('States.ALL catches States.ResultPathMatchFailure', () => {
    const h = new Harness(
      machine({
        T: lambdaTask(
          {
            ResultPath: '$.a.b',
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.e', Next: 'H' }],
          },
          'H',
        ),
        H: { Type: 'Pass', End: true },
      }),
    );
    h.start({ a: 'scalar' });
    complete(h, h.task().taskId, 1);
    assert.equal(h.st.status, 'SUCCEEDED');
    assert.equal(((h.st.output as JsonObject).e as JsonObject).Error, StatesErrors.ResultPathMatchFailure);
  });

  it('States.TaskFailed does not match States.Timeout', () => {
    const h = new Harness(
      machine({
        T: lambdaTask(
          {
            TimeoutSeconds: 1,
            Retry: [{ ErrorEquals: ['States.TaskFailed'] }],
            Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'H' }],
          },
          'H',
        ),
        H: { Type: 'Pass', End: true },
      }),
    );
    h.start();
    h.fire(h.timer('timeout-')[0]);
    assert.equal(h.timers.size, 0, 'no retry');
    assert.equal(h.st.status, 'FAILED');
    assert.equal(h.st.error, StatesErrors.Timeout);
  });

  it('States.TaskFailed matches other task errors; a later catcher can name States.Timeout', () => {
    const def = machine({
      T: lambdaTask(
        {
          TimeoutSeconds: 1,
          Catch: [
            { ErrorEquals: ['States.TaskFailed'], ResultPath: '$.tf', Next: 'H' },
            { ErrorEquals: ['States.Timeout'], ResultPath: '$.to', Next: 'H' },
          ],
        },
        'H',
      ),
      H: { Type: 'Pass', End: true },
    });
    const failed = new Harness(def);
    failed.start({});
    failTask(failed, failed.task().taskId, 'Custom.Error', 'c');
    assert.deepEqual(failed.st.output, { tf: { Error: 'Custom.Error', Cause: 'c' } });
    const timedOut = new Harness(def);
    timedOut.start({});
    timedOut.fire(timedOut.timer('timeout-')[0]);
    assert.deepEqual(timedOut.st.output, { to: { Error: 'States.Timeout', Cause: '' } });
  });

  it('Choice with no match and no Default fails with States.NoChoiceMatched', () => {
    const h = new Harness(
      machine({
        C: { Type: 'Choice', Choices: [{ Variable: '$.n', NumericEquals: 1, Next: 'One' }] },
        One: { Type: 'Pass', End: true },
      }),
    );
    h.start({ n: 2 });
    assert.equal(h.st.status, 'FAILED');
    assert.equal(h.st.error, StatesErrors.NoChoiceMatched);
    assert.deepEqual(h.types(), ['ExecutionStarted', 'ChoiceStateEntered', 'ExecutionFailed']);
    assert.equal(h.lastEvent().previousEventId, 2);
  });

  it('Choice takes the matching branch, else the Default', () => {
    const def = machine({
      C: { Type: 'Choice', Choices: [{ Variable: '$.n', NumericEquals: 1, Next: 'One' }], Default: 'Other' },
      One: { Type: 'Pass', Result: 'one', End: true },
      Other: { Type: 'Pass', Result: 'other', End: true },
    });
    const one = new Harness(def);
    one.start({ n: 1 });
    assert.equal(one.st.output, 'one');
    const other = new Harness(def);
    other.start({ n: 5 });
    assert.equal(other.st.output, 'other');
  });
});

describe('payload quota: 256 KiB on every state output, task input and result, branch input', () => {
  const LIMIT = 262_144;
  const DLE = StatesErrors.DataLimitExceeded;
  /** The durable engine asks for AWS's quota; the in-memory library does not (like the event limit). */
  const AWS: Partial<ExecutionInit> = { maxPayloadBytes: LIMIT };
  /** A string whose JSON text (with its quotes) takes `bytes` bytes of UTF-8. */
  const text = (bytes: number, ch = 'x') => ch.repeat((bytes - 2) / Buffer.byteLength(ch));

  it('an output of exactly 256 KiB passes; one byte more fails the state with States.DataLimitExceeded', () => {
    const ok = new Harness(machine({ P: { Type: 'Pass', OutputPath: '$.s', End: true } }));
    ok.start({ s: text(LIMIT) }, true, AWS);
    assert.equal(ok.st.status, 'SUCCEEDED');

    const over = new Harness(machine({ P: { Type: 'Pass', OutputPath: '$.s', End: true } }));
    over.start({ s: text(LIMIT + 1) }, true, AWS);
    assert.equal(over.st.status, 'FAILED');
    assert.equal(over.st.error, DLE);
    assert.equal(
      over.st.cause,
      "The state/task 'P' returned a result with a size exceeding the maximum number of bytes service limit.",
    );
    assert.deepEqual(over.types(), ['ExecutionStarted', 'PassStateEntered', 'ExecutionFailed']);
    assertWellFormed(over.events);
  });

  it('carries a bound from state to state: the first output over the quota fails, wherever it is', () => {
    // Each state adds ~60 KB; its output is not measured again while the carried bound fits.
    const states: JsonObject = {};
    for (let i = 1; i <= 5; i++) {
      states[`P${i}`] = {
        Type: 'Pass',
        Parameters: { 'v.$': '$.big' },
        ResultPath: `$.c${i}`,
        ...(i < 5 ? { Next: `P${i + 1}` } : { End: true }),
      };
    }
    for (const roundTrip of [false, true]) {
      const h = new Harness(machine(states), roundTrip);
      h.start({ big: text(60_000) }, true, AWS);
      assert.equal(h.st.status, 'FAILED');
      assert.equal(h.st.error, DLE);
      assert.match(h.st.cause ?? '', /'P4' returned a result/);
      assert.equal(h.types().filter((t) => t === 'PassStateExited').length, 3);
    }
  });

  it('Map and Parallel results carry the bounds of their children: a later state over the quota fails', () => {
    // Each adds a copy of `s` (~50 KB) under its own key.
    const add = (key: string, next?: string): JsonObject => ({
      Type: 'Pass',
      Parameters: { 'v.$': '$.s' },
      ResultPath: `$.${key}`,
      ...(next !== undefined ? { Next: next } : { End: true }),
    });
    const adds = { Add1: add('add1', 'Add2'), Add2: add('add2', 'Add3'), Add3: add('add3') };
    const branch = machine({ B: { Type: 'Pass', Parameters: { 'v.$': '$.s' }, End: true } });
    const definitions = [
      // Two branches of ~50 KB: the Parallel's output is ~150 KB, then each Add adds ~50 KB.
      machine({
        Par: { Type: 'Parallel', Branches: [branch, branch], ResultPath: '$.r', Next: 'Add1' },
        ...adds,
      }),
      // Two iterations of ~50 KB each (ItemSelector), through a Pass that keeps its input.
      machine({
        Map: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemSelector: { 'v.$': '$.s' },
          ItemProcessor: machine({ Keep: { Type: 'Pass', End: true } }),
          ResultPath: '$.r',
          Next: 'Add1',
        },
        ...adds,
      }),
    ];
    for (const definition of definitions) {
      const h = new Harness(definition);
      h.start({ s: text(50_000), items: [1, 2] }, true, AWS);
      assert.equal(h.st.status, 'FAILED');
      assert.equal(h.st.error, DLE);
      assert.match(h.st.cause ?? '', /'Add3' returned a result/);
      assertWellFormed(h.events);
    }
  });

  it('a field replaced again and again near the quota: the grown bound is checked, not failed', () => {
    // The carried bound counts each replaced value again; past the quota the output is measured.
    const h = new Harness(
      machine({
        Loop: {
          Type: 'Choice',
          Choices: [{ Variable: '$.c.v', NumericLessThan: 500, Next: 'Add' }],
          Default: 'Done',
        },
        Add: {
          Type: 'Pass',
          Parameters: { 'v.$': 'States.MathAdd($.c.v, 1)', 'pad.$': "States.Format('{}', $.c.v)" },
          ResultPath: '$.c',
          Next: 'Loop',
        },
        Done: { Type: 'Succeed' },
      }),
    );
    h.start({ big: text(LIMIT - 100), c: { v: 0 } }, false, AWS);
    assert.equal(h.st.status, 'SUCCEEDED');
    assert.equal(((h.st.output as JsonObject).c as JsonObject).v, 500);
  });

  it('measures parsed input by its own text, and never throws on values nested too deep to walk', () => {
    const spaced = parseJsonKeepingText(`[${' '.repeat(LIMIT)}1]`);
    assert.equal(payloadOverLimit(spaced, LIMIT), LIMIT + 3, 'the text AWS keeps, spaces included');
    assert.equal(payloadOverLimit(JSON.parse(`[${' '.repeat(LIMIT)}1]`) as JsonValue, LIMIT), undefined);
    let deep: JsonValue = [];
    for (let i = 0; i < 200_000; i++) deep = [deep];
    assert.equal(payloadOverLimit(deep, LIMIT), undefined);
    assert.equal(payloadOverLimit({ s: text(LIMIT + 1) }, LIMIT), LIMIT + 7);
  });

  it('an input nested too deep to measure runs through states that carry bounds', () => {
    let deep: JsonValue = [];
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const h = new Harness(
      machine({
        P: { Type: 'Pass', Result: { ok: true }, ResultPath: '$.r', Next: 'Q' },
        Q: { Type: 'Pass', Parameters: { 'd.$': '$.deep' }, ResultPath: '$.copy', End: true },
      }),
    );
    h.start({ deep }, false, AWS);
    assert.equal(h.st.status, 'SUCCEEDED');
  });

  it('is not applied unless the runtime asks for it', () => {
    const h = new Harness(machine({ P: { Type: 'Pass', OutputPath: '$.s', End: true } }));
    h.start({ s: text(LIMIT + 1) });
    assert.equal(h.st.status, 'SUCCEEDED');
  });

  it('counts UTF-8 bytes, not characters', () => {
    // 131,072 two-byte characters: 262,146 bytes with the quotes, but only 131,074 characters.
    const h = new Harness(machine({ P: { Type: 'Pass', OutputPath: '$.s', End: true } }));
    h.start({ s: 'é'.repeat(LIMIT / 2) }, true, AWS);
    assert.equal(h.st.error, DLE);
    const fits = new Harness(machine({ P: { Type: 'Pass', OutputPath: '$.s', End: true } }));
    fits.start({ s: text(LIMIT, 'é') }, true, AWS);
    assert.equal(fits.st.status, 'SUCCEEDED');
  });

  it('a Pass state whose Parameters build an output over the quota fails (no Catch on Pass)', () => {
    const h = new Harness(
      machine({
        P: { Type: 'Pass', Parameters: { 'a.$': '$.s', 'b.$': '$.s' }, Next: 'Q' },
        Q: { Type: 'Pass', End: true },
      }),
    );
    h.start({ s: text(200_000) }, true, AWS);
    assert.equal(h.st.status, 'FAILED');
    assert.equal(h.st.error, DLE);
    assert.ok(!h.types().includes('PassStateExited'));
  });

  it('a task result merged by ResultPath over the quota is caught by States.ALL', () => {
    const h = new Harness(
      machine({
        T: lambdaTask({ ResultPath: '$.r', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'H' }] }, 'Next'),
        Next: { Type: 'Pass', End: true },
        H: { Type: 'Pass', End: true },
      }),
    );
    h.start({ s: text(200_000) }, true, AWS);
    complete(h, h.task().taskId, text(100_000));
    assert.equal(h.st.status, 'SUCCEEDED');
    const handled = eventOf(h, 'PassStateEntered');
    assert.equal(details(handled, 'stateEnteredEventDetails').name, 'H');
    assert.deepEqual(h.st.output, {
      Error: DLE,
      Cause:
        "The state/task 'T' returned a result with a size exceeding the maximum number of bytes service limit.",
    });
  });

  it('a catcher whose output is over the quota too fails the execution instead of catching again', () => {
    const h = new Harness(
      machine({
        T: lambdaTask(
          { ResultPath: '$.r', Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.err', Next: 'H' }] },
          'Next',
        ),
        Next: { Type: 'Pass', End: true },
        H: { Type: 'Pass', End: true },
      }),
    );
    h.start({ s: text(LIMIT - 100) }, true, AWS);
    complete(h, h.task().taskId, text(200));
    assert.equal(h.st.status, 'FAILED');
    assert.equal(h.st.error, DLE);
    assert.ok(!h.types().includes('PassStateEntered'));
    assertWellFormed(h.events);
  });

  it('a task result over the quota is the task failing (Retry applies)', () => {
    const h = new Harness(
      machine({ T: lambdaTask({ Retry: [{ ErrorEquals: [DLE], MaxAttempts: 1, IntervalSeconds: 1 }] }) }),
    );
    h.start({}, true, AWS);
    complete(h, h.task().taskId, text(LIMIT + 1));
    assert.equal(h.lastEvent().type, 'LambdaFunctionFailed');
    assert.equal(details(h.lastEvent(), 'lambdaFunctionFailedEventDetails').error, DLE);
    h.fire(h.timer('retry')[0]);
    complete(h, h.task().taskId, text(LIMIT + 1));
    assert.equal(h.st.status, 'FAILED');
    assert.equal(h.st.error, DLE);
    assertWellFormed(h.events);
  });

  it('task parameters over the quota fail the state before anything is scheduled', () => {
    const h = new Harness(machine({ T: lambdaTask({ Parameters: { 'a.$': '$.s', 'b.$': '$.s' } }) }));
    h.start({ s: text(200_000) }, true, AWS);
    assert.equal(h.tasks.size, 0, 'no task was invoked');
    assert.equal(h.st.error, DLE);
    assert.match(h.st.cause ?? '', /has an input with a size exceeding/);
    assert.deepEqual(h.types(), ['ExecutionStarted', 'TaskStateEntered', 'ExecutionFailed']);
  });

  it('a task given its whole state input is checked by the bound of that input: over the quota, nothing is scheduled', () => {
    const over = new Harness(machine({ T: lambdaTask() }));
    over.start({ s: text(LIMIT) }, true, AWS);
    assert.equal(over.tasks.size, 0);
    assert.match(over.st.cause ?? '', /'T' has an input with a size exceeding/);
    // The same input after a state whose output bound was carried: it fits, the task runs.
    const fits = new Harness(
      machine({ P: { Type: 'Pass', Result: 1, ResultPath: '$.n', Next: 'T' }, T: lambdaTask() }),
    );
    fits.start({ s: text(LIMIT - 100) }, true, AWS);
    assert.equal(fits.tasks.size, 1);
  });

  it('Parallel results that add up to more than the quota fail the Parallel state (catchable)', () => {
    const branch = (name: string) => machine({ [name]: lambdaTask() });
    const h = new Harness(
      machine({
        Par: {
          Type: 'Parallel',
          Branches: [branch('A'), branch('B')],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'H' }],
          End: true,
        },
        H: { Type: 'Pass', End: true },
      }),
    );
    h.start({}, true, AWS);
    for (const t of [...h.tasks.values()]) complete(h, t.taskId, text(150_000));
    assert.equal(h.st.status, 'SUCCEEDED');
    assert.ok(h.types().includes('ParallelStateFailed'));
    assert.ok(!h.types().includes('ParallelStateSucceeded'));
    assert.deepEqual((h.st.output as JsonObject).Error, DLE);
    assertWellFormed(h.events);
  });

  it('a Map iteration input built by ItemSelector over the quota fails the Map state', () => {
    const h = new Harness(
      machine({
        M: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemSelector: { 'big.$': '$.s', 'again.$': '$.s' },
          ItemProcessor: machine({ T: lambdaTask() }),
          End: true,
        },
      }),
    );
    h.start({ items: [1], s: text(200_000) }, true, AWS);
    assert.equal(h.tasks.size, 0);
    assert.equal(h.st.error, DLE);
    assert.ok(h.types().includes('MapStateFailed'));
  });
});

describe('JSON round trip of the execution state', () => {
  type Scenario = (h: Harness) => void;
  const scenarios: Record<string, [JsonValue, JsonValue, Scenario, JsonValue]> = {
    'Map of tasks with MaxConcurrency 2': [
      machine({
        M: {
          Type: 'Map',
          MaxConcurrency: 2,
          ItemProcessor: machine({ T: lambdaTask({ TimeoutSeconds: 100 }) }),
          End: true,
        },
      }),
      [1, 2, 3, 4, 5],
      (h) => {
        while (h.tasks.size > 0) {
          const t = [...h.tasks.values()].pop()!;
          complete(h, t.taskId, (t.input as number) * 10);
        }
      },
      [10, 20, 30, 40, 50],
    ],
    'retries, then a Catch': [
      machine({
        T: lambdaTask(
          {
            Retry: [{ ErrorEquals: ['E'], MaxAttempts: 2, IntervalSeconds: 3 }],
            Catch: [{ ErrorEquals: ['E'], ResultPath: '$.err', Next: 'H' }],
          },
          'H',
        ),
        H: { Type: 'Pass', End: true },
      }),
      { a: 1 },
      (h) => {
        for (let i = 0; i < 2; i++) {
          failTask(h, h.task().taskId, 'E', `c${i}`);
          h.fire(h.timer('retry-')[0]);
        }
        failTask(h, h.task().taskId, 'E', 'last');
      },
      { a: 1, err: { Error: 'E', Cause: 'last' } },
    ],
    'Parallel with a Wait, a task and a timeout retry': [
      machine({
        P: {
          Type: 'Parallel',
          Branches: [
            machine({
              W: { Type: 'Wait', Seconds: 5, Next: 'X' },
              X: { Type: 'Pass', Result: 'waited', End: true },
            }),
            machine({
              T: lambdaTask({
                TimeoutSeconds: 2,
                Retry: [{ ErrorEquals: ['States.Timeout'], MaxAttempts: 1, IntervalSeconds: 1 }],
              }),
            }),
          ],
          End: true,
        },
      }),
      {},
      (h) => {
        h.fire(h.timer('timeout-')[0]);
        h.fire(h.timer('retry-')[0]);
        h.fire(h.timer('wait-')[0]);
        complete(h, h.task().taskId, 'task');
      },
      ['waited', 'task'],
    ],
  };

  for (const [name, [def, input, drive, expected]] of Object.entries(scenarios)) {
    it(`continues from a copy after every step: ${name}`, () => {
      const plain = new Harness(def);
      plain.start(input);
      drive(plain);
      const copied = new Harness(def, true);
      copied.start(input);
      drive(copied);
      assert.equal(copied.st.status, 'SUCCEEDED');
      assert.deepEqual(copied.st.output, expected);
      assert.deepEqual(plain.st.output, expected);
      // The same history, event for event.
      assert.deepEqual(JSON.parse(JSON.stringify(copied.events)), JSON.parse(JSON.stringify(plain.events)));
      assert.equal(copied.tasks.size + copied.timers.size, 0);
    });
  }

  it('the state is plain JSON data: a copy is deep-equal to the original', () => {
    const h = new Harness(
      machine({
        M: { Type: 'Map', MaxConcurrency: 2, ItemProcessor: machine({ T: lambdaTask() }), End: true },
      }),
    );
    h.start([1, 2, 3]);
    complete(h, [...h.tasks.keys()][0]!, 'r');
    const copy = JSON.parse(JSON.stringify(h.st)) as ExecutionState;
    // Round-tripping the copy again is stable.
    assert.equal(JSON.stringify(JSON.parse(JSON.stringify(copy))), JSON.stringify(copy));
    assert.equal(copy.status, 'RUNNING');
    assert.equal(Object.keys(copy.tasks).length, 2);
  });
});

/** A distributed Map over numbers whose child fails (`Boom`, `two`) on 2, one failure tolerated. */
const failTwo = (extra: JsonObject = {}): JsonObject =>
  machine({
    M: {
      Type: 'Map',
      ToleratedFailureCount: 1,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED' },
        ...machine({
          C: { Type: 'Choice', Choices: [{ Variable: '$', NumericEquals: 2, Next: 'F' }], Default: 'P' },
          F: { Type: 'Fail', Error: 'Boom', Cause: 'two' },
          P: { Type: 'Pass', End: true },
        }),
      },
      End: true,
      ...extra,
    },
  });

describe('distributed Map: tolerated failures', () => {
  it('a child that fails at once within the tolerance does not stop the others from starting', () => {
    const h = new Harness(failTwo());
    h.start([1, 2, 3]);
    assert.equal(h.st.status, 'SUCCEEDED');
    assert.equal(JSON.stringify(h.st.output), '[1,null,3]');
  });
});

describe('distributed Map: ResultWriter', () => {
  it('builds the result files itself, then waits for the write; its failure is States.ResultWriterFailed', () => {
    const writer = {
      ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: 'b', Prefix: 'p' } },
    };
    const h = new Harness(failTwo(writer), true);
    h.start([1, 2, 3]);
    const task = h.task();
    assert.equal(task.resultWriter, true);
    const runArn = details(eventOf(h, 'MapRunStarted'), 'mapRunStartedEventDetails').mapRunArn as string;
    const dir = `p/${runArn.split(':').pop()}/`;
    const input = task.input as { Bucket: string; Objects: { Key: string; Body: string }[] };
    assert.equal(input.Bucket, 'b');
    assert.deepEqual(
      input.Objects.map((o) => o.Key),
      [`${dir}FAILED_0.json`, `${dir}SUCCEEDED_0.json`, `${dir}manifest.json`],
    );
    const failed = JSON.parse(input.Objects[0]!.Body) as JsonObject[];
    assert.deepEqual([failed[0]!.Error, failed[0]!.Cause, failed[0]!.Status], ['Boom', 'two', 'FAILED']);
    assert.deepEqual(JSON.parse(input.Objects[2]!.Body), {
      DestinationBucket: 'b',
      MapRunArn: runArn,
      ResultFiles: {
        FAILED: [{ Key: `${dir}FAILED_0.json`, Size: Buffer.byteLength(input.Objects[0]!.Body) }],
        PENDING: [],
        SUCCEEDED: [{ Key: `${dir}SUCCEEDED_0.json`, Size: Buffer.byteLength(input.Objects[1]!.Body) }],
      },
    });
    // Nothing is recorded while the write runs.
    assert.equal(h.lastEvent().type, 'MapRunStarted');
    complete(h, task.taskId, null);
    assert.equal(h.st.status, 'SUCCEEDED');
    assert.deepEqual(h.st.output, {
      MapRunArn: runArn,
      ResultWriterDetails: { Bucket: 'b', Key: `${dir}manifest.json` },
    });

    const broken = new Harness(failTwo(writer));
    broken.start([1, 2, 3]);
    failTask(broken, broken.task().taskId, 'S3.NoSuchBucketException', 'no bucket');
    assert.equal(broken.st.status, 'FAILED');
    assert.equal(broken.st.error, StatesErrors.ResultWriterFailed);
    assert.equal(broken.st.cause, 'no bucket');
    assert.deepEqual(broken.types().slice(-3), ['MapRunFailed', 'MapStateFailed', 'ExecutionFailed']);
  });
});
