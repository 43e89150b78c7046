/** `stepwise serve` as users run it: the built CLI as a child process. */
// node:test's describe/test return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { isLoopback, resolveConfig } from '../cli/serve.js';
import { BIN, ROOT, startServeProcess } from './serve-process.js';

const TMP = mkdtempSync(join(tmpdir(), 'stepwise-serve-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

/** The environment without STEPWISE_* settings of whoever runs the tests. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STEPWISE_')) env[k] = v;
  return { ...env, ...extra };
}

describe('stepwise serve', () => {
  test('starts, prints the listening line, serves, and exits 0 on SIGTERM', async () => {
    const { child, url, stderr, exited } = await startServeProcess(
      ['--port', '0', '--data', join(TMP, 'data')],
      cleanEnv(),
    );
    try {
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await fetch(`${url}/health`);
      assert.equal(health.status, 200);
      const sfn = new SFNClient({
        endpoint: url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      });
      assert.deepEqual((await sfn.send(new ListStateMachinesCommand({}))).stateMachines, []);
      sfn.destroy();
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr());
      assert.doesNotMatch(stderr(), /^\s+at /m);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test('refuses a non-loopback host without credentials, and bad options, with exit 2', () => {
    const remote = spawnSync(
      process.execPath,
      [BIN, 'serve', '--host', '0.0.0.0', '--data', join(TMP, 'd2')],
      {
        cwd: ROOT,
        env: cleanEnv(),
        encoding: 'utf8',
        timeout: 15_000,
      },
    );
    assert.equal(remote.status, 2);
    assert.match(remote.stderr, /refusing to listen on 0\.0\.0\.0 without credentials/);
    const bad = spawnSync(process.execPath, [BIN, 'serve', '--bogus'], {
      cwd: ROOT,
      env: cleanEnv(),
      encoding: 'utf8',
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /bogus/);
    const half = spawnSync(process.execPath, [BIN, 'serve', '--port', '0'], {
      cwd: ROOT,
      env: cleanEnv({ STEPWISE_ACCESS_KEY_ID: 'only-the-key' }),
      encoding: 'utf8',
    });
    assert.equal(half.status, 2);
    assert.match(half.stderr, /STEPWISE_SECRET_ACCESS_KEY/);
  });

  test('flags win over the environment; defaults otherwise', () => {
    const env = {
      STEPWISE_PORT: '9000',
      STEPWISE_HOST: '127.0.0.2',
      STEPWISE_REGION: 'eu-west-1',
      STEPWISE_ACCOUNT: '111111111111',
      STEPWISE_ACCESS_KEY_ID: 'k',
      STEPWISE_SECRET_ACCESS_KEY: 's',
      STEPWISE_DATA_DIR: '/tmp/x',
    };
    const c = resolveConfig({ port: '0' }, env);
    assert.equal(c.port, 0);
    assert.equal(c.host, '127.0.0.2');
    assert.equal(c.region, 'eu-west-1');
    assert.equal(c.account, '111111111111');
    assert.equal(c.dataDir, '/tmp/x');
    assert.deepEqual(c.credentials, { accessKeyId: 'k', secretAccessKey: 's' });
    const d = resolveConfig({}, {});
    assert.equal(d.executionLogs, undefined, 'default: <data>/logs');
    assert.equal(resolveConfig({ 'execution-logs': 'stdout' }, {}).executionLogs, 'stdout');
    assert.equal(resolveConfig({}, { STEPWISE_EXECUTION_LOGS: 'off' }).executionLogs, 'off');
    assert.equal(d.port, 8083);
    assert.equal(d.host, '127.0.0.1');
    assert.equal(d.credentials, undefined);
    assert.throws(() => resolveConfig({ port: 'http' }, {}), /invalid port/);
    assert.throws(() => resolveConfig({ account: '12' }, {}), /12 digits/);
    assert.throws(() => resolveConfig({ 'wait-scale': '-1' }, {}), /wait-scale/);
    assert.equal(d.databasePoolSize, 20);
    assert.equal(resolveConfig({ 'database-pool-size': '5' }, {}).databasePoolSize, 5);
    assert.equal(resolveConfig({}, { STEPWISE_DATABASE_POOL_SIZE: '8' }).databasePoolSize, 8);
    assert.throws(() => resolveConfig({ 'database-pool-size': '0' }, {}), /database-pool-size/);
    assert.throws(() => resolveConfig({ 'database-pool-size': '2.5' }, {}), /database-pool-size/);
    assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost'));
    assert.ok(!isLoopback('0.0.0.0') && !isLoopback('10.0.0.1') && !isLoopback('::'));
  });
});
