#!/usr/bin/env node
// The shared driver (../shared/bench/bench.mjs) for workloads outside the shared workloads
// directory, which that driver cannot be pointed at. Same measurement rules, reusing its lib/
// helpers: warm-up executions first (the adapter compiles the definition once there), inputs
// deep-copied before the clock starts, sequential executions (each awaited), only the execution
// loop timed, transitions/s = executions x transitionsPerExecution / wall time, first and last
// outputs checked against expectedOutput. Prints one JSON line per workload, as bench.mjs does.
//   node bench/driver.mjs --adapter bench/adapters/stepwise.mjs --workloads-dir bench/workloads-jsonata --workload pass-chain-jsonata
import { parseArgs } from 'node:util';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';

const HERE = dirname(fileURLToPath(import.meta.url));

const { values: opts } = parseArgs({
  options: {
    adapter: { type: 'string' },
    'workloads-dir': { type: 'string', default: join(HERE, 'workloads-jsonata') },
    workload: { type: 'string', default: 'all' },
    executions: { type: 'string' },
    scale: { type: 'string', default: '1' },
    warmup: { type: 'string' },
    variant: { type: 'string' },
    harness: { type: 'string', default: join(HERE, '..', '..', 'shared', 'bench') },
    'timeout-s': { type: 'string', default: '600' },
    'no-check': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const dir = resolve(process.cwd(), opts['workloads-dir']);
const listWorkloads = () =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .sort();

if (opts.help || !opts.adapter) {
  console.error(
    'usage: node bench/driver.mjs --adapter path.mjs [--workloads-dir DIR] [--workload all|a,b]\n' +
      '       [--executions N] [--scale K] [--warmup N] [--variant NAME] [--harness DIR] [--timeout-s S] [--no-check]\n' +
      `workloads in ${dir}: ${listWorkloads().join(', ')}`,
  );
  process.exit(opts.help ? 0 : 64);
}

const lib = (f) => import(pathToFileURL(join(opts.harness, 'lib', f)).href);
const { expand, selectVariant } = await lib('workloads.mjs');
const { jsonDiff, deepClone } = await lib('asl.mjs');

const adapterPath = resolve(process.cwd(), opts.adapter);
const adapterName = basename(adapterPath).replace(/\.m?js$/, '');

let current = null; // the record being measured, for crash reporting
const emit = (rec) => process.stdout.write(JSON.stringify(rec) + '\n');
function crash(kind, err) {
  const where = err?.stack?.split('\n').slice(0, 3).join(' | ') ?? String(err);
  emit({ ...(current ?? { adapter: adapterName }), status: 'error', error: `${kind}: ${where}` });
  process.exit(1);
}
process.on('uncaughtException', (e) => crash('uncaughtException', e));
process.on('unhandledRejection', (e) => crash('unhandledRejection', e));

const adapter = await import(pathToFileURL(adapterPath).href);
const features = adapter.features instanceof Set ? adapter.features : new Set(adapter.features ?? []);
const names = opts.workload === 'all' ? listWorkloads() : opts.workload.split(',').map((s) => s.trim());
const timeoutMs = Number(opts['timeout-s']) * 1000;

let failures = 0;
for (const name of names) {
  const raw = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
  const workload = {
    ...raw,
    input: expand(raw.input),
    expectedOutput: raw.expectedOutput === undefined ? undefined : expand(raw.expectedOutput),
  };
  const base = {
    workload: name,
    adapter: adapterName,
    engine: adapter.engine ?? adapterName,
    engineVersion: adapter.engineVersion ?? null,
    node: process.version,
    mode: 'sequential',
  };
  const sel = selectVariant(workload, features, opts.variant);
  if (sel.unsupported) {
    emit({
      ...base,
      status: 'unsupported',
      reason: `adapter lacks features (${sel.unsupported.join('; ')})`,
    });
    continue;
  }
  const { variant } = sel;
  const baseExecutions = Number(opts.executions ?? workload.executions);
  const executions = baseExecutions > 1 ? Math.round(baseExecutions * Number(opts.scale)) : baseExecutions;
  const warmup = Number(opts.warmup ?? workload.warmup ?? 0);
  current = { ...base, variant: variant.name, executions, concurrency: 1, warmup };
  try {
    const rec = await withTimeout(measure(workload, variant, executions, warmup), timeoutMs);
    emit({ ...current, ...rec, notes: adapter.notes ?? [] });
  } catch (err) {
    failures++;
    emit({
      ...current,
      status: err?.timeout ? 'timeout' : 'error',
      error: String(err?.message ?? err).slice(0, 500),
      notes: adapter.notes ?? [],
    });
    if (err?.timeout) process.exit(2);
  }
  current = null;
}
process.exit(failures ? 1 : 0);

async function measure(workload, variant, executions, warmup) {
  const def = variant.definition;
  for (let i = 0; i < warmup; i++) await adapter.runExecution(def, deepClone(workload.input));
  const inputs = Array.from({ length: executions }, () => deepClone(workload.input));
  const samples = [];
  const t0 = performance.now();
  let out;
  for (let i = 0; i < executions; i++) {
    out = await adapter.runExecution(def, inputs[i]);
    if (i === 0) samples.push(out);
  }
  samples.push(out);
  const wallMs = performance.now() - t0;
  const transitions = executions * variant.transitionsPerExecution;
  let check = null;
  if (!opts['no-check'] && workload.expectedOutput !== undefined) {
    for (const s of samples) check ??= jsonDiff(s, workload.expectedOutput);
  }
  return {
    status: 'ok',
    transitionsPerExecution: variant.transitionsPerExecution,
    wallMs: round(wallMs, 1),
    execPerSec: round((executions / wallMs) * 1000, 1),
    transitionsPerSec: round((transitions / wallMs) * 1000, 0),
    correct: opts['no-check'] ? null : check === null,
    ...(check ? { checkError: check } : {}),
    maxRssMB: round(process.resourceUsage().maxRSS / 1024, 0),
    loadavg1: round(loadavg()[0], 2),
  };
}

function withTimeout(promise, ms) {
  let timer;
  const t = new Promise((_, rej) => {
    timer = setTimeout(
      () => rej(Object.assign(new Error(`timed out after ${ms / 1000}s`), { timeout: true })),
      ms,
    );
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

function round(x, d) {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
