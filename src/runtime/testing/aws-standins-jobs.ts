/**
 * Test support: the stand-in's run-a-job services beyond those of `aws-standins.ts`, answered on
 * the same port (`AwsStandIn.jobs`):
 *
 * - SageMaker hyperparameter tuning jobs (AWS JSON 1.1): Create/Describe/Stop
 *   HyperParameterTuningJob. A job is InProgress for `STEPWISE_POLLS` describe calls (default 1),
 *   then `STEPWISE_OUTCOME` (Completed or Failed), both from
 *   `TrainingJobDefinition.StaticHyperParameters`; a stopped job is Stopping, then Stopped at the
 *   next describe call;
 * - Glue DataBrew (REST JSON): StartJobRun, DescribeJobRun, StopJobRun on jobs made with
 *   `createDataBrewJob`, which also says how many DescribeJobRun calls a run stays RUNNING and how
 *   it ends (StartJobRun takes only the job's name);
 * - EMR Serverless (REST JSON, camelCase): StartJobRun, GetJobRun, CancelJobRun on applications
 *   made with `createEmrServerlessApplication`. A run is SCHEDULED, then RUNNING for
 *   `STEPWISE_POLLS` GetJobRun calls (default 1), then `STEPWISE_OUTCOME` (SUCCESS or FAILED),
 *   both from the run's `tags`; a cancelled run is CANCELLING, then CANCELLED;
 * - EMR Serverless applications: Create/Get/Start/Stop/DeleteApplication. Each change (CREATING,
 *   STARTING, STOPPING) lasts `STEPWISE_POLLS` GetApplication calls (default 1); `STEPWISE_FAIL`
 *   (`create` or `start`) makes that change fail (TERMINATED; STOPPING, then STOPPED), and
 *   `STEPWISE_FORGET` makes GetApplication answer 404 for a deleted application, all from the
 *   application's `tags`. Start, stop and delete refuse an application in the wrong state;
 * - EMR on EKS (REST JSON, camelCase, service `emr-containers`): Create/Describe/Delete
 *   VirtualCluster (a deletion is TERMINATING for `STEPWISE_POLLS` describe calls, then
 *   TERMINATED, or not found with `STEPWISE_FORGET`) and Start/Describe/CancelJobRun (PENDING,
 *   SUBMITTED, RUNNING for `STEPWISE_POLLS` calls, then `STEPWISE_OUTCOME`: COMPLETED or FAILED;
 *   a cancelled run is CANCEL_PENDING, then CANCELLED), from the `tags` of the cluster or run.
 *
 * REST services are told apart by the service name in the request's SigV4 credential scope, so
 * their paths cannot be mistaken for S3 keys.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StandInError, parseBody, record, sendJson, text } from './aws-standins-wire.js';

/** What the module needs from the stand-in that hosts it. */
export interface JobStandInHost {
  readonly region: string;
  readonly account: string;
  readonly requests: { service: string; operation: string; headers: IncomingMessage['headers'] }[];
}

export interface SageMakerTuningJob {
  name: string;
  arn: string;
  request: Record<string, unknown>;
  created: number;
  status: string;
  pollsLeft: number;
  outcome: string;
  ended?: number;
}

export interface DataBrewRun {
  runId: string;
  jobName: string;
  started: number;
  state: string;
  pollsLeft: number;
  outcome: string;
  completed?: number;
}

export interface EmrServerlessRun {
  applicationId: string;
  jobRunId: string;
  arn: string;
  request: Record<string, unknown>;
  created: number;
  state: string;
  pollsLeft: number;
  outcome: string;
  ended?: number;
}

export interface EmrServerlessApp {
  applicationId: string;
  arn: string;
  request: Record<string, unknown>;
  state: string;
  stateDetails?: string;
  polls: number;
  pollsLeft: number;
  /** The change that fails: `create`, `start` or ''. */
  fail: string;
  /** A TERMINATED application is not found (GetApplication answers 404). */
  forget: boolean;
  created: number;
  updated: number;
}

export interface EmrVirtualCluster {
  id: string;
  arn: string;
  request: Record<string, unknown>;
  state: string;
  pollsLeft: number;
  forget: boolean;
  created: number;
}

export interface EmrContainersRun {
  id: string;
  virtualClusterId: string;
  arn: string;
  request: Record<string, unknown>;
  state: string;
  pollsLeft: number;
  outcome: string;
  created: number;
  finished?: number;
}

type Protocol = 'json' | 'rest';

export class JobStandIns {
  /** SageMaker tuning jobs by name. */
  readonly tuningJobs = new Map<string, SageMakerTuningJob>();
  /** DataBrew jobs by name: how long their runs last and how they end. */
  readonly dataBrewJobs = new Map<string, { polls: number; outcome: string }>();
  /** DataBrew job runs by RunId. */
  readonly dataBrewRuns = new Map<string, DataBrewRun>();
  readonly emrServerlessApplications = new Set<string>();
  /** EMR Serverless job runs by jobRunId. */
  readonly emrServerlessRuns = new Map<string, EmrServerlessRun>();
  /** EMR Serverless applications made with CreateApplication, by applicationId. */
  readonly emrServerlessApps = new Map<string, EmrServerlessApp>();
  /** EMR on EKS virtual clusters by id. */
  readonly virtualClusters = new Map<string, EmrVirtualCluster>();
  /** EMR on EKS job runs by id. */
  readonly emrContainersRuns = new Map<string, EmrContainersRun>();

  constructor(private readonly host: JobStandInHost) {}

  createDataBrewJob(name: string, options: { polls?: number; outcome?: string } = {}): void {
    this.dataBrewJobs.set(name, { polls: options.polls ?? 1, outcome: options.outcome ?? 'SUCCEEDED' });
  }

  /** An application (its id: lower-case letters and digits, as EMR Serverless makes them). */
  createEmrServerlessApplication(id: string): void {
    this.emrServerlessApplications.add(id);
  }

  /** Answers a request of a service served here; false for any other (the host serves it). */
  handle(req: IncomingMessage, body: Buffer, res: ServerResponse): boolean {
    const target = String(req.headers['x-amz-target'] ?? '');
    const tuning = /^SageMaker\.(Create|Describe|Stop)HyperParameterTuningJob$/.exec(target);
    const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(String(req.headers.authorization ?? ''));
    const service = tuning ? 'sagemaker' : scope?.[1];
    if (
      service !== 'sagemaker' &&
      service !== 'databrew' &&
      service !== 'emr-serverless' &&
      service !== 'emr-containers'
    )
      return false;
    if (service === 'sagemaker' && !tuning) return false;
    const protocol: Protocol = service === 'sagemaker' ? 'json' : 'rest';
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const path = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    const method = req.method ?? '';
    const operation = tuning
      ? `${tuning[1]!}HyperParameterTuningJob`
      : service === 'databrew'
        ? dataBrewOperation(method, path)
        : service === 'emr-containers'
          ? emrContainersOperation(method, path)
          : emrServerlessOperation(method, path) || emrServerlessApplicationOperation(method, path);
    this.host.requests.push({ service, operation, headers: req.headers });
    try {
      let answer: unknown;
      if (tuning) answer = this.tuning(tuning[1]!, parseBody(body));
      else if (service === 'databrew') answer = this.dataBrew(operation, path);
      else if (service === 'emr-containers') answer = this.emrContainers(operation, path, parseBody(body));
      else if (operation.endsWith('Application')) {
        answer = this.emrServerlessApplication(operation, path, parseBody(body));
      } else answer = this.emrServerless(operation, path, parseBody(body));
      send(res, protocol, 200, answer);
    } catch (e) {
      const err = e instanceof StandInError ? e : new StandInError(500, 'InternalServerException', String(e));
      if (protocol === 'json') send(res, protocol, err.status, { __type: err.code, Message: err.message });
      else {
        res.setHeader('x-amzn-ErrorType', err.code);
        send(res, protocol, err.status, { message: err.message });
      }
    }
    return true;
  }

  // ---- SageMaker hyperparameter tuning ---------------------------------------------------------

  private tuning(verb: string, input: Record<string, unknown>): unknown {
    const name = text(input.HyperParameterTuningJobName);
    const seconds = (ms: number) => ms / 1000;
    if (verb === 'Create') {
      const existing = this.tuningJobs.get(name.toLowerCase());
      if (existing) {
        throw new StandInError(
          400,
          'ResourceInUse',
          `Hyperparameter tuning job ${existing.arn} already exists.`,
        );
      }
      const definition = record(input.TrainingJobDefinition);
      const controls = record(definition.StaticHyperParameters);
      // SageMaker writes names in lower case in ARNs; tuning job names are not case sensitive.
      const arn = `arn:aws:sagemaker:${this.host.region}:${this.host.account}:hyper-parameter-tuning-job/${name.toLowerCase()}`;
      this.tuningJobs.set(name.toLowerCase(), {
        name,
        arn,
        request: input,
        created: Date.now(),
        status: 'InProgress',
        pollsLeft: Number(controls.STEPWISE_POLLS ?? 1),
        outcome: text(controls.STEPWISE_OUTCOME) || 'Completed',
      });
      return { HyperParameterTuningJobArn: arn };
    }
    const job = this.tuningJobs.get(name.toLowerCase());
    if (!job)
      throw new StandInError(
        400,
        'ResourceNotFound',
        `Amazon SageMaker can't find a tuning job named ${name}.`,
      );
    if (verb === 'Stop') {
      if (job.status !== 'InProgress') {
        throw new StandInError(400, 'ValidationException', `The tuning job ${name} is not in progress.`);
      }
      job.status = 'Stopping';
      return {};
    }
    if (job.status === 'Stopping') {
      job.status = 'Stopped';
      job.ended = Date.now();
    } else if (job.status === 'InProgress' && job.pollsLeft-- <= 0) {
      job.status = job.outcome;
      job.ended = Date.now();
    }
    const { Tags: _tags, ...request } = job.request;
    const done = job.status === 'Completed' ? 2 : 0;
    const out: Record<string, unknown> = {
      ...request,
      HyperParameterTuningJobName: job.name,
      HyperParameterTuningJobArn: job.arn,
      HyperParameterTuningJobStatus: job.status,
      CreationTime: seconds(job.created),
      LastModifiedTime: seconds(job.ended ?? job.created),
      TrainingJobStatusCounters: {
        Completed: done,
        InProgress: job.status === 'InProgress' ? 2 : 0,
        RetryableError: 0,
        NonRetryableError: job.status === 'Failed' ? 2 : 0,
        Stopped: job.status === 'Stopped' ? 2 : 0,
      },
      ObjectiveStatusCounters: { Succeeded: done, Pending: 0, Failed: 0 },
    };
    if (job.ended !== undefined) out.HyperParameterTuningEndTime = seconds(job.ended);
    if (job.status === 'Completed') {
      out.BestTrainingJob = {
        TrainingJobName: `${job.name}-002-abcdef12`,
        TrainingJobArn: `${job.arn.replace('hyper-parameter-tuning-job', 'training-job')}-002-abcdef12`,
        CreationTime: seconds(job.created),
        TrainingJobStatus: 'Completed',
        TunedHyperParameters: { eta: '0.2' },
        FinalHyperParameterTuningJobObjectiveMetric: { MetricName: 'validation:auc', Value: 0.93 },
        ObjectiveStatus: 'Succeeded',
      };
    }
    if (job.status === 'Failed') out.FailureReason = 'All training jobs failed.';
    return out;
  }

  // ---- Glue DataBrew -----------------------------------------------------------------------------

  private dataBrew(operation: string, path: string[]): unknown {
    const [, jobName = '', , runId = ''] = path;
    if (operation === '')
      throw new StandInError(404, 'UnknownOperationException', 'not a DataBrew operation');
    const job = this.dataBrewJobs.get(jobName);
    if (!job) throw new StandInError(404, 'ResourceNotFoundException', `Job ${jobName} wasn't found.`);
    const seconds = (ms: number) => ms / 1000;
    if (operation === 'StartJobRun') {
      const id = `db_${randomUUID().replace(/-/g, '')}`;
      this.dataBrewRuns.set(id, {
        runId: id,
        jobName,
        started: Date.now(),
        state: 'STARTING',
        pollsLeft: job.polls,
        outcome: job.outcome,
      });
      return { RunId: id };
    }
    const run = this.dataBrewRuns.get(runId);
    if (!run || run.jobName !== jobName) {
      throw new StandInError(404, 'ResourceNotFoundException', `Job run ${runId} wasn't found.`);
    }
    if (operation === 'StopJobRun') {
      if (!['STARTING', 'RUNNING'].includes(run.state)) {
        throw new StandInError(400, 'ValidationException', `Job run ${runId} is not running.`);
      }
      run.state = 'STOPPING';
      return { RunId: runId };
    }
    if (run.state === 'STARTING') run.state = 'RUNNING';
    else if (run.state === 'STOPPING') {
      run.state = 'STOPPED';
      run.completed = Date.now();
    } else if (run.state === 'RUNNING' && run.pollsLeft-- <= 0) {
      run.state = run.outcome;
      run.completed = Date.now();
    }
    const out: Record<string, unknown> = {
      JobName: jobName,
      RunId: run.runId,
      State: run.state,
      Attempt: 0,
      StartedOn: seconds(run.started),
      StartedBy: `arn:aws:iam::${this.host.account}:role/StepFunctions`,
      LogSubscription: 'ENABLE',
      LogGroupName: '/aws-glue-databrew/jobs',
      Outputs: [{ Location: { Bucket: 'out', Key: `${jobName}/` }, Format: 'CSV' }],
    };
    if (run.completed !== undefined) {
      out.CompletedOn = seconds(run.completed);
      out.ExecutionTime = Math.round((run.completed - run.started) / 1000);
    }
    if (run.state === 'FAILED') out.ErrorMessage = 'Recipe step 2 failed: column "price" not found.';
    return out;
  }

  // ---- EMR Serverless ----------------------------------------------------------------------------

  private emrServerless(operation: string, path: string[], input: Record<string, unknown>): unknown {
    const [, applicationId = '', , jobRunId = ''] = path;
    if (operation === '') {
      throw new StandInError(404, 'UnknownOperationException', 'not an EMR Serverless job run operation');
    }
    if (!this.emrServerlessApplications.has(applicationId)) {
      throw new StandInError(404, 'ResourceNotFoundException', `Application ${applicationId} does not exist`);
    }
    const seconds = (ms: number) => ms / 1000;
    if (operation === 'StartJobRun') {
      if (text(input.clientToken) === '') {
        throw new StandInError(400, 'ValidationException', 'clientToken must not be null');
      }
      const tags = record(input.tags);
      const id = randomUUID().replace(/-/g, '').slice(0, 20);
      const arn = `arn:aws:emr-serverless:${this.host.region}:${this.host.account}:/applications/${applicationId}/jobruns/${id}`;
      this.emrServerlessRuns.set(id, {
        applicationId,
        jobRunId: id,
        arn,
        request: input,
        created: Date.now(),
        state: 'SUBMITTED',
        pollsLeft: Number(tags.STEPWISE_POLLS ?? 1),
        outcome: text(tags.STEPWISE_OUTCOME) || 'SUCCESS',
      });
      return { applicationId, jobRunId: id, arn };
    }
    const run = this.emrServerlessRuns.get(jobRunId);
    if (!run || run.applicationId !== applicationId) {
      throw new StandInError(404, 'ResourceNotFoundException', `Job run ${jobRunId} does not exist`);
    }
    if (operation === 'CancelJobRun') {
      if (!['SUBMITTED', 'PENDING', 'SCHEDULED', 'RUNNING', 'QUEUED'].includes(run.state)) {
        throw new StandInError(400, 'ValidationException', `Job run ${jobRunId} is not running`);
      }
      run.state = 'CANCELLING';
      return { applicationId, jobRunId };
    }
    if (run.state === 'SUBMITTED') run.state = 'SCHEDULED';
    else if (run.state === 'SCHEDULED') run.state = 'RUNNING';
    else if (run.state === 'CANCELLING') {
      run.state = 'CANCELLED';
      run.ended = Date.now();
    } else if (run.state === 'RUNNING' && run.pollsLeft-- <= 0) {
      run.state = run.outcome;
      run.ended = Date.now();
    }
    const { clientToken: _token, ...request } = run.request;
    const jobRun: Record<string, unknown> = {
      ...request,
      applicationId,
      jobRunId: run.jobRunId,
      arn: run.arn,
      createdBy: `arn:aws:sts::${this.host.account}:assumed-role/StepFunctions/session`,
      createdAt: seconds(run.created),
      updatedAt: seconds(run.ended ?? run.created),
      state: run.state,
      stateDetails:
        run.state === 'FAILED'
          ? 'Job failed, please check complete logs in configured logging destination. ExitCode: 1.'
          : run.state === 'CANCELLED'
            ? 'Job run cancelled.'
            : '',
      releaseLabel: 'emr-7.1.0',
    };
    if (run.ended !== undefined) jobRun.endedAt = seconds(run.ended);
    return { jobRun };
  }

  /** An application in `state`, as CreateApplication would make it with these `tags`. */
  addEmrServerlessApp(state: string, tags: Record<string, string> = {}): string {
    const id = `00f${randomUUID().replace(/-/g, '').slice(0, 13)}`;
    const polls = Number(tags.STEPWISE_POLLS ?? 1);
    this.emrServerlessApps.set(id, {
      applicationId: id,
      arn: `arn:aws:emr-serverless:${this.host.region}:${this.host.account}:/applications/${id}`,
      request: { name: `app-${id}`, releaseLabel: 'emr-7.1.0', type: 'SPARK', tags },
      state,
      polls,
      pollsLeft: polls,
      fail: text(tags.STEPWISE_FAIL),
      forget: tags.STEPWISE_FORGET !== undefined,
      created: Date.now(),
      updated: Date.now(),
    });
    this.emrServerlessApplications.add(id);
    return id;
  }

  /** A RUNNING virtual cluster, as CreateVirtualCluster would make it with these `tags`. */
  addVirtualCluster(tags: Record<string, string> = {}): string {
    const id = randomUUID().replace(/-/g, '').slice(0, 25);
    this.virtualClusters.set(id, {
      id,
      arn: `arn:aws:emr-containers:${this.host.region}:${this.host.account}:/virtualclusters/${id}`,
      request: { name: `vc-${id}`, containerProvider: { id: 'eks-1', type: 'EKS' }, tags },
      state: 'RUNNING',
      pollsLeft: Number(tags.STEPWISE_POLLS ?? 1),
      forget: tags.STEPWISE_FORGET !== undefined,
      created: Date.now(),
    });
    return id;
  }

  // ---- EMR Serverless applications ---------------------------------------------------------------

  private emrServerlessApplication(
    operation: string,
    path: string[],
    input: Record<string, unknown>,
  ): unknown {
    const seconds = (ms: number) => ms / 1000;
    if (operation === 'CreateApplication') {
      if (text(input.clientToken) === '') {
        throw new StandInError(400, 'ValidationException', 'clientToken must not be null');
      }
      if (text(input.releaseLabel) === '' || text(input.type) === '') {
        throw new StandInError(400, 'ValidationException', 'releaseLabel and type are required');
      }
      const tags = record(input.tags);
      const id = `00f${randomUUID().replace(/-/g, '').slice(0, 13)}`;
      const polls = Number(tags.STEPWISE_POLLS ?? 1);
      this.emrServerlessApps.set(id, {
        applicationId: id,
        arn: `arn:aws:emr-serverless:${this.host.region}:${this.host.account}:/applications/${id}`,
        request: input,
        state: 'CREATING',
        polls,
        pollsLeft: polls,
        fail: text(tags.STEPWISE_FAIL),
        forget: tags.STEPWISE_FORGET !== undefined,
        created: Date.now(),
        updated: Date.now(),
      });
      this.emrServerlessApplications.add(id);
      return { applicationId: id, name: text(input.name), arn: this.emrServerlessApps.get(id)!.arn };
    }
    const id = path[1] ?? '';
    const app = this.emrServerlessApps.get(id);
    if (!app || (app.state === 'TERMINATED' && app.forget)) {
      throw new StandInError(404, 'ResourceNotFoundException', `Application ${id} does not exist`);
    }
    const change = (from: string[], to: string) => {
      if (!from.includes(app.state)) {
        throw new StandInError(400, 'ValidationException', `Application ${id} is in ${app.state} state`);
      }
      app.state = to;
      app.pollsLeft = app.polls;
      app.updated = Date.now();
      return {};
    };
    if (operation === 'StartApplication') return change(['CREATED', 'STOPPED'], 'STARTING');
    if (operation === 'StopApplication') return change(['STARTING', 'STARTED'], 'STOPPING');
    if (operation === 'DeleteApplication') {
      change(['CREATED', 'STOPPED'], 'TERMINATED');
      this.emrServerlessApplications.delete(id);
      return {};
    }
    // GetApplication: a change under way ends after `polls` calls.
    const ends: Record<string, [string, string]> = {
      CREATING:
        app.fail === 'create'
          ? ['TERMINATED', 'Application creation failed: subnet not found.']
          : ['CREATED', ''],
      STARTING:
        app.fail === 'start' ? ['STOPPING', 'Failed to start: capacity unavailable.'] : ['STARTED', ''],
      STOPPING: ['STOPPED', app.stateDetails ?? ''],
    };
    const end = ends[app.state];
    if (end && app.pollsLeft-- <= 0) {
      app.state = end[0];
      if (end[1] === '') delete app.stateDetails;
      else app.stateDetails = end[1];
      app.updated = Date.now();
    }
    const { clientToken: _token, ...request } = app.request;
    const application: Record<string, unknown> = {
      ...request,
      applicationId: app.applicationId,
      arn: app.arn,
      state: app.state,
      createdAt: seconds(app.created),
      updatedAt: seconds(app.updated),
      architecture: 'X86_64',
    };
    if (app.stateDetails !== undefined) application.stateDetails = app.stateDetails;
    return { application };
  }

  // ---- EMR on EKS --------------------------------------------------------------------------------

  private emrContainers(operation: string, path: string[], input: Record<string, unknown>): unknown {
    if (operation === '')
      throw new StandInError(404, 'UnknownOperationException', 'not an EMR on EKS operation');
    const iso = (ms: number) => new Date(ms).toISOString();
    if (operation === 'CreateVirtualCluster') {
      const provider = record(input.containerProvider);
      if (text(input.name) === '' || text(provider.id) === '' || provider.type !== 'EKS') {
        throw new StandInError(400, 'ValidationException', 'name and an EKS containerProvider are required');
      }
      const tags = record(input.tags);
      const id = randomUUID().replace(/-/g, '').slice(0, 25);
      const arn = `arn:aws:emr-containers:${this.host.region}:${this.host.account}:/virtualclusters/${id}`;
      this.virtualClusters.set(id, {
        id,
        arn,
        request: input,
        state: 'RUNNING',
        pollsLeft: Number(tags.STEPWISE_POLLS ?? 1),
        forget: tags.STEPWISE_FORGET !== undefined,
        created: Date.now(),
      });
      return { id, name: text(input.name), arn };
    }
    const [, clusterId = '', , runId = ''] = path;
    const cluster = this.virtualClusters.get(clusterId);
    if (!cluster || (cluster.state === 'TERMINATED' && cluster.forget)) {
      throw new StandInError(404, 'ResourceNotFoundException', `Virtual cluster ${clusterId} doesn't exist.`);
    }
    if (operation === 'DeleteVirtualCluster') {
      if (cluster.state !== 'RUNNING' && cluster.state !== 'ARRESTED') {
        throw new StandInError(
          400,
          'ValidationException',
          `Virtual cluster ${clusterId} is ${cluster.state}.`,
        );
      }
      cluster.state = 'TERMINATING';
      return { id: clusterId };
    }
    if (operation === 'DescribeVirtualCluster') {
      if (cluster.state === 'TERMINATING' && cluster.pollsLeft-- <= 0) {
        cluster.state = 'TERMINATED';
        if (cluster.forget) {
          throw new StandInError(
            404,
            'ResourceNotFoundException',
            `Virtual cluster ${clusterId} doesn't exist.`,
          );
        }
      }
      const { clientToken: _token, ...request } = cluster.request;
      return {
        virtualCluster: {
          ...request,
          id: cluster.id,
          arn: cluster.arn,
          state: cluster.state,
          createdAt: iso(cluster.created),
        },
      };
    }
    if (operation === 'StartJobRun') {
      if (text(input.clientToken) === '') {
        throw new StandInError(400, 'ValidationException', 'clientToken must not be null');
      }
      if (cluster.state !== 'RUNNING') {
        throw new StandInError(400, 'ValidationException', `Virtual cluster ${clusterId} is not running.`);
      }
      const tags = record(input.tags);
      const id = randomUUID().replace(/-/g, '').slice(0, 19);
      const arn = `${cluster.arn}/jobruns/${id}`;
      this.emrContainersRuns.set(id, {
        id,
        virtualClusterId: clusterId,
        arn,
        request: input,
        state: 'PENDING',
        pollsLeft: Number(tags.STEPWISE_POLLS ?? 1),
        outcome: text(tags.STEPWISE_OUTCOME) || 'COMPLETED',
        created: Date.now(),
      });
      return { id, name: text(input.name), arn, virtualClusterId: clusterId };
    }
    const run = this.emrContainersRuns.get(runId);
    if (!run || run.virtualClusterId !== clusterId) {
      throw new StandInError(404, 'ResourceNotFoundException', `Job run ${runId} doesn't exist.`);
    }
    if (operation === 'CancelJobRun') {
      if (!['PENDING', 'SUBMITTED', 'RUNNING'].includes(run.state)) {
        throw new StandInError(400, 'ValidationException', `Job run ${runId} is ${run.state}.`);
      }
      run.state = 'CANCEL_PENDING';
      return { id: runId, virtualClusterId: clusterId };
    }
    // DescribeJobRun
    if (run.state === 'PENDING') run.state = 'SUBMITTED';
    else if (run.state === 'SUBMITTED') run.state = 'RUNNING';
    else if (run.state === 'CANCEL_PENDING') {
      run.state = 'CANCELLED';
      run.finished = Date.now();
    } else if (run.state === 'RUNNING' && run.pollsLeft-- <= 0) {
      run.state = run.outcome;
      run.finished = Date.now();
    }
    const { clientToken: _token, ...request } = run.request;
    const jobRun: Record<string, unknown> = {
      ...request,
      id: run.id,
      arn: run.arn,
      virtualClusterId: clusterId,
      state: run.state,
      createdAt: iso(run.created),
      createdBy: `arn:aws:sts::${this.host.account}:assumed-role/StepFunctions/session`,
    };
    if (run.finished !== undefined) jobRun.finishedAt = iso(run.finished);
    if (run.state === 'FAILED') {
      jobRun.failureReason = 'USER_ERROR';
      jobRun.stateDetails = 'Spark driver exited with code 1.';
    }
    return { jobRun };
  }
}

/** `/jobs/{name}/startJobRun`, `/jobs/{name}/jobRun/{runId}[/stopJobRun]`; '' for others. */
function dataBrewOperation(method: string, path: string[]): string {
  if (path[0] !== 'jobs') return '';
  if (method === 'POST' && path.length === 3 && path[2] === 'startJobRun') return 'StartJobRun';
  if (method === 'GET' && path.length === 4 && path[2] === 'jobRun') return 'DescribeJobRun';
  if (method === 'POST' && path.length === 5 && path[2] === 'jobRun' && path[4] === 'stopJobRun')
    return 'StopJobRun';
  return '';
}

/** `/applications/{id}/jobruns[/{jobRunId}]`; '' for others. */
function emrServerlessOperation(method: string, path: string[]): string {
  if (path[0] !== 'applications' || path[2] !== 'jobruns') return '';
  if (method === 'POST' && path.length === 3) return 'StartJobRun';
  if (method === 'GET' && path.length === 4) return 'GetJobRun';
  if (method === 'DELETE' && path.length === 4) return 'CancelJobRun';
  return '';
}

/** `/applications[/{id}[/start|/stop]]`: the application actions; '' for others. */
function emrServerlessApplicationOperation(method: string, path: string[]): string {
  if (path[0] !== 'applications') return '';
  if (method === 'POST' && path.length === 1) return 'CreateApplication';
  if (method === 'GET' && path.length === 2) return 'GetApplication';
  if (method === 'DELETE' && path.length === 2) return 'DeleteApplication';
  if (method === 'POST' && path.length === 3 && path[2] === 'start') return 'StartApplication';
  if (method === 'POST' && path.length === 3 && path[2] === 'stop') return 'StopApplication';
  return '';
}

/** `/virtualclusters[/{id}[/jobruns[/{jobRunId}]]]`; '' for others. */
function emrContainersOperation(method: string, path: string[]): string {
  if (path[0] !== 'virtualclusters') return '';
  if (path.length === 1 && method === 'POST') return 'CreateVirtualCluster';
  if (path.length === 2 && method === 'GET') return 'DescribeVirtualCluster';
  if (path.length === 2 && method === 'DELETE') return 'DeleteVirtualCluster';
  if (path[2] !== 'jobruns') return '';
  if (path.length === 3 && method === 'POST') return 'StartJobRun';
  if (path.length === 4 && method === 'GET') return 'DescribeJobRun';
  if (path.length === 4 && method === 'DELETE') return 'CancelJobRun';
  return '';
}

function send(res: ServerResponse, protocol: Protocol, status: number, value: unknown): void {
  sendJson(res, status, protocol === 'json' ? 'application/x-amz-json-1.1' : 'application/json', value);
}
