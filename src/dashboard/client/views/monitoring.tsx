/** Monitoring: each schedule's executions as a timeline coloured by status, their violations, metric charts. */
import { useState } from 'preact/hooks';
import type { ResultOf } from '../../../graphql.ts';
import { TimeChart } from '../charts.tsx';
import { ALERT_CHANNELS, ALERT_DELIVERIES, METRIC, RUN_SCHEDULE, SCHEDULES } from '../documents.ts';
import { HeaderRow } from '../fields.tsx';
import { statusClass, time } from '../format.ts';
import { useApi, useQuery } from '../hooks.ts';

const METRICS = [
  'max_class_share',
  'low_confidence_share',
  'confidence_mean',
  'record_count',
  'drift_l_infinity',
  'accuracy',
  'macro_f1',
];

export function MonitoringView(props: { admin: boolean; alertCount: number }) {
  // a new alert means a new execution: read the schedules again
  const schedules = useQuery(SCHEDULES, {}, props.alertCount);
  const result = schedules.data?.monitoringSchedules;
  const list = result?.__typename === 'MonitoringScheduleList' ? result.schedules : [];
  return (
    <section aria-labelledby="monitoring-title">
      <h1 id="monitoring-title">Monitoring</h1>
      {schedules.error ? <p role="alert">{schedules.error.message}</p> : null}
      {result && !list.length ? <p>No monitoring schedule yet.</p> : null}
      {list.map((s) => (
        <ScheduleCard key={s.name} schedule={s} admin={props.admin} onRan={schedules.reload} />
      ))}
      {props.admin ? <AlertChannels refresh={props.alertCount} /> : null}
    </section>
  );
}

type Schedule = Extract<
  ResultOf<typeof SCHEDULES>['monitoringSchedules'],
  { __typename: 'MonitoringScheduleList' }
>['schedules'][number];

function ScheduleCard(props: { schedule: Schedule; admin: boolean; onRan(): void }) {
  const api = useApi();
  const { schedule } = props;
  const executions =
    schedule.executions.__typename === 'MonitoringScheduleExecutionList' ? schedule.executions.executions : [];
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [metric, setMetric] = useState(METRICS[0]!);
  const [running, setRunning] = useState<string | undefined>(undefined);
  const chosen = executions.find((e) => e.id === selected) ?? executions[0];
  return (
    <article class="card" aria-labelledby={`schedule-${schedule.name}`}>
      <h2 id={`schedule-${schedule.name}`}>
        {schedule.name} <span class="muted">on {schedule.endpoint}</span>
      </h2>
      <p class="muted">
        cron <code>{schedule.cron}</code>
        {schedule.nextRunAt ? ` · next run ${time(schedule.nextRunAt)}` : ''}
      </p>
      {props.admin ? (
        <p>
          <button
            type="button"
            onClick={async () => {
              setRunning('running…');
              const answer = await api.request(RUN_SCHEDULE, { name: schedule.name }).catch((e: Error) => e);
              const run = answer instanceof Error ? undefined : answer.runMonitoringSchedule;
              setRunning(answer instanceof Error ? answer.message : run && 'message' in run ? run.message : undefined);
              props.onRan();
            }}
          >
            Run now
          </button>{' '}
          <span aria-live="polite">{running}</span>
        </p>
      ) : null}
      <h3>Executions, newest first</h3>
      <ol class="timeline" aria-label={`executions of ${schedule.name}`}>
        {executions.map((e) => (
          <li key={e.id}>
            <button
              type="button"
              class={`tick ${statusClass(e.status)}`}
              aria-pressed={e.id === chosen?.id}
              aria-label={`${e.status}, ${time(e.windowEnd)}, ${e.recordCount} records`}
              title={`${e.status} · ${time(e.windowEnd)}`}
              onClick={() => setSelected(e.id)}
            />
          </li>
        ))}
      </ol>
      {chosen ? (
        <div class="execution" data-testid="execution">
          <p>
            <span class={`badge ${statusClass(chosen.status)}`}>{chosen.status}</span> {time(chosen.windowStart)} –{' '}
            {time(chosen.windowEnd)} · {chosen.recordCount} records
          </p>
          <p>{chosen.message}</p>
          {chosen.violations.length ? (
            <ul>
              {chosen.violations.map((v) => (
                <li key={`${v.featureName}-${v.description}`}>
                  <code>{v.check}</code> <code>{v.constraintCheckType}</code> {v.featureName}: {v.description}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      <ClassShareChart executions={executions} />
      <label>
        Metric{' '}
        <select value={metric} onChange={(e) => setMetric(e.currentTarget.value)}>
          {METRICS.map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>
      </label>
      <MetricChart schedule={schedule.name} name={metric} />
    </article>
  );
}

type Execution = Extract<
  Schedule['executions'],
  { __typename: 'MonitoringScheduleExecutionList' }
>['executions'][number];

/**
 * one class's share of the predictions, execution by execution (0 where the class was not predicted), and
 * its recall where the window had true labels of it (the modelQuality check)
 */
function ClassShareChart(props: { executions: Execution[] }) {
  const oldestFirst = [...props.executions].sort((a, b) => a.windowEnd.localeCompare(b.windowEnd));
  const labels = new Map<number, string>();
  for (const e of oldestFirst) for (const c of e.classes) labels.set(c.classId, c.label);
  // the latest execution's most predicted class first: the one an alert is most likely about
  const top = [...(oldestFirst.at(-1)?.classes ?? [])].sort((a, b) => b.share - a.share)[0]?.classId;
  const [chosen, setChosen] = useState<number | undefined>(undefined);
  const classId = chosen ?? top;
  if (classId === undefined) return null;
  const name = `${classId} ${labels.get(classId) ?? ''}`;
  const recalls = oldestFirst.flatMap((e) => {
    const recall = e.modelQuality?.classes.find((c) => c.classId === classId)?.recall;
    return recall === null || recall === undefined ? [] : [{ time: Date.parse(e.windowEnd) / 1000, recall }];
  });
  return (
    <>
      <label>
        Class{' '}
        <select value={classId} onChange={(e) => setChosen(Number(e.currentTarget.value))}>
          {[...labels]
            .sort((a, b) => a[0] - b[0])
            .map(([id, label]) => (
              <option key={id} value={id}>
                {id} {label}
              </option>
            ))}
        </select>
      </label>
      <TimeChart
        title={`share of ${name} per execution`}
        series={{
          label: `share of ${name}`,
          times: oldestFirst.map((e) => Date.parse(e.windowEnd) / 1000),
          values: oldestFirst.map((e) => e.classes.find((c) => c.classId === classId)?.share ?? 0),
        }}
      />
      {recalls.length ? (
        <TimeChart
          title={`recall of ${name} per execution (true labels)`}
          series={{
            label: `recall of ${name}`,
            times: recalls.map((r) => r.time),
            values: recalls.map((r) => r.recall),
          }}
        />
      ) : null}
    </>
  );
}

function MetricChart(props: { schedule: string; name: string }) {
  const query = useQuery(METRIC, { schedule: props.schedule, name: props.name });
  const result = query.data?.metrics;
  if (result?.__typename !== 'MonitoringMetricSeries') return null;
  if (!result.points.length) return <p class="muted">No values of {props.name} yet.</p>;
  const points = [...result.points].sort((a, b) => a.timestamp.localeCompare(b.timestamp));
  return (
    <TimeChart
      title={`${props.name} per execution`}
      series={{
        label: props.name,
        times: points.map((p) => Date.parse(p.timestamp) / 1000),
        values: points.map((p) => p.value),
      }}
    />
  );
}

/** where alerts are delivered, and each channel's latest deliveries (admin: a channel's URL is a credential) */
function AlertChannels(props: { refresh: number }) {
  const channels = useQuery(ALERT_CHANNELS, {}, props.refresh);
  const list = channels.data?.alertChannels ?? [];
  return (
    <article class="card" aria-labelledby="channels-title">
      <h2 id="channels-title">Alert channels</h2>
      {channels.error ? <p role="alert">{channels.error.message}</p> : null}
      {channels.data && !list.length ? <p class="muted">No channel: alerts reach subscribers only.</p> : null}
      {list.map((c) => (
        <div key={c.name}>
          <h3>
            {c.name} <span class="muted">{c.kind}</span>
          </h3>
          <p class="muted">
            {c.url} · secret …{c.secretHint} · {c.endpoints.length ? c.endpoints.join(', ') : 'every endpoint'}
          </p>
          <Deliveries channel={c.name} refresh={props.refresh} />
        </div>
      ))}
    </article>
  );
}

function Deliveries(props: { channel: string; refresh: number }) {
  const deliveries = useQuery(ALERT_DELIVERIES, { channel: props.channel }, props.refresh);
  const result = deliveries.data?.alertDeliveries;
  if (result?.__typename !== 'AlertDeliveryList') return null;
  if (!result.deliveries.length) return <p class="muted">No delivery yet.</p>;
  return (
    <table>
      <HeaderRow columns={['Created', 'Kind', 'Status', 'Attempts', 'Last error']} />
      <tbody>
        {result.deliveries.map((d) => (
          <tr key={d.id}>
            <td>{time(d.createdAt)}</td>
            <td>{d.kind}</td>
            <td>{d.status}</td>
            <td>{d.attemptCount}</td>
            <td>{d.lastError ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
