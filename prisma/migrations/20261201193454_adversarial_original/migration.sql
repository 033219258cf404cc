-- AlterTable
ALTER TABLE "Adversarial" ADD COLUMN "original" BLOB;
