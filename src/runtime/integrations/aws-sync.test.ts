// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * The run-a-job pattern (`.sync`) of pass-through integrations, end to end: the durable engine
 * starts a Glue job run or an Athena query on a local stand-in, records TaskSubmitted, polls the
 * describe API, stops the job when the task is cancelled, and resumes polling after a restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JsonObject } from '../../language/json.js';
import { Engine, type EngineOptions } from '../engine.js';
import { AwsStandIn } from '../testing/aws-standins.js';
import { parseAwsConfig, type AwsPassThroughOptions } from './aws.js';
import {
  details,
  ended,
  removeTempDirs,
  runInMemory,
  single,
  startOne,
  tempDir,
  untilSubmitted,
} from './harness.js';

const CREDENTIALS = { accessKeyId: 'AKIDSTEPWISETESTKEY1', secretAccessKey: 'stepwise-test-secret' };

after(removeTempDirs);

let standIn: AwsStandIn;
before(async () => {
  standIn = new AwsStandIn({ account: '123456789012' });
  await standIn.start();
  standIn.createGlueJob('nightly-etl');
});
after(() => standIn.stop());

function awsOptions(): AwsPassThroughOptions {
  return {
    endpoint: standIn.url,
    credentials: CREDENTIALS,
    maxAttempts: 1,
    pollIntervalSeconds: 0.01,
  };
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

const glue = (args: Record<string, string>, extra: JsonObject = {}) =>
  single({
    Type: 'Task',
    Resource: 'arn:aws:states:::glue:startJobRun.sync',
    Parameters: { JobName: 'nightly-etl', Arguments: args },
    ...extra,
  });

const athena = (query: string, extra: JsonObject = {}) =>
  single({
    Type: 'Task',
    Resource: 'arn:aws:states:::athena:startQueryExecution.sync',
    Parameters: {
      QueryString: query,
      WorkGroup: 'primary',
      ResultConfiguration: { OutputLocation: 's3://results/' },
    },
    ...extra,
  });

describe('glue:startJobRun.sync', () => {
  it('records the start as TaskSubmitted, polls GetJobRun, and returns the JobRun', async () => {
    await withEngine({}, async (engine) => {
      const starts = standIn.count('glue', 'StartJobRun');
      const gets = standIn.count('glue', 'GetJobRun');
      const r = await ended(
        engine,
        await startOne(engine, glue({ '--stepwise-polls': '2', '--day': 'mon' })),
      );
      assert.equal(r.status, 'SUCCEEDED');
      const types = r.events.map((e) => e.type);
      assert.deepEqual(types.slice(2, 6), ['TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded']);
      const submitted = details(r.events[4]!);
      assert.equal(submitted.resourceType, 'glue');
      assert.equal(submitted.resource, 'startJobRun.sync');
      const out = JSON.parse(String(submitted.output)) as Record<string, unknown>;
      // AWS copies the JobName from the request into the start's answer.
      assert.equal(out.JobName, 'nightly-etl');
      assert.match(String(out.JobRunId), /^jr_/);
      assert.ok('SdkHttpMetadata' in out && 'SdkResponseMetadata' in out);
      const run = r.output as Record<string, unknown>;
      assert.equal(run.Id, out.JobRunId);
      assert.equal(run.JobRunState, 'SUCCEEDED');
      assert.deepEqual(run.Arguments, { '--stepwise-polls': '2', '--day': 'mon' });
      // Dates as the optimized integrations record them: epoch milliseconds.
      assert.equal(typeof run.StartedOn, 'number');
      assert.ok((run.StartedOn as number) > 1e12);
      assert.equal(standIn.count('glue', 'StartJobRun') - starts, 1);
      assert.equal(standIn.count('glue', 'GetJobRun') - gets, 3);
    });
  });

  it('a failed run fails the task with States.TaskFailed and the JobRun as cause', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, glue({ '--stepwise-outcome': 'FAILED' })));
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'States.TaskFailed');
      const cause = JSON.parse(r.cause ?? '') as Record<string, unknown>;
      assert.equal(cause.JobRunState, 'FAILED');
      assert.equal(cause.ErrorMessage, 'An error occurred while running the job script.');
      assert.equal(r.events.at(-2)?.type, 'TaskFailed');
    });
  });

  it('a start the service refuses fails with its error, in the optimized integrations’ style', async () => {
    await withEngine({}, async (engine) => {
      const def = single({
        Type: 'Task',
        Resource: 'arn:aws:states:::glue:startJobRun.sync',
        Parameters: { JobName: 'no-such-job' },
      });
      const r = await ended(engine, await startOne(engine, def));
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'Glue.EntityNotFoundException');
      assert.match(
        r.cause ?? '',
        /Job with name: no-such-job not found \(Service: AWSGlue; Status Code: 400;/,
      );
      assert.ok(!r.events.some((e) => e.type === 'TaskSubmitted'));
    });
  });

  it('stopping the execution calls BatchStopJobRun', async () => {
    await withEngine({}, async (engine) => {
      const arn = await startOne(engine, glue({ '--stepwise-polls': '100000' }));
      const submitted = await untilSubmitted(engine, arn);
      await engine.stopExecution({ executionArn: arn });
      const deadline = Date.now() + 5_000;
      while (standIn.jobRuns.get(String(submitted.JobRunId))?.state !== 'STOPPED') {
        if (Date.now() > deadline) throw new Error('the job run was not stopped');
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal((await engine.describeExecution(arn)).status, 'ABORTED');
    });
  });

  it('after a restart mid-poll, polling resumes and the job is not submitted again', async () => {
    const dataDir = tempDir();
    const starts = standIn.count('glue', 'StartJobRun');
    let arn = '';
    let runId = '';
    await withEngine(
      {},
      async (engine) => {
        arn = await startOne(engine, glue({ '--stepwise-polls': '100000' }));
        runId = String((await untilSubmitted(engine, arn)).JobRunId);
      },
      dataDir,
    );
    // Closing the engine must not stop the job.
    assert.equal(standIn.jobRuns.get(runId)?.state, 'RUNNING');
    standIn.setJobRunState(runId, 'SUCCEEDED');
    await withEngine(
      {},
      async (engine) => {
        const r = await ended(engine, arn);
        assert.equal(r.status, 'SUCCEEDED');
        assert.equal((r.output as Record<string, unknown>).Id, runId);
        assert.equal(r.events.filter((e) => e.type === 'TaskSubmitted').length, 1);
      },
      dataDir,
    );
    assert.equal(standIn.count('glue', 'StartJobRun') - starts, 1);
  });
});

describe('a restart while the start request is out', () => {
  it('fails that attempt with the interrupted cause (its outcome is unknown); Retry starts again', async () => {
    const dataDir = tempDir();
    const def = glue(
      {},
      { Retry: [{ ErrorEquals: ['States.TaskFailed'], MaxAttempts: 1, IntervalSeconds: 1 }] },
    );
    let arn = '';
    const starts = standIn.count('glue', 'StartJobRun');
    standIn.delays.set('glue:StartJobRun', 60_000);
    try {
      await withEngine(
        {},
        async (engine) => {
          arn = await startOne(engine, def);
          const deadline = Date.now() + 10_000;
          while (standIn.count('glue', 'StartJobRun') === starts) {
            if (Date.now() > deadline) throw new Error('no StartJobRun');
            await new Promise((r) => setTimeout(r, 10));
          }
        },
        dataDir,
      );
    } finally {
      standIn.delays.delete('glue:StartJobRun');
    }
    await withEngine(
      {},
      async (engine) => {
        const r = await ended(engine, arn);
        assert.equal(r.status, 'SUCCEEDED');
        const failed = r.events.find((e) => e.type === 'TaskFailed');
        assert.match(String(details(failed!).cause), /outcome is unknown/);
        assert.equal(r.events.filter((e) => e.type === 'TaskSubmitted').length, 1);
      },
      dataDir,
    );
    assert.equal(standIn.count('glue', 'StartJobRun') - starts, 2);
  });
});

describe('glue:startJobRun without .sync, and a .sync task answered through its token', () => {
  it('the request-response start returns the JobRunId with the JobName added', async () => {
    await withEngine({}, async (engine) => {
      const def = single({
        Type: 'Task',
        Resource: 'arn:aws:states:::glue:startJobRun',
        Parameters: { JobName: 'nightly-etl' },
      });
      const r = await ended(engine, await startOne(engine, def));
      assert.equal(r.status, 'SUCCEEDED');
      const out = r.output as Record<string, unknown>;
      assert.equal(out.JobName, 'nightly-etl');
      assert.match(String(out.JobRunId), /^jr_/);
      assert.equal((out.SdkHttpMetadata as Record<string, unknown>).HttpStatusCode, 200);
    });
  });

  it('SendTaskSuccess with the task token ends the task and the polling (the job runs on)', async () => {
    await withEngine({}, async (engine) => {
      const def = glue({ '--stepwise-polls': '100000', 'token.$': '$$.Task.Token' });
      const arn = await startOne(engine, def);
      const submitted = await untilSubmitted(engine, arn);
      const run = standIn.jobRuns.get(String(submitted.JobRunId))!;
      await engine.sendTaskSuccess({ taskToken: run.arguments.token!, output: '{"early":true}' });
      const r = await ended(engine, arn);
      assert.equal(r.status, 'SUCCEEDED');
      assert.deepEqual(r.output, { early: true });
      const polls = standIn.count('glue', 'GetJobRun');
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(standIn.count('glue', 'GetJobRun') - polls <= 1);
      assert.equal(run.state, 'RUNNING');
    });
  });
});

describe('athena:startQueryExecution.sync', () => {
  it('returns the GetQueryExecution answer when the query succeeds', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, athena('SELECT 1 -- polls: 2')));
      assert.equal(r.status, 'SUCCEEDED');
      const q = (r.output as { QueryExecution: Record<string, unknown> }).QueryExecution;
      assert.equal((q.Status as Record<string, unknown>).State, 'SUCCEEDED');
      assert.equal(typeof (q.Status as Record<string, unknown>).SubmissionDateTime, 'number');
      assert.match(
        String((q.ResultConfiguration as Record<string, unknown>).OutputLocation),
        /^s3:\/\/results\//,
      );
      const submitted = JSON.parse(String(details(r.events[4]!).output)) as Record<string, unknown>;
      assert.equal(submitted.QueryExecutionId, q.QueryExecutionId);
    });
  });

  it('a failed query fails the task; Catch sees States.TaskFailed', async () => {
    await withEngine({}, async (engine) => {
      const def = {
        StartAt: 'Q',
        States: {
          Q: {
            Type: 'Task',
            Resource: 'arn:aws:states:::athena:startQueryExecution.sync',
            Parameters: { QueryString: 'SELECT FAIL' },
            Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Handled' }],
            End: true,
          },
          Handled: { Type: 'Pass', End: true },
        },
      };
      const r = await ended(engine, await startOne(engine, def));
      assert.equal(r.status, 'SUCCEEDED');
      const output = r.output as { Error: string; Cause: string };
      assert.equal(output.Error, 'States.TaskFailed');
      const cause = JSON.parse(output.Cause) as { QueryExecution: { Status: { State: string } } };
      assert.equal(cause.QueryExecution.Status.State, 'FAILED');
    });
  });

  it('a task that times out stops the query (StopQueryExecution)', async () => {
    await withEngine({}, async (engine) => {
      const stops = standIn.count('athena', 'StopQueryExecution');
      const r = await ended(
        engine,
        await startOne(engine, athena('SELECT 2 -- polls: 100000', { TimeoutSeconds: 1 })),
      );
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'States.Timeout');
      const deadline = Date.now() + 5_000;
      while (standIn.count('athena', 'StopQueryExecution') === stops) {
        if (Date.now() > deadline) throw new Error('StopQueryExecution was not called');
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok([...standIn.queries.values()].some((q) => q.state === 'CANCELLED'));
    });
  });
});

describe('.sync elsewhere', () => {
  it('the in-memory runtime runs a job start to end', async () => {
    const state = await runInMemory(athena('SELECT 3'), { aws: awsOptions() });
    assert.equal(state.status, 'SUCCEEDED');
    const q = (state.output as { QueryExecution: { Status: { State: string } } }).QueryExecution;
    assert.equal(q.Status.State, 'SUCCEEDED');
  });

  it('sdkModules hands over a client module instead of importing the package', async () => {
    // A bundled application passes the module itself; a loader function is called once.
    const real = await import('@aws-sdk/client-athena');
    let loads = 0;
    let sends = 0;
    class CountingClient extends real.AthenaClient {
      constructor(...args: ConstructorParameters<typeof real.AthenaClient>) {
        super(...args);
        this.middlewareStack.add(
          (next) => (request) => {
            sends++;
            return next(request);
          },
          { step: 'initialize' },
        );
      }
    }
    const state = await runInMemory(athena('SELECT 4'), {
      aws: {
        ...awsOptions(),
        sdkModules: {
          athena: () => {
            loads++;
            return Promise.resolve({ ...real, AthenaClient: CountingClient });
          },
        },
      },
    });
    assert.equal(state.status, 'SUCCEEDED');
    assert.equal(loads, 1);
    assert.ok(sends >= 2, `start and at least one poll through the given client (${sends})`);
  });

  it('.sync of a service without a run-a-job integration fails, naming the supported ones', async () => {
    await withEngine({}, async (engine) => {
      const def = single({
        Type: 'Task',
        Resource: 'arn:aws:states:::sagemaker:createEndpoint.sync',
        Parameters: { EndpointName: 't' },
      });
      const r = await ended(engine, await startOne(engine, def));
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'States.TaskFailed');
      assert.match(
        r.cause ?? '',
        /only for sagemaker:createHyperParameterTuningJob, databrew:startJobRun, emr-serverless:startJobRun, emr-serverless:cancelJobRun, emr-serverless:createApplication, emr-serverless:startApplication, emr-serverless:stopApplication, emr-serverless:deleteApplication, emr-containers:startJobRun, emr-containers:deleteVirtualCluster, glue:startJobRun, athena:startQueryExecution, ecs:runTask, batch:submitJob, codebuild:startBuild, elasticmapreduce:createCluster, elasticmapreduce:addStep, sagemaker:createTrainingJob, sagemaker:createTransformJob, sagemaker:createProcessingJob, eks:createCluster, eks:deleteCluster, eks:createNodegroup, eks:deleteNodegroup, codebuild:startBuildBatch, elasticmapreduce:terminateCluster, bedrock:createModelCustomizationJob, mediaconvert:createJob, eks:createFargateProfile, eks:deleteFargateProfile, codebuild:retryBuildBatch, sagemaker:createLabelingJob, eks:runJob \(/,
      );
    });
  });

  it('the configuration file accepts pollIntervalSeconds', () => {
    assert.deepEqual(parseAwsConfig({ pollIntervalSeconds: 2 }), { pollIntervalSeconds: 2 });
    assert.throws(() => parseAwsConfig({ pollIntervalSeconds: 0 }), /pollIntervalSeconds/);
  });
});
