/**
 * The capture writer's storage path on a real database: multi-row INSERTs split to stay under the
 * parameter limit, values that read back through Prisma as they went in, and (SQLite) WAL checkpoints
 * made by the checkpointer thread while the server's connection makes none.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CaptureWriter } from '../../src/capture/writer.ts';
import { insertStatementCount, insertStatements } from '../../src/db/insert.ts';
import { createLogger } from '../../src/logger.ts';
import { parseDatabaseUrl } from '../../src/db/url.ts';
import { TEST_DB } from '../helpers/database.ts';
import { useTestServer } from '../helpers/server.ts';

describe('write path', () => {
  const server = useTestServer();

  it('inserts more rows than one statement may hold, across statements, values intact', async () => {
    const prisma = server.app.database.prisma;
    const endpointId = randomUUID();
    await prisma.endpoint.create({ data: { id: endpointId, name: 'write-path', model: 'gtsrb-resnet18' } });
    const stepId = randomUUID();
    const columns = ['id', 'endpointId', 'step', 'mode', 'captureId', 'createdAt'] as const;
    const createdAt = new Date('2026-01-02T03:04:05.678Z');
    await Promise.all(insertStatements(prisma, 'DebugStep', columns, [{ id: stepId, endpointId, step: 0, mode: 'PREDICT', captureId: null, createdAt }]));

    const tensorColumns = ['id', 'stepId', 'name', 'shape', 'dtype', 'encoding', 'data'] as const;
    const rows = Array.from({ length: 9_000 }, (_, i) => ({
      id: randomUUID(), stepId, name: `t${i}`, shape: `[${i}]`, dtype: 'float32', encoding: 'f32', data: new Uint8Array([i & 255, i >> 8, 0, 7]),
    }));
    const statements = insertStatements(prisma, 'Tensor', tensorColumns, rows);
    expect(statements.length).toBe(insertStatementCount(tensorColumns.length, rows.length));
    expect(statements.length).toBeGreaterThan(1);
    await prisma.$transaction(async (tx) => {
      for (const statement of insertStatements(tx, 'Tensor', tensorColumns, rows)) await statement;
    });

    expect(await prisma.tensor.count({ where: { stepId } })).toBe(rows.length);
    const sample = await prisma.tensor.findUniqueOrThrow({ where: { stepId_name: { stepId, name: 't4321' } } });
    expect([...sample.data]).toEqual([4321 & 255, 4321 >> 8, 0, 7]);
    expect(sample.shape).toBe('[4321]');
    const step = await prisma.debugStep.findUniqueOrThrow({ where: { id: stepId } });
    expect(step.createdAt.toISOString()).toBe(createdAt.toISOString());
  });

  it('splits the group commit of large debug steps, and commits every step', async () => {
    const prisma = server.app.database.prisma;
    const endpointId = (await prisma.endpoint.findFirstOrThrow()).id;
    const writer = new CaptureWriter(prisma, createLogger('silent'));
    // 3 steps of 17 MB: a group holds up to 32 MB of tensors, so no two of them share one
    const units = Array.from({ length: 3 }, (_, k) => {
      const stepId = randomUUID();
      return {
        capture: null,
        debug: {
          step: { id: stepId, endpointId, step: 1000 + k, mode: 'PREDICT', captureId: null },
          tensors: [{ id: randomUUID(), stepId, name: 'big', shape: '[1]', dtype: 'float32', encoding: 'f32', data: new Uint8Array(17 * 1024 * 1024).fill(k) }],
        },
      };
    });
    await Promise.all(units.map((u) => writer.write(u)));
    expect(writer.groupSizes.reduce((a, b) => a + b, 0)).toBe(3);
    expect(Math.max(...writer.groupSizes)).toBe(1);
    const stored = await prisma.tensor.findMany({ where: { stepId: { in: units.map((u) => u.debug.step.id) } }, select: { data: true } });
    expect(stored.map((t) => [t.data.length, t.data[5]]).sort()).toEqual([[17 * 1024 * 1024, 0], [17 * 1024 * 1024, 1], [17 * 1024 * 1024, 2]]);
  });

  it('refuses identifiers that are not plain names', () => {
    expect(() => insertStatements(server.app.database.prisma, 'Tensor"; DROP TABLE "Tensor', ['id'], [{ id: 'x' }])).toThrow(/identifier/);
  });

  it.runIf(TEST_DB === 'sqlite')('checkpoints the WAL on its own thread while the server connection does not', async () => {
    const prisma = server.app.database.prisma;
    expect(await prisma.$queryRawUnsafe('PRAGMA wal_autocheckpoint')).toEqual([{ wal_autocheckpoint: 0n }]);
    const target = parseDatabaseUrl(server.database.url);
    if (target.provider !== 'sqlite') throw new Error('expected SQLite');
    const sizeBefore = fs.statSync(target.file).size;
    // ~6 MB through the writer's statements; only a checkpoint moves pages from the log into the file
    const endpointId = (await prisma.endpoint.findFirstOrThrow()).id;
    const stepId = randomUUID();
    await Promise.all(insertStatements(prisma, 'DebugStep', ['id', 'endpointId', 'step', 'mode', 'captureId', 'createdAt'], [{ id: stepId, endpointId, step: 1, mode: 'PREDICT', captureId: null, createdAt: new Date() }]));
    for (let i = 0; i < 12; i++) {
      await Promise.all(insertStatements(prisma, 'Tensor', ['id', 'stepId', 'name', 'shape', 'dtype', 'encoding', 'data'], [
        { id: randomUUID(), stepId, name: `big${i}`, shape: '[1]', dtype: 'float32', encoding: 'f32', data: new Uint8Array(512 * 1024).fill(i) },
      ]));
    }
    const deadline = Date.now() + 10_000;
    while (fs.statSync(target.file).size < sizeBefore + 5_000_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(fs.statSync(target.file).size).toBeGreaterThanOrEqual(sizeBefore + 5_000_000);
  });
});
