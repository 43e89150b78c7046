/**
 * The library API: run a state machine in-process, e.g. from a user's unit tests.
 *
 *   const sm = StateMachine.fromDefinition(definitionJsonOrText);
 *   const result = await sm.run({ input: { x: 1 }, functions: { myFn: async (e) => e } });
 */
import { randomUUID } from 'node:crypto';
import type { ExecutionState, ExecutionStatus } from '../../interpreter/types.js';
import { compileDefinition } from '../../language/compile.js';
import { DefinitionError } from '../../language/errors.js';
import type { JsonValue } from '../../language/json.js';
import { parseJsonKeepingText, stringifyJson } from '../../language/json.js';
import { loadDefinition, type DefinitionFormat } from '../../language/load.js';
import type { CompiledDefinition } from '../../language/model.js';
import { LocalTaskDispatcher } from '../../runtime/dispatcher.js';
import type { AwsPassThroughOptions } from '../../runtime/integrations/aws.js';
import type { HttpTaskOptions } from '../../runtime/integrations/http.js';
import { functionsFromMap, type FunctionProvider, type LambdaHandler } from '../../runtime/functions.js';
import {
  runLocalExecution,
  type LocalExecutionOptions,
  type LocalExecutionResult,
} from '../../runtime/local-execution.js';
import { toWireEvent, type WireHistoryEvent } from './wire.js';

export { DefinitionError };
export type { FunctionProvider, LambdaHandler, LambdaContext } from '../../runtime/functions.js';
export { loadFunctionsModule, functionsFromMap } from '../../runtime/functions.js';
export type { WireHistoryEvent };
export { toWireEvent };

export interface StateMachineOptions {
  /** `${Name}` placeholders to replace (SAM's DefinitionSubstitutions). */
  substitutions?: Readonly<Record<string, string>>;
  /** Format of definition text; guessed when absent. */
  format?: DefinitionFormat;
  name?: string;
  region?: string;
  account?: string;
}

export interface RunOptions {
  /** Execution input: a JSON value, or JSON text when `inputIsText` is set. Default `{}`. */
  input?: JsonValue;
  /** Treat `input` (a string) as JSON text, as StartExecution receives it. */
  inputIsText?: boolean;
  /** Lambda functions: a provider, or a map from function name to handler. */
  functions?: FunctionProvider | Readonly<Record<string, LambdaHandler>>;
  /** 1 = real time (default), 0 = skip waits, 0.01 = 100× faster. */
  waitScale?: number;
  executionName?: string;
  roleArn?: string;
  /** Collect the execution history (default true). */
  history?: boolean;
  /** Aborting stops the execution (status ABORTED). */
  signal?: AbortSignal;
  /** Deterministic randomness for tests. */
  random?: () => number;
  /** Pass-through to AWS (`aws-sdk:*`, optimized integrations); off when undefined. */
  aws?: AwsPassThroughOptions;
  /** HTTP Task settings: connections and the egress allow-list (default: loopback only). */
  http?: HttpTaskOptions;
}

export interface RunResult {
  status: Exclude<ExecutionStatus, 'RUNNING'>;
  /** Output as JSON text (SUCCEEDED only), as DescribeExecution returns it. */
  output?: string | undefined;
  /** The same output as a value (do not mutate it). */
  outputValue?: JsonValue;
  error?: string;
  cause?: string;
  executionArn: string;
  stateMachineArn: string;
  startDate: Date;
  stopDate: Date;
  /** History events as GetExecutionHistory returns them (when `history` is on). */
  events?: WireHistoryEvent[];
}

/**
 * A succeeded RunResult whose output text is serialised on first read (callers may use
 * outputValue only). `output` is still an own, enumerable property, as on a plain result: the
 * constructor defines it with one shared accessor. An object literal with its own `get output()`
 * looked cheaper but V8 builds such literals with their accessor pair in old space, and the pair's
 * closure then kept every finished execution's output alive through young GCs (measured: 1.5 MB
 * promoted per scavenge, 6 ms pauses, in a loop of short runs).
 */
class SucceededResult {
  #text: string | undefined;
  static #output: PropertyDescriptor = {
    get(this: SucceededResult): string {
      return (this.#text ??= stringifyJson(this.outputValue));
    },
    enumerable: true,
    configurable: true,
  };

  // Assigned in the constructor, in the order a plain result lists its keys.
  declare readonly status: 'SUCCEEDED';
  declare readonly executionArn: string;
  declare readonly stateMachineArn: string;
  declare readonly startDate: Date;
  declare readonly stopDate: Date;
  declare readonly outputValue: JsonValue;
  declare readonly output: string;
  declare error?: string;
  declare cause?: string;
  declare events?: WireHistoryEvent[];

  constructor(
    executionArn: string,
    stateMachineArn: string,
    startDate: Date,
    stopDate: Date,
    value: JsonValue,
  ) {
    this.status = 'SUCCEEDED';
    this.executionArn = executionArn;
    this.stateMachineArn = stateMachineArn;
    this.startDate = startDate;
    this.stopDate = stopDate;
    this.outputValue = value;
    Object.defineProperty(this, 'output', SucceededResult.#output);
  }
}

function makeResult(
  status: RunResult['status'],
  executionArn: string,
  stateMachineArn: string,
  state: ExecutionState,
  events: WireHistoryEvent[] | undefined,
): RunResult {
  const startDate = new Date(state.startTime);
  const stopDate = new Date(state.stopTime ?? state.startTime);
  const r: RunResult =
    status === 'SUCCEEDED'
      ? new SucceededResult(executionArn, stateMachineArn, startDate, stopDate, state.output ?? null)
      : { status, executionArn, stateMachineArn, startDate, stopDate };
  if (state.error !== undefined) r.error = state.error;
  if (state.cause !== undefined) r.cause = state.cause;
  if (events !== undefined) r.events = events;
  return r;
}

/** Thrown for execution input that is not valid JSON. */
export class InvalidExecutionInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidExecutionInputError';
  }
}

/** Providers of function maps, made once per map: runs in a loop pass the same map. */
const providers = new WeakMap<object, FunctionProvider>();

function providerOf(map: Readonly<Record<string, LambdaHandler>>): FunctionProvider {
  let p = providers.get(map);
  if (p === undefined) {
    p = functionsFromMap(map);
    providers.set(map, p);
  }
  return p;
}

function isProvider(f: RunOptions['functions']): f is FunctionProvider {
  return typeof (f as FunctionProvider | undefined)?.resolveFunction === 'function';
}

/** A compiled state machine that can be run many times. */
export class StateMachine {
  readonly arn: string;
  private readonly executionArnPrefix: string;
  private readonly defaultRoleArn: string;

  private constructor(
    readonly compiled: CompiledDefinition,
    readonly name: string,
    readonly region: string,
    readonly account: string,
  ) {
    this.arn = `arn:aws:states:${region}:${account}:stateMachine:${name}`;
    this.executionArnPrefix = `arn:aws:states:${region}:${account}:execution:${name}:`;
    this.defaultRoleArn = `arn:aws:iam::${account}:role/stepwise`;
  }

  private readonly dispatchers = new WeakMap<FunctionProvider, LocalTaskDispatcher>();
  private noFunctionsDispatcher: LocalTaskDispatcher | undefined;

  private sharedDispatcher(functions: FunctionProvider | undefined): LocalTaskDispatcher {
    const make = () => new LocalTaskDispatcher({ functions, region: this.region, account: this.account });
    if (functions === undefined) return (this.noFunctionsDispatcher ??= make());
    let d = this.dispatchers.get(functions);
    if (d === undefined) {
      d = make();
      this.dispatchers.set(functions, d);
    }
    return d;
  }

  /** Compiles a definition (object, or JSON/YAML text). Throws DefinitionError when invalid. */
  static fromDefinition(definition: JsonValue, options: StateMachineOptions = {}): StateMachine {
    const json =
      typeof definition === 'string'
        ? loadDefinition(definition, {
            ...(options.format ? { format: options.format } : {}),
            ...(options.substitutions ? { substitutions: options.substitutions } : {}),
          })
        : definition;
    return new StateMachine(
      compileDefinition(json),
      options.name ?? 'StateMachine',
      options.region ?? 'us-east-1',
      options.account ?? '123456789012',
    );
  }

  async run(options: RunOptions = {}): Promise<RunResult> {
    let input: JsonValue = options.input ?? {};
    if (options.inputIsText) {
      if (typeof input !== 'string') throw new InvalidExecutionInputError('input must be JSON text');
      try {
        input = parseJsonKeepingText(input);
      } catch (e) {
        throw new InvalidExecutionInputError(
          `Invalid State Machine Execution Input: ${(e as Error).message}`,
        );
      }
    }
    const name = options.executionName ?? randomUUID();
    // join makes one flat string; a template literal leaves a tree of concatenations that each
    // of a thousand concurrent runs would carry until the string is first flattened.
    const executionArn = [this.executionArnPrefix, name].join('');
    const functions = options.functions;
    const provider =
      functions === undefined ? undefined : isProvider(functions) ? functions : providerOf(functions);
    const record = options.history ?? true;
    // Without AWS or HTTP settings a dispatcher holds nothing of its own: one per provider serves
    // every run (runs in a loop, or a thousand at once, then cost no dispatcher each).
    const shared = options.aws === undefined && options.http === undefined;
    const dispatcher = shared
      ? this.sharedDispatcher(provider)
      : new LocalTaskDispatcher({
          functions: provider,
          region: this.region,
          account: this.account,
          aws: options.aws,
          http: options.http,
        });
    const local: LocalExecutionOptions = { dispatcher };
    if (options.waitScale !== undefined) local.waitScale = options.waitScale;
    if (options.signal) local.signal = options.signal;
    if (options.random) local.random = options.random;
    let ran: LocalExecutionResult;
    try {
      ran = await runLocalExecution(
        this.compiled,
        {
          executionArn,
          stateMachineArn: this.arn,
          name,
          stateMachineName: this.name,
          roleArn: options.roleArn ?? this.defaultRoleArn,
          input,
          recordHistory: record,
        },
        local,
      );
    } finally {
      if (!shared) await dispatcher.close();
    }
    const { state, events } = ran;
    const status = state.status === 'RUNNING' ? 'FAILED' : state.status;
    return makeResult(status, executionArn, this.arn, state, record ? events.map(toWireEvent) : undefined);
  }
}

/** One-shot convenience: compile and run. */
export function runStateMachine(
  definition: JsonValue,
  options: RunOptions & StateMachineOptions = {},
): Promise<RunResult> {
  return StateMachine.fromDefinition(definition, options).run(options);
}
