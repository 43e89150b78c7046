// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileDefinition } from './compile.js';
import { DefinitionError } from './errors.js';
import { STATE_TYPES, stateFields } from './fields.js';
import type { JsonObject } from './json.js';
import { validateDefinition } from './validate.js';

/** A minimal valid state of each type, in each query language. */
function minimal(type: string, ql: 'JSONPath' | 'JSONata'): JsonObject {
  const s: JsonObject = { Type: type, QueryLanguage: ql };
  if (type === 'Task') s.Resource = 'arn:aws:lambda:us-east-1:123456789012:function:f';
  if (type === 'Choice') {
    s.Choices = [
      ql === 'JSONata'
        ? { Condition: '{% true %}', Next: 'End' }
        : { Variable: '$.x', IsPresent: true, Next: 'End' },
    ];
  } else if (type === 'Parallel') {
    s.Branches = [{ StartAt: 'B', States: { B: { Type: 'Succeed' } } }];
  } else if (type === 'Map') {
    s.ItemProcessor = { StartAt: 'B', States: { B: { Type: 'Succeed' } } };
  } else if (type === 'Wait') {
    s.Seconds = 1;
  }
  if (type !== 'Choice' && type !== 'Succeed' && type !== 'Fail') s.Next = 'End';
  return s;
}

function machine(state: JsonObject, ql: 'JSONPath' | 'JSONata'): JsonObject {
  // Succeed and Fail end the machine: a state after them would be unreachable.
  const terminal = state.Type === 'Succeed' || state.Type === 'Fail';
  const states: JsonObject = terminal ? { S: state } : { S: state, End: { Type: 'Succeed' } };
  return { QueryLanguage: ql, StartAt: 'S', States: states };
}

function compiles(def: JsonObject): boolean {
  try {
    compileDefinition(def);
    return true;
  } catch (e) {
    if (e instanceof DefinitionError) return false;
    throw e;
  }
}

const errorsOf = (def: JsonObject) => validateDefinition(def).filter((d) => d.severity === 'ERROR');

describe('fields: the compiler and the validator agree on which fields a state may have', () => {
  for (const ql of ['JSONPath', 'JSONata'] as const) {
    for (const type of STATE_TYPES) {
      it(`${ql} ${type}: the minimal state passes both; a field of the other language fails both`, () => {
        const ok = machine(minimal(type, ql), ql);
        assert.deepEqual(errorsOf(ok), []);
        assert.ok(compiles(ok));
        const foreign = ql === 'JSONata' ? 'InputPath' : 'Output';
        const allowed = stateFields(type, ql);
        if (allowed.includes(foreign)) return;
        const bad = machine(
          { ...minimal(type, ql), [foreign]: ql === 'JSONata' ? '$' : '{% $states.input %}' },
          ql,
        );
        assert.ok(!compiles(bad), 'the compiler rejects it');
        assert.ok(
          errorsOf(bad).some((d) => d.code === 'SCHEMA_VALIDATION_FAILED'),
          'the validator rejects it',
        );
      });
    }
  }

  it("a JSONata Map state may not use the JSONPath-only 'Iterator'", () => {
    const state: JsonObject = minimal('Map', 'JSONata');
    delete state.ItemProcessor;
    state.Iterator = { StartAt: 'B', States: { B: { Type: 'Succeed' } } };
    const def = machine(state, 'JSONata');
    assert.ok(!compiles(def));
    assert.ok(errorsOf(def).length > 0);
  });
});
