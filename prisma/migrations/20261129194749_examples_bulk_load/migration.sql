-- DropForeignKey
ALTER TABLE "examples" DROP CONSTRAINT "examples_batch_id_fkey";

-- AlterTable
ALTER TABLE "examples" DROP CONSTRAINT "examples_pkey";

-- CreateIndex
CREATE INDEX "examples_row_hash_idx" ON "examples" USING HASH ("row_hash");
