// Adapter for ../shared/conformance/run.mjs (`--adapter ./conformance-adapter.mjs`): runs each case
// through Stepwise's library API, in-process, with waits skipped.
import { StateMachine, DefinitionError, functionsFromMap } from './dist/index.js';
import * as lambdaModule from '../shared/conformance/lambdas.mjs';

export const name = 'stepwise (in-process library)';
export const supports = {
  services: ['none', 'lambda'],
  kinds: ['execution'],
  history: true,
  actions: false,
};

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';

export async function runCase(c, { lambdas, signal }) {
  let sm;
  try {
    sm = StateMachine.fromDefinition(c.definitionString ?? c.definition, {
      name: `StepwiseConformance${Math.random().toString(36).slice(2, 10)}`,
      region: REGION,
      account: ACCOUNT,
    });
  } catch (e) {
    if (e instanceof DefinitionError) return { apiError: { code: 'InvalidDefinition', message: e.message } };
    throw e;
  }
  const provider = functionsFromMap(lambdas ?? {});
  provider.formatError = lambdaModule.formatError;
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/conformance-sfn-role`;
  const r = await sm.run({
    input: c.input ?? '{}',
    inputIsText: true,
    functions: provider,
    waitScale: 0,
    roleArn,
    signal,
    ...(c.executionName ? { executionName: c.executionName } : {}),
  });
  return {
    status: r.status,
    output: r.output,
    error: r.error,
    cause: r.cause,
    events: r.events,
    executionArn: r.executionArn,
    stateMachineArn: r.stateMachineArn,
    roleArn,
  };
}
