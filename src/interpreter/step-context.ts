/**
 * What a state evaluator may ask of the running step. The interpreter implements it; keeping it
 * an interface lets evaluators stay independent of the interpreter class.
 */
import type { JsonObject, JsonValue } from '../language/json.js';
import type { StatesRuntimeError } from '../language/errors.js';
import type { State } from '../language/model.js';
import type { Frame, InterpreterEnv } from './types.js';

/** The workflow variables a frame can read (its own scope and the outer ones). */
export type VariableView = ReadonlyMap<string, JsonValue>;

export interface StepContext {
  readonly env: InterpreterEnv;
  /**
   * The context object (`$$`) for the frame's current state. AWS shows
   * `Execution.RedriveCount` to InputPath/OutputPath but not to payload templates.
   */
  context(frame: Frame, state: State, withRedriveCount: boolean): JsonObject;
  /** A States.Runtime failure with AWS's "An error occurred while executing the state…" text. */
  runtimeError(
    frame: Frame,
    state: State,
    message: string,
    error?: string,
    location?: string,
  ): StatesRuntimeError;
  variables(frame: Frame): VariableView;
  /**
   * An upper bound of the size of the frame's input when the runtime enforces the payload quota
   * (measured the first time it is asked for), or undefined when it does not.
   */
  inputBytes(frame: Frame): number | undefined;
}
