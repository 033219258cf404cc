import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, checkModelDir, loadConfig } from '../../src/config.ts';

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
    expect(config).toMatchObject({
      port: 5001,
      databaseUrl: 'postgresql://u@h:5432/db',
      redisUrl: 'redis://127.0.0.1:6379',
      inferenceDevice: 'cpu',
    });
  });

  it('keeps CORS off and introspection to development unless asked, and the image limits at their defaults', () => {
    expect(loadConfig({})).toMatchObject({
      corsOrigins: [],
      introspection: true,
      maxImagePixels: 25_000_000,
      maxRequestDecodedBytes: 256 * 1024 * 1024,
    });
    expect(loadConfig({ NODE_ENV: 'production' }).introspection).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', INTROSPECTION: 'true' }).introspection).toBe(true);
    expect(loadConfig({ CORS_ORIGINS: ' https://dash.example.com , http://localhost:5173' }).corsOrigins).toEqual([
      'https://dash.example.com',
      'http://localhost:5173',
    ]);
  });

  it('bounds queued work and shutdown by default, and takes other bounds', () => {
    expect(loadConfig({})).toMatchObject({
      queues: { maxImages: 256, maxSteps: 64, maxWrites: 512 },
      shutdownTimeoutMs: 10_000,
    });
    expect(
      loadConfig({
        MAX_QUEUED_IMAGES: '1024',
        MAX_QUEUED_STEPS: '8',
        MAX_QUEUED_WRITES: '64',
        SHUTDOWN_TIMEOUT_MS: '30000',
      }),
    ).toMatchObject({ queues: { maxImages: 1024, maxSteps: 8, maxWrites: 64 }, shutdownTimeoutMs: 30_000 });
  });

  it('keeps acknowledged writes across a process crash by default; DURABILITY=strict across power loss', () => {
    expect(loadConfig({})).toMatchObject({ durability: 'normal', databaseLockTimeoutMs: 10_000 });
    expect(loadConfig({ DURABILITY: 'strict', DATABASE_LOCK_TIMEOUT_MS: '2500' })).toMatchObject({
      durability: 'strict',
      databaseLockTimeoutMs: 2500,
    });
  });

  it('sends alerts to public https hosts only by default; ALERT_URL_ALLOWLIST lists hosts, normalized', () => {
    expect(loadConfig({}).alerts).toEqual({
      urlAllowlist: [],
      timeoutMs: 10_000,
      maxAttempts: 12,
      maxAgeMs: 24 * 3_600_000,
      retryBaseMs: 5000,
      retryMaxMs: 15 * 60_000,
      pollIntervalMs: 1000,
    });
    const config = loadConfig({
      ALERT_URL_ALLOWLIST: ' Hooks.Example.com, 127.0.0.1,::1,,receiver.internal ',
      ALERT_TIMEOUT_MS: '2000',
      ALERT_MAX_ATTEMPTS: '3',
      ALERT_MAX_AGE_MS: '60000',
      ALERT_RETRY_BASE_MS: '100',
      ALERT_RETRY_MAX_MS: '400',
      ALERT_POLL_INTERVAL_MS: '50',
    });
    expect(config.alerts).toEqual({
      urlAllowlist: ['hooks.example.com', '127.0.0.1', '[::1]', 'receiver.internal'],
      timeoutMs: 2000,
      maxAttempts: 3,
      maxAgeMs: 60_000,
      retryBaseMs: 100,
      retryMaxMs: 400,
      pollIntervalMs: 50,
    });
  });

  it('keeps external checks off unless CHECKS_DIR names a directory, with their limits', () => {
    expect(loadConfig({}).externalChecks).toEqual({
      dir: null,
      timeoutMs: 60_000,
      maxOutputBytes: 16 * 1024 * 1024,
      maxCaptures: 100_000,
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-config-checks-'));
    try {
      expect(
        loadConfig({
          CHECKS_DIR: ` ${dir} `,
          EXTERNAL_CHECK_TIMEOUT_MS: '5000',
          EXTERNAL_CHECK_MAX_OUTPUT_BYTES: '4096',
          EXTERNAL_CHECK_MAX_CAPTURES: '10',
        }).externalChecks,
      ).toEqual({ dir, timeoutMs: 5000, maxOutputBytes: 4096, maxCaptures: 10 });
      expect(() => loadConfig({ CHECKS_DIR: path.join(dir, 'missing') })).toThrow(/CHECKS_DIR=.*: not a directory/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [{ EXTERNAL_CHECK_TIMEOUT_MS: '0' }, /EXTERNAL_CHECK_TIMEOUT_MS=0/],
    [{ EXTERNAL_CHECK_MAX_OUTPUT_BYTES: '1' }, /EXTERNAL_CHECK_MAX_OUTPUT_BYTES=1/],
    [{ EXTERNAL_CHECK_MAX_CAPTURES: 'all' }, /EXTERNAL_CHECK_MAX_CAPTURES=all/],
    [{ CHECKS_DIR: '/etc/passwd' }, /CHECKS_DIR=\/etc\/passwd: not a directory/],
  ])('rejects external-check setting %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it.each([
    [{ ALERT_URL_ALLOWLIST: 'https://hooks.example.com' }, /ALERT_URL_ALLOWLIST=.*is not a host/],
    [{ ALERT_URL_ALLOWLIST: 'hooks.example.com:8443' }, /is not a host/],
    [{ ALERT_URL_ALLOWLIST: 'hooks.example.com/path' }, /is not a host/],
    [{ ALERT_URL_ALLOWLIST: '*.example.com' }, /is not a host/],
    [{ ALERT_URL_ALLOWLIST: 'user@hooks.example.com' }, /is not a host/],
    [{ ALERT_URL_ALLOWLIST: 'a b' }, /is not a host/],
    [{ ALERT_TIMEOUT_MS: '0' }, /ALERT_TIMEOUT_MS=0/],
    [{ ALERT_MAX_ATTEMPTS: '0' }, /ALERT_MAX_ATTEMPTS=0/],
    [{ ALERT_MAX_AGE_MS: 'a day' }, /ALERT_MAX_AGE_MS/],
    [{ ALERT_RETRY_BASE_MS: '5000', ALERT_RETRY_MAX_MS: '1000' }, /ALERT_RETRY_MAX_MS=1000: expected at least/],
    [{ ALERT_POLL_INTERVAL_MS: '1' }, /ALERT_POLL_INTERVAL_MS=1/],
  ])('rejects alert setting %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it.each([
    [{ MAX_QUEUED_IMAGES: '0' }, /MAX_QUEUED_IMAGES=0/],
    [{ SHUTDOWN_TIMEOUT_MS: 'soon' }, /SHUTDOWN_TIMEOUT_MS=soon/],
    [{ CORS_ORIGINS: '*' }, /no wildcard/],
    [{ CORS_ORIGINS: 'https://*.example.com' }, /no wildcard/],
    [{ CORS_ORIGINS: 'https://dash.example.com/' }, /is not an origin/],
    [{ CORS_ORIGINS: 'dash.example.com' }, /is not an origin/],
    [{ INTROSPECTION: 'yes' }, /INTROSPECTION/],
    [{ PORT: 'eighty' }, /PORT=eighty/],
    [{ PORT: '70000' }, /PORT=70000/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
    [{ REDIS_URL: 'http://x' }, /REDIS_URL/],
    [{ INFERENCE_DEVICE: 'tpu' }, /INFERENCE_DEVICE=tpu: expected one of auto, cpu, cuda, webgpu/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ DURABILITY: 'full' }, /DURABILITY=full: expected one of normal, strict/],
    [{ DATABASE_LOCK_TIMEOUT_MS: '10' }, /DATABASE_LOCK_TIMEOUT_MS=10/],
  ])('rejects %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('MODEL_DIR at start', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-config-'));
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it('accepts a folder, even an empty one (a model may be copied in later)', () => {
    expect(() => checkModelDir(loadConfig({ MODEL_DIR: scratch }), { MODEL_DIR: scratch })).not.toThrow();
  });

  it('refuses a path that does not exist or is not a folder, naming it', () => {
    const missing = path.join(scratch, 'modles');
    expect(() => checkModelDir(loadConfig({ MODEL_DIR: missing }), { MODEL_DIR: missing })).toThrow(
      new ConfigError(`MODEL_DIR=${missing}: no such directory`),
    );
    const file = path.join(scratch, 'file');
    fs.writeFileSync(file, '');
    expect(() => checkModelDir(loadConfig({ MODEL_DIR: file }), { MODEL_DIR: file })).toThrow(
      `MODEL_DIR=${file}: not a directory`,
    );
  });

  it('says when the default ./models is missing because of the working directory', () => {
    const config = { modelDir: path.join(scratch, 'models') };
    expect(() => checkModelDir(config, {})).toThrow(
      /MODEL_DIR is not set and its default, .*models, does not exist: start vigil from the repository's folder/,
    );
  });

  it('stops `npm start` with exit status 2 before it opens the database', () => {
    const database = path.join(scratch, 'vigil.db');
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, MODEL_DIR: 'no-such-models', DATABASE_URL: `file:${database}`, PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      `vigil: invalid configuration: MODEL_DIR=no-such-models: no such directory (${path.resolve('no-such-models')})`,
    );
    expect(fs.existsSync(database)).toBe(false);
  });
});
