/**
 * A capture's features as stored: the serving graph's penultimate features in float16 (1 KiB for 512
 * values; the input-drift check and the outlier score need far less precision than that), the same
 * half-float coding as the debugger's tensors.
 */
import { decodeTensor, encodeTensor } from '../debugger/encoding.ts';

export function encodeFeatures(values: Float32Array): Uint8Array {
  return encodeTensor(values, 'f16');
}

export function decodeFeatures(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 2) throw new Error(`stored features of ${bytes.byteLength} bytes: not float16`);
  return decodeTensor(bytes, 'f16', bytes.byteLength / 2);
}
