/**
 * The fields ASL allows where, in each query language: one table for both the engine's
 * compiler and the validator, so that what one accepts the other cannot reject.
 */
import type { QueryLanguage, StateType } from './model.js';

export const STATE_TYPES: readonly StateType[] = [
  'Pass',
  'Task',
  'Choice',
  'Wait',
  'Succeed',
  'Fail',
  'Parallel',
  'Map',
];

export function isStateType(value: unknown): value is StateType {
  return typeof value === 'string' && (STATE_TYPES as readonly string[]).includes(value);
}

const COMMON = ['Type', 'Comment', 'QueryLanguage'];
const FLOW = ['Next', 'End'];
/** Fields of each state type in both query languages, then those of one language only. */
const FIELDS: Record<StateType, { both: string[]; jsonpath: string[]; jsonata: string[] }> = {
  Pass: {
    both: [...FLOW, 'Assign'],
    jsonpath: ['InputPath', 'OutputPath', 'Parameters', 'Result', 'ResultPath'],
    jsonata: ['Output'],
  },
  Task: {
    both: [
      ...FLOW,
      'Resource',
      'Retry',
      'Catch',
      'TimeoutSeconds',
      'HeartbeatSeconds',
      'Credentials',
      'Assign',
    ],
    jsonpath: [
      'InputPath',
      'OutputPath',
      'Parameters',
      'ResultSelector',
      'ResultPath',
      'TimeoutSecondsPath',
      'HeartbeatSecondsPath',
    ],
    jsonata: ['Arguments', 'Output'],
  },
  Choice: {
    both: ['Choices', 'Default', 'Assign'],
    jsonpath: ['InputPath', 'OutputPath'],
    jsonata: ['Output'],
  },
  Wait: {
    both: [...FLOW, 'Seconds', 'Timestamp', 'Assign'],
    jsonpath: ['InputPath', 'OutputPath', 'SecondsPath', 'TimestampPath'],
    jsonata: ['Output'],
  },
  Succeed: { both: [], jsonpath: ['InputPath', 'OutputPath'], jsonata: ['Output'] },
  Fail: { both: ['Error', 'Cause'], jsonpath: ['ErrorPath', 'CausePath'], jsonata: [] },
  Parallel: {
    both: [...FLOW, 'Branches', 'Retry', 'Catch', 'Assign'],
    jsonpath: ['InputPath', 'OutputPath', 'Parameters', 'ResultSelector', 'ResultPath'],
    jsonata: ['Arguments', 'Output'],
  },
  Map: {
    both: [
      ...FLOW,
      'ItemProcessor',
      'ItemSelector',
      'MaxConcurrency',
      'ToleratedFailureCount',
      'ToleratedFailurePercentage',
      'ItemReader',
      'ItemBatcher',
      'ResultWriter',
      'Label',
      'Retry',
      'Catch',
      'Assign',
    ],
    jsonpath: [
      'InputPath',
      'OutputPath',
      'Iterator',
      'ItemsPath',
      'Parameters',
      'ResultSelector',
      'ResultPath',
      'MaxConcurrencyPath',
      'ToleratedFailureCountPath',
      'ToleratedFailurePercentagePath',
    ],
    jsonata: ['Items', 'Output'],
  },
};

function fieldsIn(ql: QueryLanguage): Record<StateType, readonly string[]> {
  const out = {} as Record<StateType, readonly string[]>;
  for (const t of STATE_TYPES)
    out[t] = [...COMMON, ...FIELDS[t].both, ...(ql === 'JSONPath' ? FIELDS[t].jsonpath : FIELDS[t].jsonata)];
  return out;
}
const ALLOWED: Record<QueryLanguage, Record<StateType, readonly string[]>> = {
  JSONPath: fieldsIn('JSONPath'),
  JSONata: fieldsIn('JSONata'),
};

/** The fields a state of `type` may have in `ql`. */
export function stateFields(type: StateType, ql: QueryLanguage): readonly string[] {
  return ALLOWED[ql][type];
}

export const MACHINE_FIELDS = ['Comment', 'StartAt', 'States', 'TimeoutSeconds', 'Version', 'QueryLanguage'];

export const RETRIER_FIELDS = [
  'ErrorEquals',
  'IntervalSeconds',
  'MaxAttempts',
  'BackoffRate',
  'MaxDelaySeconds',
  'JitterStrategy',
  'Comment',
];

export function catcherFields(ql: QueryLanguage): readonly string[] {
  return ['ErrorEquals', 'Next', 'Comment', 'Assign', ql === 'JSONata' ? 'Output' : 'ResultPath'];
}

/** A Choice rule of a JSONata state. */
export const JSONATA_CHOICE_RULE_FIELDS = ['Condition', 'Next', 'Assign', 'Output', 'Comment'];
