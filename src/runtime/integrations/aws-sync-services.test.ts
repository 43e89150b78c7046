// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * The run-a-job pattern (`.sync`) of ECS, Batch and CodeBuild, end to end against the local
 * stand-in with the real SDK clients: their APIs are camelCase, Step Functions' parameters and
 * results PascalCase, so these tests also check the conversion both ways (the stand-in refuses
 * requests whose members are not the API's).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JsonObject } from '../../language/json.js';
import { Engine, type EngineOptions } from '../engine.js';
import { AwsStandIn } from '../testing/aws-standins.js';
import type { AwsPassThroughOptions } from './aws.js';
import { STOP_REASON } from './aws-sync.js';
import { details, ended, removeTempDirs, single, startOne, tempDir, untilSubmitted } from './harness.js';

const CREDENTIALS = { accessKeyId: 'AKIDSTEPWISETESTKEY1', secretAccessKey: 'stepwise-test-secret' };

after(removeTempDirs);

let standIn: AwsStandIn;
let clusterArn = '';
before(async () => {
  standIn = new AwsStandIn({ account: '123456789012' });
  await standIn.start();
  clusterArn = standIn.createEcsCluster('jobs');
  standIn.registerEcsTaskDefinition('etl');
  standIn.registerEcsTaskDefinition('with-sidecar', { containers: ['app', 'sidecar'] });
  standIn.registerEcsTaskDefinition('too-big', { placeable: false });
  standIn.createBatchJobQueue('queue');
  standIn.createCodeBuildProject('site');
});
after(() => standIn.stop());

function awsOptions(): AwsPassThroughOptions {
  return { endpoint: standIn.url, credentials: CREDENTIALS, maxAttempts: 1, pollIntervalSeconds: 0.01 };
}

async function withEngine(
  options: Partial<EngineOptions>,
  fn: (engine: Engine) => Promise<void>,
  dataDir = tempDir(),
) {
  const engine = await Engine.open({ dataDir, waitScale: 0, aws: awsOptions(), ...options });
  try {
    await fn(engine);
  } finally {
    await engine.close();
  }
}

async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const env = (vars: Record<string, string>) => Object.entries(vars).map(([Name, Value]) => ({ Name, Value }));

/** An ECS task of `family`, each container's environment given by name. */
const ecsTask = (
  containers: Record<string, Record<string, string>>,
  extra: JsonObject = {},
  family = 'etl',
  resource = 'arn:aws:states:::ecs:runTask.sync',
) =>
  single({
    Type: 'Task',
    Resource: resource,
    Parameters: {
      Cluster: clusterArn,
      TaskDefinition: family,
      LaunchType: 'FARGATE',
      Overrides: {
        ContainerOverrides: Object.entries(containers).map(([Name, vars]) => ({
          Name,
          Environment: env(vars),
        })),
      },
    },
    ...extra,
  });

const batchJob = (vars: Record<string, string>, extra: JsonObject = {}, queue = 'queue') =>
  single({
    Type: 'Task',
    Resource: 'arn:aws:states:::batch:submitJob.sync',
    Parameters: {
      JobName: 'nightly',
      JobQueue: queue,
      JobDefinition: 'nightly-def:3',
      Parameters: { InputFile: 's3://in/a.csv', 'dry-run': 'no' },
      Tags: { Team: 'Data' },
      ContainerOverrides: { Environment: env(vars) },
    },
    ...extra,
  });

const build = (vars: Record<string, string>, extra: JsonObject = {}, project = 'site') =>
  single({
    Type: 'Task',
    Resource: 'arn:aws:states:::codebuild:startBuild.sync',
    Parameters: {
      ProjectName: project,
      SourceVersion: 'main',
      EnvironmentVariablesOverride: Object.entries(vars).map(([Name, Value]) => ({
        Name,
        Value,
        Type: 'PLAINTEXT',
      })),
    },
    ...extra,
  });

type Obj = Record<string, unknown>;
const o = (x: unknown): Obj => {
  assert.ok(typeof x === 'object' && x !== null && !Array.isArray(x), `not an object: ${JSON.stringify(x)}`);
  return x as Obj;
};
const at = (x: unknown, i: number): Obj => {
  assert.ok(Array.isArray(x), `not a list: ${JSON.stringify(x)}`);
  return o(x[i]);
};

describe('ecs:runTask.sync', () => {
  it('records RunTask’s answer, polls DescribeTasks until STOPPED and returns the task, in PascalCase', async () => {
    await withEngine({}, async (engine) => {
      const runs = standIn.count('ecs', 'RunTask');
      const describes = standIn.count('ecs', 'DescribeTasks');
      const r = await ended(engine, await startOne(engine, ecsTask({ app: { STEPWISE_POLLS: '2' } })));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const submitted = r.events.find((e) => e.type === 'TaskSubmitted');
      const out = o(JSON.parse(String(details(submitted!).output)));
      assert.deepEqual(out.Failures, []);
      assert.ok('SdkHttpMetadata' in out && 'SdkResponseMetadata' in out);
      const started = at(out.Tasks, 0);
      assert.equal(started.LastStatus, 'PROVISIONING');
      const task = o(r.output);
      assert.equal(task.TaskArn, started.TaskArn);
      assert.equal(task.ClusterArn, clusterArn);
      assert.equal(task.LastStatus, 'STOPPED');
      assert.equal(task.StopCode, 'EssentialContainerExited');
      assert.equal(at(task.Containers, 0).ExitCode, 0);
      assert.equal(at(task.Containers, 0).Name, 'app');
      // AWS marks the task as started by Step Functions.
      assert.equal(task.StartedBy, 'AWS Step Functions');
      // Nested members converted back; values (environment names) untouched.
      const override = at(o(task.Overrides).ContainerOverrides, 0);
      assert.deepEqual(override.Environment, [{ Name: 'STEPWISE_POLLS', Value: '2' }]);
      // Dates as the optimized integrations record them: epoch milliseconds.
      assert.ok(typeof task.CreatedAt === 'number' && task.CreatedAt > 1e12);
      assert.equal(standIn.count('ecs', 'RunTask') - runs, 1);
      assert.equal(standIn.count('ecs', 'DescribeTasks') - describes, 3);
      // What the service received: the API's own member names.
      const sent = standIn.ecsTasks.get(String(started.TaskArn))!;
      assert.equal(sent.startedBy, 'AWS Step Functions');
      assert.deepEqual(sent.overrides, {
        containerOverrides: [{ name: 'app', environment: [{ name: 'STEPWISE_POLLS', value: '2' }] }],
      });
    });
  });

  it('a container that exits non-zero or never ran fails the task with the task as cause', async () => {
    const cases: [string, Record<string, Record<string, string>>, string, string][] = [
      ['exit code 1', { app: { STEPWISE_EXIT_CODE: '1' } }, 'etl', 'EssentialContainerExited'],
      ['never ran', { app: { STEPWISE_EXIT_CODE: 'none' } }, 'etl', 'TaskFailedToStart'],
      [
        'a second container exits 2',
        { sidecar: { STEPWISE_EXIT_CODE: '2' } },
        'with-sidecar',
        'EssentialContainerExited',
      ],
    ];
    await withEngine({}, async (engine) => {
      for (const [what, containers, family, stopCode] of cases) {
        const r = await ended(engine, await startOne(engine, ecsTask(containers, {}, family)));
        assert.equal(r.status, 'FAILED', what);
        assert.equal(r.error, 'States.TaskFailed', what);
        const cause = o(JSON.parse(r.cause ?? ''));
        assert.equal(cause.LastStatus, 'STOPPED', what);
        assert.equal(cause.StopCode, stopCode, what);
        assert.equal(r.events.at(-2)?.type, 'TaskFailed', what);
      }
    });
  });

  it('a RunTask answer with Failures fails .sync and callback tasks with AmazonECS.Unknown, not request-response ones', async () => {
    await withEngine({}, async (engine) => {
      const sync = await ended(engine, await startOne(engine, ecsTask({}, {}, 'too-big')));
      assert.equal(sync.status, 'FAILED');
      assert.equal(sync.error, 'AmazonECS.Unknown');
      assert.equal(at(o(JSON.parse(sync.cause ?? '')).Failures, 0).Reason, 'RESOURCE:MEMORY');
      assert.ok(!sync.events.some((e) => e.type === 'TaskSubmitted'));

      const callback = await ended(
        engine,
        await startOne(engine, ecsTask({}, {}, 'too-big', 'arn:aws:states:::ecs:runTask.waitForTaskToken')),
      );
      assert.equal(callback.error, 'AmazonECS.Unknown');

      const request = await ended(
        engine,
        await startOne(engine, ecsTask({}, {}, 'too-big', 'arn:aws:states:::ecs:runTask')),
      );
      assert.equal(request.status, 'SUCCEEDED');
      const out = o(request.output);
      assert.deepEqual(out.Tasks, []);
      assert.equal(at(out.Failures, 0).Reason, 'RESOURCE:MEMORY');
      assert.equal(o(out.SdkHttpMetadata).HttpStatusCode, 200);
    });
  });

  it('request-response runTask returns RunTask’s answer and does not mark the task', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(
        engine,
        await startOne(engine, ecsTask({}, {}, 'etl', 'arn:aws:states:::ecs:runTask')),
      );
      assert.equal(r.status, 'SUCCEEDED');
      const task = at(o(r.output).Tasks, 0);
      assert.equal(task.LastStatus, 'PROVISIONING');
      assert.equal(task.StartedBy, undefined);
    });
  });

  it('a start the service refuses fails with its error in the optimized integrations’ style', async () => {
    await withEngine({}, async (engine) => {
      const def = single({
        Type: 'Task',
        Resource: 'arn:aws:states:::ecs:runTask.sync',
        Parameters: { Cluster: 'no-such-cluster', TaskDefinition: 'etl' },
      });
      const r = await ended(engine, await startOne(engine, def));
      assert.equal(r.error, 'ECS.ClusterNotFoundException');
      assert.match(
        r.cause ?? '',
        /^Cluster not found\. \(Service: AmazonECS; Status Code: 400; Error Code: ClusterNotFoundException;/,
      );
    });
  });

  it('stopping the execution calls StopTask with a reason', async () => {
    await withEngine({}, async (engine) => {
      const arn = await startOne(engine, ecsTask({ app: { STEPWISE_POLLS: '100000' } }));
      const taskArn = String(at((await untilSubmitted(engine, arn)).Tasks, 0).TaskArn);
      await engine.stopExecution({ executionArn: arn });
      await until('StopTask', () => standIn.ecsTasks.get(taskArn)?.lastStatus === 'STOPPED');
      const task = standIn.ecsTasks.get(taskArn)!;
      assert.equal(task.stopCode, 'UserInitiated');
      assert.equal(task.stoppedReason, STOP_REASON);
      assert.equal((await engine.describeExecution(arn)).status, 'ABORTED');
    });
  });

  it('aws-sdk:ecs tasks take and give PascalCase too (dates as ISO text)', async () => {
    await withEngine({}, async (engine) => {
      const run = await ended(
        engine,
        await startOne(engine, ecsTask({}, {}, 'etl', 'arn:aws:states:::aws-sdk:ecs:runTask')),
      );
      assert.equal(run.status, 'SUCCEEDED', run.cause);
      const taskArn = String(at(o(run.output).Tasks, 0).TaskArn);
      const def = single({
        Type: 'Task',
        Resource: 'arn:aws:states:::aws-sdk:ecs:describeTasks',
        Parameters: { Cluster: clusterArn, Tasks: [taskArn] },
      });
      const r = await ended(engine, await startOne(engine, def));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const task = at(o(r.output).Tasks, 0);
      assert.equal(task.TaskArn, taskArn);
      assert.match(String(task.CreatedAt), /^\d{4}-\d\d-\d\dT/);
      assert.ok(!('SdkHttpMetadata' in o(r.output)));
    });
  });
});

describe('batch:submitJob.sync', () => {
  it('polls DescribeJobs until SUCCEEDED and returns the job; map keys (Parameters, Tags) are kept', async () => {
    await withEngine({}, async (engine) => {
      const describes = standIn.count('batch', 'DescribeJobs');
      const r = await ended(engine, await startOne(engine, batchJob({ STEPWISE_POLLS: '2' })));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const submitted = o(
        JSON.parse(String(details(r.events.find((e) => e.type === 'TaskSubmitted')!).output)),
      );
      assert.equal(submitted.JobName, 'nightly');
      assert.match(String(submitted.JobArn), /^arn:aws:batch:.*:job\//);
      assert.ok('SdkHttpMetadata' in submitted);
      const job = o(r.output);
      assert.equal(job.JobId, submitted.JobId);
      assert.equal(job.Status, 'SUCCEEDED');
      assert.deepEqual(job.Parameters, { InputFile: 's3://in/a.csv', 'dry-run': 'no' });
      assert.deepEqual(job.Tags, { Team: 'Data' });
      assert.deepEqual(o(job.Container).Environment, [{ Name: 'STEPWISE_POLLS', Value: '2' }]);
      assert.equal(o(job.Container).ExitCode, 0);
      assert.ok(typeof job.CreatedAt === 'number' && job.CreatedAt > 1e12);
      assert.equal(standIn.count('batch', 'DescribeJobs') - describes, 3);
      const sent = standIn.batchJobs.get(String(submitted.JobId))!;
      assert.deepEqual(sent.parameters, { InputFile: 's3://in/a.csv', 'dry-run': 'no' });
    });
  });

  it('a FAILED job fails the task with the job as cause', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, batchJob({ STEPWISE_OUTCOME: 'FAILED' })));
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'States.TaskFailed');
      const cause = o(JSON.parse(r.cause ?? ''));
      assert.equal(cause.Status, 'FAILED');
      assert.equal(o(cause.Container).ExitCode, 1);
    });
  });

  it('a start the service refuses fails with Batch.<error>', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, batchJob({}, {}, 'no-such-queue')));
      assert.equal(r.error, 'Batch.ClientException');
      assert.match(
        r.cause ?? '',
        /JobQueue no-such-queue not found\. \(Service: AWSBatch; Status Code: 400;/,
      );
    });
  });

  it('a task that times out terminates the job (TerminateJob, with a reason)', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(
        engine,
        await startOne(engine, batchJob({ STEPWISE_POLLS: '100000' }, { TimeoutSeconds: 1 })),
      );
      assert.equal(r.error, 'States.Timeout');
      const jobId = String(
        o(JSON.parse(String(details(r.events.find((e) => e.type === 'TaskSubmitted')!).output))).JobId,
      );
      await until('TerminateJob', () => standIn.batchJobs.get(jobId)?.status === 'FAILED');
      assert.equal(standIn.batchJobs.get(jobId)?.statusReason, STOP_REASON);
    });
  });
});

describe('codebuild:startBuild.sync', () => {
  it('polls BatchGetBuilds until the build ends and returns {Build}', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, build({ STEPWISE_POLLS: '2' })));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const submitted = o(
        JSON.parse(String(details(r.events.find((e) => e.type === 'TaskSubmitted')!).output)),
      );
      assert.equal(o(submitted.Build).BuildStatus, 'IN_PROGRESS');
      assert.ok('SdkHttpMetadata' in submitted);
      const b = o(o(r.output).Build);
      assert.equal(b.Id, o(submitted.Build).Id);
      assert.equal(b.BuildStatus, 'SUCCEEDED');
      assert.equal(b.SourceVersion, 'main');
      assert.equal(at(b.Phases, 0).PhaseType, 'SUBMITTED');
      assert.deepEqual(o(b.Environment).EnvironmentVariables, [
        { Name: 'STEPWISE_POLLS', Value: '2', Type: 'PLAINTEXT' },
      ]);
      assert.ok(typeof b.EndTime === 'number' && b.EndTime > 1e12);
    });
  });

  it('FAILED, FAULT and TIMED_OUT builds fail the task with {Build} as cause', async () => {
    await withEngine({}, async (engine) => {
      for (const outcome of ['FAILED', 'FAULT', 'TIMED_OUT']) {
        const r = await ended(engine, await startOne(engine, build({ STEPWISE_OUTCOME: outcome })));
        assert.equal(r.error, 'States.TaskFailed', outcome);
        assert.equal(o(o(JSON.parse(r.cause ?? '')).Build).BuildStatus, outcome);
      }
    });
  });

  it('a start the service refuses fails with CodeBuild.<error>', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, build({}, {}, 'no-such-project')));
      assert.equal(r.error, 'CodeBuild.ResourceNotFoundException');
      assert.match(r.cause ?? '', /Project cannot be found: .* \(Service: AWSCodeBuild; Status Code: 400;/);
    });
  });

  it('stopping the execution calls StopBuild', async () => {
    await withEngine({}, async (engine) => {
      const arn = await startOne(engine, build({ STEPWISE_POLLS: '100000' }));
      const id = String(o((await untilSubmitted(engine, arn)).Build).Id);
      await engine.stopExecution({ executionArn: arn });
      await until('StopBuild', () => standIn.builds.get(id)?.status === 'STOPPED');
      assert.equal((await engine.describeExecution(arn)).status, 'ABORTED');
    });
  });
});

describe('after a restart mid-poll', () => {
  // Each service: its job as the state, how to end the job while Stepwise is down, the start
  // operation to count, and what identifies the job in the result.
  const services: {
    name: string;
    def: () => JsonObject;
    start: [string, string];
    /** Ends the job (it must still be running); returns its id. */
    finish: (submitted: Record<string, unknown>) => string;
    id: (output: Obj) => unknown;
  }[] = [
    {
      name: 'ecs',
      def: () => ecsTask({ app: { STEPWISE_POLLS: '100000' } }),
      start: ['ecs', 'RunTask'],
      finish: (s) => {
        const task = standIn.ecsTasks.get(String(at(s.Tasks, 0).TaskArn))!;
        assert.notEqual(task.lastStatus, 'STOPPED');
        task.pollsLeft = 0;
        return task.arn;
      },
      id: (out) => out.TaskArn,
    },
    {
      name: 'batch',
      def: () => batchJob({ STEPWISE_POLLS: '100000' }),
      start: ['batch', 'SubmitJob'],
      finish: (s) => {
        const job = standIn.batchJobs.get(String(s.JobId))!;
        assert.ok(!['SUCCEEDED', 'FAILED'].includes(job.status));
        job.pollsLeft = 0;
        return job.id;
      },
      id: (out) => out.JobId,
    },
    {
      name: 'codebuild',
      def: () => build({ STEPWISE_POLLS: '100000' }),
      start: ['codebuild', 'StartBuild'],
      finish: (s) => {
        const b = standIn.builds.get(String(o(s.Build).Id))!;
        assert.equal(b.status, 'IN_PROGRESS');
        b.pollsLeft = 0;
        return b.id;
      },
      id: (out) => o(out.Build).Id,
    },
  ];
  for (const service of services) {
    it(`${service.name}: polling resumes from TaskSubmitted and the job is not started again`, async () => {
      const dataDir = tempDir();
      const starts = standIn.count(...service.start);
      let arn = '';
      let submitted: Record<string, unknown> = {};
      await withEngine(
        {},
        async (engine) => {
          arn = await startOne(engine, service.def());
          submitted = await untilSubmitted(engine, arn);
        },
        dataDir,
      );
      // The job ends while Stepwise is down (closing the engine did not stop it).
      const jobId = service.finish(submitted);
      await withEngine(
        {},
        async (engine) => {
          const r = await ended(engine, arn);
          assert.equal(r.status, 'SUCCEEDED', r.cause);
          assert.equal(service.id(o(r.output)), jobId);
          assert.equal(r.events.filter((e) => e.type === 'TaskSubmitted').length, 1);
        },
        dataDir,
      );
      assert.equal(standIn.count(...service.start) - starts, 1);
    });
  }
});
