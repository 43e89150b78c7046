/**
 * AWS's payload quota: "256 KiB of data as a UTF-8 encoded string" for the input or output of a
 * task, activity or state, and for the execution's input and output (service-quotas.html).
 * Going over it fails the state with States.DataLimitExceeded, which Retry and Catch handle
 * (AWS's recordings show `States.ALL` catching it; see errors.ts). The interpreter applies it
 * when the runtime asks (`ExecutionInit.maxPayloadBytes`), as it does the history event limit:
 * the durable engine does, for Standard and Express executions.
 */
import { stringifyJson, trySizeBound, type JsonValue } from '../language/json.js';
import type { FilterPath, ResultPathSpec } from '../language/model.js';

export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** The value's size in bytes when its JSON text exceeds `limit`; `undefined` when it fits. */
export function payloadOverLimit(v: JsonValue, limit = MAX_PAYLOAD_BYTES): number | undefined {
  // The bound is cheap (remembered per object) and rarely above the limit: measure only then.
  // Nested too deep to walk: JSON.stringify cannot write it either; leave it to what does.
  const bound = trySizeBound(v);
  if (bound === undefined || bound <= limit) return undefined;
  const exact = Buffer.byteLength(stringifyJson(v));
  return exact > limit ? exact : undefined;
}

/**
 * A bound of the size of the output ResultPath then OutputPath make of an input and a result of
 * at most these sizes.
 */
export function placedBytes(
  resultPath: ResultPathSpec,
  outputPath: FilterPath,
  inputBytes: number,
  resultBytes: number,
): number | undefined {
  const placed =
    resultPath === undefined
      ? resultBytes
      : resultPath === null
        ? inputBytes
        : resultPath.placedBytes(inputBytes, resultBytes);
  return filteredBytes(outputPath, placed);
}

/**
 * A bound of the size of what InputPath or OutputPath makes of a value of at most `bytes`: the
 * value, a part of it (bounds cover a part written on its own: see `jsonSizeBound`), or `{}`. A
 * path that selects a list, or reads `$$` or a variable, has no bound.
 */
export function filteredBytes(spec: FilterPath, bytes: number | undefined): number | undefined {
  if (spec === undefined) return bytes;
  if (spec === null) return 2;
  return spec.root.kind === 'input' && spec.definite ? bytes : undefined;
}

/**
 * The cause, worded like AWS's cause for an oversized task result ("The state/task 'lambda'
 * returned a result with a size exceeding the maximum number of bytes service limit."); AWS's
 * recordings show no other case, so the wording of the others follows that one.
 */
export function dataLimitCause(stateName: string, what: 'result' | 'input'): string {
  return what === 'result'
    ? `The state/task '${stateName}' returned a result with a size exceeding the maximum number of bytes service limit.`
    : `The state/task '${stateName}' has an input with a size exceeding the maximum number of bytes service limit.`;
}
