// Copy of ../../../shared/bench/adapters/aws-local-stepfunctions.mjs that resolves the engine from
// this repository's node_modules (devDependency aws-local-stepfunctions@3.0.0): the shared
// harness has no node_modules of its own. Handlers and helpers still come from the shared harness.
//
// Adapter for aws-local-stepfunctions (npm, MIT): an in-process ASL interpreter.
// Tasks are mocked with its `overrides.taskResourceLocalHandlers` option, which is keyed
// by *state name*; we map every Task whose Resource is a Lambda ARN to handlers[functionName].
import { createRequire } from 'node:module';
import { StateMachine } from 'aws-local-stepfunctions';
import defaultHandlers, { lambdaFunctionName } from '../../../shared/bench/handlers.mjs';
import { forEachState, packageVersion } from '../../../shared/bench/lib/asl.mjs';

const require = createRequire(import.meta.url);

export const engine = 'aws-local-stepfunctions';
export const engineVersion = packageVersion(require, 'aws-local-stepfunctions');
export const notes = [];

// 3.x declares engines.node >= 22: Task states call Promise.withResolvers (Node 22+), so on
// Node 20 every Task fails with "Promise.withResolvers is not a function". We polyfill it
// (spec-equivalent, 5 lines) unless BENCH_NO_POLYFILL=1 so the rest of the engine can be measured.
if (typeof Promise.withResolvers !== 'function' && process.env.BENCH_NO_POLYFILL !== '1') {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
  notes.push('Promise.withResolvers polyfilled (package requires Node >= 22)');
}

const INTRINSICS = [
  'Format',
  'StringToJson',
  'JsonToString',
  'Array',
  'ArrayPartition',
  'ArrayContains',
  'ArrayRange',
  'ArrayGetItem',
  'ArrayLength',
  'ArrayUnique',
  'Base64Encode',
  'Base64Decode',
  'Hash',
  'JsonMerge',
  'MathRandom',
  'MathAdd',
  'StringSplit',
  'UUID',
];
export const features = new Set([
  'choice',
  'map',
  'parallel',
  'wait',
  'task:local-handler',
  'retry',
  'catch',
  ...INTRINSICS.map((f) => `intrinsic:States.${f}`),
]);

const cache = new WeakMap(); // definition object -> { machine, handlers, overrides }

function compile(definition, handlers) {
  const taskResourceLocalHandlers = {};
  forEachState(definition, (stateName, state) => {
    if (state.Type !== 'Task') return;
    const fn = handlers[lambdaFunctionName(state.Resource)];
    if (fn) taskResourceLocalHandlers[stateName] = fn;
  });
  // Validation (asl-validator) runs once here, like a deploy; executions reuse the machine.
  const machine = new StateMachine(definition);
  return { machine, handlers, overrides: { taskResourceLocalHandlers } };
}

/** Runs one execution to completion and returns its output (throws on failure). */
export async function runExecution(definition, input, { handlers = defaultHandlers } = {}) {
  let entry = cache.get(definition);
  if (!entry || entry.handlers !== handlers) {
    entry = compile(definition, handlers);
    cache.set(definition, entry);
  }
  const execution = entry.machine.run(input, { overrides: entry.overrides });
  return execution.result;
}
