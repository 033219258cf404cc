-- Executions name their endpoint (an ad-hoc execution has no schedule), backfilled from their schedule;
-- violations name their check, backfilled from what the built-in checks wrote.
-- AlterTable
ALTER TABLE "MonitoringSchedule" ADD COLUMN "pausedAt" DATETIME;

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Metric" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "scheduleId" TEXT,
    "executionId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "value" REAL NOT NULL,
    "timestamp" DATETIME NOT NULL,
    CONSTRAINT "Metric_scheduleId_fkey" FOREIGN KEY ("scheduleId") REFERENCES "MonitoringSchedule" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Metric_executionId_fkey" FOREIGN KEY ("executionId") REFERENCES "MonitoringExecution" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Metric" ("executionId", "id", "name", "scheduleId", "timestamp", "value") SELECT "executionId", "id", "name", "scheduleId", "timestamp", "value" FROM "Metric";
DROP TABLE "Metric";
ALTER TABLE "new_Metric" RENAME TO "Metric";
CREATE INDEX "Metric_scheduleId_name_timestamp_idx" ON "Metric"("scheduleId", "name", "timestamp");
CREATE INDEX "Metric_executionId_idx" ON "Metric"("executionId");
CREATE TABLE "new_MonitoringExecution" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "scheduleId" TEXT,
    "endpointId" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "windowStart" DATETIME NOT NULL,
    "windowEnd" DATETIME NOT NULL,
    "recordCount" INTEGER NOT NULL DEFAULT 0,
    "classCounts" TEXT,
    "message" TEXT,
    "insufficientData" BOOLEAN NOT NULL DEFAULT false,
    "statistics" TEXT,
    "startedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" DATETIME,
    CONSTRAINT "MonitoringExecution_scheduleId_fkey" FOREIGN KEY ("scheduleId") REFERENCES "MonitoringSchedule" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "MonitoringExecution_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_MonitoringExecution" ("classCounts", "finishedAt", "id", "message", "recordCount", "scheduleId", "endpointId", "insufficientData", "startedAt", "status", "trigger", "windowEnd", "windowStart") SELECT e."classCounts", e."finishedAt", e."id", e."message", e."recordCount", e."scheduleId", s."endpointId", e."message" LIKE 'Completed: insufficient data%', e."startedAt", e."status", e."trigger", e."windowEnd", e."windowStart" FROM "MonitoringExecution" e JOIN "MonitoringSchedule" s ON s."id" = e."scheduleId";
DROP TABLE "MonitoringExecution";
ALTER TABLE "new_MonitoringExecution" RENAME TO "MonitoringExecution";
CREATE INDEX "MonitoringExecution_scheduleId_status_startedAt_idx" ON "MonitoringExecution"("scheduleId", "status", "startedAt");
CREATE INDEX "MonitoringExecution_endpointId_startedAt_idx" ON "MonitoringExecution"("endpointId", "startedAt");
CREATE UNIQUE INDEX "MonitoringExecution_scheduleId_windowEnd_key" ON "MonitoringExecution"("scheduleId", "windowEnd");
CREATE TABLE "new_Violation" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "executionId" TEXT NOT NULL,
    "check" TEXT NOT NULL,
    "featureName" TEXT NOT NULL,
    "constraintCheckType" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    CONSTRAINT "Violation_executionId_fkey" FOREIGN KEY ("executionId") REFERENCES "MonitoringExecution" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Violation" ("constraintCheckType", "description", "executionId", "featureName", "id", "check") SELECT "constraintCheckType", "description", "executionId", "featureName", "id", CASE WHEN "constraintCheckType" = 'completeness_check' THEN 'COMPLETENESS' WHEN "description" LIKE 'Class %' THEN 'CLASS_SHARE' WHEN "description" LIKE '%had all top-3 scores below%' THEN 'LOW_CONFIDENCE' ELSE 'DRIFT' END FROM "Violation";
DROP TABLE "Violation";
ALTER TABLE "new_Violation" RENAME TO "Violation";
CREATE INDEX "Violation_executionId_idx" ON "Violation"("executionId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
