/**
 * Baselines: the statistics of a reference set of predictions and the constraints suggested from
 * them, stored as statistics.json / constraints.json text. The reference is a window of an
 * endpoint's captures (counted in SQL, as executions are) or a directory of images predicted by the
 * endpoint's model.
 */
import { randomUUID } from 'node:crypto';
import type { EndpointLookup } from '../../endpoints/types.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import type { LabelledWindows } from '../../groundtruth/types.ts';
import type { DecodeLimits } from '../../inference/preprocess.ts';
import type { Logger } from '../../logger.ts';
import type { ModelRegistry } from '../../models/registry.ts';
import { measureQuality } from '../quality/report.ts';
import { validateResourceName } from '../resource-name.ts';
import { countPredictions, type WindowCounts } from '../windows/counts.ts';
import type { InputSampleStore } from '../windows/input-sample.ts';
import type { WindowStore } from '../windows/store.ts';
import { classificationStatistics } from './accuracy.ts';
import { parseConstraints, suggestConstraints } from './constraints-json.ts';
import { listImages, predictImages } from './image-directory.ts';
import { fitInputProfile, MAX_PROFILE_ITEMS, type ProfileItem } from './input-profile.ts';
import type { InputReferences } from './references.ts';
import { buildStatistics } from './statistics-json.ts';
import type { BaselineStore } from './store.ts';
import type { BaselineRecord, DriftMethod, Statistics } from './types.ts';

export interface CreateBaselineInput {
  endpoint: string;
  name: string;
  /** window start (inclusive); default: the endpoint's first capture */
  from?: Date | null;
  /** window end (exclusive); default: now */
  to?: Date | null;
  /** a server-side directory of images instead of a window */
  directory?: string | null;
  /** at most this many images of the directory, spread evenly over it */
  limit?: number | null;
  categoricalDriftMethod?: DriftMethod | null;
  /** LInfinity distance or ChiSquared p-value; default 0.1 */
  categoricalThreshold?: number | null;
  /** the confidence distribution's distance; default 0.1 */
  confidenceThreshold?: number | null;
}

export interface BaselineServiceDeps {
  baselines: BaselineStore;
  /** counts the window a baseline is made of */
  windows: Pick<WindowStore, 'count' | 'firstCaptureTime'>;
  endpoints: EndpointLookup;
  runtimes: Pick<ModelRegistry, 'get'>;
  limits: DecodeLimits;
  /** the directories a directory baseline may read (config BASELINE_ROOTS) */
  baselineRoots: readonly string[];
  logger: Logger;
  /** the labelled captures of a window baseline, whose accuracy it records */
  labelled?: LabelledWindows;
  /** a window baseline's inputs (features and image statistics), for its input profile */
  inputs: Pick<InputSampleStore, 'sample'>;
  /** the outlier scores' references, told when a baseline is made or deleted */
  references?: Pick<InputReferences, 'invalidate'>;
}

export class BaselineService {
  constructor(private readonly deps: BaselineServiceDeps) {}

  async create(input: CreateBaselineInput): Promise<BaselineRecord> {
    validateResourceName(input.name, 'Baseline');
    for (const key of ['categoricalThreshold', 'confidenceThreshold'] as const) {
      const value = input[key];
      if (value !== null && value !== undefined && !(Number.isFinite(value) && value > 0 && value <= 1)) {
        throw new ValidationError(key, `${key} must be in (0, 1], got ${value}`);
      }
    }
    const endpoint = await this.deps.endpoints.require(input.endpoint);
    if (await this.deps.baselines.getByName(endpoint.id, input.name)) {
      throw new ConflictError(`Endpoint '${endpoint.name}' already has a baseline named '${input.name}'`);
    }

    let counts: WindowCounts;
    let source: 'WINDOW' | 'DIRECTORY';
    let inputs: ProfileItem[];
    let classification: Statistics['multiclass_classification_metrics'];
    if (input.directory !== null && input.directory !== undefined) {
      if (input.from || input.to)
        throw new ValidationError('directory', 'give a directory or a window (from/to), not both');
      if (input.limit !== null && input.limit !== undefined && !(Number.isInteger(input.limit) && input.limit >= 1)) {
        throw new ValidationError('limit', `limit must be a positive integer, got ${input.limit}`);
      }
      const files = await listImages(input.directory, this.deps.baselineRoots, input.limit);
      const runtime = await this.deps.runtimes.get(endpoint.model);
      const { predictions, inputs: measured } = await predictImages(
        files,
        runtime,
        this.deps.limits,
        this.deps.logger,
        `'${input.name}' of ${endpoint.name}`,
      );
      counts = countPredictions(predictions);
      inputs = measured;
      source = 'DIRECTORY';
    } else {
      const to = input.to ?? new Date();
      const from = input.from ?? (await this.deps.windows.firstCaptureTime(endpoint.id)) ?? to;
      if (from > to) throw new ValidationError('to', `to (${to.toISOString()}) is before from (${from.toISOString()})`);
      counts = await this.deps.windows.count({
        endpointId: endpoint.id,
        from,
        to,
        lowConfidenceThreshold: 0.5,
        moments: true,
      });
      source = 'WINDOW';
      const sample = await this.deps.inputs.sample(endpoint.id, from, to, MAX_PROFILE_ITEMS);
      inputs = [
        ...sample.features.map((features) => ({ features, imageStats: null })),
        ...sample.imageStats.map((imageStats) => ({ features: null, imageStats })),
      ];
      const labelled = this.deps.labelled;
      if (labelled) {
        const cells = await labelled.confusion({ endpointId: endpoint.id, from, to, receivedBy: new Date() });
        classification = classificationStatistics(measureQuality(cells));
      }
    }
    if (counts.recordCount === 0)
      throw new ValidationError(
        source === 'WINDOW' ? 'from' : 'directory',
        'the baseline would have no data: the window holds no captures',
      );

    const statistics: Statistics = {
      ...buildStatistics(counts),
      ...(classification && { multiclass_classification_metrics: classification }),
    };
    const constraints = suggestConstraints(statistics, {
      driftMethod: input.categoricalDriftMethod ?? undefined,
      categoricalThreshold: input.categoricalThreshold ?? undefined,
      confidenceThreshold: input.confidenceThreshold ?? undefined,
    });
    const created = await this.deps.baselines.insert({
      id: randomUUID(),
      endpointId: endpoint.id,
      name: input.name,
      source,
      itemCount: counts.recordCount,
      statistics,
      constraints,
      inputProfile: await fitInputProfile(inputs),
    });
    if (!created) throw new ConflictError(`Endpoint '${endpoint.name}' already has a baseline named '${input.name}'`);
    this.deps.references?.invalidate(endpoint.id);
    this.deps.logger.info('baseline created', {
      endpoint: endpoint.name,
      name: input.name,
      source,
      items: counts.recordCount,
    });
    return created;
  }

  get(id: string): Promise<BaselineRecord | null> {
    return this.deps.baselines.get(id);
  }

  /** an endpoint's baselines (all when no endpoint is given; NotFoundError for an unknown endpoint) */
  async list(endpointName?: string | null): Promise<BaselineRecord[]> {
    if (!endpointName) return this.deps.baselines.list();
    const endpoint = await this.deps.endpoints.require(endpointName);
    return this.deps.baselines.list(endpoint.id);
  }

  /** several baselines by id, in one query (for DataLoaders) */
  getMany(ids: readonly string[]): Promise<Map<string, BaselineRecord>> {
    return this.deps.baselines.getMany(ids);
  }

  /**
   * Deletes a baseline. One that schedules compare with is refused (ConflictError naming them), since
   * deleting it would silently turn their drift check off; `detachSchedules` says to do exactly that:
   * they lose the baseline and their drift check, in the same transaction.
   */
  async delete(id: string, detachSchedules = false): Promise<BaselineRecord> {
    const existing = await this.deps.baselines.get(id);
    if (!existing) throw new NotFoundError('Baseline', id);
    const { deleted, schedules } = await this.deps.baselines.delete(id, detachSchedules);
    if (!deleted && schedules.length)
      throw new ConflictError(
        `Baseline '${existing.name}' is in use by monitoring schedule${schedules.length === 1 ? '' : 's'} ${schedules.map((s) => `'${s}'`).join(', ')}: ` +
          'give each another baseline (or none) first, or delete with detachSchedules: true to detach them (their drift check is turned off)',
      );
    if (!deleted) throw new NotFoundError('Baseline', id);
    this.deps.references?.invalidate(existing.endpointId);
    if (schedules.length)
      this.deps.logger.info('baseline deleted; schedules detached', { baseline: existing.name, schedules });
    return existing;
  }

  /**
   * Replaces a baseline's constraints with an edited constraints.json (validated: only what vigil
   * enforces, thresholds in (0, 1]); schedules comparing with it use them from their next execution.
   */
  async replaceConstraints(id: string, constraints: unknown): Promise<BaselineRecord> {
    const parsed = parseConstraints(constraints);
    const updated = await this.deps.baselines.replaceConstraints(id, parsed);
    if (!updated) throw new NotFoundError('Baseline', id);
    return updated;
  }
}
