/**
 * Local Lambda functions: how Task states that name a Lambda function find JavaScript code, and
 * how an invocation is turned into AWS's result or error shape.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { resolve as resolvePath } from 'node:path';
import { StatesErrors } from '../language/errors.js';
import type { JsonObject, JsonValue } from '../language/json.js';
import { cloneJson, getOwn, isJsonObject, stringifyJson } from '../language/json.js';

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

const names = new Map<string, string>();

/** `arn:aws:lambda:r:a:function:NAME[:qualifier]`, `a:function:NAME` or `NAME[:qualifier]` → NAME. */
export function functionNameOf(nameOrArn: string): string {
  let name = names.get(nameOrArn);
  if (name === undefined) {
    name = parseFunctionName(nameOrArn);
    if (names.size > 10_000) names.clear();
    names.set(nameOrArn, name);
  }
  return name;
}

function parseFunctionName(nameOrArn: string): string {
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
    provider.formatError = (err, info) =>
      String((formatError as (e: unknown, i: unknown) => unknown)(err, info));
  }
  return provider;
}

/** Step Functions' payload limit (256 KiB), applied to results. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

export type TaskOutcome =
  { ok: true; output: JsonValue } | { ok: false; error: string; cause: string | undefined };

const decoder = new TextDecoder();

/** A signal, or a function that makes one on demand (an AbortController costs more than a task). */
export type SignalSource = AbortSignal | (() => AbortSignal);

/** The handler's context; request id, payload text and signal are made only when read. */
class InvocationContext implements LambdaContext {
  private requestId: string | undefined;
  constructor(
    readonly functionName: string,
    readonly invokedFunctionArn: string,
    private readonly event: JsonValue,
    private text: string | undefined,
    private readonly signalSource: SignalSource,
  ) {}

  get awsRequestId(): string {
    return (this.requestId ??= randomUUID());
  }

  get payloadText(): string {
    return (this.text ??= stringifyJson(this.event));
  }

  get signal(): AbortSignal {
    return typeof this.signalSource === 'function' ? this.signalSource() : this.signalSource;
  }
}

type RawInvocation =
  /** The handler returned data: a private copy and an upper bound of its JSON size. */
  | { ok: true; kind: 'value'; value: JsonValue; maxBytes: number }
  /** The handler returned raw response bytes. */
  | { ok: true; kind: 'text'; text: string }
  /** The handler threw: `payload` is the error document's text. */
  | { ok: false; payload: string; errorType: string };

async function invokeRaw(
  provider: FunctionProvider,
  handler: LambdaHandler,
  functionName: string,
  functionArn: string,
  event: JsonValue,
  exactText: string | undefined,
  signal: SignalSource,
): Promise<RawInvocation> {
  const context = new InvocationContext(functionName, functionArn, event, exactText, signal);
  try {
    // The handler gets its own copy: it must not be able to change the execution's data.
    const arg = exactText !== undefined ? (JSON.parse(exactText) as JsonValue) : cloneJson(event)!.value;
    const result = await handler(arg, context);
    if (result instanceof Uint8Array) return { ok: true, kind: 'text', text: decoder.decode(result) };
    const copy = cloneJson(result);
    return copy === undefined
      ? { ok: true, kind: 'value', value: null, maxBytes: 4 }
      : { ok: true, kind: 'value', value: copy.value, maxBytes: copy.maxBytes };
  } catch (err) {
    const errorType = err instanceof Error && err.name ? err.name : 'Error';
    const rid = context.awsRequestId;
    const payload = provider.formatError
      ? provider.formatError(err, { requestId: rid })
      : JSON.stringify({
          errorMessage: err instanceof Error ? err.message : String(err),
          errorType,
          requestId: rid,
          stackTrace:
            err instanceof Error && err.stack
              ? err.stack
                  .split('\n')
                  .slice(1)
                  .map((l) => l.trim())
              : [],
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

/** A task result over the payload quota, with AWS's cause naming the resource. */
export function dataLimit(resource: string): Extract<TaskOutcome, { ok: false }> {
  return {
    ok: false,
    error: StatesErrors.DataLimitExceeded,
    cause: `The state/task '${resource}' returned a result with a size exceeding the maximum number of bytes service limit.`,
  };
}

/** The response payload as a value with its exact size, or the outcome when it is too large. */
function responsePayload(
  raw: Extract<RawInvocation, { ok: true }>,
  resourceForLimit: string,
): { value: JsonValue | undefined; text: string | undefined } | TaskOutcome {
  if (raw.kind === 'text') {
    if (Buffer.byteLength(raw.text) > MAX_PAYLOAD_BYTES) return dataLimit(resourceForLimit);
    return { value: parsePayload(raw.text), text: raw.text };
  }
  // The estimate is an upper bound: only a large value needs its exact size.
  if (raw.maxBytes > MAX_PAYLOAD_BYTES && Buffer.byteLength(JSON.stringify(raw.value)) > MAX_PAYLOAD_BYTES) {
    return dataLimit(resourceForLimit);
  }
  return { value: raw.value, text: undefined };
}

function isOutcome(x: object): x is TaskOutcome {
  return 'ok' in x;
}

function account(arn: string): { region: string; account: string } {
  const p = arn.split(':');
  return { region: p[3] ?? 'us-east-1', account: p[4] ?? '123456789012' };
}

function notFound(arn: string): TaskOutcome {
  return {
    ok: false,
    error: 'Lambda.ResourceNotFoundException',
    cause: `Function not found: ${arn} (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: ${randomUUID()}; Proxy: null)`,
  };
}

/** A legacy Task (`Resource` is a function ARN): result = the parsed payload, error cause = raw text. */
export async function invokeLegacyLambda(
  provider: FunctionProvider,
  functionArn: string,
  input: JsonValue,
  signal: SignalSource,
): Promise<TaskOutcome> {
  const handler = provider.resolveFunction(functionArn);
  if (handler === undefined) return notFound(functionArn);
  const raw = await invokeRaw(
    provider,
    handler,
    functionNameOf(functionArn),
    functionArn,
    input,
    undefined,
    signal,
  );
  if (!raw.ok) return { ok: false, error: raw.errorType, cause: raw.payload };
  const payload = responsePayload(raw, functionArn);
  if (isOutcome(payload)) return payload;
  if (payload.value === undefined) {
    return {
      ok: false,
      error: 'Lambda.Unknown',
      cause: 'The Lambda function returned a payload that is not valid JSON.',
    };
  }
  return { ok: true, output: payload.value };
}

/** `arn:aws:states:::lambda:invoke`: result wraps the payload in the SDK's response shape. */
export async function invokeLambdaService(
  provider: FunctionProvider,
  _resource: string,
  params: JsonValue,
  region: string,
  accountId: string,
  signal: SignalSource,
): Promise<TaskOutcome> {
  if (!isJsonObject(params)) {
    return {
      ok: false,
      error: StatesErrors.Runtime,
      cause: 'The Parameters of lambda:invoke must be an object.',
    };
  }
  const fn = getOwn(params, 'FunctionName');
  if (typeof fn !== 'string') {
    return { ok: false, error: 'Lambda.InvalidParameterValueException', cause: 'FunctionName is required.' };
  }
  const functionArn = fn.startsWith('arn:')
    ? fn
    : /^\d{12}:function:/.test(fn)
      ? `arn:aws:lambda:${region}:${fn}`
      : `arn:aws:lambda:${region}:${accountId}:function:${fn}`;
  const handler = provider.resolveFunction(fn);
  if (handler === undefined) {
    // Lambda names the version it looked for: the qualifier, or $LATEST.
    return notFound(functionArn.split(':').length > 7 ? functionArn : `${functionArn}:$LATEST`);
  }
  const payload = getOwn(params, 'Payload');
  // A string Payload is the request document itself; without one the function gets `{}`.
  if (typeof payload === 'string' && parsePayload(payload) === undefined) {
    return {
      ok: false,
      error: 'Lambda.InvalidRequestContentException',
      cause: 'Could not parse request body into json: the Payload string is not valid JSON.',
    };
  }
  const raw = await invokeRaw(
    provider,
    handler,
    functionNameOf(fn),
    functionArn,
    typeof payload === 'string' ? null : (payload ?? {}),
    typeof payload === 'string' ? payload : undefined,
    signal,
  );
  if (!raw.ok) {
    // AWS re-serialises the error document compactly.
    const parsed = parsePayload(raw.payload);
    return {
      ok: false,
      error: raw.errorType,
      cause: parsed === undefined ? raw.payload : JSON.stringify(parsed),
    };
  }
  const response = responsePayload(raw, 'lambda');
  if (isOutcome(response)) return response;
  const length = String(Buffer.byteLength(response.text ?? JSON.stringify(response.value ?? null)));
  const requestId = randomUUID();
  const date = new Date().toUTCString();
  const output: JsonObject = {
    ExecutedVersion: '$LATEST',
    Payload: response.value === undefined ? (response.text ?? null) : response.value,
    SdkHttpMetadata: {
      AllHttpHeaders: {
        'X-Amz-Executed-Version': ['$LATEST'],
        'x-amzn-Remapped-Content-Length': ['0'],
        Connection: ['keep-alive'],
        'x-amzn-RequestId': [requestId],
        'Content-Length': [length],
        Date: [date],
        'Content-Type': ['application/json'],
      },
      HttpHeaders: {
        Connection: 'keep-alive',
        'Content-Length': length,
        'Content-Type': 'application/json',
        Date: date,
        'X-Amz-Executed-Version': '$LATEST',
        'x-amzn-Remapped-Content-Length': '0',
        'x-amzn-RequestId': requestId,
      },
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: 200,
  };
  if (getOwn(params, 'LogType') === 'Tail') {
    // Lambda returns the tail of the invocation's log, base64-encoded.
    const log = `START RequestId: ${requestId} Version: $LATEST\nEND RequestId: ${requestId}\nREPORT RequestId: ${requestId}\n`;
    output.LogResult = Buffer.from(log).toString('base64');
  }
  return { ok: true, output };
}

export { account as regionAndAccountOf };
