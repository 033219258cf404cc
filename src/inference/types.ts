/** What a prediction returns, and the event it publishes for dashboards. */
import type { ClassScore } from './scores.ts';

export interface Prediction {
  endpoint: string;
  predictedClass: number;
  label: string;
  confidence: number;
  top: (ClassScore & { label: string })[];
  captureId: string | null;
  /** the capture's event id, by which ground truth can name it */
  eventId: string | null;
  /** the debugger-hook step saved for this request, when one was */
  debugStep: number | null;
  modelVersion: string;
  provider: string;
  /**
   * how far the image's features lie from the endpoint's reference inputs, in units of the reference's
   * own 99th percentile (above 1: further out than 99 % of it); null without a reference with features,
   * or when the request ran the debug graph
   */
  outlierScore: number | null;
  latencyMs: number;
  /** images in the onnxruntime run that served this request */
  batchSize: number;
}

/** the `prediction` event: JSON-safe, published after the capture (if any) is committed */
export interface PredictionEvent {
  endpoint: string;
  predictedClass: number;
  label: string;
  confidence: number;
  captureId: string | null;
  modelVersion: string;
  at: string;
  latencyMs: number;
  /** as on `Prediction`: null without a reference with features */
  outlierScore: number | null;
}

/** one image as the client sent it */
export interface ImagePayload {
  bytes: Uint8Array;
}
