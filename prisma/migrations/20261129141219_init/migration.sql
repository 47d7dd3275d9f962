-- CreateEnum
CREATE TYPE "batch_status" AS ENUM ('accepted', 'rejected');

-- CreateEnum
CREATE TYPE "split" AS ENUM ('train', 'validation', 'test');

-- CreateEnum
CREATE TYPE "run_status" AS ENUM ('running', 'succeeded', 'failed');

-- CreateTable
CREATE TABLE "batches" (
    "id" SERIAL NOT NULL,
    "source" TEXT NOT NULL,
    "source_kind" TEXT NOT NULL,
    "checksum" TEXT NOT NULL,
    "status" "batch_status" NOT NULL,
    "rows_read" INTEGER NOT NULL,
    "rows_accepted" INTEGER NOT NULL,
    "rows_quarantined" INTEGER NOT NULL,
    "rows_duplicate" INTEGER NOT NULL,
    "report" JSONB NOT NULL,
    "drift" JSONB,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "batches_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "examples" (
    "row_hash" BIGINT NOT NULL,
    "batch_id" INTEGER NOT NULL,
    "row_number" INTEGER NOT NULL,
    "row_key" TEXT,
    "features" JSON NOT NULL,
    "label" SMALLINT,
    "split" "split" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "examples_pkey" PRIMARY KEY ("row_hash")
);

-- CreateTable
CREATE TABLE "quarantined_rows" (
    "id" BIGSERIAL NOT NULL,
    "batch_id" INTEGER NOT NULL,
    "row_number" INTEGER NOT NULL,
    "raw" JSON NOT NULL,
    "reasons" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "quarantined_rows_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_versions" (
    "id" SERIAL NOT NULL,
    "version" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "manifest" JSONB NOT NULL,
    "metrics" JSONB NOT NULL,
    "threshold" DOUBLE PRECISION NOT NULL,
    "backend" TEXT NOT NULL,
    "data_fingerprint" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "model_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "evaluations" (
    "id" SERIAL NOT NULL,
    "version_id" INTEGER NOT NULL,
    "data_source" TEXT NOT NULL,
    "row_count" INTEGER NOT NULL,
    "f1" DOUBLE PRECISION NOT NULL,
    "metrics" JSONB NOT NULL,
    "passed" BOOLEAN NOT NULL,
    "gate" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "evaluations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "promotions" (
    "id" SERIAL NOT NULL,
    "from_version_id" INTEGER,
    "to_version_id" INTEGER NOT NULL,
    "action" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "reason" TEXT,
    "evaluation_id" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "promotions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "predictions" (
    "id" UUID NOT NULL,
    "version_id" INTEGER NOT NULL,
    "request_id" TEXT,
    "features" JSON NOT NULL,
    "probability" DOUBLE PRECISION NOT NULL,
    "label" SMALLINT NOT NULL,
    "latency_ms" REAL NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "predictions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "feedback" (
    "id" BIGSERIAL NOT NULL,
    "prediction_id" UUID NOT NULL,
    "label" SMALLINT NOT NULL,
    "batch_id" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "feedback_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pipeline_runs" (
    "id" SERIAL NOT NULL,
    "pipeline" TEXT NOT NULL,
    "status" "run_status" NOT NULL,
    "trigger" TEXT NOT NULL,
    "hostname" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "error" TEXT,
    "outputs" JSONB,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "pipeline_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stage_runs" (
    "id" SERIAL NOT NULL,
    "run_id" INTEGER NOT NULL,
    "stage" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "status" "run_status" NOT NULL,
    "error" TEXT,
    "outputs" JSONB,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "stage_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "checklist_signoffs" (
    "id" SERIAL NOT NULL,
    "item_id" TEXT NOT NULL,
    "signed_by" TEXT NOT NULL,
    "note" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "checklist_signoffs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "batches_checksum_idx" ON "batches"("checksum");

-- CreateIndex
CREATE INDEX "batches_started_at_idx" ON "batches"("started_at");

-- CreateIndex
CREATE INDEX "examples_batch_id_idx" ON "examples"("batch_id");

-- CreateIndex
CREATE INDEX "quarantined_rows_batch_id_idx" ON "quarantined_rows"("batch_id");

-- CreateIndex
CREATE UNIQUE INDEX "model_versions_version_key" ON "model_versions"("version");

-- CreateIndex
CREATE INDEX "model_versions_created_at_idx" ON "model_versions"("created_at");

-- CreateIndex
CREATE INDEX "evaluations_version_id_created_at_idx" ON "evaluations"("version_id", "created_at");

-- CreateIndex
CREATE INDEX "promotions_created_at_idx" ON "promotions"("created_at");

-- CreateIndex
CREATE INDEX "predictions_created_at_idx" ON "predictions"("created_at");

-- CreateIndex
CREATE INDEX "predictions_version_id_created_at_idx" ON "predictions"("version_id", "created_at");

-- CreateIndex
CREATE INDEX "feedback_prediction_id_idx" ON "feedback"("prediction_id");

-- CreateIndex
CREATE INDEX "feedback_created_at_idx" ON "feedback"("created_at");

-- CreateIndex
CREATE INDEX "pipeline_runs_pipeline_started_at_idx" ON "pipeline_runs"("pipeline", "started_at");

-- CreateIndex
CREATE INDEX "pipeline_runs_status_idx" ON "pipeline_runs"("status");

-- CreateIndex
CREATE INDEX "stage_runs_run_id_idx" ON "stage_runs"("run_id");

-- CreateIndex
CREATE INDEX "checklist_signoffs_item_id_created_at_idx" ON "checklist_signoffs"("item_id", "created_at");

-- AddForeignKey
ALTER TABLE "examples" ADD CONSTRAINT "examples_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "batches"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "quarantined_rows" ADD CONSTRAINT "quarantined_rows_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "batches"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "evaluations" ADD CONSTRAINT "evaluations_version_id_fkey" FOREIGN KEY ("version_id") REFERENCES "model_versions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promotions" ADD CONSTRAINT "promotions_from_version_id_fkey" FOREIGN KEY ("from_version_id") REFERENCES "model_versions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promotions" ADD CONSTRAINT "promotions_to_version_id_fkey" FOREIGN KEY ("to_version_id") REFERENCES "model_versions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promotions" ADD CONSTRAINT "promotions_evaluation_id_fkey" FOREIGN KEY ("evaluation_id") REFERENCES "evaluations"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "predictions" ADD CONSTRAINT "predictions_version_id_fkey" FOREIGN KEY ("version_id") REFERENCES "model_versions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "feedback" ADD CONSTRAINT "feedback_prediction_id_fkey" FOREIGN KEY ("prediction_id") REFERENCES "predictions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "stage_runs" ADD CONSTRAINT "stage_runs_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "pipeline_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
