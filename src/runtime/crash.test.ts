// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * The crash test: a child process (test/crash/worker.mjs) runs a mixed workload on the durable
 * engine and is killed with SIGKILL at random points, then started again; after the last run
 * every execution must have its expected status and output, and every history must be
 * consistent (ids contiguous, links backwards, each task attempt ended exactly once, each state
 * entered and exited once per visit). A task attempt a kill interrupted must show as a recorded
 * failure followed by a retry, never as a silent second run.
 *
 * Scale with STEPWISE_CRASH_EXECUTIONS, STEPWISE_CRASH_KILLS, STEPWISE_CRASH_SEED (see
 * bench/crash-large.mjs for the large run).
 */
import assert from 'node:assert/strict';
import { checkHistory, type HistoryTally } from './testing/history-check.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

import type { HistoryEvent } from '../interpreter/types.js';
import { Engine } from './engine.js';

const WORKER = fileURLToPath(new URL('../../test/crash/worker.mjs', import.meta.url));
const EXECUTIONS = Number(process.env.STEPWISE_CRASH_EXECUTIONS ?? 40);
const KILLS = Number(process.env.STEPWISE_CRASH_KILLS ?? 5);
const SEED = Number(process.env.STEPWISE_CRASH_SEED ?? Date.now() % 1_000_000);
/** Kills land 100–600 ms after the worker reports that the engine is open. */
const KILL_MIN_MS = 100;
const KILL_MAX_MS = 600;
/** The last run must finish within this (generous: a loaded CI machine is slow). */
const FINAL_RUN_MS = Number(process.env.STEPWISE_CRASH_FINAL_MS ?? 120_000);
/** The worker spreads the executions' first Wait over this long, so kills keep landing in work. */
const SPREAD_MS = KILLS * 700;

const dataDir = mkdtempSync(join(tmpdir(), 'stepwise-crash-test-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** mulberry32, for reproducible kill points. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: string[];
  stderr: string;
  ms: number;
}

/**
 * Runs the worker; with `killAfterMs`, kills it (SIGKILL) that long after it printed `opened`
 * (or lets it be if it finishes first). Without, waits up to `limitMs` for it to finish.
 */
function runWorker(killAfterMs: number | undefined, limitMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(
      process.execPath,
      [WORKER, dataDir, String(SEED), String(EXECUTIONS), String(SPREAD_MS)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const lines: string[] = [];
    let stderr = '';
    let buffered = '';
    let killer: NodeJS.Timeout | undefined;
    const limit = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (line === 'opened' && killAfterMs !== undefined) {
          killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      if (killer) clearTimeout(killer);
      resolve({ code, signal, lines, stderr, ms: Date.now() - t0 });
    });
  });
}

interface Output {
  i: number;
  nap: number;
  items: number[];
  flaky: number;
  mapped: number[];
  par: [string, number];
  cb: { cb: number };
  act: { act: number };
}

/** What exec-i returns, whatever the kills did (the worker's functions are deterministic per input). */
function expectedOutput(i: number): Output {
  const items = [i, i + 1, i + 2];
  return {
    i,
    nap: Math.floor((i * SPREAD_MS) / (EXECUTIONS * 1000 * 0.01)),
    items,
    flaky: i + 1000,
    mapped: items.map((x) => x * 2),
    par: ['waited', i + 1000],
    cb: { cb: i * 3 },
    act: { act: i * 5 },
  };
}

/** How many times each state is entered (and exited) in one execution: retries do not re-enter. */
const VISITS: Record<string, number> = {
  Nap: 1,
  Flaky: 1,
  Fan: 1,
  Double: 3,
  Both: 1,
  BranchNap: 1,
  BranchPass: 1,
  BranchFlaky: 1,
  Callback: 1,
  Act: 1,
};

describe('crash test: SIGKILL at random points, then recovery', () => {
  it(`${EXECUTIONS} executions survive ${KILLS} kills with expected outputs and consistent histories`, async (t) => {
    t.diagnostic(`seed ${SEED} (rerun with STEPWISE_CRASH_SEED=${SEED}), data in ${dataDir}`);
    const random = prng(SEED);
    const t0 = Date.now();
    for (let k = 0; k < KILLS; k++) {
      const delay = KILL_MIN_MS + Math.floor(random() * (KILL_MAX_MS - KILL_MIN_MS));
      const run = await runWorker(delay, 60_000);
      const last = run.lines.filter((l) => l !== 'opened').at(-1) ?? '-';
      t.diagnostic(
        `run ${k + 1}: ${run.signal ?? `exit ${run.code}`} after ${run.ms} ms (kill at +${delay} ms), last: ${last}`,
      );
      assert.ok(run.signal === 'SIGKILL' || run.code === 0, `worker run ${k + 1} failed:\n${run.stderr}`);
      assert.ok(run.lines.includes('opened'), `worker run ${k + 1} never opened the engine:\n${run.stderr}`);
    }
    const final = await runWorker(undefined, FINAL_RUN_MS);
    t.diagnostic(
      `final run: exit ${final.code} after ${final.ms} ms; kills and restarts took ${Date.now() - t0} ms`,
    );
    assert.equal(final.signal, null, `the final run did not finish within ${FINAL_RUN_MS} ms`);
    assert.equal(final.code, 0, final.stderr);
    assert.equal(final.lines.at(-1), 'done');

    // Verify through a fresh engine on the same data.
    const engine = await Engine.open({ dataDir, waitScale: 0.01 });
    try {
      const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:crash';
      const names: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await engine.listExecutions({ stateMachineArn, maxResults: 1000, nextToken });
        for (const item of page.items) {
          assert.equal(item.status, 'SUCCEEDED', `${item.name} is ${item.status}`);
          names.push(item.name);
        }
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
      assert.deepEqual(
        [...names].sort(),
        Array.from({ length: EXECUTIONS }, (_, i) => `exec-${i}`).sort(),
        'exactly the expected executions exist',
      );
      const total: HistoryTally = { attempts: 0, interrupted: 0, timedOut: 0 };
      for (let i = 0; i < EXECUTIONS; i++) {
        const executionArn = `arn:aws:states:us-east-1:123456789012:execution:crash:exec-${i}`;
        const d = await engine.describeExecution(executionArn);
        assert.equal(d.status, 'SUCCEEDED', `exec-${i}: ${d.error} ${d.cause}`);
        assert.deepEqual(JSON.parse(d.output ?? 'null'), expectedOutput(i), `exec-${i} output`);
        const events: HistoryEvent[] = [];
        let token: string | undefined;
        do {
          const page = await engine.getExecutionHistory({ executionArn, maxResults: 1000, nextToken: token });
          events.push(...page.items);
          token = page.nextToken;
        } while (token !== undefined);
        const tally = checkHistoryWith(`exec-${i}`, events);
        total.attempts += tally.attempts;
        total.interrupted += tally.interrupted;
        total.timedOut += tally.timedOut;
      }
      t.diagnostic(
        `${total.attempts} task attempts, ${total.interrupted} interrupted by a kill (failed, then retried), ` +
          `${total.timedOut} timed out (token or claim lost to a kill, or activity not served within 3 s); total ${Date.now() - t0} ms`,
      );
    } finally {
      await engine.close();
    }
  });
});

/** The shared consistency rules, with this workload's expected state visits. */
function checkHistoryWith(
  name: string,
  events: readonly { id: number; previousEventId: number; type: string; [k: string]: unknown }[],
) {
  return checkHistory(name, events, VISITS);
}
