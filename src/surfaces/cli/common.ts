/** What every `stepwise` command shares: usage errors, output streams, reading files, arguments. */
import { readFileSync } from 'node:fs';
import {
  awsOptionsFromEnv,
  loadAwsConfig,
  type AwsPassThroughOptions,
} from '../../runtime/integrations/aws.js';
import { loadHttpConfig, type HttpTaskOptions } from '../../runtime/integrations/http.js';

/** A problem with the command line or its input: reported on one line, exit status 2. */
export class UsageError extends Error {}

export interface Output {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processOutput: Output = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/** The first line of a message (YAML errors append a code frame), without a trailing colon. */
export function firstLine(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/:?\s*$/, '');
}

/** Node's parseArgs messages go on about positionals; their first sentence says it all. */
export function firstSentence(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\.\s.*$/s, '.');
}

export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${firstLine((e as Error).message)}`);
  }
}

/** `--substitution Key=Value` pairs, as DefinitionSubstitutions. */
export function parseSubstitutions(pairs: readonly string[]): Record<string, string> {
  const subs: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--substitution must be Key=Value, got '${pair}'`);
    // defineProperty so that a key such as __proto__ stays a plain key.
    Object.defineProperty(subs, pair.slice(0, eq), { value: pair.slice(eq + 1), enumerable: true });
  }
  return subs;
}

// ---- integrations: HTTP Task settings and pass-through to AWS (`serve` and `run`) ----------------

/** The parseArgs options of the integrations, shared by `serve` and `run`. */
export const INTEGRATION_OPTIONS = {
  'http-config': { type: 'string' },
  aws: { type: 'boolean' },
  'aws-config': { type: 'string' },
} as const;

/**
 * Help lines of the integration options, descriptions from `column`; `env` names the environment
 * variable of each (as `serve` reads them).
 */
export function integrationUsage(column: number, env: boolean): string {
  const v = (name: string) => (env ? ` (${name})` : '');
  const rows: [string, string[]][] = [
    ['--http-config <file>', [`HTTP Task connections and egress allow-list${v('STEPWISE_HTTP_CONFIG')}`]],
    [
      '--aws',
      [
        'pass aws-sdk:* and optimized integrations (DynamoDB, SNS, SQS, EventBridge,',
        `Lambda, Glue, Athena) through to AWS with the AWS SDK${v('STEPWISE_AWS=1')}`,
      ],
    ],
    [
      '--aws-config <file>',
      [
        'the same, with region, profile and endpoint overrides from a JSON or YAML',
        `file${v('STEPWISE_AWS_CONFIG')}; STEPWISE_AWS_REGION, STEPWISE_AWS_PROFILE,`,
        'STEPWISE_AWS_ENDPOINT and STEPWISE_AWS_ENDPOINT_<SERVICE> apply over it',
      ],
    ],
  ];
  const lines: string[] = [];
  for (const [flag, text] of rows) {
    text.forEach((t, i) => lines.push(`${(i === 0 ? `  ${flag}` : '').padEnd(column)}${t}`));
  }
  return lines.join('\n');
}

export interface IntegrationFlags {
  httpConfig?: string | undefined;
  /** Pass-through to AWS on (`--aws`); `awsConfig` turns it on too. */
  aws: boolean;
  awsConfig?: string | undefined;
}

/**
 * Reads the files the integration flags name. Pass-through options are the configuration file's
 * with the `STEPWISE_AWS_*` environment variables applied over them. Problems are UsageErrors.
 */
export async function loadIntegrations(
  flags: IntegrationFlags,
  env: NodeJS.ProcessEnv,
): Promise<{ http?: HttpTaskOptions; aws?: AwsPassThroughOptions }> {
  const out: { http?: HttpTaskOptions; aws?: AwsPassThroughOptions } = {};
  try {
    if (flags.httpConfig !== undefined) out.http = await loadHttpConfig(flags.httpConfig);
  } catch (e) {
    throw new UsageError(
      `cannot load the HTTP configuration ${flags.httpConfig}: ${firstLine(errorText(e))}`,
    );
  }
  try {
    if (flags.aws || flags.awsConfig !== undefined) {
      const base = flags.awsConfig !== undefined ? await loadAwsConfig(flags.awsConfig) : {};
      out.aws = awsOptionsFromEnv(env, base);
    }
  } catch (e) {
    throw new UsageError(firstLine(errorText(e)));
  }
  return out;
}

/** One line about pass-through, without credentials (they stay with the AWS SDK). */
export function describeAws(aws: AwsPassThroughOptions, region: string): string {
  const parts = [`pass-through to AWS on (region ${aws.region ?? region}`];
  if (aws.profile !== undefined) parts.push(`profile ${aws.profile}`);
  if (aws.endpoint !== undefined) parts.push(`endpoint ${aws.endpoint}`);
  for (const [service, url] of Object.entries(aws.endpoints ?? {})) parts.push(`${service} at ${url}`);
  return `${parts.join(', ')})`;
}

/** `STEPWISE_AWS`-style switches: 1/true/yes/on or 0/false/no/off. */
export function envSwitch(name: string, v: string | undefined): boolean {
  if (v === undefined || v === '') return false;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new UsageError(`${name} must be 1/true or 0/false, got '${v}'`);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
