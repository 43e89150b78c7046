/**
 * Member-name casing of the AWS services whose API is camelCase (ECS, Batch, CodeBuild): Step
 * Functions takes their parameters in PascalCase (`TaskDefinition`, `ContainerOverrides`) and
 * gives their answers in PascalCase (`Tasks[0].LastStatus`, `Build.BuildStatus`), while the
 * SDK v3 commands take and give the API's own names (`taskDefinition`, `lastStatus`). Only the
 * first letter differs, so a member name converts by changing its first letter.
 *
 * Not every key is a member name: a map's keys are data (Batch's `Parameters` and `Tags`, ECS's
 * log `options`) and a document is free-form JSON. Each service lists its members of those kinds;
 * their keys are kept as they are. The lists were taken from the SDK models of all the services'
 * operations (`casing.test.ts` checks them against the installed clients).
 */
import { isJsonObject, setOwn, type JsonObject, type JsonValue } from '../../language/json.js';

export interface MemberCasing {
  /** Members (API names) whose value is a map: its keys are kept, its values converted. */
  maps: ReadonlySet<string>;
  /** Members whose value is a document: kept whole. */
  documents: ReadonlySet<string>;
}

/** The camelCase services, by their name in resources (`ecs`, `aws-sdk:ecs`). */
export const CAMEL_CASE_SERVICES: Readonly<Record<string, MemberCasing>> = {
  'emr-serverless': {
    maps: new Set([
      'initialCapacity',
      'tags',
      'workerTypeSpecifications',
      'properties',
      'logTypes',
      'encryptionContext',
    ]),
    documents: new Set(),
  },
  // Amazon EMR on EKS. Its SDK client predates the SDK's schemas: casing.test.ts reads these maps
  // from the client's type declarations instead.
  'emr-containers': {
    maps: new Set(['tags', 'properties', 'parameterConfiguration', 'jobTags', 'jobTemplateParameters']),
    documents: new Set(),
  },
  ecs: {
    maps: new Set(['options', 'dockerLabels', 'driverOpts', 'labels']),
    documents: new Set(['hookDetails']),
  },
  batch: {
    maps: new Set([
      'tags',
      'capacityTags',
      'parameters',
      'options',
      'limits',
      'requests',
      'labels',
      'annotations',
      'statusSummary',
      'quotaShares',
    ]),
    documents: new Set(),
  },
  codebuild: { maps: new Set(['statusCounts']), documents: new Set() },
  // `labels` is a map everywhere but in UpdateNodegroupConfig, whose `labels` is a structure
  // (addOrUpdateLabels, removeLabels): converted as a map, its member names stay PascalCase.
  eks: {
    maps: new Set(['requiredClaims', 'tags', 'labels', 'additionalInfo', 'addOrUpdateLabels']),
    documents: new Set(),
  },
  // Bedrock: `hyperParameters` is a map (model customization jobs) but also RFTConfig's structure,
  // `equals`/`notEquals` maps (request metadata filters) but also retrieval filters' structures,
  // and `value` a document (filter attributes) but also an evaluation rating scale's union: all
  // are kept as written, so those structures take the API's names (`{"epochCount": 2}`).
  bedrock: {
    maps: new Set([
      'hyperParameters',
      'equals',
      'notEquals',
      'additionalModelRequestFields',
      'ruleReports',
      'variableReports',
    ]),
    documents: new Set(['value']),
  },
};

/** The table by service name without hyphens: AWS's SDK names (`emrserverless`) find it too. */
const CASING_BY_KEY: ReadonlyMap<string, MemberCasing> = new Map(
  Object.entries(CAMEL_CASE_SERVICES).map(([k, v]) => [k.replace(/-/g, ''), v]),
);

export function casingOf(service: string): MemberCasing | undefined {
  return CASING_BY_KEY.get(service.replace(/-/g, ''));
}

const lowerFirst = (k: string) => k.charAt(0).toLowerCase() + k.slice(1);
const upperFirst = (k: string) => k.charAt(0).toUpperCase() + k.slice(1);

/** Step Functions' PascalCase parameters as the service's request members. */
export function toServiceCase(params: JsonObject, casing: MemberCasing): JsonObject {
  return convertObject(params, { casing, rename: lowerFirst, apiName: lowerFirst });
}

/** The service's answer with Step Functions' PascalCase member names. */
export function toStatesCase(answer: JsonObject, casing: MemberCasing): JsonObject {
  return convertObject(answer, { casing, rename: upperFirst, apiName: (k) => k });
}

interface Direction {
  casing: MemberCasing;
  rename: (key: string) => string;
  /** The API name of a member, to look it up in `casing`. */
  apiName: (key: string) => string;
}

function convertObject(obj: JsonObject, d: Direction): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) {
    const member = d.apiName(k);
    let converted: JsonValue;
    if (d.casing.documents.has(member)) converted = v;
    else if (d.casing.maps.has(member) && isJsonObject(v)) {
      // Checked as an object: a member that is a map in one structure may be a list elsewhere
      // (Batch's quotaShares).
      converted = {};
      for (const [mk, mv] of Object.entries(v)) setOwn(converted, mk, convert(mv, d));
    } else converted = convert(v, d);
    setOwn(out, d.rename(k), converted);
  }
  return out;
}

function convert(value: JsonValue, d: Direction): JsonValue {
  if (Array.isArray(value)) return value.map((v) => convert(v, d));
  return isJsonObject(value) ? convertObject(value, d) : value;
}
