/** End-to-end tests of the `stepwise` command: the built CLI run as a child process. */
// node:test's describe/test return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AwsStandIn } from '../../runtime/testing/aws-standins.js';

// This file runs as dist/surfaces/cli/cli.test.js: the repository root is three levels up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'stepwise.js');
const TMP = mkdtempSync(join(tmpdir(), 'stepwise-cli-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function cli(...args: string[]): CliResult {
  const start = Date.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  const result = { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - start };
  // Whatever happens, the user never sees a stack trace.
  assert.doesNotMatch(result.stderr, /^\s+at /m, `stack trace on stderr: ${result.stderr}`);
  return result;
}

/** The CLI as a child process without blocking this one (for tests that serve its requests). */
function cliAsync(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill(), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - start });
    });
  });
}

function json(r: CliResult): Record<string, unknown> {
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** Writes a file into the temporary directory and returns its path. */
function file(name: string, content: unknown): string {
  const path = join(TMP, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const example = (name: string, definition = `${name}.asl.json`) => ({
  definition: join(ROOT, 'examples', name, definition),
  functions: join(ROOT, 'examples', name, 'functions.mjs'),
  input: join(ROOT, 'examples', name, 'input.json'),
});

const PASS = { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } };

describe('stepwise CLI: commands', () => {
  test('--help and help print the usage and exit 0', () => {
    for (const arg of ['--help', 'help']) {
      const r = cli(arg);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /stepwise run <definition>/);
    }
  });

  test('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = cli('--version');
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  test('no command, an unknown command and a bad serve option exit 2', () => {
    const none = cli();
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Usage:/);
    const unknown = cli('frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    assert.match(unknown.stderr, /Usage:/);
    const serve = cli('serve', '--bogus');
    assert.equal(serve.code, 2);
    assert.match(serve.stderr, /Unknown option '--bogus'/);
  });

  test('bad usage of run exits 2 with one line', () => {
    const def = file('pass.json', PASS);
    for (const args of [
      ['run'],
      ['run', def, 'extra.json'],
      ['run', def, '--frob'],
      ['run', def, '--input', '{}', '--input-file', def],
      ['run', def, '--wait-scale', 'fast'],
      ['run', def, '--substitution', 'NoEquals'],
    ]) {
      const r = cli(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^stepwise: /);
    }
  });
});

describe('stepwise run', () => {
  test('a SUCCEEDED run prints the result object and exits 0', () => {
    const ex = example('approval');
    const r = cli('run', ex.definition, '--functions', ex.functions, '--input-file', ex.input);
    assert.equal(r.code, 0, r.stderr);
    const out = json(r);
    assert.deepEqual(Object.keys(out), ['status', 'output', 'executionArn', 'stateMachineArn']);
    assert.equal(out.status, 'SUCCEEDED');
    assert.deepEqual(out.output, {
      accuracypct: 100,
      latencyMs: 225,
      review: { decision: 'approved', reviewer: 'engineering@example.com' },
    });
    assert.match(String(out.executionArn), /^arn:aws:states:us-east-1:123456789012:execution:approval:/);
    assert.equal(out.stateMachineArn, 'arn:aws:states:us-east-1:123456789012:stateMachine:approval');
  });

  test('a FAILED run prints error and cause and exits 1', () => {
    const def = file('fail.json', {
      StartAt: 'F',
      States: { F: { Type: 'Fail', Error: 'Boom', Cause: 'it broke' } },
    });
    const r = cli('run', def);
    assert.equal(r.code, 1);
    const out = json(r);
    assert.deepEqual(Object.keys(out), ['status', 'error', 'cause', 'executionArn', 'stateMachineArn']);
    assert.equal(out.status, 'FAILED');
    assert.equal(out.error, 'Boom');
    assert.equal(out.cause, 'it broke');
  });

  test('--input sets the input; output is printed as a JSON value', () => {
    const r = cli('run', file('pass.json', PASS), '--input', '"just a string"');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json(r).output, 'just a string');
  });

  test('--history adds the events as GetExecutionHistory returns them', () => {
    const r = cli('run', file('pass.json', PASS), '--input', '{"a":1}', '--history');
    assert.equal(r.code, 0, r.stderr);
    const events = json(r).events as Record<string, unknown>[];
    assert.deepEqual(
      events.map((e) => e.type),
      ['ExecutionStarted', 'PassStateEntered', 'PassStateExited', 'ExecutionSucceeded'],
    );
    assert.deepEqual(
      events.map((e) => [e.id, e.previousEventId]),
      [
        [1, 0],
        [2, 0],
        [3, 2],
        [4, 3],
      ],
    );
    for (const e of events) assert.match(String(e.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const started = events[0]!.executionStartedEventDetails as { input: unknown };
    assert.equal(started.input, '{"a":1}');
  });

  test('without --history there are no events', () => {
    const r = cli('run', file('pass.json', PASS));
    assert.equal(json(r).events, undefined);
  });

  test('--wait-scale 0 skips waits and retry backoff', () => {
    const ex = example('parallel-wait');
    const r = cli(
      'run',
      ex.definition,
      '--functions',
      ex.functions,
      '--input-file',
      ex.input,
      '--wait-scale',
      '0',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal((json(r).output as { status: string }).status, 'SHIPPED');
    // Real time would take about 4 s (1 s retry, 1 s and 2 s waits).
    assert.ok(r.ms < 2500, `took ${r.ms} ms`);
  });

  test('a YAML definition with substitutions', () => {
    const def = file(
      'greet.asl.yaml',
      [
        'StartAt: Greet',
        'States:',
        '  Greet:',
        '    Type: Pass',
        "    Result: '${Greeting}, ${Who}!'",
        '    End: true',
      ].join('\n'),
    );
    const r = cli('run', def, '--substitution', 'Greeting=Hello', '--substitution', 'Who=a=b');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json(r).output, 'Hello, a=b!');
    // Without values the placeholders stay as they are.
    assert.equal(json(cli('run', def)).output, '${Greeting}, ${Who}!');
  });

  test('the YAML example runs with its substitutions', () => {
    const ex = example('yaml', 'triage.asl.yaml');
    const r = cli(
      'run',
      ex.definition,
      '--functions',
      ex.functions,
      '--input-file',
      ex.input,
      '--substitution',
      'ClassifyFunctionArn=arn:aws:lambda:us-east-1:123456789012:function:Classify',
      '--substitution',
      'NotifyFunctionName=Notify',
      '--substitution',
      'OnCallChannel=#oncall',
      '--substitution',
      'DefaultQueue=support-queue',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((json(r).output as { page: unknown }).page, { notified: true, channel: '#oncall' });
  });

  test('--functions loads an examples module', () => {
    const ex = example('calculation');
    const r = cli('run', ex.definition, '--functions', ex.functions, '--input-file', ex.input);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(json(r).output, { x: 4, y: 6, result: 13 });
  });

  test('a Task without its function fails the execution (exit 1)', () => {
    const ex = example('calculation');
    const r = cli('run', ex.definition, '--input-file', ex.input);
    assert.equal(r.code, 1);
    assert.equal(json(r).error, 'Lambda.ResourceNotFoundException');
  });

  test('a 100-level nested input passes through', () => {
    const deep = '['.repeat(100) + '1' + ']'.repeat(100);
    const r = cli('run', file('pass.json', PASS), '--input', deep);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(json(r).output, JSON.parse(deep));
    const objects = '{"a":'.repeat(100) + 'null' + '}'.repeat(100);
    assert.deepEqual(
      json(cli('run', file('pass.json', PASS), '--input', objects)).output,
      JSON.parse(objects),
    );
  });

  test('__proto__ keys stay plain data', () => {
    const def = file(
      'proto.json',
      '{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"__proto__":{"polluted":true}},"End":true}}}',
    );
    const r = cli('run', def, '--input', '{"__proto__":{"x":1}}');
    assert.equal(r.code, 0, r.stderr);
    const output = json(r).output as Record<string, unknown>;
    assert.ok(Object.hasOwn(output, '__proto__'));
    assert.deepEqual(Object.keys(output), ['__proto__']);
    // At the top level of a definition it is an unknown field.
    const top = cli(
      'run',
      file('proto-top.json', '{"__proto__":{},"StartAt":"A","States":{"A":{"Type":"Succeed"}}}'),
    );
    assert.equal(top.code, 2);
    assert.match(top.stderr, /__proto__/);
  });
});

describe('stepwise run: problems with the inputs exit 2 with a one-line message', () => {
  function fails(r: CliResult, pattern: RegExp): void {
    assert.equal(r.code, 2, r.stdout);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, pattern);
  }

  test('invalid JSON input', () => {
    fails(cli('run', file('pass.json', PASS), '--input', '{"a":'), /invalid JSON in --input/);
    fails(
      cli('run', file('pass.json', PASS), '--input-file', file('bad-input.json', '{oops')),
      /invalid JSON in input file/,
    );
  });

  test('unreadable files', () => {
    fails(cli('run', join(TMP, 'missing.asl.json')), /cannot read definition .*missing\.asl\.json/);
    fails(
      cli('run', file('pass.json', PASS), '--input-file', join(TMP, 'none.json')),
      /cannot read input file/,
    );
    fails(
      cli('run', file('pass.json', PASS), '--functions', join(TMP, 'none.mjs')),
      /cannot load functions module/,
    );
    const throwing = file('throwing.mjs', 'throw new Error("module init failed");\n');
    fails(cli('run', file('pass.json', PASS), '--functions', throwing), /module init failed/);
  });

  test('a missing Next target names the location', () => {
    const def = file('next.json', { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Foo' } } });
    fails(
      cli('run', def),
      /^stepwise: invalid definition: missing 'Next' target: Foo at \/States\/A\/Next$/m,
    );
  });

  test('an unknown field in a state', () => {
    const def = file('unknown.json', { StartAt: 'A', States: { A: { Type: 'Pass', Bogus: 1, End: true } } });
    fails(cli('run', def), /invalid definition: .*'Bogus'.* at \/States\/A\/Bogus/);
  });

  test('definition text that does not parse', () => {
    fails(
      cli('run', file('broken.json', '{"StartAt": ')),
      /invalid definition: the definition is not valid JSON/,
    );
    fails(cli('run', file('broken.yaml', 'StartAt: A\nStates:\n  A: {Type: Pass\n')), /not valid YAML/);
  });
});

describe('stepwise run: --http-config, --aws and --aws-config', () => {
  const CONNECTION = 'arn:aws:events:us-east-1:123456789012:connection/orders/1';

  test('--http-config supplies the connection of an HTTP Task', async () => {
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers['x-api-key'] as string | undefined);
      res.setHeader('Content-Type', 'application/json');
      res.end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const def = file('http-task.json', {
        StartAt: 'Call',
        States: {
          Call: {
            Type: 'Task',
            Resource: 'arn:aws:states:::http:invoke',
            Parameters: {
              ApiEndpoint: `http://127.0.0.1:${port}/orders`,
              Method: 'GET',
              Authentication: { ConnectionArn: CONNECTION },
            },
            ResultSelector: { 'body.$': '$.ResponseBody' },
            End: true,
          },
        },
      });
      const config = file(
        'http.yaml',
        `connections:\n  ${CONNECTION}:\n    AuthorizationType: API_KEY\n    AuthParameters:\n      ApiKeyAuthParameters: { ApiKeyName: X-Api-Key, ApiKeyValue: '\${env:STEPWISE_TEST_KEY}' }\n`,
      );
      const r = await cliAsync(['run', def, '--http-config', config], {
        ...process.env,
        STEPWISE_TEST_KEY: 'k-123',
      });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(json(r).output, { body: { ok: true } });
      assert.deepEqual(seen, ['k-123']);
      // Without the configuration the connection is unknown and nothing is sent.
      const without = await cliAsync(['run', def]);
      assert.equal(without.code, 1);
      assert.equal(json(without).error, 'States.TaskFailed');
      assert.equal(seen.length, 1);
    } finally {
      server.close();
    }
  });

  test('--aws-config passes aws-sdk tasks through; STEPWISE_AWS_* apply over the file', async () => {
    const standIn = new AwsStandIn();
    await standIn.start();
    try {
      standIn.createTable('orders', ['id']);
      const def = file('aws-task.json', {
        StartAt: 'Put',
        States: {
          Put: {
            Type: 'Task',
            Resource: 'arn:aws:states:::dynamodb:putItem',
            Parameters: { TableName: 'orders', Item: { id: { S: 'o-1' } } },
            ResultSelector: { 'status.$': '$.SdkHttpMetadata.HttpStatusCode' },
            End: true,
          },
        },
      });
      const env = {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('STEPWISE_'))),
        AWS_ACCESS_KEY_ID: 'AKIDSTEPWISETESTKEY1',
        AWS_SECRET_ACCESS_KEY: 'stepwise-test-secret',
      };
      const config = file('aws.json', {
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:9/unused',
        maxAttempts: 1,
      });
      const r = await cliAsync(['run', def, '--aws-config', config], {
        ...env,
        STEPWISE_AWS_ENDPOINT_DYNAMODB: standIn.url,
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(json(r).output, { status: 200 });
      assert.ok(standIn.tables.get('orders')!.items.size === 1);
      // --aws alone: the endpoint comes from the environment.
      const plain = await cliAsync(['run', def, '--aws'], { ...env, STEPWISE_AWS_ENDPOINT: standIn.url });
      assert.equal(plain.code, 0, plain.stdout + plain.stderr);
      // Without either flag the task is not passed through.
      const off = await cliAsync(['run', def], { ...env, STEPWISE_AWS_ENDPOINT: standIn.url });
      assert.equal(off.code, 1);
      assert.match(String(json(off).cause), /pass-through to AWS, which is not configured/);
    } finally {
      await standIn.stop();
    }
  });

  test('a bad configuration file exits 2 with a one-line message', () => {
    const bad = file('bad-aws.json', { credentials: { accessKeyId: 'x' } });
    const r = cli('run', file('pass.json', PASS), '--aws-config', bad);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /credentials come from the AWS default provider chain/);
    const missing = cli('run', file('pass.json', PASS), '--http-config', join(TMP, 'none.yaml'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot load the HTTP configuration .*none\.yaml/);
  });
});
