/**
 * Payload templates of JSONPath states (Parameters, ResultSelector, ItemSelector, Arguments):
 * keys ending in `.$` take a path or an intrinsic call and lose their `.$` in the output.
 */
import { DefinitionError, StatesErrors, StatesRuntimeError } from './errors.js';
import type { JsonObject, JsonValue } from './json.js';
import { isJsonObject, setOwn } from './json.js';
import type { IntrinsicEnv } from './intrinsics.js';
import { compileIntrinsic, isIntrinsicCall } from './intrinsics.js';
import { compilePath, jsonPathNotFoundCause, PathSyntaxError } from './jsonpath.js';

export interface CompiledPayload {
  /** The field the template came from (e.g. `Parameters`). */
  readonly field: string;
  /** False when the template has no `.$` key anywhere: `evaluate` then returns a constant. */
  readonly dynamic: boolean;
  /**
   * Builds the payload. Constant parts (the whole value, for a template without `.$` keys) are
   * shared between calls and frozen: callers must not mutate the result (copy it first).
   */
  evaluate(env: IntrinsicEnv): JsonValue;
}

type Node = (env: IntrinsicEnv) => JsonValue;

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isDynamic(v: JsonValue): boolean {
  if (Array.isArray(v)) return v.some(isDynamic);
  if (isJsonObject(v)) {
    for (const k of Object.keys(v)) if (k.endsWith('.$') || isDynamic(v[k]!)) return true;
  }
  return false;
}

function deepFreeze(v: JsonValue): JsonValue {
  if (typeof v === 'object' && v !== null) {
    for (const x of Array.isArray(v) ? v : Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

function invalidValue(key: string, pointer: string): DefinitionError {
  return new DefinitionError(
    `The value for the field '${key}' must be a valid JSONPath or a valid intrinsic function call`,
    pointer,
  );
}

/** One `.$` entry: a path or an intrinsic call, read against the env when evaluated. */
function compileDynamic(key: string, text: JsonValue, pointer: string): Node {
  if (typeof text !== 'string') throw invalidValue(key, pointer);
  if (isIntrinsicCall(text)) {
    let fn;
    try {
      fn = compileIntrinsic(text, key);
    } catch (e) {
      if (e instanceof DefinitionError) throw invalidValue(key, pointer);
      throw e;
    }
    return fn.evaluate;
  }
  if (!text.startsWith('$')) throw invalidValue(key, pointer);
  let path;
  try {
    path = compilePath(text);
  } catch (e) {
    if (e instanceof PathSyntaxError) throw invalidValue(key, pointer);
    throw e;
  }
  return (env) => {
    const v = path.select(env);
    if (v === undefined) {
      throw new StatesRuntimeError(StatesErrors.Runtime, jsonPathNotFoundCause(text, key, env.input));
    }
    return v;
  };
}

function compileNode(v: JsonValue, pointer: string): Node {
  if (!isDynamic(v)) {
    // Shared between evaluations, so frozen: a caller mutating it would corrupt later results.
    const constant = deepFreeze(structuredClone(v));
    return () => constant;
  }
  if (Array.isArray(v)) {
    const items = v.map((x, i) => compileNode(x, `${pointer}/${i}`));
    return (env) => {
      const out: JsonValue[] = new Array<JsonValue>(items.length);
      for (let i = 0; i < items.length; i++) out[i] = items[i]!(env);
      return out;
    };
  }
  const obj = v as JsonObject;
  const keys: string[] = [];
  const nodes: Node[] = [];
  for (const k of Object.keys(obj)) {
    const value = obj[k]!;
    if (k.endsWith('.$')) {
      keys.push(k.slice(0, -2));
      nodes.push(compileDynamic(k, value, pointer));
    } else {
      keys.push(k);
      nodes.push(compileNode(value, `${pointer}/${escapePointer(k)}`));
    }
  }
  // Plain assignment unless a key is `__proto__` (which only setOwn makes an own key): this
  // runs for every Parameters of every state.
  if (keys.includes('__proto__')) {
    return (env) => {
      const out: JsonObject = {};
      for (let i = 0; i < keys.length; i++) setOwn(out, keys[i]!, nodes[i]!(env));
      return out;
    };
  }
  return (env) => {
    const out: JsonObject = {};
    for (let i = 0; i < keys.length; i++) out[keys[i]!] = nodes[i]!(env);
    return out;
  };
}

/**
 * Compiles a payload template. `pointer` is the JSON pointer of the template in the definition
 * (e.g. `/States/S/Parameters`), used as the location of DefinitionErrors.
 */
export function compilePayloadTemplate(template: JsonValue, field: string, pointer = ''): CompiledPayload {
  if (!isDynamic(template)) {
    const constant = deepFreeze(structuredClone(template));
    return { field, dynamic: false, evaluate: () => constant };
  }
  const root = compileNode(template, pointer);
  return { field, dynamic: true, evaluate: root };
}
