/**
 * Source positions for definitions: parses JSON or YAML text into a JSON value together with a
 * map from JSON pointers to offsets, so findings can be reported as `line:column`. JSON.parse
 * keeps no positions (and silently drops duplicate keys), hence the small scanner here; YAML
 * positions come from the `yaml` package's nodes and LineCounter.
 */
import type { Alias, Document, Node, ScalarTag, CollectionTag } from 'yaml';
import { yamlModule } from './yaml.js';
import type { JsonObject, JsonValue } from './json.js';
import { setOwn } from './json.js';

/** 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

/** Where a block scalar's text starts, to map positions inside an embedded definition string. */
export interface BlockString {
  /** 1-based line of the first content line. */
  firstLine: number;
  /** Indentation (characters) of the content. */
  indent: number;
}

export interface SourceMap {
  value: JsonValue;
  /** Position of the member (its key) or element at `pointer`, or of its nearest ancestor. */
  locate(pointer: string): Position;
  /** Keys given twice in one object (JSON only: YAML refuses them), by the object's pointer. */
  duplicates: { pointer: string; key: string; position: Position }[];
  /** For a string written as a YAML literal block (`|`), where its lines start. */
  blockString(pointer: string): BlockString | undefined;
}

export class SourceSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: Position,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'SourceSyntaxError';
  }
}

const MAX_DEPTH = 1000;

function esc(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Converts offsets to positions with a table of line starts (binary search). */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  position(offset: number): Position {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo]! + 1 };
  }
}

function locator(offsets: Map<string, number>, index: LineIndex): (pointer: string) => Position {
  return (pointer) => {
    let p = pointer === '/' ? '' : pointer;
    for (;;) {
      const at = offsets.get(p);
      if (at !== undefined) return index.position(at);
      if (p === '') return { line: 1, column: 1 };
      p = p.slice(0, p.lastIndexOf('/'));
    }
  };
}

// ---------------------------------------------------------------------------------------------
// JSON

class JsonScanner {
  pos = 0;
  readonly offsets = new Map<string, number>();
  readonly duplicates: { pointer: string; key: string; position: Position }[] = [];
  constructor(
    readonly text: string,
    readonly index: LineIndex,
  ) {}

  fail(message: string, at = this.pos): never {
    throw new SourceSyntaxError(message, this.index.position(at), at);
  }

  ws(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.pos++;
      else break;
    }
  }

  value(pointer: string, depth: number): JsonValue {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    this.ws();
    if (!this.offsets.has(pointer)) this.offsets.set(pointer, this.pos);
    const c = this.text[this.pos];
    if (c === '{') return this.object(pointer, depth);
    if (c === '[') return this.array(pointer, depth);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    if (c === undefined) this.fail('unexpected end of input');
    const token = /^[A-Za-z0-9_$]+/.exec(this.text.slice(this.pos, this.pos + 100))?.[0];
    this.fail(token ? `unrecognized token '${token}'` : `unexpected character '${c}'`);
  }

  object(pointer: string, depth: number): JsonObject {
    this.pos++;
    const out: JsonObject = {};
    const seen = new Set<string>();
    this.ws();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      const keyAt = this.pos;
      if (this.text[this.pos] !== '"') this.fail('expected a double-quoted property name');
      const key = this.string();
      const child = `${pointer}/${esc(key)}`;
      if (seen.has(key)) this.duplicates.push({ pointer, key, position: this.index.position(keyAt) });
      seen.add(key);
      this.offsets.set(child, keyAt);
      this.ws();
      if (this.text[this.pos] !== ':') this.fail(`expected ':' after a property name`);
      this.pos++;
      // The key's offset stays the member's position; the value's is not needed.
      setOwn(out, key, this.value(child, depth + 1));
      this.ws();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '}') {
        this.pos++;
        return out;
      }
      this.fail(`expected ',' or '}'`);
    }
  }

  array(pointer: string, depth: number): JsonValue[] {
    this.pos++;
    const out: JsonValue[] = [];
    this.ws();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(`${pointer}/${out.length}`, depth + 1));
      this.ws();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') {
        this.pos++;
        return out;
      }
      this.fail(`expected ',' or ']'`);
    }
  }

  string(): string {
    const start = this.pos;
    const t = this.text;
    let i = start + 1;
    let simple = true;
    for (; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c === 34) break;
      if (c === 92) {
        simple = false;
        i++;
      } else if (c < 32) {
        this.fail('control character in a string', i);
      }
    }
    if (i >= t.length) this.fail('unterminated string', start);
    this.pos = i + 1;
    const raw = t.slice(start, i + 1);
    if (simple) return raw.slice(1, -1);
    try {
      return JSON.parse(raw) as string;
    } catch {
      return this.fail('invalid escape sequence in a string', start);
    }
  }

  number(): number {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (!m) this.fail('invalid number');
    this.pos += m[0].length;
    return Number(m[0]);
  }
}

/** Parses JSON text with positions. Throws SourceSyntaxError with the position of the problem. */
export function parseJsonWithPositions(text: string): SourceMap {
  const index = new LineIndex(text);
  const s = new JsonScanner(text, index);
  // A byte order mark is not JSON, but editors write one.
  if (text.charCodeAt(0) === 0xfeff) s.pos = 1;
  const value = s.value('', 0);
  s.ws();
  if (s.pos < text.length) s.fail('unexpected text after the JSON value');
  return { value, locate: locator(s.offsets, index), duplicates: s.duplicates, blockString: () => undefined };
}

// ---------------------------------------------------------------------------------------------
// YAML

/** CloudFormation short-form intrinsics (`!Sub`, `!GetAtt`…) and their long `Fn::` names. */
const CFN_TAGS: Readonly<Record<string, string>> = {
  '!Ref': 'Ref',
  '!Condition': 'Condition',
  '!Sub': 'Fn::Sub',
  '!GetAtt': 'Fn::GetAtt',
  '!Join': 'Fn::Join',
  '!Select': 'Fn::Select',
  '!Split': 'Fn::Split',
  '!If': 'Fn::If',
  '!Equals': 'Fn::Equals',
  '!Not': 'Fn::Not',
  '!And': 'Fn::And',
  '!Or': 'Fn::Or',
  '!FindInMap': 'Fn::FindInMap',
  '!Base64': 'Fn::Base64',
  '!Cidr': 'Fn::Cidr',
  '!GetAZs': 'Fn::GetAZs',
  '!ImportValue': 'Fn::ImportValue',
  '!Transform': 'Fn::Transform',
  '!ToJsonString': 'Fn::ToJsonString',
  '!Length': 'Fn::Length',
};

/** Custom tags that let the three node kinds carry a CloudFormation tag; values stay plain. */
let cfnYamlTags: (ScalarTag | CollectionTag)[] | undefined;
function cfnTags(): (ScalarTag | CollectionTag)[] {
  const { YAMLMap, YAMLSeq } = yamlModule();
  return (cfnYamlTags ??= Object.keys(CFN_TAGS).flatMap((tag) => [
    { tag, resolve: (s: string) => s },
    { tag, collection: 'seq', nodeClass: YAMLSeq },
    { tag, collection: 'map', nodeClass: YAMLMap },
  ]));
}

class YamlWalker {
  private readonly y = yamlModule();
  readonly offsets = new Map<string, number>();
  readonly blocks = new Map<string, BlockString>();
  constructor(
    readonly doc: Document,
    readonly index: LineIndex,
    readonly text: string,
  ) {}

  value(node: unknown, pointer: string, depth: number, keyOffset?: number): JsonValue {
    if (depth > MAX_DEPTH) throw new Error(`nesting deeper than ${MAX_DEPTH} levels`);
    let n = node as Node | Alias | null | undefined;
    if (this.y.isAlias(n)) n = n.resolve(this.doc);
    const start = keyOffset ?? n?.range?.[0] ?? 0;
    if (!this.offsets.has(pointer)) this.offsets.set(pointer, start);
    if (n === null || n === undefined) return null;
    const tag = (n as { tag?: string }).tag;
    const fn = tag !== undefined ? CFN_TAGS[tag] : undefined;
    if (fn !== undefined) {
      // `!Sub x` reads as `{"Fn::Sub": x}`, as CloudFormation sees it.
      const inner = `${pointer}/${esc(fn)}`;
      const out: JsonObject = {};
      setOwn(out, fn, this.plain(n, inner, depth + 1, n.range?.[0]));
      return out;
    }
    return this.plain(n, pointer, depth, keyOffset);
  }

  plain(n: Node, pointer: string, depth: number, keyOffset?: number): JsonValue {
    if (keyOffset !== undefined && !this.offsets.has(pointer)) this.offsets.set(pointer, keyOffset);
    else if (!this.offsets.has(pointer)) this.offsets.set(pointer, n.range?.[0] ?? 0);
    if (this.y.isMap(n)) {
      const out: JsonObject = {};
      for (const item of n.items) {
        if (!this.y.isPair(item)) continue;
        const k = item.key as Node | null;
        const keyValue = this.y.isScalar(k) ? k.value : k === null ? '' : this.value(k, pointer, depth + 1);
        const key = typeof keyValue === 'string' ? keyValue : (JSON.stringify(keyValue) ?? String(keyValue));
        const child = `${pointer}/${esc(key)}`;
        setOwn(out, key, this.value(item.value, child, depth + 1, k?.range?.[0]));
      }
      return out;
    }
    if (this.y.isSeq(n)) {
      return n.items.map((x, i) => this.value(x, `${pointer}/${i}`, depth + 1));
    }
    if (this.y.isScalar(n)) {
      const v = n.value;
      if (typeof v === 'string') {
        if (n.type === 'BLOCK_LITERAL' && n.range) this.recordBlock(pointer, n.range[0]);
        return v;
      }
      if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
      if (typeof v === 'boolean' || v === null) return v;
      if (typeof v === 'bigint') return Number(v);
      return v instanceof Date ? v.toISOString() : (JSON.stringify(v) ?? null);
    }
    return null;
  }

  /** The block's content starts on the line after its `|` header; its indent is the first line's. */
  recordBlock(pointer: string, headerOffset: number): void {
    const nl = this.text.indexOf('\n', headerOffset);
    if (nl < 0) return;
    let i = nl + 1;
    // Skip blank lines before the content.
    while (i < this.text.length) {
      const end = this.text.indexOf('\n', i);
      const line = this.text.slice(i, end < 0 ? undefined : end);
      if (line.trim() !== '') break;
      if (end < 0) return;
      i = end + 1;
    }
    const indent = /^ */.exec(this.text.slice(i))![0].length;
    this.blocks.set(pointer, { firstLine: this.index.position(i).line, indent });
  }
}

export interface YamlParseOptions {
  /** Accept CloudFormation short-form tags (`!Sub`, `!GetAtt`, `!Ref`…). */
  cloudFormationTags?: boolean;
}

/** Parses YAML text (1.2 core schema: `Yes`/`No` stay strings) with positions. */
export function parseYamlWithPositions(text: string, options: YamlParseOptions = {}): SourceMap {
  const index = new LineIndex(text);
  const { LineCounter, parseDocument } = yamlModule();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    schema: 'core',
    merge: false,
    lineCounter,
    prettyErrors: false,
    ...(options.cloudFormationTags ? { customTags: cfnTags() } : {}),
  });
  const err = doc.errors[0];
  if (err) {
    const at = err.pos[0];
    throw new SourceSyntaxError(err.message.split('\n')[0] ?? 'invalid YAML', index.position(at), at);
  }
  const walker = new YamlWalker(doc, index, text);
  let value: JsonValue;
  try {
    value = walker.value(doc.contents, '', 0);
  } catch (e) {
    throw new SourceSyntaxError(e instanceof Error ? e.message : String(e), { line: 1, column: 1 }, 0);
  }
  return {
    value,
    locate: locator(walker.offsets, index),
    duplicates: [],
    blockString: (p) => walker.blocks.get(p),
  };
}

/** Parses JSON or YAML text with positions; `format` defaults to JSON when the text starts with `{`. */
export function parseWithPositions(
  text: string,
  format?: 'json' | 'yaml',
  options: YamlParseOptions = {},
): SourceMap {
  const f = format ?? (/^\s*[{[]/.test(text) ? 'json' : 'yaml');
  return f === 'json' ? parseJsonWithPositions(text) : parseYamlWithPositions(text, options);
}
