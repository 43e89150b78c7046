/**
 * Definition JSON → workflow graph. Built from the parsed JSON rather than the compiled model so
 * that definitions the compiler rejects (unknown resources, dangling `Next`, odd fields) still
 * draw: whatever cannot be understood becomes an `Unknown` state or a `Missing` target node.
 */
import type { JsonObject, JsonValue } from '../json.js';
import { getOwn, isJsonObject } from '../json.js';

export type NodeKind = 'start' | 'end' | 'state' | 'missing';

export interface RetrySummary {
  errors: string[];
  maxAttempts?: number;
}

export interface GraphNode {
  /** Unique in the whole graph (state names may repeat in invalid definitions). */
  id: string;
  kind: NodeKind;
  /** The state name (empty for start/end markers). */
  name: string;
  /** The state type as written (`Task`, `Choice`…), `Unknown` when absent or not a string. */
  type: string;
  /** A short second line: resource, wait time, Map mode… */
  detail?: string;
  comment?: string;
  retry?: RetrySummary[];
  /** Parallel branches or the Map item processor, laid out inside the node. */
  subgraphs?: Graph[];
}

export type EdgeKind = 'start' | 'next' | 'choice' | 'default' | 'catch' | 'end';

export interface GraphEdge {
  id: string;
  from: string;
  to: string;
  kind: EdgeKind;
  /** Rule text of a Choice branch, `Default`, or the ErrorEquals of a Catch. */
  label?: string;
}

export interface Graph {
  id: string;
  /** `Branch 1`, `Item processor`; the top level takes the definition's Comment. */
  label: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** Deeper nesting is cut off (AWS allows far less); keeps hostile input from exhausting the stack. */
const MAX_DEPTH = 64;

/** Builds the graph of a parsed definition. Never throws, whatever the value. */
export function buildGraph(definition: unknown): Graph {
  const b = new Builder();
  const def = isJsonObject(definition) ? definition : {};
  const comment = getOwn(def, 'Comment');
  return b.machine(def, 'g', typeof comment === 'string' ? comment : '', 0, true);
}

/** Every state node of the graph, nested ones included, in document order. */
export function allStateNodes(graph: Graph): GraphNode[] {
  const out: GraphNode[] = [];
  const visit = (g: Graph) => {
    for (const n of g.nodes) {
      if (n.kind === 'state') out.push(n);
      for (const s of n.subgraphs ?? []) visit(s);
    }
  };
  visit(graph);
  return out;
}

class Builder {
  private count = 0;

  machine(def: JsonObject, id: string, label: string, depth: number, top: boolean): Graph {
    const graph: Graph = { id, label, nodes: [], edges: [] };
    const states = getOwn(def, 'States');
    const entries: [string, JsonValue][] = isJsonObject(states ?? null)
      ? Object.entries(states as JsonObject)
      : [];
    const ids = new Map<string, string>();
    for (const [name] of entries) ids.set(name, `${id}.${this.count++}`);
    const missing = new Map<string, string>();
    let edgeCount = 0;
    const edge = (from: string, to: string, kind: EdgeKind, label?: string) => {
      const e: GraphEdge = { id: `${id}.e${edgeCount++}`, from, to, kind };
      if (label !== undefined) e.label = label;
      graph.edges.push(e);
    };
    const target = (name: JsonValue | undefined): string | undefined => {
      if (typeof name !== 'string') return undefined;
      const known = ids.get(name);
      if (known !== undefined) return known;
      let m = missing.get(name);
      if (m === undefined) {
        m = `${id}.m${missing.size}`;
        missing.set(name, m);
        graph.nodes.push({ id: m, kind: 'missing', name, type: 'Missing', detail: 'no such state' });
      }
      return m;
    };

    let endId: string | undefined;
    const end = () => {
      if (endId === undefined) {
        endId = `${id}.end`;
        graph.nodes.push({ id: endId, kind: 'end', name: '', type: 'End' });
      }
      return endId;
    };

    if (top) {
      graph.nodes.push({ id: `${id}.start`, kind: 'start', name: '', type: 'Start' });
      const start = target(getOwn(def, 'StartAt'));
      if (start !== undefined) edge(`${id}.start`, start, 'start');
    }

    for (const [name, raw] of entries) {
      const nid = ids.get(name)!;
      const s = isJsonObject(raw) ? raw : {};
      const t = getOwn(s, 'Type');
      const type = typeof t === 'string' && t !== '' ? t : 'Unknown';
      const node: GraphNode = { id: nid, kind: 'state', name, type };
      const detail = describeState(type, s);
      if (detail) node.detail = detail;
      const comment = getOwn(s, 'Comment');
      if (typeof comment === 'string' && comment !== '') node.comment = comment;
      const retry = retriers(getOwn(s, 'Retry'));
      if (retry.length > 0) node.retry = retry;
      graph.nodes.push(node);

      if (depth < MAX_DEPTH && (type === 'Parallel' || type === 'Map')) {
        node.subgraphs = this.children(type, s, nid, depth);
      }

      if (type === 'Choice') {
        const choices = getOwn(s, 'Choices');
        for (const c of Array.isArray(choices) ? choices : []) {
          if (!isJsonObject(c)) continue;
          const to = target(getOwn(c, 'Next'));
          if (to !== undefined) edge(nid, to, 'choice', ruleText(c, 0));
        }
        const dflt = target(getOwn(s, 'Default'));
        if (dflt !== undefined) edge(nid, dflt, 'default', 'Default');
      } else {
        const next = target(getOwn(s, 'Next'));
        if (next !== undefined) edge(nid, next, 'next');
      }
      const catches = getOwn(s, 'Catch');
      for (const c of Array.isArray(catches) ? catches : []) {
        if (!isJsonObject(c)) continue;
        const to = target(getOwn(c, 'Next'));
        if (to !== undefined) edge(nid, to, 'catch', `Catch ${errorList(getOwn(c, 'ErrorEquals'))}`);
      }
      if (top && (getOwn(s, 'End') === true || type === 'Succeed' || type === 'Fail')) {
        edge(nid, end(), 'end');
      }
    }
    return graph;
  }

  private children(type: string, s: JsonObject, nid: string, depth: number): Graph[] {
    if (type === 'Parallel') {
      const branches = getOwn(s, 'Branches');
      return (Array.isArray(branches) ? branches : []).map((b, i) =>
        this.machine(isJsonObject(b) ? b : {}, `${nid}.b${i}`, `Branch ${i + 1}`, depth + 1, false),
      );
    }
    const processor = getOwn(s, 'ItemProcessor') ?? getOwn(s, 'Iterator');
    if (!isJsonObject(processor ?? null)) return [];
    return [this.machine(processor as JsonObject, `${nid}.p`, 'Item processor', depth + 1, false)];
  }
}

function retriers(v: JsonValue | undefined): RetrySummary[] {
  const out: RetrySummary[] = [];
  for (const r of Array.isArray(v) ? v : []) {
    if (!isJsonObject(r)) continue;
    const e = getOwn(r, 'ErrorEquals');
    const summary: RetrySummary = {
      errors: Array.isArray(e) ? e.filter((x): x is string => typeof x === 'string') : [],
    };
    const max = getOwn(r, 'MaxAttempts');
    if (typeof max === 'number') summary.maxAttempts = max;
    out.push(summary);
  }
  return out;
}

function errorList(v: JsonValue | undefined): string {
  const names = Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  return names.length > 0 ? names.join(', ') : '?';
}

/** The second line of a state box. */
function describeState(type: string, s: JsonObject): string | undefined {
  const str = (k: string) => {
    const v = getOwn(s, k);
    return typeof v === 'string' ? v : undefined;
  };
  switch (type) {
    case 'Task': {
      const r = str('Resource');
      return r === undefined
        ? undefined
        : shortResource(r, getOwn(s, 'Parameters') ?? getOwn(s, 'Arguments'));
    }
    case 'Wait': {
      const seconds = getOwn(s, 'Seconds');
      if (typeof seconds === 'number') return `${seconds} s`;
      if (typeof seconds === 'string') return seconds;
      const ts = str('Timestamp');
      if (ts !== undefined) return `until ${ts}`;
      const path = str('SecondsPath') ?? str('TimestampPath');
      return path === undefined ? undefined : `from ${path}`;
    }
    case 'Map': {
      const processor = getOwn(s, 'ItemProcessor');
      const config = isJsonObject(processor ?? null)
        ? getOwn(processor as JsonObject, 'ProcessorConfig')
        : undefined;
      const mode = isJsonObject(config ?? null) ? getOwn(config as JsonObject, 'Mode') : undefined;
      const items = str('ItemsPath') ?? (typeof getOwn(s, 'Items') === 'string' ? str('Items') : undefined);
      const parts = [mode === 'DISTRIBUTED' ? 'distributed' : undefined, items].filter(
        (x) => x !== undefined,
      );
      return parts.length > 0 ? parts.join(' · ') : undefined;
    }
    case 'Fail':
      return str('Error') ?? str('ErrorPath');
    default:
      return undefined;
  }
}

/**
 * `arn:aws:states:::lambda:invoke` → `lambda:invoke` (+ the function's name when known);
 * `arn:aws:lambda:…:function:Name` → `λ Name`; other ARNs → their last part.
 */
function shortResource(resource: string, params: JsonValue | undefined): string {
  const integration = /^arn:[^:]+:states:[^:]*:[^:]*:(.+)$/.exec(resource);
  if (integration) {
    const service = integration[1]!.replace(/^aws-sdk:/, 'sdk:');
    const fn = isJsonObject(params ?? null) ? getOwn(params as JsonObject, 'FunctionName') : undefined;
    if (typeof fn === 'string' && /^lambda:invoke/.test(service)) {
      const name = /:function:([^:]+)/.exec(fn)?.[1] ?? fn;
      return `λ ${name}`;
    }
    return service;
  }
  const fn = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(resource);
  if (fn) return `λ ${fn[1]!}`;
  const activity = /^arn:[^:]+:states:[^:]*:[^:]*:activity:(.+)$/.exec(resource);
  if (activity) return `activity ${activity[1]!}`;
  return resource;
}

// ---------------------------------------------------------------------------------------------
// Choice rules as text

const COMPARISON =
  /^(String|Numeric|Boolean|Timestamp)(Equals|LessThan|GreaterThan|LessThanEquals|GreaterThanEquals)(Path)?$/;
const SYMBOL: Readonly<Record<string, string>> = {
  Equals: '==',
  LessThan: '<',
  GreaterThan: '>',
  LessThanEquals: '<=',
  GreaterThanEquals: '>=',
};
const TYPE_TESTS = ['IsNull', 'IsPresent', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp'];

/** A Choice rule as one line: `$.accuracypct < 96`, `And($.a == "x", IsPresent($.b))`, JSONata text. */
export function ruleText(rule: JsonValue, depth: number): string {
  if (!isJsonObject(rule) || depth > 20) return '?';
  const condition = getOwn(rule, 'Condition');
  if (condition !== undefined) {
    return typeof condition === 'string'
      ? condition.replace(/^\s*\{%\s*/, '').replace(/\s*%\}\s*$/, '')
      : JSON.stringify(condition);
  }
  for (const op of ['And', 'Or'] as const) {
    const list = getOwn(rule, op);
    if (Array.isArray(list)) return `${op}(${list.map((r) => ruleText(r, depth + 1)).join(', ')})`;
  }
  const not = getOwn(rule, 'Not');
  if (not !== undefined) return `Not(${ruleText(not, depth + 1)})`;
  const variable = getOwn(rule, 'Variable');
  const v = typeof variable === 'string' ? variable : '?';
  for (const key of Object.keys(rule)) {
    const value = rule[key]!;
    const m = COMPARISON.exec(key);
    if (m) {
      const operand = m[3] && typeof value === 'string' ? value : JSON.stringify(value);
      return `${v} ${SYMBOL[m[2]!]!} ${operand}`;
    }
    if (key === 'StringMatches') return `${v} matches ${JSON.stringify(value)}`;
    if (TYPE_TESTS.includes(key)) return `${value === false ? '!' : ''}${key}(${v})`;
  }
  return v;
}
