-- CreateTable
CREATE TABLE "Adversarial" (
    "id" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "model" TEXT NOT NULL,
    "endpoint" TEXT,
    "method" TEXT NOT NULL,
    "target" INTEGER NOT NULL,
    "png" BYTEA NOT NULL,
    "originalClass" INTEGER NOT NULL,
    "adversarialClass" INTEGER NOT NULL,
    "targetConfidence" DOUBLE PRECISION NOT NULL,
    "l2" DOUBLE PRECISION NOT NULL,
    "linf" DOUBLE PRECISION NOT NULL,
    "iterations" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL,

    CONSTRAINT "Adversarial_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Adversarial_createdAt_idx" ON "Adversarial"("createdAt");
