-- CreateTable
CREATE TABLE "RollupClass" (
    "endpointId" TEXT NOT NULL,
    "bucketSeconds" INTEGER NOT NULL,
    "bucketStart" DATETIME NOT NULL,
    "classId" INTEGER NOT NULL,
    "n" INTEGER NOT NULL,
    "unscored" INTEGER NOT NULL,

    PRIMARY KEY ("endpointId", "bucketSeconds", "bucketStart", "classId"),
    CONSTRAINT "RollupClass_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "RollupConfidence" (
    "endpointId" TEXT NOT NULL,
    "bucketSeconds" INTEGER NOT NULL,
    "bucketStart" DATETIME NOT NULL,
    "bin" INTEGER NOT NULL,
    "n" INTEGER NOT NULL,
    "unclassed" INTEGER NOT NULL,
    "minConfidence" REAL,
    "maxConfidence" REAL,

    PRIMARY KEY ("endpointId", "bucketSeconds", "bucketStart", "bin"),
    CONSTRAINT "RollupConfidence_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "RollupLabel" (
    "endpointId" TEXT NOT NULL,
    "bucketSeconds" INTEGER NOT NULL,
    "bucketStart" DATETIME NOT NULL,
    "predictedClass" INTEGER NOT NULL,
    "classId" INTEGER NOT NULL,
    "n" INTEGER NOT NULL,
    "lastReceivedAt" DATETIME NOT NULL,

    PRIMARY KEY ("endpointId", "bucketSeconds", "bucketStart", "predictedClass", "classId"),
    CONSTRAINT "RollupLabel_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);


-- Backfill: the rollups of the captures and labels already stored (src/rollup/store.ts rebuild does the same)

INSERT INTO "RollupClass" ("endpointId", "bucketSeconds", "bucketStart", "classId", "n", "unscored")
SELECT "endpointId", 3600, ((CAST("inferenceTime" AS INTEGER) / 3600000) * 3600000), COALESCE("predictedClass", -1), COUNT(*), SUM(CASE WHEN "confidence" IS NULL THEN 1 ELSE 0 END)
FROM "Capture" GROUP BY "endpointId", ((CAST("inferenceTime" AS INTEGER) / 3600000) * 3600000), COALESCE("predictedClass", -1);

INSERT INTO "RollupConfidence" ("endpointId", "bucketSeconds", "bucketStart", "bin", "n", "unclassed", "minConfidence", "maxConfidence")
SELECT "endpointId", 3600, ((CAST("inferenceTime" AS INTEGER) / 3600000) * 3600000), COALESCE(CAST("confidence" * 1000 AS INTEGER), -1), COUNT(*), SUM(CASE WHEN "predictedClass" IS NULL THEN 1 ELSE 0 END), MIN("confidence"), MAX("confidence")
FROM "Capture" GROUP BY "endpointId", ((CAST("inferenceTime" AS INTEGER) / 3600000) * 3600000), COALESCE(CAST("confidence" * 1000 AS INTEGER), -1);

INSERT INTO "RollupLabel" ("endpointId", "bucketSeconds", "bucketStart", "predictedClass", "classId", "n", "lastReceivedAt")
SELECT "endpointId", 3600, ((CAST("inferenceTime" AS INTEGER) / 3600000) * 3600000), "predictedClass", "classId", COUNT(*), MAX("receivedAt")
FROM "GroundTruth" WHERE "predictedClass" IS NOT NULL GROUP BY "endpointId", ((CAST("inferenceTime" AS INTEGER) / 3600000) * 3600000), "predictedClass", "classId";

INSERT INTO "RollupClass" ("endpointId", "bucketSeconds", "bucketStart", "classId", "n", "unscored")
SELECT "endpointId", 60, ((CAST("inferenceTime" AS INTEGER) / 60000) * 60000), COALESCE("predictedClass", -1), COUNT(*), SUM(CASE WHEN "confidence" IS NULL THEN 1 ELSE 0 END)
FROM "Capture" GROUP BY "endpointId", ((CAST("inferenceTime" AS INTEGER) / 60000) * 60000), COALESCE("predictedClass", -1);

INSERT INTO "RollupConfidence" ("endpointId", "bucketSeconds", "bucketStart", "bin", "n", "unclassed", "minConfidence", "maxConfidence")
SELECT "endpointId", 60, ((CAST("inferenceTime" AS INTEGER) / 60000) * 60000), COALESCE(CAST("confidence" * 1000 AS INTEGER), -1), COUNT(*), SUM(CASE WHEN "predictedClass" IS NULL THEN 1 ELSE 0 END), MIN("confidence"), MAX("confidence")
FROM "Capture" GROUP BY "endpointId", ((CAST("inferenceTime" AS INTEGER) / 60000) * 60000), COALESCE(CAST("confidence" * 1000 AS INTEGER), -1);

INSERT INTO "RollupLabel" ("endpointId", "bucketSeconds", "bucketStart", "predictedClass", "classId", "n", "lastReceivedAt")
SELECT "endpointId", 60, ((CAST("inferenceTime" AS INTEGER) / 60000) * 60000), "predictedClass", "classId", COUNT(*), MAX("receivedAt")
FROM "GroundTruth" WHERE "predictedClass" IS NOT NULL GROUP BY "endpointId", ((CAST("inferenceTime" AS INTEGER) / 60000) * 60000), "predictedClass", "classId";
