/**
 * Execution-provider choice. `auto` tries CUDA, then WebGPU, then CPU, and says why each was skipped.
 * A GPU provider is only tried where a GPU device node exists: on a machine without one, WebGPU's
 * adapter search alone takes seconds before failing.
 */
import fs from 'node:fs';
import ort from 'onnxruntime-node';
import type { InferenceDevice } from '../config.ts';
import { messageOf } from '../errors.ts';
import type { Logger } from '../logger.ts';

export type Provider = 'cuda' | 'webgpu' | 'cpu';

export interface ProviderChoice {
  provider: Provider;
  /** why each provider before the chosen one was skipped */
  skipped: { provider: Provider; reason: string }[];
}

function hasDevice(prefixes: { dir: string; prefix: string }[]): boolean {
  return prefixes.some(({ dir, prefix }) => {
    try {
      return fs.readdirSync(dir).some((f) => f.startsWith(prefix));
    } catch {
      return false;
    }
  });
}

function precheck(provider: Provider): string | undefined {
  const backends = ort.listSupportedBackends?.() ?? [];
  const backend = backends.find((b) => b.name === provider);
  if (provider === 'cpu') return undefined;
  if (!backend)
    return `onnxruntime-node ${ort.env.versions.node} has no ${provider} backend on ${process.platform}-${process.arch}`;
  if (provider === 'cuda' && !hasDevice([{ dir: '/dev', prefix: 'nvidia' }])) return 'no NVIDIA device (/dev/nvidia*)';
  if (
    provider === 'webgpu' &&
    !hasDevice([
      { dir: '/dev', prefix: 'nvidia' },
      { dir: '/dev/dri', prefix: 'renderD' },
    ])
  ) {
    return 'no GPU device (/dev/nvidia*, /dev/dri/renderD*)';
  }
  return undefined;
}

/**
 * Opens a session on the first provider that works. `open` creates the session for one provider;
 * failures are recorded as the reason that provider was skipped.
 */
export async function openWithProvider<T>(
  device: InferenceDevice,
  open: (provider: Provider) => Promise<T>,
  logger: Logger,
): Promise<{ value: T } & ProviderChoice> {
  const order: Provider[] = device === 'auto' ? ['cuda', 'webgpu', 'cpu'] : [device];
  const skipped: ProviderChoice['skipped'] = [];
  for (const provider of order) {
    const reason = device === 'auto' ? precheck(provider) : undefined;
    if (reason) {
      skipped.push({ provider, reason });
      logger.info(`execution provider ${provider} skipped: ${reason}`);
      continue;
    }
    try {
      const value = await open(provider);
      return { value, provider, skipped };
    } catch (error) {
      const message = messageOf(error).split('\n')[0]!.slice(0, 300);
      if (device !== 'auto')
        throw new Error(`INFERENCE_DEVICE=${device}: cannot open the model on ${provider}: ${message}`);
      skipped.push({ provider, reason: message });
      logger.warn(`execution provider ${provider} failed, trying the next`, { reason: message });
    }
  }
  throw new Error(
    `no execution provider could open the model: ${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')}`,
  );
}
