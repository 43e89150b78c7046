#!/usr/bin/env node
// Durable transitions/s: the concurrent task-chain (1,000 executions started at once, 10 Task
// states each, a local async handler) on the durable engine, with SQLite (one node) and with
// PostgreSQL (one node, then two in-process engine nodes sharing one schema).
//
//   npm run build && node bench/postgres.mjs [--executions N] [--reps N] [--configs a,b] [--json]
//
// STEPWISE_TEST_DATABASE_URL picks the server (default postgres://postgres@127.0.0.1:5432/test);
// each configuration gets a fresh schema, dropped afterwards. Transitions/s = executions × 10 /
// wall time from the first StartExecution to the last execution closed. Progress on stderr.
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { Engine } = await import('../dist/runtime/engine.js');
const { functionsFromMap } = await import('../dist/runtime/functions.js');
const { openPostgresStore } = await import('../dist/runtime/store/postgres.js');

const { values } = parseArgs({
  options: {
    executions: { type: 'string', default: '1000' },
    reps: { type: 'string', default: '1' },
    configs: { type: 'string', default: 'sqlite,postgres-1-node,postgres-2-nodes' },
    json: { type: 'boolean', default: false },
  },
});
const EXECUTIONS = Number(values.executions);
const REPS = Number(values.reps);
const STATES = 10;
const URL = process.env.STEPWISE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROLE = 'arn:aws:iam::123456789012:role/bench';

const functions = functionsFromMap({
  // The shared harness's addField, made async (a local handler that yields).
  addField: async (input) => {
    await Promise.resolve();
    const n = Object.keys(input).length;
    return { ...input, ['f' + n]: n };
  },
});

const definition = {
  StartAt: 'Task01',
  States: Object.fromEntries(
    Array.from({ length: STATES }, (_, k) => {
      const name = `Task${String(k + 1).padStart(2, '0')}`;
      const next = k + 1 < STATES ? { Next: `Task${String(k + 2).padStart(2, '0')}` } : { End: true };
      return [
        name,
        { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:addField', ...next },
      ];
    }),
  ),
};
const expected = JSON.stringify({
  id: 1,
  f1: 1,
  f2: 2,
  f3: 3,
  f4: 4,
  f5: 5,
  f6: 6,
  f7: 7,
  f8: 8,
  f9: 9,
  f10: 10,
});

const log = (m) => process.stderr.write(`${m}\n`);

async function admin(sql) {
  const c = new pg.Client({ connectionString: URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Starts EXECUTIONS round-robin over the engines and waits for all to close; returns ms. */
async function run(engines, label) {
  const { stateMachineArn } = await engines[0].createStateMachine({
    name: `chain-${label}`,
    definition: JSON.stringify(definition),
    roleArn: ROLE,
  });
  const t0 = performance.now();
  const arns = await Promise.all(
    Array.from({ length: EXECUTIONS }, (_, i) =>
      engines[i % engines.length].startExecution({ stateMachineArn, input: '{"id":1}' }),
    ),
  );
  // Poll (cheap: one listing per 50 ms) rather than subscribe: works alike for every store.
  for (;;) {
    const page = await engines[0].listExecutions({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 1 });
    if (page.items.length === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const ms = performance.now() - t0;
  for (const { executionArn } of [arns[0], arns.at(-1)]) {
    const d = await engines[0].describeExecution(executionArn);
    if (d.status !== 'SUCCEEDED' || d.output !== expected)
      throw new Error(`${label}: wrong result ${d.status} ${d.output}`);
  }
  const page = await engines[0].listExecutions({
    stateMachineArn,
    statusFilter: 'SUCCEEDED',
    maxResults: 1000,
  });
  let succeeded = page.items.length;
  for (let token = page.nextToken; token !== undefined;) {
    const p = await engines[0].listExecutions({
      stateMachineArn,
      statusFilter: 'SUCCEEDED',
      maxResults: 1000,
      nextToken: token,
    });
    succeeded += p.items.length;
    token = p.nextToken;
  }
  if (succeeded !== EXECUTIONS) throw new Error(`${label}: ${succeeded} of ${EXECUTIONS} succeeded`);
  return ms;
}

async function sqlite() {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-sqlite-'));
  const engine = await Engine.open({ dataDir: dir, functions });
  try {
    return await run([engine], 'sqlite');
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgres(nodes) {
  const schema = `stepwise_bench_${randomBytes(4).toString('hex')}`;
  const engines = [];
  try {
    for (let k = 0; k < nodes; k++) {
      const store = await openPostgresStore({ connectionString: URL, schema });
      engines.push(await Engine.open({ store, functions, nodeId: `bench-${k}` }));
    }
    return await run(engines, `pg${nodes}`);
  } finally {
    for (const e of engines) await e.close();
    await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}

const configs = [
  { name: 'sqlite', store: 'sqlite', nodes: 1, go: sqlite },
  { name: 'postgres-1-node', store: 'postgres', nodes: 1, go: () => postgres(1) },
  { name: 'postgres-2-nodes', store: 'postgres', nodes: 2, go: () => postgres(2) },
];
const results = [];
const selected = values.configs.split(',');
for (const c of configs.filter((x) => selected.includes(x.name))) {
  const times = [];
  for (let r = 0; r < REPS; r++) {
    log(`${c.name}: rep ${r + 1}/${REPS}…`);
    times.push(await c.go());
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)];
  const result = {
    config: c.name,
    store: c.store,
    nodes: c.nodes,
    executions: EXECUTIONS,
    transitions: EXECUTIONS * STATES,
    ms: Math.round(ms),
    transitionsPerSecond: Math.round((EXECUTIONS * STATES * 1000) / ms),
    reps: REPS,
  };
  results.push(result);
  if (values.json) console.log(JSON.stringify(result));
}
if (!values.json) {
  console.log('configuration         executions  transitions/s   wall ms');
  for (const r of results) {
    console.log(
      `${r.config.padEnd(20)}  ${String(r.executions).padStart(10)}  ${String(r.transitionsPerSecond).padStart(13)}  ${String(r.ms).padStart(8)}`,
    );
  }
  const pg1 = results.find((r) => r.config === 'postgres-1-node');
  if (pg1)
    console.log(
      `target ≥ 8000 transitions/s for one PostgreSQL node: ${pg1.transitionsPerSecond >= 8000 ? 'met' : 'NOT met'}`,
    );
}
