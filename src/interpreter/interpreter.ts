/**
 * The interpreter: a pure step function. `startExecution` and `step` take the execution state
 * and one event, run every state that can run without waiting, and return the history events
 * and the commands (tasks to invoke, timers to set) for the runtime to carry out.
 *
 * No I/O, no clock, no randomness of its own: all of that comes in through `InterpreterEnv`.
 * For speed the state object is updated in place and handed back; callers treat it as owned by
 * the interpreter between calls.
 */
import type { CompiledDefinition, Machine, State } from '../language/model.js';
import type { JsonObject, JsonValue } from '../language/json.js';
import { markAggregate, setOwn, stringifyJson, trySizeBound } from '../language/json.js';
import { StatesErrors, StatesRuntimeError } from '../language/errors.js';
import type { StepContext, VariableView } from './step-context.js';
import type {
  Command,
  ExecutionInit,
  ExecutionState,
  Frame,
  HistoryEvent,
  InputEvent,
  InterpreterEnv,
  StepResult,
  TaskRequest,
  ChildProgress,
} from './types.js';
import {
  catchState,
  completeState,
  evaluateState,
  mapReadItems,
  type MaybeOutcome,
  type Outcome,
} from './evaluators.js';
import { itemsFromReader, maxItemsProblem } from './item-reader.js';
import { applyResultPath } from './io.js';
import { resultExport, transformedResults, type ChildResult } from './result-writer.js';
import { findCatcher, findRetrier, retryDelayMs } from './errors.js';
import {
  hasTaskToken,
  taskSubmittedEvent,
  reportsHeartbeats,
  resourceOf,
  scheduledEventCount,
  scheduledEvents,
  taskEndEvent,
} from './task-events.js';
import { formatTimestamp, runtimeFailure } from './context.js';
import { dataLimitCause, payloadOverLimit, placedBytes } from './payload-limit.js';

/**
 * The empty retry counts and timer list every state starts with, shared (frames replace these
 * arrays rather than change them): two allocations fewer per state.
 */
const NONE: readonly never[] = Object.freeze([]);

/** The variables of a definition that assigns none. */
const NO_VARIABLES: VariableView = new Map<string, JsonValue>();

/** Builds the initial state and runs the execution until it waits for something. */
export function startExecution(
  def: CompiledDefinition,
  init: ExecutionInit,
  env: InterpreterEnv,
): { state: ExecutionState; result: StepResult } {
  const { input, ...rest } = init;
  const now = env.now();
  const state: ExecutionState = {
    init: rest,
    input,
    startTime: now,
    status: 'RUNNING',
    output: undefined,
    error: undefined,
    cause: undefined,
    stopTime: undefined,
    lastEventId: 0,
    nextFrameId: 1,
    nextTaskSeq: 1,
    frames: {},
    tasks: {},
    timers: {},
    scopes: { 1: { parent: undefined, vars: {} } },
    nextScopeId: 2,
  };
  const run = new Run(def, state, env);
  run.emitExecution(
    'ExecutionStarted',
    0,
    // Built only when recorded: a run without history makes no event objects at all.
    init.recordHistory
      ? {
          executionStartedEventDetails: {
            input,
            inputDetails: { truncated: false },
            roleArn: init.roleArn,
            ...(init.stateMachineAliasArn !== undefined
              ? { stateMachineAliasArn: init.stateMachineAliasArn }
              : {}),
            ...(init.stateMachineVersionArn !== undefined
              ? { stateMachineVersionArn: init.stateMachineVersionArn }
              : {}),
          },
        }
      : undefined,
  );
  // TimeoutSeconds, or AWS's maximum duration when it comes first: one timer either way.
  let timeoutMs = def.timeoutSeconds === undefined ? undefined : def.timeoutSeconds * 1000;
  const max = init.maxDurationMs;
  if (max !== undefined && (timeoutMs === undefined || max < timeoutMs)) timeoutMs = max;
  if (timeoutMs !== undefined) {
    run.startTimer('execution-timeout', now + timeoutMs, { kind: 'executionTimeout' });
  }
  const root = run.newFrame(def.root, undefined, 0, input, undefined, 1);
  root.lastEventId = 0;
  run.runFrame(root);
  return { state, result: run.result() };
}

/** Applies one event to a running execution. Events for finished work are ignored. */
export function step(
  def: CompiledDefinition,
  state: ExecutionState,
  event: InputEvent,
  env: InterpreterEnv,
): StepResult {
  const run = new Run(def, state, env);
  if (state.status !== 'RUNNING') return run.result();
  switch (event.type) {
    case 'taskSucceeded':
      run.onTaskSucceeded(event.taskId, event.output);
      break;
    case 'taskFailed':
      run.onTaskFailed(event.taskId, event.error, event.cause);
      break;
    case 'timerFired':
      run.onTimer(event.timerId);
      break;
    case 'taskHeartbeat':
      run.onTaskHeartbeat(event.taskId);
      break;
    case 'taskSubmitted':
      run.onTaskSubmitted(event.taskId, event.output);
      break;
    case 'taskStarted':
      run.onTaskStarted(event.taskId, event.workerName);
      break;
    case 'stop':
      run.abortExecution(event.error, event.cause);
      break;
    case 'evaluated':
      run.onEvaluated(event.frameId, event.token, event.outcome as Outcome);
      break;
  }
  return run.result();
}

/** One call's worth of work: accumulates events and commands. */
export class Run implements StepContext {
  // Assigned in the constructor (class fields cost an initializer call per object; one Run is
  // made per interpreter call).
  declare readonly def: CompiledDefinition;
  declare readonly st: ExecutionState;
  declare private readonly events: HistoryEvent[];
  declare private readonly commands: Command[];
  /** States one call may run before it yields (see `runFrame`). */
  declare private budget: number;
  declare private readonly record: boolean;
  /** The instant of this call (`env.now()`), for the per-state paths. */
  declare private readonly now: number;
  declare private readonly baseEnv: InterpreterEnv;
  declare private callEnv: InterpreterEnv | undefined;

  constructor(def: CompiledDefinition, st: ExecutionState, env: InterpreterEnv) {
    this.def = def;
    this.st = st;
    this.events = [];
    this.commands = [];
    this.budget = 100_000;
    this.record = st.init.recordHistory;
    // One call happens at one instant: read the clock once (it is called per state otherwise).
    this.now = env.now();
    this.baseEnv = env;
    this.callEnv = undefined;
  }

  /**
   * The environment with this call's instant as its clock. Made when first asked for: most
   * calls (a task's result applied, a Pass state) never ask.
   */
  get env(): InterpreterEnv {
    if (this.callEnv === undefined) {
      const now = this.now;
      this.callEnv = { ...this.baseEnv, now: () => now };
    }
    return this.callEnv;
  }

  result(): StepResult {
    return { events: this.events, commands: this.commands };
  }

  // ---- history -------------------------------------------------------------------------

  private push(type: string, previousEventId: number, details: Record<string, unknown> | undefined): number {
    const id = ++this.st.lastEventId;
    if (this.record) {
      const e: HistoryEvent = { id, previousEventId, timestamp: this.now, type };
      if (details) Object.assign(e, details);
      this.events.push(e);
    }
    return id;
  }

  /** Emits an event in a frame's chain (it links to the frame's last event and becomes it). */
  emit(frame: Frame, type: string, details?: Record<string, unknown>): number {
    if (frame.silent) return frame.lastEventId;
    const id = this.push(type, frame.lastEventId, details);
    frame.lastEventId = id;
    return id;
  }

  /**
   * Takes the next event id for a frame without building the event: used on hot paths when
   * history is off (ids must still advance: causes quote them).
   */
  skip(frame: Frame): number {
    if (frame.silent) return frame.lastEventId;
    const id = ++this.st.lastEventId;
    frame.lastEventId = id;
    return id;
  }

  /** Emits an event linked to `previousEventId` without moving any frame's chain. */
  emitExecution(type: string, previousEventId: number, details?: Record<string, unknown>): number {
    return this.push(type, previousEventId, details);
  }

  // ---- commands ------------------------------------------------------------------------

  startTimer(timerId: string, dueTime: number, purpose: ExecutionState['timers'][string]): void {
    this.st.timers[timerId] = purpose;
    this.commands.push({ kind: 'startTimer', timerId, dueTime });
  }

  cancelTimer(timerId: string): void {
    if (this.st.timers[timerId] === undefined) return;
    delete this.st.timers[timerId];
    this.commands.push({ kind: 'cancelTimer', timerId });
  }

  invokeTask(frame: Frame, command: Extract<Command, { kind: 'invokeTask' }>): void {
    this.st.tasks[command.task.taskId] = frame.id;
    frame.taskId = command.task.taskId;
    frame.phase = 'task';
    this.commands.push(command);
  }

  nextTaskId(frame: Frame): string {
    return `${frame.id}-${this.st.nextTaskSeq++}`;
  }

  // ---- frames --------------------------------------------------------------------------

  machine(frame: Frame): Machine {
    return this.def.machines[frame.machineId]!;
  }

  stateOf(frame: Frame): State {
    return this.machine(frame).states.get(frame.stateName)!;
  }

  newFrame(
    machine: Machine,
    parentId: number | undefined,
    index: number,
    input: JsonValue,
    mapItem: Frame['mapItem'],
    scopeId: number,
  ): Frame {
    const frame: Frame = {
      id: this.st.nextFrameId++,
      machineId: machine.id,
      parentId,
      index,
      stateName: machine.startAt,
      input,
      inputBytes: undefined,
      enteredEventId: 0,
      enteredTime: 0,
      lastEventId: 0,
      retryCounts: NONE,
      retryCount: 0,
      phase: 'ready',
      taskId: undefined,
      timerIds: NONE,
      mapItem,
      children: undefined,
      taskInput: undefined,
      taskHeartbeatSeconds: undefined,
      silent: false,
      evalToken: 0,
      evalPurpose: undefined,
      enteredPrevEventId: 0,
      taskToken: undefined,
      waitAssigned: undefined,
      scopeId,
    };
    this.st.frames[frame.id] = frame;
    return frame;
  }

  /** Runs a frame through as many states as it can without waiting. */
  runFrame(frame: Frame): void {
    while (frame.phase === 'ready' && this.st.status === 'RUNNING') {
      const limit = this.st.init.maxHistoryEvents;
      if (limit !== undefined && this.st.lastEventId >= limit) {
        this.finishExecution(
          'FAILED',
          undefined,
          StatesErrors.Runtime,
          `The execution reached the maximum number of history events (${limit}).`,
          frame.lastEventId,
        );
        return;
      }
      // A loop of Pass and Choice states never waits: yield now and then so one call stays short.
      if (--this.budget <= 0) {
        const timerId = `resume-${frame.id}-${this.st.nextTaskSeq++}`;
        frame.phase = 'paused';
        frame.timerIds = [timerId];
        this.startTimer(timerId, this.now, { kind: 'resume', frameId: frame.id });
        return;
      }
      const state = this.stateOf(frame);
      frame.retryCounts = NONE;
      frame.retryCount = 0;
      frame.enteredTime = this.now;
      frame.enteredPrevEventId = frame.lastEventId;
      frame.enteredEventId = this.record
        ? this.emit(frame, ENTERED[state.type], {
            stateEnteredEventDetails: {
              name: state.name,
              input: frame.input,
              inputDetails: { truncated: false },
            },
          })
        : this.skip(frame);
      this.attempt(frame, state);
    }
  }

  /** Evaluates the frame's current state (first attempt or a retry) and applies the outcome. */
  attempt(frame: Frame, state: State): void {
    if (state.type === 'Pass' && state.placesOnly) {
      // What `evaluateState` does for this Pass, without the outcome object and the calls that
      // carry it (a Pass of this kind is a tenth of a Parallel or Map branch's transitions).
      frame.taskToken = undefined;
      let output: JsonValue;
      const result = state.result !== undefined ? state.result : frame.input;
      try {
        output = applyResultPath(state.resultPath, frame.input, result);
      } catch (e) {
        this.apply(frame, state, failedOutcome(e));
        return;
      }
      const inBytes = this.inputBytes(frame);
      const bytes =
        inBytes === undefined
          ? undefined
          : placedBytes(state.resultPath, undefined, inBytes, state.resultBytes ?? inBytes);
      this.exitState(frame, state, output, state.next, undefined, bytes);
      return;
    }
    // A callback, activity or .sync attempt gets its token first: Parameters may read `$$.Task.Token`.
    frame.taskToken =
      state.type === 'Task' && hasTaskToken(state) ? (this.env.token ?? defaultToken(this.env))() : undefined;
    // No closure here (the other callers of `resolve` are rare): this runs for every state.
    let outcome: MaybeOutcome;
    try {
      outcome = evaluateState(this, frame, state);
    } catch (e) {
      outcome = failedOutcome(e);
    }
    this.settle(frame, state, 'attempt', outcome);
  }

  /**
   * Runs an evaluation and applies its outcome. A JSONata evaluation may still be running: the
   * frame is then parked ('evaluating') until the runtime feeds back the settled outcome.
   */
  resolve(
    frame: Frame,
    state: State,
    purpose: NonNullable<Frame['evalPurpose']>,
    evaluate: () => MaybeOutcome,
  ): void {
    let outcome: MaybeOutcome;
    try {
      outcome = evaluate();
    } catch (e) {
      outcome = failedOutcome(e);
    }
    this.settle(frame, state, purpose, outcome);
  }

  /** Applies an evaluation's outcome now, or parks the frame until a pending one settles. */
  private settle(
    frame: Frame,
    state: State,
    purpose: NonNullable<Frame['evalPurpose']>,
    outcome: MaybeOutcome,
  ): void {
    if (outcome instanceof Promise) {
      frame.phase = 'evaluating';
      frame.evalPurpose = purpose;
      const token = ++frame.evalToken;
      this.commands.push({ kind: 'await', frameId: frame.id, token, outcome });
      return;
    }
    this.apply(frame, state, outcome);
  }

  /** The settled outcome of a parked frame's evaluation. */
  onEvaluated(frameId: number, token: number, outcome: Outcome): void {
    const frame = this.st.frames[frameId];
    if (frame === undefined || frame.phase !== 'evaluating' || frame.evalToken !== token) return;
    frame.phase = 'ready';
    frame.evalPurpose = undefined;
    this.apply(frame, this.stateOf(frame), outcome);
    this.continueFrame(frame);
  }

  /** Applies an evaluator's outcome to a frame. */
  apply(frame: Frame, state: State, outcome: Outcome): void {
    switch (outcome.kind) {
      case 'next': {
        const tooBig = outcome.assigned && this.variableLimit(frame, outcome.assigned);
        if (tooBig) {
          this.handleFailure(frame, state, StatesErrors.DataLimitExceeded, tooBig);
          return;
        }
        this.exitState(frame, state, outcome.output, outcome.next, outcome.assigned, outcome.bytes);
        return;
      }
      case 'succeedMachine':
        // Succeed state: exits, then ends its (sub-)machine.
        this.exitState(frame, state, outcome.output, undefined, undefined, outcome.bytes);
        return;
      case 'failMachine':
        // Fail state: no exit event; the (sub-)machine fails.
        this.failFrame(frame, outcome.error, outcome.cause);
        return;
      case 'fail':
        if (outcome.error === StatesErrors.QueryEvaluationError) {
          // JSONata failures are recorded first, linked where the state's entry was.
          const details: JsonObject = { error: outcome.error, cause: outcome.cause ?? '', state: state.name };
          if (outcome.location !== undefined) details.location = outcome.location;
          // AWS links it before the state's entry, except for a Wait state's time fields.
          if (state.type !== 'Wait') frame.lastEventId = frame.enteredPrevEventId;
          this.emit(frame, 'EvaluationFailed', { evaluationFailedEventDetails: details });
          const failed =
            state.type === 'Map' || state.type === 'Parallel' ? `${state.type}StateFailed` : undefined;
          this.handleFailure(frame, state, outcome.error, outcome.cause, failed);
          return;
        }
        this.handleFailure(frame, state, outcome.error, outcome.cause);
        return;
      case 'schedule':
        if (state.type !== 'Task') throw new Error(`${state.type} states do not run tasks`);
        // A task given the state's own input has that input's bound, carried from the state before.
        if (
          this.overQuota(outcome.params, outcome.params === frame.input ? this.inputBytes(frame) : undefined)
        ) {
          const cause = dataLimitCause(state.name, 'input');
          this.handleFailure(frame, state, StatesErrors.DataLimitExceeded, cause);
          return;
        }
        this.scheduleTask(frame, state, outcome);
        return;
      case 'sleep': {
        const tooBig = outcome.assigned && this.variableLimit(frame, outcome.assigned);
        if (tooBig) {
          this.handleFailure(frame, state, StatesErrors.DataLimitExceeded, tooBig);
          return;
        }
        this.sleep(frame, Math.max(outcome.due, this.now), outcome.output, outcome.assigned);
        return;
      }
      case 'children':
        this.startChildren(frame, outcome);
        return;
      case 'readItems':
        if (state.type === 'Map') this.readItems(frame, state, outcome);
        return;
    }
  }

  exitState(
    frame: Frame,
    state: State,
    output: JsonValue,
    next: string | undefined,
    assigned: JsonObject | undefined,
    bytes?: number,
  ): void {
    // AWS's 256 KiB quota on every state's output (and so on the next state's input). `bytes`,
    // an upper bound the evaluator derived from the input's, spares measuring the output.
    if (this.overQuota(output, bytes)) {
      const cause = dataLimitCause(state.name, 'result');
      this.handleFailure(frame, state, StatesErrors.DataLimitExceeded, cause);
      return;
    }
    // A bound over the quota of an output that fits is not carried on: it would be measured again
    // at every state after; the next state measures the output itself once, if it asks.
    if (!this.fits(bytes)) bytes = undefined;
    if (assigned !== undefined) this.assign(frame, assigned);
    if (this.record) {
      const details: JsonObject = { name: state.name, output, outputDetails: { truncated: false } };
      if (assigned !== undefined) {
        const texts: JsonObject = {};
        for (const k of Object.keys(assigned)) texts[k] = stringifyJson(assigned[k]!);
        details.assignedVariables = texts;
        details.assignedVariablesDetails = { truncated: false };
      }
      this.emit(frame, EXITED[state.type], { stateExitedEventDetails: details });
    } else {
      this.skip(frame);
    }
    if (next !== undefined) {
      frame.stateName = next;
      frame.input = output;
      frame.inputBytes = bytes;
      frame.phase = 'ready';
    } else {
      this.completeFrame(frame, output, bytes);
    }
  }

  inputBytes(frame: Frame): number | undefined {
    if (this.st.init.maxPayloadBytes === undefined) return undefined;
    return (frame.inputBytes ??= trySizeBound(frame.input));
  }

  /** A bound of the value's size while the runtime enforces the payload quota. */
  private measure(v: JsonValue): number | undefined {
    return this.st.init.maxPayloadBytes === undefined ? undefined : trySizeBound(v);
  }

  /** Whether a size bound is within the payload quota. */
  private fits(bytes: number | undefined): boolean {
    const limit = this.st.init.maxPayloadBytes;
    return bytes !== undefined && limit !== undefined && bytes <= limit;
  }

  /** Whether `v` is over the quota; a known bound of its size that fits spares measuring it. */
  private overQuota(v: JsonValue, bytes: number | undefined): boolean {
    return !this.fits(bytes) && this.oversize(v);
  }

  /** Whether a payload exceeds AWS's quota, when the runtime asked for it to be enforced. */
  oversize(v: JsonValue): boolean {
    const limit = this.st.init.maxPayloadBytes;
    return limit !== undefined && payloadOverLimit(v, limit) !== undefined;
  }

  // ---- variables -----------------------------------------------------------------------

  /** Sets variables in the frame's own scope, all at once (values were computed beforehand). */
  assign(frame: Frame, assigned: JsonObject): void {
    const scope = this.st.scopes[frame.scopeId];
    if (scope === undefined) return;
    scope.sizes ??= {};
    for (const k of Object.keys(assigned)) {
      const bytes = utf8Bytes(stringifyJson(assigned[k]!));
      this.st.variableBytes = (this.st.variableBytes ?? 0) + bytes - (scope.sizes[k] ?? 0);
      setOwn(scope.sizes, k, bytes);
      setOwn(scope.vars, k, assigned[k]!);
    }
  }

  /** AWS's limits: 256 KiB per variable and per Assign, 10 MiB per execution. A cause, or undefined. */
  private variableLimit(frame: Frame, assigned: JsonObject): string | undefined {
    const scope = this.st.scopes[frame.scopeId];
    let assignBytes = 0;
    let total = this.st.variableBytes ?? 0;
    for (const k of Object.keys(assigned)) {
      const bytes = utf8Bytes(stringifyJson(assigned[k]!));
      if (bytes > MAX_VARIABLE_BYTES) {
        return `The value assigned to the variable '${k}' is ${bytes} bytes; a variable holds at most ${MAX_VARIABLE_BYTES} bytes.`;
      }
      assignBytes += bytes;
      total += bytes - (scope?.sizes?.[k] ?? 0);
    }
    if (assignBytes > MAX_VARIABLE_BYTES) {
      return `The variables of this Assign take ${assignBytes} bytes; one Assign may set at most ${MAX_VARIABLE_BYTES} bytes.`;
    }
    if (total > MAX_EXECUTION_VARIABLE_BYTES) {
      return `The execution's variables would take ${total} bytes; an execution may hold at most ${MAX_EXECUTION_VARIABLE_BYTES} bytes.`;
    }
    return undefined;
  }

  variables(frame: Frame): VariableView {
    // Without an Assign anywhere no variable is ever set: no view to build for every state.
    if (!this.def.assigns) return NO_VARIABLES;
    const chain: JsonObject[] = [];
    for (let id: number | undefined = frame.scopeId; id !== undefined;) {
      const scope: ExecutionState['scopes'][number] | undefined = this.st.scopes[id];
      if (scope === undefined) break;
      chain.push(scope.vars);
      id = scope.parent;
    }
    const view = new Map<string, JsonValue>();
    for (let i = chain.length - 1; i >= 0; i--) {
      const vars = chain[i]!;
      for (const k of Object.keys(vars)) view.set(k, vars[k]!);
    }
    return view;
  }

  /**
   * Retry, then Catch, then fail the frame. `failedEvent` (MapStateFailed, ParallelStateFailed)
   * is recorded only when no retry follows.
   */
  handleFailure(
    frame: Frame,
    state: State,
    error: string | undefined,
    cause: string | undefined,
    failedEvent?: string,
  ): void {
    if (state.type === 'Task' || state.type === 'Parallel' || state.type === 'Map') {
      const r = findRetrier(state.retry, error ?? '');
      if (r !== undefined) {
        const retrier = state.retry[r]!;
        const attempts = frame.retryCounts[r] ?? 0;
        if (attempts < retrier.maxAttempts) {
          const counts = frame.retryCounts.slice();
          counts[r] = attempts + 1;
          frame.retryCounts = counts;
          frame.retryCount++;
          const delay = retryDelayMs(retrier, attempts, this.env.random);
          const timerId = `retry-${frame.id}-${this.st.nextTaskSeq++}`;
          frame.phase = 'retryWait';
          frame.timerIds = [timerId];
          this.startTimer(timerId, this.now + delay, { kind: 'retry', frameId: frame.id });
          return;
        }
      }
      if (failedEvent !== undefined) this.emit(frame, failedEvent);
      const c = findCatcher(state.catch, error ?? '');
      if (c !== undefined) {
        const catcher = state.catch[c]!;
        frame.phase = 'ready';
        this.resolve(frame, state, 'catch', () => {
          const o = catchState(this, frame, state, catcher, error ?? '', cause);
          // A failing catcher (ResultPath, Output, Assign, an output over the payload quota) is
          // not caught again: it fails the frame.
          const asFailure = (x: Outcome): Outcome => {
            if (x.kind === 'fail') return { kind: 'failMachine', error: x.error, cause: x.cause };
            if (x.kind === 'next' && this.oversize(x.output)) {
              const tooBig = dataLimitCause(state.name, 'result');
              return { kind: 'failMachine', error: StatesErrors.DataLimitExceeded, cause: tooBig };
            }
            return x;
          };
          try {
            return o instanceof Promise ? o.then(asFailure) : asFailure(o);
          } catch (e) {
            if (!(e instanceof StatesRuntimeError)) throw e;
            return { kind: 'failMachine', error: e.error, cause: e.causeText };
          }
        });
        return;
      }
    } else if (failedEvent !== undefined) {
      this.emit(frame, failedEvent);
    }
    this.failFrame(frame, error, cause);
  }

  /** A frame's machine reached its end with `output` (`bytes`: a bound of its size, if known). */
  completeFrame(frame: Frame, output: JsonValue, bytes: number | undefined): void {
    frame.phase = 'done';
    this.dropFrame(frame);
    if (frame.parentId === undefined) {
      this.finishExecution('SUCCEEDED', output, undefined, undefined, frame.lastEventId);
      return;
    }
    const parent = this.st.frames[frame.parentId];
    if (parent?.children === undefined) return;
    const parentState = this.stateOf(parent);
    const progress = parent.children;
    delete progress.active[frame.index];
    progress.running--;
    progress.done++;
    progress.results[frame.index] = output;
    if (progress.resultBytes !== undefined)
      progress.resultBytes = bytes === undefined ? undefined : progress.resultBytes + bytes + 1;
    this.childRunEnded(progress, frame.index, 'SUCCEEDED', undefined, undefined);
    if (progress.distributed || parent.silent) {
      // Child executions: nothing in this history.
    } else if (parentState.type === 'Map') {
      const id = this.emitExecution(
        'MapIterationSucceeded',
        frame.lastEventId,
        this.record
          ? { mapIterationSucceededEventDetails: { name: parentState.name, index: frame.index } }
          : undefined,
      );
      progress.lastChildEventId = frame.lastEventId;
      progress.lastEndEventId = id;
    } else {
      progress.lastChildEventId = frame.lastEventId;
      progress.lastEndEventId = frame.lastEventId;
    }
    if (!progress.pumping) this.settleChildren(parent);
  }

  /** A frame's machine failed (uncaught error or a Fail state). */
  failFrame(frame: Frame, error: string | undefined, cause: string | undefined): void {
    frame.phase = 'done';
    this.cancelFrameWork(frame);
    this.dropFrame(frame);
    if (frame.parentId === undefined) {
      this.finishExecution('FAILED', undefined, error, cause, frame.lastEventId);
      return;
    }
    const parent = this.st.frames[frame.parentId];
    if (parent?.children === undefined) return;
    const parentState = this.stateOf(parent);
    const progress = parent.children;
    delete progress.active[frame.index];
    progress.running--;
    progress.failed++;
    progress.resultBytes = undefined;
    this.childRunEnded(progress, frame.index, 'FAILED', error, cause);
    if (progress.distributed || parent.silent) {
      // Child executions: nothing in this history.
    } else {
      if (parentState.type === 'Map') {
        this.emitExecution('MapIterationFailed', frame.lastEventId, {
          mapIterationFailedEventDetails: { name: parentState.name, index: frame.index },
        });
      } else {
        // A branch whose state failed records that state as aborted (a Fail state does not).
        const failedState = this.stateOf(frame);
        if (failedState.type !== 'Fail')
          this.emitExecution(`${failedState.type}StateAborted`, frame.lastEventId);
      }
      // Like the Succeeded events, MapIterationFailed does not move the chain.
      progress.lastChildEventId = frame.lastEventId;
    }
    progress.failure ??= { error, cause };
    if (!progress.pumping) this.settleChildren(parent);
  }

  /** Starts children while concurrency allows, then finishes the parent when all are done. */
  pumpChildren(parent: Frame): void {
    const progress = parent.children!;
    const state = this.stateOf(parent);
    progress.pumping = true;
    while (
      // A tolerated failure does not stop the other children from starting.
      (progress.failure === undefined || this.tolerated(parent)) &&
      progress.nextIndex < progress.items.length &&
      (progress.maxConcurrency === 0 || progress.running < progress.maxConcurrency) &&
      this.st.status === 'RUNNING'
    ) {
      const index = progress.nextIndex++;
      progress.running++;
      let child: Frame;
      if (state.type === 'Map') {
        const item = progress.items[index]!;
        const input = progress.childInputs?.[index] ?? item;
        child = this.newFrame(
          state.processor,
          parent.id,
          index,
          input,
          undefined,
          this.childScope(parent, progress.distributed),
        );
        if (progress.runs !== undefined) {
          progress.runs[index] = { name: this.env.uuid(), start: this.now, status: 'RUNNING' };
        }
        if (progress.distributed || parent.silent) {
          child.silent = true;
        } else {
          child.lastEventId = this.emitExecution(
            'MapIterationStarted',
            progress.lastChildEventId,
            this.record ? { mapIterationStartedEventDetails: { name: state.name, index } } : undefined,
          );
        }
      } else if (state.type === 'Parallel') {
        child = this.newFrame(
          state.branches[index]!,
          parent.id,
          index,
          progress.items[index]!,
          undefined,
          this.childScope(parent, false),
        );
        child.lastEventId = progress.startedEventId;
        child.silent = parent.silent;
        // Branches given the state's own input start with its bound.
        if (child.input === parent.input) child.inputBytes = parent.inputBytes;
      } else {
        throw new Error(`state ${state.name} has no children`);
      }
      progress.active[index] = child.id;
      this.runFrame(child);
    }
    progress.pumping = false;
    this.settleChildren(parent);
  }

  /** After a child ended: start more, or finish the Map/Parallel state. */
  settleChildren(parent: Frame): void {
    const progress = parent.children!;
    if (progress.pumping || parent.phase !== 'children') return;
    const state = this.stateOf(parent);
    if (progress.failure !== undefined && !this.tolerated(parent)) {
      let { error, cause } = progress.failure;
      this.abortChildren(parent);
      parent.children = undefined;
      if (progress.distributed) {
        if (progress.toleratedCount !== undefined) {
          error = StatesErrors.ExceedToleratedFailureThreshold;
          cause = 'The specified tolerated failure threshold was exceeded';
        }
        // The results of a failed map run are written too (FAILED and PENDING files included).
        if (state.type === 'Map' && this.startResultWrite(parent, state, progress, { error, cause })) return;
        this.emit(parent, 'MapRunFailed', { mapRunFailedEventDetails: errorDetails(error, cause) });
      } else {
        parent.lastEventId = progress.lastChildEventId;
      }
      parent.phase = 'ready';
      this.handleFailure(parent, state, error, cause, `${state.type}StateFailed`);
      this.continueFrame(parent);
      return;
    }
    if (progress.nextIndex < progress.items.length) {
      if (progress.maxConcurrency === 0 || progress.running < progress.maxConcurrency)
        this.pumpChildren(parent);
      return;
    }
    if (progress.running > 0) return;
    parent.children = undefined;
    let results: JsonValue = progress.results;
    let resultBytes = progress.resultBytes;
    if (state.type === 'Map' && progress.runs !== undefined) {
      if (this.startResultWrite(parent, state, progress, undefined)) return;
      // WriterConfig without an export: the transformed results are the Map's.
      if (state.resultWriter !== undefined) {
        results = transformedResults(state.resultWriter, childResults(progress), parent.mapRunArn ?? '');
        resultBytes = undefined;
      }
    }
    // The quota applies to the gathered results too, before ResultSelector/ResultPath: the
    // children's bounds added up spare measuring them.
    if (this.overQuota(results, resultBytes)) {
      const cause = dataLimitCause(state.name, 'result');
      if (progress.distributed) {
        this.emit(parent, 'MapRunFailed', {
          mapRunFailedEventDetails: errorDetails(StatesErrors.DataLimitExceeded, cause),
        });
      } else {
        parent.lastEventId = progress.lastEndEventId;
      }
      parent.phase = 'ready';
      this.handleFailure(parent, state, StatesErrors.DataLimitExceeded, cause, `${state.type}StateFailed`);
      this.continueFrame(parent);
      return;
    }
    if (progress.distributed) {
      progress.lastEndEventId = this.emit(parent, 'MapRunSucceeded');
    }
    this.childrenSucceeded(parent, state, progress.lastEndEventId, results, resultBytes);
  }

  /** A Map/Parallel's children are done and `results` is its result: Succeeded, then on. */
  private childrenSucceeded(
    parent: Frame,
    state: State,
    lastEndEventId: number,
    results: JsonValue,
    resultBytes: number | undefined,
  ): void {
    // The Succeeded event does not move the chain: the Exited event links to the same event.
    if (!parent.silent) this.emitExecution(`${state.type}StateSucceeded`, lastEndEventId);
    parent.lastEventId = lastEndEventId;
    parent.phase = 'ready';
    this.resolve(parent, state, 'complete', () => completeState(this, parent, state, results, resultBytes));
    this.continueFrame(parent);
  }

  /** Records the end of a distributed Map's child run (when its ResultWriter needs it). */
  private childRunEnded(
    progress: ChildProgress,
    index: number,
    status: 'SUCCEEDED' | 'FAILED' | 'ABORTED',
    error: string | undefined,
    cause: string | undefined,
  ): void {
    const run = progress.runs?.[index];
    if (run === undefined) return;
    run.status = status;
    run.stop = this.now;
    if (error !== undefined) run.error = error;
    if (cause !== undefined) run.cause = cause;
  }

  /**
   * A distributed Map exporting its results to S3: the files are built here and a
   * `resultWriter` task puts them (durable like any task); `onResultsWritten` continues. False
   * when there is nothing to export. A map run that failed (`failure`) keeps its error.
   */
  private startResultWrite(
    parent: Frame,
    state: Extract<State, { type: 'Map' }>,
    progress: ChildProgress,
    failure: { error: string | undefined; cause: string | undefined } | undefined,
  ): boolean {
    const spec = state.resultWriter;
    if (spec?.resource === undefined || progress.runs === undefined || !progress.distributed) return false;
    const built = resultExport(spec, progress.writeTo ?? {}, childResults(progress), parent.mapRunArn ?? '');
    parent.children = undefined;
    if (!built.ok) {
      this.mapRunFailed(
        parent,
        state,
        failure?.error ?? StatesErrors.ResultWriterFailed,
        failure?.cause ?? built.cause,
      );
      this.continueFrame(parent);
      return true;
    }
    const request: TaskRequest = {
      taskId: this.nextTaskId(parent),
      resource: spec.resource,
      input: built.export.request,
      timeoutSeconds: undefined,
      heartbeatSeconds: undefined,
      taskToken: undefined,
      stateName: state.name,
      resultWriter: true,
    };
    parent.resultWrite = { request, output: built.export.output, failure };
    this.invokeTask(parent, { kind: 'invokeTask', task: request });
    return true;
  }

  /** The ResultWriter's write ended (`failure`: it failed with this cause). */
  private onResultsWritten(
    frame: Frame,
    state: Extract<State, { type: 'Map' }>,
    failure: string | undefined,
  ): void {
    const wait = frame.resultWrite;
    frame.resultWrite = undefined;
    if (wait === undefined) return;
    frame.phase = 'ready';
    if (wait.failure !== undefined) {
      this.mapRunFailed(frame, state, wait.failure.error, wait.failure.cause);
    } else if (failure !== undefined) {
      this.mapRunFailed(frame, state, StatesErrors.ResultWriterFailed, failure);
    } else {
      this.childrenSucceeded(frame, state, this.emit(frame, 'MapRunSucceeded'), wait.output, undefined);
      return;
    }
    this.continueFrame(frame);
  }

  /** Whether a Map's failures stay within its tolerated failure threshold. */
  private tolerated(parent: Frame): boolean {
    const progress = parent.children!;
    return progress.toleratedCount !== undefined && progress.failed <= progress.toleratedCount;
  }

  /** Runs a frame on if it became ready again (after a Catch or a completed Map/Parallel). */
  continueFrame(frame: Frame): void {
    if (frame.phase === 'ready' && this.st.frames[frame.id] === frame) this.runFrame(frame);
  }

  /** Aborts every running child of a Map/Parallel frame (and their descendants). */
  abortChildren(parent: Frame): void {
    const progress = parent.children;
    if (progress === undefined) return;
    const state = this.stateOf(parent);
    for (const key of Object.keys(progress.active)) {
      const childId = progress.active[Number(key)]!;
      const child = this.st.frames[childId];
      if (child === undefined) continue;
      this.abortFrame(child);
      this.childRunEnded(progress, child.index, 'ABORTED', undefined, undefined);
      if (state.type === 'Map' && !progress.distributed && !parent.silent) {
        this.emitExecution('MapIterationAborted', child.lastEventId, {
          mapIterationAbortedEventDetails: { name: state.name, index: child.index },
        });
      }
    }
    progress.active = {};
    progress.running = 0;
  }

  /** Aborts a frame: its pending work is cancelled and its current state is recorded as aborted. */
  abortFrame(frame: Frame): void {
    if (frame.phase === 'children') this.abortChildren(frame);
    this.cancelFrameWork(frame);
    if (frame.phase !== 'done') {
      const state = this.stateOf(frame);
      this.emit(frame, `${state.type}StateAborted`);
    }
    frame.phase = 'done';
    this.dropFrame(frame);
  }

  /** Forgets a finished frame, and its variable scope unless it shares its parent's. */
  private dropFrame(frame: Frame): void {
    delete this.st.frames[frame.id];
    const parent = frame.parentId === undefined ? undefined : this.st.frames[frame.parentId];
    if (parent !== undefined && parent.scopeId !== frame.scopeId) {
      const sizes = this.st.scopes[frame.scopeId]?.sizes;
      if (sizes)
        for (const b of Object.values(sizes)) this.st.variableBytes = (this.st.variableBytes ?? 0) - b;
      delete this.st.scopes[frame.scopeId];
    }
  }

  /** A scope for a branch or iteration: it reads the parent's variables (not a distributed Map's). */
  childScope(parent: Frame, isolated: boolean): number {
    // No Assign anywhere: the child would only ever read its parent's variables, so it shares
    // the parent's scope (dropFrame then leaves it). One object and two stores fewer per child.
    if (!isolated && !this.def.assigns) return parent.scopeId;
    const id = this.st.nextScopeId++;
    this.st.scopes[id] = { parent: isolated ? undefined : parent.scopeId, vars: {} };
    return id;
  }

  cancelFrameWork(frame: Frame): void {
    // A late evaluation result for this frame must be ignored.
    frame.evalToken++;
    for (const t of frame.timerIds) this.cancelTimer(t);
    frame.timerIds = NONE;
    if (frame.taskId !== undefined) {
      if (this.st.tasks[frame.taskId] !== undefined) {
        delete this.st.tasks[frame.taskId];
        this.commands.push({ kind: 'cancelTask', taskId: frame.taskId });
      }
      frame.taskId = undefined;
    }
  }

  finishExecution(
    status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED',
    output: JsonValue | undefined,
    error: string | undefined,
    cause: string | undefined,
    prev: number,
  ): void {
    const st = this.st;
    if (st.status !== 'RUNNING') return;
    switch (status) {
      case 'SUCCEEDED':
        this.emitExecution('ExecutionSucceeded', prev, {
          executionSucceededEventDetails: { output, outputDetails: { truncated: false } },
        });
        break;
      case 'FAILED':
        this.emitExecution('ExecutionFailed', prev, {
          executionFailedEventDetails: errorDetails(error, cause),
        });
        break;
      case 'TIMED_OUT':
        this.emitExecution('ExecutionTimedOut', prev, {
          executionTimedOutEventDetails: errorDetails(error, cause),
        });
        break;
      case 'ABORTED':
        this.emitExecution('ExecutionAborted', prev, {
          executionAbortedEventDetails: errorDetails(error, cause),
        });
        break;
    }
    st.status = status;
    st.output = output;
    st.error = error;
    st.cause = cause;
    st.stopTime = this.now;
    // Nothing may outlive the execution.
    for (const timerId of Object.keys(st.timers)) this.cancelTimer(timerId);
    for (const taskId of Object.keys(st.tasks)) {
      delete st.tasks[taskId];
      this.commands.push({ kind: 'cancelTask', taskId });
    }
    st.frames = {};
  }

  // ---- inputs --------------------------------------------------------------------------

  private taskFrame(taskId: string): Frame | undefined {
    const frameId = this.st.tasks[taskId];
    if (frameId === undefined) return undefined;
    delete this.st.tasks[taskId];
    const frame = this.st.frames[frameId];
    if (frame === undefined || frame.taskId !== taskId || frame.phase !== 'task') return undefined;
    frame.taskId = undefined;
    for (const t of frame.timerIds) this.cancelTimer(t);
    frame.timerIds = NONE;
    return frame;
  }

  onTaskSucceeded(taskId: string, output: JsonValue): void {
    const frame = this.taskFrame(taskId);
    if (frame === undefined) return;
    const state = this.stateOf(frame);
    if (state.type === 'Map') {
      if (frame.resultWrite !== undefined) this.onResultsWritten(frame, state, undefined);
      else this.onItemsRead(frame, state, output, undefined);
      return;
    }
    if (state.type !== 'Task') return;
    // The result's bound, taken once: it also spares measuring the state's output.
    const bytes = this.measure(output);
    if (this.overQuota(output, bytes)) {
      // A result over the quota is the task's failure (local functions already report it so).
      const cause = dataLimitCause(state.name, 'result');
      this.emit(
        frame,
        ...taskEndEvent(state, { kind: 'failed', error: StatesErrors.DataLimitExceeded, cause }),
      );
      frame.phase = 'ready';
      this.handleFailure(frame, state, StatesErrors.DataLimitExceeded, cause);
      this.continueFrame(frame);
      return;
    }
    if (this.record) this.emit(frame, ...taskEndEvent(state, { kind: 'succeeded', output }));
    else this.skip(frame);
    frame.phase = 'ready';
    this.resolve(frame, state, 'complete', () => completeState(this, frame, state, output, bytes));
    this.continueFrame(frame);
  }

  /** The frame waiting on a task, if the task is still current. */
  private liveTaskFrame(taskId: string): Frame | undefined {
    const frameId = this.st.tasks[taskId];
    const frame = frameId === undefined ? undefined : this.st.frames[frameId];
    return frame !== undefined && frame.taskId === taskId && frame.phase === 'task' ? frame : undefined;
  }

  onTaskSubmitted(taskId: string, output: JsonValue): void {
    const frame = this.liveTaskFrame(taskId);
    if (frame === undefined) return;
    const state = this.stateOf(frame);
    if (state.type === 'Task') this.emit(frame, ...taskSubmittedEvent(state, output));
  }

  onTaskStarted(taskId: string, workerName: string | undefined): void {
    const frame = this.liveTaskFrame(taskId);
    if (frame === undefined) return;
    const d: JsonObject = {};
    if (workerName !== undefined) d.workerName = workerName;
    this.emit(frame, 'ActivityStarted', { activityStartedEventDetails: d });
  }

  /** A heartbeat from the worker: the heartbeat timer starts again. */
  onTaskHeartbeat(taskId: string): void {
    const frameId = this.st.tasks[taskId];
    const frame = frameId === undefined ? undefined : this.st.frames[frameId];
    if (frame === undefined || frame.taskId !== taskId || frame.taskHeartbeatSeconds === undefined) return;
    const id = `heartbeat-${taskId}`;
    if (this.st.timers[id] === undefined) return;
    this.cancelTimer(id);
    this.startTimer(id, this.now + frame.taskHeartbeatSeconds * 1000, {
      kind: 'heartbeat',
      frameId: frame.id,
      taskId,
    });
  }

  onTaskFailed(taskId: string, error: string, cause: string | undefined): void {
    const frame = this.taskFrame(taskId);
    if (frame === undefined) return;
    const state = this.stateOf(frame);
    if (state.type === 'Map') {
      if (frame.resultWrite !== undefined) this.onResultsWritten(frame, state, cause ?? error);
      else this.onItemsRead(frame, state, null, cause ?? error);
      return;
    }
    if (state.type !== 'Task') return;
    this.emit(frame, ...taskEndEvent(state, { kind: 'failed', error, cause }));
    frame.phase = 'ready';
    this.handleFailure(frame, state, error, cause);
    this.continueFrame(frame);
  }

  onTimer(timerId: string): void {
    const purpose = this.st.timers[timerId];
    if (purpose === undefined) return;
    delete this.st.timers[timerId];
    if (purpose.kind === 'executionTimeout') {
      this.timeOutExecution();
      return;
    }
    const frame = this.st.frames[purpose.frameId];
    if (frame === undefined) return;
    frame.timerIds = frame.timerIds.filter((t) => t !== timerId);
    const state = this.stateOf(frame);
    switch (purpose.kind) {
      case 'resume':
        if (frame.phase !== 'paused') return;
        frame.phase = 'ready';
        this.continueFrame(frame);
        return;
      case 'wait':
        if (frame.phase !== 'wait' || state.type !== 'Wait') return;
        frame.phase = 'ready';
        this.exitState(
          frame,
          state,
          frame.taskInput !== undefined ? frame.taskInput : frame.input,
          state.next,
          frame.waitAssigned,
        );
        frame.taskInput = undefined;
        frame.waitAssigned = undefined;
        this.continueFrame(frame);
        return;
      case 'retry':
        if (frame.phase !== 'retryWait') return;
        frame.phase = 'ready';
        this.attempt(frame, state);
        this.continueFrame(frame);
        return;
      case 'taskTimeout':
      case 'heartbeat': {
        if (frame.phase !== 'task' || frame.taskId !== purpose.taskId || state.type !== 'Task') return;
        delete this.st.tasks[purpose.taskId];
        this.commands.push({ kind: 'cancelTask', taskId: purpose.taskId });
        frame.taskId = undefined;
        for (const t of frame.timerIds) this.cancelTimer(t);
        frame.timerIds = NONE;
        // AWS records a callback's missed heartbeat as States.Timeout; an activity's as
        // States.HeartbeatTimeout.
        const error =
          purpose.kind === 'heartbeat' && resourceOf(state).kind === 'activity'
            ? StatesErrors.HeartbeatTimeout
            : StatesErrors.Timeout;
        this.emit(frame, ...taskEndEvent(state, { kind: 'timedOut', error, cause: undefined }));
        frame.phase = 'ready';
        this.handleFailure(frame, state, error, undefined);
        this.continueFrame(frame);
        return;
      }
    }
  }

  private rootFrame(): Frame | undefined {
    for (const f of Object.values(this.st.frames)) if (f.parentId === undefined) return f;
    return undefined;
  }

  timeOutExecution(): void {
    const root = this.rootFrame();
    const prev = root ? root.lastEventId : this.st.lastEventId;
    if (root) this.abortFrameTree(root);
    this.finishExecution('TIMED_OUT', undefined, StatesErrors.Timeout, undefined, prev);
  }

  abortExecution(error: string | undefined, cause: string | undefined): void {
    const root = this.rootFrame();
    if (root) this.abortFrameTree(root);
    // AWS links ExecutionAborted to no event (previousEventId 0).
    this.finishExecution('ABORTED', undefined, error, cause, 0);
  }

  /** Aborts the root frame's current work (and everything below it) without history noise. */
  private abortFrameTree(root: Frame): void {
    if (root.phase === 'children') this.abortChildren(root);
    this.cancelFrameWork(root);
  }

  /** The context object (`$$`) as the frame's current state sees it. */
  context(frame: Frame, state: State, withRedriveCount: boolean): JsonObject {
    const st = this.st;
    const stateCtx: JsonObject = { Name: state.name, EnteredTime: formatTimestamp(frame.enteredTime) };
    if (state.type === 'Task' || state.type === 'Parallel' || state.type === 'Map') {
      stateCtx.RetryCount = frame.retryCount;
    }
    const execution: JsonObject = {
      Id: st.init.executionArn,
      Input: st.input,
      StartTime: formatTimestamp(st.startTime),
      Name: st.init.name,
      RoleArn: st.init.roleArn,
    };
    if (withRedriveCount) execution.RedriveCount = 0;
    const ctx: JsonObject = {
      Execution: execution,
      StateMachine: { Id: st.init.stateMachineArn, Name: st.init.stateMachineName },
      State: stateCtx,
    };
    if (frame.mapItem !== undefined) ctx.Map = { Item: frame.mapItem };
    if (frame.taskToken !== undefined && state.type === 'Task') ctx.Task = { Token: frame.taskToken };
    return ctx;
  }

  /** Failure text AWS uses for errors raised by a state's own fields. */
  runtimeError(
    frame: Frame,
    state: State,
    message: string,
    error?: string,
    location?: string,
  ): StatesRuntimeError {
    return runtimeFailure(state.name, frame.enteredEventId, message, error, location);
  }

  /** Starts a task attempt for a frame in a Task state. */
  scheduleTask(
    frame: Frame,
    state: Extract<State, { type: 'Task' }>,
    scheduled: Extract<Outcome, { kind: 'schedule' }>,
  ): void {
    const { params, timeoutSeconds, heartbeatSeconds, roleArn } = scheduled;
    const taskId = this.nextTaskId(frame);
    if (!this.record) {
      for (let n = scheduledEventCount(state); n > 0; n--) this.skip(frame);
    } else
      for (const [type, details] of scheduledEvents(state, scheduled, this.st.init.executionArn)) {
        this.emit(frame, type, details);
      }
    const task: TaskRequest = {
      taskId,
      resource: state.resource,
      input: params,
      timeoutSeconds,
      heartbeatSeconds,
      taskToken: frame.taskToken,
      stateName: state.name,
    };
    if (roleArn !== undefined) task.roleArn = roleArn;
    if (this.st.init.testCase !== undefined) {
      // Step Functions Local numbers the calls of a mocked state per execution, retries and Map
      // iterations included.
      const calls = (this.st.mockCalls ??= {});
      // Own keys only: a state may be named `constructor` or `__proto__`.
      task.mockCall = Object.hasOwn(calls, state.name) ? (calls[state.name] ?? 0) : 0;
      setOwn(calls, state.name, task.mockCall + 1);
    }
    this.invokeTask(frame, { kind: 'invokeTask', task });
    const timers: string[] = [];
    if (timeoutSeconds !== undefined) {
      const id = `timeout-${taskId}`;
      timers.push(id);
      this.startTimer(id, this.now + timeoutSeconds * 1000, {
        kind: 'taskTimeout',
        frameId: frame.id,
        taskId,
      });
    }
    // Heartbeats exist for work done elsewhere: activities and callbacks.
    frame.taskHeartbeatSeconds = heartbeatSeconds;
    if (heartbeatSeconds !== undefined && reportsHeartbeats(state)) {
      const id = `heartbeat-${taskId}`;
      timers.push(id);
      this.startTimer(id, this.now + heartbeatSeconds * 1000, {
        kind: 'heartbeat',
        frameId: frame.id,
        taskId,
      });
    }
    frame.timerIds = timers.length === 0 ? NONE : timers;
  }

  /** Puts a frame to sleep in a Wait state until `dueTime`. */
  sleep(frame: Frame, dueTime: number, output: JsonValue, assigned: JsonObject | undefined): void {
    const timerId = `wait-${frame.id}-${this.st.nextTaskSeq++}`;
    frame.phase = 'wait';
    frame.timerIds = [timerId];
    frame.taskInput = output;
    frame.waitAssigned = assigned;
    this.startTimer(timerId, dueTime, { kind: 'wait', frameId: frame.id });
  }

  /** Records MapRunStarted: a distributed Map's child executions begin. */
  private mapRunStarted(frame: Frame, state: State): void {
    const st = this.st;
    const label = state.type === 'Map' ? state.label : undefined;
    const arnParts = st.init.stateMachineArn.split(':');
    const mapRunArn = [
      ...arnParts.slice(0, 5),
      'mapRun',
      `${st.init.stateMachineName}/${label ?? this.env.uuid()}:${this.env.uuid()}`,
    ].join(':');
    this.emit(frame, 'MapRunStarted', { mapRunStartedEventDetails: { mapRunArn } });
    // The ResultWriter's files and result name the map run.
    if (state.type === 'Map' && state.resultWriter !== undefined) frame.mapRunArn = mapRunArn;
  }

  /**
   * A distributed Map with an ItemReader: MapStateStarted (length 0: the items are not known
   * yet) and MapRunStarted, then the runtime reads the items (an `invokeTask` marked
   * `itemReader`, durable like any task); `onItemsRead` continues.
   */
  readItems(
    frame: Frame,
    state: Extract<State, { type: 'Map' }>,
    o: Extract<Outcome, { kind: 'readItems' }>,
  ): void {
    const startedEventId = this.emit(frame, 'MapStateStarted', {
      mapStateStartedEventDetails: { length: 0 },
    });
    this.mapRunStarted(frame, state);
    const problem = maxItemsProblem(o.maxItems);
    if (problem !== undefined) {
      this.mapRunFailed(frame, state, StatesErrors.ItemReaderFailed, problem);
      return;
    }
    frame.itemRead = { maxItems: o.maxItems, batch: o.batch, startedEventId, writeTo: o.writeTo };
    this.invokeTask(frame, {
      kind: 'invokeTask',
      task: {
        taskId: this.nextTaskId(frame),
        resource: state.itemReader!.resource,
        input: o.params,
        timeoutSeconds: undefined,
        heartbeatSeconds: undefined,
        taskToken: undefined,
        stateName: state.name,
        itemReader: true,
      },
    });
  }

  /** The ItemReader's result (`failure`: the read failed with this cause). */
  private onItemsRead(
    frame: Frame,
    state: Extract<State, { type: 'Map' }>,
    output: JsonValue,
    failure: string | undefined,
  ): void {
    const plan = frame.itemRead;
    frame.itemRead = undefined;
    if (plan === undefined || state.itemReader === undefined) return;
    frame.phase = 'ready';
    const read =
      failure !== undefined
        ? { ok: false as const, cause: failure }
        : itemsFromReader(state.itemReader.resource, state.itemReader.config, output, plan.maxItems);
    if (!read.ok) {
      this.mapRunFailed(frame, state, StatesErrors.ItemReaderFailed, read.cause);
    } else {
      const items = read.items;
      this.resolve(frame, state, 'attempt', () =>
        mapReadItems(this, frame, state, items, plan.batch, plan.startedEventId, plan.writeTo),
      );
    }
    this.continueFrame(frame);
  }

  /**
   * The map run failed (its items could not be read, its results not written, or its children
   * failed before a write): MapRunFailed, then the state's Retry/Catch.
   */
  private mapRunFailed(
    frame: Frame,
    state: State,
    error: string | undefined,
    cause: string | undefined,
  ): void {
    this.emit(frame, 'MapRunFailed', { mapRunFailedEventDetails: errorDetails(error, cause) });
    frame.phase = 'ready';
    this.handleFailure(frame, state, error, cause, 'MapStateFailed');
  }

  /** Starts a Map's iterations or a Parallel's branches. */
  startChildren(frame: Frame, start: Extract<Outcome, { kind: 'children' }>): void {
    const { items, childInputs, maxConcurrency, tolerated: toleratedCount } = start;
    const state = this.stateOf(frame);
    // Each branch or iteration starts with an input under the quota (ItemSelector and
    // Parameters can make it larger than the state's own input).
    const inputs = childInputs ?? (state.type === 'Parallel' ? items.slice(0, 1) : []);
    if (this.st.init.maxPayloadBytes !== undefined && inputs.some((v) => this.oversize(v))) {
      const cause = dataLimitCause(state.name, 'input');
      this.handleFailure(frame, state, StatesErrors.DataLimitExceeded, cause, `${state.type}StateFailed`);
      return;
    }
    // Items read by an ItemReader: MapStateStarted and MapRunStarted came before the read.
    const resumed = start.startedEventId !== undefined;
    const startedEventId =
      start.startedEventId ??
      (state.type === 'Map'
        ? this.emit(frame, 'MapStateStarted', { mapStateStartedEventDetails: { length: items.length } })
        : this.emit(frame, 'ParallelStateStarted'));
    if (start.lateFailure !== undefined) {
      this.handleFailure(frame, state, start.lateFailure.error, start.lateFailure.cause);
      return;
    }
    const distributed = state.type === 'Map' && state.mode === 'DISTRIBUTED';
    if (distributed && !resumed) this.mapRunStarted(frame, state);
    frame.phase = 'children';
    frame.children = {
      items,
      childInputs,
      results: markAggregate(new Array<JsonValue>(items.length)),
      resultBytes: this.st.init.maxPayloadBytes !== undefined ? 2 : undefined,
      nextIndex: 0,
      running: 0,
      done: 0,
      failed: 0,
      maxConcurrency,
      toleratedCount,
      active: {},
      lastChildEventId: startedEventId,
      lastEndEventId: startedEventId,
      startedEventId,
      distributed,
      failure: undefined,
      pumping: false,
    };
    if (distributed && state.type === 'Map' && state.resultWriter !== undefined) {
      frame.children.runs = {};
      if (start.writeTo !== undefined) frame.children.writeTo = start.writeTo;
    }
    this.pumpChildren(frame);
  }
}

const STATE_TYPES = ['Pass', 'Task', 'Choice', 'Wait', 'Succeed', 'Fail', 'Parallel', 'Map'] as const;
const ENTERED = Object.fromEntries(STATE_TYPES.map((t) => [t, `${t}StateEntered`])) as Record<
  State['type'],
  string
>;
const EXITED = Object.fromEntries(STATE_TYPES.map((t) => [t, `${t}StateExited`])) as Record<
  State['type'],
  string
>;

function errorDetails(error: string | undefined, cause: string | undefined): JsonObject {
  const d: JsonObject = {};
  if (error !== undefined) d.error = error;
  if (cause !== undefined) d.cause = cause;
  return d;
}

/** A state's own failure as an outcome its Retry/Catch handle; anything else is a bug and rethrown. */
function failedOutcome(e: unknown): Outcome {
  if (!(e instanceof StatesRuntimeError)) throw e;
  return { kind: 'fail', error: e.error, cause: e.causeText, location: e.location };
}

/** Two UUIDs: 244 random bits, for environments that give no token source. */
function defaultToken(env: InterpreterEnv): () => string {
  return () => `${env.uuid()}${env.uuid()}`.replace(/-/g, '');
}

const MAX_VARIABLE_BYTES = 256 * 1024;
const MAX_EXECUTION_VARIABLE_BYTES = 10 * 1024 * 1024;

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text);
}

/** A map run's children as its ResultWriter sees them, in item order. */
function childResults(progress: ChildProgress): ChildResult[] {
  return progress.items.map((item, i) => ({
    run: progress.runs?.[i],
    input: progress.childInputs?.[i] ?? item,
    output: progress.results[i],
  }));
}
