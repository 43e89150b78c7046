/**
 * The API server end to end: a real server on an ephemeral port over the durable engine, driven
 * with @aws-sdk/client-sfn as users drive AWS, plus raw requests for what the SDK never sends.
 */
// node:test's describe/test return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateActivityCommand,
  CreateStateMachineCommand,
  DeleteActivityCommand,
  DeleteStateMachineCommand,
  DescribeActivityCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  GetActivityTaskCommand,
  GetExecutionHistoryCommand,
  ListActivitiesCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  ListTagsForResourceCommand,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  StopExecutionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateStateMachineCommand,
  ValidateStateMachineDefinitionCommand,
  type DescribeExecutionCommandOutput,
  type GetExecutionHistoryCommandOutput,
  type ListActivitiesCommandOutput,
} from '@aws-sdk/client-sfn';
import { Engine } from '../../runtime/engine.js';
import type { StepFunctionsEngine } from '../../runtime/engine-api.js';
import type { LambdaHandler } from '../../runtime/functions.js';
import { startServer, type RunningServer } from './server.js';

const ROLE = 'arn:aws:iam::123456789012:role/test-role';
const PASS = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
const ACCOUNT_ARN = 'arn:aws:states:us-east-1:123456789012';

interface Fixture {
  server: RunningServer;
  engine: StepFunctionsEngine;
  sfn: SFNClient;
  close(): Promise<void>;
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function fixture(
  opts: {
    functions?: Record<string, LambdaHandler>;
    wrap?: (e: StepFunctionsEngine) => StepFunctionsEngine;
    logError?: (m: string) => void;
  } = {},
): Promise<Fixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stepwise-server-'));
  dirs.push(dataDir);
  const functions = opts.functions;
  const real = await Engine.open({
    dataDir,
    waitScale: 0,
    ...(functions
      ? { functions: { resolveFunction: (n: string) => functions[n.split(':').pop() ?? n] ?? functions[n] } }
      : {}),
  });
  const engine = opts.wrap ? opts.wrap(real) : real;
  const server = await startServer({ engine, port: 0, logError: opts.logError });
  const sfn = client(server.url);
  return {
    server,
    engine,
    sfn,
    async close() {
      sfn.destroy();
      await server.close();
      await real.close();
    },
  };
}

function client(
  endpoint: string,
  extra: Partial<ConstructorParameters<typeof SFNClient>[0]> = {},
): SFNClient {
  return new SFNClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    // With a custom endpoint the SDK would send StartSyncExecution to sync-127.0.0.1.
    disableHostPrefix: true,
    maxAttempts: 1,
    ...extra,
  });
}

/** The error an SDK call rejects with: AWS's code and HTTP status. */
async function sdkError(
  p: Promise<unknown>,
): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  assert.fail('expected the call to fail');
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown>;
}

/** A raw AWS JSON request (what the SDK would never send). */
function raw(
  url: string,
  target: string | undefined,
  body: string | Buffer,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          ...(target !== undefined ? { 'x-amz-target': target } : {}),
          ...headers,
        },
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            // not JSON: leave json empty, text tells
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const code = (r: RawResponse): string => String(r.json.__type).split('#').pop() ?? '';

async function finished(sfn: SFNClient, executionArn: string): Promise<DescribeExecutionCommandOutput> {
  for (let i = 0; i < 400; i++) {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== 'RUNNING') return d;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`execution ${executionArn} did not finish`);
}

describe('state machines', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });
  after(() => f.close());

  test('create, describe, update, list (paginated), delete', async () => {
    const created = await f.sfn.send(
      new CreateStateMachineCommand({
        name: 'sm-a',
        definition: PASS,
        roleArn: ROLE,
        tags: [{ key: 'k', value: 'v' }],
      }),
    );
    assert.equal(created.stateMachineArn, `${ACCOUNT_ARN}:stateMachine:sm-a`);
    assert.ok(created.creationDate instanceof Date);
    assert.ok(Math.abs(created.creationDate.getTime() - Date.now()) < 60_000, 'epoch seconds on the wire');

    const d = await f.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: created.stateMachineArn }));
    assert.equal(d.name, 'sm-a');
    assert.equal(d.definition, PASS);
    assert.equal(d.type, 'STANDARD');
    assert.equal(d.status, 'ACTIVE');
    assert.equal(d.roleArn, ROLE);

    const two = JSON.stringify({ StartAt: 'Q', States: { Q: { Type: 'Pass', Result: 2, End: true } } });
    const u = await f.sfn.send(
      new UpdateStateMachineCommand({ stateMachineArn: created.stateMachineArn, definition: two }),
    );
    assert.ok(u.updateDate instanceof Date);
    const d2 = await f.sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: created.stateMachineArn }),
    );
    assert.equal(d2.definition, two);

    for (const n of ['sm-b', 'sm-c', 'sm-d', 'sm-e']) {
      await f.sfn.send(new CreateStateMachineCommand({ name: n, definition: PASS, roleArn: ROLE }));
    }
    const names: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await f.sfn.send(new ListStateMachinesCommand({ maxResults: 2, nextToken }));
      assert.ok((page.stateMachines ?? []).length <= 2);
      names.push(...(page.stateMachines ?? []).map((s) => s.name ?? ''));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken);
    assert.deepEqual(names.sort(), ['sm-a', 'sm-b', 'sm-c', 'sm-d', 'sm-e']);
    assert.equal(pages, 3);

    await f.sfn.send(new DeleteStateMachineCommand({ stateMachineArn: `${ACCOUNT_ARN}:stateMachine:sm-e` }));
    const gone = await sdkError(
      f.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${ACCOUNT_ARN}:stateMachine:sm-e` })),
    );
    assert.equal(gone.name, 'StateMachineDoesNotExist');
    assert.equal(gone.status, 400);
  });

  test('creation errors carry AWS codes', async () => {
    await f.sfn.send(new CreateStateMachineCommand({ name: 'dup', definition: PASS, roleArn: ROLE }));
    const other = JSON.stringify({ StartAt: 'X', States: { X: { Type: 'Succeed' } } });
    const cases: [Promise<unknown>, string, RegExp?][] = [
      [
        f.sfn.send(new CreateStateMachineCommand({ name: 'dup', definition: other, roleArn: ROLE })),
        'StateMachineAlreadyExists',
      ],
      [
        f.sfn.send(
          new CreateStateMachineCommand({ name: 'bad-def', definition: '{"StartAt":"X"}', roleArn: ROLE }),
        ),
        'InvalidDefinition',
        /^Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED/,
      ],
      [
        f.sfn.send(
          new CreateStateMachineCommand({
            name: 'big',
            definition: ' '.repeat(1024 * 1024 + 1),
            roleArn: ROLE,
          }),
        ),
        'InvalidDefinition',
      ],
      [
        f.sfn.send(new CreateStateMachineCommand({ name: 'a b', definition: PASS, roleArn: ROLE })),
        'InvalidName',
        /^Invalid Name: 'a b'$/,
      ],
      [
        f.sfn.send(new CreateStateMachineCommand({ name: 'x'.repeat(81), definition: PASS, roleArn: ROLE })),
        'ValidationException',
        /Member must have length less than or equal to 80/,
      ],
      [
        f.sfn.send(new CreateStateMachineCommand({ name: 'role', definition: PASS, roleArn: 'not-a-role' })),
        'InvalidArn',
      ],
      [
        f.sfn.send(
          new CreateStateMachineCommand({
            name: 'tagged',
            definition: PASS,
            roleArn: ROLE,
            tags: Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' })),
          }),
        ),
        'TooManyTags',
      ],
      [
        f.sfn.send(
          new CreateStateMachineCommand({
            name: 'log',
            definition: PASS,
            roleArn: ROLE,
            loggingConfiguration: { level: 'ALL' },
          }),
        ),
        'InvalidLoggingConfiguration',
      ],
      [
        f.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: 'nope' })),
        'InvalidArn',
        /Invalid ARN prefix/,
      ],
      [
        f.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${ACCOUNT_ARN}:activity:x` })),
        'InvalidArn',
        /Resource type not valid in this context: activity/,
      ],
      [
        f.sfn.send(
          new DeleteStateMachineCommand({ stateMachineArn: 'arn:aws:states:us-east-1:123:stateMachine:x' }),
        ),
        'InvalidArn',
      ],
    ];
    // The calls run at once; mark them handled now so an early rejection is not "unhandled".
    for (const [p] of cases) p.catch(() => undefined);
    for (const [p, expected, message] of cases) {
      const e = await sdkError(p);
      assert.equal(e.name, expected, `${expected}: got ${e.name} (${e.message})`);
      assert.equal(e.status, 400);
      if (message) assert.match(e.message, message);
    }
  });

  test('ValidateStateMachineDefinition reports diagnostics', async () => {
    const ok = await f.sfn.send(new ValidateStateMachineDefinitionCommand({ definition: PASS }));
    assert.equal(ok.result, 'OK');
    assert.deepEqual(ok.diagnostics, []);
    assert.equal(ok.truncated, false);
    const bad = await f.sfn.send(new ValidateStateMachineDefinitionCommand({ definition: '{}' }));
    assert.equal(bad.result, 'FAIL');
    assert.deepEqual(bad.diagnostics, [
      {
        severity: 'ERROR',
        code: 'SCHEMA_VALIDATION_FAILED',
        message: 'These fields are required: [States, StartAt]',
        location: '/',
      },
    ]);
    const empty = await f.sfn.send(new ValidateStateMachineDefinitionCommand({ definition: '' }));
    assert.equal(empty.result, 'FAIL');
    assert.equal(empty.diagnostics?.[0]?.location, undefined);
    const one = await f.sfn.send(
      new ValidateStateMachineDefinitionCommand({ definition: 'not json', maxResults: 1 }),
    );
    assert.equal(one.diagnostics?.[0]?.code, 'INVALID_JSON_DESCRIPTION');
  });
});

describe('executions', () => {
  let f: Fixture;
  let smArn: string;
  before(async () => {
    f = await fixture();
    const def = JSON.stringify({
      StartAt: 'A',
      States: {
        A: { Type: 'Pass', ResultPath: '$.a', Result: 1, Next: 'B' },
        B: { Type: 'Pass', ResultPath: '$.b', Result: 2, End: true },
      },
    });
    smArn = (
      await f.sfn.send(new CreateStateMachineCommand({ name: 'flow', definition: def, roleArn: ROLE }))
    ).stateMachineArn!;
  });
  after(() => f.close());

  test('start, describe, list (paginated), history (paginated, reversed)', async () => {
    const started = await f.sfn.send(
      new StartExecutionCommand({ stateMachineArn: smArn, name: 'run-1', input: '{"x": [1, 2]}' }),
    );
    assert.equal(started.executionArn, `${ACCOUNT_ARN}:execution:flow:run-1`);
    assert.ok(started.startDate instanceof Date);
    const d = await finished(f.sfn, started.executionArn);
    assert.equal(d.status, 'SUCCEEDED');
    assert.deepEqual(JSON.parse(d.output!), { x: [1, 2], a: 1, b: 2 });
    assert.equal(d.input, '{"x": [1, 2]}');
    assert.ok(d.stopDate instanceof Date);
    assert.equal(d.name, 'run-1');
    assert.equal(d.stateMachineArn, smArn);

    const sm = await f.sfn.send(
      new DescribeStateMachineForExecutionCommand({ executionArn: started.executionArn }),
    );
    assert.equal(sm.stateMachineArn, smArn);
    assert.ok(sm.updateDate instanceof Date);

    for (const n of ['run-2', 'run-3'])
      await f.sfn.send(new StartExecutionCommand({ stateMachineArn: smArn, name: n }));
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await f.sfn.send(
        new ListExecutionsCommand({ stateMachineArn: smArn, maxResults: 1, nextToken }),
      );
      seen.push(...(page.executions ?? []).map((e) => e.name ?? ''));
      nextToken = page.nextToken;
    } while (nextToken);
    assert.deepEqual(seen.sort(), ['run-1', 'run-2', 'run-3']);

    const events: NonNullable<GetExecutionHistoryCommandOutput['events']> = [];
    nextToken = undefined;
    do {
      const page: GetExecutionHistoryCommandOutput = await f.sfn.send(
        new GetExecutionHistoryCommand({ executionArn: started.executionArn, maxResults: 2, nextToken }),
      );
      assert.ok((page.events ?? []).length <= 2);
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    assert.deepEqual(
      events.map((e) => e.type),
      [
        'ExecutionStarted',
        'PassStateEntered',
        'PassStateExited',
        'PassStateEntered',
        'PassStateExited',
        'ExecutionSucceeded',
      ],
    );
    assert.ok(
      events.every(
        (e) => e.timestamp instanceof Date && Math.abs(e.timestamp.getTime() - Date.now()) < 60_000,
      ),
    );
    const full = await f.sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn }));
    const first = full.events?.[0];
    assert.equal(first?.executionStartedEventDetails?.input, '{"x": [1, 2]}', 'payloads as JSON text');
    const reversed = await f.sfn.send(
      new GetExecutionHistoryCommand({
        executionArn: started.executionArn,
        reverseOrder: true,
        maxResults: 1,
      }),
    );
    assert.equal(reversed.events?.[0]?.type, 'ExecutionSucceeded');
    const noData = await f.sfn.send(
      new GetExecutionHistoryCommand({ executionArn: started.executionArn, includeExecutionData: false }),
    );
    assert.equal(noData.events?.[0]?.executionStartedEventDetails?.input, undefined);
  });

  test('execution errors carry AWS codes', async () => {
    await f.sfn.send(new StartExecutionCommand({ stateMachineArn: smArn, name: 'same', input: '{}' }));
    const cases: [Promise<unknown>, string][] = [
      [
        f.sfn.send(new StartExecutionCommand({ stateMachineArn: smArn, name: 'same', input: '{"a":1}' })),
        'ExecutionAlreadyExists',
      ],
      [
        f.sfn.send(new StartExecutionCommand({ stateMachineArn: smArn, input: '{nope' })),
        'InvalidExecutionInput',
      ],
      [
        f.sfn.send(
          new StartExecutionCommand({ stateMachineArn: smArn, input: `"${'x'.repeat(256 * 1024)}"` }),
        ),
        'InvalidExecutionInput',
      ],
      [f.sfn.send(new StartExecutionCommand({ stateMachineArn: smArn, name: 'a/b' })), 'InvalidName'],
      [
        f.sfn.send(new StartExecutionCommand({ stateMachineArn: `${ACCOUNT_ARN}:stateMachine:missing` })),
        'StateMachineDoesNotExist',
      ],
      [
        f.sfn.send(new DescribeExecutionCommand({ executionArn: `${ACCOUNT_ARN}:execution:flow:missing` })),
        'ExecutionDoesNotExist',
      ],
      [f.sfn.send(new DescribeExecutionCommand({ executionArn: smArn })), 'InvalidArn'],
      [
        f.sfn.send(
          new GetExecutionHistoryCommand({
            executionArn: `${ACCOUNT_ARN}:execution:flow:same`,
            nextToken: 'bogus',
          }),
        ),
        'ValidationException',
      ],
      [f.sfn.send(new ListStateMachinesCommand({ maxResults: 1001 })), 'ValidationException'],
    ];
    for (const [p] of cases) p.catch(() => undefined);
    for (const [p, expected] of cases) {
      const e = await sdkError(p);
      assert.equal(e.name, expected, `${expected}: got ${e.name} (${e.message})`);
      assert.equal(e.status, 400);
    }
  });

  test('StartSyncExecution runs an express machine, also through a sync- host', async () => {
    const def = JSON.stringify({
      StartAt: 'P',
      States: { P: { Type: 'Pass', Parameters: { 'v.$': '$.v' }, End: true } },
    });
    const sm = await f.sfn.send(
      new CreateStateMachineCommand({ name: 'express', definition: def, roleArn: ROLE, type: 'EXPRESS' }),
    );
    const r = await f.sfn.send(
      new StartSyncExecutionCommand({ stateMachineArn: sm.stateMachineArn, input: '{"v":7}' }),
    );
    assert.equal(r.status, 'SUCCEEDED');
    assert.equal(r.output, '{"v":7}');
    assert.ok(r.startDate instanceof Date && r.stopDate instanceof Date);
    assert.match(r.executionArn ?? '', /:express:express:/);

    const viaSync = await raw(
      f.server.url,
      'AWSStepFunctions.StartSyncExecution',
      JSON.stringify({ stateMachineArn: sm.stateMachineArn, input: '{"v":8}' }),
      { host: `sync-127.0.0.1:${f.server.port}` },
    );
    assert.equal(viaSync.status, 200, viaSync.text);
    assert.equal(viaSync.json.output, '{"v":8}');
    assert.equal(typeof viaSync.json.startDate, 'number');
  });
});

describe('activities and callbacks', () => {
  let f: Fixture;
  const tokens: string[] = [];
  before(async () => {
    f = await fixture({
      functions: {
        // Keeps the task token so that the test can answer the callback.
        notify: (event) => {
          tokens.push((event as { token: string }).token);
          return { ok: true };
        },
      },
    });
  });
  after(() => f.close());

  test('create, describe, list (paginated) and delete activities', async () => {
    const a = await f.sfn.send(new CreateActivityCommand({ name: 'act-1' }));
    assert.equal(a.activityArn, `${ACCOUNT_ARN}:activity:act-1`);
    await f.sfn.send(new CreateActivityCommand({ name: 'act-2' }));
    const d = await f.sfn.send(new DescribeActivityCommand({ activityArn: a.activityArn }));
    assert.equal(d.name, 'act-1');
    assert.ok(d.creationDate instanceof Date);
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page: ListActivitiesCommandOutput = await f.sfn.send(
        new ListActivitiesCommand({ maxResults: 1, nextToken }),
      );
      names.push(...(page.activities ?? []).map((x) => x.name ?? ''));
      nextToken = page.nextToken;
    } while (nextToken);
    assert.deepEqual(names.sort(), ['act-1', 'act-2']);
    await f.sfn.send(new DeleteActivityCommand({ activityArn: `${ACCOUNT_ARN}:activity:act-2` }));
    const e = await sdkError(
      f.sfn.send(new DescribeActivityCommand({ activityArn: `${ACCOUNT_ARN}:activity:act-2` })),
    );
    assert.equal(e.name, 'ActivityDoesNotExist');
    const bad = await sdkError(f.sfn.send(new CreateActivityCommand({ name: 'no spaces' })));
    assert.equal(bad.name, 'InvalidName');
  });

  test('a worker polls GetActivityTask and answers SendTaskSuccess / SendTaskFailure', async () => {
    const act = await f.sfn.send(new CreateActivityCommand({ name: 'worker-act' }));
    const def = JSON.stringify({
      StartAt: 'Work',
      States: { Work: { Type: 'Task', Resource: act.activityArn, HeartbeatSeconds: 60, End: true } },
    });
    const sm = await f.sfn.send(
      new CreateStateMachineCommand({ name: 'with-activity', definition: def, roleArn: ROLE }),
    );

    // The poll starts first and is held open until the task arrives.
    const poll = f.sfn.send(new GetActivityTaskCommand({ activityArn: act.activityArn, workerName: 'w1' }));
    await new Promise((r) => setTimeout(r, 100));
    const ok = await f.sfn.send(
      new StartExecutionCommand({ stateMachineArn: sm.stateMachineArn, input: '{"n":1}' }),
    );
    const task = await poll;
    assert.equal(task.input, '{"n":1}');
    assert.ok(task.taskToken);
    await f.sfn.send(new SendTaskHeartbeatCommand({ taskToken: task.taskToken }));
    await f.sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{"done":true}' }));
    const d = await finished(f.sfn, ok.executionArn!);
    assert.equal(d.status, 'SUCCEEDED');
    assert.equal(d.output, '{"done":true}');
    const late = await sdkError(
      f.sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{}' })),
    );
    assert.ok(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'].includes(late.name), late.name);

    const failing = await f.sfn.send(new StartExecutionCommand({ stateMachineArn: sm.stateMachineArn }));
    const t2 = await f.sfn.send(new GetActivityTaskCommand({ activityArn: act.activityArn }));
    const badOutput = await sdkError(
      f.sfn.send(new SendTaskSuccessCommand({ taskToken: t2.taskToken, output: '{' })),
    );
    assert.equal(badOutput.name, 'InvalidOutput');
    await f.sfn.send(
      new SendTaskFailureCommand({ taskToken: t2.taskToken, error: 'Boom', cause: 'it broke' }),
    );
    const d2 = await finished(f.sfn, failing.executionArn!);
    assert.equal(d2.status, 'FAILED');
    assert.equal(d2.error, 'Boom');
    assert.equal(d2.cause, 'it broke');

    const unknown = await sdkError(f.sfn.send(new SendTaskHeartbeatCommand({ taskToken: 'no-such-token' })));
    assert.ok(['TaskDoesNotExist', 'InvalidToken'].includes(unknown.name), unknown.name);
  });

  test('a client that goes away ends its long poll; StopExecution aborts a waiting execution', async () => {
    const act = await f.sfn.send(new CreateActivityCommand({ name: 'abandoned' }));
    const ac = new AbortController();
    const gone = raw(
      f.server.url,
      'AWSStepFunctions.GetActivityTask',
      JSON.stringify({ activityArn: act.activityArn }),
      {},
      ac.signal,
    ).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    assert.ok((await gone) instanceof Error);

    // The abandoned poll must not swallow the next task: a new worker gets it.
    const def = JSON.stringify({
      StartAt: 'W',
      States: { W: { Type: 'Task', Resource: act.activityArn, End: true } },
    });
    const sm = await f.sfn.send(
      new CreateStateMachineCommand({ name: 'abandoned-sm', definition: def, roleArn: ROLE }),
    );
    const ex = await f.sfn.send(
      new StartExecutionCommand({ stateMachineArn: sm.stateMachineArn, input: '{"k":2}' }),
    );
    const task = await f.sfn.send(new GetActivityTaskCommand({ activityArn: act.activityArn }));
    assert.equal(task.input, '{"k":2}');

    const stopped = await f.sfn.send(
      new StopExecutionCommand({ executionArn: ex.executionArn, error: 'Stop', cause: 'by test' }),
    );
    assert.ok(stopped.stopDate instanceof Date);
    const d = await finished(f.sfn, ex.executionArn!);
    assert.equal(d.status, 'ABORTED');
  });

  test('a .waitForTaskToken callback finishes with SendTaskSuccess', async () => {
    const def = JSON.stringify({
      StartAt: 'Call',
      States: {
        Call: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: 'notify', Payload: { 'token.$': '$$.Task.Token' } },
          End: true,
        },
      },
    });
    const sm = await f.sfn.send(
      new CreateStateMachineCommand({ name: 'callback', definition: def, roleArn: ROLE }),
    );
    const ex = await f.sfn.send(new StartExecutionCommand({ stateMachineArn: sm.stateMachineArn }));
    for (let i = 0; i < 200 && tokens.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(tokens.length, 1, 'the function received the task token');
    assert.equal(
      (await f.sfn.send(new DescribeExecutionCommand({ executionArn: ex.executionArn }))).status,
      'RUNNING',
    );
    await f.sfn.send(new SendTaskSuccessCommand({ taskToken: tokens[0], output: '{"approved":true}' }));
    const d = await finished(f.sfn, ex.executionArn!);
    assert.equal(d.status, 'SUCCEEDED');
    assert.equal(d.output, '{"approved":true}');
  });
});

describe('redrive fields (DescribeExecution) and RedriveExecution', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });
  after(() => f.close());

  // An activity task nobody works on keeps the execution RUNNING (Waits are skipped here).
  const activity = `${ACCOUNT_ARN}:activity:redrive-work`;
  const WAIT = JSON.stringify({
    StartAt: 'A',
    States: { A: { Type: 'Task', Resource: activity, End: true } },
  });
  const FAIL = JSON.stringify({ StartAt: 'F', States: { F: { Type: 'Fail', Error: 'Oops', Cause: 'c' } } });

  test('AWS values for RUNNING, SUCCEEDED, FAILED, ABORTED; redriveCount is 0', async () => {
    const run = async (name: string, definition: string) => {
      const sm = await f.sfn.send(new CreateStateMachineCommand({ name, definition, roleArn: ROLE }));
      return (await f.sfn.send(new StartExecutionCommand({ stateMachineArn: sm.stateMachineArn })))
        .executionArn!;
    };
    await f.sfn.send(new CreateActivityCommand({ name: 'redrive-work' }));
    const running = await run('redrive-wait', WAIT);
    let d = await f.sfn.send(new DescribeExecutionCommand({ executionArn: running }));
    assert.equal(d.status, 'RUNNING');
    assert.equal(d.redriveCount, 0);
    assert.equal(d.redriveStatus, 'NOT_REDRIVABLE');
    assert.equal(d.redriveStatusReason, 'Execution is RUNNING and cannot be redriven');

    await f.sfn.send(new StopExecutionCommand({ executionArn: running }));
    d = await finished(f.sfn, running);
    assert.equal(d.status, 'ABORTED');
    assert.equal(d.redriveStatus, 'REDRIVABLE');
    assert.equal(d.redriveStatusReason, undefined);

    // As AWS's recordings show them (conformance cases sfn_api__describe_execution, base__state_fail).
    d = await finished(f.sfn, await run('redrive-pass', PASS));
    assert.equal(d.status, 'SUCCEEDED');
    assert.equal(d.redriveCount, 0);
    assert.equal(d.redriveStatus, 'NOT_REDRIVABLE');
    assert.equal(d.redriveStatusReason, 'Execution is SUCCEEDED and cannot be redriven');

    d = await finished(f.sfn, await run('redrive-fail', FAIL));
    assert.equal(d.status, 'FAILED');
    assert.equal(d.redriveCount, 0);
    assert.equal(d.redriveStatus, 'REDRIVABLE');
    assert.equal(d.redriveStatusReason, undefined);
  });

  test('RedriveExecution answers ExecutionNotRedrivable (Stepwise does not redrive yet)', async () => {
    const sm = await f.sfn.send(
      new CreateStateMachineCommand({ name: 'redrive-target', definition: PASS, roleArn: ROLE }),
    );
    const ex = await f.sfn.send(new StartExecutionCommand({ stateMachineArn: sm.stateMachineArn }));
    await finished(f.sfn, ex.executionArn!);
    const done = await sdkError(f.sfn.send(new RedriveExecutionCommand({ executionArn: ex.executionArn })));
    assert.equal(done.name, 'ExecutionNotRedrivable');
    assert.equal(done.status, 400);
    assert.match(done.message, /Execution is SUCCEEDED and cannot be redriven/);

    const failedSm = await f.sfn.send(
      new CreateStateMachineCommand({ name: 'redrive-failed', definition: FAIL, roleArn: ROLE }),
    );
    const failed = await f.sfn.send(new StartExecutionCommand({ stateMachineArn: failedSm.stateMachineArn }));
    await finished(f.sfn, failed.executionArn!);
    const unsupported = await sdkError(
      f.sfn.send(new RedriveExecutionCommand({ executionArn: failed.executionArn })),
    );
    assert.equal(unsupported.name, 'ExecutionNotRedrivable');
    assert.match(unsupported.message, /does not redrive executions yet/);

    const missing = await sdkError(
      f.sfn.send(
        new RedriveExecutionCommand({ executionArn: `${ACCOUNT_ARN}:execution:redrive-target:nope` }),
      ),
    );
    assert.equal(missing.name, 'ExecutionDoesNotExist');
  });
});

describe('tags', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });
  after(() => f.close());

  test('TagResource, ListTagsForResource, UntagResource and their errors', async () => {
    const sm = await f.sfn.send(
      new CreateStateMachineCommand({ name: 'tagged', definition: PASS, roleArn: ROLE }),
    );
    const arn = sm.stateMachineArn!;
    await f.sfn.send(
      new TagResourceCommand({
        resourceArn: arn,
        tags: [
          { key: 'a', value: '1' },
          { key: 'b', value: '2' },
        ],
      }),
    );
    const listed = await f.sfn.send(new ListTagsForResourceCommand({ resourceArn: arn }));
    assert.deepEqual(listed.tags?.map((t) => [t.key, t.value]).sort(), [
      ['a', '1'],
      ['b', '2'],
    ]);
    await f.sfn.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['a'] }));
    assert.deepEqual((await f.sfn.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags, [
      { key: 'b', value: '2' },
    ]);

    const missing = await sdkError(
      f.sfn.send(new ListTagsForResourceCommand({ resourceArn: `${ACCOUNT_ARN}:stateMachine:none` })),
    );
    assert.equal(missing.name, 'ResourceNotFound');
    const tooMany = await sdkError(
      f.sfn.send(
        new TagResourceCommand({
          resourceArn: arn,
          tags: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'v' })),
        }),
      ),
    );
    assert.equal(tooMany.name, 'TooManyTags');
    const wrongType = await sdkError(
      f.sfn.send(new TagResourceCommand({ resourceArn: `${ACCOUNT_ARN}:execution:x:y`, tags: [] })),
    );
    assert.equal(wrongType.name, 'InvalidArn');
  });
});

describe('protocol', () => {
  let f: Fixture;
  const logged: string[] = [];
  before(async () => {
    f = await fixture({
      logError: (m) => logged.push(m),
      // A fault injected behind the protocol layer, to see a real internal error.
      wrap: (e) =>
        new Proxy(e, {
          get(target, prop, receiver) {
            if (prop === 'listActivities') return () => Promise.reject(new Error('disk on fire'));
            const v = Reflect.get(target, prop, receiver) as unknown;
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        }),
    });
  });
  after(() => f.close());

  test('malformed JSON is a SerializationException', async () => {
    const r = await raw(f.server.url, 'AWSStepFunctions.ListStateMachines', '{"maxResults": ');
    assert.equal(r.status, 400);
    assert.equal(code(r), 'SerializationException');
    const list = await raw(f.server.url, 'AWSStepFunctions.ListStateMachines', '[1]');
    assert.equal(code(list), 'SerializationException');
  });

  test('unknown or missing operations are UnknownOperationException', async () => {
    for (const target of [
      'AWSStepFunctions.Frobnicate',
      'DynamoDB_20120810.ListTables',
      'AWSStepFunctions.constructor',
      undefined,
    ]) {
      const r = await raw(f.server.url, target, '{}');
      assert.equal(r.status, 400);
      assert.equal(code(r), 'UnknownOperationException', String(target));
    }
  });

  test('wrong types and missing members are ValidationExceptions in AWS words', async () => {
    const missing = await raw(f.server.url, 'AWSStepFunctions.DescribeExecution', '{}');
    assert.equal(missing.status, 400);
    assert.equal(code(missing), 'ValidationException');
    assert.equal(
      missing.json.message,
      "1 validation error detected: Value null at 'executionArn' failed to satisfy constraint: Member must not be null",
    );
    const two = await raw(
      f.server.url,
      'AWSStepFunctions.CreateStateMachine',
      JSON.stringify({ name: 5, definition: PASS, roleArn: ROLE, type: 'BATCH' }),
    );
    assert.equal(code(two), 'ValidationException');
    assert.match(String(two.json.message), /^2 validation errors detected: /);
    assert.match(String(two.json.message), /Member must satisfy enum value set: \[STANDARD, EXPRESS\]/);
    const secret = await raw(
      f.server.url,
      'AWSStepFunctions.CreateStateMachine',
      JSON.stringify({ name: 'n', definition: 1, roleArn: ROLE }),
    );
    assert.match(
      String(secret.json.message),
      /^1 validation error detected: Value at 'definition'/,
      'sensitive values stay out',
    );
  });

  test('no bad input gives a 500', async () => {
    const bodies = [
      '',
      'null',
      '1',
      '"s"',
      '{}',
      '{"name":{}}',
      '{"stateMachineArn":[]}',
      '{"maxResults":-1}',
      '{"tags":"x"}',
      '{"tags":[1]}',
      '{"tagKeys":[1]}',
      '{"input":1}',
      '{"nextToken":"x"}',
      '\u0000',
      '{"__proto__":{"x":1}}',
    ];
    const ops = [
      'CreateStateMachine',
      'DescribeStateMachine',
      'StartExecution',
      'ListStateMachines',
      'ListExecutions',
      'GetExecutionHistory',
      'TagResource',
      'UntagResource',
      'SendTaskSuccess',
      'GetActivityTask',
      'ValidateStateMachineDefinition',
      'StartSyncExecution',
      'StopExecution',
    ];
    for (const op of ops) {
      for (const body of bodies) {
        const r = await raw(f.server.url, `AWSStepFunctions.${op}`, body);
        assert.ok(r.status < 500, `${op} ${body}: ${r.status} ${r.text}`);
        if (r.status !== 200) assert.notEqual(code(r), 'undefined', `${op} ${body}: ${r.text}`);
      }
    }
    assert.deepEqual(logged, []);
  });

  test('an oversized body is refused with 413', async () => {
    const r = await raw(
      f.server.url,
      'AWSStepFunctions.ListStateMachines',
      Buffer.alloc(9 * 1024 * 1024, 32),
    );
    assert.equal(r.status, 413);
  });

  test('an internal error is a logged 500 InternalFailure', async () => {
    const r = await raw(f.server.url, 'AWSStepFunctions.ListActivities', '{}');
    assert.equal(r.status, 500);
    assert.equal(code(r), 'InternalFailure');
    assert.doesNotMatch(r.text, /disk on fire/, 'internals stay in the log');
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /disk on fire/);
  });

  test('GET /health answers 200 JSON; other paths 404', async () => {
    const h = await fetch(`${f.server.url}/health`);
    assert.equal(h.status, 200);
    assert.deepEqual(await h.json(), { status: 'ok', region: 'us-east-1', account: '123456789012' });
    const nf = await fetch(`${f.server.url}/nothing`);
    assert.equal(nf.status, 404);
  });

  test('responses carry the AWS JSON content type and a request id', async () => {
    const r = await raw(f.server.url, 'AWSStepFunctions.ListStateMachines', '{}');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/x-amz-json-1.0');
    assert.ok(r.headers['x-amzn-requestid']);
  });
});
