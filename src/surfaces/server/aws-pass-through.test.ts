/**
 * `stepwise serve --aws` as users run it (the built CLI in a child process, driven with the AWS
 * SDK's SFN client): no AWS SDK client is loaded at start-up nor by workflows that do not call
 * AWS; a pass-through task loads its client on demand and reaches the local stand-in.
 */
// node:test's describe/test return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { AwsStandIn } from '../../runtime/testing/aws-standins.js';
import { resolveConfig } from '../cli/serve.js';
import { BIN, ROOT, startServeProcess } from './serve-process.js';

const TMP = mkdtempSync(join(tmpdir(), 'stepwise-aws-serve-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

const SECRET = 'serve-test-SECRET-9876543210';
const ROLE = 'arn:aws:iam::123456789012:role/stepwise-test';

/** A module-resolution hook that logs every AWS SDK client module the process resolves. */
const HOOKS = `
import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (/@aws-sdk\\/client-/.test(specifier) || /\\/@aws-sdk\\/client-/.test(r.url)) appendFileSync(log, r.url + '\\n');
  return r;
}
`;

function loaded(log: string): string[] {
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
}

describe('stepwise serve --aws', () => {
  test('loads no AWS SDK client until a pass-through task needs one; credentials stay out of the history', async () => {
    const standIn = new AwsStandIn();
    await standIn.start();
    standIn.createTable('orders', ['id']);
    const log = join(TMP, 'imports.log');
    const hooks = join(TMP, 'hooks.mjs');
    const register = join(TMP, 'register.mjs');
    writeFileSync(hooks, HOOKS);
    writeFileSync(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { log: ${JSON.stringify(log)} } });\n`,
    );
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env))
      if (!k.startsWith('STEPWISE_') && !k.startsWith('AWS_')) env[k] = v;
    Object.assign(env, {
      STEPWISE_AWS_ENDPOINT_DYNAMODB: standIn.url,
      AWS_ACCESS_KEY_ID: 'AKIDSERVETEST',
      AWS_SECRET_ACCESS_KEY: SECRET,
      AWS_CONFIG_FILE: join(TMP, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(TMP, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    const { child, url, stderr, exited } = await startServeProcess(
      ['--aws', '--port', '0', '--data', join(TMP, 'data')],
      env,
      ['--import', pathToFileURL(register).href],
    );
    let sfn: SFNClient | undefined;
    try {
      assert.match(
        stderr(),
        /pass-through to AWS on \(region us-east-1, dynamodb at http:\/\/127\.0\.0\.1:\d+\)/,
      );
      assert.doesNotMatch(stderr(), new RegExp(SECRET));
      assert.deepEqual(loaded(log), [], 'no AWS SDK client at start-up');

      sfn = new SFNClient({
        endpoint: url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      });
      const client = sfn;
      const runToEnd = async (name: string, definition: object, input: object) => {
        const { stateMachineArn } = await client.send(
          new CreateStateMachineCommand({ name, roleArn: ROLE, definition: JSON.stringify(definition) }),
        );
        const { executionArn } = await client.send(
          new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
        );
        for (let i = 0; i < 1000; i++) {
          const d = await client.send(new DescribeExecutionCommand({ executionArn }));
          if (d.status !== 'RUNNING') {
            const h = await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
            return { d, events: h.events ?? [] };
          }
          await new Promise((r) => setTimeout(r, 10));
        }
        throw new Error(`${executionArn} did not finish`);
      };

      const pass = await runToEnd('pass', { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, {});
      assert.equal(pass.d.status, 'SUCCEEDED');
      assert.deepEqual(loaded(log), [], 'no AWS SDK client for a workflow that does not call AWS');

      const put = await runToEnd(
        'put',
        {
          StartAt: 'Put',
          States: {
            Put: {
              Type: 'Task',
              Resource: 'arn:aws:states:::aws-sdk:dynamodb:putItem',
              Parameters: { TableName: 'orders', 'Item.$': '$' },
              End: true,
            },
          },
        },
        { id: { S: 'from-serve' } },
      );
      assert.equal(put.d.status, 'SUCCEEDED', `${put.d.error}: ${put.d.cause}`);
      assert.equal(put.d.output, '{}');
      assert.ok(standIn.tables.get('orders')?.items.has(JSON.stringify([{ S: 'from-serve' }])));
      // The detector works: the task did load the DynamoDB client, and only that one.
      const clients = new Set(loaded(log).map((u) => /@aws-sdk\/(client-[\w-]+)/.exec(u)?.[1]));
      assert.deepEqual([...clients], ['client-dynamodb']);
      assert.doesNotMatch(JSON.stringify(put.events), new RegExp(SECRET));
      assert.match(
        String(standIn.requests.find((q) => q.service === 'dynamodb')?.headers.authorization),
        /Credential=AKIDSERVETEST\//,
      );

      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr());
    } finally {
      sfn?.destroy();
      if (child.exitCode === null) child.kill('SIGKILL');
      await standIn.stop();
    }
  });

  test('--aws, STEPWISE_AWS and --aws-config; a bad configuration file exits 2', () => {
    assert.equal(resolveConfig({}, {}).aws, false);
    assert.equal(resolveConfig({ aws: true }, {}).aws, true);
    assert.equal(resolveConfig({}, { STEPWISE_AWS: '1' }).aws, true);
    assert.equal(resolveConfig({}, { STEPWISE_AWS_CONFIG: 'aws.yaml' }).awsConfig, 'aws.yaml');
    assert.throws(() => resolveConfig({}, { STEPWISE_AWS: 'maybe' }), /STEPWISE_AWS must be/);
    const bad = join(TMP, 'bad-aws.json');
    writeFileSync(bad, JSON.stringify({ credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }));
    const r = spawnSync(process.execPath, [BIN, 'serve', '--aws-config', bad, '--port', '0'], {
      cwd: ROOT,
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('STEPWISE_'))),
      encoding: 'utf8',
      timeout: 15_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /credentials come from the AWS default provider chain/);
  });
});
