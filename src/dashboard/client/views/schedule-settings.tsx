/** Settings (admin) of each monitoring schedule: cron, baseline, the checks' thresholds, pause and resume. */
import { useState } from 'preact/hooks';
import type { ResultOf, VariablesOf } from '../../../graphql.ts';
import { PAUSE_SCHEDULE, RESUME_SCHEDULE, SCHEDULE_SETTINGS, UPDATE_SCHEDULE } from '../documents.ts';
import { Field } from '../fields.tsx';
import { useApi, useQuery } from '../hooks.ts';

type Schedule = Extract<
  ResultOf<typeof SCHEDULE_SETTINGS>['monitoringSchedules'],
  { __typename: 'MonitoringScheduleList' }
>['schedules'][number];
type Checks = NonNullable<VariablesOf<typeof UPDATE_SCHEDULE>['input']['checks']>;

/** a share or probability field: 0–1 in hundredths */
const SHARE = { type: 'number', min: 0, max: 1, step: 0.01 } as const;

export function ScheduleSettings() {
  const schedules = useQuery(SCHEDULE_SETTINGS, {});
  const result = schedules.data?.monitoringSchedules;
  if (!result) return schedules.error ? <p role="alert">{schedules.error.message}</p> : null;
  if (result.__typename !== 'MonitoringScheduleList') return <p role="alert">{result.message}</p>;
  return (
    <>
      <h2>Monitoring schedules</h2>
      {result.schedules.length ? null : <p class="muted">No monitoring schedule yet.</p>}
      {result.schedules.map((s) => (
        <ScheduleForm key={s.name} schedule={s} onSaved={schedules.reload} />
      ))}
    </>
  );
}

/** text of an optional number: '' when it is null */
const text = (value: number | null | undefined) => (value === null || value === undefined ? '' : String(value));
/** an optional number from its text: undefined (left as it is) when empty */
const number = (value: string) => (value.trim() === '' ? undefined : Number(value));

function ScheduleForm(props: { schedule: Schedule; onSaved(): void }) {
  const api = useApi();
  const { schedule } = props;
  const { checks } = schedule;
  const [cron, setCron] = useState(schedule.cron);
  const [baseline, setBaseline] = useState(schedule.baseline?.name ?? '');
  const [minSampleSize, setMinSampleSize] = useState(String(checks.minSampleSize));
  const [classShare, setClassShare] = useState(text(checks.classShare.threshold));
  const [lowConfidence, setLowConfidence] = useState(text(checks.lowConfidence.confidenceThreshold));
  const [lowConfidenceShare, setLowConfidenceShare] = useState(text(checks.lowConfidence.maxShare));
  const [drift, setDrift] = useState(text(checks.drift.lInfinityThreshold));
  const [minAccuracy, setMinAccuracy] = useState(text(checks.modelQuality.minAccuracy));
  const [outcome, setOutcome] = useState('');
  const id = (field: string) => `schedule-${schedule.name}-${field}`;

  /** one mutation's answer as the line shown under the form; reloads on success */
  const report = (answer: { __typename: string; message?: string } | Error, done: string) => {
    const failed = answer instanceof Error || 'message' in answer;
    setOutcome(failed ? `Not saved: ${answer.message}` : done);
    if (!failed) props.onSaved();
  };

  const save = async () => {
    const input: Checks = {
      minSampleSize: number(minSampleSize),
      classShare: { threshold: number(classShare) },
      lowConfidence: { confidenceThreshold: number(lowConfidence), maxShare: number(lowConfidenceShare) },
      drift: { lInfinityThreshold: number(drift) },
      modelQuality: { minAccuracy: number(minAccuracy) },
    };
    const answer = await api
      .request(UPDATE_SCHEDULE, { name: schedule.name, input: { cron, baseline, checks: input } })
      .catch((e: Error) => e);
    report(answer instanceof Error ? answer : answer.updateMonitoringSchedule, 'Saved.');
  };

  const paused = schedule.status === 'PAUSED';
  const togglePause = async () => {
    const answer = paused
      ? await api
          .request(RESUME_SCHEDULE, { name: schedule.name })
          .then((a) => a.resumeMonitoringSchedule)
          .catch((e: Error) => e)
      : await api
          .request(PAUSE_SCHEDULE, { name: schedule.name })
          .then((a) => a.pauseMonitoringSchedule)
          .catch((e: Error) => e);
    report(answer, paused ? 'Resumed.' : 'Paused.');
  };

  return (
    <form
      class="card settings"
      aria-labelledby={id('title')}
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      <h3 id={id('title')}>
        {schedule.name} <span class="muted">on {schedule.endpoint}</span> <span class="badge">{schedule.status}</span>
      </h3>
      <Field label="Cron (UTC)" type="text" maxLength={100} value={cron} onText={setCron} />
      <Field label="Baseline (empty: none)" type="text" maxLength={200} value={baseline} onText={setBaseline} />
      <Field
        label="Minimum sample size"
        type="number"
        min={1}
        step={1}
        value={minSampleSize}
        onText={setMinSampleSize}
      />
      <Field label="Class share threshold" {...SHARE} value={classShare} onText={setClassShare} />
      <Field label="Low-confidence threshold" {...SHARE} value={lowConfidence} onText={setLowConfidence} />
      <Field
        label="Low-confidence maximum share"
        {...SHARE}
        value={lowConfidenceShare}
        onText={setLowConfidenceShare}
      />
      <Field label="Drift L∞ threshold" {...SHARE} value={drift} onText={setDrift} />
      <Field label="Minimum accuracy" {...SHARE} value={minAccuracy} onText={setMinAccuracy} />
      <p>
        <button type="submit">Save {schedule.name}</button>{' '}
        <button type="button" onClick={() => void togglePause()}>
          {paused ? 'Resume' : 'Pause'} {schedule.name}
        </button>
      </p>
      <p aria-live="polite">{outcome}</p>
    </form>
  );
}
