/**
 * The PostgreSQL store (`pg`): one schema per deployment, a bounded pool, parameterized SQL.
 * Same semantics as the SQLite store (ADR 0004); what differs is how (ADR 0006): group commit
 * applies a batch set-based (a few statements with array parameters, not a few per write),
 * concurrent writers serialise on row locks instead of a database lock, activity tasks are
 * claimed with `FOR UPDATE SKIP LOCKED`. For several nodes on one database it adds leases with
 * fencing tokens (`LeaseStore`) and LISTEN/NOTIFY wake-ups.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type pg from 'pg';

import type { ExecutionStatus, HistoryEvent } from '../../interpreter/types.js';
import { migrations } from './postgres-migrations.js';
import {
  ALIAS_SELECT_POSTGRES,
  EXECUTION_COLUMNS,
  SM_COLUMNS,
  TASK_COLUMNS,
  TOP,
  VERSION_COLUMNS,
  definitionIdOf,
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
  type AliasRoute,
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

let loadedPg: typeof pg | undefined;
/** `pg`, loaded when a PostgreSQL store is opened: importing Stepwise must not load it. */
function pgLib(): typeof pg {
  return (loadedPg ??= createRequire(import.meta.url)('pg') as typeof pg);
}

export const POSTGRES_SCHEMA_VERSION = migrations[migrations.length - 1]?.version ?? 0;

export interface PostgresStoreOptions {
  /** e.g. `postgres://user@host:5432/db`. */
  connectionString: string;
  /** Schema holding the tables, created if missing. Default `stepwise`. */
  schema?: string | undefined;
  /** Pool connections at most. Default 10. */
  poolSize?: number | undefined;
  /** Server-side limit per statement. Default 30 s. */
  statementTimeoutMs?: number | undefined;
  /** Shown in `pg_stat_activity`. Default `stepwise`. */
  applicationName?: string | undefined;
  /**
   * Channel notified by commits that queue activity tasks or set timers due within
   * `wakeWithinMs`, so idle nodes wake up (see `listen`). Default `<schema>_work` (so
   * `stepwise_work`): deployments sharing a database do not wake each other. `null`: off.
   */
  workChannel?: string | null | undefined;
  /** Default 5 s: nodes are expected to poll at least that often anyway. */
  wakeWithinMs?: number | undefined;
}

/**
 * Leases for several nodes sharing one database: an execution runs on the node holding its
 * lease. Times come from the database's clock, so nodes' clocks need not agree. See ADR 0006.
 */
export interface LeaseStore {
  /**
   * Takes (or extends, if `nodeId` holds it) the lease of an execution for `ttlMs`. Returns its
   * fencing token, which grows every time the lease changes hands; `undefined` if another node
   * holds an unexpired lease.
   */
  acquireLease(executionArn: string, nodeId: string, ttlMs: number): Promise<number | undefined>;
  /** Extends every unexpired lease of `nodeId`; returns their executions (a lease missing from it was lost). */
  renewLeases(nodeId: string, ttlMs: number): Promise<string[]>;
  /** Gives the lease up now (the token is kept: the next holder gets a greater one). */
  releaseLease(executionArn: string, nodeId: string): Promise<boolean>;
  /** RUNNING executions nobody holds a live lease of (orphans to adopt), in creation order. */
  listUnleasedExecutions(limit: number): Promise<string[]>;
}

/**
 * A `StepWrite` from a lease holder: with `fencingToken`, the write is a `conflict` unless the
 * execution's lease still carries that token (nobody took the lease over since).
 */
export interface FencedStepWrite extends StepWrite {
  fencingToken?: number | undefined;
}

/** `payload` is `undefined` after the listening connection was re-established: notifications may have been missed. */
export type NotificationHandler = (payload: string | undefined) => void;

/** Opens the store, creating the schema and applying migrations if needed (safe when several nodes start at once). */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const store = new PostgresStore(options);
  try {
    await store.migrate();
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
  return store;
}

export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

// Epoch milliseconds by the database's clock (leases only).
const NOW_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;
// First key of the two-key advisory lock ('SW'); the second is the schema's hash.
const MIGRATION_LOCK = 0x5357;
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
// Leaves room for the default work channel, `<schema>_work`.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,57}$/;

/** A batch entry, serialised before the transaction starts. */
interface Entry {
  index: number;
  w: StepWrite;
  state: string;
  eventIds: number[];
  eventBodies: string[];
  fencingToken: number | undefined;
  ended: boolean;
  /** Last due time per timer id: one upsert may not touch a row twice. */
  timersSet: Map<string, number>;
}

type Queryable = Pick<pg.PoolClient, 'query'>;

export class PostgresStore implements Store, LeaseStore {
  readonly schema: string;
  /** Idle connections the server dropped (restart, pg_terminate_backend); the pool replaced them. */
  connectionErrors = 0;
  private readonly pool: pg.Pool;
  /** See `PostgresStoreOptions.workChannel`. */
  readonly workChannel: string | null;
  private readonly wakeWithinMs: number;
  private listener: Listener | undefined;
  private closed = false;
  /** Batches commit on several pooled connections at once while the engine interprets. */
  readonly commitsInFlight: number;

  constructor(private readonly options: PostgresStoreOptions) {
    this.schema = options.schema ?? 'stepwise';
    if (!SCHEMA_NAME.test(this.schema)) throw new TypeError(`invalid schema name: ${this.schema}`);
    this.workChannel = options.workChannel === undefined ? `${this.schema}_work` : options.workChannel;
    if (this.workChannel !== null) checkChannel(this.workChannel);
    this.wakeWithinMs = options.wakeWithinMs ?? 5000;
    this.commitsInFlight = Math.max(1, Math.min(4, (options.poolSize ?? 10) >> 2));
    const types = new (pgLib().TypeOverrides)();
    // bigint columns hold epoch ms and row ids: safe integers, wanted as numbers.
    types.setTypeParser(pgLib().types.builtins.INT8, (v: string) => Number(v));
    this.pool = new (pgLib().Pool)({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: 10_000,
      // A crashed or stuck caller must not hold row locks forever.
      idle_in_transaction_session_timeout: 60_000,
      statement_timeout: options.statementTimeoutMs ?? 30_000,
      application_name: options.applicationName ?? 'stepwise',
      // Every connection, including ones re-established after a restart, gets the schema.
      options: `-c search_path=${this.schema}`,
      keepAlive: true,
      allowExitOnIdle: true,
      types,
    });
    // An idle connection dropped by the server: the pool discards it and connects anew on demand.
    this.pool.on('error', () => {
      this.connectionErrors++;
    });
  }

  /** Applies pending migrations under an advisory lock; refuses a schema newer than this code. */
  async migrate(): Promise<void> {
    await this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK, this.schema]);
      // DDL takes no parameters; the name is checked against IDENTIFIER.
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await c.query(`SELECT set_config('search_path', $1, true)`, [this.schema]);
      await c.query(`CREATE TABLE IF NOT EXISTS schema_version (
        version integer PRIMARY KEY, description text NOT NULL, checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
      const applied = (
        await c.query<{ version: number; checksum: string }>(
          'SELECT version, checksum FROM schema_version ORDER BY version',
        )
      ).rows;
      const current = applied[applied.length - 1]?.version ?? 0;
      if (current > POSTGRES_SCHEMA_VERSION) {
        throw new StoreSchemaError(
          `schema ${this.schema} has schema version ${current}, newer than this Stepwise supports ` +
            `(${POSTGRES_SCHEMA_VERSION}): upgrade Stepwise, or point it at another schema`,
        );
      }
      for (const a of applied) {
        const m = migrations.find((x) => x.version === a.version);
        if (m !== undefined && migrationChecksum(m.sql) !== a.checksum) {
          throw new StoreSchemaError(
            `schema ${this.schema}: migration ${a.version} differs from the one applied (shipped migrations are immutable)`,
          );
        }
      }
      for (const m of migrations) {
        if (m.version <= current) continue;
        await c.query(m.sql);
        await c.query('INSERT INTO schema_version (version, description, checksum) VALUES ($1, $2, $3)', [
          m.version,
          m.description,
          migrationChecksum(m.sql),
        ]);
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.listener?.close();
    await this.pool.end();
  }

  // ---- state machines ------------------------------------------------------------------------

  createStateMachine(
    sm: StateMachineRecord,
    tags: readonly Tag[] = [],
  ): Promise<CreateResult<StateMachineRecord>> {
    return this.tx(async (c) => {
      const definitionId = await putDefinitions(c, [sm.definition]);
      const r = await c.query(
        `INSERT INTO state_machines (arn, name, type, definition_id, role_arn, revision_id, creation_date, options)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (arn) DO NOTHING`,
        [
          sm.arn,
          sm.name,
          sm.type,
          definitionId[0],
          sm.roleArn,
          sm.revisionId,
          sm.creationDate,
          JSON.stringify(sm.options),
        ],
      );
      if (r.rowCount === 0) {
        const existing = await stateMachineOf(c, sm.arn);
        if (existing === undefined) throw new Error('state machine vanished inside a transaction');
        return { created: false, existing };
      }
      await putTags(c, sm.arn, tags);
      return { created: true };
    });
  }

  getStateMachine(arn: string): Promise<StateMachineRecord | undefined> {
    return this.read((c) => stateMachineOf(c, arn));
  }

  updateStateMachine(
    sm: StateMachineRecord,
    expectedRevisionId: string,
  ): Promise<'updated' | 'missing' | 'conflict'> {
    return this.tx(async (c) => {
      const [definitionId] = await putDefinitions(c, [sm.definition]);
      const r = await c.query(
        `UPDATE state_machines SET type = $1, definition_id = $2, role_arn = $3, revision_id = $4, options = $5
         WHERE arn = $6 AND revision_id = $7`,
        [
          sm.type,
          definitionId,
          sm.roleArn,
          sm.revisionId,
          JSON.stringify(sm.options),
          sm.arn,
          expectedRevisionId,
        ],
      );
      if (r.rowCount === 1) return 'updated';
      const exists = await c.query('SELECT 1 FROM state_machines WHERE arn = $1', [sm.arn]);
      return exists.rowCount === 0 ? 'missing' : 'conflict';
    });
  }

  deleteStateMachine(arn: string): Promise<boolean> {
    return this.tx(async (c) => {
      // The machine's row first, as publishing and alias writes take it: they queue, not deadlock.
      await c.query('SELECT 1 FROM state_machines WHERE arn = $1 FOR UPDATE', [arn]);
      await c.query('DELETE FROM tags WHERE resource_arn = $1', [arn]);
      await c.query(
        'DELETE FROM alias_routes WHERE alias_arn IN (SELECT arn FROM state_machine_aliases WHERE state_machine_arn = $1)',
        [arn],
      );
      await c.query('DELETE FROM state_machine_aliases WHERE state_machine_arn = $1', [arn]);
      await c.query('DELETE FROM state_machine_versions WHERE state_machine_arn = $1', [arn]);
      return ((await c.query('DELETE FROM state_machines WHERE arn = $1', [arn])).rowCount ?? 0) > 0;
    });
  }

  // ---- versions and aliases ------------------------------------------------------------------

  publishStateMachineVersion(
    stateMachineArn: string,
    p: PublishVersionRequest,
  ): Promise<PublishVersionResult> {
    return this.tx(async (c): Promise<PublishVersionResult> => {
      // FOR UPDATE: concurrent publishes of one machine queue here, so numbers are handed out once.
      const sm = (
        await c.query<{ revision_id: string; last_version: number }>(
          'SELECT revision_id, last_version FROM state_machines WHERE arn = $1 FOR UPDATE',
          [stateMachineArn],
        )
      ).rows[0];
      if (sm === undefined) return { outcome: 'missing' };
      if (p.expectedRevisionId !== undefined && p.expectedRevisionId !== sm.revision_id)
        return { outcome: 'conflict', revisionId: sm.revision_id };
      const existing = (
        await c.query<VersionRow>(
          `SELECT ${VERSION_COLUMNS} FROM state_machine_versions v JOIN definitions d ON d.id = v.definition_id
           WHERE v.state_machine_arn = $1 AND v.revision_id = $2 ORDER BY v.version DESC LIMIT 1`,
          [stateMachineArn, sm.revision_id],
        )
      ).rows[0];
      if (existing !== undefined) return { outcome: 'existing', version: toVersion(existing) };
      const count = (
        await c.query<{ n: number }>(
          'SELECT count(*)::integer AS n FROM state_machine_versions WHERE state_machine_arn = $1',
          [stateMachineArn],
        )
      ).rows[0]!.n;
      if (count >= p.maxVersions) return { outcome: 'limit' };
      const n = sm.last_version + 1;
      const arn = `${stateMachineArn}:${n}`;
      await c.query('UPDATE state_machines SET last_version = $1 WHERE arn = $2', [n, stateMachineArn]);
      await c.query(
        `INSERT INTO state_machine_versions (arn, state_machine_arn, version, type, definition_id, role_arn,
           revision_id, description, creation_date, options)
         SELECT $1, arn, $2, type, definition_id, role_arn, revision_id, $3, $4, options
         FROM state_machines WHERE arn = $5`,
        [arn, n, p.description ?? null, p.creationDate, stateMachineArn],
      );
      return { outcome: 'created', version: (await versionOf(c, arn))! };
    });
  }

  getStateMachineVersion(versionArn: string): Promise<StateMachineVersionRecord | undefined> {
    return this.read((c) => versionOf(c, versionArn));
  }

  listStateMachineVersions(
    query: { stateMachineArn: string } & PageRequest,
  ): Promise<Page<StateMachineVersionRecord>> {
    return this.read(async (c) => {
      const limit = limitOf(query);
      const before =
        query.nextToken === undefined
          ? 2 ** 31 - 1
          : (decodePageToken(query.nextToken, 'ver', query.stateMachineArn, 'n')[0] as number);
      const rows = (
        await c.query<VersionRow>(
          `SELECT ${VERSION_COLUMNS} FROM state_machine_versions v JOIN definitions d ON d.id = v.definition_id
           WHERE v.state_machine_arn = $1 AND v.version < $2 ORDER BY v.version DESC LIMIT $3`,
          // version is an integer column: keep the bound in its range.
          [query.stateMachineArn, Math.min(before, 2 ** 31 - 1), limit + 1],
        )
      ).rows;
      return paginate(rows, query, toVersion, (r) =>
        encodePageToken('ver', query.stateMachineArn, [r.version]),
      );
    });
  }

  deleteStateMachineVersion(versionArn: string): Promise<DeleteVersionResult> {
    return this.tx(async (c) => {
      // The version row locked first: an alias created meanwhile waits, then finds it gone.
      await c.query('SELECT 1 FROM state_machine_versions WHERE arn = $1 FOR UPDATE', [versionArn]);
      const names = (
        await c.query<{ name: string }>(
          `SELECT a.name FROM alias_routes r JOIN state_machine_aliases a ON a.arn = r.alias_arn
           WHERE r.version_arn = $1 ORDER BY a.name`,
          [versionArn],
        )
      ).rows.map((r) => r.name);
      if (names.length > 0) return { outcome: 'referenced' as const, aliasNames: names };
      await c.query('DELETE FROM state_machine_versions WHERE arn = $1', [versionArn]);
      return { outcome: 'deleted' as const };
    });
  }

  createStateMachineAlias(alias: StateMachineAliasRecord, maxAliases: number): Promise<AliasWriteResult> {
    return this.tx(async (c): Promise<AliasWriteResult> => {
      // The machine's row serialises alias writes of one machine (the count and the name check).
      await c.query('SELECT 1 FROM state_machines WHERE arn = $1 FOR UPDATE', [alias.stateMachineArn]);
      const existing = await aliasOf(c, alias.arn);
      if (existing !== undefined) return { outcome: 'exists', existing };
      const missing = await missingVersion(c, alias.routingConfiguration);
      if (missing !== undefined) return { outcome: 'versionMissing', versionArn: missing };
      const count = (
        await c.query<{ n: number }>(
          'SELECT count(*)::integer AS n FROM state_machine_aliases WHERE state_machine_arn = $1',
          [alias.stateMachineArn],
        )
      ).rows[0]!.n;
      if (count >= maxAliases) return { outcome: 'limit' };
      await c.query(
        `INSERT INTO state_machine_aliases (arn, state_machine_arn, name, description, creation_date, update_date)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          alias.arn,
          alias.stateMachineArn,
          alias.name,
          alias.description ?? null,
          alias.creationDate,
          alias.updateDate,
        ],
      );
      await putRoutes(c, alias.arn, alias.routingConfiguration);
      return { outcome: 'created' };
    });
  }

  getStateMachineAlias(aliasArn: string): Promise<StateMachineAliasRecord | undefined> {
    return this.read((c) => aliasOf(c, aliasArn));
  }

  updateStateMachineAlias(aliasArn: string, change: AliasChange): Promise<AliasWriteResult> {
    return this.tx(async (c): Promise<AliasWriteResult> => {
      const found = await c.query('SELECT 1 FROM state_machine_aliases WHERE arn = $1 FOR UPDATE', [
        aliasArn,
      ]);
      if (found.rowCount === 0) return { outcome: 'missing' };
      if (change.routingConfiguration !== undefined) {
        const missing = await missingVersion(c, change.routingConfiguration);
        if (missing !== undefined) return { outcome: 'versionMissing', versionArn: missing };
        await c.query('DELETE FROM alias_routes WHERE alias_arn = $1', [aliasArn]);
        await putRoutes(c, aliasArn, change.routingConfiguration);
      }
      await c.query(
        'UPDATE state_machine_aliases SET description = coalesce($1, description), update_date = $2 WHERE arn = $3',
        [change.description ?? null, change.updateDate, aliasArn],
      );
      return { outcome: 'updated' };
    });
  }

  deleteStateMachineAlias(aliasArn: string): Promise<boolean> {
    return this.tx(async (c) => {
      await c.query('DELETE FROM alias_routes WHERE alias_arn = $1', [aliasArn]);
      return (
        ((await c.query('DELETE FROM state_machine_aliases WHERE arn = $1', [aliasArn])).rowCount ?? 0) > 0
      );
    });
  }

  listStateMachineAliases(
    query: { stateMachineArn: string; versionArn?: string | undefined } & PageRequest,
  ): Promise<Page<StateMachineAliasRecord>> {
    return this.read(async (c) => {
      const limit = limitOf(query);
      const scope = `${query.stateMachineArn}|${query.versionArn ?? ''}`;
      const [date, arn] =
        query.nextToken === undefined ? [-1, ''] : decodePageToken(query.nextToken, 'alias', scope, 'ns');
      const rows = (
        await c.query<AliasRow>(
          `${ALIAS_SELECT_POSTGRES} WHERE a.state_machine_arn = $1
           AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM alias_routes r WHERE r.alias_arn = a.arn AND r.version_arn = $2))
           AND (a.creation_date, a.arn) > ($3, $4) ORDER BY a.creation_date, a.arn LIMIT $5`,
          [query.stateMachineArn, query.versionArn ?? null, date, arn, limit + 1],
        )
      ).rows;
      return paginate(rows, query, toAlias, (r) => encodePageToken('alias', scope, [r.creation_date, r.arn]));
    });
  }

  listStateMachines(page: PageRequest): Promise<Page<StateMachineRecord>> {
    return this.read(async (c) => {
      const limit = limitOf(page);
      const after =
        page.nextToken === undefined ? '' : (decodePageToken(page.nextToken, 'sm', '', 's')[0] as string);
      const rows = (
        await c.query<StateMachineRow>(
          `SELECT ${SM_COLUMNS} FROM state_machines s JOIN definitions d ON d.id = s.definition_id
           WHERE s.arn > $1 ORDER BY s.arn LIMIT $2`,
          [after, limit + 1],
        )
      ).rows;
      return paginate(rows, page, toStateMachine, (r) => encodePageToken('sm', '', [r.arn]));
    });
  }

  getDefinition(definitionId: string): Promise<string | undefined> {
    return this.read(
      async (c) =>
        (await c.query<{ text: string }>('SELECT text FROM definitions WHERE id = $1', [definitionId]))
          .rows[0]?.text,
    );
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
    return this.read(async (c) => {
      const r = (
        await c.query<ExecutionFullRow>(
          `SELECT ${EXECUTION_COLUMNS}, definition_id, input, output, error, cause FROM executions WHERE arn = $1`,
          [executionArn],
        )
      ).rows[0];
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
    return this.indexWalk(async (c) => {
      const limit = limitOf(query);
      const scope = `${query.stateMachineArn}|${query.status ?? ''}|${query.by ?? ''}`;
      const [date, id] =
        query.nextToken === undefined ? [TOP, TOP] : decodePageToken(query.nextToken, 'ex', scope, 'nn');
      // A fixed column name per `by`, never the caller's text.
      const column =
        query.by === 'version'
          ? 'state_machine_version_arn'
          : query.by === 'alias'
            ? 'state_machine_alias_arn'
            : 'state_machine_arn';
      // Row comparison against the index's trailing columns: a backward index scan, no sort.
      const rows = (
        query.status === undefined
          ? await c.query<ExecutionRow>(
              `SELECT ${EXECUTION_COLUMNS} FROM executions WHERE ${column} = $1
               AND (start_date, id) < ($2, $3) ORDER BY start_date DESC, id DESC LIMIT $4`,
              [query.stateMachineArn, date, id, limit + 1],
            )
          : await c.query<ExecutionRow>(
              `SELECT ${EXECUTION_COLUMNS} FROM executions WHERE ${column} = $1 AND status = $2
               AND (start_date, id) < ($3, $4) ORDER BY start_date DESC, id DESC LIMIT $5`,
              [query.stateMachineArn, query.status, date, id, limit + 1],
            )
      ).rows;
      return paginate(rows, query, toSummary, (r) => encodePageToken('ex', scope, [r.start_date, r.id]));
    });
  }

  listRunningExecutions(page: PageRequest): Promise<Page<string>> {
    return this.read(async (c) => {
      const limit = limitOf(page);
      const after =
        page.nextToken === undefined ? 0 : (decodePageToken(page.nextToken, 'run', '', 'n')[0] as number);
      const rows = (
        await c.query<{ id: number; arn: string }>(
          `SELECT id, arn FROM executions WHERE status = 'RUNNING' AND id > $1 ORDER BY id LIMIT $2`,
          [after, limit + 1],
        )
      ).rows;
      return paginate(
        rows,
        page,
        (r) => r.arn,
        (r) => encodePageToken('run', '', [r.id]),
      );
    });
  }

  loadState(executionArn: string): Promise<LoadedState | undefined> {
    return this.read(async (c) => {
      const r = (
        await c.query<LoadedStateRow>(
          `SELECT s.state, s.fixed, s.version, e.definition_id, e.input FROM executions e
           JOIN states s ON s.execution_id = e.id WHERE e.arn = $1`,
          [executionArn],
        )
      ).rows[0];
      return r === undefined ? undefined : toLoadedState(r);
    });
  }

  /**
   * Group commit in one transaction. Fast path: the batch applied set-based, round by round (a
   * round holds at most one write per execution, so chained writes apply in order), each round
   * in two or three statements with array parameters: lock and check (versions, ARNs, fencing
   * tokens, found before anything is written), insert the created executions, write the rest.
   * If a unique key breaks (a duplicate event id, task id or token: a runtime bug), the batch
   * is redone one write at a time, statement by statement, with a savepoint per write so only
   * that write is undone; savepoints stay off the fast path because many subtransactions per
   * transaction slow the whole server down. Rejects on any other failure, including a
   * connection lost mid-commit: the caller retries, and a commit whose COMMIT had reached the
   * server shows as a version conflict.
   */
  async commit(writes: readonly StepWrite[]): Promise<CommitOutcome[]> {
    const entries = writes.map(prepare);
    if (entries.length === 0) return [];
    const wake = this.wakePayload(entries);
    try {
      return await this.tx(async (c) => {
        const outcomes: CommitOutcome[] = entries.map(() => 'ok');
        const all = rounds(entries);
        for (const [i, round] of all.entries()) {
          await applyRoundFast(c, round, outcomes, i === all.length - 1 ? wake : undefined);
        }
        return outcomes;
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
    return this.tx(async (c) => {
      const outcomes: CommitOutcome[] = entries.map(() => 'ok');
      for (const entry of entries) {
        await c.query('SAVEPOINT entry');
        try {
          await applyRound(c, [entry], outcomes);
          await c.query('RELEASE SAVEPOINT entry');
        } catch (e) {
          if (!isUniqueViolation(e)) throw e;
          await c.query('ROLLBACK TO SAVEPOINT entry');
          outcomes[entry.index] = 'conflict';
        }
      }
      if (wake !== undefined) await c.query('SELECT pg_notify($1, $2)', wake);
      return outcomes;
    });
  }

  history(
    executionArn: string,
    query: { reverse?: boolean | undefined } & PageRequest,
  ): Promise<Page<HistoryEvent> | undefined> {
    return this.read(async (c) => {
      const limit = limitOf(query);
      const reverse = query.reverse === true;
      const scope = `${executionArn}|${reverse ? 'r' : 'f'}`;
      const after =
        query.nextToken === undefined
          ? reverse
            ? TOP
            : 0
          : (decodePageToken(query.nextToken, 'h', scope, 'n')[0] as number);
      const ex = (await c.query<{ id: number }>('SELECT id FROM executions WHERE arn = $1', [executionArn]))
        .rows[0];
      if (ex === undefined) return undefined;
      const rows = (
        await c.query<{ event_id: number; body: string }>(
          reverse
            ? `SELECT event_id, body FROM events WHERE execution_id = $1 AND event_id < $2
               ORDER BY event_id DESC LIMIT $3`
            : `SELECT event_id, body FROM events WHERE execution_id = $1 AND event_id > $2
               ORDER BY event_id LIMIT $3`,
          // event_id is an integer column: keep the bound in its range.
          [ex.id, Math.max(-1, Math.min(after, 2 ** 31 - 1)), limit + 1],
        )
      ).rows;
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
    return this.read(async (c) =>
      (
        await c.query<{ arn: string; timer_id: string; due_time: number }>(
          `SELECT e.arn, t.timer_id, t.due_time FROM timers t JOIN executions e ON e.id = t.execution_id
           WHERE t.due_time <= $1 ORDER BY t.due_time, t.execution_id, t.timer_id LIMIT $2`,
          [now, limitOf({ limit })],
        )
      ).rows.map((r) => ({ executionArn: r.arn, timerId: r.timer_id, dueTime: r.due_time })),
    );
  }

  nextTimerDue(): Promise<number | undefined> {
    return this.read(
      async (c) =>
        (await c.query<{ due: number | null }>('SELECT min(due_time) AS due FROM timers')).rows[0]?.due ??
        undefined,
    );
  }

  // ---- tasks, callbacks, activities ----------------------------------------------------------

  findTaskByToken(token: string): Promise<TaskRow | undefined> {
    return this.read(async (c) => {
      const r = (
        await c.query<TaskRowRaw>(
          `SELECT ${TASK_COLUMNS} FROM tasks t JOIN executions e ON e.id = t.execution_id WHERE t.token = $1`,
          [token],
        )
      ).rows[0];
      return r === undefined ? undefined : toTask(r);
    });
  }

  listTasks(page: PageRequest): Promise<Page<TaskRow>> {
    return this.read(async (c) => {
      const limit = limitOf(page);
      const after =
        page.nextToken === undefined ? 0 : (decodePageToken(page.nextToken, 'task', '', 'n')[0] as number);
      const rows = (
        await c.query<TaskRowRaw>(
          `SELECT ${TASK_COLUMNS} FROM tasks t JOIN executions e ON e.id = t.execution_id
           WHERE t.seq > $1 ORDER BY t.seq LIMIT $2`,
          [after, limit + 1],
        )
      ).rows;
      return paginate(rows, page, toTask, (r) => encodePageToken('task', '', [r.seq]));
    });
  }

  createActivity(activity: ActivityRecord, tags: readonly Tag[] = []): Promise<CreateResult<ActivityRecord>> {
    return this.tx(async (c) => {
      const r = await c.query(
        'INSERT INTO activities (arn, name, creation_date) VALUES ($1, $2, $3) ON CONFLICT (arn) DO NOTHING',
        [activity.arn, activity.name, activity.creationDate],
      );
      if (r.rowCount === 0) {
        const existing = await activityOf(c, activity.arn);
        if (existing === undefined) throw new Error('activity vanished inside a transaction');
        return { created: false, existing };
      }
      await putTags(c, activity.arn, tags);
      return { created: true };
    });
  }

  getActivity(arn: string): Promise<ActivityRecord | undefined> {
    return this.read((c) => activityOf(c, arn));
  }

  deleteActivity(arn: string): Promise<boolean> {
    return this.tx(async (c) => {
      await c.query('DELETE FROM tags WHERE resource_arn = $1', [arn]);
      return ((await c.query('DELETE FROM activities WHERE arn = $1', [arn])).rowCount ?? 0) > 0;
    });
  }

  listActivities(page: PageRequest): Promise<Page<ActivityRecord>> {
    return this.read(async (c) => {
      const limit = limitOf(page);
      const after =
        page.nextToken === undefined ? '' : (decodePageToken(page.nextToken, 'act', '', 's')[0] as string);
      const rows = (
        await c.query<{ arn: string; name: string; creation_date: number }>(
          'SELECT arn, name, creation_date FROM activities WHERE arn > $1 ORDER BY arn LIMIT $2',
          [after, limit + 1],
        )
      ).rows;
      return paginate(
        rows,
        page,
        (r) => ({ arn: r.arn, name: r.name, creationDate: r.creation_date }),
        (r) => encodePageToken('act', '', [r.arn]),
      );
    });
  }

  /** One statement: the oldest queued task nobody else is claiming (SKIP LOCKED), marked claimed. */
  async claimActivityTask(
    activityArn: string,
    workerName: string,
    now: number,
  ): Promise<TaskRow | undefined> {
    const r = (
      await this.pool.query<TaskRowRaw>(
        `WITH claimed AS (
           UPDATE tasks SET status = 'claimed', worker_name = $1, claimed_at = $2
           WHERE seq = (SELECT seq FROM tasks WHERE activity_arn = $3 AND status = 'queued'
                        ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
           RETURNING *)
         SELECT ${TASK_COLUMNS} FROM claimed t JOIN executions e ON e.id = t.execution_id`,
        [workerName, now, activityArn],
      )
    ).rows[0];
    return r === undefined ? undefined : toTask(r);
  }

  // ---- tags ----------------------------------------------------------------------------------

  tagResource(arn: string, tags: readonly Tag[]): Promise<void> {
    return this.tx((c) => putTags(c, arn, tags));
  }

  async untagResource(arn: string, keys: readonly string[]): Promise<void> {
    await this.pool.query('DELETE FROM tags WHERE resource_arn = $1 AND key = ANY($2::text[])', [arn, keys]);
  }

  listTags(arn: string): Promise<Tag[]> {
    return this.read(
      async (c) =>
        (await c.query<Tag>('SELECT key, value FROM tags WHERE resource_arn = $1 ORDER BY key', [arn])).rows,
    );
  }

  // ---- leases (multi-node) -------------------------------------------------------------------

  async acquireLease(executionArn: string, nodeId: string, ttlMs: number): Promise<number | undefined> {
    checkTtl(ttlMs);
    const r = await this.pool.query<{ token: number }>(
      `INSERT INTO leases AS l (execution_arn, node_id, token, expires_at) VALUES ($1, $2, 1, ${NOW_MS} + $3)
       ON CONFLICT (execution_arn) DO UPDATE SET
         token = CASE WHEN l.node_id = excluded.node_id AND l.expires_at > ${NOW_MS}
                      THEN l.token ELSE l.token + 1 END,
         node_id = excluded.node_id, expires_at = excluded.expires_at
       WHERE l.node_id = excluded.node_id OR l.expires_at <= ${NOW_MS}
       RETURNING token`,
      [executionArn, nodeId, ttlMs],
    );
    return r.rows[0]?.token;
  }

  async renewLeases(nodeId: string, ttlMs: number): Promise<string[]> {
    checkTtl(ttlMs);
    // Rows locked in execution_arn order, the order commits take them in (FOR SHARE): an
    // UPDATE in scan order could hold one a commit waits for while waiting for one it holds.
    const r = await this.pool.query<{ execution_arn: string }>(
      `UPDATE leases SET expires_at = ${NOW_MS} + $2
       WHERE execution_arn IN (
         SELECT execution_arn FROM leases WHERE node_id = $1 AND expires_at > ${NOW_MS}
         ORDER BY execution_arn FOR UPDATE)
       AND node_id = $1 AND expires_at > ${NOW_MS}
       RETURNING execution_arn`,
      [nodeId, ttlMs],
    );
    return r.rows.map((x) => x.execution_arn).sort();
  }

  async releaseLease(executionArn: string, nodeId: string): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE leases SET expires_at = 0 WHERE execution_arn = $1 AND node_id = $2 AND expires_at > 0`,
      [executionArn, nodeId],
    );
    return (r.rowCount ?? 0) > 0;
  }

  listUnleasedExecutions(limit: number): Promise<string[]> {
    return this.read(async (c) =>
      (
        await c.query<{ arn: string }>(
          `SELECT e.arn FROM executions e LEFT JOIN leases l ON l.execution_arn = e.arn
           WHERE e.status = 'RUNNING' AND (l.execution_arn IS NULL OR l.expires_at <= ${NOW_MS})
           ORDER BY e.id LIMIT $1`,
          [limitOf({ limit })],
        )
      ).rows.map((r) => r.arn),
    );
  }

  // ---- LISTEN / NOTIFY -----------------------------------------------------------------------

  /** Sends a notification (delivered to listeners of every node; at most 8000 bytes). */
  async notify(channel: string, payload: string): Promise<void> {
    await this.pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  /**
   * Calls `handler` for each notification on `channel`, over one dedicated connection per store
   * (re-established after a failure, then `handler(undefined)`). Resolves once listening;
   * returns the function that stops it.
   */
  async listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>> {
    checkChannel(channel);
    if (this.closed) throw new Error('store closed');
    this.listener ??= new Listener({
      connectionString: this.options.connectionString,
      application_name: `${this.options.applicationName ?? 'stepwise'}-listen`,
      keepAlive: true,
    });
    await this.listener.add(channel, handler);
    const listener = this.listener;
    return () => listener.remove(channel, handler);
  }

  // ---- internals -----------------------------------------------------------------------------

  /**
   * A read on a pooled connection, retried once if the connection turned out dead (the server
   * restarted, or dropped it): reads are idempotent, and the retry gets a fresh connection.
   */
  /**
   * A read that must walk its index in order, never sort: the planner is told so. With stale
   * statistics (a table just filled, before autovacuum's ANALYZE) it otherwise picked a bitmap
   * scan of every row of the machine plus a sort for each page of ListExecutions: 60-150 ms a
   * page at 100,000 executions instead of under 1 ms.
   */
  private indexWalk<T>(fn: (c: Queryable) => Promise<T>): Promise<T> {
    return this.tx(async (c) => {
      await c.query('SET LOCAL enable_sort = off');
      return fn(c);
    });
  }

  private async read<T>(fn: (c: Queryable) => Promise<T>): Promise<T> {
    try {
      return await fn(this.pool);
    } catch (e) {
      if (!isConnectionError(e)) throw e;
      return fn(this.pool);
    }
  }

  /**
   * Runs `fn` in a transaction. A deadlock or serialization failure rolls the whole transaction
   * back, and PostgreSQL's advice is to run it again: the bodies only talk to the database, so
   * a retry is safe. Without it a batch that lost a deadlock failed every execution in it.
   */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.txOnce(fn);
      } catch (e) {
        if (!isRetryableTxError(e) || attempt >= TX_ATTEMPTS) throw e;
        // Jittered, growing pauses so the transactions that collided do not collide again.
        await new Promise((r) => setTimeout(r, Math.random() * 5 * 2 ** attempt));
      }
    }
  }

  /** A transaction on one pooled connection; a connection that failed is destroyed, not reused. */
  private async txOnce<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    // Between queries a checked-out client has no pool listener; an unhandled 'error' would crash.
    const onError = (e: Error) => {
      broken = e;
    };
    c.on('error', onError);
    try {
      await c.query('BEGIN');
      const result = await fn(c);
      await c.query('COMMIT');
      return result;
    } catch (e) {
      if (isConnectionError(e)) broken ??= e as Error;
      else
        await c.query('ROLLBACK').catch((re: unknown) => {
          broken = re instanceof Error ? re : new Error(String(re));
        });
      throw e;
    } finally {
      c.off('error', onError);
      c.release(broken);
    }
  }

  /**
   * The work channel's notification for a batch, if it queues activity tasks or sets timers due
   * within `wakeWithinMs`. Computed before the outcomes are known: a spurious wake-up is harmless.
   * Sent inside the transaction, so only if it commits.
   */
  private wakePayload(entries: readonly Entry[]): [string, string] | undefined {
    if (this.workChannel === null) return undefined;
    // A wake-up hint only, so reading the clock here changes no result.
    const horizon = Date.now() + this.wakeWithinMs;
    let due: number | undefined;
    const activities = new Set<string>();
    for (const e of entries) {
      if (e.ended) continue;
      for (const t of e.timersSet.values()) if (t <= horizon && (due === undefined || t < due)) due = t;
      for (const t of e.w.tasksAdded ?? []) if (t.activityArn !== undefined) activities.add(t.activityArn);
    }
    if (due === undefined && activities.size === 0) return undefined;
    // The payload limit is 8000 bytes: name a few activities, `more` says there were others.
    const named = [...activities].slice(0, 10);
    return [
      this.workChannel,
      JSON.stringify({ due: due ?? null, activities: named, more: activities.size > named.length }),
    ];
  }
}

// ---- commit internals ------------------------------------------------------------------------

/** Serialises a write before the transaction: keeps it short, and a bad value fails the call cleanly. */
function prepare(w: StepWrite, index: number): Entry {
  const state = JSON.stringify(w.state) as string | undefined;
  if (state === undefined) throw new TypeError(`state of ${w.executionArn} is not JSON-serialisable`);
  if (w.create !== undefined && (w.expectedVersion !== 0 || w.create.executionArn !== w.executionArn)) {
    throw new TypeError(`create of ${w.executionArn}: expectedVersion must be 0 and the ARNs equal`);
  }
  // Not part of StepWrite: read defensively (see FencedStepWrite).
  const fencingToken = (w as { fencingToken?: unknown }).fencingToken;
  if (fencingToken !== undefined && !Number.isSafeInteger(fencingToken)) {
    throw new TypeError(`fencingToken of ${w.executionArn} must be an integer`);
  }
  const events = w.events ?? [];
  const timersSet = new Map<string, number>();
  for (const t of w.timersSet ?? []) timersSet.set(t.timerId, t.dueTime);
  return {
    index,
    w,
    state,
    eventIds: events.map((e) => e.id),
    eventBodies: events.map((e) => JSON.stringify(e)),
    fencingToken: fencingToken as number | undefined,
    ended: w.status !== 'RUNNING',
    timersSet,
  };
}

/** PostgreSQL's type OID of `text`: the element type a binary `text[]` names. */
const TEXT_OID = 25;

/**
 * A `text[]` parameter in PostgreSQL's binary array format (sent as is, since pg sends Buffers
 * in binary). pg's text format escapes every `"` and `\` of every element with regular
 * expressions: for JSON documents (states, events, payloads) that copying was the largest
 * single cost of a commit after garbage collection, and fed most of that.
 */
function textArray(values: readonly (string | null)[]): Buffer {
  const n = values.length;
  const lengths = new Array<number>(n);
  let size = n === 0 ? 12 : 20;
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const len = v === null || v === undefined ? -1 : Buffer.byteLength(v, 'utf8');
    if (len < 0) nulls = 1;
    lengths[i] = len;
    size += 4 + Math.max(len, 0);
  }
  const buf = Buffer.allocUnsafe(size);
  // Header: dimensions (0 for an empty array), has-nulls flag, element type; then the one
  // dimension's length and lower bound; then each element as length (-1: NULL) and bytes.
  let o = buf.writeInt32BE(n === 0 ? 0 : 1, 0);
  o = buf.writeInt32BE(nulls, o);
  o = buf.writeInt32BE(TEXT_OID, o);
  if (n === 0) return buf;
  o = buf.writeInt32BE(n, o);
  o = buf.writeInt32BE(1, o);
  for (let i = 0; i < n; i++) {
    const len = lengths[i]!;
    o = buf.writeInt32BE(len, o);
    if (len > 0) o += buf.write(values[i]!, o, len, 'utf8');
  }
  return buf;
}

/** The k-th write of each execution goes to round k: within a round, executions are distinct. */
function rounds(entries: readonly Entry[]): Entry[][] {
  const seen = new Map<string, number>();
  const out: Entry[][] = [];
  for (const e of entries) {
    const k = seen.get(e.w.executionArn) ?? 0;
    seen.set(e.w.executionArn, k + 1);
    (out[k] ??= []).push(e);
  }
  return out;
}

// Named (prepared once per connection): the commit path's statements are parsed and planned once.
const LOCK_SQL = `
WITH cur AS (
  SELECT e.id, e.arn, e.status, s.version FROM executions e JOIN states s ON s.execution_id = e.id
  WHERE e.arn = ANY($1::text[]) ORDER BY e.id FOR UPDATE OF s),
fence AS (
  SELECT execution_arn, token FROM leases WHERE execution_arn = ANY($2::text[])
  ORDER BY execution_arn FOR SHARE)
SELECT arn, id, status, version, NULL::bigint AS token FROM cur
UNION ALL SELECT execution_arn, NULL, NULL, NULL, token FROM fence`;

const CREATE_SQL = `
WITH d AS (
  INSERT INTO definitions (id, text) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (id) DO NOTHING),
x AS (
  INSERT INTO executions (arn, state_machine_arn, name, definition_id, status, start_date, stop_date,
    input, output, error, cause, state_machine_version_arn, state_machine_alias_arn)
  SELECT arn, sm, name, def, status, start_date, stop_date, input, output, error, cause, ver, alias
  FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[],
    $10::text[], $11::text[], $12::text[], $13::text[], $16::text[], $17::text[])
    WITH ORDINALITY AS u(arn, sm, name, def, status, start_date, stop_date, input, output, error, cause,
      ver, alias, ord)
  ORDER BY ord
  ON CONFLICT (arn) DO NOTHING RETURNING id, arn),
st AS (
  INSERT INTO states (execution_id, version, state, fixed)
  SELECT x.id, 1, u.state, u.fixed FROM x
  JOIN unnest($3::text[], $14::text[], $15::text[]) AS u(arn, state, fixed) ON u.arn = x.arn)
SELECT id, arn FROM x`;

// One statement: its parts see the same snapshot, so no two of them may touch the same row
// (the caller nets timer removals against sets; a task removed and re-added trips a unique key
// and takes the slow path).
const WRITE_SQL = `
WITH s AS (
  UPDATE states st SET state = u.state, version = st.version + 1
  FROM unnest($1::bigint[], $2::text[]) AS u(id, state) WHERE st.execution_id = u.id),
x AS (
  UPDATE executions e SET status = u.status, stop_date = u.stop_date, output = u.output, error = u.error,
    cause = u.cause
  FROM unnest($3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[])
    AS u(id, status, stop_date, output, error, cause)
  WHERE e.id = u.id),
ev AS (
  INSERT INTO events (execution_id, event_id, body)
  SELECT * FROM unnest($9::bigint[], $10::integer[], $11::text[])),
et AS (DELETE FROM timers WHERE execution_id = ANY($12::bigint[])),
ek AS (DELETE FROM tasks WHERE execution_id = ANY($12::bigint[])),
tr AS (
  DELETE FROM timers t USING unnest($13::bigint[], $14::text[]) AS u(id, timer_id)
  WHERE t.execution_id = u.id AND t.timer_id = u.timer_id),
kr AS (
  DELETE FROM tasks t USING unnest($15::bigint[], $16::text[]) AS u(id, task_id)
  WHERE t.execution_id = u.id AND t.task_id = u.task_id),
ts AS (
  INSERT INTO timers (execution_id, timer_id, due_time)
  SELECT * FROM unnest($17::bigint[], $18::text[], $19::bigint[])
  ON CONFLICT (execution_id, timer_id) DO UPDATE SET due_time = excluded.due_time),
ta AS (
  INSERT INTO tasks (execution_id, task_id, request, status, token, activity_arn)
  SELECT id, task_id, request, status, token, activity_arn
  FROM unnest($20::bigint[], $21::text[], $22::text[], $23::text[], $24::text[], $25::text[])
    WITH ORDINALITY AS u(id, task_id, request, status, token, activity_arn, ord)
  ORDER BY ord),
n AS (SELECT pg_notify($26, $27) WHERE $26::text IS NOT NULL)
SELECT count(*) FROM n`;

/** The fast path: one round (distinct executions) in two or three statements; sets `conflict` outcomes. */
async function applyRoundFast(
  c: Queryable,
  entries: readonly Entry[],
  outcomes: CommitOutcome[],
  wake: [string, string] | undefined,
): Promise<void> {
  const locked = (
    await c.query<{
      arn: string;
      id: number | null;
      status: string | null;
      version: number | null;
      token: number | null;
    }>({
      name: 'stepwise_commit_lock',
      text: LOCK_SQL,
      values: [
        entries.map((e) => e.w.executionArn),
        entries.filter((e) => e.fencingToken !== undefined).map((e) => e.w.executionArn),
      ],
    })
  ).rows;
  const current = new Map<string, { id: number; status: string; version: number }>();
  const tokens = new Map<string, number>();
  for (const r of locked) {
    if (r.token !== null) tokens.set(r.arn, r.token);
    else current.set(r.arn, { id: r.id!, status: r.status!, version: r.version! });
  }
  const creates: Entry[] = [];
  const applied: { e: Entry; id: number; created: boolean; statusChanged: boolean }[] = [];
  for (const e of entries) {
    const cur = current.get(e.w.executionArn);
    if (e.fencingToken !== undefined && tokens.get(e.w.executionArn) !== e.fencingToken) {
      outcomes[e.index] = 'conflict';
    } else if (e.w.create !== undefined) {
      if (cur === undefined) creates.push(e);
      else outcomes[e.index] = 'conflict';
    } else if (cur === undefined || cur.version !== e.w.expectedVersion) {
      outcomes[e.index] = 'conflict';
    } else {
      applied.push({ e, id: cur.id, created: false, statusChanged: cur.status !== e.w.status });
    }
  }
  if (creates.length > 0) {
    // Concurrent batches take the keys they share (ARNs, definition ids) in one order: no deadlock.
    creates.sort(byArn);
    const defs = new Map<string, string>();
    const defIds = creates.map((e) => {
      const id = e.w.create!.definitionId ?? definitionIdOf(e.w.create!.definition);
      defs.set(id, e.w.create!.definition);
      return id;
    });
    const col = <T>(f: (e: Entry, x: NewExecution) => T) => creates.map((e) => f(e, e.w.create!));
    const inserted = await c.query<{ id: number; arn: string }>({
      name: 'stepwise_commit_create',
      text: CREATE_SQL,
      values: [
        [...defs.keys()].sort(),
        textArray([...defs.keys()].sort().map((id) => defs.get(id)!)),
        col((_, x) => x.executionArn),
        col((_, x) => x.stateMachineArn),
        col((_, x) => x.name),
        defIds,
        col((e) => e.w.status),
        col((_, x) => x.startDate),
        col((e) => (e.ended ? (e.w.stopDate ?? null) : null)),
        textArray(col((_, x) => x.input)),
        textArray(col((e) => e.w.output ?? null)),
        col((e) => e.w.error ?? null),
        textArray(col((e) => e.w.cause ?? null)),
        textArray(col((e) => e.state)),
        textArray(col((_, x) => x.fixed ?? null)),
        col((_, x) => x.stateMachineVersionArn ?? null),
        col((_, x) => x.stateMachineAliasArn ?? null),
      ],
    });
    // An ARN another node created meanwhile is not returned (ON CONFLICT): a conflict.
    const ids = new Map(inserted.rows.map((r) => [r.arn, r.id]));
    for (const e of creates) {
      const id = ids.get(e.w.executionArn);
      if (id === undefined) outcomes[e.index] = 'conflict';
      else applied.push({ e, id, created: true, statusChanged: false });
    }
  }
  if (applied.length === 0) return;

  const updated = applied.filter((a) => !a.created);
  const changed = updated.filter((a) => a.statusChanged);
  const events = applied.flatMap(({ e, id }) =>
    e.eventIds.map((eventId, i) => [id, eventId, e.eventBodies[i]!] as const),
  );
  const live = applied.filter((a) => !a.e.ended);
  const pairs = <T>(f: (e: Entry) => readonly T[]) =>
    live.flatMap(({ e, id }) => f(e).map((x) => [id, x] as const));
  // A timer removed and set by one write is set: removals apply first.
  const timersRemoved = pairs((e) => (e.w.timersRemoved ?? []).filter((t) => !e.timersSet.has(t)));
  const tasksRemoved = pairs((e) => e.w.tasksRemoved ?? []);
  const timersSet = pairs((e) => [...e.timersSet]);
  const tasksAdded = pairs((e) => e.w.tasksAdded ?? []);
  await c.query({
    name: 'stepwise_commit_write',
    text: WRITE_SQL,
    values: [
      updated.map((a) => a.id),
      textArray(updated.map((a) => a.e.state)),
      changed.map((a) => a.id),
      changed.map((a) => a.e.w.status),
      changed.map((a) => a.e.w.stopDate ?? null),
      textArray(changed.map((a) => a.e.w.output ?? null)),
      changed.map((a) => a.e.w.error ?? null),
      textArray(changed.map((a) => a.e.w.cause ?? null)),
      events.map((x) => x[0]),
      events.map((x) => x[1]),
      textArray(events.map((x) => x[2])),
      applied.filter((a) => a.e.ended).map((a) => a.id),
      timersRemoved.map((x) => x[0]),
      timersRemoved.map((x) => x[1]),
      tasksRemoved.map((x) => x[0]),
      tasksRemoved.map((x) => x[1]),
      timersSet.map((x) => x[0]),
      timersSet.map((x) => x[1][0]),
      timersSet.map((x) => x[1][1]),
      tasksAdded.map((x) => x[0]),
      tasksAdded.map((x) => x[1].taskId),
      textArray(tasksAdded.map((x) => JSON.stringify(x[1].request))),
      tasksAdded.map((x) => (x[1].activityArn === undefined ? 'running' : 'queued')),
      tasksAdded.map((x) => x[1].token ?? null),
      tasksAdded.map((x) => x[1].activityArn ?? null),
      wake?.[0] ?? null,
      wake?.[1] ?? null,
    ],
  });
}

/**
 * The slow path: one write, statement by statement, exactly as the SQLite store applies it
 * (the caller wraps it in a savepoint). Sets `conflict` outcomes.
 */
async function applyRound(c: Queryable, entries: readonly Entry[], outcomes: CommitOutcome[]): Promise<void> {
  const arns = entries.map((e) => e.w.executionArn);
  // Lock the states rows in id order: concurrent committers (other nodes) queue up, never deadlock.
  const current = new Map(
    (
      await c.query<{ id: number; arn: string; status: string; version: number }>(
        `SELECT e.id, e.arn, e.status, s.version FROM executions e JOIN states s ON s.execution_id = e.id
         WHERE e.arn = ANY($1::text[]) ORDER BY e.id FOR UPDATE OF s`,
        [arns],
      )
    ).rows.map((r) => [r.arn, r]),
  );
  const fenced = entries.filter((e) => e.fencingToken !== undefined);
  if (fenced.length > 0) {
    // FOR SHARE: a node taking a lease over waits until this commit is done, then sees it.
    const tokens = new Map(
      (
        await c.query<{ execution_arn: string; token: number }>(
          `SELECT execution_arn, token FROM leases WHERE execution_arn = ANY($1::text[])
           ORDER BY execution_arn FOR SHARE`,
          [fenced.map((e) => e.w.executionArn)],
        )
      ).rows.map((r) => [r.execution_arn, r.token]),
    );
    for (const e of fenced)
      if (tokens.get(e.w.executionArn) !== e.fencingToken) outcomes[e.index] = 'conflict';
  }

  const creates: Entry[] = [];
  const updates: { e: Entry; id: number; statusChanged: boolean }[] = [];
  for (const e of entries) {
    if (outcomes[e.index] === 'conflict') continue;
    const cur = current.get(e.w.executionArn);
    if (e.w.create !== undefined) {
      if (cur === undefined) creates.push(e);
      else outcomes[e.index] = 'conflict';
    } else if (cur === undefined || cur.version !== e.w.expectedVersion) {
      outcomes[e.index] = 'conflict';
    } else {
      updates.push({ e, id: cur.id, statusChanged: cur.status !== e.w.status });
    }
  }

  const applied: { e: Entry; id: number }[] = [];
  if (creates.length > 0) {
    creates.sort(byArn);
    const defIds = await putDefinitions(
      c,
      creates.map((e) => e.w.create!.definition),
      creates.map((e) => e.w.create!.definitionId),
    );
    const col = <T>(f: (e: Entry, c: NewExecution) => T) => creates.map((e) => f(e, e.w.create!));
    // ON CONFLICT: an ARN created meanwhile by another node is a conflict, not an error.
    const inserted = await c.query<{ id: number; arn: string }>(
      `INSERT INTO executions (arn, state_machine_arn, name, definition_id, status, start_date, stop_date,
         input, output, error, cause, state_machine_version_arn, state_machine_alias_arn)
       SELECT arn, sm, name, def, status, start_date, stop_date, input, output, error, cause, ver, alias
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
         $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
         WITH ORDINALITY AS u(arn, sm, name, def, status, start_date, stop_date, input, output, error, cause,
           ver, alias, ord)
       ORDER BY ord
       ON CONFLICT (arn) DO NOTHING RETURNING id, arn`,
      [
        col((_, x) => x.executionArn),
        col((_, x) => x.stateMachineArn),
        col((_, x) => x.name),
        defIds,
        col((e) => e.w.status),
        col((_, x) => x.startDate),
        col((e) => (e.ended ? (e.w.stopDate ?? null) : null)),
        col((_, x) => x.input),
        col((e) => e.w.output ?? null),
        col((e) => e.w.error ?? null),
        col((e) => e.w.cause ?? null),
        col((_, x) => x.stateMachineVersionArn ?? null),
        col((_, x) => x.stateMachineAliasArn ?? null),
      ],
    );
    const ids = new Map(inserted.rows.map((r) => [r.arn, r.id]));
    const created: { e: Entry; id: number }[] = [];
    for (const e of creates) {
      const id = ids.get(e.w.executionArn);
      if (id === undefined) outcomes[e.index] = 'conflict';
      else created.push({ e, id });
    }
    if (created.length > 0) {
      await c.query(
        `INSERT INTO states (execution_id, version, state, fixed)
         SELECT id, 1, state, fixed FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, state, fixed)`,
        [
          created.map((x) => x.id),
          created.map((x) => x.e.state),
          created.map((x) => x.e.w.create!.fixed ?? null),
        ],
      );
    }
    applied.push(...created);
  }
  if (updates.length > 0) {
    await c.query(
      `UPDATE states s SET state = u.state, version = s.version + 1
       FROM unnest($1::bigint[], $2::text[]) AS u(id, state) WHERE s.execution_id = u.id`,
      [updates.map((u) => u.id), updates.map((u) => u.e.state)],
    );
    const changed = updates.filter((u) => u.statusChanged);
    if (changed.length > 0) {
      await c.query(
        `UPDATE executions e SET status = u.status, stop_date = u.stop_date, output = u.output,
           error = u.error, cause = u.cause
         FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[])
           AS u(id, status, stop_date, output, error, cause)
         WHERE e.id = u.id`,
        [
          changed.map((u) => u.id),
          changed.map((u) => u.e.w.status),
          changed.map((u) => u.e.w.stopDate ?? null),
          changed.map((u) => u.e.w.output ?? null),
          changed.map((u) => u.e.w.error ?? null),
          changed.map((u) => u.e.w.cause ?? null),
        ],
      );
    }
    applied.push(...updates);
  }
  if (applied.length === 0) return;

  const events = applied.flatMap(({ e, id }) =>
    e.eventIds.map((eventId, i) => [id, eventId, e.eventBodies[i]!] as const),
  );
  if (events.length > 0) {
    await c.query(
      'INSERT INTO events (execution_id, event_id, body) SELECT * FROM unnest($1::bigint[], $2::integer[], $3::text[])',
      [events.map((x) => x[0]), events.map((x) => x[1]), events.map((x) => x[2])],
    );
  }
  // A closed execution waits for nothing: its tokens stop resolving, its timers never fire.
  const ended = applied.filter((a) => a.e.ended).map((a) => a.id);
  if (ended.length > 0) {
    await c.query('DELETE FROM timers WHERE execution_id = ANY($1::bigint[])', [ended]);
    await c.query('DELETE FROM tasks WHERE execution_id = ANY($1::bigint[])', [ended]);
  }
  const live = applied.filter((a) => !a.e.ended);
  const pairs = <T>(f: (e: Entry) => readonly T[]) =>
    live.flatMap(({ e, id }) => f(e).map((x) => [id, x] as const));
  // Removals before additions, as within one write.
  const timersRemoved = pairs((e) => e.w.timersRemoved ?? []);
  if (timersRemoved.length > 0) {
    await c.query(
      `DELETE FROM timers t USING unnest($1::bigint[], $2::text[]) AS u(id, timer_id)
       WHERE t.execution_id = u.id AND t.timer_id = u.timer_id`,
      [timersRemoved.map((x) => x[0]), timersRemoved.map((x) => x[1])],
    );
  }
  const tasksRemoved = pairs((e) => e.w.tasksRemoved ?? []);
  if (tasksRemoved.length > 0) {
    await c.query(
      `DELETE FROM tasks t USING unnest($1::bigint[], $2::text[]) AS u(id, task_id)
       WHERE t.execution_id = u.id AND t.task_id = u.task_id`,
      [tasksRemoved.map((x) => x[0]), tasksRemoved.map((x) => x[1])],
    );
  }
  const timersSet = pairs((e) => [...e.timersSet]);
  if (timersSet.length > 0) {
    await c.query(
      `INSERT INTO timers (execution_id, timer_id, due_time)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])
       ON CONFLICT (execution_id, timer_id) DO UPDATE SET due_time = excluded.due_time`,
      [timersSet.map((x) => x[0]), timersSet.map((x) => x[1][0]), timersSet.map((x) => x[1][1])],
    );
  }
  const tasksAdded = pairs((e) => e.w.tasksAdded ?? []);
  if (tasksAdded.length > 0) {
    await c.query(
      `INSERT INTO tasks (execution_id, task_id, request, status, token, activity_arn)
       SELECT id, task_id, request, status, token, activity_arn
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         WITH ORDINALITY AS u(id, task_id, request, status, token, activity_arn, ord)
       ORDER BY ord`,
      [
        tasksAdded.map((x) => x[0]),
        tasksAdded.map((x) => x[1].taskId),
        tasksAdded.map((x) => JSON.stringify(x[1].request)),
        tasksAdded.map((x) => (x[1].activityArn === undefined ? 'running' : 'queued')),
        tasksAdded.map((x) => x[1].token ?? null),
        tasksAdded.map((x) => x[1].activityArn ?? null),
      ],
    );
  }
}

// ---- helpers ---------------------------------------------------------------------------------

/**
 * Stores definition texts (content-addressed; each distinct text once per call); returns their
 * ids, in order. A text whose id is given (`known`) is not hashed.
 */
async function putDefinitions(
  c: Queryable,
  texts: readonly string[],
  known: readonly (string | undefined)[] = [],
): Promise<string[]> {
  const ids = texts.map((t, i) => known[i] ?? definitionIdOf(t));
  const unique = new Map(ids.map((id, i) => [id, texts[i]!]));
  const sorted = [...unique.keys()].sort();
  await c.query(
    'INSERT INTO definitions (id, text) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (id) DO NOTHING',
    [sorted, sorted.map((id) => unique.get(id)!)],
  );
  return ids;
}

function byArn(a: { w: { executionArn: string } }, b: { w: { executionArn: string } }): number {
  return a.w.executionArn < b.w.executionArn ? -1 : a.w.executionArn > b.w.executionArn ? 1 : 0;
}

async function putTags(c: Queryable, arn: string, tags: readonly Tag[]): Promise<void> {
  if (tags.length === 0) return;
  // Last value per key, as sequential upserts would leave it (one upsert may not touch a row twice).
  const last = new Map(tags.map((t) => [t.key, t.value]));
  await c.query(
    `INSERT INTO tags (resource_arn, key, value) SELECT $1, * FROM unnest($2::text[], $3::text[])
     ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value`,
    [arn, [...last.keys()], [...last.values()]],
  );
}

async function stateMachineOf(c: Queryable, arn: string): Promise<StateMachineRecord | undefined> {
  const r = (
    await c.query<StateMachineRow>(
      `SELECT ${SM_COLUMNS} FROM state_machines s JOIN definitions d ON d.id = s.definition_id WHERE s.arn = $1`,
      [arn],
    )
  ).rows[0];
  return r === undefined ? undefined : toStateMachine(r);
}

async function versionOf(c: Queryable, arn: string): Promise<StateMachineVersionRecord | undefined> {
  const r = (
    await c.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM state_machine_versions v JOIN definitions d ON d.id = v.definition_id
       WHERE v.arn = $1`,
      [arn],
    )
  ).rows[0];
  return r === undefined ? undefined : toVersion(r);
}

async function aliasOf(c: Queryable, arn: string): Promise<StateMachineAliasRecord | undefined> {
  const r = (await c.query<AliasRow>(`${ALIAS_SELECT_POSTGRES} WHERE a.arn = $1`, [arn])).rows[0];
  return r === undefined ? undefined : toAlias(r);
}

/** The first routed version that does not exist (locked FOR SHARE: it cannot be deleted meanwhile). */
async function missingVersion(c: Queryable, routes: readonly AliasRoute[]): Promise<string | undefined> {
  const arns = routes.map((r) => r.stateMachineVersionArn);
  const found = new Set(
    (
      await c.query<{ arn: string }>(
        'SELECT arn FROM state_machine_versions WHERE arn = ANY($1::text[]) ORDER BY arn FOR SHARE',
        [arns],
      )
    ).rows.map((r) => r.arn),
  );
  return arns.find((a) => !found.has(a));
}

async function putRoutes(c: Queryable, aliasArn: string, routes: readonly AliasRoute[]): Promise<void> {
  await c.query(
    `INSERT INTO alias_routes (alias_arn, position, version_arn, weight)
     SELECT $1, * FROM unnest($2::integer[], $3::text[], $4::integer[])`,
    [
      aliasArn,
      routes.map((_, i) => i),
      routes.map((r) => r.stateMachineVersionArn),
      routes.map((r) => r.weight),
    ],
  );
}

async function activityOf(c: Queryable, arn: string): Promise<ActivityRecord | undefined> {
  const r = (
    await c.query<{ arn: string; name: string; creation_date: number }>(
      'SELECT arn, name, creation_date FROM activities WHERE arn = $1',
      [arn],
    )
  ).rows[0];
  return r === undefined ? undefined : { arn: r.arn, name: r.name, creationDate: r.creation_date };
}

function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1)
    throw new RangeError(`ttlMs must be a positive integer: ${ttlMs}`);
}

function checkChannel(channel: string): void {
  // LISTEN takes an identifier, not a parameter.
  if (!IDENTIFIER.test(channel)) throw new TypeError(`invalid channel name: ${channel}`);
}

/** Attempts of a transaction that keeps losing deadlocks or serialization checks. */
const TX_ATTEMPTS = 6;

/** deadlock_detected (40P01) and serialization_failure (40001): the transaction may be retried. */
function isRetryableTxError(e: unknown): boolean {
  return e instanceof pgLib().DatabaseError && (e.code === '40P01' || e.code === '40001');
}

function isUniqueViolation(e: unknown): boolean {
  return e instanceof pgLib().DatabaseError && e.code === '23505';
}

/** The connection, not the statement, failed: server restart, terminated backend, network. */
export function isConnectionError(e: unknown): boolean {
  if (e instanceof pgLib().DatabaseError) {
    const code = e.code ?? '';
    return code.startsWith('08') || code.startsWith('57P');
  }
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  return (
    /Connection terminated|not queryable|ECONNRESET|ECONNREFUSED|EPIPE/.test(e.message) ||
    code === 'ECONNRESET' ||
    code === 'ECONNREFUSED' ||
    code === 'EPIPE'
  );
}

// ---- LISTEN ----------------------------------------------------------------------------------

/** One dedicated connection for LISTEN, reconnected with backoff until closed. */
class Listener {
  private readonly handlers = new Map<string, Set<NotificationHandler>>();
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private backoffMs = 100;
  private closed = false;

  constructor(private readonly config: pg.ClientConfig) {}

  async add(channel: string, handler: NotificationHandler): Promise<void> {
    let set = this.handlers.get(channel);
    const fresh = set === undefined;
    set ??= new Set();
    set.add(handler);
    this.handlers.set(channel, set);
    if (this.client === undefined) await this.connect(false);
    else if (fresh) await this.client.query(`LISTEN ${channel}`);
  }

  async remove(channel: string, handler: NotificationHandler): Promise<void> {
    const set = this.handlers.get(channel);
    if (set === undefined || !set.delete(handler) || set.size > 0) return;
    this.handlers.delete(channel);
    await this.client?.query(`UNLISTEN ${channel}`).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.connecting?.catch(() => undefined);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }

  private connect(reconnected: boolean): Promise<void> {
    // A scheduled reconnect may find that `add` connected meanwhile: one client only.
    if (this.client !== undefined) return Promise.resolve();
    this.connecting ??= (async () => {
      const c = new (pgLib().Client)(this.config);
      c.on('error', () => this.lost(c));
      c.on('end', () => this.lost(c));
      c.on('notification', (n) => {
        for (const h of this.handlers.get(n.channel) ?? []) h(n.payload);
      });
      try {
        await c.connect();
        for (const channel of this.handlers.keys()) await c.query(`LISTEN ${channel}`);
      } catch (e) {
        await c.end().catch(() => undefined);
        throw e;
      }
      if (this.closed) {
        await c.end().catch(() => undefined);
        return;
      }
      this.client = c;
      this.backoffMs = 100;
      if (reconnected) for (const set of this.handlers.values()) for (const h of set) h(undefined);
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private lost(c: pg.Client): void {
    if (this.client !== c) return;
    this.client = undefined;
    void c.end().catch(() => undefined);
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.retry !== undefined) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect(true).catch(() => {
        this.backoffMs = Math.min(this.backoffMs * 2, 5000);
        this.schedule();
      });
    }, this.backoffMs);
  }
}
