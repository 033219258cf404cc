/**
 * Adversarial lab (admin): an image, a target class and a method make an adversarial image on the debug
 * graph (createAdversarial); the page shows original, adversarial and their difference, explains each
 * for its predicted class (explain), and can send the adversarial image to an endpoint (predict).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ResultOf, VariablesOf } from '../../../graphql.ts';
import { CREATE_ADVERSARIAL, ENDPOINTS, EXPLAIN, PREDICT } from '../documents.ts';
import { Field } from '../fields.tsx';
import { percent } from '../format.ts';
import { useApi, useQuery } from '../hooks.ts';

type Method = NonNullable<VariablesOf<typeof CREATE_ADVERSARIAL>['input']['method']>;
const METHODS: readonly Method[] = ['DEEPFOOL', 'PGD', 'BIM', 'FGSM'];
type Adversarial = Extract<ResultOf<typeof CREATE_ADVERSARIAL>['createAdversarial'], { __typename: 'Adversarial' }>;
type Explanation = Extract<ResultOf<typeof EXPLAIN>['explain'], { __typename: 'ImageExplanation' }>;

/** a data: URL's base64 payload */
const base64Of = (dataUrl: string) => dataUrl.slice(dataUrl.indexOf(',') + 1);

export function LabView(props: { admin: boolean }) {
  const api = useApi();
  const endpoints = useQuery(ENDPOINTS, {});
  const [endpoint, setEndpoint] = useState('');
  const [original, setOriginal] = useState<string | undefined>();
  const [target, setTarget] = useState('14');
  const [method, setMethod] = useState<Method>('PGD');
  const [epsilon, setEpsilon] = useState('8');
  const [status, setStatus] = useState('');
  const [result, setResult] = useState<Adversarial | undefined>();
  const [explained, setExplained] = useState<(Explanation | string)[]>([]);
  const [sent, setSent] = useState('');
  const names = endpoints.data?.endpoints.map((e) => e.name) ?? [];
  const chosen = endpoint || names[0] || '';
  if (!props.admin)
    return <p role="alert">The adversarial lab needs an admin key (attacks read the model's gradients).</p>;

  const explain = async (dataUrl: string, classId: number) => {
    const answer = await api.request(EXPLAIN, { image: { base64: base64Of(dataUrl) }, endpoint: chosen, classId });
    return answer.explain.__typename === 'ImageExplanation' ? answer.explain : answer.explain.message;
  };
  const run = async () => {
    if (!original) return;
    setStatus('attacking… (up to a minute on two cores)');
    setResult(undefined);
    setExplained([]);
    setSent('');
    const answer = await api
      .request(CREATE_ADVERSARIAL, {
        input: {
          image: { base64: base64Of(original) },
          target: Number(target),
          method,
          epsilon: Number(epsilon),
          endpoint: chosen,
        },
      })
      .catch((e: Error) => e);
    const made = answer instanceof Error ? answer : answer.createAdversarial;
    if (made instanceof Error || made.__typename !== 'Adversarial') {
      setStatus(`Not made: ${made.message}`);
      return;
    }
    setResult(made);
    setStatus(
      made.success
        ? `Reached class ${made.target} in ${made.iterations} iterations.`
        : `Did not reach class ${made.target}.`,
    );
    setExplained(
      await Promise.all([explain(original, made.originalClass), explain(made.dataUrl, made.adversarialClass)]),
    );
  };
  return (
    <section aria-labelledby="lab-title">
      <h1 id="lab-title">Adversarial lab</h1>
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          void run();
        }}
      >
        <label>
          Image
          <input
            type="file"
            accept="image/png,image/jpeg,image/webp"
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              if (!file) return;
              const reader = new FileReader();
              reader.onload = () => setOriginal(String(reader.result));
              reader.readAsDataURL(file);
            }}
          />
        </label>
        <label>
          Endpoint
          <select value={chosen} onChange={(e) => setEndpoint(e.currentTarget.value)}>
            {names.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
        <Field label="Target class" type="number" min={0} max={42} value={target} onText={setTarget} />
        <label>
          Method
          <select value={method} onChange={(e) => setMethod(e.currentTarget.value as Method)}>
            {METHODS.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        <Field
          label="Epsilon (pixel levels)"
          type="number"
          min={0.5}
          max={64}
          step={0.5}
          value={epsilon}
          onText={setEpsilon}
        />
        <button type="submit" disabled={!original || !chosen}>
          Make adversarial
        </button>
      </form>
      <p aria-live="polite" data-testid="lab-status">
        {status}
      </p>
      {original && result ? (
        <>
          <div class="saliency" data-testid="lab-result">
            <figure>
              <img src={original} width={192} height={192} alt="original" class="pixelated" />
              <figcaption>Original: class {result.originalClass}</figcaption>
            </figure>
            <figure>
              <img src={result.dataUrl} width={192} height={192} alt="adversarial" class="pixelated" />
              <figcaption>
                Model prediction: class {result.adversarialClass} ({percent(result.targetConfidence)} for the target)
              </figcaption>
            </figure>
            <Difference original={original} adversarial={result.dataUrl} />
          </div>
          <p>
            {result.method}: L2 {result.l2.toFixed(1)}, L∞ {result.linf.toFixed(1)} pixel levels, {result.iterations}{' '}
            iterations.
          </p>
          <h2>Explanations</h2>
          <div class="saliency">
            {explained.map((e, i) =>
              typeof e === 'string' ? (
                <p key={i}>{e}</p>
              ) : (
                <figure key={i}>
                  <img
                    src={e.overlayPng}
                    width={256}
                    height={256}
                    alt={`saliency for class ${e.classId} ${e.label ?? ''}`}
                  />
                  <figcaption>
                    {i === 0 ? 'Original' : 'Adversarial'}, explained for {e.classId} {e.label}
                  </figcaption>
                </figure>
              ),
            )}
          </div>
          <button
            type="button"
            onClick={async () => {
              const answer = await api
                .request(PREDICT, { endpoint: chosen, image: { base64: base64Of(result.dataUrl) } })
                .catch((e: Error) => e);
              const p = answer instanceof Error ? answer : answer.predict;
              setSent(
                p instanceof Error || p.__typename !== 'Prediction'
                  ? `Not sent: ${p.message}`
                  : `${chosen} predicted ${p.predictedClass} ${p.label} (${percent(p.confidence)})`,
              );
            }}
          >
            Send the adversarial image to {chosen}
          </button>
          <p aria-live="polite">{sent}</p>
        </>
      ) : null}
    </section>
  );
}

/** |adversarial − original| per pixel, amplified ×8, drawn on a canvas from the two images */
function Difference(props: { original: string; adversarial: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const size = 128;
    const load = (src: string) =>
      new Promise<HTMLImageElement>((resolve, reject) => {
        const image = new Image();
        image.onload = () => resolve(image);
        image.onerror = reject;
        image.src = src;
      });
    void Promise.all([load(props.original), load(props.adversarial)]).then(([a, b]) => {
      const scratch = document.createElement('canvas');
      scratch.width = size;
      scratch.height = size;
      const context = scratch.getContext('2d');
      const target = canvas.current?.getContext('2d');
      if (!context || !target) return;
      context.drawImage(a, 0, 0, size, size);
      const before = context.getImageData(0, 0, size, size);
      context.drawImage(b, 0, 0, size, size);
      const after = context.getImageData(0, 0, size, size);
      const out = target.createImageData(size, size);
      for (let i = 0; i < out.data.length; i += 4) {
        for (let c = 0; c < 3; c++)
          out.data[i + c] = Math.min(255, Math.abs(after.data[i + c]! - before.data[i + c]!) * 8);
        out.data[i + 3] = 255;
      }
      target.putImageData(out, 0, 0);
    });
  }, [props.original, props.adversarial]);
  return (
    <figure>
      <canvas
        ref={canvas}
        width={128}
        height={128}
        class="difference"
        role="img"
        aria-label="difference between the two, amplified eight times"
      />
      <figcaption>Difference ×8</figcaption>
    </figure>
  );
}
