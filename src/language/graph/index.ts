/** Workflow graphs: definition → graph model → layout → SVG, Mermaid or DOT; execution outcomes. */
export type { EdgeKind, Graph, GraphEdge, GraphNode, NodeKind, RetrySummary } from './model.js';
export { allStateNodes, buildGraph, ruleText } from './model.js';
export type { EdgeLabelBox, EdgePath, FrameBox, GraphLayout, NodeBox, Point } from './layout.js';
export { layoutGraph } from './layout.js';
export type { ExecutionOutcomes, ExecutionStatus, StateOutcome, StateOutcomeInfo } from './outcomes.js';
export { outcomesFromHistory } from './outcomes.js';
export type { SvgOptions } from './svg.js';
export { OUTCOME_STYLE, renderSvg } from './svg.js';
export type { MermaidOptions } from './mermaid.js';
export { renderMermaid } from './mermaid.js';
export type { DotOptions } from './dot.js';
export { renderDot } from './dot.js';
