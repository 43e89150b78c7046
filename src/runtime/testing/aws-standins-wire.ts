/**
 * What the AWS stand-in modules (EKS, jobs, media) share to speak JSON over HTTP: the error
 * answer they throw, reading a request body, writing an answer, and lenient field readers.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';

/** An error answer: HTTP status, AWS error code, message. */
export class StandInError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Anything thrown while serving, as an error answer (500 for what is not one already). */
export function asStandInError(e: unknown): StandInError {
  return e instanceof StandInError ? e : new StandInError(500, 'InternalFailure', String(e));
}

/** A field as a string ('' when it is not one). */
export const text = (x: unknown): string => (typeof x === 'string' ? x : '');

/** A field as an object ({} when it is not one). */
export const record = (x: unknown): Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : {};

/** A JSON request body as an object ({} when empty); a body that is not JSON is a 400. */
export function parseBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new StandInError(400, 'SerializationException', 'The request body is not JSON.');
  }
  return record(parsed);
}

/** A JSON answer with a request id (and the CRC32 header some SDK clients check). */
export function sendJson(
  res: ServerResponse,
  status: number,
  contentType: string,
  value: unknown,
  withCrc32 = false,
): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('x-amzn-RequestId', randomUUID());
  if (withCrc32) res.setHeader('x-amz-crc32', String(crc32(body)));
  res.end(body);
}

/**
 * Answers an AWS JSON 1.1 call with what `answer` returns, or with its error as
 * `{__type, <messageKey>}` (services differ in the key's casing). Returns true: the call is served.
 */
export function answerJson11(
  res: ServerResponse,
  messageKey: 'message' | 'Message',
  answer: () => unknown,
  withCrc32 = false,
): true {
  const type = 'application/x-amz-json-1.1';
  try {
    sendJson(res, 200, type, answer(), withCrc32);
  } catch (e) {
    const err = asStandInError(e);
    sendJson(res, err.status, type, { __type: err.code, [messageKey]: err.message }, withCrc32);
  }
  return true;
}
