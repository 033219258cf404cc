-- AlterTable
ALTER TABLE "Endpoint" ADD COLUMN "captureRetentionDays" INTEGER;
ALTER TABLE "Endpoint" ADD COLUMN "deletedAt" DATETIME;
ALTER TABLE "Endpoint" ADD COLUMN "hookRetentionDays" INTEGER;

-- AlterTable
ALTER TABLE "MonitoringSchedule" ADD COLUMN "executionRetentionDays" INTEGER;

-- CreateIndex
CREATE INDEX "DebugStep_endpointId_createdAt_idx" ON "DebugStep"("endpointId", "createdAt");

-- CreateIndex
CREATE INDEX "Metric_executionId_idx" ON "Metric"("executionId");

-- CreateIndex
CREATE INDEX "Violation_executionId_idx" ON "Violation"("executionId");
