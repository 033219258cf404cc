-- AlterTable
ALTER TABLE "MonitoringExecution" ADD COLUMN     "modelQuality" TEXT;

-- CreateTable
CREATE TABLE "GroundTruth" (
    "captureId" TEXT NOT NULL,
    "endpointId" TEXT NOT NULL,
    "inferenceTime" TIMESTAMP(3) NOT NULL,
    "predictedClass" INTEGER,
    "classId" INTEGER NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "GroundTruth_pkey" PRIMARY KEY ("captureId")
);

-- CreateIndex
CREATE INDEX "GroundTruth_endpointId_inferenceTime_idx" ON "GroundTruth"("endpointId", "inferenceTime");

-- AddForeignKey
ALTER TABLE "GroundTruth" ADD CONSTRAINT "GroundTruth_captureId_fkey" FOREIGN KEY ("captureId") REFERENCES "Capture"("id") ON DELETE CASCADE ON UPDATE CASCADE;
