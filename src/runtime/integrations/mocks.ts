/**
 * Mocked service integrations in Step Functions Local's MockConfigFile format: a test case,
 * selected by StartExecution on `<stateMachineArn>#<TestCase>`, maps Task state names to mocked
 * responses; each response lists what the 0th, 1st, … call of that state returns or throws.
 */
import { readFile } from 'node:fs/promises';
import { parseYaml } from '../../language/yaml.js';
import { StatesErrors } from '../../language/errors.js';
import type { JsonObject, JsonValue } from '../../language/json.js';
import { cloneJson, isJsonObject } from '../../language/json.js';
import type { TaskOutcome } from '../functions.js';

/** The file as Step Functions Local reads it. */
export interface MockConfigFile {
  StateMachines?: Record<string, { TestCases?: Record<string, Record<string, string>> }>;
  MockedResponses?: Record<string, Record<string, MockedStep>>;
}

export type MockedStep = { Return: JsonValue } | { Throw: { Error: string; Cause?: string } };

interface Range {
  from: number;
  to: number;
  step: MockedStep;
}

/** Which execution and state is asking (a structural subset of the dispatcher's context). */
export interface MockCall {
  executionArn: string;
  stateMachineArn: string;
  testCase?: string | undefined;
  stateName: string;
  /** Which call of the state this is in the execution, from 0 (the interpreter counts them). */
  index: number;
}

export class MockConfigError extends Error {
  constructor(message: string) {
    super(`Invalid mock configuration: ${message}`);
    this.name = 'MockConfigError';
  }
}

/** Answers mocked Task states; validates the whole configuration up front. */
export class MockResponder {
  private readonly responses = new Map<string, Range[]>();
  /** state machine name → test case → state name → mocked response name */
  private readonly cases = new Map<string, Map<string, Map<string, string>>>();

  constructor(config: unknown) {
    if (!isJsonObject(config)) throw new MockConfigError('the top level must be an object');
    const c = config;
    const responses = c.MockedResponses ?? {};
    if (!isJsonObject(responses)) throw new MockConfigError('MockedResponses must be an object');
    for (const [name, steps] of Object.entries(responses)) this.responses.set(name, parseSteps(name, steps));
    const machines = c.StateMachines ?? {};
    if (!isJsonObject(machines)) throw new MockConfigError('StateMachines must be an object');
    for (const [machine, body] of Object.entries(machines)) {
      const testCases = isJsonObject(body) ? body.TestCases : undefined;
      if (!isJsonObject(testCases ?? null)) {
        throw new MockConfigError(`StateMachines.${machine} must have a TestCases object`);
      }
      const byCase = new Map<string, Map<string, string>>();
      for (const [testCase, states] of Object.entries(testCases as JsonObject)) {
        if (!isJsonObject(states)) {
          throw new MockConfigError(`test case ${machine}.${testCase} must map state names to responses`);
        }
        const byState = new Map<string, string>();
        for (const [state, response] of Object.entries(states)) {
          if (typeof response !== 'string' || !this.responses.has(response)) {
            throw new MockConfigError(
              `test case ${machine}.${testCase} maps state '${state}' to ${JSON.stringify(response)}, which is not in MockedResponses`,
            );
          }
          byState.set(state, response);
        }
        byCase.set(testCase, byState);
      }
      this.cases.set(machine, byCase);
    }
  }

  /** Whether the configuration defines this test case for the state machine (by name). */
  hasTestCase(stateMachineName: string, testCase: string): boolean {
    return this.cases.get(stateMachineName)?.has(testCase) ?? false;
  }

  /**
   * The mocked outcome of this call, or `undefined` when the state is not mocked (it then runs
   * normally).
   */
  respond(call: MockCall): TaskOutcome | undefined {
    if (call.testCase === undefined) return undefined;
    const machine = stateMachineNameOf(call.stateMachineArn);
    const byCase = this.cases.get(machine)?.get(call.testCase);
    if (byCase === undefined) {
      return {
        ok: false,
        error: StatesErrors.Runtime,
        cause: `The mock configuration has no test case '${call.testCase}' for state machine '${machine}'.`,
      };
    }
    const responseName = byCase.get(call.stateName);
    if (responseName === undefined) return undefined;
    const index = call.index;
    const step = this.responses.get(responseName)!.find((r) => index >= r.from && index <= r.to)?.step;
    if (step === undefined) {
      // Step Functions Local fails the execution when a call has no mocked response.
      return {
        ok: false,
        error: StatesErrors.Runtime,
        cause: `The mocked response '${responseName}' has no entry for call ${index} of state '${call.stateName}' (test case '${call.testCase}').`,
      };
    }
    if ('Return' in step) return { ok: true, output: cloneJson(step.Return)?.value ?? null };
    return { ok: false, error: step.Throw.Error, cause: step.Throw.Cause };
  }
}

function parseSteps(name: string, steps: JsonValue): Range[] {
  if (!isJsonObject(steps)) throw new MockConfigError(`MockedResponses.${name} must be an object`);
  const ranges: Range[] = [];
  for (const [key, value] of Object.entries(steps)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(key);
    if (!m) {
      throw new MockConfigError(
        `MockedResponses.${name} has key '${key}': use a call number or range like "1-2"`,
      );
    }
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new MockConfigError(`MockedResponses.${name} has an empty range '${key}'`);
    ranges.push({ from, to, step: parseStep(`${name}.${key}`, value) });
  }
  return ranges;
}

function parseStep(where: string, value: JsonValue): MockedStep {
  if (!isJsonObject(value)) throw new MockConfigError(`MockedResponses.${where} must be an object`);
  const keys = Object.keys(value);
  if (keys.length !== 1 || (keys[0] !== 'Return' && keys[0] !== 'Throw')) {
    throw new MockConfigError(`MockedResponses.${where} must have exactly one field, Return or Throw`);
  }
  if (keys[0] === 'Return') return { Return: value.Return ?? null };
  const t = value.Throw;
  if (!isJsonObject(t ?? null) || typeof (t as JsonObject).Error !== 'string') {
    throw new MockConfigError(`MockedResponses.${where}.Throw must be an object with a string Error`);
  }
  const { Error: error, Cause: cause } = t as JsonObject;
  if (cause !== undefined && typeof cause !== 'string') {
    throw new MockConfigError(`MockedResponses.${where}.Throw.Cause must be a string`);
  }
  return {
    Throw: cause === undefined ? { Error: error as string } : { Error: error as string, Cause: cause },
  };
}

/** `arn:aws:states:r:a:stateMachine:NAME[:version-or-alias]` → NAME. */
export function stateMachineNameOf(arn: string): string {
  return arn.split(':')[6] ?? arn;
}

/** Reads a MockConfigFile (JSON, or YAML by extension) and validates it. */
export async function loadMockConfig(path: string): Promise<MockResponder> {
  const text = await readFile(path, 'utf8');
  const data: unknown = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  return new MockResponder(data);
}
