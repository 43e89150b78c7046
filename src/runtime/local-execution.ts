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
import type { TaskDispatcher } from './dispatcher.js';

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

class LocalExecution {
  private readonly scale: number;
  private readonly env: InterpreterEnv;
  private readonly origin = Date.now();
  /** Virtual time gained by skipping waits (waitScale 0). */
  private skipped = 0;
  private readonly timers = new Map<string, { due: number; handle: NodeJS.Timeout | undefined }>();
  private readonly tasks = new Map<string, AbortController>();
  private readonly queue: InputEvent[] = [];
  private readonly events: HistoryEvent[] = [];
  private wake: (() => void) | undefined;

  constructor(
    private readonly def: CompiledDefinition,
    private readonly init: ExecutionInit,
    private readonly options: LocalExecutionOptions,
  ) {
    const scale = options.waitScale ?? 1;
    if (!(scale >= 0) || !Number.isFinite(scale)) throw new RangeError('waitScale must be a finite number >= 0');
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
    const elapsed = this.scale > 0 && this.scale !== 1 ? (real - this.origin) / this.scale : real - this.origin;
    return this.origin + elapsed + this.skipped;
  }

  async run(): Promise<LocalExecutionResult> {
    const { state, result } = startExecution(this.def, this.init, this.env);
    const signal = this.options.signal;
    const onAbort = () => this.enqueue({ type: 'stop', error: undefined, cause: undefined });
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    try {
      this.apply(result);
      while (state.status === 'RUNNING') {
        const event = this.queue.shift();
        if (event !== undefined) {
          this.apply(step(this.def, state, event, this.env));
          continue;
        }
        if (this.scale === 0 && this.tasks.size === 0 && this.timers.size > 0) {
          this.skipToNextTimer();
          continue;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      for (const t of this.timers.values()) if (t.handle) clearTimeout(t.handle);
      this.timers.clear();
      for (const ac of this.tasks.values()) ac.abort();
      this.tasks.clear();
    }
    return { state, events: this.events };
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

  private enqueue(event: InputEvent): void {
    this.queue.push(event);
    this.wake?.();
  }

  private apply(result: StepResult): void {
    for (const e of result.events) this.events.push(e);
    for (const c of result.commands) this.command(c);
  }

  private command(c: Command): void {
    switch (c.kind) {
      case 'invokeTask': {
        const ac = new AbortController();
        const taskId = c.task.taskId;
        this.tasks.set(taskId, ac);
        this.options.dispatcher.dispatch(c.task, ac.signal).then(
          (outcome) => {
            if (this.tasks.get(taskId) !== ac) return;
            this.tasks.delete(taskId);
            this.enqueue(
              outcome.ok
                ? { type: 'taskSucceeded', taskId, output: outcome.output }
                : { type: 'taskFailed', taskId, error: outcome.error, cause: outcome.cause },
            );
          },
          (err: unknown) => {
            if (this.tasks.get(taskId) !== ac) return;
            this.tasks.delete(taskId);
            this.enqueue({
              type: 'taskFailed',
              taskId,
              error: 'States.TaskFailed',
              cause: err instanceof Error ? err.message : String(err),
            });
          },
        );
        return;
      }
      case 'cancelTask': {
        const ac = this.tasks.get(c.taskId);
        if (ac) {
          this.tasks.delete(c.taskId);
          ac.abort();
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

  /** Sets the real timer; in skip mode it still runs in real time while tasks are in flight. */
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
    // Timers must not keep a finished process alive on their own.
    if (this.scale === 0) t.handle.unref();
  }

  private fire(timerId: string): void {
    const t = this.timers.get(timerId);
    if (t === undefined) return;
    if (t.handle) clearTimeout(t.handle);
    this.timers.delete(timerId);
    this.enqueue({ type: 'timerFired', timerId });
  }
}
