-- CreateTable
CREATE TABLE "Adversarial" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "model" TEXT NOT NULL,
    "endpoint" TEXT,
    "method" TEXT NOT NULL,
    "target" INTEGER NOT NULL,
    "png" BLOB NOT NULL,
    "originalClass" INTEGER NOT NULL,
    "adversarialClass" INTEGER NOT NULL,
    "targetConfidence" REAL NOT NULL,
    "l2" REAL NOT NULL,
    "linf" REAL NOT NULL,
    "iterations" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);

-- CreateIndex
CREATE INDEX "Adversarial_createdAt_idx" ON "Adversarial"("createdAt");
