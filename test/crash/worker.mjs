#!/usr/bin/env node
// The crash test's child process (src/runtime/crash.test.ts, bench/crash-large.mjs):
//   node test/crash/worker.mjs <dataDir> <seed> [executions] [spreadMs]
// Opens the durable engine on <dataDir>, creates (idempotently) a state machine with a mixed
// workload, starts the executions `exec-0` … `exec-<n-1>` (idempotent StartExecution: a restarted
// worker starts the same ones again), serves their callback tokens and activity tasks itself, and
// exits 0 once none is RUNNING. The parent kills it with SIGKILL at random points and starts it
// again. Everything the task functions must remember across kills lives in files in <dataDir>.
// Execution i first waits about i/executions × spreadMs (real time), so that work keeps arriving
// while the parent kills and restarts the worker. Progress lines on stdout: `opened`, `started <n>`, `running <n>`, `done`.
// The expected output of an execution (see `expectedOutput` in crash.test.ts) is fixed by its input.
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dataDir, seedArg, countArg, spreadArg] = process.argv.slice(2);
if (dataDir === undefined) {
  // Run without arguments (e.g. picked up by `node --test test/`): nothing to do.
  console.log('usage: node test/crash/worker.mjs <dataDir> <seed> [executions] [spreadMs]');
  process.exit(0);
}
const { Engine } = await import('../../dist/runtime/engine.js');
const { functionsFromMap } = await import('../../dist/runtime/functions.js');

const COUNT = Number(countArg ?? 40);
const SPREAD_MS = Number(spreadArg ?? 3000);
const WAIT_SCALE = 0.01;
const ROLE = 'arn:aws:iam::123456789012:role/stepwise-crash';

/** mulberry32: a small seeded PRNG; each process run draws a different stream (seed, pid). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng((Number(seedArg ?? 1) * 1_000_003) ^ process.pid);

const markers = join(dataDir, 'markers');
const tokens = join(dataDir, 'tokens');
mkdirSync(markers, { recursive: true });
mkdirSync(tokens, { recursive: true });

const failure = (name, message) => Object.assign(new Error(message), { name });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const functions = functionsFromMap({
  // Fails its first attempt per key; the marker file makes that survive kills.
  flaky: ({ key, x }) => {
    const marker = join(markers, key);
    if (!existsSync(marker)) {
      writeFileSync(marker, '');
      throw failure('Flaky', `first attempt of ${key}`);
    }
    return x + 1000;
  },
  // Fails at random (seeded), after a short pause so that kills land inside tasks too.
  double: async ({ x }) => {
    await sleep(Math.floor(random() * 10));
    if (random() < 0.15) throw failure('Random', 'unlucky');
    return x * 2;
  },
  // A callback: hands the token to the responder loop below through a file.
  cb: ({ token, i }) => {
    writeFileSync(join(tokens, token), JSON.stringify({ i }));
    return { submitted: true };
  },
});

const retry = (errors) => ({ ErrorEquals: errors, IntervalSeconds: 1, BackoffRate: 1, MaxAttempts: 50 });

function definition(activityArn) {
  return {
    Comment: 'Stepwise crash test: waits, retries, Map, Parallel, a callback and an activity',
    StartAt: 'Nap',
    States: {
      Nap: { Type: 'Wait', SecondsPath: '$.nap', Next: 'Flaky' },
      Flaky: {
        Type: 'Task',
        Resource: 'arn:aws:lambda:us-east-1:123456789012:function:flaky',
        Parameters: { 'key.$': "States.Format('{}-flaky', $$.Execution.Name)", 'x.$': '$.i' },
        ResultPath: '$.flaky',
        Retry: [retry(['Flaky', 'States.TaskFailed'])],
        Next: 'Fan',
      },
      Fan: {
        Type: 'Map',
        ItemsPath: '$.items',
        MaxConcurrency: 2,
        ItemSelector: { 'x.$': '$$.Map.Item.Value' },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'Double',
          States: {
            Double: {
              Type: 'Task',
              Resource: 'arn:aws:lambda:us-east-1:123456789012:function:double',
              Retry: [retry(['Random', 'States.TaskFailed'])],
              End: true,
            },
          },
        },
        ResultPath: '$.mapped',
        Next: 'Both',
      },
      Both: {
        Type: 'Parallel',
        ResultPath: '$.par',
        Branches: [
          {
            StartAt: 'BranchNap',
            States: {
              BranchNap: { Type: 'Wait', Seconds: 2, Next: 'BranchPass' },
              BranchPass: { Type: 'Pass', Result: 'waited', End: true },
            },
          },
          {
            StartAt: 'BranchFlaky',
            States: {
              BranchFlaky: {
                Type: 'Task',
                Resource: 'arn:aws:lambda:us-east-1:123456789012:function:flaky',
                Parameters: { 'key.$': "States.Format('{}-par', $$.Execution.Name)", 'x.$': '$.i' },
                Retry: [retry(['Flaky', 'States.TaskFailed'])],
                End: true,
              },
            },
          },
        ],
        Next: 'Callback',
      },
      // A token lost to a kill (before the function wrote it) ends in States.Timeout: retried.
      Callback: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: 'cb', Payload: { 'token.$': '$$.Task.Token', 'i.$': '$.i' } },
        TimeoutSeconds: 3,
        Retry: [retry(['States.Timeout', 'States.TaskFailed'])],
        ResultPath: '$.cb',
        Next: 'Act',
      },
      // A task claimed by a worker that was killed times out likewise.
      Act: {
        Type: 'Task',
        Resource: activityArn,
        Parameters: { 'i.$': '$.i' },
        TimeoutSeconds: 3,
        Retry: [retry(['States.Timeout'])],
        ResultPath: '$.act',
        End: true,
      },
    },
  };
}

const engine = await Engine.open({ dataDir, functions, waitScale: WAIT_SCALE });
console.log('opened');
let stopping = false;
const stop = new AbortController();

const { activityArn } = await engine.createActivity({ name: 'crash-activity' });
const { stateMachineArn } = await engine.createStateMachine({
  name: 'crash',
  definition: JSON.stringify(definition(activityArn)),
  roleArn: ROLE,
});

/** Answers the callback tokens the `cb` function wrote. */
async function responder() {
  while (!stopping) {
    for (const token of readdirSync(tokens)) {
      const file = join(tokens, token);
      let i;
      try {
        ({ i } = JSON.parse(readFileSync(file, 'utf8')));
      } catch {
        continue; // written by a process killed mid-write: its task times out and is retried
      }
      try {
        await engine.sendTaskSuccess({ taskToken: token, output: JSON.stringify({ cb: i * 3 }) });
      } catch (e) {
        if (e?.code !== 'TaskDoesNotExist') throw e;
      }
      unlinkSync(file);
    }
    await sleep(20);
  }
}

/** An activity worker. */
async function worker(name) {
  while (!stopping) {
    const task = await engine.getActivityTask({ activityArn, workerName: name }, stop.signal);
    if (task.taskToken === undefined) continue;
    const { i } = JSON.parse(task.input);
    await sleep(Math.floor(random() * 5));
    try {
      await engine.sendTaskSuccess({ taskToken: task.taskToken, output: JSON.stringify({ act: i * 5 }) });
    } catch (e) {
      if (e?.code !== 'TaskDoesNotExist') throw e;
    }
  }
}

const loops = [responder(), worker('w1'), worker('w2')];

let started = 0;
const BATCH = 20;
for (let from = 0; from < COUNT; from += BATCH) {
  const batch = [];
  for (let i = from; i < Math.min(COUNT, from + BATCH); i++) {
    // Same formula in crash.test.ts: Wait seconds such that the scaled wait is ~ i/COUNT × SPREAD_MS.
    const nap = Math.floor((i * SPREAD_MS) / (COUNT * 1000 * WAIT_SCALE));
    const input = JSON.stringify({ i, nap, items: [i, i + 1, i + 2] });
    batch.push(
      engine.startExecution({ stateMachineArn, name: `exec-${i}`, input }).catch((e) => {
        // Ended before this restart: the same start is no longer idempotent.
        if (e?.code !== 'ExecutionAlreadyExists') throw e;
      }),
    );
  }
  await Promise.all(batch);
  started += batch.length;
  console.log(`started ${started}`);
}

async function runningCount() {
  let n = 0;
  let nextToken;
  do {
    const page = await engine.listExecutions({
      stateMachineArn,
      statusFilter: 'RUNNING',
      maxResults: 1000,
      nextToken,
    });
    n += page.items.length;
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return n;
}

for (;;) {
  const running = await runningCount();
  console.log(`running ${running}`);
  if (running === 0) break;
  await sleep(200);
}
stopping = true;
stop.abort();
await Promise.all(loops);
await engine.close();
console.log('done');
