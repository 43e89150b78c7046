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
  /** Absent for a machine's first revision (never updated), as on AWS. */
  revisionId?: string | undefined;
  /** A version's description (DescribeStateMachine on a version ARN). */
  description?: string | undefined;
}

export interface UpdateStateMachineInput {
  stateMachineArn: string;
  definition?: string | undefined;
  roleArn?: string | undefined;
  loggingConfiguration?: JsonObject | undefined;
  tracingConfiguration?: JsonObject | undefined;
  publish?: boolean | undefined;
  versionDescription?: string | undefined;
}

export interface RoutingConfigurationItem {
  stateMachineVersionArn: string;
  weight: number;
}

export interface StateMachineAliasDescription {
  stateMachineAliasArn: string;
  name: string;
  description?: string | undefined;
  routingConfiguration: RoutingConfigurationItem[];
  creationDate: number;
  updateDate: number;
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
  /** The version it ran: started with a version ARN or through an alias. */
  stateMachineVersionArn?: string | undefined;
  /** The alias it was started through. */
  stateMachineAliasArn?: string | undefined;
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
  stateMachineVersionArn?: string | undefined;
  stateMachineAliasArn?: string | undefined;
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

  /** `stateMachineVersionArn` when `publish` is set. */
  createStateMachine(
    input: CreateStateMachineInput,
  ): Promise<{ stateMachineArn: string; creationDate: number; stateMachineVersionArn?: string | undefined }>;
  /** Also answers a version ARN with that version. */
  describeStateMachine(stateMachineArn: string): Promise<StateMachineDescription>;
  updateStateMachine(input: UpdateStateMachineInput): Promise<{
    updateDate: number;
    revisionId?: string | undefined;
    stateMachineVersionArn?: string | undefined;
  }>;
  /** Publishes the current revision (or returns the version already published from it). */
  publishStateMachineVersion(input: {
    stateMachineArn: string;
    revisionId?: string | undefined;
    description?: string | undefined;
  }): Promise<{ stateMachineVersionArn: string; creationDate: number }>;
  /** Newest first. */
  listStateMachineVersions(
    input: PageInput & { stateMachineArn: string },
  ): Promise<Paged<{ stateMachineVersionArn: string; creationDate: number }>>;
  deleteStateMachineVersion(stateMachineVersionArn: string): Promise<void>;
  createStateMachineAlias(input: {
    name: string;
    description?: string | undefined;
    routingConfiguration: RoutingConfigurationItem[];
  }): Promise<{ stateMachineAliasArn: string; creationDate: number }>;
  describeStateMachineAlias(stateMachineAliasArn: string): Promise<StateMachineAliasDescription>;
  updateStateMachineAlias(input: {
    stateMachineAliasArn: string;
    description?: string | undefined;
    routingConfiguration?: RoutingConfigurationItem[] | undefined;
  }): Promise<{ updateDate: number }>;
  deleteStateMachineAlias(stateMachineAliasArn: string): Promise<void>;
  /** Oldest first (as AWS answers); a version ARN lists the aliases that route to it. */
  listStateMachineAliases(
    input: PageInput & { stateMachineArn: string },
  ): Promise<Paged<{ stateMachineAliasArn: string; creationDate: number }>>;
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
