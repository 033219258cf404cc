-- CreateTable
CREATE TABLE "RollupClass" (
    "endpointId" TEXT NOT NULL,
    "bucketSeconds" INTEGER NOT NULL,
    "bucketStart" TIMESTAMP(3) NOT NULL,
    "classId" INTEGER NOT NULL,
    "n" INTEGER NOT NULL,
    "unscored" INTEGER NOT NULL,

    CONSTRAINT "RollupClass_pkey" PRIMARY KEY ("endpointId","bucketSeconds","bucketStart","classId")
);

-- CreateTable
CREATE TABLE "RollupConfidence" (
    "endpointId" TEXT NOT NULL,
    "bucketSeconds" INTEGER NOT NULL,
    "bucketStart" TIMESTAMP(3) NOT NULL,
    "bin" INTEGER NOT NULL,
    "n" INTEGER NOT NULL,
    "unclassed" INTEGER NOT NULL,
    "minConfidence" DOUBLE PRECISION,
    "maxConfidence" DOUBLE PRECISION,

    CONSTRAINT "RollupConfidence_pkey" PRIMARY KEY ("endpointId","bucketSeconds","bucketStart","bin")
);

-- CreateTable
CREATE TABLE "RollupLabel" (
    "endpointId" TEXT NOT NULL,
    "bucketSeconds" INTEGER NOT NULL,
    "bucketStart" TIMESTAMP(3) NOT NULL,
    "predictedClass" INTEGER NOT NULL,
    "classId" INTEGER NOT NULL,
    "n" INTEGER NOT NULL,
    "lastReceivedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RollupLabel_pkey" PRIMARY KEY ("endpointId","bucketSeconds","bucketStart","predictedClass","classId")
);

-- AddForeignKey
ALTER TABLE "RollupClass" ADD CONSTRAINT "RollupClass_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RollupConfidence" ADD CONSTRAINT "RollupConfidence_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RollupLabel" ADD CONSTRAINT "RollupLabel_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Backfill: the rollups of the captures and labels already stored (src/rollup/store.ts rebuild does the same)

INSERT INTO "RollupClass" ("endpointId", "bucketSeconds", "bucketStart", "classId", "n", "unscored")
SELECT "endpointId", 3600, date_trunc('hour', "inferenceTime"), COALESCE("predictedClass", -1), COUNT(*), SUM(CASE WHEN "confidence" IS NULL THEN 1 ELSE 0 END)
FROM "Capture" GROUP BY "endpointId", date_trunc('hour', "inferenceTime"), COALESCE("predictedClass", -1);

INSERT INTO "RollupConfidence" ("endpointId", "bucketSeconds", "bucketStart", "bin", "n", "unclassed", "minConfidence", "maxConfidence")
SELECT "endpointId", 3600, date_trunc('hour', "inferenceTime"), COALESCE(CAST(FLOOR("confidence" * 1000) AS INTEGER), -1), COUNT(*), SUM(CASE WHEN "predictedClass" IS NULL THEN 1 ELSE 0 END), MIN("confidence"), MAX("confidence")
FROM "Capture" GROUP BY "endpointId", date_trunc('hour', "inferenceTime"), COALESCE(CAST(FLOOR("confidence" * 1000) AS INTEGER), -1);

INSERT INTO "RollupLabel" ("endpointId", "bucketSeconds", "bucketStart", "predictedClass", "classId", "n", "lastReceivedAt")
SELECT "endpointId", 3600, date_trunc('hour', "inferenceTime"), "predictedClass", "classId", COUNT(*), MAX("receivedAt")
FROM "GroundTruth" WHERE "predictedClass" IS NOT NULL GROUP BY "endpointId", date_trunc('hour', "inferenceTime"), "predictedClass", "classId";

INSERT INTO "RollupClass" ("endpointId", "bucketSeconds", "bucketStart", "classId", "n", "unscored")
SELECT "endpointId", 60, date_trunc('minute', "inferenceTime"), COALESCE("predictedClass", -1), COUNT(*), SUM(CASE WHEN "confidence" IS NULL THEN 1 ELSE 0 END)
FROM "Capture" GROUP BY "endpointId", date_trunc('minute', "inferenceTime"), COALESCE("predictedClass", -1);

INSERT INTO "RollupConfidence" ("endpointId", "bucketSeconds", "bucketStart", "bin", "n", "unclassed", "minConfidence", "maxConfidence")
SELECT "endpointId", 60, date_trunc('minute', "inferenceTime"), COALESCE(CAST(FLOOR("confidence" * 1000) AS INTEGER), -1), COUNT(*), SUM(CASE WHEN "predictedClass" IS NULL THEN 1 ELSE 0 END), MIN("confidence"), MAX("confidence")
FROM "Capture" GROUP BY "endpointId", date_trunc('minute', "inferenceTime"), COALESCE(CAST(FLOOR("confidence" * 1000) AS INTEGER), -1);

INSERT INTO "RollupLabel" ("endpointId", "bucketSeconds", "bucketStart", "predictedClass", "classId", "n", "lastReceivedAt")
SELECT "endpointId", 60, date_trunc('minute', "inferenceTime"), "predictedClass", "classId", COUNT(*), MAX("receivedAt")
FROM "GroundTruth" WHERE "predictedClass" IS NOT NULL GROUP BY "endpointId", date_trunc('minute', "inferenceTime"), "predictedClass", "classId";
