-- AlterTable
ALTER TABLE "MonitoringExecution" ADD COLUMN "modelQuality" TEXT;

-- CreateTable
CREATE TABLE "GroundTruth" (
    "captureId" TEXT NOT NULL PRIMARY KEY,
    "endpointId" TEXT NOT NULL,
    "inferenceTime" DATETIME NOT NULL,
    "predictedClass" INTEGER,
    "classId" INTEGER NOT NULL,
    "receivedAt" DATETIME NOT NULL,
    CONSTRAINT "GroundTruth_captureId_fkey" FOREIGN KEY ("captureId") REFERENCES "Capture" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "GroundTruth_endpointId_inferenceTime_idx" ON "GroundTruth"("endpointId", "inferenceTime");
