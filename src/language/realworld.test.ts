/**
 * Real-world definitions (../shared/realworld): every one AWS accepted must validate without an
 * ERROR, and the known-defective ones must not.
 */
// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { JsonObject, JsonValue } from './json.js';
import { isJsonObject, setOwn } from './json.js';
import { validateDefinition } from './validate.js';

// Compiled to dist/language/realworld.test.js: the repo root is three levels up from the file.
const compiledRoot = fileURLToPath(new URL('../../', import.meta.url));
const repoRoot = existsSync(join(compiledRoot, 'package.json')) ? compiledRoot : process.cwd();
const defsDir = join(repoRoot, '../shared/realworld/defs');

interface RealWorldDef {
  expected: 'valid' | 'invalid' | 'uncertain';
  expectedWhy?: string;
  definition: JsonValue;
}

/** Fields whose placeholder SAM would fill with a number (`"Seconds": "${Timeout}"`). */
const NUMERIC =
  /^(Seconds|TimeoutSeconds|HeartbeatSeconds|MaxConcurrency|MaxAttempts|IntervalSeconds|ToleratedFailureCount|ToleratedFailurePercentage|MaxItems|MaxItemsPerBatch|MaxInputBytesPerBatch|BackoffRate|MaxDelaySeconds)$/;

/** A plausible deploy-time value for a DefinitionSubstitutions key. */
function valueFor(key: string, wholeResource: boolean): string {
  if (/partition/i.test(key)) return 'aws';
  if (/region$/i.test(key)) return 'us-east-1';
  if (/account/i.test(key)) return '123456789012';
  // A whole Resource is a function ARN (the usual `${MyFunctionArn}`); inside a text, a name.
  if (wholeResource) return `arn:aws:lambda:us-east-1:123456789012:function:${key}`;
  return key;
}

function substitute(v: JsonValue, field: string): JsonValue {
  if (typeof v === 'string') {
    const whole = /^\$\{([^}]+)\}$/.exec(v);
    if (whole && NUMERIC.test(field)) return 60;
    return v.replace(/\$\{([A-Za-z0-9_.:-]+)\}/g, (_m, k: string) =>
      valueFor(k, whole !== null && field === 'Resource'),
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

describe('real-world definitions', () => {
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
  const defs = files.map((f) => ({
    file: f,
    ...(JSON.parse(readFileSync(join(defsDir, f), 'utf8')) as RealWorldDef),
  }));

  it('has the corpus', () => assert.ok(defs.filter((d) => d.expected === 'valid').length > 250));

  for (const d of defs) {
    if (d.expected === 'uncertain') continue;
    it(`${d.expected}: ${d.file}`, () => {
      const found = validateDefinition(substitute(d.definition, '')).filter((x) => x.severity === 'ERROR');
      if (d.expected === 'valid') {
        assert.deepEqual(found, [], `AWS accepted this definition`);
      } else {
        assert.ok(found.length > 0, `expected at least one error: ${d.expectedWhy ?? ''}`);
      }
    });
  }
});
