/**
 * Execution log records: what AWS sends to CloudWatch Logs for a state machine with a
 * `loggingConfiguration` (Express and Standard alike), written locally (ADR 0009).
 *
 * Records have AWS's shape (cw-logs.html; ids, timestamps and the redrive count are strings):
 *   {"id":"2","type":"PassStateEntered","details":{…},"previous_event_id":"1",
 *    "event_timestamp":"1713959670680","execution_arn":"arn:…","redrive_count":"0"}
 * `details` is the history event's details object with its payloads (`input`, `output`,
 * `parameters`) as JSON text. The level decides which event types are logged
 * (cloudwatch-log-level.html): ALL every one; ERROR the failures, aborts and time-outs of
 * states, tasks, iterations and the execution, and FailStateEntered; FATAL only the
 * execution's own failure, abort or time-out. Without `includeExecutionData` the payloads are
 * left out.
 *
 * Records go to a sink per log group: by default one JSON-lines file per log group under the
 * data directory (`<dir>/<log group name>.jsonl`). Writing never blocks nor fails an execution
 * (AWS: "Publishing logs doesn't block or slow down executions"; delivery is best effort).
 */
import { mkdir, appendFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { HistoryEvent } from '../interpreter/types.js';
import { isJsonObject, stringifyJson, type JsonObject, type JsonValue } from '../language/json.js';

export type LogLevel = 'ALL' | 'ERROR' | 'FATAL';

/** What a state machine's loggingConfiguration asks for (nothing when its level is OFF). */
export interface LogSettings {
  level: LogLevel;
  includeExecutionData: boolean;
  /** The CloudWatch Logs log group ARN of its one destination. */
  logGroupArn: string;
}

/** Where records go. `write` returns at once and never throws; `flush` waits for the writes. */
export interface ExecutionLogSink {
  write(logGroupArn: string, lines: readonly string[]): void;
  flush(): Promise<void>;
}

/** The settings of a loggingConfiguration, or `undefined` when nothing is to be logged. */
export function logSettings(cfg: JsonValue | undefined): LogSettings | undefined {
  if (!isJsonObject(cfg ?? null)) return undefined;
  const c = cfg as JsonObject;
  const level = c.level;
  if (level !== 'ALL' && level !== 'ERROR' && level !== 'FATAL') return undefined;
  const destination = Array.isArray(c.destinations) ? c.destinations[0] : undefined;
  const group = isJsonObject(destination ?? null)
    ? (destination as JsonObject).cloudWatchLogsLogGroup
    : undefined;
  const logGroupArn = isJsonObject(group ?? null) ? (group as JsonObject).logGroupArn : undefined;
  if (typeof logGroupArn !== 'string' || logGroupArn === '') return undefined;
  return { level, includeExecutionData: c.includeExecutionData === true, logGroupArn };
}

const FATAL_TYPES = new Set(['ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);
/** AWS's ERROR level: every …Failed, …Aborted, …TimedOut event (…ScheduleFailed, …StartFailed too). */
const ERROR_TYPE = /(?:Failed|Aborted|TimedOut)$/;

export function isLogged(level: LogLevel, type: string): boolean {
  if (level === 'ALL') return true;
  if (level === 'FATAL') return FATAL_TYPES.has(type);
  return ERROR_TYPE.test(type) || type === 'FailStateEntered';
}

/** Detail fields that carry execution data, left out without `includeExecutionData`. */
const DATA_FIELDS = new Set([
  'input',
  'inputDetails',
  'output',
  'outputDetails',
  'parameters',
  'assignedVariables',
  'assignedVariablesDetails',
]);
const PAYLOAD_FIELDS = new Set(['input', 'output', 'parameters']);
/** AWS truncates a payload whose escaped text exceeds 248 KB (CloudWatch Logs' event size). */
export const MAX_LOGGED_PAYLOAD_BYTES = 248 * 1024;

/** The payload text cut so that its escaped form fits in a record, or undefined if it fits. */
function truncated(text: string): string | undefined {
  const escapedBytes = (t: string) => Buffer.byteLength(JSON.stringify(t)) - 2;
  let bytes = escapedBytes(text);
  if (bytes <= MAX_LOGGED_PAYLOAD_BYTES) return undefined;
  let cut = text;
  while (bytes > MAX_LOGGED_PAYLOAD_BYTES) {
    cut = cut.slice(0, Math.floor((cut.length * MAX_LOGGED_PAYLOAD_BYTES * 0.99) / bytes));
    // Never end on half a surrogate pair.
    if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
    bytes = escapedBytes(cut);
  }
  return cut;
}

/**
 * The log records of some history events, as JSON lines (without newlines), for those the
 * level logs. `payloadsAsText`: the events' payload fields are JSON text already (the durable
 * engine's stored events); otherwise they are values (in-memory runs).
 */
export function logRecords(
  settings: LogSettings,
  executionArn: string,
  events: readonly HistoryEvent[],
  payloadsAsText: boolean,
): string[] {
  const lines: string[] = [];
  for (const e of events) {
    if (!isLogged(settings.level, e.type)) continue;
    let details: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e)) {
      if (k.endsWith('EventDetails') && v !== null && typeof v === 'object') {
        details = {};
        for (const [dk, dv] of Object.entries(v as Record<string, unknown>)) {
          if (!settings.includeExecutionData && DATA_FIELDS.has(dk)) continue;
          if (!PAYLOAD_FIELDS.has(dk)) {
            if (!(dk in details)) details[dk] = dv;
            continue;
          }
          const text =
            payloadsAsText && typeof dv === 'string' ? dv : stringifyJson((dv ?? null) as JsonValue);
          const cut = truncated(text);
          details[dk] = cut ?? text;
          if (cut !== undefined && dk !== 'parameters') details[`${dk}Details`] = { truncated: true };
        }
      }
    }
    lines.push(
      JSON.stringify({
        id: String(e.id),
        type: e.type,
        details,
        previous_event_id: String(e.previousEventId),
        event_timestamp: String(e.timestamp),
        execution_arn: executionArn,
        redrive_count: '0',
      }),
    );
  }
  return lines;
}

/**
 * The file of a log group under `dir`: its name's `/`-separated parts as directories, with
 * characters other than letters, digits, `_`, `-` and `.` (and `.`/`..` parts) percent-encoded.
 * `arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/orders:*` is
 * `<dir>/aws/vendedlogs/states/orders.jsonl`.
 */
export function logGroupFile(dir: string, logGroupArn: string): string {
  const m = /^arn:[^:]+:logs:[^:]*:[^:]*:log-group:([^:]+)(?::\*)?$/.exec(logGroupArn);
  const name = m?.[1] ?? logGroupArn;
  const parts = name
    .split('/')
    .filter((p) => p !== '')
    .map((p) =>
      p === '.' || p === '..' ? p.replace(/\./g, '%2E') : p.replace(/[^A-Za-z0-9_.-]/gu, percent),
    );
  if (parts.length === 0) parts.push('_');
  const last = parts.length - 1;
  parts[last] = `${parts[last]!}.jsonl`;
  return join(dir, ...parts);
}

function percent(c: string): string {
  let out = '';
  for (const b of Buffer.from(c)) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** One JSON-lines file per log group under `dir`; appends in order, batched per file. */
export function fileLogSink(dir: string, onError?: (e: unknown) => void): ExecutionLogSink {
  const files = new Map<string, { pending: string[]; writing: Promise<void> | undefined }>();
  const start = (path: string): Promise<void> => {
    const f = files.get(path)!;
    const run = async (): Promise<void> => {
      while (f.pending.length > 0) {
        const lines = f.pending;
        f.pending = [];
        try {
          await mkdir(dirname(path), { recursive: true });
          await appendFile(path, `${lines.join('\n')}\n`);
        } catch (e) {
          onError?.(e);
        }
      }
      f.writing = undefined;
    };
    f.writing = new Promise<void>((resolve) => setImmediate(resolve)).then(run);
    return f.writing;
  };
  return {
    write(logGroupArn, lines) {
      if (lines.length === 0) return;
      const path = logGroupFile(dir, logGroupArn);
      let f = files.get(path);
      if (f === undefined) {
        f = { pending: [], writing: undefined };
        files.set(path, f);
      }
      for (const l of lines) f.pending.push(l);
      if (f.writing === undefined) void start(path);
    },
    async flush() {
      for (;;) {
        const writing = [...files.values()].flatMap((f) => (f.writing ? [f.writing] : []));
        if (writing.length === 0) return;
        await Promise.all(writing);
      }
    },
  };
}

/** Every record as one line on a stream (e.g. stdout, for container logs). */
export function streamLogSink(stream: NodeJS.WritableStream): ExecutionLogSink {
  return {
    write(_logGroupArn, lines) {
      if (lines.length > 0) stream.write(`${lines.join('\n')}\n`);
    },
    flush: () => Promise.resolve(),
  };
}
