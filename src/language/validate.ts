/**
 * The definition validator behind ValidateStateMachineDefinition and `stepwise validate`. Unlike
 * `compileDefinition`, which stops at the first problem, it collects every finding with AWS's
 * codes, messages and JSON-pointer locations, and never throws, whatever the input.
 */
import { DefinitionError } from './errors.js';
import {
  JSONATA_CHOICE_RULE_FIELDS,
  MACHINE_FIELDS,
  RETRIER_FIELDS,
  STATE_TYPES,
  catcherFields,
  isStateType,
  stateFields,
} from './fields.js';
import { compileIntrinsic, isIntrinsicCall } from './intrinsics.js';
import type { JsonObject, JsonValue } from './json.js';
import { getOwn, isJsonObject } from './json.js';
import { compileJsonataTemplate, isJsonataExpression } from './jsonata.js';
import { compilePath, compileReferencePath } from './jsonpath.js';
import { compileChoiceRule } from './choice.js';
import { isRfc3339Timestamp } from './timestamp.js';
import { parseResource } from './resources.js';
import { parseJsonWithPositions, SourceSyntaxError } from './source-map.js';

export type Severity = 'ERROR' | 'WARNING';

export interface Diagnostic {
  severity: Severity;
  /** AWS's diagnostic code, e.g. SCHEMA_VALIDATION_FAILED, MISSING_TRANSITION_TARGET. */
  code: string;
  message: string;
  /** JSON pointer (`/` is the root, `/States/X/Next`…); empty when AWS gives none. */
  location: string;
}

export interface ValidateOptions {
  type?: 'STANDARD' | 'EXPRESS';
}

type QL = 'JSONPath' | 'JSONata';

/** CreateStateMachine's limit on the definition text (UTF-8 bytes). */
export const MAX_DEFINITION_BYTES = 1024 * 1024;
const MAX_NAME = 80;
/** Deeper templates are refused rather than risking the stack. */
const MAX_VALUE_DEPTH = 512;
const MAX_MACHINE_DEPTH = 64;
const MAX_INT = 99999999;
const MAX_ITEMS = 100_000_000;

/** Error names AWS predefines; other `States.` names are reserved but accepted (with a warning). */
const KNOWN_STATES_ERRORS = new Set([
  'States.ALL',
  'States.DataLimitExceeded',
  'States.Runtime',
  'States.Timeout',
  'States.TaskFailed',
  'States.Permissions',
  'States.HeartbeatTimeout',
  'States.ResultPathMatchFailure',
  'States.ParameterPathFailure',
  'States.BranchFailed',
  'States.NoChoiceMatched',
  'States.IntrinsicFailure',
  'States.ExceedToleratedFailureThreshold',
  'States.ItemReaderFailed',
  'States.ResultWriterFailed',
  'States.QueryEvaluationError',
  'States.Http.Socket',
  'States.Http.StatusCode',
]);

/**
 * Optimised integrations and their actions (`*`: any action). DynamoDB is the one whose action
 * list AWS is known to check (`dynamodb:query` is refused); other services accept any action.
 */
const INTEGRATIONS: ReadonlyMap<string, ReadonlySet<string> | '*'> = new Map<
  string,
  ReadonlySet<string> | '*'
>([
  ['dynamodb', new Set(['getItem', 'putItem', 'updateItem', 'deleteItem'])],
  // The optimized API Gateway integration has one action (no aws-sdk equivalent).
  ['apigateway', new Set(['invoke'])],
  ...[
    'lambda',
    'sns',
    'sqs',
    'events',
    'states',
    'athena',
    'batch',
    'ecs',
    'eks',
    'glue',
    'glue-databrew',
    // The resource AWS documents for DataBrew (`arn:aws:states:::databrew:startJobRun[.sync]`).
    'databrew',
    'sagemaker',
    'elasticmapreduce',
    'emr-containers',
    'emr-serverless',
    'codebuild',
    'http',
    'bedrock',
    'mediaconvert',
    's3',
    'evidently',
    'redshift-data',
    'aws-sdk',
  ].map((s): [string, '*'] => [s, '*']),
]);

/** Header names AWS does not permit in `apigateway:invoke` Headers (with `X-Forwarded*`, `X-Amz*`). */
const API_GATEWAY_FORBIDDEN_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'connection',
  'content-md5',
  'expect',
  'host',
  'max-forwards',
  'proxy-authenticate',
  'server',
  'te',
  'transfer-encoding',
  'trailer',
  'upgrade',
  'via',
  'www-authenticate',
]);

/** Whether AWS refuses this header name in an `apigateway:invoke` task's Headers. */
export function isApiGatewayForbiddenHeader(name: string): boolean {
  const n = name.toLowerCase();
  return API_GATEWAY_FORBIDDEN_HEADERS.has(n) || n.startsWith('x-forwarded') || n.startsWith('x-amz');
}

const IDENTIFIER = /^[\p{L}_][\p{L}\p{N}_]*$/u;

function esc(key: string | number): string {
  return String(key).replace(/~/g, '~0').replace(/\//g, '~1');
}

function ptr(base: string, key: string | number): string {
  return `${base}/${esc(key)}`;
}

function typeName(v: JsonValue | undefined): string {
  if (v === null) return 'Null';
  if (Array.isArray(v)) return 'Array';
  if (typeof v === 'string') return 'String';
  if (typeof v === 'number') return 'Number';
  if (typeof v === 'boolean') return 'Boolean';
  return 'Object';
}

/** The message of a DefinitionError without its `CODE: ` prefix and ` at location` suffix. */
function bareMessage(e: DefinitionError): string {
  let m = e.message;
  if (m.startsWith(`${e.code}: `)) m = m.slice(e.code.length + 2);
  if (e.location && m.endsWith(` at ${e.location}`)) m = m.slice(0, -(e.location.length + 4));
  return m;
}

function validPath(text: string): boolean {
  try {
    // AWS's path parser ignores trailing blanks (`"$$.Execution.Name "` is deployed in the wild).
    compilePath(text.trimEnd());
    return true;
  } catch {
    return false;
  }
}

function validReferencePath(text: string): boolean {
  try {
    compileReferencePath(text.trimEnd());
    return true;
  } catch {
    return false;
  }
}

function validIntrinsic(text: string): boolean {
  try {
    compileIntrinsic(text);
    return true;
  } catch {
    return false;
  }
}

function looksDynamic(s: string): boolean {
  return /^\$(\$|\.|\[|$)/.test(s) || isIntrinsicCall(s);
}

interface MachineInfo {
  names: string[];
  edges: Map<string, string[]>;
  terminal: boolean;
  /** A state or transition too broken to follow: reachability and terminal checks would only echo it. */
  broken: boolean;
}

class Validator {
  readonly out: Diagnostic[] = [];
  /** The machine being checked, to mark it broken. */
  current: MachineInfo | undefined;
  readonly express: boolean;
  rootQL: QL = 'JSONPath';
  /** Every state name in the definition with its pointer: names are unique across all branches. */
  readonly allNames = new Map<string, string>();

  constructor(options: ValidateOptions) {
    this.express = options.type === 'EXPRESS';
  }

  add(severity: Severity, code: string, message: string, location: string): void {
    this.out.push({ severity, code, message, location: location === '' ? '/' : location });
  }

  error(message: string, location: string, code = 'SCHEMA_VALIDATION_FAILED'): void {
    this.add('ERROR', code, message, location);
  }

  warn(code: string, message: string, location: string): void {
    this.add('WARNING', code, message, location);
  }

  fromDefinitionError(e: unknown, fallbackLocation: string): void {
    if (e instanceof DefinitionError) {
      this.error(bareMessage(e), e.location || fallbackLocation, e.code);
    } else {
      this.error(`The value could not be validated: ${describe(e)}`, fallbackLocation);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Field helpers: each reports its own problem and returns undefined when the value is unusable.

  str(obj: JsonObject, key: string, p: string): string | undefined {
    const v = getOwn(obj, key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      this.error('Expected value of type String', ptr(p, key));
      return undefined;
    }
    return v;
  }

  obj(obj: JsonObject, key: string, p: string): JsonObject | undefined {
    const v = getOwn(obj, key);
    if (v === undefined) return undefined;
    if (!isJsonObject(v)) {
      this.error('Expected value of type Object', ptr(p, key));
      return undefined;
    }
    return v;
  }

  /** An integer or number literal in range; in JSONata states also a `{% %}` expression. */
  num(
    obj: JsonObject,
    key: string,
    p: string,
    ql: QL,
    opts: { min: number; max?: number; integer?: boolean },
  ): void {
    const v = getOwn(obj, key);
    if (v === undefined) return;
    if (ql === 'JSONata' && isJsonataExpression(v)) {
      this.jsonata(v, key, ptr(p, key));
      return;
    }
    const integer = opts.integer !== false;
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
      this.error(`Expected value of type ${integer ? 'Integer' : 'Number'}`, ptr(p, key));
      return;
    }
    if (v < opts.min) this.error(`The value for the field '${key}' must be >= ${opts.min}`, ptr(p, key));
    else if (opts.max !== undefined && v > opts.max)
      this.error(`The value for the field '${key}' must be <= ${opts.max}`, ptr(p, key));
  }

  path(obj: JsonObject, key: string, p: string, nullable = false): void {
    const v = getOwn(obj, key);
    if (v === undefined || (nullable && v === null)) return;
    if (typeof v !== 'string') {
      this.error('Expected value of type String', ptr(p, key));
      return;
    }
    if (!validPath(v)) this.error(`The value for the field '${key}' must be a valid JSONPath`, ptr(p, key));
  }

  /** Exactly one of `key` and `keyPath` may be given. */
  exclusive(obj: JsonObject, a: string, b: string, p: string): void {
    if (getOwn(obj, a) !== undefined && getOwn(obj, b) !== undefined)
      this.error(`The fields '${a}' and '${b}' cannot be used together`, p);
  }

  /** A JSONPath payload template: `.$` keys take a path or an intrinsic call. */
  payload(v: JsonValue, p: string, depth = 0): void {
    if (depth > MAX_VALUE_DEPTH) {
      this.error(`The value is nested more than ${MAX_VALUE_DEPTH} levels deep`, p);
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => this.payload(x, ptr(p, i), depth + 1));
      return;
    }
    if (!isJsonObject(v)) return;
    for (const k of Object.keys(v)) {
      const x = v[k]!;
      if (k.endsWith('.$')) {
        const ok =
          typeof x === 'string' &&
          (isIntrinsicCall(x) ? validIntrinsic(x) : x.startsWith('$') && validPath(x));
        if (!ok)
          this.error(
            `The value for the field '${k}' must be a valid JSONPath or a valid intrinsic function call`,
            p,
          );
      } else {
        if (typeof x === 'string' && looksDynamic(x))
          this.warn(
            'NO_DOLLAR',
            `The value for the field '${k}' looks like a JSONPath or an intrinsic function call, but the field name does not end with '.$'`,
            ptr(p, k),
          );
        this.payload(x, ptr(p, k), depth + 1);
      }
    }
  }

  /** A JSONata template: any JSON value whose `{% %}` strings must compile. */
  jsonata(v: JsonValue, field: string, p: string): void {
    try {
      compileJsonataTemplate(v, field, p);
    } catch (e) {
      if (e instanceof RangeError) this.error(`The value is nested too deeply`, p);
      else this.fromDefinitionError(e, p);
    }
  }

  /** Arguments / Output / Items…: a `{% %}` string or a template of the given JSON types. */
  jsonataField(obj: JsonObject, key: string, p: string, types?: readonly string[]): void {
    const v = getOwn(obj, key);
    if (v === undefined) return;
    if (types && !isJsonataExpression(v) && !types.includes(typeName(v))) {
      this.error(`Expected value of type ${types.join(' or ')}`, ptr(p, key));
      return;
    }
    this.jsonata(v, key, ptr(p, key));
  }

  /** A template field in either language: Parameters/Arguments, ItemSelector, BatchInput… */
  template(obj: JsonObject, key: string, p: string, ql: QL): void {
    const v = getOwn(obj, key);
    if (v === undefined) return;
    if (ql === 'JSONata') this.jsonata(v, key, ptr(p, key));
    else this.payload(v, ptr(p, key));
  }

  /** Names assigned by each enclosing machine, innermost last. */
  private readonly scopeNames: Set<string>[] = [];

  assign(obj: JsonObject, p: string, ql: QL): void {
    const a = getOwn(obj, 'Assign');
    if (a === undefined) return;
    const ap = ptr(p, 'Assign');
    if (!isJsonObject(a)) {
      this.error('Expected value of type Object', ap);
      return;
    }
    for (const k of Object.keys(a)) {
      const name = ql === 'JSONPath' && k.endsWith('.$') ? k.slice(0, -2) : k;
      if (!IDENTIFIER.test(name))
        this.error(`The variable name '${name}' is not a valid identifier`, ptr(ap, k));
      else if (name.length > MAX_NAME)
        this.error(`The variable name '${name}' is longer than ${MAX_NAME} characters`, ptr(ap, k));
      else if (name === 'states')
        this.error(`The variable name 'states' is reserved by Step Functions`, ptr(ap, k));
      else if (this.scopeNames.slice(0, -1).some((outer) => outer.has(name)))
        this.error(
          `The variable '${name}' is assigned in an outer scope; a nested scope cannot assign it`,
          ptr(ap, k),
        );
    }
    if (ql === 'JSONata') this.jsonata(a, 'Assign', ap);
    else this.payload(a, ap);
  }

  errorEquals(obj: JsonObject, p: string): string[] | undefined {
    const v = getOwn(obj, 'ErrorEquals');
    if (v === undefined) {
      this.error('These fields are required: [ErrorEquals]', p);
      return undefined;
    }
    const ep = ptr(p, 'ErrorEquals');
    if (!Array.isArray(v)) {
      this.error('Expected value of type Array', ep);
      return undefined;
    }
    if (v.length === 0) {
      this.error(`The field 'ErrorEquals' must contain at least one error name`, ep);
      return undefined;
    }
    const names: string[] = [];
    v.forEach((e, i) => {
      if (typeof e !== 'string') {
        this.error('Expected value of type String', ptr(ep, i));
        return;
      }
      names.push(e);
      if (e.startsWith('States.') && !KNOWN_STATES_ERRORS.has(e))
        this.warn(
          'RESERVED_ERROR_NAME',
          `'${e}' uses the reserved 'States.' prefix but is not a predefined error name`,
          ptr(ep, i),
        );
    });
    if (names.includes('States.ALL') && v.length > 1)
      this.error(`'States.ALL' must appear alone in 'ErrorEquals'`, ep);
    return names;
  }

  retriers(obj: JsonObject, p: string): void {
    const v = getOwn(obj, 'Retry');
    if (v === undefined) return;
    const rp = ptr(p, 'Retry');
    if (!Array.isArray(v)) {
      this.error('Expected value of type Array', rp);
      return;
    }
    v.forEach((r, i) => {
      const ip = ptr(rp, i);
      if (!isJsonObject(r)) {
        this.error('Expected value of type Object', ip);
        return;
      }
      this.unknownFields(r, RETRIER_FIELDS, ip);
      const names = this.errorEquals(r, ip);
      if (names?.includes('States.ALL') && i !== v.length - 1)
        this.error(`A retrier with 'States.ALL' must be the last one in 'Retry'`, ip);
      this.num(r, 'IntervalSeconds', ip, 'JSONPath', { min: 1, max: MAX_INT });
      this.num(r, 'MaxAttempts', ip, 'JSONPath', { min: 0, max: MAX_INT });
      this.num(r, 'BackoffRate', ip, 'JSONPath', { min: 1, integer: false });
      this.num(r, 'MaxDelaySeconds', ip, 'JSONPath', { min: 1, max: 31622400 });
      const jitter = this.str(r, 'JitterStrategy', ip);
      if (jitter !== undefined && jitter !== 'FULL' && jitter !== 'NONE')
        this.error(
          `The value for the field 'JitterStrategy' must be one of [FULL, NONE]`,
          ptr(ip, 'JitterStrategy'),
        );
      this.str(r, 'Comment', ip);
    });
  }

  catchers(obj: JsonObject, p: string, ql: QL, names: ReadonlySet<string>, edges: string[]): void {
    const v = getOwn(obj, 'Catch');
    if (v === undefined) return;
    const cp = ptr(p, 'Catch');
    if (!Array.isArray(v)) {
      this.error('Expected value of type Array', cp);
      return;
    }
    v.forEach((c, i) => {
      const ip = ptr(cp, i);
      if (!isJsonObject(c)) {
        this.error('Expected value of type Object', ip);
        return;
      }
      this.unknownFields(c, catcherFields(ql), ip);
      const errs = this.errorEquals(c, ip);
      if (errs?.includes('States.ALL') && i !== v.length - 1)
        this.error(`A catcher with 'States.ALL' must be the last one in 'Catch'`, ip);
      this.target(c, 'Next', ip, names, edges, true);
      if (ql === 'JSONPath') this.resultPath(c, ip);
      else this.jsonataField(c, 'Output', ip);
      this.assign(c, ip, ql);
      this.str(c, 'Comment', ip);
    });
  }

  resultPath(obj: JsonObject, p: string): void {
    const v = getOwn(obj, 'ResultPath');
    if (v === undefined || v === null) return;
    if (typeof v !== 'string') this.error('Expected value of type String', ptr(p, 'ResultPath'));
    else if (!validReferencePath(v))
      this.error(`The value for the field 'ResultPath' must be a valid ReferencePath`, ptr(p, 'ResultPath'));
  }

  /** A transition field (Next, Default, a catcher's Next): a string naming a sibling state. */
  target(
    obj: JsonObject,
    key: string,
    p: string,
    names: ReadonlySet<string>,
    edges: string[],
    required: boolean,
  ): string | undefined {
    const v = getOwn(obj, key);
    if (v === undefined) {
      if (required) this.error(`These fields are required: [${key}]`, p);
      return undefined;
    }
    if (typeof v !== 'string') {
      this.error('Expected value of type String', ptr(p, key));
      return undefined;
    }
    if (!names.has(v)) {
      this.error(`Missing '${key}' target: ${v}`, ptr(p, key), 'MISSING_TRANSITION_TARGET');
      if (this.current) this.current.broken = true;
      return undefined;
    }
    edges.push(v);
    return v;
  }

  unknownFields(obj: JsonObject, allowed: readonly string[], p: string): void {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) this.error(`The field '${k}' is not supported by Step Functions`, p);
    }
  }

  queryLanguage(obj: JsonObject, p: string): QL | undefined {
    const v = getOwn(obj, 'QueryLanguage');
    if (v === undefined) return undefined;
    if (v !== 'JSONPath' && v !== 'JSONata') {
      this.error(
        `The value for the field 'QueryLanguage' must be one of [JSONPath, JSONata]`,
        ptr(p, 'QueryLanguage'),
      );
      return undefined;
    }
    return v;
  }

  // -------------------------------------------------------------------------------------------
  // Structure

  run(def: unknown): void {
    if (!isJsonObject(def)) {
      this.error('Definition must be a valid JSON object', '');
      this.out[this.out.length - 1]!.location = '';
      return;
    }
    const root = def;
    this.size(root);
    this.unknownFields(root, MACHINE_FIELDS, '');
    this.rootQL = this.queryLanguage(root, '') ?? 'JSONPath';
    this.num(root, 'TimeoutSeconds', '', 'JSONPath', { min: 1, max: MAX_INT });
    this.str(root, 'Version', '');
    this.machine(root, '', this.rootQL, 0);
  }

  size(root: JsonObject): void {
    let text: string;
    try {
      text = JSON.stringify(root);
    } catch {
      return; // cyclic or too deep: other checks report the shape
    }
    let bytes = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 2 : 3;
    }
    if (bytes > MAX_DEFINITION_BYTES)
      this.error(
        `The definition is ${bytes} bytes long; Step Functions accepts at most ${MAX_DEFINITION_BYTES}`,
        '',
      );
  }

  machine(m: JsonObject, p: string, ql: QL, depth: number, extra: readonly string[] = []): void {
    if (depth > MAX_MACHINE_DEPTH) {
      this.error(`States are nested more than ${MAX_MACHINE_DEPTH} levels deep`, p, 'TOO_DEEPLY_NESTED');
      return;
    }
    if (depth > 0) this.unknownFields(m, ['Comment', 'StartAt', 'States', ...extra], p);
    const missing = ['States', 'StartAt'].filter((k) => getOwn(m, k) === undefined);
    if (missing.length > 0) this.error(`These fields are required: [${missing.join(', ')}]`, p);
    this.str(m, 'Comment', p);
    const startAt = this.str(m, 'StartAt', p);
    const statesJson = getOwn(m, 'States');
    if (statesJson === undefined) return;
    const sp = ptr(p, 'States');
    if (!isJsonObject(statesJson)) {
      this.error('Expected value of type Object', sp);
      return;
    }
    const names = Object.keys(statesJson);
    if (names.length === 0) {
      this.error(`The field 'States' must contain at least one state`, sp);
      return;
    }
    const nameSet = new Set(names);
    const info: MachineInfo = { names, edges: new Map(), terminal: false, broken: false };
    // Variables this machine assigns: nested machines (branches, iterations) may not reuse them.
    this.scopeNames.push(assignedNames(statesJson));
    try {
      this.machineStates(statesJson, names, nameSet, info, sp, p, ql, depth, startAt);
    } finally {
      this.scopeNames.pop();
    }
  }

  /** The states of one machine (split out of `machine` so the variable scope can wrap it). */
  private machineStates(
    statesJson: JsonObject,
    names: string[],
    nameSet: Set<string>,
    info: MachineInfo,
    sp: string,
    p: string,
    ql: QL,
    depth: number,
    startAt: string | undefined,
  ): void {
    for (const name of names) {
      const statePointer = ptr(sp, name);
      if (name.length === 0 || name.length > MAX_NAME)
        this.error(
          `State names must be between 1 and ${MAX_NAME} characters long`,
          statePointer,
          'INVALID_STATE_NAME',
        );
      const seen = this.allNames.get(name);
      if (seen !== undefined)
        this.error(`Duplicate State name: ${name} (also at ${seen})`, statePointer, 'DUPLICATE_STATE_NAME');
      else this.allNames.set(name, statePointer);
      const edges: string[] = [];
      info.edges.set(name, edges);
      this.current = info;
      const ends = this.state(getOwn(statesJson, name)!, statePointer, nameSet, ql, edges, depth);
      if (ends === undefined) info.broken = true;
      else if (ends) info.terminal = true;
    }
    if (startAt !== undefined && !nameSet.has(startAt)) {
      this.error(`Missing 'StartAt' target: ${startAt}`, ptr(p, 'StartAt'), 'MISSING_TRANSITION_TARGET');
      return;
    }
    if (info.broken) return;
    if (startAt !== undefined) this.reachability(startAt, info, sp);
    if (!info.terminal) this.error('Workflow has no terminal state', p, 'MISSING_END_STATE');
  }

  reachability(startAt: string, info: MachineInfo, sp: string): void {
    const seen = new Set<string>([startAt]);
    const stack = [startAt];
    while (stack.length > 0) {
      for (const n of info.edges.get(stack.pop()!) ?? []) {
        if (!seen.has(n)) {
          seen.add(n);
          stack.push(n);
        }
      }
    }
    for (const n of info.names) {
      if (!seen.has(n)) this.error(`State "${n}" is not reachable.`, ptr(sp, n), 'MISSING_TRANSITION_TARGET');
    }
  }

  /** Validates one state; returns true when it can end its machine, undefined if unfollowable. */
  state(
    json: JsonValue,
    p: string,
    names: ReadonlySet<string>,
    inherited: QL,
    edges: string[],
    depth: number,
  ): boolean | undefined {
    if (!isJsonObject(json)) {
      this.error('Expected value of type Object', p);
      return undefined;
    }
    const typeValue = getOwn(json, 'Type');
    if (typeValue === undefined) {
      this.error('These fields are required: [Type]', p);
      return undefined;
    }
    if (!isStateType(typeValue)) {
      this.error(`The value for the field 'Type' must be one of [${STATE_TYPES.join(', ')}]`, ptr(p, 'Type'));
      return undefined;
    }
    const type = typeValue;
    const own = this.queryLanguage(json, p);
    if (own === 'JSONPath' && this.rootQL === 'JSONata')
      this.error(`'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine`, p);
    const ql = own ?? inherited;
    const allowed = stateFields(type, ql);
    this.unknownFields(json, allowed, p);
    this.str(json, 'Comment', p);

    let terminal: boolean | undefined = type === 'Succeed' || type === 'Fail';
    if (allowed.includes('Next')) terminal = this.flow(json, p, names, edges);

    if (ql === 'JSONPath') {
      this.path(json, 'InputPath', p, true);
      this.path(json, 'OutputPath', p, true);
      if (allowed.includes('ResultPath')) this.resultPath(json, p);
      if (allowed.includes('ResultSelector')) this.template(json, 'ResultSelector', p, ql);
    } else {
      this.jsonataField(json, 'Output', p);
    }
    if (allowed.includes('Assign')) this.assign(json, p, ql);
    if (allowed.includes('Retry')) this.retriers(json, p);
    if (allowed.includes('Catch')) this.catchers(json, p, ql, names, edges);

    switch (type) {
      case 'Pass':
        if (ql === 'JSONPath') {
          this.template(json, 'Parameters', p, ql);
          const result = getOwn(json, 'Result');
          if (isJsonObject(result) && Object.keys(result).some((k) => k.endsWith('.$')))
            this.warn(
              'PASS_RESULT_IS_STATIC',
              `The field 'Result' is static: its '.$' keys are not evaluated (use 'Parameters')`,
              ptr(p, 'Result'),
            );
        }
        break;
      case 'Task':
        this.task(json, p, ql);
        break;
      case 'Choice':
        this.choice(json, p, ql, names, edges);
        break;
      case 'Wait':
        this.wait(json, p, ql);
        break;
      case 'Succeed':
        break;
      case 'Fail':
        this.fail(json, p, ql);
        break;
      case 'Parallel':
        this.parallel(json, p, ql, depth);
        break;
      case 'Map':
        this.map(json, p, ql, depth);
        break;
    }
    return terminal;
  }

  /** Next / End; returns true when the state ends its machine, undefined if unfollowable. */
  flow(json: JsonObject, p: string, names: ReadonlySet<string>, edges: string[]): boolean | undefined {
    const end = getOwn(json, 'End');
    if (end !== undefined && typeof end !== 'boolean') {
      this.error('Expected value of type Boolean', ptr(p, 'End'));
      return undefined;
    }
    const hasNext = getOwn(json, 'Next') !== undefined;
    if (hasNext && end === true) {
      this.error(`The fields 'Next' and 'End' cannot be used together`, p);
    } else if (!hasNext && end !== true) {
      this.error(`These fields are required: [Next] (or 'End': true)`, p);
      return undefined;
    }
    this.target(json, 'Next', p, names, edges, false);
    return end === true;
  }

  task(json: JsonObject, p: string, ql: QL): void {
    if (getOwn(json, 'Resource') === undefined) this.error('These fields are required: [Resource]', p);
    const resource = this.str(json, 'Resource', p);
    if (resource !== undefined) this.resource(resource, ptr(p, 'Resource'));
    this.template(json, ql === 'JSONata' ? 'Arguments' : 'Parameters', p, ql);
    if (resource !== undefined) this.apiGatewayHeaders(json, resource, p, ql);
    if (ql === 'JSONata') {
      const args = getOwn(json, 'Arguments');
      if (args !== undefined && !isJsonObject(args) && !isJsonataExpression(args))
        this.error('Expected value of type Object', ptr(p, 'Arguments'));
    }
    for (const key of ['TimeoutSeconds', 'HeartbeatSeconds']) {
      this.num(json, key, p, ql, { min: 1, max: MAX_INT });
      if (ql === 'JSONPath') {
        this.path(json, `${key}Path`, p);
        this.exclusive(json, key, `${key}Path`, p);
      }
    }
    const creds = getOwn(json, 'Credentials');
    if (creds !== undefined) {
      const cp = ptr(p, 'Credentials');
      if (!isJsonObject(creds)) {
        this.error('Expected value of type Object', cp);
      } else {
        const keys = ql === 'JSONPath' ? ['RoleArn', 'RoleArn.$'] : ['RoleArn'];
        this.unknownFields(creds, keys, cp);
        if (!keys.some((k) => getOwn(creds, k) !== undefined))
          this.error(`The field 'RoleArn' is required but was missing`, cp);
        this.template(json, 'Credentials', p, ql);
      }
    }
  }

  /** AWS refuses some header names in an API Gateway task's Headers when the machine is saved. */
  apiGatewayHeaders(json: JsonObject, resource: string, p: string, ql: QL): void {
    const info = parseResource(resource);
    if (info.kind !== 'service' || info.resourceType !== 'apigateway') return;
    const key = ql === 'JSONata' ? 'Arguments' : 'Parameters';
    const params = getOwn(json, key);
    const headers = isJsonObject(params) ? getOwn(params, 'Headers') : undefined;
    if (!isJsonObject(headers)) return;
    const refused = Object.keys(headers)
      .map((k) => (ql === 'JSONPath' && k.endsWith('.$') ? k.slice(0, -2) : k).toLowerCase())
      .filter(isApiGatewayForbiddenHeader);
    if (refused.length > 0) {
      this.error(`The 'Headers' field contains unsupported values: [${refused.join(', ')}]`, ptr(p, key));
    }
  }

  resource(arn: string, p: string): void {
    const notRecognized = () =>
      this.error(
        `The resource provided ${arn} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.`,
        p,
      );
    const parts = arn.split(':');
    if (parts[0] !== 'arn' || parts.length < 6 || !parts[1] || !parts[2]) {
      notRecognized();
      return;
    }
    // Templates write the partition in many ways (`aws`, `aws-cn`, `<PARTITION>`): any is fine.
    const info = parseResource(['arn', 'aws', ...parts.slice(2)].join(':'));
    switch (info.kind) {
      case 'lambda':
        if (!parts[6]) notRecognized();
        break;
      case 'activity':
        if (!parts[6]) notRecognized();
        else if (this.express) this.error('Express state machine does not support Activity ARN', p);
        break;
      case 'service': {
        const service = info.resourceType.startsWith('aws-sdk:') ? 'aws-sdk' : info.resourceType;
        const actions = INTEGRATIONS.get(service);
        if (actions === undefined || (actions !== '*' && !actions.has(info.action))) {
          notRecognized();
          break;
        }
        if (this.express && info.pattern === 'waitForTaskToken')
          this.error(`Express state machine does not support '.waitForTaskToken' service integration `, p);
        else if (this.express && (info.pattern === 'sync' || info.pattern === 'sync:2'))
          this.error(`Express state machine does not support '.sync' service integration `, p);
        break;
      }
      case 'unknown':
        // Other services' ARNs (e.g. `arn:aws:states:…:stateMachine:…`) are not task resources.
        if (parts[2] === 'states' || parts[2] === 'lambda') notRecognized();
        break;
    }
  }

  choice(json: JsonObject, p: string, ql: QL, names: ReadonlySet<string>, edges: string[]): void {
    const choices = getOwn(json, 'Choices');
    const cp = ptr(p, 'Choices');
    if (choices === undefined) {
      this.error('These fields are required: [Choices]', p);
    } else if (!Array.isArray(choices)) {
      this.error('Expected value of type Array', cp);
    } else {
      if (choices.length === 0) this.error(`The field 'Choices' must contain at least one choice rule`, cp);
      choices.forEach((rule, i) => {
        const rp = ptr(cp, i);
        if (!isJsonObject(rule)) {
          this.error('Expected value of type Object', rp);
          return;
        }
        this.target(rule, 'Next', rp, names, edges, true);
        this.assign(rule, rp, ql);
        if (ql === 'JSONPath') {
          try {
            compileChoiceRule(rule, rp);
          } catch (e) {
            this.fromDefinitionError(e, rp);
          }
        } else {
          this.unknownFields(rule, JSONATA_CHOICE_RULE_FIELDS, rp);
          const cond = getOwn(rule, 'Condition');
          if (cond === undefined) this.error('These fields are required: [Condition]', rp);
          else if (typeof cond !== 'boolean' && !isJsonataExpression(cond))
            this.error(
              `The value for the field 'Condition' must be a JSONata expression`,
              ptr(rp, 'Condition'),
            );
          else this.jsonata(cond, 'Condition', ptr(rp, 'Condition'));
          this.jsonataField(rule, 'Output', rp);
        }
      });
    }
    this.target(json, 'Default', p, names, edges, false);
  }

  wait(json: JsonObject, p: string, ql: QL): void {
    const keys =
      ql === 'JSONPath' ? ['Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath'] : ['Seconds', 'Timestamp'];
    const given = keys.filter((k) => getOwn(json, k) !== undefined);
    if (given.length !== 1)
      this.error(`A Wait state needs exactly one of the fields [${keys.join(', ')}]`, p);
    this.num(json, 'Seconds', p, ql, { min: 0, max: MAX_INT });
    const ts = getOwn(json, 'Timestamp');
    if (ts !== undefined && !(ql === 'JSONata' && isJsonataExpression(ts))) {
      if (typeof ts !== 'string') this.error('Expected value of type String', ptr(p, 'Timestamp'));
      else if (!isRfc3339Timestamp(ts))
        this.error('String does not match RFC3339 timestamp', ptr(p, 'Timestamp'));
    } else if (ts !== undefined) {
      this.jsonata(ts, 'Timestamp', ptr(p, 'Timestamp'));
    }
    if (ql === 'JSONPath') {
      this.path(json, 'SecondsPath', p);
      this.path(json, 'TimestampPath', p);
    }
  }

  fail(json: JsonObject, p: string, ql: QL): void {
    for (const key of ['Error', 'Cause']) {
      const v = getOwn(json, key);
      if (v === undefined) continue;
      if (typeof v !== 'string') this.error('Expected value of type String', ptr(p, key));
      else if (ql === 'JSONata') this.jsonata(v, key, ptr(p, key));
      if (ql === 'JSONPath') {
        this.exclusive(json, key, `${key}Path`, p);
      }
    }
    if (ql !== 'JSONPath') return;
    for (const key of ['ErrorPath', 'CausePath']) {
      const v = getOwn(json, key);
      if (v === undefined) continue;
      if (typeof v !== 'string') this.error('Expected value of type String', ptr(p, key));
      else if (isIntrinsicCall(v) ? !validIntrinsic(v) : !validPath(v))
        this.error(
          `The value for the field '${key}' must be a valid JSONPath or a valid intrinsic function call`,
          ptr(p, key),
        );
    }
  }

  parallel(json: JsonObject, p: string, ql: QL, depth: number): void {
    if (ql === 'JSONPath') this.template(json, 'Parameters', p, ql);
    else this.jsonataField(json, 'Arguments', p);
    const branches = getOwn(json, 'Branches');
    const bp = ptr(p, 'Branches');
    if (branches === undefined) {
      this.error('These fields are required: [Branches]', p);
      return;
    }
    if (!Array.isArray(branches)) {
      this.error('Expected value of type Array', bp);
      return;
    }
    if (branches.length === 0) this.error(`The field 'Branches' must contain at least one branch`, bp);
    branches.forEach((b, i) => {
      if (!isJsonObject(b)) this.error('Expected value of type Object', ptr(bp, i));
      else this.machine(b, ptr(bp, i), ql, depth + 1, ['QueryLanguage']);
    });
  }

  map(json: JsonObject, p: string, ql: QL, depth: number): void {
    const proc = getOwn(json, 'ItemProcessor');
    const iter = getOwn(json, 'Iterator');
    if (proc !== undefined && iter !== undefined) this.exclusive(json, 'ItemProcessor', 'Iterator', p);
    else if (proc === undefined && iter === undefined)
      this.error('These fields are required: [ItemProcessor]', p);
    let distributed = false;
    for (const key of ['ItemProcessor', 'Iterator']) {
      const v = getOwn(json, key);
      if (v === undefined) continue;
      const pp = ptr(p, key);
      if (!isJsonObject(v)) {
        this.error('Expected value of type Object', pp);
        continue;
      }
      const cfg = this.obj(v, 'ProcessorConfig', pp);
      if (cfg) {
        const cp = ptr(pp, 'ProcessorConfig');
        this.unknownFields(cfg, ['Mode', 'ExecutionType'], cp);
        const mode = this.str(cfg, 'Mode', cp);
        if (mode !== undefined && mode !== 'INLINE' && mode !== 'DISTRIBUTED')
          this.error(`The value for the field 'Mode' must be one of [INLINE, DISTRIBUTED]`, ptr(cp, 'Mode'));
        distributed = mode === 'DISTRIBUTED';
        const et = this.str(cfg, 'ExecutionType', cp);
        if (et !== undefined && et !== 'STANDARD' && et !== 'EXPRESS')
          this.error(
            `The value for the field 'ExecutionType' must be one of [STANDARD, EXPRESS]`,
            ptr(cp, 'ExecutionType'),
          );
      }
      this.machine(v, pp, ql, depth + 1, ['ProcessorConfig', 'QueryLanguage']);
    }
    if (ql === 'JSONPath') {
      this.path(json, 'ItemsPath', p);
      this.exclusive(json, 'ItemSelector', 'Parameters', p);
      this.template(json, 'Parameters', p, ql);
    } else {
      this.jsonataField(json, 'Items', p, ['Array']);
    }
    this.template(json, 'ItemSelector', p, ql);
    this.num(json, 'MaxConcurrency', p, ql, { min: 0, max: MAX_INT });
    this.num(json, 'ToleratedFailureCount', p, ql, { min: 0, max: MAX_INT });
    this.num(json, 'ToleratedFailurePercentage', p, ql, { min: 0, max: 100, integer: false });
    if (ql === 'JSONPath') {
      for (const key of ['MaxConcurrency', 'ToleratedFailureCount', 'ToleratedFailurePercentage']) {
        this.path(json, `${key}Path`, p);
        this.exclusive(json, key, `${key}Path`, p);
      }
    }
    this.str(json, 'Label', p);
    this.itemReader(json, p, ql);
    this.itemBatcher(json, p, ql);
    this.resultWriter(json, p, ql);
    void distributed;
  }

  itemReader(json: JsonObject, p: string, ql: QL): void {
    const r = this.obj(json, 'ItemReader', p);
    if (!r) return;
    const rp = ptr(p, 'ItemReader');
    const argKey = ql === 'JSONata' ? 'Arguments' : 'Parameters';
    this.unknownFields(r, ['Resource', 'ReaderConfig', argKey], rp);
    if (getOwn(r, 'Resource') === undefined) this.error('These fields are required: [Resource]', rp);
    const res = this.str(r, 'Resource', rp);
    if (res !== undefined) this.resource(res, ptr(rp, 'Resource'));
    this.template(r, argKey, rp, ql);
    const cfg = this.obj(r, 'ReaderConfig', rp);
    if (cfg) {
      const cp = ptr(rp, 'ReaderConfig');
      const keys = [
        'InputType',
        'CSVHeaderLocation',
        'CSVHeaders',
        'CSVDelimiter',
        'MaxItems',
        'ManifestType',
      ];
      this.unknownFields(cfg, ql === 'JSONPath' ? [...keys, 'MaxItemsPath'] : keys, cp);
      // AWS accepts up to 100,000,000 items (one more than its usual integer bound).
      this.num(cfg, 'MaxItems', cp, ql, { min: 0, max: MAX_ITEMS });
      if (ql === 'JSONPath') {
        this.path(cfg, 'MaxItemsPath', cp);
        this.exclusive(cfg, 'MaxItems', 'MaxItemsPath', cp);
      }
    }
  }

  itemBatcher(json: JsonObject, p: string, ql: QL): void {
    const b = this.obj(json, 'ItemBatcher', p);
    if (!b) return;
    const bp = ptr(p, 'ItemBatcher');
    const keys = ['MaxItemsPerBatch', 'MaxInputBytesPerBatch', 'BatchInput'];
    this.unknownFields(
      b,
      ql === 'JSONPath' ? [...keys, 'MaxItemsPerBatchPath', 'MaxInputBytesPerBatchPath'] : keys,
      bp,
    );
    for (const key of ['MaxItemsPerBatch', 'MaxInputBytesPerBatch']) {
      this.num(b, key, bp, ql, { min: 1, max: key === 'MaxInputBytesPerBatch' ? 262144 : MAX_INT });
      if (ql === 'JSONPath') {
        this.path(b, `${key}Path`, bp);
        this.exclusive(b, key, `${key}Path`, bp);
      }
    }
    this.template(b, 'BatchInput', bp, ql);
  }

  resultWriter(json: JsonObject, p: string, ql: QL): void {
    const w = this.obj(json, 'ResultWriter', p);
    if (!w) return;
    const wp = ptr(p, 'ResultWriter');
    const argKey = ql === 'JSONata' ? 'Arguments' : 'Parameters';
    this.unknownFields(w, ['Resource', 'WriterConfig', argKey], wp);
    const res = this.str(w, 'Resource', wp);
    if (res !== undefined) this.resource(res, ptr(wp, 'Resource'));
    this.template(w, argKey, wp, ql);
    this.obj(w, 'WriterConfig', wp);
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Validates a parsed definition and returns every finding (errors first seen first). `type`
 * EXPRESS adds Express restrictions (no `.sync`, `.waitForTaskToken` or activities).
 * Never throws: any input, however malformed, gives diagnostics.
 */
export function validateDefinition(def: JsonValue, options: ValidateOptions = {}): Diagnostic[] {
  const v = new Validator(options);
  try {
    v.run(def);
  } catch (e) {
    // A backstop: a cyclic or absurdly deep value may still exhaust the stack somewhere.
    v.error(`The definition could not be validated: ${describe(e)}`, '');
  }
  return v.out;
}

/** `OK` when no finding is an ERROR (warnings do not fail a definition), as AWS reports it. */
export function validationResult(diagnostics: readonly Diagnostic[]): 'OK' | 'FAIL' {
  return diagnostics.some((d) => d.severity === 'ERROR') ? 'FAIL' : 'OK';
}

/** The text CreateStateMachine puts in InvalidDefinition: `CODE: message at /pointer`. */
export function formatDiagnostic(d: Diagnostic): string {
  const message = d.message.trimEnd();
  return d.location ? `${d.code}: ${message} at ${d.location}` : `${d.code}: ${message}`;
}

/**
 * Validates definition text as ValidateStateMachineDefinition receives it: JSON syntax errors
 * become INVALID_JSON_DESCRIPTION in Jackson's words, as AWS reports them.
 */
export function validateDefinitionText(text: string, options: ValidateOptions = {}): Diagnostic[] {
  if (text.trim() === '') {
    return [
      {
        severity: 'ERROR',
        code: 'SCHEMA_VALIDATION_FAILED',
        message: 'Definition must be a valid JSON object',
        location: '',
      },
    ];
  }
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch {
    return [jsonSyntaxDiagnostic(text)];
  }
  return validateDefinition(value, options);
}

/** Jackson's description of the first syntax error (token and 1-based line/column after it). */
function jsonSyntaxDiagnostic(text: string): Diagnostic {
  let i = 0;
  let line = 1;
  let col = 1;
  const advance = (n: number) => {
    for (let k = 0; k < n && i < text.length; k++, i++) {
      if (text[i] === '\n') {
        line++;
        col = 1;
      } else col++;
    }
  };
  // Locate the first offending character with the position-keeping scanner.
  let at = text.length;
  try {
    parseJsonWithPositions(text);
  } catch (e) {
    if (e instanceof SourceSyntaxError) at = e.offset;
  }
  advance(at);
  const token = /^[A-Za-z0-9_$]+/.exec(text.slice(i))?.[0];
  const shown =
    text.length > 500 ? `${text.slice(0, 500)}"[truncated ${text.length - 500} chars]` : `${text}"`;
  let message: string;
  if (token !== undefined) {
    advance(token.length);
    message = `Unrecognized token '${token}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')`;
  } else if (i >= text.length) {
    message = 'Unexpected end-of-input';
  } else {
    advance(1);
    message = `Unexpected character ('${text[i - 1]}')`;
  }
  const location = `[Source: (String)"${shown}; line: ${line}, column: ${col}]`;
  return {
    severity: 'ERROR',
    code: 'INVALID_JSON_DESCRIPTION',
    message: `${message}\n at ${location}`,
    location,
  };
}

/** Variable names a machine's states assign (state, choice rule and catcher Assign), not nested ones. */
function assignedNames(states: JsonObject): Set<string> {
  const out = new Set<string>();
  const add = (a: JsonValue | undefined) => {
    if (isJsonObject(a ?? null))
      for (const k of Object.keys(a as JsonObject)) out.add(k.endsWith('.$') ? k.slice(0, -2) : k);
  };
  for (const st of Object.values(states)) {
    if (!isJsonObject(st)) continue;
    add(getOwn(st, 'Assign'));
    for (const key of ['Choices', 'Catch']) {
      const list = getOwn(st, key);
      if (Array.isArray(list)) for (const item of list) if (isJsonObject(item)) add(getOwn(item, 'Assign'));
    }
  }
  return out;
}
