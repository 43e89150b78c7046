/**
 * The interpreter's data: the execution state it owns, the events it consumes, the history
 * events and commands it produces. All of it is plain data (JSON-serialisable), so a durable
 * runtime can store it and an in-memory one can keep it as is.
 */
import type { JsonObject, JsonValue } from '../language/json.js';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** Injected effects: the interpreter never reads a clock or a random source itself. */
export interface InterpreterEnv {
  /** Current time, epoch milliseconds. */
  now: () => number;
  /** Uniform in [0, 1). */
  random: () => number;
  /** A fresh UUID v4 string. */
  uuid: () => string;
  /** An unguessable task token (callbacks, activities); defaults to two UUIDs. */
  token?: () => string;
  /** Whether an activity exists (a Task naming a missing one fails at the state, as on AWS). */
  activityExists?: (activityArn: string) => boolean;
}

/** What the runtime knows about an execution when it starts. */
export interface ExecutionInit {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  stateMachineName: string;
  roleArn: string;
  /** Started with a version ARN or through an alias: ExecutionStarted names them, as on AWS. */
  stateMachineVersionArn?: string | undefined;
  stateMachineAliasArn?: string | undefined;
  input: JsonValue;
  /** Record history events (false skips building them, e.g. for fire-and-forget Express runs). */
  recordHistory: boolean;
  /** Mocked test case (StartExecution on `<stateMachineArn>#<TestCase>`). */
  testCase?: string | undefined;
  /** AWS's limit of history events (25,000 for Standard); the execution fails when it is reached. */
  maxHistoryEvents?: number | undefined;
  /**
   * AWS's maximum duration of an execution (one year for Standard), in milliseconds: the
   * execution times out (States.Timeout) when it is reached, like a shorter `TimeoutSeconds`.
   */
  maxDurationMs?: number | undefined;
  /**
   * AWS's payload quota (256 KiB) on state outputs, task inputs and results, branch and
   * iteration inputs: going over it fails the state with States.DataLimitExceeded.
   */
  maxPayloadBytes?: number | undefined;
}

/**
 * A history event, as GetExecutionHistory shows it, except that payload fields (`input`,
 * `output`, `parameters`) hold JSON values; surfaces serialise them to text.
 */
export interface HistoryEvent {
  id: number;
  previousEventId: number;
  /** Epoch milliseconds. */
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

/** A task attempt the runtime must carry out. */
export interface TaskRequest {
  taskId: string;
  resource: string;
  /** The effective parameters (after InputPath and Parameters). */
  input: JsonValue;
  timeoutSeconds: number | undefined;
  heartbeatSeconds: number | undefined;
  /** `$$.Task.Token` for callback patterns. */
  taskToken: string | undefined;
  stateName: string;
  /** The role the task's calls are made as (the state's `Credentials`), when it names one. */
  roleArn?: string | undefined;
  /** In a `#TestCase` execution: which call of this state this is (0 first), for mocks. */
  mockCall?: number | undefined;
  /**
   * A distributed Map's ItemReader reads its items (`resource` is `arn:aws:states:::s3:getObject`
   * or `…:s3:listObjectsV2`, `input` the reader's parameters); the result comes back as
   * `taskSucceeded` / `taskFailed` like a task's. Mocks do not apply.
   */
  itemReader?: true | undefined;
  /**
   * A distributed Map's ResultWriter writes the map run's result files (`resource` is
   * `arn:aws:states:::s3:putObject`, `input` is `{Bucket, Objects: [{Key, Body}]}`, the manifest
   * last); the outcome comes back as `taskSucceeded` / `taskFailed`. Mocks do not apply.
   */
  resultWriter?: true | undefined;
}

export type Command =
  | { kind: 'invokeTask'; task: TaskRequest }
  /**
   * A JSONata evaluation is running (the jsonata package is asynchronous): when it settles,
   * feed back `{type: 'evaluated', frameId, token, outcome}`. Not durable: after a restart the
   * runtime re-enters frames found in the 'evaluating' phase.
   */
  | { kind: 'await'; frameId: number; token: number; outcome: Promise<unknown> }
  | { kind: 'cancelTask'; taskId: string }
  | { kind: 'startTimer'; timerId: string; dueTime: number }
  | { kind: 'cancelTimer'; timerId: string };

/** Events that drive an execution forward. */
export type InputEvent =
  | { type: 'taskSucceeded'; taskId: string; output: JsonValue }
  | { type: 'taskFailed'; taskId: string; error: string; cause: string | undefined }
  | { type: 'timerFired'; timerId: string }
  /** A worker's heartbeat for an activity or callback task. */
  | { type: 'taskHeartbeat'; taskId: string }
  /** A callback task's request was sent (`.waitForTaskToken`): now it waits for the token. */
  | { type: 'taskSubmitted'; taskId: string; output: JsonValue }
  /** A worker took an activity task. */
  | { type: 'taskStarted'; taskId: string; workerName: string | undefined }
  | { type: 'stop'; error: string | undefined; cause: string | undefined }
  /** The settled outcome of an `await` command. */
  | { type: 'evaluated'; frameId: number; token: number; outcome: unknown };

export interface StepResult {
  events: HistoryEvent[];
  commands: Command[];
}

/** Why a timer exists; tells the interpreter what to do when it fires. */
export type TimerPurpose =
  | { kind: 'wait'; frameId: number }
  | { kind: 'retry'; frameId: number }
  | { kind: 'taskTimeout'; frameId: number; taskId: string }
  | { kind: 'heartbeat'; frameId: number; taskId: string }
  | { kind: 'executionTimeout' }
  /** A frame paused because one call ran many states: it continues on a timer due at once. */
  | { kind: 'resume'; frameId: number };

export interface ChildProgress {
  /** Items (Map) or the branch inputs (Parallel). */
  items: JsonValue[];
  /** Map iteration inputs after ItemSelector, when it differs from the item. */
  childInputs: JsonValue[] | undefined;
  results: JsonValue[];
  /**
   * A bound of the size of `results` (the payload quota), added up as children succeed; undefined
   * when the quota is not enforced or a child's output bound is unknown.
   */
  resultBytes?: number | undefined;
  nextIndex: number;
  running: number;
  done: number;
  failed: number;
  maxConcurrency: number;
  /** Map failures tolerated before the Map fails (`undefined`: none). */
  toleratedCount: number | undefined;
  /** Child frame ids still running, by index. */
  active: Record<number, number>;
  /** The last event of the last child that ended: the next MapIterationStarted links to it. */
  lastChildEventId: number;
  /** The event the Map/Parallel Succeeded event links to (last MapIterationSucceeded). */
  lastEndEventId: number;
  /** MapStateStarted / ParallelStateStarted: branches link their first event to it. */
  startedEventId: number;
  /** Distributed Map: the MapRun events replace the iteration events. */
  distributed: boolean;
  /** The first child failure; the state fails with it unless tolerated. */
  failure: { error: string | undefined; cause: string | undefined } | undefined;
  /** Set while the parent is starting children, so completions do not re-enter it. */
  pumping: boolean;
  /** A distributed Map with a ResultWriter: each child run, by index (the result files need them). */
  runs?: Record<number, ChildRun> | undefined;
  /** Its ResultWriter's `Parameters`/`Arguments` as evaluated on entry (absent: no S3 export). */
  writeTo?: JsonValue | undefined;
}

/** A distributed Map's child run, as its ResultWriter records it. */
export interface ChildRun {
  /** The child execution's name (a UUID). */
  name: string;
  start: number;
  stop?: number | undefined;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  error?: string | undefined;
  cause?: string | undefined;
}

/** A distributed Map writing its results: what to do once the write is done. */
export interface ResultWriteWait {
  /** The write request (kept so that a node that adopts the execution can send it again). */
  request: TaskRequest;
  /** The Map's result once written: `{MapRunArn, ResultWriterDetails: {Bucket, Key}}`. */
  output: JsonValue;
  /** The map run had failed already (the results are written all the same): its error stands. */
  failure: { error: string | undefined; cause: string | undefined } | undefined;
}

/** ItemBatcher values, resolved when the Map state is entered. */
export interface ItemBatchPlan {
  maxItems: number | undefined;
  maxBytes: number | undefined;
  /** `BatchInput`, evaluated; undefined when absent. */
  batchInput: JsonValue | undefined;
}

/** A distributed Map waiting for its ItemReader: what to do with the items once read. */
export interface ItemReadPlan {
  /** MaxItems (0 or undefined: all). */
  maxItems: number | undefined;
  batch: ItemBatchPlan | undefined;
  /** The MapStateStarted event. */
  startedEventId: number;
  /** The ResultWriter's evaluated `Parameters`/`Arguments` (S3 export only). */
  writeTo?: JsonValue | undefined;
}

/**
 * One thread of control: the root machine, a Parallel branch or a Map iteration. A frame is
 * always in exactly one state of its machine.
 */
export interface Frame {
  id: number;
  machineId: number;
  parentId: number | undefined;
  /** Branch or item index in the parent. */
  index: number;
  stateName: string;
  /** Raw state input (what StateEntered shows). */
  input: JsonValue;
  /**
   * An upper bound of the size of `input`'s JSON text, once known (the payload quota): a state's
   * output bound follows from it without measuring the output again. Set with `input`.
   */
  inputBytes?: number | undefined;
  enteredEventId: number;
  /** The event the StateEntered event linked to (EvaluationFailed links there too). */
  enteredPrevEventId: number;
  enteredTime: number;
  /** The last history event of this frame: the next one links to it. */
  lastEventId: number;
  /** Attempts per retrier of the current state (replaced, never changed in place: may be shared). */
  retryCounts: readonly number[];
  /** Total retries of the current state (`$$.State.RetryCount`). */
  retryCount: number;
  phase: 'ready' | 'evaluating' | 'task' | 'wait' | 'retryWait' | 'children' | 'paused' | 'done';
  /** Identifies the evaluation a frame in the 'evaluating' phase waits for. */
  evalToken: number;
  /** What the frame does with the evaluation's outcome: enter/retry, complete, or catch. */
  evalPurpose: 'attempt' | 'complete' | 'catch' | undefined;
  /** Variables a Wait state assigns when it exits. */
  waitAssigned: JsonObject | undefined;
  /** The variable scope the frame reads and assigns. */
  scopeId: number;
  taskId: string | undefined;
  /** Replaced, never changed in place (the empty one is shared). */
  timerIds: readonly string[];
  /** `$$.Map.Item` for frames that run a Map iteration. */
  mapItem: { Index: number; Value: JsonValue } | undefined;
  children: ChildProgress | undefined;
  /** Effective task input, kept for retries and for the timeout/heartbeat values. */
  taskInput: JsonValue | undefined;
  /** HeartbeatSeconds of the running task attempt. */
  taskHeartbeatSeconds: number | undefined;
  /** `$$.Task.Token` of the current attempt of a callback or activity task. */
  taskToken: string | undefined;
  /**
   * Frames of a distributed Map's child workflows record nothing in this execution's history
   * (on AWS they are executions of their own).
   */
  silent: boolean;
  /** Set while a distributed Map's ItemReader reads (the frame is in the 'task' phase). */
  itemRead?: ItemReadPlan | undefined;
  /** A distributed Map's map run ARN, kept when its ResultWriter needs it. */
  mapRunArn?: string | undefined;
  /** Set while a distributed Map's ResultWriter writes (the frame is in the 'task' phase). */
  resultWrite?: ResultWriteWait | undefined;
}

export interface ExecutionState {
  init: Omit<ExecutionInit, 'input'>;
  input: JsonValue;
  startTime: number;
  status: ExecutionStatus;
  output: JsonValue | undefined;
  error: string | undefined;
  cause: string | undefined;
  stopTime: number | undefined;
  lastEventId: number;
  nextFrameId: number;
  nextTaskSeq: number;
  frames: Record<number, Frame>;
  tasks: Record<string, number>;
  timers: Record<string, TimerPurpose>;
  /** Workflow variable scopes: the root, and one per Parallel branch / Map iteration. */
  scopes: Record<number, VariableScope>;
  nextScopeId: number;
  /** Bytes held by all variables of the execution. */
  variableBytes?: number;
  /**
   * A `#TestCase` execution's calls so far per Task state name (mocked responses are chosen by
   * call number); kept in the state so a restart does not start the count again.
   */
  mockCalls?: Record<string, number>;
}

export interface VariableScope {
  /** The enclosing scope, read but not assigned from inside (undefined: none, e.g. distributed Map). */
  parent: number | undefined;
  vars: JsonObject;
  /** Serialised size of each variable, in bytes (for AWS's limits). */
  sizes?: Record<string, number>;
}
