// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * Execution log records (ADR 0009): the record format, the level filter and the data switch,
 * the files per log group, and the engine writing them for Express and Standard executions.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import type { HistoryEvent } from '../interpreter/types.js';
import type { JsonObject } from '../language/json.js';
import { Engine } from './engine.js';
import {
  fileLogSink,
  isLogged,
  logGroupFile,
  logRecords,
  logSettings,
  MAX_LOGGED_PAYLOAD_BYTES,
  type ExecutionLogSink,
  type LogSettings,
} from './execution-log.js';
import { functionsFromMap } from './functions.js';

const ROLE = 'arn:aws:iam::123456789012:role/stepwise-test';
const GROUP = 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/orders-logs:*';
const FN = 'arn:aws:lambda:us-east-1:123456789012:function:';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'stepwise-logs-test-'));
  dirs.push(d);
  return d;
}

function logging(level: string, includeExecutionData = true): JsonObject {
  return {
    level,
    includeExecutionData,
    destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: GROUP } }],
  };
}

interface Record_ {
  id: string;
  type: string;
  details: Record<string, unknown>;
  previous_event_id: string;
  event_timestamp: string;
  execution_arn: string;
  redrive_count: string;
}

/** A sink that keeps the records in memory, by log group. */
function memorySink(): ExecutionLogSink & { records: (group?: string) => Record_[] } {
  const lines = new Map<string, string[]>();
  return {
    write(group, ls) {
      lines.set(group, [...(lines.get(group) ?? []), ...ls]);
    },
    flush: () => Promise.resolve(),
    records: (group = GROUP) => (lines.get(group) ?? []).map((l) => JSON.parse(l) as Record_),
  };
}

describe('log settings and levels', () => {
  it('reads a loggingConfiguration; OFF or no destination logs nothing', () => {
    assert.deepEqual(logSettings(logging('ALL')), {
      level: 'ALL',
      includeExecutionData: true,
      logGroupArn: GROUP,
    });
    assert.equal(logSettings(logging('ERROR', false))?.includeExecutionData, false);
    assert.equal(logSettings({ level: 'OFF', includeExecutionData: false }), undefined);
    assert.equal(logSettings(logging('OFF')), undefined);
    assert.equal(logSettings({ level: 'ALL' }), undefined);
    assert.equal(logSettings(undefined), undefined);
  });

  it("follows AWS's table: ERROR logs failures, aborts, time-outs and FailStateEntered; FATAL the execution's end", () => {
    const error = [
      'ExecutionFailed',
      'ExecutionAborted',
      'ExecutionTimedOut',
      'FailStateEntered',
      'LambdaFunctionFailed',
      'LambdaFunctionScheduleFailed',
      'LambdaFunctionStartFailed',
      'LambdaFunctionTimedOut',
      'MapIterationAborted',
      'MapIterationFailed',
      'MapStateAborted',
      'MapStateFailed',
      'ParallelStateAborted',
      'ParallelStateFailed',
      'TaskFailed',
      'TaskStartFailed',
      'TaskStateAborted',
      'TaskSubmitFailed',
      'TaskTimedOut',
      'WaitStateAborted',
    ];
    const notError = [
      'ChoiceStateEntered',
      'ExecutionStarted',
      'ExecutionSucceeded',
      'LambdaFunctionScheduled',
      'LambdaFunctionSucceeded',
      'MapIterationStarted',
      'MapStateSucceeded',
      'PassStateExited',
      'TaskScheduled',
      'TaskSubmitted',
      'TaskStateEntered',
      'WaitStateExited',
    ];
    for (const t of [...error, ...notError]) assert.ok(isLogged('ALL', t), t);
    for (const t of error) assert.ok(isLogged('ERROR', t), t);
    for (const t of notError) assert.ok(!isLogged('ERROR', t), t);
    const fatal = ['ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut'];
    for (const t of fatal) assert.ok(isLogged('FATAL', t), t);
    for (const t of [...error.filter((x) => !fatal.includes(x)), ...notError])
      assert.ok(!isLogged('FATAL', t), t);
  });
});

describe('log records', () => {
  const arn = 'arn:aws:states:us-east-1:123456789012:express:sm:run:5c7d';
  const events: HistoryEvent[] = [
    {
      id: 1,
      previousEventId: 0,
      timestamp: 1713959670672,
      type: 'ExecutionStarted',
      executionStartedEventDetails: { input: { a: 1 }, inputDetails: { truncated: false }, roleArn: ROLE },
    },
    { id: 2, previousEventId: 1, timestamp: 1713959670680, type: 'ParallelStateStarted' },
    {
      id: 3,
      previousEventId: 2,
      timestamp: 1713959670690,
      type: 'PassStateExited',
      stateExitedEventDetails: { name: 'P', output: 'text', outputDetails: { truncated: false } },
    },
  ];
  const all: LogSettings = { level: 'ALL', includeExecutionData: true, logGroupArn: GROUP };

  it("has AWS's fields, with ids, timestamps and the redrive count as strings and payloads as JSON text", () => {
    const [started, parallel, exited] = logRecords(all, arn, events, false).map(
      (l) => JSON.parse(l) as Record_,
    );
    assert.deepEqual(started, {
      id: '1',
      type: 'ExecutionStarted',
      details: { input: '{"a":1}', inputDetails: { truncated: false }, roleArn: ROLE },
      previous_event_id: '0',
      event_timestamp: '1713959670672',
      execution_arn: arn,
      redrive_count: '0',
    });
    assert.deepEqual(parallel?.details, {}, 'events without details have empty details');
    assert.equal(exited?.details.output, '"text"', 'a string value is written as JSON text');
  });

  it('keeps stored payload text as it is', () => {
    const stored: HistoryEvent[] = [
      { ...events[2]!, stateExitedEventDetails: { name: 'P', output: '[1, 2]' } },
    ];
    const [r] = logRecords(all, arn, stored, true).map((l) => JSON.parse(l) as Record_);
    assert.equal(r?.details.output, '[1, 2]');
  });

  it('leaves the execution data out without includeExecutionData', () => {
    const recs = logRecords({ ...all, includeExecutionData: false }, arn, events, false).map(
      (l) => JSON.parse(l) as Record_,
    );
    assert.deepEqual(recs[0]?.details, { roleArn: ROLE });
    assert.deepEqual(recs[2]?.details, { name: 'P' });
  });

  it('truncates a payload over 248 KB as AWS does, and says so in its details', () => {
    const big: HistoryEvent = {
      id: 4,
      previousEventId: 3,
      timestamp: 1713959670700,
      type: 'PassStateExited',
      stateExitedEventDetails: {
        name: 'P',
        output: { s: 'é"'.repeat(100_000) },
        outputDetails: { truncated: false },
      },
    };
    const [r] = logRecords(all, arn, [big], false).map((l) => JSON.parse(l) as Record_);
    const out = r?.details.output as string;
    const escaped = Buffer.byteLength(JSON.stringify(out)) - 2;
    assert.ok(
      escaped <= MAX_LOGGED_PAYLOAD_BYTES && escaped > MAX_LOGGED_PAYLOAD_BYTES - 5000,
      `${escaped} bytes`,
    );
    assert.ok(out.startsWith('{"s":"é\\"'));
    assert.deepEqual(r?.details.outputDetails, { truncated: true });
    const [small] = logRecords(all, arn, [events[2]!], false).map((l) => JSON.parse(l) as Record_);
    assert.deepEqual(small?.details.outputDetails, { truncated: false });
  });

  it('filters by level', () => {
    assert.deepEqual(logRecords({ ...all, level: 'ERROR' }, arn, events, false), []);
  });
});

describe('log files', () => {
  it('maps a log group to a file under the directory, never outside it', () => {
    assert.equal(logGroupFile('/d', GROUP), join('/d', 'aws', 'vendedlogs', 'states', 'orders-logs.jsonl'));
    assert.equal(
      logGroupFile('/d', 'arn:aws:logs:us-east-1:1:log-group:../../etc/x#y'),
      join('/d', '%2E%2E', '%2E%2E', 'etc', 'x%23y.jsonl'),
    );
    assert.equal(logGroupFile('/d', 'arn:aws:logs:us-east-1:1:log-group:plain'), join('/d', 'plain.jsonl'));
  });

  it('appends lines in order, one JSON line per record', async () => {
    const dir = tempDir();
    const sink = fileLogSink(dir);
    sink.write(GROUP, ['{"n":1}', '{"n":2}']);
    sink.write(GROUP, ['{"n":3}']);
    await sink.flush();
    sink.write(GROUP, ['{"n":4}']);
    await sink.flush();
    const text = readFileSync(logGroupFile(dir, GROUP), 'utf8');
    assert.equal(text, '{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}\n');
  });
});

describe('the engine writes log records', () => {
  const failing: JsonObject = {
    StartAt: 'Work',
    States: {
      Work: {
        Type: 'Task',
        Resource: `${FN}boom`,
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Give up' }],
        End: true,
      },
      'Give up': { Type: 'Fail', Error: 'GaveUp', Cause: 'the work failed' },
    },
  };
  const succeeding: JsonObject = {
    StartAt: 'Inc',
    States: { Inc: { Type: 'Task', Resource: `${FN}inc`, End: true } },
  };
  const functions = functionsFromMap({
    inc: (e) => (e as number) + 1,
    boom: () => {
      throw Object.assign(new Error('nope'), { name: 'Boom' });
    },
  });

  async function withEngine(
    fn: (engine: Engine, sink: ReturnType<typeof memorySink>) => Promise<void>,
  ): Promise<void> {
    const sink = memorySink();
    const engine = await Engine.open({ dataDir: tempDir(), waitScale: 0, functions, executionLogs: sink });
    try {
      await fn(engine, sink);
    } finally {
      await engine.close();
    }
  }

  async function machine(
    engine: Engine,
    name: string,
    definition: JsonObject,
    type: 'STANDARD' | 'EXPRESS',
    loggingConfiguration?: JsonObject,
  ): Promise<string> {
    const r = await engine.createStateMachine({
      name,
      definition: JSON.stringify(definition),
      roleArn: ROLE,
      type,
      ...(loggingConfiguration ? { loggingConfiguration } : {}),
    });
    return r.stateMachineArn;
  }

  it('Express, level ALL: every event of the run, in order, with the execution data', async () => {
    await withEngine(async (engine, sink) => {
      const sm = await machine(engine, 'express-all', succeeding, 'EXPRESS', logging('ALL'));
      const r = await engine.startSyncExecution({ stateMachineArn: sm, input: '41' });
      assert.equal(r.status, 'SUCCEEDED');
      const recs = sink.records();
      assert.deepEqual(
        recs.map((x) => x.type),
        [
          'ExecutionStarted',
          'TaskStateEntered',
          'LambdaFunctionScheduled',
          'LambdaFunctionStarted',
          'LambdaFunctionSucceeded',
          'TaskStateExited',
          'ExecutionSucceeded',
        ],
      );
      assert.deepEqual(
        recs.map((x) => x.id),
        ['1', '2', '3', '4', '5', '6', '7'],
      );
      for (const x of recs) assert.equal(x.execution_arn, r.executionArn);
      assert.equal(recs[0]?.details.input, '41');
      assert.equal(recs.at(-1)?.details.output, '42');
    });
  });

  it('Express, level ERROR: only the failures; FATAL: only the execution failing', async () => {
    await withEngine(async (engine, sink) => {
      const errorGroup = GROUP.replace('orders-logs', 'errors');
      const fatalGroup = GROUP.replace('orders-logs', 'fatal');
      const withGroup = (level: string, group: string) => ({
        ...logging(level),
        destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: group } }],
      });
      const e = await machine(engine, 'express-error', failing, 'EXPRESS', withGroup('ERROR', errorGroup));
      const f = await machine(engine, 'express-fatal', failing, 'EXPRESS', withGroup('FATAL', fatalGroup));
      assert.equal((await engine.startSyncExecution({ stateMachineArn: e })).status, 'FAILED');
      assert.equal((await engine.startSyncExecution({ stateMachineArn: f })).status, 'FAILED');
      assert.deepEqual(
        sink.records(errorGroup).map((x) => x.type),
        ['LambdaFunctionFailed', 'FailStateEntered', 'ExecutionFailed'],
      );
      const fatal = sink.records(fatalGroup);
      assert.deepEqual(
        fatal.map((x) => x.type),
        ['ExecutionFailed'],
      );
      assert.deepEqual(fatal[0]?.details, { error: 'GaveUp', cause: 'the work failed' });
    });
  });

  it('Express started asynchronously logs too; without includeExecutionData no payloads', async () => {
    await withEngine(async (engine, sink) => {
      const sm = await machine(engine, 'express-async', succeeding, 'EXPRESS', logging('ALL', false));
      const { executionArn } = await engine.startExecution({ stateMachineArn: sm, input: '1' });
      for (let i = 0; i < 500 && !sink.records().some((x) => x.type === 'ExecutionSucceeded'); i++)
        await new Promise((r) => setTimeout(r, 10));
      const recs = sink.records();
      assert.equal(recs.at(-1)?.type, 'ExecutionSucceeded');
      assert.ok(recs.every((x) => x.execution_arn === executionArn));
      assert.deepEqual(recs[0]?.details, { roleArn: ROLE });
      assert.ok(recs.every((x) => !('input' in x.details) && !('output' in x.details)));
    });
  });

  it('Standard: the same records as the history, after each commit', async () => {
    await withEngine(async (engine, sink) => {
      const sm = await machine(engine, 'standard-all', succeeding, 'STANDARD', logging('ALL'));
      const { executionArn } = await engine.startExecution({ stateMachineArn: sm, input: '1' });
      let status = 'RUNNING';
      for (let i = 0; i < 500 && status === 'RUNNING'; i++) {
        status = (await engine.describeExecution(executionArn)).status;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(status, 'SUCCEEDED');
      const history = (await engine.getExecutionHistory({ executionArn, maxResults: 1000 })).items;
      const recs = sink.records();
      assert.deepEqual(
        recs.map((x) => [x.id, x.type, x.previous_event_id, x.event_timestamp]),
        history.map((e) => [String(e.id), e.type, String(e.previousEventId), String(e.timestamp)]),
      );
      assert.equal(recs[0]?.details.input, '1');
      assert.equal(recs.at(-1)?.details.output, '2');
    });
  });

  it('logs nothing without logging, or with level OFF; an update turns it on for new executions', async () => {
    await withEngine(async (engine, sink) => {
      const plain = await machine(engine, 'plain', succeeding, 'EXPRESS');
      const off = await machine(engine, 'off', succeeding, 'EXPRESS', { level: 'OFF' });
      await engine.startSyncExecution({ stateMachineArn: plain, input: '1' });
      await engine.startSyncExecution({ stateMachineArn: off, input: '1' });
      assert.deepEqual(sink.records(), []);
      await engine.updateStateMachine({ stateMachineArn: off, loggingConfiguration: logging('FATAL') });
      const failingArn = await machine(engine, 'std-fatal', failing, 'STANDARD', logging('FATAL'));
      const { executionArn } = await engine.startExecution({ stateMachineArn: failingArn });
      for (let i = 0; i < 500 && sink.records().length === 0; i++)
        await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(
        sink.records().map((x) => [x.type, x.execution_arn]),
        [['ExecutionFailed', executionArn]],
      );
    });
  });

  it("an execution of a version logs as the version's snapshot says, also after it waited", async () => {
    await withEngine(async (engine, sink) => {
      const waiting = { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 1, End: true } } };
      const sm = await machine(engine, 'versioned', waiting, 'STANDARD', logging('ALL'));
      const { stateMachineVersionArn } = await engine.publishStateMachineVersion({ stateMachineArn: sm });
      await engine.updateStateMachine({ stateMachineArn: sm, loggingConfiguration: { level: 'OFF' } });
      // The Wait evicts the execution; its timer reloads it, and logging is read again then.
      const { executionArn } = await engine.startExecution({ stateMachineArn: stateMachineVersionArn });
      let status = 'RUNNING';
      for (let i = 0; i < 500 && status === 'RUNNING'; i++) {
        status = (await engine.describeExecution(executionArn)).status;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(status, 'SUCCEEDED');
      for (let i = 0; i < 100 && sink.records().at(-1)?.type !== 'ExecutionSucceeded'; i++)
        await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(
        sink.records().map((x) => x.type),
        ['ExecutionStarted', 'WaitStateEntered', 'WaitStateExited', 'ExecutionSucceeded'],
      );
      const latest = await engine.startExecution({ stateMachineArn: sm });
      for (
        let i = 0;
        i < 500 && (await engine.describeExecution(latest.executionArn)).status === 'RUNNING';
        i++
      )
        await new Promise((r) => setTimeout(r, 10));
      assert.ok(
        sink.records().every((x) => x.execution_arn === executionArn),
        'the latest revision logs nothing',
      );
    });
  });

  it('by default writes a JSON-lines file per log group under <dataDir>/logs', async () => {
    const dataDir = tempDir();
    const engine = await Engine.open({ dataDir, waitScale: 0, functions });
    let executionArn = '';
    try {
      const sm = await machine(engine, 'to-file', succeeding, 'EXPRESS', logging('ALL'));
      executionArn = (await engine.startSyncExecution({ stateMachineArn: sm, input: '1' })).executionArn;
    } finally {
      await engine.close();
    }
    const file = join(dataDir, 'logs', 'aws', 'vendedlogs', 'states', 'orders-logs.jsonl');
    const recs = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record_);
    assert.equal(recs.length, 7);
    assert.equal(recs[0]?.type, 'ExecutionStarted');
    assert.ok(recs.every((x) => x.execution_arn === executionArn));
  });
});
