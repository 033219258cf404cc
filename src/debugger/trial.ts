/**
 * smdebug's Trial over an endpoint's saved steps: `steps(mode)`, `tensor_names(step, regex, collection)`,
 * `tensor(name).value(step)` and `tensor(name).reduction_value(step, kind, abs)`. Unknown steps and
 * names are NotFoundErrors that say which exist.
 */
import type { Endpoint, EndpointLookup } from '../endpoints/types.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import type { ModelCatalog } from '../models/catalog.ts';
import { COLLECTION_NAMES, COLLECTIONS, isCollectionName } from './collections.ts';
import { type ReductionKind, reduce } from './reductions.ts';
import { checkRegexSyntax, type RegexGuard } from './regex-guard.ts';
import type { DecodedTensor, ModeKey, StepRecord, TensorRecord, TensorStore } from './store.ts';
import { regexCandidates } from './tensor-names.ts';

export interface Trial {
  endpoint: Endpoint;
}

/** a saved step with the endpoint it belongs to */
export interface StepRef extends StepRecord {
  endpointName: string;
  model: string;
}

export interface TrialTensor {
  trial: Trial;
  name: string;
  mode: ModeKey;
}

export interface TensorValue {
  name: string;
  step: number;
  /** as saved: per-request tensors carry the batch dimension (1), constants do not */
  shape: number[];
  dtype: string;
  encoding: string;
  storedBytes: number;
  values: Float32Array;
}

export interface TensorNamesQuery {
  step?: number | null;
  mode?: ModeKey;
  /** re.match semantics: matches from the start of the name */
  regex?: string | null;
  collection?: string | null;
}

/** "0, 3, 6" — or, past `max`, the first and last few and the count */
export function describeList(items: readonly (string | number)[], max = 20): string {
  if (items.length <= max) return items.join(', ');
  const head = items.slice(0, max - 5);
  const tail = items.slice(-3);
  return `${head.join(', ')}, …, ${tail.join(', ')} (${items.length} in all)`;
}

/** the hook configuration that saves steps, for messages */
export const ENABLE_HOOK_HINT =
  'enable the debugger hook with updateEndpoint(name, input: { debugHook: { enabled: true, collections: ["fullgrad"] } }) ' +
  '(or includeRegex ".*bn|.*bias|.*downsample|.*ResNet_input|.*image")';

export class TrialService {
  constructor(
    private readonly deps: {
      store: TensorStore;
      endpoints: EndpointLookup;
      regexes: RegexGuard;
      /** the models' tensor sites, for the smdebug aliases a regex matches */
      models?: Pick<ModelCatalog, 'get'>;
    },
  ) {}

  async trial(endpointName: string): Promise<Trial> {
    const endpoint = await this.deps.endpoints.require(endpointName);
    return { endpoint };
  }

  steps(trial: Trial, mode: ModeKey = 'PREDICT'): Promise<number[]> {
    return this.deps.store.steps(trial.endpoint.id, mode);
  }

  /** NotFoundError listing the steps that exist */
  async step(trial: Trial, step: number, mode: ModeKey = 'PREDICT'): Promise<StepRef> {
    const found = await this.deps.store.step(trial.endpoint.id, mode, step);
    if (found) return this.ref(trial.endpoint, found);
    throw await this.#unknownStep(trial, step, mode);
  }

  ref(endpoint: Pick<Endpoint, 'name' | 'model'>, step: StepRecord): StepRef {
    return { ...step, endpointName: endpoint.name, model: endpoint.model };
  }

  async tensorNames(trial: Trial, query: TensorNamesQuery = {}): Promise<string[]> {
    const mode = query.mode ?? 'PREDICT';
    if (query.regex) checkRegexSyntax(query.regex, 'regex');
    let collection: RegExp | undefined;
    if (query.collection) {
      if (!isCollectionName(query.collection)) {
        throw new ValidationError(
          'collection',
          `Unknown collection '${query.collection}': known collections are ${COLLECTION_NAMES.join(', ')}`,
        );
      }
      collection = COLLECTIONS[query.collection];
    }
    let names: string[];
    if (query.step === undefined || query.step === null) {
      names = await this.deps.store.namesAcrossSteps(trial.endpoint.id, mode);
    } else {
      const ref = await this.step(trial, query.step, mode);
      names = (await this.deps.store.tensors(ref.id)).map((t) => t.name);
    }
    const inCollection = collection ? names.filter((n) => collection.test(n)) : names;
    // the client's pattern runs off the main thread, under a time limit (regex-guard.ts)
    if (!query.regex) return inCollection;
    // a name matches through its smdebug aliases too, as an include regex does (tensor-names.ts)
    const sites = this.deps.models?.get(trial.endpoint.model)?.manifest.tensorSites ?? [];
    const candidates = regexCandidates({ names: inCollection, sites });
    const matched = await this.deps.regexes.matchFromStart(query.regex, candidates, 'regex');
    return inCollection.filter((_, i) => matched[i]);
  }

  /** a step's tensors without their values */
  tensorsOf(ref: StepRef): Promise<TensorRecord[]> {
    return this.deps.store.tensors(ref.id);
  }

  /** several steps' tensors without their values, by step id, in one query (for DataLoaders) */
  tensorsOfSteps(stepIds: readonly string[]): Promise<Map<string, TensorRecord[]>> {
    return this.deps.store.tensorsOfSteps(stepIds);
  }

  /** the steps saved with several captures, by capture id, in one query (for DataLoaders) */
  stepsOfCaptures(captureIds: readonly string[]): Promise<Map<string, StepRecord>> {
    return this.deps.store.stepsOfCaptures(captureIds);
  }

  /** NotFoundError listing the saved names when no step saved `name` */
  async tensor(trial: Trial, name: string, mode: ModeKey = 'PREDICT'): Promise<TrialTensor> {
    if (await this.deps.store.hasTensor(trial.endpoint.id, mode, name)) return { trial, name, mode };
    const names = await this.deps.store.namesAcrossSteps(trial.endpoint.id, mode);
    const saved = names.length
      ? `saved tensors are ${describeList(names, 60)}`
      : `no tensors are saved for it in mode ${mode} (${ENABLE_HOOK_HINT})`;
    throw new NotFoundError(
      'Tensor',
      name,
      `Tensor '${name}' was not saved by endpoint '${trial.endpoint.name}': ${saved}`,
    );
  }

  tensorSteps(tensor: TrialTensor): Promise<number[]> {
    return this.deps.store.stepsWithTensor(tensor.trial.endpoint.id, tensor.mode, tensor.name);
  }

  async value(tensor: TrialTensor, step: number): Promise<TensorValue> {
    const decoded = await this.#decoded(tensor, step);
    return {
      name: decoded.name,
      step,
      shape: decoded.shape,
      dtype: decoded.dtype,
      encoding: decoded.encoding,
      storedBytes: decoded.bytes,
      values: decoded.values,
    };
  }

  async reduction(tensor: TrialTensor, step: number, kind: ReductionKind, abs = false): Promise<number> {
    return reduce((await this.#decoded(tensor, step)).values, kind, abs);
  }

  async #decoded(tensor: TrialTensor, step: number): Promise<DecodedTensor> {
    const ref = await this.step(tensor.trial, step, tensor.mode);
    const decoded = await this.deps.store.readOne(ref.id, tensor.name);
    if (decoded) return decoded;
    const steps = await this.tensorSteps(tensor);
    throw new NotFoundError(
      'Tensor',
      `${tensor.name}@${step}`,
      `Tensor '${tensor.name}' was not saved at step ${step}: it was saved at steps ${describeList(steps)}`,
    );
  }

  async #unknownStep(trial: Trial, step: number, mode: ModeKey): Promise<NotFoundError> {
    const steps = await this.deps.store.steps(trial.endpoint.id, mode);
    const available = steps.length
      ? `available steps are ${describeList(steps)}`
      : `it has no ${mode === 'GLOBAL' ? '' : `${mode} `}steps yet: ${ENABLE_HOOK_HINT} and send requests`;
    return new NotFoundError(
      'DebugStep',
      String(step),
      `Step ${step} of endpoint '${trial.endpoint.name}' does not exist: ${available}`,
    );
  }
}
