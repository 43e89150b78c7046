// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { JsonObject, JsonValue } from '../json.js';
import { isJsonObject, setOwn } from '../json.js';
import { renderDot } from './dot.js';
import type { GraphLayout } from './layout.js';
import { layoutGraph } from './layout.js';
import { renderMermaid } from './mermaid.js';
import type { Graph } from './model.js';
import { allStateNodes, buildGraph, ruleText } from './model.js';
import { outcomesFromHistory } from './outcomes.js';
import { renderSvg } from './svg.js';
import { truncateText, wrapText } from './text.js';

// Compiled to dist/language/graph/graph.test.js: the repo root is four levels up from the file.
const compiledRoot = fileURLToPath(new URL('../../../', import.meta.url));
const repoRoot = existsSync(join(compiledRoot, 'package.json')) ? compiledRoot : process.cwd();
const defsDir = join(repoRoot, '../shared/realworld/defs');
const examplesDir = join(repoRoot, 'examples');

// ---------------------------------------------------------------------------------------------
// Helpers

/** A small XML well-formedness check: tags balance, attributes are quoted and unique, entities valid. */
export function checkXml(text: string): void {
  let i = 0;
  const stack: string[] = [];
  let roots = 0;
  const fail = (why: string): never => assert.fail(`not well-formed XML at ${i}: ${why}`);
  const isNameChar = (c: string | undefined) =>
    c !== undefined && (c === '-' || c === '_' || c === ':' || c === '.' || /[A-Za-z0-9]/.test(c));
  const name = (): string => {
    const start = i;
    while (isNameChar(text[i])) i++;
    if (i === start) fail('expected a name');
    return text.slice(start, i);
  };
  const space = () => {
    while (text[i] === ' ' || text[i] === '\n' || text[i] === '\t' || text[i] === '\r') i++;
  };
  const entity = () => {
    const end = text.indexOf(';', i);
    if (end < 0 || end - i > 10) fail('unterminated entity');
    const body = text.slice(i + 1, end);
    if (!['amp', 'lt', 'gt', 'quot', 'apos'].includes(body) && !/^#([0-9]+|x[0-9a-fA-F]+)$/.test(body))
      fail(`unknown entity &${body};`);
    i = end + 1;
  };
  space();
  if (text.startsWith('<?xml', i)) i = text.indexOf('?>', i) + 2;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '<') {
      if (text.startsWith('<!--', i)) {
        const end = text.indexOf('-->', i);
        if (end < 0) fail('unterminated comment');
        i = end + 3;
      } else if (text[i + 1] === '/') {
        i += 2;
        const n = name();
        space();
        if (text[i] !== '>') fail('expected >');
        i++;
        if (stack.pop() !== n) fail(`unbalanced </${n}>`);
      } else {
        i++;
        const n = name();
        if (stack.length === 0) roots++;
        const attrs = new Set<string>();
        for (;;) {
          space();
          if (text[i] === '/' && text[i + 1] === '>') {
            i += 2;
            break;
          }
          if (text[i] === '>') {
            i++;
            stack.push(n);
            break;
          }
          const a = name();
          if (attrs.has(a)) fail(`duplicate attribute ${a}`);
          attrs.add(a);
          space();
          if (text[i] !== '=') fail('expected =');
          i++;
          space();
          const q = text[i];
          if (q !== '"' && q !== "'") fail('unquoted attribute');
          i++;
          while (text[i] !== q) {
            if (i >= text.length || text[i] === '<') fail('bad attribute value');
            if (text[i] === '&') entity();
            else i++;
          }
          i++;
        }
      }
    } else if (c === '&') {
      entity();
    } else {
      if (stack.length === 0 && !/\s/.test(c)) fail('text outside the root element');
      i++;
    }
  }
  if (stack.length > 0) fail(`unclosed <${stack[stack.length - 1]!}>`);
  if (roots !== 1) fail(`${roots} root elements`);
}

/** Layout invariants: no overlaps (except a group and what it holds), nesting inside frames. */
function checkLayout(layout: GraphLayout): void {
  const frames = new Map(layout.frames.map((f) => [f.id, f]));
  const boxes = new Map(layout.nodes.map((b) => [b.node.id, b]));
  const ancestors = (id: string): Set<string> => {
    const out = new Set<string>();
    let frame = boxes.get(id)?.frame;
    while (frame !== undefined) {
      const owner = frames.get(frame)!.owner;
      out.add(owner);
      frame = boxes.get(owner)?.frame;
    }
    return out;
  };
  const within = (
    inner: { x: number; y: number; width: number; height: number },
    outer: { x: number; y: number; width: number; height: number },
  ) =>
    inner.x >= outer.x - 0.01 &&
    inner.y >= outer.y - 0.01 &&
    inner.x + inner.width <= outer.x + outer.width + 0.01 &&
    inner.y + inner.height <= outer.y + outer.height + 0.01;
  const overlap = (
    a: { x: number; y: number; width: number; height: number },
    b: { x: number; y: number; width: number; height: number },
  ) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

  const canvas = { x: 0, y: 0, width: layout.width, height: layout.height };
  const all = layout.nodes;
  for (let i = 0; i < all.length; i++) {
    const a = all[i]!;
    assert.ok(Number.isFinite(a.x) && Number.isFinite(a.y), `finite coordinates for ${a.node.id}`);
    assert.ok(within(a, canvas), `${a.node.name || a.node.kind} inside the canvas`);
    if (a.frame !== undefined) {
      assert.ok(within(a, frames.get(a.frame)!), `${a.node.name} inside its frame ${a.frame}`);
    }
    const up = ancestors(a.node.id);
    for (let j = i + 1; j < all.length; j++) {
      const b = all[j]!;
      if (up.has(b.node.id) || ancestors(b.node.id).has(a.node.id)) continue;
      assert.ok(!overlap(a, b), `${a.node.name || a.node.kind} and ${b.node.name || b.node.kind} overlap`);
    }
  }
  for (const f of layout.frames) assert.ok(within(f, boxes.get(f.owner)!), `frame ${f.id} inside its group`);
  for (const e of layout.edges) {
    assert.ok(e.points.length >= 2, `edge ${e.edge.id} has a path`);
    for (const p of e.points) assert.ok(Number.isFinite(p.x) && Number.isFinite(p.y));
    if (!e.label) continue;
    const l = e.label;
    const box = { x: l.x - l.width / 2, y: l.y - l.height / 2, width: l.width, height: l.height };
    for (const b of all) {
      if (b.group) continue;
      assert.ok(!overlap(box, b), `label of ${e.edge.id} overlaps ${b.node.name}`);
    }
  }
}

/** Fields whose placeholder SAM would fill with a number (`"Seconds": "${Timeout}"`). */
const NUMERIC =
  /^(Seconds|TimeoutSeconds|HeartbeatSeconds|MaxConcurrency|MaxAttempts|IntervalSeconds|ToleratedFailureCount|ToleratedFailurePercentage|MaxItems|BackoffRate|MaxDelaySeconds)$/;

/** Fills `${Key}` placeholders with plausible deploy-time values. */
function substitute(v: JsonValue, field: string): JsonValue {
  if (typeof v === 'string') {
    const whole = /^\$\{([^}]+)\}$/.exec(v);
    if (whole && NUMERIC.test(field)) return 60;
    return v.replace(/\$\{([A-Za-z0-9_.:-]+)\}/g, (_m, k: string) =>
      whole !== null && field === 'Resource' ? `arn:aws:lambda:us-east-1:123456789012:function:${k}` : k,
    );
  }
  if (Array.isArray(v)) return v.map((x) => substitute(x, field));
  if (isJsonObject(v)) {
    const out: JsonObject = {};
    for (const k of Object.keys(v)) setOwn(out, k, substitute(v[k]!, k));
    return out;
  }
  return v;
}

function example(name: string): JsonValue {
  return JSON.parse(readFileSync(join(examplesDir, name, `${name}.asl.json`), 'utf8')) as JsonValue;
}

function stateCount(svg: string): number {
  return svg.split(' data-state="').length - 1;
}

// ---------------------------------------------------------------------------------------------

describe('graph model', () => {
  it('builds nodes, start/end markers and labelled edges of the approval example', () => {
    const g = buildGraph(example('approval'));
    assert.deepEqual(
      allStateNodes(g).map((n) => `${n.name}:${n.type}`),
      [
        'CheckResults:Choice',
        'EngineeringApproval:Task',
        'ResearchApproval:Task',
        'Rejected:Fail',
        'Approved:Succeed',
      ],
    );
    const name = new Map(g.nodes.map((n) => [n.id, n.kind === 'state' ? n.name : n.kind]));
    const edges = g.edges.map(
      (e) => `${name.get(e.from)} -${e.kind}${e.label ? `[${e.label}]` : ''}-> ${name.get(e.to)}`,
    );
    assert.deepEqual(edges, [
      'start -start-> CheckResults',
      'CheckResults -choice[$.accuracypct < 96]-> ResearchApproval',
      'CheckResults -choice[$.latencyMs > 80]-> EngineeringApproval',
      'CheckResults -default[Default]-> Approved',
      'EngineeringApproval -next-> Approved',
      'EngineeringApproval -catch[Catch HandledError]-> Rejected',
      'ResearchApproval -next-> Approved',
      'ResearchApproval -catch[Catch HandledError]-> Rejected',
      'Rejected -end-> end',
      'Approved -end-> end',
    ]);
  });

  it('nests Parallel branches and Map processors, with retries as badges', () => {
    const g = buildGraph({
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } },
            {
              StartAt: 'M',
              States: {
                M: {
                  Type: 'Map',
                  ItemProcessor: {
                    ProcessorConfig: { Mode: 'DISTRIBUTED' },
                    StartAt: 'T',
                    States: {
                      T: {
                        Type: 'Task',
                        Resource: 'arn:aws:states:::lambda:invoke',
                        Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 3 }],
                        End: true,
                      },
                    },
                  },
                  End: true,
                },
              },
            },
          ],
          End: true,
        },
      },
    });
    const p = g.nodes.find((n) => n.name === 'P')!;
    assert.deepEqual(
      p.subgraphs!.map((s) => s.label),
      ['Branch 1', 'Branch 2'],
    );
    const m = p.subgraphs![1]!.nodes.find((n) => n.name === 'M')!;
    assert.equal(m.detail, 'distributed');
    const t = m.subgraphs![0]!.nodes[0]!;
    assert.deepEqual(t.retry, [{ errors: ['States.ALL'], maxAttempts: 3 }]);
    assert.equal(t.detail, 'lambda:invoke');
    // No start/end markers inside branches.
    assert.ok(p.subgraphs!.every((s) => s.nodes.every((n) => n.kind === 'state')));
  });

  it('writes Choice rules as text, JSONPath and JSONata', () => {
    assert.equal(ruleText({ Variable: '$.a', StringEquals: 'x' }, 0), '$.a == "x"');
    assert.equal(ruleText({ Variable: '$.a', NumericGreaterThanEqualsPath: '$.b' }, 0), '$.a >= $.b');
    assert.equal(
      ruleText(
        { And: [{ Variable: '$.a', IsPresent: true }, { Not: { Variable: '$.b', IsNull: false } }] },
        0,
      ),
      'And(IsPresent($.a), Not(!IsNull($.b)))',
    );
    assert.equal(ruleText({ Variable: '$.t', StringMatches: 'log-*' }, 0), '$.t matches "log-*"');
    assert.equal(ruleText({ Condition: '{% $states.input.n > 3 %}' }, 0), '$states.input.n > 3');
  });

  it('draws what the compiler would reject instead of throwing', () => {
    for (const def of [null, 42, 'text', [], {}, { States: 5 }, { StartAt: 'X', States: { A: 7 } }]) {
      const g = buildGraph(def);
      checkXml(renderSvg(g));
      renderMermaid(g);
      renderDot(g);
    }
    const g = buildGraph({
      StartAt: 'A',
      States: { A: { Type: 'Frobnicate', Next: 'Nowhere' }, B: { Type: 'Task', Resource: 'x', Next: 'B' } },
    });
    assert.ok(g.nodes.some((n) => n.kind === 'missing' && n.name === 'Nowhere'));
    const layout = layoutGraph(g);
    checkLayout(layout);
    assert.ok(
      layout.edges.some((e) => e.edge.from === e.edge.to),
      'self-loop routed',
    );
  });
});

describe('graph layout', () => {
  it('is deterministic and keeps its invariants on the examples', () => {
    for (const name of ['approval', 'calculation', 'parallel-wait']) {
      const g = buildGraph(example(name));
      const a = layoutGraph(g);
      checkLayout(a);
      assert.deepEqual(layoutGraph(buildGraph(example(name))), a);
    }
  });

  it('layers top-down: a Next target sits below its source unless the edge closes a loop', () => {
    const g = buildGraph(example('calculation'));
    const l = layoutGraph(g);
    const y = new Map(l.nodes.map((b) => [b.node.id, b.y]));
    for (const e of g.edges) assert.ok(y.get(e.to)! > y.get(e.from)!, `${e.from} above ${e.to}`);
  });

  // Its speed is measured by `npm run bench:language`, not here.
  it('lays out 2,000 states with loops', () => {
    const states: JsonObject = {};
    const n = 2000;
    for (let i = 0; i < n; i++) {
      const next = `S${i + 1}`;
      if (i === n - 1) states[`S${i}`] = { Type: 'Succeed' };
      else if (i % 10 === 5)
        states[`S${i}`] = {
          Type: 'Choice',
          Choices: [
            { Variable: '$.x', NumericLessThan: i, Next: next },
            { Variable: '$.y', StringEquals: 'again', Next: `S${i - 4}` },
          ],
          Default: `S${Math.min(n - 1, i + 3)}`,
        };
      else if (i % 10 === 7)
        states[`S${i}`] = {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:123456789012:function:F',
          Catch: [{ ErrorEquals: ['States.ALL'], Next: `S${Math.min(n - 1, i + 8)}` }],
          Next: next,
        };
      else states[`S${i}`] = { Type: 'Pass', Next: next };
    }
    const g = buildGraph({ StartAt: 'S0', States: states });
    const svg = renderSvg(g, { layout: layoutGraph(g) });
    assert.equal(stateCount(svg), n);
  });
});

describe('graph rendering', () => {
  it('renders well-formed SVG with one node per state, and Mermaid and DOT', () => {
    const g = buildGraph(example('parallel-wait'));
    const svg = renderSvg(g);
    checkXml(svg);
    assert.equal(stateCount(svg), 6);
    assert.match(svg, /class="edge-label|class="frame"/);
    const mmd = renderMermaid(g);
    assert.match(mmd, /^flowchart TD\n/);
    assert.match(mmd, /subgraph s\d+ \["Fulfil \(Parallel\)"\]/);
    const dot = renderDot(g);
    assert.match(dot, /^digraph workflow \{/);
    assert.match(dot, /subgraph cluster_s\d+ \{/);
    assert.equal(dot.split('{').length, dot.split('}').length, 'balanced braces');
  });

  it('escapes hostile state names', () => {
    const name = 'a<b>&"c\' #1 |x| ]] \u0001';
    const g = buildGraph({ StartAt: name, States: { [name]: { Type: 'Pass', End: true } } });
    checkXml(renderSvg(g));
    const line = renderMermaid(g).split('\n')[2]!;
    const label = line.slice(line.indexOf('"') + 1, line.lastIndexOf('"')).replace(/<br\/>|<\/?small>/g, '');
    assert.equal(label, "a#60;b#62;#38;#34;c' #35;1 #124;x#124; ]]  Pass");
    assert.match(renderDot(g), /label="a<b>&\\"c' #1 \|x\| ]] {2}\\nPass"/);
  });

  it('colours states by outcome, with a legend', () => {
    const g = buildGraph(example('approval'));
    const outcomes = new Map([
      ['CheckResults', { outcome: 'succeeded' as const, entered: 1 }],
      ['ResearchApproval', { outcome: 'caught' as const, entered: 1, error: 'HandledError' }],
      ['Rejected', { outcome: 'failed' as const, entered: 1 }],
    ]);
    const svg = renderSvg(g, { outcomes });
    checkXml(svg);
    assert.match(svg, /Caught error/);
    assert.match(svg, /Not reached/);
    assert.match(renderMermaid(g, { outcomes }), /class s\d+ caught/);
    assert.match(renderDot(g, { outcomes }), /fillcolor="#ffe9cc"/);
  });

  it('wraps and truncates text to the given width', () => {
    // Long camelCase names break where a word starts.
    assert.deepEqual(wrapText('CheckCustomerAddressDimensionLoadStatus', 150, 13, 3, true), [
      'CheckCustomer',
      'AddressDimension',
      'LoadStatus',
    ]);
    assert.equal(wrapText('one two three four five six seven', 40, 13, 2).length, 2);
    assert.match(wrapText('one two three four five six seven', 40, 13, 2)[1]!, /…$/);
    assert.match(truncateText('x'.repeat(200), 100, 11), /…$/);
  });
});

describe('execution outcomes', () => {
  let id = 0;
  const ev = (type: string, prev: number, details: Record<string, unknown> = {}) => ({
    id: ++id,
    previousEventId: prev,
    timestamp: new Date(0).toISOString(),
    type,
    ...details,
  });
  const entered = (type: string, name: string, prev: number) =>
    ev(`${type}StateEntered`, prev, { stateEnteredEventDetails: { name } });
  const exited = (type: string, name: string, prev: number) =>
    ev(`${type}StateExited`, prev, { stateExitedEventDetails: { name } });

  it('tells succeeded, caught, retried, failed and not reached apart', () => {
    id = 0;
    const events = [
      ev('ExecutionStarted', 0),
      entered('Task', 'Flaky', 1), // 2
      ev('TaskScheduled', 2),
      ev('TaskFailed', 3, { taskFailedEventDetails: { error: 'Busy' } }),
      ev('TaskScheduled', 4),
      ev('TaskSucceeded', 5),
      exited('Task', 'Flaky', 6), // 7: retried, then succeeded
      entered('Task', 'Caught', 7), // 8
      ev('TaskScheduled', 8),
      ev('TaskFailed', 9, { taskFailedEventDetails: { error: 'Boom', cause: 'why' } }),
      exited('Task', 'Caught', 10), // 11
      entered('Fail', 'Stop', 11), // 12
      ev('ExecutionFailed', 12),
    ];
    const { status, states } = outcomesFromHistory({ events });
    assert.equal(status, 'FAILED');
    assert.deepEqual(Object.fromEntries(states), {
      Flaky: { outcome: 'succeeded', entered: 1, error: 'Busy' },
      Caught: { outcome: 'caught', entered: 1, error: 'Boom', cause: 'why' },
      Stop: { outcome: 'failed', entered: 1 },
    });
  });

  it('follows previousEventId through interleaved Parallel branches', () => {
    id = 0;
    const events = [
      ev('ExecutionStarted', 0),
      entered('Parallel', 'P', 1), // 2
      ev('ParallelStateStarted', 2), // 3
      entered('Task', 'A', 3), // 4
      entered('Task', 'B', 3), // 5
      ev('TaskScheduled', 5), // 6 (B)
      ev('TaskScheduled', 4), // 7 (A)
      ev('TaskFailed', 6, { taskFailedEventDetails: { error: 'BErr' } }), // 8 (B)
      ev('TaskSucceeded', 7), // 9 (A)
      exited('Task', 'A', 9), // 10
      ev('ParallelStateFailed', 8, { parallelStateFailedEventDetails: { error: 'BErr' } }), // 11
      ev('ExecutionFailed', 11),
    ];
    const { states } = outcomesFromHistory(events);
    assert.equal(states.get('A')?.outcome, 'succeeded');
    assert.equal(states.get('B')?.outcome, 'failed');
    assert.equal(states.get('B')?.error, 'BErr');
    assert.equal(states.get('P')?.outcome, 'failed');
  });

  it('marks open states running, or cancelled after an abort', () => {
    id = 0;
    const events = [ev('ExecutionStarted', 0), entered('Wait', 'W', 1)];
    assert.equal(outcomesFromHistory(events).states.get('W')?.outcome, 'running');
    assert.equal(outcomesFromHistory(events).status, 'RUNNING');
    events.push(ev('ExecutionAborted', 2));
    assert.equal(outcomesFromHistory(events).states.get('W')?.outcome, 'cancelled');
  });

  it('aggregates Map iterations, the worst outcome winning', () => {
    id = 0;
    const events = [
      ev('ExecutionStarted', 0),
      entered('Map', 'M', 1), // 2
      ev('MapStateStarted', 2), // 3
      ev('MapIterationStarted', 3), // 4
      entered('Pass', 'Item', 4), // 5
      exited('Pass', 'Item', 5), // 6
      ev('MapIterationSucceeded', 6), // 7
      ev('MapIterationStarted', 3), // 8
      entered('Pass', 'Item', 8), // 9
    ];
    const { states } = outcomesFromHistory(events);
    assert.deepEqual(states.get('Item'), { outcome: 'running', entered: 2 });
    assert.equal(states.get('M')?.outcome, 'running');
  });

  it('ignores garbage', () => {
    assert.equal(outcomesFromHistory(null).states.size, 0);
    assert.equal(outcomesFromHistory([1, 'x', null, { type: 7 }]).states.size, 0);
  });
});

describe('real-world definitions render', () => {
  if (!existsSync(defsDir)) {
    it('real-world corpus', (t) => {
      const why = `SKIPPED: ${defsDir} is missing (../shared/realworld next to the repository)`;
      process.stderr.write(`${why}\n`);
      t.skip(why);
    });
    return;
  }
  const files = readdirSync(defsDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  it('has the corpus', () => assert.ok(files.length > 250));
  for (const file of files) {
    it(file, () => {
      const d = JSON.parse(readFileSync(join(defsDir, file), 'utf8')) as { definition: JsonValue };
      const g: Graph = buildGraph(substitute(d.definition, ''));
      const layout = layoutGraph(g);
      checkLayout(layout);
      const svg = renderSvg(g, { layout });
      checkXml(svg);
      assert.equal(stateCount(svg), allStateNodes(g).length, 'one node per state');
      assert.match(renderMermaid(g), /^flowchart TD\n/);
      assert.match(renderDot(g), /^digraph workflow \{[^]*\}\n$/);
    });
  }
});
