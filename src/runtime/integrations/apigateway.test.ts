// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { JsonObject, JsonValue } from '../../language/json.js';
import { validateDefinition } from '../../language/validate.js';
import type { TaskOutcome } from '../functions.js';
import { ApiGatewayInvoker } from './apigateway.js';
import {
  closedPort,
  details,
  ended,
  json,
  removeTempDirs,
  runToEnd,
  single,
  startOne,
  startServer,
  untilSubmitted,
  withEngine,
  type TestServer,
} from './harness.js';

after(removeTempDirs);

const HOST = 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com';
const SECRET = 'SECRET-key-do-not-log-0123456789';
const never = new AbortController().signal;

function failure(o: TaskOutcome): { error: string; cause: string | undefined } {
  assert.equal(o.ok, false, `expected a failure, got ${JSON.stringify(o)}`);
  return o;
}

function output(o: TaskOutcome): JsonObject {
  assert.ok(o.ok, `expected success, got ${JSON.stringify(o)}`);
  return o.output as JsonObject;
}

let server: TestServer;

before(async () => {
  server = await startServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    switch (path) {
      case '/prod/forbidden':
        return json(res, 403, { message: 'Missing Authentication Token' });
      case '/prod/broken':
        res.writeHead(502, { 'Content-Type': 'text/plain' });
        return void res.end('upstream broke');
      case '/prod/moved':
        res.writeHead(302, { Location: '/prod/bills' });
        return void res.end();
      case '/prod/text':
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return void res.end('plain');
      default:
        return json(res, 200, { myBills: [], path }, { 'X-Answer': 'yes' });
    }
  });
});

after(() => server.close());

const invoker = () => new ApiGatewayInvoker({ endpoint: server.url });
const last = () => server.requests.at(-1)!;

describe('apigateway:invoke (ApiGatewayInvoker)', () => {
  it('sends headers, query, body, stage and path as given and returns AWS’s result shape', async () => {
    const out = output(
      await invoker().invoke(
        {
          ApiEndpoint: HOST,
          Method: 'POST',
          Headers: { 'X-List': ['a', 'b'], 'X-One': ['1'] },
          Stage: 'prod',
          Path: 'bills/add',
          QueryParameters: { billId: ['123', '456'], q: ['a b'] },
          RequestBody: { billId: 'my-new-bill', n: 2 },
        },
        never,
      ),
    );
    const r = last();
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/prod/bills/add?billId=123&billId=456&q=a+b');
    assert.equal(r.headers['x-list'], 'a, b');
    assert.equal(r.headers['x-one'], '1');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers.authorization, undefined);
    assert.deepEqual(JSON.parse(r.body), { billId: 'my-new-bill', n: 2 });
    assert.deepEqual(out.ResponseBody, { myBills: [], path: '/prod/bills/add' });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.StatusText, 'OK');
    assert.deepEqual((out.Headers as JsonObject)['x-answer'], ['yes']);
    assert.deepEqual((out.Headers as JsonObject)['content-type'], ['application/json']);
  });

  it('a text answer is a string; GET sends no body; no Stage means the path alone', async () => {
    const out = output(
      await invoker().invoke(
        { ApiEndpoint: HOST, Method: 'GET', Path: '/prod/text', RequestBody: {} },
        never,
      ),
    );
    assert.equal(out.ResponseBody, 'plain');
    assert.equal(last().url, '/prod/text');
    assert.equal(last().body, '');
  });

  it('AllowNullValues: null members are dropped by default and kept when true', async () => {
    const body = { a: null, b: { c: null, d: 1 }, e: [null, 2] };
    await invoker().invoke({ ApiEndpoint: HOST, Method: 'PUT', Stage: 'prod', RequestBody: body }, never);
    assert.deepEqual(JSON.parse(last().body), { b: { d: 1 }, e: [null, 2] });
    await invoker().invoke(
      { ApiEndpoint: HOST, Method: 'PUT', Stage: 'prod', RequestBody: body, AllowNullValues: true },
      never,
    );
    assert.deepEqual(JSON.parse(last().body), body);
  });

  it('a 4xx fails with APIGateway.<status> and the response body as cause', async () => {
    const f = failure(
      await invoker().invoke({ ApiEndpoint: HOST, Method: 'GET', Stage: 'prod', Path: 'forbidden' }, never),
    );
    assert.equal(f.error, 'APIGateway.403');
    assert.equal(f.cause, '{"message":"Missing Authentication Token"}');
  });

  it('a 5xx fails likewise; a redirect is not followed and fails too (only 2xx succeed)', async () => {
    const f = failure(
      await invoker().invoke({ ApiEndpoint: HOST, Method: 'GET', Path: 'prod/broken' }, never),
    );
    assert.equal(f.error, 'APIGateway.502');
    assert.equal(f.cause, 'upstream broke');
    const count = server.requests.length;
    const m = failure(
      await invoker().invoke({ ApiEndpoint: HOST, Method: 'GET', Path: 'prod/moved' }, never),
    );
    assert.equal(m.error, 'APIGateway.302');
    assert.equal(server.requests.length, count + 1);
  });

  it('a refused connection fails with APIGateway.ConnectException', async () => {
    const port = await closedPort();
    const f = failure(
      await new ApiGatewayInvoker({ endpoint: `http://127.0.0.1:${port}` }).invoke(
        { ApiEndpoint: HOST, Method: 'GET', Stage: 'prod' },
        never,
      ),
    );
    assert.equal(f.error, 'APIGateway.ConnectException');
    assert.match(f.cause ?? '', /ECONNREFUSED/);
  });

  it('refuses what AWS refuses: other hosts, bad methods and auth types, forbidden headers', async () => {
    const count = server.requests.length;
    const cases: [JsonValue, RegExp][] = [
      [{ ApiEndpoint: 'example.com', Method: 'GET' }, /not an API Gateway host/],
      [{ ApiEndpoint: `https://${HOST}`, Method: 'GET' }, /not an API Gateway host/],
      [{ ApiEndpoint: 'AB.execute-api.us-east-1.amazonaws.com', Method: 'GET' }, /not an API Gateway host/],
      [{ ApiEndpoint: HOST, Method: 'FETCH' }, /Method must be/],
      [{ ApiEndpoint: HOST, Method: 'GET', AuthType: 'IAM_AUTH' }, /AuthType must be/],
      [
        { ApiEndpoint: HOST, Method: 'GET', Headers: { Authorization: ['x'] } },
        /'Authorization' is not permitted/,
      ],
      [{ ApiEndpoint: HOST, Method: 'GET', Headers: { 'X-Amz-Date': ['x'] } }, /not permitted/],
      [{ ApiEndpoint: HOST, Method: 'GET', Headers: { 'X-Forwarded-For': ['x'] } }, /not permitted/],
      [{ ApiEndpoint: HOST, Method: 'GET', AllowNullValues: 'yes' }, /AllowNullValues/],
    ];
    for (const [params, cause] of cases) {
      const f = failure(await invoker().invoke(params, never));
      assert.equal(f.error, 'States.Runtime', JSON.stringify(params));
      assert.match(f.cause ?? '', cause);
    }
    assert.equal(server.requests.length, count, 'nothing was sent');
  });

  it('IAM_ROLE signs with SigV4 for execute-api in the API’s region; the secret is never sent', async () => {
    const signing = new ApiGatewayInvoker({
      endpoint: server.url,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET, sessionToken: 'session-1' },
    });
    for (const AuthType of ['IAM_ROLE', 'RESOURCE_POLICY']) {
      output(
        await signing.invoke(
          {
            ApiEndpoint: HOST,
            Method: 'POST',
            Stage: 'prod',
            Path: 'bills',
            QueryParameters: { b: ['2', '1'], a: ['x y'] },
            AuthType,
            RequestBody: { a: 1 },
          },
          never,
        ),
      );
      const r = last();
      assert.match(
        String(r.headers.authorization),
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
      );
      assert.match(String(r.headers['x-amz-date']), /^\d{8}T\d{6}Z$/);
      assert.equal(r.headers['x-amz-security-token'], 'session-1');
      assert.ok(!JSON.stringify(r).includes(SECRET));
      // The signature covers the request as the server received it: signing that again with the
      // same key and time gives the same Authorization.
      const amzDate = String(r.headers['x-amz-date']);
      const signedNames = /SignedHeaders=([^,]+)/.exec(String(r.headers.authorization))![1]!.split(';');
      const headers: Record<string, string> = {};
      for (const name of signedNames) headers[name] = String(r.headers[name]);
      const url = new URL(r.url, server.url);
      const query: Record<string, string[]> = {};
      for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
      const again = await new SignatureV4({
        service: 'execute-api',
        region: 'eu-west-1',
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET, sessionToken: 'session-1' },
        sha256: Hash.bind(null, 'sha256'),
      }).sign(
        {
          method: r.method,
          protocol: 'http:',
          hostname: '127.0.0.1',
          port: server.port,
          path: url.pathname,
          query,
          headers,
          body: r.body,
        },
        {
          signingDate: new Date(
            amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
          ),
        },
      );
      assert.equal(again.headers.authorization, r.headers.authorization);
    }
  });
});

describe('apigateway:invoke in the engine (pass-through)', () => {
  const aws = () => ({
    region: 'us-east-1',
    endpoints: { apigateway: server.url },
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET },
  });
  const task = (resource: string, parameters: JsonObject, extra: JsonObject = {}): JsonObject => ({
    Type: 'Task',
    Resource: `arn:aws:states:::apigateway:${resource}`,
    Parameters: parameters,
    ...extra,
  });

  it('succeeds with the result and records TaskScheduled/TaskSucceeded with resourceType apigateway', async () => {
    await withEngine({ aws: aws() }, async (engine) => {
      const r = await runToEnd(
        engine,
        single(
          task('invoke', {
            ApiEndpoint: HOST,
            Method: 'GET',
            Stage: 'prod',
            Path: 'bills',
            QueryParameters: { 'billId.$': 'States.Array($.id)' },
          }),
        ),
        { id: '42' },
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.equal(last().url, '/prod/bills?billId=42');
      const out = r.output as JsonObject;
      assert.equal(out.StatusCode, 200);
      assert.deepEqual(out.ResponseBody, { myBills: [], path: '/prod/bills' });
      const types = r.events.map((e) => e.type);
      assert.deepEqual(types.slice(2, 5), ['TaskScheduled', 'TaskStarted', 'TaskSucceeded']);
      const scheduled = details(r.events.find((e) => e.type === 'TaskScheduled')!);
      assert.equal(scheduled.resourceType, 'apigateway');
      assert.equal(scheduled.resource, 'invoke');
      const succeeded = details(r.events.find((e) => e.type === 'TaskSucceeded')!);
      assert.equal(succeeded.resourceType, 'apigateway');
      assert.equal(succeeded.resource, 'invoke');
      assert.ok(!JSON.stringify(r.events).includes(SECRET));
    });
  });

  it('a 4xx and a 5xx fail with APIGateway.<status>, which Catch catches by name and as States.TaskFailed', async () => {
    await withEngine({ aws: aws() }, async (engine) => {
      const definition = (path: string, errors: string[]) => ({
        StartAt: 'Call',
        States: {
          Call: task(
            'invoke',
            { ApiEndpoint: HOST, Method: 'GET', Stage: 'prod', Path: path },
            { Catch: [{ ErrorEquals: errors, ResultPath: '$.error', Next: 'Caught' }], End: true },
          ),
          Caught: { Type: 'Pass', End: true },
        },
      });
      const four = await runToEnd(engine, definition('forbidden', ['APIGateway.403']));
      assert.equal(four.status, 'SUCCEEDED');
      assert.deepEqual((four.output as JsonObject).error, {
        Error: 'APIGateway.403',
        Cause: '{"message":"Missing Authentication Token"}',
      });
      const five = await runToEnd(engine, definition('broken', ['States.TaskFailed']));
      assert.equal(five.status, 'SUCCEEDED');
      assert.deepEqual((five.output as JsonObject).error, {
        Error: 'APIGateway.502',
        Cause: 'upstream broke',
      });
      const uncaught = await runToEnd(engine, definition('broken', ['APIGateway.403']));
      assert.equal(uncaught.status, 'FAILED');
      assert.equal(uncaught.error, 'APIGateway.502');
    });
  });

  it('.waitForTaskToken: the request carries the token, TaskSubmitted holds the answer, the token ends the task', async () => {
    await withEngine({ aws: aws() }, async (engine) => {
      const count = server.requests.length;
      const executionArn = await startOne(
        engine,
        single(
          task('invoke.waitForTaskToken', {
            ApiEndpoint: HOST,
            Method: 'POST',
            Headers: { 'TaskToken.$': 'States.Array($$.Task.Token)' },
            Stage: 'prod',
            Path: 'bills/add',
            RequestBody: { billId: 'my-new-bill' },
          }),
        ),
      );
      const submitted = await untilSubmitted(engine, executionArn);
      assert.equal(submitted.StatusCode, 200);
      const sent = server.requests.slice(count).find((r) => r.url === '/prod/bills/add');
      assert.ok(sent, 'the request went out');
      const token = String(sent.headers.tasktoken);
      assert.ok(token.length > 10);
      await engine.sendTaskSuccess({ taskToken: token, output: '{"approved":true}' });
      const r = await ended(engine, executionArn);
      assert.equal(r.status, 'SUCCEEDED');
      assert.deepEqual(r.output, { approved: true });
      const types = r.events.map((e) => e.type);
      assert.deepEqual(types.slice(2, 6), ['TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded']);
      assert.equal(details(r.events[2]!).resource, 'invoke.waitForTaskToken');
      assert.equal(details(r.events[2]!).resourceType, 'apigateway');
    });
  });

  it('a refused connection fails the execution with APIGateway.ConnectException', async () => {
    const port = await closedPort();
    await withEngine(
      { aws: { region: 'us-east-1', endpoints: { apigateway: `http://127.0.0.1:${port}` } } },
      async (engine) => {
        const r = await runToEnd(engine, single(task('invoke', { ApiEndpoint: HOST, Method: 'GET' })));
        assert.equal(r.status, 'FAILED');
        assert.equal(r.error, 'APIGateway.ConnectException');
      },
    );
  });

  it('without pass-through the task fails, saying so; nothing is sent', async () => {
    await withEngine({}, async (engine) => {
      const count = server.requests.length;
      const r = await runToEnd(engine, single(task('invoke', { ApiEndpoint: HOST, Method: 'GET' })));
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'States.TaskFailed');
      assert.match(r.cause ?? '', /needs pass-through to AWS/);
      assert.equal(server.requests.length, count);
    });
  });
});

describe('apigateway:invoke in validation', () => {
  const machine = (resource: string, parameters: JsonObject, ql?: string): JsonObject => ({
    ...(ql ? { QueryLanguage: ql } : {}),
    StartAt: 'T',
    States: {
      T: {
        Type: 'Task',
        Resource: resource,
        [ql === 'JSONata' ? 'Arguments' : 'Parameters']: parameters,
        End: true,
      },
    },
  });
  const errors = (def: JsonObject) =>
    validateDefinition(def)
      .filter((d) => d.severity === 'ERROR')
      .map((d) => `${d.location} ${d.message}`);
  const ok = {
    ApiEndpoint: HOST,
    Method: 'GET',
    Headers: { 'X-Trace': ['1'], 'TaskToken.$': 'States.Array($$.Task.Token)' },
  };

  it('accepts invoke and invoke.waitForTaskToken with permitted headers', () => {
    assert.deepEqual(errors(machine('arn:aws:states:::apigateway:invoke', ok)), []);
    assert.deepEqual(errors(machine('arn:aws:states:::apigateway:invoke.waitForTaskToken', ok)), []);
  });

  it('refuses other actions', () => {
    const e = errors(machine('arn:aws:states:::apigateway:getRestApis', ok));
    assert.equal(e.length, 1);
    assert.match(e[0]!, /is not recognized/);
  });

  it('refuses the headers AWS does not permit, also as `.$` fields and in JSONata Arguments', () => {
    const e = errors(
      machine('arn:aws:states:::apigateway:invoke', {
        ...ok,
        Headers: { Authorization: ['x'], 'X-Amz-Date.$': '$.d', 'X-Forwarded-For': ['y'], Via: ['z'] },
      }),
    );
    assert.deepEqual(e, [
      "/States/T/Parameters The 'Headers' field contains unsupported values: [authorization, x-amz-date, x-forwarded-for, via]",
    ]);
    const j = errors(
      machine('arn:aws:states:::apigateway:invoke', { ...ok, Headers: { Host: ['h'] } }, 'JSONata'),
    );
    assert.equal(j.length, 1);
    assert.match(j[0]!, /unsupported values: \[host\]/);
  });
});
