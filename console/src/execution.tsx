/**
 * An execution: status, input and output, the graph coloured by state outcome (live while it
 * runs), the selected state's visits, callback approvals, the event history and a timeline.
 */
import { Fragment } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, fmtDate, fmtDuration, type Execution, type HistoryEvent, type StateMachine } from './api.js';
import { Graph } from './graph.js';
import { analyse, detailsOf, type Analysis, type Visit } from './history.js';
import { JsonView } from './json.js';
import { machineHref } from './router.js';
import { ErrorBox, Section, StatusBadge, Tabs } from './ui.js';

const POLL_MS = 1000;
const HISTORY_PAGE = 1000;

interface Live {
  exec?: Execution;
  events: HistoryEvent[];
  error?: unknown;
}

/** Loads the execution and its history, then polls both (only new events) until it ends. */
function useLiveExecution(arn: string): Live & { refresh: () => void } {
  const [live, setLive] = useState<Live>({ events: [] });
  const [kick, setKick] = useState(0);
  const events = useRef<HistoryEvent[]>([]);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    events.current = [];
    const tick = async () => {
      try {
        const exec = await api.call<Execution>('DescribeExecution', { executionArn: arn });
        const fresh = await newEvents(arn, events.current);
        if (fresh.length > 0) events.current = [...events.current, ...fresh];
        if (stopped) return;
        setLive({ exec, events: events.current });
        if (exec.status === 'RUNNING') timer = setTimeout(() => void tick(), POLL_MS);
      } catch (error) {
        if (stopped) return;
        setLive((l) => ({ ...l, error }));
        timer = setTimeout(() => void tick(), POLL_MS * 5);
      }
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [arn, kick]);
  return { ...live, refresh: () => setKick((k) => k + 1) };
}

/**
 * Events after those already loaded. The first load pages forward; later polls page backwards
 * from the newest event until they reach one already held, so each poll costs one small page.
 */
async function newEvents(arn: string, have: HistoryEvent[]): Promise<HistoryEvent[]> {
  type Page = { events: HistoryEvent[]; nextToken?: string };
  const out: HistoryEvent[] = [];
  if (have.length === 0) {
    let token: string | undefined;
    do {
      const r: Page = await api.call<Page>('GetExecutionHistory', {
        executionArn: arn,
        maxResults: HISTORY_PAGE,
        ...(token ? { nextToken: token } : {}),
      });
      out.push(...r.events);
      token = r.nextToken;
    } while (token);
    return out;
  }
  const lastId = have[have.length - 1]!.id;
  let token: string | undefined;
  const back: HistoryEvent[] = [];
  for (;;) {
    const r: Page = await api.call<Page>('GetExecutionHistory', {
      executionArn: arn,
      reverseOrder: true,
      maxResults: 100,
      ...(token ? { nextToken: token } : {}),
    });
    const newer = r.events.filter((e) => e.id > lastId);
    back.push(...newer);
    if (newer.length < r.events.length || !r.nextToken) break;
    token = r.nextToken;
  }
  return back.reverse();
}

type ExecTab = 'graph' | 'io' | 'history' | 'timeline';

export function ExecutionPage({ arn }: { arn: string }) {
  const live = useLiveExecution(arn);
  const { exec, events } = live;
  const [machine, setMachine] = useState<StateMachine>();
  const [tab, setTab] = useState<ExecTab>('graph');
  const [selected, setSelected] = useState<string>();
  const [pathFilter, setPathFilter] = useState('');
  useEffect(() => {
    api
      .call<StateMachine>('DescribeStateMachineForExecution', { executionArn: arn })
      .then(setMachine, () => undefined);
  }, [arn]);
  const analysis = useMemo(() => analyse(events, exec?.status), [events, exec?.status]);

  if (!exec) return live.error ? <ErrorBox error={live.error} /> : <p class="muted">Loading…</p>;
  const pending = analysis.visits.filter((v) => v.pendingToken !== undefined);
  const duration = ((exec.stopDate ?? Date.now() / 1000) - exec.startDate) * 1000;
  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/state-machines">State machines</a> ›{' '}
        <a href={machineHref(exec.stateMachineArn)}>
          {machine?.name ?? exec.stateMachineArn.split(':').pop()}
        </a>{' '}
        › <span>{exec.name}</span>
      </nav>
      <header class="page-head">
        <div>
          <h1>
            {exec.name} <StatusBadge status={exec.status} />
          </h1>
          <p class="muted mono">{exec.executionArn}</p>
          <p class="muted">
            Started {fmtDate(exec.startDate)} · {exec.stopDate ? `stopped ${fmtDate(exec.stopDate)} · ` : ''}
            {fmtDuration(duration)} · {events.length} events
          </p>
        </div>
        {exec.status === 'RUNNING' && <StopButton arn={arn} onDone={live.refresh} />}
      </header>
      <ErrorBox error={live.error} />
      {exec.error !== undefined && (
        <div class="error" role="status">
          <strong>{exec.error}</strong>
          {exec.cause ? `: ${exec.cause}` : ''}
        </div>
      )}
      {pending.map((v) => (
        <Approval key={v.entered.id} visit={v} onDone={live.refresh} />
      ))}
      <Tabs
        label="Execution views"
        tabs={[
          ['graph', 'Graph'],
          ['io', 'Input and output'],
          ['history', `History (${events.length})`],
          ['timeline', 'Timeline'],
        ]}
        value={tab}
        onChange={setTab}
      />
      {tab === 'graph' && (
        <div class="split">
          <Section title="Graph">
            {machine ? (
              <Graph
                definition={machine.definition}
                outcomes={analysis.outcomes}
                selected={selected}
                onSelect={setSelected}
              />
            ) : (
              <p class="muted">Loading…</p>
            )}
          </Section>
          <StatePanel analysis={analysis} state={selected} />
        </div>
      )}
      {tab === 'io' && (
        <div class="split">
          <Section title="Input">
            <JsonView text={exec.input} label="Execution input" />
          </Section>
          <Section title="Output">
            {exec.output !== undefined ? (
              <JsonView text={exec.output} label="Execution output" />
            ) : (
              <p class="muted">No output{exec.status === 'RUNNING' ? ' yet' : ''}.</p>
            )}
          </Section>
        </div>
      )}
      {tab === 'history' && (
        <HistoryTable events={events} analysis={analysis} path={pathFilter} setPath={setPathFilter} />
      )}
      {tab === 'timeline' && (
        <Timeline analysis={analysis} exec={exec} path={pathFilter} setPath={setPathFilter} />
      )}
    </>
  );
}

function StopButton({ arn, onDone }: { arn: string; onDone: () => void }) {
  const [error, setError] = useState<unknown>();
  const stop = async () => {
    if (!confirm('Stop this execution?')) return;
    try {
      await api.call('StopExecution', { executionArn: arn });
      onDone();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div>
      <button type="button" class="danger" onClick={() => void stop()}>
        Stop execution
      </button>
      <ErrorBox error={error} />
    </div>
  );
}

function Approval({ visit, onDone }: { visit: Visit; onDone: () => void }) {
  const [output, setOutput] = useState('{"approved": true}');
  const [errorName, setErrorName] = useState('Rejected');
  const [cause, setCause] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  let outputError: string | undefined;
  try {
    JSON.parse(output);
  } catch (e) {
    outputError = e instanceof Error ? e.message : 'Invalid JSON';
  }
  const send = async (op: 'SendTaskSuccess' | 'SendTaskFailure') => {
    setBusy(true);
    try {
      await api.call(
        op,
        op === 'SendTaskSuccess'
          ? { taskToken: visit.pendingToken, output }
          : { taskToken: visit.pendingToken, error: errorName, ...(cause ? { cause } : {}) },
      );
      onDone();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <section
      class="card approval"
      aria-label={`Waiting for a callback: ${visit.state}`}
      data-approval={visit.state}
    >
      <header class="card-head">
        <h2>
          Waiting for a callback: {visit.state}
          {visit.path ? <span class="muted"> ({visit.path})</span> : null}
        </h2>
      </header>
      <div class="approval-grid">
        <div>
          <label>
            Output (JSON)
            <textarea
              rows={3}
              spellcheck={false}
              value={output}
              onInput={(e) => setOutput(e.currentTarget.value)}
              aria-invalid={!!outputError}
            />
          </label>
          {outputError && <p class="field-error">{outputError}</p>}
          <button
            type="button"
            class="primary"
            disabled={busy || !!outputError}
            onClick={() => void send('SendTaskSuccess')}
          >
            Approve
          </button>
        </div>
        <div>
          <label>
            Error
            <input value={errorName} onInput={(e) => setErrorName(e.currentTarget.value)} />
          </label>
          <label>
            Cause
            <input value={cause} onInput={(e) => setCause(e.currentTarget.value)} />
          </label>
          <button type="button" class="danger" disabled={busy} onClick={() => void send('SendTaskFailure')}>
            Reject
          </button>
        </div>
      </div>
      <ErrorBox error={error} />
    </section>
  );
}

const MAX_VISITS_SHOWN = 25;

function StatePanel({ analysis, state }: { analysis: Analysis; state: string | undefined }) {
  if (state === undefined) {
    return (
      <Section title="State">
        <p class="muted">
          Select a state in the graph to see its input, output, variables, retries and errors.
        </p>
      </Section>
    );
  }
  const visits = analysis.visits.filter((v) => v.state === state);
  return (
    <Section title={`State: ${state}`}>
      {visits.length === 0 && <p class="muted">Not reached.</p>}
      {visits.length > MAX_VISITS_SHOWN && (
        <p class="muted">
          {visits.length} visits; the last {MAX_VISITS_SHOWN} are shown.
        </p>
      )}
      {visits.slice(-MAX_VISITS_SHOWN).map((v) => {
        const entered = detailsOf(v.entered);
        const exited = v.exited ? detailsOf(v.exited) : undefined;
        const assigned = exited?.assignedVariables as Record<string, string> | undefined;
        return (
          <article class="visit" key={v.entered.id} data-visit={v.state}>
            <h3>
              <span class={`dot o-${v.outcome}`} aria-hidden="true" /> {v.outcome}
              {v.path && <span class="muted"> · {v.path}</span>}
              {v.exited && (
                <span class="muted"> · {fmtDuration((v.exited.timestamp - v.entered.timestamp) * 1000)}</span>
              )}
              {v.attempts > 1 && <span class="muted"> · {v.attempts} attempts</span>}
            </h3>
            {v.errors.map((e, i) => (
              <div class="error small" key={i}>
                {e.type}: <strong>{e.error ?? ''}</strong> {e.cause ?? ''}
              </div>
            ))}
            <h4>Input</h4>
            <JsonView text={entered?.input as string | undefined} label={`${state} input`} />
            {exited && (
              <>
                <h4>Output</h4>
                <JsonView text={exited.output as string | undefined} label={`${state} output`} />
              </>
            )}
            {assigned && Object.keys(assigned).length > 0 && (
              <>
                <h4>Assigned variables</h4>
                <JsonView
                  text={`{${Object.entries(assigned)
                    .map(([k, x]) => `${JSON.stringify(k)}:${x}`)
                    .join(',')}}`}
                  label="Assigned variables"
                />
              </>
            )}
          </article>
        );
      })}
    </Section>
  );
}

const ROWS = 100;

function PathSelect({
  analysis,
  path,
  setPath,
}: {
  analysis: Analysis;
  path: string;
  setPath: (p: string) => void;
}) {
  if (analysis.paths.length <= 1) return null;
  return (
    <label class="inline">
      Iteration / branch{' '}
      <select value={path} onChange={(e) => setPath(e.currentTarget.value)}>
        <option value="">All</option>
        {analysis.paths
          .filter((p) => p !== '')
          .map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
      </select>
    </label>
  );
}

function HistoryTable({
  events,
  analysis,
  path,
  setPath,
}: {
  events: HistoryEvent[];
  analysis: Analysis;
  path: string;
  setPath: (p: string) => void;
}) {
  const [type, setType] = useState('');
  const [page, setPage] = useState(0);
  const [open, setOpen] = useState<Set<number>>(new Set());
  const filtered = useMemo(
    () =>
      events.filter((e) => {
        if (type && e.type !== type) return false;
        if (path) {
          const p = analysis.owner.get(e.id)?.path ?? '';
          if (p !== path && !p.startsWith(`${path} › `)) return false;
        }
        return true;
      }),
    [events, type, path, analysis],
  );
  const pages = Math.max(1, Math.ceil(filtered.length / ROWS));
  const p = Math.min(page, pages - 1);
  const rows = filtered.slice(p * ROWS, p * ROWS + ROWS);
  const start = events[0]?.timestamp ?? 0;
  const toggle = (id: number) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  return (
    <Section
      title="Event history"
      actions={
        <>
          <label class="inline">
            Type{' '}
            <select
              value={type}
              onChange={(e) => {
                setType(e.currentTarget.value);
                setPage(0);
              }}
            >
              <option value="">All</option>
              {analysis.types.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </label>
          <PathSelect analysis={analysis} path={path} setPath={(x) => (setPath(x), setPage(0))} />
        </>
      }
    >
      <table class="grid history" aria-label="Event history">
        <thead>
          <tr>
            <th class="num">ID</th>
            <th>Type</th>
            <th>State</th>
            <th>Iteration / branch</th>
            <th class="num">Elapsed</th>
            <th>Time</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((e) => {
            const o = analysis.owner.get(e.id);
            const isOpen = open.has(e.id);
            const d = detailsOf(e);
            return (
              <Fragment key={e.id}>
                <tr data-event={e.type} class={/(Failed|TimedOut|Aborted)$/.test(e.type) ? 'bad' : ''}>
                  <td class="num">{e.id}</td>
                  <td>
                    <button
                      type="button"
                      class="link"
                      aria-expanded={isOpen}
                      onClick={() => toggle(e.id)}
                      disabled={!d}
                    >
                      {d ? (isOpen ? '▾ ' : '▸ ') : ''}
                      {e.type}
                    </button>
                  </td>
                  <td>{o?.state ?? ''}</td>
                  <td class="muted">{o?.path ?? ''}</td>
                  <td class="num">{fmtDuration((e.timestamp - start) * 1000)}</td>
                  <td>{fmtDate(e.timestamp)}</td>
                </tr>
                {isOpen && d && (
                  <tr class="details">
                    <td colSpan={6}>
                      <JsonView text={JSON.stringify(expand(d))} label={`Event ${e.id} details`} />
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
      <nav class="pager" aria-label="History pages">
        <button type="button" disabled={p === 0} onClick={() => setPage(p - 1)}>
          Previous
        </button>
        <span>
          Page {p + 1} of {pages} · {filtered.length} events
        </span>
        <button type="button" disabled={p >= pages - 1} onClick={() => setPage(p + 1)}>
          Next
        </button>
      </nav>
    </Section>
  );
}

/** Payload fields hold JSON text; show them as JSON. */
function expand(d: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) {
    if (typeof v === 'string' && (k === 'input' || k === 'output' || k === 'parameters')) {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        // keep the text
      }
    }
    out[k] = v;
  }
  return out;
}

const MAX_BARS = 300;

function Timeline({
  analysis,
  exec,
  path,
  setPath,
}: {
  analysis: Analysis;
  exec: Execution;
  path: string;
  setPath: (p: string) => void;
}) {
  const visits = analysis.visits.filter((v) => !path || v.path === path || v.path.startsWith(`${path} › `));
  const start = exec.startDate;
  const end = Math.max(
    exec.stopDate ?? Date.now() / 1000,
    ...visits.slice(-1).map((v) => (v.exited ?? v.entered).timestamp),
    start + 0.001,
  );
  const total = end - start;
  const shown = visits.slice(0, MAX_BARS);
  return (
    <Section title="Timeline" actions={<PathSelect analysis={analysis} path={path} setPath={setPath} />}>
      {visits.length > MAX_BARS && (
        <p class="muted">
          The first {MAX_BARS} of {visits.length} state visits; pick an iteration or branch to narrow.
        </p>
      )}
      <div class="gantt" role="list" aria-label="State timeline">
        {shown.map((v) => {
          const s = v.entered.timestamp - start;
          const e = (v.exited?.timestamp ?? end) - start;
          const left = (s / total) * 100;
          const width = Math.max(0.3, ((e - s) / total) * 100);
          return (
            <div class="gantt-row" role="listitem" key={v.entered.id}>
              <span class="gantt-label" title={v.path ? `${v.path} › ${v.state}` : v.state}>
                {v.path ? <span class="muted">{v.path} › </span> : null}
                {v.state}
              </span>
              <span class="gantt-track">
                <span
                  class={`gantt-bar o-${v.outcome}`}
                  style={{ left: `${left}%`, width: `${Math.min(width, 100 - left)}%` }}
                  title={`${v.state}: ${fmtDuration((e - s) * 1000)}`}
                />
              </span>
              <span class="gantt-dur num">{fmtDuration((e - s) * 1000)}</span>
            </div>
          );
        })}
      </div>
      <p class="muted">Total {fmtDuration(total * 1000)}</p>
    </Section>
  );
}
