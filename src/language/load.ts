/**
 * Loading definitions from text: JSON or YAML, with SAM-style DefinitionSubstitutions
 * (`${Name}` placeholders replaced from a map).
 */
import { DefinitionError } from './errors.js';
import type { JsonObject, JsonValue } from './json.js';
import { setOwn } from './json.js';
import { parseYaml } from './yaml.js';

export type DefinitionFormat = 'json' | 'yaml';

export interface LoadOptions {
  /** Defaults to `json` when the text starts with `{`, `yaml` otherwise. */
  format?: DefinitionFormat;
  substitutions?: Readonly<Record<string, string>>;
}

/** Guesses the format from a file name: `.yaml` / `.yml` are YAML, everything else JSON. */
export function formatFromFileName(fileName: string): DefinitionFormat | undefined {
  if (/\.ya?ml$/i.test(fileName)) return 'yaml';
  if (/\.json$/i.test(fileName)) return 'json';
  return undefined;
}

const MAX_DEPTH = 200;

/** Parses definition text (JSON or YAML) and applies substitutions. */
export function loadDefinition(text: string, options: LoadOptions = {}): JsonValue {
  const format = options.format ?? (/^\s*\{/.test(text) ? 'json' : 'yaml');
  let value: unknown;
  if (format === 'json') {
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new DefinitionError(
        `the definition is not valid JSON: ${(e as Error).message}`,
        '',
        'INVALID_JSON_DESCRIPTION',
      );
    }
  } else {
    try {
      // YAML 1.2 core schema: `Yes`/`No` stay strings; no custom tags, no aliases bombs.
      value = parseYaml(text, { schema: 'core', maxAliasCount: 100, merge: false });
    } catch (e) {
      throw new DefinitionError(
        `the definition is not valid YAML: ${(e as Error).message}`,
        '',
        'INVALID_YAML_DESCRIPTION',
      );
    }
  }
  const json = toJson(value, '', 0);
  const subs = options.substitutions;
  return subs && Object.keys(subs).length > 0 ? substitute(json, subs) : json;
}

/** Converts parsed YAML into plain JSON values, rejecting what JSON cannot hold. */
function toJson(v: unknown, pointer: string, depth: number): JsonValue {
  if (depth > MAX_DEPTH) throw new DefinitionError(`nesting deeper than ${MAX_DEPTH} levels`, pointer);
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new DefinitionError('numbers must be finite', pointer);
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => toJson(x, `${pointer}/${i}`, depth + 1));
  if (typeof v === 'object') {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      setOwn(out, k, toJson(x, `${pointer}/${k}`, depth + 1));
    }
    return out;
  }
  throw new DefinitionError(`unsupported value of type ${typeof v}`, pointer);
}

const PLACEHOLDER = /\$\{([A-Za-z0-9_.:-]+)\}/g;

/** Replaces `${Name}` in every string (keys included) whose name is in `subs`; others stay. */
export function substitute(v: JsonValue, subs: Readonly<Record<string, string>>): JsonValue {
  const text = (s: string) =>
    s.includes('${')
      ? s.replace(PLACEHOLDER, (m, name: string) =>
          Object.prototype.hasOwnProperty.call(subs, name) ? subs[name]! : m,
        )
      : s;
  if (typeof v === 'string') return text(v);
  if (Array.isArray(v)) return v.map((x) => substitute(x, subs));
  if (v !== null && typeof v === 'object') {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) setOwn(out, text(k), substitute(x, subs));
    return out;
  }
  return v;
}
