// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MAX_EXECUTION_MS, REDRIVE_PERIOD_MS, redriveInfo } from './redrive.js';

const START = Date.UTC(2026, 0, 1);
const DAY = 24 * 3600 * 1000;

describe('redriveInfo (DescribeExecution redriveStatus, AWS values)', () => {
  it('RUNNING and SUCCEEDED are not redrivable, with AWS reasons', () => {
    assert.deepEqual(redriveInfo({ status: 'RUNNING', startDate: START }, START + 1), {
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution is RUNNING and cannot be redriven',
    });
    assert.equal(
      redriveInfo({ status: 'SUCCEEDED', startDate: START, stopDate: START + 1 }, START + 2)
        .redriveStatusReason,
      'Execution is SUCCEEDED and cannot be redriven',
    );
  });

  it('FAILED, TIMED_OUT and ABORTED are redrivable for 14 days after they stopped', () => {
    for (const status of ['FAILED', 'TIMED_OUT', 'ABORTED'] as const) {
      const e = { status, startDate: START, stopDate: START + DAY };
      assert.deepEqual(redriveInfo(e, START + DAY + REDRIVE_PERIOD_MS), {
        redriveCount: 0,
        redriveStatus: 'REDRIVABLE',
      });
      assert.deepEqual(redriveInfo(e, START + DAY + REDRIVE_PERIOD_MS + 1), {
        redriveCount: 0,
        redriveStatus: 'NOT_REDRIVABLE',
        redriveStatusReason: 'Execution redrivable period exceeded',
      });
    }
  });

  it('an execution that reached the history limit or the one-year maximum is not redrivable', () => {
    const limit = redriveInfo(
      {
        status: 'FAILED',
        startDate: START,
        stopDate: START + 1,
        error: 'States.Runtime',
        cause: 'The execution reached the maximum number of history events (25000).',
      },
      START + 2,
    );
    assert.equal(limit.redriveStatus, 'NOT_REDRIVABLE');
    assert.equal(limit.redriveStatusReason, 'Execution history event limit exceeded');

    const stop = START + MAX_EXECUTION_MS;
    const year = redriveInfo(
      { status: 'TIMED_OUT', startDate: START, stopDate: stop, error: 'States.Timeout' },
      stop + 1,
    );
    assert.equal(year.redriveStatus, 'NOT_REDRIVABLE');
    assert.equal(year.redriveStatusReason, 'Execution has exceeded the max execution time');
    // A shorter TimeoutSeconds leaves it redrivable.
    assert.equal(
      redriveInfo({ status: 'TIMED_OUT', startDate: START, stopDate: START + DAY }, START + DAY + 1)
        .redriveStatus,
      'REDRIVABLE',
    );
  });
});
