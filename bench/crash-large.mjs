#!/usr/bin/env node
// The large crash run (not part of `npm test`): the crash test of src/runtime/crash.test.ts with
// its child test/crash/worker.mjs, at 2,000 executions and 20 SIGKILLs by default.
//   npm run build && node bench/crash-large.mjs [--executions 2000] [--kills 20] [--seed N]
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    executions: { type: 'string', default: '2000' },
    kills: { type: 'string', default: '20' },
    seed: { type: 'string' },
    'final-timeout-s': { type: 'string', default: '900' },
  },
});

const env = {
  ...process.env,
  STEPWISE_CRASH_EXECUTIONS: opts.executions,
  STEPWISE_CRASH_KILLS: opts.kills,
  STEPWISE_CRASH_FINAL_MS: String(Number(opts['final-timeout-s']) * 1000),
  ...(opts.seed !== undefined ? { STEPWISE_CRASH_SEED: opts.seed } : {}),
};
console.error(
  `crash run: ${opts.executions} executions, ${opts.kills} kills${opts.seed ? `, seed ${opts.seed}` : ''}`,
);
const t0 = Date.now();
const r = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-reporter=spec',
    '--test-timeout=3600000',
    join(HERE, '..', 'dist', 'runtime', 'crash.test.js'),
  ],
  { env, stdio: 'inherit' },
);
console.error(
  `crash run: ${r.status === 0 ? 'PASSED' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
);
process.exit(r.status ?? 1);
