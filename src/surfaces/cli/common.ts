/** What every `stepwise` command shares: usage errors, output streams, reading files, arguments. */
import { readFileSync } from 'node:fs';

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
