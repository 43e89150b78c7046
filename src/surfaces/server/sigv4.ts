/**
 * AWS Signature Version 4 (header form), verified as AWS's front end does: the canonical request,
 * the string to sign and the HMAC key chain, with AWS's error codes and messages.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { frontendError, type WireError } from './protocol.js';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignableRequest {
  method: string;
  /** The request target as sent: path and query. */
  url: string;
  /** Node's `rawHeaders`: name, value, name, value… */
  rawHeaders: readonly string[];
  body: Buffer;
}

export interface VerifyOptions {
  region: string;
  service: string;
  now?: number;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** AWS accepts requests signed up to 15 minutes away from its clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const incomplete = (m: string): WireError => frontendError('IncompleteSignatureException', m);
const invalid = (m: string): WireError => frontendError('InvalidSignatureException', m);

/** Throws the WireError AWS would answer with, or returns when the signature is good. */
export function verifySigV4(req: SignableRequest, credentials: Credentials, opts: VerifyOptions): void {
  const headers = headerMap(req.rawHeaders);
  const authorization = headers.get('authorization');
  if (authorization === undefined) {
    if (req.url.includes('X-Amz-Algorithm=')) {
      throw invalid(
        'Query-string authentication is not supported by this server; sign the Authorization header.',
      );
    }
    throw frontendError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const auth = parseAuthorization(authorization);

  const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator] = auth.credential.split('/');
  if (terminator !== 'aws4_request' || !scopeService || !scopeRegion || !scopeDate || !accessKeyId) {
    throw incomplete(
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${auth.credential}'`,
    );
  }
  if (accessKeyId !== credentials.accessKeyId) {
    throw frontendError(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }

  const amzDate = headers.get('x-amz-date') ?? isoBasic(headers.get('date'));
  if (amzDate === undefined) {
    throw incomplete(
      `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${authorization}`,
    );
  }
  const signedAt = parseIsoBasic(amzDate);
  if (signedAt === undefined) throw incomplete(`Date must be in ISO-8601 'basic format'. Got '${amzDate}'.`);
  const now = opts.now ?? Date.now();
  if (signedAt < now - MAX_SKEW_MS) {
    throw invalid(
      `Signature expired: ${amzDate} is now earlier than ${formatIsoBasic(now - MAX_SKEW_MS)} (${formatIsoBasic(now)} - 15 min.)`,
    );
  }
  if (signedAt > now + MAX_SKEW_MS) {
    throw invalid(
      `Signature not yet current: ${amzDate} is still later than ${formatIsoBasic(now + MAX_SKEW_MS)} (${formatIsoBasic(now)} + 15 min.)`,
    );
  }
  if (scopeDate !== amzDate.slice(0, 8)) {
    throw invalid(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (scopeService !== opts.service) {
    throw invalid(`Credential should be scoped to correct service: '${opts.service}'. `);
  }
  if (scopeRegion !== opts.region) {
    throw invalid(`Credential should be scoped to a valid region, not '${scopeRegion}'. `);
  }
  if (!auth.signedHeaders.includes('host')) {
    throw invalid(`'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.`);
  }

  const expected = signature(req, headers, auth.signedHeaders, amzDate, {
    secretAccessKey: credentials.secretAccessKey,
    region: scopeRegion,
    service: scopeService,
  });
  const given = Buffer.from(auth.signature, 'utf8');
  const want = Buffer.from(expected, 'utf8');
  if (given.length !== want.length || !timingSafeEqual(given, want)) throw invalid(SIGNATURE_MISMATCH);
}

/** The hex signature of a request (also used by tests to sign requests by hand). */
export function signature(
  req: SignableRequest,
  headers: ReadonlyMap<string, string>,
  signedHeaders: readonly string[],
  amzDate: string,
  key: { secretAccessKey: string; region: string; service: string },
): string {
  const { path, query } = splitUrl(req.url);
  const payloadHash = headers.get('x-amz-content-sha256') ?? sha256Hex(req.body);
  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalPath(path),
    canonicalQuery(query),
    signedHeaders.map((h) => `${h}:${headers.get(h) ?? ''}\n`).join(''),
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${amzDate.slice(0, 8)}/${key.region}/${key.service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let k: Buffer = hmac(`AWS4${key.secretAccessKey}`, amzDate.slice(0, 8));
  k = hmac(k, key.region);
  k = hmac(k, key.service);
  k = hmac(k, 'aws4_request');
  return hmac(k, stringToSign).toString('hex');
}

/** Lower-case names; repeated headers joined by commas; values trimmed, inner spaces collapsed. */
export function headerMap(rawHeaders: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!.trim().replace(/\s+/g, ' ');
    const prior = out.get(name);
    out.set(name, prior === undefined ? value : `${prior},${value}`);
  }
  return out;
}

function parseAuthorization(header: string): {
  credential: string;
  signedHeaders: string[];
  signature: string;
} {
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw incomplete(`Unsupported AWS 'algorithm': '${algorithm}'; only ${ALGORITHM} is supported.`);
  }
  const params = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((p) => !params.get(p));
  if (missing.length > 0) {
    throw incomplete(
      `${missing.map((p) => `Authorization header requires '${p}' parameter.`).join(' ')} Authorization=${header}`,
    );
  }
  return {
    credential: params.get('Credential')!,
    signedHeaders: params.get('SignedHeaders')!.split(';'),
    signature: params.get('Signature')!,
  };
}

function splitUrl(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

/** Each path segment URI-encoded once more, as the SDKs do for every service but S3. */
function canonicalPath(path: string): string {
  return (
    path
      .split('/')
      .map((s) => rfc3986(s))
      .join('/') || '/'
  );
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  const pairs = query
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const k = eq < 0 ? p : p.slice(0, eq);
      const v = eq < 0 ? '' : p.slice(eq + 1);
      return [rfc3986(safeDecode(k)), rfc3986(safeDecode(v))] as const;
    });
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, '%20'));
  } catch {
    return s;
  }
}

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** `20240102T030405Z` → epoch ms. */
function parseIsoBasic(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const t = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Number.isNaN(t) ? undefined : t;
}

export function formatIsoBasic(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
}

/** An HTTP `Date` header in the basic ISO form (for requests signed with Date, not X-Amz-Date). */
function isoBasic(httpDate: string | undefined): string | undefined {
  if (httpDate === undefined) return undefined;
  const t = Date.parse(httpDate);
  return Number.isNaN(t) ? undefined : formatIsoBasic(t);
}
