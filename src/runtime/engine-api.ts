/**
 * The operations the durable engine offers its surfaces (the API server, the CLI, the console).
 * Shapes follow the Step Functions API: dates are epoch milliseconds here; the API server turns
 * them into the wire's epoch seconds. Failures are `ServiceError`s with AWS's codes.
 */
import type { ExecutionStatus, HistoryEvent } from '../interpreter/types.js';
import type { JsonObject } from '../language/json.js';

export type StateMachineType = 'STANDARD' | 'EXPRESS';

export interface TagInput {
  key: string;
  value: string;
}

export interface CreateStateMachineInput {
  name: string;
  definition: string;
  roleArn: string;
  type?: StateMachineType | undefined;
  loggingConfiguration?: JsonObject | undefined;
  tracingConfiguration?: JsonObject | undefined;
  tags?: TagInput[] | undefined;
  publish?: boolean | undefined;
  versionDescription?: string | undefined;
}

export interface StateMachineDescription {
  stateMachineArn: string;
  name: string;
  status: 'ACTIVE' | 'DELETING';
  definition: string;
  roleArn: string;
  type: StateMachineType;
  creationDate: number;
  loggingConfiguration: JsonObject;
  tracingConfiguration: JsonObject;
  revisionId: string;
}

export interface UpdateStateMachineInput {
  stateMachineArn: string;
  definition?: string | undefined;
  roleArn?: string | undefined;
  loggingConfiguration?: JsonObject | undefined;
  tracingConfiguration?: JsonObject | undefined;
}

export interface StartExecutionInput {
  stateMachineArn: string;
  name?: string | undefined;
  /** JSON text; default `{}`. */
  input?: string | undefined;
}

export interface ExecutionDescription {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number | undefined;
  input: string;
  output?: string | undefined;
  error?: string | undefined;
  cause?: string | undefined;
  /** Standard executions (DescribeExecution): always 0, Stepwise does not redrive yet. */
  redriveCount?: number | undefined;
  redriveStatus?: 'REDRIVABLE' | 'NOT_REDRIVABLE' | 'REDRIVABLE_BY_MAP_RUN' | undefined;
  /** Why an execution is NOT_REDRIVABLE, in AWS's words. */
  redriveStatusReason?: string | undefined;
}

export interface SyncExecutionResult extends ExecutionDescription {
  billingDetails: { billedMemoryUsedInMB: number; billedDurationInMilliseconds: number };
}

export interface ExecutionListItem {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number | undefined;
}

export interface Paged<T> {
  items: T[];
  nextToken?: string | undefined;
}

export interface PageInput {
  maxResults?: number | undefined;
  nextToken?: string | undefined;
}

export interface HistoryInput extends PageInput {
  executionArn: string;
  reverseOrder?: boolean | undefined;
  includeExecutionData?: boolean | undefined;
}

export interface ActivityDescription {
  activityArn: string;
  name: string;
  creationDate: number;
}

export interface ActivityTask {
  /** Absent when no task arrived within the long-poll window. */
  taskToken?: string | undefined;
  input?: string | undefined;
}

export interface StepFunctionsEngine {
  readonly region: string;
  readonly account: string;

  createStateMachine(
    input: CreateStateMachineInput,
  ): Promise<{ stateMachineArn: string; creationDate: number }>;
  describeStateMachine(stateMachineArn: string): Promise<StateMachineDescription>;
  updateStateMachine(input: UpdateStateMachineInput): Promise<{ updateDate: number; revisionId: string }>;
  deleteStateMachine(stateMachineArn: string): Promise<void>;
  listStateMachines(
    page: PageInput,
  ): Promise<Paged<{ stateMachineArn: string; name: string; type: StateMachineType; creationDate: number }>>;
  describeStateMachineForExecution(
    executionArn: string,
  ): Promise<StateMachineDescription & { updateDate: number }>;

  startExecution(input: StartExecutionInput): Promise<{ executionArn: string; startDate: number }>;
  /** Express machines only: runs to the end (at most five minutes) and returns the result. */
  startSyncExecution(input: StartExecutionInput): Promise<SyncExecutionResult>;
  stopExecution(input: {
    executionArn: string;
    error?: string;
    cause?: string;
  }): Promise<{ stopDate: number }>;
  describeExecution(executionArn: string): Promise<ExecutionDescription>;
  /**
   * RedriveExecution. Stepwise does not redrive yet: it answers `ExecutionNotRedrivable`,
   * with AWS's reason when AWS would refuse too.
   */
  redriveExecution(input: { executionArn: string; clientToken?: string | undefined }): Promise<{
    redriveDate: number;
  }>;
  listExecutions(
    input: PageInput & { stateMachineArn: string; statusFilter?: ExecutionStatus | undefined },
  ): Promise<Paged<ExecutionListItem>>;
  /** Events in the GetExecutionHistory shape; payload fields are JSON text, timestamps epoch ms. */
  getExecutionHistory(input: HistoryInput): Promise<Paged<HistoryEvent>>;

  createActivity(input: { name: string; tags?: TagInput[] | undefined }): Promise<ActivityDescription>;
  describeActivity(activityArn: string): Promise<ActivityDescription>;
  deleteActivity(activityArn: string): Promise<void>;
  listActivities(page: PageInput): Promise<Paged<ActivityDescription>>;
  /** Long-polls up to 60 s (or until `signal` aborts) for one task of the activity. */
  getActivityTask(
    input: { activityArn: string; workerName?: string | undefined },
    signal?: AbortSignal,
  ): Promise<ActivityTask>;
  sendTaskSuccess(input: { taskToken: string; output: string }): Promise<void>;
  sendTaskFailure(input: {
    taskToken: string;
    error?: string | undefined;
    cause?: string | undefined;
  }): Promise<void>;
  sendTaskHeartbeat(input: { taskToken: string }): Promise<void>;

  tagResource(resourceArn: string, tags: TagInput[]): Promise<void>;
  untagResource(resourceArn: string, tagKeys: string[]): Promise<void>;
  listTagsForResource(resourceArn: string): Promise<TagInput[]>;

  /** Stops taking work, finishes in-flight commits; every execution stays resumable. */
  close(): Promise<void>;
}
