// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * The run-a-job pattern (`.sync`) of EMR Serverless applications (create, start, stop, delete)
 * and of EMR on EKS (`emr-containers`: startJobRun, deleteVirtualCluster, and createVirtualCluster
 * request-response), end to end against the local stand-in (aws-standins-jobs.ts) with the real
 * SDK clients. Both APIs are camelCase: the tests also check what the service received.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../language/json.js';
import type { Engine } from '../engine.js';
import {
  ended,
  type Ended,
  o,
  single,
  startOne,
  submittedOf,
  until,
  untilSubmitted,
  useStandIn,
} from './harness.js';

const kit = useStandIn();

/** A durable engine on the stand-in (this file's tests need no other option). */
const withEngine = (fn: (engine: Engine) => Promise<void>, dataDir?: string) =>
  kit.withEngine({}, fn, dataDir);

const task = (resource: string, parameters: JsonObject, extra: JsonObject = {}) =>
  single({ Type: 'Task', Resource: `arn:aws:states:::${resource}`, Parameters: parameters, ...extra });

async function run(def: JsonObject): Promise<Ended> {
  let r: Ended | undefined;
  await withEngine(async (engine) => {
    r = await ended(engine, await startOne(engine, def));
  });
  assert.ok(r);
  return r;
}

/** The error and cause of a refused call, as the optimized integrations report them. */
function assertRefused(r: Ended, error: string, cause: RegExp): void {
  assert.equal(r.status, 'FAILED');
  assert.equal(r.error, error);
  assert.match(r.cause ?? '', cause);
}

// ---- EMR Serverless applications --------------------------------------------------------------

const createApplication = (tags: Record<string, string>, pattern = '.sync', extra: JsonObject = {}) =>
  task(
    `emr-serverless:createApplication${pattern}`,
    {
      Name: 'nightly',
      ReleaseLabel: 'emr-7.1.0',
      Type: 'SPARK',
      InitialCapacity: { DRIVER: { WorkerCount: 1, WorkerConfiguration: { Cpu: '2 vCPU', Memory: '4 GB' } } },
      Tags: tags,
    },
    extra,
  );

const appAction = (action: string, applicationId: string, pattern = '.sync', extra: JsonObject = {}) =>
  task(`emr-serverless:${action}${pattern}`, { ApplicationId: applicationId }, extra);

describe('emr-serverless:createApplication.sync', () => {
  it('polls GetApplication until CREATED and returns CreateApplication’s answer', async () => {
    const gets = kit.standIn.count('emr-serverless', 'GetApplication');
    const r = await run(createApplication({ STEPWISE_POLLS: '2', team: 'data' }));
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    const submitted = submittedOf(r);
    const id = String(submitted.ApplicationId);
    assert.ok('SdkHttpMetadata' in submitted);
    assert.deepEqual(r.output, {
      ApplicationId: id,
      Name: 'nightly',
      Arn: `arn:aws:emr-serverless:us-east-1:123456789012:/applications/${id}`,
    });
    const app = kit.standIn.jobs.emrServerlessApps.get(id)!;
    assert.equal(app.state, 'CREATED');
    // CREATING for two calls, CREATED at the third.
    assert.equal(kit.standIn.count('emr-serverless', 'GetApplication') - gets, 3);
    // What EMR Serverless received: camelCase members, the maps' keys as written.
    assert.equal(app.request.releaseLabel, 'emr-7.1.0');
    assert.deepEqual(app.request.initialCapacity, {
      DRIVER: { workerCount: 1, workerConfiguration: { cpu: '2 vCPU', memory: '4 GB' } },
    });
    assert.deepEqual(app.request.tags, { STEPWISE_POLLS: '2', team: 'data' });
  });

  it('an application that ends TERMINATED fails the task with GetApplication’s answer as cause', async () => {
    const r = await run(createApplication({ STEPWISE_FAIL: 'create' }));
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'States.TaskFailed');
    const app = o(o(JSON.parse(r.cause ?? '')).Application);
    assert.equal(app.State, 'TERMINATED');
    assert.match(String(app.StateDetails), /subnet not found/);
  });

  it('a request EMR Serverless refuses fails with EMRServerless.ValidationException', async () => {
    const r = await run(task('emr-serverless:createApplication.sync', { Name: 'x', Type: 'SPARK' }));
    assertRefused(
      r,
      'EMRServerless.ValidationException',
      /^releaseLabel and type are required \(Service: EMRServerless; Status Code: 400; Error Code: ValidationException;/,
    );
  });

  it('stopping the execution leaves the application being created (no DeleteApplication)', async () => {
    const deletes = kit.standIn.count('emr-serverless', 'DeleteApplication');
    await withEngine(async (engine) => {
      const arn = await startOne(engine, createApplication({ STEPWISE_POLLS: '100000' }));
      const id = String((await untilSubmitted(engine, arn)).ApplicationId);
      await engine.stopExecution({ executionArn: arn });
      assert.equal((await engine.describeExecution(arn)).status, 'ABORTED');
      assert.equal(kit.standIn.jobs.emrServerlessApps.get(id)?.state, 'CREATING');
    });
    assert.equal(kit.standIn.count('emr-serverless', 'DeleteApplication') - deletes, 0);
  });

  it('request-response createApplication returns the answer without waiting', async () => {
    const r = await run(createApplication({}, ''));
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    const out = o(r.output);
    assert.equal(out.Name, 'nightly');
    assert.ok('SdkHttpMetadata' in out);
    assert.equal(kit.standIn.jobs.emrServerlessApps.get(String(out.ApplicationId))?.state, 'CREATING');
  });
});

describe('emr-serverless:startApplication.sync', () => {
  it('polls GetApplication until STARTED and returns {ApplicationId}', async () => {
    const id = kit.standIn.jobs.addEmrServerlessApp('CREATED', { STEPWISE_POLLS: '2' });
    const r = await run(appAction('startApplication', id));
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.deepEqual(r.output, { ApplicationId: id });
    // StartApplication answers nothing: TaskSubmitted holds the request's ApplicationId.
    assert.equal(submittedOf(r).ApplicationId, id);
    assert.equal(kit.standIn.jobs.emrServerlessApps.get(id)?.state, 'STARTED');
  });

  it('an application that fails to start (STOPPING) fails the task', async () => {
    const id = kit.standIn.jobs.addEmrServerlessApp('STOPPED', { STEPWISE_FAIL: 'start' });
    const r = await run(appAction('startApplication', id));
    assert.equal(r.error, 'States.TaskFailed');
    const app = o(o(JSON.parse(r.cause ?? '')).Application);
    assert.equal(app.State, 'STOPPING');
    assert.match(String(app.StateDetails), /capacity unavailable/);
  });

  it('an unknown application fails with EMRServerless.ResourceNotFoundException', async () => {
    const r = await run(appAction('startApplication', 'nosuchapp'));
    assertRefused(
      r,
      'EMRServerless.ResourceNotFoundException',
      /^Application nosuchapp does not exist \(Service: EMRServerless; Status Code: 404;/,
    );
  });

  it('stopping the execution stops the application (StopApplication)', async () => {
    const id = kit.standIn.jobs.addEmrServerlessApp('CREATED', { STEPWISE_POLLS: '100000' });
    await withEngine(async (engine) => {
      const arn = await startOne(engine, appAction('startApplication', id));
      await untilSubmitted(engine, arn);
      await engine.stopExecution({ executionArn: arn });
      await until('StopApplication', () => kit.standIn.jobs.emrServerlessApps.get(id)?.state === 'STOPPING');
      assert.equal((await engine.describeExecution(arn)).status, 'ABORTED');
    });
  });

  it('request-response startApplication returns {ApplicationId} without waiting', async () => {
    const id = kit.standIn.jobs.addEmrServerlessApp('CREATED');
    const r = await run(appAction('startApplication', id, ''));
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    const { SdkHttpMetadata, SdkResponseMetadata, ...answer } = o(r.output);
    assert.ok(SdkHttpMetadata !== undefined && SdkResponseMetadata !== undefined);
    assert.deepEqual(answer, { ApplicationId: id });
    assert.equal(kit.standIn.jobs.emrServerlessApps.get(id)?.state, 'STARTING');
  });
});

describe('emr-serverless:stopApplication.sync', () => {
  it('polls GetApplication until STOPPED and returns {ApplicationId}', async () => {
    const id = kit.standIn.jobs.addEmrServerlessApp('STARTED', { STEPWISE_POLLS: '2' });
    const r = await run(appAction('stopApplication', id));
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.deepEqual(r.output, { ApplicationId: id });
    assert.equal(kit.standIn.jobs.emrServerlessApps.get(id)?.state, 'STOPPED');
  });

  it('an application that is not started fails with EMRServerless.ValidationException', async () => {
    const id = kit.standIn.jobs.addEmrServerlessApp('CREATED');
    const r = await run(appAction('stopApplication', id));
    assertRefused(r, 'EMRServerless.ValidationException', /is in CREATED state \(Service: EMRServerless;/);
  });

  it('an application TERMINATED meanwhile fails the task', async () => {
    const id = kit.standIn.jobs.addEmrServerlessApp('STARTED', { STEPWISE_POLLS: '100000' });
    await withEngine(async (engine) => {
      const arn = await startOne(engine, appAction('stopApplication', id));
      await untilSubmitted(engine, arn);
      kit.standIn.jobs.emrServerlessApps.get(id)!.state = 'TERMINATED';
      const r = await ended(engine, arn);
      assert.equal(r.error, 'States.TaskFailed');
      assert.equal(o(o(JSON.parse(r.cause ?? '')).Application).State, 'TERMINATED');
    });
  });
});

describe('emr-serverless:deleteApplication.sync', () => {
  it('waits until GetApplication says TERMINATED and returns {ApplicationId}', async () => {
    const id = kit.standIn.jobs.addEmrServerlessApp('STOPPED');
    const r = await run(appAction('deleteApplication', id));
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.deepEqual(r.output, { ApplicationId: id });
    assert.equal(kit.standIn.jobs.emrServerlessApps.get(id)?.state, 'TERMINATED');
  });

  it('an application no longer found is deleted too', async () => {
    const id = kit.standIn.jobs.addEmrServerlessApp('CREATED', { STEPWISE_FORGET: '1' });
    const gets = kit.standIn.count('emr-serverless', 'GetApplication');
    const r = await run(appAction('deleteApplication', id));
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.deepEqual(r.output, { ApplicationId: id });
    assert.equal(kit.standIn.count('emr-serverless', 'GetApplication') - gets, 1);
  });

  it('a started application fails with EMRServerless.ValidationException', async () => {
    const id = kit.standIn.jobs.addEmrServerlessApp('STARTED');
    const r = await run(appAction('deleteApplication', id));
    assertRefused(r, 'EMRServerless.ValidationException', /is in STARTED state/);
    assert.equal(kit.standIn.jobs.emrServerlessApps.get(id)?.state, 'STARTED');
  });
});

// ---- EMR on EKS ---------------------------------------------------------------------------------

const startJobRun = (clusterId: string, tags: Record<string, string>, pattern = '.sync') =>
  task(`emr-containers:startJobRun${pattern}`, {
    Name: 'trip-count',
    VirtualClusterId: clusterId,
    ExecutionRoleArn: 'arn:aws:iam::123456789012:role/job-execution-role',
    ReleaseLabel: 'emr-6.2.0-latest',
    JobDriver: {
      SparkSubmitJobDriver: { EntryPoint: 's3://jobs/trip-count.py', EntryPointArguments: ['60'] },
    },
    ConfigurationOverrides: {
      ApplicationConfiguration: [
        { Classification: 'spark-defaults', Properties: { 'spark.executor.instances': '2' } },
      ],
      MonitoringConfiguration: { PersistentAppUI: 'ENABLED' },
    },
    Tags: tags,
  });

describe('emr-containers:createVirtualCluster', () => {
  it('creates the virtual cluster and returns {Id, Name, Arn}, in PascalCase', async () => {
    const r = await run(
      task('emr-containers:createVirtualCluster', {
        Name: 'analytics',
        ContainerProvider: { Id: 'eks-prod', Type: 'EKS', Info: { EksInfo: { Namespace: 'spark' } } },
        Tags: { Team: 'data' },
      }),
    );
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    const out = o(r.output);
    const id = String(out.Id);
    assert.equal(out.Name, 'analytics');
    assert.equal(out.Arn, `arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/${id}`);
    assert.ok('SdkHttpMetadata' in out);
    const cluster = kit.standIn.jobs.virtualClusters.get(id)!;
    assert.equal(cluster.state, 'RUNNING');
    assert.deepEqual(cluster.request.containerProvider, {
      id: 'eks-prod',
      type: 'EKS',
      info: { eksInfo: { namespace: 'spark' } },
    });
    assert.deepEqual(cluster.request.tags, { Team: 'data' });
  });

  it('is request-response only: .sync fails naming the supported resources', async () => {
    const r = await run(task('emr-containers:createVirtualCluster.sync', { Name: 'x' }));
    assert.equal(r.error, 'States.TaskFailed');
    assert.match(
      r.cause ?? '',
      /only for .*emr-containers:startJobRun, emr-containers:deleteVirtualCluster,/,
    );
  });
});

describe('emr-containers:startJobRun.sync', () => {
  it('polls DescribeJobRun until COMPLETED and returns its answer, in PascalCase', async () => {
    const clusterId = kit.standIn.jobs.addVirtualCluster();
    const r = await run(startJobRun(clusterId, { STEPWISE_POLLS: '2', team: 'data' }));
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    const submitted = submittedOf(r);
    const runId = String(submitted.Id);
    assert.equal(submitted.VirtualClusterId, clusterId);
    assert.equal(submitted.Name, 'trip-count');
    const jobRun = o(o(r.output).JobRun);
    assert.equal(jobRun.State, 'COMPLETED');
    assert.equal(jobRun.Id, runId);
    assert.equal(o(o(jobRun.JobDriver).SparkSubmitJobDriver).EntryPoint, 's3://jobs/trip-count.py');
    assert.deepEqual(jobRun.Tags, { STEPWISE_POLLS: '2', team: 'data' });
    // Dates are epoch milliseconds, as in the other optimized integrations.
    assert.ok(typeof jobRun.FinishedAt === 'number' && jobRun.FinishedAt > 1e12);
    // What EMR on EKS received: camelCase members, a client token, the map keys as written.
    const sent = kit.standIn.jobs.emrContainersRuns.get(runId)!.request;
    assert.ok(typeof sent.clientToken === 'string' && sent.clientToken !== '');
    assert.deepEqual(o(sent.configurationOverrides).applicationConfiguration, [
      { classification: 'spark-defaults', properties: { 'spark.executor.instances': '2' } },
    ]);
  });

  it('a FAILED run fails the task with DescribeJobRun’s answer as cause', async () => {
    const r = await run(startJobRun(kit.standIn.jobs.addVirtualCluster(), { STEPWISE_OUTCOME: 'FAILED' }));
    assert.equal(r.error, 'States.TaskFailed');
    const jobRun = o(o(JSON.parse(r.cause ?? '')).JobRun);
    assert.equal(jobRun.State, 'FAILED');
    assert.equal(jobRun.FailureReason, 'USER_ERROR');
  });

  it('an unknown virtual cluster fails with EMRContainers.ResourceNotFoundException', async () => {
    const r = await run(startJobRun('nosuchcluster', {}));
    assertRefused(
      r,
      'EMRContainers.ResourceNotFoundException',
      /^Virtual cluster nosuchcluster doesn't exist\. \(Service: AmazonEMRContainers; Status Code: 404; Error Code: ResourceNotFoundException;/,
    );
  });

  it('stopping the execution cancels the run (CancelJobRun)', async () => {
    const clusterId = kit.standIn.jobs.addVirtualCluster();
    await withEngine(async (engine) => {
      const arn = await startOne(engine, startJobRun(clusterId, { STEPWISE_POLLS: '100000' }));
      const runId = String((await untilSubmitted(engine, arn)).Id);
      await engine.stopExecution({ executionArn: arn });
      await until(
        'CancelJobRun',
        () => kit.standIn.jobs.emrContainersRuns.get(runId)?.state === 'CANCEL_PENDING',
      );
      assert.equal((await engine.describeExecution(arn)).status, 'ABORTED');
    });
  });

  it('request-response startJobRun returns StartJobRun’s answer without waiting', async () => {
    const clusterId = kit.standIn.jobs.addVirtualCluster();
    const r = await run(startJobRun(clusterId, {}, ''));
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    const out = o(r.output);
    assert.equal(out.VirtualClusterId, clusterId);
    assert.equal(kit.standIn.jobs.emrContainersRuns.get(String(out.Id))?.state, 'PENDING');
  });
});

describe('emr-containers:deleteVirtualCluster.sync', () => {
  it('polls DescribeVirtualCluster until TERMINATED and returns {Id}', async () => {
    const id = kit.standIn.jobs.addVirtualCluster({ STEPWISE_POLLS: '2' });
    const describes = kit.standIn.count('emr-containers', 'DescribeVirtualCluster');
    const r = await run(task('emr-containers:deleteVirtualCluster.sync', { Id: id }));
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.deepEqual(r.output, { Id: id });
    assert.equal(kit.standIn.jobs.virtualClusters.get(id)?.state, 'TERMINATED');
    assert.equal(kit.standIn.count('emr-containers', 'DescribeVirtualCluster') - describes, 3);
  });

  it('a virtual cluster no longer found is deleted too', async () => {
    const id = kit.standIn.jobs.addVirtualCluster({ STEPWISE_FORGET: '1' });
    const r = await run(task('emr-containers:deleteVirtualCluster.sync', { Id: id }));
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.deepEqual(r.output, { Id: id });
  });

  it('a cluster already being deleted fails with EMRContainers.ValidationException', async () => {
    const id = kit.standIn.jobs.addVirtualCluster();
    kit.standIn.jobs.virtualClusters.get(id)!.state = 'TERMINATING';
    const r = await run(task('emr-containers:deleteVirtualCluster.sync', { Id: id }));
    assertRefused(r, 'EMRContainers.ValidationException', /is TERMINATING\. \(Service: AmazonEMRContainers;/);
  });

  it('aws-sdk:emrcontainers (AWS’s name for the SDK integration) reaches the same API, in PascalCase', async () => {
    const id = kit.standIn.jobs.addVirtualCluster({ team: 'data' });
    const r = await run(task('aws-sdk:emrcontainers:describeVirtualCluster', { Id: id }));
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    const cluster = o(o(r.output).VirtualCluster);
    assert.equal(cluster.Id, id);
    assert.equal(cluster.State, 'RUNNING');
    assert.deepEqual(cluster.Tags, { team: 'data' });
  });
});

describe('after a restart mid-poll', () => {
  it('emr-serverless:startApplication: polling resumes from TaskSubmitted, no second start', () => {
    const id = kit.standIn.jobs.addEmrServerlessApp('CREATED', { STEPWISE_POLLS: '100000' });
    return kit.resumesAfterRestart({
      def: () => appAction('startApplication', id),
      start: ['emr-serverless', 'StartApplication'],
      finish: () => {
        const app = kit.standIn.jobs.emrServerlessApps.get(id)!;
        assert.equal(app.state, 'STARTING');
        app.pollsLeft = 0;
      },
      check: (out) => assert.deepEqual(out, { ApplicationId: id }),
    });
  });

  it('emr-containers:startJobRun: polling resumes from TaskSubmitted, no second start', () => {
    const clusterId = kit.standIn.jobs.addVirtualCluster();
    return kit.resumesAfterRestart({
      def: () => startJobRun(clusterId, { STEPWISE_POLLS: '100000' }),
      start: ['emr-containers', 'StartJobRun'],
      finish: (submitted) => {
        const jobRun = kit.standIn.jobs.emrContainersRuns.get(String(submitted.Id))!;
        assert.ok(['PENDING', 'SUBMITTED', 'RUNNING'].includes(jobRun.state));
        jobRun.state = 'RUNNING';
        jobRun.pollsLeft = 0;
        return jobRun.id;
      },
      check: (out, _submitted, runId) => assert.equal(o(out.JobRun).Id, runId),
    });
  });
});
