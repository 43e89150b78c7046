/**
 * The state machine graph, laid out by the same code as `stepwise graph`
 * (`src/language/graph`: layered layout, nested Parallel/Map frames, Choice and Catch labels).
 * States are buttons placed at the layout's coordinates, coloured by their outcome; edges and
 * frames are drawn in SVG underneath.
 */
import { useMemo } from 'preact/hooks';
import { layoutGraph, type GraphLayout } from '../../src/language/graph/layout.js';
import { buildGraph } from '../../src/language/graph/model.js';
import type { Outcome } from './history.js';

export interface GraphProps {
  definition: string;
  outcomes?: Map<string, Outcome> | undefined;
  selected?: string | undefined;
  onSelect?: ((state: string) => void) | undefined;
}

function layoutOf(text: string): GraphLayout | undefined {
  let def: unknown;
  try {
    def = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof def !== 'object' || def === null || !('States' in def)) return undefined;
  return layoutGraph(buildGraph(def));
}

export function Graph({ definition, outcomes, selected, onSelect }: GraphProps) {
  const layout = useMemo(() => layoutOf(definition), [definition]);
  if (!layout) return <p class="muted">This definition cannot be drawn.</p>;
  const { width, height } = layout;
  return (
    <div class="graph" role="group" aria-label="State machine graph">
      <div class="canvas" style={{ width: `${width}px`, height: `${height}px` }}>
        <svg
          class="edges"
          width={width}
          height={height}
          viewBox={`0 0 ${width} ${height}`}
          aria-hidden="true"
        >
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
          {layout.frames.map((f) => (
            <g key={f.id} class="frame">
              <rect x={f.x} y={f.y} width={f.width} height={f.height} rx="8" />
              <text x={f.x + 8} y={f.y + 14}>
                {f.label}
              </text>
            </g>
          ))}
          {layout.edges.map((e) => (
            <path
              key={e.edge.id}
              d={e.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x},${p.y}`).join(' ')}
              class={`edge ${e.edge.kind}`}
              marker-end="url(#arrow)"
            />
          ))}
          {layout.edges.map((e) =>
            e.label ? (
              <g key={`${e.edge.id}-label`} class={`edge-label ${e.edge.kind}`}>
                <rect
                  x={e.label.x - e.label.width / 2}
                  y={e.label.y - e.label.height / 2}
                  width={e.label.width}
                  height={e.label.height}
                  rx="3"
                />
                {e.label.lines.map((line, i) => (
                  <text
                    key={i}
                    x={e.label!.x}
                    y={e.label!.y - e.label!.height / 2 + 11 + i * 13}
                    text-anchor="middle"
                  >
                    {line}
                  </text>
                ))}
              </g>
            ) : null,
          )}
        </svg>
        {layout.nodes.map((box) => {
          const style = {
            left: `${box.x}px`,
            top: `${box.y}px`,
            width: `${box.width}px`,
            height: `${box.height}px`,
          };
          const n = box.node;
          if (n.kind === 'start' || n.kind === 'end') {
            return (
              <span key={n.id} class="marker" style={style}>
                {n.kind === 'start' ? 'Start' : 'End'}
              </span>
            );
          }
          const outcome = outcomes ? (outcomes.get(n.name) ?? 'notReached') : undefined;
          return (
            <button
              type="button"
              key={n.id}
              class={`node${box.group ? ' group' : ''}${outcome ? ` o-${outcome}` : ''}${selected === n.name ? ' selected' : ''}`}
              style={style}
              data-state={n.name}
              data-outcome={outcome}
              aria-pressed={selected === n.name}
              aria-label={`${n.name} (${n.type})${outcome ? `: ${outcome}` : ''}`}
              title={n.comment}
              onClick={() => onSelect?.(n.name)}
            >
              <span class="node-name">{box.lines.join(' ')}</span>
              <span class="node-type">{box.detail || n.type}</span>
            </button>
          );
        })}
      </div>
      {outcomes && <Legend />}
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
