/**
 * A bounded sample of a window's inputs, as the captures stored them: features (float16, decoded) and
 * image statistics. Its cost does not grow with the window: the window is cut into SLICES equal spans
 * of time and each gives at most its share of `max` captures, read in time order from the start of its
 * span over the (endpointId, inferenceTime) index, so the sample covers the whole window rather than its
 * first minutes, and a window of a million captures reads `max` rows.
 */
import { decodeFeatures } from '../../capture/features.ts';
import type { Db } from '../../db/prisma.ts';
import { parseImageStats } from '../../inference/image-stats.ts';
import type { InputSample } from '../checks/input-drift.ts';

const SLICES = 16;

export class InputSampleStore {
  constructor(private readonly prisma: Db) {}

  /** at most `max` captures of [from, to) with features or image statistics */
  async sample(endpointId: string, from: Date, to: Date, max: number): Promise<InputSample> {
    const sample: InputSample = { features: [], imageStats: [] };
    const span = to.getTime() - from.getTime();
    if (span <= 0 || max < 1) return sample;
    const slices = Math.min(SLICES, max, span);
    const per = Math.ceil(max / slices);
    const edges = Array.from(
      { length: slices + 1 },
      (_, i) => new Date(from.getTime() + Math.round((i * span) / slices)),
    );
    const parts = await Promise.all(
      edges.slice(0, -1).map((start, i) =>
        this.prisma.capture.findMany({
          where: {
            endpointId,
            inferenceTime: { gte: start, lt: edges[i + 1]! },
            OR: [{ features: { not: null } }, { imageStats: { not: null } }],
          },
          orderBy: { inferenceTime: 'asc' },
          take: per,
          select: { features: true, imageStats: true },
        }),
      ),
    );
    for (const row of parts.flat().slice(0, max)) {
      if (row.features) sample.features.push(decodeFeatures(row.features));
      const stats = parseImageStats(row.imageStats);
      if (stats) sample.imageStats.push(stats);
    }
    return sample;
  }
}
