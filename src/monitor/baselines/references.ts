/**
 * The reference each endpoint's outlier scores compare with: its newest baseline that has an input
 * profile. Chosen so that a user who makes a baseline sees scores against it from then on, the same
 * baseline a schedule is usually given; a schedule's own baseline still decides its checks. Held in
 * memory per endpoint: which baseline is newest is asked again after REFRESH_MS (a baseline made or
 * deleted on another replica is seen within that), at once after one is made or deleted here, and the
 * profile itself is read only when the answer changes.
 */
import { outlierScore } from './input-profile.ts';
import type { BaselineStore } from './store.ts';

const REFRESH_MS = 5_000;

type Scorer = (features: Float32Array) => number;

interface Entry {
  checkedAt: number;
  baselineId: string | null;
  scorer: Scorer | null;
}

interface Slot {
  entry?: Entry;
  loading?: Promise<Entry> | undefined;
}

export class InputReferences {
  readonly #slots = new Map<string, Slot>();

  constructor(
    private readonly store: Pick<BaselineStore, 'newestWithProfile' | 'inputProfile'>,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * the endpoint's outlier scorer, or null when it has no baseline with an input profile, or when the
   * database cannot say (a prediction is not failed for its score)
   */
  async scorer(endpointId: string): Promise<Scorer | null> {
    let slot = this.#slots.get(endpointId);
    if (!slot) this.#slots.set(endpointId, (slot = {}));
    const known = slot.entry;
    if (known && this.now() - known.checkedAt < REFRESH_MS) return known.scorer;
    const loading = (slot.loading ??= this.#load(endpointId, known).finally(() => {
      slot.loading = undefined;
    }));
    try {
      const entry = await loading;
      slot.entry = entry;
      return entry.scorer;
    } catch {
      return known?.scorer ?? null;
    }
  }

  /** forgets what is known of the endpoint (a baseline of it was made or deleted) */
  invalidate(endpointId: string): void {
    this.#slots.delete(endpointId);
  }

  async #load(endpointId: string, previous: Entry | undefined): Promise<Entry> {
    const checkedAt = this.now();
    const baselineId = await this.store.newestWithProfile(endpointId);
    if (previous && previous.baselineId === baselineId) return { ...previous, checkedAt };
    const profile = baselineId ? await this.store.inputProfile(baselineId) : null;
    return { checkedAt, baselineId, scorer: profile && ((features) => outlierScore(profile, features)) };
  }
}
