/**
 * Smoke test with the real AWS CLI (`aws stepfunctions … --endpoint-url`): another client's
 * serialisation and signing. CI installs the Debian `awscli` package; without it this is skipped,
 * loudly.
 */
// node:test's describe/test return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { Engine } from '../../runtime/engine.js';
import { startServer, type RunningServer } from './server.js';

const run = promisify(execFile);

/** An `aws` that actually runs: a pyenv shim may exist without an installed CLI behind it. */
function findAws(): string | undefined {
  for (const candidate of ['aws', '/usr/bin/aws', '/usr/local/bin/aws']) {
    const r = spawnSync(candidate, ['--version'], { encoding: 'utf8', timeout: 30_000 });
    if (r.status === 0 && /aws-cli\//.test(`${r.stdout}${r.stderr}`)) return candidate;
  }
  return undefined;
}

const AWS = findAws();
if (AWS === undefined) {
  process.stderr.write(
    '\n*** SKIPPING the AWS CLI smoke test: no working `aws` command (install it: apt-get install -y awscli) ***\n\n',
  );
}

describe(
  'AWS CLI against stepwise',
  { skip: AWS === undefined ? 'the AWS CLI is not installed' : false },
  () => {
    let dir: string;
    let engine: Engine;
    let server: RunningServer;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'stepwise-awscli-'));
      engine = await Engine.open({ dataDir: dir, waitScale: 0 });
      server = await startServer({ engine, port: 0 });
    });
    after(async () => {
      await server.close();
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Runs `aws stepfunctions <args>` asynchronously (the server shares this event loop). */
    async function aws(...args: string[]): Promise<Record<string, unknown>> {
      const { stdout } = await run(
        AWS!,
        ['stepfunctions', ...args, '--endpoint-url', server.url, '--output', 'json'],
        {
          env: {
            ...process.env,
            AWS_ACCESS_KEY_ID: 'x',
            AWS_SECRET_ACCESS_KEY: 'y',
            AWS_DEFAULT_REGION: 'us-east-1',
            AWS_PAGER: '',
            AWS_CONFIG_FILE: '/dev/null',
            AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          },
          timeout: 60_000,
        },
      );
      return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>);
    }

    test('create-state-machine, start-execution, describe-execution, get-execution-history', async () => {
      const definition = JSON.stringify({
        StartAt: 'Hello',
        States: {
          Hello: {
            Type: 'Pass',
            Parameters: { 'greeting.$': "States.Format('hello {}', $.who)" },
            End: true,
          },
        },
      });
      const sm = await aws(
        'create-state-machine',
        '--name',
        'cli-smoke',
        '--definition',
        definition,
        '--role-arn',
        'arn:aws:iam::123456789012:role/cli',
      );
      assert.equal(sm.stateMachineArn, 'arn:aws:states:us-east-1:123456789012:stateMachine:cli-smoke');

      const ex = await aws(
        'start-execution',
        '--state-machine-arn',
        String(sm.stateMachineArn),
        '--input',
        '{"who":"cli"}',
      );
      const arn = String(ex.executionArn);
      assert.match(arn, /:execution:cli-smoke:/);

      let d: Record<string, unknown> = {};
      for (let i = 0; i < 50; i++) {
        d = await aws('describe-execution', '--execution-arn', arn);
        if (d.status !== 'RUNNING') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(d.status, 'SUCCEEDED');
      assert.deepEqual(JSON.parse(String(d.output)), { greeting: 'hello cli' });

      const h = await aws('get-execution-history', '--execution-arn', arn);
      const events = h.events as { type: string }[];
      assert.deepEqual(
        events.map((e) => e.type),
        ['ExecutionStarted', 'PassStateEntered', 'PassStateExited', 'ExecutionSucceeded'],
      );

      // Errors reach the CLI with AWS's code.
      await assert.rejects(
        aws('describe-execution', '--execution-arn', `${arn}-missing`),
        (e: { stderr?: string }) => /ExecutionDoesNotExist/.test(e.stderr ?? ''),
      );
    });
  },
);
