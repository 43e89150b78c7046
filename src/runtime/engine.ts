/**
 * The durable engine: Standard executions whose every transition is committed to the store
 * (history events, new state, timer and task rows in one transaction, many executions per
 * commit), that survive restarts, and whose waits are timer rows rather than memory. Express
 * executions run in memory (StartSyncExecution).
 *
 * Per execution, input events are applied one at a time: step the pure interpreter, settle any
 * JSONata evaluation it started, commit, and only then carry out the commands (invoke tasks, arm
 * timers). A crash therefore never loses a committed transition nor applies one twice. What a
 * crash does to a task that was running is described in docs/adr/0005-durable-engine.md.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startExecution, step } from '../interpreter/interpreter.js';
import type {
  Command,
  ExecutionInit,
  ExecutionState,
  ExecutionStatus,
  HistoryEvent,
  InputEvent,
  InterpreterEnv,
  StepResult,
  TaskRequest,
} from '../interpreter/types.js';
import { compileDefinition } from '../language/compile.js';
import { ApiErrors, DefinitionError, ServiceError } from '../language/errors.js';
import { isJsonObject, parseJsonKeepingText, stringifyJson, type JsonObject } from '../language/json.js';
import type { JsonValue } from '../language/json.js';
import { loadDefinition } from '../language/load.js';
import { formatDiagnostic, validateDefinitionText } from '../language/validate.js';
import type { CompiledDefinition } from '../language/model.js';
import { parseResource } from '../language/resources.js';
import { LocalTaskDispatcher, outcomeEvent, thrownEvent } from './dispatcher.js';
import {
  fileLogSink,
  logRecords,
  logSettings,
  type ExecutionLogSink,
  type LogSettings,
} from './execution-log.js';
import { SyncJobs } from './sync-jobs.js';
import type {
  ActivityDescription,
  ActivityTask,
  CreateStateMachineInput,
  ExecutionDescription,
  ExecutionListItem,
  HistoryInput,
  PageInput,
  Paged,
  RoutingConfigurationItem,
  StartExecutionInput,
  StateMachineAliasDescription,
  StateMachineDescription,
  StateMachineType,
  StepFunctionsEngine,
  SyncExecutionResult,
  TagInput,
  UpdateStateMachineInput,
} from './engine-api.js';
import { MAX_PAYLOAD_BYTES, type FunctionProvider, type TaskOutcome } from './functions.js';
import { runLocalExecution } from './local-execution.js';
import { MAX_EXECUTION_MS, redriveInfo } from './redrive.js';
import { definitionIdOf } from './store/rows.js';
import { openSqliteStore } from './store/sqlite.js';
import {
  InvalidPageToken,
  isIdempotentStart,
  type LoadedState,
  type AliasRoute,
  type NewTask,
  type StateMachineAliasRecord,
  type StateMachineRecord,
  type StateMachineVersionRecord,
  type StepWrite,
  type Store,
} from './store/types.js';

export interface EngineOptions {
  /** Data directory of the embedded SQLite store (default `./.stepwise`). */
  dataDir?: string;
  /** Use this store instead of opening SQLite. */
  store?: Store;
  /**
   * SQLite durability: `process` (default; WAL with synchronous=NORMAL) loses nothing when the
   * process dies (kill -9); `power` (synchronous=FULL) also survives power loss, at one fsync
   * per commit. See ADR 0004.
   */
  durability?: 'process' | 'power';
  /**
   * Where the embedded store's writes run: `thread` (default) on a worker thread, overlapping
   * the interpreter; `inline` on the engine's thread (one thread less, for many small engines).
   */
  storeWriter?: 'thread' | 'inline';
  functions?: FunctionProvider;
  region?: string;
  account?: string;
  /**
   * Scales Wait states and retry back-off: 1 real time (default), 0.01 is 100× faster, 0 skips
   * them. Task, heartbeat and execution timeouts always run in real time.
   */
  waitScale?: number;
  /** AWS's limit of history events per execution (the execution fails past it). */
  maxHistoryEvents?: number;
  /**
   * AWS's maximum duration of a Standard execution in milliseconds (default one year): the
   * execution times out past it (a timer row, like TimeoutSeconds).
   */
  maxExecutionMs?: number;
  /** This node's id when several engines share a store that supports leases (PostgreSQL). */
  nodeId?: string;
  /** How long a node's hold on an execution lasts without renewal (default 10 s). */
  leaseTtlMs?: number;
  /** Step Functions Local MockConfigFile (parsed, or loaded with `loadMockConfig`). */
  mocks?: import('./dispatcher.js').LocalDispatcherOptions['mocks'];
  /** HTTP Task connections, egress allow-list and timeout. */
  http?: import('./dispatcher.js').LocalDispatcherOptions['http'];
  /** Pass-through to AWS (`aws-sdk:*`, optimized integrations); off when undefined. */
  aws?: import('./dispatcher.js').LocalDispatcherOptions['aws'];
  /**
   * Where the execution log records of state machines with a loggingConfiguration go (ADR
   * 0009): by default one JSON-lines file per log group under `<dataDir>/logs`; `null` writes
   * none.
   */
  executionLogs?: ExecutionLogSink | null;
  /**
   * Picks an alias's version for each start (a number in [0, 1), as `Math.random`, the default);
   * injectable so that tests can route deterministically.
   */
  routingRandom?: () => number;
  /** AWS's quotas: versions (1,000) and aliases (100) per state machine. */
  maxVersionsPerStateMachine?: number;
  maxAliasesPerStateMachine?: number;
}

const DEFAULT_REGION = 'us-east-1';
const DEFAULT_ACCOUNT = '123456789012';
/** Timers due within this horizon are armed in memory; later ones stay rows until the poller finds them. */
const TIMER_HORIZON_MS = 2_000;
const ACTIVITY_POLL_MS = 60_000;
const EXPRESS_LIMIT_MS = 5 * 60_000;
/** How long a start may use a state machine row it read (see `startMachines`). */
const START_MACHINE_TTL_MS = 1000;
/** How long a state machine's logging settings are reused before they are read again. */
const LOG_CONFIG_TTL_MS = 10_000;
const MAX_VERSIONS = 1000;
const MAX_ALIASES = 100;
/** AWS's words for a version or alias that is not there. */
const NO_SUCH_RESOURCE = 'Request references a resource that does not exist.';
const ALIAS_NAME = /^(?=.*[a-zA-Z_\-.])[a-zA-Z0-9_\-.]+$/;
const INTERRUPTED_CAUSE =
  'Stepwise restarted while this task was running, so its outcome is unknown; the attempt is recorded as failed.';

/** An execution being worked on, held in memory only while it has something to do. */
interface Live {
  arn: string;
  def: CompiledDefinition;
  state: ExecutionState;
  version: number;
  queue: InputEvent[];
  busy: boolean;
  /** Local invocations in flight, by task id. */
  running: Map<string, AbortController | undefined>;
  /** Resolved when the execution stops being RUNNING. */
  done: (() => void)[];
  /** The lease's fencing token, when several nodes share the store. */
  fencingToken: number | undefined;
  /** Its state machine's logging, when it logs (execution log records, ADR 0009). */
  log: LogSettings | undefined;
}

/** Stores that let several engine nodes share executions (PostgreSQL). */
interface SharedStore {
  acquireLease(executionArn: string, nodeId: string, ttlMs: number): Promise<number | undefined>;
  renewLeases(nodeId: string, ttlMs: number): Promise<string[]>;
  releaseLease(executionArn: string, nodeId: string): Promise<boolean>;
  listUnleasedExecutions(limit: number): Promise<string[]>;
  listen?(channel: string, handler: (payload: string | undefined) => void): Promise<() => Promise<void>>;
  workChannel?: string | null;
}

function sharedStore(store: Store): SharedStore | undefined {
  const s = store as Partial<SharedStore>;
  return typeof s.acquireLease === 'function' && typeof s.renewLeases === 'function'
    ? (store as unknown as SharedStore)
    : undefined;
}

/**
 * How long a start waits for another node's start of the same name to commit (a group commit
 * takes milliseconds; a node that died holding the name is not waited for longer).
 */
const NAME_IN_FLIGHT_WAIT_MS = 500;
const NAME_IN_FLIGHT_POLL_MS = 25;

/** How long a shared store's answer about an activity's existence is trusted. */
const ACTIVITY_CHECK_MS = 1_000;

const activityArns = new WeakMap<CompiledDefinition, readonly string[]>();

/** The activity ARNs a definition's Task states name (computed once per compiled definition). */
function activitiesOf(def: CompiledDefinition): readonly string[] {
  let arns = activityArns.get(def);
  if (arns === undefined) {
    const found = new Set<string>();
    for (const m of def.machines) {
      for (const st of m.states.values()) {
        if (st.type !== 'Task') continue;
        const r = parseResource(st.resource);
        if (r.kind === 'activity') found.add(r.activityArn);
      }
    }
    arns = [...found];
    activityArns.set(def, arns);
  }
  return arns;
}

/** Local work (a function, an HTTP call) dies with its process; callbacks and activities do not. */
function isLocalTask(resource: string): boolean {
  const r = parseResource(resource);
  if (r.kind === 'lambda' || r.kind === 'unknown') return true;
  if (r.kind !== 'service') return false;
  if (r.resourceType === 'states' && r.action === 'startExecution') return false;
  return r.pattern === 'request';
}

/** Fields of event details that carry JSON payloads. */
const PAYLOAD_FIELDS = new Set(['input', 'output', 'parameters']);

/**
 * Stored events hold their payloads as JSON text, written once with `stringifyJson` (which keeps
 * the original text of unchanged input, as AWS does), so history reads need no re-serialising.
 */
function toStoredEvent(e: HistoryEvent): HistoryEvent {
  const out: HistoryEvent = {
    id: e.id,
    previousEventId: e.previousEventId,
    timestamp: e.timestamp,
    type: e.type,
  };
  // for…in, not Object.entries: this runs for every event of every step (no pair arrays).
  for (const k in e) {
    if (k in out) continue;
    const v = e[k];
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const src = v as Record<string, unknown>;
      const d: Record<string, unknown> = {};
      for (const dk in src) {
        const dv = src[dk];
        d[dk] = PAYLOAD_FIELDS.has(dk) ? stringifyJson((dv ?? null) as JsonValue) : dv;
      }
      out[k] = d;
    } else {
      out[k] = v;
    }
  }
  return out;
}

/** Execution names and state machine names, as AWS validates them. */
const INVALID_NAME = /[\s<>{}[\]*?"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/u;

/** AWS: a logging level other than OFF needs exactly one destination. */
function checkLogging(cfg: JsonObject | undefined): void {
  if (cfg === undefined) return;
  const level = cfg.level ?? 'OFF';
  const destinations = cfg.destinations;
  const count = Array.isArray(destinations) ? destinations.length : 0;
  if ((level !== 'OFF' && count !== 1) || count > 1) {
    throw new ServiceError(
      ApiErrors.InvalidLoggingConfiguration,
      'Invalid Logging Configuration: Must specify exactly one Log Destination.',
    );
  }
}

export function checkName(name: unknown, what = 'Name'): string {
  if (typeof name !== 'string' || name.length < 1 || name.length > 80 || INVALID_NAME.test(name)) {
    throw new ServiceError(ApiErrors.InvalidName, `Invalid ${what}: '${String(name)}'`);
  }
  return name;
}

function splitTestCase(arn: string): [string, string | undefined] {
  const i = typeof arn === 'string' ? arn.indexOf('#') : -1;
  return i < 0 ? [arn, undefined] : [arn.slice(0, i), arn.slice(i + 1)];
}

/** Fields of an ARN, or InvalidArn. */
function parseArn(arn: unknown, kind: string): { region: string; account: string; rest: string[] } {
  if (typeof arn !== 'string') throw new ServiceError(ApiErrors.InvalidArn, `Invalid Arn: '${String(arn)}'`);
  const p = arn.split(':');
  if (p.length < 7 || p[0] !== 'arn' || p[2] !== 'states' || p[5] !== kind) {
    throw new ServiceError(ApiErrors.InvalidArn, `Invalid Arn: '${arn}'`);
  }
  return { region: p[3]!, account: p[4]!, rest: p.slice(6) };
}

/**
 * A state machine ARN and what qualifies it: `arn:…:stateMachine:<name>[:<qualifier>]`, where an
 * all-digit qualifier is a version number and any other an alias name (AWS's convention: an alias
 * name cannot be an integer). InvalidArn for anything else.
 */
function smTarget(arn: unknown): { base: string; name: string; version?: number; alias?: string } {
  parseArn(arn, 'stateMachine');
  const p = (arn as string).split(':');
  const name = p[6] ?? '';
  const base = p.slice(0, 7).join(':');
  if (p.length === 7) return { base, name };
  const q = p[7] ?? '';
  if (p.length > 8 || q === '' || name === '')
    throw new ServiceError(ApiErrors.InvalidArn, `Invalid Arn: '${String(arn)}'`);
  return /^\d+$/.test(q) ? { base, name, version: Number(q) } : { base, name, alias: q };
}

function noSuchMachine(arn: string): ServiceError {
  return new ServiceError(ApiErrors.StateMachineDoesNotExist, `State Machine Does Not Exist: '${arn}'`);
}

function noSuchResource(arn: string): ServiceError {
  return new ServiceError(ApiErrors.ResourceNotFound, NO_SUCH_RESOURCE, { resourceName: arn });
}

function routingError(message: string): ServiceError {
  return new ServiceError(ApiErrors.ValidationException, message, {
    reason: 'INVALID_ROUTING_CONFIGURATION',
  });
}

/**
 * A routing configuration as AWS checks it: version ARNs (in AWS's words when they are not),
 * distinct, of one state machine, weights summing to 100. Returns that state machine's ARN.
 */
function checkRouting(routes: readonly RoutingConfigurationItem[]): string {
  const arns = routes.map((r) => r.stateMachineVersionArn);
  const targets = arns.map((a) => {
    try {
      return smTarget(a);
    } catch {
      return undefined;
    }
  });
  if (routes.length < 1 || routes.length > 2 || targets.some((t) => t?.version === undefined))
    throw routingError(
      `Routing configuration must contain state machine version ARNs. Received: [${arns.join(', ')}]`,
    );
  if (new Set(arns).size !== arns.length)
    throw routingError(
      `Routing configuration must contain distinct state machine version ARNs. Received: [${arns.join(', ')}]`,
    );
  const bases = new Set(targets.map((t) => t?.base));
  if (bases.size !== 1)
    throw routingError(
      `Routing configuration must contain versions of the same state machine. Received: [${arns.join(', ')}]`,
    );
  const weights = routes.map((r) => r.weight);
  if (
    weights.some((w) => !Number.isInteger(w) || w < 0 || w > 100) ||
    weights.reduce((a, b) => a + b, 0) !== 100
  )
    throw routingError(
      `Sum of routing configuration weights must equal 100. Received: [${weights.join(', ')}]`,
    );
  return [...bases][0]!;
}

function pageSize(maxResults: number | undefined): number {
  if (maxResults === undefined || maxResults === 0) return 100;
  if (!Number.isInteger(maxResults) || maxResults < 0 || maxResults > 1000) {
    throw new ServiceError(ApiErrors.ValidationException, 'maxResults must be between 0 and 1000');
  }
  return maxResults;
}

/** The SDK metadata AWS adds to service integration results. */
function sdkMetadata(): JsonObject {
  const requestId = randomUUID();
  return {
    SdkHttpMetadata: {
      AllHttpHeaders: {
        'x-amzn-RequestId': [requestId],
        connection: ['keep-alive'],
        'Content-Type': ['application/x-amz-json-1.0'],
        Date: [new Date().toUTCString()],
      },
      HttpHeaders: {
        connection: 'keep-alive',
        'Content-Type': 'application/x-amz-json-1.0',
        Date: new Date().toUTCString(),
        'x-amzn-RequestId': requestId,
      },
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
  };
}

async function paged<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof InvalidPageToken) throw new ServiceError(ApiErrors.ValidationException, 'Invalid Token');
    throw e;
  }
}

/** Like `paged`, for the operations whose documented answer to a bad token is InvalidToken. */
async function pagedToken<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof InvalidPageToken)
      throw new ServiceError(ApiErrors.InvalidToken, "Invalid Token: 'Invalid token'");
    throw e;
  }
}

/**
 * Values read from the store and reused for a while, by key; cleared when `max` keys are held.
 * A value is held as `{ value }`, so that an undefined value is a hit too.
 */
class Recent<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  constructor(
    private readonly ttlMs: number,
    private readonly max = 1000,
  ) {}

  get(key: string, now: number): { value: V } | undefined {
    const e = this.entries.get(key);
    return e !== undefined && e.until > now ? e : undefined;
  }

  set(key: string, value: V, now: number): void {
    if (this.entries.size >= this.max) this.entries.clear();
    this.entries.set(key, { value, until: now + this.ttlMs });
  }

  /** Drops the key; with `value`, only while it still holds that value. */
  delete(key: string, value?: V): void {
    if (value === undefined || this.entries.get(key)?.value === value) this.entries.delete(key);
  }
}

/** A submitted step: its commit, and what is carried out once it lands. */
interface Stepped {
  committed: Promise<boolean>;
  commands: Command[];
  /** The stored events, for execution logs (when the execution is logged). */
  logged: readonly HistoryEvent[] | undefined;
}

/**
 * Batches writes of many executions into one store transaction (group commit). With
 * `maxInFlight` > 1 the next batch is sent before the previous one is acknowledged: a store that
 * writes on another thread then works while this one interprets. Each execution has at most one
 * write in flight (it awaits its commit before its next step), so batches never reorder an
 * execution's writes.
 */
class Committer {
  /**
   * Writes waiting for a batch, and beside them who waits for each. Kept apart so that a batch
   * sent to the store lets go of its writes (the store has what it needs once `commit` returns;
   * SQLite has serialised them) and keeps only its waiters until the commit lands.
   */
  private writes: StepWrite[] = [];
  private waiters: { resolve: (ok: boolean) => void; reject: (e: Error) => void }[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly store: Store,
    private readonly maxInFlight: number,
  ) {}

  /** With several batches in flight, a full batch leaves at once, so the writer starts early. */
  private static readonly PIPELINED_BATCH = 128;

  submit(write: StepWrite): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.writes.push(write);
      this.waiters.push({ resolve, reject });
      if (this.writes.length >= Committer.PIPELINED_BATCH && this.mayFlush()) this.flush();
      else this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.writes.length === 0 || !this.mayFlush()) return;
    this.scheduled = true;
    // One turn of the event loop lets the other executions' steps join the batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /**
   * One batch at a time while batches are small (each send has a fixed cost; the batch grows
   * while the previous one commits); a second one only once a full batch is waiting.
   */
  private mayFlush(): boolean {
    if (this.inFlight === 0) return true;
    return this.inFlight < this.maxInFlight && this.writes.length >= Committer.PIPELINED_BATCH;
  }

  private flush(): void {
    while (this.writes.length > 0 && this.mayFlush()) {
      const writes = this.writes;
      const waiters = this.waiters;
      this.writes = [];
      this.waiters = [];
      this.inFlight++;
      this.store.commit(writes).then(
        (outcomes) => {
          waiters.forEach((w, i) => w.resolve(outcomes[i] === 'ok'));
          this.done();
        },
        (e: unknown) => {
          const err = e instanceof Error ? e : new Error(String(e));
          for (const w of waiters) w.reject(err);
          this.done();
        },
      );
    }
  }

  private done(): void {
    this.inFlight--;
    this.schedule();
  }
}

export class Engine implements StepFunctionsEngine {
  readonly region: string;
  readonly account: string;
  private readonly store: Store;
  private readonly dispatcher: LocalTaskDispatcher;
  private readonly functions: FunctionProvider | undefined;
  private readonly committer: Committer;
  private readonly scale: number;
  private readonly maxEvents: number;
  private readonly maxDurationMs: number;
  private readonly env: InterpreterEnv;
  private readonly live = new Map<string, Live>();
  private readonly loading = new Map<string, Promise<Live | undefined>>();
  private readonly definitions = new Map<string, CompiledDefinition>();
  /** The compiled definition of a state machine row object (starts reuse rows: see below). */
  private readonly rowDefinitions = new WeakMap<StateMachineRecord, CompiledDefinition>();
  /** The store's id (`definitionIdOf`) of the text each definition compiled from at a start. */
  private readonly definitionIds = new WeakMap<CompiledDefinition, string>();
  /**
   * State machines as starts last read them, when this engine is the store's only node: a start
   * otherwise reads its machine's row, definition text included, every time (a tenth of an
   * Express run). This engine's updates and deletes drop an entry at once; the expiry is a safety
   * net (AWS documents UpdateStateMachine as eventually consistent for starts that follow it).
   */
  private readonly startMachines = new Recent<Promise<StateMachineRecord>>(START_MACHINE_TTL_MS);
  /** Timers armed in memory, by `executionArn \n timerId`. */
  private readonly armed = new Map<string, NodeJS.Timeout>();
  private readonly activityWaiters = new Map<string, Set<() => void>>();
  /** Activity ARNs, kept in memory: the interpreter asks synchronously whether one exists. */
  private readonly activities = new Set<string>();
  /** When each activity's existence was last read from a shared store (see refreshActivities). */
  private readonly activityChecks = new Map<string, number>();
  private poller: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly shared: SharedStore | undefined;
  private readonly nodeId: string;
  private readonly leaseTtl: number;
  private leaseTimer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private readonly logSink: ExecutionLogSink | undefined;
  /** Logging settings by state machine (or version) ARN, re-read after a while (another node may update them). */
  private readonly logConfigs = new Recent<LogSettings | undefined>(LOG_CONFIG_TTL_MS);
  /** `.sync` jobs of pass-through integrations being started or polled. */
  private readonly jobs: SyncJobs;
  private readonly routingRandom: () => number;
  private readonly maxVersions: number;
  private readonly maxAliases: number;

  private constructor(store: Store, options: EngineOptions) {
    this.store = store;
    this.region = options.region ?? DEFAULT_REGION;
    this.account = options.account ?? DEFAULT_ACCOUNT;
    this.functions = options.functions;
    this.dispatcher = new LocalTaskDispatcher({
      functions: options.functions,
      region: this.region,
      account: this.account,
      mocks: options.mocks,
      http: options.http,
      aws: options.aws,
    });
    this.jobs = new SyncJobs({
      dispatcher: this.dispatcher,
      store,
      deliver: (arn, event) => this.deliver(arn, event),
      interruptedCause: INTERRUPTED_CAUSE,
    });
    this.committer = new Committer(store, Math.max(1, store.commitsInFlight ?? 1));
    const scale = options.waitScale ?? 1;
    if (!(scale >= 0) || !Number.isFinite(scale))
      throw new RangeError('waitScale must be a finite number >= 0');
    this.scale = scale;
    this.maxEvents = options.maxHistoryEvents ?? 25_000;
    this.maxDurationMs = options.maxExecutionMs ?? MAX_EXECUTION_MS;
    this.shared = sharedStore(store);
    this.routingRandom = options.routingRandom ?? Math.random;
    this.maxVersions = options.maxVersionsPerStateMachine ?? MAX_VERSIONS;
    this.maxAliases = options.maxAliasesPerStateMachine ?? MAX_ALIASES;
    this.nodeId = options.nodeId ?? randomUUID();
    this.leaseTtl = options.leaseTtlMs ?? 10_000;
    this.logSink =
      options.executionLogs === null
        ? undefined
        : (options.executionLogs ??
          fileLogSink(join(options.dataDir ?? '.stepwise', 'logs'), (e) =>
            this.report('(execution logs)', e),
          ));
    this.env = {
      now: () => Date.now(),
      random: Math.random,
      uuid: randomUUID,
      // 256 random bits: tokens must be unguessable.
      token: () => randomBytes(32).toString('base64url'),
      activityExists: (arn) => this.activities.has(arn),
    };
  }

  /** Opens the store, resumes the work of every open execution and starts the timer poller. */
  static async open(options: EngineOptions = {}): Promise<Engine> {
    const store =
      options.store ??
      (await openSqliteStore({
        dir: options.dataDir ?? '.stepwise',
        synchronous: options.durability === 'power' ? 'FULL' : 'NORMAL',
        writer: options.storeWriter ?? 'thread',
      }));
    const engine = new Engine(store, options);
    let nextToken: string | undefined;
    do {
      const page = await store.listActivities({ limit: 1000, nextToken });
      for (const a of page.items) engine.activities.add(a.arn);
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    if (engine.shared) {
      await engine.startSharing();
    } else {
      await engine.recover();
    }
    engine.schedulePoll(0);
    return engine;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.poller) clearTimeout(this.poller);
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    await this.unlisten?.().catch(() => undefined);
    for (const t of this.armed.values()) clearTimeout(t);
    this.armed.clear();
    for (const waiters of this.activityWaiters.values()) for (const w of waiters) w();
    // Polls of .sync jobs stop here (the jobs run on); the next start resumes them.
    this.jobs.close();
    // Let in-flight steps commit; running local tasks are left to recovery on the next start.
    for (let i = 0; i < 100 && [...this.live.values()].some((l) => l.busy); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const l of this.live.values()) for (const ac of l.running.values()) ac?.abort();
    if (this.shared) {
      for (const l of this.live.values())
        await this.shared.releaseLease(l.arn, this.nodeId).catch(() => false);
    }
    await this.dispatcher.close();
    await this.logSink?.flush();
    await this.store.close();
  }

  // ---- ARNs ------------------------------------------------------------------------------

  private smArn(name: string): string {
    return `arn:aws:states:${this.region}:${this.account}:stateMachine:${name}`;
  }

  private activityArn(name: string): string {
    return `arn:aws:states:${this.region}:${this.account}:activity:${name}`;
  }

  // ---- state machines ----------------------------------------------------------------------

  /** Validates (AWS's diagnostics) and compiles; InvalidDefinition names the first error. */
  private compile(text: string, type: StateMachineType = 'STANDARD'): CompiledDefinition {
    const firstError = validateDefinitionText(text, { type }).find((d) => d.severity === 'ERROR');
    if (firstError !== undefined) {
      throw new ServiceError(
        ApiErrors.InvalidDefinition,
        `Invalid State Machine Definition: '${formatDiagnostic(firstError)}'`,
      );
    }
    let def: CompiledDefinition;
    try {
      def = compileDefinition(loadDefinition(text, { format: 'json' }));
    } catch (e) {
      if (e instanceof DefinitionError)
        throw new ServiceError(
          ApiErrors.InvalidDefinition,
          `Invalid State Machine Definition: '${e.message}'`,
        );
      throw e;
    }
    if (type === 'EXPRESS') {
      for (const m of def.machines) {
        for (const s of m.states.values()) {
          if (s.type !== 'Task') continue;
          const r = parseResource(s.resource);
          if (r.kind === 'activity' || (r.kind === 'service' && r.pattern !== 'request')) {
            throw new ServiceError(
              ApiErrors.InvalidDefinition,
              `Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support '${r.kind === 'activity' ? 'activity' : `.${r.pattern}`}' service integration at ${s.pointer}/Resource'`,
            );
          }
        }
      }
    }
    return def;
  }

  /** The compiled definition of a state machine's current revision (validated when it was created). */
  private forStart(sm: StateMachineRecord): CompiledDefinition {
    // A reused row needs no key built for it.
    const known = this.rowDefinitions.get(sm);
    if (known !== undefined) return known;
    // A machine's first revision has no id (''): its creation date tells a re-created machine apart.
    const key = `${sm.arn}@${sm.creationDate}@${sm.revisionId}`;
    let def = this.definitions.get(key);
    if (def === undefined) {
      def = this.compile(sm.definition, sm.type);
      // Hashed once per revision, not by the store on every start (a large definition made
      // starts ten times slower).
      this.definitionIds.set(def, definitionIdOf(sm.definition));
      if (this.definitions.size > 1000) this.definitions.clear();
      this.definitions.set(key, def);
    }
    this.rowDefinitions.set(sm, def);
    return def;
  }

  private compiled(definitionId: string, text: string): CompiledDefinition {
    let def = this.definitions.get(definitionId);
    if (def === undefined) {
      def = this.compile(text);
      if (this.definitions.size > 1000) this.definitions.clear();
      this.definitions.set(definitionId, def);
    }
    return def;
  }

  private describe(sm: StateMachineRecord): StateMachineDescription {
    const opts = sm.options;
    const d: StateMachineDescription = {
      stateMachineArn: sm.arn,
      name: sm.name,
      status: 'ACTIVE',
      definition: sm.definition,
      roleArn: sm.roleArn,
      type: sm.type,
      creationDate: sm.creationDate,
      loggingConfiguration: isJsonObject(opts.loggingConfiguration ?? null)
        ? (opts.loggingConfiguration as JsonObject)
        : { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: isJsonObject(opts.tracingConfiguration ?? null)
        ? (opts.tracingConfiguration as JsonObject)
        : { enabled: false },
    };
    if (sm.revisionId !== '') d.revisionId = sm.revisionId;
    return d;
  }

  /** A version as the record of the machine at that revision (what a start of it runs). */
  private versionAsMachine(v: StateMachineVersionRecord): StateMachineRecord {
    return {
      arn: v.stateMachineArn,
      name: v.stateMachineArn.split(':')[6] ?? '',
      type: v.type,
      definition: v.definition,
      roleArn: v.roleArn,
      revisionId: v.revisionId,
      creationDate: v.creationDate,
      options: v.options,
    };
  }

  /**
   * What a start with `arn` runs: the machine's current revision (unqualified ARN), a version, or
   * the version an alias picks by weight. StateMachineDoesNotExist names the ARN as given.
   */
  private async startTarget(
    arn: string,
  ): Promise<{ sm: StateMachineRecord; versionArn?: string; aliasArn?: string }> {
    // A row read by a recent start of the same ARN (see `startMachines`): the ARN was checked then.
    const recent = this.shared ? undefined : this.startMachines.get(arn, Date.now());
    if (recent !== undefined) return { sm: await recent.value };
    const t = smTarget(arn);
    if (t.version === undefined && t.alias === undefined) return { sm: await this.machineForStart(arn) };
    let versionArn = arn;
    if (t.alias !== undefined) {
      const alias = await this.store.getStateMachineAlias(arn);
      if (alias === undefined) throw noSuchMachine(arn);
      versionArn = pickRoute(alias.routingConfiguration, this.routingRandom());
    }
    const v = await this.store.getStateMachineVersion(versionArn);
    if (v === undefined) throw noSuchMachine(arn);
    return { sm: this.versionAsMachine(v), versionArn, ...(t.alias !== undefined ? { aliasArn: arn } : {}) };
  }

  /** Reads a start's row; on a single node, starts in the next second reuse it (`startTarget`). */
  private machineForStart(arn: string): Promise<StateMachineRecord> {
    const sm = this.stateMachine(arn);
    if (this.shared) return sm;
    // The read itself is shared: a thousand starts at once read the row once.
    this.startMachines.set(arn, sm, Date.now());
    sm.catch(() => this.startMachines.delete(arn, sm));
    return sm;
  }

  private async stateMachine(arn: string): Promise<StateMachineRecord> {
    parseArn(arn, 'stateMachine');
    const sm = await this.store.getStateMachine(arn);
    if (sm === undefined)
      throw new ServiceError(ApiErrors.StateMachineDoesNotExist, `State Machine Does Not Exist: '${arn}'`);
    return sm;
  }

  async createStateMachine(
    input: CreateStateMachineInput,
  ): Promise<{ stateMachineArn: string; creationDate: number; stateMachineVersionArn?: string }> {
    const name = checkName(input.name);
    checkVersionDescription(input.publish, input.versionDescription);
    const type = input.type ?? 'STANDARD';
    if (type !== 'STANDARD' && type !== 'EXPRESS') {
      throw new ServiceError(
        ApiErrors.ValidationException,
        `Value '${String(type)}' at 'type' failed to satisfy constraint`,
      );
    }
    checkLogging(input.loggingConfiguration);
    this.compile(input.definition, type);
    const arn = this.smArn(name);
    const record: StateMachineRecord = {
      arn,
      name,
      type,
      definition: input.definition,
      roleArn: input.roleArn,
      // AWS gives the first revision no id ('' here; PublishStateMachineVersion calls it INITIAL).
      revisionId: '',
      creationDate: Date.now(),
      options: {
        ...(input.loggingConfiguration ? { loggingConfiguration: input.loggingConfiguration } : {}),
        ...(input.tracingConfiguration ? { tracingConfiguration: input.tracingConfiguration } : {}),
      },
    };
    const res = await this.store.createStateMachine(record, input.tags ?? []);
    this.logConfigs.delete(arn);
    if (!res.created) {
      const same =
        res.existing.definition === record.definition &&
        res.existing.roleArn === record.roleArn &&
        res.existing.type === record.type;
      // AWS: creating the same machine again is idempotent; a different one conflicts. Its check
      // includes publish and versionDescription: a repeated publish answers the version the first
      // create published, if that is what the machine still has.
      if (same && !input.publish) return { stateMachineArn: arn, creationDate: res.existing.creationDate };
      if (same && res.existing.revisionId === '') {
        const published = (
          await this.store.listStateMachineVersions({ stateMachineArn: arn, limit: 1 })
        ).items.find((v) => v.revisionId === '' && v.description === input.versionDescription);
        if (published)
          return {
            stateMachineArn: arn,
            creationDate: res.existing.creationDate,
            stateMachineVersionArn: published.arn,
          };
      }
      throw new ServiceError(ApiErrors.StateMachineAlreadyExists, `State Machine Already Exists: '${arn}'`);
    }
    if (!input.publish) return { stateMachineArn: arn, creationDate: record.creationDate };
    const v = await this.publish(arn, '', input.versionDescription);
    return { stateMachineArn: arn, creationDate: record.creationDate, stateMachineVersionArn: v.arn };
  }

  /** Publishes the current revision if it is still `expectedRevisionId` ('' = the first). */
  private async publish(
    arn: string,
    expectedRevisionId: string | undefined,
    description: string | undefined,
    shownRevisionId = expectedRevisionId,
  ): Promise<StateMachineVersionRecord> {
    const res = await this.store.publishStateMachineVersion(arn, {
      expectedRevisionId,
      description,
      creationDate: Date.now(),
      maxVersions: this.maxVersions,
    });
    switch (res.outcome) {
      case 'created':
      case 'existing':
        return res.version;
      case 'missing':
        throw noSuchMachine(arn);
      case 'conflict':
        throw new ServiceError(
          ApiErrors.ConflictException,
          `Failed to publish the State Machine version for revision ${shownRevisionId || 'INITIAL'}. ` +
            `The current State Machine revision is ${res.revisionId || 'INITIAL'}.`,
        );
      case 'limit':
        throw new ServiceError(
          ApiErrors.ServiceQuotaExceededException,
          `The maximum number of versions (${this.maxVersions}) of state machine '${arn}' has been reached: ` +
            'delete unused versions with DeleteStateMachineVersion',
        );
    }
  }

  async describeStateMachine(arn: string): Promise<StateMachineDescription> {
    const t = smTarget(arn);
    if (t.alias !== undefined) throw noSuchMachine(arn);
    if (t.version === undefined) return this.describe(await this.stateMachine(arn));
    const v = await this.store.getStateMachineVersion(arn);
    if (v === undefined) throw noSuchMachine(arn);
    // A version answers as the machine at that revision, under its own ARN, with its description.
    const d = { ...this.describe(this.versionAsMachine(v)), stateMachineArn: v.arn };
    if (v.description !== undefined) d.description = v.description;
    return d;
  }

  async publishStateMachineVersion(input: {
    stateMachineArn: string;
    revisionId?: string | undefined;
    description?: string | undefined;
  }): Promise<{ stateMachineVersionArn: string; creationDate: number }> {
    const t = smTarget(input.stateMachineArn);
    if (t.version !== undefined || t.alias !== undefined) throw noSuchMachine(input.stateMachineArn);
    const expected = input.revisionId === 'INITIAL' ? '' : input.revisionId;
    const v = await this.publish(input.stateMachineArn, expected, input.description, input.revisionId);
    return { stateMachineVersionArn: v.arn, creationDate: v.creationDate };
  }

  async listStateMachineVersions(
    input: PageInput & { stateMachineArn: string },
  ): Promise<Paged<{ stateMachineVersionArn: string; creationDate: number }>> {
    const t = smTarget(input.stateMachineArn);
    if (t.version !== undefined || t.alias !== undefined)
      throw new ServiceError(ApiErrors.InvalidArn, `Invalid Arn: '${input.stateMachineArn}'`);
    // AWS documents no StateMachineDoesNotExist here: an unknown machine has no versions.
    const res = await pagedToken(() =>
      this.store.listStateMachineVersions({
        stateMachineArn: input.stateMachineArn,
        limit: pageSize(input.maxResults),
        nextToken: input.nextToken,
      }),
    );
    return {
      items: res.items.map((v) => ({ stateMachineVersionArn: v.arn, creationDate: v.creationDate })),
      nextToken: res.nextToken,
    };
  }

  async deleteStateMachineVersion(stateMachineVersionArn: string): Promise<void> {
    if (smTarget(stateMachineVersionArn).version === undefined)
      throw new ServiceError(ApiErrors.InvalidArn, `Invalid Arn: '${stateMachineVersionArn}'`);
    const res = await this.store.deleteStateMachineVersion(stateMachineVersionArn);
    if (res.outcome === 'referenced') {
      throw new ServiceError(
        ApiErrors.ConflictException,
        'Version to be deleted must not be referenced by an alias. ' +
          `Current list of aliases referencing this version: [${res.aliasNames.join(', ')}]`,
      );
    }
  }

  // ---- aliases -----------------------------------------------------------------------------

  private aliasOut(a: StateMachineAliasRecord): StateMachineAliasDescription {
    const d: StateMachineAliasDescription = {
      stateMachineAliasArn: a.arn,
      name: a.name,
      routingConfiguration: a.routingConfiguration.map((r) => ({ ...r })),
      creationDate: a.creationDate,
      updateDate: a.updateDate,
    };
    if (a.description !== undefined) d.description = a.description;
    return d;
  }

  async createStateMachineAlias(input: {
    name: string;
    description?: string | undefined;
    routingConfiguration: RoutingConfigurationItem[];
  }): Promise<{ stateMachineAliasArn: string; creationDate: number }> {
    if (typeof input.name !== 'string' || input.name.length > 80 || !ALIAS_NAME.test(input.name))
      throw new ServiceError(ApiErrors.ValidationException, `Invalid alias name: '${String(input.name)}'`);
    const routes = input.routingConfiguration.map((r) => ({
      stateMachineVersionArn: r.stateMachineVersionArn,
      weight: r.weight,
    }));
    const base = checkRouting(routes);
    const now = Date.now();
    const record: StateMachineAliasRecord = {
      arn: `${base}:${input.name}`,
      stateMachineArn: base,
      name: input.name,
      routingConfiguration: routes,
      creationDate: now,
      updateDate: now,
      ...(input.description !== undefined ? { description: input.description } : {}),
    };
    const res = await this.store.createStateMachineAlias(record, this.maxAliases);
    switch (res.outcome) {
      case 'exists': {
        // AWS: idempotent on name, description and routing configuration.
        const e = res.existing;
        if (e.description === record.description && sameRoutes(e.routingConfiguration, routes))
          return { stateMachineAliasArn: e.arn, creationDate: e.creationDate };
        throw new ServiceError(
          ApiErrors.ConflictException,
          'Failed to create alias because an alias with the same name and a different routing configuration already exists.',
        );
      }
      case 'versionMissing':
        throw noSuchResource(res.versionArn);
      case 'limit':
        throw new ServiceError(
          ApiErrors.ServiceQuotaExceededException,
          `The maximum number of aliases (${this.maxAliases}) of state machine '${base}' has been reached: ` +
            'delete unused aliases with DeleteStateMachineAlias',
        );
      case 'missing':
        throw noSuchResource(base);
      case 'created':
      case 'updated':
        return { stateMachineAliasArn: record.arn, creationDate: record.creationDate };
    }
  }

  private aliasTarget(arn: string): void {
    if (smTarget(arn).alias === undefined)
      throw new ServiceError(ApiErrors.InvalidArn, `Invalid Arn: '${arn}'`);
  }

  async describeStateMachineAlias(stateMachineAliasArn: string): Promise<StateMachineAliasDescription> {
    this.aliasTarget(stateMachineAliasArn);
    const a = await this.store.getStateMachineAlias(stateMachineAliasArn);
    if (a === undefined) throw noSuchResource(stateMachineAliasArn);
    return this.aliasOut(a);
  }

  async updateStateMachineAlias(input: {
    stateMachineAliasArn: string;
    description?: string | undefined;
    routingConfiguration?: RoutingConfigurationItem[] | undefined;
  }): Promise<{ updateDate: number }> {
    this.aliasTarget(input.stateMachineAliasArn);
    if (input.description === undefined && input.routingConfiguration === undefined) {
      throw new ServiceError(
        ApiErrors.ValidationException,
        'Either the description or the routingConfiguration must be specified',
        { reason: 'MISSING_REQUIRED_PARAMETER' },
      );
    }
    let routes: RoutingConfigurationItem[] | undefined;
    if (input.routingConfiguration !== undefined) {
      routes = input.routingConfiguration.map((r) => ({
        stateMachineVersionArn: r.stateMachineVersionArn,
        weight: r.weight,
      }));
      // The versions must be the alias's own machine's.
      if (checkRouting(routes) !== smTarget(input.stateMachineAliasArn).base)
        throw noSuchResource(routes[0]!.stateMachineVersionArn);
    }
    const updateDate = Date.now();
    const res = await this.store.updateStateMachineAlias(input.stateMachineAliasArn, {
      description: input.description,
      routingConfiguration: routes,
      updateDate,
    });
    if (res.outcome === 'missing') throw noSuchResource(input.stateMachineAliasArn);
    if (res.outcome === 'versionMissing') throw noSuchResource(res.versionArn);
    return { updateDate };
  }

  async deleteStateMachineAlias(stateMachineAliasArn: string): Promise<void> {
    this.aliasTarget(stateMachineAliasArn);
    // AWS answers the deletion of an alias that is not there as a success.
    await this.store.deleteStateMachineAlias(stateMachineAliasArn);
  }

  async listStateMachineAliases(
    input: PageInput & { stateMachineArn: string },
  ): Promise<Paged<{ stateMachineAliasArn: string; creationDate: number }>> {
    const t = smTarget(input.stateMachineArn);
    if (t.alias !== undefined)
      throw new ServiceError(ApiErrors.InvalidArn, `Invalid Arn: '${input.stateMachineArn}'`);
    if (t.version === undefined) await this.stateMachine(input.stateMachineArn);
    else if ((await this.store.getStateMachineVersion(input.stateMachineArn)) === undefined)
      throw noSuchResource(input.stateMachineArn);
    const res = await pagedToken(() =>
      this.store.listStateMachineAliases({
        stateMachineArn: t.base,
        versionArn: t.version !== undefined ? input.stateMachineArn : undefined,
        limit: pageSize(input.maxResults),
        nextToken: input.nextToken,
      }),
    );
    return {
      items: res.items.map((a) => ({ stateMachineAliasArn: a.arn, creationDate: a.creationDate })),
      nextToken: res.nextToken,
    };
  }

  async updateStateMachine(
    input: UpdateStateMachineInput,
  ): Promise<{ updateDate: number; revisionId?: string; stateMachineVersionArn?: string }> {
    checkVersionDescription(input.publish, input.versionDescription);
    const sm = await this.stateMachine(input.stateMachineArn);
    if (
      input.definition === undefined &&
      input.roleArn === undefined &&
      !input.loggingConfiguration &&
      !input.tracingConfiguration
    ) {
      throw new ServiceError(
        ApiErrors.ValidationException,
        'Either the definition, the roleArn, the loggingConfiguration or the tracingConfiguration must be specified',
      );
    }
    if (input.definition !== undefined) this.compile(input.definition, sm.type);
    const next: StateMachineRecord = {
      ...sm,
      definition: input.definition ?? sm.definition,
      roleArn: input.roleArn ?? sm.roleArn,
      revisionId: randomUUID(),
      options: {
        ...sm.options,
        ...(input.loggingConfiguration ? { loggingConfiguration: input.loggingConfiguration } : {}),
        ...(input.tracingConfiguration ? { tracingConfiguration: input.tracingConfiguration } : {}),
      },
    };
    const updateDate = Date.now();
    // AWS makes no new revision of an update that changes nothing (a publish then answers the
    // version already published from the current one).
    const unchanged =
      next.definition === sm.definition &&
      next.roleArn === sm.roleArn &&
      JSON.stringify(next.options) === JSON.stringify(sm.options);
    const revisionId = unchanged ? sm.revisionId : next.revisionId;
    if (!unchanged) {
      const res = await this.store.updateStateMachine(next, sm.revisionId);
      this.logConfigs.delete(sm.arn);
      this.startMachines.delete(sm.arn);
      if (res === 'missing') throw noSuchMachine(sm.arn);
      if (res === 'conflict')
        throw new ServiceError(ApiErrors.ConflictException, 'The state machine was updated concurrently');
    }
    const out: { updateDate: number; revisionId?: string; stateMachineVersionArn?: string } = { updateDate };
    if (revisionId !== '') out.revisionId = revisionId;
    if (input.publish)
      out.stateMachineVersionArn = (await this.publish(sm.arn, revisionId, input.versionDescription)).arn;
    return out;
  }

  async deleteStateMachine(arn: string): Promise<void> {
    parseArn(arn, 'stateMachine');
    await this.store.deleteStateMachine(arn);
    this.logConfigs.delete(arn);
    this.startMachines.delete(arn);
  }

  async listStateMachines(
    page: PageInput,
  ): Promise<Paged<{ stateMachineArn: string; name: string; type: StateMachineType; creationDate: number }>> {
    const res = await paged(() =>
      this.store.listStateMachines({ limit: pageSize(page.maxResults), nextToken: page.nextToken }),
    );
    return {
      items: res.items.map((sm) => ({
        stateMachineArn: sm.arn,
        name: sm.name,
        type: sm.type,
        creationDate: sm.creationDate,
      })),
      nextToken: res.nextToken,
    };
  }

  async describeStateMachineForExecution(
    executionArn: string,
  ): Promise<StateMachineDescription & { updateDate: number }> {
    const exec = await this.execution(executionArn);
    // An execution of a version is described by that version (its role, logging, revision).
    const version =
      exec.stateMachineVersionArn === undefined
        ? undefined
        : await this.store.getStateMachineVersion(exec.stateMachineVersionArn);
    const sm = version
      ? this.versionAsMachine(version)
      : await this.store.getStateMachine(exec.stateMachineArn);
    const definition = (await this.store.getDefinition(exec.definitionId)) ?? sm?.definition ?? '';
    const name = exec.stateMachineArn.split(':')[6] ?? '';
    const base: StateMachineRecord = sm ?? {
      arn: exec.stateMachineArn,
      name,
      type: 'STANDARD',
      definition,
      roleArn: '',
      revisionId: '',
      creationDate: exec.startDate,
      options: {},
    };
    return { ...this.describe({ ...base, definition }), updateDate: base.creationDate };
  }

  // ---- executions --------------------------------------------------------------------------

  private async execution(arn: string) {
    parseArn(arn, 'execution');
    const exec = await this.store.getExecution(arn);
    if (exec === undefined)
      throw new ServiceError(ApiErrors.ExecutionDoesNotExist, `Execution Does Not Exist: '${arn}'`);
    return exec;
  }

  private parseInput(input: string | undefined): JsonValue {
    const text = input ?? '{}';
    if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
      throw new ServiceError(
        ApiErrors.InvalidExecutionInput,
        'Invalid State Machine Execution Input: the input exceeds 262144 bytes',
      );
    }
    try {
      return parseJsonKeepingText(text);
    } catch (e) {
      throw new ServiceError(
        ApiErrors.InvalidExecutionInput,
        `Invalid State Machine Execution Input: '${(e as Error).message}'`,
      );
    }
  }

  async startExecution(input: StartExecutionInput): Promise<{ executionArn: string; startDate: number }> {
    // `<stateMachineArn>#<TestCase>` selects a mocked test case (Step Functions Local's convention).
    const [smArn, testCase] = splitTestCase(input.stateMachineArn);
    const { sm, versionArn, aliasArn } = await this.startTarget(smArn);
    const name = checkName(input.name ?? randomUUID());
    const inputText = input.input ?? '{}';
    const value = this.parseInput(inputText);
    if (sm.type === 'EXPRESS') {
      // Express: in memory, at least once; not visible to DescribeExecution (as on AWS).
      const executionArn = `arn:aws:states:${this.region}:${this.account}:express:${sm.name}:${name}:${randomUUID()}`;
      void this.runExpress(sm, executionArn, name, value).catch(() => undefined);
      return { executionArn, startDate: Date.now() };
    }
    const def = this.forStart(sm);
    const executionArn = `arn:aws:states:${this.region}:${this.account}:execution:${sm.name}:${name}`;
    const init: ExecutionInit = {
      executionArn,
      stateMachineArn: sm.arn,
      name,
      stateMachineName: sm.name,
      roleArn: sm.roleArn,
      ...(versionArn !== undefined ? { stateMachineVersionArn: versionArn } : {}),
      ...(aliasArn !== undefined ? { stateMachineAliasArn: aliasArn } : {}),
      input: value,
      recordHistory: true,
      maxHistoryEvents: this.maxEvents,
      maxDurationMs: this.maxDurationMs,
      maxPayloadBytes: MAX_PAYLOAD_BYTES,
      ...(testCase !== undefined ? { testCase } : {}),
    };
    // With several nodes, hold the new execution's lease before it exists: nobody may adopt it.
    const fencingToken = this.shared
      ? await this.shared.acquireLease(executionArn, this.nodeId, this.leaseTtl)
      : undefined;
    if (this.shared && fencingToken === undefined) {
      // Another node holds the name. Usually it is starting it right now (a client that retried
      // through another node): wait a little for that start to land, so the same name and input
      // get the idempotent answer rather than a conflict with an execution not yet committed.
      for (let waited = 0; ; waited += NAME_IN_FLIGHT_POLL_MS) {
        const existing = await this.store.getExecution(executionArn);
        if (existing !== undefined) {
          if (isIdempotentStart(existing, inputText)) return { executionArn, startDate: existing.startDate };
          break;
        }
        if (waited >= NAME_IN_FLIGHT_WAIT_MS) {
          // No execution has the name (yet): the node holding it is slow, or died mid-start and
          // its lease runs out within the lease TTL. A conflict would be false; this is retryable.
          throw new ServiceError(
            ApiErrors.ServiceUnavailable,
            `Another node is starting the execution '${executionArn}'; retry the request.`,
          );
        }
        await new Promise((r) => setTimeout(r, NAME_IN_FLIGHT_POLL_MS));
      }
      throw new ServiceError(ApiErrors.ExecutionAlreadyExists, `Execution Already Exists: '${executionArn}'`);
    }
    const release = () => {
      if (this.shared) void this.shared.releaseLease(executionArn, this.nodeId).catch(() => false);
    };
    let first: Awaited<ReturnType<Engine['firstStep']>>;
    try {
      first = await this.firstStep(def, init, sm, inputText, fencingToken);
    } catch (e) {
      // A lease kept after a failed start would be renewed by this node for ever, and every
      // other node would answer ExecutionAlreadyExists for a name that has no execution. If the
      // commit did land after all, the released execution is adopted like any other.
      release();
      throw e;
    }
    const { state, changes, commands, created } = first;
    if (!created) {
      release();
      const existing = await this.store.getExecution(executionArn);
      if (existing !== undefined && isIdempotentStart(existing, inputText))
        return { executionArn, startDate: existing.startDate };
      throw new ServiceError(ApiErrors.ExecutionAlreadyExists, `Execution Already Exists: '${executionArn}'`);
    }
    const live: Live = {
      arn: executionArn,
      def,
      state,
      version: 1,
      queue: [],
      busy: false,
      running: new Map(),
      done: [],
      fencingToken,
      log: this.logSink ? logSettings(sm.options.loggingConfiguration) : undefined,
    };
    if (live.log !== undefined) this.writeLog(live, changes.events);
    if (state.status === 'RUNNING') this.live.set(executionArn, live);
    this.effects(live, commands);
    this.maybeEvict(live);
    return { executionArn, startDate: state.startTime };
  }

  /** Runs a new execution's first step and commits it, creating the execution row. */
  private async firstStep(
    def: CompiledDefinition,
    init: ExecutionInit,
    sm: StateMachineRecord,
    inputText: string,
    fencingToken: number | undefined,
  ) {
    if (this.shared && activitiesOf(def).length > 0) await this.refreshActivities(def);
    const started = startExecution(def, init, this.env);
    const state = started.state;
    const { events, commands } = await this.settle(def, state, started.result);
    const changes = this.changes(state, { timers: [], tasks: [] }, events, commands, init.executionArn, 0);
    // The first write joins the group commit like any other (a conflict means the name is taken).
    const created = await this.committer.submit({
      ...changes,
      create: {
        executionArn: init.executionArn,
        stateMachineArn: sm.arn,
        name: init.name,
        input: inputText,
        startDate: state.startTime,
        definition: sm.definition,
        definitionId: this.definitionIds.get(def),
        stateMachineVersionArn: init.stateMachineVersionArn,
        stateMachineAliasArn: init.stateMachineAliasArn,
        fixed: JSON.stringify(state.init),
      },
      ...(fencingToken !== undefined ? { fencingToken } : {}),
    });
    return { state, changes, commands, created };
  }

  private async runExpress(sm: StateMachineRecord, executionArn: string, name: string, input: JsonValue) {
    // Compiled once per state machine revision, not validated again on every start.
    const def = this.forStart(sm);
    // Express executions keep no history: with logging, their events become log records.
    const sink = this.logSink;
    const log = sink ? logSettings(sm.options.loggingConfiguration) : undefined;
    const onEvents =
      sink && log
        ? (events: HistoryEvent[]) =>
            sink.write(log.logGroupArn, logRecords(log, executionArn, events, false))
        : undefined;
    return runLocalExecution(
      def,
      {
        executionArn,
        stateMachineArn: sm.arn,
        name,
        stateMachineName: sm.name,
        roleArn: sm.roleArn,
        input,
        recordHistory: log !== undefined,
        maxPayloadBytes: MAX_PAYLOAD_BYTES,
      },
      {
        dispatcher: this.dispatcher,
        waitScale: this.scale,
        timeLimitMs: EXPRESS_LIMIT_MS,
        ...(onEvents ? { onEvents } : {}),
      },
    );
  }

  async startSyncExecution(input: StartExecutionInput): Promise<SyncExecutionResult> {
    const { sm } = await this.startTarget(input.stateMachineArn);
    if (sm.type !== 'EXPRESS') {
      throw new ServiceError(
        ApiErrors.StateMachineTypeNotSupported,
        'This operation is only supported by EXPRESS state machines',
      );
    }
    const name = checkName(input.name ?? randomUUID());
    const inputText = input.input ?? '{}';
    const value = this.parseInput(inputText);
    const executionArn = `arn:aws:states:${this.region}:${this.account}:express:${sm.name}:${name}:${randomUUID()}`;
    const started = Date.now();
    const { state } = await this.runExpress(sm, executionArn, name, value);
    // The five-minute limit ends an Express run as TIMED_OUT.
    const status: ExecutionStatus = state.status === 'ABORTED' ? 'TIMED_OUT' : state.status;
    const result: SyncExecutionResult = {
      executionArn,
      stateMachineArn: sm.arn,
      name,
      status,
      startDate: state.startTime,
      stopDate: state.stopTime ?? Date.now(),
      input: inputText,
      billingDetails: {
        billedMemoryUsedInMB: 64,
        billedDurationInMilliseconds: Math.max(100, Math.ceil((Date.now() - started) / 100) * 100),
      },
    };
    if (status === 'SUCCEEDED') result.output = stringifyJson(state.output ?? null);
    if (state.error !== undefined) result.error = state.error;
    if (state.cause !== undefined) result.cause = state.cause;
    return result;
  }

  async stopExecution(input: {
    executionArn: string;
    error?: string;
    cause?: string;
  }): Promise<{ stopDate: number }> {
    const exec = await this.execution(input.executionArn);
    if (exec.status !== 'RUNNING') return { stopDate: exec.stopDate ?? Date.now() };
    await this.deliverAndWait(input.executionArn, { type: 'stop', error: input.error, cause: input.cause });
    const after = await this.store.getExecution(input.executionArn);
    return { stopDate: after?.stopDate ?? Date.now() };
  }

  async describeExecution(executionArn: string): Promise<ExecutionDescription> {
    const e = await this.execution(executionArn);
    const d: ExecutionDescription = {
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: e.startDate,
      input: e.input,
    };
    if (e.stopDate !== undefined) d.stopDate = e.stopDate;
    if (e.stateMachineVersionArn !== undefined) d.stateMachineVersionArn = e.stateMachineVersionArn;
    if (e.stateMachineAliasArn !== undefined) d.stateMachineAliasArn = e.stateMachineAliasArn;
    if (e.output !== undefined) d.output = e.output;
    if (e.error !== undefined) d.error = e.error;
    if (e.cause !== undefined) d.cause = e.cause;
    Object.assign(d, redriveInfo(e, Date.now(), this.maxDurationMs));
    return d;
  }

  async redriveExecution(input: { executionArn: string }): Promise<{ redriveDate: number }> {
    const e = await this.execution(input.executionArn);
    const info = redriveInfo(e, Date.now(), this.maxDurationMs);
    const reason =
      info.redriveStatusReason ??
      'Stepwise does not redrive executions yet; start a new execution with the same input instead';
    throw new ServiceError(
      ApiErrors.ExecutionNotRedrivable,
      `Execution '${e.executionArn}' cannot be redriven: ${reason}`,
    );
  }

  async listExecutions(
    input: PageInput & { stateMachineArn: string; statusFilter?: ExecutionStatus | undefined },
  ): Promise<Paged<ExecutionListItem>> {
    // A version or alias ARN lists the executions started with it (AWS: ResourceNotFound if it is not there).
    const t = smTarget(input.stateMachineArn);
    const by = t.version !== undefined ? 'version' : t.alias !== undefined ? 'alias' : undefined;
    if (by === undefined) await this.stateMachine(input.stateMachineArn);
    else if (
      (by === 'version'
        ? await this.store.getStateMachineVersion(input.stateMachineArn)
        : await this.store.getStateMachineAlias(input.stateMachineArn)) === undefined
    )
      throw noSuchResource(input.stateMachineArn);
    const res = await paged(() =>
      this.store.listExecutions({
        stateMachineArn: input.stateMachineArn,
        by,
        status: input.statusFilter,
        limit: pageSize(input.maxResults),
        nextToken: input.nextToken,
      }),
    );
    return { items: res.items, nextToken: res.nextToken };
  }

  async getExecutionHistory(input: HistoryInput): Promise<Paged<HistoryEvent>> {
    parseArn(input.executionArn, 'execution');
    const res = await paged(() =>
      this.store.history(input.executionArn, {
        reverse: input.reverseOrder,
        limit: pageSize(input.maxResults),
        nextToken: input.nextToken,
      }),
    );
    if (res === undefined)
      throw new ServiceError(
        ApiErrors.ExecutionDoesNotExist,
        `Execution Does Not Exist: '${input.executionArn}'`,
      );
    return { items: res.items, nextToken: res.nextToken };
  }

  // ---- activities ---------------------------------------------------------------------------

  async createActivity(input: { name: string; tags?: TagInput[] | undefined }): Promise<ActivityDescription> {
    const name = checkName(input.name);
    const arn = this.activityArn(name);
    const record = { arn, name, creationDate: Date.now() };
    const res = await this.store.createActivity(record, input.tags ?? []);
    const r = res.created ? record : res.existing;
    this.activities.add(r.arn);
    return { activityArn: r.arn, name: r.name, creationDate: r.creationDate };
  }

  async describeActivity(activityArn: string): Promise<ActivityDescription> {
    parseArn(activityArn, 'activity');
    const a = await this.store.getActivity(activityArn);
    if (a === undefined)
      throw new ServiceError(ApiErrors.ActivityDoesNotExist, `Activity Does Not Exist: '${activityArn}'`);
    return { activityArn: a.arn, name: a.name, creationDate: a.creationDate };
  }

  async deleteActivity(activityArn: string): Promise<void> {
    parseArn(activityArn, 'activity');
    await this.store.deleteActivity(activityArn);
    this.activities.delete(activityArn);
  }

  async listActivities(page: PageInput): Promise<Paged<ActivityDescription>> {
    const res = await paged(() =>
      this.store.listActivities({ limit: pageSize(page.maxResults), nextToken: page.nextToken }),
    );
    return {
      items: res.items.map((a) => ({ activityArn: a.arn, name: a.name, creationDate: a.creationDate })),
      nextToken: res.nextToken,
    };
  }

  async getActivityTask(
    input: { activityArn: string; workerName?: string | undefined },
    signal?: AbortSignal,
  ): Promise<ActivityTask> {
    await this.describeActivity(input.activityArn);
    const deadline = Date.now() + ACTIVITY_POLL_MS;
    while (!this.closed && !signal?.aborted) {
      const task = await this.store.claimActivityTask(input.activityArn, input.workerName ?? '', Date.now());
      if (task !== undefined) {
        // ActivityStarted is committed before the worker can answer.
        await this.deliverAndWait(
          task.executionArn,
          { type: 'taskStarted', taskId: task.taskId, workerName: input.workerName },
          false,
        );
        return { taskToken: task.token, input: stringifyJson(task.request.input) };
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const waiters = this.activityWaiters.get(input.activityArn) ?? new Set<() => void>();
        this.activityWaiters.set(input.activityArn, waiters);
        const done = () => {
          clearTimeout(t);
          waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, Math.min(left, 5_000));
        waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
    return {};
  }

  private async taskByToken(taskToken: string) {
    // Stepwise's tokens are 43 base64url characters; anything else cannot be one.
    if (typeof taskToken !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(taskToken)) {
      throw new ServiceError(ApiErrors.InvalidToken, "Invalid Token: 'Invalid token'");
    }
    const task = await this.store.findTaskByToken(taskToken);
    if (task === undefined) throw new ServiceError(ApiErrors.TaskDoesNotExist, 'Task Does Not Exist');
    return task;
  }

  /** Callback requests in flight, by `executionArn \n taskId`. */
  private readonly submitting = new Map<string, Promise<void>>();

  async sendTaskSuccess(input: { taskToken: string; output: string }): Promise<void> {
    const task = await this.taskByToken(input.taskToken);
    await this.submitting.get(`${task.executionArn}\n${task.taskId}`);
    let output: JsonValue;
    try {
      output = parseJsonKeepingText(input.output);
    } catch {
      throw new ServiceError(ApiErrors.ValidationException, 'Invalid Output: the output is not valid JSON');
    }
    await this.deliverAndWait(
      task.executionArn,
      { type: 'taskSucceeded', taskId: task.taskId, output },
      false,
    );
    // A .sync job's task answered through its token: polling ends, the job runs on.
    this.jobs.cancel(task.executionArn, task.taskId, false);
  }

  async sendTaskFailure(input: {
    taskToken: string;
    error?: string | undefined;
    cause?: string | undefined;
  }): Promise<void> {
    const task = await this.taskByToken(input.taskToken);
    await this.submitting.get(`${task.executionArn}\n${task.taskId}`);
    await this.deliverAndWait(
      task.executionArn,
      { type: 'taskFailed', taskId: task.taskId, error: input.error ?? '', cause: input.cause },
      false,
    );
    this.jobs.cancel(task.executionArn, task.taskId, false);
  }

  async sendTaskHeartbeat(input: { taskToken: string }): Promise<void> {
    const task = await this.taskByToken(input.taskToken);
    this.deliver(task.executionArn, { type: 'taskHeartbeat', taskId: task.taskId });
  }

  // ---- tags --------------------------------------------------------------------------------

  private async taggable(arn: string): Promise<void> {
    const kind = typeof arn === 'string' ? arn.split(':')[5] : undefined;
    if (kind === 'stateMachine') {
      if ((await this.store.getStateMachine(arn)) !== undefined) return;
    } else if (kind === 'activity') {
      if ((await this.store.getActivity(arn)) !== undefined) return;
    } else {
      throw new ServiceError(ApiErrors.InvalidArn, `Invalid Arn: '${String(arn)}'`);
    }
    throw new ServiceError(ApiErrors.ResourceNotFound, `Resource not found: '${arn}'`, { resourceName: arn });
  }

  async tagResource(resourceArn: string, tags: TagInput[]): Promise<void> {
    await this.taggable(resourceArn);
    const existing = await this.store.listTags(resourceArn);
    const keys = new Set([...existing.map((t) => t.key), ...tags.map((t) => t.key)]);
    if (keys.size > 50)
      throw new ServiceError(ApiErrors.TooManyTags, 'Too many tags', { resourceName: resourceArn });
    await this.store.tagResource(resourceArn, tags);
  }

  async untagResource(resourceArn: string, tagKeys: string[]): Promise<void> {
    await this.taggable(resourceArn);
    await this.store.untagResource(resourceArn, tagKeys);
  }

  async listTagsForResource(resourceArn: string): Promise<TagInput[]> {
    await this.taggable(resourceArn);
    return this.store.listTags(resourceArn);
  }

  // ---- execution log records (ADR 0009) ---------------------------------------------------

  private async logSettingsFor(stateMachineArn: string): Promise<LogSettings | undefined> {
    if (this.logSink === undefined) return undefined;
    const cached = this.logConfigs.get(stateMachineArn, Date.now());
    if (cached !== undefined) return cached.value;
    // A version's executions log as the version says (its logging is part of the snapshot).
    const sm =
      smTarget(stateMachineArn).version !== undefined
        ? await this.store.getStateMachineVersion(stateMachineArn)
        : await this.store.getStateMachine(stateMachineArn);
    const settings = logSettings(sm?.options.loggingConfiguration);
    this.logConfigs.set(stateMachineArn, settings, Date.now());
    return settings;
  }

  /** Logs a committed step's events (stored events: payloads are JSON text). */
  private writeLog(live: Live, events: readonly HistoryEvent[] | undefined): void {
    if (live.log === undefined || events === undefined || events.length === 0) return;
    this.logSink?.write(live.log.logGroupArn, logRecords(live.log, live.arn, events, true));
  }

  // ---- the execution loop ------------------------------------------------------------------

  /** Loads an execution into memory (once, even when asked concurrently). */
  private async load(arn: string): Promise<Live | undefined> {
    const cached = this.live.get(arn);
    if (cached) return cached;
    let p = this.loading.get(arn);
    if (p === undefined) {
      p = (async () => {
        // With several nodes, only the lease holder may advance an execution.
        const token = this.shared
          ? await this.shared.acquireLease(arn, this.nodeId, this.leaseTtl)
          : undefined;
        if (this.shared && token === undefined) return undefined;
        const release = () =>
          this.shared ? void this.shared.releaseLease(arn, this.nodeId).catch(() => false) : undefined;
        let live: Live;
        try {
          const loaded = await this.store.loadState(arn);
          const text = loaded === undefined ? undefined : await this.store.getDefinition(loaded.definitionId);
          const state = loaded === undefined ? undefined : restoredState(loaded);
          if (
            loaded === undefined ||
            text === undefined ||
            state === undefined ||
            state.status !== 'RUNNING'
          ) {
            release();
            return undefined;
          }
          live = {
            arn,
            def: this.compiled(loaded.definitionId, text),
            state,
            version: loaded.version,
            queue: [],
            busy: false,
            running: new Map(),
            done: [],
            fencingToken: token,
            log: await this.logSettingsFor(state.init.stateMachineVersionArn ?? state.init.stateMachineArn),
          };
        } catch (e) {
          // A lease kept after a failed load would be renewed for ever with nobody running the
          // execution (see startExecution): let it go, so this node or another adopts it later.
          release();
          throw e;
        }
        this.live.set(arn, live);
        if (this.shared) this.interrupted(live);
        return live;
      })().finally(() => this.loading.delete(arn));
      this.loading.set(arn, p);
    }
    return p;
  }

  /** Queues an event for an execution and works it off. */
  private deliver(arn: string, event: InputEvent): void {
    // A timer another node holds the execution for is that node's to fire (its poller sees it).
    if (event.type === 'timerFired' && this.shared) {
      void this.load(arn)
        .then((live) => {
          if (live === undefined) return;
          live.queue.push(event);
          return this.process(live);
        })
        .catch((e: unknown) => this.report(arn, e));
      return;
    }
    // Most events are for an execution in memory: no load to wait for.
    const live = this.live.get(arn);
    if (live !== undefined) {
      live.queue.push(event);
      void this.process(live).catch((e: unknown) => this.report(arn, e));
      return;
    }
    void this.deliverAndWait(arn, event, false).catch((e: unknown) => this.report(arn, e));
  }

  /** Queues an event; resolves when it is committed (and, with `untilDone`, when the execution ends). */
  private async deliverAndWait(arn: string, event: InputEvent, untilDone = true): Promise<void> {
    let live = await this.load(arn);
    // Another node holds the execution for now: wait for it to let go (it does once idle).
    for (let wait = 20; live === undefined && this.shared && !this.closed && wait < 20_000; wait *= 2) {
      await new Promise((r) => setTimeout(r, wait));
      live = await this.load(arn);
    }
    if (live === undefined) return;
    const finished = untilDone ? new Promise<void>((r) => live.done.push(r)) : undefined;
    live.queue.push(event);
    await this.process(live);
    if (finished && live.state.status === 'RUNNING') {
      // Stop, or another event that ends the execution, is committed by the current run.
      await Promise.race([finished, new Promise((r) => setTimeout(r, 100))]);
    }
  }

  /**
   * With several nodes, activities are created and deleted through any of them: before a step
   * (the interpreter asks `activityExists` synchronously) the activities the definition names
   * are looked up again in the store once their answer is over a second old.
   */
  private async refreshActivities(def: CompiledDefinition): Promise<void> {
    const now = Date.now();
    for (const arn of activitiesOf(def)) {
      const checked = this.activityChecks.get(arn);
      if (checked !== undefined && now - checked < ACTIVITY_CHECK_MS) continue;
      const found = (await this.store.getActivity(arn)) !== undefined;
      if (found) this.activities.add(arn);
      else this.activities.delete(arn);
      this.activityChecks.set(arn, now);
    }
  }

  private report(arn: string, e: unknown): void {
    process.emitWarning(`stepwise: execution ${arn}: ${e instanceof Error ? e.message : String(e)}`);
  }

  /**
   * Applies the next queued event and submits its write: the commit's promise, the commands to
   * carry out once it lands, and the stored events when the execution is logged. Undefined when
   * the step changed nothing.
   */
  private stepOnce(live: Live): Stepped | undefined | Promise<Stepped | undefined> {
    const event = live.queue.shift()!;
    const state = live.state;
    const before = { timers: Object.keys(state.timers), tasks: Object.keys(state.tasks) };
    const settled = this.settle(live.def, state, step(live.def, state, event, this.env));
    return settled instanceof Promise
      ? settled.then((r) => this.submitStep(live, before, r))
      : this.submitStep(live, before, settled);
  }

  private submitStep(
    live: Live,
    before: { timers: readonly string[]; tasks: readonly string[] },
    { events, commands }: StepResult,
  ): Stepped | undefined {
    if (events.length === 0 && commands.length === 0) return undefined;
    const state = live.state;
    const write: StepWrite & { fencingToken?: number } = this.changes(
      state,
      before,
      events,
      commands,
      live.arn,
      live.version,
    );
    // With several nodes, the store refuses a write whose lease was taken over.
    if (live.fencingToken !== undefined) write.fencingToken = live.fencingToken;
    const logged = live.log !== undefined ? write.events : undefined;
    return { committed: this.committer.submit(write), commands, logged };
  }

  /** Applies queued events one by one: step, settle, commit, then effects. */
  private async process(live: Live): Promise<void> {
    if (live.busy) return;
    live.busy = true;
    try {
      for (;;) {
        if (live.queue.length === 0 || live.state.status !== 'RUNNING') break;
        // Definitions without activities (most) cost no extra turn of the step loop.
        if (this.shared && activitiesOf(live.def).length > 0) await this.refreshActivities(live.def);
        const next = this.stepOnce(live);
        const stepped = next instanceof Promise ? await next : next;
        if (stepped === undefined) continue;
        // Only the commands (and the events, when logged) are held while the commit is under way:
        // with a thousand executions in flight, whatever a step keeps until then outlives young
        // GCs and is copied and promoted (measured: most of the engine thread's GC time).
        const { commands, logged } = stepped;
        const ok = await stepped.committed;
        if (!ok) {
          // Someone else wrote this execution: our copy is stale.
          this.evict(live);
          return;
        }
        live.version++;
        if (logged !== undefined) this.writeLog(live, logged);
        this.effects(live, commands);
      }
    } catch (e) {
      // The in-memory state may be ahead of the store: forget it; the store is the truth.
      this.evict(live);
      throw e;
    } finally {
      live.busy = false;
    }
    if (live.state.status !== 'RUNNING') {
      for (const d of live.done.splice(0)) d();
      if (this.nestedWatch.has(live.arn)) void this.childEnded(live.arn);
    }
    this.maybeEvict(live);
  }

  // ---- arn:aws:states:::aws-sdk:sfn:<action>: a state machine calling this engine's own API ----

  private async sfnSdk(parentArn: string, task: TaskRequest, action: string): Promise<void> {
    const p = isJsonObject(task.input) ? task.input : {};
    const str = (k: string): string => (typeof p[k] === 'string' ? p[k] : '');
    const opt = (k: string): string | undefined => (typeof p[k] === 'string' ? p[k] : undefined);
    let output: JsonObject;
    try {
      switch (action) {
        case 'getActivityTask': {
          const t = await this.getActivityTask({
            activityArn: str('ActivityArn'),
            workerName: opt('WorkerName'),
          });
          output = {};
          if (t.taskToken !== undefined) output.TaskToken = t.taskToken;
          if (t.input !== undefined) output.Input = t.input;
          break;
        }
        case 'sendTaskSuccess':
          await this.sendTaskSuccess({ taskToken: str('TaskToken'), output: str('Output') });
          output = {};
          break;
        case 'sendTaskFailure':
          await this.sendTaskFailure({
            taskToken: str('TaskToken'),
            error: opt('Error'),
            cause: opt('Cause'),
          });
          output = {};
          break;
        case 'sendTaskHeartbeat':
          await this.sendTaskHeartbeat({ taskToken: str('TaskToken') });
          output = {};
          break;
        case 'startExecution': {
          const input =
            p.Input === undefined
              ? undefined
              : typeof p.Input === 'string'
                ? p.Input
                : stringifyJson(p.Input);
          const r = await this.startExecution({
            stateMachineArn: str('StateMachineArn'),
            name: opt('Name'),
            input,
          });
          // The AWS SDK integrations write dates as ISO-8601 text.
          output = { ExecutionArn: r.executionArn, StartDate: new Date(r.startDate).toISOString() };
          break;
        }
        case 'describeExecution': {
          const d = await this.describeExecution(str('ExecutionArn'));
          output = {
            ExecutionArn: d.executionArn,
            StateMachineArn: d.stateMachineArn,
            Name: d.name,
            Status: d.status,
            StartDate: new Date(d.startDate).toISOString(),
            Input: d.input,
          };
          if (d.stopDate !== undefined) output.StopDate = new Date(d.stopDate).toISOString();
          if (d.output !== undefined) output.Output = d.output;
          if (d.error !== undefined) output.Error = d.error;
          if (d.cause !== undefined) output.Cause = d.cause;
          if (d.redriveCount !== undefined) output.RedriveCount = d.redriveCount;
          if (d.redriveStatus !== undefined) output.RedriveStatus = d.redriveStatus;
          if (d.redriveStatusReason !== undefined) output.RedriveStatusReason = d.redriveStatusReason;
          break;
        }
        case 'stopExecution': {
          const r = await this.stopExecution({
            executionArn: str('ExecutionArn'),
            ...(opt('Error') ? { error: str('Error') } : {}),
            ...(opt('Cause') ? { cause: str('Cause') } : {}),
          });
          output = { StopDate: new Date(r.stopDate).toISOString() };
          break;
        }
        default: {
          if (this.dispatcher.aws) {
            // Other actions go to AWS Step Functions itself.
            const o = await this.dispatcher.dispatch(task, () => new AbortController().signal);
            this.deliver(parentArn, outcomeEvent(task.taskId, o));
            return;
          }
          this.deliver(parentArn, {
            type: 'taskFailed',
            taskId: task.taskId,
            error: 'States.TaskFailed',
            cause: `Stepwise serves aws-sdk:sfn:${action} only through pass-through to AWS, which is not configured.`,
          });
          return;
        }
      }
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e;
      this.deliver(parentArn, {
        type: 'taskFailed',
        taskId: task.taskId,
        error: `Sfn.${e.code}Exception`,
        cause: `${e.message} (Service: Sfn, Status Code: 400, Request ID: ${randomUUID()}) (SDK Attempt Count: 1)`,
      });
      return;
    }
    this.deliver(parentArn, { type: 'taskSucceeded', taskId: task.taskId, output });
  }

  // ---- nested executions (arn:aws:states:::states:startExecution[.sync[:2]|.waitForTaskToken]) ----

  /** Child executions a parent waits for (.sync), by child ARN; and the reverse, by parent task. */
  private readonly nestedWatch = new Map<string, { parentArn: string; taskId: string; pattern: string }>();
  private readonly nestedByTask = new Map<string, string>();

  /** The child's name: given, or derived from the parent task so that a restart restarts nothing new. */
  private nestedTarget(parentArn: string, task: TaskRequest): { smArn: string; name: string; input: string } {
    const p = isJsonObject(task.input) ? task.input : {};
    const smArn = typeof p.StateMachineArn === 'string' ? p.StateMachineArn : '';
    const given = p.Name;
    const name =
      typeof given === 'string'
        ? given
        : createHash('sha256').update(`${parentArn}\n${task.taskId}`).digest('hex').slice(0, 32);
    // No Input (or null) starts the child with `{}`.
    const givenInput = p.Input ?? null;
    const input =
      givenInput === null ? '{}' : typeof givenInput === 'string' ? givenInput : stringifyJson(givenInput);
    return { smArn, name, input };
  }

  private async startNested(parentArn: string, task: TaskRequest, pattern: string): Promise<void> {
    const target = this.nestedTarget(parentArn, task);
    let started: { executionArn: string; startDate: number };
    try {
      started = await this.startExecution({
        stateMachineArn: target.smArn,
        name: target.name,
        input: target.input,
      });
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e;
      this.deliver(parentArn, {
        type: 'taskFailed',
        taskId: task.taskId,
        error: `StepFunctions.${e.code}Exception`,
        cause: `${e.message} (Service: AWSStepFunctions; Status Code: 400; Error Code: ${e.code}; Request ID: ${randomUUID()}; Proxy: null)`,
      });
      return;
    }
    const response = { ExecutionArn: started.executionArn, StartDate: started.startDate, ...sdkMetadata() };
    if (pattern === 'request') {
      this.deliver(parentArn, { type: 'taskSucceeded', taskId: task.taskId, output: response });
    } else {
      // .sync and .waitForTaskToken record the start as TaskSubmitted, then wait.
      this.deliver(parentArn, { type: 'taskSubmitted', taskId: task.taskId, output: response });
      if (pattern !== 'waitForTaskToken')
        this.watchChild(started.executionArn, parentArn, task.taskId, pattern);
    }
  }

  private watchChild(childArn: string, parentArn: string, taskId: string, pattern: string): void {
    this.nestedWatch.set(childArn, { parentArn, taskId, pattern });
    this.nestedByTask.set(`${parentArn}\n${taskId}`, childArn);
    // The child may already have ended (a short machine runs to its end when it starts).
    void this.childEnded(childArn);
  }

  /** A watched child ended: its DescribeExecution becomes the parent task's result. */
  private async childEnded(childArn: string): Promise<void> {
    const watch = this.nestedWatch.get(childArn);
    if (watch === undefined) return;
    const d = await this.store.getExecution(childArn);
    if (d === undefined || d.status === 'RUNNING' || this.nestedWatch.get(childArn) !== watch) return;
    this.nestedWatch.delete(childArn);
    this.nestedByTask.delete(`${watch.parentArn}\n${watch.taskId}`);
    const parsed = watch.pattern === 'sync:2';
    const asValue = (text: string | undefined): JsonValue => {
      if (text === undefined) return null;
      if (!parsed) return text;
      try {
        return parseJsonKeepingText(text);
      } catch {
        return text;
      }
    };
    const out: JsonObject = {
      ExecutionArn: d.executionArn,
      Input: asValue(d.input),
      InputDetails: { Included: true },
      Name: d.name,
      StartDate: d.startDate,
      StateMachineArn: d.stateMachineArn,
      Status: d.status,
      StopDate: d.stopDate ?? Date.now(),
    };
    if (d.status === 'SUCCEEDED') {
      out.Output = asValue(d.output);
      out.OutputDetails = { Included: true };
      this.deliver(watch.parentArn, { type: 'taskSucceeded', taskId: watch.taskId, output: out });
    } else {
      if (d.error !== undefined) out.Error = d.error;
      if (d.cause !== undefined) out.Cause = d.cause;
      this.deliver(watch.parentArn, {
        type: 'taskFailed',
        taskId: watch.taskId,
        error: 'States.TaskFailed',
        cause: JSON.stringify(out),
      });
    }
  }

  /** Runs JSONata evaluations to their end before anything is committed (transitions stay atomic). */
  private settle(
    def: CompiledDefinition,
    state: ExecutionState,
    first: StepResult,
  ): StepResult | Promise<StepResult> {
    // Most steps await nothing: no copies, and no turn of the event loop, then.
    if (!first.commands.some((c) => c.kind === 'await')) return first;
    return this.settleAwaits(def, state, first);
  }

  private async settleAwaits(
    def: CompiledDefinition,
    state: ExecutionState,
    first: StepResult,
  ): Promise<StepResult> {
    const events = [...first.events];
    const commands: Command[] = [];
    let pending = first.commands;
    for (;;) {
      const awaits: Extract<Command, { kind: 'await' }>[] = [];
      for (const c of pending) {
        if (c.kind === 'await') awaits.push(c);
        else commands.push(c);
      }
      if (awaits.length === 0) break;
      pending = [];
      for (const a of awaits) {
        const outcome: unknown = await a.outcome;
        const r = step(
          def,
          state,
          { type: 'evaluated', frameId: a.frameId, token: a.token, outcome },
          this.env,
        );
        events.push(...r.events);
        pending.push(...r.commands);
      }
    }
    return { events, commands };
  }

  /** The store write of one settled step. */
  private changes(
    state: ExecutionState,
    before: { timers: readonly string[]; tasks: readonly string[] },
    events: HistoryEvent[],
    commands: Command[],
    executionArn: string,
    expectedVersion: number,
  ): StepWrite {
    const timersSet: { timerId: string; dueTime: number }[] = [];
    const tasksAdded: NewTask[] = [];
    const now = Date.now();
    for (const c of commands) {
      if (c.kind === 'startTimer' && state.timers[c.timerId] !== undefined) {
        timersSet.push({ timerId: c.timerId, dueTime: this.scaledDue(state, c.timerId, c.dueTime, now) });
      } else if (c.kind === 'invokeTask' && state.tasks[c.task.taskId] !== undefined) {
        const r = parseResource(c.task.resource);
        tasksAdded.push({
          taskId: c.task.taskId,
          request: c.task,
          token: c.task.taskToken,
          activityArn: r.kind === 'activity' ? r.activityArn : undefined,
        });
      }
    }
    const timersRemoved = before.timers.filter((t) => state.timers[t] === undefined);
    const tasksRemoved = before.tasks.filter((t) => state.tasks[t] === undefined);
    const changes: StepWrite = {
      executionArn,
      expectedVersion,
      state: storedState(state),
      status: state.status,
      events: events.map(toStoredEvent),
      timersSet,
      timersRemoved,
      tasksAdded,
      tasksRemoved,
    };
    if (state.status !== 'RUNNING') {
      changes.stopDate = state.stopTime ?? now;
      if (state.status === 'SUCCEEDED') changes.output = stringifyJson(state.output ?? null);
      if (state.error !== undefined) changes.error = state.error;
      if (state.cause !== undefined) changes.cause = state.cause;
    }
    return changes;
  }

  /** Waits and retry delays follow `waitScale`; timeouts stay in real time. */
  private scaledDue(state: ExecutionState, timerId: string, due: number, now: number): number {
    const purpose = state.timers[timerId];
    if (this.scale === 1 || (purpose?.kind !== 'wait' && purpose?.kind !== 'retry')) return due;
    return Math.round(now + Math.max(0, due - now) * this.scale);
  }

  /** Carries out a committed step's commands. */
  private effects(live: Live, commands: Command[]): void {
    for (const c of commands) {
      switch (c.kind) {
        case 'invokeTask':
          if (live.state.tasks[c.task.taskId] !== undefined) this.startTask(live, c.task);
          break;
        case 'cancelTask': {
          const ac = live.running.get(c.taskId);
          live.running.delete(c.taskId);
          ac?.abort();
          this.jobs.cancel(live.arn, c.taskId);
          // Aborting a parent aborts the child it waits for (.sync).
          const child = this.nestedByTask.get(`${live.arn}\n${c.taskId}`);
          if (child !== undefined) {
            this.nestedByTask.delete(`${live.arn}\n${c.taskId}`);
            this.nestedWatch.delete(child);
            void this.stopExecution({
              executionArn: child,
              error: 'States.Aborted',
              cause: 'The parent execution stopped.',
            }).catch(() => undefined);
          }
          break;
        }
        case 'startTimer': {
          const due = this.scaledDue(live.state, c.timerId, c.dueTime, Date.now());
          if (live.state.timers[c.timerId] !== undefined && due - Date.now() <= TIMER_HORIZON_MS)
            this.arm(live.arn, c.timerId, due);
          break;
        }
        case 'cancelTimer': {
          const key = `${live.arn}\n${c.timerId}`;
          const t = this.armed.get(key);
          if (t) clearTimeout(t);
          this.armed.delete(key);
          break;
        }
        case 'await':
          throw new Error('evaluations are settled before commit');
      }
    }
  }

  private startTask(live: Live, task: TaskRequest): void {
    const r = parseResource(task.resource);
    const context = { executionArn: live.arn, stateMachineArn: live.state.init.stateMachineArn };
    // A #TestCase execution's mocked state: the mocked response is the result whatever serves the
    // resource (callbacks, .sync, activities and nested executions too), as in Step Functions
    // Local. Asked here, once; the dispatcher then gets no test case and does not ask again.
    const testCase = live.state.init.testCase;
    if (testCase !== undefined && task.itemReader !== true && task.resultWriter !== true) {
      const mocked = this.dispatcher.mockedOutcome(task, { ...context, testCase });
      if (mocked !== undefined) {
        this.deliver(live.arn, outcomeEvent(task.taskId, mocked));
        return;
      }
    }
    const job = this.dispatcher.syncJob(task.resource);
    if (job !== undefined) {
      this.jobs.run(live.arn, job, task);
      return;
    }
    if (r.kind === 'activity') {
      for (const w of this.activityWaiters.get(r.activityArn) ?? []) w();
      return;
    }
    if (r.kind === 'service' && r.resourceType === 'states' && r.action === 'startExecution') {
      void this.startNested(live.arn, task, r.pattern);
      return;
    }
    if (r.kind === 'service' && r.resourceType === 'aws-sdk:sfn' && r.pattern === 'request') {
      void this.sfnSdk(live.arn, task, r.action);
      return;
    }
    let controller: AbortController | undefined;
    live.running.set(task.taskId, undefined);
    const signal = () => {
      controller ??= new AbortController();
      live.running.set(task.taskId, controller);
      return controller.signal;
    };
    const callback = r.kind === 'service' && r.pattern === 'waitForTaskToken';
    const work: Promise<TaskOutcome> = callback
      ? this.dispatcher.submitCallback(task, signal, context)
      : this.dispatcher.dispatch(task, signal, context);
    const settled = work.then(
      (outcome) => {
        if (!live.running.has(task.taskId)) return;
        live.running.delete(task.taskId);
        this.deliver(
          live.arn,
          callback && outcome.ok
            ? { type: 'taskSubmitted', taskId: task.taskId, output: outcome.output }
            : outcomeEvent(task.taskId, outcome),
        );
      },
      (e: unknown) => {
        live.running.delete(task.taskId);
        this.deliver(live.arn, thrownEvent(task.taskId, e));
      },
    );
    if (callback) {
      // A worker may answer the token before the request's response is back (an SQS consumer):
      // SendTask* waits for it, so TaskSubmitted is recorded first, as AWS does.
      const key = `${live.arn}\n${task.taskId}`;
      this.submitting.set(key, settled);
      void settled.finally(() => this.submitting.delete(key));
    }
  }

  private arm(arn: string, timerId: string, due: number): void {
    const key = `${arn}\n${timerId}`;
    if (this.armed.has(key) || this.closed) return;
    const fire = () => {
      // setTimeout may run a millisecond before Date.now() reaches `due`: never fire early.
      const left = due - Date.now();
      if (left > 0) {
        this.armed.set(key, setTimeout(fire, left));
        return;
      }
      this.armed.delete(key);
      this.deliver(arn, { type: 'timerFired', timerId });
    };
    this.armed.set(key, setTimeout(fire, Math.max(0, due - Date.now())));
  }

  /** Finds timers that came due (set before a restart, or beyond the horizon) and arms them. */
  private schedulePoll(delay: number): void {
    if (this.closed) return;
    this.poller = setTimeout(() => {
      void (async () => {
        try {
          const due = await this.store.dueTimers(Date.now() + TIMER_HORIZON_MS, 1000);
          for (const t of due) this.arm(t.executionArn, t.timerId, t.dueTime);
        } catch (e) {
          if (!this.closed) this.report('(timers)', e);
        }
        this.schedulePoll(TIMER_HORIZON_MS / 2);
      })();
    }, delay);
    this.poller.unref();
  }

  /** Keeps only executions with work in flight in memory: waiting ones cost disk, not memory. */
  private maybeEvict(live: Live): void {
    if (live.busy || live.queue.length > 0 || live.running.size > 0) return;
    if (
      live.state.status === 'RUNNING' &&
      Object.values(live.state.frames).some((f) => f.phase === 'evaluating')
    )
      return;
    this.evict(live);
  }

  private evict(live: Live, release = true): void {
    if (this.live.get(live.arn) !== live) return;
    this.live.delete(live.arn);
    if (this.shared && release) void this.shared.releaseLease(live.arn, this.nodeId).catch(() => false);
  }

  // ---- several nodes on one store (leases, ADR 0006) ----------------------------------------

  private async startSharing(): Promise<void> {
    const shared = this.shared!;
    const tick = async () => {
      try {
        const held = new Set(await shared.renewLeases(this.nodeId, this.leaseTtl));
        // A lease we lost (we stalled): another node may advance it; our copy is stale.
        for (const l of [...this.live.values()]) if (!held.has(l.arn) && !l.busy) this.evict(l, false);
        for (const arn of await shared.listUnleasedExecutions(100)) {
          if (!this.live.has(arn)) void this.adopt(arn).catch((e: unknown) => this.report(arn, e));
        }
      } catch (e) {
        if (!this.closed) this.report('(leases)', e);
      }
    };
    this.leaseTimer = setInterval(() => void tick(), Math.max(50, this.leaseTtl / 3));
    this.leaseTimer.unref();
    if (typeof shared.listen === 'function' && shared.workChannel) {
      // Wake up when another node queues work due soon (timers, activity tasks).
      this.unlisten = await shared.listen(shared.workChannel, () => {
        this.schedulePoll(0);
        for (const waiters of this.activityWaiters.values()) for (const w of waiters) w();
      });
    }
    await tick();
  }

  /** Takes over an execution nobody holds (its node died): interrupted work is failed, as after a restart. */
  private async adopt(arn: string): Promise<void> {
    const live = await this.load(arn);
    if (live === undefined) return;
    await this.process(live);
  }

  /**
   * Tasks of a freshly leased execution that no process runs any more (local work of a node that
   * died) are failed with a recorded cause; `.sync` children are watched again.
   */
  private interrupted(live: Live): void {
    for (const [taskId, frameId] of Object.entries(live.state.tasks)) {
      const frame = live.state.frames[frameId];
      if (frame === undefined || live.running.has(taskId)) continue;
      const state = live.def.machines[frame.machineId]?.states.get(frame.stateName);
      if (state?.type === 'Map') {
        // A distributed Map's S3 work: a result write is sent again, an item read is failed.
        if (frame.resultWrite !== undefined) this.rewrite(live.arn, frame.resultWrite.request);
        else
          live.queue.push({
            type: 'taskFailed',
            taskId,
            error: 'States.TaskFailed',
            cause: INTERRUPTED_CAUSE,
          });
        continue;
      }
      if (state?.type !== 'Task') continue;
      const r = parseResource(state.resource);
      if (
        r.kind === 'service' &&
        r.resourceType === 'states' &&
        (r.pattern === 'sync' || r.pattern === 'sync:2')
      ) {
        const request = { taskId, resource: state.resource, input: frame.taskInput ?? null } as TaskRequest;
        const target = this.nestedTarget(live.arn, request);
        const smName = target.smArn.split(':')[6] ?? '';
        this.watchChild(
          `arn:aws:states:${this.region}:${this.account}:execution:${smName}:${target.name}`,
          live.arn,
          taskId,
          r.pattern,
        );
      } else if (this.dispatcher.syncJob(state.resource)) {
        const request = { taskId, resource: state.resource, input: frame.taskInput ?? null } as TaskRequest;
        void this.jobs.resume(live.arn, request).catch((e: unknown) => this.report(live.arn, e));
      } else if (isLocalTask(state.resource)) {
        live.queue.push({ type: 'taskFailed', taskId, error: 'States.TaskFailed', cause: INTERRUPTED_CAUSE });
      }
    }
  }

  /**
   * A distributed Map's result write that was under way when its process stopped: it is sent
   * again (the same objects, so the same files), and its outcome delivered as a task's.
   */
  private rewrite(arn: string, task: TaskRequest): void {
    const parts = arn.split(':');
    const stateMachineArn = [...parts.slice(0, 5), 'stateMachine', parts[6] ?? ''].join(':');
    this.dispatcher.dispatch(task, new AbortController().signal, { executionArn: arn, stateMachineArn }).then(
      (outcome) => this.deliver(arn, outcomeEvent(task.taskId, outcome)),
      (e: unknown) => this.deliver(arn, thrownEvent(task.taskId, e)),
    );
  }

  /**
   * After a restart: a local task that was running has an unknown outcome. Its attempt is
   * failed with a recorded cause, so the state's Retry (or Catch) decides what happens next;
   * nothing runs twice silently. Callback and activity tasks keep waiting for their token.
   */
  private async recover(): Promise<void> {
    let nextToken: string | undefined;
    do {
      const page = await this.store.listTasks({ limit: 500, nextToken });
      for (const t of page.items) {
        const r = parseResource(t.request.resource);
        if (
          r.kind === 'service' &&
          r.resourceType === 'states' &&
          (r.pattern === 'sync' || r.pattern === 'sync:2')
        ) {
          const target = this.nestedTarget(t.executionArn, t.request);
          const smName = target.smArn.split(':')[6] ?? '';
          const childArn = `arn:aws:states:${this.region}:${this.account}:execution:${smName}:${target.name}`;
          this.watchChild(childArn, t.executionArn, t.taskId, r.pattern);
          continue;
        }
        if (t.request.resultWriter === true) {
          this.rewrite(t.executionArn, t.request);
          continue;
        }
        if (this.dispatcher.syncJob(t.request.resource)) {
          void this.jobs
            .resume(t.executionArn, t.request)
            .catch((e: unknown) => this.report(t.executionArn, e));
          continue;
        }
        const local =
          r.kind === 'lambda' ||
          (r.kind === 'service' && r.pattern !== 'waitForTaskToken') ||
          r.kind === 'unknown';
        if (t.status === 'running' && local) {
          this.deliver(t.executionArn, {
            type: 'taskFailed',
            taskId: t.taskId,
            error: 'States.TaskFailed',
            cause: INTERRUPTED_CAUSE,
          });
        }
      }
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
  }
}

/**
 * The state as each step writes it: `init` and `input` never change after the start, so they are
 * stored once (the create's `fixed`, the execution's input) instead of in every write; for a
 * 10-task chain they were 43% of the state text, and a large input was rewritten on every step.
 */
function storedState(state: ExecutionState): unknown {
  return { ...state, init: undefined, input: undefined };
}

/** The state `storedState` wrote, made whole again (an execution stored before keeps both inside). */
function restoredState(loaded: LoadedState): ExecutionState {
  const state = loaded.state as ExecutionState;
  if (state.init === undefined && loaded.fixed !== undefined) {
    state.init = loaded.fixed as ExecutionState['init'];
    state.input = parseJsonKeepingText(loaded.input);
  }
  return state;
}

export type { StepFunctionsEngine };

/** AWS: a version description needs `publish`. */
function checkVersionDescription(publish: boolean | undefined, description: string | undefined): void {
  if (description !== undefined && !publish)
    throw new ServiceError(
      ApiErrors.ValidationException,
      'Version description can only be set when publish is true',
    );
}

/** The route that `r` (in [0, 1)) falls in, the routes' weights being percentages summing to 100. */
export function pickRoute(routes: readonly AliasRoute[], r: number): string {
  let at = r * 100;
  for (const route of routes) {
    if (at < route.weight) return route.stateMachineVersionArn;
    at -= route.weight;
  }
  // Only reached through rounding at the very top: the last route with any weight.
  return (
    [...routes].reverse().find((x) => x.weight > 0)?.stateMachineVersionArn ??
    routes[0]!.stateMachineVersionArn
  );
}

function sameRoutes(a: readonly AliasRoute[], b: readonly AliasRoute[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => x.stateMachineVersionArn === b[i]?.stateMachineVersionArn && x.weight === b[i]?.weight)
  );
}
