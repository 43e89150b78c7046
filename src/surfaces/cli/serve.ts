/**
 * `stepwise serve`: the durable engine behind the AWS-compatible API, for the AWS CLI and SDKs
 * (`--endpoint-url http://127.0.0.1:8083`). Options come from flags or STEPWISE_* variables;
 * SIGTERM/SIGINT stop it cleanly (exit 0).
 */
import { parseArgs } from 'node:util';
import { Engine } from '../../runtime/engine.js';
import { fileLogSink, streamLogSink, type ExecutionLogSink } from '../../runtime/execution-log.js';
import { openPostgresStore } from '../../runtime/store/postgres.js';
import { loadFunctionConfig } from '../../runtime/integrations/function-config.js';
import type { AwsPassThroughOptions } from '../../runtime/integrations/aws.js';
import type { HttpTaskOptions } from '../../runtime/integrations/http.js';
import { loadMockConfig, type MockResponder } from '../../runtime/integrations/mocks.js';
import { loadFunctionsModule, type FunctionProvider } from '../../runtime/functions.js';
import { startServer } from '../server/server.js';
import type { Credentials } from '../server/sigv4.js';
import { describeAws, envSwitch, INTEGRATION_OPTIONS, integrationUsage, loadIntegrations } from './common.js';

export const SERVE_USAGE = `Usage:
  stepwise serve [options]        run the AWS-compatible Step Functions API

Options (each also read from the environment variable shown):
  --port <n>              port, 0 for any free one (STEPWISE_PORT, default 8083)
  --host <addr>           address to bind (STEPWISE_HOST, default 127.0.0.1)
  --data <dir>            data directory of the SQLite store (STEPWISE_DATA_DIR, default .stepwise)
  --functions <module>    ES module of Lambda handlers (STEPWISE_FUNCTIONS)
  --region <region>       region in ARNs (STEPWISE_REGION, default us-east-1)
  --account <id>          12-digit account id in ARNs (STEPWISE_ACCOUNT, default 123456789012)
  --wait-scale <factor>   1 real time (default), 0 skip waits, 0.01 100x faster (STEPWISE_WAIT_SCALE)
  --mock-config <file>    Step Functions Local MockConfigFile (STEPWISE_MOCK_CONFIG); start
                          executions on <stateMachineArn>#<TestCase> to use a test case
${integrationUsage(26, true)}
  --database-url <url>    PostgreSQL instead of SQLite (STEPWISE_DATABASE_URL); several
                          servers on one database share the executions
  --database-pool-size <n>  PostgreSQL connections this node keeps at most, besides its one
                          listening connection (STEPWISE_DATABASE_POOL_SIZE, default 20):
                          nodes x (n + 1) must stay under the server's max_connections
  --node-id <id>          this node's id with PostgreSQL (STEPWISE_NODE_ID, default random)
  --execution-logs <to>   where the log records of machines with a loggingConfiguration go:
                          a directory (one JSON-lines file per log group), 'stdout' or 'off'
                          (STEPWISE_EXECUTION_LOGS, default <data>/logs)
  --allow-remote          allow a non-loopback --host without credentials

Credentials: STEPWISE_ACCESS_KEY_ID and STEPWISE_SECRET_ACCESS_KEY turn on SigV4 verification;
without them any signature is accepted, so only loopback addresses are allowed by default.`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  data: { type: 'string' },
  functions: { type: 'string' },
  region: { type: 'string' },
  account: { type: 'string' },
  'wait-scale': { type: 'string' },
  'database-url': { type: 'string' },
  'database-pool-size': { type: 'string' },
  'mock-config': { type: 'string' },
  ...INTEGRATION_OPTIONS,
  'node-id': { type: 'string' },
  'execution-logs': { type: 'string' },
  'allow-remote': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A problem with the command line or environment: one line on stderr, exit status 2. */
class ServeUsageError extends Error {}

export interface ServeConfig {
  host: string;
  port: number;
  dataDir: string;
  functions?: string | undefined;
  region: string;
  account: string;
  waitScale?: number | undefined;
  databaseUrl?: string | undefined;
  /** PostgreSQL pool size (default 20). */
  databasePoolSize: number;
  nodeId?: string | undefined;
  mockConfig?: string | undefined;
  httpConfig?: string | undefined;
  /** Pass-through to AWS: on (`--aws`), and the configuration file if any. */
  aws: boolean;
  awsConfig?: string | undefined;
  /** A directory, `stdout` or `off`; default `<dataDir>/logs`. */
  executionLogs?: string | undefined;
  credentials?: Credentials | undefined;
  allowRemote: boolean;
}

export async function serveCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let config: ServeConfig;
  try {
    const values = parse(argv);
    if (values.help) {
      process.stdout.write(`${SERVE_USAGE}\n`);
      return 0;
    }
    config = resolveConfig(values, env);
  } catch (e) {
    process.stderr.write(`stepwise serve: ${message(e)}\n`);
    return 2;
  }

  if (!config.credentials && !config.allowRemote && !isLoopback(config.host)) {
    process.stderr.write(
      `stepwise serve: refusing to listen on ${config.host} without credentials: anyone who can reach it could ` +
        `run workflows. Set STEPWISE_ACCESS_KEY_ID and STEPWISE_SECRET_ACCESS_KEY, or pass --allow-remote.\n`,
    );
    return 2;
  }

  let functions: FunctionProvider | undefined;
  let mocks: MockResponder | undefined;
  let http: HttpTaskOptions | undefined;
  let aws: AwsPassThroughOptions | undefined;
  try {
    if (config.mockConfig !== undefined) mocks = await loadMockConfig(config.mockConfig);
    ({ http, aws } = await loadIntegrations(config, env));
  } catch (e) {
    process.stderr.write(`stepwise serve: ${message(e)}\n`);
    return 2;
  }
  if (config.functions !== undefined) {
    try {
      // A JSON/YAML file configures functions (module, HTTP endpoint or command); else a module.
      functions = /\.(json|ya?ml)$/i.test(config.functions)
        ? await loadFunctionConfig(config.functions)
        : await loadFunctionsModule(config.functions);
    } catch (e) {
      process.stderr.write(
        `stepwise serve: cannot load functions module ${config.functions}: ${message(e)}\n`,
      );
      return 2;
    }
  }

  let engine: Engine;
  try {
    const store =
      config.databaseUrl !== undefined
        ? await openPostgresStore({ connectionString: config.databaseUrl, poolSize: config.databasePoolSize })
        : undefined;
    engine = await Engine.open({
      dataDir: config.dataDir,
      region: config.region,
      account: config.account,
      ...(store ? { store } : {}),
      ...(config.nodeId !== undefined ? { nodeId: config.nodeId } : {}),
      ...(functions ? { functions } : {}),
      ...(mocks ? { mocks } : {}),
      ...(http ? { http } : {}),
      ...(aws ? { aws } : {}),
      ...(config.waitScale !== undefined ? { waitScale: config.waitScale } : {}),
      ...(config.executionLogs !== undefined ? { executionLogs: logSink(config.executionLogs) } : {}),
    });
  } catch (e) {
    process.stderr.write(`stepwise serve: cannot open the store: ${message(e)}\n`);
    return 1;
  }
  let server;
  try {
    server = await startServer({
      engine,
      host: config.host,
      port: config.port,
      credentials: config.credentials,
    });
  } catch (e) {
    await engine.close();
    process.stderr.write(`stepwise serve: cannot listen on ${config.host}:${config.port}: ${message(e)}\n`);
    return 1;
  }
  if (!config.credentials) {
    process.stderr.write('stepwise serve: no credentials configured: any request signature is accepted\n');
  }
  if (aws) process.stderr.write(`stepwise serve: ${describeAws(aws, config.region)}\n`);
  process.stdout.write(`stepwise listening on ${server.url}\n`);

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await server.close();
  await engine.close();
  // Everything is closed; a stray handle (e.g. a user's function still running) must not keep
  // the process alive past a stop request.
  setTimeout(() => process.exit(0), 2000).unref();
  return 0;
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: false, strict: true }).values;
  } catch (e) {
    throw new ServeUsageError(`${message(e).replace(/\.\s.*$/, '.')} (see 'stepwise serve --help')`);
  }
}

export function resolveConfig(
  values: Partial<Record<Exclude<keyof typeof OPTIONS, 'allow-remote' | 'help' | 'aws'>, string>> & {
    'allow-remote'?: boolean | undefined;
    aws?: boolean | undefined;
  },
  env: NodeJS.ProcessEnv,
): ServeConfig {
  const pick = (flag: string | undefined, name: string): string | undefined => {
    const v = flag ?? env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const portText = pick(values.port, 'STEPWISE_PORT') ?? '8083';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new ServeUsageError(`invalid port '${portText}'`);
  const account = pick(values.account, 'STEPWISE_ACCOUNT') ?? '123456789012';
  if (!/^\d{12}$/.test(account)) throw new ServeUsageError(`the account must be 12 digits, got '${account}'`);
  const region = pick(values.region, 'STEPWISE_REGION') ?? 'us-east-1';
  if (!/^[a-z0-9-]+$/.test(region)) throw new ServeUsageError(`invalid region '${region}'`);
  const scaleText = pick(values['wait-scale'], 'STEPWISE_WAIT_SCALE');
  let waitScale: number | undefined;
  if (scaleText !== undefined) {
    waitScale = Number(scaleText);
    if (scaleText.trim() === '' || !Number.isFinite(waitScale) || waitScale < 0) {
      throw new ServeUsageError(`--wait-scale must be a number >= 0, got '${scaleText}'`);
    }
  }
  const poolText = pick(values['database-pool-size'], 'STEPWISE_DATABASE_POOL_SIZE') ?? '20';
  const databasePoolSize = Number(poolText);
  if (!/^\d+$/.test(poolText) || databasePoolSize < 1 || databasePoolSize > 1000) {
    throw new ServeUsageError(
      `--database-pool-size must be a whole number from 1 to 1000, got '${poolText}'`,
    );
  }
  const accessKeyId = pick(undefined, 'STEPWISE_ACCESS_KEY_ID');
  const secretAccessKey = pick(undefined, 'STEPWISE_SECRET_ACCESS_KEY');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ServeUsageError('set both STEPWISE_ACCESS_KEY_ID and STEPWISE_SECRET_ACCESS_KEY, or neither');
  }
  return {
    host: pick(values.host, 'STEPWISE_HOST') ?? '127.0.0.1',
    port,
    dataDir: pick(values.data, 'STEPWISE_DATA_DIR') ?? '.stepwise',
    functions: pick(values.functions, 'STEPWISE_FUNCTIONS'),
    region,
    account,
    waitScale,
    databaseUrl: pick(values['database-url'], 'STEPWISE_DATABASE_URL'),
    databasePoolSize,
    mockConfig: pick(values['mock-config'], 'STEPWISE_MOCK_CONFIG'),
    httpConfig: pick(values['http-config'], 'STEPWISE_HTTP_CONFIG'),
    aws: values.aws === true || envSwitch('STEPWISE_AWS', pick(undefined, 'STEPWISE_AWS')),
    awsConfig: pick(values['aws-config'], 'STEPWISE_AWS_CONFIG'),
    nodeId: pick(values['node-id'], 'STEPWISE_NODE_ID'),
    executionLogs: pick(values['execution-logs'], 'STEPWISE_EXECUTION_LOGS'),
    credentials:
      accessKeyId !== undefined && secretAccessKey !== undefined
        ? { accessKeyId, secretAccessKey }
        : undefined,
    allowRemote: values['allow-remote'] === true,
  };
}

function logSink(to: string): ExecutionLogSink | null {
  if (to === 'off') return null;
  if (to === 'stdout') return streamLogSink(process.stdout);
  return fileLogSink(to, (e) => process.stderr.write(`stepwise serve: execution logs: ${message(e)}\n`));
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
