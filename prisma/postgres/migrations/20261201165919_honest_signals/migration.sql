-- Executions name their endpoint (an ad-hoc execution has no schedule), backfilled from their schedule;
-- violations name their check, backfilled from what the built-in checks wrote.
-- AlterTable
ALTER TABLE "Metric" ALTER COLUMN "scheduleId" DROP NOT NULL;

-- AlterTable
ALTER TABLE "MonitoringExecution" ADD COLUMN     "endpointId" TEXT,
ADD COLUMN     "insufficientData" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "statistics" TEXT,
ALTER COLUMN "scheduleId" DROP NOT NULL;
UPDATE "MonitoringExecution" e SET "endpointId" = s."endpointId" FROM "MonitoringSchedule" s WHERE s."id" = e."scheduleId";
UPDATE "MonitoringExecution" SET "insufficientData" = true WHERE "message" LIKE 'Completed: insufficient data%';
ALTER TABLE "MonitoringExecution" ALTER COLUMN "endpointId" SET NOT NULL;

-- AlterTable
ALTER TABLE "MonitoringSchedule" ADD COLUMN     "pausedAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "Violation" ADD COLUMN     "check" TEXT;
UPDATE "Violation" SET "check" = CASE WHEN "constraintCheckType" = 'completeness_check' THEN 'COMPLETENESS' WHEN "description" LIKE 'Class %' THEN 'CLASS_SHARE' WHEN "description" LIKE '%had all top-3 scores below%' THEN 'LOW_CONFIDENCE' ELSE 'DRIFT' END;
ALTER TABLE "Violation" ALTER COLUMN "check" SET NOT NULL;

-- CreateIndex
CREATE INDEX "MonitoringExecution_endpointId_startedAt_idx" ON "MonitoringExecution"("endpointId", "startedAt");

-- AddForeignKey
ALTER TABLE "MonitoringExecution" ADD CONSTRAINT "MonitoringExecution_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;
