/**
 * A request's capture as the capture table stores it: whether the endpoint's sampling takes the
 * request, and the row (the input and/or the output, as the capture mode says), with its additions to
 * the rollups (rollup/tables.ts), written in the same transaction.
 */
import { randomUUID } from 'node:crypto';
import { Table, type TableRows } from '../db/insert.ts';
import type { DataCaptureConfig, Endpoint } from '../endpoints/types.ts';
import { type ImageStats, imageStatsText } from '../inference/image-stats.ts';
import { CAPTURE_ROLLUP_TABLES, captureRollupRows } from '../rollup/tables.ts';
import { encodeFeatures } from './features.ts';
import { type RandomSource, shouldCapture } from './sampler.ts';
import type { CapturedOutput, CaptureRecord } from './types.ts';

/** the Capture table, as the group commit writes it */
export const CAPTURE_TABLE = new Table<CaptureRecord>(
  'Capture',
  [
    'id',
    'endpointId',
    'eventId',
    'inferenceTime',
    'modelVersion',
    'inputData',
    'inputContentType',
    'output',
    'predictedClass',
    'confidence',
    'top2Class',
    'top2Score',
    'top3Class',
    'top3Score',
    'features',
    'imageStats',
    'outlierScore',
  ],
  (row) => (row.inputData?.byteLength ?? 0) + (row.features?.byteLength ?? 0),
);

/** the tables a capture writes, in the order they are written */
export const CAPTURE_TABLES = [CAPTURE_TABLE.name, ...CAPTURE_ROLLUP_TABLES] as const;

/** the rows of captures: theirs, and their additions to the rollups */
export function captureTableRows(captures: readonly CaptureRecord[]): TableRows[] {
  return captures.length ? [CAPTURE_TABLE.rows(captures), ...captureRollupRows(captures)] : [];
}

/** what a request received and answered */
export interface CapturedRequest {
  endpoint: Pick<Endpoint, 'id'> & {
    dataCapture: Pick<DataCaptureConfig, 'enabled' | 'samplingPercentage' | 'captureMode'>;
  };
  /** the request's image as received, and its sniffed content type */
  payload: { bytes: Uint8Array; contentType: string };
  prediction: {
    /** the best classes, best first (at least the top one; the top 3 are stored) */
    top: readonly { classId: number; probability: number; label: string }[];
    /** softmax over all classes, in class order */
    probabilities: Float64Array;
    modelVersion: string;
    inferenceTime: Date;
  };
  /** what the decoder and the model measured of the input: kept whatever the capture mode (the monitor's input drift) */
  measured?: MeasuredInput;
}

export interface MeasuredInput {
  /** the serving graph's features (null: the request ran the debug graph, or the model has none) */
  features: Float32Array | null;
  imageStats: ImageStats | null;
  outlierScore: number | null;
}

/** the request's capture, or null when the endpoint's sampling does not take it */
export function captureOf(request: CapturedRequest, random?: RandomSource): CaptureRecord | null {
  const { endpoint, payload, prediction } = request;
  if (!shouldCapture(endpoint.dataCapture, random)) return null;
  const mode = endpoint.dataCapture.captureMode;
  const withInput = mode !== 'OUTPUT';
  const withOutput = mode !== 'INPUT';
  const [best, second, third] = prediction.top;
  if (!best) throw new Error('a captured prediction needs its top class');
  const output: CapturedOutput = {
    predictedClass: best.classId,
    label: best.label,
    confidence: best.probability,
    probabilities: Array.from(prediction.probabilities, (p) => Math.round(p * 1e7) / 1e7),
  };
  return {
    id: randomUUID(),
    endpointId: endpoint.id,
    eventId: randomUUID(),
    inferenceTime: prediction.inferenceTime,
    modelVersion: prediction.modelVersion,
    inputData: withInput ? payload.bytes : null,
    inputContentType: withInput ? payload.contentType : null,
    output: withOutput ? JSON.stringify(output) : null,
    predictedClass: withOutput ? best.classId : null,
    confidence: withOutput ? best.probability : null,
    top2Class: withOutput ? (second?.classId ?? null) : null,
    top2Score: withOutput ? (second?.probability ?? null) : null,
    top3Class: withOutput ? (third?.classId ?? null) : null,
    top3Score: withOutput ? (third?.probability ?? null) : null,
    features: request.measured?.features ? encodeFeatures(request.measured.features) : null,
    imageStats: request.measured?.imageStats ? imageStatsText(request.measured.imageStats) : null,
    outlierScore: request.measured?.outlierScore ?? null,
  };
}
