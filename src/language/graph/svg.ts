/**
 * A standalone SVG of a workflow graph: one style per state type, arrowheads, edge labels,
 * dashed Catch edges, frames for Parallel branches and Map processors, and, given the outcomes
 * of an execution, the AWS console's colours with a legend.
 */
import type { EdgePath, FrameBox, GraphLayout, NodeBox, Point } from './layout.js';
import { layoutGraph, METRICS } from './layout.js';
import type { Graph, GraphNode } from './model.js';
import type { StateOutcome, StateOutcomeInfo } from './outcomes.js';
import { FONT_FAMILY, textWidth } from './text.js';

export interface SvgOptions {
  /** By state name; states absent from the map were not reached. */
  outcomes?: ReadonlyMap<string, StateOutcomeInfo>;
  /** A layout computed earlier (e.g. to reuse coordinates for interaction). */
  layout?: GraphLayout;
}

interface Style {
  fill: string;
  stroke: string;
  text: string;
}

const TYPE_STYLE: Readonly<Record<string, Style>> = {
  Task: { fill: '#eaf2fc', stroke: '#3f7dc4', text: '#10233b' },
  Pass: { fill: '#f2f3f4', stroke: '#7d8791', text: '#1d2329' },
  Choice: { fill: '#fff6dc', stroke: '#c99a06', text: '#2d2200' },
  Wait: { fill: '#f2ecfb', stroke: '#7e5bbf', text: '#22143d' },
  Succeed: { fill: '#e5f5e7', stroke: '#2f8a3b', text: '#0f2e13' },
  Fail: { fill: '#fde9e7', stroke: '#c8372d', text: '#3d0d09' },
  Parallel: { fill: '#f8f9fb', stroke: '#5f6f82', text: '#1d2329' },
  Map: { fill: '#f5fafa', stroke: '#2a8480', text: '#0e2a29' },
};
const UNKNOWN_STYLE: Style = { fill: '#ffffff', stroke: '#c8372d', text: '#3d0d09' };
const MARKER_STYLE: Style = { fill: '#232f3e', stroke: '#232f3e', text: '#ffffff' };

export const OUTCOME_STYLE: Readonly<Record<StateOutcome | 'notReached', Style & { label: string }>> = {
  succeeded: { fill: '#dff3e2', stroke: '#2e7d32', text: '#0f2e13', label: 'Succeeded' },
  failed: { fill: '#fbdcd8', stroke: '#c62828', text: '#3d0d09', label: 'Failed' },
  caught: { fill: '#ffe9cc', stroke: '#e07b00', text: '#3a2000', label: 'Caught error' },
  running: { fill: '#dcebfb', stroke: '#1565c0', text: '#0b2545', label: 'In progress' },
  cancelled: { fill: '#e6e6e6', stroke: '#616161', text: '#262626', label: 'Cancelled' },
  notReached: { fill: '#ffffff', stroke: '#b5bcc4', text: '#7a838c', label: 'Not reached' },
};

const EDGE_COLOUR = '#56616d';
const CATCH_COLOUR = '#c8372d';
const LEGEND_HEIGHT = 34;

/** Renders the graph as a standalone SVG document. */
export function renderSvg(graph: Graph, options: SvgOptions = {}): string {
  const layout = options.layout ?? layoutGraph(graph);
  const outcomes = options.outcomes;
  const legend = outcomes !== undefined;
  const legendWidth = legend
    ? legendItems().reduce((w, [, s]) => w + 22 + textWidth(s.label, 12) + 14, 20)
    : 0;
  const width = Math.ceil(Math.max(layout.width, legendWidth));
  const top = legend ? LEGEND_HEIGHT : 0;
  const height = Math.ceil(layout.height + top);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}">`,
  );
  if (graph.label) out.push(`<title>${esc(graph.label)}</title>`);
  out.push(
    '<defs>',
    marker('arrow', EDGE_COLOUR),
    marker('arrow-catch', CATCH_COLOUR),
    '</defs>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  );
  if (legend) out.push(renderLegend());
  out.push(`<g transform="translate(0 ${top})">`);

  // Groups first (their frames sit under everything they hold), then edges, then boxes.
  const frames = new Map<string, FrameBox[]>();
  for (const f of layout.frames) {
    const list = frames.get(f.owner);
    if (list) list.push(f);
    else frames.set(f.owner, [f]);
  }
  for (const b of layout.nodes) if (b.group) out.push(renderGroup(b, frames.get(b.node.id) ?? [], outcomes));
  for (const e of layout.edges) out.push(renderEdge(e));
  for (const e of layout.edges) if (e.label) out.push(renderEdgeLabel(e));
  for (const b of layout.nodes) if (!b.group) out.push(renderNode(b, outcomes));
  out.push('</g>', '</svg>');
  return `${out.join('\n')}\n`;
}

function marker(id: string, colour: string): string {
  return `<marker id="${id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="${colour}"/></marker>`;
}

function legendItems(): [string, Style & { label: string }][] {
  return Object.entries(OUTCOME_STYLE);
}

function renderLegend(): string {
  const parts: string[] = ['<g class="legend">'];
  let x = METRICS.margin;
  for (const [key, s] of legendItems()) {
    parts.push(
      `<rect x="${x}" y="10" width="16" height="14" rx="3" fill="${s.fill}" stroke="${s.stroke}" stroke-width="1.5"${key === 'notReached' ? ' stroke-dasharray="3 2"' : ''}/>`,
      `<text x="${x + 22}" y="21" font-size="12" fill="#333">${esc(s.label)}</text>`,
    );
    x += 22 + textWidth(s.label, 12) + 14;
  }
  parts.push('</g>');
  return parts.join('');
}

function styleOf(
  node: GraphNode,
  outcomes: ReadonlyMap<string, StateOutcomeInfo> | undefined,
): Style & { dashed: boolean } {
  if (node.kind === 'start' || node.kind === 'end') return { ...MARKER_STYLE, dashed: false };
  if (node.kind === 'missing') return { ...UNKNOWN_STYLE, dashed: true };
  if (outcomes) {
    const o = outcomes.get(node.name);
    return { ...OUTCOME_STYLE[o ? o.outcome : 'notReached'], dashed: !o };
  }
  return { ...(TYPE_STYLE[node.type] ?? UNKNOWN_STYLE), dashed: !(node.type in TYPE_STYLE) };
}

function tooltip(node: GraphNode, outcomes: ReadonlyMap<string, StateOutcomeInfo> | undefined): string {
  const lines = [`${node.name} (${node.type})`];
  if (node.detail) lines.push(node.detail);
  if (node.comment) lines.push(node.comment);
  for (const r of node.retry ?? []) {
    lines.push(`Retry ${r.errors.join(', ')}${r.maxAttempts !== undefined ? ` ×${r.maxAttempts}` : ''}`);
  }
  const o = outcomes?.get(node.name);
  if (o) {
    lines.push(`${OUTCOME_STYLE[o.outcome].label}${o.entered > 1 ? ` (entered ${o.entered}×)` : ''}`);
    if (o.error !== undefined)
      lines.push(`${o.error}${o.cause !== undefined ? `: ${o.cause.slice(0, 300)}` : ''}`);
  }
  return `<title>${esc(lines.join('\n'))}</title>`;
}

function renderNode(b: NodeBox, outcomes: ReadonlyMap<string, StateOutcomeInfo> | undefined): string {
  const n = b.node;
  const s = styleOf(n, outcomes);
  const cx = b.x + b.width / 2;
  const attrs = `class="node ${n.kind} ${cssClass(n.type)}" data-id="${esc(n.id)}"${n.kind === 'state' ? ` data-state="${esc(n.name)}"` : ''}`;
  if (n.kind === 'start' || n.kind === 'end') {
    return (
      `<g ${attrs}><rect x="${f(b.x)}" y="${f(b.y)}" width="${f(b.width)}" height="${f(b.height)}" rx="${f(b.height / 2)}" fill="${s.fill}"/>` +
      `<text x="${f(cx)}" y="${f(b.y + b.height / 2 + 4.5)}" font-size="12" font-weight="bold" text-anchor="middle" fill="${s.text}">${esc(b.lines[0] ?? '')}</text></g>`
    );
  }
  const parts = [`<g ${attrs}>`, tooltip(n, outcomes)];
  const rx = n.type === 'Choice' ? 14 : n.type === 'Succeed' || n.type === 'Fail' ? b.height / 2 : 6;
  parts.push(
    `<rect x="${f(b.x)}" y="${f(b.y)}" width="${f(b.width)}" height="${f(b.height)}" rx="${f(Math.min(rx, b.height / 2))}" fill="${s.fill}" stroke="${s.stroke}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
  );
  // A coloured bar on the left keeps the state type visible when outcomes set the colours
  // (inset to clear the rounded corner; pills show their type in the detail line only).
  if (outcomes && n.kind === 'state' && rx < b.height / 2) {
    const typeStroke = (TYPE_STYLE[n.type] ?? UNKNOWN_STYLE).stroke;
    const inset = Math.max(5, rx * 0.6);
    parts.push(
      `<rect x="${f(b.x + Math.max(3, rx * 0.35))}" y="${f(b.y + inset)}" width="3" height="${f(b.height - 2 * inset)}" rx="1.5" fill="${typeStroke}"/>`,
    );
  }
  let y = b.y + METRICS.padY + METRICS.nameSize;
  for (const line of b.lines) {
    parts.push(
      `<text x="${f(cx)}" y="${f(y)}" font-size="${METRICS.nameSize}" font-weight="bold" text-anchor="middle" fill="${s.text}">${esc(line)}</text>`,
    );
    y += METRICS.nameLine;
  }
  parts.push(
    `<text x="${f(cx)}" y="${f(y + 1)}" font-size="${METRICS.detailSize}" text-anchor="middle" fill="${s.text}" fill-opacity="0.72">${esc(b.detail)}</text>`,
  );
  // On the top border, clear of the centred name.
  if (n.retry) parts.push(retryBadge(b.x + b.width - 6, b.y - 7, n.retry.length));
  parts.push('</g>');
  return parts.join('');
}

function retryBadge(right: number, y: number, count: number): string {
  const text = `↻ ${count}`;
  const w = textWidth(text, 10) + 8;
  return (
    `<g class="retry"><rect x="${f(right - w)}" y="${f(y)}" width="${f(w)}" height="14" rx="7" fill="#ffffff" stroke="#8a6d00" stroke-width="1"/>` +
    `<text x="${f(right - w / 2)}" y="${f(y + 10.5)}" font-size="10" text-anchor="middle" fill="#8a6d00">${esc(text)}</text></g>`
  );
}

function renderGroup(
  b: NodeBox,
  frames: FrameBox[],
  outcomes: ReadonlyMap<string, StateOutcomeInfo> | undefined,
): string {
  const n = b.node;
  const s = styleOf(n, outcomes);
  const parts = [
    `<g class="node group ${cssClass(n.type)}" data-id="${esc(n.id)}" data-state="${esc(n.name)}">`,
    tooltip(n, outcomes),
    `<rect x="${f(b.x)}" y="${f(b.y)}" width="${f(b.width)}" height="${f(b.height)}" rx="8" fill="${s.fill}" stroke="${s.stroke}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
  ];
  let y = b.y + 8 + METRICS.nameSize;
  b.lines.forEach((line, i) => {
    const suffix =
      i === b.lines.length - 1
        ? ` <tspan font-weight="normal" font-size="${METRICS.detailSize}" fill-opacity="0.72">${esc(b.detail)}</tspan>`
        : '';
    parts.push(
      `<text x="${f(b.x + 10)}" y="${f(y)}" font-size="${METRICS.nameSize}" font-weight="bold" fill="${s.text}">${esc(line)}${suffix}</text>`,
    );
    y += METRICS.nameLine;
  });
  if (n.retry) parts.push(retryBadge(b.x + b.width - 6, b.y + 6, n.retry.length));
  for (const fr of frames) {
    parts.push(
      `<rect class="frame" x="${f(fr.x)}" y="${f(fr.y)}" width="${f(fr.width)}" height="${f(fr.height)}" rx="6" fill="#ffffff" fill-opacity="0.7" stroke="${s.stroke}" stroke-opacity="0.6" stroke-dasharray="4 3"/>`,
      `<text x="${f(fr.x + 8)}" y="${f(fr.y + 14)}" font-size="11" fill="#5f6b77">${esc(fr.label)}</text>`,
    );
  }
  parts.push('</g>');
  return parts.join('');
}

function renderEdge(e: EdgePath): string {
  const catchEdge = e.edge.kind === 'catch';
  const colour = catchEdge ? CATCH_COLOUR : EDGE_COLOUR;
  const dash = catchEdge
    ? ' stroke-dasharray="6 4"'
    : e.edge.kind === 'default'
      ? ' stroke-dasharray="2 3"'
      : '';
  return `<path class="edge ${e.edge.kind}" d="${roundedPath(e.points)}" fill="none" stroke="${colour}" stroke-width="1.4"${dash} marker-end="url(#${catchEdge ? 'arrow-catch' : 'arrow'})"/>`;
}

function renderEdgeLabel(e: EdgePath): string {
  const l = e.label!;
  const colour = e.edge.kind === 'catch' ? CATCH_COLOUR : '#37414b';
  const parts = [
    `<g class="edge-label ${e.edge.kind}">`,
    e.edge.label !== undefined ? `<title>${esc(e.edge.label)}</title>` : '',
    `<rect x="${f(l.x - l.width / 2)}" y="${f(l.y - l.height / 2)}" width="${f(l.width)}" height="${f(l.height)}" rx="3" fill="#ffffff" fill-opacity="0.92" stroke="${colour}" stroke-opacity="0.25"/>`,
  ];
  const first = l.y - (l.lines.length * METRICS.labelLine) / 2 + METRICS.labelLine - 3;
  l.lines.forEach((line, i) => {
    parts.push(
      `<text x="${f(l.x)}" y="${f(first + i * METRICS.labelLine)}" font-size="${METRICS.labelSize}" text-anchor="middle" fill="${colour}"${e.edge.kind === 'default' ? ' font-style="italic"' : ''}>${esc(line)}</text>`,
    );
  });
  parts.push('</g>');
  return parts.join('');
}

/** A polyline with its corners rounded off. */
function roundedPath(pts: readonly Point[]): string {
  if (pts.length === 0) return 'M0,0';
  const first = pts[0]!;
  let d = `M${f(first.x)},${f(first.y)}`;
  for (let i = 1; i < pts.length; i++) {
    const p = pts[i]!;
    const next = pts[i + 1];
    if (!next) {
      d += ` L${f(p.x)},${f(p.y)}`;
      break;
    }
    const prev = pts[i - 1]!;
    const r = Math.min(8, dist(prev, p) / 2, dist(p, next) / 2);
    const a = toward(p, prev, r);
    const b = toward(p, next, r);
    d += ` L${f(a.x)},${f(a.y)} Q${f(p.x)},${f(p.y)} ${f(b.x)},${f(b.y)}`;
  }
  return d;
}

function dist(a: Point, b: Point): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

function toward(from: Point, to: Point, r: number): Point {
  const d = dist(from, to);
  return d === 0 ? from : { x: from.x + ((to.x - from.x) * r) / d, y: from.y + ((to.y - from.y) * r) / d };
}

function cssClass(type: string): string {
  return type.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

/** Two decimals at most: smaller files, same picture. */
function f(n: number): string {
  return String(Math.round(n * 100) / 100);
}

export function esc(s: string): string {
  // Characters XML 1.0 forbids (controls, lone surrogates) would make the document unparsable.
  const clean = s.replace(
    /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    '\ufffd',
  );
  return clean.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;',
  );
}
