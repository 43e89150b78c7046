/**
 * Test support: the parts of the AWS stand-in (`aws-standins.ts`) for the Bedrock model
 * customization, MediaConvert and SageMaker labeling run-a-job integrations, kept apart so that
 * each service's stand-in stays small:
 *
 * - Bedrock (REST JSON, told apart by its signing scope): CreateModelCustomizationJob,
 *   GetModelCustomizationJob, StopModelCustomizationJob. A job is InProgress for `STEPWISE_POLLS`
 *   Get calls (default 1), then Completed or the status in `STEPWISE_OUTCOME` (Failed); both are
 *   entries of its `hyperParameters`. A stopped job is Stopping, then Stopped at the next Get.
 * - Bedrock Runtime (REST JSON, signed as `bedrock` too): InvokeModel of the models in
 *   `BEDROCK_MODELS` (by ID or foundation-model ARN; others are refused as AWS refuses an unknown
 *   ID). The "model" echoes its prompt (`inputText`, `prompt` or the last message's text) in a
 *   Titan-like answer, repeated `STEPWISE_REPEAT` times (a member of the request) to make large
 *   answers; each call is kept in `invocations`.
 * - MediaConvert (REST JSON): CreateJob, GetJob, CancelJob. A job is SUBMITTED, then PROGRESSING
 *   for `STEPWISE_POLLS` GetJob calls (default 1), then COMPLETE or `STEPWISE_OUTCOME` (ERROR),
 *   entries of its `userMetadata`. CancelJob makes it CANCELED.
 * - SageMaker (AWS JSON 1.1): CreateLabelingJob, DescribeLabelingJob, StopLabelingJob, with
 *   `STEPWISE_POLLS` and `STEPWISE_OUTCOME` (Failed) as tags of the job.
 *
 * `handle` answers the requests it knows and leaves the others to the stand-in.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  StandInError,
  answerJson11,
  asStandInError,
  parseBody,
  record,
  sendJson,
  text,
} from './aws-standins-wire.js';

/**
 * What the module needs from the stand-in that hosts it (an interface here, not an import of
 * aws-standins.ts, which imports this module).
 */
export interface MediaStandInHost {
  readonly region: string;
  readonly account: string;
  readonly requests: { service: string; operation: string; headers: IncomingMessage['headers'] }[];
}

type Obj = Record<string, unknown>;

/** The models the stand-in's InvokeModel serves. */
export const BEDROCK_MODELS: ReadonlySet<string> = new Set([
  'amazon.titan-text-express-v1',
  'anthropic.claude-3-haiku-20240307-v1:0',
  'cohere.command-text-v14',
]);

/** One InvokeModel call as the stand-in received it. */
export interface BedrockInvocation {
  modelId: string;
  /** The request body's text. */
  body: string;
  headers: IncomingMessage['headers'];
}

export interface BedrockCustomizationJob {
  name: string;
  arn: string;
  request: Obj;
  created: number;
  status: string;
  pollsLeft: number;
  outcome: string;
  ended?: number;
}

export interface MediaConvertJob {
  id: string;
  arn: string;
  request: Obj;
  /** The tags CreateJob received (GetJob does not return them). */
  tags: Record<string, string>;
  created: number;
  status: string;
  pollsLeft: number;
  outcome: string;
  started?: number;
  ended?: number;
}

export interface LabelingJob {
  name: string;
  arn: string;
  request: Obj;
  created: number;
  status: string;
  pollsLeft: number;
  outcome: string;
  ended?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => ms / 1000;

export class MediaStandIn {
  /** Bedrock model customization jobs by ARN. */
  readonly customizationJobs = new Map<string, BedrockCustomizationJob>();
  /** MediaConvert jobs by Id. */
  readonly mediaConvertJobs = new Map<string, MediaConvertJob>();
  /** SageMaker labeling jobs by name. */
  readonly labelingJobs = new Map<string, LabelingJob>();
  /** Bedrock Runtime InvokeModel calls, in order. */
  readonly invocations: BedrockInvocation[] = [];
  private mediaConvertSequence = 0;

  constructor(private readonly standIn: MediaStandInHost) {}

  /** Answers a request of these services; false when it is the stand-in's to answer. */
  handle(req: IncomingMessage, body: Buffer, res: ServerResponse): boolean {
    const target = String(req.headers['x-amz-target'] ?? '');
    const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(String(req.headers.authorization ?? ''));
    const path = (req.url ?? '/')
      .split('?')[0]!
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent);
    const method = req.method ?? '';
    const log = (service: string, operation: string) =>
      this.standIn.requests.push({ service, operation, headers: req.headers });
    const labeling = /^SageMaker\.(Create|Describe|Stop)LabelingJob$/.exec(target);
    if (labeling) {
      log('sagemaker', `${labeling[1]!}LabelingJob`);
      return answerJson11(res, 'Message', () => this.labeling(labeling[1]!, parseBody(body)));
    }
    // Bedrock Runtime signs with the scope `bedrock` too; its body is the model's, not the API's.
    if (
      scope?.[1] === 'bedrock' &&
      method === 'POST' &&
      path.length === 3 &&
      path[0] === 'model' &&
      path[2] === 'invoke'
    ) {
      log('bedrock-runtime', 'InvokeModel');
      this.invokeModel(path[1]!, body, req, res);
      return true;
    }
    let service: string;
    let op: string | undefined;
    if (scope?.[1] === 'bedrock') {
      service = 'bedrock';
      op = bedrockRoute(method, path);
    } else if (scope?.[1] === 'mediaconvert') {
      service = 'mediaconvert';
      op = mediaConvertRoute(method, path);
    } else return false;
    if (op === undefined) return false;
    log(service, op);
    try {
      const input = parseBody(body);
      const answer =
        service === 'bedrock' ? this.bedrock(op, path, input) : this.mediaConvert(op, path, input);
      sendJson(res, op === 'CreateJob' ? 201 : 200, 'application/json', answer);
    } catch (e) {
      const err = asStandInError(e);
      res.setHeader('x-amzn-ErrorType', err.code);
      sendJson(res, err.status, 'application/json', { message: err.message });
    }
    return true;
  }

  // ---- Bedrock ----------------------------------------------------------------------------------

  private bedrock(op: string, path: string[], input: Obj): unknown {
    const { region, account } = this.standIn;
    const jobOf = (id: string): BedrockCustomizationJob => {
      const job =
        this.customizationJobs.get(id) ?? [...this.customizationJobs.values()].find((j) => j.name === id);
      if (!job) throw new StandInError(404, 'ResourceNotFoundException', `Job ${id} not found.`);
      return job;
    };
    switch (op) {
      case 'CreateModelCustomizationJob': {
        const name = text(input.jobName);
        if (typeof input.roleArn !== 'string' || typeof input.baseModelIdentifier !== 'string') {
          throw new StandInError(400, 'ValidationException', 'roleArn and baseModelIdentifier are required.');
        }
        if ([...this.customizationJobs.values()].some((j) => j.name === name)) {
          throw new StandInError(409, 'ConflictException', `A job with the name ${name} already exists.`);
        }
        const controls = record(input.hyperParameters);
        const arn = `arn:aws:bedrock:${region}:${account}:model-customization-job/${text(input.baseModelIdentifier)}/${randomUUID().slice(0, 12)}`;
        this.customizationJobs.set(arn, {
          name,
          arn,
          request: input,
          created: Date.now(),
          status: 'InProgress',
          pollsLeft: Number(text(controls.STEPWISE_POLLS) || 1),
          outcome: text(controls.STEPWISE_OUTCOME) || 'Completed',
        });
        return { jobArn: arn };
      }
      case 'GetModelCustomizationJob': {
        const job = jobOf(path[1] ?? '');
        if (job.status === 'Stopping') {
          job.status = 'Stopped';
          job.ended = Date.now();
        } else if (job.status === 'InProgress' && job.pollsLeft-- <= 0) {
          job.status = job.outcome;
          job.ended = Date.now();
        }
        return this.customizationJson(job);
      }
      case 'StopModelCustomizationJob': {
        const job = jobOf(path[1] ?? '');
        if (job.status !== 'InProgress') {
          throw new StandInError(
            400,
            'ValidationException',
            `The job is ${job.status}; it cannot be stopped.`,
          );
        }
        job.status = 'Stopping';
        return {};
      }
      default:
        throw new StandInError(400, 'UnknownOperationException', `The stand-in does not implement ${op}`);
    }
  }

  private invokeModel(modelId: string, body: Buffer, req: IncomingMessage, res: ServerResponse): void {
    const raw = body.toString('utf8');
    this.invocations.push({ modelId, body: raw, headers: req.headers });
    const id = modelId.replace(/^arn:aws[^:]*:bedrock:[^:]*:[^:]*:foundation-model\//, '');
    if (!BEDROCK_MODELS.has(id)) {
      res.setHeader('x-amzn-ErrorType', 'ValidationException');
      sendJson(res, 400, 'application/json', { message: 'The provided model identifier is invalid.' });
      return;
    }
    let input: Obj;
    try {
      input = record(JSON.parse(raw));
    } catch {
      res.setHeader('x-amzn-ErrorType', 'ValidationException');
      sendJson(res, 400, 'application/json', {
        message: 'Malformed input request, please reformat your input and try again.',
      });
      return;
    }
    const messages = Array.isArray(input.messages) ? input.messages.map(record) : [];
    const last = messages[messages.length - 1]?.content;
    const prompt =
      text(input.inputText) ||
      text(input.prompt) ||
      (typeof last === 'string' ? last : Array.isArray(last) ? text(record(last[0]).text) : '');
    const outputText = `echo: ${prompt}`.repeat(Math.max(1, Number(input.STEPWISE_REPEAT ?? 1)));
    sendJson(res, 200, 'application/json', {
      inputTextTokenCount: prompt.split(/\s+/).filter((w) => w !== '').length,
      results: [{ tokenCount: outputText.length, outputText, completionReason: 'FINISH' }],
      model: id,
    });
  }

  private customizationJson(job: BedrockCustomizationJob): Obj {
    const r = job.request;
    const out: Obj = {
      jobArn: job.arn,
      jobName: job.name,
      outputModelName: r.customModelName,
      roleArn: r.roleArn,
      status: job.status,
      creationTime: iso(job.created),
      lastModifiedTime: iso(job.ended ?? job.created),
      baseModelArn: `arn:aws:bedrock:${this.standIn.region}::foundation-model/${text(r.baseModelIdentifier)}`,
      hyperParameters: r.hyperParameters ?? {},
      trainingDataConfig: r.trainingDataConfig,
      outputDataConfig: r.outputDataConfig,
      customizationType: r.customizationType ?? 'FINE_TUNING',
    };
    if (job.ended !== undefined) out.endTime = iso(job.ended);
    if (job.status === 'Completed') {
      out.outputModelArn = `arn:aws:bedrock:${this.standIn.region}:${this.standIn.account}:custom-model/${text(r.customModelName)}`;
      out.trainingMetrics = { trainingLoss: 0.25 };
    }
    if (job.status === 'Failed') out.failureMessage = 'Training data validation failed: line 1 is not JSON.';
    return out;
  }

  // ---- MediaConvert -----------------------------------------------------------------------------

  private mediaConvert(op: string, path: string[], input: Obj): unknown {
    const { region, account } = this.standIn;
    const jobOf = (id: string): MediaConvertJob => {
      const job = this.mediaConvertJobs.get(id);
      if (!job) throw new StandInError(404, 'NotFoundException', `The specified job ${id} was not found.`);
      return job;
    };
    switch (op) {
      case 'CreateJob': {
        if (
          typeof input.role !== 'string' ||
          (input.settings === undefined && input.jobTemplate === undefined)
        ) {
          throw new StandInError(
            400,
            'BadRequestException',
            'role and settings (or jobTemplate) are required.',
          );
        }
        const id = `${Date.now()}-${String(++this.mediaConvertSequence).padStart(6, '0')}`;
        const controls = record(input.userMetadata);
        const tags: Record<string, string> = {};
        for (const [k, v] of Object.entries(record(input.tags))) tags[k] = text(v);
        const job: MediaConvertJob = {
          id,
          arn: `arn:aws:mediaconvert:${region}:${account}:jobs/${id}`,
          request: input,
          tags,
          created: Date.now(),
          status: 'SUBMITTED',
          pollsLeft: Number(text(controls.STEPWISE_POLLS) || 1),
          outcome: text(controls.STEPWISE_OUTCOME) || 'COMPLETE',
        };
        this.mediaConvertJobs.set(id, job);
        return { job: this.jobJson(job) };
      }
      case 'GetJob': {
        const job = jobOf(path[2] ?? '');
        if (job.status === 'SUBMITTED') {
          job.status = 'PROGRESSING';
          job.started = Date.now();
        }
        if (job.status === 'PROGRESSING' && job.pollsLeft-- <= 0) {
          job.status = job.outcome;
          job.ended = Date.now();
        }
        return { job: this.jobJson(job) };
      }
      case 'CancelJob': {
        const job = jobOf(path[2] ?? '');
        if (job.status !== 'SUBMITTED' && job.status !== 'PROGRESSING') {
          throw new StandInError(409, 'ConflictException', `The job ${job.id} is ${job.status}.`);
        }
        job.status = 'CANCELED';
        job.ended = Date.now();
        return {};
      }
      default:
        throw new StandInError(400, 'BadRequestException', `The stand-in does not implement ${op}`);
    }
  }

  private jobJson(job: MediaConvertJob): Obj {
    const timing: Obj = { submitTime: seconds(job.created) };
    if (job.started !== undefined) timing.startTime = seconds(job.started);
    if (job.ended !== undefined) timing.finishTime = seconds(job.ended);
    const out: Obj = {
      id: job.id,
      arn: job.arn,
      createdAt: seconds(job.created),
      role: job.request.role,
      settings: job.request.settings ?? {},
      queue: `arn:aws:mediaconvert:${this.standIn.region}:${this.standIn.account}:queues/Default`,
      status: job.status,
      timing,
      userMetadata: job.request.userMetadata ?? {},
      priority: 0,
      statusUpdateInterval: 'SECONDS_60',
    };
    if (job.status === 'PROGRESSING') out.jobPercentComplete = 50;
    if (job.status === 'COMPLETE') {
      out.outputGroupDetails = [
        { outputDetails: [{ durationInMs: 60000, videoDetails: { widthInPx: 1280, heightInPx: 720 } }] },
      ];
    }
    if (job.status === 'ERROR') {
      out.errorCode = 1010;
      out.errorMessage = 'Unable to open input file [s3://in/missing.mp4]';
    }
    return out;
  }

  // ---- SageMaker labeling jobs ------------------------------------------------------------------

  private labeling(verb: string, input: Obj): unknown {
    const { region, account } = this.standIn;
    const name = text(input.LabelingJobName);
    if (verb === 'Create') {
      if (this.labelingJobs.has(name)) {
        throw new StandInError(400, 'ResourceInUse', `Labeling job ${name} already exists.`);
      }
      const tag = (k: string) =>
        (Array.isArray(input.Tags) ? input.Tags : []).map(record).find((t) => t.Key === k)?.Value;
      // SageMaker writes resource names in lower case in its ARNs.
      const arn = `arn:aws:sagemaker:${region}:${account}:labeling-job/${name.toLowerCase()}`;
      this.labelingJobs.set(name, {
        name,
        arn,
        request: input,
        created: Date.now(),
        status: 'InProgress',
        pollsLeft: Number(text(tag('STEPWISE_POLLS')) || 1),
        outcome: text(tag('STEPWISE_OUTCOME')) || 'Completed',
      });
      return { LabelingJobArn: arn };
    }
    const job = this.labelingJobs.get(name);
    if (!job) throw new StandInError(400, 'ResourceNotFound', `Could not find labeling job ${name}`);
    if (verb === 'Stop') {
      if (job.status === 'InProgress') job.status = 'Stopping';
      return {};
    }
    if (job.status === 'Stopping') {
      job.status = 'Stopped';
      job.ended = Date.now();
    } else if (job.status === 'InProgress' && job.pollsLeft-- <= 0) {
      job.status = job.outcome;
      job.ended = Date.now();
    }
    const done = job.status === 'Completed';
    const out: Obj = {
      ...job.request,
      LabelingJobArn: job.arn,
      LabelingJobStatus: job.status,
      JobReferenceCode: 'stepwise-ref',
      LabelCounters: {
        TotalLabeled: done ? 10 : 0,
        HumanLabeled: done ? 10 : 0,
        MachineLabeled: 0,
        FailedNonRetryableError: 0,
        Unlabeled: done ? 0 : 10,
      },
      CreationTime: seconds(job.created),
      LastModifiedTime: seconds(job.ended ?? job.created),
    };
    if (done) {
      const output = record(job.request.OutputConfig);
      out.LabelingJobOutput = {
        OutputDatasetS3Uri: `${text(output.S3OutputPath)}/${job.name}/manifests/output/output.manifest`,
      };
    }
    if (job.status === 'Failed') out.FailureReason = 'ClientError: the input manifest is empty';
    return out;
  }
}

/** The Bedrock operation of a REST request. */
function bedrockRoute(method: string, path: string[]): string | undefined {
  if (path[0] !== 'model-customization-jobs') return undefined;
  if (path.length === 1 && method === 'POST') return 'CreateModelCustomizationJob';
  if (path.length === 2 && method === 'GET') return 'GetModelCustomizationJob';
  if (path.length === 3 && path[2] === 'stop' && method === 'POST') return 'StopModelCustomizationJob';
  return undefined;
}

/** The MediaConvert operation of a REST request. */
function mediaConvertRoute(method: string, path: string[]): string | undefined {
  if (path[0] !== '2017-08-29' || path[1] !== 'jobs') return undefined;
  if (path.length === 2 && method === 'POST') return 'CreateJob';
  if (path.length === 3 && method === 'GET') return 'GetJob';
  if (path.length === 3 && method === 'DELETE') return 'CancelJob';
  return undefined;
}
