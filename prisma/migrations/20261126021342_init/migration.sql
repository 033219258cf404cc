-- CreateTable
CREATE TABLE "Endpoint" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "captureEnabled" BOOLEAN NOT NULL DEFAULT false,
    "samplingPercentage" REAL NOT NULL DEFAULT 0,
    "captureMode" TEXT NOT NULL DEFAULT 'BOTH',
    "hookEnabled" BOOLEAN NOT NULL DEFAULT false,
    "hookIncludeRegex" TEXT,
    "hookSaveInterval" INTEGER NOT NULL DEFAULT 1,
    "hookCollections" TEXT NOT NULL DEFAULT '[]',
    "hookStepCounter" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Capture" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "endpointId" TEXT NOT NULL,
    "eventId" TEXT NOT NULL,
    "inferenceTime" DATETIME NOT NULL,
    "modelVersion" TEXT NOT NULL,
    "inputData" BLOB,
    "inputContentType" TEXT,
    "output" TEXT,
    "predictedClass" INTEGER,
    "confidence" REAL,
    "top2Class" INTEGER,
    "top2Score" REAL,
    "top3Class" INTEGER,
    "top3Score" REAL,
    CONSTRAINT "Capture_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "DebugStep" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "endpointId" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "mode" TEXT NOT NULL DEFAULT 'PREDICT',
    "captureId" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "DebugStep_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "DebugStep_captureId_fkey" FOREIGN KEY ("captureId") REFERENCES "Capture" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Tensor" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "stepId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "shape" TEXT NOT NULL,
    "dtype" TEXT NOT NULL,
    "encoding" TEXT NOT NULL,
    "data" BLOB NOT NULL,
    CONSTRAINT "Tensor_stepId_fkey" FOREIGN KEY ("stepId") REFERENCES "DebugStep" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Baseline" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "endpointId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "itemCount" INTEGER NOT NULL,
    "statistics" TEXT NOT NULL,
    "constraints" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Baseline_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "MonitoringSchedule" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "endpointId" TEXT NOT NULL,
    "cron" TEXT NOT NULL,
    "checks" TEXT NOT NULL,
    "baselineId" TEXT,
    "nextRunAt" DATETIME,
    "leaseOwner" TEXT,
    "leaseExpiresAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "MonitoringSchedule_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "MonitoringSchedule_baselineId_fkey" FOREIGN KEY ("baselineId") REFERENCES "Baseline" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "MonitoringExecution" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "scheduleId" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "windowStart" DATETIME NOT NULL,
    "windowEnd" DATETIME NOT NULL,
    "recordCount" INTEGER NOT NULL DEFAULT 0,
    "classCounts" TEXT,
    "message" TEXT,
    "startedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" DATETIME,
    CONSTRAINT "MonitoringExecution_scheduleId_fkey" FOREIGN KEY ("scheduleId") REFERENCES "MonitoringSchedule" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Violation" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "executionId" TEXT NOT NULL,
    "featureName" TEXT NOT NULL,
    "constraintCheckType" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    CONSTRAINT "Violation_executionId_fkey" FOREIGN KEY ("executionId") REFERENCES "MonitoringExecution" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Metric" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "scheduleId" TEXT NOT NULL,
    "executionId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "value" REAL NOT NULL,
    "timestamp" DATETIME NOT NULL,
    CONSTRAINT "Metric_scheduleId_fkey" FOREIGN KEY ("scheduleId") REFERENCES "MonitoringSchedule" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Metric_executionId_fkey" FOREIGN KEY ("executionId") REFERENCES "MonitoringExecution" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "Endpoint_name_key" ON "Endpoint"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Capture_eventId_key" ON "Capture"("eventId");

-- CreateIndex
CREATE INDEX "Capture_endpointId_inferenceTime_predictedClass_confidence_idx" ON "Capture"("endpointId", "inferenceTime", "predictedClass", "confidence");

-- CreateIndex
CREATE INDEX "Capture_endpointId_predictedClass_idx" ON "Capture"("endpointId", "predictedClass");

-- CreateIndex
CREATE UNIQUE INDEX "DebugStep_captureId_key" ON "DebugStep"("captureId");

-- CreateIndex
CREATE UNIQUE INDEX "DebugStep_endpointId_mode_step_key" ON "DebugStep"("endpointId", "mode", "step");

-- CreateIndex
CREATE UNIQUE INDEX "Tensor_stepId_name_key" ON "Tensor"("stepId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "Baseline_endpointId_name_key" ON "Baseline"("endpointId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "MonitoringSchedule_name_key" ON "MonitoringSchedule"("name");

-- CreateIndex
CREATE INDEX "MonitoringExecution_scheduleId_status_startedAt_idx" ON "MonitoringExecution"("scheduleId", "status", "startedAt");

-- CreateIndex
CREATE UNIQUE INDEX "MonitoringExecution_scheduleId_windowEnd_key" ON "MonitoringExecution"("scheduleId", "windowEnd");

-- CreateIndex
CREATE INDEX "Metric_scheduleId_name_timestamp_idx" ON "Metric"("scheduleId", "name", "timestamp");
