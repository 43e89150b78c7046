/** Task dispatch: turns a TaskRequest from the interpreter into a call to whatever serves its resource. */
import type { InputEvent, TaskRequest } from '../interpreter/types.js';
import { StatesErrors } from '../language/errors.js';
import { getOwn, isJsonObject, type JsonObject, type JsonValue } from '../language/json.js';
import { parseResource, type ResourceInfo } from '../language/resources.js';
import {
  invokeLambdaService,
  invokeLegacyLambda,
  type FunctionProvider,
  type SignalSource,
  type TaskOutcome,
} from './functions.js';
import {
  AwsPassThrough,
  endpointOverride,
  isPassThroughResource,
  type AwsPassThroughOptions,
} from './integrations/aws.js';
import { runEmrAction } from './integrations/aws-emr.js';
import {
  SYNC_JOB_NAMES,
  pollSyncJob,
  startSyncJob,
  stopSyncJob,
  syncJobOf,
  type SyncJob,
  type SyncJobTask,
} from './integrations/aws-sync.js';
import { ApiGatewayInvoker } from './integrations/apigateway.js';
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
  /**
   * Pass-through to AWS (`aws-sdk:*` and the optimized integrations) with the AWS SDK; off when
   * undefined. Lambda functions served locally keep priority over AWS Lambda.
   */
  aws?: AwsPassThroughOptions | undefined;
}

type ServiceResource = Extract<ResourceInfo, { kind: 'service' }>;

const ITEM_READER_ACTIONS = new Set(['getObject', 'listObjectsV2']);

function jobTask(task: TaskRequest): SyncJobTask {
  const r = parseResource(task.resource);
  return {
    resource: task.resource,
    region: r.kind === 'service' ? r.region : undefined,
    parameters: task.input,
    roleArn: task.roleArn,
  };
}

/** The interpreter event that reports a task's outcome. */
export function outcomeEvent(taskId: string, outcome: TaskOutcome): InputEvent {
  return outcome.ok
    ? { type: 'taskSucceeded', taskId, output: outcome.output }
    : { type: 'taskFailed', taskId, error: outcome.error, cause: outcome.cause };
}

/** The interpreter event for a task whose dispatch threw: States.TaskFailed with the message. */
export function thrownEvent(taskId: string, e: unknown): InputEvent {
  return {
    type: 'taskFailed',
    taskId,
    error: StatesErrors.TaskFailed,
    cause: e instanceof Error ? e.message : String(e),
  };
}

const NO_FUNCTIONS: FunctionProvider = { resolveFunction: () => undefined };

/**
 * Serves mocked states, Lambda resources from local functions and HTTP Tasks; other resources
 * fail with a clear cause.
 */
export class LocalTaskDispatcher implements TaskDispatcher {
  private readonly functions: FunctionProvider;
  private readonly mocks: MockResponder | undefined;
  /** Made on first use when no HTTP options are given (nothing in them can then be invalid). */
  private httpInvoker: HttpInvoker | undefined;
  /** Pass-through to AWS, when configured. */
  readonly aws: AwsPassThrough | undefined;
  /** `apigateway:invoke`, made on first use (pass-through only). */
  private apiGatewayInvoker: ApiGatewayInvoker | undefined;

  constructor(private readonly options: LocalDispatcherOptions) {
    this.functions = options.functions ?? NO_FUNCTIONS;
    const m = options.mocks;
    // Parsed here so that a broken mock file fails at startup, not in the middle of a run.
    this.mocks = m === undefined || m instanceof MockResponder ? m : new MockResponder(m);
    // Options are checked here so a broken connection fails at startup, not mid-run.
    if (options.http !== undefined) this.httpInvoker = this.newHttpInvoker();
    this.aws = options.aws ? new AwsPassThrough(options.aws, { region: options.region }) : undefined;
  }

  private newHttpInvoker(): HttpInvoker {
    return new HttpInvoker({ region: this.options.region, ...this.options.http });
  }

  private get http(): HttpInvoker {
    return (this.httpInvoker ??= this.newHttpInvoker());
  }

  /** Releases what the dispatcher holds open (AWS SDK clients' connections). */
  async close(): Promise<void> {
    await this.aws?.close();
  }

  /**
   * The mocked outcome of a task of a `#TestCase` execution, or `undefined` when the state is not
   * mocked. For runtimes that route some resources themselves (callbacks, nested executions)
   * and must consult the mocks first. The call's number comes with the task (durable state).
   */
  mockedOutcome(task: TaskRequest, context: DispatchContext | undefined): TaskOutcome | undefined {
    if (this.mocks === undefined || context?.testCase === undefined) return undefined;
    return this.mocks.respond({ ...context, stateName: task.stateName, index: task.mockCall ?? 0 });
  }

  /**
   * Not `async`: returning the callee's promise as it is saves the extra turns an async function
   * takes to adopt a returned promise (a measurable share of a local function's task).
   */
  dispatch(task: TaskRequest, signal: SignalSource, context?: DispatchContext): Promise<TaskOutcome> {
    try {
      return this.route(task, signal, context);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private route(
    task: TaskRequest,
    signal: SignalSource,
    context: DispatchContext | undefined,
  ): Promise<TaskOutcome> {
    if (task.itemReader) return this.readItems(task, signal, context);
    if (task.resultWriter) return this.writeResults(task, signal, context);
    const mocked = this.mockedOutcome(task, context);
    if (mocked) return Promise.resolve(mocked);
    const r = parseResource(task.resource);
    if (r.kind === 'lambda') return invokeLegacyLambda(this.functions, r.functionArn, task.input, signal);
    if (
      r.kind === 'service' &&
      r.resourceType === 'lambda' &&
      r.action === 'invoke' &&
      r.pattern === 'request'
    ) {
      return this.invokeLambda(task, r, signal, context);
    }
    if (
      r.kind === 'service' &&
      r.resourceType === 'http' &&
      r.action === 'invoke' &&
      r.pattern === 'request'
    ) {
      return this.http.invoke(task.input, signal);
    }
    if (
      r.kind === 'service' &&
      r.resourceType === 'apigateway' &&
      r.action === 'invoke' &&
      r.pattern === 'request'
    ) {
      return this.apiGateway(task, signal);
    }
    if (
      r.kind === 'service' &&
      (isPassThroughResource(r.resourceType, r.action) ||
        (r.resourceType !== 'states' && (r.pattern === 'sync' || r.pattern === 'sync:2')))
    ) {
      return this.passThrough(task, r, signal, context);
    }
    return Promise.resolve({
      ok: false,
      error: StatesErrors.TaskFailed,
      cause: `Stepwise cannot run the resource '${task.resource}' here: only Lambda functions, HTTP Tasks, mocked states and (when configured) pass-through to AWS are served in this mode.`,
    });
  }

  /**
   * Sends the request of a callback task (`.waitForTaskToken`); its output is recorded as
   * TaskSubmitted and the task then waits for its token. Mocks are not consulted.
   */
  submitCallback(task: TaskRequest, signal: SignalSource, context?: DispatchContext): Promise<TaskOutcome> {
    const r = parseResource(task.resource);
    if (r.kind === 'service' && r.pattern === 'waitForTaskToken') {
      if (r.resourceType === 'lambda' && r.action === 'invoke')
        return this.invokeLambda(task, r, signal, context);
      if (r.resourceType === 'apigateway' && r.action === 'invoke') return this.apiGateway(task, signal);
      if (isPassThroughResource(r.resourceType, r.action)) return this.passThrough(task, r, signal, context);
    }
    return Promise.resolve({
      ok: false,
      error: StatesErrors.TaskFailed,
      cause: `Stepwise cannot send the request of '${task.resource}' here; only lambda:invoke.waitForTaskToken callbacks and (when configured) pass-through to AWS are served.`,
    });
  }

  /**
   * A distributed Map's ItemReader: S3 GetObject (the object's text in `Body`) or ListObjectsV2
   * (every page's `Contents`), through pass-through to AWS.
   */
  private async readItems(
    task: TaskRequest,
    signal: SignalSource,
    context: DispatchContext | undefined,
  ): Promise<TaskOutcome> {
    const r = parseResource(task.resource);
    if (r.kind !== 'service' || r.resourceType !== 's3' || !ITEM_READER_ACTIONS.has(r.action)) {
      return {
        ok: false,
        error: StatesErrors.ItemReaderFailed,
        cause: `Stepwise cannot read Map items with '${task.resource}': an ItemReader reads with arn:aws:states:::s3:getObject or arn:aws:states:::s3:listObjectsV2.`,
      };
    }
    if (this.aws === undefined) {
      return {
        ok: false,
        error: StatesErrors.ItemReaderFailed,
        cause: `Stepwise cannot read the Map's items with '${task.resource}': the ItemReader needs pass-through to AWS, which is not configured (start 'stepwise serve' with --aws or --aws-config <file>, or pass 'aws' to Engine.open).`,
      };
    }
    const call = (parameters: JsonValue) =>
      this.aws!.invoke(
        {
          resourceType: 'aws-sdk:s3',
          action: r.action,
          resource: task.resource,
          region: r.region,
          parameters,
        },
        signal,
        { executionArn: context?.executionArn, stateMachineArn: context?.stateMachineArn },
      );
    if (r.action === 'getObject') return call(task.input);
    // listObjectsV2: all pages.
    const contents: JsonValue[] = [];
    let params: JsonObject = isJsonObject(task.input) ? { ...task.input } : {};
    for (;;) {
      const page = await call(params);
      if (!page.ok) return page;
      const out = isJsonObject(page.output) ? page.output : {};
      const c = getOwn(out, 'Contents');
      if (Array.isArray(c)) contents.push(...c);
      const token = getOwn(out, 'NextContinuationToken');
      if (getOwn(out, 'IsTruncated') !== true || typeof token !== 'string') break;
      params = { ...params, ContinuationToken: token };
    }
    return { ok: true, output: { Contents: contents } };
  }

  /**
   * A distributed Map's ResultWriter: puts the result files, then the manifest, with S3
   * PutObject through pass-through to AWS. Putting the same keys again writes the same bodies,
   * so a write cut short can simply be sent again.
   */
  private async writeResults(
    task: TaskRequest,
    signal: SignalSource,
    context: DispatchContext | undefined,
  ): Promise<TaskOutcome> {
    const r = parseResource(task.resource);
    if (
      r.kind !== 'service' ||
      r.resourceType !== 's3' ||
      r.action !== 'putObject' ||
      r.pattern !== 'request'
    ) {
      return {
        ok: false,
        error: StatesErrors.ResultWriterFailed,
        cause: `Stepwise cannot write Map results with '${task.resource}': a ResultWriter writes with arn:aws:states:::s3:putObject.`,
      };
    }
    if (this.aws === undefined) {
      return {
        ok: false,
        error: StatesErrors.ResultWriterFailed,
        cause: `Stepwise cannot write the Map's results with '${task.resource}': the ResultWriter needs pass-through to AWS, which is not configured (start 'stepwise serve' with --aws or --aws-config <file>, or pass 'aws' to Engine.open).`,
      };
    }
    const input = isJsonObject(task.input) ? task.input : {};
    const bucket = getOwn(input, 'Bucket');
    const objects = getOwn(input, 'Objects');
    for (const o of Array.isArray(objects) ? objects : []) {
      if (!isJsonObject(o)) continue;
      const put = await this.aws.invoke(
        {
          resourceType: 'aws-sdk:s3',
          action: 'putObject',
          resource: task.resource,
          region: r.region,
          parameters: {
            Bucket: bucket ?? null,
            Key: getOwn(o, 'Key') ?? null,
            Body: getOwn(o, 'Body') ?? null,
          },
        },
        signal,
        { executionArn: context?.executionArn, stateMachineArn: context?.stateMachineArn },
      );
      if (!put.ok) return put;
    }
    return { ok: true, output: null };
  }

  // ---- the run-a-job pattern (.sync) of pass-through integrations, for runtimes that record
  // TaskSubmitted and poll durably (the engine); `dispatch` runs such a job start to end ----

  /** The run-a-job integration of a `.sync` task, when pass-through is on and serves it. */
  syncJob(resource: string): SyncJob | undefined {
    if (this.aws === undefined) return undefined;
    const r = parseResource(resource);
    return r.kind === 'service' && r.pattern === 'sync' ? syncJobOf(r.resourceType, r.action) : undefined;
  }

  /** Sends a job's start request; the output of a success is what TaskSubmitted records. */
  startJob(job: SyncJob, task: TaskRequest, signal: AbortSignal): Promise<TaskOutcome> {
    return startSyncJob(this.aws!, job, jobTask(task), signal);
  }

  /** Polls a submitted job until it ends; `undefined` when `signal` aborted first. */
  pollJob(job: SyncJob, task: TaskRequest, submitted: JsonValue, signal: AbortSignal) {
    return pollSyncJob(this.aws!, job, jobTask(task), submitted, signal);
  }

  /** Calls the job's stop API (the task was cancelled). */
  stopJob(job: SyncJob, task: TaskRequest, submitted: JsonValue): Promise<void> {
    return stopSyncJob(this.aws!, job, jobTask(task), submitted);
  }

  /** Start, poll, result in one call (no TaskSubmitted); the job is stopped if `signal` aborts. */
  private async runJob(job: SyncJob, task: TaskRequest, signal: SignalSource): Promise<TaskOutcome> {
    const s = typeof signal === 'function' ? signal() : signal;
    const started = await this.startJob(job, task, s);
    if (!started.ok) return started;
    const done = await this.pollJob(job, task, started.output, s);
    if (done !== undefined) return done;
    await this.stopJob(job, task, started.output).catch(() => undefined);
    return { ok: false, error: StatesErrors.TaskFailed, cause: `The job of '${task.resource}' was stopped.` };
  }

  /** `lambda:invoke`: a local function when one has the name, else AWS Lambda when pass-through is on. */
  private invokeLambda(
    task: TaskRequest,
    r: ServiceResource,
    signal: SignalSource,
    context: DispatchContext | undefined,
  ): Promise<TaskOutcome> {
    const fn = isJsonObject(task.input) ? getOwn(task.input, 'FunctionName') : undefined;
    if (this.aws && typeof fn === 'string' && this.functions.resolveFunction(fn) === undefined) {
      return this.passThrough(task, r, signal, context);
    }
    return invokeLambdaService(
      this.functions,
      task.resource,
      task.input,
      this.options.region,
      this.options.account,
      signal,
    );
  }

  /**
   * `apigateway:invoke`: calls AWS (API Gateway hosts), so it is part of pass-through; the
   * endpoint override `apigateway` alone redirects it (the all-services endpoint, e.g.
   * LocalStack's port, does not serve APIs at `/<stage>/<path>`).
   */
  private apiGateway(task: TaskRequest, signal: SignalSource): Promise<TaskOutcome> {
    const aws = this.options.aws;
    if (aws === undefined) {
      return Promise.resolve({
        ok: false,
        error: StatesErrors.TaskFailed,
        cause: `Stepwise cannot run the resource '${task.resource}': it calls API Gateway, which needs pass-through to AWS; it is not configured (pass --aws or --aws-config <file> to 'stepwise serve' or 'stepwise run', or 'aws' to Engine.open; endpoints.apigateway sends the calls to a local server).`,
      });
    }
    this.apiGatewayInvoker ??= new ApiGatewayInvoker({
      endpoint: endpointOverride(aws.endpoints, 'apigateway'),
      timeoutSeconds: this.options.http?.timeoutSeconds,
      profile: aws.profile,
      credentials: aws.credentials,
    });
    return this.apiGatewayInvoker.invoke(task.input, signal);
  }

  private passThrough(
    task: TaskRequest,
    r: ServiceResource,
    signal: SignalSource,
    context: DispatchContext | undefined,
  ): Promise<TaskOutcome> {
    if (r.pattern === 'sync' || r.pattern === 'sync:2') {
      const job = r.pattern === 'sync' ? syncJobOf(r.resourceType, r.action) : undefined;
      if (job === undefined) {
        return Promise.resolve({
          ok: false,
          error: StatesErrors.TaskFailed,
          cause: `Stepwise does not run '${task.resource}': the .sync pattern is supported for pass-through to AWS only for ${SYNC_JOB_NAMES.join(', ')} (use the request or .waitForTaskToken pattern).`,
        });
      }
      if (this.aws !== undefined) return this.runJob(job, task, signal);
    }
    if (this.aws === undefined) {
      return Promise.resolve({
        ok: false,
        error: StatesErrors.TaskFailed,
        cause: `Stepwise cannot run the resource '${task.resource}': it needs pass-through to AWS, which is not configured (pass --aws or --aws-config <file> to 'stepwise serve' or 'stepwise run', or 'aws' to Engine.open).`,
      });
    }
    const awsTask = {
      resourceType: r.resourceType,
      action: r.action,
      resource: task.resource,
      region: r.region,
      parameters: task.input,
      waitForTaskToken: r.pattern === 'waitForTaskToken',
      roleArn: task.roleArn,
    };
    // EMR's optimized actions wrap its API (createCluster sends RunJobFlow…).
    if (r.resourceType === 'elasticmapreduce') return runEmrAction(this.aws, awsTask, signal);
    return this.aws.invoke(awsTask, signal, {
      executionArn: context?.executionArn,
      stateMachineArn: context?.stateMachineArn,
    });
  }
}
