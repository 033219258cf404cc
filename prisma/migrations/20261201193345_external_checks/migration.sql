-- AlterTable
ALTER TABLE "MonitoringExecution" ADD COLUMN "externalChecks" TEXT;
