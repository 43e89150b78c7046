/**
 * Test support: a small local stand-in for a few AWS services, speaking each service's wire
 * protocol so that the real AWS SDK clients can talk to it (one HTTP server, like LocalStack's
 * single port):
 *
 * - DynamoDB (AWS JSON 1.0): CreateTable, DeleteTable, ListTables, PutItem, GetItem, DeleteItem,
 *   UpdateItem (`SET`/`REMOVE` on top-level attributes), `ReturnValues`, simple
 *   `ConditionExpression`s, AWS's validation and not-found errors;
 * - SNS (query protocol, XML answers): CreateTopic (FIFO topics too), Publish;
 * - STS (query protocol): AssumeRole of the roles in `assumableRoles` (AccessDenied otherwise);
 * - S3 (REST XML, path-style): CreateBucket, ListBuckets, PutObject, GetObject, HeadObject,
 *   DeleteObject, ListObjects (v1 and v2), NoSuchBucket/NoSuchKey;
 * - Secrets Manager (AWS JSON 1.1): CreateSecret, GetSecretValue, ListSecrets;
 * - Lambda (REST JSON): Invoke of JavaScript handlers registered with `addFunction`;
 * - SQS (AWS JSON 1.0, query-compatible errors): CreateQueue, GetQueueUrl, SendMessage,
 *   ReceiveMessage, DeleteMessage;
 * - Glue (AWS JSON 1.1): StartJobRun, GetJobRun, BatchStopJobRun of jobs made with
 *   `createGlueJob`. A run reports RUNNING for `--stepwise-polls` GetJobRun calls (default 1), then
 *   the state in its `--stepwise-outcome` argument (default SUCCEEDED); `setJobRunState` ends it;
 * - Athena (AWS JSON 1.1): StartQueryExecution, GetQueryExecution, StopQueryExecution,
 *   GetQueryResults (one row: the query's text). A query
 *   runs for one GetQueryExecution call (`-- polls: N` in the query text: N calls), then
 *   SUCCEEDED, or FAILED when its text contains `FAIL`;
 * - ECS (AWS JSON 1.1): RunTask, DescribeTasks, StopTask on clusters and task definitions made
 *   with `createEcsCluster` and `registerEcsTaskDefinition`. A task runs for `STEPWISE_POLLS`
 *   DescribeTasks calls (default 1), then stops; each container exits with its
 *   `STEPWISE_EXIT_CODE` (default 0; `none`: it never ran). Both are environment variables of
 *   the container's override. A definition registered as not placeable answers RunTask with
 *   `failures`;
 * - Batch (REST JSON): SubmitJob, DescribeJobs, TerminateJob on queues made with
 *   `createBatchJobQueue`. A job is RUNNING for `STEPWISE_POLLS` DescribeJobs calls, then ends in
 *   `STEPWISE_OUTCOME` (SUCCEEDED or FAILED), both from `containerOverrides.environment`;
 * - CodeBuild (AWS JSON 1.1): StartBuild, BatchGetBuilds, StopBuild, BatchDeleteBuilds,
 *   BatchGetReports (of `codeBuildReports`) on projects made with
 *   `createCodeBuildProject`; `STEPWISE_POLLS` and `STEPWISE_OUTCOME` (SUCCEEDED, FAILED,
 *   FAULT…) come from `environmentVariablesOverride`;
 * - EMR (AWS JSON 1.1): RunJobFlow, DescribeCluster, AddJobFlowSteps, DescribeStep, CancelSteps. A
 *   cluster is STARTING for `STEPWISE_POLLS` DescribeCluster calls (default 1), then in
 *   `STEPWISE_OUTCOME` (WAITING, or TERMINATED_WITH_ERRORS), both cluster tags; a step is PENDING
 *   then RUNNING for `STEPWISE_POLLS` DescribeStep calls, then `STEPWISE_OUTCOME` (COMPLETED or
 *   FAILED), both from its `HadoopJarStep.Properties`;
 * - SageMaker (AWS JSON 1.1): Create/Describe/Stop of training, transform and processing jobs. A
 *   job is InProgress for `STEPWISE_POLLS` describe calls (default 1), then `STEPWISE_OUTCOME`
 *   (Completed or Failed), from its `HyperParameters` (training) or `Environment` (the others);
 *   a stopped job is Stopping, then Stopped at the next describe call.
 *
 * State lives in memory. Nothing here knows about Step Functions: the stand-in implements the
 * protocols, and tests or the conformance adapter provision its tables, topics and buckets.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { EksCodeBuildEmrStandIn } from './aws-standins-eks.js';
import { MediaStandIn } from './aws-standins-media.js';
import { JobStandIns } from './aws-standins-jobs.js';

type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

interface Table {
  name: string;
  keys: string[];
  items: Map<string, Item>;
  created: Date;
}

interface S3Object {
  body: Buffer;
  contentType: string;
  metadata: Record<string, string>;
  lastModified: Date;
}

export interface SqsMessage {
  MessageId: string;
  ReceiptHandle: string;
  MD5OfBody: string;
  Body: string;
}

interface GlueJobRun {
  id: string;
  jobName: string;
  arguments: Record<string, string>;
  startedOn: number;
  state: string;
  /** GetJobRun calls left before the run ends on its own. */
  pollsLeft: number;
  outcome: string;
  completedOn?: number;
}

interface AthenaQuery {
  id: string;
  query: string;
  workGroup: string;
  outputLocation: string | undefined;
  submitted: number;
  state: string;
  pollsLeft: number;
  fails: boolean;
  completed?: number;
}

interface EcsContainer {
  name: string;
  arn: string;
  lastStatus: string;
  /** The exit code it will have (undefined: it never runs). */
  planned: number | undefined;
  exitCode?: number;
}

export interface EcsTask {
  arn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  family: string;
  startedBy: string | undefined;
  overrides: unknown;
  tags: unknown;
  created: number;
  lastStatus: string;
  desiredStatus: string;
  pollsLeft: number;
  containers: EcsContainer[];
  stopCode?: string;
  stoppedReason?: string;
  stopped?: number;
}

export interface BatchJob {
  id: string;
  arn: string;
  name: string;
  queueArn: string;
  definition: string;
  parameters: unknown;
  tags: unknown;
  environment: { name: string; value: string }[];
  created: number;
  status: string;
  statusReason?: string;
  pollsLeft: number;
  outcome: string;
  started?: number;
  stopped?: number;
}

export interface CodeBuildBuild {
  id: string;
  arn: string;
  project: string;
  number: number;
  environment: { name: string; value: string; type: string }[];
  sourceVersion: string | undefined;
  started: number;
  status: string;
  pollsLeft: number;
  outcome: string;
  ended?: number;
}

export interface EmrCluster {
  id: string;
  arn: string;
  name: string;
  releaseLabel: string;
  tags: { Key: string; Value: string }[];
  created: number;
  state: string;
  pollsLeft: number;
  outcome: string;
  ready?: number;
  ended?: number;
  /** RunJobFlow's `Instances` (its named fleets and groups serve ListInstanceFleets/Groups). */
  instances?: Record<string, unknown>;
  /** Set by SetTerminationProtection. */
  terminationProtected?: boolean;
}

export interface EmrStep {
  id: string;
  clusterId: string;
  name: string;
  actionOnFailure: string;
  jar: string;
  args: string[];
  properties: Record<string, string>;
  created: number;
  state: string;
  pollsLeft: number;
  outcome: string;
  started?: number;
  ended?: number;
}

export type SageMakerJobKind = 'Training' | 'Transform' | 'Processing';

export interface SageMakerJob {
  kind: SageMakerJobKind;
  name: string;
  arn: string;
  /** The create request (echoed by the describe call). */
  request: Record<string, unknown>;
  created: number;
  status: string;
  pollsLeft: number;
  outcome: string;
  started?: number;
  ended?: number;
}

interface Secret {
  name: string;
  arn: string;
  value: string | undefined;
  created: Date;
}

export interface StandInOptions {
  region?: string;
  account?: string;
}

/** An error answer: HTTP status, AWS error code, message. */
class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

const TABLE_NAME = /^[a-zA-Z0-9_.-]+$/;
const SECRET_NAME = /^[a-zA-Z0-9/_+=.@!-]+$/;

export class AwsStandIn {
  readonly region: string;
  readonly account: string;
  readonly tables = new Map<string, Table>();
  readonly topics = new Map<string, { arn: string; fifo: boolean; messages: Record<string, string>[] }>();
  readonly buckets = new Map<string, Map<string, S3Object>>();
  readonly secrets = new Map<string, Secret>();
  readonly functions = new Map<string, (event: unknown) => unknown>();
  readonly queues = new Map<string, SqsMessage[]>();
  readonly glueJobs = new Set<string>();
  readonly jobRuns = new Map<string, GlueJobRun>();
  readonly queries = new Map<string, AthenaQuery>();
  readonly ecsClusters = new Set<string>();
  /** ECS task definitions by family: container names, and whether RunTask can place a task. */
  readonly ecsTaskDefinitions = new Map<string, { containers: string[]; placeable: boolean }>();
  readonly ecsTasks = new Map<string, EcsTask>();
  readonly batchJobQueues = new Set<string>();
  readonly batchJobs = new Map<string, BatchJob>();
  readonly codeBuildProjects = new Set<string>();
  /** CodeBuild test reports by ARN, for BatchGetReports. */
  readonly codeBuildReports = new Map<string, Record<string, unknown>>();
  readonly builds = new Map<string, CodeBuildBuild>();
  readonly emrClusters = new Map<string, EmrCluster>();
  readonly emrSteps = new Map<string, EmrStep>();
  /** SageMaker jobs by `<kind>:<name>` (`Training:nightly`). */
  readonly sageMakerJobs = new Map<string, SageMakerJob>();
  /** SageMaker models, endpoint configurations and endpoints by name: their create requests. */
  readonly sageMakerModels = new Map<string, Record<string, unknown>>();
  readonly sageMakerEndpointConfigs = new Map<string, Record<string, unknown>>();
  readonly sageMakerEndpoints = new Map<string, Record<string, unknown>>();
  /** EKS, CodeBuild batch builds and EMR TerminateJobFlows (aws-standins-eks.ts). */
  readonly eks = new EksCodeBuildEmrStandIn(this);
  /** Bedrock model customization, MediaConvert and SageMaker labeling jobs (aws-standins-media.ts). */
  readonly media = new MediaStandIn(this);
  /** Roles STS AssumeRole grants (any other is refused with AccessDenied). */
  readonly assumableRoles = new Set<string>();
  /** The access key ids AssumeRole issued, with their role ARNs. */
  readonly issuedKeys = new Map<string, string>();
  /** Every request's headers, for tests that check what was sent (e.g. signatures). */
  readonly requests: { service: string; operation: string; headers: IncomingMessage['headers'] }[] = [];
  /** SageMaker tuning jobs, DataBrew and EMR Serverless (aws-standins-jobs.ts). */
  readonly jobs = new JobStandIns(this);
  private server: Server | undefined;
  private sequence = 10_000_000_000_000_000_000n;

  constructor(options: StandInOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.account = options.account ?? '123456789012';
  }

  /** Starts listening on 127.0.0.1 (a free port unless given); returns the endpoint URL. */
  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    return this.url;
  }

  get url(): string {
    const a = this.server?.address() as AddressInfo | null | undefined;
    if (!a) throw new Error('the stand-in is not listening');
    return `http://127.0.0.1:${a.port}`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  // ---- provisioning ---------------------------------------------------------------------------

  createTable(name: string, keys: string[]): void {
    this.tables.set(name, { name, keys, items: new Map(), created: new Date() });
  }

  createTopic(name: string): string {
    const arn = `arn:aws:sns:${this.region}:${this.account}:${name}`;
    if (!this.topics.has(arn)) this.topics.set(arn, { arn, fifo: name.endsWith('.fifo'), messages: [] });
    return arn;
  }

  /** A queue, by name; returns its URL (queue URLs are matched by their last path segment). */
  createQueue(name: string): string {
    if (!this.queues.has(name)) this.queues.set(name, []);
    return `${this.url}/${this.account}/${name}`;
  }

  /** Takes the messages waiting in a queue (as ReceiveMessage followed by DeleteMessage would). */
  drainQueue(name: string): SqsMessage[] {
    const q = this.queues.get(name);
    return q ? q.splice(0) : [];
  }

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  putObject(bucket: string, key: string, body: string | Buffer, contentType = 'binary/octet-stream'): void {
    const b = this.buckets.get(bucket);
    if (!b) throw new Error(`no bucket ${bucket}`);
    b.set(key, {
      body: typeof body === 'string' ? Buffer.from(body) : body,
      contentType,
      metadata: {},
      lastModified: new Date(),
    });
  }

  /** An object's body as text (undefined when there is none), and a bucket's keys in order. */
  objectText(bucket: string, key: string): string | undefined {
    return this.buckets.get(bucket)?.get(key)?.body.toString('utf8');
  }

  keys(bucket: string, prefix = ''): string[] {
    return [...(this.buckets.get(bucket)?.keys() ?? [])].filter((k) => k.startsWith(prefix)).sort();
  }

  /** A Lambda function: its handler's result is the payload; a throw is an unhandled error. */
  addFunction(name: string, handler: (event: unknown) => unknown): void {
    this.functions.set(name, handler);
  }

  /** Answers to `<service>:<Operation>` wait this long after the work is done (e.g. a slow start). */
  readonly delays = new Map<string, number>();

  private async delay(key: string): Promise<void> {
    const ms = this.delays.get(key);
    // Unreferenced: a held answer does not keep the process alive.
    if (ms !== undefined) await new Promise((r) => setTimeout(r, ms).unref());
  }

  createGlueJob(name: string): void {
    this.glueJobs.add(name);
  }

  /** Ends (or changes) a Glue job run as if the service did. */
  setJobRunState(runId: string, state: string): void {
    const run = this.jobRuns.get(runId);
    if (!run) throw new Error(`no job run ${runId}`);
    run.state = state;
    run.pollsLeft = 0;
    if (state !== 'RUNNING') run.completedOn = Date.now();
  }

  createEcsCluster(name: string): string {
    this.ecsClusters.add(name);
    return `arn:aws:ecs:${this.region}:${this.account}:cluster/${name}`;
  }

  registerEcsTaskDefinition(
    family: string,
    options: { containers?: string[]; placeable?: boolean } = {},
  ): string {
    this.ecsTaskDefinitions.set(family, {
      containers: options.containers ?? ['app'],
      placeable: options.placeable ?? true,
    });
    return `arn:aws:ecs:${this.region}:${this.account}:task-definition/${family}:1`;
  }

  createBatchJobQueue(name: string): string {
    this.batchJobQueues.add(name);
    return `arn:aws:batch:${this.region}:${this.account}:job-queue/${name}`;
  }

  createCodeBuildProject(name: string): void {
    this.codeBuildProjects.add(name);
  }

  /** How many requests of a service's operation the stand-in answered. */
  count(service: string, operation: string): number {
    return this.requests.filter((r) => r.service === service && r.operation === operation).length;
  }

  // ---- dispatch ---------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const target = String(req.headers['x-amz-target'] ?? '');
    const contentType = String(req.headers['content-type'] ?? '');
    if (this.jobs.handle(req, body, res)) return;
    try {
      if (this.eks.handle(req, body, res)) return;
      if (this.media.handle(req, body, res)) return;
      if (target.startsWith('DynamoDB_20120810.')) {
        const op = target.slice('DynamoDB_20120810.'.length);
        this.requests.push({ service: 'dynamodb', operation: op, headers: req.headers });
        return this.json(res, '1.0', this.dynamodb(op, parseJson(body)));
      }
      if (target.startsWith('AmazonSQS.')) {
        const op = target.slice('AmazonSQS.'.length);
        this.requests.push({ service: 'sqs', operation: op, headers: req.headers });
        return this.json(res, '1.0', this.sqs(op, parseJson(body)));
      }
      if (target.startsWith('AWSGlue.')) {
        const op = target.slice('AWSGlue.'.length);
        this.requests.push({ service: 'glue', operation: op, headers: req.headers });
        const answer = this.glue(op, parseJson(body));
        await this.delay(`glue:${op}`);
        return this.json(res, '1.1', answer);
      }
      if (target.startsWith('AmazonAthena.')) {
        const op = target.slice('AmazonAthena.'.length);
        this.requests.push({ service: 'athena', operation: op, headers: req.headers });
        return this.json(res, '1.1', this.athena(op, parseJson(body)));
      }
      if (target.startsWith('AmazonEC2ContainerServiceV20141113.')) {
        const op = target.slice('AmazonEC2ContainerServiceV20141113.'.length);
        this.requests.push({ service: 'ecs', operation: op, headers: req.headers });
        return this.json(res, '1.1', this.ecs(op, parseJson(body)));
      }
      if (target.startsWith('CodeBuild_20161006.')) {
        const op = target.slice('CodeBuild_20161006.'.length);
        this.requests.push({ service: 'codebuild', operation: op, headers: req.headers });
        return this.json(res, '1.1', this.codeBuild(op, parseJson(body)));
      }
      if (target.startsWith('ElasticMapReduce.')) {
        const op = target.slice('ElasticMapReduce.'.length);
        this.requests.push({ service: 'emr', operation: op, headers: req.headers });
        return this.json(res, '1.1', this.emr(op, parseJson(body)));
      }
      if (target.startsWith('SageMaker.')) {
        const op = target.slice('SageMaker.'.length);
        this.requests.push({ service: 'sagemaker', operation: op, headers: req.headers });
        return this.json(res, '1.1', this.sageMaker(op, parseJson(body)));
      }
      const batch = /^\/v1\/([a-z]+)$/.exec(req.url ?? '');
      if (req.method === 'POST' && batch) {
        const op = BATCH_OPERATIONS[batch[1]!] ?? batch[1]!;
        this.requests.push({ service: 'batch', operation: op, headers: req.headers });
        const answer = JSON.stringify(this.batch(op, parseJson(body)));
        res.setHeader('Content-Type', 'application/json');
        res.setHeader('x-amzn-RequestId', randomUUID());
        res.end(answer);
        return;
      }
      if (target.startsWith('secretsmanager.')) {
        const op = target.slice('secretsmanager.'.length);
        this.requests.push({ service: 'secretsmanager', operation: op, headers: req.headers });
        return this.json(res, '1.1', this.secretsManager(op, parseJson(body)));
      }
      if (req.method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded')) {
        const form = new URLSearchParams(body.toString('utf8'));
        const op = form.get('Action') ?? '';
        if (op === 'AssumeRole') {
          this.requests.push({ service: 'sts', operation: op, headers: req.headers });
          return this.xml(res, 200, this.assumeRole(form));
        }
        this.requests.push({ service: 'sns', operation: op, headers: req.headers });
        return this.xml(res, 200, this.sns(op, form));
      }
      const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
      if (req.method === 'POST' && invoke) {
        this.requests.push({ service: 'lambda', operation: 'Invoke', headers: req.headers });
        return await this.lambda(decodeURIComponent(invoke[1]!), body, res);
      }
      this.requests.push({ service: 's3', operation: `${req.method} ${req.url}`, headers: req.headers });
      return this.s3(req, body, res);
    } catch (e) {
      if (!(e instanceof AwsError)) {
        this.fail(res, req, new AwsError(500, 'InternalFailure', String(e), 'Receiver'));
        return;
      }
      this.fail(res, req, e);
    }
  }

  private fail(res: ServerResponse, req: IncomingMessage, e: AwsError): void {
    const target = String(req.headers['x-amz-target'] ?? '');
    const contentType = String(req.headers['content-type'] ?? '');
    const requestId = randomUUID();
    if (
      target.startsWith('AmazonEC2ContainerServiceV20141113.') ||
      target.startsWith('CodeBuild_20161006.')
    ) {
      return this.json(res, '1.1', { __type: e.code, message: e.message }, e.status);
    }
    if (/^\/v1\/[a-z]+$/.test(req.url ?? '')) {
      // Batch (REST JSON): the error code travels in a header.
      res.statusCode = e.status;
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('x-amzn-RequestId', requestId);
      res.setHeader('x-amzn-ErrorType', e.code);
      res.end(JSON.stringify({ message: e.message }));
      return;
    }
    if (target.startsWith('DynamoDB_20120810.')) {
      const ns =
        e.code === 'ValidationException' ? 'com.amazon.coral.validate' : 'com.amazonaws.dynamodb.v20120810';
      return this.json(res, '1.0', { __type: `${ns}#${e.code}`, message: e.message }, e.status);
    }
    if (
      target.startsWith('AWSGlue.') ||
      target.startsWith('ElasticMapReduce.') ||
      target.startsWith('SageMaker.')
    ) {
      return this.json(res, '1.1', { __type: e.code, Message: e.message }, e.status);
    }
    if (target.startsWith('AmazonAthena.')) {
      return this.json(
        res,
        '1.1',
        { __type: e.code, Message: e.message, AthenaErrorCode: 'INVALID_INPUT' },
        e.status,
      );
    }
    if (target.startsWith('secretsmanager.')) {
      return this.json(res, '1.1', { __type: e.code, Message: e.message }, e.status);
    }
    if (target.startsWith('AmazonSQS.')) {
      // SQS's JSON protocol keeps the query protocol's error code in a header.
      const [code, type] = e.code.split('|');
      res.setHeader('x-amzn-query-error', `${type ?? code};${e.type}`);
      return this.json(res, '1.0', { __type: `com.amazonaws.sqs#${code}`, message: e.message }, e.status);
    }
    if (e.code.startsWith('Lambda:')) {
      const code = e.code.slice('Lambda:'.length);
      res.statusCode = e.status;
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('x-amzn-RequestId', requestId);
      res.setHeader('x-amzn-ErrorType', code);
      res.end(JSON.stringify({ Type: 'User', message: e.message }));
      return;
    }
    if (contentType.startsWith('application/x-www-form-urlencoded')) {
      return this.xml(
        res,
        e.status,
        `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>${e.type}</Type><Code>${esc(
          e.code,
        )}</Code><Message>${esc(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    }
    const hostId = Buffer.from(randomUUID()).toString('base64');
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amz-id-2', hostId);
    this.xml(
      res,
      e.status,
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${esc(e.code)}</Code><Message>${esc(
        e.message,
      )}</Message><RequestId>${requestId}</RequestId><HostId>${hostId}</HostId></Error>`,
    );
  }

  private json(res: ServerResponse, version: '1.0' | '1.1', value: unknown, status = 200): void {
    const text = JSON.stringify(value);
    res.statusCode = status;
    res.setHeader('Content-Type', `application/x-amz-json-${version}`);
    res.setHeader('x-amzn-RequestId', randomUUID());
    res.setHeader('x-amz-crc32', String(crc32(text)));
    res.setHeader('Server', 'Server');
    res.end(text);
  }

  private xml(res: ServerResponse, status: number, text: string): void {
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/xml');
    if (!res.hasHeader('x-amz-request-id')) res.setHeader('x-amzn-RequestId', randomUUID());
    res.end(text);
  }

  // ---- Glue -------------------------------------------------------------------------------------

  private glue(op: string, input: Record<string, unknown>): unknown {
    const jobName = typeof input.JobName === 'string' ? input.JobName : '';
    if (!this.glueJobs.has(jobName)) {
      throw new AwsError(400, 'EntityNotFoundException', `Job with name: ${jobName} not found`);
    }
    switch (op) {
      case 'StartJobRun': {
        const args = (
          typeof input.Arguments === 'object' && input.Arguments !== null ? input.Arguments : {}
        ) as Record<string, string>;
        const id = `jr_${createHash('sha256').update(randomUUID()).digest('hex')}`;
        this.jobRuns.set(id, {
          id,
          jobName,
          arguments: args,
          startedOn: Date.now(),
          state: 'RUNNING',
          pollsLeft: Number(args['--stepwise-polls'] ?? 1),
          outcome: args['--stepwise-outcome'] ?? 'SUCCEEDED',
        });
        return { JobRunId: id };
      }
      case 'GetJobRun': {
        const run = this.jobRuns.get(text(input.RunId));
        if (!run || run.jobName !== jobName) {
          throw new AwsError(400, 'EntityNotFoundException', `Job Run Id ${text(input.RunId)} not found`);
        }
        if (run.state === 'RUNNING' && run.pollsLeft-- <= 0) {
          run.state = run.outcome;
          run.completedOn = Date.now();
        }
        const seconds = (ms: number) => ms / 1000;
        const out: Record<string, unknown> = {
          Id: run.id,
          Attempt: 0,
          JobName: run.jobName,
          JobMode: 'SCRIPT',
          StartedOn: seconds(run.startedOn),
          LastModifiedOn: seconds(run.completedOn ?? run.startedOn),
          JobRunState: run.state,
          Arguments: run.arguments,
          PredecessorRuns: [],
          AllocatedCapacity: 10,
          ExecutionTime: run.completedOn ? Math.round((run.completedOn - run.startedOn) / 1000) : 0,
          Timeout: 2880,
          MaxCapacity: 10,
          WorkerType: 'G.1X',
          NumberOfWorkers: 10,
          GlueVersion: '4.0',
        };
        if (run.completedOn !== undefined) out.CompletedOn = seconds(run.completedOn);
        if (run.state === 'FAILED') out.ErrorMessage = 'An error occurred while running the job script.';
        return { JobRun: out };
      }
      case 'BatchStopJobRun': {
        const ids = Array.isArray(input.JobRunIds) ? input.JobRunIds.map(String) : [];
        const ok: unknown[] = [];
        const errors: unknown[] = [];
        for (const id of ids) {
          const run = this.jobRuns.get(id);
          if (run && run.state === 'RUNNING') {
            run.state = 'STOPPED';
            run.completedOn = Date.now();
            ok.push({ JobName: jobName, JobRunId: id });
          } else {
            errors.push({
              JobName: jobName,
              JobRunId: id,
              ErrorDetail: { ErrorCode: 'InvalidInputException', ErrorMessage: 'Job run cannot be stopped' },
            });
          }
        }
        return { SuccessfulSubmissions: ok, Errors: errors };
      }
      default:
        throw new AwsError(400, 'UnknownOperationException', `Unsupported operation ${op}`);
    }
  }

  // ---- Athena -----------------------------------------------------------------------------------

  private athena(op: string, input: Record<string, unknown>): unknown {
    switch (op) {
      case 'StartQueryExecution': {
        const query = typeof input.QueryString === 'string' ? input.QueryString : '';
        if (query === '') throw new AwsError(400, 'InvalidRequestException', 'QueryString is required');
        const id = randomUUID();
        const rc = input.ResultConfiguration as { OutputLocation?: unknown } | undefined;
        const polls = /--\s*polls:\s*(\d+)/.exec(query);
        this.queries.set(id, {
          id,
          query,
          workGroup: typeof input.WorkGroup === 'string' ? input.WorkGroup : 'primary',
          outputLocation: typeof rc?.OutputLocation === 'string' ? rc.OutputLocation : undefined,
          submitted: Date.now(),
          state: 'QUEUED',
          pollsLeft: polls ? Number(polls[1]) : 1,
          fails: query.includes('FAIL'),
        });
        return { QueryExecutionId: id };
      }
      case 'GetQueryExecution': {
        const q = this.queries.get(text(input.QueryExecutionId));
        if (!q) {
          throw new AwsError(
            400,
            'InvalidRequestException',
            `QueryExecution ${text(input.QueryExecutionId)} was not found`,
          );
        }
        if (q.state === 'QUEUED' || q.state === 'RUNNING') {
          if (q.pollsLeft-- <= 0) {
            q.state = q.fails ? 'FAILED' : 'SUCCEEDED';
            q.completed = Date.now();
          } else q.state = 'RUNNING';
        }
        const status: Record<string, unknown> = { State: q.state, SubmissionDateTime: q.submitted / 1000 };
        if (q.completed !== undefined) status.CompletionDateTime = q.completed / 1000;
        if (q.state === 'FAILED') {
          status.StateChangeReason = 'line 1:8: Column FAIL cannot be resolved';
          status.AthenaError = {
            ErrorCategory: 2,
            ErrorType: 1006,
            Retryable: false,
            ErrorMessage: 'Column FAIL cannot be resolved',
          };
        }
        const out: Record<string, unknown> = {
          QueryExecutionId: q.id,
          Query: q.query,
          StatementType: 'DML',
          ResultConfiguration: q.outputLocation
            ? { OutputLocation: `${q.outputLocation.replace(/\/$/, '')}/${q.id}.csv` }
            : {},
          QueryExecutionContext: {},
          Status: status,
          Statistics: {
            EngineExecutionTimeInMillis: 120,
            DataScannedInBytes: 0,
            TotalExecutionTimeInMillis: 180,
          },
          WorkGroup: q.workGroup,
          EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
        };
        return { QueryExecution: out };
      }
      case 'StopQueryExecution': {
        const q = this.queries.get(text(input.QueryExecutionId));
        if (!q) throw new AwsError(400, 'InvalidRequestException', 'QueryExecution was not found');
        if (q.state === 'QUEUED' || q.state === 'RUNNING') {
          q.state = 'CANCELLED';
          q.completed = Date.now();
        }
        return {};
      }
      // One column, `query`, and one row holding the query's text; only a SUCCEEDED query has results.
      case 'GetQueryResults': {
        const q = this.queries.get(text(input.QueryExecutionId));
        if (!q) throw new AwsError(400, 'InvalidRequestException', 'QueryExecution was not found');
        if (q.state !== 'SUCCEEDED') {
          throw new AwsError(
            400,
            'InvalidRequestException',
            `Query has not yet finished. Current state: ${q.state}`,
          );
        }
        return {
          UpdateCount: 0,
          ResultSet: {
            Rows: [{ Data: [{ VarCharValue: 'query' }] }, { Data: [{ VarCharValue: q.query }] }],
            ResultSetMetadata: {
              ColumnInfo: [{ Name: 'query', Label: 'query', Type: 'varchar', Nullable: 'UNKNOWN' }],
            },
          },
        };
      }
      default:
        throw new AwsError(400, 'UnknownOperationException', `Unsupported operation ${op}`);
    }
  }

  // ---- ECS ----------------------------------------------------------------------------------------

  private ecs(op: string, input: Record<string, unknown>): unknown {
    const clusterOf = (): string => {
      const c = text(input.cluster) || 'default';
      const name = c.startsWith('arn:') ? c.split('/').at(-1)! : c;
      if (!this.ecsClusters.has(name))
        throw new AwsError(400, 'ClusterNotFoundException', 'Cluster not found.');
      return `arn:aws:ecs:${this.region}:${this.account}:cluster/${name}`;
    };
    switch (op) {
      case 'RunTask': {
        const clusterArn = clusterOf();
        const def = text(input.taskDefinition);
        if (def === '')
          throw new AwsError(400, 'InvalidParameterException', 'taskDefinition can not be blank.');
        const family = (def.startsWith('arn:') ? def.split('/').at(-1)! : def).split(':')[0]!;
        const registered = this.ecsTaskDefinitions.get(family);
        if (!registered) {
          throw new AwsError(400, 'ClientException', 'TaskDefinition not found.');
        }
        const taskDefinitionArn = `arn:aws:ecs:${this.region}:${this.account}:task-definition/${family}:1`;
        if (!registered.placeable) {
          return { tasks: [], failures: [{ arn: taskDefinitionArn, reason: 'RESOURCE:MEMORY' }] };
        }
        const overrides = (input.overrides ?? {}) as { containerOverrides?: unknown };
        const containerOverrides = Array.isArray(overrides.containerOverrides)
          ? (overrides.containerOverrides as { name?: unknown; environment?: unknown }[])
          : [];
        const envOf = (name: string) => {
          const o = containerOverrides.find((c) => c.name === name);
          const env = Array.isArray(o?.environment)
            ? (o.environment as { name?: unknown; value?: unknown }[])
            : [];
          return (k: string) => {
            const v = env.find((e) => e.name === k)?.value;
            return typeof v === 'string' ? v : undefined;
          };
        };
        const id = randomUUID().replace(/-/g, '');
        const arn = `arn:aws:ecs:${this.region}:${this.account}:task/${clusterArn.split('/').at(-1)!}/${id}`;
        let polls = 1;
        const containers = registered.containers.map((name) => {
          const env = envOf(name);
          const code = env('STEPWISE_EXIT_CODE') ?? '0';
          polls = Math.max(polls, Number(env('STEPWISE_POLLS') ?? 1));
          return {
            name,
            arn: `arn:aws:ecs:${this.region}:${this.account}:container/${randomUUID()}`,
            lastStatus: 'PENDING',
            planned: code === 'none' ? undefined : Number(code),
          };
        });
        const task: EcsTask = {
          arn,
          clusterArn,
          taskDefinitionArn,
          family,
          startedBy: typeof input.startedBy === 'string' ? input.startedBy : undefined,
          overrides: input.overrides ?? { containerOverrides: [] },
          tags: input.tags ?? [],
          created: Date.now(),
          lastStatus: 'PROVISIONING',
          desiredStatus: 'RUNNING',
          pollsLeft: polls,
          containers,
        };
        this.ecsTasks.set(arn, task);
        return { tasks: [this.ecsTaskJson(task)], failures: [] };
      }
      case 'DescribeTasks': {
        clusterOf();
        const arns = Array.isArray(input.tasks) ? input.tasks.map(String) : [];
        const tasks: unknown[] = [];
        const failures: unknown[] = [];
        for (const a of arns) {
          const t = this.ecsTasks.get(a);
          if (!t) {
            failures.push({ arn: a, reason: 'MISSING' });
            continue;
          }
          if (t.lastStatus !== 'STOPPED') {
            if (t.pollsLeft-- <= 0) this.stopEcsTask(t);
            else {
              t.lastStatus = 'RUNNING';
              for (const c of t.containers) c.lastStatus = 'RUNNING';
            }
          }
          tasks.push(this.ecsTaskJson(t));
        }
        return { tasks, failures };
      }
      case 'StopTask': {
        clusterOf();
        const t = this.ecsTasks.get(text(input.task));
        if (!t) throw new AwsError(400, 'InvalidParameterException', 'The referenced task was not found.');
        if (t.lastStatus !== 'STOPPED') {
          // SIGTERM: containers that ran exit with 143.
          for (const c of t.containers) if (c.planned !== undefined) c.planned = 143;
          this.stopEcsTask(t, 'UserInitiated', text(input.reason) || 'Task stopped by user');
        }
        return { task: this.ecsTaskJson(t) };
      }
      default:
        throw new AwsError(400, 'InvalidAction', `The stand-in does not implement ${op}`);
    }
  }

  private stopEcsTask(t: EcsTask, stopCode?: string, reason?: string): void {
    const ran = t.containers.every((c) => c.planned !== undefined);
    t.lastStatus = 'STOPPED';
    t.desiredStatus = 'STOPPED';
    t.stopped = Date.now();
    t.stopCode = stopCode ?? (ran ? 'EssentialContainerExited' : 'TaskFailedToStart');
    t.stoppedReason =
      reason ?? (ran ? 'Essential container in task exited' : 'CannotPullContainerError: image not found');
    for (const c of t.containers) {
      c.lastStatus = 'STOPPED';
      if (c.planned !== undefined) c.exitCode = c.planned;
    }
  }

  private ecsTaskJson(t: EcsTask): unknown {
    const seconds = (ms: number) => ms / 1000;
    const out: Record<string, unknown> = {
      taskArn: t.arn,
      clusterArn: t.clusterArn,
      taskDefinitionArn: t.taskDefinitionArn,
      group: `family:${t.family}`,
      launchType: 'FARGATE',
      cpu: '256',
      memory: '512',
      lastStatus: t.lastStatus,
      desiredStatus: t.desiredStatus,
      createdAt: seconds(t.created),
      overrides: t.overrides,
      tags: t.tags,
      attachments: [],
      version: t.lastStatus === 'STOPPED' ? 5 : 1,
      containers: t.containers.map((c) => ({
        containerArn: c.arn,
        taskArn: t.arn,
        name: c.name,
        image: 'busybox',
        lastStatus: c.lastStatus,
        networkBindings: [],
        ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      })),
    };
    if (t.startedBy !== undefined) out.startedBy = t.startedBy;
    if (t.stopped !== undefined) {
      out.stoppedAt = seconds(t.stopped);
      out.stopCode = t.stopCode;
      out.stoppedReason = t.stoppedReason;
    }
    return out;
  }

  // ---- Batch --------------------------------------------------------------------------------------

  private batch(op: string, input: Record<string, unknown>): unknown {
    switch (op) {
      case 'SubmitJob': {
        const name = text(input.jobName);
        if (name === '') throw new AwsError(400, 'ClientException', 'jobName is required');
        const queue = text(input.jobQueue);
        const queueName = queue.startsWith('arn:') ? queue.split('/').at(-1)! : queue;
        if (!this.batchJobQueues.has(queueName)) {
          throw new AwsError(400, 'ClientException', `JobQueue ${queue} not found.`);
        }
        const overrides = (input.containerOverrides ?? {}) as { environment?: unknown };
        const environment = (Array.isArray(overrides.environment) ? overrides.environment : []).map(
          (e: { name?: unknown; value?: unknown }) => ({ name: text(e.name), value: text(e.value) }),
        );
        const env = (k: string) => environment.find((e) => e.name === k)?.value;
        const id = randomUUID();
        const job: BatchJob = {
          id,
          arn: `arn:aws:batch:${this.region}:${this.account}:job/${id}`,
          name,
          queueArn: `arn:aws:batch:${this.region}:${this.account}:job-queue/${queueName}`,
          definition: text(input.jobDefinition),
          parameters: input.parameters ?? {},
          tags: input.tags ?? {},
          environment,
          created: Date.now(),
          status: 'SUBMITTED',
          pollsLeft: Number(env('STEPWISE_POLLS') ?? 1),
          outcome: env('STEPWISE_OUTCOME') ?? 'SUCCEEDED',
        };
        this.batchJobs.set(id, job);
        return { jobArn: job.arn, jobName: job.name, jobId: job.id };
      }
      case 'DescribeJobs': {
        const ids = Array.isArray(input.jobs) ? input.jobs.map(String) : [];
        const jobs: unknown[] = [];
        for (const id of ids) {
          const job = this.batchJobs.get(id);
          if (!job) continue;
          if (job.status !== 'SUCCEEDED' && job.status !== 'FAILED') {
            if (job.pollsLeft-- <= 0) {
              this.endBatchJob(job, job.outcome);
            } else if (job.status === 'SUBMITTED') {
              job.status = 'RUNNING';
              job.started = Date.now();
            }
          }
          jobs.push(this.batchJobJson(job));
        }
        return { jobs };
      }
      case 'TerminateJob': {
        const job = this.batchJobs.get(text(input.jobId));
        if (!job) throw new AwsError(400, 'ClientException', `Job ${text(input.jobId)} not found.`);
        const reason = text(input.reason);
        if (reason === '') throw new AwsError(400, 'ClientException', 'reason is required');
        if (job.status !== 'SUCCEEDED' && job.status !== 'FAILED') this.endBatchJob(job, 'FAILED', reason);
        return {};
      }
      default:
        throw new AwsError(400, 'ClientException', `The stand-in does not implement ${op}`);
    }
  }

  private endBatchJob(job: BatchJob, status: string, reason?: string): void {
    job.status = status;
    job.started ??= Date.now();
    job.stopped = Date.now();
    job.statusReason = reason ?? 'Essential container in task exited';
  }

  private batchJobJson(job: BatchJob): unknown {
    const ended = job.status === 'SUCCEEDED' || job.status === 'FAILED';
    const exitCode = job.status === 'SUCCEEDED' ? 0 : 1;
    const out: Record<string, unknown> = {
      jobArn: job.arn,
      jobName: job.name,
      jobId: job.id,
      jobQueue: job.queueArn,
      status: job.status,
      attempts: [],
      createdAt: job.created,
      dependsOn: [],
      jobDefinition: job.definition,
      parameters: job.parameters,
      tags: job.tags,
      container: {
        image: 'busybox',
        command: ['echo', 'hello'],
        environment: job.environment,
        ...(ended ? { exitCode, logStreamName: `${job.name}/default/${job.id}` } : {}),
      },
      platformCapabilities: ['FARGATE'],
      propagateTags: false,
    };
    if (job.started !== undefined) out.startedAt = job.started;
    if (job.stopped !== undefined) out.stoppedAt = job.stopped;
    if (job.statusReason !== undefined) out.statusReason = job.statusReason;
    return out;
  }

  // ---- CodeBuild ----------------------------------------------------------------------------------

  private codeBuild(op: string, input: Record<string, unknown>): unknown {
    switch (op) {
      case 'StartBuild': {
        const project = text(input.projectName);
        if (!this.codeBuildProjects.has(project)) {
          throw new AwsError(
            400,
            'ResourceNotFoundException',
            `Project cannot be found: arn:aws:codebuild:${this.region}:${this.account}:project/${project}`,
          );
        }
        const environment = (
          Array.isArray(input.environmentVariablesOverride) ? input.environmentVariablesOverride : []
        ).map((e: { name?: unknown; value?: unknown; type?: unknown }) => ({
          name: text(e.name),
          value: text(e.value),
          type: text(e.type) || 'PLAINTEXT',
        }));
        const env = (k: string) => environment.find((e) => e.name === k)?.value;
        const id = `${project}:${randomUUID()}`;
        const build: CodeBuildBuild = {
          id,
          arn: `arn:aws:codebuild:${this.region}:${this.account}:build/${id}`,
          project,
          number: [...this.builds.values()].filter((b) => b.project === project).length + 1,
          environment,
          sourceVersion: typeof input.sourceVersion === 'string' ? input.sourceVersion : undefined,
          started: Date.now(),
          status: 'IN_PROGRESS',
          pollsLeft: Number(env('STEPWISE_POLLS') ?? 1),
          outcome: env('STEPWISE_OUTCOME') ?? 'SUCCEEDED',
        };
        this.builds.set(id, build);
        return { build: this.buildJson(build) };
      }
      case 'BatchGetBuilds': {
        const ids = Array.isArray(input.ids) ? input.ids.map(String) : [];
        const builds: unknown[] = [];
        const notFound: string[] = [];
        for (const id of ids) {
          const b = this.builds.get(id);
          if (!b) {
            notFound.push(id);
            continue;
          }
          if (b.status === 'IN_PROGRESS' && b.pollsLeft-- <= 0) {
            b.status = b.outcome;
            b.ended = Date.now();
          }
          builds.push(this.buildJson(b));
        }
        return { builds, buildsNotFound: notFound };
      }
      // A build still IN_PROGRESS is not deleted (BUILD_IN_PROGRESS), as in CodeBuild.
      case 'BatchDeleteBuilds': {
        const ids = Array.isArray(input.ids) ? input.ids.map(String) : [];
        const buildsDeleted: string[] = [];
        const buildsNotDeleted: { id: string; statusCode: string }[] = [];
        for (const id of ids) {
          const b = this.builds.get(id);
          if (b?.status === 'IN_PROGRESS') buildsNotDeleted.push({ id, statusCode: 'BUILD_IN_PROGRESS' });
          else if (b) {
            this.builds.delete(id);
            buildsDeleted.push(b.arn);
          } else buildsNotDeleted.push({ id, statusCode: 'BUILD_NOT_FOUND' });
        }
        return { buildsDeleted, buildsNotDeleted };
      }
      // Reports added with `codeBuildReports.set(arn, report)` (camelCase, as on the wire).
      case 'BatchGetReports': {
        const arns = Array.isArray(input.reportArns) ? input.reportArns.map(String) : [];
        if (arns.length === 0) {
          throw new AwsError(400, 'InvalidInputException', 'reportArns must contain at least 1 element');
        }
        return {
          reports: arns.flatMap((a) => this.codeBuildReports.get(a) ?? []),
          reportsNotFound: arns.filter((a) => !this.codeBuildReports.has(a)),
        };
      }
      case 'StopBuild': {
        const b = this.builds.get(text(input.id));
        if (!b) throw new AwsError(400, 'ResourceNotFoundException', `Build ${text(input.id)} not found`);
        if (b.status === 'IN_PROGRESS') {
          b.status = 'STOPPED';
          b.ended = Date.now();
        }
        return { build: this.buildJson(b) };
      }
      default:
        throw new AwsError(400, 'InvalidInputException', `The stand-in does not implement ${op}`);
    }
  }

  private buildJson(b: CodeBuildBuild): unknown {
    const seconds = (ms: number) => ms / 1000;
    const out: Record<string, unknown> = {
      id: b.id,
      arn: b.arn,
      buildNumber: b.number,
      startTime: seconds(b.started),
      currentPhase: b.status === 'IN_PROGRESS' ? 'BUILD' : 'COMPLETED',
      buildStatus: b.status,
      projectName: b.project,
      phases: [
        {
          phaseType: 'SUBMITTED',
          phaseStatus: 'SUCCEEDED',
          startTime: seconds(b.started),
          endTime: seconds(b.started),
          durationInSeconds: 0,
        },
      ],
      source: { type: 'NO_SOURCE', buildspec: 'version: 0.2' },
      environment: {
        type: 'LINUX_CONTAINER',
        image: 'aws/codebuild/standard:7.0',
        computeType: 'BUILD_GENERAL1_SMALL',
        environmentVariables: b.environment,
      },
      timeoutInMinutes: 60,
      buildComplete: b.status !== 'IN_PROGRESS',
      initiator: 'stepwise',
    };
    if (b.sourceVersion !== undefined) out.sourceVersion = b.sourceVersion;
    if (b.ended !== undefined) out.endTime = seconds(b.ended);
    return out;
  }

  // ---- EMR --------------------------------------------------------------------------------------

  private emr(op: string, input: Record<string, unknown>): unknown {
    const seconds = (ms: number) => ms / 1000;
    const cluster = (id: string): EmrCluster => {
      const c = this.emrClusters.get(id);
      if (!c) throw new AwsError(400, 'InvalidRequestException', `Cluster id '${id}' is not valid.`);
      return c;
    };
    switch (op) {
      case 'RunJobFlow': {
        const instances = input.Instances;
        if (typeof instances !== 'object' || instances === null) {
          throw new AwsError(
            400,
            'ValidationException',
            "1 validation error detected: Value null at 'instances' failed to satisfy constraint: Member must not be null",
          );
        }
        const tags = (Array.isArray(input.Tags) ? input.Tags : []).map(
          (t: { Key?: unknown; Value?: unknown }) => ({ Key: text(t.Key), Value: text(t.Value) }),
        );
        const tag = (k: string) => tags.find((t) => t.Key === k)?.Value;
        const id = `j-${randomUUID().replace(/-/g, '').slice(0, 13).toUpperCase()}`;
        const c: EmrCluster = {
          id,
          arn: `arn:aws:elasticmapreduce:${this.region}:${this.account}:cluster/${id}`,
          name: text(input.Name),
          releaseLabel: text(input.ReleaseLabel),
          tags,
          created: Date.now(),
          state: 'STARTING',
          pollsLeft: Number(tag('STEPWISE_POLLS') ?? 1),
          outcome: tag('STEPWISE_OUTCOME') ?? 'WAITING',
          instances: instances as Record<string, unknown>,
        };
        this.emrClusters.set(id, c);
        return { JobFlowId: id, ClusterArn: c.arn };
      }
      case 'DescribeCluster': {
        const c = cluster(text(input.ClusterId));
        if (c.state === 'STARTING' && c.pollsLeft-- <= 0) {
          c.state = c.outcome;
          if (c.state === 'WAITING') c.ready = Date.now();
          else c.ended = Date.now();
        }
        const status: Record<string, unknown> = {
          State: c.state,
          StateChangeReason:
            c.state === 'TERMINATED_WITH_ERRORS'
              ? { Code: 'VALIDATION_ERROR', Message: 'The requested instance type is not supported.' }
              : c.state === 'WAITING'
                ? { Message: 'Cluster ready to run steps.' }
                : {},
          Timeline: {
            CreationDateTime: seconds(c.created),
            ...(c.ready !== undefined ? { ReadyDateTime: seconds(c.ready) } : {}),
            ...(c.ended !== undefined ? { EndDateTime: seconds(c.ended) } : {}),
          },
        };
        return {
          Cluster: {
            Id: c.id,
            Name: c.name,
            ClusterArn: c.arn,
            Status: status,
            ReleaseLabel: c.releaseLabel,
            Tags: c.tags,
            AutoTerminate: false,
            TerminationProtected: c.terminationProtected ?? false,
            VisibleToAllUsers: true,
            NormalizedInstanceHours: 0,
            StepConcurrencyLevel: 1,
          },
        };
      }
      case 'AddJobFlowSteps': {
        const c = cluster(text(input.JobFlowId));
        if (!['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING'].includes(c.state)) {
          throw new AwsError(
            400,
            'ValidationException',
            'A job flow that is shutting down, terminated, or finished may not be modified.',
          );
        }
        const steps = Array.isArray(input.Steps) ? (input.Steps as Record<string, unknown>[]) : [];
        const ids: string[] = [];
        for (const step of steps) {
          const jar = (step.HadoopJarStep ?? {}) as Record<string, unknown>;
          const properties: Record<string, string> = {};
          for (const p of Array.isArray(jar.Properties)
            ? (jar.Properties as Record<string, unknown>[])
            : []) {
            properties[text(p.Key)] = text(p.Value);
          }
          const id = `s-${randomUUID().replace(/-/g, '').slice(0, 13).toUpperCase()}`;
          this.emrSteps.set(id, {
            id,
            clusterId: c.id,
            name: text(step.Name),
            actionOnFailure: text(step.ActionOnFailure) || 'CONTINUE',
            jar: text(jar.Jar),
            args: Array.isArray(jar.Args) ? jar.Args.map(String) : [],
            properties,
            created: Date.now(),
            state: 'PENDING',
            pollsLeft: Number(properties.STEPWISE_POLLS ?? 1),
            outcome: properties.STEPWISE_OUTCOME ?? 'COMPLETED',
          });
          ids.push(id);
        }
        return { StepIds: ids };
      }
      case 'DescribeStep': {
        const step = this.emrSteps.get(text(input.StepId));
        if (!step || step.clusterId !== text(input.ClusterId)) {
          throw new AwsError(400, 'InvalidRequestException', `Step id '${text(input.StepId)}' is not valid.`);
        }
        if (step.state === 'PENDING') {
          step.state = 'RUNNING';
          step.started = Date.now();
        } else if (step.state === 'RUNNING' && step.pollsLeft-- <= 0) {
          step.state = step.outcome;
          step.ended = Date.now();
        }
        const status: Record<string, unknown> = {
          State: step.state,
          StateChangeReason: {},
          Timeline: {
            CreationDateTime: seconds(step.created),
            ...(step.started !== undefined ? { StartDateTime: seconds(step.started) } : {}),
            ...(step.ended !== undefined ? { EndDateTime: seconds(step.ended) } : {}),
          },
        };
        if (step.state === 'FAILED') {
          status.FailureDetails = {
            Reason: 'Unknown Error.',
            Message: 'Step failed with exitCode 1.',
            LogFile: `s3://logs/${step.clusterId}/steps/${step.id}/stderr.gz`,
          };
        }
        return {
          Step: {
            Id: step.id,
            Name: step.name,
            Config: { Jar: step.jar, Properties: step.properties, Args: step.args },
            ActionOnFailure: step.actionOnFailure,
            Status: status,
          },
        };
      }
      case 'CancelSteps': {
        const ids = Array.isArray(input.StepIds) ? input.StepIds.map(String) : [];
        return {
          CancelStepsInfoList: ids.map((id) => {
            const step = this.emrSteps.get(id);
            if (!step || !['PENDING', 'RUNNING'].includes(step.state)) {
              return { StepId: id, Status: 'FAILED', Reason: 'Step is not pending or running.' };
            }
            step.state = 'CANCELLED';
            step.ended = Date.now();
            return { StepId: id, Status: 'SUBMITTED', Reason: '' };
          }),
        };
      }
      default:
        throw new AwsError(400, 'UnknownOperationException', `The stand-in does not implement ${op}`);
    }
  }

  // ---- SageMaker --------------------------------------------------------------------------------

  private sageMaker(op: string, input: Record<string, unknown>): unknown {
    const hosting = this.sageMakerHosting(op, input);
    if (hosting !== undefined) return hosting;
    const m = /^(Create|Describe|Stop)(Training|Transform|Processing)Job$/.exec(op);
    if (!m) throw new AwsError(400, 'UnknownOperationException', `The stand-in does not implement ${op}`);
    const verb = m[1]!;
    const kind = m[2] as SageMakerJobKind;
    const name = text(input[`${kind}JobName`]);
    const key = `${kind}:${name}`;
    const seconds = (ms: number) => ms / 1000;
    if (verb === 'Create') {
      const existing = this.sageMakerJobs.get(key);
      if (existing) {
        throw new AwsError(
          400,
          'ResourceInUse',
          `${kind} job names must be unique within an AWS account and region, and a ${kind.toLowerCase()} job with this name already exists (${existing.arn})`,
        );
      }
      const controls = (kind === 'Training' ? input.HyperParameters : input.Environment) as
        Record<string, string> | undefined;
      // SageMaker writes resource names in lower case in its ARNs.
      const arn = `arn:aws:sagemaker:${this.region}:${this.account}:${kind.toLowerCase()}-job/${name.toLowerCase()}`;
      this.sageMakerJobs.set(key, {
        kind,
        name,
        arn,
        request: input,
        created: Date.now(),
        status: 'InProgress',
        pollsLeft: Number(controls?.STEPWISE_POLLS ?? 1),
        outcome: controls?.STEPWISE_OUTCOME ?? 'Completed',
      });
      return { [`${kind}JobArn`]: arn };
    }
    const job = this.sageMakerJobs.get(key);
    if (!job)
      throw new AwsError(400, 'ValidationException', `Could not find requested job with name ${name}`);
    if (verb === 'Stop') {
      if (job.status !== 'InProgress') {
        throw new AwsError(400, 'ValidationException', `The job ${name} is not in progress.`);
      }
      job.status = 'Stopping';
      return {};
    }
    if (job.status === 'Stopping') {
      job.status = 'Stopped';
      job.ended = Date.now();
    } else if (job.status === 'InProgress') {
      job.started ??= Date.now();
      if (job.pollsLeft-- <= 0) {
        job.status = job.outcome;
        job.ended = Date.now();
      }
    }
    const { Tags: _tags, ...request } = job.request;
    const out: Record<string, unknown> = {
      ...request,
      [`${kind}JobArn`]: job.arn,
      [`${kind}JobStatus`]: job.status,
      CreationTime: seconds(job.created),
      LastModifiedTime: seconds(job.ended ?? job.started ?? job.created),
    };
    if (job.started !== undefined) out[`${kind}StartTime`] = seconds(job.started);
    if (job.ended !== undefined) out[`${kind}EndTime`] = seconds(job.ended);
    if (job.status === 'Failed') out.FailureReason = 'AlgorithmError: the job exited with code 1';
    if (kind === 'Training') {
      out.SecondaryStatus = job.status === 'InProgress' ? 'Training' : job.status;
      const output = request.OutputDataConfig as { S3OutputPath?: unknown } | undefined;
      if (job.status === 'Completed') {
        out.ModelArtifacts = {
          S3ModelArtifacts: `${text(output?.S3OutputPath)}/${name}/output/model.tar.gz`,
        };
      }
    }
    return out;
  }

  /**
   * Models, endpoint configurations and endpoints (the optimized integration's createModel,
   * createEndpointConfig, createEndpoint, updateEndpoint): names are unique, and each refers to
   * the previous kind by name. Undefined for other operations.
   */
  private sageMakerHosting(op: string, input: Record<string, unknown>): unknown {
    const arn = (kind: string, name: string) =>
      `arn:aws:sagemaker:${this.region}:${this.account}:${kind}/${name.toLowerCase()}`;
    const taken = (what: string, name: string) =>
      new AwsError(
        400,
        'ValidationException',
        `Cannot create already existing ${what} "${arn(what.replace(' ', '-'), name)}".`,
      );
    switch (op) {
      case 'CreateModel': {
        const name = text(input.ModelName);
        if (this.sageMakerModels.has(name)) throw taken('model', name);
        this.sageMakerModels.set(name, input);
        return { ModelArn: arn('model', name) };
      }
      case 'CreateEndpointConfig': {
        const name = text(input.EndpointConfigName);
        if (this.sageMakerEndpointConfigs.has(name)) throw taken('endpoint config', name);
        const variants = Array.isArray(input.ProductionVariants) ? input.ProductionVariants : [];
        for (const v of variants as { ModelName?: unknown }[]) {
          if (!this.sageMakerModels.has(text(v.ModelName)))
            throw new AwsError(
              400,
              'ValidationException',
              `Could not find model "${arn('model', text(v.ModelName))}".`,
            );
        }
        this.sageMakerEndpointConfigs.set(name, input);
        return { EndpointConfigArn: arn('endpoint-config', name) };
      }
      case 'CreateEndpoint':
      case 'UpdateEndpoint': {
        const name = text(input.EndpointName);
        const config = text(input.EndpointConfigName);
        if (op === 'CreateEndpoint' && this.sageMakerEndpoints.has(name)) throw taken('endpoint', name);
        if (op === 'UpdateEndpoint' && !this.sageMakerEndpoints.has(name))
          throw new AwsError(
            400,
            'ValidationException',
            `Could not find endpoint "${arn('endpoint', name)}".`,
          );
        if (!this.sageMakerEndpointConfigs.has(config))
          throw new AwsError(
            400,
            'ValidationException',
            `Could not find endpoint configuration "${arn('endpoint-config', config)}".`,
          );
        this.sageMakerEndpoints.set(name, input);
        return { EndpointArn: arn('endpoint', name) };
      }
      default:
        return undefined;
    }
  }

  // ---- DynamoDB ---------------------------------------------------------------------------------

  private dynamodb(op: string, input: Record<string, unknown>): unknown {
    switch (op) {
      case 'CreateTable': {
        const name = this.tableName(input, []);
        if (this.tables.has(name))
          throw new AwsError(400, 'ResourceInUseException', `Table already exists: ${name}`);
        const schema = Array.isArray(input.KeySchema) ? (input.KeySchema as { AttributeName: string }[]) : [];
        this.createTable(
          name,
          schema.map((k) => k.AttributeName),
        );
        return { TableDescription: this.describe(this.tables.get(name)!, 'ACTIVE') };
      }
      case 'DescribeTable':
        return { Table: this.describe(this.table(this.tableName(input, [])), 'ACTIVE') };
      case 'DeleteTable': {
        const t = this.table(this.tableName(input, []));
        this.tables.delete(t.name);
        return { TableDescription: this.describe(t, 'DELETING') };
      }
      case 'ListTables':
        return { TableNames: [...this.tables.keys()].sort() };
      case 'PutItem': {
        const name = this.tableName(input, [['item', input.Item]]);
        const t = this.table(name);
        const item = input.Item as Item;
        const k = this.keyOf(t, item);
        const old = t.items.get(k);
        this.check(input, old);
        t.items.set(k, structuredClone(item));
        return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
      }
      case 'GetItem': {
        const t = this.table(this.tableName(input, [['key', input.Key]]));
        const item = t.items.get(this.keyOf(t, input.Key as Item, true));
        return item ? { Item: item } : {};
      }
      case 'DeleteItem': {
        const t = this.table(this.tableName(input, [['key', input.Key]]));
        const k = this.keyOf(t, input.Key as Item, true);
        const old = t.items.get(k);
        this.check(input, old);
        t.items.delete(k);
        return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
      }
      case 'UpdateItem': {
        const t = this.table(this.tableName(input, [['key', input.Key]]));
        const key = input.Key as Item;
        const k = this.keyOf(t, key, true);
        const old = t.items.get(k);
        this.check(input, old);
        const next: Item = structuredClone(old ?? key);
        const changed = this.update(next, input);
        t.items.set(k, next);
        const pick = (from: Item | undefined) => {
          const out: Item = {};
          for (const n of changed) if (from?.[n] !== undefined) out[n] = from[n]!;
          return out;
        };
        switch (input.ReturnValues) {
          case 'ALL_NEW':
            return { Attributes: next };
          case 'ALL_OLD':
            return old ? { Attributes: old } : {};
          case 'UPDATED_NEW':
            return { Attributes: pick(next) };
          case 'UPDATED_OLD':
            return old ? { Attributes: pick(old) } : {};
          default:
            return {};
        }
      }
      default:
        throw new AwsError(400, 'UnknownOperationException', `The stand-in does not implement ${op}`);
    }
  }

  private describe(t: Table, status: string): Record<string, unknown> {
    return {
      TableName: t.name,
      TableStatus: status,
      TableArn: `arn:aws:dynamodb:${this.region}:${this.account}:table/${t.name}`,
      KeySchema: t.keys.map((k, i) => ({ AttributeName: k, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      ItemCount: t.items.size,
      CreationDateTime: t.created.getTime() / 1000,
    };
  }

  /** DynamoDB's request validation: null members first, then the table name's pattern. */
  private tableName(input: Record<string, unknown>, required: [string, unknown][]): string {
    const errors: string[] = [];
    const name = input.TableName;
    if (name === undefined || name === null) {
      errors.push("Value null at 'tableName' failed to satisfy constraint: Member must not be null");
    } else if (typeof name !== 'string' || !TABLE_NAME.test(name)) {
      errors.push(
        `Value '${typeof name === 'string' ? name : JSON.stringify(name)}' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+`,
      );
    } else if (name.length < 3 || name.length > 255) {
      errors.push(
        `Value '${name}' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3`,
      );
    }
    for (const [member, value] of required) {
      if (value === undefined || value === null) {
        errors.push(`Value null at '${member}' failed to satisfy constraint: Member must not be null`);
      }
    }
    if (errors.length > 0) {
      const n = errors.length;
      throw new AwsError(
        400,
        'ValidationException',
        `${n} validation error${n === 1 ? '' : 's'} detected: ${errors.join('; ')}`,
      );
    }
    return name as string;
  }

  private table(name: string): Table {
    const t = this.tables.get(name);
    if (!t) throw new AwsError(400, 'ResourceNotFoundException', 'Requested resource not found');
    return t;
  }

  private keyOf(t: Table, item: Item, exact = false): string {
    if (exact && Object.keys(item).length !== t.keys.length) {
      throw new AwsError(400, 'ValidationException', 'The provided key element does not match the schema');
    }
    const parts = t.keys.map((k) => item[k]);
    if (parts.some((p) => p === undefined)) {
      throw new AwsError(
        400,
        'ValidationException',
        exact
          ? 'The provided key element does not match the schema'
          : `One or more parameter values were invalid: Missing the key ${t.keys.find((k) => item[k] === undefined)} in the item`,
      );
    }
    return JSON.stringify(parts);
  }

  /** `ConditionExpression`: attribute_exists/attribute_not_exists/=/<> joined by AND. */
  private check(input: Record<string, unknown>, current: Item | undefined): void {
    const expr = input.ConditionExpression;
    if (typeof expr !== 'string') return;
    for (const clause of expr.split(/\s+AND\s+/i)) {
      const c = clause.trim();
      let ok: boolean;
      let m: RegExpExecArray | null;
      if ((m = /^attribute_(not_)?exists\s*\(\s*([^)\s]+)\s*\)$/i.exec(c))) {
        const present = current?.[this.name(m[2]!, input)] !== undefined;
        ok = m[1] ? !present : present;
      } else if ((m = /^(\S+)\s*(=|<>)\s*(:\w+)$/.exec(c))) {
        const a = JSON.stringify(current?.[this.name(m[1]!, input)]);
        const b = JSON.stringify(this.value(m[3]!, input));
        ok = m[2] === '=' ? a === b : a !== b;
      } else {
        throw new AwsError(400, 'ValidationException', `The stand-in cannot evaluate the condition '${c}'`);
      }
      if (!ok) throw new AwsError(400, 'ConditionalCheckFailedException', 'The conditional request failed');
    }
  }

  /** `SET a = :v, b = c + :n` and `REMOVE a, b` on top-level attributes; returns the names changed. */
  private update(item: Item, input: Record<string, unknown>): string[] {
    const expr = typeof input.UpdateExpression === 'string' ? input.UpdateExpression : '';
    const changed: string[] = [];
    const sections = expr.split(/\b(SET|REMOVE)\b/i).slice(1);
    if (expr.trim() !== '' && sections.length === 0) {
      throw new AwsError(400, 'ValidationException', `The stand-in cannot evaluate the update '${expr}'`);
    }
    for (let i = 0; i < sections.length; i += 2) {
      const keyword = sections[i]!.toUpperCase();
      for (const action of (sections[i + 1] ?? '').split(',')) {
        const a = action.trim();
        if (a === '') continue;
        if (keyword === 'REMOVE') {
          const n = this.name(a, input);
          delete item[n];
          changed.push(n);
          continue;
        }
        const m = /^(\S+?)\s*=\s*(.+)$/.exec(a);
        if (!m) throw new AwsError(400, 'ValidationException', `Invalid UpdateExpression: ${a}`);
        const n = this.name(m[1]!, input);
        item[n] = this.operand(m[2]!.trim(), item, input);
        changed.push(n);
      }
    }
    return changed;
  }

  private operand(text: string, item: Item, input: Record<string, unknown>): AttributeValue {
    const m = /^(\S+)\s*([+-])\s*(\S+)$/.exec(text);
    if (m) {
      const a = this.operand(m[1]!, item, input);
      const b = this.operand(m[3]!, item, input);
      if (typeof a.N !== 'string' || typeof b.N !== 'string') {
        throw new AwsError(
          400,
          'ValidationException',
          'An operand in the update expression has an incorrect data type',
        );
      }
      return { N: String(m[2] === '+' ? Number(a.N) + Number(b.N) : Number(a.N) - Number(b.N)) };
    }
    if (text.startsWith(':')) return this.value(text, input);
    const v = item[this.name(text, input)];
    if (v === undefined) {
      throw new AwsError(
        400,
        'ValidationException',
        'The provided expression refers to an attribute that does not exist in the item',
      );
    }
    return v;
  }

  private name(token: string, input: Record<string, unknown>): string {
    if (!token.startsWith('#')) return token;
    const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
    const n = names[token];
    if (n === undefined) {
      throw new AwsError(
        400,
        'ValidationException',
        `Value provided in ExpressionAttributeNames unused in expressions: keys: {${token}}`,
      );
    }
    return n;
  }

  private value(token: string, input: Record<string, unknown>): AttributeValue {
    const values = (input.ExpressionAttributeValues ?? {}) as Record<string, AttributeValue>;
    const v = values[token];
    if (v === undefined) {
      throw new AwsError(
        400,
        'ValidationException',
        `Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: ${token}`,
      );
    }
    return v;
  }

  // ---- SNS ----------------------------------------------------------------------------------------

  // ---- STS (query protocol, XML answers) -----------------------------------------------------

  private assumeRole(form: URLSearchParams): string {
    const roleArn = form.get('RoleArn') ?? '';
    if (!this.assumableRoles.has(roleArn)) {
      throw new AwsError(
        403,
        'AccessDenied',
        `User: arn:aws:iam::${this.account}:user/stepwise-test is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
    }
    const keyId = `ASIA${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}`;
    this.issuedKeys.set(keyId, roleArn);
    const session = form.get('RoleSessionName') ?? '';
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${keyId}</AccessKeyId><SecretAccessKey>secret-${keyId}</SecretAccessKey><SessionToken>token-${keyId}</SessionToken><Expiration>${expires}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROA:${esc(session)}</AssumedRoleId><Arn>${esc(roleArn)}/${esc(session)}</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`;
  }

  private sns(op: string, form: URLSearchParams): string {
    const wrap = (inner: string) =>
      `<${op}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><${op}Result>${inner}</${op}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${op}Response>`;
    switch (op) {
      case 'CreateTopic': {
        const name = form.get('Name') ?? '';
        if (!/^[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(name)) {
          throw new AwsError(400, 'InvalidParameter', 'Invalid parameter: Topic Name');
        }
        return wrap(`<TopicArn>${esc(this.createTopic(name))}</TopicArn>`);
      }
      case 'Publish': {
        const arn = form.get('TopicArn') ?? form.get('TargetArn');
        const message = form.get('Message');
        if (message === null)
          throw new AwsError(
            400,
            'ValidationError',
            "1 validation error detected: Value null at 'message' failed to satisfy constraint: Member must not be null",
          );
        const topic = arn === null ? undefined : this.topics.get(arn);
        if (!topic) throw new AwsError(404, 'NotFound', 'Topic does not exist');
        const group = form.get('MessageGroupId');
        if (topic.fifo && group === null) {
          throw new AwsError(
            400,
            'InvalidParameter',
            'Invalid parameter: The MessageGroupId parameter is required for FIFO topics',
          );
        }
        const id = randomUUID();
        topic.messages.push(Object.fromEntries(form));
        let inner = `<MessageId>${id}</MessageId>`;
        if (topic.fifo) inner += `<SequenceNumber>${String(this.sequence++)}</SequenceNumber>`;
        return wrap(inner);
      }
      default:
        throw new AwsError(400, 'InvalidAction', `The stand-in does not implement ${op}`);
    }
  }

  // ---- S3 -------------------------------------------------------------------------------------------

  private s3(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const [bucketName, ...rest] = url.pathname.slice(1).split('/');
    const key = decodeURIComponent(rest.join('/'));
    const method = req.method ?? 'GET';
    const rid = () => {
      res.setHeader('x-amz-request-id', randomUUID());
      res.setHeader('x-amz-id-2', Buffer.from(randomUUID()).toString('base64'));
    };
    if (!bucketName) {
      rid();
      const list = [...this.buckets.keys()]
        .map(
          (b) =>
            `<Bucket><Name>${esc(b)}</Name><CreationDate>${new Date().toISOString()}</CreationDate></Bucket>`,
        )
        .join('');
      return this.xml(
        res,
        200,
        `<ListAllMyBucketsResult><Buckets>${list}</Buckets></ListAllMyBucketsResult>`,
      );
    }
    const name = decodeURIComponent(bucketName);
    if (method === 'PUT' && key === '') {
      this.createBucket(name);
      rid();
      res.setHeader('Location', `/${name}`);
      res.end();
      return;
    }
    const bucket = this.buckets.get(name);
    if (!bucket) throw new AwsError(404, 'NoSuchBucket', 'The specified bucket does not exist');
    if (key === '') {
      if (method === 'DELETE') {
        if (bucket.size > 0)
          throw new AwsError(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty');
        this.buckets.delete(name);
        rid();
        res.statusCode = 204;
        res.end();
        return;
      }
      const prefix = url.searchParams.get('prefix') ?? '';
      const v2 = url.searchParams.get('list-type') === '2';
      let keys = [...bucket.keys()].filter((k) => k.startsWith(prefix)).sort();
      // ListObjectsV2 pages: max-keys, and a continuation token (the next key, base64) or start-after.
      const token = url.searchParams.get('continuation-token');
      const after =
        token !== null ? Buffer.from(token, 'base64').toString('utf8') : url.searchParams.get('start-after');
      if (v2 && after !== null) keys = keys.filter((k) => (token !== null ? k >= after : k > after));
      const maxKeys = Math.min(1000, Number(url.searchParams.get('max-keys') ?? 1000));
      const truncated = v2 && keys.length > maxKeys;
      const nextToken = truncated ? Buffer.from(keys[maxKeys]!, 'utf8').toString('base64') : undefined;
      if (truncated) keys = keys.slice(0, maxKeys);
      const contents = keys
        .map((k) => {
          const o = bucket.get(k)!;
          return `<Contents><Key>${esc(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>&quot;${md5(
            o.body,
          )}&quot;</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
        })
        .join('');
      rid();
      return this.xml(
        res,
        200,
        `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${esc(name)}</Name><Prefix>${esc(
          prefix,
        )}</Prefix>${v2 ? `<KeyCount>${keys.length}</KeyCount>` : '<Marker></Marker>'}<MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${
          token !== null ? `<ContinuationToken>${esc(token)}</ContinuationToken>` : ''
        }${nextToken !== undefined ? `<NextContinuationToken>${esc(nextToken)}</NextContinuationToken>` : ''}${contents}</ListBucketResult>`,
      );
    }
    switch (method) {
      case 'PUT': {
        const metadata: Record<string, string> = {};
        for (const [h, v] of Object.entries(req.headers)) {
          if (h.startsWith('x-amz-meta-') && typeof v === 'string') metadata[h.slice(11)] = v;
        }
        const encoding = String(req.headers['content-encoding'] ?? '');
        const data = encoding.includes('aws-chunked') ? decodeAwsChunked(body) : body;
        bucket.set(key, {
          body: data,
          contentType: String(req.headers['content-type'] ?? 'binary/octet-stream'),
          metadata,
          lastModified: new Date(),
        });
        rid();
        res.setHeader('ETag', `"${md5(data)}"`);
        res.setHeader('x-amz-server-side-encryption', 'AES256');
        res.end();
        return;
      }
      case 'GET':
      case 'HEAD': {
        const o = bucket.get(key);
        if (!o) {
          if (method === 'HEAD') {
            rid();
            res.statusCode = 404;
            res.end();
            return;
          }
          throw new AwsError(404, 'NoSuchKey', 'The specified key does not exist.');
        }
        rid();
        res.setHeader('Accept-Ranges', 'bytes');
        res.setHeader('Content-Type', o.contentType);
        res.setHeader('Content-Length', String(o.body.length));
        res.setHeader('ETag', `"${md5(o.body)}"`);
        res.setHeader('Last-Modified', o.lastModified.toUTCString());
        res.setHeader('x-amz-server-side-encryption', 'AES256');
        for (const [k, v] of Object.entries(o.metadata)) res.setHeader(`x-amz-meta-${k}`, v);
        res.end(method === 'GET' ? o.body : undefined);
        return;
      }
      case 'DELETE':
        bucket.delete(key);
        rid();
        res.statusCode = 204;
        res.end();
        return;
      default:
        throw new AwsError(
          405,
          'MethodNotAllowed',
          'The specified method is not allowed against this resource.',
        );
    }
  }

  // ---- SQS ----------------------------------------------------------------------------------------

  private sqs(op: string, input: Record<string, unknown>): unknown {
    const queueOf = () => {
      const url = typeof input.QueueUrl === 'string' ? input.QueueUrl : '';
      const q = this.queues.get(url.split('/').filter(Boolean).at(-1) ?? '');
      if (!q) {
        throw new AwsError(
          400,
          'QueueDoesNotExist|AWS.SimpleQueueService.NonExistentQueue',
          'The specified queue does not exist.',
        );
      }
      return q;
    };
    switch (op) {
      case 'CreateQueue':
        return { QueueUrl: this.createQueue(String(input.QueueName)) };
      case 'GetQueueUrl':
        if (!this.queues.has(String(input.QueueName))) {
          throw new AwsError(
            400,
            'QueueDoesNotExist|AWS.SimpleQueueService.NonExistentQueue',
            'The specified queue does not exist.',
          );
        }
        return { QueueUrl: `${this.url}/${this.account}/${String(input.QueueName)}` };
      case 'SendMessage': {
        const q = queueOf();
        const body = input.MessageBody;
        if (typeof body !== 'string' || body === '') {
          throw new AwsError(400, 'MissingParameter', 'The request must contain the parameter MessageBody.');
        }
        const m: SqsMessage = {
          MessageId: randomUUID(),
          ReceiptHandle: randomUUID(),
          MD5OfBody: md5(Buffer.from(body)),
          Body: body,
        };
        q.push(m);
        return { MD5OfMessageBody: m.MD5OfBody, MessageId: m.MessageId };
      }
      case 'ReceiveMessage': {
        const q = queueOf();
        const max = typeof input.MaxNumberOfMessages === 'number' ? input.MaxNumberOfMessages : 1;
        return { Messages: q.slice(0, max) };
      }
      case 'DeleteMessage': {
        const q = queueOf();
        const i = q.findIndex((m) => m.ReceiptHandle === input.ReceiptHandle);
        if (i >= 0) q.splice(i, 1);
        return {};
      }
      default:
        throw new AwsError(400, 'InvalidAction', `The stand-in does not implement ${op}`);
    }
  }

  // ---- Lambda ---------------------------------------------------------------------------------------

  private async lambda(nameOrArn: string, body: Buffer, res: ServerResponse): Promise<void> {
    const name = nameOrArn.includes(':function:') ? nameOrArn.split(':')[6]! : nameOrArn;
    const handler = this.functions.get(name);
    if (!handler) {
      throw new AwsError(
        404,
        'Lambda:ResourceNotFoundException',
        `Function not found: arn:aws:lambda:${this.region}:${this.account}:function:${name}`,
      );
    }
    const event = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as unknown);
    let payload: string;
    let functionError = false;
    try {
      payload = JSON.stringify((await handler(event)) ?? null);
    } catch (e) {
      functionError = true;
      const err = e instanceof Error ? e : new Error(String(e));
      payload = JSON.stringify({ errorMessage: err.message, errorType: err.name, stackTrace: [] });
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('x-amzn-RequestId', randomUUID());
    res.setHeader('X-Amz-Executed-Version', '$LATEST');
    if (functionError) res.setHeader('X-Amz-Function-Error', 'Unhandled');
    res.end(payload);
  }

  // ---- Secrets Manager ---------------------------------------------------------------------------

  private secretsManager(op: string, input: Record<string, unknown>): unknown {
    const describe = (s: Secret) => ({
      ARN: s.arn,
      Name: s.name,
      CreatedDate: s.created.getTime() / 1000,
      LastChangedDate: s.created.getTime() / 1000,
    });
    switch (op) {
      case 'CreateSecret': {
        const name = input.Name;
        if (typeof name !== 'string' || !SECRET_NAME.test(name)) {
          throw new AwsError(
            400,
            'ValidationException',
            'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
          );
        }
        if (this.secrets.has(name)) {
          throw new AwsError(
            400,
            'ResourceExistsException',
            `The operation failed because the secret ${name} already exists.`,
          );
        }
        const suffix = randomUUID().replace(/-/g, '').slice(0, 6);
        const s: Secret = {
          name,
          arn: `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${name}-${suffix}`,
          value: typeof input.SecretString === 'string' ? input.SecretString : undefined,
          created: new Date(),
        };
        this.secrets.set(name, s);
        return { ARN: s.arn, Name: s.name, VersionId: randomUUID() };
      }
      case 'GetSecretValue': {
        const id = typeof input.SecretId === 'string' ? input.SecretId : '';
        const s = [...this.secrets.values()].find((x) => x.name === id || x.arn === id);
        if (!s)
          throw new AwsError(
            400,
            'ResourceNotFoundException',
            "Secrets Manager can't find the specified secret.",
          );
        return { ...describe(s), SecretString: s.value, VersionStages: ['AWSCURRENT'] };
      }
      case 'ListSecrets':
        return { SecretList: [...this.secrets.values()].map(describe) };
      default:
        throw new AwsError(400, 'UnknownOperationException', `The stand-in does not implement ${op}`);
    }
  }
}

/** Batch's REST paths (`/v1/submitjob`) and the operations they name. */
const BATCH_OPERATIONS: Record<string, string> = {
  submitjob: 'SubmitJob',
  describejobs: 'DescribeJobs',
  terminatejob: 'TerminateJob',
};

function parseJson(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    throw new AwsError(400, 'SerializationException', 'Start of structure or map found where not expected');
  }
}

/** The body of an `aws-chunked` upload (chunks `<hex size>[;…]\r\n<data>\r\n`, then trailers). */
function decodeAwsChunked(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(body.subarray(at, eol).toString('latin1').split(';')[0]!, 16);
    if (!(size > 0)) break;
    out.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A request member as text ('' when it is not a string). */
function text(x: unknown): string {
  return typeof x === 'string' ? x : '';
}
