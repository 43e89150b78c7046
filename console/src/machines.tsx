/** State machines: the list (with recent execution counts) and a machine's page. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  api,
  fmtDate,
  STATUSES,
  type ExecutionItem,
  type ExecutionStatus,
  type StateMachine,
  type StateMachineItem,
} from './api.js';
import { Graph } from './graph.js';
import { JsonView } from './json.js';
import { executionHref, machineHref, navigate } from './router.js';
import { ErrorBox, Section, StatusBadge, Tabs, useAsync } from './ui.js';

const COUNTED: ExecutionStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED'];
/** Counts stop here ("100+"): one page of ListExecutions per status. */
const COUNT_LIMIT = 100;

export function MachinesPage() {
  const [items, setItems] = useState<StateMachineItem[]>([]);
  const [token, setToken] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);

  const load = async (nextToken?: string) => {
    setLoading(true);
    try {
      const r = await api.call<{ stateMachines: StateMachineItem[]; nextToken?: string }>(
        'ListStateMachines',
        {
          maxResults: 100,
          ...(nextToken ? { nextToken } : {}),
        },
      );
      setItems((xs) => (nextToken ? [...xs, ...r.stateMachines] : r.stateMachines));
      setToken(r.nextToken);
      setError(undefined);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void load(), []);

  return (
    <Section title="State machines">
      <ErrorBox error={error} />
      {!loading && items.length === 0 && !error && (
        <p class="muted">
          No state machines yet. Create one with the AWS CLI or an SDK pointed at this server.
        </p>
      )}
      {items.length > 0 && (
        <table class="grid" aria-label="State machines">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Created</th>
              <th>Recent executions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((m) => (
              <tr key={m.stateMachineArn} data-machine={m.name}>
                <td>
                  <a href={machineHref(m.stateMachineArn)}>{m.name}</a>
                </td>
                <td>{m.type}</td>
                <td>{fmtDate(m.creationDate)}</td>
                <td>
                  <Counts arn={m.stateMachineArn} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {loading && <p class="muted">Loading…</p>}
      {token && !loading && (
        <button type="button" onClick={() => void load(token)}>
          Load more
        </button>
      )}
    </Section>
  );
}

function Counts({ arn }: { arn: string }) {
  const { value } = useAsync(
    () =>
      Promise.all(
        COUNTED.map((statusFilter) =>
          api
            .call<{ executions: unknown[]; nextToken?: string }>('ListExecutions', {
              stateMachineArn: arn,
              statusFilter,
              maxResults: COUNT_LIMIT,
            })
            .then((r) => [statusFilter, r.executions.length, r.nextToken !== undefined] as const),
        ),
      ),
    [arn],
  );
  if (!value) return <span class="muted">…</span>;
  return (
    <span class="counts">
      {value.map(([s, n, more]) => (
        <span key={s} class={`count s-${s.toLowerCase()}`} title={s}>
          {n}
          {more ? '+' : ''} <span class="count-label">{s.toLowerCase()}</span>
        </span>
      ))}
    </span>
  );
}

type MachineTab = 'executions' | 'definition';

export function MachinePage({ arn }: { arn: string }) {
  const { value: sm, error } = useAsync(
    () => api.call<StateMachine>('DescribeStateMachine', { stateMachineArn: arn }),
    [arn],
  );
  const [tab, setTab] = useState<MachineTab>('executions');
  const [starting, setStarting] = useState(false);
  if (error) return <ErrorBox error={error} />;
  if (!sm) return <p class="muted">Loading…</p>;
  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/state-machines">State machines</a> › <span>{sm.name}</span>
      </nav>
      <header class="page-head">
        <div>
          <h1>{sm.name}</h1>
          <p class="muted mono">{sm.stateMachineArn}</p>
          <p class="muted">
            {sm.type} · created {fmtDate(sm.creationDate)} · role <span class="mono">{sm.roleArn}</span>
          </p>
        </div>
        <button type="button" class="primary" onClick={() => setStarting((s) => !s)} aria-expanded={starting}>
          Start execution
        </button>
      </header>
      {starting && <StartForm arn={arn} onCancel={() => setStarting(false)} />}
      <Tabs
        label="State machine views"
        tabs={[
          ['executions', 'Executions'],
          ['definition', 'Definition and graph'],
        ]}
        value={tab}
        onChange={setTab}
      />
      {tab === 'executions' ? <ExecutionsList arn={arn} /> : <DefinitionView definition={sm.definition} />}
    </>
  );
}

function StartForm({ arn, onCancel }: { arn: string; onCancel: () => void }) {
  const [name, setName] = useState('');
  const [input, setInput] = useState('{\n  \n}');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const inputError = useMemo(() => {
    try {
      JSON.parse(input);
      return undefined;
    } catch (e) {
      return e instanceof Error ? e.message : 'Invalid JSON';
    }
  }, [input]);
  const nameError =
    name !== '' && !/^[A-Za-z0-9_-]{1,80}$/.test(name) ? 'Use up to 80 letters, digits, - and _.' : undefined;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (inputError || nameError) return;
    setBusy(true);
    try {
      const r = await api.call<{ executionArn: string }>('StartExecution', {
        stateMachineArn: arn,
        input,
        ...(name ? { name } : {}),
      });
      navigate(executionHref(r.executionArn));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <form class="card form" onSubmit={(e) => void submit(e)} aria-label="Start execution">
      <h2>Start execution</h2>
      <label>
        Name <span class="muted">(optional)</span>
        <input
          name="name"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          aria-invalid={nameError !== undefined}
          placeholder="generated when empty"
        />
      </label>
      {nameError && <p class="field-error">{nameError}</p>}
      <label>
        Input (JSON)
        <textarea
          name="input"
          rows={8}
          spellcheck={false}
          value={input}
          onInput={(e) => setInput(e.currentTarget.value)}
          aria-invalid={inputError !== undefined}
        />
      </label>
      {inputError && (
        <p class="field-error" role="status">
          {inputError}
        </p>
      )}
      <ErrorBox error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || !!inputError || !!nameError}>
          Start
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function DefinitionView({ definition }: { definition: string }) {
  const [format, setFormat] = useState<'json' | 'yaml'>('json');
  const [yamlText, setYaml] = useState<string>();
  useEffect(() => {
    if (format !== 'yaml' || yamlText !== undefined) return;
    // The YAML library is a separate chunk, fetched only when asked for.
    import('./yaml.js').then(
      (m) => setYaml(m.toYaml(definition)),
      (e: unknown) => setYaml(`# ${String(e)}`),
    );
  }, [format]);
  return (
    <div class="split">
      <Section title="Graph">
        <Graph definition={definition} />
      </Section>
      <Section
        title="Definition"
        actions={
          <div class="segmented" role="group" aria-label="Format">
            <button type="button" aria-pressed={format === 'json'} onClick={() => setFormat('json')}>
              JSON
            </button>
            <button type="button" aria-pressed={format === 'yaml'} onClick={() => setFormat('yaml')}>
              YAML
            </button>
          </div>
        }
      >
        {format === 'json' ? (
          <JsonView text={definition} label="Definition" />
        ) : (
          <pre class="json">{yamlText ?? 'Loading…'}</pre>
        )}
      </Section>
    </div>
  );
}

const PAGE = 50;

function ExecutionsList({ arn }: { arn: string }) {
  const [status, setStatus] = useState<ExecutionStatus | ''>('');
  const [search, setSearch] = useState('');
  const [items, setItems] = useState<ExecutionItem[]>([]);
  const [token, setToken] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>();
  const [gen, setGen] = useState(0);
  const genRef = useRef(0);

  const load = async (nextToken: string | undefined, g: number) => {
    setLoading(true);
    try {
      const r = await api.call<{ executions: ExecutionItem[]; nextToken?: string }>('ListExecutions', {
        stateMachineArn: arn,
        maxResults: PAGE,
        ...(status ? { statusFilter: status } : {}),
        ...(nextToken ? { nextToken } : {}),
      });
      if (g !== genRef.current) return;
      setItems((xs) => (nextToken ? [...xs, ...r.executions] : r.executions));
      setToken(r.nextToken);
      setError(undefined);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    genRef.current = gen;
    setItems([]);
    void load(undefined, gen);
  }, [arn, status, gen]);

  const q = search.trim().toLowerCase();
  const shown = q ? items.filter((e) => e.name.toLowerCase().includes(q)) : items;
  return (
    <Section
      title="Executions"
      actions={
        <>
          <label class="inline">
            Status{' '}
            <select value={status} onChange={(e) => setStatus(e.currentTarget.value as ExecutionStatus | '')}>
              <option value="">All</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <input
            type="search"
            placeholder="Search loaded by name"
            aria-label="Search executions by name"
            value={search}
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
          <button type="button" onClick={() => setGen((g) => g + 1)}>
            Refresh
          </button>
        </>
      }
    >
      <ErrorBox error={error} />
      <table class="grid" aria-label="Executions">
        <thead>
          <tr>
            <th>Name</th>
            <th>Status</th>
            <th>Started</th>
            <th>Stopped</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((e) => (
            <tr key={e.executionArn} data-execution={e.name}>
              <td>
                <a href={executionHref(e.executionArn)}>{e.name}</a>
              </td>
              <td>
                <StatusBadge status={e.status} />
              </td>
              <td>{fmtDate(e.startDate)}</td>
              <td>{fmtDate(e.stopDate)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!loading && shown.length === 0 && (
        <p class="muted">No executions{q ? ' match among those loaded' : ''}.</p>
      )}
      <p class="muted">
        {items.length} loaded{token ? '; more on the server' : ''}.{' '}
        {token && (
          <button type="button" disabled={loading} onClick={() => void load(token, gen)}>
            Load more
          </button>
        )}
        {loading && ' Loading…'}
      </p>
    </Section>
  );
}
