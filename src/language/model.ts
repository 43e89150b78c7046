/**
 * The typed model of a compiled state machine: a discriminated union on `type`, every dynamic
 * field already compiled (paths, payload templates, choice rules), so the interpreter never
 * parses anything while an execution runs.
 */
import type { CompiledChoiceRule } from './choice.js';
import type { JsonValue } from './json.js';
import type { CompiledPath, CompiledReferencePath } from './jsonpath.js';
import type { CompiledPayload } from './payload.js';
import type { IntrinsicEnv } from './intrinsics.js';

export type QueryLanguage = 'JSONPath' | 'JSONata';

export type StateType = 'Pass' | 'Task' | 'Choice' | 'Wait' | 'Succeed' | 'Fail' | 'Parallel' | 'Map';

/** InputPath / OutputPath: `undefined` means `$` (identity), `null` means "pass `{}`". */
export type FilterPath = CompiledPath | null | undefined;
/** ResultPath: `undefined` means `$` (result replaces input), `null` means "discard the result". */
export type ResultPathSpec = CompiledReferencePath | null | undefined;

/** A number given either literally or by a path read from the state input. */
export type NumberSource =
  { kind: 'literal'; value: number } | { kind: 'path'; path: CompiledPath; field: string };

export interface Retrier {
  errorEquals: string[];
  intervalSeconds: number;
  maxAttempts: number;
  backoffRate: number;
  maxDelaySeconds: number | undefined;
  jitterStrategy: 'FULL' | 'NONE';
}

export interface Catcher {
  errorEquals: string[];
  next: string;
  resultPath: ResultPathSpec;
}

interface StateBase {
  name: string;
  /** JSON pointer of the state in the definition, for messages. */
  pointer: string;
  queryLanguage: QueryLanguage;
  comment: string | undefined;
  inputPath: FilterPath;
  outputPath: FilterPath;
  /** Next state, or `undefined` when the state ends its (sub-)machine. */
  next: string | undefined;
}

export interface PassState extends StateBase {
  type: 'Pass';
  parameters: CompiledPayload | undefined;
  result: JsonValue | undefined;
  resultPath: ResultPathSpec;
}

export interface TaskState extends StateBase {
  type: 'Task';
  resource: string;
  parameters: CompiledPayload | undefined;
  resultSelector: CompiledPayload | undefined;
  resultPath: ResultPathSpec;
  retry: Retrier[];
  catch: Catcher[];
  timeoutSeconds: NumberSource | undefined;
  heartbeatSeconds: NumberSource | undefined;
  credentials: JsonValue | undefined;
}

export interface ChoiceBranch {
  rule: CompiledChoiceRule;
  next: string;
}

export interface ChoiceState extends StateBase {
  type: 'Choice';
  choices: ChoiceBranch[];
  default: string | undefined;
}

export type WaitSpec =
  | { kind: 'seconds'; seconds: number }
  | { kind: 'secondsPath'; path: CompiledPath }
  | { kind: 'timestamp'; timestamp: string }
  | { kind: 'timestampPath'; path: CompiledPath };

export interface WaitState extends StateBase {
  type: 'Wait';
  wait: WaitSpec;
}

export interface SucceedState extends StateBase {
  type: 'Succeed';
}

export interface FailState extends StateBase {
  type: 'Fail';
  error: string | undefined;
  cause: string | undefined;
  errorPath: DynamicValue | undefined;
  causePath: DynamicValue | undefined;
}

/** A single dynamic value: a path or an intrinsic call (ErrorPath, CausePath). */
export interface DynamicValue {
  source: string;
  evaluate(env: IntrinsicEnv): JsonValue | undefined;
}

export interface ParallelState extends StateBase {
  type: 'Parallel';
  branches: Machine[];
  parameters: CompiledPayload | undefined;
  resultSelector: CompiledPayload | undefined;
  resultPath: ResultPathSpec;
  retry: Retrier[];
  catch: Catcher[];
}

export interface ToleratedFailure {
  count: NumberSource | undefined;
  percentage: NumberSource | undefined;
}

export interface MapState extends StateBase {
  type: 'Map';
  processor: Machine;
  /** `DISTRIBUTED` maps run here like inline ones (no child executions yet). */
  mode: 'INLINE' | 'DISTRIBUTED';
  itemsPath: CompiledPath | undefined;
  /** ItemSelector, or the older Parameters. */
  itemSelector: CompiledPayload | undefined;
  maxConcurrency: NumberSource;
  resultSelector: CompiledPayload | undefined;
  resultPath: ResultPathSpec;
  retry: Retrier[];
  catch: Catcher[];
  toleratedFailure: ToleratedFailure;
  /** Uses the legacy `Iterator` field. */
  legacyIterator: boolean;
  /** `Label` (distributed Map): part of the map run ARN. */
  label: string | undefined;
}

export type State =
  PassState | TaskState | ChoiceState | WaitState | SucceedState | FailState | ParallelState | MapState;

/** A (sub-)machine: the root definition, a Parallel branch or a Map processor. */
export interface Machine {
  /** Index in `CompiledDefinition.machines`; stable for a given definition text. */
  id: number;
  pointer: string;
  startAt: string;
  states: Map<string, State>;
  queryLanguage: QueryLanguage;
}

export interface CompiledDefinition {
  root: Machine;
  machines: Machine[];
  comment: string | undefined;
  /** Execution-level TimeoutSeconds. */
  timeoutSeconds: number | undefined;
  /** The definition as parsed JSON. */
  source: JsonValue;
}
