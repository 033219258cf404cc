-- AlterTable
ALTER TABLE "Baseline" ADD COLUMN "inputProfile" TEXT;

-- AlterTable
ALTER TABLE "Capture" ADD COLUMN "features" BLOB;
ALTER TABLE "Capture" ADD COLUMN "imageStats" TEXT;
ALTER TABLE "Capture" ADD COLUMN "outlierScore" REAL;
