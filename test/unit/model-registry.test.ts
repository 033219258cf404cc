/** ModelRegistry.providerIfLoaded: a read that reports a loaded model's provider and never loads one. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { ModelCatalog } from '../../src/models/catalog.ts';
import { ModelRegistry } from '../../src/models/registry.ts';

describe('ModelRegistry.providerIfLoaded', () => {
  it('is null until the model has loaded, and starts no load', async () => {
    const registry = new ModelRegistry(new ModelCatalog('models'), 'cpu', createLogger('silent'));
    try {
      expect(registry.providerIfLoaded('gtsrb-resnet18')).toBeNull();
      expect(registry.providerIfLoaded('no-such-model')).toBeNull();
      expect(await registry.loaded()).toEqual([]);
      const loading = registry.get('gtsrb-resnet18');
      expect(registry.providerIfLoaded('gtsrb-resnet18')).toBeNull(); // still loading
      await loading;
      expect(registry.providerIfLoaded('gtsrb-resnet18')).toBe('cpu');
    } finally {
      await registry.close();
    }
    expect(registry.providerIfLoaded('gtsrb-resnet18')).toBeNull();
  });
});
