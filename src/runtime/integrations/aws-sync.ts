/**
 * The run-a-job pattern (`.sync`) of pass-through integrations: the start call's answer is
 * recorded as TaskSubmitted, then the job's describe API is polled until the job ends; its last
 * answer is the task's result (or, for a job that failed or was stopped, the cause of a
 * `States.TaskFailed`). Stopping the task (the execution stopped, the state timed out, a sibling
 * branch failed) calls the service's stop API.
 *
 * Each service's start/describe/stop actions and terminal states are in `SYNC_JOBS`; a job whose
 * calls are not SDK actions (eks:runJob: the cluster's Kubernetes API) brings its own start,
 * check and stop (`DIRECT_SYNC_JOBS`). The poll itself holds nothing durable: the runtime keeps
 * the submitted answer (in the history's TaskSubmitted event) and resumes polling from it after a
 * restart, so a job is never submitted twice.
 */
import { StatesErrors } from '../../language/errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../language/json.js';
import type { TaskOutcome } from '../functions.js';
import { ecsRunTaskFailure, mediaConvertJobRequest, type AwsPassThrough } from './aws.js';

/**
 * One service's run-a-job integration through its SDK. Requests and answers are in Step
 * Functions' casing (PascalCase), also for the camelCase APIs (ECS, Batch, CodeBuild):
 * `AwsPassThrough` converts.
 */
export interface SdkSyncJob {
  /** The resource's service (`glue`). */
  service: string;
  /** The start action of the SDK (`startJobRun`; EMR's `createCluster` sends `runJobFlow`). */
  start: string;
  /** The start request, when AWS adds to the state's parameters. */
  startInput?(params: JsonObject): JsonObject;
  /** A start answer that says the job did not start: the task fails with this outcome. */
  startFailure?(started: JsonObject): TaskOutcome | undefined;
  /** What TaskSubmitted records: the start answer, plus what AWS copies from the request. */
  submitted(params: JsonObject, started: JsonObject): JsonObject;
  describe: string;
  describeInput(submitted: JsonObject): JsonObject;
  /**
   * The job's state in a describe answer and, once it ended, the task's result; `failure`, when
   * given, is the cause of an ended job that failed instead of `result`.
   */
  status(described: JsonObject): { state: string; result: JsonValue; failure?: JsonValue };
  /** Ended states of success, unless `failedRun` tells otherwise. */
  succeeded: ReadonlySet<string>;
  /** Ended states other than success: the task fails with `States.TaskFailed`. */
  failed: ReadonlySet<string>;
  /** For a service whose jobs all end in one state (ECS: STOPPED), whether the run failed. */
  failedRun?(result: JsonValue): boolean;
  /** The stop API; none when AWS leaves the job running (an EMR cluster is not terminated). */
  stop?: string;
  stopInput?(submitted: JsonObject): JsonObject;
  /**
   * For a deletion (EKS deleteCluster): the describe call's error (`EKS.ResourceNotFoundException`)
   * that says the resource is gone, which ends the job with success and `result` as its result.
   */
  gone?: { error: string; result(submitted: JsonObject): JsonValue };
}

/**
 * A run-a-job integration whose calls are not one SDK action each (eks:runJob). `check` is one
 * poll: `undefined` while the job runs or its service was not reached, else the task's outcome.
 */
export interface DirectSyncJob {
  start(aws: AwsPassThrough, task: SyncJobTask, signal: AbortSignal): Promise<TaskOutcome>;
  check(
    aws: AwsPassThrough,
    task: SyncJobTask,
    submitted: JsonValue,
    signal: AbortSignal,
  ): Promise<TaskOutcome | undefined>;
  stop(aws: AwsPassThrough, task: SyncJobTask, submitted: JsonValue): Promise<void>;
}

export type SyncJob = SdkSyncJob | DirectSyncJob;

const isDirect = (job: SyncJob): job is DirectSyncJob => 'check' in job;

const str = (o: JsonObject, k: string): string => (typeof o[k] === 'string' ? o[k] : '');

/** The first object of a list member (`Tasks[0]`), or an empty object. */
function first(o: JsonObject, k: string): JsonObject {
  const list = o[k];
  const item = Array.isArray(list) ? list[0] : undefined;
  return isJsonObject(item) ? item : {};
}

/** The object of a member, or an empty object. */
const obj = (o: JsonObject, k: string): JsonObject => {
  const v = o[k];
  return isJsonObject(v) ? v : {};
};

/** The reason given to the stop APIs that take one. */
export const STOP_REASON = 'Stopped by Stepwise: the Task state was cancelled.';

/**
 * An ECS task failed unless each of its containers exited with code 0: a non-zero exit code, or
 * a container that never ran (no exit code: the task failed to start, or was stopped before),
 * fails the Task state with `States.TaskFailed`.
 */
function ecsTaskFailed(task: JsonValue): boolean {
  const containers = isJsonObject(task) ? task.Containers : undefined;
  if (!Array.isArray(containers) || containers.length === 0) return true;
  return containers.some((c) => !isJsonObject(c) || c.ExitCode !== 0);
}

export const SYNC_JOBS: Readonly<Record<string, SdkSyncJob>> = {
  // SageMaker AI hyperparameter tuning: as the other SageMaker jobs (below), with the tuning job's
  // own Describe/Stop actions; its answer (BestTrainingJob, TrainingJobStatusCounters…) is the result.
  ...sageMakerJob('HyperParameterTuning', ['Completed'], ['Failed', 'Stopped']),
  // AWS Glue DataBrew: StartJobRun → DescribeJobRun (its whole answer) → StopJobRun. StartJobRun
  // answers only the RunId; TaskSubmitted also records the request's job Name, which the describe
  // and stop calls take (as Glue's JobName).
  'databrew:startJobRun': {
    service: 'databrew',
    start: 'startJobRun',
    submitted: (params, started) => ({ Name: params.Name ?? null, ...started }),
    describe: 'describeJobRun',
    describeInput: (s) => ({ Name: str(s, 'Name'), RunId: str(s, 'RunId') }),
    status: (d) => ({ state: str(d, 'State'), result: d }),
    succeeded: new Set(['SUCCEEDED']),
    failed: new Set(['FAILED', 'STOPPED', 'TIMEOUT']),
    stop: 'stopJobRun',
    stopInput: (s) => ({ Name: str(s, 'Name'), RunId: str(s, 'RunId') }),
  },
  // Amazon EMR Serverless (a camelCase API: casing.ts converts): StartJobRun answers ApplicationId,
  // JobRunId and Arn; `.sync` waits for SUCCESS with GetJobRun, whose JobRun object is the result
  // (as Glue's), and cancels the run with CancelJobRun.
  'emr-serverless:startJobRun': {
    service: 'emr-serverless',
    start: 'startJobRun',
    submitted: (_params, started) => started,
    describe: 'getJobRun',
    describeInput: (s) => ({ ApplicationId: str(s, 'ApplicationId'), JobRunId: str(s, 'JobRunId') }),
    status: (d) => {
      const run = obj(d, 'JobRun');
      return { state: str(run, 'State'), result: run };
    },
    succeeded: new Set(['SUCCESS']),
    failed: new Set(['FAILED', 'CANCELLED']),
    stop: 'cancelJobRun',
    stopInput: (s) => ({ ApplicationId: str(s, 'ApplicationId'), JobRunId: str(s, 'JobRunId') }),
  },
  // CancelJobRun answers {ApplicationId, JobRunId} while the run is CANCELLING; `.sync` waits for
  // CANCELLED and answers as the call does. A run that ended otherwise meanwhile fails the task
  // (assumed: AWS documents the action, not its end states).
  'emr-serverless:cancelJobRun': {
    service: 'emr-serverless',
    start: 'cancelJobRun',
    submitted: (_params, started) => started,
    describe: 'getJobRun',
    describeInput: (s) => ({ ApplicationId: str(s, 'ApplicationId'), JobRunId: str(s, 'JobRunId') }),
    status: (d) => {
      const run = obj(d, 'JobRun');
      return {
        state: str(run, 'State'),
        result: { ApplicationId: run.ApplicationId ?? null, JobRunId: run.JobRunId ?? null },
        failure: run,
      };
    },
    succeeded: new Set(['CANCELLED']),
    failed: new Set(['SUCCESS', 'FAILED']),
  },
  // EMR Serverless applications: the call, then GetApplication until the state AWS names (CREATED,
  // STARTED, STOPPED, TERMINATED); see emrServerlessApplication.
  'emr-serverless:createApplication': emrServerlessApplication('createApplication', {
    // A created application someone else already started or stopped was created all the same.
    succeeded: ['CREATED', 'STARTING', 'STARTED', 'STOPPING', 'STOPPED'],
    failed: ['TERMINATED'],
  }),
  // A start that fails leaves the application STOPPING, then STOPPED. AWS's IAM policy for
  // startApplication.sync grants StopApplication: the stop call of an aborted task.
  'emr-serverless:startApplication': emrServerlessApplication('startApplication', {
    succeeded: ['STARTED'],
    failed: ['STOPPING', 'STOPPED', 'TERMINATED'],
    stop: 'stopApplication',
  }),
  'emr-serverless:stopApplication': emrServerlessApplication('stopApplication', {
    succeeded: ['STOPPED'],
    failed: ['TERMINATED'],
  }),
  // Deleted: TERMINATED, or no longer found once EMR Serverless forgets it.
  'emr-serverless:deleteApplication': emrServerlessApplication('deleteApplication', {
    succeeded: ['TERMINATED'],
    failed: [],
    gone: true,
  }),
  // Amazon EMR on EKS (`emr-containers`, camelCase: casing.ts converts). StartJobRun answers Id,
  // Name, Arn and VirtualClusterId; `.sync` polls DescribeJobRun until COMPLETED, its answer
  // (`{JobRun}`) being the result, and cancels the run with CancelJobRun.
  'emr-containers:startJobRun': {
    service: 'emr-containers',
    start: 'startJobRun',
    submitted: (_params, started) => started,
    describe: 'describeJobRun',
    describeInput: (s) => ({ Id: str(s, 'Id'), VirtualClusterId: str(s, 'VirtualClusterId') }),
    status: (d) => ({ state: str(obj(d, 'JobRun'), 'State'), result: d }),
    succeeded: new Set(['COMPLETED']),
    failed: new Set(['FAILED', 'CANCELLED']),
    stop: 'cancelJobRun',
    stopInput: (s) => ({ Id: str(s, 'Id'), VirtualClusterId: str(s, 'VirtualClusterId') }),
  },
  // deleteVirtualCluster answers `{Id}`; `.sync` waits until DescribeVirtualCluster says
  // TERMINATED (or no longer finds it) and answers `{Id}` too. No state fails it (ARRESTED is
  // polled on: the state's TimeoutSeconds bounds it); nothing to stop.
  'emr-containers:deleteVirtualCluster': {
    service: 'emr-containers',
    start: 'deleteVirtualCluster',
    submitted: (_params, started) => started,
    describe: 'describeVirtualCluster',
    describeInput: (s) => ({ Id: str(s, 'Id') }),
    status: (d) => {
      const cluster = obj(d, 'VirtualCluster');
      return { state: str(cluster, 'State'), result: { Id: cluster.Id ?? null } };
    },
    succeeded: new Set(['TERMINATED']),
    failed: new Set(),
    gone: { error: 'EMRContainers.ResourceNotFoundException', result: withoutMetadata },
  },
  // AWS Glue: StartJobRun → GetJobRun (the JobRun object is the result) → BatchStopJobRun.
  'glue:startJobRun': {
    service: 'glue',
    start: 'startJobRun',
    // "The JobName field is extracted from the request and inserted into the response."
    submitted: (params, started) => ({ JobName: params.JobName ?? null, ...started }),
    describe: 'getJobRun',
    describeInput: (s) => ({ JobName: str(s, 'JobName'), RunId: str(s, 'JobRunId') }),
    status: (d) => {
      const run = isJsonObject(d.JobRun) ? d.JobRun : {};
      return { state: str(run, 'JobRunState'), result: run };
    },
    succeeded: new Set(['SUCCEEDED']),
    failed: new Set(['FAILED', 'STOPPED', 'TIMEOUT', 'ERROR']),
    stop: 'batchStopJobRun',
    stopInput: (s) => ({ JobName: str(s, 'JobName'), JobRunIds: [str(s, 'JobRunId')] }),
  },
  // Amazon Athena: StartQueryExecution → GetQueryExecution (its whole answer) → StopQueryExecution.
  'athena:startQueryExecution': {
    service: 'athena',
    start: 'startQueryExecution',
    submitted: (_params, started) => started,
    describe: 'getQueryExecution',
    describeInput: (s) => ({ QueryExecutionId: str(s, 'QueryExecutionId') }),
    status: (d) => {
      const q = isJsonObject(d.QueryExecution) ? d.QueryExecution : {};
      const status = isJsonObject(q.Status) ? q.Status : {};
      return { state: str(status, 'State'), result: d };
    },
    succeeded: new Set(['SUCCEEDED']),
    failed: new Set(['FAILED', 'CANCELLED']),
    stop: 'stopQueryExecution',
    stopInput: (s) => ({ QueryExecutionId: str(s, 'QueryExecutionId') }),
  },
  // Amazon ECS: RunTask → DescribeTasks (the task's description is the result) → StopTask. Only
  // the first task is followed when `Count` starts several.
  'ecs:runTask': {
    service: 'ecs',
    start: 'runTask',
    // AWS sets StartedBy on the tasks of run-a-job states (recorded executions show it).
    startInput: (params) => ({ ...params, StartedBy: 'AWS Step Functions' }),
    startFailure: ecsRunTaskFailure,
    submitted: (_params, started) => started,
    describe: 'describeTasks',
    describeInput: (s) => {
      const t = first(s, 'Tasks');
      return { Cluster: str(t, 'ClusterArn'), Tasks: [str(t, 'TaskArn')] };
    },
    status: (d) => {
      const t = first(d, 'Tasks');
      return { state: str(t, 'LastStatus'), result: t };
    },
    succeeded: new Set(['STOPPED']),
    failed: new Set(),
    failedRun: ecsTaskFailed,
    stop: 'stopTask',
    stopInput: (s) => {
      const t = first(s, 'Tasks');
      return { Cluster: str(t, 'ClusterArn'), Task: str(t, 'TaskArn'), Reason: STOP_REASON };
    },
  },
  // AWS Batch: SubmitJob → DescribeJobs (the job's description is the result) → TerminateJob.
  'batch:submitJob': {
    service: 'batch',
    start: 'submitJob',
    submitted: (_params, started) => started,
    describe: 'describeJobs',
    describeInput: (s) => ({ Jobs: [str(s, 'JobId')] }),
    status: (d) => {
      const job = first(d, 'Jobs');
      return { state: str(job, 'Status'), result: job };
    },
    succeeded: new Set(['SUCCEEDED']),
    failed: new Set(['FAILED']),
    stop: 'terminateJob',
    stopInput: (s) => ({ JobId: str(s, 'JobId'), Reason: STOP_REASON }),
  },
  // AWS CodeBuild: StartBuild → BatchGetBuilds (`{Build}`, as StartBuild answers) → StopBuild.
  'codebuild:startBuild': {
    service: 'codebuild',
    start: 'startBuild',
    submitted: (_params, started) => started,
    describe: 'batchGetBuilds',
    describeInput: (s) => ({ Ids: [str(obj(s, 'Build'), 'Id')] }),
    status: (d) => {
      const build = first(d, 'Builds');
      return { state: str(build, 'BuildStatus'), result: { Build: build } };
    },
    succeeded: new Set(['SUCCEEDED']),
    failed: new Set(['FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED']),
    stop: 'stopBuild',
    stopInput: (s) => ({ Id: str(obj(s, 'Build'), 'Id') }),
  },
  // Amazon EMR (the resources' service is `elasticmapreduce`, the SDK's `emr`). createCluster takes
  // RunJobFlow's request and answers `{ClusterId}` (RunJobFlow: `JobFlowId`); `.sync` waits for
  // the cluster to be up (WAITING; RUNNING: a step already runs on it). As AWS documents, a
  // stopped execution does not terminate the cluster: there is no stop call.
  'elasticmapreduce:createCluster': {
    service: 'elasticmapreduce',
    start: 'runJobFlow',
    submitted: (_params, started) => ({ ClusterId: started.JobFlowId ?? null }),
    describe: 'describeCluster',
    describeInput: (s) => ({ ClusterId: str(s, 'ClusterId') }),
    status: (d) => {
      const cluster = obj(d, 'Cluster');
      return {
        state: str(obj(cluster, 'Status'), 'State'),
        result: { ClusterId: cluster.Id ?? null },
        // The cluster's description tells why it ended (Status.StateChangeReason).
        failure: d,
      };
    },
    succeeded: new Set(['WAITING', 'RUNNING']),
    failed: new Set(['TERMINATING', 'TERMINATED', 'TERMINATED_WITH_ERRORS']),
  },
  // addStep takes `ClusterId` and one `Step` (AddJobFlowSteps: `JobFlowId`, `Steps`) and answers
  // `{StepId}`; `.sync` polls DescribeStep (its answer, `{Step}`, is the result) and cancels the
  // step with CancelSteps. TaskSubmitted also records the request's ClusterId: DescribeStep and
  // CancelSteps need it, and polling resumes from TaskSubmitted alone after a restart.
  'elasticmapreduce:addStep': {
    service: 'elasticmapreduce',
    start: 'addJobFlowSteps',
    startInput: (params) => {
      const { ClusterId, Step, ...rest } = params;
      return { ...rest, JobFlowId: ClusterId ?? null, Steps: Step === undefined ? [] : [Step] };
    },
    submitted: (params, started) => {
      const ids = started.StepIds;
      return { ClusterId: params.ClusterId ?? null, StepId: Array.isArray(ids) ? (ids[0] ?? null) : null };
    },
    describe: 'describeStep',
    describeInput: (s) => ({ ClusterId: str(s, 'ClusterId'), StepId: str(s, 'StepId') }),
    status: (d) => ({ state: str(obj(obj(d, 'Step'), 'Status'), 'State'), result: d }),
    succeeded: new Set(['COMPLETED']),
    failed: new Set(['CANCELLED', 'FAILED', 'INTERRUPTED']),
    stop: 'cancelSteps',
    stopInput: (s) => ({ ClusterId: str(s, 'ClusterId'), StepIds: [str(s, 'StepId')] }),
  },
  ...sageMakerJob('Training', ['Completed'], ['Failed', 'Stopped']),
  ...sageMakerJob('Transform', ['Completed'], ['Failed', 'Stopped']),
  ...sageMakerJob('Processing', ['Completed'], ['Failed', 'Stopped']),
  // Amazon EKS (camelCase API: `casing.ts` converts). The success and failure states are those of
  // the SDK's waiters (ClusterActive, ClusterDeleted, NodegroupActive, NodegroupDeleted), AWS
  // documenting none. createCluster.sync's result is DescribeCluster's answer (`{Cluster}`: AWS's
  // sample reads `Cluster.Endpoint` and `Cluster.CertificateAuthority.Data` from it). As AWS
  // documents, a stopped execution leaves the cluster (or node group) as it is: no stop call.
  'eks:createCluster': {
    service: 'eks',
    start: 'createCluster',
    submitted: (_params, started) => started,
    describe: 'describeCluster',
    describeInput: (s) => ({ Name: str(obj(s, 'Cluster'), 'Name') }),
    status: (d) => ({ state: str(obj(d, 'Cluster'), 'Status'), result: d }),
    succeeded: new Set(['ACTIVE']),
    failed: new Set(['DELETING', 'FAILED']),
  },
  // A deletion ends when DescribeCluster answers ResourceNotFoundException; its result is then
  // DeleteCluster's answer (the cluster, DELETING), there being no later description.
  'eks:deleteCluster': {
    service: 'eks',
    start: 'deleteCluster',
    submitted: (_params, started) => started,
    describe: 'describeCluster',
    describeInput: (s) => ({ Name: str(obj(s, 'Cluster'), 'Name') }),
    status: (d) => ({ state: str(obj(d, 'Cluster'), 'Status'), result: d }),
    succeeded: new Set(),
    failed: new Set(['ACTIVE', 'CREATING', 'PENDING']),
    gone: { error: 'EKS.ResourceNotFoundException', result: withoutMetadata },
  },
  'eks:createNodegroup': eksPart('Nodegroup', 'create'),
  'eks:deleteNodegroup': eksPart('Nodegroup', 'delete'),
  // CodeBuild batch builds (see buildBatch).
  'codebuild:startBuildBatch': buildBatch('startBuildBatch'),
  // EMR terminateCluster takes `ClusterId` (TerminateJobFlows: `JobFlowIds`) and answers nothing;
  // `.sync` waits for TERMINATED, and its result is that empty answer. A cluster that ends
  // TERMINATED_WITH_ERRORS fails the task with its description. There is nothing to stop.
  'elasticmapreduce:terminateCluster': {
    service: 'elasticmapreduce',
    start: 'terminateJobFlows',
    startInput: (params) => {
      const { ClusterId, ...rest } = params;
      return { ...rest, JobFlowIds: ClusterId === undefined ? [] : [ClusterId] };
    },
    submitted: (params) => ({ ClusterId: params.ClusterId ?? null }),
    describe: 'describeCluster',
    describeInput: (s) => ({ ClusterId: str(s, 'ClusterId') }),
    status: (d) => ({ state: str(obj(obj(d, 'Cluster'), 'Status'), 'State'), result: {}, failure: d }),
    succeeded: new Set(['TERMINATED']),
    failed: new Set(['TERMINATED_WITH_ERRORS']),
  },
  // Amazon Bedrock model customization (camelCase API: casing.ts converts). CreateModelCustomizationJob
  // answers `{JobArn}`, which GetModelCustomizationJob and StopModelCustomizationJob take as
  // `JobIdentifier`. AWS documents neither the result nor the end states: the result is
  // GetModelCustomizationJob's answer (as SageMaker's Describe<Kind>Job), and the job's statuses
  // Completed, Failed and Stopped end it.
  'bedrock:createModelCustomizationJob': {
    service: 'bedrock',
    start: 'createModelCustomizationJob',
    submitted: (_params, started) => started,
    describe: 'getModelCustomizationJob',
    describeInput: (s) => ({ JobIdentifier: str(s, 'JobArn') }),
    status: (d) => ({ state: str(d, 'Status'), result: d }),
    succeeded: new Set(['Completed']),
    failed: new Set(['Failed', 'Stopped']),
    stop: 'stopModelCustomizationJob',
    stopInput: (s) => ({ JobIdentifier: str(s, 'JobArn') }),
  },
  // AWS Elemental MediaConvert: CreateJob → GetJob (`{Job}`, as CreateJob answers) → CancelJob. The
  // SDK's members are already PascalCase (it converts to the wire's camelCase itself). As AWS
  // documents, Step Functions tags the job `ManagedByService: AWSStepFunctions`.
  'mediaconvert:createJob': {
    service: 'mediaconvert',
    start: 'createJob',
    startInput: mediaConvertJobRequest,
    submitted: (_params, started) => started,
    describe: 'getJob',
    describeInput: (s) => ({ Id: str(obj(s, 'Job'), 'Id') }),
    status: (d) => ({ state: str(obj(d, 'Job'), 'Status'), result: d }),
    succeeded: new Set(['COMPLETE']),
    failed: new Set(['ERROR', 'CANCELED']),
    stop: 'cancelJob',
    stopInput: (s) => ({ Id: str(obj(s, 'Job'), 'Id') }),
  },
  // EKS Fargate profiles, as the node groups above (the SDK's FargateProfileActive and
  // FargateProfileDeleted waiters' states; no stop call).
  'eks:createFargateProfile': eksPart('FargateProfile', 'create'),
  'eks:deleteFargateProfile': eksPart('FargateProfile', 'delete'),
  // AWS documents no optimized retryBuild: single builds are retried with startBuild.
  'codebuild:retryBuildBatch': buildBatch('retryBuildBatch'),
  // SageMaker Ground Truth labeling jobs (AWS documents createLabelingJob with `.sync`).
  ...sageMakerJob('Labeling', ['Completed'], ['Failed', 'Stopped']),
};

const DIRECT_SYNC_JOBS: Readonly<Record<string, DirectSyncJob>> = {
  // Amazon EKS runJob: a batch/v1 Job created through the cluster's Kubernetes API (not the EKS
  // API), followed until its Complete or Failed condition, its pods' logs read when asked for
  // (aws-eks-k8s.ts). A cancelled task deletes the Job, as the stop APIs end the other jobs.
  'eks:runJob': {
    start: (aws, task, signal) => aws.kubernetes(task.roleArn).createJob(eksTask(task), signal),
    check: (aws, task, submitted, signal) =>
      aws.kubernetes(task.roleArn).checkJob(eksTask(task), submitted, signal),
    stop: (aws, task, submitted) => aws.kubernetes(task.roleArn).deleteJob(eksTask(task), submitted),
  },
};

function eksTask(task: SyncJobTask) {
  return { resource: task.resource, region: task.region, action: 'runJob', parameters: task.parameters };
}

/**
 * An EMR Serverless application action: the call, then GetApplication until the application is in
 * one of the ended states. AWS documents that `.sync` answers as the call does: createApplication's
 * `{ApplicationId, Name, Arn}`, the others' `{ApplicationId}`; both are read from GetApplication's
 * answer, whose description is the cause of a failure. TaskSubmitted records the request's
 * ApplicationId with the answer, which the other calls do not return.
 */
function emrServerlessApplication(
  action: 'createApplication' | 'startApplication' | 'stopApplication' | 'deleteApplication',
  ends: { succeeded: string[]; failed: string[]; stop?: 'stopApplication'; gone?: true },
): SdkSyncJob {
  const applicationOf = (s: JsonObject) => ({ ApplicationId: str(s, 'ApplicationId') });
  const job: SdkSyncJob = {
    service: 'emr-serverless',
    start: action,
    submitted: (params, started) =>
      action === 'createApplication' ? started : { ApplicationId: params.ApplicationId ?? null, ...started },
    describe: 'getApplication',
    describeInput: applicationOf,
    status: (d) => {
      const app = obj(d, 'Application');
      const id = { ApplicationId: app.ApplicationId ?? null };
      const result =
        action === 'createApplication' ? { ...id, Name: app.Name ?? null, Arn: app.Arn ?? null } : id;
      return { state: str(app, 'State'), result, failure: d };
    },
    succeeded: new Set(ends.succeeded),
    failed: new Set(ends.failed),
  };
  if (ends.stop !== undefined) {
    job.stop = ends.stop;
    job.stopInput = applicationOf;
  }
  // Once deleted, GetApplication may answer ResourceNotFoundException instead of TERMINATED.
  if (ends.gone === true) {
    job.gone = { error: 'EMRServerless.ResourceNotFoundException', result: withoutMetadata };
  }
  return job;
}

/**
 * A node group's or Fargate profile's create or delete (the SDK waiters' end states; nothing to
 * stop). The answer (`{Nodegroup}` / `{FargateProfile}`) names the cluster and the part, which
 * the describe call needs; a deletion ends when the describe call no longer finds it.
 */
function eksPart(kind: 'Nodegroup' | 'FargateProfile', action: 'create' | 'delete'): SdkSyncJob {
  const nameKey = kind === 'Nodegroup' ? 'NodegroupName' : 'FargateProfileName';
  const job: SdkSyncJob = {
    service: 'eks',
    start: `${action}${kind}`,
    submitted: (_params, started) => started,
    describe: `describe${kind}`,
    describeInput: (submitted) => {
      const part = obj(submitted, kind);
      return { ClusterName: str(part, 'ClusterName'), [nameKey]: str(part, nameKey) };
    },
    status: (d) => ({ state: str(obj(d, kind), 'Status'), result: d }),
    succeeded: new Set(action === 'create' ? ['ACTIVE'] : []),
    failed: new Set([action === 'create' ? 'CREATE_FAILED' : 'DELETE_FAILED']),
  };
  if (action === 'delete') job.gone = { error: 'EKS.ResourceNotFoundException', result: withoutMetadata };
  return job;
}

/**
 * A CodeBuild batch build started (StartBuildBatch) or retried (RetryBuildBatch, a new batch with
 * its own Id): both answer `{BuildBatch}`, followed with BatchGetBuildBatches, stopped with
 * StopBuildBatch. AWS does not document the result; like startBuild.sync's `{Build}`, it is
 * `{BuildBatch}` with the batch's last description.
 */
function buildBatch(start: 'startBuildBatch' | 'retryBuildBatch'): SdkSyncJob {
  const idOf = (s: JsonObject) => str(obj(s, 'BuildBatch'), 'Id');
  return {
    service: 'codebuild',
    start,
    submitted: (_params, started) => started,
    describe: 'batchGetBuildBatches',
    describeInput: (s) => ({ Ids: [idOf(s)] }),
    status: (d) => {
      const batch = first(d, 'BuildBatches');
      return { state: str(batch, 'BuildBatchStatus'), result: { BuildBatch: batch } };
    },
    succeeded: new Set(['SUCCEEDED']),
    failed: new Set(['FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED']),
    stop: 'stopBuildBatch',
    stopInput: (s) => ({ Id: idOf(s) }),
  };
}

/** A start answer recorded in TaskSubmitted, without the HTTP metadata added to it. */
function withoutMetadata(submitted: JsonObject): JsonObject {
  const { SdkHttpMetadata: _http, SdkResponseMetadata: _response, ...answer } = submitted;
  return answer;
}

/**
 * Amazon SageMaker AI: Create<Kind>Job → Describe<Kind>Job (its whole answer is the result) →
 * Stop<Kind>Job. The create answer holds only the job's ARN, whose name part SageMaker writes in
 * lower case; TaskSubmitted also records the request's job name, which the describe and stop
 * calls take.
 */
function sageMakerJob(
  kind: 'HyperParameterTuning' | 'Training' | 'Transform' | 'Processing' | 'Labeling',
  succeeded: string[],
  failed: string[],
): Record<string, SdkSyncJob> {
  const name = `${kind}JobName`;
  return {
    [`sagemaker:create${kind}Job`]: {
      service: 'sagemaker',
      start: `create${kind}Job`,
      submitted: (params, started) => ({ [name]: params[name] ?? null, ...started }),
      describe: `describe${kind}Job`,
      describeInput: (s) => ({ [name]: str(s, name) }),
      status: (d) => ({ state: str(d, `${kind}JobStatus`), result: d }),
      succeeded: new Set(succeeded),
      failed: new Set(failed),
      stop: `stop${kind}Job`,
      stopInput: (s) => ({ [name]: str(s, name) }),
    },
  };
}

/** The run-a-job resources Stepwise serves, for messages (`glue:startJobRun`, …). */
export const SYNC_JOB_NAMES: readonly string[] = [
  ...Object.keys(SYNC_JOBS),
  ...Object.keys(DIRECT_SYNC_JOBS),
];

/** The run-a-job integration of a `.sync` resource, if Stepwise has one. */
export function syncJobOf(resourceType: string, action: string): SyncJob | undefined {
  const key = `${resourceType}:${action}`;
  if (Object.hasOwn(SYNC_JOBS, key)) return SYNC_JOBS[key];
  return Object.hasOwn(DIRECT_SYNC_JOBS, key) ? DIRECT_SYNC_JOBS[key] : undefined;
}

/** What a job call needs from the task. */
export interface SyncJobTask {
  resource: string;
  region?: string | undefined;
  /** The state's parameters (the Kubernetes API's job is polled with its cluster's). */
  parameters: JsonValue;
  /** The role the calls are made as (the state's `Credentials`). */
  roleArn?: string | undefined;
}

/** Sends the start request; a successful outcome's output is what TaskSubmitted records. */
export async function startSyncJob(
  aws: AwsPassThrough,
  job: SyncJob,
  task: SyncJobTask,
  signal: AbortSignal,
): Promise<TaskOutcome> {
  const params = task.parameters;
  if (!isJsonObject(params)) {
    return {
      ok: false,
      error: StatesErrors.Runtime,
      cause: `The parameters of '${task.resource}' must be an object.`,
    };
  }
  if (isDirect(job)) return job.start(aws, task, signal);
  const input = job.startInput ? job.startInput(params) : params;
  const r = await aws.callOptimized(task, job.service, job.start, input, signal);
  if (!r.ok) return r.outcome;
  const refused = job.startFailure?.(r.output);
  if (refused) return refused;
  return { ok: true, output: { ...job.submitted(params, r.output), ...r.metadata } };
}

/**
 * Polls the describe API every `aws.pollIntervalMs` until the job ends. Resolves `undefined` when
 * `signal` aborts (the runtime stopped polling). A describe call the service refuses fails the
 * task with the service's error; one that does not reach the service is tried again at the next
 * poll (the job runs on regardless).
 */
export async function pollSyncJob(
  aws: AwsPassThrough,
  job: SyncJob,
  task: SyncJobTask,
  submitted: JsonValue,
  signal: AbortSignal,
): Promise<TaskOutcome | undefined> {
  const s = isJsonObject(submitted) ? submitted : {};
  for (;;) {
    if (!(await sleep(aws.pollIntervalMs, signal))) return undefined;
    if (isDirect(job)) {
      const outcome = await job.check(aws, task, submitted, signal);
      if (signal.aborted) return undefined;
      if (outcome !== undefined) return outcome;
      continue;
    }
    const r = await aws.callOptimized(task, job.service, job.describe, job.describeInput(s), signal);
    if (signal.aborted) return undefined;
    if (!r.ok) {
      if (r.transport) continue;
      if (job.gone !== undefined && !r.outcome.ok && r.outcome.error === job.gone.error) {
        return { ok: true, output: job.gone.result(s) };
      }
      return r.outcome;
    }
    const { state, result, failure } = job.status(r.output);
    const succeeded = job.succeeded.has(state);
    if (!succeeded && !job.failed.has(state)) continue;
    if (succeeded && job.failedRun?.(result) !== true) return { ok: true, output: result };
    return { ok: false, error: StatesErrors.TaskFailed, cause: JSON.stringify(failure ?? result) };
  }
}

/**
 * Calls the stop API of a submitted job (best effort: a job that already ended may refuse); a job
 * without one runs on.
 */
export async function stopSyncJob(
  aws: AwsPassThrough,
  job: SyncJob,
  task: SyncJobTask,
  submitted: JsonValue,
): Promise<void> {
  if (isDirect(job)) return job.stop(aws, task, submitted);
  if (job.stop === undefined || job.stopInput === undefined) return;
  const s = isJsonObject(submitted) ? submitted : {};
  await aws.callOptimized(task, job.service, job.stop, job.stopInput(s), new AbortController().signal);
}

/** Waits `ms`; false when `signal` aborted first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
