// Adapter for ../shared/conformance/run.mjs (`--adapter ./conformance-adapter.mjs`): every case
// runs through Stepwise's durable engine (SQLite store in a temporary directory, one engine per
// case because Lambda function names repeat across cases with different behaviours), with waits
// skipped. Express cases run through StartSyncExecution; validation cases through the validator.
// Cases that need AWS services (DynamoDB, SNS, S3, Secrets Manager) get a fresh local stand-in
// (dist/runtime/testing/aws-standins.js, speaking each service's protocol) provisioned with the
// case's `resources`, and the engine's pass-through endpoint pointed at it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Engine,
  ServiceError,
  functionsFromMap,
  storedToWireEvent,
  validateDefinitionText,
} from './dist/index.js';
import { AwsStandIn } from './dist/runtime/testing/aws-standins.js';
import * as lambdaModule from '../shared/conformance/lambdas.mjs';

export const name = 'stepwise (durable engine, in-process)';
export const supports = {
  // 's3' marks both the cases that read S3 objects through aws-sdk:s3 (they pass) and the 21
  // 's3' runs the S3 and Distributed Map ItemReader cases against the stand-in. All 21 ItemReader
  // cases match AWS's status, output, error and cause; 7 differ at history level on
  // MapStateExited.previousEventId, where AWS's own recordings disagree (see
  // docs/feature-support.md). STEPWISE_CONFORMANCE_S3=0 leaves them out.
  services: [
    'none',
    'lambda',
    'nested-states',
    'activity',
    'aws-sdk:sfn',
    'dynamodb',
    'aws-sdk:dynamodb',
    'sns',
    'sqs',
    'task-token-callback',
    'aws-sdk:s3',
    'aws-sdk:secretsmanager',
    ...(process.env.STEPWISE_CONFORMANCE_S3 === '0' ? [] : ['s3']),
  ],
  kinds: ['execution', 'start-sync-execution', 'create-error', 'validate-definition'],
  history: true,
  actions: true,
};

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/conformance-sfn-role`;
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const AWS_SERVICES = /^(aws-sdk:)?(dynamodb|sns|sqs|s3|secretsmanager)$/;

/** A stand-in with the case's tables, topics, buckets and objects, when the case calls AWS. */
async function standInFor(c) {
  if (!(c.services ?? []).some((s) => AWS_SERVICES.test(s))) return undefined;
  const standIn = new AwsStandIn({ region: REGION, account: ACCOUNT });
  await standIn.start();
  for (const r of c.resources ?? []) {
    if (r.type === 'dynamodb') {
      const keys = [r.params?.partition_key ?? 'id'];
      if (r.params?.sort_key) keys.push(r.params.sort_key);
      standIn.createTable(r.params?.table_name ?? r.name, keys);
    } else if (r.type === 'sns') standIn.createTopic(r.name);
    else if (r.type === 'sqs') standIn.createQueue(r.name);
    else if (r.type === 's3-bucket') standIn.createBucket(r.name);
    else if (r.type === 's3-object') {
      standIn.createBucket(r.bucket);
      standIn.putObject(
        r.bucket,
        r.key,
        Buffer.from(r.body ?? '', r.bodyEncoding === 'base64' ? 'base64' : 'utf8'),
      );
    }
  }
  return standIn;
}

/**
 * The case's callback responders: they read the queue's messages and answer the task token each
 * carries (`TaskToken`), with the message's `Message` as the output (`sendTaskSuccess` mode), as
 * the recording test's worker did.
 */
function respond(engine, standIn, responders) {
  let stopped = false;
  void (async () => {
    while (!stopped) {
      for (const r of responders) {
        const queue = r.queueUrl.split('/').filter(Boolean).at(-1);
        for (const m of standIn.drainQueue(queue)) {
          let body;
          try {
            body = JSON.parse(m.Body);
          } catch {
            continue;
          }
          if (typeof body?.TaskToken !== 'string') continue;
          const output = JSON.stringify(body.Message ?? null);
          if (r.mode === 'sendTaskFailure') {
            await engine.sendTaskFailure({ taskToken: body.TaskToken }).catch(() => undefined);
          } else {
            await engine.sendTaskSuccess({ taskToken: body.TaskToken, output }).catch(() => undefined);
          }
        }
      }
      await sleep(5);
    }
  })();
  return { stop: () => (stopped = true) };
}

export async function runCase(c, { lambdas, signal, preCreateDefinition }) {
  const definition = c.definitionString ?? JSON.stringify(c.definition);
  const type = c.stateMachineType ?? 'STANDARD';
  if (c.kind === 'validate-definition') {
    const diagnostics = validateDefinitionText(definition, { type });
    const result = diagnostics.some((d) => d.severity === 'ERROR') ? 'FAIL' : 'OK';
    // AWS omits `location` when there is none.
    const shaped = diagnostics.map(({ location, ...d }) => (location ? { ...d, location } : d));
    return { validation: { result, diagnostics: shaped, truncated: false } };
  }
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-conformance-'));
  const provider = functionsFromMap(lambdas ?? {});
  provider.formatError = lambdaModule.formatError;
  const standIn = await standInFor(c);
  const engine = await Engine.open({
    dataDir: dir,
    functions: provider,
    region: REGION,
    account: ACCOUNT,
    waitScale: 0,
    ...(standIn
      ? {
          aws: {
            endpoint: standIn.url,
            credentials: { accessKeyId: 'conformance', secretAccessKey: 'conformance' },
            maxAttempts: 1,
          },
        }
      : {}),
  });
  let responding;
  try {
    const smName = `StepwiseConformance${Math.random().toString(36).slice(2, 10)}`;
    const create = (def) =>
      engine.createStateMachine({
        name: smName,
        definition: def,
        roleArn: ROLE,
        type,
        ...(c.createStateMachineParams ?? {}),
      });
    if (c.kind === 'create-error') {
      if (preCreateDefinition) await create(preCreateDefinition);
      try {
        const r = await create(definition);
        return { apiError: null, stateMachineArn: r.stateMachineArn };
      } catch (e) {
        if (e instanceof ServiceError) {
          return {
            apiError: { code: e.code, message: e.message },
            stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${smName}`,
          };
        }
        throw e;
      }
    }
    // Other state machines the case calls (nested executions), activities and their consumers.
    for (const o of c.otherStateMachines ?? []) {
      await engine.createStateMachine({
        name: o.name,
        definition: typeof o.definition === 'string' ? o.definition : JSON.stringify(o.definition),
        roleArn: ROLE,
        type: o.type ?? 'STANDARD',
      });
    }
    for (const r of c.resources ?? [])
      if (r.type === 'activity') await engine.createActivity({ name: r.name });
    for (const [i, r] of (c.resources ?? []).entries()) {
      if (r.type !== 'activity-consumer') continue;
      const consumer = await engine.createStateMachine({
        name: `consumer${i}`,
        definition: r.definition,
        roleArn: ROLE,
      });
      await engine.startExecution({ stateMachineArn: consumer.stateMachineArn, input: r.input });
    }
    const responders = (c.resources ?? []).filter((r) => r.type === 'callback-responder');
    if (responders.length > 0 && standIn) responding = respond(engine, standIn, responders);
    const { stateMachineArn } = await create(definition);
    const start = {
      stateMachineArn,
      ...(c.input != null ? { input: c.input } : {}),
      ...(c.executionName ? { name: c.executionName } : {}),
    };
    if (c.kind === 'start-sync-execution') {
      const r = await engine.startSyncExecution(start);
      return {
        status: r.status,
        output: r.output,
        error: r.error,
        cause: r.cause,
        executionArn: r.executionArn,
        stateMachineArn,
        roleArn: ROLE,
      };
    }
    const { executionArn } = await engine.startExecution(start);
    const history = async () => {
      const events = [];
      let nextToken;
      do {
        const page = await engine.getExecutionHistory({ executionArn, maxResults: 1000, nextToken });
        events.push(...page.items);
        nextToken = page.nextToken;
      } while (nextToken);
      return events;
    };
    if ((c.actions ?? []).some((a) => a.op === 'StopExecution')) {
      while (!signal?.aborted && !(await history()).some((e) => e.stateEnteredEventDetails)) await sleep(5);
      await engine.stopExecution({ executionArn });
    }
    let d;
    for (let wait = 1; ; wait = Math.min(50, wait * 2)) {
      d = await engine.describeExecution(executionArn);
      if (TERMINAL.has(d.status) || signal?.aborted) break;
      await sleep(wait);
    }
    // Cases that call other state machines were recorded with the called machine's name as
    // the one to normalise (the main machine's name never shows in the history).
    const other = c.otherStateMachines?.[0];
    const namedArn = other
      ? `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${other.name}`
      : stateMachineArn;
    return {
      status: d.status,
      output: d.output,
      error: d.error,
      cause: d.cause,
      events: (await history()).map(storedToWireEvent),
      executionArn,
      stateMachineArn: namedArn,
      roleArn: ROLE,
    };
  } finally {
    responding?.stop();
    await engine.close();
    await standIn?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
