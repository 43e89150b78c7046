// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * `arn:aws:states:::bedrock:invokeModel` end to end: the real bedrock-runtime and S3 SDK clients
 * against the local stand-in, which echoes the prompt as a model would answer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../language/json.js';
import { details, o, runToEnd, single, useStandIn, withEngine, type Obj } from './harness.js';

const MODEL = 'amazon.titan-text-express-v1';

const kit = useStandIn((s) => {
  s.createBucket('prompts');
  s.createBucket('answers');
});
const aws = kit.awsOptions;

const invoke = (parameters: JsonObject, extra: JsonObject = {}) =>
  single({
    Type: 'Task',
    Resource: 'arn:aws:states:::bedrock:invokeModel',
    Parameters: parameters,
    ...extra,
  });

describe('bedrock:invokeModel', () => {
  it('sends the Body as the request body and returns {Body: <the parsed answer>, ContentType}', async () => {
    await withEngine({ aws: aws() }, async (engine) => {
      const from = kit.standIn.media.invocations.length;
      const r = await runToEnd(
        engine,
        invoke({
          ModelId: MODEL,
          Body: { 'inputText.$': '$.prompt', textGenerationConfig: { maxTokenCount: 20 } },
          Trace: 'ENABLED',
        }),
        { prompt: 'five first names' },
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      // What the model received: the Body's JSON text, with the API's headers.
      const calls = kit.standIn.media.invocations.slice(from);
      assert.equal(calls.length, 1);
      assert.equal(calls[0]!.modelId, MODEL);
      assert.deepEqual(JSON.parse(calls[0]!.body), {
        inputText: 'five first names',
        textGenerationConfig: { maxTokenCount: 20 },
      });
      assert.equal(calls[0]!.headers['content-type'], 'application/json');
      assert.equal(calls[0]!.headers.accept, 'application/json');
      assert.equal(calls[0]!.headers['x-amzn-bedrock-trace'], 'ENABLED');
      const out = o(r.output);
      assert.deepEqual(Object.keys(out).sort(), ['Body', 'ContentType']);
      assert.equal(out.ContentType, 'application/json');
      const body = o(out.Body);
      assert.equal(body.model, MODEL);
      assert.deepEqual(body.results, [
        { tokenCount: 22, outputText: 'echo: five first names', completionReason: 'FINISH' },
      ]);
      // The history names the resource as AWS does.
      const scheduled = r.events.find((e) => e.type === 'TaskScheduled')!;
      assert.equal(details(scheduled).resourceType, 'bedrock');
      assert.equal(details(scheduled).resource, 'invokeModel');
      const succeeded = r.events.find((e) => e.type === 'TaskSucceeded')!;
      assert.equal(details(succeeded).resourceType, 'bedrock');
      assert.deepEqual(JSON.parse(String(details(succeeded).output)), out);
    });
  });

  it('accepts a model ARN and a messages body', async () => {
    await withEngine({ aws: aws() }, async (engine) => {
      const r = await runToEnd(
        engine,
        invoke({
          ModelId: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0',
          Body: {
            anthropic_version: 'bedrock-2023-05-31',
            max_tokens: 100,
            messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
          },
        }),
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const body = o(o(r.output).Body);
      assert.equal(o((body.results as unknown[])[0]).outputText, 'echo: hello');
    });
  });

  it('fails an unknown model with Bedrock.ValidationException, which Catch catches', async () => {
    await withEngine({ aws: aws() }, async (engine) => {
      const definition = {
        StartAt: 'T',
        States: {
          T: {
            Type: 'Task',
            Resource: 'arn:aws:states:::bedrock:invokeModel',
            Parameters: { ModelId: 'no.such-model-v1', Body: { inputText: 'x' } },
            Catch: [{ ErrorEquals: ['Bedrock.ValidationException'], Next: 'Caught' }],
            End: true,
          },
          Caught: { Type: 'Pass', End: true },
        },
      };
      const r = await runToEnd(engine, definition);
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const caught = o(r.output);
      assert.equal(caught.Error, 'Bedrock.ValidationException');
      assert.match(
        String(caught.Cause),
        /^The provided model identifier is invalid\. \(Service: AmazonBedrock; Status Code: 400; Error Code: ValidationException; Request ID: [^;]+; Proxy: null\)$/,
      );
      const failed = r.events.find((e) => e.type === 'TaskFailed')!;
      assert.equal(details(failed).resourceType, 'bedrock');
      assert.equal(details(failed).error, 'Bedrock.ValidationException');
    });
  });

  it('reads the body from Input.S3Uri, taking its content type when ContentType is not given', async () => {
    await withEngine({ aws: aws() }, async (engine) => {
      kit.standIn.putObject(
        'prompts',
        'p/1.json',
        JSON.stringify({ inputText: 'from s3' }),
        'application/json',
      );
      const from = kit.standIn.media.invocations.length;
      const r = await runToEnd(engine, invoke({ ModelId: MODEL, Input: { S3Uri: 's3://prompts/p/1.json' } }));
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const calls = kit.standIn.media.invocations.slice(from);
      assert.equal(calls.length, 1);
      assert.deepEqual(JSON.parse(calls[0]!.body), { inputText: 'from s3' });
      assert.equal(calls[0]!.headers['content-type'], 'application/json');
      assert.equal(o((o(o(r.output).Body).results as unknown[])[0]).outputText, 'echo: from s3');
    });
  });

  it('fails with the S3 error when the Input object is missing', async () => {
    await withEngine({ aws: aws() }, async (engine) => {
      const from = kit.standIn.media.invocations.length;
      const r = await runToEnd(
        engine,
        invoke({ ModelId: MODEL, Input: { S3Uri: 's3://prompts/missing.json' } }),
      );
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'S3.NoSuchKeyException');
      assert.equal(kit.standIn.media.invocations.length, from, 'the model was not called');
    });
  });

  it('writes the answer to Output.S3Uri and returns a reference to it', async () => {
    await withEngine({ aws: aws() }, async (engine) => {
      const r = await runToEnd(
        engine,
        invoke({
          ModelId: MODEL,
          Body: { inputText: 'to s3' },
          Output: { S3Uri: 's3://answers/out/1.json' },
        }),
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.deepEqual(r.output, {
        Body: { S3Uri: 's3://answers/out/1.json' },
        ContentType: 'application/json',
      });
      const stored = kit.standIn.buckets.get('answers')!.get('out/1.json')!;
      const answer = JSON.parse(stored.body.toString('utf8')) as Obj;
      assert.equal(o((answer.results as unknown[])[0]).outputText, 'echo: to s3');
    });
  });

  it('fails a result over 256 KiB with States.DataLimitExceeded, unless it goes to Output', async () => {
    await withEngine({ aws: aws() }, async (engine) => {
      // 'echo: big ' is 10 bytes: 30,000 of them are about 293 KiB.
      const big = { inputText: 'big ', STEPWISE_REPEAT: 30_000 };
      const r = await runToEnd(engine, invoke({ ModelId: MODEL, Body: big }));
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'States.DataLimitExceeded');
      const written = await runToEnd(
        engine,
        invoke({ ModelId: MODEL, Body: big, Output: { S3Uri: 's3://answers/big.json' } }),
      );
      assert.equal(written.status, 'SUCCEEDED', written.cause);
      assert.ok(kit.standIn.buckets.get('answers')!.get('big.json')!.body.length > 256 * 1024);
    });
  });

  it('refuses Body and Input together, a missing ModelId and .waitForTaskToken', async () => {
    await withEngine({ aws: aws() }, async (engine) => {
      const from = kit.standIn.media.invocations.length;
      const both = await runToEnd(
        engine,
        invoke({ ModelId: MODEL, Body: { inputText: 'x' }, Input: { S3Uri: 's3://prompts/p/1.json' } }),
      );
      assert.equal(both.status, 'FAILED');
      assert.equal(both.error, 'States.Runtime');
      assert.match(String(both.cause), /either Body or Input/);
      const noModel = await runToEnd(engine, invoke({ Body: { inputText: 'x' } }));
      assert.equal(noModel.error, 'States.Runtime');
      assert.match(String(noModel.cause), /needs a ModelId/);
      const callback = await runToEnd(
        engine,
        single({
          Type: 'Task',
          Resource: 'arn:aws:states:::bedrock:invokeModel.waitForTaskToken',
          Parameters: { ModelId: MODEL, Body: { 'token.$': '$$.Task.Token' } },
        }),
      );
      assert.equal(callback.status, 'FAILED');
      assert.equal(callback.error, 'States.TaskFailed');
      assert.match(String(callback.cause), /request-response only/);
      assert.equal(kit.standIn.media.invocations.length, from, 'the model was not called');
    });
  });
});
