/**
 * What a JSONata expression is evaluated with, and its bounds: shared by the reference
 * evaluator (jsonata.ts) and the synchronous fast path (jsonata-fast.ts), which must not
 * import each other both ways.
 */
import type { JsonObject, JsonValue } from './json.js';

export interface JsonataBindings {
  /**
   * `$states`: `input`, `context`, and `result` / `errorOutput` where they exist. `context` may
   * be left out when `context` below is given: it is added before an expression that reads it.
   */
  states: JsonObject;
  /** Builds `$states.context` (the context object) for `states` that does not hold it yet. */
  context?: () => JsonValue;
  /** Workflow variables, bound by name (`$name`). */
  variables: ReadonlyMap<string, JsonValue> | undefined;
  /** Uniform in [0, 1): `$random()` without seed, `$shuffle`. */
  random: () => number;
  /** A fresh version 4 UUID: `$uuid()`. */
  uuid: () => string;
  /** Epoch milliseconds for `$now()` / `$millis()`; read at most once per expression. */
  now: () => number;
}

export interface JsonataLimits {
  /** Wall-clock bound of one expression, in ms. */
  timeoutMs: number;
  /** Evaluation nesting bound (jsonata counts one level per evaluated sub-expression). */
  maxDepth: number;
  /** Longest sequence an expression may build. */
  maxSequence: number;
  /** Longest array `$range` may return. */
  maxRange: number;
}
