/**
 * State machine versions and aliases through the real API server with @aws-sdk/client-sfn:
 * publishing (on create, on update, PublishStateMachineVersion), describing, listing and deleting
 * versions, aliases and their routing, and executions started with version and alias ARNs.
 */
// node:test's describe/test return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateStateMachineAliasCommand,
  CreateStateMachineCommand,
  DeleteStateMachineAliasCommand,
  DeleteStateMachineCommand,
  DeleteStateMachineVersionCommand,
  DescribeExecutionCommand,
  DescribeStateMachineAliasCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachineAliasesCommand,
  ListStateMachineVersionsCommand,
  PublishStateMachineVersionCommand,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  UpdateStateMachineAliasCommand,
  UpdateStateMachineCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { Engine, type EngineOptions } from '../../runtime/engine.js';
import { startServer, type RunningServer } from './server.js';

const ROLE = 'arn:aws:iam::123456789012:role/test-role';
const ROLE2 = 'arn:aws:iam::123456789012:role/other-role';
const ACCOUNT_ARN = 'arn:aws:states:us-east-1:123456789012';
/** A machine whose output says which definition ran. */
const defReturning = (result: string) =>
  JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', Result: result, End: true } } });

interface Fixture {
  sfn: SFNClient;
  close(): Promise<void>;
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function fixture(options: Partial<EngineOptions> = {}): Promise<Fixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stepwise-versions-'));
  dirs.push(dataDir);
  const engine = await Engine.open({ dataDir, waitScale: 0, storeWriter: 'inline', ...options });
  const server: RunningServer = await startServer({ engine, port: 0 });
  const sfn = new SFNClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    disableHostPrefix: true,
    maxAttempts: 1,
  });
  return {
    sfn,
    async close() {
      sfn.destroy();
      await server.close();
      await engine.close();
    },
  };
}

/** AWS's code, message and HTTP status of a failed call. */
async function sdkError(
  p: Promise<unknown>,
): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  assert.fail('expected the call to fail');
}

async function finished(sfn: SFNClient, executionArn: string): Promise<DescribeExecutionCommandOutput> {
  for (let i = 0; i < 400; i++) {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== 'RUNNING') return d;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`execution ${executionArn} did not finish`);
}

async function create(
  sfn: SFNClient,
  name: string,
  extra: { publish?: boolean; versionDescription?: string; type?: 'STANDARD' | 'EXPRESS' } = {},
) {
  return sfn.send(
    new CreateStateMachineCommand({ name, definition: defReturning('r1'), roleArn: ROLE, ...extra }),
  );
}

async function update(sfn: SFNClient, stateMachineArn: string, result: string, publish = true) {
  return sfn.send(
    new UpdateStateMachineCommand({ stateMachineArn, definition: defReturning(result), publish }),
  );
}

async function versionArns(sfn: SFNClient, stateMachineArn: string, maxResults?: number): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListStateMachineVersionsCommand({ stateMachineArn, maxResults, nextToken }),
    );
    if (maxResults !== undefined) assert.ok((page.stateMachineVersions ?? []).length <= maxResults);
    for (const v of page.stateMachineVersions ?? []) {
      assert.ok(v.creationDate instanceof Date);
      arns.push(v.stateMachineVersionArn ?? '');
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return arns;
}

async function runOutput(sfn: SFNClient, stateMachineArn: string, name?: string) {
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name }));
  const d = await finished(sfn, executionArn ?? '');
  assert.equal(d.status, 'SUCCEEDED');
  return { d, output: JSON.parse(d.output!) as unknown };
}

describe('versions', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture({ maxVersionsPerStateMachine: 4 });
  });
  after(() => f.close());

  test('CreateStateMachine with publish creates version 1; DescribeStateMachine answers the version', async () => {
    const c = await create(f.sfn, 'pub', { publish: true, versionDescription: 'first cut' });
    const arn = `${ACCOUNT_ARN}:stateMachine:pub`;
    assert.equal(c.stateMachineArn, arn);
    assert.equal(c.stateMachineVersionArn, `${arn}:1`);
    const v = await f.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${arn}:1` }));
    assert.equal(v.stateMachineArn, `${arn}:1`);
    assert.equal(v.name, 'pub');
    assert.equal(v.description, 'first cut');
    assert.equal(v.definition, defReturning('r1'));
    assert.equal(v.roleArn, ROLE);
    assert.equal(v.type, 'STANDARD');
    assert.equal(v.status, 'ACTIVE');
    assert.deepEqual(v.loggingConfiguration, { level: 'OFF', includeExecutionData: false });
    assert.equal(v.revisionId, undefined, 'the first revision has no id, as on AWS');
    const m = await f.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
    assert.equal(m.description, undefined);
    assert.equal(m.revisionId, undefined);

    const plain = await create(f.sfn, 'plain');
    assert.equal(plain.stateMachineVersionArn, undefined);
    assert.deepEqual(await versionArns(f.sfn, plain.stateMachineArn!), []);

    const bad = await sdkError(create(f.sfn, 'nodesc', { versionDescription: 'x' }));
    assert.equal(bad.name, 'ValidationException');
    assert.equal(bad.message, 'Version description can only be set when publish is true');
    const missing = await sdkError(
      f.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${arn}:9` })),
    );
    assert.equal(missing.name, 'StateMachineDoesNotExist');
    assert.equal(missing.message, `State Machine Does Not Exist: '${arn}:9'`);

    // Creating the same machine again with the same publish answers the same version.
    const again = await create(f.sfn, 'pub', { publish: true, versionDescription: 'first cut' });
    assert.equal(again.stateMachineVersionArn, `${arn}:1`);
  });

  test('UpdateStateMachine with publish: a version per revision, an unchanged update answers the latest one', async () => {
    const { stateMachineArn } = await create(f.sfn, 'upd');
    const arn = stateMachineArn!;
    const u1 = await update(f.sfn, arn, 'r2');
    assert.equal(u1.stateMachineVersionArn, `${arn}:1`);
    assert.ok(u1.revisionId);
    const u2 = await f.sfn.send(
      new UpdateStateMachineCommand({
        stateMachineArn: arn,
        roleArn: ROLE2,
        publish: true,
        versionDescription: 'new role',
      }),
    );
    assert.equal(u2.stateMachineVersionArn, `${arn}:2`);
    assert.notEqual(u2.revisionId, u1.revisionId);
    const same = await f.sfn.send(
      new UpdateStateMachineCommand({ stateMachineArn: arn, roleArn: ROLE2, publish: true }),
    );
    assert.equal(same.revisionId, u2.revisionId, 'an update that changes nothing makes no revision');
    assert.equal(same.stateMachineVersionArn, `${arn}:2`);
    const noPublish = await update(f.sfn, arn, 'r3', false);
    assert.equal(noPublish.stateMachineVersionArn, undefined);

    const v1 = await f.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${arn}:1` }));
    assert.equal(v1.definition, defReturning('r2'), 'versions are immutable snapshots');
    assert.equal(v1.roleArn, ROLE);
    assert.equal(v1.revisionId, u1.revisionId);
    const v2 = await f.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${arn}:2` }));
    assert.equal(v2.roleArn, ROLE2);
    assert.equal(v2.description, 'new role');
    assert.deepEqual(await versionArns(f.sfn, arn), [`${arn}:2`, `${arn}:1`]);

    const bad = await sdkError(
      f.sfn.send(
        new UpdateStateMachineCommand({ stateMachineArn: arn, roleArn: ROLE, versionDescription: 'x' }),
      ),
    );
    assert.equal(bad.name, 'ValidationException');
  });

  test('PublishStateMachineVersion: revisionId check, INITIAL, idempotent, numbers never reused, quota', async () => {
    const { stateMachineArn } = await create(f.sfn, 'publish');
    const arn = stateMachineArn!;
    const initial = await f.sfn.send(
      new PublishStateMachineVersionCommand({
        stateMachineArn: arn,
        revisionId: 'INITIAL',
        description: 'd1',
      }),
    );
    assert.equal(initial.stateMachineVersionArn, `${arn}:1`);
    assert.ok(initial.creationDate instanceof Date);
    const again = await f.sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: arn }));
    assert.equal(again.stateMachineVersionArn, `${arn}:1`, 'the current revision was published already');
    assert.equal(again.creationDate?.getTime(), initial.creationDate?.getTime());

    const u = await update(f.sfn, arn, 'r2', false);
    const stale = await sdkError(
      f.sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: arn, revisionId: 'INITIAL' })),
    );
    assert.equal(stale.name, 'ConflictException');
    assert.equal(stale.status, 409);
    assert.equal(
      stale.message,
      `Failed to publish the State Machine version for revision INITIAL. The current State Machine revision is ${u.revisionId}.`,
    );
    const wrong = await sdkError(
      f.sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: arn, revisionId: 'nope' })),
    );
    assert.equal(wrong.name, 'ConflictException');
    const v2 = await f.sfn.send(
      new PublishStateMachineVersionCommand({ stateMachineArn: arn, revisionId: u.revisionId }),
    );
    assert.equal(v2.stateMachineVersionArn, `${arn}:2`);

    await f.sfn.send(new DeleteStateMachineVersionCommand({ stateMachineVersionArn: `${arn}:2` }));
    await update(f.sfn, arn, 'r3', false);
    const v3 = await f.sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: arn }));
    assert.equal(v3.stateMachineVersionArn, `${arn}:3`, 'the number of a deleted version is not reused');
    for (const r of ['r4', 'r5']) await update(f.sfn, arn, r);
    await update(f.sfn, arn, 'r6', false);
    const quota = await sdkError(f.sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: arn })));
    assert.equal(quota.name, 'ServiceQuotaExceededException');
    assert.equal(quota.status, 402);

    const none = await sdkError(
      f.sfn.send(
        new PublishStateMachineVersionCommand({ stateMachineArn: `${ACCOUNT_ARN}:stateMachine:none` }),
      ),
    );
    assert.equal(none.name, 'StateMachineDoesNotExist');
    const invalid = await sdkError(
      f.sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: 'arn:aws:nope' })),
    );
    assert.equal(invalid.name, 'InvalidArn');
  });

  test('ListStateMachineVersions pages newest first; DeleteStateMachineVersion is idempotent', async () => {
    const { stateMachineArn } = await create(f.sfn, 'list', { publish: true });
    const arn = stateMachineArn!;
    for (const r of ['a', 'b']) await update(f.sfn, arn, r);
    assert.deepEqual(await versionArns(f.sfn, arn, 1), [`${arn}:3`, `${arn}:2`, `${arn}:1`]);
    const page = await f.sfn.send(
      new ListStateMachineVersionsCommand({ stateMachineArn: arn, maxResults: 2 }),
    );
    assert.equal((page.stateMachineVersions ?? []).length, 2);
    assert.ok(page.nextToken);
    const badToken = await sdkError(
      f.sfn.send(
        new ListStateMachineVersionsCommand({
          stateMachineArn: `${ACCOUNT_ARN}:stateMachine:pub`,
          nextToken: page.nextToken,
        }),
      ),
    );
    assert.equal(badToken.name, 'InvalidToken');
    assert.deepEqual(await versionArns(f.sfn, `${ACCOUNT_ARN}:stateMachine:unknown`), []);

    await f.sfn.send(new DeleteStateMachineVersionCommand({ stateMachineVersionArn: `${arn}:2` }));
    await f.sfn.send(new DeleteStateMachineVersionCommand({ stateMachineVersionArn: `${arn}:2` }));
    assert.deepEqual(await versionArns(f.sfn, arn), [`${arn}:3`, `${arn}:1`]);
    const gone = await sdkError(f.sfn.send(new StartExecutionCommand({ stateMachineArn: `${arn}:2` })));
    assert.equal(gone.name, 'StateMachineDoesNotExist');
    const notVersion = await sdkError(
      f.sfn.send(new DeleteStateMachineVersionCommand({ stateMachineVersionArn: arn })),
    );
    assert.equal(notVersion.name, 'InvalidArn');
  });

  test('executions of a version run its definition and carry stateMachineVersionArn', async () => {
    const { stateMachineArn } = await create(f.sfn, 'exec', { publish: true });
    const arn = stateMachineArn!;
    await update(f.sfn, arn, 'r2', false);
    const ofVersion = await runOutput(f.sfn, `${arn}:1`, 'of-version');
    assert.equal(ofVersion.output, 'r1', "the version's definition, not the latest revision's");
    assert.equal(ofVersion.d.executionArn, `${ACCOUNT_ARN}:execution:exec:of-version`);
    assert.equal(ofVersion.d.stateMachineArn, arn);
    assert.equal(ofVersion.d.stateMachineVersionArn, `${arn}:1`);
    assert.equal(ofVersion.d.stateMachineAliasArn, undefined);
    const latest = await runOutput(f.sfn, arn, 'latest');
    assert.equal(latest.output, 'r2');
    assert.equal(latest.d.stateMachineVersionArn, undefined);

    const history = await f.sfn.send(
      new GetExecutionHistoryCommand({ executionArn: ofVersion.d.executionArn }),
    );
    const startedDetails = history.events?.[0]?.executionStartedEventDetails;
    assert.equal(startedDetails?.stateMachineVersionArn, `${arn}:1`);
    assert.equal(startedDetails?.stateMachineAliasArn, undefined);

    const forExec = await f.sfn.send(
      new DescribeStateMachineForExecutionCommand({ executionArn: ofVersion.d.executionArn }),
    );
    assert.equal(forExec.definition, defReturning('r1'));
    assert.equal(forExec.stateMachineArn, arn);
    assert.equal(forExec.revisionId, undefined);

    const all = await f.sfn.send(new ListExecutionsCommand({ stateMachineArn: arn }));
    assert.deepEqual(
      all.executions?.map((e) => [e.name, e.stateMachineArn, e.stateMachineVersionArn]),
      [
        ['latest', arn, undefined],
        ['of-version', arn, `${arn}:1`],
      ],
    );
    const byVersion = await f.sfn.send(new ListExecutionsCommand({ stateMachineArn: `${arn}:1` }));
    assert.deepEqual(
      byVersion.executions?.map((e) => e.name),
      ['of-version'],
    );
    const unknownVersion = await sdkError(
      f.sfn.send(new ListExecutionsCommand({ stateMachineArn: `${arn}:7` })),
    );
    assert.equal(unknownVersion.name, 'ResourceNotFound');
    assert.equal(unknownVersion.status, 404);
  });

  test('StartSyncExecution with a version ARN of an Express machine runs that version', async () => {
    const { stateMachineArn } = await create(f.sfn, 'express', { publish: true, type: 'EXPRESS' });
    const arn = stateMachineArn!;
    await update(f.sfn, arn, 'r2', false);
    const r = await f.sfn.send(new StartSyncExecutionCommand({ stateMachineArn: `${arn}:1` }));
    assert.equal(r.status, 'SUCCEEDED');
    assert.equal(JSON.parse(r.output!), 'r1');
    const latest = await f.sfn.send(new StartSyncExecutionCommand({ stateMachineArn: arn }));
    assert.equal(JSON.parse(latest.output!), 'r2');
  });

  test('DeleteStateMachine deletes its versions and aliases', async () => {
    const { stateMachineArn } = await create(f.sfn, 'gone', { publish: true });
    const arn = stateMachineArn!;
    await f.sfn.send(
      new CreateStateMachineAliasCommand({
        name: 'live',
        routingConfiguration: [{ stateMachineVersionArn: `${arn}:1`, weight: 100 }],
      }),
    );
    await f.sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
    assert.deepEqual(await versionArns(f.sfn, arn), []);
    const v = await sdkError(f.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${arn}:1` })));
    assert.equal(v.name, 'StateMachineDoesNotExist');
    const a = await sdkError(
      f.sfn.send(new DescribeStateMachineAliasCommand({ stateMachineAliasArn: `${arn}:live` })),
    );
    assert.equal(a.name, 'ResourceNotFound');
    const again = await create(f.sfn, 'gone', { publish: true });
    assert.equal(again.stateMachineVersionArn, `${arn}:1`, 'a new machine of that name numbers from 1');
  });
});

describe('aliases', () => {
  let f: Fixture;
  // Each start through an alias takes the next of these; the weights decide the version.
  const draws: number[] = [];
  let arn: string;
  before(async () => {
    f = await fixture({ routingRandom: () => draws.shift() ?? 0, maxAliasesPerStateMachine: 3 });
    arn = (await create(f.sfn, 'routed', { publish: true })).stateMachineArn!;
    await update(f.sfn, arn, 'r2');
  });
  after(() => f.close());

  test('create, describe, update, list (paginated) and delete aliases', async () => {
    const created = await f.sfn.send(
      new CreateStateMachineAliasCommand({
        name: 'PROD',
        description: 'production',
        routingConfiguration: [
          { stateMachineVersionArn: `${arn}:1`, weight: 80 },
          { stateMachineVersionArn: `${arn}:2`, weight: 20 },
        ],
      }),
    );
    assert.equal(created.stateMachineAliasArn, `${arn}:PROD`);
    assert.ok(created.creationDate instanceof Date);
    const d = await f.sfn.send(new DescribeStateMachineAliasCommand({ stateMachineAliasArn: `${arn}:PROD` }));
    assert.equal(d.name, 'PROD');
    assert.equal(d.description, 'production');
    assert.deepEqual(d.routingConfiguration, [
      { stateMachineVersionArn: `${arn}:1`, weight: 80 },
      { stateMachineVersionArn: `${arn}:2`, weight: 20 },
    ]);
    assert.equal(d.updateDate?.getTime(), d.creationDate?.getTime());

    // The same request again is idempotent; a different one conflicts.
    const same = await f.sfn.send(
      new CreateStateMachineAliasCommand({
        name: 'PROD',
        description: 'production',
        routingConfiguration: d.routingConfiguration,
      }),
    );
    assert.equal(same.creationDate?.getTime(), created.creationDate?.getTime());
    const conflict = await sdkError(
      f.sfn.send(
        new CreateStateMachineAliasCommand({
          name: 'PROD',
          routingConfiguration: [{ stateMachineVersionArn: `${arn}:1`, weight: 100 }],
        }),
      ),
    );
    assert.equal(conflict.name, 'ConflictException');
    assert.equal(conflict.status, 409);
    assert.equal(
      conflict.message,
      'Failed to create alias because an alias with the same name and a different routing configuration already exists.',
    );

    await new Promise((r) => setTimeout(r, 5));
    const u = await f.sfn.send(
      new UpdateStateMachineAliasCommand({ stateMachineAliasArn: `${arn}:PROD`, description: 'prod' }),
    );
    assert.ok(u.updateDate instanceof Date);
    await f.sfn.send(
      new UpdateStateMachineAliasCommand({
        stateMachineAliasArn: `${arn}:PROD`,
        routingConfiguration: [{ stateMachineVersionArn: `${arn}:2`, weight: 100 }],
      }),
    );
    const d2 = await f.sfn.send(
      new DescribeStateMachineAliasCommand({ stateMachineAliasArn: `${arn}:PROD` }),
    );
    assert.equal(d2.description, 'prod');
    assert.deepEqual(d2.routingConfiguration, [{ stateMachineVersionArn: `${arn}:2`, weight: 100 }]);
    assert.ok(d2.updateDate!.getTime() > d2.creationDate!.getTime());

    for (const name of ['beta', 'gamma'])
      await f.sfn.send(
        new CreateStateMachineAliasCommand({
          name,
          routingConfiguration: [{ stateMachineVersionArn: `${arn}:1`, weight: 100 }],
        }),
      );
    const quota = await sdkError(
      f.sfn.send(
        new CreateStateMachineAliasCommand({
          name: 'delta',
          routingConfiguration: [{ stateMachineVersionArn: `${arn}:1`, weight: 100 }],
        }),
      ),
    );
    assert.equal(quota.name, 'ServiceQuotaExceededException');

    const listed: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await f.sfn.send(
        new ListStateMachineAliasesCommand({ stateMachineArn: arn, maxResults: 2, nextToken }),
      );
      assert.ok((page.stateMachineAliases ?? []).length <= 2);
      listed.push(...(page.stateMachineAliases ?? []).map((a) => a.stateMachineAliasArn ?? ''));
      nextToken = page.nextToken;
    } while (nextToken);
    assert.deepEqual(listed, [`${arn}:PROD`, `${arn}:beta`, `${arn}:gamma`], 'oldest first, as AWS answers');
    const ofV1 = await f.sfn.send(new ListStateMachineAliasesCommand({ stateMachineArn: `${arn}:1` }));
    assert.deepEqual(
      (ofV1.stateMachineAliases ?? []).map((a) => a.stateMachineAliasArn),
      [`${arn}:beta`, `${arn}:gamma`],
    );

    const referenced = await sdkError(
      f.sfn.send(new DeleteStateMachineVersionCommand({ stateMachineVersionArn: `${arn}:1` })),
    );
    assert.equal(referenced.name, 'ConflictException');
    assert.equal(
      referenced.message,
      'Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [beta, gamma]',
    );
    for (const name of ['beta', 'gamma', 'gamma'])
      await f.sfn.send(new DeleteStateMachineAliasCommand({ stateMachineAliasArn: `${arn}:${name}` }));
    const after = await f.sfn.send(new ListStateMachineAliasesCommand({ stateMachineArn: arn }));
    assert.deepEqual(
      (after.stateMachineAliases ?? []).map((a) => a.stateMachineAliasArn),
      [`${arn}:PROD`],
    );
  });

  test('alias errors carry AWS codes and messages', async () => {
    const route = (v: string, weight = 100) => ({ stateMachineVersionArn: v, weight });
    const cases: [Promise<unknown>, string, string | RegExp][] = [
      [
        f.sfn.send(new CreateStateMachineAliasCommand({ name: 'a1', routingConfiguration: [route(arn)] })),
        'ValidationException',
        `Routing configuration must contain state machine version ARNs. Received: [${arn}]`,
      ],
      [
        f.sfn.send(
          new CreateStateMachineAliasCommand({
            name: 'a1',
            routingConfiguration: [route(`${arn}:1`, 50), route(`${arn}:1`, 50)],
          }),
        ),
        'ValidationException',
        `Routing configuration must contain distinct state machine version ARNs. Received: [${arn}:1, ${arn}:1]`,
      ],
      [
        f.sfn.send(
          new CreateStateMachineAliasCommand({
            name: 'a1',
            routingConfiguration: [route(`${arn}:1`, 70), route(`${arn}:2`, 29)],
          }),
        ),
        'ValidationException',
        'Sum of routing configuration weights must equal 100. Received: [70, 29]',
      ],
      [
        f.sfn.send(
          new CreateStateMachineAliasCommand({ name: 'a1', routingConfiguration: [route(`${arn}:1`, 101)] }),
        ),
        'ValidationException',
        "1 validation error detected: Value '101' at 'routingConfiguration.1.member.weight' failed to satisfy constraint: Member must have value less than or equal to 100",
      ],
      [
        f.sfn.send(
          new CreateStateMachineAliasCommand({
            name: 'a1',
            routingConfiguration: [route(`${arn}:1`, 50), route(`${arn}:2`, 30), route(`${arn}:3`, 20)],
          }),
        ),
        'ValidationException',
        /at 'routingConfiguration' failed to satisfy constraint: Member must have length less than or equal to 2$/,
      ],
      [
        f.sfn.send(
          new CreateStateMachineAliasCommand({ name: '123', routingConfiguration: [route(`${arn}:1`)] }),
        ),
        'ValidationException',
        "1 validation error detected: Value '123' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?=.*[a-zA-Z_\\-\\.])[a-zA-Z0-9_\\-\\.]+$",
      ],
      [
        f.sfn.send(
          new CreateStateMachineAliasCommand({ name: 'a1', routingConfiguration: [route(`${arn}:9`)] }),
        ),
        'ResourceNotFound',
        'Request references a resource that does not exist.',
      ],
      [
        f.sfn.send(new DescribeStateMachineAliasCommand({ stateMachineAliasArn: `${arn}:nope` })),
        'ResourceNotFound',
        'Request references a resource that does not exist.',
      ],
      [
        f.sfn.send(
          new UpdateStateMachineAliasCommand({ stateMachineAliasArn: `${arn}:nope`, description: 'x' }),
        ),
        'ResourceNotFound',
        'Request references a resource that does not exist.',
      ],
      [
        f.sfn.send(new UpdateStateMachineAliasCommand({ stateMachineAliasArn: `${arn}:PROD` })),
        'ValidationException',
        /must be specified/,
      ],
      [
        f.sfn.send(
          new UpdateStateMachineAliasCommand({
            stateMachineAliasArn: `${arn}:PROD`,
            routingConfiguration: [route(`${ACCOUNT_ARN}:stateMachine:other:1`)],
          }),
        ),
        'ResourceNotFound',
        'Request references a resource that does not exist.',
      ],
      [
        f.sfn.send(new DescribeStateMachineAliasCommand({ stateMachineAliasArn: `${arn}:1` })),
        'InvalidArn',
        /Invalid Arn/,
      ],
      [
        f.sfn.send(
          new ListStateMachineAliasesCommand({ stateMachineArn: `${ACCOUNT_ARN}:stateMachine:none` }),
        ),
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${ACCOUNT_ARN}:stateMachine:none'`,
      ],
      [
        f.sfn.send(new StartExecutionCommand({ stateMachineArn: `${arn}:nope` })),
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${arn}:nope'`,
      ],
    ];
    for (const [p, code, message] of cases) {
      const e = await sdkError(p);
      assert.equal(e.name, code, e.message);
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
    }
    await f.sfn.send(new DeleteStateMachineAliasCommand({ stateMachineAliasArn: `${arn}:nope` }));
  });

  test('StartExecution through an alias picks a version by weight and records both ARNs', async () => {
    await f.sfn.send(
      new CreateStateMachineAliasCommand({
        name: 'canary',
        routingConfiguration: [
          { stateMachineVersionArn: `${arn}:1`, weight: 90 },
          { stateMachineVersionArn: `${arn}:2`, weight: 10 },
        ],
      }),
    );
    const alias = `${arn}:canary`;
    // 0.05 and 0.89 fall in version 1's 90 %, 0.9 and 0.99 in version 2's 10 %.
    draws.push(0.05, 0.9, 0.89, 0.99);
    const runs = [];
    for (const name of ['c1', 'c2', 'c3', 'c4']) runs.push(await runOutput(f.sfn, alias, name));
    assert.deepEqual(
      runs.map((r) => r.output),
      ['r1', 'r2', 'r1', 'r2'],
    );
    assert.deepEqual(
      runs.map((r) => r.d.stateMachineVersionArn),
      [`${arn}:1`, `${arn}:2`, `${arn}:1`, `${arn}:2`],
    );
    for (const r of runs) {
      assert.equal(r.d.stateMachineAliasArn, alias);
      assert.equal(r.d.stateMachineArn, arn);
    }
    const history = await f.sfn.send(
      new GetExecutionHistoryCommand({ executionArn: runs[1]!.d.executionArn }),
    );
    assert.equal(history.events?.[0]?.executionStartedEventDetails?.stateMachineAliasArn, alias);
    assert.equal(history.events?.[0]?.executionStartedEventDetails?.stateMachineVersionArn, `${arn}:2`);

    const byAlias = await f.sfn.send(new ListExecutionsCommand({ stateMachineArn: alias, maxResults: 3 }));
    assert.deepEqual(
      byAlias.executions?.map((e) => [e.name, e.stateMachineAliasArn, e.stateMachineVersionArn]),
      [
        ['c4', alias, `${arn}:2`],
        ['c3', alias, `${arn}:1`],
        ['c2', alias, `${arn}:2`],
      ],
    );
    assert.ok(byAlias.nextToken);
    const byVersion2 = await f.sfn.send(new ListExecutionsCommand({ stateMachineArn: `${arn}:2` }));
    assert.deepEqual(
      byVersion2.executions?.map((e) => e.name),
      ['c4', 'c2'],
    );
    const unknownAlias = await sdkError(
      f.sfn.send(new ListExecutionsCommand({ stateMachineArn: `${arn}:nope` })),
    );
    assert.equal(unknownAlias.name, 'ResourceNotFound');
  });
});
