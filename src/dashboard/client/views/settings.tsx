/** Settings (admin): each endpoint's capture percentage and debugger hook, then the monitoring schedules. */
import { useState } from 'preact/hooks';
import { ENDPOINTS, UPDATE_ENDPOINT } from '../documents.ts';
import { Field } from '../fields.tsx';
import { useApi, useQuery } from '../hooks.ts';
import { ScheduleSettings } from './schedule-settings.tsx';

export function SettingsView(props: { admin: boolean }) {
  const endpoints = useQuery(ENDPOINTS, {});
  if (!props.admin) return <p role="alert">Settings need an admin key.</p>;
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      {endpoints.error ? <p role="alert">{endpoints.error.message}</p> : null}
      {endpoints.data?.endpoints.map((e) => (
        <EndpointSettings
          key={e.name}
          name={e.name}
          capturing={e.dataCapture.enabled}
          sampling={e.dataCapture.samplingPercentage}
          hook={e.debugHook.enabled}
          includeRegex={e.debugHook.includeRegex ?? ''}
          onSaved={endpoints.reload}
        />
      ))}
      <ScheduleSettings />
    </section>
  );
}

function EndpointSettings(props: {
  name: string;
  capturing: boolean;
  sampling: number;
  hook: boolean;
  includeRegex: string;
  onSaved(): void;
}) {
  const api = useApi();
  const [capturing, setCapturing] = useState(props.capturing);
  const [sampling, setSampling] = useState(String(props.sampling));
  const [hook, setHook] = useState(props.hook);
  const [includeRegex, setIncludeRegex] = useState(props.includeRegex);
  const [outcome, setOutcome] = useState('');
  const id = (field: string) => `${props.name}-${field}`;
  return (
    <form
      class="card settings"
      aria-labelledby={id('title')}
      onSubmit={async (event) => {
        event.preventDefault();
        const answer = await api
          .request(UPDATE_ENDPOINT, {
            name: props.name,
            input: {
              dataCapture: { enabled: capturing, samplingPercentage: Number(sampling) },
              debugHook: { enabled: hook, ...(includeRegex ? { includeRegex } : {}) },
            },
          })
          .catch((e: Error) => e);
        const result = answer instanceof Error ? answer : answer.updateEndpoint;
        setOutcome('message' in result ? `Not saved: ${result.message}` : 'Saved.');
        if (!('message' in result)) props.onSaved();
      }}
    >
      <h2 id={id('title')}>{props.name}</h2>
      <label>
        <input type="checkbox" checked={capturing} onChange={(e) => setCapturing(e.currentTarget.checked)} /> Capture
        requests
      </label>
      <Field
        label="Sampling percentage"
        type="number"
        min={0}
        max={100}
        step={0.1}
        value={sampling}
        onText={setSampling}
      />
      <label>
        <input type="checkbox" checked={hook} onChange={(e) => setHook(e.currentTarget.checked)} /> Debugger hook on
      </label>
      <Field label="Tensor include regex" type="text" maxLength={256} value={includeRegex} onText={setIncludeRegex} />
      <button type="submit">Save {props.name}</button>
      <p aria-live="polite">{outcome}</p>
    </form>
  );
}
