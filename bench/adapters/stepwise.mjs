// Adapter for Stepwise (this repository) following ../../../shared/bench's adapter contract.
// It drives the built library (dist/, so run `npm run build` first) the way a user's code would:
// compile once with StateMachine.fromDefinition, then sm.run() per execution with history off
// and waits skipped. Tasks use Stepwise's own local-function mechanism (`functions` by name).
// No definition rewrites.
import { readFileSync } from 'node:fs';
import { StateMachine } from '../../dist/index.js';
import defaultHandlers from '../../../shared/bench/handlers.mjs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

export const engine = 'stepwise';
export const engineVersion = pkg.version;
export const notes = ['history: false, waitScale: 0; output taken from RunResult.outputValue'];

// Stepwise implements every ASL intrinsic.
const INTRINSICS = (
  'Format StringToJson JsonToString Array ArrayPartition ArrayContains ArrayRange ArrayGetItem ' +
  'ArrayLength ArrayUnique Base64Encode Base64Decode Hash JsonMerge MathRandom MathAdd StringSplit UUID'
).split(' ');
export const features = new Set([
  ...['choice', 'map', 'parallel', 'wait', 'task:local-handler', 'retry', 'catch', 'jsonata'],
  ...INTRINSICS.map((f) => `intrinsic:States.${f}`),
]);

const machines = new WeakMap(); // definition object -> StateMachine (compile once, like a deploy)
const functionMaps = new WeakMap(); // handlers object -> { NAME: async (event) => ... }

/** The shared handlers as Stepwise local functions (one map per handlers object). */
export function functionsFor(handlers) {
  let fns = functionMaps.get(handlers);
  if (!fns) {
    // Lambda ARNs resolve by function name; the async wrapper makes every handler return a
    // promise, as a real Lambda client would.
    fns = Object.fromEntries(
      Object.keys(handlers).map((name) => [name, async (event) => handlers[name](event)]),
    );
    functionMaps.set(handlers, fns);
  }
  return fns;
}

/** Runs one execution to completion and returns its output (throws on failure). */
export async function runExecution(definition, input, { handlers = defaultHandlers } = {}) {
  let sm = machines.get(definition);
  if (!sm) {
    sm = StateMachine.fromDefinition(definition);
    machines.set(definition, sm);
  }
  const result = await sm.run({ input, functions: functionsFor(handlers), history: false, waitScale: 0 });
  if (result.status !== 'SUCCEEDED') {
    throw new Error(
      `execution ${result.status}: ${result.error ?? ''}${result.cause ? ` - ${result.cause}` : ''}`,
    );
  }
  return result.outputValue;
}
