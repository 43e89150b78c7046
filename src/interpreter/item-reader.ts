/**
 * Distributed Map items read from S3 (`ItemReader`) and grouped into batches (`ItemBatcher`),
 * with AWS's semantics. Pure functions: the runtime fetches the object (or the listing) and the
 * interpreter turns the result into items here.
 *
 * AWS behaviours reproduced (from recorded executions):
 * - a CSV row becomes an object of strings; missing fields are `""`, fields beyond the headers
 *   are dropped, an empty line is skipped (a line of spaces is a row);
 * - the keys of a CSV row come in Java `HashMap` iteration order, not in header order
 *   (`0,True,{}` gives `{"0":…,"{}":…,"True":…}`), and the output text shows that order;
 * - duplicate headers fail the map run: `CSV headers cannot contain duplicates.`;
 * - a JSON object that is not an array fails: `Attempting to map over non-iterable node.`;
 * - `MaxItems` 0 means all items, a negative value fails (`field MaxItems must be positive`),
 *   values above 100,000,000 are capped.
 */
import type { JsonObject, JsonValue } from '../language/json.js';
import { setOwn, stringifyJson } from '../language/json.js';
import type { ReaderConfig } from '../language/model.js';
import type { ItemBatchPlan } from './types.js';

export type ReadResult = { ok: true; items: JsonValue[] } | { ok: false; cause: string };

/** AWS's upper bound of MaxItems. */
export const MAX_ITEMS_LIMIT = 100_000_000;

/** The failure cause for a MaxItems value, or undefined when it is acceptable. */
export function maxItemsProblem(maxItems: number | undefined): string | undefined {
  return maxItems !== undefined && maxItems < 0 ? 'field MaxItems must be positive' : undefined;
}

/** The action of an ItemReader resource (`getObject`, `listObjectsV2`). */
export function readerAction(resource: string): string {
  return resource.slice(resource.lastIndexOf(':') + 1);
}

/**
 * The items of a reader's result: `output` is what the runtime returned for the reader's request
 * (S3 GetObject's output with `Body` as text, or ListObjectsV2's with every page's `Contents`).
 */
export function itemsFromReader(
  resource: string,
  config: ReaderConfig,
  output: JsonValue,
  maxItems: number | undefined,
): ReadResult {
  const problem = maxItemsProblem(maxItems);
  if (problem !== undefined) return { ok: false, cause: problem };
  const limit =
    maxItems === undefined || maxItems === 0 ? MAX_ITEMS_LIMIT : Math.min(maxItems, MAX_ITEMS_LIMIT);
  const out = output !== null && typeof output === 'object' && !Array.isArray(output) ? output : {};
  const action = readerAction(resource);
  let result: ReadResult;
  if (action === 'listObjectsV2') {
    result = { ok: true, items: objectSummaries(out.Contents) };
  } else if (action === 'getObject') {
    const body = out.Body;
    const text =
      typeof body === 'string' ? body : body === undefined || body === null ? '' : stringifyJson(body);
    result = parseObject(text, config);
  } else {
    return { ok: false, cause: `Stepwise cannot read items with the resource '${resource}'.` };
  }
  if (result.ok && result.items.length > limit) result.items.length = limit;
  return result;
}

/** The items of an object's text, by `InputType`. */
export function parseObject(text: string, config: ReaderConfig): ReadResult {
  switch (config.inputType ?? 'JSON') {
    case 'JSON': {
      let v: JsonValue;
      try {
        v = JSON.parse(text) as JsonValue;
      } catch (e) {
        return { ok: false, cause: `The object's content is not valid JSON: ${(e as Error).message}` };
      }
      if (!Array.isArray(v)) return { ok: false, cause: 'Attempting to map over non-iterable node.' };
      return { ok: true, items: v };
    }
    case 'JSONL': {
      const items: JsonValue[] = [];
      const lines = text.split(/\r?\n/);
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        if (line.trim() === '') continue;
        try {
          items.push(JSON.parse(line) as JsonValue);
        } catch (e) {
          return {
            ok: false,
            cause: `Line ${i + 1} of the object is not valid JSON: ${(e as Error).message}`,
          };
        }
      }
      return { ok: true, items };
    }
    case 'CSV':
      return csvItems(text, config);
    default:
      return {
        ok: false,
        cause: `Stepwise does not read ItemReader objects of InputType '${config.inputType ?? ''}' yet.`,
      };
  }
}

/** CSV rows as objects keyed by the headers (given, or the first row). */
export function csvItems(text: string, config: ReaderConfig): ReadResult {
  const rows = parseCsv(text, config.csvDelimiter);
  let headers: string[];
  if (config.csvHeaderLocation === 'GIVEN') {
    headers = config.csvHeaders ?? [];
  } else {
    const first = rows.shift();
    headers = first ?? [];
  }
  if (new Set(headers).size !== headers.length) {
    return { ok: false, cause: 'CSV headers cannot contain duplicates.' };
  }
  const order = javaHashMapOrder(headers);
  const items: JsonValue[] = rows.map((row) => {
    const o: JsonObject = {};
    for (const i of order) setOwn(o, headers[i]!, row[i] ?? '');
    return o;
  });
  return { ok: true, items };
}

/**
 * Splits CSV text into rows of fields (RFC 4180: fields in double quotes may hold the delimiter,
 * line breaks and `""` for a quote; CRLF, LF and CR end rows). Empty lines are skipped.
 */
export function parseCsv(text: string, delimiter = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  /** The current line has content (a field, a delimiter or a quote). */
  let started = false;
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const endRow = () => {
    if (started) {
      row.push(field);
      rows.push(row);
    }
    row = [];
    field = '';
    started = false;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      started = true;
    } else if (c === delimiter) {
      row.push(field);
      field = '';
      started = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      endRow();
    } else {
      field += c;
      started = true;
    }
  }
  endRow();
  return rows;
}

/** Java's `String.hashCode` (UTF-16 code units, 32-bit overflow). */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The iteration order of a `java.util.HashMap` holding `keys` (inserted in order, distinct): by
 * bucket (`(h ^ h >>> 16) & (capacity - 1)`, capacity 16 doubled past a 0.75 load), insertion
 * order within a bucket. Returns indexes into `keys`.
 */
export function javaHashMapOrder(keys: readonly string[]): number[] {
  let capacity = 16;
  while (keys.length > capacity * 0.75) capacity *= 2;
  const bucket = keys.map((k) => {
    const h = javaStringHash(k);
    return (h ^ (h >>> 16)) & (capacity - 1);
  });
  return keys.map((_, i) => i).sort((a, b) => bucket[a]! - bucket[b]! || a - b);
}

/** ListObjectsV2 `Contents` as ItemReader items: `{Etag, Key, LastModified, Size, StorageClass}`. */
function objectSummaries(contents: JsonValue | undefined): JsonValue[] {
  if (!Array.isArray(contents)) return [];
  return contents.map((c) => {
    const o = c !== null && typeof c === 'object' && !Array.isArray(c) ? c : {};
    const item: JsonObject = {};
    if (o.ETag !== undefined) item.Etag = o.ETag;
    if (o.Key !== undefined) item.Key = o.Key;
    if (o.LastModified !== undefined) {
      const t = typeof o.LastModified === 'string' ? Date.parse(o.LastModified) : NaN;
      item.LastModified = Number.isNaN(t) ? o.LastModified : Math.floor(t / 1000);
    }
    if (o.Size !== undefined) item.Size = o.Size;
    if (o.StorageClass !== undefined) item.StorageClass = o.StorageClass;
    return item;
  });
}

/** AWS's default and largest MaxInputBytesPerBatch (256 KiB). */
export const MAX_BATCH_BYTES = 262_144;

/**
 * Groups items into batches `{BatchInput?, Items}`: a batch ends when it holds MaxItemsPerBatch
 * items or when the next item would take its JSON text past MaxInputBytesPerBatch (an item that
 * alone exceeds the limit still gets a batch of its own).
 */
export function batchItems(items: readonly JsonValue[], plan: ItemBatchPlan): JsonValue[] {
  const maxItems = plan.maxItems ?? Infinity;
  const maxBytes = Math.min(plan.maxBytes ?? MAX_BATCH_BYTES, MAX_BATCH_BYTES);
  const batch = (group: JsonValue[]): JsonValue => {
    // AWS writes BatchInput first (unlike CSV rows, not in HashMap order).
    const o: JsonObject = {};
    if (plan.batchInput !== undefined) o.BatchInput = plan.batchInput;
    o.Items = group;
    return o;
  };
  const base = utf8Length(stringifyJson(batch([]), false));
  const out: JsonValue[] = [];
  let group: JsonValue[] = [];
  let bytes = base;
  for (const item of items) {
    const size = utf8Length(stringifyJson(item, false));
    if (group.length > 0 && (group.length >= maxItems || bytes + 1 + size > maxBytes)) {
      out.push(batch(group));
      group = [];
      bytes = base;
    }
    bytes += (group.length > 0 ? 1 : 0) + size;
    group.push(item);
  }
  if (group.length > 0) out.push(batch(group));
  return out;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text);
}
