// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * Pass-through to AWS, end to end: the durable engine sends tasks with the real AWS SDK clients
 * to a local stand-in that speaks the services' protocols (no AWS account involved).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JsonObject } from '../../language/json.js';
import { Engine, type EngineOptions } from '../engine.js';
import { functionsFromMap } from '../functions.js';
import { AwsStandIn } from '../testing/aws-standins.js';
import {
  awsOptionsFromEnv,
  AwsConfigError,
  AwsPassThrough,
  commandName,
  loadAwsConfig,
  parseAwsConfig,
  sdkErrorName,
  sdkServiceOf,
} from './aws.js';
import { ROLE, details, ended, removeTempDirs, runToEnd, single, tempDir, runInMemory } from './harness.js';

const KEY_ID = 'AKIDSTEPWISETESTKEY1';
const SECRET = 'stepwise-test-SECRET-value-0123456789';
const CREDENTIALS = { accessKeyId: KEY_ID, secretAccessKey: SECRET };

after(removeTempDirs);

let standIn: AwsStandIn;
before(async () => {
  standIn = new AwsStandIn({ account: '123456789012' });
  await standIn.start();
  standIn.createTable('orders', ['id']);
  standIn.createTopic('events');
  standIn.createBucket('docs');
  standIn.putObject('docs', 'hello.txt', 'hello from S3', 'text/plain');
  standIn.addFunction('remote-echo', (event) => ({ echoed: event }));
  standIn.addFunction('remote-fails', () => {
    const e = new Error('remote went wrong');
    e.name = 'RemoteError';
    throw e;
  });
});
after(() => standIn.stop());

async function withEngine(options: Partial<EngineOptions>, fn: (engine: Engine) => Promise<void>) {
  const engine = await Engine.open({
    dataDir: tempDir(),
    waitScale: 0,
    aws: { endpoint: standIn.url, credentials: CREDENTIALS, maxAttempts: 1 },
    ...options,
  });
  try {
    await fn(engine);
  } finally {
    await engine.close();
  }
}

function task(resource: string, parameters: JsonObject, extra: JsonObject = {}): JsonObject {
  return { Type: 'Task', Resource: resource, Parameters: parameters, ...extra };
}

describe('pass-through configuration', () => {
  it('reads a file (JSON or YAML, optionally under "aws") and applies the environment over it', async () => {
    const dir = tempDir();
    const yaml = join(dir, 'aws.yaml');
    writeFileSync(yaml, 'aws:\n  region: eu-west-1\n  endpoints:\n    DynamoDB: http://127.0.0.1:8000\n');
    const fromFile = await loadAwsConfig(yaml);
    assert.deepEqual(fromFile, { region: 'eu-west-1', endpoints: { dynamodb: 'http://127.0.0.1:8000' } });
    const merged = awsOptionsFromEnv(
      {
        STEPWISE_AWS_ENDPOINT_S3: 'http://127.0.0.1:9000',
        STEPWISE_AWS_ENDPOINT_SECRETS_MANAGER: 'http://127.0.0.1:9001',
        STEPWISE_AWS_ENDPOINT_EMR_SERVERLESS: 'http://127.0.0.1:9002',
        STEPWISE_AWS_PROFILE: 'local',
      },
      fromFile,
    );
    assert.deepEqual(merged, {
      region: 'eu-west-1',
      profile: 'local',
      endpoints: {
        dynamodb: 'http://127.0.0.1:8000',
        s3: 'http://127.0.0.1:9000',
        secretsmanager: 'http://127.0.0.1:9001',
        emrserverless: 'http://127.0.0.1:9002',
      },
    });
    // Names with a hyphen (the SDK's `emr-serverless`) find the override either way.
    const pass = new AwsPassThrough(merged, { region: 'eu-west-1' });
    assert.equal(pass.endpointFor('emr-serverless'), 'http://127.0.0.1:9002');
    assert.equal(pass.endpointFor('secretsmanager'), 'http://127.0.0.1:9001');
    // Options given to Engine.open directly are not normalised: any spelling still finds its service.
    const direct = new AwsPassThrough(
      { endpoints: { 'EMR-Serverless': 'http://127.0.0.1:9004' } },
      { region: 'eu-west-1' },
    );
    assert.equal(direct.endpointFor('emr-serverless'), 'http://127.0.0.1:9004');
    assert.equal(direct.endpointFor('dynamodb'), undefined);
    const hyphenated = parseAwsConfig({ endpoints: { 'emr-serverless': 'http://127.0.0.1:9003' } });
    assert.equal(
      new AwsPassThrough(hyphenated, { region: 'eu-west-1' }).endpointFor('emr-serverless'),
      'http://127.0.0.1:9003',
    );
    const json = join(dir, 'aws.json');
    writeFileSync(json, JSON.stringify({ endpoint: 'http://127.0.0.1:4566', maxAttempts: 2 }));
    assert.deepEqual(await loadAwsConfig(json), { endpoint: 'http://127.0.0.1:4566', maxAttempts: 2 });
  });

  it('refuses credentials in the file, unknown keys and bad URLs', () => {
    assert.throws(() => parseAwsConfig({ credentials: { accessKeyId: 'x' } }), /default provider chain/);
    assert.throws(() => parseAwsConfig({ secretAccessKey: 'x' }), AwsConfigError);
    assert.throws(() => parseAwsConfig({ regoin: 'x' }), /unknown key 'regoin'/);
    assert.throws(() => parseAwsConfig({ endpoints: { s3: 'not a url' } }), /not a URL/);
    assert.throws(() => parseAwsConfig({ endpoint: 'ftp://x' }), /http or https/);
    assert.throws(
      () => awsOptionsFromEnv({ STEPWISE_AWS_ENDPOINT_SQS: 'nope' }),
      /STEPWISE_AWS_ENDPOINT_SQS/,
    );
  });
});

describe('names', () => {
  it('maps actions to commands and errors to AWS error names', () => {
    assert.equal(commandName('putItem'), 'PutItemCommand');
    assert.equal(commandName('listObjectsV2'), 'ListObjectsV2Command');
    assert.deepEqual(sdkServiceOf('dynamodb'), { pkg: 'dynamodb', errorPrefix: 'DynamoDb' });
    assert.deepEqual(sdkServiceOf('secretsmanager'), {
      pkg: 'secrets-manager',
      errorPrefix: 'SecretsManager',
    });
    assert.deepEqual(sdkServiceOf('s3'), { pkg: 's3', errorPrefix: 'S3' });
    assert.deepEqual(sdkServiceOf('kinesis'), { pkg: 'kinesis', errorPrefix: 'Kinesis' });
    assert.equal(sdkErrorName('S3', 'NoSuchKey', true), 'S3.NoSuchKeyException');
    assert.equal(
      sdkErrorName('DynamoDb', 'ResourceNotFoundException', true),
      'DynamoDb.ResourceNotFoundException',
    );
    assert.equal(
      sdkErrorName('SecretsManager', 'ValidationException', false),
      'SecretsManager.SecretsManagerException',
    );
  });

  it('names the package to install when a client is missing, and an unknown action', async () => {
    const aws = new AwsPassThrough(
      { endpoint: standIn.url, credentials: CREDENTIALS },
      { region: 'us-east-1' },
    );
    try {
      const missing = await aws.invoke(
        {
          resourceType: 'aws-sdk:kinesisvideo',
          action: 'listStreams',
          resource: 'arn:aws:states:::aws-sdk:kinesisvideo:listStreams',
          parameters: {},
        },
        new AbortController().signal,
      );
      assert.equal(missing.ok, false);
      assert.ok(!missing.ok);
      assert.equal(missing.error, 'States.TaskFailed');
      assert.match(missing.cause ?? '', /npm install @aws-sdk\/client-kinesisvideo/);
      const unknown = await aws.invoke(
        {
          resourceType: 'aws-sdk:dynamodb',
          action: 'frobnicate',
          resource: 'arn:aws:states:::aws-sdk:dynamodb:frobnicate',
          parameters: {},
        },
        new AbortController().signal,
      );
      assert.ok(!unknown.ok);
      assert.match(unknown.cause ?? '', /has no action 'frobnicate'/);
    } finally {
      await aws.close();
    }
  });
});

describe('aws-sdk integrations through the engine', () => {
  it('puts, updates, gets and deletes DynamoDB items, recording the events AWS records', async () => {
    await withEngine({}, async (engine) => {
      const r = await runToEnd(
        engine,
        {
          StartAt: 'Put',
          States: {
            Put: task(
              'arn:aws:states:::aws-sdk:dynamodb:putItem',
              { TableName: 'orders', 'Item.$': '$.item' },
              { ResultPath: '$.put', Next: 'Update' },
            ),
            Update: task(
              'arn:aws:states:::aws-sdk:dynamodb:updateItem',
              {
                TableName: 'orders',
                Key: { id: { S: 'o-1' } },
                UpdateExpression: 'SET #s = :s, qty = qty + :n',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: { ':s': { S: 'shipped' }, ':n': { N: '2' } },
                ReturnValues: 'UPDATED_NEW',
              },
              { ResultPath: '$.update', Next: 'Get' },
            ),
            Get: task(
              'arn:aws:states:::aws-sdk:dynamodb:getItem',
              { TableName: 'orders', Key: { id: { S: 'o-1' } } },
              { ResultPath: '$.get', Next: 'Delete' },
            ),
            Delete: task(
              'arn:aws:states:::aws-sdk:dynamodb:deleteItem',
              { TableName: 'orders', Key: { id: { S: 'o-1' } }, ReturnValues: 'ALL_OLD' },
              { ResultSelector: { 'deleted.$': '$.Attributes.id.S' }, ResultPath: '$.delete', End: true },
            ),
          },
        },
        { item: { id: { S: 'o-1' }, qty: { N: '1' } } },
      );
      assert.equal(r.status, 'SUCCEEDED', `${r.error}: ${r.cause}`);
      assert.deepEqual(r.output, {
        item: { id: { S: 'o-1' }, qty: { N: '1' } },
        put: {},
        update: { Attributes: { status: { S: 'shipped' }, qty: { N: '3' } } },
        get: { Item: { id: { S: 'o-1' }, qty: { N: '3' }, status: { S: 'shipped' } } },
        delete: { deleted: 'o-1' },
      });
      assert.equal(standIn.tables.get('orders')?.items.size, 0);
      const scheduled = r.events.find((e) => e.type === 'TaskScheduled')!;
      assert.deepEqual(details(scheduled), {
        resourceType: 'aws-sdk:dynamodb',
        resource: 'putItem',
        region: 'us-east-1',
        parameters: JSON.stringify({ TableName: 'orders', Item: { id: { S: 'o-1' }, qty: { N: '1' } } }),
      });
      assert.deepEqual(
        r.events
          .filter((e) => e.type.startsWith('Task') && !e.type.startsWith('TaskState'))
          .map((e) => e.type),
        Array.from({ length: 4 }, () => ['TaskScheduled', 'TaskStarted', 'TaskSucceeded']).flat(),
      );
      const succeeded = details(r.events.find((e) => e.type === 'TaskSucceeded')!);
      assert.equal(succeeded.resourceType, 'aws-sdk:dynamodb');
      assert.equal(succeeded.output, '{}');
    });
  });

  it('fails with AWS error names and causes, which Catch can match', async () => {
    await withEngine({}, async (engine) => {
      const missing = await runToEnd(
        engine,
        single(
          task('arn:aws:states:::aws-sdk:dynamodb:putItem', {
            TableName: 'nope-table',
            Item: { id: { S: 'x' } },
          }),
        ),
      );
      assert.equal(missing.status, 'FAILED');
      assert.equal(missing.error, 'DynamoDb.ResourceNotFoundException');
      assert.match(
        missing.cause ?? '',
        /^Requested resource not found \(Service: DynamoDb, Status Code: 400, Request ID: [\w-]+\)$/,
      );
      const failed = details(missing.events.find((e) => e.type === 'TaskFailed')!);
      assert.equal(failed.resourceType, 'aws-sdk:dynamodb');
      assert.equal(failed.resource, 'putItem');

      const caught = await runToEnd(engine, {
        StartAt: 'Get',
        States: {
          Get: task(
            'arn:aws:states:::aws-sdk:s3:getObject',
            { Bucket: 'docs', Key: 'missing.txt' },
            { Catch: [{ ErrorEquals: ['S3.NoSuchKeyException'], Next: 'Handled' }], End: true },
          ),
          Handled: { Type: 'Pass', End: true },
        },
      });
      assert.equal(caught.status, 'SUCCEEDED');
      const out = caught.output as { Error: string; Cause: string };
      assert.equal(out.Error, 'S3.NoSuchKeyException');
      assert.match(
        out.Cause,
        /^The specified key does not exist\. \(Service: S3, Status Code: 404, Request ID: .+, Extended Request ID: .+\)$/,
      );

      const secret = await runToEnd(
        engine,
        single(
          task('arn:aws:states:::aws-sdk:secretsmanager:createSecret', {
            Name: 'not valid!?',
            SecretString: 'x',
          }),
        ),
      );
      // Secrets Manager's ValidationException is not modelled by the SDK: AWS names it after the service.
      assert.equal(secret.error, 'SecretsManager.SecretsManagerException');
    });
  });

  it('returns S3 object bodies as text and dates as ISO-8601', async () => {
    await withEngine({}, async (engine) => {
      const r = await runToEnd(
        engine,
        single(task('arn:aws:states:::aws-sdk:s3:getObject', { Bucket: 'docs', Key: 'hello.txt' })),
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const out = r.output as Record<string, unknown>;
      assert.equal(out.Body, 'hello from S3');
      assert.equal(out.ContentType, 'text/plain');
      assert.equal(out.ContentLength, 13);
      assert.match(String(out.LastModified), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      assert.equal(out.$metadata, undefined);
    });
  });

  it('never puts credentials in the history, yet signs requests with them', async () => {
    await withEngine({}, async (engine) => {
      const before = standIn.requests.length;
      const r = await runToEnd(
        engine,
        single(task('arn:aws:states:::aws-sdk:secretsmanager:listSecrets', {})),
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const text = JSON.stringify(r.events) + JSON.stringify(r.output);
      assert.doesNotMatch(text, new RegExp(SECRET));
      assert.doesNotMatch(text, new RegExp(KEY_ID));
      const sent = standIn.requests.slice(before).find((q) => q.service === 'secretsmanager');
      assert.match(String(sent?.headers.authorization), new RegExp(`Credential=${KEY_ID}/`));
    });
  });
});

describe('optimized integrations through the engine', () => {
  it('DynamoDB: the result carries SdkHttpMetadata; errors use the DynamoDB.* names', async () => {
    await withEngine({}, async (engine) => {
      const r = await runToEnd(engine, {
        StartAt: 'Put',
        States: {
          Put: task(
            'arn:aws:states:::dynamodb:putItem',
            { TableName: 'orders', Item: { id: { S: 'o-2' } } },
            { ResultPath: '$.put', Next: 'PutAgain' },
          ),
          PutAgain: task(
            'arn:aws:states:::dynamodb:putItem',
            {
              TableName: 'orders',
              Item: { id: { S: 'o-2' } },
              ConditionExpression: 'attribute_not_exists(id)',
            },
            { End: true },
          ),
        },
      });
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'DynamoDB.ConditionalCheckFailedException');
      assert.match(
        r.cause ?? '',
        /^The conditional request failed \(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ConditionalCheckFailedException; Request ID: [\w-]+; Proxy: null\)$/,
      );
      const put = JSON.parse(details(r.events.find((e) => e.type === 'TaskSucceeded')!).output as string) as {
        SdkHttpMetadata: { HttpStatusCode: number; HttpHeaders: Record<string, string> };
        SdkResponseMetadata: { RequestId: string };
      };
      assert.equal(put.SdkHttpMetadata.HttpStatusCode, 200);
      assert.equal(put.SdkHttpMetadata.HttpHeaders['Content-Type'], 'application/x-amz-json-1.0');
      assert.equal(put.SdkResponseMetadata.RequestId, put.SdkHttpMetadata.HttpHeaders['x-amzn-RequestId']);

      const invalid = await runToEnd(
        engine,
        single(task('arn:aws:states:::dynamodb:getItem', { TableName: '/bad', Key: { id: { S: 'x' } } })),
      );
      assert.equal(invalid.error, 'DynamoDB.AmazonDynamoDBException');
      assert.match(invalid.cause ?? '', /Error Code: ValidationException/);
    });
  });

  it('SNS publish sends JSON messages as text and answers with the MessageId', async () => {
    await withEngine({}, async (engine) => {
      const topic = 'arn:aws:sns:us-east-1:123456789012:events';
      const r = await runToEnd(
        engine,
        single(task('arn:aws:states:::sns:publish', { TopicArn: topic, 'Message.$': '$' })),
        { hello: 'world' },
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const out = r.output as Record<string, unknown>;
      assert.match(String(out.MessageId), /^[0-9a-f-]{36}$/);
      assert.ok(out.SdkHttpMetadata);
      assert.equal(standIn.topics.get(topic)?.messages.at(-1)?.Message, '{"hello":"world"}');
      const missing = await runToEnd(
        engine,
        single(task('arn:aws:states:::sns:publish', { TopicArn: `${topic}-none`, Message: 'x' })),
      );
      assert.equal(missing.error, 'SNS.NotFoundException');
      assert.match(missing.cause ?? '', /\(Service: AmazonSNS; Status Code: 404; Error Code: NotFound;/);
    });
  });

  it('Lambda invoke: local functions keep priority; others go to AWS Lambda', async () => {
    const functions = functionsFromMap({ local: (event) => ({ local: event }) });
    await withEngine({ functions }, async (engine) => {
      const local = await runToEnd(
        engine,
        single(task('arn:aws:states:::lambda:invoke', { FunctionName: 'local', Payload: { a: 1 } })),
      );
      assert.deepEqual((local.output as { Payload: unknown }).Payload, { local: { a: 1 } });
      assert.equal(
        standIn.requests.some((q) => q.service === 'lambda'),
        false,
      );
      const remote = await runToEnd(
        engine,
        single(task('arn:aws:states:::lambda:invoke', { FunctionName: 'remote-echo', Payload: { a: 2 } })),
      );
      assert.equal(remote.status, 'SUCCEEDED', remote.cause);
      const out = remote.output as Record<string, unknown>;
      assert.deepEqual(out.Payload, { echoed: { a: 2 } });
      assert.equal(out.StatusCode, 200);
      assert.equal(out.ExecutedVersion, '$LATEST');
      assert.ok(out.SdkHttpMetadata);
      const fails = await runToEnd(
        engine,
        single(task('arn:aws:states:::lambda:invoke', { FunctionName: 'remote-fails', Payload: {} })),
      );
      assert.equal(fails.error, 'RemoteError');
      assert.deepEqual(JSON.parse(fails.cause ?? ''), {
        errorMessage: 'remote went wrong',
        errorType: 'RemoteError',
        stackTrace: [],
      });
      const none = await runToEnd(
        engine,
        single(task('arn:aws:states:::lambda:invoke', { FunctionName: 'nobody' })),
      );
      assert.equal(none.error, 'Lambda.ResourceNotFoundException');
      assert.match(
        none.cause ?? '',
        /^Function not found: .*\(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException;/,
      );
    });
  });
});

describe('the in-memory runtime', () => {
  it('passes tasks through too (runLocalExecution with a configured dispatcher)', async () => {
    const state = await runInMemory(single(task('arn:aws:states:::aws-sdk:secretsmanager:listSecrets', {})), {
      aws: { endpoint: standIn.url, credentials: CREDENTIALS, maxAttempts: 1 },
    });
    assert.equal(state.status, 'SUCCEEDED');
    assert.deepEqual(state.output, { SecretList: [] });
  });
});

describe('callbacks and configuration', () => {
  it('.waitForTaskToken: the request goes out, TaskSubmitted is recorded, the token ends the task', async () => {
    await withEngine({}, async (engine) => {
      const topic = 'arn:aws:sns:us-east-1:123456789012:events';
      const { stateMachineArn } = await engine.createStateMachine({
        name: 'approval',
        roleArn: ROLE,
        definition: JSON.stringify(
          single(
            task('arn:aws:states:::sns:publish.waitForTaskToken', {
              TopicArn: topic,
              Message: { 'token.$': '$$.Task.Token', 'order.$': '$.order' },
            }),
          ),
        ),
      });
      const count = standIn.topics.get(topic)!.messages.length;
      const { executionArn } = await engine.startExecution({ stateMachineArn, input: '{"order":"o-9"}' });
      const deadline = Date.now() + 10_000;
      while (standIn.topics.get(topic)!.messages.length === count) {
        if (Date.now() > deadline) throw new Error('no message published');
        await new Promise((r) => setTimeout(r, 10));
      }
      const message = JSON.parse(standIn.topics.get(topic)!.messages.at(-1)!.Message!) as {
        token: string;
        order: string;
      };
      assert.equal(message.order, 'o-9');
      // The task waits for its token after the request went out.
      for (let i = 0; i < 200; i++) {
        const page = await engine.getExecutionHistory({ executionArn, maxResults: 1000 });
        if (page.items.some((e) => e.type === 'TaskSubmitted')) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await engine.sendTaskSuccess({ taskToken: message.token, output: '{"approved":true}' });
      const r = await ended(engine, executionArn);
      assert.equal(r.status, 'SUCCEEDED');
      assert.deepEqual(r.output, { approved: true });
      const types = r.events.map((e) => e.type);
      assert.deepEqual(types.slice(2, 6), ['TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded']);
      const submitted = details(r.events[4]!);
      assert.equal(submitted.resourceType, 'sns');
      assert.equal(submitted.resource, 'publish.waitForTaskToken');
      assert.match(String(submitted.output), /"MessageId"/);
    });
  });

  it('without configuration a pass-through task fails, saying pass-through is not configured', async () => {
    const engine = await Engine.open({ dataDir: tempDir(), waitScale: 0 });
    try {
      for (const resource of [
        'arn:aws:states:::aws-sdk:dynamodb:getItem',
        'arn:aws:states:::dynamodb:getItem',
        'arn:aws:states:::sns:publish.waitForTaskToken',
      ]) {
        const r = await runToEnd(
          engine,
          single(task(resource, { TableName: 'orders', Key: { id: { S: 'x' } } })),
        );
        assert.equal(r.status, 'FAILED');
        assert.equal(r.error, 'States.TaskFailed');
        assert.match(r.cause ?? '', /pass-through to AWS, which is not configured/);
      }
    } finally {
      await engine.close();
    }
  });
});
