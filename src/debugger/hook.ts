/**
 * The debugger hook on the request path: numbers each request to a hook-enabled endpoint as a step,
 * decides whether the step is saved (every saveInterval-th, as smdebug's save_interval), which debug
 * outputs to fetch, and turns one image's outputs into rows written with its capture.
 */
import { randomUUID } from 'node:crypto';
import type { DebugRows } from '../capture/writer.ts';
import type { Db } from '../db/client.ts';
import type { Endpoint } from '../endpoints/types.ts';
import { encodeTensor, type TensorEncoding } from './encoding.ts';
import { selectTensors, type TensorCatalog } from './tensor-names.ts';

export interface StepPlan {
  step: number;
  /** tensor names to save */
  names: string[];
  /** debug-graph outputs the run must fetch for them */
  fetch: string[];
}

export interface ImageTensors {
  /** the preprocessed image, [3,H,W] */
  input: Float32Array;
  inputShape: readonly number[];
  /** this image's slice of each fetched output, shapes without the batch dimension */
  outputs: Map<string, { dims: readonly number[]; data: Float32Array }>;
}

export class DebugHook {
  constructor(
    private readonly prisma: Db,
    readonly encoding: TensorEncoding = 'f16-deflate',
  ) {}

  /** null when the hook is off or this step is not saved (the request then runs the serving graph) */
  async plan(endpoint: Endpoint, catalog: TensorCatalog): Promise<StepPlan | null> {
    const hook = endpoint.debugHook;
    if (!hook.enabled) return null;
    // One atomic increment per request: step numbers stay unique across replicas.
    const { hookStepCounter } = await this.prisma.endpoint.update({
      where: { id: endpoint.id },
      data: { hookStepCounter: { increment: 1 } },
      select: { hookStepCounter: true },
    });
    const step = hookStepCounter - 1;
    if (step % hook.saveInterval !== 0) return null;
    const names = selectTensors(catalog, hook);
    const fetch = [...new Set(names.flatMap((n) => {
      const source = catalog.sources.get(n);
      return source?.kind === 'output' ? [source.output] : [];
    }))];
    return { step, names, fetch };
  }

  rows(endpoint: Endpoint, plan: StepPlan, captureId: string | null, catalog: TensorCatalog, image: ImageTensors): DebugRows {
    const stepId = randomUUID();
    const tensors = plan.names.flatMap((name) => {
      const source = catalog.sources.get(name)!;
      let values: Float32Array;
      let shape: readonly number[];
      if (source.kind === 'input') {
        values = image.input;
        shape = image.inputShape;
      } else if (source.kind === 'constant') {
        values = Float32Array.from(source.values);
        shape = [source.values.length];
      } else {
        const output = image.outputs.get(source.output);
        if (!output) return [];
        values = output.data;
        shape = output.dims;
      }
      // constants are tiny and exact values matter for the completeness check
      const encoding: TensorEncoding = source.kind === 'constant' || name === 'logits' ? 'f32' : this.encoding;
      return [{
        id: randomUUID(),
        stepId,
        name,
        // per-request tensors carry the batch dimension (1), as smdebug saved them; constants do not
        shape: JSON.stringify(source.kind === 'constant' ? shape : [1, ...shape]),
        dtype: 'float32',
        encoding,
        data: encodeTensor(values, encoding),
      }];
    });
    return { step: { id: stepId, endpointId: endpoint.id, step: plan.step, mode: 'PREDICT', captureId }, tensors };
  }
}
