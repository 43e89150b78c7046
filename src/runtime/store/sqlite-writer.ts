/**
 * Every write of the SQLite store, as synchronous methods over one connection. The store runs a
 * writer either on its own connection in a worker thread (the default for the engine: SQLite's
 * work then overlaps the interpreter's on the second core) or inline on the main connection.
 * Arguments and results are plain data, so the same methods serve both through `postMessage`.
 */
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';

import type { ExecutionStatus } from '../../interpreter/types.js';
import {
  ALIAS_SELECT_SQLITE,
  SM_COLUMNS,
  TASK_COLUMNS,
  VERSION_COLUMNS,
  definitionIdOf,
  toAlias,
  toStateMachine,
  toTask,
  toVersion,
  type AliasRow,
  type StateMachineRow,
  type TaskRowRaw,
  type VersionRow,
} from './rows.js';
import type {
  ActivityRecord,
  AliasRoute,
  AliasWriteResult,
  CommitOutcome,
  CreateResult,
  NewExecution,
  AliasChange,
  DeleteVersionResult,
  PublishVersionRequest,
  PublishVersionResult,
  StateMachineAliasRecord,
  StateMachineRecord,
  StepWrite,
  Tag,
  TaskRow,
} from './types.js';

/**
 * A `StepWrite` with its JSON serialised on the caller's thread, as the writer receives it
 * (through `postMessage` when it runs on a thread). Structured cloning costs per string, so a
 * step's events travel as one text. Every field is present, so that every write has one shape
 * (the writer's code stays monomorphic).
 */
export interface EncodedWrite {
  executionArn: string;
  expectedVersion: number;
  status: ExecutionStatus;
  state: string;
  /** Event ids, and the events' JSON texts joined by newlines (JSON.stringify writes none). */
  eventIds: readonly number[];
  events: string;
  timersSet: readonly { timerId: string; dueTime: number }[];
  timersRemoved: readonly string[];
  tasksAdded: readonly {
    taskId: string;
    request: string;
    token: string | null;
    activityArn: string | null;
  }[];
  tasksRemoved: readonly string[];
  stopDate: number | null;
  output: string | null;
  error: string | null;
  cause: string | null;
  create?: NewExecution | undefined;
}

const NONE: readonly never[] = [];

/**
 * Serialises a batch; a value that is not JSON fails the call before anything is written. A
 * create that names its definition by id carries the text only if no earlier create of the
 * batch does and the id is not `held` (stored by an acknowledged commit): the text may be
 * megabytes, and would otherwise cross to the writer on every start.
 */
export function encodeWrites(writes: readonly StepWrite[], held?: ReadonlySet<string>): EncodedWrite[] {
  const sent = new Set<string>();
  return writes.map((w) => {
    const state = JSON.stringify(w.state) as string | undefined;
    if (state === undefined) throw new TypeError(`state of ${w.executionArn} is not JSON-serialisable`);
    const events = w.events ?? NONE;
    let ids: readonly number[] = NONE;
    let text = '';
    if (events.length > 0) {
      const a: number[] = new Array<number>(events.length);
      for (let i = 0; i < events.length; i++) {
        a[i] = events[i]!.id;
        text += (i > 0 ? '\n' : '') + JSON.stringify(events[i]);
      }
      ids = a;
    }
    const added = w.tasksAdded ?? NONE;
    const e: EncodedWrite = {
      executionArn: w.executionArn,
      expectedVersion: w.expectedVersion,
      status: w.status,
      state,
      eventIds: ids,
      events: text,
      timersSet: w.timersSet ?? NONE,
      timersRemoved: w.timersRemoved ?? NONE,
      tasksAdded:
        added.length === 0
          ? NONE
          : added.map((t) => ({
              taskId: t.taskId,
              request: JSON.stringify(t.request),
              token: t.token ?? null,
              activityArn: t.activityArn ?? null,
            })),
      tasksRemoved: w.tasksRemoved ?? NONE,
      stopDate: w.stopDate ?? null,
      output: w.output ?? null,
      error: w.error ?? null,
      cause: w.cause ?? null,
    };
    const c = w.create;
    if (c !== undefined) {
      const id = c.definitionId;
      if (id !== undefined && (held?.has(id) === true || sent.has(id))) {
        // Held, or carried by an earlier create of this batch (see putBatchDefinitions).
        e.create = { ...c, definition: '' };
      } else {
        if (id !== undefined) sent.add(id);
        e.create = c;
      }
    }
    return e;
  });
}

/** Rows per multi-row event INSERT (a step records a handful of events; a Map state more). */
const EVENTS_PER_INSERT = 16;

let loadedSqlite: typeof Database | undefined;

/** Opens a connection with the store's settings. */
export function openConnection(path: string, synchronous: 'FULL' | 'NORMAL'): Database.Database {
  // better-sqlite3 is loaded when a store is opened: importing Stepwise must not load it.
  loadedSqlite ??= createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  const db = new loadedSqlite(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma('busy_timeout = 5000');
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

function isConstraintError(e: unknown): boolean {
  // A connection is open (so the module is loaded) whenever a statement can fail.
  return (
    loadedSqlite !== undefined &&
    e instanceof loadedSqlite.SqliteError &&
    e.code.startsWith('SQLITE_CONSTRAINT')
  );
}

export class SqliteWriter {
  private readonly s: ReturnType<typeof prepareWrites>;
  private readonly ids = new Map<string, number>();
  /** Multi-row event INSERTs, by row count (prepared on first use). */
  private readonly eventInserts: Database.Statement[] = [];
  /** One batch entry inside the commit transaction, in a savepoint: a conflict undoes only it. */
  private readonly applyEntry: (w: EncodedWrite) => CommitOutcome;

  constructor(private readonly db: Database.Database) {
    this.s = prepareWrites(db);
    this.applyEntry = db.transaction((w: EncodedWrite) => this.apply(w));
  }

  commit(writes: readonly EncodedWrite[]): CommitOutcome[] {
    try {
      // Fast path: version and ARN conflicts are detected before an entry writes anything.
      return this.tx(() => {
        this.putBatchDefinitions(writes);
        return writes.map((w) => this.apply(w));
      });
    } catch (e) {
      // Rolled back: ids remembered inside the transaction may name rows that do not exist.
      this.ids.clear();
      if (!isConstraintError(e)) throw e;
    }
    // An entry broke a unique key midway (a duplicate event id, task id or token): redo the
    // batch with a savepoint per entry, so only that entry is undone.
    try {
      return this.tx(() => {
        this.putBatchDefinitions(writes);
        return writes.map((w) => {
          try {
            return this.applyEntry(w);
          } catch (e) {
            this.ids.delete(w.executionArn);
            if (isConstraintError(e)) return 'conflict';
            throw e;
          }
        });
      });
    } catch (e) {
      this.ids.clear();
      throw e;
    }
  }

  createStateMachine(sm: StateMachineRecord, tags: readonly Tag[]): CreateResult<StateMachineRecord> {
    return this.tx(() => {
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
        const row = this.s.getStateMachine.get(sm.arn) as StateMachineRow | undefined;
        if (row === undefined) throw new Error('state machine vanished inside a transaction');
        return { created: false, existing: toStateMachine(row) };
      }
      this.putTags(sm.arn, tags);
      return { created: true };
    });
  }

  updateStateMachine(sm: StateMachineRecord, expectedRevisionId: string): 'updated' | 'missing' | 'conflict' {
    return this.tx(() => {
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

  deleteStateMachine(arn: string): boolean {
    return this.tx(() => {
      this.s.deleteTags.run(arn);
      this.s.deleteRoutesOfMachine.run(arn);
      this.s.deleteAliasesOfMachine.run(arn);
      this.s.deleteVersionsOfMachine.run(arn);
      return this.s.deleteStateMachine.run(arn).changes > 0;
    });
  }

  publishStateMachineVersion(stateMachineArn: string, p: PublishVersionRequest): PublishVersionResult {
    return this.tx(() => {
      const sm = this.s.smForPublish.get(stateMachineArn) as
        { revision_id: string; last_version: number } | undefined;
      if (sm === undefined) return { outcome: 'missing' };
      if (p.expectedRevisionId !== undefined && p.expectedRevisionId !== sm.revision_id)
        return { outcome: 'conflict', revisionId: sm.revision_id };
      const existing = this.s.versionOfRevision.get(stateMachineArn, sm.revision_id) as
        VersionRow | undefined;
      if (existing !== undefined) return { outcome: 'existing', version: toVersion(existing) };
      const count = (this.s.countVersions.get(stateMachineArn) as { n: number }).n;
      if (count >= p.maxVersions) return { outcome: 'limit' };
      const n = sm.last_version + 1;
      const arn = `${stateMachineArn}:${n}`;
      this.s.bumpVersion.run(n, stateMachineArn);
      this.s.insertVersion.run(arn, n, p.description ?? null, p.creationDate, stateMachineArn);
      return { outcome: 'created', version: toVersion(this.s.getVersion.get(arn) as VersionRow) };
    });
  }

  deleteStateMachineVersion(versionArn: string): DeleteVersionResult {
    return this.tx(() => {
      const names = (this.s.aliasesOfVersion.all(versionArn) as { name: string }[]).map((r) => r.name);
      if (names.length > 0) return { outcome: 'referenced', aliasNames: names };
      this.s.deleteVersion.run(versionArn);
      return { outcome: 'deleted' };
    });
  }

  createStateMachineAlias(alias: StateMachineAliasRecord, maxAliases: number): AliasWriteResult {
    return this.tx(() => {
      const existing = this.s.getAlias.get(alias.arn) as AliasRow | undefined;
      if (existing !== undefined) return { outcome: 'exists', existing: toAlias(existing) };
      const missing = this.missingVersion(alias.routingConfiguration);
      if (missing !== undefined) return { outcome: 'versionMissing', versionArn: missing };
      const count = (this.s.countAliases.get(alias.stateMachineArn) as { n: number }).n;
      if (count >= maxAliases) return { outcome: 'limit' };
      this.s.insertAlias.run(
        alias.arn,
        alias.stateMachineArn,
        alias.name,
        alias.description ?? null,
        alias.creationDate,
        alias.updateDate,
      );
      this.putRoutes(alias.arn, alias.routingConfiguration);
      return { outcome: 'created' };
    });
  }

  updateStateMachineAlias(aliasArn: string, change: AliasChange): AliasWriteResult {
    return this.tx(() => {
      if (this.s.getAlias.get(aliasArn) === undefined) return { outcome: 'missing' };
      if (change.routingConfiguration !== undefined) {
        const missing = this.missingVersion(change.routingConfiguration);
        if (missing !== undefined) return { outcome: 'versionMissing', versionArn: missing };
        this.s.deleteRoutes.run(aliasArn);
        this.putRoutes(aliasArn, change.routingConfiguration);
      }
      if (change.description !== undefined) this.s.setAliasDescription.run(change.description, aliasArn);
      this.s.setAliasUpdateDate.run(change.updateDate, aliasArn);
      return { outcome: 'updated' };
    });
  }

  deleteStateMachineAlias(aliasArn: string): boolean {
    return this.tx(() => {
      this.s.deleteRoutes.run(aliasArn);
      return this.s.deleteAlias.run(aliasArn).changes > 0;
    });
  }

  createActivity(activity: ActivityRecord, tags: readonly Tag[]): CreateResult<ActivityRecord> {
    return this.tx(() => {
      const r = this.s.insertActivity.run(activity.arn, activity.name, activity.creationDate);
      if (r.changes === 0) {
        const row = this.s.getActivity.get(activity.arn) as
          { arn: string; name: string; creation_date: number } | undefined;
        if (row === undefined) throw new Error('activity vanished inside a transaction');
        return {
          created: false,
          existing: { arn: row.arn, name: row.name, creationDate: row.creation_date },
        };
      }
      this.putTags(activity.arn, tags);
      return { created: true };
    });
  }

  deleteActivity(arn: string): boolean {
    return this.tx(() => {
      this.s.deleteTags.run(arn);
      return this.s.deleteActivity.run(arn).changes > 0;
    });
  }

  claimActivityTask(activityArn: string, workerName: string, now: number): TaskRow | undefined {
    return this.tx(() => {
      // One UPDATE picks and marks the oldest queued task; the write lock makes it exclusive.
      const claimed = this.s.claimTask.get(workerName, now, activityArn) as { seq: number } | undefined;
      if (claimed === undefined) return undefined;
      return toTask(this.s.taskBySeq.get(claimed.seq) as TaskRowRaw);
    });
  }

  tagResource(arn: string, tags: readonly Tag[]): void {
    this.tx(() => this.putTags(arn, tags));
  }

  untagResource(arn: string, keys: readonly string[]): void {
    this.tx(() => {
      for (const key of keys) this.s.deleteTag.run(arn, key);
    });
  }

  /** A write transaction; IMMEDIATE takes the write lock up front, so concurrent writers wait instead of failing. */
  private tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /**
   * A step's events in as few statements as possible, up to EVENTS_PER_INSERT rows per INSERT:
   * each statement run crosses into native code and steps its own program, whatever its rows.
   */
  private insertEvents(id: number, ids: readonly number[], bodies: readonly string[]): void {
    for (let i = 0; i < ids.length;) {
      const n = Math.min(ids.length - i, EVENTS_PER_INSERT);
      if (n === 1) {
        this.s.insertEvent.run(id, ids[i], bodies[i]);
      } else {
        const args: (number | string)[] = new Array<number | string>(n * 3);
        for (let k = 0; k < n; k++) {
          args[3 * k] = id;
          args[3 * k + 1] = ids[i + k]!;
          args[3 * k + 2] = bodies[i + k]!;
        }
        (this.eventInserts[n] ??= this.db.prepare(
          `INSERT INTO events (execution_id, event_id, body) VALUES ${new Array(n).fill('(?, ?, ?)').join(', ')}`,
        )).run(args);
      }
      i += n;
    }
  }

  private apply(w: EncodedWrite): CommitOutcome {
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
        c.stateMachineVersionArn ?? null,
        c.stateMachineAliasArn ?? null,
        c.definitionId ?? this.putDefinition(c.definition),
        w.status,
        c.startDate,
        ended ? w.stopDate : null,
        c.input,
        w.output,
        w.error,
        w.cause,
      );
      id = Number(r.lastInsertRowid);
      this.s.insertState.run(id, w.state, c.fixed ?? null);
      this.remember(c.executionArn, id);
    } else {
      const known = this.ids.get(w.executionArn);
      const found = known ?? (this.s.executionId.get(w.executionArn) as { id: number } | undefined)?.id;
      if (found === undefined) return 'conflict';
      id = found;
      if (known === undefined) this.remember(w.executionArn, id);
      // The version check is in the UPDATE: another writer of the file still trips it.
      if (this.s.updateState.run(w.state, id, w.expectedVersion).changes !== 1) return 'conflict';
      // Only the closing write changes the execution row (its version says it is the only one).
      if (ended) this.s.updateExecution.run(w.status, w.stopDate, w.output, w.error, w.cause, id);
    }
    if (w.eventIds.length > 0) this.insertEvents(id, w.eventIds, w.events.split('\n'));
    if (ended) {
      // A closed execution waits for nothing: its tokens stop resolving, its timers never fire.
      this.s.deleteTimersOf.run(id);
      this.s.deleteTasksOf.run(id);
      return 'ok';
    }
    for (const timerId of w.timersRemoved) this.s.deleteTimer.run(id, timerId);
    for (const taskId of w.tasksRemoved) this.s.deleteTask.run(id, taskId);
    for (const t of w.timersSet) this.s.setTimer.run(id, t.timerId, t.dueTime);
    for (const t of w.tasksAdded) {
      this.s.insertTask.run(
        id,
        t.taskId,
        t.request,
        t.activityArn === null ? 'running' : 'queued',
        t.token,
        t.activityArn,
      );
    }
    return 'ok';
  }

  /** Execution ids by ARN: rows are never deleted, so an id never changes. */
  private remember(arn: string, id: number): void {
    if (this.ids.size >= 100_000) this.ids.clear();
    this.ids.set(arn, id);
  }

  private putDefinition(text: string): string {
    const id = definitionIdOf(text);
    this.s.insertDefinition.run(id, text);
    return id;
  }

  /**
   * Stores the definitions the creates of a batch name by id, once each, before any write of
   * the batch: a create may then come without its text (`encodeWrites`), whichever write of the
   * batch carried it and whatever becomes of that write.
   */
  private putBatchDefinitions(writes: readonly EncodedWrite[]): void {
    for (const w of writes) {
      const c = w.create;
      if (c?.definitionId !== undefined && c.definition !== '') {
        this.s.insertDefinition.run(c.definitionId, c.definition);
      }
    }
  }

  private missingVersion(routes: readonly AliasRoute[]): string | undefined {
    return routes.find((r) => this.s.versionExists.get(r.stateMachineVersionArn) === undefined)
      ?.stateMachineVersionArn;
  }

  private putRoutes(aliasArn: string, routes: readonly AliasRoute[]): void {
    routes.forEach((r, i) => this.s.insertRoute.run(aliasArn, i, r.stateMachineVersionArn, r.weight));
  }

  private putTags(arn: string, tags: readonly Tag[]): void {
    for (const t of tags) this.s.upsertTag.run(arn, t.key, t.value);
  }
}

/** The writer's methods, as the worker thread serves them. */
export type WriterMethod =
  | 'commit'
  | 'createStateMachine'
  | 'updateStateMachine'
  | 'deleteStateMachine'
  | 'publishStateMachineVersion'
  | 'deleteStateMachineVersion'
  | 'createStateMachineAlias'
  | 'updateStateMachineAlias'
  | 'deleteStateMachineAlias'
  | 'createActivity'
  | 'deleteActivity'
  | 'claimActivityTask'
  | 'tagResource'
  | 'untagResource';

function prepareWrites(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    insertDefinition: p('INSERT OR IGNORE INTO definitions (id, text) VALUES (?, ?)'),
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

    smForPublish: p('SELECT revision_id, last_version FROM state_machines WHERE arn = ?'),
    versionOfRevision: p(`SELECT ${VERSION_COLUMNS} FROM state_machine_versions v
      JOIN definitions d ON d.id = v.definition_id
      WHERE v.state_machine_arn = ? AND v.revision_id = ? ORDER BY v.version DESC LIMIT 1`),
    countVersions: p('SELECT count(*) AS n FROM state_machine_versions WHERE state_machine_arn = ?'),
    bumpVersion: p('UPDATE state_machines SET last_version = ? WHERE arn = ?'),
    // The snapshot copies the machine's row as it stands inside this transaction.
    insertVersion:
      p(`INSERT INTO state_machine_versions (arn, state_machine_arn, version, type, definition_id,
      role_arn, revision_id, description, creation_date, options)
      SELECT ?, arn, ?, type, definition_id, role_arn, revision_id, ?, ?, options
      FROM state_machines WHERE arn = ?`),
    getVersion: p(`SELECT ${VERSION_COLUMNS} FROM state_machine_versions v
      JOIN definitions d ON d.id = v.definition_id WHERE v.arn = ?`),
    versionExists: p('SELECT 1 FROM state_machine_versions WHERE arn = ?'),
    deleteVersion: p('DELETE FROM state_machine_versions WHERE arn = ?'),
    deleteVersionsOfMachine: p('DELETE FROM state_machine_versions WHERE state_machine_arn = ?'),
    aliasesOfVersion: p(`SELECT a.name FROM alias_routes r JOIN state_machine_aliases a ON a.arn = r.alias_arn
      WHERE r.version_arn = ? ORDER BY a.name`),

    getAlias: p(`${ALIAS_SELECT_SQLITE} WHERE a.arn = ?`),
    countAliases: p('SELECT count(*) AS n FROM state_machine_aliases WHERE state_machine_arn = ?'),
    insertAlias:
      p(`INSERT INTO state_machine_aliases (arn, state_machine_arn, name, description, creation_date,
      update_date) VALUES (?, ?, ?, ?, ?, ?)`),
    setAliasDescription: p('UPDATE state_machine_aliases SET description = ? WHERE arn = ?'),
    setAliasUpdateDate: p('UPDATE state_machine_aliases SET update_date = ? WHERE arn = ?'),
    deleteAlias: p('DELETE FROM state_machine_aliases WHERE arn = ?'),
    deleteAliasesOfMachine: p('DELETE FROM state_machine_aliases WHERE state_machine_arn = ?'),
    insertRoute: p('INSERT INTO alias_routes (alias_arn, position, version_arn, weight) VALUES (?, ?, ?, ?)'),
    deleteRoutes: p('DELETE FROM alias_routes WHERE alias_arn = ?'),
    deleteRoutesOfMachine: p(`DELETE FROM alias_routes WHERE alias_arn IN
      (SELECT arn FROM state_machine_aliases WHERE state_machine_arn = ?)`),

    insertExecution: p(`INSERT INTO executions (arn, state_machine_arn, name, state_machine_version_arn,
      state_machine_alias_arn, definition_id, status, start_date, stop_date, input, output, error, cause)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    insertState: p('INSERT INTO states (execution_id, version, state, fixed) VALUES (?, 1, ?, ?)'),
    executionId: p('SELECT id FROM executions WHERE arn = ?'),
    updateState: p(
      'UPDATE states SET state = ?, version = version + 1 WHERE execution_id = ? AND version = ?',
    ),
    updateExecution: p(
      'UPDATE executions SET status = ?, stop_date = ?, output = ?, error = ?, cause = ? WHERE id = ?',
    ),
    insertEvent: p('INSERT INTO events (execution_id, event_id, body) VALUES (?, ?, ?)'),

    setTimer: p(`INSERT INTO timers (execution_id, timer_id, due_time) VALUES (?, ?, ?)
      ON CONFLICT (execution_id, timer_id) DO UPDATE SET due_time = excluded.due_time`),
    deleteTimer: p('DELETE FROM timers WHERE execution_id = ? AND timer_id = ?'),
    deleteTimersOf: p('DELETE FROM timers WHERE execution_id = ?'),

    insertTask: p(`INSERT INTO tasks (execution_id, task_id, request, status, token, activity_arn)
      VALUES (?, ?, ?, ?, ?, ?)`),
    deleteTask: p('DELETE FROM tasks WHERE execution_id = ? AND task_id = ?'),
    deleteTasksOf: p('DELETE FROM tasks WHERE execution_id = ?'),
    taskBySeq: p(
      `SELECT ${TASK_COLUMNS} FROM tasks t JOIN executions e ON e.id = t.execution_id WHERE t.seq = ?`,
    ),
    claimTask: p(`UPDATE tasks SET status = 'claimed', worker_name = ?, claimed_at = ?
      WHERE seq = (SELECT seq FROM tasks WHERE activity_arn = ? AND status = 'queued' ORDER BY seq LIMIT 1)
      RETURNING seq`),

    insertActivity: p('INSERT OR IGNORE INTO activities (arn, name, creation_date) VALUES (?, ?, ?)'),
    getActivity: p('SELECT arn, name, creation_date FROM activities WHERE arn = ?'),
    deleteActivity: p('DELETE FROM activities WHERE arn = ?'),

    upsertTag: p(`INSERT INTO tags (resource_arn, key, value) VALUES (?, ?, ?)
      ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value`),
    deleteTag: p('DELETE FROM tags WHERE resource_arn = ? AND key = ?'),
    deleteTags: p('DELETE FROM tags WHERE resource_arn = ?'),
  };
}

/** One call of a writer method with its arguments (what crosses to the worker thread). */
export type WriterCall = {
  [K in WriterMethod]: { method: K; args: Parameters<SqliteWriter[K]> };
}[WriterMethod];

/** Runs a call; the exhaustive switch keeps the argument types tied to each method. */
export function callWriter(w: SqliteWriter, c: WriterCall): unknown {
  switch (c.method) {
    case 'commit':
      return w.commit(...c.args);
    case 'createStateMachine':
      return w.createStateMachine(...c.args);
    case 'updateStateMachine':
      return w.updateStateMachine(...c.args);
    case 'deleteStateMachine':
      return w.deleteStateMachine(...c.args);
    case 'publishStateMachineVersion':
      return w.publishStateMachineVersion(...c.args);
    case 'deleteStateMachineVersion':
      return w.deleteStateMachineVersion(...c.args);
    case 'createStateMachineAlias':
      return w.createStateMachineAlias(...c.args);
    case 'updateStateMachineAlias':
      return w.updateStateMachineAlias(...c.args);
    case 'deleteStateMachineAlias':
      return w.deleteStateMachineAlias(...c.args);
    case 'createActivity':
      return w.createActivity(...c.args);
    case 'deleteActivity':
      return w.deleteActivity(...c.args);
    case 'claimActivityTask':
      return w.claimActivityTask(...c.args);
    case 'tagResource':
      return w.tagResource(...c.args);
    case 'untagResource':
      return w.untagResource(...c.args);
  }
}
