// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
/**
 * The PascalCase ↔ camelCase conversion of the camelCase services' members, and the check that
 * its table of maps and documents matches the installed SDK clients' models.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NormalizedSchema } from '@smithy/core/schema';
import type { JsonObject } from '../../language/json.js';
import { CAMEL_CASE_SERVICES, casingOf, toServiceCase, toStatesCase } from './casing.js';

const ecs = casingOf('ecs')!;
const batch = casingOf('batch')!;

describe('toServiceCase / toStatesCase', () => {
  it('renames members at every depth, in objects and lists, keeping values', () => {
    const params: JsonObject = {
      Cluster: 'c',
      TaskDefinition: 'td:1',
      EnableECSManagedTags: true,
      Overrides: {
        ContainerOverrides: [{ Name: 'app', Environment: [{ Name: 'Mode', Value: 'Fast' }] }],
      },
      Tags: [{ Key: 'Team', Value: 'Data' }],
    };
    const sent = toServiceCase(params, ecs);
    assert.deepEqual(sent, {
      cluster: 'c',
      taskDefinition: 'td:1',
      enableECSManagedTags: true,
      overrides: {
        containerOverrides: [{ name: 'app', environment: [{ name: 'Mode', value: 'Fast' }] }],
      },
      tags: [{ key: 'Team', value: 'Data' }],
    });
    assert.deepEqual(toStatesCase(sent, ecs), params);
  });

  it("keeps a map's keys (data, not members) and converts its values", () => {
    const params: JsonObject = {
      JobName: 'j',
      Parameters: { InputFile: 's3://in', 'stepwise-polls': '2' },
      Tags: { Team: 'Data' },
    };
    const sent = toServiceCase(params, batch);
    assert.deepEqual(sent, {
      jobName: 'j',
      parameters: { InputFile: 's3://in', 'stepwise-polls': '2' },
      tags: { Team: 'Data' },
    });
    assert.deepEqual(toStatesCase({ jobs: [{ tags: { team: 'x' }, jobId: '1' }] }, batch), {
      Jobs: [{ Tags: { team: 'x' }, JobId: '1' }],
    });
    // Batch's quotaShares is a map of lists of structures in one place, a list in another.
    assert.deepEqual(toStatesCase({ quotaShares: { Gold: [{ shareName: 's' }] } }, batch), {
      QuotaShares: { Gold: [{ ShareName: 's' }] },
    });
    assert.deepEqual(toStatesCase({ quotaShares: [{ shareName: 's' }] }, batch), {
      QuotaShares: [{ ShareName: 's' }],
    });
  });

  it('keeps a document whole', () => {
    const answer = { hookDetails: { anyKey: { nested: 1 } }, lifecycleStage: 'X' };
    assert.deepEqual(toStatesCase(answer, ecs), {
      HookDetails: { anyKey: { nested: 1 } },
      LifecycleStage: 'X',
    });
  });

  it('a map key named __proto__ stays an own key', () => {
    const sent = toServiceCase(JSON.parse('{"Parameters":{"__proto__":"x"}}') as JsonObject, batch);
    const map = sent.parameters as JsonObject;
    assert.ok(Object.hasOwn(map, '__proto__'));
    assert.equal(Object.getPrototypeOf(map), Object.prototype);
  });

  it('round-trips any PascalCase members (property)', () => {
    const pascal = fc.string({ minLength: 1, maxLength: 8 }).map((s) => `Q${s}`);
    const value = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
        fc.array(tie('v'), { maxLength: 3 }),
        fc.dictionary(pascal, tie('v'), { maxKeys: 4, noNullPrototype: true }),
      ),
    })).v;
    fc.assert(
      fc.property(fc.dictionary(pascal, value, { maxKeys: 5, noNullPrototype: true }), (params) => {
        const p = params as JsonObject;
        assert.deepEqual(toStatesCase(toServiceCase(p, ecs), ecs), p);
      }),
    );
  });

  it('only the camelCase services have a casing', () => {
    assert.equal(casingOf('glue'), undefined);
    assert.equal(casingOf('toString'), undefined);
    assert.ok(casingOf('codebuild'));
  });
});

describe('the table against the SDK models', () => {
  const packages: Record<string, string> = {
    'emr-serverless': '@aws-sdk/client-emr-serverless',
    ecs: '@aws-sdk/client-ecs',
    batch: '@aws-sdk/client-batch',
    codebuild: '@aws-sdk/client-codebuild',
    eks: '@aws-sdk/client-eks',
    bedrock: '@aws-sdk/client-bedrock',
    'emr-containers': '@aws-sdk/client-emr-containers',
  };
  /** Members that are a map in some structures and a structure in others (see casing.ts). */
  const mapAndStruct: Record<string, string[]> = {
    eks: ['labels'],
    bedrock: ['equals', 'notEquals', 'hyperParameters'],
  };
  for (const [service, casing] of Object.entries(CAMEL_CASE_SERVICES)) {
    it(`${service}: maps and documents are the model's; member names start lower-case`, async () => {
      const pkg = packages[service];
      assert.ok(pkg, `no client package named for ${service}`);
      const module = (await import(pkg)) as Record<string, unknown>;
      const kinds = new Map<string, Set<string>>();
      const upper = new Set<string>();
      const seen = new Set<string>();
      const walk = (ns: NormalizedSchema): void => {
        if (ns.isListSchema() || ns.isMapSchema()) return walk(ns.getValueSchema());
        if (!ns.isStructSchema()) return;
        const id = ns.getName(true);
        if (id !== undefined && seen.has(id)) return;
        if (id !== undefined) seen.add(id);
        for (const [name, member] of ns.structIterator()) {
          if (!/^[a-z]/.test(name)) upper.add(name);
          const kind = member.isMapSchema()
            ? 'map'
            : member.isDocumentSchema()
              ? 'document'
              : member.isStructSchema()
                ? 'struct'
                : 'other';
          kinds.set(name, (kinds.get(name) ?? new Set()).add(kind));
          walk(member);
        }
      };
      let operations = 0;
      for (const [name, Command] of Object.entries(module)) {
        if (!name.endsWith('Command') || name === 'Command' || name === '$Command') continue;
        if (typeof Command !== 'function') continue;
        const { schema } = new (Command as new (input: object) => { schema?: unknown })({});
        // Older clients (before the SDK's schemas) have nothing to check against.
        if (!Array.isArray(schema)) continue;
        operations++;
        walk(NormalizedSchema.of(schema[4] as Parameters<typeof NormalizedSchema.of>[0]));
        walk(NormalizedSchema.of(schema[5] as Parameters<typeof NormalizedSchema.of>[0]));
      }
      // A client without schemas (client-emr-containers is one) is checked against its type
      // declarations, which say the same of each member: `Record<…>` is a map, `__DocumentType` a
      // document, an interface's or union's name a structure.
      if (operations === 0) operations = declaredMembers(pkg, kinds, upper);
      assert.ok(operations > 10, `${pkg}: no operation schemas found`);
      const of = (kind: string) => [...kinds].filter(([, k]) => k.has(kind)).map(([n]) => n);
      assert.deepEqual(new Set(of('map')), casing.maps);
      assert.deepEqual(new Set(of('document')), casing.documents);
      assert.deepEqual([...upper], []);
      // A map's keys are kept only when its value is an object: no map member may also be a
      // structure (a list elsewhere is told apart).
      assert.deepEqual(
        of('map').filter((n) => kinds.get(n)?.has('struct')),
        mapAndStruct[service] ?? [],
      );
    });
  }
});

/**
 * Reads the members of a client's model declarations (`dist-types/models/*.d.ts`) into `kinds`
 * and `upper` as the schema walk does; returns how many operation requests it found.
 */
function declaredMembers(pkg: string, kinds: Map<string, Set<string>>, upper: Set<string>): number {
  const models = join(dirname(createRequire(import.meta.url).resolve(pkg)), '..', 'dist-types', 'models');
  const text = readdirSync(models)
    .filter((f) => /^models_\d+\.d\.ts$/.test(f))
    .map((f) => readFileSync(join(models, f), 'utf8'))
    .join('\n');
  // Structures: interfaces, and unions (`export type X = X.AMember | …`), not enums' value types.
  const structs = new Set<string>();
  for (const m of text.matchAll(/^export interface (\w+)/gm)) structs.add(m[1]!);
  for (const m of text.matchAll(/^export type (\w+) = \1\.\w+Member/gm)) structs.add(m[1]!);
  let requests = 0;
  let inInterface = false;
  for (const line of text.split('\n')) {
    const open = /^\s*(?:export )?interface (\w+)/.exec(line);
    if (open) {
      // A union's Visitor lists its members as callbacks, with `_` for unknown ones.
      inInterface = open[1] !== 'Visitor';
      if (open[1]!.endsWith('Request')) requests++;
      continue;
    }
    if (/^\s*}/.test(line)) {
      inInterface = false;
      continue;
    }
    const member = inInterface ? /^\s+(\w+)\??: (.+);$/.exec(line) : null;
    if (!member) continue;
    const [, name = '', type = ''] = member;
    const base = type.replace(/ \| undefined$/, '').replace(/\[\]$/, '');
    const kind = base.startsWith('Record<')
      ? 'map'
      : base.includes('__DocumentType')
        ? 'document'
        : structs.has(base)
          ? 'struct'
          : 'other';
    if (!/^[a-z]/.test(name)) upper.add(name);
    kinds.set(name, (kinds.get(name) ?? new Set()).add(kind));
  }
  return requests;
}
