// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * The request-response form (no `.sync`, no `.waitForTaskToken`) of the optimized EMR, EKS,
 * CodeBuild and Athena actions, end to end against the local stand-in with the real SDK clients.
 * EMR's actions are Step Functions' wrappers of its API, so these tests also check what EMR
 * received (RunJobFlow for createCluster, the list call before a `…ByName` modify call).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JsonObject } from '../../language/json.js';
import { Engine } from '../engine.js';
import { AwsStandIn } from '../testing/aws-standins.js';
import { ended, removeTempDirs, single, startOne, tempDir, type Ended } from './harness.js';

const CREDENTIALS = { accessKeyId: 'AKIDSTEPWISETESTKEY1', secretAccessKey: 'stepwise-test-secret' };

after(removeTempDirs);

let standIn: AwsStandIn;
let engine: Engine;
before(async () => {
  standIn = new AwsStandIn({ account: '123456789012' });
  await standIn.start();
  engine = await Engine.open({
    dataDir: tempDir(),
    waitScale: 0,
    aws: { endpoint: standIn.url, credentials: CREDENTIALS, maxAttempts: 1, pollIntervalSeconds: 0.01 },
  });
});
after(async () => {
  await engine.close();
  await standIn.stop();
});

type Obj = Record<string, unknown>;
const o = (x: unknown): Obj => {
  assert.ok(typeof x === 'object' && x !== null && !Array.isArray(x), `not an object: ${JSON.stringify(x)}`);
  return x as Obj;
};

/** Runs one Task state of `resource` with these parameters. */
async function task(resource: string, parameters: JsonObject): Promise<Ended> {
  const arn = await startOne(engine, single({ Type: 'Task', Resource: resource, Parameters: parameters }));
  return ended(engine, arn);
}

/** The output of a task that must succeed, with its HTTP metadata checked and removed. */
async function succeeds(resource: string, parameters: JsonObject): Promise<Obj> {
  const r = await task(resource, parameters);
  assert.equal(r.status, 'SUCCEEDED', `${r.error}: ${r.cause}`);
  const { SdkHttpMetadata, SdkResponseMetadata, ...rest } = o(r.output);
  assert.equal(o(SdkHttpMetadata).HttpStatusCode, 200);
  assert.equal(typeof o(SdkResponseMetadata).RequestId, 'string');
  return rest;
}

const emr = (action: string) => `arn:aws:states:::elasticmapreduce:${action}`;

const clusterRequest = (name: string, instances: JsonObject): JsonObject => ({
  Name: name,
  ReleaseLabel: 'emr-7.1.0',
  ServiceRole: 'EMR_DefaultRole',
  JobFlowRole: 'EMR_EC2_DefaultRole',
  Instances: { KeepJobFlowAliveWhenNoSteps: true, ...instances },
});

const GROUPS = {
  InstanceGroups: [
    { Name: 'Primary', InstanceRole: 'MASTER', InstanceCount: 1, InstanceType: 'm5.xlarge' },
    { Name: 'MyCoreGroup', InstanceRole: 'CORE', InstanceCount: 2, InstanceType: 'm5.xlarge' },
  ],
};

async function createCluster(name: string, instances: JsonObject = GROUPS): Promise<string> {
  const out = await succeeds(emr('createCluster'), clusterRequest(name, instances));
  assert.equal(typeof out.ClusterId, 'string');
  return String(out.ClusterId);
}

describe('elasticmapreduce request-response', () => {
  it('createCluster sends RunJobFlow and answers only {ClusterId}, without waiting', async () => {
    const runs = standIn.count('emr', 'RunJobFlow');
    const describes = standIn.count('emr', 'DescribeCluster');
    const out = await succeeds(emr('createCluster'), clusterRequest('rr-create', GROUPS));
    assert.deepEqual(Object.keys(out), ['ClusterId']);
    const cluster = standIn.emrClusters.get(String(out.ClusterId));
    assert.ok(cluster, 'the cluster RunJobFlow made');
    assert.equal(cluster.name, 'rr-create');
    assert.equal(cluster.state, 'STARTING');
    assert.equal(standIn.count('emr', 'RunJobFlow'), runs + 1);
    assert.equal(standIn.count('emr', 'DescribeCluster'), describes, 'request-response does not poll');
  });

  it('createCluster refused by EMR fails with EMR.<error> in the optimized style', async () => {
    const { Instances: _none, ...noInstances } = clusterRequest('rr-bad', {});
    const r = await task(emr('createCluster'), noInstances);
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'EMR.AmazonElasticMapReduceException');
    assert.match(
      r.cause ?? '',
      /Service: AmazonElasticMapReduce; Status Code: 400; Error Code: ValidationException/,
    );
  });

  it('addStep sends AddJobFlowSteps and answers {StepId}; cancelStep sends CancelSteps and answers {CancelStepsInfo}', async () => {
    const clusterId = await createCluster('rr-steps');
    const added = await succeeds(emr('addStep'), {
      ClusterId: clusterId,
      Step: {
        Name: 'etl',
        ActionOnFailure: 'CONTINUE',
        HadoopJarStep: { Jar: 'command-runner.jar', Args: ['true'] },
      },
    });
    assert.deepEqual(Object.keys(added), ['StepId']);
    const step = standIn.emrSteps.get(String(added.StepId));
    assert.ok(step);
    assert.equal(step.clusterId, clusterId);
    assert.equal(step.name, 'etl');
    assert.equal(step.state, 'PENDING', 'request-response does not wait for the step');

    const cancelled = await succeeds(emr('cancelStep'), {
      ClusterId: clusterId,
      StepId: added.StepId as string,
    });
    assert.deepEqual(cancelled, {
      CancelStepsInfo: { StepId: added.StepId, Status: 'SUBMITTED', Reason: '' },
    });
    assert.equal(step.state, 'CANCELLED');
  });

  it('addStep on an unknown cluster fails with EMR.InvalidRequestException', async () => {
    const r = await task(emr('addStep'), {
      ClusterId: 'j-NOSUCHCLUSTER',
      Step: { Name: 'x', HadoopJarStep: { Jar: 'command-runner.jar' } },
    });
    assert.equal(r.error, 'EMR.InvalidRequestException');
    assert.match(r.cause ?? '', /j-NOSUCHCLUSTER/);
  });

  it('setClusterTerminationProtection sends SetTerminationProtection with JobFlowIds; terminateCluster sends TerminateJobFlows', async () => {
    const clusterId = await createCluster('rr-protect');
    const calls = standIn.count('emr', 'SetTerminationProtection');
    assert.deepEqual(
      await succeeds(emr('setClusterTerminationProtection'), {
        ClusterId: clusterId,
        TerminationProtected: true,
      }),
      {},
    );
    assert.equal(standIn.count('emr', 'SetTerminationProtection'), calls + 1);
    assert.equal(standIn.emrClusters.get(clusterId)?.terminationProtected, true);

    const describes = standIn.count('emr', 'DescribeCluster');
    assert.deepEqual(await succeeds(emr('terminateCluster'), { ClusterId: clusterId }), {});
    assert.equal(standIn.emrClusters.get(clusterId)?.state, 'TERMINATING');
    assert.equal(standIn.count('emr', 'DescribeCluster'), describes, 'request-response does not wait');
  });

  it('setClusterTerminationProtection of an unknown cluster fails with EMR.<error>', async () => {
    const r = await task(emr('setClusterTerminationProtection'), {
      ClusterId: 'j-NOSUCHCLUSTER',
      TerminationProtected: true,
    });
    assert.equal(r.status, 'FAILED');
    assert.match(r.error ?? '', /^EMR\./);
    assert.match(r.cause ?? '', /Specified job flow ID does not exist: j-NOSUCHCLUSTER/);
  });

  it('modifyInstanceGroupByName looks the group up with ListInstanceGroups, then modifies that group only', async () => {
    const clusterId = await createCluster('rr-groups');
    const lists = standIn.count('emr', 'ListInstanceGroups');
    const modifies = standIn.count('emr', 'ModifyInstanceGroups');
    const out = await succeeds(emr('modifyInstanceGroupByName'), {
      ClusterId: clusterId,
      InstanceGroupName: 'MyCoreGroup',
      InstanceGroup: { InstanceCount: 8 },
    });
    assert.deepEqual(out, {});
    assert.equal(standIn.count('emr', 'ListInstanceGroups'), lists + 1);
    assert.equal(standIn.count('emr', 'ModifyInstanceGroups'), modifies + 1);
    const groups = standIn.eks.emrInstanceSets.get(`${clusterId}/InstanceGroups`) ?? [];
    assert.deepEqual(
      groups.map((g) => [g.config.Name, g.config.InstanceCount]),
      [
        ['Primary', 1],
        ['MyCoreGroup', 8],
      ],
    );
  });

  it('modifyInstanceFleetByName looks the fleet up with ListInstanceFleets, then modifies it by its id', async () => {
    const clusterId = await createCluster('rr-fleets', {
      InstanceFleets: [
        { Name: 'MASTER', InstanceFleetType: 'MASTER', TargetOnDemandCapacity: 1 },
        { Name: 'MyCoreFleet', InstanceFleetType: 'CORE', TargetOnDemandCapacity: 1 },
      ],
    });
    const lists = standIn.count('emr', 'ListInstanceFleets');
    const out = await succeeds(emr('modifyInstanceFleetByName'), {
      ClusterId: clusterId,
      InstanceFleetName: 'MyCoreFleet',
      InstanceFleet: { TargetOnDemandCapacity: 8, TargetSpotCapacity: 0 },
    });
    assert.deepEqual(out, {});
    assert.equal(standIn.count('emr', 'ListInstanceFleets'), lists + 1);
    const fleets = standIn.eks.emrInstanceSets.get(`${clusterId}/InstanceFleets`) ?? [];
    assert.deepEqual(
      fleets.map((f) => [f.config.Name, f.config.TargetOnDemandCapacity, f.config.TargetSpotCapacity]),
      [
        ['MASTER', 1, undefined],
        ['MyCoreFleet', 8, 0],
      ],
    );
  });

  it('a name no group has fails with States.TaskFailed and modifies nothing', async () => {
    const clusterId = await createCluster('rr-noname');
    const modifies = standIn.count('emr', 'ModifyInstanceGroups');
    const r = await task(emr('modifyInstanceGroupByName'), {
      ClusterId: clusterId,
      InstanceGroupName: 'NoSuchGroup',
      InstanceGroup: { InstanceCount: 3 },
    });
    assert.equal(r.error, 'States.TaskFailed');
    assert.match(r.cause ?? '', /no instance group named "NoSuchGroup"/);
    assert.equal(standIn.count('emr', 'ModifyInstanceGroups'), modifies);
  });
});

const eks = (action: string) => `arn:aws:states:::eks:${action}`;

describe('eks request-response', () => {
  it('creates and deletes a cluster, a node group and a Fargate profile, answering as the API without waiting', async () => {
    const created = await succeeds(eks('createCluster'), {
      Name: 'rr-eks',
      RoleArn: 'arn:aws:iam::123456789012:role/eks',
      ResourcesVpcConfig: { SubnetIds: ['subnet-1'] },
      Tags: { team: 'data' },
    });
    const cluster = o(created.Cluster);
    assert.equal(cluster.Name, 'rr-eks');
    assert.equal(cluster.Status, 'CREATING');
    assert.deepEqual(cluster.Tags, { team: 'data' });
    assert.equal(standIn.count('eks', 'DescribeCluster'), 0, 'request-response does not poll');
    // The stand-in's cluster is up at its next description; the node group is made on it.
    standIn.eks.eksClusters.get('rr-eks')!.status = 'ACTIVE';

    const group = o(
      (
        await succeeds(eks('createNodegroup'), {
          ClusterName: 'rr-eks',
          NodegroupName: 'workers',
          NodeRole: 'arn:aws:iam::123456789012:role/node',
          Subnets: ['subnet-1'],
          Labels: { 'kubernetes.io/role': 'worker' },
        })
      ).Nodegroup,
    );
    assert.equal(group.NodegroupName, 'workers');
    assert.equal(group.Status, 'CREATING');
    assert.deepEqual(group.Labels, { 'kubernetes.io/role': 'worker' }, 'map keys kept');

    const profile = o(
      (
        await succeeds(eks('createFargateProfile'), {
          ClusterName: 'rr-eks',
          FargateProfileName: 'fp',
          PodExecutionRoleArn: 'arn:aws:iam::123456789012:role/pods',
          Selectors: [{ Namespace: 'jobs' }],
        })
      ).FargateProfile,
    );
    assert.equal(profile.Status, 'CREATING');

    const deletedProfile = await succeeds(eks('deleteFargateProfile'), {
      ClusterName: 'rr-eks',
      FargateProfileName: 'fp',
    });
    assert.equal(o(deletedProfile.FargateProfile).Status, 'DELETING');
    const deletedGroup = await succeeds(eks('deleteNodegroup'), {
      ClusterName: 'rr-eks',
      NodegroupName: 'workers',
    });
    assert.equal(o(deletedGroup.Nodegroup).Status, 'DELETING');
    standIn.eks.eksNodegroups.delete('rr-eks/workers');
    const deleted = await succeeds(eks('deleteCluster'), { Name: 'rr-eks' });
    assert.equal(o(deleted.Cluster).Status, 'DELETING');
    assert.equal(standIn.count('eks', 'DescribeNodegroup'), 0);
    assert.equal(standIn.count('eks', 'DescribeFargateProfile'), 0);
  });

  it('a name already taken fails with EKS.ResourceInUseException', async () => {
    const params = {
      Name: 'rr-eks-twice',
      RoleArn: 'arn:aws:iam::123456789012:role/eks',
      ResourcesVpcConfig: { SubnetIds: ['subnet-1'] },
    };
    await succeeds(eks('createCluster'), params);
    const r = await task(eks('createCluster'), params);
    assert.equal(r.error, 'EKS.ResourceInUseException');
    assert.match(r.cause ?? '', /Service: AmazonEKS; Status Code: 409/);
  });

  it('deleting an unknown node group fails with EKS.ResourceNotFoundException', async () => {
    const r = await task(eks('deleteNodegroup'), { ClusterName: 'rr-eks-twice', NodegroupName: 'none' });
    assert.equal(r.error, 'EKS.ResourceNotFoundException');
  });
});

const codebuild = (action: string) => `arn:aws:states:::codebuild:${action}`;

describe('codebuild request-response', () => {
  before(() => standIn.createCodeBuildProject('rr-project'));

  it('stopBuild and batchDeleteBuilds answer as the API, PascalCase', async () => {
    const started = o((await succeeds(codebuild('startBuild'), { ProjectName: 'rr-project' })).Build);
    const id = String(started.Id);
    const stopped = o((await succeeds(codebuild('stopBuild'), { Id: id })).Build);
    assert.equal(stopped.BuildStatus, 'STOPPED');
    const deleted = await succeeds(codebuild('batchDeleteBuilds'), { Ids: [id, 'rr-project:none'] });
    assert.deepEqual(deleted.BuildsDeleted, [started.Arn]);
    assert.deepEqual(deleted.BuildsNotDeleted, [{ Id: 'rr-project:none', StatusCode: 'BUILD_NOT_FOUND' }]);
    assert.equal(standIn.count('codebuild', 'BatchDeleteBuilds'), 1);
  });

  it('batchGetReports answers the reports and those not found', async () => {
    const arn = 'arn:aws:codebuild:us-east-1:123456789012:report/rr-group:1';
    standIn.codeBuildReports.set(arn, { arn, type: 'TEST', status: 'SUCCEEDED', name: 'rr-group' });
    const out = await succeeds(codebuild('batchGetReports'), { ReportArns: [arn, `${arn}0`] });
    assert.deepEqual(out.Reports, [{ Arn: arn, Type: 'TEST', Status: 'SUCCEEDED', Name: 'rr-group' }]);
    assert.deepEqual(out.ReportsNotFound, [`${arn}0`]);
  });

  it('startBuildBatch, stopBuildBatch, retryBuildBatch and deleteBuildBatch without waiting', async () => {
    const polls = standIn.count('codebuild', 'BatchGetBuildBatches');
    const batch = o((await succeeds(codebuild('startBuildBatch'), { ProjectName: 'rr-project' })).BuildBatch);
    assert.equal(batch.BuildBatchStatus, 'IN_PROGRESS');
    const stopped = o((await succeeds(codebuild('stopBuildBatch'), { Id: String(batch.Id) })).BuildBatch);
    assert.equal(stopped.BuildBatchStatus, 'STOPPED');
    const retried = o((await succeeds(codebuild('retryBuildBatch'), { Id: String(batch.Id) })).BuildBatch);
    assert.notEqual(retried.Id, batch.Id);
    assert.equal(retried.BuildBatchStatus, 'IN_PROGRESS');
    const deleted = await succeeds(codebuild('deleteBuildBatch'), { Id: String(batch.Id) });
    assert.equal(deleted.StatusCode, 'BATCH_DELETED');
    assert.equal(standIn.count('codebuild', 'BatchGetBuildBatches'), polls, 'request-response does not poll');
  });

  it('an unknown build fails with CodeBuild.ResourceNotFoundException', async () => {
    const r = await task(codebuild('stopBuild'), { Id: 'rr-project:nope' });
    assert.equal(r.error, 'CodeBuild.ResourceNotFoundException');
    assert.match(r.cause ?? '', /Service: AWSCodeBuild; Status Code: 400/);
  });
});

const athena = (action: string) => `arn:aws:states:::athena:${action}`;

describe('athena request-response', () => {
  it('getQueryExecution, getQueryResults and stopQueryExecution answer as the API', async () => {
    const { QueryExecutionId: id } = await succeeds(athena('startQueryExecution'), {
      QueryString: 'SELECT 1 -- polls: 0',
    });
    const described = o(
      (await succeeds(athena('getQueryExecution'), { QueryExecutionId: String(id) })).QueryExecution,
    );
    assert.equal(o(described.Status).State, 'SUCCEEDED');
    const results = await succeeds(athena('getQueryResults'), { QueryExecutionId: String(id) });
    assert.deepEqual(o(results.ResultSet).Rows, [
      { Data: [{ VarCharValue: 'query' }] },
      { Data: [{ VarCharValue: 'SELECT 1 -- polls: 0' }] },
    ]);

    const { QueryExecutionId: running } = await succeeds(athena('startQueryExecution'), {
      QueryString: 'SELECT 2 -- polls: 5',
    });
    assert.deepEqual(await succeeds(athena('stopQueryExecution'), { QueryExecutionId: String(running) }), {});
    const after = o(
      (await succeeds(athena('getQueryExecution'), { QueryExecutionId: String(running) })).QueryExecution,
    );
    assert.equal(o(after.Status).State, 'CANCELLED');
  });

  it('results of a query that has not finished fail with Athena.InvalidRequestException', async () => {
    const { QueryExecutionId: id } = await succeeds(athena('startQueryExecution'), {
      QueryString: 'SELECT 3 -- polls: 5',
    });
    const r = await task(athena('getQueryResults'), { QueryExecutionId: String(id) });
    assert.equal(r.error, 'Athena.InvalidRequestException');
    assert.match(r.cause ?? '', /Query has not yet finished/);
  });
});

describe('sagemaker hosting request-response', () => {
  const sm = (action: string) => `arn:aws:states:::sagemaker:${action}`;

  it('createModel, createEndpointConfig, createEndpoint, updateEndpoint answer their ARNs', async () => {
    const model = await succeeds(sm('createModel'), {
      ModelName: 'Churn-Model',
      ExecutionRoleArn: 'arn:aws:iam::123456789012:role/SageMakerRole',
      PrimaryContainer: { Image: 'xgboost:1', ModelDataUrl: 's3://models/churn/model.tar.gz' },
    });
    assert.deepEqual(model, { ModelArn: 'arn:aws:sagemaker:us-east-1:123456789012:model/churn-model' });
    const config = await succeeds(sm('createEndpointConfig'), {
      EndpointConfigName: 'churn-config',
      ProductionVariants: [
        { VariantName: 'v1', ModelName: 'Churn-Model', InitialInstanceCount: 1, InstanceType: 'ml.m5.large' },
      ],
    });
    assert.match(String(config.EndpointConfigArn), /:endpoint-config\/churn-config$/);
    const endpoint = await succeeds(sm('createEndpoint'), {
      EndpointName: 'churn',
      EndpointConfigName: 'churn-config',
    });
    assert.match(String(endpoint.EndpointArn), /:endpoint\/churn$/);
    assert.deepEqual(
      await succeeds(sm('updateEndpoint'), { EndpointName: 'churn', EndpointConfigName: 'churn-config' }),
      endpoint,
    );
    // What SageMaker received: the state's parameters as written.
    const sent = standIn.sageMakerEndpointConfigs.get('churn-config');
    assert.deepEqual(o(sent).ProductionVariants, [
      { VariantName: 'v1', ModelName: 'Churn-Model', InitialInstanceCount: 1, InstanceType: 'ml.m5.large' },
    ]);
  });

  it('an endpoint on an unknown configuration fails (ValidationException, unmodelled in the SDK)', async () => {
    const r = await task(sm('createEndpoint'), { EndpointName: 'orphan', EndpointConfigName: 'nope' });
    assert.equal(r.status, 'FAILED');
    // SageMaker's model has no ValidationException: the optimized integration's generic name.
    assert.equal(r.error, 'SageMaker.AmazonSageMakerException');
    assert.match(r.cause ?? '', /^Could not find endpoint configuration .*Error Code: ValidationException/);
  });
});
