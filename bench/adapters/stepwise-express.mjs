// Adapter for Stepwise's Express path, following ../../../shared/bench's adapter contract: an
// in-process Engine (the one `stepwise serve` runs) with each workload created as an EXPRESS state
// machine, and every execution run by Engine.startSyncExecution, as the StartSyncExecution API
// does: input sent as JSON text, output read back from JSON text. No HTTP (bench/api.mjs measures
// that). Tasks call the shared handlers through the engine's local functions. No definition
// rewrites. Run `npm run build` first.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../dist/runtime/engine.js';
import { functionsFromMap } from '../../dist/runtime/functions.js';
import defaultHandlers from '../../../shared/bench/handlers.mjs';
import { features as libraryFeatures, functionsFor } from './stepwise.mjs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

export const engine = 'stepwise-express';
export const engineVersion = pkg.version;
export const notes = [
  'Engine.startSyncExecution on an EXPRESS state machine (JSON text in and out, no HTTP), waitScale 0',
];
export const features = libraryFeatures;

const ROLE = 'arn:aws:iam::123456789012:role/bench';
const engines = new WeakMap(); // handlers object -> Promise<Engine>
const machines = new WeakMap(); // definition object -> Promise<state machine ARN> (a deploy)
let created = 0;
const dirs = [];
process.once('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function engineFor(handlers) {
  let e = engines.get(handlers);
  if (e === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-express-'));
    dirs.push(dir);
    const functions = functionsFromMap(functionsFor(handlers));
    // Express runs write nothing: the store only holds the state machine (no writer thread).
    e = Engine.open({ dataDir: dir, functions, waitScale: 0, storeWriter: 'inline' });
    engines.set(handlers, e);
  }
  return e;
}

/** The engine and the machine's ARN once both are set up (later runs need not await them). */
const ready = new WeakMap(); // definition object -> { handlers, eng, arn }

async function setUp(definition, handlers) {
  const eng = await engineFor(handlers);
  let arn = machines.get(definition);
  if (arn === undefined) {
    arn = eng
      .createStateMachine({
        name: `bench-${++created}`,
        definition: JSON.stringify(definition),
        roleArn: ROLE,
        type: 'EXPRESS',
      })
      .then((r) => r.stateMachineArn);
    machines.set(definition, arn);
  }
  const r = { handlers, eng, arn: await arn };
  ready.set(definition, r);
  return r;
}

/** Runs one execution to completion and returns its output (throws on failure). */
export async function runExecution(definition, input, { handlers = defaultHandlers } = {}) {
  let target = ready.get(definition);
  if (target === undefined || target.handlers !== handlers) target = await setUp(definition, handlers);
  const { eng, arn } = target;
  const r = await eng.startSyncExecution({ stateMachineArn: arn, input: JSON.stringify(input) });
  if (r.status !== 'SUCCEEDED') {
    throw new Error(`execution ${r.status}: ${r.error ?? ''}${r.cause ? ` - ${r.cause}` : ''}`);
  }
  return JSON.parse(r.output);
}
