// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * The multi-node test: three `stepwise serve` processes on one PostgreSQL database run a mixed
 * workload (local Lambda tasks, a Wait, a Retry that fails once per input, a Map with
 * MaxConcurrency, a Parallel) started round-robin through all three with the AWS SDK. One node
 * is killed with SIGKILL mid-run (its executions are adopted once its leases expire) and another
 * is restarted (SIGTERM, then started again on the same port). Every execution must succeed
 * with its expected output, read through the surviving nodes, and every history must be
 * consistent: ids contiguous, links backwards, each task attempt ended exactly once (an attempt
 * a dead node was running shows as a recorded failure followed by the retry).
 *
 * Skipped loudly without PostgreSQL, unless CI or STEPWISE_REQUIRE_POSTGRES=1 (then it fails).
 * Scale with STEPWISE_MULTINODE_EXECUTIONS (default 1000).
 */
import assert from 'node:assert/strict';
import { checkHistory, type CheckedEvent, type HistoryTally } from './testing/history-check.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it, type TestContext } from 'node:test';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type ListExecutionsCommandOutput,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
  type HistoryEvent as SdkHistoryEvent,
} from '@aws-sdk/client-sfn';
import pg from 'pg';

import { ServiceError } from '../language/errors.js';
import type { JsonObject } from '../language/json.js';
import { Engine } from './engine.js';
import { functionsFromMap } from './functions.js';
import { openPostgresStore } from './store/postgres.js';
import { AwsStandIn } from './testing/aws-standins.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'stepwise.js');
const FUNCTIONS = join(ROOT, 'test', 'multinode', 'functions.mjs');
const ADMIN_URL = process.env.STEPWISE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CI = process.env.CI;
const REQUIRED =
  (CI !== undefined && CI !== '' && CI !== 'false') || process.env.STEPWISE_REQUIRE_POSTGRES === '1';
const EXECUTIONS = Number(process.env.STEPWISE_MULTINODE_EXECUTIONS ?? 1000);
/** Starts in flight at once (over all nodes). */
const START_CONCURRENCY = 32;
/** Everything (starts, kills, adoption after the default 10 s lease, completion) within this. */
const RUN_DEADLINE_MS = 150_000;
const NODE_START_MS = 30_000;
const ROLE = 'arn:aws:iam::123456789012:role/stepwise-multinode';
const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:';
/** Waits run 100× faster, as the issue asks (the Wait state below lasts 100 s of virtual time). */
const WAIT_SCALE = Number(process.env.STEPWISE_MULTINODE_WAIT_SCALE ?? 0.01);

/** Credentials the AWS stand-in accepts (it checks signatures, not identities). */
const S3_CREDENTIALS = { accessKeyId: 'AKIDSTEPWISETESTKEY1', secretAccessKey: 'stepwise-test-secret' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function probe(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function admin<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, application_name: 'stepwise-multinode-admin' });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

// ---- the workload ------------------------------------------------------------------------

const retry = {
  ErrorEquals: ['Flaky', 'States.TaskFailed'],
  IntervalSeconds: 1,
  BackoffRate: 1,
  MaxAttempts: 20,
};
const task = (fn: string, parameters: Record<string, unknown>, extra: Record<string, unknown>) => ({
  Type: 'Task',
  Resource: `${LAMBDA}${fn}`,
  Parameters: parameters,
  Retry: [retry],
  ...extra,
});

const DEFINITION = {
  Comment: 'Stepwise multi-node test: tasks, a Wait, a Retry, a Map with MaxConcurrency, a Parallel',
  StartAt: 'Start',
  States: {
    Start: task('add', { 'x.$': '$.i', n: 1 }, { ResultPath: '$.a', Next: 'Nap' }),
    // One real second whatever the scale: long enough to be idle (lease released), fired by any node.
    Nap: { Type: 'Wait', Seconds: Math.max(1, Math.round(1 / (WAIT_SCALE || 1))), Next: 'Flaky' },
    Flaky: task(
      'flaky',
      { 'key.$': "States.Format('{}-flaky', $$.Execution.Name)", 'x.$': '$.i' },
      { ResultPath: '$.flaky', Next: 'Fan' },
    ),
    Fan: {
      Type: 'Map',
      ItemsPath: '$.items',
      MaxConcurrency: 2,
      ItemSelector: { 'x.$': '$$.Map.Item.Value' },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'Double',
        States: { Double: task('double', { 'x.$': '$.x' }, { End: true }) },
      },
      ResultPath: '$.mapped',
      Next: 'Both',
    },
    Both: {
      Type: 'Parallel',
      ResultPath: '$.par',
      End: true,
      Branches: [
        { StartAt: 'Add100', States: { Add100: task('add', { 'x.$': '$.i', n: 100 }, { End: true }) } },
        {
          StartAt: 'ParFlaky',
          States: {
            ParFlaky: task(
              'flaky',
              { 'key.$': "States.Format('{}-par', $$.Execution.Name)", 'x.$': '$.i' },
              { End: true },
            ),
          },
        },
      ],
    },
  },
};

/** How many times each state is entered (and exited): retries do not re-enter. */
const VISITS: Record<string, number> = {
  Start: 1,
  Nap: 1,
  Flaky: 1,
  Fan: 1,
  Double: 4,
  Both: 1,
  Add100: 1,
  ParFlaky: 1,
};

const inputOf = (i: number) => ({ i, items: [i, i + 1, i + 2, i + 3] });
function expectedOutput(i: number) {
  const { items } = inputOf(i);
  return {
    i,
    items,
    a: i + 1,
    flaky: i * 10,
    mapped: items.map((x) => x * 2),
    par: [i + 100, i * 10],
  };
}

// ---- nodes ----------------------------------------------------------------------------------

interface Node {
  id: string;
  port: number;
  child: ChildProcess;
  client: SFNClient;
  alive: boolean;
  /** Set before we stop it; a node dying without it is a failure. */
  stopping: boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: string[];
}

function clientFor(url: string): SFNClient {
  return new SFNClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'multinode', secretAccessKey: 'multinode' },
    // Failover is ours: a dead node's request goes to the next node, not again to the same one.
    maxAttempts: 1,
    requestHandler: { requestTimeout: 30_000, connectionTimeout: 5_000 },
  });
}

function startNode(databaseUrl: string, markers: string, id: string, port: number): Promise<Node> {
  // Only our settings: a developer's STEPWISE_* (credentials, data dir) must not leak in.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STEPWISE_')) env[k] = v;
  env.STEPWISE_MULTINODE_MARKERS = markers;
  const child = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--database-url',
      databaseUrl,
      '--node-id',
      id,
      '--port',
      String(port),
      '--functions',
      FUNCTIONS,
      '--wait-scale',
      String(WAIT_SCALE),
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => stderr.push(chunk));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${id} did not start within ${NODE_START_MS} ms:\n${stderr.join('')}`));
    }, NODE_START_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const m = /stepwise listening on (http:\/\/[^\s]+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      const url = m[1]!;
      const node: Node = {
        id,
        port: Number(new URL(url).port),
        child,
        client: clientFor(url),
        alive: true,
        stopping: false,
        exited,
        stderr,
      };
      void exited.then(() => (node.alive = false));
      resolve(node);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`node ${id} exited (${signal ?? code}) before listening:\n${stderr.join('')}`));
    });
  });
}

/**
 * Worth another try on the next node: the request never reached a node's API (refused, reset,
 * timed out), or the node answered 5xx (e.g. its pool was saturated); starts are idempotent.
 */
function isTransient(e: unknown): boolean {
  if (!(e instanceof SFNServiceException)) return true;
  const status = e.$metadata.httpStatusCode;
  return status === undefined || status >= 500;
}

// ---- the test ---------------------------------------------------------------------------------

const unreachable = await probe();
if (unreachable !== undefined) {
  const banner =
    `PostgreSQL unreachable at ${ADMIN_URL} (${unreachable}): the multi-node test is SKIPPED. ` +
    'Set STEPWISE_TEST_DATABASE_URL, or start PostgreSQL.';
  if (REQUIRED) {
    describe('multi-node', () => {
      it('needs PostgreSQL (CI or STEPWISE_REQUIRE_POSTGRES=1)', () => assert.fail(banner));
    });
  } else {
    console.warn(`\n${'!'.repeat(100)}\n!! ${banner}\n${'!'.repeat(100)}\n`);
    describe('multi-node', () => {
      it('the multi-node test', { skip: banner }, () => undefined);
    });
  }
} else {
  // `serve` always uses the default schema, so each run gets its own database.
  const database = `stepwise_multinode_${randomBytes(4).toString('hex')}`;
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${database}`;
  const databaseUrl = dbUrl.toString();
  const markers = mkdtempSync(join(tmpdir(), 'stepwise-multinode-'));
  const nodes: Node[] = [];
  let aborted = false;

  after(async () => {
    for (const n of nodes) if (n.alive) n.child.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.exited));
    rmSync(markers, { recursive: true, force: true });
    // The name is ours (hex suffix): safe to splice.
    await admin(ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  });

  describe('multi-node: three serve processes on one PostgreSQL database', () => {
    it(
      `${EXECUTIONS} executions survive a SIGKILLed node and a restarted one`,
      {
        timeout: RUN_DEADLINE_MS + 90_000,
      },
      async (t) => {
        try {
          await scenario(t);
        } catch (e) {
          aborted = true;
          for (const n of nodes) {
            // Full logs to files (kept for debugging), their tails here.
            const file = join(tmpdir(), `${database}-${n.id}-${n.child.pid}.log`);
            writeFileSync(file, n.stderr.join(''));
            t.diagnostic(
              `${n.id} (pid ${n.child.pid}) stderr in ${file}, ends:\n${n.stderr.join('').slice(-1500)}`,
            );
          }
          throw e;
        }
      },
    );
  });

  it(
    'a start whose commit failed leaves no lease behind: another node can start the name',
    { timeout: 60_000 },
    async () => {
      const schema = `stepwise_multinode_lease_${randomBytes(4).toString('hex')}`;
      const s1 = await openPostgresStore({ connectionString: ADMIN_URL, schema });
      const s2 = await openPostgresStore({ connectionString: ADMIN_URL, schema });
      // Node 1's first commit fails, as one that lost its connection does.
      let failures = 1;
      const flaky = Object.create(s1) as typeof s1;
      flaky.commit = (writes) =>
        failures-- > 0 ? Promise.reject(new Error('connection lost')) : s1.commit(writes);
      const n1 = await Engine.open({ store: flaky, nodeId: 'n1', leaseTtlMs: 2_000 });
      const n2 = await Engine.open({ store: s2, nodeId: 'n2', leaseTtlMs: 2_000 });
      try {
        const { stateMachineArn } = await n1.createStateMachine({
          name: 'lease-after-failure',
          definition: JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }),
          roleArn: ROLE,
        });
        await assert.rejects(
          n1.startExecution({ stateMachineArn, name: 'once', input: '{}' }),
          /connection lost/,
        );
        // Longer than the lease: n1's renewals would have kept a leaked lease alive.
        await sleep(2_500);
        const { executionArn } = await n2.startExecution({ stateMachineArn, name: 'once', input: '{}' });
        let status = 'RUNNING';
        for (const until = Date.now() + 10_000; status === 'RUNNING' && Date.now() < until; await sleep(20))
          status = (await n2.describeExecution(executionArn)).status;
        assert.equal(status, 'SUCCEEDED');
      } finally {
        // Each engine closes its store.
        await n1.close();
        await n2.close();
        // The name is ours (hex suffix): safe to splice.
        await admin(ADMIN_URL, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
      }
    },
  );

  it(
    'a name another node holds without an execution is retryable (ServiceUnavailable), not a conflict',
    { timeout: 60_000 },
    async () => {
      const schema = `stepwise_multinode_held_${randomBytes(4).toString('hex')}`;
      const s1 = await openPostgresStore({ connectionString: ADMIN_URL, schema });
      const n1 = await Engine.open({ store: s1, nodeId: 'n1', leaseTtlMs: 2_000 });
      try {
        const { stateMachineArn } = await n1.createStateMachine({
          name: 'held',
          definition: JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }),
          roleArn: ROLE,
        });
        // A node died between taking the new name's lease and committing the execution.
        const arn = 'arn:aws:states:us-east-1:123456789012:execution:held:once';
        assert.notEqual(await s1.acquireLease(arn, 'dead-node', 1_500), undefined);
        await assert.rejects(
          n1.startExecution({ stateMachineArn, name: 'once', input: '{}' }),
          (e: unknown) => e instanceof ServiceError && e.code === 'ServiceUnavailable',
        );
        await sleep(1_600);
        const { executionArn } = await n1.startExecution({ stateMachineArn, name: 'once', input: '{}' });
        assert.equal(executionArn, arn);
      } finally {
        await n1.close();
        await admin(ADMIN_URL, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
      }
    },
  );

  it(
    'the same start through two nodes at once is idempotent, not a conflict',
    { timeout: 60_000 },
    async () => {
      const schema = `stepwise_multinode_twice_${randomBytes(4).toString('hex')}`;
      const s1 = await openPostgresStore({ connectionString: ADMIN_URL, schema });
      // Node 1's commits take 200 ms: its start is in flight when node 2 gets the same one.
      const slow = Object.create(s1) as typeof s1;
      slow.commit = async (writes) => {
        await sleep(200);
        return s1.commit(writes);
      };
      const n1 = await Engine.open({ store: slow, nodeId: 'n1' });
      const n2 = await Engine.open({
        store: await openPostgresStore({ connectionString: ADMIN_URL, schema }),
        nodeId: 'n2',
      });
      try {
        const { stateMachineArn } = await n2.createStateMachine({
          name: 'twice',
          definition: JSON.stringify({
            StartAt: 'W',
            States: { W: { Type: 'Wait', Seconds: 1, End: true } },
          }),
          roleArn: ROLE,
        });
        const first = n1.startExecution({ stateMachineArn, name: 'once', input: '{"a":1}' });
        await sleep(50);
        const again = await n2.startExecution({ stateMachineArn, name: 'once', input: '{"a":1}' });
        assert.equal(again.executionArn, (await first).executionArn);
        // Another input is still a conflict.
        await assert.rejects(
          n2.startExecution({ stateMachineArn, name: 'once', input: '{"a":2}' }),
          (e: unknown) => e instanceof ServiceError && e.code === 'ExecutionAlreadyExists',
        );
      } finally {
        await n1.close();
        await n2.close();
        await admin(ADMIN_URL, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
      }
    },
  );

  it(
    'an adoption whose load failed leaves no lease behind: the execution is adopted again',
    { timeout: 60_000 },
    async () => {
      const schema = `stepwise_multinode_adopt_${randomBytes(4).toString('hex')}`;
      const s1 = await openPostgresStore({ connectionString: ADMIN_URL, schema });
      const s2 = await openPostgresStore({ connectionString: ADMIN_URL, schema });
      // Node 2 "dies" with a local task in flight: it stops renewing and never answers.
      const dead = Object.create(s2) as typeof s2;
      dead.renewLeases = () => Promise.resolve([]);
      dead.releaseLease = () => Promise.resolve(false);
      dead.listUnleasedExecutions = () => Promise.resolve([]);
      let unblock = () => undefined as void;
      const blocked = new Promise<void>((resolve) => (unblock = resolve));
      const hang = async () => {
        await blocked;
        return {};
      };
      const n2 = await Engine.open({
        store: dead,
        nodeId: 'n2',
        leaseTtlMs: 600,
        functions: functionsFromMap({ hang }),
      });
      const { stateMachineArn } = await n2.createStateMachine({
        name: 'adopt-after-failure',
        definition: JSON.stringify({
          StartAt: 'Work',
          States: {
            Work: {
              Type: 'Task',
              Resource: 'arn:aws:lambda:us-east-1:123456789012:function:hang',
              End: true,
            },
          },
        }),
        roleArn: ROLE,
      });
      const { executionArn } = await n2.startExecution({ stateMachineArn, name: 'orphan' });
      // Node 1's first load fails, as a read on a lost connection does. Nothing else will ever
      // wake this execution (no timer, no callback): only adopting it again finishes it.
      let failures = 1;
      const flaky = Object.create(s1) as typeof s1;
      flaky.loadState = (arn) =>
        failures-- > 0 ? Promise.reject(new Error('connection lost')) : s1.loadState(arn);
      const n1 = await Engine.open({ store: flaky, nodeId: 'n1', leaseTtlMs: 600 });
      try {
        let status = 'RUNNING';
        for (const until = Date.now() + 15_000; status === 'RUNNING' && Date.now() < until; await sleep(50))
          status = (await n1.describeExecution(executionArn)).status;
        const d = await n1.describeExecution(executionArn);
        assert.ok(failures < 0, `the first load failed, later ones were made (${status} ${d.cause})`);
        // The dead node's task is failed as interrupted, as after any node's death.
        assert.equal(status, 'FAILED');
      } finally {
        unblock();
        await n1.close();
        await n2.close();
        await admin(ADMIN_URL, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
      }
    },
  );

  /**
   * Node 2 starts `definition` with S3 that never answers and "dies" while its S3 call waits;
   * node 1 (S3: the stand-in) adopts the execution. Returns its end, as node 1 sees it.
   */
  async function adoptedS3Work(
    name: string,
    definition: JsonObject,
    input: string,
    s3: AwsStandIn,
  ): Promise<{
    status: string;
    output?: string | undefined;
    error?: string | undefined;
    cause?: string | undefined;
  }> {
    const schema = `stepwise_multinode_s3_${randomBytes(4).toString('hex')}`;
    const s1 = await openPostgresStore({ connectionString: ADMIN_URL, schema });
    const s2 = await openPostgresStore({ connectionString: ADMIN_URL, schema });
    let received = 0;
    const hanging = createServer(() => void received++);
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    const aws = (endpoint: string) => ({ endpoint, credentials: S3_CREDENTIALS, maxAttempts: 1 });
    const dead = Object.create(s2) as typeof s2;
    dead.renewLeases = () => Promise.resolve([]);
    dead.releaseLease = () => Promise.resolve(false);
    dead.listUnleasedExecutions = () => Promise.resolve([]);
    const n2 = await Engine.open({
      store: dead,
      nodeId: 'n2',
      leaseTtlMs: 600,
      aws: aws(`http://127.0.0.1:${(hanging.address() as AddressInfo).port}`),
    });
    let n1: Engine | undefined;
    try {
      const { stateMachineArn } = await n2.createStateMachine({
        name,
        definition: JSON.stringify(definition),
        roleArn: ROLE,
      });
      const { executionArn } = await n2.startExecution({ stateMachineArn, input });
      for (const until = Date.now() + 10_000; received === 0 && Date.now() < until;) await sleep(10);
      assert.ok(received > 0, 'node 2 called S3');
      n1 = await Engine.open({ store: s1, nodeId: 'n1', leaseTtlMs: 600, aws: aws(s3.url) });
      let d = await n1.describeExecution(executionArn);
      for (const until = Date.now() + 15_000; d.status === 'RUNNING' && Date.now() < until; await sleep(50))
        d = await n1.describeExecution(executionArn);
      return d;
    } finally {
      hanging.closeAllConnections();
      await new Promise((r) => hanging.close(r));
      await n1?.close();
      await n2.close();
      await admin(ADMIN_URL, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    }
  }

  /** A distributed Map of Pass children with these fields. */
  const s3Map = (fields: JsonObject): JsonObject => ({
    StartAt: 'M',
    States: {
      M: {
        Type: 'Map',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED' },
          StartAt: 'P',
          States: { P: { Type: 'Pass', End: true } },
        },
        End: true,
        ...fields,
      },
    },
  });

  it(
    "a distributed Map's result write that a dead node left under way is sent again by the adopting node",
    { timeout: 60_000 },
    async () => {
      const s3 = new AwsStandIn({ account: '123456789012' });
      await s3.start();
      try {
        s3.createBucket('results');
        const d = await adoptedS3Work(
          'write-after-death',
          s3Map({
            ResultWriter: {
              Resource: 'arn:aws:states:::s3:putObject',
              Parameters: { Bucket: 'results', Prefix: 'adopted' },
            },
          }),
          '[1,2]',
          s3,
        );
        assert.equal(d.status, 'SUCCEEDED', d.cause);
        const key = (JSON.parse(d.output ?? '{}') as { ResultWriterDetails: { Key: string } })
          .ResultWriterDetails.Key;
        assert.match(s3.objectText('results', key) ?? '', /"SUCCEEDED":\[\{"Key":"adopted\//);
      } finally {
        await s3.stop();
      }
    },
  );

  it(
    "a distributed Map's item read that a dead node left under way fails as interrupted on the adopting node",
    { timeout: 60_000 },
    async () => {
      const s3 = new AwsStandIn({ account: '123456789012' });
      await s3.start();
      try {
        const d = await adoptedS3Work(
          'read-after-death',
          s3Map({
            ItemReader: {
              Resource: 'arn:aws:states:::s3:getObject',
              ReaderConfig: { InputType: 'JSON' },
              Parameters: { Bucket: 'data', Key: 'items.json' },
            },
          }),
          '{}',
          s3,
        );
        assert.equal(d.status, 'FAILED');
        assert.equal(d.error, 'States.ItemReaderFailed');
        assert.match(d.cause ?? '', /restarted/);
      } finally {
        await s3.stop();
      }
    },
  );

  it(
    'activities and callbacks across nodes: scheduled on one node, answered through the other',
    { timeout: 60_000 },
    async () => {
      const schema = `stepwise_multinode_work_${randomBytes(4).toString('hex')}`;
      const tokens: string[] = [];
      const n1 = await Engine.open({
        store: await openPostgresStore({ connectionString: ADMIN_URL, schema }),
        nodeId: 'n1',
      });
      const n2 = await Engine.open({
        store: await openPostgresStore({ connectionString: ADMIN_URL, schema }),
        nodeId: 'n2',
        functions: functionsFromMap({
          notify: (event: unknown) => {
            tokens.push(String((event as { token: unknown }).token));
            return {};
          },
        }),
      });
      try {
        const { activityArn } = await n1.createActivity({ name: 'approve' });
        const { stateMachineArn } = await n2.createStateMachine({
          name: 'cross-node-work',
          definition: JSON.stringify({
            StartAt: 'Approve',
            States: {
              Approve: { Type: 'Task', Resource: activityArn, ResultPath: '$.approval', Next: 'Callback' },
              Callback: {
                Type: 'Task',
                Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
                Parameters: { FunctionName: 'notify', Payload: { 'token.$': '$$.Task.Token' } },
                ResultPath: '$.callback',
                End: true,
              },
            },
          }),
          roleArn: ROLE,
        });
        // The worker polls node 1 before node 2 schedules anything: the long poll must wake.
        const polled = n1.getActivityTask({ activityArn, workerName: 'w1' }, AbortSignal.timeout(30_000));
        await sleep(200);
        const { executionArn } = await n2.startExecution({ stateMachineArn, input: '{"order":7}' });
        const task = await polled;
        assert.ok(task.taskToken !== undefined, 'the worker on node 1 got the task node 2 scheduled');
        assert.deepEqual(JSON.parse(task.input ?? ''), { order: 7 });
        await n2.sendTaskSuccess({ taskToken: task.taskToken, output: '{"ok":true}' });
        // The callback's token, handed to a function on node 2, is answered through node 1.
        for (const until = Date.now() + 15_000; tokens.length === 0 && Date.now() < until;) await sleep(20);
        assert.equal(tokens.length, 1);
        await n1.sendTaskSuccess({ taskToken: tokens[0]!, output: '{"done":1}' });
        let d = await n1.describeExecution(executionArn);
        for (const until = Date.now() + 15_000; d.status === 'RUNNING' && Date.now() < until;) {
          await sleep(20);
          d = await n1.describeExecution(executionArn);
        }
        assert.equal(d.status, 'SUCCEEDED', d.cause);
        assert.deepEqual(JSON.parse(d.output ?? ''), {
          order: 7,
          approval: { ok: true },
          callback: { done: 1 },
        });
        const types = (await n2.getExecutionHistory({ executionArn, maxResults: 100 })).items.map(
          (e) => e.type,
        );
        assert.deepEqual(types.slice(2, 6), [
          'ActivityScheduled',
          'ActivityStarted',
          'ActivitySucceeded',
          'TaskStateExited',
        ]);
      } finally {
        await n1.close();
        await n2.close();
        await admin(ADMIN_URL, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
      }
    },
  );

  it(
    'a scaled Wait (waitScale 0.01) on PostgreSQL',
    {
      timeout: 60_000,
    },
    async () => {
      const schema = `stepwise_multinode_scale_${randomBytes(4).toString('hex')}`;
      const engine = await Engine.open({
        store: await openPostgresStore({ connectionString: ADMIN_URL, schema }),
        waitScale: 0.01,
      });
      try {
        const { stateMachineArn } = await engine.createStateMachine({
          name: 'scaled-wait',
          definition: JSON.stringify({
            StartAt: 'Nap',
            States: { Nap: { Type: 'Wait', Seconds: 100, End: true } },
          }),
          roleArn: ROLE,
        });
        const arns: string[] = [];
        for (let i = 0; i < 5; i++)
          arns.push((await engine.startExecution({ stateMachineArn })).executionArn);
        const until = Date.now() + 30_000;
        for (const executionArn of arns) {
          let status = 'RUNNING';
          while (status === 'RUNNING' && Date.now() < until) {
            status = (await engine.describeExecution(executionArn)).status;
            if (status === 'RUNNING') await sleep(50);
          }
          assert.equal(status, 'SUCCEEDED');
        }
      } finally {
        await engine.close();
        // The name is ours (hex suffix): safe to splice.
        await admin(ADMIN_URL, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
      }
    },
  );

  /** The whole run; `aborted` stops its background loops when an assertion fails. */
  async function scenario(t: TestContext): Promise<void> {
    const t0 = Date.now();
    const deadline = t0 + RUN_DEADLINE_MS;
    const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
    await admin(ADMIN_URL, (c) => c.query(`CREATE DATABASE ${database}`));
    // Started one after another: the first creates the schema, the others find it.
    for (const id of ['n1', 'n2', 'n3']) nodes.push(await startNode(databaseUrl, markers, id, 0));
    const [n1, n2, n3] = nodes as [Node, Node, Node];
    t.diagnostic(`nodes up on ports ${nodes.map((n) => n.port).join(', ')} at ${elapsed()}`);
    // `nodes` keeps every process (for cleanup); `ring` is the current one per slot.
    const ring: Node[] = [n1, n2, n3];
    const stats = {
      failovers: 0,
      serverErrors: 0,
      phantomConflicts: 0,
      startedVia: { n1: 0, n2: 0, n3: 0 } as Record<string, number>,
    };

    /** Runs `f` on the live nodes in turn from `slot`, retrying transport errors until the deadline. */
    async function onSomeNode<T>(slot: number, f: (n: Node) => Promise<T>): Promise<T> {
      for (let attempt = 0; ; attempt++) {
        const n = ring[(slot + attempt) % ring.length]!;
        if (!n.alive && !n.stopping) throw new Error(`node ${n.id} died:\n${n.stderr.join('').slice(-3000)}`);
        if (!n.alive) {
          if (ring.every((r) => !r.alive)) throw new Error('no node is alive');
          continue;
        }
        try {
          return await f(n);
        } catch (e) {
          if (!isTransient(e) || Date.now() > deadline) throw e;
          if (e instanceof SFNServiceException && e.$metadata.httpStatusCode !== undefined)
            stats.serverErrors++;
          else stats.failovers++;
          await sleep(Math.min(20 * 2 ** Math.min(attempt, 6), 1000));
        }
      }
    }

    const { stateMachineArn } = await n1.client.send(
      new CreateStateMachineCommand({
        name: 'multinode',
        definition: JSON.stringify(DEFINITION),
        roleArn: ROLE,
      }),
    );
    assert.ok(stateMachineArn);
    const arnOf = (i: number) => `arn:aws:states:us-east-1:123456789012:execution:multinode:exec-${i}`;

    async function startOne(i: number): Promise<void> {
      const input = JSON.stringify(inputOf(i));
      for (;;) {
        try {
          const n = await onSomeNode(i, async (node) => {
            await node.client.send(new StartExecutionCommand({ stateMachineArn, name: `exec-${i}`, input }));
            return node;
          });
          stats.startedVia[n.id]!++;
          return;
        } catch (e) {
          // The same name and input is an idempotent start while the execution runs: a conflict
          // means the execution exists and has ended (a start whose answer we lost). A name held
          // without an execution answers 503, which onSomeNode retries.
          if (!(e instanceof SFNServiceException && e.name === 'ExecutionAlreadyExists')) throw e;
          const exists = await onSomeNode(i + 1, (n) =>
            n.client.send(new DescribeExecutionCommand({ executionArn: arnOf(i) })).then(
              () => true,
              (err: unknown) => {
                if (err instanceof SFNServiceException && err.name === 'ExecutionDoesNotExist') return false;
                throw err;
              },
            ),
          );
          if (exists) return;
          stats.phantomConflicts++;
          throw new Error(`ExecutionAlreadyExists for exec-${i}, which does not exist`, { cause: e });
        }
      }
    }

    // Chaos, driven by start progress: SIGKILL n2 at 35 %, restart n3 at 70 %.
    let started = 0;
    const killAt = Math.floor(EXECUTIONS * 0.35);
    const restartAt = Math.floor(EXECUTIONS * 0.7);
    const chaos = (async () => {
      while (started < killAt) {
        if (aborted) return;
        await sleep(5);
      }
      const held = await admin(databaseUrl, (c) =>
        c.query<{ n: string }>(
          `SELECT count(*) AS n FROM stepwise.leases
               WHERE node_id = 'n2' AND expires_at > (extract(epoch FROM clock_timestamp()) * 1000)::bigint`,
        ),
      );
      n2.stopping = true;
      n2.child.kill('SIGKILL');
      await n2.exited;
      t.diagnostic(
        `SIGKILL n2 at ${elapsed()} after ${started} starts; it held ${held.rows[0]?.n ?? '?'} leases`,
      );
      while (started < restartAt) {
        if (aborted) return;
        await sleep(5);
      }
      n3.stopping = true;
      n3.child.kill('SIGTERM');
      const stopped = await n3.exited;
      assert.equal(stopped.code, 0, `n3 exits cleanly on SIGTERM (${stopped.signal ?? stopped.code})`);
      const again = await startNode(databaseUrl, markers, 'n3', n3.port);
      nodes.push(again);
      ring[2] = again;
      t.diagnostic(`restarted n3 on port ${again.port} at ${elapsed()} (${started} starts)`);
    })();

    let next = 0;
    await Promise.all(
      Array.from({ length: START_CONCURRENCY }, async () => {
        while (next < EXECUTIONS && !aborted) {
          const i = next++;
          await startOne(i);
          started++;
        }
      }),
    );
    t.diagnostic(
      `${EXECUTIONS} started at ${elapsed()} (via ${JSON.stringify(stats.startedVia)}, ` +
        `${stats.failovers} failovers, ${stats.serverErrors} 5xx answers retried, ${stats.phantomConflicts} ExecutionAlreadyExists for missing executions)`,
    );
    await chaos;

    // Poll until nothing runs; the dead node's executions wait for its leases to expire.
    let running = -1;
    for (let slot = 0; Date.now() < deadline; slot++) {
      const page = await onSomeNode(slot, (n) =>
        n.client.send(
          new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 1000 }),
        ),
      );
      running = page.executions?.length ?? 0;
      if (running === 0 && page.nextToken === undefined) break;
      await sleep(500);
    }
    assert.equal(running, 0, `executions still RUNNING ${RUN_DEADLINE_MS} ms after the start`);
    t.diagnostic(`all finished at ${elapsed()}`);

    // Every execution, through the surviving nodes.
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const request = new ListExecutionsCommand({ stateMachineArn, maxResults: 1000, nextToken });
      const page: ListExecutionsCommandOutput = await onSomeNode(0, (n) => n.client.send(request));
      for (const e of page.executions ?? []) {
        assert.equal(e.status, 'SUCCEEDED', `${e.name} is ${e.status}`);
        names.push(e.name!);
      }
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    assert.deepEqual(
      names.sort(),
      Array.from({ length: EXECUTIONS }, (_, i) => `exec-${i}`).sort(),
      'exactly the expected executions exist',
    );

    const total: HistoryTally = { attempts: 0, interrupted: 0, timedOut: 0 };
    let affected = 0;
    let checked = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (checked < EXECUTIONS) {
          const i = checked++;
          const executionArn = arnOf(i);
          const d = await onSomeNode(i, (n) => n.client.send(new DescribeExecutionCommand({ executionArn })));
          assert.equal(d.status, 'SUCCEEDED', `exec-${i}: ${d.error} ${d.cause}`);
          assert.deepEqual(JSON.parse(d.output ?? 'null'), expectedOutput(i), `exec-${i} output`);
          const events: CheckedEvent[] = [];
          let token: string | undefined;
          do {
            const page = await onSomeNode(i + 1, (n) =>
              n.client.send(
                new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken: token }),
              ),
            );
            events.push(...(page.events ?? []).map((e: SdkHistoryEvent) => e as unknown as CheckedEvent));
            token = page.nextToken;
          } while (token !== undefined);
          const tally = checkHistoryWith(`exec-${i}`, events);
          total.attempts += tally.attempts;
          total.interrupted += tally.interrupted;
          if (tally.interrupted > 0) affected++;
        }
      }),
    );
    const warnings = nodes.flatMap((n) =>
      n.stderr
        .join('')
        .split('\n')
        .filter((l) => /warning/i.test(l))
        .map((l) => `${n.id}: ${l}`),
    );
    t.diagnostic(
      `${total.attempts} task attempts, ${total.interrupted} interrupted (failed, then retried) in ` +
        `${affected} executions; ${warnings.length} warning lines on the nodes' stderr; total ${elapsed()}`,
    );
    for (const w of warnings.slice(0, 10)) t.diagnostic(w);

    // The survivors stop cleanly.
    for (const n of ring) {
      if (!n.alive) continue;
      n.stopping = true;
      n.child.kill('SIGTERM');
      const { code, signal } = await n.exited;
      assert.equal(code, 0, `${n.id} exits cleanly on SIGTERM (${signal ?? code})`);
    }
  }
}

/** The shared consistency rules, with this workload's expected state visits. */
function checkHistoryWith(
  name: string,
  events: readonly { id: number; previousEventId: number; type: string; [k: string]: unknown }[],
) {
  return checkHistory(name, events, VISITS);
}
