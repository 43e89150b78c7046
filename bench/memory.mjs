#!/usr/bin/env node
// Memory check: one long Stepwise execution (the choice-loop workload with 100,000 iterations,
// i.e. 200,002 transitions) with history off. A worker thread samples the process RSS while
// the main thread runs the loop (the loop need not yield for the samples to be taken).
// Prints one JSON line. Run with --expose-gc so heap figures are measured after a full GC.
//   node --expose-gc bench/memory.mjs [--iterations N] [--interval-ms MS] [--history]
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { StateMachine } from '../dist/index.js';
import { loadWorkload } from '../../shared/bench/lib/workloads.mjs';

const { values: opts } = parseArgs({
  options: {
    iterations: { type: 'string', default: '100000' },
    'interval-ms': { type: 'string', default: '5' },
    history: { type: 'boolean', default: false }, // on = contrast run: events are kept, RSS should grow
  },
});
const iterations = Number(opts.iterations);
const MB = 1024 * 1024;
const mb = (bytes) => Math.round((bytes / MB) * 10) / 10;
const gc = globalThis.gc; // undefined without --expose-gc: heap retention is then not judged

const definition = loadWorkload('choice-loop').variants.find(
  (v) => v.name === 'intrinsic-mathadd',
).definition;
const sm = StateMachine.fromDefinition(definition);
const run = (limit) => sm.run({ input: { i: 0, limit }, history: opts.history, waitScale: 0 });

// A short run first, so JIT warm-up and lazy allocations are not counted as growth.
await run(1000);
gc?.();
const heapStart = process.memoryUsage().heapUsed;

const sampler = new Worker(
  `const { parentPort, workerData } = require('node:worker_threads');
   const samples = [];
   const timer = setInterval(() => samples.push(process.memoryUsage.rss()), workerData);
   parentPort.on('message', () => { clearInterval(timer); parentPort.postMessage(samples); });
   parentPort.postMessage('ready');`,
  { eval: true, workerData: Number(opts['interval-ms']) },
);
await once(sampler, 'message');
const rssStart = process.memoryUsage.rss(); // includes the sampler thread, so it is not counted as growth

const t0 = performance.now();
const result = await run(iterations);
const wallMs = performance.now() - t0;

sampler.postMessage('stop');
const [samples] = await once(sampler, 'message');
await sampler.terminate();
const rssEnd = process.memoryUsage.rss();
gc?.();
const heapEnd = process.memoryUsage().heapUsed;

const transitions = 2 * iterations + 2; // Choice + Pass per iteration, final Choice, Succeed
const rssPeak = Math.max(rssStart, rssEnd, ...samples);
// "Flat" = nothing per transition survives a full GC afterwards (a leak would: history on keeps
// ~1 KB per transition), and the peak stays within a fixed allowance for garbage awaiting
// collection (V8 lets the heap grow ~60-70 MB before a major GC here, whether the run is 100k
// or 300k iterations long; keeping the whole history instead adds ~300 MB).
const RSS_BUDGET_MB = 96;
const RETAINED_BUDGET_MB = 1;
const rssGrowthMB = mb(rssPeak - rssStart);
const retainedMB = gc ? mb(heapEnd - heapStart) : null;
const output = result.output === undefined ? undefined : JSON.parse(result.output);

process.stdout.write(
  JSON.stringify({
    check: 'memory',
    engine: 'stepwise',
    workload: `choice-loop x${iterations}`,
    history: opts.history,
    status: result.status,
    correct: output?.i === iterations && output?.limit === iterations,
    transitions,
    wallMs: Math.round(wallMs),
    transitionsPerSec: Math.round((transitions / wallMs) * 1000),
    samples: samples.length,
    rssTraceMB: deciles(samples).map(mb),
    rssStartMB: mb(rssStart),
    rssPeakMB: mb(rssPeak),
    rssEndMB: mb(rssEnd),
    rssGrowthMB,
    heapRetainedMB: retainedMB,
    flat: rssGrowthMB <= RSS_BUDGET_MB && (retainedMB === null || retainedMB <= RETAINED_BUDGET_MB),
    budget: `peak-start <= ${RSS_BUDGET_MB} MB, heap retained after GC <= ${RETAINED_BUDGET_MB} MB`,
  }) + '\n',
);

/** RSS at 10%, 20%, ... 100% of the run. */
function deciles(xs) {
  return xs.length
    ? Array.from(
        { length: 10 },
        (_, k) => xs[Math.min(xs.length - 1, Math.ceil(((k + 1) * xs.length) / 10) - 1)],
      )
    : [];
}
