/**
 * What happened to each state of an execution, from its history (GetExecutionHistory events), as
 * the AWS console colours the graph: succeeded, failed, caught (failed, then left by a Catch),
 * running, cancelled (still open when the execution stopped for another reason); states absent
 * from the map were not reached.
 *
 * Events are attributed to a state *instance* (its StateEntered event) by following
 * previousEventId, which threads Parallel branches and Map iterations apart even when their
 * events interleave.
 */

export type StateOutcome = 'succeeded' | 'failed' | 'caught' | 'running' | 'cancelled';

export interface StateOutcomeInfo {
  outcome: StateOutcome;
  /** How many times the state was entered (Map iterations, loops). */
  entered: number;
  /** The last error seen in the state, if any. */
  error?: string;
  cause?: string;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionOutcomes {
  status: ExecutionStatus;
  /** By state name. */
  states: Map<string, StateOutcomeInfo>;
}

interface Instance {
  name: string;
  type: string;
  /** The instance this one runs inside (a Parallel or Map state), if any. */
  parent: number | undefined;
  result: 'none' | 'ok' | 'failed';
  exited: boolean;
  fail: boolean;
  error?: string;
  cause?: string;
}

/** Worse outcomes win when several instances of a state (Map iterations, loops) disagree. */
const RANK: Readonly<Record<StateOutcome, number>> = {
  succeeded: 0,
  caught: 1,
  running: 2,
  cancelled: 3,
  failed: 4,
};

/** Accepts an array of events or `{ events: [...] }`; ignores what it does not understand. */
export function outcomesFromHistory(history: unknown): ExecutionOutcomes {
  const list: unknown[] = Array.isArray(history)
    ? history
    : isObject(history) && Array.isArray(history.events)
      ? (history.events as unknown[])
      : [];
  const events = list.filter(isObject);
  // Sorted by id when ids are present; otherwise in the given order.
  const ids = events.map((e, i) => (typeof e.id === 'number' ? e.id : i + 1));
  const byId = new Map<number, number>();
  ids.forEach((id, i) => byId.set(id, i));

  const instances = new Map<number, Instance>();
  /** The open instance each event belongs to (by event index), undefined at the top level. */
  const owner: (number | undefined)[] = [];
  let status: ExecutionStatus = 'RUNNING';
  let lastOpen: number | undefined;

  events.forEach((e, i) => {
    const type = typeof e.type === 'string' ? e.type : '';
    const prevId = typeof e.previousEventId === 'number' ? e.previousEventId : ids[i]! - 1;
    const p = byId.get(prevId);
    let own: number | undefined;
    if (p !== undefined && p < i) {
      const pType = events[p]!.type;
      const pt = typeof pType === 'string' ? pType : '';
      if (pt.endsWith('StateEntered')) own = p;
      else if (pt.endsWith('StateExited')) {
        const inst = owner[p];
        own = inst === undefined ? undefined : instances.get(inst)?.parent;
      } else own = owner[p];
    } else own = lastOpen;
    owner.push(own);

    if (type.endsWith('StateEntered')) {
      const d = details(e, 'stateEnteredEventDetails');
      const name = typeof d.name === 'string' ? d.name : '?';
      const inst: Instance = {
        name,
        type: type.slice(0, -'StateEntered'.length),
        parent: own,
        result: 'none',
        exited: false,
        fail: type === 'FailStateEntered',
      };
      instances.set(i, inst);
      lastOpen = i;
      return;
    }
    if (type.endsWith('StateExited')) {
      const d = details(e, 'stateExitedEventDetails');
      const name = typeof d.name === 'string' ? d.name : undefined;
      let inst = own === undefined ? undefined : instances.get(own);
      if (!inst || (name !== undefined && inst.name !== name)) {
        // previousEventId did not lead to the state: take the latest open instance of that name.
        inst = undefined;
        for (const [k, x] of [...instances].reverse()) {
          if (!x.exited && x.name === name) {
            inst = x;
            owner[i] = k;
            break;
          }
        }
      }
      if (inst) inst.exited = true;
      if (inst && inst.parent !== undefined) lastOpen = inst.parent;
      return;
    }
    if (type.startsWith('Execution')) {
      if (type === 'ExecutionSucceeded') status = 'SUCCEEDED';
      else if (type === 'ExecutionFailed') status = 'FAILED';
      else if (type === 'ExecutionTimedOut') status = 'TIMED_OUT';
      else if (type === 'ExecutionAborted') status = 'ABORTED';
      return;
    }
    const inst = own === undefined ? undefined : instances.get(own);
    if (!inst) return;
    if (/(Failed|TimedOut)$/.test(type)) {
      inst.result = 'failed';
      const d = firstDetails(e);
      if (typeof d.error === 'string') inst.error = d.error;
      if (typeof d.cause === 'string') inst.cause = d.cause;
    } else if (/Succeeded$/.test(type) && !type.startsWith('MapIteration')) {
      inst.result = 'ok';
    }
  });

  const states = new Map<string, StateOutcomeInfo>();
  for (const inst of instances.values()) {
    const outcome = instanceOutcome(inst, status);
    const prev = states.get(inst.name);
    if (!prev) {
      const info: StateOutcomeInfo = { outcome, entered: 1 };
      if (inst.error !== undefined) info.error = inst.error;
      if (inst.cause !== undefined) info.cause = inst.cause;
      states.set(inst.name, info);
      continue;
    }
    prev.entered++;
    if (RANK[outcome] >= RANK[prev.outcome]) {
      prev.outcome = outcome;
      if (inst.error !== undefined) prev.error = inst.error;
      if (inst.cause !== undefined) prev.cause = inst.cause;
    }
  }
  return { status, states };
}

function instanceOutcome(inst: Instance, status: ExecutionStatus): StateOutcome {
  if (inst.fail) return 'failed';
  if (inst.exited) return inst.result === 'failed' ? 'caught' : 'succeeded';
  if (inst.result === 'failed') return 'failed';
  switch (status) {
    case 'RUNNING':
      return 'running';
    case 'TIMED_OUT':
      return 'failed';
    case 'FAILED':
      // A Map or Parallel still open when the execution failed failed through its children.
      return inst.type === 'Map' || inst.type === 'Parallel' ? 'failed' : 'cancelled';
    case 'ABORTED':
    case 'SUCCEEDED':
      return 'cancelled';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function details(e: Record<string, unknown>, key: string): Record<string, unknown> {
  const d = e[key];
  return isObject(d) ? d : {};
}

/** The `…EventDetails` object of an event, whatever its name. */
function firstDetails(e: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(e)) {
    if (k.endsWith('EventDetails') && isObject(e[k])) return e[k];
  }
  return {};
}
