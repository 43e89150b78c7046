/**
 * The request-response form of Amazon EMR's optimized actions (`arn:aws:states:::elasticmapreduce:
 * <action>`). They are Step Functions' own wrappers of the EMR API, not its actions: createCluster
 * sends RunJobFlow and answers `{ClusterId}`, addStep and cancelStep take one step, and the
 * `…ByName` actions look the fleet or group up by name first (ListInstanceFleets,
 * ListInstanceGroups). createCluster, addStep and terminateCluster map their request as their
 * `.sync` forms do (`SYNC_JOBS` in aws-sync.ts).
 */
import { StatesErrors } from '../../language/errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../language/json.js';
import type { SignalSource, TaskOutcome } from '../functions.js';
import type { AwsPassThrough, AwsTask } from './aws.js';
import { SYNC_JOBS } from './aws-sync.js';

const SERVICE = 'elasticmapreduce';

type Call = (
  action: string,
  input: JsonObject,
) => Promise<{ ok: true; output: JsonObject } | { ok: false; outcome: TaskOutcome }>;

/** One optimized action: its calls, and the answer it gives (without the HTTP metadata). */
type EmrAction = (
  params: JsonObject,
  call: Call,
) => Promise<{ ok: true; output: JsonObject } | { ok: false; outcome: TaskOutcome }>;

/** The start call of a `.sync` entry, with its request mapping. */
function syncStart(action: 'createCluster' | 'addStep' | 'terminateCluster') {
  const job = SYNC_JOBS[`${SERVICE}:${action}`]!;
  return (params: JsonObject, call: Call) =>
    call(job.start, job.startInput ? job.startInput(params) : params);
}

const firstOf = (v: JsonValue | undefined): JsonValue => (Array.isArray(v) ? (v[0] ?? null) : null);

const ACTIONS: Readonly<Record<string, EmrAction>> = {
  // RunJobFlow answers JobFlowId (and ClusterArn); AWS documents `{ClusterId}`.
  createCluster: async (params, call) => {
    const r = await syncStart('createCluster')(params, call);
    return r.ok
      ? { ok: true, output: SYNC_JOBS[`${SERVICE}:createCluster`]!.submitted(params, r.output) }
      : r;
  },
  // TerminateJobFlows answers nothing.
  terminateCluster: (params, call) => syncStart('terminateCluster')(params, call),
  // AddJobFlowSteps answers StepIds; AWS documents `{StepId}`.
  addStep: async (params, call) => {
    const r = await syncStart('addStep')(params, call);
    return r.ok ? { ok: true, output: { StepId: firstOf(r.output.StepIds) } } : r;
  },
  // CancelSteps takes StepIds and answers CancelStepsInfoList; AWS documents StepId and
  // `{CancelStepsInfo}`.
  cancelStep: async (params, call) => {
    const { StepId, ...rest } = params;
    const r = await call('cancelSteps', { ...rest, StepIds: StepId === undefined ? [] : [StepId] });
    return r.ok ? { ok: true, output: { CancelStepsInfo: firstOf(r.output.CancelStepsInfoList) } } : r;
  },
  // SetTerminationProtection takes JobFlowIds and answers nothing.
  setClusterTerminationProtection: (params, call) => {
    const { ClusterId, ...rest } = params;
    return call('setTerminationProtection', {
      ...rest,
      JobFlowIds: ClusterId === undefined ? [] : [ClusterId],
    });
  },
  modifyInstanceFleetByName: (params, call) =>
    byName(params, call, {
      nameKey: 'InstanceFleetName',
      list: 'listInstanceFleets',
      listed: 'InstanceFleets',
      what: 'instance fleet',
      modify: (clusterId, id, rest) => {
        const fleet = isJsonObject(rest.InstanceFleet) ? rest.InstanceFleet : {};
        return [
          'modifyInstanceFleet',
          { ...rest, ClusterId: clusterId, InstanceFleet: { ...fleet, InstanceFleetId: id } },
        ];
      },
    }),
  modifyInstanceGroupByName: (params, call) =>
    byName(params, call, {
      nameKey: 'InstanceGroupName',
      list: 'listInstanceGroups',
      listed: 'InstanceGroups',
      what: 'instance group',
      modify: (clusterId, id, rest) => {
        const { InstanceGroup, ...others } = rest;
        const group = isJsonObject(InstanceGroup) ? InstanceGroup : {};
        return [
          'modifyInstanceGroups',
          { ...others, ClusterId: clusterId, InstanceGroups: [{ ...group, InstanceGroupId: id }] },
        ];
      },
    }),
};

/**
 * Finds the fleet or group named `params[nameKey]` (all pages of the list call), then sends the
 * modify call with its id. A name no fleet or group has fails the task with `States.TaskFailed`
 * (assumed: AWS does not document this case).
 */
async function byName(
  params: JsonObject,
  call: Call,
  how: {
    nameKey: string;
    list: string;
    listed: string;
    what: string;
    modify(clusterId: JsonValue, id: string, rest: JsonObject): [string, JsonObject];
  },
): Promise<{ ok: true; output: JsonObject } | { ok: false; outcome: TaskOutcome }> {
  const { [how.nameKey]: name, ClusterId, ...rest } = params;
  const clusterId = ClusterId ?? null;
  let marker: JsonValue | undefined;
  for (;;) {
    const page = await call(
      how.list,
      marker === undefined ? { ClusterId: clusterId } : { ClusterId: clusterId, Marker: marker },
    );
    if (!page.ok) return page;
    const items = page.output[how.listed];
    const found = (Array.isArray(items) ? items : []).find((x) => isJsonObject(x) && x.Name === name);
    if (isJsonObject(found) && typeof found.Id === 'string') {
      const [action, input] = how.modify(clusterId, found.Id, rest);
      return call(action, input);
    }
    marker = page.output.Marker;
    if (typeof marker !== 'string' || marker === '') break;
  }
  return {
    ok: false,
    outcome: {
      ok: false,
      error: StatesErrors.TaskFailed,
      cause: `The cluster ${JSON.stringify(clusterId)} has no ${how.what} named ${JSON.stringify(name ?? null)}.`,
    },
  };
}

/** Whether Stepwise serves this EMR action (request-response and `.waitForTaskToken`). */
export function isEmrAction(action: string): boolean {
  return Object.hasOwn(ACTIONS, action);
}

/**
 * Runs an EMR optimized action: its calls through `aws.callOptimized` (errors named as AWS names
 * them, `EMR.InvalidRequestException`…), and its answer with the last call's HTTP metadata.
 */
export async function runEmrAction(
  aws: AwsPassThrough,
  task: AwsTask,
  signal: SignalSource,
): Promise<TaskOutcome> {
  const run = Object.hasOwn(ACTIONS, task.action) ? ACTIONS[task.action] : undefined;
  if (run === undefined) {
    return {
      ok: false,
      error: StatesErrors.TaskFailed,
      cause: `Stepwise does not pass '${task.resource}' through to AWS.`,
    };
  }
  if (!isJsonObject(task.parameters)) {
    return {
      ok: false,
      error: StatesErrors.Runtime,
      cause: `The parameters of '${task.resource}' must be an object.`,
    };
  }
  let metadata: JsonObject = {};
  const call: Call = async (action, input) => {
    const r = await aws.callOptimized(task, SERVICE, action, input, signal);
    if (!r.ok) return r;
    metadata = r.metadata;
    return { ok: true, output: r.output };
  };
  const r = await run(task.parameters, call);
  if (!r.ok) return r.outcome;
  return { ok: true, output: { ...r.output, ...metadata } };
}
