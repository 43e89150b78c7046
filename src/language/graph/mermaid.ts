/**
 * Mermaid `flowchart TD` text: Parallel and Map states become subgraphs (branches nested inside),
 * Catch edges are dotted, and an execution's outcomes become class colours.
 */
import type { Graph, GraphEdge, GraphNode } from './model.js';
import type { StateOutcomeInfo } from './outcomes.js';
import { OUTCOME_STYLE } from './svg.js';

export interface MermaidOptions {
  outcomes?: ReadonlyMap<string, StateOutcomeInfo>;
}

const TYPE_CLASSES: Readonly<Record<string, string>> = {
  task: 'fill:#eaf2fc,stroke:#3f7dc4',
  pass: 'fill:#f2f3f4,stroke:#7d8791',
  choice: 'fill:#fff6dc,stroke:#c99a06',
  wait: 'fill:#f2ecfb,stroke:#7e5bbf',
  succeed: 'fill:#e5f5e7,stroke:#2f8a3b',
  fail: 'fill:#fde9e7,stroke:#c8372d',
  unknown: 'fill:#ffffff,stroke:#c8372d,stroke-dasharray:5 3',
  marker: 'fill:#232f3e,stroke:#232f3e,color:#ffffff',
};

export function renderMermaid(graph: Graph, options: MermaidOptions = {}): string {
  const ids = new Map<string, string>();
  let count = 0;
  const idOf = (id: string) => {
    let m = ids.get(id);
    if (m === undefined) ids.set(id, (m = `s${count++}`));
    return m;
  };
  const lines = ['flowchart TD'];
  const classes: string[] = [];
  const groupStyles: string[] = [];
  const outcomes = options.outcomes;

  const classOf = (n: GraphNode): string => {
    if (n.kind === 'start' || n.kind === 'end') return 'marker';
    if (outcomes && n.kind === 'state') return outcomes.get(n.name)?.outcome ?? 'notReached';
    const t = n.type.toLowerCase();
    return t in TYPE_CLASSES ? t : 'unknown';
  };

  const emitGraph = (g: Graph, indent: string) => {
    for (const n of g.nodes) {
      const id = idOf(n.id);
      if (n.subgraphs) {
        lines.push(`${indent}subgraph ${id} ["${text(`${n.name} (${n.type})`)}"]`);
        lines.push(`${indent}  direction TB`);
        n.subgraphs.forEach((sub) => {
          const sid = idOf(sub.id);
          lines.push(`${indent}  subgraph ${sid} ["${text(sub.label)}"]`);
          lines.push(`${indent}    direction TB`);
          if (sub.nodes.length === 0) lines.push(`${indent}    ${idOf(`${sub.id}.empty`)}[" "]`);
          emitGraph(sub, `${indent}    `);
          lines.push(`${indent}  end`);
        });
        lines.push(`${indent}end`);
        const c = classOf(n);
        const style = c === n.type.toLowerCase() ? undefined : styleFor(c);
        groupStyles.push(
          `style ${id} ${style ?? (n.type === 'Map' ? 'fill:#f5fafa,stroke:#2a8480' : 'fill:#f8f9fb,stroke:#5f6f82')}`,
        );
        continue;
      }
      lines.push(`${indent}${id}${shape(n)}`);
      classes.push(`class ${id} ${classOf(n)}`);
    }
    for (const e of g.edges) lines.push(`${indent}${edge(e, idOf)}`);
  };
  emitGraph(graph, '  ');

  const used = new Set(classes.map((c) => c.split(' ')[2]!));
  for (const [name, style] of Object.entries(TYPE_CLASSES))
    if (used.has(name)) lines.push(`  classDef ${name} ${style}`);
  for (const name of Object.keys(OUTCOME_STYLE))
    if (used.has(name)) lines.push(`  classDef ${name} ${styleFor(name)}`);
  for (const c of classes) lines.push(`  ${c}`);
  for (const s of groupStyles) lines.push(`  ${s}`);
  return `${lines.join('\n')}\n`;
}

function styleFor(outcome: string): string | undefined {
  const s = (OUTCOME_STYLE as Record<string, { fill: string; stroke: string; text: string } | undefined>)[
    outcome
  ];
  return s ? `fill:${s.fill},stroke:${s.stroke},color:${s.text}` : undefined;
}

function shape(n: GraphNode): string {
  if (n.kind === 'start') return '(["Start"])';
  if (n.kind === 'end') return '(["End"])';
  const detail = n.kind === 'missing' ? 'missing state' : n.detail ? `${n.type} · ${n.detail}` : n.type;
  const label = `"${text(n.name)}<br/><small>${text(detail)}</small>${n.retry ? ` ↻${n.retry.length}` : ''}"`;
  switch (n.type) {
    case 'Choice':
      return `{{${label}}}`;
    case 'Succeed':
    case 'Fail':
      return `([${label}])`;
    case 'Wait':
      return `[/${label}/]`;
    case 'Pass':
      return `[${label}]`;
    default:
      return `(${label})`;
  }
}

function edge(e: GraphEdge, idOf: (id: string) => string): string {
  const from = idOf(e.from);
  const to = idOf(e.to);
  const arrow = e.kind === 'catch' ? '-.->' : '-->';
  const label = e.label === undefined ? '' : `|"${text(shorten(e.label, 80))}"|`;
  return `${from} ${arrow}${label} ${to}`;
}

function shorten(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Text inside a quoted Mermaid label: entity codes for what its parser or HTML would take. */
function text(s: string): string {
  return s.replace(/[\u0000-\u001f]/g, ' ').replace(/[#"<>|&]/g, (c) => `#${c.charCodeAt(0)};`);
}
