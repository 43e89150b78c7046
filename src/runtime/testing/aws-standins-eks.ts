/**
 * Test support: the parts of the AWS stand-in (`aws-standins.ts`) for the EKS cluster and node
 * group, CodeBuild batch build and EMR terminateCluster run-a-job integrations, kept apart so
 * that each service's stand-in stays small:
 *
 * - EKS (REST JSON, told apart by its signing scope): CreateCluster, DescribeCluster,
 *   DeleteCluster, CreateNodegroup, DescribeNodegroup, DeleteNodegroup. A cluster or node group
 *   is CREATING (or DELETING) for `STEPWISE_POLLS` describe calls (default 1), then ACTIVE, or
 *   the state in `STEPWISE_OUTCOME` (FAILED, CREATE_FAILED); a deletion then answers
 *   ResourceNotFoundException, or ends in `STEPWISE_DELETE_OUTCOME` (DELETE_FAILED, or ACTIVE
 *   for a cluster). All are tags of the resource; Fargate profiles (CreateFargateProfile,
 *   DescribeFargateProfile, DeleteFargateProfile) behave as node groups;
 * - CodeBuild (AWS JSON 1.1): StartBuildBatch, BatchGetBuildBatches, StopBuildBatch,
 *   DeleteBuildBatch on projects
 *   made with `createCodeBuildProject`; `STEPWISE_POLLS` and `STEPWISE_OUTCOME` come from
 *   `environmentVariablesOverride`, as for single builds; RetryBuildBatch starts a new batch
 *   (new Id) with the same variables, ending in `STEPWISE_RETRY_OUTCOME` (default SUCCEEDED);
 * - EMR (AWS JSON 1.1): SetTerminationProtection; ListInstanceFleets, ListInstanceGroups (those
 *   of the cluster's RunJobFlow `Instances`), ModifyInstanceFleet, ModifyInstanceGroups (which
 *   change them); TerminateJobFlows. A cluster is TERMINATING for
 *   `STEPWISE_TERMINATE_POLLS` DescribeCluster calls (default 1), then TERMINATED, or the state
 *   in its `STEPWISE_TERMINATE_OUTCOME` tag (TERMINATED_WITH_ERRORS).
 *
 * `handle` answers the requests it knows and leaves the others to the stand-in.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  StandInError,
  answerJson11,
  asStandInError,
  parseBody,
  record,
  sendJson,
  text,
} from './aws-standins-wire.js';

/**
 * What the module needs from the stand-in that hosts it (an interface here, not an import of
 * aws-standins.ts, which imports this module).
 */
export interface EksStandInHost {
  readonly region: string;
  readonly account: string;
  readonly requests: { service: string; operation: string; headers: IncomingMessage['headers'] }[];
  readonly codeBuildProjects: ReadonlySet<string>;
  /** EMR clusters by id: TerminateJobFlows moves them on. */
  readonly emrClusters: ReadonlyMap<
    string,
    {
      state: string;
      ended?: number;
      readonly tags: readonly { Key: string; Value: string }[];
      /** The create request's `Instances` (fleets and groups are listed from it). */
      readonly instances?: Record<string, unknown>;
      terminationProtected?: boolean;
    }
  >;
}

type Obj = Record<string, unknown>;

export interface EksCluster {
  name: string;
  arn: string;
  request: Obj;
  tags: Record<string, string>;
  created: number;
  status: string;
  pollsLeft: number;
}

export interface EksNodegroup {
  clusterName: string;
  name: string;
  arn: string;
  request: Obj;
  tags: Record<string, string>;
  created: number;
  modified: number;
  status: string;
  pollsLeft: number;
}

export interface EksFargateProfile {
  clusterName: string;
  name: string;
  arn: string;
  request: Obj;
  tags: Record<string, string>;
  created: number;
  status: string;
  pollsLeft: number;
}

export interface CodeBuildBatch {
  id: string;
  arn: string;
  project: string;
  number: number;
  environment: { name: string; value: string; type: string }[];
  started: number;
  status: string;
  pollsLeft: number;
  outcome: string;
  ended?: number;
}

/** An EMR instance fleet or group: its id and its configuration (RunJobFlow's, then modified). */
export interface EmrInstanceSet {
  id: string;
  config: Obj;
}

const strings = (x: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record(x))) out[k] = text(v);
  return out;
};
const seconds = (ms: number) => ms / 1000;

export class EksCodeBuildEmrStandIn {
  readonly eksClusters = new Map<string, EksCluster>();
  /** Node groups by `<cluster>/<nodegroup>`. */
  readonly eksNodegroups = new Map<string, EksNodegroup>();
  readonly buildBatches = new Map<string, CodeBuildBatch>();
  /** Fargate profiles by `<cluster>/<profile>`. */
  readonly eksFargateProfiles = new Map<string, EksFargateProfile>();
  /** EMR clusters being terminated: DescribeCalls left, and the state they end in. */
  readonly emrTerminations = new Map<string, { pollsLeft: number; outcome: string }>();
  /** EMR instance fleets and groups by `<cluster id>/InstanceFleets|InstanceGroups`. */
  readonly emrInstanceSets = new Map<string, EmrInstanceSet[]>();

  constructor(private readonly standIn: EksStandInHost) {}

  /** Answers a request of these services; false when it is the stand-in's to answer. */
  handle(req: IncomingMessage, body: Buffer, res: ServerResponse): boolean {
    const target = String(req.headers['x-amz-target'] ?? '');
    const auth = String(req.headers.authorization ?? '');
    const log = (service: string, operation: string) =>
      this.standIn.requests.push({ service, operation, headers: req.headers });
    if (auth.includes('/eks/aws4_request')) {
      const route = eksRoute(req.method ?? '', (req.url ?? '').split('?')[0] ?? '');
      if (route === undefined) return false;
      log('eks', route.op);
      try {
        const answer = this.eks(route.op, route.params, body.length > 0 ? parseBody(body) : {});
        sendJson(res, 200, 'application/json', answer, true);
      } catch (e) {
        const err = asStandInError(e);
        res.setHeader('x-amzn-ErrorType', err.code);
        sendJson(res, err.status, 'application/json', { message: err.message }, true);
      }
      return true;
    }
    const batchOp =
      /^CodeBuild_20161006\.(StartBuildBatch|BatchGetBuildBatches|StopBuildBatch|RetryBuildBatch|DeleteBuildBatch)$/.exec(
        target,
      );
    if (batchOp) {
      log('codebuild', batchOp[1]!);
      return answerJson11(res, 'message', () => this.codeBuild(batchOp[1]!, parseBody(body)), true);
    }
    const emrOp =
      /^ElasticMapReduce\.(SetTerminationProtection|ListInstanceFleets|ModifyInstanceFleet|ListInstanceGroups|ModifyInstanceGroups|TerminateJobFlows)$/.exec(
        target,
      );
    if (emrOp) {
      const op = emrOp[1]!;
      log('emr', op);
      return answerJson11(
        res,
        'Message',
        () =>
          op === 'TerminateJobFlows'
            ? this.terminateJobFlows(parseBody(body))
            : this.emrInstances(op, parseBody(body)),
        true,
      );
    }
    // The stand-in answers DescribeCluster; a cluster being terminated moves on first.
    if (target === 'ElasticMapReduce.DescribeCluster')
      this.advanceTermination(text(parseBody(body).ClusterId));
    return false;
  }

  // ---- EKS ----------------------------------------------------------------------------------------

  private eks(op: string, params: Record<string, string>, input: Obj): unknown {
    const { region, account } = this.standIn;
    const clusterOf = (name: string): EksCluster => {
      const c = this.eksClusters.get(name);
      if (!c) throw new StandInError(404, 'ResourceNotFoundException', `No cluster found for name: ${name}.`);
      return c;
    };
    const groupOf = (cluster: string, name: string): EksNodegroup => {
      const g = this.eksNodegroups.get(`${cluster}/${name}`);
      if (!g)
        throw new StandInError(404, 'ResourceNotFoundException', `No node group found for name: ${name}.`);
      return g;
    };
    switch (op) {
      case 'CreateCluster': {
        const name = text(input.name);
        if (typeof input.roleArn !== 'string' || record(input.resourcesVpcConfig).subnetIds === undefined) {
          throw new StandInError(
            400,
            'InvalidParameterException',
            'roleArn and resourcesVpcConfig.subnetIds are required.',
          );
        }
        if (this.eksClusters.has(name)) {
          throw new StandInError(409, 'ResourceInUseException', `Cluster already exists with name: ${name}`);
        }
        const tags = strings(input.tags);
        const c: EksCluster = {
          name,
          arn: `arn:aws:eks:${region}:${account}:cluster/${name}`,
          request: input,
          tags,
          created: Date.now(),
          status: 'CREATING',
          pollsLeft: Number(tags.STEPWISE_POLLS ?? 1),
        };
        this.eksClusters.set(name, c);
        return { cluster: this.clusterJson(c) };
      }
      case 'DescribeCluster': {
        const c = clusterOf(params.name ?? '');
        if ((c.status === 'CREATING' || c.status === 'DELETING') && c.pollsLeft-- <= 0) {
          if (c.status === 'DELETING') {
            const outcome = c.tags.STEPWISE_DELETE_OUTCOME;
            if (outcome === undefined) {
              this.eksClusters.delete(c.name);
              throw new StandInError(
                404,
                'ResourceNotFoundException',
                `No cluster found for name: ${c.name}.`,
              );
            }
            c.status = outcome;
          } else c.status = c.tags.STEPWISE_OUTCOME ?? 'ACTIVE';
        }
        return { cluster: this.clusterJson(c) };
      }
      case 'DeleteCluster': {
        const c = clusterOf(params.name ?? '');
        if ([...this.eksNodegroups.values()].some((g) => g.clusterName === c.name)) {
          throw new StandInError(409, 'ResourceInUseException', `Cluster has nodegroups attached`);
        }
        c.status = 'DELETING';
        c.pollsLeft = Number(c.tags.STEPWISE_POLLS ?? 1);
        return { cluster: this.clusterJson(c) };
      }
      case 'CreateNodegroup': {
        const c = clusterOf(params.name ?? '');
        const name = text(input.nodegroupName);
        if (this.eksNodegroups.has(`${c.name}/${name}`)) {
          throw new StandInError(
            409,
            'ResourceInUseException',
            `NodeGroup already exists with name ${name} and cluster name ${c.name}`,
          );
        }
        const tags = strings(input.tags);
        const g: EksNodegroup = {
          clusterName: c.name,
          name,
          arn: `arn:aws:eks:${region}:${account}:nodegroup/${c.name}/${name}/${randomUUID()}`,
          request: input,
          tags,
          created: Date.now(),
          modified: Date.now(),
          status: 'CREATING',
          pollsLeft: Number(tags.STEPWISE_POLLS ?? 1),
        };
        this.eksNodegroups.set(`${c.name}/${name}`, g);
        return { nodegroup: this.nodegroupJson(g) };
      }
      case 'DescribeNodegroup': {
        const g = groupOf(params.name ?? '', params.nodegroupName ?? '');
        if ((g.status === 'CREATING' || g.status === 'DELETING') && g.pollsLeft-- <= 0) {
          g.modified = Date.now();
          if (g.status === 'DELETING') {
            const outcome = g.tags.STEPWISE_DELETE_OUTCOME;
            if (outcome === undefined) {
              this.eksNodegroups.delete(`${g.clusterName}/${g.name}`);
              throw new StandInError(
                404,
                'ResourceNotFoundException',
                `No node group found for name: ${g.name}.`,
              );
            }
            g.status = outcome;
          } else g.status = g.tags.STEPWISE_OUTCOME ?? 'ACTIVE';
        }
        return { nodegroup: this.nodegroupJson(g) };
      }
      case 'DeleteNodegroup': {
        const g = groupOf(params.name ?? '', params.nodegroupName ?? '');
        g.status = 'DELETING';
        g.pollsLeft = Number(g.tags.STEPWISE_POLLS ?? 1);
        g.modified = Date.now();
        return { nodegroup: this.nodegroupJson(g) };
      }
      case 'CreateFargateProfile':
      case 'DescribeFargateProfile':
      case 'DeleteFargateProfile':
        return this.fargateProfile(op, clusterOf(params.name ?? ''), params.profileName, input);
      default:
        throw new StandInError(400, 'InvalidRequestException', `The stand-in does not implement ${op}`);
    }
  }

  private fargateProfile(op: string, c: EksCluster, profileName: string | undefined, input: Obj): unknown {
    const { region, account } = this.standIn;
    if (op === 'CreateFargateProfile') {
      const name = text(input.fargateProfileName);
      if (typeof input.podExecutionRoleArn !== 'string') {
        throw new StandInError(400, 'InvalidParameterException', 'podExecutionRoleArn is required.');
      }
      if (this.eksFargateProfiles.has(`${c.name}/${name}`)) {
        throw new StandInError(
          409,
          'ResourceInUseException',
          `Fargate Profile already exists with name ${name}`,
        );
      }
      const tags = strings(input.tags);
      const p: EksFargateProfile = {
        clusterName: c.name,
        name,
        arn: `arn:aws:eks:${region}:${account}:fargateprofile/${c.name}/${name}/${randomUUID()}`,
        request: input,
        tags,
        created: Date.now(),
        status: 'CREATING',
        pollsLeft: Number(tags.STEPWISE_POLLS ?? 1),
      };
      this.eksFargateProfiles.set(`${c.name}/${name}`, p);
      return { fargateProfile: this.fargateProfileJson(p) };
    }
    const key = `${c.name}/${profileName ?? ''}`;
    const p = this.eksFargateProfiles.get(key);
    if (!p) {
      throw new StandInError(
        404,
        'ResourceNotFoundException',
        `No Fargate Profile found with name: ${profileName ?? ''}.`,
      );
    }
    if (op === 'DeleteFargateProfile') {
      p.status = 'DELETING';
      p.pollsLeft = Number(p.tags.STEPWISE_POLLS ?? 1);
      return { fargateProfile: this.fargateProfileJson(p) };
    }
    if ((p.status === 'CREATING' || p.status === 'DELETING') && p.pollsLeft-- <= 0) {
      if (p.status === 'DELETING') {
        const outcome = p.tags.STEPWISE_DELETE_OUTCOME;
        if (outcome === undefined) {
          this.eksFargateProfiles.delete(key);
          throw new StandInError(
            404,
            'ResourceNotFoundException',
            `No Fargate Profile found with name: ${p.name}.`,
          );
        }
        p.status = outcome;
      } else p.status = p.tags.STEPWISE_OUTCOME ?? 'ACTIVE';
    }
    return { fargateProfile: this.fargateProfileJson(p) };
  }

  private fargateProfileJson(p: EksFargateProfile): Obj {
    const out: Obj = {
      fargateProfileName: p.name,
      fargateProfileArn: p.arn,
      clusterName: p.clusterName,
      createdAt: seconds(p.created),
      podExecutionRoleArn: p.request.podExecutionRoleArn,
      subnets: p.request.subnets ?? [],
      selectors: p.request.selectors ?? [],
      status: p.status,
      tags: p.tags,
    };
    if (p.status === 'CREATE_FAILED' || p.status === 'DELETE_FAILED') {
      out.health = {
        issues: [{ code: 'PodExecutionRoleAlreadyInUse', message: 'The pod execution role is in use.' }],
      };
    }
    return out;
  }

  private clusterJson(c: EksCluster): Obj {
    const vpc = record(c.request.resourcesVpcConfig);
    const out: Obj = {
      name: c.name,
      arn: c.arn,
      createdAt: seconds(c.created),
      version: text(c.request.version) || '1.31',
      roleArn: c.request.roleArn,
      resourcesVpcConfig: {
        subnetIds: vpc.subnetIds,
        securityGroupIds: vpc.securityGroupIds ?? [],
        vpcId: 'vpc-0123456789abcdef0',
        endpointPublicAccess: true,
        endpointPrivateAccess: false,
        publicAccessCidrs: ['0.0.0.0/0'],
      },
      kubernetesNetworkConfig: { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4' },
      logging: { clusterLogging: [{ types: ['api', 'audit'], enabled: false }] },
      status: c.status,
      platformVersion: 'eks.1',
      tags: c.tags,
    };
    if (c.status === 'ACTIVE' || c.status === 'DELETING') {
      out.endpoint = `https://${c.name.toUpperCase()}.gr7.${this.standIn.region}.eks.amazonaws.com`;
      out.certificateAuthority = { data: Buffer.from(`certificate of ${c.name}`).toString('base64') };
    }
    if (c.status === 'FAILED') {
      out.health = {
        issues: [
          { code: 'Ec2SubnetNotFound', message: 'The subnet does not exist.', resourceIds: vpc.subnetIds },
        ],
      };
    }
    return out;
  }

  private nodegroupJson(g: EksNodegroup): Obj {
    const out: Obj = {
      nodegroupName: g.name,
      nodegroupArn: g.arn,
      clusterName: g.clusterName,
      version: '1.31',
      releaseVersion: '1.31.0-20250101',
      createdAt: seconds(g.created),
      modifiedAt: seconds(g.modified),
      status: g.status,
      capacityType: 'ON_DEMAND',
      scalingConfig: record(g.request.scalingConfig).desiredSize
        ? g.request.scalingConfig
        : { minSize: 1, maxSize: 2, desiredSize: 2 },
      instanceTypes: g.request.instanceTypes ?? ['t3.medium'],
      subnets: g.request.subnets,
      amiType: 'AL2_x86_64',
      nodeRole: g.request.nodeRole,
      labels: strings(g.request.labels),
      diskSize: 20,
      health: { issues: [] },
      tags: g.tags,
    };
    if (g.status === 'CREATE_FAILED' || g.status === 'DELETE_FAILED') {
      out.health = {
        issues: [
          { code: 'AsgInstanceLaunchFailures', message: 'Instances failed to join the kubernetes cluster' },
        ],
      };
    }
    return out;
  }

  // ---- CodeBuild batch builds ----------------------------------------------------------------------

  private codeBuild(op: string, input: Obj): unknown {
    const { region, account } = this.standIn;
    switch (op) {
      case 'StartBuildBatch': {
        const project = text(input.projectName);
        if (!this.standIn.codeBuildProjects.has(project)) {
          throw new StandInError(
            400,
            'ResourceNotFoundException',
            `Project cannot be found: arn:aws:codebuild:${region}:${account}:project/${project}`,
          );
        }
        const environment = (
          Array.isArray(input.environmentVariablesOverride)
            ? (input.environmentVariablesOverride as Obj[])
            : []
        ).map((e) => ({ name: text(e.name), value: text(e.value), type: text(e.type) || 'PLAINTEXT' }));
        const env = (k: string) => environment.find((e) => e.name === k)?.value;
        const id = `${project}:${randomUUID()}`;
        const batch: CodeBuildBatch = {
          id,
          arn: `arn:aws:codebuild:${region}:${account}:build-batch/${id}`,
          project,
          number: [...this.buildBatches.values()].filter((b) => b.project === project).length + 1,
          environment,
          started: Date.now(),
          status: 'IN_PROGRESS',
          pollsLeft: Number(env('STEPWISE_POLLS') ?? 1),
          outcome: env('STEPWISE_OUTCOME') ?? 'SUCCEEDED',
        };
        this.buildBatches.set(id, batch);
        return { buildBatch: this.batchJson(batch) };
      }
      case 'BatchGetBuildBatches': {
        const ids = Array.isArray(input.ids) ? input.ids.map(String) : [];
        const found: unknown[] = [];
        const notFound: string[] = [];
        for (const id of ids) {
          const b = this.buildBatches.get(id);
          if (!b) {
            notFound.push(id);
            continue;
          }
          if (b.status === 'IN_PROGRESS' && b.pollsLeft-- <= 0) {
            b.status = b.outcome;
            b.ended = Date.now();
          }
          found.push(this.batchJson(b));
        }
        return { buildBatches: found, buildBatchesNotFound: notFound };
      }
      case 'RetryBuildBatch': {
        const old = this.buildBatches.get(text(input.id));
        if (!old)
          throw new StandInError(400, 'ResourceNotFoundException', `Build batch ${text(input.id)} not found`);
        if (old.status === 'IN_PROGRESS') {
          throw new StandInError(400, 'InvalidInputException', `Build batch ${old.id} is still in progress`);
        }
        const env = (k: string) => old.environment.find((e) => e.name === k)?.value;
        const id = `${old.project}:${randomUUID()}`;
        const batch: CodeBuildBatch = {
          ...old,
          id,
          arn: `arn:aws:codebuild:${region}:${account}:build-batch/${id}`,
          started: Date.now(),
          status: 'IN_PROGRESS',
          pollsLeft: Number(env('STEPWISE_POLLS') ?? 1),
          outcome: env('STEPWISE_RETRY_OUTCOME') ?? 'SUCCEEDED',
        };
        delete batch.ended;
        this.buildBatches.set(id, batch);
        return { buildBatch: this.batchJson(batch) };
      }
      // A batch still IN_PROGRESS is not deleted, as in CodeBuild.
      case 'DeleteBuildBatch': {
        const b = this.buildBatches.get(text(input.id));
        if (!b)
          throw new StandInError(400, 'ResourceNotFoundException', `Build batch ${text(input.id)} not found`);
        if (b.status === 'IN_PROGRESS') {
          return {
            statusCode: 'BATCH_IN_PROGRESS',
            buildsDeleted: [],
            buildsNotDeleted: [{ id: `${b.id}-1`, statusCode: 'BUILD_IN_PROGRESS' }],
          };
        }
        this.buildBatches.delete(b.id);
        return {
          statusCode: 'BATCH_DELETED',
          buildsDeleted: [`${b.arn.replace(':build-batch/', ':build/')}-1`],
        };
      }
      case 'StopBuildBatch': {
        const b = this.buildBatches.get(text(input.id));
        if (!b)
          throw new StandInError(400, 'ResourceNotFoundException', `Build batch ${text(input.id)} not found`);
        if (b.status === 'IN_PROGRESS') {
          b.status = 'STOPPED';
          b.ended = Date.now();
        }
        return { buildBatch: this.batchJson(b) };
      }
      default:
        throw new StandInError(400, 'InvalidInputException', `The stand-in does not implement ${op}`);
    }
  }

  private batchJson(b: CodeBuildBatch): Obj {
    const done = b.status !== 'IN_PROGRESS';
    const out: Obj = {
      id: b.id,
      arn: b.arn,
      startTime: seconds(b.started),
      currentPhase: done ? 'SUCCEEDED' : 'IN_PROGRESS',
      buildBatchStatus: b.status,
      projectName: b.project,
      buildBatchNumber: b.number,
      phases: [{ phaseType: 'SUBMITTED', phaseStatus: 'SUCCEEDED', startTime: seconds(b.started) }],
      source: { type: 'NO_SOURCE', buildspec: 'version: 0.2\nbatch:\n  fast-fail: true' },
      environment: {
        type: 'LINUX_CONTAINER',
        image: 'aws/codebuild/standard:7.0',
        computeType: 'BUILD_GENERAL1_SMALL',
        environmentVariables: b.environment,
      },
      buildTimeoutInMinutes: 60,
      complete: done,
      initiator: 'stepwise',
      buildGroups: [
        {
          identifier: 'build1',
          currentBuildSummary: {
            arn: `${b.arn.replace(':build-batch/', ':build/')}-1`,
            requestedOn: seconds(b.started),
            buildStatus: done ? b.status : 'IN_PROGRESS',
          },
        },
      ],
    };
    if (b.ended !== undefined) out.endTime = seconds(b.ended);
    return out;
  }

  // ---- EMR TerminateJobFlows -----------------------------------------------------------------------

  private terminateJobFlows(input: Obj): unknown {
    const ids = Array.isArray(input.JobFlowIds) ? input.JobFlowIds.map(String) : [];
    for (const id of ids) {
      const c = this.standIn.emrClusters.get(id);
      if (!c)
        throw new StandInError(400, 'ValidationException', `Specified job flow ID does not exist: ${id}`);
    }
    for (const id of ids) {
      const c = this.standIn.emrClusters.get(id)!;
      if (c.state.startsWith('TERMINAT')) continue;
      const tag = (k: string) => c.tags.find((t) => t.Key === k)?.Value;
      c.state = 'TERMINATING';
      this.emrTerminations.set(id, {
        pollsLeft: Number(tag('STEPWISE_TERMINATE_POLLS') ?? 1),
        outcome: tag('STEPWISE_TERMINATE_OUTCOME') ?? 'TERMINATED',
      });
    }
    return {};
  }

  // ---- EMR termination protection, instance fleets and groups --------------------------------------

  /**
   * A cluster's instance fleets or groups: those of its RunJobFlow request (`Instances`), each
   * given an id on first use (`if-…`, `ig-…`).
   */
  private emrSets(clusterId: string, kind: 'InstanceFleets' | 'InstanceGroups'): EmrInstanceSet[] {
    const key = `${clusterId}/${kind}`;
    let sets = this.emrInstanceSets.get(key);
    if (sets === undefined) {
      const c = this.standIn.emrClusters.get(clusterId);
      if (!c)
        throw new StandInError(400, 'InvalidRequestException', `Cluster id '${clusterId}' is not valid.`);
      const given = record(c.instances)[kind];
      sets = (Array.isArray(given) ? given : []).map((g, i) => ({
        id: `${kind === 'InstanceFleets' ? 'if' : 'ig'}-${clusterId.slice(2)}${i}`,
        config: record(g),
      }));
      this.emrInstanceSets.set(key, sets);
    }
    return sets;
  }

  private emrInstances(op: string, input: Obj): unknown {
    switch (op) {
      case 'SetTerminationProtection': {
        const ids = Array.isArray(input.JobFlowIds) ? input.JobFlowIds.map(String) : [];
        for (const id of ids) {
          const c = this.standIn.emrClusters.get(id);
          if (!c)
            throw new StandInError(400, 'ValidationException', `Specified job flow ID does not exist: ${id}`);
          c.terminationProtected = input.TerminationProtected === true;
        }
        return {};
      }
      case 'ListInstanceFleets':
        return {
          InstanceFleets: this.emrSets(text(input.ClusterId), 'InstanceFleets').map((f) => ({
            ...f.config,
            Id: f.id,
            Status: { State: 'RUNNING' },
          })),
        };
      case 'ListInstanceGroups':
        return {
          InstanceGroups: this.emrSets(text(input.ClusterId), 'InstanceGroups').map((g) => ({
            Id: g.id,
            Name: g.config.Name,
            InstanceGroupType: g.config.InstanceRole,
            InstanceType: g.config.InstanceType,
            RequestedInstanceCount: g.config.InstanceCount,
            RunningInstanceCount: g.config.InstanceCount,
            Market: g.config.Market ?? 'ON_DEMAND',
            Status: { State: 'RUNNING' },
          })),
        };
      case 'ModifyInstanceFleet': {
        const change = record(input.InstanceFleet);
        const fleet = this.emrSets(text(input.ClusterId), 'InstanceFleets').find(
          (f) => f.id === text(change.InstanceFleetId),
        );
        if (!fleet) {
          throw new StandInError(
            400,
            'InvalidRequestException',
            `Instance fleet '${text(change.InstanceFleetId)}' is not valid.`,
          );
        }
        const { InstanceFleetId: _id, ...rest } = change;
        Object.assign(fleet.config, rest);
        return {};
      }
      case 'ModifyInstanceGroups': {
        const changes = Array.isArray(input.InstanceGroups) ? input.InstanceGroups.map(record) : [];
        const groups = this.emrSets(text(input.ClusterId), 'InstanceGroups');
        for (const change of changes) {
          const group = groups.find((g) => g.id === text(change.InstanceGroupId));
          if (!group) {
            throw new StandInError(
              400,
              'InvalidRequestException',
              `Instance group '${text(change.InstanceGroupId)}' is not valid.`,
            );
          }
          const { InstanceGroupId: _id, ...rest } = change;
          Object.assign(group.config, rest);
        }
        return {};
      }
      default:
        throw new StandInError(400, 'UnknownOperationException', `The stand-in does not implement ${op}`);
    }
  }

  private advanceTermination(id: string): void {
    const t = this.emrTerminations.get(id);
    const c = this.standIn.emrClusters.get(id);
    if (!t || !c || c.state !== 'TERMINATING' || t.pollsLeft-- > 0) return;
    c.state = t.outcome;
    c.ended = Date.now();
    this.emrTerminations.delete(id);
  }
}

/** The EKS operation of a REST request, and its path parameters. */
function eksRoute(method: string, path: string): { op: string; params: Record<string, string> } | undefined {
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  if (parts[0] !== 'clusters') return undefined;
  const params: Record<string, string> = {};
  if (parts[1] !== undefined) params.name = parts[1];
  if (parts[3] !== undefined) params.nodegroupName = parts[3];
  if (parts[2] === 'fargate-profiles') {
    if (parts[3] !== undefined) params.profileName = parts[3];
    if (parts.length === 3 && method === 'POST') return { op: 'CreateFargateProfile', params };
    if (parts.length === 4 && method === 'GET') return { op: 'DescribeFargateProfile', params };
    if (parts.length === 4 && method === 'DELETE') return { op: 'DeleteFargateProfile', params };
    return undefined;
  }
  if (parts.length === 1 && method === 'POST') return { op: 'CreateCluster', params };
  if (parts.length === 2 && method === 'GET') return { op: 'DescribeCluster', params };
  if (parts.length === 2 && method === 'DELETE') return { op: 'DeleteCluster', params };
  if (parts.length === 3 && parts[2] === 'node-groups' && method === 'POST')
    return { op: 'CreateNodegroup', params };
  if (parts.length === 4 && parts[2] === 'node-groups' && method === 'GET')
    return { op: 'DescribeNodegroup', params };
  if (parts.length === 4 && parts[2] === 'node-groups' && method === 'DELETE')
    return { op: 'DeleteNodegroup', params };
  return undefined;
}
