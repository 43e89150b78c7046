/** Runs every example in examples/ through the library API and checks what it produces. */
// node:test's describe/test return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JsonValue } from '../../language/json.js';
import { formatFromFileName } from '../../language/load.js';
import { loadFunctionsModule, StateMachine, type RunResult } from '../library/index.js';

// This file runs as dist/surfaces/cli/examples.test.js: the repository root is three levels up.
const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

async function runExample(
  name: string,
  definition: string,
  input?: JsonValue,
  substitutions: Record<string, string> = {},
): Promise<RunResult> {
  const dir = join(EXAMPLES, name);
  const format = formatFromFileName(definition);
  const sm = StateMachine.fromDefinition(readFileSync(join(dir, definition), 'utf8'), {
    substitutions,
    ...(format ? { format } : {}),
  });
  return sm.run({
    input: input ?? (JSON.parse(readFileSync(join(dir, 'input.json'), 'utf8')) as JsonValue),
    functions: await loadFunctionsModule(join(dir, 'functions.mjs')),
    waitScale: 0,
  });
}

const output = (r: RunResult): unknown => (r.output === undefined ? undefined : JSON.parse(r.output));

describe('examples/approval', () => {
  const run = (input?: JsonValue) => runExample('approval', 'approval.asl.json', input);

  test('input.json: high latency goes to engineering, who approve', async () => {
    const r = await run();
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.deepEqual(output(r), {
      accuracypct: 100,
      latencyMs: 225,
      review: { decision: 'approved', reviewer: 'engineering@example.com' },
    });
  });

  test('good results are approved without a review', async () => {
    const r = await run({ accuracypct: 99, latencyMs: 40 });
    assert.equal(r.status, 'SUCCEEDED');
    assert.deepEqual(output(r), { accuracypct: 99, latencyMs: 40 });
  });

  test('low accuracy goes to research first', async () => {
    const r = await run({ accuracypct: 93, latencyMs: 500 });
    assert.equal(r.status, 'SUCCEEDED');
    assert.deepEqual((output(r) as { review: unknown }).review, {
      decision: 'approved',
      reviewer: 'research@example.com',
    });
  });

  test('a rejected review is caught and ends in the Fail state', async () => {
    for (const input of [
      { accuracypct: 80, latencyMs: 10 },
      { accuracypct: 100, latencyMs: 900 },
    ]) {
      const r = await run(input);
      assert.equal(r.status, 'FAILED');
      assert.equal(r.error, 'Failed Approval');
      assert.equal(r.cause, 'Invalid response.');
      assert.ok(r.events?.some((e) => e.type === 'TaskFailed'));
    }
  });
});

describe('examples/calculation', () => {
  test('input.json: a large product runs the whole pipeline', async () => {
    const r = await runExample('calculation', 'calculation.asl.json');
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    // (4 * 6 - 4 + 6) / 2
    assert.deepEqual(output(r), { x: 4, y: 6, result: 13 });
  });

  test('a small product notifies instead', async () => {
    const r = await runExample('calculation', 'calculation.asl.json', { x: 2, y: 3 });
    assert.equal(r.status, 'SUCCEEDED');
    assert.deepEqual(output(r), { notified: true, subject: 'Failed Test', result: 6 });
  });

  test('input that is not numeric fails the first task', async () => {
    const r = await runExample('calculation', 'calculation.asl.json', { x: 'four', y: 6 });
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'TypeError');
  });
});

describe('examples/parallel-wait', () => {
  test('input.json: both branches finish, the charge after one retry', async () => {
    const r = await runExample('parallel-wait', 'parallel-wait.asl.json');
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.deepEqual(output(r), {
      orderId: 'A-1001',
      status: 'SHIPPED',
      receipt: 'rcpt-A-1001',
      itemCount: 2,
    });
    const types = r.events!.map((e) => e.type);
    assert.ok(types.includes('ParallelStateStarted'));
    assert.equal(types.filter((t) => t === 'WaitStateEntered').length, 2);
    assert.equal(types.filter((t) => t === 'LambdaFunctionFailed').length, 1);
    assert.equal(types.filter((t) => t === 'LambdaFunctionSucceeded').length, 2);
  });
});

describe('examples/yaml', () => {
  const subs = {
    ClassifyFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:Classify',
    NotifyFunctionName: 'Notify',
    OnCallChannel: '#oncall',
    DefaultQueue: 'support-queue',
  };

  test('input.json: an urgent ticket pages on-call', async () => {
    const r = await runExample('yaml', 'triage.asl.yaml', undefined, subs);
    assert.equal(r.status, 'SUCCEEDED', r.cause);
    assert.deepEqual(output(r), {
      ticketId: 'T-318',
      subject: 'Checkout is down for EU customers',
      classification: { priority: 'urgent' },
      page: { notified: true, channel: '#oncall' },
    });
  });

  test('a normal ticket goes to the substituted queue', async () => {
    const r = await runExample(
      'yaml',
      'triage.asl.yaml',
      { ticketId: 'T-2', subject: 'Invoice question' },
      subs,
    );
    assert.equal(r.status, 'SUCCEEDED');
    assert.equal((output(r) as { queue: string }).queue, 'support-queue');
  });
});
