/**
 * The in-memory runtime: drives one execution of the pure interpreter to its end, carrying out
 * its commands (task invocations, timers) in this process. No durability: this is the engine of
 * `stepwise run`, of the library API and of Express-style runs.
 */
import { randomUUID } from 'node:crypto';
import { startExecution, step } from '../interpreter/interpreter.js';
import type {
  Command,
  ExecutionInit,
  ExecutionState,
  HistoryEvent,
  InputEvent,
  InterpreterEnv,
  StepResult,
} from '../interpreter/types.js';
import type { CompiledDefinition } from '../language/model.js';
import { outcomeEvent, thrownEvent, type TaskDispatcher } from './dispatcher.js';

export interface LocalExecutionOptions {
  dispatcher: TaskDispatcher;
  /**
   * Time scale for waits, retries and timeouts: 1 is real time, 0.01 runs them 100× faster,
   * 0 skips them (virtual time jumps ahead whenever no task is running).
   */
  waitScale?: number;
  random?: () => number;
  uuid?: () => string;
  /** Stops the execution (ABORTED) when aborted. */
  signal?: AbortSignal;
  /**
   * Stops the execution (ABORTED) once it has run this long in real time (Express's five
   * minutes). The timer is armed only when the execution first waits: most runs never need one.
   */
  timeLimitMs?: number;
  /** Called with each step's history events as they happen (with `recordHistory`). */
  onEvents?: (events: HistoryEvent[]) => void;
}

export interface LocalExecutionResult {
  state: ExecutionState;
  events: HistoryEvent[];
}

// setTimeout's longest delay; longer timers are re-armed when it fires.
const MAX_TIMER_MS = 2 ** 31 - 1;

export function runLocalExecution(
  def: CompiledDefinition,
  init: ExecutionInit,
  options: LocalExecutionOptions,
): Promise<LocalExecutionResult> {
  return new LocalExecution(def, init, options).run();
}

/** A running task: its AbortController exists only once someone asked for the signal. */
interface RunningTask {
  controller: AbortController | undefined;
  cancelled: boolean;
}

class LocalExecution {
  private readonly scale: number;
  private readonly env: InterpreterEnv;
  private readonly origin = Date.now();
  /** Virtual time gained by skipping waits (waitScale 0). */
  private skipped = 0;
  private readonly timers = new Map<string, { due: number; handle: NodeJS.Timeout | undefined }>();
  private readonly tasks = new Map<string, RunningTask>();
  private readonly queue: InputEvent[] = [];
  private readonly events: HistoryEvent[] = [];
  private state: ExecutionState | undefined;
  private draining = false;
  private skipScheduled = false;
  private limitTimer: NodeJS.Timeout | undefined;
  private finish: ((r: LocalExecutionResult) => void) | undefined;
  private fail: ((e: Error) => void) | undefined;

  constructor(
    private readonly def: CompiledDefinition,
    private readonly init: ExecutionInit,
    private readonly options: LocalExecutionOptions,
  ) {
    const scale = options.waitScale ?? 1;
    if (!(scale >= 0) || !Number.isFinite(scale))
      throw new RangeError('waitScale must be a finite number >= 0');
    this.scale = scale;
    this.env = {
      now: () => this.now(),
      random: options.random ?? Math.random,
      uuid: options.uuid ?? randomUUID,
    };
  }

  /** Virtual now: real time, sped up by the scale and moved ahead by skipped waits. */
  private now(): number {
    const real = Date.now();
    const elapsed =
      this.scale > 0 && this.scale !== 1 ? (real - this.origin) / this.scale : real - this.origin;
    return this.origin + elapsed + this.skipped;
  }

  run(): Promise<LocalExecutionResult> {
    return new Promise<LocalExecutionResult>((resolve, reject) => {
      this.finish = resolve;
      this.fail = reject;
      try {
        const { state, result } = startExecution(this.def, this.init, this.env);
        this.state = state;
        const signal = this.options.signal;
        if (signal !== undefined) this.watch(signal, resolve);
        this.draining = true;
        this.apply(result);
        this.draining = false;
        if (signal?.aborted) this.deliver({ type: 'stop', error: undefined, cause: undefined });
        this.drain();
      } catch (e) {
        this.shutdown();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /**
   * Stops the execution when the signal aborts. In its own function on purpose: a closure over
   * `this` made in `run`'s executor kept each finished execution alive through the next young
   * GC (measured: ~1 MB promoted per scavenge and 2–5 ms pauses in a loop of short runs).
   */
  private watch(signal: AbortSignal, resolve: (r: LocalExecutionResult) => void): void {
    const onAbort = () => this.deliver({ type: 'stop', error: undefined, cause: undefined });
    signal.addEventListener('abort', onAbort, { once: true });
    this.finish = (r) => {
      signal.removeEventListener('abort', onAbort);
      resolve(r);
    };
  }

  /** Feeds an event; events arriving while one is being applied wait their turn. */
  private deliver(event: InputEvent): void {
    this.queue.push(event);
    if (!this.draining) this.drain();
  }

  /** Applies queued events until none is left, then finishes or waits for tasks and timers. */
  private drain(): void {
    const state = this.state;
    if (state === undefined) return;
    this.draining = true;
    try {
      for (;;) {
        if (state.status !== 'RUNNING') {
          this.shutdown();
          this.finish?.({ state, events: this.events });
          this.finish = undefined;
          return;
        }
        const event = this.queue.shift();
        if (event === undefined) break;
        this.apply(step(this.def, state, event, this.env));
      }
    } catch (e) {
      this.shutdown();
      this.fail?.(e instanceof Error ? e : new Error(String(e)));
      this.finish = undefined;
      return;
    } finally {
      this.draining = false;
    }
    const limit = this.options.timeLimitMs;
    if (limit !== undefined && this.limitTimer === undefined) {
      this.limitTimer = setTimeout(
        () => this.deliver({ type: 'stop', error: undefined, cause: undefined }),
        Math.max(0, this.origin + limit - Date.now()),
      );
      // Like AbortSignal.timeout: the limit alone does not keep the process alive.
      this.limitTimer.unref();
    }
    // Idle with waits pending and no task running: in skip mode, jump to the next timer. This
    // goes through the macrotask queue so that tasks settling right now are seen first.
    if (this.scale === 0 && this.tasks.size === 0 && this.timers.size > 0 && !this.skipScheduled) {
      this.skipScheduled = true;
      setImmediate(() => {
        this.skipScheduled = false;
        if (this.tasks.size === 0 && this.queue.length === 0) this.skipToNextTimer();
        else this.drain();
      });
    }
  }

  private shutdown(): void {
    if (this.limitTimer !== undefined) clearTimeout(this.limitTimer);
    // Most runs end with nothing pending: no iterators to make then.
    if (this.timers.size > 0) {
      for (const t of this.timers.values()) if (t.handle) clearTimeout(t.handle);
      this.timers.clear();
    }
    if (this.tasks.size > 0) {
      for (const t of this.tasks.values()) this.cancel(t);
      this.tasks.clear();
    }
  }

  private skipToNextTimer(): void {
    let firstId: string | undefined;
    let firstDue = Infinity;
    for (const [id, t] of this.timers) {
      if (t.due < firstDue) {
        firstDue = t.due;
        firstId = id;
      }
    }
    if (firstId === undefined) return;
    const gap = firstDue - this.now();
    if (gap > 0) this.skipped += gap;
    this.fire(firstId);
  }

  private apply(result: StepResult): void {
    for (const e of result.events) this.events.push(e);
    if (result.events.length > 0) this.options.onEvents?.(result.events);
    for (const c of result.commands) this.command(c);
  }

  private cancel(task: RunningTask): void {
    task.cancelled = true;
    task.controller?.abort();
  }

  private command(c: Command): void {
    switch (c.kind) {
      case 'invokeTask': {
        const task: RunningTask = { controller: undefined, cancelled: false };
        const taskId = c.task.taskId;
        this.tasks.set(taskId, task);
        const signal = (): AbortSignal => {
          task.controller ??= new AbortController();
          if (task.cancelled) task.controller.abort();
          return task.controller.signal;
        };
        this.options.dispatcher.dispatch(c.task, signal).then(
          (outcome) => {
            if (this.tasks.get(taskId) !== task) return;
            this.tasks.delete(taskId);
            this.deliver(outcomeEvent(taskId, outcome));
          },
          (err: unknown) => {
            if (this.tasks.get(taskId) !== task) return;
            this.tasks.delete(taskId);
            this.deliver(thrownEvent(taskId, err));
          },
        );
        return;
      }
      case 'await': {
        // A JSONata evaluation: count it like a running task so waits are not skipped meanwhile.
        const key = `await-${c.frameId}-${c.token}`;
        const task: RunningTask = { controller: undefined, cancelled: false };
        this.tasks.set(key, task);
        c.outcome.then(
          (outcome) => {
            if (this.tasks.get(key) !== task) return;
            this.tasks.delete(key);
            this.deliver({ type: 'evaluated', frameId: c.frameId, token: c.token, outcome });
          },
          (err: unknown) => {
            this.tasks.delete(key);
            this.shutdown();
            this.fail?.(err instanceof Error ? err : new Error(String(err)));
            this.finish = undefined;
          },
        );
        return;
      }
      case 'cancelTask': {
        const task = this.tasks.get(c.taskId);
        if (task) {
          this.tasks.delete(c.taskId);
          this.cancel(task);
        }
        return;
      }
      case 'startTimer':
        this.timers.set(c.timerId, { due: c.dueTime, handle: undefined });
        this.arm(c.timerId);
        return;
      case 'cancelTimer': {
        const t = this.timers.get(c.timerId);
        if (t?.handle) clearTimeout(t.handle);
        this.timers.delete(c.timerId);
        return;
      }
    }
  }

  /**
   * Sets the real timer. In skip mode it still runs in real time (while tasks are in flight a
   * timeout must be able to fire), but does not keep the process alive.
   */
  private arm(timerId: string): void {
    const t = this.timers.get(timerId);
    if (t === undefined) return;
    const factor = this.scale === 0 ? 1 : this.scale;
    const delay = Math.max(0, (t.due - this.now()) * factor);
    t.handle = setTimeout(
      () => {
        const cur = this.timers.get(timerId);
        if (cur !== t) return;
        if (t.due > this.now() + 1) this.arm(timerId);
        else this.fire(timerId);
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    if (this.scale === 0) t.handle.unref();
  }

  private fire(timerId: string): void {
    const t = this.timers.get(timerId);
    if (t === undefined) return;
    if (t.handle) clearTimeout(t.handle);
    this.timers.delete(timerId);
    this.deliver({ type: 'timerFired', timerId });
  }
}
