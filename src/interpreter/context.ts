/** Small helpers shared by the interpreter's parts. */
import { StatesErrors, StatesRuntimeError } from '../language/errors.js';

/** ISO-8601 with milliseconds, as AWS writes `$$.Execution.StartTime` and `EnteredTime`. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}

/** States.Runtime failure of a state's own field, with AWS's wording. */
export function runtimeFailure(
  stateName: string,
  enteredEventId: number,
  message: string,
  error: string = StatesErrors.Runtime,
  location?: string,
): StatesRuntimeError {
  return new StatesRuntimeError(
    error,
    `An error occurred while executing the state '${stateName}' (entered at the event id #${enteredEventId}). ${message}`,
    location,
  );
}
