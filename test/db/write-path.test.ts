/**
 * The group commit's storage path on a real database: multi-row INSERTs split to stay under the
 * parameter limit, values that read back through Prisma as they went in, and (SQLite) WAL checkpoints
 * made by the checkpointer thread while the server's connection makes none.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CAPTURE_TABLE, captureOf } from '../../src/capture/record.ts';
import { GroupCommit } from '../../src/db/group-commit.ts';
import { insertStatementCount, insertStatements } from '../../src/db/insert.ts';
import { parseDatabaseUrl } from '../../src/db/url.ts';
import { STEP_TABLE, stepTableRows, TENSOR_TABLE } from '../../src/debugger/step-rows.ts';
import { createLogger } from '../../src/logger.ts';
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
    await Promise.all(
      insertStatements(prisma, 'DebugStep', columns, [
        { id: stepId, endpointId, step: 0, mode: 'PREDICT', captureId: null, createdAt },
      ]),
    );

    const tensorColumns = ['id', 'stepId', 'name', 'shape', 'dtype', 'encoding', 'data'] as const;
    const rows = Array.from({ length: 9_000 }, (_, i) => ({
      id: randomUUID(),
      stepId,
      name: `t${i}`,
      shape: `[${i}]`,
      dtype: 'float32',
      encoding: 'f32',
      data: new Uint8Array([i & 255, i >> 8, 0, 7]),
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
    const commit = new GroupCommit(prisma, createLogger('silent'), {
      tables: [CAPTURE_TABLE.name, STEP_TABLE.name, TENSOR_TABLE.name],
    });
    // 3 steps of 17 MB: a group holds up to 32 MB of tensors, so no two of them share one
    const steps = Array.from({ length: 3 }, (_, k) => {
      const stepId = randomUUID();
      return {
        step: {
          id: stepId,
          endpointId,
          step: 1000 + k,
          mode: 'PREDICT' as const,
          captureId: null,
          createdAt: new Date(),
        },
        tensors: [
          {
            id: randomUUID(),
            stepId,
            name: 'big',
            shape: '[1]',
            dtype: 'float32',
            encoding: 'f32',
            data: new Uint8Array(17 * 1024 * 1024).fill(k),
          },
        ],
      };
    });
    await Promise.all(steps.map((s) => commit.write(stepTableRows(s))));
    expect(commit.groupSizes.reduce((a, b) => a + b, 0)).toBe(3);
    expect(Math.max(...commit.groupSizes)).toBe(1);
    const stored = await prisma.tensor.findMany({
      where: { stepId: { in: steps.map((s) => s.step.id) } },
      select: { data: true },
    });
    expect(stored.map((t) => [t.data.length, t.data[5]]).sort()).toEqual([
      [17 * 1024 * 1024, 0],
      [17 * 1024 * 1024, 1],
      [17 * 1024 * 1024, 2],
    ]);
  });

  it('commits concurrent requests in one group, each table before the tables that point to it', async () => {
    const prisma = server.app.database.prisma;
    const endpointId = (await prisma.endpoint.findFirstOrThrow()).id;
    const commit = new GroupCommit(prisma, createLogger('silent'), {
      tables: [CAPTURE_TABLE.name, STEP_TABLE.name, TENSOR_TABLE.name],
    });
    const step = (captureId: string | null, n: number) => {
      const stepId = randomUUID();
      return {
        step: { id: stepId, endpointId, step: 2000 + n, mode: 'PREDICT' as const, captureId, createdAt: new Date() },
        tensors: [
          {
            id: randomUUID(),
            stepId,
            name: 'logits',
            shape: '[1,2]',
            dtype: 'float32',
            encoding: 'f32',
            data: new Uint8Array(8),
          },
        ],
      };
    };
    const capture = captureOf({
      endpoint: { id: endpointId, dataCapture: { enabled: true, samplingPercentage: 100, captureMode: 'BOTH' } },
      payload: { bytes: new Uint8Array([1, 2, 3]), contentType: 'image/png' },
      prediction: {
        top: [{ classId: 1, probability: 0.75, label: 'one' }],
        probabilities: Float64Array.of(0.25, 0.75),
        modelVersion: 'v',
        inferenceTime: new Date(),
      },
    })!;
    // while a first commit runs, two requests gather into the next group: the first has no capture,
    // the second's step points to its capture; the group's INSERTs still go capture, step, tensor
    const first = step(null, 0);
    const second = step(capture.id, 1);
    const inFlight = commit.write(stepTableRows(step(null, 2)));
    await Promise.all([
      inFlight,
      commit.write(stepTableRows(first)),
      commit.write([CAPTURE_TABLE.rows([capture]), ...stepTableRows(second)]),
    ]);
    expect(commit.groupSizes).toEqual([1, 2]);
    const stored = await prisma.debugStep.findUniqueOrThrow({
      where: { id: second.step.id },
      include: { capture: true, tensors: true },
    });
    expect(stored.capture?.predictedClass).toBe(1);
    expect(stored.tensors.map((t) => t.name)).toEqual(['logits']);
    await expect(commit.write([{ table: 'Endpoint', columns: ['id'], values: [['x']], bytes: 0 }])).rejects.toThrow(
      /does not write table Endpoint/,
    );
  });

  it('refuses identifiers that are not plain names', () => {
    expect(() =>
      insertStatements(server.app.database.prisma, 'Tensor"; DROP TABLE "Tensor', ['id'], [{ id: 'x' }]),
    ).toThrow(/identifier/);
  });

  it.runIf(TEST_DB === 'sqlite')(
    'checkpoints the WAL on its own thread while the server connection does not',
    async () => {
      const prisma = server.app.database.prisma;
      expect(await prisma.$queryRawUnsafe('PRAGMA wal_autocheckpoint')).toEqual([{ wal_autocheckpoint: 0n }]);
      const target = parseDatabaseUrl(server.database.url);
      if (target.provider !== 'sqlite') throw new Error('expected SQLite');
      const sizeBefore = fs.statSync(target.file).size;
      // ~6 MB through the writer's statements; only a checkpoint moves pages from the log into the file
      const endpointId = (await prisma.endpoint.findFirstOrThrow()).id;
      const stepId = randomUUID();
      await Promise.all(
        insertStatements(
          prisma,
          'DebugStep',
          ['id', 'endpointId', 'step', 'mode', 'captureId', 'createdAt'],
          [{ id: stepId, endpointId, step: 1, mode: 'PREDICT', captureId: null, createdAt: new Date() }],
        ),
      );
      for (let i = 0; i < 12; i++) {
        await Promise.all(
          insertStatements(
            prisma,
            'Tensor',
            ['id', 'stepId', 'name', 'shape', 'dtype', 'encoding', 'data'],
            [
              {
                id: randomUUID(),
                stepId,
                name: `big${i}`,
                shape: '[1]',
                dtype: 'float32',
                encoding: 'f32',
                data: new Uint8Array(512 * 1024).fill(i),
              },
            ],
          ),
        );
      }
      const deadline = Date.now() + 10_000;
      while (fs.statSync(target.file).size < sizeBefore + 5_000_000 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(fs.statSync(target.file).size).toBeGreaterThanOrEqual(sizeBefore + 5_000_000);
    },
  );
});
