/**
 * Test support: a minimal stand-in for an `@aws-sdk/client-<service>` module of a service that
 * speaks AWS JSON 1.0/1.1, for services whose real client package is not installed in this
 * repository (Glue, Athena). It has the shape pass-through relies on — a `<Name>Client` with
 * `send(command, {abortSignal})` and `destroy()`, `<Action>Command` classes with a middleware
 * stack, errors carrying `$metadata.httpStatusCode` and modelled error classes — and sends real
 * HTTP requests (`X-Amz-Target`, unsigned) to the configured endpoint, so the stand-in server's
 * protocol code is exercised. Timestamps the service sends as epoch seconds become `Date`s, as in
 * the SDK.
 */
export interface JsonClientSpec {
  /** `Glue` → `GlueClient`, `GlueServiceException`. */
  name: string;
  /** `AWSGlue` in `X-Amz-Target: AWSGlue.StartJobRun`. */
  targetPrefix: string;
  version: '1.0' | '1.1';
  /** PascalCase operation names. */
  operations: readonly string[];
  /** Modelled error names (classes exported under these names). */
  errors: readonly string[];
  /** Members holding timestamps (anywhere in an answer). */
  dateFields: readonly string[];
}

class ServiceException extends Error {
  $metadata: { httpStatusCode: number; requestId: string | undefined };
  constructor(name: string, message: string, status: number, requestId: string | undefined) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status, requestId };
  }
}

export function jsonClientModule(spec: JsonClientSpec): Record<string, unknown> {
  const mod: Record<string, unknown> = {};
  const errorClasses = new Map<string, typeof ServiceException>();
  const Base = class extends ServiceException {};
  mod[`${spec.name}ServiceException`] = Base;
  for (const e of spec.errors) {
    const C = class extends Base {};
    errorClasses.set(e, C);
    mod[e] = C;
  }
  const dates = new Set(spec.dateFields);
  const revive = (x: unknown, key?: string): unknown => {
    if (key !== undefined && dates.has(key) && typeof x === 'number') return new Date(x * 1000);
    if (Array.isArray(x)) return x.map((v) => revive(v));
    if (typeof x === 'object' && x !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(x)) out[k] = revive(v, k);
      return out;
    }
    return x;
  };
  for (const op of spec.operations) {
    mod[`${op}Command`] = class {
      readonly operation = op;
      readonly middlewareStack = { add: () => undefined };
      constructor(readonly input: unknown) {}
    };
  }
  mod[`${spec.name}Client`] = class {
    constructor(private readonly config: { endpoint?: string; region?: string }) {}
    async send(
      command: { operation: string; input: unknown },
      options: { abortSignal?: AbortSignal } = {},
    ): Promise<Record<string, unknown>> {
      if (this.config.endpoint === undefined) throw new Error('this test client needs an endpoint');
      const init: RequestInit = {
        method: 'POST',
        headers: {
          'Content-Type': `application/x-amz-json-${spec.version}`,
          'X-Amz-Target': `${spec.targetPrefix}.${command.operation}`,
        },
        body: JSON.stringify(command.input ?? {}),
      };
      if (options.abortSignal !== undefined) init.signal = options.abortSignal;
      const res = await fetch(this.config.endpoint, init);
      const requestId = res.headers.get('x-amzn-requestid') ?? undefined;
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status >= 300) {
        const code = (typeof body.__type === 'string' ? body.__type : 'UnknownError')
          .replace(/^.*#/, '')
          .replace(/:.*$/, '');
        const m = body.message ?? body.Message;
        const msg = typeof m === 'string' ? m : '';
        const C = errorClasses.get(code) ?? Base;
        throw new C(code, msg, res.status, requestId);
      }
      return {
        ...(revive(body) as Record<string, unknown>),
        $metadata: { httpStatusCode: res.status, requestId },
      };
    }
    destroy(): void {}
  };
  return mod;
}

/** AWS Glue's job-run operations. */
export const glueClientModule = (): Record<string, unknown> =>
  jsonClientModule({
    name: 'Glue',
    targetPrefix: 'AWSGlue',
    version: '1.1',
    operations: ['StartJobRun', 'GetJobRun', 'BatchStopJobRun'],
    errors: ['EntityNotFoundException', 'InvalidInputException', 'ConcurrentRunsExceededException'],
    dateFields: ['StartedOn', 'CompletedOn', 'LastModifiedOn'],
  });

/** Amazon Athena's query-execution operations. */
export const athenaClientModule = (): Record<string, unknown> =>
  jsonClientModule({
    name: 'Athena',
    targetPrefix: 'AmazonAthena',
    version: '1.1',
    operations: ['StartQueryExecution', 'GetQueryExecution', 'StopQueryExecution'],
    errors: ['InvalidRequestException', 'InternalServerException'],
    dateFields: ['SubmissionDateTime', 'CompletionDateTime'],
  });
