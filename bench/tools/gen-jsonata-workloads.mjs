#!/usr/bin/env node
// Regenerates bench/workloads-jsonata/*.json: JSONata versions of the shared JSONPath workloads
// (../shared/bench/workloads), in the shared format, doing the same work with the same number of
// transitions. Each variant requires the `jsonata` feature, which only the Stepwise adapter has.
//   node bench/tools/gen-jsonata-workloads.mjs && npx prettier --write bench/workloads-jsonata
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'workloads-jsonata');
const pad = (n) => String(n).padStart(2, '0');

function passChain() {
  const states = {};
  const steps = {};
  for (let n = 1; n <= 20; n++) {
    // Same work as the JSONPath Pass: two reads ($.id, $.meta.tag), a 3-field object, written
    // under steps.sNN of the state input (ResultPath's merge, done by $merge here).
    states[`Step${pad(n)}`] = {
      Type: 'Pass',
      Output:
        `{% $merge([$states.input, {"steps": $merge([$states.input.steps, {"s${pad(n)}": ` +
        `{"step": ${n}, "id": $states.input.id, "tag": $states.input.meta.tag}}])}]) %}`,
      ...(n < 20 ? { Next: `Step${pad(n + 1)}` } : { End: true }),
    };
    steps[`s${pad(n)}`] = { step: n, id: 'order-1', tag: 'bench' };
  }
  const input = { id: 'order-1', meta: { tag: 'bench', source: 'bench' }, steps: {} };
  return {
    name: 'pass-chain-jsonata',
    description:
      'JSONata version of pass-chain: 20 Pass states; each Output reads $states.input.id and $states.input.meta.tag and merges a 3-field object under steps.sNN.',
    executions: 2000,
    warmup: 200,
    input,
    expectedOutput: { ...input, steps },
    variants: [
      {
        name: 'default',
        requires: ['jsonata'],
        transitionsPerExecution: 20,
        definition: {
          Comment: 'pass-chain-jsonata',
          QueryLanguage: 'JSONata',
          StartAt: 'Step01',
          States: states,
        },
      },
    ],
  };
}

function choiceLoop() {
  return {
    name: 'choice-loop-jsonata',
    description:
      'JSONata version of choice-loop: Choice Condition + a Pass whose Assign and Output increment the counter, 1,000 iterations in one execution (1001 Choice + 1000 Pass + 1 Succeed = 2002 transitions). The Succeed Output reads the variable.',
    executions: 1,
    warmup: 1,
    input: { i: 0, limit: 1000 },
    expectedOutput: { i: 1000, limit: 1000 },
    variants: [
      {
        name: 'default',
        requires: ['jsonata'],
        transitionsPerExecution: 2002,
        definition: {
          Comment: 'choice-loop-jsonata',
          QueryLanguage: 'JSONata',
          StartAt: 'Check',
          States: {
            Check: {
              Type: 'Choice',
              Choices: [{ Condition: '{% $states.input.i < $states.input.limit %}', Next: 'Increment' }],
              Default: 'Done',
            },
            Increment: {
              Type: 'Pass',
              Assign: { i: '{% $states.input.i + 1 %}' },
              Output: '{% {"i": $states.input.i + 1, "limit": $states.input.limit} %}',
              Next: 'Check',
            },
            Done: { Type: 'Succeed', Output: '{% {"i": $i, "limit": $states.input.limit} %}' },
          },
        },
      },
    ],
  };
}

function map10k() {
  return {
    name: 'map-10k-jsonata',
    description:
      'JSONata version of map-10k: one Map state over 10,000 items (Items expression, ItemSelector, MaxConcurrency 0 = unlimited); the item processor is 2 Pass states with Output expressions (1 + 2x10,000 = 20,001 transitions).',
    executions: 1,
    warmup: 0,
    input: { items: { $range: 10000, $item: { id: '$index' } } },
    expectedOutput: { $range: 10000, $item: { id: '$index', seen: true, status: 'ok' } },
    variants: [
      {
        name: 'default',
        requires: ['jsonata', 'map'],
        transitionsPerExecution: 20001,
        definition: {
          Comment: 'map-10k-jsonata',
          QueryLanguage: 'JSONata',
          StartAt: 'Fan',
          States: {
            Fan: {
              Type: 'Map',
              Items: '{% $states.input.items %}',
              ItemSelector: { id: '{% $states.context.Map.Item.Value.id %}' },
              MaxConcurrency: 0,
              ItemProcessor: {
                ProcessorConfig: { Mode: 'INLINE' },
                StartAt: 'Tag',
                States: {
                  Tag: { Type: 'Pass', Output: '{% {"id": $states.input.id, "seen": true} %}', Next: 'Mark' },
                  Mark: {
                    Type: 'Pass',
                    Output: '{% $merge([$states.input, {"status": "ok"}]) %}',
                    End: true,
                  },
                },
              },
              Output: '{% $states.result %}',
              End: true,
            },
          },
        },
      },
    ],
  };
}

for (const w of [passChain(), choiceLoop(), map10k()]) {
  writeFileSync(join(OUT, `${w.name}.json`), JSON.stringify(w, null, 2) + '\n');
}
