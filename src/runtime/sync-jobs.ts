/**
 * The durable side of the run-a-job pattern (`.sync`) of pass-through integrations
 * (`integrations/aws-sync.ts` knows the services): the engine hands a job task here; its start's
 * answer is delivered as TaskSubmitted, the job is polled until it ends and its outcome delivered
 * as the task's. Nothing here is stored: after a restart (or a lease takeover) `resume` finds the
 * start's answer in the history's TaskSubmitted event and polls again, so a job is never started
 * twice.
 */
import type { ExecutionState, InputEvent, TaskRequest } from '../interpreter/types.js';
import type { JsonValue } from '../language/json.js';
import { outcomeEvent, thrownEvent, type LocalTaskDispatcher } from './dispatcher.js';
import type { SyncJob } from './integrations/aws-sync.js';
import type { Store } from './store/types.js';

export interface SyncJobHost {
  dispatcher: LocalTaskDispatcher;
  store: Pick<Store, 'loadState' | 'history'>;
  /** Queues an event for an execution (the engine's `deliver`). */
  deliver(arn: string, event: InputEvent): void;
  /** The cause recorded when a start request's outcome was lost with the process. */
  interruptedCause: string;
}

interface Entry {
  controller: AbortController;
  job: SyncJob;
  task: TaskRequest;
  /** The start's answer, once it came. */
  submitted: JsonValue | undefined;
}

export class SyncJobs {
  /** Jobs being started or polled, by `executionArn \n taskId`. */
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(private readonly host: SyncJobHost) {}

  /** Starts the job; TaskSubmitted records the start's answer, then the job is polled. */
  run(arn: string, job: SyncJob, task: TaskRequest): void {
    const key = `${arn}\n${task.taskId}`;
    const entry: Entry = { controller: new AbortController(), job, task, submitted: undefined };
    this.entries.set(key, entry);
    void this.host.dispatcher.startJob(job, task, entry.controller.signal).then((outcome) => {
      if (this.closed) return;
      if (this.entries.get(key) !== entry) {
        // Cancelled while the start request was out: stop what it started.
        if (outcome.ok) void this.host.dispatcher.stopJob(job, task, outcome.output).catch(() => undefined);
        return;
      }
      if (!outcome.ok) {
        this.entries.delete(key);
        this.host.deliver(arn, {
          type: 'taskFailed',
          taskId: task.taskId,
          error: outcome.error,
          cause: outcome.cause,
        });
        return;
      }
      entry.submitted = outcome.output;
      this.host.deliver(arn, { type: 'taskSubmitted', taskId: task.taskId, output: outcome.output });
      this.poll(arn, entry);
    });
  }

  /**
   * The task ended without the job: cancelled (stop, timeout, a failed sibling: `stop` calls the
   * service's stop API) or answered through its token (`stop` false: the job runs on).
   */
  cancel(arn: string, taskId: string, stop = true): void {
    const key = `${arn}\n${taskId}`;
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    entry.controller.abort();
    if (stop && entry.submitted !== undefined) {
      void this.host.dispatcher.stopJob(entry.job, entry.task, entry.submitted).catch(() => undefined);
    }
  }

  /**
   * After a restart (or taking over from a node that died): polling resumes from the start's
   * answer recorded in TaskSubmitted, so the job is never submitted twice. A start request that
   * was out when the process died has an unknown outcome: the attempt fails, as local tasks do.
   */
  async resume(arn: string, task: TaskRequest): Promise<void> {
    const job = this.host.dispatcher.syncJob(task.resource);
    const key = `${arn}\n${task.taskId}`;
    if (job === undefined || this.entries.has(key)) return;
    const state = (await this.host.store.loadState(arn))?.state as ExecutionState | undefined;
    const frameId = state?.tasks[task.taskId];
    const frame = frameId === undefined ? undefined : state?.frames[frameId];
    if (state?.status !== 'RUNNING' || frame === undefined) return;
    // The frame's last event is TaskSubmitted once the start's answer came.
    let submitted: JsonValue | undefined;
    let nextToken: string | undefined;
    search: do {
      const page = await this.host.store.history(arn, { reverse: true, limit: 100, nextToken });
      for (const e of page?.items ?? []) {
        if (e.id > frame.lastEventId) continue;
        if (e.id === frame.lastEventId && e.type === 'TaskSubmitted') {
          const out = (e.taskSubmittedEventDetails as { output?: unknown } | undefined)?.output;
          submitted = typeof out === 'string' ? (JSON.parse(out) as JsonValue) : ((out ?? null) as JsonValue);
        }
        break search;
      }
      nextToken = page?.nextToken;
    } while (nextToken !== undefined);
    if (this.entries.has(key) || this.closed) return;
    if (submitted === undefined) {
      this.host.deliver(arn, {
        type: 'taskFailed',
        taskId: task.taskId,
        error: 'States.TaskFailed',
        cause: this.host.interruptedCause,
      });
      return;
    }
    const entry: Entry = { controller: new AbortController(), job, task, submitted };
    this.entries.set(key, entry);
    this.poll(arn, entry);
  }

  /** Stops polling (the jobs run on; the next start resumes them). */
  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) e.controller.abort();
    this.entries.clear();
  }

  private poll(arn: string, entry: Entry): void {
    const key = `${arn}\n${entry.task.taskId}`;
    const taskId = entry.task.taskId;
    const settle = (event: InputEvent) => {
      if (this.entries.get(key) !== entry) return;
      this.entries.delete(key);
      this.host.deliver(arn, event);
    };
    void this.host.dispatcher
      .pollJob(entry.job, entry.task, entry.submitted ?? null, entry.controller.signal)
      .then(
        (outcome) => {
          if (outcome === undefined) return;
          settle(outcomeEvent(taskId, outcome));
        },
        (e: unknown) => settle(thrownEvent(taskId, e)),
      );
  }
}
