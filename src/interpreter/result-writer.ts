/**
 * A distributed Map's `ResultWriter`, as pure functions: the records of the child runs in AWS's
 * documented shape, the `WriterConfig` transformations, and the files of an export to S3
 * (`<Prefix>/<map run id>/SUCCEEDED_n.json`, `FAILED_n.json`, `PENDING_n.json`, then
 * `manifest.json`). The runtime only puts the objects (a `resultWriter` task).
 */
import { getOwn, isJsonObject, stringifyJson, type JsonObject, type JsonValue } from '../language/json.js';
import type { ResultWriterSpec } from '../language/model.js';
import { formatTimestamp } from './context.js';
import type { ChildRun } from './types.js';

/** AWS splits a result file at 5 GB: the rest goes to `<STATUS>_<n+1>.json`. */
export const MAX_RESULT_FILE_BYTES = 5 * 1000 ** 3;

/** One child of the map run: its run (undefined: never started), input and output. */
export interface ChildResult {
  run: ChildRun | undefined;
  input: JsonValue;
  output: JsonValue | undefined;
}

type FileStatus = 'SUCCEEDED' | 'FAILED' | 'PENDING';

function fileStatus(run: ChildRun | undefined): FileStatus {
  if (run === undefined || run.status === 'RUNNING') return 'PENDING';
  return run.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED';
}

/**
 * A child run as the NONE transformation shows it (AWS's example: the fields of DescribeExecution
 * in PascalCase, alphabetical). The child's ARNs are the map run's, as in AWS's examples:
 * `execution:<machine>/<label>:<name>` and `stateMachine:<machine>/<label>`. A failed run has
 * `Error`/`Cause` instead of `Output`; a child that never started has its input and status only.
 */
export function childRecord(child: ChildResult, mapRunArn: string): JsonObject {
  const input = { Input: stringifyJson(child.input), InputDetails: { Included: true } };
  const run = child.run;
  if (run === undefined || run.status === 'RUNNING') return { ...input, Status: 'PENDING' };
  const parts = mapRunArn.split(':');
  const prefix = parts.slice(0, 5).join(':');
  const machine = parts[6] ?? '';
  const r: JsonObject = {};
  if (run.status !== 'SUCCEEDED') {
    if (run.cause !== undefined) r.Cause = run.cause;
    if (run.error !== undefined) r.Error = run.error;
  }
  r.ExecutionArn = `${prefix}:execution:${machine}:${run.name}`;
  Object.assign(r, input);
  r.Name = run.name;
  if (run.status === 'SUCCEEDED') {
    r.Output = stringifyJson(child.output ?? null);
    r.OutputDetails = { Included: true };
  }
  r.RedriveCount = 0;
  // A map run's children are redriven with the map run (Stepwise does not redrive yet).
  if (run.status === 'SUCCEEDED') {
    r.RedriveStatus = 'NOT_REDRIVABLE';
    r.RedriveStatusReason = 'Execution is SUCCEEDED and cannot be redriven';
  } else {
    r.RedriveStatus = 'REDRIVABLE_BY_MAP_RUN';
  }
  r.StartDate = formatTimestamp(run.start);
  r.StateMachineArn = `${prefix}:stateMachine:${machine}`;
  r.Status = run.status;
  if (run.stop !== undefined) r.StopDate = formatTimestamp(run.stop);
  return r;
}

/**
 * The entries of one child under a transformation: NONE its record; COMPACT its output; FLATTEN
 * its output, an array's elements one by one. A child that did not succeed is shown as under NONE.
 */
function entries(child: ChildResult, transformation: ResultWriterSpec['transformation'], mapRunArn: string) {
  if (child.run?.status !== 'SUCCEEDED' || transformation === 'NONE') return [childRecord(child, mapRunArn)];
  const output = child.output ?? null;
  return transformation === 'FLATTEN' && Array.isArray(output) ? output : [output];
}

/** The Map's output with a WriterConfig and no export: every child's entries, in item order. */
export function transformedResults(
  spec: ResultWriterSpec,
  children: ChildResult[],
  mapRunArn: string,
): JsonValue[] {
  return children.flatMap((c) => entries(c, spec.transformation, mapRunArn));
}

/** What an export to S3 puts, and the Map's result once it is written. */
export interface ResultExport {
  /** The `resultWriter` task's input: the objects to put, `manifest.json` last. */
  request: { Bucket: string; Objects: { Key: string; Body: string }[] };
  /** `{MapRunArn, ResultWriterDetails: {Bucket, Key}}`, Key naming the manifest. */
  output: JsonObject;
}

/**
 * The files of an export: per status, the entries in item order, split into files of at most
 * `maxBytes`; the manifest lists them (`DestinationBucket`, `MapRunArn`, `ResultFiles`). A status
 * without entries has no file. `params` are the evaluated Parameters/Arguments: `Bucket`, `Prefix`.
 */
export function resultExport(
  spec: ResultWriterSpec,
  params: JsonValue,
  children: ChildResult[],
  mapRunArn: string,
  maxBytes = MAX_RESULT_FILE_BYTES,
): { ok: true; export: ResultExport } | { ok: false; cause: string } {
  const bucket = isJsonObject(params) ? getOwn(params, 'Bucket') : undefined;
  const prefix = isJsonObject(params) ? (getOwn(params, 'Prefix') ?? '') : '';
  if (typeof bucket !== 'string' || bucket === '')
    return { ok: false, cause: `The ResultWriter's parameters must name a 'Bucket' (a string).` };
  if (typeof prefix !== 'string')
    return { ok: false, cause: `The ResultWriter's 'Prefix' must be a string.` };
  const runId = mapRunArn.slice(mapRunArn.lastIndexOf(':') + 1);
  // `<Prefix>/<map run id>/…` (AWS's example); a Prefix ending in '/' gets no second one (assumed).
  const dir = `${prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`}${runId}/`;
  const byStatus: Record<FileStatus, string[]> = { SUCCEEDED: [], FAILED: [], PENDING: [] };
  for (const c of children) {
    const status = fileStatus(c.run);
    const transformation = status === 'SUCCEEDED' ? spec.transformation : 'NONE';
    for (const e of entries(c, transformation, mapRunArn)) byStatus[status].push(stringifyJson(e));
  }
  const objects: { Key: string; Body: string }[] = [];
  const resultFiles: JsonObject = {};
  for (const status of ['FAILED', 'PENDING', 'SUCCEEDED'] as const) {
    const files: JsonValue[] = [];
    for (const body of fileBodies(byStatus[status], spec.outputType, maxBytes)) {
      const key = `${dir}${status}_${files.length}.json`;
      objects.push({ Key: key, Body: body });
      files.push({ Key: key, Size: Buffer.byteLength(body) });
    }
    resultFiles[status] = files;
  }
  const manifestKey = `${dir}manifest.json`;
  const manifest = { DestinationBucket: bucket, MapRunArn: mapRunArn, ResultFiles: resultFiles };
  objects.push({ Key: manifestKey, Body: stringifyJson(manifest) });
  return {
    ok: true,
    export: {
      request: { Bucket: bucket, Objects: objects },
      output: { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket: bucket, Key: manifestKey } },
    },
  };
}

/** Entries (JSON texts) as file bodies: a JSON array, or JSON Lines; a new file past `maxBytes`. */
function fileBodies(texts: string[], outputType: 'JSON' | 'JSONL', maxBytes: number): string[] {
  const bodies: string[] = [];
  let current: string[] = [];
  let size = 0;
  const close = () => {
    bodies.push(outputType === 'JSONL' ? current.map((t) => `${t}\n`).join('') : `[${current.join(',')}]`);
    current = [];
    size = 0;
  };
  for (const t of texts) {
    // One separator (',' or '\n') per entry, and the array's brackets.
    const bytes = Buffer.byteLength(t) + 1;
    if (current.length > 0 && size + bytes + 1 > maxBytes) close();
    current.push(t);
    size += bytes;
  }
  if (current.length > 0) close();
  return bodies;
}
