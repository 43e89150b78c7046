// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * The run-a-job pattern (`.sync`) of SageMaker hyperparameter tuning jobs, Glue DataBrew job runs
 * and EMR Serverless job runs, end to end against the local stand-in (aws-standins-jobs.ts) with
 * the real SDK clients. EMR Serverless's API is camelCase: these tests also check what the
 * service received and that map keys (its `Tags`) were kept.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../language/json.js';
import {
  ended,
  o,
  type Obj,
  single,
  startOne,
  submittedOf,
  until,
  untilSubmitted,
  useStandIn,
} from './harness.js';

const kit = useStandIn();
const { withEngine } = kit;

let names = 0;

const tuningJob = (hyper: Record<string, string>, extra: JsonObject = {}, name = `tune-${++names}`) =>
  single({
    Type: 'Task',
    Resource: 'arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync',
    Parameters: {
      HyperParameterTuningJobName: name,
      HyperParameterTuningJobConfig: {
        Strategy: 'Bayesian',
        HyperParameterTuningJobObjective: { Type: 'Maximize', MetricName: 'validation:auc' },
        ResourceLimits: { MaxNumberOfTrainingJobs: 2, MaxParallelTrainingJobs: 1 },
        ParameterRanges: { ContinuousParameterRanges: [{ Name: 'eta', MinValue: '0.1', MaxValue: '0.5' }] },
      },
      TrainingJobDefinition: {
        AlgorithmSpecification: { TrainingImage: 'xgboost:1', TrainingInputMode: 'File' },
        RoleArn: 'arn:aws:iam::123456789012:role/SageMakerRole',
        StaticHyperParameters: hyper,
        OutputDataConfig: { S3OutputPath: 's3://models' },
        ResourceConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 10 },
        StoppingCondition: { MaxRuntimeInSeconds: 3600 },
      },
    },
    ...extra,
  });

const dataBrewRun = (job: string, extra: JsonObject = {}, pattern = '.sync') =>
  single({
    Type: 'Task',
    Resource: `arn:aws:states:::databrew:startJobRun${pattern}`,
    Parameters: { Name: job },
    ...extra,
  });

/** A DataBrew job whose runs stay RUNNING for `polls` DescribeJobRun calls, then end in `outcome`. */
function dataBrewJob(polls: number, outcome = 'SUCCEEDED'): string {
  const name = `clean-orders-${++names}`;
  kit.standIn.jobs.createDataBrewJob(name, { polls, outcome });
  return name;
}

function emrApplication(): string {
  const id = `00f${++names}app`;
  kit.standIn.jobs.createEmrServerlessApplication(id);
  return id;
}

const emrServerlessRun = (applicationId: string, tags: Record<string, string>, extra: JsonObject = {}) =>
  single({
    Type: 'Task',
    Resource: 'arn:aws:states:::emr-serverless:startJobRun.sync',
    Parameters: {
      ApplicationId: applicationId,
      Name: 'nightly-etl',
      ExecutionRoleArn: 'arn:aws:iam::123456789012:role/EMRServerlessJobRole',
      JobDriver: {
        SparkSubmit: {
          EntryPoint: 's3://code/etl.py',
          EntryPointArguments: ['--day', '2026-11-27'],
          SparkSubmitParameters: '--conf spark.executor.cores=2',
        },
      },
      ConfigurationOverrides: {
        ApplicationConfiguration: [
          { Classification: 'spark-defaults', Properties: { 'spark.executor.memory': '4g' } },
        ],
      },
      Tags: tags,
    },
    ...extra,
  });

describe('sagemaker:createHyperParameterTuningJob.sync', () => {
  it('polls DescribeHyperParameterTuningJob until Completed and returns its answer', async () => {
    await withEngine({}, async (engine) => {
      const describes = kit.standIn.count('sagemaker', 'DescribeHyperParameterTuningJob');
      const r = await ended(
        engine,
        await startOne(engine, tuningJob({ STEPWISE_POLLS: '2' }, {}, 'Nightly-Tuning')),
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const submitted = submittedOf(r);
      assert.equal(
        submitted.HyperParameterTuningJobArn,
        'arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/nightly-tuning',
      );
      // The ARN's name is lower case: the request's name is kept for the describe and stop calls.
      assert.equal(submitted.HyperParameterTuningJobName, 'Nightly-Tuning');
      assert.ok('SdkHttpMetadata' in submitted);
      const job = o(r.output);
      assert.equal(job.HyperParameterTuningJobStatus, 'Completed');
      assert.equal(job.HyperParameterTuningJobName, 'Nightly-Tuning');
      assert.equal(o(job.BestTrainingJob).TrainingJobStatus, 'Completed');
      assert.equal(o(job.TrainingJobStatusCounters).Completed, 2);
      assert.deepEqual(o(job.TrainingJobDefinition).StaticHyperParameters, { STEPWISE_POLLS: '2' });
      assert.ok(
        typeof job.HyperParameterTuningEndTime === 'number' && job.HyperParameterTuningEndTime > 1e12,
      );
      assert.equal(kit.standIn.count('sagemaker', 'DescribeHyperParameterTuningJob') - describes, 3);
    });
  });

  it('a Failed tuning job fails the task with the job as cause', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, tuningJob({ STEPWISE_OUTCOME: 'Failed' })));
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'States.TaskFailed');
      const cause = o(JSON.parse(r.cause ?? ''));
      assert.equal(cause.HyperParameterTuningJobStatus, 'Failed');
      assert.equal(cause.FailureReason, 'All training jobs failed.');
    });
  });

  it('a name already taken fails with SageMaker.ResourceInUseException', async () => {
    await withEngine({}, async (engine) => {
      const first = await ended(engine, await startOne(engine, tuningJob({}, {}, 'taken-tuning')));
      assert.equal(first.status, 'SUCCEEDED', first.cause);
      const r = await ended(engine, await startOne(engine, tuningJob({}, {}, 'Taken-Tuning')));
      assert.equal(r.error, 'SageMaker.ResourceInUseException');
      assert.match(r.cause ?? '', /\(Service: AmazonSageMaker; Status Code: 400; Error Code: ResourceInUse;/);
    });
  });

  it('stopping the execution calls StopHyperParameterTuningJob', async () => {
    await withEngine({}, async (engine) => {
      const arn = await startOne(engine, tuningJob({ STEPWISE_POLLS: '100000' }, {}, 'tuning-to-stop'));
      await untilSubmitted(engine, arn);
      await engine.stopExecution({ executionArn: arn });
      await until(
        'StopHyperParameterTuningJob',
        () => kit.standIn.jobs.tuningJobs.get('tuning-to-stop')?.status === 'Stopping',
      );
      assert.equal((await engine.describeExecution(arn)).status, 'ABORTED');
    });
  });

  it('request-response createHyperParameterTuningJob returns the create answer without waiting', async () => {
    await withEngine({}, async (engine) => {
      const def = tuningJob(
        {},
        { Resource: 'arn:aws:states:::sagemaker:createHyperParameterTuningJob' },
        'tuning-no-wait',
      );
      const r = await ended(engine, await startOne(engine, def));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.match(
        String(o(r.output).HyperParameterTuningJobArn),
        /:hyper-parameter-tuning-job\/tuning-no-wait$/,
      );
      assert.equal(kit.standIn.jobs.tuningJobs.get('tuning-no-wait')?.status, 'InProgress');
    });
  });
});

describe('databrew:startJobRun.sync', () => {
  it('polls DescribeJobRun until SUCCEEDED and returns its answer', async () => {
    await withEngine({}, async (engine) => {
      const job = dataBrewJob(2);
      const r = await ended(engine, await startOne(engine, dataBrewRun(job)));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const submitted = submittedOf(r);
      // StartJobRun answers only the RunId; the job's Name is kept for DescribeJobRun.
      assert.equal(submitted.Name, job);
      assert.match(String(submitted.RunId), /^db_/);
      assert.ok('SdkHttpMetadata' in submitted);
      const run = o(r.output);
      assert.equal(run.State, 'SUCCEEDED');
      assert.equal(run.RunId, submitted.RunId);
      assert.equal(run.JobName, job);
      assert.ok(typeof run.CompletedOn === 'number' && run.CompletedOn > 1e12);
      assert.equal(kit.standIn.jobs.dataBrewRuns.get(String(submitted.RunId))?.state, 'SUCCEEDED');
    });
  });

  it('a FAILED run fails the task with DescribeJobRun’s answer as cause', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, dataBrewRun(dataBrewJob(1, 'FAILED'))));
      assert.equal(r.error, 'States.TaskFailed');
      const cause = o(JSON.parse(r.cause ?? ''));
      assert.equal(cause.State, 'FAILED');
      assert.match(String(cause.ErrorMessage), /column "price" not found/);
    });
  });

  it('an unknown job fails with DataBrew.ResourceNotFoundException', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, dataBrewRun('no-such-job')));
      assert.equal(r.error, 'DataBrew.ResourceNotFoundException');
      assert.match(
        r.cause ?? '',
        /^Job no-such-job wasn't found\. \(Service: AWSGlueDataBrew; Status Code: 404; Error Code: ResourceNotFoundException;/,
      );
    });
  });

  it('a task that times out stops the run (StopJobRun)', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(
        engine,
        await startOne(engine, dataBrewRun(dataBrewJob(100000), { TimeoutSeconds: 1 })),
      );
      assert.equal(r.error, 'States.Timeout');
      const runId = String(submittedOf(r).RunId);
      await until('StopJobRun', () => kit.standIn.jobs.dataBrewRuns.get(runId)?.state === 'STOPPING');
    });
  });

  it('request-response startJobRun returns StartJobRun’s answer without waiting', async () => {
    await withEngine({}, async (engine) => {
      const job = dataBrewJob(1);
      const r = await ended(engine, await startOne(engine, dataBrewRun(job, {}, '')));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const out = o(r.output);
      assert.ok('SdkHttpMetadata' in out);
      assert.equal(kit.standIn.jobs.dataBrewRuns.get(String(out.RunId))?.jobName, job);
      assert.equal(kit.standIn.jobs.dataBrewRuns.get(String(out.RunId))?.state, 'STARTING');
    });
  });
});

describe('emr-serverless:startJobRun.sync', () => {
  it('polls GetJobRun until SUCCESS and returns the JobRun, in PascalCase', async () => {
    await withEngine({}, async (engine) => {
      const app = emrApplication();
      const r = await ended(
        engine,
        await startOne(engine, emrServerlessRun(app, { STEPWISE_POLLS: '2', team: 'data' })),
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const submitted = submittedOf(r);
      assert.equal(submitted.ApplicationId, app);
      const runId = String(submitted.JobRunId);
      assert.match(String(submitted.Arn), new RegExp(`:/applications/${app}/jobruns/${runId}$`));
      const run = o(r.output);
      assert.equal(run.State, 'SUCCESS');
      assert.equal(run.JobRunId, runId);
      assert.equal(o(o(run.JobDriver).SparkSubmit).EntryPoint, 's3://code/etl.py');
      // Map keys are data: kept as written, both ways.
      assert.deepEqual(run.Tags, { STEPWISE_POLLS: '2', team: 'data' });
      assert.ok(typeof run.EndedAt === 'number' && run.EndedAt > 1e12);
      // What EMR Serverless received: camelCase members, a client token, the map keys as written.
      const sent = kit.standIn.jobs.emrServerlessRuns.get(runId)!.request;
      assert.equal(sent.executionRoleArn, 'arn:aws:iam::123456789012:role/EMRServerlessJobRole');
      assert.ok(typeof sent.clientToken === 'string' && sent.clientToken !== '');
      const overrides = o(sent.configurationOverrides);
      assert.deepEqual(overrides.applicationConfiguration, [
        { classification: 'spark-defaults', properties: { 'spark.executor.memory': '4g' } },
      ]);
    });
  });

  it('aws-sdk:emrserverless (AWS’s name for the SDK integration) reaches the same API, in PascalCase', async () => {
    await withEngine({}, async (engine) => {
      const app = emrApplication();
      const done = await ended(engine, await startOne(engine, emrServerlessRun(app, { team: 'data' })));
      assert.equal(done.status, 'SUCCEEDED', done.cause);
      const runId = String(submittedOf(done).JobRunId);
      const r = await ended(
        engine,
        await startOne(
          engine,
          single({
            Type: 'Task',
            Resource: 'arn:aws:states:::aws-sdk:emrserverless:getJobRun',
            Parameters: { ApplicationId: app, JobRunId: runId },
          }),
        ),
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const run = o(o(r.output).JobRun);
      assert.equal(run.JobRunId, runId);
      assert.equal(run.State, 'SUCCESS');
      assert.deepEqual(run.Tags, { team: 'data' });
    });
  });

  it('a FAILED run fails the task with the JobRun as cause', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(
        engine,
        await startOne(engine, emrServerlessRun(emrApplication(), { STEPWISE_OUTCOME: 'FAILED' })),
      );
      assert.equal(r.error, 'States.TaskFailed');
      const cause = o(JSON.parse(r.cause ?? ''));
      assert.equal(cause.State, 'FAILED');
      assert.match(String(cause.StateDetails), /ExitCode: 1/);
    });
  });

  it('an unknown application fails with EMRServerless.ResourceNotFoundException', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, emrServerlessRun('nosuchapp', {})));
      assert.equal(r.error, 'EMRServerless.ResourceNotFoundException');
      assert.match(
        r.cause ?? '',
        /^Application nosuchapp does not exist \(Service: EMRServerless; Status Code: 404;/,
      );
    });
  });

  it('stopping the execution cancels the run (CancelJobRun)', async () => {
    await withEngine({}, async (engine) => {
      const arn = await startOne(engine, emrServerlessRun(emrApplication(), { STEPWISE_POLLS: '100000' }));
      const runId = String((await untilSubmitted(engine, arn)).JobRunId);
      await engine.stopExecution({ executionArn: arn });
      await until(
        'CancelJobRun',
        () => kit.standIn.jobs.emrServerlessRuns.get(runId)?.state === 'CANCELLING',
      );
      assert.equal((await engine.describeExecution(arn)).status, 'ABORTED');
    });
  });
});

describe('emr-serverless:cancelJobRun', () => {
  /** A job run started through aws-sdk:emrserverless, then cancelled by the optimized action. */
  const startThenCancel = (app: string, polls: string, pattern: string) => ({
    StartAt: 'Start',
    States: {
      Start: {
        Type: 'Task',
        Resource: 'arn:aws:states:::aws-sdk:emrserverless:startJobRun',
        Parameters: {
          ApplicationId: app,
          Name: 'long-etl',
          ClientToken: 'token-1',
          ExecutionRoleArn: 'arn:aws:iam::123456789012:role/EMRServerlessJobRole',
          JobDriver: { SparkSubmit: { EntryPoint: 's3://code/etl.py' } },
          Tags: { STEPWISE_POLLS: polls },
        },
        ResultPath: '$.run',
        Next: 'Cancel',
      },
      Cancel: {
        Type: 'Task',
        Resource: `arn:aws:states:::emr-serverless:cancelJobRun${pattern}`,
        Parameters: { 'ApplicationId.$': '$.run.ApplicationId', 'JobRunId.$': '$.run.JobRunId' },
        End: true,
      },
    },
  });

  it('.sync waits until the run is CANCELLED and answers {ApplicationId, JobRunId}', async () => {
    await withEngine({}, async (engine) => {
      const app = emrApplication();
      const r = await ended(engine, await startOne(engine, startThenCancel(app, '100000', '.sync')));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const out = o(r.output);
      assert.deepEqual(Object.keys(out).sort(), ['ApplicationId', 'JobRunId']);
      assert.equal(out.ApplicationId, app);
      assert.equal(kit.standIn.jobs.emrServerlessRuns.get(String(out.JobRunId))?.state, 'CANCELLED');
      assert.ok(r.events.some((e) => e.type === 'TaskSubmitted'));
    });
  });

  it('request-response answers at once, the run still CANCELLING', async () => {
    await withEngine({}, async (engine) => {
      const app = emrApplication();
      const r = await ended(engine, await startOne(engine, startThenCancel(app, '100000', '')));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const out = o(r.output);
      assert.equal(out.ApplicationId, app);
      assert.equal(kit.standIn.jobs.emrServerlessRuns.get(String(out.JobRunId))?.state, 'CANCELLING');
    });
  });

  it('a run that already ended cannot be cancelled: EMRServerless.ValidationException', async () => {
    await withEngine({}, async (engine) => {
      const app = emrApplication();
      const def = startThenCancel(app, '0', '.sync');
      // Let the run end first: a .sync startJobRun in place of the aws-sdk call.
      def.States.Start.Resource = 'arn:aws:states:::emr-serverless:startJobRun.sync';
      def.States.Start.ResultPath = '$.run';
      const r = await ended(engine, await startOne(engine, def));
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'EMRServerless.ValidationException');
    });
  });
});

describe('after a restart mid-poll', () => {
  const services: {
    name: string;
    def: () => JsonObject;
    start: [string, string];
    /** Ends the job (it must still be running); what identifies it in the result. */
    finish: (submitted: Obj) => unknown;
    id: (output: Obj) => unknown;
  }[] = [
    {
      name: 'databrew:startJobRun',
      def: () => dataBrewRun(dataBrewJob(100000)),
      start: ['databrew', 'StartJobRun'],
      finish: (s) => {
        const run = kit.standIn.jobs.dataBrewRuns.get(String(s.RunId))!;
        assert.ok(['STARTING', 'RUNNING'].includes(run.state));
        run.state = 'RUNNING';
        run.pollsLeft = 0;
        return run.runId;
      },
      id: (out) => out.RunId,
    },
    {
      name: 'emr-serverless:startJobRun',
      def: () => emrServerlessRun(emrApplication(), { STEPWISE_POLLS: '100000' }),
      start: ['emr-serverless', 'StartJobRun'],
      finish: (s) => {
        const run = kit.standIn.jobs.emrServerlessRuns.get(String(s.JobRunId))!;
        assert.ok(['SUBMITTED', 'SCHEDULED', 'RUNNING'].includes(run.state));
        run.state = 'RUNNING';
        run.pollsLeft = 0;
        return run.jobRunId;
      },
      id: (out) => out.JobRunId,
    },
    {
      name: 'sagemaker:createHyperParameterTuningJob',
      def: () => tuningJob({ STEPWISE_POLLS: '100000' }, {}, 'resumed-tuning'),
      start: ['sagemaker', 'CreateHyperParameterTuningJob'],
      finish: (s) => {
        const job = kit.standIn.jobs.tuningJobs.get(String(s.HyperParameterTuningJobName))!;
        assert.equal(job.status, 'InProgress');
        job.pollsLeft = 0;
        return job.name;
      },
      id: (out) => out.HyperParameterTuningJobName,
    },
  ];
  for (const service of services) {
    it(`${service.name}: polling resumes from TaskSubmitted and the job is not started again`, () =>
      kit.resumesAfterRestart({ ...service, check: (out, _s, id) => assert.equal(service.id(out), id) }));
  }
});
