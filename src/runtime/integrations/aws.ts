/**
 * Pass-through to AWS: `arn:aws:states:::aws-sdk:<service>:<action>` and the optimized
 * integrations (DynamoDB items, SNS publish, SQS sendMessage, EventBridge putEvents, Lambda
 * invoke, the run-a-job integrations' actions; EMR's through aws-emr.ts) are sent with the AWS SDK for
 * JavaScript v3, to real AWS or to any endpoint that speaks the service's protocol (DynamoDB
 * Local, LocalStack…). For the services whose API is camelCase (ECS, Batch, CodeBuild),
 * parameters and answers are converted from and to Step Functions' PascalCase (`casing.ts`).
 *
 * The SDK packages (`@aws-sdk/client-<service>`) are optional peer dependencies: each is loaded
 * with `import()` the first time a task needs it, so a Stepwise that never calls AWS neither loads
 * nor needs them (ADR 0008). Credentials come from the SDK's default provider chain (environment,
 * shared config/credentials files and profiles, SSO, container and instance roles); they never
 * reach the history, which records only the state's parameters and the service's answer.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseYaml } from '../../language/yaml.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../language/json.js';
import { StatesErrors } from '../../language/errors.js';
import { MAX_PAYLOAD_BYTES, dataLimit, type SignalSource, type TaskOutcome } from '../functions.js';
import { invokeBedrockModel, type OptimizedCaller, type OptimizedCallResult } from './aws-bedrock.js';
import { EksKubernetes } from './aws-eks-k8s.js';
import { casingOf, toServiceCase, toStatesCase } from './casing.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsPassThroughOptions {
  /** Region of the AWS calls (default: the engine's region). */
  region?: string | undefined;
  /** One endpoint for every service (e.g. LocalStack's `http://127.0.0.1:4566`). */
  endpoint?: string | undefined;
  /** Endpoint per service, by the name used in resources (`dynamodb`, `s3`, `sns`, `events`…). */
  endpoints?: Readonly<Record<string, string>> | undefined;
  /** Named profile of the shared AWS config files (default: the SDK's, `AWS_PROFILE`). */
  profile?: string | undefined;
  /** Explicit credentials (library use); otherwise the SDK's default provider chain. */
  credentials?: AwsCredentials | (() => Promise<AwsCredentials>) | undefined;
  /** Attempts per call, retries included (the SDK's default is 3). */
  maxAttempts?: number | undefined;
  /**
   * Seconds between the describe calls of a `.sync` job (e.g. `glue:startJobRun.sync` polling
   * GetJobRun); default 5.
   */
  pollIntervalSeconds?: number | undefined;
  /**
   * SDK client modules to use instead of importing `@aws-sdk/client-<package>`, by package name
   * without the prefix (`{ glue: await import('@aws-sdk/client-glue') }`): for bundled
   * applications, and for tests. A function is called once, on first use.
   */
  sdkModules?: Readonly<Record<string, object | (() => Promise<object>)>> | undefined;
}

/** Settings that are not options but facts of the running engine. */
export interface AwsPassThroughContext {
  region: string;
}

/** Who asked: the optimized EventBridge integration adds the execution to each event's Resources. */
export interface AwsCallContext {
  executionArn?: string | undefined;
  stateMachineArn?: string | undefined;
}

// ---- services -------------------------------------------------------------------------------

interface SdkService {
  /** `@aws-sdk/client-<package>`. */
  pkg: string;
  /** The service's name in aws-sdk error names (`DynamoDb.ResourceNotFoundException`). */
  errorPrefix: string;
}

/**
 * Resource service names whose SDK package or error prefix do not follow the generic rule
 * (package = the name, prefix = the name capitalised). Error prefixes are the service names
 * AWS uses in its error names (the AWS SDK for Java v2 client names).
 */
const SERVICE_EXCEPTIONS: Record<string, Partial<SdkService>> = {
  'emr-serverless': { errorPrefix: 'EmrServerless' },
  // AWS names SDK integrations after the Java v2 clients: `aws-sdk:emrserverless`.
  emrserverless: { pkg: 'emr-serverless', errorPrefix: 'EmrServerless' },
  'emr-containers': { errorPrefix: 'EmrContainers' },
  emrcontainers: { pkg: 'emr-containers', errorPrefix: 'EmrContainers' },
  dynamodb: { errorPrefix: 'DynamoDb' },
  secretsmanager: { pkg: 'secrets-manager', errorPrefix: 'SecretsManager' },
  eventbridge: { errorPrefix: 'EventBridge' },
  events: { pkg: 'eventbridge', errorPrefix: 'EventBridge' },
  cloudwatchlogs: { pkg: 'cloudwatch-logs', errorPrefix: 'CloudWatchLogs' },
  cloudwatch: { errorPrefix: 'CloudWatch' },
  apigateway: { pkg: 'api-gateway', errorPrefix: 'ApiGateway' },
  apigatewayv2: { errorPrefix: 'ApiGatewayV2' },
  codebuild: { errorPrefix: 'CodeBuild' },
  ecs: { errorPrefix: 'Ecs' },
  sagemaker: { errorPrefix: 'SageMaker' },
  stepfunctions: { pkg: 'sfn', errorPrefix: 'Sfn' },
  acmpca: { pkg: 'acm-pca', errorPrefix: 'AcmPca' },
  mediaconvert: { errorPrefix: 'MediaConvert' },
};

export function sdkServiceOf(service: string): SdkService {
  const x = SERVICE_EXCEPTIONS[service];
  return {
    pkg: x?.pkg ?? service,
    errorPrefix: x?.errorPrefix ?? service.charAt(0).toUpperCase() + service.slice(1),
  };
}

/** How Step Functions reports an optimized integration's failures (AWS SDK for Java v1 style). */
interface OptimizedService {
  sdk: string;
  /** `DynamoDB` in `DynamoDB.ConditionalCheckFailedException`. */
  errorPrefix: string;
  /** `AmazonDynamoDBv2` in causes (`Service: …`). */
  serviceName: string;
  /** The error name of a failure the SDK does not model (`AmazonDynamoDBException`). */
  genericError: string;
  actions: ReadonlySet<string>;
  /** Actions sent with another SDK client than `sdk` (Bedrock's invokeModel: bedrock-runtime). */
  actionSdk?: Readonly<Record<string, string>>;
}

const OPTIMIZED: Record<string, OptimizedService> = {
  // Run-a-job integrations (aws-sync.ts). DataBrew's startJobRun is also served alone; EMR
  // Serverless's optimized actions wrap its API (its startJobRun only with `.sync`). Their error
  // names follow the other optimized integrations (`<prefix>.<Error>`, cause `(Service: <name>; …)`).
  databrew: {
    sdk: 'databrew',
    errorPrefix: 'DataBrew',
    serviceName: 'AWSGlueDataBrew',
    genericError: 'AWSGlueDataBrewException',
    actions: new Set(['startJobRun']),
  },
  'emr-serverless': {
    sdk: 'emr-serverless',
    errorPrefix: 'EMRServerless',
    serviceName: 'EMRServerless',
    genericError: 'EmrServerlessException',
    // The application actions are also served alone (start/stop/delete answer `{ApplicationId}`).
    actions: new Set([
      'createApplication',
      'startApplication',
      'stopApplication',
      'deleteApplication',
      'cancelJobRun',
    ]),
  },
  // Amazon EMR on EKS: AWS's actions are the API's, all three also served alone (its `.sync` ones
  // in aws-sync.ts). The names in its errors are assumed, after the other services'.
  'emr-containers': {
    sdk: 'emr-containers',
    errorPrefix: 'EMRContainers',
    serviceName: 'AmazonEMRContainers',
    genericError: 'AmazonEMRContainersException',
    actions: new Set(['createVirtualCluster', 'deleteVirtualCluster', 'startJobRun']),
  },
  dynamodb: {
    sdk: 'dynamodb',
    errorPrefix: 'DynamoDB',
    serviceName: 'AmazonDynamoDBv2',
    genericError: 'AmazonDynamoDBException',
    actions: new Set(['getItem', 'putItem', 'deleteItem', 'updateItem']),
  },
  sns: {
    sdk: 'sns',
    errorPrefix: 'SNS',
    serviceName: 'AmazonSNS',
    genericError: 'AmazonSNSException',
    actions: new Set(['publish']),
  },
  sqs: {
    sdk: 'sqs',
    errorPrefix: 'SQS',
    serviceName: 'AmazonSQS',
    genericError: 'AmazonSQSException',
    actions: new Set(['sendMessage']),
  },
  events: {
    sdk: 'eventbridge',
    errorPrefix: 'EventBridge',
    serviceName: 'AmazonEventBridge',
    genericError: 'AmazonEventBridgeException',
    actions: new Set(['putEvents']),
  },
  lambda: {
    sdk: 'lambda',
    errorPrefix: 'Lambda',
    serviceName: 'AWSLambda',
    genericError: 'AWSLambdaException',
    actions: new Set(['invoke']),
  },
  // The run-a-job integrations (`.sync`, see aws-sync.ts) also serve their start action alone.
  glue: {
    sdk: 'glue',
    errorPrefix: 'Glue',
    serviceName: 'AWSGlue',
    genericError: 'AWSGlueException',
    actions: new Set(['startJobRun']),
  },
  athena: {
    sdk: 'athena',
    errorPrefix: 'Athena',
    serviceName: 'AmazonAthena',
    genericError: 'AmazonAthenaException',
    // As AWS documents: the API's actions, only startQueryExecution also with `.sync`.
    actions: new Set(['startQueryExecution', 'stopQueryExecution', 'getQueryExecution', 'getQueryResults']),
  },
  ecs: {
    sdk: 'ecs',
    errorPrefix: 'ECS',
    serviceName: 'AmazonECS',
    genericError: 'AmazonECSException',
    actions: new Set(['runTask']),
  },
  batch: {
    sdk: 'batch',
    errorPrefix: 'Batch',
    serviceName: 'AWSBatch',
    genericError: 'AWSBatchException',
    actions: new Set(['submitJob']),
  },
  codebuild: {
    sdk: 'codebuild',
    errorPrefix: 'CodeBuild',
    serviceName: 'AWSCodeBuild',
    genericError: 'AWSCodeBuildException',
    // The actions AWS documents; all are the API's (startBuild, startBuildBatch and retryBuildBatch
    // also with `.sync`).
    actions: new Set([
      'startBuild',
      'stopBuild',
      'batchDeleteBuilds',
      'batchGetReports',
      'startBuildBatch',
      'stopBuildBatch',
      'retryBuildBatch',
      'deleteBuildBatch',
    ]),
  },
  // EMR's optimized actions are not its API's (createCluster answers ClusterId, addStep takes one
  // Step…): aws-emr.ts maps them (the dispatcher sends them there), their `.sync` forms aws-sync.ts.
  elasticmapreduce: {
    sdk: 'emr',
    errorPrefix: 'EMR',
    serviceName: 'AmazonElasticMapReduce',
    genericError: 'AmazonElasticMapReduceException',
    actions: new Set([
      'createCluster',
      'terminateCluster',
      'addStep',
      'cancelStep',
      'setClusterTerminationProtection',
      'modifyInstanceFleetByName',
      'modifyInstanceGroupByName',
    ]),
  },
  sagemaker: {
    sdk: 'sagemaker',
    errorPrefix: 'SageMaker',
    serviceName: 'AmazonSageMaker',
    genericError: 'AmazonSageMakerException',
    actions: new Set([
      'createHyperParameterTuningJob',
      'createTrainingJob',
      'createTransformJob',
      'createProcessingJob',
      'createLabelingJob',
      // Hosting: plain SDK calls with the API's names and answers.
      'createModel',
      'createEndpointConfig',
      'createEndpoint',
      'updateEndpoint',
    ]),
  },
  // Amazon EKS: the API's cluster, node group and Fargate profile actions, alone (the answer is
  // the API's) or `.sync` (aws-sync.ts); call and runJob talk to the cluster's Kubernetes API
  // instead (aws-eks-k8s.ts; runJob.sync in aws-sync.ts).
  eks: {
    sdk: 'eks',
    errorPrefix: 'EKS',
    serviceName: 'AmazonEKS',
    genericError: 'AmazonEKSException',
    actions: new Set([
      'createCluster',
      'deleteCluster',
      'createNodegroup',
      'deleteNodegroup',
      'createFargateProfile',
      'deleteFargateProfile',
      'call',
      'runJob',
    ]),
  },
  // Amazon Bedrock's createModelCustomizationJob, alone or `.sync`, and invokeModel, which is the
  // runtime API's (its own client) and may read its body from S3 and write the answer there
  // (aws-bedrock.ts). Error names as the others' (assumed: AWS documents none).
  bedrock: {
    sdk: 'bedrock',
    errorPrefix: 'Bedrock',
    serviceName: 'AmazonBedrock',
    genericError: 'AmazonBedrockException',
    actions: new Set(['createModelCustomizationJob', 'invokeModel']),
    actionSdk: { invokeModel: 'bedrock-runtime' },
  },
  // AWS Elemental MediaConvert's createJob, alone or `.sync`.
  mediaconvert: {
    sdk: 'mediaconvert',
    errorPrefix: 'MediaConvert',
    serviceName: 'AWSMediaConvert',
    genericError: 'AWSMediaConvertException',
    actions: new Set(['createJob']),
  },
};

/** MediaConvert's CreateJob request with the tag Step Functions adds to the jobs it creates. */
export function mediaConvertJobRequest(params: JsonObject): JsonObject {
  const tags = isJsonObject(params.Tags) ? params.Tags : {};
  return { ...params, Tags: { ...tags, ManagedByService: 'AWSStepFunctions' } };
}

/**
 * ECS's RunTask answers 200 with `Failures` for tasks it could not start. AWS fails a run-a-job or
 * callback task with `AmazonECS.Unknown` then; a request-response task returns the answer.
 */
export function ecsRunTaskFailure(answer: JsonObject): TaskOutcome | undefined {
  const failures = answer.Failures;
  if (!Array.isArray(failures) || failures.length === 0) return undefined;
  return failure('AmazonECS.Unknown', JSON.stringify(answer));
}

/** The optimized integrations that pass-through serves (`resourceType` is e.g. `dynamodb`). */
export function isOptimizedResource(resourceType: string, action: string): boolean {
  return OPTIMIZED[resourceType]?.actions.has(action) === true;
}

/** Whether a service resource is served by pass-through to AWS. */
export function isPassThroughResource(resourceType: string, action: string): boolean {
  return resourceType.startsWith('aws-sdk:') || isOptimizedResource(resourceType, action);
}

// ---- configuration ----------------------------------------------------------------------------

/** A problem in the pass-through configuration (file or environment). */
export class AwsConfigError extends Error {}

const CONFIG_KEYS = new Set([
  'region',
  'endpoint',
  'endpoints',
  'profile',
  'maxAttempts',
  'pollIntervalSeconds',
]);

/**
 * Validates a configuration object: `{region, endpoint, endpoints: {service: url}, profile,
 * maxAttempts}`, or the same under a top-level `aws` key. Credentials are not accepted here:
 * they come from the AWS default provider chain.
 */
export function parseAwsConfig(value: unknown, where = 'the AWS configuration'): AwsPassThroughOptions {
  let v = value;
  if (isPlainObject(v) && isPlainObject(v.aws) && Object.keys(v).length === 1) v = v.aws;
  if (!isPlainObject(v)) throw new AwsConfigError(`${where} must be an object`);
  for (const k of Object.keys(v)) {
    if (k === 'credentials' || k === 'accessKeyId' || k === 'secretAccessKey') {
      throw new AwsConfigError(
        `${where}: '${k}' is not accepted; credentials come from the AWS default provider chain (environment variables, a profile, SSO or a role)`,
      );
    }
    if (!CONFIG_KEYS.has(k)) throw new AwsConfigError(`${where}: unknown key '${k}'`);
  }
  const out: AwsPassThroughOptions = {};
  const str = (k: string): string | undefined => {
    const x = v[k];
    if (x === undefined || x === null) return undefined;
    if (typeof x !== 'string' || x === '')
      throw new AwsConfigError(`${where}: '${k}' must be a non-empty string`);
    return x;
  };
  const region = str('region');
  if (region !== undefined) {
    if (!/^[a-z0-9-]+$/.test(region)) throw new AwsConfigError(`${where}: invalid region '${region}'`);
    out.region = region;
  }
  const profile = str('profile');
  if (profile !== undefined) out.profile = profile;
  const endpoint = str('endpoint');
  if (endpoint !== undefined) out.endpoint = checkUrl(endpoint, `${where}: endpoint`);
  if (v.endpoints !== undefined && v.endpoints !== null) {
    if (!isPlainObject(v.endpoints))
      throw new AwsConfigError(`${where}: 'endpoints' must map service names to URLs`);
    const endpoints: Record<string, string> = {};
    for (const [service, url] of Object.entries(v.endpoints)) {
      if (typeof url !== 'string') throw new AwsConfigError(`${where}: endpoints.${service} must be a URL`);
      endpoints[endpointKey(service)] = checkUrl(url, `${where}: endpoints.${service}`);
    }
    out.endpoints = endpoints;
  }
  if (v.maxAttempts !== undefined && v.maxAttempts !== null) {
    const n = v.maxAttempts;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 20) {
      throw new AwsConfigError(`${where}: 'maxAttempts' must be an integer from 1 to 20`);
    }
    out.maxAttempts = n;
  }
  if (v.pollIntervalSeconds !== undefined && v.pollIntervalSeconds !== null) {
    const n = v.pollIntervalSeconds;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > 3600) {
      throw new AwsConfigError(`${where}: 'pollIntervalSeconds' must be a number above 0 and at most 3600`);
    }
    out.pollIntervalSeconds = n;
  }
  return out;
}

/** Reads a pass-through configuration file (JSON or YAML). */
export async function loadAwsConfig(path: string): Promise<AwsPassThroughOptions> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new AwsConfigError(`cannot read the AWS configuration ${path}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = /^\.ya?ml$/i.test(extname(path)) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new AwsConfigError(
      `the AWS configuration ${path} does not parse: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  return parseAwsConfig(value, path);
}

/**
 * Settings from the environment, applied over a configuration file: `STEPWISE_AWS_REGION`,
 * `STEPWISE_AWS_PROFILE`, `STEPWISE_AWS_ENDPOINT` (every service) and
 * `STEPWISE_AWS_ENDPOINT_<SERVICE>` (e.g. `STEPWISE_AWS_ENDPOINT_DYNAMODB`).
 */
export function awsOptionsFromEnv(
  env: NodeJS.ProcessEnv,
  base: AwsPassThroughOptions = {},
): AwsPassThroughOptions {
  const out: AwsPassThroughOptions = { ...base };
  const get = (k: string) => (env[k] === undefined || env[k] === '' ? undefined : env[k]);
  const region = get('STEPWISE_AWS_REGION');
  if (region !== undefined) {
    if (!/^[a-z0-9-]+$/.test(region))
      throw new AwsConfigError(`STEPWISE_AWS_REGION: invalid region '${region}'`);
    out.region = region;
  }
  const profile = get('STEPWISE_AWS_PROFILE');
  if (profile !== undefined) out.profile = profile;
  const endpoint = get('STEPWISE_AWS_ENDPOINT');
  if (endpoint !== undefined) out.endpoint = checkUrl(endpoint, 'STEPWISE_AWS_ENDPOINT');
  const endpoints: Record<string, string> = { ...base.endpoints };
  for (const [k, url] of Object.entries(env)) {
    const m = /^STEPWISE_AWS_ENDPOINT_([A-Z0-9_]+)$/.exec(k);
    if (m && url) endpoints[endpointKey(m[1]!)] = checkUrl(url, k);
  }
  if (Object.keys(endpoints).length > 0) out.endpoints = endpoints;
  return out;
}

/**
 * Endpoint overrides are keyed by the service name in lower case without `-` or `_`, so the
 * file's `emr-serverless`, `EMRServerless` and `STEPWISE_AWS_ENDPOINT_EMR_SERVERLESS` all name
 * the service the SDK calls `emr-serverless`.
 */
function endpointKey(service: string): string {
  return service.toLowerCase().replace(/[-_]/g, '');
}

/**
 * The override for a service among `endpoints`, whatever spelling its key has (parsed
 * configurations are already normalised; options given to Engine.open may not be).
 */
export function endpointOverride(
  endpoints: Readonly<Record<string, string>> | undefined,
  service: string,
): string | undefined {
  if (endpoints === undefined) return undefined;
  const key = endpointKey(service);
  const exact = endpoints[key];
  if (exact !== undefined) return exact;
  for (const k of Object.keys(endpoints)) if (endpointKey(k) === key) return endpoints[k];
  return undefined;
}

function checkUrl(url: string, what: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new AwsConfigError(`${what}: '${url}' is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new AwsConfigError(`${what}: '${url}' must be an http or https URL`);
  }
  return url;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

// ---- the SDK, loaded on demand ---------------------------------------------------------------

type SdkModule = Record<string, unknown>;

interface SdkClient {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<Record<string, unknown>>;
  destroy(): void;
}

type CommandCtor = new (input: unknown) => {
  middlewareStack: {
    add(
      mw: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
      options: { step: string; name: string },
    ): void;
  };
};

interface LoadedService {
  module: SdkModule;
  client: SdkClient;
}

/** Raised when a package is missing: the task fails with a cause naming what to install. */
class MissingPackage extends Error {}

/** Raised by a task role's credential provider: the task fails with this cause. */
class RoleNotAssumed extends Error {}

/** The session name of the role sessions Stepwise opens for tasks' `Credentials` (CloudTrail shows it). */
const ROLE_SESSION_NAME = 'Stepwise';

/** Imports a package from Stepwise's own location, then from the working directory's. */
async function importPackage(pkg: string): Promise<SdkModule> {
  try {
    return (await import(pkg)) as SdkModule;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  let resolved: string;
  try {
    resolved = createRequire(join(process.cwd(), 'noop.js')).resolve(pkg);
  } catch {
    throw new MissingPackage(pkg);
  }
  return (await import(pathToFileURL(resolved).href)) as SdkModule;
}

function isNotFound(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** `putItem` → `PutItemCommand`. */
export function commandName(action: string): string {
  return `${action.charAt(0).toUpperCase()}${action.slice(1)}Command`;
}

/** The error name Step Functions gives an aws-sdk failure: `<Service>.<Name>Exception`. */
export function sdkErrorName(prefix: string, name: string, modelled: boolean): string {
  if (!modelled) return `${prefix}.${prefix}Exception`;
  return `${prefix}.${name.endsWith('Exception') ? name : `${name}Exception`}`;
}

interface ServiceErrorLike {
  name: string;
  message: string;
  $metadata: { httpStatusCode?: number; requestId?: string; extendedRequestId?: string };
}

/** The error code as the service sent it (`NotFound`, where the SDK's class is `NotFoundException`). */
function wireCode(e: ServiceErrorLike): string {
  const x = e as unknown as { Code?: unknown; __type?: unknown };
  if (typeof x.Code === 'string' && x.Code !== '') return x.Code;
  if (typeof x.__type === 'string' && x.__type !== '')
    return x.__type.replace(/^.*#/, '').replace(/:.*$/, '');
  return e.name;
}

function isServiceError(e: unknown): e is ServiceErrorLike {
  const m = (e as { $metadata?: unknown } | null)?.$metadata;
  // A 2xx status means the answer came but could not be read (not an error of the service).
  const status =
    typeof m === 'object' && m !== null ? (m as { httpStatusCode?: unknown }).httpStatusCode : undefined;
  return e instanceof Error && typeof status === 'number' && status >= 300;
}

/** Headers as AWS's Java SDK records them (Node gives them lower-case). */
const HEADER_CASE: Record<string, string> = {
  'content-type': 'Content-Type',
  'content-length': 'Content-Length',
  date: 'Date',
  connection: 'Connection',
  server: 'Server',
  'x-amzn-requestid': 'x-amzn-RequestId',
  'x-amz-crc32': 'x-amz-crc32',
  'x-amz-executed-version': 'X-Amz-Executed-Version',
  'x-amzn-remapped-content-length': 'x-amzn-Remapped-Content-Length',
  'x-amz-function-error': 'X-Amz-Function-Error',
  'x-amz-log-result': 'X-Amz-Log-Result',
  'x-amzn-trace-id': 'X-Amzn-Trace-Id',
};

interface HttpCapture {
  statusCode: number;
  headers: Record<string, string>;
}

function sdkHttpMetadata(http: HttpCapture | undefined, requestId: string | undefined): JsonObject {
  const all: JsonObject = {};
  const single: JsonObject = {};
  for (const [k, v] of Object.entries(http?.headers ?? {})) {
    const name = HEADER_CASE[k.toLowerCase()] ?? k;
    all[name] = [v];
    single[name] = v;
  }
  return {
    SdkHttpMetadata: { AllHttpHeaders: all, HttpHeaders: single, HttpStatusCode: http?.statusCode ?? 200 },
    SdkResponseMetadata: { RequestId: requestId ?? '' },
  };
}

const utf8 = new TextDecoder();

/**
 * An SDK output as Step Functions records it: dates as ISO-8601 text (aws-sdk integrations) or
 * epoch milliseconds (`millis`: the optimized integrations' Java SDK v1 style), blobs and streams
 * as text.
 */
async function toJson(x: unknown, millis = false): Promise<JsonValue | undefined> {
  if (x === undefined || typeof x === 'function') return undefined;
  if (x === null || typeof x === 'string' || typeof x === 'boolean') return x;
  if (typeof x === 'number') return Number.isFinite(x) ? x : String(x);
  if (typeof x === 'bigint') return Number(x);
  if (x instanceof Date) return millis ? x.getTime() : x.toISOString();
  if (x instanceof Uint8Array) return utf8.decode(x);
  if (Array.isArray(x)) {
    const out: JsonValue[] = [];
    for (const item of x) out.push((await toJson(item, millis)) ?? null);
    return out;
  }
  if (x instanceof Set) return toJson([...(x as Set<unknown>)], millis);
  const stream = x as { transformToString?: unknown };
  if (typeof stream.transformToString === 'function') {
    return (await (stream.transformToString as (enc?: string) => Promise<string>)('utf-8')) ?? '';
  }
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(x as Record<string, unknown>)) {
    if (k === '$metadata') continue;
    const j = await toJson(v, millis);
    if (j !== undefined) out[k] = j;
  }
  return out;
}

function failure(error: string, cause: string): TaskOutcome {
  return { ok: false, error, cause };
}

function sizeChecked(resource: string, output: JsonValue): TaskOutcome {
  if (Buffer.byteLength(JSON.stringify(output)) > MAX_PAYLOAD_BYTES) return dataLimit(resource);
  return { ok: true, output };
}

/** What a pass-through call needs from the task. */
export interface AwsTask {
  /** `aws-sdk:dynamodb`, `dynamodb`, `sns`… */
  resourceType: string;
  action: string;
  /** The full resource ARN (for messages). */
  resource: string;
  /** The region named in the resource ARN, if any. */
  region?: string | undefined;
  parameters: JsonValue;
  /** The task then waits for its token (`.waitForTaskToken`). */
  waitForTaskToken?: boolean | undefined;
  /** The role the calls are made as (the state's `Credentials`): assumed with STS AssumeRole. */
  roleArn?: string | undefined;
}

/**
 * Sends pass-through tasks with the AWS SDK. One client per service and region, created on first
 * use; `close()` releases their connections.
 */
export class AwsPassThrough implements OptimizedCaller {
  private readonly services = new Map<string, Promise<LoadedService>>();
  /** Credential providers of the roles tasks named (`Credentials`), by role ARN. */
  private readonly roles = new Map<string, () => Promise<AwsCredentials>>();
  private readonly k8s = new Map<string, EksKubernetes>();

  constructor(
    private readonly options: AwsPassThroughOptions,
    private readonly context: AwsPassThroughContext,
  ) {}

  /** The endpoint used for a service, if overridden. */
  endpointFor(service: string): string | undefined {
    return endpointOverride(this.options.endpoints, service) ?? this.options.endpoint;
  }

  /**
   * The client of the EKS clusters' Kubernetes APIs (eks:call, eks:runJob), made on first use; one
   * per role a task names (`Credentials`), whose credentials then sign the IAM token.
   */
  kubernetes(roleArn?: string): EksKubernetes {
    const key = roleArn ?? '';
    let k = this.k8s.get(key);
    if (k === undefined) {
      const region = this.options.region ?? this.context.region;
      k = new EksKubernetes({
        region,
        stsEndpoint: endpointOverride(this.options.endpoints, 'sts'),
        profile: this.options.profile,
        credentials: roleArn === undefined ? this.options.credentials : this.assumedRole(roleArn, region),
      });
      this.k8s.set(key, k);
    }
    return k;
  }

  async invoke(task: AwsTask, signal: SignalSource, call: AwsCallContext = {}): Promise<TaskOutcome> {
    const sdkTarget = task.resourceType.startsWith('aws-sdk:');
    const service = sdkTarget ? task.resourceType.slice('aws-sdk:'.length) : task.resourceType;
    const optimized = sdkTarget ? undefined : OPTIMIZED[service];
    if (!sdkTarget && (optimized === undefined || !optimized.actions.has(task.action))) {
      return failure(StatesErrors.TaskFailed, `Stepwise does not pass '${task.resource}' through to AWS.`);
    }
    if (!isJsonObject(task.parameters)) {
      return failure(StatesErrors.Runtime, `The parameters of '${task.resource}' must be an object.`);
    }
    // Not one SDK call: the body may come from S3 and the answer go there (aws-bedrock.ts).
    if (service === 'bedrock' && task.action === 'invokeModel') return invokeBedrockModel(this, task, signal);
    // Not the EKS API: the cluster's own Kubernetes API, with the parameters as they are.
    if (
      optimized !== undefined &&
      service === 'eks' &&
      (task.action === 'call' || task.action === 'runJob')
    ) {
      return this.kubernetes(task.roleArn).invoke(task, signal);
    }
    const casing = casingOf(service);
    const params = casing ? toServiceCase(task.parameters, casing) : task.parameters;
    const input = optimized ? optimizedRequest(service, params, call) : params;
    const r = await this.call(task, optimized, service, task.action, input, signal);
    if (!r.ok) return r.outcome;
    const answer = (await toJson(r.result)) as JsonObject;
    const json = casing ? toStatesCase(answer, casing) : answer;
    if (!optimized) return sizeChecked(task.resource, json);
    if (service === 'lambda') return lambdaResult(json, r.http, r.requestId);
    if (service === 'events' && typeof json.FailedEntryCount === 'number' && json.FailedEntryCount > 0) {
      return failure('EventBridge.FailedEntry', JSON.stringify(json));
    }
    if (service === 'ecs' && task.waitForTaskToken === true) {
      const refused = ecsRunTaskFailure(json);
      if (refused) return refused;
    }
    // Glue's answer holds only the JobRunId; Step Functions adds the request's JobName.
    const extra: JsonObject = service === 'glue' ? { JobName: task.parameters.JobName ?? null } : {};
    // EMR Serverless's start/stop/deleteApplication answer nothing; Step Functions gives the id.
    if (
      service === 'emr-serverless' &&
      task.action.endsWith('Application') &&
      task.action !== 'createApplication'
    ) {
      extra.ApplicationId = task.parameters.ApplicationId ?? null;
    }
    return sizeChecked(task.resource, { ...extra, ...json, ...sdkHttpMetadata(r.http, r.requestId) });
  }

  /**
   * One call of an optimized integration's service (`glue`, `athena`…) on behalf of a task, e.g.
   * the describe call of a `.sync` job: the answer without `$metadata`, dates as epoch
   * milliseconds, as the optimized integrations record them. Input and output are in Step
   * Functions' casing. `transport` tells a failure to reach the service from an error the
   * service answered.
   */
  async callOptimized(
    task: Pick<AwsTask, 'resource' | 'region' | 'roleArn'>,
    service: string,
    action: string,
    input: JsonObject,
    signal: SignalSource,
  ): Promise<OptimizedCallResult> {
    const casing = casingOf(service);
    const sent = casing ? toServiceCase(input, casing) : input;
    const r = await this.call(task, OPTIMIZED[service], service, action, sent, signal);
    if (!r.ok) return r;
    const answer = (await toJson(r.result, true)) as JsonObject;
    const output = casing ? toStatesCase(answer, casing) : answer;
    return { ok: true, output, metadata: sdkHttpMetadata(r.http, r.requestId) };
  }

  /** Sends one command; failures already carry the error name and cause Step Functions reports. */
  private async call(
    task: Pick<AwsTask, 'resource' | 'region' | 'roleArn'>,
    optimized: OptimizedService | undefined,
    service: string,
    action: string,
    input: unknown,
    signal: SignalSource,
  ): Promise<
    | {
        ok: true;
        result: Record<string, unknown>;
        http: HttpCapture | undefined;
        requestId: string | undefined;
      }
    | { ok: false; outcome: TaskOutcome; transport: boolean }
  > {
    const sdkName = optimized?.actionSdk?.[action] ?? optimized?.sdk ?? service;
    const { pkg, errorPrefix } = sdkServiceOf(sdkName);
    const region = task.region ?? this.options.region ?? this.context.region;
    const fail = (error: string, cause: string) => ({
      ok: false as const,
      outcome: failure(error, cause),
      transport: true,
    });
    let loaded: LoadedService;
    try {
      loaded = await this.load(sdkName, pkg, region, task.roleArn);
    } catch (e) {
      if (e instanceof MissingPackage) {
        return fail(
          StatesErrors.TaskFailed,
          `Pass-through to AWS needs the package @aws-sdk/client-${pkg} for '${task.resource}': install it with 'npm install @aws-sdk/client-${pkg}' next to Stepwise or in the working directory.`,
        );
      }
      return fail(StatesErrors.TaskFailed, `Cannot load @aws-sdk/client-${pkg}: ${message(e)}`);
    }
    const Command = loaded.module[commandName(action)];
    if (typeof Command !== 'function') {
      return fail(
        StatesErrors.TaskFailed,
        `The AWS SDK client @aws-sdk/client-${pkg} has no action '${action}' (resource '${task.resource}').`,
      );
    }
    const command = new (Command as CommandCtor)(input);
    let http: HttpCapture | undefined;
    command.middlewareStack.add(
      (next) => async (args) => {
        const r = await next(args);
        const res = (r as { response?: { statusCode?: number; headers?: Record<string, string> } }).response;
        if (res) http = { statusCode: res.statusCode ?? 200, headers: { ...res.headers } };
        return r;
      },
      { step: 'build', name: 'stepwiseHttpMetadata' },
    );
    let result: Record<string, unknown>;
    try {
      const abortSignal = typeof signal === 'function' ? signal() : signal;
      result = await loaded.client.send(command, { abortSignal });
    } catch (e) {
      // The task's role could not be assumed: not an answer of the service the task calls.
      if (e instanceof RoleNotAssumed) return fail(StatesErrors.TaskFailed, e.message);
      return {
        ok: false,
        outcome: this.errorOutcome(e, loaded.module, service, sdkName, errorPrefix, optimized),
        transport: !isServiceError(e),
      };
    }
    const requestId = (result.$metadata as { requestId?: string } | undefined)?.requestId;
    return { ok: true, result, http, requestId };
  }

  private errorOutcome(
    e: unknown,
    module: SdkModule,
    service: string,
    sdkName: string,
    errorPrefix: string,
    optimized: OptimizedService | undefined,
  ): TaskOutcome {
    if (!isServiceError(e)) {
      const endpoint = this.endpointFor(sdkName);
      if (e instanceof Error && e.name === 'AbortError') {
        return failure(StatesErrors.TaskFailed, `The call to ${service} was aborted.`);
      }
      return failure(
        StatesErrors.TaskFailed,
        `Stepwise could not call ${service}${endpoint ? ` at ${endpoint}` : ''}: ${message(e)}`,
      );
    }
    const Modelled = module[e.name];
    const modelled = typeof Modelled === 'function' && e instanceof (Modelled as new () => unknown);
    const status = e.$metadata.httpStatusCode ?? 400;
    const requestId = e.$metadata.requestId ?? randomUUID();
    if (optimized) {
      const name = modelled
        ? `${optimized.errorPrefix}.${e.name.endsWith('Exception') ? e.name : `${e.name}Exception`}`
        : `${optimized.errorPrefix}.${optimized.genericError}`;
      return failure(
        name,
        `${e.message} (Service: ${optimized.serviceName}; Status Code: ${status}; Error Code: ${wireCode(e)}; Request ID: ${requestId}; Proxy: null)`,
      );
    }
    const extended = e.$metadata.extendedRequestId;
    return failure(
      sdkErrorName(errorPrefix, e.name, modelled),
      `${e.message} (Service: ${errorPrefix}, Status Code: ${status}, Request ID: ${requestId}${
        extended !== undefined ? `, Extended Request ID: ${extended}` : ''
      })`,
    );
  }

  private load(service: string, pkg: string, region: string, roleArn?: string): Promise<LoadedService> {
    const key = `${service}\n${region}\n${roleArn ?? ''}`;
    let p = this.services.get(key);
    if (p === undefined) {
      p = this.create(service, pkg, region, roleArn);
      this.services.set(key, p);
      // A failed load (package missing) is retried by the next task: it may be installed since.
      p.catch(() => this.services.delete(key));
    }
    return p;
  }

  /** Seconds between the describe calls of a `.sync` job. */
  get pollIntervalMs(): number {
    return (this.options.pollIntervalSeconds ?? 5) * 1000;
  }

  /**
   * Credentials of a role a task names (`Credentials`), from STS AssumeRole made with the base
   * credentials; kept per role and renewed five minutes before they expire.
   */
  private assumedRole(roleArn: string, region: string): () => Promise<AwsCredentials> {
    let provider = this.roles.get(roleArn);
    if (provider !== undefined) return provider;
    let held: { credentials: AwsCredentials; expires: number } | undefined;
    let pending: Promise<AwsCredentials> | undefined;
    const assume = async (): Promise<AwsCredentials> => {
      let out: Record<string, unknown>;
      try {
        const { module, client } = await this.load('sts', 'sts', region);
        const Command = module.AssumeRoleCommand as CommandCtor | undefined;
        if (Command === undefined) throw new Error('@aws-sdk/client-sts exports no AssumeRoleCommand');
        out = await client.send(new Command({ RoleArn: roleArn, RoleSessionName: ROLE_SESSION_NAME }));
      } catch (e) {
        const why =
          e instanceof MissingPackage ? 'the package @aws-sdk/client-sts is not installed' : message(e);
        throw new RoleNotAssumed(
          `Stepwise could not assume the role '${roleArn}' named by the state's Credentials: ${why}`,
        );
      }
      const c = out.Credentials as
        | { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string; Expiration?: Date }
        | undefined;
      if (c?.AccessKeyId === undefined || c.SecretAccessKey === undefined) {
        throw new RoleNotAssumed(
          `Stepwise could not assume the role '${roleArn}': STS answered no credentials.`,
        );
      }
      const credentials: AwsCredentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey };
      if (c.SessionToken !== undefined) credentials.sessionToken = c.SessionToken;
      held = { credentials, expires: c.Expiration?.getTime() ?? Date.now() + 15 * 60_000 };
      return credentials;
    };
    provider = () => {
      if (held !== undefined && held.expires - Date.now() > 5 * 60_000)
        return Promise.resolve(held.credentials);
      return (pending ??= assume().finally(() => (pending = undefined)));
    };
    this.roles.set(roleArn, provider);
    return provider;
  }

  private async create(
    service: string,
    pkg: string,
    region: string,
    roleArn?: string,
  ): Promise<LoadedService> {
    const given = this.options.sdkModules?.[pkg];
    const module = (
      given === undefined
        ? await importPackage(`@aws-sdk/client-${pkg}`)
        : typeof given === 'function'
          ? await given()
          : given
    ) as SdkModule;
    const name = Object.keys(module).find((k) => k.endsWith('Client') && k !== '__Client');
    const Client = name === undefined ? undefined : module[name];
    if (typeof Client !== 'function') throw new Error(`@aws-sdk/client-${pkg} exports no client class`);
    const endpoint = this.endpointFor(service);
    const config: Record<string, unknown> = { region };
    if (endpoint !== undefined) config.endpoint = endpoint;
    // Local stand-ins (LocalStack, MinIO…) serve buckets by path, not by host name.
    if (endpoint !== undefined && pkg === 's3') config.forcePathStyle = true;
    if (this.options.profile !== undefined) config.profile = this.options.profile;
    if (this.options.credentials !== undefined) config.credentials = this.options.credentials;
    if (roleArn !== undefined) config.credentials = this.assumedRole(roleArn, region);
    if (this.options.maxAttempts !== undefined) config.maxAttempts = this.options.maxAttempts;
    // Bedrock Runtime's client speaks HTTP/2 by default (for its bidirectional stream), which local
    // endpoints (stand-ins, emulators) do not; InvokeModel needs only HTTP/1.1, as the others use.
    if (pkg === 'bedrock-runtime') {
      const { NodeHttpHandler } = await import('@smithy/node-http-handler');
      config.requestHandler = new NodeHttpHandler();
    }
    const client = new (Client as new (config: unknown) => SdkClient)(config);
    return { module, client };
  }

  /** Releases the clients' connections. */
  async close(): Promise<void> {
    const all = [...this.services.values()];
    this.services.clear();
    for (const p of all) {
      try {
        (await p).client.destroy();
      } catch {
        // a client that never loaded has nothing to release
      }
    }
  }
}

/** Optimized integrations accept JSON where the API takes text, and EventBridge adds the execution. */
function optimizedRequest(
  service: string,
  params: JsonObject,
  call: AwsCallContext,
): Record<string, unknown> {
  const text = (v: JsonValue | undefined) =>
    v === undefined || v === null || typeof v === 'string' ? v : JSON.stringify(v);
  const out: Record<string, unknown> = { ...params };
  switch (service) {
    case 'sns':
      if (params.Message !== undefined) out.Message = text(params.Message);
      break;
    case 'sqs':
      if (params.MessageBody !== undefined) out.MessageBody = text(params.MessageBody);
      break;
    case 'events':
      if (Array.isArray(params.Entries)) {
        out.Entries = params.Entries.map((entry) => {
          if (!isJsonObject(entry)) return entry;
          const resources = Array.isArray(entry.Resources) ? [...entry.Resources] : [];
          for (const arn of [call.executionArn, call.stateMachineArn]) if (arn) resources.push(arn);
          const e: Record<string, unknown> = { ...entry, Resources: resources };
          if (entry.Detail !== undefined) e.Detail = text(entry.Detail);
          return e;
        });
      }
      break;
    case 'lambda': {
      const payload = params.Payload;
      if (payload !== undefined) out.Payload = Buffer.from(text(payload) ?? '');
      break;
    }
    case 'mediaconvert':
      return mediaConvertJobRequest(params);
    default:
      break;
  }
  return out;
}

/** `lambda:invoke`: the payload parsed from JSON; a function error fails the task. */
function lambdaResult(
  json: JsonObject,
  http: HttpCapture | undefined,
  requestId: string | undefined,
): TaskOutcome {
  const text = typeof json.Payload === 'string' ? json.Payload : '';
  let payload: JsonValue;
  try {
    payload = text === '' ? null : (JSON.parse(text) as JsonValue);
  } catch {
    payload = text;
  }
  if (typeof json.FunctionError === 'string') {
    const errorType =
      isJsonObject(payload) && typeof payload.errorType === 'string' ? payload.errorType : undefined;
    if (errorType === undefined) {
      return failure(
        'Lambda.Unknown',
        `The cause could not be determined because Lambda did not return an error type. Returned payload: ${text}`,
      );
    }
    return failure(errorType, JSON.stringify(payload));
  }
  const out: JsonObject = { ...json, Payload: payload, ...sdkHttpMetadata(http, requestId) };
  return sizeChecked('lambda', out);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
