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
import type { CompiledJsonataTemplate } from './jsonata.js';

export type QueryLanguage = 'JSONPath' | 'JSONata';

export type StateType = 'Pass' | 'Task' | 'Choice' | 'Wait' | 'Succeed' | 'Fail' | 'Parallel' | 'Map';

/** InputPath / OutputPath: `undefined` means `$` (identity), `null` means "pass `{}`". */
export type FilterPath = CompiledPath | null | undefined;
/** ResultPath: `undefined` means `$` (result replaces input), `null` means "discard the result". */
export type ResultPathSpec = CompiledReferencePath | null | undefined;

/** A number given literally, by a path read from the state input, or by a JSONata expression. */
export type NumberSource =
  | { kind: 'literal'; value: number }
  | { kind: 'path'; path: CompiledPath; field: string }
  | { kind: 'jsonata'; template: CompiledJsonataTemplate; field: string };

/** Assign: a payload template (JSONPath states) or a JSONata template. */
export type AssignSpec =
  { kind: 'jsonpath'; payload: CompiledPayload } | { kind: 'jsonata'; template: CompiledJsonataTemplate };

/** A template in the state's query language (ItemSelector). */
export type TemplateSpec =
  { kind: 'jsonpath'; payload: CompiledPayload } | { kind: 'jsonata'; template: CompiledJsonataTemplate };

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
  assign: AssignSpec | undefined;
  /** JSONata `Output` (default: `$states.errorOutput`). */
  output: CompiledJsonataTemplate | undefined;
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
  /** Workflow variables set when the state exits. */
  assign: AssignSpec | undefined;
  /** JSONata `Output`; JSONPath states use InputPath/ResultPath/OutputPath instead. */
  output: CompiledJsonataTemplate | undefined;
}

export interface PassState extends StateBase {
  type: 'Pass';
  parameters: CompiledPayload | undefined;
  result: JsonValue | undefined;
  /** A bound of the size of `result`'s JSON text (for the payload quota). */
  resultBytes: number | undefined;
  resultPath: ResultPathSpec;
  /**
   * A JSONPath Pass that only places its `Result` (or its input) with ResultPath: no InputPath,
   * OutputPath, Parameters (or Result beside them) or Assign. It needs no evaluation scope.
   */
  placesOnly: boolean;
}

export interface TaskState extends StateBase {
  type: 'Task';
  resource: string;
  parameters: CompiledPayload | undefined;
  /** JSONata `Arguments` (default: the state input). */
  arguments: CompiledJsonataTemplate | undefined;
  resultSelector: CompiledPayload | undefined;
  resultPath: ResultPathSpec;
  retry: Retrier[];
  catch: Catcher[];
  timeoutSeconds: NumberSource | undefined;
  heartbeatSeconds: NumberSource | undefined;
  /** `Credentials`: the role the task's calls are made as (`{RoleArn}` in the state's language). */
  credentials: TemplateSpec | undefined;
}

export interface ChoiceBranch {
  /** JSONPath rule, or JSONata `Condition`: exactly one is set. */
  rule: CompiledChoiceRule | undefined;
  condition: CompiledJsonataTemplate | undefined;
  next: string;
  assign: AssignSpec | undefined;
  output: CompiledJsonataTemplate | undefined;
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
  | { kind: 'timestampPath'; path: CompiledPath }
  | { kind: 'secondsExpr'; template: CompiledJsonataTemplate }
  | { kind: 'timestampExpr'; template: CompiledJsonataTemplate };

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
  /** JSONata expressions given as Error/Cause. */
  errorExpr: CompiledJsonataTemplate | undefined;
  causeExpr: CompiledJsonataTemplate | undefined;
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
  arguments: CompiledJsonataTemplate | undefined;
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
  /** JSONata `Items` (an expression or an array of values and expressions). */
  items: CompiledJsonataTemplate | undefined;
  /** ItemSelector, or the older Parameters. */
  itemSelector: TemplateSpec | undefined;
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
  /** `ItemReader` (distributed Map only): the items come from S3 instead of the state input. */
  itemReader: ItemReaderSpec | undefined;
  /** `ItemBatcher` (distributed Map): each child gets a batch `{Items, BatchInput}`. */
  itemBatcher: ItemBatcherSpec | undefined;
  /** `ResultWriter` (distributed Map): the children's results go to S3 and/or are transformed. */
  resultWriter: ResultWriterSpec | undefined;
}

/** `ResultWriter` of a distributed Map. */
export interface ResultWriterSpec {
  /** `arn:aws:states:::s3:putObject`; undefined: WriterConfig only, the results stay in the output. */
  resource: string | undefined;
  /** JSONPath `Parameters` (`Bucket`, `Prefix`). */
  parameters: CompiledPayload | undefined;
  /** JSONata `Arguments`. */
  arguments: CompiledJsonataTemplate | undefined;
  /** `WriterConfig.Transformation`; without WriterConfig NONE when exporting to S3. */
  transformation: 'NONE' | 'COMPACT' | 'FLATTEN';
  /** `WriterConfig.OutputType`: the result files hold a JSON array or JSON Lines. */
  outputType: 'JSON' | 'JSONL';
}

/** `ItemReader.ReaderConfig`, as plain data (the interpreter parses the object with it). */
export interface ReaderConfig {
  /** `JSON`, `JSONL`, `CSV` or `MANIFEST`; undefined for `s3:listObjectsV2`. */
  inputType: string | undefined;
  csvHeaderLocation: 'FIRST_ROW' | 'GIVEN';
  csvHeaders: string[] | undefined;
  /** The field separator: `,` unless `CSVDelimiter` says otherwise. */
  csvDelimiter: string;
}

export interface ItemReaderSpec {
  /** `arn:aws:states:::s3:getObject` or `arn:aws:states:::s3:listObjectsV2`. */
  resource: string;
  /** JSONPath `Parameters` (default: none, `{}`). */
  parameters: CompiledPayload | undefined;
  /** JSONata `Arguments`. */
  arguments: CompiledJsonataTemplate | undefined;
  config: ReaderConfig;
  /** `MaxItems` / `MaxItemsPath` (JSONata: an expression). */
  maxItems: NumberSource | undefined;
}

export interface ItemBatcherSpec {
  maxItemsPerBatch: NumberSource | undefined;
  maxInputBytesPerBatch: NumberSource | undefined;
  /** `BatchInput`: a template in the state's query language. */
  batchInput: TemplateSpec | undefined;
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
  /**
   * Whether any `Assign` appears (conservatively: any key named `Assign`, data included). Without
   * one no variable is ever set, so branches and iterations need no scopes of their own.
   */
  assigns: boolean;
}
