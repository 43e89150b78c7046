/**
 * Graphviz DOT: Parallel and Map states become clusters (branches as nested clusters). Edges into
 * and out of a group attach to invisible entry and exit points inside it, clipped at the cluster
 * border (`compound=true`), and invisible edges keep the exit below every branch.
 */
import type { Graph, GraphEdge, GraphNode } from './model.js';
import type { StateOutcomeInfo } from './outcomes.js';
import { OUTCOME_STYLE } from './svg.js';

export interface DotOptions {
  outcomes?: ReadonlyMap<string, StateOutcomeInfo>;
}

const TYPE_FILL: Readonly<Record<string, [string, string]>> = {
  Task: ['#eaf2fc', '#3f7dc4'],
  Pass: ['#f2f3f4', '#7d8791'],
  Choice: ['#fff6dc', '#c99a06'],
  Wait: ['#f2ecfb', '#7e5bbf'],
  Succeed: ['#e5f5e7', '#2f8a3b'],
  Fail: ['#fde9e7', '#c8372d'],
  Parallel: ['#f8f9fb', '#5f6f82'],
  Map: ['#f5fafa', '#2a8480'],
};

export function renderDot(graph: Graph, options: DotOptions = {}): string {
  const ids = new Map<string, string>();
  let count = 0;
  const idOf = (id: string) => {
    let m = ids.get(id);
    if (m === undefined) ids.set(id, (m = `s${count++}`));
    return m;
  };
  const outcomes = options.outcomes;
  const colours = (n: GraphNode): [string, string] => {
    if (outcomes && n.kind === 'state') {
      const s = OUTCOME_STYLE[outcomes.get(n.name)?.outcome ?? 'notReached'];
      return [s.fill, s.stroke];
    }
    return TYPE_FILL[n.type] ?? ['#ffffff', '#c8372d'];
  };
  const lines = [
    'digraph workflow {',
    '  graph [rankdir=TB, compound=true, fontname="Helvetica", fontsize=12, nodesep=0.35, ranksep=0.45];',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, penwidth=1.4];',
    '  edge [fontname="Helvetica", fontsize=10, color="#56616d"];',
  ];
  const groups = new Map<string, { entry: string; exit: string; cluster: string }>();

  const emit = (g: Graph, indent: string): string[] => {
    // Returns the DOT ids of this graph's sinks (for the enclosing group's exit point).
    const outgoing = new Set(g.edges.filter((e) => e.kind !== 'end').map((e) => e.from));
    const sinks: string[] = [];
    for (const n of g.nodes) {
      const id = idOf(n.id);
      if (n.subgraphs) {
        const cluster = `cluster_${id}`;
        const entry = `${id}_in`;
        const exit = `${id}_out`;
        groups.set(n.id, { entry, exit, cluster });
        const [fill, stroke] = colours(n);
        lines.push(
          `${indent}subgraph ${cluster} {`,
          `${indent}  label=${quote(`${n.name} (${n.type}${n.detail ? ` · ${n.detail}` : ''})`)}; labeljust=l; style="rounded,filled"; fillcolor="${fill}"; color="${stroke}";`,
          `${indent}  ${entry} [shape=point, width=0.01, style=invis];`,
          `${indent}  ${exit} [shape=point, width=0.01, style=invis];`,
        );
        n.subgraphs.forEach((sub) => {
          lines.push(
            `${indent}  subgraph cluster_${idOf(sub.id)} {`,
            `${indent}    label=${quote(sub.label)}; style="rounded,dashed"; fillcolor="#ffffff"; color="${stroke}";`,
          );
          const inner = emit(sub, `${indent}    `);
          const first = sub.nodes[0];
          if (first) lines.push(`${indent}    ${entry} -> ${anchor(first.id, 'in')} [style=invis];`);
          for (const s of inner) lines.push(`${indent}    ${s} -> ${exit} [style=invis];`);
          if (sub.nodes.length === 0)
            lines.push(`${indent}    ${idOf(`${sub.id}.empty`)} [label="", style=invis];`);
          lines.push(`${indent}  }`);
        });
        lines.push(`${indent}}`);
        if (!outgoing.has(n.id)) sinks.push(exit);
        continue;
      }
      lines.push(`${indent}${id} ${attrs(n, colours(n))};`);
      if (!outgoing.has(n.id)) sinks.push(id);
    }
    for (const e of g.edges) lines.push(`${indent}${edge(e)};`);
    return sinks;
  };

  // Edges may name a group before it is emitted: resolve anchors lazily by id.
  const anchor = (id: string, side: 'in' | 'out') => {
    const g = groups.get(id);
    return g ? (side === 'in' ? g.entry : g.exit) : idOf(id);
  };
  const edge = (e: GraphEdge) => {
    const a: string[] = [];
    const from = groups.get(e.from);
    const to = groups.get(e.to);
    if (from) a.push(`ltail=${from.cluster}`);
    if (to) a.push(`lhead=${to.cluster}`);
    if (e.label !== undefined) a.push(`label=${quote(shorten(e.label, 60))}`);
    if (e.kind === 'catch') a.push('style=dashed', 'color="#c8372d"', 'fontcolor="#c8372d"');
    if (e.kind === 'default') a.push('style=dotted', 'fontname="Helvetica-Oblique"');
    return `${anchor(e.from, 'out')} -> ${anchor(e.to, 'in')}${a.length > 0 ? ` [${a.join(', ')}]` : ''}`;
  };

  // Groups first, so that edges know every cluster: collect them in a dry run.
  const collect = (g: Graph) => {
    for (const n of g.nodes) {
      if (!n.subgraphs) continue;
      const id = idOf(n.id);
      groups.set(n.id, { entry: `${id}_in`, exit: `${id}_out`, cluster: `cluster_${id}` });
      n.subgraphs.forEach(collect);
    }
  };
  collect(graph);
  emit(graph, '  ');
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function attrs(n: GraphNode, [fill, stroke]: [string, string]): string {
  if (n.kind === 'start' || n.kind === 'end') {
    return `[label=${quote(n.kind === 'start' ? 'Start' : 'End')}, shape=box, style="rounded,filled", fillcolor="#232f3e", color="#232f3e", fontcolor="#ffffff"]`;
  }
  const detail = n.kind === 'missing' ? 'missing state' : n.detail ? `${n.type} · ${n.detail}` : n.type;
  const retry = n.retry ? ` ↻${n.retry.length}` : '';
  const shape = n.type === 'Choice' ? 'hexagon' : 'box';
  const style =
    n.kind === 'missing' || !(n.type in TYPE_FILL) ? '"rounded,filled,dashed"' : '"rounded,filled"';
  return `[label=${quote(`${n.name}\n${detail}${retry}`)}, shape=${shape}, style=${style}, fillcolor="${fill}", color="${stroke}"]`;
}

function shorten(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** A DOT double-quoted string; `\n` becomes a centred line break. */
function quote(s: string): string {
  const clean = s.replace(/[\u0000-\u0009\u000b-\u001f]/g, ' ');
  return `"${clean.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
