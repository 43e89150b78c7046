// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { StatesErrors, StatesRuntimeError } from '../language/errors.js';
import type { JsonValue } from '../language/json.js';
import { compileReferencePath } from '../language/jsonpath.js';
import type { Catcher, Retrier } from '../language/model.js';
import { catchOutput, findCatcher, findRetrier, retryDelayMs } from './errors.js';

function retrier(errorEquals: string[], over: Partial<Retrier> = {}): Retrier {
  return {
    errorEquals,
    intervalSeconds: 1,
    maxAttempts: 3,
    backoffRate: 2,
    maxDelaySeconds: undefined,
    jitterStrategy: 'NONE',
    ...over,
  };
}

function catcher(errorEquals: string[], resultPath?: string | null): Catcher {
  return {
    errorEquals,
    next: 'Next',
    resultPath:
      resultPath === undefined || resultPath === null ? resultPath : compileReferencePath(resultPath),
    assign: undefined,
    output: undefined,
  };
}

const noRandom = (): number => {
  throw new Error('random() must not be called');
};

describe('findRetrier / findCatcher', () => {
  const both = [
    [
      'findRetrier',
      (names: string[][], error: string) =>
        findRetrier(
          names.map((n) => retrier(n)),
          error,
        ),
    ],
    [
      'findCatcher',
      (names: string[][], error: string) =>
        findCatcher(
          names.map((n) => catcher(n)),
          error,
        ),
    ],
  ] as const;

  for (const [name, find] of both) {
    describe(name, () => {
      it('returns undefined for no entries or no match', () => {
        assert.equal(find([], 'E'), undefined);
        assert.equal(find([['A'], ['B']], 'C'), undefined);
      });

      it('returns the index of the first matching entry', () => {
        assert.equal(find([['A'], ['B'], ['B']], 'B'), 1);
        assert.equal(find([['A', 'B']], 'B'), 0);
        assert.equal(find([['States.ALL'], ['E']], 'E'), 0);
      });

      it('matches names exactly: case-sensitive, no prefixes', () => {
        assert.equal(find([['boom']], 'Boom'), undefined);
        assert.equal(find([['Boo']], 'Boom'), undefined);
        assert.equal(find([['States.Tim']], 'States.Timeout'), undefined);
        assert.equal(find([['Lambda.Unknown']], 'Lambda.Unknown'), 0);
      });

      it('States.ALL matches every error except States.Runtime', () => {
        for (const e of [
          'Custom',
          StatesErrors.Timeout,
          StatesErrors.TaskFailed,
          StatesErrors.DataLimitExceeded,
          StatesErrors.ResultPathMatchFailure,
          StatesErrors.HeartbeatTimeout,
          StatesErrors.NoChoiceMatched,
          '',
        ]) {
          assert.equal(find([['States.ALL']], e), 0, e);
        }
        assert.equal(find([['States.ALL']], StatesErrors.Runtime), undefined);
      });

      it('States.Runtime is matched by its own name', () => {
        assert.equal(find([['States.ALL'], ['States.Runtime']], StatesErrors.Runtime), 1);
      });

      it('States.TaskFailed matches every error except States.Timeout and States.Runtime', () => {
        for (const e of [
          'Custom',
          StatesErrors.HeartbeatTimeout,
          StatesErrors.Permissions,
          StatesErrors.DataLimitExceeded,
        ]) {
          assert.equal(find([['States.TaskFailed']], e), 0, e);
        }
        assert.equal(find([['States.TaskFailed']], StatesErrors.Timeout), undefined);
        assert.equal(find([['States.TaskFailed']], StatesErrors.Runtime), undefined);
      });

      it('States.TaskFailed followed by States.Timeout in one list matches a timeout', () => {
        assert.equal(find([['States.TaskFailed', 'States.Timeout']], StatesErrors.Timeout), 0);
        assert.equal(find([['States.TaskFailed'], ['States.Timeout']], StatesErrors.Timeout), 1);
      });
    });
  }
});

describe('retryDelayMs', () => {
  it('is IntervalSeconds on the first retry', () => {
    assert.equal(retryDelayMs(retrier(['E'], { intervalSeconds: 3 }), 0, noRandom), 3000);
  });

  it('multiplies by BackoffRate per attempt', () => {
    const r = retrier(['E'], { intervalSeconds: 2, backoffRate: 3 });
    assert.deepEqual(
      [0, 1, 2, 3].map((a) => retryDelayMs(r, a, noRandom)),
      [2000, 6000, 18_000, 54_000],
    );
  });

  it('BackoffRate 1 keeps the interval', () => {
    const r = retrier(['E'], { intervalSeconds: 5, backoffRate: 1 });
    assert.equal(retryDelayMs(r, 10, noRandom), 5000);
  });

  it('rounds fractional delays to whole milliseconds', () => {
    const r = retrier(['E'], { intervalSeconds: 1, backoffRate: 1.5 });
    assert.deepEqual(
      [0, 1, 2, 3].map((a) => retryDelayMs(r, a, noRandom)),
      [1000, 1500, 2250, 3375],
    );
    const thirds = retrier(['E'], { intervalSeconds: 1, backoffRate: 1.0001 });
    assert.ok(Number.isInteger(retryDelayMs(thirds, 7, noRandom)));
  });

  it('caps at MaxDelaySeconds', () => {
    const r = retrier(['E'], { intervalSeconds: 2, backoffRate: 3, maxDelaySeconds: 10 });
    assert.deepEqual(
      [0, 1, 2, 3].map((a) => retryDelayMs(r, a, noRandom)),
      [2000, 6000, 10_000, 10_000],
    );
    // A cap below the interval wins too.
    assert.equal(retryDelayMs(retrier(['E'], { intervalSeconds: 5, maxDelaySeconds: 1 }), 0, noRandom), 1000);
  });

  it('stays at the cap even when the exponential overflows', () => {
    const r = retrier(['E'], { intervalSeconds: 1, backoffRate: 2, maxDelaySeconds: 60 });
    assert.equal(retryDelayMs(r, 5000, noRandom), 60_000);
  });

  it('JitterStrategy FULL takes random() × the (capped) delay', () => {
    const r = retrier(['E'], {
      intervalSeconds: 4,
      backoffRate: 2,
      maxDelaySeconds: 10,
      jitterStrategy: 'FULL',
    });
    assert.equal(
      retryDelayMs(r, 0, () => 0.5),
      2000,
    );
    assert.equal(
      retryDelayMs(r, 1, () => 0.25),
      2000,
    );
    assert.equal(
      retryDelayMs(r, 5, () => 0.5),
      5000,
    ); // capped at 10 s, then jittered
    assert.equal(
      retryDelayMs(r, 0, () => 0),
      0,
    );
    assert.ok(retryDelayMs(r, 0, () => 0.999999) <= 4000);
  });

  it('calls random() exactly once with FULL jitter', () => {
    let calls = 0;
    retryDelayMs(retrier(['E'], { jitterStrategy: 'FULL' }), 2, () => {
      calls++;
      return 0.1;
    });
    assert.equal(calls, 1);
  });
});

describe('catchOutput', () => {
  const input: JsonValue = { a: 1, nested: { keep: true } };

  it('without ResultPath the error output replaces the input', () => {
    assert.deepEqual(catchOutput(catcher(['E']), input, 'E', 'why'), { Error: 'E', Cause: 'why' });
  });

  it('ResultPath null keeps the input', () => {
    assert.deepEqual(catchOutput(catcher(['E'], null), input, 'E', 'why'), input);
  });

  it('ResultPath "$" replaces the input', () => {
    assert.deepEqual(catchOutput(catcher(['E'], '$'), input, 'E', 'why'), { Error: 'E', Cause: 'why' });
  });

  it('ResultPath puts {Error, Cause} in place without mutating the input', () => {
    const before = JSON.stringify(input);
    assert.deepEqual(catchOutput(catcher(['E'], '$.err'), input, 'E', 'why'), {
      a: 1,
      nested: { keep: true },
      err: { Error: 'E', Cause: 'why' },
    });
    assert.deepEqual(catchOutput(catcher(['E'], '$.nested.err'), input, 'E', 'why'), {
      a: 1,
      nested: { keep: true, err: { Error: 'E', Cause: 'why' } },
    });
    assert.equal(JSON.stringify(input), before);
  });

  it('replaces an existing field at ResultPath', () => {
    assert.deepEqual(catchOutput(catcher(['E'], '$.a'), input, 'E', 'why'), {
      a: { Error: 'E', Cause: 'why' },
      nested: { keep: true },
    });
  });

  it('a missing cause becomes an empty Cause', () => {
    assert.deepEqual(catchOutput(catcher(['E']), input, 'E', undefined), { Error: 'E', Cause: '' });
  });

  it('a ResultPath that cannot be written fails with States.ResultPathMatchFailure', () => {
    assert.throws(
      () => catchOutput(catcher(['E'], '$.a.b'), input, 'E', 'why'),
      (e: unknown) => e instanceof StatesRuntimeError && e.error === StatesErrors.ResultPathMatchFailure,
    );
    assert.throws(
      () => catchOutput(catcher(['E'], '$.err'), 'scalar input', 'E', 'why'),
      (e: unknown) => e instanceof StatesRuntimeError && e.error === StatesErrors.ResultPathMatchFailure,
    );
  });

  it('a "__proto__" ResultPath writes an own property, not the prototype', () => {
    const out = catchOutput(catcher(['E'], '$.__proto__'), {}, 'E', 'why');
    assert.ok(Object.prototype.hasOwnProperty.call(out, '__proto__'));
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.equal((Object.prototype as Record<string, unknown>).Error, undefined);
  });
});
