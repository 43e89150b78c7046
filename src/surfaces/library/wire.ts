/** History events in the shape GetExecutionHistory returns: payloads as JSON text, dates as Date. */
import type { HistoryEvent } from '../../interpreter/types.js';
import type { JsonValue } from '../../language/json.js';
import { stringifyJson } from '../../language/json.js';

export interface WireHistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: Date;
  type: string;
  [details: string]: unknown;
}

/** Fields of event details that carry JSON payloads (text on the wire). */
const PAYLOAD_FIELDS = new Set(['input', 'output', 'parameters']);

export function toWireEvent(e: HistoryEvent): WireHistoryEvent {
  const out: WireHistoryEvent = {
    id: e.id,
    previousEventId: e.previousEventId,
    timestamp: new Date(e.timestamp),
    type: e.type,
  };
  for (const [k, v] of Object.entries(e)) {
    if (k === 'id' || k === 'previousEventId' || k === 'timestamp' || k === 'type') continue;
    out[k] = typeof v === 'object' && v !== null ? serialiseDetails(v as Record<string, unknown>) : v;
  }
  return out;
}

function serialiseDetails(d: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) {
    out[k] = PAYLOAD_FIELDS.has(k) ? stringifyJson(v === undefined ? null : (v as JsonValue)) : v;
  }
  return out;
}

/**
 * Events as the durable engine stores them (payload fields already JSON text, timestamps in
 * epoch milliseconds) in the GetExecutionHistory shape.
 */
export function storedToWireEvent(e: HistoryEvent): WireHistoryEvent {
  return { ...e, timestamp: new Date(e.timestamp) };
}
