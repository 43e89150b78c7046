/**
 * The contract every `Store` implementation must pass, as a node:test suite any implementation's
 * test file can run (`runStoreContract('sqlite', harness)`). It also prints two figures: group
 * commit throughput and ListExecutions latency at 100,000 executions.
 */
// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import type { ExecutionStatus, HistoryEvent, TaskRequest } from '../../interpreter/types.js';
import {
  InvalidPageToken,
  isIdempotentStart,
  timerChanges,
  type NewExecution,
  type Page,
  type PageRequest,
  type StateMachineRecord,
  type StepChanges,
  type StepWrite,
  type Store,
} from './types.js';
import { definitionIdOf } from './rows.js';

export interface StoreHarness {
  /** A new, empty store. */
  fresh(): Promise<Store>;
  /** Another connection to the data of `store` (which may be closed): a reopen, or a second process. */
  connect(store: Store): Promise<Store>;
  /** Runs once after the suite. */
  cleanup?(): Promise<void>;
  /** Executions for the ListExecutions scale test (default 100,000). */
  scaleExecutions?: number;
}

const ACCOUNT = 'arn:aws:states:us-east-1:123456789012';
const T0 = Date.UTC(2024, 0, 1);
const DEFINITION = '{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}';

const smArn = (name: string) => `${ACCOUNT}:stateMachine:${name}`;
export const exArn = (sm: string, name: string) => `${ACCOUNT}:execution:${sm}:${name}`;
const actArn = (name: string) => `${ACCOUNT}:activity:${name}`;

function machine(name: string, extra: Partial<StateMachineRecord> = {}): StateMachineRecord {
  return {
    arn: smArn(name),
    name,
    type: 'STANDARD',
    definition: DEFINITION,
    roleArn: `arn:aws:iam::123456789012:role/${name}`,
    revisionId: 'r1',
    creationDate: T0,
    options: { description: name },
    ...extra,
  };
}

export function newExecution(sm: string, name: string, startDate = T0, input = '{"x":1}'): NewExecution {
  return {
    executionArn: exArn(sm, name),
    stateMachineArn: smArn(sm),
    name,
    input,
    startDate,
    definition: DEFINITION,
  };
}

function event(id: number, type = 'PassStateEntered', details: Record<string, unknown> = {}): HistoryEvent {
  return { id, previousEventId: id - 1, timestamp: T0 + id, type, ...details };
}

function request(taskId: string, token?: string): TaskRequest {
  return {
    taskId,
    resource: 'arn:aws:states:::lambda:invoke',
    input: { taskId },
    timeoutSeconds: 60,
    heartbeatSeconds: undefined,
    taskToken: token,
    stateName: 'Work',
  };
}

const started = (state: unknown = { step: 0 }): StepChanges => ({
  state,
  status: 'RUNNING',
  events: [event(1, 'ExecutionStarted', { input: { x: 1 } })],
});

/** Every item of a paged query, checking that each page respects the limit. */
async function all<T>(
  query: (page: PageRequest) => Promise<Page<T> | undefined>,
  limit: number,
): Promise<T[]> {
  const items: T[] = [];
  let nextToken: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await query({ limit, nextToken });
    assert.ok(page !== undefined);
    assert.ok(page.items.length <= limit);
    items.push(...page.items);
    nextToken = page.nextToken;
    if (nextToken === undefined) return items;
    assert.equal(page.items.length, limit, 'only the last page may be short');
  }
  throw new Error('pagination did not end');
}

/** A step of typical size (a few-KB state, three events, a timer and a task swapped): version `version`, step `n`. */
export function typicalStep(arn: string, version: number, n: number): StepWrite {
  const payload = {
    order: { id: `o-${n}`, items: Array.from({ length: 8 }, (_, i) => ({ sku: `sku-${i}`, qty: i })) },
  };
  const state = {
    status: 'RUNNING',
    input: payload,
    lastEventId: 3 * n + 3,
    frames: {
      0: {
        id: 0,
        stateName: `Step${n}`,
        phase: 'task',
        input: payload,
        retryCounts: [0],
        timerIds: [`t${n}`],
      },
      1: { id: 1, stateName: 'Branch', phase: 'children', input: payload, retryCounts: [], timerIds: [] },
    },
    tasks: { [`task-${n}`]: 0 },
    timers: { [`t${n}`]: { kind: 'taskTimeout', frameId: 0, taskId: `task-${n}` } },
  };
  const base = 3 * n + 1;
  return {
    executionArn: arn,
    expectedVersion: version,
    state,
    status: 'RUNNING',
    events: [
      event(base + 1, 'TaskSucceeded', { output: payload }),
      event(base + 2, 'TaskStateExited', { name: `Step${n}`, output: payload }),
      event(base + 3, 'TaskStateEntered', { name: `Step${n + 1}`, input: payload }),
    ],
    timersRemoved: [`t${n - 1}`],
    timersSet: [{ timerId: `t${n}`, dueTime: T0 + 60_000 * (n + 1) }],
    tasksRemoved: [`task-${n - 1}`],
    tasksAdded: [{ taskId: `task-${n}`, request: request(`task-${n}`) }],
  };
}

export function runStoreContract(name: string, harness: StoreHarness): void {
  describe(`store contract: ${name}`, () => {
    const opened: Store[] = [];
    const fresh = async () => {
      const s = await harness.fresh();
      opened.push(s);
      return s;
    };
    const connect = async (of: Store) => {
      const s = await harness.connect(of);
      opened.push(s);
      return s;
    };
    after(async () => {
      for (const s of opened) await s.close().catch(() => undefined);
      await harness.cleanup?.();
    });

    describe('state machines', () => {
      it('creates, gets, and reports an existing name without changing it', async () => {
        const s = await fresh();
        assert.deepEqual(await s.createStateMachine(machine('a')), { created: true });
        assert.deepEqual(await s.getStateMachine(smArn('a')), machine('a'));
        const again = await s.createStateMachine(machine('a', { roleArn: 'other' }));
        assert.deepEqual(again, { created: false, existing: machine('a') });
        assert.equal(await s.getStateMachine(smArn('nope')), undefined);
      });

      it('updates with an optimistic revision check', async () => {
        const s = await fresh();
        await s.createStateMachine(machine('a'));
        const next = machine('a', { definition: '{"StartAt":"B"}', revisionId: 'r2', options: { x: [1] } });
        assert.equal(await s.updateStateMachine(next, 'r0'), 'conflict');
        assert.equal(await s.updateStateMachine(next, 'r1'), 'updated');
        assert.deepEqual(await s.getStateMachine(smArn('a')), next);
        assert.equal(await s.updateStateMachine(machine('zz'), 'r1'), 'missing');
      });

      it('deletes a machine and its tags; its executions keep their definition', async () => {
        const s = await fresh();
        await s.createStateMachine(machine('a'), [{ key: 'team', value: 'x' }]);
        await s.createExecution(newExecution('a', 'e1'), started());
        await s.updateStateMachine(machine('a', { definition: '{"changed":true}', revisionId: 'r2' }), 'r1');
        assert.equal(await s.deleteStateMachine(smArn('a')), true);
        assert.equal(await s.deleteStateMachine(smArn('a')), false);
        assert.equal(await s.getStateMachine(smArn('a')), undefined);
        assert.deepEqual(await s.listTags(smArn('a')), []);
        const ex = await s.getExecution(exArn('a', 'e1'));
        assert.ok(ex);
        assert.equal(await s.getDefinition(ex.definitionId), DEFINITION);
        assert.equal((await s.loadState(exArn('a', 'e1')))?.definitionId, ex.definitionId);
        assert.equal(await s.getDefinition('no-such-id'), undefined);
      });

      it('lists by ARN with opaque tokens', async () => {
        const s = await fresh();
        const names = ['m3', 'm1', 'm5', 'm2', 'm4'];
        for (const n of names) await s.createStateMachine(machine(n));
        const listed = await all((p) => s.listStateMachines(p), 2);
        assert.deepEqual(
          listed.map((m) => m.name),
          [...names].sort(),
        );
        const first = await s.listStateMachines({ limit: 5 });
        assert.equal(first.nextToken, undefined, 'no token when nothing follows');
        await assert.rejects(s.listStateMachines({ limit: 2, nextToken: 'garbage' }), InvalidPageToken);
        await assert.rejects(s.listStateMachines({ limit: 0 }), RangeError);
      });
    });

    describe('versions and aliases', () => {
      const publish = (
        s: Store,
        name: string,
        extra: { expectedRevisionId?: string; description?: string } = {},
      ) => s.publishStateMachineVersion(smArn(name), { creationDate: T0 + 5, maxVersions: 3, ...extra });

      it('publishes immutable snapshots numbered 1, 2, … never reused; a published revision is returned again', async () => {
        const s = await fresh();
        assert.deepEqual(await publish(s, 'a'), { outcome: 'missing' });
        await s.createStateMachine(machine('a', { options: { loggingConfiguration: { level: 'OFF' } } }));
        const v1 = await publish(s, 'a', { description: 'first' });
        const expected = {
          arn: `${smArn('a')}:1`,
          stateMachineArn: smArn('a'),
          version: 1,
          type: 'STANDARD',
          definition: DEFINITION,
          roleArn: machine('a').roleArn,
          revisionId: 'r1',
          description: 'first',
          creationDate: T0 + 5,
          options: { loggingConfiguration: { level: 'OFF' } },
        };
        assert.deepEqual(v1, { outcome: 'created', version: expected });
        assert.deepEqual(await publish(s, 'a', { description: 'other' }), {
          outcome: 'existing',
          version: expected,
        });
        assert.deepEqual(await publish(s, 'a', { expectedRevisionId: 'r0' }), {
          outcome: 'conflict',
          revisionId: 'r1',
        });
        await s.updateStateMachine(machine('a', { definition: '{"v":2}', revisionId: 'r2' }), 'r1');
        const v2 = await publish(s, 'a', { expectedRevisionId: 'r2' });
        assert.equal(v2.outcome, 'created');
        assert.ok(v2.outcome === 'created');
        assert.equal(v2.version.arn, `${smArn('a')}:2`);
        assert.equal(v2.version.definition, '{"v":2}');
        assert.equal(v2.version.description, undefined);
        assert.deepEqual(await s.getStateMachineVersion(`${smArn('a')}:1`), expected, 'v1 is unchanged');
        assert.deepEqual(await s.deleteStateMachineVersion(`${smArn('a')}:2`), { outcome: 'deleted' });
        assert.deepEqual(await s.deleteStateMachineVersion(`${smArn('a')}:2`), { outcome: 'deleted' });
        assert.equal(await s.getStateMachineVersion(`${smArn('a')}:2`), undefined);
        await s.updateStateMachine(machine('a', { definition: '{"v":3}', revisionId: 'r3' }), 'r2');
        const v3 = await publish(s, 'a');
        assert.ok(v3.outcome === 'created');
        assert.equal(v3.version.version, 3, 'the number of a deleted version is not reused');
        await s.updateStateMachine(machine('a', { definition: '{"v":4}', revisionId: 'r4' }), 'r3');
        assert.equal((await publish(s, 'a')).outcome, 'created');
        await s.updateStateMachine(machine('a', { definition: '{"v":5}', revisionId: 'r5' }), 'r4');
        assert.deepEqual(await publish(s, 'a'), { outcome: 'limit' }, 'three versions exist');
      });

      it('lists versions newest first with opaque tokens', async () => {
        const s = await fresh();
        await s.createStateMachine(machine('a'));
        await s.createStateMachine(machine('b'));
        for (let i = 1; i <= 3; i++) {
          if (i > 1) await s.updateStateMachine(machine('a', { revisionId: `r${i}` }), `r${i - 1}`);
          await publish(s, 'a');
        }
        const listed = await all((p) => s.listStateMachineVersions({ stateMachineArn: smArn('a'), ...p }), 2);
        assert.deepEqual(
          listed.map((v) => v.version),
          [3, 2, 1],
        );
        assert.deepEqual(
          (await s.listStateMachineVersions({ stateMachineArn: smArn('b'), limit: 5 })).items,
          [],
        );
        const page = await s.listStateMachineVersions({ stateMachineArn: smArn('a'), limit: 1 });
        assert.ok(page.nextToken);
        await assert.rejects(
          s.listStateMachineVersions({ stateMachineArn: smArn('b'), limit: 1, nextToken: page.nextToken }),
          InvalidPageToken,
        );
      });

      it('creates, updates and deletes aliases routed to existing versions; a routed version is not deleted', async () => {
        const s = await fresh();
        await s.createStateMachine(machine('a'));
        await publish(s, 'a');
        await s.updateStateMachine(machine('a', { revisionId: 'r2' }), 'r1');
        await publish(s, 'a');
        const v1 = `${smArn('a')}:1`;
        const v2 = `${smArn('a')}:2`;
        const alias = {
          arn: `${smArn('a')}:PROD`,
          stateMachineArn: smArn('a'),
          name: 'PROD',
          description: 'production',
          routingConfiguration: [
            { stateMachineVersionArn: v2, weight: 90 },
            { stateMachineVersionArn: v1, weight: 10 },
          ],
          creationDate: T0 + 10,
          updateDate: T0 + 10,
        };
        assert.deepEqual(
          await s.createStateMachineAlias(
            { ...alias, routingConfiguration: [{ stateMachineVersionArn: `${smArn('a')}:9`, weight: 100 }] },
            2,
          ),
          { outcome: 'versionMissing', versionArn: `${smArn('a')}:9` },
        );
        assert.deepEqual(await s.createStateMachineAlias(alias, 2), { outcome: 'created' });
        assert.deepEqual(await s.getStateMachineAlias(alias.arn), alias, 'routes keep their order');
        assert.deepEqual(await s.createStateMachineAlias({ ...alias, description: 'x' }, 2), {
          outcome: 'exists',
          existing: alias,
        });
        const beta = {
          ...alias,
          arn: `${smArn('a')}:BETA`,
          name: 'BETA',
          routingConfiguration: [{ stateMachineVersionArn: v2, weight: 100 }],
          creationDate: T0 + 11,
          updateDate: T0 + 11,
        };
        delete (beta as { description?: string }).description;
        assert.deepEqual(await s.createStateMachineAlias(beta, 2), { outcome: 'created' });
        assert.deepEqual(await s.getStateMachineAlias(beta.arn), beta);
        assert.deepEqual(await s.createStateMachineAlias({ ...beta, arn: `${smArn('a')}:C`, name: 'C' }, 2), {
          outcome: 'limit',
        });

        assert.deepEqual(await s.deleteStateMachineVersion(v2), {
          outcome: 'referenced',
          aliasNames: ['BETA', 'PROD'],
        });
        assert.deepEqual(
          await s.updateStateMachineAlias(alias.arn, { description: 'p', updateDate: T0 + 20 }),
          {
            outcome: 'updated',
          },
        );
        assert.deepEqual(await s.getStateMachineAlias(alias.arn), {
          ...alias,
          description: 'p',
          updateDate: T0 + 20,
        });
        const routes = [{ stateMachineVersionArn: v1, weight: 100 }];
        assert.deepEqual(
          await s.updateStateMachineAlias(alias.arn, {
            routingConfiguration: [{ stateMachineVersionArn: `${smArn('a')}:7`, weight: 100 }],
            updateDate: T0 + 21,
          }),
          { outcome: 'versionMissing', versionArn: `${smArn('a')}:7` },
        );
        await s.updateStateMachineAlias(alias.arn, { routingConfiguration: routes, updateDate: T0 + 22 });
        assert.deepEqual(await s.getStateMachineAlias(alias.arn), {
          ...alias,
          description: 'p',
          routingConfiguration: routes,
          updateDate: T0 + 22,
        });
        assert.deepEqual(await s.deleteStateMachineVersion(v2), {
          outcome: 'referenced',
          aliasNames: ['BETA'],
        });
        assert.deepEqual(
          await s.updateStateMachineAlias(`${smArn('a')}:NOPE`, { description: 'x', updateDate: T0 }),
          { outcome: 'missing' },
        );
        assert.equal(await s.deleteStateMachineAlias(beta.arn), true);
        assert.equal(await s.deleteStateMachineAlias(beta.arn), false);
        assert.deepEqual(await s.deleteStateMachineVersion(v2), { outcome: 'deleted' });
      });

      it('lists aliases oldest first, optionally those routing to one version', async () => {
        const s = await fresh();
        await s.createStateMachine(machine('a'));
        await publish(s, 'a');
        await s.updateStateMachine(machine('a', { revisionId: 'r2' }), 'r1');
        await publish(s, 'a');
        const mk = (name: string, at: number, versions: number[]) => ({
          arn: `${smArn('a')}:${name}`,
          stateMachineArn: smArn('a'),
          name,
          routingConfiguration: versions.map((v) => ({
            stateMachineVersionArn: `${smArn('a')}:${v}`,
            weight: 100 / versions.length,
          })),
          creationDate: at,
          updateDate: at,
        });
        for (const a of [
          mk('z', T0 + 1, [1]),
          mk('b', T0 + 3, [1, 2]),
          mk('c', T0 + 2, [2]),
          mk('a', T0 + 3, [2]),
        ])
          await s.createStateMachineAlias(a, 100);
        const listed = await all((p) => s.listStateMachineAliases({ stateMachineArn: smArn('a'), ...p }), 2);
        assert.deepEqual(
          listed.map((a) => a.name),
          ['z', 'c', 'a', 'b'],
        );
        const ofV1 = await all(
          (p) =>
            s.listStateMachineAliases({ stateMachineArn: smArn('a'), versionArn: `${smArn('a')}:1`, ...p }),
          1,
        );
        assert.deepEqual(
          ofV1.map((a) => a.name),
          ['z', 'b'],
        );
        const page = await s.listStateMachineAliases({ stateMachineArn: smArn('a'), limit: 1 });
        await assert.rejects(
          s.listStateMachineAliases({
            stateMachineArn: smArn('a'),
            versionArn: `${smArn('a')}:1`,
            limit: 1,
            nextToken: page.nextToken,
          }),
          InvalidPageToken,
        );
      });

      it('deleting a machine deletes its versions and aliases, and a new machine of that name starts at 1', async () => {
        const s = await fresh();
        await s.createStateMachine(machine('a'));
        await publish(s, 'a');
        const alias = {
          arn: `${smArn('a')}:PROD`,
          stateMachineArn: smArn('a'),
          name: 'PROD',
          routingConfiguration: [{ stateMachineVersionArn: `${smArn('a')}:1`, weight: 100 }],
          creationDate: T0,
          updateDate: T0,
        };
        await s.createStateMachineAlias(alias, 100);
        assert.equal(await s.deleteStateMachine(smArn('a')), true);
        assert.equal(await s.getStateMachineVersion(`${smArn('a')}:1`), undefined);
        assert.equal(await s.getStateMachineAlias(alias.arn), undefined);
        assert.deepEqual(
          (await s.listStateMachineVersions({ stateMachineArn: smArn('a'), limit: 10 })).items,
          [],
        );
        assert.deepEqual(
          (await s.listStateMachineAliases({ stateMachineArn: smArn('a'), limit: 10 })).items,
          [],
        );
        await s.createStateMachine(machine('a'));
        const again = await publish(s, 'a');
        assert.ok(again.outcome === 'created');
        assert.equal(again.version.version, 1);
      });

      it('records the version and alias an execution started with, and lists executions by them', async () => {
        const s = await fresh();
        const v1 = `${smArn('a')}:1`;
        const prod = `${smArn('a')}:PROD`;
        await s.createExecution(newExecution('a', 'plain', T0), started());
        await s.createExecution(
          { ...newExecution('a', 'byVersion', T0 + 1), stateMachineVersionArn: v1 },
          started(),
        );
        for (let i = 0; i < 3; i++) {
          await s.createExecution(
            {
              ...newExecution('a', `byAlias${i}`, T0 + 2 + i),
              stateMachineVersionArn: v1,
              stateMachineAliasArn: prod,
            },
            started(),
          );
        }
        const got = await s.getExecution(exArn('a', 'byAlias0'));
        assert.equal(got?.stateMachineArn, smArn('a'));
        assert.equal(got?.stateMachineVersionArn, v1);
        assert.equal(got?.stateMachineAliasArn, prod);
        const plain = await s.getExecution(exArn('a', 'plain'));
        assert.equal(plain?.stateMachineVersionArn, undefined);
        assert.equal(plain?.stateMachineAliasArn, undefined);
        const names = async (q: {
          stateMachineArn: string;
          by?: 'version' | 'alias';
          status?: ExecutionStatus;
        }) => (await all((p) => s.listExecutions({ ...q, ...p }), 2)).map((e) => e.name);
        assert.deepEqual(await names({ stateMachineArn: smArn('a') }), [
          'byAlias2',
          'byAlias1',
          'byAlias0',
          'byVersion',
          'plain',
        ]);
        assert.deepEqual(await names({ stateMachineArn: v1, by: 'version' }), [
          'byAlias2',
          'byAlias1',
          'byAlias0',
          'byVersion',
        ]);
        assert.deepEqual(await names({ stateMachineArn: prod, by: 'alias' }), [
          'byAlias2',
          'byAlias1',
          'byAlias0',
        ]);
        assert.deepEqual(await names({ stateMachineArn: prod, by: 'alias', status: 'SUCCEEDED' }), []);
        assert.deepEqual(await names({ stateMachineArn: v1, by: 'version', status: 'RUNNING' }), [
          'byAlias2',
          'byAlias1',
          'byAlias0',
          'byVersion',
        ]);
        const listed = await s.listExecutions({ stateMachineArn: prod, by: 'alias', limit: 1 });
        assert.equal(listed.items[0]?.stateMachineAliasArn, prod);
        assert.equal(listed.items[0]?.stateMachineVersionArn, v1);
        await assert.rejects(
          s.listExecutions({ stateMachineArn: v1, by: 'version', limit: 1, nextToken: listed.nextToken }),
          InvalidPageToken,
        );
      });
    });

    describe('activities and tags', () => {
      it('creates, gets, lists, deletes activities', async () => {
        const s = await fresh();
        const a = { arn: actArn('a'), name: 'a', creationDate: T0 };
        assert.deepEqual(await s.createActivity(a, [{ key: 'k', value: 'v' }]), { created: true });
        assert.deepEqual(await s.createActivity({ ...a, creationDate: T0 + 1 }), {
          created: false,
          existing: a,
        });
        assert.deepEqual(await s.getActivity(a.arn), a);
        for (const n of ['c', 'b', 'd'])
          await s.createActivity({ arn: actArn(n), name: n, creationDate: T0 });
        assert.deepEqual(
          (await all((p) => s.listActivities(p), 3)).map((x) => x.name),
          ['a', 'b', 'c', 'd'],
        );
        assert.deepEqual(await s.listTags(a.arn), [{ key: 'k', value: 'v' }]);
        assert.equal(await s.deleteActivity(a.arn), true);
        assert.equal(await s.deleteActivity(a.arn), false);
        assert.equal(await s.getActivity(a.arn), undefined);
        assert.deepEqual(await s.listTags(a.arn), []);
      });

      it('tags, overwrites, untags; lists sorted by key', async () => {
        const s = await fresh();
        await s.createStateMachine(machine('a'));
        await s.tagResource(smArn('a'), [
          { key: 'b', value: '1' },
          { key: 'a', value: '2' },
        ]);
        await s.tagResource(smArn('a'), [{ key: 'b', value: '3' }]);
        assert.deepEqual(await s.listTags(smArn('a')), [
          { key: 'a', value: '2' },
          { key: 'b', value: '3' },
        ]);
        await s.untagResource(smArn('a'), ['a', 'missing']);
        assert.deepEqual(await s.listTags(smArn('a')), [{ key: 'b', value: '3' }]);
      });
    });

    describe('executions', () => {
      it('creates an execution atomically with its first step', async () => {
        const s = await fresh();
        const first: StepChanges = {
          ...started({ hello: 'world' }),
          timersSet: [{ timerId: 'execution-timeout', dueTime: T0 + 1000 }],
          tasksAdded: [{ taskId: 't1', request: request('t1', 'tok-1'), token: 'tok-1' }],
        };
        assert.deepEqual(await s.createExecution(newExecution('a', 'e1'), first), { created: true });
        assert.deepEqual(await s.getExecution(exArn('a', 'e1')), {
          executionArn: exArn('a', 'e1'),
          stateMachineArn: smArn('a'),
          name: 'e1',
          status: 'RUNNING',
          startDate: T0,
          input: '{"x":1}',
          definitionId: (await s.getExecution(exArn('a', 'e1')))?.definitionId,
        });
        const loaded = await s.loadState(exArn('a', 'e1'));
        assert.deepEqual(loaded?.state, { hello: 'world' });
        assert.equal(loaded?.version, 1);
        assert.equal(loaded?.input, '{"x":1}');
        assert.equal(loaded?.fixed, undefined, 'no fixed part was given');
        assert.deepEqual(await s.dueTimers(T0 + 1000, 10), [
          { executionArn: exArn('a', 'e1'), timerId: 'execution-timeout', dueTime: T0 + 1000 },
        ]);
        assert.equal((await s.findTaskByToken('tok-1'))?.taskId, 't1');
        assert.equal(await s.loadState(exArn('a', 'nope')), undefined);
        assert.equal(await s.getExecution(exArn('a', 'nope')), undefined);
      });

      it('stores a definition named by id once, whichever create carried it', async () => {
        const s = await fresh();
        const text =
          '{"StartAt":"Big","States":{"Big":{"Type":"Pass","Comment":"' +
          'x'.repeat(5000) +
          '","End":true}}}';
        const id = definitionIdOf(text);
        const byId = (name: string): NewExecution => ({
          ...newExecution('a', name),
          definition: text,
          definitionId: id,
        });
        const write = (name: string, create: NewExecution): StepWrite => ({
          ...started({ name }),
          executionArn: exArn('a', name),
          expectedVersion: 0,
          create,
        });
        assert.deepEqual(await s.createExecution(newExecution('a', 'taken'), started({})), { created: true });
        // The first create naming the definition loses its ARN; the others still find the text,
        // in this batch (redone write by write: d3 adds one task id twice) and in the next.
        const twice = [
          { taskId: 'same', request: request('same') },
          { taskId: 'same', request: request('same') },
        ];
        const batch = await s.commit([
          write('taken', byId('taken')),
          write('d1', byId('d1')),
          write('d2', byId('d2')),
          { ...write('d3', byId('d3')), tasksAdded: twice },
        ]);
        assert.deepEqual(batch, ['conflict', 'ok', 'ok', 'conflict']);
        assert.deepEqual(await s.commit([write('d4', byId('d4'))]), ['ok']);
        for (const name of ['d1', 'd2', 'd4']) {
          const ex = await s.getExecution(exArn('a', name));
          assert.equal(ex?.definitionId, id, name);
          assert.equal(await s.getDefinition(id), text, name);
        }
      });

      it('keeps the fixed part written at create beside every later state, and the input', async () => {
        const s = await fresh();
        const fixed = { arn: exArn('a', 'f1'), limits: [25000, 262144], quote: 'it\'s "q" \\ é' };
        const create = {
          ...newExecution('a', 'f1', T0, '{ "big": [1, 2, 3] }'),
          fixed: JSON.stringify(fixed),
        };
        const withToken: StepChanges = {
          ...started({ step: 0 }),
          tasksAdded: [{ taskId: 't1', request: request('t1', 'tok-f'), token: 'tok-f' }],
        };
        const createOf = (name: string) => ({ ...create, executionArn: exArn('a', name), name });
        assert.deepEqual(await s.createExecution(create, withToken), { created: true });
        // Among other writes, one of which breaks a unique key: the batch is redone write by write.
        const batch = await s.commit([
          {
            ...started({ step: 0 }),
            executionArn: exArn('a', 'f2'),
            expectedVersion: 0,
            create: createOf('f2'),
          },
          { ...withToken, executionArn: exArn('a', 'f3'), expectedVersion: 0, create: createOf('f3') },
          { executionArn: exArn('a', 'f1'), expectedVersion: 1, state: { step: 1 }, status: 'RUNNING' },
        ]);
        assert.deepEqual(batch, ['ok', 'conflict', 'ok']);
        assert.equal(await s.loadState(exArn('a', 'f3')), undefined);
        for (const [name, step, version] of [
          ['f1', 1, 2],
          ['f2', 0, 1],
        ] as const) {
          const loaded = await s.loadState(exArn('a', name));
          assert.deepEqual(loaded?.state, { step });
          assert.equal(loaded?.version, version);
          assert.deepEqual(loaded?.fixed, fixed);
          assert.equal(loaded?.input, '{ "big": [1, 2, 3] }', 'the input text as given');
        }
      });

      it('leaves nothing of a create undone by a unique key; later writes to that ARN conflict', async () => {
        const s = await fresh();
        const withToken = (taskId: string): StepChanges => ({
          ...started(),
          tasksAdded: [{ taskId, request: request(taskId, 'tok-1'), token: 'tok-1' }],
        });
        await s.createExecution(newExecution('a', 'e1'), withToken('t1'));
        // e2's token is taken: its create is undone whole, in the middle of the batch.
        const out = await s.commit([
          {
            ...withToken('t2'),
            executionArn: exArn('a', 'e2'),
            expectedVersion: 0,
            create: newExecution('a', 'e2'),
          },
        ]);
        assert.deepEqual(out, ['conflict']);
        assert.equal(await s.loadState(exArn('a', 'e2')), undefined);
        // A new execution may take the row e2 would have had; a stale write to e2 must not reach it.
        await s.createExecution(newExecution('a', 'e3'), started({ mine: 'e3' }));
        const stale = await s.commit([
          {
            state: { mine: 'e2' },
            status: 'RUNNING',
            events: [event(2)],
            executionArn: exArn('a', 'e2'),
            expectedVersion: 1,
          },
        ]);
        assert.deepEqual(stale, ['conflict']);
        assert.deepEqual((await s.loadState(exArn('a', 'e3')))?.state, { mine: 'e3' });
        assert.equal(await s.getExecution(exArn('a', 'e2')), undefined);
      });

      it('returns the existing execution for a taken name; idempotency is the caller’s rule', async () => {
        const s = await fresh();
        await s.createExecution(newExecution('a', 'e1'), started());
        const same = await s.createExecution(newExecution('a', 'e1', T0 + 5), started({ other: true }));
        assert.equal(same.created, false);
        assert.ok(!same.created);
        assert.equal(same.existing.startDate, T0, 'the existing record, untouched');
        assert.equal(isIdempotentStart(same.existing, '{"x":1}'), true);
        assert.equal(isIdempotentStart(same.existing, '{"x":2}'), false);
        assert.deepEqual((await s.loadState(exArn('a', 'e1')))?.state, { step: 0 });
        await s.commit([
          { executionArn: exArn('a', 'e1'), expectedVersion: 1, state: {}, status: 'SUCCEEDED' },
        ]);
        const closed = await s.createExecution(newExecution('a', 'e1'), started());
        assert.ok(!closed.created);
        assert.equal(
          isIdempotentStart(closed.existing, '{"x":1}'),
          false,
          'a closed execution is not restarted',
        );
      });

      it('records the end of an execution; a first step may already end it', async () => {
        const s = await fresh();
        await s.createExecution(newExecution('a', 'quick'), {
          state: { done: true },
          status: 'SUCCEEDED',
          stopDate: T0 + 1,
          output: '{"ok":true}',
          events: [event(1, 'ExecutionStarted'), event(2, 'ExecutionSucceeded')],
          timersSet: [{ timerId: 'x', dueTime: T0 }],
        });
        const ex = await s.getExecution(exArn('a', 'quick'));
        assert.equal(ex?.status, 'SUCCEEDED');
        assert.equal(ex.stopDate, T0 + 1);
        assert.equal(ex.output, '{"ok":true}');
        assert.deepEqual(await s.dueTimers(T0 + 10, 10), [], 'a closed execution keeps no timers');
        await s.createExecution(newExecution('a', 'bad'), started());
        await s.commit([
          {
            executionArn: exArn('a', 'bad'),
            expectedVersion: 1,
            state: {},
            status: 'FAILED',
            stopDate: T0 + 2,
            error: 'States.TaskFailed',
            cause: 'boom',
          },
        ]);
        const bad = await s.getExecution(exArn('a', 'bad'));
        assert.equal(bad?.error, 'States.TaskFailed');
        assert.equal(bad.cause, 'boom');
        assert.equal(bad.output, undefined);
      });

      it('keeps texts exactly: quotes, backslashes, braces, multi-byte characters, empty strings', async () => {
        const s = await fresh();
        const tricky = 'q"uote \\ back\\"slash {brace,} é 日本 😀 \t tab';
        const input = JSON.stringify({ tricky, empty: '' });
        await s.createExecution(newExecution('a', 'texts', T0, input), {
          state: { tricky, list: [tricky, ''] },
          status: 'RUNNING',
          events: [event(1, 'ExecutionStarted', { input: { tricky } })],
          tasksAdded: [{ taskId: 't1', request: { ...request('t1'), input: { tricky } } }],
        });
        await s.commit([
          {
            executionArn: exArn('a', 'texts'),
            expectedVersion: 1,
            state: { tricky },
            status: 'FAILED',
            stopDate: T0 + 2,
            output: '',
            error: tricky,
            cause: tricky,
            events: [event(2, 'ExecutionFailed', { cause: tricky }), event(3, 'X', { empty: '' })],
            tasksRemoved: ['t1'],
          },
        ]);
        const ex = await s.getExecution(exArn('a', 'texts'));
        assert.equal(ex?.input, input);
        assert.equal(ex.error, tricky);
        assert.equal(ex.cause, tricky);
        assert.deepEqual((await s.loadState(exArn('a', 'texts')))?.state, { tricky });
        const page = await s.history(exArn('a', 'texts'), { limit: 10 });
        assert.deepEqual(
          page?.items.map((e) => e.type),
          ['ExecutionStarted', 'ExecutionFailed', 'X'],
        );
        assert.deepEqual(page.items[0], event(1, 'ExecutionStarted', { input: { tricky } }));
        assert.deepEqual(page.items[1], event(2, 'ExecutionFailed', { cause: tricky }));
        assert.deepEqual(page.items[2], event(3, 'X', { empty: '' }));
      });

      it('lists newest first, with a status filter, stable across equal start dates', async () => {
        const s = await fresh();
        // 3 executions per start date, so pages split ties.
        for (let i = 0; i < 12; i++) {
          await s.createExecution(newExecution('a', `e${i}`, T0 + Math.floor(i / 3) * 1000), started());
          if (i % 2 === 0) {
            await s.commit([
              { executionArn: exArn('a', `e${i}`), expectedVersion: 1, state: {}, status: 'SUCCEEDED' },
            ]);
          }
        }
        await s.createExecution(newExecution('other', 'x'), started());
        const everything = await all((p) => s.listExecutions({ stateMachineArn: smArn('a'), ...p }), 5);
        assert.deepEqual(
          everything.map((e) => e.name),
          ['e11', 'e10', 'e9', 'e8', 'e7', 'e6', 'e5', 'e4', 'e3', 'e2', 'e1', 'e0'],
        );
        const running = await all(
          (p) => s.listExecutions({ stateMachineArn: smArn('a'), status: 'RUNNING', ...p }),
          2,
        );
        assert.deepEqual(
          running.map((e) => e.name),
          ['e11', 'e9', 'e7', 'e5', 'e3', 'e1'],
        );
        assert.ok(running.every((e) => e.status === 'RUNNING' && e.stopDate === undefined));
        const page = await s.listExecutions({ stateMachineArn: smArn('a'), status: 'RUNNING', limit: 2 });
        assert.ok(page.nextToken !== undefined);
        await assert.rejects(
          s.listExecutions({ stateMachineArn: smArn('a'), limit: 2, nextToken: page.nextToken }),
          InvalidPageToken,
          'a token belongs to its query',
        );
        const none = await s.listExecutions({ stateMachineArn: smArn('a'), status: 'ABORTED', limit: 2 });
        assert.deepEqual(none, { items: [] });
        const runningArns = await all((p) => s.listRunningExecutions(p), 4);
        assert.deepEqual(
          runningArns.sort(),
          [...running.map((e) => e.executionArn), exArn('other', 'x')].sort(),
        );
      });
    });

    describe('commit', () => {
      it('bumps the version and refuses a stale writer, applying nothing of its write', async () => {
        const s = await fresh();
        const arn = exArn('a', 'e1');
        await s.createExecution(newExecution('a', 'e1'), started());
        assert.deepEqual(await s.commit([typicalStep(arn, 1, 1)]), ['ok']);
        assert.equal((await s.loadState(arn))?.version, 2);
        const stale = { ...typicalStep(arn, 1, 2), state: 'stale' };
        assert.deepEqual(await s.commit([stale]), ['conflict']);
        const loaded = await s.loadState(arn);
        assert.equal(loaded?.version, 2);
        assert.notEqual(loaded.state, 'stale');
        assert.equal((await s.history(arn, { limit: 100 }))?.items.length, 4, 'no events of the stale write');
        assert.deepEqual(
          (await s.dueTimers(Number.MAX_SAFE_INTEGER, 10)).map((t) => t.timerId),
          ['t1'],
          'no timers of the stale write',
        );
        assert.deepEqual(
          await s.commit([
            { executionArn: exArn('a', 'missing'), expectedVersion: 1, state: {}, status: 'RUNNING' },
          ]),
          ['conflict'],
        );
        await assert.rejects(
          s.commit([{ executionArn: arn, expectedVersion: 2, state: undefined, status: 'RUNNING' }]),
          TypeError,
          'a state JSON cannot hold rejects the call',
        );
      });

      it('group commit: a conflicting entry is skipped, the others of the batch commit', async () => {
        const s = await fresh();
        const arns = ['e1', 'e2', 'e3', 'e4'].map((n) => exArn('a', n));
        for (const n of ['e1', 'e2', 'e3']) await s.createExecution(newExecution('a', n), started());
        const outcomes = await s.commit([
          typicalStep(arns[0]!, 1, 1),
          typicalStep(arns[1]!, 7, 1), // stale version
          // Duplicate event id (1 exists): fails inside the write, which is rolled back whole.
          {
            ...typicalStep(arns[2]!, 1, 1),
            events: [event(9), event(1)],
            timersSet: [{ timerId: 'z', dueTime: 1 }],
          },
          { ...typicalStep(arns[3]!, 0, 0), create: newExecution('a', 'e4') },
          typicalStep(arns[0]!, 2, 2), // chained on the first entry of this batch
        ]);
        assert.deepEqual(outcomes, ['ok', 'conflict', 'conflict', 'ok', 'ok']);
        assert.equal((await s.loadState(arns[0]!))?.version, 3);
        assert.equal((await s.loadState(arns[1]!))?.version, 1);
        assert.equal((await s.loadState(arns[2]!))?.version, 1);
        assert.deepEqual(
          (await s.history(arns[2]!, { limit: 10 }))?.items.map((e) => e.id),
          [1],
          'no event of the failed entry',
        );
        assert.ok(!(await s.dueTimers(10, 100)).some((t) => t.timerId === 'z'));
        assert.equal((await s.loadState(arns[3]!))?.version, 1);
      });

      it('sets, moves and removes timers; closing drops timers and tasks', async () => {
        const s = await fresh();
        const arn = exArn('a', 'e1');
        await s.createExecution(newExecution('a', 'e1'), {
          ...started(),
          timersSet: [
            { timerId: 'w', dueTime: T0 + 30 },
            { timerId: 'hb', dueTime: T0 + 10 },
          ],
          tasksAdded: [{ taskId: 't1', request: request('t1'), token: 'tok' }],
        });
        await s.commit([
          {
            executionArn: arn,
            expectedVersion: 1,
            state: {},
            status: 'RUNNING',
            ...timerChanges([
              { kind: 'cancelTimer', timerId: 'hb' },
              { kind: 'startTimer', timerId: 'hb', dueTime: T0 + 50 },
              { kind: 'startTimer', timerId: 'gone', dueTime: T0 },
              { kind: 'cancelTimer', timerId: 'gone' },
            ]),
          },
        ]);
        assert.deepEqual(
          (await s.dueTimers(T0 + 100, 10)).map((t) => [t.timerId, t.dueTime]),
          [
            ['w', T0 + 30],
            ['hb', T0 + 50],
          ],
        );
        await s.commit([
          { executionArn: arn, expectedVersion: 2, state: {}, status: 'RUNNING', timersRemoved: ['w'] },
        ]);
        assert.equal(await s.nextTimerDue(), T0 + 50);
        await s.commit([
          { executionArn: arn, expectedVersion: 3, state: {}, status: 'ABORTED', stopDate: T0 + 60 },
        ]);
        assert.equal(await s.nextTimerDue(), undefined);
        assert.equal(
          await s.findTaskByToken('tok'),
          undefined,
          'a closed execution’s token no longer resolves',
        );
        assert.deepEqual((await s.listTasks({ limit: 10 })).items, []);
      });
    });

    describe('history', () => {
      it('pages forwards and backwards over a long history', async () => {
        const s = await fresh();
        const arn = exArn('a', 'long');
        await s.createExecution(newExecution('a', 'long'), started());
        let version = 1;
        for (let batch = 0; batch < 25; batch++) {
          const events = Array.from({ length: 100 }, (_, i) =>
            event(2 + batch * 100 + i, 'PassStateEntered', { i }),
          );
          await s.commit([
            { executionArn: arn, expectedVersion: version++, state: {}, status: 'RUNNING', events },
          ]);
        }
        const forward = await all((p) => s.history(arn, p), 1000);
        assert.equal(forward.length, 2501);
        assert.deepEqual(
          forward.map((e) => e.id),
          Array.from({ length: 2501 }, (_, i) => i + 1),
        );
        assert.deepEqual(forward[1], event(2, 'PassStateEntered', { i: 0 }));
        const backward = await all((p) => s.history(arn, { ...p, reverse: true }), 7);
        assert.deepEqual(
          backward.map((e) => e.id),
          forward.map((e) => e.id).reverse(),
        );
        const page = await s.history(arn, { limit: 3 });
        await assert.rejects(
          s.history(arn, { limit: 3, reverse: true, nextToken: page?.nextToken }),
          InvalidPageToken,
        );
        assert.equal(await s.history(exArn('a', 'nope'), { limit: 3 }), undefined);
      });
    });

    describe('timers', () => {
      it('returns due timers earliest first, at most `limit`', async () => {
        const s = await fresh();
        assert.equal(await s.nextTimerDue(), undefined);
        const dues = [50, 10, 40, 20, 30, 60];
        for (const [i, due] of dues.entries()) {
          await s.createExecution(newExecution('a', `e${i}`), {
            ...started(),
            timersSet: [{ timerId: `t${due}`, dueTime: T0 + due }],
          });
        }
        assert.equal(await s.nextTimerDue(), T0 + 10);
        assert.deepEqual(
          (await s.dueTimers(T0 + 45, 10)).map((t) => t.timerId),
          ['t10', 't20', 't30', 't40'],
        );
        assert.deepEqual(
          (await s.dueTimers(T0 + 45, 2)).map((t) => t.timerId),
          ['t10', 't20'],
        );
        assert.deepEqual(await s.dueTimers(T0, 10), []);
      });
    });

    describe('tasks and activities', () => {
      it('finds tasks by token and lists in-flight tasks for recovery', async () => {
        const s = await fresh();
        for (let i = 0; i < 5; i++) {
          await s.createExecution(newExecution('a', `e${i}`), {
            ...started(),
            tasksAdded: [{ taskId: `t${i}`, request: request(`t${i}`, `tok${i}`), token: `tok${i}` }],
          });
        }
        const found = await s.findTaskByToken('tok3');
        assert.deepEqual(found, {
          executionArn: exArn('a', 'e3'),
          taskId: 't3',
          // Values round-trip through JSON: undefined properties come back absent.
          request: JSON.parse(JSON.stringify(request('t3', 'tok3'))) as TaskRequest,
          status: 'running',
          token: 'tok3',
        });
        assert.equal(await s.findTaskByToken('nope'), undefined);
        const tasks = await all((p) => s.listTasks(p), 2);
        assert.deepEqual(
          tasks.map((t) => t.taskId),
          ['t0', 't1', 't2', 't3', 't4'],
        );
        await assert.rejects(
          s.createExecution(newExecution('a', 'dup'), {
            ...started(),
            tasksAdded: [{ taskId: 'x', request: request('x'), token: 'tok1' }],
          }),
          /taken/,
          'a task token is unique',
        );
        assert.equal(
          await s.getExecution(exArn('a', 'dup')),
          undefined,
          'nothing of the failed create remains',
        );
      });

      it('hands queued activity tasks out in order, each to exactly one of two concurrent claimers', async () => {
        const s = await fresh();
        const act = actArn('work');
        await s.createActivity({ arn: act, name: 'work', creationDate: T0 });
        const n = 40;
        for (let i = 0; i < n; i++) {
          await s.createExecution(newExecution('a', `e${i}`), {
            ...started(),
            tasksAdded: [{ taskId: `t${i}`, request: request(`t${i}`), token: `tok${i}`, activityArn: act }],
          });
        }
        const other = await connect(s);
        const claimed: string[] = [];
        const worker = async (store: Store, name: string) => {
          for (;;) {
            const t = await store.claimActivityTask(act, name, T0 + 5);
            if (t === undefined) return;
            assert.equal(t.status, 'claimed');
            assert.equal(t.workerName, name);
            assert.equal(t.claimedAt, T0 + 5);
            claimed.push(t.taskId);
          }
        };
        await Promise.all([worker(s, 'w1'), worker(other, 'w2'), worker(s, 'w3'), worker(other, 'w4')]);
        assert.equal(claimed.length, n);
        assert.equal(new Set(claimed).size, n, 'no task handed out twice');
        assert.equal(await s.claimActivityTask(act, 'w1', T0), undefined);
        assert.equal(await s.claimActivityTask(actArn('other'), 'w1', T0), undefined);
        assert.equal((await s.findTaskByToken('tok0'))?.status, 'claimed');
      });
    });

    describe('durability', () => {
      it('keeps everything across a reopen', async () => {
        const s = await fresh();
        await s.createStateMachine(machine('a'), [{ key: 'k', value: 'v' }]);
        await s.createActivity({ arn: actArn('x'), name: 'x', creationDate: T0 });
        await s.createExecution(newExecution('a', 'e1'), {
          ...started(),
          timersSet: [{ timerId: 'w', dueTime: T0 + 5 }],
          tasksAdded: [{ taskId: 't', request: request('t'), token: 'tok', activityArn: actArn('x') }],
        });
        await s.commit([typicalStep(exArn('a', 'e1'), 1, 1)]);
        const before = {
          sm: await s.getStateMachine(smArn('a')),
          ex: await s.getExecution(exArn('a', 'e1')),
          state: await s.loadState(exArn('a', 'e1')),
          history: await s.history(exArn('a', 'e1'), { limit: 100 }),
          timers: await s.dueTimers(Number.MAX_SAFE_INTEGER, 100),
          tasks: await s.listTasks({ limit: 100 }),
        };
        await s.close();
        const r = await connect(s);
        assert.deepEqual(await r.getStateMachine(smArn('a')), before.sm);
        assert.deepEqual(await r.listTags(smArn('a')), [{ key: 'k', value: 'v' }]);
        assert.ok(await r.getActivity(actArn('x')));
        assert.deepEqual(await r.getExecution(exArn('a', 'e1')), before.ex);
        assert.deepEqual(await r.loadState(exArn('a', 'e1')), before.state);
        assert.deepEqual(await r.history(exArn('a', 'e1'), { limit: 100 }), before.history);
        assert.deepEqual(await r.dueTimers(Number.MAX_SAFE_INTEGER, 100), before.timers);
        assert.deepEqual(await r.listTasks({ limit: 100 }), before.tasks);
        assert.deepEqual((await r.claimActivityTask(actArn('x'), 'w', T0))?.taskId, 't');
      });
    });

    describe('performance', () => {
      it('group commit throughput: batches of 100 typical steps', async () => {
        const s = await fresh();
        const arns = Array.from({ length: 100 }, (_, i) => exArn('perf', `e${i}`));
        await s.commit(
          arns.map((arn, i) => ({ ...typicalStep(arn, 0, 0), create: newExecution('perf', `e${i}`) })),
        );
        let version = 1;
        let batches = 0;
        const begin = performance.now();
        while (performance.now() - begin < 2000 || batches < 5) {
          const outcomes = await s.commit(arns.map((arn) => typicalStep(arn, version, version)));
          assert.ok(outcomes.every((o) => o === 'ok'));
          version++;
          batches++;
        }
        const seconds = (performance.now() - begin) / 1000;
        const perSecond = batches / seconds;
        console.log(
          `[${name}] group commit: ${perSecond.toFixed(0)} commits/s of 100 writes = ` +
            `${(perSecond * 100).toFixed(0)} steps/s (${((seconds * 1000) / batches).toFixed(1)} ms per commit)`,
        );
        assert.ok(perSecond * 100 > 1000, 'at least 1,000 steps/s');
      });

      it('ListExecutions stays fast at scale (newest first, status filter)', async () => {
        const total = harness.scaleExecutions ?? 100_000;
        const s = await fresh();
        const statuses: ExecutionStatus[] = ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'FAILED', 'RUNNING'];
        const fill = performance.now();
        for (let start = 0; start < total; start += 2000) {
          const writes: StepWrite[] = [];
          for (let i = start; i < Math.min(total, start + 2000); i++) {
            const status = statuses[i % statuses.length]!;
            writes.push({
              executionArn: exArn('big', `e${i}`),
              expectedVersion: 0,
              create: newExecution('big', `e${i}`, T0 + i * 10),
              state: { i },
              status,
              events: [event(1, 'ExecutionStarted')],
              ...(status === 'RUNNING' ? {} : { stopDate: T0 + i * 10 + 5 }),
            });
          }
          await s.commit(writes);
        }
        const fillMs = performance.now() - fill;
        const timeQuery = async (status: ExecutionStatus | undefined, pages: number) => {
          let nextToken: string | undefined;
          let worst = 0;
          let lastDate = Infinity;
          for (let i = 0; i < pages; i++) {
            const t = performance.now();
            const page = await s.listExecutions({
              stateMachineArn: smArn('big'),
              status,
              limit: 100,
              nextToken,
            });
            worst = Math.max(worst, performance.now() - t);
            assert.equal(page.items.length, 100);
            for (const e of page.items) {
              assert.ok(e.startDate < lastDate, 'newest first');
              assert.ok(status === undefined || e.status === status);
              lastDate = e.startDate;
            }
            nextToken = page.nextToken;
          }
          return worst;
        };
        const worstRunning = await timeQuery('RUNNING', 50);
        const worstFailed = await timeQuery('FAILED', 50);
        const worstAll = await timeQuery(undefined, 50);
        const worst = Math.max(worstRunning, worstFailed, worstAll);
        console.log(
          `[${name}] ListExecutions over ${total} executions (filled in ${(fillMs / 1000).toFixed(1)} s): ` +
            `worst page of 100 — RUNNING ${worstRunning.toFixed(2)} ms, FAILED ${worstFailed.toFixed(2)} ms, ` +
            `unfiltered ${worstAll.toFixed(2)} ms`,
        );
        assert.ok(worst < 100, `a page took ${worst.toFixed(1)} ms`);
      });
    });
  });
}
