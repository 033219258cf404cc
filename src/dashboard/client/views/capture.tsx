/** One capture: its image, top classes, the saliency figure for a chosen method, the hook's tensors. */
import { useState } from 'preact/hooks';
import type { VariablesOf } from '../../../graphql.ts';
import { CAPTURE } from '../documents.ts';
import { HeaderRow } from '../fields.tsx';
import { percent, time } from '../format.ts';
import { useQuery } from '../hooks.ts';
import { href } from '../router.ts';

type Method = VariablesOf<typeof CAPTURE>['method'];
const METHODS: readonly Method[] = [
  'FULLGRAD',
  'SIMPLE_FULLGRAD',
  'INPUT_X_GRADIENT',
  'GRAD_CAM',
  'INTEGRATED_GRADIENTS',
];

export function CaptureView(props: { id: string }) {
  const [method, setMethod] = useState<Method>('FULLGRAD');
  /** the class explained: '' for the one the step's tensors explain (its predicted class) */
  const [classId, setClassId] = useState('');
  const query = useQuery(CAPTURE, { id: props.id, method, classId: classId === '' ? null : Number(classId) });
  const capture = query.data?.capture;
  if (query.error) return <p role="alert">{query.error.message}</p>;
  if (!query.data) return <p>Loading…</p>;
  if (!capture) return <p role="alert">No capture {props.id}.</p>;
  const saliency = capture.saliency;
  return (
    <section aria-labelledby="capture-title">
      <p>
        <a href={href({ view: 'endpoint', name: capture.endpoint })}>← {capture.endpoint}</a>
      </p>
      <h1 id="capture-title">Capture {capture.id}</h1>
      <p class="muted">
        {time(capture.inferenceTime)} · event {capture.eventId} · model {capture.modelVersion}
        {capture.groundTruth ? ` · true class ${capture.groundTruth.classId} ${capture.groundTruth.label}` : ''}
      </p>
      <div class="capture-detail">
        <figure>
          {capture.inputDataUrl ? (
            <img src={capture.inputDataUrl} width={192} height={192} alt="the captured input" class="pixelated" />
          ) : (
            <p>The input was not captured.</p>
          )}
          <figcaption>Input</figcaption>
        </figure>
        <table>
          <caption>Top classes</caption>
          <HeaderRow columns={['Class', 'Probability']} />
          <tbody>
            {capture.top.map((c) => (
              <tr key={c.classId}>
                <td>
                  {c.classId} {c.label}
                </td>
                <td>{percent(c.probability)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Saliency</h2>
      <label>
        Method{' '}
        <select value={method} onChange={(e) => setMethod(e.currentTarget.value as Method)}>
          {METHODS.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      </label>
      <label>
        Class{' '}
        <select value={classId} onChange={(e) => setClassId(e.currentTarget.value)}>
          <option value="">predicted</option>
          {[...capture.top, ...(capture.groundTruth ? [capture.groundTruth] : [])].map((c) => (
            <option key={c.classId} value={String(c.classId)}>
              {c.classId} {c.label}
            </option>
          ))}
        </select>
      </label>
      {saliency.__typename === 'SaliencyMap' ? (
        <div class="saliency" data-testid="saliency">
          <figure>
            <img
              src={saliency.overlayPng}
              width={256}
              height={256}
              alt={`${method} saliency over the input, class ${saliency.label ?? saliency.classId}`}
            />
            <figcaption>
              Overlay: class {saliency.classId} {saliency.label}
            </figcaption>
          </figure>
          <figure>
            <img src={saliency.heatmapPng} width={256} height={256} alt={`${method} heatmap`} />
            <figcaption>Heatmap</figcaption>
          </figure>
          <p>
            {saliency.background.flagged ? (
              <strong role="alert">{saliency.background.message}</strong>
            ) : (
              'Most of the saliency is on the sign, not the background.'
            )}
            {saliency.completenessResidual === null
              ? null
              : ` Completeness residual ${saliency.completenessResidual.toExponential(1)}.`}
          </p>
        </div>
      ) : (
        <p>{saliency.message}</p>
      )}
      {capture.debugStep ? (
        <>
          <h2>Tensors of debug step {capture.debugStep.step}</h2>
          <table>
            <HeaderRow columns={['Name', 'Shape', 'Type', 'Stored bytes']} />
            <tbody>
              {capture.debugStep.tensors.map((t) => (
                <tr key={t.name}>
                  <td>
                    <code>{t.name}</code>
                  </td>
                  <td>{t.shape.join('×')}</td>
                  <td>{t.dtype}</td>
                  <td>{t.storedBytes}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}
