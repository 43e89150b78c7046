/** The Stepwise console: shell, routing, sign-in and theme. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, errorText, fmtDate, type Activity } from './api.js';
import { ExecutionPage } from './execution.js';
import { MachinePage, MachinesPage } from './machines.js';
import { onLinkClick, useRoute, type Route } from './router.js';
import { ErrorBox, Section, useAsync } from './ui.js';

type Theme = 'auto' | 'light' | 'dark';
const THEME_KEY = 'stepwise.theme';

function applyTheme(t: Theme): void {
  if (t === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = t;
}

function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(
    () => (localStorage.getItem(THEME_KEY) as Theme | null) ?? 'auto',
  );
  useEffect(() => {
    applyTheme(theme);
    localStorage.setItem(THEME_KEY, theme);
  }, [theme]);
  const next: Record<Theme, Theme> = { auto: 'light', light: 'dark', dark: 'auto' };
  return (
    <button
      type="button"
      class="ghost"
      onClick={() => setTheme(next[theme])}
      aria-label={`Theme: ${theme}. Switch to ${next[theme]}`}
    >
      {theme === 'dark' ? '☾ Dark' : theme === 'light' ? '☀ Light' : '◐ Auto'}
    </button>
  );
}

type Auth = 'checking' | 'ok' | 'needed';

function App() {
  const route = useRoute();
  const [auth, setAuth] = useState<Auth>('checking');
  const [authError, setAuthError] = useState<unknown>();
  useEffect(() => {
    void (async () => {
      await api.init();
      try {
        await api.call('ListStateMachines', { maxResults: 1 });
        setAuth('ok');
      } catch (e) {
        if (e instanceof ApiError && e.isAuth) {
          if (api.credentials) setAuthError(e);
          api.signIn(undefined);
          setAuth('needed');
        } else {
          setAuthError(e);
          setAuth('ok');
        }
      }
    })();
  }, []);

  return (
    <div class="shell" onClick={onLinkClick}>
      <header class="top">
        <a href="/state-machines" class="brand">
          Stepwise
        </a>
        {auth === 'ok' && (
          <nav aria-label="Main">
            <a
              href="/state-machines"
              aria-current={route.page === 'machines' || route.page === 'machine' ? 'page' : undefined}
            >
              State machines
            </a>
            <a href="/activities" aria-current={route.page === 'activities' ? 'page' : undefined}>
              Activities
            </a>
          </nav>
        )}
        <span class="spacer" />
        <span class="muted region">{api.region}</span>
        <ThemeToggle />
        {auth === 'ok' && api.credentials && (
          <button
            type="button"
            class="ghost"
            onClick={() => {
              api.signIn(undefined);
              setAuth('needed');
            }}
          >
            Sign out
          </button>
        )}
      </header>
      <main id="main">
        {auth === 'checking' && <p class="muted">Connecting…</p>}
        {auth === 'needed' && (
          <SignIn error={authError} onDone={() => (setAuthError(undefined), setAuth('ok'))} />
        )}
        {auth === 'ok' && (
          <>
            <ErrorBox error={authError} />
            <Page route={route} />
          </>
        )}
      </main>
    </div>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'machines':
      return <MachinesPage />;
    case 'machine':
      return <MachinePage key={route.arn} arn={route.arn} />;
    case 'execution':
      return <ExecutionPage key={route.arn} arn={route.arn} />;
    case 'activities':
      return <ActivitiesPage />;
    case 'notFound':
      return (
        <Section title="Not found">
          <p>
            No such page. <a href="/state-machines">State machines</a>
          </p>
        </Section>
      );
  }
}

function SignIn({ error, onDone }: { error: unknown; onDone: () => void }) {
  const [keyId, setKeyId] = useState('');
  const [secret, setSecret] = useState('');
  const [err, setErr] = useState<unknown>(error);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    api.signIn({ accessKeyId: keyId.trim(), secretAccessKey: secret });
    try {
      await api.call('ListStateMachines', { maxResults: 1 });
      onDone();
    } catch (x) {
      api.signIn(undefined);
      setErr(x);
      setBusy(false);
    }
  };
  return (
    <form class="card form signin" onSubmit={(e) => void submit(e)} aria-label="Sign in">
      <h1>Sign in</h1>
      <p class="muted">
        This server checks SigV4 signatures. Enter its access key; requests are signed in this browser and the
        key is kept for this tab only (session storage).
      </p>
      <label>
        Access key ID
        <input
          name="accessKeyId"
          autoComplete="username"
          required
          value={keyId}
          onInput={(e) => setKeyId(e.currentTarget.value)}
        />
      </label>
      <label>
        Secret access key
        <input
          name="secretAccessKey"
          type="password"
          autoComplete="current-password"
          required
          value={secret}
          onInput={(e) => setSecret(e.currentTarget.value)}
        />
      </label>
      {err !== undefined && (
        <div class="error" role="alert">
          {errorText(err)}
        </div>
      )}
      <button type="submit" class="primary" disabled={busy}>
        Sign in
      </button>
    </form>
  );
}

function ActivitiesPage() {
  const { value, error } = useAsync(async () => {
    const all: Activity[] = [];
    let nextToken: string | undefined;
    do {
      const r: { activities: Activity[]; nextToken?: string } = await api.call('ListActivities', {
        maxResults: 1000,
        ...(nextToken ? { nextToken } : {}),
      });
      all.push(...r.activities);
      nextToken = r.nextToken;
    } while (nextToken && all.length < 5000);
    return all;
  }, []);
  const [open, setOpen] = useState<string>();
  const detail = useAsync(
    () => (open ? api.call<Activity>('DescribeActivity', { activityArn: open }) : Promise.resolve(undefined)),
    [open],
  );
  return (
    <div class="split">
      <Section title="Activities">
        <ErrorBox error={error} />
        {value && value.length === 0 && <p class="muted">No activities.</p>}
        {value && value.length > 0 && (
          <table class="grid" aria-label="Activities">
            <thead>
              <tr>
                <th>Name</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {value.map((a) => (
                <tr key={a.activityArn} aria-selected={open === a.activityArn}>
                  <td>
                    <button type="button" class="link" onClick={() => setOpen(a.activityArn)}>
                      {a.name}
                    </button>
                  </td>
                  <td>{fmtDate(a.creationDate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Activity">
        {!open && <p class="muted">Select an activity.</p>}
        <ErrorBox error={detail.error} />
        {open && detail.value && (
          <dl class="props">
            <dt>Name</dt>
            <dd>{detail.value.name}</dd>
            <dt>ARN</dt>
            <dd class="mono">{detail.value.activityArn}</dd>
            <dt>Created</dt>
            <dd>{fmtDate(detail.value.creationDate)}</dd>
          </dl>
        )}
        <p class="muted">
          Workers poll an activity with GetActivityTask and answer with SendTaskSuccess or SendTaskFailure.
        </p>
      </Section>
    </div>
  );
}

applyTheme((localStorage.getItem(THEME_KEY) as Theme | null) ?? 'auto');
render(<App />, document.getElementById('app')!);
