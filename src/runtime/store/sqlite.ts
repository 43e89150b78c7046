/**
 * The SQLite store (better-sqlite3): one database file in WAL mode, prepared statements, one
 * transaction per write call. better-sqlite3 is synchronous; the methods wrap it in promises to
 * fit the `Store` interface. Reads run on the calling thread's connection; writes run in a
 * `SqliteWriter`, inline on that connection or (`writer: 'thread'`) on its own connection in a
 * worker thread, so that SQLite's work overlaps the caller's (WAL lets the reader see every
 * committed write). Several processes may open the same file (writers wait for each other
 * through `busy_timeout`), though the runtime is meant to be its only writer.
 */
import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';

import type { ExecutionStatus, HistoryEvent } from '../../interpreter/types.js';
import { migrations } from './sqlite-migrations.js';
import type { WorkerReply, WorkerRequest } from './sqlite-worker.js';
import {
  SqliteWriter,
  callWriter,
  encodeWrites,
  openConnection,
  type WriterCall,
  type WriterMethod,
} from './sqlite-writer.js';
import {
  ALIAS_SELECT_SQLITE,
  EXECUTION_COLUMNS,
  SM_COLUMNS,
  TASK_COLUMNS,
  TOP,
  VERSION_COLUMNS,
  limitOf,
  paginate,
  toAlias,
  toStateMachine,
  toSummary,
  toTask,
  toLoadedState,
  toVersion,
  type LoadedStateRow,
  type AliasRow,
  type ExecutionFullRow,
  type ExecutionRow,
  type StateMachineRow,
  type TaskRowRaw,
  type VersionRow,
} from './rows.js';
import {
  StoreConflict,
  StoreSchemaError,
  decodePageToken,
  encodePageToken,
  type ActivityRecord,
  type AliasWriteResult,
  type CommitOutcome,
  type CreateResult,
  type ExecutionRecord,
  type ExecutionSummary,
  type LoadedState,
  type NewExecution,
  type Page,
  type PageRequest,
  type AliasChange,
  type DeleteVersionResult,
  type PublishVersionRequest,
  type PublishVersionResult,
  type StateMachineAliasRecord,
  type StateMachineRecord,
  type StateMachineVersionRecord,
  type StepChanges,
  type StepWrite,
  type Store,
  type Tag,
  type TaskRow,
  type TimerRow,
} from './types.js';

export const SQLITE_FILE = 'stepwise.db';
export const SQLITE_SCHEMA_VERSION = migrations[migrations.length - 1]?.version ?? 0;

export interface SqliteStoreOptions {
  /** Data directory, created if missing. Default `./.stepwise`. */
  dir?: string;
  /**
   * `FULL` (default): a commit is on disk when it returns, so it survives power loss.
   * `NORMAL`: it survives a crash of the process (kill -9), but power loss or an OS crash may
   * drop the last commits (the database stays consistent). See ADR 0004.
   */
  synchronous?: 'FULL' | 'NORMAL';
  /**
   * `inline` (default): writes run on the caller's thread. `thread`: on a worker thread with its
   * own connection; the caller's thread only serialises (the engine's default).
   */
  writer?: 'inline' | 'thread';
}

/** Opens (creating and migrating if needed) the store in `options.dir`. */
export async function openSqliteStore(options: SqliteStoreOptions = {}): Promise<SqliteStore> {
  const dir = resolve(options.dir ?? '.stepwise');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, SQLITE_FILE);
  const synchronous = options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL';
  const db = openConnection(path, synchronous);
  try {
    migrate(db, path);
    const writer =
      options.writer === 'thread'
        ? await WriterThread.start(path, synchronous)
        : inlineWriter(new SqliteWriter(db));
    return new SqliteStore(path, db, writer);
  } catch (e) {
    db.close();
    throw e;
  }
}

/** The writer's methods, asynchronous. */
interface Writer {
  call<K extends WriterMethod>(
    method: K,
    ...args: Parameters<SqliteWriter[K]>
  ): Promise<ReturnType<SqliteWriter[K]>>;
  close(): Promise<void>;
}

function inlineWriter(writer: SqliteWriter): Writer {
  return {
    call: (method, ...args) =>
      // The cast re-attaches the method's result type that `callWriter`'s union loses.
      attempt(() => callWriter(writer, { method, args } as WriterCall) as never),
    close: () => Promise.resolve(),
  };
}

/** A `SqliteWriter` on a worker thread; calls are applied in the order they are made. */
class WriterThread implements Writer {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;
  private closing = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (r: WorkerReply) => {
      const p = this.pending.get(r.id);
      if (p === undefined) return;
      this.pending.delete(r.id);
      // Idle, the thread must not keep the process alive (as an idle connection would not).
      if (this.pending.size === 0 && !this.closing) worker.unref();
      if (r.ok) p.resolve(r.result);
      else p.reject(rebuildError(r.error));
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      for (const p of this.pending.values()) p.reject(this.failure);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the SQLite writer thread exited (code ${code})`)));
  }

  static start(path: string, synchronous: 'FULL' | 'NORMAL'): Promise<WriterThread> {
    const worker = new Worker(new URL('./sqlite-worker.js', import.meta.url), {
      workerData: { path, synchronous },
      // The writer needs none of the parent's flags (some, such as --input-type, fail a worker).
      execArgv: [],
    });
    const thread = new WriterThread(worker);
    // The worker answers id 0 once its connection is open (or fails with the reason).
    return new Promise((resolve, reject) => {
      thread.pending.set(0, { resolve: () => resolve(thread), reject });
    });
  }

  call<K extends WriterMethod>(
    method: K,
    ...args: Parameters<SqliteWriter[K]>
  ): Promise<ReturnType<SqliteWriter[K]>> {
    return this.send({ method, args } as WriterCall) as Promise<ReturnType<SqliteWriter[K]>>;
  }

  async close(): Promise<void> {
    if (this.failure !== undefined) return;
    this.closing = true;
    const exited = new Promise((r) => this.worker.once('exit', r));
    await this.send({ method: 'close' });
    await exited;
  }

  private send(call: WorkerRequest['call']): Promise<unknown> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    if (this.pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, call } satisfies WorkerRequest);
    });
  }
}

/** The writer thread's errors, as the inline writer would have thrown them. */
function rebuildError(e: { name: string; message: string; code?: string }): Error {
  if (e.name === 'StoreConflict') return new StoreConflict(e.message);
  if (e.name === 'StoreSchemaError') return new StoreSchemaError(e.message);
  if (e.name === 'TypeError') return new TypeError(e.message);
  const err = new Error(e.message);
  err.name = e.name;
  if (e.code !== undefined) Object.assign(err, { code: e.code });
  return err;
}

export class SqliteStore implements Store {
  private readonly s: ReturnType<typeof prepare>;
  /** Ids of definitions this store has committed (a create then sends its id, not its text). */
  private readonly heldDefinitions = new Set<string>();
  /** A writer thread works while the caller interprets: keep it fed. */
  readonly commitsInFlight: number;

  /** Use `openSqliteStore`. */
  constructor(
    readonly path: string,
    private readonly db: Database.Database,
    private readonly writer: Writer,
  ) {
    this.s = prepare(db);
    this.commitsInFlight = writer instanceof WriterThread ? 8 : 1;
  }

  async close(): Promise<void> {
    try {
      await this.writer.close();
    } finally {
      this.db.close();
    }
  }

  // ---- state machines ------------------------------------------------------------------------

  createStateMachine(
    sm: StateMachineRecord,
    tags: readonly Tag[] = [],
  ): Promise<CreateResult<StateMachineRecord>> {
    return this.writer.call('createStateMachine', sm, tags);
  }

  getStateMachine(arn: string): Promise<StateMachineRecord | undefined> {
    return attempt(() => this.stateMachine(arn));
  }

  updateStateMachine(
    sm: StateMachineRecord,
    expectedRevisionId: string,
  ): Promise<'updated' | 'missing' | 'conflict'> {
    return this.writer.call('updateStateMachine', sm, expectedRevisionId);
  }

  deleteStateMachine(arn: string): Promise<boolean> {
    return this.writer.call('deleteStateMachine', arn);
  }

  listStateMachines(page: PageRequest): Promise<Page<StateMachineRecord>> {
    return attempt(() => {
      const after =
        page.nextToken === undefined ? '' : (decodePageToken(page.nextToken, 'sm', '', 's')[0] as string);
      const rows = this.s.listStateMachines.all(after, limitOf(page) + 1) as StateMachineRow[];
      return paginate(rows, page, toStateMachine, (r) => encodePageToken('sm', '', [r.arn]));
    });
  }

  getDefinition(definitionId: string): Promise<string | undefined> {
    return attempt(() => (this.s.getDefinition.get(definitionId) as { text: string } | undefined)?.text);
  }

  // ---- versions and aliases ------------------------------------------------------------------

  publishStateMachineVersion(
    stateMachineArn: string,
    p: PublishVersionRequest,
  ): Promise<PublishVersionResult> {
    return this.writer.call('publishStateMachineVersion', stateMachineArn, p);
  }

  getStateMachineVersion(versionArn: string): Promise<StateMachineVersionRecord | undefined> {
    return attempt(() => {
      const r = this.s.getVersion.get(versionArn) as VersionRow | undefined;
      return r === undefined ? undefined : toVersion(r);
    });
  }

  listStateMachineVersions(
    query: { stateMachineArn: string } & PageRequest,
  ): Promise<Page<StateMachineVersionRecord>> {
    return attempt(() => {
      const before =
        query.nextToken === undefined
          ? TOP
          : (decodePageToken(query.nextToken, 'ver', query.stateMachineArn, 'n')[0] as number);
      const rows = this.s.listVersions.all(query.stateMachineArn, before, limitOf(query) + 1) as VersionRow[];
      return paginate(rows, query, toVersion, (r) =>
        encodePageToken('ver', query.stateMachineArn, [r.version]),
      );
    });
  }

  deleteStateMachineVersion(versionArn: string): Promise<DeleteVersionResult> {
    return this.writer.call('deleteStateMachineVersion', versionArn);
  }

  createStateMachineAlias(alias: StateMachineAliasRecord, maxAliases: number): Promise<AliasWriteResult> {
    return this.writer.call('createStateMachineAlias', alias, maxAliases);
  }

  getStateMachineAlias(aliasArn: string): Promise<StateMachineAliasRecord | undefined> {
    return attempt(() => {
      const r = this.s.getAlias.get(aliasArn) as AliasRow | undefined;
      return r === undefined ? undefined : toAlias(r);
    });
  }

  updateStateMachineAlias(aliasArn: string, change: AliasChange): Promise<AliasWriteResult> {
    return this.writer.call('updateStateMachineAlias', aliasArn, change);
  }

  deleteStateMachineAlias(aliasArn: string): Promise<boolean> {
    return this.writer.call('deleteStateMachineAlias', aliasArn);
  }

  listStateMachineAliases(
    query: { stateMachineArn: string; versionArn?: string | undefined } & PageRequest,
  ): Promise<Page<StateMachineAliasRecord>> {
    return attempt(() => {
      const scope = `${query.stateMachineArn}|${query.versionArn ?? ''}`;
      const [date, arn] =
        query.nextToken === undefined ? [-1, ''] : decodePageToken(query.nextToken, 'alias', scope, 'ns');
      const limit = limitOf(query) + 1;
      const rows = (
        query.versionArn === undefined
          ? this.s.listAliases.all(query.stateMachineArn, date, arn, limit)
          : this.s.listAliasesOfVersion.all(query.stateMachineArn, query.versionArn, date, arn, limit)
      ) as AliasRow[];
      return paginate(rows, query, toAlias, (r) => encodePageToken('alias', scope, [r.creation_date, r.arn]));
    });
  }

  // ---- executions ----------------------------------------------------------------------------

  async createExecution(exec: NewExecution, first: StepChanges): Promise<CreateResult<ExecutionRecord>> {
    const [outcome] = await this.commit([
      { ...first, executionArn: exec.executionArn, expectedVersion: 0, create: exec },
    ]);
    if (outcome === 'ok') return { created: true };
    const existing = await this.getExecution(exec.executionArn);
    if (existing === undefined)
      throw new StoreConflict(`execution ${exec.executionArn}: task id or token taken`);
    return { created: false, existing };
  }

  getExecution(executionArn: string): Promise<ExecutionRecord | undefined> {
    return attempt(() => {
      const r = this.s.getExecution.get(executionArn) as ExecutionFullRow | undefined;
      if (r === undefined) return undefined;
      const rec: ExecutionRecord = { ...toSummary(r), input: r.input, definitionId: r.definition_id };
      if (r.output !== null) rec.output = r.output;
      if (r.error !== null) rec.error = r.error;
      if (r.cause !== null) rec.cause = r.cause;
      return rec;
    });
  }

  listExecutions(
    query: {
      stateMachineArn: string;
      status?: ExecutionStatus | undefined;
      by?: 'version' | 'alias' | undefined;
    } & PageRequest,
  ): Promise<Page<ExecutionSummary>> {
    return attempt(() => {
      const scope = `${query.stateMachineArn}|${query.status ?? ''}|${query.by ?? ''}`;
      const [date, id] =
        query.nextToken === undefined ? [TOP, TOP] : decodePageToken(query.nextToken, 'ex', scope, 'nn');
      const limit = limitOf(query) + 1;
      const by = query.by ?? 'machine';
      const stmts = this.s.listExecutionsBy[by];
      const rows = (
        query.status === undefined
          ? stmts.all.all(query.stateMachineArn, date, id, limit)
          : stmts.status.all(query.stateMachineArn, query.status, date, id, limit)
      ) as ExecutionRow[];
      return paginate(rows, query, toSummary, (r) => encodePageToken('ex', scope, [r.start_date, r.id]));
    });
  }

  listRunningExecutions(page: PageRequest): Promise<Page<string>> {
    return attempt(() => {
      const after =
        page.nextToken === undefined ? 0 : (decodePageToken(page.nextToken, 'run', '', 'n')[0] as number);
      const rows = this.s.listRunning.all(after, limitOf(page) + 1) as { id: number; arn: string }[];
      return paginate(
        rows,
        page,
        (r) => r.arn,
        (r) => encodePageToken('run', '', [r.id]),
      );
    });
  }

  loadState(executionArn: string): Promise<LoadedState | undefined> {
    return attempt(() => {
      const r = this.s.loadState.get(executionArn) as LoadedStateRow | undefined;
      return r === undefined ? undefined : toLoadedState(r);
    });
  }

  commit(writes: readonly StepWrite[]): Promise<CommitOutcome[]> {
    // Serialised here, before the writer sees it: a bad value fails the call cleanly.
    let encoded;
    try {
      encoded = encodeWrites(writes, this.heldDefinitions);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const committed = this.writer.call('commit', encoded);
    // Definitions stored by the creates that succeeded are held from now on (never deleted).
    const created = writes.some((w) => w.create?.definitionId !== undefined);
    return created
      ? committed.then((outcomes) => {
          writes.forEach((w, i) => {
            const id = w.create?.definitionId;
            if (id !== undefined && outcomes[i] === 'ok') {
              if (this.heldDefinitions.size >= 10_000) this.heldDefinitions.clear();
              this.heldDefinitions.add(id);
            }
          });
          return outcomes;
        })
      : committed;
  }

  history(
    executionArn: string,
    query: { reverse?: boolean | undefined } & PageRequest,
  ): Promise<Page<HistoryEvent> | undefined> {
    return attempt(() => {
      const ex = this.s.executionId.get(executionArn) as { id: number } | undefined;
      if (ex === undefined) return undefined;
      const reverse = query.reverse === true;
      const scope = `${executionArn}|${reverse ? 'r' : 'f'}`;
      const after =
        query.nextToken === undefined
          ? reverse
            ? TOP
            : 0
          : (decodePageToken(query.nextToken, 'h', scope, 'n')[0] as number);
      const stmt = reverse ? this.s.historyReverse : this.s.history;
      const rows = stmt.all(ex.id, after, limitOf(query) + 1) as { event_id: number; body: string }[];
      return paginate(
        rows,
        query,
        (r) => JSON.parse(r.body) as HistoryEvent,
        (r) => encodePageToken('h', scope, [r.event_id]),
      );
    });
  }

  // ---- timers --------------------------------------------------------------------------------

  dueTimers(now: number, limit: number): Promise<TimerRow[]> {
    return attempt(() =>
      (
        this.s.dueTimers.all(now, limitOf({ limit })) as { arn: string; timer_id: string; due_time: number }[]
      ).map((r) => ({ executionArn: r.arn, timerId: r.timer_id, dueTime: r.due_time })),
    );
  }

  nextTimerDue(): Promise<number | undefined> {
    return attempt(() => (this.s.nextTimerDue.get() as { due: number | null }).due ?? undefined);
  }

  // ---- tasks, callbacks, activities ----------------------------------------------------------

  findTaskByToken(token: string): Promise<TaskRow | undefined> {
    return attempt(() => {
      const r = this.s.taskByToken.get(token) as TaskRowRaw | undefined;
      return r === undefined ? undefined : toTask(r);
    });
  }

  listTasks(page: PageRequest): Promise<Page<TaskRow>> {
    return attempt(() => {
      const after =
        page.nextToken === undefined ? 0 : (decodePageToken(page.nextToken, 'task', '', 'n')[0] as number);
      const rows = this.s.listTasks.all(after, limitOf(page) + 1) as TaskRowRaw[];
      return paginate(rows, page, toTask, (r) => encodePageToken('task', '', [r.seq]));
    });
  }

  createActivity(activity: ActivityRecord, tags: readonly Tag[] = []): Promise<CreateResult<ActivityRecord>> {
    return this.writer.call('createActivity', activity, tags);
  }

  getActivity(arn: string): Promise<ActivityRecord | undefined> {
    return attempt(() => this.activity(arn));
  }

  deleteActivity(arn: string): Promise<boolean> {
    return this.writer.call('deleteActivity', arn);
  }

  listActivities(page: PageRequest): Promise<Page<ActivityRecord>> {
    return attempt(() => {
      const after =
        page.nextToken === undefined ? '' : (decodePageToken(page.nextToken, 'act', '', 's')[0] as string);
      const rows = this.s.listActivities.all(after, limitOf(page) + 1) as {
        arn: string;
        name: string;
        creation_date: number;
      }[];
      return paginate(
        rows,
        page,
        (r) => ({ arn: r.arn, name: r.name, creationDate: r.creation_date }),
        (r) => encodePageToken('act', '', [r.arn]),
      );
    });
  }

  claimActivityTask(activityArn: string, workerName: string, now: number): Promise<TaskRow | undefined> {
    return this.writer.call('claimActivityTask', activityArn, workerName, now);
  }

  // ---- tags ----------------------------------------------------------------------------------

  tagResource(arn: string, tags: readonly Tag[]): Promise<void> {
    return this.writer.call('tagResource', arn, tags);
  }

  untagResource(arn: string, keys: readonly string[]): Promise<void> {
    return this.writer.call('untagResource', arn, keys);
  }

  listTags(arn: string): Promise<Tag[]> {
    return attempt(() => this.s.listTags.all(arn) as Tag[]);
  }

  // ---- internals -----------------------------------------------------------------------------

  private stateMachine(arn: string): StateMachineRecord | undefined {
    const r = this.s.getStateMachine.get(arn) as StateMachineRow | undefined;
    return r === undefined ? undefined : toStateMachine(r);
  }

  private activity(arn: string): ActivityRecord | undefined {
    const r = this.s.getActivity.get(arn) as { arn: string; name: string; creation_date: number } | undefined;
    return r === undefined ? undefined : { arn: r.arn, name: r.name, creationDate: r.creation_date };
  }
}

// ---- helpers ---------------------------------------------------------------------------------

/** Runs synchronous work as a promise: a throw becomes a rejection. */
function attempt<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}

/** Applies pending migrations; refuses a database written by a newer schema. */
function migrate(db: Database.Database, path: string): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  db.transaction(() => {
    const current =
      (db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null }).v ?? 0;
    if (current > SQLITE_SCHEMA_VERSION) {
      throw new StoreSchemaError(
        `${path} has schema version ${current}, newer than this Stepwise supports (${SQLITE_SCHEMA_VERSION}): ` +
          'upgrade Stepwise, or point it at another data directory',
      );
    }
    const record = db.prepare(
      'INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)',
    );
    for (const m of migrations) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      record.run(m.version, m.description, Date.now());
    }
  }).immediate();
}

function prepare(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    getDefinition: p('SELECT text FROM definitions WHERE id = ?'),

    getStateMachine:
      p(`SELECT ${SM_COLUMNS} FROM state_machines s JOIN definitions d ON d.id = s.definition_id
      WHERE s.arn = ?`),
    listStateMachines:
      p(`SELECT ${SM_COLUMNS} FROM state_machines s JOIN definitions d ON d.id = s.definition_id
      WHERE s.arn > ? ORDER BY s.arn LIMIT ?`),

    executionId: p('SELECT id FROM executions WHERE arn = ?'),
    getExecution: p(`SELECT ${EXECUTION_COLUMNS}, definition_id, input, output, error, cause FROM executions
      WHERE arn = ?`),
    // By state machine, version or alias; each served by its index (status filtered on the way).
    listExecutionsBy: Object.fromEntries(
      (
        [
          ['machine', 'state_machine_arn'],
          ['version', 'state_machine_version_arn'],
          ['alias', 'state_machine_alias_arn'],
        ] as const
      ).map(([by, column]) => [
        by,
        {
          all: p(`SELECT ${EXECUTION_COLUMNS} FROM executions
            WHERE ${column} = ? AND (start_date, id) < (?, ?) ORDER BY start_date DESC, id DESC LIMIT ?`),
          status: p(`SELECT ${EXECUTION_COLUMNS} FROM executions
            WHERE ${column} = ? AND status = ? AND (start_date, id) < (?, ?)
            ORDER BY start_date DESC, id DESC LIMIT ?`),
        },
      ]),
    ) as Record<'machine' | 'version' | 'alias', { all: Database.Statement; status: Database.Statement }>,

    getVersion: p(`SELECT ${VERSION_COLUMNS} FROM state_machine_versions v
      JOIN definitions d ON d.id = v.definition_id WHERE v.arn = ?`),
    listVersions: p(`SELECT ${VERSION_COLUMNS} FROM state_machine_versions v
      JOIN definitions d ON d.id = v.definition_id
      WHERE v.state_machine_arn = ? AND v.version < ? ORDER BY v.version DESC LIMIT ?`),
    getAlias: p(`${ALIAS_SELECT_SQLITE} WHERE a.arn = ?`),
    listAliases: p(`${ALIAS_SELECT_SQLITE} WHERE a.state_machine_arn = ? AND (a.creation_date, a.arn) > (?, ?)
      ORDER BY a.creation_date, a.arn LIMIT ?`),
    listAliasesOfVersion: p(`${ALIAS_SELECT_SQLITE} WHERE a.state_machine_arn = ?
      AND EXISTS (SELECT 1 FROM alias_routes r WHERE r.alias_arn = a.arn AND r.version_arn = ?)
      AND (a.creation_date, a.arn) > (?, ?) ORDER BY a.creation_date, a.arn LIMIT ?`),
    listRunning: p(`SELECT id, arn FROM executions WHERE status = 'RUNNING' AND id > ? ORDER BY id LIMIT ?`),
    loadState: p(`SELECT s.state, s.fixed, s.version, e.definition_id, e.input FROM executions e
      JOIN states s ON s.execution_id = e.id WHERE e.arn = ?`),

    history: p(
      'SELECT event_id, body FROM events WHERE execution_id = ? AND event_id > ? ORDER BY event_id LIMIT ?',
    ),
    historyReverse: p(`SELECT event_id, body FROM events WHERE execution_id = ? AND event_id < ?
      ORDER BY event_id DESC LIMIT ?`),

    dueTimers:
      p(`SELECT e.arn, t.timer_id, t.due_time FROM timers t JOIN executions e ON e.id = t.execution_id
      WHERE t.due_time <= ? ORDER BY t.due_time, t.execution_id, t.timer_id LIMIT ?`),
    nextTimerDue: p('SELECT min(due_time) AS due FROM timers'),

    taskByToken: p(
      `SELECT ${TASK_COLUMNS} FROM tasks t JOIN executions e ON e.id = t.execution_id WHERE t.token = ?`,
    ),
    listTasks: p(`SELECT ${TASK_COLUMNS} FROM tasks t JOIN executions e ON e.id = t.execution_id
      WHERE t.seq > ? ORDER BY t.seq LIMIT ?`),

    getActivity: p('SELECT arn, name, creation_date FROM activities WHERE arn = ?'),
    listActivities: p('SELECT arn, name, creation_date FROM activities WHERE arn > ? ORDER BY arn LIMIT ?'),

    listTags: p('SELECT key, value FROM tags WHERE resource_arn = ? ORDER BY key'),
  };
}
