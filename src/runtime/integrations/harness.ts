/**
 * Test support for the integration tests: durable engines in temporary directories, polling
 * for the end of an execution, local HTTP servers on ephemeral ports. Nothing here sleeps a
 * fixed time to wait for an outcome.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HistoryEvent } from '../../interpreter/types.js';
import type { JsonObject, JsonValue } from '../../language/json.js';
import { compileDefinition } from '../../language/compile.js';
import type { ExecutionState } from '../../interpreter/types.js';
import { LocalTaskDispatcher, type LocalDispatcherOptions } from '../dispatcher.js';
import { Engine, type EngineOptions } from '../engine.js';
import { runLocalExecution } from '../local-execution.js';
import type { ExecutionDescription } from '../engine-api.js';
import { AwsStandIn } from '../testing/aws-standins.js';
import type { AwsPassThroughOptions } from './aws.js';
import { after, before } from 'node:test';

export const ROLE = 'arn:aws:iam::123456789012:role/stepwise-test';

const dirs: string[] = [];

export function tempDir(prefix = 'stepwise-int-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** The repository's examples directory (tests run from dist/ or from another outDir). */
export function examplesDir(): string {
  const candidates = [
    fileURLToPath(new URL('../../../examples/', import.meta.url)),
    join(process.cwd(), 'examples'),
  ];
  const found = candidates.find((d) => existsSync(join(d, 'mocks')));
  if (found === undefined) throw new Error('cannot find the examples directory');
  return found;
}

export async function withEngine(
  options: Omit<EngineOptions, 'dataDir'>,
  fn: (engine: Engine) => Promise<void>,
): Promise<void> {
  const engine = await Engine.open({ waitScale: 0, ...options, dataDir: tempDir('stepwise-int-engine-') });
  try {
    await fn(engine);
  } finally {
    await engine.close();
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function finished(
  engine: Engine,
  executionArn: string,
  ms = 20_000,
): Promise<ExecutionDescription> {
  const deadline = Date.now() + ms;
  for (;;) {
    const d = await engine.describeExecution(executionArn);
    if (d.status !== 'RUNNING') return d;
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${executionArn}`);
    await sleep(10);
  }
}

export async function historyOf(engine: Engine, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await engine.getExecutionHistory({ executionArn, maxResults: 1000, nextToken });
    events.push(...page.items);
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return events;
}

/** Creates a machine (under `name`), runs one execution and returns its end and history. */
export async function run(
  engine: Engine,
  definition: unknown,
  input: unknown = {},
  options: { name?: string; testCase?: string } = {},
): Promise<{ d: ExecutionDescription; h: HistoryEvent[] }> {
  const name = options.name ?? `sm-${Math.random().toString(36).slice(2)}`;
  const { stateMachineArn } = await engine.createStateMachine({
    name,
    definition: typeof definition === 'string' ? definition : JSON.stringify(definition),
    roleArn: ROLE,
  });
  const arn = options.testCase === undefined ? stateMachineArn : `${stateMachineArn}#${options.testCase}`;
  const { executionArn } = await engine.startExecution({
    stateMachineArn: arn,
    input: JSON.stringify(input),
  });
  const d = await finished(engine, executionArn);
  return { d, h: await historyOf(engine, executionArn) };
}

/** An ended execution with its output parsed and its history (pass-through and reader tests). */
export interface Ended {
  status: string;
  output: unknown;
  error: string | undefined;
  cause: string | undefined;
  events: HistoryEvent[];
}

/** Waits for the end of an execution and reads it whole. */
export async function ended(engine: Engine, executionArn: string, ms = 20_000): Promise<Ended> {
  const d = await finished(engine, executionArn, ms);
  return {
    status: d.status,
    output: d.output === undefined ? undefined : (JSON.parse(d.output) as unknown),
    error: d.error,
    cause: d.cause,
    events: await historyOf(engine, executionArn),
  };
}

/** Waits for an execution's TaskSubmitted event (a `.sync` or callback task's start) and parses its output. */
export async function untilSubmitted(engine: Engine, executionArn: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const page = await engine.getExecutionHistory({ executionArn, maxResults: 1000 });
    const e = page.items.find((x) => x.type === 'TaskSubmitted');
    if (e) return JSON.parse(String(details(e).output)) as Record<string, unknown>;
    if (Date.now() > deadline) assert.fail('no TaskSubmitted');
    await sleep(10);
  }
}

/** Creates a machine, starts one execution and returns its ARN without waiting. */
export async function startOne(
  engine: Engine,
  definition: unknown,
  input: unknown = {},
  name = `m${Math.random().toString(36).slice(2, 10)}`,
): Promise<string> {
  const { stateMachineArn } = await engine.createStateMachine({
    name,
    definition: JSON.stringify(definition),
    roleArn: ROLE,
  });
  return (await engine.startExecution({ stateMachineArn, input: JSON.stringify(input) })).executionArn;
}

/** Runs one execution of a new machine to its end. */
export async function runToEnd(engine: Engine, definition: unknown, input: unknown = {}): Promise<Ended> {
  return ended(engine, await startOne(engine, definition, input));
}

/** Runs a definition with the in-memory runtime and a dispatcher of `options`, then closes it. */
export async function runInMemory(
  definition: JsonObject,
  options: Partial<LocalDispatcherOptions>,
  input: JsonValue = {},
): Promise<ExecutionState> {
  const dispatcher = new LocalTaskDispatcher({
    functions: undefined,
    region: 'us-east-1',
    account: '123456789012',
    ...options,
  });
  try {
    const { state } = await runLocalExecution(
      compileDefinition(definition),
      {
        executionArn: 'arn:aws:states:us-east-1:123456789012:execution:m:e',
        stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:m',
        name: 'e',
        stateMachineName: 'm',
        roleArn: ROLE,
        input,
        recordHistory: true,
      },
      { dispatcher },
    );
    return state;
  } finally {
    await dispatcher.close();
  }
}

/** The `…EventDetails` member of an event. */
export const details = (e: HistoryEvent): Record<string, unknown> =>
  Object.entries(e).find(([k]) => k.endsWith('EventDetails'))?.[1] as Record<string, unknown>;

/** A machine of one state. */
export function single(state: JsonObject): JsonObject {
  return { StartAt: 'T', States: { T: { ...state, End: true } } };
}

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface TestServer {
  url: string;
  port: number;
  requests: Recorded[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 and an ephemeral port; `handle` answers each recorded request. */
export async function startServer(
  handle: (req: Recorded, res: ServerResponse) => void | Promise<void>,
): Promise<TestServer> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      requests.push(r);
      Promise.resolve(handle(r, res)).catch((e: unknown) => {
        res.statusCode = 599;
        res.end(String(e));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bound once by us, then released. */
export async function closedPort(): Promise<number> {
  const s = await startServer((_r, res) => {
    res.end();
  });
  await s.close();
  return s.port;
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

// ---- pass-through tests against the local AWS stand-in ----------------------------------------

/** Credentials the stand-in accepts (it checks signatures, not identities). */
export const TEST_CREDENTIALS = {
  accessKeyId: 'AKIDSTEPWISETESTKEY1',
  secretAccessKey: 'stepwise-test-secret',
};

export interface StandInKit {
  /** The test file's stand-in (started in its `before` hook). */
  readonly standIn: AwsStandIn;
  /** Pass-through options pointing every service at the stand-in, polling fast. */
  readonly awsOptions: () => AwsPassThroughOptions;
  /** Runs `fn` with a durable engine using those options (waits skipped), then closes it. */
  readonly withEngine: (
    options: Partial<EngineOptions>,
    fn: (engine: Engine) => Promise<void>,
    dataDir?: string,
  ) => Promise<void>;
  /**
   * A `.sync` job resumed by a restarted engine: `def` runs until TaskSubmitted, the engine
   * closes, `finish` ends the job in the stand-in (what it returns goes to `check`), a new engine
   * on the same data sees the execution succeed with one TaskSubmitted and one start call
   * (`start`: service and operation), and `check` reads the result.
   */
  readonly resumesAfterRestart: (c: RestartCase) => Promise<void>;
}

/** A stand-in's record of the requests it answered (the AWS stand-in, the Kubernetes one). */
export interface RequestLog {
  readonly requests: readonly { service: string }[];
  count(service: string, operation: string): number;
}

export interface RestartCase {
  def: () => JsonObject;
  start: [service: string, operation: string];
  /** The stand-in that serves the job (default: the AWS stand-in). */
  on?: RequestLog;
  finish: (submitted: Obj) => unknown;
  check: (output: Obj, submitted: Obj, finished: unknown) => void;
  /** Wait for one describe call before the engine goes down (the job is then under way). */
  pollFirst?: boolean;
}

/**
 * One AWS stand-in for the calling test file: started before its tests (`setUp` may provision
 * it), stopped after them. Call at the top level of the file.
 */
export function useStandIn(setUp?: (standIn: AwsStandIn) => void): StandInKit {
  let current: AwsStandIn | undefined;
  before(async () => {
    current = new AwsStandIn({ account: '123456789012' });
    await current.start();
    setUp?.(current);
  });
  after(() => current?.stop());
  after(removeTempDirs);
  const kit: StandInKit = {
    get standIn(): AwsStandIn {
      if (current === undefined) throw new Error('the stand-in starts in the before hook');
      return current;
    },
    awsOptions: () => ({
      endpoint: kit.standIn.url,
      credentials: TEST_CREDENTIALS,
      maxAttempts: 1,
      pollIntervalSeconds: 0.01,
    }),
    withEngine: async (options, fn, dataDir = tempDir()) => {
      const engine = await Engine.open({ dataDir, waitScale: 0, aws: kit.awsOptions(), ...options });
      try {
        await fn(engine);
      } finally {
        await engine.close();
      }
    },
    resumesAfterRestart: async (c) => {
      const dataDir = tempDir();
      const server: RequestLog = c.on ?? kit.standIn;
      const starts = server.count(...c.start);
      let arn = '';
      let submitted: Obj = {};
      await kit.withEngine(
        {},
        async (engine) => {
          arn = await startOne(engine, c.def());
          submitted = await untilSubmitted(engine, arn);
          if (c.pollFirst === true) {
            const from = server.requests.length;
            const service = c.start[0];
            await until('a poll', () => server.requests.slice(from).some((q) => q.service === service));
          }
        },
        dataDir,
      );
      // The job moves on while Stepwise is down (closing the engine did not stop it).
      const finished = c.finish(submitted);
      await kit.withEngine(
        {},
        async (engine) => {
          const r = await ended(engine, arn);
          assert.equal(r.status, 'SUCCEEDED', r.cause);
          c.check(o(r.output), submitted, finished);
          assert.equal(r.events.filter((e) => e.type === 'TaskSubmitted').length, 1);
        },
        dataDir,
      );
      assert.equal(server.count(...c.start) - starts, 1, 'the job was not started again');
    },
  };
  return kit;
}

/** Polls `done` every 10 ms; fails after 5 s naming `what`. */
export async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export type Obj = Record<string, unknown>;

/** `x` as an object, failing the test when it is not one. */
export const o = (x: unknown): Obj => {
  assert.ok(typeof x === 'object' && x !== null && !Array.isArray(x), `not an object: ${JSON.stringify(x)}`);
  return x as Obj;
};

/** What a `.sync` task recorded in TaskSubmitted (the start's answer), parsed. */
export const submittedOf = (r: Ended): Obj =>
  o(JSON.parse(String(details(r.events.find((e) => e.type === 'TaskSubmitted')!).output)));
