/** The endpoint registry's records, independent of Prisma and GraphQL. */

export const CAPTURE_MODES = ['INPUT', 'OUTPUT', 'BOTH'] as const;
export type CaptureMode = (typeof CAPTURE_MODES)[number];

export interface DataCaptureConfig {
  enabled: boolean;
  /** 0–100: the share of requests captured, drawn at random per request */
  samplingPercentage: number;
  captureMode: CaptureMode;
  /** days captures (with their debug steps and tensors) are kept, 1–3650; null: for ever */
  retentionDays: number | null;
}

export interface DebugHookConfig {
  enabled: boolean;
  /** tensors whose names match are saved (in addition to `collections`) */
  includeRegex: string | null;
  /** save every N-th step */
  saveInterval: number;
  collections: string[];
  /** days debug steps and their tensors are kept (their captures stay), 1–3650; null: for ever */
  retentionDays: number | null;
}

export interface Endpoint {
  id: string;
  name: string;
  model: string;
  dataCapture: DataCaptureConfig;
  debugHook: DebugHookConfig;
  createdAt: Date;
  updatedAt: Date;
}

/** what other domains need of the registry: an endpoint by name, or NotFoundError for a required one */
export interface EndpointLookup {
  get(name: string): Promise<Endpoint | null>;
  require(name: string): Promise<Endpoint>;
}

/**
 * a partial configuration: absent or null fields keep their current (or default) value; a
 * `retentionDays` of 0 removes the limit (kept for ever), as an empty includeRegex clears the pattern
 */
export type Patch<T> = { [K in keyof T]?: T[K] | null };

export interface EndpointInput {
  name: string;
  model?: string | null;
  dataCapture?: Patch<DataCaptureConfig> | null;
  debugHook?: Patch<DebugHookConfig> | null;
}

export type EndpointUpdate = Omit<EndpointInput, 'name'>;

export type EndpointChangeKind = 'CREATED' | 'UPDATED' | 'DELETED';

/** published on every registry change; replicas drop their cached snapshot of `name` */
export interface EndpointChange {
  kind: EndpointChangeKind;
  name: string;
  at: string;
}
