-- DropIndex
DROP INDEX "examples_batch_id_idx";

-- CreateIndex
CREATE INDEX "examples_batch_id_idx" ON "examples" USING BRIN ("batch_id");
