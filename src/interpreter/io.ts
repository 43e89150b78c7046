/** The JSONPath input/output pipeline: InputPath → Parameters → result → ResultSelector → ResultPath → OutputPath. */
import { StatesErrors, StatesRuntimeError } from '../language/errors.js';
import type { JsonValue } from '../language/json.js';
import type { CompiledPath } from '../language/jsonpath.js';
import { pathNotFoundCause, ReferencePathError, resultPathMatchFailureCause } from '../language/jsonpath.js';
import type { FilterPath, ResultPathSpec } from '../language/model.js';

/** What path evaluation needs from its caller: the context object and failure construction. */
export interface PathScope {
  pathContext(): JsonValue;
  variables(): ReadonlyMap<string, JsonValue>;
  fail(message: string): StatesRuntimeError;
}

/**
 * Applies InputPath/OutputPath. `undefined` passes the value through, `null` gives `{}`.
 * A path that selects nothing is a States.Runtime failure.
 */
export function applyFilterPath(spec: FilterPath, value: JsonValue, scope: PathScope): JsonValue {
  if (spec === undefined) return value;
  if (spec === null) return {};
  return selectOrFail(spec, value, scope);
}

export function selectOrFail(path: CompiledPath, value: JsonValue, scope: PathScope): JsonValue {
  const root = path.root.kind === 'context' ? scope.pathContext() : value;
  const selected =
    path.root.kind === 'variable'
      ? path.select({ input: value, context: root, variables: scope.variables() })
      : path.selectFrom(root);
  if (selected === undefined) throw scope.fail(pathNotFoundCause(path, root));
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
        resultPathMatchFailureCause(spec.source, input),
      );
    }
    throw e;
  }
}
