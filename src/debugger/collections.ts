/**
 * Named tensor collections of the debugger hook (smdebug's idea): presets that select tensor names.
 * `fullgrad` is exactly what the FullGrad saliency map and its completeness check need (with `logits`,
 * which the hook saves with every step: see hook.ts ALWAYS_SAVED).
 */
export const COLLECTIONS = {
  /** input, its gradient, and each BatchNorm site's output gradient and bias */
  fullgrad: /^(input|input_grad|.+\.output_grad|.+\.bias)$/,
  /** every tensor the debug graph emits */
  all: /.*/,
  /** BatchNorm site outputs (activations before ReLU) */
  outputs: /^.+\.output$/,
  /** every gradient */
  gradients: /(^|\.)(input_grad|output_grad)$/,
  /** the folded per-channel biases and the classifier's bias */
  biases: /\.bias$/,
} as const satisfies Record<string, RegExp>;

export type CollectionName = keyof typeof COLLECTIONS;

export const COLLECTION_NAMES = Object.keys(COLLECTIONS) as CollectionName[];

export function isCollectionName(name: string): name is CollectionName {
  return Object.hasOwn(COLLECTIONS, name);
}
