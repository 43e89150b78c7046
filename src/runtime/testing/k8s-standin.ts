/**
 * Test support: a small stand-in for one Amazon EKS cluster's Kubernetes API server, over HTTPS on
 * 127.0.0.1 with a certificate signed by the cluster's own CA (made with the `openssl` command by
 * `makeClusterCertificates`). It authenticates requests as EKS does, from the bearer token of
 * EKS's IAM authentication: `k8s-aws-v1.` + an unpadded base64url STS GetCallerIdentity URL,
 * presigned for 60 seconds, that signs `x-k8s-aws-id: <cluster name>`; the stand-in checks the
 * signature with the test credentials instead of calling STS. A bad token answers 401.
 *
 * It serves what `eks:runJob` and `eks:call` use:
 *
 * - batch/v1 Jobs: create, read, delete (`/apis/batch/v1/namespaces/{ns}/jobs[/{name}]`). A Job
 *   starts at its first read (one pod) and reads as active `stepwise.test/polls` times (an
 *   annotation; default 1); the next read finds the condition in `stepwise.test/outcome`
 *   (`Complete`, the default, or `Failed`). `finishJob` ends it at once;
 * - pods: list by `labelSelector` (`job-name=…`), and a container's log: the container's `args`
 *   joined by spaces (`tailLines` honoured; a container with the environment variable
 *   `STEPWISE_LOG=gone` has no log: 404);
 * - ConfigMaps: create, list (`labelSelector`), read, merge-patch, delete;
 * - `jobReadOutages`: that many Job reads answer 503 first;
 * - anything else: 404 with a Kubernetes Status.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { record, text } from './aws-standins-wire.js';

/** PEM texts: the cluster CA, the API server's certificate (signed by it) and key. */
export interface ClusterCertificates {
  ca: string;
  cert: string;
  key: string;
  /** Another CA, which did not sign the server's certificate. */
  otherCa: string;
}

/**
 * Makes a cluster CA, a server certificate it signs for 127.0.0.1, and an unrelated CA, with the
 * `openssl` command; throws (so the tests fail, never skip) when it is missing.
 */
export function makeClusterCertificates(): ClusterCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-k8s-ca-'));
  // Each command is written as one line of words (none contains a space).
  const openssl = (command: string) =>
    execFileSync('openssl', command.split(' '), { cwd: dir, stdio: 'pipe' });
  const newKey = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
  try {
    openssl(`req -x509 ${newKey} -keyout ca.key -out ca.pem -days 2 -subj /CN=kubernetes`);
    openssl(`req -x509 ${newKey} -keyout other.key -out other.pem -days 2 -subj /CN=kubernetes`);
    openssl(`req ${newKey} -keyout server.key -out server.csr -subj /CN=kube-apiserver`);
    writeFileSync(
      join(dir, 'server.ext'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
    );
    openssl(
      'x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 1 -days 2 -extfile server.ext -out server.pem',
    );
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    return {
      ca: read('ca.pem'),
      cert: read('server.pem'),
      key: read('server.key'),
      otherCa: read('other.pem'),
    };
  } catch (e) {
    throw new Error(
      `the Kubernetes stand-in needs the 'openssl' command to make its certificates: ${String(e)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Obj = Record<string, unknown>;

export interface K8sRequest {
  /** Always `k8s`: the harness counts requests by service and operation. */
  service: 'k8s';
  /** `CreateJob`, `ReadJob`, `DeleteJob`, `ListPods`, `ReadPodLog`, `CreateConfigMap`… */
  operation: string;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
  /** The cluster named by the request's valid token. */
  cluster: string | undefined;
}

interface StandInJob {
  job: Obj;
  pollsLeft: number;
  outcome: 'Complete' | 'Failed';
  pod: Obj | undefined;
}

export interface KubernetesStandInOptions {
  clusterName: string;
  /** The secret of each access key id the tokens may be signed with. */
  secrets: Record<string, string>;
  certificates: ClusterCertificates;
}

type SignatureCheck = (url: URL, cluster: string, secret: string) => Promise<boolean>;

export class KubernetesStandIn {
  readonly requests: K8sRequest[] = [];
  /** Jobs by `namespace/name`. */
  readonly jobs = new Map<string, StandInJob>();
  /** ConfigMaps by `namespace/name`. */
  readonly configMaps = new Map<string, Obj>();
  /** How many Job reads to answer 503 first (an API server restarting). */
  jobReadOutages = 0;
  private server: Server | undefined;
  private checkSignature: SignatureCheck | undefined;
  private port = 0;

  constructor(private readonly options: KubernetesStandInOptions) {}

  /** The API server's URL (EKS's `Cluster.Endpoint`). */
  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** The cluster CA as EKS gives it (`Cluster.CertificateAuthority.Data`: base64 of the PEM). */
  get certificateAuthority(): string {
    return Buffer.from(this.options.certificates.ca).toString('base64');
  }

  async start(): Promise<void> {
    this.checkSignature = await signatureChecker();
    const { cert, key } = this.options.certificates;
    this.server = createServer({ cert, key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((e: unknown) =>
          status(res, 500, 'InternalError', String(e)),
        );
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** How many requests of an operation the stand-in answered (`service` is `k8s`). */
  count(service: string, operation: string): number {
    return this.requests.filter((r) => r.service === service && r.operation === operation).length;
  }

  /** Ends a Job now with the condition `outcome`. */
  finishJob(namespace: string, name: string, outcome: 'Complete' | 'Failed' = 'Complete'): void {
    const j = this.jobs.get(`${namespace}/${name}`);
    if (j === undefined) throw new Error(`no job ${namespace}/${name}`);
    if (j.pod === undefined) this.startJob(j);
    this.endJob(j, outcome);
  }

  private async handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = req.method ?? 'GET';
    const entry: K8sRequest = {
      service: 'k8s',
      operation: 'Other',
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      cluster: undefined,
    };
    this.requests.push(entry);
    entry.cluster = await this.authenticate(req.headers.authorization);
    if (entry.cluster === undefined) {
      status(res, 401, 'Unauthorized', 'Unauthorized');
      return;
    }
    const seg = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    // /apis/batch/v1/namespaces/{ns}/jobs[/{name}]
    if (
      seg[0] === 'apis' &&
      seg[1] === 'batch' &&
      seg[2] === 'v1' &&
      seg[3] === 'namespaces' &&
      seg[5] === 'jobs'
    ) {
      this.jobsRoute(entry, res, seg[4]!, seg[6]);
      return;
    }
    if (seg[0] === 'api' && seg[1] === 'v1' && seg[2] === 'namespaces') {
      const ns = seg[3]!;
      if (seg[4] === 'pods' && seg.length === 5 && method === 'GET') {
        entry.operation = 'ListPods';
        this.listPods(res, ns, url.searchParams);
        return;
      }
      if (seg[4] === 'pods' && seg[6] === 'log' && seg.length === 7 && method === 'GET') {
        entry.operation = 'ReadPodLog';
        this.podLog(res, ns, seg[5]!, url.searchParams);
        return;
      }
      if (seg[4] === 'configmaps' && seg.length <= 6) {
        this.configMapsRoute(entry, req, res, ns, seg[5]);
        return;
      }
    }
    status(res, 404, 'NotFound', 'the server could not find the requested resource');
  }

  /**
   * The cluster a token was made for, if it is EKS's shape and its signature is right for this
   * cluster (`x-k8s-aws-id` signed) with a known key.
   */
  private async authenticate(header: string | undefined): Promise<string | undefined> {
    const m = /^Bearer k8s-aws-v1\.([A-Za-z0-9_-]+)$/.exec(header ?? '');
    if (m === null) return undefined;
    let url: URL;
    try {
      url = new URL(Buffer.from(m[1]!, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    const q = url.searchParams;
    const signed = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
    const [key] = (q.get('X-Amz-Credential') ?? '').split('/');
    const secret = key === undefined ? undefined : this.options.secrets[key];
    const shaped =
      url.protocol === 'https:' &&
      /^sts\.[a-z0-9-]+\.amazonaws\.com$/.test(url.hostname) &&
      q.get('Action') === 'GetCallerIdentity' &&
      q.get('Version') === '2011-06-15' &&
      q.get('X-Amz-Algorithm') === 'AWS4-HMAC-SHA256' &&
      q.get('X-Amz-Expires') === '60' &&
      signed.includes('host') &&
      signed.includes('x-k8s-aws-id');
    if (!shaped || secret === undefined) return undefined;
    const ok = await this.checkSignature!(url, this.options.clusterName, secret);
    return ok ? this.options.clusterName : undefined;
  }

  private jobsRoute(entry: K8sRequest, res: ServerResponse, ns: string, name: string | undefined): void {
    if (name === undefined && entry.method === 'POST') {
      entry.operation = 'CreateJob';
      const manifest = parse(entry.body);
      if (manifest === undefined) return status(res, 400, 'BadRequest', 'the body is not a JSON object');
      const meta = record(manifest.metadata);
      const jobName = text(meta.name) || `${text(meta.generateName)}${randomUUID().slice(0, 5)}`;
      if (jobName === '')
        return status(res, 422, 'Invalid', 'Job.batch "" is invalid: metadata.name: Required value');
      if (this.jobs.has(`${ns}/${jobName}`)) {
        return status(res, 409, 'AlreadyExists', `jobs.batch "${jobName}" already exists`);
      }
      const annotations = record(meta.annotations);
      const job: Obj = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: {
          ...meta,
          name: jobName,
          namespace: ns,
          uid: randomUUID(),
          resourceVersion: '1',
          creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        },
        spec: record(manifest.spec),
        status: {},
      };
      const polls = Number(text(annotations['stepwise.test/polls']) || '1');
      const outcome = text(annotations['stepwise.test/outcome']) === 'Failed' ? 'Failed' : 'Complete';
      this.jobs.set(`${ns}/${jobName}`, { job, pollsLeft: polls, outcome, pod: undefined });
      return sendJson(res, 201, job);
    }
    const j = name === undefined ? undefined : this.jobs.get(`${ns}/${name}`);
    if (name !== undefined && entry.method === 'GET') {
      entry.operation = 'ReadJob';
      if (this.jobReadOutages > 0) {
        this.jobReadOutages -= 1;
        return status(res, 503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
      }
      if (j === undefined) return status(res, 404, 'NotFound', `jobs.batch "${name}" not found`);
      if (conditionOf(j.job) === undefined) {
        if (j.pod === undefined) this.startJob(j);
        if (j.pollsLeft > 0) j.pollsLeft -= 1;
        else this.endJob(j, j.outcome);
      }
      return sendJson(res, 200, j.job);
    }
    if (name !== undefined && entry.method === 'DELETE') {
      entry.operation = 'DeleteJob';
      if (j === undefined) return status(res, 404, 'NotFound', `jobs.batch "${name}" not found`);
      this.jobs.delete(`${ns}/${name}`);
      return sendJson(res, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name, group: 'batch', kind: 'jobs', uid: record(j.job.metadata).uid },
      });
    }
    status(res, 405, 'MethodNotAllowed', `${entry.method} is not allowed here`);
  }

  /** The Job runs: one pod, labelled as the Job controller labels its pods. */
  private startJob(j: StandInJob): void {
    const meta = record(j.job.metadata);
    const name = text(meta.name);
    const template = record(record(j.job.spec).template);
    j.pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${name}-${randomUUID().slice(0, 5)}`,
        namespace: meta.namespace,
        labels: {
          ...record(record(template.metadata).labels),
          'job-name': name,
          'batch.kubernetes.io/job-name': name,
          'controller-uid': meta.uid,
        },
      },
      spec: record(template.spec),
      status: { phase: 'Running' },
    };
    j.job.status = { active: 1, ready: 1, startTime: new Date().toISOString() };
  }

  private endJob(j: StandInJob, outcome: 'Complete' | 'Failed'): void {
    const now = new Date().toISOString();
    const done = outcome === 'Complete';
    j.job.status = {
      startTime: record(j.job.status).startTime ?? now,
      ...(done ? { succeeded: 1, completionTime: now } : { failed: 1 }),
      ready: 0,
      conditions: [
        done
          ? { type: 'Complete', status: 'True', lastProbeTime: now, lastTransitionTime: now }
          : {
              type: 'Failed',
              status: 'True',
              lastProbeTime: now,
              lastTransitionTime: now,
              reason: 'BackoffLimitExceeded',
              message: 'Job has reached the specified backoff limit',
            },
      ],
    };
    if (j.pod !== undefined) j.pod.status = { phase: done ? 'Succeeded' : 'Failed' };
  }

  private listPods(res: ServerResponse, ns: string, query: URLSearchParams): void {
    const selector = labelSelector(query.get('labelSelector'));
    const items = [...this.jobs.values()]
      .map((j) => j.pod)
      .filter((p): p is Obj => p !== undefined && record(p.metadata).namespace === ns)
      .filter((p) => matches(record(record(p.metadata).labels), selector));
    sendJson(res, 200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '1' }, items });
  }

  private podLog(res: ServerResponse, ns: string, podName: string, query: URLSearchParams): void {
    const pod = [...this.jobs.values()]
      .map((j) => j.pod)
      .find(
        (p) => p !== undefined && record(p.metadata).namespace === ns && record(p.metadata).name === podName,
      );
    if (pod === undefined) return status(res, 404, 'NotFound', `pods "${podName}" not found`);
    const containers = (
      Array.isArray(record(pod.spec).containers) ? (record(pod.spec).containers as unknown[]) : []
    ).map(record);
    const wanted = query.get('container');
    if (wanted === null && containers.length !== 1) {
      return status(res, 400, 'BadRequest', `a container name must be specified for pod ${podName}`);
    }
    const c = wanted === null ? containers[0] : containers.find((x) => x.name === wanted);
    if (c === undefined) {
      return status(res, 400, 'BadRequest', `container ${String(wanted)} is not valid for pod ${podName}`);
    }
    const env = Array.isArray(c.env) ? c.env.map(record) : [];
    if (env.some((e) => e.name === 'STEPWISE_LOG' && e.value === 'gone')) {
      return status(res, 404, 'NotFound', `the log of container ${text(c.name)} is gone`);
    }
    const args = Array.isArray(c.args) ? c.args.map(String) : [];
    let lines = args.join(' ').split('\n');
    const tail = query.get('tailLines');
    if (tail !== null) lines = lines.slice(-Number(tail));
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(`${lines.join('\n')}\n`);
  }

  private configMapsRoute(
    entry: K8sRequest,
    req: IncomingMessage,
    res: ServerResponse,
    ns: string,
    name: string | undefined,
  ): void {
    const key = `${ns}/${name ?? ''}`;
    if (name === undefined && entry.method === 'POST') {
      entry.operation = 'CreateConfigMap';
      const cm = parse(entry.body);
      if (cm === undefined) return status(res, 400, 'BadRequest', 'the body is not a JSON object');
      const cmName = text(record(cm.metadata).name);
      if (this.configMaps.has(`${ns}/${cmName}`)) {
        return status(res, 409, 'AlreadyExists', `configmaps "${cmName}" already exists`);
      }
      const stored = { ...cm, metadata: { ...record(cm.metadata), namespace: ns, uid: randomUUID() } };
      this.configMaps.set(`${ns}/${cmName}`, stored);
      return sendJson(res, 201, stored);
    }
    if (name === undefined && (entry.method === 'GET' || entry.method === 'HEAD')) {
      entry.operation = 'ListConfigMaps';
      const selector = labelSelector(entry.query.get('labelSelector'));
      let items = [...this.configMaps.values()].filter(
        (c) => record(c.metadata).namespace === ns && matches(record(record(c.metadata).labels), selector),
      );
      const limit = entry.query.get('limit');
      if (limit !== null) items = items.slice(0, Number(limit));
      return sendJson(res, 200, { apiVersion: 'v1', kind: 'ConfigMapList', metadata: {}, items });
    }
    const cm = this.configMaps.get(key);
    if (name !== undefined && cm === undefined) {
      return status(res, 404, 'NotFound', `configmaps "${name}" not found`);
    }
    if (cm !== undefined && (entry.method === 'GET' || entry.method === 'HEAD')) {
      entry.operation = 'ReadConfigMap';
      return sendJson(res, 200, cm);
    }
    if (cm !== undefined && entry.method === 'PATCH') {
      entry.operation = 'PatchConfigMap';
      if (req.headers['content-type'] !== 'application/merge-patch+json') {
        return status(res, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format`);
      }
      const patch = parse(entry.body) ?? {};
      const merged = { ...cm, data: { ...record(cm.data), ...record(patch.data) } };
      this.configMaps.set(key, merged);
      return sendJson(res, 200, merged);
    }
    if (cm !== undefined && entry.method === 'DELETE') {
      entry.operation = 'DeleteConfigMap';
      this.configMaps.delete(key);
      return sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' });
    }
    status(res, 405, 'MethodNotAllowed', `${entry.method} is not allowed here`);
  }
}

/** A SigV4 presigned STS URL's signature, recomputed for `cluster` with `secret`. */
async function signatureChecker(): Promise<SignatureCheck> {
  const [{ SignatureV4 }, { Hash }] = await Promise.all([
    import('@smithy/signature-v4'),
    import('@smithy/hash-node'),
  ]);
  return async (url, cluster, secret) => {
    const q = url.searchParams;
    const [accessKeyId, , region] = (q.get('X-Amz-Credential') ?? '').split('/');
    const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q.get('X-Amz-Date') ?? '');
    if (accessKeyId === undefined || region === undefined || date === null) return false;
    const signingDate = new Date(`${date[1]}-${date[2]}-${date[3]}T${date[4]}:${date[5]}:${date[6]}Z`);
    if (Math.abs(Date.now() - signingDate.getTime()) > 15 * 60_000) return false;
    const token = q.get('X-Amz-Security-Token');
    const signer = new SignatureV4({
      service: 'sts',
      region,
      credentials: {
        accessKeyId,
        secretAccessKey: secret,
        ...(token !== null ? { sessionToken: token } : {}),
      },
      sha256: Hash.bind(null, 'sha256'),
    });
    const again = await signer.presign(
      {
        method: 'GET',
        protocol: url.protocol,
        hostname: url.hostname,
        path: url.pathname,
        query: { Action: q.get('Action') ?? '', Version: q.get('Version') ?? '' },
        headers: { host: url.host, 'x-k8s-aws-id': cluster },
      },
      { expiresIn: 60, signingDate, unhoistableHeaders: new Set(['x-k8s-aws-id']) },
    );
    return again.query?.['X-Amz-Signature'] === q.get('X-Amz-Signature');
  };
}

function parse(body: string): Obj | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
  } catch {
    return undefined;
  }
}

function conditionOf(job: Obj): string | undefined {
  const conditions = record(job.status).conditions;
  return Array.isArray(conditions) ? text(record(conditions[0]).type) : undefined;
}

/** `a=b,c=d` (equality only). */
function labelSelector(s: string | null): [string, string][] {
  if (s === null || s === '') return [];
  return s.split(',').map((p) => {
    const [k, v] = p.split('=');
    return [k ?? '', v ?? ''];
  });
}

function matches(labels: Obj, selector: [string, string][]): boolean {
  return selector.every(([k, v]) => labels[k] === v);
}

function sendJson(res: ServerResponse, code: number, value: unknown): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(value));
}

/** A Kubernetes Status answer (`{"kind":"Status",…,"reason","code"}`). */
function status(res: ServerResponse, code: number, reason: string, message: string): void {
  sendJson(res, code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  });
}
