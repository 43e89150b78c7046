/** Task dispatch: turns a TaskRequest from the interpreter into a call to whatever serves its resource. */
import type { TaskRequest } from '../interpreter/types.js';
import { StatesErrors } from '../language/errors.js';
import { parseResource } from '../language/resources.js';
import {
  invokeLambdaService,
  invokeLegacyLambda,
  type FunctionProvider,
  type SignalSource,
  type TaskOutcome,
} from './functions.js';
import { HttpInvoker, type HttpTaskOptions } from './integrations/http.js';
import { MockResponder, type MockConfigFile } from './integrations/mocks.js';

/** Which execution a task belongs to (for mocks, nested executions and logs). */
export interface DispatchContext {
  executionArn: string;
  stateMachineArn: string;
  /** The MockConfigFile test case named by StartExecution's `<stateMachineArn>#<TestCase>`. */
  testCase?: string | undefined;
}

export interface TaskDispatcher {
  /** `signal` may be a function that creates the signal on first use (most tasks never need one). */
  dispatch(task: TaskRequest, signal: SignalSource, context?: DispatchContext): Promise<TaskOutcome>;
}

export interface LocalDispatcherOptions {
  functions: FunctionProvider | undefined;
  region: string;
  account: string;
  /** A MockConfigFile (parsed JSON) or a loaded one: mocked states of `#TestCase` executions. */
  mocks?: MockConfigFile | MockResponder | undefined;
  /** HTTP Task settings: connections and the egress allow-list. */
  http?: HttpTaskOptions | undefined;
}

const NO_FUNCTIONS: FunctionProvider = { resolveFunction: () => undefined };

/**
 * Serves mocked states, Lambda resources from local functions and HTTP Tasks; other resources
 * fail with a clear cause.
 */
export class LocalTaskDispatcher implements TaskDispatcher {
  private readonly functions: FunctionProvider;
  private readonly mocks: MockResponder | undefined;
  private readonly http: HttpInvoker;

  constructor(private readonly options: LocalDispatcherOptions) {
    this.functions = options.functions ?? NO_FUNCTIONS;
    const m = options.mocks;
    // Parsed here so that a broken mock file fails at startup, not in the middle of a run.
    this.mocks = m === undefined || m instanceof MockResponder ? m : new MockResponder(m);
    this.http = new HttpInvoker({ region: options.region, ...options.http });
  }

  /**
   * The mocked outcome of a task of a `#TestCase` execution, or `undefined` when the state is not
   * mocked. Counts the call. For runtimes that route some resources themselves (callbacks,
   * nested executions) and must consult the mocks first.
   */
  mockedOutcome(task: TaskRequest, context: DispatchContext | undefined): TaskOutcome | undefined {
    if (this.mocks === undefined || context?.testCase === undefined) return undefined;
    return this.mocks.respond({ ...context, stateName: task.stateName });
  }

  async dispatch(task: TaskRequest, signal: SignalSource, context?: DispatchContext): Promise<TaskOutcome> {
    const mocked = this.mockedOutcome(task, context);
    if (mocked) return mocked;
    const r = parseResource(task.resource);
    if (r.kind === 'lambda') return invokeLegacyLambda(this.functions, r.functionArn, task.input, signal);
    if (
      r.kind === 'service' &&
      r.resourceType === 'lambda' &&
      r.action === 'invoke' &&
      r.pattern === 'request'
    ) {
      return invokeLambdaService(
        this.functions,
        task.resource,
        task.input,
        this.options.region,
        this.options.account,
        signal,
      );
    }
    if (
      r.kind === 'service' &&
      r.resourceType === 'http' &&
      r.action === 'invoke' &&
      r.pattern === 'request'
    ) {
      return this.http.invoke(task.input, signal);
    }
    return {
      ok: false,
      error: StatesErrors.TaskFailed,
      cause: `Stepwise cannot run the resource '${task.resource}' here: only Lambda functions, HTTP Tasks and mocked states are served in this mode.`,
    };
  }
}
