#!/usr/bin/env node
// Stepwise vs aws-local-stepfunctions (ALS) on the shared workloads, plus a memory check.
// Every engine x workload x repetition runs in a fresh `node bench.mjs` process (the shared
// driver); engines are interleaved within each repetition so load spikes hit both alike.
// The JSONata variants (bench/workloads-jsonata, run by bench/driver.mjs with the same rules)
// run on Stepwise only, ALS having no JSONata: each is compared with ALS's figure for the
// JSONPath workload it mirrors (pass-chain-jsonata vs ALS on pass-chain).
//   node bench/run.mjs                                  # all workloads, 3 reps, table on stdout
//   node bench/run.mjs --workloads pass-chain,map-10k --reps 5
//   node bench/run.mjs --workloads pass-chain-jsonata,choice-loop-jsonata
//   node bench/run.mjs --json                           # one JSON object per line instead
// Progress goes to stderr; raw per-run records to bench/results/run-<time>.jsonl.
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { availableParallelism, loadavg } from 'node:os';

const HERE = dirname(fileURLToPath(import.meta.url));

const { values: opts } = parseArgs({
  options: {
    workloads: { type: 'string' },
    reps: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '1000' }, // task-chain concurrent mode
    scale: { type: 'string', default: '1' }, // passed to bench.mjs: more executions, less noise
    'memory-iterations': { type: 'string', default: '100000' },
    'no-memory': { type: 'boolean', default: false },
    'no-express': { type: 'boolean', default: false },
    'no-durable': { type: 'boolean', default: false },
    parked: { type: 'string', default: '100000' },
    harness: { type: 'string', default: join(HERE, '..', '..', 'shared', 'bench') },
    'timeout-s': { type: 'string', default: '300' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (opts.help) {
  console.error(
    'usage: node bench/run.mjs [--workloads a,b] [--reps N] [--json] [--concurrency N] [--scale K]\n' +
      '       [--memory-iterations N] [--no-memory] [--no-express] [--no-durable] [--parked N]\n' +
      '       [--harness DIR] [--timeout-s S] [--out FILE.jsonl]',
  );
  process.exit(0);
}

const ENGINES = [
  { id: 'stepwise', label: 'Stepwise', adapter: join(HERE, 'adapters', 'stepwise.mjs') },
  { id: 'als', label: 'ALS', adapter: join(HERE, 'adapters', 'aws-local-stepfunctions.mjs') },
  // The Express path: the engine's StartSyncExecution, in process (shared JSONPath workloads only).
  ...(opts['no-express']
    ? []
    : [{ id: 'express', label: 'Express', adapter: join(HERE, 'adapters', 'stepwise-express.mjs') }]),
];
/** The Express path's target over ALS (the durable runtime issue: "at least 20x"). */
const EXPRESS_TARGET = 20;
/** Durable transitions/s on SQLite, 1,000 concurrent 10-task chains; RSS of parked executions. */
const DURABLE_TARGET = 25_000;
const PARKED_TARGET_MB = 500;
// Throughput targets for Stepwise / ALS: pass-chain is the pure interpreter loop. The JSONata
// pass-chain is held to 10x ALS's JSONPath pass-chain; the other JSONata variants are reported
// without a target.
const TARGETS = { 'pass-chain': 20, 'pass-chain-jsonata': 10 };
const targetFor = (workload) => TARGETS[workload] ?? (JSONATA_WORKLOADS.includes(workload) ? null : 10);

const { listWorkloads } = await import(pathToFileURL(join(opts.harness, 'lib', 'workloads.mjs')).href);
const JSONATA_DIR = join(HERE, 'workloads-jsonata');
const JSONATA_WORKLOADS = readdirSync(JSONATA_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => basename(f, '.json'))
  .sort();
/** The shared JSONPath workload a JSONata variant mirrors (`pass-chain-jsonata` -> `pass-chain`). */
const baselineOf = (w) => w.replace(/-jsonata$/, '');
const available = [...listWorkloads(), ...JSONATA_WORKLOADS];
const selected = opts.workloads ? opts.workloads.split(',').map((s) => s.trim()) : available;
const unknown = selected.filter((w) => !available.includes(w));
if (unknown.length) {
  console.error(`unknown workload(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(64);
}
const reps = Number(opts.reps);
if (!(reps >= 1)) {
  console.error('--reps must be >= 1');
  process.exit(64);
}

// A job runs each engine once per rep: `runs` maps engine id -> the node arguments. A JSONata job
// runs Stepwise through bench/driver.mjs; its ALS figure is ALS on the JSONPath baseline, taken
// from that workload's own job when it is selected too, else run within the JSONata job.
const jobs = [];
const sharedArgs = (engine, args) => [join(opts.harness, 'bench.mjs'), '--adapter', engine.adapter, ...args];
for (const w of selected) {
  if (JSONATA_WORKLOADS.includes(w)) {
    const baseline = baselineOf(w);
    const stepwise = ENGINES.find((e) => e.id === 'stepwise');
    const als = ENGINES.find((e) => e.id === 'als');
    const runs = {
      stepwise: [
        join(HERE, 'driver.mjs'),
        '--adapter',
        stepwise.adapter,
        '--workloads-dir',
        JSONATA_DIR,
        '--harness',
        opts.harness,
        '--workload',
        w,
      ],
    };
    const alsFrom = selected.includes(baseline) ? baseline : undefined;
    if (alsFrom === undefined) runs.als = sharedArgs(als, ['--workload', baseline]);
    jobs.push({ label: w, workload: w, baseline, runs, alsFrom });
    continue;
  }
  const runs = (args) => Object.fromEntries(ENGINES.map((e) => [e.id, sharedArgs(e, args)]));
  if (w === 'task-chain') {
    jobs.push({ label: 'task-chain (sequential)', workload: w, runs: runs(['--workload', w]) });
    jobs.push({
      label: `task-chain (concurrent ${opts.concurrency})`,
      workload: w,
      runs: runs(['--workload', w, '--mode', 'concurrent', '--concurrency', opts.concurrency]),
    });
  } else {
    jobs.push({ label: w, workload: w, runs: runs(['--workload', w]) });
  }
}

const resultsDir = join(HERE, 'results');
mkdirSync(resultsDir, { recursive: true });
const outFile = opts.out ?? join(resultsDir, `run-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
const log = (msg) => process.stderr.write(msg + '\n');
const timeoutS = Number(opts['timeout-s']);

/** Runs `node args...` to completion and returns its last JSON line (or an error record). */
function runChild(args, fallback) {
  const p = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: (timeoutS + 30) * 1000,
  });
  const lines = (p.stdout ?? '').split('\n').filter((l) => l.startsWith('{'));
  if (lines.length) return JSON.parse(lines[lines.length - 1]);
  const why = p.error ? p.error.message : `exit ${p.status}, signal ${p.signal}`;
  return {
    ...fallback,
    status: 'error',
    error: `no output (${why}): ${(p.stderr ?? '').trim().slice(-300)}`,
  };
}

const records = new Map(); // `${job.label}\u0000${engine.id}` -> bench.mjs records
for (const job of jobs) {
  for (let r = 0; r < reps; r++) {
    // Alternate which engine goes first, so neither always runs right after the other.
    const order = (r % 2 ? [...ENGINES].reverse() : ENGINES).filter((e) => job.runs[e.id]);
    for (const engine of order) {
      const rec = runChild([...job.runs[engine.id], '--scale', opts.scale, '--timeout-s', String(timeoutS)], {
        workload: engine.id === 'als' && job.baseline ? job.baseline : job.workload,
        adapter: engine.id,
      });
      rec.job = job.label;
      rec.rep = r + 1;
      appendFileSync(outFile, JSON.stringify(rec) + '\n');
      const key = `${job.label}\u0000${engine.id}`;
      if (!records.has(key)) records.set(key, []);
      records.get(key).push(rec);
      const what = engine.id === 'als' && job.baseline ? `${job.label} / ALS on ${job.baseline}` : null;
      log(
        `${what ?? `${job.label} / ${engine.label}`} rep ${r + 1}/${reps}: ` +
          (rec.status === 'ok'
            ? `${fmt(rec.transitionsPerSec)} transitions/s, load ${rec.loadavg1}${rec.correct === false ? ` OUTPUT MISMATCH (${rec.checkError})` : ''}`
            : `${rec.status}: ${rec.error ?? rec.reason ?? ''}`),
      );
    }
  }
}

let memory = null;
if (!opts['no-memory']) {
  log(`memory check: choice-loop with ${opts['memory-iterations']} iterations on Stepwise, history off`);
  memory = runChild(['--expose-gc', join(HERE, 'memory.mjs'), '--iterations', opts['memory-iterations']], {
    check: 'memory',
    engine: 'stepwise',
  });
  appendFileSync(outFile, JSON.stringify(memory) + '\n');
}

// Durable figures (bench/durable.mjs): throughput once per rep, then the parked executions once.
const durable = [];
let parked = null;
if (!opts['no-durable']) {
  const script = join(HERE, 'durable.mjs');
  for (let r = 0; r < reps; r++) {
    const rec = runChild(['--expose-gc', script, '--no-memory', '--json'], { check: 'durable' });
    const t = rec.throughput;
    log(
      `durable SQLite rep ${r + 1}/${reps}: ` +
        (t ? `${fmt(t.stateTransitionsPerSec)} transitions/s, load ${loadavg()[0].toFixed(2)}` : rec.error),
    );
    appendFileSync(outFile, JSON.stringify({ check: 'durable', rep: r + 1, ...rec }) + '\n');
    if (t) durable.push(t);
  }
  log(`durable: ${opts.parked} executions parked in a Wait state`);
  const rec = runChild(['--expose-gc', script, '--no-throughput', '--parked', opts.parked, '--json'], {
    check: 'parked',
  });
  appendFileSync(outFile, JSON.stringify({ check: 'parked', ...rec }) + '\n');
  parked = rec.memory ?? { error: rec.error ?? 'no result' };
}
const durableRate = durable.length ? median(durable.map((t) => t.stateTransitionsPerSec)) : null;

// Summarise: medians over the successful reps of each job x engine.
const rows = jobs.map((job) => {
  const perEngine = Object.fromEntries(
    ENGINES.map((e) => {
      const label = e.id === 'als' && job.alsFrom !== undefined ? job.alsFrom : job.label;
      return [e.id, summarise(records.get(`${label}\u0000${e.id}`) ?? [])];
    }),
  );
  const sw = perEngine.stepwise;
  const als = perEngine.als;
  const ratio = sw.ok && als.ok ? sw.transitionsPerSec / als.transitionsPerSec : null;
  const target = targetFor(job.workload);
  const result = ratio === null ? 'ERROR' : target === null ? 'INFO' : ratio >= target ? 'PASS' : 'MISS';
  const ex = perEngine.express;
  const expressRatio = ex?.ok && als.ok ? ex.transitionsPerSec / als.transitionsPerSec : null;
  return { job, perEngine, ratio, target, result, expressRatio };
});

if (opts.json) {
  for (const { job, perEngine, ratio, target, result, expressRatio } of rows) {
    for (const e of ENGINES) {
      const s = perEngine[e.id];
      if (e.id === 'express' && !job.runs.express) continue;
      const express = e.id === 'express';
      console.log(
        JSON.stringify({
          workload: job.label,
          ...(job.baseline ? { engineWorkload: e.id === 'als' ? job.baseline : job.workload } : {}),
          engine: s.engine ?? e.id,
          engineVersion: s.engineVersion ?? null,
          status: s.ok ? 'ok' : 'error',
          ...(s.error ? { error: s.error } : {}),
          transitionsPerSec: s.transitionsPerSec,
          transitionsPerSecMin: s.min,
          transitionsPerSecMax: s.max,
          execPerSec: s.execPerSec,
          reps: s.reps,
          correct: s.correct,
          ...(s.checkError ? { checkError: s.checkError } : {}),
          maxRssMB: s.maxRssMB,
          // Stepwise / ALS (same on both lines); on the Express line, Express / ALS.
          ratio: express
            ? expressRatio === null
              ? null
              : round(expressRatio, 2)
            : ratio === null
              ? null
              : round(ratio, 2),
          target: express ? EXPRESS_TARGET : target,
          result: express ? verdict(expressRatio, EXPRESS_TARGET) : result,
        }),
      );
    }
  }
  if (memory) console.log(JSON.stringify(memory));
  if (durable.length) {
    console.log(
      JSON.stringify({
        check: 'durable',
        engine: 'stepwise',
        transitionsPerSec: durableRate,
        transitionsPerSecMin: Math.min(...durable.map((t) => t.stateTransitionsPerSec)),
        transitionsPerSecMax: Math.max(...durable.map((t) => t.stateTransitionsPerSec)),
        reps: durable.length,
        target: DURABLE_TARGET,
        result: durableRate >= DURABLE_TARGET ? 'PASS' : 'MISS',
      }),
    );
  }
  if (parked) console.log(JSON.stringify({ check: 'parked', engine: 'stepwise', ...parked }));
} else {
  printTable();
}

const failed =
  rows.some((r) => r.result === 'ERROR' || ENGINES.some((e) => r.perEngine[e.id].correct === false)) ||
  (!opts['no-durable'] &&
    (durable.length < reps || durable.some((t) => t.sampleWrong > 0) || parked?.error)) ||
  (memory !== null && (memory.status !== 'SUCCEEDED' || memory.correct !== true));
process.exit(failed ? 1 : 0);

function summarise(recs) {
  const ok = recs.filter((r) => r.status === 'ok');
  const first = recs[0] ?? {};
  if (!ok.length) {
    return { ok: false, reps: 0, error: String(first.error ?? first.reason ?? 'no runs'), correct: null };
  }
  const t = ok.map((r) => r.transitionsPerSec);
  const bad = ok.find((r) => r.correct === false);
  return {
    ok: true,
    engine: first.engine,
    engineVersion: first.engineVersion,
    reps: ok.length,
    ...(ok.length < recs.length ? { error: `${recs.length - ok.length} of ${recs.length} runs failed` } : {}),
    transitionsPerSec: median(t),
    min: Math.min(...t),
    max: Math.max(...t),
    execPerSec: median(ok.map((r) => r.execPerSec)),
    maxRssMB: median(ok.map((r) => r.maxRssMB)),
    correct: ok.every((r) => r.correct === true) ? true : bad ? false : null,
    ...(bad ? { checkError: bad.checkError } : {}),
    loadavg1: median(ok.map((r) => r.loadavg1)),
    variant: first.variant,
  };
}

function printTable() {
  const yesNo = (s) => (s.correct === true ? 'yes' : s.correct === false ? 'NO' : '?');
  const tps = (s) => (s.ok ? fmt(s.transitionsPerSec) : 'error');
  const header = ['workload', 'Stepwise tr/s', 'ALS tr/s', 'ratio', 'target', 'result', 'correct (SW/ALS)'];
  const body = rows.map(({ job, perEngine: p, ratio, target, result }) => [
    job.baseline ? `${job.label} (ALS: ${job.baseline})` : job.label,
    tps(p.stepwise),
    tps(p.als),
    ratio === null ? '-' : `${ratio.toFixed(ratio < 1 ? 2 : 1)}x`,
    target === null ? '-' : `${target}x`,
    result,
    `${yesNo(p.stepwise)}/${yesNo(p.als)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells) =>
    '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const loads = rows.flatMap((r) =>
    ENGINES.map((e) => r.perEngine[e.id].loadavg1).filter((x) => x !== undefined),
  );

  console.log(
    `\nNode ${process.version}, ${reps} rep(s) each in fresh processes, median transitions/s` +
      `${opts.scale !== '1' ? `, executions x${opts.scale}` : ''}. Raw: ${relative(process.cwd(), outFile)}\n`,
  );
  console.log(line(header));
  console.log(
    '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|',
  );
  for (const row of body) console.log(line(row));

  if (rows.some((r) => r.job.baseline)) {
    console.log(
      '\nJSONata rows: Stepwise runs the JSONata variant (bench/workloads-jsonata); ALS has no JSONata, ' +
        'so its column is its figure for the JSONPath workload named in brackets.',
    );
  }
  const expressRows = rows.filter((r) => r.job.runs.express);
  if (expressRows.length) {
    const eh = ['workload', 'Express tr/s', 'ALS tr/s', 'ratio', 'target', 'result'];
    const eb = expressRows.map(({ job, perEngine: p, expressRatio }) => [
      job.label,
      tps(p.express),
      tps(p.als),
      expressRatio === null ? '-' : `${expressRatio.toFixed(expressRatio < 1 ? 2 : 1)}x`,
      `${EXPRESS_TARGET}x`,
      // A run that fails (map-10k's output is over AWS's payload quota) has no ratio; why is below.
      expressRatio === null ? '-' : verdict(expressRatio, EXPRESS_TARGET),
    ]);
    const ew = eh.map((h, i) => Math.max(h.length, ...eb.map((row) => row[i].length)));
    const el = (cells) =>
      '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(ew[i]) : c.padStart(ew[i]))).join(' | ') + ' |';
    console.log(
      '\nThe Express path (adapters/stepwise-express.mjs: Engine.startSyncExecution on an EXPRESS state ' +
        'machine, in process, JSON text in and out), same runs:\n',
    );
    console.log(el(eh));
    console.log(
      '|' + ew.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|',
    );
    for (const row of eb) console.log(el(row));
  }

  for (const { job, perEngine } of rows) {
    for (const e of ENGINES) {
      const s = perEngine[e.id];
      if (e.id === 'express' && !job.runs.express) continue;
      if (s.error) console.log(`  ${job.label} / ${e.label}: ${s.error}`);
      if (s.checkError) console.log(`  ${job.label} / ${e.label} output mismatch: ${s.checkError}`);
    }
  }
  if (loads.length && Math.max(...loads) >= 1.5) {
    console.log(
      `\nNote: the 1-min load average reached ${Math.max(...loads)} on ${availableParallelism()} cores: ` +
        'other processes competed for the CPU, so compare these figures with care.',
    );
  }

  if (memory) {
    console.log('');
    if (memory.status === 'error' || memory.rssStartMB === undefined) {
      console.log(`Memory check: error: ${memory.error ?? memory.status}`);
    } else {
      console.log(
        `Memory check (Stepwise, ${memory.workload}, ${fmt(memory.transitions)} transitions, history off, ` +
          `${fmt(memory.transitionsPerSec)} transitions/s, ${memory.samples} RSS samples): ` +
          `RSS start ${memory.rssStartMB} MB, peak ${memory.rssPeakMB} MB, end ${memory.rssEndMB} MB; ` +
          `heap retained after GC ${memory.heapRetainedMB ?? '?'} MB -> ${memory.flat ? 'FLAT' : 'NOT FLAT'} ` +
          `(${memory.budget}); output ${memory.correct ? 'correct' : 'WRONG'}`,
      );
    }
  }

  if (durable.length) {
    const rates = durable.map((t) => t.stateTransitionsPerSec);
    const wrong = durable.reduce((n, t) => n + t.sampleWrong, 0);
    console.log(
      `\nDurable (bench/durable.mjs, SQLite, ${fmt(durable[0].executions)} concurrent ${durable[0].tasksPerExecution}-task ` +
        `chains after a warm-up of ${fmt(durable[0].warmup ?? 0)}, ${durable.length} rep(s)): median ${fmt(durableRate)} transitions/s (${fmt(Math.min(...rates))}-` +
        `${fmt(Math.max(...rates))}); target ${fmt(DURABLE_TARGET)}: ${durableRate >= DURABLE_TARGET ? 'PASS' : 'MISS'}` +
        `${wrong ? `; ${wrong} WRONG outputs in the samples` : ''}`,
    );
  } else if (!opts['no-durable']) {
    console.log('\nDurable: error (no throughput figure; see the raw records)');
  }
  if (parked) {
    console.log(
      parked.error
        ? `Parked executions: error: ${parked.error}`
        : `Parked executions (${fmt(parked.parked)} in a Wait state): RSS ${parked.rssAfterStartMB} MB once all ` +
            `started, ${parked.rssAfterGcMB} MB after GC, ${fmt(parked.startsPerSec)} starts/s; target < ` +
            `${PARKED_TARGET_MB} MB: ${parked.rssAfterStartMB < PARKED_TARGET_MB ? 'PASS' : 'MISS'}`,
    );
  }
}

function verdict(ratio, target) {
  return ratio === null ? 'ERROR' : ratio >= target ? 'PASS' : 'MISS';
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function round(x, d) {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

function fmt(x) {
  return Math.round(x).toLocaleString('en-US');
}
