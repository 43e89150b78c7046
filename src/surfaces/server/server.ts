/**
 * The AWS-compatible HTTP server: AWS JSON 1.0 over `POST /`, the operation named by
 * `X-Amz-Target`, optional SigV4 verification, and AWS's error bodies. Bad input of any kind is
 * answered with a 4xx; a 500 only ever means a bug, and is logged.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { DefinitionError, ServiceError } from '../../language/errors.js';
import type { StepFunctionsEngine } from '../../runtime/engine-api.js';
import { registerConsole } from './console.js';
import { OPERATIONS } from './operations.js';
import {
  checkShape,
  frontendError,
  fromServiceError,
  isPlainObject,
  JSON_CONTENT_TYPE,
  serviceError,
  TARGET_PREFIX,
  WireError,
  type Body,
} from './protocol.js';
import { verifySigV4, type Credentials } from './sigv4.js';

export interface ServerOptions {
  engine: StepFunctionsEngine;
  /** When set, every request must carry a valid SigV4 signature made with these credentials. */
  credentials?: Credentials | undefined;
  /** Largest request body in bytes. A 1 MiB definition can grow several-fold when JSON-escaped. */
  bodyLimit?: number | undefined;
  /** Where internal errors (500s) are reported; stderr by default. */
  logError?: ((message: string) => void) | undefined;
  /** Fastify's own request logging (off by default). */
  logger?: boolean | undefined;
}

export interface ListenOptions extends ServerOptions {
  host?: string | undefined;
  /** 0 picks a free port. */
  port?: number | undefined;
}

export interface RunningServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Stops accepting requests, ends long polls and waits (briefly) for requests in flight. */
  close(): Promise<void>;
}

export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;
/** In-flight requests get this long to finish when the server closes. */
const CLOSE_GRACE_MS = 5000;

declare module 'fastify' {
  interface FastifyInstance {
    /** Aborts every long poll in progress (used on close). */
    abortLongPolls(): void;
  }
}

export function createServer(opts: ServerOptions): FastifyInstance {
  const { engine, credentials } = opts;
  const logError = opts.logError ?? ((m: string) => process.stderr.write(`${m}\n`));
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Idle keep-alive connections would otherwise hold close() open.
    forceCloseConnections: 'idle',
  });

  // AWS JSON bodies arrive as application/x-amz-json-1.0 (or anything else): keep the raw bytes,
  // which SigV4 needs, and parse them in the handler so that errors get AWS's shape.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const polls = new Set<AbortController>();
  app.decorate('abortLongPolls', () => {
    for (const ac of polls) ac.abort();
  });

  app.get('/health', async (_req, reply) => {
    await reply.code(200).send({ status: 'ok', region: engine.region, account: engine.account });
  });

  const handle = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    reply.header('x-amzn-RequestId', randomUUID());
    const ac = new AbortController();
    // 'close' on the response before it finished means the client went away.
    const onClose = () => {
      if (!reply.raw.writableFinished) ac.abort();
    };
    reply.raw.on('close', onClose);
    polls.add(ac);
    try {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if (credentials) {
        verifySigV4(
          {
            method: request.method,
            url: request.raw.url ?? '/',
            rawHeaders: request.raw.rawHeaders,
            body: raw,
          },
          credentials,
          { region: engine.region, service: 'states' },
        );
      }
      const target = request.headers['x-amz-target'];
      const opName =
        typeof target === 'string' && target.startsWith(TARGET_PREFIX)
          ? target.slice(TARGET_PREFIX.length)
          : '';
      const op = Object.prototype.hasOwnProperty.call(OPERATIONS, opName) ? OPERATIONS[opName] : undefined;
      if (op === undefined) {
        throw frontendError(
          'UnknownOperationException',
          typeof target === 'string' ? `Unknown operation: ${target}` : 'Missing X-Amz-Target header',
        );
      }
      const body = parseBody(raw);
      checkShape(body, op.shape);
      const result = await op.run(engine, body, { signal: ac.signal });
      // A Buffer, so that Fastify does not append "; charset=utf-8" to AWS's content type.
      await reply
        .code(200)
        .header('content-type', JSON_CONTENT_TYPE)
        .send(Buffer.from(JSON.stringify(result)));
    } catch (e) {
      await sendError(reply, toWire(e, logError));
    } finally {
      polls.delete(ac);
      reply.raw.off('close', onClose);
    }
  };
  app.post('/', handle);
  // An endpoint configured with a path prefix posts to that path.
  app.post('/*', handle);
  registerConsole(app);

  app.setNotFoundHandler(async (_req, reply) => {
    await reply
      .code(404)
      .header('content-type', 'application/json')
      .send(JSON.stringify({ message: 'Not Found' }));
  });
  // Errors raised by Fastify itself: oversized bodies, bad framing.
  app.setErrorHandler(async (error: { statusCode?: number; message?: string }, _req, reply) => {
    const status = error.statusCode ?? 500;
    if (status === 413) {
      await sendError(
        reply,
        frontendError('RequestEntityTooLargeException', 'Request entity too large', 413),
      );
    } else if (status >= 400 && status < 500) {
      await sendError(reply, frontendError('SerializationException', error.message ?? 'Bad request'));
    } else {
      await sendError(reply, toWire(error, logError));
    }
  });
  return app;
}

function parseBody(raw: Buffer): Body {
  const text = raw.toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw frontendError('SerializationException', e instanceof Error ? e.message : 'Malformed JSON');
  }
  if (!isPlainObject(value)) {
    throw frontendError(
      'SerializationException',
      Array.isArray(value) ? 'Start of list found where not expected' : 'Expected a JSON object',
    );
  }
  return value;
}

function toWire(e: unknown, logError: (m: string) => void): WireError {
  if (e instanceof WireError) return e;
  if (e instanceof ServiceError) return fromServiceError(e);
  // The engine should report definitions as ServiceErrors; this keeps a stray one a 400.
  if (e instanceof DefinitionError) {
    return serviceError('InvalidDefinition', `Invalid State Machine Definition: '${e.message}'`);
  }
  logError(`stepwise: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return new WireError(
    500,
    'InternalFailure',
    'The request processing has failed because of an internal error.',
    {},
    'com.amazon.coral.service',
  );
}

async function sendError(reply: FastifyReply, e: WireError): Promise<void> {
  if (reply.sent || reply.raw.destroyed) return;
  await reply
    .code(e.status)
    .header('content-type', JSON_CONTENT_TYPE)
    .header('x-amzn-ErrorType', `${e.code}:`)
    .send(Buffer.from(JSON.stringify(e.body())));
}

/** Starts a server; resolves once it listens. */
export async function startServer(opts: ListenOptions): Promise<RunningServer> {
  const app = createServer(opts);
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ host, port: opts.port ?? 8083 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (opts.port ?? 0);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    close() {
      closing ??= (async () => {
        const done = app.close();
        app.abortLongPolls();
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            app.server.closeAllConnections();
            resolve();
          }, CLOSE_GRACE_MS);
          timer.unref();
        });
        await Promise.race([done, grace]);
        clearTimeout(timer);
        await done;
      })();
      return closing;
    },
  };
}
