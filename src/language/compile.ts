/**
 * Compiles a parsed definition into the typed model (`model.ts`): checks the structure needed to
 * run it safely and compiles every path, template and rule once. The full validator with AWS's
 * diagnostics is a separate module; this one stops at the first problem, with its location.
 */
import { compileChoiceRule } from './choice.js';
import { DefinitionError } from './errors.js';
import { compileIntrinsic, isIntrinsicCall } from './intrinsics.js';
import type { JsonObject, JsonValue } from './json.js';
import { getOwn, isJsonObject } from './json.js';
import { compilePath, compileReferencePath, PathSyntaxError } from './jsonpath.js';
import type {
  Catcher,
  ChoiceBranch,
  CompiledDefinition,
  DynamicValue,
  FilterPath,
  Machine,
  NumberSource,
  QueryLanguage,
  ResultPathSpec,
  Retrier,
  State,
  WaitSpec,
} from './model.js';
import { compilePayloadTemplate } from './payload.js';

const COMMON = ['Type', 'Comment', 'QueryLanguage'];
const IO = ['InputPath', 'OutputPath'];
const FLOW = ['Next', 'End'];
const ALLOWED: Record<string, readonly string[]> = {
  Pass: [...COMMON, ...IO, ...FLOW, 'Parameters', 'Result', 'ResultPath'],
  Task: [
    ...COMMON,
    ...IO,
    ...FLOW,
    'Resource',
    'Parameters',
    'ResultSelector',
    'ResultPath',
    'Retry',
    'Catch',
    'TimeoutSeconds',
    'TimeoutSecondsPath',
    'HeartbeatSeconds',
    'HeartbeatSecondsPath',
    'Credentials',
  ],
  Choice: [...COMMON, ...IO, 'Choices', 'Default'],
  Wait: [...COMMON, ...IO, ...FLOW, 'Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath'],
  Succeed: [...COMMON, ...IO],
  Fail: [...COMMON, 'Error', 'Cause', 'ErrorPath', 'CausePath'],
  Parallel: [
    ...COMMON,
    ...IO,
    ...FLOW,
    'Branches',
    'Parameters',
    'ResultSelector',
    'ResultPath',
    'Retry',
    'Catch',
  ],
  Map: [
    ...COMMON,
    ...IO,
    ...FLOW,
    'ItemProcessor',
    'Iterator',
    'ItemsPath',
    'ItemSelector',
    'Parameters',
    'MaxConcurrency',
    'MaxConcurrencyPath',
    'ResultSelector',
    'ResultPath',
    'Retry',
    'Catch',
    'ToleratedFailureCount',
    'ToleratedFailureCountPath',
    'ToleratedFailurePercentage',
    'ToleratedFailurePercentagePath',
    'ItemReader',
    'ItemBatcher',
    'ResultWriter',
    'Label',
  ],
};

/** Escapes a name for use inside a JSON pointer (RFC 6901). */
function ptr(base: string, key: string | number): string {
  return `${base}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function fail(message: string, pointer: string): never {
  throw new DefinitionError(message, pointer);
}

function str(obj: JsonObject, key: string, pointer: string): string | undefined {
  const v = getOwn(obj, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail(`'${key}' must be a string`, ptr(pointer, key));
  return v;
}

function num(obj: JsonObject, key: string, pointer: string, min = -Infinity): number | undefined {
  const v = getOwn(obj, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`'${key}' must be a number`, ptr(pointer, key));
  if (v < min) fail(`'${key}' must be at least ${min}`, ptr(pointer, key));
  return v;
}

function int(obj: JsonObject, key: string, pointer: string, min = -Infinity): number | undefined {
  const v = num(obj, key, pointer, min);
  if (v !== undefined && !Number.isInteger(v)) fail(`'${key}' must be an integer`, ptr(pointer, key));
  return v;
}

function path(text: string, pointer: string) {
  try {
    return compilePath(text);
  } catch (e) {
    if (e instanceof PathSyntaxError) fail(`invalid JSONPath '${text}': ${e.message}`, pointer);
    throw e;
  }
}

function pathField(obj: JsonObject, key: string, pointer: string) {
  const s = str(obj, key, pointer);
  return s === undefined ? undefined : path(s, ptr(pointer, key));
}

function filterPath(obj: JsonObject, key: string, pointer: string): FilterPath {
  const v = getOwn(obj, key);
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== 'string') fail(`'${key}' must be a JSONPath string or null`, ptr(pointer, key));
  return path(v, ptr(pointer, key));
}

function resultPath(obj: JsonObject, key: string, pointer: string): ResultPathSpec {
  const v = getOwn(obj, key);
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== 'string') fail(`'${key}' must be a JSONPath string or null`, ptr(pointer, key));
  try {
    return compileReferencePath(v);
  } catch (e) {
    if (e instanceof Error) fail(`invalid reference path '${v}': ${e.message}`, ptr(pointer, key));
    throw e;
  }
}

function payload(obj: JsonObject, key: string, pointer: string) {
  const v = getOwn(obj, key);
  if (v === undefined) return undefined;
  return compilePayloadTemplate(v, key, ptr(pointer, key));
}

function dynamicValue(text: string, field: string, pointer: string): DynamicValue {
  if (isIntrinsicCall(text)) {
    const fn = compileIntrinsic(text, field);
    return { source: text, evaluate: (env) => fn.evaluate(env) };
  }
  const p = path(text, pointer);
  return { source: text, evaluate: (env) => p.select(env) };
}

function numberSource(
  obj: JsonObject,
  key: string,
  pointer: string,
  min: number,
  integer = true,
): NumberSource | undefined {
  const literal = integer ? int(obj, key, pointer, min) : num(obj, key, pointer, min);
  const p = pathField(obj, `${key}Path`, pointer);
  if (literal !== undefined && p !== undefined)
    fail(`'${key}' and '${key}Path' are mutually exclusive`, pointer);
  if (literal !== undefined) return { kind: 'literal', value: literal };
  if (p !== undefined) return { kind: 'path', path: p, field: `${key}Path` };
  return undefined;
}

function errorList(obj: JsonObject, pointer: string): string[] {
  const v = getOwn(obj, 'ErrorEquals');
  if (!Array.isArray(v) || v.length === 0)
    fail(`'ErrorEquals' must be a non-empty array of strings`, pointer);
  return v.map((e, i) => {
    if (typeof e !== 'string') fail(`error names must be strings`, ptr(ptr(pointer, 'ErrorEquals'), i));
    return e;
  });
}

function retriers(obj: JsonObject, pointer: string): Retrier[] {
  const v = getOwn(obj, 'Retry');
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(`'Retry' must be an array`, ptr(pointer, 'Retry'));
  return v.map((r, i) => {
    const p = ptr(ptr(pointer, 'Retry'), i);
    if (!isJsonObject(r)) fail(`a retrier must be an object`, p);
    checkKeys(
      r,
      [
        'ErrorEquals',
        'IntervalSeconds',
        'MaxAttempts',
        'BackoffRate',
        'MaxDelaySeconds',
        'JitterStrategy',
        'Comment',
      ],
      p,
    );
    const jitter = str(r, 'JitterStrategy', p) ?? 'NONE';
    if (jitter !== 'FULL' && jitter !== 'NONE')
      fail(`'JitterStrategy' must be FULL or NONE`, ptr(p, 'JitterStrategy'));
    return {
      errorEquals: errorList(r, p),
      intervalSeconds: int(r, 'IntervalSeconds', p, 1) ?? 1,
      maxAttempts: int(r, 'MaxAttempts', p, 0) ?? 3,
      backoffRate: num(r, 'BackoffRate', p, 1) ?? 2,
      maxDelaySeconds: int(r, 'MaxDelaySeconds', p, 1),
      jitterStrategy: jitter,
    };
  });
}

function catchers(obj: JsonObject, pointer: string, names: Set<string>): Catcher[] {
  const v = getOwn(obj, 'Catch');
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(`'Catch' must be an array`, ptr(pointer, 'Catch'));
  return v.map((c, i) => {
    const p = ptr(ptr(pointer, 'Catch'), i);
    if (!isJsonObject(c)) fail(`a catcher must be an object`, p);
    checkKeys(c, ['ErrorEquals', 'Next', 'ResultPath', 'Comment'], p);
    const next = str(c, 'Next', p);
    if (next === undefined) fail(`a catcher needs 'Next'`, p);
    if (!names.has(next)) fail(`missing 'Next' target: ${next}`, ptr(p, 'Next'));
    return { errorEquals: errorList(c, p), next, resultPath: resultPath(c, 'ResultPath', p) };
  });
}

function checkKeys(obj: JsonObject, allowed: readonly string[], pointer: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) fail(`The field '${k}' is not supported by Step Functions`, ptr(pointer, k));
  }
}

class Compiler {
  readonly machines: Machine[] = [];

  machine(def: JsonValue, pointer: string, inherited: QueryLanguage): Machine {
    if (!isJsonObject(def)) fail('a state machine must be an object', pointer);
    const ql = this.queryLanguage(def, pointer, inherited);
    const startAt = str(def, 'StartAt', pointer);
    if (startAt === undefined) fail(`'StartAt' is required`, pointer);
    const statesJson = getOwn(def, 'States');
    if (!isJsonObject(statesJson)) fail(`'States' must be an object`, ptr(pointer, 'States'));
    const names = new Set(Object.keys(statesJson));
    if (names.size === 0) fail(`'States' must not be empty`, ptr(pointer, 'States'));
    if (!names.has(startAt)) fail(`missing 'StartAt' target: ${startAt}`, ptr(pointer, 'StartAt'));
    const machine: Machine = {
      id: this.machines.length,
      pointer,
      startAt,
      states: new Map(),
      queryLanguage: ql,
    };
    this.machines.push(machine);
    for (const name of names) {
      const p = ptr(ptr(pointer, 'States'), name);
      if (name.length > 80) fail(`state names must be at most 80 characters`, p);
      machine.states.set(name, this.state(name, getOwn(statesJson, name)!, p, names, ql));
    }
    return machine;
  }

  queryLanguage(obj: JsonObject, pointer: string, inherited: QueryLanguage): QueryLanguage {
    const ql = str(obj, 'QueryLanguage', pointer) ?? inherited;
    if (ql !== 'JSONPath' && ql !== 'JSONata') fail(`'QueryLanguage' must be JSONPath or JSONata`, pointer);
    if (ql === 'JSONata')
      fail(`the JSONata query language is not supported yet`, ptr(pointer, 'QueryLanguage'));
    return ql;
  }

  state(name: string, json: JsonValue, p: string, names: Set<string>, inherited: QueryLanguage): State {
    if (!isJsonObject(json)) fail('a state must be an object', p);
    const type = str(json, 'Type', p);
    if (type === undefined) fail(`'Type' is required`, p);
    const allowed = ALLOWED[type];
    if (allowed === undefined) fail(`unknown state type '${type}'`, ptr(p, 'Type'));
    checkKeys(json, allowed, p);
    const queryLanguage = this.queryLanguage(json, p, inherited);
    let next: string | undefined;
    if (allowed.includes('Next')) {
      next = str(json, 'Next', p);
      const end = getOwn(json, 'End');
      if (end !== undefined && typeof end !== 'boolean') fail(`'End' must be a boolean`, ptr(p, 'End'));
      if (next !== undefined && end === true) fail(`'Next' and 'End' are mutually exclusive`, p);
      if (next === undefined && end !== true) fail(`a ${type} state needs 'Next' or 'End: true'`, p);
      if (next !== undefined && !names.has(next)) fail(`missing 'Next' target: ${next}`, ptr(p, 'Next'));
    }
    const base = {
      name,
      pointer: p,
      queryLanguage,
      comment: str(json, 'Comment', p),
      inputPath: filterPath(json, 'InputPath', p),
      outputPath: filterPath(json, 'OutputPath', p),
      next,
    };
    switch (type) {
      case 'Pass':
        return {
          ...base,
          type,
          parameters: payload(json, 'Parameters', p),
          result: getOwn(json, 'Result'),
          resultPath: resultPath(json, 'ResultPath', p),
        };
      case 'Task': {
        const resource = str(json, 'Resource', p);
        if (resource === undefined) fail(`'Resource' is required`, p);
        return {
          ...base,
          type,
          resource,
          parameters: payload(json, 'Parameters', p),
          resultSelector: payload(json, 'ResultSelector', p),
          resultPath: resultPath(json, 'ResultPath', p),
          retry: retriers(json, p),
          catch: catchers(json, p, names),
          timeoutSeconds: numberSource(json, 'TimeoutSeconds', p, 1),
          heartbeatSeconds: numberSource(json, 'HeartbeatSeconds', p, 1),
          credentials: getOwn(json, 'Credentials'),
        };
      }
      case 'Choice': {
        const choicesJson = getOwn(json, 'Choices');
        if (!Array.isArray(choicesJson) || choicesJson.length === 0)
          fail(`'Choices' must be a non-empty array`, ptr(p, 'Choices'));
        const choices: ChoiceBranch[] = choicesJson.map((c, i) => {
          const cp = ptr(ptr(p, 'Choices'), i);
          if (!isJsonObject(c)) fail('a choice rule must be an object', cp);
          const target = str(c, 'Next', cp);
          if (target === undefined) fail(`a choice rule needs 'Next'`, cp);
          if (!names.has(target)) fail(`missing 'Next' target: ${target}`, ptr(cp, 'Next'));
          return { rule: compileChoiceRule(c, cp), next: target };
        });
        const dflt = str(json, 'Default', p);
        if (dflt !== undefined && !names.has(dflt))
          fail(`missing 'Default' target: ${dflt}`, ptr(p, 'Default'));
        return { ...base, type, choices, default: dflt };
      }
      case 'Wait':
        return { ...base, type, wait: this.waitSpec(json, p) };
      case 'Succeed':
        return { ...base, type };
      case 'Fail': {
        const error = str(json, 'Error', p);
        const cause = str(json, 'Cause', p);
        const errorPath = str(json, 'ErrorPath', p);
        const causePath = str(json, 'CausePath', p);
        if (error !== undefined && errorPath !== undefined)
          fail(`'Error' and 'ErrorPath' are mutually exclusive`, p);
        if (cause !== undefined && causePath !== undefined)
          fail(`'Cause' and 'CausePath' are mutually exclusive`, p);
        return {
          ...base,
          type,
          error,
          cause,
          errorPath:
            errorPath === undefined ? undefined : dynamicValue(errorPath, 'ErrorPath', ptr(p, 'ErrorPath')),
          causePath:
            causePath === undefined ? undefined : dynamicValue(causePath, 'CausePath', ptr(p, 'CausePath')),
        };
      }
      case 'Parallel': {
        const branchesJson = getOwn(json, 'Branches');
        if (!Array.isArray(branchesJson) || branchesJson.length === 0)
          fail(`'Branches' must be a non-empty array`, ptr(p, 'Branches'));
        return {
          ...base,
          type,
          branches: branchesJson.map((b, i) => this.machine(b, ptr(ptr(p, 'Branches'), i), queryLanguage)),
          parameters: payload(json, 'Parameters', p),
          resultSelector: payload(json, 'ResultSelector', p),
          resultPath: resultPath(json, 'ResultPath', p),
          retry: retriers(json, p),
          catch: catchers(json, p, names),
        };
      }
      case 'Map': {
        const proc = getOwn(json, 'ItemProcessor');
        const iter = getOwn(json, 'Iterator');
        if (proc !== undefined && iter !== undefined)
          fail(`'ItemProcessor' and 'Iterator' are mutually exclusive`, p);
        const procJson = proc ?? iter;
        if (procJson === undefined) fail(`a Map state needs 'ItemProcessor'`, p);
        const procKey = proc !== undefined ? 'ItemProcessor' : 'Iterator';
        let mode: 'INLINE' | 'DISTRIBUTED' = 'INLINE';
        let processorDef: JsonValue = procJson;
        if (isJsonObject(procJson)) {
          const cfg = getOwn(procJson, 'ProcessorConfig');
          if (isJsonObject(cfg) && getOwn(cfg, 'Mode') === 'DISTRIBUTED') mode = 'DISTRIBUTED';
          const { ProcessorConfig: _ignored, ...rest } = procJson;
          processorDef = rest;
        }
        const selector = getOwn(json, 'ItemSelector');
        const params = getOwn(json, 'Parameters');
        if (selector !== undefined && params !== undefined)
          fail(`'ItemSelector' and 'Parameters' are mutually exclusive`, p);
        const maxConcurrency = numberSource(json, 'MaxConcurrency', p, 0) ?? { kind: 'literal', value: 0 };
        return {
          ...base,
          type,
          processor: this.machine(processorDef, ptr(p, procKey), queryLanguage),
          mode,
          itemsPath: pathField(json, 'ItemsPath', p),
          itemSelector:
            selector !== undefined
              ? compilePayloadTemplate(selector, 'ItemSelector', ptr(p, 'ItemSelector'))
              : params !== undefined
                ? compilePayloadTemplate(params, 'Parameters', ptr(p, 'Parameters'))
                : undefined,
          maxConcurrency,
          resultSelector: payload(json, 'ResultSelector', p),
          resultPath: resultPath(json, 'ResultPath', p),
          retry: retriers(json, p),
          catch: catchers(json, p, names),
          toleratedFailure: {
            count: numberSource(json, 'ToleratedFailureCount', p, 0),
            percentage: numberSource(json, 'ToleratedFailurePercentage', p, 0, false),
          },
          legacyIterator: iter !== undefined,
          label: str(json, 'Label', p),
        };
      }
      default:
        return fail(`unknown state type '${type}'`, ptr(p, 'Type'));
    }
  }

  waitSpec(json: JsonObject, p: string): WaitSpec {
    const specs: WaitSpec[] = [];
    const seconds = int(json, 'Seconds', p, 0);
    if (seconds !== undefined) specs.push({ kind: 'seconds', seconds });
    const secondsPath = pathField(json, 'SecondsPath', p);
    if (secondsPath !== undefined) specs.push({ kind: 'secondsPath', path: secondsPath });
    const timestamp = str(json, 'Timestamp', p);
    if (timestamp !== undefined) specs.push({ kind: 'timestamp', timestamp });
    const timestampPath = pathField(json, 'TimestampPath', p);
    if (timestampPath !== undefined) specs.push({ kind: 'timestampPath', path: timestampPath });
    if (specs.length !== 1)
      fail(`a Wait state needs exactly one of 'Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath'`, p);
    return specs[0]!;
  }
}

/** Compiles a parsed definition. Throws DefinitionError naming the offending location. */
export function compileDefinition(def: JsonValue): CompiledDefinition {
  if (!isJsonObject(def)) fail('the definition must be a JSON object', '');
  checkKeys(def, ['Comment', 'StartAt', 'States', 'TimeoutSeconds', 'Version', 'QueryLanguage'], '');
  const compiler = new Compiler();
  const root = compiler.machine(def, '', 'JSONPath');
  return {
    root,
    machines: compiler.machines,
    comment: str(def, 'Comment', ''),
    timeoutSeconds: int(def, 'TimeoutSeconds', '', 1),
    source: def,
  };
}
