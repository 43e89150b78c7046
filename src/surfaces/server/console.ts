/**
 * Serves the web console (built into dist/console by scripts/build-console.mjs) on the API's
 * port: `GET /` and the client routes answer with index.html, `GET /assets/*` with the hashed
 * bundle files. Only GET (and HEAD) routes are added, so `POST /` stays the AWS API. The console
 * itself talks to the server through the public Step Functions API only.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where the build puts the console, relative to this compiled file (dist/surfaces/server/). */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

/** The client-side routes that reload into index.html. */
export const CONSOLE_ROUTES = ['/state-machines', '/executions', '/activities'] as const;

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
} as const;

export interface ConsoleOptions {
  /** The built console (default: dist/console next to the compiled server). */
  dir?: string | undefined;
}

export function registerConsole(app: FastifyInstance, opts: ConsoleOptions = {}): void {
  const dir = opts.dir ?? DEFAULT_CONSOLE_DIR;
  const assetsDir = join(dir, 'assets');
  let index: Buffer | undefined;

  const sendIndex = async (reply: FastifyReply): Promise<void> => {
    try {
      index ??= await readFile(join(dir, 'index.html'));
    } catch {
      await reply
        .code(404)
        .header('content-type', 'text/plain; charset=utf-8')
        .send('The web console is not built. Run `npm run build` (scripts/build-console.mjs).\n');
      return;
    }
    // Always revalidated: it names the current hashed assets.
    await reply
      .code(200)
      .headers(SECURITY_HEADERS)
      .header('content-type', TYPES['.html'])
      .header('cache-control', 'no-cache')
      .send(index);
  };

  app.get('/', async (_req, reply) => sendIndex(reply));
  for (const route of CONSOLE_ROUTES) {
    app.get(route, async (_req, reply) => sendIndex(reply));
    app.get(`${route}/*`, async (_req, reply) => sendIndex(reply));
  }

  app.get('/assets/*', async (req, reply) => {
    const rel = (req.params as { '*'?: string })['*'] ?? '';
    const file = normalize(join(assetsDir, rel));
    const type = TYPES[extname(file)];
    if (!file.startsWith(assetsDir + sep) || rel.includes('\0') || type === undefined) {
      return notFound(reply);
    }
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return notFound(reply);
    }
    // Names carry a content hash, so a file never changes under its name.
    await reply
      .code(200)
      .header('content-type', type)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(body);
  });
}

async function notFound(reply: FastifyReply): Promise<void> {
  await reply
    .code(404)
    .header('content-type', 'application/json')
    .send(JSON.stringify({ message: 'Not Found' }));
}
