/**
 * The `stepwise` command line: runs a state machine definition once with the in-process runtime
 * and prints the result as one JSON object. Exit codes: 0 SUCCEEDED, 1 any other end, 2 a problem
 * with the command itself (usage, unreadable files, invalid JSON input or definition).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import type { JsonValue } from '../../language/json.js';
import { formatFromFileName } from '../../language/load.js';
import {
  DefinitionError,
  loadFunctionsModule,
  StateMachine,
  type FunctionProvider,
  type RunResult,
} from '../library/index.js';
import {
  INTEGRATION_OPTIONS,
  integrationUsage,
  loadIntegrations,
  UsageError,
  firstLine,
  parseSubstitutions,
  readText,
} from './common.js';
import { graphCommand } from './graph.js';
import { serveCommand } from './serve.js';
import { validateCommand } from './validate.js';

export const USAGE = `Usage:
  stepwise serve [options]              serve the AWS Step Functions API (see serve --help)
  stepwise run <definition> [options]   run a state machine once and print the result as JSON
  stepwise validate <files…> [options]  check definitions (see validate --help)
  stepwise graph <definition> [options] draw a state machine as SVG, Mermaid or DOT (see graph --help)
  stepwise help                         show this help
  stepwise --version                    print the version

Options of run:
  --input <json>              execution input as JSON text (default {})
  --input-file <path>         read the execution input from a file
  --functions <module>        ES module of Lambda handlers (default export: name -> async handler)
  --history                   include the execution history events
  --wait-scale <factor>       1 real time (default), 0 skip waits, 0.01 100x faster
  --substitution Key=Value    replace \${Key} in the definition (repeatable)
${integrationUsage(30, false)}

The definition is JSON (.asl.json, .json) or YAML (.asl.yaml, .yaml, .yml).
Exit status: 0 SUCCEEDED, 1 the execution did not succeed, 2 bad usage or invalid input.`;

const RUN_OPTIONS = {
  input: { type: 'string' },
  'input-file': { type: 'string' },
  functions: { type: 'string' },
  history: { type: 'boolean' },
  'wait-scale': { type: 'string' },
  substitution: { type: 'string', multiple: true },
  ...INTEGRATION_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

/** Runs the CLI with `argv` (without node and script); resolves to the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const [command, ...rest] = argv;
    switch (command) {
      case 'run':
        return await run(rest);
      case 'validate':
        return await validateCommand(rest);
      case 'graph':
        return await graphCommand(rest);
      case undefined:
        process.stderr.write(`${USAGE}\n`);
        return 2;
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        return 0;
      case '--version':
      case '-v':
        process.stdout.write(`${version()}\n`);
        return 0;
      case 'serve':
        return await serveCommand(rest);
      default:
        throw new UsageError(`unknown command '${command}'\n\n${USAGE}`);
    }
  } catch (e) {
    // Messages only, never stack traces: every failure here is about the user's input.
    process.stderr.write(`stepwise: ${describe(e)}\n`);
    return e instanceof UsageError || e instanceof DefinitionError ? 2 : 1;
  }
}

async function run(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`'run' takes one definition file (see 'stepwise help')`);
  const file = positionals[0]!;
  if (values.input !== undefined && values['input-file'] !== undefined) {
    throw new UsageError(`use either --input or --input-file, not both`);
  }
  const input =
    values['input-file'] !== undefined
      ? parseInput(readText(values['input-file'], 'input file'), `input file ${values['input-file']}`)
      : parseInput(values.input ?? '{}', '--input');
  const waitScale = values['wait-scale'] === undefined ? undefined : parseWaitScale(values['wait-scale']);

  const machine = load(file, parseSubstitutions(values.substitution ?? []));
  const functions = values.functions === undefined ? undefined : await loadFunctions(values.functions);
  const { http, aws } = await loadIntegrations(
    { httpConfig: values['http-config'], aws: values.aws === true, awsConfig: values['aws-config'] },
    process.env,
  );

  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  let result: RunResult;
  try {
    result = await machine.run({
      input,
      inputIsText: true,
      history: values.history === true,
      signal: ac.signal,
      ...(functions ? { functions } : {}),
      ...(http ? { http } : {}),
      ...(aws ? { aws } : {}),
      ...(waitScale !== undefined ? { waitScale } : {}),
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
  process.stdout.write(`${JSON.stringify(present(result), null, 2)}\n`);
  return result.status === 'SUCCEEDED' ? 0 : 1;
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: RUN_OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    // Node's unknown-option text goes on about positionals; its first sentence says it all.
    const unknown = (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION';
    const message = unknown ? describe(e).replace(/\.\s.*$/, '.') : describe(e);
    throw new UsageError(`${message} (see 'stepwise help')`);
  }
}

/** Checks input text here for a clearer message; the run gets the text, as StartExecution does. */
function parseInput(text: string, where: string): string {
  try {
    JSON.parse(text);
    return text;
  } catch (e) {
    throw new UsageError(`invalid JSON in ${where}: ${describe(e)}`);
  }
}

function parseWaitScale(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`--wait-scale must be a number >= 0, got '${text}'`);
  }
  return n;
}

function load(file: string, subs: Record<string, string>): StateMachine {
  const text = readText(file, 'definition');
  const format = formatFromFileName(file);
  try {
    return StateMachine.fromDefinition(text, {
      substitutions: subs,
      name: machineName(file),
      ...(format ? { format } : {}),
    });
  } catch (e) {
    if (e instanceof DefinitionError) {
      // The message starts with the AWS code (e.g. SCHEMA_VALIDATION_FAILED: …); drop it for people.
      throw new UsageError(`invalid definition: ${describe(e).replace(`${e.code}: `, '')}`);
    }
    throw e;
  }
}

/** `approval.asl.json` → `approval`, kept to the characters AWS allows in a name. */
function machineName(file: string): string {
  const stem = basename(file).replace(/(\.asl)?\.(json|ya?ml)$/i, '');
  return stem.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80) || 'StateMachine';
}

async function loadFunctions(path: string): Promise<FunctionProvider> {
  try {
    return await loadFunctionsModule(path);
  } catch (e) {
    throw new UsageError(`cannot load functions module ${path}: ${describe(e)}`);
  }
}

/** The printed result: output as a JSON value, absent fields left out. */
function present(r: RunResult): Record<string, unknown> {
  const out: Record<string, unknown> = { status: r.status };
  if (r.output !== undefined) out.output = JSON.parse(r.output) as JsonValue;
  if (r.error !== undefined) out.error = r.error;
  if (r.cause !== undefined) out.cause = r.cause;
  out.executionArn = r.executionArn;
  out.stateMachineArn = r.stateMachineArn;
  // Dates serialise as ISO strings, as the AWS CLI prints them.
  if (r.events !== undefined) out.events = r.events;
  return out;
}

/** The first line of an error's message (YAML errors append a code frame). */
function describe(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return e instanceof UsageError ? message : firstLine(message);
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
