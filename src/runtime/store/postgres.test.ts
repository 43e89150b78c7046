// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';

import { exArn, newExecution, runStoreContract, typicalStep } from './contract.js';
import { migrations } from './postgres-migrations.js';
import {
  POSTGRES_SCHEMA_VERSION,
  migrationChecksum,
  openPostgresStore,
  type FencedStepWrite,
  type PostgresStore,
  type PostgresStoreOptions,
} from './postgres.js';
import { StoreSchemaError, type Store } from './types.js';

const URL = process.env.STEPWISE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CI = process.env.CI;
const REQUIRED =
  (CI !== undefined && CI !== '' && CI !== 'false') || process.env.STEPWISE_REQUIRE_POSTGRES === '1';
// One schema per store, all under this file's prefix, all dropped at the end.
const PREFIX = `stepwise_test_${randomBytes(4).toString('hex')}`;
let schemas = 0;
const newSchema = () => `${PREFIX}_${++schemas}`;

async function probe(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 3000 });
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

/** A plain client for the test's own checks and sabotage (not a store connection). */
async function admin(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: URL, application_name: 'stepwise-test-admin' });
  await c.connect();
  return c;
}

const open = (schema: string, extra: Partial<PostgresStoreOptions> = {}) =>
  openPostgresStore({ connectionString: URL, schema, ...extra });

const unreachable = await probe();
if (unreachable !== undefined) {
  const banner =
    `PostgreSQL unreachable at ${URL} (${unreachable}): the PostgreSQL store suite is SKIPPED. ` +
    'Set STEPWISE_TEST_DATABASE_URL, or start PostgreSQL.';
  if (REQUIRED) {
    describe('postgres store', () => {
      it('needs PostgreSQL (CI or STEPWISE_REQUIRE_POSTGRES=1)', () => {
        assert.fail(banner);
      });
    });
  } else {
    console.warn(`\n${'!'.repeat(100)}\n!! ${banner}\n${'!'.repeat(100)}\n`);
    describe('postgres store', () => {
      it('the PostgreSQL store suite', { skip: banner }, () => undefined);
    });
  }
} else {
  after(async () => {
    const c = await admin();
    try {
      const rows = (
        await c.query<{ nspname: string }>(
          'SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)',
          [PREFIX],
        )
      ).rows;
      // Names are ours (PREFIX_n): safe to splice into DDL.
      for (const r of rows) await c.query(`DROP SCHEMA ${r.nspname} CASCADE`);
    } finally {
      await c.end();
    }
  });

  const schemaOf = (s: Store) => (s as PostgresStore).schema;
  runStoreContract('postgres', {
    fresh: () => open(newSchema()),
    connect: (of) => open(schemaOf(of)),
  });

  describe('postgres store', () => {
    const opened: Store[] = [];
    const track = async (p: Promise<PostgresStore>) => {
      const s = await p;
      opened.push(s);
      return s;
    };
    after(async () => {
      for (const s of opened) await s.close().catch(() => undefined);
    });

    it('pins the shipped migrations: they are immutable, add a new one instead', () => {
      const pinned: Record<number, string> = {
        1: '735ed9605c87aeb4817882cc428e9e2be17b88e8b9921d3810311d7adbf7eeab',
        2: '8dd1b77e3c5090d35e895f7dfce122b42a46227708c353fc4f5629a4ae456d44',
        3: 'a46d511d5eac9d15f430923cfb733757ead7edf59fc3216f525a1687902ac743',
      };
      for (const m of migrations) {
        const sum = migrationChecksum(m.sql);
        assert.equal(sum, pinned[m.version], `migration ${m.version} changed (sha256 ${sum})`);
      }
      assert.deepEqual(
        migrations.map((m) => m.version),
        migrations.map((_, i) => i + 1),
      );
    });

    it('migrates safely when four nodes open a fresh schema at once', async () => {
      const schema = newSchema();
      const stores = await Promise.all([1, 2, 3, 4].map(() => track(open(schema))));
      assert.equal(stores.length, 4);
      const c = await admin();
      try {
        const rows = (await c.query<{ version: number }>(`SELECT version FROM ${schema}.schema_version`))
          .rows;
        assert.deepEqual(
          rows.map((r) => r.version),
          migrations.map((m) => m.version),
        );
      } finally {
        await c.end();
      }
      // All four work on the same data.
      await stores[0]!.createExecution(newExecution('a', 'e1'), typicalStep('', 0, 0));
      for (const s of stores) assert.equal((await s.loadState(exArn('a', 'e1')))?.version, 1);
    });

    it('refuses a schema written by a newer version, or a changed migration', async () => {
      const schema = newSchema();
      await (await open(schema)).close();
      const c = await admin();
      try {
        await c.query(
          `INSERT INTO ${schema}.schema_version (version, description, checksum) VALUES ($1, 'future', '')`,
          [POSTGRES_SCHEMA_VERSION + 1],
        );
        await assert.rejects(
          open(schema),
          (e: unknown) =>
            e instanceof StoreSchemaError &&
            e.message.includes(`schema version ${POSTGRES_SCHEMA_VERSION + 1}`) &&
            e.message.includes('upgrade Stepwise'),
        );
        await c.query(`DELETE FROM ${schema}.schema_version WHERE version > $1`, [POSTGRES_SCHEMA_VERSION]);
        await c.query(`UPDATE ${schema}.schema_version SET checksum = 'x' WHERE version = 1`);
        await assert.rejects(open(schema), /immutable/);
      } finally {
        await c.end();
      }
    });

    it('serves ListExecutions, due timers and the activity queue from indexes (no sort)', async () => {
      const schema = newSchema();
      await (await open(schema)).close();
      const c = await admin();
      try {
        // Empty tables: make the planner show which index it can use, not whether a seq scan is cheaper.
        await c.query(`SET search_path = ${schema}; SET enable_seqscan = off; SET enable_bitmapscan = off`);
        const plan = async (sql: string) =>
          (await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`)).rows
            .map((r) => r['QUERY PLAN'])
            .join('\n');
        const list = await plan(`SELECT id FROM executions WHERE state_machine_arn = 'a'
          AND (start_date, id) < (1, 1) ORDER BY start_date DESC, id DESC LIMIT 10`);
        assert.match(list, /Index (Only )?Scan Backward using executions_by_machine /);
        const byStatus =
          await plan(`SELECT id FROM executions WHERE state_machine_arn = 'a' AND status = 'RUNNING'
          AND (start_date, id) < (1, 1) ORDER BY start_date DESC, id DESC LIMIT 10`);
        assert.match(byStatus, /Index (Only )?Scan Backward using executions_by_machine_status /);
        const timers = await plan(
          'SELECT timer_id FROM timers WHERE due_time <= 5 ORDER BY due_time, execution_id, timer_id LIMIT 10',
        );
        assert.match(timers, /timers_due/);
        const queue = await plan(
          `SELECT seq FROM tasks WHERE activity_arn = 'a' AND status = 'queued' ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED`,
        );
        assert.match(queue, /tasks_queue/);
        const byVersion = await plan(`SELECT id FROM executions WHERE state_machine_version_arn = 'a:1'
          AND (start_date, id) < (1, 1) ORDER BY start_date DESC, id DESC LIMIT 10`);
        assert.match(byVersion, /Index (Only )?Scan Backward using executions_by_version /);
        const byAlias = await plan(`SELECT id FROM executions WHERE state_machine_alias_arn = 'a:P'
          AND status = 'RUNNING' AND (start_date, id) < (1, 1) ORDER BY start_date DESC, id DESC LIMIT 10`);
        assert.match(byAlias, /Index Scan Backward using executions_by_alias /);
        const versions = await plan(`SELECT version FROM state_machine_versions WHERE state_machine_arn = 'a'
          AND version < 5 ORDER BY version DESC LIMIT 10`);
        assert.match(versions, /state_machine_versions_by_machine/);
        for (const p of [list, byStatus, timers, queue, byVersion, byAlias, versions])
          assert.doesNotMatch(p, /Sort/);
      } finally {
        await c.end();
      }
    });

    it('hands each activity task to exactly one of three worker processes', async () => {
      const schema = newSchema();
      const s = await track(open(schema));
      const act = 'arn:aws:states:us-east-1:123456789012:activity:w';
      const n = 300;
      const request = typicalStep('', 0, 0).tasksAdded![0]!.request;
      await s.commit(
        Array.from({ length: n }, (_, i) => ({
          ...typicalStep(exArn('a', `e${i}`), 0, 0),
          tasksAdded: [{ taskId: `t${i}`, request, activityArn: act }],
          create: newExecution('a', `e${i}`),
        })),
      );
      const moduleUrl = new globalThis.URL('./postgres.js', import.meta.url).href;
      const code = `
        const { openPostgresStore } = await import(${JSON.stringify(moduleUrl)});
        const store = await openPostgresStore({ connectionString: ${JSON.stringify(URL)}, schema: ${JSON.stringify(schema)}, poolSize: 3 });
        const got = [];
        const worker = async () => {
          for (;;) {
            const t = await store.claimActivityTask(${JSON.stringify(act)}, String(process.pid), 1);
            if (t === undefined) return;
            got.push(t.taskId);
          }
        };
        await Promise.all([worker(), worker(), worker()]);
        await store.close();
        process.stdout.write(JSON.stringify(got));`;
      const run = () =>
        new Promise<string[]>((resolve, reject) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let out = '';
          child.stdout.setEncoding('utf8');
          child.stdout.on('data', (d: string) => (out += d));
          child.once('error', reject);
          child.once('exit', (status) =>
            status === 0
              ? resolve(JSON.parse(out) as string[])
              : reject(new Error(`worker exited ${status}`)),
          );
        });
      const got = await Promise.all([run(), run(), run()]);
      const all = got.flat();
      assert.equal(all.length, n);
      assert.equal(new Set(all).size, n, 'no task claimed twice');
      console.log(
        `[postgres] three processes (three connections each) claimed ${got.map((g) => g.length).join(' + ')} of ${n} activity tasks`,
      );
    });

    it('survives terminated connections: a commit in flight rejects, the next ones reconnect', async () => {
      const app = `stepwise-kill-${randomBytes(3).toString('hex')}`;
      const schema = newSchema();
      const s = await track(open(schema, { applicationName: app, poolSize: 4 }));
      const arn = exArn('a', 'resilient');
      await s.createExecution(newExecution('a', 'resilient'), typicalStep('', 0, 0));
      let wakeups = 0;
      let reconnects = 0;
      await s.listen('stepwise_resilience', (p) => (p === undefined ? reconnects++ : wakeups++));
      const c = await admin();
      const kill = async () =>
        (
          await c.query<{ n: number }>(
            `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE $1`,
            [`${app}%`],
          )
        ).rows[0]!.n;
      try {
        // 1. A commit waiting on a row lock is in flight for sure when its backend dies.
        await c.query('BEGIN');
        await c.query(
          `SELECT 1 FROM ${schema}.states s JOIN ${schema}.executions e ON e.id = s.execution_id
           WHERE e.arn = $1 FOR UPDATE OF s`,
          [arn],
        );
        const blocked = s.commit([typicalStep(arn, 1, 1)]);
        // It may reject before assert.rejects attaches below; mark it handled now.
        blocked.catch(() => undefined);
        await waitFor(async () => {
          const r = await c.query(
            `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
            [app],
          );
          return r.rowCount === 1;
        });
        assert.ok((await kill()) >= 2, 'the pool connection and the listener were terminated');
        await assert.rejects(blocked, 'the commit in flight rejects');
        await c.query('ROLLBACK');
        assert.equal((await s.loadState(arn))?.version, 1, 'nothing of it was applied');
        assert.deepEqual(await s.commit([typicalStep(arn, 1, 1)]), ['ok'], 'the retry commits');

        // 2. Kills while commits stream: every acknowledged commit is there; rejected ones are retried.
        let version = 2;
        let acknowledged = 0;
        let rejected = 0;
        const stop = Date.now() + 1500;
        const killer = (async () => {
          while (Date.now() < stop) {
            await sleep(200);
            await kill();
          }
        })();
        while (Date.now() < stop || acknowledged < 50) {
          try {
            const [o] = await s.commit([typicalStep(arn, version, version)]);
            if (o === 'ok') {
              acknowledged++;
              version++;
            } else {
              version = (await retry(() => s.loadState(arn)))!.version; // its COMMIT had landed
            }
          } catch {
            rejected++;
            version = (await retry(() => s.loadState(arn)))!.version;
          }
        }
        await killer;
        const loaded = await s.loadState(arn);
        assert.equal(loaded?.version, version);
        assert.ok(version >= 2 + acknowledged);
        const history = await s.history(arn, { limit: 1, reverse: true });
        assert.equal(history?.items[0]?.id, 3 * (version - 1) + 4, 'history matches the stored state');
        console.log(
          `[postgres] connections terminated every 200 ms: ${acknowledged} commits acknowledged, ` +
            `${rejected} rejected and retried; ${s.connectionErrors} idle connections replaced`,
        );

        // 3. The listener reconnected (and said so); notifications flow again.
        await waitFor(async () => {
          await s.notify('stepwise_resilience', 'ping');
          await sleep(50);
          return wakeups > 0 && reconnects > 0;
        });
      } finally {
        await c.query('ROLLBACK').catch(() => undefined);
        await c.end();
      }
    });

    it('leases: one holder at a time, fencing tokens grow, a stale holder’s writes conflict', async () => {
      const s = await track(open(newSchema()));
      const arn = exArn('a', 'leased');
      assert.equal(await s.acquireLease(arn, 'n1', 10_000), 1);
      assert.equal(await s.acquireLease(arn, 'n2', 10_000), undefined, 'held by n1');
      assert.equal(await s.acquireLease(arn, 'n1', 10_000), 1, 'the holder extends, same token');
      await s.createExecution(newExecution('a', 'leased'), typicalStep('', 0, 0));
      await s.createExecution(newExecution('a', 'orphan'), typicalStep('', 0, 0));
      assert.deepEqual(await s.listUnleasedExecutions(10), [exArn('a', 'orphan')]);
      const fenced = (v: number, token: number): FencedStepWrite => ({
        ...typicalStep(arn, v, v),
        fencingToken: token,
      });
      assert.deepEqual(await s.commit([fenced(1, 1)]), ['ok']);
      assert.deepEqual(await s.renewLeases('n1', 10_000), [arn]);
      assert.equal(await s.releaseLease(arn, 'n2'), false, 'not n2’s to release');
      assert.equal(await s.releaseLease(arn, 'n1'), true);
      assert.deepEqual(await s.renewLeases('n1', 10_000), [], 'a released lease is not renewed');
      assert.equal(await s.acquireLease(arn, 'n2', 10_000), 2);
      // n1 still believes it holds the lease; its step, with a valid version, is fenced off.
      assert.deepEqual(await s.commit([fenced(2, 1), typicalStep(exArn('a', 'orphan'), 1, 1)]), [
        'conflict',
        'ok',
      ]);
      assert.deepEqual(await s.commit([fenced(2, 2)]), ['ok']);
      assert.deepEqual(await s.commit([fenced(3, 7)]), ['conflict']);
      assert.deepEqual(
        await s.commit([{ ...typicalStep(exArn('a', 'orphan'), 2, 2), fencingToken: 1 } as FencedStepWrite]),
        ['conflict'],
        'no lease row: a fenced write conflicts',
      );
      // Expiry: a short lease lapses and the next node takes over with a greater token.
      assert.equal(await s.acquireLease(arn, 'n2', 50), 2);
      assert.equal(await s.acquireLease(arn, 'n3', 10_000), undefined);
      await sleep(120);
      assert.deepEqual(await s.renewLeases('n2', 10_000), [], 'an expired lease is not renewed');
      assert.equal(await s.acquireLease(arn, 'n3', 10_000), 3);
      assert.deepEqual(await s.listUnleasedExecutions(10), [exArn('a', 'orphan')]);
      await assert.rejects(s.acquireLease(arn, 'n3', 0), RangeError);
    });

    it('a lease taken over waits for the old holder’s commit in progress, then sees it', async () => {
      const schema = newSchema();
      const s = await track(open(schema));
      const other = await track(open(schema));
      const arn = exArn('a', 'handover');
      await s.createExecution(newExecution('a', 'handover'), typicalStep('', 0, 0));
      assert.equal(await s.acquireLease(arn, 'n1', 30), 1);
      await sleep(60); // n1's lease lapsed, but n1 does not know yet
      // Many concurrent handovers and commits: every commit that succeeded with token t happened
      // before the lease moved past t, so versions and tokens stay consistent.
      const results = await Promise.all([
        s.commit([{ ...typicalStep(arn, 1, 1), fencingToken: 1 } as FencedStepWrite]),
        other.acquireLease(arn, 'n2', 10_000),
      ]);
      const [outcome] = results[0];
      assert.equal(results[1], 2);
      const loaded = await other.loadState(arn);
      assert.equal(loaded?.version, outcome === 'ok' ? 2 : 1, 'n2 loads after n1’s commit settled');
    });

    it('a commit that loses a deadlock is run again, not failed', async () => {
      const schema = newSchema();
      const s = await track(open(schema));
      const [x, y] = [exArn('a', 'x'), exArn('a', 'y')];
      // Created in this order: x has the lower id, and a commit locks states in id order.
      for (const [arn, name] of [
        [x, 'x'],
        [y, 'y'],
      ] as const)
        await s.commit([{ ...typicalStep(arn, 0, 0), create: newExecution('a', name) }]);
      const lock = (arn: string) =>
        `SELECT 1 FROM ${schema}.states s JOIN ${schema}.executions e ON e.id = s.execution_id
         WHERE e.arn = '${arn}' FOR UPDATE OF s`;
      const other = await admin();
      try {
        // The other transaction holds y; the commit takes x and waits for y; the other then asks
        // for x: a cycle. The commit has waited longer, so its deadlock check aborts it (40P01).
        await other.query('BEGIN');
        await other.query(lock(y));
        const committed = s.commit([typicalStep(x, 1, 1), typicalStep(y, 1, 1)]);
        await waitFor(
          async () =>
            (
              await other.query<{ n: string }>(
                `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
              )
            ).rows[0]?.n === '1',
        );
        await other.query(lock(x)); // granted once the commit is rolled back
        await other.query('COMMIT');
        assert.deepEqual(await committed, ['ok', 'ok'], 'the retried transaction commits both steps');
        assert.equal((await s.loadState(x))?.version, 2);
      } finally {
        await other.end();
      }
    });

    it('LISTEN/NOTIFY: commits that queue activity tasks or set timers due soon wake listeners', async () => {
      const schema = newSchema();
      const s = await track(open(schema, { wakeWithinMs: 60_000 }));
      assert.equal(s.workChannel, `${schema}_work`, 'one channel per schema');
      const received: (string | undefined)[] = [];
      const stop = await s.listen(s.workChannel, (p) => received.push(p));
      const act = 'arn:aws:states:us-east-1:123456789012:activity:q';
      const request = typicalStep('', 0, 0).tasksAdded![0]!.request;
      const far = Date.now() + 3_600_000;
      // A timer an hour away wakes nobody.
      await s.createExecution(newExecution('a', 'far'), {
        state: {},
        status: 'RUNNING',
        timersSet: [{ timerId: 't', dueTime: far }],
      });
      const soon = Date.now() + 1000;
      await s.createExecution(newExecution('a', 'soon'), {
        state: {},
        status: 'RUNNING',
        timersSet: [{ timerId: 't', dueTime: soon }],
        tasksAdded: [{ taskId: 'x', request, activityArn: act }],
      });
      await waitFor(() => Promise.resolve(received.length >= 1));
      await sleep(50);
      assert.deepEqual(
        received.map((p) => JSON.parse(p!) as unknown),
        [{ due: soon, activities: [act], more: false }],
      );
      await s.notify(s.workChannel, 'hello');
      await waitFor(() => Promise.resolve(received.length === 2));
      assert.equal(received[1], 'hello');
      await stop();
      await s.notify(s.workChannel, 'unheard');
      await sleep(100);
      assert.equal(received.length, 2, 'no notification after unlisten');
      await assert.rejects(
        s.listen('bad channel; DROP', () => undefined),
        TypeError,
      );
    });

    it('commit throughput: batches of 100 steps, single steps, concurrent single steps', async () => {
      const s = await track(open(newSchema()));
      const arns = Array.from({ length: 100 }, (_, i) => exArn('perf', `e${i}`));
      await s.commit(
        arns.map((arn, i) => ({ ...typicalStep(arn, 0, 0), create: newExecution('perf', `e${i}`) })),
      );
      const versions = arns.map(() => 1);
      let batches = 0;
      const begin = performance.now();
      while (performance.now() - begin < 2000) {
        const outcomes = await s.commit(arns.map((arn, i) => typicalStep(arn, versions[i]!, versions[i]!)));
        assert.ok(outcomes.every((o) => o === 'ok'));
        for (let i = 0; i < arns.length; i++) versions[i]!++;
        batches++;
      }
      const batchPerSecond = batches / ((performance.now() - begin) / 1000);
      // One step per commit, one caller.
      let singles = 0;
      const begin1 = performance.now();
      while (performance.now() - begin1 < 1500) {
        const v = versions[0]!;
        assert.deepEqual(await s.commit([typicalStep(arns[0]!, v, v)]), ['ok']);
        versions[0]!++;
        singles++;
      }
      const singlePerSecond = singles / ((performance.now() - begin1) / 1000);
      // One step per commit, 8 callers at once (different executions): the pool works in parallel.
      let concurrent = 0;
      const begin8 = performance.now();
      await Promise.all(
        [1, 2, 3, 4, 5, 6, 7, 8].map(async (i) => {
          while (performance.now() - begin8 < 1500) {
            const v = versions[i]!;
            assert.deepEqual(await s.commit([typicalStep(arns[i]!, v, v)]), ['ok']);
            versions[i]!++;
            concurrent++;
          }
        }),
      );
      const concurrentPerSecond = concurrent / ((performance.now() - begin8) / 1000);
      console.log(
        `[postgres] group commit ${batchPerSecond.toFixed(0)} commits/s of 100 steps ` +
          `(${(batchPerSecond * 100).toFixed(0)} steps/s); single-step commits ${singlePerSecond.toFixed(0)}/s ` +
          `(one caller), ${concurrentPerSecond.toFixed(0)}/s (8 callers)`,
      );
      assert.ok(batchPerSecond * 100 > 1000, 'at least 1,000 steps/s batched');
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(20);
  }
}

/** What a caller does after a rejected store call: try again shortly. */
async function retry<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= 20) throw e;
      await sleep(50);
    }
  }
}
