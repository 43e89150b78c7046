/** SigV4 verification: the SDK's signatures pass, and each kind of bad request gets AWS's error. */
// node:test's describe/test return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateStateMachineCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { Engine } from '../../runtime/engine.js';
import { startServer, type RunningServer } from './server.js';
import { formatIsoBasic, headerMap, signature } from './sigv4.js';

const CREDS = { accessKeyId: 'AKIDSTEPWISE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

function client(url: string, creds = CREDS, extra: Partial<ConstructorParameters<typeof SFNClient>[0]> = {}) {
  return new SFNClient({ endpoint: url, region: 'us-east-1', credentials: creds, maxAttempts: 1, ...extra });
}

async function failure(
  p: Promise<unknown>,
): Promise<{ name: string; message: string; status?: number | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  assert.fail('expected the call to fail');
}

/** Signs a request by hand (with an arbitrary date) and posts it. */
async function signedPost(
  url: string,
  body: string,
  opts: { date?: number; region?: string; authorization?: string | null } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const u = new URL(url);
  const amzDate = formatIsoBasic(opts.date ?? Date.now());
  const region = opts.region ?? 'us-east-1';
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.0',
    host: u.host,
    'x-amz-date': amzDate,
    'x-amz-target': 'AWSStepFunctions.ListStateMachines',
  };
  const signed = Object.keys(headers).sort();
  const sig = signature(
    { method: 'POST', url: '/', rawHeaders: Object.entries(headers).flat(), body: Buffer.from(body) },
    headerMap(Object.entries(headers).flat()),
    signed,
    amzDate,
    { secretAccessKey: CREDS.secretAccessKey, region, service: 'states' },
  );
  const authorization =
    opts.authorization === undefined
      ? `AWS4-HMAC-SHA256 Credential=${CREDS.accessKeyId}/${amzDate.slice(0, 8)}/${region}/states/aws4_request, SignedHeaders=${signed.join(';')}, Signature=${sig}`
      : opts.authorization;
  const res = await fetch(`${url}/`, {
    method: 'POST',
    headers: { ...headers, ...(authorization === null ? {} : { authorization }) },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const code = (j: Record<string, unknown>) => String(j.__type).split('#').pop();

describe('SigV4 with configured credentials', () => {
  let engine: Engine;
  let server: RunningServer;
  let open: RunningServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stepwise-sigv4-'));
    engine = await Engine.open({ dataDir: dir, waitScale: 0 });
    server = await startServer({ engine, port: 0, credentials: CREDS });
    open = await startServer({ engine, port: 0 });
  });
  after(async () => {
    await server.close();
    await open.close();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the SDK signed with the right credentials is accepted, bodies included', async () => {
    const sfn = client(server.url);
    const sm = await sfn.send(
      new CreateStateMachineCommand({
        name: 'signed',
        definition: JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }),
        roleArn: 'arn:aws:iam::123456789012:role/r',
      }),
    );
    const ex = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: sm.stateMachineArn, input: '{"ü": "ß €"}' }),
    );
    assert.ok(ex.executionArn);
    assert.equal((await sfn.send(new ListStateMachinesCommand({}))).stateMachines?.length, 1);
    sfn.destroy();
  });

  test('a wrong secret is InvalidSignatureException; an unknown key UnrecognizedClientException', async () => {
    const wrongSecret = client(server.url, { ...CREDS, secretAccessKey: 'nope' });
    const e1 = await failure(wrongSecret.send(new ListStateMachinesCommand({})));
    assert.equal(e1.name, 'InvalidSignatureException');
    assert.equal(e1.status, 400);
    assert.match(e1.message, /does not match the signature you provided/);
    const wrongKey = client(server.url, { ...CREDS, accessKeyId: 'AKIDOTHER' });
    const e2 = await failure(wrongKey.send(new ListStateMachinesCommand({})));
    assert.equal(e2.name, 'UnrecognizedClientException');
    assert.equal(e2.status, 400);
    wrongSecret.destroy();
    wrongKey.destroy();
  });

  test('no Authorization header is MissingAuthenticationTokenException', async () => {
    const r = await signedPost(server.url, '{}', { authorization: null });
    assert.equal(r.status, 400);
    assert.equal(code(r.json), 'MissingAuthenticationTokenException');
  });

  test('a hand-made signature passes; an incomplete one is IncompleteSignatureException', async () => {
    assert.equal((await signedPost(server.url, '{}')).status, 200);
    const r = await signedPost(server.url, '{}', {
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIDSTEPWISE/x',
    });
    assert.equal(code(r.json), 'IncompleteSignatureException');
    const other = await signedPost(server.url, '{}', { authorization: 'Basic dXNlcjpwYXNz' });
    assert.equal(code(other.json), 'IncompleteSignatureException');
  });

  test('signatures older or newer than 15 minutes, or for another region, are refused', async () => {
    const old = await signedPost(server.url, '{}', { date: Date.now() - 16 * 60_000 });
    assert.equal(old.status, 400);
    assert.equal(code(old.json), 'InvalidSignatureException');
    assert.match(String(old.json.message), /^Signature expired: \d{8}T\d{6}Z is now earlier than/);
    const future = await signedPost(server.url, '{}', { date: Date.now() + 16 * 60_000 });
    assert.match(String(future.json.message), /^Signature not yet current/);
    const skewed = await signedPost(server.url, '{}', { date: Date.now() - 10 * 60_000 });
    assert.equal(skewed.status, 200, 'within the allowed skew');
    const region = await signedPost(server.url, '{}', { region: 'eu-west-1' });
    assert.equal(code(region.json), 'InvalidSignatureException');
  });

  test('the SDK corrects its clock from the server Date header, as with AWS', async () => {
    const skewed = client(server.url, CREDS, { systemClockOffset: -30 * 60_000, maxAttempts: 3 });
    const r = await skewed.send(new ListStateMachinesCommand({}));
    assert.ok(Array.isArray(r.stateMachines));
    skewed.destroy();
  });

  test('without credentials any signature is accepted', async () => {
    const r = await signedPost(open.url, '{}', {
      authorization: `AWS4-HMAC-SHA256 Credential=x/y, Signature=0`,
    });
    assert.equal(r.status, 200);
    const none = await signedPost(open.url, '{}', { authorization: null });
    assert.equal(none.status, 200);
  });
});
