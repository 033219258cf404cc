/** A captured request and its prediction, as the capture domain stores and serves it. */

export interface CaptureRecord {
  id: string;
  endpointId: string;
  eventId: string;
  inferenceTime: Date;
  modelVersion: string;
  /** the request payload as received (when the capture mode includes the input) */
  inputData: Uint8Array | null;
  inputContentType: string | null;
  /** JSON text of the response (when the capture mode includes the output) */
  output: string | null;
  predictedClass: number | null;
  confidence: number | null;
  top2Class: number | null;
  top2Score: number | null;
  top3Class: number | null;
  top3Score: number | null;
  /** the serving graph's features, float16 (capture/features.ts); null when the run had none */
  features: Uint8Array | null;
  /** JSON of the image's statistics (inference/image-stats.ts); null when not measured */
  imageStats: string | null;
  /** distance to the endpoint's reference inputs (monitor/baselines/input-profile.ts); null without one */
  outlierScore: number | null;
}

/**
 * A capture without its request bytes and features: what listings and lookups read. The bytes (up to an image each)
 * are read only when a client selects them (the GraphQL context's loaders) or exports them.
 */
export type CaptureSummary = Omit<CaptureRecord, 'inputData' | 'features'>;

/** The response body a capture stores as its output, and the JSON Lines export re-emits. */
export interface CapturedOutput {
  predictedClass: number;
  label: string;
  confidence: number;
  /** softmax over all classes, in class order */
  probabilities: number[];
}
