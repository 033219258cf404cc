/** The StepEncoder's worker thread: encodeTensor over each tensor of each step (step-encoder.ts). */
import { parentPort } from 'node:worker_threads';
import { messageOf } from '../errors.ts';
import { encodeTensor } from './encoding.ts';
import type { EncodeReply, EncodeRequest, TensorRef } from './step-encoder.ts';

function encodeStep(buffers: ArrayBuffer[], tensors: TensorRef[]): { bytes: Uint8Array; lengths: number[] } {
  const blobs = tensors.map((t) =>
    encodeTensor(new Float32Array(buffers[t.buffer]!, t.byteOffset, t.length), t.encoding),
  );
  const bytes = new Uint8Array(blobs.reduce((a, b) => a + b.byteLength, 0));
  let at = 0;
  for (const blob of blobs) {
    bytes.set(blob, at);
    at += blob.byteLength;
  }
  return { bytes, lengths: blobs.map((b) => b.byteLength) };
}

parentPort!.on('message', (request: EncodeRequest) => {
  const transfer: ArrayBuffer[] = [];
  const steps = request.steps.map((tensors) => {
    try {
      const step = encodeStep(request.buffers, tensors);
      transfer.push(step.bytes.buffer as ArrayBuffer);
      return step;
    } catch (error) {
      return { error: messageOf(error) };
    }
  });
  const reply: EncodeReply = { id: request.id, steps };
  parentPort!.postMessage(reply, transfer);
});
