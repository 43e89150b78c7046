/** Retry and Catch: matching error names and computing back-off, as AWS defines them. */
import { StatesErrors } from '../language/errors.js';
import type { JsonObject, JsonValue } from '../language/json.js';
import type { Catcher, Retrier } from '../language/model.js';
import { applyResultPath } from './io.js';

/**
 * Errors that the wildcards (States.ALL, States.TaskFailed) do not match; only their own name
 * does. AWS's recordings show States.ALL catching a task's States.DataLimitExceeded, so only
 * States.Runtime is here.
 */
const TERMINAL = new Set<string>([StatesErrors.Runtime]);

function matches(errorEquals: readonly string[], error: string): boolean {
  for (const name of errorEquals) {
    if (name === error) return true;
    if (name === StatesErrors.ALL) return !TERMINAL.has(error);
    // States.TaskFailed is a wildcard too, except for States.Timeout.
    if (name === StatesErrors.TaskFailed && error !== StatesErrors.Timeout) return !TERMINAL.has(error);
  }
  return false;
}

/** Index of the first retrier whose ErrorEquals names the error. */
export function findRetrier(retriers: readonly Retrier[], error: string): number | undefined {
  const i = retriers.findIndex((r) => matches(r.errorEquals, error));
  return i < 0 ? undefined : i;
}

export function findCatcher(catchers: readonly Catcher[], error: string): number | undefined {
  const i = catchers.findIndex((c) => matches(c.errorEquals, error));
  return i < 0 ? undefined : i;
}

/** Delay before retry number `attempt + 1` (attempt counts from 0), in milliseconds. */
export function retryDelayMs(r: Retrier, attempt: number, random: () => number): number {
  let seconds = r.intervalSeconds * Math.pow(r.backoffRate, attempt);
  if (r.maxDelaySeconds !== undefined) seconds = Math.min(seconds, r.maxDelaySeconds);
  if (r.jitterStrategy === 'FULL') seconds = random() * seconds;
  return Math.round(seconds * 1000);
}

/** The error output a catcher hands on: `{Error, Cause}` placed by the catcher's ResultPath. */
export function catchOutput(
  catcher: Catcher,
  stateInput: JsonValue,
  error: string,
  cause: string | undefined,
): JsonValue {
  return applyResultPath(catcher.resultPath, stateInput, errorOutputOf(error, cause));
}

/** `{Error, Cause}`: AWS always hands on a Cause, empty when the error had none (e.g. States.Timeout). */
export function errorOutputOf(error: string, cause: string | undefined): JsonObject {
  return { Error: error, Cause: cause ?? '' };
}
