/**
 * Lambda functions from a configuration file: each function name maps to an ES module export,
 * an HTTP endpoint or a command. Failures take the names and causes AWS Step Functions reports
 * for Lambda (function errors by their errorType, timeouts as Lambda.Unknown, …).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseYaml } from '../../language/yaml.js';
import { isJsonObject } from '../../language/json.js';
import {
  functionsFromMap,
  type FunctionProvider,
  type LambdaContext,
  type LambdaHandler,
} from '../functions.js';

export interface ModuleFunction {
  /** Path of an ES module, relative to the configuration file. */
  module: string;
  /** The handler's export name (default `handler`). */
  export?: string;
  timeoutSeconds?: number;
}

export interface HttpFunction {
  /** The event JSON is POSTed here; the JSON response is the result. */
  url: string;
  /** Extra request headers (e.g. a token the endpoint expects). */
  headers?: Record<string, string>;
  timeoutSeconds?: number;
}

export interface CommandFunction {
  /** Run with the event JSON on stdin; stdout is the result. */
  command: string;
  args?: string[];
  /** Working directory, relative to the configuration file (default: its directory). */
  cwd?: string;
  /** Added to the environment of the process. */
  env?: Record<string, string>;
  timeoutSeconds?: number;
}

export type FunctionSpec = ModuleFunction | HttpFunction | CommandFunction;

export interface FunctionConfig {
  functions: Record<string, FunctionSpec | LambdaHandler>;
  /** Default timeout of every function (Lambda's default is 3 seconds). */
  timeoutSeconds?: number;
}

const DEFAULT_TIMEOUT_SECONDS = 3;
/** Lambda's limit for a synchronous response; more output is not buffered. */
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;
/** Keep only the end of stderr: the error is usually last. */
const MAX_STDERR_CHARS = 4096;

/**
 * A failure with Lambda's error document. `errorType` becomes the Step Functions error and the
 * document (made once the request id is known) the cause.
 */
export class FunctionFailure extends Error {
  constructor(
    errorType: string,
    readonly payload: (requestId: string) => string,
  ) {
    super(errorType);
    this.name = errorType;
  }
}

/** Lambda reports a payload without an errorType as Lambda.Unknown with this cause. */
function unknownError(payloadText: (requestId: string) => string): FunctionFailure {
  return new FunctionFailure(
    'Lambda.Unknown',
    (rid) =>
      `The cause could not be determined because Lambda did not return an error type. Returned payload: ${payloadText(rid)}`,
  );
}

function timedOut(seconds: number): FunctionFailure {
  return unknownError((rid) =>
    JSON.stringify({
      errorMessage: `${new Date().toISOString()} ${rid} Task timed out after ${seconds.toFixed(2)} seconds`,
    }),
  );
}

function serviceException(message: string): FunctionFailure {
  return new FunctionFailure(
    'Lambda.ServiceException',
    (rid) =>
      `${message} (Service: AWSLambda; Status Code: 500; Error Code: ServiceException; Request ID: ${rid}; Proxy: null)`,
  );
}

function runtimeExit(detail: string): FunctionFailure {
  return new FunctionFailure('Runtime.ExitError', (rid) =>
    JSON.stringify({ errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${rid} Error: ${detail}` }),
  );
}

/** An error document the function returned (`{errorType, errorMessage, …}`), if the text is one. */
function errorDocument(text: string): FunctionFailure | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isJsonObject(doc) || typeof doc.errorMessage !== 'string') return undefined;
  if (typeof doc.errorType === 'string' && doc.errorType !== '') {
    return new FunctionFailure(doc.errorType, () => text);
  }
  return unknownError(() => text);
}

/** The default error document for other thrown errors (as a Node.js Lambda runtime writes it). */
function defaultErrorPayload(err: unknown, requestId: string): string {
  return JSON.stringify({
    errorMessage: err instanceof Error ? err.message : String(err),
    errorType: err instanceof Error && err.name ? err.name : 'Error',
    requestId,
    stackTrace:
      err instanceof Error && err.stack
        ? err.stack
            .split('\n')
            .slice(1)
            .map((l) => l.trim())
        : [],
  });
}

function describe(e: unknown): string {
  const err = e as { message?: string; cause?: { message?: string } };
  return err.cause?.message ?? err.message ?? String(e);
}

/** Races a handler against its timeout (the late result is ignored, as Lambda would). */
function withTimeout(handler: LambdaHandler, seconds: number): LambdaHandler {
  return async (event, context) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timedOut(seconds)), seconds * 1000);
    });
    try {
      return await Promise.race([Promise.resolve(handler(event, context)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}

function httpHandler(spec: HttpFunction, seconds: number, name: string): LambdaHandler {
  return async (_event, context: LambdaContext) => {
    const timeout = AbortSignal.timeout(seconds * 1000);
    const signal = AbortSignal.any([context.signal, timeout]);
    let res: Response;
    let text: string;
    try {
      res = await fetch(spec.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...spec.headers },
        body: context.payloadText,
        signal,
      });
      text = await res.text();
    } catch (e) {
      if (timeout.aborted) throw timedOut(seconds);
      throw serviceException(`Stepwise could not reach the endpoint of function '${name}': ${describe(e)}`);
    }
    if (Buffer.byteLength(text) > MAX_RESPONSE_BYTES) throw tooLarge();
    const doc = errorDocument(text);
    if (doc) throw doc;
    if (res.headers.has('x-amz-function-error')) throw unknownError(() => text);
    if (!res.ok) {
      if (res.status === 502 || res.status === 503 || res.status === 504) {
        throw serviceException(`The endpoint of function '${name}' answered HTTP ${res.status}`);
      }
      throw unknownError(() =>
        JSON.stringify({ errorMessage: `HTTP ${res.status} ${res.statusText}${text ? `: ${text}` : ''}` }),
      );
    }
    return Buffer.from(text.trim() === '' ? 'null' : text);
  };
}

function tooLarge(): FunctionFailure {
  return new FunctionFailure('Function.ResponseSizeTooLarge', () =>
    JSON.stringify({
      errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
      errorType: 'Function.ResponseSizeTooLarge',
    }),
  );
}

function commandHandler(
  spec: CommandFunction,
  seconds: number,
  baseDir: string,
  name: string,
): LambdaHandler {
  return (_event, context: LambdaContext) =>
    new Promise((resolve, reject) => {
      const child = spawn(spec.command, spec.args ?? [], {
        cwd: resolvePath(baseDir, spec.cwd ?? '.'),
        env: { ...process.env, ...spec.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      let outBytes = 0;
      let err = '';
      let why: 'timeout' | 'cancelled' | 'tooLarge' | undefined;
      const stop = (reason: typeof why) => {
        why ??= reason;
        child.kill('SIGKILL');
      };
      const timer = setTimeout(() => stop('timeout'), seconds * 1000);
      const onAbort = () => stop('cancelled');
      context.signal.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (chunk: Buffer) => {
        outBytes += chunk.length;
        if (outBytes > MAX_RESPONSE_BYTES) stop('tooLarge');
        else out.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        err = (err + chunk.toString()).slice(-MAX_STDERR_CHARS);
      });
      // A process that exits without reading stdin makes the write fail with EPIPE: not an error.
      child.stdin.on('error', () => undefined);
      child.stdin.end(context.payloadText);
      child.on('error', (e) => {
        clearTimeout(timer);
        context.signal.removeEventListener('abort', onAbort);
        reject(
          serviceException(`Stepwise could not start the command of function '${name}': ${describe(e)}`),
        );
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        context.signal.removeEventListener('abort', onAbort);
        if (why === 'timeout') return reject(timedOut(seconds));
        if (why === 'tooLarge') return reject(tooLarge());
        if (why === 'cancelled') return reject(new Error('The invocation was cancelled.'));
        const text = Buffer.concat(out).toString('utf8');
        const doc = errorDocument(text);
        if (doc) return reject(doc);
        if (code !== 0) {
          const stderr = err.trim();
          return reject(
            runtimeExit(
              stderr ||
                (signal
                  ? `Runtime exited with error: signal: ${signal}`
                  : `Runtime exited with error: exit status ${code}`),
            ),
          );
        }
        resolve(Buffer.from(text.trim() === '' ? 'null' : text));
      });
    });
}

function positive(value: unknown, where: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new Error(`${where}: timeoutSeconds must be a positive number`);
  }
  return value;
}

async function handlerFor(
  name: string,
  spec: FunctionSpec | LambdaHandler,
  baseDir: string,
  defaultSeconds: number,
): Promise<LambdaHandler> {
  if (typeof spec === 'function') return spec;
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new Error(`function '${name}': expected an object with module, url or command`);
  }
  const kinds = (['module', 'url', 'command'] as const).filter((k) => k in spec);
  if (kinds.length !== 1) throw new Error(`function '${name}': give exactly one of module, url or command`);
  const seconds = positive(spec.timeoutSeconds, `function '${name}'`) ?? defaultSeconds;
  if ('module' in spec) {
    const exportName = spec.export ?? 'handler';
    if (typeof spec.module !== 'string' || typeof exportName !== 'string') {
      throw new Error(`function '${name}': module and export must be strings`);
    }
    const mod = (await import(pathToFileURL(resolvePath(baseDir, spec.module)).href)) as Record<
      string,
      unknown
    >;
    const fn = mod[exportName];
    if (typeof fn !== 'function')
      throw new Error(`function '${name}': ${spec.module} has no function export '${exportName}'`);
    return withTimeout(fn as LambdaHandler, seconds);
  }
  if ('url' in spec) {
    if (typeof spec.url !== 'string' || !/^https?:\/\//.test(spec.url)) {
      throw new Error(`function '${name}': url must be an http(s) URL`);
    }
    return httpHandler(spec, seconds, name);
  }
  if (typeof spec.command !== 'string' || (spec.args !== undefined && !Array.isArray(spec.args))) {
    throw new Error(`function '${name}': command must be a string and args an array of strings`);
  }
  return commandHandler(spec, seconds, baseDir, name);
}

/** Builds a provider from a configuration; relative paths resolve against `baseDir`. */
export async function functionsFromConfig(
  config: FunctionConfig,
  baseDir: string,
): Promise<FunctionProvider> {
  if (!isJsonObject(config) || !isJsonObject(config.functions)) {
    throw new Error('the function configuration needs a `functions` object');
  }
  const defaultSeconds = positive(config.timeoutSeconds, 'configuration') ?? DEFAULT_TIMEOUT_SECONDS;
  const map: Record<string, LambdaHandler> = {};
  for (const [name, spec] of Object.entries(config.functions)) {
    map[name] = await handlerFor(name, spec, baseDir, defaultSeconds);
  }
  const provider = functionsFromMap(map);
  provider.formatError = (err, { requestId }) =>
    err instanceof FunctionFailure ? err.payload(requestId) : defaultErrorPayload(err, requestId);
  return provider;
}

/**
 * Loads functions from a JSON, YAML or ES-module configuration file. The file holds
 * `{functions: {name: spec}, timeoutSeconds?}`; an ES module exports that as its default.
 */
export async function loadFunctionConfig(path: string): Promise<FunctionProvider> {
  const file = resolvePath(path);
  let data: unknown;
  if (/\.(m?js)$/i.test(file)) {
    data = ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  } else {
    const text = await readFile(file, 'utf8');
    data = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  }
  try {
    return await functionsFromConfig(data as FunctionConfig, dirname(file));
  } catch (e) {
    throw new Error(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
