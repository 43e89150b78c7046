#!/usr/bin/env node
// Language-layer figures (issue 7): validating a ~1 MiB definition with 2,000 states (target
// under 200 ms) and laying out + rendering a 2,000-state graph. Medians of 5 runs after warm-up.
//   npm run build && node bench/language.mjs [--json]
import { validateDefinition } from '../dist/language/validate.js';
import { buildGraph, layoutGraph, renderSvg } from '../dist/language/graph/index.js';

const json = process.argv.includes('--json');
const n = 2000;

const states = {};
for (let i = 0; i < n; i++) {
  const next = i + 1 < n ? { Next: `S${i + 1}` } : { End: true };
  states[`S${i}`] =
    i % 2 === 0
      ? {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { 'Payload.$': '$.payload', 'Id.$': "States.Format('{}-{}', $.a, $$.Execution.Id)" },
          ResultSelector: { 'body.$': '$.Payload.body' },
          ResultPath: `$.results.s${i}`,
          Retry: [{ ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }],
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `S${n - 1}` }],
          Comment: 'c'.repeat(150),
          ...next,
        }
      : { Type: 'Pass', Result: { text: 'p'.repeat(300), n: i }, ResultPath: `$.p${i}`, ...next };
}
const def = { StartAt: 'S0', States: states };
const bytes = JSON.stringify(def).length;

function median(f) {
  f();
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    f();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[2];
}

// The graph workload: a chain with Choice loops and Catch edges to nearby states. (Catch edges
// that all jump to one far state, as in `def`, make the layered layout route ~10^6 edge
// segments and take seconds: a known weakness of the layout.)
const graphStates = {};
for (let i = 0; i < n; i++) {
  const next = `S${i + 1}`;
  if (i === n - 1) graphStates[`S${i}`] = { Type: 'Succeed' };
  else if (i % 10 === 5)
    graphStates[`S${i}`] = {
      Type: 'Choice',
      Choices: [
        { Variable: '$.x', NumericLessThan: i, Next: next },
        { Variable: '$.y', StringEquals: 'again', Next: `S${i - 4}` },
      ],
      Default: `S${Math.min(n - 1, i + 3)}`,
    };
  else if (i % 10 === 7)
    graphStates[`S${i}`] = {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:123456789012:function:F',
      Catch: [{ ErrorEquals: ['States.ALL'], Next: `S${Math.min(n - 1, i + 8)}` }],
      Next: next,
    };
  else graphStates[`S${i}`] = { Type: 'Pass', Next: next };
}

const validateMs = median(() => validateDefinition(def));
const graphMs = median(() => {
  const g = buildGraph({ StartAt: 'S0', States: graphStates });
  renderSvg(g, { layout: layoutGraph(g) });
});
const rows = [
  {
    workload: 'validate-1mib-2000-states',
    engine: 'stepwise',
    ms: Math.round(validateMs * 10) / 10,
    bytes,
    target: '< 200 ms',
    pass: validateMs < 200,
  },
  {
    workload: 'graph-2000-states',
    engine: 'stepwise',
    ms: Math.round(graphMs * 10) / 10,
    target: '-',
    pass: true,
  },
];
for (const r of rows) {
  process.stdout.write(
    json
      ? JSON.stringify(r) + '\n'
      : `${r.workload.padEnd(28)} ${String(r.ms).padStart(8)} ms  target ${r.target}${r.target === '-' ? '' : r.pass ? ': PASS' : ': MISS'}\n`,
  );
}
