/** A debug step and its tensors as the DebugStep and Tensor tables store them (the hook builds them). */
import { Table, type TableRows } from '../db/insert.ts';
import type { StepRecord } from './store.ts';

export interface TensorRow {
  id: string;
  stepId: string;
  name: string;
  /** JSON text of the dimensions */
  shape: string;
  dtype: string;
  /** how `data` encodes the values (encoding.ts) */
  encoding: string;
  data: Uint8Array;
}

/** one step's rows, written with the request's capture */
export interface StepRows {
  step: StepRecord;
  tensors: TensorRow[];
}

export const STEP_TABLE = new Table<StepRecord>('DebugStep', [
  'id',
  'endpointId',
  'step',
  'mode',
  'captureId',
  'createdAt',
]);
export const TENSOR_TABLE = new Table<TensorRow>(
  'Tensor',
  ['id', 'stepId', 'name', 'shape', 'dtype', 'encoding', 'data'],
  (t) => t.data.byteLength,
);

/** the step's rows for the group commit (a step before its tensors) */
export function stepTableRows(rows: StepRows): TableRows[] {
  return [STEP_TABLE.rows([rows.step]), TENSOR_TABLE.rows(rows.tensors)];
}
