// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JsonObject, JsonValue } from '../../language/json.js';
import {
  invokeLambdaService,
  invokeLegacyLambda,
  type FunctionProvider,
  type TaskOutcome,
} from '../functions.js';
import { loadFunctionConfig } from './function-config.js';
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

const never = new AbortController().signal;
const arn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
const legacy = (p: FunctionProvider, name: string, input: JsonValue = {}) =>
  invokeLegacyLambda(p, arn(name), input, never);
const service = (p: FunctionProvider, name: string, payload: JsonValue = {}) =>
  invokeLambdaService(
    p,
    'arn:aws:states:::lambda:invoke',
    { FunctionName: name, Payload: payload },
    'us-east-1',
    '123456789012',
    never,
  );

function failure(o: TaskOutcome): { error: string; cause: string } {
  assert.equal(o.ok, false, `expected a failure, got ${JSON.stringify(o)}`);
  return o as { error: string; cause: string };
}

function output(o: TaskOutcome): JsonValue {
  assert.ok(o.ok, `expected success, got ${JSON.stringify(o)}`);
  return o.output;
}

const UNKNOWN =
  /^The cause could not be determined because Lambda did not return an error type\. Returned payload: /;

let dir: string;
let server: TestServer;
let provider: FunctionProvider;

before(async () => {
  dir = tempDir('stepwise-fnconfig-');
  server = await startServer((req, res) => {
    const event = JSON.parse(req.body || 'null') as JsonObject;
    switch (req.url) {
      case '/sum':
        return json(res, 200, { sum: (event.a as number) + (event.b as number) });
      case '/typed-error':
        return json(res, 200, { errorType: 'OutOfStock', errorMessage: 'no more widgets' });
      case '/untyped-error':
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        return void res.end('kaput');
      case '/unavailable':
        return json(res, 503, { message: 'overloaded' });
      case '/hang':
        return;
      default:
        return json(res, 404, {});
    }
  });
  writeFileSync(
    join(dir, 'fns.mjs'),
    [
      'export const handler = async (e, ctx) => ({ greeting: `hello ${e.name}`, fn: ctx.functionName });',
      'export const fails = async () => { const e = new Error("bad input"); e.name = "ValidationError"; throw e; };',
      'export const slow = () => new Promise((r) => setTimeout(() => r("late"), 30_000).unref());',
    ].join('\n'),
  );
  // A command-served function: reads the event on stdin, writes the result on stdout.
  writeFileSync(
    join(dir, 'fn.mjs'),
    [
      'let text = "";',
      'process.stdin.on("data", (c) => (text += c));',
      'process.stdin.on("end", () => {',
      '  const e = JSON.parse(text);',
      '  if (e.mode === "crash") { process.stderr.write("disk full\\n"); process.exit(3); }',
      '  if (e.mode === "typed") { process.stdout.write(JSON.stringify({ errorType: "Nope", errorMessage: "typed" })); process.exit(1); }',
      '  if (e.mode === "hang") { setTimeout(() => {}, 60_000); return; }',
      '  if (e.mode === "text") { process.stdout.write("not json"); return; }',
      '  process.stdout.write(JSON.stringify({ doubled: e.n * 2 }));',
      '});',
    ].join('\n'),
  );
  const node = process.execPath;
  const config = {
    timeoutSeconds: 30,
    functions: {
      Greet: { module: './fns.mjs' },
      Fails: { module: './fns.mjs', export: 'fails' },
      Slow: { module: './fns.mjs', export: 'slow', timeoutSeconds: 0.2 },
      Sum: { url: `${server.url}/sum` },
      TypedError: { url: `${server.url}/typed-error` },
      UntypedError: { url: `${server.url}/untyped-error` },
      Unavailable: { url: `${server.url}/unavailable` },
      HangHttp: { url: `${server.url}/hang`, timeoutSeconds: 0.2 },
      Refused: { url: `http://127.0.0.1:${await closedPort()}/x` },
      Double: { command: node, args: ['fn.mjs'] },
      HangCmd: { command: node, args: ['fn.mjs'], timeoutSeconds: 0.3 },
      Missing: { command: join(dir, 'no-such-program') },
    },
  };
  writeFileSync(join(dir, 'functions.json'), JSON.stringify(config));
  provider = await loadFunctionConfig(join(dir, 'functions.json'));
});

after(async () => {
  await server.close();
  removeTempDirs();
});

describe('functions from a configuration file: ES modules', () => {
  it('runs the named export (default `handler`)', async () => {
    assert.deepEqual(output(await legacy(provider, 'Greet', { name: 'Ada' })), {
      greeting: 'hello Ada',
      fn: 'Greet',
    });
  });

  it('a thrown error keeps its name as the error and Lambda’s document as the cause', async () => {
    const f = failure(await legacy(provider, 'Fails'));
    assert.equal(f.error, 'ValidationError');
    const doc = JSON.parse(f.cause) as JsonObject;
    assert.equal(doc.errorType, 'ValidationError');
    assert.equal(doc.errorMessage, 'bad input');
  });

  it('a timeout → Lambda.Unknown with Lambda’s "Task timed out" payload', async () => {
    const f = failure(await legacy(provider, 'Slow'));
    assert.equal(f.error, 'Lambda.Unknown');
    assert.match(f.cause, UNKNOWN);
    assert.match(f.cause, /\{"errorMessage":"\S+Z [0-9a-f-]{36} Task timed out after 0\.20 seconds"\}$/);
  });
});

describe('functions from a configuration file: HTTP endpoints', () => {
  it('POSTs the event; the JSON response is the result', async () => {
    assert.deepEqual(output(await legacy(provider, 'Sum', { a: 2, b: 3 })), { sum: 5 });
    assert.equal(server.requests.at(-1)!.body, '{"a":2,"b":3}');
    const r = output(await service(provider, 'Sum', { a: 1, b: 1 })) as JsonObject;
    assert.deepEqual(r.Payload, { sum: 2 });
    assert.equal(r.StatusCode, 200);
  });

  it('a body with errorType/errorMessage is a function error of that type', async () => {
    const f = failure(await legacy(provider, 'TypedError'));
    assert.equal(f.error, 'OutOfStock');
    assert.deepEqual(JSON.parse(f.cause), { errorType: 'OutOfStock', errorMessage: 'no more widgets' });
    // lambda:invoke re-serialises the document compactly, as AWS does.
    assert.equal(
      failure(await service(provider, 'TypedError')).cause,
      '{"errorType":"OutOfStock","errorMessage":"no more widgets"}',
    );
  });

  it('a non-2xx answer without an error document → Lambda.Unknown', async () => {
    const f = failure(await legacy(provider, 'UntypedError'));
    assert.equal(f.error, 'Lambda.Unknown');
    assert.equal(
      f.cause,
      'The cause could not be determined because Lambda did not return an error type. Returned payload: {"errorMessage":"HTTP 500 Internal Server Error: kaput"}',
    );
  });

  it('503, or an endpoint that cannot be reached → Lambda.ServiceException', async () => {
    for (const name of ['Unavailable', 'Refused']) {
      const f = failure(await service(provider, name));
      assert.equal(f.error, 'Lambda.ServiceException');
      assert.match(
        f.cause,
        /\(Service: AWSLambda; Status Code: 500; Error Code: ServiceException; Request ID: [0-9a-f-]{36}; Proxy: null\)$/,
      );
    }
    assert.match(failure(await service(provider, 'Refused')).cause, /ECONNREFUSED/);
  });

  it('a timeout → Lambda.Unknown', async () => {
    const f = failure(await legacy(provider, 'HangHttp'));
    assert.equal(f.error, 'Lambda.Unknown');
    assert.match(f.cause, /Task timed out after 0\.20 seconds"\}$/);
  });
});

describe('functions from a configuration file: commands', () => {
  it('event on stdin, result on stdout', async () => {
    assert.deepEqual(output(await legacy(provider, 'Double', { n: 21 })), { doubled: 42 });
    assert.deepEqual((output(await service(provider, 'Double', { n: 2 })) as JsonObject).Payload, {
      doubled: 4,
    });
  });

  it('a non-zero exit → Runtime.ExitError with stderr as the message', async () => {
    const f = failure(await legacy(provider, 'Double', { mode: 'crash' }));
    assert.equal(f.error, 'Runtime.ExitError');
    assert.match(
      f.cause,
      /^\{"errorType":"Runtime.ExitError","errorMessage":"RequestId: [0-9a-f-]{36} Error: disk full"\}$/,
    );
  });

  it('an error document on stdout names the error', async () => {
    const f = failure(await legacy(provider, 'Double', { mode: 'typed' }));
    assert.equal(f.error, 'Nope');
    assert.deepEqual(JSON.parse(f.cause), { errorType: 'Nope', errorMessage: 'typed' });
  });

  it('output that is not JSON: Lambda.Unknown for a legacy Task, a string Payload for lambda:invoke', async () => {
    assert.equal(failure(await legacy(provider, 'Double', { mode: 'text' })).error, 'Lambda.Unknown');
    assert.equal(
      (output(await service(provider, 'Double', { mode: 'text' })) as JsonObject).Payload,
      'not json',
    );
  });

  it('a timeout kills the process → Lambda.Unknown', async () => {
    const f = failure(await legacy(provider, 'HangCmd', { mode: 'hang' }));
    assert.equal(f.error, 'Lambda.Unknown');
    assert.match(f.cause, /Task timed out after 0\.30 seconds"\}$/);
  });

  it('a command that cannot start → Lambda.ServiceException', async () => {
    const f = failure(await legacy(provider, 'Missing'));
    assert.equal(f.error, 'Lambda.ServiceException');
    assert.match(f.cause, /could not start the command of function 'Missing'/);
  });
});

describe('configuration files', () => {
  it('YAML and ES-module configurations; paths relative to the file', async () => {
    writeFileSync(join(dir, 'functions.yaml'), 'functions:\n  Greet:\n    module: ./fns.mjs\n');
    const fromYaml = await loadFunctionConfig(join(dir, 'functions.yaml'));
    assert.deepEqual(output(await legacy(fromYaml, 'Greet', { name: 'B' })), {
      greeting: 'hello B',
      fn: 'Greet',
    });
    writeFileSync(
      join(dir, 'functions.config.mjs'),
      'export default { functions: { Inline: async (e) => e.x + 1, Greet: { module: "./fns.mjs" } } };',
    );
    const fromModule = await loadFunctionConfig(join(dir, 'functions.config.mjs'));
    assert.equal(output(await legacy(fromModule, 'Inline', { x: 1 })), 2);
    assert.ok(fromModule.resolveFunction(arn('Greet')));
    assert.equal(fromModule.resolveFunction('Other'), undefined);
  });

  it('rejects malformed entries with the file and function named', async () => {
    const bad = async (functions: unknown, re: RegExp) => {
      const file = join(dir, 'bad.json');
      writeFileSync(file, JSON.stringify({ functions }));
      await assert.rejects(loadFunctionConfig(file), (e: unknown) => {
        assert.match((e as Error).message, /bad\.json: /);
        assert.match((e as Error).message, re);
        return true;
      });
    };
    await bad({ F: { url: 'x', command: 'y' } }, /function 'F': give exactly one of module, url or command/);
    await bad({ F: { url: 'ftp://x' } }, /url must be an http\(s\) URL/);
    await bad({ F: { command: 'x', timeoutSeconds: 0 } }, /timeoutSeconds must be a positive number/);
    await bad({ F: { module: './fns.mjs', export: 'nope' } }, /no function export 'nope'/);
    await bad(7, /needs a `functions` object/);
  });
});

describe('configured functions through the engine', () => {
  it('legacy and lambda:invoke Tasks call HTTP- and command-served functions', async () => {
    const definition = {
      StartAt: 'Sum',
      States: {
        Sum: {
          Type: 'Task',
          Resource: arn('Sum'),
          ResultSelector: { 'n.$': '$.sum' },
          ResultPath: '$.sum',
          Next: 'Double',
        },
        Double: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'Double', 'Payload.$': '$.sum' },
          ResultSelector: { 'value.$': '$.Payload.doubled' },
          End: true,
        },
      },
    };
    await withEngine({ functions: provider }, async (engine) => {
      const { d } = await run(engine, definition, { a: 4, b: 5 });
      assert.equal(d.status, 'SUCCEEDED', d.cause);
      assert.deepEqual(JSON.parse(d.output!), { value: 18 });
    });
  });
});
