// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * Amazon EKS's Kubernetes API integrations, eks:call and eks:runJob[.sync|.waitForTaskToken], end
 * to end against a Kubernetes API stand-in over HTTPS (its certificate signed by a cluster CA made
 * with openssl), which checks EKS's IAM authentication token on every request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JsonObject } from '../../language/json.js';
import { KubernetesStandIn, makeClusterCertificates, type K8sRequest } from '../testing/k8s-standin.js';
import {
  TEST_CREDENTIALS,
  details,
  ended,
  runToEnd,
  o,
  runInMemory,
  single,
  startOne,
  until,
  untilSubmitted,
  useStandIn,
  type Obj,
} from './harness.js';

const CLUSTER = 'analytics';
const certificates = makeClusterCertificates();
const k8s = new KubernetesStandIn({
  clusterName: CLUSTER,
  secrets: { [TEST_CREDENTIALS.accessKeyId]: TEST_CREDENTIALS.secretAccessKey },
  certificates,
});
before(() => k8s.start());
after(() => k8s.stop());

const kit = useStandIn();
const { withEngine } = kit;

let names = 0;
const unique = (prefix: string) => `${prefix}-${++names}`;

/** The cluster's parameters, as a definition takes them from DescribeCluster. */
const cluster = (extra: JsonObject = {}): JsonObject => ({
  ClusterName: CLUSTER,
  CertificateAuthority: k8s.certificateAuthority,
  Endpoint: k8s.url,
  ...extra,
});

const call = (parameters: JsonObject) =>
  single({ Type: 'Task', Resource: 'arn:aws:states:::eks:call', Parameters: cluster(parameters) });

const since = (from: number): K8sRequest[] => k8s.requests.slice(from);

/** A batch/v1 Job whose container logs its args; the stand-in runs it for `polls` reads. */
function job(name: string, options: { polls?: number; outcome?: 'Failed'; containers?: JsonObject[] } = {}) {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      annotations: {
        'stepwise.test/polls': String(options.polls ?? 1),
        ...(options.outcome ? { 'stepwise.test/outcome': options.outcome } : {}),
      },
    },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          containers: options.containers ?? [{ name: 'main', image: 'perl', args: ['{"pi": 3.14159}'] }],
          restartPolicy: 'Never',
        },
      },
    },
  };
}

const runJob = (pattern: '' | '.sync' | '.waitForTaskToken', parameters: JsonObject) =>
  single({
    Type: 'Task',
    Resource: `arn:aws:states:::eks:runJob${pattern}`,
    Parameters: cluster(parameters),
  });

describe('eks:call', () => {
  it('GET with query parameters answers {ResponseBody, StatusCode, StatusText}, authenticated with an EKS token', async () => {
    k8s.configMaps.set('default/web-a', {
      metadata: { name: 'web-a', namespace: 'default', labels: { app: 'web' } },
    });
    k8s.configMaps.set('default/web-b', {
      metadata: { name: 'web-b', namespace: 'default', labels: { app: 'web' } },
    });
    k8s.configMaps.set('default/db', {
      metadata: { name: 'db', namespace: 'default', labels: { app: 'db' } },
    });
    await withEngine({}, async (engine) => {
      const from = k8s.requests.length;
      const r = await runToEnd(
        engine,
        call({
          Method: 'GET',
          Path: '/api/v1/namespaces/default/configmaps',
          QueryParameters: { labelSelector: ['app=web'], limit: ['1'] },
        }),
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const out = o(r.output);
      assert.deepEqual(Object.keys(out).sort(), ['ResponseBody', 'StatusCode', 'StatusText']);
      assert.equal(out.StatusCode, 200);
      assert.equal(out.StatusText, 'OK');
      const body = o(out.ResponseBody);
      assert.equal(body.kind, 'ConfigMapList');
      assert.deepEqual(
        (body.items as Obj[]).map((i) => o(i.metadata).name),
        ['web-a'],
      );
      const [q] = since(from);
      assert.equal(q?.operation, 'ListConfigMaps');
      assert.equal(q?.query.get('labelSelector'), 'app=web');
      assert.equal(q?.query.get('limit'), '1');
      // The stand-in accepted the token as this cluster's: EKS's shape, signed for x-k8s-aws-id.
      assert.equal(q?.cluster, CLUSTER);
      const token = String(q?.headers.authorization).replace(/^Bearer /, '');
      assert.match(token, /^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
      const presigned = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString());
      assert.equal(presigned.host, 'sts.us-east-1.amazonaws.com');
      assert.equal(presigned.searchParams.get('Action'), 'GetCallerIdentity');
      assert.equal(presigned.searchParams.get('X-Amz-Expires'), '60');
      assert.equal(presigned.searchParams.get('X-Amz-SignedHeaders'), 'host;x-k8s-aws-id');
      // Neither the token nor the credentials reach the history.
      const text = JSON.stringify(r.events);
      assert.ok(!text.includes(token.slice(12, 40)));
      assert.ok(!text.includes(TEST_CREDENTIALS.secretAccessKey));
    });
  });

  it('POST sends the RequestBody as JSON; PATCH sends a JSON merge patch', async () => {
    await withEngine({}, async (engine) => {
      const from = k8s.requests.length;
      const created = await runToEnd(
        engine,
        call({
          Method: 'POST',
          Path: '/api/v1/namespaces/kube-system/configmaps',
          RequestBody: {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'aws-auth', namespace: 'kube-system' },
            data: { mapRoles: '[]' },
          },
        }),
      );
      assert.equal(created.status, 'SUCCEEDED', created.cause);
      assert.equal(o(created.output).StatusCode, 201);
      assert.equal(o(created.output).StatusText, 'Created');
      assert.equal(o(o(o(created.output).ResponseBody).metadata).name, 'aws-auth');
      const [post] = since(from);
      assert.equal(post?.headers['content-type'], 'application/json');
      assert.deepEqual(o(JSON.parse(post?.body ?? '')).data, { mapRoles: '[]' });
      assert.deepEqual(k8s.configMaps.get('kube-system/aws-auth')?.data, { mapRoles: '[]' });

      const patched = await runToEnd(
        engine,
        call({
          Method: 'PATCH',
          Path: '/api/v1/namespaces/kube-system/configmaps/aws-auth',
          RequestBody: { data: { mapUsers: '[]' } },
        }),
      );
      assert.equal(patched.status, 'SUCCEEDED', patched.cause);
      assert.equal(since(from)[1]?.headers['content-type'], 'application/merge-patch+json');
      assert.deepEqual(k8s.configMaps.get('kube-system/aws-auth')?.data, { mapRoles: '[]', mapUsers: '[]' });
    });
  });

  it('a 4xx answer fails with EKS.<status> and {ResponseBody, StatusCode, StatusText} as cause; Catch sees the name', async () => {
    await withEngine({}, async (engine) => {
      const r = await runToEnd(
        engine,
        call({ Method: 'GET', Path: '/api/v1/namespaces/default/configmaps/nope' }),
      );
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'EKS.404');
      const cause = o(JSON.parse(r.cause ?? ''));
      assert.equal(cause.StatusCode, 404);
      assert.equal(cause.StatusText, 'Not Found');
      assert.equal(o(cause.ResponseBody).reason, 'NotFound');

      const caught = await runToEnd(engine, {
        StartAt: 'Get',
        States: {
          Get: {
            Type: 'Task',
            Resource: 'arn:aws:states:::eks:call',
            Parameters: cluster({ Method: 'GET', Path: '/api/v1/namespaces/default/configmaps/nope' }),
            Catch: [{ ErrorEquals: ['EKS.404'], Next: 'Missing', ResultPath: '$.error' }],
            End: true,
          },
          Missing: { Type: 'Pass', Result: 'missing', End: true },
        },
      });
      assert.equal(caught.status, 'SUCCEEDED');
      assert.equal(caught.output, 'missing');
    });
  });

  it('a token for another cluster is refused: EKS.401 with the Status AWS documents', async () => {
    await withEngine({}, async (engine) => {
      const r = await runToEnd(
        engine,
        call({ ClusterName: 'someone-else', Method: 'GET', Path: '/api/v1/namespaces/default/configmaps' }),
      );
      assert.equal(r.error, 'EKS.401');
      assert.deepEqual(JSON.parse(r.cause ?? ''), {
        ResponseBody: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: 'Unauthorized',
          reason: 'Unauthorized',
          code: 401,
        },
        StatusCode: 401,
        StatusText: 'Unauthorized',
      });
    });
  });

  it('a server whose certificate the given CA did not sign is not called: States.TaskFailed', async () => {
    await withEngine({}, async (engine) => {
      const from = k8s.requests.length;
      const r = await runToEnd(
        engine,
        call({
          CertificateAuthority: Buffer.from(certificates.otherCa).toString('base64'),
          Method: 'GET',
          Path: '/api/v1/namespaces/default/configmaps',
        }),
      );
      assert.equal(r.error, 'States.TaskFailed');
      assert.match(
        r.cause ?? '',
        /could not call the Kubernetes API of the EKS cluster 'analytics' at https:\/\/127\.0\.0\.1:\d+: .*certificate/i,
      );
      assert.equal(k8s.requests.length, from, 'no request got through the TLS handshake');
    });
  });

  it('parameters that are not a cluster fail with States.Runtime, nothing sent', async () => {
    await withEngine({}, async (engine) => {
      const from = k8s.requests.length;
      const noCa = await runToEnd(
        engine,
        call({ CertificateAuthority: 'bm90IGEgY2VydA==', Method: 'GET', Path: '/api' }),
      );
      assert.equal(noCa.error, 'States.Runtime');
      assert.match(noCa.cause ?? '', /CertificateAuthority is required/);
      const plain = await runToEnd(
        engine,
        call({ Endpoint: 'http://127.0.0.1:1', Method: 'GET', Path: '/api' }),
      );
      assert.equal(plain.error, 'States.Runtime');
      const method = await runToEnd(engine, call({ Method: 'OPTIONS', Path: '/api' }));
      assert.match(method.cause ?? '', /Method must be one of GET, POST, PUT, DELETE, HEAD, PATCH/);
      assert.equal(k8s.requests.length, from);
    });
  });
});

describe('eks:runJob', () => {
  it('request-response creates the Job in the Namespace and answers it as created', async () => {
    await withEngine({}, async (engine) => {
      const name = unique('once');
      const from = k8s.requests.length;
      const r = await runToEnd(engine, runJob('', { Namespace: 'batch', Job: job(name) }));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const out = o(r.output);
      assert.equal(out.kind, 'Job');
      assert.equal(o(out.metadata).name, name);
      assert.equal(o(out.metadata).namespace, 'batch');
      assert.deepEqual(out.status, {});
      assert.deepEqual(
        since(from).map((q) => `${q.operation} ${q.path}`),
        ['CreateJob /apis/batch/v1/namespaces/batch/jobs'],
      );
      assert.ok(k8s.jobs.has(`batch/${name}`));
    });
  });

  it('.waitForTaskToken creates the Job, records it in TaskSubmitted and waits for the token', async () => {
    await withEngine({}, async (engine) => {
      const name = unique('callback');
      const manifest = job(name);
      // The worker finds the token on the Job (a payload template inside the manifest).
      const annotated = {
        ...manifest,
        metadata: { name, annotations: { 'stepwise/token.$': '$$.Task.Token' } },
      };
      const arn = await startOne(engine, runJob('.waitForTaskToken', { Job: annotated }));
      const submitted = await untilSubmitted(engine, arn);
      assert.equal(o(submitted.metadata).name, name);
      const taskToken = String(o(o(submitted.metadata).annotations)['stepwise/token']);
      assert.equal(
        o(o(k8s.jobs.get(`default/${name}`)?.job.metadata).annotations)['stepwise/token'],
        taskToken,
      );
      await engine.sendTaskSuccess({ taskToken, output: '{"done":true}' });
      const r = await ended(engine, arn);
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.deepEqual(r.output, { done: true });
    });
  });
});

describe('eks:runJob.sync', () => {
  it("creates the Job, polls it until Complete and returns it with its pods' logs", async () => {
    await withEngine({}, async (engine) => {
      const name = unique('pi');
      const from = k8s.requests.length;
      const r = await runToEnd(
        engine,
        runJob('.sync', {
          Job: job(name, {
            polls: 2,
            containers: [
              { name: 'main', image: 'perl', args: ['{"pi": 3.14159265358979}'] },
              { name: 'side', image: 'busybox', args: ['first line\nsecond line'] },
            ],
          }),
          LogOptions: { RetrieveLogs: true, LogParameters: { tailLines: ['1'] } },
        }),
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.deepEqual(
        since(from).map((q) => q.operation),
        ['CreateJob', 'ReadJob', 'ReadJob', 'ReadJob', 'ListPods', 'ReadPodLog', 'ReadPodLog'],
      );
      const listed = since(from).find((q) => q.operation === 'ListPods');
      assert.equal(listed?.query.get('labelSelector'), `job-name=${name}`);
      const logReads = since(from).filter((q) => q.operation === 'ReadPodLog');
      assert.deepEqual(
        logReads.map((q) => q.query.get('container')),
        ['main', 'side'],
      );
      assert.deepEqual(
        logReads.map((q) => q.query.get('tailLines')),
        ['1', '1'],
      );
      // The result is the Job (AWS's sample reads `$.status` and `$.logs..pi`).
      const out = o(r.output);
      assert.equal(o(out.metadata).name, name);
      assert.equal(o(out.status).succeeded, 1);
      assert.equal(o((o(out.status).conditions as unknown[])[0]).type, 'Complete');
      const pods = o(o(out.logs).pods);
      assert.equal(Object.keys(pods).length, 1);
      const containers = o(o(Object.values(pods)[0]).containers);
      assert.deepEqual(containers.main, { log: { pi: 3.14159265358979 } });
      assert.deepEqual(containers.side, { log: 'second line\n' });
      // TaskSubmitted: the Job as created.
      const submitted = r.events.find((e) => e.type === 'TaskSubmitted');
      assert.deepEqual(o(JSON.parse(String(details(submitted!).output))).status, {});
    });
  });

  it('RawLogs keeps a log as text; a log that cannot be read has error and cause instead', async () => {
    await withEngine({}, async (engine) => {
      const r = await runToEnd(
        engine,
        runJob('.sync', {
          Job: job(unique('raw'), {
            containers: [
              { name: 'main', image: 'perl', args: ['{"pi": 3.14159265358979323846}'] },
              {
                name: 'gone',
                image: 'busybox',
                args: ['x'],
                env: [{ name: 'STEPWISE_LOG', value: 'gone' }],
              },
            ],
          }),
          LogOptions: { RetrieveLogs: true, RawLogs: true },
        }),
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const containers = o(o(Object.values(o(o(o(r.output).logs).pods))[0]).containers);
      assert.deepEqual(containers.main, { log: '{"pi": 3.14159265358979323846}\n' });
      const gone = o(containers.gone);
      assert.equal(gone.error, 'EKS.404');
      assert.equal(o(JSON.parse(String(gone.cause))).StatusCode, 404);
      assert.ok(!('log' in gone));
    });
  });

  it('a Job that fails fails the task with States.TaskFailed and the Job (with its logs) as cause', async () => {
    await withEngine({}, async (engine) => {
      const name = unique('broken');
      const r = await runToEnd(
        engine,
        runJob('.sync', { Job: job(name, { outcome: 'Failed' }), LogOptions: { RetrieveLogs: true } }),
      );
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'States.TaskFailed');
      const cause = o(JSON.parse(r.cause ?? ''));
      assert.equal(o(cause.metadata).name, name);
      const condition = o((o(cause.status).conditions as unknown[])[0]);
      assert.equal(condition.type, 'Failed');
      assert.equal(condition.reason, 'BackoffLimitExceeded');
      assert.ok('pods' in o(cause.logs));
    });
  });

  it('a Job read answered 503 (a restarting API server) is read again at the next poll', async () => {
    await withEngine({}, async (engine) => {
      const from = k8s.requests.length;
      k8s.jobReadOutages = 1; // the first read of the Job (creating it is not a read)
      const r = await runToEnd(engine, runJob('.sync', { Job: job(unique('upgrade')) }));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.equal(k8s.jobReadOutages, 0);
      // 503, then active, then Complete.
      assert.equal(since(from).filter((q) => q.operation === 'ReadJob').length, 3);
    });
  });

  it('a Job the API server refuses fails with EKS.<status>', async () => {
    await withEngine({}, async (engine) => {
      const name = unique('twice');
      await runToEnd(engine, runJob('', { Job: job(name) }));
      const r = await runToEnd(engine, runJob('.sync', { Job: job(name) }));
      assert.equal(r.error, 'EKS.409');
      assert.equal(o(o(JSON.parse(r.cause ?? '')).ResponseBody).reason, 'AlreadyExists');
      assert.equal(r.events.filter((e) => e.type === 'TaskSubmitted').length, 0);
    });
  });

  it('stopping the execution deletes the Job and its pods', async () => {
    await withEngine({}, async (engine) => {
      const name = unique('endless');
      const arn = await startOne(
        engine,
        runJob('.sync', { Namespace: 'long', Job: job(name, { polls: 1_000_000 }) }),
      );
      await untilSubmitted(engine, arn);
      const from = k8s.requests.length;
      await until('a poll', () => since(from).some((q) => q.operation === 'ReadJob'));
      await engine.stopExecution({ executionArn: arn });
      await until('DeleteJob', () => !k8s.jobs.has(`long/${name}`));
      const deleted = k8s.requests.find(
        (q) => q.operation === 'DeleteJob' && q.path.endsWith(`/jobs/${name}`),
      );
      assert.equal(deleted?.path, `/apis/batch/v1/namespaces/long/jobs/${name}`);
      assert.equal(deleted?.query.get('propagationPolicy'), 'Background');
      assert.equal((await engine.describeExecution(arn)).status, 'ABORTED');
    });
  });

  it('resumes polling after a restart from TaskSubmitted, without creating the Job again', async () => {
    const name = unique('durable');
    await kit.resumesAfterRestart({
      def: () =>
        runJob('.sync', { Job: job(name, { polls: 1_000_000 }), LogOptions: { RetrieveLogs: true } }),
      start: ['k8s', 'CreateJob'],
      on: k8s,
      pollFirst: true,
      finish: (submitted) => {
        const meta = o(submitted.metadata);
        k8s.finishJob(String(meta.namespace), String(meta.name));
      },
      check: (output) => {
        assert.equal(o(output.metadata).name, name);
        assert.equal(o(output.status).succeeded, 1);
        assert.ok('pods' in o(output.logs));
      },
    });
  });

  it('runs start to end in the in-memory runtime', async () => {
    const state = await runInMemory(runJob('.sync', { Job: job(unique('memory')) }), {
      aws: kit.awsOptions(),
    });
    assert.equal(state.status, 'SUCCEEDED', state.cause);
    assert.equal(o(o(state.output).status).succeeded, 1);
  });
});
