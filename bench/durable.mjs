#!/usr/bin/env node
// Durable engine figures (Engine on SQLite, synchronous=FULL, group commit):
//  1. throughput: N concurrent executions of a chain of T Task states (a local async handler),
//     all started at once through the engine API; durable state transitions/s.
//  2. memory: M executions parked in a Wait state (Wait 3600 s): time to start them, RSS once they
//     are all started (target < 500 MB), and that they cost rows, not memory (none stays in the
//     engine's memory; two timer rows each: the Wait, and the one-year execution limit).
//   npm run build && node --expose-gc bench/durable.mjs [--executions 1000] [--warmup 100] [--tasks 10]
//                                                       [--writer thread|inline]
//                                                       [--parked 100000] [--no-memory] [--no-throughput] [--json]
import { parseArgs } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../dist/runtime/engine.js';
import { functionsFromMap } from '../dist/runtime/functions.js';

const { values: opts } = parseArgs({
  options: {
    executions: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '100' },
    tasks: { type: 'string', default: '10' },
    parked: { type: 'string', default: '100000' },
    'start-concurrency': { type: 'string', default: '1000' },
    'no-memory': { type: 'boolean', default: false },
    'no-throughput': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    writer: { type: 'string', default: 'thread' },
  },
});
const ROLE = 'arn:aws:iam::123456789012:role/bench';
const log = (m) => process.stderr.write(m + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes) => Math.round(bytes / 1048576);
const results = {};

/** CPU seconds of this process's main thread so far (Linux /proc; undefined elsewhere). */
function mainThreadCpu() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return undefined;
  }
}

async function untilNoneRunning(engine, stateMachineArn) {
  for (;;) {
    const page = await engine.listExecutions({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 1 });
    if (page.items.length === 0) return;
    await sleep(10);
  }
}

// ---- 1. throughput ------------------------------------------------------------------------
if (!opts['no-throughput']) {
  const n = Number(opts.executions);
  const tasks = Number(opts.tasks);
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-durable-'));
  const engine = await Engine.open({
    dataDir: dir,
    functions: functionsFromMap({ inc: async (x) => x + 1 }),
    storeWriter: opts.writer,
  });
  const states = {};
  for (let k = 0; k < tasks; k++) {
    states[`T${k}`] = {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:123456789012:function:inc',
      ...(k < tasks - 1 ? { Next: `T${k + 1}` } : { End: true }),
    };
  }
  const { stateMachineArn } = await engine.createStateMachine({
    name: 'chain',
    definition: JSON.stringify({ StartAt: 'T0', States: states }),
    roleArn: ROLE,
  });
  // Warm-up, as the shared harness does before timing (its task-chain workload: 100 executions):
  // the same chain run to the end first, so that the timed run measures the engine rather than
  // V8 compiling it. A server does this once in its life.
  const warmup = Number(opts.warmup);
  if (warmup > 0) {
    log(`warm-up: ${warmup} executions`);
    await Promise.all(
      Array.from({ length: warmup }, (_, i) =>
        engine.startExecution({ stateMachineArn, name: `warmup${i}`, input: '0' }),
      ),
    );
    await untilNoneRunning(engine, stateMachineArn);
  }
  log(`throughput: ${n} executions x ${tasks} Task states, started at once`);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpu();
  const started = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      engine.startExecution({ stateMachineArn, name: `e${i}`, input: '0' }),
    ),
  );
  const tStarted = performance.now();
  await untilNoneRunning(engine, stateMachineArn);
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const main1 = mainThreadCpu();
  const seconds = (t1 - t0) / 1000;
  // Check a sample: all succeeded with the right output.
  let wrong = 0;
  for (const { executionArn } of started.filter((_, i) => i % Math.max(1, Math.floor(n / 50)) === 0)) {
    const d = await engine.describeExecution(executionArn);
    if (d.status !== 'SUCCEEDED' || d.output !== String(tasks)) wrong++;
  }
  const events = (
    await engine.getExecutionHistory({ executionArn: started[0].executionArn, maxResults: 1000 })
  ).items.length;
  await engine.close();
  if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  results.throughput = {
    executions: n,
    warmup,
    tasksPerExecution: tasks,
    seconds: +seconds.toFixed(2),
    startSeconds: +((tStarted - t0) / 1000).toFixed(2),
    stateTransitionsPerSec: Math.round((n * tasks) / seconds),
    historyEventsPerSec: Math.round((n * events) / seconds),
    executionsPerSec: Math.round(n / seconds),
    eventsPerExecution: events,
    sampleWrong: wrong,
    // On a loaded machine wall time lies; CPU time says what the work itself cost.
    processCpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2),
    ...(main0 !== undefined && main1 !== undefined
      ? { mainThreadCpuSeconds: +(main1 - main0).toFixed(2) }
      : {}),
  };
  log(
    `  ${seconds.toFixed(2)} s (starts took ${((tStarted - t0) / 1000).toFixed(2)} s): ` +
      `${results.throughput.stateTransitionsPerSec} durable state transitions/s, ` +
      `${results.throughput.historyEventsPerSec} history events/s, ${results.throughput.executionsPerSec} executions/s` +
      (wrong ? `; ${wrong} WRONG in the sample` : '; sample correct'),
  );
}

// ---- 2. memory: parked executions ---------------------------------------------------------
if (!opts['no-memory']) {
  const m = Number(opts.parked);
  const concurrency = Number(opts['start-concurrency']);
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-parked-'));
  const engine = await Engine.open({ dataDir: dir });
  const { stateMachineArn } = await engine.createStateMachine({
    name: 'parked',
    definition: JSON.stringify({
      StartAt: 'W',
      States: { W: { Type: 'Wait', Seconds: 3600, End: true } },
    }),
    roleArn: ROLE,
  });
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  log(`memory: ${m} executions parked in Wait 3600 s (${concurrency} starts in flight)`);
  const t0 = performance.now();
  let next = 0;
  let lastLog = t0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < m) {
        const i = next++;
        await engine.startExecution({ stateMachineArn, name: `p${i}`, input: `{"i":${i}}` });
        if (performance.now() - lastLog > 5000) {
          lastLog = performance.now();
          log(`  ${i} started, RSS ${mb(process.memoryUsage().rss)} MB`);
        }
      }
    }),
  );
  const startSeconds = (performance.now() - t0) / 1000;
  const rssAfterStart = process.memoryUsage().rss;
  globalThis.gc?.();
  await sleep(100);
  const mem = process.memoryUsage();
  // Private fields, read for the check only: executions held in memory, timers armed in memory.
  const liveInMemory = engine.live?.size;
  const armed = engine.armed?.size;
  const running = await engine.listExecutions({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 1000 });
  await engine.close();
  let timerRows;
  try {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(join(dir, 'stepwise.db'), { readonly: true });
    timerRows = db.prepare('SELECT count(*) AS n FROM timers').get().n;
    db.close();
  } catch (e) {
    timerRows = `unknown (${e.message})`;
  }
  if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  results.memory = {
    parked: m,
    startSeconds: +startSeconds.toFixed(1),
    startsPerSec: Math.round(m / startSeconds),
    rssBeforeMB: mb(rssBefore),
    rssAfterStartMB: mb(rssAfterStart),
    rssAfterGcMB: mb(mem.rss),
    heapUsedAfterGcMB: mb(mem.heapUsed),
    gc: typeof globalThis.gc === 'function',
    targetMB: 500,
    withinTarget: mb(rssAfterStart) < 500,
    liveInMemory,
    timersArmedInMemory: armed,
    timerRows,
    firstPageRunning: running.items.length,
  };
  log(
    `  started ${m} in ${startSeconds.toFixed(1)} s (${results.memory.startsPerSec}/s); RSS ${mb(rssBefore)} MB before, ` +
      `${mb(rssAfterStart)} MB after all started (target < 500 MB: ${results.memory.withinTarget ? 'OK' : 'MISSED'}), ` +
      `${mb(mem.rss)} MB after GC (heap used ${mb(mem.heapUsed)} MB${results.memory.gc ? '' : ', run with --expose-gc for a real GC'}); ` +
      `in engine memory: ${liveInMemory} executions, ${armed} armed timers; timer rows: ${timerRows}`,
  );
}

if (opts.json) console.log(JSON.stringify(results));
else console.log(JSON.stringify(results, null, 2));
