/**
 * The one error registry: runtime error names as AWS Step Functions uses them, and the API error
 * codes of the AWS wire protocol. Every layer takes its names from here.
 */

/** Predefined runtime error names (the `Error` field of failures). */
export const StatesErrors = {
  ALL: 'States.ALL',
  DataLimitExceeded: 'States.DataLimitExceeded',
  Runtime: 'States.Runtime',
  Timeout: 'States.Timeout',
  TaskFailed: 'States.TaskFailed',
  Permissions: 'States.Permissions',
  HeartbeatTimeout: 'States.HeartbeatTimeout',
  ResultPathMatchFailure: 'States.ResultPathMatchFailure',
  ParameterPathFailure: 'States.ParameterPathFailure',
  BranchFailed: 'States.BranchFailed',
  NoChoiceMatched: 'States.NoChoiceMatched',
  IntrinsicFailure: 'States.IntrinsicFailure',
  ExceedToleratedFailureThreshold: 'States.ExceedToleratedFailureThreshold',
  ItemReaderFailed: 'States.ItemReaderFailed',
  ResultWriterFailed: 'States.ResultWriterFailed',
  QueryEvaluationError: 'States.QueryEvaluationError',
} as const;

export type StatesErrorName = (typeof StatesErrors)[keyof typeof StatesErrors];

/**
 * A failure raised while evaluating a state: it carries the AWS error name and cause text and is
 * handled by the state's Retry/Catch like any task failure.
 */
export class StatesRuntimeError extends Error {
  constructor(
    readonly error: string,
    readonly causeText: string,
    /** The field that failed (e.g. `Output/result`), as EvaluationFailed events name it. */
    readonly location?: string,
  ) {
    super(`${error}: ${causeText}`);
    this.name = 'StatesRuntimeError';
  }
}

/** A problem with a definition, found before anything runs. `location` is a JSON pointer. */
export class DefinitionError extends Error {
  constructor(
    message: string,
    readonly location: string,
    readonly code: string = 'SCHEMA_VALIDATION_FAILED',
  ) {
    super(location ? `${code}: ${message} at ${location}` : `${code}: ${message}`);
    this.name = 'DefinitionError';
  }
}

/** API error codes of the Step Functions wire protocol (`__type` suffixes). */
export const ApiErrors = {
  InvalidDefinition: 'InvalidDefinition',
  InvalidArn: 'InvalidArn',
  InvalidName: 'InvalidName',
  InvalidExecutionInput: 'InvalidExecutionInput',
  ExecutionDoesNotExist: 'ExecutionDoesNotExist',
  StateMachineDoesNotExist: 'StateMachineDoesNotExist',
  ExecutionAlreadyExists: 'ExecutionAlreadyExists',
  StateMachineAlreadyExists: 'StateMachineAlreadyExists',
  ValidationException: 'ValidationException',
  TaskDoesNotExist: 'TaskDoesNotExist',
  TaskTimedOut: 'TaskTimedOut',
  InvalidToken: 'InvalidToken',
  ActivityDoesNotExist: 'ActivityDoesNotExist',
  ActivityAlreadyExists: 'ActivityAlreadyExists',
  ExecutionLimitExceeded: 'ExecutionLimitExceeded',
  InvalidLoggingConfiguration: 'InvalidLoggingConfiguration',
  StateMachineTypeNotSupported: 'StateMachineTypeNotSupported',
  ResourceNotFound: 'ResourceNotFound',
  TooManyTags: 'TooManyTags',
  ConflictException: 'ConflictException',
  UnknownOperationException: 'UnknownOperationException',
  SerializationException: 'SerializationException',
  InvalidSignatureException: 'InvalidSignatureException',
  MissingAuthenticationTokenException: 'MissingAuthenticationTokenException',
  ExecutionNotRedrivable: 'ExecutionNotRedrivable',
  /** A transient condition (HTTP 503): clients, the AWS SDK included, retry it. */
  ServiceUnavailable: 'ServiceUnavailable',
  ServiceQuotaExceededException: 'ServiceQuotaExceededException',
} as const;

export type ApiErrorCode = (typeof ApiErrors)[keyof typeof ApiErrors];

/**
 * An error of the Step Functions API (the runtime raises it, the API server writes it as
 * `{"__type": "com.amazonaws.swf.service.v2.model#<code>", "message": …}` with HTTP 400).
 */
export class ServiceError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    /** Extra members AWS sends with some errors (e.g. `resourceName`). */
    readonly extra: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}
