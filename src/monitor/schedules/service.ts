/**
 * Monitoring schedules: which endpoint, when (cron, UTC), which checks, against which baseline.
 * Creating or changing the cron sets `nextRunAt`, which the scheduler of any replica acts on.
 */
import { randomUUID } from 'node:crypto';
import type { Endpoint, EndpointLookup } from '../../endpoints/types.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { patchedRetention, validateRetentionDays } from '../../retention/days.ts';
import { requireAccuracy } from '../baselines/accuracy.ts';
import { requireInputProfile } from '../baselines/input-profile.ts';
import { endpointBaseline } from '../baselines/lookup.ts';
import type { BaselineStore } from '../baselines/store.ts';
import type { BaselineRecord } from '../baselines/types.ts';
import { defaultChecks, mergeChecks, validateChecks } from '../checks/config.ts';
import type { ExternalChecks } from '../checks/external/runner.ts';
import type { ChecksInput } from '../checks/types.ts';
import { validateResourceName } from '../resource-name.ts';
import { type CronKind, cronExpression, nextRun, parseCron } from './cron.ts';
import type { ScheduleStore } from './store.ts';
import type { ScheduleRecord } from './types.ts';

export interface CronHelperInput {
  kind: CronKind;
  hour?: number | null;
  hours?: number | null;
}

export interface ScheduleInput {
  name: string;
  endpoint: string;
  /** a 5-field cron expression (UTC) … */
  cron?: string | null;
  /** … or one built by a helper */
  cronHelper?: CronHelperInput | null;
  checks?: ChecksInput | null;
  /** a baseline of the same endpoint, by name or id */
  baseline?: string | null;
  /** days executions are kept (1–3650); 0 removes the limit; absent or null keeps the current value */
  executionRetentionDays?: number | null;
}

/** an empty `baseline` string detaches the baseline */
export type ScheduleUpdate = Omit<ScheduleInput, 'name' | 'endpoint'>;

export interface ScheduleServiceDeps {
  schedules: ScheduleStore;
  /** a schedule names its baseline by name or id */
  baselines: Pick<BaselineStore, 'get' | 'getByName'>;
  endpoints: EndpointLookup;
  /** whether the scripts a schedule's external checks name are inside CHECKS_DIR */
  external: Pick<ExternalChecks, 'validate'>;
  clock?: () => Date;
}

export class ScheduleService {
  readonly #clock: () => Date;

  constructor(private readonly deps: ScheduleServiceDeps) {
    this.#clock = deps.clock ?? (() => new Date());
  }

  async create(input: ScheduleInput): Promise<ScheduleRecord> {
    validateResourceName(input.name, 'Schedule');
    const cron = resolveCron(input.cron, input.cronHelper, true)!;
    const endpoint = await this.deps.endpoints.require(input.endpoint);
    const baseline = input.baseline ? await this.#baseline(endpoint, input.baseline) : null;
    const checks = mergeChecks(defaultChecks(baseline !== null), input.checks);
    validateChecks(checks, baseline !== null);
    requireAccuracy(checks, baseline);
    requireInputProfile(checks, baseline);
    await this.deps.external.validate(checks.external);
    const executionRetentionDays = patchedRetention(input.executionRetentionDays, null);
    validateRetentionDays(executionRetentionDays, 'executionRetentionDays');
    const created = await this.deps.schedules.insert({
      id: randomUUID(),
      name: input.name,
      endpointId: endpoint.id,
      cron,
      checks,
      baselineId: baseline?.id ?? null,
      nextRunAt: nextRun(parseCron(cron), this.#clock()),
      executionRetentionDays,
    });
    if (!created) throw new ConflictError(`Monitoring schedule '${input.name}' already exists`);
    return created;
  }

  async update(name: string, input: ScheduleUpdate): Promise<ScheduleRecord> {
    const current = await this.deps.schedules.getByName(name);
    if (!current) throw new NotFoundError('MonitoringSchedule', name);
    const cron = resolveCron(input.cron, input.cronHelper, false) ?? current.cron;
    let baselineId = current.baselineId;
    if (input.baseline === '') baselineId = null;
    else if (input.baseline) {
      const endpoint = await this.deps.endpoints.require(current.endpointName);
      baselineId = (await this.#baseline(endpoint, input.baseline)).id;
    }
    const checks = mergeChecks(current.checks, input.checks);
    // gaining or losing the baseline turns drift on or off, unless the input says which
    if ((baselineId === null) !== (current.baselineId === null) && (input.checks?.drift?.enabled ?? null) === null) {
      checks.drift.enabled = baselineId !== null;
    }
    // losing the baseline turns input drift off too (it is never turned on by itself)
    if (baselineId === null && (input.checks?.inputDrift?.enabled ?? null) === null) checks.inputDrift.enabled = false;
    validateChecks(checks, baselineId !== null);
    if (input.checks?.external) await this.deps.external.validate(checks.external);
    if (checks.modelQuality.enabled && checks.modelQuality.baselineTolerance !== null && baselineId !== null)
      requireAccuracy(checks, await this.deps.baselines.get(baselineId));
    if (checks.inputDrift.enabled && baselineId !== null)
      requireInputProfile(checks, await this.deps.baselines.get(baselineId));
    const executionRetentionDays = patchedRetention(input.executionRetentionDays, current.executionRetentionDays);
    validateRetentionDays(executionRetentionDays, 'executionRetentionDays');
    // a paused schedule has no next run until it is resumed
    const nextRunAt =
      current.pausedAt || cron === current.cron ? current.nextRunAt : nextRun(parseCron(cron), this.#clock());
    const updated = await this.deps.schedules.update(current.id, {
      cron,
      checks,
      baselineId,
      nextRunAt,
      executionRetentionDays,
    });
    if (!updated) throw new NotFoundError('MonitoringSchedule', name);
    return updated;
  }

  /**
   * Pauses the schedule: the scheduler does not run it (a run in progress finishes) until it is resumed;
   * its executions, metrics and windows stay. Pausing a paused schedule changes nothing.
   */
  async pause(name: string): Promise<ScheduleRecord> {
    const current = await this.#require(name);
    if (current.pausedAt) return current;
    return (await this.deps.schedules.setPaused(current.id, this.#clock(), null)) ?? this.#gone(name);
  }

  /**
   * Resumes a paused schedule at its next cron time from now (missed runs are not made up: the next
   * window starts where the last one ended, so it covers the pause). Resuming an active one changes nothing.
   */
  async resume(name: string): Promise<ScheduleRecord> {
    const current = await this.#require(name);
    if (!current.pausedAt) return current;
    const next = nextRun(parseCron(current.cron), this.#clock());
    return (await this.deps.schedules.setPaused(current.id, null, next)) ?? this.#gone(name);
  }

  async #require(name: string): Promise<ScheduleRecord> {
    return (await this.deps.schedules.getByName(name)) ?? this.#gone(name);
  }

  #gone(name: string): never {
    throw new NotFoundError('MonitoringSchedule', name);
  }

  async delete(name: string): Promise<ScheduleRecord> {
    const current = await this.deps.schedules.getByName(name);
    if (!current || !(await this.deps.schedules.delete(current.id)))
      throw new NotFoundError('MonitoringSchedule', name);
    return current;
  }

  get(name: string): Promise<ScheduleRecord | null> {
    return this.deps.schedules.getByName(name);
  }

  /** all schedules, or an endpoint's (NotFoundError for an unknown endpoint) */
  async list(endpointName?: string | null): Promise<ScheduleRecord[]> {
    if (!endpointName) return this.deps.schedules.list();
    const endpoint = await this.deps.endpoints.require(endpointName);
    return this.deps.schedules.list(endpoint.id);
  }

  #baseline(endpoint: Endpoint, ref: string): Promise<BaselineRecord> {
    return endpointBaseline(this.deps.baselines, endpoint, ref);
  }
}

/** the cron from an expression or a helper (exactly one; neither is fine for an update) */
function resolveCron(
  cron: string | null | undefined,
  helper: CronHelperInput | null | undefined,
  required: boolean,
): string | null {
  if (cron !== null && cron !== undefined && helper)
    throw new ValidationError('cron', 'give cron or cronHelper, not both');
  if (helper) {
    const expression = cronExpression(helper.kind, helper, 'cronHelper.');
    parseCron(expression, 'cronHelper');
    return expression;
  }
  if (cron === null || cron === undefined) {
    if (required) throw new ValidationError('cron', 'a schedule needs cron (5 fields, UTC) or cronHelper');
    return null;
  }
  return parseCron(cron).expression;
}
