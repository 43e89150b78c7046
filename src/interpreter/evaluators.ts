/**
 * One evaluator per state type, with one contract: given the frame (whose `input` is the raw
 * state input) and the state, return what happens next. Task, Parallel and Map start work and
 * return `wait`; `completeState` finishes them when their result arrives.
 */
import { StatesErrors, StatesRuntimeError } from '../language/errors.js';
import type { IntrinsicEnv } from '../language/intrinsics.js';
import type { JsonObject, JsonValue } from '../language/json.js';
import type {
  ChoiceState,
  FailState,
  MapState,
  NumberSource,
  ParallelState,
  PassState,
  State,
  SucceedState,
  TaskState,
  WaitState,
} from '../language/model.js';
import type { CompiledPayload } from '../language/payload.js';
import { parseTimestamp } from '../language/timestamp.js';
import { applyFilterPath, applyResultPath, type PathScope } from './io.js';
import { pathNotFoundCause } from '../language/jsonpath.js';
import type { StepContext } from './step-context.js';
import type { Frame } from './types.js';

export type Outcome =
  | { kind: 'next'; output: JsonValue; next: string }
  | { kind: 'end'; output: JsonValue }
  | { kind: 'succeedMachine'; output: JsonValue }
  | { kind: 'failMachine'; error: string | undefined; cause: string | undefined }
  | { kind: 'fail'; error: string; cause: string | undefined }
  | { kind: 'wait' };

/** The environment templates and intrinsics see; `$$` is built only when read. */
class TemplateEnv implements IntrinsicEnv {
  readonly random: () => number;
  readonly uuid: () => string;
  constructor(
    private readonly scope: Scope,
    readonly input: JsonValue,
    private readonly extraContext: JsonObject | undefined,
  ) {
    this.random = scope.ctx.env.random;
    this.uuid = scope.ctx.env.uuid;
  }

  get context(): JsonValue {
    const base = this.scope.context();
    return this.extraContext ? { ...base, ...this.extraContext } : base;
  }
}

/** Per-evaluation helpers: the context object is built only if a field reads it. */
class Scope implements PathScope {
  private ctxObj: JsonObject | undefined;
  private pathCtxObj: JsonObject | undefined;
  constructor(
    readonly ctx: StepContext,
    readonly frame: Frame,
    readonly state: State,
  ) {}

  /** `$$` as payload templates and intrinsics see it. */
  context(): JsonObject {
    return (this.ctxObj ??= this.ctx.context(this.frame, this.state, false));
  }

  /** `$$` as InputPath/OutputPath and other paths see it. */
  pathContext(): JsonObject {
    return (this.pathCtxObj ??= this.ctx.context(this.frame, this.state, true));
  }

  fail(message: string): StatesRuntimeError {
    return this.ctx.runtimeError(this.frame, this.state, message);
  }

  /** An environment for payload templates and intrinsics with `input` as `$`. */
  env(input: JsonValue, extraContext?: JsonObject): IntrinsicEnv {
    return new TemplateEnv(this, input, extraContext);
  }

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

  payload(template: CompiledPayload | undefined, input: JsonValue): JsonValue {
    return template === undefined ? input : this.evaluate(template, input);
  }

  /** Evaluates a template; its failures get AWS's "error occurred while executing the state" prefix. */
  evaluate(template: CompiledPayload, input: JsonValue, extraContext?: JsonObject): JsonValue {
    try {
      return template.evaluate(this.env(input, extraContext));
    } catch (e) {
      if (e instanceof StatesRuntimeError && !e.causeText.startsWith('An error occurred while executing')) {
        throw new StatesRuntimeError(e.error, this.fail(e.causeText).causeText);
      }
      throw e;
    }
  }

  /** Resolves a literal-or-path number (TimeoutSecondsPath, MaxConcurrencyPath…). */
  number(src: NumberSource | undefined, input: JsonValue, integer: boolean): number | undefined {
    if (src === undefined) return undefined;
    if (src.kind === 'literal') return src.value;
    const root = src.path.root.kind === 'context' ? this.pathContext() : input;
    const v = src.path.selectFrom(root);
    if (v === undefined) throw this.fail(pathNotFoundCause(src.path, root));
    if (typeof v !== 'number' || (integer && !Number.isInteger(v))) {
      const shown = typeof v === 'string' ? v : JSON.stringify(v);
      throw this.fail(
        `The ${src.field} field refers to value "${shown}" which is not a valid ${integer ? 'integer' : 'float'}: ${src.path.source}`,
      );
    }
    return v;
  }

  /** Result handling shared by Task, Parallel and Map. */
  finish(
    state: TaskState | ParallelState | MapState | PassState,
    result: JsonValue,
    selector: CompiledPayload | undefined,
  ): Outcome {
    const selected = selector === undefined ? result : this.evaluate(selector, result);
    const merged = applyResultPath(state.resultPath, this.frame.input, selected);
    return transition(state, this.outputPath(merged));
  }
}

function transition(state: State, output: JsonValue): Outcome {
  return state.next === undefined ? { kind: 'end', output } : { kind: 'next', output, next: state.next };
}

function assertNever(x: never): never {
  throw new Error(`unexpected state ${JSON.stringify(x)}`);
}

/** Enters (or retries) the frame's current state. */
export function evaluateState(ctx: StepContext, frame: Frame, state: State): Outcome {
  const scope = new Scope(ctx, frame, state);
  switch (state.type) {
    case 'Pass':
      return pass(scope, state);
    case 'Task':
      return task(scope, state);
    case 'Choice':
      return choice(scope, state);
    case 'Wait':
      return wait(scope, state);
    case 'Succeed':
      return succeed(scope, state);
    case 'Fail':
      return failState(scope, state);
    case 'Parallel':
      return parallel(scope, state);
    case 'Map':
      return map(scope, state);
    default:
      return assertNever(state);
  }
}

/** Finishes a Task with its result, or a Parallel/Map with its children's results. */
export function completeState(ctx: StepContext, frame: Frame, state: State, result: JsonValue): Outcome {
  const scope = new Scope(ctx, frame, state);
  switch (state.type) {
    case 'Task':
    case 'Parallel':
    case 'Map':
      return scope.finish(state, result, state.resultSelector);
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

function pass(scope: Scope, state: PassState): Outcome {
  const effective = scope.inputPath();
  const result = state.result !== undefined ? state.result : scope.payload(state.parameters, effective);
  return scope.finish(state, result, undefined);
}

function task(scope: Scope, state: TaskState): Outcome {
  const effective = scope.inputPath();
  const params = scope.payload(state.parameters, effective);
  const timeout = scope.number(state.timeoutSeconds, effective, true);
  const heartbeat = scope.number(state.heartbeatSeconds, effective, true);
  scope.ctx.scheduleTask(scope.frame, state, params, timeout, heartbeat);
  return { kind: 'wait' };
}

function choice(scope: Scope, state: ChoiceState): Outcome {
  const effective = scope.inputPath();
  const env = scope.env(effective);
  let next: string | undefined;
  try {
    for (const branch of state.choices) {
      if (branch.rule.evaluate(env)) {
        next = branch.next;
        break;
      }
    }
  } catch (e) {
    // Rules report a bad path without knowing the state; AWS prefixes the state's name.
    if (e instanceof StatesRuntimeError && e.error === StatesErrors.Runtime) throw scope.fail(e.causeText);
    throw e;
  }
  next ??= state.default;
  if (next === undefined) throw new StatesRuntimeError(StatesErrors.NoChoiceMatched, 'No Matches!');
  return { kind: 'next', output: scope.outputPath(effective), next };
}

function wait(scope: Scope, state: WaitState): Outcome {
  const effective = scope.inputPath();
  const now = scope.ctx.env.now();
  let due: number;
  const spec = state.wait;
  switch (spec.kind) {
    case 'seconds':
      due = now + spec.seconds * 1000;
      break;
    case 'secondsPath': {
      const root = spec.path.root.kind === 'context' ? scope.pathContext() : effective;
      const v = spec.path.selectFrom(root);
      if (v === undefined) throw scope.fail(pathNotFoundCause(spec.path, root));
      const shown = `${spec.path.source} == ${typeof v === 'string' ? v : JSON.stringify(v)}`;
      if (typeof v !== 'number' || !Number.isInteger(v))
        throw scope.fail(`The SecondsPath parameter cannot be parsed as a long value: ${shown}`);
      if (v < 0) throw scope.fail(`The SecondsPath parameter references a negative value: ${shown}`);
      due = now + v * 1000;
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
      const v = spec.path.selectFrom(root);
      if (v === undefined) throw scope.fail(pathNotFoundCause(spec.path, root));
      const t = typeof v === 'string' ? parseTimestamp(v) : undefined;
      if (t === undefined)
        throw scope.fail(
          `The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: ${spec.path.source} == ${typeof v === 'string' ? v : JSON.stringify(v)}`,
        );
      due = t;
      break;
    }
  }
  scope.ctx.sleep(scope.frame, Math.max(due, now), scope.outputPath(effective));
  return { kind: 'wait' };
}

function succeed(scope: Scope, _state: SucceedState): Outcome {
  return { kind: 'succeedMachine', output: scope.outputPath(scope.inputPath()) };
}

function failState(scope: Scope, state: FailState): Outcome {
  const read = (v: FailState['errorPath'], field: string): string | undefined => {
    if (v === undefined) return undefined;
    const value = v.evaluate(scope.env(scope.frame.input));
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
  const effective = scope.inputPath();
  const branchInput = scope.payload(state.parameters, effective);
  scope.ctx.startChildren(
    scope.frame,
    state.branches.map(() => branchInput),
    undefined,
    0,
    () => undefined,
  );
  return { kind: 'wait' };
}

function map(scope: Scope, state: MapState): Outcome {
  const effective = scope.inputPath();
  let items: JsonValue = effective;
  if (state.itemsPath !== undefined) {
    const root = state.itemsPath.root.kind === 'context' ? scope.pathContext() : effective;
    const v = state.itemsPath.selectFrom(root);
    if (v === undefined) throw scope.fail(pathNotFoundCause(state.itemsPath, root));
    items = v;
  }
  if (!Array.isArray(items)) {
    throw scope.fail(`Map state input must be an array but was: ${JSON.stringify(items)}`);
  }
  const maxConcurrency = scope.number(state.maxConcurrency, effective, true) ?? 0;
  const total = items.length;
  const tolerated = (): number | undefined => {
    const count = scope.number(state.toleratedFailure.count, effective, true);
    const percentage = scope.number(state.toleratedFailure.percentage, effective, false);
    if (count !== undefined && count < 0) throw scope.fail('ToleratedFailureCount cannot be negative.');
    if (percentage !== undefined && (percentage < 0 || percentage > 100))
      throw scope.fail('ToleratedFailurePercentage must be between 0 and 100.');
    let limit: number | undefined;
    if (count !== undefined) limit = count;
    if (percentage !== undefined) {
      const fromPct = Math.floor((total * percentage) / 100);
      limit = limit === undefined ? fromPct : Math.min(limit, fromPct);
    }
    return limit;
  };
  const selector = state.itemSelector;
  const childInputs =
    selector === undefined
      ? undefined
      : items.map((value, index) =>
          scope.evaluate(selector, effective, { Map: { Item: { Index: index, Value: value } } }),
        );
  scope.ctx.startChildren(scope.frame, items, childInputs, maxConcurrency, tolerated);
  return { kind: 'wait' };
}
