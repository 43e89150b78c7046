// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * Distributed Map ItemReader end to end: the durable engine reads S3 objects and listings with
 * the real AWS SDK client from the local stand-in, and the in-memory runtime does the same.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { JsonObject } from '../../language/json.js';
import { Engine } from '../engine.js';
import { AwsStandIn } from '../testing/aws-standins.js';
import { ROLE, removeTempDirs, runToEnd, tempDir, runInMemory } from './harness.js';

const CREDENTIALS = { accessKeyId: 'AKIDSTEPWISETESTKEY1', secretAccessKey: 'stepwise-test-secret' };

after(removeTempDirs);

let standIn: AwsStandIn;
before(async () => {
  standIn = new AwsStandIn({ account: '123456789012' });
  await standIn.start();
  standIn.createBucket('data');
  standIn.putObject('data', 'rows.csv', 'id,name\n1,"Doe, Jane"\n2,"say ""hi"""\n3,x\n');
  standIn.putObject('data', 'items.json', '[{"n":1},{"n":2},{"n":3}]');
  standIn.putObject('data', 'lines.jsonl', '{"n":1}\n{"n":2}\n');
  for (let i = 0; i < 5; i++) standIn.putObject('data', `logs/${i}.txt`, `log ${i}`);
});
after(() => standIn.stop());

function mapOf(reader: JsonObject, extra: JsonObject = {}): JsonObject {
  return {
    StartAt: 'M',
    States: {
      M: {
        Type: 'Map',
        ItemReader: reader,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'P',
          States: { P: { Type: 'Pass', End: true } },
        },
        End: true,
        ...extra,
      },
    },
  };
}

const GET = 'arn:aws:states:::s3:getObject';

describe('ItemReader through the durable engine and the S3 stand-in', () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.open({
      dataDir: tempDir(),
      waitScale: 0,
      aws: { endpoint: standIn.url, credentials: CREDENTIALS, maxAttempts: 1 },
    });
  });
  after(() => engine.close());

  it('reads a CSV object (quoted fields) and runs one child per row', async () => {
    const r = await runToEnd(
      engine,
      mapOf({
        Resource: GET,
        ReaderConfig: { InputType: 'CSV', CSVHeaderLocation: 'FIRST_ROW', MaxItemsPath: '$.max' },
        Parameters: { Bucket: 'data', 'Key.$': '$.key' },
      }),
      { key: 'rows.csv', max: 2 },
    );
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.deepEqual(r.output, [
      { id: '1', name: 'Doe, Jane' },
      { id: '2', name: 'say "hi"' },
    ]);
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

  it('reads JSON and JSONL objects, in batches (JSONata)', async () => {
    const r = await runToEnd(
      engine,
      {
        QueryLanguage: 'JSONata',
        ...mapOf(
          {
            Resource: GET,
            ReaderConfig: { InputType: 'JSON' },
            Arguments: { Bucket: 'data', Key: '{% $states.input.key %}' },
          },
          {
            ItemBatcher: {
              MaxItemsPerBatch: '{% $states.input.per %}',
              BatchInput: { k: '{% $states.input.key %}' },
            },
          },
        ),
      },
      { key: 'items.json', per: 2 },
    );
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.deepEqual(r.output, [
      { BatchInput: { k: 'items.json' }, Items: [{ n: 1 }, { n: 2 }] },
      { BatchInput: { k: 'items.json' }, Items: [{ n: 3 }] },
    ]);
    const lines = await runToEnd(
      engine,
      mapOf({
        Resource: GET,
        ReaderConfig: { InputType: 'JSONL' },
        Parameters: { Bucket: 'data', Key: 'lines.jsonl' },
      }),
    );
    assert.deepEqual(lines.output, [{ n: 1 }, { n: 2 }]);
  });

  it('lists objects (all pages) with listObjectsV2', async () => {
    const r = await runToEnd(
      engine,
      mapOf({
        Resource: 'arn:aws:states:::s3:listObjectsV2',
        Parameters: { Bucket: 'data', Prefix: 'logs/', MaxKeys: 2 },
      }),
    );
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    const items = r.output as JsonObject[];
    assert.deepEqual(
      items.map((i) => i.Key),
      ['logs/0.txt', 'logs/1.txt', 'logs/2.txt', 'logs/3.txt', 'logs/4.txt'],
    );
    assert.deepEqual(Object.keys(items[0]!), ['Etag', 'Key', 'LastModified', 'Size', 'StorageClass']);
    assert.equal(typeof items[0]!.LastModified, 'number');
  });

  it('fails with States.ItemReaderFailed when the object is missing; Catch sees it', async () => {
    const def = mapOf({
      Resource: GET,
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { Bucket: 'data', Key: 'nope.json' },
    });
    const states = def.States as Record<string, JsonObject>;
    const m = states.M!;
    delete m.End;
    m.Next = 'Caught';
    m.Catch = [{ ErrorEquals: ['States.ItemReaderFailed'], Next: 'Caught' }];
    states.Caught = { Type: 'Pass', End: true };
    const r = await runToEnd(engine, def);
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    const out = r.output as JsonObject;
    assert.equal(out.Error, 'States.ItemReaderFailed');
    assert.match(out.Cause as string, /specified key does not exist/);
    assert.ok(r.events.some((e) => e.type === 'MapRunFailed'));
  });
});

describe('ItemReader durability', () => {
  it('a read cut short by a restart is a recorded ItemReaderFailed, which Retry reads again', async () => {
    // An S3 endpoint that never answers: the read is in flight when the engine stops.
    const hanging: Server = createServer(() => undefined);
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    const dir = tempDir();
    const aws = (endpoint: string) => ({ endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
    const def = mapOf(
      {
        Resource: GET,
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { Bucket: 'data', Key: 'items.json' },
      },
      { Retry: [{ ErrorEquals: ['States.ItemReaderFailed'], IntervalSeconds: 1, MaxAttempts: 1 }] },
    );
    let executionArn: string;
    const first = await Engine.open({
      dataDir: dir,
      waitScale: 0,
      aws: aws(`http://127.0.0.1:${(hanging.address() as AddressInfo).port}`),
    });
    try {
      const { stateMachineArn } = await first.createStateMachine({
        name: 'reader',
        definition: JSON.stringify(def),
        roleArn: ROLE,
      });
      ({ executionArn } = await first.startExecution({ stateMachineArn, input: '{}' }));
      for (let i = 0; i < 200; i++) {
        const page = await first.getExecutionHistory({ executionArn, maxResults: 100 });
        if (page.items.some((e) => e.type === 'MapRunStarted')) break;
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      await first.close();
      hanging.closeAllConnections();
      await new Promise((r) => hanging.close(r));
    }
    const second = await Engine.open({ dataDir: dir, waitScale: 0, aws: aws(standIn.url) });
    try {
      const deadline = Date.now() + 20_000;
      let d = await second.describeExecution(executionArn);
      while (d.status === 'RUNNING' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
        d = await second.describeExecution(executionArn);
      }
      assert.equal(d.status, 'SUCCEEDED', d.cause);
      assert.deepEqual(JSON.parse(d.output ?? 'null'), [{ n: 1 }, { n: 2 }, { n: 3 }]);
      const page = await second.getExecutionHistory({ executionArn, maxResults: 100 });
      const failed = page.items.filter((e) => e.type === 'MapRunFailed');
      assert.equal(failed.length, 1);
      assert.match(JSON.stringify(failed[0]), /States.ItemReaderFailed.*restarted/);
      assert.equal(page.items.filter((e) => e.type === 'MapRunStarted').length, 2);
    } finally {
      await second.close();
    }
  });
});

describe('ItemReader elsewhere', () => {
  it('runs in memory too (runLocalExecution with pass-through)', async () => {
    const state = await runInMemory(
      mapOf({
        Resource: GET,
        ReaderConfig: { InputType: 'JSON', MaxItems: 1 },
        Parameters: { Bucket: 'data', Key: 'items.json' },
      }),
      { aws: { endpoint: standIn.url, credentials: CREDENTIALS, maxAttempts: 1 } },
    );
    assert.equal(state.status, 'SUCCEEDED', state.cause);
    assert.deepEqual(state.output, [{ n: 1 }]);
  });

  it('without pass-through the Map fails with States.ItemReaderFailed, saying why', async () => {
    const engine = await Engine.open({ dataDir: tempDir(), waitScale: 0 });
    try {
      const r = await runToEnd(
        engine,
        mapOf({
          Resource: GET,
          ReaderConfig: { InputType: 'JSON' },
          Parameters: { Bucket: 'data', Key: 'items.json' },
        }),
      );
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'States.ItemReaderFailed');
      assert.match(r.cause ?? '', /needs pass-through to AWS, which is not configured/);
    } finally {
      await engine.close();
    }
  });
});
