import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('configuration', () => {
  it('has documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      databaseUrl: 'file:./data/vigil.db',
      redisUrl: undefined,
      inferenceDevice: 'auto',
      logLevel: 'info',
    });
    expect(config.modelDir.endsWith('models')).toBe(true);
  });

  it('honours PORT, DATABASE_URL, REDIS_URL and INFERENCE_DEVICE', () => {
    const config = loadConfig({
      PORT: '5001',
      DATABASE_URL: 'postgresql://u@h:5432/db',
      REDIS_URL: 'redis://127.0.0.1:6379',
      INFERENCE_DEVICE: 'cpu',
    });
    expect(config).toMatchObject({ port: 5001, databaseUrl: 'postgresql://u@h:5432/db', redisUrl: 'redis://127.0.0.1:6379', inferenceDevice: 'cpu' });
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT=eighty/],
    [{ PORT: '70000' }, /PORT=70000/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
    [{ REDIS_URL: 'http://x' }, /REDIS_URL/],
    [{ INFERENCE_DEVICE: 'tpu' }, /INFERENCE_DEVICE=tpu: expected one of auto, cpu, cuda, webgpu/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
  ])('rejects %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
