/** The JSONPath input/output pipeline: InputPath → Parameters → result → ResultSelector → ResultPath → OutputPath. */
import { StatesErrors, StatesRuntimeError } from '../language/errors.js';
import type { JsonValue } from '../language/json.js';
import type { CompiledPath } from '../language/jsonpath.js';
import { ReferencePathError } from '../language/jsonpath.js';
import type { FilterPath, ResultPathSpec } from '../language/model.js';

/** `$['a']['b'][0]`: the normalised form AWS prints in path errors. */
export function normalizedPath(source: string): string {
  const m = /^\$\$?/.exec(source);
  const root = m ? m[0] : '$';
  let rest = source.slice(root.length);
  let out = root;
  while (rest.length > 0) {
    let mm: RegExpExecArray | null;
    if ((mm = /^\.([^.[\]]+)/.exec(rest))) out += `['${mm[1]}']`;
    else if ((mm = /^\[(\d+)\]/.exec(rest))) out += `[${mm[1]}]`;
    else if ((mm = /^\[(['"])(.*?)\1\]/.exec(rest))) out += `['${mm[2]}']`;
    else return source;
    rest = rest.slice(mm[0].length);
  }
  return out;
}

export function invalidPathMessage(source: string): string {
  return `Invalid path '${source}' : No results for path: ${normalizedPath(source)}`;
}

/**
 * Applies InputPath/OutputPath. `undefined` passes the value through, `null` gives `{}`.
 * A path that selects nothing is a States.Runtime failure (`fail` builds it).
 */
export function applyFilterPath(
  spec: FilterPath,
  value: JsonValue,
  context: () => JsonValue,
  fail: (message: string) => StatesRuntimeError,
): JsonValue {
  if (spec === undefined) return value;
  if (spec === null) return {};
  return selectOrFail(spec, value, context, fail);
}

export function selectOrFail(
  path: CompiledPath,
  value: JsonValue,
  context: () => JsonValue,
  fail: (message: string) => StatesRuntimeError,
): JsonValue {
  const root = path.root.kind === 'context' ? context() : value;
  const selected = path.selectFrom(root);
  if (selected === undefined) throw fail(invalidPathMessage(path.source));
  return selected;
}

/** Places a result into the state input as ResultPath says. */
export function applyResultPath(spec: ResultPathSpec, input: JsonValue, result: JsonValue): JsonValue {
  if (spec === undefined) return result;
  if (spec === null) return input;
  try {
    return spec.assign(input, result);
  } catch (e) {
    if (e instanceof ReferencePathError) {
      throw new StatesRuntimeError(
        StatesErrors.ResultPathMatchFailure,
        `Unable to apply step "${spec.source}" to input ${JSON.stringify(input)}`,
      );
    }
    throw e;
  }
}
