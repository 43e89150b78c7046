/**
 * What the SQLite and PostgreSQL stores share above SQL dialect: the row shapes their
 * queries return (same schema, same column names), the mapping from rows to store records,
 * and pagination. One copy, so the two stores cannot drift apart in what they hand back.
 */
import { createHash } from 'node:crypto';
import type { ExecutionStatus, TaskRequest } from '../../interpreter/types.js';
import type { JsonObject } from '../../language/json.js';
import type {
  ExecutionSummary,
  LoadedState,
  Page,
  PageRequest,
  StateMachineAliasRecord,
  StateMachineRecord,
  StateMachineVersionRecord,
  TaskRow,
} from './types.js';

// Larger than any start date or row id: the position before the first page.
export const TOP = Number.MAX_SAFE_INTEGER;

export interface ExecutionRow {
  id: number;
  arn: string;
  state_machine_arn: string;
  name: string;
  status: ExecutionStatus;
  start_date: number;
  stop_date: number | null;
  state_machine_version_arn: string | null;
  state_machine_alias_arn: string | null;
}
export interface ExecutionFullRow extends ExecutionRow {
  definition_id: string;
  input: string;
  output: string | null;
  error: string | null;
  cause: string | null;
}
export interface StateMachineRow {
  arn: string;
  name: string;
  type: 'STANDARD' | 'EXPRESS';
  text: string;
  role_arn: string;
  revision_id: string;
  creation_date: number;
  options: string;
}
export interface TaskRowRaw {
  seq: number;
  arn: string;
  task_id: string;
  request: string;
  status: TaskRow['status'];
  token: string | null;
  activity_arn: string | null;
  worker_name: string | null;
  claimed_at: number | null;
}

export const TASK_COLUMNS = `t.seq, e.arn, t.task_id, t.request, t.status, t.token, t.activity_arn, t.worker_name, t.claimed_at`;
export const SM_COLUMNS = `s.arn, s.name, s.type, d.text, s.role_arn, s.revision_id, s.creation_date, s.options`;
export const EXECUTION_COLUMNS = `id, arn, state_machine_arn, name, status, start_date, stop_date,
  state_machine_version_arn, state_machine_alias_arn`;

export interface VersionRow {
  arn: string;
  state_machine_arn: string;
  version: number;
  type: 'STANDARD' | 'EXPRESS';
  text: string;
  role_arn: string;
  revision_id: string;
  description: string | null;
  creation_date: number;
  options: string;
}
export const VERSION_COLUMNS = `v.arn, v.state_machine_arn, v.version, v.type, d.text, v.role_arn, v.revision_id,
  v.description, v.creation_date, v.options`;

export interface AliasRow {
  arn: string;
  state_machine_arn: string;
  name: string;
  description: string | null;
  creation_date: number;
  update_date: number;
  /** JSON text of the routes, in position order (aggregated by the query). */
  routes: string;
}

/** Aliases with their routes as one JSON text, in SQLite's dialect (append a WHERE clause). */
export const ALIAS_SELECT_SQLITE = `SELECT a.arn, a.state_machine_arn, a.name, a.description, a.creation_date,
  a.update_date, (SELECT json_group_array(json_object('v', r.version_arn, 'w', r.weight, 'p', r.position))
    FROM alias_routes r WHERE r.alias_arn = a.arn) AS routes
  FROM state_machine_aliases a`;

/** The same in PostgreSQL's. */
export const ALIAS_SELECT_POSTGRES = `SELECT a.arn, a.state_machine_arn, a.name, a.description, a.creation_date,
  a.update_date, (SELECT coalesce(json_agg(json_build_object('v', r.version_arn, 'w', r.weight, 'p', r.position)),
    '[]')::text FROM alias_routes r WHERE r.alias_arn = a.arn) AS routes
  FROM state_machine_aliases a`;

export function toVersion(r: VersionRow): StateMachineVersionRecord {
  const v: StateMachineVersionRecord = {
    arn: r.arn,
    stateMachineArn: r.state_machine_arn,
    version: r.version,
    type: r.type,
    definition: r.text,
    roleArn: r.role_arn,
    revisionId: r.revision_id,
    creationDate: r.creation_date,
    options: JSON.parse(r.options) as JsonObject,
  };
  if (r.description !== null) v.description = r.description;
  return v;
}

export function toAlias(r: AliasRow): StateMachineAliasRecord {
  const routes = JSON.parse(r.routes) as { v: string; w: number; p: number }[];
  const a: StateMachineAliasRecord = {
    arn: r.arn,
    stateMachineArn: r.state_machine_arn,
    name: r.name,
    routingConfiguration: routes
      .sort((x, y) => x.p - y.p)
      .map((x) => ({ stateMachineVersionArn: x.v, weight: x.w })),
    creationDate: r.creation_date,
    updateDate: r.update_date,
  };
  if (r.description !== null) a.description = r.description;
  return a;
}

/** Content address of a definition text: executions share one stored copy of it. */
export function definitionIdOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function limitOf(page: { limit: number }): number {
  if (!Number.isSafeInteger(page.limit) || page.limit < 1)
    throw new RangeError(`limit must be ≥ 1: ${page.limit}`);
  return page.limit;
}

/** `rows` holds up to limit + 1 rows: the extra one only says that a next page exists. */
export function paginate<R, T>(
  rows: R[],
  page: PageRequest,
  map: (r: R) => T,
  token: (last: R) => string,
): Page<T> {
  const more = rows.length > page.limit;
  if (more) rows.length = page.limit;
  const result: Page<T> = { items: rows.map(map) };
  const last = rows[rows.length - 1];
  if (more && last !== undefined) result.nextToken = token(last);
  return result;
}

export function toSummary(r: ExecutionRow): ExecutionSummary {
  const s: ExecutionSummary = {
    executionArn: r.arn,
    stateMachineArn: r.state_machine_arn,
    name: r.name,
    status: r.status,
    startDate: r.start_date,
  };
  if (r.stop_date !== null) s.stopDate = r.stop_date;
  if (r.state_machine_version_arn !== null) s.stateMachineVersionArn = r.state_machine_version_arn;
  if (r.state_machine_alias_arn !== null) s.stateMachineAliasArn = r.state_machine_alias_arn;
  return s;
}

/** A `states` row joined with its execution's definition id and input. */
export interface LoadedStateRow {
  state: string;
  fixed: string | null;
  version: number;
  definition_id: string;
  input: string;
}

export function toLoadedState(r: LoadedStateRow): LoadedState {
  return {
    state: JSON.parse(r.state) as unknown,
    version: r.version,
    definitionId: r.definition_id,
    fixed: r.fixed === null ? undefined : (JSON.parse(r.fixed) as unknown),
    input: r.input,
  };
}

export function toStateMachine(r: StateMachineRow): StateMachineRecord {
  return {
    arn: r.arn,
    name: r.name,
    type: r.type,
    definition: r.text,
    roleArn: r.role_arn,
    revisionId: r.revision_id,
    creationDate: r.creation_date,
    options: JSON.parse(r.options) as JsonObject,
  };
}

export function toTask(r: TaskRowRaw): TaskRow {
  const t: TaskRow = {
    executionArn: r.arn,
    taskId: r.task_id,
    request: JSON.parse(r.request) as TaskRequest,
    status: r.status,
  };
  if (r.token !== null) t.token = r.token;
  if (r.activity_arn !== null) t.activityArn = r.activity_arn;
  if (r.worker_name !== null) t.workerName = r.worker_name;
  if (r.claimed_at !== null) t.claimedAt = r.claimed_at;
  return t;
}
