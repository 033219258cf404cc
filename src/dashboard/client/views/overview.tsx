/** Overview: every endpoint's traffic, class distribution against its baseline, confidence, and live alerts. */
import { useState } from 'preact/hooks';
import { ClassBars, type ClassShare, Histogram } from '../charts.tsx';
import { ENDPOINT_SUMMARY, ENDPOINTS, PREDICTIONS } from '../documents.ts';
import { percent } from '../format.ts';
import { useQuery, useSubscription } from '../hooks.ts';
import { href } from '../router.ts';
import type { AlertItem } from './alerts.tsx';
import { AlertList } from './alerts.tsx';

/** predictions kept per endpoint for the live charts */
const RECENT = 500;
const RATE_WINDOW_MS = 60_000;
/** an outlier score above 1: further from the baseline's inputs than 99 % of them */
const OUTLIER = 1;

interface Recent {
  at: number;
  predictedClass: number;
  label: string;
  confidence: number;
  /** null without a baseline with an input profile */
  outlierScore: number | null;
  live: boolean;
}

export function Overview(props: { alerts: AlertItem[] }) {
  const endpoints = useQuery(ENDPOINTS, {});
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      {endpoints.error ? <p role="alert">{endpoints.error.message}</p> : null}
      {endpoints.data?.endpoints.length === 0 ? <p>No endpoint yet: create one with createEndpoint.</p> : null}
      <div class="cards">
        {endpoints.data?.endpoints.map((e) => (
          <EndpointCard key={e.name} name={e.name} model={e.model} sampling={e.dataCapture.samplingPercentage} />
        ))}
      </div>
      <h2>Latest alerts</h2>
      <AlertList alerts={props.alerts} />
    </section>
  );
}

function EndpointCard(props: { name: string; model: string; sampling: number }) {
  const summary = useQuery(ENDPOINT_SUMMARY, { endpoint: props.name });
  const [live, setLive] = useState<Recent[]>([]);
  const [now, setNow] = useState(Date.now());
  useSubscription(PREDICTIONS, { endpoint: props.name }, ({ predictions: p }) => {
    setNow(Date.now());
    setLive((items) =>
      [
        {
          at: Date.parse(p.at),
          predictedClass: p.predictedClass,
          label: p.label,
          confidence: p.confidence,
          outlierScore: p.outlierScore,
          live: true,
        },
        ...items,
      ].slice(0, RECENT),
    );
  });
  const captures = summary.data?.captures;
  const stored: Recent[] =
    captures?.__typename === 'CaptureConnection'
      ? captures.edges.flatMap(({ node }) =>
          node.predictedClass === null || node.confidence === null
            ? []
            : [
                {
                  at: Date.parse(node.inferenceTime),
                  predictedClass: node.predictedClass,
                  label: node.label ?? '',
                  confidence: node.confidence,
                  outlierScore: node.outlierScore,
                  live: false,
                },
              ],
        )
      : [];
  const recent = [...live, ...stored].slice(0, RECENT);
  const rate = live.filter((r) => r.at > now - RATE_WINDOW_MS).length / (RATE_WINDOW_MS / 1000);
  const baselines = summary.data?.baselines;
  const baseline = baselines?.__typename === 'BaselineList' ? baselines.baselines[0] : undefined;
  const shares = classShares(recent);
  const lowConfidence = recent.filter((r) => r.confidence < 0.5).length;
  const scored = recent.filter((r) => r.outlierScore !== null);
  const outliers = scored.filter((r) => (r.outlierScore ?? 0) > OUTLIER).length;
  return (
    <article class="card" aria-labelledby={`card-${props.name}`}>
      <h2 id={`card-${props.name}`}>
        <a href={href({ view: 'endpoint', name: props.name })}>{props.name}</a>
      </h2>
      <p class="muted">
        {props.model} · capturing {props.sampling} % ·{' '}
        {captures?.__typename === 'CaptureConnection' ? captures.totalCount : '…'} captures
      </p>
      <dl class="figures">
        <div>
          <dt>Requests / s (last minute, live)</dt>
          <dd data-testid="rate">{rate.toFixed(2)}</dd>
        </div>
        <div>
          <dt>Low confidence (&lt; 0.5)</dt>
          <dd>{recent.length ? percent(lowConfidence / recent.length) : '—'}</dd>
        </div>
        <div>
          <dt>Outliers (score &gt; 1)</dt>
          <dd data-testid="outliers" title="further from the baseline's inputs than 99 % of them">
            {scored.length ? percent(outliers / scored.length) : 'no reference'}
          </dd>
        </div>
        <div>
          <dt>Predictions shown</dt>
          <dd>{recent.length}</dd>
        </div>
      </dl>
      {recent.length ? (
        <div class="charts">
          <ClassBars
            title={baseline ? `Classes now vs baseline '${baseline.name}'` : 'Classes now (no baseline)'}
            now={shares}
            baseline={baseline?.classes}
          />
          <Histogram title="Confidence" values={recent.map((r) => r.confidence)} />
        </div>
      ) : (
        <p>No predictions yet.</p>
      )}
    </article>
  );
}

function classShares(recent: Recent[]): ClassShare[] {
  const counts = new Map<number, { label: string; count: number }>();
  for (const r of recent) {
    const entry = counts.get(r.predictedClass) ?? { label: r.label, count: 0 };
    entry.count += 1;
    counts.set(r.predictedClass, entry);
  }
  return [...counts].map(([classId, { label, count }]) => ({ classId, label, share: count / recent.length }));
}
