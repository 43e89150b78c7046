/**
 * `stepwise graph <definition>`: draws a state machine as SVG (default), Mermaid or Graphviz DOT,
 * optionally coloured by an execution's history. Definitions the engine would reject still draw;
 * their problems are summed up on stderr. Exit status: 0 drawn, 2 bad usage, unreadable file or
 * unparsable definition or history.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DefinitionError } from '../../language/errors.js';
import { renderDot } from '../../language/graph/dot.js';
import { buildGraph } from '../../language/graph/model.js';
import { renderMermaid } from '../../language/graph/mermaid.js';
import type { StateOutcomeInfo } from '../../language/graph/outcomes.js';
import { outcomesFromHistory } from '../../language/graph/outcomes.js';
import { renderSvg } from '../../language/graph/svg.js';
import { isJsonObject } from '../../language/json.js';
import { formatFromFileName, loadDefinition } from '../../language/load.js';
import { formatDiagnostic, validateDefinition } from '../../language/validate.js';
import type { Output } from './common.js';
import {
  UsageError,
  firstLine,
  firstSentence,
  parseSubstitutions,
  processOutput,
  readText,
} from './common.js';

export const GRAPH_USAGE = `Usage:
  stepwise graph <definition> [--format svg|mermaid|dot] [--execution-history <file>]
                 [--substitution Key=Value…] [--output <file>]

Draws the state machine (JSON or YAML) as a standalone SVG, a Mermaid flowchart or Graphviz DOT,
on stdout unless --output is given (its extension, .svg .mmd .dot, sets the default format).
--execution-history colours each state by what happened to it in an execution: a JSON file of
GetExecutionHistory events (an array, or an object with "events", as 'stepwise run --history'
prints it).
Exit status: 0 drawn (problems in the definition are reported on stderr), 2 bad usage or input.`;

type Format = 'svg' | 'mermaid' | 'dot';

/** Runs `graph` with its arguments (after the command name); resolves to the exit status. */
export function graphCommand(argv: readonly string[], out: Output = processOutput): Promise<number> {
  try {
    return Promise.resolve(run(argv, out));
  } catch (e) {
    if (e instanceof UsageError) {
      out.stderr(`stepwise graph: ${e.message}\n`);
      return Promise.resolve(2);
    }
    throw e;
  }
}

function run(argv: readonly string[], out: Output): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        format: { type: 'string' },
        'execution-history': { type: 'string' },
        substitution: { type: 'string', multiple: true },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(`${firstSentence(e)} (see 'stepwise graph --help')`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out.stdout(`${GRAPH_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(`takes one definition file (see 'stepwise graph --help')`);
  const file = positionals[0]!;
  const format = chooseFormat(values.format, values.output);

  const subs = parseSubstitutions(values.substitution ?? []);

  const text = readText(file, 'definition');
  let definition;
  try {
    const fmt = formatFromFileName(file);
    definition = loadDefinition(text, { substitutions: subs, ...(fmt ? { format: fmt } : {}) });
  } catch (e) {
    if (e instanceof DefinitionError) throw new UsageError(`${file}: ${firstLine(e.message)}`);
    throw e;
  }
  if (!isJsonObject(definition)) throw new UsageError(`${file}: the definition must be a JSON object`);

  let outcomes: Map<string, StateOutcomeInfo> | undefined;
  const historyFile = values['execution-history'];
  if (historyFile !== undefined) {
    let history: unknown;
    try {
      history = JSON.parse(readText(historyFile, 'execution history'));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`${historyFile}: not valid JSON: ${firstLine((e as Error).message)}`);
    }
    const events = Array.isArray(history)
      ? history
      : isJsonObject(history) && Array.isArray(history.events)
        ? history.events
        : undefined;
    if (events === undefined)
      throw new UsageError(`${historyFile}: expected an array of history events or an object with "events"`);
    outcomes = outcomesFromHistory(events).states;
  }

  // Draw anyway, but say that the engine would not take this definition as it is.
  const errors = validateDefinition(definition).filter((d) => d.severity === 'ERROR');
  if (errors.length > 0) {
    out.stderr(
      `stepwise graph: warning: ${file} has ${errors.length} error${errors.length === 1 ? '' : 's'} (first: ${formatDiagnostic(errors[0]!)}); see 'stepwise validate'\n`,
    );
  }

  const graph = buildGraph(definition);
  const options = outcomes ? { outcomes } : {};
  const rendered =
    format === 'svg'
      ? renderSvg(graph, options)
      : format === 'mermaid'
        ? renderMermaid(graph, options)
        : renderDot(graph, options);
  if (values.output !== undefined) {
    try {
      writeFileSync(values.output, rendered);
    } catch (e) {
      throw new UsageError(`cannot write ${values.output}: ${firstLine((e as Error).message)}`);
    }
  } else {
    out.stdout(rendered);
  }
  return 0;
}

function chooseFormat(format: string | undefined, output: string | undefined): Format {
  if (format !== undefined) {
    if (format === 'svg' || format === 'mermaid' || format === 'dot') return format;
    throw new UsageError(`--format must be svg, mermaid or dot, got '${format}'`);
  }
  if (output !== undefined) {
    if (/\.(mmd|mermaid)$/i.test(output)) return 'mermaid';
    if (/\.(dot|gv)$/i.test(output)) return 'dot';
  }
  return 'svg';
}
