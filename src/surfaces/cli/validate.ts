/**
 * `stepwise validate <files or globs…>`: checks state machine definitions (.asl.json, .asl.yaml)
 * and the state machines inside SAM / CloudFormation templates, and prints every finding as
 * `file:line:column: SEVERITY CODE message (at /pointer)`. Exit status: 1 if any ERROR, 0
 * otherwise, 2 for bad usage (unknown option, missing file, nothing to validate).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parseArgs } from 'node:util';
import type { JsonObject, JsonValue } from '../../language/json.js';
import { getOwn, isJsonObject, setOwn } from '../../language/json.js';
import type { Position, SourceMap } from '../../language/source-map.js';
import { parseJsonWithPositions, parseWithPositions, SourceSyntaxError } from '../../language/source-map.js';
import type { Diagnostic } from '../../language/validate.js';
import { validateDefinition } from '../../language/validate.js';
import type { Output } from './common.js';
import { UsageError, firstSentence, parseSubstitutions, processOutput, readText } from './common.js';

export const VALIDATE_USAGE = `Usage:
  stepwise validate <files or globs…> [--format text|json] [--substitution Key=Value…]

Validates Amazon States Language definitions (.asl.json, .asl.yaml) and the state machines of
SAM / CloudFormation templates (AWS::Serverless::StateMachine, AWS::StepFunctions::StateMachine),
applying DefinitionSubstitutions and --substitution values first.
Exit status: 0 no errors (warnings allowed), 1 errors found, 2 bad usage.`;

/** One finding, placed in its file. */
export interface Finding extends Diagnostic {
  file: string;
  line: number;
  column: number;
  /** The template resource holding the definition, for templates. */
  resource?: string;
  hint?: string;
}

/** Runs `validate` with its arguments (after the command name); resolves to the exit status. */
export function validateCommand(argv: readonly string[], out: Output = processOutput): Promise<number> {
  try {
    return Promise.resolve(run(argv, out));
  } catch (e) {
    if (e instanceof UsageError) {
      out.stderr(`stepwise validate: ${e.message}\n`);
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
        substitution: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(`${firstSentence(e)} (see 'stepwise validate --help')`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out.stdout(`${VALIDATE_USAGE}\n`);
    return 0;
  }
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json')
    throw new UsageError(`--format must be text or json, got '${format}'`);
  if (positionals.length === 0) throw new UsageError(`no files given\n\n${VALIDATE_USAGE}`);
  const cliSubs = new Map<string, JsonValue>(Object.entries(parseSubstitutions(values.substitution ?? [])));

  const files: string[] = [];
  for (const arg of positionals) {
    const matched = expandGlob(arg);
    if (matched.length === 0) throw new UsageError(`no file matches '${arg}'`);
    for (const f of matched) if (!files.includes(f)) files.push(f);
  }

  const findings: Finding[] = [];
  let definitions = 0;
  for (const file of files) {
    const text = readText(file, 'file');
    const result = validateFile(file, text, cliSubs);
    definitions += result.definitions;
    findings.push(...result.findings);
    if (result.definitions === 0 && result.findings.length === 0)
      out.stderr(`stepwise validate: ${file}: no state machine definition found\n`);
  }
  if (definitions === 0 && findings.length === 0) throw new UsageError('nothing to validate');

  const errors = findings.filter((f) => f.severity === 'ERROR').length;
  const warnings = findings.length - errors;
  if (format === 'json') {
    out.stdout(
      `${JSON.stringify({ findings, summary: { files: files.length, definitions, errors, warnings } }, null, 2)}\n`,
    );
  } else {
    for (const f of findings) {
      out.stdout(
        `${f.file}:${f.line}:${f.column}: ${f.severity} ${f.code} ${f.message.trimEnd()} (at ${f.location || '/'})\n`,
      );
      if (f.hint) out.stdout(`  hint: ${f.hint}\n`);
    }
    const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
    out.stdout(
      `${plural(files.length, 'file')}, ${plural(definitions, 'definition')}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}\n`,
    );
  }
  return errors > 0 ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Files and templates

/** Validates one file's text: a definition or a template. Exported for tests. */
export function validateFile(
  file: string,
  text: string,
  cliSubs: ReadonlyMap<string, JsonValue> = new Map(),
): { definitions: number; findings: Finding[] } {
  const format = /\.ya?ml$/i.test(file) ? 'yaml' : /\.json$/i.test(file) ? 'json' : undefined;
  let map: SourceMap;
  try {
    map = parseWithPositions(text, format, { cloudFormationTags: true });
  } catch (e) {
    const pos = e instanceof SourceSyntaxError ? e.position : { line: 1, column: 1 };
    const yaml = format === 'yaml' || (format === undefined && !/^\s*[{[]/.test(text));
    return {
      definitions: 1,
      findings: [
        {
          file,
          ...pos,
          severity: 'ERROR',
          code: yaml ? 'INVALID_YAML_DESCRIPTION' : 'INVALID_JSON_DESCRIPTION',
          message: (e as Error).message,
          location: '',
        },
      ],
    };
  }
  const root = map.value;
  if (isJsonObject(root) && isJsonObject(getOwn(root, 'Resources') ?? null)) {
    return validateTemplate(file, root, map, cliSubs);
  }
  const def = cliSubs.size > 0 ? substitute(root, (name) => cliSubs.get(name)) : root;
  const findings = check(file, def, map, '', undefined, undefined);
  for (const d of map.duplicates) findings.push(duplicateFinding(file, d.position, d.pointer, d.key, ''));
  return { definitions: 1, findings };
}

function duplicateFinding(
  file: string,
  position: Position,
  pointer: string,
  key: string,
  prefix: string,
): Finding {
  const inner = pointer.slice(prefix.length) || '/';
  const states = /(^|\/)States$/.test(pointer);
  return {
    file,
    ...position,
    severity: 'ERROR',
    code: states ? 'DUPLICATE_STATE_NAME' : 'SCHEMA_VALIDATION_FAILED',
    message: states ? `Duplicate State name: ${key}` : `The field '${key}' is given more than once`,
    location: inner,
    hint: 'JSON parsers keep only the last of duplicate keys; rename or remove one',
  };
}

/** Validates a definition and places each finding in the file. */
function check(
  file: string,
  def: JsonValue,
  map: SourceMap,
  prefix: string,
  type: 'STANDARD' | 'EXPRESS' | undefined,
  resource: string | undefined,
  locate?: (pointer: string) => Position,
): Finding[] {
  const diagnostics = validateDefinition(def, type ? { type } : {});
  const at = locate ?? ((p: string) => map.locate(prefix + (p === '/' ? '' : p)));
  const findings = diagnostics.map((d): Finding => {
    const f: Finding = { file, ...at(d.location), ...d };
    if (resource !== undefined) f.resource = resource;
    const h = hint(d);
    if (h !== undefined) f.hint = h;
    return f;
  });
  for (const u of unresolved(def)) {
    findings.push({
      file,
      ...at(u.pointer),
      severity: 'WARNING',
      code: 'UNRESOLVED_SUBSTITUTION',
      message: `The placeholder \${${u.name}} has no value`,
      location: u.pointer,
      hint: `pass --substitution ${u.name}=<value> or add it to DefinitionSubstitutions`,
      ...(resource !== undefined ? { resource } : {}),
    });
  }
  return findings;
}

const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '123456789012',
  'AWS::StackName': 'stack',
  'AWS::StackId': 'arn:aws:cloudformation:us-east-1:123456789012:stack/stack/id',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::NoValue': '',
};

/** Plausible deploy-time values for `Ref` / `Fn::GetAtt` of template resources and parameters. */
class TemplateValues {
  constructor(readonly template: JsonObject) {}

  resourceType(name: string): string | undefined {
    const res = getOwn(this.template, 'Resources');
    const r = isJsonObject(res ?? null) ? getOwn(res as JsonObject, name) : undefined;
    const t = isJsonObject(r ?? null) ? getOwn(r as JsonObject, 'Type') : undefined;
    return typeof t === 'string' ? t : undefined;
  }

  ref(name: string): JsonValue {
    if (Object.prototype.hasOwnProperty.call(PSEUDO, name)) return PSEUDO[name]!;
    const params = getOwn(this.template, 'Parameters');
    const p = isJsonObject(params ?? null) ? getOwn(params as JsonObject, name) : undefined;
    if (isJsonObject(p ?? null)) {
      const d = getOwn(p as JsonObject, 'Default');
      return d === undefined || d === null ? name : d;
    }
    const type = this.resourceType(name) ?? '';
    if (/::(StateMachine|Activity)$|::SNS::Topic$/.test(type)) return this.arn(name, type);
    if (type === 'AWS::SQS::Queue') return `https://sqs.us-east-1.amazonaws.com/123456789012/${name}`;
    return name;
  }

  arn(name: string, type = this.resourceType(name) ?? ''): string {
    if (/Function$/.test(type)) return `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
    if (/StateMachine$/.test(type)) return `arn:aws:states:us-east-1:123456789012:stateMachine:${name}`;
    if (/Activity$/.test(type)) return `arn:aws:states:us-east-1:123456789012:activity:${name}`;
    if (type === 'AWS::SNS::Topic') return `arn:aws:sns:us-east-1:123456789012:${name}`;
    if (type === 'AWS::SQS::Queue') return `arn:aws:sqs:us-east-1:123456789012:${name}`;
    if (/Table$/.test(type)) return `arn:aws:dynamodb:us-east-1:123456789012:table/${name}`;
    if (type === 'AWS::S3::Bucket') return `arn:aws:s3:::${name}`;
    if (type === 'AWS::Events::EventBus') return `arn:aws:events:us-east-1:123456789012:event-bus/${name}`;
    return `arn:aws:${type.split('::')[1]?.toLowerCase() ?? 'resource'}:us-east-1:123456789012:${name}`;
  }

  getAtt(name: string, attr: string): string {
    return attr === 'Arn' || attr.endsWith('Arn') ? this.arn(name) : `${name}.${attr}`;
  }

  /** `${Name}` inside Fn::Sub: pseudo parameters, resources, `Res.Attr`; undefined if unknown. */
  subVariable(name: string): JsonValue | undefined {
    if (Object.prototype.hasOwnProperty.call(PSEUDO, name)) return PSEUDO[name]!;
    const dot = name.indexOf('.');
    if (dot > 0 && this.resourceType(name.slice(0, dot)) !== undefined)
      return this.getAtt(name.slice(0, dot), name.slice(dot + 1));
    const params = getOwn(this.template, 'Parameters');
    if (
      this.resourceType(name) !== undefined ||
      (isJsonObject(params ?? null) && getOwn(params as JsonObject, name))
    )
      return this.ref(name);
    return undefined;
  }

  /** Evaluates CloudFormation intrinsics into plain values (plausibly, for validation only). */
  resolve(v: JsonValue, depth = 0): JsonValue {
    if (depth > 200) return v;
    if (Array.isArray(v)) return v.map((x) => this.resolve(x, depth + 1));
    if (!isJsonObject(v)) return v;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const k = keys[0]!;
      const arg = v[k]!;
      if (k === 'Ref' && typeof arg === 'string') return this.ref(arg);
      if (k === 'Fn::GetAtt') {
        const [res, attr] = typeof arg === 'string' ? arg.split(/\.(.*)/s) : Array.isArray(arg) ? arg : [];
        if (typeof res === 'string' && typeof attr === 'string') return this.getAtt(res, attr);
      }
      if (k === 'Fn::Sub') return this.sub(arg);
      if (k === 'Fn::Join' && Array.isArray(arg) && typeof arg[0] === 'string' && Array.isArray(arg[1]))
        return arg[1].map((x) => String(this.resolve(x, depth + 1) as string)).join(arg[0]);
      if (k.startsWith('Fn::')) return `${k}-value`;
    }
    const out: JsonObject = {};
    for (const k of keys) setOwn(out, k, this.resolve(v[k]!, depth + 1));
    return out;
  }

  sub(arg: JsonValue): JsonValue {
    const [text, vars] =
      typeof arg === 'string' ? [arg, undefined] : Array.isArray(arg) ? [arg[0], arg[1]] : [];
    if (typeof text !== 'string') return 'Fn::Sub-value';
    const local = isJsonObject(vars ?? null) ? (vars as JsonObject) : undefined;
    return text.replace(/\$\{(!?)([^}]+)\}/g, (m, bang: string, name: string) => {
      if (bang) return `\${${name}}`;
      const lv = local ? getOwn(local, name) : undefined;
      const value = lv !== undefined ? this.resolve(lv) : this.subVariable(name);
      return value === undefined ? m : typeof value === 'string' ? value : JSON.stringify(value);
    });
  }
}

function validateTemplate(
  file: string,
  template: JsonObject,
  map: SourceMap,
  cliSubs: ReadonlyMap<string, JsonValue>,
): { definitions: number; findings: Finding[] } {
  const values = new TemplateValues(template);
  const resources = getOwn(template, 'Resources') as JsonObject;
  const findings: Finding[] = [];
  let definitions = 0;
  for (const name of Object.keys(resources)) {
    const res = resources[name]!;
    if (!isJsonObject(res)) continue;
    const type = getOwn(res, 'Type');
    if (type !== 'AWS::Serverless::StateMachine' && type !== 'AWS::StepFunctions::StateMachine') continue;
    const props = getOwn(res, 'Properties');
    if (!isJsonObject(props ?? null)) continue;
    const p = props as JsonObject;
    const base = `/Resources/${esc(name)}/Properties`;
    const smType = getOwn(p, type === 'AWS::Serverless::StateMachine' ? 'Type' : 'StateMachineType');
    const kind = smType === 'EXPRESS' || smType === 'STANDARD' ? smType : undefined;

    const subs = new Map<string, JsonValue>();
    const ds = getOwn(p, 'DefinitionSubstitutions');
    if (isJsonObject(ds ?? null))
      for (const [k, v] of Object.entries(ds as JsonObject)) subs.set(k, values.resolve(v));
    for (const [k, v] of cliSubs) subs.set(k, v);
    const lookup = (n: string) => subs.get(n);

    const definition = getOwn(p, 'Definition');
    const definitionString = getOwn(p, 'DefinitionString');
    if (definition !== undefined) {
      definitions++;
      const def = substitute(values.resolve(definition), lookup);
      findings.push(...check(file, def, map, `${base}/Definition`, kind, name));
    } else if (definitionString !== undefined) {
      definitions++;
      findings.push(
        ...checkDefinitionString(
          file,
          name,
          definitionString,
          `${base}/DefinitionString`,
          map,
          values,
          lookup,
          kind,
        ),
      );
    }
    // DefinitionUri (a file or S3 object) is not inline: validate that file on its own.
  }
  return { definitions, findings };
}

function checkDefinitionString(
  file: string,
  resource: string,
  raw: JsonValue,
  pointer: string,
  map: SourceMap,
  values: TemplateValues,
  lookup: (name: string) => JsonValue | undefined,
  kind: 'STANDARD' | 'EXPRESS' | undefined,
): Finding[] {
  // The text sits either right there or inside Fn::Sub (a string or [string, variables]). It is
  // parsed before Fn::Sub applies, so positions stay those of the file.
  let textPointer = pointer;
  let text: JsonValue = raw;
  let applySub = (v: JsonValue): JsonValue => v;
  if (isJsonObject(raw) && getOwn(raw, 'Fn::Sub') !== undefined) {
    const arg = getOwn(raw, 'Fn::Sub')!;
    textPointer = `${pointer}/Fn::Sub${Array.isArray(arg) ? '/0' : ''}`;
    text = Array.isArray(arg) ? (arg[0] ?? null) : arg;
    const vars = Array.isArray(arg) ? arg[1] : undefined;
    applySub = (v) => mapStrings(v, (s) => values.sub(vars === undefined ? s : [s, vars]) as string);
  } else if (typeof raw !== 'string') {
    text = values.resolve(raw);
  }
  const stringAt = map.locate(textPointer);
  if (typeof text !== 'string') {
    return [
      {
        file,
        ...stringAt,
        resource,
        severity: 'ERROR',
        code: 'SCHEMA_VALIDATION_FAILED',
        message: 'DefinitionString must be a string',
        location: '',
      },
    ];
  }
  const block = map.blockString(textPointer);
  let inner: SourceMap;
  try {
    inner = parseJsonWithPositions(text);
  } catch (e) {
    const pos = e instanceof SourceSyntaxError && block ? shift(e.position, block) : stringAt;
    return [
      {
        file,
        ...pos,
        resource,
        severity: 'ERROR',
        code: 'INVALID_JSON_DESCRIPTION',
        message: (e as Error).message,
        location: '',
      },
    ];
  }
  const def = substitute(applySub(inner.value), lookup);
  // Inside a `|` block, positions in the string map line for line onto the file.
  const locate = (p: string) => (block ? shift(inner.locate(p), block) : stringAt);
  return check(file, def, map, pointer, kind, resource, locate);
}

function shift(pos: Position, block: { firstLine: number; indent: number }): Position {
  return { line: block.firstLine + pos.line - 1, column: block.indent + pos.column };
}

function mapStrings(v: JsonValue, f: (s: string) => string): JsonValue {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (isJsonObject(v)) {
    const out: JsonObject = {};
    for (const k of Object.keys(v)) setOwn(out, k, mapStrings(v[k]!, f));
    return out;
  }
  return v;
}

const PLACEHOLDER = /\$\{([A-Za-z0-9_.:-]+)\}/g;

/**
 * Replaces `${Name}` placeholders as Step Functions applies DefinitionSubstitutions; a string that
 * is just one placeholder takes the value's JSON type (numbers and booleans stay typed).
 */
function substitute(v: JsonValue, lookup: (name: string) => JsonValue | undefined): JsonValue {
  if (typeof v === 'string') {
    if (!v.includes('${')) return v;
    const whole = /^\$\{([A-Za-z0-9_.:-]+)\}$/.exec(v);
    if (whole) {
      const x = lookup(whole[1]!);
      if (typeof x === 'number' || typeof x === 'boolean') return x;
    }
    return v.replace(PLACEHOLDER, (m, name: string) => {
      const x = lookup(name);
      return x === undefined ? m : typeof x === 'string' ? x : JSON.stringify(x);
    });
  }
  if (Array.isArray(v)) return v.map((x) => substitute(x, lookup));
  if (isJsonObject(v)) {
    const out: JsonObject = {};
    for (const k of Object.keys(v)) setOwn(out, k, substitute(v[k]!, lookup));
    return out;
  }
  return v;
}

/** Placeholders left after substitution, in Resource fields only (elsewhere `${…}` may be text). */
function unresolved(v: JsonValue, pointer = '', depth = 0): { name: string; pointer: string }[] {
  if (depth > 200) return [];
  const out: { name: string; pointer: string }[] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...unresolved(x, `${pointer}/${i}`, depth + 1)));
  else if (isJsonObject(v)) {
    for (const k of Object.keys(v)) {
      const x = v[k]!;
      const p = `${pointer}/${esc(k)}`;
      if (k === 'Resource' && typeof x === 'string')
        for (const m of x.matchAll(PLACEHOLDER)) out.push({ name: m[1]!, pointer: p });
      else out.push(...unresolved(x, p, depth + 1));
    }
  }
  return out;
}

function esc(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

// ---------------------------------------------------------------------------------------------
// Hints

const JSONPATH_ONLY: Readonly<Record<string, string>> = {
  Parameters: "use 'Arguments'",
  ResultSelector: "use 'Output' (or 'Assign')",
  ResultPath: "use 'Output' (or 'Assign')",
  InputPath: "read from $states.input in 'Arguments' or 'Output'",
  OutputPath: "use 'Output'",
  ItemsPath: "use 'Items'",
  Iterator: "use 'ItemProcessor'",
};
const JSONATA_ONLY = new Set(['Arguments', 'Output', 'Items', 'Condition']);

function hint(d: Diagnostic): string | undefined {
  const m = d.message;
  const field = /^The field '([^']+)' is not supported/.exec(m)?.[1];
  if (field !== undefined) {
    if (field in JSONPATH_ONLY)
      return `'${field}' is a JSONPath field; in a JSONata state ${JSONPATH_ONLY[field]}`;
    if (JSONATA_ONLY.has(field))
      return `'${field}' is a JSONata field: set "QueryLanguage": "JSONata" on the state or the machine`;
    if (field.endsWith('Path')) return `'${field}' exists only in JSONPath states`;
    return 'check the spelling and the state type: field names are case-sensitive';
  }
  if (/^Missing '.*' target/.test(m))
    return 'no state of that name in this (sub-)machine; names are case-sensitive';
  if (/is not reachable/.test(m))
    return 'remove the state or transition to it (Next, Default, Choices, Catch)';
  if (d.code === 'MISSING_END_STATE') return 'add "End": true to a state, or a Succeed or Fail state';
  if (d.code === 'DUPLICATE_STATE_NAME')
    return 'state names must be unique in the whole definition, Parallel branches and Map processors included';
  if (/is not recognized/.test(m))
    return m.includes('${')
      ? 'the ARN has an unresolved ${…} placeholder: pass --substitution Key=Value'
      : 'expected arn:<partition>:lambda:<region>:<account>:function:<name>, an activity ARN, or arn:<partition>:states:::<service>:<action>';
  if (/^Express state machine/.test(m))
    return 'use a STANDARD state machine, or the request-response form of the integration';
  if (/RFC3339/.test(m)) return 'e.g. 2026-03-14T01:59:00Z (date, T, time and a zone)';
  if (/must be a valid JSONPath or a valid intrinsic/.test(m))
    return "check the path ($…, $$… or $variable) or the intrinsic's name, arguments and quoting (single quotes, \\' to escape)";
  if (/must be a valid (JSONPath|ReferencePath)/.test(m))
    return 'paths start with $ (input), $$ (context) or $name (variable)';
  if (/States\.ALL/.test(m)) return "put 'States.ALL' alone, in the last retrier or catcher";
  if (/can not be 'JSONPath'/.test(m))
    return "leave 'QueryLanguage' unset at the top level to mix JSONPath and JSONata states";
  if (/'Next' and 'End'/.test(m)) return 'keep one: Next to continue, End: true to finish';
  if (/required: \[Next\]/.test(m)) return 'add "Next": "<state>" or "End": true';
  if (d.code === 'INVALID_JSONATA_EXPRESSION')
    return 'the text between {% and %} must be a JSONata expression';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Globs (Node 20 has no fs.glob): `*`, `?` and `**` in path segments.

function expandGlob(pattern: string): string[] {
  if (!/[*?[]/.test(pattern)) {
    try {
      statSync(pattern);
      return [pattern];
    } catch {
      throw new UsageError(`cannot read ${pattern}: no such file`);
    }
  }
  const parts = pattern.split(/[\\/]/);
  const absolute = pattern.startsWith('/');
  let base = absolute ? '/' : '.';
  let i = absolute ? 1 : 0;
  while (i < parts.length - 1 && !/[*?[]/.test(parts[i]!)) base = join(base, parts[i++]!);
  const out: string[] = [];
  walk(base, parts.slice(i), out);
  return out
    .map((f) => (absolute ? f : relative('.', f) || f))
    .map((f) => f.split(sep).join('/'))
    .sort();
}

function segmentRegex(seg: string): RegExp {
  const body = seg
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

function walk(dir: string, segs: string[], out: string[]): void {
  const [seg, ...rest] = segs;
  if (seg === undefined) return;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  if (seg === '**') {
    walk(dir, rest, out);
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
        walk(join(dir, e.name), segs, out);
    }
    return;
  }
  const re = segmentRegex(seg);
  for (const e of entries) {
    if (!re.test(e.name) || (e.name.startsWith('.') && !seg.startsWith('.'))) continue;
    const path = join(dir, e.name);
    if (rest.length === 0) {
      if (e.isFile() && !out.includes(path)) out.push(path);
    } else if (e.isDirectory()) walk(path, rest, out);
  }
}
