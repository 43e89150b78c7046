/**
 * Compiles a parsed definition into the typed model (`model.ts`): checks the structure needed to
 * run it safely and compiles every path, template and rule once. The full validator with AWS's
 * diagnostics is a separate module; this one stops at the first problem, with its location.
 */
import { compileChoiceRule } from './choice.js';
import { DefinitionError } from './errors.js';
import {
  JSONATA_CHOICE_RULE_FIELDS,
  MACHINE_FIELDS,
  RETRIER_FIELDS,
  catcherFields,
  isStateType,
  stateFields,
} from './fields.js';
import { compileIntrinsic, isIntrinsicCall } from './intrinsics.js';
import type { JsonObject, JsonValue } from './json.js';
import { getOwn, isJsonObject, trySizeBound } from './json.js';
import { compilePath, compileReferencePath, PathSyntaxError } from './jsonpath.js';
import type {
  AssignSpec,
  TemplateSpec,
  Catcher,
  ChoiceBranch,
  CompiledDefinition,
  DynamicValue,
  FilterPath,
  ItemBatcherSpec,
  ItemReaderSpec,
  ResultWriterSpec,
  Machine,
  NumberSource,
  QueryLanguage,
  ResultPathSpec,
  Retrier,
  State,
  WaitSpec,
} from './model.js';
import { compilePayloadTemplate } from './payload.js';
import { compileJsonataTemplate, isJsonataExpression } from './jsonata.js';

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
    checkKeys(r, RETRIER_FIELDS, p);
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

function catchers(obj: JsonObject, pointer: string, names: Set<string>, ql: QueryLanguage): Catcher[] {
  const v = getOwn(obj, 'Catch');
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(`'Catch' must be an array`, ptr(pointer, 'Catch'));
  return v.map((c, i) => {
    const p = ptr(ptr(pointer, 'Catch'), i);
    if (!isJsonObject(c)) fail(`a catcher must be an object`, p);
    checkKeys(c, catcherFields(ql), p);
    const next = str(c, 'Next', p);
    if (next === undefined) fail(`a catcher needs 'Next'`, p);
    if (!names.has(next)) fail(`missing 'Next' target: ${next}`, ptr(p, 'Next'));
    return {
      errorEquals: errorList(c, p),
      next,
      resultPath: resultPath(c, 'ResultPath', p),
      assign: assignSpec(c, p, ql),
      output: jsonataField(c, 'Output', p, `Catch[${i}]/Output`),
    };
  });
}

/** A JSONata template field (any JSON value; strings `{% … %}` are expressions). */
/** A field that is a template in the state's query language (payload template or JSONata). */
function template(obj: JsonObject, key: string, pointer: string, jsonata: boolean): TemplateSpec | undefined {
  const v = getOwn(obj, key);
  if (v === undefined) return undefined;
  return jsonata
    ? { kind: 'jsonata', template: compileJsonataTemplate(v, key, ptr(pointer, key)) }
    : { kind: 'jsonpath', payload: compilePayloadTemplate(v, key, ptr(pointer, key)) };
}

function jsonataField(obj: JsonObject, key: string, pointer: string, field = key) {
  const v = getOwn(obj, key);
  if (v === undefined) return undefined;
  return compileJsonataTemplate(v, field, ptr(pointer, key));
}

/** Unicode identifiers, as AWS allows (ID_Start/ID_Continue, roughly letters, digits and `_`). */
const VARIABLE_NAME = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*$/u;

function assignSpec(obj: JsonObject, pointer: string, ql: QueryLanguage): AssignSpec | undefined {
  const v = getOwn(obj, 'Assign');
  if (v === undefined) return undefined;
  const p = ptr(pointer, 'Assign');
  if (!isJsonObject(v)) fail(`'Assign' must be an object`, p);
  for (const key of Object.keys(v)) {
    const name = ql === 'JSONPath' && key.endsWith('.$') ? key.slice(0, -2) : key;
    if (!VARIABLE_NAME.test(name) || name.length > 80) fail(`invalid variable name '${name}'`, ptr(p, key));
    if (name === 'states') fail(`the variable name 'states' is reserved by Step Functions`, ptr(p, key));
  }
  return ql === 'JSONata'
    ? { kind: 'jsonata', template: compileJsonataTemplate(v, 'Assign', p) }
    : { kind: 'jsonpath', payload: compilePayloadTemplate(v, 'Assign', p) };
}

/** A number that a JSONata state may give as an expression string. */
function jsonataNumber(obj: JsonObject, key: string, pointer: string, min: number, integer = true) {
  const v = getOwn(obj, key);
  if (typeof v === 'string') {
    if (!isJsonataExpression(v)) fail(`'${key}' must be a number or a JSONata expression`, ptr(pointer, key));
    return {
      kind: 'jsonata' as const,
      template: compileJsonataTemplate(v, key, ptr(pointer, key)),
      field: key,
    };
  }
  const n = integer ? int(obj, key, pointer, min) : num(obj, key, pointer, min);
  return n === undefined ? undefined : { kind: 'literal' as const, value: n };
}

const CSV_DELIMITERS: Record<string, string> = {
  COMMA: ',',
  PIPE: '|',
  SEMICOLON: ';',
  SPACE: ' ',
  TAB: '\t',
};

/** `ItemReader` of a distributed Map (the validator has checked its fields). */
function itemReaderSpec(json: JsonObject, pointer: string, ql: QueryLanguage): ItemReaderSpec | undefined {
  const r = getOwn(json, 'ItemReader');
  if (r === undefined) return undefined;
  const p = ptr(pointer, 'ItemReader');
  if (!isJsonObject(r)) fail(`'ItemReader' must be an object`, p);
  const resource = str(r, 'Resource', p);
  if (resource === undefined) fail(`'Resource' is required`, p);
  const cfgJson = getOwn(r, 'ReaderConfig') ?? {};
  const cp = ptr(p, 'ReaderConfig');
  if (!isJsonObject(cfgJson)) fail(`'ReaderConfig' must be an object`, cp);
  const location = str(cfgJson, 'CSVHeaderLocation', cp) ?? 'FIRST_ROW';
  if (location !== 'FIRST_ROW' && location !== 'GIVEN')
    fail(`'CSVHeaderLocation' must be FIRST_ROW or GIVEN`, ptr(cp, 'CSVHeaderLocation'));
  const headersJson = getOwn(cfgJson, 'CSVHeaders');
  let csvHeaders: string[] | undefined;
  if (headersJson !== undefined) {
    if (!Array.isArray(headersJson) || headersJson.some((h) => typeof h !== 'string'))
      fail(`'CSVHeaders' must be an array of strings`, ptr(cp, 'CSVHeaders'));
    csvHeaders = headersJson as string[];
  }
  const delimiterName = str(cfgJson, 'CSVDelimiter', cp) ?? 'COMMA';
  const csvDelimiter = CSV_DELIMITERS[delimiterName];
  if (csvDelimiter === undefined)
    fail(`'CSVDelimiter' must be one of ${Object.keys(CSV_DELIMITERS).join(', ')}`, ptr(cp, 'CSVDelimiter'));
  const jsonata = ql === 'JSONata';
  return {
    resource,
    parameters: jsonata ? undefined : payload(r, 'Parameters', p),
    arguments: jsonata ? jsonataField(r, 'Arguments', p) : undefined,
    config: {
      inputType: str(cfgJson, 'InputType', cp),
      csvHeaderLocation: location,
      csvHeaders,
      csvDelimiter,
    },
    maxItems: jsonata ? jsonataNumber(cfgJson, 'MaxItems', cp, 0) : numberSource(cfgJson, 'MaxItems', cp, 0),
  };
}

/** `ResultWriter` of a distributed Map: Resource and Parameters, WriterConfig, or all three. */
function resultWriterSpec(
  json: JsonObject,
  pointer: string,
  ql: QueryLanguage,
): ResultWriterSpec | undefined {
  const w = getOwn(json, 'ResultWriter');
  if (w === undefined) return undefined;
  const p = ptr(pointer, 'ResultWriter');
  if (!isJsonObject(w)) fail(`'ResultWriter' must be an object`, p);
  const resource = str(w, 'Resource', p);
  const cfg = getOwn(w, 'WriterConfig');
  const cp = ptr(p, 'WriterConfig');
  if (cfg !== undefined && !isJsonObject(cfg)) fail(`'WriterConfig' must be an object`, cp);
  if (resource === undefined && cfg === undefined)
    fail(`'ResultWriter' needs 'Resource' and its parameters, 'WriterConfig', or all three`, p);
  // AWS's defaults: NONE when exporting to S3 without WriterConfig (and, assumed, when WriterConfig
  // leaves it out); COMPACT is what a Map returns without any ResultWriter.
  const transformation =
    (cfg && str(cfg, 'Transformation', cp)) ?? (resource === undefined ? 'COMPACT' : 'NONE');
  if (transformation !== 'NONE' && transformation !== 'COMPACT' && transformation !== 'FLATTEN')
    fail(`'Transformation' must be one of NONE, COMPACT, FLATTEN`, ptr(cp, 'Transformation'));
  const outputType = (cfg && str(cfg, 'OutputType', cp)) ?? 'JSON';
  if (outputType !== 'JSON' && outputType !== 'JSONL')
    fail(`'OutputType' must be one of JSON, JSONL`, ptr(cp, 'OutputType'));
  const jsonata = ql === 'JSONata';
  return {
    resource,
    parameters: jsonata ? undefined : payload(w, 'Parameters', p),
    arguments: jsonata ? jsonataField(w, 'Arguments', p) : undefined,
    transformation,
    outputType,
  };
}

/** `ItemBatcher` of a distributed Map. */
function itemBatcherSpec(json: JsonObject, pointer: string, ql: QueryLanguage): ItemBatcherSpec | undefined {
  const b = getOwn(json, 'ItemBatcher');
  if (b === undefined) return undefined;
  const p = ptr(pointer, 'ItemBatcher');
  if (!isJsonObject(b)) fail(`'ItemBatcher' must be an object`, p);
  const jsonata = ql === 'JSONata';
  const number = (key: string) => (jsonata ? jsonataNumber(b, key, p, 1) : numberSource(b, key, p, 1));
  const batchInput = getOwn(b, 'BatchInput');
  return {
    maxItemsPerBatch: number('MaxItemsPerBatch'),
    maxInputBytesPerBatch: number('MaxInputBytesPerBatch'),
    batchInput:
      batchInput === undefined
        ? undefined
        : jsonata
          ? {
              kind: 'jsonata',
              template: compileJsonataTemplate(batchInput, 'BatchInput', ptr(p, 'BatchInput')),
            }
          : {
              kind: 'jsonpath',
              payload: compilePayloadTemplate(batchInput, 'BatchInput', ptr(p, 'BatchInput')),
            },
  };
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
    // A JSONPath machine may hold JSONata states, not the reverse.
    if (inherited === 'JSONata' && ql === 'JSONPath')
      fail(`a JSONPath state cannot be used in a JSONata state machine`, ptr(pointer, 'QueryLanguage'));
    return ql;
  }

  state(name: string, json: JsonValue, p: string, names: Set<string>, inherited: QueryLanguage): State {
    if (!isJsonObject(json)) fail('a state must be an object', p);
    const type = str(json, 'Type', p);
    if (type === undefined) fail(`'Type' is required`, p);
    if (!isStateType(type)) fail(`unknown state type '${type}'`, ptr(p, 'Type'));
    const ql = this.queryLanguage(json, p, inherited);
    const allowed = stateFields(type, ql);
    checkKeys(json, allowed, p);
    let next: string | undefined;
    if (allowed.includes('Next')) {
      next = str(json, 'Next', p);
      const end = getOwn(json, 'End');
      if (end !== undefined && typeof end !== 'boolean') fail(`'End' must be a boolean`, ptr(p, 'End'));
      if (next !== undefined && end === true) fail(`'Next' and 'End' are mutually exclusive`, p);
      if (next === undefined && end !== true) fail(`a ${type} state needs 'Next' or 'End: true'`, p);
      if (next !== undefined && !names.has(next)) fail(`missing 'Next' target: ${next}`, ptr(p, 'Next'));
    }
    const jsonata = ql === 'JSONata';
    const base = {
      name,
      pointer: p,
      queryLanguage: ql,
      comment: str(json, 'Comment', p),
      inputPath: filterPath(json, 'InputPath', p),
      outputPath: filterPath(json, 'OutputPath', p),
      next,
      assign: assignSpec(json, p, ql),
      output: jsonataField(json, 'Output', p),
    };
    const number = (key: string, min: number, integer = true) =>
      jsonata ? jsonataNumber(json, key, p, min, integer) : numberSource(json, key, p, min, integer);
    switch (type) {
      case 'Pass': {
        const parameters = payload(json, 'Parameters', p);
        const result = getOwn(json, 'Result');
        return {
          ...base,
          type,
          parameters,
          result,
          resultBytes: result === undefined ? undefined : trySizeBound(result),
          resultPath: resultPath(json, 'ResultPath', p),
          placesOnly:
            base.queryLanguage === 'JSONPath' &&
            base.inputPath === undefined &&
            base.outputPath === undefined &&
            base.assign === undefined &&
            (result !== undefined || parameters === undefined),
        };
      }
      case 'Task': {
        const resource = str(json, 'Resource', p);
        if (resource === undefined) fail(`'Resource' is required`, p);
        return {
          ...base,
          type,
          resource,
          parameters: payload(json, 'Parameters', p),
          arguments: jsonataField(json, 'Arguments', p),
          resultSelector: payload(json, 'ResultSelector', p),
          resultPath: resultPath(json, 'ResultPath', p),
          retry: retriers(json, p),
          catch: catchers(json, p, names, ql),
          timeoutSeconds: number('TimeoutSeconds', 1),
          heartbeatSeconds: number('HeartbeatSeconds', 1),
          credentials: template(json, 'Credentials', p, jsonata),
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
          if (jsonata) {
            checkKeys(c, JSONATA_CHOICE_RULE_FIELDS, cp);
            const cond = getOwn(c, 'Condition');
            if (cond === undefined) fail(`a JSONata choice rule needs 'Condition'`, cp);
            return {
              rule: undefined,
              condition: compileJsonataTemplate(cond, 'Condition', ptr(cp, 'Condition')),
              next: target,
              assign: assignSpec(c, cp, ql),
              output: jsonataField(c, 'Output', cp),
            };
          }
          const { Assign: _a, ...rule } = c;
          return {
            rule: compileChoiceRule(rule, cp),
            condition: undefined,
            next: target,
            assign: assignSpec(c, cp, ql),
            output: undefined,
          };
        });
        const dflt = str(json, 'Default', p);
        if (dflt !== undefined && !names.has(dflt))
          fail(`missing 'Default' target: ${dflt}`, ptr(p, 'Default'));
        return { ...base, type, choices, default: dflt };
      }
      case 'Wait':
        return { ...base, type, wait: jsonata ? this.jsonataWaitSpec(json, p) : this.waitSpec(json, p) };
      case 'Succeed':
        return { ...base, type };
      case 'Fail': {
        const expr = (key: string) => {
          const v = getOwn(json, key);
          return typeof v === 'string' && isJsonataExpression(v)
            ? compileJsonataTemplate(v, key, ptr(p, key))
            : undefined;
        };
        const errorExpr = jsonata ? expr('Error') : undefined;
        const causeExpr = jsonata ? expr('Cause') : undefined;
        const error = errorExpr ? undefined : str(json, 'Error', p);
        const cause = causeExpr ? undefined : str(json, 'Cause', p);
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
          errorExpr,
          causeExpr,
        };
      }
      case 'Parallel': {
        const branchesJson = getOwn(json, 'Branches');
        if (!Array.isArray(branchesJson) || branchesJson.length === 0)
          fail(`'Branches' must be a non-empty array`, ptr(p, 'Branches'));
        return {
          ...base,
          type,
          branches: branchesJson.map((b, i) => this.machine(b, ptr(ptr(p, 'Branches'), i), ql)),
          parameters: payload(json, 'Parameters', p),
          arguments: jsonataField(json, 'Arguments', p),
          resultSelector: payload(json, 'ResultSelector', p),
          resultPath: resultPath(json, 'ResultPath', p),
          retry: retriers(json, p),
          catch: catchers(json, p, names, ql),
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
        let itemSelector: TemplateSpec | undefined;
        if (selector !== undefined) {
          itemSelector = template(json, 'ItemSelector', p, jsonata);
        } else if (params !== undefined) {
          itemSelector = {
            kind: 'jsonpath',
            payload: compilePayloadTemplate(params, 'Parameters', ptr(p, 'Parameters')),
          };
        }
        return {
          ...base,
          type,
          processor: this.machine(processorDef, ptr(p, procKey), ql),
          mode,
          itemsPath: pathField(json, 'ItemsPath', p),
          items: jsonataField(json, 'Items', p),
          itemSelector,
          maxConcurrency: number('MaxConcurrency', 0) ?? { kind: 'literal', value: 0 },
          resultSelector: payload(json, 'ResultSelector', p),
          resultPath: resultPath(json, 'ResultPath', p),
          retry: retriers(json, p),
          catch: catchers(json, p, names, ql),
          toleratedFailure: {
            count: number('ToleratedFailureCount', 0),
            percentage: number('ToleratedFailurePercentage', 0, false),
          },
          legacyIterator: iter !== undefined,
          label: str(json, 'Label', p),
          itemReader: itemReaderSpec(json, p, ql),
          itemBatcher: itemBatcherSpec(json, p, ql),
          resultWriter: resultWriterSpec(json, p, ql),
        };
      }
      default: {
        // Unreachable: isStateType narrowed `type`; the compiler checks that every case is handled.
        const unhandled: never = type;
        return unhandled;
      }
    }
  }

  jsonataWaitSpec(json: JsonObject, p: string): WaitSpec {
    const seconds = getOwn(json, 'Seconds');
    const timestamp = getOwn(json, 'Timestamp');
    if ((seconds === undefined) === (timestamp === undefined))
      fail(`a Wait state needs exactly one of 'Seconds', 'Timestamp'`, p);
    if (seconds !== undefined) {
      if (typeof seconds === 'string' && isJsonataExpression(seconds))
        return {
          kind: 'secondsExpr',
          template: compileJsonataTemplate(seconds, 'Seconds', ptr(p, 'Seconds')),
        };
      return { kind: 'seconds', seconds: int(json, 'Seconds', p, 0)! };
    }
    if (typeof timestamp === 'string' && isJsonataExpression(timestamp))
      return {
        kind: 'timestampExpr',
        template: compileJsonataTemplate(timestamp, 'Timestamp', ptr(p, 'Timestamp')),
      };
    return { kind: 'timestamp', timestamp: str(json, 'Timestamp', p)! };
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
  checkKeys(def, MACHINE_FIELDS, '');
  const compiler = new Compiler();
  const root = compiler.machine(def, '', 'JSONPath');
  return {
    root,
    machines: compiler.machines,
    comment: str(def, 'Comment', ''),
    timeoutSeconds: int(def, 'TimeoutSeconds', '', 1),
    source: def,
    assigns: hasKey(def, 'Assign'),
  };
}

/** Whether `key` is a key anywhere in `v` (a loop, not a recursion: data may nest deeply). */
function hasKey(v: JsonValue, key: string): boolean {
  const stack: JsonValue[] = [v];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (Array.isArray(x)) {
      for (const e of x) if (e !== null && typeof e === 'object') stack.push(e);
    } else if (isJsonObject(x)) {
      for (const k of Object.keys(x)) {
        if (k === key) return true;
        const e = x[k]!;
        if (e !== null && typeof e === 'object') stack.push(e);
      }
    }
  }
  return false;
}
