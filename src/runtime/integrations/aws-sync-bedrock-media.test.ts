// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * The run-a-job pattern (`.sync`) of Bedrock model customization jobs, MediaConvert jobs, EKS
 * Fargate profiles, CodeBuild retried batch builds and SageMaker labeling jobs, end to end against
 * the local stand-in with the real SDK clients. Bedrock and EKS are camelCase APIs, so these tests
 * also check what the service received and the PascalCase results.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../language/json.js';
import type { Engine } from '../engine.js';
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

const kit = useStandIn((s) => s.createCodeBuildProject('monorepo'));
const { withEngine } = kit;

const ops = (service: string, from: number) =>
  kit.standIn.requests
    .slice(from)
    .filter((q) => q.service === service)
    .map((q) => q.operation);

let names = 0;
const unique = (prefix: string) => `${prefix}-${++names}`;

const task = (resource: string, parameters: JsonObject) =>
  single({ Type: 'Task', Resource: `arn:aws:states:::${resource}`, Parameters: parameters });

/** Stops the execution once the job is submitted and polled; resolves the submitted answer. */
async function stopWhilePolling(engine: Engine, arn: string, service: string, describe: string) {
  const from = kit.standIn.requests.length;
  const submitted = await untilSubmitted(engine, arn);
  await until('polling', () => ops(service, from).includes(describe));
  await engine.stopExecution({ executionArn: arn });
  assert.equal((await engine.describeExecution(arn)).status, 'ABORTED');
  return submitted;
}

// ---- Bedrock ----------------------------------------------------------------------------------------

const customization = (name: string, hyper: Record<string, string> = {}, sync = true) =>
  task(`bedrock:createModelCustomizationJob${sync ? '.sync' : ''}`, {
    JobName: name,
    CustomModelName: `${name}-model`,
    RoleArn: 'arn:aws:iam::123456789012:role/BedrockCustomization',
    BaseModelIdentifier: 'amazon.titan-text-express-v1',
    TrainingDataConfig: { S3Uri: 's3://train/data.jsonl' },
    OutputDataConfig: { S3Uri: 's3://out/' },
    HyperParameters: { epochCount: '2', ...hyper },
  });

describe('bedrock:createModelCustomizationJob.sync', () => {
  it('sends camelCase, polls GetModelCustomizationJob until Completed and returns its answer', async () => {
    await withEngine({}, async (engine) => {
      const name = unique('tune');
      const from = kit.standIn.requests.length;
      const r = await ended(engine, await startOne(engine, customization(name, { STEPWISE_POLLS: '2' })));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.deepEqual(ops('bedrock', from), [
        'CreateModelCustomizationJob',
        'GetModelCustomizationJob',
        'GetModelCustomizationJob',
        'GetModelCustomizationJob',
      ]);
      const submitted = submittedOf(r);
      assert.match(String(submitted.JobArn), /:model-customization-job\//);
      assert.ok('SdkHttpMetadata' in submitted);
      // What Bedrock received: the API's names; the hyperparameter map keeps its keys.
      const job = kit.standIn.media.customizationJobs.get(String(submitted.JobArn))!;
      assert.equal(job.request.baseModelIdentifier, 'amazon.titan-text-express-v1');
      assert.deepEqual(job.request.trainingDataConfig, { s3Uri: 's3://train/data.jsonl' });
      assert.deepEqual(job.request.hyperParameters, { epochCount: '2', STEPWISE_POLLS: '2' });
      const out = o(r.output);
      assert.equal(out.JobArn, submitted.JobArn);
      assert.equal(out.JobName, name);
      assert.equal(out.Status, 'Completed');
      assert.equal(out.OutputModelName, `${name}-model`);
      assert.match(String(out.OutputModelArn), /:custom-model\//);
      assert.deepEqual(out.HyperParameters, { epochCount: '2', STEPWISE_POLLS: '2' });
      assert.deepEqual(out.TrainingMetrics, { TrainingLoss: 0.25 });
      assert.ok(typeof out.EndTime === 'number' && out.EndTime > 1e12);
      assert.ok(!('SdkHttpMetadata' in out));
    });
  });

  it('a Failed job fails the task with its description as cause', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(
        engine,
        await startOne(engine, customization(unique('bad'), { STEPWISE_OUTCOME: 'Failed' })),
      );
      assert.equal(r.error, 'States.TaskFailed');
      const cause = o(JSON.parse(r.cause ?? ''));
      assert.equal(cause.Status, 'Failed');
      assert.match(String(cause.FailureMessage), /Training data validation failed/);
    });
  });

  it('a refused start fails with Bedrock.<Error> in the optimized style, and nothing is polled', async () => {
    await withEngine({}, async (engine) => {
      const name = unique('taken');
      await ended(engine, await startOne(engine, customization(name)));
      const from = kit.standIn.requests.length;
      const r = await ended(engine, await startOne(engine, customization(name)));
      assert.equal(r.error, 'Bedrock.ConflictException');
      assert.match(
        r.cause ?? '',
        /^A job with the name .* already exists\. \(Service: AmazonBedrock; Status Code: 409; Error Code: ConflictException; Request ID: [0-9a-f-]+; Proxy: null\)$/,
      );
      assert.deepEqual(ops('bedrock', from), ['CreateModelCustomizationJob']);
    });
  });

  it('stopping the execution calls StopModelCustomizationJob', async () => {
    await withEngine({}, async (engine) => {
      const arn = await startOne(engine, customization(unique('stopped'), { STEPWISE_POLLS: '100000' }));
      const submitted = await stopWhilePolling(engine, arn, 'bedrock', 'GetModelCustomizationJob');
      const job = kit.standIn.media.customizationJobs.get(String(submitted.JobArn))!;
      await until('StopModelCustomizationJob', () => job.status === 'Stopping');
    });
  });

  it('request-response returns CreateModelCustomizationJob’s answer without waiting', async () => {
    await withEngine({}, async (engine) => {
      const from = kit.standIn.requests.length;
      const r = await ended(engine, await startOne(engine, customization(unique('nowait'), {}, false)));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const out = o(r.output);
      assert.match(String(out.JobArn), /:model-customization-job\//);
      assert.ok('SdkHttpMetadata' in out);
      assert.deepEqual(ops('bedrock', from), ['CreateModelCustomizationJob']);
      assert.equal(kit.standIn.media.customizationJobs.get(String(out.JobArn))?.status, 'InProgress');
    });
  });
});

// ---- MediaConvert -------------------------------------------------------------------------------------

const mediaJob = (meta: Record<string, string> = {}, extra: JsonObject = {}, sync = true) =>
  task(`mediaconvert:createJob${sync ? '.sync' : ''}`, {
    Role: 'arn:aws:iam::123456789012:role/MediaConvertRole',
    Settings: {
      Inputs: [
        {
          FileInput: 's3://in/clip.mp4',
          AudioSelectors: { 'Audio Selector 1': { DefaultSelection: 'DEFAULT' } },
        },
      ],
      OutputGroups: [
        {
          OutputGroupSettings: {
            Type: 'FILE_GROUP_SETTINGS',
            FileGroupSettings: { Destination: 's3://out/' },
          },
          Outputs: [{ ContainerSettings: { Container: 'MP4' } }],
        },
      ],
    },
    UserMetadata: meta,
    ...extra,
  });

describe('mediaconvert:createJob.sync', () => {
  it('tags the job, polls GetJob until COMPLETE and returns {Job}', async () => {
    await withEngine({}, async (engine) => {
      const from = kit.standIn.requests.length;
      const r = await ended(
        engine,
        await startOne(engine, mediaJob({ STEPWISE_POLLS: '1' }, { Tags: { team: 'video' } })),
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.deepEqual(ops('mediaconvert', from), ['CreateJob', 'GetJob', 'GetJob']);
      const submitted = o(submittedOf(r).Job);
      assert.equal(submitted.Status, 'SUBMITTED');
      const job = kit.standIn.media.mediaConvertJobs.get(String(submitted.Id))!;
      // As AWS documents, the job is tagged; the state's own tags are kept.
      assert.deepEqual(job.tags, { team: 'video', ManagedByService: 'AWSStepFunctions' });
      // The SDK sent the wire's camelCase; map keys ('Audio Selector 1') are kept.
      const input = o((o(job.request.settings).inputs as unknown[])[0]);
      assert.equal(input.fileInput, 's3://in/clip.mp4');
      assert.ok('Audio Selector 1' in o(input.audioSelectors));
      const out = o(o(r.output).Job);
      assert.equal(out.Id, submitted.Id);
      assert.equal(out.Status, 'COMPLETE');
      assert.deepEqual(out.UserMetadata, { STEPWISE_POLLS: '1' });
      assert.ok(typeof o(out.Timing).FinishTime === 'number' && Number(o(out.Timing).FinishTime) > 1e12);
      assert.ok(Array.isArray(out.OutputGroupDetails));
    });
  });

  it('a job that ends in ERROR fails the task with {Job} as cause', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, mediaJob({ STEPWISE_OUTCOME: 'ERROR' })));
      assert.equal(r.error, 'States.TaskFailed');
      const job = o(o(JSON.parse(r.cause ?? '')).Job);
      assert.equal(job.Status, 'ERROR');
      assert.equal(job.ErrorCode, 1010);
    });
  });

  it('a refused job fails with MediaConvert.BadRequestException in the optimized style', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(
        engine,
        await startOne(engine, task('mediaconvert:createJob.sync', { Settings: {} })),
      );
      assert.equal(r.error, 'MediaConvert.BadRequestException');
      assert.match(
        r.cause ?? '',
        /\(Service: AWSMediaConvert; Status Code: 400; Error Code: BadRequestException;/,
      );
    });
  });

  it('stopping the execution calls CancelJob', async () => {
    await withEngine({}, async (engine) => {
      const arn = await startOne(engine, mediaJob({ STEPWISE_POLLS: '100000' }));
      const submitted = await stopWhilePolling(engine, arn, 'mediaconvert', 'GetJob');
      const job = kit.standIn.media.mediaConvertJobs.get(String(o(submitted.Job).Id))!;
      await until('CancelJob', () => job.status === 'CANCELED');
    });
  });

  it('request-response createJob tags the job and returns CreateJob’s answer', async () => {
    await withEngine({}, async (engine) => {
      const from = kit.standIn.requests.length;
      const r = await ended(engine, await startOne(engine, mediaJob({}, {}, false)));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const job = o(o(r.output).Job);
      assert.equal(job.Status, 'SUBMITTED');
      assert.ok('SdkHttpMetadata' in o(r.output));
      assert.deepEqual(ops('mediaconvert', from), ['CreateJob']);
      assert.deepEqual(kit.standIn.media.mediaConvertJobs.get(String(job.Id))?.tags, {
        ManagedByService: 'AWSStepFunctions',
      });
    });
  });
});

// ---- EKS Fargate profiles ---------------------------------------------------------------------------

/** A cluster that is up. */
function activeCluster(): string {
  const name = unique('fargate-cluster');
  kit.standIn.eks.eksClusters.set(name, {
    name,
    arn: `arn:aws:eks:us-east-1:123456789012:cluster/${name}`,
    request: { roleArn: 'arn:aws:iam::123456789012:role/r', resourcesVpcConfig: { subnetIds: ['subnet-1'] } },
    tags: {},
    created: Date.now(),
    status: 'ACTIVE',
    pollsLeft: 0,
  });
  return name;
}

const createProfile = (cluster: string, name: string, tags: Record<string, string>) =>
  task('eks:createFargateProfile.sync', {
    ClusterName: cluster,
    FargateProfileName: name,
    PodExecutionRoleArn: 'arn:aws:iam::123456789012:role/MyFargatePodExecutionRole',
    Selectors: [{ Namespace: 'batch', Labels: { 'app.kubernetes.io/Team': 'Data' } }],
    Tags: tags,
  });

const deleteProfile = (cluster: string, name: string) =>
  task('eks:deleteFargateProfile.sync', { ClusterName: cluster, FargateProfileName: name });

describe('eks:createFargateProfile.sync and eks:deleteFargateProfile.sync', () => {
  it('create: polls DescribeFargateProfile until ACTIVE and returns {FargateProfile}', async () => {
    await withEngine({}, async (engine) => {
      const cluster = activeCluster();
      const from = kit.standIn.requests.length;
      const r = await ended(
        engine,
        await startOne(engine, createProfile(cluster, 'jobs', { STEPWISE_POLLS: '1' })),
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.deepEqual(ops('eks', from), [
        'CreateFargateProfile',
        'DescribeFargateProfile',
        'DescribeFargateProfile',
      ]);
      const sent = kit.standIn.eks.eksFargateProfiles.get(`${cluster}/jobs`)!.request;
      assert.deepEqual(sent.selectors, [
        { namespace: 'batch', labels: { 'app.kubernetes.io/Team': 'Data' } },
      ]);
      const profile = o(o(r.output).FargateProfile);
      assert.equal(profile.Status, 'ACTIVE');
      assert.equal(profile.FargateProfileName, 'jobs');
      assert.deepEqual(profile.Selectors, [
        { Namespace: 'batch', Labels: { 'app.kubernetes.io/Team': 'Data' } },
      ]);
    });
  });

  it('create: CREATE_FAILED fails the task with the profile as cause', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(
        engine,
        await startOne(
          engine,
          createProfile(activeCluster(), 'broken', { STEPWISE_OUTCOME: 'CREATE_FAILED' }),
        ),
      );
      assert.equal(r.error, 'States.TaskFailed');
      assert.equal(o(o(JSON.parse(r.cause ?? '')).FargateProfile).Status, 'CREATE_FAILED');
    });
  });

  it('create: an unknown cluster fails with EKS.ResourceNotFoundException', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, createProfile('no-such-cluster', 'p', {})));
      assert.equal(r.error, 'EKS.ResourceNotFoundException');
      assert.match(r.cause ?? '', /\(Service: AmazonEKS; Status Code: 404;/);
    });
  });

  it('create: stopping the execution leaves the profile being created (no stop call)', async () => {
    await withEngine({}, async (engine) => {
      const cluster = activeCluster();
      const from = kit.standIn.requests.length;
      const arn = await startOne(engine, createProfile(cluster, 'kept', { STEPWISE_POLLS: '100000' }));
      await stopWhilePolling(engine, arn, 'eks', 'DescribeFargateProfile');
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual([...new Set(ops('eks', from))].sort(), [
        'CreateFargateProfile',
        'DescribeFargateProfile',
      ]);
      assert.equal(kit.standIn.eks.eksFargateProfiles.get(`${cluster}/kept`)?.status, 'CREATING');
    });
  });

  it('delete: polls until the profile is gone and returns DeleteFargateProfile’s answer', async () => {
    await withEngine({}, async (engine) => {
      const cluster = activeCluster();
      await ended(engine, await startOne(engine, createProfile(cluster, 'old', { STEPWISE_POLLS: '0' })));
      const r = await ended(engine, await startOne(engine, deleteProfile(cluster, 'old')));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.equal(kit.standIn.eks.eksFargateProfiles.has(`${cluster}/old`), false);
      assert.deepEqual(Object.keys(o(r.output)), ['FargateProfile']);
      assert.equal(o(o(r.output).FargateProfile).Status, 'DELETING');
    });
  });

  it('delete: DELETE_FAILED fails the task', async () => {
    await withEngine({}, async (engine) => {
      const cluster = activeCluster();
      const tags = { STEPWISE_POLLS: '0', STEPWISE_DELETE_OUTCOME: 'DELETE_FAILED' };
      await ended(engine, await startOne(engine, createProfile(cluster, 'stuck', tags)));
      const r = await ended(engine, await startOne(engine, deleteProfile(cluster, 'stuck')));
      assert.equal(r.error, 'States.TaskFailed');
      assert.equal(o(o(JSON.parse(r.cause ?? '')).FargateProfile).Status, 'DELETE_FAILED');
    });
  });
});

// ---- CodeBuild retryBuildBatch -------------------------------------------------------------------------

/** A batch build of `monorepo` that ended FAILED; its retry ends in `retryOutcome`. */
function failedBatch(retryOutcome = 'SUCCEEDED', polls = '1'): string {
  const id = `monorepo:${unique('batch')}`;
  kit.standIn.eks.buildBatches.set(id, {
    id,
    arn: `arn:aws:codebuild:us-east-1:123456789012:build-batch/${id}`,
    project: 'monorepo',
    number: 1,
    environment: [
      { name: 'STEPWISE_RETRY_OUTCOME', value: retryOutcome, type: 'PLAINTEXT' },
      { name: 'STEPWISE_POLLS', value: polls, type: 'PLAINTEXT' },
    ],
    started: Date.now(),
    status: 'FAILED',
    pollsLeft: 0,
    outcome: 'FAILED',
    ended: Date.now(),
  });
  return id;
}

const retryBatch = (id: string) =>
  task('codebuild:retryBuildBatch.sync', { Id: id, RetryType: 'RETRY_FAILED_BUILDS' });

describe('codebuild:retryBuildBatch.sync', () => {
  it('follows the retried batch until SUCCEEDED and returns {BuildBatch}', async () => {
    await withEngine({}, async (engine) => {
      const id = failedBatch();
      const from = kit.standIn.requests.length;
      const r = await ended(engine, await startOne(engine, retryBatch(id)));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.deepEqual(ops('codebuild', from), [
        'RetryBuildBatch',
        'BatchGetBuildBatches',
        'BatchGetBuildBatches',
      ]);
      const retried = o(submittedOf(r).BuildBatch);
      assert.notEqual(retried.Id, id);
      const batch = o(o(r.output).BuildBatch);
      assert.equal(batch.Id, retried.Id);
      assert.equal(batch.BuildBatchStatus, 'SUCCEEDED');
    });
  });

  it('a retry that fails again fails the task', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, retryBatch(failedBatch('FAILED'))));
      assert.equal(r.error, 'States.TaskFailed');
      assert.equal(o(o(JSON.parse(r.cause ?? '')).BuildBatch).BuildBatchStatus, 'FAILED');
    });
  });

  it('an unknown batch fails with CodeBuild.ResourceNotFoundException', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, retryBatch('monorepo:no-such-batch')));
      assert.equal(r.error, 'CodeBuild.ResourceNotFoundException');
    });
  });

  it('stopping the execution calls StopBuildBatch on the retried batch', async () => {
    await withEngine({}, async (engine) => {
      const arn = await startOne(engine, retryBatch(failedBatch('SUCCEEDED', '100000')));
      const submitted = await stopWhilePolling(engine, arn, 'codebuild', 'BatchGetBuildBatches');
      const retried = String(o(submitted.BuildBatch).Id);
      await until('StopBuildBatch', () => kit.standIn.eks.buildBatches.get(retried)?.status === 'STOPPED');
    });
  });
});

// ---- SageMaker labeling jobs ------------------------------------------------------------------------

const labelingJob = (name: string, tags: Record<string, string> = {}, sync = true) =>
  task(`sagemaker:createLabelingJob${sync ? '.sync' : ''}`, {
    LabelingJobName: name,
    LabelAttributeName: 'category',
    InputConfig: { DataSource: { S3DataSource: { ManifestS3Uri: 's3://in/manifest.json' } } },
    OutputConfig: { S3OutputPath: 's3://out/labels' },
    RoleArn: 'arn:aws:iam::123456789012:role/GroundTruth',
    HumanTaskConfig: { WorkteamArn: 'arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/team' },
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  });

describe('sagemaker:createLabelingJob.sync', () => {
  it('polls DescribeLabelingJob until Completed and returns its answer', async () => {
    await withEngine({}, async (engine) => {
      const name = unique('Labels');
      const from = kit.standIn.requests.length;
      const r = await ended(engine, await startOne(engine, labelingJob(name, { STEPWISE_POLLS: '1' })));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.deepEqual(ops('sagemaker', from), [
        'CreateLabelingJob',
        'DescribeLabelingJob',
        'DescribeLabelingJob',
      ]);
      // The ARN's name is lower case: the request's name is kept for the describe call.
      assert.equal(submittedOf(r).LabelingJobName, name);
      const out = o(r.output);
      assert.equal(out.LabelingJobStatus, 'Completed');
      assert.equal(o(out.LabelCounters).TotalLabeled, 10);
      assert.match(String(o(out.LabelingJobOutput).OutputDatasetS3Uri), /output\.manifest$/);
    });
  });

  it('a Failed job fails the task with its description', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(
        engine,
        await startOne(engine, labelingJob(unique('bad'), { STEPWISE_OUTCOME: 'Failed' })),
      );
      assert.equal(r.error, 'States.TaskFailed');
      assert.match(String(o(JSON.parse(r.cause ?? '')).FailureReason), /manifest is empty/);
    });
  });

  it('stopping the execution calls StopLabelingJob', async () => {
    await withEngine({}, async (engine) => {
      const name = unique('stopped');
      const arn = await startOne(engine, labelingJob(name, { STEPWISE_POLLS: '100000' }));
      await stopWhilePolling(engine, arn, 'sagemaker', 'DescribeLabelingJob');
      await until('StopLabelingJob', () => kit.standIn.media.labelingJobs.get(name)?.status === 'Stopping');
    });
  });

  it('request-response createLabelingJob returns the create answer without waiting', async () => {
    await withEngine({}, async (engine) => {
      const name = unique('nowait');
      const r = await ended(engine, await startOne(engine, labelingJob(name, {}, false)));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.match(String(o(r.output).LabelingJobArn), /:labeling-job\/nowait-\d+$/);
      assert.equal(kit.standIn.media.labelingJobs.get(name)?.status, 'InProgress');
    });
  });
});

// ---- resume -------------------------------------------------------------------------------------------

describe('after a restart mid-poll', () => {
  const cases: {
    name: string;
    def: () => JsonObject;
    start: [string, string];
    /** Ends the job while Stepwise is down (it must still be running). */
    finish: (submitted: Obj) => void;
    check: (output: Obj, submitted: Obj) => void;
  }[] = [
    {
      name: 'bedrock:createModelCustomizationJob',
      def: () => customization(unique('resumed'), { STEPWISE_POLLS: '100000' }),
      start: ['bedrock', 'CreateModelCustomizationJob'],
      finish: (s) => {
        const job = kit.standIn.media.customizationJobs.get(String(s.JobArn))!;
        assert.equal(job.status, 'InProgress');
        job.pollsLeft = 0;
      },
      check: (out, s) => {
        assert.equal(out.JobArn, s.JobArn);
        assert.equal(out.Status, 'Completed');
      },
    },
    {
      name: 'mediaconvert:createJob',
      def: () => mediaJob({ STEPWISE_POLLS: '100000' }),
      start: ['mediaconvert', 'CreateJob'],
      finish: (s) => {
        const job = kit.standIn.media.mediaConvertJobs.get(String(o(s.Job).Id))!;
        assert.equal(job.status, 'PROGRESSING');
        job.pollsLeft = 0;
      },
      check: (out, s) => assert.equal(o(out.Job).Id, o(s.Job).Id),
    },
  ];
  for (const c of cases) {
    it(`${c.name}: polling resumes from TaskSubmitted and the job is not started again`, () =>
      kit.resumesAfterRestart({ ...c, pollFirst: true }));
  }
});
