// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildGraph } from '../../language/graph/model.js';
import { outcomesFromHistory } from '../../language/graph/outcomes.js';
import { OUTCOME_STYLE, renderSvg } from '../../language/graph/svg.js';
import type { JsonValue } from '../../language/json.js';
import { loadFunctionsModule, StateMachine } from '../library/index.js';
import { graphCommand } from './graph.js';

// Compiled to dist/surfaces/cli/graph.test.js: the repo root is three levels up from the file.
const compiledRoot = fileURLToPath(new URL('../../../', import.meta.url));
const repoRoot = existsSync(join(compiledRoot, 'package.json')) ? compiledRoot : process.cwd();
const examples = join(repoRoot, 'examples');
const approval = join(examples, 'approval', 'approval.asl.json');

const dir = mkdtempSync(join(tmpdir(), 'stepwise-graph-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await graphCommand(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

/** The fill of a state's box in an SVG. */
function stateFill(svg: string, name: string): string | undefined {
  return new RegExp(`data-state="${name}">(?:<title>[^<]*</title>)?<rect [^>]*fill="([^"]+)"`).exec(svg)?.[1];
}

/** Runs an example through the library and returns its history events. */
async function history(name: string, input: JsonValue): Promise<unknown[]> {
  const def = readFileSync(join(examples, name, `${name}.asl.json`), 'utf8');
  const result = await StateMachine.fromDefinition(def).run({
    input,
    functions: await loadFunctionsModule(join(examples, name, 'functions.mjs')),
    waitScale: 0,
  });
  assert.ok(result.events, 'history recorded');
  return result.events;
}

describe('stepwise graph', () => {
  it('prints an SVG by default', async () => {
    const r = await cli(approval);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(r.stdout, /<\/svg>\n$/);
    assert.equal(r.stdout.split(' data-state="').length - 1, 5);
  });

  it('prints Mermaid and DOT', async () => {
    assert.match((await cli(approval, '--format', 'mermaid')).stdout, /^flowchart TD\n/);
    assert.match((await cli(approval, '--format', 'dot')).stdout, /^digraph workflow \{/);
  });

  it('reads YAML and applies substitutions', async () => {
    const yaml = file(
      'sub.asl.yaml',
      'StartAt: Go\nStates:\n  Go:\n    Type: Task\n    Resource: ${Fn}\n    End: true\n',
    );
    const r = await cli(yaml, '--substitution', 'Fn=arn:aws:lambda:us-east-1:123456789012:function:Hello');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /λ Hello/);
  });

  it('writes --output, choosing the format from its extension', async () => {
    const out = join(dir, 'out.dot');
    const r = await cli(approval, '--output', out);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(readFileSync(out, 'utf8'), /^digraph workflow/);
  });

  it('draws an invalid definition and warns on stderr', async () => {
    const bad = file('bad.json', '{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}');
    const r = await cli(bad);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Nowhere/);
    assert.match(r.stderr, /^stepwise graph: warning: .* has 1 error \(first: MISSING_TRANSITION_TARGET/);
  });

  it('exits 2 with a one-line message on bad usage or input', async () => {
    const notJson = file('broken.json', '{"StartAt": ');
    const array = file('array.json', '[1, 2]');
    const badHistory = file('history.json', 'nope');
    const cases: [string[], RegExp][] = [
      [[], /takes one definition file/],
      [[approval, approval], /takes one definition file/],
      [[approval, '--colour'], /Unknown option '--colour'/],
      [[approval, '--format', 'png'], /--format must be svg, mermaid or dot/],
      [[join(dir, 'missing.json')], /cannot read definition/],
      [[notJson], /not valid JSON/],
      [[array], /must be a JSON object/],
      [[approval, '--substitution', 'novalue'], /Key=Value/],
      [[approval, '--execution-history', join(dir, 'none.json')], /cannot read execution history/],
      [[approval, '--execution-history', badHistory], /not valid JSON/],
      [[approval, '--execution-history', file('obj.json', '{"x":1}')], /expected an array/],
      [[approval, '--output', join(dir, 'no', 'such', 'dir.svg')], /cannot write/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.equal(r.stdout, '');
    }
  });

  it('prints its help', async () => {
    const r = await cli('--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--execution-history/);
  });
});

describe('execution outcomes from a real run', () => {
  it('colours a caught Task, the Fail state and what was not reached', async () => {
    const events = await history('approval', { accuracypct: 80, latencyMs: 300 });
    const { status, states } = outcomesFromHistory(events);
    assert.equal(status, 'FAILED');
    assert.deepEqual(Object.fromEntries([...states].map(([k, v]) => [k, v.outcome])), {
      CheckResults: 'succeeded',
      ResearchApproval: 'caught',
      Rejected: 'failed',
    });
    assert.equal(states.get('ResearchApproval')?.error, 'HandledError');

    // Through the command, from the file `stepwise run --history` would print.
    const path = file('approval-history.json', JSON.stringify({ status, events }));
    const r = await cli(approval, '--execution-history', path);
    assert.equal(r.code, 0);
    const fillOf = (name: string) => stateFill(r.stdout, name);
    assert.equal(fillOf('CheckResults'), OUTCOME_STYLE.succeeded.fill);
    assert.equal(fillOf('ResearchApproval'), OUTCOME_STYLE.caught.fill);
    assert.equal(fillOf('Rejected'), OUTCOME_STYLE.failed.fill);
    assert.equal(fillOf('Approved'), OUTCOME_STYLE.notReached.fill);
    assert.match(r.stdout, /class="legend"/);
  });

  it('follows Parallel branches to success', async () => {
    const input = JSON.parse(
      readFileSync(join(examples, 'parallel-wait', 'input.json'), 'utf8'),
    ) as JsonValue;
    const events = await history('parallel-wait', input);
    const { status, states } = outcomesFromHistory({ events });
    assert.equal(status, 'SUCCEEDED');
    for (const name of ['Fulfil', 'Charge', 'WaitForWarehouse', 'Reserve', 'WaitForCourier', 'Ship']) {
      assert.equal(states.get(name)?.outcome, 'succeeded', name);
    }
    const def = readFileSync(join(examples, 'parallel-wait', 'parallel-wait.asl.json'), 'utf8');
    const svg = renderSvg(buildGraph(JSON.parse(def)), { outcomes: states });
    for (const name of states.keys()) assert.equal(stateFill(svg, name), OUTCOME_STYLE.succeeded.fill, name);
  });
});
