/**
 * The durable runtime's store: what it persists (state machines, executions, their state and
 * history, timers, in-flight tasks, activities, tags) and the queries the runtime and the API
 * server need. Implementations: SQLite (`sqlite.ts`); the contract all of them must pass lives in
 * `contract.ts`. The interface is async so that networked databases fit it. See ADR 0004.
 *
 * Values (state, events, task requests) round-trip through JSON: properties holding
 * `undefined` come back absent. Times are epoch milliseconds; the store never reads the clock.
 */
import type { Command, ExecutionStatus, HistoryEvent, TaskRequest } from '../../interpreter/types.js';
import type { JsonObject } from '../../language/json.js';

/** A page of results; `nextToken` is present only when more results exist. */
export interface Page<T> {
  items: T[];
  nextToken?: string;
}

export interface PageRequest {
  /** At least 1; callers apply the API's defaults and maxima. */
  limit: number;
  nextToken?: string | undefined;
}

/** Outcome of a create that may find the name taken; the caller decides what that means. */
export type CreateResult<T> = { created: true } | { created: false; existing: T };

export interface StateMachineRecord {
  arn: string;
  name: string;
  type: 'STANDARD' | 'EXPRESS';
  /** Definition text, as given. */
  definition: string;
  roleArn: string;
  /** Changes on every update; also the optimistic check of `updateStateMachine`. */
  revisionId: string;
  /** Epoch milliseconds. */
  creationDate: number;
  /** Other settings (description, loggingConfiguration, tracingConfiguration…), as the API shapes them. */
  options: JsonObject;
}

export interface ActivityRecord {
  arn: string;
  name: string;
  creationDate: number;
}

export interface Tag {
  key: string;
  value: string;
}

/**
 * A published version of a state machine: an immutable snapshot of one revision. `arn` is
 * `<stateMachineArn>:<version>`; version numbers grow per state machine and are never reused.
 */
export interface StateMachineVersionRecord {
  arn: string;
  stateMachineArn: string;
  version: number;
  type: 'STANDARD' | 'EXPRESS';
  definition: string;
  roleArn: string;
  /** The revision it was published from. */
  revisionId: string;
  description?: string;
  creationDate: number;
  /** As `StateMachineRecord.options` at that revision. */
  options: JsonObject;
}

/** Outcome of `publishStateMachineVersion`. */
export type PublishVersionResult =
  /** `existing`: the current revision was published already; that version is returned. */
  | { outcome: 'created' | 'existing'; version: StateMachineVersionRecord }
  /** `conflict`: the revision is not `expectedRevisionId`; `limit`: `maxVersions` versions exist. */
  | { outcome: 'missing' | 'conflict' | 'limit'; revisionId?: string };

/** One route of an alias: a version and the percentage of starts it receives. */
export interface AliasRoute {
  stateMachineVersionArn: string;
  weight: number;
}

export interface StateMachineAliasRecord {
  /** `<stateMachineArn>:<name>`. */
  arn: string;
  stateMachineArn: string;
  name: string;
  description?: string;
  /** One or two routes, in the order given. */
  routingConfiguration: AliasRoute[];
  creationDate: number;
  updateDate: number;
}

/** Outcome of creating or updating an alias; `versionMissing` names a route's version that does not exist. */
export type AliasWriteResult =
  | { outcome: 'created' | 'updated' }
  | { outcome: 'exists'; existing: StateMachineAliasRecord }
  | { outcome: 'missing' | 'limit' }
  | { outcome: 'versionMissing'; versionArn: string };

/** What ListExecutions shows. */
export interface ExecutionSummary {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  /** The version it was started with (directly or through an alias). */
  stateMachineVersionArn?: string;
  /** The alias it was started through. */
  stateMachineAliasArn?: string;
}

/** What DescribeExecution shows, plus the pinned definition. */
export interface ExecutionRecord extends ExecutionSummary {
  /** JSON text, as given to StartExecution. */
  input: string;
  /** JSON text. */
  output?: string;
  error?: string;
  cause?: string;
  /** The definition the execution runs (see `getDefinition`); updates of its state machine do not change it. */
  definitionId: string;
}

/** The row a `StepWrite` with `create` inserts. */
export interface NewExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  startDate: number;
  /** Definition text; stored once per distinct text (content-addressed). */
  definition: string;
  /**
   * `definitionIdOf(definition)`, when the caller knows it (the engine computes it once per state
   * machine revision): the store need not hash the text, which for a large definition was most of
   * a start's cost. The store still stores the text when it does not hold it.
   */
  definitionId?: string | undefined;
  /** Set when started with a version ARN or through an alias (`stateMachineArn` stays unqualified). */
  stateMachineVersionArn?: string | undefined;
  stateMachineAliasArn?: string | undefined;
  /**
   * JSON text of the parts of the state that never change after the start, kept once beside it
   * instead of in every state write (`loadState` returns it as `fixed`). Optional: a store
   * opaque to the runtime's state also serves callers that keep everything in `state`.
   */
  fixed?: string | undefined;
}

export interface TimerRow {
  executionArn: string;
  timerId: string;
  /** Epoch milliseconds. */
  dueTime: number;
}

export interface NewTask {
  taskId: string;
  /** What the runtime needs to dispatch the task again after a restart. */
  request: TaskRequest;
  /** Token by which a worker reports back (callback tasks, activity tasks). Unique store-wide. */
  token?: string | undefined;
  /** Set for activity tasks: the task waits in that activity's queue for `claimActivityTask`. */
  activityArn?: string | undefined;
}

/**
 * An in-flight task. `running`: the runtime carries it out (local function, callback wait);
 * `queued`: an activity task no worker has claimed yet; `claimed`: handed to `workerName`.
 */
export interface TaskRow {
  executionArn: string;
  taskId: string;
  request: TaskRequest;
  status: 'running' | 'queued' | 'claimed';
  token?: string;
  activityArn?: string;
  workerName?: string;
  claimedAt?: number;
}

/**
 * Everything one interpreter call changes. Within one write, removals apply before additions:
 * pass the net effect of the step's commands (see `timerChanges`). When `status` leaves
 * RUNNING, the store also drops the execution's remaining timers and tasks.
 */
export interface StepChanges {
  /** The new state: any JSON-serialisable value (the runtime's `ExecutionState`, or an envelope). */
  state: unknown;
  status: ExecutionStatus;
  events?: readonly HistoryEvent[] | undefined;
  /** Timers to set; setting an existing timer id moves its due time. */
  timersSet?: readonly { timerId: string; dueTime: number }[] | undefined;
  timersRemoved?: readonly string[] | undefined;
  tasksAdded?: readonly NewTask[] | undefined;
  tasksRemoved?: readonly string[] | undefined;
  /** Copied to the execution row when `status` changes. */
  stopDate?: number | undefined;
  /** JSON text. */
  output?: string | undefined;
  error?: string | undefined;
  cause?: string | undefined;
}

/** One execution's step in a `commit` batch. */
export interface StepWrite extends StepChanges {
  executionArn: string;
  /** The version `loadState` returned (0 with `create`); a mismatch makes the write a conflict. */
  expectedVersion: number;
  /** Present on an execution's first write: inserts the execution (a conflict if the ARN exists). */
  create?: NewExecution | undefined;
}

/**
 * Per write of a `commit` batch: `ok`, or `conflict` (stale `expectedVersion`, ARN taken on
 * create, missing execution, duplicate event id, task id or token) in which case nothing of
 * that write was applied and the others of the batch are unaffected.
 */
export type CommitOutcome = 'ok' | 'conflict';

export interface LoadedState {
  state: unknown;
  version: number;
  definitionId: string;
  /** What the create write gave as `fixed`, parsed (undefined when it gave none). */
  fixed: unknown;
  /** The execution's input (JSON text, as given to StartExecution). */
  input: string;
}

/** What UpdateStateMachineAlias changes (only what is given). */
export interface AliasChange {
  description?: string | undefined;
  routingConfiguration?: AliasRoute[] | undefined;
  updateDate: number;
}

/** A version is deleted, or kept because aliases route to it. */
export type DeleteVersionResult = { outcome: 'deleted' } | { outcome: 'referenced'; aliasNames: string[] };

/** What PublishStateMachineVersion asks of the store (also for `publish` on create and update). */
export interface PublishVersionRequest {
  expectedRevisionId?: string | undefined;
  description?: string | undefined;
  creationDate: number;
  maxVersions: number;
}

export interface Store {
  close(): Promise<void>;
  /**
   * How many `commit` batches the runtime may usefully have in flight at once (default 1). More
   * than one pays off when the store writes elsewhere (another thread, a server) while the
   * runtime interprets; the runtime never has two writes of one execution in flight.
   */
  readonly commitsInFlight?: number;

  // ---- state machines (ordered by ARN) ----
  createStateMachine(
    sm: StateMachineRecord,
    tags?: readonly Tag[],
  ): Promise<CreateResult<StateMachineRecord>>;
  getStateMachine(arn: string): Promise<StateMachineRecord | undefined>;
  /** Replaces the record if its stored revision is still `expectedRevisionId`. */
  updateStateMachine(
    sm: StateMachineRecord,
    expectedRevisionId: string,
  ): Promise<'updated' | 'missing' | 'conflict'>;
  /** Deletes it, its tags, versions and aliases; its executions and their pinned definitions stay. */
  deleteStateMachine(arn: string): Promise<boolean>;
  listStateMachines(page: PageRequest): Promise<Page<StateMachineRecord>>;
  getDefinition(definitionId: string): Promise<string | undefined>;

  // ---- versions (newest first) and aliases (oldest first) ----
  /**
   * Snapshots the machine's current revision as its next version, atomically: `missing` if the
   * machine does not exist, `conflict` if its revision is not `expectedRevisionId` (when given),
   * `existing` if that revision was published already, `limit` if `maxVersions` versions exist.
   */
  publishStateMachineVersion(
    stateMachineArn: string,
    p: PublishVersionRequest,
  ): Promise<PublishVersionResult>;
  getStateMachineVersion(versionArn: string): Promise<StateMachineVersionRecord | undefined>;
  /** Highest version number first. */
  listStateMachineVersions(
    query: { stateMachineArn: string } & PageRequest,
  ): Promise<Page<StateMachineVersionRecord>>;
  /**
   * `referenced` (nothing deleted) names the aliases that route to the version; deleting a
   * missing version is `deleted` too (AWS answers it as a success).
   */
  deleteStateMachineVersion(versionArn: string): Promise<DeleteVersionResult>;
  /**
   * Creates an alias of `alias.stateMachineArn` if every routed version exists and fewer than
   * `maxAliases` aliases do: `created`, `exists` (the name is taken: the stored one),
   * `versionMissing` or `limit`.
   */
  createStateMachineAlias(alias: StateMachineAliasRecord, maxAliases: number): Promise<AliasWriteResult>;
  getStateMachineAlias(aliasArn: string): Promise<StateMachineAliasRecord | undefined>;
  /** Changes what is given: `updated`, `missing` or `versionMissing`. */
  updateStateMachineAlias(aliasArn: string, change: AliasChange): Promise<AliasWriteResult>;
  deleteStateMachineAlias(aliasArn: string): Promise<boolean>;
  /** Oldest first; with `versionArn`, only the aliases that route to that version. */
  listStateMachineAliases(
    query: { stateMachineArn: string; versionArn?: string | undefined } & PageRequest,
  ): Promise<Page<StateMachineAliasRecord>>;

  // ---- executions ----
  /**
   * Inserts an execution together with its first step, like `commit` with `create`.
   * If the ARN exists, returns the existing record: StartExecution's idempotency (same name,
   * same input, still RUNNING: see `isIdempotentStart`) is the caller's decision.
   */
  createExecution(exec: NewExecution, first: StepChanges): Promise<CreateResult<ExecutionRecord>>;
  getExecution(executionArn: string): Promise<ExecutionRecord | undefined>;
  /**
   * Newest first (start date, then creation order). `by: 'version'` (`'alias'`): `stateMachineArn`
   * is a version (alias) ARN, and the executions started with it are listed.
   */
  listExecutions(
    query: {
      stateMachineArn: string;
      status?: ExecutionStatus | undefined;
      by?: 'version' | 'alias' | undefined;
    } & PageRequest,
  ): Promise<Page<ExecutionSummary>>;
  /** ARNs of RUNNING executions, in creation order; for recovery checks. */
  listRunningExecutions(page: PageRequest): Promise<Page<string>>;
  loadState(executionArn: string): Promise<LoadedState | undefined>;
  /** Group commit: all writes in one transaction; see `CommitOutcome`. Rejects only on store failure (then nothing is applied). */
  commit(writes: readonly StepWrite[]): Promise<CommitOutcome[]>;
  /** GetExecutionHistory; `undefined` if the execution does not exist. */
  history(
    executionArn: string,
    query: { reverse?: boolean | undefined } & PageRequest,
  ): Promise<Page<HistoryEvent> | undefined>;

  // ---- timers ----
  /** Timers due at `now` or earlier, earliest first, at most `limit`. */
  dueTimers(now: number, limit: number): Promise<TimerRow[]>;
  nextTimerDue(): Promise<number | undefined>;

  // ---- tasks, callbacks, activities ----
  findTaskByToken(token: string): Promise<TaskRow | undefined>;
  /** Every in-flight task, in creation order; for recovery. */
  listTasks(page: PageRequest): Promise<Page<TaskRow>>;
  createActivity(activity: ActivityRecord, tags?: readonly Tag[]): Promise<CreateResult<ActivityRecord>>;
  getActivity(arn: string): Promise<ActivityRecord | undefined>;
  /** Deletes it and its tags; queued tasks stay until their executions drop them. */
  deleteActivity(arn: string): Promise<boolean>;
  listActivities(page: PageRequest): Promise<Page<ActivityRecord>>;
  /** Hands the oldest queued task of the activity to one worker, atomically (`queued` → `claimed`). */
  claimActivityTask(activityArn: string, workerName: string, now: number): Promise<TaskRow | undefined>;

  // ---- tags (state machines, activities) ----
  /** Adds or overwrites tags. */
  tagResource(arn: string, tags: readonly Tag[]): Promise<void>;
  untagResource(arn: string, keys: readonly string[]): Promise<void>;
  /** Sorted by key. */
  listTags(arn: string): Promise<Tag[]>;
}

// ---- errors ---------------------------------------------------------------------------------

/** A pagination token this store did not issue for this query. */
export class InvalidPageToken extends Error {
  override readonly name = 'InvalidPageToken';
}

/** A unique key is taken in a non-batched write (e.g. a task token reused). */
export class StoreConflict extends Error {
  override readonly name = 'StoreConflict';
}

/** The data was written by a newer schema than this code knows, or cannot be migrated. */
export class StoreSchemaError extends Error {
  override readonly name = 'StoreSchemaError';
}

// ---- helpers shared by implementations and callers ------------------------------------------

/** AWS's rule: restarting a RUNNING execution with the same name and input returns it. */
export function isIdempotentStart(existing: ExecutionRecord, input: string): boolean {
  return existing.status === 'RUNNING' && existing.input === input;
}

/** Net timer changes of one step's commands: the last command per timer id wins. */
export function timerChanges(commands: readonly Command[]): {
  timersSet: { timerId: string; dueTime: number }[];
  timersRemoved: string[];
} {
  const last = new Map<string, number | undefined>();
  for (const c of commands) {
    if (c.kind === 'startTimer') last.set(c.timerId, c.dueTime);
    else if (c.kind === 'cancelTimer') last.set(c.timerId, undefined);
  }
  const timersSet: { timerId: string; dueTime: number }[] = [];
  const timersRemoved: string[] = [];
  for (const [timerId, dueTime] of last) {
    if (dueTime === undefined) timersRemoved.push(timerId);
    else timersSet.push({ timerId, dueTime });
  }
  return { timersSet, timersRemoved };
}

/**
 * Opaque page tokens: base64url of `[kind, scope, ...position]`. The scope (e.g. the state
 * machine and status filter) makes a token from another query invalid, as on AWS.
 */
export function encodePageToken(kind: string, scope: string, position: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([kind, scope, ...position])).toString('base64url');
}

/** `types` has one letter per position: `n` an integer, `s` a string. */
export function decodePageToken(
  token: string,
  kind: string,
  scope: string,
  types: string,
): (string | number)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidPageToken('invalid pagination token');
  }
  if (
    !Array.isArray(parsed) ||
    parsed[0] !== kind ||
    parsed[1] !== scope ||
    parsed.length !== types.length + 2 ||
    !parsed.slice(2).every((v, i) => (types[i] === 'n' ? Number.isSafeInteger(v) : typeof v === 'string'))
  ) {
    throw new InvalidPageToken('invalid pagination token');
  }
  return parsed.slice(2) as (string | number)[];
}
