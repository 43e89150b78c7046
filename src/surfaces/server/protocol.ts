/**
 * The AWS JSON 1.0 wire protocol of Step Functions: error bodies, the request shape checks that
 * AWS's front end ("coral") applies before the service sees a request, and date conversion.
 */
import { ApiErrors, ServiceError } from '../../language/errors.js';

export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';
export const TARGET_PREFIX = 'AWSStepFunctions.';

/** Errors of the service model carry this `__type` namespace. */
const SERVICE_NS = 'com.amazonaws.swf.service.v2.model';
/** Errors raised by AWS's request front end (auth, framing) use this one. */
const FRONTEND_NS = 'com.amazon.coral.service';

/** An error response: HTTP status, `__type` and the JSON members that go with it. */
export class WireError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Readonly<Record<string, string>> = {},
    readonly namespace: string = SERVICE_NS,
  ) {
    super(message);
    this.name = 'WireError';
  }

  body(): Record<string, string> {
    return { ...this.extra, __type: `${this.namespace}#${this.code}`, message: this.message };
  }
}

/** A service error (the ServiceError codes plus a few the engine interface does not produce). */
export function serviceError(code: string, message: string, extra: Record<string, string> = {}): WireError {
  return new WireError(400, code, message, extra);
}

export function frontendError(code: string, message: string, status = 400): WireError {
  return new WireError(status, code, message, {}, FRONTEND_NS);
}

/** The HTTP status AWS's model gives an error (400 unless listed). */
const ERROR_STATUS: Readonly<Record<string, number>> = {
  ConflictException: 409,
  ServiceQuotaExceededException: 402,
  ResourceNotFound: 404,
};

export function fromServiceError(e: ServiceError): WireError {
  // AWS's common errors: ServiceUnavailable is a 503 of the service front end, which SDKs retry.
  if (e.code === ApiErrors.ServiceUnavailable) return frontendError(e.code, e.message, 503);
  return new WireError(ERROR_STATUS[e.code] ?? 400, e.code, e.message, e.extra);
}

/** Epoch milliseconds (the engine's dates) to the wire's epoch seconds. */
export function seconds(ms: number): number;
export function seconds(ms: number | undefined): number | undefined;
export function seconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

// ---------------------------------------------------------------- request shapes

export type Member =
  | {
      type: 'string';
      required?: boolean;
      min?: number;
      max?: number;
      values?: readonly string[];
      /** A regular expression the whole value must match (shown in AWS's message as written). */
      pattern?: string;
      sensitive?: boolean;
    }
  | { type: 'integer'; required?: boolean; min?: number; max?: number }
  | { type: 'boolean'; required?: boolean }
  | { type: 'structure'; required?: boolean }
  | { type: 'tags'; required?: boolean }
  /** A routing configuration: 1–2 items of `stateMachineVersionArn` and `weight`. */
  | { type: 'routing'; required?: boolean }
  | { type: 'strings'; required?: boolean; itemMin?: number; itemMax?: number };

export type Shape = Readonly<Record<string, Member>>;
export type Body = Readonly<Record<string, unknown>>;

const INT_MAX = 2147483647;

/**
 * Checks a request body against an operation's input shape and throws ValidationException with
 * every violation, worded as AWS words them. Unknown members are ignored, as AWS does.
 */
export function checkShape(body: Body, shape: Shape): void {
  const problems: string[] = [];
  for (const [name, m] of Object.entries(shape)) {
    const v = Object.prototype.hasOwnProperty.call(body, name) ? body[name] : undefined;
    if (v === undefined || v === null) {
      if (m.required) problems.push(violation(null, name, 'Member must not be null', false));
      continue;
    }
    problems.push(...memberProblems(v, name, m));
  }
  if (problems.length > 0) {
    const n = problems.length;
    throw serviceError(
      'ValidationException',
      `${n} validation error${n === 1 ? '' : 's'} detected: ${problems.join('; ')}`,
    );
  }
}

function memberProblems(v: unknown, name: string, m: Member): string[] {
  switch (m.type) {
    case 'string': {
      const sensitive = m.sensitive === true;
      if (typeof v !== 'string') return [violation(v, name, 'Member must be a string', sensitive)];
      if (m.min !== undefined && v.length < m.min) {
        return [violation(v, name, `Member must have length greater than or equal to ${m.min}`, sensitive)];
      }
      if (m.max !== undefined && v.length > m.max) {
        return [violation(v, name, `Member must have length less than or equal to ${m.max}`, sensitive)];
      }
      if (m.values && !m.values.includes(v)) {
        return [
          violation(v, name, `Member must satisfy enum value set: [${m.values.join(', ')}]`, sensitive),
        ];
      }
      if (m.pattern !== undefined && !new RegExp(m.pattern, 'u').test(v)) {
        return [
          violation(v, name, `Member must satisfy regular expression pattern: ${m.pattern}`, sensitive),
        ];
      }
      return [];
    }
    case 'integer': {
      if (typeof v !== 'number' || !Number.isInteger(v) || Math.abs(v) > INT_MAX) {
        return [violation(v, name, 'Member must be an integer', false)];
      }
      if (m.min !== undefined && v < m.min) {
        return [violation(v, name, `Member must have value greater than or equal to ${m.min}`, false)];
      }
      if (m.max !== undefined && v > m.max) {
        return [violation(v, name, `Member must have value less than or equal to ${m.max}`, false)];
      }
      return [];
    }
    case 'boolean':
      return typeof v === 'boolean' ? [] : [violation(v, name, 'Member must be a boolean', false)];
    case 'structure':
      return isPlainObject(v) ? [] : [violation(v, name, 'Member must be a structure', false)];
    case 'strings': {
      if (!Array.isArray(v)) return [violation(v, name, 'Member must be a list', false)];
      const out: string[] = [];
      v.forEach((item, i) => {
        out.push(
          ...memberProblems(item, `${name}.${i + 1}.member`, {
            type: 'string',
            ...(m.itemMin !== undefined ? { min: m.itemMin } : {}),
            ...(m.itemMax !== undefined ? { max: m.itemMax } : {}),
          }),
        );
      });
      return out;
    }
    case 'routing': {
      if (!Array.isArray(v)) return [violation(v, name, 'Member must be a list', false)];
      const out: string[] = [];
      v.forEach((item, i) => {
        const at = `${name}.${i + 1}.member`;
        if (!isPlainObject(item)) {
          out.push(violation(item, at, 'Member must be a structure', false));
          return;
        }
        const arnValue = item.stateMachineVersionArn;
        if (arnValue === undefined || arnValue === null)
          out.push(violation(null, `${at}.stateMachineVersionArn`, 'Member must not be null', false));
        else
          out.push(
            ...memberProblems(arnValue, `${at}.stateMachineVersionArn`, { type: 'string', min: 1, max: 256 }),
          );
        if (item.weight === undefined || item.weight === null)
          out.push(violation(null, `${at}.weight`, 'Member must not be null', false));
        else out.push(...memberProblems(item.weight, `${at}.weight`, { type: 'integer', min: 0, max: 100 }));
      });
      if (v.length < 1 || v.length > 2) {
        // AWS shows the list as its Java model prints it.
        const shown = v.map((item) =>
          isPlainObject(item)
            ? `RoutingConfigurationListItem(stateMachineVersionArn=${String(item.stateMachineVersionArn)}, weight=${String(item.weight)})`
            : JSON.stringify(item),
        );
        out.push(
          `Value '[${shown.join(', ')}]' at '${name}' failed to satisfy constraint: Member must have length ${
            v.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 2'
          }`,
        );
      }
      return out;
    }
    case 'tags': {
      if (!Array.isArray(v)) return [violation(v, name, 'Member must be a list', false)];
      const out: string[] = [];
      v.forEach((tag, i) => {
        const at = `${name}.${i + 1}.member`;
        if (!isPlainObject(tag)) {
          out.push(violation(tag, at, 'Member must be a structure', false));
          return;
        }
        // AWS's model leaves both members optional; the service then needs a key.
        if (tag.key !== undefined && tag.key !== null) {
          out.push(...memberProblems(tag.key, `${at}.key`, { type: 'string', min: 1, max: 128 }));
        }
        if (tag.value !== undefined && tag.value !== null) {
          out.push(...memberProblems(tag.value, `${at}.value`, { type: 'string', min: 0, max: 256 }));
        }
      });
      return out;
    }
  }
}

function violation(v: unknown, at: string, constraint: string, sensitive: boolean): string {
  // AWS leaves the value of sensitive members (definition, input, cause…) out of the message.
  if (sensitive) return `Value at '${at}' failed to satisfy constraint: ${constraint}`;
  const shown = v === null ? 'null' : `'${typeof v === 'string' ? v : JSON.stringify(v)}'`;
  return `Value ${shown} at '${at}' failed to satisfy constraint: ${constraint}`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------- service-level checks

const MAX_NAME = 80;
/** Whitespace, brackets, wildcards, punctuation and control characters AWS refuses in names. */
const BAD_NAME_CHARS = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/u;

/** State machine, execution and activity names (length is checked by the shape first). */
export function checkName(name: string): void {
  if (name.length === 0 || name.length > MAX_NAME || BAD_NAME_CHARS.test(name)) {
    throw serviceError('InvalidName', `Invalid Name: '${name}'`);
  }
}

export type ArnKind = 'stateMachine' | 'execution' | 'activity' | 'taggable';

const ARN = /^arn:[a-z0-9-]+:states:[a-z0-9-]+:\d{12}:([A-Za-z]+):(.+)$/;
const KIND_TYPES: Record<ArnKind, readonly string[]> = {
  stateMachine: ['stateMachine'],
  execution: ['execution', 'express'],
  activity: ['activity'],
  taggable: ['stateMachine', 'activity'],
};

/** Malformed ARNs or ARNs of the wrong resource type fail with InvalidArn, as AWS words it. */
export function checkArn(arn: string, kind: ArnKind): void {
  const m = ARN.exec(arn);
  if (!m) throw serviceError('InvalidArn', `Invalid Arn: 'Invalid ARN prefix: ${arn}'`);
  const type = m[1]!;
  if (!KIND_TYPES[kind].includes(type)) {
    throw serviceError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${type}'`);
  }
}

/** IAM role ARNs: `arn:<partition>:iam::<account>:role/<path/name>`. */
export function checkRoleArn(arn: string): void {
  if (!/^arn:[a-z0-9-]+:iam::\d{12}:role\/.+$/.test(arn)) {
    throw serviceError('InvalidArn', `Invalid Arn: 'Invalid ARN prefix: ${arn}'`);
  }
}

export const MAX_TAGS = 50;

export function checkTagCount(count: number, resourceName: string): void {
  if (count > MAX_TAGS) {
    throw serviceError('TooManyTags', `Too many tags: a resource can have at most ${MAX_TAGS} tags`, {
      resourceName,
    });
  }
}

export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** Execution input: JSON text of at most 256 KiB (UTF-8). */
export function checkExecutionInput(input: string): void {
  if (Buffer.byteLength(input, 'utf8') > MAX_PAYLOAD_BYTES) {
    throw serviceError(
      'InvalidExecutionInput',
      `Invalid State Machine Execution Input: 'The input exceeds the maximum size of ${MAX_PAYLOAD_BYTES} bytes'`,
    );
  }
  const problem = jsonProblem(input);
  if (problem !== undefined) {
    throw serviceError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${problem}'`);
  }
}

/** Task output for SendTaskSuccess: the same limits, AWS's InvalidOutput error. */
export function checkTaskOutput(output: string): void {
  if (Buffer.byteLength(output, 'utf8') > MAX_PAYLOAD_BYTES) {
    throw serviceError(
      'InvalidOutput',
      `Invalid Output: 'The output exceeds the maximum size of ${MAX_PAYLOAD_BYTES} bytes'`,
    );
  }
  const problem = jsonProblem(output);
  if (problem !== undefined) throw serviceError('InvalidOutput', `Invalid Output: '${problem}'`);
}

function jsonProblem(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export const MAX_DEFINITION_BYTES = 1024 * 1024;

export function checkDefinitionSize(definition: string): void {
  if (Buffer.byteLength(definition, 'utf8') > MAX_DEFINITION_BYTES) {
    throw serviceError(
      'InvalidDefinition',
      `Invalid State Machine Definition: 'The definition exceeds the maximum size of ${MAX_DEFINITION_BYTES} bytes'`,
    );
  }
}
