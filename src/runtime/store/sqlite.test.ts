// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';

import { exArn, newExecution, runStoreContract, typicalStep } from './contract.js';
import { SQLITE_FILE, SQLITE_SCHEMA_VERSION, openSqliteStore } from './sqlite.js';
import { migrations } from './sqlite-migrations.js';
import { StoreSchemaError, type Store } from './types.js';

const dirs: string[] = [];
const dirOf = new Map<Store, string>();
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-store-'));
  dirs.push(dir);
  return dir;
};
const open = async (dir: string, synchronous?: 'FULL' | 'NORMAL', writer?: 'inline' | 'thread') => {
  const s = await openSqliteStore({
    dir,
    ...(synchronous === undefined ? {} : { synchronous }),
    ...(writer === undefined ? {} : { writer }),
  });
  dirOf.set(s, dir);
  return s;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

runStoreContract('sqlite', {
  fresh: () => open(tempDir()),
  connect: (of) => open(dirOf.get(of)!),
});

// The engine's default: writes on a worker thread, reads on the caller's connection.
runStoreContract('sqlite (writer thread)', {
  fresh: () => open(tempDir(), undefined, 'thread'),
  connect: (of) => open(dirOf.get(of)!, undefined, 'thread'),
});

describe('sqlite store', () => {
  it('pins the shipped migrations: they are immutable, add a new one instead', () => {
    const pinned: Record<number, string> = {
      1: 'fb66100810035e9e6f51edaf7c666e4f9b63dcea6c09776e4c149c04e756084a',
      2: 'c94b17592600dab30b9b6e5e6f3fe94accd79a9df06fec3b4c3ed1660f03252f',
      3: '30fce965fcd51367cb35f926e999c3e9f138033187103f668d8377e624ef4f29',
      4: '941b2e6a2a3522d75ceff5f1324151b69d3d02cb7053ae78cf2af9a6279d2930',
    };
    for (const m of migrations) {
      const sum = createHash('sha256').update(m.sql).digest('hex');
      assert.equal(sum, pinned[m.version], `migration ${m.version} changed (sha256 ${sum})`);
    }
    assert.deepEqual(
      migrations.map((m) => m.version),
      migrations.map((_, i) => i + 1),
    );
  });

  it('creates the database in the data directory, in WAL mode, and migrates once', async () => {
    const dir = join(tempDir(), 'nested', 'data');
    const s = await open(dir);
    assert.equal(s.path, join(dir, SQLITE_FILE));
    await s.close();
    await (await open(dir)).close();
    const db = new Database(join(dir, SQLITE_FILE), { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.deepEqual(
      db.prepare('SELECT version FROM schema_version').all(),
      migrations.map((m) => ({ version: m.version })),
    );
    db.close();
  });

  it('defaults to ./.stepwise', async () => {
    const cwd = process.cwd();
    const dir = tempDir();
    process.chdir(dir);
    try {
      const s = await openSqliteStore();
      await s.close();
      assert.ok(existsSync(join(dir, '.stepwise', SQLITE_FILE)));
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses a database written by a newer schema', async () => {
    const dir = tempDir();
    await (await open(dir)).close();
    const db = new Database(join(dir, SQLITE_FILE));
    db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)').run(
      SQLITE_SCHEMA_VERSION + 1,
      'from the future',
      0,
    );
    db.close();
    await assert.rejects(
      openSqliteStore({ dir }),
      (e: unknown) =>
        e instanceof StoreSchemaError &&
        e.message.includes(`schema version ${SQLITE_SCHEMA_VERSION + 1}`) &&
        e.message.includes('upgrade Stepwise'),
    );
  });

  it('migration 4 keeps in-flight tasks, their order and the activity queue', async () => {
    // A database as schema 3 left it, with tasks whose numbers have gaps.
    const dir = tempDir();
    const path = join(dir, SQLITE_FILE);
    const db = new Database(path);
    db.exec(`CREATE TABLE schema_version (
      version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    for (const m of migrations.filter((x) => x.version <= 3)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version VALUES (?, ?, 0)').run(m.version, m.description);
    }
    const arn = exArn('sm', 'e1');
    db.prepare(
      `INSERT INTO executions (id, arn, state_machine_arn, name, definition_id, status, start_date, input)
      VALUES (1, ?, 'sm', 'e1', 'd', 'RUNNING', 0, '{}')`,
    ).run(arn);
    const task =
      db.prepare(`INSERT INTO tasks (seq, execution_id, task_id, request, status, token, activity_arn)
      VALUES (?, 1, ?, ?, ?, ?, ?)`);
    const request = (taskId: string) => JSON.stringify({ taskId, resource: 'r', input: {} });
    task.run(5, 't5', request('t5'), 'running', null, null);
    task.run(9, 't9', request('t9'), 'queued', 'token-9', 'arn:activity');
    db.close();

    const s = await open(dir);
    try {
      const listed = await s.listTasks({ limit: 10 });
      assert.deepEqual(
        listed.items.map((t) => [t.taskId, t.status]),
        [
          ['t5', 'running'],
          ['t9', 'queued'],
        ],
      );
      assert.equal((await s.findTaskByToken('token-9'))?.taskId, 't9');
      assert.equal((await s.claimActivityTask('arn:activity', 'worker', 1))?.taskId, 't9');
    } finally {
      await s.close();
    }
    const after = new Database(path, { readonly: true });
    const sql = (after.prepare(`SELECT sql FROM sqlite_master WHERE name = 'tasks'`).get() as { sql: string })
      .sql;
    assert.doesNotMatch(sql, /AUTOINCREMENT/);
    const indexes = after.prepare(
      `SELECT name FROM sqlite_master WHERE tbl_name = 'tasks' AND type = 'index'`,
    );
    assert.deepEqual((indexes.all() as { name: string }[]).map((r) => r.name).sort(), [
      'sqlite_autoindex_tasks_1',
      'tasks_queue',
      'tasks_token',
    ]);
    after.close();
  });

  it('serves ListExecutions, due timers and the activity queue from indexes (no sort)', async () => {
    const s = await open(tempDir());
    await s.close();
    const db = new Database(s.path, { readonly: true });
    const plan = (sql: string, ...args: unknown[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[])
        .map((r) => r.detail)
        .join('; ');
    const list = plan(
      `SELECT id FROM executions WHERE state_machine_arn = ? AND (start_date, id) < (?, ?)
       ORDER BY start_date DESC, id DESC LIMIT 10`,
      'a',
      1,
      1,
    );
    assert.match(list, /executions_by_machine /);
    const byStatus = plan(
      `SELECT id FROM executions WHERE state_machine_arn = ? AND status = ? AND (start_date, id) < (?, ?)
       ORDER BY start_date DESC, id DESC LIMIT 10`,
      'a',
      'RUNNING',
      1,
      1,
    );
    assert.match(byStatus, /executions_by_machine_status/);
    const timers = plan(
      'SELECT timer_id FROM timers WHERE due_time <= ? ORDER BY due_time, execution_id, timer_id',
      1,
    );
    assert.match(timers, /timers_due/);
    const queue = plan(
      `SELECT seq FROM tasks WHERE activity_arn = ? AND status = 'queued' ORDER BY seq LIMIT 1`,
      'a',
    );
    assert.match(queue, /tasks_queue/);
    // By version or alias (ListExecutions on a qualified ARN): their partial indexes.
    const byVersion = plan(
      `SELECT id FROM executions WHERE state_machine_version_arn = ? AND status = ? AND (start_date, id) < (?, ?)
       ORDER BY start_date DESC, id DESC LIMIT 10`,
      'a:1',
      'RUNNING',
      1,
      1,
    );
    assert.match(byVersion, /executions_by_version/);
    const byAlias = plan(
      `SELECT id FROM executions WHERE state_machine_alias_arn = ? AND (start_date, id) < (?, ?)
       ORDER BY start_date DESC, id DESC LIMIT 10`,
      'a:PROD',
      1,
      1,
    );
    assert.match(byAlias, /executions_by_alias/);
    const versions = plan(
      `SELECT version FROM state_machine_versions WHERE state_machine_arn = ? AND version < ?
       ORDER BY version DESC LIMIT 10`,
      'a',
      5,
    );
    assert.match(versions, /state_machine_versions_by_machine/);
    for (const p of [list, byStatus, timers, queue, byVersion, byAlias, versions])
      assert.doesNotMatch(p, /TEMP B-TREE/);
    db.close();
  });

  it('hands each activity task to exactly one of two worker threads', async () => {
    const dir = tempDir();
    const s = await open(dir);
    const act = 'arn:aws:states:us-east-1:123456789012:activity:w';
    const n = 300;
    await s.commit(
      Array.from({ length: n }, (_, i) => ({
        ...typicalStep(exArn('a', `e${i}`), 0, 0),
        tasksAdded: [
          { taskId: `t${i}`, request: typicalStep('', 0, 0).tasksAdded![0]!.request, activityArn: act },
        ],
        create: newExecution('a', `e${i}`),
      })),
    );
    await s.close();
    const moduleUrl = new URL('./sqlite.js', import.meta.url).href;
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.moduleUrl).then(async ({ openSqliteStore }) => {
        const store = await openSqliteStore({ dir: workerData.dir });
        // Barrier: both workers start claiming at the same moment.
        const gate = new Int32Array(workerData.gate);
        Atomics.add(gate, 0, 1);
        while (Atomics.load(gate, 0) < 2) Atomics.wait(gate, 0, 1, 5);
        const got = [];
        for (;;) {
          const t = await store.claimActivityTask(workerData.act, workerData.name, 1);
          if (t === undefined) break;
          got.push(t.taskId);
          Atomics.wait(gate, 1, 0, 1); // a worker's work: lets the other one take the lock

        }
        await store.close();
        parentPort.postMessage(got);
      });`;
    const gate = new SharedArrayBuffer(8);
    const run = (name: string) =>
      new Promise<string[]>((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: { moduleUrl, dir, act, name, gate } });
        w.once('message', (m: string[]) => resolve(m));
        w.once('error', reject);
      });
    const [a, b] = await Promise.all([run('w1'), run('w2')]);
    assert.equal(a.length + b.length, n);
    assert.equal(new Set([...a, ...b]).size, n, 'no task claimed twice');
    console.log(`[sqlite] two worker threads claimed ${a.length} + ${b.length} of ${n} activity tasks`);
  });

  it('loses no acknowledged commit when the process is killed (kill -9)', async () => {
    const dir = tempDir();
    const moduleUrl = new URL('./sqlite.js', import.meta.url).href;
    const contractUrl = new URL('./contract.js', import.meta.url).href;
    // The child starts one execution, then commits steps and reports each acknowledged version.
    const code = `
      const { openSqliteStore } = await import(${JSON.stringify(moduleUrl)});
      const { typicalStep, newExecution, exArn } = await import(${JSON.stringify(contractUrl)});
      const store = await openSqliteStore({ dir: ${JSON.stringify(dir)}, synchronous: 'NORMAL' });
      const arn = exArn('a', 'crash');
      await store.commit([{ ...typicalStep(arn, 0, 0), create: newExecution('a', 'crash') }]);
      for (let v = 1; ; v++) {
        await store.commit([typicalStep(arn, v, v)]);
        process.stdout.write(v + '\\n');
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acknowledged = 0;
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        const last = chunk.trim().split('\n').pop();
        if (last !== undefined && last !== '') acknowledged = Number(last);
        if (acknowledged >= 200 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
      child.once('exit', (_code, signal) =>
        signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited without being killed (${signal})`)),
      );
    });
    const s = await open(dir);
    const loaded = await s.loadState(exArn('a', 'crash'));
    assert.ok(loaded !== undefined);
    // Version v + 1 was written by the commit acknowledged as v.
    assert.ok(
      loaded.version >= acknowledged + 1,
      `stored version ${loaded.version}, acknowledged ${acknowledged}`,
    );
    const history = await s.history(exArn('a', 'crash'), { limit: 1000, reverse: true });
    assert.equal(history?.items[0]?.id, 3 * (loaded.version - 1) + 4, 'history matches the stored state');
  });

  it('group commit throughput with synchronous=NORMAL and with FULL', async () => {
    for (const mode of ['NORMAL', 'FULL'] as const) {
      const s = await open(tempDir(), mode);
      const arns = Array.from({ length: 100 }, (_, i) => exArn('perf', `e${i}`));
      await s.commit(
        arns.map((arn, i) => ({ ...typicalStep(arn, 0, 0), create: newExecution('perf', `e${i}`) })),
      );
      let batches = 0;
      const begin = performance.now();
      while (performance.now() - begin < 1500) {
        await s.commit(arns.map((arn) => typicalStep(arn, batches + 1, batches + 1)));
        batches++;
      }
      const perSecond = batches / ((performance.now() - begin) / 1000);
      // One write at a time, for comparison: what group commit saves.
      let singles = 0;
      const begin1 = performance.now();
      while (performance.now() - begin1 < 1500) {
        await s.commit([typicalStep(arns[0]!, batches + singles + 1, batches + singles + 1)]);
        singles++;
      }
      const singlePerSecond = singles / ((performance.now() - begin1) / 1000);
      console.log(
        `[sqlite synchronous=${mode}] ${perSecond.toFixed(0)} commits/s of 100 steps ` +
          `(${(perSecond * 100).toFixed(0)} steps/s); unbatched ${singlePerSecond.toFixed(0)} steps/s`,
      );
      await s.close();
    }
  });
});
