/**
 * One evaluator per state type, with one contract: given the frame (whose `input` is the raw
 * state input) and the state, say what happens next as an `Outcome`. Evaluators have no
 * effects: starting a task, a timer or children is an outcome the interpreter carries out.
 *
 * JSONPath states evaluate synchronously. JSONata expressions evaluate asynchronously (the
 * `jsonata` package has no synchronous API), so a JSONata state may return a Promise of its
 * outcome; the interpreter parks the frame until it settles.
 */
import { StatesErrors, StatesRuntimeError } from '../language/errors.js';
import type { IntrinsicEnv } from '../language/intrinsics.js';
import type { JsonObject, JsonValue } from '../language/json.js';
import { getOwn, isJsonObject, trySizeBound } from '../language/json.js';
import {
  jsonataTypeName,
  jsonataUnexpectedTypeCause,
  type CompiledJsonataTemplate,
  type JsonataBindings,
} from '../language/jsonata.js';
import { pathNotFoundCause, type PathEnv } from '../language/jsonpath.js';
import type {
  AssignSpec,
  Catcher,
  ChoiceState,
  FailState,
  FilterPath,
  MapState,
  NumberSource,
  ParallelState,
  PassState,
  ResultPathSpec,
  State,
  SucceedState,
  TaskState,
  WaitState,
} from '../language/model.js';
import type { CompiledPayload } from '../language/payload.js';
import { parseTimestamp } from '../language/timestamp.js';
import { applyFilterPath, applyResultPath, type PathScope } from './io.js';
import { catchOutput, errorOutputOf } from './errors.js';
import type { StepContext, VariableView } from './step-context.js';
import type { Frame, ItemBatchPlan } from './types.js';
import { batchItems } from './item-reader.js';
import { resourceOf } from './task-events.js';
import { filteredBytes, placedBytes } from './payload-limit.js';

export type Outcome =
  /** Exit the state with `output`; go to `next`, or end the (sub-)machine when undefined. */
  | {
      kind: 'next';
      output: JsonValue;
      next: string | undefined;
      assigned: JsonObject | undefined;
      /** A bound of the output's size, when the payload quota is enforced and it was derived. */
      bytes: number | undefined;
    }
  | { kind: 'succeedMachine'; output: JsonValue; bytes: number | undefined }
  | { kind: 'failMachine'; error: string | undefined; cause: string | undefined }
  /** A failure the state's Retry/Catch handles. */
  | { kind: 'fail'; error: string; cause: string | undefined; location?: string | undefined }
  | {
      kind: 'schedule';
      params: JsonValue;
      timeoutSeconds: number | undefined;
      heartbeatSeconds: number | undefined;
      /** The role named by the state's `Credentials`, evaluated for this attempt. */
      roleArn: string | undefined;
    }
  | { kind: 'sleep'; due: number; output: JsonValue; assigned: JsonObject | undefined }
  | {
      kind: 'children';
      items: JsonValue[];
      childInputs: JsonValue[] | undefined;
      maxConcurrency: number;
      tolerated: number | undefined;
      /** A failure AWS records only after MapStateStarted (e.g. a bad tolerated-failure value). */
      lateFailure: { error: string; cause: string } | undefined;
      /** Items read by an ItemReader: MapStateStarted (this event) and MapRunStarted are recorded. */
      startedEventId?: number | undefined;
      /** A distributed Map's ResultWriter exports to S3 with these parameters (`Bucket`, `Prefix`). */
      writeTo?: JsonValue | undefined;
    }
  /** A distributed Map reads its items first (ItemReader): `params` is the reader's request. */
  | {
      kind: 'readItems';
      params: JsonValue;
      maxItems: number | undefined;
      batch: ItemBatchPlan | undefined;
      writeTo: JsonValue | undefined;
    };

export type MaybeOutcome = Outcome | Promise<Outcome>;
type Maybe<T> = T | Promise<T>;

function isPromise<T>(v: Maybe<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

/** Applies `f` now for a plain value, or when the promise settles. */
function then<T, U>(v: Maybe<T>, f: (t: T) => Maybe<U>): Maybe<U> {
  return isPromise(v) ? v.then(f) : f(v);
}

function all<T>(vs: Maybe<T>[]): Maybe<T[]> {
  return vs.some(isPromise) ? Promise.all(vs) : (vs as T[]);
}

/** The environment templates and intrinsics see; `$$` and variables are built only when read. */
class TemplateEnv implements IntrinsicEnv {
  // Assigned in the constructor, not declared as class fields (see Scope).
  declare private readonly scope: Scope;
  declare readonly input: JsonValue;
  declare private readonly extraContext: JsonObject | undefined;
  declare private readonly asPath: boolean;
  declare readonly random: () => number;
  declare readonly uuid: () => string;
  constructor(scope: Scope, input: JsonValue, extraContext: JsonObject | undefined, asPath = false) {
    this.scope = scope;
    this.input = input;
    this.extraContext = extraContext;
    this.asPath = asPath;
    this.random = scope.ctx.env.random;
    this.uuid = scope.ctx.env.uuid;
  }

  get context(): JsonValue {
    const base = this.asPath ? this.scope.pathContext() : this.scope.context();
    return this.extraContext ? { ...base, ...this.extraContext } : base;
  }

  get variables(): VariableView {
    return this.scope.variables();
  }
}

/** Per-evaluation helpers shared by the evaluators. */
class Scope implements PathScope {
  // Assigned in the constructor rather than declared as class fields: class fields cost a call to
  // an initializer function per object, and a Scope is made for every state (a fifth of the cost
  // of making one before the JIT optimises it).
  declare readonly ctx: StepContext;
  declare readonly frame: Frame;
  declare readonly state: State;
  declare private ctxObj: JsonObject | undefined;
  declare private pathCtxObj: JsonObject | undefined;
  declare private vars: VariableView | undefined;
  constructor(ctx: StepContext, frame: Frame, state: State) {
    this.ctx = ctx;
    this.frame = frame;
    this.state = state;
    this.ctxObj = undefined;
    this.pathCtxObj = undefined;
    this.vars = undefined;
  }

  /** `$$` as payload templates and intrinsics see it. */
  context(): JsonObject {
    return (this.ctxObj ??= this.ctx.context(this.frame, this.state, false));
  }

  /** `$$` as InputPath/OutputPath, other paths and `$states.context` see it. */
  pathContext(): JsonObject {
    return (this.pathCtxObj ??= this.ctx.context(this.frame, this.state, true));
  }

  variables(): VariableView {
    return (this.vars ??= this.ctx.variables(this.frame));
  }

  /** A failure of the state's own fields: States.Runtime, or States.QueryEvaluationError in JSONata. */
  fail(message: string, location?: string): StatesRuntimeError {
    const error =
      this.state.queryLanguage === 'JSONata' ? StatesErrors.QueryEvaluationError : StatesErrors.Runtime;
    return this.ctx.runtimeError(this.frame, this.state, message, error, location);
  }

  /** Adds AWS's "An error occurred while executing the state…" prefix to a bare cause. */
  prefixed(e: unknown): never {
    if (e instanceof StatesRuntimeError && !e.causeText.startsWith('An error occurred while executing')) {
      throw this.ctx.runtimeError(this.frame, this.state, e.causeText, e.error, e.location);
    }
    throw e;
  }

  env(input: JsonValue, extraContext?: JsonObject): IntrinsicEnv {
    return new TemplateEnv(this, input, extraContext);
  }

  // ---- JSONPath ------------------------------------------------------------------------

  inputPath(): JsonValue {
    const s = this.state;
    if (s.type === 'Fail') return this.frame.input;
    return applyFilterPath(s.inputPath, this.frame.input, this);
  }

  outputPath(value: JsonValue): JsonValue {
    const s = this.state;
    if (s.type === 'Fail') return value;
    return applyFilterPath(s.outputPath, value, this);
  }

  // ---- payload size bounds (only while the runtime enforces the quota) ----------------

  /** A bound of the size of what InputPath (then OutputPath, when given) make of the state input. */
  filteredBytes(inputPath: FilterPath, outputPath: FilterPath = undefined): number | undefined {
    const bytes = this.ctx.inputBytes(this.frame);
    return bytes === undefined ? undefined : filteredBytes(outputPath, filteredBytes(inputPath, bytes));
  }

  /**
   * A bound of the size of the output ResultPath and OutputPath make of `result` and the state
   * input; `resultBytes`, the result's bound, is measured when not given.
   */
  placedBytes(
    resultPath: ResultPathSpec,
    outputPath: FilterPath,
    result: JsonValue,
    resultBytes: number | undefined,
  ): number | undefined {
    const inputBytes = this.ctx.inputBytes(this.frame);
    if (inputBytes === undefined) return undefined;
    const valueBytes = resultBytes ?? trySizeBound(result);
    if (valueBytes === undefined) return undefined;
    return placedBytes(resultPath, outputPath, inputBytes, valueBytes);
  }

  payload(template: CompiledPayload | undefined, input: JsonValue): JsonValue {
    return template === undefined ? input : this.evaluate(template, input);
  }

  evaluate(template: CompiledPayload, input: JsonValue, extraContext?: JsonObject): JsonValue {
    try {
      return template.evaluate(this.env(input, extraContext));
    } catch (e) {
      return this.prefixed(e);
    }
  }

  /** Resolves a literal-or-path number (TimeoutSecondsPath, MaxConcurrencyPath…). */
  number(src: NumberSource | undefined, input: JsonValue, integer: boolean): Maybe<number | undefined> {
    if (src === undefined) return undefined;
    switch (src.kind) {
      case 'literal':
        return src.value;
      case 'path': {
        const root = src.path.root.kind === 'context' ? this.pathContext() : input;
        const v =
          src.path.root.kind === 'variable'
            ? src.path.select(this.pathEnv(input))
            : src.path.selectFrom(root);
        if (v === undefined) throw this.fail(pathNotFoundCause(src.path, root));
        // AWS reads numbers given as strings too ("1"), as long as they parse.
        const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
        if (typeof n === 'number' && Number.isFinite(n) && (!integer || Number.isInteger(n))) return n;
        if (typeof v !== 'number' || (integer && !Number.isInteger(v))) {
          const shown = typeof v === 'string' ? v : JSON.stringify(v);
          throw this.fail(
            `The ${src.field} field refers to value "${shown}" which is not a valid ${integer ? 'integer' : 'float'}: ${src.path.source}`,
          );
        }
        return v;
      }
      case 'jsonata':
        return then(this.jsonata(src.template, this.bindings(input)), (v) => {
          if (typeof v !== 'number' || (integer && !Number.isInteger(v))) {
            throw this.fail(
              jsonataUnexpectedTypeCause(
                src.template.expression ?? '',
                src.field,
                integer ? 'integer' : 'number',
                v,
              ),
              src.field,
            );
          }
          return v;
        });
    }
  }

  pathEnv(input: JsonValue): PathEnv {
    return this.env(input);
  }

  /** JSONPath Assign: `$` is the state's result. */
  assignJsonPath(spec: AssignSpec | undefined, result: JsonValue): JsonObject | undefined {
    if (spec === undefined || spec.kind !== 'jsonpath') return undefined;
    // Assign sees `$$` as paths do (with Execution.RedriveCount), unlike Parameters.
    let v: JsonValue;
    try {
      v = spec.payload.evaluate(new TemplateEnv(this, result, undefined, true));
    } catch (e) {
      return this.prefixed(e);
    }
    return isJsonObject(v) && Object.keys(v).length > 0 ? v : undefined;
  }

  // ---- JSONata -------------------------------------------------------------------------

  bindings(input: JsonValue, extra?: { result?: JsonValue; errorOutput?: JsonValue }): JsonataBindings {
    // The context object is built only when an expression reads it (formatting its timestamps
    // was a tenth of a JSONata Pass state's time), by jsonata.ts through `context`. A Map's
    // ItemSelector sets its own (with `Map.Item`). Plain data properties: an object literal
    // with a getter costs forty times as much to create.
    const states: JsonObject = { input };
    if (extra?.result !== undefined) states.result = extra.result;
    if (extra?.errorOutput !== undefined) states.errorOutput = extra.errorOutput;
    return {
      states,
      context: () => this.pathContext(),
      variables: this.variables(),
      random: this.ctx.env.random,
      uuid: this.ctx.env.uuid,
      now: this.ctx.env.now,
    };
  }

  jsonata(template: CompiledJsonataTemplate, b: JsonataBindings): Maybe<JsonValue> {
    try {
      const v = template.evaluate(b);
      return isPromise(v) ? v.catch((e: unknown) => this.prefixed(e)) : v;
    } catch (e) {
      return this.prefixed(e);
    }
  }

  /** JSONata Output (or `fallback` when absent) and Assign, evaluated against the same bindings. */
  outputAndAssign(
    output: CompiledJsonataTemplate | undefined,
    assign: AssignSpec | undefined,
    b: JsonataBindings,
    fallback: JsonValue,
  ): Maybe<[JsonValue, JsonObject | undefined]> {
    const out = output === undefined ? fallback : this.jsonata(output, b);
    const asg = assign?.kind === 'jsonata' ? this.jsonata(assign.template, b) : undefined;
    return then(all<JsonValue | undefined>([out, asg]), ([o, a]) => [
      o as JsonValue,
      isJsonObject(a ?? null) && Object.keys(a as JsonObject).length > 0 ? (a as JsonObject) : undefined,
    ]);
  }
}

function next(
  state: State,
  output: JsonValue,
  assigned: JsonObject | undefined,
  bytes: number | undefined = undefined,
): Outcome {
  return { kind: 'next', output, next: state.next, assigned, bytes };
}

function assertNever(x: never): never {
  throw new Error(`unexpected state ${JSON.stringify(x)}`);
}

/** Turns a settled evaluation failure into a `fail` outcome the state can retry or catch. */
function settle(o: MaybeOutcome): MaybeOutcome {
  if (!isPromise(o)) return o;
  return o.catch((e: unknown) => {
    if (e instanceof StatesRuntimeError) {
      const failed: Outcome = { kind: 'fail', error: e.error, cause: e.causeText, location: e.location };
      return failed;
    }
    throw e;
  });
}

/** Enters (or retries) the frame's current state. */
export function evaluateState(ctx: StepContext, frame: Frame, state: State): MaybeOutcome {
  // A Pass that only places its Result (`placesOnly`) is applied by the interpreter itself
  // (`Run.attempt`); `pass` below gives the same output for it.
  const scope = new Scope(ctx, frame, state);
  const ata = state.queryLanguage === 'JSONata';
  switch (state.type) {
    case 'Pass':
      return ata ? settle(passJsonata(scope, state)) : pass(scope, state);
    case 'Task':
      return ata ? settle(taskJsonata(scope, state)) : task(scope, state);
    case 'Choice':
      return ata ? settle(choiceJsonata(scope, state)) : choice(scope, state);
    case 'Wait':
      return ata ? settle(waitJsonata(scope, state)) : wait(scope, state);
    case 'Succeed':
      return ata ? settle(succeedJsonata(scope, state)) : succeed(scope, state);
    case 'Fail':
      return ata ? settle(failJsonata(scope, state)) : failState(scope, state);
    case 'Parallel':
      return ata ? settle(parallelJsonata(scope, state)) : parallel(scope, state);
    case 'Map':
      return ata ? settle(mapJsonata(scope, state)) : map(scope, state);
    default:
      return assertNever(state);
  }
}

/**
 * Finishes a Task with its result, or a Parallel/Map with its children's results (`resultBytes`:
 * a bound of their size, when known).
 */
export function completeState(
  ctx: StepContext,
  frame: Frame,
  state: State,
  result: JsonValue,
  resultBytes?: number,
): MaybeOutcome {
  const scope = new Scope(ctx, frame, state);
  switch (state.type) {
    case 'Task':
    case 'Parallel':
    case 'Map': {
      if (state.queryLanguage === 'JSONata') {
        const b = scope.bindings(frame.input, { result });
        return settle(
          then(scope.outputAndAssign(state.output, state.assign, b, result), ([o, a]) => next(state, o, a)),
        );
      }
      const selected =
        state.resultSelector === undefined ? result : scope.evaluate(state.resultSelector, result);
      const assigned = scope.assignJsonPath(state.assign, selected);
      const merged = applyResultPath(state.resultPath, frame.input, selected);
      const bytes = scope.placedBytes(
        state.resultPath,
        state.outputPath,
        selected,
        state.resultSelector === undefined ? resultBytes : undefined,
      );
      return next(state, scope.outputPath(merged), assigned, bytes);
    }
    case 'Pass':
    case 'Choice':
    case 'Wait':
    case 'Succeed':
    case 'Fail':
      throw new Error(`${state.type} states have no asynchronous result`);
    default:
      return assertNever(state);
  }
}

/** What a catcher hands on: the error output, placed as the catcher says, and its Assign. */
export function catchState(
  ctx: StepContext,
  frame: Frame,
  state: State,
  catcher: Catcher,
  error: string,
  cause: string | undefined,
): MaybeOutcome {
  const scope = new Scope(ctx, frame, state);
  const errorOutput = errorOutputOf(error, cause);
  if (state.queryLanguage === 'JSONata') {
    const b = scope.bindings(frame.input, { errorOutput });
    return settle(
      then(scope.outputAndAssign(catcher.output, catcher.assign, b, errorOutput), ([o, a]) => ({
        kind: 'next',
        output: o,
        next: catcher.next,
        assigned: a,
        bytes: undefined,
      })),
    );
  }
  const assigned = scope.assignJsonPath(catcher.assign, errorOutput);
  return {
    kind: 'next',
    output: catchOutput(catcher, frame.input, error, cause),
    next: catcher.next,
    assigned,
    bytes: undefined,
  };
}

// ---- JSONPath states -------------------------------------------------------------------

function pass(scope: Scope, state: PassState): Outcome {
  const effective = scope.inputPath();
  const result = state.result !== undefined ? state.result : scope.payload(state.parameters, effective);
  const assigned = scope.assignJsonPath(state.assign, result);
  const merged = applyResultPath(state.resultPath, scope.frame.input, result);
  // Without Result or Parameters the result is the effective input, whose bound is known.
  const passed =
    state.result !== undefined
      ? state.resultBytes
      : result === effective
        ? scope.filteredBytes(state.inputPath)
        : undefined;
  const bytes = scope.placedBytes(state.resultPath, state.outputPath, result, passed);
  return next(state, scope.outputPath(merged), assigned, bytes);
}

/** AWS fails a Task naming an activity that does not exist before scheduling anything. */
function checkActivity(scope: Scope, state: TaskState): void {
  const r = resourceOf(state);
  const exists = scope.ctx.env.activityExists;
  if (r.kind === 'activity' && exists !== undefined && !exists(r.activityArn)) {
    throw scope.fail(`The activity ${r.activityArn} does not exist.`);
  }
}

function task(scope: Scope, state: TaskState): Outcome {
  checkActivity(scope, state);
  const effective = scope.inputPath();
  const params = scope.payload(state.parameters, effective);
  const credentials = state.credentials;
  return {
    kind: 'schedule',
    params,
    timeoutSeconds: scope.number(state.timeoutSeconds, effective, true) as number | undefined,
    heartbeatSeconds: scope.number(state.heartbeatSeconds, effective, true) as number | undefined,
    roleArn:
      credentials?.kind === 'jsonpath'
        ? roleArnOf(scope, scope.evaluate(credentials.payload, effective))
        : undefined,
  };
}

/** The `RoleArn` of an evaluated `Credentials` object; anything but a string fails the state. */
function roleArnOf(scope: Scope, credentials: JsonValue): string {
  const roleArn = isJsonObject(credentials) ? getOwn(credentials, 'RoleArn') : undefined;
  if (typeof roleArn !== 'string' || roleArn === '') {
    throw scope.fail(`The value of the field 'RoleArn' in 'Credentials' must be a non-empty string.`);
  }
  return roleArn;
}

function choice(scope: Scope, state: ChoiceState): Outcome {
  const effective = scope.inputPath();
  const env = scope.env(effective);
  let target: string | undefined;
  let assign: AssignSpec | undefined;
  try {
    const choices = state.choices;
    for (let i = 0; i < choices.length; i++) {
      const branch = choices[i]!;
      if (branch.rule?.evaluate(env)) {
        target = branch.next;
        assign = branch.assign;
        break;
      }
    }
  } catch (e) {
    // Rules report a bad path without knowing the state; AWS prefixes the state's name.
    if (e instanceof StatesRuntimeError && e.error === StatesErrors.Runtime) throw scope.fail(e.causeText);
    throw e;
  }
  if (target === undefined) {
    target = state.default;
    assign = state.assign;
  }
  if (target === undefined) throw new StatesRuntimeError(StatesErrors.NoChoiceMatched, 'No Matches!');
  const assigned = scope.assignJsonPath(assign, effective);
  const bytes = scope.filteredBytes(state.inputPath, state.outputPath);
  return { kind: 'next', output: scope.outputPath(effective), next: target, assigned, bytes };
}

function dueFromSeconds(scope: Scope, seconds: number): number {
  return scope.ctx.env.now() + seconds * 1000;
}

function wait(scope: Scope, state: WaitState): Outcome {
  const effective = scope.inputPath();
  let due: number;
  const spec = state.wait;
  const shown = (path: string, v: JsonValue) => `${path} == ${typeof v === 'string' ? v : JSON.stringify(v)}`;
  switch (spec.kind) {
    case 'seconds':
      due = dueFromSeconds(scope, spec.seconds);
      break;
    case 'secondsPath': {
      const root = spec.path.root.kind === 'context' ? scope.pathContext() : effective;
      const v =
        spec.path.root.kind === 'variable'
          ? spec.path.select(scope.pathEnv(effective))
          : spec.path.selectFrom(root);
      if (v === undefined) throw scope.fail(pathNotFoundCause(spec.path, root));
      if (typeof v !== 'number' || !Number.isInteger(v))
        throw scope.fail(
          `The SecondsPath parameter cannot be parsed as a long value: ${shown(spec.path.source, v)}`,
        );
      if (v < 0)
        throw scope.fail(
          `The SecondsPath parameter references a negative value: ${shown(spec.path.source, v)}`,
        );
      due = dueFromSeconds(scope, v);
      break;
    }
    case 'timestamp': {
      const t = parseTimestamp(spec.timestamp);
      if (t === undefined)
        throw scope.fail(
          `The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: ${spec.timestamp}`,
        );
      due = t;
      break;
    }
    case 'timestampPath': {
      const root = spec.path.root.kind === 'context' ? scope.pathContext() : effective;
      const v =
        spec.path.root.kind === 'variable'
          ? spec.path.select(scope.pathEnv(effective))
          : spec.path.selectFrom(root);
      if (v === undefined) throw scope.fail(pathNotFoundCause(spec.path, root));
      const t = typeof v === 'string' ? parseTimestamp(v) : undefined;
      if (t === undefined)
        throw scope.fail(
          `The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: ${shown(spec.path.source, v)}`,
        );
      due = t;
      break;
    }
    case 'secondsExpr':
    case 'timestampExpr':
      throw new Error('JSONata Wait fields in a JSONPath state');
  }
  const assigned = scope.assignJsonPath(state.assign, effective);
  return { kind: 'sleep', due, output: scope.outputPath(effective), assigned };
}

function succeed(scope: Scope, state: SucceedState): Outcome {
  const bytes = scope.filteredBytes(state.inputPath, state.outputPath);
  return { kind: 'succeedMachine', output: scope.outputPath(scope.inputPath()), bytes };
}

function failState(scope: Scope, state: FailState): Outcome {
  const read = (v: FailState['errorPath'], field: string): string | undefined => {
    if (v === undefined) return undefined;
    let value: JsonValue | undefined;
    try {
      value = v.evaluate(scope.env(scope.frame.input));
    } catch (e) {
      return scope.prefixed(e);
    }
    if (value === undefined) {
      throw scope.fail(
        `The JSONPath '${v.source}' specified for the field '${field}' could not be found in the input '${JSON.stringify(scope.frame.input)}'`,
      );
    }
    return typeof value === 'string' ? value : JSON.stringify(value);
  };
  const error = state.error ?? read(state.errorPath, 'ErrorPath');
  const cause = state.cause ?? read(state.causePath, 'CausePath');
  return { kind: 'failMachine', error, cause };
}

function parallel(scope: Scope, state: ParallelState): Outcome {
  const branchInput = scope.payload(state.parameters, scope.inputPath());
  return {
    kind: 'children',
    items: state.branches.map(() => branchInput),
    childInputs: undefined,
    maxConcurrency: 0,
    tolerated: undefined,
    lateFailure: undefined,
  };
}

/** Tolerated failures of a Map, or the failure AWS reports after MapStateStarted. */
function tolerance(
  scope: Scope,
  state: MapState,
  input: JsonValue,
  total: number,
): Maybe<{ tolerated: number | undefined; lateFailure: { error: string; cause: string } | undefined }> {
  const lateFailure = (e: unknown) => {
    if (e instanceof StatesRuntimeError)
      return { tolerated: undefined, lateFailure: { error: e.error, cause: e.causeText } };
    throw e;
  };
  try {
    const counts = all([
      scope.number(state.toleratedFailure.count, input, true),
      scope.number(state.toleratedFailure.percentage, input, false),
    ]);
    const compute = ([count, percentage]: (number | undefined)[]) => {
      if (count !== undefined && count < 0) throw scope.fail('ToleratedFailureCount cannot be negative.');
      if (percentage !== undefined && (percentage < 0 || percentage > 100))
        throw scope.fail('ToleratedFailurePercentage must be between 0 and 100.');
      let limit: number | undefined = count;
      if (percentage !== undefined) {
        const fromPct = Math.floor((total * percentage) / 100);
        limit = limit === undefined ? fromPct : Math.min(limit, fromPct);
      }
      return { tolerated: limit, lateFailure: undefined };
    };
    return isPromise(counts) ? counts.then(compute).catch(lateFailure) : compute(counts);
  } catch (e) {
    return lateFailure(e);
  }
}

function map(scope: Scope, state: MapState): MaybeOutcome {
  const effective = scope.inputPath();
  // With an ItemReader, AWS ignores ItemsPath: the items are the reader's.
  if (state.itemReader !== undefined && state.mode === 'DISTRIBUTED')
    return readItems(scope, state, effective);
  let items: JsonValue = effective;
  if (state.itemsPath !== undefined) {
    const path = state.itemsPath;
    const root = path.root.kind === 'context' ? scope.pathContext() : effective;
    const v = path.root.kind === 'variable' ? path.select(scope.pathEnv(effective)) : path.selectFrom(root);
    if (v === undefined) throw scope.fail(pathNotFoundCause(path, root));
    items = v;
  }
  if (!Array.isArray(items))
    throw scope.fail(`Map state input must be an array but was: ${JSON.stringify(items)}`);
  const list = items;
  return then(
    all<unknown>([batchPlan(scope, state, effective), writerParams(scope, state, effective)]),
    ([batch, writeTo]) =>
      mapChildren(
        scope,
        state,
        effective,
        list,
        batch as ItemBatchPlan | undefined,
        undefined,
        writeTo as JsonValue | undefined,
      ),
  );
}

/**
 * A distributed Map's ResultWriter `Parameters`/`Arguments`, evaluated when the Map is entered
 * (like the ItemReader's); undefined when the results are not exported to S3.
 */
function writerParams(scope: Scope, state: MapState, input: JsonValue): Maybe<JsonValue | undefined> {
  const w = state.resultWriter;
  if (w?.resource === undefined || state.mode !== 'DISTRIBUTED') return undefined;
  if (state.queryLanguage === 'JSONata')
    return w.arguments === undefined ? {} : scope.jsonata(w.arguments, scope.bindings(input));
  return w.parameters === undefined ? {} : scope.evaluate(w.parameters, input);
}

/** The children of a JSONPath Map: ItemSelector per item, then batches (ItemBatcher). */
function mapChildren(
  scope: Scope,
  state: MapState,
  effective: JsonValue,
  items: JsonValue[],
  batch: ItemBatchPlan | undefined,
  startedEventId?: number,
  writeTo?: JsonValue,
): Outcome {
  const maxConcurrency = (scope.number(state.maxConcurrency, effective, true) as number | undefined) ?? 0;
  const selector = state.itemSelector;
  let childInputs =
    selector?.kind === 'jsonpath'
      ? items.map((value, index) =>
          scope.evaluate(selector.payload, effective, { Map: { Item: { Index: index, Value: value } } }),
        )
      : undefined;
  let children = items;
  if (batch !== undefined) {
    children = batchItems(childInputs ?? items, batch);
    childInputs = undefined;
  }
  const t = tolerance(scope, state, effective, children.length) as Exclude<
    ReturnType<typeof tolerance>,
    Promise<unknown>
  >;
  return { kind: 'children', items: children, childInputs, maxConcurrency, ...t, startedEventId, writeTo };
}

/** ItemBatcher's values, evaluated when the Map state is entered. */
function batchPlan(scope: Scope, state: MapState, input: JsonValue): Maybe<ItemBatchPlan | undefined> {
  const b = state.itemBatcher;
  if (b === undefined) return undefined;
  const spec = b.batchInput;
  const batchInput: Maybe<JsonValue> | undefined =
    spec === undefined
      ? undefined
      : spec.kind === 'jsonpath'
        ? scope.evaluate(spec.payload, input)
        : scope.jsonata(spec.template, scope.bindings(input));
  return then(
    all<JsonValue | number | undefined>([
      scope.number(b.maxItemsPerBatch, input, true),
      scope.number(b.maxInputBytesPerBatch, input, true),
      batchInput,
    ]),
    ([maxItems, maxBytes, value]) => {
      if (typeof maxItems === 'number' && maxItems < 1)
        throw scope.fail('field MaxItemsPerBatch must be positive');
      if (typeof maxBytes === 'number' && maxBytes < 1)
        throw scope.fail('field MaxInputBytesPerBatch must be positive');
      return {
        maxItems: maxItems as number | undefined,
        maxBytes: maxBytes as number | undefined,
        batchInput: value,
      };
    },
  );
}

/** A Map with an ItemReader: the reader's request, MaxItems and the batcher's values. */
function readItems(scope: Scope, state: MapState, input: JsonValue): MaybeOutcome {
  const reader = state.itemReader!;
  const params: Maybe<JsonValue> =
    state.queryLanguage === 'JSONata'
      ? reader.arguments === undefined
        ? {}
        : scope.jsonata(reader.arguments, scope.bindings(input))
      : reader.parameters === undefined
        ? {}
        : scope.evaluate(reader.parameters, input);
  return then(
    all<unknown>([
      params,
      scope.number(reader.maxItems, input, true),
      batchPlan(scope, state, input),
      writerParams(scope, state, input),
    ]),
    ([p, maxItems, batch, writeTo]) => ({
      kind: 'readItems' as const,
      params: p as JsonValue,
      maxItems: maxItems as number | undefined,
      batch: batch as ItemBatchPlan | undefined,
      writeTo: writeTo as JsonValue | undefined,
    }),
  );
}

/** The children of a Map whose ItemReader has read `items` (MapStateStarted is `startedEventId`). */
export function mapReadItems(
  ctx: StepContext,
  frame: Frame,
  state: MapState,
  items: JsonValue[],
  batch: ItemBatchPlan | undefined,
  startedEventId: number,
  writeTo: JsonValue | undefined,
): MaybeOutcome {
  const scope = new Scope(ctx, frame, state);
  if (state.queryLanguage === 'JSONata')
    return settle(mapChildrenJsonata(scope, state, frame.input, items, batch, startedEventId, writeTo));
  return mapChildren(scope, state, scope.inputPath(), items, batch, startedEventId, writeTo);
}

// ---- JSONata states --------------------------------------------------------------------

function passJsonata(scope: Scope, state: PassState): MaybeOutcome {
  const input = scope.frame.input;
  const b = scope.bindings(input);
  return then(scope.outputAndAssign(state.output, state.assign, b, input), ([o, a]) => next(state, o, a));
}

function taskJsonata(scope: Scope, state: TaskState): MaybeOutcome {
  checkActivity(scope, state);
  const input = scope.frame.input;
  const b = scope.bindings(input);
  const args = state.arguments === undefined ? input : scope.jsonata(state.arguments, b);
  const credentials = state.credentials;
  return then(
    all<JsonValue | number | undefined>([
      args,
      scope.number(state.timeoutSeconds, input, true),
      scope.number(state.heartbeatSeconds, input, true),
      credentials?.kind === 'jsonata' ? scope.jsonata(credentials.template, b) : undefined,
    ]),
    ([params, timeoutSeconds, heartbeatSeconds, evaluated]) => ({
      kind: 'schedule' as const,
      params: params as JsonValue,
      timeoutSeconds: timeoutSeconds as number | undefined,
      heartbeatSeconds: heartbeatSeconds as number | undefined,
      roleArn: credentials === undefined ? undefined : roleArnOf(scope, evaluated as JsonValue),
    }),
  );
}

function choiceJsonata(scope: Scope, state: ChoiceState): MaybeOutcome {
  const input = scope.frame.input;
  const b = scope.bindings(input);
  // Conditions run in order, synchronously unless one needs the asynchronous evaluator.
  const from = (i: number): MaybeOutcome => {
    const branch = state.choices[i];
    if (branch === undefined) {
      if (state.default === undefined)
        throw new StatesRuntimeError(StatesErrors.NoChoiceMatched, 'No Matches!');
      const target = state.default;
      return then(scope.outputAndAssign(state.output, state.assign, b, input), ([o, a]) => ({
        kind: 'next' as const,
        output: o,
        next: target,
        assigned: a,
        bytes: undefined,
      }));
    }
    const condition = branch.condition;
    if (condition === undefined) return from(i + 1);
    return then(scope.jsonata(condition, b), (v) => {
      if (typeof v !== 'boolean') {
        throw scope.fail(
          jsonataUnexpectedTypeCause(condition.expression ?? '', condition.field, 'boolean', v),
          condition.field,
        );
      }
      if (!v) return from(i + 1);
      return then(
        scope.outputAndAssign(branch.output ?? state.output, branch.assign, b, input),
        ([o, a]) => ({
          kind: 'next' as const,
          output: o,
          next: branch.next,
          assigned: a,
          bytes: undefined,
        }),
      );
    });
  };
  return from(0);
}

function waitJsonata(scope: Scope, state: WaitState): MaybeOutcome {
  const input = scope.frame.input;
  const b = scope.bindings(input);
  const spec = state.wait;
  let due: Maybe<number>;
  switch (spec.kind) {
    case 'seconds':
      due = dueFromSeconds(scope, spec.seconds);
      break;
    case 'timestamp': {
      const t = parseTimestamp(spec.timestamp);
      if (t === undefined)
        throw scope.fail(
          `The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: ${spec.timestamp}`,
          'Timestamp',
        );
      due = t;
      break;
    }
    case 'secondsExpr':
      due = then(scope.jsonata(spec.template, b), (v) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
          throw scope.fail(
            jsonataUnexpectedTypeCause(spec.template.expression ?? '', 'Seconds', 'integer', v),
            'Seconds',
          );
        return dueFromSeconds(scope, v);
      });
      break;
    case 'timestampExpr':
      due = then(scope.jsonata(spec.template, b), (v) => {
        const t = typeof v === 'string' ? parseTimestamp(v) : undefined;
        if (t === undefined)
          throw scope.fail(
            `The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: ${typeof v === 'string' ? v : jsonataTypeName(v)}`,
            'Timestamp',
          );
        return t;
      });
      break;
    case 'secondsPath':
    case 'timestampPath':
      throw new Error('JSONPath Wait fields in a JSONata state');
  }
  return then(
    all<number | [JsonValue, JsonObject | undefined]>([
      due,
      scope.outputAndAssign(state.output, state.assign, b, input),
    ]),
    ([d, oa]) => {
      const [output, assigned] = oa as [JsonValue, JsonObject | undefined];
      return { kind: 'sleep' as const, due: d as number, output, assigned };
    },
  );
}

function succeedJsonata(scope: Scope, state: SucceedState): MaybeOutcome {
  const input = scope.frame.input;
  const out = state.output === undefined ? input : scope.jsonata(state.output, scope.bindings(input));
  return then(out, (output) => ({ kind: 'succeedMachine' as const, output, bytes: undefined }));
}

function failJsonata(scope: Scope, state: FailState): MaybeOutcome {
  const b = scope.bindings(scope.frame.input);
  const text = (
    t: CompiledJsonataTemplate | undefined,
    literal: string | undefined,
  ): Maybe<string | undefined> =>
    t === undefined
      ? literal
      : then(scope.jsonata(t, b), (v) => {
          if (typeof v !== 'string')
            throw scope.fail(jsonataUnexpectedTypeCause(t.expression ?? '', t.field, 'string', v));
          return v;
        });
  return then(
    all([text(state.errorExpr, state.error), text(state.causeExpr, state.cause)]),
    ([error, cause]) => ({
      kind: 'failMachine' as const,
      error,
      cause,
    }),
  );
}

function parallelJsonata(scope: Scope, state: ParallelState): MaybeOutcome {
  const input = scope.frame.input;
  const args = state.arguments === undefined ? input : scope.jsonata(state.arguments, scope.bindings(input));
  return then(args, (branchInput) => ({
    kind: 'children' as const,
    items: state.branches.map(() => branchInput),
    childInputs: undefined,
    maxConcurrency: 0,
    tolerated: undefined,
    lateFailure: undefined,
  }));
}

function mapJsonata(scope: Scope, state: MapState): MaybeOutcome {
  const input = scope.frame.input;
  if (state.itemReader !== undefined && state.mode === 'DISTRIBUTED') return readItems(scope, state, input);
  const b = scope.bindings(input);
  const itemsTemplate = state.items;
  const itemsValue = itemsTemplate === undefined ? input : scope.jsonata(itemsTemplate, b);
  return then(itemsValue, (items) => {
    if (!Array.isArray(items)) {
      if (itemsTemplate?.expression !== undefined)
        throw scope.fail(
          jsonataUnexpectedTypeCause(itemsTemplate.expression, 'Items', 'array', items),
          'Items',
        );
      throw scope.fail(`Map state input must be an array but was: ${JSON.stringify(items)}`);
    }
    return then(
      all<unknown>([batchPlan(scope, state, input), writerParams(scope, state, input)]),
      ([batch, w]) =>
        mapChildrenJsonata(
          scope,
          state,
          input,
          items,
          batch as ItemBatchPlan | undefined,
          undefined,
          w as JsonValue | undefined,
        ),
    );
  });
}

/** The children of a JSONata Map: ItemSelector per item, then batches (ItemBatcher). */
function mapChildrenJsonata(
  scope: Scope,
  state: MapState,
  input: JsonValue,
  items: JsonValue[],
  batch: ItemBatchPlan | undefined,
  startedEventId?: number,
  writeTo?: JsonValue,
): MaybeOutcome {
  const selector = state.itemSelector;
  // One item after the other: evaluations that ran side by side would share jsonata's time bound.
  const select = (start: number, out: JsonValue[]): Maybe<JsonValue[]> => {
    if (selector?.kind !== 'jsonata') return out;
    // A loop while evaluations are synchronous (no deep recursion over 10,000 items).
    for (let index = start; index < items.length; index++) {
      const ib = scope.bindings(input);
      ib.states.context = { ...scope.pathContext(), Map: { Item: { Index: index, Value: items[index]! } } };
      const v = scope.jsonata(selector.template, ib);
      if (isPromise(v)) {
        return v.then((value) => {
          out.push(value);
          return select(index + 1, out);
        });
      }
      out.push(v);
    }
    return out;
  };
  const selected: Maybe<JsonValue[] | undefined> = selector?.kind === 'jsonata' ? select(0, []) : undefined;
  return then(selected, (ci) => {
    const children = batch === undefined ? items : batchItems(ci ?? items, batch);
    const childInputs = batch === undefined ? ci : undefined;
    return then(
      all<unknown>([
        scope.number(state.maxConcurrency, input, true),
        tolerance(scope, state, input, children.length),
      ]),
      ([max, t]) => ({
        kind: 'children' as const,
        items: children,
        childInputs,
        maxConcurrency: (max as number | undefined) ?? 0,
        ...(t as {
          tolerated: number | undefined;
          lateFailure: { error: string; cause: string } | undefined;
        }),
        startedEventId,
        writeTo,
      }),
    );
  });
}
