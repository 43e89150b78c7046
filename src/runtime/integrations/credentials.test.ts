// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * A Task's `Credentials`: the role is evaluated per attempt in the state's query language,
 * recorded as `taskCredentials` on the scheduled event, and pass-through calls are made with the
 * credentials STS AssumeRole gives for it (the real STS and SNS SDK clients against the stand-in).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryEvent } from '../../interpreter/types.js';
import type { JsonObject } from '../../language/json.js';
import { functionsFromMap } from '../functions.js';
import { details, runToEnd, useStandIn, withEngine } from './harness.js';

const ROLE = 'arn:aws:iam::210987654321:role/cross-account-publisher';
const OTHER_ROLE = 'arn:aws:iam::210987654321:role/another-publisher';
const DENIED = 'arn:aws:iam::210987654321:role/not-trusted';

let topicArn = '';
const kit = useStandIn((s) => {
  topicArn = s.createTopic('credentials-test');
  s.assumableRoles.add(ROLE);
  s.assumableRoles.add(OTHER_ROLE);
});
const aws = kit.awsOptions;

const publish = (credentials: JsonObject, extra: JsonObject = {}): JsonObject => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::sns:publish',
  Parameters: { TopicArn: topicArn, 'Message.$': '$.message' },
  Credentials: credentials,
  ResultPath: null,
  ...extra,
});

const scheduledRoles = (events: readonly HistoryEvent[]) =>
  events
    .filter((e) => e.type === 'TaskScheduled' || e.type === 'LambdaFunctionScheduled')
    .map((e) => (details(e).taskCredentials as { roleArn?: string } | undefined)?.roleArn);

/** The role whose assumed key signed each SNS Publish the stand-in answered since `from`. */
function publishRoles(from: number): (string | undefined)[] {
  return kit.standIn.requests
    .slice(from)
    .filter((r) => r.service === 'sns' && r.operation === 'Publish')
    .map((r) => {
      const key = /Credential=([^/]+)\//.exec(String(r.headers.authorization ?? ''))?.[1] ?? '';
      return kit.standIn.issuedKeys.get(key);
    });
}

describe('Task Credentials', () => {
  it('evaluates RoleArn (literal, path, intrinsic, variable, context) and calls as that role', async () => {
    await withEngine({ aws: aws() }, async (engine) => {
      const from = kit.standIn.requests.length;
      const assumes = kit.standIn.count('sts', 'AssumeRole');
      const r = await runToEnd(
        engine,
        {
          StartAt: 'Literal',
          States: {
            Literal: publish({ RoleArn: ROLE }, { Next: 'Path' }),
            Path: publish({ 'RoleArn.$': '$.role' }, { Next: 'Intrinsic' }),
            Intrinsic: publish({ 'RoleArn.$': "States.Format('{}', $.other)" }, { Next: 'Keep' }),
            Keep: { Type: 'Pass', Assign: { 'kept.$': '$.role' }, Next: 'Variable' },
            Variable: publish({ 'RoleArn.$': '$kept' }, { Next: 'Context' }),
            Context: publish({ 'RoleArn.$': '$$.Execution.Input.other' }, { End: true }),
          },
        },
        { message: 'hello', role: ROLE, other: OTHER_ROLE },
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      const expected = [ROLE, ROLE, OTHER_ROLE, ROLE, OTHER_ROLE];
      assert.deepEqual(scheduledRoles(r.events), expected);
      assert.deepEqual(publishRoles(from), expected, 'each Publish was signed with its role');
      // Credentials are kept per role until they near their expiry: one AssumeRole per role.
      assert.equal(kit.standIn.count('sts', 'AssumeRole') - assumes, 2);
      const scheduled = r.events.find((e) => e.type === 'TaskScheduled');
      assert.deepEqual(Object.keys(details(scheduled!)), [
        'resourceType',
        'resource',
        'region',
        'parameters',
        'taskCredentials',
      ]);
    });
  });

  it('takes a JSONata RoleArn expression', async () => {
    await withEngine({ aws: aws() }, async (engine) => {
      const from = kit.standIn.requests.length;
      const r = await runToEnd(
        engine,
        {
          QueryLanguage: 'JSONata',
          StartAt: 'T',
          States: {
            T: {
              Type: 'Task',
              Resource: 'arn:aws:states:::sns:publish',
              Arguments: { TopicArn: topicArn, Message: '{% $states.input.message %}' },
              Credentials: { RoleArn: '{% $states.input.role %}' },
              End: true,
            },
          },
        },
        { message: 'hi', role: OTHER_ROLE },
      );
      assert.equal(r.status, 'SUCCEEDED', r.cause);
      assert.deepEqual(scheduledRoles(r.events), [OTHER_ROLE]);
      assert.deepEqual(publishRoles(from), [OTHER_ROLE]);
    });
  });

  it('fails the task with States.TaskFailed when the role cannot be assumed, without calling the service', async () => {
    await withEngine({ aws: aws() }, async (engine) => {
      const from = kit.standIn.requests.length;
      const r = await runToEnd(
        engine,
        {
          StartAt: 'T',
          States: {
            T: publish(
              { RoleArn: DENIED },
              {
                Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.error', Next: 'Caught' }],
                End: true,
              },
            ),
            Caught: { Type: 'Pass', End: true },
          },
        },
        { message: 'hello' },
      );
      assert.equal(r.status, 'SUCCEEDED');
      const failed = r.events.find((e) => e.type === 'TaskFailed');
      assert.equal(details(failed!).error, 'States.TaskFailed');
      assert.match(
        String(details(failed!).cause),
        /^Stepwise could not assume the role 'arn:aws:iam::210987654321:role\/not-trusted' named by the state's Credentials: .*not authorized to perform: sts:AssumeRole/,
      );
      assert.deepEqual(publishRoles(from), [], 'nothing was published');
    });
  });

  it('fails the state with States.Runtime when RoleArn is not a string', async () => {
    await withEngine({ aws: aws() }, async (engine) => {
      const r = await runToEnd(
        engine,
        { StartAt: 'T', States: { T: publish({ 'RoleArn.$': '$.n' }, { End: true }) } },
        {
          message: 'hello',
          n: 42,
        },
      );
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'States.Runtime');
      assert.match(
        r.cause ?? '',
        /The value of the field 'RoleArn' in 'Credentials' must be a non-empty string/,
      );
      assert.equal(r.events.filter((e) => e.type === 'TaskScheduled').length, 0);
    });
  });

  it('records the role on LambdaFunctionScheduled (a local function is called as it is)', async () => {
    await withEngine(
      { functions: functionsFromMap({ echo: (x: unknown) => Promise.resolve(x) }) },
      async (engine) => {
        const r = await runToEnd(
          engine,
          {
            StartAt: 'T',
            States: {
              T: {
                Type: 'Task',
                Resource: 'arn:aws:lambda:us-east-1:123456789012:function:echo',
                Credentials: { RoleArn: ROLE },
                End: true,
              },
            },
          },
          { a: 1 },
        );
        assert.equal(r.status, 'SUCCEEDED', r.cause);
        assert.deepEqual(scheduledRoles(r.events), [ROLE]);
        assert.deepEqual(r.output, { a: 1 });
      },
    );
  });
});
