#!/usr/bin/env node
// API server figures (issue 5): StartExecution throughput and latency through the AWS SDK over
// loopback (a Standard machine whose executions wait, so starts are what is measured), and
// StartSyncExecution of a 5-state Express machine. The server (`stepwise serve`) runs in its own
// process with a fresh SQLite store, as users run it; the SDK client keeps connections alive.
//   npm run build && node bench/api.mjs [--starts 5000] [--syncs 5000] [--concurrency 32] [--json]
import { parseArgs } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'node:http';
import {
  SFNClient,
  CreateStateMachineCommand,
  StartExecutionCommand,
  StartSyncExecutionCommand,
} from '@aws-sdk/client-sfn';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const { values: opts } = parseArgs({
  options: {
    starts: { type: 'string', default: '5000' },
    syncs: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '32' },
    json: { type: 'boolean', default: false },
  },
});
const concurrency = Number(opts.concurrency);
const ROLE = 'arn:aws:iam::123456789012:role/bench';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-api-'));
const bin = fileURLToPath(new URL('../bin/stepwise.js', import.meta.url));
const child = spawn(
  process.execPath,
  [
    ...(process.env.STEPWISE_BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean),
    bin,
    'serve',
    '--port',
    '0',
    '--data',
    dir,
  ],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const server = await new Promise((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) resolve({ url: m[1] });
  });
  child.on('exit', (code) => reject(new Error(`stepwise serve exited with ${code}`)));
});
const client = new SFNClient({
  endpoint: server.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  disableHostPrefix: true,
  requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: concurrency }) }),
});

/** CPU seconds used so far by a process, all its threads (Linux /proc; undefined elsewhere). */
function processCpu(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * Runs `n` calls with `concurrency` in flight; returns calls/s, latency percentiles (ms) and the
 * CPU time per call of the server and of this SDK client: on a 2-core machine both share the
 * cores, so the client's cost caps what the server is asked to do.
 */
async function measure(n, call) {
  const latencies = new Array(n);
  let next = 0;
  const server0 = processCpu(child.pid);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        const s = performance.now();
        await call(i);
        latencies[i] = performance.now() - s;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const server1 = processCpu(child.pid);
  const client = process.cpuUsage(client0);
  latencies.sort((a, b) => a - b);
  const pct = (p) => Math.round(latencies[Math.min(n - 1, Math.floor((p / 100) * n))] * 100) / 100;
  const cpu = {
    clientCpuUsPerCall: Math.round((client.user + client.system) / n),
    ...(server0 !== undefined && server1 !== undefined
      ? { serverCpuUsPerCall: Math.round(((server1 - server0) * 1e6) / n) }
      : {}),
  };
  return { calls: n, perSec: Math.round(n / seconds), p50: pct(50), p99: pct(99), ...cpu };
}

const standard = await client.send(
  new CreateStateMachineCommand({
    name: 'waiting',
    roleArn: ROLE,
    definition: JSON.stringify({ StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 3600, End: true } } }),
  }),
);
const express = await client.send(
  new CreateStateMachineCommand({
    name: 'five',
    roleArn: ROLE,
    type: 'EXPRESS',
    definition: JSON.stringify({
      StartAt: 'S1',
      States: Object.fromEntries(
        [1, 2, 3, 4, 5].map((i) => [
          `S${i}`,
          { Type: 'Pass', ...(i < 5 ? { Next: `S${i + 1}` } : { End: true }) },
        ]),
      ),
    }),
  }),
);

// Warm-up: JIT, connections, prepared statements.
await measure(200, (i) =>
  client.send(new StartExecutionCommand({ stateMachineArn: standard.stateMachineArn, name: `warm-${i}` })),
);
await measure(200, () =>
  client.send(new StartSyncExecutionCommand({ stateMachineArn: express.stateMachineArn, input: '{"a":1}' })),
);

const starts = await measure(Number(opts.starts), (i) =>
  client.send(
    new StartExecutionCommand({
      stateMachineArn: standard.stateMachineArn,
      name: `e-${i}`,
      input: '{"a":1}',
    }),
  ),
);
const syncs = await measure(Number(opts.syncs), () =>
  client.send(new StartSyncExecutionCommand({ stateMachineArn: express.stateMachineArn, input: '{"a":1}' })),
);

client.destroy();
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
rmSync(dir, { recursive: true, force: true });

const rows = [
  {
    workload: 'api-start-execution',
    engine: 'stepwise',
    ...starts,
    target: '>= 3000/s, p99 < 10 ms',
    pass: starts.perSec >= 3000 && starts.p99 < 10,
  },
  {
    workload: 'api-start-sync-execution',
    engine: 'stepwise',
    ...syncs,
    target: '>= 3000/s',
    pass: syncs.perSec >= 3000,
  },
];
if (opts.json) {
  for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n');
} else {
  for (const r of rows) {
    process.stdout.write(
      `${r.workload.padEnd(26)} ${String(r.perSec).padStart(7)}/s  p50 ${r.p50} ms  p99 ${r.p99} ms  target ${r.target}: ${r.pass ? 'PASS' : 'MISS'}\n`,
    );
  }
}
