// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JsonObject, JsonValue } from '../../language/json.js';
import type { TaskOutcome } from '../functions.js';
import {
  closedPort,
  json,
  removeTempDirs,
  run,
  startServer,
  tempDir,
  withEngine,
  type TestServer,
} from './harness.js';
import { formPairs, HttpInvoker, loadHttpConfig, type HttpConnection } from './http.js';

after(removeTempDirs);

const BASIC_ARN = 'arn:aws:events:us-east-1:123456789012:connection/basic/1';
const KEY_ARN = 'arn:aws:events:us-east-1:123456789012:connection/key/2';
const OAUTH_ARN = 'arn:aws:events:us-east-1:123456789012:connection/oauth/3';
const PASSWORD = 'pa55-w0rd-SECRET';
const API_KEY = 'key-SECRET-0123456789';
const CLIENT_SECRET = 'client-SECRET-xyz';
const TOKEN = 'token-SECRET-abc';

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
let tokenRequests = 0;

before(async () => {
  server = await startServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    switch (path) {
      case '/json':
        return json(res, 200, { hello: 'world' }, { 'X-Extra': 'yes' });
      case '/text':
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return void res.end('plain text');
      case '/missing':
        return json(res, 404, { message: 'no such thing' });
      case '/broken':
        return json(res, 500, { message: 'boom' });
      case '/hang':
        return; // Never answers: the client's timeout decides.
      case '/token':
        tokenRequests++;
        return json(res, 200, { access_token: TOKEN, token_type: 'Bearer', expires_in: 3600 });
      case '/elsewhere':
        // Another origin (localhost vs 127.0.0.1) on the same server.
        res.writeHead(302, { Location: `http://localhost:${server.port}/json` });
        return void res.end();
      default:
        return json(res, 200, { path });
    }
  });
});
after(() => server.close());

const connections: Record<string, HttpConnection> = {
  [BASIC_ARN]: {
    AuthorizationType: 'BASIC',
    AuthParameters: {
      BasicAuthParameters: { Username: 'ada', Password: PASSWORD },
      InvocationHttpParameters: {
        HeaderParameters: [{ Key: 'X-Tenant', Value: 't1' }],
        QueryStringParameters: [{ Key: 'region', Value: 'eu' }],
        BodyParameters: [{ Key: 'source', Value: 'stepwise' }],
      },
    },
  },
  [KEY_ARN]: {
    AuthorizationType: 'API_KEY',
    AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'X-Api-Key', ApiKeyValue: API_KEY } },
  },
  [OAUTH_ARN]: {
    AuthorizationType: 'OAUTH_CLIENT_CREDENTIALS',
    AuthParameters: {
      OAuthParameters: {
        AuthorizationEndpoint: '', // Set once the server's port is known.
        HttpMethod: 'POST',
        ClientParameters: { ClientID: 'client', ClientSecret: CLIENT_SECRET },
      },
    },
  },
};

function invoker(extra: ConstructorParameters<typeof HttpInvoker>[0] = {}): HttpInvoker {
  connections[OAUTH_ARN]!.AuthParameters.OAuthParameters!.AuthorizationEndpoint = `${server.url}/token`;
  return new HttpInvoker({ connections, ...extra });
}

const last = () => server.requests[server.requests.length - 1]!;

describe('HTTP Task: requests and results', () => {
  it('GET: JSON response body is parsed; headers and query parameters are sent', async () => {
    const o = await invoker().invoke(
      {
        ApiEndpoint: `${server.url}/json?fixed=1`,
        Method: 'GET',
        Headers: { 'X-Trace': 'abc', 'X-Num': 7 },
        QueryParameters: { q: 'a b', n: 3 },
      },
      never,
    );
    const out = output(o);
    assert.equal(out.StatusCode, 200);
    assert.equal(out.StatusText, 'OK');
    assert.deepEqual(out.ResponseBody, { hello: 'world' });
    assert.deepEqual((out.Headers as JsonObject)['x-extra'], ['yes']);
    const req = last();
    assert.equal(req.method, 'GET');
    assert.equal(req.url, '/json?fixed=1&q=a+b&n=3');
    assert.equal(req.headers['x-trace'], 'abc');
    assert.equal(req.headers['x-num'], '7');
    assert.equal(req.headers['user-agent'], 'Amazon|StepFunctions|HttpInvoke|us-east-1');
  });

  it('POST: an object RequestBody is sent as JSON; a string as is', async () => {
    await invoker().invoke(
      { ApiEndpoint: `${server.url}/echo`, Method: 'POST', RequestBody: { a: [1, 2] } },
      never,
    );
    assert.equal(last().body, '{"a":[1,2]}');
    assert.match(String(last().headers['content-type']), /^application\/json/);
    await invoker().invoke(
      {
        ApiEndpoint: `${server.url}/echo`,
        Method: 'PUT',
        RequestBody: 'raw',
        Headers: { 'Content-Type': 'text/plain' },
      },
      never,
    );
    assert.equal(last().body, 'raw');
    assert.equal(last().headers['content-type'], 'text/plain');
  });

  it('a non-JSON response body stays a string', async () => {
    const out = output(await invoker().invoke({ ApiEndpoint: `${server.url}/text`, Method: 'GET' }, never));
    assert.equal(out.ResponseBody, 'plain text');
  });

  for (const [format, expected] of [
    [undefined, 'list%5B0%5D=a&list%5B1%5D=b&obj%5Bk%5D=v&n=1'],
    ['INDICES', 'list%5B0%5D=a&list%5B1%5D=b&obj%5Bk%5D=v&n=1'],
    ['BRACKETS', 'list%5B%5D=a&list%5B%5D=b&obj%5Bk%5D=v&n=1'],
    ['COMMAS', 'list=a%2Cb&obj%5Bk%5D=v&n=1'],
    ['REPEAT', 'list=a&list=b&obj%5Bk%5D=v&n=1'],
  ] as const) {
    it(`URL_ENCODED body, ArrayFormat ${format ?? '(default)'}`, async () => {
      const Transform: JsonObject = { RequestBodyEncoding: 'URL_ENCODED' };
      if (format) Transform.RequestEncodingOptions = { ArrayFormat: format };
      await invoker().invoke(
        {
          ApiEndpoint: `${server.url}/form`,
          Method: 'POST',
          RequestBody: { list: ['a', 'b'], obj: { k: 'v' }, n: 1 },
          Transform,
        },
        never,
      );
      assert.equal(last().body, expected);
      assert.equal(last().headers['content-type'], 'application/x-www-form-urlencoded');
    });
  }

  it('formPairs nests objects inside arrays', () => {
    assert.deepEqual(formPairs({ a: [{ b: 1 }] }, 'INDICES'), [['a[0][b]', '1']]);
  });

  it('rejects malformed parameters with States.Runtime', async () => {
    const bad = async (params: JsonValue, re: RegExp) => {
      const f = failure(await invoker().invoke(params, never));
      assert.equal(f.error, 'States.Runtime');
      assert.match(f.cause ?? '', re);
    };
    await bad({ Method: 'GET' }, /ApiEndpoint/);
    await bad({ ApiEndpoint: `${server.url}/json`, Method: 'FETCH' }, /Method/);
    await bad({ ApiEndpoint: 'ftp://x/y', Method: 'GET' }, /http or https/);
    await bad(
      { ApiEndpoint: `${server.url}/json`, Method: 'GET', Transform: { RequestBodyEncoding: 'XML' } },
      /RequestBodyEncoding/,
    );
  });
});

describe('HTTP Task: errors', () => {
  it('4xx and 5xx → States.Http.StatusCode.<code>, the reason phrase as cause', async () => {
    assert.deepEqual(
      failure(await invoker().invoke({ ApiEndpoint: `${server.url}/missing`, Method: 'GET' }, never)),
      {
        ok: false,
        error: 'States.Http.StatusCode.404',
        cause: 'Not Found',
      },
    );
    assert.deepEqual(
      failure(await invoker().invoke({ ApiEndpoint: `${server.url}/broken`, Method: 'GET' }, never)),
      {
        ok: false,
        error: 'States.Http.StatusCode.500',
        cause: 'Internal Server Error',
      },
    );
  });

  it('a request that outlives the timeout → States.Http.Socket', async () => {
    const f = failure(
      await invoker({ timeoutSeconds: 0.2 }).invoke(
        { ApiEndpoint: `${server.url}/hang`, Method: 'GET' },
        never,
      ),
    );
    assert.equal(f.error, 'States.Http.Socket');
    assert.match(f.cause ?? '', /timed out after 0.2 seconds/);
  });

  it('connection refused → States.Http.Socket', async () => {
    const port = await closedPort();
    const f = failure(
      await invoker().invoke({ ApiEndpoint: `http://127.0.0.1:${port}/x`, Method: 'GET' }, never),
    );
    assert.equal(f.error, 'States.Http.Socket');
    assert.match(f.cause ?? '', /ECONNREFUSED/);
  });

  it('an unconfigured ConnectionArn fails without calling anything', async () => {
    const before = server.requests.length;
    const f = failure(
      await invoker().invoke(
        { ApiEndpoint: `${server.url}/json`, Method: 'GET', Authentication: { ConnectionArn: 'arn:nope' } },
        never,
      ),
    );
    assert.equal(f.error, 'States.TaskFailed');
    assert.match(f.cause ?? '', /arn:nope/);
    assert.equal(server.requests.length, before);
  });
});

describe('HTTP Task: egress allow-list', () => {
  it('allows loopback by default and nothing else', () => {
    const h = invoker();
    assert.ok(h.isAllowed(new URL('http://127.0.0.1:1/')));
    assert.ok(h.isAllowed(new URL('http://127.8.9.10/')));
    assert.ok(h.isAllowed(new URL('http://localhost:8080/')));
    assert.ok(h.isAllowed(new URL('http://[::1]:8080/')));
    assert.ok(!h.isAllowed(new URL('https://example.com/')));
    assert.ok(!h.isAllowed(new URL('http://10.0.0.1/')));
  });

  it('matches names, wildcards, ports, CIDR ranges and *', () => {
    const h = invoker({ allowedHosts: ['api.example.com', '*.internal.test', 'svc:8443', '10.0.0.0/8'] });
    assert.ok(h.isAllowed(new URL('https://api.example.com/x')));
    assert.ok(!h.isAllowed(new URL('https://evil.api.example.com/x')));
    assert.ok(h.isAllowed(new URL('https://a.b.internal.test/')));
    assert.ok(!h.isAllowed(new URL('https://internal.test/')));
    assert.ok(h.isAllowed(new URL('https://svc:8443/')));
    assert.ok(!h.isAllowed(new URL('https://svc/')));
    assert.ok(h.isAllowed(new URL('http://10.1.2.3/')));
    assert.ok(!h.isAllowed(new URL('http://127.0.0.1/')));
    assert.ok(invoker({ allowedHosts: ['*'] }).isAllowed(new URL('https://anything.example/')));
  });

  it('a host outside the list → States.Permissions, and no request is made', async () => {
    const before = server.requests.length;
    const f = failure(
      await invoker({ allowedHosts: ['example.com'] }).invoke(
        { ApiEndpoint: `${server.url}/json`, Method: 'GET' },
        never,
      ),
    );
    assert.equal(f.error, 'States.Permissions');
    assert.match(f.cause ?? '', /allow-list/);
    assert.equal(server.requests.length, before);
  });

  it('redirects are checked hop by hop and lose credentials on another origin', async () => {
    const denied = failure(
      await invoker({ allowedHosts: [`127.0.0.1:${server.port}`] }).invoke(
        { ApiEndpoint: `${server.url}/elsewhere`, Method: 'GET' },
        never,
      ),
    );
    assert.equal(denied.error, 'States.Permissions');
    const o = await invoker().invoke(
      { ApiEndpoint: `${server.url}/elsewhere`, Method: 'GET', Authentication: { ConnectionArn: KEY_ARN } },
      never,
    );
    assert.deepEqual(output(o).ResponseBody, { hello: 'world' });
    const [first, second] = server.requests.slice(-2);
    assert.equal(first!.headers['x-api-key'], API_KEY);
    assert.equal(second!.headers['x-api-key'], undefined);
    assert.equal(second!.headers.host, `localhost:${server.port}`);
  });
});

describe('HTTP Task: connections', () => {
  it('BASIC adds Authorization and the invocation parameters', async () => {
    await invoker().invoke(
      {
        ApiEndpoint: `${server.url}/echo`,
        Method: 'POST',
        RequestBody: { a: 1 },
        Authentication: { ConnectionArn: BASIC_ARN },
      },
      never,
    );
    const req = last();
    assert.equal(req.headers.authorization, `Basic ${Buffer.from(`ada:${PASSWORD}`).toString('base64')}`);
    assert.equal(req.headers['x-tenant'], 't1');
    assert.equal(req.url, '/echo?region=eu');
    assert.deepEqual(JSON.parse(req.body), { a: 1, source: 'stepwise' });
  });

  it('API_KEY sets the named header', async () => {
    await invoker().invoke(
      { ApiEndpoint: `${server.url}/echo`, Method: 'GET', Authentication: { ConnectionArn: KEY_ARN } },
      never,
    );
    assert.equal(last().headers['x-api-key'], API_KEY);
  });

  it('OAUTH_CLIENT_CREDENTIALS fetches a token once and sends it as Bearer', async () => {
    const h = invoker();
    const params = {
      ApiEndpoint: `${server.url}/echo`,
      Method: 'GET',
      Authentication: { ConnectionArn: OAUTH_ARN },
    };
    tokenRequests = 0;
    output(await h.invoke(params, never));
    assert.equal(last().headers.authorization, `Bearer ${TOKEN}`);
    const tokenReq = server.requests[server.requests.length - 2]!;
    assert.equal(tokenReq.body, 'grant_type=client_credentials');
    assert.equal(
      tokenReq.headers.authorization,
      `Basic ${Buffer.from(`client:${CLIENT_SECRET}`).toString('base64')}`,
    );
    output(await h.invoke(params, never));
    assert.equal(tokenRequests, 1);
  });

  it('rejects a malformed connection at construction', () => {
    assert.throws(
      () => new HttpInvoker({ connections: { a: { AuthorizationType: 'BASIC', AuthParameters: {} } } }),
      /BasicAuthParameters/,
    );
  });

  it('loadHttpConfig reads YAML and takes ${env:NAME} secrets from the environment', async () => {
    const file = join(tempDir(), 'http.yaml');
    writeFileSync(
      file,
      [
        'allowedHosts: ["127.0.0.1"]',
        'connections:',
        `  "${KEY_ARN}":`,
        '    AuthorizationType: API_KEY',
        '    AuthParameters:',
        '      ApiKeyAuthParameters: { ApiKeyName: X-Api-Key, ApiKeyValue: "${env:STEPWISE_TEST_KEY}" }',
      ].join('\n'),
    );
    process.env.STEPWISE_TEST_KEY = 'from-env';
    try {
      const cfg = await loadHttpConfig(file);
      assert.equal(cfg.connections![KEY_ARN]!.AuthParameters.ApiKeyAuthParameters!.ApiKeyValue, 'from-env');
      delete process.env.STEPWISE_TEST_KEY;
      await assert.rejects(loadHttpConfig(file), /STEPWISE_TEST_KEY is not set/);
    } finally {
      delete process.env.STEPWISE_TEST_KEY;
    }
  });
});

describe('HTTP Task through the engine', () => {
  it('runs, retries and catches; no secret appears in any history event', async () => {
    let flaky = 0;
    const api = await startServer((req, res) => {
      if (req.url.startsWith('/flaky') && flaky++ === 0) return json(res, 503, { busy: true });
      if (req.url.startsWith('/denied')) return json(res, 403, { reason: 'no' });
      return json(res, 200, { got: JSON.parse(req.body || 'null') as unknown });
    });
    try {
      const call = (path: string, arn: string, next: string) => ({
        Type: 'Task',
        Resource: 'arn:aws:states:::http:invoke',
        Parameters: {
          ApiEndpoint: `${api.url}/${path}`,
          Method: 'POST',
          'RequestBody.$': '$',
          Authentication: { ConnectionArn: arn },
        },
        Retry: [{ ErrorEquals: ['States.Http.StatusCode.503'], IntervalSeconds: 1, MaxAttempts: 2 }],
        Catch: [{ ErrorEquals: ['States.Http.StatusCode.403'], ResultPath: '$.denied', Next: 'Done' }],
        ResultSelector: { 'status.$': '$.StatusCode', 'body.$': '$.ResponseBody' },
        ResultPath: `$.${path}`,
        Next: next,
      });
      const definition = {
        StartAt: 'Flaky',
        States: {
          Flaky: call('flaky', BASIC_ARN, 'Denied'),
          Denied: call('denied', KEY_ARN, 'Done'),
          Done: { Type: 'Succeed' },
        },
      };
      await withEngine({ http: { connections } }, async (engine) => {
        const { d, h } = await run(engine, definition, { order: 7 });
        assert.equal(d.status, 'SUCCEEDED', d.cause);
        const out = JSON.parse(d.output!) as JsonObject;
        assert.deepEqual(out.flaky, { status: 200, body: { got: { order: 7, source: 'stepwise' } } });
        assert.deepEqual(out.denied, { Error: 'States.Http.StatusCode.403', Cause: 'Forbidden' });
        assert.deepEqual(
          h
            .filter((e) => e.type === 'TaskFailed')
            .map((e) => (e.taskFailedEventDetails as { error: string }).error),
          ['States.Http.StatusCode.503', 'States.Http.StatusCode.403'],
        );
        const scheduled = h.find((e) => e.type === 'TaskScheduled')!.taskScheduledEventDetails as JsonObject;
        assert.equal(scheduled.resourceType, 'http');
        assert.equal(scheduled.resource, 'invoke');
        // The credentials did reach the API…
        assert.equal(
          api.requests[0]!.headers.authorization,
          `Basic ${Buffer.from(`ada:${PASSWORD}`).toString('base64')}`,
        );
        assert.equal(api.requests[2]!.headers['x-api-key'], API_KEY);
        // …and nowhere in the history.
        const secrets = [PASSWORD, API_KEY, Buffer.from(`ada:${PASSWORD}`).toString('base64')];
        for (const e of h) {
          const text = JSON.stringify(e);
          for (const s of secrets)
            assert.ok(!text.includes(s), `event ${e.id} (${e.type}) contains a secret`);
        }
      });
    } finally {
      await api.close();
    }
  });
});
