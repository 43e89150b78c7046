// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { after, describe, it } from 'node:test';

import { StatesErrors } from '../language/errors.js';
import type { JsonObject, JsonValue } from '../language/json.js';
import type { FunctionProvider, LambdaContext, LambdaHandler, TaskOutcome } from './functions.js';
import {
  combineProviders,
  functionNameOf,
  functionsFromMap,
  invokeLambdaService,
  invokeLegacyLambda,
  loadFunctionsModule,
  MAX_PAYLOAD_BYTES,
} from './functions.js';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:fn';
const INVOKE = 'arn:aws:states:::lambda:invoke';
const signal = new AbortController().signal;

function legacy(provider: FunctionProvider, input: JsonValue = {}, arn = ARN): Promise<TaskOutcome> {
  return invokeLegacyLambda(provider, arn, input, signal);
}

function invoke(provider: FunctionProvider, params: JsonValue): Promise<TaskOutcome> {
  return invokeLambdaService(provider, INVOKE, params, 'us-east-1', '123456789012', signal);
}

function ok(o: TaskOutcome): JsonValue {
  assert.ok(o.ok, `expected success, got ${JSON.stringify(o).slice(0, 300)}`);
  return o.output;
}

function failed(o: TaskOutcome): { error: string; cause: string | undefined } {
  assert.ok(!o.ok, `expected failure, got ${JSON.stringify(o).slice(0, 300)}`);
  return { error: o.error, cause: o.cause };
}

class ValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}

describe('functionNameOf', () => {
  const cases: [string, string][] = [
    ['fn', 'fn'],
    ['fn:prod', 'fn'],
    ['fn:$LATEST', 'fn'],
    ['123456789012:function:fn', 'fn'],
    ['123456789012:function:fn:7', 'fn'],
    ['arn:aws:lambda:us-east-1:123456789012:function:fn', 'fn'],
    ['arn:aws:lambda:us-east-1:123456789012:function:fn:prod', 'fn'],
    ['arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST', 'fn'],
    ['arn:aws:lambda:us-east-1:123456789012:function:fn:42', 'fn'],
    ['arn:aws-cn:lambda:cn-north-1:123456789012:function:my-fn_2', 'my-fn_2'],
    ['arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:Fn', 'Fn'],
  ];
  for (const [input, expected] of cases) {
    it(`${input} → ${expected}`, () => assert.equal(functionNameOf(input), expected));
  }
});

describe('functionsFromMap / combineProviders', () => {
  it('resolves names, partial and full ARNs to the same handler', () => {
    const h: LambdaHandler = () => 1;
    const p = functionsFromMap({ fn: h });
    for (const n of ['fn', 'fn:1', '123456789012:function:fn', ARN, `${ARN}:prod`]) {
      assert.equal(p.resolveFunction(n), h, n);
    }
    assert.equal(p.resolveFunction('other'), undefined);
  });

  it('does not resolve inherited Object.prototype members', () => {
    const p = functionsFromMap({});
    for (const n of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      assert.equal(p.resolveFunction(n), undefined, n);
    }
  });

  it('the first provider that knows a function wins; formatError comes from the one that has it', () => {
    const a: LambdaHandler = () => 'a';
    const b: LambdaHandler = () => 'b';
    const c: LambdaHandler = () => 'c';
    const withFormat: FunctionProvider = {
      resolveFunction: (n) => (n === 'y' ? c : undefined),
      formatError: () => 'F',
    };
    const p = combineProviders(functionsFromMap({ x: a }), functionsFromMap({ x: b, y: b }), withFormat);
    assert.equal(p.resolveFunction('x'), a);
    assert.equal(p.resolveFunction('y'), b);
    assert.equal(p.resolveFunction('z'), undefined);
    assert.equal(p.formatError?.(new Error('e'), { requestId: 'r' }), 'F');
    assert.ok(!('formatError' in combineProviders(functionsFromMap({}))));
  });
});

describe('legacy Lambda (function ARN resource)', () => {
  it('hands the handler the parsed input and a context, and returns the result as is', async () => {
    let seen: { event: unknown; ctx: LambdaContext } | undefined;
    const p = functionsFromMap({
      fn: (event, ctx) => {
        seen = { event, ctx };
        return { got: event as JsonValue };
      },
    });
    const out = ok(await legacy(p, { a: [1, 'x'] }, `${ARN}:prod`));
    assert.deepEqual(out, { got: { a: [1, 'x'] } });
    assert.ok(seen);
    assert.deepEqual(seen.event, { a: [1, 'x'] });
    assert.equal(seen.ctx.functionName, 'fn');
    assert.equal(seen.ctx.invokedFunctionArn, `${ARN}:prod`);
    assert.equal(seen.ctx.payloadText, '{"a":[1,"x"]}');
    assert.match(seen.ctx.awsRequestId, /^[0-9a-f-]{36}$/);
    assert.equal(seen.ctx.signal, signal);
  });

  it('the handler works on its own copies: mutations do not leak either way', async () => {
    const input: JsonObject = { list: [1, 2], nested: { k: 'v' } };
    const returned: JsonObject = { r: [1] };
    const p = functionsFromMap({
      fn: (event) => {
        const e = event as JsonObject;
        (e.list as JsonValue[]).push(3);
        (e.nested as JsonObject).k = 'changed';
        return returned;
      },
    });
    const out = ok(await legacy(p, input));
    assert.deepEqual(input, { list: [1, 2], nested: { k: 'v' } });
    (returned.r as JsonValue[]).push(2);
    assert.deepEqual(out, { r: [1] });
  });

  it('makes the signal only when the handler reads it', async () => {
    let made = 0;
    const source = (): AbortSignal => {
      made++;
      return signal;
    };
    const quiet = functionsFromMap({ fn: () => 1 });
    ok(await invokeLegacyLambda(quiet, ARN, {}, source));
    assert.equal(made, 0);
    const reader = functionsFromMap({ fn: (_e, ctx) => ctx.signal.aborted });
    assert.equal(ok(await invokeLegacyLambda(reader, ARN, {}, source)), false);
    assert.equal(made, 1);
  });

  it('serialises results as a Lambda runtime would (toJSON, undefined members dropped)', async () => {
    const p = functionsFromMap({ fn: () => ({ when: new Date(0), gone: undefined, list: [undefined, 1] }) });
    assert.deepEqual(ok(await legacy(p)), { when: '1970-01-01T00:00:00.000Z', list: [null, 1] });
  });

  it('awaits async handlers; undefined becomes null', async () => {
    const p = functionsFromMap({ fn: async () => Promise.resolve(undefined) });
    assert.equal(ok(await legacy(p)), null);
  });

  it('an error: Error = err.name, Cause = a Lambda error document', async () => {
    const p = functionsFromMap({
      fn: () => {
        throw new ValidationError('bad input');
      },
    });
    const { error, cause } = failed(await legacy(p));
    assert.equal(error, 'ValidationError');
    const doc = JSON.parse(cause ?? '') as JsonObject;
    assert.equal(doc.errorMessage, 'bad input');
    assert.equal(doc.errorType, 'ValidationError');
    assert.ok(Array.isArray(doc.stackTrace));
  });

  it('a rejected promise and built-in error classes are named too', async () => {
    const p = functionsFromMap({ fn: () => Promise.reject(new TypeError('nope')) });
    assert.equal(failed(await legacy(p)).error, 'TypeError');
  });

  it('a thrown non-Error is an "Error"', async () => {
    const p = functionsFromMap({
      fn: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw 'plain string';
      },
    });
    const { error, cause } = failed(await legacy(p));
    assert.equal(error, 'Error');
    assert.equal((JSON.parse(cause ?? '') as JsonObject).errorMessage, 'plain string');
  });

  it('uses formatError text as the Cause, verbatim', async () => {
    const text = '{\n  "errorType": "ValidationError",\n  "errorMessage": "bad"\n}';
    let info: { requestId: string } | undefined;
    const p: FunctionProvider = {
      resolveFunction: () => () => {
        throw new ValidationError('bad');
      },
      formatError: (_err, i) => {
        info = i;
        return text;
      },
    };
    const { error, cause } = failed(await legacy(p));
    assert.equal(error, 'ValidationError');
    assert.equal(cause, text);
    assert.match(info?.requestId ?? '', /^[0-9a-f-]{36}$/);
  });

  it('an unknown function is Lambda.ResourceNotFoundException', async () => {
    const { error, cause } = failed(await legacy(functionsFromMap({})));
    assert.equal(error, 'Lambda.ResourceNotFoundException');
    assert.match(
      cause ?? '',
      new RegExp(`^Function not found: ${ARN} \\(Service: AWSLambda; Status Code: 404`),
    );
  });

  it('a result over 256 KiB is States.DataLimitExceeded', async () => {
    const p = functionsFromMap({ fn: () => 'x'.repeat(257 * 1024) });
    const { error, cause } = failed(await legacy(p));
    assert.equal(error, StatesErrors.DataLimitExceeded);
    assert.match(cause ?? '', /size exceeding the maximum number of bytes service limit/);
    assert.ok((cause ?? '').includes(ARN));
  });

  it('the limit is 256 KiB of UTF-8 bytes, inclusive', async () => {
    assert.equal(MAX_PAYLOAD_BYTES, 262_144);
    // A JSON string of n characters is n + 2 bytes of text.
    const exact = functionsFromMap({ fn: () => 'x'.repeat(MAX_PAYLOAD_BYTES - 2) });
    assert.equal((ok(await legacy(exact)) as string).length, MAX_PAYLOAD_BYTES - 2);
    const over = functionsFromMap({ fn: () => 'x'.repeat(MAX_PAYLOAD_BYTES - 1) });
    assert.equal(failed(await legacy(over)).error, StatesErrors.DataLimitExceeded);
    // Fewer characters than the limit, but more bytes: 'é' is two bytes.
    const multibyte = functionsFromMap({ fn: () => 'é'.repeat(MAX_PAYLOAD_BYTES / 2) });
    assert.equal(failed(await legacy(multibyte)).error, StatesErrors.DataLimitExceeded);
  });

  it('counts the bytes of the JSON text, escapes included', async () => {
    // Each U+0001 is written as \u0001: six bytes. 50,000 of them are ~300 KB of JSON text.
    const p = functionsFromMap({ fn: () => '\u0001'.repeat(50_000) });
    assert.equal(failed(await legacy(p)).error, StatesErrors.DataLimitExceeded);
  });

  it('a Uint8Array result is the raw response payload', async () => {
    const p = functionsFromMap({ fn: () => new TextEncoder().encode('{"a": [1, 2]}') });
    assert.deepEqual(ok(await legacy(p)), { a: [1, 2] });
    const notJson = functionsFromMap({ fn: () => new TextEncoder().encode('not json') });
    assert.equal(failed(await legacy(notJson)).error, 'Lambda.Unknown');
  });

  it('a Uint8Array result over the limit is States.DataLimitExceeded', async () => {
    const bytes = new Uint8Array(MAX_PAYLOAD_BYTES + 1).fill(0x20);
    bytes[0] = 0x31; // "1" followed by spaces: valid JSON, too long
    const p = functionsFromMap({ fn: () => bytes });
    assert.equal(failed(await legacy(p)).error, StatesErrors.DataLimitExceeded);
  });
});

describe('lambda:invoke (service integration)', () => {
  it('wraps the result: Payload, StatusCode 200, ExecutedVersion', async () => {
    let seen: { event: unknown; ctx: LambdaContext } | undefined;
    const p = functionsFromMap({
      fn: (event, ctx) => {
        seen = { event, ctx };
        return { echo: event as JsonValue };
      },
    });
    const out = ok(await invoke(p, { FunctionName: 'fn', Payload: { k: 'v' } })) as JsonObject;
    assert.deepEqual(out.Payload, { echo: { k: 'v' } });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.ExecutedVersion, '$LATEST');
    const meta = out.SdkHttpMetadata as JsonObject;
    assert.equal(meta.HttpStatusCode, 200);
    const requestId = (out.SdkResponseMetadata as JsonObject).RequestId;
    assert.equal(typeof requestId, 'string');
    assert.equal((meta.HttpHeaders as JsonObject)['x-amzn-RequestId'], requestId);
    assert.equal(
      (meta.HttpHeaders as JsonObject)['Content-Length'],
      String(Buffer.byteLength(JSON.stringify({ echo: { k: 'v' } }))),
    );
    assert.ok(seen);
    assert.equal(seen.ctx.functionName, 'fn');
    assert.equal(seen.ctx.invokedFunctionArn, 'arn:aws:lambda:us-east-1:123456789012:function:fn');
  });

  it('accepts full ARNs and keeps a string Payload as the request text', async () => {
    let seen: LambdaContext | undefined;
    let event: unknown;
    const p = functionsFromMap({
      fn: (e, ctx) => {
        seen = ctx;
        event = e;
        return null;
      },
    });
    const out = ok(await invoke(p, { FunctionName: `${ARN}:prod`, Payload: '{"x": 1}' })) as JsonObject;
    assert.equal(out.Payload, null);
    assert.equal(seen?.invokedFunctionArn, `${ARN}:prod`);
    assert.equal(seen?.payloadText, '{"x": 1}');
    assert.deepEqual(event, { x: 1 });
  });

  it('without a Payload the function gets {}', async () => {
    let event: unknown;
    const p = functionsFromMap({
      fn: (e) => {
        event = e;
        return 1;
      },
    });
    ok(await invoke(p, { FunctionName: 'fn' }));
    assert.deepEqual(event, {});
  });

  it('a string Payload that is not JSON is Lambda.InvalidRequestContentException', async () => {
    const p = functionsFromMap({ fn: () => 1 });
    assert.equal(
      failed(await invoke(p, { FunctionName: 'fn', Payload: '{oops' })).error,
      'Lambda.InvalidRequestContentException',
    );
  });

  it('a missing FunctionName is Lambda.InvalidParameterValueException', async () => {
    assert.equal(
      failed(await invoke(functionsFromMap({}), { Payload: {} })).error,
      'Lambda.InvalidParameterValueException',
    );
    assert.equal(failed(await invoke(functionsFromMap({}), 'not an object')).error, StatesErrors.Runtime);
  });

  it('an error: Error = err.name, Cause re-serialised compactly', async () => {
    const pretty = '{\n  "errorType": "ValidationError",\n  "errorMessage": "bad",\n  "trace": []\n}';
    const p: FunctionProvider = {
      resolveFunction: () => () => {
        throw new ValidationError('bad');
      },
      formatError: () => pretty,
    };
    const { error, cause } = failed(await invoke(p, { FunctionName: 'fn' }));
    assert.equal(error, 'ValidationError');
    assert.equal(cause, '{"errorType":"ValidationError","errorMessage":"bad","trace":[]}');
  });

  it('an error document that is not JSON is kept as is', async () => {
    const p: FunctionProvider = {
      resolveFunction: () => () => {
        throw new Error('x');
      },
      formatError: () => 'Task timed out after 3.00 seconds',
    };
    assert.equal(failed(await invoke(p, { FunctionName: 'fn' })).cause, 'Task timed out after 3.00 seconds');
  });

  it('without formatError the Cause is the default document, compact', async () => {
    const p = functionsFromMap({
      fn: () => {
        throw new ValidationError('bad');
      },
    });
    const { cause } = failed(await invoke(p, { FunctionName: 'fn' }));
    const doc = JSON.parse(cause ?? '') as JsonObject;
    assert.equal(doc.errorMessage, 'bad');
    assert.equal(cause, JSON.stringify(doc));
  });

  it('a 257 KiB result is States.DataLimitExceeded', async () => {
    const p = functionsFromMap({ fn: () => ({ big: 'y'.repeat(257 * 1024) }) });
    assert.equal(failed(await invoke(p, { FunctionName: 'fn' })).error, StatesErrors.DataLimitExceeded);
  });

  it('an unknown function is Lambda.ResourceNotFoundException naming the qualified ARN', async () => {
    const byName = failed(await invoke(functionsFromMap({}), { FunctionName: 'ghost' }));
    assert.equal(byName.error, 'Lambda.ResourceNotFoundException');
    assert.match(
      byName.cause ?? '',
      /^Function not found: arn:aws:lambda:us-east-1:123456789012:function:ghost:\$LATEST \(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: [0-9a-f-]{36}; Proxy: null\)$/,
    );
    const byArn = failed(await invoke(functionsFromMap({}), { FunctionName: `${ARN}:prod` }));
    assert.match(byArn.cause ?? '', new RegExp(`^Function not found: ${ARN}:prod \\(`));
  });

  it('an unknown function named with a qualifier keeps the qualifier in the Cause', async () => {
    const c = failed(await invoke(functionsFromMap({}), { FunctionName: 'ghost:prod' }));
    assert.match(c.cause ?? '', /function:ghost:prod \(/);
  });

  it('a Uint8Array result is the raw payload: JSON is parsed, other text stays a string', async () => {
    const json = functionsFromMap({ fn: () => new TextEncoder().encode('{"a": 1}') });
    assert.deepEqual((ok(await invoke(json, { FunctionName: 'fn' })) as JsonObject).Payload, { a: 1 });
    const text = functionsFromMap({ fn: () => new TextEncoder().encode('plain text') });
    assert.equal((ok(await invoke(text, { FunctionName: 'fn' })) as JsonObject).Payload, 'plain text');
  });
});

describe('loadFunctionsModule', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-functions-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const write = (source: string): string => {
    const file = join(dir, `functions-${++n}.mjs`);
    writeFileSync(file, source);
    return file;
  };

  it('loads a default map of handlers', async () => {
    const p = await loadFunctionsModule(
      write(`export default { double: (e) => e.n * 2, notAFunction: 42 };`),
    );
    assert.deepEqual(
      ok(await invokeLegacyLambda(p, 'arn:aws:lambda:us-east-1:1:function:double', { n: 21 }, signal)),
      42,
    );
    assert.equal(p.resolveFunction('notAFunction'), undefined);
    assert.ok(!('formatError' in p));
  });

  it('resolveFunction comes before the default map; formatError is used and stringified', async () => {
    const p = await loadFunctionsModule(
      write(`
        export function resolveFunction(name) {
          return name.startsWith('dyn') ? () => 'dynamic:' + name : undefined;
        }
        export function formatError(err, info) {
          return { toString: () => 'formatted ' + err.message + ' ' + typeof info.requestId };
        }
        export default {
          dynOverride: () => 'from map',
          mapOnly: () => 'from map',
          boom: () => { throw new RangeError('kaput'); },
        };
      `),
    );
    assert.equal(ok(await invokeLegacyLambda(p, 'dynOverride', {}, signal)), 'dynamic:dynOverride');
    assert.equal(ok(await invokeLegacyLambda(p, 'mapOnly', {}, signal)), 'from map');
    const { error, cause } = failed(await invokeLegacyLambda(p, 'boom', {}, signal));
    assert.equal(error, 'RangeError');
    assert.equal(cause, 'formatted kaput string');
  });

  it('resolves a relative path against the working directory', async () => {
    const file = write(`export default { f: () => 'rel' };`);
    const rel = relative(process.cwd(), file);
    assert.ok(!isAbsolute(rel));
    const p = await loadFunctionsModule(rel);
    assert.ok(p.resolveFunction('f'));
  });

  it('rejects a module that exports neither', async () => {
    const file = write(`export const x = 1;`);
    await assert.rejects(loadFunctionsModule(file), /exports neither resolveFunction nor a default map/);
  });

  it('rejects a missing file', async () => {
    await assert.rejects(loadFunctionsModule(join(dir, 'does-not-exist.mjs')));
  });
});
