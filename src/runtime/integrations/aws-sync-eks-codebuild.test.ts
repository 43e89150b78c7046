// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * The run-a-job pattern (`.sync`) of EKS clusters and node groups, CodeBuild batch builds and EMR
 * terminateCluster, end to end against the local stand-in with the real SDK clients. EKS is a
 * camelCase API, so these tests also check what the service received and the PascalCase results.
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

const kit = useStandIn((s) => s.createCodeBuildProject('monorepo'));
const { withEngine } = kit;

const ops = (service: string, from: number) =>
  kit.standIn.requests
    .slice(from)
    .filter((q) => q.service === service)
    .map((q) => q.operation);

let names = 0;
const unique = (prefix: string) => `${prefix}-${++names}`;

// ---- EKS ------------------------------------------------------------------------------------------

const createCluster = (name: string, tags: Record<string, string> = {}, extra: JsonObject = {}) =>
  single({
    Type: 'Task',
    Resource: 'arn:aws:states:::eks:createCluster.sync',
    Parameters: {
      Name: name,
      ResourcesVpcConfig: { SubnetIds: ['subnet-053e7c47012341234', 'subnet-027cfea4b12341234'] },
      RoleArn: 'arn:aws:iam::123456789012:role/MyEKSClusterRole',
      Tags: tags,
    },
    ...extra,
  });

const eksTask = (action: string, parameters: JsonObject) =>
  single({ Type: 'Task', Resource: `arn:aws:states:::eks:${action}.sync`, Parameters: parameters });

/** A cluster that is up (for node groups and deletions). */
function activeCluster(tags: Record<string, string> = {}): string {
  const name = unique('active');
  kit.standIn.eks.eksClusters.set(name, {
    name,
    arn: `arn:aws:eks:us-east-1:123456789012:cluster/${name}`,
    request: { roleArn: 'arn:aws:iam::123456789012:role/r', resourcesVpcConfig: { subnetIds: ['subnet-1'] } },
    tags,
    created: Date.now(),
    status: 'ACTIVE',
    pollsLeft: 0,
  });
  return name;
}

/** A node group that is up. */
function activeNodegroup(cluster: string, tags: Record<string, string> = {}): string {
  const name = unique('group');
  kit.standIn.eks.eksNodegroups.set(`${cluster}/${name}`, {
    clusterName: cluster,
    name,
    arn: `arn:aws:eks:us-east-1:123456789012:nodegroup/${cluster}/${name}/x`,
    request: { nodeRole: 'arn:aws:iam::123456789012:role/node', subnets: ['subnet-1'] },
    tags,
    created: Date.now(),
    modified: Date.now(),
    status: 'ACTIVE',
    pollsLeft: 0,
  });
  return name;
}

describe('eks:createCluster.sync', () => {
  it('sends CreateCluster in camelCase, polls DescribeCluster until ACTIVE and returns {Cluster}', async () => {
    await withEngine({}, async (engine) => {
      const name = unique('created');
      const from = kit.standIn.requests.length;
      const r = await ended(
        engine,
        await startOne(engine, createCluster(name, { STEPWISE_POLLS: '2', team: 'x' })),
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.deepEqual(ops('eks', from), [
        'CreateCluster',
        'DescribeCluster',
        'DescribeCluster',
        'DescribeCluster',
      ]);
      // What EKS received: the API's member names; the tags map keeps its keys.
      const sent = kit.standIn.eks.eksClusters.get(name)!.request;
      assert.deepEqual(sent.resourcesVpcConfig, {
        subnetIds: ['subnet-053e7c47012341234', 'subnet-027cfea4b12341234'],
      });
      assert.equal(sent.roleArn, 'arn:aws:iam::123456789012:role/MyEKSClusterRole');
      assert.deepEqual(sent.tags, { STEPWISE_POLLS: '2', team: 'x' });
      const submitted = submittedOf(r);
      assert.equal(o(submitted.Cluster).Status, 'CREATING');
      assert.ok('SdkHttpMetadata' in submitted);
      // The result, as AWS's sample reads it: Cluster.Endpoint, Cluster.CertificateAuthority.Data.
      const cluster = o(o(r.output).Cluster);
      assert.equal(cluster.Name, name);
      assert.equal(cluster.Status, 'ACTIVE');
      assert.match(String(cluster.Endpoint), /^https:\/\/.*\.eks\.amazonaws\.com$/);
      assert.equal(
        Buffer.from(String(o(cluster.CertificateAuthority).Data), 'base64').toString(),
        `certificate of ${name}`,
      );
      assert.deepEqual(cluster.Tags, { STEPWISE_POLLS: '2', team: 'x' });
      assert.ok(typeof cluster.CreatedAt === 'number' && cluster.CreatedAt > 1e12);
      assert.ok(!('SdkHttpMetadata' in o(r.output)));
    });
  });

  it('a cluster that ends FAILED fails the task with its description as cause', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(
        engine,
        await startOne(engine, createCluster(unique('bad'), { STEPWISE_OUTCOME: 'FAILED' })),
      );
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'States.TaskFailed');
      const cluster = o(o(JSON.parse(r.cause ?? '')).Cluster);
      assert.equal(cluster.Status, 'FAILED');
      assert.equal(o((o(cluster.Health).Issues as unknown[])[0]).Code, 'Ec2SubnetNotFound');
    });
  });

  it('a name already taken fails with EKS.ResourceInUseException in the optimized style', async () => {
    await withEngine({}, async (engine) => {
      const name = activeCluster();
      const r = await ended(engine, await startOne(engine, createCluster(name)));
      assert.equal(r.error, 'EKS.ResourceInUseException');
      assert.match(
        r.cause ?? '',
        /^Cluster already exists with name: active-\d+ \(Service: AmazonEKS; Status Code: 409; Error Code: ResourceInUseException; Request ID: [0-9a-f-]+; Proxy: null\)$/,
      );
    });
  });

  it('stopping the execution leaves the cluster being created, as AWS does', async () => {
    await withEngine({}, async (engine) => {
      const name = unique('kept');
      const from = kit.standIn.requests.length;
      const arn = await startOne(engine, createCluster(name, { STEPWISE_POLLS: '100000' }));
      await untilSubmitted(engine, arn);
      await until('polling', () => ops('eks', from).includes('DescribeCluster'));
      await engine.stopExecution({ executionArn: arn });
      assert.equal((await engine.describeExecution(arn)).status, 'ABORTED');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual([...new Set(ops('eks', from))].sort(), ['CreateCluster', 'DescribeCluster']);
      assert.equal(kit.standIn.eks.eksClusters.get(name)?.status, 'CREATING');
    });
  });
});

describe('eks:deleteCluster.sync', () => {
  it('polls DescribeCluster until the cluster is gone and returns DeleteCluster’s answer', async () => {
    await withEngine({}, async (engine) => {
      const name = activeCluster({ STEPWISE_POLLS: '2' });
      const from = kit.standIn.requests.length;
      const r = await ended(engine, await startOne(engine, eksTask('deleteCluster', { Name: name })));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.equal(kit.standIn.eks.eksClusters.has(name), false);
      assert.deepEqual(ops('eks', from), [
        'DeleteCluster',
        'DescribeCluster',
        'DescribeCluster',
        'DescribeCluster',
      ]);
      const out = o(r.output);
      assert.deepEqual(Object.keys(out), ['Cluster']);
      assert.equal(o(out.Cluster).Name, name);
      assert.equal(o(out.Cluster).Status, 'DELETING');
    });
  });

  it('a cluster that goes back to ACTIVE fails the task', async () => {
    await withEngine({}, async (engine) => {
      const name = activeCluster({ STEPWISE_DELETE_OUTCOME: 'ACTIVE' });
      const r = await ended(engine, await startOne(engine, eksTask('deleteCluster', { Name: name })));
      assert.equal(r.error, 'States.TaskFailed');
      assert.equal(o(o(JSON.parse(r.cause ?? '')).Cluster).Status, 'ACTIVE');
      assert.equal(kit.standIn.eks.eksClusters.get(name)?.status, 'ACTIVE');
    });
  });

  it('an unknown cluster fails with EKS.ResourceNotFoundException (the delete call, not the poll)', async () => {
    await withEngine({}, async (engine) => {
      const from = kit.standIn.requests.length;
      const r = await ended(
        engine,
        await startOne(engine, eksTask('deleteCluster', { Name: 'no-such-cluster' })),
      );
      assert.equal(r.error, 'EKS.ResourceNotFoundException');
      assert.match(
        r.cause ?? '',
        /^No cluster found for name: no-such-cluster\. \(Service: AmazonEKS; Status Code: 404;/,
      );
      assert.deepEqual(ops('eks', from), ['DeleteCluster']);
      assert.equal(r.events.filter((e) => e.type === 'TaskSubmitted').length, 0);
    });
  });
});

describe('eks:createNodegroup.sync and eks:deleteNodegroup.sync', () => {
  const createNodegroup = (cluster: string, name: string, tags: Record<string, string>) =>
    eksTask('createNodegroup', {
      ClusterName: cluster,
      NodegroupName: name,
      NodeRole: 'arn:aws:iam::123456789012:role/MyNodeInstanceRole',
      Subnets: ['subnet-09fb51df01234', 'subnet-027cfea4b1234'],
      ScalingConfig: { MinSize: 1, MaxSize: 3, DesiredSize: 2 },
      Labels: { 'app.kubernetes.io/Team': 'Data', Tier: 'batch' },
      Tags: tags,
    });

  it('createNodegroup: polls DescribeNodegroup until ACTIVE and returns {Nodegroup}; label keys kept', async () => {
    await withEngine({}, async (engine) => {
      const cluster = activeCluster();
      const from = kit.standIn.requests.length;
      const r = await ended(
        engine,
        await startOne(engine, createNodegroup(cluster, 'workers', { STEPWISE_POLLS: '1' })),
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.deepEqual(ops('eks', from), ['CreateNodegroup', 'DescribeNodegroup', 'DescribeNodegroup']);
      const sent = kit.standIn.eks.eksNodegroups.get(`${cluster}/workers`)!.request;
      assert.deepEqual(sent.scalingConfig, { minSize: 1, maxSize: 3, desiredSize: 2 });
      assert.deepEqual(sent.labels, { 'app.kubernetes.io/Team': 'Data', Tier: 'batch' });
      const group = o(o(r.output).Nodegroup);
      assert.equal(group.Status, 'ACTIVE');
      assert.equal(group.ClusterName, cluster);
      assert.equal(group.NodegroupName, 'workers');
      assert.deepEqual(group.Labels, { 'app.kubernetes.io/Team': 'Data', Tier: 'batch' });
      assert.deepEqual(group.ScalingConfig, { MinSize: 1, MaxSize: 3, DesiredSize: 2 });
    });
  });

  it('createNodegroup: CREATE_FAILED fails the task with the node group as cause', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(
        engine,
        await startOne(
          engine,
          createNodegroup(activeCluster(), 'broken', { STEPWISE_OUTCOME: 'CREATE_FAILED' }),
        ),
      );
      assert.equal(r.error, 'States.TaskFailed');
      const group = o(o(JSON.parse(r.cause ?? '')).Nodegroup);
      assert.equal(group.Status, 'CREATE_FAILED');
      assert.equal(o((o(group.Health).Issues as unknown[])[0]).Code, 'AsgInstanceLaunchFailures');
    });
  });

  it('deleteNodegroup: polls until the node group is gone and returns DeleteNodegroup’s answer', async () => {
    await withEngine({}, async (engine) => {
      const cluster = activeCluster();
      const group = activeNodegroup(cluster, { STEPWISE_POLLS: '1' });
      const r = await ended(
        engine,
        await startOne(engine, eksTask('deleteNodegroup', { ClusterName: cluster, NodegroupName: group })),
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.equal(kit.standIn.eks.eksNodegroups.has(`${cluster}/${group}`), false);
      assert.equal(o(o(r.output).Nodegroup).Status, 'DELETING');
      assert.equal(o(o(r.output).Nodegroup).NodegroupName, group);
    });
  });

  it('deleteNodegroup: DELETE_FAILED fails the task', async () => {
    await withEngine({}, async (engine) => {
      const cluster = activeCluster();
      const group = activeNodegroup(cluster, { STEPWISE_DELETE_OUTCOME: 'DELETE_FAILED' });
      const r = await ended(
        engine,
        await startOne(engine, eksTask('deleteNodegroup', { ClusterName: cluster, NodegroupName: group })),
      );
      assert.equal(r.error, 'States.TaskFailed');
      assert.equal(o(o(JSON.parse(r.cause ?? '')).Nodegroup).Status, 'DELETE_FAILED');
    });
  });
});

// ---- CodeBuild batch builds -------------------------------------------------------------------------

const buildBatch = (env: Record<string, string>, project = 'monorepo') =>
  single({
    Type: 'Task',
    Resource: 'arn:aws:states:::codebuild:startBuildBatch.sync',
    Parameters: {
      ProjectName: project,
      EnvironmentVariablesOverride: Object.entries(env).map(([Name, Value]) => ({
        Name,
        Value,
        Type: 'PLAINTEXT',
      })),
    },
  });

describe('codebuild:startBuildBatch.sync', () => {
  it('polls BatchGetBuildBatches until SUCCEEDED and returns {BuildBatch}', async () => {
    await withEngine({}, async (engine) => {
      const from = kit.standIn.requests.length;
      const r = await ended(engine, await startOne(engine, buildBatch({ STEPWISE_POLLS: '2' })));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.deepEqual(ops('codebuild', from), [
        'StartBuildBatch',
        'BatchGetBuildBatches',
        'BatchGetBuildBatches',
        'BatchGetBuildBatches',
      ]);
      const submitted = o(submittedOf(r).BuildBatch);
      assert.equal(submitted.BuildBatchStatus, 'IN_PROGRESS');
      const batch = o(o(r.output).BuildBatch);
      assert.equal(batch.Id, submitted.Id);
      assert.equal(batch.BuildBatchStatus, 'SUCCEEDED');
      assert.equal(batch.Complete, true);
      assert.equal(o((batch.BuildGroups as unknown[])[0]).Identifier, 'build1');
      assert.ok(typeof batch.EndTime === 'number' && batch.EndTime > 1e12);
      // What CodeBuild received: camelCase members.
      assert.deepEqual(kit.standIn.eks.buildBatches.get(String(batch.Id))!.environment, [
        { name: 'STEPWISE_POLLS', value: '2', type: 'PLAINTEXT' },
      ]);
    });
  });

  it('a FAILED batch fails the task with {BuildBatch} as cause', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, buildBatch({ STEPWISE_OUTCOME: 'FAILED' })));
      assert.equal(r.error, 'States.TaskFailed');
      assert.equal(o(o(JSON.parse(r.cause ?? '')).BuildBatch).BuildBatchStatus, 'FAILED');
    });
  });

  it('an unknown project fails with CodeBuild.ResourceNotFoundException', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, buildBatch({}, 'no-such-project')));
      assert.equal(r.error, 'CodeBuild.ResourceNotFoundException');
      assert.match(r.cause ?? '', /Project cannot be found: .*\(Service: AWSCodeBuild; Status Code: 400;/);
    });
  });

  it('stopping the execution calls StopBuildBatch', async () => {
    await withEngine({}, async (engine) => {
      const arn = await startOne(engine, buildBatch({ STEPWISE_POLLS: '100000' }));
      const id = String(o((await untilSubmitted(engine, arn)).BuildBatch).Id);
      await engine.stopExecution({ executionArn: arn });
      await until('StopBuildBatch', () => kit.standIn.eks.buildBatches.get(id)?.status === 'STOPPED');
      assert.equal((await engine.describeExecution(arn)).status, 'ABORTED');
    });
  });
});

// ---- EMR terminateCluster ----------------------------------------------------------------------------

/** An EMR cluster that is up. */
function emrCluster(tags: Record<string, string> = {}): string {
  const id = `j-UP${kit.standIn.emrClusters.size}${Date.now() % 100000}`;
  kit.standIn.emrClusters.set(id, {
    id,
    arn: `arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/${id}`,
    name: 'etl',
    releaseLabel: 'emr-7.1.0',
    tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    created: Date.now(),
    state: 'WAITING',
    pollsLeft: 0,
    outcome: 'WAITING',
  });
  return id;
}

const terminateCluster = (clusterId: string) =>
  single({
    Type: 'Task',
    Resource: 'arn:aws:states:::elasticmapreduce:terminateCluster.sync',
    Parameters: { ClusterId: clusterId },
  });

describe('elasticmapreduce:terminateCluster.sync', () => {
  it('sends TerminateJobFlows, polls DescribeCluster until TERMINATED and returns {}', async () => {
    await withEngine({}, async (engine) => {
      const id = emrCluster({ STEPWISE_TERMINATE_POLLS: '2' });
      const from = kit.standIn.requests.length;
      const r = await ended(engine, await startOne(engine, terminateCluster(id)));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.deepEqual(r.output, {});
      assert.equal(submittedOf(r).ClusterId, id);
      assert.deepEqual(ops('emr', from), [
        'TerminateJobFlows',
        'DescribeCluster',
        'DescribeCluster',
        'DescribeCluster',
      ]);
      assert.equal(kit.standIn.emrClusters.get(id)?.state, 'TERMINATED');
    });
  });

  it('a cluster that ends TERMINATED_WITH_ERRORS fails the task with its description', async () => {
    await withEngine({}, async (engine) => {
      const id = emrCluster({ STEPWISE_TERMINATE_OUTCOME: 'TERMINATED_WITH_ERRORS' });
      const r = await ended(engine, await startOne(engine, terminateCluster(id)));
      assert.equal(r.error, 'States.TaskFailed');
      const cluster = o(o(JSON.parse(r.cause ?? '')).Cluster);
      assert.equal(cluster.Id, id);
      assert.equal(o(cluster.Status).State, 'TERMINATED_WITH_ERRORS');
    });
  });

  it('an unknown cluster fails with the service’s error', async () => {
    await withEngine({}, async (engine) => {
      const r = await ended(engine, await startOne(engine, terminateCluster('j-NOSUCHCLUSTER')));
      assert.equal(r.error, 'EMR.AmazonElasticMapReduceException');
      assert.match(
        r.cause ?? '',
        /^Specified job flow ID does not exist: j-NOSUCHCLUSTER \(Service: AmazonElasticMapReduce; Status Code: 400; Error Code: ValidationException;/,
      );
    });
  });
});

// ---- resume ------------------------------------------------------------------------------------------

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
      name: 'startBuildBatch',
      def: () => buildBatch({ STEPWISE_POLLS: '100000' }),
      start: ['codebuild', 'StartBuildBatch'],
      finish: (s) => {
        const batch = kit.standIn.eks.buildBatches.get(String(o(s.BuildBatch).Id))!;
        assert.equal(batch.status, 'IN_PROGRESS');
        batch.pollsLeft = 0;
      },
      check: (out, s) => assert.equal(o(out.BuildBatch).Id, o(s.BuildBatch).Id),
    },
    {
      name: 'deleteNodegroup',
      def: () => {
        const cluster = activeCluster();
        return eksTask('deleteNodegroup', {
          ClusterName: cluster,
          NodegroupName: activeNodegroup(cluster, { STEPWISE_POLLS: '100000' }),
        });
      },
      start: ['eks', 'DeleteNodegroup'],
      finish: (s) => {
        const n = o(s.Nodegroup);
        const group = kit.standIn.eks.eksNodegroups.get(
          `${String(n.ClusterName)}/${String(n.NodegroupName)}`,
        )!;
        assert.equal(group.status, 'DELETING');
        group.pollsLeft = 0;
      },
      check: (out, s) => assert.equal(o(out.Nodegroup).NodegroupName, o(s.Nodegroup).NodegroupName),
    },
  ];
  for (const c of cases) {
    it(`${c.name}: polling resumes from TaskSubmitted and the job is not started again`, () =>
      kit.resumesAfterRestart(c));
  }
});
