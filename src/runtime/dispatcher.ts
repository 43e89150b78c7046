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
}

const NO_FUNCTIONS: FunctionProvider = { resolveFunction: () => undefined };

/** Serves Lambda resources from local functions; other resources fail with a clear cause. */
export class LocalTaskDispatcher implements TaskDispatcher {
  private readonly functions: FunctionProvider;

  constructor(private readonly options: LocalDispatcherOptions) {
    this.functions = options.functions ?? NO_FUNCTIONS;
  }

  async dispatch(task: TaskRequest, signal: SignalSource): Promise<TaskOutcome> {
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
    return Promise.resolve({
      ok: false,
      error: StatesErrors.TaskFailed,
      cause: `Stepwise cannot run the resource '${task.resource}' here: only Lambda functions are served in this mode.`,
    });
  }
}
