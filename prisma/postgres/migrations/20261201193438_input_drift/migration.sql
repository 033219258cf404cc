-- AlterTable
ALTER TABLE "Baseline" ADD COLUMN     "inputProfile" TEXT;

-- AlterTable
ALTER TABLE "Capture" ADD COLUMN     "features" BYTEA,
ADD COLUMN     "imageStats" TEXT,
ADD COLUMN     "outlierScore" DOUBLE PRECISION;
