/**
 * The Step Functions operations: each checks its input shape as AWS does, applies the
 * service-level limits, calls the engine and turns the result into the wire shape (dates as
 * epoch seconds, history payloads as JSON text).
 */
import type { ExecutionStatus, HistoryEvent } from '../../interpreter/types.js';
import { validateDefinitionText } from '../../language/validate.js';
import type { JsonObject } from '../../language/json.js';
import type {
  ExecutionDescription,
  RoutingConfigurationItem,
  StateMachineDescription,
  StateMachineType,
  StepFunctionsEngine,
  TagInput,
} from '../../runtime/engine-api.js';
import {
  checkArn,
  checkDefinitionSize,
  checkExecutionInput,
  checkName,
  checkRoleArn,
  checkTagCount,
  checkTaskOutput,
  seconds,
  serviceError,
  type Body,
  type Shape,
} from './protocol.js';

export interface OperationContext {
  /** Aborts when the client goes away (long polls stop waiting). */
  signal: AbortSignal;
}

interface Operation {
  shape: Shape;
  run(engine: StepFunctionsEngine, body: Body, ctx: OperationContext): Promise<object>;
}

const TYPES = ['STANDARD', 'EXPRESS'] as const;
const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'] as const;

const arn = { type: 'string', required: true, min: 1, max: 256 } as const;
const name = { type: 'string', required: true, min: 1, max: 80 } as const;
const maxResults = { type: 'integer', min: 0, max: 1000 } as const;
const nextToken = { type: 'string', min: 1, max: 1024 } as const;
const taskToken = { type: 'string', required: true, min: 1, max: 2048 } as const;
const tags = { type: 'tags' } as const;
const page = { maxResults, nextToken } as const;

// Members are read after checkShape has vetted their types.
const str = (b: Body, k: string): string | undefined => b[k] as string | undefined;
const req = (b: Body, k: string): string => b[k] as string;
const int = (b: Body, k: string): number | undefined => b[k] as number | undefined;
const bool = (b: Body, k: string): boolean | undefined => b[k] as boolean | undefined;
const obj = (b: Body, k: string): JsonObject | undefined => b[k] as JsonObject | undefined;
const tagList = (b: Body, k: string): TagInput[] | undefined => b[k] as TagInput[] | undefined;
const routing = (b: Body, k: string): RoutingConfigurationItem[] | undefined =>
  b[k] as RoutingConfigurationItem[] | undefined;

const versionDescription = { type: 'string', max: 256, sensitive: true } as const;
const aliasDescription = { type: 'string', max: 256, sensitive: true } as const;
/** AWS's CharacterRestrictedName: a letter, `_`, `-` or `.` somewhere, so never an integer (a version). */
const aliasName = {
  type: 'string',
  required: true,
  min: 1,
  max: 80,
  pattern: '^(?=.*[a-zA-Z_\\-\\.])[a-zA-Z0-9_\\-\\.]+$',
} as const;

function pageOf(b: Body): { maxResults?: number; nextToken?: string } {
  const out: { maxResults?: number; nextToken?: string } = {};
  const m = int(b, 'maxResults');
  const t = str(b, 'nextToken');
  if (m !== undefined && m !== 0) out.maxResults = m; // 0 means "the default", as in AWS
  if (t !== undefined) out.nextToken = t;
  return out;
}

function checkTags(list: TagInput[] | undefined, resourceName: string): void {
  if (list !== undefined) checkTagCount(list.length, resourceName);
}

function stateMachineOut(d: StateMachineDescription): object {
  return { ...d, creationDate: seconds(d.creationDate) };
}

function executionOut(d: ExecutionDescription): Record<string, unknown> {
  return {
    ...d,
    startDate: seconds(d.startDate),
    stopDate: seconds(d.stopDate),
    inputDetails: { included: true },
    ...(d.output !== undefined ? { outputDetails: { included: true } } : {}),
  };
}

/** A history event on the wire. The engine gives payloads as JSON text already; dates become seconds. */
export function wireEvent(e: HistoryEvent): object {
  return { ...e, timestamp: seconds(e.timestamp) };
}

/** includeExecutionData false: AWS leaves the payloads out of every event's details. */
function withoutData(e: object): object {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k.endsWith('EventDetails') && typeof v === 'object' && v !== null) {
      const {
        input: _i,
        output: _o,
        inputDetails: _id,
        outputDetails: _od,
        ...rest
      } = v as Record<string, unknown>;
      out[k] = rest;
    } else {
      out[k] = v;
    }
  }
  return out;
}

export const OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateStateMachine: {
    shape: {
      name,
      definition: { type: 'string', required: true, sensitive: true },
      roleArn: arn,
      type: { type: 'string', values: TYPES },
      loggingConfiguration: { type: 'structure' },
      tracingConfiguration: { type: 'structure' },
      encryptionConfiguration: { type: 'structure' },
      tags,
      publish: { type: 'boolean' },
      versionDescription: { type: 'string', max: 256, sensitive: true },
    },
    async run(engine, b) {
      checkName(req(b, 'name'));
      checkDefinitionSize(req(b, 'definition'));
      checkRoleArn(req(b, 'roleArn'));
      checkTags(tagList(b, 'tags'), req(b, 'name'));
      const r = await engine.createStateMachine({
        name: req(b, 'name'),
        definition: req(b, 'definition'),
        roleArn: req(b, 'roleArn'),
        type: str(b, 'type') as StateMachineType | undefined,
        loggingConfiguration: obj(b, 'loggingConfiguration'),
        tracingConfiguration: obj(b, 'tracingConfiguration'),
        tags: tagList(b, 'tags'),
        publish: bool(b, 'publish'),
        versionDescription: str(b, 'versionDescription'),
      });
      return {
        stateMachineArn: r.stateMachineArn,
        creationDate: seconds(r.creationDate),
        stateMachineVersionArn: r.stateMachineVersionArn,
      };
    },
  },

  DescribeStateMachine: {
    shape: { stateMachineArn: arn, includedData: { type: 'string', values: ['ALL_DATA', 'METADATA_ONLY'] } },
    async run(engine, b) {
      checkArn(req(b, 'stateMachineArn'), 'stateMachine');
      return stateMachineOut(await engine.describeStateMachine(req(b, 'stateMachineArn')));
    },
  },

  UpdateStateMachine: {
    shape: {
      stateMachineArn: arn,
      definition: { type: 'string', sensitive: true },
      roleArn: { ...arn, required: false },
      loggingConfiguration: { type: 'structure' },
      tracingConfiguration: { type: 'structure' },
      encryptionConfiguration: { type: 'structure' },
      publish: { type: 'boolean' },
      versionDescription: { type: 'string', max: 256, sensitive: true },
    },
    async run(engine, b) {
      checkArn(req(b, 'stateMachineArn'), 'stateMachine');
      const definition = str(b, 'definition');
      const roleArn = str(b, 'roleArn');
      if (definition !== undefined) checkDefinitionSize(definition);
      if (roleArn !== undefined) checkRoleArn(roleArn);
      const r = await engine.updateStateMachine({
        stateMachineArn: req(b, 'stateMachineArn'),
        definition,
        roleArn,
        loggingConfiguration: obj(b, 'loggingConfiguration'),
        tracingConfiguration: obj(b, 'tracingConfiguration'),
        publish: bool(b, 'publish'),
        versionDescription: str(b, 'versionDescription'),
      });
      return {
        updateDate: seconds(r.updateDate),
        revisionId: r.revisionId,
        stateMachineVersionArn: r.stateMachineVersionArn,
      };
    },
  },

  PublishStateMachineVersion: {
    shape: { stateMachineArn: arn, revisionId: { type: 'string' }, description: versionDescription },
    async run(engine, b) {
      checkArn(req(b, 'stateMachineArn'), 'stateMachine');
      const r = await engine.publishStateMachineVersion({
        stateMachineArn: req(b, 'stateMachineArn'),
        revisionId: str(b, 'revisionId'),
        description: str(b, 'description'),
      });
      return { stateMachineVersionArn: r.stateMachineVersionArn, creationDate: seconds(r.creationDate) };
    },
  },

  ListStateMachineVersions: {
    shape: { stateMachineArn: arn, ...page },
    async run(engine, b) {
      checkArn(req(b, 'stateMachineArn'), 'stateMachine');
      const r = await engine.listStateMachineVersions({
        ...pageOf(b),
        stateMachineArn: req(b, 'stateMachineArn'),
      });
      return {
        stateMachineVersions: r.items.map((v) => ({ ...v, creationDate: seconds(v.creationDate) })),
        nextToken: r.nextToken,
      };
    },
  },

  DeleteStateMachineVersion: {
    shape: { stateMachineVersionArn: { type: 'string', required: true, min: 1, max: 2000 } },
    async run(engine, b) {
      checkArn(req(b, 'stateMachineVersionArn'), 'stateMachine');
      await engine.deleteStateMachineVersion(req(b, 'stateMachineVersionArn'));
      return {};
    },
  },

  CreateStateMachineAlias: {
    shape: {
      name: aliasName,
      description: aliasDescription,
      routingConfiguration: { type: 'routing', required: true },
    },
    async run(engine, b) {
      const r = await engine.createStateMachineAlias({
        name: req(b, 'name'),
        description: str(b, 'description'),
        routingConfiguration: routing(b, 'routingConfiguration') ?? [],
      });
      return { stateMachineAliasArn: r.stateMachineAliasArn, creationDate: seconds(r.creationDate) };
    },
  },

  DescribeStateMachineAlias: {
    shape: { stateMachineAliasArn: arn },
    async run(engine, b) {
      checkArn(req(b, 'stateMachineAliasArn'), 'stateMachine');
      const r = await engine.describeStateMachineAlias(req(b, 'stateMachineAliasArn'));
      return { ...r, creationDate: seconds(r.creationDate), updateDate: seconds(r.updateDate) };
    },
  },

  UpdateStateMachineAlias: {
    shape: {
      stateMachineAliasArn: arn,
      description: aliasDescription,
      routingConfiguration: { type: 'routing' },
    },
    async run(engine, b) {
      checkArn(req(b, 'stateMachineAliasArn'), 'stateMachine');
      const r = await engine.updateStateMachineAlias({
        stateMachineAliasArn: req(b, 'stateMachineAliasArn'),
        description: str(b, 'description'),
        routingConfiguration: routing(b, 'routingConfiguration'),
      });
      return { updateDate: seconds(r.updateDate) };
    },
  },

  DeleteStateMachineAlias: {
    shape: { stateMachineAliasArn: arn },
    async run(engine, b) {
      checkArn(req(b, 'stateMachineAliasArn'), 'stateMachine');
      await engine.deleteStateMachineAlias(req(b, 'stateMachineAliasArn'));
      return {};
    },
  },

  ListStateMachineAliases: {
    shape: { stateMachineArn: arn, ...page },
    async run(engine, b) {
      checkArn(req(b, 'stateMachineArn'), 'stateMachine');
      const r = await engine.listStateMachineAliases({
        ...pageOf(b),
        stateMachineArn: req(b, 'stateMachineArn'),
      });
      return {
        stateMachineAliases: r.items.map((a) => ({ ...a, creationDate: seconds(a.creationDate) })),
        nextToken: r.nextToken,
      };
    },
  },

  DeleteStateMachine: {
    shape: { stateMachineArn: arn },
    async run(engine, b) {
      checkArn(req(b, 'stateMachineArn'), 'stateMachine');
      await engine.deleteStateMachine(req(b, 'stateMachineArn'));
      return {};
    },
  },

  ListStateMachines: {
    shape: page,
    async run(engine, b) {
      const r = await engine.listStateMachines(pageOf(b));
      return {
        stateMachines: r.items.map((s) => ({ ...s, creationDate: seconds(s.creationDate) })),
        nextToken: r.nextToken,
      };
    },
  },

  DescribeStateMachineForExecution: {
    shape: { executionArn: arn, includedData: { type: 'string', values: ['ALL_DATA', 'METADATA_ONLY'] } },
    async run(engine, b) {
      checkArn(req(b, 'executionArn'), 'execution');
      const d = await engine.describeStateMachineForExecution(req(b, 'executionArn'));
      return { ...d, creationDate: seconds(d.creationDate), updateDate: seconds(d.updateDate) };
    },
  },

  StartExecution: {
    shape: {
      stateMachineArn: arn,
      name: { ...name, required: false },
      input: { type: 'string', sensitive: true },
      traceHeader: { type: 'string', max: 256 },
    },
    async run(engine, b) {
      const input = startInput(b);
      const r = await engine.startExecution(input);
      return { executionArn: r.executionArn, startDate: seconds(r.startDate) };
    },
  },

  StartSyncExecution: {
    shape: {
      stateMachineArn: arn,
      name: { ...name, required: false },
      input: { type: 'string', sensitive: true },
      traceHeader: { type: 'string', max: 256 },
      includedData: { type: 'string', values: ['ALL_DATA', 'METADATA_ONLY'] },
    },
    async run(engine, b) {
      const r = await engine.startSyncExecution(startInput(b));
      return executionOut(r);
    },
  },

  StopExecution: {
    shape: {
      executionArn: arn,
      error: { type: 'string', max: 256, sensitive: true },
      cause: { type: 'string', max: 32768, sensitive: true },
    },
    async run(engine, b) {
      checkArn(req(b, 'executionArn'), 'execution');
      const input: { executionArn: string; error?: string; cause?: string } = {
        executionArn: req(b, 'executionArn'),
      };
      const error = str(b, 'error');
      const cause = str(b, 'cause');
      if (error !== undefined) input.error = error;
      if (cause !== undefined) input.cause = cause;
      const r = await engine.stopExecution(input);
      return { stopDate: seconds(r.stopDate) };
    },
  },

  DescribeExecution: {
    shape: { executionArn: arn, includedData: { type: 'string', values: ['ALL_DATA', 'METADATA_ONLY'] } },
    async run(engine, b) {
      checkArn(req(b, 'executionArn'), 'execution');
      return executionOut(await engine.describeExecution(req(b, 'executionArn')));
    },
  },

  RedriveExecution: {
    shape: { executionArn: arn, clientToken: { type: 'string', min: 1, max: 256 } },
    async run(engine, b) {
      checkArn(req(b, 'executionArn'), 'execution');
      const r = await engine.redriveExecution({
        executionArn: req(b, 'executionArn'),
        clientToken: str(b, 'clientToken'),
      });
      return { redriveDate: seconds(r.redriveDate) };
    },
  },

  ListExecutions: {
    shape: {
      stateMachineArn: { ...arn, required: false },
      mapRunArn: { type: 'string', min: 1, max: 2048 },
      statusFilter: { type: 'string', values: STATUSES },
      redriveFilter: { type: 'string', values: ['REDRIVEN', 'NOT_REDRIVEN'] },
      ...page,
    },
    async run(engine, b) {
      const stateMachineArn = str(b, 'stateMachineArn');
      if (stateMachineArn === undefined) {
        throw serviceError('ValidationException', 'Must provide a StateMachine ARN or a MapRun ARN');
      }
      checkArn(stateMachineArn, 'stateMachine');
      const r = await engine.listExecutions({
        ...pageOf(b),
        stateMachineArn,
        statusFilter: str(b, 'statusFilter') as ExecutionStatus | undefined,
      });
      return {
        executions: r.items.map((e) => ({
          ...e,
          startDate: seconds(e.startDate),
          stopDate: seconds(e.stopDate),
        })),
        nextToken: r.nextToken,
      };
    },
  },

  GetExecutionHistory: {
    shape: {
      executionArn: arn,
      reverseOrder: { type: 'boolean' },
      includeExecutionData: { type: 'boolean' },
      ...page,
    },
    async run(engine, b) {
      checkArn(req(b, 'executionArn'), 'execution');
      const r = await engine.getExecutionHistory({
        ...pageOf(b),
        executionArn: req(b, 'executionArn'),
        reverseOrder: bool(b, 'reverseOrder'),
        includeExecutionData: bool(b, 'includeExecutionData'),
      });
      const events = r.items.map(wireEvent);
      return {
        events: bool(b, 'includeExecutionData') === false ? events.map(withoutData) : events,
        nextToken: r.nextToken,
      };
    },
  },

  CreateActivity: {
    shape: { name, tags, encryptionConfiguration: { type: 'structure' } },
    async run(engine, b) {
      checkName(req(b, 'name'));
      checkTags(tagList(b, 'tags'), req(b, 'name'));
      const r = await engine.createActivity({ name: req(b, 'name'), tags: tagList(b, 'tags') });
      return { activityArn: r.activityArn, creationDate: seconds(r.creationDate) };
    },
  },

  DescribeActivity: {
    shape: { activityArn: arn },
    async run(engine, b) {
      checkArn(req(b, 'activityArn'), 'activity');
      const r = await engine.describeActivity(req(b, 'activityArn'));
      return { ...r, creationDate: seconds(r.creationDate) };
    },
  },

  DeleteActivity: {
    shape: { activityArn: arn },
    async run(engine, b) {
      checkArn(req(b, 'activityArn'), 'activity');
      await engine.deleteActivity(req(b, 'activityArn'));
      return {};
    },
  },

  ListActivities: {
    shape: page,
    async run(engine, b) {
      const r = await engine.listActivities(pageOf(b));
      return {
        activities: r.items.map((a) => ({ ...a, creationDate: seconds(a.creationDate) })),
        nextToken: r.nextToken,
      };
    },
  },

  GetActivityTask: {
    shape: { activityArn: arn, workerName: { type: 'string', min: 1, max: 80 } },
    async run(engine, b, ctx) {
      checkArn(req(b, 'activityArn'), 'activity');
      const r = await engine.getActivityTask(
        { activityArn: req(b, 'activityArn'), workerName: str(b, 'workerName') },
        ctx.signal,
      );
      return r.taskToken === undefined ? {} : { taskToken: r.taskToken, input: r.input };
    },
  },

  SendTaskSuccess: {
    shape: { taskToken, output: { type: 'string', required: true, sensitive: true } },
    async run(engine, b) {
      checkTaskOutput(req(b, 'output'));
      await engine.sendTaskSuccess({ taskToken: req(b, 'taskToken'), output: req(b, 'output') });
      return {};
    },
  },

  SendTaskFailure: {
    shape: {
      taskToken,
      error: { type: 'string', max: 256, sensitive: true },
      cause: { type: 'string', max: 32768, sensitive: true },
    },
    async run(engine, b) {
      await engine.sendTaskFailure({
        taskToken: req(b, 'taskToken'),
        error: str(b, 'error'),
        cause: str(b, 'cause'),
      });
      return {};
    },
  },

  SendTaskHeartbeat: {
    shape: { taskToken },
    async run(engine, b) {
      await engine.sendTaskHeartbeat({ taskToken: req(b, 'taskToken') });
      return {};
    },
  },

  TagResource: {
    shape: { resourceArn: arn, tags: { type: 'tags', required: true } },
    async run(engine, b) {
      checkArn(req(b, 'resourceArn'), 'taggable');
      checkTags(tagList(b, 'tags'), req(b, 'resourceArn'));
      await engine.tagResource(req(b, 'resourceArn'), tagList(b, 'tags') ?? []);
      return {};
    },
  },

  UntagResource: {
    shape: { resourceArn: arn, tagKeys: { type: 'strings', required: true, itemMin: 1, itemMax: 128 } },
    async run(engine, b) {
      checkArn(req(b, 'resourceArn'), 'taggable');
      await engine.untagResource(req(b, 'resourceArn'), b.tagKeys as string[]);
      return {};
    },
  },

  ListTagsForResource: {
    shape: { resourceArn: arn },
    async run(engine, b) {
      checkArn(req(b, 'resourceArn'), 'taggable');
      return { tags: await engine.listTagsForResource(req(b, 'resourceArn')) };
    },
  },

  ValidateStateMachineDefinition: {
    // AWS answers an empty definition with a diagnostic, so no minimum length here.
    shape: {
      definition: { type: 'string', required: true, max: 1048576, sensitive: true },
      type: { type: 'string', values: TYPES },
      severity: { type: 'string', values: ['ERROR', 'WARNING'] },
      maxResults: { type: 'integer', min: 0, max: 100 },
    },
    run(_engine, b) {
      const type = str(b, 'type') as StateMachineType | undefined;
      const all = validateDefinitionText(req(b, 'definition'), type ? { type } : {});
      // severity ERROR (the default) reports errors only; WARNING reports both.
      const shown = str(b, 'severity') === 'WARNING' ? all : all.filter((d) => d.severity === 'ERROR');
      const limit = int(b, 'maxResults') || 100;
      const diagnostics = shown.slice(0, limit).map((d) => ({
        severity: d.severity,
        code: d.code,
        message: d.message,
        ...(d.location ? { location: d.location } : {}),
      }));
      return Promise.resolve({
        result: all.some((d) => d.severity === 'ERROR') ? 'FAIL' : 'OK',
        diagnostics,
        truncated: shown.length > limit,
      });
    },
  },
};

function startInput(b: Body): { stateMachineArn: string; name?: string; input?: string } {
  checkArn(req(b, 'stateMachineArn'), 'stateMachine');
  const out: { stateMachineArn: string; name?: string; input?: string } = {
    stateMachineArn: req(b, 'stateMachineArn'),
  };
  const execName = str(b, 'name');
  const input = str(b, 'input');
  if (execName !== undefined) {
    checkName(execName);
    out.name = execName;
  }
  if (input !== undefined) {
    checkExecutionInput(input);
    out.input = input;
  }
  return out;
}
