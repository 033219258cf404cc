/**
 * createAdversarial: an uploaded image attacked toward a target class on an endpoint's model (or a model
 * named directly), the adversarial PNG stored and served at `/adversarial/<id>.png`.
 *
 * Bounded work: an attack is up to MAX_ATTACK_ITERATIONS debug-graph runs on the main thread's
 * onnxruntime session (~60 ms each for the bundled model on two cores), so at most
 * MAX_CONCURRENT_ATTACKS run at once and one more is refused at once with UNAVAILABLE (no queue: a
 * queued attack would hold its decoded image and its client for seconds). Between iterations the
 * event loop serves predict, and a client that disconnects stops its attack.
 */
import { randomUUID } from 'node:crypto';
import { unavailableOr } from '../db/faults.ts';
import type { EndpointService } from '../endpoints/service.ts';
import { NotFoundError, UnavailableError, ValidationError } from '../errors.ts';
import { modelOf } from '../inference/model-of.ts';
import type { DecodeLimits } from '../inference/preprocess.ts';
import type { ModelRegistry } from '../models/registry.ts';
import type { ModelRuntime } from '../models/runtime.ts';
import { attackImage } from './attack-image.ts';
import { type AttackMethod, DEFAULT_EPSILON } from './methods.ts';
import type { AdversarialRecord, AdversarialStore } from './store.ts';

/** iterations one request may ask for: the write-up's DeepFool ran 100 */
export const MAX_ATTACK_ITERATIONS = 100;
/** the L∞ radius (and step) a request may ask for, in pixel levels */
export const MAX_EPSILON = 64;

export const DEFAULT_ITERATIONS: Readonly<Record<AttackMethod, number>> = {
  DEEPFOOL: 100,
  PGD: 20,
  BIM: 20,
  FGSM: 1,
};

export interface CreateAdversarialInput {
  image: Uint8Array;
  target: number;
  method: AttackMethod;
  /** exactly one of endpoint and model */
  endpoint?: string | null | undefined;
  model?: string | null | undefined;
  epsilon?: number | null | undefined;
  stepSize?: number | null | undefined;
  maxIterations?: number | null | undefined;
}

export interface Adversarial extends AdversarialRecord {
  png: Uint8Array;
}

export interface AttackServiceDeps {
  endpoints: Pick<EndpointService, 'snapshot'>;
  runtimes: Pick<ModelRegistry, 'get'>;
  store: AdversarialStore;
  limits: DecodeLimits;
  maxConcurrent: number;
}

export class AttackService {
  #running = 0;
  /** attacks refused because MAX_CONCURRENT_ATTACKS were running */
  shed = 0;

  constructor(private readonly deps: AttackServiceDeps) {}

  get running(): number {
    return this.#running;
  }

  async create(input: CreateAdversarialInput, signal?: AbortSignal): Promise<Adversarial> {
    const { runtime, endpoint } = await this.#target(input);
    const parameters = checkParameters(input, runtime);
    if (this.#running >= this.deps.maxConcurrent) {
      this.shed++;
      throw new UnavailableError(
        `${this.#running} adversarial attacks are running (MAX_CONCURRENT_ATTACKS is ${this.deps.maxConcurrent}): retry after 5 s`,
        5,
      );
    }
    this.#running++;
    try {
      const result = await attackImage(runtime, input.image, this.deps.limits, { ...parameters, signal });
      const record = {
        id: randomUUID(),
        createdAt: new Date(),
        model: runtime.entry.name,
        endpoint,
        method: parameters.method,
        target: parameters.target,
        ...result,
      };
      await this.deps.store.insert(record).catch((error: unknown) => {
        throw unavailableOr(error);
      });
      return record;
    } finally {
      this.#running--;
    }
  }

  /** the adversarial PNG and the original it was made from; NotFoundError when none has this id */
  async images(id: string): Promise<{ record: AdversarialRecord; png: Uint8Array; original: Uint8Array | null }> {
    const [record, images] = await Promise.all([this.deps.store.get(id), this.deps.store.images(id)]);
    if (!record || !images) throw new NotFoundError('Adversarial', id);
    return { record, ...images };
  }

  /** the stored PNG; NotFoundError when none has this id */
  async png(id: string): Promise<Uint8Array> {
    const png = await this.deps.store.png(id);
    if (!png) throw new NotFoundError('Adversarial', id);
    return png;
  }

  async #target(input: CreateAdversarialInput): Promise<{ runtime: ModelRuntime; endpoint: string | null }> {
    const model = await modelOf(this.deps.endpoints, input);
    const runtime = await this.deps.runtimes.get(model);
    if (!runtime.entry.manifest.debug)
      throw new ValidationError(input.model ? 'model' : 'endpoint', `model ${model} has no debug graph to attack with`);
    return { runtime, endpoint: input.endpoint ?? null };
  }
}

function checkParameters(input: CreateAdversarialInput, runtime: ModelRuntime) {
  const classes = runtime.classCount;
  if (!Number.isInteger(input.target) || input.target < 0 || input.target >= classes)
    throw new ValidationError('target', `target must be a class from 0 to ${classes - 1}, got ${input.target}`);
  const maxIterations = input.maxIterations ?? DEFAULT_ITERATIONS[input.method];
  if (!Number.isInteger(maxIterations) || maxIterations < 1 || maxIterations > MAX_ATTACK_ITERATIONS)
    throw new ValidationError(
      'maxIterations',
      `maxIterations must be from 1 to ${MAX_ATTACK_ITERATIONS}, got ${maxIterations}`,
    );
  const epsilon = input.epsilon ?? DEFAULT_EPSILON;
  checkLevels(epsilon, 'epsilon');
  const stepSize = input.stepSize ?? undefined;
  if (stepSize !== undefined) checkLevels(stepSize, 'stepSize');
  return { method: input.method, target: input.target, maxIterations, epsilon, stepSize };
}

function checkLevels(value: number, field: string): void {
  if (!Number.isFinite(value) || value <= 0 || value > MAX_EPSILON)
    throw new ValidationError(field, `${field} must be above 0 and at most ${MAX_EPSILON} pixel levels, got ${value}`);
}
