/**
 * A layered (Sugiyama-style) layout: cycle breaking by DFS, longest-path layering, dummy nodes
 * for long edges and edge labels, barycenter crossing reduction, x placement by isotonic
 * regression, and polylines that bend only between layers so that they never cut through a box.
 * Parallel and Map states are laid out recursively and sized to their content. Pure and
 * deterministic: no randomness, and every iteration order follows the input order.
 */
import type { Graph, GraphEdge, GraphNode } from './model.js';
import { textWidth, truncateText, wrapText } from './text.js';

export interface Point {
  x: number;
  y: number;
}

export interface NodeBox {
  node: GraphNode;
  /** Top-left corner, absolute. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** The state name, wrapped. */
  lines: string[];
  /** The detail line (type, resource…), shortened to fit. */
  detail: string;
  /** The frame holding the node (a Parallel branch or Map processor), if nested. */
  frame?: string;
  /** Parallel and Map states are drawn as a frame holding their branches. */
  group: boolean;
}

export interface FrameBox {
  /** The subgraph's id. */
  id: string;
  label: string;
  /** The Parallel or Map node the frame belongs to. */
  owner: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface EdgeLabelBox {
  /** Centre of the label. */
  x: number;
  y: number;
  width: number;
  height: number;
  lines: string[];
}

export interface EdgePath {
  edge: GraphEdge;
  /** From the source to the target (the arrowhead sits on the last point). */
  points: Point[];
  label?: EdgeLabelBox;
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: NodeBox[];
  frames: FrameBox[];
  edges: EdgePath[];
}

export const METRICS = {
  nameSize: 13,
  nameLine: 16,
  detailSize: 11,
  labelSize: 11,
  labelLine: 13,
  padX: 12,
  padY: 9,
  minWidth: 110,
  maxNameWidth: 200,
  nodeGap: 28,
  layerGap: 34,
  margin: 20,
  groupHeader: 30,
  framePad: 12,
  frameHeader: 20,
  frameGap: 16,
  maxLabelWidth: 190,
} as const;

/** Lays out a graph. `nodes` lists every node (nested ones after their group) with absolute boxes. */
export function layoutGraph(graph: Graph): GraphLayout {
  const local = layoutLevel(graph, 0);
  const out: GraphLayout = {
    width: local.width + 2 * METRICS.margin,
    height: local.height + 2 * METRICS.margin,
    nodes: [],
    frames: [],
    edges: [],
  };
  place(local, METRICS.margin, METRICS.margin, undefined, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// One level: the nodes and edges of one (sub)graph, groups already laid out inside.

interface LocalLayout {
  width: number;
  height: number;
  nodes: { box: NodeBox; inner: { frame: FrameBox; layout: LocalLayout }[] }[];
  edges: EdgePath[];
}

interface Vertex {
  /** Index into the level's nodes, or -1 for a dummy. */
  node: number;
  width: number;
  height: number;
  layer: number;
  order: number;
  x: number;
  /** Label text of a label dummy. */
  label?: string[];
  /** Edges leave a dummy straight on; real nodes spread their ports. */
  dummy: boolean;
}

interface Link {
  from: number;
  to: number;
  /** The original edge and whether this piece runs against it (a broken cycle). */
  edge: number;
}

const MAX_LEVEL_DEPTH = 80;

function layoutLevel(graph: Graph, depth: number): LocalLayout {
  const { nodes } = graph;
  const index = new Map<string, number>();
  nodes.forEach((n, i) => index.set(n.id, i));

  // Sizes; groups recursively.
  const boxes: LocalLayout['nodes'] = nodes.map((n) => sizeNode(n, depth));

  // Edges of this level (both ends known), self-loops aside.
  const edges = graph.edges.filter((e) => index.has(e.from) && index.has(e.to));
  const n = nodes.length;
  const out: number[][] = Array.from({ length: n }, () => []);
  edges.forEach((e, i) => {
    if (e.from !== e.to) out[index.get(e.from)!]!.push(i);
  });

  // 1. Cycle breaking: DFS from the start, then from every unvisited node in order.
  const reversed = new Set<number>();
  const state = new Uint8Array(n); // 0 new, 1 on stack, 2 done
  const roots = [...nodes.keys()].sort((a, b) => rootRank(nodes[a]!) - rootRank(nodes[b]!) || a - b);
  for (const root of roots) {
    if (state[root] !== 0) continue;
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [v, k] = top;
      const list = out[v]!;
      if (k >= list.length) {
        state[v] = 2;
        stack.pop();
        continue;
      }
      top[1]++;
      const ei = list[k]!;
      const w = index.get(edges[ei]!.to)!;
      if (state[w] === 1) reversed.add(ei);
      else if (state[w] === 0) {
        state[w] = 1;
        stack.push([w, 0]);
      }
    }
  }

  // 2. Longest-path layering; labelled edges span two layers to leave room for the label.
  const dagFrom = (ei: number) => index.get(reversed.has(ei) ? edges[ei]!.to : edges[ei]!.from)!;
  const dagTo = (ei: number) => index.get(reversed.has(ei) ? edges[ei]!.from : edges[ei]!.to)!;
  const dagOut: number[][] = Array.from({ length: n }, () => []);
  const indeg = new Int32Array(n);
  edges.forEach((e, i) => {
    if (e.from === e.to) return;
    dagOut[dagFrom(i)]!.push(i);
    const t = dagTo(i);
    indeg[t] = indeg[t]! + 1;
  });
  const layer = new Int32Array(n);
  const queue: number[] = [];
  for (let v = 0; v < n; v++) if (indeg[v] === 0) queue.push(v);
  for (let qi = 0; qi < queue.length; qi++) {
    const v = queue[qi]!;
    for (const ei of dagOut[v]!) {
      const w = dagTo(ei);
      const span = edges[ei]!.label !== undefined ? 2 : 1;
      layer[w] = Math.max(layer[w]!, layer[v]! + span);
      indeg[w] = indeg[w]! - 1;
      if (indeg[w] === 0) queue.push(w);
    }
  }

  // 3. Vertices: real nodes, then dummies along long edges (the first one carries the label).
  // A self-loop is drawn on the right of its box: reserve the room.
  const loops = new Set(edges.filter((e) => e.from === e.to).map((e) => e.from));
  const verts: Vertex[] = nodes.map((_, i) => ({
    node: i,
    width: boxes[i]!.box.width + (loops.has(nodes[i]!.id) ? 26 : 0),
    height: boxes[i]!.box.height,
    layer: layer[i]!,
    order: 0,
    x: 0,
    dummy: false,
  }));
  const links: Link[] = [];
  const chains: number[][] = edges.map(() => []);
  edges.forEach((e, ei) => {
    if (e.from === e.to) return;
    const a = dagFrom(ei);
    const b = dagTo(ei);
    const chain = [a];
    let labelDone = e.label === undefined;
    for (let l = layer[a]! + 1; l < layer[b]!; l++) {
      const v: Vertex = { node: -1, width: 0, height: 0, layer: l, order: 0, x: 0, dummy: true };
      if (!labelDone) {
        const lines = labelLines(e.label!);
        v.label = lines;
        v.width = Math.max(...lines.map((s) => textWidth(s, METRICS.labelSize))) + 10;
        v.height = lines.length * METRICS.labelLine + 4;
        labelDone = true;
      }
      verts.push(v);
      chain.push(verts.length - 1);
    }
    chain.push(b);
    for (let k = 0; k + 1 < chain.length; k++) links.push({ from: chain[k]!, to: chain[k + 1]!, edge: ei });
    chains[ei] = chain;
  });

  const layerCount = verts.reduce((m, v) => Math.max(m, v.layer + 1), 0);
  const up: number[][] = verts.map(() => []);
  const down: number[][] = verts.map(() => []);
  for (const l of links) {
    down[l.from]!.push(l.to);
    up[l.to]!.push(l.from);
  }

  // 4. Ordering: first seen in a DFS along edges, then barycenter sweeps, keeping the best.
  const layers: number[][] = Array.from({ length: layerCount }, () => []);
  const seen = new Uint8Array(verts.length);
  const visit = (start: number) => {
    const stack = [start];
    while (stack.length > 0) {
      const v = stack.pop()!;
      if (seen[v]) continue;
      seen[v] = 1;
      layers[verts[v]!.layer]!.push(v);
      const next = down[v]!;
      for (let k = next.length - 1; k >= 0; k--) if (!seen[next[k]!]) stack.push(next[k]!);
    }
  };
  for (const r of roots) visit(r);
  for (let v = 0; v < verts.length; v++) visit(v);
  const setOrder = () => layers.forEach((ls) => ls.forEach((v, i) => (verts[v]!.order = i)));
  setOrder();

  let best = layers.map((l) => [...l]);
  let bestCrossings = crossings(layers, down);
  for (let iter = 0; iter < 6 && bestCrossings > 0; iter++) {
    for (let l = 1; l < layerCount; l++) sortByBarycenter(layers[l]!, up, verts);
    for (let l = layerCount - 2; l >= 0; l--) sortByBarycenter(layers[l]!, down, verts);
    const c = crossings(layers, down);
    if (c < bestCrossings) {
      bestCrossings = c;
      best = layers.map((ls) => [...ls]);
    }
  }
  best.forEach((ls, l) => (layers[l] = ls));
  setOrder();

  // 5. x: pack, then pull each vertex towards its neighbours (dummies weigh more: straight edges).
  for (const ls of layers) {
    let x = 0;
    for (const v of ls) {
      const vx = verts[v]!;
      vx.x = x + vx.width / 2;
      x += vx.width + gap(vx);
    }
  }
  for (let iter = 0; iter < 8; iter++) {
    const both = iter >= 6;
    if (iter % 2 === 0 || both)
      for (let l = 1; l < layerCount; l++) align(layers[l]!, verts, up, both ? down : undefined);
    if (iter % 2 === 1 || both)
      for (let l = layerCount - 2; l >= 0; l--) align(layers[l]!, verts, down, both ? up : undefined);
  }
  let minX = Infinity;
  let maxX = -Infinity;
  straighten(chains, verts, layers);
  for (const v of verts) {
    minX = Math.min(minX, v.x - v.width / 2);
    maxX = Math.max(maxX, v.x + v.width / 2);
  }
  if (!Number.isFinite(minX)) {
    minX = 0;
    maxX = 0;
  }
  for (const v of verts) v.x -= minX;

  // 6. y: layer bands as tall as their tallest vertex.
  const top: number[] = [];
  const bottom: number[] = [];
  let y = 0;
  for (let l = 0; l < layerCount; l++) {
    const h = layers[l]!.reduce((m, v) => Math.max(m, verts[v]!.height), 0);
    top.push(y);
    bottom.push(y + h);
    y += h + (h === 0 ? METRICS.layerGap / 2 : METRICS.layerGap);
  }
  const height = layerCount === 0 ? 0 : bottom[layerCount - 1]!;
  const result: LocalLayout = { width: maxX - minX, height, nodes: boxes, edges: [] };
  verts.forEach((v) => {
    if (v.node < 0) return;
    const b = boxes[v.node]!.box;
    b.x = v.x - b.width / 2;
    b.y = top[v.layer]! + (bottom[v.layer]! - top[v.layer]! - b.height) / 2;
  });

  // 7. Routing: ports spread along the bottom (out) and top (in) of each box, ordered by where
  // the edge goes, so that parallel edges and fans do not sit on top of each other.
  const portsOut = new Map<number, number[]>();
  const portsIn = new Map<number, number[]>();
  edges.forEach((e, ei) => {
    const chain = chains[ei]!;
    if (chain.length < 2) return;
    pushTo(portsOut, chain[0]!, ei);
    pushTo(portsIn, chain[chain.length - 1]!, ei);
  });
  const portX = new Map<string, number>();
  const spread = (ports: Map<number, number[]>, side: 'out' | 'in') => {
    for (const [v, list] of ports) {
      const vx = verts[v]!;
      const b = boxes[vx.node]!.box;
      const other = (ei: number) => {
        const c = chains[ei]!;
        return verts[side === 'out' ? c[1]! : c[c.length - 2]!]!.x;
      };
      const sorted = [...list].sort((a, c) => other(a) - other(c) || a - c);
      const usable = Math.min(b.width * 0.7, sorted.length * 18);
      sorted.forEach((ei, k) => {
        const x =
          b.x + b.width / 2 + (sorted.length === 1 ? 0 : -usable / 2 + (usable * k) / (sorted.length - 1));
        portX.set(`${side}${ei}`, x);
      });
    }
  };
  spread(portsOut, 'out');
  spread(portsIn, 'in');

  edges.forEach((e, ei) => {
    if (e.from === e.to) {
      const b = boxes[index.get(e.from)!]!.box;
      const r = b.x + b.width;
      const cy = b.y + b.height / 2;
      result.edges.push({
        edge: e,
        points: [
          { x: r, y: cy - 6 },
          { x: r + 18, y: cy - 6 },
          { x: r + 18, y: cy + 6 },
          { x: r, y: cy + 6 },
        ],
      });
      return;
    }
    const chain = chains[ei]!;
    const a = verts[chain[0]!]!;
    const b = verts[chain[chain.length - 1]!]!;
    const ab = boxes[a.node]!.box;
    const bb = boxes[b.node]!.box;
    const pts: Point[] = [];
    const sx = portX.get(`out${ei}`)!;
    pts.push({ x: sx, y: ab.y + ab.height });
    pts.push({ x: sx, y: bottom[a.layer]! });
    let label: EdgeLabelBox | undefined;
    for (let k = 1; k + 1 < chain.length; k++) {
      const d = verts[chain[k]!]!;
      pts.push({ x: d.x, y: top[d.layer]! });
      pts.push({ x: d.x, y: bottom[d.layer]! });
      if (d.label) {
        label = {
          x: d.x,
          y: (top[d.layer]! + bottom[d.layer]!) / 2,
          width: d.width,
          height: d.height,
          lines: d.label,
        };
      }
    }
    const tx = portX.get(`in${ei}`)!;
    pts.push({ x: tx, y: top[b.layer]! });
    pts.push({ x: tx, y: bb.y });
    const points = simplify(pts);
    if (reversed.has(ei)) points.reverse();
    const path: EdgePath = { edge: e, points };
    if (label) path.label = label;
    result.edges.push(path);
  });
  return result;
}

/**
 * Long edges zigzag when each dummy is pulled separately; this lines up runs of a chain's dummies
 * on one x wherever their layer has room between the neighbours.
 */
function straighten(chains: number[][], verts: Vertex[], layers: number[][]): void {
  const bounds = (d: number): [number, number] => {
    const v = verts[d]!;
    const layer = layers[v.layer]!;
    const left = layer[v.order - 1];
    const right = layer[v.order + 1];
    const lo =
      left === undefined
        ? -Infinity
        : verts[left]!.x + verts[left]!.width / 2 + gap(verts[left]!) + v.width / 2;
    const hi =
      right === undefined ? Infinity : verts[right]!.x - verts[right]!.width / 2 - gap(v) - v.width / 2;
    return [lo, hi];
  };
  for (const chain of chains) {
    const dummies = chain.slice(1, -1);
    let k = 0;
    while (k < dummies.length) {
      // The longest run from k that can share one of its members' x.
      let bestEnd = k;
      let bestX = verts[dummies[k]!]!.x;
      for (let a = k; a < dummies.length; a++) {
        const x = verts[dummies[a]!]!.x;
        let end = k;
        while (end < dummies.length) {
          const [lo, hi] = bounds(dummies[end]!);
          if (x < lo || x > hi) break;
          end++;
        }
        if (end - 1 > bestEnd) {
          bestEnd = end - 1;
          bestX = x;
        }
      }
      for (let j = k; j <= bestEnd; j++) verts[dummies[j]!]!.x = bestX;
      k = bestEnd + 1;
    }
  }
}

function rootRank(n: GraphNode): number {
  return n.kind === 'start' ? 0 : n.kind === 'state' ? 1 : 2;
}

function pushTo(m: Map<number, number[]>, k: number, v: number): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function gap(v: Vertex): number {
  return v.dummy ? METRICS.nodeGap / 2 : METRICS.nodeGap;
}

function labelLines(label: string): string[] {
  return wrapText(label, METRICS.maxLabelWidth, METRICS.labelSize, 2);
}

/** Drops repeated points and the middle of straight runs. */
function simplify(pts: Point[]): Point[] {
  const out: Point[] = [];
  for (const p of pts) {
    const last = out[out.length - 1];
    if (last && Math.abs(last.x - p.x) < 0.01 && Math.abs(last.y - p.y) < 0.01) continue;
    const prev = out[out.length - 2];
    if (last && prev && collinear(prev, last, p)) out[out.length - 1] = p;
    else out.push(p);
  }
  return out;
}

function collinear(a: Point, b: Point, c: Point): boolean {
  return Math.abs((b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)) < 0.01;
}

function sortByBarycenter(layer: number[], adj: number[][], verts: Vertex[]): void {
  const key = new Map<number, number>();
  for (const v of layer) {
    const ns = adj[v]!;
    key.set(v, ns.length === 0 ? verts[v]!.order : ns.reduce((s, w) => s + verts[w]!.order, 0) / ns.length);
  }
  // Stable: ties keep the current order.
  layer.sort((a, b) => key.get(a)! - key.get(b)! || verts[a]!.order - verts[b]!.order);
  layer.forEach((v, i) => (verts[v]!.order = i));
}

/** Crossings between consecutive layers, by counting inversions with a Fenwick tree. */
function crossings(layers: number[][], down: number[][]): number {
  let total = 0;
  for (let l = 0; l + 1 < layers.length; l++) {
    const upper = layers[l]!;
    const lower = layers[l + 1]!;
    const at = new Map<number, number>();
    lower.forEach((v, i) => at.set(v, i));
    const pairs: [number, number][] = [];
    upper.forEach((v, i) => {
      for (const w of down[v]!) {
        const j = at.get(w);
        if (j !== undefined) pairs.push([i, j]);
      }
    });
    pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const tree = new Int32Array(lower.length + 1);
    let seenCount = 0;
    for (const [, j] of pairs) {
      // Count earlier edges that end to the right of j.
      let le = 0;
      for (let k = j + 1; k > 0; k -= k & -k) le += tree[k]!;
      total += seenCount - le;
      for (let k = j + 1; k <= lower.length; k += k & -k) tree[k]!++;
      seenCount++;
    }
  }
  return total;
}

/**
 * Moves a layer's vertices as close as possible to the mean x of their neighbours while keeping
 * their order and spacing: weighted isotonic regression (pool adjacent violators) on x minus the
 * cumulative spacing.
 */
function align(layer: number[], verts: Vertex[], adj: number[][], adj2?: number[][]): void {
  const m = layer.length;
  if (m === 0) return;
  const offset: number[] = [];
  const target: number[] = [];
  const weight: number[] = [];
  let c = 0;
  for (let i = 0; i < m; i++) {
    const v = verts[layer[i]!]!;
    if (i > 0) {
      const p = verts[layer[i - 1]!]!;
      c += p.width / 2 + Math.max(gap(p), gap(v)) + v.width / 2;
    }
    offset.push(c);
    let sum = 0;
    let count = 0;
    for (const w of adj[layer[i]!]!) {
      sum += verts[w]!.x;
      count++;
    }
    if (adj2)
      for (const w of adj2[layer[i]!]!) {
        sum += verts[w]!.x;
        count++;
      }
    target.push((count === 0 ? v.x : sum / count) - c);
    weight.push(count === 0 ? 0.01 : v.dummy ? 4 * count : count);
  }
  // Pool adjacent violators: blocks of (mean, weight, size) with non-decreasing means.
  const mean: number[] = [];
  const w: number[] = [];
  const size: number[] = [];
  for (let i = 0; i < m; i++) {
    mean.push(target[i]!);
    w.push(weight[i]!);
    size.push(1);
    while (mean.length > 1 && mean[mean.length - 2]! > mean[mean.length - 1]!) {
      const m2 = mean.pop()!;
      const w2 = w.pop()!;
      const s2 = size.pop()!;
      const k = mean.length - 1;
      const tw = w[k]! + w2;
      mean[k] = (mean[k]! * w[k]! + m2 * w2) / tw;
      w[k] = tw;
      size[k]! += s2;
    }
  }
  let i = 0;
  for (let b = 0; b < mean.length; b++) {
    for (let s = 0; s < size[b]!; s++, i++) verts[layer[i]!]!.x = mean[b]! + offset[i]!;
  }
}

// ---------------------------------------------------------------------------------------------
// Node sizes and groups

function sizeNode(node: GraphNode, depth: number): LocalLayout['nodes'][number] {
  const M = METRICS;
  const base: NodeBox = { node, x: 0, y: 0, width: 0, height: 0, lines: [], detail: '', group: false };
  if (node.kind === 'start' || node.kind === 'end') {
    base.lines = [node.kind === 'start' ? 'Start' : 'End'];
    base.width = 64;
    base.height = 28;
    return { box: base, inner: [] };
  }
  base.lines = wrapText(node.name === '' ? ' ' : node.name, M.maxNameWidth, M.nameSize, 3, true);
  const detailText =
    node.kind === 'missing' ? 'missing state' : node.detail ? `${node.type} · ${node.detail}` : node.type;
  base.detail = truncateText(detailText, M.maxNameWidth, M.detailSize);
  const textW = Math.max(
    ...base.lines.map((s) => textWidth(s, M.nameSize, true)),
    textWidth(base.detail, M.detailSize),
  );
  const retryW = node.retry ? 44 : 0;
  base.width = Math.ceil(Math.max(M.minWidth, textW + 2 * M.padX + retryW));
  base.height = base.lines.length * M.nameLine + 14 + 2 * M.padY;

  const subs = node.subgraphs;
  if (!subs || depth >= MAX_LEVEL_DEPTH) return { box: base, inner: [] };
  base.group = true;
  const inner = subs.map((g) => {
    const layout = layoutLevel(g, depth + 1);
    const frame: FrameBox = { id: g.id, label: g.label, owner: node.id, x: 0, y: 0, width: 0, height: 0 };
    frame.width = Math.max(layout.width, 80) + 2 * M.framePad;
    frame.height = M.frameHeader + Math.max(layout.height, 20) + M.framePad;
    return { frame, layout };
  });
  const frameH = inner.reduce((h, f) => Math.max(h, f.frame.height), 0);
  let x = M.framePad;
  const header = M.groupHeader + (base.lines.length - 1) * M.nameLine;
  for (const f of inner) {
    f.frame.height = frameH;
    f.frame.x = x;
    f.frame.y = header;
    x += f.frame.width + M.frameGap;
  }
  const contentW = inner.length === 0 ? 0 : x - M.frameGap + M.framePad;
  base.width = Math.ceil(Math.max(base.width, contentW));
  base.height = header + frameH + M.framePad;
  // Centre the frames when the title is wider than the branches.
  const shift = (base.width - contentW) / 2;
  if (shift > 0) for (const f of inner) f.frame.x += shift;
  return { box: base, inner };
}

/** Appends a level's boxes to `out`, shifted by (dx, dy), recursing into groups. */
function place(
  local: LocalLayout,
  dx: number,
  dy: number,
  frame: string | undefined,
  out: GraphLayout,
): void {
  for (const { box, inner } of local.nodes) {
    const placed: NodeBox = { ...box, x: box.x + dx, y: box.y + dy };
    if (frame !== undefined) placed.frame = frame;
    out.nodes.push(placed);
    for (const f of inner) {
      const fx = placed.x + f.frame.x;
      const fy = placed.y + f.frame.y;
      out.frames.push({ ...f.frame, x: fx, y: fy });
      // Centre the content in a frame made wider by its siblings or its minimum width.
      const cx = fx + (f.frame.width - f.layout.width) / 2;
      place(f.layout, cx, fy + METRICS.frameHeader, f.frame.id, out);
    }
  }
  for (const e of local.edges) {
    const moved: EdgePath = { edge: e.edge, points: e.points.map((p) => ({ x: p.x + dx, y: p.y + dy })) };
    if (e.label) moved.label = { ...e.label, x: e.label.x + dx, y: e.label.y + dy };
    out.edges.push(moved);
  }
}
