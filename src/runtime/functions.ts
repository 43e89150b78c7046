/**
 * Local Lambda functions: how Task states that name a Lambda function find JavaScript code, and
 * how an invocation is turned into AWS's result or error shape.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { resolve as resolvePath } from 'node:path';
import { StatesErrors } from '../language/errors.js';
import type { JsonObject, JsonValue } from '../language/json.js';
import { getOwn, isJsonObject } from '../language/json.js';

export interface LambdaContext {
  functionName: string;
  invokedFunctionArn: string;
  awsRequestId: string;
  /** The exact JSON text of the payload. */
  payloadText: string;
  /** Aborted when the caller gives up (task timeout, execution stopped). */
  signal: AbortSignal;
}

export type LambdaHandler = (event: unknown, context: LambdaContext) => unknown;

export interface FunctionProvider {
  /** A handler for a function name, partial ARN or full ARN; `undefined` when there is none. */
  resolveFunction(nameOrArn: string): LambdaHandler | undefined;
  /** The raw error response text for a thrown error (lets a module emulate a Lambda runtime). */
  formatError?(err: unknown, info: { requestId: string }): string;
}

/** Maps plain function names to handlers. ARNs resolve by their function name. */
export function functionsFromMap(map: Readonly<Record<string, LambdaHandler>>): FunctionProvider {
  return {
    resolveFunction(nameOrArn) {
      const name = functionNameOf(nameOrArn);
      return Object.prototype.hasOwnProperty.call(map, name) ? map[name] : undefined;
    },
  };
}

/** `arn:aws:lambda:r:a:function:NAME[:qualifier]`, `a:function:NAME` or `NAME[:qualifier]` → NAME. */
export function functionNameOf(nameOrArn: string): string {
  const arn = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?$/.exec(nameOrArn);
  if (arn) return arn[1]!;
  const partial = /^\d{12}:function:([^:]+)/.exec(nameOrArn);
  if (partial) return partial[1]!;
  return nameOrArn.split(':')[0]!;
}

/** Combines providers: the first that knows a function wins. */
export function combineProviders(...providers: FunctionProvider[]): FunctionProvider {
  const withFormat = providers.find((p) => p.formatError !== undefined);
  const combined: FunctionProvider = {
    resolveFunction(nameOrArn) {
      for (const p of providers) {
        const h = p.resolveFunction(nameOrArn);
        if (h !== undefined) return h;
      }
      return undefined;
    },
  };
  if (withFormat?.formatError) combined.formatError = withFormat.formatError.bind(withFormat);
  return combined;
}

/**
 * Loads an ES module of functions: it exports `resolveFunction(nameOrArn)` and/or a default
 * export mapping names to handlers, and optionally `formatError(err, {requestId})`.
 */
export async function loadFunctionsModule(file: string): Promise<FunctionProvider> {
  const mod = (await import(pathToFileURL(resolvePath(file)).href)) as Record<string, unknown>;
  const providers: FunctionProvider[] = [];
  const resolver = mod.resolveFunction;
  if (typeof resolver === 'function') {
    providers.push({ resolveFunction: (n) => (resolver as (n: string) => LambdaHandler | undefined)(n) });
  }
  const dflt = mod.default;
  if (dflt !== null && typeof dflt === 'object') {
    const map: Record<string, LambdaHandler> = {};
    for (const [k, v] of Object.entries(dflt as Record<string, unknown>)) {
      if (typeof v === 'function') map[k] = v as LambdaHandler;
    }
    providers.push(functionsFromMap(map));
  }
  if (providers.length === 0) {
    throw new Error(`${file} exports neither resolveFunction nor a default map of functions`);
  }
  const provider = combineProviders(...providers);
  const formatError = mod.formatError;
  if (typeof formatError === 'function') {
    provider.formatError = (err, info) => String((formatError as (e: unknown, i: unknown) => unknown)(err, info));
  }
  return provider;
}

/** Step Functions' payload limit (256 KiB), applied to results. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

export type TaskOutcome =
  | { ok: true; output: JsonValue }
  | { ok: false; error: string; cause: string | undefined };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface RawInvocation {
  ok: boolean;
  /** Response payload text (result or error document). */
  payload: string;
  errorType?: string;
}

async function invokeRaw(
  provider: FunctionProvider,
  handler: LambdaHandler,
  functionName: string,
  functionArn: string,
  payloadText: string,
  signal: AbortSignal,
): Promise<RawInvocation> {
  const requestId = randomUUID();
  try {
    const result = await handler(JSON.parse(payloadText), {
      functionName,
      invokedFunctionArn: functionArn,
      awsRequestId: requestId,
      payloadText,
      signal,
    });
    const payload =
      result instanceof Uint8Array ? decoder.decode(result) : result === undefined ? 'null' : JSON.stringify(result);
    return { ok: true, payload };
  } catch (err) {
    const errorType = err instanceof Error && err.name ? err.name : 'Error';
    const payload = provider.formatError
      ? provider.formatError(err, { requestId })
      : JSON.stringify({
          errorMessage: err instanceof Error ? err.message : String(err),
          errorType,
          requestId,
          stackTrace: err instanceof Error && err.stack ? err.stack.split('\n').slice(1).map((l) => l.trim()) : [],
        });
    return { ok: false, payload, errorType };
  }
}

function parsePayload(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}

function dataLimit(resource: string): TaskOutcome {
  return {
    ok: false,
    error: StatesErrors.DataLimitExceeded,
    cause: `The state/task '${resource}' returned a result with a size exceeding the maximum number of bytes service limit.`,
  };
}

function account(arn: string): { region: string; account: string } {
  const p = arn.split(':');
  return { region: p[3] ?? 'us-east-1', account: p[4] ?? '123456789012' };
}

/** A legacy Task (`Resource` is a function ARN): result = the parsed payload, error cause = raw text. */
export async function invokeLegacyLambda(
  provider: FunctionProvider,
  functionArn: string,
  input: JsonValue,
  signal: AbortSignal,
): Promise<TaskOutcome> {
  const name = functionNameOf(functionArn);
  const handler = provider.resolveFunction(functionArn);
  if (handler === undefined) {
    return {
      ok: false,
      error: 'Lambda.ResourceNotFoundException',
      cause: `Function not found: ${functionArn} (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: ${randomUUID()}; Proxy: null)`,
    };
  }
  const raw = await invokeRaw(provider, handler, name, functionArn, JSON.stringify(input), signal);
  if (!raw.ok) return { ok: false, error: raw.errorType ?? 'Error', cause: raw.payload };
  if (encoder.encode(raw.payload).length > MAX_PAYLOAD_BYTES) return dataLimit(functionArn);
  const output = parsePayload(raw.payload);
  if (output === undefined) {
    return { ok: false, error: 'Lambda.Unknown', cause: 'The Lambda function returned a payload that is not valid JSON.' };
  }
  return { ok: true, output };
}

/** `arn:aws:states:::lambda:invoke`: result wraps the payload in the SDK's response shape. */
export async function invokeLambdaService(
  provider: FunctionProvider,
  resource: string,
  params: JsonValue,
  region: string,
  accountId: string,
  signal: AbortSignal,
): Promise<TaskOutcome> {
  if (!isJsonObject(params)) {
    return { ok: false, error: StatesErrors.Runtime, cause: 'The Parameters of lambda:invoke must be an object.' };
  }
  const fn = getOwn(params, 'FunctionName');
  if (typeof fn !== 'string') {
    return { ok: false, error: 'Lambda.InvalidParameterValueException', cause: 'FunctionName is required.' };
  }
  const functionArn = fn.startsWith('arn:') ? fn : `arn:aws:lambda:${region}:${accountId}:function:${functionNameOf(fn)}`;
  const handler = provider.resolveFunction(fn);
  if (handler === undefined) {
    const arn = functionArn.split(':').length > 7 ? functionArn : `${functionArn}:$LATEST`;
    return {
      ok: false,
      error: 'Lambda.ResourceNotFoundException',
      cause: `Function not found: ${arn} (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: ${randomUUID()}; Proxy: null)`,
    };
  }
  const payload = getOwn(params, 'Payload');
  // A string Payload is the request document itself; without one the function gets `{}`.
  let payloadText: string;
  if (typeof payload === 'string') {
    if (parsePayload(payload) === undefined) {
      return {
        ok: false,
        error: 'Lambda.InvalidRequestContentException',
        cause: 'Could not parse request body into json: the Payload string is not valid JSON.',
      };
    }
    payloadText = payload;
  } else {
    payloadText = JSON.stringify(payload ?? {});
  }
  const raw = await invokeRaw(provider, handler, functionNameOf(fn), functionArn, payloadText, signal);
  if (!raw.ok) {
    // AWS re-serialises the error document compactly.
    const parsed = parsePayload(raw.payload);
    return {
      ok: false,
      error: raw.errorType ?? 'Error',
      cause: parsed === undefined ? raw.payload : JSON.stringify(parsed),
    };
  }
  if (encoder.encode(raw.payload).length > MAX_PAYLOAD_BYTES) return dataLimit('lambda');
  const parsed = parsePayload(raw.payload);
  const requestId = randomUUID();
  const output: JsonObject = {
    ExecutedVersion: '$LATEST',
    Payload: parsed === undefined ? raw.payload : parsed,
    SdkHttpMetadata: {
      AllHttpHeaders: {
        'X-Amz-Executed-Version': ['$LATEST'],
        'x-amzn-Remapped-Content-Length': ['0'],
        Connection: ['keep-alive'],
        'x-amzn-RequestId': [requestId],
        'Content-Length': [String(encoder.encode(raw.payload).length)],
        Date: [new Date().toUTCString()],
        'Content-Type': ['application/json'],
      },
      HttpHeaders: {
        Connection: 'keep-alive',
        'Content-Length': String(encoder.encode(raw.payload).length),
        'Content-Type': 'application/json',
        Date: new Date().toUTCString(),
        'X-Amz-Executed-Version': '$LATEST',
        'x-amzn-Remapped-Content-Length': '0',
        'x-amzn-RequestId': requestId,
      },
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: 200,
  };
  return { ok: true, output };
}

export { account as regionAndAccountOf };
