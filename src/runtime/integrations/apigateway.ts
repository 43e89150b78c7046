/**
 * The optimized API Gateway integration (`arn:aws:states:::apigateway:invoke[.waitForTaskToken]`):
 * calls an API deployed in API Gateway at `https://<ApiEndpoint>/<Stage>/<Path>`, with AWS Step
 * Functions' parameters (Headers and QueryParameters as lists of values, AuthType) and result
 * shape (`{Headers, ResponseBody, StatusCode, StatusText}`); a non-2xx answer fails the task with
 * `APIGateway.<status>` and the response body as cause.
 *
 * It is part of pass-through to AWS: served only when pass-through is configured. The endpoint
 * override `apigateway` (aws.yaml `endpoints.apigateway`, `STEPWISE_AWS_ENDPOINT_APIGATEWAY`)
 * sends every call to a local server instead; the definition still names an API Gateway host, so
 * it deploys to AWS unchanged. IAM_ROLE and RESOURCE_POLICY requests are signed with SigV4 with
 * the SDK's default credentials; the signing packages are loaded on first use (ADR 0008).
 */
import { StatesErrors } from '../../language/errors.js';
import { getOwn, isJsonObject, type JsonObject, type JsonValue } from '../../language/json.js';
import { isApiGatewayForbiddenHeader } from '../../language/validate.js';
import { dataLimit, type SignalSource, type TaskOutcome } from '../functions.js';
import type { AwsCredentials } from './aws.js';
import { readResponse } from './http.js';

export interface ApiGatewayOptions {
  /**
   * Base URL every call goes to instead of `https://<ApiEndpoint>` (a local server); the stage
   * and path are appended to it.
   */
  endpoint?: string | undefined;
  /** Whole-request timeout (the HTTP Task's setting; 60 seconds by default). */
  timeoutSeconds?: number | undefined;
  /** Named profile for the default credential chain (signed calls). */
  profile?: string | undefined;
  /** Explicit credentials (library use); otherwise the SDK's default provider chain. */
  credentials?: AwsCredentials | (() => Promise<AwsCredentials>) | undefined;
}

const DEFAULT_TIMEOUT_SECONDS = 60;
const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']);
const AUTH_TYPES = new Set(['NO_AUTH', 'IAM_ROLE', 'RESOURCE_POLICY']);
/** `<API ID>.execute-api.<region>.amazonaws.com`: the only hosts AWS accepts (China: `.com.cn`). */
const API_HOST = /^[0-9a-z]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;
type Failure = Extract<TaskOutcome, { ok: false }>;

function fail(error: string, cause: string): Failure {
  return { ok: false, error, cause };
}

interface Prepared {
  url: URL;
  method: string;
  headers: Headers;
  body: string | undefined;
  /** Region of the API (from its host), for signing. */
  region: string;
  sign: boolean;
}

type Sign = (req: Prepared) => Promise<void>;

/** Runs API Gateway tasks with one configuration. */
export class ApiGatewayInvoker {
  private readonly timeoutMs: number;
  private readonly base: URL | undefined;
  /** The SigV4 signer, made on the first signed call (it loads the SDK's packages). */
  private signer: Promise<Sign> | undefined;

  constructor(private readonly options: ApiGatewayOptions = {}) {
    const t = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    if (!(t > 0)) throw new RangeError('timeoutSeconds must be > 0');
    this.timeoutMs = t * 1000;
    this.base = options.endpoint === undefined ? undefined : new URL(options.endpoint);
  }

  async invoke(params: JsonValue, signalSource: SignalSource): Promise<TaskOutcome> {
    const req = this.prepare(params);
    if ('ok' in req) return req;
    const caller = typeof signalSource === 'function' ? signalSource() : signalSource;
    const signal = AbortSignal.any([caller, AbortSignal.timeout(this.timeoutMs)]);
    if (req.sign) {
      try {
        const sign = await (this.signer ??= loadSigner(this.options));
        await sign(req);
      } catch (e) {
        this.signer = undefined; // a package installed meanwhile, or credentials fixed, count next time
        return fail(
          StatesErrors.TaskFailed,
          `Stepwise could not sign the API Gateway request (AuthType IAM_ROLE or RESOURCE_POLICY): ${message(e)}`,
        );
      }
    }
    let res: Response;
    try {
      res = await fetch(req.url, {
        method: req.method,
        headers: req.headers,
        ...(req.body !== undefined ? { body: req.body } : {}),
        // AWS fails every non-2xx answer, redirects included: they are not followed.
        redirect: 'manual',
        signal,
      });
    } catch (e) {
      return this.transportFailure(e, signal, caller);
    }
    let read: Awaited<ReturnType<typeof readResponse>>;
    try {
      read = await readResponse(res);
    } catch (e) {
      return this.transportFailure(e, signal, caller);
    }
    if (read === undefined) return dataLimit('apigateway');
    const { text, result } = read;
    // As documented by AWS: the status in the error name, the response body as the cause.
    if (res.status < 200 || res.status > 299) return fail(`APIGateway.${res.status}`, text);
    return { ok: true, output: result };
  }

  private prepare(params: JsonValue): Prepared | Failure {
    const bad = (what: string) => fail(StatesErrors.Runtime, `apigateway:invoke: ${what}`);
    if (!isJsonObject(params)) return bad('the Parameters must be an object.');
    const endpoint = getOwn(params, 'ApiEndpoint');
    if (typeof endpoint !== 'string') return bad('ApiEndpoint is required and must be a string.');
    const host = API_HOST.exec(endpoint);
    if (host === null) {
      return bad(
        `ApiEndpoint '${endpoint}' is not an API Gateway host name (<API ID>.execute-api.<region>.amazonaws.com). To call a local server, set the pass-through endpoint override 'apigateway'.`,
      );
    }
    const method = getOwn(params, 'Method');
    if (typeof method !== 'string' || !METHODS.has(method)) {
      return bad(`Method must be one of ${[...METHODS].join(', ')}.`);
    }
    const stage = getOwn(params, 'Stage');
    if (stage !== undefined && typeof stage !== 'string') return bad('Stage must be a string.');
    const path = getOwn(params, 'Path');
    if (path !== undefined && typeof path !== 'string') return bad('Path must be a string.');
    const auth = getOwn(params, 'AuthType') ?? 'NO_AUTH';
    if (typeof auth !== 'string' || !AUTH_TYPES.has(auth)) {
      return bad(`AuthType must be one of ${[...AUTH_TYPES].join(', ')}.`);
    }
    const allowNull = getOwn(params, 'AllowNullValues') ?? false;
    if (typeof allowNull !== 'boolean') return bad('AllowNullValues must be a boolean.');

    const segments = [stage, path]
      .filter((s): s is string => s !== undefined)
      .map((s) => s.replace(/^\/+|\/+$/g, ''))
      .filter((s) => s !== '');
    const root = this.base ? this.base.href.replace(/\/+$/, '') : `https://${endpoint}`;
    let url: URL;
    try {
      url = new URL(`${root}/${segments.join('/')}`);
    } catch {
      return bad(`Stage and Path do not make a valid URL.`);
    }

    const query = getOwn(params, 'QueryParameters');
    if (query !== undefined) {
      if (!isJsonObject(query)) return bad('QueryParameters must be an object of lists of values.');
      for (const [k, v] of Object.entries(query)) {
        for (const item of valuesOf(v)) url.searchParams.append(k, item);
      }
    }
    const headers = new Headers();
    const h = getOwn(params, 'Headers');
    if (h !== undefined) {
      if (!isJsonObject(h)) return bad('Headers must be an object of lists of values.');
      for (const [k, v] of Object.entries(h)) {
        if (isApiGatewayForbiddenHeader(k)) return bad(`the header '${k}' is not permitted in Headers.`);
        try {
          for (const item of valuesOf(v)) headers.append(k, item);
        } catch {
          return bad(`Headers has an invalid header '${k}'.`);
        }
      }
    }
    let body: string | undefined;
    const requestBody = getOwn(params, 'RequestBody');
    if (requestBody !== undefined && requestBody !== null && method !== 'GET' && method !== 'HEAD') {
      if (typeof requestBody === 'string') body = requestBody;
      else {
        body = JSON.stringify(allowNull ? requestBody : withoutNulls(requestBody));
        if (!headers.has('content-type')) headers.set('Content-Type', 'application/json');
      }
    }
    return { url, method, headers, body, region: host[1]!, sign: auth !== 'NO_AUTH' };
  }

  private transportFailure(e: unknown, signal: AbortSignal, caller: AbortSignal): Failure {
    if (caller.aborted) return fail(StatesErrors.TaskFailed, 'The API Gateway request was cancelled.');
    // AWS names failures without a status `APIGateway.<Exception>`; which exception names its
    // Java client reports is not documented: these two are Stepwise's choice.
    if (signal.aborted) {
      return fail(
        'APIGateway.SocketTimeoutException',
        `The API Gateway request timed out after ${this.timeoutMs / 1000} seconds.`,
      );
    }
    const err = e instanceof Error ? e : new Error(String(e));
    const cause: unknown = err.cause;
    const detail = cause instanceof Error ? cause.message : err.message;
    return fail('APIGateway.ConnectException', `The API Gateway request failed: ${detail}`);
  }
}

/** A Headers or QueryParameters value: a list of values (AWS's shape); a lone scalar is one value. */
function valuesOf(v: JsonValue): string[] {
  if (v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x) => x !== null).map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
}

/** The body without null members, at any depth (AllowNullValues false, AWS's default). */
function withoutNulls(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (!isJsonObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = withoutNulls(x);
  return out;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * SigV4 for `execute-api` with the SDK's packages, imported on first use so that a Stepwise that
 * never signs loads none of them. They come with every `@aws-sdk/client-*` package.
 */
async function loadSigner(options: ApiGatewayOptions): Promise<Sign> {
  const [{ SignatureV4 }, { Hash }, { defaultProvider }] = await Promise.all([
    import('@smithy/signature-v4'),
    import('@smithy/hash-node'),
    import('@aws-sdk/credential-provider-node'),
  ]);
  const credentials =
    options.credentials ?? defaultProvider(options.profile === undefined ? {} : { profile: options.profile });
  const signers = new Map<string, InstanceType<typeof SignatureV4>>();
  return async (req) => {
    let signer = signers.get(req.region);
    if (signer === undefined) {
      signer = new SignatureV4({
        service: 'execute-api',
        region: req.region,
        credentials,
        sha256: Hash.bind(null, 'sha256'),
      });
      signers.set(req.region, signer);
    }
    const query: Record<string, string[]> = {};
    for (const [k, v] of req.url.searchParams) (query[k] ??= []).push(v);
    const headers: Record<string, string> = { host: req.url.host };
    req.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const signed = await signer.sign({
      method: req.method,
      protocol: req.url.protocol,
      hostname: req.url.hostname,
      ...(req.url.port !== '' ? { port: Number(req.url.port) } : {}),
      path: req.url.pathname,
      query,
      headers,
      body: req.body,
    });
    for (const [name, value] of Object.entries(signed.headers)) {
      // fetch sets Host itself from the URL (the same value that was signed).
      if (name.toLowerCase() !== 'host') req.headers.set(name, value);
    }
  };
}
