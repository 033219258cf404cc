/**
 * The dashboard: sign in with an API key (kept for the browser session), then the views. Everything live
 * comes over graphql-ws subscriptions (alerts, predictions); nothing polls.
 */
import './styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ResultOf } from '../../graphql.ts';
import { Api, RequestError, storedKey, storeKey } from './api.ts';
import { ALERTS, VIEWER } from './documents.ts';
import { ApiContext, useSubscription } from './hooks.ts';
import { href, type Route, useRoute } from './router.ts';
import { type AlertItem, AlertToast } from './views/alerts.tsx';
import { CaptureView } from './views/capture.tsx';
import { EndpointView } from './views/endpoint.tsx';
import { MonitoringView } from './views/monitoring.tsx';
import { Overview } from './views/overview.tsx';
import { SettingsView } from './views/settings.tsx';

type Viewer = ResultOf<typeof VIEWER>;

/** alerts kept on screen */
const ALERTS_KEPT = 50;

function Root() {
  const [session, setSession] = useState<{ api: Api; viewer: Viewer } | { problem: string } | undefined>();
  const signIn = async (key: string | null) => {
    const api = new Api(key);
    try {
      const viewer = await api.request(VIEWER, {});
      storeKey(key);
      setSession({ api, viewer });
    } catch (error) {
      api.close();
      storeKey(null);
      const problem =
        error instanceof RequestError && error.code === 'FORBIDDEN'
          ? 'This key may not read (role invoke): the dashboard needs a read or admin key.'
          : error instanceof RequestError && error.code === 'UNAUTHENTICATED'
            ? key
              ? 'The server does not know this key.'
              : 'This server needs an API key.'
            : `The server did not answer: ${(error as Error).message}`;
      setSession({ problem });
    }
  };
  useEffect(() => {
    void signIn(storedKey());
  }, []);
  if (!session) return <p>Connecting…</p>;
  if ('problem' in session) return <SignIn problem={session.problem} onKey={signIn} />;
  return (
    <ApiContext.Provider value={session.api}>
      <Shell
        viewer={session.viewer}
        onSignOut={() => {
          session.api.close();
          storeKey(null);
          setSession({ problem: 'Signed out.' });
        }}
      />
    </ApiContext.Provider>
  );
}

function SignIn(props: { problem: string; onKey(key: string): void }) {
  const [key, setKey] = useState('');
  return (
    <main class="sign-in">
      <h1>vigil</h1>
      <p role="alert">{props.problem}</p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          props.onKey(key.trim());
        }}
      >
        <label>
          API key
          <input
            type="password"
            autocomplete="off"
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
            required
          />
        </label>
        <button type="submit">Sign in</button>
      </form>
      <p class="muted">The key stays in this tab only (sessionStorage) and goes to this server only.</p>
    </main>
  );
}

function Shell(props: { viewer: Viewer; onSignOut(): void }) {
  const route = useRoute();
  const admin = props.viewer.viewer.role === 'ADMIN';
  const [alerts, setAlerts] = useState<AlertItem[]>([]);
  const [toast, setToast] = useState<AlertItem | undefined>();
  useSubscription(ALERTS, {}, ({ monitorAlerts }) => {
    setAlerts((list) => [monitorAlerts, ...list].slice(0, ALERTS_KEPT));
    setToast(monitorAlerts);
  });
  const who = props.viewer.viewer.anonymous
    ? 'anonymous (no key configured)'
    : `${props.viewer.viewer.keyName} (${props.viewer.viewer.role.toLowerCase()})`;
  const link = (target: Route, label: string) => (
    <a href={href(target)} aria-current={route.view === target.view ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <nav aria-label="Views">
          <strong class="brand">vigil</strong>
          {link({ view: 'overview' }, 'Overview')}
          {link({ view: 'monitoring' }, 'Monitoring')}
          {admin ? link({ view: 'settings' }, 'Settings') : null}
        </nav>
        <p class="who">
          {who} · server {props.viewer.serverInfo.version} on {props.viewer.serverInfo.databaseProvider}{' '}
          {props.viewer.viewer.anonymous ? null : (
            <button type="button" onClick={props.onSignOut}>
              Sign out
            </button>
          )}
        </p>
      </header>
      <AlertToast alert={toast} onDismiss={() => setToast(undefined)} />
      <main id="main">
        <View route={route} admin={admin} alerts={alerts} />
      </main>
    </>
  );
}

function View(props: { route: Route; admin: boolean; alerts: AlertItem[] }) {
  const { route } = props;
  switch (route.view) {
    case 'endpoint':
      return <EndpointView name={route.name} />;
    case 'capture':
      return <CaptureView id={route.id} />;
    case 'monitoring':
      return <MonitoringView admin={props.admin} alertCount={props.alerts.length} />;
    case 'settings':
      return <SettingsView admin={props.admin} />;
    default:
      return <Overview alerts={props.alerts} />;
  }
}

const container = document.getElementById('app');
if (container) {
  container.textContent = '';
  render(<Root />, container);
}
