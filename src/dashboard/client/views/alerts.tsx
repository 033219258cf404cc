/** Alerts as they arrive (monitorAlerts subscription): a list, and a live region that announces each one. */
import { statusClass, time } from '../format.ts';

export interface AlertItem {
  at: string;
  endpoint: string;
  schedule: string;
  executionId: string;
  status: string;
  message: string;
  recordCount: number;
}

export function AlertList(props: { alerts: AlertItem[] }) {
  if (!props.alerts.length) return <p class="muted">No alert since this page opened.</p>;
  return (
    <ul class="alerts" data-testid="alerts">
      {props.alerts.map((a) => (
        <li key={a.executionId} class={statusClass(a.status)}>
          <strong>{a.endpoint}</strong> · {a.schedule} · {time(a.at)} · {a.recordCount} records
          <br />
          {a.message}
        </li>
      ))}
    </ul>
  );
}

/** the newest alert, announced by screen readers and shown until dismissed */
export function AlertToast(props: { alert: AlertItem | undefined; onDismiss(): void }) {
  return (
    <div class="toast-region" role="status" aria-live="polite">
      {props.alert ? (
        <div class={`toast ${statusClass(props.alert.status)}`} data-testid="alert-toast">
          <span>
            Alert on <strong>{props.alert.endpoint}</strong>: {props.alert.message}
          </span>
          <button type="button" onClick={props.onDismiss}>
            Dismiss
          </button>
        </div>
      ) : null}
    </div>
  );
}
