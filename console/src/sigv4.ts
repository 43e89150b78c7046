/**
 * SigV4 request signing in the browser (header form, service `states`), the counterpart of
 * src/surfaces/server/sigv4.ts. Uses WebCrypto where the page is a secure context and a small
 * TypeScript SHA-256 elsewhere (plain HTTP to a LAN host).
 */
import { hmacSha256, sha256 } from './sha256.js';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

const enc = new TextEncoder();
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

const subtle: SubtleCrypto | undefined = globalThis.isSecureContext ? globalThis.crypto?.subtle : undefined;

async function digest(data: Uint8Array): Promise<Uint8Array> {
  if (subtle) return new Uint8Array(await subtle.digest('SHA-256', data as BufferSource));
  return sha256(data);
}

async function hmac(key: Uint8Array, data: string): Promise<Uint8Array> {
  const bytes = enc.encode(data);
  if (!subtle) return hmacSha256(key, bytes);
  const k = await subtle.importKey('raw', key as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return new Uint8Array(await subtle.sign('HMAC', k, bytes));
}

/** `2024-01-02T03:04:05.678Z` → `20240102T030405Z`. */
export function amzDate(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
}

/**
 * Returns the headers to add (`X-Amz-Date`, `Authorization`) for a POST to `/` of `host` with
 * the given headers (names in any case) and body.
 */
export async function signRequest(
  req: { host: string; path: string; headers: Record<string, string>; body: string },
  creds: Credentials,
  region: string,
  now = new Date(),
): Promise<Record<string, string>> {
  const date = amzDate(now);
  const all: Record<string, string> = { host: req.host, 'x-amz-date': date };
  for (const [k, v] of Object.entries(req.headers)) all[k.toLowerCase()] = v.trim().replace(/\s+/g, ' ');
  const names = Object.keys(all).sort();
  const signedHeaders = names.join(';');
  const canonical = [
    'POST',
    req.path,
    '',
    names.map((n) => `${n}:${all[n]}\n`).join(''),
    signedHeaders,
    hex(await digest(enc.encode(req.body))),
  ].join('\n');
  const scope = `${date.slice(0, 8)}/${region}/states/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, hex(await digest(enc.encode(canonical)))].join('\n');
  let key = await hmac(enc.encode(`AWS4${creds.secretAccessKey}`), date.slice(0, 8));
  key = await hmac(key, region);
  key = await hmac(key, 'states');
  key = await hmac(key, 'aws4_request');
  const signature = hex(await hmac(key, toSign));
  return {
    'X-Amz-Date': date,
    Authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}
