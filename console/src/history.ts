/**
 * What the console reads out of an execution history: which state and which Map iteration or
 * Parallel branch each event belongs to (by following `previousEventId`), each state's outcome,
 * its visits (input, output, variables, retries, errors), and callback tokens still awaited.
 * Pure functions over the GetExecutionHistory events.
 */
import type { ExecutionStatus, HistoryEvent } from './api.js';

export type Outcome = 'succeeded' | 'failed' | 'caught' | 'running' | 'notReached';

export interface Visit {
  state: string;
  /** Where the visit ran: '' at the top level, else e.g. `Map[3]` or `Par#1 › Map[0]`. */
  path: string;
  entered: HistoryEvent;
  exited?: HistoryEvent;
  /** Task attempts (TaskScheduled / ActivityScheduled / LambdaFunctionScheduled events). */
  attempts: number;
  errors: { type: string; error?: string; cause?: string }[];
  outcome: Outcome;
  /** Set while a `.waitForTaskToken` task of this visit has not ended. */
  pendingToken?: string;
}

export interface Analysis {
  /** Per event id: the state it belongs to and its iteration path. */
  owner: Map<number, { state?: string; path: string }>;
  visits: Visit[];
  /** Aggregated outcome per state name. */
  outcomes: Map<string, Outcome>;
  paths: string[];
  types: string[];
}

const FAILURE = /(Failed|TimedOut|Aborted)$/;
const TASK_START = /^(TaskScheduled|ActivityScheduled|LambdaFunctionScheduled)$/;
const TASK_END =
  /^(Task|Activity|LambdaFunction)(Succeeded|Failed|TimedOut|Aborted|StartFailed|ScheduleFailed)$/;
const RANK: Record<Outcome, number> = { notReached: 0, succeeded: 1, caught: 2, failed: 3, running: 4 };

export function detailsOf(e: HistoryEvent): Record<string, unknown> | undefined {
  for (const [k, v] of Object.entries(e)) {
    if (k.endsWith('EventDetails') && typeof v === 'object' && v !== null)
      return v as Record<string, unknown>;
  }
  return undefined;
}

export function analyse(events: readonly HistoryEvent[], status: ExecutionStatus | undefined): Analysis {
  const owner = new Map<number, { state?: string; path: string }>();
  const byId = new Map<number, HistoryEvent>();
  const openVisit = new Map<number, Visit>(); // event id → the visit it belongs to
  const branchCount = new Map<number, number>();
  const scopes = new Map<string, { parentPath: string; visit: Visit | undefined }>();
  const visits: Visit[] = [];
  const paths = new Set<string>();
  const types = new Set<string>();
  const pendingTask = new Map<Visit, HistoryEvent | undefined>();
  // Whether a visit's latest outcome event was a failure: a failed visit that still exits was caught.
  const lastFailed = new Set<Visit>();

  for (const e of events) {
    byId.set(e.id, e);
    types.add(e.type);
    const prev = owner.get(e.previousEventId);
    const prevEvent = byId.get(e.previousEventId);
    let path = prev?.path ?? '';
    let state = prev?.state;
    let visit = openVisit.get(e.previousEventId);
    const d = detailsOf(e);
    if (e.type === 'MapIterationStarted' && d) {
      const inner = join(path, `${String(d.name)}[${String(d.index)}]`);
      scopes.set(inner, { parentPath: path, visit });
      path = inner;
      state = undefined;
      visit = undefined;
    } else if (e.type.endsWith('StateEntered') && d) {
      if (prevEvent?.type === 'ParallelStateStarted') {
        const n = branchCount.get(prevEvent.id) ?? 0;
        branchCount.set(prevEvent.id, n + 1);
        const inner = join(path, `${prev?.state ?? 'Parallel'}#${n}`);
        scopes.set(inner, { parentPath: path, visit });
        path = inner;
      }
      state = String(d.name);
      visit = { state, path, entered: e, attempts: 0, errors: [], outcome: 'running' };
      visits.push(visit);
    } else if (/^MapIteration(Succeeded|Failed|Aborted)$/.test(e.type) || closesParallel(e, visit)) {
      // Back to the enclosing Map or Parallel state's own thread.
      const scope = scopes.get(path);
      if (scope) {
        path = scope.parentPath;
        visit = scope.visit;
        state = visit?.state;
      }
    }
    if (visit && !e.type.endsWith('StateEntered')) {
      if (TASK_START.test(e.type)) {
        visit.attempts++;
        pendingTask.set(visit, e);
      } else if (TASK_END.test(e.type)) {
        pendingTask.set(visit, undefined);
      }
      if (FAILURE.test(e.type) && d) {
        const err: Visit['errors'][number] = { type: e.type };
        if (typeof d.error === 'string') err.error = d.error;
        if (typeof d.cause === 'string') err.cause = d.cause;
        visit.errors.push(err);
        lastFailed.add(visit);
      } else if (/(Succeeded|Submitted)$/.test(e.type)) {
        lastFailed.delete(visit);
      }
      if (e.type.endsWith('StateExited')) {
        visit.exited = e;
        visit.outcome = lastFailed.has(visit) ? 'caught' : 'succeeded';
      }
    }
    if (e.type === 'FailStateEntered' && visit) visit.errors.push({ type: e.type });
    paths.add(path);
    owner.set(e.id, state === undefined ? { path } : { state, path });
    if (visit) openVisit.set(e.id, visit);
  }

  const terminal = status !== undefined && status !== 'RUNNING';
  for (const v of visits) {
    if (v.exited) continue;
    if (v.entered.type === 'FailStateEntered') v.outcome = 'failed';
    else if (terminal) v.outcome = 'failed';
    const t = pendingTask.get(v);
    if (!terminal && t) {
      const d = detailsOf(t);
      if (d && typeof d.resource === 'string' && d.resource.endsWith('.waitForTaskToken')) {
        const token = findToken(d.parameters);
        if (token !== undefined) v.pendingToken = token;
      }
    }
  }
  const outcomes = new Map<string, Outcome>();
  for (const v of visits) {
    const o = outcomes.get(v.state);
    if (o === undefined || RANK[v.outcome] > RANK[o]) outcomes.set(v.state, v.outcome);
  }
  return { owner, visits, outcomes, paths: [...paths].sort(), types: [...types].sort() };
}

/** A Parallel state's closing event, arriving on the thread of the branch that finished last. */
function closesParallel(e: HistoryEvent, visit: Visit | undefined): boolean {
  return (
    /^ParallelState(Succeeded|Failed|Aborted|Exited)$/.test(e.type) &&
    visit !== undefined &&
    visit.entered.type !== 'ParallelStateEntered'
  );
}

function join(path: string, step: string): string {
  return path === '' ? step : `${path} › ${step}`;
}

/** The task token in a TaskScheduled event's parameters (JSON text): a string under a key named like "token". */
export function findToken(parameters: unknown): string | undefined {
  let value: unknown = parameters;
  if (typeof parameters === 'string') {
    try {
      value = JSON.parse(parameters);
    } catch {
      return undefined;
    }
  }
  let found: string | undefined;
  const walk = (v: unknown, depth: number): void => {
    if (found !== undefined || depth > 8 || typeof v !== 'object' || v === null) return;
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'string' && /token/i.test(k)) {
        found = x;
        return;
      }
    }
    for (const x of Object.values(v)) walk(x, depth + 1);
  };
  walk(value, 0);
  return found;
}
