/**
 * The SQLite store (better-sqlite3): one database file in WAL mode, prepared statements, one
 * transaction per write call. better-sqlite3 is synchronous; the methods wrap it in promises to
 * fit the `Store` interface. Several processes may open the same file (writers wait for each
 * other through `busy_timeout`), though the runtime is meant to be its only writer.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { ExecutionStatus, HistoryEvent } from '../../interpreter/types.js';
import { migrations } from './sqlite-migrations.js';
import {
  EXECUTION_COLUMNS,
  SM_COLUMNS,
  TASK_COLUMNS,
  TOP,
  definitionIdOf,
  limitOf,
  paginate,
  toStateMachine,
  toSummary,
  toTask,
  type ExecutionFullRow,
  type ExecutionRow,
  type StateMachineRow,
  type TaskRowRaw,
} from './rows.js';
import {
  StoreConflict,
  StoreSchemaError,
  decodePageToken,
  encodePageToken,
  type ActivityRecord,
  type CommitOutcome,
  type CreateResult,
  type ExecutionRecord,
  type ExecutionSummary,
  type LoadedState,
  type NewExecution,
  type Page,
  type PageRequest,
  type StateMachineRecord,
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
}

/** Opens (creating and migrating if needed) the store in `options.dir`. */
export function openSqliteStore(options: SqliteStoreOptions = {}): Promise<SqliteStore> {
  return attempt(() => new SqliteStore(options));
}

export class SqliteStore implements Store {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly s: ReturnType<typeof prepare>;
  /** One batch entry inside the commit transaction, in a savepoint: a conflict undoes only it. */
  private readonly applyEntry: (w: StepWrite, state: string, events: string[]) => CommitOutcome;

  constructor(options: SqliteStoreOptions) {
    const dir = resolve(options.dir ?? '.stepwise');
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, SQLITE_FILE);
    this.db = new Database(this.path);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
      this.db.pragma('busy_timeout = 5000');
      migrate(this.db, this.path);
      this.s = prepare(this.db);
    } catch (e) {
      this.db.close();
      throw e;
    }
    this.applyEntry = this.db.transaction((w: StepWrite, state: string, events: string[]) =>
      this.apply(w, state, events),
    );
  }

  close(): Promise<void> {
    return attempt(() => {
      this.db.close();
    });
  }

  // ---- state machines ------------------------------------------------------------------------

  createStateMachine(
    sm: StateMachineRecord,
    tags: readonly Tag[] = [],
  ): Promise<CreateResult<StateMachineRecord>> {
    return this.write(() => {
      const definitionId = this.putDefinition(sm.definition);
      const r = this.s.insertStateMachine.run(
        sm.arn,
        sm.name,
        sm.type,
        definitionId,
        sm.roleArn,
        sm.revisionId,
        sm.creationDate,
        JSON.stringify(sm.options),
      );
      if (r.changes === 0) {
        const existing = this.stateMachine(sm.arn);
        if (existing === undefined) throw new Error('state machine vanished inside a transaction');
        return { created: false, existing };
      }
      this.putTags(sm.arn, tags);
      return { created: true };
    });
  }

  getStateMachine(arn: string): Promise<StateMachineRecord | undefined> {
    return attempt(() => this.stateMachine(arn));
  }

  updateStateMachine(
    sm: StateMachineRecord,
    expectedRevisionId: string,
  ): Promise<'updated' | 'missing' | 'conflict'> {
    return this.write(() => {
      const definitionId = this.putDefinition(sm.definition);
      const r = this.s.updateStateMachine.run(
        sm.type,
        definitionId,
        sm.roleArn,
        sm.revisionId,
        JSON.stringify(sm.options),
        sm.arn,
        expectedRevisionId,
      );
      if (r.changes === 1) return 'updated';
      return this.s.stateMachineExists.get(sm.arn) === undefined ? 'missing' : 'conflict';
    });
  }

  deleteStateMachine(arn: string): Promise<boolean> {
    return this.write(() => {
      this.s.deleteTags.run(arn);
      return this.s.deleteStateMachine.run(arn).changes > 0;
    });
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
    query: { stateMachineArn: string; status?: ExecutionStatus | undefined } & PageRequest,
  ): Promise<Page<ExecutionSummary>> {
    return attempt(() => {
      const scope = `${query.stateMachineArn}|${query.status ?? ''}`;
      const [date, id] =
        query.nextToken === undefined ? [TOP, TOP] : decodePageToken(query.nextToken, 'ex', scope, 'nn');
      const limit = limitOf(query) + 1;
      const rows = (
        query.status === undefined
          ? this.s.listExecutions.all(query.stateMachineArn, date, id, limit)
          : this.s.listExecutionsByStatus.all(query.stateMachineArn, query.status, date, id, limit)
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
      const r = this.s.loadState.get(executionArn) as
        { state: string; version: number; definition_id: string } | undefined;
      if (r === undefined) return undefined;
      return { state: JSON.parse(r.state) as unknown, version: r.version, definitionId: r.definition_id };
    });
  }

  commit(writes: readonly StepWrite[]): Promise<CommitOutcome[]> {
    return attempt(() => {
      // Serialise before the transaction: keeps it short, and a bad value fails the call cleanly.
      const texts = writes.map((w) => {
        const state = JSON.stringify(w.state) as string | undefined;
        if (state === undefined) throw new TypeError(`state of ${w.executionArn} is not JSON-serialisable`);
        return { state, events: (w.events ?? []).map((e) => JSON.stringify(e)) };
      });
      try {
        // Fast path: version and ARN conflicts are detected before an entry writes anything.
        return this.tx(() => writes.map((w, i) => this.apply(w, texts[i]!.state, texts[i]!.events)));
      } catch (e) {
        if (!isConstraintError(e)) throw e;
      }
      // An entry broke a unique key midway (a duplicate event id, task id or token): redo the
      // batch with a savepoint per entry, so only that entry is undone.
      return this.tx(() =>
        writes.map((w, i) => {
          try {
            return this.applyEntry(w, texts[i]!.state, texts[i]!.events);
          } catch (e) {
            if (isConstraintError(e)) return 'conflict';
            throw e;
          }
        }),
      );
    });
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
    return this.write(() => {
      const r = this.s.insertActivity.run(activity.arn, activity.name, activity.creationDate);
      if (r.changes === 0) {
        const existing = this.activity(activity.arn);
        if (existing === undefined) throw new Error('activity vanished inside a transaction');
        return { created: false, existing };
      }
      this.putTags(activity.arn, tags);
      return { created: true };
    });
  }

  getActivity(arn: string): Promise<ActivityRecord | undefined> {
    return attempt(() => this.activity(arn));
  }

  deleteActivity(arn: string): Promise<boolean> {
    return this.write(() => {
      this.s.deleteTags.run(arn);
      return this.s.deleteActivity.run(arn).changes > 0;
    });
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
    return this.write(() => {
      // One UPDATE picks and marks the oldest queued task; the write lock makes it exclusive.
      const claimed = this.s.claimTask.get(workerName, now, activityArn) as { seq: number } | undefined;
      if (claimed === undefined) return undefined;
      return toTask(this.s.taskBySeq.get(claimed.seq) as TaskRowRaw);
    });
  }

  // ---- tags ----------------------------------------------------------------------------------

  tagResource(arn: string, tags: readonly Tag[]): Promise<void> {
    return this.write(() => this.putTags(arn, tags));
  }

  untagResource(arn: string, keys: readonly string[]): Promise<void> {
    return this.write(() => {
      for (const key of keys) this.s.deleteTag.run(arn, key);
    });
  }

  listTags(arn: string): Promise<Tag[]> {
    return attempt(() => this.s.listTags.all(arn) as Tag[]);
  }

  // ---- internals -----------------------------------------------------------------------------

  /** A write transaction; IMMEDIATE takes the write lock up front, so concurrent writers wait instead of failing. */
  private tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private write<T>(fn: () => T): Promise<T> {
    return attempt(() => this.tx(fn));
  }

  private apply(w: StepWrite, stateText: string, eventTexts: string[]): CommitOutcome {
    const ended = w.status !== 'RUNNING';
    let id: number;
    if (w.create !== undefined) {
      const c = w.create;
      if (w.expectedVersion !== 0 || c.executionArn !== w.executionArn) {
        throw new TypeError(`create of ${w.executionArn}: expectedVersion must be 0 and the ARNs equal`);
      }
      if (this.s.executionId.get(c.executionArn) !== undefined) return 'conflict';
      const r = this.s.insertExecution.run(
        c.executionArn,
        c.stateMachineArn,
        c.name,
        this.putDefinition(c.definition),
        w.status,
        c.startDate,
        ended ? (w.stopDate ?? null) : null,
        c.input,
        w.output ?? null,
        w.error ?? null,
        w.cause ?? null,
      );
      id = Number(r.lastInsertRowid);
      this.s.insertState.run(id, stateText);
    } else {
      const cur = this.s.currentVersion.get(w.executionArn) as
        { id: number; version: number; status: string } | undefined;
      if (cur === undefined || cur.version !== w.expectedVersion) return 'conflict';
      id = cur.id;
      this.s.updateState.run(stateText, id);
      if (cur.status !== w.status) {
        this.s.updateExecution.run(
          w.status,
          w.stopDate ?? null,
          w.output ?? null,
          w.error ?? null,
          w.cause ?? null,
          id,
        );
      }
    }
    (w.events ?? []).forEach((e, i) => this.s.insertEvent.run(id, e.id, eventTexts[i]));
    if (ended) {
      // A closed execution waits for nothing: its tokens stop resolving, its timers never fire.
      this.s.deleteTimersOf.run(id);
      this.s.deleteTasksOf.run(id);
      return 'ok';
    }
    for (const timerId of w.timersRemoved ?? []) this.s.deleteTimer.run(id, timerId);
    for (const taskId of w.tasksRemoved ?? []) this.s.deleteTask.run(id, taskId);
    for (const t of w.timersSet ?? []) this.s.setTimer.run(id, t.timerId, t.dueTime);
    for (const t of w.tasksAdded ?? []) {
      this.s.insertTask.run(
        id,
        t.taskId,
        JSON.stringify(t.request),
        t.activityArn === undefined ? 'running' : 'queued',
        t.token ?? null,
        t.activityArn ?? null,
      );
    }
    return 'ok';
  }

  private putDefinition(text: string): string {
    const id = definitionIdOf(text);
    this.s.insertDefinition.run(id, text);
    return id;
  }

  private putTags(arn: string, tags: readonly Tag[]): void {
    for (const t of tags) this.s.upsertTag.run(arn, t.key, t.value);
  }

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

function isConstraintError(e: unknown): boolean {
  return e instanceof Database.SqliteError && e.code.startsWith('SQLITE_CONSTRAINT');
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
    insertDefinition: p('INSERT OR IGNORE INTO definitions (id, text) VALUES (?, ?)'),
    getDefinition: p('SELECT text FROM definitions WHERE id = ?'),

    insertStateMachine: p(`INSERT OR IGNORE INTO state_machines
      (arn, name, type, definition_id, role_arn, revision_id, creation_date, options) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    getStateMachine:
      p(`SELECT ${SM_COLUMNS} FROM state_machines s JOIN definitions d ON d.id = s.definition_id
      WHERE s.arn = ?`),
    stateMachineExists: p('SELECT 1 FROM state_machines WHERE arn = ?'),
    updateStateMachine:
      p(`UPDATE state_machines SET type = ?, definition_id = ?, role_arn = ?, revision_id = ?,
      options = ? WHERE arn = ? AND revision_id = ?`),
    deleteStateMachine: p('DELETE FROM state_machines WHERE arn = ?'),
    listStateMachines:
      p(`SELECT ${SM_COLUMNS} FROM state_machines s JOIN definitions d ON d.id = s.definition_id
      WHERE s.arn > ? ORDER BY s.arn LIMIT ?`),

    insertExecution:
      p(`INSERT INTO executions (arn, state_machine_arn, name, definition_id, status, start_date,
      stop_date, input, output, error, cause) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    insertState: p('INSERT INTO states (execution_id, version, state) VALUES (?, 1, ?)'),
    currentVersion:
      p(`SELECT e.id, s.version, e.status FROM executions e JOIN states s ON s.execution_id = e.id
      WHERE e.arn = ?`),
    updateState: p('UPDATE states SET state = ?, version = version + 1 WHERE execution_id = ?'),
    updateExecution: p(
      'UPDATE executions SET status = ?, stop_date = ?, output = ?, error = ?, cause = ? WHERE id = ?',
    ),
    executionId: p('SELECT id FROM executions WHERE arn = ?'),
    getExecution: p(`SELECT ${EXECUTION_COLUMNS}, definition_id, input, output, error, cause FROM executions
      WHERE arn = ?`),
    listExecutions: p(`SELECT ${EXECUTION_COLUMNS} FROM executions
      WHERE state_machine_arn = ? AND (start_date, id) < (?, ?) ORDER BY start_date DESC, id DESC LIMIT ?`),
    listExecutionsByStatus: p(`SELECT ${EXECUTION_COLUMNS} FROM executions
      WHERE state_machine_arn = ? AND status = ? AND (start_date, id) < (?, ?)
      ORDER BY start_date DESC, id DESC LIMIT ?`),
    listRunning: p(`SELECT id, arn FROM executions WHERE status = 'RUNNING' AND id > ? ORDER BY id LIMIT ?`),
    loadState:
      p(`SELECT s.state, s.version, e.definition_id FROM executions e JOIN states s ON s.execution_id = e.id
      WHERE e.arn = ?`),

    insertEvent: p('INSERT INTO events (execution_id, event_id, body) VALUES (?, ?, ?)'),
    history: p(
      'SELECT event_id, body FROM events WHERE execution_id = ? AND event_id > ? ORDER BY event_id LIMIT ?',
    ),
    historyReverse: p(`SELECT event_id, body FROM events WHERE execution_id = ? AND event_id < ?
      ORDER BY event_id DESC LIMIT ?`),

    setTimer: p(`INSERT INTO timers (execution_id, timer_id, due_time) VALUES (?, ?, ?)
      ON CONFLICT (execution_id, timer_id) DO UPDATE SET due_time = excluded.due_time`),
    deleteTimer: p('DELETE FROM timers WHERE execution_id = ? AND timer_id = ?'),
    deleteTimersOf: p('DELETE FROM timers WHERE execution_id = ?'),
    dueTimers:
      p(`SELECT e.arn, t.timer_id, t.due_time FROM timers t JOIN executions e ON e.id = t.execution_id
      WHERE t.due_time <= ? ORDER BY t.due_time, t.execution_id, t.timer_id LIMIT ?`),
    nextTimerDue: p('SELECT min(due_time) AS due FROM timers'),

    insertTask: p(`INSERT INTO tasks (execution_id, task_id, request, status, token, activity_arn)
      VALUES (?, ?, ?, ?, ?, ?)`),
    deleteTask: p('DELETE FROM tasks WHERE execution_id = ? AND task_id = ?'),
    deleteTasksOf: p('DELETE FROM tasks WHERE execution_id = ?'),
    taskByToken: p(
      `SELECT ${TASK_COLUMNS} FROM tasks t JOIN executions e ON e.id = t.execution_id WHERE t.token = ?`,
    ),
    taskBySeq: p(
      `SELECT ${TASK_COLUMNS} FROM tasks t JOIN executions e ON e.id = t.execution_id WHERE t.seq = ?`,
    ),
    listTasks: p(`SELECT ${TASK_COLUMNS} FROM tasks t JOIN executions e ON e.id = t.execution_id
      WHERE t.seq > ? ORDER BY t.seq LIMIT ?`),
    claimTask: p(`UPDATE tasks SET status = 'claimed', worker_name = ?, claimed_at = ?
      WHERE seq = (SELECT seq FROM tasks WHERE activity_arn = ? AND status = 'queued' ORDER BY seq LIMIT 1)
      RETURNING seq`),

    insertActivity: p('INSERT OR IGNORE INTO activities (arn, name, creation_date) VALUES (?, ?, ?)'),
    getActivity: p('SELECT arn, name, creation_date FROM activities WHERE arn = ?'),
    deleteActivity: p('DELETE FROM activities WHERE arn = ?'),
    listActivities: p('SELECT arn, name, creation_date FROM activities WHERE arn > ? ORDER BY arn LIMIT ?'),

    upsertTag: p(`INSERT INTO tags (resource_arn, key, value) VALUES (?, ?, ?)
      ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value`),
    deleteTag: p('DELETE FROM tags WHERE resource_arn = ? AND key = ?'),
    deleteTags: p('DELETE FROM tags WHERE resource_arn = ?'),
    listTags: p('SELECT key, value FROM tags WHERE resource_arn = ? ORDER BY key'),
  };
}
