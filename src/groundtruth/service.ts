/**
 * Ground truth: the true class of past predictions, merged with their captures by event id (as Model
 * Monitor merges) or capture id. A call stores every label it can and answers one outcome per item,
 * in order: the stored label, a NotFoundError (no capture with that key, or its endpoint was deleted)
 * or a ValidationError (a malformed key, a label that is not a class of the capture's model). Labels
 * are idempotent: the last one received for a capture wins, within a call too; sending the same label
 * again changes nothing (not even the time it was received, which model-quality runs read).
 */
import { NotFoundError, ValidationError } from '../errors.ts';
import type { ModelCatalog } from '../models/catalog.ts';
import type { GroundTruthStore, LabelRow, LabelTarget } from './store.ts';
import { type GroundTruthInput, type GroundTruthRecord, MAX_GROUND_TRUTH_ITEMS, MAX_KEY_LENGTH } from './types.ts';

export type GroundTruthOutcome = GroundTruthRecord | NotFoundError | ValidationError;

export interface GroundTruthServiceDeps {
  store: Pick<GroundTruthStore, 'targets' | 'upsert' | 'ofCaptures'>;
  models: Pick<ModelCatalog, 'labels'>;
  clock?: () => Date;
}

/** an item whose key and label are well-formed, before its capture is looked up */
interface Parsed {
  key: { kind: 'captureId' | 'eventId'; value: string };
  label: string;
}

export class GroundTruthService {
  readonly #clock: () => Date;

  constructor(private readonly deps: GroundTruthServiceDeps) {
    this.#clock = deps.clock ?? (() => new Date());
  }

  /** GraphQL's batch: 1–MAX_GROUND_TRUTH_ITEMS items (ValidationError on `input` otherwise) */
  async putBatch(items: readonly GroundTruthInput[]): Promise<GroundTruthOutcome[]> {
    if (items.length === 0 || items.length > MAX_GROUND_TRUTH_ITEMS) {
      throw new ValidationError('input', `input must hold 1–${MAX_GROUND_TRUTH_ITEMS} labels, got ${items.length}`);
    }
    return this.put(items, (i) => `input.${i}`);
  }

  /** stores what it can of `items`; `fieldOf(i)` names item i in a ValidationError's field */
  async put(items: readonly GroundTruthInput[], fieldOf: (index: number) => string): Promise<GroundTruthOutcome[]> {
    const parsed = items.map((item, i) => parseItem(item, fieldOf(i)));
    const ok = parsed.filter((p): p is Parsed => !(p instanceof ValidationError));
    const targets = await this.deps.store.targets({
      ids: ok.filter((p) => p.key.kind === 'captureId').map((p) => p.key.value),
      eventIds: ok.filter((p) => p.key.kind === 'eventId').map((p) => p.key.value),
    });
    const byId = new Map(targets.map((t) => [t.id, t]));
    const byEvent = new Map(targets.map((t) => [t.eventId, t]));

    // the last label of each capture is the one stored
    const rows = new Map<string, LabelRow>();
    const resolved = parsed.map((p, i): { target: LabelTarget; classId: number } | ValidationError | NotFoundError => {
      if (p instanceof ValidationError) return p;
      const target = p.key.kind === 'captureId' ? byId.get(p.key.value) : byEvent.get(p.key.value);
      if (!target) return new NotFoundError('Capture', p.key.value, `No capture has ${p.key.kind} '${p.key.value}'`);
      const classId = classOf(p.label, this.deps.models.labels(target.model), target.model, `${fieldOf(i)}.label`);
      if (classId instanceof ValidationError) return classId;
      rows.delete(target.id);
      rows.set(target.id, { target, classId });
      return { target, classId };
    });
    await this.deps.store.upsert([...rows.values()], this.#clock());
    const stored = await this.deps.store.ofCaptures([...rows.keys()]);
    return resolved.map((r) => {
      if (r instanceof Error) return r;
      const record = stored.get(r.target.id);
      // a capture deleted between the write and the read (retention, its endpoint deleted)
      if (!record) return new NotFoundError('Capture', r.target.id);
      // an earlier item of a capture labelled again later in the call answers with the label it sent
      return { ...record, classId: r.classId };
    });
  }

  /** several captures' labels, by capture id (for DataLoaders) */
  ofCaptures(captureIds: readonly string[]): Promise<Map<string, GroundTruthRecord>> {
    return this.deps.store.ofCaptures(captureIds);
  }
}

function parseItem(item: GroundTruthInput, field: string): Parsed | ValidationError {
  const { eventId, captureId } = item.capture;
  const given = [eventId, captureId].filter((v) => v !== null && v !== undefined).length;
  if (given !== 1)
    return new ValidationError(`${field}.capture`, 'give exactly one of capture.eventId and capture.captureId');
  const key =
    captureId != null
      ? { kind: 'captureId' as const, value: captureId }
      : { kind: 'eventId' as const, value: eventId ?? '' };
  const keyProblem = stringProblem(key.value);
  if (keyProblem) return new ValidationError(`${field}.capture.${key.kind}`, `${key.kind} ${keyProblem}`);
  const labelProblem = stringProblem(item.label);
  if (labelProblem) return new ValidationError(`${field}.label`, `label ${labelProblem}`);
  return { key, label: item.label };
}

/** why a key or label cannot be looked up, or null */
function stringProblem(value: string): string | null {
  if (value.length === 0) return 'is empty';
  if (value.length > MAX_KEY_LENGTH) return `is longer than ${MAX_KEY_LENGTH} characters (${value.length})`;
  // PostgreSQL cannot compare strings holding NUL (GraphQL refuses them before this; JSON Lines come here)
  if (value.includes('\u0000')) return 'holds NUL (\\u0000)';
  return null;
}

/**
 * The class a label names: a class number of the model ("14"), or one of its class names ("Stop"),
 * exactly as the model's labels spell it.
 */
export function classOf(
  label: string,
  labels: readonly string[] | undefined,
  model: string,
  field: string,
): number | ValidationError {
  const text = label.trim();
  const count = labels?.length ?? 0;
  if (isDigits(text)) {
    const classId = Number(text);
    if (classId < count) return classId;
  } else if (labels) {
    const named = labels.indexOf(text);
    if (named >= 0) return named;
  }
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return new ValidationError(
    field,
    `label '${shown}' is not a class of model ${model}: give a class number from 0 to ${count - 1} or a class name`,
  );
}

/** 1–6 ASCII digits (a class number), checked character by character */
function isDigits(text: string): boolean {
  if (text.length === 0 || text.length > 6) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
