/**
 * The state machine graph: states in layers (breadth-first from StartAt), Map and Parallel states
 * drawn with their branches inside, edges measured from the laid-out boxes and drawn in SVG.
 * Each state is a button coloured by its outcome.
 */
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Outcome } from './history.js';

interface StateDef {
  Type?: string;
  Next?: string;
  Default?: string;
  End?: boolean;
  Choices?: { Next?: string }[];
  Catch?: { Next?: string }[];
  Branches?: FlowDef[];
  ItemProcessor?: FlowDef;
  Iterator?: FlowDef;
}
interface FlowDef {
  StartAt?: string;
  States?: Record<string, StateDef>;
}

export interface GraphProps {
  definition: string;
  outcomes?: Map<string, Outcome> | undefined;
  selected?: string | undefined;
  onSelect?: ((state: string) => void) | undefined;
}

export function parseDefinition(text: string): FlowDef | undefined {
  try {
    const d = JSON.parse(text) as unknown;
    return typeof d === 'object' && d !== null && 'States' in d ? (d as FlowDef) : undefined;
  } catch {
    return undefined;
  }
}

export function Graph(props: GraphProps) {
  const def = parseDefinition(props.definition);
  if (!def) return <p class="muted">This definition cannot be drawn.</p>;
  return (
    <div class="graph" role="group" aria-label="State machine graph">
      <Flow def={def} {...props} />
      {props.outcomes && <Legend />}
    </div>
  );
}

const LEGEND: [Outcome, string][] = [
  ['succeeded', 'Succeeded'],
  ['caught', 'Caught error'],
  ['failed', 'Failed'],
  ['running', 'Running'],
  ['notReached', 'Not reached'],
];

function Legend() {
  return (
    <ul class="legend" aria-label="Legend">
      {LEGEND.map(([o, label]) => (
        <li key={o}>
          <span class={`swatch o-${o}`} aria-hidden="true" /> {label}
        </li>
      ))}
    </ul>
  );
}

function successors(s: StateDef): { to: string; kind: 'next' | 'catch' }[] {
  const out: { to: string; kind: 'next' | 'catch' }[] = [];
  if (s.Next) out.push({ to: s.Next, kind: 'next' });
  if (s.Default) out.push({ to: s.Default, kind: 'next' });
  for (const c of s.Choices ?? []) if (c.Next) out.push({ to: c.Next, kind: 'next' });
  for (const c of s.Catch ?? []) if (c.Next) out.push({ to: c.Next, kind: 'catch' });
  return out;
}

function layers(def: FlowDef): string[][] {
  const states = def.States ?? {};
  const depth = new Map<string, number>();
  const queue: string[] = [];
  if (def.StartAt && states[def.StartAt]) {
    depth.set(def.StartAt, 0);
    queue.push(def.StartAt);
  }
  while (queue.length > 0) {
    const name = queue.shift()!;
    for (const { to } of successors(states[name] ?? {})) {
      if (states[to] && !depth.has(to)) {
        depth.set(to, depth.get(name)! + 1);
        queue.push(to);
      }
    }
  }
  let max = Math.max(-1, ...depth.values());
  for (const name of Object.keys(states)) if (!depth.has(name)) depth.set(name, ++max);
  const rows: string[][] = [];
  for (const [name, d] of depth) (rows[d] ??= []).push(name);
  return rows.filter((r) => r !== undefined);
}

interface Edge {
  d: string;
  kind: 'next' | 'catch';
}

function Flow({ def, outcomes, selected, onSelect }: GraphProps & { def: FlowDef }) {
  const ref = useRef<HTMLDivElement>(null);
  const [edges, setEdges] = useState<{ w: number; h: number; list: Edge[] }>({ w: 0, h: 0, list: [] });
  const states = def.States ?? {};
  const rows = layers(def);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      const box = el.getBoundingClientRect();
      const nodes = new Map<string, DOMRect>();
      for (const n of el.querySelectorAll<HTMLElement>(':scope > .layer > .node-wrap')) {
        nodes.set(n.dataset.wrap ?? '', n.getBoundingClientRect());
      }
      const list: Edge[] = [];
      for (const [name, s] of Object.entries(states)) {
        const a = nodes.get(name);
        for (const { to, kind } of successors(s)) {
          const b = nodes.get(to);
          if (!a || !b) continue;
          const x1 = a.left + a.width / 2 - box.left;
          const y1 = a.bottom - box.top;
          const x2 = b.left + b.width / 2 - box.left;
          const y2 = b.top - box.top;
          const back = y2 <= y1;
          const dy = back ? 40 : Math.max(12, (y2 - y1) / 2);
          list.push({
            kind,
            d: back
              ? `M${x1},${y1} C${x1 + 60},${y1 + dy} ${x2 + 60},${y2 - dy} ${x2},${y2 - 2}`
              : `M${x1},${y1} C${x1},${y1 + dy} ${x2},${y2 - dy} ${x2},${y2 - 2}`,
          });
        }
      }
      setEdges({ w: box.width, h: box.height, list });
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [def]);

  return (
    <div class="flow" ref={ref}>
      <svg class="edges" width={edges.w} height={edges.h} aria-hidden="true">
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 8 8"
            refX="7"
            refY="4"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L8,4 L0,8 z" class="arrowhead" />
          </marker>
        </defs>
        {edges.list.map((e, i) => (
          <path key={i} d={e.d} class={`edge ${e.kind}`} marker-end="url(#arrow)" />
        ))}
      </svg>
      {rows.map((row, i) => (
        <div class="layer" key={i}>
          {row.map((name) => {
            const s = states[name] ?? {};
            const outcome = outcomes ? (outcomes.get(name) ?? 'notReached') : undefined;
            const nested =
              s.Type === 'Parallel'
                ? (s.Branches ?? [])
                : s.Type === 'Map'
                  ? [s.ItemProcessor ?? s.Iterator ?? {}]
                  : [];
            return (
              <div class={`node-wrap${nested.length ? ' compound' : ''}`} data-wrap={name} key={name}>
                <button
                  type="button"
                  class={`node${outcome ? ` o-${outcome}` : ''}${selected === name ? ' selected' : ''}`}
                  data-state={name}
                  data-outcome={outcome}
                  aria-pressed={selected === name}
                  aria-label={`${name} (${s.Type ?? 'state'})${outcome ? `: ${outcome}` : ''}`}
                  onClick={() => onSelect?.(name)}
                >
                  <span class="node-name">{name}</span>
                  <span class="node-type">
                    {s.Type}
                    {s.End || s.Type === 'Succeed' || s.Type === 'Fail' ? ' · end' : ''}
                  </span>
                </button>
                {nested.length > 0 && (
                  <div class="branches">
                    {nested.map((b, j) => (
                      <div class="branch" key={j}>
                        <Flow
                          def={b}
                          definition=""
                          outcomes={outcomes}
                          selected={selected}
                          onSelect={onSelect}
                        />
                      </div>
                    ))}
                  </div>
                )}
              </div>
            );
          })}
        </div>
      ))}
    </div>
  );
}
