/** An endpoint's captures: filters, a table with thumbnails, keyset pages (the API's cursors). */
import { useState } from 'preact/hooks';
import type { VariablesOf } from '../../../graphql.ts';
import { CAPTURES } from '../documents.ts';
import { Field, HeaderRow } from '../fields.tsx';
import { percent, time } from '../format.ts';
import { useQuery } from '../hooks.ts';
import { href } from '../router.ts';

type Filter = NonNullable<VariablesOf<typeof CAPTURES>['filter']>;

const PAGE_SIZE = 25;
/** the inputs of a confidence bound */
const CONFIDENCE = { type: 'number', min: 0, max: 1, step: 0.01 } as const;

export function EndpointView(props: { name: string }) {
  const [filter, setFilter] = useState<Filter>({});
  /** cursors of the pages before this one: `after` of page n is cursors[n - 1] */
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1) ?? null;
  const captures = useQuery(CAPTURES, { endpoint: props.name, first: PAGE_SIZE, after, filter });
  const result = captures.data?.captures;
  const page = result?.__typename === 'CaptureConnection' ? result : undefined;
  return (
    <section aria-labelledby="endpoint-title">
      <h1 id="endpoint-title">Endpoint {props.name}</h1>
      <FilterForm
        onApply={(f) => {
          setCursors([]);
          setFilter(f);
        }}
      />
      {captures.error ? <p role="alert">{captures.error.message}</p> : null}
      {result && result.__typename !== 'CaptureConnection' ? <p role="alert">{result.message}</p> : null}
      {page ? (
        <>
          <p aria-live="polite" data-testid="page-summary">
            {page.totalCount} captures match · page {cursors.length + 1}
          </p>
          <table class="captures">
            <caption class="visually-hidden">Captures of {props.name}, newest first</caption>
            <HeaderRow
              columns={['Image', 'Time', 'Predicted', 'Confidence', 'Outlier score', 'Ground truth', 'Debug step']}
            />
            <tbody>
              {page.edges.map(({ node }) => (
                <tr key={node.id}>
                  <td>
                    {node.inputDataUrl ? (
                      <img src={node.inputDataUrl} width={48} height={48} alt={`input of capture ${node.id}`} />
                    ) : (
                      <span class="muted">not captured</span>
                    )}
                  </td>
                  <td>
                    <a href={href({ view: 'capture', id: node.id })}>{time(node.inferenceTime)}</a>
                  </td>
                  <td>{node.predictedClass === null ? '—' : `${node.predictedClass} ${node.label ?? ''}`}</td>
                  <td>{node.confidence === null ? '—' : percent(node.confidence)}</td>
                  <td>{node.outlierScore === null ? '—' : node.outlierScore.toFixed(2)}</td>
                  <td>{node.groundTruth ? `${node.groundTruth.classId} ${node.groundTruth.label}` : '—'}</td>
                  <td>{node.debugStep ? `step ${node.debugStep.step}` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <nav class="pager" aria-label="Pages">
            <button type="button" disabled={!cursors.length} onClick={() => setCursors((c) => c.slice(0, -1))}>
              Previous page
            </button>
            <button
              type="button"
              disabled={!page.pageInfo.hasNextPage}
              onClick={() => page.pageInfo.endCursor && setCursors((c) => [...c, page.pageInfo.endCursor as string])}
            >
              Next page
            </button>
          </nav>
        </>
      ) : captures.loading ? (
        <p>Loading…</p>
      ) : null}
    </section>
  );
}

function FilterForm(props: { onApply(filter: Filter): void }) {
  const [predictedClass, setPredictedClass] = useState('');
  const [minConfidence, setMinConfidence] = useState('');
  const [maxConfidence, setMaxConfidence] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [minOutlierScore, setMinOutlierScore] = useState('');
  const [debugStep, setDebugStep] = useState<'any' | 'with' | 'without'>('any');
  const number = (text: string) => (text.trim() === '' ? undefined : Number(text));
  const instant = (text: string) => (text ? new Date(text).toISOString() : undefined);
  return (
    <form
      class="filters"
      onSubmit={(event) => {
        event.preventDefault();
        props.onApply({
          predictedClass: number(predictedClass),
          minConfidence: number(minConfidence),
          maxConfidence: number(maxConfidence),
          from: instant(from),
          to: instant(to),
          minOutlierScore: number(minOutlierScore),
          hasDebugStep: debugStep === 'any' ? undefined : debugStep === 'with',
        });
      }}
    >
      <Field label="Class" type="number" min={0} max={42} value={predictedClass} onText={setPredictedClass} />
      <Field label="Min confidence" {...CONFIDENCE} value={minConfidence} onText={setMinConfidence} />
      <Field label="Max confidence" {...CONFIDENCE} value={maxConfidence} onText={setMaxConfidence} />
      <Field label="From" type="datetime-local" value={from} onText={setFrom} />
      <Field label="To" type="datetime-local" value={to} onText={setTo} />
      <Field
        label="Min outlier score"
        type="number"
        min={0}
        step={0.1}
        value={minOutlierScore}
        onText={setMinOutlierScore}
      />
      <label>
        Debug step
        <select value={debugStep} onChange={(e) => setDebugStep(e.currentTarget.value as typeof debugStep)}>
          <option value="any">any</option>
          <option value="with">with a step</option>
          <option value="without">without</option>
        </select>
      </label>
      <button type="submit">Apply filters</button>
    </form>
  );
}
