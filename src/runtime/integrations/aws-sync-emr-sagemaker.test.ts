// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * The run-a-job pattern (`.sync`) of EMR (createCluster, addStep) and SageMaker AI (training,
 * transform and processing jobs), end to end against the local stand-in with the real SDK
 * clients. EMR's optimized actions differ from its API (createCluster answers `ClusterId`, addStep
 * takes `ClusterId` and one `Step`), so these tests also check what the service received.
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

const createCluster = (tags: Record<string, string>, extra: JsonObject = {}, instances = true) =>
  single({
    Type: 'Task',
    Resource: 'arn:aws:states:::elasticmapreduce:createCluster.sync',
    Parameters: {
      Name: 'nightly',
      ReleaseLabel: 'emr-7.1.0',
      Applications: [{ Name: 'Spark' }],
      ServiceRole: 'EMR_DefaultRole',
      JobFlowRole: 'EMR_EC2_DefaultRole',
      ...(instances
        ? {
            Instances: {
              KeepJobFlowAliveWhenNoSteps: true,
              InstanceGroups: [{ InstanceRole: 'MASTER', InstanceCount: 1, InstanceType: 'm5.xlarge' }],
            },
          }
        : {}),
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    },
    ...extra,
  });

/** A cluster that is up, for steps. */
function waitingCluster(): string {
  const id = `j-READY${kit.standIn.emrClusters.size}`;
  kit.standIn.emrClusters.set(id, {
    id,
    arn: `arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/${id}`,
    name: 'steps',
    releaseLabel: 'emr-7.1.0',
    tags: [],
    created: Date.now(),
    state: 'WAITING',
    pollsLeft: 0,
    outcome: 'WAITING',
  });
  return id;
}

const addStep = (clusterId: string, props: Record<string, string>, extra: JsonObject = {}) =>
  single({
    Type: 'Task',
    Resource: 'arn:aws:states:::elasticmapreduce:addStep.sync',
    Parameters: {
      ClusterId: clusterId,
      Step: {
        Name: 'spark-etl',
        ActionOnFailure: 'CONTINUE',
        HadoopJarStep: {
          Jar: 'command-runner.jar',
          Args: ['spark-submit', 's3://code/etl.py'],
          Properties: Object.entries(props).map(([Key, Value]) => ({ Key, Value })),
        },
      },
    },
    ...extra,
  });

let jobs = 0;
const trainingJob = (hyper: Record<string, string>, extra: JsonObject = {}, name = `train-${++jobs}`) =>
  single({
    Type: 'Task',
    Resource: 'arn:aws:states:::sagemaker:createTrainingJob.sync',
    Parameters: {
      TrainingJobName: name,
      AlgorithmSpecification: { TrainingImage: 'xgboost:1', TrainingInputMode: 'File' },
      RoleArn: 'arn:aws:iam::123456789012:role/SageMakerRole',
      HyperParameters: hyper,
      OutputDataConfig: { S3OutputPath: 's3://models' },
      ResourceConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 10 },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    },
    ...extra,
  });

describe('elasticmapreduce:createCluster.sync', () => {
  it('sends RunJobFlow, polls DescribeCluster until WAITING and returns {ClusterId}', async () => {
    await withEngine({}, async (engine) => {
      const describes = kit.standIn.count('emr', 'DescribeCluster');
      const r = await ended(engine, await startOne(engine, createCluster({ STEPWISE_POLLS: '2' })));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const submitted = submittedOf(r);
      const id = String(submitted.ClusterId);
      assert.match(id, /^j-/);
      assert.ok(!('JobFlowId' in submitted));
      assert.deepEqual(r.output, { ClusterId: id });
      assert.equal(kit.standIn.emrClusters.get(id)?.state, 'WAITING');
      assert.equal(kit.standIn.emrClusters.get(id)?.name, 'nightly');
      assert.equal(kit.standIn.count('emr', 'DescribeCluster') - describes, 3);
    });
  });

  it('a cluster that terminates with errors fails the task with its description as cause', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(
        engine,
        await startOne(engine, createCluster({ STEPWISE_OUTCOME: 'TERMINATED_WITH_ERRORS' })),
      );
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'States.TaskFailed');
      const status = o(o(o(JSON.parse(r.cause ?? '')).Cluster).Status);
      assert.equal(status.State, 'TERMINATED_WITH_ERRORS');
      assert.equal(o(status.StateChangeReason).Code, 'VALIDATION_ERROR');
    });
  });

  it('a RunJobFlow the service refuses fails with EMR.<error> in the optimized style', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, createCluster({}, {}, false)));
      assert.equal(r.error, 'EMR.AmazonElasticMapReduceException');
      assert.match(
        r.cause ?? '',
        /Member must not be null \(Service: AmazonElasticMapReduce; Status Code: 400; Error Code: ValidationException;/,
      );
    });
  });

  it('stopping the execution leaves the cluster running, as AWS does', async () => {
    await withEngine({}, async (engine) => {
      const before = kit.standIn.requests.length;
      const arn = await startOne(engine, createCluster({ STEPWISE_POLLS: '100000' }));
      const id = String((await untilSubmitted(engine, arn)).ClusterId);
      const describes = kit.standIn.count('emr', 'DescribeCluster');
      await until('polling', () => kit.standIn.count('emr', 'DescribeCluster') > describes);
      await engine.stopExecution({ executionArn: arn });
      assert.equal((await engine.describeExecution(arn)).status, 'ABORTED');
      await new Promise((r) => setTimeout(r, 100));
      const calls = kit.standIn.requests.slice(before).filter((q) => q.service === 'emr');
      assert.deepEqual([...new Set(calls.map((q) => q.operation))].sort(), ['DescribeCluster', 'RunJobFlow']);
      assert.equal(kit.standIn.emrClusters.get(id)?.state, 'STARTING');
    });
  });
});

describe('elasticmapreduce:addStep.sync', () => {
  it('sends AddJobFlowSteps with the one Step, polls DescribeStep until COMPLETED and returns {Step}', async () => {
    await withEngine({}, async (engine) => {
      const cluster = waitingCluster();
      const r = await ended(engine, await startOne(engine, addStep(cluster, { STEPWISE_POLLS: '2' })));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const submitted = submittedOf(r);
      assert.equal(submitted.ClusterId, cluster);
      assert.match(String(submitted.StepId), /^s-/);
      const step = o(o(r.output).Step);
      assert.equal(step.Id, submitted.StepId);
      assert.equal(o(step.Status).State, 'COMPLETED');
      assert.equal(step.Name, 'spark-etl');
      assert.deepEqual(o(step.Config).Args, ['spark-submit', 's3://code/etl.py']);
      assert.ok(typeof o(o(step.Status).Timeline).EndDateTime === 'number');
      // What EMR received: the one step, on the job flow the ClusterId names.
      const sent = kit.standIn.emrSteps.get(String(submitted.StepId))!;
      assert.equal(sent.clusterId, cluster);
      assert.equal(sent.jar, 'command-runner.jar');
    });
  });

  it('a FAILED step fails the task with {Step} as cause', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(
        engine,
        await startOne(engine, addStep(waitingCluster(), { STEPWISE_OUTCOME: 'FAILED' })),
      );
      assert.equal(r.error, 'States.TaskFailed');
      const status = o(o(o(JSON.parse(r.cause ?? '')).Step).Status);
      assert.equal(status.State, 'FAILED');
      assert.equal(o(status.FailureDetails).Message, 'Step failed with exitCode 1.');
    });
  });

  it('a step on an unknown cluster fails with EMR.InvalidRequestException', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, addStep('j-NOSUCHCLUSTER', {})));
      assert.equal(r.error, 'EMR.InvalidRequestException');
      assert.match(
        r.cause ?? '',
        /Cluster id 'j-NOSUCHCLUSTER' is not valid\. \(Service: AmazonElasticMapReduce;/,
      );
    });
  });

  it('a task that times out cancels the step (CancelSteps)', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(
        engine,
        await startOne(
          engine,
          addStep(waitingCluster(), { STEPWISE_POLLS: '100000' }, { TimeoutSeconds: 1 }),
        ),
      );
      assert.equal(r.error, 'States.Timeout');
      const stepId = String(submittedOf(r).StepId);
      await until('CancelSteps', () => kit.standIn.emrSteps.get(stepId)?.state === 'CANCELLED');
    });
  });
});

describe('sagemaker:create<Kind>Job.sync', () => {
  it('training: polls DescribeTrainingJob until Completed and returns its answer', async () => {
    await withEngine({}, async (engine) => {
      const describes = kit.standIn.count('sagemaker', 'DescribeTrainingJob');
      const r = await ended(
        engine,
        await startOne(engine, trainingJob({ STEPWISE_POLLS: '2' }, {}, 'Nightly-Model')),
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const submitted = submittedOf(r);
      assert.equal(
        submitted.TrainingJobArn,
        'arn:aws:sagemaker:us-east-1:123456789012:training-job/nightly-model',
      );
      // The ARN's name is lower case: the request's name is kept for the describe and stop calls.
      assert.equal(submitted.TrainingJobName, 'Nightly-Model');
      assert.ok('SdkHttpMetadata' in submitted);
      const job = o(r.output);
      assert.equal(job.TrainingJobName, 'Nightly-Model');
      assert.equal(job.TrainingJobStatus, 'Completed');
      assert.equal(o(job.ModelArtifacts).S3ModelArtifacts, 's3://models/Nightly-Model/output/model.tar.gz');
      assert.deepEqual(job.HyperParameters, { STEPWISE_POLLS: '2' });
      assert.ok(typeof job.TrainingEndTime === 'number' && job.TrainingEndTime > 1e12);
      assert.equal(kit.standIn.count('sagemaker', 'DescribeTrainingJob') - describes, 3);
    });
  });

  it('a Failed training job fails the task with the job as cause', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, trainingJob({ STEPWISE_OUTCOME: 'Failed' })));
      assert.equal(r.error, 'States.TaskFailed');
      const cause = o(JSON.parse(r.cause ?? ''));
      assert.equal(cause.TrainingJobStatus, 'Failed');
      assert.match(String(cause.FailureReason), /^AlgorithmError/);
    });
  });

  it('a name already taken fails with SageMaker.ResourceInUseException', async () => {
    await withEngine({}, async (engine) => {
      const first = await ended(engine, await startOne(engine, trainingJob({}, {}, 'taken')));
      assert.equal(first.status, 'SUCCEEDED', first.cause);
      const r = await ended(engine, await startOne(engine, trainingJob({}, {}, 'taken')));
      assert.equal(r.error, 'SageMaker.ResourceInUseException');
      assert.match(r.cause ?? '', /\(Service: AmazonSageMaker; Status Code: 400; Error Code: ResourceInUse;/);
    });
  });

  it('stopping the execution calls StopTrainingJob', async () => {
    await withEngine({}, async (engine) => {
      const arn = await startOne(engine, trainingJob({ STEPWISE_POLLS: '100000' }, {}, 'to-stop'));
      await untilSubmitted(engine, arn);
      await engine.stopExecution({ executionArn: arn });
      await until(
        'StopTrainingJob',
        () => kit.standIn.sageMakerJobs.get('Training:to-stop')?.status === 'Stopping',
      );
      assert.equal((await engine.describeExecution(arn)).status, 'ABORTED');
    });
  });

  it('transform and processing jobs: Completed succeeds, Failed fails', async () => {
    const transform = (env: Record<string, string>) =>
      single({
        Type: 'Task',
        Resource: 'arn:aws:states:::sagemaker:createTransformJob.sync',
        Parameters: {
          TransformJobName: `transform-${++jobs}`,
          ModelName: 'model',
          Environment: env,
          TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://in/' } } },
          TransformOutput: { S3OutputPath: 's3://out/' },
          TransformResources: { InstanceCount: 1, InstanceType: 'ml.m5.large' },
        },
      });
    const processing = (env: Record<string, string>) =>
      single({
        Type: 'Task',
        Resource: 'arn:aws:states:::sagemaker:createProcessingJob.sync',
        Parameters: {
          ProcessingJobName: `processing-${++jobs}`,
          Environment: env,
          AppSpecification: { ImageUri: 'processing:1' },
          ProcessingResources: {
            ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 10 },
          },
          RoleArn: 'arn:aws:iam::123456789012:role/SageMakerRole',
        },
      });
    await withEngine({}, async (engine) => {
      for (const [kind, def] of [
        ['Transform', transform],
        ['Processing', processing],
      ] as const) {
        const ok = await ended(engine, await startOne(engine, def({ STEPWISE_POLLS: '1' })));
        assert.equal(ok.status, 'SUCCEEDED', `${kind}: ${ok.cause}`);
        assert.equal(o(ok.output)[`${kind}JobStatus`], 'Completed');
        assert.match(String(o(ok.output)[`${kind}JobArn`]), new RegExp(`:${kind.toLowerCase()}-job/`));
        const failed = await ended(engine, await startOne(engine, def({ STEPWISE_OUTCOME: 'Failed' })));
        assert.equal(failed.error, 'States.TaskFailed', kind);
        assert.equal(o(JSON.parse(failed.cause ?? ''))[`${kind}JobStatus`], 'Failed');
      }
    });
  });

  it('request-response createTrainingJob returns CreateTrainingJob’s answer', async () => {
    await withEngine({}, async (engine) => {
      const def = trainingJob({}, { Resource: 'arn:aws:states:::sagemaker:createTrainingJob' }, 'no-wait');
      const r = await ended(engine, await startOne(engine, def));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.match(String(o(r.output).TrainingJobArn), /:training-job\/no-wait$/);
      assert.equal(kit.standIn.sageMakerJobs.get('Training:no-wait')?.status, 'InProgress');
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
      name: 'addStep',
      def: () => addStep(waitingCluster(), { STEPWISE_POLLS: '100000' }),
      start: ['emr', 'AddJobFlowSteps'],
      finish: (s) => {
        const step = kit.standIn.emrSteps.get(String(s.StepId))!;
        assert.ok(['PENDING', 'RUNNING'].includes(step.state));
        step.state = 'RUNNING';
        step.pollsLeft = 0;
        return step.id;
      },
      id: (out) => o(out.Step).Id,
    },
    {
      name: 'createTrainingJob',
      def: () => trainingJob({ STEPWISE_POLLS: '100000' }, {}, 'Resumed-Job'),
      start: ['sagemaker', 'CreateTrainingJob'],
      finish: (s) => {
        const job = kit.standIn.sageMakerJobs.get(`Training:${String(s.TrainingJobName)}`)!;
        assert.equal(job.status, 'InProgress');
        job.pollsLeft = 0;
        return job.name;
      },
      id: (out) => out.TrainingJobName,
    },
  ];
  for (const service of services) {
    it(`${service.name}: polling resumes from TaskSubmitted and the job is not started again`, () =>
      kit.resumesAfterRestart({ ...service, check: (out, _s, id) => assert.equal(service.id(out), id) }));
  }
});
