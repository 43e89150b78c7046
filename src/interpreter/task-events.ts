/** The history events of a task attempt, which depend on the kind of resource (as AWS records them). */
import type { JsonValue } from '../language/json.js';
import type { TaskState } from '../language/model.js';
import { parseResource, type ResourceInfo } from '../language/resources.js';

const cache = new WeakMap<TaskState, ResourceInfo>();

export function resourceOf(state: TaskState): ResourceInfo {
  let info = cache.get(state);
  if (info === undefined) {
    info = parseResource(state.resource);
    cache.set(state, info);
  }
  return info;
}

/** Whether the task's worker sends heartbeats: activities and `.waitForTaskToken` callbacks. */
export function reportsHeartbeats(state: TaskState): boolean {
  return needsTaskToken(state);
}

/** Activities and `.waitForTaskToken` callbacks report back with a task token. */
export function needsTaskToken(state: TaskState): boolean {
  const r = resourceOf(state);
  return r.kind === 'activity' || (r.kind === 'service' && r.pattern === 'waitForTaskToken');
}

/**
 * Attempts that get a task token (`$$.Task.Token`): activities and callbacks, and also `.sync`
 * tasks, which AWS lets a worker end with SendTaskSuccess/Failure as well (recorded in
 * callback__sync_with_task_token).
 */
export function hasTaskToken(state: TaskState): boolean {
  const r = resourceOf(state);
  return needsTaskToken(state) || (r.kind === 'service' && (r.pattern === 'sync' || r.pattern === 'sync:2'));
}

/** TaskSubmitted: the request of a callback task went out. */
export function taskSubmittedEvent(state: TaskState, output: JsonValue): Ev {
  const r = resourceOf(state);
  const d: Record<string, unknown> = { output, outputDetails: { truncated: false } };
  if (r.kind === 'service') {
    d.resourceType = r.resourceType;
    d.resource = r.resource;
  }
  return ['TaskSubmitted', { taskSubmittedEventDetails: d }];
}

type Ev = [type: string, details: Record<string, unknown> | undefined];

/** How many events `scheduledEvents` records for this state's resource. */
export function scheduledEventCount(state: TaskState): number {
  return resourceOf(state).kind === 'activity' ? 1 : 2;
}

/** Scheduled + Started events for one attempt. */
export function scheduledEvents(
  state: TaskState,
  scheduled: {
    params: JsonValue;
    timeoutSeconds: number | undefined;
    heartbeatSeconds: number | undefined;
    roleArn: string | undefined;
  },
  executionArn: string,
): Ev[] {
  const { params, timeoutSeconds, heartbeatSeconds, roleArn } = scheduled;
  const r = resourceOf(state);
  switch (r.kind) {
    case 'lambda': {
      const d: Record<string, unknown> = {
        resource: r.functionArn,
        input: params,
        inputDetails: { truncated: false },
      };
      if (timeoutSeconds !== undefined) d.timeoutInSeconds = timeoutSeconds;
      if (roleArn !== undefined) d.taskCredentials = { roleArn };
      return [
        ['LambdaFunctionScheduled', { lambdaFunctionScheduledEventDetails: d }],
        ['LambdaFunctionStarted', undefined],
      ];
    }
    case 'activity': {
      const d: Record<string, unknown> = {
        resource: r.activityArn,
        input: params,
        inputDetails: { truncated: false },
      };
      if (timeoutSeconds !== undefined) d.timeoutInSeconds = timeoutSeconds;
      if (heartbeatSeconds !== undefined) d.heartbeatInSeconds = heartbeatSeconds;
      return [['ActivityScheduled', { activityScheduledEventDetails: d }]];
    }
    case 'service':
    case 'unknown': {
      const resourceType = r.kind === 'service' ? r.resourceType : 'unknown';
      const resource = r.kind === 'service' ? r.resource : r.arn;
      const d: Record<string, unknown> = {
        resourceType,
        resource,
        // The execution's region (read here only: a Lambda or activity task records none).
        region: (r.kind === 'service' ? r.region : undefined) ?? executionArn.split(':')[3] ?? '',
        parameters: params,
      };
      if (timeoutSeconds !== undefined) d.timeoutInSeconds = timeoutSeconds;
      if (heartbeatSeconds !== undefined) d.heartbeatInSeconds = heartbeatSeconds;
      if (roleArn !== undefined) d.taskCredentials = { roleArn };
      return [
        ['TaskScheduled', { taskScheduledEventDetails: d }],
        ['TaskStarted', { taskStartedEventDetails: { resourceType, resource } }],
      ];
    }
  }
}

export type TaskEnd =
  | { kind: 'succeeded'; output: JsonValue }
  | { kind: 'failed'; error: string; cause: string | undefined }
  | { kind: 'timedOut'; error: string; cause: string | undefined };

function errorFields(end: { error: string; cause: string | undefined }): Record<string, unknown> {
  const d: Record<string, unknown> = { error: end.error };
  if (end.cause !== undefined) d.cause = end.cause;
  return d;
}

/** The event that ends an attempt. */
export function taskEndEvent(state: TaskState, end: TaskEnd): Ev {
  const r = resourceOf(state);
  const prefix = r.kind === 'lambda' ? 'LambdaFunction' : r.kind === 'activity' ? 'Activity' : 'Task';
  const detailsKey = r.kind === 'lambda' ? 'lambdaFunction' : r.kind === 'activity' ? 'activity' : 'task';
  const suffix = end.kind === 'succeeded' ? 'Succeeded' : end.kind === 'failed' ? 'Failed' : 'TimedOut';
  const d: Record<string, unknown> =
    end.kind === 'succeeded' ? { output: end.output, outputDetails: { truncated: false } } : errorFields(end);
  if (r.kind === 'service' || r.kind === 'unknown') {
    d.resourceType = r.kind === 'service' ? r.resourceType : 'unknown';
    d.resource = r.kind === 'service' ? r.resource : r.arn;
  }
  return [`${prefix}${suffix}`, { [`${detailsKey}${suffix}EventDetails`]: d }];
}
