// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * Distributed Map ResultWriter end to end: the durable engine (and the in-memory runtime) write
 * the map run's result files and manifest with the real AWS SDK client to the local S3 stand-in.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { HistoryEvent } from '../../interpreter/types.js';
import type { JsonObject, JsonValue } from '../../language/json.js';
import { Engine } from '../engine.js';
import { AwsStandIn } from '../testing/aws-standins.js';
import { ended, removeTempDirs, runInMemory, runToEnd, startOne, tempDir, until } from './harness.js';

const CREDENTIALS = { accessKeyId: 'AKIDSTEPWISETESTKEY1', secretAccessKey: 'stepwise-test-secret' };
const PUT = 'arn:aws:states:::s3:putObject';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

after(removeTempDirs);

let standIn: AwsStandIn;
before(async () => {
  standIn = new AwsStandIn({ account: '123456789012' });
  await standIn.start();
  standIn.createBucket('results');
  standIn.createBucket('data');
  standIn.putObject('data', 'items.json', '[{"n":1},{"n":2}]');
});
after(() => standIn.stop());

/**
 * A distributed Map over `$.items` whose children fail (`Boom`, cause `no <n>`) for an item with
 * `fail: true` and otherwise return `{n, twice: [n, n]}`.
 */
function mapOf(writer: JsonObject, extra: JsonObject = {}): JsonObject {
  return {
    StartAt: 'M',
    States: {
      M: {
        Type: 'Map',
        ItemsPath: '$.items',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'C',
          States: {
            C: {
              Type: 'Choice',
              Choices: [{ Variable: '$.fail', IsPresent: true, Next: 'F' }],
              Default: 'P',
            },
            F: { Type: 'Fail', Error: 'Boom', CausePath: "States.Format('no {}', $.n)" },
            P: { Type: 'Pass', Parameters: { 'n.$': '$.n', 'twice.$': 'States.Array($.n, $.n)' }, End: true },
          },
        },
        ResultWriter: writer,
        End: true,
        ...extra,
      },
    },
  };
}

const ITEMS = { items: [{ n: 1 }, { n: 2, fail: true }, { n: 3 }], prefix: 'runs' };

/** The map run ARN of an execution's MapRunStarted event. */
function mapRunArn(events: HistoryEvent[]): string {
  const e = events.find((x) => x.type === 'MapRunStarted');
  return (e?.mapRunStartedEventDetails as { mapRunArn: string }).mapRunArn;
}

function readJson(bucket: string, key: string): JsonValue {
  const text = standIn.objectText(bucket, key);
  assert.ok(text !== undefined, `no object ${key}`);
  return JSON.parse(text) as JsonValue;
}

/** Checks a child run record's volatile fields and returns it without them. */
function stable(record: JsonValue, runArn: string): JsonObject {
  const r = { ...(record as JsonObject) };
  const machine = runArn.split(':')[6]!;
  const name = r.Name as string;
  assert.match(name, new RegExp(`^${UUID}$`));
  assert.equal(r.ExecutionArn, `arn:aws:states:us-east-1:123456789012:execution:${machine}:${name}`);
  assert.equal(r.StateMachineArn, `arn:aws:states:us-east-1:123456789012:stateMachine:${machine}`);
  assert.match(r.StartDate as string, ISO);
  assert.match(r.StopDate as string, ISO);
  delete r.Name;
  delete r.ExecutionArn;
  delete r.StateMachineArn;
  delete r.StartDate;
  delete r.StopDate;
  return r;
}

describe('ResultWriter through the durable engine and the S3 stand-in', () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.open({
      dataDir: tempDir(),
      waitScale: 0,
      aws: { endpoint: standIn.url, credentials: CREDENTIALS, maxAttempts: 1 },
    });
  });
  after(() => engine.close());

  it('exports successes and tolerated failures: manifest, SUCCEEDED_0.json, FAILED_0.json, the Map result', async () => {
    const r = await runToEnd(
      engine,
      mapOf(
        { Resource: PUT, Parameters: { Bucket: 'results', 'Prefix.$': '$.prefix' } },
        { ToleratedFailureCount: 1, Label: 'Export' },
      ),
      ITEMS,
    );
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    const runArn = mapRunArn(r.events);
    assert.match(runArn, new RegExp(`^arn:aws:states:us-east-1:123456789012:mapRun:m\\w+/Export:${UUID}$`));
    const runId = runArn.slice(runArn.lastIndexOf(':') + 1);
    const dir = `runs/${runId}/`;
    assert.deepEqual(r.output, {
      MapRunArn: runArn,
      ResultWriterDetails: { Bucket: 'results', Key: `${dir}manifest.json` },
    });
    assert.deepEqual(standIn.keys('results', dir), [
      `${dir}FAILED_0.json`,
      `${dir}SUCCEEDED_0.json`,
      `${dir}manifest.json`,
    ]);
    const size = (key: string) => Buffer.byteLength(standIn.objectText('results', key) ?? '');
    assert.deepEqual(readJson('results', `${dir}manifest.json`), {
      DestinationBucket: 'results',
      MapRunArn: runArn,
      ResultFiles: {
        FAILED: [{ Key: `${dir}FAILED_0.json`, Size: size(`${dir}FAILED_0.json`) }],
        PENDING: [],
        SUCCEEDED: [{ Key: `${dir}SUCCEEDED_0.json`, Size: size(`${dir}SUCCEEDED_0.json`) }],
      },
    });
    const succeeded = readJson('results', `${dir}SUCCEEDED_0.json`) as JsonValue[];
    assert.equal(succeeded.length, 2);
    assert.deepEqual(Object.keys(succeeded[0] as JsonObject), [
      'ExecutionArn',
      'Input',
      'InputDetails',
      'Name',
      'Output',
      'OutputDetails',
      'RedriveCount',
      'RedriveStatus',
      'RedriveStatusReason',
      'StartDate',
      'StateMachineArn',
      'Status',
      'StopDate',
    ]);
    assert.deepEqual(
      succeeded.map((s) => stable(s, runArn)),
      [1, 3].map((n) => ({
        Input: JSON.stringify({ n }),
        InputDetails: { Included: true },
        Output: JSON.stringify({ n, twice: [n, n] }),
        OutputDetails: { Included: true },
        RedriveCount: 0,
        RedriveStatus: 'NOT_REDRIVABLE',
        RedriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
        Status: 'SUCCEEDED',
      })),
    );
    const failed = readJson('results', `${dir}FAILED_0.json`) as JsonValue[];
    assert.deepEqual(
      failed.map((f) => stable(f, runArn)),
      [
        {
          Cause: 'no 2',
          Error: 'Boom',
          Input: JSON.stringify({ n: 2, fail: true }),
          InputDetails: { Included: true },
          RedriveCount: 0,
          RedriveStatus: 'REDRIVABLE_BY_MAP_RUN',
          Status: 'FAILED',
        },
      ],
    );
    // No events of its own: the write happens between the children's end and MapRunSucceeded.
    assert.deepEqual(
      r.events.map((e) => e.type),
      [
        'ExecutionStarted',
        'MapStateEntered',
        'MapStateStarted',
        'MapRunStarted',
        'MapRunSucceeded',
        'MapStateSucceeded',
        'MapStateExited',
        'ExecutionSucceeded',
      ],
    );
  });

  it('WriterConfig COMPACT as JSON Lines, FLATTEN as a JSON array; ResultSelector reads the result', async () => {
    const compact = await runToEnd(
      engine,
      mapOf(
        {
          Resource: PUT,
          Parameters: { Bucket: 'results', Prefix: 'compact/' },
          WriterConfig: { Transformation: 'COMPACT', OutputType: 'JSONL' },
        },
        { ResultSelector: { 'key.$': '$.ResultWriterDetails.Key' } },
      ),
      { items: [{ n: 1 }, { n: 2 }] },
    );
    assert.equal(compact.status, 'SUCCEEDED', compact.cause);
    const runId = mapRunArn(compact.events).split(':').pop()!;
    // A Prefix ending in '/' gets no second one.
    assert.deepEqual(compact.output, { key: `compact/${runId}/manifest.json` });
    assert.equal(
      standIn.objectText('results', `compact/${runId}/SUCCEEDED_0.json`),
      '{"n":1,"twice":[1,1]}\n{"n":2,"twice":[2,2]}\n',
    );
    const flat = await runToEnd(
      engine,
      mapOf({
        Resource: PUT,
        Parameters: { Bucket: 'results' },
        WriterConfig: { Transformation: 'FLATTEN', OutputType: 'JSON' },
      }),
      { items: [{ n: 1 }, { n: 2 }] },
    );
    assert.equal(flat.status, 'SUCCEEDED', flat.cause);
    const flatId = mapRunArn(flat.events).split(':').pop()!;
    // Without a Prefix, the files are under the map run's id.
    assert.deepEqual((flat.output as JsonObject).ResultWriterDetails, {
      Bucket: 'results',
      Key: `${flatId}/manifest.json`,
    });
    // FLATTEN splices each output that is an array; an object stays one entry.
    assert.deepEqual(readJson('results', `${flatId}/SUCCEEDED_0.json`), [
      { n: 1, twice: [1, 1] },
      { n: 2, twice: [2, 2] },
    ]);
  });

  it('WriterConfig without Resource: the transformed results are the output; a failure stays a record', async () => {
    const def = mapOf(
      { WriterConfig: { Transformation: 'FLATTEN', OutputType: 'JSON' } },
      {
        ItemSelector: { 'n.$': '$$.Map.Item.Value.n', 'fail.$': '$$.Map.Item.Value.fail' },
        ToleratedFailurePercentage: 50,
      },
    );
    const states = def.States as Record<string, JsonObject>;
    // Children return arrays here, which FLATTEN splices into one array.
    const processor = states.M!.ItemProcessor as { States: Record<string, JsonObject> };
    processor.States.P = {
      Type: 'Pass',
      Parameters: { 'a.$': 'States.Array($.n, $.n)' },
      OutputPath: '$.a',
      End: true,
    };
    processor.States.C = {
      Type: 'Choice',
      Choices: [{ Variable: '$.fail', BooleanEquals: true, Next: 'F' }],
      Default: 'P',
    };
    const r = await runToEnd(engine, def, {
      items: [
        { n: 1, fail: false },
        { n: 2, fail: true },
        { n: 3, fail: false },
      ],
    });
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    const out = r.output as JsonValue[];
    assert.deepEqual(out.slice(0, 2), [1, 1]);
    assert.deepEqual(out.slice(3), [3, 3]);
    assert.deepEqual(stable(out[2]!, mapRunArn(r.events)), {
      Cause: 'no 2',
      Error: 'Boom',
      Input: JSON.stringify({ n: 2, fail: true }),
      InputDetails: { Included: true },
      RedriveCount: 0,
      RedriveStatus: 'REDRIVABLE_BY_MAP_RUN',
      Status: 'FAILED',
    });
  });

  it('a map run that fails still writes its results: FAILED (aborted too) and PENDING files', async () => {
    const r = await runToEnd(
      engine,
      mapOf({ Resource: PUT, Parameters: { Bucket: 'results', Prefix: 'failing' } }, { MaxConcurrency: 1 }),
      { items: [{ n: 1 }, { n: 2, fail: true }, { n: 3 }] },
    );
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'Boom');
    assert.equal(r.cause, 'no 2');
    const runId = mapRunArn(r.events).split(':').pop()!;
    const manifest = readJson('results', `failing/${runId}/manifest.json`) as JsonObject;
    const files = manifest.ResultFiles as Record<string, { Key: string }[]>;
    assert.deepEqual(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v.map((f) => f.Key)])), {
      FAILED: [`failing/${runId}/FAILED_0.json`],
      PENDING: [`failing/${runId}/PENDING_0.json`],
      SUCCEEDED: [`failing/${runId}/SUCCEEDED_0.json`],
    });
    assert.deepEqual(readJson('results', `failing/${runId}/PENDING_0.json`), [
      { Input: JSON.stringify({ n: 3 }), InputDetails: { Included: true }, Status: 'PENDING' },
    ]);
    assert.deepEqual(
      r.events.filter((e) => e.type.startsWith('MapRun')).map((e) => e.type),
      ['MapRunStarted', 'MapRunFailed'],
    );
  });

  it('a write that fails (no such bucket) is States.ResultWriterFailed, which Catch handles', async () => {
    const def = mapOf(
      { Resource: PUT, Parameters: { Bucket: 'missing', Prefix: 'p' } },
      { Catch: [{ ErrorEquals: ['States.ResultWriterFailed'], Next: 'Caught' }] },
    );
    const states = def.States as Record<string, JsonObject>;
    delete states.M!.End;
    states.M!.Next = 'Caught';
    states.Caught = { Type: 'Pass', End: true };
    const r = await runToEnd(engine, def, { items: [{ n: 1 }] });
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    const out = r.output as JsonObject;
    assert.equal(out.Error, 'States.ResultWriterFailed');
    assert.match(out.Cause as string, /specified bucket does not exist/);
    assert.deepEqual(
      r.events.filter((e) => e.type.startsWith('Map')).map((e) => e.type),
      [
        'MapStateEntered',
        'MapStateStarted',
        'MapRunStarted',
        'MapRunFailed',
        'MapStateFailed',
        'MapStateExited',
      ],
    );
  });

  it('JSONata: Arguments name the bucket and prefix; with an ItemReader as well', async () => {
    const r = await runToEnd(
      engine,
      {
        QueryLanguage: 'JSONata',
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            ItemReader: {
              Resource: 'arn:aws:states:::s3:getObject',
              ReaderConfig: { InputType: 'JSON' },
              Arguments: { Bucket: 'data', Key: 'items.json' },
            },
            ItemProcessor: {
              ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
              StartAt: 'P',
              States: { P: { Type: 'Pass', Output: '{% $states.input.n * 10 %}', End: true } },
            },
            ResultWriter: {
              Resource: PUT,
              Arguments: { Bucket: 'results', Prefix: '{% $states.input.where %}' },
              WriterConfig: { Transformation: 'COMPACT', OutputType: 'JSON' },
            },
            Output: '{% $states.result.ResultWriterDetails.Key %}',
            End: true,
          },
        },
      },
      { where: 'ata' },
    );
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    const runId = mapRunArn(r.events).split(':').pop()!;
    assert.equal(r.output, `ata/${runId}/manifest.json`);
    assert.deepEqual(readJson('results', `ata/${runId}/SUCCEEDED_0.json`), [10, 20]);
  });
});

describe('ResultWriter durability', () => {
  it('a write cut short by a restart is sent again: the same files, no failure recorded', async () => {
    // An S3 endpoint that never answers: the write is in flight when the engine stops.
    let received = 0;
    const hanging: Server = createServer(() => void received++);
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    const dir = tempDir();
    const aws = (endpoint: string) => ({ endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
    const def = mapOf({ Resource: PUT, Parameters: { Bucket: 'results', Prefix: 'restart' } });
    let executionArn: string;
    const first = await Engine.open({
      dataDir: dir,
      waitScale: 0,
      aws: aws(`http://127.0.0.1:${(hanging.address() as AddressInfo).port}`),
    });
    try {
      executionArn = await startOne(first, def, { items: [{ n: 1 }, { n: 2 }] });
      await until('the first PutObject', () => received > 0);
    } finally {
      await first.close();
      hanging.closeAllConnections();
      await new Promise((r) => hanging.close(r));
    }
    const second = await Engine.open({ dataDir: dir, waitScale: 0, aws: aws(standIn.url) });
    try {
      const r = await ended(second, executionArn);
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const runId = mapRunArn(r.events).split(':').pop()!;
      assert.deepEqual((r.output as JsonObject).ResultWriterDetails, {
        Bucket: 'results',
        Key: `restart/${runId}/manifest.json`,
      });
      assert.equal((readJson('results', `restart/${runId}/SUCCEEDED_0.json`) as JsonValue[]).length, 2);
      assert.deepEqual(
        r.events.filter((e) => e.type.startsWith('MapRun')).map((e) => e.type),
        ['MapRunStarted', 'MapRunSucceeded'],
      );
    } finally {
      await second.close();
    }
  });
});

describe('ResultWriter elsewhere', () => {
  it('runs in memory too (runLocalExecution with pass-through)', async () => {
    const state = await runInMemory(
      mapOf({
        Resource: PUT,
        Parameters: { Bucket: 'results', Prefix: 'memory' },
        WriterConfig: { Transformation: 'COMPACT', OutputType: 'JSON' },
      }),
      { aws: { endpoint: standIn.url, credentials: CREDENTIALS, maxAttempts: 1 } },
      { items: [{ n: 5 }] },
    );
    assert.equal(state.status, 'SUCCEEDED', state.cause);
    const key = ((state.output as JsonObject).ResultWriterDetails as JsonObject).Key as string;
    assert.match(key, new RegExp(`^memory/${UUID}/manifest\\.json$`));
    assert.deepEqual(readJson('results', key.replace('manifest', 'SUCCEEDED_0')), [{ n: 5, twice: [5, 5] }]);
  });

  it('without pass-through the Map fails with States.ResultWriterFailed, saying why', async () => {
    const engine = await Engine.open({ dataDir: tempDir(), waitScale: 0 });
    try {
      const r = await runToEnd(engine, mapOf({ Resource: PUT, Parameters: { Bucket: 'results' } }), {
        items: [{ n: 1 }],
      });
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'States.ResultWriterFailed');
      assert.match(r.cause ?? '', /needs pass-through to AWS, which is not configured/);
    } finally {
      await engine.close();
    }
  });
});
