/**
 * The SQLite store's writer thread: owns a second connection to the database and applies the
 * store's writes in the order they arrive, so the main thread keeps interpreting while SQLite
 * writes. A commit is acknowledged only after its transaction committed.
 */
import { parentPort, workerData } from 'node:worker_threads';

import { SqliteWriter, callWriter, openConnection, type WriterCall } from './sqlite-writer.js';

export interface WorkerRequest {
  id: number;
  call: WriterCall | { method: 'close' };
}

export type WorkerReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { name: string; message: string; code?: string } };

const port = parentPort;
if (port === null) throw new Error('sqlite-worker.js runs as a worker thread');
const { path, synchronous } = workerData as { path: string; synchronous: 'FULL' | 'NORMAL' };
const db = openConnection(path, synchronous);
const writer = new SqliteWriter(db);
port.postMessage({ id: 0, ok: true, result: 'ready' } satisfies WorkerReply);

port.on('message', (m: WorkerRequest) => {
  if (m.call.method === 'close') {
    db.close();
    port.postMessage({ id: m.id, ok: true, result: undefined } satisfies WorkerReply);
    port.close();
    return;
  }
  let reply: WorkerReply;
  try {
    reply = { id: m.id, ok: true, result: callWriter(writer, m.call) };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const code = (err as { code?: unknown }).code;
    reply = {
      id: m.id,
      ok: false,
      error: { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) },
    };
  }
  port.postMessage(reply);
});
