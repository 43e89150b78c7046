/**
 * What the SQLite and PostgreSQL stores share above SQL dialect: the row shapes their
 * queries return (same schema, same column names), the mapping from rows to store records,
 * and pagination. One copy, so the two stores cannot drift apart in what they hand back.
 */
import { createHash } from 'node:crypto';
import type { ExecutionStatus, TaskRequest } from '../../interpreter/types.js';
import type { JsonObject } from '../../language/json.js';
import type { ExecutionSummary, Page, PageRequest, StateMachineRecord, TaskRow } from './types.js';

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
export const EXECUTION_COLUMNS = `id, arn, state_machine_arn, name, status, start_date, stop_date`;

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
  return s;
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
