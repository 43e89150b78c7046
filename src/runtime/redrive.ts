/**
 * What DescribeExecution says about redriving a Standard execution (`redriveCount`,
 * `redriveStatus`, `redriveStatusReason`), with AWS's values and reason texts
 * (API_DescribeExecution; the SUCCEEDED reason as AWS's recordings show it, without a period).
 *
 * Stepwise does not redrive yet: `redriveCount` is always 0, and RedriveExecution answers
 * `ExecutionNotRedrivable` (see `redriveRefusal`).
 */
import type { ExecutionStatus } from '../interpreter/types.js';

export type RedriveStatus = 'REDRIVABLE' | 'NOT_REDRIVABLE' | 'REDRIVABLE_BY_MAP_RUN';

/** AWS keeps a failed, aborted or timed-out execution redrivable for 14 days after it stopped. */
export const REDRIVE_PERIOD_MS = 14 * 24 * 3600 * 1000;
/** AWS's maximum duration of a Standard execution: one year (365 days). */
export const MAX_EXECUTION_MS = 365 * 24 * 3600 * 1000;
/** The cause the interpreter records when an execution reaches the history event limit. */
const HISTORY_LIMIT_CAUSE = 'The execution reached the maximum number of history events';

export interface RedriveInfo {
  redriveCount: number;
  redriveStatus: RedriveStatus;
  redriveStatusReason?: string;
}

/** The redrive fields of a Standard execution, as of `now`. */
export function redriveInfo(
  e: {
    status: ExecutionStatus;
    startDate: number;
    stopDate?: number | undefined;
    error?: string | undefined;
    cause?: string | undefined;
  },
  now: number,
  maxExecutionMs = MAX_EXECUTION_MS,
): RedriveInfo {
  const not = (reason: string): RedriveInfo => ({
    redriveCount: 0,
    redriveStatus: 'NOT_REDRIVABLE',
    redriveStatusReason: reason,
  });
  if (e.status === 'RUNNING' || e.status === 'SUCCEEDED') {
    return not(`Execution is ${e.status} and cannot be redriven`);
  }
  if (e.error === 'States.Runtime' && e.cause?.startsWith(HISTORY_LIMIT_CAUSE) === true) {
    return not('Execution history event limit exceeded');
  }
  const stop = e.stopDate ?? now;
  if (e.status === 'TIMED_OUT' && stop - e.startDate >= maxExecutionMs) {
    return not('Execution has exceeded the max execution time');
  }
  if (now - stop > REDRIVE_PERIOD_MS) return not('Execution redrivable period exceeded');
  return { redriveCount: 0, redriveStatus: 'REDRIVABLE' };
}
