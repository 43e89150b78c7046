/**
 * The optimized integration `arn:aws:states:::bedrock:invokeModel` (request-response, as AWS
 * documents it). It is Bedrock Runtime's InvokeModel with Step Functions' additions:
 *
 * - `Body` is JSON in the state (sent as its text; a string is sent as is) or, instead, `Input:
 *   {S3Uri}` names an S3 object whose content is sent (its content type becomes `ContentType`
 *   when the state gives none);
 * - the result is `{Body: <the model's answer, parsed when it is JSON>, ContentType}`, or, with
 *   `Output: {S3Uri}`, the answer is written to that object and `Body` is a reference to it
 *   (`{S3Uri}`: AWS documents only that the body is "replaced with a reference", so the shape is
 *   assumed).
 *
 * The S3 calls go through pass-through's S3 client (errors named as aws-sdk:s3's, e.g.
 * `S3.NoSuchKeyException`); the model call through the bedrock-runtime client, with the optimized
 * integrations' error names (`Bedrock.ValidationException`…).
 */
import { isJsonObject, type JsonObject, type JsonValue } from '../../language/json.js';
import { StatesErrors } from '../../language/errors.js';
import { MAX_PAYLOAD_BYTES, dataLimit, type SignalSource, type TaskOutcome } from '../functions.js';

/**
 * What this module needs of a pass-through task and of the pass-through itself (interfaces here:
 * aws.ts, which routes invokeModel to this module, would otherwise be imported back).
 */
export interface BedrockTask {
  resource: string;
  region?: string | undefined;
  parameters: JsonValue;
  waitForTaskToken?: boolean | undefined;
  /** The state's `Credentials` role: the S3 and Bedrock calls are made as it. */
  roleArn?: string | undefined;
}

/** An optimized call's answer (`AwsPassThrough.callOptimized`, which declares it by this type). */
export type OptimizedCallResult =
  | { ok: true; output: JsonObject; metadata: JsonObject }
  | { ok: false; outcome: TaskOutcome; transport: boolean };

export interface OptimizedCaller {
  callOptimized(
    task: Pick<BedrockTask, 'resource' | 'region' | 'roleArn'>,
    service: string,
    action: string,
    input: JsonObject,
    signal: SignalSource,
  ): Promise<OptimizedCallResult>;
}

/** The state's members that InvokeModel takes as they are (PascalCase; casing.ts lowers them). */
const PASSED = [
  'ModelId',
  'ContentType',
  'Accept',
  'Trace',
  'GuardrailIdentifier',
  'GuardrailVersion',
  'PerformanceConfigLatency',
];

const refuse = (cause: string): TaskOutcome => ({ ok: false, error: StatesErrors.Runtime, cause });

/** `s3://bucket/key` → bucket and key; undefined when it is not such a URI. */
export function parseS3Uri(uri: JsonValue | undefined): { Bucket: string; Key: string } | undefined {
  if (typeof uri !== 'string') return undefined;
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return m ? { Bucket: m[1]!, Key: m[2]! } : undefined;
}

export async function invokeBedrockModel(
  aws: OptimizedCaller,
  task: BedrockTask,
  signal: SignalSource,
): Promise<TaskOutcome> {
  const params = task.parameters;
  if (!isJsonObject(params)) return refuse(`The parameters of '${task.resource}' must be an object.`);
  // AWS documents invokeModel as request-response only; a callback would never be sent a token.
  if (task.waitForTaskToken === true) {
    return {
      ok: false,
      error: StatesErrors.TaskFailed,
      cause: `Stepwise does not run '${task.resource}': AWS offers bedrock:invokeModel as request-response only (no .waitForTaskToken or .sync).`,
    };
  }
  if (typeof params.ModelId !== 'string' || params.ModelId === '') {
    return refuse(`'${task.resource}' needs a ModelId (a model ID or ARN).`);
  }
  const hasBody = params.Body !== undefined;
  const hasInput = params.Input !== undefined;
  if (hasBody === hasInput) {
    return refuse(`'${task.resource}' takes either Body or Input {S3Uri}, exactly one of them.`);
  }
  const source = hasInput
    ? parseS3Uri(isJsonObject(params.Input) ? params.Input.S3Uri : undefined)
    : undefined;
  if (hasInput && source === undefined) {
    return refuse(`The Input of '${task.resource}' must be {"S3Uri": "s3://<bucket>/<key>"}.`);
  }
  const target =
    params.Output === undefined
      ? undefined
      : parseS3Uri(isJsonObject(params.Output) ? params.Output.S3Uri : undefined);
  if (params.Output !== undefined && target === undefined) {
    return refuse(`The Output of '${task.resource}' must be {"S3Uri": "s3://<bucket>/<key>"}.`);
  }

  const request: JsonObject = {};
  for (const k of PASSED) if (params[k] !== undefined) request[k] = params[k];
  if (source) {
    const got = await aws.callOptimized(task, 's3', 'getObject', source, signal);
    if (!got.ok) return got.outcome;
    request.Body = typeof got.output.Body === 'string' ? got.output.Body : '';
    if (request.ContentType === undefined && typeof got.output.ContentType === 'string') {
      request.ContentType = got.output.ContentType;
    }
  } else {
    // Step Functions does not validate Body: JSON is sent as its text, a string as it is.
    request.Body = typeof params.Body === 'string' ? params.Body : JSON.stringify(params.Body);
  }
  request.ContentType ??= 'application/json';
  request.Accept ??= 'application/json';

  const r = await aws.callOptimized(task, 'bedrock', 'invokeModel', request, signal);
  if (!r.ok) return r.outcome;
  const text = typeof r.output.Body === 'string' ? r.output.Body : '';
  const contentType = typeof r.output.ContentType === 'string' ? r.output.ContentType : 'application/json';

  if (target) {
    const put = await aws.callOptimized(
      task,
      's3',
      'putObject',
      { ...target, Body: text, ContentType: contentType },
      signal,
    );
    if (!put.ok) return put.outcome;
    return { ok: true, output: { ...r.output, Body: { S3Uri: `s3://${target.Bucket}/${target.Key}` } } };
  }
  const output: JsonObject = { ...r.output, Body: parseAnswer(text) };
  if (Buffer.byteLength(JSON.stringify(output)) > MAX_PAYLOAD_BYTES) return dataLimit(task.resource);
  return { ok: true, output };
}

/** The model's answer: parsed when it is JSON, else its text (e.g. an `Accept: text/plain` answer). */
function parseAnswer(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}
