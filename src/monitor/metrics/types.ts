/** A metric an execution emitted, independent of Prisma and GraphQL. */
export interface MetricPoint {
  name: string;
  value: number;
  timestamp: Date;
  executionId: string;
}
