// Lambda handlers for the multi-node test (src/runtime/multinode.test.ts), loaded by each
// `stepwise serve --functions test/multinode/functions.mjs` node. Outputs depend only on the
// input, so an execution's result is the same whichever node runs (or re-runs) an attempt.
// `flaky` remembers its first attempt in a marker file under STEPWISE_MULTINODE_MARKERS: the
// nodes are separate processes, and a node may be killed after the marker was written.
// Importing this module has no side effects (`node --test test/` runs it as a test file).
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const failure = (name, message) => Object.assign(new Error(message), { name });

/** A few milliseconds of async work, so that kills land inside tasks as well as between them. */
const pause = (x) => sleep(1 + (Math.abs(Number(x)) % 4));

export default {
  add: async ({ x, n }) => {
    await pause(x);
    return x + n;
  },
  double: async ({ x }) => {
    await pause(x);
    return x * 2;
  },
  // Fails the first attempt for each key (across all nodes), then returns x * 10.
  flaky: async ({ key, x }) => {
    const dir = process.env.STEPWISE_MULTINODE_MARKERS;
    if (dir === undefined || dir === '') throw failure('Config', 'STEPWISE_MULTINODE_MARKERS is not set');
    await pause(x);
    let first = false;
    try {
      // 'wx' creates atomically: exactly one attempt anywhere sees the file missing.
      closeSync(openSync(join(dir, key), 'wx'));
      first = true;
    } catch (e) {
      if (e?.code !== 'EEXIST') throw e;
    }
    if (first) throw failure('Flaky', `first attempt of ${key}`);
    return x * 10;
  },
};
