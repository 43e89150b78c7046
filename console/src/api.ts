/**
 * The console's only way to the server: the public Step Functions API (AWS JSON 1.0 over
 * `POST /`), SigV4-signed when the user signed in, plus the read-only `GET /health` for the region.
 */
import { signRequest, type Credentials } from './sigv4.js';

export type ExecutionStatus =
  'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';
export const STATUSES: ExecutionStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

export interface StateMachineItem {
  stateMachineArn: string;
  name: string;
  type: 'STANDARD' | 'EXPRESS';
  /** Epoch seconds. */
  creationDate: number;
}
export interface StateMachine extends StateMachineItem {
  definition: string;
  roleArn: string;
  status: string;
  revisionId?: string;
}
export interface ExecutionItem {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
}
export interface Execution extends ExecutionItem {
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}
export interface HistoryEvent {
  id: number;
  previousEventId: number;
  /** Epoch seconds (fractional). */
  timestamp: number;
  type: string;
  [details: string]: unknown;
}
export interface Activity {
  activityArn: string;
  name: string;
  creationDate: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
  get isAuth(): boolean {
    return AUTH_ERRORS.has(this.code);
  }
}

const AUTH_ERRORS = new Set([
  'MissingAuthenticationTokenException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
]);

const CREDS_KEY = 'stepwise.credentials';

export class Api {
  region = 'us-east-1';
  credentials: Credentials | undefined;

  constructor() {
    try {
      const raw = sessionStorage.getItem(CREDS_KEY);
      if (raw) this.credentials = JSON.parse(raw) as Credentials;
    } catch {
      this.credentials = undefined;
    }
  }

  async init(): Promise<void> {
    try {
      const r = await fetch('/health', { headers: { accept: 'application/json' } });
      if (r.ok) {
        const h = (await r.json()) as { region?: string };
        if (typeof h.region === 'string') this.region = h.region;
      }
    } catch {
      // The region stays the default; calls will report the real problem.
    }
  }

  signIn(creds: Credentials | undefined): void {
    this.credentials = creds;
    if (creds) sessionStorage.setItem(CREDS_KEY, JSON.stringify(creds));
    else sessionStorage.removeItem(CREDS_KEY);
  }

  async call<T>(op: string, body: object = {}): Promise<T> {
    const text = JSON.stringify(body);
    const headers: Record<string, string> = {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': `AWSStepFunctions.${op}`,
    };
    if (this.credentials) {
      Object.assign(
        headers,
        await signRequest(
          { host: location.host, path: '/', headers, body: text },
          this.credentials,
          this.region,
        ),
      );
    }
    let res: Response;
    try {
      res = await fetch('/', { method: 'POST', headers, body: text });
    } catch (e) {
      throw new ApiError('NetworkError', e instanceof Error ? e.message : String(e), 0);
    }
    const payload = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) {
      const type = typeof payload.__type === 'string' ? payload.__type : `HTTP${res.status}`;
      const message =
        typeof payload.message === 'string'
          ? payload.message
          : typeof payload.Message === 'string'
            ? payload.Message
            : res.statusText;
      throw new ApiError(type.slice(type.indexOf('#') + 1), message, res.status);
    }
    return payload as T;
  }
}

export const api = new Api();

/** Formats an epoch-seconds date for tables. */
export function fmtDate(s: number | undefined): string {
  if (s === undefined) return '—';
  const d = new Date(s * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  if (m < 60) return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
