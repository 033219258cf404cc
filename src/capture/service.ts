/**
 * Reading captures back: a filtered, newest-first listing with keyset pagination (for GraphQL), single
 * captures, and the oldest-first JSON Lines export in SageMaker's data-capture format (for downloads
 * and the CLI), streamed page by page so that no window is ever loaded whole.
 */
import type { Endpoint, EndpointLookup } from '../endpoints/types.ts';
import { classLabel, type ModelCatalog } from '../models/catalog.ts';
import { pageSize } from '../paging.ts';
import { captureLine, type ExportOutput } from './export.ts';
import {
  type CaptureFilter,
  type Cursor,
  decodeCursor,
  encodeCursor,
  type PageArgs,
  type TimeRange,
  validateFilter,
  validateRange,
} from './queries.ts';
import type { CaptureStore } from './store.ts';
import type { CapturedOutput, CaptureSummary } from './types.ts';

/** A capture with the endpoint it belongs to (what GraphQL serves). */
export interface CaptureView extends CaptureSummary {
  endpointName: string;
  /** the endpoint's model, whose labels name the classes */
  model: string;
}

export interface ClassScore {
  classId: number;
  label: string;
  probability: number;
}

export interface CaptureEdge {
  cursor: string;
  node: CaptureView;
}

export interface CapturePage {
  edges: CaptureEdge[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  /** the number of captures that pass the filter; counted only when asked for */
  totalCount(): Promise<number>;
}

export interface CaptureServiceDeps {
  store: CaptureStore;
  endpoints: EndpointLookup;
  /** the models, whose labels name the classes (the export, which prints no labels, goes without) */
  models?: Pick<ModelCatalog, 'labels'>;
  /** rows read per query by the export (default 500) */
  exportPageSize?: number;
}

export class CaptureService {
  readonly #store: CaptureStore;
  readonly #exportPageSize: number;

  constructor(private readonly deps: CaptureServiceDeps) {
    this.#store = deps.store;
    this.#exportPageSize = deps.exportPageSize ?? 500;
  }

  /** A page of an endpoint's captures, newest first. */
  async list(endpointName: string, args: PageArgs = {}): Promise<CapturePage> {
    const take = pageSize(args.first);
    const filter: CaptureFilter = args.filter ?? {};
    validateFilter(filter);
    const after = args.after ? decodeCursor(args.after) : undefined;
    const endpoint = await this.#endpoint(endpointName);

    const rows = await this.#store.page({ endpointId: endpoint.id, filter, after, direction: 'desc', take: take + 1 });
    const edges = rows
      .slice(0, take)
      .map((record) => ({ cursor: encodeCursor(record), node: this.#view(record, endpoint) }));
    let total: Promise<number> | undefined;
    return {
      edges,
      pageInfo: {
        hasNextPage: rows.length > take,
        hasPreviousPage: after !== undefined,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
      totalCount: () => (total ??= this.#store.count(endpoint.id, filter)),
    };
  }

  async get(id: string): Promise<CaptureView | null> {
    const found = await this.#store.find(id);
    return found && { ...found.record, endpointName: found.endpoint.name, model: found.endpoint.model };
  }

  /** several captures by id, in one query (for DataLoaders) */
  async getMany(ids: readonly string[]): Promise<Map<string, CaptureView>> {
    const found = await this.#store.findMany(ids);
    return new Map(
      [...found].map(([id, { record, endpoint }]) => [
        id,
        { ...record, endpointName: endpoint.name, model: endpoint.model },
      ]),
    );
  }

  /** the request bytes of several captures and their type, by id (for DataLoaders: read only when selected) */
  inputsOf(ids: readonly string[]): Promise<Map<string, { data: Uint8Array; contentType: string | null }>> {
    return this.#store.inputs(ids);
  }

  /** the size of several captures' request bytes, by id, without reading them (for DataLoaders) */
  inputSizesOf(ids: readonly string[]): Promise<Map<string, number>> {
    return this.#store.inputSizes(ids);
  }

  /**
   * An endpoint's captures in [from, to), oldest first, as SageMaker data-capture JSON Lines (without
   * newlines). Validation and the endpoint lookup run on the first `next()`: NotFoundError for an
   * unknown endpoint, ValidationError for a bad range.
   */
  async *exportJsonLines(
    endpointName: string,
    range: TimeRange = {},
    output: ExportOutput = 'full',
  ): AsyncGenerator<string, void, undefined> {
    validateRange(range);
    const endpoint = await this.#endpoint(endpointName);
    const filter: CaptureFilter = { from: range.from, to: range.to };
    let after: Cursor | undefined;
    for (;;) {
      const rows = await this.#store.pageWithInput({
        endpointId: endpoint.id,
        filter,
        after,
        direction: 'asc',
        take: this.#exportPageSize,
      });
      for (const record of rows) yield captureLine(record, output);
      const last = rows.at(-1);
      if (!last || rows.length < this.#exportPageSize) return;
      after = { time: last.inferenceTime.getTime(), id: last.id };
    }
  }

  /** the predicted class and the runners-up stored with the capture, best first (up to 3) */
  top(capture: CaptureView): ClassScore[] {
    const pairs: [number | null, number | null][] = [
      [capture.predictedClass, capture.confidence],
      [capture.top2Class, capture.top2Score],
      [capture.top3Class, capture.top3Score],
    ];
    return pairs.flatMap(([classId, probability]) =>
      classId === null || probability === null
        ? []
        : [{ classId, probability, label: this.#classLabel(capture, classId) }],
    );
  }

  /** the predicted class's label (null when the output was not captured) */
  predictedLabel(capture: CaptureView): string | null {
    return capture.predictedClass === null ? null : this.#classLabel(capture, capture.predictedClass);
  }

  /**
   * From the model's labels; for a model no longer on disk, the label the answer recorded when it names
   * that class; else the class number (classLabel's rule).
   */
  #classLabel(capture: CaptureView, classId: number): string {
    const labels = this.deps.models?.labels(capture.model);
    if (labels?.[classId] === undefined) {
      const output = parseOutput(capture.output);
      if (output?.predictedClass === classId && typeof output.label === 'string') return output.label;
    }
    return classLabel(labels, classId);
  }

  async #endpoint(name: string): Promise<Endpoint> {
    const endpoint = await this.deps.endpoints.require(name);
    return endpoint;
  }

  #view(record: CaptureSummary, endpoint: Endpoint): CaptureView {
    return { ...record, endpointName: endpoint.name, model: endpoint.model };
  }
}

/** the stored output text, parsed; null when absent or unreadable */
export function parseOutput(text: string | null): Partial<CapturedOutput> | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Partial<CapturedOutput>)
      : null;
  } catch {
    return null;
  }
}
