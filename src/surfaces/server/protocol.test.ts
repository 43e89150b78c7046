// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/** The wire shapes of service errors: status, `__type` namespace, extra members. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiErrors, ServiceError } from '../../language/errors.js';
import { fromServiceError } from './protocol.js';

describe('fromServiceError', () => {
  it('answers Step Functions errors as HTTP 400 in the service namespace, with their extra members', () => {
    const w = fromServiceError(
      new ServiceError(ApiErrors.ExecutionAlreadyExists, 'Execution Already Exists', { resourceName: 'x' }),
    );
    assert.equal(w.status, 400);
    assert.deepEqual(w.body(), {
      resourceName: 'x',
      __type: 'com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists',
      message: 'Execution Already Exists',
    });
  });

  it('answers ServiceUnavailable as a 503 of the front end, which the AWS SDKs retry', () => {
    const w = fromServiceError(new ServiceError(ApiErrors.ServiceUnavailable, 'retry'));
    assert.equal(w.status, 503);
    assert.deepEqual(w.body(), { __type: 'com.amazon.coral.service#ServiceUnavailable', message: 'retry' });
  });
});
