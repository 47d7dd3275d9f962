-- DropIndex
DROP INDEX "predictions_created_at_idx";

-- DropIndex
DROP INDEX "predictions_version_id_created_at_idx";

-- CreateIndex
CREATE INDEX "predictions_created_at_idx" ON "predictions" USING BRIN ("created_at");
