/**
 * Amazon EKS's Kubernetes API integrations, as AWS Step Functions documents them:
 *
 * - `eks:call` sends one request to the cluster's API server (`Method`, `Path`,
 *   `QueryParameters`, `RequestBody`) and answers `{ResponseBody, StatusCode, StatusText}`;
 * - `eks:runJob` creates a `batch/v1` Job in `Namespace` (default `default`) and answers the API
 *   server's answer, the Job; its `.sync` form (aws-sync.ts) polls the Job until it completes or
 *   fails, then reads its pods' logs when `LogOptions.RetrieveLogs` is set.
 *
 * A status other than 2xx fails the task with `EKS.<status>` and `{ResponseBody, StatusCode,
 * StatusText}` as cause (AWS's documented `EKS.401`).
 *
 * Authentication is EKS's IAM authentication: a bearer token `k8s-aws-v1.` + the base64url
 * (unpadded) of an STS GetCallerIdentity URL presigned for 60 seconds that also signs the header
 * `x-k8s-aws-id: <ClusterName>`, made with pass-through's credentials. TLS trusts exactly the
 * `CertificateAuthority` given (base64 of the cluster CA's PEM). The signer (`@smithy/*`, installed
 * with every SDK client) and `node:https` are loaded on first use, so a Stepwise that never calls
 * a cluster loads neither.
 */
import { StatesErrors } from '../../language/errors.js';
import { getOwn, isJsonObject, type JsonObject, type JsonValue } from '../../language/json.js';
import { MAX_PAYLOAD_BYTES, dataLimit, type SignalSource, type TaskOutcome } from '../functions.js';

/** Credentials as pass-through takes them (kept structural: aws.ts imports this module). */
export interface EksCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface EksKubernetesOptions {
  /** The region whose STS endpoint the token is presigned for, when the task names none. */
  region: string;
  /** An STS endpoint presigned instead of `https://sts.<region>.amazonaws.com` (override `sts`). */
  stsEndpoint?: string | undefined;
  /** Named profile for the default credential chain. */
  profile?: string | undefined;
  /** Explicit credentials (library use); otherwise the SDK's default provider chain. */
  credentials?: EksCredentials | (() => Promise<EksCredentials>) | undefined;
  /** Per request (default 60 seconds, as the HTTP Task's). */
  timeoutSeconds?: number | undefined;
}

/** What a call needs from the task (resource for messages, region from the resource ARN). */
export interface EksTask {
  resource: string;
  region?: string | undefined;
  action: string;
  parameters: JsonValue;
}

type Failure = Extract<TaskOutcome, { ok: false }>;

/** A request's answer, or why there is none (`transport`: the server was not reached). */
type Answer =
  | { ok: true; status: number; statusText: string; body: JsonValue; text: string }
  | { ok: false; outcome: Failure; transport: boolean };

interface Cluster {
  name: string;
  endpoint: URL;
  /** PEM text of the CA the server's certificate must chain to. */
  ca: string;
  region: string | undefined;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH']);
const DEFAULT_TIMEOUT_SECONDS = 60;
/** Bodies are read up to this size; a larger one could not be a result anyway. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const TOKEN_PREFIX = 'k8s-aws-v1.';

const fail = (error: string, cause: string): Failure => ({ ok: false, error, cause });
const refuse = (what: string): Failure => fail(StatesErrors.Runtime, what);

type Sign = (cluster: string, region: string) => Promise<string>;

/** `eks:call` and `eks:runJob` for one pass-through configuration. */
export class EksKubernetes {
  private readonly timeoutMs: number;
  /** The token maker, made on first use (it loads the SDK's signing packages). */
  private signer: Promise<Sign> | undefined;

  constructor(private readonly options: EksKubernetesOptions) {
    const t = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    if (!(t > 0)) throw new RangeError('timeoutSeconds must be > 0');
    this.timeoutMs = t * 1000;
  }

  /** `eks:call`, or `eks:runJob` without `.sync` (the Job is created; callbacks then wait). */
  async invoke(task: EksTask, signal: SignalSource): Promise<TaskOutcome> {
    const s = typeof signal === 'function' ? signal() : signal;
    if (task.action === 'runJob') {
      const created = await this.createJob(task, s);
      return created.ok ? sized(created.output) : created;
    }
    const params = task.parameters;
    const bad = (what: string) => refuse(`eks:call: ${what}`);
    if (!isJsonObject(params)) return bad('the Parameters must be an object.');
    const cluster = clusterOf(params, task.region);
    if (typeof cluster === 'string') return bad(cluster);
    const method = getOwn(params, 'Method');
    if (typeof method !== 'string' || !METHODS.has(method)) {
      return bad(`Method must be one of ${[...METHODS].join(', ')}.`);
    }
    const path = getOwn(params, 'Path');
    if (typeof path !== 'string' || path === '') return bad('Path is required and must be a string.');
    const query = listMap(getOwn(params, 'QueryParameters'));
    if (query === undefined) return bad('QueryParameters must map names to lists of strings.');
    const body = requestBody(getOwn(params, 'RequestBody'), method);
    const r = await this.send(cluster, method, path, query, body, s);
    if (!r.ok) return r.outcome;
    if (r.status < 200 || r.status > 299) return statusFailure(r);
    return sized({ ResponseBody: r.body, StatusCode: r.status, StatusText: r.statusText });
  }

  /** Creates the Job of an `eks:runJob` task; the output is the created Job as the server answers it. */
  async createJob(task: EksTask, signal: AbortSignal): Promise<TaskOutcome> {
    const params = task.parameters;
    const bad = (what: string) => refuse(`eks:runJob: ${what}`);
    if (!isJsonObject(params)) return bad('the Parameters must be an object.');
    const cluster = clusterOf(params, task.region);
    if (typeof cluster === 'string') return bad(cluster);
    const namespace = namespaceOf(params);
    if (namespace === undefined) return bad('Namespace must be a non-empty string.');
    const job = getOwn(params, 'Job');
    if (!isJsonObject(job) && typeof job !== 'string')
      return bad('Job is required: a batch/v1 Job, as JSON or text.');
    if (logOptionsOf(params) === undefined) return bad(LOG_OPTIONS);
    const r = await this.send(cluster, 'POST', jobsPath(namespace), [], requestBody(job, 'POST'), signal);
    if (!r.ok) return r.outcome;
    return r.status >= 200 && r.status <= 299 ? { ok: true, output: r.body } : statusFailure(r);
  }

  /**
   * One poll of a `.sync` Job: `undefined` while it runs (or when the server was not reached:
   * the next poll tries again), else the task's outcome, with the pods' logs when asked for.
   */
  async checkJob(task: EksTask, submitted: JsonValue, signal: AbortSignal): Promise<TaskOutcome | undefined> {
    const params = isJsonObject(task.parameters) ? task.parameters : {};
    const cluster = clusterOf(params, task.region);
    const ref = jobRef(params, submitted);
    if (typeof cluster === 'string' || ref === undefined) {
      return fail(
        StatesErrors.Runtime,
        `eks:runJob: cannot follow the Job: ${typeof cluster === 'string' ? cluster : 'the created Job has no name'}`,
      );
    }
    const r = await this.send(
      cluster,
      'GET',
      `${jobsPath(ref.namespace)}/${encodeURIComponent(ref.name)}`,
      [],
      undefined,
      signal,
    );
    if (!r.ok) return r.transport ? undefined : r.outcome;
    // An API server that is busy or restarting (a control plane upgrade) is asked again next poll.
    if (r.status === 429 || r.status >= 500) return undefined;
    if (r.status < 200 || r.status > 299) return statusFailure(r);
    const job = isJsonObject(r.body) ? r.body : {};
    const end = jobEnd(job);
    if (end === undefined) return undefined;
    const logOptions = logOptionsOf(params) ?? { parameters: [] };
    const result: JsonObject =
      logOptions.retrieve === true
        ? { ...job, logs: await this.logs(cluster, ref, logOptions, signal) }
        : job;
    if (signal.aborted) return undefined;
    if (end === 'Failed') return fail(StatesErrors.TaskFailed, JSON.stringify(result));
    return sized(result);
  }

  /** Deletes a `.sync` task's Job and, in the background, its pods (the task was cancelled). */
  async deleteJob(task: EksTask, submitted: JsonValue): Promise<void> {
    const params = isJsonObject(task.parameters) ? task.parameters : {};
    const cluster = clusterOf(params, task.region);
    const ref = jobRef(params, submitted);
    if (typeof cluster === 'string' || ref === undefined) return;
    await this.send(
      cluster,
      'DELETE',
      `${jobsPath(ref.namespace)}/${encodeURIComponent(ref.name)}`,
      [['propagationPolicy', 'Background']],
      undefined,
      new AbortController().signal,
    );
  }

  /**
   * The logs of the Job's pods, `{pods: {<pod>: {containers: {<container>: {log}}}}}`, best effort
   * as AWS documents: a log that cannot be read has `error` and `cause` instead of `log`.
   */
  private async logs(
    cluster: Cluster,
    ref: JobRef,
    options: LogOptions,
    signal: AbortSignal,
  ): Promise<JsonObject> {
    const listed = await this.send(
      cluster,
      'GET',
      `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/pods`,
      [['labelSelector', `job-name=${ref.name}`]],
      undefined,
      signal,
    );
    const failed = (r: Answer): JsonObject => {
      const f = r.ok ? statusFailure(r) : r.outcome;
      return { error: f.error, cause: f.cause ?? null };
    };
    if (!listed.ok || listed.status < 200 || listed.status > 299) return failed(listed);
    const items = isJsonObject(listed.body) && Array.isArray(listed.body.items) ? listed.body.items : [];
    const pods: JsonObject = {};
    for (const pod of items) {
      if (!isJsonObject(pod)) continue;
      const name = isJsonObject(pod.metadata) ? pod.metadata.name : undefined;
      if (typeof name !== 'string') continue;
      const spec = isJsonObject(pod.spec) ? pod.spec : {};
      const containers: JsonObject = {};
      for (const c of Array.isArray(spec.containers) ? spec.containers : []) {
        const container = isJsonObject(c) ? c.name : undefined;
        if (typeof container !== 'string') continue;
        const r = await this.send(
          cluster,
          'GET',
          `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/pods/${encodeURIComponent(name)}/log`,
          [['container', container], ...options.parameters],
          undefined,
          signal,
        );
        containers[container] =
          r.ok && r.status >= 200 && r.status <= 299
            ? { log: options.raw === true ? r.text : parsedLog(r.text) }
            : failed(r);
      }
      pods[name] = { containers };
    }
    return { pods };
  }

  /** One request to the cluster's API server, authenticated with a fresh token. */
  private async send(
    cluster: Cluster,
    method: string,
    path: string,
    query: [string, string][],
    body: { text: string; type: string } | undefined,
    caller: AbortSignal,
  ): Promise<Answer> {
    let token: string;
    try {
      const sign = await (this.signer ??= loadSigner(this.options));
      token = await sign(cluster.name, cluster.region ?? this.options.region);
    } catch (e) {
      this.signer = undefined; // a package installed meanwhile, or credentials fixed, count next time
      return {
        ok: false,
        outcome: fail(
          StatesErrors.TaskFailed,
          `Stepwise could not make the IAM authentication token for the EKS cluster '${cluster.name}': ${message(e)}`,
        ),
        transport: false,
      };
    }
    const url = new URL(cluster.endpoint.href);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
    for (const [k, v] of query) url.searchParams.append(k, v);
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    if (body !== undefined) {
      headers['Content-Type'] = body.type;
      headers['Content-Length'] = String(Buffer.byteLength(body.text));
    }
    const signal = AbortSignal.any([caller, AbortSignal.timeout(this.timeoutMs)]);
    try {
      const res = await httpsCall(url, method, headers, body?.text, cluster.ca, signal);
      if (res === undefined) return { ok: false, outcome: dataLimit('eks'), transport: false };
      return { ok: true, ...res };
    } catch (e) {
      const why = caller.aborted
        ? 'the request was cancelled'
        : signal.aborted
          ? `no answer within ${this.timeoutMs / 1000} seconds`
          : message(e);
      return {
        ok: false,
        outcome: fail(
          StatesErrors.TaskFailed,
          `Stepwise could not call the Kubernetes API of the EKS cluster '${cluster.name}' at ${cluster.endpoint.origin}: ${why}`,
        ),
        transport: true,
      };
    }
  }
}

/** The cluster of the parameters, or what is wrong with them. */
function clusterOf(params: JsonObject, region: string | undefined): Cluster | string {
  const name = getOwn(params, 'ClusterName');
  if (typeof name !== 'string' || name === '') return 'ClusterName is required and must be a string.';
  const endpoint = getOwn(params, 'Endpoint');
  let url: URL | undefined;
  try {
    url = typeof endpoint === 'string' ? new URL(endpoint) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || url.protocol !== 'https:') {
    return "Endpoint is required and must be the https URL of the cluster's Kubernetes API server.";
  }
  const ca = pemOf(getOwn(params, 'CertificateAuthority'));
  if (ca === undefined) {
    return "CertificateAuthority is required: the base64-encoded PEM certificate of the cluster's CA (DescribeCluster's Cluster.CertificateAuthority.Data).";
  }
  return { name, endpoint: url, ca, region };
}

/** The CA's PEM text from its base64 encoding (EKS's `CertificateAuthority.Data`), or the PEM itself. */
function pemOf(value: JsonValue | undefined): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const pem = value.includes('-----BEGIN') ? value : Buffer.from(value, 'base64').toString('utf8');
  return pem.includes('-----BEGIN CERTIFICATE-----') ? pem : undefined;
}

function namespaceOf(params: JsonObject): string | undefined {
  const ns = getOwn(params, 'Namespace') ?? 'default';
  return typeof ns === 'string' && ns !== '' ? ns : undefined;
}

const jobsPath = (namespace: string) => `/apis/batch/v1/namespaces/${encodeURIComponent(namespace)}/jobs`;

interface JobRef {
  name: string;
  namespace: string;
}

/** The created Job's name and namespace (a Job may be named by `generateName`: the answer has the name). */
function jobRef(params: JsonObject, submitted: JsonValue): JobRef | undefined {
  const meta = isJsonObject(submitted) && isJsonObject(submitted.metadata) ? submitted.metadata : {};
  const name = meta.name;
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : namespaceOf(params);
  return typeof name === 'string' && name !== '' && namespace !== undefined ? { name, namespace } : undefined;
}

/** `Complete` or `Failed` once the Job's condition says so (batch/v1's terminal conditions). */
function jobEnd(job: JsonObject): 'Complete' | 'Failed' | undefined {
  const status = isJsonObject(job.status) ? job.status : {};
  for (const c of Array.isArray(status.conditions) ? status.conditions : []) {
    if (!isJsonObject(c) || c.status !== 'True') continue;
    if (c.type === 'Complete' || c.type === 'Failed') return c.type;
  }
  return undefined;
}

interface LogOptions {
  retrieve?: boolean;
  raw?: boolean;
  parameters: [string, string][];
}

const LOG_OPTIONS =
  'LogOptions must be an object: RetrieveLogs and RawLogs booleans, LogParameters mapping names to lists of strings.';

function logOptionsOf(params: JsonObject): LogOptions | undefined {
  const o = getOwn(params, 'LogOptions');
  if (o === undefined || o === null) return { parameters: [] };
  if (!isJsonObject(o)) return undefined;
  const retrieve = getOwn(o, 'RetrieveLogs');
  const raw = getOwn(o, 'RawLogs');
  const parameters = listMap(getOwn(o, 'LogParameters'));
  if (
    (retrieve !== undefined && typeof retrieve !== 'boolean') ||
    (raw !== undefined && typeof raw !== 'boolean')
  ) {
    return undefined;
  }
  if (parameters === undefined) return undefined;
  const out: LogOptions = { parameters };
  if (retrieve !== undefined) out.retrieve = retrieve;
  if (raw !== undefined) out.raw = raw;
  return out;
}

/** A map of names to lists of strings (a lone value is one item), as name-value pairs. */
function listMap(v: JsonValue | undefined): [string, string][] | undefined {
  if (v === undefined || v === null) return [];
  if (!isJsonObject(v)) return undefined;
  const out: [string, string][] = [];
  for (const [k, x] of Object.entries(v)) {
    for (const item of Array.isArray(x) ? x : [x]) {
      if (item === null) continue;
      out.push([k, typeof item === 'string' ? item : JSON.stringify(item)]);
    }
  }
  return out;
}

/**
 * The body to send: JSON as its text; text as it is (JSON, or else YAML, which the API server
 * also reads). PATCH takes a JSON merge patch for an object and a JSON patch for a list: the API
 * server refuses `application/json` patches.
 */
function requestBody(
  body: JsonValue | undefined,
  method: string,
): { text: string; type: string } | undefined {
  if (body === undefined || body === null || method === 'GET' || method === 'HEAD') return undefined;
  let value: JsonValue | undefined = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body) as JsonValue;
    } catch {
      return { text: body, type: 'application/yaml' };
    }
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  if (method !== 'PATCH') return { text, type: 'application/json' };
  return {
    text,
    type: Array.isArray(value) ? 'application/json-patch+json' : 'application/merge-patch+json',
  };
}

/** A log deserialized from JSON when it is JSON (AWS's default), else its text. */
function parsedLog(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

function statusFailure(r: Extract<Answer, { ok: true }>): Failure {
  return fail(
    `EKS.${r.status}`,
    JSON.stringify({ ResponseBody: r.body, StatusCode: r.status, StatusText: r.statusText }),
  );
}

function sized(output: JsonValue): TaskOutcome {
  if (Buffer.byteLength(JSON.stringify(output)) > MAX_PAYLOAD_BYTES) return dataLimit('eks');
  return { ok: true, output };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * One HTTPS request trusting only `ca`; `undefined` when the answer is larger than
 * MAX_BODY_BYTES. The body is parsed when it is JSON.
 */
async function httpsCall(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  ca: string,
  signal: AbortSignal,
): Promise<{ status: number; statusText: string; body: JsonValue; text: string } | undefined> {
  const [{ request }, { STATUS_CODES }] = await Promise.all([import('node:https'), import('node:http')]);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ca, signal, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          res.destroy();
          resolve(undefined);
          return;
        }
        chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        const json = /[/+]json\b/i.test(String(res.headers['content-type'] ?? ''));
        let parsed: JsonValue = text;
        if (json && text !== '') {
          try {
            parsed = JSON.parse(text) as JsonValue;
          } catch {
            parsed = text;
          }
        }
        resolve({ status, statusText: res.statusMessage || STATUS_CODES[status] || '', body: parsed, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The EKS token maker: STS GetCallerIdentity presigned with SigV4 (60 seconds, the header
 * `x-k8s-aws-id` signed and kept a header), as `aws eks get-token` makes it. The SDK's packages
 * are imported on first use.
 */
async function loadSigner(options: EksKubernetesOptions): Promise<Sign> {
  const [{ SignatureV4 }, { Hash }, { defaultProvider }] = await Promise.all([
    import('@smithy/signature-v4'),
    import('@smithy/hash-node'),
    import('@aws-sdk/credential-provider-node'),
  ]);
  const credentials =
    options.credentials ?? defaultProvider(options.profile === undefined ? {} : { profile: options.profile });
  const signers = new Map<string, InstanceType<typeof SignatureV4>>();
  return async (cluster, region) => {
    let signer = signers.get(region);
    if (signer === undefined) {
      signer = new SignatureV4({ service: 'sts', region, credentials, sha256: Hash.bind(null, 'sha256') });
      signers.set(region, signer);
    }
    const sts = new URL(options.stsEndpoint ?? `https://sts.${region}.amazonaws.com/`);
    const presigned = await signer.presign(
      {
        method: 'GET',
        protocol: sts.protocol,
        hostname: sts.hostname,
        ...(sts.port !== '' ? { port: Number(sts.port) } : {}),
        path: sts.pathname,
        query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
        headers: { host: sts.host, 'x-k8s-aws-id': cluster },
      },
      { expiresIn: 60, unhoistableHeaders: new Set(['x-k8s-aws-id']) },
    );
    const query = Object.entries(presigned.query ?? {})
      .flatMap(([k, v]) => (v === null ? [] : (Array.isArray(v) ? v : [v]).map((x) => [k, x] as const)))
      .map(([k, x]) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`)
      .join('&');
    const url = `${sts.protocol}//${sts.host}${sts.pathname}?${query}`;
    return TOKEN_PREFIX + Buffer.from(url).toString('base64url');
  };
}
