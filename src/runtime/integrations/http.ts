/**
 * The HTTP Task (`arn:aws:states:::http:invoke`): calls an HTTP API with `fetch`. Credentials
 * come from locally configured connections (keyed by the EventBridge ConnectionArn the
 * definition names) and never reach the history or error causes; an egress allow-list decides
 * which hosts may be called.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { parseYaml } from '../../language/yaml.js';
import { StatesErrors } from '../../language/errors.js';
import type { JsonObject, JsonValue } from '../../language/json.js';
import { getOwn, isJsonObject } from '../../language/json.js';
import { MAX_PAYLOAD_BYTES, dataLimit, type SignalSource, type TaskOutcome } from '../functions.js';

interface KeyValue {
  Key: string;
  Value: string;
}

/** Extra request parameters a connection adds (EventBridge's `InvocationHttpParameters`). */
export interface ConnectionHttpParameters {
  HeaderParameters?: KeyValue[];
  QueryStringParameters?: KeyValue[];
  BodyParameters?: KeyValue[];
}

/** A connection in EventBridge's CreateConnection shape (secrets included, kept local). */
export interface HttpConnection {
  AuthorizationType: 'BASIC' | 'API_KEY' | 'OAUTH_CLIENT_CREDENTIALS';
  AuthParameters: {
    BasicAuthParameters?: { Username: string; Password: string };
    ApiKeyAuthParameters?: { ApiKeyName: string; ApiKeyValue: string };
    OAuthParameters?: {
      AuthorizationEndpoint: string;
      HttpMethod?: 'GET' | 'POST' | 'PUT';
      ClientParameters: { ClientID: string; ClientSecret: string };
      OAuthHttpParameters?: ConnectionHttpParameters;
    };
    InvocationHttpParameters?: ConnectionHttpParameters;
  };
}

export interface HttpTaskOptions {
  /** Connections by ConnectionArn. */
  connections?: Record<string, HttpConnection> | undefined;
  /**
   * Hosts HTTP Tasks may call: `api.example.com`, `*.example.com`, `host:8443`, IPv4/IPv6
   * literals, or `*` for any. Loopback hosts are allowed when this is not set.
   */
  allowedHosts?: string[] | undefined;
  /** Whole-request timeout (AWS's HTTP Task gives up after 60 seconds). */
  timeoutSeconds?: number | undefined;
  /** Region for the User-Agent header. */
  region?: string | undefined;
}

const DEFAULT_TIMEOUT_SECONDS = 60;
const MAX_REDIRECTS = 10;
const LOOPBACK = ['localhost', '127.0.0.0/8', '::1'];
const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']);
/** AWS's names are COMMAS; COMMA is accepted as well. */
const ARRAY_FORMATS = new Set(['BRACKETS', 'COMMAS', 'COMMA', 'INDICES', 'REPEAT']);

type Failure = Extract<TaskOutcome, { ok: false }>;

function fail(error: string, cause: string): Failure {
  return { ok: false, error, cause };
}

/** Runs HTTP Tasks with one configuration (connections, allow-list, OAuth token cache). */
export class HttpInvoker {
  private readonly connections: Map<string, HttpConnection>;
  private readonly allowed: string[];
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  /** OAuth access tokens by ConnectionArn. */
  private readonly tokens = new Map<string, { token: string; expires: number }>();

  constructor(options: HttpTaskOptions = {}) {
    this.connections = new Map(Object.entries(options.connections ?? {}));
    for (const [arn, c] of this.connections) validateConnection(arn, c);
    this.allowed = (options.allowedHosts ?? LOOPBACK).map((h) => h.toLowerCase());
    const t = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    if (!(t > 0)) throw new RangeError('http timeoutSeconds must be > 0');
    this.timeoutMs = t * 1000;
    this.userAgent = `Amazon|StepFunctions|HttpInvoke|${options.region ?? 'us-east-1'}`;
  }

  /** Whether the allow-list lets requests go to this URL's host. */
  isAllowed(url: URL): boolean {
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return this.allowed.some((p) => hostMatches(p, host, port));
  }

  async invoke(params: JsonValue, signalSource: SignalSource): Promise<TaskOutcome> {
    const req = this.buildRequest(params);
    if ('ok' in req) return req;
    const connection = req.connectionArn === undefined ? undefined : this.connections.get(req.connectionArn);
    if (req.connectionArn !== undefined && connection === undefined) {
      return fail(
        StatesErrors.TaskFailed,
        `No connection is configured for ConnectionArn '${req.connectionArn}'. Add it to the HTTP Task connections.`,
      );
    }
    const caller = typeof signalSource === 'function' ? signalSource() : signalSource;
    const signal = AbortSignal.any([caller, AbortSignal.timeout(this.timeoutMs)]);
    try {
      if (connection) {
        const auth = await this.applyConnection(req, connection, req.connectionArn!, signal);
        if (auth) return auth;
      }
      return await this.send(req, signal);
    } catch (e) {
      return this.socketFailure(e, signal, caller);
    }
  }

  private buildRequest(params: JsonValue): PreparedRequest | Failure {
    if (!isJsonObject(params))
      return fail(StatesErrors.Runtime, 'The Parameters of http:invoke must be an object.');
    const endpoint = getOwn(params, 'ApiEndpoint');
    const method = getOwn(params, 'Method');
    if (typeof endpoint !== 'string')
      return fail(StatesErrors.Runtime, 'ApiEndpoint is required and must be a string.');
    if (typeof method !== 'string' || !METHODS.has(method.toUpperCase())) {
      return fail(StatesErrors.Runtime, `Method must be one of ${[...METHODS].join(', ')}.`);
    }
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      return fail(StatesErrors.Runtime, `ApiEndpoint '${endpoint}' is not a valid URL.`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return fail(StatesErrors.Runtime, 'ApiEndpoint must be an http or https URL.');
    }
    const transform = getOwn(params, 'Transform');
    let urlEncoded = false;
    let arrayFormat = 'INDICES';
    if (transform !== undefined) {
      if (!isJsonObject(transform)) return fail(StatesErrors.Runtime, 'Transform must be an object.');
      const enc = getOwn(transform, 'RequestBodyEncoding') ?? 'NONE';
      if (enc !== 'NONE' && enc !== 'URL_ENCODED') {
        return fail(StatesErrors.Runtime, 'Transform.RequestBodyEncoding must be NONE or URL_ENCODED.');
      }
      urlEncoded = enc === 'URL_ENCODED';
      const opts = getOwn(transform, 'RequestEncodingOptions');
      const fmt = isJsonObject(opts) ? getOwn(opts, 'ArrayFormat') : undefined;
      if (fmt !== undefined) {
        if (typeof fmt !== 'string' || !ARRAY_FORMATS.has(fmt)) {
          return fail(
            StatesErrors.Runtime,
            'RequestEncodingOptions.ArrayFormat must be BRACKETS, COMMAS, INDICES or REPEAT.',
          );
        }
        arrayFormat = fmt;
      }
    }
    const headers = new Headers();
    const h = getOwn(params, 'Headers');
    if (h !== undefined) {
      if (!isJsonObject(h)) return fail(StatesErrors.Runtime, 'Headers must be an object.');
      for (const [k, v] of Object.entries(h)) {
        try {
          headers.set(k, scalarText(v));
        } catch {
          return fail(StatesErrors.Runtime, `Headers has an invalid header '${k}'.`);
        }
      }
    }
    const query = getOwn(params, 'QueryParameters');
    if (query !== undefined) {
      if (!isJsonObject(query)) return fail(StatesErrors.Runtime, 'QueryParameters must be an object.');
      for (const [k, v] of formPairs(query, arrayFormat)) url.searchParams.append(k, v);
    }
    let body: JsonValue | undefined = getOwn(params, 'RequestBody');
    const auth = getOwn(params, 'Authentication');
    const arn = isJsonObject(auth) ? getOwn(auth, 'ConnectionArn') : undefined;
    if (arn !== undefined && typeof arn !== 'string') {
      return fail(StatesErrors.Runtime, 'Authentication.ConnectionArn must be a string.');
    }
    if (body === null) body = undefined;
    return {
      url,
      method: method.toUpperCase(),
      headers,
      body,
      urlEncoded,
      arrayFormat,
      connectionArn: arn,
      secretHeaders: [],
    };
  }

  /** Adds a connection's parameters and credentials to the request; a failure if OAuth fails. */
  private async applyConnection(
    req: PreparedRequest,
    c: HttpConnection,
    arn: string,
    signal: AbortSignal,
  ): Promise<Failure | undefined> {
    const p = c.AuthParameters;
    const inv = p.InvocationHttpParameters;
    for (const kv of inv?.HeaderParameters ?? []) {
      req.headers.set(kv.Key, kv.Value);
      req.secretHeaders.push(kv.Key);
    }
    for (const kv of inv?.QueryStringParameters ?? []) req.url.searchParams.set(kv.Key, kv.Value);
    if (inv?.BodyParameters?.length) {
      if (req.body !== undefined && !isJsonObject(req.body)) {
        return fail(
          StatesErrors.Runtime,
          'A string RequestBody cannot take the connection’s body parameters.',
        );
      }
      const merged: JsonObject = { ...(req.body ?? {}) };
      for (const kv of inv.BodyParameters) merged[kv.Key] = kv.Value;
      req.body = merged;
    }
    switch (c.AuthorizationType) {
      case 'BASIC': {
        const b = p.BasicAuthParameters!;
        req.headers.set(
          'Authorization',
          `Basic ${Buffer.from(`${b.Username}:${b.Password}`).toString('base64')}`,
        );
        req.secretHeaders.push('Authorization');
        return undefined;
      }
      case 'API_KEY':
        req.headers.set(p.ApiKeyAuthParameters!.ApiKeyName, p.ApiKeyAuthParameters!.ApiKeyValue);
        req.secretHeaders.push(p.ApiKeyAuthParameters!.ApiKeyName);
        return undefined;
      case 'OAUTH_CLIENT_CREDENTIALS': {
        const token = await this.oauthToken(arn, p.OAuthParameters!, signal);
        if (typeof token !== 'string') return token;
        req.headers.set('Authorization', `Bearer ${token}`);
        req.secretHeaders.push('Authorization');
        return undefined;
      }
    }
  }

  private async oauthToken(
    arn: string,
    o: NonNullable<HttpConnection['AuthParameters']['OAuthParameters']>,
    signal: AbortSignal,
  ): Promise<string | Failure> {
    const cached = this.tokens.get(arn);
    if (cached && cached.expires > Date.now()) return cached.token;
    const url = new URL(o.AuthorizationEndpoint);
    if (!this.isAllowed(url)) return this.denied(url);
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    for (const kv of o.OAuthHttpParameters?.BodyParameters ?? []) form.set(kv.Key, kv.Value);
    for (const kv of o.OAuthHttpParameters?.QueryStringParameters ?? [])
      url.searchParams.set(kv.Key, kv.Value);
    const headers = new Headers({
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    });
    for (const kv of o.OAuthHttpParameters?.HeaderParameters ?? []) headers.set(kv.Key, kv.Value);
    const { ClientID, ClientSecret } = o.ClientParameters;
    headers.set('Authorization', `Basic ${Buffer.from(`${ClientID}:${ClientSecret}`).toString('base64')}`);
    const method = o.HttpMethod ?? 'POST';
    if (method === 'GET') for (const [k, v] of form) url.searchParams.set(k, v);
    const res = await fetch(url, {
      method,
      headers,
      ...(method === 'GET' ? {} : { body: form.toString() }),
      redirect: 'manual',
      signal,
    });
    let doc: { access_token?: unknown; expires_in?: unknown } = {};
    try {
      doc = (await res.json()) as typeof doc;
    } catch {
      // Not JSON: handled as a missing token below.
    }
    const token = doc.access_token;
    // The token endpoint's response may hold secrets: the cause names only the status.
    if (!res.ok || typeof token !== 'string') {
      return fail(
        StatesErrors.TaskFailed,
        `The OAuth token request of connection '${arn}' failed (HTTP ${res.status}).`,
      );
    }
    const expiresIn = Number(doc.expires_in);
    // Refresh a little early so a token does not expire in flight.
    const ttl = Number.isFinite(expiresIn) && expiresIn > 0 ? Math.max(expiresIn - 30, 1) : 300;
    this.tokens.set(arn, { token, expires: Date.now() + ttl * 1000 });
    return token;
  }

  private async send(req: PreparedRequest, signal: AbortSignal): Promise<TaskOutcome> {
    let body: string | undefined;
    if (req.body !== undefined && req.method !== 'GET' && req.method !== 'HEAD') {
      if (typeof req.body === 'string') body = req.body;
      else if (req.urlEncoded && isJsonObject(req.body)) {
        body = formPairs(req.body, req.arrayFormat)
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
          .join('&');
        if (!req.headers.has('content-type'))
          req.headers.set('Content-Type', 'application/x-www-form-urlencoded');
      } else {
        body = JSON.stringify(req.body);
        if (!req.headers.has('content-type'))
          req.headers.set('Content-Type', 'application/json; charset=UTF-8');
      }
    }
    req.headers.set('User-Agent', this.userAgent);
    let url = req.url;
    let method = req.method;
    const headers = req.headers;
    // Redirects are followed here so that every hop passes the allow-list, and credentials are
    // not sent to another origin.
    for (let hop = 0; ; hop++) {
      if (!this.isAllowed(url)) return this.denied(url);
      const res = await fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        redirect: 'manual',
        signal,
      });
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location !== null && hop < MAX_REDIRECTS) {
        await res.body?.cancel();
        const next = new URL(location, url);
        if (next.origin !== url.origin) for (const name of req.secretHeaders) headers.delete(name);
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
          headers.delete('content-type');
        }
        url = next;
        continue;
      }
      return this.outcome(res);
    }
  }

  private async outcome(res: Response): Promise<TaskOutcome> {
    const read = await readResponse(res);
    if (read === undefined) return dataLimit('http');
    if (res.status < 200 || res.status > 299) {
      // AWS reports the status in the error name and the reason phrase as the cause.
      return fail(`States.Http.StatusCode.${res.status}`, res.statusText);
    }
    return { ok: true, output: read.result };
  }

  private denied(url: URL): Failure {
    return fail(
      StatesErrors.Permissions,
      `The host '${url.host}' is not in Stepwise's HTTP egress allow-list (http.allowedHosts).`,
    );
  }

  private socketFailure(e: unknown, signal: AbortSignal, caller: AbortSignal): Failure {
    if (signal.aborted && !caller.aborted) {
      return fail('States.Http.Socket', `The HTTP request timed out after ${this.timeoutMs / 1000} seconds.`);
    }
    if (caller.aborted) return fail(StatesErrors.TaskFailed, 'The HTTP request was cancelled.');
    const err = e as { message?: string; cause?: { code?: string; message?: string } };
    const detail = err.cause?.message ?? err.message ?? String(e);
    return fail('States.Http.Socket', `The HTTP request failed: ${detail}`);
  }
}

/**
 * Reads a response into the result shape AWS gives HTTP Tasks and API Gateway tasks alike:
 * `{Headers, ResponseBody, StatusCode, StatusText}`, with `Headers` as lower-case names mapped to
 * arrays of values and a JSON body parsed. `undefined` when the body is over the payload limit.
 */
export async function readResponse(res: Response): Promise<{ text: string; result: JsonObject } | undefined> {
  const bytes = await readLimited(res, MAX_PAYLOAD_BYTES + 1);
  if (bytes.length > MAX_PAYLOAD_BYTES) return undefined;
  const text = new TextDecoder().decode(bytes);
  const headers: JsonObject = {};
  res.headers.forEach((value, name) => {
    const prev = headers[name];
    headers[name] = Array.isArray(prev) ? [...prev, value] : [value];
  });
  let responseBody: JsonValue = text;
  const type = res.headers.get('content-type') ?? '';
  if (/^application\/([\w.+-]+\+)?json\b/i.test(type) && text.trim() !== '') {
    try {
      responseBody = JSON.parse(text) as JsonValue;
    } catch {
      responseBody = text;
    }
  }
  return {
    text,
    result: {
      Headers: headers,
      ResponseBody: responseBody,
      StatusCode: res.status,
      StatusText: res.statusText,
    },
  };
}

interface PreparedRequest {
  url: URL;
  method: string;
  headers: Headers;
  body: JsonValue | undefined;
  urlEncoded: boolean;
  arrayFormat: string;
  connectionArn: string | undefined;
  /** Headers holding the connection's credentials: not sent on to another origin. */
  secretHeaders: string[];
}

async function readLimited(res: Response, limit: number): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) {
      await res.body.cancel().catch(() => undefined);
      break;
    }
  }
  return Buffer.concat(chunks);
}

function scalarText(v: JsonValue): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(scalarText).join(',');
  return JSON.stringify(v);
}

/** Flattens an object into form pairs: nested objects as `a[b]`, arrays per ArrayFormat. */
export function formPairs(obj: JsonObject, arrayFormat: string, prefix?: string): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix === undefined ? k : `${prefix}[${k}]`;
    if (v === null) out.push([key, '']);
    else if (Array.isArray(v)) {
      if (arrayFormat === 'COMMAS' || arrayFormat === 'COMMA') {
        out.push([key, v.map(scalarText).join(',')]);
        continue;
      }
      v.forEach((item, i) => {
        const itemKey =
          arrayFormat === 'BRACKETS' ? `${key}[]` : arrayFormat === 'REPEAT' ? key : `${key}[${i}]`;
        if (isJsonObject(item)) out.push(...formPairs(item, arrayFormat, itemKey));
        else out.push([itemKey, scalarText(item)]);
      });
    } else if (isJsonObject(v)) out.push(...formPairs(v, arrayFormat, key));
    else out.push([key, scalarText(v)]);
  }
  return out;
}

function hostMatches(pattern: string, host: string, port: string): boolean {
  if (pattern === '*') return true;
  let p = pattern;
  let wantPort: string | undefined;
  // `host:port` (IPv6 literals with a port are written `[::1]:8080`).
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(p);
  if (bracketed) {
    p = bracketed[1]!;
    wantPort = bracketed[2];
  } else if (/^[^:]+:\d+$/.test(p)) {
    [p, wantPort] = p.split(':') as [string, string];
  }
  if (wantPort !== undefined && wantPort !== port) return false;
  if (p.includes('/')) return inCidr(host, p);
  if (p.startsWith('*.')) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  return p === host;
}

function inCidr(host: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split('/') as [string, string];
  const bits = Number(bitsText);
  if (isIP(host) === 4 && isIP(net) === 4) {
    const a = ipv4(host);
    const b = ipv4(net);
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return (a & mask) >>> 0 === (b & mask) >>> 0;
  }
  return isIP(host) === 6 && host === net && bits === 128;
}

function ipv4(ip: string): number {
  return ip.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}

function validateConnection(arn: string, c: HttpConnection): void {
  const bad = (what: string) => new Error(`HTTP connection '${arn}': ${what}`);
  // Configurations come from files: check the shape the types promise.
  const shape: unknown = c;
  if (!isJsonObject(shape) || !isJsonObject(shape.AuthParameters)) {
    throw bad('needs AuthorizationType and AuthParameters');
  }
  const p = c.AuthParameters;
  switch (c.AuthorizationType) {
    case 'BASIC':
      if (
        typeof p.BasicAuthParameters?.Username !== 'string' ||
        typeof p.BasicAuthParameters.Password !== 'string'
      ) {
        throw bad('BASIC needs AuthParameters.BasicAuthParameters.Username and Password');
      }
      return;
    case 'API_KEY':
      if (
        typeof p.ApiKeyAuthParameters?.ApiKeyName !== 'string' ||
        typeof p.ApiKeyAuthParameters.ApiKeyValue !== 'string'
      ) {
        throw bad('API_KEY needs AuthParameters.ApiKeyAuthParameters.ApiKeyName and ApiKeyValue');
      }
      return;
    case 'OAUTH_CLIENT_CREDENTIALS':
      if (
        typeof p.OAuthParameters?.AuthorizationEndpoint !== 'string' ||
        typeof p.OAuthParameters.ClientParameters?.ClientID !== 'string' ||
        typeof p.OAuthParameters.ClientParameters.ClientSecret !== 'string'
      ) {
        throw bad(
          'OAUTH_CLIENT_CREDENTIALS needs AuthorizationEndpoint and ClientParameters.ClientID/ClientSecret',
        );
      }
      return;
    default:
      throw bad('AuthorizationType must be BASIC, API_KEY or OAUTH_CLIENT_CREDENTIALS');
  }
}

/**
 * Reads HTTP Task settings from JSON or YAML: `{connections, allowedHosts, timeoutSeconds}`.
 * String values `${env:NAME}` are replaced by environment variables, so secrets can stay out
 * of the file.
 */
export async function loadHttpConfig(path: string): Promise<HttpTaskOptions> {
  const text = await readFile(path, 'utf8');
  const data: unknown = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  if (!isJsonObject(data)) throw new Error(`${path}: the HTTP configuration must be an object`);
  return substituteEnv(data) as HttpTaskOptions;
}

/** Replaces `${env:NAME}` strings (whole values only) with environment variables. */
export function substituteEnv(v: unknown): unknown {
  if (typeof v === 'string') {
    const m = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(v);
    if (!m) return v;
    const value = process.env[m[1]!];
    if (value === undefined) throw new Error(`environment variable ${m[1]} is not set`);
    return value;
  }
  if (Array.isArray(v)) return v.map(substituteEnv);
  if (isJsonObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substituteEnv(x)]));
  return v;
}
